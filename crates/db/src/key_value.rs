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
        set_query(name, value)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn set_app_values(&self, values: &[(&str, Option<&str>)]) -> StorageResult<()> {
        let mut tx = self.pool().begin().await.map_err(backend_err)?;
        for (name, value) in values {
            set_query(name, *value)
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
        }
        tx.commit().await.map_err(backend_err)
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

/// Sets a named value, or deletes it for `None`.
fn set_query<'q>(
    name: &'q str,
    value: Option<&'q str>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    match value {
        Some(v) => sqlx::query(
            "INSERT INTO app_state (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(v),
        None => sqlx::query("DELETE FROM app_state WHERE name = $1").bind(name),
    }
}
