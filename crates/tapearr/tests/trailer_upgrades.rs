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

use common::trailer_world::{
    World, add_radarr, all_media, media_detail, profiles, put_profile, queue, run_and_wait,
};
use common::{Client, Server, ServerOptions, backends, link_tools};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tapearr_core::trailers::PlanEntry;
use tapearr_core::trailers::model::{
    DownloadRecord, DownloadStatus, ExtraKind, MediaEvent, Profile,
};
use tapearr_core::trailers::plan::PlanAction;
use tapearr_testkit::radarr::Movie;
use tapearr_testkit::tmdb::TmdbVideo;
use tapearr_testkit::video_origin::VideoSpec;

const TMDB_ID: i32 = 2_500_001;
const TITLE: &str = "Upgrade Movie";

/// The shared world's settings, and every run may look for a taller video (the default is
/// two weeks).
fn env(w: &World) -> Vec<(&'static str, String)> {
    let mut env = w.env();
    env.push(("TAPEARR_TRAILERS__UPGRADE_INTERVAL_SECS", "0".into()));
    env
}

fn movie_dir(w: &World) -> PathBuf {
    w.movie_dir(TITLE, 2002)
}

/// One movie whose TMDB entry lists `videos` (key, type, name).
fn build(w: &World, videos: &[(&str, &str, &str)]) {
    let dir = movie_dir(w);
    std::fs::create_dir_all(&dir).expect("movie folder");
    std::fs::write(
        dir.join(format!("{TITLE} (2002).mkv")),
        b"not really a movie",
    )
    .expect("movie");
    w.radarr.add_movie(
        Movie::new(TMDB_ID, TITLE, 2002)
            .path(&dir.display().to_string())
            .with_file(1_000_000),
    );
    w.tmdb.set_movie_videos(
        TMDB_ID,
        videos
            .iter()
            .map(|(key, kind, name)| TmdbVideo::trailer(key, name).kind(kind))
            .collect(),
    );
}

/// Offers `id` at `height` (16:9), encoding its media now.
async fn offer(w: &World, id: &str, name: &str, height: u32, throttle: Option<u64>) {
    let mut spec = VideoSpec::new(&format!("{name} 2002"))
        .seconds(2)
        .resolution(height * 16 / 9, height);
    if let Some(rate) = throttle {
        spec = spec.throttle(rate);
    }
    w.origin.set_video(id, spec);
    w.origin.prepare().await.expect("origin media");
}

/// Media files fetched from the origin so far.
fn media_requests(w: &World) -> usize {
    w.origin
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/media/"))
        .count()
}

/// Only the "Beside the media" profile, changed as `edit` says (short videos are accepted).
async fn beside_profile(api: &mut Client, edit: impl Fn(&mut Profile)) -> String {
    let mut beside = None;
    for mut p in profiles(api).await {
        if p.name.starts_with("Beside") {
            p.search.min_duration_s = 1;
            edit(&mut p);
            beside = Some(p.id.clone());
        } else {
            p.enabled = false;
        }
        put_profile(api, &p).await;
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

/// The item and its records by slot (one profile), and its history.
async fn detail(api: &mut Client) -> (String, BTreeMap<String, DownloadRecord>, Vec<MediaEvent>) {
    let id = all_media(api)
        .await
        .first()
        .expect("synced")
        .item
        .id
        .clone();
    let d = media_detail(api, &id).await;
    let records = d
        .downloads
        .into_iter()
        .map(|r| (r.slot.to_string(), r))
        .collect();
    (id, records, d.events)
}

/// The preview's (action, reason) for the first trailer.
async fn planned(api: &mut Client) -> (PlanAction, String) {
    let preview: Vec<PlanEntry> = api.get_json("/api/v1/trailers/preview").await;
    let e = preview
        .iter()
        .find(|e| e.slot.to_string() == "trailer-1")
        .unwrap_or_else(|| panic!("no entry: {preview:?}"));
    (e.action, e.reason.clone())
}

fn trailer_name() -> String {
    format!("{TITLE} (2002)-trailer.mp4")
}

#[tokio::test]
async fn a_short_trailer_is_replaced_by_a_taller_video_over_the_same_file_and_only_twice() {
    for backend in backends("trailer_upgrades").await {
        let b = backend.name;
        let w = World::start().await;
        build(
            &w,
            &[
                ("upOne", "Trailer", "Upgrade Movie | Official Trailer"),
                ("upTwo", "Trailer", "Upgrade Movie | Official Trailer 2"),
            ],
        );
        offer(&w, "upOne", "Upgrade Movie | Official Trailer", 180, None).await;
        let dir = tempfile::tempdir().expect("data dir");
        link_tools(dir.path());
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: env(&w),
        });
        let (mut api, _) = Client::admin(&server).await;
        let profile = beside_profile(&mut api, |p| {
            p.output.max_height = 360;
            p.output.upgrade = true;
        })
        .await;
        let saved = profiles(&mut api).await;
        assert!(
            saved.iter().any(|p| p.id == profile && p.output.upgrade),
            "{b}: the option is kept: {saved:?}"
        );
        add_radarr(&mut api, &w).await;

        // The first run places the only video there is, at 180p, and remembers its height.
        run_and_wait(&mut api).await;
        let first = folder_files(&movie_dir(&w));
        assert_eq!(
            first.keys().cloned().collect::<Vec<_>>(),
            [trailer_name(), format!("{TITLE} (2002).mkv")],
            "{b}"
        );
        let (media_id, recs, _) = detail(&mut api).await;
        let rec = &recs["trailer-1"];
        assert_eq!(rec.status, DownloadStatus::Downloaded, "{b}: {rec:?}");
        assert_eq!(rec.video_id.as_deref(), Some("upOne"), "{b}");
        assert_eq!(rec.height, Some(180), "{b}: {rec:?}");
        assert_eq!(rec.upgrades, 0, "{b}");
        assert_eq!(
            planned(&mut api).await,
            (PlanAction::Upgrade, "180p → 360p".to_string()),
            "{b}: the preview says what the next run looks for"
        );

        // Nothing taller anywhere: a run looks, replaces nothing, and says so in the history.
        run_and_wait(&mut api).await;
        assert_eq!(
            folder_files(&movie_dir(&w)),
            first,
            "{b}: the file is untouched"
        );
        let (_, again, events) = detail(&mut api).await;
        assert_eq!(again["trailer-1"].video_id.as_deref(), Some("upOne"), "{b}");
        assert_eq!(again["trailer-1"].upgrades, 0, "{b}");
        assert!(
            events.iter().any(|e| e.kind == "upgrade_checked"),
            "{b}: {events:?}"
        );

        // The same video is now offered at 360p: it replaces the old file under its name.
        offer(&w, "upOne", "Upgrade Movie | Official Trailer", 360, None).await;
        run_and_wait(&mut api).await;
        let second = folder_files(&movie_dir(&w));
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
        assert_eq!(rec.height, Some(360), "{b}: {rec:?}");
        assert_eq!(rec.upgrades, 1, "{b}");
        assert_eq!(rec.video_id.as_deref(), Some("upOne"), "{b}");
        assert_eq!(
            rec.file_bytes,
            i64::try_from(second[&trailer_name()].len()).ok(),
            "{b}: the record describes the file on disk"
        );
        assert!(
            events
                .iter()
                .any(|e| e.kind == "upgraded" && e.message.contains("180p")),
            "{b}: {events:?}"
        );
        assert_eq!(
            planned(&mut api).await.0,
            PlanAction::Have,
            "{b}: at the profile's height, nothing more to look for"
        );
        let fetched = media_requests(&w);
        run_and_wait(&mut api).await;
        assert_eq!(media_requests(&w), fetched, "{b}: no loop: nothing fetched");

        // The profile now wants 720p; a different video is offered at 540p and replaces it.
        beside_profile(&mut api, |p| {
            p.output.max_height = 720;
            p.output.upgrade = true;
        })
        .await;
        offer(&w, "upTwo", "Upgrade Movie | Official Trailer 2", 540, None).await;
        run_and_wait(&mut api).await;
        let third = folder_files(&movie_dir(&w));
        assert_eq!(
            third.keys().collect::<Vec<_>>(),
            first.keys().collect::<Vec<_>>(),
            "{b}: still one trailer"
        );
        let (_, recs, _) = detail(&mut api).await;
        let rec = &recs["trailer-1"];
        assert_eq!(rec.video_id.as_deref(), Some("upTwo"), "{b}: {rec:?}");
        assert_eq!(rec.height, Some(540), "{b}");
        assert_eq!(rec.upgrades, 2, "{b}");

        // Two upgrades are the most: a 720p video appears, and the slot is left alone.
        offer(&w, "upOne", "Upgrade Movie | Official Trailer", 720, None).await;
        assert_eq!(planned(&mut api).await.0, PlanAction::Have, "{b}: bounded");
        let fetched = media_requests(&w);
        run_and_wait(&mut api).await;
        assert_eq!(media_requests(&w), fetched, "{b}: nothing fetched");
        assert_eq!(folder_files(&movie_dir(&w)), third, "{b}: untouched");

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
        build(
            &w,
            &[
                ("kTrail", "Trailer", "Upgrade Movie | Official Trailer"),
                ("kFeat", "Featurette", "Upgrade Movie | Making Of"),
            ],
        );
        offer(&w, "kTrail", "Upgrade Movie | Official Trailer", 180, None).await;
        // The featurette trickles in, so the kill lands in the middle of its download.
        offer(&w, "kFeat", "Upgrade Movie | Making Of", 180, Some(4_000)).await;
        let dir = tempfile::tempdir().expect("data dir");
        link_tools(dir.path());
        let opts = || ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: env(&w),
        };
        let server = Server::start(opts());
        let (mut api, key) = Client::admin(&server).await;
        let profile = beside_profile(&mut api, |p| {
            p.output.extras = vec![ExtraKind::Featurette];
        })
        .await;
        add_radarr(&mut api, &w).await;
        queue(&mut api, "/api/v1/trailers/run").await;
        w.origin
            .wait_for_path("/media/kFeat.mp4", Duration::from_secs(180))
            .await
            .unwrap_or_else(|log| panic!("{b}: the featurette was never fetched: {log:?}"));
        server.kill9();

        // Restarted, with the featurette served at full speed: the run is finished by the
        // restarted process (or the next one).
        offer(&w, "kFeat", "Upgrade Movie | Making Of", 180, None).await;
        let server = Server::start(opts());
        let mut api = Client::with_key(&server, &key);
        let done = |recs: &BTreeMap<String, DownloadRecord>| {
            ["trailer-1", "featurette-1"].iter().all(|s| {
                recs.get(*s)
                    .is_some_and(|r| r.status == DownloadStatus::Downloaded)
            })
        };
        let (_, recs, _) = detail(&mut api).await;
        if !done(&recs) {
            run_and_wait(&mut api).await;
        }
        let (media_id, recs, _) = detail(&mut api).await;
        assert!(done(&recs), "{b}: every slot has its video: {recs:?}");

        let files = folder_files(&movie_dir(&w));
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
            let path = rec.file_path.as_deref().unwrap_or_default();
            assert!(
                Path::new(path).is_file(),
                "{b}: {slot} names its file: {rec:?}"
            );
            assert_eq!(
                rec.file_bytes,
                std::fs::metadata(path)
                    .ok()
                    .and_then(|m| i64::try_from(m.len()).ok()),
                "{b}: {slot}"
            );
        }
        assert_eq!(
            recs["featurette-1"].video_id.as_deref(),
            Some("kFeat"),
            "{b}"
        );
        assert_eq!(recs["trailer-1"].video_id.as_deref(), Some("kTrail"), "{b}");
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
        let after = folder_files(&movie_dir(&w));
        assert_eq!(
            after.keys().cloned().collect::<Vec<_>>(),
            [trailer_name(), format!("{TITLE} (2002).mkv")],
            "{b}"
        );
        server.terminate();
    }
}
