//! Upgrades in place (C15): every data dir under `tests/fixtures/data-v*` (written by an earlier
//! release with `fixtures/make-data-dir.sh`) starts with this binary, is migrated with a backup
//! of the SQLite file when its schema is older, and keeps its admin, API key, sealed secrets
//! and settings. Add a fixture for each release whose schema changed.

mod common;

use common::{ADMIN, Client, PASSWORD, Server, ServerOptions};
use reqwest::StatusCode;
use std::path::{Path, PathBuf};
use tapearr_db::Db;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("data-v"))
        })
        .collect();
    found.sort();
    found
}

/// The fixture's files into a fresh data dir (the committed copy is never written); the API
/// key it was made with comes back separately. Git keeps no modes: the key file is made
/// private again, as the release wrote it.
fn copy_fixture(fixture: &Path, to: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(fixture).expect("fixture") {
        let from = entry.expect("entry").path();
        let name = from.file_name().expect("file name");
        if name != "apikey.txt" {
            std::fs::copy(&from, to.join(name)).expect("copy");
        }
    }
    let private = std::fs::Permissions::from_mode(0o600);
    std::fs::set_permissions(to.join("secret.key"), private).expect("chmod");
    std::fs::read_to_string(fixture.join("apikey.txt"))
        .expect("apikey.txt")
        .trim()
        .to_owned()
}

async fn schema_version(data_dir: &Path) -> i64 {
    let url = format!("sqlite://{}", data_dir.join("tapearr.db").display());
    let db = Db::connect(&url).await.expect("open the SQLite file");
    let version = db.schema_version().await.expect("schema version");
    db.close().await;
    version
}

fn backups(data_dir: &Path) -> Vec<String> {
    std::fs::read_dir(data_dir.join("backups"))
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn older_data_dirs_start_migrated_with_their_data() {
    let fixtures = fixtures();
    assert!(!fixtures.is_empty(), "no tests/fixtures/data-v* folder");
    let latest = tapearr_db::migrate::latest_version();
    for fixture in fixtures {
        let name = fixture.display().to_string();
        let dir = tempfile::tempdir().expect("tempdir");
        let key = copy_fixture(&fixture, dir.path());
        let before = schema_version(dir.path()).await;
        assert!(
            before <= latest,
            "{name}: schema v{before} is newer than v{latest}"
        );

        // The start-up key check opens the fixture's sealed values with its secret.key.
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: None,
            env: vec![],
        });
        let mut api = Client::with_key(&server, &key);
        let me = api.get("/api/v1/auth/me").await;
        assert_eq!(
            me.status,
            StatusCode::OK,
            "{name}: the API key: {:?}",
            me.body
        );
        let login = Client::new(&server).login(ADMIN, PASSWORD).await;
        assert_eq!(login.status, StatusCode::OK, "{name}: the admin's password");

        let channels = api.get("/api/v1/notifications/channels").await.body;
        let hook = channels
            .as_array()
            .and_then(|all| all.iter().find(|c| c["name"] == "fixture hook"))
            .unwrap_or_else(|| panic!("{name}: the notification channel: {channels}"));
        assert_eq!(hook["config"]["secret"], "***", "{name}: {hook}");
        assert_eq!(hook["event_types"][0], "job.failed", "{name}: {hook}");

        let tasks = api.get("/api/v1/tasks").await.body;
        let prune = tasks
            .as_array()
            .and_then(|all| all.iter().find(|t| t["name"] == "prune-events"))
            .unwrap_or_else(|| panic!("{name}: the tasks: {tasks}"));
        assert_eq!(prune["interval_secs"], 7200, "{name}: the user's interval");

        assert!(server.terminate().success(), "{name}: exit after SIGTERM");
        assert_eq!(schema_version(dir.path()).await, latest, "{name}: migrated");
        let copies = backups(dir.path());
        if before < latest {
            let prefix = format!("tapearr-v{before}-");
            assert!(
                copies.iter().any(|f| f.starts_with(&prefix)),
                "{name}: no backup of v{before} before migrating: {copies:?}"
            );
        } else {
            assert!(
                copies.is_empty(),
                "{name}: a backup with nothing to migrate"
            );
        }
    }
}
