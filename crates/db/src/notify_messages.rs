//! The notification outbox: items, messages and attempts.

use crate::rows::{corrupt, from_json, get, to_json, ts};
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;
use tapearr_core::notify::model::{
    Backlog, ItemRecord, MessageQuery, MessageRecord, MessageStatus, NewItem,
};
use tapearr_core::storage::{NotifyMessageStore, StorageResult};
use tapearr_core::time::Timestamp;

const MESSAGE_COLUMNS: &str = "id, channel_id, title, content, status, attempts, next_attempt_at, last_error, created_at, sent_at";
const CURSOR: &str = "notifier.cursor";

#[derive(serde::Serialize, serde::Deserialize)]
struct Content {
    lines: Vec<String>,
    event_ids: Vec<i64>,
    event_types: Vec<String>,
}

fn message_row(row: &AnyRow) -> StorageResult<MessageRecord> {
    let content: Content = from_json(row, "content")?;
    let status: String = get(row, "status")?;
    Ok(MessageRecord {
        id: get(row, "id")?,
        channel_id: get(row, "channel_id")?,
        title: get(row, "title")?,
        lines: content.lines,
        event_ids: content.event_ids,
        event_types: content.event_types,
        status: MessageStatus::parse(&status).ok_or_else(|| corrupt("message status", &status))?,
        attempts: row
            .try_get::<i64, _>("attempts")
            .map_err(backend_err)?
            .max(0) as u32,
        next_attempt_at: ts(row, "next_attempt_at")?,
        last_error: get(row, "last_error")?,
        created_at: ts(row, "created_at")?,
        sent_at: row
            .try_get::<Option<i64>, _>("sent_at")
            .map_err(backend_err)?
            .map(Timestamp),
    })
}

#[async_trait]
impl NotifyMessageStore for Db {
    async fn notifier_cursor(&self) -> StorageResult<Option<i64>> {
        sqlx::query("SELECT value FROM app_state WHERE name = $1")
            .bind(CURSOR)
            .optional(self.pool(), |r| {
                let v: String = get(r, "value")?;
                v.parse::<i64>().map_err(|e| corrupt("notifier cursor", e))
            })
            .await
    }

    async fn ingest_items(&self, items: &[NewItem], cursor: i64) -> StorageResult<()> {
        let mut tx = self.pool().begin().await.map_err(backend_err)?;
        for i in items {
            sqlx::query(
                "INSERT INTO notification_items (id, channel_id, event_id, event_type, line, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id, event_id) DO NOTHING",
            )
            .bind(&i.id)
            .bind(&i.channel_id)
            .bind(i.event_id)
            .bind(&i.event_type)
            .bind(&i.line)
            .bind(i.created_at.millis())
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        sqlx::query(
            "INSERT INTO app_state (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(CURSOR)
        .bind(cursor.to_string())
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        tx.commit().await.map_err(backend_err)
    }

    async fn notification_backlog(&self) -> StorageResult<Vec<Backlog>> {
        sqlx::query(
            "SELECT channel_id, MIN(created_at) AS oldest, COUNT(*) AS n FROM notification_items \
             WHERE message_id IS NULL GROUP BY channel_id",
        )
        .all(self.pool(), |r| {
            Ok(Backlog {
                channel_id: get(r, "channel_id")?,
                oldest: ts(r, "oldest")?,
                count: get::<i64>(r, "n")?.max(0) as u64,
            })
        })
        .await
    }

    async fn unassigned_items(
        &self,
        channel_id: &str,
        limit: u32,
    ) -> StorageResult<Vec<ItemRecord>> {
        sqlx::query(&format!(
            "SELECT id, event_id, event_type, line, created_at FROM notification_items \
             WHERE channel_id = $1 AND message_id IS NULL ORDER BY event_id LIMIT {limit}"
        ))
        .bind(channel_id)
        .all(self.pool(), |r| {
            Ok(ItemRecord {
                id: get(r, "id")?,
                event_id: get(r, "event_id")?,
                event_type: get(r, "event_type")?,
                line: get(r, "line")?,
                created_at: ts(r, "created_at")?,
            })
        })
        .await
    }

    async fn create_message(&self, m: &MessageRecord, item_ids: &[String]) -> StorageResult<bool> {
        let content = Content {
            lines: m.lines.clone(),
            event_ids: m.event_ids.clone(),
            event_types: m.event_types.clone(),
        };
        let mut tx = self.pool().begin().await.map_err(backend_err)?;
        sqlx::query(&format!(
            "INSERT INTO notification_messages ({MESSAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&m.id)
        .bind(&m.channel_id)
        .bind(&m.title)
        .bind(to_json(&content)?)
        .bind(m.status.as_str())
        .bind(i64::from(m.attempts))
        .bind(m.next_attempt_at.millis())
        .bind(m.last_error.as_deref())
        .bind(m.created_at.millis())
        .bind(m.sent_at.map(Timestamp::millis))
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
        let mut assigned = 0;
        for id in item_ids {
            assigned += sqlx::query("UPDATE notification_items SET message_id = $1 WHERE id = $2 AND message_id IS NULL")
                .bind(&m.id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?
                .rows_affected();
        }
        if assigned != item_ids.len() as u64 {
            // Another process composed some of these items first; let it have them.
            tx.rollback().await.map_err(backend_err)?;
            return Ok(false);
        }
        tx.commit().await.map_err(backend_err)?;
        Ok(true)
    }

    async fn due_messages(&self, now: Timestamp, limit: u32) -> StorageResult<Vec<MessageRecord>> {
        sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM notification_messages WHERE status = 'pending' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, id LIMIT {limit}"
        ))
        .bind(now.millis())
        .all(self.pool(), message_row)
        .await
    }

    async fn claim_message(
        &self,
        id: &str,
        expected: Timestamp,
        until: Timestamp,
    ) -> StorageResult<bool> {
        let done = sqlx::query(
            "UPDATE notification_messages SET next_attempt_at = $1 WHERE id = $2 AND status = 'pending' AND next_attempt_at = $3",
        )
        .bind(until.millis())
        .bind(id)
        .bind(expected.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn messages_sent_since(&self, channel_id: &str, since: Timestamp) -> StorageResult<u64> {
        sqlx::query(
            "SELECT COUNT(*) AS n FROM notification_messages WHERE channel_id = $1 AND sent_at >= $2",
        )
        .bind(channel_id)
        .bind(since.millis())
        .count(self.pool())
        .await
    }

    async fn finish_message(
        &self,
        id: &str,
        status: MessageStatus,
        error: Option<&str>,
        next_attempt_at: Timestamp,
        at: Timestamp,
    ) -> StorageResult<()> {
        let sent_at = (status == MessageStatus::Sent).then_some(at.millis());
        sqlx::query(
            "UPDATE notification_messages SET status = $1, last_error = $2, next_attempt_at = $3, \
             attempts = attempts + 1, sent_at = $4 WHERE id = $5",
        )
        .bind(status.as_str())
        .bind(error)
        .bind(next_attempt_at.millis())
        .bind(sent_at)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn list_messages(&self, q: &MessageQuery) -> StorageResult<Vec<MessageRecord>> {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        if let Some(c) = &q.channel_id {
            binds.push(c.clone());
            conditions.push(format!("channel_id = ${}", binds.len()));
        }
        if let Some(s) = q.status {
            binds.push(s.as_str().to_string());
            conditions.push(format!("status = ${}", binds.len()));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM notification_messages {filter} ORDER BY created_at DESC, id DESC LIMIT {}",
            q.limit.clamp(1, 500)
        );
        let mut query = sqlx::query(&sql);
        for b in binds {
            query = query.bind(b);
        }
        query.all(self.pool(), message_row).await
    }
}
