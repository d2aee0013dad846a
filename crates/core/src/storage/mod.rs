//! Storage traits: one small trait per concern, implemented for SQLite and PostgreSQL by
//! `tapearr-db`. [`Storage`] is the umbrella the wiring holds; services take `Arc<dyn Storage>`
//! (or, where they need one concern only, may name that trait). Nothing here knows SQL.
//!
//! Conventions every trait follows:
//! - **Not found.** A lookup by key returns `Ok(None)` when there is no such row; it never fails
//!   with [`StorageError::NotFound`]. A mutation addressed to one row by key (update, delete,
//!   revoke) fails with `NotFound` when the row is missing, unless its doc says it is idempotent
//!   or bookkeeping (touches, progress and state writes that may race with a delete) or it
//!   answers with a flag (`false`: nothing matched).
//! - **Conflict.** A unique key taken, or a row in a state the change does not apply to.
//! - **Lists** are pages: [`PageRequest`] in, [`Paged`] out, where the list can be long.

mod api_keys;
mod archive;
mod arr_connections;
mod channels;
mod downloads;
mod events;
mod jobs;
mod key_value;
mod library;
mod login_throttle;
mod media;
mod media_events;
mod media_servers;
mod notify_channels;
mod notify_messages;
mod push;
mod recordings;
mod retention;
mod sessions;
mod share_links;
mod streams;
mod tasks;
mod trailer_profiles;
mod users;

pub use api_keys::ApiKeyStore;
pub use archive::ArchiveStore;
pub use arr_connections::ArrConnectionStore;
pub use channels::{ChannelProfile, ChannelStore};
pub use downloads::DownloadStore;
pub use events::EventStore;
pub use jobs::{JobEnd, JobStore};
pub use key_value::KeyValueStore;
pub use library::LibraryStore;
pub use login_throttle::LoginThrottleStore;
pub use media::MediaStore;
pub use media_events::MediaEventStore;
pub use media_servers::MediaServerStore;
pub use notify_channels::NotifyChannelStore;
pub use notify_messages::NotifyMessageStore;
pub use push::PushSubscriptionStore;
pub use recordings::{RecordingQuery, RecordingSort, RecordingStore};
pub use retention::RetentionStore;
pub use sessions::SessionStore;
pub use share_links::{ShareLink, ShareLinkStore};
pub use streams::StreamStore;
pub use tasks::TaskStore;
pub use trailer_profiles::TrailerProfileStore;
pub use users::UserStore;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("not found")]
    NotFound,
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Backend(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

pub type StorageResult<T> = Result<T, StorageError>;

/// The pagination convention of every list: `limit` (1–500, default 50) and `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRequest {
    pub limit: u32,
    pub offset: u32,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 500;

    pub fn new(limit: Option<u32>, offset: Option<u32>) -> Self {
        Self {
            limit: limit
                .unwrap_or(Self::DEFAULT_LIMIT)
                .clamp(1, Self::MAX_LIMIT),
            offset: offset.unwrap_or(0),
        }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::new(None, None)
    }
}

/// One page of a list plus the total number of matching rows.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

/// Everything the services need from the database, plus what concerns the database as a whole.
#[async_trait]
pub trait Storage:
    UserStore
    + LoginThrottleStore
    + SessionStore
    + ApiKeyStore
    + JobStore
    + TaskStore
    + EventStore
    + NotifyChannelStore
    + NotifyMessageStore
    + PushSubscriptionStore
    + KeyValueStore
    + MediaServerStore
    + ChannelStore
    + StreamStore
    + RecordingStore
    + LibraryStore
    + ShareLinkStore
    + RetentionStore
    + ArrConnectionStore
    + MediaStore
    + TrailerProfileStore
    + DownloadStore
    + MediaEventStore
    + ArchiveStore
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;
    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> StorageResult<()>;
    /// Makes values replaced earlier in `tables` leave no copy behind (after secrets were
    /// sealed in place): SQLite rebuilds the file (`VACUUM`, then a WAL checkpoint), PostgreSQL
    /// vacuums those tables' dead rows.
    async fn scrub_replaced(&self, _tables: &[&str]) -> StorageResult<()> {
        Ok(())
    }
}
