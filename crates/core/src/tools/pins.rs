//! The Python tools Tapearr installs into its virtualenv, pinned to tested versions.
//!
//! Bump these together with a run of the tests that use the real tools; `update`
//! can move an installation past them at the user's request.

/// A PyPI package installed into the tools virtualenv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PythonTool {
    /// Name on PyPI.
    pub package: &'static str,
    /// Executable in `<venv>/bin`.
    pub binary: &'static str,
    /// Pinned version installed on first start.
    pub version: &'static str,
    /// Whether Tapearr cannot work without it.
    pub required: bool,
}

/// yt-dlp: trailer and VOD downloads. Plain package: the `[default]` extra pulls a
/// certifi newer than some PyPI mirrors carry.
pub const YT_DLP: PythonTool = PythonTool {
    package: "yt-dlp",
    binary: "yt-dlp",
    version: "2026.10.26",
    required: true,
};

/// streamlink: optional fallback recorder (the native HLS recorder does not need it).
pub const STREAMLINK: PythonTool = PythonTool {
    package: "streamlink",
    binary: "streamlink",
    version: "8.6.3",
    required: false,
};

/// apprise: optional notification fan-out.
pub const APPRISE: PythonTool = PythonTool {
    package: "apprise",
    binary: "apprise",
    version: "2.2.0",
    required: false,
};

/// Every Python tool, in display order.
pub const PYTHON_TOOLS: [PythonTool; 3] = [YT_DLP, STREAMLINK, APPRISE];

impl PythonTool {
    /// The pip requirement for the pinned version, e.g. `yt-dlp==2026.10.26`.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }
}
