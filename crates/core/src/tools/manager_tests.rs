//! The tools manager against the real ffmpeg/ffprobe/python3 and fake venv tools.
//! The PyPI install runs only with `TAPEARR_TEST_NETWORK=1`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::*;

fn fake_tool(venv: &Path, name: &str, script: &str) {
    let bin = venv.join("bin");
    fs::create_dir_all(&bin).expect("mkdir");
    let path = bin.join(name);
    fs::write(&path, format!("#!/bin/sh\n{script}\n")).expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn by_name<'a>(statuses: &'a [ToolStatus], name: &str) -> &'a ToolStatus {
    statuses
        .iter()
        .find(|s| s.name == name)
        .expect("tool listed")
}

#[tokio::test]
async fn status_reports_the_system_ffmpeg_and_missing_venv_tools() {
    let data = tempfile::tempdir().expect("tempdir");
    let statuses = ToolsManager::new(data.path()).status().await;
    let names: Vec<_> = statuses.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ffmpeg",
            "ffprobe",
            "yt-dlp",
            "deno",
            "streamlink",
            "apprise"
        ]
    );
    for name in ["ffmpeg", "ffprobe"] {
        let s = by_name(&statuses, name);
        assert!(
            s.is_ok(),
            "{s:?} (is ffmpeg installed? `apt-get install ffmpeg`)"
        );
        assert!(s.required);
        let version = s.version.as_deref().unwrap_or_default();
        assert!(
            version.starts_with(|c: char| c.is_ascii_digit() || c == 'n'),
            "{version}"
        );
        assert!(s.path.as_ref().is_some_and(|p| p.is_absolute()));
    }
    for (name, required) in [
        ("yt-dlp", true),
        ("deno", false),
        ("streamlink", false),
        ("apprise", false),
    ] {
        let s = by_name(&statuses, name);
        assert_eq!(s.required, required, "{name}");
        assert!(!s.is_ok() && s.path.is_none() && s.error.is_some(), "{s:?}");
        assert_eq!(s.install_hint, VENV_HINT);
    }
}

#[tokio::test]
async fn a_configured_ffmpeg_that_is_missing_is_reported_with_the_hint() {
    let data = tempfile::tempdir().expect("tempdir");
    let statuses = ToolsManager::new(data.path())
        .with_ffmpeg("/nonexistent/ffmpeg")
        .with_ffprobe("tapearr-no-such-ffprobe")
        .status()
        .await;
    for name in ["ffmpeg", "ffprobe"] {
        let s = by_name(&statuses, name);
        assert!(!s.is_ok() && s.path.is_none(), "{s:?}");
        assert_eq!(s.install_hint, FFMPEG_HINT);
    }
}

#[tokio::test]
async fn venv_tools_are_probed_in_the_venv() {
    let data = tempfile::tempdir().expect("tempdir");
    let manager = ToolsManager::new(data.path()).with_probe_timeout(Duration::from_millis(500));
    let venv = manager.venv_dir().to_path_buf();
    fake_tool(&venv, "yt-dlp", "echo 2026.10.26");
    fake_tool(&venv, "streamlink", "echo 'streamlink 8.6.3'");
    fake_tool(&venv, "apprise", "exec sleep 30");
    let statuses = manager.status().await;

    let yt = by_name(&statuses, "yt-dlp");
    assert_eq!(yt.version.as_deref(), Some("2026.10.26"));
    assert_eq!(yt.path.as_deref(), Some(venv.join("bin/yt-dlp").as_path()));
    let sl = by_name(&statuses, "streamlink");
    assert_eq!(sl.version.as_deref(), Some("8.6.3"));
    let ap = by_name(&statuses, "apprise");
    assert!(!ap.is_ok());
    assert!(
        ap.error.as_deref().is_some_and(|e| e.contains("timed out")),
        "{ap:?}"
    );
}

#[tokio::test]
async fn missing_python_gives_an_install_hint() {
    let data = tempfile::tempdir().expect("tempdir");
    let err = ToolsManager::new(data.path())
        .with_python("tapearr-no-such-python")
        .create_venv(&CancellationToken::new())
        .await
        .expect_err("no python");
    assert!(
        matches!(err, ToolsError::Process(ProcessError::NotFound { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains(PYTHON_HINT), "{err}");
}

#[tokio::test]
async fn create_venv_makes_an_empty_virtualenv_once() {
    let data = tempfile::tempdir().expect("tempdir");
    let manager = ToolsManager::new(data.path());
    // A leftover of an interrupted creation is replaced.
    fs::create_dir_all(manager.venv_dir().join("junk")).expect("mkdir");
    let cancel = CancellationToken::new();
    assert!(manager.create_venv(&cancel).await.expect("create"));
    assert!(manager.venv_python().exists());
    assert!(!manager.venv_dir().join("junk").exists());
    assert!(!manager.create_venv(&cancel).await.expect("exists"));
    let versions = manager.package_versions(&cancel).await.expect("versions");
    assert_eq!(
        versions,
        [
            ("yt-dlp".to_owned(), None),
            ("deno".to_owned(), None),
            ("streamlink".to_owned(), None),
            ("apprise".to_owned(), None)
        ]
    );
}

#[tokio::test]
async fn pinned_install_and_update_from_pypi() {
    if std::env::var_os("TAPEARR_TEST_NETWORK").is_none() {
        eprintln!("skipped: set TAPEARR_TEST_NETWORK=1 to install from PyPI");
        return;
    }
    let data = tempfile::tempdir().expect("tempdir");
    let manager = ToolsManager::new(data.path());
    let cancel = CancellationToken::new();
    assert!(manager.ensure_installed(&cancel).await.expect("install"));
    assert!(!manager.ensure_installed(&cancel).await.expect("no-op"));
    let statuses = manager.status().await;
    for tool in PYTHON_TOOLS {
        let s = by_name(&statuses, tool.binary);
        assert_eq!(s.version.as_deref(), Some(tool.version), "{s:?}");
    }
    let updates = manager.update(&cancel).await.expect("update");
    assert_eq!(updates.len(), 3);
    for (update, tool) in updates.iter().zip(PYTHON_TOOLS) {
        assert_eq!(update.old.as_deref(), Some(tool.version));
        assert!(update.new.is_some());
    }
}

/// A venv with an interpreter and every Python tool, marked with this pin set.
fn pinned_fake_venv(venv: &Path) {
    fake_tool(venv, "python", "exit 0");
    for tool in PYTHON_TOOLS {
        fake_tool(venv, tool.binary, &format!("echo {}", tool.version));
    }
    fs::write(venv.join(venv::MARKER), venv::pin_set()).expect("marker");
}

#[tokio::test]
async fn the_fallback_venv_serves_until_the_data_dir_has_its_own() {
    let data = tempfile::tempdir().expect("tempdir");
    let image = tempfile::tempdir().expect("tempdir");
    let fallback = image.path().join("venv");
    pinned_fake_venv(&fallback);
    // No python: proves that no virtualenv is created and pip never runs.
    let manager = ToolsManager::new(data.path())
        .with_python("tapearr-no-such-python")
        .with_fallback_venv(Some(fallback.clone()));
    assert_eq!(manager.active_venv(), fallback);
    assert_eq!(manager.tool_path(&YT_DLP), fallback.join("bin/yt-dlp"));
    let cancel = CancellationToken::new();
    assert!(!manager.ensure_installed(&cancel).await.expect("no-op"));
    assert!(!manager.venv_dir().exists());
    let statuses = manager.status().await;
    let yt = by_name(&statuses, "yt-dlp");
    assert_eq!(yt.version.as_deref(), Some(YT_DLP.version), "{yt:?}");

    // An update made the data dir's venv: it wins from then on.
    let own = manager.venv_dir().to_path_buf();
    fake_tool(&own, "python", "exit 0");
    fake_tool(&own, "yt-dlp", "echo 2099.1.1");
    assert_eq!(manager.active_venv(), own);
    assert_eq!(manager.venv_python(), own.join("bin/python"));
    let statuses = manager.status().await;
    let yt = by_name(&statuses, "yt-dlp");
    assert_eq!(yt.version.as_deref(), Some("2099.1.1"), "{yt:?}");
}

#[tokio::test]
async fn a_fallback_with_other_pins_or_no_interpreter_is_not_used() {
    let data = tempfile::tempdir().expect("tempdir");
    let image = tempfile::tempdir().expect("tempdir");
    let fallback = image.path().join("venv");
    let cancel = CancellationToken::new();
    let manager = || {
        ToolsManager::new(data.path())
            .with_python("tapearr-no-such-python")
            .with_fallback_venv(Some(fallback.clone()))
    };
    // Not there (a misconfigured path): the data dir's venv is named, as without one.
    assert_eq!(manager().active_venv(), manager().venv_dir());

    // Prepared for other pins (an older image's copy): an install into the data dir is due.
    pinned_fake_venv(&fallback);
    fs::write(fallback.join(venv::MARKER), "yt-dlp==2000.1.1\n").expect("marker");
    let err = manager()
        .ensure_installed(&cancel)
        .await
        .expect_err("tries to create the data dir's venv");
    assert!(
        matches!(err, ToolsError::Process(ProcessError::NotFound { .. })),
        "{err:?}"
    );
}
