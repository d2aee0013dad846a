//! Durable jobs: a full run (hourly task and "Run now"), a sync of one connection, and one
//! manual download. Each is a handler around the service.

use crate::jobs::{EnqueueOptions, JobContext, JobError, JobHandler, TaskDef};
use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::model::Slot;
use crate::trailers::service::Trailers;
use crate::trailers::service::webhook::ItemPayload;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub const RUN_JOB: &str = "trailers.run";
pub const SYNC_JOB: &str = "trailers.sync";
pub const DOWNLOAD_JOB: &str = "trailers.download";
pub const SCAN_JOB: &str = "trailers.scan";
/// One Arr item's trailers after its webhook (see [`super::webhook`]).
pub const ITEM_JOB: &str = "trailers.item";

pub fn task_defs() -> Vec<TaskDef> {
    vec![TaskDef {
        name: "trailers",
        kind: RUN_JOB,
        description: "Sync Radarr/Sonarr, scan the media folders and download missing trailers",
        interval: Duration::from_secs(3600),
        initial_delay: Duration::from_secs(90),
    }]
}

#[derive(Debug, Serialize, Deserialize)]
struct SyncPayload {
    connection_id: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct DownloadPayload {
    media_id: String,
    profile_id: String,
    /// Jobs queued before slots had none: the first trailer.
    #[serde(default)]
    slot: Slot,
    video_id: Option<String>,
}

fn payload<T: for<'de> Deserialize<'de>>(ctx: &JobContext) -> Result<T, JobError> {
    serde_json::from_value(ctx.job.payload.clone())
        .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))
}

fn job_error(e: TrailerError) -> JobError {
    match e {
        TrailerError::Invalid(m) | TrailerError::Conflict(m) => JobError::Permanent(m),
        TrailerError::NotFound(what) => JobError::Permanent(format!("{what} not found")),
        other => JobError::Retryable(other.to_string()),
    }
}

impl Trailers {
    pub async fn queue_run(&self) -> TrailerResult<String> {
        let job = self
            .inner
            .queue
            .enqueue(RUN_JOB, serde_json::json!({}), EnqueueOptions::default())
            .await?;
        Ok(job.id)
    }

    pub async fn queue_scan(&self) -> TrailerResult<String> {
        let job = self
            .inner
            .queue
            .enqueue(SCAN_JOB, serde_json::json!({}), EnqueueOptions::default())
            .await?;
        Ok(job.id)
    }

    pub async fn queue_sync(&self, connection_id: &str) -> TrailerResult<String> {
        self.connection(connection_id).await?;
        let payload = serde_json::to_value(SyncPayload {
            connection_id: connection_id.to_string(),
        })
        .map_err(|e| TrailerError::Invalid(e.to_string()))?;
        // One attempt: a failed sync stays visible on the connection until the next one
        // (the hourly task or the user's Sync), instead of being hidden by a quiet retry.
        let opts = EnqueueOptions {
            max_attempts: 1,
            ..EnqueueOptions::default()
        };
        let job = self.inner.queue.enqueue(SYNC_JOB, payload, opts).await?;
        Ok(job.id)
    }

    /// Queues the work of one Arr item's import (a webhook call).
    pub(super) async fn queue_item(
        &self,
        connection_id: &str,
        arr_id: i64,
    ) -> TrailerResult<String> {
        let payload = serde_json::to_value(ItemPayload {
            connection_id: connection_id.to_string(),
            arr_id,
        })
        .map_err(|e| TrailerError::Invalid(e.to_string()))?;
        let opts = EnqueueOptions {
            max_attempts: 1,
            ..EnqueueOptions::default()
        };
        let job = self.inner.queue.enqueue(ITEM_JOB, payload, opts).await?;
        Ok(job.id)
    }

    pub async fn queue_download(
        &self,
        media_id: &str,
        profile_id: &str,
        slot: Slot,
        video_id: Option<&str>,
    ) -> TrailerResult<String> {
        let item = self.media_item(media_id).await?;
        let profile = self.profile(profile_id).await?;
        let wanted = profile.slots_for(&item);
        if !wanted.contains(&slot) {
            return Err(TrailerError::Invalid(format!(
                "profile `{}` has no slot {slot} for `{}` (it wants {})",
                profile.name,
                item.title,
                slot_list(&wanted)
            )));
        }
        if let Some(v) = video_id {
            self.video_url(v)?;
        }
        self.enqueue_download(media_id, profile_id, slot, video_id)
            .await
    }

    /// Queues a download of an item and profile already known to exist.
    pub(super) async fn enqueue_download(
        &self,
        media_id: &str,
        profile_id: &str,
        slot: Slot,
        video_id: Option<&str>,
    ) -> TrailerResult<String> {
        let payload = serde_json::to_value(DownloadPayload {
            media_id: media_id.to_string(),
            profile_id: profile_id.to_string(),
            slot,
            video_id: video_id.map(str::to_string),
        })
        .map_err(|e| TrailerError::Invalid(e.to_string()))?;
        let opts = EnqueueOptions {
            max_attempts: 1,
            ..EnqueueOptions::default()
        };
        let job = self
            .inner
            .queue
            .enqueue(DOWNLOAD_JOB, payload, opts)
            .await?;
        Ok(job.id)
    }
}

pub struct RunHandler(pub Trailers);

#[async_trait]
impl JobHandler for RunHandler {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let (tx, mut rx) = tokio::sync::watch::channel((0usize, 0usize));
        let work = self.0.run_all(&ctx.cancel, move |done, total| {
            let _ = tx.send((done, total));
        });
        tokio::pin!(work);
        let report = loop {
            tokio::select! {
                r = &mut work => break r,
                Ok(()) = rx.changed() => {
                    let (done, total) = *rx.borrow_and_update();
                    if total > 0 {
                        ctx.set_progress(done as f64 / total as f64, Some(format!("{done} of {total} trailers"))).await;
                    }
                }
            }
        }
        .map_err(job_error)?;
        if ctx.cancel.is_cancelled() {
            return Err(JobError::Cancelled);
        }
        tracing::info!(
            planned = report.planned,
            downloaded = report.downloaded,
            failed = report.failed,
            not_found = report.not_found,
            upgraded = report.upgraded,
            "trailer run finished"
        );
        Ok(())
    }
}

pub struct SyncHandler(pub Trailers);

#[async_trait]
impl JobHandler for SyncHandler {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let p: SyncPayload = payload(ctx)?;
        self.0
            .sync_connection(&p.connection_id)
            .await
            .map(|_| ())
            .map_err(job_error)
    }
}

pub struct DownloadHandler(pub Trailers);

#[async_trait]
impl JobHandler for DownloadHandler {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let p: DownloadPayload = payload(ctx)?;
        let record = self
            .0
            .download_now(
                &p.media_id,
                &p.profile_id,
                p.slot,
                p.video_id.as_deref(),
                &ctx.cancel,
            )
            .await
            .map_err(job_error)?;
        if record.status.has_trailer() && record.error_kind.is_none() {
            Ok(())
        } else {
            Err(JobError::Permanent(
                record
                    .reason
                    .unwrap_or_else(|| "the download failed".into()),
            ))
        }
    }
}

pub struct ItemHandler(pub Trailers);

#[async_trait]
impl JobHandler for ItemHandler {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let p: ItemPayload = payload(ctx)?;
        let report = self
            .0
            .run_item(&p.connection_id, p.arr_id, &ctx.cancel)
            .await
            .map_err(job_error)?;
        if ctx.cancel.is_cancelled() {
            return Err(JobError::Cancelled);
        }
        if report.failed > 0 {
            return Err(JobError::Permanent(format!(
                "{} of {} trailers failed",
                report.failed, report.planned
            )));
        }
        Ok(())
    }
}

pub struct ScanHandler(pub Trailers);

#[async_trait]
impl JobHandler for ScanHandler {
    async fn run(&self, _ctx: &JobContext) -> Result<(), JobError> {
        let report = self.0.scan_all().await.map_err(job_error)?;
        tracing::info!(
            folders = report.folders,
            unchanged = report.unchanged,
            scanned = report.scanned,
            found = report.found,
            removed = report.removed,
            unavailable = report.unavailable,
            "trailer disk scan finished"
        );
        Ok(())
    }
}

/// `trailer-1, featurette-1`: a profile's slots, for messages.
pub(super) fn slot_list(slots: &[Slot]) -> String {
    slots
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
