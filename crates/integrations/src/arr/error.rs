//! What a Radarr/Sonarr call can fail with. Messages are for the person who set up the
//! connection; they never carry the API key or a URL (reqwest errors are stripped of theirs,
//! and anything the server sent back has the key masked).

/// Why talking to a Radarr or Sonarr failed.
#[derive(Debug, thiserror::Error)]
pub enum ArrError {
    #[error("the URL is not a valid http:// or https:// address")]
    InvalidUrl,
    /// The API key holds characters that cannot go into an HTTP header.
    #[error("the API key contains characters that cannot be sent (spaces or line breaks?)")]
    InvalidKey,
    #[error("the API key was refused")]
    Unauthorized,
    #[error("expected {expected} at this address but found {found}")]
    WrongApp {
        expected: &'static str,
        found: String,
    },
    #[error("the server answered HTTP {status}{}", colon(message))]
    Status { status: u16, message: String },
    #[error("cannot reach the server: {0}")]
    Network(String),
    #[error("incomplete or unreadable answer: {0}")]
    Incomplete(String),
}

fn colon(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// Masks `key` in text that came from elsewhere (a server's message, an error chain).
pub(crate) fn redact(text: &str, key: &str) -> String {
    if key.len() < 4 {
        return text.to_owned();
    }
    text.replace(key, "***")
}

/// A reqwest error in words, without its URL: the error and its causes ("error sending
/// request: client error (Connect): tcp connect error: Connection refused (os error 111)"),
/// or "timed out".
pub(crate) fn describe(e: reqwest::Error, key: &str) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    redact(&text, key)
}

/// At most `max` characters (the last one `…` when cut).
pub(crate) fn truncate(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().nth(max).is_none() {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}
