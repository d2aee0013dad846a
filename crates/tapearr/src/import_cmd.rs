//! `tapearr import trailarr|streamvault`: switching from the original apps in one command.

use crate::app::App;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;
use tapearr_core::crypto::SecretBox;
use tapearr_core::import::{ImportReport, ImportService};
use tapearr_db::import::SqlImportSources;

#[derive(clap::Subcommand)]
pub enum ImportCommand {
    /// Connections, path mappings, profiles, monitor flags, trailer ids and download history
    /// from a Trailarr database (only read). Trailers on disk are claimed by the next scan.
    Trailarr {
        /// Trailarr's database file, or its config folder (holding `trailarr.db`).
        #[arg(long, value_name = "PATH")]
        from: PathBuf,
        /// Print what would be imported and skipped; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// StreamVault's streamers as channels, with quality, codecs, auto-record and favourite
    /// (read in a read-only transaction). Recordings and notification settings are listed,
    /// not imported, by this version.
    Streamvault {
        /// StreamVault's PostgreSQL URL (`postgres://user:password@host/streamvault`).
        #[arg(long, value_name = "URL")]
        from: String,
        #[arg(long)]
        dry_run: bool,
    },
}

/// The service the CLI and the server use.
pub fn service(app: &App) -> Result<ImportService> {
    let secrets = SecretBox::open(&app.config.data_dir).context("cannot open the secret key")?;
    Ok(ImportService::new(
        app.store.clone(),
        secrets,
        Arc::new(SqlImportSources),
    ))
}

pub async fn run(app: &App, cmd: ImportCommand) -> Result<ImportReport> {
    let imports = service(app)?;
    let report = match cmd {
        ImportCommand::Trailarr { from, dry_run } => imports.trailarr(&from, dry_run).await?,
        ImportCommand::Streamvault { from, dry_run } => imports.streamvault(&from, dry_run).await?,
    };
    Ok(report)
}
