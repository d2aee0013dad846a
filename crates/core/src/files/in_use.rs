//! Whether any process has a file open, before Tapearr deletes it (a recorder in another
//! Tapearr process, a copy tool, a media server scanning it).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The first of `paths` some process holds open, if any. On Linux this walks `/proc/*/fd`;
/// processes we may not inspect are skipped, so it answers for what it can see.
pub fn open_by_a_process(paths: &[PathBuf]) -> Option<PathBuf> {
    if paths.is_empty() {
        return None;
    }
    let wanted: HashSet<PathBuf> = paths
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let processes = std::fs::read_dir("/proc").ok()?;
    for process in processes.flatten() {
        let name = process.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path())
                && wanted.contains(Path::new(&target))
            {
                return Some(target);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_file_is_seen_and_a_closed_one_is_not() {
        let dir = tempfile::tempdir().expect("fixture");
        let path = dir.path().join("part.ts");
        std::fs::write(&path, b"x").expect("fixture");
        let held = std::fs::File::open(&path).expect("fixture");
        assert!(open_by_a_process(std::slice::from_ref(&path)).is_some());
        drop(held);
        assert_eq!(open_by_a_process(&[path]), None);
    }
}
