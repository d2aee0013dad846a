//! Directory creation and removal, confined to the library roots.

use std::fs;
use std::io;

use super::error::FilesError;
use super::perms::Inherit;
use super::roots::SafePath;

/// Runs blocking file-system work off the async runtime.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, FilesError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, FilesError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FilesError::Io {
            op: "run blocking file task",
            path: String::new(),
            source: io::Error::other(e),
        })?
}

/// Creates `dir` and its missing parents; each new directory inherits its parent's mode and owner.
pub async fn create_dir_all(dir: &SafePath) -> Result<(), FilesError> {
    let dir = dir.clone();
    blocking(move || create_dir_all_sync(&dir)).await
}

/// Removes one file (or symlink); never follows a final symlink.
pub async fn remove_file(path: &SafePath) -> Result<(), FilesError> {
    let path = path.recheck()?;
    if path.is_root() {
        return Err(FilesError::IsRoot);
    }
    blocking(move || {
        fs::remove_file(path.as_path()).map_err(|e| FilesError::io("remove", path.relative(), e))
    })
    .await
}

/// Removes a directory tree (or a symlink to one: only the link); refuses a library root.
pub async fn remove_dir_all(path: &SafePath) -> Result<(), FilesError> {
    let path = path.recheck()?;
    if path.is_root() {
        return Err(FilesError::IsRoot);
    }
    blocking(move || {
        let meta = fs::symlink_metadata(path.as_path())
            .map_err(|e| FilesError::io("remove", path.relative(), e))?;
        // std's remove_dir_all never follows links inside the tree, but on a link
        // itself it fails: remove the link as a file.
        let result = if meta.file_type().is_symlink() {
            fs::remove_file(path.as_path())
        } else {
            fs::remove_dir_all(path.as_path())
        };
        result.map_err(|e| FilesError::io("remove", path.relative(), e))
    })
    .await
}

pub(crate) fn create_dir_all_sync(dir: &SafePath) -> Result<(), FilesError> {
    let dir = dir.recheck()?;
    let mut current = dir.root().to_path_buf();
    for name in dir.relative().components() {
        let parent = current.clone();
        current.push(name);
        let rel = || current.strip_prefix(dir.root()).unwrap_or(&current);
        match fs::create_dir(&current) {
            Ok(()) => Inherit::for_dir(&parent)
                .and_then(|inherit| inherit.apply(&current))
                .map_err(|e| FilesError::io("set permissions of", rel(), e))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && current.is_dir() => {}
            Err(e) => return Err(FilesError::io("create directory", rel(), e)),
        }
    }
    Ok(())
}

/// Removes a directory only if it is empty; a non-empty one is left alone (not an error).
pub async fn remove_empty_dir(path: &SafePath) -> Result<bool, FilesError> {
    let path = path.recheck()?;
    if path.is_root() {
        return Err(FilesError::IsRoot);
    }
    blocking(move || match fs::remove_dir(path.as_path()) {
        Ok(()) => Ok(true),
        Err(e)
            if e.kind() == io::ErrorKind::DirectoryNotEmpty
                || e.kind() == io::ErrorKind::NotFound =>
        {
            Ok(false)
        }
        Err(e) => Err(FilesError::io("remove", path.relative(), e)),
    })
    .await
}
