//! HTTP fetches with a per-request timeout, a size cap (memory stays bounded per stream) and
//! retries with exponential backoff.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::playlist::ByteRange;

/// Why a fetch failed (after its retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("timed out")]
    Timeout,
    #[error("network error: {0}")]
    Network(String),
    #[error("response larger than {0} bytes")]
    TooLarge(u64),
    #[error("body shorter than announced ({got} of {expected} bytes)")]
    Truncated { got: u64, expected: u64 },
    #[error("cancelled")]
    Cancelled,
}

impl FetchError {
    /// The server could not answer (5xx, a timeout, a refused or cut connection), as opposed
    /// to answering that the resource is gone or refused.
    pub fn origin_unreachable(&self) -> bool {
        match self {
            Self::Status(s) => *s >= 500,
            Self::Timeout | Self::Network(_) | Self::Truncated { .. } => true,
            Self::TooLarge(_) | Self::Cancelled => false,
        }
    }

    /// Client errors other than 404/408/429 will not get better by retrying.
    fn retryable(&self) -> bool {
        match self {
            Self::Status(s) => matches!(s, 404 | 408 | 429) || *s >= 500,
            Self::TooLarge(_) | Self::Cancelled => false,
            _ => true,
        }
    }
}

/// Retry and timeout policy for one kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total (at least 1).
    pub attempts: u32,
    /// Timeout of one attempt, body included.
    pub timeout: Duration,
    /// Wait before the second attempt; doubled each time, capped at `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
}

/// Result of a fetch: the body and how many retries it took.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Bytes,
    pub retries: u32,
}

#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    headers: Vec<(String, String)>,
    max_bytes: u64,
}

impl Fetcher {
    pub fn new(client: reqwest::Client, headers: Vec<(String, String)>, max_bytes: u64) -> Self {
        Self {
            client,
            headers,
            max_bytes,
        }
    }

    /// Fetches `url` (optionally a byte range) with retries; gives up early when `cancel` fires.
    pub async fn fetch(
        &self,
        url: &str,
        range: Option<ByteRange>,
        policy: RetryPolicy,
        cancel: &CancellationToken,
    ) -> Result<Fetched, (FetchError, u32)> {
        let mut backoff = policy.backoff;
        let mut attempt = 0;
        loop {
            let result = tokio::select! {
                r = tokio::time::timeout(policy.timeout, self.once(url, range)) => {
                    r.unwrap_or(Err(FetchError::Timeout))
                }
                _ = cancel.cancelled() => Err(FetchError::Cancelled),
            };
            attempt += 1;
            match result {
                Ok(body) => {
                    return Ok(Fetched {
                        body,
                        retries: attempt - 1,
                    });
                }
                Err(e) if attempt >= policy.attempts.max(1) || !e.retryable() => {
                    return Err((e, attempt - 1));
                }
                Err(e) => {
                    // Without the query: Twitch's playlist URLs carry the playback token.
                    let path = url.split('?').next().unwrap_or_default();
                    tracing::debug!(url = path, error = %e, attempt, "fetch failed, retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = cancel.cancelled() => return Err((FetchError::Cancelled, attempt - 1)),
                    }
                    backoff = (backoff * 2).min(policy.max_backoff);
                }
            }
        }
    }

    async fn once(&self, url: &str, range: Option<ByteRange>) -> Result<Bytes, FetchError> {
        let mut req = self.client.get(url);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        if let Some(r) = range {
            let start = r.offset.unwrap_or(0);
            let end = start.saturating_add(r.length).saturating_sub(1);
            req = req.header(reqwest::header::RANGE, format!("bytes={start}-{end}"));
        }
        let resp = req.send().await.map_err(map_reqwest)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let expected = resp.content_length();
        if expected.is_some_and(|n| n > self.max_bytes) {
            return Err(FetchError::TooLarge(self.max_bytes));
        }
        // Read chunk by chunk so an endless or oversized body cannot grow memory past the cap.
        let mut buf =
            BytesMut::with_capacity(expected.unwrap_or(64 * 1024).min(self.max_bytes) as usize);
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(map_reqwest)?;
            if buf.len() as u64 + chunk.len() as u64 > self.max_bytes {
                return Err(FetchError::TooLarge(self.max_bytes));
            }
            buf.extend_from_slice(&chunk);
        }
        if let Some(expected) = expected
            && (buf.len() as u64) < expected
        {
            return Err(FetchError::Truncated {
                got: buf.len() as u64,
                expected,
            });
        }
        Ok(buf.freeze())
    }
}

fn map_reqwest(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::Timeout
    } else {
        // `{:#}`-style chain without the URL (it may carry tokens).
        let e = e.without_url();
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        FetchError::Network(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An origin that announces 1000 bytes and sends `sent[i]` of them on the i-th connection
    /// before closing it.
    async fn origin(sent: Vec<usize>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            for n in sent {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let mut request = [0u8; 1024];
                let _ = sock.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n";
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&vec![0x47; n]).await;
                let _ = sock.shutdown().await;
            }
        });
        format!("http://{addr}/0.ts")
    }

    fn policy(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
        }
    }

    /// hyper fails it first ("end of file before message length reached", a `Network` error);
    /// the length check in `once` is the same guarantee for a transport that would not.
    #[tokio::test]
    async fn a_body_cut_short_of_its_content_length_fails_and_is_retried() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fetcher = Fetcher::new(reqwest::Client::new(), Vec::new(), 1 << 20);
        let cancel = CancellationToken::new();
        let url = origin(vec![500]).await;
        let (error, _) = fetcher
            .fetch(&url, None, policy(1), &cancel)
            .await
            .expect_err("a cut body is not a segment");
        assert!(error.retryable() && error.origin_unreachable(), "{error:?}");

        let url = origin(vec![500, 1000]).await;
        let fetched = fetcher
            .fetch(&url, None, policy(2), &cancel)
            .await
            .expect("whole on the second attempt");
        assert_eq!((fetched.body.len(), fetched.retries), (1000, 1));
    }
}
