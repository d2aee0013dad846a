//! Failed-login counts.

use crate::RowsExt;
use crate::rows;
use crate::{Db, backend_err};
use async_trait::async_trait;
use tapearr_core::auth::model::{LoginAttempt, LoginThrottle};
use tapearr_core::storage::{LoginThrottleStore, StorageError, StorageResult};
use tapearr_core::time::Timestamp;

#[async_trait]
impl LoginThrottleStore for Db {
    async fn login_throttle(&self, username: &str) -> StorageResult<Option<LoginThrottle>> {
        sqlx::query("SELECT username, failures, window_start, locked_until FROM login_throttle WHERE username = $1")
            .bind(username)
            .optional(self.pool(), rows::throttle)
            .await
    }

    async fn count_login_attempt(&self, a: &LoginAttempt) -> StorageResult<LoginThrottle> {
        // One statement, so parallel attempts each see their own count (a read, then a write of
        // the old count + 1, let 40 parallel wrong passwords through a lock of 5). `login_throttle.*`
        // on the right-hand side is the row before this attempt, on SQLite and PostgreSQL alike.
        let first_locks = (a.limit <= 1).then_some(a.lock_until.millis());
        sqlx::query(
            "INSERT INTO login_throttle (username, failures, window_start, locked_until) VALUES ($1, 1, $2, $3) \
             ON CONFLICT (username) DO UPDATE SET \
             failures = CASE WHEN login_throttle.window_start > $4 OR login_throttle.locked_until > $2 \
               THEN login_throttle.failures + 1 ELSE 1 END, \
             window_start = CASE WHEN login_throttle.window_start > $4 OR login_throttle.locked_until > $2 \
               THEN login_throttle.window_start ELSE $2 END, \
             locked_until = CASE WHEN login_throttle.locked_until > $2 THEN login_throttle.locked_until \
               WHEN login_throttle.window_start > $4 AND login_throttle.failures + 1 >= $6 THEN $5 \
               ELSE $3 END \
             RETURNING username, failures, window_start, locked_until",
        )
        .bind(&a.username)
        .bind(a.now.millis())
        .bind(first_locks)
        .bind(a.window_cutoff.millis())
        .bind(a.lock_until.millis())
        .bind(i64::from(a.limit))
        .optional(self.pool(), rows::throttle)
        .await?
        .ok_or(StorageError::NotFound)
    }

    async fn delete_stale_login_throttles(
        &self,
        window_cutoff: Timestamp,
        now: Timestamp,
    ) -> StorageResult<u64> {
        Ok(sqlx::query(
            "DELETE FROM login_throttle WHERE window_start <= $1 AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(window_cutoff.millis())
        .bind(now.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?
        .rows_affected())
    }

    async fn clear_login_throttle(&self, username: &str) -> StorageResult<()> {
        sqlx::query("DELETE FROM login_throttle WHERE username = $1")
            .bind(username)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(())
    }
}
