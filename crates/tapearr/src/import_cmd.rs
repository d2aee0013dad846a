//! `tapearr import trailarr|streamvault`: switching from the original apps in one command.

use crate::app::App;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;
use tapearr_core::crypto::SecretBox;
use tapearr_core::import::{ImportReport, ImportService};
use tapearr_core::settings::{LiveConfig, Settings};
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
    /// StreamVault's streamers as channels (quality, codecs, auto-record, favourite, cleanup
    /// policy as retention), its finished recordings as library recordings pointing at the
    /// files where they are, and its Apprise URLs as notification channels (the database is
    /// read in a read-only transaction).
    Streamvault {
        /// StreamVault's PostgreSQL URL (`postgres://user:password@host/streamvault`).
        #[arg(long, value_name = "URL")]
        from: String,
        /// StreamVault's recordings folder as this machine sees it; it must be in a library
        /// root. Without it, recordings are listed as skipped.
        #[arg(long, value_name = "PATH")]
        recordings: Option<PathBuf>,
        /// Print what would be imported and skipped; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// The service the CLI and the server use; `live`: the configuration with the settings
/// changed in the app (library roots, ffmpeg).
pub fn service(app: &App, live: LiveConfig) -> Result<ImportService> {
    let secrets = SecretBox::open(&app.config.data_dir).context("cannot open the secret key")?;
    Ok(ImportService::new(
        app.store.clone(),
        secrets,
        Arc::new(SqlImportSources),
        live,
    ))
}

pub async fn run(app: &App, cmd: ImportCommand) -> Result<ImportReport> {
    let secrets = SecretBox::open(&app.config.data_dir).context("cannot open the secret key")?;
    let settings = Settings::open(
        (*app.config).clone(),
        app.config.origins.clone(),
        app.store.clone(),
        secrets,
    )
    .await?;
    let imports = service(app, settings.live())?;
    let report = match cmd {
        ImportCommand::Trailarr { from, dry_run } => imports.trailarr(&from, dry_run).await?,
        ImportCommand::Streamvault {
            from,
            recordings,
            dry_run,
        } => {
            imports
                .streamvault(&from, recordings.as_deref(), dry_run)
                .await?
        }
    };
    Ok(report)
}
