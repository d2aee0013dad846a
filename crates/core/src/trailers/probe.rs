//! ffprobe facts about a trailer file: duration, which streams it has, their codecs and size.
//!
//! Not `library::media::probe`: that one treats a missing duration as an error and counts an
//! embedded cover picture as the video stream; here a cover is not video (a download with
//! only a thumbnail and sound must fail the "has video" check), the container name is needed
//! (conversion decides copy or encode from it), and a missing duration is a fact (0) that the
//! caller judges.

use crate::tools::{Process, ProcessError};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What ffprobe says about a file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProbeFacts {
    /// 0 when ffprobe knows no duration.
    pub duration_ms: i64,
    /// A real video stream (cover pictures do not count).
    pub has_video: bool,
    pub has_audio: bool,
    /// ffprobe's `codec_name` of the first video stream (`h264`, `hevc`, `vp9`, `av1`).
    pub video_codec: Option<String>,
    /// Of the first audio stream (`aac`, `opus`, …).
    pub audio_codec: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// ffprobe's `format_name` (`mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`).
    pub format: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// ffprobe did not run, or said the file is not media it can read.
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("{0}")]
    Unreadable(String),
}

#[derive(Deserialize)]
struct Json {
    #[serde(default)]
    format: Option<Format>,
    #[serde(default)]
    streams: Vec<StreamJson>,
}

#[derive(Deserialize)]
struct Format {
    duration: Option<String>,
    #[serde(default)]
    format_name: String,
}

#[derive(Deserialize)]
struct StreamJson {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    duration: Option<String>,
    #[serde(default)]
    disposition: Disposition,
}

#[derive(Deserialize, Default)]
struct Disposition {
    #[serde(default)]
    attached_pic: u8,
}

/// Runs ffprobe on `file`.
pub async fn probe(
    ffprobe: &Path,
    file: &Path,
    cancel: &CancellationToken,
) -> Result<ProbeFacts, ProbeError> {
    let out = Process::new(ffprobe)
        .args(["-v", "error", "-print_format", "json"])
        .args(["-show_format", "-show_streams"])
        .arg(file)
        .capture_stdout(4 * 1024 * 1024)
        .timeout(Duration::from_secs(60))
        .install_hint(crate::tools::FFMPEG_HINT)
        .run(cancel)
        .await?;
    parse(&out.stdout).map_err(ProbeError::Unreadable)
}

fn seconds(s: Option<&str>) -> Option<f64> {
    s.and_then(|d| d.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d > 0.0)
}

pub(crate) fn parse(json: &str) -> Result<ProbeFacts, String> {
    let parsed: Json =
        serde_json::from_str(json).map_err(|e| format!("ffprobe printed unreadable JSON: {e}"))?;
    let video = parsed
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video") && s.disposition.attached_pic == 0);
    let audio = parsed
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("audio"));
    // The container's duration; else the longest stream's (some WebM muxers leave it out).
    let duration =
        seconds(parsed.format.as_ref().and_then(|f| f.duration.as_deref())).or_else(|| {
            parsed
                .streams
                .iter()
                .filter_map(|s| seconds(s.duration.as_deref()))
                .reduce(f64::max)
        });
    Ok(ProbeFacts {
        duration_ms: duration.map_or(0, |d| (d * 1000.0).round() as i64),
        has_video: video.is_some(),
        has_audio: audio.is_some(),
        video_codec: video.and_then(|s| s.codec_name.clone()),
        audio_codec: audio.and_then(|s| s.codec_name.clone()),
        width: video.and_then(|s| s.width),
        height: video.and_then(|s| s.height),
        format: parsed.format.map(|f| f.format_name).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_codecs_and_duration_are_read_and_a_cover_is_not_video() {
        let json = r#"{"streams":[
            {"codec_type":"video","codec_name":"mjpeg","width":480,"height":360,"disposition":{"attached_pic":1}},
            {"codec_type":"audio","codec_name":"opus","duration":"2.5"},
            {"codec_type":"video","codec_name":"vp9","width":640,"height":360,"disposition":{"attached_pic":0}}],
            "format":{"duration":"2.4995","format_name":"matroska,webm"}}"#;
        let f = parse(json).expect("fixture");
        assert_eq!(f.duration_ms, 2_500);
        assert!(f.has_video && f.has_audio);
        assert_eq!(f.video_codec.as_deref(), Some("vp9"));
        assert_eq!(f.audio_codec.as_deref(), Some("opus"));
        assert_eq!((f.width, f.height), (Some(640), Some(360)));
        assert_eq!(f.format, "matroska,webm");
    }

    #[test]
    fn a_cover_with_sound_has_no_video_and_a_missing_duration_is_zero() {
        let json = r#"{"streams":[
            {"codec_type":"video","codec_name":"png","disposition":{"attached_pic":1}},
            {"codec_type":"audio","codec_name":"aac"}],"format":{"format_name":"mov,mp4"}}"#;
        let f = parse(json).expect("fixture");
        assert!(!f.has_video && f.has_audio);
        assert_eq!(f.duration_ms, 0);
        assert_eq!(f.video_codec, None);
        assert!(parse("not json").is_err());
    }

    #[test]
    fn the_longest_stream_gives_the_duration_when_the_container_has_none() {
        let json = r#"{"streams":[{"codec_type":"video","codec_name":"h264","duration":"3.0"},
            {"codec_type":"audio","codec_name":"aac","duration":"3.2"}],"format":{"format_name":"mp4"}}"#;
        assert_eq!(parse(json).expect("fixture").duration_ms, 3_200);
    }
}
