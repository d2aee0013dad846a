//! Share links to one recording (only the token's hash is stored).

use super::StorageResult;
use crate::time::Timestamp;
use async_trait::async_trait;

/// A share link as stored: only the token's hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLink {
    pub token_hash: String,
    pub recording_id: String,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait ShareLinkStore: Send + Sync {
    async fn insert_share_link(&self, link: &ShareLink) -> StorageResult<()>;
    /// A link that has not expired at `now`.
    async fn share_link(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StorageResult<Option<ShareLink>>;
    async fn delete_expired_share_links(&self, now: Timestamp) -> StorageResult<u64>;
    /// Links that have not expired at `now`, newest first; of one recording, or of all.
    async fn share_links(
        &self,
        recording_id: Option<&str>,
        now: Timestamp,
    ) -> StorageResult<Vec<ShareLink>>;
    /// Deletes one link; NotFound when there is none with this hash.
    async fn delete_share_link(&self, token_hash: &str) -> StorageResult<()>;
}
