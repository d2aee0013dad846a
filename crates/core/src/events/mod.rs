//! One typed stream of domain events: persisted for replay, broadcast to the WebSocket and,
//! later, to notifications.

pub mod model;

use crate::storage::{Storage, StorageResult};
use crate::time::Timestamp;
use model::{EventQuery, EventRecord, NewEvent};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Every event Tapearr emits. `type` is the serde tag; `data` the rest.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "data")]
pub enum DomainEvent {
    #[serde(rename = "system.started")]
    SystemStarted { version: String, instance: String },
    #[serde(rename = "job.queued")]
    JobQueued {
        job_id: String,
        #[schema(value_type = crate::jobs::JobKind)]
        kind: String,
    },
    #[serde(rename = "job.started")]
    JobStarted {
        job_id: String,
        #[schema(value_type = crate::jobs::JobKind)]
        kind: String,
        attempt: u32,
        instance: String,
    },
    #[serde(rename = "job.progress")]
    JobProgress {
        job_id: String,
        #[schema(value_type = crate::jobs::JobKind)]
        kind: String,
        progress: f64,
        message: Option<String>,
    },
    #[serde(rename = "job.succeeded")]
    JobSucceeded {
        job_id: String,
        #[schema(value_type = crate::jobs::JobKind)]
        kind: String,
    },
    #[serde(rename = "job.failed")]
    JobFailed {
        job_id: String,
        #[schema(value_type = crate::jobs::JobKind)]
        kind: String,
        error: String,
        will_retry: bool,
    },
    #[serde(rename = "job.cancelled")]
    JobCancelled {
        job_id: String,
        #[schema(value_type = crate::jobs::JobKind)]
        kind: String,
    },
    #[serde(rename = "task.updated")]
    TaskUpdated {
        name: String,
        paused: bool,
        next_run_at: Timestamp,
    },
    #[serde(rename = "apikey.created")]
    ApiKeyCreated { id: String, name: String },
    #[serde(rename = "apikey.revoked")]
    ApiKeyRevoked { id: String, name: String },
    #[serde(rename = "auth.locked_out")]
    LoginLockedOut { username: String },
    #[serde(rename = "tools.updated")]
    ToolsUpdated { changes: Vec<String> },
    #[serde(rename = "tools.update_available")]
    ToolsUpdateAvailable { updates: Vec<String> },
    #[serde(rename = "system.disk_low")]
    DiskLow {
        path: String,
        free_bytes: u64,
        threshold_bytes: u64,
    },
    #[serde(rename = "channel.added")]
    ChannelAdded { channel_id: String, login: String },
    #[serde(rename = "channel.removed")]
    ChannelRemoved {
        channel_id: String,
        login: String,
        recordings_deleted: bool,
    },
    /// Settings, profile, title or category changed.
    #[serde(rename = "channel.updated")]
    ChannelUpdated {
        channel_id: String,
        login: String,
        title: String,
        category: String,
    },
    #[serde(rename = "channel.live")]
    ChannelLive {
        channel_id: String,
        login: String,
        stream_id: String,
        title: String,
        category: String,
    },
    #[serde(rename = "channel.offline")]
    ChannelOffline { channel_id: String, login: String },
    #[serde(rename = "recording.started")]
    RecordingStarted {
        recording_id: String,
        channel_id: String,
        login: String,
        /// A restart after the recorder died, or a resume after Tapearr restarted.
        resumed: bool,
    },
    #[serde(rename = "recording.progress")]
    RecordingProgress {
        recording_id: String,
        channel_id: String,
        bytes: u64,
        media_ms: u64,
        segments: u64,
    },
    #[serde(rename = "recording.gap")]
    RecordingGap {
        recording_id: String,
        channel_id: String,
        ms: u64,
        reason: String,
    },
    #[serde(rename = "recording.stopped")]
    RecordingStopped {
        recording_id: String,
        channel_id: String,
        login: String,
        reason: String,
        bytes: u64,
        media_ms: u64,
    },
    #[serde(rename = "recording.failed")]
    RecordingFailed {
        recording_id: Option<String>,
        channel_id: String,
        login: String,
        error: String,
    },
    /// Finalize placed the recording's MP4 in the library.
    #[serde(rename = "recording.finalized")]
    RecordingFinalized {
        recording_id: String,
        channel_id: String,
        login: String,
        path: String,
        duration_ms: u64,
        chapters: usize,
    },
    /// Finalize gave up after its attempts; the parts are kept for a retry.
    #[serde(rename = "recording.finalize_failed")]
    RecordingFinalizeFailed {
        recording_id: String,
        channel_id: String,
        login: String,
        error: String,
    },
    /// A recording and its files were deleted (by the user or by retention).
    #[serde(rename = "recording.deleted")]
    RecordingDeleted {
        recording_id: String,
        channel_id: String,
        login: String,
        reason: String,
        bytes: u64,
    },
    /// A trailer was placed beside its movie or series.
    #[serde(rename = "trailer.downloaded")]
    TrailerDownloaded {
        media_id: String,
        title: String,
        profile: String,
        path: String,
    },
    /// A trailer download failed; it is tried again after the backoff.
    #[serde(rename = "trailer.failed")]
    TrailerFailed {
        media_id: String,
        title: String,
        profile: String,
        kind: String,
        reason: String,
    },
    /// A video host refused us (bot check, rate limit, rejected cookies): nothing is asked of
    /// it until `until`; the items wait instead of failing.
    #[serde(rename = "trailer.host_paused")]
    TrailerHostPaused {
        host: String,
        kind: String,
        reason: String,
        /// What the user can do.
        advice: String,
        /// Refusals in a row (the pause doubles with each).
        strikes: u32,
        until: Timestamp,
    },
    /// Twitch refused to renew the signed-in account's token: sign in again (followed-channel
    /// import stops working until then).
    #[serde(rename = "twitch.sign_in_needed")]
    TwitchSignInNeeded { login: String, reason: String },
    /// A recording that should have started did not (free space, no library root, ...).
    #[serde(rename = "recording.refused")]
    RecordingRefused {
        channel_id: String,
        login: String,
        reason: String,
    },
}

impl DomainEvent {
    /// Live-only events are broadcast but not kept in the history (they are frequent and stale fast).
    fn is_persisted(&self) -> bool {
        !matches!(
            self,
            Self::JobProgress { .. } | Self::RecordingProgress { .. }
        )
    }

    fn subject(&self) -> Option<String> {
        match self {
            Self::JobQueued { job_id, .. }
            | Self::JobStarted { job_id, .. }
            | Self::JobProgress { job_id, .. }
            | Self::JobSucceeded { job_id, .. }
            | Self::JobFailed { job_id, .. }
            | Self::JobCancelled { job_id, .. } => Some(format!("job:{job_id}")),
            Self::TaskUpdated { name, .. } => Some(format!("task:{name}")),
            Self::ApiKeyCreated { id, .. } | Self::ApiKeyRevoked { id, .. } => {
                Some(format!("apikey:{id}"))
            }
            Self::LoginLockedOut { username } => Some(format!("user:{username}")),
            Self::DiskLow { path, .. } => Some(format!("path:{path}")),
            Self::ChannelAdded { channel_id, .. }
            | Self::ChannelRemoved { channel_id, .. }
            | Self::ChannelUpdated { channel_id, .. }
            | Self::ChannelLive { channel_id, .. }
            | Self::ChannelOffline { channel_id, .. }
            | Self::RecordingRefused { channel_id, .. } => Some(format!("channel:{channel_id}")),
            Self::RecordingStarted { recording_id, .. }
            | Self::RecordingProgress { recording_id, .. }
            | Self::RecordingGap { recording_id, .. }
            | Self::RecordingStopped { recording_id, .. }
            | Self::RecordingFinalized { recording_id, .. }
            | Self::RecordingFinalizeFailed { recording_id, .. }
            | Self::RecordingDeleted { recording_id, .. } => {
                Some(format!("recording:{recording_id}"))
            }
            Self::RecordingFailed {
                recording_id,
                channel_id,
                ..
            } => Some(match recording_id {
                Some(id) => format!("recording:{id}"),
                None => format!("channel:{channel_id}"),
            }),
            Self::TrailerDownloaded { media_id, .. } | Self::TrailerFailed { media_id, .. } => {
                Some(format!("media:{media_id}"))
            }
            Self::TrailerHostPaused { host, .. } => Some(format!("host:{host}")),
            Self::TwitchSignInNeeded { .. } => Some("twitch:account".to_string()),
            Self::SystemStarted { .. }
            | Self::ToolsUpdated { .. }
            | Self::ToolsUpdateAvailable { .. } => None,
        }
    }

    fn into_parts(self) -> (String, serde_json::Value) {
        let subject_free = serde_json::to_value(&self).unwrap_or_default();
        let event_type = subject_free
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("unknown")
            .to_string();
        let data = subject_free.get("data").cloned().unwrap_or_default();
        (event_type, data)
    }
}

/// Publishes events: history first, then the broadcast, so a replay never misses what a
/// live subscriber saw.
#[derive(Clone)]
pub struct EventBus {
    store: Arc<dyn Storage>,
    tx: broadcast::Sender<Arc<EventRecord>>,
}

impl EventBus {
    pub fn new(store: Arc<dyn Storage>) -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self { store, tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventRecord>> {
        self.tx.subscribe()
    }

    /// The stored history (the events list and the WebSocket replay).
    pub async fn history(&self, query: &EventQuery) -> StorageResult<Vec<EventRecord>> {
        self.store.list_events(query).await
    }

    pub async fn publish(&self, event: DomainEvent) -> StorageResult<Arc<EventRecord>> {
        let persisted = event.is_persisted();
        let subject = event.subject();
        let (event_type, data) = event.into_parts();
        let new = NewEvent {
            event_type,
            subject,
            data,
            timestamp: Timestamp::now(),
        };
        let record = if persisted {
            self.store.append_event(&new).await?
        } else {
            EventRecord {
                id: None,
                event_type: new.event_type,
                subject: new.subject,
                data: new.data,
                timestamp: new.timestamp,
            }
        };
        let record = Arc::new(record);
        // No subscribers is normal (nobody has the web app open).
        let _ = self.tx.send(record.clone());
        Ok(record)
    }

    /// Publish and log a storage failure instead of returning it: for callers whose own work
    /// already succeeded and must not fail because the history could not be written.
    pub async fn emit(&self, event: DomainEvent) {
        if let Err(e) = self.publish(event).await {
            tracing::warn!(error = %e, "could not record event");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_type_and_subject() {
        let e = DomainEvent::JobFailed {
            job_id: "j1".into(),
            kind: "k".into(),
            error: "boom".into(),
            will_retry: true,
        };
        assert_eq!(e.subject().as_deref(), Some("job:j1"));
        let (t, data) = e.into_parts();
        assert_eq!(t, "job.failed");
        assert_eq!(data["error"], "boom");
        assert_eq!(data["will_retry"], true);
    }
}
