//! Movies and series synced from the Arrs.

use super::{MEDIA_COLUMNS, media_row, scan_row};
use crate::rows::{
    Bind, IN_CHUNK, bind_ids, escape_like, get, placeholders, to_json, where_clause,
};
use crate::{Db, RowsExt, backend_err};
use async_trait::async_trait;
use std::collections::HashMap;
use tapearr_core::storage::{MediaStore, PageRequest, StorageResult};
use tapearr_core::trailers::model::{
    MediaCursor, MediaItem, MediaListPage, MediaQuery, ScanRecord,
};

/// Rows per multi-statement transaction chunk (keeps PostgreSQL round trips bounded).
const WRITE_CHUNK: usize = 500;

/// Binds the Arr-owned fields of a media row, in `ARR_FIELDS` order.
fn bind_arr_fields<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    m: &'q MediaItem,
    tags: String,
    media_files: String,
    seasons: String,
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
        .bind(m.server_trailer.as_deref())
        .bind(seasons)
        .bind(fingerprint)
        .bind(m.updated_at.millis())
}

const ARR_FIELDS: [&str; 22] = [
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
    "server_trailer",
    "seasons",
    "fingerprint",
    "updated_at",
];

#[async_trait]
impl MediaStore for Db {
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
                bind_arr_fields(
                    q,
                    m,
                    to_json(&m.tags)?,
                    to_json(&m.media_files)?,
                    to_json(&m.seasons)?,
                    fingerprint,
                )
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
                    to_json(&m.tags)?,
                    to_json(&m.media_files)?,
                    to_json(&m.seasons)?,
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

    async fn media(&self, id: &str) -> StorageResult<Option<MediaItem>> {
        sqlx::query(&format!("SELECT {MEDIA_COLUMNS} FROM media WHERE id = $1"))
            .bind(id)
            .optional(self.pool(), media_row)
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
}
