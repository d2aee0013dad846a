//! Browser sessions.

use super::StorageResult;
use crate::auth::model::Session;
use crate::time::Timestamp;
use async_trait::async_trait;

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(&self, session: &Session) -> StorageResult<()>;
    async fn session_by_token_hash(&self, token_hash: &str) -> StorageResult<Option<Session>>;
    /// Bookkeeping: a session deleted meanwhile is not an error.
    async fn touch_session(
        &self,
        id: &str,
        seen: Timestamp,
        expires: Timestamp,
    ) -> StorageResult<()>;
    /// Idempotent: logging out a session that is gone is not an error.
    async fn delete_session(&self, id: &str) -> StorageResult<()>;
    async fn delete_sessions_of_user(&self, user_id: &str) -> StorageResult<u64>;
    /// The user's sessions, most recently seen first (expired ones included until pruned).
    async fn sessions_of_user(&self, user_id: &str) -> StorageResult<Vec<Session>>;
    /// Ends one session of this user; `NotFound` when the user has no session with that id.
    async fn delete_session_of_user(&self, user_id: &str, id: &str) -> StorageResult<()>;
    /// Ends every session of the user but `keep_id`; returns how many ended.
    async fn delete_other_sessions(&self, user_id: &str, keep_id: &str) -> StorageResult<u64>;
    async fn delete_expired_sessions(&self, now: Timestamp) -> StorageResult<u64>;
}
