//! Media-server connections.

use crate::RowsExt;
use crate::{Db, backend_err};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;
use tapearr_core::mediaserver::model::{MediaServer, ServerKind};
use tapearr_core::secret::Secret;
use tapearr_core::storage::{MediaServerStore, StorageError, StorageResult};
use tapearr_core::time::Timestamp;

const COLUMNS: &str = "id, name, kind, url, token, path_mappings, enabled, created_at, updated_at";

fn row_to_server(row: &AnyRow) -> StorageResult<MediaServer> {
    let kind: String = row.try_get("kind").map_err(backend_err)?;
    let mappings: String = row.try_get("path_mappings").map_err(backend_err)?;
    Ok(MediaServer {
        id: row.try_get("id").map_err(backend_err)?,
        name: row.try_get("name").map_err(backend_err)?,
        kind: ServerKind::parse(&kind)
            .ok_or_else(|| StorageError::Corrupt(format!("media server kind {kind}")))?,
        url: row.try_get("url").map_err(backend_err)?,
        token: Secret::new(row.try_get::<String, _>("token").map_err(backend_err)?),
        path_mappings: serde_json::from_str(&mappings)
            .map_err(|e| StorageError::Corrupt(format!("path mappings: {e}")))?,
        enabled: row.try_get::<i64, _>("enabled").map_err(backend_err)? != 0,
        created_at: Timestamp(row.try_get("created_at").map_err(backend_err)?),
        updated_at: Timestamp(row.try_get("updated_at").map_err(backend_err)?),
    })
}

fn mappings_json(s: &MediaServer) -> StorageResult<String> {
    serde_json::to_string(&s.path_mappings).map_err(|e| StorageError::Corrupt(e.to_string()))
}

#[async_trait]
impl MediaServerStore for Db {
    async fn insert_media_server(&self, s: &MediaServer) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO media_servers ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&s.id)
        .bind(&s.name)
        .bind(s.kind.as_str())
        .bind(&s.url)
        .bind(s.token.expose())
        .bind(mappings_json(s)?)
        .bind(i64::from(s.enabled))
        .bind(s.created_at.millis())
        .bind(s.updated_at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn update_media_server(&self, s: &MediaServer) -> StorageResult<()> {
        sqlx::query(
            "UPDATE media_servers SET name = $1, kind = $2, url = $3, token = $4, path_mappings = $5, \
             enabled = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&s.name)
        .bind(s.kind.as_str())
        .bind(&s.url)
        .bind(s.token.expose())
        .bind(mappings_json(s)?)
        .bind(i64::from(s.enabled))
        .bind(s.updated_at.millis())
        .bind(&s.id)
        .execute_found(self.pool()).await
    }

    async fn delete_media_server(&self, id: &str) -> StorageResult<()> {
        sqlx::query("DELETE FROM media_servers WHERE id = $1")
            .bind(id)
            .execute_found(self.pool())
            .await
    }

    async fn media_server(&self, id: &str) -> StorageResult<Option<MediaServer>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM media_servers WHERE id = $1"
        ))
        .bind(id)
        .optional(self.pool(), row_to_server)
        .await
    }

    async fn list_media_servers(&self) -> StorageResult<Vec<MediaServer>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM media_servers ORDER BY name, id"
        ))
        .all(self.pool(), row_to_server)
        .await
    }
}
