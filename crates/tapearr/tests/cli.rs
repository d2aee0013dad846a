//! The binary's own commands: config errors, doctor, admin commands, secrets kept out of logs.

mod common;

use common::{Client, JobRecord, Server, ServerOptions};
use reqwest::StatusCode;
use serde_json::json;
use std::process::{Command, Stdio};

fn tapearr(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tapearr"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[test]
fn a_bad_config_value_stops_startup_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tapearr(dir.path())
        .env("TAPEARR_LISTEN", "not-an-address")
        .arg("serve")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("listen"), "{stderr}");

    std::fs::write(
        dir.path().join("tapearr.toml"),
        "[jobs]\nlease_secs = 10\nheartbeat_secs = 30\n",
    )
    .expect("toml");
    let out = tapearr(dir.path()).arg("serve").output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("jobs.heartbeat_secs"));
}

#[test]
fn help_explains_each_command() {
    let out = Command::new(env!("CARGO_BIN_EXE_tapearr"))
        .arg("--help")
        .output()
        .expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "user", "apikey", "doctor", "tools"] {
        assert!(help.contains(cmd), "--help lacks {cmd}: {help}");
    }
}

#[test]
fn doctor_lists_tools_with_versions_and_fails_when_a_required_one_is_missing() {
    // `make test` installs the tools venv in ./data and points here; without it, yt-dlp is
    // missing and doctor must say so and fail.
    let tools_dir = std::env::var("TAPEARR_TEST_TOOLS_DATA_DIR").ok();
    let empty = tempfile::tempdir().expect("tempdir");
    let dir = tools_dir
        .as_deref()
        .map(std::path::Path::new)
        .unwrap_or(empty.path());
    let out = tapearr(dir)
        .env(
            "TAPEARR_DATABASE_URL",
            format!("sqlite://{}/doctor.db", empty.path().display()),
        )
        .arg("doctor")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for tool in ["ffmpeg", "ffprobe", "yt-dlp", "streamlink"] {
        assert!(text.contains(tool), "doctor does not list {tool}:\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.contains(" ok ") && l.contains("ffmpeg") && l.contains('.')),
        "{text}"
    );
    assert!(text.contains("sqlite schema v"), "{text}");
    if tools_dir.is_some() {
        for tool in ["yt-dlp", "deno", "streamlink"] {
            assert!(
                text.lines()
                    .any(|l| l.trim_start().starts_with("ok") && l.contains(tool)),
                "{tool} has no version:\n{text}"
            );
        }
        assert!(out.status.success(), "{text}");
    } else {
        assert!(
            text.contains("MISSING") && text.contains("yt-dlp"),
            "{text}"
        );
        assert!(
            !out.status.success(),
            "a missing required tool must fail doctor"
        );
    }
}

#[tokio::test]
async fn cli_admin_commands_and_no_secret_in_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let client_secret = "twitch-secret-value-9f8e7d";
    let tmdb_key = "tmdb-key-value-1a2b3c";
    // Created from the CLI, password on stdin.
    let mut child = tapearr(dir.path())
        .args(["user", "create", "--username", "root"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a long password\n")
        .expect("write");
    assert!(child.wait().expect("wait").success());
    let out = tapearr(dir.path())
        .args(["apikey", "create", "--name", "cli"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let key = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(key.starts_with("tpa_"), "{key}");

    let server = Server::start(ServerOptions {
        data_dir: dir.path(),
        database_url: None,
        env: vec![
            ("TAPEARR_TWITCH__CLIENT_SECRET", client_secret.into()),
            ("TAPEARR_TMDB__API_KEY", tmdb_key.into()),
        ],
    });
    let mut api = Client::with_key(&server, &key);
    assert_eq!(api.get("/api/v1/auth/me").await.body["api_key_name"], "cli");
    // A user who pastes a secret as a password, and a bad key, must not put it in a log line.
    let mut anon = Client::new(&server);
    assert_eq!(
        anon.login("root", client_secret).await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut bad = Client::with_key(&server, tmdb_key);
    assert_eq!(
        bad.get("/api/v1/jobs").await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = api
        .post(
            "/api/v1/jobs",
            json!({"kind": "system.probe", "payload": {"millis": 1}}),
        )
        .await;
    let job: JobRecord = r.ok();
    api.wait_job(&job.id, std::time::Duration::from_secs(30))
        .await;
    let logs = api.get("/api/v1/logs?limit=2000").await.body;
    assert!(
        logs.as_array().is_some_and(|l| !l.is_empty()),
        "log API answers: {logs}"
    );
    let r = api.get("/api/v1/logs?level=loud").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let stdout = server.output_text();
    assert!(server.terminate().success());
    let mut file_logs = String::new();
    for entry in std::fs::read_dir(dir.path().join("logs")).expect("log dir") {
        file_logs
            .push_str(&std::fs::read_to_string(entry.expect("entry").path()).expect("read log"));
    }
    assert!(
        file_logs.contains("tapearr listening"),
        "the log file is written"
    );
    for secret in [client_secret, tmdb_key, "a long password", &key] {
        assert!(!stdout.contains(secret), "secret in stdout");
        assert!(!file_logs.contains(secret), "secret in the log file");
        assert!(!logs.to_string().contains(secret), "secret in the log API");
    }
}
