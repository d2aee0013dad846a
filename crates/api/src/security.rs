//! Security headers on every response: the web app, the API, the docs and served media (C13).
//!
//! - `X-Content-Type-Options: nosniff`: a served file is never taken for script or HTML.
//! - `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`: no page may frame Tapearr.
//! - `Referrer-Policy: no-referrer`: share links and ids never leak to other sites.
//! - `Content-Security-Policy`: the app's shell gets [`app_policy`] (scripts only from this
//!   server plus the hashes of the shell's own inline scripts, set by `web.rs`); the Swagger UI
//!   gets [`DOCS_POLICY`]; everything else (JSON, video, images) gets [`RESOURCE_POLICY`], which
//!   lets nothing run when a response is opened directly.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

/// API answers and media: nothing runs, images and video still show when opened directly.
pub const RESOURCE_POLICY: &str = "default-src 'none'; img-src 'self'; media-src 'self'; \
     style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The Swagger UI at `/api/v1/docs`: its own files, and the data-URI icons it draws.
pub const DOCS_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'; \
     base-uri 'self'; form-action 'self'";

/// The policy of the web app's shell, allowing exactly its inline `<script>` blocks by hash.
/// Styles may be inline: Svelte writes `style` attributes. Images may come from anywhere:
/// channel avatars are Twitch CDN URLs (or the configured fake's). `connect-src 'self'` covers
/// the same-origin WebSocket; `worker-src 'self'` the service worker.
pub fn app_policy(html: &str) -> String {
    let hashes: String = inline_scripts(html)
        .map(|body| {
            let digest = Sha256::digest(body.as_bytes());
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; \
         img-src * data:; media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; \
         manifest-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; \
         form-action 'self'"
    )
}

/// The bodies of the `<script>` elements without `src` in `html`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("<script")?;
            let after = &rest[start..];
            let open_end = after.find('>')?;
            let attrs = &after[..open_end];
            let body_and_more = &after[open_end + 1..];
            let close = body_and_more.find("</script>")?;
            let body = &body_and_more[..close];
            rest = &body_and_more[close + "</script>".len()..];
            if !attrs.contains("src=") {
                return Some(body);
            }
        }
    })
}

/// Middleware: adds the headers a handler did not set itself.
pub async fn headers(State(base): State<String>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let path = path.strip_prefix(base.as_str()).unwrap_or(path);
    let docs = path == "/api/v1/docs" || path.starts_with("/api/v1/docs/");
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = if docs { DOCS_POLICY } else { RESOURCE_POLICY };
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_policy_allows_its_inline_scripts_by_hash_and_nothing_else_inline() {
        let html = "<script>a()</script><script src=\"/x.js\"></script>\n<script type=\"module\">\n b() \n</script>";
        let scripts: Vec<&str> = inline_scripts(html).collect();
        assert_eq!(scripts, ["a()", "\n b() \n"]);
        let policy = app_policy(html);
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"a()"));
        assert!(policy.contains(&format!("'sha256-{hash}'")), "{policy}");
        assert!(!policy.contains("unsafe-eval"), "{policy}");
        assert!(
            !policy.contains("script-src 'self' 'unsafe-inline'"),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    }
}
