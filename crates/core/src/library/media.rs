//! ffmpeg for finalize: join + remux (stream copy, never a re-encode) and a thumbnail; ffprobe
//! is `tools::ffprobe`.

use crate::tools::{GracefulStop, Process, ProcessError};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// ffmpeg's limit: generous, since a remux only copies, but a wedged ffmpeg must not hold the
/// finalize queue forever.
fn remux_timeout(input_bytes: u64) -> Duration {
    Duration::from_secs(30 * 60 + input_bytes / (20 * 1024 * 1024))
}

/// Joins `parts` (in order) into one MP4 at `output`, with the ffmetadata file's chapters and
/// title.
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
    let input = RemuxInput::Parts {
        list_file,
        metadata_file,
    };
    run_remux(ffmpeg, input, input_bytes, output, cancel).await
}

/// One TS (an imported StreamVault recording) as an MP4 at `output`.
pub async fn remux_file(
    ffmpeg: &Path,
    input: &Path,
    output: &Path,
    cancel: &CancellationToken,
) -> Result<(), ProcessError> {
    let input_bytes = std::fs::metadata(input).map_or(0, |m| m.len());
    run_remux(ffmpeg, RemuxInput::File(input), input_bytes, output, cancel).await
}

/// What a remux reads.
#[derive(Clone, Copy)]
enum RemuxInput<'a> {
    /// A recording's parts through the concat demuxer, and an ffmetadata file (chapters, title).
    Parts {
        list_file: &'a Path,
        metadata_file: &'a Path,
    },
    File(&'a Path),
}

/// The ffmpeg run both remuxes share: streams copied (never a re-encode), video and audio only,
/// the index moved to the front (faststart) so players can seek before the whole file arrives.
async fn run_remux(
    ffmpeg: &Path,
    input: RemuxInput<'_>,
    input_bytes: u64,
    output: &Path,
    cancel: &CancellationToken,
) -> Result<(), ProcessError> {
    let mut process =
        Process::new(ffmpeg).args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]);
    process = match input {
        RemuxInput::Parts {
            list_file,
            metadata_file,
        } => process
            .args(["-f", "concat", "-safe", "0", "-i"])
            .arg(list_file)
            .arg("-i")
            .arg(metadata_file),
        RemuxInput::File(path) => process.arg("-i").arg(path),
    };
    // Twitch's timed ID3 data stream has no place in MP4.
    process = process.args(["-map", "0:v?", "-map", "0:a?"]);
    if let RemuxInput::Parts { .. } = input {
        process = process.args(["-map_metadata", "1", "-map_chapters", "1"]);
    }
    process
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

/// ffprobe's limit on a recording's MP4 or part (a long file takes a while to index).
pub const PROBE_LIMIT: Duration = Duration::from_secs(120);

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
}
