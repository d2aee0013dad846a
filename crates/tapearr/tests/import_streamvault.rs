//! `tapearr import streamvault` (C17) with Tapearr on SQLite and PostgreSQL: a StreamVault
//! database built from its real schema in a throwaway PostgreSQL schema, with odd data
//! (non-ASCII names and titles, a file gone from disk, two rows for one file, a file outside
//! StreamVault's folder, a failed recording), and its recordings folder inside a library root.
//! A dry run writes nothing; the import makes channels, retention, an Apprise channel and
//! library recordings pointing at the files (a TS remuxed beside itself); a second run changes
//! nothing; the source is only read; the recordings appear in the library API with their
//! chapters and a retention run deletes an imported one as its policy says.

mod common;

use common::{Backend, Client, InProcess, ServerOptions, backends, install_crypto};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Executor};
use std::path::{Path, PathBuf};
use std::process::Command;
use tapearr::app::App;
use tapearr::import_cmd::{self, ImportCommand};
use tapearr_api::routes::recordings::RecordingDetail;
use tapearr_core::config::Config;
use tapearr_core::crypto::{SecretBox, is_sealed};
use tapearr_core::import::{ImportReport, ReportLine};
use tapearr_core::library::retention::RetentionRun;
use tapearr_core::notify::model::ChannelConfig;
use tapearr_core::secret::Secret;
use tapearr_core::storage::Paged;
use tapearr_core::streams::model::{Recording, RecordingStatus};

const APPRISE: &str = "ntfys://secret-topic";

/// StreamVault's database: a schema of its own on the test PostgreSQL server.
async fn streamvault_db(pg: &str) -> String {
    let url = tapearr_db::testing::isolated_postgres_url(pg, "streamvault")
        .await
        .expect("a schema for StreamVault");
    let mut db = sqlx::PgConnection::connect(&url).await.expect("connect");
    db.execute(include_str!("fixtures/streamvault_schema.sql"))
        .await
        .expect("streamvault schema");
    db.execute(
        r#"INSERT INTO global_settings (notification_url, supported_codecs, notify_recording_completed) VALUES ('ntfys://secret-topic', 'h264,h265', true);
         INSERT INTO recording_settings (output_directory, cleanup_policy)
             VALUES ('/recordings', '{"type": "age", "threshold": 30, "preserve_favorites": true}');
         INSERT INTO categories (twitch_id, name) VALUES ('509670', 'Science & Technology'), ('509658', 'Just Chatting');
         INSERT INTO favorite_categories (user_id, category_id) VALUES (1, 1);
         INSERT INTO streamers (twitch_id, username, description, original_profile_image_url, is_favorite, auto_record, category_name)
             VALUES ('1001', 'Ökö_Streamer', 'Ünïcödé bio', 'https://static-cdn.jtvnw.net/a.png', true, true, 'Just Chatting');
         INSERT INTO streamers (twitch_id, username, is_favorite, auto_record) VALUES ('1002', 'speedrunner_42', false, true);
         INSERT INTO streamers (twitch_id, username, auto_record) VALUES ('1003', 'LowQuality', true);
         INSERT INTO streamers (twitch_id, username, is_test_data) VALUES ('1004', 'test_fixture', true);
         INSERT INTO streamers (twitch_id, username, auto_record) VALUES ('1005', 'paused', true);
         INSERT INTO streamer_recording_settings (streamer_id, quality, supported_codecs, use_global_cleanup_policy, cleanup_policy)
             VALUES (2, '1080p60,720p', 'h265,h264', false, '{"type": "count", "threshold": 1, "preserve_timeframe": {"weekdays": [5]}}');
         INSERT INTO streamer_recording_settings (streamer_id, quality) VALUES (3, '8k_ultra');
         INSERT INTO streamer_recording_settings (streamer_id, enabled) VALUES (5, false);
         INSERT INTO streams (streamer_id, title, category_name, started_at, ended_at, twitch_stream_id)
             VALUES (2, 'Any% 日本語', 'Celeste', '2024-05-01 18:00:00+00', '2024-05-01 19:00:00+00', '40001'),
                    (2, 'Glitchless', 'Celeste', '2024-05-08 18:00:00+00', '2024-05-08 18:30:00+00', '40002'),
                    (3, 'Crashed', 'Chess', '2024-05-09 18:00:00+00', NULL, '40003'),
                    (2, 'Gone', 'Celeste', '2024-05-10 18:00:00+00', '2024-05-10 19:00:00+00', NULL),
                    (2, 'Elsewhere', 'Celeste', '2024-05-11 18:00:00+00', '2024-05-11 19:00:00+00', '40005'),
                    (3, 'Soldering ⚡', 'Science & Technology', '2024-05-12 18:00:00+00', '2024-05-12 18:00:01+00', '40006');
         INSERT INTO recordings (stream_id, start_time, end_time, status, duration, path) VALUES
             (1, '2024-05-01 18:00:00+00', '2024-05-01 19:00:00+00', 'completed', 3600, '/recordings/speedrunner_42/Any% 日本語.mp4'),
             (2, '2024-05-08 18:00:00+00', '2024-05-08 18:30:00+00', 'completed', 1800, '/recordings/speedrunner_42/Glitchless.mp4'),
             (2, '2024-05-08 18:00:00+00', '2024-05-08 18:30:00+00', 'completed', 1800, '/recordings/speedrunner_42/Glitchless.mp4'),
             (3, '2024-05-09 18:00:00+00', NULL, 'failed', NULL, NULL),
             (4, '2024-05-10 18:00:00+00', '2024-05-10 19:00:00+00', 'completed', 3600, '/recordings/speedrunner_42/gone.mp4'),
             (5, '2024-05-11 18:00:00+00', '2024-05-11 19:00:00+00', 'completed', 3600, '/elsewhere/x.mp4'),
             (6, '2024-05-12 18:00:00+00', '2024-05-12 18:00:01+00', 'completed', 1, '/recordings/LowQuality/Soldering ⚡.ts');
         INSERT INTO stream_events (stream_id, event_type, title, category_name, timestamp) VALUES
             (1, 'stream.online', 'Any% 日本語', 'Celeste', '2024-05-01 18:00:00+00'),
             (1, 'channel.update', 'Any% 日本語: PB pace', 'Celeste', '2024-05-01 18:30:00+00'),
             (1, 'stream.offline', NULL, NULL, '2024-05-01 19:00:00+00');
         INSERT INTO notification_settings (streamer_id) VALUES (2);
         INSERT INTO push_subscriptions (endpoint, subscription_data) VALUES ('https://push.example/1', '{}');"#,
    )
    .await
    .expect("streamvault rows");
    db.close().await.expect("close");
    url
}

/// StreamVault's recordings folder (`/recordings` in its container) inside the library root.
struct Files {
    root: PathBuf,
    folder: PathBuf,
    any: PathBuf,
    any_nfo: PathBuf,
    glitchless: PathBuf,
    ts: PathBuf,
    notes: PathBuf,
}

fn files(root: &Path) -> Files {
    let folder = root.join("streamvault");
    let speed = folder.join("speedrunner_42");
    let low = folder.join("LowQuality");
    for dir in [&speed, &low] {
        std::fs::create_dir_all(dir).expect("folder");
    }
    let f = Files {
        root: root.to_path_buf(),
        any: speed.join("Any% 日本語.mp4"),
        any_nfo: speed.join("Any% 日本語.nfo"),
        glitchless: speed.join("Glitchless.mp4"),
        ts: low.join("Soldering ⚡.ts"),
        notes: speed.join("notes.txt"),
        folder,
    };
    std::fs::write(&f.any, b"streamvault's mp4 one").expect("mp4");
    std::fs::write(
        &f.any_nfo,
        b"<episodedetails>StreamVault's own</episodedetails>",
    )
    .expect("nfo");
    std::fs::write(&f.glitchless, b"streamvault's mp4 two").expect("mp4");
    std::fs::write(&f.notes, b"not a recording").expect("notes");
    // A real MPEG-TS, one second, as streamlink would have written it.
    let made = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("testsrc=duration=1:size=64x64:rate=10")
        .args(["-c:v", "libx264", "-f", "mpegts"])
        .arg(&f.ts)
        .status()
        .expect("ffmpeg");
    assert!(made.success(), "ffmpeg made the TS");
    f
}

fn config(data_dir: &Path, backend: &Backend, root: &Path) -> Config {
    Config {
        data_dir: data_dir.to_path_buf(),
        database_url: Secret::new(backend.database_url.clone().unwrap_or_default()),
        library_roots: vec![root.to_path_buf()],
        ..Config::default()
    }
}

async fn import_sv(
    app: &App,
    url: &str,
    recordings: Option<&Path>,
    dry_run: bool,
) -> Result<ImportReport, String> {
    let cmd = ImportCommand::Streamvault {
        from: url.to_string(),
        recordings: recordings.map(Path::to_path_buf),
        dry_run,
    };
    import_cmd::run(app, cmd)
        .await
        .map_err(|e| format!("{e:#}"))
}

fn sha256(file: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(file).expect("read")))
}

fn names(lines: &[ReportLine], kind: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.kind == kind)
        .map(|l| l.name.clone())
        .collect()
}

fn shown(lines: &[ReportLine]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            format!(
                "{} {}: {}",
                l.kind,
                l.name,
                l.detail.clone().unwrap_or_default()
            )
        })
        .collect()
}

async fn source_counts(url: &str) -> Vec<i64> {
    let mut db = sqlx::PgConnection::connect(url).await.expect("connect");
    let mut counts = Vec::new();
    for table in [
        "streamers",
        "streams",
        "recordings",
        "stream_events",
        "push_subscriptions",
        "global_settings",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut db)
            .await
            .expect("count");
        counts.push(n);
    }
    db.close().await.expect("close");
    counts
}

#[tokio::test(flavor = "multi_thread")]
async fn a_streamvault_database_and_its_recordings_are_imported_once_and_only_read() {
    install_crypto();
    let Some(pg) = tapearr_db::testing::backends().into_iter().flatten().next() else {
        eprintln!("skipped: StreamVault runs on PostgreSQL and TAPEARR_TEST_PG_URL is not set");
        return;
    };
    for backend in backends("import_streamvault").await {
        let b = backend.name;
        let source = streamvault_db(&pg).await;
        let before = source_counts(&source).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        let f = files(&dir.path().join("library"));
        let hashes = [sha256(&f.any), sha256(&f.any_nfo), sha256(&f.ts)];
        let app = App::open(config(&data_dir, &backend, &f.root))
            .await
            .expect("open");

        // Without the recordings folder, recordings are listed as skipped.
        let bare = import_sv(&app, &source, None, true).await.expect("dry run");
        assert!(
            names(&bare.created, "recording").is_empty(),
            "{b}: {bare:?}"
        );
        assert!(
            shown(&bare.skipped)
                .iter()
                .any(|s| s.contains("#1 ") && s.contains("--recordings")),
            "{b}: {:?}",
            shown(&bare.skipped)
        );

        // A dry run says what it would do and writes nothing.
        let dry = import_sv(&app, &source, Some(&f.folder), true)
            .await
            .expect("dry run");
        assert!(dry.dry_run);
        assert_eq!(
            names(&dry.created, "channel"),
            ["speedrunner_42", "LowQuality", "paused"],
            "{b}: {dry:?}"
        );
        assert_eq!(
            names(&dry.created, "recording"),
            [
                "#1 Any% 日本語 (2024-05-01)",
                "#2 Glitchless (2024-05-08)",
                "#7 Soldering ⚡ (2024-05-12)"
            ],
            "{b}: {:?}",
            shown(&dry.created)
        );
        let skipped = shown(&dry.skipped);
        for (what, why) in [
            ("#3 Glitchless", "the same file as recording #2"),
            ("#4 Crashed", "`failed` in StreamVault"),
            ("#5 Gone", "the file is missing"),
            ("#6 Elsewhere", "not in StreamVault's recordings folder"),
            ("test_fixture", "test data"),
            ("Ökö_Streamer", "login is not known"),
            ("push subscription 1 browser(s)", "VAPID"),
        ] {
            assert!(
                skipped.iter().any(|s| s.contains(what) && s.contains(why)),
                "{b}: {what}: {why}: {skipped:?}"
            );
        }
        assert!(
            app.store
                .list_twitch_channels()
                .await
                .expect("read")
                .is_empty(),
            "{b}: the dry run wrote no channel"
        );
        assert!(
            !f.ts.with_extension("mp4").exists(),
            "{b}: the dry run remuxed nothing"
        );
        assert!(!f.glitchless.with_extension("nfo").exists(), "{b}");
        assert!(
            app.store.list_channels().await.expect("read").is_empty(),
            "{b}"
        );

        // The import.
        let report = import_sv(&app, &source, Some(&f.folder), false)
            .await
            .expect("import");
        assert!(!report.dry_run);
        assert_eq!(
            report.created, dry.created,
            "{b}: the dry run told the truth"
        );
        let text = format!("{report:?}");
        assert!(
            !text.contains("secret-topic"),
            "{b}: no secret in the report"
        );

        let channels = app.store.list_twitch_channels().await.expect("read");
        let speed = channels
            .iter()
            .find(|c| c.login == "speedrunner_42")
            .expect("speedrunner");
        assert_eq!(speed.settings.quality, "1080p60,720p", "{b}");
        assert_eq!(speed.settings.codecs, "h265,h264", "{b}");
        let low = channels
            .iter()
            .find(|c| c.login == "lowquality")
            .expect("lowquality");
        assert_eq!(low.settings.quality, "best", "{b}: Tapearr's default");
        assert!(
            !channels
                .iter()
                .find(|c| c.login == "paused")
                .expect("paused")
                .settings
                .auto_record,
            "{b}: recording switched off stays off"
        );

        // Retention: the streamer's own policy, and the global one with favourite categories.
        let overrides: std::collections::HashMap<String, Value> = app
            .store
            .channel_retention()
            .await
            .expect("read")
            .into_iter()
            .map(|(id, json)| (id, serde_json::from_str(&json).expect("json")))
            .collect();
        assert_eq!(overrides[&speed.id], json!({ "max_count": 1 }), "{b}");
        assert_eq!(
            overrides[&low.id],
            json!({ "max_age_days": 30.0, "keep_categories": ["Science & Technology"] }),
            "{b}"
        );
        assert!(
            report.not_mapped.iter().any(|l| l.name == "speedrunner_42"
                && l.detail
                    .as_deref()
                    .is_some_and(|d| d.contains("preserve_timeframe"))),
            "{b}: {:?}",
            shown(&report.not_mapped)
        );

        // The Apprise URL: a channel, sealed at rest.
        let notify = app.store.list_channels().await.expect("read");
        assert_eq!(notify.len(), 1, "{b}: {notify:?}");
        let ChannelConfig::Apprise { url } = &notify[0].config else {
            panic!("{b}: an Apprise channel: {notify:?}");
        };
        assert!(
            is_sealed(url) && !url.contains("secret-topic"),
            "{b}: sealed"
        );
        let secrets = SecretBox::open(&data_dir).expect("secret key");
        assert_eq!(secrets.open_sealed(url).expect("open"), APPRISE, "{b}");
        assert!(
            notify[0]
                .event_types
                .contains(&"recording.finalized".to_string())
                && notify[0].event_types.contains(&"channel.live".to_string()),
            "{b}: {:?}",
            notify[0].event_types
        );

        // The files: StreamVault's kept as they are, the TS remuxed beside itself, a missing
        // NFO written.
        let ts_mp4 = f.ts.with_extension("mp4");
        assert!(ts_mp4.is_file(), "{b}: the TS remuxed to an MP4");
        assert_eq!(
            [sha256(&f.any), sha256(&f.any_nfo), sha256(&f.ts)],
            hashes,
            "{b}: StreamVault's files untouched"
        );
        let nfo = std::fs::read_to_string(f.glitchless.with_extension("nfo")).expect("nfo");
        assert!(nfo.contains("<title>Glitchless</title>"), "{b}: {nfo}");

        // A second run changes nothing.
        let again = import_sv(&app, &source, Some(&f.folder), false)
            .await
            .expect("second run");
        assert!(again.created.is_empty(), "{b}: {:?}", shown(&again.created));
        assert_eq!(names(&again.unchanged, "recording").len(), 3, "{b}");
        assert_eq!(names(&again.unchanged, "notification").len(), 1, "{b}");
        assert_eq!(
            app.store.list_twitch_channels().await.expect("read").len(),
            channels.len()
        );
        assert_eq!(app.store.list_channels().await.expect("read").len(), 1);
        assert_eq!(
            source_counts(&source).await,
            before,
            "{b}: the source is only read"
        );

        // Refused sources say why and never show a password.
        let own = backend.database_url.clone().unwrap_or_else(|| pg.clone());
        let err = import_sv(&app, &own, None, true)
            .await
            .expect_err("not StreamVault");
        assert!(err.contains("not a StreamVault database"), "{b}: {err}");
        let err = import_sv(
            &app,
            "postgres://tapearr:hunter2@127.0.0.1:1/sv",
            None,
            true,
        )
        .await
        .expect_err("unreachable");
        assert!(!err.contains("hunter2"), "{b}: {err}");
        app.db.close().await;

        // In the library like native recordings, with their chapters; retention applies.
        let server = InProcess::start(ServerOptions {
            data_dir: &data_dir,
            database_url: backend.database_url.as_deref(),
            // Imported recordings get retention's grace like freshly finalized ones (a media
            // server may be scanning them); the story does not wait it out.
            env: vec![
                ("TAPEARR_LIBRARY_ROOTS", f.root.display().to_string()),
                ("TAPEARR_LIBRARY__RETENTION_GRACE_SECS", "0".to_string()),
            ],
        })
        .await;
        let (mut api, _) = Client::admin(&server).await;
        let items = api
            .get_json::<Paged<Recording>>("/api/v1/recordings")
            .await
            .items;
        assert_eq!(items.len(), 3, "{b}: {items:?}");
        let by_title = |t: &str| {
            items
                .iter()
                .find(|r| r.labels.title == t)
                .unwrap_or_else(|| panic!("{b}: {t} in {items:?}"))
        };
        let any = by_title("Any% 日本語");
        assert_eq!(any.status, RecordingStatus::Ready, "{b}");
        assert_eq!(any.labels.channel_login, "speedrunner_42", "{b}");
        let detail: RecordingDetail = api
            .get_json(&format!("/api/v1/recordings/{}", any.id))
            .await;
        let chapters = &detail.chapters;
        assert_eq!(chapters.len(), 2, "{b}: {chapters:?}");
        assert_eq!(chapters[1].title, "Any% 日本語: PB pace", "{b}");
        assert_eq!(chapters[1].start_ms, 30 * 60 * 1000, "{b}");
        let video = api
            .http
            .get(server.url(&format!(
                "/api/v1/recordings/{}/video",
                by_title("Soldering ⚡").id
            )))
            .header("X-Api-Key", api.api_key.clone().unwrap_or_default())
            .send()
            .await
            .expect("video");
        assert_eq!(video.status(), 200, "{b}: the remuxed MP4 plays");

        // The API: a dry run unless asked, bad input refused, the URL never echoed.
        let r = api
            .post("/api/v1/import/streamvault", json!({ "from": source }))
            .await;
        let report: ImportReport = r.ok();
        assert!(report.dry_run, "{b}");
        assert!(report.created.is_empty(), "{b}: {report:?}");
        for (body, why) in [
            (json!({ "from": "" }), "empty"),
            (json!({ "from": "sqlite:///x.db" }), "not postgres"),
            (
                json!({ "from": "postgres://sv:hunter2@127.0.0.1:1/sv" }),
                "unreachable",
            ),
            (
                json!({ "from": source, "recordings": "relative/dir" }),
                "relative folder",
            ),
            (json!({ "nope": 1 }), "no URL"),
        ] {
            let r = api.post("/api/v1/import/streamvault", body).await;
            assert_eq!(r.status, 400, "{b}: {why}: {}", r.body);
            // A `{code, message}` refusal.
            r.error();
            assert!(!r.body.to_string().contains("hunter2"), "{b}: {why}");
        }

        // Retention: speedrunner_42 keeps its newest one; LowQuality's is in a kept category.
        let run: RetentionRun = api.post_json("/api/v1/retention/run", &json!({})).await;
        let deleted: Vec<&str> = run.deleted.iter().map(|d| d.title.as_str()).collect();
        assert_eq!(deleted, ["Any% 日本語"], "{b}: {run:?}");
        assert!(run.errors.is_empty(), "{b}: {run:?}");
        assert!(
            !f.any.exists() && !f.any_nfo.exists(),
            "{b}: its MP4 and NFO went"
        );
        assert!(
            f.glitchless.exists() && f.notes.exists(),
            "{b}: nothing else did"
        );
        assert!(f.ts.exists() && ts_mp4.exists(), "{b}");
        server.stop().await;
    }
}
