//! State changes of a channel, whoever noticed them: polling, EventSub or a manual check.
//!
//! Every handler is idempotent: a repeated `stream.online` for the same Twitch stream id finds
//! the stream it already stored and only makes sure the recording runs.

use super::model::{Channel, Stream, StreamEvent, StreamEventKind};
use super::{Streams, StreamsResult};
use crate::events::DomainEvent;
use crate::ids::new_id;
use crate::time::Timestamp;
use std::collections::HashMap;
use tapearr_integrations::twitch::HelixStream;

/// A live broadcast as Twitch describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveInfo {
    pub twitch_stream_id: String,
    pub title: String,
    pub category: String,
    pub started_at: Timestamp,
}

impl LiveInfo {
    pub fn from_helix(s: &HelixStream) -> Self {
        Self {
            twitch_stream_id: s.id.clone(),
            title: s.title.clone(),
            category: s.game_name.clone(),
            started_at: Timestamp::parse_rfc3339(&s.started_at).unwrap_or_else(Timestamp::now),
        }
    }
}

impl Streams {
    /// Asks Helix about `channels` and applies what it says. A Helix error changes nothing:
    /// "unknown" is never "offline".
    pub(crate) async fn check_channels(&self, channels: &[Channel]) {
        let Ok(twitch) = self.twitch() else { return };
        let ids: Vec<String> = channels.iter().map(|c| c.twitch_id.clone()).collect();
        if ids.is_empty() {
            return;
        }
        let live = match twitch.helix.streams_by_user_id(&ids).await {
            Ok(streams) => streams,
            Err(e) => {
                tracing::warn!(error = %e, channels = ids.len(), "live check failed; states unchanged");
                return;
            }
        };
        let by_user: HashMap<&str, &HelixStream> =
            live.iter().map(|s| (s.user_id.as_str(), s)).collect();
        for channel in channels {
            let result = match by_user.get(channel.twitch_id.as_str()) {
                Some(s) if s.kind.is_empty() || s.kind == "live" => {
                    self.on_live(channel, LiveInfo::from_helix(s)).await
                }
                // Most channels are offline most of the time: only a change costs queries.
                _ if channel.live => self.on_offline(channel).await,
                _ => Ok(()),
            };
            if let Err(e) = result {
                tracing::warn!(channel = %channel.login, error = %e, "could not apply live state");
            }
        }
        let ids: Vec<String> = channels.iter().map(|c| c.id.clone()).collect();
        if let Err(e) = self
            .inner
            .store
            .mark_channels_checked(&ids, Timestamp::now())
            .await
        {
            tracing::warn!(error = %e, "could not record the live check");
        }
    }

    /// The channel is live with `info`: store the stream (once), record title and category
    /// changes, and make sure a recording runs when it should.
    pub async fn on_live(&self, channel: &Channel, info: LiveInfo) -> StreamsResult<()> {
        let lock = self.channel_lock(&channel.id);
        let _guard = lock.lock().await;
        let store = &self.inner.store;
        let candidate = Stream {
            id: new_id(),
            channel_id: channel.id.clone(),
            twitch_stream_id: info.twitch_stream_id.clone(),
            title: info.title.clone(),
            category: info.category.clone(),
            started_at: info.started_at,
            ended_at: None,
            record_stopped: false,
        };
        let (stream, created) = store.upsert_stream(&candidate).await?;
        let now = Timestamp::now();
        if created {
            // A new broadcast: whatever was still open is over.
            for old in store
                .end_open_streams(&channel.id, Some(&stream.id), now)
                .await?
            {
                self.insert_event(
                    &old.id,
                    StreamEventKind::End,
                    &old.title,
                    &old.category,
                    now,
                )
                .await?;
            }
            // Synthetic start event so chapter 0 carries the right title and category.
            self.insert_event(
                &stream.id,
                StreamEventKind::Start,
                &info.title,
                &info.category,
                info.started_at,
            )
            .await?;
        } else if stream.ended_at.is_none() {
            self.note_change(&stream, &info.title, &info.category, now)
                .await?;
        }
        store
            .set_channel_state(&channel.id, true, &info.title, &info.category, now)
            .await?;
        if created || !channel.live {
            self.inner
                .events
                .emit(DomainEvent::ChannelLive {
                    channel_id: channel.id.clone(),
                    login: channel.login.clone(),
                    stream_id: stream.id.clone(),
                    title: info.title.clone(),
                    category: info.category.clone(),
                })
                .await;
        }
        // Cheapest checks first: this runs on every poll of every live channel.
        if stream.ended_at.is_none()
            && channel.settings.auto_record
            && !stream.record_stopped
            && !self.is_recording_here(&channel.id)
            && !self.playlist_ended(&stream.id).await?
        {
            self.ensure_recording(channel, &stream).await;
        }
        Ok(())
    }

    /// This broadcast's recording already ended with its playlist: Helix can list a stream for a
    /// while after it ended, and that must not start a second, empty recording.
    async fn playlist_ended(&self, stream_id: &str) -> StreamsResult<bool> {
        let recordings = self.inner.store.recordings_of_stream(stream_id).await?;
        Ok(recordings.iter().any(|r| {
            r.status != super::model::RecordingStatus::Recording
                && r.end_reason.as_deref() == Some(super::recorder::STREAM_ENDED)
        }))
    }

    /// Title or category changed (EventSub `channel.update`, or seen by polling).
    pub async fn on_channel_update(
        &self,
        channel: &Channel,
        title: &str,
        category: &str,
    ) -> StreamsResult<()> {
        let lock = self.channel_lock(&channel.id);
        let _guard = lock.lock().await;
        let now = Timestamp::now();
        if let Some(stream) = self.inner.store.open_stream(&channel.id).await? {
            self.note_change(&stream, title, category, now).await?;
        } else if channel.title != title || channel.category != category {
            self.emit_updated(channel, title, category).await;
        }
        self.inner
            .store
            .set_channel_state(&channel.id, channel.live, title, category, now)
            .await?;
        Ok(())
    }

    /// The channel is offline: end its open stream. A running recorder finishes on its own
    /// (the playlist ends) and is not restarted.
    pub async fn on_offline(&self, channel: &Channel) -> StreamsResult<()> {
        let lock = self.channel_lock(&channel.id);
        let _guard = lock.lock().await;
        let now = Timestamp::now();
        let ended = self
            .inner
            .store
            .end_open_streams(&channel.id, None, now)
            .await?;
        for s in &ended {
            self.insert_event(&s.id, StreamEventKind::End, &s.title, &s.category, now)
                .await?;
        }
        self.inner
            .store
            .set_channel_state(&channel.id, false, &channel.title, &channel.category, now)
            .await?;
        if channel.live || !ended.is_empty() {
            self.mark_offline(&channel.id);
            self.inner
                .events
                .emit(DomainEvent::ChannelOffline {
                    channel_id: channel.id.clone(),
                    login: channel.login.clone(),
                })
                .await;
        }
        Ok(())
    }

    /// Stores an update event when title or category differ from the stream's latest.
    async fn note_change(
        &self,
        stream: &Stream,
        title: &str,
        category: &str,
        at: Timestamp,
    ) -> StreamsResult<()> {
        let events = self.inner.store.list_stream_events(&stream.id).await?;
        let (last_title, last_category) = events
            .iter()
            .rev()
            .find(|e| e.kind != StreamEventKind::End)
            .map(|e| (e.title.as_str(), e.category.as_str()))
            .unwrap_or((stream.title.as_str(), stream.category.as_str()));
        if last_title == title && last_category == category {
            return Ok(());
        }
        self.insert_event(&stream.id, StreamEventKind::Update, title, category, at)
            .await?;
        if let Some(channel) = self.inner.store.twitch_channel(&stream.channel_id).await? {
            self.emit_updated(&channel, title, category).await;
        }
        Ok(())
    }

    async fn emit_updated(&self, channel: &Channel, title: &str, category: &str) {
        self.inner
            .events
            .emit(DomainEvent::ChannelUpdated {
                channel_id: channel.id.clone(),
                login: channel.login.clone(),
                title: title.to_string(),
                category: category.to_string(),
            })
            .await;
    }

    async fn insert_event(
        &self,
        stream_id: &str,
        kind: StreamEventKind,
        title: &str,
        category: &str,
        at: Timestamp,
    ) -> StreamsResult<()> {
        self.inner
            .store
            .insert_stream_event(&StreamEvent {
                id: new_id(),
                stream_id: stream_id.to_string(),
                kind,
                title: title.to_string(),
                category: category.to_string(),
                at,
            })
            .await?;
        Ok(())
    }
}
