//! What the retention policy reads and the per-channel overrides it keeps.

use super::StorageResult;
use crate::streams::model::Recording;
use async_trait::async_trait;

#[async_trait]
pub trait RetentionStore: Send + Sync {
    async fn set_channel_retention(
        &self,
        channel_id: &str,
        policy: Option<&str>,
    ) -> StorageResult<()>;
    /// Per-channel retention overrides (JSON), by channel id.
    async fn channel_retention(&self) -> StorageResult<Vec<(String, String)>>;
    /// What retention may delete: `ready` and `failed` recordings, oldest first, each with
    /// whether its channel is a favourite.
    async fn retention_candidates(&self) -> StorageResult<Vec<(Recording, bool)>>;
}
