//! B6 (`make bench-api`): the list endpoints under load. The release server gets 10k movies
//! synced from the fake Radarr (their folders scanned), 10k finished recordings in its
//! database and 20 channels recording live from the fake Twitch; then each list endpoint in
//! turn gets an open-loop constant request rate (default 500 req/s for 5 s after a 1 s warm-up)
//! and its latency percentiles are printed as the rows of docs/benchmarks.md's B6 table.
//!
//! Open loop: request `i` is due at `start + i / rate` and its latency is counted from that due
//! time, so a slow server is not hidden by the generator waiting for it (no coordinated
//! omission). `B6_BEFORE_BIN` also runs another `tapearr` binary through the same load first
//! (the "before" columns); `B6_RATE`, `B6_SECONDS`, `B6_MOVIES`, `B6_RECORDINGS`, `B6_LIVE`
//! change the load, `B6_ONLY=word` runs only the endpoints whose name has it. `B6_WRITE_DOCS=1`
//! writes the table into docs/benchmarks.md's B6 section.

mod common;

use common::twitch_world::{self, add_channel, id_of};
use common::{Client, Server, ServerOptions, eventually};
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use tapearr_api::routes::trailers::JobQueued;
use tapearr_core::storage::RecordingStore;
use tapearr_core::streams::model::{Recording, RecordingStatus};
use tapearr_core::time::Timestamp;
use tapearr_testkit::arr::ArrConfig;
use tapearr_testkit::radarr::FakeRadarr;
use tokio::time::Instant;

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Latency figures of one endpoint's run, in milliseconds.
struct Figures {
    sent: usize,
    errors: usize,
    p50: f64,
    p99: f64,
    max: f64,
    bytes: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `rate` requests per second to `url` for `secs` seconds, open loop.
async fn open_loop(http: &reqwest::Client, url: &str, key: &str, rate: f64, secs: f64) -> Figures {
    let n = (rate * secs).round().max(1.0) as usize;
    let start = Instant::now() + Duration::from_millis(10);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due).await;
        let req = http.get(url).header("x-api-key", key);
        tasks.spawn(async move {
            let ok = match req.send().await {
                Ok(r) if r.status().is_success() => r.bytes().await.map(|b| b.len()).ok(),
                _ => None,
            };
            (due.elapsed().as_secs_f64() * 1000.0, ok)
        });
    }
    let mut latencies = Vec::with_capacity(n);
    let (mut errors, mut bytes) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((ms, Some(b))) => {
                latencies.push(ms);
                bytes = b;
            }
            _ => errors += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    Figures {
        sent: n,
        errors,
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        max: latencies.last().copied().unwrap_or(f64::NAN),
        bytes,
    }
}

fn make_folders(paths: &[String]) {
    let day_ago = std::time::SystemTime::now() - Duration::from_secs(86_400);
    for (i, p) in paths.iter().enumerate() {
        let dir = Path::new(p);
        std::fs::create_dir_all(dir).expect("media folder");
        if i % 2 == 0 {
            std::fs::write(dir.join("Some Title-trailer.mp4"), b"trailer").expect("trailer");
        }
        std::fs::File::open(dir)
            .and_then(|f| f.set_modified(day_ago))
            .expect("set mtime");
    }
}

async fn wait_jobs(api: &mut Client, kind: &str) {
    let jobs = api
        .get(&format!("/api/v1/jobs?kind={kind}&limit=50"))
        .await
        .body;
    for job in jobs["items"].as_array().cloned().unwrap_or_default() {
        let id = job["id"].as_str().expect("job id");
        api.wait_succeeded(id, Duration::from_secs(600)).await;
    }
}

/// Finished recordings written straight into the server's SQLite file, as a library that has
/// recorded for years holds them (the API has no way to create finished recordings).
async fn add_finished_recordings(data_dir: &Path, channel_id: &str, count: usize) {
    let url = format!("sqlite://{}", data_dir.join("tapearr.db").display());
    let db = tapearr_db::Db::connect(&url)
        .await
        .expect("open the server's database");
    let now = Timestamp::now().millis();
    for i in 0..count {
        let started = Timestamp(now - 86_400_000 - i as i64 * 3_600_000);
        let r = Recording {
            id: tapearr_core::ids::new_id(),
            channel_id: channel_id.to_string(),
            stream_id: None,
            status: RecordingStatus::Ready,
            dir: format!("/nowhere/{i}"),
            stem: format!("old {i}"),
            quality: "best".into(),
            started_at: started,
            ended_at: Some(Timestamp(started.millis() + 3_000_000)),
            bytes: 1_000_000,
            media_ms: 3_000_000,
            segments: 1500,
            missed_segments: 0,
            sessions: 1,
            owner: "bench".into(),
            heartbeat_at: started,
            end_reason: Some("offline".into()),
            error: None,
            updated_at: started,
            library: Default::default(),
            origin: Default::default(),
            labels: Default::default(),
        };
        db.insert_recording(&r).await.expect("insert recording");
    }
    db.pool().close().await;
}

struct Load {
    rate: f64,
    secs: f64,
    preview_rate: f64,
    movies: usize,
    recordings: usize,
    live: usize,
}

/// One endpoint's row: its name, the rate it got and its figures (`None`: the binary has no
/// such request, e.g. the cursor before it existed).
type Row = (String, f64, Option<Figures>);

/// Sets up a fresh world and server from `bin` (this tree's binary when `None`) and loads
/// every list endpoint in turn.
async fn measure(bin: Option<&Path>, load: &Load) -> Vec<Row> {
    let Load {
        rate,
        secs,
        preview_rate,
        movies,
        recordings,
        live,
    } = *load;

    let w = twitch_world::world().await;
    let movie_root = w.library.path().join("movies").display().to_string();
    let radarr = FakeRadarr::start_with(ArrConfig {
        root_folders: vec![movie_root],
        ..tapearr_testkit::radarr::default_config()
    })
    .await
    .expect("radarr");
    radarr.generate(movies, 4);
    let paths: Vec<String> = radarr
        .movies()
        .iter()
        .filter_map(|m| m.path.as_ref().cloned())
        .collect();
    make_folders(&paths);

    let data = tempfile::tempdir().expect("data dir");
    let mut env = twitch_world::env(&w, &[]);
    // A quieter log: the bench measures the API, not the log writer.
    env.push(("TAPEARR_LOG__LEVEL", "info".into()));
    let server = match bin {
        Some(bin) => Server::start_bin(
            bin,
            ServerOptions {
                data_dir: data.path(),
                database_url: None,
                env,
            },
        ),
        None => Server::start(ServerOptions {
            data_dir: data.path(),
            database_url: None,
            env,
        }),
    };
    let (mut api, key) = Client::admin(&server).await;

    // The library: synced, scanned, so every row's plan has real inputs.
    let r = api
        .post(
            "/api/v1/trailers/connections",
            json!({"name": "radarr", "kind": "radarr", "url": radarr.url(), "api_key": radarr.api_key()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    wait_jobs(&mut api, "trailers.sync").await;
    let r = api.post("/api/v1/trailers/scan", json!({})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let scan = r.json::<JobQueued>().job_id;
    api.wait_succeeded(&scan, Duration::from_secs(600)).await;

    // Recordings: the history, then the live ones.
    let mut channel_ids = Vec::new();
    for i in 0..live.max(1) {
        let login = format!("live{i:02}");
        w.twitch.add_user(&login, &login);
        channel_ids.push(id_of(&add_channel(&mut api, &login).await));
    }
    add_finished_recordings(data.path(), &channel_ids[0], recordings).await;
    for i in 0..live {
        w.twitch
            .go_live(&format!("live{i:02}"), "Bench", "Chess")
            .await
            .expect("live");
    }
    eventually(Duration::from_secs(60), "every channel recording", || {
        let mut c = api.clone();
        async move {
            let r = c.get("/api/v1/recordings?status=recording&limit=100").await;
            (r.body["total"].as_u64() == Some(live as u64)).then_some(())
        }
    })
    .await;

    let total = api.get("/api/v1/trailers/media?limit=1").await.body["total"]
        .as_u64()
        .unwrap_or(0);
    assert!(total as usize >= movies * 99 / 100, "{total} items synced");
    // A cursor deep in the list, where the old offset page was slowest.
    let deep = api
        .get("/api/v1/trailers/media?limit=50&offset=4950")
        .await
        .body;
    let cursor = deep["next_cursor"].as_str().map(str::to_string);
    let cursor_row = "trailers/media, cursor after 5000";

    let mut endpoints: Vec<(String, String, f64)> = vec![
        (
            "trailers/media, first page".into(),
            "/api/v1/trailers/media?limit=50".into(),
            rate,
        ),
        (
            "trailers/media, offset 5000".into(),
            "/api/v1/trailers/media?limit=50&offset=5000".into(),
            rate,
        ),
        (
            "trailers/media, offset 9950".into(),
            "/api/v1/trailers/media?limit=50&offset=9950".into(),
            rate,
        ),
        (
            "trailers/media, search \"the\"".into(),
            "/api/v1/trailers/media?limit=50&q=the".into(),
            rate,
        ),
        (
            "trailers/media, trailer=has".into(),
            "/api/v1/trailers/media?limit=50&trailer=has&offset=2000".into(),
            rate,
        ),
    ];
    endpoints.insert(
        3,
        (
            cursor_row.into(),
            cursor
                .as_ref()
                .map(|c| format!("/api/v1/trailers/media?limit=50&cursor={c}"))
                .unwrap_or_default(),
            rate,
        ),
    );
    endpoints.extend([
        (
            "recordings".to_string(),
            "/api/v1/recordings?limit=50".to_string(),
            rate,
        ),
        (
            "recordings, offset 5000".into(),
            "/api/v1/recordings?limit=50&offset=5000".into(),
            rate,
        ),
        (
            "recordings, live".into(),
            "/api/v1/recordings?status=recording".into(),
            rate,
        ),
        ("jobs".into(), "/api/v1/jobs?limit=50".into(), rate),
        ("events".into(), "/api/v1/events?limit=50".into(), rate),
        ("channels".into(), "/api/v1/channels".into(), rate),
        ("tasks".into(), "/api/v1/tasks".into(), rate),
        (
            "trailers/connections".into(),
            "/api/v1/trailers/connections".into(),
            rate,
        ),
        (
            "trailers/profiles".into(),
            "/api/v1/trailers/profiles".into(),
            rate,
        ),
        (
            "notifications/messages".into(),
            "/api/v1/notifications/messages".into(),
            rate,
        ),
        ("logs".into(), "/api/v1/logs?limit=50".into(), rate),
    ]);
    // The full preview is every item's plan (10k rows, megabytes of JSON): it is measured
    // alone, at the rate it can be served at, not at the list rate.
    endpoints.push((
        format!("trailers/preview (whole library, {preview_rate} req/s)"),
        "/api/v1/trailers/preview".into(),
        preview_rate,
    ));

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let label = bin.map_or_else(|| "this tree".to_string(), |b| b.display().to_string());
    println!(
        "B6 {label}: {total} media, {recordings} finished + {live} live recordings, {rate} req/s for {secs} s per endpoint"
    );
    let mut rows = Vec::new();
    // `B6_ONLY=word`: only the endpoints whose name contains it (a quick look at one fix).
    let only = std::env::var("B6_ONLY").unwrap_or_default();
    for (name, path, r) in &endpoints {
        if !name.contains(&only) {
            continue;
        }
        if path.is_empty() {
            rows.push((name.clone(), *r, None));
            continue;
        }
        let url = server.url(path);
        // Warm-up: connections open, caches filled.
        open_loop(&http, &url, &key, r.min(100.0), 1.0).await;
        let f = open_loop(
            &http,
            &url,
            &key,
            *r,
            if *r < 50.0 { secs * 2.0 } else { secs },
        )
        .await;
        println!(
            "{name}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {}/{} errors, {} KiB",
            f.p50,
            f.p99,
            f.max,
            f.errors,
            f.sent,
            f.bytes / 1024
        );
        rows.push((name.clone(), *r, Some(f)));
    }
    let still = api.get("/api/v1/recordings?status=recording").await.body["total"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(still, live as u64, "every recording ran through the load");
    server.terminate();
    rows
}

fn cell(f: Option<&Figures>, pick: impl Fn(&Figures) -> f64) -> String {
    f.map_or_else(|| "—".to_string(), |f| format!("{:.1} ms", pick(f)))
}

/// The B6 section: one row per endpoint, the before columns when a before binary ran.
fn section(load: &Load, before: Option<&(String, Vec<Row>)>, after: &[Row]) -> String {
    let machine = format!(
        "{} cores",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    let mut out = format!(
        "## B6 — API under load (`make bench-api`)\n\n\
         The release `tapearr serve` on SQLite with {} movies synced from the fake Radarr (folders \
         scanned), {} finished recordings in its database and {} channels recording live from the \
         fake Twitch the whole time. Each list endpoint in turn gets an open-loop constant rate \
         for {} s after a 1 s warm-up (crates/tapearr/tests/api_bench.rs, a Rust load generator \
         on reqwest/tokio in the same process as the fakes); latency runs from each request's \
         due time, so a slow server is not hidden by the generator waiting for it. Target: p99 \
         < 25 ms at 500 req/s for every list endpoint, whatever the offset. Machine: {machine}, \
         shared with other builds while it ran.\n\n",
        load.movies, load.recordings, load.live, load.secs
    );
    match before {
        Some((what, rows)) => {
            out.push_str(&format!(
                "Command: `make bench-api B6_BEFORE_BIN=<an older release tapearr>`. Before: {what}. \
                 After: this tree.\n\n\
                 | endpoint | rate | before p50 | before p99 | p50 | p99 | max | errors |\n\
                 |---|---|---|---|---|---|---|---|\n"
            ));
            for (name, rate, f) in after {
                let old = rows
                    .iter()
                    .find(|(n, _, _)| n == name)
                    .and_then(|r| r.2.as_ref());
                out.push_str(&format!(
                    "| `{name}` | {rate} req/s | {} | {} | {} | {} | {} | {} |\n",
                    cell(old, |f| f.p50),
                    cell(old, |f| f.p99),
                    cell(f.as_ref(), |f| f.p50),
                    cell(f.as_ref(), |f| f.p99),
                    cell(f.as_ref(), |f| f.max),
                    f.as_ref()
                        .map_or_else(String::new, |f| format!("{}/{}", f.errors, f.sent)),
                ));
            }
        }
        None => {
            out.push_str(
                "| endpoint | rate | p50 | p99 | max | errors |\n|---|---|---|---|---|---|\n",
            );
            for (name, rate, f) in after {
                out.push_str(&format!(
                    "| `{name}` | {rate} req/s | {} | {} | {} | {} |\n",
                    cell(f.as_ref(), |f| f.p50),
                    cell(f.as_ref(), |f| f.p99),
                    cell(f.as_ref(), |f| f.max),
                    f.as_ref()
                        .map_or_else(String::new, |f| format!("{}/{}", f.errors, f.sent)),
                ));
            }
        }
    }
    let load_avg = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    out.push_str(&format!(
        "\nLoad average (1 min) when the run ended: {load_avg}; p99 tails move with the other work \
         on this machine, p50 much less. Known limits: the search (`q=`) and trailer-state \
         (`trailer=`) filters count their matches over the whole library for `total` (a \
         `LIKE '%…%'` cannot use an index; the trailer filter reads its ids from \
         `trailer_downloads_status_media`), so they cost O(library) per request and do not keep up \
         with 500 req/s at 10k items. The preview answers for the whole library by design (the \
         dialog groups it), so it is measured at a low rate.\n"
    ));
    out
}

/// Replaces (or appends) the B6 load section of docs/benchmarks.md, keeping the others.
fn write_docs(section: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/benchmarks.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let head = "## B6 — API under load";
    let text = match text.find(head) {
        Some(start) => {
            let end = text[start + head.len()..]
                .find("\n## ")
                .map_or(text.len(), |i| start + head.len() + i + 1);
            format!("{}{}\n{}", &text[..start], section.trim_end(), &text[end..])
        }
        None => format!("{}\n\n{}", text.trim_end(), section),
    };
    std::fs::write(&path, text).expect("write docs/benchmarks.md");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with `make bench-api`"]
async fn bench_list_endpoints_under_load() {
    let load = Load {
        rate: env_num("B6_RATE", 500.0),
        secs: env_num("B6_SECONDS", 5.0),
        preview_rate: env_num("B6_PREVIEW_RATE", 2.0),
        movies: env_num("B6_MOVIES", 10_000.0) as usize,
        recordings: env_num("B6_RECORDINGS", 10_000.0) as usize,
        live: env_num("B6_LIVE", 20.0) as usize,
    };
    let before = match std::env::var("B6_BEFORE_BIN")
        .ok()
        .filter(|b| !b.is_empty())
    {
        Some(bin) => {
            let what = std::env::var("B6_BEFORE_LABEL").unwrap_or_else(|_| bin.clone());
            Some((what, measure(Some(Path::new(&bin)), &load).await))
        }
        None => None,
    };
    let after = measure(None, &load).await;
    let text = section(&load, before.as_ref(), &after);
    println!("{text}");
    // A partial run (`B6_ONLY`) never replaces the documented table.
    if std::env::var("B6_WRITE_DOCS").is_ok_and(|v| v == "1")
        && std::env::var("B6_ONLY").unwrap_or_default().is_empty()
    {
        write_docs(&text);
    }
}
