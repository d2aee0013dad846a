//! The one error type of the files module.
//!
//! Messages name at most the offending path *relative to its library root* (or the
//! caller's own relative input), never the server's absolute layout, so they can be
//! shown to API users as they are.

use std::io;
use std::path::Path;

/// Longest path shown in an error message; longer ones are cut with `…`.
const SHOWN_MAX_CHARS: usize = 120;

/// Everything that can go wrong while resolving, writing, moving or removing files.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    /// The path was empty.
    #[error("path is empty")]
    Empty,
    /// The path contained a NUL byte.
    #[error("path contains a NUL byte")]
    NulByte,
    /// A drive letter (`C:\…`) or a backslash.
    #[error("Windows-style paths (drive letters or backslashes) are not allowed")]
    WindowsPath,
    /// `\\server\share` or `//server/share`.
    #[error("UNC network paths are not allowed")]
    UncPath,
    /// A `..` component. Rejected outright: with symlinks, `a/link/..` is not `a`.
    #[error("path `{0}` contains a `..` component")]
    ParentComponent(String),
    /// A relative path where an absolute one is required.
    #[error("path `{0}` is relative; an absolute path inside a library root is required")]
    Relative(String),
    /// An absolute path that is in no configured library root.
    #[error("path is outside every library root")]
    OutsideRoots,
    /// A symlink on the path points out of the root, or dangles (its target could be created anywhere).
    #[error("path `{0}` goes through a symlink that leaves its library root or dangles")]
    SymlinkEscape(String),
    /// One component is longer than 255 bytes.
    #[error("a name in `{0}` is longer than 255 bytes")]
    NameTooLong(String),
    /// The whole path is longer than 4096 bytes.
    #[error("path is longer than 4096 bytes")]
    PathTooLong,
    /// An attempt to remove, or write over, a library root itself.
    #[error("not allowed on a library root itself")]
    IsRoot,
    /// A configured root does not exist or is not a directory (config error: the root is named).
    #[error("library root `{root}` is not usable: {reason}")]
    InvalidRoot {
        /// The root as configured.
        root: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// Not enough free space on the target file system.
    #[error("not enough free space: {needed} bytes needed, {available} available")]
    InsufficientSpace {
        /// Bytes the caller asked for.
        needed: u64,
        /// Bytes available to unprivileged users.
        available: u64,
    },
    /// An I/O error during `op` on `path` (relative to its root).
    #[error("{op} `{path}` failed: {source}")]
    Io {
        /// What was being done, e.g. "write".
        op: &'static str,
        /// The path relative to its library root.
        path: String,
        /// The underlying error (std's messages carry no path).
        #[source]
        source: io::Error,
    },
}

impl FilesError {
    /// An I/O error for a path already made relative to its root.
    pub(crate) fn io(op: &'static str, relative: &Path, source: io::Error) -> Self {
        Self::Io {
            op,
            path: shown(&relative.to_string_lossy()),
            source,
        }
    }

    /// True when the error means "the file or directory does not exist".
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// A path as shown in messages: cut to a readable length on a char boundary.
pub(crate) fn shown(path: &str) -> String {
    match path.char_indices().nth(SHOWN_MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &path[..cut]),
        None => path.to_owned(),
    }
}
