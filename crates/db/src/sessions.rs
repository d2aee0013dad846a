//! Browser sessions.

use crate::RowsExt;
use crate::rows::{self, SESSION_COLUMNS};
use crate::{Db, backend_err};
use async_trait::async_trait;
use tapearr_core::auth::model::Session;
use tapearr_core::storage::{SessionStore, StorageError, StorageResult};
use tapearr_core::time::Timestamp;

#[async_trait]
impl SessionStore for Db {
    async fn insert_session(&self, s: &Session) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&s.id)
        .bind(&s.user_id)
        .bind(&s.token_hash)
        .bind(&s.csrf_token)
        .bind(s.user_agent.as_deref())
        .bind(s.created_at.millis())
        .bind(s.last_seen_at.millis())
        .bind(s.expires_at.millis())
        .bind(s.address.as_deref())
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

    async fn sessions_of_user(&self, user_id: &str) -> StorageResult<Vec<Session>> {
        sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 ORDER BY last_seen_at DESC, id"
        ))
        .bind(user_id)
        .all(self.pool(), rows::session)
        .await
    }

    async fn delete_session_of_user(&self, user_id: &str, id: &str) -> StorageResult<()> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(self.pool())
            .await
            .map_err(backend_err)?
            .rows_affected();
        if deleted == 0 {
            return Err(StorageError::NotFound);
        }
        Ok(())
    }

    async fn delete_other_sessions(&self, user_id: &str, keep_id: &str) -> StorageResult<u64> {
        Ok(
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                .bind(user_id)
                .bind(keep_id)
                .execute(self.pool())
                .await
                .map_err(backend_err)?
                .rows_affected(),
        )
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
