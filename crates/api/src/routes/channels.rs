//! Twitch channels: add, list, settings, remove, import, streams, manual recording.

use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, Code, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tapearr_core::storage::{PageRequest, Paged};
use tapearr_core::streams::model::{Channel, Recording, Stream, StreamEvent};
use tapearr_core::streams::{AddChannel, ChannelPatch, ImportResult, StreamsError};

impl From<StreamsError> for ApiError {
    fn from(e: StreamsError) -> Self {
        match e {
            StreamsError::NotConfigured => ApiError::new(Code::TwitchNotConfigured, e.to_string()),
            StreamsError::Invalid(m) => ApiError::invalid(m),
            StreamsError::UnknownOnTwitch(_) => ApiError::new(Code::NotFound, e.to_string()),
            StreamsError::NotFound(what) => ApiError::not_found(what),
            StreamsError::Conflict(m) => ApiError::new(Code::Conflict, m),
            StreamsError::Offline(_) => ApiError::new(Code::ChannelOffline, e.to_string()),
            StreamsError::Twitch(_) => ApiError::new(Code::UpstreamFailed, e.to_string()),
            StreamsError::Storage(s) => s.into(),
        }
    }
}

/// A channel with its running recording, if any.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelView {
    #[serde(flatten)]
    pub channel: Channel,
    pub recording: Option<Recording>,
}

async fn view(state: &AppState, channel: Channel) -> ApiResult<ChannelView> {
    let recording = state.streams.active_recording(&channel.id).await?;
    Ok(ChannelView { channel, recording })
}

/// Watched channels with live state and active recordings.
#[utoipa::path(get, path = "/api/v1/channels", tag = "channels",
    responses((status = 200, body = Vec<ChannelView>), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<ChannelView>>> {
    let channels = state.streams.channels_with_recordings().await?;
    Ok(Json(
        channels
            .into_iter()
            .map(|(channel, recording)| ChannelView { channel, recording })
            .collect(),
    ))
}

/// Add a channel by login or URL; it is checked against Twitch first.
#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", request_body = AddChannel,
    responses((status = 201, body = ChannelView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such Twitch channel"),
        (status = 409, body = ErrorBody, description = "already watched, or Twitch is not configured"),
        (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<AddChannel>,
) -> Result<(StatusCode, Json<ChannelView>), ApiError> {
    let channel = state.streams.add_channel(req).await?;
    Ok((StatusCode::CREATED, Json(view(&state, channel).await?)))
}

#[utoipa::path(get, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = String, Path)),
    responses((status = 200, body = ChannelView), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ChannelView>> {
    let channel = state.streams.channel(&id).await?;
    Ok(Json(view(&state, channel).await?))
}

/// Change a channel's settings; absent fields stay.
#[utoipa::path(patch, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = String, Path)),
    request_body = ChannelPatch,
    responses((status = 200, body = ChannelView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<ChannelPatch>,
) -> ApiResult<Json<ChannelView>> {
    let channel = state.streams.update_channel(&id, patch).await?;
    Ok(Json(view(&state, channel).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemoveQuery {
    /// Required: `keep` leaves the recordings in the library, `delete` removes their files.
    pub recordings: Option<String>,
}

/// Stop watching a channel. Say what happens to its recordings: `?recordings=keep|delete`.
#[utoipa::path(delete, path = "/api/v1/channels/{id}", tag = "channels", params(("id" = String, Path), RemoveQuery),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RemoveQuery>,
) -> ApiResult<StatusCode> {
    let delete_recordings = match q.recordings.as_deref() {
        Some("keep") => false,
        Some("delete") => true,
        _ => {
            return Err(ApiError::invalid(
                "say what happens to the recordings: ?recordings=keep or ?recordings=delete",
            ));
        }
    };
    state.streams.remove_channel(&id, delete_recordings).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportRequest {
    /// Auto-record the imported channels (default false: a long follow list could fill a disk).
    #[serde(default)]
    pub auto_record: bool,
}

/// Add every channel the connected Twitch account follows.
#[utoipa::path(post, path = "/api/v1/channels/import-followed", tag = "channels", request_body = ImportRequest,
    responses((status = 200, body = ImportResult), (status = 400, body = ErrorBody), (status = 502, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn import_followed(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ImportRequest>,
) -> ApiResult<Json<ImportResult>> {
    Ok(Json(state.streams.import_followed(req.auto_record).await?))
}

/// Start recording a live channel now (whatever its auto-record setting).
#[utoipa::path(post, path = "/api/v1/channels/{id}/record", tag = "channels", params(("id" = String, Path)),
    responses((status = 202, body = Recording), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "offline, or the recording could not start"),
        (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn record(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Recording>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(state.streams.start_recording(&id).await?),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// A stream with its title and category changes.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StreamView {
    #[serde(flatten)]
    pub stream: Stream,
    pub events: Vec<StreamEvent>,
}

/// The channel's broadcasts, newest first, each with its events.
#[utoipa::path(get, path = "/api/v1/channels/{id}/streams", tag = "channels", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = Paged<StreamView>), (status = 404, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn streams(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<StreamView>>> {
    let page = state
        .streams
        .streams_with_events(&id, PageRequest::new(q.limit, q.offset))
        .await?;
    let items = page
        .items
        .into_iter()
        .map(|(stream, events)| StreamView { stream, events })
        .collect();
    Ok(Json(Paged {
        items,
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    }))
}
