//! A small HTTP forward proxy (absolute-form `GET http://host/path HTTP/1.1`, what an HTTP
//! client sends to an `http://` proxy for plain-HTTP targets) that can be made to fail: while
//! failing it drops every connection unanswered, as a dead proxy does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
struct State {
    failing: AtomicBool,
    /// Every forwarded request's URL, without its query.
    forwarded: Mutex<Vec<String>>,
}

/// A running proxy on `127.0.0.1:<random port>`; stops when dropped.
pub struct ForwardProxy {
    url: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ForwardProxy {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(State::default());
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?;
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (state, http) = (shared.clone(), http.clone());
                tokio::spawn(async move {
                    if !state.failing.load(Ordering::SeqCst) {
                        let _ = serve(socket, &state, &http).await;
                    }
                });
            }
        });
        Ok(Self { url, state, task })
    }

    /// `http://127.0.0.1:PORT`, for an HTTP client's proxy setting.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// While true, connections are closed without an answer.
    pub fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    /// The URLs (without query) of every request forwarded so far.
    pub fn forwarded(&self) -> Vec<String> {
        self.state
            .forwarded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// One request per connection (`Connection: close`): enough for playlists.
async fn serve(
    mut socket: TcpStream,
    state: &State,
    http: &reqwest::Client,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let (method, target) = (request_line.next(), request_line.next());
    let (Some("GET"), Some(target)) = (method, target) else {
        return socket
            .write_all(
                b"HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .await;
    };
    state
        .forwarded
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(target.split('?').next().unwrap_or_default().to_owned());
    let mut request = http.get(target);
    for line in lines.take_while(|l| !l.is_empty()) {
        if let Some((name, value)) = line.split_once(':') {
            let lower = name.trim().to_ascii_lowercase();
            if !lower.starts_with("proxy-") && !["connection", "host"].contains(&lower.as_str()) {
                request = request.header(name.trim(), value.trim());
            }
        }
    }
    let (status, content_type, body) = match request.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let ct = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            (status, ct, r.bytes().await.unwrap_or_default())
        }
        Err(_) => (502, "text/plain".to_owned(), Default::default()),
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(&body).await?;
    socket.shutdown().await
}
