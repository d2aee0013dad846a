//! Recordings: list, details with gaps, stop.

use crate::error::{ApiError, ApiPath, ApiQuery, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tapearr_core::storage::{PageRequest, Paged, RecordingQuery};
use tapearr_core::streams::model::{Recording, RecordingGap, RecordingStatus};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub channel_id: Option<String>,
    /// `recording`, `ended` or `failed`.
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Recordings, newest first.
#[utoipa::path(get, path = "/api/v1/recordings", tag = "recordings", params(ListQuery),
    responses((status = 200, body = Paged<Recording>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Paged<Recording>>> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(RecordingStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(format!("status {s:?}: use recording, ended or failed"))
        })?),
    };
    let query = RecordingQuery {
        channel_id: q.channel_id.filter(|c| !c.is_empty()),
        status,
        page: PageRequest::new(q.limit, q.offset),
        ..Default::default()
    };
    Ok(Json(state.streams.recordings(&query).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordingDetail {
    #[serde(flatten)]
    pub recording: Recording,
    pub gaps: Vec<RecordingGap>,
}

#[utoipa::path(get, path = "/api/v1/recordings/{id}", tag = "recordings", params(("id" = String, Path)),
    responses((status = 200, body = RecordingDetail), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RecordingDetail>> {
    let (recording, gaps) = state.streams.recording(&id).await?;
    Ok(Json(RecordingDetail { recording, gaps }))
}

/// Stop a running recording; this broadcast is not recorded again automatically.
#[utoipa::path(post, path = "/api/v1/recordings/{id}/stop", tag = "recordings", params(("id" = String, Path)),
    responses((status = 200, body = Recording), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn stop(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Recording>> {
    Ok(Json(state.streams.stop_recording(&id).await?))
}
