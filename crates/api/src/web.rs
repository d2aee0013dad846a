//! The web app (C14), embedded from `web/build` (debug builds read the files from disk).
//!
//! Everything that is not an API route lands here: a file of the build when one matches, else
//! `index.html` so the single-page app routes on the client. Unknown `/api/*` paths stay JSON 404s.
//! The app is built with the placeholder base `/__tapearr_base__`; text files are served with it
//! replaced by the configured `base_path`, so one build works at `/` and behind a sub-path.

use crate::error::{ApiError, Code};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

#[derive(rust_embed::RustEmbed)]
#[folder = "../../web/build"]
#[allow_missing = true]
struct Assets;

/// What the build writes where the base path belongs (see `web/svelte.config.js`).
pub const BASE_PLACEHOLDER: &str = "/__tapearr_base__";

const NO_CACHE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The router's fallback: API paths answer a JSON 404, the rest is the web app.
pub async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::new(Code::NotFound, "no such route").into_response();
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return ApiError::new(Code::NotFound, "no such route").into_response();
    }
    serve(&state.config.base_path, path, req.headers())
}

/// Serves `path` (already without the base path) from the embedded build.
pub fn serve(base: &str, path: &str, headers: &HeaderMap) -> Response {
    let name = path.trim_start_matches('/');
    let name = if name.is_empty() { "index.html" } else { name };
    if let Some(response) = file(base, name, headers) {
        return response;
    }
    // A path that names a file (`/x.js`) is missing; anything else is a client-side route.
    let last = name.rsplit('/').next().unwrap_or_default();
    if last.contains('.') && name != "index.html" {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    file(base, "index.html", headers).unwrap_or_else(not_built)
}

fn file(base: &str, name: &str, headers: &HeaderMap) -> Option<Response> {
    if name.split('/').any(|s| s == ".." || s.is_empty()) {
        return None;
    }
    let asset = Assets::get(name)?;
    let hash = asset.metadata.sha256_hash();
    let mime = asset.metadata.mimetype();
    let mime = if name.ends_with(".webmanifest") {
        "application/manifest+json"
    } else {
        mime
    };
    let etag = format!("\"{}{}\"", hex(&hash[..12]), base.len());
    let cache = if name.starts_with("_app/immutable/") {
        IMMUTABLE
    } else {
        NO_CACHE
    };
    let body = if is_text(mime) {
        rewritten(name, &hash, asset.data, base)
    } else {
        bytes(asset.data)
    };
    // The shell's policy names its inline scripts by hash (after the base path is put in). Set
    // on a 304 too: a browser updates the cached copy's headers from it.
    // The service worker runs under its own script's policy: the app's (it fetches the shell).
    let policy = if name.ends_with(".html") {
        Some(crate::security::app_policy(&String::from_utf8_lossy(&body)))
    } else if name == "sw.js" {
        Some(crate::security::app_policy(""))
    } else {
        None
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(body))
    };
    let h = response.headers_mut();
    if let Some(v) = policy.and_then(|p| HeaderValue::from_str(&p).ok()) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if let Ok(v) = HeaderValue::from_str(mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if name == "sw.js" {
        // The worker controls the whole app, wherever the base path puts it.
        h.insert(
            "service-worker-allowed",
            HeaderValue::from_str(&format!("{base}/")).unwrap_or(HeaderValue::from_static("/")),
        );
    }
    Some(response)
}

fn bytes(data: Cow<'static, [u8]>) -> Bytes {
    match data {
        Cow::Borrowed(b) => Bytes::from_static(b),
        Cow::Owned(v) => Bytes::from(v),
    }
}

fn is_text(mime: &str) -> bool {
    mime.starts_with("text/")
        || mime.contains("javascript")
        || mime.contains("json")
        || mime.contains("xml")
}

type Cache = Mutex<HashMap<(String, [u8; 32]), Bytes>>;

/// The file with the base placeholder replaced, computed once per file version and base.
fn rewritten(name: &str, hash: &[u8; 32], data: Cow<'static, [u8]>, base: &str) -> Bytes {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (format!("{base}\n{name}"), *hash);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return hit;
    }
    let bytes = match std::str::from_utf8(&data) {
        Ok(text) if text.contains(BASE_PLACEHOLDER) => {
            Bytes::from(text.replace(BASE_PLACEHOLDER, base))
        }
        _ => bytes(data),
    };
    if let Ok(mut c) = cache.lock() {
        c.insert(key, bytes.clone());
    }
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn not_built() -> Response {
    let body = "<!doctype html><title>Tapearr</title><p>The web app is not built into this binary. \
         Run <code>make web</code> (or <code>make run</code>) and restart; the API is at \
         <code>api/v1/docs</code>.</p>";
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_with_an_extension_that_do_not_exist_are_404() {
        let r = serve("", "/nope/missing.js", &HeaderMap::new());
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn path_traversal_is_never_a_file() {
        assert!(file("", "../Cargo.toml", &HeaderMap::new()).is_none());
        assert!(file("", "_app//x.js", &HeaderMap::new()).is_none());
    }

    #[test]
    fn client_routes_get_the_shell_or_the_not_built_page() {
        let r = serve("", "/activity/jobs", &HeaderMap::new());
        assert!(r.status() == StatusCode::OK || r.status() == StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            r.headers().get(header::CACHE_CONTROL).map(|v| v.as_bytes()),
            Some(NO_CACHE.as_bytes())
        );
    }
}
