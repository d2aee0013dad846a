//! Switching from the original apps (spec C17): `tapearr import trailarr|streamvault`.
//!
//! A source is only read (`ImportSources`, implemented in `tapearr-db`: SQLite opened read-only,
//! PostgreSQL in a read-only transaction) into a snapshot; the snapshot is then planned against
//! Tapearr's storage and, unless it is a dry run, applied. The ids of the source's rows are
//! remembered in the key/value store, so a second run finds everything in place and changes
//! nothing.

pub mod report;
pub mod streamvault;
pub mod trailarr;

pub use report::{ImportReport, ReportLine};

use crate::crypto::SecretBox;
use crate::settings::{LiveConfig, LiveRoots};
use crate::storage::{Storage, StorageError};
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file or database could not be opened (missing, unreadable, refused).
    #[error("cannot open the source: {0}")]
    Unreadable(String),
    /// It opened, but it is not what was asked for.
    #[error("not a {app} database: {why}")]
    NotThatApp { app: &'static str, why: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Reads the original apps' databases; never writes to them.
#[async_trait]
pub trait ImportSources: Send + Sync {
    async fn read_trailarr(&self, db_file: &Path) -> Result<trailarr::Snapshot, ImportError>;
    /// `url`: a PostgreSQL URL; read in a read-only transaction.
    async fn read_streamvault(&self, url: &str) -> Result<streamvault::Snapshot, ImportError>;
}

/// What the CLI and the API call.
#[derive(Clone)]
pub struct ImportService {
    store: Arc<dyn Storage>,
    secrets: SecretBox,
    sources: Arc<dyn ImportSources>,
    /// Library roots (imported recordings must lie in one) and the ffmpeg to remux a TS with.
    live: LiveConfig,
    roots: Arc<LiveRoots>,
}

impl ImportService {
    pub fn new(
        store: Arc<dyn Storage>,
        secrets: SecretBox,
        sources: Arc<dyn ImportSources>,
        live: LiveConfig,
    ) -> Self {
        Self {
            store,
            secrets,
            sources,
            roots: Arc::new(LiveRoots::new(live.clone())),
            live,
        }
    }

    /// Imports a Trailarr database, or the one in its config folder (`dry_run`: only says
    /// what would happen).
    pub async fn trailarr(&self, from: &Path, dry_run: bool) -> Result<ImportReport, ImportError> {
        let db_file = if from.is_dir() {
            from.join("trailarr.db")
        } else {
            from.to_path_buf()
        };
        let snapshot = self.sources.read_trailarr(&db_file).await?;
        trailarr::import(self.store.as_ref(), &self.secrets, &snapshot, dry_run).await
    }
}

impl ImportService {
    /// Imports a StreamVault database: streamers as channels with their retention, its
    /// finished recordings (found in `recordings`, StreamVault's recordings folder as this
    /// machine sees it) and its Apprise URLs (`dry_run`: only says what would happen).
    pub async fn streamvault(
        &self,
        url: &str,
        recordings: Option<&Path>,
        dry_run: bool,
    ) -> Result<ImportReport, ImportError> {
        let snapshot = self.sources.read_streamvault(url).await?;
        let files = streamvault::Files {
            folder: recordings,
            roots: self.roots.get(),
            ffmpeg: self.live.current().tools.ffmpeg.clone(),
        };
        streamvault::import(
            self.store.as_ref(),
            &self.secrets,
            &snapshot,
            &files,
            dry_run,
        )
        .await
    }
}

/// The key under which a source row's Tapearr id is remembered.
pub(crate) fn source_key(app: &str, what: &str, source_id: i64) -> String {
    format!("import.{app}.{what}.{source_id}")
}
