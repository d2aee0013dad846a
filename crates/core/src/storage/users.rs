//! Accounts.

use super::StorageResult;
use crate::auth::model::User;
use async_trait::async_trait;

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn count_users(&self) -> StorageResult<u64>;
    /// Fails with `Conflict` when the user name is taken.
    async fn insert_user(&self, user: &User) -> StorageResult<()>;
    /// Inserts the user only while there is none, atomically (parallel first-run setups: one
    /// wins); fails with `Conflict` when any user exists.
    async fn insert_first_user(&self, user: &User) -> StorageResult<()>;
    async fn user_by_name(&self, username: &str) -> StorageResult<Option<User>>;
    async fn user_by_id(&self, id: &str) -> StorageResult<Option<User>>;
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StorageResult<()>;
}
