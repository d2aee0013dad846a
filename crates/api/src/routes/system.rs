//! System status and tool updates.

use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tapearr_core::jobs::EnqueueOptions;
use tapearr_core::jobs::model::JobRecord;
use tapearr_core::system::{SystemStatus, TOOLS_UPDATE_JOB};
use tapearr_core::tools::ToolStatus;

/// Version, database, tools and free space per library root.
#[utoipa::path(get, path = "/api/v1/system/status", tag = "system",
    responses((status = 200, body = SystemStatus), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn status(State(state): State<AppState>) -> Json<SystemStatus> {
    Json(state.system.status().await)
}

/// The external tools with their versions and paths.
#[utoipa::path(get, path = "/api/v1/system/tools", tag = "system",
    responses((status = 200, body = Vec<ToolStatus>), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn tools(State(state): State<AppState>) -> Json<Vec<ToolStatus>> {
    Json(state.system.tools().await)
}

/// Update yt-dlp, streamlink and apprise in the tools virtualenv (runs as a job).
#[utoipa::path(post, path = "/api/v1/system/tools/update", tag = "system",
    responses((status = 202, body = JobRecord), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn update_tools(
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<JobRecord>), ApiError> {
    let job = state
        .queue
        .enqueue(
            TOOLS_UPDATE_JOB,
            serde_json::json!({}),
            EnqueueOptions {
                max_attempts: 1,
                ..EnqueueOptions::default()
            },
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}
