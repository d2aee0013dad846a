//! One video for one (item, profile, slot): pick a candidate, download it, convert it, place
//! it, and record the outcome — the download record is updated whatever happens, so the next
//! run knows (backoff after failures).

pub mod politeness;
mod upgrade;
pub mod ytdlp;

use crate::events::DomainEvent;
use crate::time::Timestamp;
use crate::tools::{MediaFacts, ffprobe};
use crate::trailers::convert;
use crate::trailers::download::politeness::{HostPause, Slot as HostSlot, host_of};
use crate::trailers::download::ytdlp::{DownloadErrorKind, DownloadOptions};
use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::model::Profile;
use crate::trailers::model::{CandidateSource, DownloadRecord, DownloadStatus, MediaItem, Slot};
use crate::trailers::place;
use crate::trailers::plan::backoff;
use crate::trailers::search::score::Scored;
use crate::trailers::service::Trailers;
use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;

/// Accepted candidates tried before giving up on an item (the next ones are usually worse).
const CANDIDATES_TRIED: usize = 3;

/// Why one attempt ended without a trailer.
struct Failure {
    kind: &'static str,
    message: String,
    /// The host refused us and is paused until then: the item waits, it has not failed.
    paused_until: Option<Timestamp>,
}

/// The error kind of a season slot whose season has no folder on disk: the record is
/// `skipped` with that kind, and the scan lets it go again when the folder appears.
pub const NO_SEASON_FOLDER: &str = "no_season_folder";

impl Failure {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            paused_until: None,
        }
    }

    /// The host is paused (it refused this request or an earlier one).
    fn paused(kind: &'static str, message: impl Into<String>, until: Timestamp) -> Self {
        Self {
            paused_until: Some(until),
            ..Self::new(kind, message)
        }
    }
}

/// The kind name a pause carries (`bot_check`, `rate_limited`, `cookies_rejected`).
fn refusal_kind(kind: &str) -> &'static str {
    [
        DownloadErrorKind::BotCheck,
        DownloadErrorKind::RateLimited,
        DownloadErrorKind::CookiesRejected,
    ]
    .into_iter()
    .map(DownloadErrorKind::as_str)
    .find(|k| *k == kind)
    .unwrap_or("rate_limited")
}

/// What one fetch is after.
struct Want<'a> {
    slot: Slot,
    /// The user's pick, taken as it is.
    video_id: Option<&'a str>,
    /// Videos the profile's other slots of this title hold.
    taken: &'a [String],
    /// A quality upgrade: only a taller video than the placed one will do, and it goes
    /// over the placed file.
    upgrade: Option<&'a UpgradeFrom>,
}

/// The placed file an upgrade replaces.
struct UpgradeFrom {
    height: u32,
    /// Tapearr's file (checked deletable), renamed over in one step.
    file: crate::files::SafePath,
}

struct Placed {
    video_id: String,
    source: CandidateSource,
    path: PathBuf,
    bytes: u64,
    duration_ms: i64,
    height: Option<u32>,
}

/// Of an item's records, the videos the profile's other slots hold (never placed twice for
/// one title) and the slot's own record.
fn slot_records(
    records: Vec<DownloadRecord>,
    profile_id: &str,
    slot: Slot,
) -> (Vec<String>, Option<DownloadRecord>) {
    let taken = records
        .iter()
        .filter(|d| d.profile_id == profile_id && d.slot != slot && d.status.has_trailer())
        .filter_map(|d| d.video_id.clone())
        .collect();
    let own = records
        .into_iter()
        .find(|d| d.profile_id == profile_id && d.slot == slot);
    (taken, own)
}

impl Placed {
    /// The file's path inside the item's folder, as notes and reasons show it.
    fn relative_to(&self, item: &MediaItem) -> String {
        self.path
            .strip_prefix(&item.folder)
            .unwrap_or(&self.path)
            .display()
            .to_string()
    }
}

impl Trailers {
    /// Finds and places the video of `slot` for `item` under `profile` (or exactly `video_id`
    /// when the user picked one), replacing the slot's current file if there is one.
    pub async fn fetch_trailer(
        &self,
        item: &MediaItem,
        profile: &Profile,
        slot: Slot,
        video_id: Option<&str>,
        cancel: &CancellationToken,
    ) -> TrailerResult<DownloadRecord> {
        let _fetching = InFlight::claim(self, item, profile, slot)?;
        let records = self.store().media_downloads(&item.id).await?;
        let (taken, previous) = slot_records(records, &profile.id, slot);
        let attempts = previous.as_ref().map_or(0, |p| p.attempts) + 1;
        let work = self
            .work_dir()
            .join(format!("{}-{}-{slot}", item.id, profile.id));
        let want = Want {
            slot,
            video_id,
            taken: &taken,
            upgrade: None,
        };
        let outcome = self
            .attempt(item, profile, &want, previous.as_ref(), &work, cancel)
            .await;
        clean_work(&work).await;
        if outcome.is_err() && cancel.is_cancelled() {
            // Stopped by the run or by shutdown: not a failure of this item, nothing recorded.
            return Err(TrailerError::Cancelled);
        }
        let now = Timestamp::now();
        let record = match outcome {
            Ok(placed) => {
                let rel = placed.relative_to(item);
                let message = format!(
                    "{} {} {} placed as {rel}",
                    placed.source.as_str(),
                    slot.label().to_lowercase(),
                    placed.video_id
                );
                self.announce_placed(item, profile, &placed, "downloaded", &message)
                    .await;
                DownloadRecord {
                    media_id: item.id.clone(),
                    profile_id: profile.id.clone(),
                    slot,
                    status: DownloadStatus::Downloaded,
                    video_id: Some(placed.video_id),
                    source: Some(placed.source),
                    file_path: Some(placed.path.display().to_string()),
                    file_bytes: Some(i64::try_from(placed.bytes).unwrap_or(i64::MAX)),
                    duration_ms: Some(placed.duration_ms),
                    reason: Some(format!("downloaded {rel}")),
                    error_kind: None,
                    attempts: 0,
                    next_attempt_at: None,
                    updated_at: now,
                    height: placed.height.map(i64::from),
                    // Just searched: the next look for a taller video is an interval away.
                    upgrade_checked_at: Some(now),
                    // A replaced file keeps the count: upgrades stay bounded per slot.
                    upgrades: previous.as_ref().map_or(0, |p| p.upgrades),
                }
            }
            Err(f) if f.paused_until.is_some() => {
                // Refused by the site, not by this video: the item waits for the pause to end
                // (a trailer it has stays); it is not counted as a failure.
                self.note(item, Some(&profile.id), "waiting", &f.message)
                    .await;
                let base = previous
                    .filter(|p| p.status.has_trailer())
                    .unwrap_or_else(|| DownloadRecord {
                        media_id: item.id.clone(),
                        profile_id: profile.id.clone(),
                        slot,
                        status: DownloadStatus::Missing,
                        video_id: None,
                        source: None,
                        file_path: None,
                        file_bytes: None,
                        duration_ms: None,
                        reason: None,
                        error_kind: None,
                        attempts: 0,
                        next_attempt_at: None,
                        updated_at: now,
                        height: None,
                        upgrade_checked_at: None,
                        upgrades: 0,
                    });
                DownloadRecord {
                    reason: Some(f.message),
                    error_kind: Some(f.kind.to_string()),
                    next_attempt_at: f.paused_until,
                    updated_at: now,
                    ..base
                }
            }
            Err(f) if f.kind == NO_SEASON_FOLDER => {
                // Not a failure: nothing to place it in. Not retried until the scan sees
                // the season's folder.
                self.note(item, Some(&profile.id), "skipped", &f.message)
                    .await;
                DownloadRecord {
                    media_id: item.id.clone(),
                    profile_id: profile.id.clone(),
                    slot,
                    status: DownloadStatus::Skipped,
                    video_id: None,
                    source: None,
                    file_path: None,
                    file_bytes: None,
                    duration_ms: None,
                    reason: Some(f.message),
                    error_kind: Some(NO_SEASON_FOLDER.into()),
                    attempts: 0,
                    next_attempt_at: None,
                    updated_at: now,
                    height: None,
                    upgrade_checked_at: None,
                    upgrades: 0,
                }
            }
            Err(f) => {
                let status = if f.kind == "notfound" {
                    DownloadStatus::NotFound
                } else {
                    DownloadStatus::Failed
                };
                self.note(item, Some(&profile.id), "failed", &f.message)
                    .await;
                self.inner
                    .events
                    .emit(DomainEvent::TrailerFailed {
                        media_id: item.id.clone(),
                        title: item.title.clone(),
                        profile: profile.name.clone(),
                        kind: f.kind.to_string(),
                        reason: f.message.clone(),
                    })
                    .await;
                // A failed replace keeps the trailer that is there.
                let keep = previous.filter(|p| p.status.has_trailer());
                DownloadRecord {
                    media_id: item.id.clone(),
                    profile_id: profile.id.clone(),
                    slot,
                    status: keep.as_ref().map_or(status, |p| p.status),
                    video_id: keep.as_ref().and_then(|p| p.video_id.clone()),
                    source: keep.as_ref().and_then(|p| p.source),
                    file_path: keep.as_ref().and_then(|p| p.file_path.clone()),
                    file_bytes: keep.as_ref().and_then(|p| p.file_bytes),
                    duration_ms: keep.as_ref().and_then(|p| p.duration_ms),
                    reason: Some(f.message),
                    error_kind: Some(f.kind.to_string()),
                    attempts,
                    next_attempt_at: Some(now.plus(backoff(attempts))),
                    updated_at: now,
                    height: keep.as_ref().and_then(|p| p.height),
                    upgrade_checked_at: keep.as_ref().and_then(|p| p.upgrade_checked_at),
                    upgrades: keep.as_ref().map_or(0, |p| p.upgrades),
                }
            }
        };
        self.store().save_download(&record).await?;
        Ok(record)
    }

    async fn attempt(
        &self,
        item: &MediaItem,
        profile: &Profile,
        want: &Want<'_>,
        previous: Option<&DownloadRecord>,
        work: &Path,
        cancel: &CancellationToken,
    ) -> Result<Placed, Failure> {
        let roots = self.roots().ok_or_else(|| {
            Failure::new("disk", "no library roots are configured (library_roots)")
        })?;
        let folder = roots.resolve(&item.folder).map_err(|e| {
            Failure::new(
                "disk",
                format!("the media folder {} is not usable: {e}", item.folder),
            )
        })?;
        // A season's trailer goes in that season's folder, found before any search.
        let folder = match want.slot.season_number() {
            None => folder,
            Some(n) => match place::season_folder(&folder, u32::from(n)) {
                Ok(Some(season)) => season,
                Ok(None) => {
                    return Err(Failure::new(
                        NO_SEASON_FOLDER,
                        format!(
                            "no Season {n} folder in {} (Tapearr does not create one)",
                            item.folder
                        ),
                    ));
                }
                Err(e) => return Err(Failure::new("disk", e.to_string())),
            },
        };

        let picks: Vec<Scored> = match want.video_id {
            Some(id) => {
                let url = self
                    .video_url(id)
                    .map_err(|e| Failure::new("other", e.to_string()))?;
                vec![user_pick(id, url)]
            }
            None => match self
                .slot_candidates(item, profile, want.slot, want.taken, cancel)
                .await
            {
                Ok(found) => found,
                Err(e) => return Err(self.search_failure(e)),
            }
            .into_iter()
            .filter(|s| s.accepted)
            // An upgrade skips what the search already says is no taller.
            .filter(|s| {
                want.upgrade
                    .is_none_or(|u| s.candidate.height.is_none_or(|h| h > u.height))
            })
            .take(CANDIDATES_TRIED)
            .collect(),
        };
        if picks.is_empty() {
            return Err(Failure::new(
                "notfound",
                "no candidate passed the profile's filters",
            ));
        }
        tokio::fs::create_dir_all(work)
            .await
            .map_err(|e| Failure::new("disk", format!("cannot create the work folder: {e}")))?;
        let mut last = Failure::new("notfound", "no candidate could be downloaded");
        // A host that refused us is skipped; the others (Vimeo while YouTube is paused) go on.
        let mut paused: Option<(String, Failure)> = None;
        for pick in picks {
            let host = host_of(&pick.candidate.url);
            if paused.as_ref().is_some_and(|(h, _)| *h == host) {
                continue;
            }
            match self.download_one(profile, &pick, work, cancel).await {
                Ok((file, facts)) => {
                    if let Some(no) = no_taller(want, &pick, &facts) {
                        let _ = tokio::fs::remove_file(&file).await;
                        last = no;
                        continue;
                    }
                    return self
                        .convert_and_place(
                            item, profile, want, &pick, &file, &facts, &folder, previous, work,
                            cancel,
                        )
                        .await;
                }
                Err(f) => {
                    tracing::info!(title = %item.title, video = %pick.candidate.video_id, reason = %f.message, "candidate failed");
                    // The site refuses us (bot check, rate limit) or the network is down:
                    // other candidates would fail the same way.
                    if f.paused_until.is_some() {
                        paused.get_or_insert((host, f));
                        continue;
                    }
                    let stop = matches!(
                        f.kind,
                        "bot_check" | "rate_limited" | "network" | "cancelled"
                    );
                    last = f;
                    if stop {
                        break;
                    }
                }
            }
        }
        // Waiting for a paused host beats failing on the others' candidates.
        Err(paused.map_or(last, |(_, f)| f))
    }

    async fn download_one(
        &self,
        profile: &Profile,
        pick: &Scored,
        work: &Path,
        cancel: &CancellationToken,
    ) -> Result<(PathBuf, MediaFacts), Failure> {
        let c = &pick.candidate;
        let out = &profile.output;
        let host = host_of(&c.url);
        match self.inner.politeness.acquire(&host, cancel).await {
            HostSlot::Ready => {}
            HostSlot::Cancelled => {
                return Err(Failure::new("cancelled", "stopped before the download"));
            }
            HostSlot::Paused(p) => return Err(paused_failure(&p)),
        }
        let opts = DownloadOptions {
            max_height: out.max_height,
            container: out.container,
            subtitles: out.subtitles.then(|| {
                profile
                    .search
                    .language
                    .clone()
                    .unwrap_or_else(|| "en".into())
            }),
            extra_args: out.ytdlp_options.clone(),
        };
        let got = match self.yt_dlp().download(&c.url, work, &opts, cancel).await {
            Ok(got) => got,
            Err(e) if e.kind.refuses_host() => {
                let pause = self.host_refused(&host, e.kind.as_str(), &e.message).await;
                return Err(paused_failure(&pause));
            }
            Err(e) => return Err(Failure::new(e.kind.as_str(), e.message)),
        };
        self.host_worked(&host).await;
        // The duration window applies to what was really downloaded, except for a user's pick.
        let secs = got.probe.millis() / 1000;
        let rules = &profile.search;
        if c.source != CandidateSource::User
            && !(i64::from(rules.min_duration_s)..=i64::from(rules.max_duration_s)).contains(&secs)
        {
            let _ = tokio::fs::remove_file(&got.path).await;
            return Err(Failure::new(
                DownloadErrorKind::Invalid.as_str(),
                format!(
                    "{} is {secs} s long, outside the profile's {}–{} s",
                    c.video_id, rules.min_duration_s, rules.max_duration_s
                ),
            ));
        }
        Ok((got.path, got.probe))
    }

    #[allow(clippy::too_many_arguments)]
    async fn convert_and_place(
        &self,
        item: &MediaItem,
        profile: &Profile,
        want: &Want<'_>,
        pick: &Scored,
        file: &Path,
        facts: &MediaFacts,
        folder: &crate::files::SafePath,
        previous: Option<&DownloadRecord>,
        work: &Path,
        cancel: &CancellationToken,
    ) -> Result<Placed, Failure> {
        let out = &profile.output;
        let converted = work.join(format!("converted.{}", out.container.ext()));
        let ffmpeg = &self.config().tools.ffmpeg;
        convert::convert(ffmpeg, file, &converted, facts, out, cancel)
            .await
            .map_err(|e| Failure::new("convert", format!("conversion failed: {e}")))?;
        let program = &self.config().tools.ffprobe;
        let final_facts = ffprobe::probe(program, &converted, convert::PROBE_LIMIT, cancel)
            .await
            .map_err(|e| {
                Failure::new("convert", format!("the converted file is not valid: {e}"))
            })?;
        let video_id = pick.candidate.video_id.clone();
        if let Some(up) = want.upgrade {
            // Renamed over the old file (same name): a crash leaves one or the other.
            let (path, bytes) = place::place(&converted, &up.file)
                .await
                .map_err(|e| Failure::new("disk", e.to_string()))?;
            return Ok(Placed {
                video_id,
                source: pick.candidate.source,
                path,
                bytes,
                duration_ms: final_facts.millis(),
                height: final_facts.height,
            });
        }
        let slot = want.slot;
        let name = place::slot_file_name(item, out, slot, &video_id, final_facts.height)
            .map_err(|e| Failure::new("disk", e.to_string()))?;
        // Only a file Tapearr may delete is replaced; anything else (the item's own media
        // file taken for a trailer) stays, and the new trailer gets a name of its own.
        let replacing = match previous {
            Some(p) => match self.deletable_file(item, p).await {
                Ok(safe) => safe.map(|s| s.as_path().to_path_buf()),
                Err(e) => {
                    tracing::warn!(title = %item.title, error = %e, "the previous file is not replaced");
                    None
                }
            },
            None => None,
        };
        let dest = place::slot_destination(folder, out, slot, &name, replacing.as_deref())
            .map_err(|e| Failure::new("disk", e.to_string()))?;
        let (path, bytes) = place::place(&converted, &dest)
            .await
            .map_err(|e| Failure::new("disk", e.to_string()))?;
        if let Some(old) = replacing.filter(|old| *old != path)
            && let Some(roots) = self.roots()
            && let Ok(old) = roots.resolve(&old.display().to_string())
            && !same_file(old.as_path(), &path).await
            && let Err(e) = crate::files::remove_file(&old).await
        {
            tracing::warn!(error = %e, "cannot remove the replaced trailer");
        }
        Ok(Placed {
            video_id,
            source: pick.candidate.source,
            path,
            bytes,
            duration_ms: final_facts.millis(),
            height: final_facts.height,
        })
    }

    /// What follows every placement (a first download or an upgrade): the item's history
    /// note, the `TrailerDownloaded` event and a rescan request to the media servers.
    async fn announce_placed(
        &self,
        item: &MediaItem,
        profile: &Profile,
        placed: &Placed,
        kind: &str,
        message: &str,
    ) {
        self.note(item, Some(&profile.id), kind, message).await;
        self.inner
            .events
            .emit(DomainEvent::TrailerDownloaded {
                media_id: item.id.clone(),
                title: item.title.clone(),
                profile: profile.name.clone(),
                path: placed.path.display().to_string(),
            })
            .await;
        if let Err(e) = self.inner.media_servers.request_refresh(&item.folder).await {
            tracing::warn!(error = %e, "cannot ask media servers to rescan");
        }
    }

    /// Adds a line to the item's history (a failure to write it is only logged).
    pub(super) async fn note(
        &self,
        item: &MediaItem,
        profile: Option<&str>,
        kind: &str,
        msg: &str,
    ) {
        if let Err(e) = self
            .store()
            .add_media_event(&item.id, profile, kind, msg, Timestamp::now())
            .await
        {
            tracing::warn!(error = %e, "cannot record the item's history");
        }
    }
}

/// Removes one fetch's work folder (a failure is only logged; start-up purges the rest).
async fn clean_work(work: &Path) {
    if let Err(e) = tokio::fs::remove_dir_all(work).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(error = %e, dir = %work.display(), "cannot clean the trailer work folder");
    }
}

/// For an upgrade, why a downloaded video does not replace the placed one: it is no taller.
fn no_taller(want: &Want<'_>, pick: &Scored, facts: &MediaFacts) -> Option<Failure> {
    let up = want.upgrade?;
    let height = facts.height.unwrap_or(0);
    (height <= up.height).then(|| {
        Failure::new(
            NO_TALLER,
            format!(
                "{} is {height}p, not taller than the placed {}p",
                pick.candidate.video_id, up.height
            ),
        )
    })
}

/// The failure kind of an upgrade that found nothing taller (not an error).
const NO_TALLER: &str = "no_taller";

/// An item that waits for a paused host.
fn paused_failure(p: &HostPause) -> Failure {
    Failure::paused(
        refusal_kind(&p.kind),
        format!(
            "waiting: {} is paused until {} ({})",
            p.host,
            p.until.to_rfc3339(),
            p.reason
        ),
        p.until,
    )
}

impl Trailers {
    /// A failed candidate search: a wait when its host is paused, else a network failure.
    fn search_failure(&self, e: TrailerError) -> Failure {
        let host = host_of(&self.config().trailers.search_target);
        match self.inner.politeness.paused(&host, Timestamp::now()) {
            Some(p) => paused_failure(&p),
            None => Failure::new("network", format!("search failed: {e}")),
        }
    }
}

/// The user's own choice: no filters, no score.
fn user_pick(video_id: &str, url: String) -> Scored {
    Scored {
        candidate: crate::trailers::search::score::Candidate::from_id(
            video_id,
            CandidateSource::User,
            url,
        ),
        score: 0,
        accepted: true,
        reasons: vec!["picked by the user".into()],
    }
}

/// Marks one (media, profile, slot) as being fetched until dropped.
struct InFlight<'a> {
    trailers: &'a Trailers,
    key: (String, String, Slot),
}

impl<'a> InFlight<'a> {
    fn claim(
        trailers: &'a Trailers,
        item: &MediaItem,
        profile: &Profile,
        slot: Slot,
    ) -> TrailerResult<Self> {
        let key = (item.id.clone(), profile.id.clone(), slot);
        let mut set = trailers
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if !set.insert(key.clone()) {
            return Err(TrailerError::Conflict(format!(
                "the {} for `{}` ({}) is being fetched already",
                slot.label().to_lowercase(),
                item.title,
                profile.name
            )));
        }
        Ok(Self { trailers, key })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.trailers
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

/// Both paths name one file (the new trailer was renamed over the old one under another
/// spelling, e.g. through a symlinked folder): then the old one must not be removed.
pub(super) async fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (tokio::fs::metadata(a).await, tokio::fs::metadata(b).await) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}
