//! Named periodic tasks: each due tick enqueues one job. Missed ticks are delayed, not bunched:
//! the next run is always "now + interval", and a task whose previous job is still queued or
//! running is skipped. Several processes may run the scheduler; a compare-and-set on
//! `next_run_at` lets exactly one of them enqueue each tick.

use super::model::{JobRecord, TaskRecord, TaskUpdate};
use super::queue::{EnqueueOptions, JobQueue, QueueError};
use crate::events::{DomainEvent, EventBus};
use crate::storage::{Storage, StorageError};
use crate::time::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// A task as the code defines it; the interval and pause state are the user's once stored.
#[derive(Debug, Clone)]
pub struct TaskDef {
    pub name: &'static str,
    pub kind: &'static str,
    pub description: &'static str,
    pub interval: Duration,
    pub initial_delay: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("task not found")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("this task already has a job queued or running")]
    AlreadyRunning,
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Longest sleep between looks at the table, so edits made by another process are seen.
const MAX_IDLE: Duration = Duration::from_secs(30);
pub const MIN_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Scheduler {
    store: Arc<dyn Storage>,
    queue: JobQueue,
    events: EventBus,
    defs: Arc<Vec<TaskDef>>,
    wake: Arc<Notify>,
}

impl Scheduler {
    pub fn new(
        store: Arc<dyn Storage>,
        queue: JobQueue,
        events: EventBus,
        defs: Vec<TaskDef>,
    ) -> Self {
        Self {
            store,
            queue,
            events,
            defs: Arc::new(defs),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Stores each defined task that is not stored yet.
    pub async fn register(&self) -> Result<(), TaskError> {
        let now = Timestamp::now();
        for def in self.defs.iter() {
            self.store
                .ensure_task(&TaskRecord {
                    name: def.name.to_string(),
                    kind: def.kind.to_string(),
                    description: def.description.to_string(),
                    interval_secs: def.interval.as_secs(),
                    paused: false,
                    next_run_at: now.plus(def.initial_delay),
                    last_run_at: None,
                    last_duration_ms: None,
                    last_status: None,
                    last_error: None,
                })
                .await?;
        }
        Ok(())
    }

    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let sleep = match self.tick().await {
                Ok(sleep) => sleep,
                Err(e) => {
                    tracing::warn!(error = %e, "scheduler tick failed");
                    MAX_IDLE
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// Enqueues what is due and returns how long to sleep until the next due task.
    async fn tick(&self) -> Result<Duration, TaskError> {
        let now = Timestamp::now();
        let mut next_due: Option<Timestamp> = None;
        for task in self.store.list_tasks().await? {
            if task.paused || !self.queue.knows(&task.kind) {
                continue;
            }
            if task.next_run_at > now {
                next_due = Some(next_due.map_or(task.next_run_at, |n| n.min(task.next_run_at)));
                continue;
            }
            let next = now.plus(Duration::from_secs(task.interval_secs));
            if !self
                .store
                .advance_task(&task.name, task.next_run_at, next)
                .await?
            {
                continue; // another process took this tick
            }
            next_due = Some(next_due.map_or(next, |n| n.min(next)));
            if self.store.has_active_job_for_task(&task.name).await? {
                tracing::info!(task = %task.name, "previous run still active; tick skipped");
                continue;
            }
            self.enqueue_for(&task).await?;
        }
        Ok(next_due.map_or(MAX_IDLE, |due| now.until(due).min(MAX_IDLE)))
    }

    async fn enqueue_for(&self, task: &TaskRecord) -> Result<JobRecord, TaskError> {
        Ok(self
            .queue
            .enqueue(
                &task.kind,
                serde_json::json!({}),
                EnqueueOptions {
                    max_attempts: 1,
                    run_after: None,
                    task: Some(task.name.clone()),
                },
            )
            .await?)
    }

    pub async fn list(&self) -> Result<Vec<TaskRecord>, TaskError> {
        Ok(self.store.list_tasks().await?)
    }

    async fn get(&self, name: &str) -> Result<TaskRecord, TaskError> {
        self.store.task(name).await?.ok_or(TaskError::NotFound)
    }

    pub async fn run_now(&self, name: &str) -> Result<JobRecord, TaskError> {
        let task = self.get(name).await?;
        if self.store.has_active_job_for_task(name).await? {
            return Err(TaskError::AlreadyRunning);
        }
        self.enqueue_for(&task).await
    }

    pub async fn set_paused(&self, name: &str, paused: bool) -> Result<TaskRecord, TaskError> {
        let task = self.get(name).await?;
        let mut update = TaskUpdate {
            paused: Some(paused),
            ..TaskUpdate::default()
        };
        if !paused {
            // A task resumed after a long pause runs once now, not once per missed tick.
            update.next_run_at = Some(task.next_run_at.max(Timestamp::now()));
        }
        self.update(name, update).await
    }

    pub async fn set_interval(
        &self,
        name: &str,
        interval: Duration,
    ) -> Result<TaskRecord, TaskError> {
        if interval < MIN_INTERVAL {
            return Err(TaskError::Invalid(format!(
                "interval must be at least {} seconds",
                MIN_INTERVAL.as_secs()
            )));
        }
        self.get(name).await?;
        self.update(
            name,
            TaskUpdate {
                interval_secs: Some(interval.as_secs()),
                next_run_at: Some(Timestamp::now().plus(interval)),
                ..TaskUpdate::default()
            },
        )
        .await
    }

    async fn update(&self, name: &str, update: TaskUpdate) -> Result<TaskRecord, TaskError> {
        let task = self
            .store
            .update_task(name, &update)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => TaskError::NotFound,
                other => other.into(),
            })?;
        self.events
            .emit(DomainEvent::TaskUpdated {
                name: task.name.clone(),
                paused: task.paused,
                next_run_at: task.next_run_at,
            })
            .await;
        self.wake.notify_one();
        Ok(task)
    }
}
