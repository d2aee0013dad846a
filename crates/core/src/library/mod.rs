//! The recordings library (S5–S8): finalize recordings into the media-server layout, delete
//! them, share them, and find what a crash left behind.
//!
//! - [`naming`]: the naming template (validation, preview, rendering).
//! - [`chapters`]: chapters from stream events, placed on the recording's media timeline.
//! - [`media`]: ffmpeg (remux, thumbnail); ffprobe is `tools::ffprobe`.
//! - [`sidecars`]: NFO, info.json and chapter files next to the MP4.
//! - [`finalize`]: the durable finalize job, one idempotent step at a time.
//! - [`delete`]: removing a recording's files and rows.
//! - [`orphans`]: the start-up scan for recordings that still need finalize.
//! - [`share`]: expiring share links.

pub(crate) mod artwork;
pub mod chapters;
mod delete;
mod error;
pub mod finalize;
mod media;
pub mod naming;
mod orphans;
pub mod parts;
pub mod retention;
mod share;
mod sidecars;

pub use delete::{DeleteReport, remove_recording_files};
pub use error::{LibraryError, LibraryResult};
pub use finalize::{FINALIZE_JOB, FinalizeHandler};
pub use share::{ShareInfo, ShareTicket};

use crate::config::Config;
use crate::events::EventBus;
use crate::files::LibraryRoots;
use crate::jobs::JobQueue;
use crate::mediaserver::MediaServers;
use crate::storage::Storage;
use std::sync::Arc;

/// Everything the library needs; cheap to clone.
#[derive(Clone)]
pub struct Library {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    store: Arc<dyn Storage>,
    events: EventBus,
    roots: Option<LibraryRoots>,
    queue: JobQueue,
    media_servers: MediaServers,
    http: reqwest::Client,
    disk: Arc<crate::system_checks::DiskWatch>,
}

pub struct LibraryDeps {
    pub config: Arc<Config>,
    pub store: Arc<dyn Storage>,
    pub events: EventBus,
    pub queue: JobQueue,
    pub media_servers: MediaServers,
    pub http: reqwest::Client,
    /// Told at once when a write finds the disk full.
    pub disk: Arc<crate::system_checks::DiskWatch>,
}

impl Library {
    pub fn new(deps: LibraryDeps) -> Result<Self, crate::setup::SetupError> {
        let roots = if deps.config.library_roots.is_empty() {
            None
        } else {
            Some(LibraryRoots::new(&deps.config.library_roots)?)
        };
        Ok(Self {
            inner: Arc::new(Inner {
                config: deps.config,
                store: deps.store,
                events: deps.events,
                roots,
                queue: deps.queue,
                media_servers: deps.media_servers,
                http: deps.http,
                disk: deps.disk,
            }),
        })
    }

    fn roots(&self) -> LibraryResult<&LibraryRoots> {
        self.inner.roots.as_ref().ok_or(LibraryError::NoLibraryRoot)
    }

    pub fn store(&self) -> &Arc<dyn Storage> {
        &self.inner.store
    }

    /// The global naming template (channels may override it).
    pub async fn naming_template(&self) -> LibraryResult<String> {
        Ok(self
            .inner
            .store
            .app_value(NAMING_TEMPLATE_KEY)
            .await?
            .unwrap_or_else(|| naming::DEFAULT_TEMPLATE.to_string()))
    }

    /// Validates and stores the global naming template; recordings already placed keep their path.
    pub async fn set_naming_template(&self, template: &str) -> LibraryResult<String> {
        let template = template.trim();
        naming::validate(template).map_err(|e| LibraryError::Invalid(e.to_string()))?;
        self.inner
            .store
            .set_app_value(NAMING_TEMPLATE_KEY, Some(template))
            .await?;
        Ok(template.to_string())
    }
}

const NAMING_TEMPLATE_KEY: &str = "library.naming_template";
