//! The request span: method and path, with the secrets some paths carry replaced.
//!
//! Share links, watch-live tokens and Arr webhooks are authorised by a token in the path, so the
//! default span (which logs the whole URI) would write bearer secrets into the log file.

use axum::http::Request;
use tracing::Span;

/// Path prefixes whose following segment(s) are secrets, and how many segments to keep first.
const SECRET_PATHS: &[(&str, usize)] = &[
    ("/api/v1/share/", 0),
    ("/api/v1/watch/", 0),
    // /api/v1/trailers/webhooks/{connection id}/{token}: the id stays, the token goes.
    ("/api/v1/trailers/webhooks/", 1),
];

/// `path` as it may be logged: the segment after each secret-bearing prefix becomes `***`.
pub fn loggable_path(path: &str) -> String {
    for (prefix, keep) in SECRET_PATHS {
        let Some(at) = path.find(prefix) else {
            continue;
        };
        let (head, rest) = path.split_at(at + prefix.len());
        let mut segments: Vec<&str> = rest.split('/').collect();
        if let Some(secret) = segments.get_mut(*keep) {
            *secret = "***";
        }
        return format!("{head}{}", segments.join("/"));
    }
    path.to_string()
}

/// The span for one request (the query string is left out: it is never needed to read a log).
pub fn make_span<B>(req: &Request<B>) -> Span {
    tracing::debug_span!(
        "request",
        method = %req.method(),
        path = %loggable_path(req.uri().path()),
    )
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn secret_segments_are_replaced_and_other_paths_kept() {
        assert_eq!(
            loggable_path("/api/v1/share/abcdef123"),
            "/api/v1/share/***"
        );
        assert_eq!(
            loggable_path("/api/v1/watch/tok123/seg-4.ts"),
            "/api/v1/watch/***/seg-4.ts"
        );
        assert_eq!(
            loggable_path("/base/api/v1/trailers/webhooks/01abc/s3cret"),
            "/base/api/v1/trailers/webhooks/01abc/***"
        );
        assert_eq!(
            loggable_path("/api/v1/trailers/webhooks/01abc"),
            "/api/v1/trailers/webhooks/01abc"
        );
        assert_eq!(loggable_path("/api/v1/channels"), "/api/v1/channels");
    }
}
