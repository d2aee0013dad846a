//! Scheduled tasks: interval, pause state and last run.

use super::StorageResult;
use crate::jobs::model::{TaskRecord, TaskUpdate};
use crate::time::Timestamp;
use async_trait::async_trait;

#[async_trait]
pub trait TaskStore: Send + Sync {
    /// Inserts the task when missing; keeps the user's interval and pause state when present.
    async fn ensure_task(&self, task: &TaskRecord) -> StorageResult<TaskRecord>;
    async fn list_tasks(&self) -> StorageResult<Vec<TaskRecord>>;
    async fn task(&self, name: &str) -> StorageResult<Option<TaskRecord>>;
    /// `NotFound` when there is no such task.
    async fn update_task(&self, name: &str, update: &TaskUpdate) -> StorageResult<TaskRecord>;
    /// Moves `next_run_at` from `expected` to `next`; false when another process got there first.
    async fn advance_task(
        &self,
        name: &str,
        expected: Timestamp,
        next: Timestamp,
    ) -> StorageResult<bool>;
    /// Bookkeeping: a task gone meanwhile is not an error.
    async fn record_task_run(
        &self,
        name: &str,
        started: Timestamp,
        duration_ms: i64,
        status: &str,
        error: Option<&str>,
    ) -> StorageResult<()>;
}
