//! Event history and the replay cursor.

use crate::error::{ApiQuery, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use tapearr_core::events::model::{EventQuery, EventRecord};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Only events after this id, oldest first (the WebSocket replay cursor). Without it: the newest.
    pub since: Option<i64>,
    /// e.g. `job:<id>` or `task:prune-events`.
    pub subject: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// 1–1000, default 100.
    pub limit: Option<u32>,
}

/// Event history.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventParams),
    responses((status = 200, body = Vec<EventRecord>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<EventParams>,
) -> ApiResult<Json<Vec<EventRecord>>> {
    let query = EventQuery {
        since: p.since,
        subject: p.subject,
        event_type: p.event_type,
        limit: p.limit.unwrap_or(100).clamp(1, 1000),
    };
    Ok(Json(state.events.history(&query).await?))
}
