//! The VOD downloader against the fake Twitch: the VOD playback token, usher's VOD master,
//! segments in parallel with a 503, a cut body and muted segments, an expired token renewed,
//! and a download stopped halfway that resumes without fetching finished segments again.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tapearr_hls::vod::{MutedSpan, VodOptions, VodRequest, download_vod};
use tapearr_hls::{Source, SourceRenewal};
use tapearr_integrations::twitch::PlaybackClient;
use tapearr_testkit::hls_origin::HlsOrigin;
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
        output: dir.join("vod.part0001.ts"),
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
    let stop = CancellationToken::new();
    let req = request(&t, &vod, dir.path()).await;
    let first = {
        let stop = stop.clone();
        tokio::spawn(async move {
            download_vod(&reqwest::Client::new(), &options(), req, &stop, &|_, _| {}).await
        })
    };
    // Every other segment done (the held one is in flight): then the process "dies".
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let done = std::fs::read_dir(dir.path().join("segments"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "ts"))
                    .count()
            })
            .unwrap_or(0);
        if done == 15 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{done} segments done"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    assert!(first.await.expect("join").is_err(), "stopped, not finished");
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
}
