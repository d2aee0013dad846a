//! The signed-in user's account: password change, sessions list, signing sessions out.
//! These act on a user, so they need a login session; an API key (no user) is refused.

use crate::error::{ApiError, ApiJson, ApiPath, ApiResult, Code, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use tapearr_core::auth::model::{Session, User};
use tapearr_core::auth::{PasswordChange, Principal};
use tapearr_core::time::Timestamp;

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
    /// End every other session of this user (default: yes). This session stays.
    #[serde(default = "yes")]
    pub sign_out_other_sessions: bool,
}

fn yes() -> bool {
    true
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct PasswordChanged {
    /// How many other sessions ended.
    pub other_sessions_ended: u64,
}

/// One login session as its owner sees it (never its token).
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: String,
    pub user_agent: Option<String>,
    /// The client's address at login (the TCP peer: a reverse proxy's address behind one).
    pub address: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    /// The session making this request.
    pub current: bool,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignOutEverywhere {
    /// Keep the session making this request ("sign out other sessions").
    #[serde(default)]
    pub keep_current: bool,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionsEnded {
    pub ended: u64,
}

fn session_of(p: &Principal) -> Result<(&User, &Session), ApiError> {
    match p {
        Principal::Session { user, session } => Ok((user, session)),
        Principal::ApiKey { .. } => Err(ApiError::new(
            Code::Forbidden,
            "account settings need a signed-in session; an API key belongs to no user",
        )),
    }
}

/// Change the password (the current one is required); other sessions end unless asked not to.
#[utoipa::path(post, path = "/api/v1/account/password", tag = "auth", request_body = ChangePassword,
    responses((status = 200, body = PasswordChanged),
        (status = 400, description = "new password out of bounds (nothing changes)", body = ErrorBody),
        (status = 403, description = "`wrong_password`: the current password is wrong (nothing changes); `forbidden` for an API key", body = ErrorBody),
        (status = 429, description = "`locked_out` after repeated wrong passwords, or `busy`", body = ErrorBody)),
    security(("session" = [])))]
pub async fn change_password(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(req): ApiJson<ChangePassword>,
) -> ApiResult<Json<PasswordChanged>> {
    let (user, session) = session_of(&p)?;
    let ended = state
        .auth
        .change_password(
            user,
            &session.id,
            PasswordChange {
                current: &req.current_password,
                new: &req.new_password,
                sign_out_others: req.sign_out_other_sessions,
            },
        )
        .await?;
    Ok(Json(PasswordChanged {
        other_sessions_ended: ended,
    }))
}

/// The signed-in user's sessions, most recently used first; the caller's is marked `current`.
#[utoipa::path(get, path = "/api/v1/account/sessions", tag = "auth",
    responses((status = 200, body = Vec<SessionView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("session" = [])))]
pub async fn sessions(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> ApiResult<Json<Vec<SessionView>>> {
    let (user, current) = session_of(&p)?;
    let list = state.auth.sessions_of(user).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| SessionView {
                current: s.id == current.id,
                id: s.id,
                user_agent: s.user_agent,
                address: s.address,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
            })
            .collect(),
    ))
}

/// Sign one of the user's sessions out (the caller's own included).
#[utoipa::path(delete, path = "/api/v1/account/sessions/{id}", tag = "auth",
    params(("id" = String, Path, description = "session id")),
    responses((status = 204), (status = 404, description = "no session of this user has that id", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("session" = [])))]
pub async fn end_session(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let (user, _) = session_of(&p)?;
    state.auth.end_session(user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sign out everywhere: every session of the user ends, this one too unless `keep_current`.
/// API keys are not sessions and keep working (revoke them under API keys).
#[utoipa::path(post, path = "/api/v1/account/sessions/sign-out", tag = "auth", request_body = SignOutEverywhere,
    responses((status = 200, body = SessionsEnded), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("session" = [])))]
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(req): ApiJson<SignOutEverywhere>,
) -> ApiResult<Response> {
    let (user, session) = session_of(&p)?;
    if req.keep_current {
        let ended = state.auth.end_other_sessions(user, &session.id).await?;
        return Ok(Json(SessionsEnded { ended }).into_response());
    }
    let ended = state.auth.end_all_sessions(user).await?;
    let mut response = Json(SessionsEnded { ended }).into_response();
    super::session::clear_session_cookies(&state, &mut response)?;
    Ok(response)
}
