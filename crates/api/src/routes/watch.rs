//! Watch live (S9): a viewer token for a running recording, then its HLS playlist and segments.
//!
//! The playlist and segment routes are public: the token in the path is the credential, so a
//! `<video>` element or an external player can fetch them without cookies or headers. Any
//! unknown, expired or ended-and-forgotten token answers `404 not_found`.

use crate::error::{ApiError, ApiPath, ApiResult, Code, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::io::SeekFrom;
use tapearr_core::streams::WatchRange;
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
    let playlist_url = format!(
        "{}/api/v1/watch/{}/index.m3u8",
        state.config.base_path, ticket.token
    );
    Ok((
        StatusCode::CREATED,
        Json(WatchView {
            token: ticket.token,
            playlist_url,
            recording_id: ticket.recording_id,
            expires_at: ticket.expires_at,
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
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.apple.mpegurl"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        playlist,
    )
        .into_response())
}

/// One playlist entry, read from the recording's part file: `{n}.ts`, `{n}.m4s` or
/// `init-{part}.mp4`.
#[utoipa::path(get, path = "/api/v1/watch/{token}/{file}", tag = "watch",
    params(("token" = String, Path), ("file" = String, Path, description = "a name from the playlist")),
    responses((status = 200, content_type = "video/mp2t", body = Vec<u8>),
        (status = 404, body = ErrorBody, description = "unknown or expired token, unknown name, or the part is gone")))]
pub async fn segment(
    State(state): State<AppState>,
    ApiPath((token, file)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let range = state.streams.watch_file(&token, &file).ok_or_else(|| {
        ApiError::new(
            Code::NotFound,
            "unknown or expired watch token, or a name not in its playlist",
        )
    })?;
    send_range(range).await
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
