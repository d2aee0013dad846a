//! Row → record mapping, in one place per type.

use crate::backend_err;
use sqlx::Row;
use sqlx::any::AnyRow;
use tapearr_core::auth::model::{ApiKey, LoginThrottle, Session, User};
use tapearr_core::events::model::EventRecord;
use tapearr_core::jobs::model::{JobRecord, JobStatus, TaskRecord};
use tapearr_core::storage::{StorageError, StorageResult};
use tapearr_core::time::Timestamp;

pub(crate) const JOB_COLUMNS: &str = "id, kind, payload, status, attempts, max_attempts, run_after, lease_owner, lease_expires_at, progress, progress_message, last_error, cancel_requested, task, created_at, started_at, finished_at";
pub(crate) const TASK_COLUMNS: &str = "name, kind, description, interval_secs, paused, next_run_at, last_run_at, last_duration_ms, last_status, last_error";
pub(crate) const SESSION_COLUMNS: &str = "id, user_id, token_hash, csrf_token, user_agent, created_at, last_seen_at, expires_at, address";
pub(crate) const API_KEY_COLUMNS: &str =
    "id, name, prefix, key_hash, created_at, last_used_at, revoked_at";
pub(crate) const USER_COLUMNS: &str = "id, username, password_hash, role, created_at";

pub(crate) fn get<'r, T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>>(
    row: &'r AnyRow,
    col: &str,
) -> StorageResult<T> {
    row.try_get(col).map_err(backend_err)
}

pub(crate) fn ts(row: &AnyRow, col: &str) -> StorageResult<Timestamp> {
    get::<i64>(row, col).map(Timestamp)
}

pub(crate) fn opt_ts(row: &AnyRow, col: &str) -> StorageResult<Option<Timestamp>> {
    get::<Option<i64>>(row, col).map(|v| v.map(Timestamp))
}

/// A non-negative counter stored as BIGINT (a negative value reads as 0).
pub(crate) fn unsigned(row: &AnyRow, col: &str) -> StorageResult<u64> {
    get::<i64>(row, col).map(|v| u64::try_from(v).unwrap_or(0))
}

/// A counter for a BIGINT column (saturating: no u64 count reaches `i64::MAX` in practice).
pub(crate) fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Ids per `IN (…)` list: far below either backend's bind-parameter limit.
pub(crate) const IN_CHUNK: usize = 500;

/// `$first, $first+1, …` for an `IN (…)` list of `count` values.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds every id, in order (after whatever the query bound already).
pub(crate) fn bind_ids<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ids: &'q [String],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for id in ids {
        query = query.bind(id);
    }
    query
}

pub(crate) fn flag(row: &AnyRow, col: &str) -> StorageResult<bool> {
    get::<i64>(row, col).map(|v| v != 0)
}

fn count(row: &AnyRow, col: &str) -> StorageResult<u32> {
    get::<i64>(row, col).map(|v| u32::try_from(v.max(0)).unwrap_or(u32::MAX))
}

pub(crate) fn user(row: &AnyRow) -> StorageResult<User> {
    Ok(User {
        id: get(row, "id")?,
        username: get(row, "username")?,
        password_hash: get(row, "password_hash")?,
        role: get(row, "role")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn session(row: &AnyRow) -> StorageResult<Session> {
    Ok(Session {
        id: get(row, "id")?,
        user_id: get(row, "user_id")?,
        token_hash: get(row, "token_hash")?,
        csrf_token: get(row, "csrf_token")?,
        user_agent: get(row, "user_agent")?,
        created_at: ts(row, "created_at")?,
        last_seen_at: ts(row, "last_seen_at")?,
        expires_at: ts(row, "expires_at")?,
        address: get(row, "address")?,
    })
}

pub(crate) fn api_key(row: &AnyRow) -> StorageResult<ApiKey> {
    Ok(ApiKey {
        id: get(row, "id")?,
        name: get(row, "name")?,
        prefix: get(row, "prefix")?,
        key_hash: get(row, "key_hash")?,
        created_at: ts(row, "created_at")?,
        last_used_at: opt_ts(row, "last_used_at")?,
        revoked_at: opt_ts(row, "revoked_at")?,
    })
}

pub(crate) fn throttle(row: &AnyRow) -> StorageResult<LoginThrottle> {
    Ok(LoginThrottle {
        username: get(row, "username")?,
        failures: count(row, "failures")?,
        window_start: ts(row, "window_start")?,
        locked_until: opt_ts(row, "locked_until")?,
    })
}

pub(crate) fn job(row: &AnyRow) -> StorageResult<JobRecord> {
    let status: String = get(row, "status")?;
    let payload: String = get(row, "payload")?;
    Ok(JobRecord {
        id: get(row, "id")?,
        kind: get(row, "kind")?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| StorageError::Corrupt(format!("job payload: {e}")))?,
        status: JobStatus::parse(&status)
            .ok_or_else(|| StorageError::Corrupt(format!("job status {status}")))?,
        attempts: count(row, "attempts")?,
        max_attempts: count(row, "max_attempts")?,
        run_after: ts(row, "run_after")?,
        lease_owner: get(row, "lease_owner")?,
        lease_expires_at: opt_ts(row, "lease_expires_at")?,
        progress: get(row, "progress")?,
        progress_message: get(row, "progress_message")?,
        last_error: get(row, "last_error")?,
        cancel_requested: flag(row, "cancel_requested")?,
        task: get(row, "task")?,
        created_at: ts(row, "created_at")?,
        started_at: opt_ts(row, "started_at")?,
        finished_at: opt_ts(row, "finished_at")?,
    })
}

pub(crate) fn task(row: &AnyRow) -> StorageResult<TaskRecord> {
    Ok(TaskRecord {
        name: get(row, "name")?,
        kind: get(row, "kind")?,
        description: get(row, "description")?,
        interval_secs: u64::try_from(get::<i64>(row, "interval_secs")?.max(0)).unwrap_or(0),
        paused: flag(row, "paused")?,
        next_run_at: ts(row, "next_run_at")?,
        last_run_at: opt_ts(row, "last_run_at")?,
        last_duration_ms: get(row, "last_duration_ms")?,
        last_status: get(row, "last_status")?,
        last_error: get(row, "last_error")?,
    })
}

pub(crate) fn event(row: &AnyRow) -> StorageResult<EventRecord> {
    let data: String = get(row, "data")?;
    Ok(EventRecord {
        id: Some(get(row, "id")?),
        event_type: get(row, "event_type")?,
        subject: get(row, "subject")?,
        data: serde_json::from_str(&data)
            .map_err(|e| StorageError::Corrupt(format!("event data: {e}")))?,
        timestamp: ts(row, "created_at")?,
    })
}

/// A value bound to a statement built from the filters that are set.
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

impl Bind {
    pub(crate) fn all<'q>(
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        binds: &[Bind],
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for b in binds {
            q = match b {
                Bind::Text(t) => q.bind(t.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

pub(crate) fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    }
}

/// Escapes `LIKE` wildcards in user text (with `ESCAPE '\\'`).
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("{what}: {e}"))
}

/// A JSON column, decoded.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    col: &str,
) -> StorageResult<T> {
    let text: String = get(row, col)?;
    serde_json::from_str(&text).map_err(|e| corrupt(col, e))
}

/// A value for a JSON column.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> StorageResult<String> {
    serde_json::to_string(value).map_err(|e| corrupt("json", e))
}
