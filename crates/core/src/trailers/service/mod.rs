//! The trailers service: what the API, the jobs and the tasks call.

pub mod actions;
pub mod hosts;
pub mod images;
pub mod jobs;
pub mod run;
pub mod webhook;

use crate::config::Config;
use crate::crypto::SecretBox;
use crate::events::EventBus;
use crate::files::LibraryRoots;
use crate::jobs::JobQueue;
use crate::mediaserver::MediaServers;
use crate::settings::{LiveConfig, LiveRoots};
use crate::setup::SetupError;
use crate::storage::Storage;
use crate::tools::{ToolsManager, YT_DLP};
use crate::trailers::download::politeness::Politeness;
use crate::trailers::error::TrailerResult;
use crate::trailers::model::MediaItem;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Everything the trailer services need; cheap to clone.
#[derive(Clone)]
pub struct Trailers {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub config: Arc<Config>,
    pub store: Arc<dyn Storage>,
    pub events: EventBus,
    pub queue: JobQueue,
    pub media_servers: MediaServers,
    pub http: reqwest::Client,
    /// For Radarr, Sonarr and Plex: redirects only within one host.
    pub library_http: reqwest::Client,
    pub secrets: SecretBox,
    pub tools: Arc<ToolsManager>,
    /// The settings as they are now (roots, TMDB key, cookies).
    pub live: LiveConfig,
    pub roots: LiveRoots,
    pub politeness: Politeness,
    /// Only one full run (sync → scan → downloads) at a time.
    pub run_lock: tokio::sync::Mutex<()>,
    /// Only one disk scan at a time (a run's and a manual one): a scan that started before a
    /// share was mounted again must not finish after a newer one and write its stale view.
    pub scan_lock: tokio::sync::Mutex<()>,
    /// (media, profile, slot)s being fetched now: a second fetch of one is refused, so two
    /// never share a work folder or overwrite each other's record.
    pub in_flight: std::sync::Mutex<HashSet<(String, String, crate::trailers::model::Slot)>>,
}

pub struct TrailersDeps {
    pub config: Arc<Config>,
    pub live: LiveConfig,
    pub store: Arc<dyn Storage>,
    pub events: EventBus,
    pub queue: JobQueue,
    pub media_servers: MediaServers,
    pub http: reqwest::Client,
    pub secrets: SecretBox,
    pub tools: Arc<ToolsManager>,
}

impl Trailers {
    pub fn new(deps: TrailersDeps) -> Result<Self, SetupError> {
        let roots = deps.live.current().library_roots.clone();
        if !roots.is_empty() {
            LibraryRoots::new(&roots)?;
        }
        let t = &deps.config.trailers;
        let politeness = Politeness::new(
            Duration::from_secs(t.host_interval_secs),
            Duration::from_secs(t.host_jitter_secs),
            t.host_hourly_cap,
        )
        .with_pauses(
            Duration::from_secs(t.host_pause_secs),
            Duration::from_secs(t.host_pause_max_secs),
        );
        // The Arr's key and Plex's token travel in headers: the one policy for secrets
        // (same-host redirects only, bounded timeouts) applies.
        let library_http =
            tapearr_integrations::http::secret_client().map_err(SetupError::HttpClient)?;
        Ok(Self {
            inner: Arc::new(Inner {
                library_http,
                config: deps.config,
                store: deps.store,
                events: deps.events,
                queue: deps.queue,
                media_servers: deps.media_servers,
                http: deps.http,
                secrets: deps.secrets,
                tools: deps.tools,
                roots: LiveRoots::new(deps.live.clone()),
                live: deps.live,
                politeness,
                run_lock: tokio::sync::Mutex::new(()),
                scan_lock: tokio::sync::Mutex::new(()),
                in_flight: std::sync::Mutex::new(HashSet::new()),
            }),
        })
    }

    pub(super) fn store(&self) -> &dyn Storage {
        self.inner.store.as_ref()
    }

    /// Every media item by id (a run or a scan looks items up while it works).
    pub(super) async fn media_by_id(&self) -> TrailerResult<HashMap<String, MediaItem>> {
        Ok(self
            .store()
            .all_media()
            .await?
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect())
    }

    /// The configuration with the settings as they are now.
    pub(super) fn config(&self) -> Arc<Config> {
        self.inner.live.current()
    }

    /// The library roots in use now; `None` while none is set.
    pub(super) fn roots(&self) -> Option<LibraryRoots> {
        self.inner.roots.get()
    }

    pub(super) fn yt_dlp_program(&self) -> PathBuf {
        self.inner.tools.tool_path(&YT_DLP)
    }

    /// Where downloads and conversions happen before the result moves into the library.
    /// How often a placed trailer is searched for a taller video (quality upgrades).
    pub(crate) fn upgrade_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.config().trailers.upgrade_interval_secs)
    }

    pub fn work_dir(&self) -> PathBuf {
        self.inner.config.data_dir.join("trailers-tmp")
    }

    /// Removes what an interrupted run left in the work folder (called at start-up).
    pub async fn purge_work_dir(&self) {
        let dir = self.work_dir();
        if tokio::fs::metadata(&dir).await.is_ok()
            && let Err(e) = tokio::fs::remove_dir_all(&dir).await
        {
            tracing::warn!(error = %e, dir = %dir.display(), "cannot purge the trailer work folder");
        }
    }
}
