//! Trailers: Arr connections, media, profiles, download records and item history. The row
//! mapping several of them read lives here.

mod arr_connections;
mod downloads;
mod media;
mod media_events;
mod profiles;

use crate::rows::{corrupt, from_json};
use crate::rows::{flag, get, opt_ts, ts};
use sqlx::Any;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use tapearr_core::storage::StorageResult;
use tapearr_core::time::Timestamp;
use tapearr_core::trailers::model::{MediaItem, MediaKind, ScanRecord};

pub(super) const MEDIA_COLUMNS: &str = "id, connection_id, kind, arr_id, ext_id, tmdb_id, imdb_id, title, \
     original_title, year, language, studio, overview, runtime_min, tags, folder, media_files, has_file, \
     arr_monitored, monitor, arr_trailer_id, trailer_id_override, poster_url, fanart_url, \
     server_trailer, seasons, added_at, updated_at";

pub(super) fn small(v: Option<i64>) -> Option<i32> {
    v.and_then(|v| i32::try_from(v).ok())
}

pub(super) fn media_row(row: &AnyRow) -> StorageResult<MediaItem> {
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
        server_trailer: get(row, "server_trailer")?,
        seasons: from_json(row, "seasons")?,

        added_at: ts(row, "added_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(super) fn scan_row(row: &AnyRow) -> StorageResult<ScanRecord> {
    Ok(ScanRecord {
        media_id: get(row, "id")?,
        folder: get(row, "folder")?,
        status: get(row, "scan_status")?,
        state: get(row, "scan_state")?,
        scanned_at: opt_ts(row, "scanned_at")?,
    })
}

pub(super) fn insert_event<'a>(
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
