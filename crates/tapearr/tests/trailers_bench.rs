//! B4 and B5 (`make bench-sync`): a sync of 10k movies + 2k series from the fake Radarr and
//! Sonarr, a re-sync of unchanged data, and a disk scan of those 12k folders (cold, then
//! incremental), against the real server binary, with its peak RSS. Prints the figures for
//! docs/benchmarks.md; asserts only that the work was done, not how fast.

mod common;

use common::{Client, Server, ServerOptions, install_crypto};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use tapearr_api::routes::trailers::JobQueued;
use tapearr_testkit::arr::ArrConfig;
use tapearr_testkit::radarr::FakeRadarr;
use tapearr_testkit::sonarr::FakeSonarr;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident memory of a process, from /proc (MiB).
fn peak_rss_mib(pid: i32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Creates each item's folder, with a trailer in every second one, dated a day back like a
/// library that exists already (a folder changed in the last seconds is always re-read).
/// Returns how many items have a trailer in their folder (generated items may share one).
fn make_folders(paths: Vec<String>) -> usize {
    let day_ago = std::time::SystemTime::now() - Duration::from_secs(86_400);
    for (i, p) in paths.iter().enumerate() {
        let dir = Path::new(p);
        std::fs::create_dir_all(dir).expect("media folder");
        if i % 2 == 0 {
            let file = dir.join("Some Title-trailer.mp4");
            std::fs::write(&file, b"trailer").expect("trailer");
            age(&file, day_ago);
        }
        age(dir, day_ago);
    }
    paths
        .iter()
        .filter(|p| Path::new(p).join("Some Title-trailer.mp4").exists())
        .count()
}

fn age(path: &Path, at: std::time::SystemTime) {
    std::fs::File::open(path)
        .and_then(|f| f.set_modified(at))
        .expect("set mtime");
}

async fn job(api: &mut Client, path: &str) -> Duration {
    let t = Instant::now();
    let r = api.post(path, json!({})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let id = r.json::<JobQueued>().job_id;
    api.wait_succeeded(&id, Duration::from_secs(600)).await;
    t.elapsed()
}

async fn add(api: &mut Client, kind: &str, url: &str, key: &str) -> String {
    let r = api
        .post(
            "/api/v1/trailers/connections",
            json!({"name": kind, "kind": kind, "url": url, "api_key": key}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().expect("id").to_string()
}

/// Waits for the sync jobs that adding the connections queued, then checks each connection.
async fn wait_synced(api: &mut Client, connections: &[(&str, usize)]) {
    let jobs = api
        .get("/api/v1/jobs?kind=trailers.sync&limit=50")
        .await
        .body;
    for job in jobs["items"].as_array().cloned().unwrap_or_default() {
        let id = job["id"].as_str().expect("job id");
        api.wait_succeeded(id, Duration::from_secs(600)).await;
    }
    for (id, items) in connections {
        let c = api
            .get(&format!("/api/v1/trailers/connections/{id}"))
            .await
            .body;
        assert!(c["last_sync_error"].is_null(), "{c}");
        assert!(
            c["last_sync_items"].as_u64().unwrap_or(0) as usize >= items * 99 / 100,
            "{c}"
        );
    }
}

#[tokio::test]
#[ignore = "benchmark: run with `make bench-sync`"]
async fn bench_sync_and_scan() {
    install_crypto();
    let movies = env_usize("B4_MOVIES", 10_000);
    let series = env_usize("B4_SERIES", 2_000);
    let library = tempfile::tempdir().expect("library");
    let movie_root = library.path().join("movies").display().to_string();
    let tv_root = library.path().join("tv").display().to_string();
    let radarr = FakeRadarr::start_with(ArrConfig {
        root_folders: vec![movie_root],
        ..tapearr_testkit::radarr::default_config()
    })
    .await
    .expect("radarr");
    let sonarr = FakeSonarr::start_with(ArrConfig {
        root_folders: vec![tv_root],
        ..tapearr_testkit::sonarr::default_config()
    })
    .await
    .expect("sonarr");
    radarr.generate(movies, 4);
    sonarr.generate(series, 5);
    let paths: Vec<String> = radarr
        .movies()
        .iter()
        .filter_map(|m| m.path.as_ref().cloned())
        .chain(sonarr.all().iter().filter_map(|s| s.path.as_ref().cloned()))
        .collect();
    let folders = paths.len();
    let with_trailer = make_folders(paths);

    let dir = tempfile::tempdir().expect("data dir");
    let server = Server::start(ServerOptions {
        data_dir: dir.path(),
        database_url: None,
        env: vec![
            (
                "TAPEARR_LIBRARY_ROOTS",
                library.path().display().to_string(),
            ),
            ("TAPEARR_DISK__LOW_FREE_GB", "0".into()),
        ],
    });
    let (mut api, _) = Client::admin(&server).await;

    // First sync: queued by adding each connection.
    let t = Instant::now();
    let r_id = add(&mut api, "radarr", &radarr.url(), radarr.api_key()).await;
    let s_id = add(&mut api, "sonarr", &sonarr.url(), sonarr.api_key()).await;
    wait_synced(&mut api, &[(&r_id, movies), (&s_id, series)]).await;
    let first_sync = t.elapsed();
    let resync = job(
        &mut api,
        &format!("/api/v1/trailers/connections/{r_id}/sync"),
    )
    .await
        + job(
            &mut api,
            &format!("/api/v1/trailers/connections/{s_id}/sync"),
        )
        .await;
    let rss_sync = peak_rss_mib(server.pid());
    let cold_scan = job(&mut api, "/api/v1/trailers/scan").await;
    let warm_scan = job(&mut api, "/api/v1/trailers/scan").await;
    let rss = peak_rss_mib(server.pid());

    let existing = api
        .get("/api/v1/trailers/media?trailer=has&limit=1")
        .await
        .body["total"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(
        existing as usize, with_trailer,
        "the scan found every item's trailer"
    );
    println!(
        "B4 sync {movies} movies + {series} series: first {:.2} s, unchanged re-sync {:.2} s, peak RSS {:.0} MiB",
        first_sync.as_secs_f64(),
        resync.as_secs_f64(),
        rss_sync
    );
    println!(
        "B5 scan {folders} folders: cold {:.2} s, incremental {:.2} s, peak RSS {:.0} MiB ({existing} items with a trailer found)",
        cold_scan.as_secs_f64(),
        warm_scan.as_secs_f64(),
        rss
    );
    for line in server.output_text().lines().filter(|l| {
        l.contains("trailer disk scan finished") || l.contains("trailer library synced")
    }) {
        println!("  {line}");
    }
    server.terminate();
}
