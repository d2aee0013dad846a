//! The one HTTP policy for every outside service that holds a secret (Radarr/Sonarr/Plex
//! connections, media servers, notification targets, Web Push).
//!
//! - A secret travels in a header, a query or the URL itself, so a redirect is followed only
//!   on the same host (http → https, another port), at most [`MAX_REDIRECTS`] times, and never
//!   to another host.
//! - Every call has a connect and a total timeout.
//! - Answers are read up to a bound ([`read_capped`]), never whole whatever their size.

use std::time::Duration;

/// Total time of one call, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// Time to open the connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Same-host redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;
/// The largest answer read from a service that is only asked small things (tests, sends).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// Follows a redirect only when it stays on the host of the first request.
pub fn same_host_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_host = attempt
            .previous()
            .first()
            .is_some_and(|first| first.host_str() == attempt.url().host_str());
        if same_host && attempt.previous().len() <= MAX_REDIRECTS {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// The client for calls that carry a secret: same-host redirects, bounded timeouts.
pub fn secret_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .user_agent(concat!("tapearr/", env!("CARGO_PKG_VERSION")))
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(same_host_redirects())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Whether two URLs name the same host and port (a stored secret may go to `new` only if so).
/// Unparsable URLs never match.
pub fn same_host(old: &str, new: &str) -> bool {
    match (url::Url::parse(old.trim()), url::Url::parse(new.trim())) {
        // Another port on the same machine may be another service: the port must match too
        // (the scheme's default when none is written).
        (Ok(a), Ok(b)) => {
            a.host_str().is_some()
                && a.host_str() == b.host_str()
                && a.port_or_known_default() == b.port_or_known_default()
        }
        _ => false,
    }
}

/// Where a redirect that was not followed leads, for the error message (host only: the path
/// or query may hold a secret).
pub fn redirect_host(response: &reqwest::Response) -> Option<String> {
    if !response.status().is_redirection() {
        return None;
    }
    let to = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| url::Url::parse(l).ok())
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "another address".into());
    Some(to)
}

/// The body, up to `max` bytes; a longer one is an error, not a silent cut.
pub async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(format!("the answer is larger than {max} bytes"));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > max => {
                return Err(format!("the answer is larger than {max} bytes"));
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Ok(body),
            Err(e) => return Err(e.without_url().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_compare_without_path_port_or_case() {
        assert!(same_host("http://Plex:32400/", "http://plex:32400/x"));
        assert!(!same_host("http://plex:32400", "http://plex:9"));
        assert!(!same_host("http://plex/", "https://plex/"));
        assert!(!same_host("http://plex:32400", "http://evil:32400"));
        assert!(!same_host("http://127.0.0.1", "http://localhost"));
        assert!(!same_host("not a url", "not a url"));
    }
}
