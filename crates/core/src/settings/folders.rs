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

/// Lists the subfolders of `path` (`/` when empty). The path must be absolute, free of `..`,
/// and an existing directory; the message says what is wrong otherwise.
pub fn list(path: &str) -> Result<FolderListing, String> {
    let requested = if path.trim().is_empty() {
        PathBuf::from("/")
    } else {
        PathBuf::from(path)
    };
    if !requested.is_absolute() {
        return Err("must be an absolute path".into());
    }
    if requested
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Err("must not contain `.` or `..`".into());
    }
    let dir = requested
        .canonicalize()
        .map_err(|e| format!("cannot open {}: {e}", requested.display()))?;
    if !dir.is_dir() {
        return Err(format!("{} is not a folder", dir.display()));
    }
    let reader =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
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
        assert!(list("relative").is_err());
        let dotted = format!("{}/Movies/..", dir.path().display());
        assert!(list(&dotted).expect_err("refused").contains(".."));
        assert!(list(&format!("{}/file.txt", dir.path().display())).is_err());
    }
}
