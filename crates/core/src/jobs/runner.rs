//! Claims jobs for this process and runs them: per-kind concurrency, lease heartbeat,
//! retries with backoff, cancel, and a bounded graceful shutdown.

use super::model::{JobRecord, JobStatus};
use super::queue::JobQueue;
use crate::config::JobsConfig;
use crate::events::{DomainEvent, EventBus};
use crate::storage::{JobEnd, Storage};
use crate::time::Timestamp;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How a job run failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt (network, a busy tool …).
    #[error("{0}")]
    Retryable(String),
    /// Another attempt would fail the same way (bad payload, missing file …).
    #[error("{0}")]
    Permanent(String),
    #[error("cancelled")]
    Cancelled,
}

#[async_trait]
pub trait JobHandler: Send + Sync {
    /// Runs one job. Long work must watch `ctx.cancel` and report progress.
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError>;
}

/// What a handler gets: its job, a cancellation token and a progress reporter.
pub struct JobContext {
    pub job: JobRecord,
    pub cancel: CancellationToken,
    progress: watch::Sender<Option<(f64, Option<String>)>>,
    events: EventBus,
}

impl JobContext {
    /// Reports progress (0.0–1.0): broadcast now, persisted with the next heartbeat.
    pub async fn set_progress(&self, progress: f64, message: Option<String>) {
        let progress = progress.clamp(0.0, 1.0);
        self.progress
            .send_replace(Some((progress, message.clone())));
        self.events
            .emit(DomainEvent::JobProgress {
                job_id: self.job.id.clone(),
                kind: self.job.kind.clone(),
                progress,
                message,
            })
            .await;
    }

    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, JobError> {
        serde_json::from_value(self.job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("invalid payload: {e}")))
    }
}

/// Handlers by job kind.
#[derive(Default, Clone)]
pub struct JobRegistry {
    handlers: HashMap<String, Arc<dyn JobHandler>>,
}

impl JobRegistry {
    pub fn register(&mut self, kind: &str, handler: Arc<dyn JobHandler>) {
        self.handlers.insert(kind.to_string(), handler);
    }

    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.handlers.keys().cloned().collect();
        kinds.sort();
        kinds
    }
}

pub struct JobRunner {
    store: Arc<dyn Storage>,
    events: EventBus,
    registry: JobRegistry,
    config: JobsConfig,
    instance: String,
    wake: Arc<Notify>,
    limits: HashMap<String, Arc<Semaphore>>,
    running: TaskTracker,
    /// Cancelled when the shutdown grace is over: running jobs are asked to stop and released.
    stop_running: CancellationToken,
    /// Tokens of this process's running jobs, shared with the queue so a cancel is immediate.
    tokens: super::queue::RunningTokens,
}

impl JobRunner {
    pub fn new(
        store: Arc<dyn Storage>,
        events: EventBus,
        queue: &JobQueue,
        registry: JobRegistry,
        config: JobsConfig,
        instance: String,
    ) -> Self {
        let limits = registry
            .handlers
            .keys()
            .map(|kind| {
                let n = config
                    .concurrency
                    .get(kind)
                    .copied()
                    .unwrap_or(config.default_concurrency)
                    .max(1);
                (kind.clone(), Arc::new(Semaphore::new(n)))
            })
            .collect();
        Self {
            store,
            events,
            registry,
            config,
            instance,
            wake: queue.wake_handle(),
            limits,
            running: TaskTracker::new(),
            stop_running: CancellationToken::new(),
            tokens: queue.running_tokens(),
        }
    }

    /// Puts back jobs left running by a previous run of this same instance, and jobs of any
    /// instance whose lease expired. Call once before `run`.
    pub async fn recover(&self) -> Result<u64, crate::storage::StorageError> {
        let now = Timestamp::now();
        let own = self
            .store
            .requeue_stale_jobs(now, Some(&self.instance))
            .await?;
        let expired = self.store.requeue_stale_jobs(now, None).await?;
        if own + expired > 0 {
            tracing::info!(own, expired, "requeued jobs left by a stopped process");
        }
        Ok(own + expired)
    }

    /// Claims and runs jobs until `shutdown`; then waits up to the grace period for running
    /// jobs, asks the rest to stop and puts them back in the queue.
    pub async fn run(self, shutdown: CancellationToken) {
        let poll = Duration::from_millis(self.config.poll_ms.max(50));
        let mut sweep = tokio::time::interval(Duration::from_secs(self.config.lease_secs));
        let this = Arc::new(self);
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            match this.claim_next().await {
                Ok(Some((job, permit))) => {
                    let runner = this.clone();
                    this.running
                        .spawn(async move { runner.execute(job, permit).await });
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not claim a job"),
            }
            tokio::select! {
                _ = this.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
                _ = sweep.tick() => {
                    if let Err(e) = this.store.requeue_stale_jobs(Timestamp::now(), None).await {
                        tracing::warn!(error = %e, "could not requeue expired jobs");
                    }
                }
                _ = shutdown.cancelled() => break,
            }
        }
        this.running.close();
        let grace = Duration::from_secs(this.config.shutdown_grace_secs);
        if tokio::time::timeout(grace, this.running.wait())
            .await
            .is_err()
        {
            tracing::warn!("jobs still running after the shutdown grace; asking them to stop");
            this.stop_running.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(5), this.running.wait()).await;
        }
    }

    async fn claim_next(
        &self,
    ) -> Result<Option<(JobRecord, OwnedSemaphorePermit)>, crate::storage::StorageError> {
        let free: Vec<String> = self
            .limits
            .iter()
            .filter(|(_, s)| s.available_permits() > 0)
            .map(|(k, _)| k.clone())
            .collect();
        if free.is_empty() {
            return Ok(None);
        }
        let now = Timestamp::now();
        let lease_until = now.plus(Duration::from_secs(self.config.lease_secs));
        let Some(job) = self
            .store
            .claim_job(&free, &self.instance, now, lease_until)
            .await?
        else {
            return Ok(None);
        };
        // Permits are only released by this process's own jobs, so one is still free.
        let permit = self
            .limits
            .get(&job.kind)
            .and_then(|s| s.clone().try_acquire_owned().ok());
        match permit {
            Some(p) => Ok(Some((job, p))),
            None => {
                // Should not happen; give the job back rather than exceed the limit.
                let end = JobEnd {
                    status: JobStatus::Queued,
                    error: None,
                    run_after: Some(now),
                    at: now,
                    refund_attempt: true,
                };
                self.store.finish_job(&job.id, &self.instance, &end).await?;
                Ok(None)
            }
        }
    }

    async fn execute(self: Arc<Self>, job: JobRecord, _permit: OwnedSemaphorePermit) {
        let Some(handler) = self.registry.handlers.get(&job.kind).cloned() else {
            return;
        };
        let cancel = self.stop_running.child_token();
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(job.id.clone(), cancel.clone());
        }
        let (progress_tx, progress_rx) = watch::channel(None);
        let started = Timestamp::now();
        tracing::info!(job_id = %job.id, kind = %job.kind, attempt = job.attempts, "job started");
        self.events
            .emit(DomainEvent::JobStarted {
                job_id: job.id.clone(),
                kind: job.kind.clone(),
                attempt: job.attempts,
                instance: self.instance.clone(),
            })
            .await;

        let heartbeat = tokio::spawn(self.clone().heartbeat(
            job.id.clone(),
            cancel.clone(),
            progress_rx,
        ));
        let ctx = Arc::new(JobContext {
            job: job.clone(),
            cancel: cancel.clone(),
            progress: progress_tx,
            events: self.events.clone(),
        });
        // A separate task, so a panicking handler is a failed job, not a dead runner.
        let run_ctx = ctx.clone();
        let outcome = tokio::spawn(async move { handler.run(&run_ctx).await })
            .await
            .unwrap_or_else(|e| Err(JobError::Permanent(format!("job panicked: {e}"))));
        heartbeat.abort();
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.remove(&job.id);
        }
        self.finish(&job, started, outcome, cancel.is_cancelled())
            .await;
    }

    async fn heartbeat(
        self: Arc<Self>,
        job_id: String,
        cancel: CancellationToken,
        mut progress: watch::Receiver<Option<(f64, Option<String>)>>,
    ) {
        let mut tick =
            tokio::time::interval(Duration::from_secs(self.config.heartbeat_secs.max(1)));
        tick.tick().await;
        loop {
            tick.tick().await;
            let latest = if progress.has_changed().unwrap_or(false) {
                progress.borrow_and_update().clone()
            } else {
                None
            };
            let lease_until = Timestamp::now().plus(Duration::from_secs(self.config.lease_secs));
            match self
                .store
                .heartbeat_job(&job_id, &self.instance, lease_until, latest)
                .await
            {
                Ok(Some(job)) if job.cancel_requested => cancel.cancel(),
                Ok(Some(_)) => {}
                Ok(None) => {
                    tracing::warn!(job_id, "lease lost; stopping the job");
                    cancel.cancel();
                    return;
                }
                Err(e) => tracing::warn!(job_id, error = %e, "heartbeat failed"),
            }
        }
    }

    async fn finish(
        &self,
        job: &JobRecord,
        started: Timestamp,
        outcome: Result<(), JobError>,
        was_cancelled: bool,
    ) {
        let now = Timestamp::now();
        let shutting_down = self.stop_running.is_cancelled();
        let (end, event) = match outcome {
            Ok(()) => (
                end(JobStatus::Succeeded, None, None, now),
                DomainEvent::JobSucceeded {
                    job_id: job.id.clone(),
                    kind: job.kind.clone(),
                },
            ),
            Err(_) if shutting_down => {
                // Released, not failed: the next start picks it up again.
                let mut e = end(JobStatus::Queued, None, Some(now), now);
                e.refund_attempt = true;
                tracing::info!(job_id = %job.id, "job released at shutdown");
                let _ = self.store.finish_job(&job.id, &self.instance, &e).await;
                return;
            }
            Err(e) if was_cancelled || matches!(e, JobError::Cancelled) => (
                end(JobStatus::Cancelled, Some("cancelled".into()), None, now),
                DomainEvent::JobCancelled {
                    job_id: job.id.clone(),
                    kind: job.kind.clone(),
                },
            ),
            Err(err) => {
                let message = err.to_string();
                let retry =
                    matches!(err, JobError::Retryable(_)) && job.attempts < job.max_attempts;
                let e = if retry {
                    end(
                        JobStatus::Queued,
                        Some(message.clone()),
                        Some(now.plus(retry_delay(job.attempts))),
                        now,
                    )
                } else {
                    end(JobStatus::Failed, Some(message.clone()), None, now)
                };
                tracing::warn!(job_id = %job.id, kind = %job.kind, error = %message, retry, "job failed");
                (
                    e,
                    DomainEvent::JobFailed {
                        job_id: job.id.clone(),
                        kind: job.kind.clone(),
                        error: message,
                        will_retry: retry,
                    },
                )
            }
        };
        match self.store.finish_job(&job.id, &self.instance, &end).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                tracing::warn!(job_id = %job.id, "job finished after its lease was lost");
                return;
            }
            Err(e) => {
                tracing::error!(job_id = %job.id, error = %e, "could not record the end of a job");
                return;
            }
        }
        if let Some(task) = &job.task {
            let status = end_status_name(&end);
            let duration = now.millis() - started.millis();
            if let Err(e) = self
                .store
                .record_task_run(task, started, duration, status, end.error.as_deref())
                .await
            {
                tracing::warn!(task, error = %e, "could not record the task run");
            }
        }
        tracing::info!(job_id = %job.id, kind = %job.kind, status = end.status.as_str(), "job ended");
        self.events.emit(event).await;
        // A slot is free: look for more work right away.
        self.wake.notify_one();
    }
}

fn end(
    status: JobStatus,
    error: Option<String>,
    run_after: Option<Timestamp>,
    at: Timestamp,
) -> JobEnd {
    JobEnd {
        status,
        error,
        run_after,
        at,
        refund_attempt: false,
    }
}

fn end_status_name(end: &JobEnd) -> &'static str {
    match (end.status, end.error.is_some()) {
        (JobStatus::Queued, true) => "retrying",
        (status, _) => status.as_str(),
    }
}

/// 10 s, 20 s, 40 s … capped at one hour.
pub fn retry_delay(attempts: u32) -> Duration {
    let secs = 10u64.saturating_mul(1u64 << attempts.saturating_sub(1).min(16));
    Duration::from_secs(secs.min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_and_caps() {
        assert_eq!(retry_delay(1), Duration::from_secs(10));
        assert_eq!(retry_delay(2), Duration::from_secs(20));
        assert_eq!(retry_delay(3), Duration::from_secs(40));
        assert_eq!(retry_delay(30), Duration::from_secs(3600));
    }
}
