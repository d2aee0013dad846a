//! `POST /oauth2/token` (client credentials) and `GET /oauth2/validate`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::Shared;
use super::wire::random_hex;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/oauth2/token", post(token))
        .route("/oauth2/validate", get(validate))
}

/// The id service's errors are `{"status":400,"message":"…"}`.
fn id_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"status": status.as_u16(), "message": message})),
    )
        .into_response()
}

async fn token(State(s): State<Arc<Shared>>, RawQuery(q): RawQuery, body: Bytes) -> Response {
    // Twitch accepts the parameters in the query or in a form body.
    let mut p: HashMap<String, String> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .chain(url::form_urlencoded::parse(&body))
    {
        p.insert(k.into_owned(), v.into_owned());
    }
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    if get("client_id") != s.cfg.client_id {
        return id_error(StatusCode::BAD_REQUEST, "invalid client");
    }
    if get("client_secret") != s.cfg.client_secret {
        return id_error(StatusCode::FORBIDDEN, "invalid client secret");
    }
    if get("grant_type") != "client_credentials" {
        return id_error(StatusCode::BAD_REQUEST, "unsupported grant type");
    }
    let token = random_hex(15);
    s.world().app_tokens.insert(token.clone());
    s.token_requests.fetch_add(1, Ordering::Relaxed);
    Json(json!({"access_token": token, "expires_in": 5_011_271, "token_type": "bearer"}))
        .into_response()
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
        .user_tokens
        .get(token)
        .and_then(|t| Some((t, world.user_by_id(&t.user_id)?)))
    {
        return Json(json!({
            "client_id": t.client_id, "login": user.login, "user_id": user.id,
            "scopes": ["user:read:follows"], "expires_in": 14_124,
        }))
        .into_response();
    }
    if world.app_tokens.contains(token) {
        return Json(json!({"client_id": s.cfg.client_id, "scopes": [], "expires_in": 5_011_271}))
            .into_response();
    }
    id_error(StatusCode::UNAUTHORIZED, "invalid access token")
}
