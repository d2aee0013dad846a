//! The archive (S10): per-channel settings for past broadcasts and clips, "archive now", and
//! what was archived.

use crate::error::{ApiJson, ApiPath, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tapearr_core::archive::ArchiveItems;
use tapearr_core::archive::model::ArchiveSettings;
use tapearr_core::streams::model::Recording;

/// A channel's archive settings (off by default).
#[utoipa::path(get, path = "/api/v1/channels/{id}/archive", tag = "channels", params(("id" = String, Path)),
    responses((status = 200, body = ArchiveSettings), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn get_settings(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ArchiveSettings>> {
    Ok(Json(state.archive.settings(&id).await?))
}

/// Replace a channel's archive settings. Limits out of range are refused (`400`), nothing stored.
#[utoipa::path(put, path = "/api/v1/channels/{id}/archive", tag = "channels", params(("id" = String, Path)),
    request_body = ArchiveSettings,
    responses((status = 200, body = ArchiveSettings), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn put_settings(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(settings): ApiJson<ArchiveSettings>,
) -> ApiResult<Json<ArchiveSettings>> {
    Ok(Json(state.archive.set_settings(&id, &settings).await?))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ArchiveRunStarted {
    /// The `archive.run` job.
    pub job_id: String,
}

/// Archive the channel now (the periodic `archive` task does every channel every 6 hours).
#[utoipa::path(post, path = "/api/v1/channels/{id}/archive/run", tag = "channels", params(("id" = String, Path)),
    responses((status = 202, body = ArchiveRunStarted), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<ArchiveRunStarted>)> {
    let job_id = state.archive.run_now(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(ArchiveRunStarted { job_id })))
}

/// The channel's archived VODs (recordings with `source: vod`, with their status) and clips.
#[utoipa::path(get, path = "/api/v1/channels/{id}/archive/items", tag = "channels", params(("id" = String, Path)),
    responses((status = 200, body = ArchiveItems), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn items(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ArchiveItems>> {
    Ok(Json(state.archive.items(&id).await?))
}

/// Download a failed VOD again: it turns `downloading` and is queued; the segments an earlier
/// attempt finished are reused. `409` for a recording that is not a failed VOD (nothing
/// changes). Archive runs never retry a failed VOD on their own.
#[utoipa::path(post, path = "/api/v1/recordings/{id}/retry", tag = "recordings", params(("id" = String, Path)),
    responses((status = 202, body = Recording), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn retry_vod(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<Recording>)> {
    let rec = state.archive.retry_vod(&id).await?;
    Ok((StatusCode::ACCEPTED, Json(rec)))
}
