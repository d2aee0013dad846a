//! Small real videos made once with ffmpeg and cached on disk (like the HLS origin's
//! segments), keyed by their parameters, then served from memory.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use bytes::Bytes;
use tokio::process::Command;

use crate::hls_origin::media::{MediaError, cache_root};

/// Video codec of a generated file; it also picks the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    /// H.264 + AAC in MP4 (what most trailers are).
    H264,
    /// HEVC (`hvc1`) + AAC in MP4.
    Hevc,
    /// VP9 + Opus in WebM (what YouTube serves above 1080p).
    Vp9,
}

impl VideoCodec {
    pub fn ext(self) -> &'static str {
        match self {
            Self::H264 | Self::Hevc => "mp4",
            Self::Vp9 => "webm",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::H264 | Self::Hevc => "video/mp4",
            Self::Vp9 => "video/webm",
        }
    }

    /// ffprobe's `codec_name` for the video stream.
    pub fn ffprobe_name(self) -> &'static str {
        match self {
            Self::H264 => "h264",
            Self::Hevc => "hevc",
            Self::Vp9 => "vp9",
        }
    }
}

/// What to encode. The defaults ([`VideoMedia::tiny`]) take well under a second.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VideoMedia {
    pub seconds: u32,
    pub width: u32,
    pub height: u32,
    pub codec: VideoCodec,
    /// `false`: a video stream only (a download that must fail the "has audio" check).
    pub audio: bool,
}

impl VideoMedia {
    /// 2 s of 320×180 H.264 + AAC (about 100 KB).
    pub fn tiny() -> Self {
        Self {
            seconds: 2,
            width: 320,
            height: 180,
            codec: VideoCodec::H264,
            audio: true,
        }
    }

    fn cache_key(&self) -> String {
        format!(
            "video-v1-{:?}-{}s-{}x{}{}.{}",
            self.codec,
            self.seconds,
            self.width,
            self.height,
            if self.audio { "" } else { "-noaudio" },
            self.codec.ext()
        )
        .to_ascii_lowercase()
    }
}

/// The bytes of `media`, generated with ffmpeg the first time (then read from the cache dir,
/// then shared in memory).
pub async fn load_or_generate(media: &VideoMedia) -> Result<Bytes, MediaError> {
    static LOADED: OnceLock<tokio::sync::Mutex<HashMap<VideoMedia, Bytes>>> = OnceLock::new();
    // One loader at a time: a second caller waits and then shares the first one's file.
    let mut loaded = LOADED.get_or_init(Default::default).lock().await;
    if let Some(b) = loaded.get(media) {
        return Ok(b.clone());
    }
    let dir = cache_root();
    let path = dir.join(media.cache_key());
    if !path.exists() {
        generate(media, &dir, &path).await?;
    }
    let bytes = tokio::fs::read(&path)
        .await
        .map(Bytes::from)
        .map_err(|source| MediaError::Read {
            path: path.clone(),
            source,
        })?;
    loaded.insert(media.clone(), bytes.clone());
    Ok(bytes)
}

/// Encodes into a private temp name in the cache dir and renames it into place, so other
/// test processes never read a half-written file.
async fn generate(media: &VideoMedia, dir: &Path, path: &Path) -> Result<(), MediaError> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|source| MediaError::Read {
            path: dir.to_owned(),
            source,
        })?;
    let tmp = dir.join(format!(
        ".tmp-{}-{:?}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
        media.cache_key()
    ));
    let fps = 25;
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size={}x{}:rate={fps}", media.width, media.height),
        ]);
    if media.audio {
        cmd.args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]);
    }
    cmd.args(["-t", &media.seconds.to_string()]).args([
        "-pix_fmt",
        "yuv420p",
        "-g",
        &(2 * fps).to_string(),
    ]);
    match media.codec {
        VideoCodec::H264 => {
            cmd.args(["-c:v", "libx264", "-preset", "ultrafast"]);
        }
        VideoCodec::Hevc => {
            cmd.args(["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1"])
                .args(["-x265-params", "log-level=error"]);
        }
        VideoCodec::Vp9 => {
            cmd.args([
                "-c:v",
                "libvpx-vp9",
                "-deadline",
                "realtime",
                "-cpu-used",
                "8",
            ])
            .args(["-b:v", "400k"]);
        }
    }
    if media.audio {
        match media.codec {
            VideoCodec::Vp9 => cmd.args(["-c:a", "libopus", "-b:a", "64k"]),
            _ => cmd.args(["-c:a", "aac", "-b:a", "64k"]),
        };
        cmd.args(["-ac", "2"]);
    } else {
        cmd.arg("-an");
    }
    if media.codec.ext() == "mp4" {
        cmd.args(["-movflags", "+faststart"]);
    }
    cmd.args([
        "-f",
        if media.codec.ext() == "mp4" {
            "mp4"
        } else {
            "webm"
        },
    ])
    .arg(&tmp);
    let out = cmd.output().await.map_err(MediaError::Spawn)?;
    if !out.status.success() {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(MediaError::Ffmpeg(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    if tokio::fs::rename(&tmp, path).await.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    Ok(())
}
