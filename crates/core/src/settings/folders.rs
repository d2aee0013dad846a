//! The folder browser behind choosing library roots: directories the server can see, with
//! free space and whether the server may write there.

use crate::files::free_space;
use std::path::{Component, Path, PathBuf};

/// At most this many subfolders are listed (a huge folder is not a library root's parent).
const MAX_FOLDERS: usize = 1000;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FolderListing {
    /// The listed folder, canonical.
    pub path: String,
    /// Its parent; `None` at `/`.
    pub parent: Option<String>,
    /// Free space on its file system in bytes.
    pub free_bytes: Option<u64>,
    /// The server may create files in it.
    pub writable: bool,
    pub folders: Vec<FolderEntry>,
    /// More subfolders than listed.
    pub truncated: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FolderEntry {
    pub name: String,
    pub path: String,
}

/// Why a folder cannot be listed.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("must be an absolute path")]
    NotAbsolute,
    #[error("must not contain `.` or `..`")]
    Dotted,
    #[error("cannot open {path}: {source}")]
    CannotOpen {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is not a folder")]
    NotAFolder(String),
    #[error("cannot list {path}: {source}")]
    CannotList {
        path: String,
        source: std::io::Error,
    },
}

impl FolderError {
    /// A stable name for the refusal, whatever the message says.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAbsolute => "not_absolute",
            Self::Dotted => "dotted",
            Self::CannotOpen { .. } => "cannot_open",
            Self::NotAFolder(_) => "not_a_folder",
            Self::CannotList { .. } => "cannot_list",
        }
    }
}

/// Lists the subfolders of `path` (`/` when empty). The path must be absolute, free of `..`,
/// and an existing directory.
pub fn list(path: &str) -> Result<FolderListing, FolderError> {
    let requested = if path.trim().is_empty() {
        PathBuf::from("/")
    } else {
        PathBuf::from(path)
    };
    if !requested.is_absolute() {
        return Err(FolderError::NotAbsolute);
    }
    if requested
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Err(FolderError::Dotted);
    }
    let dir = requested
        .canonicalize()
        .map_err(|source| FolderError::CannotOpen {
            path: requested.display().to_string(),
            source,
        })?;
    if !dir.is_dir() {
        return Err(FolderError::NotAFolder(dir.display().to_string()));
    }
    let reader = std::fs::read_dir(&dir).map_err(|source| FolderError::CannotList {
        path: dir.display().to_string(),
        source,
    })?;
    let mut folders: Vec<FolderEntry> = reader
        .filter_map(Result::ok)
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            Some(FolderEntry {
                path: dir.join(&name).display().to_string(),
                name,
            })
        })
        .collect();
    folders.sort_by_key(|f| f.name.to_lowercase());
    let truncated = folders.len() > MAX_FOLDERS;
    folders.truncate(MAX_FOLDERS);
    Ok(FolderListing {
        parent: dir.parent().map(|p| p.display().to_string()),
        free_bytes: free_space(&dir).ok(),
        writable: writable(&dir),
        path: dir.display().to_string(),
        folders,
        truncated,
    })
}

/// Whether this process may create files in `dir`.
pub fn writable(dir: &Path) -> bool {
    nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_only_folders_and_refuses_relative_or_dotted_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("Movies")).expect("mkdir");
        std::fs::write(dir.path().join("file.txt"), "x").expect("write");
        let listing = list(&dir.path().display().to_string()).expect("list");
        let names: Vec<&str> = listing.folders.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Movies"]);
        assert!(listing.writable);
        assert!(listing.free_bytes.is_some());
        assert!(matches!(list("relative"), Err(FolderError::NotAbsolute)));
        let dotted = format!("{}/Movies/..", dir.path().display());
        let refused = list(&dotted).expect_err("refused");
        assert_eq!(refused.code(), "dotted");
        assert!(refused.to_string().contains(".."), "{refused}");
        let file = list(&format!("{}/file.txt", dir.path().display())).expect_err("a file");
        assert_eq!(file.code(), "not_a_folder", "{file}");
    }
}
