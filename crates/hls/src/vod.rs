//! Past broadcasts (VODs): a finished media playlist (`#EXT-X-ENDLIST`) downloaded segment by
//! segment, several at once, into numbered files, which are joined in order into one part
//! while the download goes on: `.ts` for TS segments, `.mp4` for fMP4 ones (`EXT-X-MAP`, as
//! Twitch serves HEVC/AV1 renditions), whose init section is downloaded once and becomes the
//! part's first bytes. A playlist whose init section changes midway, or with byte ranges, is
//! refused ([`VodError::Unsupported`]) rather than joined into a broken file.
//!
//! # Resuming
//! A segment is done only once its whole body is written to `NNNNNN.ts.tmp` (the fetcher
//! checks it against the announced `Content-Length`) and the file renamed to `NNNNNN.ts`; a run
//! that finds `NNNNNN.ts` does not download it again. The join appends each finished segment,
//! in playlist order, to `output`'s temporary file and removes the segment's file once that is
//! synced and recorded in `join.progress` ([`join`]): a run resumes the join where the record
//! says, and does not download the segments it holds. The complete temporary is renamed to
//! `output` and the segment folder removed; a run that finds `output` downloads nothing. So a
//! process killed at any point loses at most the segments it was downloading, and the disk
//! holds each byte once (peak: the VOD plus the segments waiting for the join).
//!
//! # Tokens
//! The playlist URL carries a playback token that expires; a 403 asks the [`SourceRenewal`] for
//! a new URL once. Segments are unsigned (Twitch serves them from its CDN).

pub mod join;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::fetch::{FetchError, Fetcher, RetryPolicy};
use crate::playlist::{InitMap, MediaPlaylist, Playlist};
use crate::quality::{CodecAllowList, QualitySpec, choose_variant};
use crate::renew::{Source, SourceRenewal};

/// Tuning of a VOD download.
#[derive(Debug, Clone)]
pub struct VodOptions {
    /// Segments downloaded at once.
    pub concurrency: usize,
    pub segment_retry: RetryPolicy,
    pub playlist_retry: RetryPolicy,
    /// Largest accepted segment (memory per download is about `concurrency` times this).
    pub max_segment_bytes: u64,
    /// Most segments the join appends with one set of syncs when it is behind the downloads
    /// (the disk then holds up to about this many segments beyond the VOD).
    pub join_batch: usize,
}

impl Default for VodOptions {
    fn default() -> Self {
        Self {
            concurrency: 6,
            segment_retry: RetryPolicy {
                attempts: 5,
                timeout: std::time::Duration::from_secs(30),
                backoff: std::time::Duration::from_millis(250),
                max_backoff: std::time::Duration::from_secs(4),
            },
            playlist_retry: RetryPolicy {
                attempts: 3,
                timeout: std::time::Duration::from_secs(15),
                backoff: std::time::Duration::from_millis(250),
                max_backoff: std::time::Duration::from_secs(2),
            },
            max_segment_bytes: 64 * 1024 * 1024,
            join_batch: 16,
        }
    }
}

/// One VOD to download.
pub struct VodRequest {
    /// The master playlist (a variant is chosen by `quality` and `codecs`) or a media playlist.
    pub source: Source,
    pub quality: QualitySpec,
    pub codecs: CodecAllowList,
    /// Asked once for a new playlist URL when the playlist answers 403 (expired token).
    pub renewal: Option<Arc<dyn SourceRenewal>>,
    /// Where finished segments wait for the join (kept across restarts).
    pub work_dir: PathBuf,
    /// The joined file without its extension: the engine adds `.ts` or `.mp4` by the
    /// playlist's media ([`VodSummary::output`]).
    pub output_stem: PathBuf,
}

/// Where muted audio is, on the VOD's media timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MutedSpan {
    pub start_ms: u64,
    pub ms: u64,
}

/// What a finished download holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VodSummary {
    pub segments: u64,
    /// Segments fetched by this run (the others were done by an earlier one).
    pub downloaded: u64,
    pub reused: u64,
    pub bytes: u64,
    pub media_ms: u64,
    /// Muted segments (`N-muted.ts`), joined where they touch: kept, not failures.
    pub muted: Vec<MutedSpan>,
    pub retries: u64,
    /// The quality name of the chosen variant (`None` when the source was a media playlist).
    pub variant: Option<String>,
    /// The joined file.
    pub output: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum VodError {
    #[error("the playlist could not be read: {0}")]
    Playlist(String),
    #[error("the video is still being broadcast (its playlist has no end)")]
    NotFinished,
    #[error("the video's playlist is not supported: {0}")]
    Unsupported(String),
    #[error("segment {number} failed: {error}")]
    Segment { number: u64, error: FetchError },
    #[error("the playback URL could not be renewed: {0}")]
    Renewal(String),
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

struct Planned {
    index: usize,
    number: u64,
    url: String,
    file: PathBuf,
}

/// What a download reports as it goes (called from the download's own task).
pub trait VodProgress: Send + Sync {
    /// A segment is on disk or already joined (by this run or an earlier one): `done` of `total`.
    fn downloaded(&self, done: u64, total: u64);
    /// The first `joined` segments are in the output's temporary file and their files removed.
    fn joined(&self, _joined: u64, _total: u64) {}
}

/// `progress(done, total)` of [`download_vod`].
struct Downloaded<'a>(&'a (dyn Fn(u64, u64) + Send + Sync));

impl VodProgress for Downloaded<'_> {
    fn downloaded(&self, done: u64, total: u64) {
        (self.0)(done, total);
    }
}

/// Downloads the VOD (resuming what an earlier run finished) and joins it into
/// `request.output`. `progress(done, total)` is called as segments finish.
pub async fn download_vod(
    client: &reqwest::Client,
    options: &VodOptions,
    request: VodRequest,
    cancel: &CancellationToken,
    progress: &(dyn Fn(u64, u64) + Send + Sync),
) -> Result<VodSummary, VodError> {
    download_vod_with(client, options, request, cancel, &Downloaded(progress)).await
}

/// [`download_vod`], reporting the join's progress too.
pub async fn download_vod_with(
    client: &reqwest::Client,
    options: &VodOptions,
    request: VodRequest,
    cancel: &CancellationToken,
    progress: &dyn VodProgress,
) -> Result<VodSummary, VodError> {
    let fetcher = Fetcher::new(client.clone(), Vec::new(), options.max_segment_bytes);
    let (base, playlist, variant) = fetch_playlist(&fetcher, options, &request, cancel).await?;
    if !playlist.end_list {
        return Err(VodError::NotFinished);
    }
    let init = init_map(&playlist)?;
    let (container, fragment) = if init.is_some() {
        ("mp4", "m4s")
    } else {
        ("ts", "ts")
    };
    let mut summary = summarize(&playlist);
    summary.variant = variant;
    summary.output = with_ext(&request.output_stem, container);
    // An earlier run joined it (either kind: the playlist is the same VOD's).
    let joined = [container, "ts", "mp4"]
        .into_iter()
        .map(|ext| with_ext(&request.output_stem, ext))
        .find(|p| p.is_file());
    if let Some(output) = joined {
        summary.reused = summary.segments;
        summary.bytes = std::fs::metadata(&output)?.len();
        summary.output = output;
        // A kill between the rename and the folder's removal left it behind.
        if request.work_dir.is_dir() {
            tokio::fs::remove_dir_all(&request.work_dir).await?;
        }
        return Ok(summary);
    }
    tokio::fs::create_dir_all(&request.work_dir).await?;
    remove_temporaries(&request.work_dir)?;
    let header = match &init {
        Some(map) => {
            Some(fetch_init(&fetcher, options, &base, map, &request.work_dir, cancel).await?)
        }
        None => None,
    };
    let mut plan = Vec::with_capacity(playlist.segments.len());
    for (index, seg) in playlist.segments.iter().enumerate() {
        let url = base
            .join(&seg.uri)
            .map_err(|e| VodError::Playlist(format!("segment URI: {e}")))?;
        plan.push(Planned {
            index,
            number: seg.sequence,
            url: url.into(),
            file: request
                .work_dir
                .join(format!("{:06}.{fragment}", seg.sequence)),
        });
    }
    let total = plan.len() as u64;
    let pieces = plan
        .iter()
        .map(|p| join::Piece {
            number: p.number,
            file: p.file.clone(),
        })
        .collect();
    let (work_dir, output) = (request.work_dir.clone(), summary.output.clone());
    let joiner =
        tokio::task::spawn_blocking(move || join::Joiner::open(pieces, header, &work_dir, &output))
            .await
            .map_err(io::Error::other)??;
    let appended = joiner.appended();
    let (ready_tx, ready_rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
    let done = AtomicU64::new(0);
    let (downloaded, retries) = (AtomicU64::new(0), AtomicU64::new(0));
    let (done, downloaded, retries) = (&done, &downloaded, &retries);
    let fetcher = &fetcher;
    // The downloads stop when the join fails (a full disk): nothing could be joined anyway.
    let stop = &cancel.child_token();
    let downloads = async move {
        let ready_tx = &ready_tx;
        let results = futures_util::stream::iter(plan)
            .map(move |p: Planned| async move {
                if p.index >= appended && !is_done(&p.file) {
                    if stop.is_cancelled() {
                        return Err(VodError::Cancelled);
                    }
                    let n = fetch_segment(fetcher, options, &p, stop).await?;
                    downloaded.fetch_add(1, Ordering::Relaxed);
                    retries.fetch_add(n, Ordering::Relaxed);
                }
                if p.index >= appended {
                    let _ = ready_tx.send(p.index);
                }
                progress.downloaded(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                Ok::<(), VodError>(())
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        // Dropping the sender here ends the join once it has appended what is ready.
        results.into_iter().collect::<Result<Vec<()>, _>>()
    };
    let joining = async {
        let joined = join_in_order(
            joiner,
            ready_rx,
            (total, options.join_batch),
            cancel,
            progress,
        )
        .await;
        if joined.is_err() {
            stop.cancel();
        }
        joined
    };
    let (downloads, joined) = tokio::join!(downloads, joining);
    let joiner = joined?;
    downloads?;
    if !joiner.is_complete() {
        return Err(VodError::Cancelled);
    }
    summary.downloaded = downloaded.load(Ordering::Relaxed);
    summary.reused = summary.segments - summary.downloaded;
    summary.retries = retries.load(Ordering::Relaxed);
    summary.bytes = tokio::task::spawn_blocking(move || joiner.finish())
        .await
        .map_err(io::Error::other)??;
    Ok(summary)
}

/// Appends segments in playlist order as they become ready, all those ready (up to `batch`)
/// in one step on the blocking pool, where it runs to its end even if this future is dropped:
/// the record stays consistent. Ends when the downloads end (the channel closes) or on
/// `cancel`, between two steps.
async fn join_in_order(
    mut joiner: join::Joiner,
    mut ready_rx: tokio::sync::mpsc::UnboundedReceiver<usize>,
    (total, batch): (u64, usize),
    cancel: &CancellationToken,
    progress: &dyn VodProgress,
) -> Result<join::Joiner, VodError> {
    let mut ready = vec![false; total as usize];
    while let Some(index) = ready_rx.recv().await {
        if let Some(r) = ready.get_mut(index) {
            *r = true;
        }
        // Whatever else arrived meanwhile joins this step.
        while let Ok(index) = ready_rx.try_recv() {
            if let Some(r) = ready.get_mut(index) {
                *r = true;
            }
        }
        loop {
            let from = joiner.appended();
            let count = ready
                .iter()
                .skip(from)
                .take(batch.max(1))
                .take_while(|r| **r)
                .count();
            if count == 0 || cancel.is_cancelled() {
                break;
            }
            joiner =
                tokio::task::spawn_blocking(move || joiner.append_next(count).map(|()| joiner))
                    .await
                    .map_err(io::Error::other)??;
            progress.joined(joiner.appended() as u64, total);
        }
        if cancel.is_cancelled() {
            break;
        }
    }
    Ok(joiner)
}

/// The init section every segment shares (`None` for TS media). Refuses what would join into
/// a broken file: an init section that changes (or appears) midway, and byte ranges.
fn init_map(playlist: &MediaPlaylist) -> Result<Option<InitMap>, VodError> {
    let unsupported = |why: &str| Err(VodError::Unsupported(why.to_owned()));
    let first = playlist.segments.first().and_then(|s| s.map.clone());
    for seg in &playlist.segments {
        if seg.byte_range.is_some() {
            return unsupported("segments given as byte ranges");
        }
        if seg.map != first {
            return unsupported("the init section (EXT-X-MAP) changes midway");
        }
    }
    if first.as_ref().is_some_and(|m| m.byte_range.is_some()) {
        return unsupported("an init section (EXT-X-MAP) given as a byte range");
    }
    Ok(first)
}

/// `stem.ext` (the stem may hold dots: `name.part0001`).
fn with_ext(stem: &Path, ext: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

/// Durations and muted spans from the playlist (segment names `N-muted.ts`, `N-muted.mp4`).
fn summarize(playlist: &MediaPlaylist) -> VodSummary {
    let mut summary = VodSummary {
        segments: playlist.segments.len() as u64,
        ..VodSummary::default()
    };
    for seg in &playlist.segments {
        let ms = (seg.duration * 1000.0).round() as u64;
        let name = seg.uri.split('?').next().unwrap_or_default();
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        if stem.ends_with("-muted") {
            match summary.muted.last_mut() {
                Some(last) if last.start_ms + last.ms == summary.media_ms => last.ms += ms,
                _ => summary.muted.push(MutedSpan {
                    start_ms: summary.media_ms,
                    ms,
                }),
            }
        }
        summary.media_ms += ms;
    }
    summary
}

async fn fetch_playlist(
    fetcher: &Fetcher,
    options: &VodOptions,
    request: &VodRequest,
    cancel: &CancellationToken,
) -> Result<(Url, MediaPlaylist, Option<String>), VodError> {
    let mut source = request.source.url.clone();
    let mut renewed = false;
    loop {
        match resolve(fetcher, options, request, &source, cancel).await {
            Err(VodError::Segment {
                error: FetchError::Status(403),
                ..
            }) if !renewed && request.renewal.is_some() => {
                renewed = true;
                let renewal = request.renewal.as_ref().ok_or(VodError::Cancelled)?;
                source = renewal.renew().await.map_err(VodError::Renewal)?.url;
            }
            Err(VodError::Segment { error, .. }) => {
                return Err(VodError::Playlist(error.to_string()));
            }
            other => return other,
        }
    }
}

/// The media playlist of `source` (through the chosen variant when it is a master). A refused
/// fetch comes back as `Segment` so the caller can tell a 403 apart.
async fn resolve(
    fetcher: &Fetcher,
    options: &VodOptions,
    request: &VodRequest,
    source: &str,
    cancel: &CancellationToken,
) -> Result<(Url, MediaPlaylist, Option<String>), VodError> {
    let fetch_text = |url: Url| async move {
        match fetcher
            .fetch(url.as_str(), None, options.playlist_retry, cancel)
            .await
        {
            Ok(f) => Ok(String::from_utf8_lossy(&f.body).into_owned()),
            Err((FetchError::Cancelled, _)) => Err(VodError::Cancelled),
            Err((error, _)) => Err(VodError::Segment { number: 0, error }),
        }
    };
    let bad = |e: String| VodError::Playlist(e);
    let url = Url::parse(source).map_err(|e| bad(e.to_string()))?;
    match Playlist::parse(&fetch_text(url.clone()).await?).map_err(|e| bad(e.to_string()))? {
        Playlist::Media(media) => Ok((url, media, None)),
        Playlist::Master(master) => {
            let variant = choose_variant(&master.variants, &request.quality, &request.codecs)
                .ok_or_else(|| bad("no variant matches the quality and codecs".into()))?;
            let media_url = url.join(&variant.uri).map_err(|e| bad(e.to_string()))?;
            let text = fetch_text(media_url.clone()).await?;
            let media = MediaPlaylist::parse(&text).map_err(|e| bad(e.to_string()))?;
            Ok((media_url, media, Some(variant.quality_name())))
        }
    }
}

fn is_done(file: &Path) -> bool {
    std::fs::metadata(file).is_ok_and(|m| m.is_file() && m.len() > 0)
}

/// Leftovers of downloads a killed process did not finish.
fn remove_temporaries(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "tmp") {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// The init section in `work_dir/init.mp4` (downloaded unless an earlier run did: it stays
/// until the join finishes, so a resumed join that has not appended it yet still finds it).
async fn fetch_init(
    fetcher: &Fetcher,
    options: &VodOptions,
    base: &Url,
    map: &InitMap,
    work_dir: &Path,
    cancel: &CancellationToken,
) -> Result<PathBuf, VodError> {
    let file = work_dir.join("init.mp4");
    if is_done(&file) {
        return Ok(file);
    }
    let url = base
        .join(&map.uri)
        .map_err(|e| VodError::Playlist(format!("init section URI: {e}")))?;
    let p = Planned {
        index: 0,
        number: 0,
        url: url.into(),
        file,
    };
    fetch_segment(fetcher, options, &p, cancel).await?;
    Ok(p.file)
}

/// Downloads one segment into its file (temporary, synced, renamed). Returns retries.
///
/// The body is whole when it gets here: the fetcher fails a body shorter than its
/// `Content-Length` (and hyper one cut inside its length or chunked framing), and retries it.
async fn fetch_segment(
    fetcher: &Fetcher,
    options: &VodOptions,
    p: &Planned,
    cancel: &CancellationToken,
) -> Result<u64, VodError> {
    let fetched = fetcher
        .fetch(&p.url, None, options.segment_retry, cancel)
        .await
        .map_err(|(error, _)| match error {
            FetchError::Cancelled => VodError::Cancelled,
            error => VodError::Segment {
                number: p.number,
                error,
            },
        })?;
    let mut temp = p.file.clone().into_os_string();
    temp.push(".tmp");
    let temp = PathBuf::from(temp);
    let mut file = tokio::fs::File::create(&temp).await?;
    file.write_all(&fetched.body).await?;
    file.sync_data().await?;
    drop(file);
    tokio::fs::rename(&temp, &p.file).await?;
    Ok(u64::from(fetched.retries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> MediaPlaylist {
        let text = format!("#EXTM3U\n#EXT-X-TARGETDURATION:2\n{body}#EXT-X-ENDLIST\n");
        MediaPlaylist::parse(&text).expect("playlist")
    }

    #[test]
    fn one_init_section_is_joined_and_anything_else_refused() {
        let one = parse(
            "#EXT-X-MAP:URI=\"init-0.mp4\"\n#EXTINF:2.0,\n0.mp4\n#EXTINF:2.0,\n1-muted.mp4\n",
        );
        assert_eq!(
            init_map(&one).expect("one map").map(|m| m.uri),
            Some("init-0.mp4".to_owned())
        );
        assert_eq!(summarize(&one).muted.len(), 1);
        assert!(
            init_map(&parse("#EXTINF:2.0,\n0.ts\n"))
                .expect("ts")
                .is_none()
        );
        for refused in [
            "#EXT-X-MAP:URI=\"a.mp4\"\n#EXTINF:2.0,\n0.mp4\n#EXT-X-MAP:URI=\"b.mp4\"\n#EXTINF:2.0,\n1.mp4\n",
            "#EXTINF:2.0,\n0.ts\n#EXT-X-MAP:URI=\"b.mp4\"\n#EXTINF:2.0,\n1.mp4\n",
            "#EXT-X-MAP:URI=\"a.mp4\",BYTERANGE=\"700@0\"\n#EXTINF:2.0,\n0.mp4\n",
            "#EXTINF:2.0,\n#EXT-X-BYTERANGE:1000@0\nall.ts\n",
        ] {
            assert!(
                matches!(init_map(&parse(refused)), Err(VodError::Unsupported(_))),
                "{refused}"
            );
        }
    }

    #[test]
    fn muted_segments_that_touch_make_one_span() {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n\
                    #EXTINF:2.000,\n0.ts\n#EXTINF:2.000,\n1-muted.ts\n#EXTINF:2.000,\n2-muted.ts\n\
                    #EXTINF:1.500,\n3.ts\n#EXTINF:2.000,\n4-muted.ts\n#EXT-X-ENDLIST\n";
        let pl = MediaPlaylist::parse(text).expect("playlist");
        let s = summarize(&pl);
        assert_eq!(s.segments, 5);
        assert_eq!(s.media_ms, 9_500);
        assert_eq!(
            s.muted,
            vec![
                MutedSpan {
                    start_ms: 2_000,
                    ms: 4_000
                },
                MutedSpan {
                    start_ms: 7_500,
                    ms: 2_000
                }
            ]
        );
    }
}
