//! Notification channels.

use crate::rows::{corrupt, flag, from_json, get, to_json, ts};
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;
use tapearr_core::notify::model::Channel;
use tapearr_core::storage::{NotifyChannelStore, StorageResult};

const CHANNEL_COLUMNS: &str = "id, name, kind, config, event_types, enabled, batch_secs, max_per_minute, quiet_hours, created_at, updated_at";

fn channel_row(row: &AnyRow) -> StorageResult<Channel> {
    let quiet: Option<String> = get(row, "quiet_hours")?;
    Ok(Channel {
        id: get(row, "id")?,
        name: get(row, "name")?,
        config: from_json(row, "config")?,
        event_types: from_json(row, "event_types")?,
        enabled: flag(row, "enabled")?,
        batch_secs: row
            .try_get::<i64, _>("batch_secs")
            .map_err(backend_err)?
            .clamp(0, 86_400) as u32,
        max_per_minute: row
            .try_get::<i64, _>("max_per_minute")
            .map_err(backend_err)?
            .clamp(1, 10_000) as u32,
        quiet_hours: quiet
            .map(|q| serde_json::from_str(&q).map_err(|e| corrupt("quiet_hours", e)))
            .transpose()?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

#[async_trait]
impl NotifyChannelStore for Db {
    async fn insert_channel(&self, c: &Channel) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO notification_channels ({CHANNEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&c.id)
        .bind(&c.name)
        .bind(c.config.kind())
        .bind(to_json(&c.config)?)
        .bind(to_json(&c.event_types)?)
        .bind(i64::from(c.enabled))
        .bind(i64::from(c.batch_secs))
        .bind(i64::from(c.max_per_minute))
        .bind(c.quiet_hours.as_ref().map(to_json).transpose()?)
        .bind(c.created_at.millis())
        .bind(c.updated_at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn update_channel(&self, c: &Channel) -> StorageResult<()> {
        sqlx::query(
            "UPDATE notification_channels SET name = $1, kind = $2, config = $3, event_types = $4, enabled = $5, \
             batch_secs = $6, max_per_minute = $7, quiet_hours = $8, updated_at = $9 WHERE id = $10",
        )
        .bind(&c.name)
        .bind(c.config.kind())
        .bind(to_json(&c.config)?)
        .bind(to_json(&c.event_types)?)
        .bind(i64::from(c.enabled))
        .bind(i64::from(c.batch_secs))
        .bind(i64::from(c.max_per_minute))
        .bind(c.quiet_hours.as_ref().map(to_json).transpose()?)
        .bind(c.updated_at.millis())
        .bind(&c.id)
        .execute_found(self.pool()).await
    }

    async fn delete_channel(&self, id: &str) -> StorageResult<()> {
        // Its messages and items go with it (ON DELETE CASCADE).
        sqlx::query("DELETE FROM notification_channels WHERE id = $1")
            .bind(id)
            .execute_found(self.pool())
            .await
    }

    async fn channel(&self, id: &str) -> StorageResult<Option<Channel>> {
        sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE id = $1"
        ))
        .bind(id)
        .optional(self.pool(), channel_row)
        .await
    }

    async fn list_channels(&self) -> StorageResult<Vec<Channel>> {
        sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM notification_channels ORDER BY name, id"
        ))
        .all(self.pool(), channel_row)
        .await
    }
}
