//! The event history (what the WebSocket replays and notifications read).

use super::StorageResult;
use crate::events::model::{EventQuery, EventRecord, NewEvent};
use crate::time::Timestamp;
use async_trait::async_trait;

#[async_trait]
pub trait EventStore: Send + Sync {
    async fn append_event(&self, event: &NewEvent) -> StorageResult<EventRecord>;
    async fn list_events(&self, query: &EventQuery) -> StorageResult<Vec<EventRecord>>;
    async fn delete_events_before(&self, before: Timestamp) -> StorageResult<u64>;
}
