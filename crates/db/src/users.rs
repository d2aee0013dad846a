//! Users.

use crate::RowsExt;
use crate::rows::{self, USER_COLUMNS};
use crate::{Backend, Db, backend_err};
use async_trait::async_trait;
use tapearr_core::auth::model::User;
use tapearr_core::storage::{StorageError, StorageResult, UserStore};

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
}
