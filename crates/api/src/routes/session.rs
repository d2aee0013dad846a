//! Login, logout and "who am I".

use crate::auth::{Peer, client_info, session_cookies, set_session_cookies};
use crate::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use tapearr_core::auth::Principal;
use tapearr_core::time::Timestamp;

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub username: String,
    /// Send it back in `X-CSRF-Token` on every cookie-authenticated write (also in the `tapearr_csrf` cookie).
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    /// `session` or `api_key`.
    pub auth: String,
    pub username: Option<String>,
    pub api_key_name: Option<String>,
    pub csrf_token: Option<String>,
}

/// Log in; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 400, description = "user name or password out of bounds (nothing is stored)", body = ErrorBody),
        (status = 401, description = "wrong user name or password", body = ErrorBody),
        (status = 429, description = "`locked_out` after repeated failures, or `busy` checking other passwords; see `Retry-After`", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let session = state
        .auth
        .login(&req.username, &req.password, client_info(&headers, peer))
        .await?;
    let mut response = Json(LoginResponse {
        username: session.user.username.clone(),
        csrf_token: session.csrf_token.clone(),
        expires_at: session.expires_at,
    })
    .into_response();
    set_session_cookies(&state, &session, response.headers_mut())?;
    Ok(response)
}

/// End this login session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> ApiResult<Response> {
    if let Principal::Session { session, .. } = &p {
        state.auth.logout(&session.id).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    clear_session_cookies(&state, &mut response)?;
    Ok(response)
}

/// Expires the session and CSRF cookies in `response` (sign-out).
pub(super) fn clear_session_cookies(state: &AppState, response: &mut Response) -> ApiResult<()> {
    for c in session_cookies(
        "",
        "",
        0,
        state.config.auth.secure_cookies,
        &state.config.base_path,
    ) {
        let value = HeaderValue::from_str(&c).map_err(ApiError::internal)?;
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(())
}

/// Who is calling.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn me(Extension(p): Extension<Principal>) -> Json<Me> {
    Json(match p {
        Principal::Session { user, session } => Me {
            auth: "session".into(),
            username: Some(user.username),
            api_key_name: None,
            csrf_token: Some(session.csrf_token),
        },
        Principal::ApiKey { key } => Me {
            auth: "api_key".into(),
            username: None,
            api_key_name: Some(key.name),
            csrf_token: None,
        },
    })
}
