//! Tools (C7): supervised child processes, and the external tools Tapearr runs.
//!
//! [`Process`] runs any command under supervision; [`ToolsManager`] knows where
//! each tool lives, reports versions for `doctor` and the API, and installs or
//! updates the Python tools in `<data_dir>/tools/venv`.

mod error;
pub mod ffprobe;
mod lines;
mod manager;
mod orphans;
mod pins;
mod process;
mod status;
mod venv;
mod version;
mod ytdlp_update;

#[cfg(test)]
mod manager_tests;
#[cfg(test)]
mod process_tests;
#[cfg(test)]
mod ytdlp_update_tests;

pub use error::{ProcessError, ToolsError};
pub use ffprobe::{MediaFacts, ProbeError};
pub use manager::{FFMPEG_HINT, PYTHON_HINT, ToolsManager, VENV_HINT};
pub use orphans::{OWNER_ENV, kill_orphaned_tools, mark_tools_with};
pub use pins::{
    APPRISE, DENO, PYTHON_TOOLS, PythonTool, STREAMLINK, SUPPORT_PACKAGES, YT_DLP, package_names,
    pinned_requirements,
};
pub use process::{GracefulStop, Process, ProcessOutput, Stream};
pub use status::ToolStatus;
pub use venv::ToolUpdate;
pub use version::parse_version;
pub use ytdlp_update::{YtDlpChannel, YtDlpUpdate};
