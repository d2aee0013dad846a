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
//! - `clips`: clips into the show folder's `Other/` (extras media servers read), their
//!   retention (`keep_clips_days`) and their removal with the channel.
//! - `vod_chat`, `moments`: after a download, the VOD's chat replay and its game changes.
//!
//! **Self-healing.** Adding a VOD is two writes (the recording, then its `archive.vod` job);
//! a process killed between them leaves a `downloading` VOD without a job. Every run of a
//! channel first queues a download for each of its `downloading` VODs that has no queued or
//! running `archive.vod` job, so the gap heals at the next run. A VOD that used its attempts
//! stays `failed` (segments kept) until the user retries it ([`Archive::retry_vod`]); runs do
//! not retry it on their own.
//!
//! [`RecordingOrigin`]: crate::streams::model::RecordingOrigin

pub(crate) mod clips;
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
use crate::streams::model::{Recording, RecordingSource, RecordingStatus};
use crate::streams::{Streams, StreamsError, StreamsResult};
use crate::time::Timestamp;
use model::{ArchiveSettings, ArchivedClip};
use std::sync::Arc;
use std::time::Duration;

pub const RUN_JOB: &str = "archive.run";
pub const VOD_JOB: &str = "archive.vod";

/// Attempts of one VOD download (each resumes where the last stopped).
const VOD_ATTEMPTS: u32 = 5;

/// Fault injection for the crash tests: `enqueue` makes a run wait (until the process is
/// killed) after it stored a VOD recording and before it queued its download.
pub const PAUSE_ENV: &str = "TAPEARR_TEST_ARCHIVE_PAUSE";

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
    /// One channel run at a time in this process: a run that heals a VOD and a run that adds
    /// it must not both queue its download.
    runs: tokio::sync::Mutex<()>,
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
                runs: tokio::sync::Mutex::new(()),
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

    /// Downloads a failed VOD again (the user's retry): it is `downloading` and queued; the
    /// segments an earlier attempt finished are reused. NotFound for an unknown recording,
    /// Conflict for one that is not a failed VOD.
    pub async fn retry_vod(&self, recording_id: &str) -> StreamsResult<Recording> {
        let store = &self.inner.store;
        let rec = store
            .recording(recording_id)
            .await?
            .ok_or(StreamsError::NotFound("recording"))?;
        if rec.origin.source != RecordingSource::Vod {
            return Err(StreamsError::Conflict(
                "only a VOD is downloaded again; this recording was recorded live".into(),
            ));
        }
        if rec.status != RecordingStatus::Failed {
            return Err(StreamsError::Conflict(format!(
                "the VOD is {}; only a failed VOD is retried",
                rec.status.as_str()
            )));
        }
        if !store
            .restart_vod_download(recording_id, Timestamp::now())
            .await?
        {
            return Err(StreamsError::Conflict(
                "the VOD changed meanwhile; reload it".into(),
            ));
        }
        self.enqueue_download(recording_id).await?;
        tracing::info!(recording = %recording_id, "failed VOD queued again");
        store
            .recording(recording_id)
            .await?
            .ok_or(StreamsError::NotFound("recording"))
    }

    /// Queues a download for each `downloading` VOD of the channel that has none queued or
    /// running (a process killed between storing a VOD and queuing it); how many.
    async fn heal_downloads(&self, channel_id: &str) -> StreamsResult<usize> {
        // Recordings first, jobs second: a download that finishes in between is queued once
        // more and finds nothing to do, never the other way round.
        let stuck: Vec<Recording> = self
            .inner
            .store
            .vod_recordings(channel_id)
            .await?
            .into_iter()
            .filter(|r| r.status == RecordingStatus::Downloading)
            .collect();
        if stuck.is_empty() {
            return Ok(0);
        }
        let pending =
            crate::jobs::pending::pending_recordings(self.inner.store.as_ref(), VOD_JOB).await?;
        let mut healed = 0;
        for rec in stuck.iter().filter(|r| !pending.contains(&r.id)) {
            tracing::warn!(recording = %rec.id, "VOD downloading without a download job: queued again");
            self.enqueue_download(&rec.id).await?;
            healed += 1;
        }
        Ok(healed)
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
