//! ffprobe, the one wrapper the whole project uses: a file's duration, its streams (codecs,
//! size), its container and its chapters.
//!
//! A cover picture (`attached_pic`) is not video: a download with only a thumbnail and sound
//! must fail the "has video" check. The duration is the container's, else the longest
//! stream's (some WebM muxers leave the container's out); `None` when neither says, and each
//! caller judges that (a trailer download calls it "no duration"). Recordings are judged by the
//! container's own duration (`container_ms`): finalize refuses an MP4 without one.

use crate::tools::{FFMPEG_HINT, Process, ProcessError};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What ffprobe says about a file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaFacts {
    /// The container's duration, else the longest stream's; `None` when neither is known.
    pub duration_ms: Option<u64>,
    /// The container's own duration (0 included), without the streams' fallback: what a
    /// recording's MP4 and parts are judged by, since our own muxer always writes it.
    pub container_ms: Option<u64>,
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
    pub chapters: usize,
}

impl MediaFacts {
    /// The duration in milliseconds, 0 when unknown (for callers that judge a zero themselves).
    pub fn millis(&self) -> i64 {
        self.duration_ms
            .map_or(0, |ms| i64::try_from(ms).unwrap_or(i64::MAX))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// ffprobe did not run, or said the file is not media it can read.
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error("ffprobe printed unreadable JSON: {0}")]
    Unreadable(#[from] serde_json::Error),
}

#[derive(Deserialize)]
struct Json {
    #[serde(default)]
    format: Option<Format>,
    #[serde(default)]
    streams: Vec<StreamJson>,
    #[serde(default)]
    chapters: Vec<serde::de::IgnoredAny>,
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

/// Runs ffprobe on `file`, stopped after `limit`.
pub async fn probe(
    ffprobe: &Path,
    file: &Path,
    limit: Duration,
    cancel: &CancellationToken,
) -> Result<MediaFacts, ProbeError> {
    let out = Process::new(ffprobe)
        .args(["-v", "error", "-print_format", "json"])
        .args(["-show_format", "-show_streams", "-show_chapters"])
        .arg(file)
        .capture_stdout(4 * 1024 * 1024)
        .timeout(limit)
        .install_hint(FFMPEG_HINT)
        .run(cancel)
        .await?;
    Ok(parse(&out.stdout)?)
}

/// Seconds as ffprobe prints them, when they are a real length (finite, not negative).
fn seconds(s: Option<&str>) -> Option<f64> {
    s.and_then(|d| d.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d >= 0.0)
}

fn parse(json: &str) -> Result<MediaFacts, serde_json::Error> {
    let parsed: Json = serde_json::from_str(json)?;
    let video = parsed
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video") && s.disposition.attached_pic == 0);
    let audio = parsed
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("audio"));
    let container = seconds(parsed.format.as_ref().and_then(|f| f.duration.as_deref()));
    let longest_stream = parsed
        .streams
        .iter()
        .filter_map(|s| seconds(s.duration.as_deref()))
        .filter(|d| *d > 0.0)
        .reduce(f64::max);
    // A zero container duration is a fact only when no stream knows better.
    let duration = container
        .filter(|d| *d > 0.0)
        .or(longest_stream)
        .or(container);
    Ok(MediaFacts {
        duration_ms: duration.map(|d| (d * 1000.0).round() as u64),
        container_ms: container.map(|d| (d * 1000.0).round() as u64),
        has_video: video.is_some(),
        has_audio: audio.is_some(),
        video_codec: video.and_then(|s| s.codec_name.clone()),
        audio_codec: audio.and_then(|s| s.codec_name.clone()),
        width: video.and_then(|s| s.width),
        height: video.and_then(|s| s.height),
        format: parsed.format.map(|f| f.format_name).unwrap_or_default(),
        chapters: parsed.chapters.len(),
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
        assert_eq!(f.duration_ms, Some(2_500));
        assert!(f.has_video && f.has_audio);
        assert_eq!(f.video_codec.as_deref(), Some("vp9"));
        assert_eq!(f.audio_codec.as_deref(), Some("opus"));
        assert_eq!((f.width, f.height), (Some(640), Some(360)));
        assert_eq!(f.format, "matroska,webm");
    }

    #[test]
    fn a_cover_with_sound_has_no_video_and_a_missing_duration_is_none() {
        let json = r#"{"streams":[
            {"codec_type":"video","codec_name":"png","disposition":{"attached_pic":1}},
            {"codec_type":"audio","codec_name":"aac"}],"format":{"format_name":"mov,mp4"}}"#;
        let f = parse(json).expect("fixture");
        assert!(!f.has_video && f.has_audio);
        assert_eq!(f.duration_ms, None);
        assert_eq!(f.millis(), 0);
        assert_eq!(f.video_codec, None);
        assert!(parse("not json").is_err());
    }

    #[test]
    fn the_longest_stream_gives_the_duration_when_the_container_has_none() {
        let json = r#"{"streams":[{"codec_type":"video","codec_name":"h264","duration":"3.0"},
            {"codec_type":"audio","codec_name":"aac","duration":"3.2"}],"format":{"format_name":"mp4"}}"#;
        let f = parse(json).expect("fixture");
        assert_eq!(f.duration_ms, Some(3_200));
        assert_eq!(f.container_ms, None, "a recording without it is refused");
    }

    #[test]
    fn chapters_are_counted_and_a_zero_length_container_is_zero() {
        let json = r#"{"streams":[{"codec_type":"audio","codec_name":"aac"},
            {"codec_type":"video","codec_name":"h264","width":1280,"height":720}],
            "chapters":[{},{}],"format":{"duration":"12.3456"}}"#;
        let f = parse(json).expect("fixture");
        assert_eq!(f.duration_ms, Some(12_346));
        assert_eq!(f.height, Some(720));
        assert_eq!(f.chapters, 2);
        let empty = parse(r#"{"streams":[],"format":{"duration":"0.000000"}}"#).expect("fixture");
        assert_eq!(empty.duration_ms, Some(0));
        assert_eq!(empty.container_ms, Some(0));
    }
}
