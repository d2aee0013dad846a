//! The video origin over plain HTTP, then with the real yt-dlp (generic extractor) and
//! ffprobe when the tools venv is installed (`make tools`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use tapearr_testkit::video_origin::{Availability, VideoCodec, VideoOrigin, VideoSpec};

use super::client;

#[tokio::test]
async fn pages_media_ranges_and_refusals() {
    let o = VideoOrigin::start().await.expect("origin");
    o.set_video(
        "abc",
        VideoSpec::new("Film (2001) \"Official\" <Trailer>").seconds(2),
    );
    let page = client().get(o.watch_url("abc")).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    let media = o.media_url("abc");
    assert!(
        html.contains(&format!("<meta property=\"og:video\" content=\"{media}\">")),
        "{html}"
    );
    assert!(html.contains("Film (2001) &quot;Official&quot; &lt;Trailer&gt;"));
    let ld = html
        .split("<script type=\"application/ld+json\">")
        .nth(1)
        .and_then(|s| s.split("</script>").next())
        .expect("JSON-LD");
    let ld: Value = serde_json::from_str(ld).expect("JSON-LD parses");
    assert_eq!(ld["@type"], "VideoObject");
    assert_eq!(ld["duration"], "PT2S");
    assert_eq!(ld["contentUrl"], media.as_str());
    assert_eq!(ld["name"], "Film (2001) \"Official\" <Trailer>");

    let full = client().get(&media).send().await.expect("media");
    assert_eq!(full.headers()["content-type"], "video/mp4");
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    let bytes = full.bytes().await.expect("bytes");
    assert_eq!(&bytes[4..8], b"ftyp", "an MP4");
    let part = client()
        .get(&media)
        .header("range", "bytes=100-199")
        .send()
        .await
        .expect("range");
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{}", bytes.len()).as_str()
    );
    assert_eq!(part.bytes().await.expect("part"), bytes.slice(100..200));
    let past = client()
        .get(&media)
        .header("range", format!("bytes={}-", bytes.len()))
        .send()
        .await
        .expect("416");
    assert_eq!(past.status(), 416);

    // Refusals carry YouTube's words in the status line.
    for (id, a, line) in [
        (
            "nf",
            Availability::NotFound,
            "HTTP/1.1 404 Video unavailable",
        ),
        (
            "rm",
            Availability::Removed,
            "HTTP/1.1 410 This video has been removed by the uploader",
        ),
        ("pv", Availability::Private, "HTTP/1.1 403 Private video"),
        (
            "age",
            Availability::AgeRestricted,
            "HTTP/1.1 403 Sign in to confirm your age. This video may be inappropriate for some users.",
        ),
        (
            "bot",
            Availability::BotCheck,
            "HTTP/1.1 403 Sign in to confirm you're not a bot",
        ),
        (
            "429",
            Availability::RateLimited,
            "HTTP/1.1 429 Too Many Requests",
        ),
    ] {
        o.set_video(id, VideoSpec::new("x").availability(a));
        assert_eq!(status_line(&o.url(), &format!("/watch?v={id}")).await, line);
        let media = client().get(o.media_url(id)).send().await.expect("media");
        assert_eq!(media.status(), 404, "no media for a refused page");
    }
    o.set_default(None);
    assert_eq!(
        status_line(&o.url(), "/watch?v=unknown").await,
        "HTTP/1.1 404 Video unavailable"
    );
    o.set_video(
        "forbidden",
        VideoSpec::new("x").availability(Availability::MediaForbidden),
    );
    let media = client()
        .get(o.media_url("forbidden"))
        .send()
        .await
        .expect("media");
    assert_eq!(media.status(), 403);

    assert_eq!(o.page_requests("abc"), 1);
    assert!(
        o.requests()
            .iter()
            .all(|r| r.host == o.url().trim_start_matches("http://"))
    );
}

#[tokio::test]
async fn slow_throttled_and_dropped_downloads() {
    let o = VideoOrigin::start().await.expect("origin");
    o.set_video(
        "slow",
        VideoSpec::new("slow").slow_page(Duration::from_millis(600)),
    );
    let started = Instant::now();
    let res = client()
        .get(o.watch_url("slow"))
        .send()
        .await
        .expect("page");
    assert_eq!(res.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(600));

    o.prepare().await.expect("media");
    let size = client()
        .get(o.media_url("slow"))
        .send()
        .await
        .expect("media")
        .bytes()
        .await
        .expect("bytes")
        .len() as u64;
    // At a rate that needs about 0.8 s for the whole file.
    o.set_video("thr", VideoSpec::new("thr").throttle(size * 5 / 4));
    let started = Instant::now();
    let got = client()
        .get(o.media_url("thr"))
        .send()
        .await
        .expect("media")
        .bytes()
        .await
        .expect("bytes");
    let took = started.elapsed();
    assert_eq!(got.len() as u64, size);
    assert!(
        took >= Duration::from_millis(600),
        "throttled download took {took:?}"
    );

    o.set_video(
        "drop",
        VideoSpec::new("drop").availability(Availability::DropsMidDownload),
    );
    let res = client()
        .get(o.media_url("drop"))
        .send()
        .await
        .expect("media");
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.is_err(), "the body is cut short");
}

#[tokio::test]
async fn requests_are_counted_per_host() {
    // 127.0.0.2 is loopback on Linux; elsewhere one host is all there is.
    let two = VideoOrigin::bind(&["127.0.0.1:0", "127.0.0.2:0"]).await;
    let o = match two {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipping the second host: {e}");
            VideoOrigin::start().await.expect("origin")
        }
    };
    for base in o.urls() {
        for id in ["a", "b", "c"] {
            let res = client()
                .get(format!("{base}/watch?v={id}"))
                .send()
                .await
                .expect("page");
            assert_eq!(res.status(), 200);
        }
    }
    let log = o
        .wait_for_requests(3 * o.urls().len(), Duration::from_secs(5))
        .await
        .expect("all logged");
    let by_host = o.requests_by_host();
    assert_eq!(by_host.len(), o.urls().len());
    assert!(by_host.values().all(|n| *n == 3), "{by_host:?}");
    assert!(log.windows(2).all(|w| w[0].at <= w[1].at));
    o.clear_requests();
    assert!(o.requests().is_empty());
}

/// The yt-dlp of the tools venv: `$TAPEARR_TEST_TOOLS_DATA_DIR/tools/venv/bin/yt-dlp`, or
/// the repository's `data/` one that `make tools` installs.
fn yt_dlp() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(dir) = std::env::var("TAPEARR_TEST_TOOLS_DATA_DIR") {
        candidates.push(PathBuf::from(dir).join("tools/venv/bin/yt-dlp"));
    }
    candidates
        .push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/tools/venv/bin/yt-dlp"));
    candidates.into_iter().find(|p| p.exists())
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("tapearr-testkit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn run(yt: &Path, dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(yt)
        .current_dir(dir)
        .args([
            "--ignore-config",
            "--no-progress",
            "--retries",
            "1",
            "--fragment-retries",
            "1",
        ])
        .args(args)
        .output()
        .await
        .expect("yt-dlp runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ffprobe(path: &Path) -> Value {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args([
            "-show_entries",
            "stream=codec_type,codec_name,width,height:format=duration",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

fn codec(probe: &Value, kind: &str) -> Option<String> {
    probe["streams"]
        .as_array()?
        .iter()
        .find(|s| s["codec_type"] == kind)
        .and_then(|s| s["codec_name"].as_str())
        .map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_yt_dlp_downloads_playable_files_and_reports_refusals() {
    let Some(yt) = yt_dlp() else {
        eprintln!("skipped: no yt-dlp (run `make tools` or set TAPEARR_TEST_TOOLS_DATA_DIR)");
        return;
    };
    let o = VideoOrigin::start().await.expect("origin");
    o.set_video(
        "abc",
        VideoSpec::new("Film (2001) Official Trailer").uploader("Film Studio"),
    );
    o.set_video(
        "vp9",
        VideoSpec::new("Film (2001) Teaser").codec(VideoCodec::Vp9),
    );
    let started = Instant::now();
    o.prepare().await.expect("ffmpeg made the media");
    println!("media ready in {:?}", started.elapsed());
    let dir = TempDir::new("yt-dlp");

    // Metadata as a trailer search would read it.
    let (ok, out, err) = run(&yt, &dir.0, &["-j", "--no-playlist", &o.watch_url("abc")]).await;
    assert!(ok, "{err}");
    let info: Value = serde_json::from_str(out.trim()).expect("-j JSON");
    assert_eq!(info["title"], "Film (2001) Official Trailer");
    assert_eq!(info["duration"], 2);
    assert_eq!(info["uploader"], "Film Studio");
    assert_eq!(info["upload_date"], "20240102");
    assert_eq!(info["height"], 180);
    assert_eq!(info["extractor"], "generic");

    // The exact command from the issue, then ffprobe.
    let started = Instant::now();
    let (ok, _, err) = run(
        &yt,
        &dir.0,
        &["--no-playlist", "-o", "out.mp4", &o.watch_url("abc")],
    )
    .await;
    assert!(ok, "{err}");
    println!("yt-dlp download in {:?}", started.elapsed());
    let probe = ffprobe(&dir.0.join("out.mp4"));
    assert_eq!(codec(&probe, "video").as_deref(), Some("h264"), "{probe}");
    assert_eq!(codec(&probe, "audio").as_deref(), Some("aac"), "{probe}");
    let duration: f64 = probe["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("duration");
    assert!((duration - 2.0).abs() < 0.2, "{duration}");

    // Tapearr-style format fallbacks and match filter on the VP9 variant.
    let (ok, _, err) = run(
        &yt,
        &dir.0,
        &[
            "--no-playlist",
            "-f",
            "bv*[height<=?1080]+ba/b[height<=?1080]/best",
            "--match-filter",
            "!is_live & !is_upcoming",
            "-o",
            "teaser.%(ext)s",
            &o.watch_url("vp9"),
        ],
    )
    .await;
    assert!(ok, "{err}");
    let probe = ffprobe(&dir.0.join("teaser.webm"));
    assert_eq!(codec(&probe, "video").as_deref(), Some("vp9"), "{probe}");
    assert_eq!(codec(&probe, "audio").as_deref(), Some("opus"), "{probe}");

    // Refusals: what yt-dlp prints, for the error classifier.
    let cases = [
        (
            "age",
            Availability::AgeRestricted,
            "HTTP Error 403: Sign in to confirm your age",
        ),
        (
            "bot",
            Availability::BotCheck,
            "HTTP Error 403: Sign in to confirm you're not a bot",
        ),
        (
            "gone",
            Availability::NotFound,
            "HTTP Error 404: Video unavailable",
        ),
        ("nav", Availability::NotAVideo, "Unsupported URL"),
    ];
    for (id, a, _) in &cases {
        o.set_video(id, VideoSpec::new("x").availability(*a));
    }
    let runs = cases.iter().map(|(id, _, _)| {
        let url = o.watch_url(id);
        let (yt, dir) = (yt.clone(), dir.0.clone());
        async move { run(&yt, &dir, &["--no-playlist", "-o", "x.mp4", &url]).await }
    });
    let results = futures_util::future::join_all(runs).await;
    for ((id, _, expected), (ok, _, err)) in cases.iter().zip(results) {
        assert!(!ok, "{id} must fail");
        assert!(
            err.contains("ERROR:") && err.contains(expected),
            "{id}: {err}"
        );
    }
    assert!(!dir.0.join("x.mp4").exists());
}

#[tokio::test]
async fn hevc_and_silent_variants_probe_as_configured() {
    let o = VideoOrigin::start().await.expect("origin");
    o.set_video(
        "hevc",
        VideoSpec::new("hevc")
            .codec(VideoCodec::Hevc)
            .resolution(640, 360),
    );
    o.set_video("mute", VideoSpec::new("mute").no_audio().seconds(1));
    o.prepare().await.expect("ffmpeg made the media");
    let dir = TempDir::new("probe");
    for (id, file) in [("hevc", "h.mp4"), ("mute", "m.mp4")] {
        let bytes = client()
            .get(o.media_url(id))
            .send()
            .await
            .expect("media")
            .bytes()
            .await
            .expect("bytes");
        std::fs::write(dir.0.join(file), &bytes).expect("write");
    }
    let h = ffprobe(&dir.0.join("h.mp4"));
    assert_eq!(codec(&h, "video").as_deref(), Some("hevc"), "{h}");
    assert_eq!(h["streams"][0]["height"], 360);
    let m = ffprobe(&dir.0.join("m.mp4"));
    assert_eq!(codec(&m, "video").as_deref(), Some("h264"));
    assert_eq!(codec(&m, "audio"), None, "no audio stream");
}

/// Sends `GET path` on a raw connection and returns the status line (reqwest hides the
/// reason phrase).
pub async fn status_line(base: &str, path_and_query: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(authority)
        .await
        .expect("connect");
    let req =
        format!("GET {path_and_query} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf);
    text.lines().next().unwrap_or_default().to_owned()
}
