//! Media servers: ask Plex, Jellyfin or Emby to rescan the folder that changed; read Plex's
//! and Jellyfin's library as a trailer source.

pub mod jellyfin;
pub mod jellyfin_library;
pub mod plex;
pub mod plex_library;
pub mod plex_tv;

/// Why a media-server call failed, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    Retryable(String),
    #[error("{0}")]
    Permanent(String),
}

/// What a connection test reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerInfo {
    pub name: String,
    pub version: String,
}

pub(crate) fn status_error(service: &str, status: reqwest::StatusCode) -> ServerError {
    let message = match status.as_u16() {
        401 | 403 => format!("{service} refused the token ({status})"),
        _ => format!("{service} answered {status}"),
    };
    if status.is_server_error() || status.as_u16() == 429 {
        ServerError::Retryable(message)
    } else {
        ServerError::Permanent(message)
    }
}

/// A non-2xx answer; a redirect to another host (not followed, the token would go with it)
/// says where it leads.
pub(crate) fn answer_error(service: &str, response: &reqwest::Response) -> ServerError {
    match crate::http::redirect_host(response) {
        Some(to) => ServerError::Permanent(format!(
            "{service} redirects to {to}; enter the address it redirects to"
        )),
        None => status_error(service, response.status()),
    }
}

/// Reads a JSON answer of at most [`crate::http::MAX_BODY`] bytes.
pub(crate) async fn json_capped<T: serde::de::DeserializeOwned>(
    service: &str,
    response: reqwest::Response,
) -> Result<T, ServerError> {
    let body = crate::http::read_capped(response, crate::http::MAX_BODY)
        .await
        .map_err(|e| ServerError::Permanent(format!("{service}: {e}")))?;
    serde_json::from_slice(&body)
        .map_err(|e| ServerError::Permanent(format!("{service}: unexpected answer: {e}")))
}

pub(crate) fn network_error(service: &str, e: reqwest::Error) -> ServerError {
    ServerError::Retryable(format!("{service}: {}", e.without_url()))
}

/// Joins a base URL and a path without doubling or losing slashes.
pub(crate) fn endpoint(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}
