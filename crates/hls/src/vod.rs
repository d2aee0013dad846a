//! Past broadcasts (VODs): a finished media playlist (`#EXT-X-ENDLIST`) downloaded segment by
//! segment, several at once, into numbered files, then joined into one TS part.
//!
//! # Resuming
//! A segment is done only once its whole body is written to `NNNNNN.ts.tmp`, its length checked
//! and the file renamed to `NNNNNN.ts`; a run that finds `NNNNNN.ts` does not download it again.
//! The join writes `output` through a temporary file and a rename, then removes the segment
//! folder; a run that finds `output` downloads nothing. So a process killed at any point loses
//! at most the segments it was downloading.
//!
//! # Tokens
//! The playlist URL carries a playback token that expires; a 403 asks the [`SourceRenewal`] for
//! a new URL once. Segments are unsigned (Twitch serves them from its CDN).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::fetch::{FetchError, Fetcher, RetryPolicy};
use crate::playlist::{MediaPlaylist, Playlist};
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
    /// The joined TS file.
    pub output: PathBuf,
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
}

#[derive(Debug, thiserror::Error)]
pub enum VodError {
    #[error("the playlist could not be read: {0}")]
    Playlist(String),
    #[error("the video is still being broadcast (its playlist has no end)")]
    NotFinished,
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
    number: u64,
    url: String,
    file: PathBuf,
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
    let fetcher = Fetcher::new(client.clone(), Vec::new(), options.max_segment_bytes);
    let (base, playlist, variant) = fetch_playlist(&fetcher, options, &request, cancel).await?;
    if !playlist.end_list {
        return Err(VodError::NotFinished);
    }
    let mut summary = summarize(&playlist);
    summary.variant = variant;
    if request.output.is_file() {
        summary.reused = summary.segments;
        summary.bytes = std::fs::metadata(&request.output)?.len();
        return Ok(summary);
    }
    tokio::fs::create_dir_all(&request.work_dir).await?;
    remove_temporaries(&request.work_dir)?;
    let mut plan = Vec::with_capacity(playlist.segments.len());
    for seg in &playlist.segments {
        let url = base
            .join(&seg.uri)
            .map_err(|e| VodError::Playlist(format!("segment URI: {e}")))?;
        plan.push(Planned {
            number: seg.sequence,
            url: url.into(),
            file: request.work_dir.join(format!("{:06}.ts", seg.sequence)),
        });
    }
    let total = plan.len() as u64;
    let files: Vec<PathBuf> = plan.iter().map(|p| p.file.clone()).collect();
    let done = AtomicU64::new(0);
    let (downloaded, retries) = (AtomicU64::new(0), AtomicU64::new(0));
    let (done, downloaded, retries) = (&done, &downloaded, &retries);
    let fetcher = &fetcher;
    let results = futures_util::stream::iter(plan)
        .map(move |p: Planned| async move {
            if !is_done(&p.file) {
                let n = fetch_segment(fetcher, options, &p, cancel).await?;
                downloaded.fetch_add(1, Ordering::Relaxed);
                retries.fetch_add(n, Ordering::Relaxed);
            }
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            Ok::<(), VodError>(())
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    for r in results {
        r?;
    }
    summary.downloaded = downloaded.load(Ordering::Relaxed);
    summary.reused = summary.segments - summary.downloaded;
    summary.retries = retries.load(Ordering::Relaxed);
    let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    summary.bytes = join(&files, &request.output).await?;
    tokio::fs::remove_dir_all(&request.work_dir).await?;
    Ok(summary)
}

/// Durations and muted spans from the playlist (segment names `N-muted.ts`).
fn summarize(playlist: &MediaPlaylist) -> VodSummary {
    let mut summary = VodSummary {
        segments: playlist.segments.len() as u64,
        ..VodSummary::default()
    };
    for seg in &playlist.segments {
        let ms = (seg.duration * 1000.0).round() as u64;
        let name = seg.uri.split('?').next().unwrap_or_default();
        if name.ends_with("-muted.ts") {
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

/// Downloads one segment into its file (temporary, length checked, renamed). Returns retries.
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
    let temp = p.file.with_extension("ts.tmp");
    let mut file = tokio::fs::File::create(&temp).await?;
    file.write_all(&fetched.body).await?;
    file.sync_data().await?;
    drop(file);
    let written = tokio::fs::metadata(&temp).await?.len();
    if written != fetched.body.len() as u64 || written == 0 {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(VodError::Segment {
            number: p.number,
            error: FetchError::Truncated {
                got: written,
                expected: fetched.body.len() as u64,
            },
        });
    }
    tokio::fs::rename(&temp, &p.file).await?;
    Ok(u64::from(fetched.retries))
}

/// Appends `files` into `output` (through a temporary file and a rename); returns its length.
async fn join(files: &[&Path], output: &Path) -> Result<u64, VodError> {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = output.with_file_name(format!(".{name}.tmp"));
    let mut out = tokio::fs::File::create(&temp).await?;
    let mut bytes = 0;
    for f in files {
        let mut src = tokio::fs::File::open(f).await?;
        bytes += tokio::io::copy(&mut src, &mut out).await?;
    }
    out.sync_all().await?;
    drop(out);
    tokio::fs::rename(&temp, output).await?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

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
