//! Broadcasts and their events.

use crate::rows::{bind_ids, flag, get, opt_ts, placeholders, ts};
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use tapearr_core::storage::{PageRequest, Paged, StorageError, StorageResult, StreamStore};
use tapearr_core::streams::model::{Stream, StreamEvent, StreamEventKind};
use tapearr_core::time::Timestamp;

const STREAM_COLUMNS: &str =
    "id, channel_id, twitch_stream_id, title, category, started_at, ended_at, record_stopped";
const EVENT_COLUMNS: &str = "id, stream_id, kind, title, category, at";

fn stream_row(row: &AnyRow) -> StorageResult<Stream> {
    Ok(Stream {
        id: get(row, "id")?,
        channel_id: get(row, "channel_id")?,
        twitch_stream_id: get(row, "twitch_stream_id")?,
        title: get(row, "title")?,
        category: get(row, "category")?,
        started_at: ts(row, "started_at")?,
        ended_at: opt_ts(row, "ended_at")?,
        record_stopped: flag(row, "record_stopped")?,
    })
}

fn event_row(row: &AnyRow) -> StorageResult<StreamEvent> {
    let kind: String = get(row, "kind")?;
    Ok(StreamEvent {
        id: get(row, "id")?,
        stream_id: get(row, "stream_id")?,
        kind: StreamEventKind::parse(&kind)
            .ok_or_else(|| StorageError::Corrupt(format!("stream event kind {kind}")))?,
        title: get(row, "title")?,
        category: get(row, "category")?,
        at: ts(row, "at")?,
    })
}

#[async_trait]
impl StreamStore for Db {
    async fn upsert_stream(&self, s: &Stream) -> StorageResult<(Stream, bool)> {
        let done = sqlx::query(&format!(
            "INSERT INTO streams ({STREAM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (channel_id, twitch_stream_id) DO NOTHING"
        ))
        .bind(&s.id)
        .bind(&s.channel_id)
        .bind(&s.twitch_stream_id)
        .bind(&s.title)
        .bind(&s.category)
        .bind(s.started_at.millis())
        .bind(s.ended_at.map(|t| t.millis()))
        .bind(i64::from(s.record_stopped))
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        let stored = sqlx::query(&format!(
            "SELECT {STREAM_COLUMNS} FROM streams WHERE channel_id = $1 AND twitch_stream_id = $2"
        ))
        .bind(&s.channel_id)
        .bind(&s.twitch_stream_id)
        .optional(self.pool(), stream_row)
        .await?
        .ok_or(StorageError::NotFound)?;
        Ok((stored, done.rows_affected() > 0))
    }

    async fn stream(&self, id: &str) -> StorageResult<Option<Stream>> {
        sqlx::query(&format!(
            "SELECT {STREAM_COLUMNS} FROM streams WHERE id = $1"
        ))
        .bind(id)
        .optional(self.pool(), stream_row)
        .await
    }

    async fn open_stream(&self, channel_id: &str) -> StorageResult<Option<Stream>> {
        sqlx::query(&format!(
            "SELECT {STREAM_COLUMNS} FROM streams WHERE channel_id = $1 AND ended_at IS NULL \
             ORDER BY started_at DESC, id DESC LIMIT 1"
        ))
        .bind(channel_id)
        .optional(self.pool(), stream_row)
        .await
    }

    async fn end_open_streams(
        &self,
        channel_id: &str,
        keep: Option<&str>,
        at: Timestamp,
    ) -> StorageResult<Vec<Stream>> {
        let keep = keep.unwrap_or("");
        let open = sqlx::query(&format!(
            "SELECT {STREAM_COLUMNS} FROM streams WHERE channel_id = $1 AND ended_at IS NULL \
             AND id <> $2"
        ))
        .bind(channel_id)
        .bind(keep)
        .all(self.pool(), stream_row)
        .await?;
        let mut ended = Vec::with_capacity(open.len());
        for mut s in open {
            // Only the process that actually closes it reports it.
            let done =
                sqlx::query("UPDATE streams SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
                    .bind(at.millis())
                    .bind(&s.id)
                    .execute(self.pool())
                    .await
                    .map_err(backend_err)?;
            if done.rows_affected() > 0 {
                s.ended_at = Some(at);
                ended.push(s);
            }
        }
        Ok(ended)
    }

    async fn set_stream_record_stopped(&self, id: &str) -> StorageResult<()> {
        sqlx::query("UPDATE streams SET record_stopped = 1 WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn list_streams(
        &self,
        channel_id: &str,
        page: PageRequest,
    ) -> StorageResult<Paged<Stream>> {
        let total = sqlx::query("SELECT COUNT(*) AS n FROM streams WHERE channel_id = $1")
            .bind(channel_id)
            .count(self.pool())
            .await?;
        let items = sqlx::query(&format!(
            "SELECT {STREAM_COLUMNS} FROM streams WHERE channel_id = $1 \
             ORDER BY started_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(channel_id)
        .bind(i64::from(page.limit))
        .bind(i64::from(page.offset))
        .all(self.pool(), stream_row)
        .await?;
        Ok(Paged {
            items,
            total,
            limit: page.limit,
            offset: page.offset,
        })
    }

    async fn insert_stream_event(&self, e: &StreamEvent) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO stream_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        ))
        .bind(&e.id)
        .bind(&e.stream_id)
        .bind(e.kind.as_str())
        .bind(&e.title)
        .bind(&e.category)
        .bind(e.at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn list_stream_events(&self, stream_id: &str) -> StorageResult<Vec<StreamEvent>> {
        sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM stream_events WHERE stream_id = $1 ORDER BY at, id"
        ))
        .bind(stream_id)
        .all(self.pool(), event_row)
        .await
    }

    async fn list_events_of_streams(
        &self,
        stream_ids: &[String],
    ) -> StorageResult<Vec<StreamEvent>> {
        if stream_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM stream_events WHERE stream_id IN ({}) \
             ORDER BY stream_id, at, id",
            placeholders(1, stream_ids.len())
        );
        bind_ids(sqlx::query(&sql), stream_ids)
            .all(self.pool(), event_row)
            .await
    }
}
