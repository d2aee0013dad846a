//! Trailers: Arr connections, media, profiles, download records and item history.

use crate::rows::{Bind, IN_CHUNK, bind_ids, flag, get, opt_ts, placeholders, ts, where_clause};
use crate::streams::escape_like;
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use sqlx::Any;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use std::collections::HashMap;
use std::sync::LazyLock;
use tapearr_core::secret::Secret;
use tapearr_core::storage::{PageRequest, StorageError, StorageResult, TrailerStore};
use tapearr_core::time::Timestamp;
use tapearr_core::trailers::model::Profile;
use tapearr_core::trailers::model::{
    ArrPathMapping, CandidateSource, Connection, ConnectionKind, DownloadRecord, DownloadStatus,
    MediaCursor, MediaEvent, MediaItem, MediaKind, MediaListPage, MediaQuery, ScanRecord,
    SyncOutcome, TrailerWrites,
};

const CONNECTION_COLUMNS: &str = "id, name, kind, url, api_key, path_mappings, monitor_new, enabled, \
     last_sync_at, last_sync_error, last_sync_items, created_at, updated_at";

const MEDIA_COLUMNS: &str = "id, connection_id, kind, arr_id, ext_id, tmdb_id, imdb_id, title, \
     original_title, year, language, studio, overview, runtime_min, tags, folder, media_files, has_file, \
     arr_monitored, monitor, arr_trailer_id, trailer_id_override, poster_url, fanart_url, \
     added_at, updated_at";

const DOWNLOAD_COLUMNS: &str = "media_id, profile_id, status, video_id, source, file_path, \
     file_bytes, duration_ms, reason, error_kind, attempts, next_attempt_at, updated_at";

/// Rows per multi-statement transaction chunk (keeps PostgreSQL round trips bounded).
const WRITE_CHUNK: usize = 500;

fn corrupt(what: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError::Corrupt(format!("{what}: {e}"))
}

fn json<T: serde::Serialize>(value: &T) -> StorageResult<String> {
    serde_json::to_string(value).map_err(|e| corrupt("json", e))
}

fn from_json<T: serde::de::DeserializeOwned>(row: &AnyRow, col: &str) -> StorageResult<T> {
    let text: String = get(row, col)?;
    serde_json::from_str(&text).map_err(|e| corrupt(col, e))
}

fn connection_row(row: &AnyRow) -> StorageResult<Connection> {
    let kind: String = get(row, "kind")?;
    Ok(Connection {
        id: get(row, "id")?,
        name: get(row, "name")?,
        kind: ConnectionKind::parse(&kind).ok_or_else(|| corrupt("connection kind", &kind))?,
        url: get(row, "url")?,
        api_key: Secret::new(get::<String>(row, "api_key")?),
        path_mappings: from_json::<Vec<ArrPathMapping>>(row, "path_mappings")?,
        monitor_new: flag(row, "monitor_new")?,
        enabled: flag(row, "enabled")?,
        last_sync_at: opt_ts(row, "last_sync_at")?,
        last_sync_error: get(row, "last_sync_error")?,
        last_sync_items: get(row, "last_sync_items")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

fn small(v: Option<i64>) -> Option<i32> {
    v.and_then(|v| i32::try_from(v).ok())
}

fn media_row(row: &AnyRow) -> StorageResult<MediaItem> {
    let kind: String = get(row, "kind")?;
    Ok(MediaItem {
        id: get(row, "id")?,
        connection_id: get(row, "connection_id")?,
        kind: MediaKind::parse(&kind).ok_or_else(|| corrupt("media kind", &kind))?,
        arr_id: get(row, "arr_id")?,
        ext_id: get(row, "ext_id")?,
        tmdb_id: get(row, "tmdb_id")?,
        imdb_id: get(row, "imdb_id")?,
        title: get(row, "title")?,
        original_title: get(row, "original_title")?,
        year: small(get(row, "year")?),
        language: get(row, "language")?,
        studio: get(row, "studio")?,
        overview: get(row, "overview")?,
        runtime_min: small(get(row, "runtime_min")?),
        tags: from_json(row, "tags")?,
        folder: get(row, "folder")?,
        media_files: from_json(row, "media_files")?,
        has_file: flag(row, "has_file")?,
        arr_monitored: flag(row, "arr_monitored")?,
        monitor: flag(row, "monitor")?,
        arr_trailer_id: get(row, "arr_trailer_id")?,
        trailer_id_override: get(row, "trailer_id_override")?,
        poster_url: get(row, "poster_url")?,
        fanart_url: get(row, "fanart_url")?,
        added_at: ts(row, "added_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

fn profile_row(row: &AnyRow) -> StorageResult<Profile> {
    Ok(Profile {
        id: get(row, "id")?,
        name: get(row, "name")?,
        enabled: flag(row, "enabled")?,
        priority: small(Some(get(row, "priority")?)).unwrap_or(0),
        filters: from_json(row, "filters")?,
        search: from_json(row, "search")?,
        output: from_json(row, "output")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

fn download_row(row: &AnyRow) -> StorageResult<DownloadRecord> {
    let status: String = get(row, "status")?;
    let source: Option<String> = get(row, "source")?;
    Ok(DownloadRecord {
        media_id: get(row, "media_id")?,
        profile_id: get(row, "profile_id")?,
        status: DownloadStatus::parse(&status)
            .ok_or_else(|| corrupt("download status", &status))?,
        video_id: get(row, "video_id")?,
        source: source.as_deref().and_then(CandidateSource::parse),
        file_path: get(row, "file_path")?,
        file_bytes: get(row, "file_bytes")?,
        duration_ms: get(row, "duration_ms")?,
        reason: get(row, "reason")?,
        error_kind: get(row, "error_kind")?,
        attempts: get(row, "attempts")?,
        next_attempt_at: opt_ts(row, "next_attempt_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

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

fn scan_row(row: &AnyRow) -> StorageResult<ScanRecord> {
    Ok(ScanRecord {
        media_id: get(row, "id")?,
        folder: get(row, "folder")?,
        status: get(row, "scan_status")?,
        state: get(row, "scan_state")?,
        scanned_at: opt_ts(row, "scanned_at")?,
    })
}

/// Binds the Arr-owned fields of a media row, in `ARR_FIELDS` order.
fn bind_arr_fields<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    m: &'q MediaItem,
    tags: String,
    media_files: String,
    fingerprint: &'q str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(m.arr_id)
        .bind(m.tmdb_id)
        .bind(m.imdb_id.as_deref())
        .bind(m.title.as_str())
        .bind(m.original_title.as_deref())
        .bind(m.year.map(i64::from))
        .bind(m.language.as_deref())
        .bind(m.studio.as_deref())
        .bind(m.overview.as_deref())
        .bind(m.runtime_min.map(i64::from))
        .bind(tags)
        .bind(m.folder.as_str())
        .bind(media_files)
        .bind(i64::from(m.has_file))
        .bind(i64::from(m.arr_monitored))
        .bind(m.arr_trailer_id.as_deref())
        .bind(m.poster_url.as_deref())
        .bind(m.fanart_url.as_deref())
        .bind(fingerprint)
        .bind(m.updated_at.millis())
}

const ARR_FIELDS: [&str; 20] = [
    "arr_id",
    "tmdb_id",
    "imdb_id",
    "title",
    "original_title",
    "year",
    "language",
    "studio",
    "overview",
    "runtime_min",
    "tags",
    "folder",
    "media_files",
    "has_file",
    "arr_monitored",
    "arr_trailer_id",
    "poster_url",
    "fanart_url",
    "fingerprint",
    "updated_at",
];

#[async_trait]
impl TrailerStore for Db {
    async fn insert_arr_connection(&self, c: &Connection) -> StorageResult<()> {
        sqlx::query(&format!(
            "INSERT INTO arr_connections ({CONNECTION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&c.id)
        .bind(&c.name)
        .bind(c.kind.as_str())
        .bind(&c.url)
        .bind(c.api_key.expose())
        .bind(json(&c.path_mappings)?)
        .bind(i64::from(c.monitor_new))
        .bind(i64::from(c.enabled))
        .bind(c.last_sync_at.map(|t| t.millis()))
        .bind(c.last_sync_error.as_deref())
        .bind(c.last_sync_items)
        .bind(c.created_at.millis())
        .bind(c.updated_at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn update_arr_connection(&self, c: &Connection) -> StorageResult<()> {
        sqlx::query(
            "UPDATE arr_connections SET name = $1, url = $2, api_key = $3, path_mappings = $4, \
             monitor_new = $5, enabled = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&c.name)
        .bind(&c.url)
        .bind(c.api_key.expose())
        .bind(json(&c.path_mappings)?)
        .bind(i64::from(c.monitor_new))
        .bind(i64::from(c.enabled))
        .bind(c.updated_at.millis())
        .bind(&c.id)
        .execute_found(self.pool())
        .await
    }

    async fn delete_arr_connection(&self, id: &str) -> StorageResult<()> {
        // Foreign keys cascade on PostgreSQL; SQLite may run without them, so delete explicitly.
        delete_with_children(
            self,
            &[
                "DELETE FROM media_events WHERE media_id IN (SELECT id FROM media WHERE connection_id = $1)",
                "DELETE FROM trailer_downloads WHERE media_id IN (SELECT id FROM media WHERE connection_id = $1)",
                "DELETE FROM media WHERE connection_id = $1",
            ],
            "DELETE FROM arr_connections WHERE id = $1",
            id,
        )
        .await
    }

    async fn arr_connections(&self) -> StorageResult<Vec<Connection>> {
        sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM arr_connections ORDER BY name"
        ))
        .all(self.pool(), connection_row)
        .await
    }

    async fn arr_connection(&self, id: &str) -> StorageResult<Connection> {
        sqlx::query(&format!(
            "SELECT {CONNECTION_COLUMNS} FROM arr_connections WHERE id = $1"
        ))
        .bind(id)
        .optional(self.pool(), connection_row)
        .await?
        .ok_or(StorageError::NotFound)
    }

    async fn record_arr_sync(&self, id: &str, outcome: &SyncOutcome) -> StorageResult<()> {
        // A failed sync keeps the last known item count.
        sqlx::query(
            "UPDATE arr_connections SET last_sync_at = $1, last_sync_error = $2, \
             last_sync_items = COALESCE($3, last_sync_items) WHERE id = $4",
        )
        .bind(outcome.at.millis())
        .bind(outcome.error.as_deref())
        .bind(outcome.items)
        .bind(id)
        .execute_found(self.pool())
        .await
    }

    async fn media_fingerprints(
        &self,
        connection_id: &str,
    ) -> StorageResult<HashMap<i64, (String, i64, String)>> {
        let rows = sqlx::query(
            "SELECT id, arr_id, ext_id, fingerprint FROM media WHERE connection_id = $1",
        )
        .bind(connection_id)
        .all(self.pool(), |row| {
            Ok((
                get::<i64>(row, "ext_id")?,
                (
                    get::<String>(row, "id")?,
                    get::<i64>(row, "arr_id")?,
                    get::<String>(row, "fingerprint")?,
                ),
            ))
        })
        .await?;
        Ok(rows.into_iter().collect())
    }

    async fn upsert_media(
        &self,
        inserts: &[(MediaItem, String)],
        updates: &[(MediaItem, String)],
    ) -> StorageResult<()> {
        let insert_sql = format!(
            "INSERT INTO media (id, connection_id, kind, ext_id, monitor, trailer_id_override, \
             added_at, {}) VALUES ({})",
            ARR_FIELDS.join(", "),
            crate::rows::placeholders(1, 7 + ARR_FIELDS.len())
        );
        let update_sql = format!(
            "UPDATE media SET {} WHERE id = ${}",
            ARR_FIELDS
                .iter()
                .enumerate()
                .map(|(i, f)| format!("{f} = ${}", i + 1))
                .collect::<Vec<_>>()
                .join(", "),
            ARR_FIELDS.len() + 1
        );
        for chunk in inserts.chunks(WRITE_CHUNK) {
            let mut tx = self.pool().begin().await.map_err(backend_err)?;
            for (m, fingerprint) in chunk {
                let q = sqlx::query(&insert_sql)
                    .bind(m.id.as_str())
                    .bind(m.connection_id.as_str())
                    .bind(m.kind.as_str())
                    .bind(m.ext_id)
                    .bind(i64::from(m.monitor))
                    .bind(m.trailer_id_override.as_deref())
                    .bind(m.added_at.millis());
                bind_arr_fields(q, m, json(&m.tags)?, json(&m.media_files)?, fingerprint)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend_err)?;
            }
            tx.commit().await.map_err(backend_err)?;
        }
        for chunk in updates.chunks(WRITE_CHUNK) {
            let mut tx = self.pool().begin().await.map_err(backend_err)?;
            for (m, fingerprint) in chunk {
                bind_arr_fields(
                    sqlx::query(&update_sql),
                    m,
                    json(&m.tags)?,
                    json(&m.media_files)?,
                    fingerprint,
                )
                .bind(m.id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            }
            tx.commit().await.map_err(backend_err)?;
        }
        Ok(())
    }

    async fn delete_media(&self, ids: &[String]) -> StorageResult<()> {
        for chunk in ids.chunks(crate::rows::IN_CHUNK) {
            let list = crate::rows::placeholders(1, chunk.len());
            let mut tx = self.pool().begin().await.map_err(backend_err)?;
            for table in ["media_events", "trailer_downloads"] {
                let sql = format!("DELETE FROM {table} WHERE media_id IN ({list})");
                crate::rows::bind_ids(sqlx::query(&sql), chunk)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend_err)?;
            }
            let sql = format!("DELETE FROM media WHERE id IN ({list})");
            crate::rows::bind_ids(sqlx::query(&sql), chunk)
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
            tx.commit().await.map_err(backend_err)?;
        }
        Ok(())
    }

    async fn list_media(
        &self,
        q: &MediaQuery,
        after: Option<&MediaCursor>,
    ) -> StorageResult<MediaListPage> {
        let page = PageRequest::new(q.limit, q.offset);
        // Only the filters that are set reach the SQL, so the unfiltered list (the common one)
        // counts an index and walks `media_title_order` (0007) in order, stopping after the page.
        let mut binds: Vec<Bind> = Vec::new();
        let mut conditions: Vec<String> = Vec::new();
        if let Some(kind) = q.kind {
            binds.push(Bind::Text(kind.as_str().to_string()));
            conditions.push(format!("m.kind = ${}", binds.len()));
        }
        if let Some(connection) = q.connection_id.as_deref() {
            binds.push(Bind::Text(connection.to_string()));
            conditions.push(format!("m.connection_id = ${}", binds.len()));
        }
        if let Some(search) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            binds.push(Bind::Text(format!(
                "%{}%",
                escape_like(&search.to_lowercase())
            )));
            let n = binds.len();
            conditions.push(format!(
                "(LOWER(m.title) LIKE ${n} ESCAPE '\\' \
                 OR LOWER(COALESCE(m.original_title, '')) LIKE ${n} ESCAPE '\\')"
            ));
        }
        if let Some(monitored) = q.monitored {
            binds.push(Bind::Int(i64::from(monitored)));
            conditions.push(format!("m.monitor = ${}", binds.len()));
        }
        // An uncorrelated `IN` over `trailer_downloads_status_media` (0007): the matching ids are
        // read once per query from the index, instead of one probe per media row. The page
        // tests `(m.id || '')` so SQLite keeps walking the title index (a bare `m.id IN` makes it
        // drive from the list and sort every match: 12 ms instead of 2.6 ms at 10k items).
        let mut page_trailer = None;
        let statuses = match q.trailer.as_deref() {
            Some("missing") => Some("'missing', 'failed', 'notfound'"),
            Some("has") => Some("'existing', 'downloaded'"),
            Some("failed") => Some("'failed'"),
            _ => None,
        };
        if let Some(statuses) = statuses {
            let ids = format!(
                "IN (SELECT d.media_id FROM trailer_downloads d WHERE d.status IN ({statuses}))"
            );
            conditions.push(format!("m.id {ids}"));
            page_trailer = Some(format!("(m.id || '') {ids}"));
        }
        let total = Bind::all(
            sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM media m {}",
                where_clause(&conditions)
            )),
            &binds,
        )
        .count(self.pool())
        .await?;

        // Keyset: the first term is an index range start on both backends; the rest skips the
        // rows of the cursor's own title up to and including the cursor's item.
        let mut page_binds = binds;
        let mut page_conditions = conditions;
        if let Some(t) = page_trailer {
            // Same rows, only the shape the planner sees differs (see above).
            page_conditions.pop();
            page_conditions.push(t);
        }
        let offset = match after {
            Some(c) => {
                let n = page_binds.len();
                page_binds.push(Bind::Text(c.title.clone()));
                page_binds.push(Bind::Int(c.year));
                page_binds.push(Bind::Text(c.id.clone()));
                page_conditions.push(format!(
                    "LOWER(m.title) >= ${a} AND (LOWER(m.title) > ${a} \
                     OR COALESCE(m.year, 0) > ${b} OR (COALESCE(m.year, 0) = ${b} AND m.id > ${c}))",
                    a = n + 1,
                    b = n + 2,
                    c = n + 3
                ));
                0
            }
            None => page.offset,
        };
        // One row more than the page tells whether a next page exists.
        let sql = format!(
            "SELECT {}, m.scan_status, m.scan_state, m.scanned_at, \
             LOWER(m.title) AS sort_title, COALESCE(m.year, 0) AS sort_year \
             FROM media m {} ORDER BY LOWER(m.title), COALESCE(m.year, 0), m.id LIMIT {} OFFSET {}",
            MEDIA_COLUMNS
                .split(", ")
                .map(|c| format!("m.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
            where_clause(&page_conditions),
            u64::from(page.limit) + 1,
            offset
        );
        let mut rows = Bind::all(sqlx::query(&sql), &page_binds)
            .all(self.pool(), |row| {
                Ok((
                    media_row(row)?,
                    scan_row(row)?,
                    MediaCursor {
                        title: get(row, "sort_title")?,
                        year: get(row, "sort_year")?,
                        id: get(row, "id")?,
                    },
                ))
            })
            .await?;
        let more = rows.len() > page.limit as usize;
        rows.truncate(page.limit as usize);
        let next = if more {
            rows.last().map(|(_, _, c)| c.clone())
        } else {
            None
        };
        let (items, scans) = rows.into_iter().map(|(m, s, _)| (m, s)).unzip();
        Ok(MediaListPage {
            items,
            scans,
            total,
            next,
        })
    }

    async fn all_media(&self) -> StorageResult<Vec<MediaItem>> {
        sqlx::query(&format!("SELECT {MEDIA_COLUMNS} FROM media ORDER BY id"))
            .all(self.pool(), media_row)
            .await
    }

    async fn plan_media(&self) -> StorageResult<(Vec<MediaItem>, Vec<ScanRecord>)> {
        // The preview reads the whole library: the long texts no plan looks at stay on disk.
        let columns = MEDIA_COLUMNS
            .split(", ")
            .map(|c| match c {
                "overview" | "poster_url" | "fanart_url" | "imdb_id" => {
                    format!("CAST(NULL AS TEXT) AS {c}")
                }
                c => c.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {columns}, scan_status, CAST(NULL AS TEXT) AS scan_state, scanned_at \
             FROM media ORDER BY id"
        ))
        .all(self.pool(), |row| Ok((media_row(row)?, scan_row(row)?)))
        .await?;
        Ok(rows.into_iter().unzip())
    }

    async fn media(&self, id: &str) -> StorageResult<MediaItem> {
        sqlx::query(&format!("SELECT {MEDIA_COLUMNS} FROM media WHERE id = $1"))
            .bind(id)
            .optional(self.pool(), media_row)
            .await?
            .ok_or(StorageError::NotFound)
    }

    async fn set_media_monitor(&self, id: &str, monitor: bool) -> StorageResult<()> {
        sqlx::query("UPDATE media SET monitor = $1 WHERE id = $2")
            .bind(i64::from(monitor))
            .bind(id)
            .execute_found(self.pool())
            .await
    }

    async fn set_media_override(&self, id: &str, video_id: Option<&str>) -> StorageResult<()> {
        sqlx::query("UPDATE media SET trailer_id_override = $1 WHERE id = $2")
            .bind(video_id)
            .bind(id)
            .execute_found(self.pool())
            .await
    }

    async fn scan_records(&self) -> StorageResult<Vec<ScanRecord>> {
        sqlx::query(
            "SELECT id, folder, scan_status, scan_state, scanned_at FROM media ORDER BY folder",
        )
        .all(self.pool(), scan_row)
        .await
    }

    async fn save_trailer_writes(&self, w: &TrailerWrites) -> StorageResult<()> {
        let mut tx = self.pool().begin().await.map_err(backend_err)?;
        for d in &w.downloads {
            upsert_download(d)
                .execute(&mut *tx)
                .await
                .map_err(backend_err)?;
        }
        for e in &w.events {
            insert_event(
                &e.media_id,
                e.profile_id.as_deref(),
                &e.kind,
                &e.message,
                e.at,
            )
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        for r in &w.scans {
            sqlx::query(
                "UPDATE media SET scan_status = $1, scan_state = $2, scanned_at = $3 WHERE id = $4",
            )
            .bind(r.status.as_deref())
            .bind(r.state.as_deref())
            .bind(r.scanned_at.map(|t| t.millis()))
            .bind(&r.media_id)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
        }
        tx.commit().await.map_err(backend_err)
    }

    async fn trailer_profiles(&self) -> StorageResult<Vec<Profile>> {
        sqlx::query(
            "SELECT id, name, enabled, priority, filters, search, output, created_at, updated_at \
             FROM trailer_profiles ORDER BY priority DESC, name",
        )
        .all(self.pool(), profile_row)
        .await
    }

    async fn insert_trailer_profile(&self, p: &Profile) -> StorageResult<()> {
        sqlx::query(
            "INSERT INTO trailer_profiles (id, name, enabled, priority, filters, search, output, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&p.id)
        .bind(&p.name)
        .bind(i64::from(p.enabled))
        .bind(i64::from(p.priority))
        .bind(json(&p.filters)?)
        .bind(json(&p.search)?)
        .bind(json(&p.output)?)
        .bind(p.created_at.millis())
        .bind(p.updated_at.millis())
        .execute(self.pool())
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn update_trailer_profile(&self, p: &Profile) -> StorageResult<()> {
        sqlx::query(
            "UPDATE trailer_profiles SET name = $1, enabled = $2, priority = $3, filters = $4, \
             search = $5, output = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&p.name)
        .bind(i64::from(p.enabled))
        .bind(i64::from(p.priority))
        .bind(json(&p.filters)?)
        .bind(json(&p.search)?)
        .bind(json(&p.output)?)
        .bind(p.updated_at.millis())
        .bind(&p.id)
        .execute_found(self.pool())
        .await
    }

    async fn delete_trailer_profile(&self, id: &str) -> StorageResult<()> {
        delete_with_children(
            self,
            &["DELETE FROM trailer_downloads WHERE profile_id = $1"],
            "DELETE FROM trailer_profiles WHERE id = $1",
            id,
        )
        .await
    }

    async fn all_downloads(&self) -> StorageResult<Vec<DownloadRecord>> {
        sqlx::query(&format!("SELECT {DOWNLOAD_COLUMNS} FROM trailer_downloads"))
            .all(self.pool(), download_row)
            .await
    }

    async fn media_of(&self, ids: &[String]) -> StorageResult<Vec<MediaItem>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT {MEDIA_COLUMNS} FROM media WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            out.extend(
                bind_ids(sqlx::query(&sql), chunk)
                    .all(self.pool(), media_row)
                    .await?,
            );
        }
        Ok(out)
    }

    async fn downloads_of(&self, media_ids: &[String]) -> StorageResult<Vec<DownloadRecord>> {
        let mut out = Vec::new();
        for chunk in media_ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT {DOWNLOAD_COLUMNS} FROM trailer_downloads WHERE media_id IN ({})",
                placeholders(1, chunk.len())
            );
            out.extend(
                bind_ids(sqlx::query(&sql), chunk)
                    .all(self.pool(), download_row)
                    .await?,
            );
        }
        Ok(out)
    }

    async fn scan_records_of(&self, media_ids: &[String]) -> StorageResult<Vec<ScanRecord>> {
        let mut out = Vec::new();
        for chunk in media_ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT id, folder, scan_status, scan_state, scanned_at FROM media WHERE id IN ({})",
                placeholders(1, chunk.len())
            );
            out.extend(
                bind_ids(sqlx::query(&sql), chunk)
                    .all(self.pool(), scan_row)
                    .await?,
            );
        }
        Ok(out)
    }

    async fn media_downloads(&self, media_id: &str) -> StorageResult<Vec<DownloadRecord>> {
        sqlx::query(&format!(
            "SELECT {DOWNLOAD_COLUMNS} FROM trailer_downloads WHERE media_id = $1"
        ))
        .bind(media_id)
        .all(self.pool(), download_row)
        .await
    }

    async fn save_download(&self, d: &DownloadRecord) -> StorageResult<()> {
        upsert_download(d)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(())
    }

    async fn delete_download(&self, media_id: &str, profile_id: &str) -> StorageResult<()> {
        sqlx::query("DELETE FROM trailer_downloads WHERE media_id = $1 AND profile_id = $2")
            .bind(media_id)
            .bind(profile_id)
            .execute(self.pool())
            .await
            .map_err(backend_err)?;
        Ok(())
    }

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

// Portable upsert: both backends support ON CONFLICT … DO UPDATE.
static UPSERT_DOWNLOAD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO trailer_downloads ({DOWNLOAD_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (media_id, profile_id) DO UPDATE SET status = $3, video_id = $4, \
         source = $5, file_path = $6, file_bytes = $7, duration_ms = $8, reason = $9, \
         error_kind = $10, attempts = $11, next_attempt_at = $12, updated_at = $13"
    )
});

fn upsert_download(d: &DownloadRecord) -> Query<'_, Any, AnyArguments<'_>> {
    sqlx::query(UPSERT_DOWNLOAD.as_str())
        .bind(&d.media_id)
        .bind(&d.profile_id)
        .bind(d.status.as_str())
        .bind(d.video_id.as_deref())
        .bind(d.source.map(|s| s.as_str()))
        .bind(d.file_path.as_deref())
        .bind(d.file_bytes)
        .bind(d.duration_ms)
        .bind(d.reason.as_deref())
        .bind(d.error_kind.as_deref())
        .bind(d.attempts)
        .bind(d.next_attempt_at.map(|t| t.millis()))
        .bind(d.updated_at.millis())
}

fn insert_event<'a>(
    media_id: &'a str,
    profile_id: Option<&'a str>,
    kind: &'a str,
    message: &'a str,
    at: Timestamp,
) -> Query<'a, Any, AnyArguments<'a>> {
    sqlx::query(
        "INSERT INTO media_events (media_id, profile_id, at, kind, message) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(media_id)
    .bind(profile_id)
    .bind(at.millis())
    .bind(kind)
    .bind(message)
}

/// Runs the `children` deletes, then the `parent` one, all bound to `id`, in one transaction;
/// `NotFound` (and nothing deleted) when the parent row is not there.
async fn delete_with_children(
    db: &Db,
    children: &[&str],
    parent: &str,
    id: &str,
) -> StorageResult<()> {
    let mut tx = db.pool().begin().await.map_err(backend_err)?;
    for sql in children {
        sqlx::query(sql)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend_err)?;
    }
    let done = sqlx::query(parent)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(backend_err)?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    tx.commit().await.map_err(backend_err)
}
