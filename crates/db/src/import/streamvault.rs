//! StreamVault's PostgreSQL database, read in one read-only transaction.

use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{ConnectOptions, Connection, PgConnection, Row};
use std::str::FromStr;
use tapearr_core::import::ImportError;
use tapearr_core::import::streamvault::{
    Snapshot, SourceNotifications, SourceRecording, SourceStreamEvent, SourceStreamer,
};
use tapearr_core::secret::Secret;

const APP: &str = "StreamVault";

/// Epoch milliseconds of a `TIMESTAMPTZ` column (NULL stays NULL).
fn ms(column: &str) -> String {
    format!("(EXTRACT(EPOCH FROM {column}) * 1000)::bigint")
}

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
         NULL::text AS supported_codecs, NULL::int AS max_streams, NULL::text AS cleanup_policy, \
         NULL::boolean AS use_global_cleanup_policy) r ON false"
    };
    let sql = format!(
        "SELECT s.id, s.twitch_id, s.username, s.description, \
         COALESCE(s.original_profile_image_url, s.profile_image_url) AS avatar, \
         COALESCE(s.original_offline_image_url, s.offline_image_url) AS offline, \
         s.category_name, s.is_favorite, s.auto_record, s.is_test_data, \
         r.enabled AS rec_enabled, r.quality, r.supported_codecs, r.max_streams, \
         r.cleanup_policy, r.use_global_cleanup_policy \
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
    // Columns these tables grew over StreamVault's versions are read from a JSON row, so an
    // older database without some of them still imports.
    let global = if has("global_settings") {
        json_row(
            &mut tx,
            "SELECT to_jsonb(g)::text FROM global_settings g ORDER BY id LIMIT 1",
        )
        .await?
    } else {
        serde_json::Value::Null
    };
    let settings = if has("recording_settings") {
        json_row(
            &mut tx,
            "SELECT to_jsonb(r)::text FROM recording_settings r ORDER BY id LIMIT 1",
        )
        .await?
    } else {
        serde_json::Value::Null
    };
    let recordings = sqlx::query(&format!(
        "SELECT r.id, s.streamer_id, r.stream_id, r.status, COALESCE(r.path, s.recording_path) AS path, \
         r.duration, {} AS start_ms, {} AS end_ms, s.title, s.category_name, s.twitch_stream_id \
         FROM recordings r JOIN streams s ON s.id = r.stream_id ORDER BY r.id",
        ms("COALESCE(r.start_time, s.started_at)"),
        ms("COALESCE(r.end_time, s.ended_at)")
    ))
    .fetch_all(&mut *tx)
    .await
    .map_err(schema)?
    .iter()
    .map(recording)
    .collect::<Result<_, sqlx::Error>>()
    .map_err(schema)?;
    let stream_events = if has("stream_events") {
        sqlx::query(&format!(
            "SELECT stream_id, event_type, title, category_name, {} AS at_ms FROM stream_events \
             WHERE stream_id IS NOT NULL AND timestamp IS NOT NULL ORDER BY timestamp, id",
            ms("timestamp")
        ))
        .fetch_all(&mut *tx)
        .await
        .map_err(schema)?
        .iter()
        .map(stream_event)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(schema)?
    } else {
        Vec::new()
    };
    let favourite_categories = if has("favorite_categories") && has("categories") {
        sqlx::query_scalar(
            "SELECT DISTINCT c.name::text FROM favorite_categories f \
             JOIN categories c ON c.id = f.category_id ORDER BY 1",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(schema)?
    } else {
        Vec::new()
    };
    let push_subscriptions = if has("push_subscriptions") {
        count(
            &mut tx,
            "SELECT COUNT(*) FROM push_subscriptions WHERE is_active",
        )
        .await?
    } else {
        0
    };
    let notification_settings = if has("notification_settings") {
        count(&mut tx, "SELECT COUNT(*) FROM notification_settings").await?
    } else {
        0
    };
    // Nothing was written; the rollback just ends the read-only transaction.
    tx.rollback().await.map_err(unreadable)?;
    Ok(Snapshot {
        streamers,
        global_codecs: text(&global, "supported_codecs"),
        recordings,
        stream_events,
        output_directory: text(&settings, "output_directory"),
        global_cleanup_policy: text(&settings, "cleanup_policy"),
        global_max_streams: settings
            .get("max_streams_per_streamer")
            .and_then(serde_json::Value::as_i64),
        notifications: notifications(&global),
        push_subscriptions,
        favourite_categories,
        notification_settings,
    })
}

async fn json_row(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    sql: &str,
) -> Result<serde_json::Value, ImportError> {
    let row: Option<String> = sqlx::query_scalar(sql)
        .fetch_optional(&mut **tx)
        .await
        .map_err(schema)?;
    Ok(row
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or(serde_json::Value::Null))
}

async fn count(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    sql: &str,
) -> Result<i64, ImportError> {
    sqlx::query_scalar(sql)
        .fetch_one(&mut **tx)
        .await
        .map_err(schema)
}

fn text(row: &serde_json::Value, key: &str) -> Option<String> {
    row.get(key)
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
}

/// StreamVault's defaults for a switch its database lacks (an older version) or left NULL.
fn flag(row: &serde_json::Value, key: &str, default: bool) -> bool {
    row.get(key)
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(default)
}

fn notifications(global: &serde_json::Value) -> Option<SourceNotifications> {
    let url = text(global, "notification_url")?;
    if url.trim().is_empty() {
        return None;
    }
    Some(SourceNotifications {
        url: Secret::new(url),
        enabled: flag(global, "notifications_enabled", true),
        online: flag(global, "notify_online_global", true),
        offline: flag(global, "notify_offline_global", true),
        update: flag(global, "notify_update_global", true),
        favourite_category: flag(global, "notify_favorite_category_global", true),
        recording_started: flag(global, "notify_recording_started", false),
        recording_failed: flag(global, "notify_recording_failed", true),
        recording_completed: flag(global, "notify_recording_completed", false),
    })
}

fn recording(r: &PgRow) -> Result<SourceRecording, sqlx::Error> {
    Ok(SourceRecording {
        id: i64::from(r.try_get::<i32, _>("id")?),
        streamer_id: i64::from(r.try_get::<i32, _>("streamer_id")?),
        stream_id: i64::from(r.try_get::<i32, _>("stream_id")?),
        status: r.try_get("status")?,
        path: r.try_get("path")?,
        duration_secs: r.try_get::<Option<i32>, _>("duration")?.map(i64::from),
        start_ms: r.try_get::<Option<i64>, _>("start_ms")?.unwrap_or(0),
        end_ms: r.try_get("end_ms")?,
        title: r.try_get("title")?,
        category: r.try_get("category_name")?,
        twitch_stream_id: r.try_get("twitch_stream_id")?,
    })
}

fn stream_event(r: &PgRow) -> Result<SourceStreamEvent, sqlx::Error> {
    Ok(SourceStreamEvent {
        stream_id: i64::from(r.try_get::<i32, _>("stream_id")?),
        event_type: r.try_get("event_type")?,
        title: r.try_get("title")?,
        category: r.try_get("category_name")?,
        at_ms: r.try_get("at_ms")?,
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
        max_streams: r.try_get::<Option<i32>, _>("max_streams")?.map(i64::from),
        cleanup_policy: r.try_get("cleanup_policy")?,
        use_global_cleanup_policy: r
            .try_get::<Option<bool>, _>("use_global_cleanup_policy")?
            .unwrap_or(true),
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
