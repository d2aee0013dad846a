//! B8: a past broadcast downloaded from a local CDN-like origin (first-byte latency per
//! request), with 6 segments at a time (the default) and with 1 in the same run, then a
//! download stopped halfway and resumed, counting the origin's requests.
//!
//! `make bench-vod` runs the ignored `bench_vod_download` (`B8_MINUTES`, default 60, of 2 s
//! segments at 6 Mbit/s; `B8_LATENCY_MS`, default `30-80`); a small version runs with the tests.

use std::path::Path;
use std::time::{Duration, Instant};

use tapearr_hls::quality::CodecAllowList;
use tapearr_hls::vod::{VodOptions, VodProgress, VodRequest, VodSummary, download_vod_with};
use tapearr_hls::{Source, vod::join::temp_path};
use tapearr_testkit::vod_origin::{VodOrigin, VodOriginSpec};
use tokio_util::sync::CancellationToken;

/// Cancels once `at` segments are downloaded; keeps the largest number of segment files that
/// waited for the join (the disk the join needs beyond the VOD itself).
struct Probe {
    at: Option<(u64, CancellationToken)>,
    work_dir: std::path::PathBuf,
    peak_waiting: std::sync::Mutex<(usize, u64)>,
}

impl VodProgress for Probe {
    fn downloaded(&self, done: u64, _total: u64) {
        if let Some((at, cancel)) = &self.at
            && done >= *at
        {
            cancel.cancel();
        }
    }

    fn joined(&self, _joined: u64, _total: u64) {
        let (mut files, mut bytes) = (0, 0);
        if let Ok(dir) = std::fs::read_dir(&self.work_dir) {
            for e in dir.filter_map(Result::ok) {
                if e.path().extension().is_some_and(|x| x == "ts") {
                    files += 1;
                    bytes += e.metadata().map_or(0, |m| m.len());
                }
            }
        }
        let mut peak = self.peak_waiting.lock().expect("lock");
        *peak = (peak.0.max(files), peak.1.max(bytes));
    }
}

struct Run {
    summary: Result<VodSummary, String>,
    secs: f64,
    peak_waiting: (usize, u64),
}

async fn download(origin: &VodOrigin, dir: &Path, concurrency: usize, stop_at: Option<u64>) -> Run {
    let options = VodOptions {
        concurrency,
        ..VodOptions::default()
    };
    let request = VodRequest {
        source: Source {
            url: origin.playlist_url(),
            expires_at: None,
        },
        quality: "best".parse().expect("quality"),
        codecs: CodecAllowList::parse("h264"),
        renewal: None,
        work_dir: dir.join("segments"),
        output_stem: dir.join("vod.part0001"),
    };
    let cancel = CancellationToken::new();
    let probe = Probe {
        at: stop_at.map(|n| (n, cancel.clone())),
        work_dir: dir.join("segments"),
        peak_waiting: std::sync::Mutex::new((0, 0)),
    };
    let started = Instant::now();
    let summary = download_vod_with(&reqwest::Client::new(), &options, request, &cancel, &probe)
        .await
        .map_err(|e| e.to_string());
    let secs = started.elapsed().as_secs_f64();
    let peak_waiting = *probe.peak_waiting.lock().expect("lock");
    Run {
        summary,
        secs,
        peak_waiting,
    }
}

/// Every segment once, in order: the length, and each segment's own first packet where it
/// belongs.
fn check_joined(file: &Path, spec: &VodOriginSpec) {
    use std::io::{Read, Seek, SeekFrom};
    let len = spec.segment_len() as u64;
    let mut f = std::fs::File::open(file).expect("joined file");
    assert_eq!(
        f.metadata().expect("meta").len(),
        len * u64::from(spec.segments)
    );
    let mut head = [0u8; 188];
    for n in 0..spec.segments {
        f.seek(SeekFrom::Start(u64::from(n) * len)).expect("seek");
        f.read_exact(&mut head).expect("read");
        assert!(head == VodOrigin::segment_head(n), "segment {n} misplaced");
    }
}

struct Figures {
    parallel_x: f64,
    serial_x: f64,
    refetched_after_resume: u64,
}

async fn bench(spec: VodOriginSpec, label: &str) -> Figures {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let media = spec.media_secs();
    let mb = spec.segment_len() as f64 * f64::from(spec.segments) / 1e6;
    let origin = VodOrigin::start(spec.clone()).await.expect("origin");
    let (lo, hi) = spec.first_byte;
    println!(
        "B8 {label}: {} segments of {} s ({:.0} kB, {:.1} Mbit/s), {:.0} min of media, {mb:.0} MB, \
         first byte {}-{} ms",
        spec.segments,
        spec.segment_secs,
        spec.segment_len() as f64 / 1e3,
        spec.bitrate_bps as f64 / 1e6,
        media / 60.0,
        lo.as_millis(),
        hi.as_millis()
    );
    let mut realtime = Vec::new();
    for concurrency in [6, 1] {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("dir");
        let run = download(&origin, dir.path(), concurrency, None).await;
        let summary = run.summary.expect("download");
        assert_eq!(summary.downloaded, u64::from(spec.segments));
        check_joined(&dir.path().join("vod.part0001.ts"), &spec);
        let x = media / run.secs;
        println!(
            "B8 {label}: concurrency {concurrency}: {:.2} s, {x:.0}× realtime, {:.0} MB/s; \
             after each join step at most {} segment files ({:.1} MB) waited",
            run.secs,
            mb / run.secs,
            run.peak_waiting.0,
            run.peak_waiting.1 as f64 / 1e6
        );
        realtime.push(x);
    }
    let (parallel_x, serial_x) = (realtime[0], realtime[1]);
    println!(
        "B8 {label}: concurrency 6 is {:.1}× concurrency 1",
        parallel_x / serial_x
    );

    // Stopped halfway (a process killed), then resumed: finished segments are not fetched again.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("dir");
    let before: u64 = origin.segment_requests().iter().sum();
    let half = u64::from(spec.segments / 2);
    let first = download(&origin, dir.path(), 6, Some(half)).await;
    assert!(first.summary.is_err(), "stopped halfway");
    let output = dir.path().join("vod.part0001.ts");
    let temp = std::fs::metadata(temp_path(&output)).map_or(0, |m| m.len());
    let after_first: u64 = origin.segment_requests().iter().sum();
    let second = download(&origin, dir.path(), 6, None).await;
    let summary = second.summary.expect("resumed");
    check_joined(&output, &spec);
    let requests = origin.segment_requests();
    let second_requests = requests.iter().sum::<u64>() - after_first;
    let total = u64::from(spec.segments);
    // The stopped run and its resume fetch each segment once, plus those cut off in flight.
    let refetched = (after_first - before) + second_requests - total;
    println!(
        "B8 {label}: stopped after {half} segments ({:.0} MB joined) in {:.2} s: {} requests; \
         resumed in {:.2} s: {second_requests} requests ({} segments reused), {refetched} \
         fetched twice (in flight at the stop)",
        temp as f64 / 1e6,
        first.secs,
        after_first - before,
        second.secs,
        summary.reused
    );
    assert_eq!(summary.downloaded, second_requests);
    assert!(
        refetched <= 6,
        "at most the downloads in flight are fetched again: {refetched}"
    );
    Figures {
        parallel_x,
        serial_x,
        refetched_after_resume: refetched,
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: make bench-vod"]
async fn bench_vod_download() {
    let mut spec = VodOriginSpec::realistic(env_or("B8_MINUTES", 60));
    if let Ok(range) = std::env::var("B8_LATENCY_MS") {
        let ms: Vec<u64> = range.split('-').filter_map(|v| v.parse().ok()).collect();
        if let [lo, hi] = ms[..] {
            spec.first_byte = (Duration::from_millis(lo), Duration::from_millis(hi));
        }
    }
    let f = bench(spec, "bench").await;
    assert!(f.parallel_x >= 20.0, "target ≥ 20× realtime");
}

/// The same run on 2 minutes of a small bitrate (< 5 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_segments_beat_one_at_a_time_and_a_resume_refetches_only_what_was_in_flight() {
    let spec = VodOriginSpec {
        segments: 60,
        segment_secs: 2.0,
        bitrate_bps: 400_000,
        first_byte: (Duration::from_millis(30), Duration::from_millis(40)),
    };
    let f = bench(spec, "small").await;
    assert!(
        f.parallel_x >= 2.0 * f.serial_x,
        "6 at a time: {:.0}×, 1 at a time: {:.0}×",
        f.parallel_x,
        f.serial_x
    );
    assert!(f.refetched_after_resume <= 6);
}
