//! Request authentication: setup gate, API keys, session cookies and CSRF.

use crate::error::{ApiError, Code};
use crate::state::{AppState, Metrics};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tapearr_core::auth::Principal;
use tapearr_core::auth::tokens::constant_time_eq;

pub const SESSION_COOKIE: &str = "tapearr_session";
pub const CSRF_COOKIE: &str = "tapearr_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const API_KEY_HEADER: &str = "x-api-key";

/// Until the admin exists, every guarded route answers 409 `setup_required`.
pub async fn require_setup(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if state.setup_required().await? {
        return Err(ApiError::new(
            Code::SetupRequired,
            "create the admin account first: POST /api/v1/setup",
        ));
    }
    Ok(next.run(req).await)
}

/// Resolves the caller into a `Principal` extension, or answers 401/403.
pub async fn require_auth(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let principal = authenticate(&state, req.headers(), req.method()).await;
    match principal {
        Ok(p) => {
            req.extensions_mut().insert(p);
            Ok(next.run(req).await)
        }
        Err(e) => {
            Metrics::inc(&state.metrics.auth_failures);
            Err(e)
        }
    }
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
) -> Result<Principal, ApiError> {
    if let Some(key) = api_key_from(headers) {
        return state
            .auth
            .api_key(key)
            .await?
            .ok_or_else(ApiError::unauthorized);
    }
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Err(ApiError::unauthorized());
    };
    let principal = state
        .auth
        .session(token)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    if let Principal::Session { session, .. } = &principal
        && !is_safe(method)
    {
        // Double submit: a cross-site form can send the cookie but cannot read it into a header.
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !constant_time_eq(sent, &session.csrf_token) {
            return Err(ApiError::new(
                Code::CsrfFailed,
                "missing or wrong X-CSRF-Token header (copy it from the tapearr_csrf cookie)",
            ));
        }
    }
    Ok(principal)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn api_key_from(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(v.trim());
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` values for a login (or, with `max_age` 0, a logout).
pub fn session_cookies(
    token: &str,
    csrf: &str,
    max_age_secs: i64,
    secure: bool,
    path: &str,
) -> [String; 2] {
    let secure = if secure { "; Secure" } else { "" };
    let path = if path.is_empty() { "/" } else { path };
    [
        format!(
            "{SESSION_COOKIE}={token}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}"
        ),
        format!("{CSRF_COOKIE}={csrf}; Path={path}; Max-Age={max_age_secs}; SameSite=Lax{secure}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_keys_and_cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer tpa_x"),
        );
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tapearr_session=tok; b=2"),
        );
        assert_eq!(api_key_from(&h), Some("tpa_x"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "missing"), None);
        let [s, c] = session_cookies("t", "c", 60, true, "");
        assert!(s.contains("HttpOnly") && s.contains("Secure") && s.contains("SameSite=Lax"));
        assert!(!c.contains("HttpOnly"));
    }
}
