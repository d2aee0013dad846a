//! The `archive.vod` job: one VOD downloaded into its recording's parts folder (resuming what
//! an earlier attempt or process finished), then handed to finalize like a closed recording.

use super::vod_chat::{self, ChatFetch};
use super::{Archive, moments};
use crate::events::DomainEvent;
use crate::jobs::{JobContext, JobError, JobHandler};
use crate::library::chapters::MUTED_REASON;
use crate::streams::Streams;
use crate::streams::model::{Recording, RecordingGap, RecordingStatus};
use crate::time::Timestamp;
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tapearr_hls::quality::CodecAllowList;
use tapearr_hls::vod::{VodError, VodOptions, VodRequest, download_vod};
use tapearr_hls::{FetchError, Source, SourceRenewal};
use tapearr_integrations::twitch::playback::MasterPlaylist;

#[derive(Debug, Deserialize)]
struct VodPayload {
    recording_id: String,
}

pub struct VodHandler(pub Archive);

/// A new playback token and usher URL for the same video.
struct VodRenewal {
    streams: Streams,
    video_id: String,
}

impl std::fmt::Debug for VodRenewal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VodRenewal")
            .field("video_id", &self.video_id)
            .finish_non_exhaustive()
    }
}

impl SourceRenewal for VodRenewal {
    fn renew(&self) -> BoxFuture<'static, Result<Source, String>> {
        let (streams, video_id) = (self.streams.clone(), self.video_id.clone());
        Box::pin(async move {
            match vod_source(&streams, &video_id).await {
                Ok(Some(source)) => Ok(source),
                Ok(None) => Err("Twitch no longer serves this video".into()),
                Err(e) => Err(e),
            }
        })
    }
}

/// The VOD's master playlist, signed with the account's token when one is stored
/// (subscriber-only VODs).
async fn vod_source(streams: &Streams, video_id: &str) -> Result<Option<Source>, String> {
    Ok(vod_master(streams, video_id).await?.map(|m| Source {
        url: m.url,
        expires_at: m.expires_at,
    }))
}

async fn vod_master(streams: &Streams, video_id: &str) -> Result<Option<MasterPlaylist>, String> {
    let twitch = streams.twitch().map_err(|e| e.to_string())?;
    let token = streams.playback_token().await;
    twitch
        .playback
        .vod_master_playlist(video_id, token.as_deref())
        .await
        .map_err(|e| e.to_string())
}

/// Where the finished segments wait for the join (inside the parts folder, so finalize's
/// cleanup removes whatever is left).
pub(crate) fn segments_dir(parts_dir: &Path) -> std::path::PathBuf {
    parts_dir.join(".segments")
}

/// A client error the engine does not retry (404, 408 and 429 it retries itself).
fn refused(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 404 | 408 | 429)
}

#[async_trait]
impl JobHandler for VodHandler {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let p: VodPayload = ctx.payload()?;
        let result = self.0.download(ctx, &p.recording_id).await;
        if let Err(JobError::Retryable(why) | JobError::Permanent(why)) = &result {
            let last = matches!(result, Err(JobError::Permanent(_)))
                || ctx.job.attempts >= ctx.job.max_attempts;
            if last {
                self.0.download_failed(&p.recording_id, why).await;
            }
        }
        result
    }
}

impl Archive {
    async fn download(&self, ctx: &JobContext, id: &str) -> Result<(), JobError> {
        let retry = |e: String| JobError::Retryable(e);
        let store = &self.inner.store;
        let Some(rec) = store
            .recording(id)
            .await
            .map_err(|e| retry(e.to_string()))?
        else {
            return Ok(()); // deleted meanwhile
        };
        if rec.status != RecordingStatus::Downloading {
            return Ok(());
        }
        let video_id = rec
            .origin
            .twitch_video_id
            .clone()
            .ok_or_else(|| JobError::Permanent("the recording has no Twitch video".into()))?;
        let channel = store
            .twitch_channel(&rec.channel_id)
            .await
            .map_err(|e| retry(e.to_string()))?
            .ok_or_else(|| JobError::Permanent("the recording's channel is gone".into()))?;
        let streams = &self.inner.streams;
        let Some(master) = vod_master(streams, &video_id).await.map_err(retry)? else {
            return Err(JobError::Permanent(
                "Twitch no longer serves this video (deleted, or not visible to the account)"
                    .into(),
            ));
        };
        // Some renditions closed to this viewer: a subscriber-only VOD (or quality).
        let restricted = !master.restricted.is_empty();
        let source = Source {
            url: master.url,
            expires_at: master.expires_at,
        };
        let parts = Path::new(&rec.dir);
        let request = VodRequest {
            source,
            quality: channel.settings.quality.parse().unwrap_or_default(),
            codecs: CodecAllowList::parse(&channel.settings.codecs),
            renewal: Some(Arc::new(VodRenewal {
                streams: streams.clone(),
                video_id: video_id.clone(),
            })),
            work_dir: segments_dir(parts),
            // `.ts` or `.mp4`, as the playlist's media says.
            output_stem: parts.join(format!("{}.part0001", rec.stem)),
        };
        let (tx, mut rx) = tokio::sync::watch::channel((0u64, 0u64));
        let report = move |done: u64, total: u64| {
            let _ = tx.send((done, total));
        };
        let options = VodOptions::default();
        let download = download_vod(&self.inner.http, &options, request, &ctx.cancel, &report);
        tokio::pin!(download);
        let summary = loop {
            tokio::select! {
                result = &mut download => break result,
                changed = rx.changed() => {
                    if changed.is_err() {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                    let (done, total) = *rx.borrow_and_update();
                    if total > 0 {
                        ctx.set_progress(done as f64 / total as f64, Some(format!("VOD {video_id}: {done}/{total} segments"))).await;
                    }
                }
            }
        };
        let summary = match summary {
            Ok(s) => s,
            Err(VodError::Cancelled) => return Err(JobError::Cancelled),
            // Usher refuses what the token restricts: only another account opens it.
            Err(e @ VodError::Playlist(_)) if restricted => {
                return Err(JobError::Permanent(format!(
                    "Twitch opens this VOD to the channel's subscribers only ({e}): sign in \
                     under Settings → Twitch with an account that may watch it, then retry"
                )));
            }
            // Refused outright (not an outage): retrying in a minute would be refused again,
            // so the VOD fails now and waits for the user's retry, its segments kept.
            Err(
                e @ VodError::Segment {
                    error: FetchError::Status(status),
                    ..
                },
            ) if refused(status) => {
                return Err(JobError::Permanent(e.to_string()));
            }
            // The playlist itself is the problem: a retry gets the same one.
            Err(e @ VodError::Unsupported(_)) => return Err(JobError::Permanent(e.to_string())),
            Err(e) => return Err(retry(e.to_string())),
        };
        for span in &summary.muted {
            // Media is there with its sound removed: a gap in the audio, not in the timeline.
            let gap = RecordingGap {
                id: format!("{}-muted-{}", rec.id, span.start_ms),
                recording_id: rec.id.clone(),
                at: rec.started_at.plus(Duration::from_millis(span.start_ms)),
                ms: span.ms,
                reason: MUTED_REASON.to_string(),
            };
            store
                .insert_recording_gap(&gap)
                .await
                .map_err(|e| retry(e.to_string()))?;
        }
        let lacks = self
            .vod_extras(ctx, &rec, channel.settings.record_chat, &video_id)
            .await?;
        // What the VOD lacks stays on it, where its end reason is shown.
        let end_reason = (!lacks.is_empty()).then(|| {
            let mut reason = rec.end_reason.clone().unwrap_or_default();
            for why in &lacks {
                reason.push_str("; ");
                reason.push_str(why);
            }
            reason.chars().take(1_000).collect::<String>()
        });
        let moved = store
            .finish_vod_download(
                &rec.id,
                summary.bytes,
                summary.media_ms,
                summary.segments,
                end_reason.as_deref(),
                Timestamp::now(),
            )
            .await
            .map_err(|e| retry(e.to_string()))?;
        if moved {
            tracing::info!(recording = %rec.id, video = %video_id, downloaded = summary.downloaded, reused = summary.reused, "VOD downloaded");
            self.inner
                .events
                .emit(DomainEvent::RecordingStopped {
                    recording_id: rec.id.clone(),
                    channel_id: rec.channel_id.clone(),
                    login: channel.login.clone(),
                    reason: "VOD downloaded".into(),
                    bytes: summary.bytes,
                    media_ms: summary.media_ms,
                })
                .await;
        }
        Ok(())
    }

    /// What Twitch keeps beside the video, fetched before finalize: its moments as chapters
    /// (when the broadcast was not recorded live) and its chat replay (when the channel records
    /// chat). Neither fails the VOD: it lands without them; the log says why, and so do the
    /// returned lines (for the recording's end reason).
    async fn vod_extras(
        &self,
        ctx: &JobContext,
        rec: &Recording,
        record_chat: bool,
        video_id: &str,
    ) -> Result<Vec<String>, JobError> {
        let mut lacks = Vec::new();
        let twitch = self
            .inner
            .streams
            .twitch()
            .map_err(|e| JobError::Retryable(e.to_string()))?;
        match moments::apply(self.inner.store.as_ref(), &twitch.playback, rec, video_id).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(recording = %rec.id, video = %video_id, moments = n, "chapters from the video's moments")
            }
            Err(why) => {
                tracing::warn!(recording = %rec.id, video = %video_id, reason = %why, "VOD without moments");
                lacks.push(format!("without game chapters: {why}"));
            }
        }
        if !record_chat {
            return Ok(lacks);
        }
        ctx.set_progress(1.0, Some(format!("VOD {video_id}: chat replay")))
            .await;
        let parts = Path::new(&rec.dir);
        match vod_chat::fetch(
            &twitch.playback,
            video_id,
            rec.started_at,
            parts,
            &ctx.cancel,
        )
        .await
        {
            ChatFetch::Written(n) => {
                tracing::info!(recording = %rec.id, video = %video_id, messages = n, "VOD chat fetched")
            }
            ChatFetch::AlreadyThere => {}
            ChatFetch::Unavailable(why) => {
                tracing::warn!(recording = %rec.id, video = %video_id, reason = %why, "VOD without chat");
                lacks.push(format!("without chat: {why}"));
            }
            ChatFetch::Cancelled => return Err(JobError::Cancelled),
        }
        Ok(lacks)
    }

    /// The download will not be retried: the VOD is marked failed with the reason (its
    /// finished segments stay for a retry).
    async fn download_failed(&self, id: &str, why: &str) {
        let store = &self.inner.store;
        if let Ok(true) = store.fail_vod_download(id, why, Timestamp::now()).await
            && let Ok(Some(rec)) = store.recording(id).await
        {
            self.inner
                .events
                .emit(DomainEvent::RecordingFailed {
                    recording_id: Some(id.to_string()),
                    channel_id: rec.channel_id.clone(),
                    login: rec.labels.channel_login.clone(),
                    error: why.to_string(),
                })
                .await;
        }
    }
}
