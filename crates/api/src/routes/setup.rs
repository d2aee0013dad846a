//! First run: create the admin.

use crate::error::{ApiError, ApiJson, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Serialize, utoipa::ToSchema)]
pub struct SetupStatus {
    /// True until the admin account exists.
    pub setup_required: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SetupRequest {
    /// 1 to 64 of letters, digits, `_ - . @` (stored in lower case).
    pub username: String,
    /// At least 8 characters, at most 1024 bytes.
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SetupResponse {
    pub username: String,
}

/// Whether the admin still has to be created.
#[utoipa::path(get, path = "/api/v1/setup", tag = "auth",
    responses((status = 200, body = SetupStatus)))]
pub async fn status(State(state): State<AppState>) -> ApiResult<Json<SetupStatus>> {
    Ok(Json(SetupStatus {
        setup_required: state.setup_required().await?,
    }))
}

/// Create the admin account (first run only).
#[utoipa::path(post, path = "/api/v1/setup", tag = "auth", request_body = SetupRequest,
    responses((status = 201, body = SetupResponse), (status = 400, body = ErrorBody),
        (status = 409, description = "already set up", body = ErrorBody),
        (status = 429, description = "`busy` checking other passwords; see `Retry-After`", body = ErrorBody)))]
pub async fn create_admin(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SetupRequest>,
) -> Result<(StatusCode, Json<SetupResponse>), ApiError> {
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
