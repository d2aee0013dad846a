//! The `archive.run` job: for each channel with the archive on, the videos within its limits
//! become VOD recordings (downloaded by `archive.vod`), and its top clips are placed.

use super::model::{ArchiveSettings, LivePolicy};
use super::{Archive, clips};
use crate::ids::new_id;
use crate::jobs::{JobContext, JobError, JobHandler};
use crate::streams::model::{
    Channel, Recording, RecordingOrigin, RecordingSource, RecordingStatus, Stream, StreamEvent,
    StreamEventKind,
};
use crate::streams::{StreamsError, StreamsResult};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::Deserialize;
use std::time::Duration;
use tapearr_integrations::twitch::{HelixVideo, parse_video_duration};

#[derive(Debug, Default, Deserialize)]
struct RunPayload {
    /// One channel ("archive now"); every channel with settings when absent.
    #[serde(default)]
    channel_id: Option<String>,
}

pub struct RunHandler(pub Archive);

#[async_trait]
impl JobHandler for RunHandler {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let p: RunPayload = ctx.payload().unwrap_or_default();
        let archive = &self.0;
        let store = &archive.inner.store;
        let ids: Vec<String> = match p.channel_id {
            Some(id) => vec![id],
            None => store
                .archive_channels()
                .await
                .map_err(|e| JobError::Retryable(e.to_string()))?
                .into_iter()
                .map(|(id, _)| id)
                .collect(),
        };
        let mut failed = Vec::new();
        for id in &ids {
            if let Err(e) = archive.archive_channel(id).await {
                tracing::warn!(channel = %id, error = %e, "archive run failed for the channel");
                failed.push(e.to_string());
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(JobError::Retryable(failed.join("; ")))
        }
    }
}

impl Archive {
    async fn archive_channel(&self, channel_id: &str) -> StreamsResult<()> {
        let store = &self.inner.store;
        let Some(channel) = store
            .twitch_channel(channel_id)
            .await?
            .filter(|c| c.removed_at.is_none())
        else {
            return Ok(());
        };
        let Some(settings) = self.stored_settings(channel_id).await? else {
            return Ok(());
        };
        let _one_run = self.inner.runs.lock().await;
        self.heal_downloads(channel_id).await?;
        let twitch = self.inner.streams.twitch()?;
        let since = Timestamp::now().minus(Duration::from_secs(
            u64::from(settings.max_age_days) * 86_400,
        ));
        // Every video that has a recording (any status): one query, not one per video.
        let mut archived = store.archived_video_ids(&channel.id).await?;
        for kind in settings.kinds() {
            let videos = twitch
                .helix
                .videos(&channel.twitch_id, kind, settings.max_videos as usize)
                .await?;
            for video in videos {
                let Some(created) = Timestamp::parse_rfc3339(&video.created_at) else {
                    tracing::warn!(video = %video.id, "video without a readable creation time");
                    continue;
                };
                if created < since || archived.contains(&video.id) {
                    continue;
                }
                self.add_vod(&channel, &settings, &video, created).await?;
                archived.insert(video.id.clone());
            }
        }
        if settings.top_clips > 0 {
            clips::place_top_clips(self, &channel, &settings).await?;
        }
        if let Some(days) = settings.keep_clips_days {
            clips::expire_clips(self, &channel, days).await?;
        }
        Ok(())
    }

    /// The video as a VOD recording, queued for download; nothing when the policy skips it or
    /// its broadcast is still live.
    async fn add_vod(
        &self,
        channel: &Channel,
        settings: &ArchiveSettings,
        video: &HelixVideo,
        created: Timestamp,
    ) -> StreamsResult<()> {
        let store = &self.inner.store;
        let duration = Duration::from_secs(parse_video_duration(&video.duration).unwrap_or(0));
        // The broadcast: stored already when Tapearr saw it live (same Twitch stream id).
        let twitch_stream_id = if video.stream_id.is_empty() {
            format!("video-{}", video.id)
        } else {
            video.stream_id.clone()
        };
        let (stream, new) = store
            .upsert_stream(&Stream {
                id: new_id(),
                channel_id: channel.id.clone(),
                twitch_stream_id,
                title: video.title.clone(),
                category: String::new(),
                started_at: created,
                ended_at: Some(created.plus(duration)),
                record_stopped: false,
            })
            .await?;
        if stream.ended_at.is_none() {
            // Still being broadcast: its VOD is archived by a run after it ends.
            return Ok(());
        }
        if new {
            store
                .insert_stream_event(&StreamEvent {
                    id: new_id(),
                    stream_id: stream.id.clone(),
                    kind: StreamEventKind::Start,
                    title: video.title.clone(),
                    category: String::new(),
                    at: created,
                })
                .await?;
        }
        let live = store
            .recordings_of_stream(&stream.id)
            .await?
            .into_iter()
            .find(|r| r.origin.source == RecordingSource::Live);
        if live.is_some() && settings.live_policy == LivePolicy::Skip {
            return Ok(());
        }
        let id = new_id();
        let Some(dir) = self.inner.streams.recording_dir(channel, &id).await? else {
            return Ok(());
        };
        let now = Timestamp::now();
        let rec = Recording {
            id: id.clone(),
            channel_id: channel.id.clone(),
            stream_id: Some(stream.id.clone()),
            status: RecordingStatus::Downloading,
            dir,
            stem: channel.login.clone(),
            quality: channel.settings.quality.clone(),
            started_at: created,
            ended_at: Some(created.plus(duration)),
            bytes: 0,
            media_ms: 0,
            segments: 0,
            missed_segments: 0,
            sessions: 1,
            owner: String::new(),
            heartbeat_at: now,
            end_reason: Some(format!("twitch {}", video.kind)),
            error: None,
            updated_at: now,
            library: Default::default(),
            origin: RecordingOrigin {
                source: RecordingSource::Vod,
                twitch_video_id: Some(video.id.clone()),
                linked_recording_id: live.map(|r| r.id),
            },
            labels: Default::default(),
        };
        match store.insert_recording(&rec).await {
            Ok(()) => {}
            // Another run added it a moment ago.
            Err(crate::storage::StorageError::Conflict(_)) => return Ok(()),
            Err(e) => return Err(StreamsError::Storage(e)),
        }
        pause_before("enqueue").await;
        tracing::info!(channel = %channel.login, video = %video.id, recording = %id, "VOD queued for download");
        self.enqueue_download(&id).await
    }
}

/// Waits here, until the process is killed, when the crash tests ask for it.
async fn pause_before(point: &str) {
    if std::env::var(super::PAUSE_ENV).is_ok_and(|p| p == point) {
        tracing::warn!("archive run paused before [{point}] ({})", super::PAUSE_ENV);
        std::future::pending::<()>().await;
    }
}
