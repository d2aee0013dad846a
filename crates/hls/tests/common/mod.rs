//! Shared helpers: a local origin, fast recorder options, ffmpeg/ffprobe checks.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use tapearr_hls::{
    LiveOptions, NativeRecorder, OutputPlan, RecordRequest, Recorder, RecorderEvent,
    RecordingOutcome, RecordingStats, RetryPolicy,
};
use tapearr_testkit::hls_origin::{ChannelSpec, HlsOrigin};

/// Options tuned for 1 s test segments so faults resolve quickly.
pub fn fast_options() -> LiveOptions {
    LiveOptions {
        segment_retry: RetryPolicy {
            attempts: 4,
            timeout: Duration::from_millis(1500),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
        },
        playlist_retry: RetryPolicy {
            attempts: 3,
            timeout: Duration::from_secs(1),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
        },
        stall_after: Some(Duration::from_millis(2500)),
        no_segment_timeout: Duration::from_secs(20),
        ..LiveOptions::default()
    }
}

pub async fn origin(name: &str, spec: ChannelSpec) -> HlsOrigin {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let origin = HlsOrigin::start().await.expect("origin starts");
    origin.add_channel(name, spec.build().await.expect("media generated"));
    origin
}

pub struct Recorded {
    pub events: Vec<RecorderEvent>,
    pub outcome: RecordingOutcome,
}

impl Recorded {
    pub fn stats(&self) -> &RecordingStats {
        match &self.outcome {
            Ok(s) => s,
            Err(f) => panic!("recording failed: {}", f.reason),
        }
    }

    pub fn written_sequences(&self) -> Vec<u64> {
        self.events
            .iter()
            .filter_map(|e| match e {
                RecorderEvent::SegmentWritten { sequence, .. } => Some(*sequence),
                _ => None,
            })
            .collect()
    }

    pub fn only_part(&self) -> PathBuf {
        let parts = &self.stats().parts;
        assert_eq!(parts.len(), 1, "expected one part: {parts:?}");
        parts[0].clone()
    }
}

/// Records `url` with the native recorder until it ends by itself.
pub async fn record_to_end(url: &str, dir: &Path, options: LiveOptions) -> Recorded {
    record_request_to_end(request(url, dir), options).await
}

/// A request for the best variant of `url` into `dir/rec.partNNNN.*`.
pub fn request(url: &str, dir: &Path) -> RecordRequest {
    let mut req = RecordRequest::new(url, OutputPlan::new(dir, "rec"));
    req.quality = "best".parse().expect("spec");
    req
}

/// Records `req` with the native recorder until it ends by itself.
pub async fn record_request_to_end(req: RecordRequest, options: LiveOptions) -> Recorded {
    let recorder = NativeRecorder::with_options(options).expect("client");
    let mut handle = recorder.start(req);
    let mut events = Vec::new();
    let collect = async {
        while let Some(e) = handle.next_event().await {
            events.push(e);
        }
    };
    tokio::time::timeout(Duration::from_secs(60), collect)
        .await
        .expect("recording ends within 60 s");
    let outcome = handle.wait().await;
    Recorded { events, outcome }
}

/// ffmpeg's error output when decoding the whole file (empty = clean).
pub fn decode_errors(path: &Path) -> String {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Media seconds ffprobe reads from the file: decodable video packets over the frame rate
/// (container durations differ: fMP4 counts from timestamp 0, TS from the first packet).
pub fn probe_duration(path: &Path) -> f64 {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-count_packets", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=nb_read_packets,r_frame_rate",
            "-of",
            "default=nw=1",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(str::trim)
            .map(str::to_owned)
    };
    let packets: f64 = field("nb_read_packets=")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "ffprobe read no packets from {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let fps = field("r_frame_rate=")
        .and_then(|r| {
            let (n, d) = r.split_once('/')?;
            Some(n.parse::<f64>().ok()? / d.parse::<f64>().ok()?)
        })
        .filter(|f| *f > 0.0)
        .expect("frame rate");
    packets / fps
}
