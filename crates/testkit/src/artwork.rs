//! Poster, fanart and logo images for the fake Arrs' `MediaCover` and the fake TMDB's image
//! host: real, decodable JPEGs/PNGs at the usual sizes, made once with ffmpeg and cached like
//! the HLS origin's media.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::process::Command;

use crate::hls_origin::media::{MediaError, cache_root};

/// Image format of a generated picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
}

/// A flat-coloured picture of `width`×`height`, generated on first use.
pub async fn image(width: u32, height: u32, format: Format) -> Result<Bytes, MediaError> {
    type Loaded = tokio::sync::Mutex<HashMap<(u32, u32, Format), Bytes>>;
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    let mut loaded = LOADED.get_or_init(Default::default).lock().await;
    if let Some(b) = loaded.get(&(width, height, format)) {
        return Ok(b.clone());
    }
    let ext = match format {
        Format::Jpeg => "jpg",
        Format::Png => "png",
    };
    let dir = cache_root();
    let path = dir.join(format!("art-v1-{width}x{height}.{ext}"));
    if !path.exists() {
        generate(&dir, &path, width, height).await?;
    }
    let bytes = tokio::fs::read(&path)
        .await
        .map(Bytes::from)
        .map_err(|source| MediaError::Read {
            path: path.clone(),
            source,
        })?;
    loaded.insert((width, height, format), bytes.clone());
    Ok(bytes)
}

async fn generate(dir: &Path, path: &Path, w: u32, h: u32) -> Result<(), MediaError> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|source| MediaError::Read {
            path: dir.to_owned(),
            source,
        })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Ends in the real extension so ffmpeg picks the format; renamed into place when whole.
    let tmp_named = dir.join(format!(".tmp-{}-{name}", std::process::id()));
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(["-f", "lavfi", "-i", &format!("color=c=0x336699:s={w}x{h}")])
        .args(["-frames:v", "1"])
        .arg(&tmp_named)
        .output()
        .await
        .map_err(MediaError::Spawn)?;
    if !out.status.success() {
        let _ = tokio::fs::remove_file(&tmp_named).await;
        return Err(MediaError::Ffmpeg(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    if tokio::fs::rename(&tmp_named, path).await.is_err() {
        let _ = tokio::fs::remove_file(&tmp_named).await;
    }
    Ok(())
}

/// The picture a file name asks for: `poster*` 500×750, `fanart*`/`backdrop*` 1280×720,
/// `banner*` 758×140, `*.png` (logos) 400×155 PNG, anything else a poster.
pub async fn response(file: &str) -> Response {
    let name = file.to_ascii_lowercase();
    let (w, h, format, mime) = if name.ends_with(".png") {
        (400, 155, Format::Png, "image/png")
    } else if name.starts_with("fanart") || name.starts_with("backdrop") {
        (1280, 720, Format::Jpeg, "image/jpeg")
    } else if name.starts_with("banner") {
        (758, 140, Format::Jpeg, "image/jpeg")
    } else {
        (500, 750, Format::Jpeg, "image/jpeg")
    };
    match image(w, h, format).await {
        Ok(bytes) => ([("content-type", mime)], bytes).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
