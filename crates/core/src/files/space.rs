//! Free-space checks before long writes (recordings, downloads, conversions).

use std::path::Path;

use nix::sys::statvfs::statvfs;

use super::error::FilesError;

/// Bytes available to unprivileged users on the file system holding `path`.
///
/// A path that does not exist yet is measured at its nearest existing ancestor.
pub fn free_space(path: &Path) -> Result<u64, FilesError> {
    let existing = path
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    let stat = statvfs(existing).map_err(|errno| FilesError::Io {
        op: "measure free space of",
        // Only the last name: callers pass absolute server paths here.
        path: existing
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        source: errno.into(),
    })?;
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    let bytes = (stat.blocks_available() as u64).saturating_mul(stat.fragment_size() as u64);
    Ok(bytes)
}

/// Fails with [`FilesError::InsufficientSpace`] unless `needed` bytes are free; returns what is free.
pub fn ensure_free_space(path: &Path, needed: u64) -> Result<u64, FilesError> {
    let available = free_space(path)?;
    if available < needed {
        return Err(FilesError::InsufficientSpace { needed, available });
    }
    Ok(available)
}
