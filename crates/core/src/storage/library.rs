//! The recordings library (S5–S8): finalize state, episodes, files, deletion.

use super::StorageResult;
use crate::streams::model::{FinalizeStep, Recording, RecordingStatus};
use crate::time::Timestamp;
use async_trait::async_trait;

#[async_trait]
pub trait LibraryStore: Send + Sync {
    /// Recordings waiting for finalize or interrupted in it (`ended`, `finalizing`).
    async fn recordings_to_finalize(&self) -> StorageResult<Vec<Recording>>;
    /// Moves a recording between `ended`, `finalizing` and `ready` and records the step reached;
    /// false when it is `recording` or gone.
    async fn set_finalize_state(
        &self,
        id: &str,
        status: RecordingStatus,
        step: Option<FinalizeStep>,
        error: Option<&str>,
        at: Timestamp,
    ) -> StorageResult<bool>;
    /// Gives the recording the next episode number of `season` for its channel, once: a
    /// recording that has one keeps it. Returns the number.
    async fn assign_episode(&self, id: &str, season: &str) -> StorageResult<u32>;
    async fn set_video_path(&self, id: &str, path: &str) -> StorageResult<()>;
    async fn set_video_facts(&self, id: &str, bytes: u64, duration_ms: u64) -> StorageResult<()>;
    /// What a closed recording's parts hold, read from the files (they outrank the counters a
    /// dead recorder saved last).
    async fn set_recorded_media(
        &self,
        id: &str,
        bytes: u64,
        media_ms: u64,
        segments: u64,
    ) -> StorageResult<()>;
    async fn set_recording_keep(&self, id: &str, keep: bool, at: Timestamp) -> StorageResult<()>;
    /// Deletes the rows in one transaction and returns them; Conflict (nothing deleted) when any
    /// is still recording, NotFound when any does not exist.
    async fn delete_recordings(&self, ids: &[String]) -> StorageResult<Vec<Recording>>;
    /// The id of every recording (the orphan scan adopts parts folders with none).
    async fn recording_ids(&self) -> StorageResult<Vec<String>>;
}
