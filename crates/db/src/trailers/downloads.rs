//! Trailer download records and folder scan states.

use super::{insert_event, scan_row};
use crate::rows::{IN_CHUNK, bind_ids, corrupt, get, opt_ts, placeholders, ts};
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use sqlx::Any;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use std::sync::LazyLock;
use tapearr_core::storage::{DownloadStore, StorageResult};
use tapearr_core::trailers::model::{
    CandidateSource, DownloadRecord, DownloadStatus, ScanRecord, Slot, TrailerWrites,
};

const DOWNLOAD_COLUMNS: &str = "media_id, profile_id, slot, status, video_id, source, file_path, \
     file_bytes, duration_ms, reason, error_kind, attempts, next_attempt_at, updated_at, height, \
     upgrade_checked_at, upgrades";

fn download_row(row: &AnyRow) -> StorageResult<DownloadRecord> {
    let status: String = get(row, "status")?;
    let source: Option<String> = get(row, "source")?;
    let slot: String = get(row, "slot")?;
    Ok(DownloadRecord {
        media_id: get(row, "media_id")?,
        profile_id: get(row, "profile_id")?,
        slot: Slot::parse(&slot).ok_or_else(|| corrupt("download slot", &slot))?,
        status: DownloadStatus::parse(&status)
            .ok_or_else(|| corrupt("download status", &status))?,
        video_id: get(row, "video_id")?,
        source: source.as_deref().and_then(CandidateSource::parse),
        file_path: get(row, "file_path")?,
        file_bytes: get(row, "file_bytes")?,
        duration_ms: get(row, "duration_ms")?,
        reason: get(row, "reason")?,
        error_kind: get(row, "error_kind")?,
        attempts: get(row, "attempts")?,
        next_attempt_at: opt_ts(row, "next_attempt_at")?,
        updated_at: ts(row, "updated_at")?,
        height: get(row, "height")?,
        upgrade_checked_at: opt_ts(row, "upgrade_checked_at")?,
        upgrades: get(row, "upgrades")?,
    })
}

// Portable upsert: both backends support ON CONFLICT … DO UPDATE.
static UPSERT_DOWNLOAD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO trailer_downloads ({DOWNLOAD_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (media_id, profile_id, slot) DO UPDATE SET status = $4, video_id = $5, \
         source = $6, file_path = $7, file_bytes = $8, duration_ms = $9, reason = $10, \
         error_kind = $11, attempts = $12, next_attempt_at = $13, updated_at = $14, height = $15, \
         upgrade_checked_at = $16, upgrades = $17"
    )
});

fn upsert_download(d: &DownloadRecord) -> Query<'_, Any, AnyArguments<'_>> {
    sqlx::query(UPSERT_DOWNLOAD.as_str())
        .bind(&d.media_id)
        .bind(&d.profile_id)
        .bind(d.slot.to_string())
        .bind(d.status.as_str())
        .bind(d.video_id.as_deref())
        .bind(d.source.map(|s| s.as_str()))
        .bind(d.file_path.as_deref())
        .bind(d.file_bytes)
        .bind(d.duration_ms)
        .bind(d.reason.as_deref())
        .bind(d.error_kind.as_deref())
        .bind(d.attempts)
        .bind(d.next_attempt_at.map(|t| t.millis()))
        .bind(d.updated_at.millis())
        .bind(d.height)
        .bind(d.upgrade_checked_at.map(|t| t.millis()))
        .bind(d.upgrades)
}

#[async_trait]
impl DownloadStore for Db {
    async fn all_downloads(&self) -> StorageResult<Vec<DownloadRecord>> {
        sqlx::query(&format!("SELECT {DOWNLOAD_COLUMNS} FROM trailer_downloads"))
            .all(self.pool(), download_row)
            .await
    }

    async fn downloads_of(&self, media_ids: &[String]) -> StorageResult<Vec<DownloadRecord>> {
        let mut out = Vec::new();
        for chunk in media_ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT {DOWNLOAD_COLUMNS} FROM trailer_downloads WHERE media_id IN ({})",
                placeholders(1, chunk.len())
            );
            out.extend(
                bind_ids(sqlx::query(&sql), chunk)
                    .all(self.pool(), download_row)
                    .await?,
            );
        }
        Ok(out)
    }

    async fn media_downloads(&self, media_id: &str) -> StorageResult<Vec<DownloadRecord>> {
        sqlx::query(&format!(
            "SELECT {DOWNLOAD_COLUMNS} FROM trailer_downloads WHERE media_id = $1"
        ))
        .bind(media_id)
        .all(self.pool(), download_row)
        .await
    }

    async fn save_download(&self, d: &DownloadRecord) -> StorageResult<()> {
        upsert_download(d)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn delete_download(&self, media_id: &str, profile_id: &str) -> StorageResult<()> {
        sqlx::query("DELETE FROM trailer_downloads WHERE media_id = $1 AND profile_id = $2")
            .bind(media_id)
            .bind(profile_id)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn scan_records(&self) -> StorageResult<Vec<ScanRecord>> {
        sqlx::query(
            "SELECT id, folder, scan_status, scan_state, scanned_at FROM media ORDER BY folder",
        )
        .all(self.pool(), scan_row)
        .await
    }

    async fn scan_records_of(&self, media_ids: &[String]) -> StorageResult<Vec<ScanRecord>> {
        let mut out = Vec::new();
        for chunk in media_ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT id, folder, scan_status, scan_state, scanned_at FROM media WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            out.extend(
                bind_ids(sqlx::query(&sql), chunk)
                    .all(self.pool(), scan_row)
                    .await?,
            );
        }
        Ok(out)
    }

    async fn save_trailer_writes(&self, w: &TrailerWrites) -> StorageResult<()> {
        let mut tx = self.pool().begin().await.map_err(backend_err)?;
        for d in &w.downloads {
            upsert_download(d)
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
        }
        for e in &w.events {
            insert_event(
                &e.media_id,
                e.profile_id.as_deref(),
                &e.kind,
                &e.message,
                e.at,
            )
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        for r in &w.scans {
            sqlx::query(
                "UPDATE media SET scan_status = $1, scan_state = $2, scanned_at = $3 WHERE id = $4",
            )
            .bind(r.status.as_deref())
            .bind(r.state.as_deref())
            .bind(r.scanned_at.map(|t| t.millis()))
            .bind(&r.media_id)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        tx.commit().await.map_err(backend_err)
    }
}
