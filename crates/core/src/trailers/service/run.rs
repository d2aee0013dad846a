//! One run (T9): sync → disk scan → plan → downloads. Downloads run on
//! a few workers; each waits only for its own video host's politeness slot, and one item's
//! failure is recorded on its download record and never stops the others.

use crate::time::Timestamp;
use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::model::Profile;
use crate::trailers::model::{DownloadRecord, DownloadStatus, MediaItem, Slot, TrailerWrites};
use crate::trailers::plan::{PlanAction, PlanEntry, PlanInput, plan};
use crate::trailers::scan::ScanReport;
use crate::trailers::service::Trailers;
use crate::trailers::sync::SyncReport;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Records written per transaction.
const WRITE_CHUNK: usize = 500;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct RunReport {
    pub synced: Vec<SyncSummary>,
    pub scan: ScanReport,
    pub planned: usize,
    pub downloaded: usize,
    pub failed: usize,
    pub not_found: usize,
    /// Left for later because their video site refused us and is paused (not failures).
    pub waiting: usize,
    /// Placed trailers replaced by a taller video (quality upgrades).
    pub upgraded: usize,
}

/// How one planned entry ended.
pub(super) enum Outcome {
    /// A download: the record's status, and whether it waits for a paused site.
    Fetched(DownloadStatus, bool),
    /// A quality upgrade: whether the file was replaced.
    Upgrade(bool),
}

impl RunReport {
    /// Adds the downloads' outcomes (status, and whether it waits for a paused site).
    pub(super) fn count(&mut self, outcomes: Vec<Outcome>) {
        for outcome in outcomes {
            match outcome {
                Outcome::Upgrade(replaced) => self.upgraded += usize::from(replaced),
                Outcome::Fetched(_, true) => self.waiting += 1,
                Outcome::Fetched(DownloadStatus::Downloaded, _) => self.downloaded += 1,
                Outcome::Fetched(DownloadStatus::NotFound, _) => self.not_found += 1,
                Outcome::Fetched(..) => self.failed += 1,
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SyncSummary {
    pub connection: String,
    pub report: Option<SyncReport>,
    pub error: Option<String>,
}

impl Trailers {
    /// Exactly what the next run would do for every (item, profile) — nothing is changed.
    pub async fn preview(&self) -> TrailerResult<Vec<PlanEntry>> {
        // Items and their scan states in one read (it was two full reads, one sorted).
        let (media, scans) = self.store().plan_media().await?;
        let profiles = self.store().trailer_profiles().await?;
        let downloads = self.store().all_downloads().await?;
        Ok(plan(&PlanInput {
            media: &media,
            profiles: &profiles,
            downloads: &downloads,
            scans: &scans,
            now: Timestamp::now(),
            upgrade_interval: self.upgrade_interval(),
        }))
    }

    /// One full run. `progress` gets (done, total) as downloads finish.
    pub async fn run_all(
        &self,
        cancel: &CancellationToken,
        progress: impl Fn(usize, usize) + Send + Sync,
    ) -> TrailerResult<RunReport> {
        let _running = self.inner.run_lock.lock().await;
        let mut report = RunReport::default();
        for (connection, result) in self.sync_all().await {
            let (report_, error) = match result {
                Ok(r) => (Some(r), None),
                Err(e) => (None, Some(e)),
            };
            report.synced.push(SyncSummary {
                connection,
                report: report_,
                error,
            });
        }
        report.scan = self.scan_all().await?;
        // Recording `missing` does not change the plan: one plan serves both.
        let entries: Vec<PlanEntry> = self
            .preview()
            .await?
            .into_iter()
            .filter(|e| matches!(e.action, PlanAction::Download | PlanAction::Upgrade))
            .collect();
        self.record_missing(&entries).await?;
        report.planned = entries.len();
        let outcomes = self.download_all(entries, cancel, &progress).await?;
        report.count(outcomes);
        Ok(report)
    }

    /// Gives every planned download without a record a `missing` one, so lists can filter on
    /// trailer state.
    pub(super) async fn record_missing(&self, planned: &[PlanEntry]) -> TrailerResult<()> {
        let existing: HashSet<(String, String, Slot)> = self
            .store()
            .all_downloads()
            .await?
            .into_iter()
            .map(|d| (d.media_id, d.profile_id, d.slot))
            .collect();
        let now = Timestamp::now();
        let missing: Vec<DownloadRecord> = planned
            .iter()
            .filter(|e| !existing.contains(&(e.media_id.clone(), e.profile_id.clone(), e.slot)))
            .map(|e| DownloadRecord {
                media_id: e.media_id.clone(),
                profile_id: e.profile_id.clone(),
                slot: e.slot,
                status: DownloadStatus::Missing,
                video_id: None,
                source: None,
                file_path: None,
                file_bytes: None,
                duration_ms: None,
                reason: Some(format!("no {} yet", e.slot.label().to_lowercase())),
                error_kind: None,
                attempts: 0,
                next_attempt_at: None,
                updated_at: now,
                height: None,
                upgrade_checked_at: None,
                upgrades: 0,
            })
            .collect();
        // A first run over a big library records tens of thousands: a commit per chunk.
        for chunk in missing.chunks(WRITE_CHUNK) {
            self.store()
                .save_trailer_writes(&TrailerWrites {
                    downloads: chunk.to_vec(),
                    ..TrailerWrites::default()
                })
                .await?;
        }
        Ok(())
    }

    pub(super) async fn download_all(
        &self,
        entries: Vec<PlanEntry>,
        cancel: &CancellationToken,
        progress: &(impl Fn(usize, usize) + Send + Sync),
    ) -> TrailerResult<Vec<Outcome>> {
        let total = entries.len();
        if total == 0 {
            return Ok(Vec::new());
        }
        // One (item, profile)'s slots go to one worker, in the plan's order: each slot sees
        // the videos the earlier ones took, so two slots never download the same video.
        let mut groups: Vec<Vec<PlanEntry>> = Vec::new();
        let mut group_of: HashMap<(String, String), usize> = HashMap::new();
        for e in entries {
            let key = (e.media_id.clone(), e.profile_id.clone());
            match group_of.get(&key) {
                Some(&i) => groups[i].push(e),
                None => {
                    group_of.insert(key, groups.len());
                    groups.push(vec![e]);
                }
            }
        }
        let media = self.media_by_id().await?;
        let profiles: HashMap<String, Profile> = self
            .store()
            .trailer_profiles()
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let queue = Arc::new(tokio::sync::Mutex::new(groups.into_iter()));
        let workers = self.config().trailers.parallel_downloads.clamp(1, 8);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let work = |_: usize| {
            let queue = queue.clone();
            let (media, profiles, done) = (&media, &profiles, &done);
            async move {
                let mut out = Vec::new();
                'groups: loop {
                    let Some(group) = queue.lock().await.next() else {
                        break;
                    };
                    for entry in group {
                        if cancel.is_cancelled() {
                            break 'groups;
                        }
                        let (Some(item), Some(profile)) =
                            (media.get(&entry.media_id), profiles.get(&entry.profile_id))
                        else {
                            continue;
                        };
                        let result = if entry.action == PlanAction::Upgrade {
                            self.upgrade_trailer(item, profile, entry.slot, cancel)
                                .await
                                .map(Outcome::Upgrade)
                        } else {
                            self.fetch_trailer(item, profile, entry.slot, None, cancel)
                                .await
                                .map(|r| Outcome::Fetched(r.status, r.is_waiting()))
                        };
                        match result {
                            Ok(outcome) => out.push(outcome),
                            Err(TrailerError::Cancelled) => break 'groups,
                            Err(TrailerError::Conflict(why)) => {
                                tracing::info!(title = %item.title, %why, "left to the download already running");
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, title = %item.title, "trailer download could not be recorded");
                                out.push(Outcome::Fetched(DownloadStatus::Failed, false));
                            }
                        }
                        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        progress(n, total);
                    }
                }
                out
            }
        };
        let results = futures_util::future::join_all((0..workers).map(work)).await;
        Ok(results.into_iter().flatten().collect())
    }

    /// Manual download (or replace) of one slot of an item for one profile; `video_id`
    /// forces the candidate.
    pub async fn download_now(
        &self,
        media_id: &str,
        profile_id: &str,
        slot: Slot,
        video_id: Option<&str>,
        cancel: &CancellationToken,
    ) -> TrailerResult<DownloadRecord> {
        let item = self.media_item(media_id).await?;
        let profile = self.profile(profile_id).await?;
        if let Some(id) = video_id {
            self.video_url(id)?;
        }
        self.fetch_trailer(&item, &profile, slot, video_id, cancel)
            .await
    }

    pub async fn media_item(&self, id: &str) -> TrailerResult<MediaItem> {
        self.store()
            .media(id)
            .await?
            .ok_or(TrailerError::NotFound("media item"))
    }

    pub async fn profile(&self, id: &str) -> TrailerResult<Profile> {
        self.profiles()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(TrailerError::NotFound("profile"))
    }
}
