//! Tools a killed server left running.
//!
//! Every tool runs in its own process group and is killed when its `Process` is dropped, but a
//! `kill -9` of the server drops nothing: yt-dlp or a remux ffmpeg would go on writing the very
//! temp file the restarted server writes again. Each child therefore carries the data dir's
//! instance id in its environment, and a starting server (which holds the data dir's lock, so
//! no other server of that data dir runs) kills every process group still marked with it.

use std::sync::OnceLock;

/// The environment variable that marks a tool with the instance that started it.
pub const OWNER_ENV: &str = "TAPEARR_TOOL_OF";

static OWNER: OnceLock<String> = OnceLock::new();

/// Marks every tool this process starts from now on with `instance`.
pub fn mark_tools_with(instance: &str) {
    let _ = OWNER.set(instance.to_string());
}

pub(crate) fn owner() -> Option<&'static str> {
    OWNER.get().map(String::as_str)
}

/// Kills the process groups of tools marked with `instance` (left by a process that died);
/// returns how many groups were killed. Call before starting any tool.
pub fn kill_orphaned_tools(instance: &str) -> usize {
    let marker = format!("{OWNER_ENV}={instance}");
    let own = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut groups = std::collections::BTreeSet::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == own {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|b| *b == 0)
            .any(|var| var == marker.as_bytes())
            && let Some(group) = process_group(pid)
        {
            groups.insert(group);
        }
    }
    let mut killed = 0;
    for group in groups {
        let Ok(pgid) = i32::try_from(group) else {
            continue;
        };
        // A group id of 0 or 1 (or our own) would be everything; tools lead their own group.
        if pgid <= 1 || group == own {
            continue;
        }
        let pg = nix::unistd::Pid::from_raw(pgid);
        if nix::sys::signal::killpg(pg, nix::sys::signal::Signal::SIGKILL).is_ok() {
            tracing::warn!(pgid, "killed a tool left running by a server that died");
            killed += 1;
        }
    }
    killed
}

/// The process group of `pid`, from `/proc/<pid>/stat` (after the `)` that ends the name).
fn process_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    // state ppid pgrp …
    rest.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marked_orphan_group_is_killed_and_strangers_are_not() {
        let instance = format!("test-{}", std::process::id());
        let spawn = |mark: &str| {
            use std::os::unix::process::CommandExt;
            std::process::Command::new("sleep")
                .arg("30")
                .env(OWNER_ENV, mark)
                .process_group(0)
                .spawn()
                .expect("sleep")
        };
        let mut orphan = spawn(&instance);
        let mut stranger = spawn("another-instance");
        assert_eq!(kill_orphaned_tools(&instance), 1);
        let status = orphan.wait().expect("wait");
        assert!(!status.success(), "killed");
        assert!(
            stranger.try_wait().expect("try_wait").is_none(),
            "left alone"
        );
        let _ = stranger.kill();
        let _ = stranger.wait();
    }
}
