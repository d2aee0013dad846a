//! Several videos per title (#18), on SQLite and PostgreSQL: a profile that asks for two
//! trailers and a featurette places three different videos where the media servers read
//! them (beside the media with `-trailer`/`-featurette`, or in `Trailers/` and
//! `Featurettes/`), each its own download record; a second run does nothing; a slot whose
//! file is deleted is the only one planned again. A fake Radarr and TMDB, the real yt-dlp
//! and ffmpeg.

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

const TMDB_ID: i32 = 2_400_001;

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
        ]
    }

    fn movie_dir(&self) -> PathBuf {
        self.library.path().join("movies/Slot Movie (2001)")
    }

    /// One movie; TMDB lists two trailers, a teaser, a featurette and a clip (each a video
    /// on the origin), so every slot has a video of its own to find.
    fn build(&self) {
        let dir = self.movie_dir();
        std::fs::create_dir_all(&dir).expect("movie folder");
        std::fs::write(dir.join("Slot Movie (2001).mkv"), b"not really a movie").expect("movie");
        self.radarr.add_movie(
            Movie::new(TMDB_ID, "Slot Movie", 2001)
                .path(&dir.display().to_string())
                .with_file(1_000_000),
        );
        let videos = [
            ("slotTr1", "Trailer", "Slot Movie | Official Trailer"),
            ("slotTr2", "Trailer", "Slot Movie | Official Trailer 2"),
            ("slotTea", "Teaser", "Slot Movie | Teaser"),
            ("slotFea", "Featurette", "Slot Movie | Making the Movie"),
            ("slotClp", "Clip", "Slot Movie | The Chase"),
        ];
        self.tmdb.set_movie_videos(
            TMDB_ID,
            videos
                .iter()
                .map(|(key, kind, name)| TmdbVideo::trailer(key, name).kind(kind))
                .collect(),
        );
        for (key, _, name) in videos {
            self.origin
                .set_video(key, VideoSpec::new(&format!("{name} 2001")).seconds(2));
        }
    }
}

async fn run_and_wait(api: &mut Client) -> JobRecord {
    let r = api.post("/api/v1/trailers/run", json!({})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let job = r.json::<JobQueued>().job_id;
    api.wait_succeeded(&job, Duration::from_secs(240)).await
}

/// The two default profiles, changed as `edit` says (short videos are accepted).
async fn set_profiles(api: &mut Client, edit: impl Fn(&str, &mut Value)) -> Vec<String> {
    let profiles = api.get("/api/v1/trailers/profiles").await.body;
    let mut ids = Vec::new();
    for p in profiles.as_array().expect("profiles") {
        let mut input = p.clone();
        input["search"]["min_duration_s"] = json!(1);
        let name = p["name"].as_str().unwrap_or_default().to_string();
        edit(&name, &mut input);
        let id = p["id"].as_str().expect("id");
        let r = api
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/trailers/profiles/{id}"),
                Some(input),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        ids.push(id.to_string());
    }
    ids
}

/// Relative path → bytes of every file in the movie folder.
fn folder_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
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

/// (profile id, slot) → the record.
async fn records(api: &mut Client, media_id: &str) -> BTreeMap<(String, String), Value> {
    let detail = api
        .get(&format!("/api/v1/trailers/media/{media_id}"))
        .await
        .body;
    detail["downloads"]
        .as_array()
        .expect("downloads")
        .iter()
        .map(|d| {
            let key = (
                d["profile_id"].as_str().unwrap_or_default().to_string(),
                d["slot"].as_str().unwrap_or_default().to_string(),
            );
            (key, d.clone())
        })
        .collect()
}

#[tokio::test]
async fn two_trailers_and_a_featurette_land_where_media_servers_read_them_once() {
    for backend in backends("trailer_slots").await {
        let b = backend.name;
        let w = World::start().await;
        w.build();
        w.origin.prepare().await.expect("origin media");
        let dir = tempfile::tempdir().expect("data dir");
        link_tools(dir.path());
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        });
        let (mut api, _) = Client::admin(&server).await;

        // Bad slot settings are refused and change nothing.
        let profiles = api.get("/api/v1/trailers/profiles").await.body;
        for trailers in [0, 4] {
            let mut bad = profiles[0].clone();
            bad["output"]["trailers"] = json!(trailers);
            let id = bad["id"].as_str().expect("id").to_string();
            let r = api
                .send(
                    reqwest::Method::PUT,
                    &format!("/api/v1/trailers/profiles/{id}"),
                    Some(bad),
                )
                .await;
            assert_eq!(r.status, 400, "{b}: {trailers} trailers: {}", r.body);
        }
        let mut bad = profiles[0].clone();
        bad["output"]["extras"] = json!(["bloopers"]);
        let id = bad["id"].as_str().expect("id").to_string();
        let r = api
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/trailers/profiles/{id}"),
                Some(bad),
            )
            .await;
        assert_eq!(r.status, 400, "{b}: an unknown extra: {}", r.body);
        assert_eq!(
            api.get("/api/v1/trailers/profiles").await.body,
            profiles,
            "{b}: nothing changed"
        );

        // Beside the media: two trailers and a featurette. In folders: one trailer and a clip.
        let ids = set_profiles(&mut api, |name, p| {
            if name.starts_with("Beside") {
                p["output"]["trailers"] = json!(2);
                p["output"]["extras"] = json!(["featurette"]);
            } else {
                p["enabled"] = json!(true);
                p["output"]["extras"] = json!(["clip"]);
            }
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
        run_and_wait(&mut api).await;

        let files = folder_files(&w.movie_dir());
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "Scenes/Slot Movie (2001).mp4",
                "Slot Movie (2001) - Trailer 2-trailer.mp4",
                "Slot Movie (2001)-featurette.mp4",
                "Slot Movie (2001)-trailer.mp4",
                "Slot Movie (2001).mkv",
                "Trailers/Slot Movie (2001).mp4",
            ],
            "{b}: every slot in the place media servers read"
        );
        let media = api.get("/api/v1/trailers/media?limit=10").await.body;
        let media_id = media["items"][0]["id"]
            .as_str()
            .expect("synced")
            .to_string();
        let row = media["items"][0]["trailers"].as_array().expect("states");
        assert_eq!(row.len(), 5, "{b}: the list shows each slot: {row:?}");
        assert!(row.iter().all(|t| t["action"] == "have"), "{b}: {row:?}");

        let recs = records(&mut api, &media_id).await;
        let (beside, folder) = if recs.contains_key(&(ids[0].clone(), "trailer-2".into())) {
            (ids[0].clone(), ids[1].clone())
        } else {
            (ids[1].clone(), ids[0].clone())
        };
        let video = |p: &str, s: &str| {
            recs.get(&(p.to_string(), s.to_string()))
                .map(|r| {
                    assert_eq!(r["status"], "downloaded", "{b}: {r}");
                    r["video_id"].as_str().unwrap_or_default().to_string()
                })
                .unwrap_or_else(|| panic!("{b}: no record for {s}: {recs:?}"))
        };
        assert_eq!(recs.len(), 5, "{b}: one record per slot: {recs:?}");
        assert_eq!(
            video(&beside, "trailer-1"),
            "slotTr1",
            "{b}: the best first"
        );
        assert_eq!(
            video(&beside, "trailer-2"),
            "slotTr2",
            "{b}: another video, not the first again"
        );
        assert_eq!(video(&beside, "featurette-1"), "slotFea", "{b}");
        assert_eq!(video(&folder, "trailer-1"), "slotTr1", "{b}");
        assert_eq!(video(&folder, "clip-1"), "slotClp", "{b}");

        // A second run does nothing.
        let requests = w.origin.requests().len();
        let before = records(&mut api, &media_id).await;
        run_and_wait(&mut api).await;
        assert_eq!(w.origin.requests().len(), requests, "{b}: nothing fetched");
        assert_eq!(folder_files(&w.movie_dir()), files, "{b}: no file changed");
        assert_eq!(records(&mut api, &media_id).await, before, "{b}");

        // The second trailer's file is deleted by hand: only that slot is planned again.
        let second = w
            .movie_dir()
            .join("Slot Movie (2001) - Trailer 2-trailer.mp4");
        std::fs::remove_file(&second).expect("delete");
        let r = api.post("/api/v1/trailers/scan", json!({})).await;
        assert_eq!(r.status, 202, "{b}: {}", r.body);
        let job = r.json::<JobQueued>().job_id;
        api.wait_succeeded(&job, Duration::from_secs(60)).await;
        let preview = api.get("/api/v1/trailers/preview").await.body;
        let planned: Vec<(&str, &str)> = preview
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["action"] == "download")
            .map(|e| {
                (
                    e["profile_id"].as_str().unwrap_or_default(),
                    e["slot"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            planned,
            [(beside.as_str(), "trailer-2")],
            "{b}: only the deleted slot: {preview}"
        );
        run_and_wait(&mut api).await;
        let again = folder_files(&w.movie_dir());
        assert_eq!(
            again.keys().collect::<Vec<_>>(),
            files.keys().collect::<Vec<_>>(),
            "{b}: the same files again"
        );
        let after = records(&mut api, &media_id).await;
        assert_eq!(
            after[&(beside.clone(), "trailer-2".to_string())]["video_id"],
            "slotTr2",
            "{b}: the second trailer again, not a copy of the first"
        );
        for (key, rec) in &before {
            if key.1 != "trailer-2" {
                assert_eq!(&after[key], rec, "{b}: {key:?} untouched");
            }
        }

        // A slot the profile does not have, or that is not a slot, queues nothing.
        for (slot, status) in [("trailer-3", 400), ("poster-1", 400)] {
            let r = api
                .post(
                    &format!("/api/v1/trailers/media/{media_id}/download"),
                    json!({"profile_id": beside, "slot": slot}),
                )
                .await;
            assert_eq!(r.status, status, "{b}: {slot}: {}", r.body);
        }
        server.terminate();
    }
}
