//! Reads the original apps' databases for `tapearr import` (never writes to them).

mod streamvault;
mod trailarr;

use async_trait::async_trait;
use std::path::Path;
use tapearr_core::import::{ImportError, ImportSources};

/// The sources the import service reads, through sqlx.
pub struct SqlImportSources;

#[async_trait]
impl ImportSources for SqlImportSources {
    async fn read_trailarr(
        &self,
        db_file: &Path,
    ) -> Result<tapearr_core::import::trailarr::Snapshot, ImportError> {
        trailarr::read(db_file).await
    }

    async fn read_streamvault(
        &self,
        url: &str,
    ) -> Result<tapearr_core::import::streamvault::Snapshot, ImportError> {
        streamvault::read(url).await
    }
}
