//! Probing one tool: where it is and which version answers.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::process::Process;
use super::version::parse_version;

/// What `doctor` and `/api/v1/system/tools` show for one tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ToolStatus {
    /// e.g. "ffmpeg".
    pub name: String,
    /// Whether Tapearr cannot work without it.
    pub required: bool,
    /// The executable found, if any.
    #[schema(value_type = Option<String>)]
    pub path: Option<PathBuf>,
    /// The version it reported, if it ran.
    pub version: Option<String>,
    /// Why it is not usable, if it is not.
    pub error: Option<String>,
    /// How to install it.
    pub install_hint: String,
}

impl ToolStatus {
    /// True when it was found and reported a version.
    pub fn is_ok(&self) -> bool {
        self.error.is_none() && self.version.is_some()
    }
}

/// Where to look for a tool.
pub(crate) enum Location<'a> {
    /// A bare name is searched in PATH; anything with a `/` is used as it is.
    System(&'a Path),
    /// An executable expected at this path inside the virtualenv.
    Venv(PathBuf),
}

/// One probe's inputs.
pub(crate) struct Probe<'a> {
    pub(crate) name: &'a str,
    pub(crate) required: bool,
    pub(crate) location: Location<'a>,
    pub(crate) version_arg: &'a str,
    pub(crate) install_hint: String,
    pub(crate) timeout: Duration,
}

impl Probe<'_> {
    /// Finds the executable and runs it with the version flag.
    pub(crate) async fn run(self) -> ToolStatus {
        let mut status = ToolStatus {
            name: self.name.to_owned(),
            required: self.required,
            path: None,
            version: None,
            error: None,
            install_hint: self.install_hint,
        };
        let path = match self.location {
            Location::System(program) if program.components().count() > 1 => {
                Some(program.to_path_buf()).filter(|p| is_executable(p))
            }
            Location::System(program) => find_in_path(program),
            Location::Venv(path) => Some(path).filter(|p| is_executable(p)),
        };
        let Some(path) = path else {
            status.error = Some(format!("{} not found", self.name));
            return status;
        };
        let run = Process::new(&path)
            .arg(self.version_arg)
            .capture_stdout(64 * 1024)
            .timeout(self.timeout)
            .grace_period(Duration::from_secs(1))
            .run(&CancellationToken::new())
            .await;
        status.path = Some(path);
        match run {
            Ok(out) => {
                status.version =
                    parse_version(&out.stdout).or_else(|| parse_version(&out.stderr_tail));
                if status.version.is_none() {
                    status.error = Some("it ran but printed no version".to_owned());
                }
            }
            Err(e) => status.error = Some(e.to_string()),
        }
        status
    }
}

/// The first executable file called `name` in PATH.
pub(crate) fn find_in_path(name: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
