//! Media-server connections (tokens write-only), the connection test and manual rescans.

use crate::error::{ApiError, ApiJson, ApiPath, ApiResult, Code, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tapearr_core::mediaserver::model::MediaServer;
use tapearr_core::mediaserver::{MediaServerError, MediaServerInput};

impl From<MediaServerError> for ApiError {
    fn from(e: MediaServerError) -> Self {
        match e {
            MediaServerError::Invalid(m) => ApiError::invalid(m),
            MediaServerError::NotFound => ApiError::not_found("media server"),
            MediaServerError::Unreachable(m) => ApiError::new(Code::UpstreamFailed, m),
            MediaServerError::SignIn(s) => s.into(),
            MediaServerError::Queue(q) => q.into(),
            MediaServerError::Storage(s) => s.into(),
        }
    }
}

/// Connections; tokens show as `***`.
#[utoipa::path(get, path = "/api/v1/media-servers", tag = "media-servers",
    responses((status = 200, body = Vec<MediaServer>), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<MediaServer>>> {
    Ok(Json(state.media_servers.list().await?))
}

/// Add a Plex, Jellyfin or Emby connection.
#[utoipa::path(post, path = "/api/v1/media-servers", tag = "media-servers", request_body = MediaServerInput,
    responses((status = 201, body = MediaServer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<MediaServerInput>,
) -> Result<(StatusCode, Json<MediaServer>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.media_servers.create(input).await?),
    ))
}

/// Replace a connection; send the token as `***` to keep it.
#[utoipa::path(put, path = "/api/v1/media-servers/{id}", tag = "media-servers", params(("id" = String, Path)),
    request_body = MediaServerInput,
    responses((status = 200, body = MediaServer), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<MediaServerInput>,
) -> ApiResult<Json<MediaServer>> {
    Ok(Json(state.media_servers.update(&id, input).await?))
}

/// Remove a connection.
#[utoipa::path(delete, path = "/api/v1/media-servers/{id}", tag = "media-servers", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.media_servers.delete(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TestedServer {
    pub name: String,
    pub version: String,
}

/// Reach the server with its token; 502 with the reason when that fails.
#[utoipa::path(post, path = "/api/v1/media-servers/{id}/test", tag = "media-servers", params(("id" = String, Path)),
    responses((status = 200, body = TestedServer), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn test(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TestedServer>> {
    let info = state.media_servers.test(&id).await?;
    Ok(Json(TestedServer {
        name: info.name,
        version: info.version,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    /// An absolute folder as Tapearr sees it; path mappings are applied per server.
    pub folder: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RefreshQueued {
    /// One `mediaserver.refresh` job per enabled server.
    pub jobs: usize,
}

/// Ask every enabled media server to rescan a folder (queued as jobs, retried on failure).
#[utoipa::path(post, path = "/api/v1/media-servers/refresh", tag = "media-servers", request_body = RefreshRequest,
    responses((status = 202, body = RefreshQueued), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<(StatusCode, Json<RefreshQueued>), ApiError> {
    let jobs = state.media_servers.request_refresh(&req.folder).await?;
    Ok((StatusCode::ACCEPTED, Json(RefreshQueued { jobs })))
}
