//! Stored events: the history behind the WebSocket's replay cursor.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: String,
    /// What the event is about, e.g. `job:<id>` or `task:prune-events`; filterable.
    pub subject: Option<String>,
    pub data: serde_json::Value,
    pub timestamp: Timestamp,
}

/// The WebSocket envelope `{type, data, timestamp, id}` (plus `subject`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventRecord {
    /// Increasing sequence number; `None` for live-only events (progress ticks, log lines).
    pub id: Option<i64>,
    #[serde(rename = "type")]
    pub event_type: String,
    pub subject: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub timestamp: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only events with an id greater than this.
    pub since: Option<i64>,
    pub subject: Option<String>,
    pub event_type: Option<String>,
    pub limit: u32,
}
