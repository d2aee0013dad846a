//! The archive: per-channel settings, VOD recordings and placed clips.

use crate::recordings::{RECORDING_SELECT, recording_row};
use crate::rows::{get, signed, ts, unsigned};
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use std::collections::HashSet;
use tapearr_core::archive::model::{ArchivedClip, ClipStatus};
use tapearr_core::storage::{ArchiveStore, StorageError, StorageResult};
use tapearr_core::streams::model::Recording;
use tapearr_core::time::Timestamp;

const CLIP_COLUMNS: &str = "id, channel_id, clip_id, title, view_count, created_at, status, \
    path, bytes, error, updated_at";

fn clip_row(row: &AnyRow) -> StorageResult<ArchivedClip> {
    let status: String = get(row, "status")?;
    Ok(ArchivedClip {
        id: get(row, "id")?,
        channel_id: get(row, "channel_id")?,
        clip_id: get(row, "clip_id")?,
        title: get(row, "title")?,
        view_count: unsigned(row, "view_count")?,
        created_at: ts(row, "created_at")?,
        status: ClipStatus::parse(&status)
            .ok_or_else(|| StorageError::Corrupt(format!("clip status {status}")))?,
        path: get(row, "path")?,
        bytes: get::<Option<i64>>(row, "bytes")?.map(|b| u64::try_from(b).unwrap_or(0)),
        error: get(row, "error")?,
        updated_at: ts(row, "updated_at")?,
    })
}

#[async_trait]
impl ArchiveStore for Db {
    async fn channel_archive(&self, channel_id: &str) -> StorageResult<Option<String>> {
        Ok(sqlx::query("SELECT archive FROM channels WHERE id = $1")
            .bind(channel_id)
            .optional(self.pool(), |r| get::<Option<String>>(r, "archive"))
            .await?
            .flatten())
    }

    async fn set_channel_archive(&self, channel_id: &str, settings: &str) -> StorageResult<()> {
        sqlx::query("UPDATE channels SET archive = $1 WHERE id = $2")
            .bind(settings)
            .bind(channel_id)
            .execute_found(self.pool())
            .await
    }

    async fn archive_channels(&self) -> StorageResult<Vec<(String, String)>> {
        sqlx::query(
            "SELECT id, archive FROM channels WHERE archive IS NOT NULL AND removed_at IS NULL \
             ORDER BY login",
        )
        .all(self.pool(), |r| Ok((get(r, "id")?, get(r, "archive")?)))
        .await
    }

    async fn archived_video_ids(&self, channel_id: &str) -> StorageResult<HashSet<String>> {
        let ids = sqlx::query(
            "SELECT twitch_video_id FROM recordings \
             WHERE channel_id = $1 AND twitch_video_id IS NOT NULL",
        )
        .bind(channel_id)
        .all(self.pool(), |r| get::<String>(r, "twitch_video_id"))
        .await?;
        Ok(ids.into_iter().collect())
    }

    async fn vod_recordings(&self, channel_id: &str) -> StorageResult<Vec<Recording>> {
        sqlx::query(&format!(
            "{RECORDING_SELECT} WHERE r.channel_id = $1 AND r.source = 'vod' \
             ORDER BY r.started_at DESC, r.id"
        ))
        .bind(channel_id)
        .all(self.pool(), recording_row)
        .await
    }

    async fn finish_vod_download(
        &self,
        id: &str,
        bytes: u64,
        media_ms: u64,
        segments: u64,
        end_reason: Option<&str>,
        at: Timestamp,
    ) -> StorageResult<bool> {
        let done = sqlx::query(
            "UPDATE recordings SET status = 'ended', bytes = $1, media_ms = $2, segments = $3, \
             error = NULL, updated_at = $4, end_reason = COALESCE($6, end_reason) \
             WHERE id = $5 AND status = 'downloading'",
        )
        .bind(signed(bytes))
        .bind(signed(media_ms))
        .bind(signed(segments))
        .bind(at.millis())
        .bind(id)
        .bind(end_reason.map(str::to_string))
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn fail_vod_download(&self, id: &str, error: &str, at: Timestamp) -> StorageResult<bool> {
        let done = sqlx::query(
            "UPDATE recordings SET status = 'failed', error = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'downloading'",
        )
        .bind(error)
        .bind(at.millis())
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn restart_vod_download(&self, id: &str, at: Timestamp) -> StorageResult<bool> {
        let done = sqlx::query(
            "UPDATE recordings SET status = 'downloading', error = NULL, updated_at = $1 \
             WHERE id = $2 AND status = 'failed' AND source = 'vod'",
        )
        .bind(at.millis())
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn archived_clip(
        &self,
        channel_id: &str,
        clip_id: &str,
    ) -> StorageResult<Option<ArchivedClip>> {
        sqlx::query(&format!(
            "SELECT {CLIP_COLUMNS} FROM archived_clips WHERE channel_id = $1 AND clip_id = $2"
        ))
        .bind(channel_id)
        .bind(clip_id)
        .optional(self.pool(), clip_row)
        .await
    }

    async fn upsert_archived_clip(&self, c: &ArchivedClip) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO archived_clips ({CLIP_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (channel_id, clip_id) DO UPDATE SET title = excluded.title, \
             view_count = excluded.view_count, status = excluded.status, path = excluded.path, \
             bytes = excluded.bytes, error = excluded.error, updated_at = excluded.updated_at"
        ))
        .bind(&c.id)
        .bind(&c.channel_id)
        .bind(&c.clip_id)
        .bind(&c.title)
        .bind(signed(c.view_count))
        .bind(c.created_at.millis())
        .bind(c.status.as_str())
        .bind(&c.path)
        .bind(c.bytes.map(signed))
        .bind(&c.error)
        .bind(c.updated_at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn list_archived_clips(&self, channel_id: &str) -> StorageResult<Vec<ArchivedClip>> {
        sqlx::query(&format!(
            "SELECT {CLIP_COLUMNS} FROM archived_clips WHERE channel_id = $1 \
             ORDER BY view_count DESC, clip_id"
        ))
        .bind(channel_id)
        .all(self.pool(), clip_row)
        .await
    }

    async fn delete_archived_clip(&self, id: &str) -> StorageResult<bool> {
        let done = sqlx::query("DELETE FROM archived_clips WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(done.rows_affected() > 0)
    }
}
