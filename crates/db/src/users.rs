//! Users, sessions, login throttle and API keys.

use crate::RowsExt;
use crate::rows::{self, API_KEY_COLUMNS, SESSION_COLUMNS, USER_COLUMNS};
use crate::{Backend, Db, backend_err};
use async_trait::async_trait;
use tapearr_core::auth::model::{ApiKey, LoginAttempt, LoginThrottle, Session, User};
use tapearr_core::storage::{ApiKeyStore, SessionStore, StorageError, StorageResult, UserStore};
use tapearr_core::time::Timestamp;

/// Any number that identifies Tapearr's first-user lock on PostgreSQL.
const SETUP_LOCK_KEY: i64 = 0x07a9_5e70;

#[async_trait]
impl UserStore for Db {
    async fn count_users(&self) -> StorageResult<u64> {
        sqlx::query("SELECT COUNT(*) AS n FROM users")
            .count(self.pool())
            .await
    }

    async fn insert_user(&self, u: &User) -> StorageResult<()> {
        sqlx::query("INSERT INTO users (id, username, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&u.id)
            .bind(&u.username)
            .bind(&u.password_hash)
            .bind(&u.role)
            .bind(u.created_at.millis())
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn insert_first_user(&self, u: &User) -> StorageResult<()> {
        let mut tx = self.pool().begin().await.map_err(backend_err)?;
        if self.backend_kind() == Backend::Postgres {
            // Two READ COMMITTED transactions would both see no user; the lock serializes them.
            // (On SQLite the INSERT takes the single write lock before it reads.)
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(SETUP_LOCK_KEY)
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
        }
        let inserted = sqlx::query(
            "INSERT INTO users (id, username, password_hash, role, created_at) \
             SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM users)",
        )
        .bind(&u.id)
        .bind(&u.username)
        .bind(&u.password_hash)
        .bind(&u.role)
        .bind(u.created_at.millis())
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?
        .rows_affected();
        tx.commit().await.map_err(backend_err)?;
        if inserted == 0 {
            return Err(StorageError::Conflict("a user already exists".into()));
        }
        Ok(())
    }

    async fn user_by_name(&self, username: &str) -> StorageResult<Option<User>> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .optional(self.pool(), rows::user)
        .await
    }

    async fn user_by_id(&self, id: &str) -> StorageResult<Option<User>> {
        sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .optional(self.pool(), rows::user)
            .await
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StorageResult<()> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute_found(self.pool())
            .await
    }

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

#[async_trait]
impl SessionStore for Db {
    async fn insert_session(&self, s: &Session) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&s.id)
        .bind(&s.user_id)
        .bind(&s.token_hash)
        .bind(&s.csrf_token)
        .bind(s.user_agent.as_deref())
        .bind(s.created_at.millis())
        .bind(s.last_seen_at.millis())
        .bind(s.expires_at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn session_by_token_hash(&self, token_hash: &str) -> StorageResult<Option<Session>> {
        sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .optional(self.pool(), rows::session)
        .await
    }

    async fn touch_session(
        &self,
        id: &str,
        seen: Timestamp,
        expires: Timestamp,
    ) -> StorageResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3")
            .bind(seen.millis())
            .bind(expires.millis())
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn delete_session(&self, id: &str) -> StorageResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn delete_sessions_of_user(&self, user_id: &str) -> StorageResult<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(self.pool())
            .await
            .map_err(backend_err)?
            .rows_affected())
    }

    async fn delete_expired_sessions(&self, now: Timestamp) -> StorageResult<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.millis())
            .execute(self.pool())
            .await
            .map_err(backend_err)?
            .rows_affected())
    }
}

#[async_trait]
impl ApiKeyStore for Db {
    async fn insert_api_key(&self, k: &ApiKey) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&k.id)
        .bind(&k.name)
        .bind(&k.prefix)
        .bind(&k.key_hash)
        .bind(k.created_at.millis())
        .bind(k.last_used_at.map(Timestamp::millis))
        .bind(k.revoked_at.map(Timestamp::millis))
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> StorageResult<Option<ApiKey>> {
        sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1"
        ))
        .bind(key_hash)
        .optional(self.pool(), rows::api_key)
        .await
    }

    async fn list_api_keys(&self) -> StorageResult<Vec<ApiKey>> {
        sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC"
        ))
        .all(self.pool(), rows::api_key)
        .await
    }

    async fn revoke_api_key(&self, id: &str, at: Timestamp) -> StorageResult<ApiKey> {
        sqlx::query(&format!(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING {API_KEY_COLUMNS}"
        ))
        .bind(at.millis())
        .bind(id)
        .optional(self.pool(), rows::api_key)
        .await?
        .ok_or(StorageError::NotFound)
    }

    async fn touch_api_key(&self, id: &str, at: Timestamp) -> StorageResult<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(at.millis())
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(())
    }
}
