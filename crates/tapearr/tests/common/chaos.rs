// Included by tests/chaos.rs only (`#[path]`), next to `mod common`.
//! Tools for the chaos stories (B9): a seeded dice, the server's tool processes found through
//! /proc, a shadow of every part file (hard links, so what the recorder wrote is still there
//! after finalize deleted the parts), and the checks of what a settled library must look like.

use crate::common::{Client, JobRecord};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tapearr_api::routes::channels::ChannelView;
use tapearr_core::storage::Paged;
use tapearr_core::streams::model::{Recording, RecordingStatus};

/// The knobs `make chaos` turns; the defaults are the bounded run of `make test`.
pub struct Knobs {
    pub seed: u64,
    /// Server SIGKILLs in the story (at least).
    pub kills: usize,
    /// The kills go on at least this long.
    pub seconds: u64,
    pub channels: usize,
    pub movies: usize,
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

impl Knobs {
    pub fn from_env() -> Knobs {
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        Knobs {
            seed: env_num("CHAOS_SEED", clock % 1_000_000),
            kills: env_num("CHAOS_KILLS", 4).max(1) as usize,
            seconds: env_num("CHAOS_SECONDS", 0),
            channels: env_num("CHAOS_CHANNELS", 3).max(1) as usize,
            movies: env_num("CHAOS_MOVIES", 6) as usize,
        }
    }

    pub fn rng(&self) -> StdRng {
        StdRng::seed_from_u64(self.seed)
    }
}

/// A random pause in `[lo, hi)` ms: the moment of a kill, chosen by the seeded dice.
pub fn millis(rng: &mut StdRng, lo: u64, hi: u64) -> Duration {
    Duration::from_millis(rng.gen_range(lo..hi.max(lo + 1)))
}

/// A running tool (ffmpeg, yt-dlp) whose parent is `parent`.
#[derive(Clone)]
pub struct Tool {
    pub pid: i32,
    pub name: String,
    pub cmdline: String,
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The command line is long: its last word (the URL or the output) says enough.
        let last = self.cmdline.split_whitespace().last().unwrap_or_default();
        write!(f, "{} {} … {last}", self.name, self.pid)
    }
}

fn ppid_and_name(pid: i32) -> Option<(i32, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid ...`: comm may hold spaces, so split at the last ')'.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_string();
    let ppid = stat
        .get(close + 2..)?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((ppid, name))
}

/// The server's children that are media tools.
pub fn tools_of(parent: i32) -> Vec<Tool> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let (ppid, name) = ppid_and_name(pid)?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let tool = ["ffmpeg", "ffprobe", "yt-dlp"]
                .iter()
                .any(|t| name.contains(t) || cmdline.contains(t));
            (ppid == parent && tool).then_some(Tool { pid, name, cmdline })
        })
        .collect()
}

pub fn alive(pid: i32) -> bool {
    // A zombie is dead for our purpose: it only waits to be reaped.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let close = s.rfind(')')?;
            s.get(close + 2..)?
                .split_whitespace()
                .next()
                .map(String::from)
        })
        .is_some_and(|state| state != "Z" && state != "X")
}

/// Hard links to every part file under `<root>/<login>/.parts/<recording>/`, refreshed every
/// 100 ms: the links keep each part's bytes (including what a killed recorder wrote, and any
/// cut-back the next session made) after finalize removed the folder.
pub struct PartsShadow {
    dir: tempfile::TempDir,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PartsShadow {
    pub fn start(root: &Path) -> PartsShadow {
        // Same file system as the library, so hard links work.
        let parent = root.parent().unwrap_or(Path::new("/tmp"));
        let dir = tempfile::Builder::new()
            .prefix("chaos-shadow-")
            .tempdir_in(parent)
            .expect("shadow dir next to the library");
        let stop = Arc::new(AtomicBool::new(false));
        let (root, shadow, flag) = (root.to_path_buf(), dir.path().to_path_buf(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                link_parts(&root, &shadow);
                std::thread::sleep(Duration::from_millis(100));
            }
            link_parts(&root, &shadow);
        });
        PartsShadow {
            dir,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops watching; the media seconds of each recording's parts, by recording id.
    pub fn finish(mut self) -> HashMap<String, f64> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let mut out = HashMap::new();
        for rec in std::fs::read_dir(self.dir.path())
            .expect("shadow")
            .flatten()
        {
            let id = rec.file_name().to_string_lossy().to_string();
            let mut parts: Vec<PathBuf> = std::fs::read_dir(rec.path())
                .expect("shadow recording")
                .flatten()
                .map(|e| e.path())
                .collect();
            parts.sort();
            let seconds = parts.iter().map(|p| probe_seconds(p).unwrap_or(0.0)).sum();
            out.insert(id, seconds);
        }
        out
    }
}

impl Drop for PartsShadow {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn is_part(name: &str) -> bool {
    name.contains(".part") && (name.ends_with(".ts") || name.ends_with(".mp4"))
}

fn link_parts(root: &Path, shadow: &Path) {
    let Ok(channels) = std::fs::read_dir(root) else {
        return;
    };
    for channel in channels.flatten() {
        let Ok(recs) = std::fs::read_dir(channel.path().join(".parts")) else {
            continue;
        };
        for rec in recs.flatten() {
            let Ok(parts) = std::fs::read_dir(rec.path()) else {
                continue;
            };
            let target = shadow.join(rec.file_name());
            for part in parts.flatten() {
                let name = part.file_name().to_string_lossy().to_string();
                let Ok(meta) = part.metadata() else { continue };
                if !is_part(&name) || !meta.is_file() {
                    continue;
                }
                let link = target.join(&name);
                // A part replaced by a rename is a new inode: follow it.
                if std::fs::metadata(&link).is_ok_and(|m| m.ino() == meta.ino()) {
                    continue;
                }
                let _ = std::fs::create_dir_all(&target);
                let _ = std::fs::remove_file(&link);
                let _ = std::fs::hard_link(part.path(), &link);
            }
        }
    }
}

/// ffprobe's duration of a media file, in seconds.
pub fn probe_seconds(path: &Path) -> Option<f64> {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format=duration"])
        .args(["-of", "default=noprint_wrappers=1:nokey=1"])
        .arg(path)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// What `ffmpeg -v error` says while decoding the whole file (empty: it decodes cleanly).
pub fn decode_errors(path: &Path) -> String {
    let out = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    let mut text = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if !out.status.success() {
        text.push_str(&format!(" (exit {:?})", out.status.code()));
    }
    text
}

/// Every file under `dir`, recursively, with the folders too.
pub fn walk(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(p.clone());
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    dirs.sort();
    (files, dirs)
}

/// Temporary and half-done files that must not outlive a settled server: Tapearr's own temp
/// names, yt-dlp's `.part`/`.ytdl`, and anything inside a recording's parts folder.
pub fn leftovers(root: &Path) -> Vec<PathBuf> {
    let (files, dirs) = walk(root);
    let mut out: Vec<PathBuf> = files
        .into_iter()
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            name.starts_with(".tapearr")
                || name.ends_with(".part")
                || name.ends_with(".ytdl")
                || p.components().any(|c| c.as_os_str() == ".parts")
        })
        .collect();
    // A recording's parts folder (`.parts/<id>`) is gone once it is finalized.
    out.extend(dirs.into_iter().filter(|d| {
        d.parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == ".parts")
    }));
    out
}

/// Every recording, all pages.
pub async fn all_recordings(client: &Client) -> Vec<Recording> {
    all_pages(client, |offset| {
        format!("/api/v1/recordings?limit=100&offset={offset}")
    })
    .await
}

/// Every item of a paged list; `path` gives a page's path from its offset.
async fn all_pages<T: serde::de::DeserializeOwned>(
    client: &Client,
    path: impl Fn(usize) -> String,
) -> Vec<T> {
    let mut c = client.clone();
    let mut out = Vec::new();
    loop {
        let page: Paged<T> = c.get_json(&path(out.len())).await;
        let empty = page.items.is_empty();
        out.extend(page.items);
        if empty || out.len() >= page.total as usize {
            return out;
        }
    }
}

/// One line per recording, for failure messages.
pub fn summary(recs: &[Recording]) -> String {
    recs.iter()
        .map(|r| {
            let login = if r.labels.channel_login.is_empty() {
                &r.channel_id
            } else {
                &r.labels.channel_login
            };
            format!(
                "{login} {} status={:?} step={:?} media_ms={} duration_ms={:?} sessions={} error={:?} finalize_error={:?}",
                r.id,
                r.status,
                r.library.finalize_step,
                r.media_ms,
                r.library.duration_ms,
                r.sessions,
                r.error,
                r.library.finalize_error,
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits until no recording is recording, ended or finalizing (a stuck one fails with the
/// state of all of them).
pub async fn wait_settled(client: &Client, timeout: Duration, what: &str) -> Vec<Recording> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let recs = all_recordings(client).await;
        if recs
            .iter()
            .all(|r| matches!(r.status, RecordingStatus::Ready | RecordingStatus::Failed))
        {
            return recs;
        }
        // Finalize gave up (an error, and no finalize job left to retry it): fail now.
        let stuck = recs
            .iter()
            .any(|r| r.status == RecordingStatus::Ended && r.library.finalize_error.is_some());
        if stuck {
            let c = client.clone();
            let mut waiting = false;
            for status in ["queued", "running"] {
                let q = format!("&kind=recording.finalize&status={status}");
                waiting |= !all_jobs(&c, &q).await.is_empty();
            }
            assert!(waiting, "{what}: finalize gave up:\n{}", summary(&recs));
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: recordings not settled after {timeout:?}:\n{}",
            summary(&recs)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every job of the server, all pages.
pub async fn all_jobs(client: &Client, query: &str) -> Vec<JobRecord> {
    all_pages(client, |offset| {
        format!("/api/v1/jobs?limit=500&offset={offset}{query}")
    })
    .await
}

/// The settled library: every broadcast is one ready recording whose MP4 matches its parts,
/// no duplicate MP4, nothing temporary left, no job left running.
pub async fn assert_settled_library(
    b: &str,
    client: &Client,
    root: &Path,
    broadcasts: &BTreeMap<String, usize>,
    parts_seconds: Option<&HashMap<String, f64>>,
    decode_check: bool,
) {
    let recs = all_recordings(client).await;
    let all = summary(&recs);
    let expected: usize = broadcasts.values().sum();
    assert_eq!(
        recs.len(),
        expected,
        "{b}: one recording per broadcast ({broadcasts:?}):\n{all}"
    );
    let mut c = client.clone();
    let ready: Paged<Recording> = c.get_json("/api/v1/recordings?status=ready&limit=1").await;
    assert_eq!(
        ready.total, expected as u64,
        "{b}: every broadcast ready in the database:\n{all}"
    );
    let mut per_stream: HashMap<String, usize> = HashMap::new();
    let mut videos = Vec::new();
    for r in &recs {
        let id = r.id.as_str();
        assert_eq!(
            r.status,
            RecordingStatus::Ready,
            "{b}: {id} not ready:\n{all}"
        );
        if let Some(stream) = &r.stream_id {
            *per_stream.entry(stream.clone()).or_default() += 1;
        }
        let video = PathBuf::from(r.library.video_path.as_deref().expect("video_path"));
        assert!(video.is_file(), "{b}: {} missing: {r:?}", video.display());
        let mp4 = probe_seconds(&video).expect("ffprobe reads the MP4");
        let duration = r
            .library
            .duration_ms
            .map_or(f64::NAN, |ms| ms as f64 / 1000.0);
        let media = r.media_ms as f64 / 1000.0;
        assert!(
            (mp4 - duration).abs() < 0.1,
            "{b}: {id}: MP4 lasts {mp4:.3} s, duration_ms says {duration:.3} s"
        );
        assert!(
            (mp4 - media).abs() <= 1.0,
            "{b}: {id}: MP4 lasts {mp4:.3} s, media_ms says {media:.3} s"
        );
        if let Some(shadow) = parts_seconds {
            let parts = shadow
                .get(id)
                .unwrap_or_else(|| panic!("{b}: {id}: no part file was ever seen"));
            assert!(
                (mp4 - parts).abs() <= 1.0,
                "{b}: {id}: MP4 lasts {mp4:.3} s, its parts held {parts:.3} s"
            );
        }
        if decode_check {
            let errors = decode_errors(&video);
            assert!(
                errors.is_empty(),
                "{b}: {id}: {} does not decode cleanly: {errors}",
                video.display()
            );
        }
        videos.push(video);
    }
    assert!(
        per_stream.values().all(|n| *n == 1),
        "{b}: a broadcast recorded twice: {per_stream:?}"
    );
    // No second MP4 of a recording (a remux committed twice under two names).
    let (files, _) = walk(root);
    let mut mp4s: Vec<PathBuf> = files
        .into_iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "mp4")
                && broadcasts
                    .keys()
                    .any(|login| p.starts_with(root.join(login)))
        })
        .collect();
    mp4s.sort();
    videos.sort();
    assert_eq!(mp4s, videos, "{b}: the recordings' MP4s and nothing else");
    let left = leftovers(root);
    assert!(left.is_empty(), "{b}: left behind: {left:?}");
    // The channels' active recordings are gone.
    for r in &recs {
        let ch: ChannelView = c
            .get_json(&format!("/api/v1/channels/{}", r.channel_id))
            .await;
        assert!(ch.recording.is_none(), "{b}: still recording: {ch:?}");
    }
    // No job stuck `running` (a periodic task may be running for a moment: wait it out).
    crate::common::eventually(Duration::from_secs(60), "no job running", || {
        let c = client.clone();
        async move {
            let running = all_jobs(&c, "&status=running").await;
            running.is_empty().then_some(())
        }
    })
    .await;
}
