//! Periodic tasks: list, pause/resume, change the interval, run now.

use crate::error::{ApiError, ApiJson, ApiPath, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tapearr_core::jobs::model::{JobRecord, TaskRecord};

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    pub paused: Option<bool>,
    /// At least 10.
    pub interval_secs: Option<u64>,
}

/// Every periodic task with its last and next run.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks",
    responses((status = 200, body = Vec<TaskRecord>), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<TaskRecord>>> {
    Ok(Json(state.scheduler.list().await?))
}

/// Pause, resume or re-time a task.
#[utoipa::path(patch, path = "/api/v1/tasks/{name}", tag = "tasks", params(("name" = String, Path)),
    request_body = TaskPatch,
    responses((status = 200, body = TaskRecord), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn update(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    ApiJson(patch): ApiJson<TaskPatch>,
) -> ApiResult<Json<TaskRecord>> {
    if patch.paused.is_none() && patch.interval_secs.is_none() {
        return Err(ApiError::invalid(
            "nothing to change: send paused and/or interval_secs",
        ));
    }
    // Validate everything before changing anything.
    if let Some(secs) = patch.interval_secs
        && secs < tapearr_core::jobs::scheduler::MIN_INTERVAL.as_secs()
    {
        return Err(ApiError::invalid(format!(
            "interval_secs must be at least {}",
            tapearr_core::jobs::scheduler::MIN_INTERVAL.as_secs()
        )));
    }
    let mut task = None;
    if let Some(secs) = patch.interval_secs {
        task = Some(
            state
                .scheduler
                .set_interval(&name, Duration::from_secs(secs))
                .await?,
        );
    }
    if let Some(paused) = patch.paused {
        task = Some(state.scheduler.set_paused(&name, paused).await?);
    }
    task.map(Json).ok_or_else(|| ApiError::not_found("task"))
}

/// Run a task now (its job is queued at once).
#[utoipa::path(post, path = "/api/v1/tasks/{name}/run", tag = "tasks", params(("name" = String, Path)),
    responses((status = 201, body = JobRecord), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn run_now(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<(StatusCode, Json<JobRecord>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.scheduler.run_now(&name).await?),
    ))
}
