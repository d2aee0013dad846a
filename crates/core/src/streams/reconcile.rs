//! Start-up: recordings a stopped or killed process left "recording" (S4).
//!
//! Still live with the same broadcast → resume into the same folder, the hole stored as a gap.
//! Offline, or live with a new broadcast → close it so it goes on to finalize. When Helix cannot
//! be asked, resume: the recorder finds out from the playlist whether the stream still runs.

use super::Streams;
use super::model::{Recording, RecordingStatus, Stream};
use super::recorder::Resume;
use crate::events::DomainEvent;
use crate::library::parts::{PartsTruth, list_parts, recover};
use crate::storage::{PageRequest, RecordingQuery};
use crate::time::Timestamp;
use std::collections::HashMap;
use std::path::Path;

impl Streams {
    pub(crate) async fn reconcile_at_start(&self) {
        if let Err(e) = self.try_reconcile().await {
            tracing::error!(error = %e, "could not reconcile open recordings");
        }
    }

    async fn try_reconcile(&self) -> super::StreamsResult<()> {
        let store = &self.inner.store;
        let open = store
            .list_recordings(&RecordingQuery {
                status: Some(RecordingStatus::Recording),
                page: PageRequest::new(Some(PageRequest::MAX_LIMIT), None),
                ..Default::default()
            })
            .await?
            .items;
        let now = Timestamp::now();
        let ours: Vec<_> = open.into_iter().filter(|r| self.may_take_over(r)).collect();
        if ours.is_empty() {
            return Ok(());
        }
        let mut channels = HashMap::new();
        for rec in &ours {
            if let Some(c) = store.twitch_channel(&rec.channel_id).await? {
                channels.insert(c.id.clone(), c);
            }
        }
        let ids: Vec<String> = channels.values().map(|c| c.twitch_id.clone()).collect();
        // twitch user id → live stream id; `None` when Helix could not be asked.
        let live: Option<HashMap<String, String>> = match self
            .twitch()?
            .helix
            .streams_by_user_id(&ids)
            .await
        {
            Ok(streams) => Some(streams.into_iter().map(|s| (s.user_id, s.id)).collect()),
            Err(e) => {
                tracing::warn!(error = %e, "Helix unavailable at start-up; resuming open recordings to find out");
                None
            }
        };
        for rec in ours {
            let Some(channel) = channels.get(&rec.channel_id) else {
                continue;
            };
            let stream: Option<Stream> = match &rec.stream_id {
                Some(id) => store.stream(id).await?,
                None => None,
            };
            let same_broadcast = match (&live, &stream) {
                (None, _) => true,
                (Some(live), Some(s)) => live.get(&channel.twitch_id) == Some(&s.twitch_stream_id),
                (Some(live), None) => live.contains_key(&channel.twitch_id),
            };
            if same_broadcast && channel.removed_at.is_none() {
                tracing::info!(channel = %channel.login, recording = %rec.id, "resuming recording after restart");
                store
                    .resume_recording(&rec.id, &self.inner.instance, now)
                    .await?;
                // Helix listed it live now, unless it could not be asked.
                let seen = live.is_some().then_some(now);
                let resume = Resume::TakeOver { live_seen: seen };
                self.spawn_supervisor(channel.clone(), rec, resume);
            } else {
                tracing::info!(channel = %channel.login, recording = %rec.id, "closing recording: the stream ended while Tapearr was not running");
                let reason = "stream ended while Tapearr was not running";
                // A crash before the first progress save leaves bytes = 0 with media on disk.
                let bytes = match self.recorded_truth(&rec).await {
                    Some(truth) => truth.bytes,
                    None => rec.bytes,
                };
                let (status, error) = if bytes == 0 {
                    (RecordingStatus::Failed, Some("nothing was recorded"))
                } else {
                    (RecordingStatus::Ended, None)
                };
                if store
                    .finish_recording(&rec.id, status, Some(reason), error, now)
                    .await?
                {
                    self.inner
                        .events
                        .emit(DomainEvent::RecordingStopped {
                            recording_id: rec.id.clone(),
                            channel_id: channel.id.clone(),
                            login: channel.login.clone(),
                            reason: reason.to_string(),
                            bytes,
                            media_ms: rec.media_ms,
                        })
                        .await;
                }
            }
        }
        Ok(())
    }

    /// What a recording's parts hold, repaired (see [`crate::library::parts::recover`]);
    /// `None` when they cannot be read or a process still writes them.
    pub(super) async fn recorded_truth(&self, rec: &Recording) -> Option<PartsTruth> {
        let dir = Path::new(&rec.dir);
        let parts = list_parts(dir, &rec.stem).ok()?;
        if let Some(held) = crate::files::open_by_a_process(&parts) {
            tracing::warn!(recording = %rec.id, part = %held.display(), "a part is still open elsewhere; counters kept");
            return None;
        }
        let ffprobe = &self.inner.config.tools.ffprobe;
        match recover(dir, &rec.stem, ffprobe, &self.inner.shutdown).await {
            Ok(truth) => {
                if truth.media_ms != rec.media_ms || truth.cut_bytes > 0 {
                    tracing::info!(
                        recording = %rec.id,
                        counted_ms = rec.media_ms,
                        on_disk_ms = truth.media_ms,
                        cut_bytes = truth.cut_bytes,
                        "recorded media read from the parts"
                    );
                }
                Some(truth)
            }
            Err(e) => {
                tracing::warn!(recording = %rec.id, error = %e, "cannot read the parts; counters kept");
                None
            }
        }
    }
}
