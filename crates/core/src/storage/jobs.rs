//! The job queue: claims with leases, heartbeats, retries, cancellation.

use super::{Paged, StorageResult};
use crate::jobs::model::{JobQuery, JobRecord, JobStatus, NewJob};
use crate::time::Timestamp;
use async_trait::async_trait;

#[async_trait]
pub trait JobStore: Send + Sync {
    async fn insert_job(&self, job: &NewJob) -> StorageResult<JobRecord>;
    /// Atomically claims the oldest due queued job of one of `kinds` for `owner`.
    /// Two processes never claim the same job.
    async fn claim_job(
        &self,
        kinds: &[String],
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StorageResult<Option<JobRecord>>;
    /// Extends the lease of a job `owner` still holds; returns the job (with `cancel_requested`)
    /// or `None` when the lease was lost.
    async fn heartbeat_job(
        &self,
        id: &str,
        owner: &str,
        lease_until: Timestamp,
        progress: Option<(f64, Option<String>)>,
    ) -> StorageResult<Option<JobRecord>>;
    /// Records the end of a run by `owner`: `status` is succeeded, failed or cancelled, or
    /// queued again (with `run_after`) for a retry or a release at shutdown.
    async fn finish_job(
        &self,
        id: &str,
        owner: &str,
        end: &JobEnd,
    ) -> StorageResult<Option<JobRecord>>;
    /// Puts back jobs whose lease expired (or, with `owner`, every job that owner held).
    async fn requeue_stale_jobs(&self, now: Timestamp, owner: Option<&str>) -> StorageResult<u64>;
    /// `NotFound` when there is no such job, `Conflict` when it is not queued or running.
    async fn request_job_cancel(&self, id: &str, now: Timestamp) -> StorageResult<JobRecord>;
    /// `NotFound` when there is no such job, `Conflict` when it is not failed or cancelled.
    async fn retry_job(&self, id: &str, now: Timestamp) -> StorageResult<JobRecord>;
    async fn job(&self, id: &str) -> StorageResult<Option<JobRecord>>;
    async fn list_jobs(&self, query: &JobQuery) -> StorageResult<Paged<JobRecord>>;
    /// How many jobs there are in each status (one query, for `/metrics`).
    async fn count_jobs_by_status(&self) -> StorageResult<Vec<(String, u64)>>;
    async fn has_active_job_for_task(&self, task: &str) -> StorageResult<bool>;
    async fn delete_finished_jobs(&self, before: Timestamp) -> StorageResult<u64>;
}

/// How a run ended, as written by [`JobStore::finish_job`].
#[derive(Debug, Clone)]
pub struct JobEnd {
    pub status: JobStatus,
    pub error: Option<String>,
    pub run_after: Option<Timestamp>,
    pub at: Timestamp,
    /// A released job (shutdown) does not count the attempt.
    pub refund_attempt: bool,
}
