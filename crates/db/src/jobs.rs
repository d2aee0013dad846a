//! The job queue. The claim is the one statement that differs per backend.

use crate::RowsExt;
use crate::rows::{self, JOB_COLUMNS};
use crate::{Backend, Db, backend_err};
use async_trait::async_trait;
use tapearr_core::jobs::model::{JobQuery, JobRecord, JobStatus, NewJob};
use tapearr_core::storage::{JobEnd, JobStore, Paged, SortOrder, StorageError, StorageResult};
use tapearr_core::time::Timestamp;

impl Db {
    /// Explains why a cancel or retry did not apply: the job is missing or in another state.
    async fn state_conflict(&self, id: &str, wanted: &str) -> StorageError {
        match self.job(id).await {
            Ok(Some(job)) => {
                StorageError::Conflict(format!("job is {}; {wanted}", job.status.as_str()))
            }
            Ok(None) => StorageError::NotFound,
            Err(e) => e,
        }
    }
}

#[async_trait]
impl JobStore for Db {
    async fn insert_job(&self, j: &NewJob) -> StorageResult<JobRecord> {
        let sql = format!(
            "INSERT INTO jobs (id, kind, payload, status, attempts, max_attempts, run_after, progress, cancel_requested, task, created_at) \
             VALUES ($1, $2, $3, 'queued', 0, $4, $5, 0, 0, $6, $7) RETURNING {JOB_COLUMNS}"
        );
        sqlx::query(&sql)
            .bind(&j.id)
            .bind(&j.kind)
            .bind(j.payload.to_string())
            .bind(i64::from(j.max_attempts))
            .bind(j.run_after.millis())
            .bind(&j.task)
            .bind(j.created_at.millis())
            .optional(self.pool(), rows::job)
            .await?
            .ok_or_else(|| StorageError::Backend("insert returned no row".into()))
    }

    async fn claim_job(
        &self,
        kinds: &[String],
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> StorageResult<Option<JobRecord>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let kind_params: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 4)).collect();
        // PostgreSQL: SKIP LOCKED lets concurrent claimers pass over a row another is taking.
        // SQLite: the single UPDATE runs under the database write lock, which is enough.
        let lock = match self.backend_kind() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = $1, \
             lease_expires_at = $2, started_at = $3, finished_at = NULL, progress = 0, progress_message = NULL \
             WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_after <= $3 AND kind IN ({}) \
             ORDER BY run_after, id LIMIT 1{lock}) AND status = 'queued' RETURNING {JOB_COLUMNS}",
            kind_params.join(", ")
        );
        let mut query = sqlx::query(&sql)
            .bind(owner)
            .bind(lease_until.millis())
            .bind(now.millis());
        for kind in kinds {
            query = query.bind(kind);
        }
        query.optional(self.pool(), rows::job).await
    }

    async fn heartbeat_job(
        &self,
        id: &str,
        owner: &str,
        lease_until: Timestamp,
        progress: Option<(f64, Option<String>)>,
    ) -> StorageResult<Option<JobRecord>> {
        let where_ours = "WHERE id = $1 AND lease_owner = $2 AND status = 'running'";
        match progress {
            Some((value, message)) => {
                let sql = format!(
                    "UPDATE jobs SET lease_expires_at = $3, progress = $4, progress_message = $5 {where_ours} RETURNING {JOB_COLUMNS}"
                );
                sqlx::query(&sql)
                    .bind(id)
                    .bind(owner)
                    .bind(lease_until.millis())
                    .bind(value)
                    .bind(message)
                    .optional(self.pool(), rows::job)
                    .await
            }
            None => {
                let sql = format!(
                    "UPDATE jobs SET lease_expires_at = $3 {where_ours} RETURNING {JOB_COLUMNS}"
                );
                sqlx::query(&sql)
                    .bind(id)
                    .bind(owner)
                    .bind(lease_until.millis())
                    .optional(self.pool(), rows::job)
                    .await
            }
        }
    }

    async fn finish_job(
        &self,
        id: &str,
        owner: &str,
        end: &JobEnd,
    ) -> StorageResult<Option<JobRecord>> {
        let finished_at = end.status.is_finished().then_some(end.at.millis());
        let progress = if end.status == JobStatus::Succeeded {
            "1"
        } else {
            "progress"
        };
        let sql = format!(
            "UPDATE jobs SET status = $1, last_error = $2, run_after = COALESCE($3, run_after), \
             finished_at = $4, attempts = attempts - $5, lease_owner = NULL, lease_expires_at = NULL, \
             progress = {progress} WHERE id = $6 AND lease_owner = $7 AND status = 'running' RETURNING {JOB_COLUMNS}"
        );
        sqlx::query(&sql)
            .bind(end.status.as_str())
            .bind(&end.error)
            .bind(end.run_after.map(Timestamp::millis))
            .bind(finished_at)
            .bind(i64::from(end.refund_attempt))
            .bind(id)
            .bind(owner)
            .optional(self.pool(), rows::job)
            .await
    }

    async fn requeue_stale_jobs(&self, now: Timestamp, owner: Option<&str>) -> StorageResult<u64> {
        // `$2` is the owner whose jobs are taken back, or the time leases expired before.
        let filter = match owner {
            Some(_) => "status = 'running' AND lease_owner = $2",
            None => "status = 'running' AND lease_expires_at < $2",
        };
        let mut total = 0;
        // Cancel requested: the user wanted it stopped, and it is. Out of attempts: it may be
        // what kills the process, so it fails instead of looping. The rest go back in the queue.
        let statements = [
            format!(
                "UPDATE jobs SET status = 'cancelled', finished_at = $1, last_error = 'cancelled', \
                 lease_owner = NULL, lease_expires_at = NULL WHERE {filter} AND cancel_requested = 1"
            ),
            format!(
                "UPDATE jobs SET status = 'failed', finished_at = $1, \
                 last_error = 'the process running this job stopped during its last attempt', \
                 lease_owner = NULL, lease_expires_at = NULL WHERE {filter} AND attempts >= max_attempts"
            ),
            format!(
                "UPDATE jobs SET status = 'queued', run_after = $1, lease_owner = NULL, lease_expires_at = NULL \
                 WHERE {filter}"
            ),
        ];
        let mut tx = self.pool().begin().await.map_err(backend_err)?;
        for sql in &statements {
            let q = sqlx::query(sql).bind(now.millis());
            let q = match owner {
                Some(owner) => q.bind(owner),
                None => q.bind(now.millis()),
            };
            total += q
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(total)
    }

    async fn request_job_cancel(&self, id: &str, now: Timestamp) -> StorageResult<JobRecord> {
        let queued = format!(
            "UPDATE jobs SET status = 'cancelled', finished_at = $1, last_error = 'cancelled' \
             WHERE id = $2 AND status = 'queued' RETURNING {JOB_COLUMNS}"
        );
        if let Some(job) = sqlx::query(&queued)
            .bind(now.millis())
            .bind(id)
            .optional(self.pool(), rows::job)
            .await?
        {
            return Ok(job);
        }
        let running = format!(
            "UPDATE jobs SET cancel_requested = 1 WHERE id = $1 AND status = 'running' RETURNING {JOB_COLUMNS}"
        );
        match sqlx::query(&running)
            .bind(id)
            .optional(self.pool(), rows::job)
            .await?
        {
            Some(job) => Ok(job),
            None => Err(self
                .state_conflict(id, "only queued or running jobs can be cancelled")
                .await),
        }
    }

    async fn retry_job(&self, id: &str, now: Timestamp) -> StorageResult<JobRecord> {
        let sql = format!(
            "UPDATE jobs SET status = 'queued', attempts = 0, run_after = $1, finished_at = NULL, \
             cancel_requested = 0, progress = 0, progress_message = NULL \
             WHERE id = $2 AND status IN ('failed', 'cancelled') RETURNING {JOB_COLUMNS}"
        );
        match sqlx::query(&sql)
            .bind(now.millis())
            .bind(id)
            .optional(self.pool(), rows::job)
            .await?
        {
            Some(job) => Ok(job),
            None => Err(self
                .state_conflict(id, "only failed or cancelled jobs can be retried")
                .await),
        }
    }

    async fn job(&self, id: &str) -> StorageResult<Option<JobRecord>> {
        sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .optional(self.pool(), rows::job)
            .await
    }

    async fn list_jobs(&self, query: &JobQuery) -> StorageResult<Paged<JobRecord>> {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        for (column, value) in [
            ("status", query.status.map(|s| s.as_str().to_string())),
            ("kind", query.kind.clone()),
            ("task", query.task.clone()),
        ] {
            if let Some(v) = value {
                binds.push(v);
                conditions.push(format!("{column} = ${}", binds.len()));
            }
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let order = match query.order.unwrap_or(SortOrder::Desc) {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let count_sql = format!("SELECT COUNT(*) AS n FROM jobs {filter}");
        let mut count = sqlx::query(&count_sql);
        for b in &binds {
            count = count.bind(b.clone());
        }
        let total = count.count(self.pool()).await?;
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs {filter} ORDER BY created_at {order}, id {order} LIMIT {} OFFSET {}",
            query.page.limit, query.page.offset
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let items = q.all(self.pool(), rows::job).await?;
        Ok(Paged {
            items,
            total,
            limit: query.page.limit,
            offset: query.page.offset,
        })
    }

    async fn count_jobs_by_status(&self) -> StorageResult<Vec<(String, u64)>> {
        sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status ORDER BY status")
            .all(self.pool(), |row| {
                let n: i64 = rows::get(row, "n")?;
                Ok((rows::get(row, "status")?, u64::try_from(n).unwrap_or(0)))
            })
            .await
    }

    async fn has_active_job_for_task(&self, task: &str) -> StorageResult<bool> {
        let n = sqlx::query(
            "SELECT COUNT(*) AS n FROM jobs WHERE task = $1 AND status IN ('queued', 'running')",
        )
        .bind(task)
        .count(self.pool())
        .await?;
        Ok(n > 0)
    }

    async fn delete_finished_jobs(&self, before: Timestamp) -> StorageResult<u64> {
        Ok(sqlx::query(
            "DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'cancelled') AND finished_at < $1",
        )
        .bind(before.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?
        .rows_affected())
    }
}
