//! Trailers end to end (T1–T9), on SQLite and PostgreSQL: a fake Radarr with 50 movies, a
//! fake TMDB and a local video site that the real yt-dlp downloads from; the real ffmpeg
//! converts. One run places exactly the missing trailers and records why the rest were left
//! alone; a second run does nothing.

mod common;

use common::{
    Client, InProcess, JobRecord, JobStatus, Server, ServerOptions, backends, eventually,
    install_crypto, link_tools,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tapearr_api::error::Code;
use tapearr_api::routes::trailers::JobQueued;
use tapearr_testkit::arr::{ArrConfig, ArrFault, Malformed};
use tapearr_testkit::jellyfin_library::JellyfinItem;
use tapearr_testkit::media_servers::FakeMediaServer;
use tapearr_testkit::plex_library::{PlexItem, PlexKind};
use tapearr_testkit::radarr::{FakeRadarr, Movie};
use tapearr_testkit::tmdb::{FakeTmdb, TmdbVideo};
use tapearr_testkit::video_origin::{Availability, VideoCodec, VideoOrigin, VideoSpec};

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
        let radarr = FakeRadarr::start_with(ArrConfig {
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

    fn movie_dir(&self, title: &str, year: i32) -> PathBuf {
        self.library
            .path()
            .join("movies")
            .join(format!("{title} ({year})"))
    }
}

/// What one movie of the story is.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Case {
    /// Radarr knows a trailer id.
    ArrId,
    /// Only TMDB knows one.
    Tmdb,
    /// Nobody knows one: the search finds it.
    Search,
    /// A trailer is already on disk (in Trailers/ or as -trailer).
    OnDisk,
    /// In Radarr, but its folder does not exist yet (not downloaded).
    NoFolder,
}

struct StoryMovie {
    title: String,
    year: i32,
    case: Case,
    video: Option<String>,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    out.extend([Case::ArrId; 6]);
    out.extend([Case::Tmdb; 4]);
    out.extend([Case::Search; 2]);
    out.extend([Case::OnDisk; 8]);
    out.extend([Case::NoFolder; 30]);
    out
}

/// Builds the 50 movies: folders, files on disk, Radarr entries, TMDB videos, origin videos.
fn build_story(w: &World) -> Vec<StoryMovie> {
    let mut movies = Vec::new();
    for (i, case) in cases().into_iter().enumerate() {
        // Ids far above the fakes' generators, so no generated data collides.
        let tmdb_id = 2_000_100 + i as i32;
        let year = 1990 + (i as i32 % 30);
        let title = match i {
            0 => "Amélie".to_string(),
            1 => "千と千尋の神隠し".to_string(),
            _ => format!("Story Movie {i}"),
        };
        let dir = w.movie_dir(&title, year);
        let mut movie = Movie::new(tmdb_id, &title, year).path(&dir.display().to_string());
        if case != Case::NoFolder {
            std::fs::create_dir_all(&dir).expect("movie folder");
            std::fs::write(
                dir.join(format!("{title} ({year}).mkv")),
                b"not really a movie",
            )
            .expect("movie file");
            movie = movie.with_file(1_000_000);
        }
        let video = match case {
            Case::ArrId => {
                let id = format!("arr{i:03}");
                movie = movie.trailer(&id);
                Some(id)
            }
            Case::Tmdb => {
                let id = format!("tmdb{i:03}");
                w.tmdb.set_movie_videos(
                    tmdb_id,
                    vec![TmdbVideo::trailer(
                        &id,
                        &format!("{title} | Official Trailer"),
                    )],
                );
                Some(id)
            }
            Case::Search => Some(format!("srch{i:03}")),
            Case::OnDisk => {
                if i % 2 == 0 {
                    let t = dir.join("Trailers");
                    std::fs::create_dir_all(&t).expect("Trailers folder");
                    std::fs::write(t.join("Old trailer.mkv"), b"an old trailer").expect("file");
                } else {
                    std::fs::write(dir.join(format!("{title} ({year})-trailer.mp4")), b"old")
                        .expect("file");
                }
                // Radarr knows an id too: the trailer on disk must still win.
                let id = format!("disk{i:03}");
                movie = movie.trailer(&id);
                Some(id)
            }
            Case::NoFolder => None,
        };
        if let Some(id) = &video {
            let spec = VideoSpec::new(&format!("{title} ({year}) Official Trailer")).seconds(2);
            // One trailer arrives as VP9 so the profile's H.264 output needs a real encode.
            let spec = if i == 2 {
                spec.codec(VideoCodec::Vp9)
            } else {
                spec
            };
            w.origin.set_video(id, spec);
        }
        w.radarr.add_movie(movie);
        movies.push(StoryMovie {
            title,
            year,
            case,
            video,
        });
    }
    movies
}

async fn add_radarr(api: &mut Client, w: &World) -> String {
    let r = api
        .post(
            "/api/v1/trailers/connections",
            json!({"name": "Radarr", "kind": "radarr", "url": w.radarr.url(),
                   "api_key": w.radarr.api_key()}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["api_key"], "***", "the key is write-only");
    r.body["id"].as_str().expect("id").to_string()
}

/// The origin's trailers are seconds long: the user widens the default profile's window.
async fn accept_short_trailers(api: &mut Client) {
    let profiles = api.get("/api/v1/trailers/profiles").await.body;
    let default = profiles
        .as_array()
        .and_then(|p| p.iter().find(|p| p["enabled"] == true))
        .cloned()
        .expect("an enabled default profile");
    let mut input = default.clone();
    input["search"]["min_duration_s"] = json!(1);
    let id = default["id"].as_str().expect("id");
    let r = api
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/trailers/profiles/{id}"),
            Some(input),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn run_and_wait(api: &mut Client) -> JobRecord {
    let r = api.post("/api/v1/trailers/run", json!({})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let job = r.json::<JobQueued>().job_id;
    api.wait_succeeded(&job, Duration::from_secs(240)).await
}

async fn all_media(api: &mut Client) -> Vec<Value> {
    let r = api.get("/api/v1/trailers/media?limit=500").await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().expect("items").clone()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn probe_codecs(file: &Path) -> (String, bool) {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name",
            "-of",
            "json",
        ])
        .arg(file)
        .output()
        .expect("ffprobe");
    let v: Value = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let video = streams
        .iter()
        .find(|s| s["codec_type"] == "video")
        .and_then(|s| s["codec_name"].as_str())
        .unwrap_or_default()
        .to_string();
    let audio = streams.iter().any(|s| s["codec_type"] == "audio");
    (video, audio)
}

#[tokio::test]
async fn one_run_places_exactly_the_missing_trailers_and_a_second_run_does_nothing() {
    for backend in backends("trailers").await {
        let b = backend.name;
        let w = World::start().await;
        let movies = build_story(&w);
        w.origin.prepare().await.expect("origin media");
        let before: HashMap<String, Vec<PathBuf>> = movies
            .iter()
            .filter(|m| m.case == Case::OnDisk)
            .map(|m| (m.title.clone(), files_under(&w.movie_dir(&m.title, m.year))))
            .collect();

        let dir = tempfile::tempdir().expect("data dir");
        link_tools(dir.path());
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        });
        let (mut api, _) = Client::admin(&server).await;

        // Bad input changes nothing.
        let r = api
            .post(
                "/api/v1/trailers/connections",
                json!({"name": "x", "kind": "radarr", "url": "ftp://nope", "api_key": "k"}),
            )
            .await;
        assert_eq!(r.status, 400, "{b}: {}", r.body);
        let r = api
            .post(
                "/api/v1/trailers/connections",
                json!({"name": "x", "kind": "radarr", "url": w.radarr.url(), "api_key": "wrong-key-123"}),
            )
            .await;
        assert_eq!(r.status, 502, "{b}: {}", r.body);
        assert!(
            !r.body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("wrong-key-123"),
            "{b}: the key leaked into the error: {}",
            r.body
        );
        assert_eq!(
            api.get("/api/v1/trailers/connections").await.body,
            json!([])
        );

        accept_short_trailers(&mut api).await;
        add_radarr(&mut api, &w).await;
        run_and_wait(&mut api).await;

        let media = all_media(&mut api).await;
        assert_eq!(media.len(), 50, "{b}: every movie synced");
        let by_title: HashMap<String, &Value> = media
            .iter()
            .map(|m| (m["title"].as_str().unwrap_or_default().to_string(), m))
            .collect();
        for m in &movies {
            let item = by_title
                .get(&m.title)
                .unwrap_or_else(|| panic!("{b}: {} synced", m.title));
            let id = item["id"].as_str().expect("id");
            let detail = api.get(&format!("/api/v1/trailers/media/{id}")).await.body;
            let downloads = detail["downloads"].as_array().cloned().unwrap_or_default();
            let dir = w.movie_dir(&m.title, m.year);
            match m.case {
                Case::ArrId | Case::Tmdb | Case::Search => {
                    assert_eq!(downloads.len(), 1, "{b}: {}: {detail}", m.title);
                    let d = &downloads[0];
                    assert_eq!(d["status"], "downloaded", "{b}: {}: {d}", m.title);
                    let want_source = match m.case {
                        Case::ArrId => "arr",
                        Case::Tmdb => "tmdb",
                        _ => "search",
                    };
                    assert_eq!(d["source"], want_source, "{b}: {}", m.title);
                    assert_eq!(
                        d["video_id"].as_str(),
                        m.video.as_deref(),
                        "{b}: {}",
                        m.title
                    );
                    let expected = dir.join(format!("{} ({})-trailer.mp4", m.title, m.year));
                    assert_eq!(
                        d["file_path"].as_str(),
                        Some(expected.to_str().expect("utf-8"))
                    );
                    let (video, audio) = probe_codecs(&expected);
                    assert_eq!(
                        video, "h264",
                        "{b}: {} is H.264 (the VP9 one converted)",
                        m.title
                    );
                    assert!(audio, "{b}: {} has audio", m.title);
                    let events = detail["events"].as_array().cloned().unwrap_or_default();
                    assert!(
                        events.iter().any(|e| e["kind"] == "downloaded"),
                        "{b}: history records the download: {detail}"
                    );
                }
                Case::OnDisk => {
                    assert_eq!(downloads.len(), 1, "{b}: {}: {detail}", m.title);
                    let d = &downloads[0];
                    assert_eq!(d["status"], "existing", "{b}: {}: {d}", m.title);
                    assert!(
                        d["reason"]
                            .as_str()
                            .unwrap_or_default()
                            .starts_with("already on disk"),
                        "{b}: says why: {d}"
                    );
                    assert_eq!(
                        files_under(&dir),
                        before[&m.title],
                        "{b}: nothing added beside an existing trailer"
                    );
                    let video = m.video.as_deref().expect("id");
                    assert_eq!(w.origin.page_requests(video), 0, "{b}: never fetched");
                }
                Case::NoFolder => {
                    assert!(downloads.is_empty(), "{b}: {}: {detail}", m.title);
                    assert_eq!(detail["scan_status"], "missing", "{b}: {detail}");
                }
            }
            // The list row says what the next run does, as the preview does.
            let row = &item["trailers"];
            let (action, status) = match m.case {
                Case::NoFolder => ("skip", Value::Null),
                Case::OnDisk => ("have", json!("existing")),
                _ => ("have", json!("downloaded")),
            };
            assert_eq!(row[0]["action"], action, "{b}: {}: {row}", m.title);
            assert_eq!(row[0]["status"], status, "{b}: {}: {row}", m.title);
        }
        // The preview says why each is left alone.
        let preview = api.get("/api/v1/trailers/preview").await.body;
        let entries = preview.as_array().expect("entries");
        assert_eq!(
            entries.len(),
            50,
            "{b}: one default profile applies to each"
        );
        assert!(
            entries.iter().all(|e| e["action"] != "download"),
            "{b}: {preview}"
        );
        let skipped = entries
            .iter()
            .filter(|e| {
                e["action"] == "skip"
                    && e["reason"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("does not exist")
            })
            .count();
        assert_eq!(
            skipped, 30,
            "{b}: folders not there yet are skipped with the reason"
        );

        // A second run does nothing: no request to the video site, no new file, no change.
        let requests = w.origin.requests().len();
        let library = files_under(w.library.path());
        let records: Vec<Value> = {
            let mut v = Vec::new();
            for m in &media {
                let id = m["id"].as_str().expect("id");
                v.push(
                    api.get(&format!("/api/v1/trailers/media/{id}")).await.body["downloads"]
                        .clone(),
                );
            }
            v
        };
        run_and_wait(&mut api).await;
        assert_eq!(
            w.origin.requests().len(),
            requests,
            "{b}: the second run fetched nothing"
        );
        assert_eq!(
            files_under(w.library.path()),
            library,
            "{b}: no file changed"
        );
        for (m, before) in media.iter().zip(&records) {
            let id = m["id"].as_str().expect("id");
            let now =
                api.get(&format!("/api/v1/trailers/media/{id}")).await.body["downloads"].clone();
            assert_eq!(&now, before, "{b}: records unchanged");
        }
        let log = server.output_text();
        assert!(
            !log.contains(w.radarr.api_key()),
            "{b}: the API key reached the log"
        );
        assert!(
            !log.contains(w.tmdb.api_key()),
            "{b}: the TMDB key reached the log"
        );
        server.terminate();
    }
}

#[tokio::test]
async fn a_failed_or_empty_sync_deletes_nothing_and_user_choices_survive() {
    for backend in backends("trailer_sync").await {
        let b = backend.name;
        let w = World::start().await;
        let ids: Vec<i32> = (0..10)
            .map(|i| {
                w.radarr.add_movie(
                    Movie::new(2_100_000 + i, &format!("Sync Movie {i}"), 2000 + i).path(
                        &w.movie_dir(&format!("Sync Movie {i}"), 2000 + i)
                            .display()
                            .to_string(),
                    ),
                )
            })
            .collect();
        let dir = tempfile::tempdir().expect("data dir");
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        });
        let (mut api, key) = Client::admin(&server).await;
        let conn = add_radarr(&mut api, &w).await;
        let path = format!("/api/v1/trailers/connections/{conn}/sync");
        // The first sync is queued by the create; wait for the library to fill.
        eventually(Duration::from_secs(30), "the first sync", || {
            let mut api = Client::with_key(&server, &key);
            async move { (all_media(&mut api).await.len() == 10).then_some(()) }
        })
        .await;
        let media = all_media(&mut api).await;
        let first = media[0]["id"].as_str().expect("id").to_string();
        let r = api
            .send(
                reqwest::Method::PATCH,
                &format!("/api/v1/trailers/media/{first}"),
                Some(json!({"monitor": false, "trailer_id_override": "mine123"})),
            )
            .await;
        assert_eq!(r.status, 200, "{b}: {}", r.body);
        let r = api
            .send(
                reqwest::Method::PATCH,
                &format!("/api/v1/trailers/media/{first}"),
                Some(json!({"trailer_id_override": "../../etc"})),
            )
            .await;
        assert_eq!(r.status, 400, "{b}: a bad id is refused: {}", r.body);

        let sync_and_wait = |fault: Option<ArrFault>| {
            if let Some(f) = fault {
                w.radarr.fault_once(f);
            }
            let path = path.clone();
            let mut api = Client::with_key(&server, &key);
            async move {
                let r = api.post(&path, json!({})).await;
                assert_eq!(r.status, 202, "{}", r.body);
                let job = r.json::<JobQueued>().job_id;
                api.wait_job(&job, Duration::from_secs(60)).await
            }
        };
        // An empty answer, a body cut midway and a dropped connection delete nothing.
        for fault in [
            ArrFault::Empty,
            ArrFault::TruncateAfter(4),
            ArrFault::AbortAfter(3),
        ] {
            sync_and_wait(Some(fault.clone())).await;
            assert_eq!(
                all_media(&mut api).await.len(),
                10,
                "{b}: {fault:?} deleted nothing"
            );
        }
        let conn_view = api
            .get(&format!("/api/v1/trailers/connections/{conn}"))
            .await
            .body;
        assert!(
            conn_view["last_sync_error"].as_str().is_some(),
            "{b}: the failed sync is shown: {conn_view}"
        );

        // A malformed item is skipped with a reason; the rest sync, and it is not deleted.
        w.radarr
            .update_movie(ids[1], |m| m.title = "Renamed In Radarr".into());
        let job = sync_and_wait(Some(ArrFault::Malformed {
            index: 5,
            kind: Malformed::WrongTypes,
        }))
        .await;
        assert_eq!(job.status, JobStatus::Succeeded, "{b}: {job:?}");
        let media = all_media(&mut api).await;
        assert_eq!(media.len(), 10, "{b}: the malformed item is kept");
        assert!(
            media.iter().any(|m| m["title"] == "Renamed In Radarr"),
            "{b}: the other items synced"
        );
        assert!(
            server
                .output_text()
                .contains("skipped a malformed library item")
        );

        // The user's choices survive; a removal in Radarr is applied after a good sync.
        let item = api
            .get(&format!("/api/v1/trailers/media/{first}"))
            .await
            .body;
        assert_eq!(item["item"]["monitor"], false, "{b}: {item}");
        assert_eq!(item["item"]["trailer_id_override"], "mine123", "{b}");
        w.radarr.remove_movie(ids[9]);
        sync_and_wait(None).await;
        assert_eq!(
            all_media(&mut api).await.len(),
            9,
            "{b}: the removed movie is gone"
        );

        // The stored key is never sent to another host.
        let r = api
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/trailers/connections/{conn}"),
                Some(json!({"name": "Radarr", "kind": "radarr", "url": "http://127.0.0.1:9/elsewhere",
                            "api_key": "***"})),
            )
            .await;
        assert_eq!(r.status, 400, "{b}: {}", r.body);
        assert!(
            r.body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("API key again"),
            "{b}: {}",
            r.body
        );

        // Removing the connection removes its items and their records, nothing else.
        let r = api
            .send(
                reqwest::Method::DELETE,
                &format!("/api/v1/trailers/connections/{conn}"),
                None,
            )
            .await;
        assert_eq!(r.status, 204, "{b}: {}", r.body);
        assert!(all_media(&mut api).await.is_empty(), "{b}");
        let r = api.get(&format!("/api/v1/trailers/media/{first}")).await;
        assert_eq!(r.status, 404, "{b}: {}", r.body);
        let r = api
            .send(
                reqwest::Method::DELETE,
                &format!("/api/v1/trailers/connections/{conn}"),
                None,
            )
            .await;
        assert_eq!(r.status, 404, "{b}: a second delete finds nothing");
        server.terminate();
    }
}

#[tokio::test]
async fn a_plex_library_is_a_source_too() {
    for backend in backends("trailer_plex").await {
        let b = backend.name;
        let w = World::start().await;
        let plex = FakeMediaServer::plex("plex-token-4242", &[("1", "Movies", "/plex/Movies")])
            .await
            .expect("plex");
        plex.plex_add_section("2", PlexKind::Show, "TV Shows", &["/plex/TV"]);
        plex.plex_add_section("3", PlexKind::Movie, "Music videos", &["/plex/Clips"]);
        // A movie TMDB knows a trailer for, a show with a trailer on disk, and a movie
        // without a file, which is skipped with the reason.
        let movie_dir = w.movie_dir("Harbor Lights", 2018);
        std::fs::create_dir_all(&movie_dir).expect("movie folder");
        plex.plex_add_item(
            "1",
            PlexItem::movie(
                "Harbor Lights",
                2018,
                "/plex/Movies/Harbor Lights (2018)/Harbor Lights (2018).mkv",
            )
            .guid("imdb://tt9100001")
            .guid("tmdb://3100001"),
        );
        w.tmdb.set_movie_videos(
            3_100_001,
            vec![TmdbVideo::trailer(
                "plexhl01",
                "Harbor Lights | Official Trailer",
            )],
        );
        w.origin.set_video(
            "plexhl01",
            VideoSpec::new("Harbor Lights (2018) Official Trailer").seconds(2),
        );
        let show_dir = w.library.path().join("tv").join("Night Shift");
        std::fs::create_dir_all(&show_dir).expect("show folder");
        std::fs::write(show_dir.join("Night Shift-trailer.mp4"), b"a trailer").expect("trailer");
        plex.plex_add_item(
            "2",
            PlexItem::show("Night Shift", 2020, "/plex/TV/Night Shift").guid("tvdb://3200001"),
        );
        let mut no_file = PlexItem::movie("Not Here Yet", 2024, "");
        no_file.files.clear();
        plex.plex_add_item("3", no_file);
        w.origin.prepare().await.expect("origin media");

        let dir = tempfile::tempdir().expect("data dir");
        link_tools(dir.path());
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        });
        let (mut api, _) = Client::admin(&server).await;
        accept_short_trailers(&mut api).await;
        let library = w.library.path().display().to_string();
        let input = |token: &str| {
            json!({"name": "Plex", "kind": "plex", "url": plex.url(), "api_key": token,
                   "path_mappings": [
                       {"remote": "/plex/Movies", "local": format!("{library}/movies")},
                       {"remote": "/plex/TV", "local": format!("{library}/tv")}]})
        };
        let r = api
            .post("/api/v1/trailers/connections", input("wrong-token-999"))
            .await;
        assert_eq!(r.status, 502, "{b}: {}", r.body);
        assert!(
            !r.body.to_string().contains("wrong-token-999"),
            "{b}: the token leaked: {}",
            r.body
        );
        let r = api
            .post("/api/v1/trailers/connections", input("plex-token-4242"))
            .await;
        assert_eq!(r.status, 201, "{b}: {}", r.body);
        let conn = r.body["id"].as_str().expect("id").to_string();

        let folders = api
            .get(&format!("/api/v1/trailers/connections/{conn}/rootfolders"))
            .await;
        assert_eq!(folders.status, 200, "{b}: {}", folders.body);
        let mapped: Vec<(String, bool)> = folders
            .body
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap_or_default().to_string(),
                    f["in_library"] == true,
                )
            })
            .collect();
        assert!(
            mapped.contains(&("/plex/Movies".into(), true))
                && mapped.contains(&("/plex/TV".into(), true))
                && mapped.contains(&("/plex/Clips".into(), false)),
            "{b}: the sections' folders, mapped: {}",
            folders.body
        );

        // The same Plex is also told to rescan the folder where a trailer lands (C13), in its
        // own paths.
        let r = api
            .post(
                "/api/v1/media-servers",
                json!({"name": "plex", "kind": "plex", "url": plex.url(), "token": "plex-token-4242",
                       "path_mappings": [{"local": format!("{library}/movies"), "server": "/plex/Movies"}]}),
            )
            .await;
        assert_eq!(r.status, 201, "{b}: {}", r.body);

        run_and_wait(&mut api).await;
        let media = all_media(&mut api).await;
        let kinds: HashMap<String, String> = media
            .iter()
            .map(|m| {
                (
                    m["title"].as_str().unwrap_or_default().to_string(),
                    m["kind"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            HashMap::from([
                ("Harbor Lights".to_string(), "movie".to_string()),
                ("Night Shift".to_string(), "series".to_string()),
            ]),
            "{b}: the movie and the show synced; the item without a file is skipped"
        );
        for m in &media {
            let id = m["id"].as_str().expect("id");
            let detail = api.get(&format!("/api/v1/trailers/media/{id}")).await.body;
            let d = &detail["downloads"][0];
            if m["title"] == "Harbor Lights" {
                assert_eq!(d["status"], "downloaded", "{b}: {detail}");
                assert_eq!(d["source"], "tmdb", "{b}: {detail}");
                let file = movie_dir.join("Harbor Lights (2018)-trailer.mp4");
                assert_eq!(d["file_path"].as_str(), file.to_str(), "{b}: {detail}");
                assert_eq!(probe_codecs(&file).0, "h264", "{b}");
            } else {
                assert_eq!(d["status"], "existing", "{b}: {detail}");
            }
        }
        let scans = plex
            .wait_for_scans(1, Duration::from_secs(30))
            .await
            .expect("plex asked to rescan");
        assert_eq!(
            scans,
            vec![(
                "1".to_string(),
                "/plex/Movies/Harbor Lights (2018)".to_string()
            )],
            "{b}: one scan, of the movie's folder, as Plex sees it"
        );
        let c = api
            .get(&format!("/api/v1/trailers/connections/{conn}"))
            .await
            .body;
        assert_eq!(c["last_sync_items"], 2, "{b}: {c}");
        assert!(
            !server.output_text().contains("plex-token-4242"),
            "{b}: the Plex token reached the log"
        );
        server.terminate();
    }
}

#[tokio::test]
async fn the_disk_scan_follows_renames_notices_deletions_and_leaves_offline_storage_alone() {
    for backend in backends("trailer_scan").await {
        let b = backend.name;
        let w = World::start().await;
        let lib = w.library.path();
        let folders = [
            ("Renamed One", 2001, lib.join("movies/Renamed One (2001)")),
            ("Deleted One", 2002, lib.join("movies/Deleted One (2002)")),
            (
                "Offline One",
                2003,
                lib.join("nas/Movies/Offline One (2003)"),
            ),
        ];
        for (i, (title, year, dir)) in folders.iter().enumerate() {
            std::fs::create_dir_all(dir).expect("folder");
            std::fs::write(dir.join(format!("{title} ({year}).mkv")), b"movie").expect("movie");
            std::fs::write(
                dir.join(format!("{title} ({year})-trailer.mp4")),
                format!("trailer number {i}"),
            )
            .expect("trailer");
            w.radarr.add_movie(
                Movie::new(2_200_000 + i as i32, title, *year)
                    .path(&dir.display().to_string())
                    .with_file(1000),
            );
        }
        let dir = tempfile::tempdir().expect("data dir");
        link_tools(dir.path());
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        });
        let (mut api, key) = Client::admin(&server).await;
        add_radarr(&mut api, &w).await;
        eventually(Duration::from_secs(30), "the first sync", || {
            let mut api = Client::with_key(&server, &key);
            async move { (all_media(&mut api).await.len() == 3).then_some(()) }
        })
        .await;
        let scan = || {
            let mut api = Client::with_key(&server, &key);
            async move {
                let r = api.post("/api/v1/trailers/scan", json!({})).await;
                assert_eq!(r.status, 202, "{}", r.body);
                let job = r.json::<JobQueued>().job_id;
                api.wait_succeeded(&job, Duration::from_secs(60)).await;
            }
        };
        scan().await;
        let ids: HashMap<String, String> = all_media(&mut api)
            .await
            .iter()
            .map(|m| {
                (
                    m["title"].as_str().unwrap_or_default().to_string(),
                    m["id"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let detail = |title: &str| {
            let path = format!("/api/v1/trailers/media/{}", ids[title]);
            let mut api = Client::with_key(&server, &key);
            async move { api.get(&path).await.body }
        };
        for (title, _, _) in &folders {
            let d = detail(title).await;
            assert_eq!(d["downloads"][0]["status"], "existing", "{b}: {d}");
        }

        // A trailer moved into Trailers/, one deleted, and the NAS unmounted.
        let (_, _, renamed_dir) = &folders[0];
        std::fs::create_dir(renamed_dir.join("Trailers")).expect("Trailers");
        std::fs::rename(
            renamed_dir.join("Renamed One (2001)-trailer.mp4"),
            renamed_dir.join("Trailers/Renamed One (2001).mp4"),
        )
        .expect("move");
        std::fs::remove_file(folders[1].2.join("Deleted One (2002)-trailer.mp4")).expect("rm");
        std::fs::rename(lib.join("nas"), lib.join("nas-unmounted")).expect("unmount");
        let offline_before = detail("Offline One").await["downloads"].clone();
        scan().await;

        let renamed = detail("Renamed One").await;
        assert_eq!(
            renamed["downloads"][0]["status"], "existing",
            "{b}: {renamed}"
        );
        assert_eq!(
            renamed["downloads"][0]["file_path"].as_str(),
            renamed_dir.join("Trailers/Renamed One (2001).mp4").to_str(),
            "{b}: the record follows the file: {renamed}"
        );
        assert!(
            renamed["events"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["kind"] == "renamed")),
            "{b}: {renamed}"
        );
        let deleted = detail("Deleted One").await;
        assert_eq!(
            deleted["downloads"][0]["status"], "missing",
            "{b}: {deleted}"
        );
        let offline = detail("Offline One").await;
        assert_eq!(offline["scan_status"], "unavailable", "{b}: {offline}");
        assert_eq!(
            offline["downloads"], offline_before,
            "{b}: nothing changes for storage that is not there"
        );
        let preview = api.get("/api/v1/trailers/preview").await.body;
        let action = |title: &str| {
            preview
                .as_array()
                .and_then(|p| p.iter().find(|e| e["title"] == title))
                .map(|e| e["action"].as_str().unwrap_or_default().to_string())
        };
        assert_eq!(
            action("Deleted One").as_deref(),
            Some("download"),
            "{b}: {preview}"
        );
        assert_ne!(
            action("Offline One").as_deref(),
            Some("download"),
            "{b}: {preview}"
        );
        assert_ne!(
            action("Renamed One").as_deref(),
            Some("download"),
            "{b}: {preview}"
        );

        // Mounted again: the trailer is still known, nothing was lost.
        std::fs::rename(lib.join("nas-unmounted"), lib.join("nas")).expect("mount");
        scan().await;
        let back = detail("Offline One").await;
        assert_eq!(back["scan_status"], "ok", "{b}: {back}");
        assert_eq!(back["downloads"], offline_before, "{b}: {back}");

        // Bulk actions: an unknown id changes nothing; then each item changes once.
        let all: Vec<String> = ids.values().cloned().collect();
        let mut with_unknown = all.clone();
        with_unknown.push("no-such-item".into());
        let r = api
            .post(
                "/api/v1/trailers/bulk",
                json!({"ids": with_unknown, "action": "unmonitor"}),
            )
            .await;
        assert_eq!(r.status, 404, "{b}: {}", r.body);
        assert!(
            all_media(&mut api)
                .await
                .iter()
                .all(|m| m["monitor"] == true),
            "{b}: nothing was unmonitored"
        );
        let r = api
            .post(
                "/api/v1/trailers/bulk",
                json!({"ids": all, "action": "unmonitor"}),
            )
            .await;
        assert_eq!(r.status, 200, "{b}: {}", r.body);
        assert_eq!(r.body["changed"], 3, "{b}: {}", r.body);
        let r = api
            .post(
                "/api/v1/trailers/bulk",
                json!({"ids": all, "action": "monitor"}),
            )
            .await;
        assert_eq!(r.body["changed"], 3, "{b}: {}", r.body);
        // Only the item whose trailer was deleted needs a download.
        let r = api
            .post(
                "/api/v1/trailers/bulk",
                json!({"ids": all, "action": "download"}),
            )
            .await;
        assert_eq!(r.body["changed"], 1, "{b}: {}", r.body);
        // Let the queued download end (nothing on the site matches) before stopping.
        let jobs = api
            .get("/api/v1/jobs?kind=trailers.download&limit=5")
            .await
            .body;
        let queued = jobs["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(queued.len(), 1, "{b}: {jobs}");
        for j in queued {
            api.wait_job(j["id"].as_str().expect("id"), Duration::from_secs(120))
                .await;
        }
        server.terminate();
    }
}

#[tokio::test]
async fn the_api_key_follows_a_redirect_on_the_same_host_only() {
    let w = World::start().await;
    let port = w
        .radarr
        .url()
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
        .expect("radarr port");
    let dir = tempfile::tempdir().expect("data dir");
    let server = Server::start(ServerOptions {
        data_dir: dir.path(),
        database_url: None,
        env: w.env(),
    });
    let (mut api, _) = Client::admin(&server).await;
    let input = |url: String| json!({"name": "Radarr", "kind": "radarr", "url": url, "api_key": w.radarr.api_key()});
    // Another host (`localhost` is not `127.0.0.1`): refused, with where it leads.
    let elsewhere = common::redirector(format!("http://localhost:{port}")).await;
    let r = api
        .post("/api/v1/trailers/connections/test", input(elsewhere))
        .await;
    assert_eq!(r.status, 502, "{}", r.body);
    let message = r.body["message"].as_str().unwrap_or_default();
    assert!(message.contains("redirects to localhost"), "{message}");
    assert!(!message.contains(w.radarr.api_key()), "{message}");
    // The same host on another port (as http → https would be): followed.
    let same_host = common::redirector(format!("http://127.0.0.1:{port}")).await;
    let r = api
        .post("/api/v1/trailers/connections/test", input(same_host))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["app_name"], "Radarr", "{}", r.body);
    server.terminate();
}

/// The ids of a list page (`/api/v1/trailers/media` answer).
fn page_ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|m| m["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// B6 through the API: offset pages and cursor pages list every item exactly once in the
/// list's order, an item synced between two cursor pages comes once, and a cursor the server
/// never gave is a 400 that changes nothing.
#[tokio::test]
async fn the_media_list_pages_by_offset_and_by_cursor() {
    for backend in backends("trailer_pages").await {
        let b = backend.name;
        let w = World::start().await;
        w.radarr.generate(130, 7);
        let dir = tempfile::tempdir().expect("data dir");
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        });
        let (mut api, key) = Client::admin(&server).await;
        let conn = add_radarr(&mut api, &w).await;
        eventually(Duration::from_secs(30), "the first sync", || {
            let mut api = Client::with_key(&server, &key);
            async move { (all_media(&mut api).await.len() == 130).then_some(()) }
        })
        .await;
        let reference: Vec<String> = all_media(&mut api)
            .await
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_string))
            .collect();

        let mut by_offset = Vec::new();
        for offset in (0..140).step_by(17) {
            let r = api
                .get(&format!("/api/v1/trailers/media?limit=17&offset={offset}"))
                .await;
            assert_eq!(r.status, 200, "{b}: {}", r.body);
            assert_eq!(r.body["total"], 130, "{b}");
            by_offset.extend(page_ids(&r.body));
        }
        assert_eq!(by_offset, reference, "{b}: offset pages");

        // The first cursor page, then a movie is synced, then the rest of the walk.
        let first = api.get("/api/v1/trailers/media?limit=17").await.body;
        let mut walked = page_ids(&first);
        let mut cursor = first["next_cursor"].as_str().map(str::to_string);
        assert!(cursor.is_some(), "{b}: {first}");
        w.radarr.add_movie(
            Movie::new(2_900_000, "Zzzz Added Between Pages", 2024).path(
                &w.movie_dir("Zzzz Added Between Pages", 2024)
                    .display()
                    .to_string(),
            ),
        );
        let r = api
            .post(
                &format!("/api/v1/trailers/connections/{conn}/sync"),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 202, "{b}: {}", r.body);
        let job = r.json::<JobQueued>().job_id;
        api.wait_succeeded(&job, Duration::from_secs(60)).await;
        while let Some(c) = cursor {
            let r = api
                .get(&format!("/api/v1/trailers/media?limit=17&cursor={c}"))
                .await;
            assert_eq!(r.status, 200, "{b}: {}", r.body);
            assert_eq!(r.body["total"], 131, "{b}");
            walked.extend(page_ids(&r.body));
            cursor = r.body["next_cursor"].as_str().map(str::to_string);
        }
        let now: Vec<String> = all_media(&mut api)
            .await
            .iter()
            .filter_map(|m| m["id"].as_str().map(str::to_string))
            .collect();
        assert_eq!(now.len(), 131);
        assert_eq!(
            walked, now,
            "{b}: cursor pages with an item added between them"
        );

        let bad = api.get("/api/v1/trailers/media?cursor=not-ours").await;
        assert_eq!(bad.status, 400, "{b}: {}", bad.body);
        assert_eq!(bad.error().code, Code::InvalidRequest, "{b}");
        server.terminate();
    }
}

/// Issue 14: a real movie is never taken for a trailer. "The Trailer (2020)" keeps its file
/// through scans, downloads, a replacement and "delete trailer", while the trailer Tapearr
/// placed is replaced and deleted. "Official Trailer", whose file Radarr did not list at first
/// (so the scan claimed it by its name), is let go of, never deleted, once Radarr lists it.
#[tokio::test]
async fn a_movie_named_trailer_survives_scan_delete_and_replace_while_a_placed_trailer_goes() {
    use tapearr_testkit::radarr::MovieFile;
    for backend in backends("trailer_recognition").await {
        let b = backend.name;
        let w = World::start().await;
        let movie_file = |relative_path: &str| MovieFile {
            relative_path: relative_path.into(),
            size: 1_000_000,
            quality: "Bluray-1080p".into(),
            release_group: "GROUP".into(),
            date_added: "2024-01-01T12:30:00Z".into(),
        };
        let trailer_dir = w.movie_dir("The Trailer", 2020);
        std::fs::create_dir_all(&trailer_dir).expect("folder");
        let the_trailer = trailer_dir.join("The Trailer (2020).mkv");
        std::fs::write(&the_trailer, b"the movie The Trailer").expect("movie");
        let mut movie = Movie::new(2_300_001, "The Trailer", 2020)
            .path(&trailer_dir.display().to_string())
            .trailer("recog001");
        movie.file = Some(movie_file("The Trailer (2020).mkv"));
        let the_trailer_id = w.radarr.add_movie(movie);
        w.origin.set_video(
            "recog001",
            VideoSpec::new("The Trailer first cut").seconds(2),
        );
        w.origin.set_video(
            "recog002",
            VideoSpec::new("The Trailer second cut").seconds(2),
        );

        // No year, no file listed yet: the scan can only go by its name.
        let official_dir = w.library.path().join("movies/Official Trailer");
        std::fs::create_dir_all(&official_dir).expect("folder");
        let official = official_dir.join("Official Trailer.mkv");
        std::fs::write(&official, b"the movie Official Trailer").expect("movie");
        let official_id = w.radarr.add_movie(
            Movie::new(2_300_002, "Official Trailer", 0)
                .path(&official_dir.display().to_string())
                .trailer("recog003"),
        );
        w.origin.set_video(
            "recog003",
            VideoSpec::new("Official Trailer trailer").seconds(2),
        );
        w.origin.prepare().await.expect("origin media");

        let dir = tempfile::tempdir().expect("data dir");
        link_tools(dir.path());
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        });
        let (mut api, key) = Client::admin(&server).await;
        accept_short_trailers(&mut api).await;
        let conn = add_radarr(&mut api, &w).await;
        run_and_wait(&mut api).await;

        let movies_intact = |when: &str| {
            assert_eq!(
                std::fs::read(&the_trailer).ok().as_deref(),
                Some(&b"the movie The Trailer"[..]),
                "{b}: {when}: The Trailer's own file is intact"
            );
            assert_eq!(
                std::fs::read(&official).ok().as_deref(),
                Some(&b"the movie Official Trailer"[..]),
                "{b}: {when}: Official Trailer's own file is intact"
            );
        };
        movies_intact("after the first run");
        let media = all_media(&mut api).await;
        let id_of = |title: &str| {
            media
                .iter()
                .find(|m| m["title"] == title)
                .and_then(|m| m["id"].as_str())
                .map(str::to_string)
                .expect("synced")
        };
        let (trailer_item, official_item) = (id_of("The Trailer"), id_of("Official Trailer"));
        let detail = |id: &str| {
            let path = format!("/api/v1/trailers/media/{id}");
            let mut api = Client::with_key(&server, &key);
            async move { api.get(&path).await.body }
        };
        let d = detail(&trailer_item).await;
        let record = d["downloads"][0].clone();
        assert_eq!(record["status"], "downloaded", "{b}: {d}");
        let placed = PathBuf::from(record["file_path"].as_str().expect("file path"));
        assert!(placed.exists(), "{b}: {d}");
        assert_ne!(
            placed.file_name(),
            the_trailer.file_name(),
            "{b}: the movie was not taken for its trailer: {d}"
        );
        let profile = record["profile_id"].as_str().expect("profile").to_string();
        // The other movie's file was claimed by its name (nothing said otherwise).
        let o = detail(&official_item).await;
        assert_eq!(o["downloads"][0]["status"], "existing", "{b}: {o}");

        // Replace The Trailer's trailer: the placed one goes, the movie stays.
        let replace = |id: String, video: &'static str| {
            let mut api = Client::with_key(&server, &key);
            let profile = profile.clone();
            async move {
                let r = api
                    .post(
                        &format!("/api/v1/trailers/media/{id}/download"),
                        json!({"profile_id": profile, "video_id": video}),
                    )
                    .await;
                assert_eq!(r.status, 202, "{}", r.body);
                let job = r.json::<JobQueued>().job_id;
                api.wait_job(&job, Duration::from_secs(240)).await
            }
        };
        replace(trailer_item.clone(), "recog002").await;
        let d = detail(&trailer_item).await;
        assert_eq!(d["downloads"][0]["status"], "downloaded", "{b}: {d}");
        assert_eq!(d["downloads"][0]["video_id"], "recog002", "{b}: {d}");
        let replaced = PathBuf::from(d["downloads"][0]["file_path"].as_str().expect("path"));
        assert!(replaced.exists(), "{b}: {d}");
        let videos: Vec<PathBuf> = files_under(&trailer_dir);
        assert_eq!(
            videos,
            {
                let mut want = vec![the_trailer.clone(), replaced.clone()];
                want.sort();
                want
            },
            "{b}: one trailer and the movie, nothing else"
        );
        movies_intact("after a replacement");

        // Radarr now lists Official Trailer's file: the synced item knows it, so deleting
        // or replacing "its trailer" is refused before any scan.
        w.radarr.update_movie(official_id, |m| {
            m.file = Some(movie_file("Official Trailer.mkv"));
        });
        let r = api
            .post(
                &format!("/api/v1/trailers/connections/{conn}/sync"),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 202, "{b}: {}", r.body);
        let job = r.json::<JobQueued>().job_id;
        api.wait_job(&job, Duration::from_secs(60)).await;
        let r = api
            .delete(&format!(
                "/api/v1/trailers/media/{official_item}/trailers/{profile}"
            ))
            .await;
        assert_eq!(r.status, 409, "{b}: {}", r.body);
        movies_intact("after a refused delete");
        replace(official_item.clone(), "recog003").await;
        movies_intact("after a download beside a claimed movie file");
        let o = detail(&official_item).await;
        assert_eq!(o["downloads"][0]["status"], "downloaded", "{b}: {o}");
        let official_trailer = o["downloads"][0]["file_path"].as_str().expect("path");
        assert_ne!(Path::new(official_trailer), official, "{b}: {o}");

        // Scans change none of it.
        for _ in 0..2 {
            let r = api.post("/api/v1/trailers/scan", json!({})).await;
            assert_eq!(r.status, 202, "{b}: {}", r.body);
            let job = r.json::<JobQueued>().job_id;
            api.wait_job(&job, Duration::from_secs(60)).await;
        }
        movies_intact("after scans");
        let d = detail(&trailer_item).await;
        assert_eq!(d["downloads"][0]["status"], "downloaded", "{b}: {d}");

        // "Delete trailer" deletes what Tapearr placed, and only that.
        let r = api
            .delete(&format!(
                "/api/v1/trailers/media/{trailer_item}/trailers/{profile}"
            ))
            .await;
        assert_eq!(r.status, 204, "{b}: {}", r.body);
        assert!(!replaced.exists(), "{b}: the placed trailer is deleted");
        assert_eq!(files_under(&trailer_dir), vec![the_trailer.clone()], "{b}");
        movies_intact("after delete trailer");
        let r = api.post("/api/v1/trailers/scan", json!({})).await;
        let job = r.json::<JobQueued>().job_id;
        api.wait_job(&job, Duration::from_secs(60)).await;
        let d = detail(&trailer_item).await;
        assert_eq!(
            d["downloads"][0]["status"], "skipped",
            "{b}: the movie file is not claimed as a trailer afterwards: {d}"
        );
        movies_intact("at the end");
        let _ = the_trailer_id;
        server.terminate();
    }
}

/// Jobs of one kind the server has queued so far.
async fn jobs_of(api: &mut Client, kind: &str) -> u64 {
    let r = api.get(&format!("/api/v1/jobs?kind={kind}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["total"].as_u64().expect("total")
}

#[tokio::test]
async fn radarrs_import_webhook_fetches_that_movie_now_and_a_wrong_secret_changes_nothing() {
    for backend in backends("trailer_webhook").await {
        let b = backend.name;
        let w = World::start().await;
        let mut arr_ids = Vec::new();
        for (i, title) in ["Hooked", "Not Imported"].iter().enumerate() {
            let dir = w.movie_dir(title, 2021);
            std::fs::create_dir_all(&dir).expect("movie folder");
            std::fs::write(dir.join(format!("{title} (2021).mkv")), b"movie").expect("file");
            let id = format!("hook{i:03}");
            w.origin.set_video(
                &id,
                VideoSpec::new(&format!("{title} (2021) Official Trailer")).seconds(2),
            );
            let movie = Movie::new(2_100_000 + i as i32, title, 2021)
                .path(&dir.display().to_string())
                .with_file(1_000)
                .trailer(&id);
            arr_ids.push(w.radarr.add_movie(movie));
        }
        w.origin.prepare().await.expect("origin media");
        let dir = tempfile::tempdir().expect("data dir");
        link_tools(dir.path());
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        })
        .await;
        let (mut api, _) = Client::admin(&server).await;
        accept_short_trailers(&mut api).await;
        let conn = add_radarr(&mut api, &w).await;
        eventually(Duration::from_secs(30), "the first sync", || {
            let mut api = api.clone();
            async move { (all_media(&mut api).await.len() == 2).then_some(()) }
        })
        .await;

        // The connection's page shows the URL; asking again gives the same one.
        let info = api
            .get(&format!("/api/v1/trailers/connections/{conn}/webhook"))
            .await;
        assert_eq!(info.status, 200, "{b}: {}", info.body);
        let path = info.body["path"].as_str().expect("path").to_string();
        let prefix = format!("/api/v1/trailers/webhooks/{conn}/");
        assert!(path.starts_with(&prefix), "{b}: {path}");
        let again = api
            .get(&format!("/api/v1/trailers/connections/{conn}/webhook"))
            .await;
        assert_eq!(again.body["path"], path.as_str(), "{b}");
        assert!(
            info.body["events"].to_string().contains("On Import"),
            "{b}: {}",
            info.body
        );

        // The Arr calls without a login; the body is Radarr's.
        let arr = reqwest::Client::new();
        let call = |path: String, body: String| {
            let arr = arr.clone();
            let url = server.url(&path);
            async move {
                let r = arr
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("webhook call");
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let import = json!({"eventType": "Download", "isUpgrade": false,
            "movie": {"id": arr_ids[0], "title": "Hooked", "tmdbId": 2_100_000},
            "movieFile": {"id": 1, "relativePath": "Hooked (2021).mkv"}})
        .to_string();
        let secret = &path[prefix.len()..];
        let wrong = format!("{prefix}{}x", &secret[..secret.len() - 1]);
        for bad in [
            wrong,
            prefix.clone(),
            format!("/api/v1/trailers/webhooks/nope/{secret}"),
        ] {
            let (status, body) = call(bad.clone(), import.clone()).await;
            assert!(
                status == 401 || status == 404 || status == 405,
                "{b}: {bad}: {status}"
            );
            assert!(!body.to_string().contains(secret), "{b}: the secret leaked");
        }
        let (status, body) = call(path.clone(), "{not json".into()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_request")),
            "{b}: {body}"
        );
        assert_eq!(
            jobs_of(&mut api, "trailers.item").await,
            0,
            "{b}: refused calls queue nothing"
        );

        // Radarr's Test button, then the import.
        let (status, body) = call(
            path.clone(),
            json!({"eventType": "Test", "movie": {"id": 1, "title": "Test Title"}}).to_string(),
        )
        .await;
        assert_eq!(
            (status, body["action"].as_str()),
            (200, Some("test")),
            "{b}: {body}"
        );
        assert_eq!(jobs_of(&mut api, "trailers.item").await, 0, "{b}");
        let (status, body) = call(path.clone(), import.clone()).await;
        assert_eq!(
            (status, body["action"].as_str()),
            (200, Some("queued")),
            "{b}: {body}"
        );
        let job = body["job_id"].as_str().expect("job id").to_string();
        api.wait_succeeded(&job, Duration::from_secs(120)).await;
        let placed = files_under(&w.movie_dir("Hooked", 2021));
        assert!(
            placed
                .iter()
                .any(|p| p.to_string_lossy().ends_with("-trailer.mp4")),
            "{b}: {placed:?}"
        );
        // Only that movie: the other waits for the hourly run.
        assert_eq!(
            files_under(&w.movie_dir("Not Imported", 2021)).len(),
            1,
            "{b}"
        );

        // A deleted connection's URL no longer works.
        assert_eq!(
            api.delete(&format!("/api/v1/trailers/connections/{conn}"))
                .await
                .status,
            204
        );
        let (status, _) = call(path.clone(), import).await;
        assert_eq!(status, 401, "{b}");
        server.stop().await;
    }
}

/// A video site that asks for the bot check is paused: the item waits instead of failing, the
/// pause is listed with its reason and survives a restart, an event says what to do, and the
/// next run asks nothing of the paused site; an item with a Vimeo trailer on TMDB gets that one.
#[tokio::test]
async fn a_site_that_refuses_us_is_paused_and_its_items_wait_instead_of_failing() {
    for backend in backends("trailers-refusal").await {
        let b = backend.name;
        let w = World::start().await;
        // "Vimeo": another host, serving the same ids.
        let vimeo = VideoOrigin::bind(&["127.0.0.2:0"]).await.expect("vimeo");
        let movies = [
            ("Refused Movie", 2001, 2_000_900, "bot001", None),
            ("Vimeo Rescue", 2002, 2_000_901, "bot002", Some("vim002")),
        ];
        for (title, year, tmdb_id, youtube, on_vimeo) in movies {
            let dir = w.movie_dir(title, year);
            std::fs::create_dir_all(&dir).expect("movie folder");
            std::fs::write(dir.join(format!("{title} ({year}).mkv")), b"x").expect("movie file");
            w.radarr.add_movie(
                Movie::new(tmdb_id, title, year)
                    .path(&dir.display().to_string())
                    .with_file(1_000_000)
                    .trailer(youtube),
            );
            let spec = VideoSpec::new(&format!("{title} ({year}) Official Trailer"));
            w.origin
                .set_video(youtube, spec.clone().availability(Availability::BotCheck));
            if let Some(id) = on_vimeo {
                vimeo.set_video(id, spec);
                w.tmdb.set_movie_videos(
                    tmdb_id,
                    vec![
                        TmdbVideo::trailer(id, &format!("{title} | Official Trailer"))
                            .site("Vimeo"),
                    ],
                );
            }
        }
        vimeo.prepare().await.expect("vimeo media");
        let data = tempfile::tempdir().expect("data dir");
        link_tools(data.path());
        let mut env = w.env();
        env.extend([
            ("TAPEARR_TRAILERS__HOST_PAUSE_SECS", "3600".into()),
            ("TAPEARR_TRAILERS__VIMEO_URL", vimeo.watch_template()),
            // One at a time: the first refusal pauses the host before the next item asks.
            ("TAPEARR_TRAILERS__PARALLEL_DOWNLOADS", "1".into()),
        ]);
        let opts = || ServerOptions {
            data_dir: data.path(),
            database_url: backend.database_url.as_deref(),
            env: env.clone(),
        };
        let server = InProcess::start(opts()).await;
        let (mut api, key) = Client::admin(&server).await;
        accept_short_trailers(&mut api).await;
        add_radarr(&mut api, &w).await;
        let started = tapearr_core::time::Timestamp::now();
        run_and_wait(&mut api).await;

        let media = all_media(&mut api).await;
        assert_eq!(media.len(), 2, "{b}");
        let download_of = |title: &str| {
            let id = media
                .iter()
                .find(|m| m["title"] == title)
                .and_then(|m| m["id"].as_str())
                .expect("synced")
                .to_string();
            format!("/api/v1/trailers/media/{id}")
        };
        let rescued = api.get(&download_of("Vimeo Rescue")).await.body;
        let d = &rescued["downloads"][0];
        assert_eq!(d["status"], "downloaded", "{b}: the Vimeo trailer: {d}");
        assert_eq!(d["video_id"], "vim002", "{b}: {d}");
        assert!(
            !vimeo.requests().is_empty() && vimeo.page_requests("vim002") >= 1,
            "{b}"
        );

        let detail = api.get(&download_of("Refused Movie")).await.body;
        let d = &detail["downloads"][0];
        assert_eq!(d["status"], "missing", "{b}: not marked failed: {d}");
        assert_eq!(d["error_kind"], "bot_check", "{b}: {d}");
        assert_eq!(d["attempts"], 0, "{b}: a refusal is not an attempt: {d}");
        let hour_ms = 3_600_000;
        let next = d["next_attempt_at"].as_i64().expect("next attempt");
        assert!(
            (started.0 + hour_ms..started.0 + hour_ms + 300_000).contains(&next),
            "{b}: waits for the pause: {d}"
        );
        let paused = api.get("/api/v1/trailers/hosts/paused").await;
        assert_eq!(paused.status, 200, "{b}: {}", paused.body);
        let pauses = paused.body.as_array().cloned().unwrap_or_default();
        assert_eq!(pauses.len(), 1, "{b}: {}", paused.body);
        assert_eq!(pauses[0]["host"], "127.0.0.1", "{b}");
        assert_eq!(pauses[0]["kind"], "bot_check", "{b}");
        assert_eq!(pauses[0]["strikes"], 1, "{b}: asked once, then left alone");
        assert_eq!(pauses[0]["until"].as_i64(), Some(next), "{b}");
        assert!(
            pauses[0]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("not a bot")),
            "{b}: {}",
            pauses[0]
        );
        let events = api
            .get("/api/v1/events?type=trailer.host_paused")
            .await
            .body;
        let events = events.as_array().cloned().unwrap_or_default();
        assert_eq!(events.len(), 1, "{b}: one announcement: {events:?}");
        let advice = events[0]["data"]["advice"].as_str().unwrap_or_default();
        assert!(advice.contains("cookies"), "{b}: {advice}");
        let failed = api.get("/api/v1/events?type=trailer.failed").await.body;
        assert_eq!(failed, json!([]), "{b}: nothing failed");

        // The next run leaves the paused site alone.
        let asked = w.origin.requests().len();
        assert_eq!(
            w.origin.page_requests("bot001") + w.origin.page_requests("bot002"),
            1,
            "{b}: one refusal, then nothing more was asked"
        );
        run_and_wait(&mut api).await;
        assert_eq!(w.origin.requests().len(), asked, "{b}: asked while paused");

        // A restart keeps the pause.
        server.stop().await;
        let server = InProcess::start(opts()).await;
        let mut api = Client::with_key(&server, &key);
        let again = api.get("/api/v1/trailers/hosts/paused").await;
        assert_eq!(
            again.body,
            json!(pauses),
            "{b}: the pause survived the restart"
        );
        server.stop().await;
    }
}

/// The enabled default profile, changed by `change` (the origin's short trailers accepted).
async fn change_default_profile(api: &mut Client, change: impl FnOnce(&mut Value)) {
    let profiles = api.get("/api/v1/trailers/profiles").await.body;
    let mut input = profiles
        .as_array()
        .and_then(|p| p.iter().find(|p| p["enabled"] == true))
        .cloned()
        .expect("an enabled default profile");
    input["search"]["min_duration_s"] = json!(1);
    change(&mut input);
    let id = input["id"].as_str().expect("id").to_string();
    let r = api
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/trailers/profiles/{id}"),
            Some(input),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn a_jellyfin_library_is_a_source_and_what_a_media_server_already_shows_can_be_skipped() {
    for backend in backends("trailer_jellyfin").await {
        let b = backend.name;
        let w = World::start().await;
        let jf = FakeMediaServer::jellyfin("jf-key-7777", false)
            .await
            .expect("jellyfin");
        jf.jellyfin_add_folder("Movies", "movies", &["/jf/Movies"]);
        jf.jellyfin_add_folder("Shows", "tvshows", &["/jf/TV"]);
        jf.jellyfin_add_folder("Music", "music", &["/jf/Music"]);
        // A movie TMDB knows a trailer for; one Jellyfin already shows a trailer for (from
        // its metadata); a series with a trailer on disk; a movie without a file.
        let movie_dir = w.movie_dir("Harbor Lights", 2018);
        std::fs::create_dir_all(&movie_dir).expect("movie folder");
        jf.jellyfin_add_item(
            JellyfinItem::movie(
                "Harbor Lights",
                2018,
                "/jf/Movies/Harbor Lights (2018)/Harbor Lights (2018).mkv",
            )
            .provider("Tmdb", "3100001")
            .provider("Imdb", "tt9100001"),
        );
        w.tmdb.set_movie_videos(
            3_100_001,
            vec![TmdbVideo::trailer(
                "jfhl0001",
                "Harbor Lights | Official Trailer",
            )],
        );
        w.origin.set_video(
            "jfhl0001",
            VideoSpec::new("Harbor Lights (2018) Official Trailer").seconds(2),
        );
        let coast_dir = w.movie_dir("Quiet Coast", 2019);
        std::fs::create_dir_all(&coast_dir).expect("movie folder");
        jf.jellyfin_add_item(
            JellyfinItem::movie(
                "Quiet Coast",
                2019,
                "/jf/Movies/Quiet Coast (2019)/Quiet Coast (2019).mkv",
            )
            .provider("Tmdb", "3100002")
            .remote_trailer("https://www.youtube.com/watch?v=quietcoast1"),
        );
        w.tmdb.set_movie_videos(
            3_100_002,
            vec![TmdbVideo::trailer(
                "jfqc0001",
                "Quiet Coast | Official Trailer",
            )],
        );
        w.origin.set_video(
            "jfqc0001",
            VideoSpec::new("Quiet Coast (2019) Official Trailer").seconds(2),
        );
        let show_dir = w.library.path().join("tv").join("Night Shift");
        std::fs::create_dir_all(&show_dir).expect("show folder");
        std::fs::write(show_dir.join("Night Shift-trailer.mp4"), b"a trailer").expect("trailer");
        jf.jellyfin_add_item(
            JellyfinItem::series("Night Shift", 2020, "/jf/TV/Night Shift")
                .provider("Tvdb", "3200001"),
        );
        let mut no_file = JellyfinItem::movie("Not Here Yet", 2024, "");
        no_file.path = None;
        jf.jellyfin_add_item(no_file);

        // A Plex (Plex Pass) that shows an online trailer for one more movie.
        let plex = FakeMediaServer::plex("plex-token-4242", &[("1", "Movies", "/plex/Movies")])
            .await
            .expect("plex");
        let pass_dir = w.movie_dir("Paper Moon Rising", 2021);
        std::fs::create_dir_all(&pass_dir).expect("movie folder");
        plex.plex_add_item(
            "1",
            PlexItem::movie(
                "Paper Moon Rising",
                2021,
                "/plex/Movies/Paper Moon Rising (2021)/Paper Moon Rising (2021).mkv",
            )
            .guid("tmdb://3100003")
            .online_trailer("Paper Moon Rising"),
        );
        w.tmdb.set_movie_videos(
            3_100_003,
            vec![TmdbVideo::trailer(
                "plpm0001",
                "Paper Moon Rising | Trailer",
            )],
        );
        w.origin.set_video(
            "plpm0001",
            VideoSpec::new("Paper Moon Rising (2021) Trailer").seconds(2),
        );
        w.origin.prepare().await.expect("origin media");

        let dir = tempfile::tempdir().expect("data dir");
        link_tools(dir.path());
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        });
        let (mut api, _) = Client::admin(&server).await;
        // The user turns the option on before the first sync, so Plex is asked too.
        change_default_profile(&mut api, |p| {
            p["search"]["skip_if_server_has_trailer"] = json!(true);
        })
        .await;
        let profiles = api.get("/api/v1/trailers/profiles").await.body;
        assert!(
            profiles.as_array().is_some_and(|p| p
                .iter()
                .any(|p| p["search"]["skip_if_server_has_trailer"] == true)),
            "{b}: the option is stored: {profiles}"
        );
        let library = w.library.path().display().to_string();
        let input = |key: &str| {
            json!({"name": "Jellyfin", "kind": "jellyfin", "url": jf.url(), "api_key": key,
                   "path_mappings": [
                       {"remote": "/jf/Movies", "local": format!("{library}/movies")},
                       {"remote": "/jf/TV", "local": format!("{library}/tv")}]})
        };
        let r = api
            .post("/api/v1/trailers/connections", input("wrong-key-999"))
            .await;
        assert_eq!(r.status, 502, "{b}: {}", r.body);
        assert!(
            !r.body.to_string().contains("wrong-key-999"),
            "{b}: the key leaked: {}",
            r.body
        );
        let r = api
            .post("/api/v1/trailers/connections", input("bad\"key"))
            .await;
        assert_eq!(r.status, 400, "{b}: {}", r.body);
        let r = api
            .post("/api/v1/trailers/connections", input("jf-key-7777"))
            .await;
        assert_eq!(r.status, 201, "{b}: {}", r.body);
        assert_eq!(r.body["api_key"], "***", "{b}: the key is write-only");
        assert_eq!(r.body["kind"], "jellyfin", "{b}");
        let conn = r.body["id"].as_str().expect("id").to_string();
        let r = api
            .post(
                &format!("/api/v1/trailers/connections/{conn}/test"),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "{b}: {}", r.body);
        assert_eq!(r.body["app_name"], "Jellyfin", "{b}: {}", r.body);

        let folders = api
            .get(&format!("/api/v1/trailers/connections/{conn}/rootfolders"))
            .await;
        assert_eq!(folders.status, 200, "{b}: {}", folders.body);
        let mut mapped: Vec<(String, bool)> = folders
            .body
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap_or_default().to_string(),
                    f["in_library"] == true,
                )
            })
            .collect();
        mapped.sort();
        assert_eq!(
            mapped,
            [
                ("/jf/Movies".to_string(), true),
                ("/jf/TV".to_string(), true)
            ],
            "{b}: the movie and show libraries' folders, mapped (music has no trailers)"
        );

        let r = api
            .post(
                "/api/v1/trailers/connections",
                json!({"name": "Plex", "kind": "plex", "url": plex.url(),
                       "api_key": "plex-token-4242",
                       "path_mappings": [{"remote": "/plex/Movies", "local": format!("{library}/movies")}]}),
            )
            .await;
        assert_eq!(r.status, 201, "{b}: {}", r.body);

        run_and_wait(&mut api).await;
        let media = all_media(&mut api).await;
        let by_title: HashMap<String, Value> = media
            .iter()
            .map(|m| {
                (
                    m["title"].as_str().unwrap_or_default().to_string(),
                    m.clone(),
                )
            })
            .collect();
        let mut titles: Vec<&str> = by_title.keys().map(String::as_str).collect();
        titles.sort();
        assert_eq!(
            titles,
            [
                "Harbor Lights",
                "Night Shift",
                "Paper Moon Rising",
                "Quiet Coast"
            ],
            "{b}: the movies and the series synced; the item without a file is skipped"
        );
        assert_eq!(by_title["Night Shift"]["kind"], "series", "{b}");
        assert_eq!(by_title["Harbor Lights"]["tmdb_id"], 3_100_001, "{b}");
        assert_eq!(by_title["Harbor Lights"]["imdb_id"], "tt9100001", "{b}");
        let state = |title: &str| by_title[title]["trailers"][0].clone();
        assert_eq!(
            state("Quiet Coast")["action"],
            "skip",
            "{b}: {}",
            state("Quiet Coast")
        );
        assert_eq!(
            state("Quiet Coast")["reason"],
            "Jellyfin already has a trailer",
            "{b}"
        );
        assert_eq!(state("Paper Moon Rising")["action"], "skip", "{b}");
        assert_eq!(
            state("Paper Moon Rising")["reason"],
            "Plex already has a trailer",
            "{b}"
        );
        let preview = api.get("/api/v1/trailers/preview").await.body;
        assert!(
            preview
                .as_array()
                .is_some_and(|p| p.iter().any(|e| e["title"] == "Paper Moon Rising"
                    && e["action"] == "skip"
                    && e["reason"] == "Plex already has a trailer")),
            "{b}: the preview says why: {preview}"
        );
        for title in ["Harbor Lights", "Night Shift"] {
            let id = by_title[title]["id"].as_str().expect("id");
            let detail = api.get(&format!("/api/v1/trailers/media/{id}")).await.body;
            let d = &detail["downloads"][0];
            if title == "Harbor Lights" {
                assert_eq!(d["status"], "downloaded", "{b}: {detail}");
                let file = movie_dir.join("Harbor Lights (2018)-trailer.mp4");
                assert_eq!(d["file_path"].as_str(), file.to_str(), "{b}: {detail}");
            } else {
                assert_eq!(d["status"], "existing", "{b}: {detail}");
            }
        }
        assert!(
            files_under(&coast_dir).is_empty() && files_under(&pass_dir).is_empty(),
            "{b}: nothing was downloaded for what the servers already show"
        );

        // Turned off, the next run downloads them.
        change_default_profile(&mut api, |p| {
            p["search"]["skip_if_server_has_trailer"] = json!(false);
        })
        .await;
        run_and_wait(&mut api).await;
        assert_eq!(
            files_under(&coast_dir),
            [coast_dir.join("Quiet Coast (2019)-trailer.mp4")],
            "{b}"
        );

        // A library that changed while it was read (the count does not match) deletes nothing.
        jf.jellyfin_count_drift(1);
        let r = api
            .post(
                &format!("/api/v1/trailers/connections/{conn}/sync"),
                json!({}),
            )
            .await;
        assert_eq!(r.status, 202, "{b}: {}", r.body);
        let job = r.json::<JobQueued>().job_id;
        api.wait_job(&job, Duration::from_secs(60)).await;
        assert_eq!(all_media(&mut api).await.len(), 4, "{b}: nothing removed");
        let c = api
            .get(&format!("/api/v1/trailers/connections/{conn}"))
            .await
            .body;
        assert!(
            c["last_sync_error"]
                .as_str()
                .is_some_and(|e| e.contains("changed while it was read")),
            "{b}: {c}"
        );
        assert!(
            !server.output_text().contains("jf-key-7777"),
            "{b}: the Jellyfin key reached the log"
        );
        server.terminate();
    }
}

/// Issue 21: a proxy set in the app carries yt-dlp's searches and downloads from the next run
/// on, without a restart; it is write-only, and a bad one is refused without being echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_set_in_the_app_carries_the_trailer_downloads() {
    use tapearr_testkit::forward_proxy::ForwardProxy;
    for backend in backends("trailer_proxy").await {
        let b = backend.name;
        let w = World::start().await;
        let dir = w.movie_dir("Proxied", 2022);
        std::fs::create_dir_all(&dir).expect("movie folder");
        std::fs::write(dir.join("Proxied (2022).mkv"), b"movie").expect("file");
        w.origin.set_video(
            "proxy000",
            VideoSpec::new("Proxied (2022) Official Trailer").seconds(2),
        );
        w.radarr.add_movie(
            Movie::new(2_200_000, "Proxied", 2022)
                .path(&dir.display().to_string())
                .with_file(1_000)
                .trailer("proxy000"),
        );
        w.origin.prepare().await.expect("origin media");
        let proxy = ForwardProxy::start().await.expect("proxy");
        let data = tempfile::tempdir().expect("data dir");
        link_tools(data.path());
        let server = InProcess::start(ServerOptions {
            data_dir: data.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        })
        .await;
        let (mut api, _) = Client::admin(&server).await;
        accept_short_trailers(&mut api).await;

        let set = |value: Value| json!({ "values": { "trailers.proxy": value } });
        let bad = api
            .send(
                reqwest::Method::PATCH,
                "/api/v1/settings",
                Some(set(json!("ftp://tapearr:hunter2@127.0.0.1:1"))),
            )
            .await;
        assert_eq!(bad.status, 400, "{b}: {}", bad.body);
        assert!(
            !bad.body.to_string().contains("hunter2"),
            "{b}: {}",
            bad.body
        );
        let with_password = proxy.url().replace("http://", "http://tapearr:hunter2@");
        let ok = api
            .send(
                reqwest::Method::PATCH,
                "/api/v1/settings",
                Some(set(json!(with_password))),
            )
            .await;
        assert_eq!(ok.status, 200, "{b}: {}", ok.body);
        let shown = api.get("/api/v1/settings").await;
        assert!(
            !shown.body.to_string().contains("hunter2"),
            "{b}: write-only"
        );

        add_radarr(&mut api, &w).await;
        eventually(Duration::from_secs(30), "the first sync", || {
            let mut api = api.clone();
            async move { (all_media(&mut api).await.len() == 1).then_some(()) }
        })
        .await;
        run_and_wait(&mut api).await;
        let placed = dir.join("Proxied (2022)-trailer.mp4");
        assert!(placed.is_file(), "{b}: {:?}", files_under(&dir));
        let origin_host = w.origin.url().replace("http://", "");
        let through: Vec<String> = proxy
            .forwarded()
            .into_iter()
            .filter(|u| u.contains(&origin_host))
            .collect();
        assert!(!through.is_empty(), "{b}: yt-dlp went around the proxy");
        server.stop().await;
    }
}
