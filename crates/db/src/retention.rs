//! Retention: per-channel overrides and what may be deleted.

use crate::recordings::{RECORDING_SELECT, recording_row};
use crate::rows::get;
use crate::{Db, RowsExt};
use async_trait::async_trait;
use tapearr_core::storage::{RetentionStore, StorageResult};
use tapearr_core::streams::model::Recording;

#[async_trait]
impl RetentionStore for Db {
    async fn set_channel_retention(
        &self,
        channel_id: &str,
        policy: Option<&str>,
    ) -> StorageResult<()> {
        sqlx::query("UPDATE channels SET retention = $1 WHERE id = $2")
            .bind(policy)
            .bind(channel_id)
            .execute_found(self.pool())
            .await
    }

    async fn channel_retention(&self) -> StorageResult<Vec<(String, String)>> {
        sqlx::query("SELECT id, retention FROM channels WHERE retention IS NOT NULL")
            .all(self.pool(), |r| Ok((get(r, "id")?, get(r, "retention")?)))
            .await
    }

    async fn retention_candidates(&self) -> StorageResult<Vec<(Recording, bool)>> {
        let favourites: std::collections::HashSet<String> =
            sqlx::query("SELECT id FROM channels WHERE favourite <> 0")
                .all(self.pool(), |r| get(r, "id"))
                .await?
                .into_iter()
                .collect();
        let recordings = sqlx::query(&format!(
            "{RECORDING_SELECT} WHERE r.status IN ('ready', 'failed') ORDER BY r.started_at, r.id"
        ))
        .all(self.pool(), recording_row)
        .await?;
        Ok(recordings
            .into_iter()
            .map(|r| {
                let favourite = favourites.contains(&r.channel_id);
                (r, favourite)
            })
            .collect())
    }
}
