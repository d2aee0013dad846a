//! The Movies and Series lists: one page of items, each with what the next run would do for
//! every profile that applies to it (the same `plan` as the preview, so a badge never says
//! "missing" where the run would say "skipped: the folder does not exist").

use crate::storage::PageRequest;
use crate::time::Timestamp;
use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::model::{DownloadStatus, MediaCursor, MediaItem, MediaQuery, Slot};
use crate::trailers::plan::{PlanAction, PlanInput, plan};
use crate::trailers::service::Trailers;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One applicable profile's state of one slot for a list row.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrailerState {
    pub profile_id: String,
    pub profile_name: String,
    /// Which of the profile's videos (`trailer-1`, `trailer-2`, `featurette-1`…).
    #[schema(value_type = String, example = "trailer-1")]
    pub slot: Slot,
    /// What the next run does for this profile.
    pub action: PlanAction,
    /// Why, for people.
    pub reason: String,
    /// The download record's status; `None` before anything was tried or found.
    pub status: Option<DownloadStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MediaSummary {
    #[serde(flatten)]
    pub item: MediaItem,
    /// One per enabled profile whose filters match, higher priority first; then the records of
    /// profiles that no longer apply.
    pub trailers: Vec<TrailerState>,
}

/// One page of the Movies/Series list: `Paged`'s fields plus the keyset cursor of the next page.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MediaPage {
    pub items: Vec<MediaSummary>,
    /// Items that match the filters, all pages together.
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    /// Pass as `cursor` to get the page after this one; absent on the last page.
    pub next_cursor: Option<String>,
}

impl Trailers {
    pub async fn media_page(&self, q: &MediaQuery) -> TrailerResult<MediaPage> {
        if let Some(t) = q.trailer.as_deref()
            && !matches!(t, "missing" | "has" | "failed")
        {
            return Err(TrailerError::Invalid(
                "trailer must be missing, has or failed".into(),
            ));
        }
        let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Some(MediaCursor::decode(c).ok_or_else(|| {
                TrailerError::Invalid("cursor is not one this server returned".into())
            })?),
            None => None,
        };
        let page = PageRequest::new(q.limit, q.offset);
        // The scan states come with the page's rows, and only the page's records are read: the
        // cost does not grow with the library.
        let listed = self.store().list_media(q, after.as_ref()).await?;
        let (items, scans, total) = (listed.items, listed.scans, listed.total);
        let ids: Vec<String> = items.iter().map(|m| m.id.clone()).collect();
        let downloads = self.store().downloads_of(&ids).await?;
        let profiles = self.store().trailer_profiles().await?;
        let status: HashMap<(&str, &str, Slot), DownloadStatus> = downloads
            .iter()
            .map(|d| {
                (
                    (d.media_id.as_str(), d.profile_id.as_str(), d.slot),
                    d.status,
                )
            })
            .collect();
        let mut states: HashMap<String, Vec<TrailerState>> = HashMap::new();
        for e in plan(&PlanInput {
            media: &items,
            profiles: &profiles,
            downloads: &downloads,
            scans: &scans,
            now: Timestamp::now(),
            upgrade_interval: self.upgrade_interval(),
        }) {
            let status = status
                .get(&(e.media_id.as_str(), e.profile_id.as_str(), e.slot))
                .copied();
            states.entry(e.media_id).or_default().push(TrailerState {
                profile_id: e.profile_id,
                profile_name: e.profile_name,
                slot: e.slot,
                action: e.action,
                reason: e.reason,
                status,
            });
        }
        // Records of profiles (or slots) that no longer apply (disabled, filters changed, fewer
        // trailers asked for): a file stays a file.
        for d in &downloads {
            let row = states.entry(d.media_id.clone()).or_default();
            if row
                .iter()
                .any(|t| t.profile_id == d.profile_id && t.slot == d.slot)
            {
                continue;
            }
            let name = profiles
                .iter()
                .find(|p| p.id == d.profile_id)
                .map_or_else(|| "a removed profile".to_string(), |p| p.name.clone());
            let have = d.status.has_trailer();
            row.push(TrailerState {
                profile_id: d.profile_id.clone(),
                profile_name: name,
                slot: d.slot,
                action: if have {
                    PlanAction::Have
                } else {
                    PlanAction::Skip
                },
                reason: "this profile no longer applies to the item".into(),
                status: Some(d.status),
            });
        }
        Ok(MediaPage {
            items: items
                .into_iter()
                .map(|item| MediaSummary {
                    trailers: states.remove(&item.id).unwrap_or_default(),
                    item,
                })
                .collect(),
            total,
            limit: page.limit,
            offset: if after.is_some() { 0 } else { page.offset },
            next_cursor: listed.next.map(|c| c.encode()),
        })
    }
}
