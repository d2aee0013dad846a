//! Periodic checks that raise events worth a notification: low disk space and tool updates.

use crate::events::{DomainEvent, EventBus};
use crate::jobs::{JobContext, JobError, JobHandler, TaskDef};
use crate::settings::LiveConfig;
use crate::system::root_status;
use crate::tools::{PYTHON_TOOLS, Process, ToolsManager, YtDlpChannel};
use async_trait::async_trait;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const CHECK_DISK_JOB: &str = "system.check_disk";
pub const CHECK_TOOLS_JOB: &str = "tools.check_updates";
pub const UPDATE_YTDLP_JOB: &str = "tools.update_ytdlp";

pub fn task_defs() -> Vec<TaskDef> {
    vec![
        TaskDef {
            name: "check-disk",
            kind: CHECK_DISK_JOB,
            description: "Raise system.disk_low when free space falls below disk.low_free_gb",
            interval: Duration::from_secs(600),
            initial_delay: Duration::from_secs(30),
        },
        TaskDef {
            name: "check-tool-updates",
            kind: CHECK_TOOLS_JOB,
            description: "Ask PyPI whether yt-dlp, streamlink or apprise have newer releases",
            interval: Duration::from_secs(24 * 3600),
            initial_delay: Duration::from_secs(900),
        },
        TaskDef {
            name: "update-yt-dlp",
            kind: UPDATE_YTDLP_JOB,
            description: "Update yt-dlp on its channel (tools.ytdlp_channel); a release that fails \
                          the self-check is rolled back (off with tools.ytdlp_auto_update = false)",
            interval: Duration::from_secs(24 * 3600),
            initial_delay: Duration::from_secs(2 * 3600),
        },
    ]
}

/// Raises `system.disk_low` once per watched path when its free space falls below the
/// threshold or a write under it failed for lack of space, and again only after it recovered.
/// Shared by the periodic check, the recorder (a write that hit ENOSPC) and finalize (waiting
/// for room), so the user hears of a full disk at once, and once.
pub struct DiskWatch {
    /// The data dir; the library roots and the threshold are read from the live settings.
    data_dir: PathBuf,
    live: LiveConfig,
    events: EventBus,
    low: Mutex<HashSet<PathBuf>>,
}

impl DiskWatch {
    pub fn new(data_dir: PathBuf, live: LiveConfig, events: EventBus) -> Self {
        Self {
            data_dir,
            live,
            events,
            low: Mutex::default(),
        }
    }

    /// The data dir and every library root in use now.
    fn paths(&self) -> Vec<PathBuf> {
        let mut paths = vec![self.data_dir.clone()];
        paths.extend(self.live.current().library_roots.iter().cloned());
        paths
    }

    fn threshold_bytes(&self) -> u64 {
        (self.live.current().disk.low_free_gb * 1_073_741_824.0) as u64
    }

    /// Checks every watched path; returns a line per path for the job's progress.
    pub async fn check_all(&self) -> Vec<String> {
        let mut newly_low = Vec::new();
        let mut summary = Vec::new();
        let threshold = self.threshold_bytes();
        for path in &self.paths() {
            let status = root_status(path.clone());
            let Some(free) = status.free_bytes else {
                summary.push(format!("{}: unreadable", path.display()));
                continue;
            };
            summary.push(format!(
                "{}: {:.1} GiB free",
                path.display(),
                free as f64 / 1_073_741_824.0
            ));
            if free < threshold {
                if self.mark_low(path) {
                    newly_low.push((path.clone(), free));
                }
            } else if let Ok(mut low) = self.low.lock() {
                low.remove(path);
            }
        }
        for (path, free) in newly_low {
            self.raise(&path, free).await;
        }
        summary
    }

    /// A write under `path` failed for lack of space (or finalize found too little room):
    /// raise `system.disk_low` for the watched path holding it now, not at the next check.
    pub async fn report_full(&self, path: &Path) {
        let watched = self
            .paths()
            .into_iter()
            .filter(|p| path.starts_with(p))
            .max_by_key(|p| p.components().count())
            .unwrap_or_else(|| path.to_path_buf());
        let free = root_status(watched.clone()).free_bytes.unwrap_or(0);
        if self.mark_low(&watched) {
            self.raise(&watched, free).await;
        }
    }

    /// True when the path was not known to be low yet.
    fn mark_low(&self, path: &Path) -> bool {
        self.low
            .lock()
            .map(|mut low| low.insert(path.to_path_buf()))
            .unwrap_or(false)
    }

    async fn raise(&self, path: &Path, free_bytes: u64) {
        let path = path.display().to_string();
        tracing::warn!(path, free_bytes, "low disk space");
        self.events
            .emit(DomainEvent::DiskLow {
                path,
                free_bytes,
                threshold_bytes: self.threshold_bytes(),
            })
            .await;
    }
}

/// The periodic disk check (`check-disk`).
pub struct CheckDisk(pub Arc<DiskWatch>);

#[async_trait]
impl JobHandler for CheckDisk {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let summary = self.0.check_all().await;
        ctx.set_progress(1.0, Some(summary.join("; "))).await;
        Ok(())
    }
}

/// Raises `tools.update_available` when PyPI has newer releases than the venv holds (once per
/// set of versions).
pub struct CheckToolUpdates {
    pub tools: Arc<ToolsManager>,
    pub events: EventBus,
    last: Mutex<Vec<String>>,
}

impl CheckToolUpdates {
    pub fn new(tools: Arc<ToolsManager>, events: EventBus) -> Self {
        Self {
            tools,
            events,
            last: Mutex::default(),
        }
    }
}

#[derive(Deserialize)]
struct Outdated {
    name: String,
    version: String,
    latest_version: String,
}

/// `pip list --outdated --format json` → "pkg old → new" for Tapearr's tools only.
pub fn parse_outdated(json: &str) -> Result<Vec<String>, String> {
    let all: Vec<Outdated> = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let ours: Vec<String> = all
        .into_iter()
        .filter(|o| {
            PYTHON_TOOLS
                .iter()
                .any(|t| t.package.eq_ignore_ascii_case(&o.name))
        })
        .map(|o| format!("{} {} → {}", o.name, o.version, o.latest_version))
        .collect();
    Ok(ours)
}

#[async_trait]
impl JobHandler for CheckToolUpdates {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let out = Process::new(self.tools.venv_python())
            .args([
                "-m",
                "pip",
                "list",
                "--outdated",
                "--format",
                "json",
                "--disable-pip-version-check",
            ])
            .capture_stdout(1024 * 1024)
            .install_hint("run `tapearr tools install` first")
            .timeout(Duration::from_secs(120))
            .run(&ctx.cancel)
            .await
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        let updates = parse_outdated(&out.stdout)
            .map_err(|e| JobError::Permanent(format!("pip output: {e}")))?;
        let changed = match self.last.lock() {
            Ok(mut last) if *last != updates => {
                *last = updates.clone();
                true
            }
            _ => false,
        };
        if changed && !updates.is_empty() {
            self.events
                .emit(DomainEvent::ToolsUpdateAvailable {
                    updates: updates.clone(),
                })
                .await;
        }
        let message = if updates.is_empty() {
            "up to date".to_string()
        } else {
            updates.join(", ")
        };
        ctx.set_progress(1.0, Some(message)).await;
        Ok(())
    }
}

/// The scheduled yt-dlp update (`update-yt-dlp`): a rollback fails the job (so `job.failed`
/// tells the user) after `tools.updated` said what happened.
pub struct UpdateYtDlp {
    pub tools: Arc<ToolsManager>,
    pub events: EventBus,
    pub channel: YtDlpChannel,
    pub enabled: bool,
}

#[async_trait]
impl JobHandler for UpdateYtDlp {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        if !self.enabled {
            let off = "automatic yt-dlp updates are off (tools.ytdlp_auto_update)";
            ctx.set_progress(1.0, Some(off.into())).await;
            return Ok(());
        }
        let update = self
            .tools
            .update_yt_dlp(self.channel, &ctx.cancel)
            .await
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        let summary = update.summary();
        if update.old != update.installed {
            self.events
                .emit(DomainEvent::ToolsUpdated {
                    changes: vec![summary.clone()],
                })
                .await;
        }
        if update.rolled_back.is_some() {
            return Err(JobError::Permanent(summary));
        }
        ctx.set_progress(1.0, Some(summary)).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_tools_count_as_updates() {
        let json = r#"[{"name":"yt-dlp","version":"2026.10.26","latest_version":"2026.11.20","latest_filetype":"wheel"},
                       {"name":"certifi","version":"1","latest_version":"2","latest_filetype":"wheel"}]"#;
        assert_eq!(
            parse_outdated(json).expect("json"),
            vec!["yt-dlp 2026.10.26 → 2026.11.20"]
        );
        assert!(parse_outdated("[]").expect("json").is_empty());
        assert!(parse_outdated("not json").is_err());
    }
}
