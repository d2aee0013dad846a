//! Notification services: Discord webhooks, ntfy and a generic signed JSON webhook.

pub mod discord;
pub mod ntfy;
pub mod webhook;
pub mod webpush;

use serde::{Deserialize, Serialize};

/// One message as every service receives it: a title, one line per event, and the events.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    /// Stable across retries of the same message, so a receiver can drop a repeat.
    pub id: String,
    pub title: String,
    pub lines: Vec<String>,
    pub events: Vec<MessageEvent>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// One event in a message: its id in Tapearr's event history, its type and its line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageEvent {
    pub id: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub text: String,
}

/// Why a send failed, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Network trouble, 5xx, 429: try again later.
    #[error("{0}")]
    Retryable(String),
    /// The service refused the message itself (bad URL, 4xx): retrying will not help.
    #[error("{0}")]
    Permanent(String),
}

/// Maps an HTTP answer to a send result; the body is kept short and never echoes the URL.
pub(crate) async fn check(
    service: &str,
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<(), SendError> {
    let response =
        response.map_err(|e| SendError::Retryable(format!("{service}: {}", e.without_url())))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    if let Some(to) = crate::http::redirect_host(&response) {
        // Not followed to another host: the secret would go with it.
        return Err(SendError::Permanent(format!(
            "{service} redirects to {to}; enter the address it redirects to"
        )));
    }
    let body = crate::http::read_capped(response, 64 * 1024)
        .await
        .unwrap_or_default();
    let body: String = String::from_utf8_lossy(&body).chars().take(200).collect();
    let message = format!("{service} answered {status}: {}", body.trim());
    if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
        Err(SendError::Retryable(message))
    } else {
        Err(SendError::Permanent(message))
    }
}
