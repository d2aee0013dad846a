//! The streamlink backend: the same [`Recorder`] interface over a supervised `streamlink`
//! process, for sites the native recorder does not know.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::recorder::{
    EndReason, EventSink, FailReason, RecordRequest, Recorder, RecorderEvent, RecordingFailure,
    RecordingHandle, RecordingOutcome, RecordingStats,
};

#[derive(Debug, Clone)]
pub struct StreamlinkOptions {
    /// The `streamlink` executable (`$TAPEARR_STREAMLINK`, else `streamlink` from `PATH`).
    pub binary: PathBuf,
    /// After SIGINT to the process group, wait this long before killing it.
    pub stop_grace: Duration,
    /// Run with `--loglevel debug` to count written segments from the log.
    pub count_segments: bool,
    pub extra_args: Vec<String>,
}

impl Default for StreamlinkOptions {
    fn default() -> Self {
        Self {
            binary: std::env::var_os("TAPEARR_STREAMLINK")
                .map(PathBuf::from)
                .unwrap_or_else(|| "streamlink".into()),
            stop_grace: Duration::from_secs(10),
            count_segments: true,
            extra_args: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct StreamlinkRecorder {
    options: StreamlinkOptions,
}

impl StreamlinkRecorder {
    pub fn new(options: StreamlinkOptions) -> Self {
        Self { options }
    }
}

impl Recorder for StreamlinkRecorder {
    fn start(&self, request: RecordRequest) -> RecordingHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        let stop = CancellationToken::new();
        let task = tokio::spawn(supervise(
            self.options.clone(),
            request,
            EventSink(tx),
            stop.clone(),
        ));
        RecordingHandle::new(rx, stop, task)
    }
}

/// Lines kept from stderr for the failure message.
const TAIL_LINES: usize = 12;

async fn supervise(
    opts: StreamlinkOptions,
    req: RecordRequest,
    sink: EventSink,
    stop: CancellationToken,
) -> RecordingOutcome {
    let mut stats = RecordingStats {
        segments_counted: opts.count_segments,
        ..RecordingStats::default()
    };
    let path = req.output.part_path(1, "ts");
    if let Err(e) = tokio::fs::create_dir_all(&req.output.dir).await {
        return failed(&sink, FailReason::Output(e.to_string()), stats);
    }
    let mut cmd = Command::new(&opts.binary);
    cmd.arg("--loglevel")
        .arg(if opts.count_segments { "debug" } else { "info" })
        .args(["--hls-live-edge", "3", "--force", "--output"])
        .arg(&path);
    for (k, v) in &req.headers {
        cmd.arg("--http-header").arg(format!("{k}={v}"));
    }
    cmd.args(&opts.extra_args)
        .arg(&req.source)
        .arg(req.quality.to_string());
    // Tapearr's own settings and secrets (`TAPEARR_*`) never reach the tool.
    for (key, _) in std::env::vars_os() {
        if key.as_encoded_bytes().starts_with(b"TAPEARR_") {
            cmd.env_remove(key);
        }
    }
    // Own process group: a stop signals streamlink and anything it started; never orphaned.
    cmd.process_group(0)
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                " (not found; set TAPEARR_STREAMLINK)"
            } else {
                ""
            };
            return failed(
                &sink,
                FailReason::Process(format!("{}: {e}{hint}", opts.binary.display())),
                stats,
            );
        }
    };
    sink.emit(RecorderEvent::Started {
        playlist_url: req.source.clone(),
        variant: Some(req.quality.to_string()),
        codecs: Vec::new(),
    });
    let written = Arc::new(AtomicU64::new(0));
    let tail = Arc::new(std::sync::Mutex::new(std::collections::VecDeque::new()));
    // Both pipes drained concurrently so streamlink never blocks on a full pipe.
    let out = child
        .stdout
        .take()
        .map(|s| tokio::spawn(drain(s, sink.clone(), written.clone(), tail.clone())));
    let err = child
        .stderr
        .take()
        .map(|s| tokio::spawn(drain(s, sink.clone(), written.clone(), tail.clone())));
    let (status, stopped) = tokio::select! {
        s = child.wait() => (s, false),
        _ = stop.cancelled() => (interrupt(&mut child, opts.stop_grace).await, true),
    };
    for task in [out, err].into_iter().flatten() {
        let _ = task.await;
    }
    stats.segments_written = written.load(Ordering::Relaxed);
    if let Ok(meta) = tokio::fs::metadata(&path).await {
        stats.bytes = meta.len();
        stats.parts = vec![path.clone()];
        sink.emit(RecorderEvent::PartRotated {
            index: 1,
            path: path.clone(),
        });
    }
    let ok = stopped || status.as_ref().is_ok_and(|s| s.success());
    if ok {
        let reason = if stopped {
            EndReason::Stopped
        } else {
            EndReason::ProcessExited
        };
        sink.emit(RecorderEvent::Ended {
            reason,
            stats: stats.clone(),
        });
        Ok(stats)
    } else {
        let lines: Vec<String> = tail
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        let status = status
            .map(|s| s.to_string())
            .unwrap_or_else(|e| e.to_string());
        failed(
            &sink,
            FailReason::Process(format!("streamlink {status}: {}", lines.join(" | "))),
            stats,
        )
    }
}

fn failed(sink: &EventSink, reason: FailReason, stats: RecordingStats) -> RecordingOutcome {
    sink.emit(RecorderEvent::Failed {
        reason: reason.clone(),
        stats: stats.clone(),
    });
    Err(Box::new(RecordingFailure { reason, stats }))
}

/// SIGINT to the whole group (streamlink closes its output cleanly), then kill after `grace`.
async fn interrupt(
    child: &mut Child,
    grace: Duration,
) -> std::io::Result<std::process::ExitStatus> {
    if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGINT);
    }
    match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status,
        Err(_) => {
            if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
                let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            }
            child.kill().await?;
            child.wait().await
        }
    }
}

/// Reads log lines: counts written segments and keeps the tail for error messages.
async fn drain(
    pipe: impl AsyncRead + Unpin,
    sink: EventSink,
    written: Arc<AtomicU64>,
    tail: Arc<std::sync::Mutex<std::collections::VecDeque<String>>>,
) {
    let mut lines = BufReader::new(pipe).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        // streamlink (debug): "[stream.hls][debug] Writing segment 1234 to output"
        if let Some(rest) = line.split("Writing segment ").nth(1) {
            let sequence = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            written.fetch_add(1, Ordering::Relaxed);
            sink.emit(RecorderEvent::SegmentWritten {
                sequence,
                duration: 0.0,
                bytes: 0,
                part: 1,
                location: None,
                program_date_time: None,
            });
            continue;
        }
        if let Ok(mut t) = tail.lock() {
            if t.len() == TAIL_LINES {
                t.pop_front();
            }
            t.push_back(line);
        }
    }
}
