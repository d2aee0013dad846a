//! The server's own hardening (C13): security headers on the app and the API, a private
//! database file, tools that inherit no Tapearr secrets, Apprise URLs kept out of the process
//! list, and a lost `secret.key` that stops the start with what to do.

mod common;

use common::{Client, Server, ServerOptions, assert_security_headers, backends, eventually};
use reqwest::StatusCode;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;
use tapearr_core::notify::model::Channel as NotificationChannel;

/// A fake `apprise` in the data dir's tools venv: records its argument list, its environment
/// and the config file it was given.
fn fake_apprise(data_dir: &Path) {
    let bin = data_dir.join("tools/venv/bin");
    std::fs::create_dir_all(&bin).expect("venv");
    let out = data_dir.join("apprise-probe");
    let script = format!(
        r#"#!/bin/sh
if [ "$1" = "--version" ]; then echo "Apprise v1.9.0"; exit 0; fi
out='{out}'
mkdir -p "$out"
: > "$out/argv.tmp"
for a in "$@"; do printf '%s\n' "$a" >> "$out/argv.tmp"; done
env > "$out/env"
prev=""
for a in "$@"; do
  if [ "$prev" = "--config" ]; then cat "$a" > "$out/config"; ls -l "$a" > "$out/config-mode"; fi
  prev="$a"
done
mv "$out/argv.tmp" "$out/argv"
"#,
        out = out.display()
    );
    let path = bin.join("apprise");
    std::fs::write(&path, script).expect("script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

const SECRET: &str = "probe-secret-7f3a";
const APPRISE_URL: &str = "json://user:apprise-pass-91c2@127.0.0.1:9/hook";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_a_private_database_and_tools_that_see_no_secrets() {
    for backend in backends("hardening").await {
        let data = tempfile::tempdir().expect("data");
        fake_apprise(data.path());
        let server = Server::start(ServerOptions {
            data_dir: data.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![("TAPEARR_TMDB__API_KEY", SECRET.to_string())],
        });
        let (mut client, _) = Client::admin(&server).await;

        // Headers: the app's shell, an API answer, an error.
        for path in ["/", "/recordings", "/api/v1/health", "/api/v1/nope"] {
            let r = reqwest::get(server.url(path)).await.expect(path);
            assert_security_headers(r.headers(), path);
            let csp = r
                .headers()
                .get("content-security-policy")
                .expect("content-security-policy")
                .to_str()
                .unwrap_or_default()
                .to_string();
            if r.status() == StatusCode::OK && !path.starts_with("/api/") {
                // The built shell: its inline scripts by hash, never any inline script.
                assert!(csp.contains("script-src 'self' 'sha256-"), "{path}: {csp}");
            }
            if path.starts_with("/api/") {
                assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
            }
        }

        // The SQLite file and its WAL files: the owner's only.
        if backend.database_url.is_none() {
            for name in ["tapearr.db", "tapearr.db-wal", "tapearr.db-shm"] {
                let path = data.path().join(name);
                if let Ok(meta) = std::fs::metadata(&path) {
                    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
                } else {
                    assert_ne!(name, "tapearr.db", "the database file exists");
                }
            }
        }

        // Apprise: the URL reaches the tool in a private file, not in its arguments; the
        // tool's environment holds no Tapearr setting but the owner mark.
        let created = client
            .post(
                "/api/v1/notifications/channels",
                json!({
                    "name": "apprise",
                    "config": {"kind": "apprise", "url": APPRISE_URL},
                    "event_types": ["job.failed"],
                    "batch_secs": 1,
                    "max_per_minute": 10,
                }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let id = created.json::<NotificationChannel>().id;
        let sent = client
            .post(
                &format!("/api/v1/notifications/channels/{id}/test"),
                json!({}),
            )
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let probe = data.path().join("apprise-probe");
        let argv = eventually(Duration::from_secs(20), "apprise to run", || {
            let p = probe.join("argv");
            async move { std::fs::read_to_string(p).ok() }
        })
        .await;
        assert!(
            !argv.contains("apprise-pass"),
            "the URL is in the arguments: {argv}"
        );
        assert!(argv.lines().any(|l| l == "--config"), "{argv}");
        assert_eq!(argv.lines().last(), Some("--"), "{argv}");
        let config = std::fs::read_to_string(probe.join("config")).expect("config");
        assert_eq!(config.trim(), APPRISE_URL);
        let mode = std::fs::read_to_string(probe.join("config-mode")).expect("mode");
        assert!(mode.starts_with("-rw-------"), "{mode}");
        let env = std::fs::read_to_string(probe.join("env")).expect("env");
        let tapearr: Vec<&str> = env
            .lines()
            .filter(|l| l.starts_with("TAPEARR_"))
            .map(|l| l.split('=').next().unwrap_or_default())
            .collect();
        assert_eq!(tapearr, ["TAPEARR_TOOL_OF"], "{env}");
        assert!(!env.contains(SECRET), "{env}");
        drop(server);
    }
}

/// Runs `tapearr serve` expecting it to refuse to start; returns what it printed.
fn failed_start(data_dir: &Path, database_url: Option<&str>) -> String {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tapearr"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TAPEARR_LISTEN", "127.0.0.1:0");
    if let Some(url) = database_url {
        cmd.env("TAPEARR_DATABASE_URL", url);
    }
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("tapearr started without its secret.key");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().expect("output");
    assert!(!out.status.success());
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_or_replaced_secret_key_stops_the_start_with_what_to_do() {
    for backend in backends("hardening_key").await {
        let data = tempfile::tempdir().expect("data");
        let url = backend.database_url.as_deref();
        let server = Server::start(ServerOptions {
            data_dir: data.path(),
            database_url: url,
            env: vec![],
        });
        let _ = Client::admin(&server).await;
        let key = data.path().join("secret.key");
        let mode = std::fs::metadata(&key)
            .expect("secret.key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        drop(server);

        // Lost: no new key is made silently.
        let original = std::fs::read(&key).expect("key");
        std::fs::remove_file(&key).expect("lose the key");
        let text = failed_start(data.path(), url);
        assert!(text.contains("secret.key is missing"), "{text}");
        assert!(text.contains("secret.key.reset"), "{text}");
        assert!(!key.exists(), "no new key replaced the lost one");

        // Replaced by another key: refused too.
        std::fs::write(&key, [7u8; 32]).expect("another key");
        let text = failed_start(data.path(), url);
        assert!(text.contains("does not match the database"), "{text}");

        // Restored: starts.
        std::fs::write(&key, &original).expect("restore");
        let server = Server::start(ServerOptions {
            data_dir: data.path(),
            database_url: url,
            env: vec![],
        });
        drop(server);

        // Given up on purpose: a new key, and the server starts.
        std::fs::remove_file(&key).expect("lose the key again");
        std::fs::write(data.path().join("secret.key.reset"), "").expect("reset file");
        let server = Server::start(ServerOptions {
            data_dir: data.path(),
            database_url: url,
            env: vec![],
        });
        assert!(key.exists());
        assert!(!data.path().join("secret.key.reset").exists());
        drop(server);
    }
}
