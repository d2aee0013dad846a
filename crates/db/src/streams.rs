//! Channels, streams, stream events and recordings.

use std::collections::{HashMap, HashSet};

use crate::rows::{
    Bind, IN_CHUNK, bind_ids, flag, get, opt_ts, placeholders, signed, ts, unsigned, where_clause,
};
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use tapearr_core::storage::{
    ChannelProfile, PageRequest, Paged, RecordingQuery, RecordingSort, SortOrder, StorageError,
    StorageResult, StreamStore,
};
use tapearr_core::streams::model::{
    Channel, ChannelSettings, FinalizeStep, Recording, RecordingGap, RecordingLabels,
    RecordingLibrary, RecordingProgress, RecordingStatus, Stream, StreamEvent, StreamEventKind,
};
use tapearr_core::time::Timestamp;

const CHANNEL_COLUMNS: &str = "id, twitch_id, login, display_name, description, avatar_url, \
    offline_image_url, auto_record, quality, codecs, naming_template, favourite, live, title, \
    category, live_checked_at, removed_at, created_at, updated_at";
const STREAM_COLUMNS: &str =
    "id, channel_id, twitch_stream_id, title, category, started_at, ended_at, record_stopped";
/// A running recording's counters and heartbeat, written only while `owner` holds it.
const PROGRESS_UPDATE: &str = "UPDATE recordings SET bytes = $1, media_ms = $2, segments = $3, \
    missed_segments = $4, heartbeat_at = $5, updated_at = $5 \
    WHERE id = $6 AND owner = $7 AND status = 'recording'";
/// Recordings per grouped progress statement (5 bind parameters each).
const PROGRESS_CHUNK: usize = 200;

/// [`PROGRESS_UPDATE`] for `rows` recordings at once; answers the ids it updated.
/// `$1` is the heartbeat, `$2` the owner, then five parameters per recording.
fn progress_batch_sql(rows: usize) -> String {
    let values = (0..rows)
        .map(|i| format!("({})", placeholders(3 + i * 5, 5)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH v (id, bytes, media_ms, segments, missed_segments) AS (VALUES {values}) \
         UPDATE recordings SET bytes = v.bytes, media_ms = v.media_ms, segments = v.segments, \
         missed_segments = v.missed_segments, heartbeat_at = $1, updated_at = $1 FROM v \
         WHERE recordings.id = v.id AND recordings.owner = $2 AND recordings.status = 'recording' \
         RETURNING recordings.id AS id"
    )
}

fn progress_batch<'q>(
    sql: &'q str,
    rows: &[(&'q str, &RecordingProgress)],
    owner: &'q str,
    at: Timestamp,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = sqlx::query(sql).bind(at.millis()).bind(owner);
    for (id, p) in rows {
        q = q
            .bind(*id)
            .bind(signed(p.bytes))
            .bind(signed(p.media_ms))
            .bind(signed(p.segments))
            .bind(signed(p.missed_segments));
    }
    q
}

const EVENT_COLUMNS: &str = "id, stream_id, kind, title, category, at";
const RECORDING_COLUMNS: &str = "id, channel_id, stream_id, status, dir, stem, quality, \
    started_at, ended_at, bytes, media_ms, segments, missed_segments, sessions, owner, \
    heartbeat_at, end_reason, error, updated_at";
/// A recording with its library state and the labels joined from its channel and stream;
/// conditions must name recording columns as `r.…`.
pub(crate) const RECORDING_SELECT: &str = "SELECT r.id, r.channel_id, r.stream_id, r.status, \
    r.dir, r.stem, r.quality, r.started_at, r.ended_at, r.bytes, r.media_ms, r.segments, \
    r.missed_segments, r.sessions, r.owner, r.heartbeat_at, r.end_reason, r.error, r.updated_at, \
    r.finalize_step, r.finalize_error, r.finalized_at, r.video_path, r.video_bytes, r.duration_ms, \
    r.season, r.episode, r.keep, c.login AS channel_login, c.display_name AS channel_name, \
    COALESCE(s.title, '') AS title, COALESCE(s.category, '') AS category \
    FROM recordings r JOIN channels c ON c.id = r.channel_id LEFT JOIN streams s ON s.id = r.stream_id";
const GAP_COLUMNS: &str = "id, recording_id, at, ms, reason";

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

pub(crate) fn recording_row(row: &AnyRow) -> StorageResult<Recording> {
    let status: String = get(row, "status")?;
    Ok(Recording {
        id: get(row, "id")?,
        channel_id: get(row, "channel_id")?,
        stream_id: get(row, "stream_id")?,
        status: RecordingStatus::parse(&status)
            .ok_or_else(|| StorageError::Corrupt(format!("recording status {status}")))?,
        dir: get(row, "dir")?,
        stem: get(row, "stem")?,
        quality: get(row, "quality")?,
        started_at: ts(row, "started_at")?,
        ended_at: opt_ts(row, "ended_at")?,
        bytes: unsigned(row, "bytes")?,
        media_ms: unsigned(row, "media_ms")?,
        segments: unsigned(row, "segments")?,
        missed_segments: unsigned(row, "missed_segments")?,
        sessions: u32::try_from(unsigned(row, "sessions")?).unwrap_or(u32::MAX),
        owner: get(row, "owner")?,
        heartbeat_at: ts(row, "heartbeat_at")?,
        end_reason: get(row, "end_reason")?,
        error: get(row, "error")?,
        updated_at: ts(row, "updated_at")?,
        library: library_row(row)?,
        labels: RecordingLabels {
            channel_login: get(row, "channel_login")?,
            channel_name: get(row, "channel_name")?,
            title: get(row, "title")?,
            category: get(row, "category")?,
        },
    })
}

fn library_row(row: &AnyRow) -> StorageResult<RecordingLibrary> {
    let step: Option<String> = get(row, "finalize_step")?;
    let finalize_step = match step {
        Some(s) => Some(
            FinalizeStep::parse(&s)
                .ok_or_else(|| StorageError::Corrupt(format!("finalize step {s}")))?,
        ),
        None => None,
    };
    let optional_unsigned = |col: &str| -> StorageResult<Option<u64>> {
        Ok(get::<Option<i64>>(row, col)?.map(|v| u64::try_from(v).unwrap_or(0)))
    };
    Ok(RecordingLibrary {
        finalize_step,
        finalize_error: get(row, "finalize_error")?,
        finalized_at: opt_ts(row, "finalized_at")?,
        video_path: get(row, "video_path")?,
        video_bytes: optional_unsigned("video_bytes")?,
        duration_ms: optional_unsigned("duration_ms")?,
        season: get(row, "season")?,
        episode: optional_unsigned("episode")?.map(|e| u32::try_from(e).unwrap_or(u32::MAX)),
        keep: flag(row, "keep")?,
    })
}

/// Escapes `LIKE` wildcards in user text (with `ESCAPE '\\'`).
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn gap_row(row: &AnyRow) -> StorageResult<RecordingGap> {
    Ok(RecordingGap {
        id: get(row, "id")?,
        recording_id: get(row, "recording_id")?,
        at: ts(row, "at")?,
        ms: unsigned(row, "ms")?,
        reason: get(row, "reason")?,
    })
}

#[async_trait]
impl StreamStore for Db {
    async fn insert_twitch_channel(&self, c: &Channel) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO channels ({CHANNEL_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
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
             favourite = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(i64::from(s.auto_record))
        .bind(&s.quality)
        .bind(&s.codecs)
        .bind(&s.naming_template)
        .bind(i64::from(s.favourite))
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

    async fn insert_recording(&self, r: &Recording) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO recordings ({RECORDING_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        ))
        .bind(&r.id)
        .bind(&r.channel_id)
        .bind(&r.stream_id)
        .bind(r.status.as_str())
        .bind(&r.dir)
        .bind(&r.stem)
        .bind(&r.quality)
        .bind(r.started_at.millis())
        .bind(r.ended_at.map(|t| t.millis()))
        .bind(signed(r.bytes))
        .bind(signed(r.media_ms))
        .bind(signed(r.segments))
        .bind(signed(r.missed_segments))
        .bind(i64::from(r.sessions))
        .bind(&r.owner)
        .bind(r.heartbeat_at.millis())
        .bind(&r.end_reason)
        .bind(&r.error)
        .bind(r.updated_at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn recording(&self, id: &str) -> StorageResult<Option<Recording>> {
        sqlx::query(&format!("{RECORDING_SELECT} WHERE r.id = $1"))
            .bind(id)
            .optional(self.pool(), recording_row)
            .await
    }

    async fn active_recording(&self, channel_id: &str) -> StorageResult<Option<Recording>> {
        sqlx::query(&format!(
            "{RECORDING_SELECT} WHERE r.channel_id = $1 AND r.status = 'recording'"
        ))
        .bind(channel_id)
        .optional(self.pool(), recording_row)
        .await
    }

    async fn active_recordings(&self) -> StorageResult<Vec<Recording>> {
        sqlx::query(&format!("{RECORDING_SELECT} WHERE r.status = 'recording'"))
            .all(self.pool(), recording_row)
            .await
    }

    async fn recordings_of_stream(&self, stream_id: &str) -> StorageResult<Vec<Recording>> {
        sqlx::query(&format!(
            "{RECORDING_SELECT} WHERE r.stream_id = $1 ORDER BY r.started_at, r.id"
        ))
        .bind(stream_id)
        .all(self.pool(), recording_row)
        .await
    }

    async fn list_recordings(&self, q: &RecordingQuery) -> StorageResult<Paged<Recording>> {
        // Only the filters that are set reach the SQL, so the count of an unfiltered (or status-
        // or channel-filtered) list reads an index, and the page walks `recordings_started`.
        let mut binds: Vec<Bind> = Vec::new();
        let mut conditions: Vec<String> = Vec::new();
        // The joins the count needs: only for the filters that read the channel or the stream
        // (the channel join never drops a row: `channel_id` is a foreign key).
        let mut count_joins = "";
        if let Some(channel) = q.channel_id.as_deref().filter(|c| !c.is_empty()) {
            binds.push(Bind::Text(channel.to_string()));
            conditions.push(format!("r.channel_id = ${}", binds.len()));
        }
        if let Some(status) = q.status {
            binds.push(Bind::Text(status.as_str().to_string()));
            conditions.push(format!("r.status = ${}", binds.len()));
        }
        if let Some(category) = q
            .category
            .as_deref()
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())
        {
            binds.push(Bind::Text(category));
            let n = binds.len();
            conditions.push(format!(
                "(LOWER(s.category) = ${n} OR EXISTS (SELECT 1 FROM stream_events e \
                 WHERE e.stream_id = r.stream_id AND LOWER(e.category) = ${n}))"
            ));
            count_joins = "LEFT JOIN streams s ON s.id = r.stream_id";
        }
        if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            binds.push(Bind::Text(format!(
                "%{}%",
                escape_like(&search.to_lowercase())
            )));
            let n = binds.len();
            conditions.push(format!(
                "(LOWER(COALESCE(s.title, '')) LIKE ${n} ESCAPE '\\' \
                 OR LOWER(c.login) LIKE ${n} ESCAPE '\\' OR LOWER(c.display_name) LIKE ${n} ESCAPE '\\')"
            ));
            count_joins =
                "JOIN channels c ON c.id = r.channel_id LEFT JOIN streams s ON s.id = r.stream_id";
        }
        if let Some(from) = q.from {
            binds.push(Bind::Int(from.millis()));
            conditions.push(format!("r.started_at >= ${}", binds.len()));
        }
        if let Some(to) = q.to {
            binds.push(Bind::Int(to.millis()));
            conditions.push(format!("r.started_at < ${}", binds.len()));
        }
        let filter = where_clause(&conditions);
        let total = Bind::all(
            sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM recordings r {count_joins} {filter}"
            )),
            &binds,
        )
        .count(self.pool())
        .await?;
        let column = match q.sort {
            RecordingSort::Started => "r.started_at",
            RecordingSort::Duration => "COALESCE(r.duration_ms, r.media_ms)",
            RecordingSort::Size => "COALESCE(r.video_bytes, r.bytes)",
            RecordingSort::Channel => "c.login",
        };
        let order = match q.order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        // Sorting by start needs its column once: a repeated key keeps SQLite off the index.
        let keys = if column == "r.started_at" {
            format!("r.started_at {order}, r.id {order}")
        } else {
            format!("{column} {order}, r.started_at {order}, r.id {order}")
        };
        let items = Bind::all(
            sqlx::query(&format!(
                "{RECORDING_SELECT} {filter} ORDER BY {keys} LIMIT {} OFFSET {}",
                q.page.limit, q.page.offset
            )),
            &binds,
        )
        .all(self.pool(), recording_row)
        .await?;
        Ok(Paged {
            items,
            total,
            limit: q.page.limit,
            offset: q.page.offset,
        })
    }

    async fn update_recording_progress(
        &self,
        id: &str,
        owner: &str,
        p: &RecordingProgress,
        at: Timestamp,
    ) -> StorageResult<bool> {
        let done = sqlx::query(PROGRESS_UPDATE)
            .bind(signed(p.bytes))
            .bind(signed(p.media_ms))
            .bind(signed(p.segments))
            .bind(signed(p.missed_segments))
            .bind(at.millis())
            .bind(id)
            .bind(owner)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn update_recordings_progress(
        &self,
        batch: &[(String, RecordingProgress)],
        owner: &str,
        at: Timestamp,
    ) -> StorageResult<Vec<bool>> {
        // One statement per chunk, not one per recording: on SQLite each statement is a round
        // trip to the connection's thread, and a commit per recording and tick was the cost.
        let mut latest: HashMap<&str, &RecordingProgress> = HashMap::new();
        for (id, p) in batch {
            latest.insert(id.as_str(), p); // one save per recording; the last one wins
        }
        let rows: Vec<(&str, &RecordingProgress)> = latest.into_iter().collect();
        let mut owned: HashSet<String> = HashSet::new();
        if rows.len() <= PROGRESS_CHUNK {
            if !rows.is_empty() {
                let sql = progress_batch_sql(rows.len());
                for row in progress_batch(&sql, &rows, owner, at)
                    .fetch_all(self.pool())
                    .await
                    .map_err(backend_err)?
                {
                    owned.insert(get::<String>(&row, "id")?);
                }
            }
        } else {
            let mut tx = self.pool().begin().await.map_err(backend_err)?;
            for chunk in rows.chunks(PROGRESS_CHUNK) {
                let sql = progress_batch_sql(chunk.len());
                for row in progress_batch(&sql, chunk, owner, at)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(backend_err)?
                {
                    owned.insert(get::<String>(&row, "id")?);
                }
            }
            tx.commit().await.map_err(backend_err)?;
        }
        Ok(batch
            .iter()
            .map(|(id, _)| owned.contains(id.as_str()))
            .collect())
    }

    async fn resume_recording(&self, id: &str, owner: &str, at: Timestamp) -> StorageResult<()> {
        sqlx::query(
            "UPDATE recordings SET owner = $1, sessions = sessions + 1, heartbeat_at = $2, \
             updated_at = $2 WHERE id = $3 AND status = 'recording'",
        )
        .bind(owner)
        .bind(at.millis())
        .bind(id)
        .execute_found(self.pool())
        .await
    }

    async fn finish_recording(
        &self,
        id: &str,
        status: RecordingStatus,
        end_reason: Option<&str>,
        error: Option<&str>,
        at: Timestamp,
    ) -> StorageResult<bool> {
        let done = sqlx::query(
            "UPDATE recordings SET status = $1, end_reason = $2, error = $3, ended_at = $4, \
             updated_at = $4 WHERE id = $5 AND status = 'recording'",
        )
        .bind(status.as_str())
        .bind(end_reason)
        .bind(error)
        .bind(at.millis())
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_recording_gap(&self, g: &RecordingGap) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO recording_gaps ({GAP_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET at = excluded.at, ms = excluded.ms, reason = excluded.reason"
        ))
        .bind(&g.id)
        .bind(&g.recording_id)
        .bind(g.at.millis())
        .bind(signed(g.ms))
        .bind(&g.reason)
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn list_recording_gaps(&self, recording_id: &str) -> StorageResult<Vec<RecordingGap>> {
        sqlx::query(&format!(
            "SELECT {GAP_COLUMNS} FROM recording_gaps WHERE recording_id = $1 ORDER BY at, id"
        ))
        .bind(recording_id)
        .all(self.pool(), gap_row)
        .await
    }

    async fn scrub_replaced(&self, tables: &[&str]) -> StorageResult<()> {
        let statements = match self.backend {
            crate::Backend::Sqlite => vec![
                "VACUUM".to_string(),
                "PRAGMA wal_checkpoint(TRUNCATE)".to_string(),
            ],
            crate::Backend::Postgres => tables.iter().map(|t| format!("VACUUM {t}")).collect(),
        };
        for sql in statements {
            sqlx::raw_sql(&sql)
                .execute(&self.pool)
                .await
                .map_err(backend_err)?;
        }
        Ok(())
    }

    async fn app_value(&self, name: &str) -> StorageResult<Option<String>> {
        sqlx::query("SELECT value FROM app_state WHERE name = $1")
            .bind(name)
            .optional(self.pool(), |row| get::<String>(row, "value"))
            .await
    }

    async fn set_app_value(&self, name: &str, value: Option<&str>) -> StorageResult<()> {
        match value {
            Some(v) => {
                sqlx::query(
                    "INSERT INTO app_state (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                )
                .bind(name)
                .bind(v)
                .execute(self.pool())
                .await
            }
            None => {
                sqlx::query("DELETE FROM app_state WHERE name = $1")
                    .bind(name)
                    .execute(self.pool())
                    .await
            }
        }
        .map_err(backend_err)?;
        Ok(())
    }
}
