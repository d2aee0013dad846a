//! Temporary names next to their destination, so the final rename stays on one file system.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Prefix of every temporary file; scanners and cleanup can skip or remove these.
pub const TEMP_PREFIX: &str = ".tapearr-tmp-";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates a new, private (`0600`) temporary file in `dir`.
pub(crate) fn create_temp(dir: &Path) -> io::Result<(PathBuf, File)> {
    loop {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{TEMP_PREFIX}{}-{n}-{nanos:x}", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A temporary file name left behind by a Tapearr process that is gone (killed mid-copy):
/// safe to remove. Files of this process, of a live one, or not named by [`create_temp`]
/// are not.
pub fn is_stale_temp(name: &str) -> bool {
    let Some(pid) = name
        .strip_prefix(TEMP_PREFIX)
        .and_then(|rest| rest.split('-').next())
        .and_then(|pid| pid.parse::<u32>().ok())
    else {
        return false;
    };
    pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Makes a rename in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_temp_files_of_dead_processes_are_stale() {
        let mine = format!("{TEMP_PREFIX}{}-0-1f", std::process::id());
        // Above any pid_max Linux allows (2^22): never a live process.
        let dead = format!("{TEMP_PREFIX}4999999-3-2a");
        assert!(is_stale_temp(&dead));
        assert!(!is_stale_temp(&mine));
        assert!(
            !is_stale_temp(&format!("{TEMP_PREFIX}1-0-0")),
            "pid 1 is alive"
        );
        assert!(!is_stale_temp(&format!("{TEMP_PREFIX}remux-abc.mp4")));
        assert!(!is_stale_temp("Movie (2020)-trailer.mp4"));
    }
}
