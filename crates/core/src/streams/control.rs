//! Manual start and stop, and reading recordings.

use super::model::{Recording, RecordingGap, RecordingStatus};
use super::recorder::STOPPED_BY_USER;
use super::{LiveInfo, Streams, StreamsError, StreamsResult};
use crate::storage::{Paged, RecordingQuery};
use crate::time::Timestamp;

impl Streams {
    /// Starts recording a live channel now, whatever its auto-record setting.
    pub async fn start_recording(&self, channel_id: &str) -> StreamsResult<Recording> {
        let channel = self.channel(channel_id).await?;
        let twitch = self.twitch()?;
        let live = twitch
            .helix
            .streams_by_user_id(std::slice::from_ref(&channel.twitch_id))
            .await?;
        let Some(info) = live.iter().find(|s| s.user_id == channel.twitch_id) else {
            return Err(StreamsError::Offline(channel.login));
        };
        self.on_live(&channel, LiveInfo::from_helix(info)).await?;
        let lock = self.channel_lock(&channel.id);
        {
            let _guard = lock.lock().await;
            let stream = self
                .inner
                .store
                .open_stream(&channel.id)
                .await?
                .ok_or_else(|| StreamsError::Offline(channel.login.clone()))?;
            self.ensure_recording(&channel, &stream).await;
        }
        self.inner
            .store
            .active_recording(&channel.id)
            .await?
            .ok_or_else(|| {
                StreamsError::Conflict(
                    "the recording could not start; see the recording.refused or recording.failed event"
                        .into(),
                )
            })
    }

    /// Stops a recording and keeps detection from starting this broadcast again.
    pub async fn stop_recording(&self, recording_id: &str) -> StreamsResult<Recording> {
        let rec = self
            .inner
            .store
            .recording(recording_id)
            .await?
            .ok_or(StreamsError::NotFound("recording"))?;
        if rec.status != RecordingStatus::Recording {
            return Err(StreamsError::Conflict(format!(
                "the recording is {}",
                rec.status.as_str()
            )));
        }
        if let Some(stream_id) = &rec.stream_id {
            self.inner
                .store
                .set_stream_record_stopped(stream_id)
                .await?;
        }
        if !self
            .stop_channel_recorder(&rec.channel_id, STOPPED_BY_USER)
            .await
        {
            if !self.may_take_over(&rec) {
                return Err(StreamsError::Conflict(
                    "another Tapearr process is recording it; stop it there".into(),
                ));
            }
            // Nobody runs it: close the row.
            self.inner
                .store
                .finish_recording(
                    &rec.id,
                    RecordingStatus::Ended,
                    Some(STOPPED_BY_USER),
                    None,
                    Timestamp::now(),
                )
                .await?;
        }
        self.inner
            .store
            .recording(recording_id)
            .await?
            .ok_or(StreamsError::NotFound("recording"))
    }

    pub async fn recordings(&self, query: &RecordingQuery) -> StreamsResult<Paged<Recording>> {
        Ok(self.inner.store.list_recordings(query).await?)
    }

    pub async fn recording(&self, id: &str) -> StreamsResult<(Recording, Vec<RecordingGap>)> {
        let rec = self
            .inner
            .store
            .recording(id)
            .await?
            .ok_or(StreamsError::NotFound("recording"))?;
        let gaps = self.inner.store.list_recording_gaps(id).await?;
        Ok((rec, gaps))
    }
}
