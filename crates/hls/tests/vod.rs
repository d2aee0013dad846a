//! The VOD downloader against the fake Twitch: the VOD playback token, usher's VOD master,
//! segments in parallel with a 503, a cut body and muted segments, an expired token renewed,
//! a download stopped halfway that resumes without fetching finished segments again, and a
//! join stopped (and torn) halfway that resumes into the same bytes, and an fMP4 VOD (init
//! section first) stopped halfway and resumed into an MP4 that ffprobe reads whole.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tapearr_hls::vod::join::{JoinProgress, temp_path};
use tapearr_hls::vod::{
    MutedSpan, VodOptions, VodProgress, VodRequest, download_vod, download_vod_with,
};
use tapearr_hls::{Source, SourceRenewal};
use tapearr_integrations::twitch::PlaybackClient;
use tapearr_testkit::hls_origin::{Container, HlsOrigin, MediaParams};
use tapearr_testkit::twitch::{FakeTwitch, VideoSpec};
use tokio_util::sync::CancellationToken;
use url::Url;

async fn twitch() -> FakeTwitch {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let origin = Arc::new(HlsOrigin::start().await.expect("origin"));
    let twitch = FakeTwitch::start(origin).await.expect("fake twitch");
    twitch.add_user("archivist", "Archivist");
    twitch
}

#[derive(Debug, Clone)]
struct VodToken {
    client: PlaybackClient,
    vod: String,
}

impl VodToken {
    fn new(t: &FakeTwitch, vod: &str) -> Self {
        let url = |u: String| Url::parse(&u).expect("url");
        Self {
            client: PlaybackClient::new(
                reqwest::Client::new(),
                url(t.gql_url()),
                url(t.usher_url()),
            ),
            vod: vod.to_owned(),
        }
    }

    async fn source(&self) -> Result<Source, String> {
        match self.client.vod_master_playlist(&self.vod, None).await {
            Ok(Some(p)) => Ok(Source {
                url: p.url,
                expires_at: p.expires_at,
            }),
            Ok(None) => Err("no such VOD".into()),
            Err(e) => Err(e.to_string()),
        }
    }
}

impl SourceRenewal for VodToken {
    fn renew(&self) -> BoxFuture<'static, Result<Source, String>> {
        let this = self.clone();
        Box::pin(async move { this.source().await })
    }
}

fn options() -> VodOptions {
    let defaults = VodOptions::default();
    VodOptions {
        concurrency: 4,
        segment_retry: tapearr_hls::RetryPolicy {
            backoff: Duration::from_millis(20),
            ..defaults.segment_retry
        },
        ..defaults
    }
}

async fn request(t: &FakeTwitch, vod: &str, dir: &std::path::Path) -> VodRequest {
    let token = VodToken::new(t, vod);
    VodRequest {
        source: token.source().await.expect("source"),
        quality: "best".parse().expect("quality"),
        codecs: tapearr_hls::quality::CodecAllowList::parse("h264"),
        renewal: Some(Arc::new(token)),
        work_dir: dir.join("segments"),
        output_stem: dir.join("vod.part0001"),
    }
}

#[tokio::test]
async fn segments_arrive_whole_despite_503s_and_cut_bodies_and_muted_ones_are_kept() {
    let t = twitch().await;
    let vod = t
        .add_video(
            "archivist",
            VideoSpec::archive("Yesterday", Duration::from_secs(3600), 12).muted(&[4, 5]),
        )
        .await
        .expect("video");
    t.fail_vod_segment_once(&vod, 2);
    t.cut_vod_segment_once(&vod, 7);
    let dir = tempfile::tempdir().expect("dir");
    let summary = download_vod(
        &reqwest::Client::new(),
        &options(),
        request(&t, &vod, dir.path()).await,
        &CancellationToken::new(),
        &|_, _| {},
    )
    .await
    .expect("download");
    assert_eq!((summary.segments, summary.downloaded), (12, 12));
    assert_eq!(summary.retries, 2, "{summary:?}");
    assert_eq!(summary.media_ms, 12_000);
    assert_eq!(
        summary.muted,
        vec![MutedSpan {
            start_ms: 4_000,
            ms: 2_000
        }]
    );
    let requests = t.vod_segment_requests(&vod);
    assert_eq!(requests[2], 2);
    assert_eq!(requests[7], 2);
    assert_eq!(requests.iter().sum::<u64>(), 14, "{requests:?}");
    let out = std::fs::metadata(dir.path().join("vod.part0001.ts")).expect("joined");
    assert_eq!(out.len(), summary.bytes);
    assert!(
        !dir.path().join("segments").exists(),
        "segments removed after the join"
    );
}

#[tokio::test]
async fn an_expired_token_is_renewed_once() {
    let t = twitch().await;
    let vod = t
        .add_video(
            "archivist",
            VideoSpec::archive("Old", Duration::from_secs(60), 3),
        )
        .await
        .expect("video");
    let dir = tempfile::tempdir().expect("dir");
    t.set_playback_token_ttl(Duration::ZERO);
    let req = request(&t, &vod, dir.path()).await;
    t.set_playback_token_ttl(Duration::from_secs(1200));
    let summary = download_vod(
        &reqwest::Client::new(),
        &options(),
        req,
        &CancellationToken::new(),
        &|_, _| {},
    )
    .await
    .expect("download after renewal");
    assert_eq!(summary.segments, 3);
    assert!(t.playback_stats().expired_refusals >= 1);
}

/// The download's progress as a test sees it: the downloaded count to await, a cancel after
/// the n-th joined segment, and whether the segment folder ever held a joined segment.
struct Observer {
    downloaded: tokio::sync::watch::Sender<u64>,
    work_dir: PathBuf,
    cancel_after_join: Option<(u64, CancellationToken)>,
    joined_left_in_folder: Mutex<Vec<String>>,
}

impl Observer {
    fn new(work_dir: &Path) -> Self {
        Self {
            downloaded: tokio::sync::watch::Sender::new(0),
            work_dir: work_dir.to_owned(),
            cancel_after_join: None,
            joined_left_in_folder: Mutex::new(Vec::new()),
        }
    }

    fn left_behind(&self) -> Vec<String> {
        self.joined_left_in_folder.lock().expect("lock").clone()
    }
}

/// The segment numbers whose files are in `dir`.
fn segment_files(dir: &Path) -> Vec<u64> {
    let mut numbers: Vec<u64> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_suffix(".ts")?.parse().ok()
                })
                .collect()
        })
        .unwrap_or_default();
    numbers.sort_unstable();
    numbers
}

impl VodProgress for Observer {
    fn downloaded(&self, done: u64, _total: u64) {
        self.downloaded.send_replace(done);
    }

    fn joined(&self, joined: u64, _total: u64) {
        let record = JoinProgress::read(&self.work_dir).expect("record");
        let next = record.map_or(0, |r| r.next_segment);
        let files = segment_files(&self.work_dir);
        self.joined_left_in_folder.lock().expect("lock").extend(
            files
                .iter()
                .filter(|n| **n < next)
                .map(|n| format!("segment {n} after {joined} joined")),
        );
        if let Some((at, cancel)) = &self.cancel_after_join
            && joined == *at
        {
            cancel.cancel();
        }
    }
}

/// The VOD downloaded in one go into a fresh folder.
async fn reference_bytes(t: &FakeTwitch, vod: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("dir");
    download_vod(
        &reqwest::Client::new(),
        &options(),
        request(t, vod, dir.path()).await,
        &CancellationToken::new(),
        &|_, _| {},
    )
    .await
    .expect("reference download");
    std::fs::read(dir.path().join("vod.part0001.ts")).expect("reference")
}

#[tokio::test]
async fn a_stopped_download_resumes_without_fetching_finished_segments_again() {
    let t = twitch().await;
    let vod = t
        .add_video(
            "archivist",
            VideoSpec::archive("Long", Duration::from_secs(60), 16),
        )
        .await
        .expect("video");
    t.hold_vod_segment(&vod, 9);
    let dir = tempfile::tempdir().expect("dir");
    let segments = dir.path().join("segments");
    let stop = CancellationToken::new();
    let req = request(&t, &vod, dir.path()).await;
    let observer = Arc::new(Observer::new(&segments));
    let mut downloaded = observer.downloaded.subscribe();
    let first = {
        let (stop, observer) = (stop.clone(), observer.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            download_vod_with(&client, &options(), req, &stop, &*observer).await
        })
    };
    // Every other segment done (the held one is in flight): then the process "dies".
    tokio::time::timeout(Duration::from_secs(20), downloaded.wait_for(|n| *n == 15))
        .await
        .expect("15 segments done in time")
        .expect("progress");
    stop.cancel();
    assert!(first.await.expect("join").is_err(), "stopped, not finished");
    // The join went at most up to the held segment; what it holds is gone from the folder.
    let record = JoinProgress::read(&segments).expect("record");
    let next = record.map_or(0, |r| r.next_segment);
    assert!(next <= 9, "{record:?}");
    let expected: Vec<u64> = (next..16).filter(|n| *n != 9).collect();
    assert_eq!(segment_files(&segments), expected);
    assert_eq!(observer.left_behind(), Vec::<String>::new());
    t.release_vod_segments();

    let summary = download_vod(
        &reqwest::Client::new(),
        &options(),
        request(&t, &vod, dir.path()).await,
        &CancellationToken::new(),
        &|_, _| {},
    )
    .await
    .expect("resumed");
    assert_eq!((summary.downloaded, summary.reused), (1, 15));
    let requests = t.vod_segment_requests(&vod);
    for (n, count) in requests.iter().enumerate() {
        let expected = if n == 9 { 2 } else { 1 };
        assert_eq!(*count, expected, "segment {n}: {requests:?}");
    }
    // A third run finds the joined file and downloads nothing.
    let again = download_vod(
        &reqwest::Client::new(),
        &options(),
        request(&t, &vod, dir.path()).await,
        &CancellationToken::new(),
        &|_, _| {},
    )
    .await
    .expect("done already");
    assert_eq!(again.downloaded, 0);
    assert_eq!(t.vod_segment_requests(&vod).iter().sum::<u64>(), 17);
    let joined = std::fs::read(dir.path().join("vod.part0001.ts")).expect("joined");
    assert!(joined == reference_bytes(&t, &vod).await, "same bytes");
}

#[tokio::test]
async fn a_join_stopped_and_torn_halfway_resumes_into_the_same_bytes() {
    let t = twitch().await;
    let vod = t
        .add_video(
            "archivist",
            VideoSpec::archive("Torn", Duration::from_secs(60), 12).muted(&[6]),
        )
        .await
        .expect("video");
    let dir = tempfile::tempdir().expect("dir");
    let segments = dir.path().join("segments");
    let output = dir.path().join("vod.part0001.ts");
    let stop = CancellationToken::new();
    let mut observer = Observer::new(&segments);
    observer.cancel_after_join = Some((5, stop.clone()));
    // One segment per join step, so the stop falls exactly after the fifth.
    let one_by_one = VodOptions {
        join_batch: 1,
        ..options()
    };
    let first = download_vod_with(
        &reqwest::Client::new(),
        &one_by_one,
        request(&t, &vod, dir.path()).await,
        &stop,
        &observer,
    )
    .await;
    assert!(first.is_err(), "stopped after 5 joined segments");
    let record = JoinProgress::read(&segments)
        .expect("record")
        .expect("a join in progress");
    assert_eq!(record.next_segment, 5);
    let temp = temp_path(&output);
    assert_eq!(std::fs::metadata(&temp).expect("temp").len(), record.bytes);
    assert!(segment_files(&segments).iter().all(|n| *n >= 5));
    assert!(!output.exists());

    // A kill in the middle of a step: segment 5 appended but not recorded (the temporary is
    // longer than the record), and segment 4 recorded but its file not yet removed.
    let torn = std::fs::read(&temp).expect("temp");
    std::fs::write(&temp, [torn.as_slice(), &[0x47; 4000]].concat()).expect("torn");
    std::fs::write(segments.join("000004.ts"), b"joined already").expect("stray");

    let observer = Observer::new(&segments);
    let summary = download_vod_with(
        &reqwest::Client::new(),
        &options(),
        request(&t, &vod, dir.path()).await,
        &CancellationToken::new(),
        &observer,
    )
    .await
    .expect("resumed");
    assert_eq!(observer.left_behind(), Vec::<String>::new());
    assert_eq!(summary.segments, 12);
    let requests = t.vod_segment_requests(&vod);
    assert!(requests[..5].iter().all(|n| *n == 1), "{requests:?}");
    assert_eq!(summary.muted.len(), 1);
    let joined = std::fs::read(&output).expect("joined");
    assert_eq!(joined.len() as u64, summary.bytes);
    assert!(joined == reference_bytes(&t, &vod).await, "same bytes");
    assert!(!segments.exists() && !temp.exists());
}

#[tokio::test]
async fn an_fmp4_vod_stopped_halfway_resumes_into_an_mp4_with_its_init_section_first() {
    let t = twitch().await;
    let vod = t
        .add_video_with(
            "archivist",
            VideoSpec::archive("Enhanced", Duration::from_secs(60), 10),
            MediaParams::test(Container::Fmp4),
        )
        .await
        .expect("video");
    let dir = tempfile::tempdir().expect("dir");
    let segments = dir.path().join("segments");
    let stop = CancellationToken::new();
    let mut observer = Observer::new(&segments);
    observer.cancel_after_join = Some((4, stop.clone()));
    let one_by_one = VodOptions {
        join_batch: 1,
        ..options()
    };
    let first = download_vod_with(
        &reqwest::Client::new(),
        &one_by_one,
        request(&t, &vod, dir.path()).await,
        &stop,
        &observer,
    )
    .await;
    assert!(first.is_err(), "stopped after 4 joined fragments");
    let output = dir.path().join("vod.part0001.mp4");
    let record = JoinProgress::read(&segments)
        .expect("record")
        .expect("a join in progress");
    assert_eq!(record.next_segment, 4);
    assert!(!output.exists());
    assert!(segments.join("init.mp4").is_file(), "kept for the resume");

    let summary = download_vod(
        &reqwest::Client::new(),
        &options(),
        request(&t, &vod, dir.path()).await,
        &CancellationToken::new(),
        &|_, _| {},
    )
    .await
    .expect("resumed");
    assert_eq!(summary.output, output);
    assert!(!dir.path().join("vod.part0001.ts").exists());
    let requests = t.vod_segment_requests(&vod);
    assert!(requests[..4].iter().all(|n| *n == 1), "{requests:?}");
    let joined = std::fs::read(&output).expect("joined");
    assert_eq!(joined.len() as u64, summary.bytes);
    assert_eq!(
        joined.get(4..8),
        Some(&b"ftyp"[..]),
        "the init section first"
    );
    assert_eq!(common::decode_errors(&output), "");
    let secs = common::probe_duration(&output);
    assert!(
        (secs - 10.0).abs() < 0.2,
        "ffprobe reads 10 s, got {secs} s"
    );
    assert!(!segments.exists());

    // A later run finds the MP4 and downloads nothing.
    let again = download_vod(
        &reqwest::Client::new(),
        &options(),
        request(&t, &vod, dir.path()).await,
        &CancellationToken::new(),
        &|_, _| {},
    )
    .await
    .expect("done already");
    assert_eq!((again.downloaded, again.output), (0, output));
}
