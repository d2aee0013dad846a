//! The yt-dlp update against a local wheel folder (no network): wheels built here, a real
//! venv and pip; a release that fails the self-check is rolled back.

use std::path::Path;
use std::process::Command;

use tokio_util::sync::CancellationToken;

use super::*;

/// Builds `yt_dlp-<version>-py3-none-any.whl` in `dir` whose `yt-dlp` works as the self-check
/// needs, or (`broken`) fails at start as a bad release would; plus a `yt-dlp-ejs` wheel.
fn wheels(dir: &Path, versions: &[(&str, bool)]) {
    const BUILD: &str = r#"
import sys, zipfile
dir, name, version, body = sys.argv[1:5]
module = name.replace("-", "_")
with zipfile.ZipFile(f"{dir}/{module}-{version}-py3-none-any.whl", "w") as w:
    info = f"{module}-{version}.dist-info"
    w.writestr(f"{module}/__init__.py", body)
    w.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    w.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    if name == "yt-dlp":
        w.writestr(f"{info}/entry_points.txt", "[console_scripts]\nyt-dlp = yt_dlp:main\n")
    w.writestr(f"{info}/RECORD", "")
"#;
    let build = |name: &str, version: &str, body: &str| {
        let ok = Command::new("python3")
            .args(["-c", BUILD])
            .arg(dir)
            .args([name, version, body])
            .status()
            .expect("python3");
        assert!(ok.success(), "building the {name} {version} wheel");
    };
    for (version, works) in versions {
        let body = if *works {
            format!(
                "import json, sys\n\
                 def main():\n    \
                 a = sys.argv[1:]\n    \
                 if '--version' in a:\n        print('{version}'); return\n    \
                 if '-J' in a:\n        print(json.dumps({{'id': 'page', 'formats': [{{'url': a[-1]}}]}})); return\n    \
                 sys.exit(2)\n"
            )
        } else {
            "def main():\n    raise ImportError('a broken release')\n".to_string()
        };
        build("yt-dlp", version, &body);
    }
    build("yt-dlp-ejs", "1.0", "");
}

fn version_of(manager: &ToolsManager) -> String {
    let out = Command::new(manager.tool_path(&YT_DLP))
        .arg("--version")
        .output()
        .expect("yt-dlp runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn a_release_that_fails_the_self_check_is_rolled_back_and_nightly_takes_pre_releases() {
    let data = tempfile::tempdir().expect("tempdir");
    let index = tempfile::tempdir().expect("wheels");
    wheels(index.path(), &[("1.0", true), ("2.0", false)]);
    let manager = ToolsManager::new(data.path()).with_pip_args(vec![
        "--no-index".into(),
        "--find-links".into(),
        index.path().display().to_string(),
    ]);
    let cancel = CancellationToken::new();
    manager.create_venv(&cancel).await.expect("venv");
    manager
        .pip(&["yt-dlp==1.0".into(), "yt-dlp-ejs==1.0".into()], &cancel)
        .await
        .expect("install 1.0");
    manager.self_check_yt_dlp(&cancel).await.expect("1.0 works");

    // 2.0 is the newest release, and broken: back to 1.0.
    let update = manager
        .update_yt_dlp(YtDlpChannel::Stable, &cancel)
        .await
        .expect("update ran");
    assert_eq!(update.old.as_deref(), Some("1.0"));
    assert_eq!(update.installed.as_deref(), Some("2.0"));
    assert_eq!(update.now.as_deref(), Some("1.0"), "{update:?}");
    let why = update.rolled_back.clone().expect("rolled back");
    assert!(why.contains("--version"), "{why}");
    assert!(
        update.summary().contains("rolled back to 1.0"),
        "{}",
        update.summary()
    );
    assert_eq!(version_of(&manager), "1.0", "the venv runs 1.0 again");

    // A working nightly (a pre-release) is taken only on the nightly channel, and kept.
    wheels(index.path(), &[("3.0.dev1", true)]);
    let update = manager
        .update_yt_dlp(YtDlpChannel::Nightly, &cancel)
        .await
        .expect("update ran");
    assert_eq!(update.now.as_deref(), Some("3.0.dev1"), "{update:?}");
    assert_eq!(update.rolled_back, None);
    assert_eq!(version_of(&manager), "3.0.dev1");
    assert_eq!(manager.good_version().await.as_deref(), Some("3.0.dev1"));
}

/// "Update yt-dlp and streamlink" (every tool at once) checks yt-dlp like the scheduled
/// update: a broken release is rolled back and the update says so.
#[tokio::test]
async fn the_update_of_every_tool_rolls_a_broken_yt_dlp_back_too() {
    let data = tempfile::tempdir().expect("tempdir");
    let index = tempfile::tempdir().expect("wheels");
    wheels(index.path(), &[("1.0", true), ("2.0", false)]);
    for package in ["deno", "streamlink", "apprise"] {
        other_wheel(index.path(), package, "1.0");
    }
    let manager = ToolsManager::new(data.path()).with_pip_args(vec![
        "--no-index".into(),
        "--find-links".into(),
        index.path().display().to_string(),
    ]);
    let cancel = CancellationToken::new();
    manager.create_venv(&cancel).await.expect("venv");
    manager
        .pip(&["yt-dlp==1.0".into(), "yt-dlp-ejs==1.0".into()], &cancel)
        .await
        .expect("install 1.0");

    let updates = manager.update(&cancel).await.expect("update ran");
    let yt_dlp = updates
        .iter()
        .find(|u| u.package == "yt-dlp")
        .expect("yt-dlp listed");
    assert_eq!(yt_dlp.old.as_deref(), Some("1.0"), "{updates:?}");
    assert_eq!(yt_dlp.new.as_deref(), Some("1.0"), "{updates:?}");
    assert!(
        yt_dlp
            .rolled_back
            .as_deref()
            .is_some_and(|w| w.contains("--version")),
        "{updates:?}"
    );
    assert_eq!(version_of(&manager), "1.0", "the venv runs 1.0 again");
    let streamlink = updates.iter().find(|u| u.package == "streamlink");
    assert_eq!(
        streamlink.and_then(|u| u.new.as_deref()),
        Some("1.0"),
        "the other tools are updated: {updates:?}"
    );
}

/// A wheel for a package that only has to install.
fn other_wheel(dir: &Path, name: &str, version: &str) {
    let module = name.replace('-', "_");
    let script = format!(
        "import zipfile\n\
         with zipfile.ZipFile('{dir}/{module}-{version}-py3-none-any.whl', 'w') as w:\n    \
         i = '{module}-{version}.dist-info'\n    \
         w.writestr('{module}/__init__.py', '')\n    \
         w.writestr(i + '/METADATA', 'Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n')\n    \
         w.writestr(i + '/WHEEL', 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')\n    \
         w.writestr(i + '/RECORD', '')\n",
        dir = dir.display()
    );
    let ok = Command::new("python3")
        .args(["-c", &script])
        .status()
        .expect("python3");
    assert!(ok.success(), "building the {name} wheel");
}
