//! Creating the tools virtualenv and installing or updating the pinned Python tools.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::error::ToolsError;
use super::manager::{PYTHON_HINT, ToolsManager};
use super::pins::{PO_TOKEN_PLUGIN, PYTHON_TOOLS, YT_DLP, package_names, pinned_requirements};
use super::process::{Process, Stream};
use super::ytdlp_update::PACKAGES as YT_DLP_PACKAGES;

/// Written after a successful pinned install; holds the pin set it installed, so a
/// restart skips pip and a Tapearr upgrade with new pins installs them once.
pub(super) const MARKER: &str = ".tapearr-pins";

/// Prints `<package> <version or ->` for each package named in argv.
const VERSIONS_SCRIPT: &str = "import importlib.metadata as m, sys\n\
for p in sys.argv[1:]:\n    \
try: print(p, m.version(p))\n    \
except m.PackageNotFoundError: print(p, '-')\n";

/// One package's version before and after an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolUpdate {
    /// PyPI package name.
    pub package: String,
    /// Installed version before, if any.
    pub old: Option<String>,
    /// Installed version after, if any (for yt-dlp: the one in use after a rollback).
    pub new: Option<String>,
    /// yt-dlp only: why the upgraded version was rolled back (it failed the self-check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rolled_back: Option<String>,
}

impl ToolUpdate {
    /// True when the version changed.
    pub fn changed(&self) -> bool {
        self.old != self.new
    }
}

impl ToolsManager {
    /// The interpreter of the virtualenv the tools run from ([`ToolsManager::active_venv`]).
    pub fn venv_python(&self) -> PathBuf {
        self.active_venv().join("bin").join("python")
    }

    /// The interpreter of the data dir's virtualenv, which installs and updates write.
    fn own_python(&self) -> PathBuf {
        self.venv.join("bin").join("python")
    }

    /// Creates the virtualenv unless it has an interpreter already; a partial one
    /// (interrupted creation) is removed first. Returns whether it was created.
    pub async fn create_venv(&self, cancel: &CancellationToken) -> Result<bool, ToolsError> {
        if self.own_python().exists() {
            return Ok(false);
        }
        let io = |op, path: &PathBuf| {
            let path = path.clone();
            move |source| ToolsError::Io { op, path, source }
        };
        if tokio::fs::symlink_metadata(&self.venv).await.is_ok() {
            tokio::fs::remove_dir_all(&self.venv)
                .await
                .map_err(io("remove partial virtualenv", &self.venv))?;
        }
        if let Some(parent) = self.venv.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(io("create", &parent.to_path_buf()))?;
        }
        tracing::info!(venv = %self.venv.display(), "creating the tools virtualenv");
        Process::new(&self.python)
            .args(["-m", "venv"])
            .arg(&self.venv)
            .install_hint(PYTHON_HINT)
            .timeout(Duration::from_secs(5 * 60))
            .run(cancel)
            .await?;
        Ok(true)
    }

    /// Makes sure the virtualenv exists with the pinned tools; a no-op (no pip run)
    /// when this pin set was installed before, in the data dir's venv or, while that
    /// does not exist, in the fallback venv. Returns whether it installed.
    pub async fn ensure_installed(&self, cancel: &CancellationToken) -> Result<bool, ToolsError> {
        let _busy = self.busy.lock().await;
        let active = self.active_venv();
        let all_present = PYTHON_TOOLS.iter().all(|t| self.tool_path(t).exists());
        let installed = tokio::fs::read_to_string(active.join(MARKER)).await.ok();
        let pins = self.pin_set();
        if all_present && installed.as_deref() == Some(pins.as_str()) {
            return Ok(false);
        }
        let marker = self.venv.join(MARKER);
        self.create_venv(cancel).await?;
        self.pip_install(&self.requirements(), false, cancel)
            .await?;
        tokio::fs::write(&marker, pins)
            .await
            .map_err(|source| ToolsError::Io {
                op: "write",
                path: marker,
                source,
            })?;
        Ok(true)
    }

    /// Upgrades every Python tool to the latest release; reports old → new versions.
    ///
    /// Fails with [`ToolsError::Busy`] while another install or update runs.
    pub async fn update(&self, cancel: &CancellationToken) -> Result<Vec<ToolUpdate>, ToolsError> {
        let _busy = self.busy.try_lock().map_err(|_| ToolsError::Busy)?;
        // "Before" is what ran until now, which may be the fallback venv.
        let before = if self.venv_python().exists() {
            self.package_versions(cancel).await?
        } else {
            PYTHON_TOOLS
                .iter()
                .map(|t| (t.package.to_owned(), None))
                .collect()
        };
        self.create_venv(cancel).await?;
        // yt-dlp gets the self-check and rollback of the scheduled update: a broken release
        // must not stop trailers whichever button updated it.
        let yt_dlp_before = self.versions_of(&YT_DLP_PACKAGES, cancel).await?;
        let mut packages = package_names();
        if self.po_token_plugin {
            packages.push(PO_TOKEN_PLUGIN.0.to_owned());
        }
        self.pip_install(&packages, true, cancel).await?;
        let after = self.package_versions(cancel).await?;
        let mut updates: Vec<ToolUpdate> = before
            .into_iter()
            .zip(after)
            .map(|((package, old), (_, new))| ToolUpdate {
                package,
                old,
                new,
                rolled_back: None,
            })
            .collect();
        if let Some(u) = updates.iter_mut().find(|u| u.package == YT_DLP.package) {
            let (now, rolled_back) = self
                .keep_or_roll_back(&yt_dlp_before, u.new.clone(), cancel)
                .await?;
            u.new = now;
            u.rolled_back = rolled_back;
        }
        Ok(updates)
    }

    /// The installed version of each Python tool's package (`None` when absent).
    pub async fn package_versions(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<(String, Option<String>)>, ToolsError> {
        let out = Process::new(self.venv_python())
            .arg("-c")
            .arg(VERSIONS_SCRIPT)
            .args(PYTHON_TOOLS.iter().map(|t| t.package))
            .capture_stdout(16 * 1024)
            .timeout(Duration::from_secs(60))
            .install_hint("create the tools virtualenv first")
            .run(cancel)
            .await?;
        Ok(PYTHON_TOOLS
            .iter()
            .map(|tool| {
                let version = out
                    .stdout
                    .lines()
                    .filter_map(|l| l.split_once(' '))
                    .find(|(package, _)| *package == tool.package)
                    .map(|(_, v)| v.trim())
                    .filter(|v| *v != "-")
                    .map(str::to_owned);
                (tool.package.to_owned(), version)
            })
            .collect())
    }

    /// The installed version of each package named (`None` when absent), in order.
    pub(super) async fn versions_of(
        &self,
        packages: &[&str],
        cancel: &CancellationToken,
    ) -> Result<Vec<Option<String>>, ToolsError> {
        let out = Process::new(self.venv_python())
            .arg("-c")
            .arg(VERSIONS_SCRIPT)
            .args(packages)
            .capture_stdout(16 * 1024)
            .timeout(Duration::from_secs(60))
            .install_hint("create the tools virtualenv first")
            .run(cancel)
            .await?;
        Ok(packages
            .iter()
            .map(|package| {
                out.stdout
                    .lines()
                    .filter_map(|l| l.split_once(' '))
                    .find(|(p, _)| p == package)
                    .map(|(_, v)| v.trim())
                    .filter(|v| *v != "-")
                    .map(str::to_owned)
            })
            .collect())
    }

    /// `pip install` with these arguments (requirements and flags) into the data dir's venv.
    pub(super) async fn pip(
        &self,
        args: &[String],
        cancel: &CancellationToken,
    ) -> Result<(), ToolsError> {
        tracing::info!(?args, "pip install");
        Process::new(self.own_python())
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .args(["--progress-bar", "off"])
            .args(&self.pip_args)
            .args(args)
            .timeout(self.pip_timeout)
            .run_with(cancel, |stream, line| match stream {
                Stream::Stdout => tracing::debug!(target: "tapearr::tools::pip", "{line}"),
                Stream::Stderr => tracing::warn!(target: "tapearr::tools::pip", "{line}"),
            })
            .await?;
        Ok(())
    }

    /// The pinned requirements, with the PO-token plugin when it is wanted.
    fn requirements(&self) -> Vec<String> {
        let mut all = pinned_requirements();
        if self.po_token_plugin {
            let (package, version) = PO_TOKEN_PLUGIN;
            all.push(format!("{package}=={version}"));
        }
        all
    }

    /// What the marker holds after installing [`Self::requirements`].
    pub(super) fn pin_set(&self) -> String {
        self.requirements()
            .iter()
            .map(|r| format!("{r}\n"))
            .collect()
    }

    async fn pip_install(
        &self,
        requirements: &[String],
        upgrade: bool,
        cancel: &CancellationToken,
    ) -> Result<(), ToolsError> {
        let mut args: Vec<String> = Vec::with_capacity(requirements.len() + 1);
        if upgrade {
            args.push("--upgrade".into());
        }
        args.extend_from_slice(requirements);
        self.pip(&args, cancel).await
    }
}

/// The pin set as written to the marker by a default manager, one requirement per line.
#[cfg(test)]
pub(super) fn pin_set() -> String {
    pinned_requirements()
        .iter()
        .map(|r| format!("{r}\n"))
        .collect()
}
