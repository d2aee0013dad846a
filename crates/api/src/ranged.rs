//! Serving a file with HTTP Range support, streamed from disk: players seek by asking for byte
//! ranges, and a multi-gigabyte recording must never be read into memory.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::io::SeekFrom;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use crate::error::{ApiError, Code};

/// One `bytes=` range, resolved against the file's length (inclusive end).
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    All,
    Range(u64, u64),
    Unsatisfiable,
}

fn parse_range(header: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::All;
    };
    // Several ranges would need multipart; players ask for one, so serve the whole file.
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return Wanted::All;
    };
    let (start, end) = (start.trim(), end.trim());
    let range = match (start.parse::<u64>().ok(), end.parse::<u64>().ok()) {
        (Some(s), Some(e)) if s <= e => (s, e.min(len.saturating_sub(1))),
        (Some(s), None) if end.is_empty() => (s, len.saturating_sub(1)),
        (None, Some(n)) if start.is_empty() && n > 0 => {
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        _ => return Wanted::All,
    };
    if len == 0 || range.0 >= len {
        Wanted::Unsatisfiable
    } else {
        Wanted::Range(range.0, range.1)
    }
}

/// The file at `path` as `content_type`, honouring a single `Range` request.
pub async fn serve(path: &Path, content_type: &'static str, headers: &HeaderMap) -> Response {
    match serve_inner(path, content_type, headers).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn serve_inner(
    path: &Path,
    content_type: &'static str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let mut file = tokio::fs::File::open(path).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ApiError::new(Code::NotFound, "the file is missing from the library")
        } else {
            ApiError::internal(format!("open {}: {e}", path.display()))
        }
    })?;
    let len = file
        .metadata()
        .await
        .map_err(|e| ApiError::internal(format!("stat {}: {e}", path.display())))?
        .len();
    let wanted = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    );
    let (status, start, count) = match wanted {
        Wanted::All => (StatusCode::OK, 0, len),
        Wanted::Range(s, e) => (StatusCode::PARTIAL_CONTENT, s, e - s + 1),
        Wanted::Unsatisfiable => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(response);
        }
    };
    file.seek(SeekFrom::Start(start))
        .await
        .map_err(|e| ApiError::internal(format!("seek {}: {e}", path.display())))?;
    let body = Body::from_stream(ReaderStream::with_capacity(file.take(count), 64 * 1024));
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(count));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", start + count - 1))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_against_the_length() {
        assert_eq!(parse_range(None, 100), Wanted::All);
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Wanted::Range(0, 9));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Wanted::Range(90, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Wanted::Range(90, 99));
        assert_eq!(
            parse_range(Some("bytes=50-500"), 100),
            Wanted::Range(50, 99)
        );
        assert_eq!(parse_range(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=9-2"), 100), Wanted::All);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Wanted::All);
        assert_eq!(parse_range(Some("items=0-1"), 100), Wanted::All);
    }
}
