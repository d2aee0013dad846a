//! Recordings while they run: start, progress, gaps, end; and the recordings list.

use super::{PageRequest, Paged, SortOrder, StorageResult};
use crate::streams::model::{Recording, RecordingGap, RecordingProgress, RecordingStatus};
use crate::time::Timestamp;
use async_trait::async_trait;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingQuery {
    pub channel_id: Option<String>,
    pub status: Option<RecordingStatus>,
    /// Matches any category the stream had (its events), case-insensitively.
    pub category: Option<String>,
    /// Words in the title, the channel login or its display name.
    pub search: Option<String>,
    /// Recordings started in `[from, to)`.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub sort: RecordingSort,
    pub order: SortOrder,
    pub page: PageRequest,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordingSort {
    #[default]
    Started,
    Duration,
    Size,
    Channel,
}

#[async_trait]
pub trait RecordingStore: Send + Sync {
    /// Conflict when the channel already has an active recording.
    async fn insert_recording(&self, recording: &Recording) -> StorageResult<()>;
    async fn recording(&self, id: &str) -> StorageResult<Option<Recording>>;
    async fn active_recording(&self, channel_id: &str) -> StorageResult<Option<Recording>>;
    /// Every recording still running, on any channel.
    async fn active_recordings(&self) -> StorageResult<Vec<Recording>>;
    async fn recordings_of_stream(&self, stream_id: &str) -> StorageResult<Vec<Recording>>;
    async fn list_recordings(&self, query: &RecordingQuery) -> StorageResult<Paged<Recording>>;
    /// Persists counters and the heartbeat; false when `owner` no longer holds it.
    async fn update_recording_progress(
        &self,
        id: &str,
        owner: &str,
        progress: &RecordingProgress,
        at: Timestamp,
    ) -> StorageResult<bool>;
    /// [`Self::update_recording_progress`] for several recordings of `owner` at once (one
    /// transaction where the backend has them); one flag per entry, in order.
    async fn update_recordings_progress(
        &self,
        batch: &[(String, RecordingProgress)],
        owner: &str,
        at: Timestamp,
    ) -> StorageResult<Vec<bool>> {
        let mut owned = Vec::with_capacity(batch.len());
        for (id, progress) in batch {
            owned.push(
                self.update_recording_progress(id, owner, progress, at)
                    .await?,
            );
        }
        Ok(owned)
    }
    /// Takes over an active recording (restart or resume): new owner, one more session.
    async fn resume_recording(&self, id: &str, owner: &str, at: Timestamp) -> StorageResult<()>;
    /// Closes an active recording; false when it was not active.
    async fn finish_recording(
        &self,
        id: &str,
        status: RecordingStatus,
        end_reason: Option<&str>,
        error: Option<&str>,
        at: Timestamp,
    ) -> StorageResult<bool>;
    /// Stores a gap; one with the id of a stored gap replaces it (an open gap gets its length
    /// when it closes).
    async fn insert_recording_gap(&self, gap: &RecordingGap) -> StorageResult<()>;
    async fn list_recording_gaps(&self, recording_id: &str) -> StorageResult<Vec<RecordingGap>>;
}
