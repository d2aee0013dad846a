//! What every handler can reach.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tapearr_core::archive::Archive;
use tapearr_core::auth::AuthService;
use tapearr_core::config::Config;
use tapearr_core::events::EventBus;
use tapearr_core::import::ImportService;
use tapearr_core::jobs::{JobQueue, Scheduler};
use tapearr_core::library::Library;
use tapearr_core::logs::LogBuffer;
use tapearr_core::mediaserver::MediaServers;
use tapearr_core::notify::Notifier;
use tapearr_core::settings::Settings;
use tapearr_core::streams::Streams;
use tapearr_core::system::SystemProbe;
use tapearr_core::time::Timestamp;
use tapearr_core::trailers::Trailers;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub auth: AuthService,
    pub events: EventBus,
    pub queue: JobQueue,
    pub scheduler: Scheduler,
    pub logs: Arc<LogBuffer>,
    pub system: Arc<SystemProbe>,
    pub notifier: Notifier,
    pub media_servers: MediaServers,
    pub streams: Streams,
    pub library: Library,
    pub trailers: Trailers,
    pub archive: Archive,
    /// `tapearr import` behind Settings → Import (set by the binary with [`Self::with_imports`]).
    pub imports: Option<ImportService>,
    pub settings: Settings,
    pub started_at: Timestamp,
    pub metrics: Arc<Metrics>,
    /// Cancelled at shutdown: long-lived connections (WebSockets) close on it.
    pub shutdown: CancellationToken,
    /// Once an admin exists it never goes away, so the check stops hitting the database.
    pub(crate) setup_done: Arc<AtomicBool>,
    /// Set when the server started without an admin and listens beyond loopback: `POST
    /// /api/v1/setup` must bring it (it is printed in the log), so whoever reaches the port
    /// first cannot claim the server.
    pub(crate) setup_token: Option<Arc<str>>,
}

impl AppState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: Arc<Config>,
        auth: AuthService,
        events: EventBus,
        queue: JobQueue,
        scheduler: Scheduler,
        logs: Arc<LogBuffer>,
        system: Arc<SystemProbe>,
        notifier: Notifier,
        media_servers: MediaServers,
        streams: Streams,
        library: Library,
        trailers: Trailers,
        archive: Archive,
        settings: Settings,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            config,
            auth,
            events,
            queue,
            scheduler,
            logs,
            system,
            notifier,
            media_servers,
            streams,
            library,
            trailers,
            archive,
            imports: None,
            settings,
            started_at: Timestamp::now(),
            metrics: Arc::default(),
            shutdown,
            setup_done: Arc::default(),
            setup_token: None,
        }
    }

    /// Requires `token` in `POST /api/v1/setup`.
    pub fn with_imports(mut self, imports: ImportService) -> Self {
        self.imports = Some(imports);
        self
    }

    pub fn with_setup_token(mut self, token: String) -> Self {
        self.setup_token = Some(token.into());
        self
    }

    pub(crate) async fn setup_required(&self) -> Result<bool, tapearr_core::auth::AuthError> {
        if self.setup_done.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let required = self.auth.setup_required().await?;
        if !required {
            self.setup_done.store(true, Ordering::Relaxed);
        }
        Ok(required)
    }
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub server_errors: AtomicU64,
    pub auth_failures: AtomicU64,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
