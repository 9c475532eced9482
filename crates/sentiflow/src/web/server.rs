//! The routes, and starting and stopping the server.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::FutureExt as _;
use prometheus_client::registry::Registry;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

use super::health::{Health, PROBE_EVERY};
use super::history::{History, SAMPLE_EVERY};
use super::refresh::{self, StoreView};
use super::{Bind, KafkaTarget, Live, Plan, Probe, Store, metrics, page};
use crate::record::now_ms;

/// What every handler and background task shares.
pub struct Shared {
    pub command: &'static str,
    pub started_ms: i64,
    pub dashboard: bool,
    pub live: Live,
    pub kafka: Option<KafkaTarget>,
    pub store: Option<Store>,
    probes: Vec<Probe>,
    health: Health,
    history: Mutex<History>,
    view: Mutex<Arc<StoreView>>,
    viewed_ms: AtomicI64,
    /// Wakes the refresher at once (a dashboard opened).
    pub refresh_now: Notify,
    /// Successful dashboard refreshes served, for the page's marker.
    pub served: AtomicU64,
}

impl Shared {
    pub fn history(&self) -> MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn view(&self) -> Arc<StoreView> {
        Arc::clone(&self.view.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn set_view(&self, view: StoreView) {
        *self.view.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(view);
    }

    pub fn viewed_ms(&self) -> i64 {
        self.viewed_ms.load(Ordering::Relaxed)
    }

    /// Why `/readyz` says not ready; empty when ready.
    pub fn ready_reasons(&self) -> Vec<String> {
        let mut reasons = self.health.reasons(&self.live, !self.probes.is_empty());
        if matches!(self.live, Live::None) {
            let view = self.view();
            if view.at_ms == 0 {
                reasons.push("starting: the stores were not read yet".into());
            } else if let Some(error) = &view.error {
                reasons.push(error.clone());
            }
        }
        reasons
    }

    /// A dashboard request: keep the store fresh, at once if it never was.
    fn looked_at(&self) {
        let before = self.viewed_ms.swap(now_ms(), Ordering::Relaxed);
        if now_ms() - before > 10_000 {
            self.refresh_now.notify_one();
        }
    }
}

/// A running server. Dropping it stops serving too.
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Server {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving and the background tasks.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Binds (the exact address, or the first free one of the default range),
/// prints the address on stderr, and serves until stopped.
pub async fn start(plan: Plan, live: Live) -> anyhow::Result<Server> {
    let listener = bind(plan.bind).await?;
    let addr = listener.local_addr()?;
    let metrics_listener = match plan.metrics_bind {
        Some(extra) => Some(bind(extra).await?),
        None => None,
    };
    let shared = Arc::new(Shared {
        command: plan.command,
        started_ms: now_ms(),
        dashboard: plan.dashboard,
        live,
        kafka: plan.kafka,
        store: plan.store,
        probes: plan.probes,
        health: Health::default(),
        history: Mutex::new(History::default()),
        view: Mutex::new(Arc::new(StoreView::default())),
        viewed_ms: AtomicI64::new(0),
        refresh_now: Notify::new(),
        served: AtomicU64::new(0),
    });
    let registry = Arc::new(metrics::registry(Arc::clone(&shared)));
    let state = AppState {
        shared: Arc::clone(&shared),
        registry,
    };
    let health_routes = || {
        Router::new()
            .route("/metrics", get(metrics_handler))
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
    };
    let mut router = health_routes();
    if shared.dashboard {
        router = router
            .route("/", get(dashboard))
            .route("/api/snapshot", get(snapshot))
            .route("/assets/{name}", get(asset));
    }
    let app = router.with_state(state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let mut stopped = stopped.shared();
    let mut tasks = Vec::new();
    let mut metrics_addr = None;
    if let Some(listener) = metrics_listener {
        metrics_addr = Some(listener.local_addr()?);
        let app = health_routes().with_state(state);
        let stopped = stopped.clone();
        tasks.push(tokio::spawn(async move {
            let serving = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serving.await {
                tracing::warn!("the metrics server stopped: {error}");
            }
        }));
    }
    tasks.push(tokio::spawn(async move {
        let serving = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = (&mut stopped).await;
        });
        if let Err(error) = serving.await {
            tracing::warn!("the web server stopped: {error}");
        }
    }));
    let probing = Arc::clone(&shared);
    tasks.push(tokio::spawn(async move {
        loop {
            probing.health.probe(&probing.probes).await;
            tokio::time::sleep(PROBE_EVERY).await;
        }
    }));
    if !matches!(shared.live, Live::None) {
        let sampling = Arc::clone(&shared);
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            loop {
                tick.tick().await;
                if let Some(sample) = refresh::sample_live(&sampling) {
                    sampling.history().push(sample);
                }
            }
        }));
    }
    if shared.dashboard || matches!(shared.live, Live::None) {
        tasks.push(tokio::spawn(refresh::run(Arc::clone(&shared))));
    }
    let metrics_at = metrics_addr.unwrap_or(addr);
    let what = if shared.dashboard {
        format!("dashboard http://{addr}/ , metrics http://{metrics_at}/metrics")
    } else {
        format!("metrics http://{addr}/metrics")
    };
    eprintln!(
        "sentiflow {}: {what} (health /healthz, /readyz)",
        shared.command
    );
    Ok(Server {
        addr,
        stop: Some(stop),
        tasks,
    })
}

async fn bind(bind: Bind) -> anyhow::Result<tokio::net::TcpListener> {
    let candidates = bind.candidates();
    let mut last_error = None;
    for addr in &candidates {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(error) => last_error = Some(error),
        }
    }
    let error = last_error.map_or_else(|| "no address to try".to_owned(), |e| e.to_string());
    Err(match bind {
        Bind::Exact(addr) => anyhow::anyhow!(
            "cannot serve on {addr} ({error}); pick another --metrics-addr (port 0 takes any free one) or `off`"
        ),
        Bind::FirstFree(first, tries) => anyhow::anyhow!(
            "cannot serve on {first} nor the {} ports after it ({error}); pass --metrics-addr HOST:PORT (port 0 takes any free one) or `off`",
            tries.saturating_sub(1)
        ),
    })
    .context("starting the web server")
}

#[derive(Clone)]
struct AppState {
    shared: Arc<Shared>,
    registry: Arc<Registry>,
}

async fn metrics_handler(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (body, content_type) = metrics::render(&state.registry, accept);
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn healthz() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "ok\n",
    )
        .into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    let reasons = state.shared.ready_reasons();
    let (status, body) = if reasons.is_empty() {
        (StatusCode::OK, "ready\n".to_owned())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}\n", reasons.join("; ")),
        )
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// The page's query: a label to filter the latest rows by.
#[derive(Debug, Default, serde::Deserialize)]
struct PageQuery {
    label: Option<String>,
}

impl PageQuery {
    fn label(&self) -> Option<&'static str> {
        match self.label.as_deref() {
            Some("positive") => Some("positive"),
            Some("negative") => Some("negative"),
            Some("neutral") => Some("neutral"),
            _ => None,
        }
    }
}

/// How long a first paint waits for the first store read.
const FIRST_READ_WAIT: Duration = Duration::from_secs(5);

async fn fresh_view(shared: &Shared) {
    shared.looked_at();
    if shared.view().at_ms == 0 && (shared.store.is_some() || shared.kafka.is_some()) {
        let deadline = tokio::time::Instant::now() + FIRST_READ_WAIT;
        while shared.view().at_ms == 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn dashboard(State(state): State<AppState>, Query(query): Query<PageQuery>) -> Response {
    fresh_view(&state.shared).await;
    let html = page::render_page(&state.shared, query.label());
    with_security_headers(
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
    )
}

async fn snapshot(State(state): State<AppState>, Query(query): Query<PageQuery>) -> Response {
    fresh_view(&state.shared).await;
    let body = page::snapshot_json(&state.shared, query.label());
    state.shared.served.fetch_add(1, Ordering::Relaxed);
    with_security_headers(
        (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body.to_string(),
        )
            .into_response(),
    )
}

async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    match page::asset(&name) {
        Some((content_type, body)) => with_security_headers(
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, "max-age=3600"),
                ],
                body,
            )
                .into_response(),
        ),
        None => (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    }
}

/// Sentences are user input: besides escaping them, forbid inline scripts.
fn with_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
