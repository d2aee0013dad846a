//! Event history.

use crate::RowsExt;
use crate::rows;
use crate::{Db, backend_err};
use async_trait::async_trait;
use sqlx::Row;
use tapearr_core::events::model::{EventQuery, EventRecord, NewEvent};
use tapearr_core::storage::{EventStore, StorageResult};
use tapearr_core::time::Timestamp;

const EVENT_COLUMNS: &str = "id, event_type, subject, data, created_at";

#[async_trait]
impl EventStore for Db {
    async fn append_event(&self, e: &NewEvent) -> StorageResult<EventRecord> {
        let row = sqlx::query(
            "INSERT INTO events (event_type, subject, data, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&e.event_type)
        .bind(e.subject.as_deref())
        .bind(e.data.to_string())
        .bind(e.timestamp.millis())
        .fetch_one(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(EventRecord {
            id: Some(row.try_get::<i64, _>("id").map_err(backend_err)?),
            event_type: e.event_type.clone(),
            subject: e.subject.clone(),
            data: e.data.clone(),
            timestamp: e.timestamp,
        })
    }

    /// With `since`: the events after it, oldest first. Without: the newest `limit`, oldest first.
    async fn list_events(&self, q: &EventQuery) -> StorageResult<Vec<EventRecord>> {
        let mut conditions = Vec::new();
        let mut texts = Vec::new();
        if let Some(s) = &q.subject {
            texts.push(s.clone());
            conditions.push(format!("subject = ${}", texts.len()));
        }
        if let Some(t) = &q.event_type {
            texts.push(t.clone());
            conditions.push(format!("event_type = ${}", texts.len()));
        }
        if let Some(since) = q.since {
            conditions.push(format!("id > {since}"));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let order = if q.since.is_some() { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events {filter} ORDER BY id {order} LIMIT {}",
            q.limit.max(1)
        );
        let mut query = sqlx::query(&sql);
        for t in texts {
            query = query.bind(t);
        }
        let mut events = query.all(self.pool(), rows::event).await?;
        if q.since.is_none() {
            events.reverse();
        }
        Ok(events)
    }

    async fn delete_events_before(&self, before: Timestamp) -> StorageResult<u64> {
        Ok(sqlx::query("DELETE FROM events WHERE created_at < $1")
            .bind(before.millis())
            .execute(self.pool())
            .await
            .map_err(backend_err)?
            .rows_affected())
    }
}
