//! The HTTP listener: the router on hyper's HTTP/1 server with a header timeout (which also
//! closes idle keep-alive connections) and a cap on open connections, so slow or silent clients
//! cannot hold every socket. Shuts down like `axum::serve`: stop accepting, let every open
//! connection finish its request, then return.

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let connections = TaskTracker::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // hyper arms the timer whenever it waits for a request head: a half-sent request and an idle
    // keep-alive connection alike are closed when it fires.
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        // No accept without a slot: beyond the cap, new connections wait in the kernel's backlog.
        let slot = tokio::select! {
            _ = shutdown.cancelled() => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: retrying at once would spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(250)) => continue,
                    }
                }
            },
        };
        // The TCP peer, for the sessions list and the reverse-proxy trust check (never a
        // forwarded header: anyone can send one).
        let service =
            router
                .clone()
                .map_request(move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    req
                });
        let conn = http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            // WebSockets: the upgraded socket leaves this task (and its slot) once handed over.
            .with_upgrades();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let _slot = slot;
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}
