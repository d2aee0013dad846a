//! The recordings library: finalize state, episode numbers, files and deletion.

use crate::recordings::{RECORDING_SELECT, recording_row};
use crate::rows::{IN_CHUNK, bind_ids, get, placeholders, signed};
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use tapearr_core::storage::{LibraryStore, StorageError, StorageResult};
use tapearr_core::streams::model::{FinalizeStep, Recording, RecordingStatus};
use tapearr_core::time::Timestamp;

/// Two finalizes numbering the same season at once: the loser tries the next number.
const EPISODE_ATTEMPTS: u32 = 5;

#[async_trait]
impl LibraryStore for Db {
    async fn recordings_to_finalize(&self) -> StorageResult<Vec<Recording>> {
        sqlx::query(&format!(
            "{RECORDING_SELECT} WHERE r.status IN ('ended', 'finalizing') ORDER BY r.started_at, r.id"
        ))
        .all(self.pool(), recording_row)
        .await
    }

    async fn set_finalize_state(
        &self,
        id: &str,
        status: RecordingStatus,
        step: Option<FinalizeStep>,
        error: Option<&str>,
        at: Timestamp,
    ) -> StorageResult<bool> {
        let finalized_at = (status == RecordingStatus::Ready).then_some(at.millis());
        let done = sqlx::query(
            "UPDATE recordings SET status = $1, finalize_step = $2, finalize_error = $3, \
             finalized_at = COALESCE($4, finalized_at), updated_at = $5 \
             WHERE id = $6 AND status IN ('ended', 'finalizing', 'ready')",
        )
        .bind(status.as_str())
        .bind(step.map(FinalizeStep::as_str))
        .bind(error)
        .bind(finalized_at)
        .bind(at.millis())
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn assign_episode(&self, id: &str, season: &str) -> StorageResult<u32> {
        for _ in 0..EPISODE_ATTEMPTS {
            let current = sqlx::query("SELECT channel_id, episode FROM recordings WHERE id = $1")
                .bind(id)
                .optional(self.pool(), |r| {
                    Ok((
                        get::<String>(r, "channel_id")?,
                        get::<Option<i64>>(r, "episode")?,
                    ))
                })
                .await?
                .ok_or(StorageError::NotFound)?;
            if let (_, Some(episode)) = current {
                return Ok(u32::try_from(episode).unwrap_or(u32::MAX));
            }
            let next = sqlx::query(
                "SELECT COALESCE(MAX(episode), 0) + 1 AS n FROM recordings \
                 WHERE channel_id = $1 AND season = $2",
            )
            .bind(&current.0)
            .bind(season)
            .count(self.pool())
            .await?;
            let claimed = sqlx::query(
                "UPDATE recordings SET season = $1, episode = $2 WHERE id = $3 AND episode IS NULL",
            )
            .bind(season)
            .bind(signed(next))
            .bind(id)
            .execute(self.pool())
            .await;
            match claimed {
                Ok(_) => continue, // read back: ours, or another writer numbered it first
                Err(e) => match backend_err(e) {
                    StorageError::Conflict(_) => continue,
                    other => return Err(other),
                },
            }
        }
        Err(StorageError::Conflict(format!(
            "could not number recording {id} in season {season}"
        )))
    }

    async fn set_video_path(&self, id: &str, path: &str) -> StorageResult<()> {
        sqlx::query("UPDATE recordings SET video_path = $1 WHERE id = $2")
            .bind(path)
            .bind(id)
            .execute_found(self.pool())
            .await
    }

    async fn set_video_facts(&self, id: &str, bytes: u64, duration_ms: u64) -> StorageResult<()> {
        sqlx::query("UPDATE recordings SET video_bytes = $1, duration_ms = $2 WHERE id = $3")
            .bind(signed(bytes))
            .bind(signed(duration_ms))
            .bind(id)
            .execute_found(self.pool())
            .await
    }

    async fn set_recorded_media(
        &self,
        id: &str,
        bytes: u64,
        media_ms: u64,
        segments: u64,
    ) -> StorageResult<()> {
        sqlx::query(
            "UPDATE recordings SET bytes = $1, media_ms = $2, segments = $3 \
             WHERE id = $4 AND status <> 'recording'",
        )
        .bind(signed(bytes))
        .bind(signed(media_ms))
        .bind(signed(segments))
        .bind(id)
        .execute_found(self.pool())
        .await
    }

    async fn set_recording_keep(&self, id: &str, keep: bool, at: Timestamp) -> StorageResult<()> {
        sqlx::query("UPDATE recordings SET keep = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(keep))
            .bind(at.millis())
            .bind(id)
            .execute_found(self.pool())
            .await
    }

    async fn delete_recordings(&self, ids: &[String]) -> StorageResult<Vec<Recording>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool().begin().await.map_err(backend_err)?;
        // Write first: on SQLite a transaction that reads and then writes fails at once with
        // "database is locked" when another writer committed in between (busy_timeout does not
        // cover that); taking the write lock first waits instead. On PostgreSQL it locks the rows.
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "UPDATE recordings SET updated_at = updated_at WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            bind_ids(sqlx::query(&sql), chunk)
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
        }
        let mut deleted = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "{RECORDING_SELECT} WHERE r.id IN ({})",
                placeholders(1, chunk.len())
            );
            let rows = bind_ids(sqlx::query(&sql), chunk)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend_err)?;
            for row in &rows {
                deleted.push(recording_row(row)?);
            }
        }
        let mut unique: Vec<&String> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        if deleted.len() != unique.len() {
            return Err(StorageError::NotFound);
        }
        if let Some(active) = deleted
            .iter()
            .find(|r| r.status == RecordingStatus::Recording)
        {
            return Err(StorageError::Conflict(format!(
                "recording {} is still running; stop it first",
                active.id
            )));
        }
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "DELETE FROM recordings WHERE id IN ({}) AND status <> 'recording'",
                placeholders(1, chunk.len())
            );
            bind_ids(sqlx::query(&sql), chunk)
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(deleted)
    }

    async fn recording_ids(&self) -> StorageResult<Vec<String>> {
        sqlx::query("SELECT id FROM recordings")
            .all(self.pool(), |r| get(r, "id"))
            .await
    }
}
