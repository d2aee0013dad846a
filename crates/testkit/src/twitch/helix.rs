//! Helix routes behind one gate that does what Twitch does to every call: check Client-Id
//! and the bearer token, take a point (429 when none are left), put the `Ratelimit-*`
//! headers on the answer, and (when told to) fail with 500.

use std::sync::Arc;

use axum::extract::{Extension, Query, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Shared;
use super::eventsub;
use super::wire::{error, page, pagination};

/// Who is calling.
#[derive(Clone)]
pub enum Caller {
    App,
    User(String),
}

type Params = Query<Vec<(String, String)>>;

pub fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/users", get(users))
        .route("/streams", get(streams))
        .route("/channels", get(channels))
        .route("/channels/followed", get(followed))
        .route("/games", get(games))
        .route("/videos", get(videos))
        .route("/clips", get(clips))
        .route(
            "/eventsub/subscriptions",
            get(eventsub::list)
                .post(eventsub::create)
                .delete(eventsub::delete),
        )
        .layer(middleware::from_fn_with_state(shared, gate))
}

async fn gate(State(s): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let header = |req: &Request, name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let client_id = header(&req, "client-id");
    let token = header(&req, "authorization");
    let token = token.strip_prefix("Bearer ").unwrap_or_default();
    let verdict = s.limits.take(&client_id);
    let (caller, failing) = lookup(&s, token);
    let mut response = if client_id != s.cfg.client_id {
        error(
            StatusCode::UNAUTHORIZED,
            "Client ID and OAuth token do not match",
        )
    } else if let Some(caller) = caller {
        if !verdict.allowed {
            error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
        } else if failing {
            error(StatusCode::INTERNAL_SERVER_ERROR, "")
        } else {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
    } else {
        error(StatusCode::UNAUTHORIZED, "Invalid OAuth token")
    };
    let h = response.headers_mut();
    h.insert("ratelimit-limit", HeaderValue::from(verdict.limit));
    h.insert("ratelimit-remaining", HeaderValue::from(verdict.remaining));
    h.insert("ratelimit-reset", HeaderValue::from(verdict.reset));
    response
}

/// Whose token this is, and whether Helix is told to fail (one short lock, never held
/// across an await).
fn lookup(s: &Shared, token: &str) -> (Option<Caller>, bool) {
    let w = s.world();
    let caller = if w.app_tokens.contains(token) {
        Some(Caller::App)
    } else {
        w.live_user_token(token)
            .map(|t| Caller::User(t.user_id.clone()))
    };
    (caller, w.helix_failing)
}

fn values<'a>(q: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    q.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn one<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    values(q, key).into_iter().next()
}

fn too_many(key: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        &format!("The parameter \"{key}\" may only be specified up to 100 times."),
    )
}

/// `first`: default 20, 1..=100, capped by the fake's page size.
fn page_size(s: &Shared, q: &[(String, String)]) -> Result<usize, Response> {
    let first = match one(q, "first") {
        None => 20,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| error(StatusCode::BAD_REQUEST, "Invalid value for 'first'"))?,
    };
    Ok(first.min(s.world().max_page))
}

fn list(data: Vec<Value>, next: Option<String>) -> Response {
    Json(json!({"data": data, "pagination": pagination(next)})).into_response()
}

async fn users(
    State(s): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Query(q): Params,
) -> Response {
    let (ids, logins) = (values(&q, "id"), values(&q, "login"));
    if ids.len() + logins.len() > 100 {
        return too_many("id");
    }
    let w = s.world();
    let picked: Vec<Value> = if ids.is_empty() && logins.is_empty() {
        match caller {
            Caller::User(id) => w
                .user_by_id(&id)
                .map(|u| w.user_json(u, &s.base))
                .into_iter()
                .collect(),
            Caller::App => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Must provide an ID, Login or OAuth Token",
                );
            }
        }
    } else {
        w.users
            .iter()
            .filter(|u| {
                ids.contains(&u.id.as_str())
                    || logins.iter().any(|l| l.eq_ignore_ascii_case(&u.login))
            })
            .map(|u| w.user_json(u, &s.base))
            .collect()
    };
    Json(json!({ "data": picked })).into_response()
}

async fn streams(State(s): State<Arc<Shared>>, Query(q): Params) -> Response {
    let (ids, logins) = (values(&q, "user_id"), values(&q, "user_login"));
    if ids.len() > 100 {
        return too_many("user_id");
    }
    if logins.len() > 100 {
        return too_many("user_login");
    }
    let size = match page_size(&s, &q) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let w = s.world();
    let live: Vec<Value> = w
        .users
        .iter()
        .filter(|u| {
            (ids.is_empty() && logins.is_empty())
                || ids.contains(&u.id.as_str())
                || logins.iter().any(|l| l.eq_ignore_ascii_case(&u.login))
        })
        .filter_map(|u| w.streams.get(&u.id).map(|st| w.stream_json(u, st, &s.base)))
        .collect();
    match page(&live, size, one(&q, "after")) {
        Ok((data, next)) => list(data, next),
        Err(r) => r,
    }
}

async fn channels(State(s): State<Arc<Shared>>, Query(q): Params) -> Response {
    let ids = values(&q, "broadcaster_id");
    if ids.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "Missing required parameter \"broadcaster_id\"",
        );
    }
    if ids.len() > 100 {
        return too_many("broadcaster_id");
    }
    let w = s.world();
    let data: Vec<Value> = w
        .users
        .iter()
        .filter(|u| ids.contains(&u.id.as_str()))
        .map(|u| w.channel_json(u))
        .collect();
    Json(json!({ "data": data })).into_response()
}

async fn games(State(s): State<Arc<Shared>>, Query(q): Params) -> Response {
    let (ids, names) = (values(&q, "id"), values(&q, "name"));
    if ids.len() + names.len() > 100 {
        return too_many("id");
    }
    let w = s.world();
    let data: Vec<Value> = w
        .games
        .iter()
        .filter(|(id, name)| ids.contains(&id.as_str()) || names.contains(&name.as_str()))
        .map(|(id, name)| super::state::World::game_json(id, name, &s.base))
        .collect();
    Json(json!({ "data": data })).into_response()
}

async fn followed(
    State(s): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Query(q): Params,
) -> Response {
    let Caller::User(token_user) = caller else {
        return error(StatusCode::UNAUTHORIZED, "Missing User OAUTH Token");
    };
    let user_id = one(&q, "user_id").unwrap_or_default();
    if user_id != token_user {
        return error(
            StatusCode::UNAUTHORIZED,
            "The ID in user_id must match the user ID found in the request's OAuth token.",
        );
    }
    let size = match page_size(&s, &q) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let w = s.world();
    let all: Vec<Value> = w
        .follows
        .iter()
        .rev() // newest first, like Twitch
        .filter(|(u, _, _)| u == user_id)
        .filter_map(|(_, b, at)| {
            w.user_by_id(b).map(|bu| {
                json!({"broadcaster_id": bu.id, "broadcaster_login": bu.login,
                       "broadcaster_name": bu.display_name, "followed_at": at})
            })
        })
        .collect();
    match page(&all, size, one(&q, "after")) {
        Ok((data, next)) => {
            Json(json!({"data": data, "total": all.len(), "pagination": pagination(next)}))
                .into_response()
        }
        Err(r) => r,
    }
}

/// `/videos?user_id=…&type=all|archive|highlight|upload` (or `id=…`), newest first.
async fn videos(State(s): State<Arc<Shared>>, Query(q): Params) -> Response {
    let ids = values(&q, "id");
    let user_id = one(&q, "user_id");
    if ids.is_empty() && user_id.is_none() && one(&q, "game_id").is_none() {
        return error(
            StatusCode::BAD_REQUEST,
            "Missing required parameter \"id\", \"user_id\" or \"game_id\"",
        );
    }
    let kind = one(&q, "type").unwrap_or("all");
    if !["all", "archive", "highlight", "upload"].contains(&kind) {
        return error(StatusCode::BAD_REQUEST, "Invalid value for 'type'");
    }
    let size = match page_size(&s, &q) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let names: Vec<(String, String, String)> = s
        .world()
        .users
        .iter()
        .map(|u| (u.id.clone(), u.login.clone(), u.display_name.clone()))
        .collect();
    let mut listed: Vec<super::vod::Video> = s
        .vods()
        .videos
        .iter()
        .filter(|v| ids.is_empty() || ids.contains(&v.id.as_str()))
        .filter(|v| user_id.is_none_or(|u| v.user_id == u))
        .filter(|v| kind == "all" || v.spec.kind == kind)
        .cloned()
        .collect();
    listed.sort_by_key(|v| std::cmp::Reverse(v.spec.created_at));
    let data: Vec<Value> = listed
        .iter()
        .map(|v| {
            let (login, name) = names
                .iter()
                .find(|(id, _, _)| *id == v.user_id)
                .map(|(_, l, n)| (l.as_str(), n.as_str()))
                .unwrap_or(("", ""));
            super::vod::video_json(v, login, name, &s.base)
        })
        .collect();
    match page(&data, size, one(&q, "after")) {
        Ok((data, next)) => list(data, next),
        Err(r) => r,
    }
}

/// `/clips?broadcaster_id=…&started_at=…&ended_at=…`, most viewed first.
async fn clips(State(s): State<Arc<Shared>>, Query(q): Params) -> Response {
    let Some(broadcaster) = one(&q, "broadcaster_id") else {
        return error(
            StatusCode::BAD_REQUEST,
            "Missing required parameter \"broadcaster_id\", \"game_id\" or \"id\"",
        );
    };
    let time = |k: &str| match one(&q, k) {
        None => Ok(None),
        Some(v) => tapearr_time(v)
            .map(Some)
            .ok_or_else(|| error(StatusCode::BAD_REQUEST, &format!("Invalid value for '{k}'"))),
    };
    let (from, to) = match (time("started_at"), time("ended_at")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let size = match page_size(&s, &q) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let (login, name) = s
        .world()
        .user_by_id(broadcaster)
        .map(|u| (u.login.clone(), u.display_name.clone()))
        .unwrap_or_default();
    let mut listed: Vec<super::vod::Clip> = s
        .vods()
        .clips
        .iter()
        .filter(|c| c.broadcaster_id == broadcaster)
        .filter(|c| from.is_none_or(|f| c.created_at >= f))
        .filter(|c| to.is_none_or(|t| c.created_at < t))
        .cloned()
        .collect();
    listed.sort_by_key(|c| std::cmp::Reverse(c.view_count));
    let data: Vec<Value> = listed
        .iter()
        .map(|c| super::vod::clip_json(c, &login, &name, &s.base))
        .collect();
    match page(&data, size, one(&q, "after")) {
        Ok((data, next)) => list(data, next),
        Err(r) => r,
    }
}

/// An RFC 3339 time as Helix takes it.
fn tapearr_time(v: &str) -> Option<std::time::SystemTime> {
    crate::hls_origin::time_fmt::parse_rfc3339(v)
}
