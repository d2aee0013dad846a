//! Segment sets made once with ffmpeg and cached on disk, keyed by their parameters, so every
//! later origin (and every channel of an origin) serves the same bytes from memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use tokio::process::Command;

/// Container of the generated segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Container {
    /// MPEG-TS segments (`.ts`).
    Ts,
    /// Fragmented MP4: `init.mp4` plus `.m4s` fragments, announced with `EXT-X-MAP`.
    Fmp4,
}

impl Container {
    pub fn segment_ext(self) -> &'static str {
        match self {
            Self::Ts => "ts",
            Self::Fmp4 => "m4s",
        }
    }
}

/// Video codec of the generated segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VideoCodec {
    /// libx264: what Twitch sends everyone.
    #[default]
    H264,
    /// libx265, tagged `hvc1` in fMP4 (Enhanced Broadcasting's HEVC renditions).
    Hevc,
    /// SVT-AV1 (Enhanced Broadcasting's AV1 renditions; fMP4 only).
    Av1,
}

impl VideoCodec {
    /// The codec's name in ffprobe's `codec_name`.
    pub fn ffprobe_name(self) -> &'static str {
        match self {
            Self::H264 => "h264",
            Self::Hevc => "hevc",
            Self::Av1 => "av1",
        }
    }
}

/// What to encode. Small sizes keep generation to a second or two.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaParams {
    pub container: Container,
    /// Nominal segment duration in milliseconds (whole GOPs: keep `fps * ms / 1000` an integer).
    pub segment_ms: u32,
    /// Number of distinct segments; the live timeline loops over them.
    pub segments: u32,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub video_kbps: u32,
    pub video: VideoCodec,
    /// `false` makes the ad look and sound different (colour bars, another tone).
    pub ad: bool,
}

impl MediaParams {
    /// Tiny 1 s segments for tests.
    pub fn test(container: Container) -> Self {
        Self {
            container,
            segment_ms: 1000,
            segments: 40,
            width: 256,
            height: 144,
            fps: 25,
            video_kbps: 200,
            video: VideoCodec::H264,
            ad: false,
        }
    }

    /// 2 s, 2.5 Mbps 720p segments like a real stream (for benchmarks).
    pub fn realistic(container: Container) -> Self {
        Self {
            container,
            segment_ms: 2000,
            segments: 60,
            width: 1280,
            height: 720,
            fps: 30,
            video_kbps: 2400,
            video: VideoCodec::H264,
            ad: false,
        }
    }

    pub fn as_ad(&self) -> Self {
        Self {
            ad: true,
            segments: self.segments.min(10),
            ..self.clone()
        }
    }

    fn cache_key(&self) -> String {
        format!(
            "v1-{}-{}ms-{}x-{}x{}-{}fps-{}k{}{}",
            self.container.segment_ext(),
            self.segment_ms,
            self.segments,
            self.width,
            self.height,
            self.fps,
            self.video_kbps,
            match self.video {
                VideoCodec::H264 => "",
                VideoCodec::Hevc => "-hevc",
                VideoCodec::Av1 => "-av1",
            },
            if self.ad { "-ad" } else { "" }
        )
    }
}

/// One generated segment.
#[derive(Debug, Clone)]
pub struct Segment {
    pub duration: f64,
    pub bytes: Bytes,
}

/// All segments of one parameter set, held in memory.
#[derive(Debug)]
pub struct MediaSet {
    pub params: MediaParams,
    pub init: Option<Bytes>,
    pub segments: Vec<Segment>,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("ffmpeg could not be run: {0}")]
    Spawn(std::io::Error),
    #[error("ffmpeg failed: {0}")]
    Ffmpeg(String),
    #[error("reading generated media in {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("generated playlist lists no segments")]
    Empty,
}

/// Where generated sets are cached (`$TAPEARR_TESTKIT_CACHE` or the temp dir).
pub fn cache_root() -> PathBuf {
    std::env::var_os("TAPEARR_TESTKIT_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("tapearr-testkit"))
}

impl MediaSet {
    /// Loads the set for `params`, generating it with ffmpeg the first time. Sets already in
    /// memory are shared, so hundreds of channels with the same parameters hold one copy.
    pub async fn load_or_generate(params: &MediaParams) -> Result<Arc<Self>, MediaError> {
        static LOADED: std::sync::OnceLock<
            tokio::sync::Mutex<std::collections::HashMap<String, Arc<MediaSet>>>,
        > = std::sync::OnceLock::new();
        let key = params.cache_key();
        // One loader at a time: a second caller waits and then shares the first one's set.
        let mut loaded = LOADED.get_or_init(Default::default).lock().await;
        if let Some(set) = loaded.get(&key) {
            return Ok(set.clone());
        }
        let dir = cache_root().join(&key);
        if !dir.join("index.m3u8").exists() {
            generate(params, &dir).await?;
        }
        let set = Arc::new(Self::load(params, &dir).await?);
        loaded.insert(key, set.clone());
        Ok(set)
    }

    async fn load(params: &MediaParams, dir: &Path) -> Result<Self, MediaError> {
        let read = |p: PathBuf| async move {
            tokio::fs::read(&p)
                .await
                .map(Bytes::from)
                .map_err(|source| MediaError::Read { path: p, source })
        };
        let index = read(dir.join("index.m3u8")).await?;
        let index = String::from_utf8_lossy(&index);
        let mut segments = Vec::new();
        let mut duration = None;
        for line in index.lines().map(str::trim) {
            if let Some(v) = line.strip_prefix("#EXTINF:") {
                duration = v.split(',').next().and_then(|d| d.parse::<f64>().ok());
            } else if !line.is_empty() && !line.starts_with('#') {
                let bytes = read(dir.join(line)).await?;
                segments.push(Segment {
                    duration: duration.take().unwrap_or(1.0),
                    bytes,
                });
            }
        }
        if segments.is_empty() {
            return Err(MediaError::Empty);
        }
        let init = match params.container {
            Container::Ts => None,
            Container::Fmp4 => Some(read(dir.join("init.mp4")).await?),
        };
        Ok(Self {
            params: params.clone(),
            init,
            segments,
        })
    }
}

/// The encoder and its keyframe settings: one GOP per segment, no scene-cut keyframes.
fn video_args(params: &MediaParams, gop: u32) -> Vec<String> {
    let g = gop.to_string();
    let kbps = params.video_kbps;
    let args: Vec<String> = match params.video {
        VideoCodec::H264 => [
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            &g,
            "-keyint_min",
            &g,
            "-sc_threshold",
            "0",
            "-maxrate",
            &format!("{kbps}k"),
            "-bufsize",
            &format!("{kbps}k"),
            // x264's "filler" keeps the bitrate near the target even for the test pattern.
            "-x264-params",
            "nal-hrd=cbr:force-cfr=1",
        ]
        .map(String::from)
        .to_vec(),
        VideoCodec::Hevc => {
            let mut a = [
                "-c:v",
                "libx265",
                "-preset",
                "ultrafast",
                "-x265-params",
                &format!("keyint={g}:min-keyint={g}:scenecut=0:log-level=error"),
            ]
            .map(String::from)
            .to_vec();
            // `hvc1` (parameter sets in the init section) is what Twitch sends and what
            // browsers and MP4 players expect; MPEG-TS has no such tag.
            if params.container == Container::Fmp4 {
                a.extend(["-tag:v".to_string(), "hvc1".to_string()]);
            }
            a
        }
        VideoCodec::Av1 => [
            "-c:v",
            "libsvtav1",
            "-preset",
            "12",
            "-g",
            &g,
            "-svtav1-params",
            &format!("keyint={g}:scd=0"),
        ]
        .map(String::from)
        .to_vec(),
    };
    args
}

/// Runs ffmpeg into a private temp dir and renames it into place, so concurrent test processes
/// never see a half-written set (the loser of the rename race simply uses the winner's set).
async fn generate(params: &MediaParams, dir: &Path) -> Result<(), MediaError> {
    let parent = dir.parent().unwrap_or(dir);
    tokio::fs::create_dir_all(parent)
        .await
        .map_err(|source| MediaError::Read {
            path: parent.to_owned(),
            source,
        })?;
    let tmp = parent.join(format!(
        ".{}.tmp-{}-{:?}",
        params.cache_key(),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    ));
    tokio::fs::create_dir_all(&tmp)
        .await
        .map_err(|source| MediaError::Read {
            path: tmp.clone(),
            source,
        })?;
    let seconds = f64::from(params.segment_ms) / 1000.0;
    let total = seconds * f64::from(params.segments);
    let gop = (f64::from(params.fps) * seconds).round().max(1.0) as u32;
    let (video, tone) = if params.ad {
        (
            format!(
                "smptebars=size={}x{}:rate={}",
                params.width, params.height, params.fps
            ),
            880,
        )
    } else {
        (
            format!(
                "testsrc=size={}x{}:rate={}",
                params.width, params.height, params.fps
            ),
            440,
        )
    };
    let ext = params.container.segment_ext();
    let mut cmd = Command::new("ffmpeg");
    cmd.current_dir(&tmp)
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(["-f", "lavfi", "-i", &video])
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency={tone}:sample_rate=48000"),
        ])
        .args(["-t", &format!("{total:.3}")])
        .args(["-pix_fmt", "yuv420p"])
        .args(video_args(params, gop))
        .args(["-b:v", &format!("{}k", params.video_kbps)])
        .args(["-c:a", "aac", "-b:a", "64k", "-ac", "2"])
        .args([
            "-f",
            "hls",
            "-hls_time",
            &format!("{seconds}"),
            "-hls_list_size",
            "0",
        ])
        .args(["-hls_segment_filename", &format!("seg_%05d.{ext}")]);
    if params.container == Container::Fmp4 {
        cmd.args([
            "-hls_segment_type",
            "fmp4",
            "-hls_fmp4_init_filename",
            "init.mp4",
        ]);
    }
    cmd.arg("index.m3u8");
    let out = cmd.output().await.map_err(MediaError::Spawn)?;
    if !out.status.success() {
        let _ = tokio::fs::remove_dir_all(&tmp).await;
        return Err(MediaError::Ffmpeg(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    if tokio::fs::rename(&tmp, dir).await.is_err() {
        let _ = tokio::fs::remove_dir_all(&tmp).await;
    }
    Ok(())
}
