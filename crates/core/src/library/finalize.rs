//! Finalize (S5): a recording's parts become one MP4 in the library, one idempotent step at a
//! time, each step stored before the next starts.
//!
//! | step     | does                                                   | done again after a crash   |
//! |----------|--------------------------------------------------------|----------------------------|
//! | remux    | parts → temp MP4 (copy, chapters, faststart) → rename  | skipped if the MP4 is valid |
//! | validate | ffprobe: duration matches what was recorded, streams   | cheap                       |
//! | extras   | thumbnail, chapter files, info.json, NFO, artwork      | files are replaced          |
//! | cleanup  | parts deleted once the MP4 is valid and nothing holds them | finds them gone         |
//!
//! The MP4's path is chosen (and stored) before the remux, so every retry writes the same file.

use super::chapters::{self, Chapter};
use super::media;
use super::naming::{self, NamingValues};
use super::parts::{self, list_parts};
use super::sidecars::{self, EpisodeFacts};
use super::{Library, LibraryError};
use crate::events::DomainEvent;
use crate::files::{SafePath, TEMP_PREFIX, move_into_place, remove_dir_all, write_atomic};
use crate::jobs::{JobContext, JobError, JobHandler};
use crate::streams::model::{Channel, FinalizeStep, Recording, RecordingStatus};
use crate::time::Timestamp;
use crate::tools::ffprobe;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;

pub const FINALIZE_JOB: &str = "recording.finalize";

/// Fault injection for the crash tests: finalize waits (until killed) at this point.
/// Values: a step name, or `remux-commit` (the MP4 written but not yet renamed into place).
pub const PAUSE_ENV: &str = "TAPEARR_TEST_FINALIZE_PAUSE";

/// Room kept free beyond the MP4's size while remuxing.
const SPACE_MARGIN: u64 = 16 * MIB;
const MIB: u64 = 1024 * 1024;
/// How often a finalize waiting for disk space looks again.
const SPACE_POLL: std::time::Duration = std::time::Duration::from_secs(5);

/// How far the MP4's duration may differ from the recorded media time.
const DURATION_TOLERANCE_MS: u64 = 2_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FinalizePayload {
    pub recording_id: String,
}

pub struct FinalizeHandler(pub Library);

#[async_trait]
impl JobHandler for FinalizeHandler {
    async fn run(&self, ctx: &JobContext) -> Result<(), JobError> {
        let p: FinalizePayload = ctx.payload()?;
        let result = Finalize {
            lib: &self.0,
            ctx,
            cancel: &ctx.cancel,
        }
        .run(&p.recording_id)
        .await;
        if let Err(e) = &result {
            let last_attempt = matches!(e, JobError::Permanent(_))
                || (matches!(e, JobError::Retryable(_))
                    && ctx.job.attempts >= ctx.job.max_attempts);
            if last_attempt {
                self.0
                    .finalize_gave_up(&p.recording_id, &e.to_string())
                    .await;
            }
        }
        result
    }
}

struct Finalize<'a> {
    lib: &'a Library,
    ctx: &'a JobContext,
    cancel: &'a CancellationToken,
}

/// Everything the steps share, worked out once per run.
struct Plan {
    rec: Recording,
    channel: Channel,
    video: SafePath,
    season: String,
    episode: u32,
    parts: Vec<PathBuf>,
    parts_dir: Option<SafePath>,
}

impl Plan {
    /// The MP4's duration once validated (in this run or a previous one), else the recorded media time.
    fn duration_ms(&self) -> u64 {
        self.rec.library.duration_ms.unwrap_or(self.rec.media_ms)
    }
}

fn retry(msg: impl std::fmt::Display) -> JobError {
    JobError::Retryable(msg.to_string())
}

impl Finalize<'_> {
    async fn run(&self, id: &str) -> Result<(), JobError> {
        let store = &self.lib.inner.store;
        let Some(rec) = store.recording(id).await.map_err(retry)? else {
            // Deleted meanwhile: nothing to finalize.
            return Ok(());
        };
        match rec.status {
            RecordingStatus::Ready | RecordingStatus::Failed => return Ok(()),
            RecordingStatus::Recording => {
                return Err(JobError::Permanent("the recording is still running".into()));
            }
            RecordingStatus::Downloading => {
                return Err(JobError::Permanent("the VOD is still downloading".into()));
            }
            RecordingStatus::Ended | RecordingStatus::Finalizing => {}
        }
        let mut step = rec.library.finalize_step.unwrap_or(FinalizeStep::Remux);
        self.set_step(id, step, RecordingStatus::Finalizing).await?;
        let mut plan = self.plan(rec).await?;
        while step != FinalizeStep::Done {
            self.pause(step.as_str()).await?;
            self.ctx
                .set_progress(
                    step as u8 as f64 / FinalizeStep::Done as u8 as f64,
                    Some(format!("finalize: {}", step.as_str())),
                )
                .await;
            step = match step {
                FinalizeStep::Remux => self.remux(&plan).await?,
                FinalizeStep::Validate => self.validate(&mut plan).await?,
                FinalizeStep::Extras => self.extras(&plan).await?,
                FinalizeStep::Cleanup => self.cleanup(&plan).await?,
                FinalizeStep::Done => FinalizeStep::Done,
            };
            let status = if step == FinalizeStep::Done {
                RecordingStatus::Ready
            } else {
                RecordingStatus::Finalizing
            };
            self.set_step(id, step, status).await?;
        }
        let duration_ms = plan.duration_ms();
        let chapters = self
            .chapters(&plan, duration_ms)
            .await
            .map_or(0, |c| c.len());
        self.lib.finalized(&plan, duration_ms, chapters).await;
        Ok(())
    }

    async fn set_step(
        &self,
        id: &str,
        step: FinalizeStep,
        status: RecordingStatus,
    ) -> Result<(), JobError> {
        let moved = self
            .lib
            .inner
            .store
            .set_finalize_state(id, status, Some(step), None, Timestamp::now())
            .await
            .map_err(retry)?;
        if moved {
            Ok(())
        } else {
            Err(JobError::Permanent(
                "the recording was deleted or is recording again".into(),
            ))
        }
    }

    /// Waits here, until the process is killed, when the crash tests ask for it.
    async fn pause(&self, point: &str) -> Result<(), JobError> {
        if std::env::var(PAUSE_ENV).is_ok_and(|p| p == point) {
            tracing::warn!("finalize paused before [{point}] ({PAUSE_ENV})");
            self.cancel.cancelled().await;
            return Err(JobError::Cancelled);
        }
        Ok(())
    }

    async fn plan(&self, rec: Recording) -> Result<Plan, JobError> {
        let lib = self.lib;
        let store = &lib.inner.store;
        let roots = lib.roots().map_err(retry)?;
        let channel = store
            .twitch_channel(&rec.channel_id)
            .await
            .map_err(retry)?
            .ok_or_else(|| JobError::Permanent("the recording's channel is gone".into()))?;
        let season = naming::season_of(rec.started_at);
        let episode = store
            .assign_episode(&rec.id, &season)
            .await
            .map_err(retry)?;
        let video = match &rec.library.video_path {
            Some(path) => roots
                .resolve(path)
                .map_err(|e| JobError::Permanent(e.to_string()))?,
            None => {
                let template = match channel.settings.naming_template.clone() {
                    Some(template) => template,
                    None => lib.naming_template().await.map_err(retry)?,
                };
                naming::validate(&template).map_err(|e| JobError::Permanent(e.to_string()))?;
                let rendered = naming::render(
                    &template,
                    &NamingValues {
                        channel: channel.login.clone(),
                        channel_name: channel.display_name.clone(),
                        title: rec.labels.title.clone(),
                        category: rec.labels.category.clone(),
                        started_at: rec.started_at,
                        episode,
                        recording_id: rec.id.clone(),
                    },
                );
                let root = roots
                    .roots()
                    .next()
                    .ok_or(LibraryError::NoLibraryRoot)
                    .map_err(retry)?;
                let root = roots
                    .resolve(&root.to_string_lossy())
                    .map_err(|e| JobError::Permanent(e.to_string()))?;
                let video = root
                    .join(&rendered.path)
                    .map_err(|e| JobError::Permanent(e.to_string()))?;
                store
                    .set_video_path(&rec.id, &video.as_path().to_string_lossy())
                    .await
                    .map_err(retry)?;
                video
            }
        };
        let parts_dir = roots.resolve(&rec.dir).ok();
        let mut rec = rec;
        let parts = match &parts_dir {
            Some(dir) => self.recorded_truth(&mut rec, dir.as_path()).await?,
            None => Vec::new(),
        };
        Ok(Plan {
            rec,
            channel,
            video,
            season,
            episode,
            parts,
            parts_dir,
        })
    }

    /// The parts, cut back to whole segments, with the recording's bytes and media time set to
    /// what they hold: a recorder killed between two progress saves left counters behind.
    async fn recorded_truth(
        &self,
        rec: &mut Recording,
        dir: &Path,
    ) -> Result<Vec<PathBuf>, JobError> {
        let listed = list_parts(dir, &rec.stem).map_err(retry)?;
        if listed.is_empty() {
            return Ok(listed);
        }
        ensure_not_held(&listed)?;
        let ffprobe = &self.lib.inner.config.tools.ffprobe;
        let truth = parts::recover(dir, &rec.stem, ffprobe, self.cancel)
            .await
            .map_err(|e| retry(format!("cannot read the parts: {e}")))?;
        if truth.cut_bytes > 0 {
            tracing::warn!(recording = %rec.id, cut_bytes = truth.cut_bytes, "parts cut back to their last whole segment");
        }
        let segments = if truth.segments > 0 {
            truth.segments
        } else {
            rec.segments
        };
        if (truth.bytes, truth.media_ms, segments) != (rec.bytes, rec.media_ms, rec.segments) {
            tracing::info!(
                recording = %rec.id,
                counted_ms = rec.media_ms,
                on_disk_ms = truth.media_ms,
                "recorded media read from the parts"
            );
            self.lib
                .inner
                .store
                .set_recorded_media(&rec.id, truth.bytes, truth.media_ms, segments)
                .await
                .map_err(retry)?;
            rec.bytes = truth.bytes;
            rec.media_ms = truth.media_ms;
            rec.segments = segments;
        }
        Ok(truth.parts)
    }

    async fn chapters(&self, plan: &Plan, duration_ms: u64) -> Result<Vec<Chapter>, JobError> {
        let store = &self.lib.inner.store;
        let events = match &plan.rec.stream_id {
            Some(stream) => store.list_stream_events(stream).await.map_err(retry)?,
            None => Vec::new(),
        };
        let gaps = store
            .list_recording_gaps(&plan.rec.id)
            .await
            .map_err(retry)?;
        Ok(chapters::from_events(
            &events,
            &gaps,
            plan.rec.started_at,
            duration_ms,
        ))
    }

    async fn remux(&self, plan: &Plan) -> Result<FinalizeStep, JobError> {
        let config = &self.lib.inner.config;
        if self.probe_valid(plan).await.is_ok() {
            // A crash after the rename: the MP4 is already complete.
            return Ok(FinalizeStep::Validate);
        }
        let Some(parts_dir) = plan.parts_dir.as_ref().filter(|_| !plan.parts.is_empty()) else {
            return Err(JobError::Permanent(format!(
                "no parts to finalize in {} and no valid MP4",
                plan.rec.dir
            )));
        };
        ensure_not_held(&plan.parts)?;
        let dir = plan
            .video
            .parent()
            .ok_or_else(|| JobError::Permanent("the MP4 would be a library root".into()))?;
        crate::files::create_dir_all(&dir).await.map_err(retry)?;
        self.wait_for_space(plan, dir.as_path()).await?;
        let chapters = self.chapters(plan, plan.rec.media_ms).await?;
        let list = parts_dir.as_path().join(".tapearr-concat.txt");
        let metadata = parts_dir.as_path().join(".tapearr-chapters.txt");
        tokio::fs::write(&list, media::concat_list(&plan.parts))
            .await
            .map_err(retry)?;
        tokio::fs::write(
            &metadata,
            chapters::ffmetadata(&chapters, &plan.rec.labels.title),
        )
        .await
        .map_err(retry)?;
        let temp = dir
            .as_path()
            .join(format!("{TEMP_PREFIX}remux-{}.mp4", plan.rec.id));
        let remuxed = media::remux(
            &config.tools.ffmpeg,
            &plan.parts,
            &list,
            &metadata,
            &temp,
            self.cancel,
        )
        .await;
        if let Err(e) = remuxed {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(match e {
                crate::tools::ProcessError::Cancelled { .. } => JobError::Cancelled,
                e => retry(format!("remux failed: {e}")),
            });
        }
        self.pause("remux-commit").await?;
        // Deleted while ffmpeg ran: do not leave an MP4 nobody owns.
        if self
            .lib
            .inner
            .store
            .recording(&plan.rec.id)
            .await
            .map_err(retry)?
            .is_none()
        {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(JobError::Permanent("the recording was deleted".into()));
        }
        move_into_place(&temp, &plan.video).await.map_err(retry)?;
        Ok(FinalizeStep::Validate)
    }

    /// A full disk is not a failure: the remux says what it waits for (on the recording and the
    /// job), raises `system.disk_low`, and goes on by itself once there is room for the MP4.
    async fn wait_for_space(&self, plan: &Plan, dir: &Path) -> Result<(), JobError> {
        // The MP4 is about the size of the parts; a little more for the index it gains.
        let needed = plan.rec.bytes + plan.rec.bytes / 50 + SPACE_MARGIN;
        let mut waiting = false;
        loop {
            let free = crate::files::free_space(dir).map_err(retry)?;
            if free >= needed {
                if waiting {
                    tracing::info!(recording = %plan.rec.id, "disk space is back; finalize goes on");
                    self.set_step(
                        &plan.rec.id,
                        FinalizeStep::Remux,
                        RecordingStatus::Finalizing,
                    )
                    .await?;
                }
                return Ok(());
            }
            if !waiting {
                waiting = true;
                let why = format!(
                    "waiting for disk space: the MP4 needs {} MiB, {} MiB are free in {}",
                    needed / MIB,
                    free / MIB,
                    dir.display()
                );
                tracing::warn!(recording = %plan.rec.id, "{why}");
                self.lib
                    .inner
                    .store
                    .set_finalize_state(
                        &plan.rec.id,
                        RecordingStatus::Finalizing,
                        Some(FinalizeStep::Remux),
                        Some(&why),
                        Timestamp::now(),
                    )
                    .await
                    .map_err(retry)?;
                self.ctx.set_progress(0.0, Some(why)).await;
                self.lib.inner.disk.report_full(dir).await;
            }
            tokio::select! {
                _ = tokio::time::sleep(SPACE_POLL) => {}
                _ = self.cancel.cancelled() => return Err(JobError::Cancelled),
            }
        }
    }

    /// The MP4 exists and ffprobe agrees with what was recorded.
    /// The MP4's duration in milliseconds.
    async fn probe_valid(&self, plan: &Plan) -> Result<u64, String> {
        let path = plan.video.as_path();
        if !path.is_file() {
            return Err("the MP4 is missing".into());
        }
        let program = &self.lib.inner.config.tools.ffprobe;
        let facts = ffprobe::probe(program, path, media::PROBE_LIMIT, self.cancel)
            .await
            .map_err(|e| e.to_string())?;
        if facts.video_codec.is_none() && facts.audio_codec.is_none() {
            return Err("the MP4 has neither video nor audio".into());
        }
        // The container's duration only: our remux always writes one, so a file without it is
        // not a finished MP4 (the streams' fallback is for downloaded trailers).
        let duration_ms = facts.container_ms.ok_or("ffprobe found no duration")?;
        let expected = plan.rec.media_ms;
        let tolerance = DURATION_TOLERANCE_MS.max(expected / 100);
        if expected > 0 && duration_ms.abs_diff(expected) > tolerance {
            return Err(format!(
                "the MP4 lasts {duration_ms} ms but {expected} ms were recorded"
            ));
        }
        Ok(duration_ms)
    }

    async fn validate(&self, plan: &mut Plan) -> Result<FinalizeStep, JobError> {
        match self.probe_valid(plan).await {
            Ok(duration_ms) => {
                let bytes = std::fs::metadata(plan.video.as_path())
                    .map(|m| m.len())
                    .map_err(retry)?;
                self.lib
                    .inner
                    .store
                    .set_video_facts(&plan.rec.id, bytes, duration_ms)
                    .await
                    .map_err(retry)?;
                plan.rec.library.video_bytes = Some(bytes);
                plan.rec.library.duration_ms = Some(duration_ms);
                Ok(FinalizeStep::Extras)
            }
            Err(why) => {
                // Remux again on the next attempt; the parts are still there.
                let _ = crate::files::remove_file(&plan.video).await;
                self.set_step(
                    &plan.rec.id,
                    FinalizeStep::Remux,
                    RecordingStatus::Finalizing,
                )
                .await?;
                Err(retry(format!("invalid MP4: {why}")))
            }
        }
    }

    async fn extras(&self, plan: &Plan) -> Result<FinalizeStep, JobError> {
        let lib = self.lib;
        let config = &lib.inner.config;
        let duration_ms = plan.duration_ms();
        let chapters = self.chapters(plan, duration_ms).await?;
        let stem = file_stem(&plan.video)?;
        let dir = plan
            .video
            .parent()
            .ok_or_else(|| JobError::Permanent("the MP4 would be a library root".into()))?;
        let sibling = |suffix: &str| dir.join(&format!("{stem}{suffix}")).map_err(retry);

        let thumb = sibling(sidecars::THUMB_SUFFIX)?;
        let thumb_temp = dir
            .as_path()
            .join(format!("{TEMP_PREFIX}thumb-{}.jpg", plan.rec.id));
        let at = (duration_ms / 10).min(5 * 60_000);
        match media::thumbnail(
            &config.tools.ffmpeg,
            plan.video.as_path(),
            at,
            &thumb_temp,
            self.cancel,
        )
        .await
        {
            Ok(()) => move_into_place(&thumb_temp, &thumb).await.map_err(retry)?,
            Err(crate::tools::ProcessError::Cancelled { .. }) => return Err(JobError::Cancelled),
            Err(e) => return Err(retry(format!("thumbnail failed: {e}"))),
        }

        let facts = EpisodeFacts {
            recording: &plan.rec,
            channel: &plan.channel,
            chapters: &chapters,
            duration_ms,
            season: &plan.season,
            episode: plan.episode,
            stem: &stem,
        };
        let files = [
            (".nfo", sidecars::episode_nfo(&facts)),
            (".info.json", sidecars::info_json(&facts)),
            (".chapters.vtt", chapters::vtt(&chapters)),
            (".chapters.srt", chapters::srt(&chapters)),
            (".chapters.xml", chapters::emby_xml(&chapters)),
        ];
        for (suffix, text) in files {
            write_atomic(&sibling(suffix)?, text.as_bytes())
                .await
                .map_err(retry)?;
        }
        self.chat_files(plan, duration_ms, &dir, &stem).await?;
        self.show_files(plan, &dir, &thumb).await?;
        Ok(FinalizeStep::Cleanup)
    }

    /// The chat captured in the parts folder, beside the MP4 on its timeline: `.chat.jsonl`
    /// and the `.chat.ass` subtitles. Nothing when no chat was captured.
    async fn chat_files(
        &self,
        plan: &Plan,
        duration_ms: u64,
        dir: &SafePath,
        stem: &str,
    ) -> Result<(), JobError> {
        let Some(parts_dir) = &plan.parts_dir else {
            return Ok(());
        };
        let source = parts_dir.as_path().join(crate::chat::PARTS_FILE);
        if !source.is_file() {
            return Ok(());
        }
        let entries = crate::chat::record::read_entries(&source).map_err(retry)?;
        let gaps = self
            .lib
            .inner
            .store
            .list_recording_gaps(&plan.rec.id)
            .await
            .map_err(retry)?;
        let lines = crate::chat::record::on_media_timeline(
            crate::chat::record::kept_messages(entries),
            &gaps,
            plan.rec.started_at,
            duration_ms,
        );
        let files = [
            (
                crate::chat::JSONL_SUFFIX,
                crate::chat::record::to_jsonl(&lines),
            ),
            (crate::chat::ASS_SUFFIX, crate::chat::ass::subtitles(&lines)),
        ];
        for (suffix, text) in files {
            let path = dir.join(&format!("{stem}{suffix}")).map_err(retry)?;
            write_atomic(&path, text.as_bytes()).await.map_err(retry)?;
        }
        Ok(())
    }

    /// `tvshow.nfo` and artwork in the show folder, `season.nfo` in the season folder.
    async fn show_files(
        &self,
        plan: &Plan,
        dir: &SafePath,
        thumb: &SafePath,
    ) -> Result<(), JobError> {
        let root_relative = plan.video.relative();
        let depth = root_relative.components().count();
        // `show/season/file.mp4` or deeper: the season is the file's folder; `show/file.mp4`:
        // the file's folder is the show.
        let (show, season) = match depth {
            0 | 1 => return Ok(()),
            2 => (dir.clone(), None),
            _ => {
                let first = root_relative
                    .components()
                    .next()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .unwrap_or_default();
                let root = self
                    .lib
                    .roots()
                    .map_err(retry)?
                    .resolve(&plan.video.root().to_string_lossy())
                    .map_err(retry)?;
                (root.join(&first).map_err(retry)?, Some(dir.clone()))
            }
        };
        write_atomic(
            &show.join(sidecars::TVSHOW_NFO).map_err(retry)?,
            sidecars::tvshow_nfo(&plan.channel).as_bytes(),
        )
        .await
        .map_err(retry)?;
        if let Some(season) = season {
            write_atomic(
                &season.join(sidecars::SEASON_NFO).map_err(retry)?,
                sidecars::season_nfo(&plan.season).as_bytes(),
            )
            .await
            .map_err(retry)?;
        }
        self.lib
            .ensure_show_artwork(&plan.channel, &show, thumb.as_path(), self.cancel)
            .await;
        Ok(())
    }

    async fn cleanup(&self, plan: &Plan) -> Result<FinalizeStep, JobError> {
        // The MP4 must still be there and whole before its sources go.
        let expected = plan.rec.library.video_bytes;
        let actual = std::fs::metadata(plan.video.as_path())
            .map(|m| m.len())
            .ok();
        if actual.is_none() || (expected.is_some() && expected != actual) {
            self.set_step(
                &plan.rec.id,
                FinalizeStep::Remux,
                RecordingStatus::Finalizing,
            )
            .await?;
            return Err(retry(
                "the MP4 changed or vanished before cleanup; remuxing again",
            ));
        }
        if let Some(dir) = &plan.parts_dir
            && dir.as_path().exists()
        {
            ensure_not_held(&plan.parts)?;
            remove_dir_all(dir).await.map_err(retry)?;
            // `.parts` itself goes when it holds no other recording.
            if let Some(parent) = dir.parent() {
                let _ = crate::files::remove_empty_dir(&parent).await;
            }
        }
        Ok(FinalizeStep::Done)
    }
}

impl Library {
    /// The end of a successful finalize: tell the user and the media servers.
    async fn finalized(&self, plan: &Plan, duration_ms: u64, chapters: usize) {
        self.inner
            .events
            .emit(DomainEvent::RecordingFinalized {
                recording_id: plan.rec.id.clone(),
                channel_id: plan.channel.id.clone(),
                login: plan.channel.login.clone(),
                path: plan.video.relative().to_string_lossy().into_owned(),
                duration_ms,
                chapters,
            })
            .await;
        if let Some(folder) = plan.video.parent() {
            let folder = folder.as_path().to_string_lossy().into_owned();
            if let Err(e) = self.inner.media_servers.request_refresh(&folder).await {
                tracing::warn!(error = %e, "media-server refresh not queued");
            }
        }
        self.replace_live_with_vod(&plan.rec).await;
    }

    /// A ready VOD of a broadcast also recorded live, on a channel that prefers VODs: the live
    /// recording goes (its files and row), once the VOD that replaces it is in the library.
    async fn replace_live_with_vod(&self, rec: &Recording) {
        use crate::archive::model::{ArchiveSettings, LivePolicy};
        use crate::streams::model::RecordingSource;
        let Some(live) = rec.origin.linked_recording_id.as_deref() else {
            return;
        };
        if rec.origin.source != RecordingSource::Vod {
            return;
        }
        let settings = match self.inner.store.channel_archive(&rec.channel_id).await {
            Ok(Some(json)) => serde_json::from_str::<ArchiveSettings>(&json).ok(),
            _ => None,
        };
        if settings.is_none_or(|s| s.live_policy != LivePolicy::PreferVod) {
            return;
        }
        match self.inner.store.recording(live).await {
            Ok(Some(_)) => {}
            _ => return,
        }
        if let Err(e) = self
            .delete_recordings(&[live.to_string()], "replaced by its VOD")
            .await
        {
            tracing::warn!(recording = live, error = %e, "live recording not replaced by its VOD");
        }
    }

    /// Finalize will not be retried: back to `ended` with the reason, parts kept.
    async fn finalize_gave_up(&self, id: &str, error: &str) {
        let store = &self.inner.store;
        let rec = store.recording(id).await.ok().flatten();
        let Some(rec) = rec else { return };
        let _ = store
            .set_finalize_state(
                id,
                RecordingStatus::Ended,
                rec.library.finalize_step,
                Some(error),
                Timestamp::now(),
            )
            .await;
        self.inner
            .events
            .emit(DomainEvent::RecordingFinalizeFailed {
                recording_id: id.to_string(),
                channel_id: rec.channel_id.clone(),
                login: rec.labels.channel_login.clone(),
                error: error.to_string(),
            })
            .await;
    }
}

fn file_stem(video: &SafePath) -> Result<String, JobError> {
    video
        .as_path()
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .ok_or_else(|| JobError::Permanent("the MP4 path has no file name".into()))
}

/// Refuses while any process (a recorder here or elsewhere, a copy tool) has a part open.
fn ensure_not_held(parts: &[PathBuf]) -> Result<(), JobError> {
    match crate::files::open_by_a_process(parts) {
        Some(path) => Err(retry(format!(
            "{} is still open in another process",
            path.display()
        ))),
        None => Ok(()),
    }
}
