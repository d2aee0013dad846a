//! Enqueue, cancel and retry: what the API and other services call.

use super::model::{JobQuery, JobRecord, JobStatus, NewJob};
use crate::events::{DomainEvent, EventBus};
use crate::ids::new_id;
use crate::storage::{Paged, Storage, StorageError};
use crate::time::Timestamp;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("job not found")]
    NotFound,
    #[error("{0}")]
    InvalidState(String),
    #[error("unknown job kind `{0}`")]
    UnknownKind(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[derive(Debug, Clone)]
pub struct EnqueueOptions {
    pub max_attempts: u32,
    pub run_after: Option<Timestamp>,
    pub task: Option<String>,
}

impl Default for EnqueueOptions {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            run_after: None,
            task: None,
        }
    }
}

#[derive(Clone)]
pub struct JobQueue {
    store: Arc<dyn Storage>,
    events: EventBus,
    /// Wakes this process's runner right away instead of at its next poll.
    wake: Arc<Notify>,
    known_kinds: Arc<Vec<String>>,
    running: RunningTokens,
}

/// Cancellation tokens of the jobs running in this process, by job id.
pub type RunningTokens =
    Arc<std::sync::Mutex<std::collections::HashMap<String, CancellationToken>>>;

impl JobQueue {
    pub fn new(store: Arc<dyn Storage>, events: EventBus, known_kinds: Vec<String>) -> Self {
        Self {
            store,
            events,
            wake: Arc::new(Notify::new()),
            known_kinds: Arc::new(known_kinds),
            running: RunningTokens::default(),
        }
    }

    pub(crate) fn wake_handle(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub(crate) fn running_tokens(&self) -> RunningTokens {
        self.running.clone()
    }

    pub fn knows(&self, kind: &str) -> bool {
        self.known_kinds.iter().any(|k| k == kind)
    }

    pub async fn enqueue(
        &self,
        kind: &str,
        payload: serde_json::Value,
        opts: EnqueueOptions,
    ) -> Result<JobRecord, QueueError> {
        if !self.knows(kind) {
            return Err(QueueError::UnknownKind(kind.to_string()));
        }
        let now = Timestamp::now();
        let job = self
            .store
            .insert_job(&NewJob {
                id: new_id(),
                kind: kind.to_string(),
                payload,
                max_attempts: opts.max_attempts.max(1),
                run_after: opts.run_after.unwrap_or(now),
                task: opts.task,
                created_at: now,
            })
            .await?;
        self.events
            .emit(DomainEvent::JobQueued {
                job_id: job.id.clone(),
                kind: job.kind.clone(),
            })
            .await;
        self.wake.notify_one();
        Ok(job)
    }

    /// A queued job is cancelled at once; a running one is asked to stop at its next heartbeat.
    pub async fn cancel(&self, id: &str) -> Result<JobRecord, QueueError> {
        let job = self
            .store
            .request_job_cancel(id, Timestamp::now())
            .await
            .map_err(not_found_or_state)?;
        // Running here: stop it now; running elsewhere: its heartbeat sees the request.
        if let Ok(running) = self.running.lock()
            && let Some(token) = running.get(id)
        {
            token.cancel();
        }
        if job.status == JobStatus::Cancelled {
            self.events
                .emit(DomainEvent::JobCancelled {
                    job_id: job.id.clone(),
                    kind: job.kind.clone(),
                })
                .await;
        }
        Ok(job)
    }

    /// Queues a failed or cancelled job again, with a fresh attempt budget.
    pub async fn retry(&self, id: &str) -> Result<JobRecord, QueueError> {
        let job = self
            .store
            .retry_job(id, Timestamp::now())
            .await
            .map_err(not_found_or_state)?;
        self.events
            .emit(DomainEvent::JobQueued {
                job_id: job.id.clone(),
                kind: job.kind.clone(),
            })
            .await;
        self.wake.notify_one();
        Ok(job)
    }

    pub async fn get(&self, id: &str) -> Result<JobRecord, QueueError> {
        self.store.job(id).await?.ok_or(QueueError::NotFound)
    }

    pub async fn list(&self, query: &JobQuery) -> Result<Paged<JobRecord>, QueueError> {
        Ok(self.store.list_jobs(query).await?)
    }

    /// How many jobs there are in each status (for `/metrics`).
    pub async fn counts_by_status(&self) -> Result<Vec<(String, u64)>, QueueError> {
        Ok(self.store.count_jobs_by_status().await?)
    }
}

fn not_found_or_state(e: StorageError) -> QueueError {
    match e {
        StorageError::NotFound => QueueError::NotFound,
        StorageError::Conflict(msg) => QueueError::InvalidState(msg),
        other => other.into(),
    }
}
