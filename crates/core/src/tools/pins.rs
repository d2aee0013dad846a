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

/// Deno: the JavaScript runtime yt-dlp needs for full YouTube support (since 2025.11.12 it
/// solves YouTube's player challenges in JavaScript; without one many videos fail with
/// "Requested format is not available"). The PyPI package ships the binary.
pub const DENO: PythonTool = PythonTool {
    package: "deno",
    binary: "deno",
    version: "2.9.8",
    required: false,
};

/// Packages without a program of their own, installed next to the tools: yt-dlp's EJS
/// solver scripts, which run in [`DENO`] (the version yt-dlp's `[default]` extra pins).
pub const SUPPORT_PACKAGES: [(&str, &str); 1] = [("yt-dlp-ejs", "0.8.0")];

/// The bgutil PO-token provider plugin for yt-dlp: installed only when a provider URL is set
/// (`trailers.po_token_provider_url`), since once installed it asks its provider on every
/// YouTube video.
pub const PO_TOKEN_PLUGIN: (&str, &str) = ("bgutil-ytdlp-pot-provider", "2.0.2");

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
pub const PYTHON_TOOLS: [PythonTool; 4] = [YT_DLP, DENO, STREAMLINK, APPRISE];

/// Every pinned requirement: the tools, then the support packages.
pub fn pinned_requirements() -> Vec<String> {
    PYTHON_TOOLS
        .iter()
        .map(|t| t.requirement())
        .chain(SUPPORT_PACKAGES.iter().map(|(p, v)| format!("{p}=={v}")))
        .collect()
}

/// Every package name, for an update to the latest releases.
pub fn package_names() -> Vec<String> {
    PYTHON_TOOLS
        .iter()
        .map(|t| t.package)
        .chain(SUPPORT_PACKAGES.iter().map(|(p, _)| *p))
        .map(str::to_owned)
        .collect()
}

impl PythonTool {
    /// The pip requirement for the pinned version, e.g. `yt-dlp==2026.10.26`.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }
}
