//! API keys (only their hashes are stored).

use super::StorageResult;
use crate::auth::model::ApiKey;
use crate::time::Timestamp;
use async_trait::async_trait;

#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn insert_api_key(&self, key: &ApiKey) -> StorageResult<()>;
    async fn api_key_by_hash(&self, key_hash: &str) -> StorageResult<Option<ApiKey>>;
    async fn list_api_keys(&self) -> StorageResult<Vec<ApiKey>>;
    /// Marks the key revoked; `NotFound` when no live key has that id.
    async fn revoke_api_key(&self, id: &str, at: Timestamp) -> StorageResult<ApiKey>;
    /// Bookkeeping: a key deleted meanwhile is not an error.
    async fn touch_api_key(&self, id: &str, at: Timestamp) -> StorageResult<()>;
}
