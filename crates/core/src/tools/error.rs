//! Typed errors of the tools module. Command lines in messages have secret arguments masked.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Why a supervised process did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program does not exist (`where` is "in PATH" or "at <path>").
    #[error("{program} not found {location}; {hint}")]
    NotFound {
        /// The program as given.
        program: String,
        /// "in PATH", or "at <configured path>".
        location: String,
        /// What to do about it, e.g. "install it with `apt-get install ffmpeg`".
        hint: String,
    },
    /// It ran past its time limit and was stopped.
    #[error("`{command}` timed out after {after:?}{}", stopped_how(*.graceful))]
    TimedOut {
        /// The command line, secrets masked.
        command: String,
        /// The limit.
        after: Duration,
        /// True when it exited on the graceful stop, false when it had to be killed.
        graceful: bool,
        /// The last lines of stderr.
        stderr_tail: String,
    },
    /// Its cancellation token fired and it was stopped.
    #[error("`{command}` was cancelled{}", stopped_how(*.graceful))]
    Cancelled {
        /// The command line, secrets masked.
        command: String,
        /// True when it exited on the graceful stop, false when it had to be killed.
        graceful: bool,
        /// The last lines of stderr.
        stderr_tail: String,
    },
    /// It exited unsuccessfully.
    #[error("`{command}` failed ({}){}", exit_text(*.code, *.signal), tail_text(.stderr_tail))]
    Failed {
        /// The command line, secrets masked.
        command: String,
        /// The exit code, if it exited normally.
        code: Option<i32>,
        /// The signal that ended it, if any.
        signal: Option<i32>,
        /// The last lines of stderr.
        stderr_tail: String,
    },
    /// Starting or talking to the process failed.
    #[error("`{command}`: {source}")]
    Io {
        /// The command line, secrets masked.
        command: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl ProcessError {
    /// The stderr tail, when the process got far enough to print one.
    pub fn stderr_tail(&self) -> Option<&str> {
        match self {
            Self::TimedOut { stderr_tail, .. }
            | Self::Cancelled { stderr_tail, .. }
            | Self::Failed { stderr_tail, .. } => Some(stderr_tail),
            Self::NotFound { .. } | Self::Io { .. } => None,
        }
    }
}

fn stopped_how(graceful: bool) -> &'static str {
    if graceful {
        ""
    } else {
        " and had to be killed"
    }
}

fn exit_text(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "unknown exit status".to_owned(),
    }
}

fn tail_text(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!(": {tail}")
    }
}

/// Errors of the tools manager (virtualenv creation, installs, updates).
#[derive(Debug, thiserror::Error)]
pub enum ToolsError {
    /// A command it ran failed.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// Reading or writing the virtualenv failed.
    #[error("{op} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// Where (inside the data dir).
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Another install or update is already running.
    #[error("a tools install or update is already running")]
    Busy,
}
