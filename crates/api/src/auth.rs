//! Request authentication: setup gate, API keys, session cookies and CSRF.

use crate::error::{ApiError, Code};
use crate::state::{AppState, Metrics};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use tapearr_core::auth::tokens::constant_time_eq;
use tapearr_core::auth::{ClientInfo, NewSession, Principal};
use tapearr_core::time::Timestamp;

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

/// Resolves the caller into a `Principal` extension, or answers 401/403. A session opened
/// for a trusted proxy's user sets its cookies on the answer.
pub async fn require_auth(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let peer = peer_of(&req);
    let authenticated = authenticate(&state, req.headers(), req.method(), peer).await;
    match authenticated {
        Ok((p, opened)) => {
            req.extensions_mut().insert(p);
            let mut response = next.run(req).await;
            if let Some(opened) = opened {
                set_session_cookies(&state, &opened, response.headers_mut())?;
            }
            Ok(response)
        }
        Err(e) => {
            Metrics::inc(&state.metrics.auth_failures);
            Err(e)
        }
    }
}

/// The TCP peer the listener recorded (absent when a test drives the router directly).
pub fn peer_of(req: &Request) -> Option<SocketAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// The TCP peer, as a handler argument.
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// Who the client is as the sessions list shows it: user agent and address.
pub fn client_info(headers: &HeaderMap, peer: Option<SocketAddr>) -> ClientInfo {
    ClientInfo {
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(200).collect()),
        address: peer.map(|p| p.ip().to_canonical().to_string()),
    }
}

/// The session cookies of a new session, appended to `headers`.
pub fn set_session_cookies(
    state: &AppState,
    session: &NewSession,
    headers: &mut HeaderMap,
) -> Result<(), ApiError> {
    let max_age = session
        .expires_at
        .millis()
        .saturating_sub(Timestamp::now().millis())
        / 1000;
    for c in session_cookies(
        &session.token,
        &session.csrf_token,
        max_age,
        state.config.auth.secure_cookies,
        &state.config.base_path,
    ) {
        let value = HeaderValue::from_str(&c).map_err(ApiError::internal)?;
        headers.append(header::SET_COOKIE, value);
    }
    Ok(())
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
    peer: Option<SocketAddr>,
) -> Result<(Principal, Option<NewSession>), ApiError> {
    if let Some(key) = api_key_from(headers) {
        return Ok((
            state
                .auth
                .api_key(key)
                .await?
                .ok_or_else(ApiError::unauthorized)?,
            None,
        ));
    }
    let from_cookie = match cookie(headers, SESSION_COOKIE) {
        Some(token) => state.auth.session(token).await?,
        None => None,
    };
    if let Some(proxy_user) = trusted_proxy_user(state, headers, peer) {
        return proxy_principal(state, headers, method, peer, proxy_user?, from_cookie).await;
    }
    let principal = from_cookie.ok_or_else(ApiError::unauthorized)?;
    check_csrf(&principal, headers, method)?;
    Ok((principal, None))
}

/// The user name a trusted proxy's header gives, if the header is configured, present and
/// sent by a trusted peer; a header from anyone else is ignored.
fn trusted_proxy_user<'a>(
    state: &AppState,
    headers: &'a HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<Result<&'a str, ApiError>> {
    let name = state.auth.proxy_header()?;
    let value = headers.get(name)?;
    if !state.auth.trusts_proxy(peer.map(|p| p.ip())) {
        return None;
    }
    Some(
        value
            .to_str()
            .map(str::trim)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(ApiError::unauthorized),
    )
}

/// The proxy vouches for `user`: the browser's session when it belongs to that user, else a
/// new session (cookies set on the answer). Writes still need the session's CSRF token, so a
/// cross-site form riding on the proxy's own login cookie cannot change anything.
async fn proxy_principal(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
    peer: Option<SocketAddr>,
    user: &str,
    from_cookie: Option<Principal>,
) -> Result<(Principal, Option<NewSession>), ApiError> {
    if let Some(p @ Principal::Session { user: u, .. }) = &from_cookie
        && tapearr_core::auth::validate::username(user).is_ok_and(|n| n == u.username)
    {
        check_csrf(p, headers, method)?;
        return Ok((p.clone(), None));
    }
    if !is_safe(method) {
        return Err(ApiError::new(
            Code::CsrfFailed,
            "no session for the signed-in proxy user yet: load the app (a GET) first",
        ));
    }
    let Some(opened) = state
        .auth
        .proxy_login(user, client_info(headers, peer))
        .await?
    else {
        return Err(ApiError::new(
            Code::Unauthorized,
            "the reverse proxy signed in a user Tapearr does not know; use a Tapearr user name",
        ));
    };
    let principal = state
        .auth
        .session(&opened.token)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok((principal, Some(opened)))
}

/// Double submit: a cross-site form can send the cookie but cannot read it into a header.
fn check_csrf(principal: &Principal, headers: &HeaderMap, method: &Method) -> Result<(), ApiError> {
    if let Principal::Session { session, .. } = principal
        && !is_safe(method)
    {
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
    Ok(())
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
