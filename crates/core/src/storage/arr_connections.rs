//! Radarr and Sonarr connections.

use super::StorageResult;
use crate::trailers::model::{Connection, SyncOutcome};
use async_trait::async_trait;

#[async_trait]
pub trait ArrConnectionStore: Send + Sync {
    async fn insert_arr_connection(&self, c: &Connection) -> StorageResult<()>;
    async fn update_arr_connection(&self, c: &Connection) -> StorageResult<()>;
    /// Deletes the connection with its media, download records and history.
    async fn delete_arr_connection(&self, id: &str) -> StorageResult<()>;
    async fn arr_connections(&self) -> StorageResult<Vec<Connection>>;
    async fn arr_connection(&self, id: &str) -> StorageResult<Option<Connection>>;
    async fn record_arr_sync(&self, id: &str, outcome: &SyncOutcome) -> StorageResult<()>;
}
