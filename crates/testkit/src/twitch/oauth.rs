//! Twitch's id service: `POST /oauth2/token` (client credentials, device code, refresh
//! token), `POST /oauth2/device`, `POST /oauth2/revoke` and `GET /oauth2/validate`.
//!
//! The device-code grant as Twitch runs it for public clients: the device asks
//! `/oauth2/device` for a code, the user enters the `user_code` on twitch.tv (here: a control
//! call approves or declines it), and the device polls `/oauth2/token` meanwhile. Every
//! refusal is `{"status":400,"message":"…"}`: `authorization_pending`, `slow_down` (polled
//! sooner than `interval`; the interval then grows by 5 s), `access_denied`, and
//! `invalid device code` once the code has expired, was used or never existed. Refresh
//! tokens rotate: each works once. The refresh answer carries no `expires_in` (as in Twitch's
//! documented example), so a client must validate to learn the new expiry.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::state::UserToken;
use super::wire::random_hex;
use super::{ControlError, Shared};

/// The grant type of the device flow's token requests.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/oauth2/token", post(token))
        .route("/oauth2/device", post(device))
        .route("/oauth2/revoke", post(revoke))
        .route("/oauth2/validate", get(validate))
}

/// What the user did with a device code on twitch.tv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Pending,
    Approved { user_id: String },
    Denied,
}

#[derive(Debug, Clone)]
pub struct DeviceGrant {
    pub user_code: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub expires_at: Instant,
    pub interval: Duration,
    pub last_poll: Option<Instant>,
    pub decision: Decision,
}

/// Lifetimes and counters of the user-token side (scripted by tests).
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// How long a device code lives (Twitch: 1800 s).
    pub device_ttl: Duration,
    /// The polling interval a device code asks for (Twitch: 5 s).
    pub device_interval: Duration,
    /// How long access tokens from the device and refresh grants live (Twitch: about 4 h).
    pub user_token_ttl: Duration,
    pub device_polls: u64,
    pub refreshes: u64,
    pub revocations: u64,
    /// Every access and refresh token these grants issued (a test looks for them where they
    /// must not be).
    pub issued: Vec<String>,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self {
            device_ttl: Duration::from_secs(1800),
            device_interval: Duration::from_secs(5),
            user_token_ttl: Duration::from_secs(14_400),
            device_polls: 0,
            refreshes: 0,
            revocations: 0,
            issued: Vec::new(),
        }
    }
}

/// The id service's errors are `{"status":400,"message":"…"}`.
fn id_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"status": status.as_u16(), "message": message})),
    )
        .into_response()
}

/// Twitch accepts the parameters in the query or in a form body.
fn params(q: Option<String>, body: &[u8]) -> HashMap<String, String> {
    let mut p = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .chain(url::form_urlencoded::parse(body))
    {
        p.insert(k.into_owned(), v.into_owned());
    }
    p
}

async fn token(State(s): State<Arc<Shared>>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let p = params(q, &body);
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    if get("client_id") != s.cfg.client_id {
        return id_error(StatusCode::BAD_REQUEST, "invalid client");
    }
    match get("grant_type") {
        "client_credentials" => client_credentials(&s, get("client_secret")),
        DEVICE_GRANT => device_token(&s, get("device_code")),
        // A confidential client sends its secret with a refresh; a public one has none.
        "refresh_token"
            if p.contains_key("client_secret") && get("client_secret") != s.cfg.client_secret =>
        {
            id_error(StatusCode::FORBIDDEN, "invalid client secret")
        }
        "refresh_token" => refresh(&s, get("refresh_token")),
        _ => id_error(StatusCode::BAD_REQUEST, "unsupported grant type"),
    }
}

fn client_credentials(s: &Shared, secret: &str) -> Response {
    if secret != s.cfg.client_secret {
        return id_error(StatusCode::FORBIDDEN, "invalid client secret");
    }
    let token = random_hex(15);
    s.world().app_tokens.insert(token.clone());
    s.token_requests.fetch_add(1, Ordering::Relaxed);
    Json(json!({"access_token": token, "expires_in": 5_011_271, "token_type": "bearer"}))
        .into_response()
}

async fn device(State(s): State<Arc<Shared>>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let p = params(q, &body);
    if p.get("client_id").map(String::as_str) != Some(s.cfg.client_id.as_str()) {
        return id_error(StatusCode::BAD_REQUEST, "invalid client");
    }
    let scopes: Vec<String> = p
        .get("scopes")
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let device_code = random_hex(20);
    // Eight capital letters, like Twitch's.
    let user_code: String = (0..8)
        .map(|_| char::from(b'A' + rand::random::<u8>() % 26))
        .collect();
    let mut w = s.world();
    let settings = w.oauth.clone();
    w.devices.insert(
        device_code.clone(),
        DeviceGrant {
            user_code: user_code.clone(),
            client_id: s.cfg.client_id.clone(),
            scopes,
            expires_at: Instant::now() + settings.device_ttl,
            interval: settings.device_interval,
            last_poll: None,
            decision: Decision::Pending,
        },
    );
    Json(json!({
        "device_code": device_code,
        "expires_in": settings.device_ttl.as_secs(),
        "interval": settings.device_interval.as_secs(),
        "user_code": user_code,
        "verification_uri": format!("{}/activate?public=true&device-code={user_code}", s.base),
    }))
    .into_response()
}

fn device_token(s: &Shared, device_code: &str) -> Response {
    let mut w = s.world();
    w.oauth.device_polls += 1;
    let now = Instant::now();
    let Some(grant) = w.devices.get_mut(device_code) else {
        return id_error(StatusCode::BAD_REQUEST, "invalid device code");
    };
    if grant.expires_at <= now {
        w.devices.remove(device_code);
        return id_error(StatusCode::BAD_REQUEST, "invalid device code");
    }
    let too_soon = grant
        .last_poll
        .is_some_and(|last| now.duration_since(last) < grant.interval);
    grant.last_poll = Some(now);
    if too_soon {
        grant.interval += Duration::from_secs(5);
        return id_error(StatusCode::BAD_REQUEST, "slow_down");
    }
    let user_id = match &grant.decision {
        Decision::Pending => {
            return id_error(StatusCode::BAD_REQUEST, "authorization_pending");
        }
        Decision::Denied => {
            w.devices.remove(device_code);
            return id_error(StatusCode::BAD_REQUEST, "access_denied");
        }
        Decision::Approved { user_id } => user_id.clone(),
    };
    let Some(grant) = w.devices.remove(device_code) else {
        return id_error(StatusCode::BAD_REQUEST, "invalid device code");
    };
    let ttl = w.oauth.user_token_ttl;
    let (access, refresh) = issue_pair(&mut w, &user_id, &grant.client_id, ttl);
    Json(json!({
        "access_token": access,
        "expires_in": ttl.as_secs(),
        "refresh_token": refresh,
        "scope": grant.scopes,
        "token_type": "bearer",
    }))
    .into_response()
}

/// A new access token and its refresh token. Refresh tokens carry `%` and `=` like Twitch's,
/// so a client that does not form-encode them breaks here as it would there.
fn issue_pair(
    w: &mut super::state::World,
    user_id: &str,
    client_id: &str,
    ttl: Duration,
) -> (String, String) {
    let access = random_hex(15);
    let refresh = format!("eyJf{}%{}=", random_hex(18), random_hex(4));
    let grant = UserToken {
        user_id: user_id.to_owned(),
        client_id: client_id.to_owned(),
        expires_at: Some(Instant::now() + ttl),
    };
    w.oauth.issued.push(access.clone());
    w.oauth.issued.push(refresh.clone());
    w.user_tokens.insert(access.clone(), grant.clone());
    w.refresh_tokens.insert(
        refresh.clone(),
        UserToken {
            expires_at: None,
            ..grant
        },
    );
    (access, refresh)
}

fn refresh(s: &Shared, refresh_token: &str) -> Response {
    let mut w = s.world();
    w.oauth.refreshes += 1;
    // One use: the answer carries the next refresh token.
    let Some(grant) = w.refresh_tokens.remove(refresh_token) else {
        return id_error(StatusCode::BAD_REQUEST, "Invalid refresh token");
    };
    let ttl = w.oauth.user_token_ttl;
    let (access, refresh) = issue_pair(&mut w, &grant.user_id, &grant.client_id, ttl);
    Json(json!({
        "access_token": access,
        "refresh_token": refresh,
        "scope": ["user:read:follows"],
        "token_type": "bearer",
    }))
    .into_response()
}

async fn revoke(State(s): State<Arc<Shared>>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    let p = params(q, &body);
    let token = p.get("token").map(String::as_str).unwrap_or("");
    let client_id = p.get("client_id").map(String::as_str).unwrap_or("");
    let mut w = s.world();
    match w.user_tokens.get(token) {
        Some(t) if t.client_id == client_id => {
            w.user_tokens.remove(token);
            w.oauth.revocations += 1;
            StatusCode::OK.into_response()
        }
        Some(_) => id_error(StatusCode::BAD_REQUEST, "invalid client"),
        None => id_error(StatusCode::BAD_REQUEST, "Invalid token"),
    }
}

async fn validate(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("OAuth ")
                .or_else(|| v.strip_prefix("Bearer "))
        })
        .unwrap_or("");
    let world = s.world();
    if let Some((t, user)) = world
        .live_user_token(token)
        .and_then(|t| Some((t, world.user_by_id(&t.user_id)?)))
    {
        let expires_in = t.expires_at.map_or(14_124, |at| {
            at.saturating_duration_since(Instant::now()).as_secs()
        });
        return Json(json!({
            "client_id": t.client_id, "login": user.login, "user_id": user.id,
            "scopes": ["user:read:follows"], "expires_in": expires_in,
        }))
        .into_response();
    }
    if world.app_tokens.contains(token) {
        return Json(json!({"client_id": s.cfg.client_id, "scopes": [], "expires_in": 5_011_271}))
            .into_response();
    }
    id_error(StatusCode::UNAUTHORIZED, "invalid access token")
}

// ---- scripting (the user on twitch.tv) ----

fn decide(s: &Shared, user_code: &str, decision: Decision) -> Result<(), ControlError> {
    let mut w = s.world();
    let grant = w
        .devices
        .values_mut()
        .find(|g| g.user_code == user_code && g.expires_at > Instant::now())
        .ok_or_else(|| ControlError::UnknownDeviceCode(user_code.to_owned()))?;
    grant.decision = decision;
    Ok(())
}

/// `login` enters `user_code` on twitch.tv and authorizes the application.
pub fn approve_device(s: &Shared, user_code: &str, login: &str) -> Result<(), ControlError> {
    let user_id = s
        .world()
        .user_by_login(login)
        .map(|u| u.id.clone())
        .ok_or_else(|| ControlError::UnknownUser(login.to_owned()))?;
    decide(s, user_code, Decision::Approved { user_id })
}

/// The user enters `user_code` and declines.
pub fn deny_device(s: &Shared, user_code: &str) -> Result<(), ControlError> {
    decide(s, user_code, Decision::Denied)
}

/// `login` disconnects the application on twitch.tv: its refresh and access tokens stop
/// working.
pub fn disconnect_app(s: &Shared, login: &str) -> Result<(), ControlError> {
    let mut w = s.world();
    let user_id = w
        .user_by_login(login)
        .map(|u| u.id.clone())
        .ok_or_else(|| ControlError::UnknownUser(login.to_owned()))?;
    let client_id = s.cfg.client_id.clone();
    let theirs = |t: &UserToken| t.user_id == user_id && t.client_id == client_id;
    w.refresh_tokens.retain(|_, t| !theirs(t));
    w.user_tokens.retain(|_, t| !theirs(t));
    Ok(())
}
