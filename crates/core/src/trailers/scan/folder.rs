//! The disk scan (T3): which trailers are already in one media folder, what changed since the
//! previous scan, and whether the folder can be trusted at all.
//!
//! * **Incremental.** A folder whose modification time (combined with its trailer
//!   subfolders', since adding a file inside `Trailers/` does not touch the parent) equals the
//!   previous scan's costs one `stat` per folder and is reported [`FolderScan::Unchanged`].
//! * **Cheap when it does read.** One `read_dir` of the media folder (plus one per trailer
//!   subfolder), a `stat` of the candidate files only, and a hash only of files whose size or
//!   modification time differ from the previous scan.
//! * **Renames.** A trailer that disappeared and one that appeared with the same hash and
//!   size are one [`TrailerChange::Renamed`], not a removal and a new find.
//! * **Offline storage.** A folder that cannot be listed, or that is absent while its parent
//!   cannot be listed, is empty or is absent too (an unmounted NAS leaves an empty mount
//!   point), is [`FolderScan::Unavailable`]: its trailers are never reported missing.
//!
//! Blocking `std::fs`: the caller runs it in `spawn_blocking`.

use std::collections::HashMap;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::files::{TEMP_PREFIX, is_stale_temp};
pub(crate) use crate::trailers::scan::recognize::is_inline_trailer_name;

/// Video file extensions (compared case-insensitively).
pub const VIDEO_EXTENSIONS: &[&str] = &["mp4", "mkv", "webm", "avi", "mov", "m4v"];

/// Trailer subfolder names every scan knows (besides the profiles' own).
const TRAILER_DIRS: [&str; 2] = ["Trailers", "trailers"];

/// Bytes hashed at each end of a file.
const HASH_PART: u64 = 1 << 20;

/// A folder changed this recently may change again within the same mtime tick (SMB and FAT
/// have 1–2 s granularity): its mtime is not trusted for the next incremental check.
const RACY_WINDOW: Duration = Duration::from_secs(2);

/// What a previous scan saw in one media folder (stored by the caller in the DB as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderState {
    /// The largest mtime (ns since the epoch) of the media folder and its trailer subfolders,
    /// read before listing them. `0` when the folder changed too recently to be trusted (the
    /// next scan then reads it again, like git's "racy clean" entries).
    pub mtime_ns: i64,
    /// Sorted by `rel_path`.
    pub trailers: Vec<TrailerFile>,
    /// The season folders of a series (`Season 01`, `Season 1`, `S01`), by number.
    #[serde(default)]
    pub seasons: Vec<SeasonDir>,
    /// Subfolders whose mtime the incremental check reads besides the trailer folders: the
    /// season folders and the trailer folders inside them (`Season 01/Trailers`).
    #[serde(default)]
    pub watched: Vec<String>,
}

impl FolderState {
    /// The folder of season `n` (the first by name when two spell the same number).
    pub fn season_dir(&self, n: u32) -> Option<&str> {
        self.seasons
            .iter()
            .find(|s| s.number == n)
            .map(|s| s.name.as_str())
    }
}

/// One season folder in a series folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonDir {
    pub number: u32,
    /// Its name as on disk (`Season 01`).
    pub name: String,
}

/// The season a folder name stands for: `Season 1`, `Season 01`, `season_2`, `Season.3`,
/// `S01`, `s4` (case-insensitive); `Specials` and anything else is not a numbered season.
pub fn season_number(name: &str) -> Option<u32> {
    let lower = name.trim().to_ascii_lowercase();
    let digits = match lower.strip_prefix("season") {
        Some(rest) => rest.trim_start_matches([' ', '_', '-', '.']),
        None => lower.strip_prefix('s')?,
    };
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One trailer file on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailerFile {
    /// Relative to the media folder, `/` separators (`Trailers/x.mp4`, `x-trailer.mkv`).
    pub rel_path: String,
    pub size: u64,
    pub mtime_ns: i64,
    /// SHA-256 (hex) of the first 1 MiB, the last 1 MiB and the size (little-endian u64):
    /// enough to recognise a renamed file, while a full hash of a 500 MB trailer would be
    /// far too slow across 10k folders.
    pub sha256: String,
}

/// The outcome of scanning one media folder.
#[derive(Debug, Clone, PartialEq)]
pub enum FolderScan {
    /// The mtime equals the previous scan's: nothing was read but the stat(s).
    Unchanged,
    Scanned {
        state: FolderState,
        /// Sorted by path (the new path for a rename).
        changes: Vec<TrailerChange>,
    },
    /// The folder, its parent or a trailer subfolder cannot be read (unmounted NAS,
    /// permission, I/O error): never report trailers missing.
    Unavailable { reason: String },
    /// The folder does not exist but its parent is listable and not empty (the media was
    /// deleted or is not downloaded yet).
    Missing,
}

/// One difference from the previous scan.
#[derive(Debug, Clone, PartialEq)]
pub enum TrailerChange {
    Found(TrailerFile),
    Removed(TrailerFile),
    /// Same `sha256` and size under another path.
    Renamed {
        from: TrailerFile,
        to: TrailerFile,
    },
    /// Same path, other content.
    Modified {
        before: TrailerFile,
        after: TrailerFile,
    },
}

impl TrailerChange {
    fn sort_key(&self) -> &str {
        match self {
            Self::Found(t) | Self::Removed(t) => &t.rel_path,
            Self::Renamed { to: t, .. } | Self::Modified { after: t, .. } => &t.rel_path,
        }
    }
}

/// Scans one media folder.
///
/// `extra_folder_names` are profiles' trailer folder names (besides `Trailers`/`trailers`).
/// A trailer is a video file (by extension) that is either
/// * directly inside a trailer folder (one level, name matched case-insensitively), or
/// * directly in the media folder, with a stem in which `trailer` is a word followed by
///   nothing but separators, numbers and resolution tags (`Movie (2019)-trailer`,
///   `Movie - Official Trailer 2`, `Movie-trailer (2)`, `Movie trailer 1080p`), and no
///   `SxxEyy` episode pattern. A title that merely contains the word (`Trailer Park Boys
///   (2006).mkv`) is the media itself, not its trailer.
///
/// Names starting with `.` (which includes Tapearr's temp files, [`TEMP_PREFIX`]) are ignored;
/// temp files of a Tapearr process that is gone (killed mid-copy) are removed.
pub fn scan_folder(
    folder: &Path,
    previous: Option<&FolderState>,
    extra_folder_names: &[String],
) -> FolderScan {
    let meta = match fs::metadata(folder) {
        Ok(meta) if meta.is_dir() => meta,
        Ok(_) => {
            return unavailable(format!("{} is not a directory", folder.display()));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return absent(folder),
        // ENOTDIR (a parent is a file), EACCES, EIO, ENOTCONN, ESTALE: not trusted.
        Err(e) => return unavailable(format!("cannot read {}: {e}", folder.display())),
    };
    let folder_mtime = mtime_ns(&meta);

    if let Some(prev) = previous.filter(|p| p.mtime_ns != 0) {
        let dirs = known_dir_names(prev, extra_folder_names);
        let combined = dirs
            .iter()
            .filter_map(|d| fs::metadata(folder.join(d)).ok().filter(Metadata::is_dir))
            .map(|m| mtime_ns(&m))
            .fold(folder_mtime, i64::max);
        if combined == prev.mtime_ns {
            return FolderScan::Unchanged;
        }
    }

    match read_folder(folder, folder_mtime, previous, extra_folder_names) {
        Ok(scan) => scan,
        Err(reason) => unavailable(reason),
    }
}

fn unavailable(reason: String) -> FolderScan {
    FolderScan::Unavailable { reason }
}

/// The folder is absent: `Missing` only when its parent is there, listable and not empty.
fn absent(folder: &Path) -> FolderScan {
    let Some(parent) = folder.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return unavailable(format!("{} has no parent folder", folder.display()));
    };
    match fs::read_dir(parent) {
        Ok(mut entries) => match entries.next() {
            Some(Ok(_)) => FolderScan::Missing,
            Some(Err(e)) => unavailable(format!("cannot list {}: {e}", parent.display())),
            None => unavailable(format!(
                "{} is empty: is its storage mounted?",
                parent.display()
            )),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => unavailable(format!(
            "{} does not exist either: is its storage mounted?",
            parent.display()
        )),
        Err(e) => unavailable(format!("cannot list {}: {e}", parent.display())),
    }
}

/// Trailer subfolder names the incremental check stats: the usual ones, the profiles' and
/// those that held a trailer last time. An oddly cased empty folder (`TRAILERS/`) is not
/// among them: a file added there makes its mtime differ from the combined one, so that
/// folder is read again each time rather than missed.
fn known_dir_names<'a>(prev: &'a FolderState, extra: &'a [String]) -> Vec<&'a str> {
    let mut dirs: Vec<&str> = TRAILER_DIRS.to_vec();
    dirs.extend(
        extra
            .iter()
            .map(String::as_str)
            .filter(|n| is_plain_name(n)),
    );
    dirs.extend(
        prev.trailers
            .iter()
            .filter_map(|t| t.rel_path.rsplit_once('/').map(|(dir, _)| dir)),
    );
    dirs.extend(prev.watched.iter().map(String::as_str));
    dirs.sort_unstable();
    dirs.dedup();
    dirs
}

/// One path component, safe to join.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// A trailer file seen in this scan, before hashing.
struct Seen {
    rel_path: String,
    size: u64,
    mtime_ns: i64,
}

fn read_folder(
    folder: &Path,
    folder_mtime: i64,
    previous: Option<&FolderState>,
    extra: &[String],
) -> Result<FolderScan, String> {
    let list_err = |dir: &Path, e: io::Error| format!("cannot list {}: {e}", dir.display());
    let is_trailer_dir = |name: &str| {
        TRAILER_DIRS
            .iter()
            .copied()
            .chain(extra.iter().map(String::as_str))
            .any(|d| d.eq_ignore_ascii_case(name))
    };
    let mut combined_mtime = folder_mtime;
    let mut seen = Vec::new();
    let mut seasons = Vec::new();
    let mut watched = Vec::new();
    for entry in fs::read_dir(folder).map_err(|e| list_err(folder, e))? {
        let entry = entry.map_err(|e| list_err(folder, e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // Not UTF-8: cannot be stored as a rel_path; never ours.
        };
        if name.starts_with('.') || name.starts_with(TEMP_PREFIX) {
            remove_if_stale_temp(&entry.path(), &name);
            continue;
        }
        let file_type = entry.file_type().map_err(|e| list_err(folder, e))?;
        let path = entry.path();
        // d_type says dir or file without a stat; a symlink needs one to know what it is.
        let is_dir = if file_type.is_symlink() {
            match fs::metadata(&path) {
                Ok(meta) => meta.is_dir(),
                // A trailer folder linked to storage that is gone: its trailers are unknown.
                Err(e) if is_trailer_dir(&name) => return Err(list_err(&path, e)),
                Err(_) => false,
            }
        } else {
            file_type.is_dir()
        };
        if is_dir {
            if let Some(number) = season_number(&name) {
                read_season(&path, &name, &is_trailer_dir, &mut seen, &mut watched)?
                    .into_iter()
                    .for_each(|m| combined_mtime = combined_mtime.max(m));
                seasons.push(SeasonDir { number, name });
                continue;
            }
            if !is_trailer_dir(&name) {
                continue;
            }
            let sub = fs::metadata(&path).map_err(|e| list_err(&path, e))?;
            combined_mtime = combined_mtime.max(mtime_ns(&sub));
            for inner in fs::read_dir(&path).map_err(|e| list_err(&path, e))? {
                let inner = inner.map_err(|e| list_err(&path, e))?;
                let Ok(file) = inner.file_name().into_string() else {
                    continue;
                };
                if is_hidden(&file) || !is_video(&file) {
                    remove_if_stale_temp(&inner.path(), &file);
                    continue;
                }
                if let Some(s) = stat_file(&inner.path(), format!("{name}/{file}"))? {
                    seen.push(s);
                }
            }
        } else if is_video(&name)
            && (is_inline_trailer_name(stem(&name)) || has_extra_suffix(stem(&name)))
            && let Some(s) = stat_file(&path, name)?
        {
            seen.push(s);
        }
    }
    seen.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    seasons.sort_by(|a: &SeasonDir, b| (a.number, &a.name).cmp(&(b.number, &b.name)));
    watched.sort();

    let before: HashMap<&str, &TrailerFile> = previous
        .map(|p| {
            p.trailers
                .iter()
                .map(|t| (t.rel_path.as_str(), t))
                .collect()
        })
        .unwrap_or_default();
    let mut trailers = Vec::with_capacity(seen.len());
    for s in seen {
        let sha256 = match before.get(s.rel_path.as_str()) {
            Some(old) if old.size == s.size && old.mtime_ns == s.mtime_ns => old.sha256.clone(),
            _ => match hash_file(&folder.join(&s.rel_path), s.size) {
                Ok(h) => h,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // Deleted meanwhile.
                Err(e) => return Err(format!("cannot read {}: {e}", s.rel_path)),
            },
        };
        trailers.push(TrailerFile {
            rel_path: s.rel_path,
            size: s.size,
            mtime_ns: s.mtime_ns,
            sha256,
        });
    }

    let changes = diff(previous.map_or(&[][..], |p| &p.trailers), &trailers);
    let mtime_ns = if is_racy(combined_mtime) {
        0
    } else {
        combined_mtime
    };
    Ok(FolderScan::Scanned {
        state: FolderState {
            mtime_ns,
            trailers,
            seasons,
            watched,
        },
        changes,
    })
}

/// Lists one season folder of a series: the videos with a trailer's name in it and the
/// videos directly inside its trailer folders (`Season 01/Trailers/x.mp4`); episodes and
/// other folders are not looked at. Returns the mtimes read (the season folder's and its
/// trailer folders'), and adds their paths to `watched`.
fn read_season(
    path: &Path,
    name: &str,
    is_trailer_dir: &dyn Fn(&str) -> bool,
    seen: &mut Vec<Seen>,
    watched: &mut Vec<String>,
) -> Result<Vec<i64>, String> {
    let list_err = |dir: &Path, e: io::Error| format!("cannot list {}: {e}", dir.display());
    let meta = fs::metadata(path).map_err(|e| list_err(path, e))?;
    let mut mtimes = vec![mtime_ns(&meta)];
    watched.push(name.to_string());
    for entry in fs::read_dir(path).map_err(|e| list_err(path, e))? {
        let entry = entry.map_err(|e| list_err(path, e))?;
        let Ok(file) = entry.file_name().into_string() else {
            continue;
        };
        if is_hidden(&file) {
            remove_if_stale_temp(&entry.path(), &file);
            continue;
        }
        let inner = entry.path();
        let is_dir = fs::metadata(&inner).map(|m| m.is_dir()).unwrap_or(false);
        if is_dir && is_trailer_dir(&file) {
            let sub = fs::metadata(&inner).map_err(|e| list_err(&inner, e))?;
            mtimes.push(mtime_ns(&sub));
            watched.push(format!("{name}/{file}"));
            for video in fs::read_dir(&inner).map_err(|e| list_err(&inner, e))? {
                let video = video.map_err(|e| list_err(&inner, e))?;
                let Ok(v) = video.file_name().into_string() else {
                    continue;
                };
                if is_hidden(&v) || !is_video(&v) {
                    remove_if_stale_temp(&video.path(), &v);
                    continue;
                }
                if let Some(s) = stat_file(&video.path(), format!("{name}/{file}/{v}"))? {
                    seen.push(s);
                }
            }
        } else if !is_dir
            && is_video(&file)
            && is_inline_trailer_name(stem(&file))
            && let Some(s) = stat_file(&inner, format!("{name}/{file}"))?
        {
            seen.push(s);
        }
    }
    Ok(mtimes)
}

/// A video file's size and mtime; `None` when it vanished or is not a regular file.
fn stat_file(path: &Path, rel_path: String) -> Result<Option<Seen>, String> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() => Ok(Some(Seen {
            rel_path,
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
        })),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {rel_path}: {e}")),
    }
}

/// What changed between two sorted lists of trailers.
fn diff(before: &[TrailerFile], after: &[TrailerFile]) -> Vec<TrailerChange> {
    let old: HashMap<&str, &TrailerFile> =
        before.iter().map(|t| (t.rel_path.as_str(), t)).collect();
    let new: HashMap<&str, &TrailerFile> = after.iter().map(|t| (t.rel_path.as_str(), t)).collect();
    let mut changes = Vec::new();
    let mut appeared = Vec::new();
    for t in after {
        match old.get(t.rel_path.as_str()) {
            None => appeared.push(t),
            Some(o) if o.sha256 != t.sha256 || o.size != t.size => {
                changes.push(TrailerChange::Modified {
                    before: (*o).clone(),
                    after: t.clone(),
                });
            }
            Some(_) => {}
        }
    }
    let mut gone: Vec<Option<&TrailerFile>> = before
        .iter()
        .filter(|t| !new.contains_key(t.rel_path.as_str()))
        .map(Some)
        .collect();
    for t in appeared {
        let twin = gone
            .iter_mut()
            .find(|g| g.is_some_and(|g| g.sha256 == t.sha256 && g.size == t.size))
            .and_then(Option::take);
        changes.push(match twin {
            Some(from) => TrailerChange::Renamed {
                from: from.clone(),
                to: t.clone(),
            },
            None => TrailerChange::Found(t.clone()),
        });
    }
    changes.extend(
        gone.into_iter()
            .flatten()
            .cloned()
            .map(TrailerChange::Removed),
    );
    changes.sort_by(|a, b| a.sort_key().cmp(b.sort_key()));
    changes
}

fn mtime_ns(meta: &Metadata) -> i64 {
    meta.mtime()
        .saturating_mul(1_000_000_000)
        .saturating_add(meta.mtime_nsec())
}

fn is_racy(mtime_ns: i64) -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let window = i64::try_from(RACY_WINDOW.as_nanos()).unwrap_or(i64::MAX);
    mtime_ns > now.saturating_sub(window)
}

/// A copy cut short by a crash leaves a hidden temp file that nothing else would ever remove.
fn remove_if_stale_temp(path: &Path, name: &str) {
    if is_stale_temp(name) {
        match fs::remove_file(path) {
            Ok(()) => {
                tracing::info!(file = %path.display(), "removed a temp file a stopped Tapearr left behind")
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot remove a stale temp file")
            }
        }
    }
}

fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(stem, _)| stem)
}

fn is_video(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && VIDEO_EXTENSIONS.iter().any(|v| v.eq_ignore_ascii_case(ext))
    })
}

/// A stem ending in an extras suffix (`-featurette`, `-behindthescenes`, `-scene`): listed so
/// that extras Tapearr placed beside the media are seen; `recognize` accepts such a file only
/// when a record names it.
fn has_extra_suffix(stem: &str) -> bool {
    let lower = stem.to_lowercase();
    crate::trailers::model::slot::EXTRA_SUFFIXES
        .iter()
        .any(|s| lower.len() > s.len() && lower.ends_with(s))
}

/// SHA-256 of the first and last [`HASH_PART`] bytes (the whole file when it is shorter than
/// both together) and the size.
fn hash_file(path: &Path, size: u64) -> io::Result<String> {
    #[cfg(test)]
    tests::count_hash();
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut copy = |file: &mut File, mut left: u64| -> io::Result<()> {
        while left > 0 {
            let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            let n = file.read(&mut buf[..want])?;
            if n == 0 {
                break; // Truncated meanwhile: the size in the hash still tells them apart.
            }
            hasher.update(&buf[..n]);
            left -= n as u64;
        }
        Ok(())
    };
    if size <= 2 * HASH_PART {
        copy(&mut file, size)?;
    } else {
        copy(&mut file, HASH_PART)?;
        file.seek(SeekFrom::Start(size - HASH_PART))?;
        copy(&mut file, HASH_PART)?;
    }
    hasher.update(size.to_le_bytes());
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests;
