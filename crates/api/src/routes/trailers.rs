//! Trailers: Radarr/Sonarr/Plex connections, profiles, the media list and item pages, manual
//! actions, the preview and "run now". API keys are write-only (`***`).

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, Code, ErrorBody};
use crate::ranged;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tapearr_core::trailers::download::politeness::HostPause;
use tapearr_core::trailers::model::{Connection, MediaItem, MediaQuery, Profile, Slot};
use tapearr_core::trailers::service::webhook::{WebhookInfo, WebhookReply};
use tapearr_core::trailers::{
    BulkRequest, ConnectionInput, ConnectionTest, ImageKind, MediaDetail, MediaPage, MediaPatch,
    PlanEntry, ProfileInput, RootFolderView, Scored, TrailerError,
};

impl From<TrailerError> for ApiError {
    fn from(e: TrailerError) -> Self {
        match e {
            TrailerError::Invalid(m) => ApiError::invalid(m),
            TrailerError::NotFound(what) => ApiError::not_found(what),
            TrailerError::Conflict(m) => ApiError::new(Code::Conflict, m),
            TrailerError::Unauthorized => ApiError::unauthorized(),
            TrailerError::Upstream(m) => ApiError::new(Code::UpstreamFailed, m),
            TrailerError::Internal(m) => ApiError::internal(m),
            TrailerError::Cancelled => {
                ApiError::new(Code::Unavailable, "stopped before it finished")
            }
            TrailerError::Queue(q) => q.into(),
            TrailerError::Storage(s) => s.into(),
        }
    }
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobQueued {
    pub job_id: String,
}

fn queued(job_id: String) -> (StatusCode, Json<JobQueued>) {
    (StatusCode::ACCEPTED, Json(JobQueued { job_id }))
}

/// Radarr and Sonarr connections; API keys show as `***`.
#[utoipa::path(get, path = "/api/v1/trailers/connections", tag = "trailers",
    responses((status = 200, body = Vec<Connection>), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list_connections(State(state): State<AppState>) -> ApiResult<Json<Vec<Connection>>> {
    Ok(Json(state.trailers.connections().await?))
}

/// Add a connection; it is tested first (502 with the reason when the Arr cannot be used).
#[utoipa::path(post, path = "/api/v1/trailers/connections", tag = "trailers", request_body = ConnectionInput,
    responses((status = 201, body = Connection), (status = 400, body = ErrorBody), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn create_connection(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ConnectionInput>,
) -> Result<(StatusCode, Json<Connection>), ApiError> {
    let conn = state.trailers.create_connection(input).await?;
    // The library starts filling at once.
    if let Err(e) = state.trailers.queue_sync(&conn.id).await {
        tracing::warn!(error = %e, "first sync not queued");
    }
    Ok((StatusCode::CREATED, Json(conn)))
}

#[utoipa::path(get, path = "/api/v1/trailers/connections/{id}", tag = "trailers", params(("id" = String, Path)),
    responses((status = 200, body = Connection), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn get_connection(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Connection>> {
    Ok(Json(state.trailers.connection(&id).await?))
}

/// Replace a connection; send the API key as `***` to keep it.
#[utoipa::path(put, path = "/api/v1/trailers/connections/{id}", tag = "trailers", params(("id" = String, Path)),
    request_body = ConnectionInput,
    responses((status = 200, body = Connection), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn update_connection(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ConnectionInput>,
) -> ApiResult<Json<Connection>> {
    Ok(Json(state.trailers.update_connection(&id, input).await?))
}

/// Remove a connection with its media and records; trailer files stay on disk.
#[utoipa::path(delete, path = "/api/v1/trailers/connections/{id}", tag = "trailers", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn delete_connection(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.trailers.delete_connection(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Test connection settings before saving them.
#[utoipa::path(post, path = "/api/v1/trailers/connections/test", tag = "trailers", request_body = ConnectionInput,
    responses((status = 200, body = ConnectionTest), (status = 400, body = ErrorBody), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn test_input(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ConnectionInput>,
) -> ApiResult<Json<ConnectionTest>> {
    Ok(Json(state.trailers.test_input(&input).await?))
}

/// Test a saved connection.
#[utoipa::path(post, path = "/api/v1/trailers/connections/{id}/test", tag = "trailers", params(("id" = String, Path)),
    responses((status = 200, body = ConnectionTest), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn test_connection(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ConnectionTest>> {
    Ok(Json(state.trailers.test_connection(&id).await?))
}

/// The Arr's root folders, where Tapearr sees them and whether trailers can go there.
#[utoipa::path(get, path = "/api/v1/trailers/connections/{id}/rootfolders", tag = "trailers", params(("id" = String, Path)),
    responses((status = 200, body = Vec<RootFolderView>), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn root_folders(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<RootFolderView>>> {
    Ok(Json(state.trailers.root_folders(&id).await?))
}

/// Sync the connection's library now (a job).
#[utoipa::path(post, path = "/api/v1/trailers/connections/{id}/sync", tag = "trailers", params(("id" = String, Path)),
    responses((status = 202, body = JobQueued), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn sync_connection(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<JobQueued>), ApiError> {
    Ok(queued(state.trailers.queue_sync(&id).await?))
}

/// The connection's webhook path (with its secret) to paste into Radarr or Sonarr, and the
/// events to tick there.
#[utoipa::path(get, path = "/api/v1/trailers/connections/{id}/webhook", tag = "trailers", params(("id" = String, Path)),
    responses((status = 200, body = WebhookInfo), (status = 400, body = ErrorBody, description = "a Plex connection"), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn connection_webhook(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<WebhookInfo>> {
    Ok(Json(state.trailers.webhook_info(&id).await?))
}

/// Radarr's or Sonarr's webhook (no login: the secret in the path is the credential). On
/// Import, On Rename and On Movie Added / On Series Add queue that item's trailers; a delete
/// queues a sync; Test and other events change nothing.
#[utoipa::path(post, path = "/api/v1/trailers/webhooks/{id}/{token}", tag = "trailers",
    params(("id" = String, Path), ("token" = String, Path)),
    request_body(content = String, content_type = "application/json", description = "the Arr's webhook body"),
    responses((status = 200, body = WebhookReply), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody, description = "wrong secret or connection")))]
pub async fn arr_webhook(
    State(state): State<AppState>,
    ApiPath((id, token)): ApiPath<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult<Json<WebhookReply>> {
    Ok(Json(state.trailers.arr_webhook(&id, &token, &body).await?))
}

/// Trailer profiles, higher priority first.
#[utoipa::path(get, path = "/api/v1/trailers/profiles", tag = "trailers",
    responses((status = 200, body = Vec<Profile>), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list_profiles(State(state): State<AppState>) -> ApiResult<Json<Vec<Profile>>> {
    Ok(Json(state.trailers.profiles().await?))
}

#[utoipa::path(post, path = "/api/v1/trailers/profiles", tag = "trailers", request_body = ProfileInput,
    responses((status = 201, body = Profile), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn create_profile(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ProfileInput>,
) -> Result<(StatusCode, Json<Profile>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.trailers.create_profile(input).await?),
    ))
}

#[utoipa::path(put, path = "/api/v1/trailers/profiles/{id}", tag = "trailers", params(("id" = String, Path)),
    request_body = ProfileInput,
    responses((status = 200, body = Profile), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn update_profile(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<ProfileInput>,
) -> ApiResult<Json<Profile>> {
    Ok(Json(state.trailers.update_profile(&id, input).await?))
}

/// Delete a profile and its download records; placed files stay on disk.
#[utoipa::path(delete, path = "/api/v1/trailers/profiles/{id}", tag = "trailers", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn delete_profile(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.trailers.delete_profile(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Movies and series, by title, with what the next run does for each applicable profile.
#[utoipa::path(get, path = "/api/v1/trailers/media", tag = "trailers", params(MediaQuery),
    responses((status = 200, body = MediaPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list_media(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MediaQuery>,
) -> ApiResult<Json<MediaPage>> {
    Ok(Json(state.trailers.media_page(&q).await?))
}

/// An item with its trailers per profile, the applicable profiles and its history.
#[utoipa::path(get, path = "/api/v1/trailers/media/{id}", tag = "trailers", params(("id" = String, Path)),
    responses((status = 200, body = MediaDetail), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn get_media(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MediaDetail>> {
    Ok(Json(state.trailers.media_detail(&id).await?))
}

/// Monitor or not; set (or clear with `""`) the trailer id override. Both survive syncs.
#[utoipa::path(patch, path = "/api/v1/trailers/media/{id}", tag = "trailers", params(("id" = String, Path)),
    request_body = MediaPatch,
    responses((status = 200, body = MediaItem), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn patch_media(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<MediaPatch>,
) -> ApiResult<Json<MediaItem>> {
    Ok(Json(state.trailers.patch_media(&id, patch).await?))
}

/// The poster as a small JPEG (cached).
#[utoipa::path(get, path = "/api/v1/trailers/media/{id}/poster", tag = "trailers", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/jpeg", description = "300×450 at most"), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn poster(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let path = state.trailers.image(&id, ImageKind::Poster).await?;
    Ok(ranged::serve(&path, "image/jpeg", &headers).await)
}

/// The fanart as a JPEG (cached, 1280×720 at most).
#[utoipa::path(get, path = "/api/v1/trailers/media/{id}/fanart", tag = "trailers", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/jpeg", description = "1280×720 at most"), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn fanart(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let path = state.trailers.image(&id, ImageKind::Fanart).await?;
    Ok(ranged::serve(&path, "image/jpeg", &headers).await)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidatesQuery {
    pub profile_id: String,
    /// `trailer-1` (the default), `trailer-2`, `featurette-1`…: an extra's candidates are
    /// TMDB's videos of its type, and other slots' videos are left out.
    pub slot: Option<String>,
}

/// Search now: every candidate for one slot with its score and reasons, best accepted first.
#[utoipa::path(get, path = "/api/v1/trailers/media/{id}/candidates", tag = "trailers", params(("id" = String, Path), CandidatesQuery),
    responses((status = 200, body = Vec<Scored>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn candidates(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<CandidatesQuery>,
) -> ApiResult<Json<Vec<Scored>>> {
    let slot = slot_param(q.slot.as_deref())?;
    let item = state.trailers.media_item(&id).await?;
    let profile = state.trailers.profile(&q.profile_id).await?;
    let cancel = state.shutdown.child_token();
    Ok(Json(
        state
            .trailers
            .candidates(&item, &profile, slot, &cancel)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct DownloadRequest {
    pub profile_id: String,
    /// Which of the profile's videos (`trailer-1`, `trailer-2`, `featurette-1`…); the
    /// first trailer when absent.
    pub slot: Option<String>,
    /// A candidate's video id; without it the best candidate is chosen.
    pub video_id: Option<String>,
}

/// Which of a profile's videos a request is about.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotQuery {
    /// `trailer-1` (the default), `trailer-2`, `featurette-1`…
    pub slot: Option<String>,
}

/// The slot a request names (`trailer-1` when none); `400` for one that is not a slot.
fn slot_param(text: Option<&str>) -> Result<Slot, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(Slot::FIRST_TRAILER),
        Some(t) => Slot::parse(t).ok_or_else(|| {
            TrailerError::Invalid(format!(
                "`{t}` is not a slot (trailer-1 to trailer-3, teaser-1, featurette-1, \
                 behindthescenes-1, clip-1)"
            ))
            .into()
        }),
    }
}

/// Download (or replace) the item's trailer for a profile (a job).
#[utoipa::path(post, path = "/api/v1/trailers/media/{id}/download", tag = "trailers", params(("id" = String, Path)),
    request_body = DownloadRequest,
    responses((status = 202, body = JobQueued), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn download(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<DownloadRequest>,
) -> Result<(StatusCode, Json<JobQueued>), ApiError> {
    let slot = slot_param(req.slot.as_deref())?;
    let job = state
        .trailers
        .queue_download(&id, &req.profile_id, slot, req.video_id.as_deref())
        .await?;
    Ok(queued(job))
}

/// Delete one slot's file of the profile (the first trailer unless `slot` says); that slot is
/// then skipped for this item until a download.
#[utoipa::path(delete, path = "/api/v1/trailers/media/{id}/trailers/{profile_id}", tag = "trailers",
    params(("id" = String, Path), ("profile_id" = String, Path), SlotQuery),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn delete_trailer(
    State(state): State<AppState>,
    ApiPath((id, profile_id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<SlotQuery>,
) -> ApiResult<StatusCode> {
    let slot = slot_param(q.slot.as_deref())?;
    state
        .trailers
        .delete_trailer(&id, &profile_id, slot)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One slot's file (the first trailer unless `slot` says), with Range support.
#[utoipa::path(get, path = "/api/v1/trailers/media/{id}/trailers/{profile_id}/video", tag = "trailers",
    params(("id" = String, Path), ("profile_id" = String, Path), SlotQuery),
    responses((status = 200, description = "the trailer"), (status = 206, description = "the requested range"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 416, description = "range not satisfiable"), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn trailer_video(
    State(state): State<AppState>,
    ApiPath((id, profile_id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<SlotQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let slot = slot_param(q.slot.as_deref())?;
    let path = state.trailers.trailer_file(&id, &profile_id, slot).await?;
    let mime = match path.extension().and_then(|e| e.to_str()) {
        Some("webm") => "video/webm",
        Some("mkv") => "video/x-matroska",
        _ => "video/mp4",
    };
    Ok(ranged::serve(&path, mime, &headers).await)
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct BulkResult {
    /// Items changed, or downloads queued.
    pub changed: usize,
}

/// Monitor, unmonitor or queue downloads for many items; an unknown id changes nothing.
#[utoipa::path(post, path = "/api/v1/trailers/bulk", tag = "trailers", request_body = BulkRequest,
    responses((status = 200, body = BulkResult), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn bulk(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<BulkRequest>,
) -> ApiResult<Json<BulkResult>> {
    Ok(Json(BulkResult {
        changed: state.trailers.bulk(&req).await?,
    }))
}

/// Exactly what the next run would do, per item and profile, with the reason.
#[utoipa::path(get, path = "/api/v1/trailers/preview", tag = "trailers",
    responses((status = 200, body = Vec<PlanEntry>), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn preview(State(state): State<AppState>) -> ApiResult<Json<Vec<PlanEntry>>> {
    Ok(Json(state.trailers.preview().await?))
}

/// Video sites paused because they refused us (bot check, rate limit, rejected cookies):
/// their downloads wait until `until`.
#[utoipa::path(get, path = "/api/v1/trailers/hosts/paused", tag = "trailers",
    responses((status = 200, body = Vec<HostPause>), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn paused_hosts(State(state): State<AppState>) -> Json<Vec<HostPause>> {
    Json(state.trailers.host_pauses())
}

/// Sync, scan and download missing trailers now (a job).
#[utoipa::path(post, path = "/api/v1/trailers/run", tag = "trailers",
    responses((status = 202, body = JobQueued), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn run(State(state): State<AppState>) -> Result<(StatusCode, Json<JobQueued>), ApiError> {
    Ok(queued(state.trailers.queue_run().await?))
}

/// Scan the media folders for trailers now (a job).
#[utoipa::path(post, path = "/api/v1/trailers/scan", tag = "trailers",
    responses((status = 202, body = JobQueued), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn scan(
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<JobQueued>), ApiError> {
    Ok(queued(state.trailers.queue_scan().await?))
}
