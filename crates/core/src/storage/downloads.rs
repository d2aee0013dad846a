//! Trailer downloads per item, profile and slot, and the scan state of each item's folder.

use super::StorageResult;
use crate::trailers::model::{DownloadRecord, ScanRecord, TrailerWrites};
use async_trait::async_trait;

#[async_trait]
pub trait DownloadStore: Send + Sync {
    async fn all_downloads(&self) -> StorageResult<Vec<DownloadRecord>>;
    /// The download records of these items only (a list page).
    async fn downloads_of(&self, media_ids: &[String]) -> StorageResult<Vec<DownloadRecord>>;
    async fn media_downloads(&self, media_id: &str) -> StorageResult<Vec<DownloadRecord>>;
    async fn save_download(&self, d: &DownloadRecord) -> StorageResult<()>;
    /// Every slot's record of this (media, profile). Idempotent: no such record is not an error.
    async fn delete_download(&self, media_id: &str, profile_id: &str) -> StorageResult<()>;
    async fn scan_records(&self) -> StorageResult<Vec<ScanRecord>>;
    /// The scan states of these items only.
    async fn scan_records_of(&self, media_ids: &[String]) -> StorageResult<Vec<ScanRecord>>;
    /// Writes download records, history lines and scan states in one transaction.
    async fn save_trailer_writes(&self, writes: &TrailerWrites) -> StorageResult<()>;
}
