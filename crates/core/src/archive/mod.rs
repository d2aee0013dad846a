//! The archive (S10): past broadcasts (VODs) and clips of watched channels.
//!
//! A VOD is a recording with source `vod` ([`RecordingOrigin`]): it is created `downloading`,
//! the native HLS engine ([`tapearr_hls::vod`]) fetches its segments into the recording's parts
//! folder and joins them into one part, and from `ended` on the library finalizes, retains,
//! deletes and notifies about it like any recording. A VOD of a broadcast that was also
//! recorded live shares its stream (chapters come from the stored stream events) and links to
//! the live recording; the channel's [`LivePolicy`] says whether to keep both, prefer the VOD
//! (the live recording is deleted once the VOD is ready) or skip the VOD.
//!
//! - [`model`]: per-channel settings and placed clips.
//! - `scan`: the `archive.run` job: which videos and clips to archive.
//! - `download`: the `archive.vod` job: one VOD, resumable.
//! - `clips`: clips into the show folder's `Other/` (extras media servers read).
//! - `vod_chat`, `moments`: after a download, the VOD's chat replay and its game changes.
//!
//! [`RecordingOrigin`]: crate::streams::model::RecordingOrigin

mod clips;
mod download;
pub mod model;
mod moments;
mod scan;
mod vod_chat;

pub use download::VodHandler;
pub use scan::RunHandler;

use crate::events::EventBus;
use crate::jobs::{EnqueueOptions, JobQueue, TaskDef};
use crate::library::Library;
use crate::storage::Storage;
use crate::streams::model::Recording;
use crate::streams::{Streams, StreamsError, StreamsResult};
use model::{ArchiveSettings, ArchivedClip};
use std::sync::Arc;
use std::time::Duration;

pub const RUN_JOB: &str = "archive.run";
pub const VOD_JOB: &str = "archive.vod";

/// Attempts of one VOD download (each resumes where the last stopped).
const VOD_ATTEMPTS: u32 = 5;

pub fn task_defs() -> Vec<TaskDef> {
    vec![TaskDef {
        name: "archive",
        kind: RUN_JOB,
        description: "Archive past broadcasts and top clips of channels with the archive on",
        interval: Duration::from_secs(6 * 3600),
        initial_delay: Duration::from_secs(600),
    }]
}

/// Everything the archive needs; cheap to clone.
#[derive(Clone)]
pub struct Archive {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Storage>,
    streams: Streams,
    library: Library,
    queue: JobQueue,
    events: EventBus,
    http: reqwest::Client,
}

pub struct ArchiveDeps {
    pub store: Arc<dyn Storage>,
    pub streams: Streams,
    pub library: Library,
    pub queue: JobQueue,
    pub events: EventBus,
    pub http: reqwest::Client,
}

/// A channel's archived VODs and clips.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ArchiveItems {
    pub vods: Vec<Recording>,
    pub clips: Vec<ArchivedClip>,
}

impl Archive {
    pub fn new(deps: ArchiveDeps) -> Self {
        Self {
            inner: Arc::new(Inner {
                store: deps.store,
                streams: deps.streams,
                library: deps.library,
                queue: deps.queue,
                events: deps.events,
                http: deps.http,
            }),
        }
    }

    async fn channel_exists(&self, channel_id: &str) -> StreamsResult<()> {
        match self.inner.store.twitch_channel(channel_id).await? {
            Some(c) if c.removed_at.is_none() => Ok(()),
            _ => Err(StreamsError::NotFound("channel")),
        }
    }

    /// The channel's settings (the defaults, off, when never set).
    pub async fn settings(&self, channel_id: &str) -> StreamsResult<ArchiveSettings> {
        self.channel_exists(channel_id).await?;
        Ok(self.stored_settings(channel_id).await?.unwrap_or_default())
    }

    async fn stored_settings(&self, channel_id: &str) -> StreamsResult<Option<ArchiveSettings>> {
        let Some(json) = self.inner.store.channel_archive(channel_id).await? else {
            return Ok(None);
        };
        serde_json::from_str(&json).map(Some).map_err(|e| {
            StreamsError::Storage(crate::storage::StorageError::Corrupt(e.to_string()))
        })
    }

    /// Checks and stores the channel's settings.
    pub async fn set_settings(
        &self,
        channel_id: &str,
        settings: &ArchiveSettings,
    ) -> StreamsResult<ArchiveSettings> {
        settings.check().map_err(StreamsError::Invalid)?;
        self.channel_exists(channel_id).await?;
        let json =
            serde_json::to_string(settings).map_err(|e| StreamsError::Invalid(e.to_string()))?;
        self.inner
            .store
            .set_channel_archive(channel_id, &json)
            .await?;
        Ok(settings.clone())
    }

    /// Queues an archive run for one channel now; returns the job id.
    pub async fn run_now(&self, channel_id: &str) -> StreamsResult<String> {
        self.channel_exists(channel_id).await?;
        let payload = serde_json::json!({ "channel_id": channel_id });
        let job = self
            .inner
            .queue
            .enqueue(RUN_JOB, payload, EnqueueOptions::default())
            .await
            .map_err(|e| StreamsError::Conflict(e.to_string()))?;
        Ok(job.id)
    }

    /// The channel's VODs (with their status) and clips.
    pub async fn items(&self, channel_id: &str) -> StreamsResult<ArchiveItems> {
        self.channel_exists(channel_id).await?;
        Ok(ArchiveItems {
            vods: self.inner.store.vod_recordings(channel_id).await?,
            clips: self.inner.store.list_archived_clips(channel_id).await?,
        })
    }

    async fn enqueue_download(&self, recording_id: &str) -> StreamsResult<()> {
        let payload = serde_json::json!({ "recording_id": recording_id });
        self.inner
            .queue
            .enqueue(
                VOD_JOB,
                payload,
                EnqueueOptions {
                    max_attempts: VOD_ATTEMPTS,
                    ..EnqueueOptions::default()
                },
            )
            .await
            .map_err(|e| StreamsError::Conflict(e.to_string()))?;
        Ok(())
    }
}
