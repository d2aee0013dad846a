//! ffmpeg and ffprobe for finalize: join + remux (stream copy, never a re-encode), probe, and
//! a thumbnail.

use crate::tools::{GracefulStop, Process, ProcessError};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// ffmpeg's limit: generous, since a remux only copies, but a wedged ffmpeg must not hold the
/// finalize queue forever.
fn remux_timeout(input_bytes: u64) -> Duration {
    Duration::from_secs(30 * 60 + input_bytes / (20 * 1024 * 1024))
}

/// Joins `parts` (in order) into one MP4 at `output`: streams copied, the ffmetadata file's
/// chapters and title added, the index moved to the front (faststart) so players can seek
/// before the whole file arrives.
pub async fn remux(
    ffmpeg: &Path,
    parts: &[PathBuf],
    list_file: &Path,
    metadata_file: &Path,
    output: &Path,
    cancel: &CancellationToken,
) -> Result<(), ProcessError> {
    let input_bytes: u64 = parts
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    Process::new(ffmpeg)
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(["-f", "concat", "-safe", "0", "-i"])
        .arg(list_file)
        .arg("-i")
        .arg(metadata_file)
        // Video and audio only: Twitch's timed ID3 data stream has no place in MP4.
        .args([
            "-map",
            "0:v?",
            "-map",
            "0:a?",
            "-map_metadata",
            "1",
            "-map_chapters",
            "1",
        ])
        .args(["-c", "copy", "-movflags", "+faststart", "-f", "mp4"])
        .arg(output)
        .timeout(remux_timeout(input_bytes))
        .graceful_stop(GracefulStop::Quit)
        .run(cancel)
        .await
        .map(|_| ())
}

/// The concat demuxer's list: one `file '…'` line per part, quotes escaped.
pub fn concat_list(parts: &[PathBuf]) -> String {
    parts
        .iter()
        .map(|p| {
            let text = p.to_string_lossy().replace('\'', "'\\''");
            format!("file '{text}'\n")
        })
        .collect()
}

/// What ffprobe says about a media file.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub duration_ms: u64,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub chapters: usize,
}

#[derive(Deserialize)]
struct ProbeJson {
    #[serde(default)]
    format: Option<ProbeFormat>,
    #[serde(default)]
    streams: Vec<ProbeStream>,
    #[serde(default)]
    chapters: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct ProbeFormat {
    duration: Option<String>,
}

#[derive(Deserialize)]
struct ProbeStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
}

pub async fn probe(
    ffprobe: &Path,
    file: &Path,
    cancel: &CancellationToken,
) -> Result<Probe, String> {
    let out = Process::new(ffprobe)
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg("-show_chapters")
        .arg(file)
        .capture_stdout(4 * 1024 * 1024)
        .timeout(Duration::from_secs(120))
        .run(cancel)
        .await
        .map_err(|e| e.to_string())?;
    parse_probe(&out.stdout)
}

fn parse_probe(json: &str) -> Result<Probe, String> {
    let parsed: ProbeJson =
        serde_json::from_str(json).map_err(|e| format!("ffprobe printed unreadable JSON: {e}"))?;
    let duration_ms = parsed
        .format
        .and_then(|f| f.duration)
        .and_then(|d| d.parse::<f64>().ok())
        .filter(|d| d.is_finite() && *d >= 0.0)
        .map(|d| (d * 1000.0).round() as u64)
        .ok_or("ffprobe found no duration")?;
    let of = |kind: &str| {
        parsed
            .streams
            .iter()
            .find(|s| s.codec_type.as_deref() == Some(kind))
    };
    let video = of("video");
    Ok(Probe {
        duration_ms,
        video_codec: video.and_then(|s| s.codec_name.clone()),
        audio_codec: of("audio").and_then(|s| s.codec_name.clone()),
        width: video.and_then(|s| s.width),
        height: video.and_then(|s| s.height),
        chapters: parsed.chapters.len(),
    })
}

/// One JPEG frame from `at_ms` into the video, 640 px wide.
pub async fn thumbnail(
    ffmpeg: &Path,
    video: &Path,
    at_ms: u64,
    output: &Path,
    cancel: &CancellationToken,
) -> Result<(), ProcessError> {
    Process::new(ffmpeg)
        .args([
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-ss",
        ])
        .arg(format!("{:.3}", at_ms as f64 / 1000.0))
        .arg("-i")
        .arg(video)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "scale=640:-2",
            "-q:v",
            "3",
            "-f",
            "image2",
        ])
        .arg(output)
        .timeout(Duration::from_secs(120))
        .run(cancel)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_concat_list_quotes_every_path() {
        let list = concat_list(&[PathBuf::from("/a/it's.ts"), PathBuf::from("/b c.ts")]);
        assert_eq!(list, "file '/a/it'\\''s.ts'\nfile '/b c.ts'\n");
    }

    #[test]
    fn probe_output_is_read_and_a_missing_duration_is_an_error() {
        let json = r#"{"streams":[{"codec_type":"audio","codec_name":"aac"},
            {"codec_type":"video","codec_name":"h264","width":1280,"height":720}],
            "chapters":[{},{}],"format":{"duration":"12.3456"}}"#;
        let p = parse_probe(json).expect("fixture");
        assert_eq!(p.duration_ms, 12_346);
        assert_eq!(p.video_codec.as_deref(), Some("h264"));
        assert_eq!(p.height, Some(720));
        assert_eq!(p.chapters, 2);
        assert!(parse_probe(r#"{"streams":[],"format":{}}"#).is_err());
    }
}
