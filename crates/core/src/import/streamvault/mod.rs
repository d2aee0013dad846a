//! StreamVault (Serph91P/StreamVault, SQLAlchemy on PostgreSQL): its streamers as Tapearr
//! channels with their recording settings and cleanup policies, its finished recordings as
//! library recordings pointing at the files where they are, and its Apprise URLs as
//! notification channels. Push subscriptions cannot move (see [`notifications`]).

mod channels;
mod notifications;
mod recordings;
mod retention;

use super::{ImportError, ImportReport};
use crate::crypto::SecretBox;
use crate::files::LibraryRoots;
use crate::secret::Secret;
use crate::storage::Storage;
use std::path::{Path, PathBuf};

const APP: &str = "streamvault";

/// What the import reads from a StreamVault database.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub streamers: Vec<SourceStreamer>,
    /// `global_settings.supported_codecs`: a streamer without its own codecs uses these.
    pub global_codecs: Option<String>,
    pub recordings: Vec<SourceRecording>,
    /// `stream_events`: title and category changes, the recordings' chapters.
    pub stream_events: Vec<SourceStreamEvent>,
    /// `recording_settings.output_directory`: where StreamVault wrote (as it saw it).
    pub output_directory: Option<String>,
    /// `recording_settings.cleanup_policy` (JSON) and `max_streams_per_streamer`.
    pub global_cleanup_policy: Option<String>,
    pub global_max_streams: Option<i64>,
    /// From `global_settings`; `None` when it has no notification URL.
    pub notifications: Option<SourceNotifications>,
    /// Rows of `push_subscriptions` that are active.
    pub push_subscriptions: i64,
    /// Names of the categories some user marked as favourite.
    pub favourite_categories: Vec<String>,
    /// Rows of `notification_settings` (per-streamer switches).
    pub notification_settings: i64,
}

/// A row of `streamers` with its `streamer_recording_settings`.
#[derive(Debug, Clone, Default)]
pub struct SourceStreamer {
    pub id: i64,
    pub twitch_id: String,
    pub username: String,
    pub description: Option<String>,
    pub profile_image_url: Option<String>,
    pub offline_image_url: Option<String>,
    pub category_name: Option<String>,
    pub is_favorite: bool,
    pub auto_record: bool,
    /// `streamer_recording_settings.enabled` (absent: no row).
    pub recording_enabled: Option<bool>,
    pub quality: Option<String>,
    pub codecs: Option<String>,
    pub is_test_data: bool,
    pub max_streams: Option<i64>,
    pub cleanup_policy: Option<String>,
    /// `use_global_cleanup_policy` (true when there is no settings row).
    pub use_global_cleanup_policy: bool,
}

/// A row of `recordings` with its `streams` row. Times are epoch milliseconds.
#[derive(Debug, Clone, Default)]
pub struct SourceRecording {
    pub id: i64,
    pub streamer_id: i64,
    pub stream_id: i64,
    /// `recording`, `completed`, `error`, `failed`.
    pub status: String,
    /// The file as StreamVault saw it (`recordings.path`, else `streams.recording_path`).
    pub path: Option<String>,
    pub duration_secs: Option<i64>,
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub title: Option<String>,
    pub category: Option<String>,
    pub twitch_stream_id: Option<String>,
}

/// A row of `stream_events` (`stream.online`, `channel.update`, `stream.offline`).
#[derive(Debug, Clone, Default)]
pub struct SourceStreamEvent {
    pub stream_id: i64,
    pub event_type: String,
    pub title: Option<String>,
    pub category: Option<String>,
    pub at_ms: i64,
}

/// StreamVault's notification settings (`global_settings`).
#[derive(Debug, Clone, Default)]
pub struct SourceNotifications {
    /// One or more Apprise URLs (StreamVault passes the field to Apprise as is: comma or space
    /// separated).
    pub url: Secret,
    pub enabled: bool,
    pub online: bool,
    pub offline: bool,
    pub update: bool,
    pub favourite_category: bool,
    pub recording_started: bool,
    pub recording_failed: bool,
    pub recording_completed: bool,
}

/// Where the recordings are, and where they may be.
pub struct Files<'a> {
    /// StreamVault's recordings folder as this machine sees it (`--recordings`).
    pub folder: Option<&'a Path>,
    pub roots: Option<LibraryRoots>,
    pub ffmpeg: PathBuf,
}

pub async fn import(
    store: &dyn Storage,
    secrets: &SecretBox,
    snap: &Snapshot,
    files: &Files<'_>,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport {
        dry_run,
        ..ImportReport::default()
    };
    let channels = channels::import(store, snap, dry_run, &mut report).await?;
    recordings::import(store, snap, &channels, files, dry_run, &mut report).await?;
    notifications::import(store, secrets, snap, dry_run, &mut report).await?;
    Ok(report)
}

pub(super) fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}
