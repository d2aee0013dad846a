//! Watched Twitch channels.

use super::StorageResult;
use crate::streams::model::{Channel, ChannelSettings};
use crate::time::Timestamp;
use async_trait::async_trait;

/// Profile fields refreshed from Helix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelProfile {
    pub login: String,
    pub display_name: String,
    pub description: String,
    pub avatar_url: Option<String>,
    pub offline_image_url: Option<String>,
}

#[async_trait]
pub trait ChannelStore: Send + Sync {
    /// Conflict when the Twitch id is already watched (removed channels included).
    async fn insert_twitch_channel(&self, channel: &Channel) -> StorageResult<()>;
    /// A channel, removed ones included (see `removed_at`).
    async fn twitch_channel(&self, id: &str) -> StorageResult<Option<Channel>>;
    async fn twitch_channel_by_twitch_id(&self, twitch_id: &str) -> StorageResult<Option<Channel>>;
    /// Channels not removed, by login.
    async fn list_twitch_channels(&self) -> StorageResult<Vec<Channel>>;
    async fn update_channel_settings(
        &self,
        id: &str,
        settings: &ChannelSettings,
        at: Timestamp,
    ) -> StorageResult<()>;
    /// Refreshes the profile and clears `removed_at` (a removed channel added again).
    async fn update_channel_profile(
        &self,
        id: &str,
        profile: &ChannelProfile,
        at: Timestamp,
    ) -> StorageResult<()>;
    /// Bookkeeping from the live check: a channel removed meanwhile is not an error.
    async fn set_channel_state(
        &self,
        id: &str,
        live: bool,
        title: &str,
        category: &str,
        at: Timestamp,
    ) -> StorageResult<()>;
    /// Sets `live_checked_at` of many channels at once (a poll that changed nothing else).
    async fn mark_channels_checked(&self, ids: &[String], at: Timestamp) -> StorageResult<()>;
    /// Keeping recordings hides the channel; otherwise the channel and its rows are deleted.
    async fn remove_twitch_channel(
        &self,
        id: &str,
        keep_recordings: bool,
        at: Timestamp,
    ) -> StorageResult<()>;
}
