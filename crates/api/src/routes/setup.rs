//! First run: create the admin.

use crate::error::{ApiError, ApiJson, ApiResult, Code, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tapearr_core::auth::tokens::constant_time_eq;

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct SetupStatus {
    /// True until the admin account exists.
    pub setup_required: bool,
    /// True when `POST /api/v1/setup` needs the one-time `setup_token` printed in the server's
    /// log (the server listens beyond loopback).
    pub setup_token_required: bool,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct SetupRequest {
    /// 1 to 64 of letters, digits, `_ - . @` (stored in lower case).
    pub username: String,
    /// At least 8 characters, at most 1024 bytes.
    pub password: String,
    /// The one-time token from the server's log; required when the server listens beyond
    /// loopback (see `setup_token_required`).
    #[serde(default)]
    pub setup_token: Option<String>,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct SetupResponse {
    pub username: String,
}

/// Whether the admin still has to be created.
#[utoipa::path(get, path = "/api/v1/setup", tag = "auth",
    responses((status = 200, body = SetupStatus)))]
pub async fn status(State(state): State<AppState>) -> ApiResult<Json<SetupStatus>> {
    let setup_required = state.setup_required().await?;
    Ok(Json(SetupStatus {
        setup_required,
        setup_token_required: setup_required && state.setup_token.is_some(),
    }))
}

/// Create the admin account (first run only). A server listening beyond loopback also wants
/// the one-time `setup_token` it printed in its log.
#[utoipa::path(post, path = "/api/v1/setup", tag = "auth", request_body = SetupRequest,
    responses((status = 201, body = SetupResponse), (status = 400, body = ErrorBody),
        (status = 403, description = "`forbidden`: the setup token is missing or wrong", body = ErrorBody),
        (status = 409, description = "already set up", body = ErrorBody),
        (status = 429, description = "`busy` checking other passwords; see `Retry-After`", body = ErrorBody)))]
pub async fn create_admin(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SetupRequest>,
) -> Result<(StatusCode, Json<SetupResponse>), ApiError> {
    if let Some(expected) = &state.setup_token
        && state.setup_required().await?
    {
        let sent = req.setup_token.as_deref().unwrap_or_default();
        if !constant_time_eq(sent.trim(), expected) {
            return Err(ApiError::new(
                Code::Forbidden,
                "this server listens beyond loopback: send the one-time setup_token printed in its log",
            ));
        }
    }
    let user = state
        .auth
        .create_admin(&req.username, &req.password)
        .await?;
    tracing::info!(username = %user.username, "admin account created");
    Ok((
        StatusCode::CREATED,
        Json(SetupResponse {
            username: user.username,
        }),
    ))
}
