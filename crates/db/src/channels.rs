//! Watched Twitch channels.

use crate::rows::{IN_CHUNK, bind_ids, flag, get, opt_ts, placeholders, ts};
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use tapearr_core::storage::{ChannelProfile, ChannelStore, StorageResult};
use tapearr_core::streams::model::{Channel, ChannelSettings};
use tapearr_core::time::Timestamp;

const CHANNEL_COLUMNS: &str = "id, twitch_id, login, display_name, description, avatar_url, \
    offline_image_url, auto_record, quality, codecs, naming_template, favourite, live, title, \
    category, live_checked_at, removed_at, created_at, updated_at, use_playlist_proxy, record_chat";

fn channel_row(row: &AnyRow) -> StorageResult<Channel> {
    Ok(Channel {
        id: get(row, "id")?,
        twitch_id: get(row, "twitch_id")?,
        login: get(row, "login")?,
        display_name: get(row, "display_name")?,
        description: get(row, "description")?,
        avatar_url: get(row, "avatar_url")?,
        offline_image_url: get(row, "offline_image_url")?,
        settings: ChannelSettings {
            auto_record: flag(row, "auto_record")?,
            quality: get(row, "quality")?,
            codecs: get(row, "codecs")?,
            naming_template: get(row, "naming_template")?,
            favourite: flag(row, "favourite")?,
            use_playlist_proxy: flag(row, "use_playlist_proxy")?,
            record_chat: flag(row, "record_chat")?,
        },
        live: flag(row, "live")?,
        title: get(row, "title")?,
        category: get(row, "category")?,
        live_checked_at: opt_ts(row, "live_checked_at")?,
        removed_at: opt_ts(row, "removed_at")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

#[async_trait]
impl ChannelStore for Db {
    async fn insert_twitch_channel(&self, c: &Channel) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO channels ({CHANNEL_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
        ))
        .bind(&c.id)
        .bind(&c.twitch_id)
        .bind(&c.login)
        .bind(&c.display_name)
        .bind(&c.description)
        .bind(&c.avatar_url)
        .bind(&c.offline_image_url)
        .bind(i64::from(c.settings.auto_record))
        .bind(&c.settings.quality)
        .bind(&c.settings.codecs)
        .bind(&c.settings.naming_template)
        .bind(i64::from(c.settings.favourite))
        .bind(i64::from(c.live))
        .bind(&c.title)
        .bind(&c.category)
        .bind(c.live_checked_at.map(|t| t.millis()))
        .bind(c.removed_at.map(|t| t.millis()))
        .bind(c.created_at.millis())
        .bind(c.updated_at.millis())
        .bind(i64::from(c.settings.use_playlist_proxy))
        .bind(i64::from(c.settings.record_chat))
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn twitch_channel(&self, id: &str) -> StorageResult<Option<Channel>> {
        sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE id = $1"
        ))
        .bind(id)
        .optional(self.pool(), channel_row)
        .await
    }

    async fn twitch_channel_by_twitch_id(&self, twitch_id: &str) -> StorageResult<Option<Channel>> {
        sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE twitch_id = $1"
        ))
        .bind(twitch_id)
        .optional(self.pool(), channel_row)
        .await
    }

    async fn list_twitch_channels(&self) -> StorageResult<Vec<Channel>> {
        sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels WHERE removed_at IS NULL ORDER BY login, id"
        ))
        .all(self.pool(), channel_row)
        .await
    }

    async fn update_channel_settings(
        &self,
        id: &str,
        s: &ChannelSettings,
        at: Timestamp,
    ) -> StorageResult<()> {
        sqlx::query(
            "UPDATE channels SET auto_record = $1, quality = $2, codecs = $3, naming_template = $4, \
             favourite = $5, use_playlist_proxy = $6, record_chat = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(i64::from(s.auto_record))
        .bind(&s.quality)
        .bind(&s.codecs)
        .bind(&s.naming_template)
        .bind(i64::from(s.favourite))
        .bind(i64::from(s.use_playlist_proxy))
        .bind(i64::from(s.record_chat))
        .bind(at.millis())
        .bind(id)
        .execute_found(self.pool()).await
    }

    async fn update_channel_profile(
        &self,
        id: &str,
        p: &ChannelProfile,
        at: Timestamp,
    ) -> StorageResult<()> {
        sqlx::query(
            "UPDATE channels SET login = $1, display_name = $2, description = $3, avatar_url = $4, \
             offline_image_url = $5, removed_at = NULL, updated_at = $6 WHERE id = $7",
        )
        .bind(&p.login)
        .bind(&p.display_name)
        .bind(&p.description)
        .bind(&p.avatar_url)
        .bind(&p.offline_image_url)
        .bind(at.millis())
        .bind(id)
        .execute_found(self.pool())
        .await
    }

    async fn set_channel_state(
        &self,
        id: &str,
        live: bool,
        title: &str,
        category: &str,
        at: Timestamp,
    ) -> StorageResult<()> {
        sqlx::query(
            "UPDATE channels SET live = $1, title = $2, category = $3, live_checked_at = $4 \
             WHERE id = $5",
        )
        .bind(i64::from(live))
        .bind(title)
        .bind(category)
        .bind(at.millis())
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn mark_channels_checked(&self, ids: &[String], at: Timestamp) -> StorageResult<()> {
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "UPDATE channels SET live_checked_at = $1 WHERE id IN ({})",
                placeholders(2, chunk.len())
            );
            bind_ids(sqlx::query(&sql).bind(at.millis()), chunk)
                .execute(self.pool())
                .await
                .map_err(backend_err)?;
        }
        Ok(())
    }

    async fn remove_twitch_channel(
        &self,
        id: &str,
        keep_recordings: bool,
        at: Timestamp,
    ) -> StorageResult<()> {
        if keep_recordings {
            sqlx::query(
                "UPDATE channels SET removed_at = $1, live = 0, updated_at = $1 WHERE id = $2",
            )
            .bind(at.millis())
            .bind(id)
            .execute_found(self.pool())
            .await
        } else {
            sqlx::query("DELETE FROM channels WHERE id = $1")
                .bind(id)
                .execute_found(self.pool())
                .await
        }
    }
}
