//! Mode and owner inheritance for new files and directories.
//!
//! Media servers often run as another user than Tapearr; a file that inherits its
//! directory's group and mode stays readable by them (think `setgid` library folders).

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Mode and owner to give a new entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inherit {
    mode: u32,
    uid: u32,
    gid: u32,
}

impl Inherit {
    /// For a file about to replace `dest`: keep an existing file's mode and owner,
    /// else take the parent directory's without execute and special bits.
    pub(crate) fn for_file(dest: &Path) -> io::Result<Self> {
        match fs::metadata(dest) {
            Ok(meta) if meta.is_file() => return Ok(Self::from_meta(&meta, 0o7777)),
            _ => {}
        }
        let parent = dest.parent().unwrap_or(Path::new("/"));
        Ok(Self::from_meta(&fs::metadata(parent)?, 0o666))
    }

    /// For a new directory inside `parent`: the parent's mode, `setgid` included.
    pub(crate) fn for_dir(parent: &Path) -> io::Result<Self> {
        Ok(Self::from_meta(&fs::metadata(parent)?, 0o7777))
    }

    fn from_meta(meta: &fs::Metadata, mask: u32) -> Self {
        Self {
            mode: meta.mode() & mask,
            uid: meta.uid(),
            gid: meta.gid(),
        }
    }

    /// Applies owner then mode (a `chown` may clear `setgid`, so it goes first).
    ///
    /// Changing the owner only works as root; otherwise the group alone is tried
    /// (allowed when we are a member) and a refusal is not an error.
    pub(crate) fn apply(&self, path: &Path) -> io::Result<()> {
        let meta = fs::symlink_metadata(path)?;
        if meta.uid() != self.uid || meta.gid() != self.gid {
            let denied = |e: &io::Error| e.kind() == io::ErrorKind::PermissionDenied;
            match std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid)) {
                Err(e) if denied(&e) => {
                    match std::os::unix::fs::chown(path, None, Some(self.gid)) {
                        Err(e) if !denied(&e) => return Err(e),
                        _ => {}
                    }
                }
                other => other?,
            }
        }
        fs::set_permissions(path, fs::Permissions::from_mode(self.mode))
    }
}
