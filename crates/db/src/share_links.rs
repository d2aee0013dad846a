//! Share links.

use crate::rows::{get, ts};
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use tapearr_core::storage::{ShareLink, ShareLinkStore, StorageResult};
use tapearr_core::time::Timestamp;

fn share_link_row(r: &AnyRow) -> StorageResult<ShareLink> {
    Ok(ShareLink {
        token_hash: get(r, "token_hash")?,
        recording_id: get(r, "recording_id")?,
        expires_at: ts(r, "expires_at")?,
        created_at: ts(r, "created_at")?,
    })
}

#[async_trait]
impl ShareLinkStore for Db {
    async fn insert_share_link(&self, link: &ShareLink) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO share_links (token_hash, recording_id, expires_at, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&link.token_hash)
        .bind(&link.recording_id)
        .bind(link.expires_at.millis())
        .bind(link.created_at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn share_link(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> StorageResult<Option<ShareLink>> {
        sqlx::query(
            "SELECT token_hash, recording_id, expires_at, created_at FROM share_links \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now.millis())
        .optional(self.pool(), share_link_row)
        .await
    }

    async fn share_links(
        &self,
        recording_id: Option<&str>,
        now: Timestamp,
    ) -> StorageResult<Vec<ShareLink>> {
        let of_one = if recording_id.is_some() {
            "AND recording_id = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT token_hash, recording_id, expires_at, created_at FROM share_links \
             WHERE expires_at > $1 {of_one} ORDER BY created_at DESC, token_hash"
        );
        let mut query = sqlx::query(&sql).bind(now.millis());
        if let Some(id) = recording_id {
            query = query.bind(id);
        }
        query.all(self.pool(), share_link_row).await
    }

    async fn delete_share_link(&self, token_hash: &str) -> StorageResult<()> {
        sqlx::query("DELETE FROM share_links WHERE token_hash = $1")
            .bind(token_hash)
            .execute_found(self.pool())
            .await
    }

    async fn delete_expired_share_links(&self, now: Timestamp) -> StorageResult<u64> {
        let done = sqlx::query("DELETE FROM share_links WHERE expires_at <= $1")
            .bind(now.millis())
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(done.rows_affected())
    }
}
