//! Watch live (S9): a viewer token for a running recording, then its HLS playlist and segments.
//!
//! The playlist and segment routes are public: the token in the path is the credential, so a
//! `<video>` element or an external player can fetch them without cookies or headers. Any
//! unknown, expired or ended-and-forgotten token answers `404 not_found`.
//!
//! A recording in HEVC or AV1 (Enhanced Broadcasting) also gets `h264_playlist_url`: Twitch's
//! H.264 rendition of the same broadcast, relayed through this server, for browsers that cannot
//! play the recorded one (the web player asks `MediaSource.isTypeSupported`).

use crate::error::{ApiError, ApiPath, ApiResult, Code, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::io::SeekFrom;
use tapearr_core::streams::{WatchFile, WatchRange};
use tapearr_core::time::Timestamp;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt};

/// Read size when streaming a segment from its part file.
const CHUNK: usize = 64 * 1024;

/// A viewer's access to a running recording.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WatchView {
    /// Random, valid for 6 hours, for this recording only.
    pub token: String,
    /// The HLS playlist (`EVENT`: live edge to the start of the recording), under the base path.
    pub playlist_url: String,
    pub recording_id: String,
    pub expires_at: Timestamp,
    /// The recorded rendition's `CODECS` as Twitch announced them (e.g. `hvc1.1.2.L153.B0`,
    /// `mp4a.40.2`); empty when unknown.
    pub codecs: Vec<String>,
    /// Present when the recording is not H.264: a playlist of Twitch's H.264 rendition of the
    /// same broadcast, relayed through Tapearr (live only, no timeshift, with Twitch's ads), for
    /// browsers that cannot play `codecs`.
    pub h264_playlist_url: Option<String>,
}

fn bad_token() -> ApiError {
    ApiError::new(Code::NotFound, "unknown or expired watch token")
}

/// Watch the channel's running recording: live, or from its start (timeshift).
#[utoipa::path(post, path = "/api/v1/channels/{id}/watch", tag = "watch", params(("id" = String, Path)),
    responses((status = 201, body = WatchView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`channel_offline`: no recording of the channel runs here"),
        (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn watch(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<WatchView>), ApiError> {
    let ticket = state.streams.watch(&id).await?.ok_or_else(|| {
        ApiError::new(
            Code::ChannelOffline,
            "no recording of this channel is running here",
        )
    })?;
    let base = format!("{}/api/v1/watch/{}", state.config.base_path, ticket.token);
    Ok((
        StatusCode::CREATED,
        Json(WatchView {
            playlist_url: format!("{base}/index.m3u8"),
            h264_playlist_url: ticket.h264_relay.then(|| format!("{base}/h264.m3u8")),
            token: ticket.token,
            recording_id: ticket.recording_id,
            expires_at: ticket.expires_at,
            codecs: ticket.codecs,
        }),
    ))
}

/// The recording's HLS playlist (no login: the token is the credential). Segment URIs are
/// relative to it.
#[utoipa::path(get, path = "/api/v1/watch/{token}/index.m3u8", tag = "watch", params(("token" = String, Path)),
    responses((status = 200, content_type = "application/vnd.apple.mpegurl", body = String),
        (status = 404, body = ErrorBody, description = "unknown or expired token")))]
pub async fn playlist(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Response> {
    let playlist = state.streams.watch_playlist(&token).ok_or_else(bad_token)?;
    Ok(playlist_response(playlist))
}

fn playlist_response(playlist: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/vnd.apple.mpegurl"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        playlist,
    )
        .into_response()
}

/// The H.264 rendition of the same broadcast, relayed from Twitch, for a recording in HEVC or
/// AV1 (no login: the token is the credential). Live only: Twitch's sliding window.
#[utoipa::path(get, path = "/api/v1/watch/{token}/h264.m3u8", tag = "watch", params(("token" = String, Path)),
    responses((status = 200, content_type = "application/vnd.apple.mpegurl", body = String),
        (status = 404, body = ErrorBody, description = "unknown or expired token, or the recording is H.264 (no relay)"),
        (status = 409, body = ErrorBody, description = "`channel_offline`: Twitch has no stream for the channel"),
        (status = 502, body = ErrorBody, description = "`upstream_failed`: Twitch did not answer")))]
pub async fn h264_playlist(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Response> {
    let playlist = state
        .streams
        .watch_h264_playlist(&token)
        .await?
        .ok_or_else(bad_token)?;
    Ok(playlist_response(playlist))
}

/// One playlist entry: `{n}.ts`, `{n}.m4s` or `init-{part}.mp4` read from the recording's
/// part file, or `h264-…` from the H.264 relay, fetched from Twitch.
#[utoipa::path(get, path = "/api/v1/watch/{token}/{file}", tag = "watch",
    params(("token" = String, Path), ("file" = String, Path, description = "a name from the playlist")),
    responses((status = 200, content_type = "video/mp2t", body = Vec<u8>),
        (status = 404, body = ErrorBody, description = "unknown or expired token, unknown name, or the part is gone"),
        (status = 502, body = ErrorBody, description = "`upstream_failed`: Twitch did not answer for a relayed segment")))]
pub async fn segment(
    State(state): State<AppState>,
    ApiPath((token, file)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let entry = state
        .streams
        .watch_file(&token, &file)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                Code::NotFound,
                "unknown or expired watch token, or a name not in its playlist",
            )
        })?;
    match entry {
        WatchFile::Part(range) => send_range(range).await,
        WatchFile::Relayed(relayed) => Ok((
            [
                (header::CONTENT_TYPE, relayed.content_type),
                (header::CACHE_CONTROL, "private, max-age=60"),
            ],
            relayed.bytes,
        )
            .into_response()),
    }
}

/// Streams exactly the entry's bytes; parts are never read whole.
async fn send_range(range: WatchRange) -> ApiResult<Response> {
    // Finalize may have removed the parts after the recording ended.
    let gone = || ApiError::not_found("segment");
    let mut file = tokio::fs::File::open(&range.path)
        .await
        .map_err(|_| gone())?;
    let size = file.metadata().await.map_err(ApiError::internal)?.len();
    if range.offset.saturating_add(range.len) > size {
        return Err(gone());
    }
    file.seek(SeekFrom::Start(range.offset))
        .await
        .map_err(ApiError::internal)?;
    let body = Body::from_stream(chunks(file.take(range.len)));
    Ok((
        [
            (header::CONTENT_TYPE, range.content_type.to_string()),
            (header::CONTENT_LENGTH, range.len.to_string()),
            // A segment never changes; the token keeps the URL private.
            (header::CACHE_CONTROL, "private, max-age=21600".to_string()),
        ],
        body,
    )
        .into_response())
}

/// The reader as a stream of chunks; ends after the first error.
fn chunks(
    reader: impl AsyncRead + Unpin + Send + 'static,
) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send {
    futures_util::stream::unfold(Some(reader), |reader| async move {
        let mut reader = reader?;
        let mut buf = vec![0u8; CHUNK];
        match reader.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), Some(reader)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}
