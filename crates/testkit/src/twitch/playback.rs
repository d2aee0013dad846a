//! The GQL `PlaybackAccessToken` query, usher (the signed master playlist), the media
//! playlists behind it ("video-weaver"), and the images Helix points at.
//!
//! Like Twitch's, the playback token expires ([`FakeTwitch::set_playback_token_ttl`]): usher
//! and the media playlists signed with it answer 403 from then on, while segments stay
//! fetchable from the origin. A viewer with Turbo or a subscription
//! ([`FakeTwitch::grant_ad_free`]) gets media playlists without stitched ads. Usher offers
//! HEVC/AV1 renditions only to clients whose `supported_codecs` name them.
//!
//! [`FakeTwitch::set_playback_token_ttl`]: super::FakeTwitch::set_playback_token_ttl
//! [`FakeTwitch::grant_ad_free`]: super::FakeTwitch::grant_ad_free

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
/// The persisted query of a clip's signed video URLs.
pub const CLIP_QUERY_HASH: &str =
    "36b89d2507fce29e5ca551df756d27c1cfe079e2609642b4390aa4c35796eb11";

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/gql", post(gql))
        .route("/api/v2/channel/hls/{file}", get(usher))
        .route("/weaver/{login}/{variant}/index.m3u8", get(weaver))
        .route("/img/{file}", get(image))
}

/// Twitch's playback signatures are 40 hex characters.
pub(crate) fn sign(s: &Shared, token: &str) -> String {
    hex::encode(hmac(s.playback_key.as_bytes(), &[token.as_bytes()]))[..40].to_owned()
}

async fn gql(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
    s.playback().gql_requests += 1;
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
        Some(t) => match s.world().live_user_token(t) {
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
    super::video_gql::hold(&s, &v).await;
    let mut cut = false;
    let mut one = |op: &Value| match super::video_gql::answer(&s, op) {
        Some(a) => {
            cut |= a.cut;
            a.body
        }
        None => answer(&s, op, viewer.as_deref()),
    };
    // The web player batches queries in an array; answer in kind.
    let out = match v {
        Value::Array(ops) => Value::Array(ops.iter().map(&mut one).collect()),
        op => one(&op),
    };
    if cut {
        return super::video_gql::cut_response(out.to_string().into_bytes());
    }
    Json(out).into_response()
}

fn answer(s: &Shared, op: &Value, viewer: Option<&str>) -> Value {
    let name = op.get("operationName").and_then(Value::as_str);
    let hash = op
        .pointer("/extensions/persistedQuery/sha256Hash")
        .and_then(Value::as_str);
    if name == Some("VideoAccessToken_Clip") && hash == Some(CLIP_QUERY_HASH) {
        let slug = op
            .pointer("/variables/slug")
            .and_then(Value::as_str)
            .unwrap_or("");
        return json!({"data": {"clip": super::vod::clip_token(s, slug)}});
    }
    if name != Some("PlaybackAccessToken") || hash != Some(QUERY_HASH) {
        return json!({"errors": [{"message": "PersistedQueryNotFound"}]});
    }
    if op.pointer("/variables/isVod").and_then(Value::as_bool) == Some(true) {
        let vod_id = op
            .pointer("/variables/vodID")
            .and_then(Value::as_str)
            .unwrap_or("");
        return json!({
            "data": {"videoPlaybackAccessToken": super::vod::vod_token(s, vod_id, viewer)},
            "extensions": {"durationMilliseconds": 3, "operationName": "PlaybackAccessToken"},
        });
    }
    let login = op
        .pointer("/variables/login")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (ttl, ad_free) = {
        let mut p = s.playback();
        p.tokens_issued += 1;
        (
            p.token_ttl,
            viewer.is_some_and(|v| p.ad_free_viewers.contains(v)),
        )
    };
    let w = s.world();
    let token = w
        .user_by_login(login)
        .filter(|u| w.streams.contains_key(&u.id))
        .map(|u| {
            let value = json!({
                "adblock": false, "authorization": {"forbidden": false, "reason": ""},
                "blackout_enabled": false, "channel": u.login, "channel_id": u.id.parse::<u64>().unwrap_or(0),
                "expires": unix_secs(SystemTime::now() + ttl), "user_id": viewer,
                "turbo": ad_free, "subscriber": false, "hide_ads": ad_free, "show_ads": !ad_free,
                "server_ads": !ad_free, "version": 2,
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
pub(crate) fn usher_error(status: StatusCode, message: &str, code: &str) -> Response {
    (
        status,
        Json(json!([{"url": "", "error": message, "type": "error", "error_code": code}])),
    )
        .into_response()
}

async fn usher(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        q.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    note_authorization(&s, &headers);
    let Some(login) = file.strip_suffix(".m3u8") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (sig, token) = (get("sig"), get("token"));
    if let Err(refusal) = check_token(&s, login, sig, token) {
        return refusal;
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
    let supported: Vec<&str> = get("supported_codecs").split(',').collect();
    let signed = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("sig", sig)
        .append_pair("token", token)
        .finish();
    let weaver = format!("{}/weaver/{login}/", s.base);
    let mut body = String::new();
    // A variant is `#EXT-X-MEDIA`, `#EXT-X-STREAM-INF` and its URI: keep or drop it whole.
    let mut pending = String::new();
    let mut keep = true;
    for line in text.lines() {
        if line.starts_with("#EXT-X-STREAM-INF") {
            keep = offered(line, &supported);
        }
        if line.is_empty() || line.starts_with('#') {
            if line.starts_with("#EXT-X-MEDIA:") || line.starts_with("#EXT-X-STREAM-INF") {
                pending.push_str(line);
                pending.push('\n');
            } else {
                body.push_str(line);
                body.push('\n');
            }
            continue;
        }
        // `720p/index.m3u8` → the weaver's signed, absolute URL, as Twitch's are.
        if keep {
            body.push_str(&pending);
            body.push_str(&format!("{weaver}{line}?{signed}\n"));
        }
        pending.clear();
        keep = true;
    }
    ([("content-type", "application/vnd.apple.mpegurl")], body).into_response()
}

/// Counts playlist requests that carry an `Authorization` header: the user's token belongs
/// on the GQL request only.
fn note_authorization(s: &Shared, headers: &HeaderMap) {
    if headers.contains_key("authorization") {
        s.playback().authorized_playlist_requests += 1;
    }
}

/// Whether usher offers a variant (its `#EXT-X-STREAM-INF` line) to a client that supports
/// `supported` codecs: H.264 always, HEVC only for `h265`/`hevc`, AV1 only for `av1`.
fn offered(stream_inf: &str, supported: &[&str]) -> bool {
    let codecs = stream_inf
        .split("CODECS=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("");
    codecs.split(',').all(|c| {
        if c.starts_with("hvc1") || c.starts_with("hev1") {
            supported.iter().any(|s| *s == "h265" || *s == "hevc")
        } else if c.starts_with("av01") {
            supported.contains(&"av1")
        } else {
            true
        }
    })
}

/// The claims of a playback token that is genuine, for `login`, and not expired; otherwise
/// usher's 403.
fn check_token(s: &Shared, login: &str, sig: &str, token: &str) -> Result<Value, Response> {
    let claims = serde_json::from_str::<Value>(token).unwrap_or(Value::Null);
    let channel = claims.get("channel").and_then(Value::as_str);
    if sig.is_empty() || sig != sign(s, token) || channel != Some(login) {
        return Err(usher_error(
            StatusCode::FORBIDDEN,
            "Unauthorized",
            "unauthorized_entitlements",
        ));
    }
    let expires = claims.get("expires").and_then(Value::as_u64).unwrap_or(0);
    if unix_secs(SystemTime::now()) >= expires {
        s.playback().expired_refusals += 1;
        return Err(usher_error(
            StatusCode::FORBIDDEN,
            "Token has expired",
            "token_expired",
        ));
    }
    Ok(claims)
}

/// A media playlist, signed with the playback token like the master that listed it: the
/// origin's, with absolute segment URLs (segments are fetched from the origin directly, as
/// Twitch's come from its CDN), without ads for a token that hides them.
async fn weaver(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((login, variant)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        q.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    s.playback().media_playlist_requests += 1;
    note_authorization(&s, &headers);
    let claims = match check_token(&s, &login, get("sig"), get("token")) {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
    let ad_free = claims.get("hide_ads").and_then(Value::as_bool) == Some(true);
    let media = s.origin.media_url(&login, &variant);
    let url = if ad_free {
        format!("{media}?ad_free=1")
    } else {
        media.clone()
    };
    let (status, text) = match s.http.get(&url).send().await {
        Ok(r) => (r.status(), r.text().await.unwrap_or_default()),
        Err(_) => (reqwest::StatusCode::BAD_GATEWAY, String::new()),
    };
    if !status.is_success() {
        return StatusCode::from_u16(status.as_u16())
            .unwrap_or(StatusCode::BAD_GATEWAY)
            .into_response();
    }
    let dir = media.trim_end_matches("index.m3u8");
    let body: String = text
        .lines()
        .map(|l| {
            if let Some(prefetch) = l.strip_prefix("#EXT-X-TWITCH-PREFETCH:") {
                format!("#EXT-X-TWITCH-PREFETCH:{dir}{prefetch}\n")
            } else if l.starts_with("#EXT-X-MAP:") {
                format!("{}\n", l.replace("URI=\"", &format!("URI=\"{dir}")))
            } else if l.is_empty() || l.starts_with('#') {
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
