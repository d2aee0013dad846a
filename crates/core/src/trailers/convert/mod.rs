//! ffmpeg conversion (T7): a download into the profile's container and codecs.
//!
//! Streams already in the target codec are copied; the rest are encoded on the CPU (x264,
//! x265, VP9, SVT-AV1 or libaom) or on the profile's hardware (NVENC, VAAPI, QSV). A hardware
//! encode that fails (no GPU, no driver, an encoder this ffmpeg lacks) is retried once on the
//! CPU, and the report says so. Volume, a trimmed start, trailing silence, subtitles next to
//! the input (mov_text in MP4) and a height limit are applied. On any failure the output is
//! removed.

mod plan;

pub use plan::{ConvertPlan, container_accepts_audio, container_accepts_video, plan};

use crate::tools::MediaFacts;
use crate::tools::{FFMPEG_HINT, Process, ProcessError};
use crate::trailers::model::{Container, HwAccel, OutputSettings};
use plan::{AV1_ENCODERS, plan_with};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// ffprobe's limit on a trailer-sized file (a download or a conversion).
pub const PROBE_LIMIT: Duration = Duration::from_secs(60);

/// What a conversion did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertReport {
    pub copied_video: bool,
    pub copied_audio: bool,
    /// The video encoder that made the file; `None` when the video was copied.
    pub encoder: Option<String>,
    /// Hardware encoding was asked for but the file was encoded on the CPU.
    pub fell_back_to_cpu: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// ffmpeg failed, timed out or was cancelled.
    #[error("ffmpeg: {0}")]
    Ffmpeg(#[from] ProcessError),
    /// This ffmpeg cannot make what the profile asks for.
    #[error("{0}")]
    Unsupported(String),
    /// The settings do not fit this input (a trim longer than the video).
    #[error("{0}")]
    Invalid(String),
}

impl ConvertError {
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Ffmpeg(ProcessError::Cancelled { .. }))
    }
}

/// Converts `input` (described by `facts`) into `output` for `out`.
pub async fn convert(
    ffmpeg: &Path,
    input: &Path,
    output: &Path,
    facts: &MediaFacts,
    out: &OutputSettings,
    cancel: &CancellationToken,
) -> Result<ConvertReport, ConvertError> {
    let result = convert_inner(ffmpeg, input, output, facts, out, cancel).await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(output).await;
    }
    result
}

async fn convert_inner(
    ffmpeg: &Path,
    input: &Path,
    output: &Path,
    facts: &MediaFacts,
    out: &OutputSettings,
    cancel: &CancellationToken,
) -> Result<ConvertReport, ConvertError> {
    if !facts.has_video {
        return Err(ConvertError::Invalid(format!(
            "{} has no video stream",
            input.display()
        )));
    }
    let trim_ms = i64::from(out.trim_start_s) * 1000;
    if trim_ms > 0 && facts.millis() > 0 && trim_ms >= facts.millis() {
        return Err(ConvertError::Invalid(format!(
            "cannot cut {} s from the start of a {:.1} s video",
            out.trim_start_s,
            facts.millis() as f64 / 1000.0
        )));
    }
    let encoders = encoders(ffmpeg, cancel).await;
    let has = |e: &str| encoders.as_ref().is_none_or(|set| set.contains(e));
    let av1 = AV1_ENCODERS
        .into_iter()
        .find(|e| has(e))
        .unwrap_or(AV1_ENCODERS[0]);
    let subtitles = if out.subtitles {
        subtitles_next_to(input)
    } else {
        None
    };

    let length_s = if out.trim_silence && facts.has_audio {
        match trailing_silence(ffmpeg, input, facts.millis(), cancel).await {
            Ok(Some(start)) => Some(start + SILENCE_KEPT_S - f64::from(out.trim_start_s))
                .filter(|s| *s >= MIN_LENGTH_S),
            Ok(None) => None,
            Err(e @ ProcessError::Cancelled { .. }) => return Err(e.into()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot look for trailing silence; keeping it");
                None
            }
        }
    } else {
        None
    };

    let cpu = plan_with(facts, out, HwAccel::None, av1);
    let mut chosen = plan_with(facts, out, out.hw_accel, av1);
    let mut fell_back = false;
    if let Some(e) = chosen.encoder.filter(|_| chosen.uses_hardware())
        && !has(e)
    {
        tracing::info!(
            encoder = e,
            "this ffmpeg has no such hardware encoder; encoding on the CPU"
        );
        chosen = cpu.clone();
        fell_back = true;
    }
    for e in [cpu.encoder, cpu.audio_encoder].into_iter().flatten() {
        if !has(e) {
            return Err(ConvertError::Unsupported(format!(
                "this ffmpeg has no {e} encoder; install a full ffmpeg build"
            )));
        }
    }

    let job = Job {
        ffmpeg,
        input,
        output,
        subtitles: subtitles.as_deref(),
        length_s,
        out,
        timeout: Duration::from_secs(15 * 60)
            + Duration::from_millis(facts.millis().max(0) as u64 * 4),
    };
    let ran = job.run(&chosen, cancel).await;
    let ran = match ran {
        Err(e) if chosen.uses_hardware() && !matches!(e, ProcessError::Cancelled { .. }) => {
            tracing::warn!(
                encoder = chosen.encoder.unwrap_or_default(),
                error = %e,
                "hardware encoding failed; encoding on the CPU"
            );
            let _ = tokio::fs::remove_file(output).await;
            chosen = cpu;
            fell_back = true;
            job.run(&chosen, cancel).await
        }
        other => other,
    };
    ran?;
    Ok(ConvertReport {
        copied_video: chosen.copy_video,
        copied_audio: chosen.copy_audio,
        encoder: chosen.encoder.map(str::to_string),
        fell_back_to_cpu: fell_back,
    })
}

struct Job<'a> {
    ffmpeg: &'a Path,
    input: &'a Path,
    output: &'a Path,
    subtitles: Option<&'a Path>,
    /// Where the output ends (trailing silence cut), in output seconds.
    length_s: Option<f64>,
    out: &'a OutputSettings,
    timeout: Duration,
}

impl Job<'_> {
    async fn run(
        &self,
        plan: &ConvertPlan,
        cancel: &CancellationToken,
    ) -> Result<(), ProcessError> {
        let seek: Vec<String> = if self.out.trim_start_s > 0 {
            vec!["-ss".into(), self.out.trim_start_s.to_string()]
        } else {
            Vec::new()
        };
        let mut p = Process::new(self.ffmpeg)
            .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
            .args(&plan.input_args)
            .args(&seek)
            .arg("-i")
            .arg(self.input);
        if let Some(subs) = self.subtitles {
            // The same cut, so the lines stay in time with the picture.
            p = p.args(&seek).arg("-i").arg(subs);
        }
        p = p
            .args(["-map", "0:V:0", "-map", "0:a:0?", "-dn"])
            .args(&plan.args)
            .args(["-max_muxing_queue_size", "1024"]);
        if let Some(length) = self.length_s {
            p = p.arg("-t").arg(format!("{length:.3}"));
        }
        if self.subtitles.is_some() {
            let codec = match self.out.container {
                Container::Mp4 => "mov_text",
                Container::Mkv => "srt",
                Container::Webm => "webvtt",
            };
            p = p.args(["-map", "1:s:0?", "-c:s", codec]);
        }
        let format = match self.out.container {
            Container::Mp4 => {
                p = p.args(["-movflags", "+faststart"]);
                "mp4"
            }
            Container::Mkv => "matroska",
            Container::Webm => "webm",
        };
        p.args(["-f", format])
            .arg(self.output)
            .timeout(self.timeout)
            .grace_period(Duration::from_secs(5))
            .install_hint(FFMPEG_HINT)
            .run(cancel)
            .await
            .map(|_| ())
    }
}

/// Silence at least this long at the end is cut.
const SILENCE_MIN_S: f64 = 1.0;
/// How much of it is kept (a cut right at the last sound feels abrupt).
const SILENCE_KEPT_S: f64 = 0.25;
/// A cut that would leave less than this is not made (a silent or nearly silent file).
const MIN_LENGTH_S: f64 = 0.5;

/// Where the silence that runs to the end of `input` starts (seconds), if there is one:
/// ffmpeg's `silencedetect` over the audio (a quick decode, nothing written).
async fn trailing_silence(
    ffmpeg: &Path,
    input: &Path,
    duration_ms: i64,
    cancel: &CancellationToken,
) -> Result<Option<f64>, ProcessError> {
    let mut events = Vec::new();
    Process::new(ffmpeg)
        .args([
            "-hide_banner",
            "-nostdin",
            "-nostats",
            "-loglevel",
            "info",
            "-i",
        ])
        .arg(input)
        .args(["-map", "0:a:0", "-af"])
        .arg(format!(
            "silencedetect=noise=-50dB:duration={SILENCE_MIN_S}"
        ))
        .args(["-f", "null", "-"])
        .timeout(Duration::from_secs(5 * 60) + Duration::from_millis(duration_ms.max(0) as u64))
        .grace_period(Duration::from_secs(2))
        .install_hint(FFMPEG_HINT)
        .run_with(cancel, |_, line| {
            if line.contains("silence_start:") || line.contains("silence_end:") {
                events.push(line.to_string());
            }
        })
        .await?;
    Ok(trailing_silence_start(&events, duration_ms as f64 / 1000.0))
}

/// From silencedetect's lines: the start of a silence still open at the end, or one whose
/// end is the end of the file (newer ffmpeg closes it at EOF).
fn trailing_silence_start(lines: &[String], duration_s: f64) -> Option<f64> {
    let value = |line: &str, key: &str| -> Option<f64> {
        line.split(key)
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let mut start = None;
    let mut end = None;
    for line in lines {
        if let Some(s) = value(line, "silence_start:") {
            start = Some(s);
            end = None;
        } else if let Some(e) = value(line, "silence_end:") {
            end = Some(e);
        }
    }
    match (start, end) {
        (Some(s), None) => Some(s),
        (Some(s), Some(e)) if e >= duration_s - 0.1 => Some(s),
        _ => None,
    }
    .map(|s| s.max(0.0))
}

/// `ID.LANG.vtt` or `.srt` beside `ID.mp4` (what yt-dlp writes), the first by name.
fn subtitles_next_to(input: &Path) -> Option<PathBuf> {
    let stem = format!("{}.", input.file_stem()?.to_string_lossy());
    let dir = input.parent()?;
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with(&stem)
                && (name.ends_with(".vtt") || name.ends_with(".srt"))
                && p.as_path() != input
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// The encoders this ffmpeg has (`ffmpeg -encoders`), asked once per program; `None` when
/// it cannot tell (then nothing is ruled out up front).
async fn encoders(ffmpeg: &Path, cancel: &CancellationToken) -> Option<Arc<HashSet<String>>> {
    static KNOWN: OnceLock<Mutex<HashMap<PathBuf, Arc<HashSet<String>>>>> = OnceLock::new();
    let known = KNOWN.get_or_init(Default::default);
    if let Some(set) = known.lock().unwrap_or_else(|p| p.into_inner()).get(ffmpeg) {
        return Some(set.clone());
    }
    let out = Process::new(ffmpeg)
        .args(["-hide_banner", "-nostdin", "-encoders"])
        .capture_stdout(1024 * 1024)
        .timeout(Duration::from_secs(30))
        .run(cancel)
        .await
        .ok()?;
    let set = Arc::new(parse_encoders(&out.stdout));
    if set.is_empty() {
        return None;
    }
    known
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(ffmpeg.to_owned(), set.clone());
    Some(set)
}

/// The names in `ffmpeg -encoders` (` V....D libx264  libx264 H.264 …` after ` ------`).
fn parse_encoders(text: &str) -> HashSet<String> {
    text.lines()
        .skip_while(|l| !l.trim_start().starts_with("---"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests;
