//! Failed-login counts per user name (the brute-force lock).

use super::StorageResult;
use crate::auth::model::{LoginAttempt, LoginThrottle};
use crate::time::Timestamp;
use async_trait::async_trait;

#[async_trait]
pub trait LoginThrottleStore: Send + Sync {
    async fn login_throttle(&self, username: &str) -> StorageResult<Option<LoginThrottle>>;
    /// Counts one login attempt for `attempt.username` atomically and returns the row after it:
    /// a window older than `attempt.window` (and no running lock) starts again at 1, and the
    /// count reaching `attempt.limit` sets `locked_until` (kept while it runs).
    async fn count_login_attempt(&self, attempt: &LoginAttempt) -> StorageResult<LoginThrottle>;
    /// Deletes counts whose window started before `window_cutoff` and whose lock (if any) ended
    /// before `now`; how many.
    async fn delete_stale_login_throttles(
        &self,
        window_cutoff: Timestamp,
        now: Timestamp,
    ) -> StorageResult<u64>;
    /// Idempotent: no count is not an error.
    async fn clear_login_throttle(&self, username: &str) -> StorageResult<()>;
}
