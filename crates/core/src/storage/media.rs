//! Movies and series synced from the Arrs, with the user's choices on them.

use super::StorageResult;
use crate::trailers::model::{MediaCursor, MediaItem, MediaListPage, MediaQuery, ScanRecord};
use async_trait::async_trait;
use std::collections::HashMap;

#[async_trait]
pub trait MediaStore: Send + Sync {
    /// `ext_id → (media id, arr id, fingerprint)` of one connection's media.
    async fn media_fingerprints(
        &self,
        connection_id: &str,
    ) -> StorageResult<HashMap<i64, (String, i64, String)>>;
    /// New items as they are; existing ones (by id) get the Arr's fields only: the user's
    /// `monitor`, `trailer_id_override` and `added_at` are kept. One transaction per call.
    async fn upsert_media(
        &self,
        inserts: &[(MediaItem, String)],
        updates: &[(MediaItem, String)],
    ) -> StorageResult<()>;
    async fn delete_media(&self, ids: &[String]) -> StorageResult<()>;
    /// One page in title order, by offset or after `q.cursor` (see [`MediaCursor`]).
    async fn list_media(
        &self,
        q: &MediaQuery,
        after: Option<&MediaCursor>,
    ) -> StorageResult<MediaListPage>;
    async fn all_media(&self) -> StorageResult<Vec<MediaItem>>;
    /// Every item with its scan state, in one read, for the plan (preview and run): without the
    /// fields no plan reads (`overview`, `poster_url`, `fanart_url`, `imdb_id` and the scan's
    /// `state` are `None`).
    async fn plan_media(&self) -> StorageResult<(Vec<MediaItem>, Vec<ScanRecord>)>;
    async fn media(&self, id: &str) -> StorageResult<Option<MediaItem>>;
    /// These items (ids not found are left out).
    async fn media_of(&self, ids: &[String]) -> StorageResult<Vec<MediaItem>>;
    async fn set_media_monitor(&self, id: &str, monitor: bool) -> StorageResult<()>;
    async fn set_media_override(&self, id: &str, video_id: Option<&str>) -> StorageResult<()>;
}
