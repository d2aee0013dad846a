//! StreamVault's PostgreSQL database, read in one read-only transaction.

use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{ConnectOptions, Connection, PgConnection, Row};
use std::str::FromStr;
use tapearr_core::import::ImportError;
use tapearr_core::import::streamvault::{Snapshot, SourceStreamer};

const APP: &str = "StreamVault";

/// Tables counted for the report but not imported by this version.
const NOT_IMPORTED: [&str; 5] = [
    "recordings",
    "notification_settings",
    "push_subscriptions",
    "categories",
    "favorite_categories",
];

pub async fn read(url: &str) -> Result<Snapshot, ImportError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(ImportError::Unreadable(
            "expected a postgres:// URL to StreamVault's database".into(),
        ));
    }
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| ImportError::Unreadable(crate::redact(&e.to_string())))?
        .disable_statement_logging();
    let mut conn = PgConnection::connect_with(&options)
        .await
        .map_err(|e| ImportError::Unreadable(crate::redact(&e.to_string())))?;
    let snapshot = read_tables(&mut conn).await;
    let _ = conn.close().await;
    snapshot
}

async fn read_tables(conn: &mut PgConnection) -> Result<Snapshot, ImportError> {
    let mut tx = conn.begin().await.map_err(unreadable)?;
    sqlx::query("SET TRANSACTION READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(unreadable)?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(unreadable)?;
    let has = |t: &str| tables.iter().any(|n| n == t);
    for needed in ["streamers", "streams", "recordings"] {
        if !has(needed) {
            return Err(ImportError::NotThatApp {
                app: APP,
                why: format!("it has no `{needed}` table"),
            });
        }
    }
    let settings_join = if has("streamer_recording_settings") {
        "LEFT JOIN streamer_recording_settings r ON r.streamer_id = s.id"
    } else {
        "LEFT JOIN (SELECT NULL::int AS streamer_id, NULL::boolean AS enabled, NULL::text AS quality, \
         NULL::text AS supported_codecs) r ON false"
    };
    let sql = format!(
        "SELECT s.id, s.twitch_id, s.username, s.description, \
         COALESCE(s.original_profile_image_url, s.profile_image_url) AS avatar, \
         COALESCE(s.original_offline_image_url, s.offline_image_url) AS offline, \
         s.category_name, s.is_favorite, s.auto_record, s.is_test_data, \
         r.enabled AS rec_enabled, r.quality, r.supported_codecs \
         FROM streamers s {settings_join} ORDER BY s.id"
    );
    let streamers = sqlx::query(&sql)
        .fetch_all(&mut *tx)
        .await
        .map_err(schema)?
        .iter()
        .map(streamer)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(schema)?;
    let global_codecs = if has("global_settings") {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT supported_codecs FROM global_settings ORDER BY id LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(schema)?
        .flatten()
    } else {
        None
    };
    let mut not_imported = Vec::new();
    for table in NOT_IMPORTED.iter().filter(|t| has(t)) {
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(schema)?;
        not_imported.push(((*table).to_string(), count));
    }
    // Nothing was written; the rollback just ends the read-only transaction.
    tx.rollback().await.map_err(unreadable)?;
    Ok(Snapshot {
        streamers,
        global_codecs,
        not_imported,
    })
}

fn streamer(r: &PgRow) -> Result<SourceStreamer, sqlx::Error> {
    Ok(SourceStreamer {
        id: i64::from(r.try_get::<i32, _>("id")?),
        twitch_id: r.try_get("twitch_id")?,
        username: r.try_get("username")?,
        description: r.try_get("description")?,
        profile_image_url: r.try_get("avatar")?,
        offline_image_url: r.try_get("offline")?,
        category_name: r.try_get("category_name")?,
        is_favorite: r
            .try_get::<Option<bool>, _>("is_favorite")?
            .unwrap_or(false),
        auto_record: r
            .try_get::<Option<bool>, _>("auto_record")?
            .unwrap_or(false),
        is_test_data: r
            .try_get::<Option<bool>, _>("is_test_data")?
            .unwrap_or(false),
        recording_enabled: r.try_get("rec_enabled")?,
        quality: r.try_get("quality")?,
        codecs: r.try_get("supported_codecs")?,
    })
}

fn unreadable(e: sqlx::Error) -> ImportError {
    ImportError::Unreadable(crate::redact(&e.to_string()))
}

fn schema(e: sqlx::Error) -> ImportError {
    ImportError::NotThatApp {
        app: APP,
        why: e.to_string(),
    }
}
