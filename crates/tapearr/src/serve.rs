//! `tapearr serve`: [`Server::build`] wires the services, [`Server::serve`] runs HTTP, jobs and
//! the scheduler on a listener until its shutdown token is cancelled, then stops gracefully.
//! Tests start the same server in-process on `127.0.0.1:0`.

use crate::app::App;
use crate::instance::{self, DataDirLock};
use crate::listener;
use anyhow::{Context, Result};
use std::sync::Arc;
use std::time::Duration;
use tapearr_api::AppState;
use tapearr_core::archive::{self, Archive, ArchiveDeps};
use tapearr_core::config::Config;
use tapearr_core::events::{DomainEvent, EventBus};
use tapearr_core::jobs::{
    JobHandler, JobQueue, JobRegistry, JobRunner, Scheduler, TaskDef, builtin,
};
use tapearr_core::library::retention::{self, RETENTION_JOB, RetentionHandler};
use tapearr_core::library::{FINALIZE_JOB, FinalizeHandler, Library, LibraryDeps};
use tapearr_core::logs::LogBuffer;
use tapearr_core::mediaserver::{MediaServers, PlexTvUrls, REFRESH_JOB, RefreshHandler};
use tapearr_core::notify::Notifier;
use tapearr_core::settings::Settings;
use tapearr_core::streams::{Streams, StreamsDeps};
use tapearr_core::system::{SystemProbe, TOOLS_UPDATE_JOB, UpdateTools};
use tapearr_core::system_checks::{self, CheckDisk, CheckToolUpdates, DiskWatch, UpdateYtDlp};
use tapearr_core::tools::ToolsManager;
use tapearr_core::tools::YtDlpChannel;
use tapearr_core::trailers::jobs::{
    self as trailer_jobs, DOWNLOAD_JOB, DownloadHandler, ITEM_JOB, ItemHandler, RUN_JOB,
    RunHandler, SCAN_JOB, SYNC_JOB, ScanHandler, SyncHandler,
};
use tapearr_core::trailers::{Trailers, TrailersDeps};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// `tapearr serve`: build, listen on `config.listen`, serve until SIGINT or SIGTERM.
pub async fn run(config: Config, logs: Arc<LogBuffer>) -> Result<()> {
    let listen = config.listen;
    let server = Server::build(config, logs).await?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let shutdown = CancellationToken::new();
    let signal_token = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: no new requests or jobs; waiting for running jobs");
        signal_token.cancel();
    });
    server.serve(listener, shutdown).await
}

/// A wired server, not yet serving: the data dir is locked, the database migrated, interrupted
/// jobs recovered and the scheduler's tasks registered.
pub struct Server {
    app: App,
    instance: String,
    state: AppState,
    workers: Workers,
    /// What the services stop on; `serve`'s shutdown token cancels it.
    stop: CancellationToken,
    /// Dropped last: released once everything else has stopped.
    _lock: DataDirLock,
}

/// The background work that runs beside HTTP until `stop` is cancelled.
struct Workers {
    runner: JobRunner,
    scheduler: Scheduler,
    notifier: Notifier,
    streams: Streams,
    library: Library,
}

impl Workers {
    fn spawn(self, stop: &CancellationToken) -> TaskTracker {
        let tasks = TaskTracker::new();
        tasks.spawn(self.runner.run(stop.clone()));
        tasks.spawn(self.scheduler.run(stop.clone()));
        tasks.spawn(self.notifier.run(stop.clone()));
        tasks.spawn(self.streams.run());
        tasks.spawn(self.library.run(stop.clone()));
        tasks.close();
        tasks
    }
}

/// The services job handlers are made from.
struct Services {
    tools: Arc<ToolsManager>,
    ytdlp_channel: YtDlpChannel,
    ytdlp_auto_update: bool,
    events: EventBus,
    disk: Arc<DiskWatch>,
    media_servers: MediaServers,
    library: Library,
    trailers: Trailers,
    archive: Archive,
}

type MakeHandler = fn(&Services) -> Arc<dyn JobHandler>;

/// Every job kind this server runs besides core's housekeeping (`builtin`), with its handler.
const JOBS: &[(&str, MakeHandler)] = &[
    (TOOLS_UPDATE_JOB, |s| {
        Arc::new(UpdateTools {
            tools: s.tools.clone(),
            events: s.events.clone(),
        })
    }),
    (system_checks::CHECK_DISK_JOB, |s| {
        Arc::new(CheckDisk(s.disk.clone()))
    }),
    (system_checks::CHECK_TOOLS_JOB, |s| {
        Arc::new(CheckToolUpdates::new(s.tools.clone(), s.events.clone()))
    }),
    (system_checks::UPDATE_YTDLP_JOB, |s| {
        Arc::new(UpdateYtDlp {
            tools: s.tools.clone(),
            events: s.events.clone(),
            channel: s.ytdlp_channel,
            enabled: s.ytdlp_auto_update,
        })
    }),
    (REFRESH_JOB, |s| {
        Arc::new(RefreshHandler(s.media_servers.clone()))
    }),
    (FINALIZE_JOB, |s| {
        Arc::new(FinalizeHandler(s.library.clone()))
    }),
    (RETENTION_JOB, |s| {
        Arc::new(RetentionHandler(s.library.clone()))
    }),
    (RUN_JOB, |s| Arc::new(RunHandler(s.trailers.clone()))),
    (SYNC_JOB, |s| Arc::new(SyncHandler(s.trailers.clone()))),
    (DOWNLOAD_JOB, |s| {
        Arc::new(DownloadHandler(s.trailers.clone()))
    }),
    (SCAN_JOB, |s| Arc::new(ScanHandler(s.trailers.clone()))),
    (ITEM_JOB, |s| Arc::new(ItemHandler(s.trailers.clone()))),
    (archive::RUN_JOB, |s| {
        Arc::new(archive::RunHandler(s.archive.clone()))
    }),
    (archive::VOD_JOB, |s| {
        Arc::new(archive::VodHandler(s.archive.clone()))
    }),
];

/// The scheduler's periodic tasks.
fn task_defs() -> Vec<TaskDef> {
    let mut tasks = builtin::task_defs();
    tasks.extend(system_checks::task_defs());
    tasks.extend(retention::task_defs());
    tasks.extend(trailer_jobs::task_defs());
    tasks.extend(archive::task_defs());
    tasks
}

impl Server {
    pub async fn build(config: Config, logs: Arc<LogBuffer>) -> Result<Server> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
        let lock = instance::lock_data_dir(&config.data_dir)?;
        let instance = instance::instance_id(&config.data_dir)?;
        // With the data dir's lock held, a tool marked with this instance belongs to a server that
        // died: it must not write beside the work this start resumes.
        tapearr_core::tools::kill_orphaned_tools(&instance);
        tapearr_core::tools::mark_tools_with(&instance);
        let app = App::open(config).await?;
        let stop = CancellationToken::new();
        let http = outside_client()?;

        // Handlers need services that need the queue, and the queue must know every kind: the
        // kinds come from `JOBS` now, the handlers once the services exist.
        let mut registry = JobRegistry::default();
        builtin::register(
            &mut registry,
            app.store.clone(),
            app.config.events.retention_days,
            Duration::from_secs(u64::from(app.config.auth.lockout_minutes) * 60),
        );
        let mut kinds = registry.kinds();
        kinds.extend(JOBS.iter().map(|(kind, _)| kind.to_string()));
        let queue = JobQueue::new(app.store.clone(), app.events.clone(), kinds);

        // A lost or replaced key is refused with what to do, before anything it sealed is read.
        let secrets = crate::secret_key::open(&app.config.data_dir, app.store.as_ref()).await?;
        // Secrets written in plaintext by an older version are sealed before anything reads them.
        tapearr_core::secrets_at_rest::seal_plaintext_secrets(app.store.as_ref(), &secrets).await?;
        // The settings changed in the app: services read them live, or the start's values.
        let settings = Settings::open(
            (*app.config).clone(),
            app.config.origins.clone(),
            app.store.clone(),
            secrets.clone(),
        )
        .await?;
        let live = settings.live();
        let config = settings.current();
        let disk = Arc::new(DiskWatch::new(
            app.config.data_dir.clone(),
            live.clone(),
            app.events.clone(),
        ));
        let media_servers = MediaServers::new(
            app.store.clone(),
            queue.clone(),
            secrets.clone(),
            PlexTvUrls {
                api: app.config.plex.tv_url.to_string(),
                app: app.config.plex.app_url.to_string(),
            },
        )?;
        let library = Library::new(LibraryDeps {
            config: config.clone(),
            live: live.clone(),
            store: app.store.clone(),
            events: app.events.clone(),
            queue: queue.clone(),
            media_servers: media_servers.clone(),
            http: http.clone(),
            disk: disk.clone(),
        })?;
        let trailers = Trailers::new(TrailersDeps {
            config: config.clone(),
            live: live.clone(),
            store: app.store.clone(),
            events: app.events.clone(),
            queue: queue.clone(),
            media_servers: media_servers.clone(),
            http: http.clone(),
            secrets: secrets.clone(),
            tools: app.tools.clone(),
        })?;
        trailers.purge_work_dir().await;
        trailers.restore_host_pauses().await;
        trailers.ensure_default_profiles().await?;

        let streams = Streams::new(StreamsDeps {
            config: config.clone(),
            live,
            store: app.store.clone(),
            events: app.events.clone(),
            instance: instance.clone(),
            secrets: secrets.clone(),
            http: http.clone(),
            shutdown: stop.clone(),
            disk: disk.clone(),
        })?;
        let archive = Archive::new(ArchiveDeps {
            store: app.store.clone(),
            streams: streams.clone(),
            library: library.clone(),
            queue: queue.clone(),
            events: app.events.clone(),
            http: http.clone(),
        });
        let services = Services {
            tools: app.tools.clone(),
            ytdlp_channel: app.config.tools.ytdlp_channel,
            ytdlp_auto_update: app.config.tools.ytdlp_auto_update,
            events: app.events.clone(),
            disk: disk.clone(),
            media_servers: media_servers.clone(),
            library: library.clone(),
            trailers: trailers.clone(),
            archive: archive.clone(),
        };
        for (kind, make) in JOBS {
            registry.register(kind, make(&services));
        }
        let runner = JobRunner::new(
            app.store.clone(),
            app.events.clone(),
            &queue,
            registry,
            app.config.jobs.clone(),
            instance.clone(),
        );
        runner.recover().await?;
        let scheduler = Scheduler::new(
            app.store.clone(),
            queue.clone(),
            app.events.clone(),
            task_defs(),
        );
        scheduler.register().await?;

        let system = Arc::new(SystemProbe::new(
            settings.live(),
            app.store.clone(),
            app.tools.clone(),
            instance.clone(),
        ));
        let notifier = Notifier::new(
            app.store.clone(),
            app.events.clone(),
            app.tools.clone(),
            secrets.clone(),
        )?;
        let import_live = settings.live();
        let state = AppState::new(
            app.config.clone(),
            app.auth.clone(),
            app.events.clone(),
            queue,
            scheduler.clone(),
            logs,
            system,
            notifier.clone(),
            media_servers,
            streams.clone(),
            library.clone(),
            trailers,
            archive,
            settings,
            stop.clone(),
        );
        let state = state.with_imports(crate::import_cmd::service(&app, import_live)?);
        let state = setup_gate(&app, state).await?;
        Ok(Server {
            app,
            instance,
            state,
            workers: Workers {
                runner,
                scheduler,
                notifier,
                streams,
                library,
            },
            stop,
            _lock: lock,
        })
    }

    pub fn config(&self) -> &Config {
        &self.app.config
    }

    /// The whole HTTP surface over this server's state (tests drive it with `oneshot`).
    pub fn router(&self) -> axum::Router {
        tapearr_api::router(self.state.clone())
    }

    /// Runs HTTP, jobs, the scheduler, notifications, recordings and the library until
    /// `shutdown` is cancelled; then lets running work finish (recordings are finalized, not
    /// killed) within `jobs.shutdown_grace_secs` and closes the database.
    pub async fn serve(self, listener: TcpListener, shutdown: CancellationToken) -> Result<()> {
        let Server {
            app,
            instance,
            state,
            workers,
            stop,
            _lock,
        } = self;
        let local = listener.local_addr()?;
        let linked = stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown.cancelled() => linked.cancel(),
                _ = linked.cancelled() => {}
            }
        });
        let workers = workers.spawn(&stop);
        app.events
            .emit(DomainEvent::SystemStarted {
                version: env!("CARGO_PKG_VERSION").to_string(),
                instance: instance.clone(),
            })
            .await;
        // Tests and scripts wait for this exact line.
        tracing::info!(address = %local, instance = %instance, "tapearr listening on http://{local}");

        let limits = listener::Limits {
            header_timeout: Duration::from_secs(app.config.http.header_timeout_secs),
            max_connections: app.config.http.max_connections,
        };
        listener::serve(listener, tapearr_api::router(state), limits, stop.clone()).await;

        let grace = Duration::from_secs(app.config.jobs.shutdown_grace_secs + 10);
        if tokio::time::timeout(grace, workers.wait()).await.is_err() {
            tracing::warn!("background work did not stop in time");
        }
        app.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// One client for every outside service: Twitch, notifications, media servers.
fn outside_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("tapearr/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")
}

/// Beyond loopback, anyone who reaches the port first could create the admin: require the
/// token only the person reading the log has.
async fn setup_gate(app: &App, state: AppState) -> Result<AppState> {
    if app.config.listen.ip().is_loopback() || !app.auth.setup_required().await? {
        return Ok(state);
    }
    let token = tapearr_core::auth::tokens::random_token("");
    tracing::warn!(
        "no admin account yet and listening on {} (beyond loopback): create it with the setup token {token}",
        app.config.listen
    );
    Ok(state.with_setup_token(token))
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::JOBS;
    use tapearr_core::jobs::{JobKind, builtin};

    /// The API document's `JobKind` (the web app's types) and what the server registers are
    /// one set: a kind added to one list and not the other fails here.
    #[test]
    fn registered_job_kinds_are_the_documented_ones() {
        let mut registered: Vec<&str> = builtin::KINDS.to_vec();
        registered.extend(JOBS.iter().map(|(kind, _)| *kind));
        registered.sort_unstable();
        let mut documented: Vec<&str> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
        documented.sort_unstable();
        assert_eq!(registered, documented);
    }
}
