//! What a user does to one item or many: monitor, override the trailer id, delete a trailer,
//! and bulk actions; plus the item page's data.

use crate::files::SafePath;
use crate::time::Timestamp;
use crate::trailers::download::same_file;
use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::model::Profile;
use crate::trailers::model::{DownloadRecord, DownloadStatus, MediaEvent, MediaItem, Slot};
use crate::trailers::plan::profiles::applicable;
use crate::trailers::scan::recognize::{FileFacts, NotATrailer, media_rel_paths, recognize};
use crate::trailers::service::Trailers;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// An item with its trailer state per applicable profile, its history and the profiles.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MediaDetail {
    pub item: MediaItem,
    pub downloads: Vec<DownloadRecord>,
    /// Ids of the enabled profiles whose filters match the item, higher priority first.
    pub profiles: Vec<String>,
    pub events: Vec<MediaEvent>,
    /// `ok`, `missing` or `unavailable` from the last disk scan.
    pub scan_status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct MediaPatch {
    pub monitor: Option<bool>,
    /// A video id to use instead of any search; `""` clears it.
    pub trailer_id_override: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BulkAction {
    Monitor,
    Unmonitor,
    /// Queue a download for every slot of every applicable profile without its video.
    Download,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct BulkRequest {
    pub ids: Vec<String>,
    pub action: BulkAction,
}

/// The largest bulk request (a page of the web app's list is at most 500).
pub const BULK_MAX: usize = 500;

impl Trailers {
    pub async fn media_detail(&self, id: &str) -> TrailerResult<MediaDetail> {
        let item = self.media_item(id).await?;
        let profiles = self.profiles().await?;
        let downloads = self.store().media_downloads(id).await?;
        let events = self.store().media_events(id, 100).await?;
        let scan_status = self
            .store()
            .scan_records_of(&[id.to_string()])
            .await?
            .into_iter()
            .find(|s| s.media_id == id)
            .and_then(|s| s.status);
        Ok(MediaDetail {
            profiles: applicable(&profiles, &item)
                .into_iter()
                .map(|p| p.id.clone())
                .collect(),
            item,
            downloads,
            events,
            scan_status,
        })
    }

    pub async fn patch_media(&self, id: &str, patch: MediaPatch) -> TrailerResult<MediaItem> {
        let item = self.media_item(id).await?;
        let override_id = match patch.trailer_id_override.as_deref().map(str::trim) {
            Some("") => Some(None),
            Some(v) => {
                self.video_url(v)?;
                Some(Some(v.to_string()))
            }
            None => None,
        };
        if let Some(monitor) = patch.monitor
            && monitor != item.monitor
        {
            self.store().set_media_monitor(id, monitor).await?;
            let msg = if monitor {
                "monitored"
            } else {
                "not monitored"
            };
            self.note(&item, None, "monitor_changed", msg).await;
        }
        if let Some(v) = override_id
            && v != item.trailer_id_override
        {
            self.store().set_media_override(id, v.as_deref()).await?;
            let msg = match &v {
                Some(v) => format!("trailer id set to {v}"),
                None => "trailer id override cleared".into(),
            };
            self.note(&item, None, "override_changed", &msg).await;
        }
        self.media_item(id).await
    }

    /// The file of one slot of the profile, checked to be inside a library root.
    pub async fn trailer_file(
        &self,
        media_id: &str,
        profile_id: &str,
        slot: Slot,
    ) -> TrailerResult<std::path::PathBuf> {
        let record = self
            .store()
            .media_downloads(media_id)
            .await?
            .into_iter()
            .find(|d| d.profile_id == profile_id && d.slot == slot && d.status.has_trailer())
            .ok_or(TrailerError::NotFound("trailer"))?;
        let path = record.file_path.ok_or(TrailerError::NotFound("trailer"))?;
        let roots = self.roots().ok_or(TrailerError::NotFound("trailer"))?;
        let safe = roots
            .resolve(&path)
            .map_err(|_| TrailerError::NotFound("trailer"))?;
        Ok(safe.as_path().to_path_buf())
    }

    /// Deletes the file of one slot of the profile and marks it skipped, so no run downloads
    /// it again until the user asks.
    pub async fn delete_trailer(
        &self,
        media_id: &str,
        profile_id: &str,
        slot: Slot,
    ) -> TrailerResult<()> {
        let item = self.media_item(media_id).await?;
        let mut record = self
            .store()
            .media_downloads(media_id)
            .await?
            .into_iter()
            .find(|d| d.profile_id == profile_id && d.slot == slot)
            .ok_or(TrailerError::NotFound("trailer"))?;
        if let Some(safe) = self.deletable_file(&item, &record).await? {
            let path = record.file_path.as_deref().unwrap_or_default();
            match crate::files::remove_file(&safe).await {
                Ok(()) => {}
                Err(e) if !safe.as_path().exists() => {
                    tracing::info!(error = %e, "trailer already gone");
                }
                Err(e) => return Err(TrailerError::Conflict(format!("cannot delete {path}: {e}"))),
            }
            self.note(
                &item,
                Some(profile_id),
                "deleted",
                &format!("deleted {path}"),
            )
            .await;
        }
        record.status = DownloadStatus::Skipped;
        record.file_path = None;
        record.file_bytes = None;
        record.reason = Some("deleted by the user".into());
        record.next_attempt_at = None;
        record.updated_at = Timestamp::now();
        self.store().save_download(&record).await?;
        Ok(())
    }

    /// The record's trailer file, resolved, when Tapearr may delete it (see
    /// [`crate::trailers::scan::recognize`]): Tapearr placed it or it clearly is a trailer, inside the item's
    /// media folder, and it is not one of the item's own media files (by name, and by being
    /// the same file on disk). `None` when the record names no trailer file; `Conflict` with
    /// the reason when it names one Tapearr must not delete.
    pub(crate) async fn deletable_file(
        &self,
        item: &MediaItem,
        record: &DownloadRecord,
    ) -> TrailerResult<Option<SafePath>> {
        let Some(path) = record
            .file_path
            .as_deref()
            .filter(|_| record.status.has_trailer())
        else {
            return Ok(None);
        };
        let refuse = |why: &str| TrailerError::Conflict(format!("will not delete {path}: {why}"));
        let roots = self
            .roots()
            .ok_or_else(|| TrailerError::Invalid("no library roots are configured".into()))?;
        let safe = roots
            .resolve(path)
            .map_err(|e| TrailerError::Invalid(format!("cannot delete {path}: {e}")))?;
        let folder = roots
            .resolve(&item.folder)
            .map_err(|e| refuse(&format!("its media folder is not usable: {e}")))?;
        let rel = safe
            .as_path()
            .strip_prefix(folder.as_path())
            .ok()
            .and_then(|rel| rel.to_str())
            .filter(|rel| !rel.is_empty())
            .ok_or_else(|| refuse("it is not inside the item's media folder"))?;
        let size = tokio::fs::metadata(safe.as_path())
            .await
            .ok()
            .map(|m| m.len());
        let facts = FileFacts {
            rel_path: rel,
            size,
            placed: record.status == DownloadStatus::Downloaded,
        };
        recognize(facts, &media_rel_paths(item)).map_err(|why| refuse(why.describe()))?;
        for media in &item.media_files {
            if let Ok(media) = roots.resolve(media)
                && same_file(media.as_path(), safe.as_path()).await
            {
                return Err(refuse(NotATrailer::MediaFile.describe()));
            }
        }
        Ok(Some(safe))
    }

    /// All-or-nothing validation, then the action on each item. Returns how many changed
    /// (for `download`: how many downloads were queued).
    pub async fn bulk(&self, req: &BulkRequest) -> TrailerResult<usize> {
        if req.ids.is_empty() || req.ids.len() > BULK_MAX {
            return Err(TrailerError::Invalid(format!(
                "ids must hold 1 to {BULK_MAX} media ids"
            )));
        }
        let items = self.store().media_of(&req.ids).await?;
        let known: HashSet<&str> = items.iter().map(|m| m.id.as_str()).collect();
        if req.ids.iter().any(|id| !known.contains(id.as_str())) {
            return Err(TrailerError::NotFound("media item (nothing was changed)"));
        }
        let profiles: Vec<Profile> = self.profiles().await?;
        let downloads = self.store().downloads_of(&req.ids).await?;
        let have: HashSet<(&str, &str, Slot)> = downloads
            .iter()
            .filter(|d| d.status.has_trailer())
            .map(|d| (d.media_id.as_str(), d.profile_id.as_str(), d.slot))
            .collect();
        let mut changed = 0;
        for item in &items {
            match req.action {
                BulkAction::Monitor | BulkAction::Unmonitor => {
                    let on = req.action == BulkAction::Monitor;
                    if item.monitor != on {
                        self.patch_media(
                            &item.id,
                            MediaPatch {
                                monitor: Some(on),
                                trailer_id_override: None,
                            },
                        )
                        .await?;
                        changed += 1;
                    }
                }
                BulkAction::Download => {
                    for p in applicable(&profiles, item) {
                        for slot in p.slots_for(item) {
                            if !have.contains(&(item.id.as_str(), p.id.as_str(), slot)) {
                                self.enqueue_download(&item.id, &p.id, slot, None).await?;
                                changed += 1;
                            }
                        }
                    }
                }
            }
        }
        Ok(changed)
    }
}
