//! Housekeeping jobs every Tapearr runs, and their periodic tasks.

use super::runner::{JobContext, JobError, JobHandler, JobRegistry};
use super::scheduler::TaskDef;
use crate::storage::Storage;
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

pub const PRUNE_EVENTS: &str = "events.prune";
pub const PRUNE_SESSIONS: &str = "sessions.prune";
pub const PRUNE_JOBS: &str = "jobs.prune";
pub const PROBE: &str = "system.probe";

/// Finished jobs are kept this long for the Activity page.
const FINISHED_JOBS_KEPT: Duration = Duration::from_secs(7 * 86_400);

pub fn task_defs() -> Vec<TaskDef> {
    vec![
        TaskDef {
            name: "prune-events",
            kind: PRUNE_EVENTS,
            description: "Delete event history older than the retention (events.retention_days)",
            interval: Duration::from_secs(6 * 3600),
            initial_delay: Duration::from_secs(120),
        },
        TaskDef {
            name: "prune-sessions",
            kind: PRUNE_SESSIONS,
            description: "Delete expired login sessions and ended login-failure counts",
            interval: Duration::from_secs(3600),
            initial_delay: Duration::from_secs(60),
        },
        TaskDef {
            name: "prune-jobs",
            kind: PRUNE_JOBS,
            description: "Delete jobs that finished more than 7 days ago",
            interval: Duration::from_secs(24 * 3600),
            initial_delay: Duration::from_secs(300),
        },
    ]
}

/// `lockout_window`: how long a login-failure count lives (`auth.lockout_minutes`).
/// The kinds [`register`] registers.
pub const KINDS: [&str; 4] = [PRUNE_EVENTS, PRUNE_SESSIONS, PRUNE_JOBS, PROBE];

pub fn register(
    registry: &mut JobRegistry,
    store: Arc<dyn Storage>,
    event_retention_days: u32,
    lockout_window: Duration,
) {
    registry.register(
        PRUNE_EVENTS,
        Arc::new(Prune {
            store: store.clone(),
            what: PruneWhat::Events(Duration::from_secs(
                u64::from(event_retention_days) * 86_400,
            )),
        }),
    );
    registry.register(
        PRUNE_SESSIONS,
        Arc::new(Prune {
            store: store.clone(),
            what: PruneWhat::Sessions(lockout_window),
        }),
    );
    registry.register(
        PRUNE_JOBS,
        Arc::new(Prune {
            store,
            what: PruneWhat::Jobs,
        }),
    );
    registry.register(PROBE, Arc::new(Probe));
}

enum PruneWhat {
    Events(Duration),
    /// With the login-failure counts, which live this long (unless a lock runs longer).
    Sessions(Duration),
    Jobs,
}

struct Prune {
    store: Arc<dyn Storage>,
    what: PruneWhat,
}

#[async_trait]
impl JobHandler for Prune {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let now = Timestamp::now();
        let deleted = match self.what {
            PruneWhat::Events(keep) => self.store.delete_events_before(now.minus(keep)).await,
            PruneWhat::Sessions(window) => {
                // Counts for names nobody has (any name can be tried) are bounded by this prune.
                async {
                    let counts = self
                        .store
                        .delete_stale_login_throttles(now.minus(window), now)
                        .await?;
                    Ok(counts + self.store.delete_expired_sessions(now).await?)
                }
                .await
            }
            PruneWhat::Jobs => {
                self.store
                    .delete_finished_jobs(now.minus(FINISHED_JOBS_KEPT))
                    .await
            }
        }
        .map_err(|e| JobError::Retryable(e.to_string()))?;
        ctx.set_progress(1.0, Some(format!("{deleted} deleted")))
            .await;
        Ok(())
    }
}

/// A diagnostic job: waits `millis` in ten steps, reporting progress, and fails when asked.
/// It proves the queue end to end (Activity → run a probe; the multi-process tests).
struct Probe;

#[derive(Deserialize)]
struct ProbePayload {
    #[serde(default)]
    millis: u64,
    #[serde(default)]
    fail: Option<String>,
}

#[async_trait]
impl JobHandler for Probe {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let p: ProbePayload = ctx.payload()?;
        let step = Duration::from_millis(p.millis.min(3_600_000) / 10);
        for i in 1..=10u32 {
            tokio::select! {
                _ = tokio::time::sleep(step) => {}
                _ = ctx.cancel.cancelled() => return Err(JobError::Cancelled),
            }
            ctx.set_progress(f64::from(i) / 10.0, None).await;
        }
        match p.fail {
            Some(reason) => Err(JobError::Retryable(reason)),
            None => Ok(()),
        }
    }
}
