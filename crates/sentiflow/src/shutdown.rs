//! Graceful shutdown: the first Ctrl-C or SIGTERM asks every part to finish
//! what it has taken and stop; a second one exits at once.

use tokio::sync::watch;

/// A cloneable handle that says whether a shutdown was requested.
#[derive(Clone, Debug)]
pub struct Shutdown {
    receiver: watch::Receiver<bool>,
}

/// The side that requests a shutdown.
#[derive(Debug)]
pub struct ShutdownTrigger {
    sender: watch::Sender<bool>,
}

impl Shutdown {
    /// A new handle and the trigger that fires it.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (sender, receiver) = watch::channel(false);
        (ShutdownTrigger { sender }, Shutdown { receiver })
    }

    pub fn is_requested(&self) -> bool {
        *self.receiver.borrow()
    }

    /// Completes once a shutdown is requested (at once if it already was).
    pub async fn requested(&self) {
        let mut receiver = self.receiver.clone();
        // An error means the trigger is gone; nobody can ask any more, so never complete.
        if receiver.wait_for(|requested| *requested).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl ShutdownTrigger {
    pub fn request(&self) {
        self.sender.send_replace(true);
    }

    /// Fires on the first Ctrl-C or SIGTERM; exits the process on the second.
    pub fn on_signals(self) {
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!(
                "shutdown requested: finishing the batches in flight (press Ctrl-C again to quit at once)"
            );
            self.request();
            wait_for_signal().await;
            eprintln!("second interrupt: exiting without waiting");
            std::process::exit(130);
        });
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).expect("cannot listen for SIGTERM");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
