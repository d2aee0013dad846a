//! What `doctor`, the dashboard and `/api/v1/system/status` report: database, tools, and the
//! free space of each library root.

use crate::events::{DomainEvent, EventBus};
use crate::jobs::{JobContext, JobError, JobHandler};
use crate::settings::LiveConfig;
use crate::storage::Storage;
use crate::tools::{ToolStatus, ToolsManager};
use async_trait::async_trait;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

pub const TOOLS_UPDATE_JOB: &str = "tools.update";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SystemStatus {
    pub version: String,
    pub instance: String,
    pub database: DatabaseStatus,
    pub tools: Vec<ToolStatus>,
    pub library_roots: Vec<RootStatus>,
    /// `<data_dir>` and its free space.
    pub data_dir: RootStatus,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DatabaseStatus {
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub ok: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RootStatus {
    #[schema(value_type = String)]
    pub path: PathBuf,
    pub free_bytes: Option<u64>,
    /// Why the free space could not be read (missing, unreadable mount …).
    pub error: Option<String>,
}

/// What `/readyz` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// The database answers a round trip.
    pub database: bool,
    /// `<data_dir>` is a folder we may write to.
    pub data_dir: bool,
}

/// Probed tool versions are reused this long, unless the managed tools were reinstalled.
const TOOLS_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// A probe result and what it was taken against.
type ToolsCache = Option<(
    std::time::Instant,
    Vec<Option<std::time::SystemTime>>,
    Vec<ToolStatus>,
)>;

/// Gathers the system status; cheap enough to call per request (tool versions, which take
/// five processes to read, are cached).
pub struct SystemProbe {
    /// Live: library roots changed in the app show at once.
    config: LiveConfig,
    store: Arc<dyn Storage>,
    tools: Arc<ToolsManager>,
    instance: String,
    tools_cache: tokio::sync::Mutex<ToolsCache>,
}

impl SystemProbe {
    pub fn new(
        config: LiveConfig,
        store: Arc<dyn Storage>,
        tools: Arc<ToolsManager>,
        instance: String,
    ) -> Self {
        Self {
            config,
            store,
            tools,
            instance,
            tools_cache: tokio::sync::Mutex::new(None),
        }
    }

    /// Tool versions, probed at most every `TOOLS_TTL` or after a reinstall. Concurrent callers
    /// wait for one probe rather than each starting five processes.
    pub async fn tools(&self) -> Vec<ToolStatus> {
        let stamp = self.tools.installed_stamp();
        let mut cache = self.tools_cache.lock().await;
        if let Some((at, seen, statuses)) = cache.as_ref()
            && *seen == stamp
            && at.elapsed() < TOOLS_TTL
        {
            return statuses.clone();
        }
        let statuses = self.tools.status().await;
        *cache = Some((std::time::Instant::now(), stamp, statuses.clone()));
        statuses
    }

    /// Cheap: one database round trip and one `stat`, for load balancers.
    pub async fn readiness(&self) -> Readiness {
        let database = match self.store.ping().await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "readiness: database");
                false
            }
        };
        let data_dir = matches!(
            tokio::fs::metadata(&self.config.current().data_dir).await,
            Ok(m) if m.is_dir() && !m.permissions().readonly()
        );
        Readiness { database, data_dir }
    }

    pub async fn status(&self) -> SystemStatus {
        let (tools, db) = tokio::join!(self.tools(), self.store.ping());
        let config = self.config.current();
        SystemStatus {
            version: env!("CARGO_PKG_VERSION").to_string(),
            instance: self.instance.clone(),
            database: DatabaseStatus {
                backend: self.store.backend().to_string(),
                ok: db.is_ok(),
                error: db.err().map(|e| e.to_string()),
            },
            tools,
            library_roots: config
                .library_roots
                .iter()
                .map(|r| root_status(r.clone()))
                .collect(),
            data_dir: root_status(config.data_dir.clone()),
        }
    }
}

pub fn root_status(path: PathBuf) -> RootStatus {
    match crate::files::free_space(&path) {
        Ok(free) => RootStatus {
            path,
            free_bytes: Some(free),
            error: None,
        },
        Err(e) => RootStatus {
            path,
            free_bytes: None,
            error: Some(e.to_string()),
        },
    }
}

/// The `tools.update` job: upgrade the Python tools in the venv and say what changed.
pub struct UpdateTools {
    pub tools: Arc<ToolsManager>,
    pub events: EventBus,
}

#[async_trait]
impl JobHandler for UpdateTools {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        ctx.set_progress(0.1, Some("updating yt-dlp, streamlink and apprise".into()))
            .await;
        let updates = self
            .tools
            .update(&ctx.cancel)
            .await
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        let changes: Vec<String> = updates
            .iter()
            .filter(|u| u.changed() || u.rolled_back.is_some())
            .map(|u| {
                let (old, new) = (
                    u.old.as_deref().unwrap_or("none"),
                    u.new.as_deref().unwrap_or("none"),
                );
                match &u.rolled_back {
                    Some(why) => format!(
                        "{} update failed its self-check ({why}); rolled back to {new}",
                        u.package
                    ),
                    None => format!("{} {old} → {new}", u.package),
                }
            })
            .collect();
        ctx.set_progress(
            1.0,
            Some(if changes.is_empty() {
                "already up to date".into()
            } else {
                changes.join(", ")
            }),
        )
        .await;
        self.events
            .emit(DomainEvent::ToolsUpdated { changes })
            .await;
        Ok(())
    }
}
