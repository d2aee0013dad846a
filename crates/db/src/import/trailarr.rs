//! Trailarr's SQLite database, opened read-only (`mode=ro`, `PRAGMA query_only`).

use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection};
use std::path::Path;
use tapearr_core::import::ImportError;
use tapearr_core::import::trailarr::{
    Snapshot, SourceConnection, SourceDownload, SourceMedia, SourcePathMapping, SourceProfile,
};
use tapearr_core::secret::Secret;
use tapearr_core::time::Timestamp;

const APP: &str = "Trailarr";

pub async fn read(db_file: &Path) -> Result<Snapshot, ImportError> {
    if !db_file.is_file() {
        return Err(ImportError::Unreadable(format!(
            "{} is not a file",
            db_file.display()
        )));
    }
    let mut conn = SqliteConnectOptions::new()
        .filename(db_file)
        .read_only(true)
        .create_if_missing(false)
        .disable_statement_logging()
        .connect()
        .await
        .map_err(|e| ImportError::Unreadable(format!("{}: {e}", db_file.display())))?;
    let snapshot = read_tables(&mut conn).await;
    let _ = conn.close().await;
    snapshot
}

async fn read_tables(conn: &mut SqliteConnection) -> Result<Snapshot, ImportError> {
    sqlx::query("PRAGMA query_only = ON")
        .execute(&mut *conn)
        .await
        .map_err(unreadable)?;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut *conn)
            .await
            .map_err(|e| ImportError::NotThatApp {
                app: APP,
                why: e.to_string(),
            })?;
    for needed in ["connection", "media", "trailerprofile", "download"] {
        if !tables.iter().any(|t| t == needed) {
            return Err(ImportError::NotThatApp {
                app: APP,
                why: format!("it has no `{needed}` table"),
            });
        }
    }
    let has = |t: &str| tables.iter().any(|n| n == t);
    let connections =
        sqlx::query("SELECT id, name, arr_type, url, api_key, monitor FROM connection ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .map_err(schema)?
            .iter()
            .map(|r| {
                Ok(SourceConnection {
                    id: r.try_get("id")?,
                    name: r.try_get::<Option<String>, _>("name")?.unwrap_or_default(),
                    arr_type: r
                        .try_get::<Option<String>, _>("arr_type")?
                        .unwrap_or_default(),
                    url: r.try_get::<Option<String>, _>("url")?.unwrap_or_default(),
                    api_key: Secret::new(
                        r.try_get::<Option<String>, _>("api_key")?
                            .unwrap_or_default(),
                    ),
                    monitor: r
                        .try_get::<Option<String>, _>("monitor")?
                        .unwrap_or_default(),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(schema)?;
    let path_mappings = if has("pathmapping") {
        sqlx::query("SELECT connection_id, path_from, path_to FROM pathmapping ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .map_err(schema)?
            .iter()
            .map(|r| {
                Ok(SourcePathMapping {
                    connection_id: r.try_get("connection_id")?,
                    path_from: r.try_get("path_from")?,
                    path_to: r.try_get("path_to")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(schema)?
    } else {
        Vec::new()
    };
    let profile_sql = if has("customfilter") {
        "SELECT p.*, c.filter_name AS profile_name, \
         (SELECT COUNT(*) FROM filter f WHERE f.customfilter_id = p.customfilter_id) AS filter_count \
         FROM trailerprofile p LEFT JOIN customfilter c ON c.id = p.customfilter_id ORDER BY p.id"
    } else {
        "SELECT p.*, NULL AS profile_name, 0 AS filter_count FROM trailerprofile p ORDER BY p.id"
    };
    let profiles = sqlx::query(profile_sql)
        .fetch_all(&mut *conn)
        .await
        .map_err(schema)?
        .iter()
        .map(profile)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(schema)?;
    let media = sqlx::query("SELECT * FROM media ORDER BY id")
        .fetch_all(&mut *conn)
        .await
        .map_err(schema)?
        .iter()
        .map(media)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(schema)?;
    let downloads = sqlx::query(
        "SELECT media_id, profile_id, path, file_name, youtube_id, file_exists, \
         CAST(strftime('%s', added_at) AS INTEGER) AS added_s FROM download ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(schema)?
    .iter()
    .map(|r| {
        Ok(SourceDownload {
            media_id: r.try_get("media_id")?,
            profile_id: r
                .try_get::<Option<i64>, _>("profile_id")?
                .unwrap_or_default(),
            path: r.try_get::<Option<String>, _>("path")?.unwrap_or_default(),
            file_name: r
                .try_get::<Option<String>, _>("file_name")?
                .unwrap_or_default(),
            youtube_id: r
                .try_get::<Option<String>, _>("youtube_id")?
                .unwrap_or_default(),
            file_exists: r
                .try_get::<Option<bool>, _>("file_exists")?
                .unwrap_or(false),
            added_at: r
                .try_get::<Option<i64>, _>("added_s")?
                .map(|s| Timestamp(s.saturating_mul(1000))),
        })
    })
    .collect::<Result<_, sqlx::Error>>()
    .map_err(schema)?;
    Ok(Snapshot {
        connections,
        path_mappings,
        profiles,
        media,
        downloads,
    })
}

fn profile(r: &SqliteRow) -> Result<SourceProfile, sqlx::Error> {
    let text = |c: &str| -> Result<String, sqlx::Error> {
        Ok(r.try_get::<Option<String>, _>(c)?.unwrap_or_default())
    };
    let flag = |c: &str| -> Result<bool, sqlx::Error> {
        Ok(r.try_get::<Option<bool>, _>(c)?.unwrap_or(false))
    };
    let int = |c: &str, d: i64| -> Result<i64, sqlx::Error> {
        Ok(r.try_get::<Option<i64>, _>(c)?.unwrap_or(d))
    };
    Ok(SourceProfile {
        id: r.try_get("id")?,
        name: r.try_get("profile_name")?,
        filter_count: int("filter_count", 0)?,
        enabled: flag("enabled")?,
        priority: int("priority", 0)?,
        file_format: text("file_format")?,
        file_name: text("file_name")?,
        folder_enabled: flag("folder_enabled")?,
        folder_name: text("folder_name")?,
        embed_metadata: flag("embed_metadata")?,
        remove_silence: flag("remove_silence")?,
        audio_format: text("audio_format")?,
        audio_volume_level: int("audio_volume_level", 100)?,
        video_format: text("video_format")?,
        video_resolution: int("video_resolution", 1080)?,
        subtitles_enabled: flag("subtitles_enabled")?,
        subtitles_language: text("subtitles_language")?,
        search_query: text("search_query")?,
        min_duration: int("min_duration", 30)?,
        max_duration: int("max_duration", 600)?,
        always_search: flag("always_search")?,
        include_words: text("include_words")?,
        exclude_words: text("exclude_words")?,
        ytdlp_extra_options: text("ytdlp_extra_options")?,
    })
}

fn media(r: &SqliteRow) -> Result<SourceMedia, sqlx::Error> {
    Ok(SourceMedia {
        id: r.try_get("id")?,
        connection_id: r.try_get("connection_id")?,
        arr_id: r.try_get::<Option<i64>, _>("arr_id")?.unwrap_or_default(),
        // Before Trailarr 0.3 movies and series had their own tables; `media` holds both.
        is_movie: r
            .try_get::<Option<bool>, _>("is_movie")
            .ok()
            .flatten()
            .unwrap_or(true),
        title: r.try_get::<Option<String>, _>("title")?.unwrap_or_default(),
        year: r.try_get("year")?,
        language: r.try_get("language")?,
        overview: r.try_get("overview")?,
        runtime: r.try_get("runtime")?,
        youtube_trailer_id: r.try_get("youtube_trailer_id")?,
        folder_path: r.try_get("folder_path")?,
        imdb_id: r.try_get("imdb_id")?,
        txdb_id: r
            .try_get::<Option<String>, _>("txdb_id")?
            .unwrap_or_default(),
        poster_url: r.try_get("poster_url")?,
        fanart_url: r.try_get("fanart_url")?,
        monitor: r.try_get::<Option<bool>, _>("monitor")?.unwrap_or(false),
        arr_monitored: r
            .try_get::<Option<bool>, _>("arr_monitored")?
            .unwrap_or(false),
    })
}

fn unreadable(e: sqlx::Error) -> ImportError {
    ImportError::Unreadable(e.to_string())
}

/// A table is there but a column is missing or of another type: not a Trailarr we know.
fn schema(e: sqlx::Error) -> ImportError {
    ImportError::NotThatApp {
        app: APP,
        why: e.to_string(),
    }
}
