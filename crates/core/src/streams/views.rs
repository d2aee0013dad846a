//! Read views the API shows: channels with their running recording, broadcasts with their
//! events, a recording with its gaps and its stream's events.

use super::model::{Channel, Recording, RecordingGap, Stream, StreamEvent};
use super::{Streams, StreamsResult};
use crate::storage::{PageRequest, Paged};
use crate::time::Timestamp;
use std::collections::HashMap;

impl Streams {
    /// Watched channels, each with its running recording (one query for every recording
    /// rather than one per channel).
    pub async fn channels_with_recordings(
        &self,
    ) -> StreamsResult<Vec<(Channel, Option<Recording>)>> {
        let mut running: HashMap<String, Recording> = self
            .inner
            .store
            .active_recordings()
            .await?
            .into_iter()
            .map(|r| (r.channel_id.clone(), r))
            .collect();
        let channels = self.list_channels().await?;
        Ok(channels
            .into_iter()
            .map(|channel| {
                let recording = running.remove(&channel.id);
                (channel, recording)
            })
            .collect())
    }

    /// The channel's running recording, if any.
    pub async fn active_recording(&self, channel_id: &str) -> StreamsResult<Option<Recording>> {
        Ok(self.inner.store.active_recording(channel_id).await?)
    }

    /// The channel's broadcasts, newest first, each with its events (one query for the
    /// events of the whole page).
    pub async fn streams_with_events(
        &self,
        channel_id: &str,
        page: PageRequest,
    ) -> StreamsResult<Paged<(Stream, Vec<StreamEvent>)>> {
        self.channel(channel_id).await?;
        let page = self.inner.store.list_streams(channel_id, page).await?;
        let ids: Vec<String> = page.items.iter().map(|s| s.id.clone()).collect();
        let mut events: HashMap<String, Vec<StreamEvent>> = HashMap::new();
        for e in self.inner.store.list_events_of_streams(&ids).await? {
            events.entry(e.stream_id.clone()).or_default().push(e);
        }
        Ok(Paged {
            items: page
                .items
                .into_iter()
                .map(|stream| {
                    let of_stream = events.remove(&stream.id).unwrap_or_default();
                    (stream, of_stream)
                })
                .collect(),
            total: page.total,
            limit: page.limit,
            offset: page.offset,
        })
    }

    /// A recording with its gaps and its stream's events (start, title/category changes, end).
    pub async fn recording_timeline(
        &self,
        id: &str,
    ) -> StreamsResult<(Recording, Vec<RecordingGap>, Vec<StreamEvent>)> {
        let (recording, gaps) = self.recording(id).await?;
        let events = match &recording.stream_id {
            Some(stream) => self.inner.store.list_stream_events(stream).await?,
            None => Vec::new(),
        };
        Ok((recording, gaps, events))
    }

    /// Keeps the recording from retention (or lets retention have it again); the recording
    /// after the change.
    pub async fn set_recording_keep(&self, id: &str, keep: bool) -> StreamsResult<Recording> {
        self.inner
            .store
            .set_recording_keep(id, keep, Timestamp::now())
            .await?;
        Ok(self.recording(id).await?.0)
    }
}
