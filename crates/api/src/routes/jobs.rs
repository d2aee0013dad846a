//! Jobs: list, inspect, enqueue, cancel, retry.

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tapearr_core::jobs::EnqueueOptions;
use tapearr_core::jobs::model::{JobQuery, JobRecord, JobStatus};
use tapearr_core::storage::{PageRequest, Paged, SortOrder};

/// The list convention: `limit` (1–500, default 50), `offset`, `order` (`asc`/`desc` by creation),
/// and filters by field.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListParams {
    pub status: Option<JobStatus>,
    pub kind: Option<String>,
    pub task: Option<String>,
    pub order: Option<SortOrder>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct EnqueueRequest {
    /// A job kind this server knows, e.g. `system.probe`.
    pub kind: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub max_attempts: Option<u32>,
}

/// Jobs, newest first by default.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobListParams),
    responses((status = 200, body = Paged<JobRecord>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<JobListParams>,
) -> ApiResult<Json<Paged<JobRecord>>> {
    let query = JobQuery {
        status: p.status,
        kind: p.kind,
        task: p.task,
        order: p.order,
        page: PageRequest::new(p.limit, p.offset),
    };
    Ok(Json(state.queue.list(&query).await?))
}

/// One job.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobRecord), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<JobRecord>> {
    Ok(Json(state.queue.get(&id).await?))
}

/// Queue a job.
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", request_body = EnqueueRequest,
    responses((status = 201, body = JobRecord), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn enqueue(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<EnqueueRequest>,
) -> Result<(StatusCode, Json<JobRecord>), ApiError> {
    let payload = if req.payload.is_null() {
        serde_json::json!({})
    } else {
        req.payload
    };
    if !payload.is_object() {
        return Err(ApiError::invalid("payload must be a JSON object"));
    }
    let opts = EnqueueOptions {
        max_attempts: req.max_attempts.unwrap_or(3).clamp(1, 20),
        ..EnqueueOptions::default()
    };
    let job = state.queue.enqueue(&req.kind, payload, opts).await?;
    Ok((StatusCode::CREATED, Json(job)))
}

/// Cancel a queued job, or ask a running one to stop.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobRecord), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<JobRecord>> {
    Ok(Json(state.queue.cancel(&id).await?))
}

/// Queue a failed or cancelled job again.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", params(("id" = String, Path)),
    responses((status = 200, body = JobRecord), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn retry(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<JobRecord>> {
    Ok(Json(state.queue.retry(&id).await?))
}
