//! Fake Radarr and Sonarr: wire shapes, auth, generator, faults, control API, 30k streaming.

use std::time::{Duration, Instant};

use serde_json::Value;
use tapearr_testkit::arr::{ArrConfig, ArrFault, Malformed, Opt};
use tapearr_testkit::radarr::{self, FakeRadarr, Movie, generate_movies};
use tapearr_testkit::sonarr::{self, FakeSonarr, Series, generate_series};

use super::client;

fn roots() -> Vec<String> {
    vec!["/movies".into(), "/movies-4k".into()]
}

async fn get_json(url: &str, key: &str) -> (u16, Value) {
    let res = client()
        .get(url)
        .header("X-Api-Key", key)
        .send()
        .await
        .expect("send");
    let status = res.status().as_u16();
    let body = res.bytes().await.expect("body");
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn movies(r: &FakeRadarr) -> Vec<Value> {
    let (status, v) = get_json(&format!("{}/api/v3/movie", r.url()), r.api_key()).await;
    assert_eq!(status, 200);
    v.as_array().cloned().expect("an array")
}

#[test]
fn the_generator_is_deterministic_and_varied() {
    let a = generate_movies(2_000, 42, &roots());
    assert_eq!(a, generate_movies(2_000, 42, &roots()));
    assert_ne!(a, generate_movies(2_000, 43, &roots()));
    // Movie i does not depend on how many are generated.
    assert_eq!(a[..10], generate_movies(10, 42, &roots())[..]);
    assert_eq!(
        generate_series(500, 9, &["/tv".into()]),
        generate_series(500, 9, &["/tv".into()])
    );

    let count = |f: &dyn Fn(&Movie) -> bool| a.iter().filter(|m| f(m)).count();
    let title = |m: &Movie| m.title.as_ref().cloned().unwrap_or_default();
    let original = |m: &Movie| m.original_title.as_ref().cloned().unwrap_or_default();
    let trailer = |m: &Movie| m.youtube_trailer_id.clone();
    // A realistic mix, every kind present.
    assert!(count(&|m| !title(m).is_ascii() || !original(m).is_ascii()) > 300);
    assert!(
        count(&|m| original(m)
            .chars()
            .any(|c| ('\u{3040}'..='\u{9fff}').contains(&c)))
            > 10
    );
    assert!(
        count(&|m| original(m)
            .chars()
            .any(|c| ('\u{0590}'..='\u{06ff}').contains(&c)))
            > 10
    );
    assert!(count(&|m| title(m).contains(':')) > 10);
    assert!(count(&|m| matches!(trailer(m), Opt::Some(ref t) if t.len() == 11)) > 800);
    assert!(count(&|m| matches!(trailer(m), Opt::Some(ref t) if t.is_empty())) > 400);
    assert!(count(&|m| trailer(m) == Opt::Missing) > 50);
    assert!(count(&|m| trailer(m) == Opt::Null) > 10);
    assert!(count(&|m| m.imdb_id == Opt::Missing) > 50);
    assert!(count(&|m| m.file.is_none()) > 200);
    assert!(
        count(&|m| m
            .root_folder_path
            .as_ref()
            .is_some_and(|r| r == "/movies-4k"))
            > 100
    );
    let mut tmdb: Vec<i32> = a.iter().map(|m| m.tmdb_id).collect();
    tmdb.sort_unstable();
    tmdb.dedup();
    assert_eq!(tmdb.len(), a.len(), "tmdbIds are unique");
}

#[tokio::test]
async fn radarr_serves_the_library_in_the_wire_format() {
    let r = FakeRadarr::start().await.expect("radarr");
    let ids = r.generate(300, 1);
    assert_eq!(ids, (1..=300).collect::<Vec<_>>());
    let matrix = r.add_movie(
        Movie::new(603, "The Matrix", 1999)
            .trailer("vKQi3bBA1y8")
            .imdb("tt0133093")
            .with_file(8_589_934_592),
    );
    assert_eq!(matrix, 301);
    let list = movies(&r).await;
    assert_eq!(list.len(), 301);
    for m in &list {
        assert!(
            m["id"].is_i64() && m["tmdbId"].is_i64() && m["year"].is_i64(),
            "{m}"
        );
        assert!(m["title"].is_string() && m["monitored"].is_boolean(), "{m}");
        assert_eq!(m["folderName"], m["path"], "folderName is the whole path");
        assert_eq!(m["titleSlug"], Value::String(m["tmdbId"].to_string()));
        assert_eq!(m["hasFile"].as_bool(), Some(m.get("movieFile").is_some()));
        let t = &m["youTubeTrailerId"];
        assert!(t.is_string() || t.is_null() || m.get("youTubeTrailerId").is_none());
        for img in m["images"].as_array().into_iter().flatten() {
            assert!(
                img["coverType"].is_string() && img["url"].is_string(),
                "{img}"
            );
        }
        assert!(m["ratings"].is_object(), "nested ratings (v4+)");
    }
    assert!(
        list[..300]
            .iter()
            .all(|m| m["ratings"]["tmdb"]["value"].is_number())
    );
    let m = &list[300];
    assert_eq!(m["youTubeTrailerId"], "vKQi3bBA1y8");
    assert_eq!(m["path"], "/movies/The Matrix (1999)");
    assert_eq!(
        m["movieFile"]["path"],
        "/movies/The Matrix (1999)/The Matrix (1999) Bluray-1080p.mkv"
    );
    assert_eq!(
        m["images"][0]["url"]
            .as_str()
            .map(|u| u.starts_with("/MediaCover/301/poster.jpg?lastWrite=")),
        Some(true)
    );
    assert_eq!(
        m["images"][0]["remoteUrl"],
        "https://image.tmdb.org/t/p/original/poster603.jpg"
    );

    // One movie, 404, the tmdbId filter.
    let (s, one) = get_json(&format!("{}/api/v3/movie/301", r.url()), r.api_key()).await;
    assert_eq!((s, &one), (200, m));
    let (s, err) = get_json(&format!("{}/api/v3/movie/999", r.url()), r.api_key()).await;
    assert_eq!(s, 404);
    assert_eq!(err["message"], "Movie with ID 999 does not exist");
    let (_, found) = get_json(&format!("{}/api/v3/movie?tmdbId=603", r.url()), r.api_key()).await;
    assert_eq!(found.as_array().map(Vec::len), Some(1));
    let (_, none) = get_json(&format!("{}/api/v3/movie?tmdbId=1", r.url()), r.api_key()).await;
    assert_eq!(none, Value::Array(vec![]));

    // Root folders, status, tags.
    let (_, roots) = get_json(&format!("{}/api/v3/rootfolder", r.url()), r.api_key()).await;
    assert_eq!(roots[1]["path"], "/movies-4k");
    assert!(roots[0]["freeSpace"].is_i64());
    let (_, status) = get_json(&format!("{}/api/v3/system/status", r.url()), r.api_key()).await;
    assert_eq!(status["appName"], "Radarr");
    assert_eq!(status["version"], radarr::DEFAULT_VERSION);
    r.set_tags(&[(1, "4k")]);
    let (_, tags) = get_json(&format!("{}/api/v3/tag", r.url()), r.api_key()).await;
    assert_eq!(tags, serde_json::json!([{"id": 1, "label": "4k"}]));

    // Posters are real JPEGs.
    let poster = client()
        .get(format!("{}/MediaCover/301/poster.jpg", r.url()))
        .send()
        .await
        .expect("poster");
    assert_eq!(poster.status(), 200);
    let bytes = poster.bytes().await.expect("poster bytes");
    assert_eq!(&bytes[..3], &[0xff, 0xd8, 0xff], "a JPEG");
}

#[tokio::test]
async fn arr_auth_accepts_the_three_ways_and_refuses_the_rest() {
    let r = FakeRadarr::start().await.expect("radarr");
    let url = format!("{}/api/v3/system/status", r.url());
    let c = client();
    let ok_query = c
        .get(format!("{url}?apikey={}", r.api_key()))
        .send()
        .await
        .expect("q");
    let ok_header = c
        .get(&url)
        .header("X-Api-Key", r.api_key())
        .send()
        .await
        .expect("h");
    let ok_bearer = c
        .get(&url)
        .bearer_auth(r.api_key())
        .send()
        .await
        .expect("b");
    for res in [ok_query, ok_header, ok_bearer] {
        assert_eq!(res.status(), 200);
    }
    let wrong = c
        .get(&url)
        .header("X-Api-Key", "nope")
        .send()
        .await
        .expect("w");
    assert_eq!(wrong.status(), 401);
    assert!(
        wrong.bytes().await.expect("body").is_empty(),
        "401 has an empty body"
    );
    let none = c
        .get(format!("{}/api/v3/movie", r.url()))
        .send()
        .await
        .expect("n");
    assert_eq!(none.status(), 401);
    let stats = r.stats();
    assert_eq!(
        (stats.requests, stats.unauthorized, stats.list_requests),
        (5, 2, 0)
    );
}

async fn raw_list(r: &FakeRadarr) -> (u16, Result<Vec<u8>, String>) {
    let res = client()
        .get(format!("{}/api/v3/movie", r.url()))
        .header("X-Api-Key", r.api_key())
        .send()
        .await
        .expect("send");
    let status = res.status().as_u16();
    (
        status,
        res.bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| format!("{e:?}")),
    )
}

#[tokio::test]
async fn list_faults_behave_as_documented() {
    let r = FakeRadarr::start().await.expect("radarr");
    r.generate(500, 3);

    r.fault_once(ArrFault::Empty);
    let (s, body) = raw_list(&r).await;
    assert_eq!((s, body.expect("body")), (200, b"[]".to_vec()));

    r.fault_once(ArrFault::ServerError);
    let (s, body) = raw_list(&r).await;
    assert_eq!(s, 500);
    let err: Value = serde_json::from_slice(&body.expect("body")).expect("json");
    assert!(err["message"].is_string() && err["description"].is_string());

    // A dropped connection mid-body: the client sees a transport error.
    r.fault_once(ArrFault::AbortAfter(100));
    let (s, body) = raw_list(&r).await;
    assert_eq!(s, 200);
    assert!(
        body.is_err(),
        "the body must fail, got {} bytes",
        body.map_or(0, |b| b.len())
    );

    // A clean end after 100 items and a half: valid HTTP, broken JSON.
    r.fault_once(ArrFault::TruncateAfter(100));
    let (s, body) = raw_list(&r).await;
    assert_eq!(s, 200);
    let body = body.expect("a complete body");
    let err = serde_json::from_slice::<Vec<Value>>(&body).expect_err("truncated JSON");
    assert!(err.is_eof(), "{err}");
    let starts = body.windows(4).filter(|w| w == b"\n  {").count();
    assert_eq!(starts, 101, "100 whole items and the start of one more");

    // One malformed item among good ones: each kind.
    for (kind, check) in [
        (Malformed::IdAsString, "string tmdbId"),
        (Malformed::MissingTitle, "no title"),
        (Malformed::NotAnObject, "a string"),
    ] {
        r.fault_once(ArrFault::Malformed { index: 7, kind });
        let list = movies(&r).await;
        assert_eq!(list.len(), 500, "{check}");
        let bad = &list[7];
        match check {
            "string tmdbId" => assert!(bad["tmdbId"].is_string(), "{bad}"),
            "no title" => assert!(bad.get("title").is_none() && bad["tmdbId"].is_i64()),
            _ => assert!(bad.is_string()),
        }
        assert!(list[6]["tmdbId"].is_i64() && list[8]["title"].is_string());
    }

    // Faults set for good stay until cleared; `once` faults go first.
    r.set_fault(Some(ArrFault::Empty));
    r.fault_once(ArrFault::ServerError);
    assert_eq!(raw_list(&r).await.0, 500);
    assert_eq!(raw_list(&r).await.1.expect("body"), b"[]".to_vec());
    assert_eq!(raw_list(&r).await.1.expect("body"), b"[]".to_vec());
    r.clear_faults();
    assert_eq!(movies(&r).await.len(), 500);

    // A slow Arr: the client's timeout fires.
    r.fault_once(ArrFault::Delay(Duration::from_secs(3)));
    let started = Instant::now();
    let res = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client")
        .get(format!("{}/api/v3/movie", r.url()))
        .header("X-Api-Key", r.api_key())
        .send()
        .await;
    assert!(res.is_err_and(|e| e.is_timeout()));
    assert!(started.elapsed() < Duration::from_secs(2));
    let stats = r.stats();
    assert_eq!(stats.list_requests, 12);
}

#[tokio::test]
async fn edits_and_the_http_control_api() {
    let r = FakeRadarr::start().await.expect("radarr");
    let c = client();
    let ctl = r.control_url();
    let res = c
        .post(format!("{ctl}/_control/generate"))
        .json(&serde_json::json!({"count": 20, "seed": 5}))
        .send()
        .await
        .expect("generate");
    assert_eq!(
        res.json::<Value>().await.expect("json"),
        serde_json::json!({"first": 1, "last": 20})
    );
    let res = c
        .post(format!("{ctl}/_control/movies"))
        .json(
            &serde_json::json!({"tmdbId": 550, "title": "Fight Club", "year": 1999,
            "youTubeTrailerId": "O-b2VfmmbyA", "path": "/data/Fight Club (1999)", "hasFile": true}),
        )
        .send()
        .await
        .expect("add");
    let id = res.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id") as i32;
    let m = r.movie(id).expect("stored");
    assert_eq!(m.root_folder_path, Opt::Some("/data".to_owned()));
    assert!(m.file.is_some());
    assert!(r.update_movie(id, |m| m.youtube_trailer_id = Opt::Null));
    let list = movies(&r).await;
    assert!(list[20]["youTubeTrailerId"].is_null());

    let res = c
        .post(format!("{ctl}/_control/fault"))
        .json(&serde_json::json!({"fault": "malformed", "n": 0, "kind": "missing_title", "once": true}))
        .send()
        .await
        .expect("fault");
    assert_eq!(res.status(), 204);
    assert!(movies(&r).await[0].get("title").is_none());
    assert!(movies(&r).await[0].get("title").is_some(), "once");

    let res = c
        .delete(format!("{ctl}/_control/items/1"))
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), 204);
    assert_eq!(movies(&r).await.len(), 20);
    let stats: Value = c
        .get(format!("{ctl}/_control/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json");
    assert_eq!(stats["items"], 20);
}

#[tokio::test]
async fn url_base_and_radarr_3_shapes() {
    let r = FakeRadarr::start_with(ArrConfig {
        url_base: "/radarr".into(),
        version: "3.2.2.5080".into(),
        ..radarr::default_config()
    })
    .await
    .expect("radarr");
    r.add_movie(Movie::new(603, "The Matrix", 1999));
    assert!(r.url().ends_with("/radarr"));
    let list = movies(&r).await;
    let m = &list[0];
    assert!(
        m["ratings"]["votes"].is_i64(),
        "3.x ratings are flat: {}",
        m["ratings"]
    );
    for absent in [
        "originalLanguage",
        "popularity",
        "statistics",
        "releaseDate",
        "keywords",
    ] {
        assert!(m.get(absent).is_none(), "{absent} is not in Radarr 3");
    }
    assert!(
        m["images"][0]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("/radarr/MediaCover/"))
    );
    let outside = client()
        .get(format!("{}/api/v3/movie", r.control_url()))
        .header("X-Api-Key", r.api_key())
        .send()
        .await
        .expect("send");
    assert_eq!(
        outside.status(),
        404,
        "the API lives under the url base only"
    );
}

#[tokio::test]
async fn sonarr_v3_and_v4_differ_where_the_real_ones_do() {
    let v4 = FakeSonarr::start().await.expect("sonarr v4");
    let v3 = FakeSonarr::start_with(sonarr::config_v3())
        .await
        .expect("sonarr v3");
    for s in [&v4, &v3] {
        s.generate(200, 11);
        s.add_series(
            Series::new(81189, "Breaking Bad", 2008)
                .tmdb(1396)
                .imdb("tt0903747"),
        );
    }
    let list = |s: &FakeSonarr| {
        let url = format!("{}/api/v3/series", s.url());
        let key = s.api_key().to_owned();
        async move {
            get_json(&url, &key)
                .await
                .1
                .as_array()
                .cloned()
                .expect("array")
        }
    };
    let (l4, l3) = (list(&v4).await, list(&v3).await);
    assert_eq!((l4.len(), l3.len()), (201, 201));
    let bb4 = &l4[200];
    assert_eq!(bb4["tmdbId"], 1396);
    assert_eq!(bb4["titleSlug"], "breaking-bad");
    assert_eq!(bb4["monitorNewItems"], "all");
    assert_eq!(bb4["ratings"]["votes"], 1000, "flat ratings");
    assert_eq!(bb4["statistics"]["episodeFileCount"], 8);
    assert_eq!(bb4["seasons"][0]["statistics"]["percentOfEpisodes"], 100.0);
    let bb3 = &l3[200];
    for absent in ["tmdbId", "originalLanguage", "monitorNewItems", "lastAired"] {
        assert!(bb3.get(absent).is_none(), "{absent} is not in Sonarr 3");
    }
    assert_eq!(bb3["tvdbId"], 81189);
    for s in l4.iter().chain(&l3) {
        assert!(
            s["tvdbId"].is_i64() && s["title"].is_string() && s["seasons"].is_array(),
            "{s}"
        );
    }
    assert!(
        l4.iter()
            .any(|s| s["title"].as_str().is_some_and(|t| !t.is_ascii()))
    );
    assert!(
        l4.iter().any(|s| s["tmdbId"] == 0),
        "4.x writes 0 when it knows no tmdbId"
    );

    let status = |s: &FakeSonarr| {
        let url = format!("{}/api/v3/system/status", s.url());
        let key = s.api_key().to_owned();
        async move { get_json(&url, &key).await.1 }
    };
    let (s4, s3) = (status(&v4).await, status(&v3).await);
    assert_eq!(s4["version"], sonarr::VERSION_V4);
    assert_eq!(s4["databaseType"], "sqLite");
    assert_eq!(s3["version"], sonarr::VERSION_V3);
    assert_eq!(s3["isMono"], true);
    assert!(s3.get("databaseType").is_none());

    let (code, _) = get_json(&format!("{}/api/v3/series?tvdbId=81189", v3.url()), "wrong").await;
    assert_eq!(code, 401);
    v3.fault_once(ArrFault::Malformed {
        index: 0,
        kind: Malformed::IdAsString,
    });
    assert!(list(&v3).await[0]["tvdbId"].is_string());
    let (code, err) = get_json(&format!("{}/api/v3/series/999", v4.url()), v4.api_key()).await;
    assert_eq!(code, 404);
    assert_eq!(err["message"], "Series with ID 999 does not exist");
}

/// `VmHWM` (peak RSS) of this process in KiB; resets the peak first when `reset`.
fn peak_rss_kib(reset: bool) -> Option<u64> {
    if reset {
        // "5" resets the peak (Linux 4.0+); without it the numbers only print.
        std::fs::write("/proc/self/clear_refs", "5").ok()?;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_thousand_movies_stream_without_a_second_copy() {
    use futures_util::StreamExt;
    let r = FakeRadarr::start().await.expect("radarr");
    let started = Instant::now();
    r.generate(30_000, 2024);
    let generated = started.elapsed();

    let base = peak_rss_kib(true);
    let started = Instant::now();
    let res = client()
        .get(format!("{}/api/v3/movie", r.url()))
        .header("X-Api-Key", r.api_key())
        .send()
        .await
        .expect("send");
    let first_byte = started.elapsed();
    let mut body = res.bytes_stream();
    let (mut bytes, mut items, mut chunks) = (0usize, 0usize, 0usize);
    // The last 3 bytes of the previous chunk, so a marker split between chunks counts.
    let mut window: Vec<u8> = Vec::with_capacity(300 * 1024);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("chunk");
        bytes += chunk.len();
        chunks += 1;
        let keep = window.len().min(3);
        window.drain(..window.len() - keep);
        window.extend_from_slice(&chunk);
        // Each item is one indented object two spaces in: `\n  {`.
        items += window.windows(4).filter(|w| w == b"\n  {").count();
    }
    let streamed = started.elapsed();
    let peak = peak_rss_kib(false);
    println!(
        "30k movies: generated in {generated:?}; first byte after {first_byte:?}, \
         {:.1} MB in {chunks} chunks streamed in {streamed:?}; peak RSS {:?} KiB -> {:?} KiB",
        bytes as f64 / 1e6,
        base,
        peak
    );
    assert_eq!(items, 30_000);
    assert!(
        first_byte < Duration::from_secs(1),
        "the first byte waits for nothing"
    );
    if let (Some(base), Some(peak)) = (base, peak) {
        let grown = (peak.saturating_sub(base) * 1024) as usize;
        assert!(
            grown < bytes / 4,
            "streaming grew the peak by {grown} bytes for a {bytes}-byte body: a second copy?"
        );
    }

    // And it parses as one array of 30,000 objects.
    let all = client()
        .get(format!("{}/api/v3/movie?apikey={}", r.url(), r.api_key()))
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body");
    let parsed: Vec<serde::de::IgnoredAny> = serde_json::from_slice(&all).expect("valid JSON");
    assert_eq!(parsed.len(), 30_000);
}
