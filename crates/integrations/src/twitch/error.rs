//! What a Twitch call can fail with. Messages never carry the client secret, tokens or URLs
//! (the token endpoint's URL could hold credentials), only statuses and Twitch's own message.

#[derive(Debug, thiserror::Error)]
pub enum TwitchError {
    /// Twitch refused the client credentials or the token, even after a fresh app token.
    #[error("twitch refused the credentials")]
    Unauthorized,
    /// Still rate limited after waiting for the bucket to refill.
    #[error("twitch rate limit exceeded")]
    RateLimited,
    #[error("twitch answered {status}: {message}")]
    Http { status: u16, message: String },
    #[error("twitch unreachable: {0}")]
    Network(String),
    #[error("unexpected answer from twitch: {0}")]
    Decode(String),
    #[error("twitch rejected the request: {0}")]
    BadRequest(String),
}

impl TwitchError {
    /// True when the same call may succeed later (an outage, not a wrong request). A caller
    /// doing live detection must treat these as "unknown", never as "offline".
    pub fn is_transient(&self) -> bool {
        match self {
            Self::RateLimited | Self::Network(_) => true,
            Self::Http { status, .. } => *status >= 500,
            Self::Unauthorized | Self::Decode(_) | Self::BadRequest(_) => false,
        }
    }
}

pub(crate) fn network(e: reqwest::Error) -> TwitchError {
    // without_url: the URL may carry a query with credentials.
    TwitchError::Network(e.without_url().to_string())
}

pub(crate) fn decode(e: impl std::fmt::Display) -> TwitchError {
    TwitchError::Decode(e.to_string())
}

/// Twitch's error body: `{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}`.
#[derive(serde::Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    error: String,
}

/// The human part of an error answer, trimmed to a sane length.
pub(crate) async fn error_message(response: reqwest::Response) -> String {
    let text = response.text().await.unwrap_or_default();
    let message = match serde_json::from_str::<ErrorBody>(&text) {
        Ok(b) if !b.message.is_empty() => b.message,
        Ok(b) => b.error,
        Err(_) => text,
    };
    message.chars().take(300).collect()
}
