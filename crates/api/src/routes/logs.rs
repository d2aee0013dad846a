//! Recent log lines.

use crate::error::{ApiError, ApiQuery, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use tapearr_core::logs::{LogEntry, LogQuery};
use tapearr_core::time::Timestamp;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Minimum level: error, warn, info, debug, trace.
    pub level: Option<String>,
    /// Module prefix, e.g. `tapearr_core::jobs`.
    pub module: Option<String>,
    /// A field match `job_id=…`, or a bare id matched against job_id, task, stream_id, media_id …
    pub subject: Option<String>,
    /// Only lines after this time (epoch ms).
    pub since: Option<i64>,
    /// 1–2000, default 200.
    pub limit: Option<usize>,
}

impl LogParams {
    pub(crate) fn to_query(&self) -> Result<LogQuery, ApiError> {
        let level = self
            .level
            .as_deref()
            .map(|l| {
                l.parse().map_err(|_| {
                    ApiError::invalid("level must be error, warn, info, debug or trace")
                })
            })
            .transpose()?;
        Ok(LogQuery {
            level,
            module: self.module.clone(),
            subject: self.subject.clone(),
            since: self.since.map(Timestamp),
            limit: self.limit.unwrap_or(200).clamp(1, 2000),
        })
    }
}

/// Recent log lines, oldest first.
#[utoipa::path(get, path = "/api/v1/logs", tag = "logs", params(LogParams),
    responses((status = 200, body = Vec<LogEntry>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<LogParams>,
) -> ApiResult<Json<Vec<LogEntry>>> {
    Ok(Json(state.logs.query(&p.to_query()?)))
}
