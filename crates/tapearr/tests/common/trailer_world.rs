//! The trailer stories' world: a fake Radarr and TMDB, a local video site the real yt-dlp
//! downloads from and a library folder; with the typed API steps the stories share.

use super::{Client, JobRecord, install_crypto};
use reqwest::StatusCode;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tapearr_api::routes::trailers::JobQueued;
use tapearr_core::trailers::MediaDetail;
use tapearr_core::trailers::model::{Connection, Profile};
use tapearr_core::trailers::plan::listing::{MediaPage, MediaSummary};
use tapearr_testkit::arr::ArrConfig;
use tapearr_testkit::radarr::FakeRadarr;
use tapearr_testkit::tmdb::FakeTmdb;
use tapearr_testkit::video_origin::VideoOrigin;

pub struct World {
    pub radarr: FakeRadarr,
    pub tmdb: FakeTmdb,
    pub origin: VideoOrigin,
    pub library: tempfile::TempDir,
}

impl World {
    pub async fn start() -> World {
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

    /// The server's settings: the library, the fakes, and no politeness delays.
    pub fn env(&self) -> Vec<(&'static str, String)> {
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

    /// `{library}/movies/{title} ({year})`.
    pub fn movie_dir(&self, title: &str, year: i32) -> PathBuf {
        self.library
            .path()
            .join("movies")
            .join(format!("{title} ({year})"))
    }
}

/// Adds the world's Radarr as a trailer source; its key comes back write-only.
pub async fn add_radarr(api: &mut Client, w: &World) -> Connection {
    let r = api
        .post(
            "/api/v1/trailers/connections",
            json!({"name": "Radarr", "kind": "radarr", "url": w.radarr.url(),
                   "api_key": w.radarr.api_key()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let conn: Connection = r.json();
    assert_eq!(conn.api_key.expose(), "***", "the key is write-only");
    conn
}

/// POSTs to a path that queues a job (`run`, `scan`, a sync, a download): its id.
pub async fn queue(api: &mut Client, path: &str) -> String {
    let r = api.post(path, json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{path}: {}", r.body);
    r.json::<JobQueued>().job_id
}

/// "Run now", until it succeeded.
pub async fn run_and_wait(api: &mut Client) -> JobRecord {
    let job = queue(api, "/api/v1/trailers/run").await;
    api.wait_succeeded(&job, Duration::from_secs(240)).await
}

/// A scan of the media folders, until it succeeded.
pub async fn scan_and_wait(api: &mut Client) -> JobRecord {
    let job = queue(api, "/api/v1/trailers/scan").await;
    api.wait_succeeded(&job, Duration::from_secs(60)).await
}

/// A sync of one connection, until it finished (it may fail).
pub async fn sync_and_wait(api: &mut Client, conn: &str) -> JobRecord {
    let job = queue(api, &format!("/api/v1/trailers/connections/{conn}/sync")).await;
    api.wait_job(&job, Duration::from_secs(60)).await
}

pub async fn profiles(api: &mut Client) -> Vec<Profile> {
    api.get_json("/api/v1/trailers/profiles").await
}

/// Saves `profile` as it is.
pub async fn put_profile(api: &mut Client, profile: &Profile) {
    let r = api
        .send_typed(
            reqwest::Method::PUT,
            &format!("/api/v1/trailers/profiles/{}", profile.id),
            profile,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// Every movie and series, one page.
pub async fn all_media(api: &mut Client) -> Vec<MediaSummary> {
    api.get_json::<MediaPage>("/api/v1/trailers/media?limit=500")
        .await
        .items
}

pub async fn media_detail(api: &mut Client, id: &str) -> MediaDetail {
    api.get_json(&format!("/api/v1/trailers/media/{id}")).await
}

/// Every file under `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
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
