//! Quality upgrades and per-slot crash safety (#18), on SQLite and PostgreSQL, with a fake
//! Radarr and TMDB and the real yt-dlp, ffprobe and ffmpeg.
//!
//! * A trailer placed at 180p under a profile that wants up to 360p (upgrades on) is looked at
//!   again by each run (the interval is 0 here): while nothing taller exists nothing changes;
//!   when the same video is offered at 360p it is renamed over the old file (same name, no
//!   second file); then, with the profile raised to 720p, a different, taller video replaces
//!   it once more, and after that (two upgrades) the slot is left alone.
//! * SIGKILL while an extra (not the first trailer) downloads, then a restart: exactly one
//!   file per slot, no temp files, every record names its file.

mod common;

use common::{Client, JobRecord, Server, ServerOptions, backends, install_crypto, link_tools};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tapearr_api::routes::trailers::JobQueued;
use tapearr_testkit::radarr::{FakeRadarr, Movie};
use tapearr_testkit::tmdb::{FakeTmdb, TmdbVideo};
use tapearr_testkit::video_origin::{VideoOrigin, VideoSpec};

const TMDB_ID: i32 = 2_500_001;
const TITLE: &str = "Upgrade Movie";

struct World {
    radarr: FakeRadarr,
    tmdb: FakeTmdb,
    origin: VideoOrigin,
    library: tempfile::TempDir,
}

impl World {
    async fn start() -> World {
        install_crypto();
        let tmdb = FakeTmdb::start().await.expect("tmdb");
        let radarr = FakeRadarr::start_with(tapearr_testkit::arr::ArrConfig {
            image_base: tmdb.image_base(),
            ..tapearr_testkit::radarr::default_config()
        })
        .await
        .expect("radarr");
        World {
            radarr,
            tmdb,
            origin: VideoOrigin::start().await.expect("origin"),
            library: tempfile::tempdir().expect("library"),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "TAPEARR_LIBRARY_ROOTS",
                self.library.path().display().to_string(),
            ),
            ("TAPEARR_DISK__LOW_FREE_GB", "0".into()),
            ("TAPEARR_TMDB__API_URL", format!("{}/3", self.tmdb.url())),
            ("TAPEARR_TMDB__API_KEY", self.tmdb.api_key().to_string()),
            ("TAPEARR_TRAILERS__WATCH_URL", self.origin.watch_template()),
            (
                "TAPEARR_TRAILERS__SEARCH_TARGET",
                format!("{}/feed?q={{query}}&n={{n}}", self.origin.url()),
            ),
            ("TAPEARR_TRAILERS__HOST_INTERVAL_SECS", "0".into()),
            ("TAPEARR_TRAILERS__HOST_JITTER_SECS", "0".into()),
            // Every run may look for a taller video (the default is two weeks).
            ("TAPEARR_TRAILERS__UPGRADE_INTERVAL_SECS", "0".into()),
        ]
    }

    fn movie_dir(&self) -> PathBuf {
        self.library.path().join(format!("movies/{TITLE} (2002)"))
    }

    /// One movie whose TMDB entry lists `videos` (key, type, name).
    fn build(&self, videos: &[(&str, &str, &str)]) {
        let dir = self.movie_dir();
        std::fs::create_dir_all(&dir).expect("movie folder");
        std::fs::write(
            dir.join(format!("{TITLE} (2002).mkv")),
            b"not really a movie",
        )
        .expect("movie");
        self.radarr.add_movie(
            Movie::new(TMDB_ID, TITLE, 2002)
                .path(&dir.display().to_string())
                .with_file(1_000_000),
        );
        self.tmdb.set_movie_videos(
            TMDB_ID,
            videos
                .iter()
                .map(|(key, kind, name)| TmdbVideo::trailer(key, name).kind(kind))
                .collect(),
        );
    }

    /// Offers `id` at `height` (16:9), encoding its media now.
    async fn offer(&self, id: &str, name: &str, height: u32, throttle: Option<u64>) {
        let mut spec = VideoSpec::new(&format!("{name} 2002"))
            .seconds(2)
            .resolution(height * 16 / 9, height);
        if let Some(rate) = throttle {
            spec = spec.throttle(rate);
        }
        self.origin.set_video(id, spec);
        self.origin.prepare().await.expect("origin media");
    }

    /// Media files fetched from the origin so far.
    fn media_requests(&self) -> usize {
        self.origin
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/media/"))
            .count()
    }
}

async fn run_and_wait(api: &mut Client) -> JobRecord {
    let r = api.post("/api/v1/trailers/run", json!({})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let job = r.json::<JobQueued>().job_id;
    api.wait_succeeded(&job, Duration::from_secs(240)).await
}

/// Only the "Beside the media" profile, changed as `edit` says (short videos are accepted).
async fn beside_profile(api: &mut Client, edit: impl Fn(&mut Value)) -> String {
    let profiles = api.get("/api/v1/trailers/profiles").await.body;
    let mut beside = None;
    for p in profiles.as_array().expect("profiles") {
        let mut input = p.clone();
        let id = p["id"].as_str().expect("id").to_string();
        if p["name"].as_str().unwrap_or_default().starts_with("Beside") {
            input["search"]["min_duration_s"] = json!(1);
            edit(&mut input);
            beside = Some(id.clone());
        } else {
            input["enabled"] = json!(false);
        }
        let r = api
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/trailers/profiles/{id}"),
                Some(input),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    beside.expect("the Beside profile")
}

/// Relative path → bytes of every file under `dir` (hidden ones included).
fn folder_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("inside").display().to_string();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

/// The item and its records by slot (one profile).
async fn detail(api: &mut Client) -> (String, BTreeMap<String, Value>, Vec<Value>) {
    let media = api.get("/api/v1/trailers/media?limit=10").await.body;
    let id = media["items"][0]["id"]
        .as_str()
        .expect("synced")
        .to_string();
    let d = api.get(&format!("/api/v1/trailers/media/{id}")).await.body;
    let records = d["downloads"]
        .as_array()
        .expect("downloads")
        .iter()
        .map(|r| {
            (
                r["slot"].as_str().unwrap_or_default().to_string(),
                r.clone(),
            )
        })
        .collect();
    let events = d["events"].as_array().cloned().unwrap_or_default();
    (id, records, events)
}

/// The preview's (action, reason) for the first trailer.
async fn planned(api: &mut Client) -> (String, String) {
    let preview = api.get("/api/v1/trailers/preview").await.body;
    let e = preview
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["slot"] == "trailer-1")
        .unwrap_or_else(|| panic!("no entry: {preview}"));
    (
        e["action"].as_str().unwrap_or_default().to_string(),
        e["reason"].as_str().unwrap_or_default().to_string(),
    )
}

fn trailer_name() -> String {
    format!("{TITLE} (2002)-trailer.mp4")
}

#[tokio::test]
async fn a_short_trailer_is_replaced_by_a_taller_video_over_the_same_file_and_only_twice() {
    for backend in backends("trailer_upgrades").await {
        let b = backend.name;
        let w = World::start().await;
        w.build(&[
            ("upOne", "Trailer", "Upgrade Movie | Official Trailer"),
            ("upTwo", "Trailer", "Upgrade Movie | Official Trailer 2"),
        ]);
        w.offer("upOne", "Upgrade Movie | Official Trailer", 180, None)
            .await;
        let dir = tempfile::tempdir().expect("data dir");
        link_tools(dir.path());
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        });
        let (mut api, _) = Client::admin(&server).await;
        let profile = beside_profile(&mut api, |p| {
            p["output"]["max_height"] = json!(360);
            p["output"]["upgrade"] = json!(true);
        })
        .await;
        let saved = api.get("/api/v1/trailers/profiles").await.body;
        assert!(
            saved
                .as_array()
                .expect("profiles")
                .iter()
                .any(|p| p["id"] == profile.as_str() && p["output"]["upgrade"] == true),
            "{b}: the option is kept: {saved}"
        );
        let r = api
            .post(
                "/api/v1/trailers/connections",
                json!({"name": "Radarr", "kind": "radarr", "url": w.radarr.url(),
                       "api_key": w.radarr.api_key()}),
            )
            .await;
        assert_eq!(r.status, 201, "{b}: {}", r.body);

        // The first run places the only video there is, at 180p, and remembers its height.
        run_and_wait(&mut api).await;
        let first = folder_files(&w.movie_dir());
        assert_eq!(
            first.keys().cloned().collect::<Vec<_>>(),
            [trailer_name(), format!("{TITLE} (2002).mkv")],
            "{b}"
        );
        let (media_id, recs, _) = detail(&mut api).await;
        let rec = &recs["trailer-1"];
        assert_eq!(rec["status"], "downloaded", "{b}: {rec}");
        assert_eq!(rec["video_id"], "upOne", "{b}");
        assert_eq!(rec["height"], 180, "{b}: {rec}");
        assert_eq!(rec["upgrades"], 0, "{b}");
        assert_eq!(
            planned(&mut api).await,
            ("upgrade".to_string(), "180p → 360p".to_string()),
            "{b}: the preview says what the next run looks for"
        );

        // Nothing taller anywhere: a run looks, replaces nothing, and says so in the history.
        run_and_wait(&mut api).await;
        assert_eq!(
            folder_files(&w.movie_dir()),
            first,
            "{b}: the file is untouched"
        );
        let (_, again, events) = detail(&mut api).await;
        assert_eq!(again["trailer-1"]["video_id"], "upOne", "{b}");
        assert_eq!(again["trailer-1"]["upgrades"], 0, "{b}");
        assert!(
            events.iter().any(|e| e["kind"] == "upgrade_checked"),
            "{b}: {events:?}"
        );

        // The same video is now offered at 360p: it replaces the old file under its name.
        w.offer("upOne", "Upgrade Movie | Official Trailer", 360, None)
            .await;
        run_and_wait(&mut api).await;
        let second = folder_files(&w.movie_dir());
        assert_eq!(
            second.keys().collect::<Vec<_>>(),
            first.keys().collect::<Vec<_>>(),
            "{b}: the same name, no second file, no temp file"
        );
        assert_ne!(
            second[&trailer_name()],
            first[&trailer_name()],
            "{b}: a new file"
        );
        let (_, recs, events) = detail(&mut api).await;
        let rec = &recs["trailer-1"];
        assert_eq!(rec["height"], 360, "{b}: {rec}");
        assert_eq!(rec["upgrades"], 1, "{b}");
        assert_eq!(rec["video_id"], "upOne", "{b}");
        assert_eq!(
            rec["file_bytes"].as_u64(),
            Some(second[&trailer_name()].len() as u64),
            "{b}: the record describes the file on disk"
        );
        assert!(
            events.iter().any(|e| e["kind"] == "upgraded"
                && e["message"].as_str().unwrap_or_default().contains("180p")),
            "{b}: {events:?}"
        );
        assert_eq!(
            planned(&mut api).await.0,
            "have",
            "{b}: at the profile's height, nothing more to look for"
        );
        let fetched = w.media_requests();
        run_and_wait(&mut api).await;
        assert_eq!(w.media_requests(), fetched, "{b}: no loop: nothing fetched");

        // The profile now wants 720p; a different video is offered at 540p and replaces it.
        beside_profile(&mut api, |p| {
            p["output"]["max_height"] = json!(720);
            p["output"]["upgrade"] = json!(true);
        })
        .await;
        w.offer("upTwo", "Upgrade Movie | Official Trailer 2", 540, None)
            .await;
        run_and_wait(&mut api).await;
        let third = folder_files(&w.movie_dir());
        assert_eq!(
            third.keys().collect::<Vec<_>>(),
            first.keys().collect::<Vec<_>>(),
            "{b}: still one trailer"
        );
        let (_, recs, _) = detail(&mut api).await;
        let rec = &recs["trailer-1"];
        assert_eq!(rec["video_id"], "upTwo", "{b}: {rec}");
        assert_eq!(rec["height"], 540, "{b}");
        assert_eq!(rec["upgrades"], 2, "{b}");

        // Two upgrades are the most: a 720p video appears, and the slot is left alone.
        w.offer("upOne", "Upgrade Movie | Official Trailer", 720, None)
            .await;
        assert_eq!(planned(&mut api).await.0, "have", "{b}: bounded");
        let fetched = w.media_requests();
        run_and_wait(&mut api).await;
        assert_eq!(w.media_requests(), fetched, "{b}: nothing fetched");
        assert_eq!(folder_files(&w.movie_dir()), third, "{b}: untouched");

        // The per-slot actions name their slot: an unknown one is refused, nothing queued.
        let r = api
            .post(
                &format!("/api/v1/trailers/media/{media_id}/download"),
                json!({"profile_id": profile, "slot": "poster-1"}),
            )
            .await;
        assert_eq!(r.status, 400, "{b}: {}", r.body);
        let r = api
            .get(&format!(
                "/api/v1/trailers/media/{media_id}/candidates?profile_id={profile}&slot=nope"
            ))
            .await;
        assert_eq!(r.status, 400, "{b}: {}", r.body);
        server.terminate();
    }
}

#[tokio::test]
async fn a_kill_during_an_extras_download_leaves_one_file_per_slot_after_a_restart() {
    for backend in backends("trailer_upgrades_kill").await {
        let b = backend.name;
        let w = World::start().await;
        w.build(&[
            ("kTrail", "Trailer", "Upgrade Movie | Official Trailer"),
            ("kFeat", "Featurette", "Upgrade Movie | Making Of"),
        ]);
        w.offer("kTrail", "Upgrade Movie | Official Trailer", 180, None)
            .await;
        // The featurette trickles in, so the kill lands in the middle of its download.
        w.offer("kFeat", "Upgrade Movie | Making Of", 180, Some(4_000))
            .await;
        let dir = tempfile::tempdir().expect("data dir");
        link_tools(dir.path());
        let opts = || ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        };
        let server = Server::start(opts());
        let (mut api, key) = Client::admin(&server).await;
        let profile = beside_profile(&mut api, |p| {
            p["output"]["extras"] = json!(["featurette"]);
        })
        .await;
        let r = api
            .post(
                "/api/v1/trailers/connections",
                json!({"name": "Radarr", "kind": "radarr", "url": w.radarr.url(),
                       "api_key": w.radarr.api_key()}),
            )
            .await;
        assert_eq!(r.status, 201, "{b}: {}", r.body);
        let r = api.post("/api/v1/trailers/run", json!({})).await;
        assert_eq!(r.status, 202, "{b}: {}", r.body);
        w.origin
            .wait_for_path("/media/kFeat.mp4", Duration::from_secs(180))
            .await
            .unwrap_or_else(|log| panic!("{b}: the featurette was never fetched: {log:?}"));
        server.kill9();

        // Restarted, with the featurette served at full speed: the run is finished by the
        // restarted process (or the next one).
        w.offer("kFeat", "Upgrade Movie | Making Of", 180, None)
            .await;
        let server = Server::start(opts());
        let mut api = Client::with_key(&server, &key);
        let done = |recs: &BTreeMap<String, Value>| {
            ["trailer-1", "featurette-1"]
                .iter()
                .all(|s| recs.get(*s).is_some_and(|r| r["status"] == "downloaded"))
        };
        let (_, recs, _) = detail(&mut api).await;
        if !done(&recs) {
            let r = api.post("/api/v1/trailers/run", json!({})).await;
            assert_eq!(r.status, 202, "{b}: {}", r.body);
            let job = r.json::<JobQueued>().job_id;
            api.wait_succeeded(&job, Duration::from_secs(240)).await;
        }
        let (media_id, recs, _) = detail(&mut api).await;
        assert!(done(&recs), "{b}: every slot has its video: {recs:?}");

        let files = folder_files(&w.movie_dir());
        assert_eq!(
            files.keys().cloned().collect::<Vec<_>>(),
            [
                format!("{TITLE} (2002)-featurette.mp4"),
                trailer_name(),
                format!("{TITLE} (2002).mkv"),
            ],
            "{b}: one file per slot, no temp file"
        );
        for (slot, rec) in &recs {
            let path = rec["file_path"].as_str().unwrap_or_default();
            assert!(
                Path::new(path).is_file(),
                "{b}: {slot} names its file: {rec}"
            );
            assert_eq!(
                rec["file_bytes"].as_u64(),
                std::fs::metadata(path).ok().map(|m| m.len()),
                "{b}: {slot}"
            );
        }
        assert_eq!(recs["featurette-1"]["video_id"], "kFeat", "{b}");
        assert_eq!(recs["trailer-1"]["video_id"], "kTrail", "{b}");
        let work = folder_files(&dir.path().join("trailers-tmp"));
        assert!(
            work.is_empty(),
            "{b}: the work folder is empty: {:?}",
            work.keys()
        );

        // The featurette has its own actions: deleting it leaves the trailer alone.
        let r = api
            .delete(&format!(
                "/api/v1/trailers/media/{media_id}/trailers/{profile}?slot=featurette-1"
            ))
            .await;
        assert_eq!(r.status, 204, "{b}: {}", r.body);
        let after = folder_files(&w.movie_dir());
        assert_eq!(
            after.keys().cloned().collect::<Vec<_>>(),
            [trailer_name(), format!("{TITLE} (2002).mkv")],
            "{b}"
        );
        server.terminate();
    }
}
