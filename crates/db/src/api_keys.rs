//! API keys.

use crate::RowsExt;
use crate::rows::{self, API_KEY_COLUMNS};
use crate::{Db, backend_err};
use async_trait::async_trait;
use tapearr_core::auth::model::ApiKey;
use tapearr_core::storage::{ApiKeyStore, StorageError, StorageResult};
use tapearr_core::time::Timestamp;

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
