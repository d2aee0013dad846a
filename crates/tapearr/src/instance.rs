//! This installation's identity and its single-process lock.

use anyhow::{Context, Result, bail};
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::path::Path;

/// A stable id per data dir: the lease owner of this process's jobs, so after a crash the next
/// start can take its own jobs back at once instead of waiting for their leases to expire.
pub fn instance_id(data_dir: &Path) -> Result<String> {
    let path = data_dir.join("instance_id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim();
        if !id.is_empty() {
            return Ok(id.to_string());
        }
    }
    let id = tapearr_core::ids::new_id();
    std::fs::write(&path, &id).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(id)
}

/// Held while `serve` runs: two servers on one data dir would share an instance id and
/// take each other's jobs.
pub struct DataDirLock {
    _lock: Flock<File>,
}

pub fn lock_data_dir(data_dir: &Path) -> Result<DataDirLock> {
    let path = data_dir.join("tapearr.lock");
    let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => Ok(DataDirLock { _lock: lock }),
        Err((_, errno)) => bail!(
            "another tapearr is already serving from {} ({errno}); stop it or use another data_dir",
            data_dir.display()
        ),
    }
}
