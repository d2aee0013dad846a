//! Reads the original apps' databases for `tapearr import` (never writes to them).

mod trailarr;

use async_trait::async_trait;
use std::path::Path;
use tapearr_core::import::{ImportError, ImportSources, trailarr::Snapshot};

/// The sources the import service reads, through sqlx.
pub struct SqlImportSources;

#[async_trait]
impl ImportSources for SqlImportSources {
    async fn read_trailarr(&self, db_file: &Path) -> Result<Snapshot, ImportError> {
        trailarr::read(db_file).await
    }
}
