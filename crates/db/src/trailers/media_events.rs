//! The history of one item.

use super::insert_event;
use crate::rows::{get, ts};
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use tapearr_core::storage::{MediaEventStore, StorageResult};
use tapearr_core::time::Timestamp;
use tapearr_core::trailers::model::MediaEvent;

fn event_row(row: &AnyRow) -> StorageResult<MediaEvent> {
    Ok(MediaEvent {
        id: get(row, "id")?,
        media_id: get(row, "media_id")?,
        profile_id: get(row, "profile_id")?,
        at: ts(row, "at")?,
        kind: get(row, "kind")?,
        message: get(row, "message")?,
    })
}

#[async_trait]
impl MediaEventStore for Db {
    async fn add_media_event(
        &self,
        media_id: &str,
        profile_id: Option<&str>,
        kind: &str,
        message: &str,
        at: Timestamp,
    ) -> StorageResult<()> {
        insert_event(media_id, profile_id, kind, message, at)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn media_events(&self, media_id: &str, limit: u32) -> StorageResult<Vec<MediaEvent>> {
        sqlx::query(
            "SELECT id, media_id, profile_id, at, kind, message FROM media_events \
             WHERE media_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(media_id)
        .bind(i64::from(limit))
        .all(self.pool(), event_row)
        .await
    }
}
