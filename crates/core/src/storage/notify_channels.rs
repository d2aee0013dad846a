//! Notification channels (where messages go).

use super::StorageResult;
use crate::notify::model::Channel;
use async_trait::async_trait;

#[async_trait]
pub trait NotifyChannelStore: Send + Sync {
    async fn insert_channel(&self, channel: &Channel) -> StorageResult<()>;
    async fn update_channel(&self, channel: &Channel) -> StorageResult<()>;
    async fn delete_channel(&self, id: &str) -> StorageResult<()>;
    async fn channel(&self, id: &str) -> StorageResult<Option<Channel>>;
    async fn list_channels(&self) -> StorageResult<Vec<Channel>>;
}
