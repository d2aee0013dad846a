//! Getting every ended recording finalized: when the recorder reports it, and at start-up for
//! whatever a crash or an older run left behind (S8's orphan scan).

use super::finalize::{FINALIZE_JOB, FinalizePayload};
use super::parts::list_parts;
use super::{Library, LibraryResult};
use crate::jobs::EnqueueOptions;
use crate::jobs::model::{JobQuery, JobStatus};
use crate::jobs::pending::pending_recordings;
use crate::storage::PageRequest;
use crate::streams::model::{Recording, RecordingStatus};
use crate::time::Timestamp;
use std::collections::HashSet;
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// Finalize attempts before a recording waits for the user's retry (ffmpeg or disk trouble).
const FINALIZE_ATTEMPTS: u32 = 5;

impl Library {
    /// Queues finalize for the recording unless a finalize for it is already queued or running.
    pub async fn enqueue_finalize(&self, recording_id: &str) -> LibraryResult<bool> {
        if pending_recordings(self.inner.store.as_ref(), FINALIZE_JOB)
            .await?
            .contains(recording_id)
        {
            return Ok(false);
        }
        self.queue_finalize(recording_id).await?;
        Ok(true)
    }

    async fn queue_finalize(&self, recording_id: &str) -> LibraryResult<()> {
        let payload = serde_json::to_value(FinalizePayload {
            recording_id: recording_id.to_string(),
        })
        .unwrap_or_default();
        self.inner
            .queue
            .enqueue(
                FINALIZE_JOB,
                payload,
                EnqueueOptions {
                    max_attempts: FINALIZE_ATTEMPTS,
                    ..EnqueueOptions::default()
                },
            )
            .await
            .map_err(|e| super::LibraryError::Conflict(e.to_string()))?;
        Ok(())
    }

    /// Queues a finalize for a recording whose finalize gave up (the user's retry).
    pub async fn retry_finalize(&self, recording_id: &str) -> LibraryResult<Recording> {
        let rec = self
            .inner
            .store
            .recording(recording_id)
            .await?
            .ok_or(super::LibraryError::NotFound)?;
        if !matches!(
            rec.status,
            RecordingStatus::Ended | RecordingStatus::Finalizing
        ) {
            return Err(super::LibraryError::Conflict(format!(
                "the recording is {}; only an ended recording is finalized",
                rec.status.as_str()
            )));
        }
        self.enqueue_finalize(recording_id).await?;
        Ok(rec)
    }

    /// At start-up, then for every recording the recorder closes: queue its finalize.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut events = self.inner.events.subscribe();
        self.scan_orphans().await;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                received = events.recv() => match received {
                    Ok(event) if event.event_type == "recording.stopped" => {
                        if let Some(id) = event.data["recording_id"].as_str()
                            && let Err(e) = self.enqueue_finalize(id).await
                        {
                            tracing::error!(recording = id, error = %e, "finalize not queued; the next start queues it");
                        }
                    }
                    // Low space: the retention's low-space rule runs now, not at its next tick.
                    Ok(event) if event.event_type == "system.disk_low" => {
                        self.run_retention_soon().await;
                    }
                    Ok(_) => {}
                    // Missed events: the store knows what is waiting.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        self.scan_orphans().await;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }

    /// Queues a retention run unless one is already queued or running.
    async fn run_retention_soon(&self) {
        let pending = self
            .inner
            .store
            .list_jobs(&JobQuery {
                kind: Some(super::retention::RETENTION_JOB.to_string()),
                page: PageRequest::new(Some(10), None),
                ..JobQuery::default()
            })
            .await
            .map(|jobs| {
                jobs.items
                    .iter()
                    .any(|j| matches!(j.status, JobStatus::Queued | JobStatus::Running))
            });
        if pending.unwrap_or(false) {
            return;
        }
        let queued = self
            .inner
            .queue
            .enqueue(
                super::retention::RETENTION_JOB,
                serde_json::json!({}),
                EnqueueOptions::default(),
            )
            .await;
        if let Err(e) = queued {
            tracing::error!(error = %e, "low-space retention not queued");
        }
    }

    /// Queues finalize for every ended or interrupted recording, and adopts parts folders the
    /// database does not know (a crash before the row was written, or a restored backup).
    pub async fn scan_orphans(&self) -> usize {
        let mut waiting: Vec<String> = match self.inner.store.recordings_to_finalize().await {
            Ok(recordings) => recordings.into_iter().map(|r| r.id).collect(),
            Err(e) => {
                tracing::error!(error = %e, "cannot list recordings waiting for finalize");
                Vec::new()
            }
        };
        match self.adopt_unknown_parts().await {
            Ok(adopted) => waiting.extend(adopted),
            Err(e) => tracing::error!(error = %e, "orphan scan of the library failed"),
        }
        let pending = match pending_recordings(self.inner.store.as_ref(), FINALIZE_JOB).await {
            Ok(pending) => pending,
            Err(e) => {
                tracing::error!(error = %e, "cannot list queued finalize jobs");
                return 0;
            }
        };
        let mut queued = 0;
        for id in waiting.iter().filter(|id| !pending.contains(*id)) {
            match self.queue_finalize(id).await {
                Ok(()) => queued += 1,
                Err(e) => tracing::error!(recording = %id, error = %e, "finalize not queued"),
            }
        }
        if queued > 0 {
            tracing::info!(queued, "recordings queued for finalize at start-up");
        }
        queued
    }

    /// Inserts a row for each parts folder of a known channel that has none; returns their ids.
    async fn adopt_unknown_parts(&self) -> LibraryResult<Vec<String>> {
        let Ok(roots) = self.roots() else {
            return Ok(Vec::new());
        };
        let store = &self.inner.store;
        let known: HashSet<String> = store.recording_ids().await?.into_iter().collect();
        let channels = store.list_twitch_channels().await?;
        let mut adopted = Vec::new();
        for root in roots.roots() {
            for channel in &channels {
                let parts_root = root.join(&channel.login).join(".parts");
                let Ok(entries) = std::fs::read_dir(&parts_root) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let id = entry.file_name().to_string_lossy().into_owned();
                    if known.contains(&id) || id.starts_with('.') {
                        continue;
                    }
                    let dir = entry.path();
                    let parts = list_parts(&dir, &channel.login).unwrap_or_default();
                    if parts.is_empty() {
                        continue;
                    }
                    let rec = adopted_recording(&id, &channel.id, &channel.login, &dir, &parts);
                    store.insert_recording(&rec).await?;
                    tracing::warn!(recording = %id, dir = %dir.display(), "adopted parts the database did not know");
                    adopted.push(rec.id);
                }
            }
        }
        Ok(adopted)
    }
}

/// A row for parts found on disk: what the files tell (size, time); media time unknown (0),
/// so validation checks streams but not the duration.
fn adopted_recording(
    id: &str,
    channel_id: &str,
    login: &str,
    dir: &Path,
    parts: &[std::path::PathBuf],
) -> Recording {
    let modified = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| Timestamp(i64::try_from(d.as_millis()).unwrap_or(0)))
    };
    let now = Timestamp::now();
    let ended = parts.last().and_then(|p| modified(p)).unwrap_or(now);
    let started = parts.first().and_then(|p| modified(p)).unwrap_or(ended);
    let bytes = parts
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    Recording {
        id: id.to_string(),
        channel_id: channel_id.to_string(),
        stream_id: None,
        status: RecordingStatus::Ended,
        dir: dir.to_string_lossy().into_owned(),
        stem: login.to_string(),
        quality: String::new(),
        started_at: started,
        ended_at: Some(ended),
        bytes,
        media_ms: 0,
        segments: 0,
        missed_segments: 0,
        sessions: 1,
        owner: String::new(),
        heartbeat_at: ended,
        end_reason: Some("found on disk at start-up".into()),
        error: None,
        updated_at: now,
        library: Default::default(),
        origin: Default::default(),
        labels: Default::default(),
    }
}
