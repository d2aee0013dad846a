//! Named values the application keeps in the database (settings, secrets' checks, cursors):
//! the small store a settings service sits on.

use super::StorageResult;
use async_trait::async_trait;

#[async_trait]
pub trait KeyValueStore: Send + Sync {
    async fn app_value(&self, name: &str) -> StorageResult<Option<String>>;
    /// Sets or (with `None`) deletes a named value.
    async fn set_app_value(&self, name: &str, value: Option<&str>) -> StorageResult<()>;
    /// Sets or deletes several values in one transaction: all of them or none.
    async fn set_app_values(&self, values: &[(&str, Option<&str>)]) -> StorageResult<()>;
    /// Stores `value` under `name` unless a value is there; returns the stored value.
    async fn app_state_init(&self, name: &str, value: &str) -> StorageResult<String>;
}
