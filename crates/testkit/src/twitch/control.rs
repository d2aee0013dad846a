//! Control routes for browser tests driven from Node: the same scripting as the Rust API.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::wire::error;
use super::{ControlError, Shared, oauth, script};

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_control/users", post(add_user))
        .route("/_control/live/{login}", post(live))
        .route("/_control/channel/{login}", post(channel))
        .route("/_control/offline/{login}", post(offline))
        .route("/_control/follow/{user}/{channel}", post(follow))
        .route("/_control/token/{login}", post(token))
        .route("/_control/web-token/{login}", post(web_token))
        .route(
            "/_control/device/{user_code}/approve/{login}",
            post(approve_device),
        )
        .route("/_control/device/{user_code}/deny", post(deny_device))
        .route("/_control/user-token-ttl/{secs}", post(user_token_ttl))
        .route("/_control/device-code/{ttl}/{interval}", post(device_code))
        .route("/_control/chat/{login}", post(chat_say))
        .route("/_control/videos/{login}", post(add_video))
        .route(
            "/_control/vod-refuse/{video}/{segment}",
            post(refuse_vod_segment),
        )
        .route("/_control/vod-accept", post(accept_vod_segments))
}

/// `{"title": "…", "segments": 6, "age_secs": 3600}`: a past broadcast of `login` (test
/// media); answers `{"id": …}`.
#[derive(Deserialize)]
struct VideoBody {
    title: String,
    segments: u32,
    #[serde(default)]
    age_secs: u64,
}

async fn add_video(
    State(s): State<Arc<Shared>>,
    Path(login): Path<String>,
    Json(body): Json<VideoBody>,
) -> Response {
    let age = std::time::Duration::from_secs(body.age_secs);
    let spec = super::VideoSpec::archive(&body.title, age, body.segments);
    let params = crate::hls_origin::MediaParams::test(crate::hls_origin::Container::Ts);
    match script::add_video(&s, &login, spec, params).await {
        Ok(id) => Json(json!({ "id": id })).into_response(),
        Err(e) => failed(e),
    }
}

/// The segment answers 403 until `/_control/vod-accept`.
async fn refuse_vod_segment(
    State(s): State<Arc<Shared>>,
    Path((video, segment)): Path<(String, u32)>,
) -> Response {
    s.vods().refuse.insert((video, segment));
    StatusCode::NO_CONTENT.into_response()
}

async fn accept_vod_segments(State(s): State<Arc<Shared>>) -> Response {
    s.vods().refuse.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `{"user": "foo", "text": "hello", "emotes": "25:0-4"}`: relays a chat message (lost when
/// nobody is joined, as on Twitch); answers `{"id": …}`.
#[derive(Deserialize)]
struct ChatBody {
    user: String,
    text: String,
    #[serde(default)]
    emotes: String,
}

async fn chat_say(
    State(s): State<Arc<Shared>>,
    Path(login): Path<String>,
    Json(body): Json<ChatBody>,
) -> Response {
    let room_id = s
        .world()
        .user_by_login(&login)
        .map(|u| u.id.clone())
        .unwrap_or_default();
    let message = super::ChatMessage::new(&body.user, &body.text).emotes(&body.emotes);
    let id = s.chat.say(&login, &room_id, &message);
    Json(json!({"id": id})).into_response()
}

async fn approve_device(
    State(s): State<Arc<Shared>>,
    Path((code, login)): Path<(String, String)>,
) -> Response {
    done(oauth::approve_device(&s, &code, &login))
}

async fn deny_device(State(s): State<Arc<Shared>>, Path(code): Path<String>) -> Response {
    done(oauth::deny_device(&s, &code))
}

async fn user_token_ttl(State(s): State<Arc<Shared>>, Path(secs): Path<u64>) -> Response {
    s.world().oauth.user_token_ttl = std::time::Duration::from_secs(secs);
    StatusCode::NO_CONTENT.into_response()
}

async fn device_code(
    State(s): State<Arc<Shared>>,
    Path((ttl, interval)): Path<(u64, u64)>,
) -> Response {
    let mut w = s.world();
    w.oauth.device_ttl = std::time::Duration::from_secs(ttl);
    w.oauth.device_interval = std::time::Duration::from_secs(interval);
    StatusCode::NO_CONTENT.into_response()
}

fn done(r: Result<(), ControlError>) -> Response {
    match r {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => failed(e),
    }
}

#[derive(Deserialize)]
struct NewUser {
    login: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize, Default)]
struct Info {
    #[serde(default)]
    title: String,
    #[serde(default)]
    game: String,
}

fn failed(e: ControlError) -> Response {
    let status = match e {
        ControlError::UnknownUser(_)
        | ControlError::UnknownSubscription(_)
        | ControlError::UnknownDeviceCode(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, &e.to_string())
}

async fn add_user(State(s): State<Arc<Shared>>, Json(u): Json<NewUser>) -> Response {
    let display = u.display_name.unwrap_or_else(|| u.login.clone());
    let id = s.world().add_user(&u.login, &display);
    Json(json!({ "id": id })).into_response()
}

async fn live(
    State(s): State<Arc<Shared>>,
    Path(login): Path<String>,
    body: Option<Json<Info>>,
) -> Response {
    let info = body.map(|Json(i)| i).unwrap_or_default();
    match script::go_live(&s, &login, &info.title, &info.game).await {
        Ok(id) => Json(json!({ "stream_id": id })).into_response(),
        Err(e) => failed(e),
    }
}

async fn channel(
    State(s): State<Arc<Shared>>,
    Path(login): Path<String>,
    body: Option<Json<Info>>,
) -> Response {
    let info = body.map(|Json(i)| i).unwrap_or_default();
    match script::set_channel(&s, &login, &info.title, &info.game) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => failed(e),
    }
}

async fn offline(State(s): State<Arc<Shared>>, Path(login): Path<String>) -> Response {
    match script::go_offline(&s, &login) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => failed(e),
    }
}

async fn follow(
    State(s): State<Arc<Shared>>,
    Path((user, channel)): Path<(String, String)>,
) -> Response {
    match script::follow(&s, &user, &channel) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => failed(e),
    }
}

async fn token(State(s): State<Arc<Shared>>, Path(login): Path<String>) -> Response {
    issued(script::issue_user_token(&s, &login))
}

async fn web_token(State(s): State<Arc<Shared>>, Path(login): Path<String>) -> Response {
    issued(script::issue_web_token(&s, &login))
}

fn issued(token: Result<String, ControlError>) -> Response {
    match token {
        Ok(t) => Json(json!({ "token": t })).into_response(),
        Err(e) => failed(e),
    }
}
