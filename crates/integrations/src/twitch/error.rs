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
    /// GQL refused the query itself (Twitch's "failed integrity check"): asking again the same
    /// way will not help.
    #[error("twitch refused the query: {0}")]
    Refused(String),
}

pub(crate) fn network(e: reqwest::Error) -> TwitchError {
    // without_url: the URL may carry a query with credentials.
    TwitchError::Network(e.without_url().to_string())
}

pub(crate) fn decode(e: impl std::fmt::Display) -> TwitchError {
    TwitchError::Decode(e.to_string())
}

/// A successful answer's JSON body.
pub(crate) async fn json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, TwitchError> {
    response.json().await.map_err(|e| decode(e.without_url()))
}

/// An unexpected status, with Twitch's message.
pub(crate) async fn http(response: reqwest::Response) -> TwitchError {
    TwitchError::Http {
        status: response.status().as_u16(),
        message: error_message(response).await,
    }
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
