//! Broadcasts (streams) and what happened during them (stream events).

use super::{PageRequest, Paged, StorageResult};
use crate::streams::model::{Stream, StreamEvent};
use crate::time::Timestamp;
use async_trait::async_trait;

#[async_trait]
pub trait StreamStore: Send + Sync {
    /// Inserts the stream unless the channel already has it; returns it and whether it was new.
    async fn upsert_stream(&self, stream: &Stream) -> StorageResult<(Stream, bool)>;
    async fn stream(&self, id: &str) -> StorageResult<Option<Stream>>;
    /// The channel's newest stream that has not ended.
    async fn open_stream(&self, channel_id: &str) -> StorageResult<Option<Stream>>;
    /// Ends every open stream of the channel except `keep` (a stale one when a new one starts).
    async fn end_open_streams(
        &self,
        channel_id: &str,
        keep: Option<&str>,
        at: Timestamp,
    ) -> StorageResult<Vec<Stream>>;
    /// Bookkeeping: a stream deleted meanwhile is not an error.
    async fn set_stream_record_stopped(&self, id: &str) -> StorageResult<()>;
    async fn list_streams(
        &self,
        channel_id: &str,
        page: PageRequest,
    ) -> StorageResult<Paged<Stream>>;
    async fn insert_stream_event(&self, event: &StreamEvent) -> StorageResult<()>;
    async fn list_stream_events(&self, stream_id: &str) -> StorageResult<Vec<StreamEvent>>;
    /// The events of several streams in one query, by stream then time.
    async fn list_events_of_streams(
        &self,
        stream_ids: &[String],
    ) -> StorageResult<Vec<StreamEvent>>;
}
