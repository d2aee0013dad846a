//! Media-server connections.

use crate::RowsExt;
use crate::rows::{flag, get, ts};
use crate::{Db, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use tapearr_core::mediaserver::model::{MediaServer, ServerKind};
use tapearr_core::secret::Secret;
use tapearr_core::storage::{MediaServerStore, StorageError, StorageResult};

const COLUMNS: &str = "id, name, kind, url, token, path_mappings, enabled, created_at, updated_at";

fn row_to_server(row: &AnyRow) -> StorageResult<MediaServer> {
    let kind: String = get(row, "kind")?;
    let mappings: String = get(row, "path_mappings")?;
    Ok(MediaServer {
        id: get(row, "id")?,
        name: get(row, "name")?,
        kind: ServerKind::parse(&kind)
            .ok_or_else(|| StorageError::Corrupt(format!("media server kind {kind}")))?,
        url: get(row, "url")?,
        token: Secret::new(get::<String>(row, "token")?),
        path_mappings: serde_json::from_str(&mappings)
            .map_err(|e| StorageError::Corrupt(format!("path mappings: {e}")))?,
        enabled: flag(row, "enabled")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
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
