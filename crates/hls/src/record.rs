//! One recording from start to summary: what `tapearr record` runs.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::native::{LiveOptions, NativeRecorder};
use crate::playlist::datetime::format_iso8601;
use crate::quality::{CodecAllowList, QualitySpec};
use crate::recorder::{
    EndReason, FailReason, RecordRequest, Recorder, RecorderEvent, RecordingFailure, RecordingStats,
};
use crate::streamlink::{StreamlinkOptions, StreamlinkRecorder};
use crate::writer::OutputPlan;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    #[default]
    Native,
    Streamlink,
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "native" => Ok(Self::Native),
            "streamlink" => Ok(Self::Streamlink),
            other => Err(format!("unknown backend {other:?} (native|streamlink)")),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Native => "native",
            Self::Streamlink => "streamlink",
        })
    }
}

/// Called for every event (progress output, tests).
pub type EventCallback = Arc<dyn Fn(&RecorderEvent) + Send + Sync>;

#[derive(Clone)]
pub struct RecordOptions {
    pub url: String,
    /// `dir/name.ext`: parts are written as `dir/name.part0001.{ts|mp4}`.
    pub output: PathBuf,
    /// Quality spec, e.g. `best` or `1080p60,720p,best`.
    pub quality: String,
    /// Codec allow-list, e.g. `h264,h265` (empty: any).
    pub codecs: String,
    /// Stop after this long (graceful), else record until the stream ends or Ctrl-C.
    pub duration: Option<Duration>,
    pub backend: Backend,
    /// streamlink executable; defaults to `$TAPEARR_STREAMLINK`, then `streamlink`.
    pub streamlink: Option<PathBuf>,
    pub live: LiveOptions,
    pub on_event: Option<EventCallback>,
}

impl RecordOptions {
    pub fn new(url: impl Into<String>, output: impl Into<PathBuf>) -> Self {
        Self {
            url: url.into(),
            output: output.into(),
            quality: "best".into(),
            codecs: String::new(),
            duration: None,
            backend: Backend::Native,
            streamlink: None,
            live: LiveOptions::default(),
            on_event: None,
        }
    }
}

/// An ad break that was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct AdBreakSeen {
    pub started_at: SystemTime,
    pub duration: Duration,
}

/// What a recording produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSummary {
    pub backend: Backend,
    pub stats: RecordingStats,
    pub end: EndReason,
    pub elapsed: Duration,
    pub ad_breaks: Vec<AdBreakSeen>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("could not set up the recorder: {0}")]
    Setup(String),
    #[error("recording failed: {reason}")]
    Failed {
        reason: FailReason,
        stats: RecordingStats,
    },
}

/// Records `opts.url` until it ends, `opts.duration` passes or Ctrl-C, then summarises.
pub async fn record(opts: RecordOptions) -> Result<RecordSummary, RecordError> {
    let started = Instant::now();
    let quality: QualitySpec = opts.quality.parse().unwrap_or_default();
    let mut request = RecordRequest::new(opts.url.clone(), OutputPlan::from_path(&opts.output));
    request.quality = quality;
    request.codecs = CodecAllowList::parse(&opts.codecs);
    let recorder: Box<dyn Recorder> = match opts.backend {
        Backend::Native => Box::new(
            NativeRecorder::with_options(opts.live.clone())
                .map_err(|e| RecordError::Setup(e.to_string()))?,
        ),
        Backend::Streamlink => {
            let mut so = StreamlinkOptions::default();
            if let Some(bin) = &opts.streamlink {
                so.binary = bin.clone();
            }
            Box::new(StreamlinkRecorder::new(so))
        }
    };
    let mut handle = recorder.start(request);
    let deadline = opts.duration.map(|d| tokio::time::Instant::now() + d);
    let mut ad_breaks = Vec::new();
    let mut stop_sent = false;
    let mut outcome: Option<Result<(EndReason, RecordingStats), RecordingFailure>> = None;
    loop {
        let timer = async {
            match deadline {
                Some(d) if !stop_sent => tokio::time::sleep_until(d).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            event = handle.next_event() => {
                let Some(event) = event else { break };
                if let Some(cb) = &opts.on_event {
                    cb(&event);
                }
                match event {
                    RecorderEvent::AdBreak { started_at, duration, .. } => ad_breaks.push(AdBreakSeen { started_at, duration }),
                    RecorderEvent::Ended { reason, stats } => outcome = Some(Ok((reason, stats))),
                    RecorderEvent::Failed { reason, stats } => outcome = Some(Err(RecordingFailure { reason, stats })),
                    _ => {}
                }
            }
            _ = timer => {
                handle.stop();
                stop_sent = true;
            }
            _ = tokio::signal::ctrl_c(), if !stop_sent => {
                handle.stop();
                stop_sent = true;
            }
        }
    }
    let outcome = match outcome {
        Some(o) => o,
        // Events ended without a final one: take the task's result.
        None => handle
            .wait()
            .await
            .map(|s| (EndReason::Stopped, s))
            .map_err(|f| *f),
    };
    match outcome {
        Ok((end, stats)) => Ok(RecordSummary {
            backend: opts.backend,
            stats,
            end,
            elapsed: started.elapsed(),
            ad_breaks,
        }),
        Err(RecordingFailure { reason, stats }) => Err(RecordError::Failed { reason, stats }),
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EndList => f.write_str("the stream ended (EXT-X-ENDLIST)"),
            Self::NoNewSegments(d) => write!(f, "no new segment for {} s", d.as_secs()),
            Self::Stopped => f.write_str("stopped"),
            Self::ProcessExited => f.write_str("the recorder process exited"),
        }
    }
}

impl fmt::Display for RecordSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.stats;
        writeln!(
            f,
            "backend:   {} ({}, after {:.1} s)",
            self.backend,
            self.end,
            self.elapsed.as_secs_f64()
        )?;
        if s.segments_counted {
            writeln!(
                f,
                "segments:  {} written, {} missed, {} ads left out ({:.1} s of media)",
                s.segments_written, s.segments_missed, s.ad_segments, s.media_seconds
            )?;
        } else {
            writeln!(f, "segments:  not counted by this backend")?;
        }
        writeln!(
            f,
            "ads:       {:.1} s in {} break(s)",
            s.ad_seconds, s.ad_breaks
        )?;
        for ad in &self.ad_breaks {
            writeln!(
                f,
                "           at {} for {:.1} s",
                format_iso8601(ad.started_at),
                ad.duration.as_secs_f64()
            )?;
        }
        if s.playlist_resets > 0 || s.stalls > 0 || s.retries > 0 {
            writeln!(
                f,
                "events:    {} playlist reset(s), {} stall(s), {} retried request(s)",
                s.playlist_resets, s.stalls, s.retries
            )?;
        }
        writeln!(f, "bytes:     {} ({:.1} MB)", s.bytes, s.bytes as f64 / 1e6)?;
        write!(f, "parts:     {}", s.parts.len())?;
        for p in &s.parts {
            write!(f, "\n           {}", p.display())?;
        }
        Ok(())
    }
}
