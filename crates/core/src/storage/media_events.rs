//! The history of one item (searches, downloads, failures), shown on its page.

use super::StorageResult;
use crate::time::Timestamp;
use crate::trailers::model::MediaEvent;
use async_trait::async_trait;

#[async_trait]
pub trait MediaEventStore: Send + Sync {
    async fn add_media_event(
        &self,
        media_id: &str,
        profile_id: Option<&str>,
        kind: &str,
        message: &str,
        at: Timestamp,
    ) -> StorageResult<()>;
    async fn media_events(&self, media_id: &str, limit: u32) -> StorageResult<Vec<MediaEvent>>;
}
