//! The recorder interface the rest of Tapearr drives: `start` → a [`RecordingHandle`] that
//! reports [`RecorderEvent`]s and stops gracefully. Implemented natively ([`crate::NativeRecorder`])
//! and by supervising streamlink ([`crate::StreamlinkRecorder`]).

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::fetch::FetchError;
use crate::playlist::ParseError;
use crate::quality::{CodecAllowList, QualitySpec};
use crate::renew::SourceRenewal;
use crate::writer::{OutputPlan, SegmentLocation};
use std::sync::Arc;

/// What to record.
#[derive(Debug, Clone)]
pub struct RecordRequest {
    /// A master or media playlist URL (native) or any URL streamlink understands.
    pub source: String,
    pub quality: QualitySpec,
    pub codecs: CodecAllowList,
    pub output: OutputPlan,
    /// Extra request headers (e.g. `Authorization`), sent with every request.
    pub headers: Vec<(String, String)>,
    /// A resumed recording: its content up to this program date-time is already on disk.
    /// The first playlist starts at the first segment after it that is still listed (filling
    /// as much of the hole as the playlist window allows) and nothing before it is written
    /// again.
    pub resume_after: Option<SystemTime>,
    /// When `source` stops working (Twitch's playback token expires); with `renewal`, the
    /// native recorder renews it ahead of time and on a 403, without a gap.
    pub source_expires_at: Option<SystemTime>,
    pub renewal: Option<Arc<dyn SourceRenewal>>,
    /// A client (configured with a proxy) for playlist requests only; segments stay direct.
    /// When a playlist request through it fails, the session fetches playlists directly.
    pub playlist_client: Option<reqwest::Client>,
}

impl RecordRequest {
    pub fn new(source: impl Into<String>, output: OutputPlan) -> Self {
        Self {
            source: source.into(),
            quality: QualitySpec::default(),
            codecs: CodecAllowList::default(),
            output,
            headers: Vec::new(),
            resume_after: None,
            source_expires_at: None,
            renewal: None,
            playlist_client: None,
        }
    }
}

/// Why segments are missing from the output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GapReason {
    /// The segment could not be fetched after all retries.
    #[error("fetch failed: {0}")]
    FetchFailed(FetchError),
    /// The segments left the playlist window before we saw them (we fell behind, or the
    /// playlist could not be loaded for a while).
    #[error("they left the playlist before they were fetched")]
    FellOffPlaylist,
}

/// Why a recording ended normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// `EXT-X-ENDLIST`.
    EndList,
    /// No new segment for the configured time.
    NoNewSegments(Duration),
    /// [`RecordingHandle::stop`] was called.
    Stopped,
    /// The supervised process exited on its own (streamlink backend).
    ProcessExited,
}

/// Why a recording failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FailReason {
    #[error("source playlist unavailable: {0}")]
    SourceUnavailable(FetchError),
    #[error("invalid playlist: {0}")]
    InvalidPlaylist(ParseError),
    #[error("no variant matches the quality; available: {}", available.join(", "))]
    NoMatchingVariant { available: Vec<String> },
    #[error("bad URL: {0}")]
    BadUrl(String),
    #[error("writing output failed: {0}")]
    Output(String),
    #[error("recorder process failed: {0}")]
    Process(String),
}

impl FailReason {
    /// The source's origin could not answer (see [`FetchError::origin_unreachable`]): the
    /// broadcast may go on without being recorded.
    pub fn origin_unreachable(&self) -> bool {
        matches!(self, Self::SourceUnavailable(e) if e.origin_unreachable())
    }
}

/// Counters of a recording. Every media sequence number the recorder saw is in exactly one of
/// written, missed or ad.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordingStats {
    pub segments_written: u64,
    pub segments_missed: u64,
    pub ad_segments: u64,
    pub ad_breaks: u64,
    pub ad_seconds: f64,
    /// Segments skipped because a resumed recording already holds them.
    pub segments_already_recorded: u64,
    /// Media seconds written (sum of `EXTINF` of written segments).
    pub media_seconds: f64,
    pub bytes: u64,
    pub parts: Vec<PathBuf>,
    pub playlist_resets: u64,
    pub stalls: u64,
    /// Times an expiring source URL was renewed (a new playback token).
    pub source_renewals: u64,
    /// Requests that succeeded only after retrying.
    pub retries: u64,
    /// Whether segment counts are known (streamlink reports them only with debug logging).
    pub segments_counted: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RecorderEvent {
    /// Recording a media playlist (for a master playlist: the chosen variant).
    Started {
        playlist_url: String,
        variant: Option<String>,
        /// The chosen variant's `CODECS` (e.g. `hvc1.1.2.L153.B0`, `mp4a.40.2`); empty when
        /// not announced (a media playlist, streamlink).
        codecs: Vec<String>,
    },
    SegmentWritten {
        sequence: u64,
        duration: f64,
        bytes: u64,
        part: u32,
        /// Where the bytes went (native recorder; streamlink writes through a pipe and cannot
        /// say).
        location: Option<SegmentLocation>,
        /// The segment's `EXT-X-PROGRAM-DATE-TIME`: where it lies on the broadcast's clock.
        program_date_time: Option<SystemTime>,
    },
    /// `count` segments from `first_sequence` are missing from the output.
    Gap {
        first_sequence: u64,
        count: u64,
        reason: GapReason,
    },
    /// A Twitch stitched ad was left out. `started_at` is the wall clock of its first segment
    /// (`PROGRAM-DATE-TIME`, or when we saw it).
    AdBreak {
        started_at: SystemTime,
        duration: Duration,
        segments: u64,
    },
    PartRotated {
        index: u32,
        path: PathBuf,
    },
    /// Media sequence numbers went backwards (encoder restart); counting restarts from `to`.
    PlaylistReset {
        from: u64,
        to: u64,
    },
    /// No new segment for `for_` (emitted once per stall). `failing` is the playlist's error
    /// when it could not be loaded at all (the origin is unreachable, not merely quiet): time
    /// the broadcast goes on meanwhile is lost.
    Stalled {
        for_: Duration,
        failing: Option<String>,
    },
    /// New segments arrived after a stall.
    Resumed,
    /// The source URL was renewed before or at its expiry; recording goes on in the same part.
    SourceRenewed,
    /// The playlist proxy failed; playlists are fetched directly from now on.
    ProxyAbandoned,
    Ended {
        reason: EndReason,
        stats: RecordingStats,
    },
    Failed {
        reason: FailReason,
        stats: RecordingStats,
    },
}

/// A recording that failed, with what it had done until then.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct RecordingFailure {
    pub reason: FailReason,
    pub stats: RecordingStats,
}

/// How a recording ended (boxed failure: it is rare and large).
pub type RecordingOutcome = Result<RecordingStats, Box<RecordingFailure>>;

/// A recording in progress. Drain [`next_event`](Self::next_event) (events are queued without
/// bound, one per segment at most, so an undrained handle grows slowly) and call
/// [`wait`](Self::wait) for the outcome.
pub struct RecordingHandle {
    events: mpsc::UnboundedReceiver<RecorderEvent>,
    stop: CancellationToken,
    task: JoinHandle<RecordingOutcome>,
}

impl RecordingHandle {
    pub(crate) fn new(
        events: mpsc::UnboundedReceiver<RecorderEvent>,
        stop: CancellationToken,
        task: JoinHandle<RecordingOutcome>,
    ) -> Self {
        Self { events, stop, task }
    }

    /// The next event; `None` once the recording is over and all events were read.
    pub async fn next_event(&mut self) -> Option<RecorderEvent> {
        self.events.recv().await
    }

    /// Asks the recording to stop: in-flight segments are abandoned, the part is synced and
    /// closed, then `Ended { reason: Stopped }` is reported.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// A token that stops this recording when cancelled (for other tasks).
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Waits for the end; remaining events are dropped.
    pub async fn wait(self) -> RecordingOutcome {
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(Box::new(RecordingFailure {
                reason: FailReason::Process(format!("recorder task panicked: {e}")),
                stats: RecordingStats::default(),
            })),
        }
    }
}

/// Something that can record a live stream.
pub trait Recorder: Send + Sync {
    /// Starts recording on the current tokio runtime. Failures are reported through the handle.
    fn start(&self, request: RecordRequest) -> RecordingHandle;
}

/// Sends events; a dropped receiver is not an error (nobody listens).
#[derive(Clone)]
pub(crate) struct EventSink(pub mpsc::UnboundedSender<RecorderEvent>);

impl EventSink {
    pub fn emit(&self, event: RecorderEvent) {
        let _ = self.0.send(event);
    }
}
