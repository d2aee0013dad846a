//! Quality upgrades (#18): a file Tapearr placed below the profile's height is replaced by a
//! taller video when a search finds one. Bounded: a slot is searched at most once per
//! `trailers.upgrade_interval_secs` (14 days; a download counts as a search, and the stamp is
//! saved before the search, so a failure or a crash waits for the next interval instead of
//! looping) and replaced at most [`MAX_UPGRADES`] times. The new video is
//! downloaded and converted in the work folder, then renamed over the old file (same name):
//! a crash leaves the old file or the new one, never both and never none.
//!
//! [`MAX_UPGRADES`]: crate::trailers::plan::MAX_UPGRADES

use super::{InFlight, NO_TALLER, UpgradeFrom, Want, clean_work, slot_records};
use crate::time::Timestamp;
use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::model::{DownloadRecord, DownloadStatus, MediaItem, Profile, Slot};
use crate::trailers::plan::upgrade_reason;
use crate::trailers::service::Trailers;
use tokio_util::sync::CancellationToken;

impl Trailers {
    /// Looks for a taller video for one slot and puts it in place of the placed file when
    /// one is found. `Ok(true)` when the file was replaced; `Ok(false)` when it stays (nothing
    /// taller, the attempt failed, or no upgrade is due).
    pub async fn upgrade_trailer(
        &self,
        item: &MediaItem,
        profile: &Profile,
        slot: Slot,
        cancel: &CancellationToken,
    ) -> TrailerResult<bool> {
        let _fetching = InFlight::claim(self, item, profile, slot)?;
        let records = self.store().media_downloads(&item.id).await?;
        let (taken, previous) = slot_records(records, &profile.id, slot);
        let previous = previous.ok_or(TrailerError::NotFound("trailer"))?;
        let now = Timestamp::now();
        let (Some(why), Some(height)) = (
            upgrade_reason(profile, &previous, now, self.upgrade_interval()),
            previous.height.and_then(|h| u32::try_from(h).ok()),
        ) else {
            return Ok(false);
        };
        // Stamped first: whatever happens next, the slot is not searched again this interval.
        let stamped = DownloadRecord {
            upgrade_checked_at: Some(now),
            updated_at: now,
            ..previous
        };
        self.store().save_download(&stamped).await?;
        // Only a file Tapearr placed (and may delete) is replaced.
        let file = match self.deletable_file(item, &stamped).await {
            Ok(Some(file)) => file,
            Ok(None) => return Ok(false),
            Err(e) => {
                self.note(
                    item,
                    Some(&profile.id),
                    "upgrade_skipped",
                    &format!("{why} not tried: {e}"),
                )
                .await;
                return Ok(false);
            }
        };
        let from = UpgradeFrom { height, file };
        let want = Want {
            slot,
            video_id: None,
            taken: &taken,
            upgrade: Some(&from),
        };
        let work = self
            .work_dir()
            .join(format!("{}-{}-{slot}-upgrade", item.id, profile.id));
        let outcome = self
            .attempt(item, profile, &want, Some(&stamped), &work, cancel)
            .await;
        clean_work(&work).await;
        if outcome.is_err() && cancel.is_cancelled() {
            return Err(TrailerError::Cancelled);
        }
        let placed = match outcome {
            Ok(placed) => placed,
            Err(f) => {
                let (kind, msg) = if f.kind == NO_TALLER {
                    (
                        "upgrade_checked",
                        format!("{why}: nothing taller ({})", f.message),
                    )
                } else {
                    ("upgrade_failed", format!("{why} failed: {}", f.message))
                };
                self.note(item, Some(&profile.id), kind, &msg).await;
                return Ok(false);
            }
        };
        let new_height = placed.height.unwrap_or_default();
        let rel = placed.relative_to(item);
        let message = format!(
            "{} {} {} ({new_height}p) replaced the {height}p file {rel}",
            placed.source.as_str(),
            slot.label().to_lowercase(),
            placed.video_id
        );
        self.announce_placed(item, profile, &placed, "upgraded", &message)
            .await;
        let record = DownloadRecord {
            status: DownloadStatus::Downloaded,
            video_id: Some(placed.video_id),
            source: Some(placed.source),
            file_path: Some(placed.path.display().to_string()),
            file_bytes: Some(i64::try_from(placed.bytes).unwrap_or(i64::MAX)),
            duration_ms: Some(placed.duration_ms),
            reason: Some(format!("upgraded {height}p → {new_height}p: {rel}")),
            error_kind: None,
            attempts: 0,
            next_attempt_at: None,
            height: placed.height.map(i64::from),
            upgrades: stamped.upgrades + 1,
            ..stamped
        };
        self.store().save_download(&record).await?;
        Ok(true)
    }
}
