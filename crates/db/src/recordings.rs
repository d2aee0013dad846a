//! Recordings while they run, their gaps, and the recordings list.

use std::collections::{HashMap, HashSet};

use crate::rows::{
    Bind, escape_like, flag, get, opt_ts, placeholders, signed, ts, unsigned, where_clause,
};
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use tapearr_core::storage::{
    Paged, RecordingQuery, RecordingSort, RecordingStore, SortOrder, StorageError, StorageResult,
};
use tapearr_core::streams::model::{
    FinalizeStep, Recording, RecordingGap, RecordingLabels, RecordingLibrary, RecordingOrigin,
    RecordingProgress, RecordingSource, RecordingStatus,
};
use tapearr_core::time::Timestamp;

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

const RECORDING_COLUMNS: &str = "id, channel_id, stream_id, status, dir, stem, quality, \
    started_at, ended_at, bytes, media_ms, segments, missed_segments, sessions, owner, \
    heartbeat_at, end_reason, error, updated_at, source, twitch_video_id, linked_recording_id";
/// A recording with its library state and the labels joined from its channel and stream;
/// conditions must name recording columns as `r.…`.
pub(crate) const RECORDING_SELECT: &str = "SELECT r.id, r.channel_id, r.stream_id, r.status, \
    r.dir, r.stem, r.quality, r.started_at, r.ended_at, r.bytes, r.media_ms, r.segments, \
    r.missed_segments, r.sessions, r.owner, r.heartbeat_at, r.end_reason, r.error, r.updated_at, \
    r.finalize_step, r.finalize_error, r.finalized_at, r.video_path, r.video_bytes, r.duration_ms, \
    r.season, r.episode, r.keep, r.source, r.twitch_video_id, r.linked_recording_id, c.login AS channel_login, c.display_name AS channel_name, \
    COALESCE(s.title, '') AS title, COALESCE(s.category, '') AS category \
    FROM recordings r JOIN channels c ON c.id = r.channel_id LEFT JOIN streams s ON s.id = r.stream_id";
const GAP_COLUMNS: &str = "id, recording_id, at, ms, reason";

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
        origin: origin_row(row)?,
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

fn origin_row(row: &AnyRow) -> StorageResult<RecordingOrigin> {
    let source: String = get(row, "source")?;
    Ok(RecordingOrigin {
        source: RecordingSource::parse(&source)
            .ok_or_else(|| StorageError::Corrupt(format!("recording source {source}")))?,
        twitch_video_id: get(row, "twitch_video_id")?,
        linked_recording_id: get(row, "linked_recording_id")?,
    })
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
impl RecordingStore for Db {
    async fn insert_recording(&self, r: &Recording) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO recordings ({RECORDING_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
             $20, $21, $22)"
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
        .bind(r.origin.source.as_str())
        .bind(&r.origin.twitch_video_id)
        .bind(&r.origin.linked_recording_id)
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
}
