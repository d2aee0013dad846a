//! The tools manager: ffmpeg/ffprobe from the system, yt-dlp, streamlink and
//! apprise from `<data_dir>/tools/venv` (or a read-only fallback venv, e.g. the
//! container image's copy, until that one exists).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::pins::{PYTHON_TOOLS, PythonTool};
use super::status::{Location, Probe, ToolStatus};

/// Hint for ffmpeg and ffprobe (Debian names; both come in one package).
pub const FFMPEG_HINT: &str = "install it with `apt-get install ffmpeg`";
/// Hint for the tools that live in the virtualenv.
pub const VENV_HINT: &str = "Tapearr installs it into <data_dir>/tools/venv with pinned versions; \
     this needs python3 with venv (`apt-get install python3 python3-venv`) and access to PyPI";
/// Hint when python3 itself is missing.
pub const PYTHON_HINT: &str = "install it with `apt-get install python3 python3-venv`";

/// Finds, checks, installs and updates Tapearr's external tools.
#[derive(Debug)]
pub struct ToolsManager {
    /// Where installs and updates go.
    pub(crate) venv: PathBuf,
    /// Used while `venv` has no interpreter: a venv prepared elsewhere (the image's).
    fallback: Option<PathBuf>,
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
    pub(crate) python: PathBuf,
    probe_timeout: Duration,
    pub(crate) pip_timeout: Duration,
    /// Serializes installs and updates.
    pub(crate) busy: tokio::sync::Mutex<()>,
    /// Install the PO-token provider plugin too ([`super::pins::PO_TOKEN_PLUGIN`]).
    pub(crate) po_token_plugin: bool,
    /// Extra `pip install` arguments (a local index in tests: `--no-index --find-links DIR`).
    pub(crate) pip_args: Vec<String>,
}

impl ToolsManager {
    /// A manager whose virtualenv is `<data_dir>/tools/venv`; ffmpeg and ffprobe from PATH.
    pub fn new(data_dir: impl AsRef<Path>) -> Self {
        Self {
            venv: data_dir.as_ref().join("tools").join("venv"),
            fallback: None,
            ffmpeg: PathBuf::from("ffmpeg"),
            ffprobe: PathBuf::from("ffprobe"),
            python: PathBuf::from("python3"),
            probe_timeout: Duration::from_secs(15),
            pip_timeout: Duration::from_secs(15 * 60),
            busy: tokio::sync::Mutex::new(()),
            po_token_plugin: false,
            pip_args: Vec::new(),
        }
    }

    /// Passes these arguments to every `pip install` (a mirror, a local wheel folder).
    pub fn with_pip_args(mut self, args: Vec<String>) -> Self {
        self.pip_args = args;
        self
    }

    /// Installs yt-dlp's PO-token provider plugin too (when a provider URL is configured).
    pub fn with_po_token_plugin(mut self, on: bool) -> Self {
        self.po_token_plugin = on;
        self
    }

    /// Uses this ffmpeg (a path, or a name looked up in PATH).
    pub fn with_ffmpeg(mut self, program: impl Into<PathBuf>) -> Self {
        self.ffmpeg = program.into();
        self
    }

    /// Uses this ffprobe (a path, or a name looked up in PATH).
    pub fn with_ffprobe(mut self, program: impl Into<PathBuf>) -> Self {
        self.ffprobe = program.into();
        self
    }

    /// Creates the virtualenv with this interpreter (default `python3`).
    pub fn with_python(mut self, program: impl Into<PathBuf>) -> Self {
        self.python = program.into();
        self
    }

    /// Limit for each `--version` probe (default 15 s; Python tools start slowly on busy machines).
    pub fn with_probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// Runs the tools from this venv while `<data_dir>/tools/venv` does not exist. It is
    /// never written: an update creates the data dir's venv, which wins from then on (so
    /// updates survive a container restart while a new image still brings fresh tools).
    pub fn with_fallback_venv(mut self, venv: Option<PathBuf>) -> Self {
        self.fallback = venv;
        self
    }

    /// The virtualenv directory that installs and updates write.
    pub fn venv_dir(&self) -> &Path {
        &self.venv
    }

    /// The virtualenv the tools run from: the data dir's once it has an interpreter,
    /// else the fallback when that has one, else the data dir's (to name it in errors).
    pub fn active_venv(&self) -> &Path {
        let has_python = |venv: &Path| venv.join("bin").join("python").exists();
        match &self.fallback {
            Some(fallback) if !has_python(&self.venv) && has_python(fallback) => fallback,
            _ => &self.venv,
        }
    }

    /// The ffmpeg to run.
    pub fn ffmpeg(&self) -> &Path {
        &self.ffmpeg
    }

    /// The ffprobe to run.
    pub fn ffprobe(&self) -> &Path {
        &self.ffprobe
    }

    /// The JavaScript runtime yt-dlp is told to use (`--js-runtimes deno:<path>`), when the
    /// venv has one: an older venv without it still runs yt-dlp, with fewer YouTube formats.
    pub fn js_runtime(&self) -> Option<PathBuf> {
        Some(self.tool_path(&super::pins::DENO)).filter(|p| p.is_file())
    }

    /// The path of a virtualenv tool, e.g. `tool_path(&YT_DLP)`.
    pub fn tool_path(&self, tool: &PythonTool) -> PathBuf {
        self.active_venv().join("bin").join(tool.binary)
    }

    /// When each managed tool was last installed (file mtimes): changes after an update.
    pub fn installed_stamp(&self) -> Vec<Option<std::time::SystemTime>> {
        PYTHON_TOOLS
            .iter()
            .map(|t| {
                std::fs::metadata(self.tool_path(t))
                    .and_then(|m| m.modified())
                    .ok()
            })
            .collect()
    }

    /// Checks every tool concurrently: ffmpeg, ffprobe, then the Python tools.
    pub async fn status(&self) -> Vec<ToolStatus> {
        let system = |name, program| Probe {
            name,
            required: true,
            location: Location::System(program),
            version_arg: "-version",
            install_hint: FFMPEG_HINT.to_owned(),
            timeout: self.probe_timeout,
        };
        let venv = |tool: PythonTool| Probe {
            name: tool.binary,
            required: tool.required,
            location: Location::Venv(self.tool_path(&tool)),
            version_arg: "--version",
            install_hint: VENV_HINT.to_owned(),
            timeout: self.probe_timeout,
        };
        let [yt_dlp, deno, streamlink, apprise] = PYTHON_TOOLS;
        let (a, b, c, d, e, f) = tokio::join!(
            system("ffmpeg", &self.ffmpeg).run(),
            system("ffprobe", &self.ffprobe).run(),
            venv(yt_dlp).run(),
            venv(deno).run(),
            venv(streamlink).run(),
            venv(apprise).run(),
        );
        vec![a, b, c, d, e, f]
    }
}
