//! Deleting recordings (S6, S8): rows in one transaction, then every file the recording owns.
//! `tvshow.nfo` and show artwork are never deleted; `season.nfo` goes with the season's last
//! episode.

use super::sidecars::{EPISODE_SIDECARS, SEASON_NFO};
use super::{Library, LibraryResult};
use crate::events::DomainEvent;
use crate::files::{LibraryRoots, SafePath, remove_dir_all, remove_empty_dir, remove_file};
use crate::streams::model::Recording;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeleteReport {
    /// Ids of the recordings deleted.
    pub deleted: Vec<String>,
    /// Bytes of MP4s and parts removed.
    pub bytes_freed: u64,
    /// Files that could not be removed (the rows are gone; the files are left for the user).
    pub errors: Vec<String>,
}

impl Library {
    /// Deletes the recordings: all of them or, when one is missing or still recording, none.
    pub async fn delete_recordings(
        &self,
        ids: &[String],
        reason: &str,
    ) -> LibraryResult<DeleteReport> {
        let deleted = self.inner.store.delete_recordings(ids).await?;
        let mut report = DeleteReport::default();
        for rec in &deleted {
            let freed = match self.roots() {
                Ok(roots) => remove_recording_files(&roots, rec, &mut report.errors).await,
                Err(_) => 0,
            };
            report.bytes_freed += freed;
            report.deleted.push(rec.id.clone());
            self.inner
                .events
                .emit(DomainEvent::RecordingDeleted {
                    recording_id: rec.id.clone(),
                    channel_id: rec.channel_id.clone(),
                    login: rec.labels.channel_login.clone(),
                    reason: reason.to_string(),
                    bytes: freed,
                })
                .await;
        }
        Ok(report)
    }
}

/// Removes the recording's MP4, sidecars and parts (its row is the caller's); returns the bytes
/// freed. Paths that do not resolve inside a library root are reported, never touched.
pub async fn remove_recording_files(
    roots: &LibraryRoots,
    rec: &Recording,
    errors: &mut Vec<String>,
) -> u64 {
    let mut freed = 0;
    if let Some(video) = rec.library.video_path.as_deref() {
        match roots.resolve(video) {
            Ok(video) => freed += remove_episode(&video, errors).await,
            Err(e) => errors.push(format!("{video}: {e}")),
        }
    }
    match roots.resolve(&rec.dir) {
        Ok(dir) if dir.as_path().exists() => {
            let size = dir_size(dir.as_path());
            match remove_dir_all(&dir).await {
                Ok(()) => freed += size,
                Err(e) => errors.push(e.to_string()),
            }
            if let Some(parent) = dir.parent() {
                let _ = remove_empty_dir(&parent).await;
            }
        }
        Ok(_) => {}
        Err(e) => errors.push(format!("{}: {e}", rec.dir)),
    }
    freed
}

async fn remove_episode(video: &SafePath, errors: &mut Vec<String>) -> u64 {
    let mut freed = 0;
    let size = std::fs::metadata(video.as_path()).map_or(0, |m| m.len());
    match remove_file(video).await {
        Ok(()) => freed += size,
        Err(e) if e.is_not_found() => {}
        Err(e) => errors.push(e.to_string()),
    }
    let (Some(dir), Some(stem)) = (video.parent(), video.as_path().file_stem()) else {
        return freed;
    };
    let stem = stem.to_string_lossy();
    for suffix in EPISODE_SIDECARS {
        if let Ok(file) = dir.join(&format!("{stem}{suffix}"))
            && let Err(e) = remove_file(&file).await
            && !e.is_not_found()
        {
            errors.push(e.to_string());
        }
    }
    // The season's last episode takes season.nfo (and the then empty folder) with it.
    if !holds_video(dir.as_path()) {
        if let Ok(nfo) = dir.join(SEASON_NFO) {
            let _ = remove_file(&nfo).await;
        }
        if dir.as_path().join("tvshow.nfo").exists() {
            return freed;
        }
        let _ = remove_empty_dir(&dir).await;
    }
    freed
}

fn holds_video(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.ends_with(".mp4") && !name.starts_with('.')
        })
    })
}

fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum()
    })
}
