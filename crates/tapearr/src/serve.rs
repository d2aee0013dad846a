//! `tapearr serve`: wire the services, serve HTTP, shut down gracefully.

use crate::app::App;
use crate::{instance, listener};
use anyhow::{Context, Result};
use std::sync::Arc;
use std::time::Duration;
use tapearr_api::AppState;
use tapearr_core::config::Config;
use tapearr_core::events::DomainEvent;
use tapearr_core::jobs::{JobQueue, JobRegistry, JobRunner, Scheduler, builtin};
use tapearr_core::library::retention::{self, RETENTION_JOB, RetentionHandler};
use tapearr_core::library::{FINALIZE_JOB, FinalizeHandler, Library, LibraryDeps};
use tapearr_core::logs::LogBuffer;
use tapearr_core::mediaserver::{MediaServers, REFRESH_JOB, RefreshHandler};
use tapearr_core::notify::Notifier;
use tapearr_core::streams::{Streams, StreamsDeps};
use tapearr_core::system::{SystemProbe, TOOLS_UPDATE_JOB, UpdateTools};
use tapearr_core::system_checks;
use tapearr_core::trailers::jobs::{
    self as trailer_jobs, DOWNLOAD_JOB, DownloadHandler, RUN_JOB, RunHandler, SCAN_JOB, SYNC_JOB,
    ScanHandler, SyncHandler,
};
use tapearr_core::trailers::{Trailers, TrailersDeps};
use tokio_util::sync::CancellationToken;

pub async fn run(config: Config, logs: Arc<LogBuffer>) -> Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
    let _lock = instance::lock_data_dir(&config.data_dir)?;
    let instance = instance::instance_id(&config.data_dir)?;
    // With the data dir's lock held, a tool marked with this instance belongs to a server that
    // died: it must not write beside the work this start resumes.
    tapearr_core::tools::kill_orphaned_tools(&instance);
    tapearr_core::tools::mark_tools_with(&instance);
    let app = App::open(config).await?;
    let shutdown = CancellationToken::new();

    // One client for every outside service: Twitch, notifications, media servers.
    let http = reqwest::Client::builder()
        .user_agent(concat!("tapearr/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;
    let mut registry = JobRegistry::default();
    builtin::register(
        &mut registry,
        app.store.clone(),
        app.config.events.retention_days,
        Duration::from_secs(u64::from(app.config.auth.lockout_minutes) * 60),
    );
    registry.register(
        TOOLS_UPDATE_JOB,
        Arc::new(UpdateTools {
            tools: app.tools.clone(),
            events: app.events.clone(),
        }),
    );
    let mut watched = vec![app.config.data_dir.clone()];
    watched.extend(app.config.library_roots.iter().cloned());
    let disk = Arc::new(system_checks::DiskWatch::new(
        watched,
        app.config.disk.low_free_gb,
        app.events.clone(),
    ));
    registry.register(
        system_checks::CHECK_DISK_JOB,
        Arc::new(system_checks::CheckDisk(disk.clone())),
    );
    registry.register(
        system_checks::CHECK_TOOLS_JOB,
        Arc::new(system_checks::CheckToolUpdates::new(
            app.tools.clone(),
            app.events.clone(),
        )),
    );
    // The refresh handler needs the queue, and the queue needs to know every kind: the kind is
    // registered now and its handler bound once the queue exists.
    let mut kinds = registry.kinds();
    kinds.push(REFRESH_JOB.to_string());
    kinds.push(FINALIZE_JOB.to_string());
    kinds.push(RETENTION_JOB.to_string());
    kinds.extend([RUN_JOB, SYNC_JOB, DOWNLOAD_JOB, SCAN_JOB].map(String::from));
    let queue = JobQueue::new(app.store.clone(), app.events.clone(), kinds);
    // A lost or replaced key is refused with what to do, before anything it sealed is read.
    let secrets = crate::secret_key::open(&app.config.data_dir, app.store.as_ref()).await?;
    // Secrets written in plaintext by an older version are sealed before anything reads them.
    tapearr_core::secrets_at_rest::seal_plaintext_secrets(app.store.as_ref(), &secrets).await?;
    let media_servers = MediaServers::new(app.store.clone(), queue.clone(), secrets.clone())
        .map_err(anyhow::Error::msg)?;
    registry.register(REFRESH_JOB, Arc::new(RefreshHandler(media_servers.clone())));
    let library = Library::new(LibraryDeps {
        config: app.config.clone(),
        store: app.store.clone(),
        events: app.events.clone(),
        queue: queue.clone(),
        media_servers: media_servers.clone(),
        http: http.clone(),
        disk: disk.clone(),
    })
    .map_err(anyhow::Error::msg)?;
    registry.register(FINALIZE_JOB, Arc::new(FinalizeHandler(library.clone())));
    registry.register(RETENTION_JOB, Arc::new(RetentionHandler(library.clone())));
    let trailers = Trailers::new(TrailersDeps {
        config: app.config.clone(),
        store: app.store.clone(),
        events: app.events.clone(),
        queue: queue.clone(),
        media_servers: media_servers.clone(),
        http: http.clone(),
        secrets: secrets.clone(),
        tools: app.tools.clone(),
    })
    .map_err(anyhow::Error::msg)?;
    trailers.purge_work_dir().await;
    trailers.ensure_default_profiles().await?;
    registry.register(RUN_JOB, Arc::new(RunHandler(trailers.clone())));
    registry.register(SYNC_JOB, Arc::new(SyncHandler(trailers.clone())));
    registry.register(DOWNLOAD_JOB, Arc::new(DownloadHandler(trailers.clone())));
    registry.register(SCAN_JOB, Arc::new(ScanHandler(trailers.clone())));
    let runner = JobRunner::new(
        app.store.clone(),
        app.events.clone(),
        &queue,
        registry,
        app.config.jobs.clone(),
        instance.clone(),
    );
    runner.recover().await?;
    let mut tasks = builtin::task_defs();
    tasks.extend(system_checks::task_defs());
    tasks.extend(retention::task_defs());
    tasks.extend(trailer_jobs::task_defs());
    let scheduler = Scheduler::new(app.store.clone(), queue.clone(), app.events.clone(), tasks);
    scheduler.register().await?;

    let system = Arc::new(SystemProbe::new(
        app.config.clone(),
        app.store.clone(),
        app.tools.clone(),
        instance.clone(),
    ));
    let notifier = Notifier::new(
        app.store.clone(),
        app.events.clone(),
        app.tools.clone(),
        secrets.clone(),
    )
    .map_err(anyhow::Error::msg)?;
    let streams = Streams::new(StreamsDeps {
        config: app.config.clone(),
        store: app.store.clone(),
        events: app.events.clone(),
        instance: instance.clone(),
        secrets,
        http,
        shutdown: shutdown.clone(),
        disk,
    })
    .map_err(anyhow::Error::msg)?;
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
        shutdown.clone(),
    );

    // Beyond loopback, anyone who reaches the port first could create the admin: require the
    // token only the person reading the log has.
    let state = if !app.config.listen.ip().is_loopback() && app.auth.setup_required().await? {
        let token = tapearr_core::auth::tokens::random_token("");
        tracing::warn!(
            "no admin account yet and listening on {} (beyond loopback): create it with the setup token {token}",
            app.config.listen
        );
        state.with_setup_token(token)
    } else {
        state
    };

    let listener = tokio::net::TcpListener::bind(app.config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", app.config.listen))?;
    let local = listener.local_addr()?;
    let runner_task = tokio::spawn(runner.run(shutdown.clone()));
    let scheduler_task = tokio::spawn(scheduler.run(shutdown.clone()));
    let notifier_task = tokio::spawn(notifier.run(shutdown.clone()));
    let streams_task = tokio::spawn(streams.run());
    let library_task = tokio::spawn(library.run(shutdown.clone()));
    app.events
        .emit(DomainEvent::SystemStarted {
            version: env!("CARGO_PKG_VERSION").to_string(),
            instance: instance.clone(),
        })
        .await;
    // Tests and scripts wait for this exact line.
    tracing::info!(address = %local, instance = %instance, "tapearr listening on http://{local}");

    let signal_token = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: no new requests or jobs; waiting for running jobs");
        signal_token.cancel();
    });
    let limits = listener::Limits {
        header_timeout: Duration::from_secs(app.config.http.header_timeout_secs),
        max_connections: app.config.http.max_connections,
    };
    listener::serve(
        listener,
        tapearr_api::router(state),
        limits,
        shutdown.clone(),
    )
    .await;

    let grace = Duration::from_secs(app.config.jobs.shutdown_grace_secs + 10);
    if tokio::time::timeout(grace, async {
        let _ = runner_task.await;
        let _ = scheduler_task.await;
        let _ = notifier_task.await;
        let _ = streams_task.await;
        let _ = library_task.await;
    })
    .await
    .is_err()
    {
        tracing::warn!("background work did not stop in time");
    }
    app.db.close().await;
    tracing::info!("stopped");
    Ok(())
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
