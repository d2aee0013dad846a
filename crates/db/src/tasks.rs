//! Periodic task rows.

use crate::RowsExt;
use crate::rows::{self, TASK_COLUMNS};
use crate::{Db, backend_err};
use async_trait::async_trait;
use tapearr_core::jobs::model::{TaskRecord, TaskUpdate};
use tapearr_core::storage::{StorageError, StorageResult, TaskStore};
use tapearr_core::time::Timestamp;

#[async_trait]
impl TaskStore for Db {
    async fn ensure_task(&self, t: &TaskRecord) -> StorageResult<TaskRecord> {
        sqlx::query(
            "INSERT INTO tasks (name, kind, description, interval_secs, paused, next_run_at) VALUES ($1, $2, $3, $4, 0, $5) \
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, description = excluded.description",
        )
        .bind(&t.name)
        .bind(&t.kind)
        .bind(&t.description)
        .bind(t.interval_secs as i64)
        .bind(t.next_run_at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        self.task(&t.name).await?.ok_or(StorageError::NotFound)
    }

    async fn list_tasks(&self) -> StorageResult<Vec<TaskRecord>> {
        sqlx::query(&format!("SELECT {TASK_COLUMNS} FROM tasks ORDER BY name"))
            .all(self.pool(), rows::task)
            .await
    }

    async fn task(&self, name: &str) -> StorageResult<Option<TaskRecord>> {
        sqlx::query(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE name = $1"))
            .bind(name)
            .optional(self.pool(), rows::task)
            .await
    }

    async fn update_task(&self, name: &str, u: &TaskUpdate) -> StorageResult<TaskRecord> {
        let mut sets = Vec::new();
        let mut values = Vec::new();
        if let Some(p) = u.paused {
            values.push(i64::from(p));
            sets.push(format!("paused = ${}", values.len()));
        }
        if let Some(i) = u.interval_secs {
            values.push(i as i64);
            sets.push(format!("interval_secs = ${}", values.len()));
        }
        if let Some(n) = u.next_run_at {
            values.push(n.millis());
            sets.push(format!("next_run_at = ${}", values.len()));
        }
        if sets.is_empty() {
            return self.task(name).await?.ok_or(StorageError::NotFound);
        }
        let sql = format!(
            "UPDATE tasks SET {} WHERE name = ${} RETURNING {TASK_COLUMNS}",
            sets.join(", "),
            values.len() + 1
        );
        let mut q = sqlx::query(&sql);
        for v in values {
            q = q.bind(v);
        }
        q.bind(name)
            .optional(self.pool(), rows::task)
            .await?
            .ok_or(StorageError::NotFound)
    }

    async fn advance_task(
        &self,
        name: &str,
        expected: Timestamp,
        next: Timestamp,
    ) -> StorageResult<bool> {
        let done =
            sqlx::query("UPDATE tasks SET next_run_at = $1 WHERE name = $2 AND next_run_at = $3")
                .bind(next.millis())
                .bind(name)
                .bind(expected.millis())
                .execute(self.pool())
                .await
                .map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_task_run(
        &self,
        name: &str,
        started: Timestamp,
        duration_ms: i64,
        status: &str,
        error: Option<&str>,
    ) -> StorageResult<()> {
        sqlx::query(
            "UPDATE tasks SET last_run_at = $1, last_duration_ms = $2, last_status = $3, last_error = $4 WHERE name = $5",
        )
        .bind(started.millis())
        .bind(duration_ms)
        .bind(status)
        .bind(error)
        .bind(name)
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }
}
