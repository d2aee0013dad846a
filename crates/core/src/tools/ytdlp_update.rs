//! Updating yt-dlp on its own (stable or nightly) with a self-check, and a rollback to the
//! version that worked before when the new one fails it.
//!
//! YouTube changes often and yt-dlp follows within days, so a scheduled update keeps trailers
//! coming; a broken release must not stop them, hence the check and the way back. The check
//! is offline: `--version`, an extraction of a local page (`file://`), and, when the venv has
//! Deno, that yt-dlp reports it as its JavaScript runtime.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::error::ToolsError;
use super::manager::ToolsManager;
use super::pins::YT_DLP;
use super::process::Process;
use super::version::parse_version;

/// Written after a version passed the self-check: the one a rollback returns to.
pub(super) const GOOD_MARKER: &str = ".tapearr-yt-dlp-good";

/// The packages updated together: yt-dlp and its YouTube solver scripts.
pub(super) const PACKAGES: [&str; 2] = ["yt-dlp", "yt-dlp-ejs"];

/// Which releases an update follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum YtDlpChannel {
    /// Releases (every few weeks).
    #[default]
    Stable,
    /// yt-dlp's nightly builds, published on PyPI as pre-releases: fixes for YouTube land
    /// there first.
    Nightly,
}

/// What an update did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YtDlpUpdate {
    pub channel: YtDlpChannel,
    /// The version before.
    pub old: Option<String>,
    /// The version pip installed.
    pub installed: Option<String>,
    /// The version in use now (`old` again after a rollback).
    pub now: Option<String>,
    /// Why the installed version was rolled back, if it was.
    pub rolled_back: Option<String>,
}

impl YtDlpUpdate {
    /// One line for the job and the event.
    pub fn summary(&self) -> String {
        let v = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        match &self.rolled_back {
            Some(why) => format!(
                "yt-dlp {} failed its self-check ({why}); rolled back to {}",
                v(&self.installed),
                v(&self.now)
            ),
            None if self.old == self.now => format!("yt-dlp {} is up to date", v(&self.now)),
            None => format!("yt-dlp {} → {}", v(&self.old), v(&self.now)),
        }
    }
}

impl ToolsManager {
    /// Upgrades yt-dlp (and yt-dlp-ejs) on `channel`, checks the result and, when the check
    /// fails, reinstalls the versions that were there before.
    ///
    /// Fails with [`ToolsError::Busy`] while another install or update runs.
    pub async fn update_yt_dlp(
        &self,
        channel: YtDlpChannel,
        cancel: &CancellationToken,
    ) -> Result<YtDlpUpdate, ToolsError> {
        let _busy = self.busy.try_lock().map_err(|_| ToolsError::Busy)?;
        self.create_venv(cancel).await?;
        let before = self.versions_of(&PACKAGES, cancel).await?;
        let mut install: Vec<String> = vec!["--upgrade".into()];
        if channel == YtDlpChannel::Nightly {
            install.push("--pre".into());
        }
        install.extend(PACKAGES.iter().map(|p| p.to_string()));
        self.pip(&install, cancel).await?;
        let after = self.versions_of(&PACKAGES, cancel).await?;
        let installed = after[0].clone();
        let (now, rolled_back) = self
            .keep_or_roll_back(&before, installed.clone(), cancel)
            .await?;
        Ok(YtDlpUpdate {
            channel,
            old: before[0].clone(),
            installed,
            now,
            rolled_back,
        })
    }

    /// After an upgrade (this one or the update of every tool): keeps the `installed` yt-dlp
    /// when it passes the self-check, and remembers it as good; otherwise reinstalls the
    /// versions of [`PACKAGES`] in `before`. Answers the yt-dlp version in use now and why
    /// the installed one was rolled back. The caller holds the busy lock.
    pub(super) async fn keep_or_roll_back(
        &self,
        before: &[Option<String>],
        installed: Option<String>,
        cancel: &CancellationToken,
    ) -> Result<(Option<String>, Option<String>), ToolsError> {
        let why = match self.self_check_yt_dlp(cancel).await {
            Ok(()) => {
                if let Some(v) = &installed {
                    self.write_good(v).await?;
                }
                return Ok((installed, None));
            }
            Err(why) => why,
        };
        tracing::warn!(version = ?installed, %why, "the updated yt-dlp failed its self-check");
        // Back to what was there; without a version before (a first install) the last known
        // good one is the only way back.
        let good = match before.first().cloned().flatten() {
            Some(v) => Some(v),
            None => self.good_version().await,
        };
        let mut now = installed.clone();
        if let Some(good) = good.filter(|g| Some(g) != installed.as_ref()) {
            let mut pins = vec![format!("yt-dlp=={good}")];
            if let Some(Some(ejs)) = before.get(1) {
                pins.push(format!("yt-dlp-ejs=={ejs}"));
            }
            self.pip(&pins, cancel).await?;
            now = self.versions_of(&PACKAGES[..1], cancel).await?[0].clone();
        }
        Ok((now, Some(why)))
    }

    /// Runs the installed yt-dlp offline: it must print its version, read a local page's
    /// video, and see the venv's Deno when there is one. `Err` says what failed.
    pub async fn self_check_yt_dlp(&self, cancel: &CancellationToken) -> Result<(), String> {
        let program = self.tool_path(&YT_DLP);
        let run = |args: Vec<String>| {
            Process::new(&program)
                .args(args)
                .capture_stdout(1024 * 1024)
                .timeout(Duration::from_secs(60))
                .grace_period(Duration::from_secs(1))
        };
        let out = run(vec!["--version".into()])
            .run(cancel)
            .await
            .map_err(|e| format!("`yt-dlp --version`: {e}"))?;
        parse_version(&out.stdout).ok_or("`yt-dlp --version` printed no version")?;

        // Beside the venv (the data dir's tools folder), removed again below.
        let dir = self.venv.with_file_name("self-check");
        let page = write_page(&dir).map_err(|e| format!("the local test page: {e}"))?;
        let out = run([
            "--ignore-config",
            "--enable-file-urls",
            "--no-playlist",
            "-J",
            "--skip-download",
        ]
        .map(str::to_owned)
        .into_iter()
        .chain([page])
        .collect())
        .run(cancel)
        .await;
        let _ = std::fs::remove_dir_all(&dir);
        let out = out.map_err(|e| format!("extracting a local page: {e}"))?;
        let json: serde_json::Value = serde_json::from_str(out.stdout.trim())
            .map_err(|e| format!("extracting a local page printed no metadata: {e}"))?;
        if json["formats"].as_array().is_none_or(|f| f.is_empty()) {
            return Err("extracting a local page found no video".into());
        }

        if let Some(deno) = self.js_runtime() {
            let mut runtimes = String::new();
            // Without a URL yt-dlp ends with a usage error after its debug header.
            let _ = Process::new(&program)
                .args(["--ignore-config", "-v", "--js-runtimes"])
                .arg(format!("deno:{}", deno.display()))
                .timeout(Duration::from_secs(60))
                .run_with(cancel, |_, line| {
                    if let Some((_, list)) = line.split_once("JS runtimes:") {
                        runtimes = list.trim().to_owned();
                    }
                })
                .await;
            if !runtimes.contains("deno") {
                return Err(format!(
                    "it does not see Deno as its JavaScript runtime (`JS runtimes: {runtimes}`)"
                ));
            }
        }
        Ok(())
    }

    /// The last yt-dlp version that passed the self-check, if any.
    pub async fn good_version(&self) -> Option<String> {
        tokio::fs::read_to_string(self.venv.join(GOOD_MARKER))
            .await
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    async fn write_good(&self, version: &str) -> Result<(), ToolsError> {
        let path = self.venv.join(GOOD_MARKER);
        tokio::fs::write(&path, format!("{version}\n"))
            .await
            .map_err(|source| ToolsError::Io {
                op: "write",
                path,
                source,
            })
    }
}

/// A page with one `<video>` whose source is a local file, as a `file://` URL.
fn write_page(dir: &Path) -> std::io::Result<String> {
    std::fs::create_dir_all(dir)?;
    let clip = dir.join("clip.mp4");
    std::fs::write(&clip, b"")?;
    let page = dir.join("page.html");
    let clip_url = url::Url::from_file_path(&clip)
        .map_err(|()| std::io::Error::other("not an absolute path"))?;
    std::fs::write(
        &page,
        format!(
            "<html><head><title>Tapearr self-check</title></head>\
             <body><video src=\"{clip_url}\"></video></body></html>"
        ),
    )?;
    url::Url::from_file_path(&page)
        .map(String::from)
        .map_err(|()| std::io::Error::other("not an absolute path"))
}
