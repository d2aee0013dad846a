//! Builds the services from a configuration: shared by `serve` and the admin commands.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;
use tapearr_core::auth::AuthService;
use tapearr_core::config::Config;
use tapearr_core::events::EventBus;
use tapearr_core::storage::Storage;
use tapearr_core::tools::ToolsManager;
use tapearr_db::Db;

pub struct App {
    pub config: Arc<Config>,
    pub db: Db,
    pub store: Arc<dyn Storage>,
    pub events: EventBus,
    pub auth: AuthService,
    pub tools: Arc<ToolsManager>,
}

impl App {
    /// Opens (and migrates) the database; the SQLite file is backed up before a migration.
    pub async fn open(config: Config) -> Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
        let db = Db::connect(&config.database_url()).await?;
        let report = db.migrate(Some(&backups_dir(&config))).await?;
        if report.from != report.to {
            tracing::info!(from = report.from, to = report.to, backup = ?report.backup, "database migrated");
        }
        let store: Arc<dyn Storage> = Arc::new(db.clone());
        let events = EventBus::new(store.clone());
        let auth = AuthService::new(store.clone(), events.clone(), config.auth.clone());
        let tools = Arc::new(tools_manager(&config));
        Ok(Self {
            config: Arc::new(config),
            db,
            store,
            events,
            auth,
            tools,
        })
    }
}

pub fn tools_manager(config: &Config) -> ToolsManager {
    ToolsManager::new(&config.data_dir)
        .with_ffmpeg(&config.tools.ffmpeg)
        .with_ffprobe(&config.tools.ffprobe)
        .with_python(&config.tools.python)
        .with_fallback_venv(config.tools.fallback_venv.clone())
        .with_po_token_plugin(config.trailers.po_token_provider_url.is_some())
}

pub fn backups_dir(config: &Config) -> PathBuf {
    config.data_dir.join("backups")
}
