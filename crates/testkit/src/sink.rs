//! A local HTTP receiver that records every request: the stand-in for Discord webhooks, ntfy,
//! generic webhooks and Apprise's `json://` target in tests.
//!
//! It can be told to fail the next N requests (with a status) to exercise retries.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// One request as the sink saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status the sink answered with.
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    /// (how many more to fail, with which status)
    failing: Mutex<(u32, u16)>,
    arrived: Notify,
}

/// A running sink on `127.0.0.1:<random port>`; stops when dropped.
pub struct HttpSink {
    addr: SocketAddr,
    inner: Arc<Inner>,
    _shutdown: crate::serve::StopOnDrop,
}

impl HttpSink {
    pub async fn start() -> std::io::Result<HttpSink> {
        let inner = Arc::new(Inner::default());
        let app = Router::new().fallback(record).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        Ok(HttpSink {
            addr,
            inner,
            _shutdown: crate::serve::spawn(listener, app, "http sink"),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The next `n` requests are answered with `status` (and still recorded).
    pub fn fail_next(&self, n: u32, status: u16) {
        if let Ok(mut f) = self.inner.failing.lock() {
            *f = (n, status);
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Waits until `pred` holds for what was received, or the timeout passes.
    pub async fn wait_for(
        &self,
        timeout: std::time::Duration,
        pred: impl Fn(&[Received]) -> bool,
    ) -> Result<Vec<Received>, Vec<Received>> {
        crate::serve::wait_until(
            &self.inner.arrived,
            timeout,
            || Some(self.received()).filter(|now| pred(now)),
            || self.received(),
        )
        .await
    }
}

async fn record(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let status = match inner.failing.lock() {
        Ok(mut f) if f.0 > 0 => {
            f.0 -= 1;
            StatusCode::from_u16(f.1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
        _ => StatusCode::OK,
    };
    let received = Received {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect(),
        body: body.to_vec(),
        status: status.as_u16(),
    };
    if let Ok(mut r) = inner.received.lock() {
        r.push(received);
    }
    inner.arrived.notify_waiters();
    status
}
