//! Radarr and Sonarr connections.

use crate::rows::{corrupt, flag, from_json, get, opt_ts, to_json, ts};
use crate::{Db, RowsExt, backend_err, delete_with_children};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use tapearr_core::secret::Secret;
use tapearr_core::storage::{ArrConnectionStore, StorageResult};
use tapearr_core::trailers::model::{ArrPathMapping, Connection, ConnectionKind, SyncOutcome};

const CONNECTION_COLUMNS: &str = "id, name, kind, url, api_key, path_mappings, monitor_new, enabled, \
     last_sync_at, last_sync_error, last_sync_items, created_at, updated_at";

fn connection_row(row: &AnyRow) -> StorageResult<Connection> {
    let kind: String = get(row, "kind")?;
    Ok(Connection {
        id: get(row, "id")?,
        name: get(row, "name")?,
        kind: ConnectionKind::parse(&kind).ok_or_else(|| corrupt("connection kind", &kind))?,
        url: get(row, "url")?,
        api_key: Secret::new(get::<String>(row, "api_key")?),
        path_mappings: from_json::<Vec<ArrPathMapping>>(row, "path_mappings")?,
        monitor_new: flag(row, "monitor_new")?,
        enabled: flag(row, "enabled")?,
        last_sync_at: opt_ts(row, "last_sync_at")?,
        last_sync_error: get(row, "last_sync_error")?,
        last_sync_items: get(row, "last_sync_items")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

#[async_trait]
impl ArrConnectionStore for Db {
    async fn insert_arr_connection(&self, c: &Connection) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO arr_connections ({CONNECTION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&c.id)
        .bind(&c.name)
        .bind(c.kind.as_str())
        .bind(&c.url)
        .bind(c.api_key.expose())
        .bind(to_json(&c.path_mappings)?)
        .bind(i64::from(c.monitor_new))
        .bind(i64::from(c.enabled))
        .bind(c.last_sync_at.map(|t| t.millis()))
        .bind(c.last_sync_error.as_deref())
        .bind(c.last_sync_items)
        .bind(c.created_at.millis())
        .bind(c.updated_at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn update_arr_connection(&self, c: &Connection) -> StorageResult<()> {
        sqlx::query(
            "UPDATE arr_connections SET name = $1, url = $2, api_key = $3, path_mappings = $4, \
             monitor_new = $5, enabled = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&c.name)
        .bind(&c.url)
        .bind(c.api_key.expose())
        .bind(to_json(&c.path_mappings)?)
        .bind(i64::from(c.monitor_new))
        .bind(i64::from(c.enabled))
        .bind(c.updated_at.millis())
        .bind(&c.id)
        .execute_found(self.pool())
        .await
    }

    async fn delete_arr_connection(&self, id: &str) -> StorageResult<()> {
        // Foreign keys cascade on PostgreSQL; SQLite may run without them, so delete explicitly.
        delete_with_children(
            self,
            &[
                "DELETE FROM media_events WHERE media_id IN (SELECT id FROM media WHERE connection_id = $1)",
                "DELETE FROM trailer_downloads WHERE media_id IN (SELECT id FROM media WHERE connection_id = $1)",
                "DELETE FROM media WHERE connection_id = $1",
            ],
            "DELETE FROM arr_connections WHERE id = $1",
            id,
        )
        .await
    }

    async fn arr_connections(&self) -> StorageResult<Vec<Connection>> {
        sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM arr_connections ORDER BY name"
        ))
        .all(self.pool(), connection_row)
        .await
    }

    async fn arr_connection(&self, id: &str) -> StorageResult<Option<Connection>> {
        sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM arr_connections WHERE id = $1"
        ))
        .bind(id)
        .optional(self.pool(), connection_row)
        .await
    }

    async fn record_arr_sync(&self, id: &str, outcome: &SyncOutcome) -> StorageResult<()> {
        // A failed sync keeps the last known item count.
        sqlx::query(
            "UPDATE arr_connections SET last_sync_at = $1, last_sync_error = $2, \
             last_sync_items = COALESCE($3, last_sync_items) WHERE id = $4",
        )
        .bind(outcome.at.millis())
        .bind(outcome.error.as_deref())
        .bind(outcome.items)
        .bind(id)
        .execute_found(self.pool())
        .await
    }
}
