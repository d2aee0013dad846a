//! Season trailers (#18), on SQLite and PostgreSQL: a Sonarr series with specials and three
//! monitored seasons, TMDB videos for seasons 1 and 2 (and the specials). With
//! `season_trailers` on, each profile places a trailer in the `Season 01` and `S2` folders
//! (beside the episodes with `-trailer`, or in the season's `Trailers/`), next to the series'
//! own trailer; season 3 has no folder and is skipped without asking TMDB; the specials are
//! never asked for. A second run changes nothing; a deleted season trailer alone is planned
//! again; a season folder that appears makes its season wanted again. A fake Sonarr and
//! TMDB, the real yt-dlp and ffmpeg.

mod common;

use common::trailer_world::{all_media, media_detail, profiles, queue};
use common::{Client, JobRecord, Server, ServerOptions, backends, install_crypto, link_tools};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tapearr_core::trailers::PlanEntry;
use tapearr_core::trailers::model::{DownloadRecord, DownloadStatus, Placement, Profile};
use tapearr_core::trailers::plan::PlanAction;
use tapearr_testkit::sonarr::{FakeSonarr, Season, Series};
use tapearr_testkit::tmdb::{FakeTmdb, TmdbVideo};
use tapearr_testkit::video_origin::{VideoOrigin, VideoSpec};

const TMDB_ID: i32 = 2_500_001;
const TVDB_ID: i32 = 3_500_001;

struct World {
    sonarr: FakeSonarr,
    tmdb: FakeTmdb,
    origin: VideoOrigin,
    library: tempfile::TempDir,
}

impl World {
    async fn start() -> World {
        install_crypto();
        let tmdb = FakeTmdb::start().await.expect("tmdb");
        let sonarr = FakeSonarr::start_with(tapearr_testkit::arr::ArrConfig {
            image_base: tmdb.image_base(),
            ..tapearr_testkit::sonarr::default_config()
        })
        .await
        .expect("sonarr");
        World {
            sonarr,
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

    fn show_dir(&self) -> PathBuf {
        self.library.path().join("tv/Harbor Lights (2019)")
    }

    fn build(&self) {
        let dir = self.show_dir();
        for (folder, episode) in [
            ("Season 01", "Harbor Lights - S01E01 - Pilot.mkv"),
            ("S2", "Harbor Lights - S02E01 - Return.mkv"),
            ("Specials", "Harbor Lights - S00E01 - Making Of.mkv"),
        ] {
            std::fs::create_dir_all(dir.join(folder)).expect("season folder");
            std::fs::write(dir.join(folder).join(episode), b"an episode").expect("episode");
        }
        let season = |n: i32| Season {
            season_number: n,
            monitored: true,
            episode_count: 8,
            episode_file_count: if n == 3 { 0 } else { 8 },
            total_episode_count: 8,
            size_on_disk: 8_000_000,
            has_statistics: true,
        };
        let mut series = Series::new(TVDB_ID, "Harbor Lights", 2019)
            .tmdb(TMDB_ID)
            .path(&dir.display().to_string());
        series.seasons = (0..=3).map(season).collect();
        self.sonarr.add_series(series);
        let series_videos = [("harborTr", "Harbor Lights | Official Trailer")];
        let season_videos = [
            (0, "harborS0", "Harbor Lights | Specials Trailer"),
            (1, "harborS1", "Season 1 | Official Trailer"),
            (2, "harborS2", "Season 2 | Official Trailer"),
        ];
        self.tmdb.set_tv_videos(
            TMDB_ID,
            series_videos
                .iter()
                .map(|(key, name)| TmdbVideo::trailer(key, name))
                .collect(),
        );
        for (n, key, name) in season_videos {
            self.tmdb
                .set_season_videos(TMDB_ID, n, vec![TmdbVideo::trailer(key, name)]);
        }
        // The season 1 list also has season 2's trailer, sharper (TMDB mixes them up now and
        // then): the title says which season it is.
        self.tmdb.set_season_videos(
            TMDB_ID,
            1,
            vec![
                TmdbVideo::trailer("harborS2", "Season 2 | Official Trailer").size(2160),
                TmdbVideo::trailer("harborS1", "Season 1 | Official Trailer"),
            ],
        );
        for (key, name) in series_videos
            .into_iter()
            .chain(season_videos.map(|(_, k, n)| (k, n)))
        {
            self.origin
                .set_video(key, VideoSpec::new(&format!("{name} 2019")).seconds(2));
        }
    }

    fn season_paths(&self) -> Vec<String> {
        self.tmdb
            .requests()
            .into_iter()
            .map(|r| r.path)
            .filter(|p| p.contains("/season/"))
            .collect()
    }
}

async fn wait_job(api: &mut Client, path: &str) -> JobRecord {
    let job = queue(api, path).await;
    api.wait_succeeded(&job, Duration::from_secs(240)).await
}

/// Both default profiles on, with season trailers (short videos accepted): (id, placement).
async fn season_profiles(api: &mut Client) -> Vec<(String, Placement)> {
    let mut out = Vec::new();
    for mut p in profiles(api).await {
        p.enabled = true;
        p.search.min_duration_s = 1;
        p.output.season_trailers = true;
        let r = api
            .send_typed(
                reqwest::Method::PUT,
                &format!("/api/v1/trailers/profiles/{}", p.id),
                &p,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.json::<Profile>().output.season_trailers, "{}", r.body);
        out.push((p.id, p.output.placement));
    }
    out
}

/// Relative path → bytes of every file under `dir`.
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
async fn records(api: &mut Client, media_id: &str) -> BTreeMap<(String, String), DownloadRecord> {
    media_detail(api, media_id)
        .await
        .downloads
        .into_iter()
        .map(|d| ((d.profile_id.clone(), d.slot.to_string()), d))
        .collect()
}

/// (profile id, slot, action) of every preview entry.
async fn preview(api: &mut Client) -> Vec<(String, String, PlanAction)> {
    let entries: Vec<PlanEntry> = api.get_json("/api/v1/trailers/preview").await;
    entries
        .into_iter()
        .map(|e| (e.profile_id, e.slot.to_string(), e.action))
        .collect()
}

#[tokio::test]
async fn each_monitored_season_gets_its_trailer_in_its_own_folder() {
    for backend in backends("season_trailers").await {
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
        let profiles = season_profiles(&mut api).await;
        let beside = profiles
            .iter()
            .find(|(_, p)| *p == Placement::Beside)
            .map(|(id, _)| id.clone())
            .expect("a beside profile");
        let folder = profiles
            .iter()
            .find(|(_, p)| *p == Placement::Folder)
            .map(|(id, _)| id.clone())
            .expect("a folder profile");
        let r = api
            .post(
                "/api/v1/trailers/connections",
                json!({"name": "Sonarr", "kind": "sonarr", "url": w.sonarr.url(),
                       "api_key": w.sonarr.api_key()}),
            )
            .await;
        assert_eq!(r.status, 201, "{b}: {}", r.body);
        wait_job(&mut api, "/api/v1/trailers/run").await;

        let files = folder_files(&w.show_dir());
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "Harbor Lights (2019)-trailer.mp4",
                "S2/Harbor Lights (2019) - Season 02-trailer.mp4",
                "S2/Harbor Lights - S02E01 - Return.mkv",
                "S2/Trailers/Harbor Lights (2019) - Season 02.mp4",
                "Season 01/Harbor Lights (2019) - Season 01-trailer.mp4",
                "Season 01/Harbor Lights - S01E01 - Pilot.mkv",
                "Season 01/Trailers/Harbor Lights (2019) - Season 01.mp4",
                "Specials/Harbor Lights - S00E01 - Making Of.mkv",
                "Trailers/Harbor Lights (2019).mp4",
            ],
            "{b}: the series' trailer beside it, each season's in its folder, no Season 3 made"
        );
        assert!(!w.show_dir().join("Season 03").exists(), "{b}");
        let mut asked = w.season_paths();
        asked.sort();
        asked.dedup();
        assert_eq!(
            asked,
            [
                format!("/3/tv/{TMDB_ID}/season/1/videos"),
                format!("/3/tv/{TMDB_ID}/season/2/videos"),
            ],
            "{b}: neither the specials nor a season without a folder are asked for"
        );

        let media = all_media(&mut api).await;
        let row = media.first().expect("synced");
        let media_id = row.item.id.clone();
        let recs = records(&mut api, &media_id).await;
        assert_eq!(recs.len(), 8, "{b}: 4 slots per profile: {recs:?}");
        for p in [&beside, &folder] {
            let rec = |slot: &str| &recs[&(p.clone(), slot.to_string())];
            assert_eq!(
                rec("trailer-1").video_id.as_deref(),
                Some("harborTr"),
                "{b}"
            );
            assert_eq!(
                rec("season-01").video_id.as_deref(),
                Some("harborS1"),
                "{b}: the season the title names, not the sharper one of season 2"
            );
            assert_eq!(
                rec("season-02").video_id.as_deref(),
                Some("harborS2"),
                "{b}"
            );
            assert_eq!(rec("season-03").status, DownloadStatus::Skipped, "{b}");
            let why = rec("season-03").reason.as_deref().unwrap_or_default();
            assert!(why.contains("no Season 3 folder"), "{b}: {why}");
        }
        assert!(
            !recs.keys().any(|(_, s)| s == "season-00"),
            "{b}: no specials slot"
        );
        let slots: Vec<(String, PlanAction)> = row
            .trailers
            .iter()
            .map(|t| (t.slot.to_string(), t.action))
            .filter(|(_, a)| *a != PlanAction::Have)
            .collect();
        let skipped = ("season-03".to_string(), PlanAction::Skip);
        assert_eq!(
            slots,
            [skipped.clone(), skipped],
            "{b}: the list shows each season slot: {:?}",
            row.trailers
        );

        // A second run changes nothing and asks nothing.
        let fetched = w.origin.requests().len();
        let tmdb_asked = w.tmdb.request_count();
        let before = records(&mut api, &media_id).await;
        wait_job(&mut api, "/api/v1/trailers/run").await;
        assert_eq!(w.origin.requests().len(), fetched, "{b}: nothing fetched");
        assert_eq!(w.tmdb.request_count(), tmdb_asked, "{b}: TMDB not asked");
        assert_eq!(folder_files(&w.show_dir()), files, "{b}: no file changed");
        assert_eq!(records(&mut api, &media_id).await, before, "{b}");

        // The first season's trailer in Trailers/ is deleted by hand: only that slot is
        // planned again, and the scan takes no season file for the series' trailer.
        std::fs::remove_file(
            w.show_dir()
                .join("Season 01/Trailers/Harbor Lights (2019) - Season 01.mp4"),
        )
        .expect("delete");
        wait_job(&mut api, "/api/v1/trailers/scan").await;
        let planned: Vec<(String, String)> = preview(&mut api)
            .await
            .into_iter()
            .filter(|(_, _, a)| *a == PlanAction::Download)
            .map(|(p, s, _)| (p, s))
            .collect();
        assert_eq!(
            planned,
            [(folder.clone(), "season-01".to_string())],
            "{b}: only the deleted season trailer"
        );
        wait_job(&mut api, "/api/v1/trailers/run").await;
        assert_eq!(
            folder_files(&w.show_dir()).keys().collect::<Vec<_>>(),
            files.keys().collect::<Vec<_>>(),
            "{b}: the same files again"
        );
        let after = records(&mut api, &media_id).await;
        for (key, rec) in &before {
            if *key != (folder.clone(), "season-01".to_string()) {
                assert_eq!(&after[key], rec, "{b}: {key:?} untouched");
            }
        }

        // Sonarr makes the Season 3 folder: the scan makes season 3 wanted again; TMDB
        // does not know that season, so it is "not found", and nothing is placed.
        std::fs::create_dir_all(w.show_dir().join("Season 3")).expect("season 3");
        wait_job(&mut api, "/api/v1/trailers/scan").await;
        let planned: Vec<String> = preview(&mut api)
            .await
            .into_iter()
            .filter(|(_, _, a)| *a == PlanAction::Download)
            .map(|(_, s, _)| s)
            .collect();
        assert_eq!(planned, ["season-03", "season-03"], "{b}");
        wait_job(&mut api, "/api/v1/trailers/run").await;
        let recs = records(&mut api, &media_id).await;
        for p in [&beside, &folder] {
            assert_eq!(
                recs[&(p.clone(), "season-03".to_string())].status,
                DownloadStatus::NotFound,
                "{b}"
            );
        }
        assert!(
            folder_files(&w.show_dir().join("Season 3")).is_empty(),
            "{b}"
        );

        // A season the series does not have, or the specials, queue nothing.

        for slot in ["season-09", "season-00"] {
            let r = api
                .post(
                    &format!("/api/v1/trailers/media/{media_id}/download"),
                    json!({"profile_id": beside, "slot": slot}),
                )
                .await;
            assert_eq!(r.status, 400, "{b}: {slot}: {}", r.body);
        }
        server.terminate();
    }
}
