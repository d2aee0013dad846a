//! Stored events: the history behind the WebSocket's replay cursor.

use super::DomainEvent;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{AllOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: String,
    /// What the event is about, e.g. `job:<id>` or `task:prune-events`; filterable.
    pub subject: Option<String>,
    pub data: serde_json::Value,
    pub timestamp: Timestamp,
}

/// The WebSocket envelope `{type, data, timestamp, id}` (plus `subject`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventRecord {
    /// Increasing sequence number; `None` for live-only events (progress ticks, log lines).
    pub id: Option<i64>,
    #[serde(rename = "type")]
    pub event_type: String,
    pub subject: Option<String>,
    pub data: serde_json::Value,
    pub timestamp: Timestamp,
}

/// The record's fields besides `type` and `data`: its schema is these and a [`DomainEvent`]
/// (`type` and `data` are that event, stored untyped), so clients narrow `data` by `type`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // A schema only; the record serializes itself.
struct EventRecordMeta {
    /// Increasing sequence number; `null` for live-only events (progress ticks, log lines).
    id: Option<i64>,
    /// What the event is about, e.g. `job:<id>` or `task:prune-events`; filterable.
    subject: Option<String>,
    timestamp: Timestamp,
}

impl utoipa::PartialSchema for EventRecord {
    fn schema() -> RefOr<Schema> {
        AllOfBuilder::new()
            .item(Ref::from_schema_name(DomainEvent::name()))
            .item(EventRecordMeta::schema())
            .into()
    }
}

impl utoipa::ToSchema for EventRecord {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((DomainEvent::name().into(), DomainEvent::schema()));
        DomainEvent::schemas(schemas);
        EventRecordMeta::schemas(schemas);
    }
}

#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only events with an id greater than this.
    pub since: Option<i64>,
    pub subject: Option<String>,
    pub event_type: Option<String>,
    pub limit: u32,
}
