//! Plex and Jellyfin/Emby servers to refresh after a recording lands.

use super::StorageResult;
use crate::mediaserver::model::MediaServer;
use async_trait::async_trait;

#[async_trait]
pub trait MediaServerStore: Send + Sync {
    async fn insert_media_server(&self, server: &MediaServer) -> StorageResult<()>;
    async fn update_media_server(&self, server: &MediaServer) -> StorageResult<()>;
    async fn delete_media_server(&self, id: &str) -> StorageResult<()>;
    async fn media_server(&self, id: &str) -> StorageResult<Option<MediaServer>>;
    async fn list_media_servers(&self) -> StorageResult<Vec<MediaServer>>;
}
