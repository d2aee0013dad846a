//! The GQL `PlaybackAccessToken` query, usher (the signed master playlist), and the images
//! Helix points at.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Shared;
use super::wire::{PNG, error, hmac, unix_secs};

/// The twitch.tv web player's client id: GQL's playback query takes only it, and only its
/// users' tokens.
pub const WEB_CLIENT_ID: &str = "kimne78kx3ncx6brgo4mv6wki5h1ko";
const QUERY_HASH: &str = "ed230aa1e33e07eebb8928504583da78a5173989fadfb1ac94be06a04f3cdbe9";

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/gql", post(gql))
        .route("/api/v2/channel/hls/{file}", get(usher))
        .route("/img/{file}", get(image))
}

/// Twitch's playback signatures are 40 hex characters.
fn sign(s: &Shared, token: &str) -> String {
    hex::encode(hmac(s.playback_key.as_bytes(), &[token.as_bytes()]))[..40].to_owned()
}

async fn gql(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    if header("client-id") != WEB_CLIENT_ID {
        return error(
            StatusCode::BAD_REQUEST,
            "The \"Client-ID\" header is missing from the request.",
        );
    }
    let viewer = match header("authorization").strip_prefix("OAuth ") {
        None => None,
        // A token issued to another application (the app's own, from the OAuth code flow)
        // is refused like an unknown one.
        Some(t) => match s.world().user_tokens.get(t) {
            Some(t) if t.client_id == WEB_CLIENT_ID => Some(t.user_id.clone()),
            _ => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "The \"Authorization\" token is invalid.",
                );
            }
        },
    };
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "malformed JSON");
    };
    // The web player batches queries in an array; answer in kind.
    match v {
        Value::Array(ops) => Json(Value::Array(
            ops.iter()
                .map(|op| answer(&s, op, viewer.as_deref()))
                .collect(),
        ))
        .into_response(),
        op => Json(answer(&s, &op, viewer.as_deref())).into_response(),
    }
}

fn answer(s: &Shared, op: &Value, viewer: Option<&str>) -> Value {
    let name = op.get("operationName").and_then(Value::as_str);
    let hash = op
        .pointer("/extensions/persistedQuery/sha256Hash")
        .and_then(Value::as_str);
    if name != Some("PlaybackAccessToken") || hash != Some(QUERY_HASH) {
        return json!({"errors": [{"message": "PersistedQueryNotFound"}]});
    }
    let login = op
        .pointer("/variables/login")
        .and_then(Value::as_str)
        .unwrap_or("");
    let w = s.world();
    let token = w
        .user_by_login(login)
        .filter(|u| w.streams.contains_key(&u.id))
        .map(|u| {
            let value = json!({
                "adblock": false, "authorization": {"forbidden": false, "reason": ""},
                "blackout_enabled": false, "channel": u.login, "channel_id": u.id.parse::<u64>().unwrap_or(0),
                "expires": unix_secs(SystemTime::now()) + 1200, "user_id": viewer,
                "version": 2,
            })
            .to_string();
            json!({"value": value, "signature": sign(s, &value), "__typename": "PlaybackAccessToken"})
        });
    json!({
        "data": {"streamPlaybackAccessToken": token},
        "extensions": {"durationMilliseconds": 3, "operationName": "PlaybackAccessToken"},
    })
}

/// Usher's error body: `[{"url":…,"error":…,"type":"error","error_code":…}]`.
fn usher_error(status: StatusCode, message: &str, code: &str) -> Response {
    (
        status,
        Json(json!([{"url": "", "error": message, "type": "error", "error_code": code}])),
    )
        .into_response()
}

async fn usher(
    State(s): State<Arc<Shared>>,
    Path(file): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        q.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let Some(login) = file.strip_suffix(".m3u8") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (sig, token) = (get("sig"), get("token"));
    let channel = serde_json::from_str::<Value>(token)
        .ok()
        .and_then(|t| t.get("channel").and_then(Value::as_str).map(str::to_owned));
    if sig.is_empty() || sig != sign(&s, token) || channel.as_deref() != Some(login) {
        return usher_error(
            StatusCode::FORBIDDEN,
            "Unauthorized",
            "unauthorized_entitlements",
        );
    }
    let live = {
        let w = s.world();
        w.user_by_login(login)
            .is_some_and(|u| w.streams.contains_key(&u.id))
    };
    if !live {
        return usher_error(
            StatusCode::NOT_FOUND,
            "twirp error not_found: transcode does not exist",
            "transcode_does_not_exist",
        );
    }
    // Proxy the origin's master playlist with absolute URIs, as Twitch's are.
    let master = s.origin.master_url(login);
    let text = match s.http.get(&master).send().await {
        Ok(r) if r.status().is_success() => r.text().await.unwrap_or_default(),
        _ => {
            return usher_error(
                StatusCode::NOT_FOUND,
                "transcode does not exist",
                "transcode_does_not_exist",
            );
        }
    };
    let dir = master.trim_end_matches("master.m3u8");
    let body: String = text
        .lines()
        .map(|l| {
            if l.is_empty() || l.starts_with('#') || l.contains("://") {
                format!("{l}\n")
            } else {
                format!("{dir}{l}\n")
            }
        })
        .collect();
    ([("content-type", "application/vnd.apple.mpegurl")], body).into_response()
}

async fn image(Path(_file): Path<String>) -> Response {
    ([("content-type", "image/png")], PNG).into_response()
}
