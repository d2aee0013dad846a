//! The archive: per-channel settings, VOD recordings and placed clips.

use super::StorageResult;
use crate::archive::model::ArchivedClip;
use crate::streams::model::Recording;
use crate::time::Timestamp;
use async_trait::async_trait;
use std::collections::HashSet;

#[async_trait]
pub trait ArchiveStore: Send + Sync {
    /// The channel's archive settings (JSON), `None` when never set.
    async fn channel_archive(&self, channel_id: &str) -> StorageResult<Option<String>>;
    /// NotFound when the channel does not exist.
    async fn set_channel_archive(&self, channel_id: &str, settings: &str) -> StorageResult<()>;
    /// `(channel id, settings JSON)` of every channel (not removed) with settings.
    async fn archive_channels(&self) -> StorageResult<Vec<(String, String)>>;
    /// The Twitch videos of the channel that have a recording (whatever its status).
    async fn archived_video_ids(&self, channel_id: &str) -> StorageResult<HashSet<String>>;
    /// The channel's VOD recordings, newest first.
    async fn vod_recordings(&self, channel_id: &str) -> StorageResult<Vec<Recording>>;
    /// A finished download: `downloading` → `ended` with what the part holds (and a new end
    /// reason when given: what the VOD lacks); false when the recording is not downloading
    /// (deleted meanwhile).
    async fn finish_vod_download(
        &self,
        id: &str,
        bytes: u64,
        media_ms: u64,
        segments: u64,
        end_reason: Option<&str>,
        at: Timestamp,
    ) -> StorageResult<bool>;
    /// `downloading` → `failed` with the reason; false when it is not downloading.
    async fn fail_vod_download(&self, id: &str, error: &str, at: Timestamp) -> StorageResult<bool>;
    /// Downloading again (the user's retry of a failed VOD): `failed` → `downloading`.
    async fn restart_vod_download(&self, id: &str, at: Timestamp) -> StorageResult<bool>;
    async fn archived_clip(
        &self,
        channel_id: &str,
        clip_id: &str,
    ) -> StorageResult<Option<ArchivedClip>>;
    /// Inserts the clip or replaces the one with its `(channel_id, clip_id)`.
    async fn upsert_archived_clip(&self, clip: &ArchivedClip) -> StorageResult<()>;
    /// The channel's clips, most viewed first.
    async fn list_archived_clips(&self, channel_id: &str) -> StorageResult<Vec<ArchivedClip>>;
    /// Forgets a clip (its file removed first); false when there was no such row.
    async fn delete_archived_clip(&self, id: &str) -> StorageResult<bool>;
}
