//! The dashboard's HTML, rendered on the server.
//!
//! The first paint is the whole page with every number, table and a static
//! SVG of every chart, so it is useful without JavaScript. The script then
//! polls `/api/snapshot` every 2 s, which returns the same panels rendered by
//! the same functions (as HTML fragments) plus the time series for the live
//! charts (uPlot). One renderer, so escaping is done in one place: [`esc`].
//! Sentences and dead-letter payloads are user input and only ever reach the
//! page through it.

use std::fmt::Write as _;
use std::time::Duration;

use super::history::Series;
use super::refresh::{LATEST, StoreView, WINDOW_MINUTES};
use super::server::Shared;
use super::{Live, Store};
use crate::progress::thousands;
use crate::record::now_ms;
use crate::sinks::view::{COMPOUND_BUCKETS, DeadLetterView, MinuteMix, RowView, minute_of};
use crate::stats::{ErrorStage, PipelineStats, StatsSnapshot};

/// The vendored chart library and the page's own script and style.
const UPLOT_JS: &str = include_str!("assets/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("assets/uPlot.min.css");
const DASHBOARD_JS: &str = include_str!("assets/dashboard.js");
const DASHBOARD_CSS: &str = include_str!("assets/dashboard.css");

/// A static asset by name: its content type and body.
pub fn asset(name: &str) -> Option<(&'static str, &'static str)> {
    match name {
        "uPlot.iife.min.js" => Some(("text/javascript; charset=utf-8", UPLOT_JS)),
        "uPlot.min.css" => Some(("text/css; charset=utf-8", UPLOT_CSS)),
        "dashboard.js" => Some(("text/javascript; charset=utf-8", DASHBOARD_JS)),
        "dashboard.css" => Some(("text/css; charset=utf-8", DASHBOARD_CSS)),
        _ => None,
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Everything one render reads, taken once so that all panels agree.
struct Data {
    command: &'static str,
    now_ms: i64,
    uptime: Duration,
    ready: Vec<String>,
    stats: Option<(StatsSnapshot, bool)>,
    series: Series,
    waits: Option<(f64, f64)>,
    view: std::sync::Arc<StoreView>,
    label: Option<&'static str>,
}

fn gather(shared: &Shared, label: Option<&'static str>) -> Data {
    let now = now_ms();
    let history = shared.history();
    let series = history.series();
    let waits = history.waiting_shares(Duration::from_secs(10));
    drop(history);
    Data {
        command: shared.command,
        now_ms: now,
        uptime: Duration::from_millis((now - shared.started_ms).max(0) as u64),
        ready: shared.ready_reasons(),
        stats: match &shared.live {
            Live::Pipeline(stats) => Some((stats.snapshot(), false)),
            Live::Producer(stats) => Some((stats.snapshot(), true)),
            Live::None => None,
        },
        series,
        waits,
        view: shared.view(),
        label,
    }
}

/// The panels, by the id of the element they fill.
fn fragments(shared: &Shared, data: &Data) -> Vec<(&'static str, String)> {
    vec![
        ("f-status", status(shared, data)),
        ("f-throughput", throughput(data)),
        ("f-lag", lag(shared, data)),
        ("f-sentiment", sentiment(shared, data)),
        ("f-rows", rows(data)),
        ("f-dead", dead_letters(shared, data)),
        ("f-waits", waits(shared, data)),
        ("f-group", group(shared, data)),
    ]
}

/// The whole page.
pub fn render_page(shared: &Shared, label: Option<&'static str>) -> String {
    let data = gather(shared, label);
    let panels: std::collections::HashMap<&str, String> =
        fragments(shared, &data).into_iter().collect();
    let panel = |id: &str| panels.get(id).cloned().unwrap_or_default();
    let mut html = String::with_capacity(32 * 1024);
    let _ = write!(
        html,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sentiflow · {command}</title>
<link rel="stylesheet" href="/assets/uPlot.min.css">
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/uPlot.iife.min.js" defer></script>
<script src="/assets/dashboard.js" defer></script>
</head>
<body data-ready="no" data-updates="0" data-label="{label}">
<header>
<h1>sentiflow <span class="command">{command}</span></h1>
<div id="f-status">{status}</div>
</header>
<main>
<section class="panel wide" id="p-throughput">
<h2>Throughput <small>produced, processed and written per second</small></h2>
<div id="f-throughput">{throughput}</div>
<div class="chart" id="c-throughput">{throughput_svg}</div>
</section>
<section class="panel wide" id="p-lag">
<h2>Consumer lag <small>per partition, now and over the last minutes</small></h2>
<div id="f-lag">{lag}</div>
{lag_charts}
</section>
<section class="panel wide" id="p-sentiment">
<h2>Sentiment over time <small>label mix per minute, last hour, from the store</small></h2>
<div id="f-sentiment">{sentiment}</div>
</section>
<section class="panel" id="p-rows">
<h2>Latest rows</h2>
<form method="get" action="/" id="label-filter">
<label>label <select name="label" id="label-select">{options}</select></label>
<noscript><button type="submit">show</button></noscript>
</form>
<div id="f-rows">{rows}</div>
</section>
<section class="panel" id="p-dead">
<h2>Dead letters</h2>
<div id="f-dead">{dead}</div>
</section>
<section class="panel" id="p-waits">
<h2>Where it waits, latency, errors</h2>
<div id="f-waits">{waits}</div>
</section>
<section class="panel" id="p-group">
<h2>Processors</h2>
<div id="f-group">{group}</div>
</section>
</main>
<footer>Refreshes every 2 s by itself (with JavaScript; without it, reload). <a href="/metrics">/metrics</a> · <a href="/readyz">/readyz</a> · <a href="/api/snapshot">/api/snapshot</a></footer>
</body>
</html>
"#,
        command = data.command,
        label = data.label.unwrap_or(""),
        status = panel("f-status"),
        throughput = panel("f-throughput"),
        throughput_svg = svg_lines(
            &data.series.t,
            &[
                ("produced", &data.series.produced),
                ("processed", &data.series.processed),
                ("written", &data.series.written),
            ]
        ),
        lag = panel("f-lag"),
        lag_charts = if shared.kafka.is_none() {
            String::new()
        } else {
            format!(
                r#"<div class="charts"><div><h3>messages behind</h3><div class="chart" id="c-lag-messages">{}</div></div><div><h3>seconds behind (age of the oldest unwritten message)</h3><div class="chart" id="c-lag-seconds">{}</div></div></div>"#,
                svg_lines(
                    &data.series.t,
                    &data
                        .series
                        .lag_messages
                        .iter()
                        .map(|s| ("lag", s.as_slice()))
                        .collect::<Vec<_>>()
                ),
                svg_lines(
                    &data.series.t,
                    &data
                        .series
                        .lag_seconds
                        .iter()
                        .map(|s| ("lag", s.as_slice()))
                        .collect::<Vec<_>>()
                ),
            )
        },
        sentiment = panel("f-sentiment"),
        options = label_options(data.label),
        rows = panel("f-rows"),
        dead = panel("f-dead"),
        waits = panel("f-waits"),
        group = panel("f-group"),
    );
    html
}

/// What the page polls: the panels again, the series, and the raw numbers.
pub fn snapshot_json(shared: &Shared, label: Option<&'static str>) -> serde_json::Value {
    let data = gather(shared, label);
    let fragments: serde_json::Map<String, serde_json::Value> = fragments(shared, &data)
        .into_iter()
        .map(|(id, html)| (id.to_owned(), serde_json::Value::String(html)))
        .collect();
    let window = window_totals(&data.view.minutes, data.now_ms);
    serde_json::json!({
        "command": data.command,
        "now_ms": data.now_ms,
        "ready": data.ready.is_empty(),
        "not_ready": data.ready,
        "fragments": fragments,
        "series": data.series,
        "values": {
            "pipeline": data.stats.map(|(s, _)| s),
            "store": {
                "read_at_ms": data.view.at_ms,
                "error": data.view.error,
                "label_totals": data.view.label_totals,
                "window": {"positive": window.positive, "negative": window.negative, "neutral": window.neutral},
                "dead_letters": data.view.dead_letters.as_ref().map(|d| d.total),
            },
        },
    })
}

fn label_options(selected: Option<&str>) -> String {
    let mut html = String::new();
    for (value, name) in [
        ("", "all"),
        ("positive", "positive"),
        ("negative", "negative"),
        ("neutral", "neutral"),
    ] {
        let chosen = if selected.unwrap_or("") == value {
            " selected"
        } else {
            ""
        };
        let _ = write!(html, r#"<option value="{value}"{chosen}>{name}</option>"#);
    }
    html
}

// ---------------------------------------------------------------- formatting

fn rate(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{}/s", thousands(v.round() as u64)),
        _ => "n/a".into(),
    }
}

fn count(value: Option<u64>) -> String {
    value.map_or_else(|| "n/a".into(), thousands)
}

fn seconds(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() && v < 1.0 => format!("{:.0} ms", v * 1000.0),
        Some(v) if v.is_finite() && v < 120.0 => format!("{v:.1} s"),
        Some(v) if v.is_finite() => format!("{:.0} min", v / 60.0),
        _ => "n/a".into(),
    }
}

fn milliseconds(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{:.1} ms", v * 1000.0),
        _ => "n/a".into(),
    }
}

fn share(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{:.0}%", v * 100.0),
        _ => "n/a".into(),
    }
}

fn clock(epoch_ms: Option<i64>) -> String {
    match epoch_ms {
        Some(ms) if ms > 0 => {
            let secs = ms.div_euclid(1000).rem_euclid(86_400);
            format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
        }
        _ => "n/a".into(),
    }
}

/// A number for people, with its raw value for machines (`data-value`).
fn number(id: &str, shown: &str, raw: Option<f64>) -> String {
    let raw = raw.map_or_else(String::new, |v| format!(r#" data-value="{v}""#));
    format!(r#"<b id="{id}"{raw}>{}</b>"#, esc(shown))
}

// ------------------------------------------------------------------- panels

fn status(shared: &Shared, data: &Data) -> String {
    let mut html = String::new();
    let (class, text) = if data.ready.is_empty() {
        ("ok", "ready")
    } else {
        ("bad", "not ready")
    };
    let _ = write!(
        html,
        r#"<span class="badge {class}" id="ready">{text}</span>"#
    );
    for reason in &data.ready {
        let _ = write!(html, r#" <span class="reason">{}</span>"#, esc(reason));
    }
    if let Live::Pipeline(stats) = &shared.live {
        let c = stats.components;
        let _ = write!(
            html,
            r#" <span class="flow">{} → VADER → {}</span>"#,
            c.source, c.sink
        );
    }
    let store = match &shared.store {
        Some(Store::Sqlite(reader)) => format!("SQLite {}", reader.path().display()),
        Some(Store::Cassandra(_)) => "Cassandra".to_owned(),
        None => String::new(),
    };
    if !store.is_empty() {
        let _ = write!(html, r#" <span class="store">{}</span>"#, esc(&store));
    }
    let view = &data.view;
    let read = if view.at_ms == 0 {
        "store not read yet".to_owned()
    } else {
        format!(
            "store read {} ago in {}",
            seconds(Some((data.now_ms - view.at_ms).max(0) as f64 / 1000.0)),
            milliseconds(Some(view.took.as_secs_f64()))
        )
    };
    let _ = write!(
        html,
        r#" <span class="meta">up {} · {}</span>"#,
        seconds(Some(data.uptime.as_secs_f64())),
        esc(&read)
    );
    if let Some(error) = &view.error {
        let _ = write!(html, r#"<div class="error">store: {}</div>"#, esc(error));
    }
    html
}

fn throughput(data: &Data) -> String {
    let s = &data.series;
    let mut html = String::from(r#"<div class="numbers">"#);
    let produced_name = if data.command == "run" {
        "generated"
    } else {
        "produced"
    };
    for (id, name, value) in [
        ("v-produced-rate", produced_name, Series::last(&s.produced)),
        ("v-processed-rate", "processed", Series::last(&s.processed)),
        ("v-written-rate", "written", Series::last(&s.written)),
    ] {
        let _ = write!(
            html,
            r#"<div class="number {name}">{name} {}</div>"#,
            number(id, &rate(value), value)
        );
    }
    html.push_str("</div><div class=\"numbers totals\">");
    match data.stats {
        Some((stats, false)) => {
            let _ = write!(
                html,
                "<div>taken {}</div><div>rows written {}</div><div>dead letters {}</div><div>rate since start {}</div>",
                number(
                    "v-received",
                    &thousands(stats.received),
                    Some(stats.received as f64)
                ),
                number(
                    "v-written",
                    &thousands(stats.written),
                    Some(stats.written as f64)
                ),
                number(
                    "v-dead-letters",
                    &thousands(stats.dead_lettered),
                    Some(stats.dead_lettered as f64)
                ),
                number(
                    "v-rate-overall",
                    &rate(stats.processing_rate()),
                    stats.processing_rate()
                ),
            );
        }
        Some((stats, true)) => {
            let _ = write!(
                html,
                "<div>sent {}</div><div>failed {}</div>",
                number(
                    "v-written",
                    &thousands(stats.written),
                    Some(stats.written as f64)
                ),
                number(
                    "v-dead-letters",
                    &thousands(stats.dead_lettered),
                    Some(stats.dead_lettered as f64)
                ),
            );
        }
        None => {
            let committed = data.view.offsets.as_ref().map(|o| {
                o.iter()
                    .map(|p| p.committed_offset.unwrap_or(0).max(0) as u64)
                    .sum::<u64>()
            });
            let stored = data.view.label_totals.map(|t| t.iter().sum::<u64>());
            let _ = write!(
                html,
                "<div>committed {}</div><div>rows stored {}</div>",
                number(
                    "v-committed",
                    &count(committed),
                    committed.map(|v| v as f64)
                ),
                number("v-written", &count(stored), stored.map(|v| v as f64)),
            );
        }
    }
    html.push_str("</div>");
    html
}

fn lag(shared: &Shared, data: &Data) -> String {
    struct Row {
        partition: i32,
        end: Option<i64>,
        committed: Option<i64>,
        messages: Option<i64>,
        seconds: Option<f64>,
    }
    let rows: Vec<Row> = match (&shared.live, &data.view.offsets) {
        (Live::Pipeline(stats), _) => stats
            .source
            .partitions()
            .into_iter()
            .map(|p| Row {
                partition: p.partition,
                end: p.end_offset,
                committed: p.committed_offset,
                messages: p.lag_messages,
                seconds: p.lag_seconds,
            })
            .collect(),
        (Live::None, Some(offsets)) => offsets
            .iter()
            .map(|p| Row {
                partition: p.partition,
                end: Some(p.end_offset),
                committed: p.committed_offset,
                messages: Some(p.lag),
                seconds: data.view.lag_seconds(p),
            })
            .collect(),
        _ => Vec::new(),
    };
    if shared.kafka.is_none() {
        return r#"<p class="note">Embedded pipeline: no Kafka, so no lag. The generator feeds a bounded queue; see where it waits.</p>"#.into();
    }
    if rows.is_empty() {
        return r#"<p class="note">No partition assigned yet (joining the group, or more processors than partitions).</p>"#.into();
    }
    let total: Option<i64> = rows.iter().map(|r| r.messages).sum();
    let oldest = rows
        .iter()
        .filter_map(|r| r.seconds)
        .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
    let mut html = format!(
        r#"<div class="numbers"><div>total lag {}</div><div>oldest unwritten {}</div></div>"#,
        number(
            "v-lag-total",
            &count(total.map(|t| t.max(0) as u64)),
            total.map(|t| t as f64)
        ),
        number("v-lag-seconds", &seconds(oldest), oldest),
    );
    html.push_str(r#"<table class="lag"><thead><tr><th>partition</th><th>end offset</th><th>committed</th><th>lag (messages)</th><th>lag (seconds)</th><th>trend</th></tr></thead><tbody>"#);
    for row in &rows {
        let index = data
            .series
            .partitions
            .iter()
            .position(|p| *p == row.partition);
        let trend = index.map_or("n/a", |i| trend(&data.series.lag_messages[i]));
        let _ = write!(
            html,
            r#"<tr data-partition="{p}"><td>{p}</td><td>{}</td><td>{}</td><td class="lag-messages">{}</td><td>{}</td><td>{}</td></tr>"#,
            count(row.end.map(|v| v.max(0) as u64)),
            count(row.committed.map(|v| v.max(0) as u64)),
            count(row.messages.map(|v| v.max(0) as u64)),
            seconds(row.seconds),
            trend,
            p = row.partition,
        );
    }
    html.push_str("</tbody></table>");
    html
}

/// Growing, shrinking or steady, over the last minute of a lag series.
fn trend(values: &[Option<f64>]) -> &'static str {
    let recent: Vec<f64> = values.iter().rev().take(30).filter_map(|v| *v).collect();
    if recent.len() < 3 {
        return "n/a";
    }
    let (newest, oldest) = (recent[0], recent[recent.len() - 1]);
    let scale = oldest.abs().max(newest.abs()).max(10.0);
    if newest - oldest > 0.1 * scale {
        "growing"
    } else if oldest - newest > 0.1 * scale {
        "shrinking"
    } else {
        "steady"
    }
}

/// Sums of the minutes inside the window.
fn window_totals(minutes: &[MinuteMix], now_ms: i64) -> MinuteMix {
    let since = minute_of(now_ms) - (WINDOW_MINUTES - 1) * 60_000;
    let mut total = MinuteMix::new(since);
    for minute in minutes.iter().filter(|m| m.minute_ms >= since) {
        total.positive += minute.positive;
        total.negative += minute.negative;
        total.neutral += minute.neutral;
        for (sum, n) in total.compound.iter_mut().zip(&minute.compound) {
            *sum += n;
        }
    }
    total
}

fn sentiment(shared: &Shared, data: &Data) -> String {
    if shared.store.is_none() {
        return r#"<p class="note">This command has no store to read.</p>"#.into();
    }
    if let Some(note) = &data.view.sentiment_note {
        return format!(r#"<p class="note">{}</p>"#, esc(note));
    }
    let total = window_totals(&data.view.minutes, data.now_ms);
    let all = total.total();
    let mut html = String::from(r#"<div class="numbers">"#);
    let _ = write!(
        html,
        "<div>rows produced in the last hour {}</div>",
        number("v-window-rows", &thousands(all), Some(all as f64))
    );
    for (label, n) in [
        ("positive", total.positive),
        ("negative", total.negative),
        ("neutral", total.neutral),
    ] {
        let pct = if all == 0 {
            "n/a".to_owned()
        } else {
            format!("{:.1}%", 100.0 * n as f64 / all as f64)
        };
        let _ = write!(
            html,
            r#"<div class="number {label}">{label} {} <small>{pct}</small></div>"#,
            number(&format!("v-window-{label}"), &thousands(n), Some(n as f64)),
        );
    }
    if let Some([positive, negative, neutral]) = data.view.label_totals {
        let _ = write!(
            html,
            "<div>in the table: positive {} negative {} neutral {}</div>",
            number(
                "v-store-positive",
                &thousands(positive),
                Some(positive as f64)
            ),
            number(
                "v-store-negative",
                &thousands(negative),
                Some(negative as f64)
            ),
            number("v-store-neutral", &thousands(neutral), Some(neutral as f64)),
        );
    }
    html.push_str("</div><div class=\"charts\">");
    html.push_str(&minute_bars(&data.view.minutes, data.now_ms));
    html.push_str(&compound_histogram(&total.compound));
    html.push_str("</div>");
    html
}

/// Stacked bars, one per minute of the last hour: negative, neutral, positive.
fn minute_bars(minutes: &[MinuteMix], now_ms: i64) -> String {
    let (width, height) = (600.0, 160.0);
    let newest = minute_of(now_ms);
    let max = minutes
        .iter()
        .map(MinuteMix::total)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = width / WINDOW_MINUTES as f64;
    let mut svg = format!(
        r#"<figure><svg class="bars" viewBox="0 0 {width} {h}" role="img" aria-label="rows per minute by label, last hour"><g>"#,
        h = height + 14.0
    );
    for minute in minutes {
        let back = (newest - minute.minute_ms) / 60_000;
        if !(0..WINDOW_MINUTES).contains(&back) {
            continue;
        }
        let x = width - (back + 1) as f64 * slot;
        let mut y = height;
        for (class, n) in [
            ("negative", minute.negative),
            ("neutral", minute.neutral),
            ("positive", minute.positive),
        ] {
            let h = n as f64 / max * height;
            y -= h;
            let _ = write!(
                svg,
                r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}"><title>{t}: {class} {n}</title></rect>"#,
                w = (slot - 1.0).max(1.0),
                t = clock(Some(minute.minute_ms)),
            );
        }
    }
    let _ = write!(
        svg,
        r#"</g><text x="0" y="{y}" class="axis">-60 min</text><text x="{x}" y="{y}" class="axis" text-anchor="end">now · max {m}/min</text></svg><figcaption>rows per minute of production: <span class="key positive">positive</span> <span class="key neutral">neutral</span> <span class="key negative">negative</span></figcaption></figure>"#,
        y = height + 12.0,
        x = width,
        m = thousands(max as u64),
    );
    svg
}

/// Bars of the compound-score distribution, -1 to 1 in steps of 0.1.
fn compound_histogram(buckets: &[u64]) -> String {
    let (width, height) = (600.0, 160.0);
    let max = buckets.iter().copied().max().unwrap_or(0).max(1) as f64;
    let slot = width / COMPOUND_BUCKETS as f64;
    let mut svg = format!(
        r#"<figure><svg class="bars" viewBox="0 0 {width} {h}" role="img" aria-label="distribution of compound scores"><g>"#,
        h = height + 14.0
    );
    for (index, n) in buckets.iter().enumerate() {
        let low = -1.0 + index as f64 / 10.0;
        let class = if low >= 0.05 || index >= 11 {
            "positive"
        } else if index <= 8 {
            "negative"
        } else {
            "neutral"
        };
        let h = *n as f64 / max * height;
        let _ = write!(
            svg,
            r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}"><title>{low:.1} .. {high:.1}: {n}</title></rect>"#,
            x = index as f64 * slot,
            y = height - h,
            w = (slot - 1.0).max(1.0),
            high = low + 0.1,
        );
    }
    let _ = write!(
        svg,
        r#"</g><text x="0" y="{y}" class="axis">-1</text><text x="{mid}" y="{y}" class="axis" text-anchor="middle">0</text><text x="{width}" y="{y}" class="axis" text-anchor="end">1</text></svg><figcaption>compound score distribution, last hour</figcaption></figure>"#,
        y = height + 12.0,
        mid = width / 2.0,
    );
    svg
}

fn rows(data: &Data) -> String {
    let view = &data.view;
    let rows: &[RowView] = match data.label {
        None => &view.latest,
        Some(label) => view
            .latest_by_label
            .iter()
            .find(|(l, _)| l == label)
            .map_or(&[], |(_, rows)| rows.as_slice()),
    };
    if rows.is_empty() {
        return format!(
            r#"<p class="note">No rows{} produced in the last hour yet.</p>"#,
            data.label
                .map(|l| format!(" labelled {l}"))
                .unwrap_or_default()
        );
    }
    let mut html = format!(
        r#"<table class="rows"><thead><tr><th>produced</th><th>sentence</th><th>label</th><th>compound</th></tr></thead><tbody data-count="{}">"#,
        rows.len().min(LATEST)
    );
    for row in rows.iter().take(LATEST) {
        let _ = write!(
            html,
            r#"<tr data-id="{id}"><td>{}</td><td class="sentence">{}</td><td class="label {label}">{label}</td><td class="num">{}</td></tr>"#,
            clock(row.produced_at_ms),
            esc(row.sentence.as_deref().unwrap_or("(not in the table)")),
            row.compound
                .map_or_else(|| "n/a".into(), |c| format!("{c:.4}")),
            id = row.id,
            label = esc(&row.label),
        );
    }
    html.push_str("</tbody></table>");
    html
}

fn dead_letters(shared: &Shared, data: &Data) -> String {
    let mut html = String::from(r#"<div class="numbers">"#);
    let store_total = data.view.dead_letters.as_ref().map(|d| d.total);
    let total = match (&data.stats, store_total) {
        (Some((stats, false)), None) => Some(stats.dead_lettered),
        (_, Some(total)) => Some(total),
        _ => None,
    };
    let _ = write!(
        html,
        "<div>total {}</div><div>rate {}</div></div>",
        number("v-dead-total", &count(total), total.map(|t| t as f64)),
        number(
            "v-dead-rate",
            &rate(Series::last(&data.series.dead_letters)),
            Series::last(&data.series.dead_letters)
        ),
    );
    // By reason: this process's counts, else the store's.
    let mut reasons: Vec<(String, u64)> = match &shared.live {
        Live::Pipeline(stats) => stats
            .dead_letters_by_reason
            .snapshot()
            .into_iter()
            .map(|(code, n)| (code.as_str().to_owned(), n))
            .collect(),
        _ => Vec::new(),
    };
    if reasons.is_empty()
        && let Some(dead) = &data.view.dead_letters
    {
        reasons = dead.by_code.clone();
    }
    if !reasons.is_empty() {
        html.push_str(r#"<table class="reasons"><thead><tr><th>reason</th><th>count</th></tr></thead><tbody>"#);
        for (code, n) in &reasons {
            let _ = write!(
                html,
                "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(code),
                thousands(*n)
            );
        }
        html.push_str("</tbody></table>");
    }
    let latest: &[DeadLetterView] = data
        .view
        .dead_letters
        .as_ref()
        .map_or(&[], |d| d.latest.as_slice());
    if latest.is_empty() {
        if total.unwrap_or(0) == 0 {
            html.push_str(r#"<p class="note">None: every input became a row.</p>"#);
        }
        return html;
    }
    html.push_str(r#"<table class="dead"><thead><tr><th>at</th><th>reason</th><th>from</th><th>value</th></tr></thead><tbody>"#);
    for letter in latest {
        let _ = write!(
            html,
            r#"<tr><td>{}</td><td><code>{}</code> {}</td><td>{}</td><td class="payload">{}</td></tr>"#,
            clock(letter.at_ms),
            esc(letter.code.as_deref().unwrap_or("?")),
            esc(&letter.reason),
            esc(letter
                .origin
                .as_deref()
                .unwrap_or(letter.stage.as_deref().unwrap_or(""))),
            esc(&letter.value_preview),
        );
    }
    html.push_str("</tbody></table>");
    html
}

fn waits(shared: &Shared, data: &Data) -> String {
    let Live::Pipeline(stats) = &shared.live else {
        return r#"<p class="note">Shown by a running pipeline (`run --ui`, `process --ui`).</p>"#
            .into();
    };
    let mut html = String::new();
    let (source, sink) = match data.waits {
        Some((source, sink)) => (Some(source), Some(sink)),
        None => (None, None),
    };
    let idle = Series::last(&data.series.processed).is_none_or(|r| r == 0.0);
    let verdict = match data.waits {
        Some(_) if idle => "idle: nothing to process".to_owned(),
        Some((source, sink)) if sink > 0.5 && sink > source => format!(
            "waits on the sink ({}): it is the bottleneck",
            stats.components.sink
        ),
        Some((source, sink)) if source > 0.5 && source > sink => format!(
            "waits on the source ({}): the sink keeps up",
            stats.components.source
        ),
        Some(_) => "busy: neither side waits much".to_owned(),
        None => "n/a".to_owned(),
    };
    let _ = write!(
        html,
        r#"<div class="numbers"><div>last 10 s: waiting on source {} · on sink {}</div><div id="v-verdict">{}</div></div>"#,
        number("v-wait-source", &share(source), source),
        number("v-wait-sink", &share(sink), sink),
        esc(&verdict),
    );
    let write = stats.sink_write_seconds.snapshot();
    let batch = stats.batch_seconds.snapshot();
    let _ = write!(
        html,
        r#"<table class="latency"><thead><tr><th></th><th>p50</th><th>p99</th><th>count</th></tr></thead><tbody><tr><td>sink write ({})</td><td>{}</td><td>{}</td><td class="num">{}</td></tr><tr><td>batch (score + write)</td><td>{}</td><td>{}</td><td class="num">{}</td></tr></tbody></table>"#,
        stats.components.sink,
        milliseconds(write.quantile(0.5)),
        milliseconds(write.quantile(0.99)),
        thousands(write.count),
        milliseconds(batch.quantile(0.5)),
        milliseconds(batch.quantile(0.99)),
        thousands(batch.count),
    );
    let totals = stats.snapshot();
    let _ = write!(
        html,
        r#"<div class="numbers"><div>write retries {}</div>"#,
        number(
            "v-retries",
            &thousands(totals.write_retries),
            Some(totals.write_retries as f64)
        )
    );
    if shared.kafka.is_some() {
        use std::sync::atomic::Ordering::Relaxed;
        let source = &stats.source;
        let _ = write!(
            html,
            "<div>rebalances {}</div><div>fetching {}</div><div>pauses {}</div><div>offset resets {}</div>",
            thousands(source.rebalances.load(Relaxed)),
            if source.paused.load(Relaxed) {
                "paused (pipeline full)"
            } else {
                "running"
            },
            thousands(source.pauses.load(Relaxed)),
            thousands(source.offset_resets.load(Relaxed)),
        );
    }
    html.push_str("</div>");
    html.push_str(&errors(stats));
    html
}

fn errors(stats: &PipelineStats) -> String {
    let errors = stats.errors.snapshot();
    if errors.is_empty() {
        return r#"<p class="note">No errors.</p>"#.into();
    }
    let mut html = String::from(
        r#"<table class="errors"><thead><tr><th>stage</th><th>error</th><th>count</th></tr></thead><tbody>"#,
    );
    for (stage, kind, n) in errors {
        let stage = match stage {
            ErrorStage::Receiving => "receiving",
            ErrorStage::Processing => "processing",
            ErrorStage::Sending => "sending",
        };
        let _ = write!(
            html,
            "<tr><td>{stage}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(kind),
            thousands(n)
        );
    }
    html.push_str("</tbody></table>");
    html
}

fn group(shared: &Shared, data: &Data) -> String {
    let Some(kafka) = &shared.kafka else {
        return r#"<p class="note">Embedded pipeline: one process, no consumer group.</p>"#.into();
    };
    let Some(group) = &data.view.group else {
        return format!(
            r#"<p class="note">Group {} not described yet.</p>"#,
            esc(&kafka.group)
        );
    };
    let mut html = format!(
        r#"<div class="numbers"><div>group <b>{}</b> · {} · {} member(s)</div></div>"#,
        esc(&kafka.group),
        esc(if group.state.is_empty() {
            "unknown"
        } else {
            &group.state
        }),
        group.members.len()
    );
    if group.members.is_empty() {
        html.push_str(r#"<p class="note">No processor in the group now.</p>"#);
        return html;
    }
    html.push_str(r#"<table class="members"><thead><tr><th>member</th><th>host</th><th>partitions</th></tr></thead><tbody>"#);
    for member in &group.members {
        let partitions: Vec<String> = member
            .assignment
            .iter()
            .map(|(topic, partitions)| {
                let list: Vec<String> = partitions.iter().map(i32::to_string).collect();
                format!("{topic}: {}", list.join(", "))
            })
            .collect();
        let _ = write!(
            html,
            r#"<tr><td title="{}">{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&member.member_id),
            esc(&member.client_id),
            esc(&member.host),
            esc(&partitions.join("; ")),
        );
    }
    html.push_str("</tbody></table>");
    html
}

/// A static line chart (the first paint; the script replaces it with uPlot).
fn svg_lines(t: &[f64], lines: &[(&str, &[Option<f64>])]) -> String {
    let (width, height) = (600.0, 120.0);
    let max = lines
        .iter()
        .flat_map(|(_, values)| values.iter().flatten())
        .fold(0.0f64, |m, v| m.max(*v));
    if t.len() < 2 || max <= 0.0 {
        return r#"<p class="note chart-empty">n/a: no data yet (charts fill in every 2 s).</p>"#
            .into();
    }
    let (t0, t1) = (t[0], t[t.len() - 1]);
    let span = (t1 - t0).max(1.0);
    let mut svg = format!(r#"<svg class="lines" viewBox="0 0 {width} {height}" role="img">"#);
    for (index, (name, values)) in lines.iter().enumerate() {
        let mut points = String::new();
        for (x, value) in t.iter().zip(values.iter()) {
            if let Some(v) = value {
                let _ = write!(
                    points,
                    "{:.1},{:.1} ",
                    (x - t0) / span * width,
                    height - v / max * (height - 4.0)
                );
            }
        }
        let _ = write!(
            svg,
            r#"<polyline class="line s{index} {name}" points="{}"/>"#,
            points.trim_end()
        );
    }
    let _ = write!(
        svg,
        r#"<text x="2" y="12" class="axis">max {}</text></svg>"#,
        thousands(max.round() as u64)
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped() {
        assert_eq!(
            esc(r#"<script>alert("x&y")</script> it's"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt; it&#39;s"
        );
    }

    #[test]
    fn unknown_numbers_read_n_a_never_nan() {
        assert_eq!(rate(None), "n/a");
        assert_eq!(rate(Some(f64::NAN)), "n/a");
        assert_eq!(rate(Some(1234.4)), "1,234/s");
        assert_eq!(seconds(Some(f64::INFINITY)), "n/a");
        assert_eq!(seconds(Some(0.25)), "250 ms");
        assert_eq!(milliseconds(None), "n/a");
        assert_eq!(share(Some(0.5)), "50%");
        assert_eq!(clock(Some(3_723_000)), "01:02:03");
    }

    #[test]
    fn lag_trends_need_a_clear_change() {
        let growing: Vec<Option<f64>> = (0..10).map(|i| Some(100.0 + 50.0 * i as f64)).collect();
        assert_eq!(trend(&growing), "growing");
        let steady = vec![Some(100.0); 10];
        assert_eq!(trend(&steady), "steady");
        let shrinking: Vec<Option<f64>> = growing.iter().rev().copied().collect();
        assert_eq!(trend(&shrinking), "shrinking");
        assert_eq!(trend(&[None, Some(1.0)]), "n/a");
    }

    #[test]
    fn rows_show_sentences_as_text() {
        let view = StoreView {
            latest: vec![RowView {
                id: 7,
                sentence: Some(
                    "<script>window.pwned = 1</script><img src=x onerror=alert(1)>".into(),
                ),
                label: "neutral".into(),
                compound: Some(0.0),
                produced_at_ms: Some(0),
            }],
            ..StoreView::default()
        };
        let data = Data {
            command: "run",
            now_ms: 0,
            uptime: Duration::ZERO,
            ready: Vec::new(),
            stats: None,
            series: Series::default(),
            waits: None,
            view: std::sync::Arc::new(view),
            label: None,
        };
        let html = rows(&data);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;script&gt;window.pwned = 1&lt;/script&gt;"),
            "{html}"
        );
    }
}
