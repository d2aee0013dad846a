//! One supervised recorder per channel (S4).
//!
//! The recording row is the truth: it is created once per broadcast, keeps its folder across
//! restarts of the recorder and of Tapearr, and is closed only when the stream ended, the user
//! stopped it, or it cannot go on. A recorder that dies while the channel is live is started
//! again into the same folder (parts continue numbering) and the hole is stored as a gap.

use super::model::{Channel, Recording, RecordingGap, RecordingProgress, RecordingStatus, Stream};
use super::renewal::{PlaybackRenewal, codec_list, source_of};
use super::timeline::{Lost, MediaClock};
use super::{Streams, StreamsResult};
use crate::events::DomainEvent;
use crate::ids::new_id;
use crate::time::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tapearr_hls::quality::{CodecAllowList, QualitySpec};
use tapearr_hls::{
    EndReason, FailReason, OutputPlan, RecordRequest, Recorder, RecorderEvent, Source,
};
use tapearr_integrations::twitch::playback::MasterPlaylist;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The end reason of a recording whose broadcast ended.
pub(crate) const STREAM_ENDED: &str = "stream ended";
/// The end reason of a recording the user stopped.
pub(crate) const STOPPED_BY_USER: &str = "stopped by user";
/// The reason of the hole a crash or a restart of Tapearr left.
const RESTARTED: &str = "Tapearr restarted";

/// How often counters and the ownership heartbeat are written (and progress broadcast).
const PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// After the channel was reported offline, a recorder still getting segments is stopped after
/// this; one that has stalled is stopped at once.
const OFFLINE_GRACE: Duration = Duration::from_secs(60);
/// Free space a recorder stopped by a full disk waits for before it starts again.
const ROOM_TO_RESTART: u64 = 16 * 1024 * 1024;
/// How often it looks.
const ROOM_POLL: Duration = Duration::from_secs(2);
/// Give up after this many restarts in a row that recorded nothing.
const MAX_FRUITLESS_RESTARTS: u32 = 8;

/// How a supervisor begins a recording.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Resume {
    /// A new recording.
    Fresh,
    /// Taking over one a dead process left open. `live_seen`: when Twitch listed the broadcast
    /// live just before, if known (the recording lost the time up to then).
    TakeOver { live_seen: Option<Timestamp> },
}

/// A recorder running in this process.
pub(crate) struct Running {
    /// Cancelled by a user stop or a channel removal: close the recording.
    pub stop: CancellationToken,
    /// Set when detection saw the channel go offline: do not restart.
    pub offline: Arc<AtomicBool>,
    pub task: Option<JoinHandle<()>>,
}

/// What a session counts: the recording's counters and its place on the broadcast's clock.
struct Counters<'a> {
    progress: &'a mut RecordingProgress,
    clock: &'a mut MediaClock,
}

/// A write failed because the library's disk is full.
fn is_disk_full(reason: &FailReason) -> bool {
    matches!(reason, FailReason::Output(msg) if msg.contains("os error 28") || msg.contains("No space left"))
}

/// What a session watches besides its recorder.
struct Signals<'a> {
    /// The user stopped the recording.
    stop: &'a CancellationToken,
    /// Detection saw the channel go offline.
    offline: &'a AtomicBool,
}

/// How one recorder session ended.
enum SessionEnd {
    /// The playlist said the broadcast is over.
    StreamEnded,
    /// Died or stalled while the channel may still be live.
    Interrupted(String),
    /// A write failed because the disk is full.
    DiskFull(String),
    UserStop,
    /// Tapearr is stopping: the recording stays open and resumes at the next start.
    Shutdown,
    /// Another process took the recording over.
    LostOwnership,
}

impl Streams {
    /// Makes sure the channel's broadcast is being recorded (by this or another process).
    /// Called with the channel lock held.
    pub(crate) async fn ensure_recording(&self, channel: &Channel, stream: &Stream) {
        if self.is_recording_here(&channel.id) {
            return;
        }
        if let Err(e) = self.start_or_resume(channel, stream).await {
            tracing::warn!(channel = %channel.login, error = %e, "could not start recording");
            self.inner
                .events
                .emit(DomainEvent::RecordingFailed {
                    recording_id: None,
                    channel_id: channel.id.clone(),
                    login: channel.login.clone(),
                    error: e.to_string(),
                })
                .await;
        }
    }

    pub(crate) fn is_recording_here(&self, channel_id: &str) -> bool {
        self.active().contains_key(channel_id)
    }

    async fn start_or_resume(&self, channel: &Channel, stream: &Stream) -> StreamsResult<()> {
        let store = &self.inner.store;
        if let Some(rec) = store.active_recording(&channel.id).await? {
            if self.may_take_over(&rec) {
                store
                    .resume_recording(&rec.id, &self.inner.instance, Timestamp::now())
                    .await?;
                // Detection asked Helix just now: the broadcast is live.
                let live_seen = Some(Timestamp::now());
                self.spawn_supervisor(channel.clone(), rec, Resume::TakeOver { live_seen });
            }
            return Ok(());
        }
        let id = new_id();
        let Some(dir) = self.recording_dir(channel, &id).await? else {
            return Ok(());
        };
        let now = Timestamp::now();
        let rec = Recording {
            id,
            channel_id: channel.id.clone(),
            stream_id: Some(stream.id.clone()),
            status: RecordingStatus::Recording,
            dir,
            stem: channel.login.clone(),
            quality: channel.settings.quality.clone(),
            started_at: now,
            ended_at: None,
            bytes: 0,
            media_ms: 0,
            segments: 0,
            missed_segments: 0,
            sessions: 1,
            owner: self.inner.instance.clone(),
            heartbeat_at: now,
            end_reason: None,
            error: None,
            updated_at: now,
            library: Default::default(),
            origin: Default::default(),
            labels: Default::default(),
        };
        match store.insert_recording(&rec).await {
            Ok(()) => {
                self.spawn_supervisor(channel.clone(), rec, Resume::Fresh);
                Ok(())
            }
            // Another process started it a moment ago.
            Err(crate::storage::StorageError::Conflict(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The folder for a new recording, or `None` (with a `recording.refused` event) when no
    /// recording may start: no library root, or free space below the floor.
    pub(crate) async fn recording_dir(
        &self,
        channel: &Channel,
        recording_id: &str,
    ) -> StreamsResult<Option<String>> {
        let refuse = |reason: String| async move {
            tracing::warn!(channel = %channel.login, %reason, "recording not started");
            self.inner
                .events
                .emit(DomainEvent::RecordingRefused {
                    channel_id: channel.id.clone(),
                    login: channel.login.clone(),
                    reason,
                })
                .await;
            Ok(None)
        };
        let Some(root) = self
            .roots()
            .and_then(|r| r.roots().next().map(|p| p.to_path_buf()))
        else {
            return refuse("no library root is configured (library_roots)".into()).await;
        };
        let floor_gb = self.inner.live.current().disk.low_free_gb;
        let floor = (floor_gb * 1_073_741_824.0) as u64;
        if let Err(e) = crate::files::ensure_free_space(&root, floor) {
            return refuse(format!(
                "{e} on the library root (disk.low_free_gb = {floor_gb})"
            ))
            .await;
        }
        // Hidden folder: media servers ignore it until finalize places the MP4.
        let dir = root.join(&channel.login).join(".parts").join(recording_id);
        Ok(Some(dir.to_string_lossy().into_owned()))
    }

    /// Starts the channel's recording, or takes it over (`resume`).
    pub(crate) fn spawn_supervisor(&self, channel: Channel, rec: Recording, resume: Resume) {
        let stop = CancellationToken::new();
        let offline = Arc::new(AtomicBool::new(false));
        let mut active = self.active();
        if active.contains_key(&channel.id) {
            return;
        }
        let channel_id = channel.id.clone();
        let task = tokio::spawn(self.clone().supervise(
            channel,
            rec.clone(),
            resume,
            stop.clone(),
            offline.clone(),
        ));
        active.insert(
            channel_id,
            Running {
                stop,
                offline,
                task: Some(task),
            },
        );
    }

    /// Tells the channel's recorder that the channel is offline.
    pub(crate) fn mark_offline(&self, channel_id: &str) {
        if let Some(r) = self.active().get(channel_id) {
            r.offline.store(true, Ordering::SeqCst);
        }
    }

    async fn supervise(
        self,
        channel: Channel,
        rec: Recording,
        resume: Resume,
        stop: CancellationToken,
        offline: Arc<AtomicBool>,
    ) {
        let mut progress = RecordingProgress::of(&rec);
        let mut clock = MediaClock::default();
        // Whether the next recorder continues this recording's parts (a restart here also does).
        let mut resumed = matches!(resume, Resume::TakeOver { .. });
        if let Resume::TakeOver { live_seen } = resume {
            // The dead process's counters lag behind its files; the files are the truth.
            if let Some(truth) = self.recorded_truth(&rec).await {
                progress.bytes = truth.bytes;
                progress.media_ms = truth.media_ms;
                // Parts without an index (streamlink) count no segments: keep the counter.
                if truth.segments > 0 {
                    progress.segments = truth.segments;
                }
                clock = MediaClock::resumed(truth.recorded_until);
                self.save_progress(&rec, &channel, &progress).await;
            }
            clock.expect_hole(RESTARTED);
            if let Some(at) = live_seen {
                clock.live_at(at);
            }
        }
        // Viewers' playlists end when this returns, however it returns.
        let _watch = self.inner.watch.open(&channel.id, &channel.login, &rec.id);
        // Chat is captured across the recorder's restarts, until this returns.
        let chat = self.start_chat(&channel, &rec);
        // Without segment timestamps, the hole after a crash starts at the last heartbeat.
        let mut gap_since = (resumed && !clock.knows_time()).then_some(rec.heartbeat_at);
        let mut gap_reason = RESTARTED.to_string();
        let mut fruitless = 0u32;
        let mut restarted_here = false;
        let (status, reason, error) = loop {
            if stop.is_cancelled() {
                break (RecordingStatus::Ended, STOPPED_BY_USER.to_string(), None);
            }
            if self.inner.shutdown.is_cancelled() {
                return self.leave_open(&channel.id);
            }
            let playlist = match self
                .master_playlist(&channel.login, &codec_list(&channel.settings.codecs))
                .await
            {
                Ok(Some(playlist)) => playlist,
                Ok(None) => break (RecordingStatus::Ended, STREAM_ENDED.to_string(), None),
                Err(e) => {
                    fruitless += 1;
                    if fruitless > MAX_FRUITLESS_RESTARTS {
                        break (
                            RecordingStatus::Ended,
                            "gave up".into(),
                            Some(e.to_string()),
                        );
                    }
                    gap_since.get_or_insert_with(Timestamp::now);
                    gap_reason = format!("playlist unavailable: {e}");
                    clock.unreachable(gap_reason.clone());
                    // The loop's top sees a stop or shutdown that ended the wait.
                    self.backoff(fruitless, &stop).await;
                    continue;
                }
            };
            if let Some(since) = gap_since.take() {
                // With segment timestamps the clock measures the hole exactly once segments
                // come again; without, the wall clock of the restart is the best measure.
                if !clock.knows_time() {
                    let id = clock.take_open_gap().unwrap_or_else(new_id);
                    let ms = u64::try_from(Timestamp::now().millis() - since.millis());
                    self.store_gap(&rec, &channel, id, since, ms.unwrap_or(0), &gap_reason)
                        .await;
                }
                // A restart here is one more session (a resume after a crash was counted when
                // this process took the recording over).
                if std::mem::take(&mut restarted_here)
                    && let Err(e) = self
                        .inner
                        .store
                        .resume_recording(&rec.id, &self.inner.instance, Timestamp::now())
                        .await
                {
                    tracing::warn!(recording = %rec.id, error = %e, "could not count the restart");
                }
            }
            self.inner
                .events
                .emit(DomainEvent::RecordingStarted {
                    recording_id: rec.id.clone(),
                    channel_id: channel.id.clone(),
                    login: channel.login.clone(),
                    resumed,
                })
                .await;
            let before = progress.segments;
            let end = self
                .run_session(
                    &channel,
                    &rec,
                    source_of(playlist),
                    resumed,
                    Counters {
                        progress: &mut progress,
                        clock: &mut clock,
                    },
                    Signals {
                        stop: &stop,
                        offline: &offline,
                    },
                )
                .await;
            // ENDLIST is the end of this broadcast even if Helix lags behind; a recorder that
            // died is the end only when Helix says so.
            let end = match end {
                SessionEnd::Interrupted(why) => match self.still_live(&channel, &rec).await {
                    Some(false) => {
                        tracing::info!(channel = %channel.login, reason = %why, "recorder stopped and the stream is over");
                        SessionEnd::StreamEnded
                    }
                    live => {
                        if live == Some(true) {
                            clock.live_at(Timestamp::now());
                        }
                        SessionEnd::Interrupted(why)
                    }
                },
                other => other,
            };
            match end {
                SessionEnd::StreamEnded => {
                    break (RecordingStatus::Ended, STREAM_ENDED.to_string(), None);
                }
                SessionEnd::UserStop => {
                    break (RecordingStatus::Ended, STOPPED_BY_USER.to_string(), None);
                }
                SessionEnd::Shutdown | SessionEnd::LostOwnership => {
                    return self.leave_open(&channel.id);
                }
                // Restarting into a full disk only fails again: wait for room instead, so the
                // recording neither gives up nor counts the wait as failed restarts.
                SessionEnd::DiskFull(why) => {
                    if offline.load(Ordering::SeqCst) {
                        break (RecordingStatus::Ended, STREAM_ENDED.to_string(), None);
                    }
                    tracing::warn!(channel = %channel.login, reason = %why, "the library's disk is full; the recording waits for room");
                    gap_since = Some(Timestamp::now());
                    gap_reason = format!("disk full: {why}");
                    clock.expect_hole(gap_reason.clone());
                    // Stored now, so the recording shows it while the disk stays full; its length
                    // is measured when segments come again.
                    clock.hole_stored(self.open_gap(&rec, &gap_reason).await);
                    resumed = true;
                    restarted_here = true;
                    self.wait_for_room(&rec, &stop, &offline).await;
                }
                SessionEnd::Interrupted(why) => {
                    if offline.load(Ordering::SeqCst) {
                        break (RecordingStatus::Ended, STREAM_ENDED.to_string(), None);
                    }
                    fruitless = if progress.segments > before {
                        1
                    } else {
                        fruitless + 1
                    };
                    if fruitless > MAX_FRUITLESS_RESTARTS {
                        break (RecordingStatus::Ended, "gave up".into(), Some(why));
                    }
                    tracing::warn!(channel = %channel.login, reason = %why, "recorder stopped while live; restarting");
                    gap_since = Some(Timestamp::now());
                    gap_reason = format!("recorder restarted: {why}");
                    clock.expect_hole(gap_reason.clone());
                    resumed = true;
                    restarted_here = true;
                    self.backoff(fruitless, &stop).await;
                }
            }
        };
        // A broadcast that ended during an outage lost its last stretch.
        if reason == STREAM_ENDED
            && let Some(lost) = clock.ended(Timestamp::now())
        {
            self.store_lost(&rec, &channel, lost).await;
        }
        if let Some(chat) = chat {
            chat.finish().await;
        }
        self.close(&channel, &rec, &progress, status, &reason, error)
            .await;
    }

    /// Whether Helix still lists the recording's broadcast; `None` when it cannot be asked.
    async fn still_live(&self, channel: &Channel, rec: &Recording) -> Option<bool> {
        let twitch = self.twitch().ok()?;
        let live = twitch
            .helix
            .streams_by_user_id(std::slice::from_ref(&channel.twitch_id))
            .await
            .ok()?;
        let Some(current) = live.iter().find(|s| s.user_id == channel.twitch_id) else {
            return Some(false);
        };
        let ours = match &rec.stream_id {
            Some(id) => self.inner.store.stream(id).await.ok().flatten(),
            None => None,
        };
        Some(ours.is_none_or(|s| s.twitch_stream_id == current.id))
    }

    /// Waits until the recording's folder has room again (the free-space floor, at least
    /// [`ROOM_TO_RESTART`]), or until stopped, shut down or offline.
    async fn wait_for_room(&self, rec: &Recording, stop: &CancellationToken, offline: &AtomicBool) {
        let floor = (self.inner.live.current().disk.low_free_gb * 1_073_741_824.0) as u64;
        let needed = floor.max(ROOM_TO_RESTART);
        let dir = std::path::Path::new(&rec.dir);
        while !offline.load(Ordering::SeqCst)
            && crate::files::free_space(dir).is_ok_and(|free| free < needed)
        {
            tokio::select! {
                _ = tokio::time::sleep(ROOM_POLL) => {}
                _ = stop.cancelled() => return,
                _ = self.inner.shutdown.cancelled() => return,
            }
        }
    }

    /// Waits before a restart (1 s, 2 s, 4 s … 15 s), or until stopped.
    async fn backoff(&self, attempt: u32, stop: &CancellationToken) {
        let delay =
            Duration::from_millis(500 * 2u64.pow(attempt.min(5))).min(Duration::from_secs(15));
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.cancelled() => {}
            _ = self.inner.shutdown.cancelled() => {}
        }
    }

    /// The live stream's master playlist, with the account's token when one is stored (sent to
    /// GQL only: it removes ads for Turbo and subscribers).
    pub(crate) async fn master_playlist(
        &self,
        login: &str,
        codecs: &[String],
    ) -> StreamsResult<Option<MasterPlaylist>> {
        let twitch = self.twitch()?;
        let token = self.playback_token().await;
        let codecs: Vec<&str> = codecs.iter().map(String::as_str).collect();
        Ok(twitch
            .playback
            .master_playlist(login, token.as_deref(), &codecs)
            .await?)
    }

    async fn run_session(
        &self,
        channel: &Channel,
        rec: &Recording,
        source: Source,
        resumed: bool,
        counters: Counters<'_>,
        signals: Signals<'_>,
    ) -> SessionEnd {
        let Signals { stop, offline } = signals;
        let Counters { progress, clock } = counters;
        let mut request =
            RecordRequest::new(source.url, OutputPlan::new(&rec.dir, rec.stem.clone()));
        request.source_expires_at = source.expires_at;
        request.renewal = Some(Arc::new(PlaybackRenewal::new(self.clone(), channel)));
        request.playlist_client = self
            .inner
            .proxies
            .client_for(&channel.login, channel.settings.use_playlist_proxy);
        request.resume_after = clock.recorded_until();
        request.quality = channel
            .settings
            .quality
            .parse::<QualitySpec>()
            .unwrap_or_default();
        request.codecs = CodecAllowList::parse(&channel.settings.codecs);
        let recorder = if resumed {
            &self.inner.restart_recorder
        } else {
            &self.inner.recorder
        };
        let mut handle = recorder.start(request);
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut offline_deadline: Option<tokio::time::Instant> = None;
        let mut last_segment_ms = 2000u64;
        // No new segment for a while: with the channel offline, that is the end.
        let mut stalled = false;
        let end = loop {
            let grace = async {
                match offline_deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                event = handle.next_event() => {
                    let Some(event) = event else {
                        break SessionEnd::Interrupted("recorder ended without a reason".into());
                    };
                    self.inner.watch.observe(&rec.id, &event);
                    match event {
                        RecorderEvent::SegmentWritten { duration, bytes, program_date_time, .. } => {
                            last_segment_ms = progress.add_segment(duration, bytes);
                            self.measure_hole(rec, channel, clock, program_date_time, duration).await;
                        }
                        RecorderEvent::Gap { count, reason, .. } => {
                            progress.missed_segments += count;
                            let now = Timestamp::now();
                            let ms = count * last_segment_ms;
                            clock.account(ms);
                            self.store_gap(rec, channel, new_id(), now, ms, &format!("{count} segments lost: {reason}")).await;
                        }
                        // The content an ad replaced is not in the recording either: the hole
                        // before the next segment is a gap, which keeps chapters on media time.
                        RecorderEvent::AdBreak { .. } => clock.expect_hole("ad break left out"),
                        RecorderEvent::Stalled { failing, .. } => {
                            stalled = true;
                            if let Some(e) = failing {
                                clock.unreachable(format!("playlist unavailable: {e}"));
                            }
                            if offline.load(Ordering::SeqCst) {
                                handle.stop();
                                break SessionEnd::StreamEnded;
                            }
                        }
                        RecorderEvent::Resumed => stalled = false,
                        RecorderEvent::Ended { reason: EndReason::EndList, .. } => break SessionEnd::StreamEnded,
                        RecorderEvent::Ended { reason, .. } => break SessionEnd::Interrupted(reason.to_string()),
                        RecorderEvent::Failed { reason, .. } if is_disk_full(&reason) => {
                            self.inner.disk.report_full(std::path::Path::new(&rec.dir)).await;
                            break SessionEnd::DiskFull(reason.to_string());
                        }
                        RecorderEvent::Failed { reason, .. } => {
                            if reason.origin_unreachable() {
                                clock.unreachable(reason.to_string());
                            }
                            break SessionEnd::Interrupted(reason.to_string());
                        }
                        _ => {}
                    }
                }
                _ = tick.tick() => {
                    if !self.save_progress(rec, channel, progress).await {
                        handle.stop();
                        break SessionEnd::LostOwnership;
                    }
                    if offline.load(Ordering::SeqCst) {
                        if stalled {
                            handle.stop();
                            break SessionEnd::StreamEnded;
                        }
                        offline_deadline.get_or_insert_with(|| tokio::time::Instant::now() + OFFLINE_GRACE);
                    }
                }
                _ = grace => {
                    handle.stop();
                    break SessionEnd::StreamEnded;
                }
                _ = stop.cancelled() => {
                    handle.stop();
                    break SessionEnd::UserStop;
                }
                _ = self.inner.shutdown.cancelled() => {
                    handle.stop();
                    break SessionEnd::Shutdown;
                }
            }
        };
        // Count what was written while stopping.
        while let Some(event) = handle.next_event().await {
            self.inner.watch.observe(&rec.id, &event);
            if let RecorderEvent::SegmentWritten {
                duration,
                bytes,
                program_date_time,
                ..
            } = event
            {
                progress.add_segment(duration, bytes);
                self.measure_hole(rec, channel, clock, program_date_time, duration)
                    .await;
            }
        }
        let _ = self.save_progress(rec, channel, progress).await;
        end
    }

    /// Persists counters and the heartbeat; false when another process owns the recording.
    async fn save_progress(
        &self,
        rec: &Recording,
        channel: &Channel,
        progress: &RecordingProgress,
    ) -> bool {
        // Grouped with the other recordings' saves into one transaction (see `progress`).
        let owned = self.inner.progress.save(&rec.id, progress).await;
        self.inner
            .events
            .emit(DomainEvent::RecordingProgress {
                recording_id: rec.id.clone(),
                channel_id: channel.id.clone(),
                bytes: progress.bytes,
                media_ms: progress.media_ms,
                segments: progress.segments,
            })
            .await;
        // A database hiccup (the writer logs it) is not a reason to stop recording.
        owned.unwrap_or(true)
    }

    /// Stores the hole before a written segment, if the broadcast's clock shows one.
    async fn measure_hole(
        &self,
        rec: &Recording,
        channel: &Channel,
        clock: &mut MediaClock,
        program_date_time: Option<std::time::SystemTime>,
        seconds: f64,
    ) {
        if let Some(lost) = clock.segment(program_date_time, seconds) {
            self.store_lost(rec, channel, lost).await;
        }
    }

    /// Stores time the broadcast's clock shows as lost (completing its open gap, if any).
    async fn store_lost(&self, rec: &Recording, channel: &Channel, lost: Lost) {
        tracing::warn!(channel = %channel.login, recording = %rec.id, ms = lost.ms, reason = %lost.reason, "recording gap");
        let id = lost.open_gap.unwrap_or_else(new_id);
        self.store_gap(rec, channel, id, lost.at, lost.ms, &lost.reason)
            .await;
    }

    /// Stores a gap that is still open (its length unknown yet); returns its id.
    async fn open_gap(&self, rec: &Recording, reason: &str) -> String {
        let gap = RecordingGap {
            id: new_id(),
            recording_id: rec.id.clone(),
            at: Timestamp::now(),
            ms: 0,
            reason: reason.to_string(),
        };
        if let Err(e) = self.inner.store.insert_recording_gap(&gap).await {
            tracing::warn!(recording = %rec.id, error = %e, "could not store gap");
        }
        gap.id
    }

    /// Stores (or completes, for an open gap's id) a gap and tells the user.
    async fn store_gap(
        &self,
        rec: &Recording,
        channel: &Channel,
        id: String,
        at: Timestamp,
        ms: u64,
        reason: &str,
    ) {
        let gap = RecordingGap {
            id,
            recording_id: rec.id.clone(),
            at,
            ms,
            reason: reason.to_string(),
        };
        if let Err(e) = self.inner.store.insert_recording_gap(&gap).await {
            tracing::warn!(recording = %rec.id, error = %e, "could not store gap");
        }
        self.inner
            .events
            .emit(DomainEvent::RecordingGap {
                recording_id: rec.id.clone(),
                channel_id: channel.id.clone(),
                ms,
                reason: reason.to_string(),
            })
            .await;
    }

    fn leave_open(&self, channel_id: &str) {
        self.active().remove(channel_id);
    }

    /// Closes the recording; it then waits for finalize (or is failed when nothing was kept).
    async fn close(
        &self,
        channel: &Channel,
        rec: &Recording,
        progress: &RecordingProgress,
        mut status: RecordingStatus,
        reason: &str,
        mut error: Option<String>,
    ) {
        if progress.bytes == 0 {
            status = RecordingStatus::Failed;
            error.get_or_insert_with(|| "nothing was recorded".to_string());
        }
        let closed = self
            .inner
            .store
            .finish_recording(
                &rec.id,
                status,
                Some(reason),
                error.as_deref(),
                Timestamp::now(),
            )
            .await;
        self.leave_open(&channel.id);
        if let Err(e) = &closed {
            tracing::error!(recording = %rec.id, error = %e, "could not close recording; it is reconciled at the next start");
        }
        let event = match error {
            Some(error) => DomainEvent::RecordingFailed {
                recording_id: Some(rec.id.clone()),
                channel_id: channel.id.clone(),
                login: channel.login.clone(),
                error,
            },
            None => DomainEvent::RecordingStopped {
                recording_id: rec.id.clone(),
                channel_id: channel.id.clone(),
                login: channel.login.clone(),
                reason: reason.to_string(),
                bytes: progress.bytes,
                media_ms: progress.media_ms,
            },
        };
        self.inner.events.emit(event).await;
    }

    /// Stops this process's recorder of the channel and waits for it; false when none ran.
    pub(crate) async fn stop_channel_recorder(&self, channel_id: &str, why: &str) -> bool {
        let task = {
            match self.active().get_mut(channel_id) {
                Some(r) => {
                    r.stop.cancel();
                    r.task.take()
                }
                None => return false,
            }
        };
        tracing::info!(channel = %channel_id, reason = why, "stopping recorder");
        if let Some(task) = task {
            let _ = task.await;
        }
        true
    }

    /// At shutdown: waits for every recorder to stop writing (their rows stay open).
    pub(crate) async fn wait_for_recorders(&self) {
        let tasks: Vec<JoinHandle<()>> = {
            self.active()
                .values_mut()
                .filter_map(|r| r.task.take())
                .collect()
        };
        for task in tasks {
            let _ = task.await;
        }
    }
}
