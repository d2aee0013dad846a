//! Named values in `app_state`.

use crate::rows::get;
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use sqlx::Row;
use tapearr_core::storage::{KeyValueStore, StorageResult};

#[async_trait]
impl KeyValueStore for Db {
    async fn app_value(&self, name: &str) -> StorageResult<Option<String>> {
        sqlx::query("SELECT value FROM app_state WHERE name = $1")
            .bind(name)
            .optional(self.pool(), |row| get::<String>(row, "value"))
            .await
    }

    async fn set_app_value(&self, name: &str, value: Option<&str>) -> StorageResult<()> {
        match value {
            Some(v) => {
                sqlx::query(
                    "INSERT INTO app_state (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                )
                .bind(name)
                .bind(v)
                .execute(self.pool())
                .await
            }
            None => {
                sqlx::query("DELETE FROM app_state WHERE name = $1")
                    .bind(name)
                    .execute(self.pool())
                    .await
            }
        }
        .map_err(backend_err)?;
        Ok(())
    }

    async fn app_state_init(&self, name: &str, value: &str) -> StorageResult<String> {
        sqlx::query(
            "INSERT INTO app_state (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        let row = sqlx::query("SELECT value FROM app_state WHERE name = $1")
            .bind(name)
            .fetch_one(self.pool())
            .await
            .map_err(backend_err)?;
        row.try_get("value").map_err(backend_err)
    }
}
