//! Recordings (S8): list, filter, sort and page; details with chapters and events; streaming
//! with Range; thumbnails; share links; keep; delete (bulk, in one transaction); stop; retry
//! finalize.

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, Code, ErrorBody};
use crate::ranged;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tapearr_core::library::chapters::{self, Chapter};
use tapearr_core::library::{ChatPage, DeleteReport, LibraryError, ShareInfo, ShareTicket};
use tapearr_core::storage::{PageRequest, Paged, RecordingQuery, RecordingSort, SortOrder};
use tapearr_core::streams::model::{Recording, RecordingGap, RecordingStatus, StreamEvent};
use tapearr_core::time::Timestamp;

impl From<LibraryError> for ApiError {
    fn from(e: LibraryError) -> Self {
        match e {
            LibraryError::NotFound => ApiError::not_found("recording"),
            LibraryError::Invalid(m) => ApiError::invalid(m),
            LibraryError::Conflict(m) => ApiError::new(Code::Conflict, m),
            LibraryError::NoLibraryRoot => ApiError::new(Code::Unavailable, e.to_string()),
            LibraryError::Files(f) => ApiError::internal(f),
            LibraryError::Storage(s) => s.into(),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub channel_id: Option<String>,
    /// `recording`, `ended`, `finalizing`, `ready` or `failed`.
    pub status: Option<String>,
    /// Any category the stream had.
    pub category: Option<String>,
    /// Words in the title or the channel's name.
    pub q: Option<String>,
    /// Started at or after (RFC 3339).
    pub from: Option<String>,
    /// Started before (RFC 3339).
    pub to: Option<String>,
    /// `started` (default), `duration`, `size` or `channel`.
    pub sort: Option<String>,
    /// `desc` (default) or `asc`.
    pub order: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

fn parse_time(name: &str, value: Option<&str>) -> ApiResult<Option<Timestamp>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => Timestamp::parse_rfc3339(v).map(Some).ok_or_else(|| {
            ApiError::invalid(format!(
                "{name} {v:?}: use RFC 3339, e.g. 2026-11-01T00:00:00Z"
            ))
        }),
    }
}

impl ListQuery {
    fn into_query(self) -> ApiResult<RecordingQuery> {
        let status = match self.status.as_deref() {
            None | Some("") => None,
            Some(s) => Some(RecordingStatus::parse(s).ok_or_else(|| {
                ApiError::invalid(format!(
                    "status {s:?}: use recording, ended, finalizing, ready or failed"
                ))
            })?),
        };
        let sort = match self.sort.as_deref() {
            None | Some("") | Some("started") => RecordingSort::Started,
            Some("duration") => RecordingSort::Duration,
            Some("size") => RecordingSort::Size,
            Some("channel") => RecordingSort::Channel,
            Some(s) => {
                return Err(ApiError::invalid(format!(
                    "sort {s:?}: use started, duration, size or channel"
                )));
            }
        };
        let order = match self.order.as_deref() {
            None | Some("") | Some("desc") => SortOrder::Desc,
            Some("asc") => SortOrder::Asc,
            Some(o) => return Err(ApiError::invalid(format!("order {o:?}: use asc or desc"))),
        };
        Ok(RecordingQuery {
            channel_id: self.channel_id.filter(|c| !c.is_empty()),
            status,
            category: self.category.filter(|c| !c.trim().is_empty()),
            search: self.q.filter(|q| !q.trim().is_empty()),
            from: parse_time("from", self.from.as_deref())?,
            to: parse_time("to", self.to.as_deref())?,
            sort,
            order,
            page: PageRequest::new(self.limit, self.offset),
        })
    }
}

/// Recordings, newest first unless sorted otherwise.
#[utoipa::path(get, path = "/api/v1/recordings", tag = "recordings", params(ListQuery),
    responses((status = 200, body = Paged<Recording>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Paged<Recording>>> {
    Ok(Json(state.streams.recordings(&q.into_query()?).await?))
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordingDetail {
    #[serde(flatten)]
    pub recording: Recording,
    pub gaps: Vec<RecordingGap>,
    /// On the recording's media timeline (what the player seeks to).
    pub chapters: Vec<Chapter>,
    /// The stream's start, title/category changes and end.
    pub events: Vec<StreamEvent>,
}

#[utoipa::path(get, path = "/api/v1/recordings/{id}", tag = "recordings", params(("id" = String, Path)),
    responses((status = 200, body = RecordingDetail), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RecordingDetail>> {
    let (recording, gaps, events) = state.streams.recording_timeline(&id).await?;
    let duration = recording.library.duration_ms.unwrap_or(recording.media_ms);
    let chapters = chapters::from_events(&events, &gaps, recording.started_at, duration);
    Ok(Json(RecordingDetail {
        recording,
        gaps,
        chapters,
        events,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RecordingPatch {
    /// Keep it: retention never deletes it.
    pub keep: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/recordings/{id}", tag = "recordings", params(("id" = String, Path)),
    request_body = RecordingPatch,
    responses((status = 200, body = Recording), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<RecordingPatch>,
) -> ApiResult<Json<Recording>> {
    let recording = match patch.keep {
        Some(keep) => state.streams.set_recording_keep(&id, keep).await?,
        None => state.streams.recording(&id).await?.0,
    };
    Ok(Json(recording))
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

/// Queue finalize again (after it gave up, e.g. on a full disk).
#[utoipa::path(post, path = "/api/v1/recordings/{id}/finalize", tag = "recordings", params(("id" = String, Path)),
    responses((status = 202, body = Recording), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn finalize(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(axum::http::StatusCode, Json<Recording>)> {
    let rec = state.library.retry_finalize(&id).await?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(rec)))
}

/// The MP4, with Range support (players seek with it).
#[utoipa::path(get, path = "/api/v1/recordings/{id}/video", tag = "recordings", params(("id" = String, Path)),
    responses((status = 200, content_type = "video/mp4", description = "the MP4"),
        (status = 206, content_type = "video/mp4", description = "the requested range"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 416, description = "range not satisfiable"), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn video(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let rec = state.library.playable(&id).await?;
    let path = state.library.video_file(&rec).await?;
    Ok(ranged::serve(&path, "video/mp4", &headers).await)
}

#[utoipa::path(get, path = "/api/v1/recordings/{id}/thumbnail", tag = "recordings", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/jpeg", description = "the episode thumbnail"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn thumbnail(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let rec = state.library.playable(&id).await?;
    let path = state.library.thumbnail_file(&rec).await?;
    Ok(ranged::serve(&path, "image/jpeg", &headers).await)
}

/// Chapters as WebVTT, for the player's chapter track.
#[utoipa::path(get, path = "/api/v1/recordings/{id}/chapters.vtt", tag = "recordings", params(("id" = String, Path)),
    responses((status = 200, content_type = "text/vtt", body = String), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn chapters_vtt(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<([(axum::http::HeaderName, &'static str); 1], String)> {
    let Json(detail) = get(State(state), ApiPath(id)).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/vtt; charset=utf-8")],
        chapters::vtt(&detail.chapters),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ShareRequest {
    /// How long the link works: 60 s to 30 days (default 7 days).
    pub expires_in_secs: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShareLinkView {
    #[serde(flatten)]
    pub ticket: ShareTicket,
    /// Path of the public link (prefix it with the server's address).
    pub path: String,
}

/// Create an expiring link that plays the MP4 without logging in.
#[utoipa::path(post, path = "/api/v1/recordings/{id}/share", tag = "recordings", params(("id" = String, Path)),
    request_body = ShareRequest,
    responses((status = 201, body = ShareLinkView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn share(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<ShareRequest>,
) -> ApiResult<(axum::http::StatusCode, Json<ShareLinkView>)> {
    let ttl = Duration::from_secs(req.expires_in_secs.unwrap_or(7 * 86_400));
    let ticket = state.library.share(&id, ttl).await?;
    let path = format!(
        "{}/api/v1/share/{}",
        state.config.base_path.trim_end_matches('/'),
        ticket.token
    );
    Ok((
        axum::http::StatusCode::CREATED,
        Json(ShareLinkView { ticket, path }),
    ))
}

/// The share links of a recording that still work (their tokens are not shown again).
#[utoipa::path(get, path = "/api/v1/recordings/{id}/shares", tag = "recordings", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ShareInfo>), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn recording_shares(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<ShareInfo>>> {
    Ok(Json(state.library.share_links(Some(&id)).await?))
}

/// Every share link that still works, newest first.
#[utoipa::path(get, path = "/api/v1/shares", tag = "recordings",
    responses((status = 200, body = Vec<ShareInfo>), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list_shares(State(state): State<AppState>) -> ApiResult<Json<Vec<ShareInfo>>> {
    Ok(Json(state.library.share_links(None).await?))
}

/// Revoke a share link: it answers 404 from now on.
#[utoipa::path(delete, path = "/api/v1/shares/{id}", tag = "recordings", params(("id" = String, Path)),
    responses((status = 204, description = "revoked"), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn revoke_share(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::http::StatusCode> {
    state.library.revoke_share(&id).await.map_err(|e| match e {
        LibraryError::NotFound => ApiError::not_found("share link"),
        other => other.into(),
    })?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// A shared recording's MP4 (public: the token is the credential), with Range support.
#[utoipa::path(get, path = "/api/v1/share/{token}", tag = "recordings", params(("token" = String, Path)),
    responses((status = 200, content_type = "video/mp4", description = "the MP4"),
        (status = 206, content_type = "video/mp4", description = "the requested range"),
        (status = 404, body = ErrorBody, description = "unknown or expired link")))]
pub async fn shared(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let rec = state
        .library
        .shared(&token)
        .await
        .map_err(|_| ApiError::not_found("share link"))?;
    let path = state.library.video_file(&rec).await?;
    Ok(ranged::serve(&path, "video/mp4", &headers).await)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct BulkDelete {
    pub ids: Vec<String>,
}

/// Most recordings one bulk request may delete.
const MAX_BULK: usize = 1000;

/// Delete recordings and their files: all of them, or none when one is missing or recording.
#[utoipa::path(post, path = "/api/v1/recordings/delete", tag = "recordings",
    request_body = BulkDelete,
    responses((status = 200, body = DeleteReport), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn bulk_delete(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<BulkDelete>,
) -> ApiResult<Json<DeleteReport>> {
    if req.ids.is_empty() || req.ids.len() > MAX_BULK {
        return Err(ApiError::invalid(format!(
            "ids: give 1 to {MAX_BULK} recording ids"
        )));
    }
    Ok(Json(
        state
            .library
            .delete_recordings(&req.ids, "deleted by you")
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/recordings/{id}", tag = "recordings", params(("id" = String, Path)),
    responses((status = 200, body = DeleteReport), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<DeleteReport>> {
    Ok(Json(
        state
            .library
            .delete_recordings(&[id], "deleted by you")
            .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatQuery {
    /// From this offset in the recording, in ms (inclusive; default 0).
    pub from_ms: Option<u64>,
    /// Leave out this many messages at exactly `from_ms` (the previous page's `next_skip`).
    pub skip: Option<usize>,
    /// Up to this offset (exclusive; default the end).
    pub to_ms: Option<u64>,
    /// Messages per page: 1 to 1000 (default 500).
    pub limit: Option<usize>,
}

/// The chat captured with the recording, oldest first, a bounded page at a time (offsets on
/// the MP4's timeline once finalized).
#[utoipa::path(get, path = "/api/v1/recordings/{id}/chat", tag = "recordings", params(("id" = String, Path), ChatQuery),
    responses((status = 200, body = ChatPage), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn chat(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ChatQuery>,
) -> ApiResult<Json<ChatPage>> {
    Ok(Json(
        state
            .library
            .chat(
                &id,
                q.from_ms.unwrap_or(0),
                q.skip.unwrap_or(0),
                q.to_ms,
                q.limit,
            )
            .await?,
    ))
}
