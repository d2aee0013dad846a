//! The disk scan service (T3): runs [`folder::scan_folder`] over every media folder and turns
//! what it finds into download records — a trailer already on disk is claimed by one profile
//! (the highest priority one whose placement it matches, else the highest priority one), a
//! trailer that disappeared sends its profile back to "missing", a rename follows the file,
//! and an unreadable folder marks the item unavailable without touching its records.

pub mod folder;
pub mod recognize;

use crate::time::Timestamp;
use crate::trailers::download::NO_SEASON_FOLDER;
use crate::trailers::error::TrailerResult;

use crate::trailers::model::slot::extras_folders;
use crate::trailers::model::{
    DownloadRecord, DownloadStatus, MediaItem, NewMediaEvent, ScanRecord, TrailerWrites,
};
use crate::trailers::model::{Placement, Profile, Slot, SlotKind};
use crate::trailers::plan::profiles::applicable;
use crate::trailers::scan::folder::{FolderScan, FolderState, TrailerChange, scan_folder};
use crate::trailers::scan::recognize::{FileFacts, media_rel_paths, recognize};
use crate::trailers::service::Trailers;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ScanReport {
    pub folders: usize,
    pub unchanged: usize,
    pub scanned: usize,
    pub missing: usize,
    pub unavailable: usize,
    /// Trailers already on disk newly claimed by a profile.
    pub found: usize,
    pub removed: usize,
    pub renamed: usize,
}

/// Folders scanned per blocking task, and changed folders written per transaction.
const BATCH: usize = 256;

impl Trailers {
    pub async fn scan_all(&self) -> TrailerResult<ScanReport> {
        let _one_at_a_time = self.inner.scan_lock.lock().await;
        let records = self.store().scan_records().await?;
        let profiles = self.store().trailer_profiles().await?;
        // The profiles' trailer folders, and the extras folders where Tapearr places
        // featurettes and the like (their files count only when a record names them).
        let extra: Vec<String> = profiles
            .iter()
            .filter(|p| p.output.placement == Placement::Folder)
            .map(|p| p.output.folder_name.clone())
            .chain(extras_folders().map(String::from))
            .collect();
        let mut report = ScanReport {
            folders: records.len(),
            ..ScanReport::default()
        };
        let mut results = Vec::with_capacity(records.len());
        for batch in records.chunks(BATCH) {
            let batch = batch.to_vec();
            let extra = extra.clone();
            let done = tokio::task::spawn_blocking(move || {
                batch
                    .into_iter()
                    .map(|r| {
                        // A folder that was unreadable or absent last time is read again
                        // whatever its mtime: remounted storage keeps its old mtimes, and its
                        // state must go back to `ok`.
                        let trusted = r.status.as_deref() == Some("ok");
                        let previous = r
                            .state
                            .as_deref()
                            .and_then(|s| serde_json::from_str::<FolderState>(s).ok())
                            .map(|p| FolderState {
                                mtime_ns: if trusted { p.mtime_ns } else { 0 },
                                ..p
                            });
                        let scan = scan_folder(Path::new(&r.folder), previous.as_ref(), &extra);
                        // Records name files by their resolved path (as placement does), so a
                        // library behind a symlink is spelled one way only.
                        let real = matches!(scan, FolderScan::Scanned { .. })
                            .then(|| std::fs::canonicalize(&r.folder).ok())
                            .flatten();
                        (r, (scan, real))
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| {
                crate::trailers::error::TrailerError::Internal(format!("scan task: {e}"))
            })?;
            results.extend(done);
        }
        let changed: Vec<_> = results
            .into_iter()
            .filter_map(|(r, (scan, real))| match scan {
                FolderScan::Unchanged => {
                    report.unchanged += 1;
                    None
                }
                other => Some((r, other, real)),
            })
            .collect();
        if changed.is_empty() {
            return Ok(report);
        }
        let media = self.media_by_id().await?;
        let mut downloads: HashMap<String, Vec<DownloadRecord>> = HashMap::new();
        for d in self.store().all_downloads().await? {
            downloads.entry(d.media_id.clone()).or_default().push(d);
        }
        let now = Timestamp::now();
        let mut writes = TrailerWrites::default();
        for (record, scan, real) in changed {
            let (status, state) = match scan {
                FolderScan::Unchanged => continue,
                FolderScan::Unavailable { reason } => {
                    report.unavailable += 1;
                    tracing::warn!(folder = %record.folder, %reason, "media folder unavailable; its trailers are not marked missing");
                    ("unavailable", record.state.clone())
                }
                FolderScan::Missing => {
                    report.missing += 1;
                    ("missing", None)
                }
                FolderScan::Scanned { state, changes } => {
                    report.scanned += 1;
                    if let Some(item) = media.get(&record.media_id) {
                        let records = downloads.remove(&item.id).unwrap_or_default();
                        let folder = real.unwrap_or_else(|| PathBuf::from(&item.folder));
                        let found = Found {
                            folder: &folder,
                            state: &state,
                            changes: &changes,
                            now,
                        };
                        reconcile(item, &profiles, records, &found, &mut writes, &mut report);
                    }
                    ("ok", serde_json::to_string(&state).ok())
                }
            };
            writes.scans.push(ScanRecord {
                status: Some(status.into()),
                state,
                scanned_at: Some(now),
                ..record
            });
            if writes.scans.len() >= BATCH {
                self.store()
                    .save_trailer_writes(&std::mem::take(&mut writes))
                    .await?;
            }
        }
        if !writes.scans.is_empty() {
            self.store().save_trailer_writes(&writes).await?;
        }
        Ok(report)
    }
}

/// What the scan saw in one folder.
struct Found<'a> {
    /// The media folder, resolved.
    folder: &'a Path,
    state: &'a FolderState,
    changes: &'a [TrailerChange],
    now: Timestamp,
}

fn event(
    item: &MediaItem,
    profile_id: &str,
    kind: &str,
    message: String,
    at: Timestamp,
) -> NewMediaEvent {
    NewMediaEvent {
        media_id: item.id.clone(),
        profile_id: Some(profile_id.to_string()),
        kind: kind.into(),
        message,
        at,
    }
}

/// Brings one item's download records in line with the trailers in its folder.
fn reconcile(
    item: &MediaItem,
    profiles: &[Profile],
    mut records: Vec<DownloadRecord>,
    found: &Found<'_>,
    writes: &mut TrailerWrites,
    report: &mut ScanReport,
) {
    let (state, changes, now) = (found.state, found.changes, found.now);
    let folder = found.folder;
    let on_disk: HashMap<PathBuf, &str> = state
        .trailers
        .iter()
        .map(|t| (folder.join(&t.rel_path), t.rel_path.as_str()))
        .collect();
    let renames: HashMap<PathBuf, PathBuf> = changes
        .iter()
        .filter_map(|c| match c {
            TrailerChange::Renamed { from, to } => {
                Some((folder.join(&from.rel_path), folder.join(&to.rel_path)))
            }
            _ => None,
        })
        .collect();
    let media_files = media_rel_paths(item);
    let size_of = |rel: &str| {
        state
            .trailers
            .iter()
            .find(|t| t.rel_path == rel)
            .map(|t| t.size)
    };
    // Records whose file moved or went away, or that name a file which is not a trailer (the
    // item's own media file, claimed before the source said so): the file stays, the record
    // lets go of it.
    for r in records.iter_mut().filter(|r| r.status.has_trailer()) {
        let Some(path) = r.file_path.as_deref().map(PathBuf::from) else {
            continue;
        };
        if let Some(rel) = on_disk.get(&path) {
            let facts = FileFacts {
                rel_path: rel,
                size: size_of(rel),
                placed: r.status == DownloadStatus::Downloaded,
            };
            if let Err(why) = recognize(facts, &media_files) {
                let msg = format!(
                    "{rel} is not a trailer ({}); it is left alone",
                    why.describe()
                );
                r.status = DownloadStatus::Missing;
                r.file_path = None;
                r.file_bytes = None;
                r.reason = Some(msg.clone());
                r.updated_at = now;
                writes
                    .events
                    .push(event(item, &r.profile_id, "not_a_trailer", msg, now));
                writes.downloads.push(r.clone());
            }
            continue;
        }
        if let Some(to) = renames.get(&path) {
            report.renamed += 1;
            let msg = format!("trailer renamed to {}", to.display());
            r.file_path = Some(to.display().to_string());
            r.updated_at = now;
            writes
                .events
                .push(event(item, &r.profile_id, "renamed", msg, now));
        } else {
            report.removed += 1;
            // Not listed because it is no longer taken for a trailer (the rule is stricter
            // than an earlier scan's): the file is there, only the record lets go of it.
            let not_trailer = path
                .strip_prefix(folder)
                .ok()
                .and_then(|rel| rel.to_str())
                .and_then(|rel| {
                    let facts = FileFacts {
                        rel_path: rel,
                        size: None,
                        placed: r.status == DownloadStatus::Downloaded,
                    };
                    recognize(facts, &media_files).err()
                });
            let kind = if not_trailer.is_some() {
                "not_a_trailer"
            } else {
                "deleted"
            };
            let msg = match not_trailer {
                Some(why) => format!(
                    "{} is not a trailer ({}); it is left alone",
                    path.display(),
                    why.describe()
                ),
                None => format!("trailer {} is gone from disk", path.display()),
            };
            r.status = DownloadStatus::Missing;
            r.file_path = None;
            r.file_bytes = None;
            r.reason = Some(msg.clone());
            r.updated_at = now;
            writes
                .events
                .push(event(item, &r.profile_id, kind, msg, now));
        }
        writes.downloads.push(r.clone());
    }
    // A season trailer skipped for want of its season's folder is wanted again once the
    // folder is there (Sonarr made it for the season's first episode).
    for r in records.iter_mut().filter(|r| {
        r.status == DownloadStatus::Skipped && r.error_kind.as_deref() == Some(NO_SEASON_FOLDER)
    }) {
        let Some(n) = r.slot.season_number() else {
            continue;
        };
        if let Some(dir) = state.season_dir(u32::from(n)) {
            r.status = DownloadStatus::Missing;
            r.reason = Some(format!("the Season {n} folder is there now ({dir})"));
            r.error_kind = None;
            r.updated_at = now;
            writes.downloads.push(r.clone());
        }
    }
    // Files no record owns: each is claimed by one trailer slot still without its video,
    // the profiles' first trailers before their second ones. Extras are never claimed: only
    // files Tapearr placed count as those (a user's `-featurette` stays theirs).
    let owned: Vec<PathBuf> = records
        .iter()
        .filter(|r| r.status.has_trailer())
        .filter_map(|r| r.file_path.as_deref().map(PathBuf::from))
        .collect();
    let mut unclaimed: Vec<(&PathBuf, &str)> = on_disk
        .iter()
        .filter(|(p, _)| !owned.contains(p))
        .filter(|(_, rel)| {
            let facts = FileFacts {
                rel_path: rel,
                size: size_of(rel),
                placed: false,
            };
            recognize(facts, &media_files).is_ok()
        })
        .map(|(p, rel)| (p, *rel))
        .collect();
    unclaimed.sort();
    let applying = applicable(profiles, item);
    for (path, rel) in unclaimed {
        let mut wanting: Vec<(&Profile, Slot)> = applying
            .iter()
            .flat_map(|p| p.output.slots().into_iter().map(move |s| (*p, s)))
            .filter(|(_, s)| s.kind == SlotKind::Trailer)
            .filter(|(p, s)| {
                !records
                    .iter()
                    .any(|r| r.profile_id == p.id && r.slot == *s && r.status.has_trailer())
            })
            .collect();
        // Stable: priority order within each trailer number.
        wanting.sort_by_key(|(_, s)| s.n);
        let Some(&(profile, slot)) = wanting
            .iter()
            .find(|(p, _)| placement_matches(p, rel))
            .or_else(|| wanting.first())
        else {
            break; // Every trailer slot has its video: extra files are left alone.
        };
        report.found += 1;
        let reason = format!("already on disk: {rel}");
        let size = state
            .trailers
            .iter()
            .find(|t| t.rel_path == rel)
            .map(|t| i64::try_from(t.size).unwrap_or(i64::MAX));
        let record = DownloadRecord {
            media_id: item.id.clone(),
            profile_id: profile.id.clone(),
            slot,
            status: DownloadStatus::Existing,
            video_id: None,
            source: None,
            file_path: Some(path.display().to_string()),
            file_bytes: size,
            duration_ms: None,
            reason: Some(reason.clone()),
            error_kind: None,
            attempts: 0,
            next_attempt_at: None,
            updated_at: now,
            height: None,
            upgrade_checked_at: None,
            upgrades: 0,
        };
        writes.downloads.push(record.clone());
        writes
            .events
            .push(event(item, &profile.id, "trailer_found", reason, now));
        records.retain(|r| !(r.profile_id == profile.id && r.slot == slot));
        records.push(record);
    }
}

/// A file in a trailer folder suits a folder profile of that name; a file beside the media
/// suits a "beside" profile.
fn placement_matches(profile: &Profile, rel: &str) -> bool {
    match rel.rsplit_once('/') {
        Some((dir, _)) => {
            profile.output.placement == Placement::Folder
                && dir.eq_ignore_ascii_case(&profile.output.folder_name)
        }
        None => profile.output.placement == Placement::Beside,
    }
}
