//! Channels, streams, stream events and recordings, as stored.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A Twitch channel Tapearr watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Channel {
    pub id: String,
    /// Twitch's numeric user id (stable across renames).
    pub twitch_id: String,
    /// Lower-case login; used in folder names because display names change and may hold any script.
    pub login: String,
    pub display_name: String,
    pub description: String,
    pub avatar_url: Option<String>,
    pub offline_image_url: Option<String>,
    #[serde(flatten)]
    pub settings: ChannelSettings,
    pub live: bool,
    /// Title and category last seen (live or not).
    pub title: String,
    pub category: String,
    pub live_checked_at: Option<Timestamp>,
    #[serde(skip)]
    pub removed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What the user chooses per channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelSettings {
    pub auto_record: bool,
    /// Preference list, best first: `best`, `1080p60,720p,best`, `audio_only`.
    pub quality: String,
    /// Allowed codecs, comma separated (`h264,h265,av1`).
    pub codecs: String,
    /// Overrides the global naming template for this channel.
    pub naming_template: Option<String>,
    pub favourite: bool,
    /// Fetch this channel's playlists through `twitch.playlist_proxies` (segments stay direct);
    /// a channel in `twitch.proxy_channels` uses them whatever this says.
    #[serde(default)]
    pub use_playlist_proxy: bool,
    /// Capture the channel's chat beside its recordings (S10).
    #[serde(default = "on")]
    pub record_chat: bool,
}

fn on() -> bool {
    true
}

impl Default for ChannelSettings {
    fn default() -> Self {
        Self {
            auto_record: true,
            quality: "best".into(),
            codecs: "h264,h265".into(),
            naming_template: None,
            favourite: false,
            use_playlist_proxy: false,
            record_chat: true,
        }
    }
}

/// One broadcast, identified by Twitch's stream id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Stream {
    pub id: String,
    pub channel_id: String,
    pub twitch_stream_id: String,
    pub title: String,
    pub category: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    /// The user stopped its recording; detection does not start it again.
    pub record_stopped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StreamEventKind {
    /// Synthetic, at the stream's start: chapter 0 gets the right title and category.
    Start,
    /// Title or category changed.
    Update,
    End,
}

impl StreamEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Update => "update",
            Self::End => "end",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "start" => Self::Start,
            "update" => Self::Update,
            "end" => Self::End,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StreamEvent {
    pub id: String,
    pub stream_id: String,
    pub kind: StreamEventKind,
    pub title: String,
    pub category: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordingStatus {
    Recording,
    /// The stream ended or the user stopped it: the parts wait for finalize (or a retry of it).
    Ended,
    /// Finalize is turning the parts into the library MP4.
    Finalizing,
    /// The MP4 is in the library.
    Ready,
    /// Nothing usable was recorded.
    Failed,
    /// A past broadcast (VOD) being downloaded from Twitch; `ended` once it is whole.
    Downloading,
}

impl RecordingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recording => "recording",
            Self::Ended => "ended",
            Self::Finalizing => "finalizing",
            Self::Ready => "ready",
            Self::Failed => "failed",
            Self::Downloading => "downloading",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "recording" => Self::Recording,
            "ended" => Self::Ended,
            "finalizing" => Self::Finalizing,
            "ready" => Self::Ready,
            "failed" => Self::Failed,
            "downloading" => Self::Downloading,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recording {
    pub id: String,
    pub channel_id: String,
    pub stream_id: Option<String>,
    pub status: RecordingStatus,
    /// Absolute folder of the parts (`{stem}.partNNNN.ts|mp4`).
    pub dir: String,
    pub stem: String,
    pub quality: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub bytes: u64,
    pub media_ms: u64,
    pub segments: u64,
    pub missed_segments: u64,
    /// Recorder sessions: 1, plus one per restart or resume.
    pub sessions: u32,
    /// Instance id of the process recording it.
    #[serde(skip)]
    pub owner: String,
    #[serde(skip)]
    pub heartbeat_at: Timestamp,
    pub end_reason: Option<String>,
    pub error: Option<String>,
    pub updated_at: Timestamp,
    #[serde(flatten)]
    pub library: RecordingLibrary,
    #[serde(flatten)]
    pub origin: RecordingOrigin,
    /// Read with the recording, from its channel and stream.
    #[serde(flatten)]
    pub labels: RecordingLabels,
}

/// Where finalize has got to, and what it placed in the library.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordingLibrary {
    pub finalize_step: Option<FinalizeStep>,
    pub finalize_error: Option<String>,
    pub finalized_at: Option<Timestamp>,
    /// Absolute path of the MP4 (chosen before the remux, so every retry writes the same file).
    pub video_path: Option<String>,
    pub video_bytes: Option<u64>,
    /// Duration of the MP4, as ffprobe reads it.
    pub duration_ms: Option<u64>,
    /// Media-server season (`yyyymm`) and episode within it.
    pub season: Option<String>,
    pub episode: Option<u32>,
    /// Kept by the user: retention never deletes it.
    pub keep: bool,
}

/// Where a recording's media came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordingSource {
    /// Recorded while broadcast.
    #[default]
    Live,
    /// A past broadcast (or highlight, or upload) downloaded from Twitch afterwards.
    Vod,
}

impl RecordingSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Vod => "vod",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "live" => Self::Live,
            "vod" => Self::Vod,
            _ => return None,
        })
    }
}

/// The source of a recording, and for a VOD its Twitch video and the live recording of the
/// same broadcast.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordingOrigin {
    #[serde(default)]
    pub source: RecordingSource,
    pub twitch_video_id: Option<String>,
    /// The live recording of the same broadcast (same Twitch stream id), for a VOD.
    pub linked_recording_id: Option<String>,
}

/// Display fields joined from the channel and the stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordingLabels {
    pub channel_login: String,
    pub channel_name: String,
    /// The stream's title and category when it started.
    pub title: String,
    pub category: String,
}

/// The finalize pipeline's steps, in order; each is idempotent.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FinalizeStep {
    /// Parts joined and remuxed into the library MP4.
    Remux,
    /// The MP4 checked with ffprobe.
    Validate,
    /// Thumbnail, chapter files, info.json, NFO and artwork.
    Extras,
    /// The source parts deleted.
    Cleanup,
    Done,
}

impl FinalizeStep {
    pub const ALL: [FinalizeStep; 5] = [
        Self::Remux,
        Self::Validate,
        Self::Extras,
        Self::Cleanup,
        Self::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Remux => "remux",
            Self::Validate => "validate",
            Self::Extras => "extras",
            Self::Cleanup => "cleanup",
            Self::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|step| step.as_str() == s)
    }
}

/// Media missing from a recording: a restart, a resume after a crash, or segments lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordingGap {
    pub id: String,
    pub recording_id: String,
    pub at: Timestamp,
    pub ms: u64,
    pub reason: String,
}

/// Counters a running recording persists with its heartbeat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordingProgress {
    pub bytes: u64,
    pub media_ms: u64,
    pub segments: u64,
    pub missed_segments: u64,
}

impl RecordingProgress {
    /// Where a recording (resumed or restarted) continues counting.
    pub fn of(rec: &Recording) -> Self {
        Self {
            bytes: rec.bytes,
            media_ms: rec.media_ms,
            segments: rec.segments,
            missed_segments: rec.missed_segments,
        }
    }

    /// Counts one written segment; returns its duration in milliseconds.
    pub fn add_segment(&mut self, seconds: f64, bytes: u64) -> u64 {
        let ms = (seconds * 1000.0) as u64;
        self.bytes += bytes;
        self.media_ms += ms;
        self.segments += 1;
        ms
    }
}
