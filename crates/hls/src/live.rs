//! The live loop of one native recording: reload the media playlist, account for every media
//! sequence number (written, missed or ad), fetch segments with bounded concurrency and write
//! them in order.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::fetch::{FetchError, Fetched, Fetcher, RetryPolicy};
use crate::native::LiveOptions;
use crate::playlist::{ByteRange, MediaPlaylist, Playlist, Variant};
use crate::quality::choose_variant;
use crate::recorder::{
    EndReason, EventSink, FailReason, GapReason, RecordRequest, RecorderEvent, RecordingFailure,
    RecordingOutcome, RecordingStats,
};
use crate::renew::{Source, renew_at, same_variant};
use crate::writer::{Container, PartWriter};

/// A resolved resource: absolute URL plus optional byte range.
type Resource = (String, Option<ByteRange>);

/// One segment to download and write.
struct Job {
    sequence: u64,
    duration: f64,
    program_date_time: Option<SystemTime>,
    segment: Resource,
    map: Option<Resource>,
}

/// An ad break being accumulated.
struct OpenAd {
    started_at: SystemTime,
    seconds: f64,
    segments: u64,
}

pub(crate) struct LiveRecording {
    opts: LiveOptions,
    request: RecordRequest,
    fetcher: Fetcher,
    /// Playlists go through this one (a proxy) when set; segments always use `fetcher`.
    playlist_fetcher: Option<Fetcher>,
    /// Shared by every recording of the recorder: bounds segment downloads at once.
    downloads: Arc<Semaphore>,
    sink: EventSink,
    stop: CancellationToken,
    stats: RecordingStats,
    writer: Option<PartWriter>,
    /// Init section currently written at the start of parts.
    current_map: Option<Resource>,
    /// Next sequence number not yet accounted for.
    next_sequence: Option<u64>,
    /// First sequence number of the previous playlist, to recognise resets.
    prev_first: Option<u64>,
    /// The latest program date-time accounted for: a playlist whose sequence numbers went back
    /// while its content is newer than this was restarted, not replayed.
    seen_until: Option<SystemTime>,
    ad: Option<OpenAd>,
    last_new_segment: Instant,
    stalled: bool,
    /// The variant chosen from the master playlist (a renewed source continues it).
    variant: Option<Variant>,
    /// When the source URL should be renewed (it expires soon after).
    renew_at: Option<SystemTime>,
    /// After a failed renewal, the next attempt waits until then.
    renew_retry_at: Option<Instant>,
}

/// Wait after a failed renewal before trying again (the old URL may still work meanwhile).
const RENEW_RETRY: Duration = Duration::from_secs(5);

impl LiveRecording {
    pub fn new(
        client: reqwest::Client,
        opts: LiveOptions,
        downloads: Arc<Semaphore>,
        request: RecordRequest,
        sink: EventSink,
        stop: CancellationToken,
    ) -> Self {
        let fetcher = Fetcher::new(client, request.headers.clone(), opts.max_segment_bytes);
        let playlist_fetcher = request
            .playlist_client
            .clone()
            .map(|c| Fetcher::new(c, request.headers.clone(), opts.max_segment_bytes));
        Self {
            opts,
            request,
            fetcher,
            playlist_fetcher,
            downloads,
            sink,
            stop,
            stats: RecordingStats {
                segments_counted: true,
                ..RecordingStats::default()
            },
            writer: None,
            current_map: None,
            next_sequence: None,
            prev_first: None,
            seen_until: None,
            ad: None,
            last_new_segment: Instant::now(),
            stalled: false,
            variant: None,
            renew_at: None,
            renew_retry_at: None,
        }
    }

    pub async fn run(mut self) -> RecordingOutcome {
        let obtained = SystemTime::now();
        let (mut media_url, first) = match self.resolve().await {
            Ok(r) => r,
            Err(reason) => return self.fail(reason).await,
        };
        self.renew_at = self
            .request
            .source_expires_at
            .map(|e| renew_at(obtained, e, self.opts.renew_ahead));
        let mut queue: VecDeque<Job> = VecDeque::new();
        let mut in_flight = FuturesOrdered::new();
        let mut end: Option<EndReason> = None;
        let mut target = Duration::from_secs_f64(first.target_duration.clamp(0.5, 30.0));
        let mut next_reload = Instant::now() + target;
        self.ingest(&media_url, &first, &mut queue, &mut end);
        loop {
            while in_flight.len() < self.opts.concurrency.max(1) {
                let Some(job) = queue.pop_front() else { break };
                in_flight.push_back(fetch_job(
                    self.fetcher.clone(),
                    self.downloads.clone(),
                    job,
                    self.opts.segment_retry,
                    self.stop.clone(),
                ));
            }
            if end.is_some() && queue.is_empty() && in_flight.is_empty() {
                break;
            }
            tokio::select! {
                biased;
                _ = self.stop.cancelled() => {
                    end = Some(EndReason::Stopped);
                    break;
                }
                Some((job, result)) = in_flight.next(), if !in_flight.is_empty() => {
                    if let Err(reason) = self.write(job, result).await {
                        return self.fail(reason).await;
                    }
                }
                _ = tokio::time::sleep_until(next_reload), if end.is_none() => {
                    let (new, td) = self.reload(&mut media_url, &mut queue, &mut end).await;
                    if let Some(td) = td {
                        target = td;
                    }
                    // RFC 8216 §6.3.4: wait a target duration after a change, half of it otherwise.
                    next_reload = Instant::now() + if new { target } else { target / 2 };
                }
            }
        }
        self.close_ad();
        if let Some(w) = self.writer.as_mut()
            && let Err(e) = w.finish().await
        {
            return self.fail(FailReason::Output(e.to_string())).await;
        }
        let reason = end.unwrap_or(EndReason::Stopped);
        self.fill_output_stats();
        self.sink.emit(RecorderEvent::Ended {
            reason,
            stats: self.stats.clone(),
        });
        Ok(self.stats)
    }

    /// Loads the source; for a master playlist picks the variant and loads its media playlist.
    async fn resolve(&mut self) -> Result<(Url, MediaPlaylist), FailReason> {
        let url =
            Url::parse(&self.request.source).map_err(|e| FailReason::BadUrl(e.to_string()))?;
        let text = self
            .fetch_text(&url)
            .await
            .map_err(FailReason::SourceUnavailable)?;
        match Playlist::parse(&text).map_err(FailReason::InvalidPlaylist)? {
            Playlist::Media(media) => {
                self.sink.emit(RecorderEvent::Started {
                    playlist_url: url.to_string(),
                    variant: None,
                    codecs: Vec::new(),
                });
                Ok((url, media))
            }
            Playlist::Master(master) => {
                let variant = choose_variant(
                    &master.variants,
                    &self.request.quality,
                    &self.request.codecs,
                )
                .ok_or_else(|| FailReason::NoMatchingVariant {
                    available: master.variants.iter().map(|v| v.quality_name()).collect(),
                })?;
                let media_url = url
                    .join(&variant.uri)
                    .map_err(|e| FailReason::BadUrl(e.to_string()))?;
                self.variant = Some(variant.clone());
                let text = self
                    .fetch_text(&media_url)
                    .await
                    .map_err(FailReason::SourceUnavailable)?;
                let media = MediaPlaylist::parse(&text).map_err(FailReason::InvalidPlaylist)?;
                self.sink.emit(RecorderEvent::Started {
                    playlist_url: media_url.to_string(),
                    variant: Some(variant.quality_name()),
                    codecs: variant.codecs.clone(),
                });
                Ok((media_url, media))
            }
        }
    }

    /// Fetches a playlist: through the playlist proxy when there is one (one attempt), else
    /// or when that fails directly. A proxy that failed is left for the rest of the session.
    async fn fetch_text(&mut self, url: &Url) -> Result<String, FetchError> {
        if let Some(proxied) = &self.playlist_fetcher {
            let once = RetryPolicy {
                attempts: 1,
                ..self.opts.playlist_retry
            };
            match proxied.fetch(url.as_str(), None, once, &self.stop).await {
                Ok(Fetched { body, .. }) => return Ok(String::from_utf8_lossy(&body).into_owned()),
                Err((e, _)) if !proxy_failure(&e) => return Err(e),
                Err((e, _)) => {
                    tracing::warn!(error = %e, "playlist proxy failed; fetching playlists directly");
                    self.playlist_fetcher = None;
                    self.sink.emit(RecorderEvent::ProxyAbandoned);
                }
            }
        }
        match self
            .fetcher
            .fetch(url.as_str(), None, self.opts.playlist_retry, &self.stop)
            .await
        {
            Ok(Fetched { body, retries }) => {
                self.stats.retries += u64::from(retries);
                Ok(String::from_utf8_lossy(&body).into_owned())
            }
            Err((e, retries)) => {
                self.stats.retries += u64::from(retries);
                Err(e)
            }
        }
    }

    /// Reloads the playlist; returns whether new segments arrived and the new target duration.
    /// Renews the source first when it is about to expire, and at once when the playlist
    /// answers 403 (the token expired early): the same variant goes on from the new URL.
    async fn reload(
        &mut self,
        media_url: &mut Url,
        queue: &mut VecDeque<Job>,
        end: &mut Option<EndReason>,
    ) -> (bool, Option<Duration>) {
        if self.renewal_due() {
            self.renew_into(media_url).await;
        }
        let mut fetched = self.fetch_text(media_url).await;
        if matches!(fetched, Err(FetchError::Status(403)))
            && self.request.renewal.is_some()
            && self.renew_retry_at.is_none_or(|t| Instant::now() >= t)
            && self.renew_into(media_url).await
        {
            fetched = self.fetch_text(media_url).await;
        }
        let media_url = &*media_url;
        // An origin that fails (5xx, timeouts, refused connections) is unreachable while the
        // broadcast may go on; a playlist that is gone (404) or unreadable is not that.
        let failing = match &fetched {
            Err(e) if e.origin_unreachable() => Some(e.to_string()),
            _ => None,
        };
        let parsed = match fetched {
            Ok(text) => MediaPlaylist::parse(&text).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let (new, target) = match parsed {
            Ok(pl) => {
                let target = Duration::from_secs_f64(pl.target_duration.clamp(0.5, 30.0));
                (self.ingest(media_url, &pl, queue, end), Some(target))
            }
            Err(e) => {
                tracing::debug!(error = %e, "playlist reload failed");
                (false, None)
            }
        };
        if !new && end.is_none() {
            let quiet = self.last_new_segment.elapsed();
            let stall_after = self
                .opts
                .stall_after
                .unwrap_or(target.unwrap_or(Duration::from_secs(2)) * 3);
            if quiet >= stall_after && !self.stalled {
                self.stalled = true;
                self.stats.stalls += 1;
                self.sink.emit(RecorderEvent::Stalled {
                    for_: quiet,
                    failing,
                });
            }
            if quiet >= self.opts.no_segment_timeout {
                *end = Some(EndReason::NoNewSegments(quiet));
            }
        }
        (new, target)
    }

    fn renewal_due(&self) -> bool {
        self.request.renewal.is_some()
            && self.renew_at.is_some_and(|t| SystemTime::now() >= t)
            && self.renew_retry_at.is_none_or(|t| Instant::now() >= t)
    }

    /// Asks for a fresh source and switches `media_url` to the same variant in it; `false`
    /// (old URL kept, retried after [`RENEW_RETRY`]) when that fails.
    async fn renew_into(&mut self, media_url: &mut Url) -> bool {
        let Some(renewal) = self.request.renewal.clone() else {
            return false;
        };
        let renewed = tokio::select! {
            r = renewal.renew() => r,
            _ = self.stop.cancelled() => return false,
        };
        let opened = match renewed {
            Ok(source) => self.open_renewed(source).await,
            Err(e) => Err(e),
        };
        match opened {
            Ok(url) => {
                *media_url = url;
                self.renew_retry_at = None;
                self.stats.source_renewals += 1;
                self.sink.emit(RecorderEvent::SourceRenewed);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "renewing the playlist URL failed; retrying soon");
                self.renew_retry_at = Some(Instant::now() + RENEW_RETRY);
                false
            }
        }
    }

    /// The media playlist URL of a renewed source: for a master playlist, the variant that
    /// continues the current one (within the codec allow-list), else a fresh choice.
    async fn open_renewed(&mut self, source: Source) -> Result<Url, String> {
        let obtained = SystemTime::now();
        let url = Url::parse(&source.url).map_err(|e| e.to_string())?;
        let text = self.fetch_text(&url).await.map_err(|e| e.to_string())?;
        let media_url = match Playlist::parse(&text).map_err(|e| e.to_string())? {
            Playlist::Media(_) => url,
            Playlist::Master(master) => {
                let allowed: Vec<Variant> = master
                    .variants
                    .iter()
                    .filter(|v| self.request.codecs.allows(v))
                    .cloned()
                    .collect();
                let variant = self
                    .variant
                    .as_ref()
                    .and_then(|current| same_variant(&allowed, current))
                    .or_else(|| {
                        choose_variant(&allowed, &self.request.quality, &self.request.codecs)
                    })
                    .ok_or("the renewed master playlist has no matching variant")?
                    .clone();
                let media_url = url.join(&variant.uri).map_err(|e| e.to_string())?;
                self.variant = Some(variant);
                media_url
            }
        };
        self.renew_at = source
            .expires_at
            .map(|e| renew_at(obtained, e, self.opts.renew_ahead));
        Ok(media_url)
    }

    /// Accounts for every sequence number of `pl` and queues the new content segments.
    fn ingest(
        &mut self,
        media_url: &Url,
        pl: &MediaPlaylist,
        queue: &mut VecDeque<Job>,
        end: &mut Option<EndReason>,
    ) -> bool {
        if pl.end_list {
            *end = Some(EndReason::EndList);
        }
        let (Some(first), Some(last)) = (pl.segments.first(), pl.segments.last()) else {
            return false;
        };
        let (first_seq, last_seq) = (first.sequence, last.sequence);
        let newer_content = match (last.program_date_time, self.seen_until) {
            (Some(newest), Some(seen)) => newest > seen,
            _ => false,
        };
        let next = match (self.next_sequence, self.prev_first) {
            // First playlist: start near the live edge (from the start for a finished playlist);
            // a resumed recording starts right after what it already holds, if still listed.
            (None, _) => {
                let skip = if pl.end_list {
                    0
                } else {
                    pl.segments.len().saturating_sub(self.opts.live_edge.max(1))
                };
                let after_resume = self.request.resume_after.and_then(|_| {
                    pl.segments.iter().position(|s| {
                        s.program_date_time.is_some() && !self.already_recorded(s.program_date_time)
                    })
                });
                pl.segments[after_resume.map_or(skip, |i| i.min(skip))].sequence
            }
            // Sequence numbers went back: the encoder or the edge restarted. Recognised when the
            // whole window is below the previous one, or when it is below what was accounted
            // for while its program date-times are newer (a restart seen after an outage, with
            // the new numbering already past the old window's start).
            (Some(next), Some(prev_first))
                if last_seq < prev_first || (last_seq + 1 < next && newer_content) =>
            {
                self.stats.playlist_resets += 1;
                self.sink.emit(RecorderEvent::PlaylistReset {
                    from: next.saturating_sub(1),
                    to: first_seq,
                });
                first_seq
            }
            (Some(next), _) => next,
        };
        self.prev_first = Some(first_seq);
        let next = if first_seq > next {
            let count = first_seq - next;
            self.stats.segments_missed += count;
            self.sink.emit(RecorderEvent::Gap {
                first_sequence: next,
                count,
                reason: GapReason::FellOffPlaylist,
            });
            first_seq
        } else {
            next
        };
        let mut new = false;
        for seg in pl.segments.iter().filter(|s| s.sequence >= next) {
            new = true;
            if let Some(t) = seg.program_date_time {
                self.seen_until = Some(self.seen_until.map_or(t, |seen| seen.max(t)));
            }
            if self.already_recorded(seg.program_date_time) {
                self.stats.segments_already_recorded += 1;
                continue;
            }
            if pl.is_ad(seg) {
                self.stats.ad_segments += 1;
                self.stats.ad_seconds += seg.duration;
                let ad = self.ad.get_or_insert_with(|| OpenAd {
                    started_at: seg.program_date_time.unwrap_or_else(SystemTime::now),
                    seconds: 0.0,
                    segments: 0,
                });
                ad.seconds += seg.duration;
                ad.segments += 1;
                continue;
            }
            self.close_ad();
            let resolve = |uri: &str| {
                media_url
                    .join(uri)
                    .map(String::from)
                    .unwrap_or_else(|_| uri.to_owned())
            };
            queue.push_back(Job {
                sequence: seg.sequence,
                duration: seg.duration,
                program_date_time: seg.program_date_time,
                segment: (resolve(&seg.uri), seg.byte_range),
                map: seg.map.as_ref().map(|m| (resolve(&m.uri), m.byte_range)),
            });
        }
        self.next_sequence = Some(last_seq.max(next.saturating_sub(1)) + 1);
        if new {
            self.last_new_segment = Instant::now();
            if std::mem::take(&mut self.stalled) {
                self.sink.emit(RecorderEvent::Resumed);
            }
        }
        new
    }

    /// A resumed recording holds content that started before `resume_after` (half a second of
    /// slack for clocks rounded to milliseconds).
    fn already_recorded(&self, program_date_time: Option<SystemTime>) -> bool {
        match (self.request.resume_after, program_date_time) {
            (Some(after), Some(t)) => t + Duration::from_millis(500) < after,
            _ => false,
        }
    }

    fn close_ad(&mut self) {
        if let Some(ad) = self.ad.take() {
            self.stats.ad_breaks += 1;
            self.sink.emit(RecorderEvent::AdBreak {
                started_at: ad.started_at,
                duration: Duration::from_secs_f64(ad.seconds.max(0.0)),
                segments: ad.segments,
            });
        }
    }

    /// Writes a fetched segment (or accounts for a failed one).
    async fn write(
        &mut self,
        job: Job,
        result: Result<Fetched, (FetchError, u32)>,
    ) -> Result<(), FailReason> {
        let fetched = match result {
            Ok(f) => f,
            Err((FetchError::Cancelled, _)) => return Ok(()),
            Err((e, retries)) => {
                self.stats.retries += u64::from(retries);
                self.record_miss(job.sequence, e);
                return Ok(());
            }
        };
        self.stats.retries += u64::from(fetched.retries);
        let container = if job.map.is_some() {
            Container::Fmp4
        } else {
            Container::Ts
        };
        let writer = self
            .writer
            .get_or_insert_with(|| PartWriter::new(self.request.output.clone(), container));
        if let Some(map) = &job.map
            && self.current_map.as_ref() != Some(map)
        {
            match self
                .fetcher
                .fetch(&map.0, map.1, self.opts.segment_retry, &self.stop)
                .await
            {
                Ok(init) => {
                    writer.set_init(init.body);
                    self.current_map = Some(map.clone());
                }
                Err((FetchError::Cancelled, _)) => return Ok(()),
                Err((e, _)) => {
                    // Fragments without their init section are unplayable: count as missed.
                    self.record_miss(job.sequence, e);
                    return Ok(());
                }
            }
        }
        let bytes = fetched.body.len() as u64;
        let appended = writer
            .write_segment(fetched.body, job.duration, job.program_date_time)
            .await
            .map_err(|e| FailReason::Output(e.to_string()))?;
        let part = writer.parts().len() as u32;
        if let Some(p) = appended.opened {
            self.sink.emit(RecorderEvent::PartRotated {
                index: p.index,
                path: p.path,
            });
        }
        self.stats.segments_written += 1;
        self.stats.media_seconds += job.duration;
        self.sink.emit(RecorderEvent::SegmentWritten {
            sequence: job.sequence,
            duration: job.duration,
            bytes,
            part,
            location: Some(appended.location),
            program_date_time: job.program_date_time,
        });
        Ok(())
    }

    fn record_miss(&mut self, sequence: u64, error: FetchError) {
        tracing::warn!(sequence, error = %error, "segment missed");
        self.stats.segments_missed += 1;
        self.sink.emit(RecorderEvent::Gap {
            first_sequence: sequence,
            count: 1,
            reason: GapReason::FetchFailed(error),
        });
    }

    fn fill_output_stats(&mut self) {
        if let Some(w) = &self.writer {
            self.stats.bytes = w.total_bytes();
            self.stats.parts = w.parts().to_vec();
        }
    }

    async fn fail(mut self, reason: FailReason) -> RecordingOutcome {
        if let Some(w) = self.writer.as_mut() {
            let _ = w.finish().await;
        }
        self.fill_output_stats();
        self.sink.emit(RecorderEvent::Failed {
            reason: reason.clone(),
            stats: self.stats.clone(),
        });
        Err(Box::new(RecordingFailure {
            reason,
            stats: self.stats,
        }))
    }
}

/// Errors that say the proxy (not the playlist's server) failed: the direct request may work.
/// 403/404 and other client errors are the server's answer and are not retried directly.
fn proxy_failure(e: &FetchError) -> bool {
    match e {
        FetchError::Status(s) => *s >= 500,
        FetchError::Cancelled | FetchError::TooLarge(_) => false,
        FetchError::Timeout | FetchError::Network(_) | FetchError::Truncated { .. } => true,
    }
}

async fn fetch_job(
    fetcher: Fetcher,
    downloads: Arc<Semaphore>,
    job: Job,
    policy: crate::fetch::RetryPolicy,
    stop: CancellationToken,
) -> (Job, Result<Fetched, (FetchError, u32)>) {
    // Closed never happens (the recorder owns the semaphore); without a permit, go anyway.
    let _permit = downloads.acquire_owned().await.ok();
    let result = fetcher
        .fetch(&job.segment.0, job.segment.1, policy, &stop)
        .await;
    (job, result)
}
