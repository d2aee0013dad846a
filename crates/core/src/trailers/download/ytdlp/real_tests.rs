//! The real yt-dlp (tools venv), ffprobe and ffmpeg against the local video origin.

use super::*;
use std::time::Instant;
use tapearr_testkit::video_origin::{Availability, VideoCodec, VideoOrigin, VideoSpec};

/// The tools venv's yt-dlp, found as the streamlink tests find streamlink:
/// `$TAPEARR_TEST_TOOLS_DATA_DIR/tools/venv/bin/yt-dlp` (`make test` sets it; then it must
/// exist), else the repository's `data/` venv that `make tools` makes; without either the
/// test says SKIPPED.
fn yt_dlp() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("TAPEARR_TEST_TOOLS_DATA_DIR") {
        let p = PathBuf::from(dir).join("tools/venv/bin/yt-dlp");
        assert!(
            p.exists(),
            "TAPEARR_TEST_TOOLS_DATA_DIR is set but {} is missing (run `make tools`)",
            p.display()
        );
        return Some(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/tools/venv/bin/yt-dlp");
    if p.exists() {
        return Some(p);
    }
    eprintln!(
        "SKIPPED: yt-dlp not found (set TAPEARR_TEST_TOOLS_DATA_DIR or run `make tools` for data/tools/venv)"
    );
    None
}

#[tokio::test]
async fn the_installed_yt_dlp_sees_the_venv_deno_as_its_javascript_runtime() {
    let Some(program) = yt_dlp() else { return };
    let deno = program.with_file_name("deno");
    assert!(
        deno.is_file(),
        "{} is missing (run `make tools`)",
        deno.display()
    );
    let cancel = CancellationToken::new();
    let runtimes = YtDlp::new(program.clone())
        .js_runtime(Some(deno))
        .js_runtimes(&cancel)
        .await
        .expect("yt-dlp -v ran");
    assert!(
        runtimes.iter().any(|r| r.starts_with("deno-")),
        "yt-dlp reports no Deno: {runtimes:?}"
    );
    // The flag decides: a Deno path that is not there leaves yt-dlp without one (it does not
    // fall back to the venv's), so the report above is yt-dlp's finding for that path.
    let missing = YtDlp::new(program)
        .js_runtime(Some(PathBuf::from("/nonexistent/deno")))
        .js_runtimes(&cancel)
        .await
        .expect("yt-dlp -v ran");
    assert!(
        !missing.iter().any(|r| r.starts_with("deno")),
        "{missing:?}"
    );
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("work dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn opts(max_height: u32) -> DownloadOptions {
    DownloadOptions {
        max_height,
        container: Container::Mp4,
        subtitles: None,
        extra_args: Vec::new(),
    }
}

async fn origin(videos: &[(&str, VideoSpec)]) -> VideoOrigin {
    let o = VideoOrigin::start().await.expect("origin");
    o.set_default(None);
    for (id, spec) in videos {
        o.set_video(id, spec.clone());
    }
    o.prepare().await.expect("ffmpeg made the media");
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_a_720p_h264_video_and_leaves_only_that_file() {
    let Some(program) = yt_dlp() else { return };
    let o = origin(&[(
        "h264720",
        VideoSpec::new("Alien (1979) Official Trailer")
            .uploader("20th Century Studios")
            .seconds(3)
            .resolution(1280, 720),
    )])
    .await;
    let work = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let got = YtDlp::new(program)
        .timeout(Duration::from_secs(60))
        .download(
            &o.watch_url("h264720"),
            work.path(),
            &opts(720),
            &CancellationToken::new(),
        )
        .await
        .expect("downloaded");
    println!("download took {:?}", started.elapsed());
    assert!(got.path.is_file());
    assert_eq!(got.path.parent(), Some(work.path()));
    assert_eq!(
        listing(work.path()),
        vec![
            got.path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned()
        ]
    );
    let p = &got.probe;
    assert!(p.has_video && p.has_audio, "{p:?}");
    assert_eq!(p.video_codec.as_deref(), Some("h264"));
    assert_eq!(p.height, Some(720));
    assert!((2_900..=3_200).contains(&p.millis()), "{p:?}");
    assert!(p.format.contains("mp4"), "{p:?}");
    let i = &got.info;
    assert_eq!(i.id, "h264720");
    assert_eq!(i.title, "Alien (1979) Official Trailer");
    assert_eq!(i.uploader.as_deref(), Some("20th Century Studios"));
    assert_eq!(i.duration_s, Some(3.0));
    assert_eq!(i.url, o.watch_url("h264720"));
    assert!(!i.is_live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_classified_and_leaves_nothing_behind() {
    let Some(program) = yt_dlp() else { return };
    use DownloadErrorKind as K;
    let cases: Vec<(&str, VideoSpec, DownloadErrorKind)> = vec![
        ("nf", Availability::NotFound, K::Unavailable),
        ("rm", Availability::Removed, K::Unavailable),
        ("pv", Availability::Private, K::Unavailable),
        ("ag", Availability::AgeRestricted, K::AgeRestricted),
        ("bc", Availability::BotCheck, K::BotCheck),
        ("rl", Availability::RateLimited, K::RateLimited),
        ("sb", Availability::SoftBan, K::RateLimited),
        ("cr", Availability::CookiesRejected, K::CookiesRejected),
        ("nv", Availability::NotAVideo, K::Unavailable),
        ("dr", Availability::DropsMidDownload, K::Network),
        ("mf", Availability::MediaForbidden, K::Other),
    ]
    .into_iter()
    .map(|(id, a, k)| (id, VideoSpec::new(id).availability(a), k))
    .chain([
        (
            "live",
            VideoSpec::new("Live premiere").live(),
            K::LiveOrUpcoming,
        ),
        ("mute", VideoSpec::new("No sound").no_audio(), K::Invalid),
    ])
    .collect();
    let specs: Vec<(&str, VideoSpec)> = cases.iter().map(|(id, s, _)| (*id, s.clone())).collect();
    let o = origin(&specs).await;
    let y = YtDlp::new(program).timeout(Duration::from_secs(60));
    let started = Instant::now();
    let runs = cases.iter().map(|(id, _, want)| {
        let (y, o) = (&y, &o);
        async move {
            let work = tempfile::tempdir().expect("tempdir");
            let got = y
                .download(
                    &o.watch_url(id),
                    work.path(),
                    &opts(720),
                    &CancellationToken::new(),
                )
                .await;
            (*id, *want, got, listing(work.path()))
        }
    });
    let results = futures_util::future::join_all(runs).await;
    println!("{} refusals in {:?}", results.len(), started.elapsed());
    for (id, want, got, left) in results {
        let e = got.expect_err(id);
        println!("{id}: {:?}: {}", e.kind, e.message);
        assert_eq!(e.kind, want, "{id}: {}", e.message);
        assert!(left.is_empty(), "{id} left {left:?}");
        match want {
            K::BotCheck | K::AgeRestricted | K::CookiesRejected => {
                assert!(e.message.contains("cookies"), "{}", e.message)
            }
            K::Invalid => assert!(e.message.contains("no sound"), "{}", e.message),
            K::LiveOrUpcoming => assert!(e.message.contains("live"), "{}", e.message),
            K::Network => assert!(
                e.message.contains("ERROR: [download] Got error"),
                "{}",
                e.message
            ),
            K::Other => assert!(e.message.contains("HTTP 403"), "{}", e.message),
            _ => assert!(e.message.contains("ERROR:"), "{id}: {}", e.message),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_limit_or_a_cancel_stops_the_download_and_removes_the_partial_file() {
    let Some(program) = yt_dlp() else { return };
    // About 100 KB at 4 KB/s: far longer than the limit.
    let o = origin(&[
        ("slow", VideoSpec::new("Slow").throttle(4 * 1024)),
        ("slow2", VideoSpec::new("Slow too").throttle(8 * 1024)),
    ])
    .await;
    let y = YtDlp::new(program);

    // The media request has started (so a .part file exists) well before the limit.
    let work = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let e = y
        .clone()
        // Long enough for yt-dlp's start-up on a loaded machine to reach the media request.
        .timeout(Duration::from_secs(8))
        .download(
            &o.watch_url("slow"),
            work.path(),
            &opts(720),
            &CancellationToken::new(),
        )
        .await
        .expect_err("timed out");
    assert_eq!(e.kind, DownloadErrorKind::Timeout, "{}", e.message);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        o.requests().iter().any(|r| r.path == "/media/slow.mp4"),
        "the download had started: {:?}",
        o.requests()
    );
    assert!(
        listing(work.path()).is_empty(),
        "{:?}",
        listing(work.path())
    );

    // A cancel once the media is flowing.
    let work = tempfile::tempdir().expect("tempdir");
    let cancel = CancellationToken::new();
    let stop = {
        let cancel = cancel.clone();
        let o = &o;
        async move {
            o.wait_for_path("/media/slow2.mp4", Duration::from_secs(30))
                .await
                .expect("the media request");
            // No event says the .part file has bytes; at 8 KB/s half a second gives it some.
            tokio::time::sleep(Duration::from_millis(500)).await;
            cancel.cancel();
        }
    };
    let (long, url, o720) = (
        y.clone().timeout(Duration::from_secs(60)),
        o.watch_url("slow2"),
        opts(720),
    );
    let (got, ()) = tokio::join!(long.download(&url, work.path(), &o720, &cancel), stop);
    assert_eq!(
        got.expect_err("cancelled").kind,
        DownloadErrorKind::Cancelled
    );
    assert!(
        listing(work.path()).is_empty(),
        "{:?}",
        listing(work.path())
    );

    // The 1 s limit: stopped during start-up or extraction, still nothing left.
    let work = tempfile::tempdir().expect("tempdir");
    let e = y
        .timeout(Duration::from_secs(1))
        .download(
            &o.watch_url("slow"),
            work.path(),
            &opts(720),
            &CancellationToken::new(),
        )
        .await
        .expect_err("timed out");
    assert_eq!(e.kind, DownloadErrorKind::Timeout, "{}", e.message);
    assert!(listing(work.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_feed_gives_the_matching_entries_with_durations_and_uploaders() {
    let Some(program) = yt_dlp() else { return };
    let o = origin(&[
        (
            "al1",
            VideoSpec::new("Alien (1979) Official Trailer")
                .uploader("Fox")
                .seconds(3),
        ),
        (
            "al2",
            VideoSpec::new("ALIEN 1979 teaser").codec(VideoCodec::Vp9),
        ),
        (
            "al3",
            VideoSpec::new("Alien 1979 trailer (private)").availability(Availability::Private),
        ),
        ("al4", VideoSpec::new("Alien 1979 live trailer").live()),
        ("oth", VideoSpec::new("Other Film 1979 Trailer")),
    ])
    .await;
    let y = YtDlp::new(program).timeout(Duration::from_secs(60));
    let cancel = CancellationToken::new();
    let found = y
        .search(&o.feed_url("alien 1979", 10), &cancel)
        .await
        .expect("search");
    let ids: Vec<&str> = found.iter().map(|v| v.id.as_str()).collect();
    // The private entry fails alone; the rest are read.
    assert_eq!(ids, ["al1", "al2", "al4"], "{found:?}");
    let al1 = &found[0];
    assert_eq!(al1.title, "Alien (1979) Official Trailer");
    assert_eq!(al1.duration_s, Some(3.0));
    assert_eq!(al1.uploader.as_deref(), Some("Fox"));
    assert_eq!(al1.height, Some(180));
    assert_eq!(al1.url, o.watch_url("al1"));
    assert_eq!(found[1].uploader.as_deref(), Some("Fake Studio"));
    assert_eq!(found[1].duration_s, Some(2.0));
    // The generic extractor sees liveness through the live HLS playlist.
    assert!(found[2].is_live && !found[0].is_live && !found[1].is_live);

    let two = y
        .search(&o.feed_url("alien", 2), &cancel)
        .await
        .expect("search");
    assert_eq!(
        two.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(),
        ["al1", "al2"]
    );
    let none = y
        .search(&o.feed_url("nothing like it", 5), &cancel)
        .await
        .expect("empty");
    assert!(none.is_empty());
    assert!(o.requests().iter().any(|r| r.path.starts_with("/feed?q=")));

    // Every entry failing fails the search, classified.
    let e = y
        .search(&o.feed_url("private", 5), &cancel)
        .await
        .expect_err("only a private entry");
    assert_eq!(e.kind, DownloadErrorKind::Unavailable, "{}", e.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_reads_one_page_and_the_cookies_file_stays_untouched() {
    let Some(program) = yt_dlp() else { return };
    let o = origin(&[
        (
            "inf",
            VideoSpec::new("Heat (1995) Trailer")
                .uploader("Warner")
                .resolution(480, 270),
        ),
        ("lv", VideoSpec::new("Heat live").live()),
        (
            "gone",
            VideoSpec::new("x").availability(Availability::Removed),
        ),
    ])
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cookies = dir.path().join("cookies.txt");
    let jar = "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tSID\tsecret-value\n";
    std::fs::write(&cookies, jar).expect("cookies");
    let y = YtDlp::new(program.clone())
        .cookies(Some(cookies.clone()))
        .timeout(Duration::from_secs(60));
    let cancel = CancellationToken::new();
    let i = y.info(&o.watch_url("inf"), &cancel).await.expect("info");
    assert_eq!(i.id, "inf");
    assert_eq!(i.title, "Heat (1995) Trailer");
    assert_eq!(i.uploader.as_deref(), Some("Warner"));
    assert_eq!((i.width, i.height), (Some(480), Some(270)));
    assert_eq!(i.duration_s, Some(2.0));
    assert_eq!(i.upload_date.as_deref(), Some("20240102"));
    assert_eq!(i.view_count, Some(123_456));
    assert!(!i.is_live && !i.is_upcoming);
    assert!(
        y.info(&o.watch_url("lv"), &cancel)
            .await
            .expect("live info")
            .is_live
    );
    let e = y
        .info(&o.watch_url("gone"), &cancel)
        .await
        .expect_err("removed");
    assert_eq!(e.kind, DownloadErrorKind::Unavailable);
    assert!(!e.message.contains("secret-value"));

    // yt-dlp saved its jar into a private copy, gone now; the user's file is as it was.
    assert_eq!(std::fs::read_to_string(&cookies).expect("cookies"), jar);
    let prefix = format!("tapearr-cookies-{}-", std::process::id());
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .expect("tmp")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    let missing = YtDlp::new(dir.path().join("no-yt-dlp"))
        .info(&o.watch_url("inf"), &cancel)
        .await
        .expect_err("missing");
    assert_eq!(missing.kind, DownloadErrorKind::ToolMissing);
    let unreadable = YtDlp::new(program)
        .cookies(Some(dir.path().join("nope.txt")))
        .info(&o.watch_url("inf"), &cancel)
        .await
        .expect_err("no cookies file");
    assert!(
        unreadable.message.contains("cookies file"),
        "{}",
        unreadable.message
    );
}
