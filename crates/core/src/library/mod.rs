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
mod chat;
mod delete;
mod error;
pub mod finalize;
pub(crate) mod media;
pub mod naming;
mod orphans;
pub mod parts;
pub mod retention;
mod share;
pub(crate) mod sidecars;

pub use chat::{CHAT_PAGE_MAX, ChatPage};
pub use delete::{DeleteReport, remove_recording_files};
pub use error::{LibraryError, LibraryResult};
pub use finalize::{FINALIZE_JOB, FinalizeHandler};
pub use share::{ShareInfo, ShareTicket};

use crate::config::Config;
use crate::events::EventBus;
use crate::files::LibraryRoots;
use crate::jobs::JobQueue;
use crate::mediaserver::MediaServers;
use crate::settings::{LiveConfig, LiveRoots};
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
    /// The library roots in use now (they can be changed in the app).
    roots: LiveRoots,
    queue: JobQueue,
    media_servers: MediaServers,
    http: reqwest::Client,
    disk: Arc<crate::system_checks::DiskWatch>,
}

pub struct LibraryDeps {
    pub config: Arc<Config>,
    pub live: LiveConfig,
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
        let roots = deps.live.current().library_roots.clone();
        if !roots.is_empty() {
            LibraryRoots::new(&roots)?;
        }
        Ok(Self {
            inner: Arc::new(Inner {
                config: deps.config,
                store: deps.store,
                events: deps.events,
                roots: LiveRoots::new(deps.live),
                queue: deps.queue,
                media_servers: deps.media_servers,
                http: deps.http,
                disk: deps.disk,
            }),
        })
    }

    fn roots(&self) -> LibraryResult<LibraryRoots> {
        self.inner.roots.get().ok_or(LibraryError::NoLibraryRoot)
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

    /// Where a recording started now would go with `template` (nothing is stored): with the
    /// login, name, title and category of `channel_id`, or of an example channel.
    pub async fn preview_naming(
        &self,
        template: &str,
        channel_id: Option<&str>,
    ) -> LibraryResult<naming::RenderedPath> {
        naming::validate(template).map_err(|e| LibraryError::Invalid(e.to_string()))?;
        let channel = match channel_id.filter(|c| !c.is_empty()) {
            Some(id) => Some(
                self.inner
                    .store
                    .twitch_channel(id)
                    .await?
                    .ok_or(LibraryError::NotFound)?,
            ),
            None => None,
        };
        let values = match channel {
            Some(c) => naming::NamingValues {
                channel: c.login,
                channel_name: c.display_name,
                title: c.title,
                category: c.category,
                ..example_values()
            },
            None => example_values(),
        };
        Ok(naming::render(template, &values))
    }
}

/// What the naming preview shows without a channel.
fn example_values() -> naming::NamingValues {
    naming::NamingValues {
        channel: "examplechannel".into(),
        channel_name: "ExampleChannel".into(),
        title: "Example stream title".into(),
        category: "Just Chatting".into(),
        started_at: crate::time::Timestamp::now(),
        episode: 1,
        recording_id: "example".into(),
    }
}

const NAMING_TEMPLATE_KEY: &str = "library.naming_template";
