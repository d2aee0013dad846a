//! The native recorder: one tokio task per recording, sharing one HTTP client.

use std::time::Duration;

use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::fetch::RetryPolicy;
use crate::live::LiveRecording;
use crate::recorder::{EventSink, RecordRequest, Recorder, RecordingHandle};

/// Tuning of the live loop. The defaults suit Twitch (2 s segments).
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub segment_retry: RetryPolicy,
    pub playlist_retry: RetryPolicy,
    /// Segments downloaded at once when the recorder is behind (writes stay in order).
    pub concurrency: usize,
    /// At start, begin this many segments before the live edge (like streamlink's default).
    pub live_edge: usize,
    /// End the recording when no new segment appeared for this long.
    pub no_segment_timeout: Duration,
    /// Report a stall after this long without a new segment (`None`: three target durations).
    pub stall_after: Option<Duration>,
    /// Largest accepted segment; bounds memory per stream to about `concurrency` times this.
    pub max_segment_bytes: u64,
    /// Segment downloads at once across every recording of one recorder. Bounds the memory of
    /// bursts (many streams starting together each fetch `live_edge` segments) without slowing
    /// steady recording, where each stream fetches one segment per target duration.
    pub max_parallel_downloads: usize,
    /// Renew an expiring source ([`crate::RecordRequest::renewal`]) this long before it expires
    /// (at most halfway through its life).
    pub renew_ahead: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            segment_retry: RetryPolicy {
                attempts: 4,
                timeout: Duration::from_secs(10),
                backoff: Duration::from_millis(250),
                max_backoff: Duration::from_secs(2),
            },
            playlist_retry: RetryPolicy {
                attempts: 3,
                timeout: Duration::from_secs(5),
                backoff: Duration::from_millis(250),
                max_backoff: Duration::from_secs(1),
            },
            concurrency: 2,
            live_edge: 3,
            no_segment_timeout: Duration::from_secs(60),
            stall_after: None,
            max_segment_bytes: 64 * 1024 * 1024,
            max_parallel_downloads: 32,
            renew_ahead: Duration::from_secs(120),
        }
    }
}

/// Records HLS natively. Cheap to clone; all recordings share the client's connection pool.
#[derive(Debug, Clone)]
pub struct NativeRecorder {
    client: reqwest::Client,
    options: LiveOptions,
    downloads: Arc<Semaphore>,
}

impl NativeRecorder {
    pub fn new(client: reqwest::Client, options: LiveOptions) -> Self {
        let downloads = Arc::new(Semaphore::new(options.max_parallel_downloads.max(1)));
        Self {
            client,
            options,
            downloads,
        }
    }

    /// The same recorder (client, download limit) starting `live_edge` segments before the live
    /// edge: 1 for a restart, where earlier segments were already written by the last session.
    pub fn with_live_edge(&self, live_edge: usize) -> Self {
        let mut options = self.options.clone();
        options.live_edge = live_edge;
        Self {
            client: self.client.clone(),
            options,
            downloads: self.downloads.clone(),
        }
    }

    /// A recorder with its own client. Installs the `ring` rustls provider if none is set.
    pub fn with_options(options: LiveOptions) -> Result<Self, reqwest::Error> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // Connections are reused within a reload cycle (playlist, then its new segments) but
            // not kept across cycles: an idle HTTP/1 connection keeps the read buffer it grew to
            // while receiving a segment (hundreds of KB), which per stream outweighs one more
            // handshake every target duration (B1 in docs/benchmarks.md: RSS per stream
            // 1.23 → 0.37 MiB at 100 streams).
            .pool_idle_timeout(Duration::from_millis(500))
            .user_agent(concat!("tapearr-hls/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self::new(client, options))
    }
}

impl Recorder for NativeRecorder {
    fn start(&self, request: RecordRequest) -> RecordingHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        let stop = CancellationToken::new();
        let live = LiveRecording::new(
            self.client.clone(),
            self.options.clone(),
            self.downloads.clone(),
            request,
            EventSink(tx),
            stop.clone(),
        );
        RecordingHandle::new(rx, stop, tokio::spawn(live.run()))
    }
}
