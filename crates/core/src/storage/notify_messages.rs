//! The notification outbox: events turned into items, items batched into messages, attempts.

use super::StorageResult;
use crate::notify::model::{
    Backlog, ItemRecord, MessageQuery, MessageRecord, MessageStatus, NewItem,
};
use crate::time::Timestamp;
use async_trait::async_trait;

#[async_trait]
pub trait NotifyMessageStore: Send + Sync {
    /// The last event id turned into items (`None` before the first run).
    async fn notifier_cursor(&self) -> StorageResult<Option<i64>>;
    /// Stores the items (once per channel and event) and moves the cursor, atomically.
    async fn ingest_items(&self, items: &[NewItem], cursor: i64) -> StorageResult<()>;
    async fn notification_backlog(&self) -> StorageResult<Vec<Backlog>>;
    async fn unassigned_items(
        &self,
        channel_id: &str,
        limit: u32,
    ) -> StorageResult<Vec<ItemRecord>>;
    /// Creates the message and assigns the items to it; false if another process took one of them.
    async fn create_message(
        &self,
        message: &MessageRecord,
        item_ids: &[String],
    ) -> StorageResult<bool>;
    async fn due_messages(&self, now: Timestamp, limit: u32) -> StorageResult<Vec<MessageRecord>>;
    /// Moves `next_attempt_at` from `expected` to `until`: the caller owns this attempt.
    async fn claim_message(
        &self,
        id: &str,
        expected: Timestamp,
        until: Timestamp,
    ) -> StorageResult<bool>;
    async fn messages_sent_since(&self, channel_id: &str, since: Timestamp) -> StorageResult<u64>;
    /// Records an attempt: sent, failed for good, or pending again from `next_attempt_at`
    /// (bookkeeping: a message deleted with its channel meanwhile is not an error).
    async fn finish_message(
        &self,
        id: &str,
        status: MessageStatus,
        error: Option<&str>,
        next_attempt_at: Timestamp,
        at: Timestamp,
    ) -> StorageResult<()>;
    async fn list_messages(&self, query: &MessageQuery) -> StorageResult<Vec<MessageRecord>>;
}
