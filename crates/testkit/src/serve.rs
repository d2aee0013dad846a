//! Serving a fake on a bound listener until its owner is dropped.

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::sync::oneshot;

/// Stops the server when dropped.
pub(crate) type StopOnDrop = oneshot::Sender<()>;

/// Serves `app` on `listener` in a task; `name` is for the log if serving fails.
pub(crate) fn spawn(listener: TcpListener, app: Router, name: &'static str) -> StopOnDrop {
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::warn!(error = %e, "{name} stopped");
        }
    });
    tx
}

/// Waits until `ready` returns a value, re-checking each time `changed` is notified; after
/// `timeout`, `Err` with what `current` says then.
pub(crate) async fn wait_until<T>(
    changed: &Notify,
    timeout: std::time::Duration,
    ready: impl Fn() -> Option<T>,
    current: impl Fn() -> T,
) -> Result<T, T> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        // Registered before checking, so a change between the check and the wait is not lost.
        let notified = changed.notified();
        if let Some(v) = ready() {
            return Ok(v);
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Err(current());
        }
    }
}
