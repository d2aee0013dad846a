//! Jobs and periodic tasks, as stored.

use crate::storage::{PageRequest, SortOrder};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobRecord {
    pub id: String,
    #[schema(value_type = super::JobKind)]
    pub kind: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub status: JobStatus,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_after: Timestamp,
    /// The process holding the job while it runs.
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<Timestamp>,
    /// 0.0 to 1.0.
    pub progress: f64,
    pub progress_message: Option<String>,
    pub last_error: Option<String>,
    pub cancel_requested: bool,
    /// The periodic task that enqueued it, if any.
    pub task: Option<String>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub kind: String,
    pub payload: serde_json::Value,
    pub max_attempts: u32,
    pub run_after: Timestamp,
    pub task: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    pub status: Option<JobStatus>,
    pub kind: Option<String>,
    pub task: Option<String>,
    pub order: Option<SortOrder>,
    pub page: PageRequest,
}

/// A named periodic task: every `interval_secs` it enqueues one job of `kind`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskRecord {
    pub name: String,
    #[schema(value_type = super::JobKind)]
    pub kind: String,
    pub description: String,
    pub interval_secs: u64,
    pub paused: bool,
    pub next_run_at: Timestamp,
    pub last_run_at: Option<Timestamp>,
    pub last_duration_ms: Option<i64>,
    pub last_status: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct TaskUpdate {
    pub paused: Option<bool>,
    pub interval_secs: Option<u64>,
    pub next_run_at: Option<Timestamp>,
}
