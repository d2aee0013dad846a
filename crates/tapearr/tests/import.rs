//! `tapearr import trailarr` (C17) on SQLite and PostgreSQL: a Trailarr database built from
//! its real schema, with odd data (non-ASCII titles, a trailer gone from disk, duplicates),
//! is imported once; a dry run writes nothing, a second run changes nothing, the source is
//! only read, and the scan then claims the trailers already on disk.

mod common;

use common::{Backend, Client, InProcess, ServerOptions, backends, install_crypto};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Executor, SqliteConnection};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tapearr::app::App;
use tapearr::import_cmd::{self, ImportCommand};
use tapearr_api::routes::trailers::JobQueued;
use tapearr_core::config::Config;
use tapearr_core::crypto::{SecretBox, is_sealed};
use tapearr_core::import::ImportReport;
use tapearr_core::secret::Secret;

const RADARR_KEY: &str = "radarr-key-0123456789abcdef";

/// The library Trailarr managed: one trailer still on disk, one gone.
struct Library {
    amelie: PathBuf,
    tenki: PathBuf,
    dark: PathBuf,
}

fn library(root: &Path) -> Library {
    let lib = Library {
        amelie: root.join("movies/Amélie (2001)"),
        tenki: root.join("movies/天気の子 (2019)"),
        dark: root.join("tv/Dark"),
    };
    for dir in [&lib.amelie, &lib.tenki, &lib.dark] {
        std::fs::create_dir_all(dir).expect("media folder");
    }
    std::fs::write(lib.amelie.join("Amélie (2001).mkv"), b"the movie").expect("movie");
    std::fs::write(lib.amelie.join("Amélie (2001)-trailer.mkv"), b"the trailer").expect("trailer");
    std::fs::write(lib.tenki.join("天気の子 (2019).mkv"), b"the movie").expect("movie");
    lib
}

async fn trailarr_db(file: &Path, lib: &Library) {
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let mut db = SqliteConnection::connect(&url)
        .await
        .expect("create trailarr.db");
    db.execute(include_str!("fixtures/trailarr_schema.sql"))
        .await
        .expect("trailarr schema");
    let amelie = lib.amelie.display();
    let tenki = lib.tenki.display();
    let dark = lib.dark.display();
    let data = format!(
        "INSERT INTO connection VALUES ('Radarr 4K', 'RADARR', 'http://127.0.0.1:9/', '', '{RADARR_KEY}', 'MONITOR_NEW', 1, '2024-01-02 03:04:05');
         INSERT INTO connection VALUES ('Sonarr', 'SONARR', 'http://127.0.0.1:9', '', 'sonarr-key', 'MONITOR_SYNC', 2, '2024-01-02 03:04:05');
         INSERT INTO connection VALUES ('radarr 4k', 'RADARR', 'http://127.0.0.1:9', '', 'other', 'MONITOR_NONE', 3, '2024-01-02 03:04:05');
         INSERT INTO connection VALUES ('Lidarr', 'LIDARR', 'http://127.0.0.1:9', '', 'k', 'MONITOR_NEW', 4, '2024-01-02 03:04:05');
         INSERT INTO pathmapping VALUES (1, 1, '/data/movies', '/srv/movies');
         INSERT INTO pathmapping VALUES (2, 2, 'D:\\TV', '/srv/tv');
         INSERT INTO customfilter VALUES ('Default', 'TRAILER', 1);
         INSERT INTO customfilter VALUES ('Anime', 'TRAILER', 2);
         INSERT INTO filter VALUES (1, 2, 'language', 'EQUALS', 'ja');
         INSERT INTO trailerprofile VALUES (1, 0, 'mkv', '{{title}} ({{year}})-trailer.{{ext}}', 0, 'Trailers', 1, 0,
             'opus', 100, 'vp9', 1080, 0, 'srt', 'en', '{{title}} {{year}} {{is_movie}} trailer', 30, 600, 0, 'review, reaction', '', '', 1, 1);
         INSERT INTO trailerprofile VALUES (1, 5, 'mp4', '{{clean_title}}-trailer.{{ext}}', 1, 'Extras', 0, 1,
             'ac3', 150, 'h264', 2160, 1, 'vtt', 'ja', '{{title_slug}} 予告', 60, 300, 1, '', 'official', '--cookies x', 2, 2);
         INSERT INTO media VALUES (1, 10, 1, 'Amélie', 2001, 'fr', 'Une fable', 122, 'yt-amelie01', '{amelie}', 'tt0211915', '194', NULL, NULL, NULL, NULL, 1, 1, 1, 1, '2024-01-02 03:04:05', '2024-01-02 03:04:05', NULL);
         INSERT INTO media VALUES (1, 11, 1, '天気の子', 2019, 'ja', NULL, 112, NULL, '{tenki}', NULL, '568160', NULL, NULL, NULL, NULL, 1, 0, 1, 2, '2024-01-02 03:04:05', '2024-01-02 03:04:05', NULL);
         INSERT INTO media VALUES (1, 12, 1, 'Amélie (again)', 2001, 'fr', NULL, 122, NULL, '{amelie}', NULL, '194', NULL, NULL, NULL, NULL, 0, 1, 1, 3, '2024-01-02 03:04:05', '2024-01-02 03:04:05', NULL);
         INSERT INTO media VALUES (1, 13, 1, 'No Id', 2020, 'en', NULL, 90, NULL, '/nowhere', NULL, '', NULL, NULL, NULL, NULL, 0, 1, 1, 4, '2024-01-02 03:04:05', '2024-01-02 03:04:05', NULL);
         INSERT INTO media VALUES (2, 20, 0, 'Dark', 2017, 'de', NULL, 60, NULL, '{dark}', NULL, '334824', NULL, NULL, NULL, NULL, 0, 0, 1, 5, '2024-01-02 03:04:05', '2024-01-02 03:04:05', NULL);
         INSERT INTO download VALUES ('{amelie}', 'Amélie (2001)-trailer.mkv', 11, '2024-03-01 10:00:00', '1080p', 'vp9', 'opus', 'stereo', 'mkv', 120, 'unk', '2024-03-01 10:00:00', 1, 1, 'yt-amelie01', 1, 1);
         INSERT INTO download VALUES ('{tenki}', '天気の子 (2019)-trailer.mkv', 11, '2024-03-02 10:00:00', '1080p', 'vp9', 'opus', 'stereo', 'mkv', 120, 'unk', '2024-03-02 10:00:00', 1, 2, 'yt-tenki0001', 1, 2);"
    );
    db.execute(data.as_str()).await.expect("trailarr rows");
    db.close().await.expect("close");
}

fn config(data_dir: &Path, backend: &Backend) -> Config {
    Config {
        data_dir: data_dir.to_path_buf(),
        database_url: Secret::new(backend.database_url.clone().unwrap_or_default()),
        ..Config::default()
    }
}

async fn import(app: &App, from: &Path, dry_run: bool) -> Result<ImportReport, String> {
    let cmd = ImportCommand::Trailarr {
        from: from.to_path_buf(),
        dry_run,
    };
    import_cmd::run(app, cmd)
        .await
        .map_err(|e| format!("{e:#}"))
}

fn sha256(file: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(file).expect("read")))
}

fn names(lines: &[tapearr_core::import::ReportLine], kind: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.kind == kind)
        .map(|l| l.name.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trailarr_database_is_imported_once_and_only_read() {
    install_crypto();
    for backend in backends("import_trailarr").await {
        let b = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        let lib = library(&dir.path().join("library"));
        let config_dir = dir.path().join("trailarr-config");
        std::fs::create_dir_all(&config_dir).expect("config dir");
        let source = config_dir.join("trailarr.db");
        trailarr_db(&source, &lib).await;
        let source_hash = sha256(&source);

        let app = App::open(config(&data_dir, &backend)).await.expect("open");

        // A dry run says what it would do and writes nothing.
        let dry = import(&app, &source, true).await.expect("dry run");
        assert!(dry.dry_run);
        assert_eq!(
            names(&dry.created, "connection"),
            ["Radarr 4K", "Sonarr"],
            "{b}: {dry:?}"
        );
        assert!(
            app.store.arr_connections().await.expect("read").is_empty(),
            "{b}"
        );
        assert!(
            app.store.trailer_profiles().await.expect("read").is_empty(),
            "{b}"
        );
        assert!(app.store.all_media().await.expect("read").is_empty(), "{b}");

        // The config folder stands for the database in it.
        let report = import(&app, &config_dir, false).await.expect("import");
        assert_eq!(
            report.created, dry.created,
            "{b}: the dry run told the truth"
        );
        assert_eq!(report.skipped, dry.skipped, "{b}");
        let skipped: Vec<(String, String)> = report
            .skipped
            .iter()
            .map(|l| (l.name.clone(), l.detail.clone().unwrap_or_default()))
            .collect();
        let why = |name: &str| {
            skipped
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, d)| d.clone())
                .unwrap_or_else(|| panic!("{b}: {name} not listed as skipped: {skipped:?}"))
        };
        assert!(why("radarr 4k").contains("duplicate"), "{b}: {skipped:?}");
        assert!(why("Lidarr").contains("unknown type"), "{b}");
        assert!(why("Amélie (again)").contains("duplicate"), "{b}");
        assert!(why("No Id").contains("no TMDB/TVDB id"), "{b}");
        assert!(why("天気の子").contains("not on disk"), "{b}");
        assert!(
            !format!("{report:?}{}", report.to_text()).contains(RADARR_KEY),
            "{b}: the report never shows a key"
        );

        // Connections: keys re-sealed with Tapearr's key, path mappings, monitor mode.
        let secrets = SecretBox::open(&data_dir).expect("secret key");
        let conns = app.store.arr_connections().await.expect("read");
        assert_eq!(conns.len(), 2, "{b}");
        let radarr = conns
            .iter()
            .find(|c| c.name == "Radarr 4K")
            .expect("radarr");
        assert!(is_sealed(radarr.api_key.expose()), "{b}: sealed at rest");
        assert_eq!(
            secrets.open_sealed(radarr.api_key.expose()).expect("open"),
            RADARR_KEY
        );
        assert_eq!(radarr.url, "http://127.0.0.1:9");
        assert_eq!(radarr.path_mappings[0].remote, "/data/movies");
        assert_eq!(radarr.path_mappings[0].local, "/srv/movies");
        assert!(radarr.monitor_new);
        let sonarr = conns.iter().find(|c| c.name == "Sonarr").expect("sonarr");
        assert_eq!(
            sonarr.path_mappings[0].remote, "D:\\TV",
            "{b}: Windows paths kept"
        );

        // Profiles: mapped, and what has no equivalent listed.
        let profiles = app.store.trailer_profiles().await.expect("read");
        let mut profile_names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
        profile_names.sort();
        assert_eq!(profile_names, ["Anime", "Default"], "{b}");
        let anime = profiles.iter().find(|p| p.name == "Anime").expect("anime");
        assert_eq!(anime.output.max_height, 2160);
        assert!((anime.output.volume - 1.5).abs() < 1e-6);
        assert_eq!(anime.search.include_words, ["official"]);
        let lost: Vec<String> = report
            .not_mapped
            .iter()
            .filter(|l| l.name == "Anime")
            .filter_map(|l| l.detail.clone())
            .collect();
        for expected in [
            "audio format ac3",
            "file name",
            "search query",
            "yt-dlp",
            "filter",
        ] {
            assert!(
                lost.iter().any(|l| l.contains(expected)),
                "{b}: {expected} listed as not mapped: {lost:?}"
            );
        }
        let default = profiles
            .iter()
            .find(|p| p.name == "Default")
            .expect("default");
        assert_eq!(default.output.file_template, "{title} ({year})-trailer");
        assert_eq!(default.search.exclude_words, ["review", "reaction"]);

        // Media: monitor flags and trailer ids, non-ASCII titles, one per source id.
        let media = app.store.all_media().await.expect("read");
        let mut titles: Vec<&str> = media.iter().map(|m| m.title.as_str()).collect();
        titles.sort();
        assert_eq!(titles, ["Amélie", "Dark", "天気の子"], "{b}");
        let amelie = media.iter().find(|m| m.title == "Amélie").expect("amélie");
        assert!(amelie.monitor);
        assert_eq!(amelie.trailer_id_override.as_deref(), Some("yt-amelie01"));
        assert_eq!(amelie.ext_id, 194);
        let tenki = media.iter().find(|m| m.title == "天気の子").expect("tenki");
        assert!(!tenki.monitor, "{b}: the user's unmonitor is kept");
        let history = app
            .store
            .media_events(&tenki.id, 10)
            .await
            .expect("history");
        assert!(
            history
                .iter()
                .any(|e| e.kind == "imported" && e.message.contains("yt-tenki0001")),
            "{b}: {history:?}"
        );

        // A second run changes nothing.
        let again = import(&app, &source, false).await.expect("second import");
        assert!(again.created.is_empty(), "{b}: {again:?}");
        assert_eq!(
            names(&again.unchanged, "connection"),
            ["Radarr 4K", "Sonarr"],
            "{b}"
        );
        assert_eq!(app.store.all_media().await.expect("read").len(), 3, "{b}");
        assert_eq!(
            app.store
                .media_events(&tenki.id, 10)
                .await
                .expect("history")
                .len(),
            history.len(),
            "{b}: no history twice"
        );

        // Not a Trailarr database: a clear error, nothing written.
        let own_db = data_dir.join("tapearr.db");
        let not_trailarr = if own_db.exists() {
            own_db
        } else {
            dir.path().join("x.db")
        };
        if !not_trailarr.exists() {
            let mut c =
                SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", not_trailarr.display()))
                    .await
                    .expect("other db");
            c.execute("CREATE TABLE users (id INTEGER)")
                .await
                .expect("table");
            c.close().await.expect("close");
        }
        let err = import(&app, &not_trailarr, true)
            .await
            .expect_err("not trailarr");
        assert!(err.contains("not a Trailarr database"), "{b}: {err}");
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello").expect("text");
        let err = import(&app, &text, true).await.expect_err("a text file");
        assert!(
            err.contains("cannot open") || err.contains("not a Trailarr"),
            "{b}: {err}"
        );
        let err = import(&app, &dir.path().join("missing.db"), true)
            .await
            .expect_err("missing");
        assert!(err.contains("not a file"), "{b}: {err}");

        assert_eq!(sha256(&source), source_hash, "{b}: the source is only read");
        app.db.close().await;

        // The scan claims the trailer already on disk instead of downloading it again.
        let server = InProcess::start(ServerOptions {
            data_dir: &data_dir,
            database_url: backend.database_url.as_deref(),
            env: vec![],
        })
        .await;
        let (mut api, _) = Client::admin(&server).await;
        let r = api.post("/api/v1/trailers/scan", json!({})).await;
        assert_eq!(r.status, 202, "{b}: {}", r.body);
        let job = r.json::<JobQueued>().job_id;
        api.wait_succeeded(&job, Duration::from_secs(60)).await;
        let detail: Value = api
            .get(&format!("/api/v1/trailers/media/{}", amelie.id))
            .await
            .body;
        let downloads = detail["downloads"].as_array().cloned().unwrap_or_default();
        assert!(
            downloads.iter().any(|d| d["status"] == "existing"
                && d["file_path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("Amélie (2001)-trailer.mkv"))),
            "{b}: {detail}"
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_import_page_api_is_a_dry_run_unless_asked_and_refuses_bad_sources() {
    for backend in backends("import_api").await {
        let b = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let lib = library(&dir.path().join("library"));
        let source = dir.path().join("trailarr.db");
        trailarr_db(&source, &lib).await;
        let (server, mut api) = common::start_admin(&backend).await;
        let path = "/api/v1/import/trailarr";

        let r = api.post(path, json!({ "from": source })).await;
        assert_eq!(r.status, 200, "{b}: {}", r.body);
        assert_eq!(r.body["dry_run"], true, "{b}: a dry run by default");
        assert!(!r.body["created"].as_array().expect("created").is_empty());
        let conns = api.get("/api/v1/trailers/connections").await.body;
        assert_eq!(conns, json!([]), "{b}: the dry run wrote nothing");

        for (body, why) in [
            (json!({ "from": "" }), "empty path"),
            (
                json!({ "from": "/nonexistent/trailarr.db" }),
                "missing file",
            ),
            (
                json!({ "from": server.data_dir.join("secret.key") }),
                "not a database",
            ),
            (json!({ "nope": 1 }), "no path"),
        ] {
            let r = api.post(path, body).await;
            assert_eq!(r.status, 400, "{b}: {why}: {}", r.body);
            assert!(
                r.body["code"].is_string() && r.body["message"].is_string(),
                "{b}: {why}"
            );
        }
        let r = api
            .post(path, json!({ "from": source, "dry_run": false }))
            .await;
        assert_eq!(r.status, 200, "{b}: {}", r.body);
        let conns = api.get("/api/v1/trailers/connections").await.body;
        assert_eq!(conns.as_array().map(Vec::len), Some(2), "{b}: {conns}");
        assert!(
            !conns.to_string().contains(RADARR_KEY),
            "{b}: write-only key"
        );
        server.stop().await;
    }
}
