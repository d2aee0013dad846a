//! Several videos per title (#18), on SQLite and PostgreSQL: a profile that asks for two
//! trailers and a featurette places three different videos where the media servers read
//! them (beside the media with `-trailer`/`-featurette`, or in `Trailers/` and
//! `Featurettes/`), each its own download record; a second run does nothing; a slot whose
//! file is deleted is the only one planned again. A fake Radarr and TMDB, the real yt-dlp
//! and ffmpeg.

mod common;

use common::trailer_world::{
    World, add_radarr, media_detail, profiles, put_profile, run_and_wait, scan_and_wait,
};
use common::{Client, Reply, Server, ServerOptions, backends, link_tools};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tapearr_core::trailers::PlanEntry;
use tapearr_core::trailers::model::{DownloadRecord, DownloadStatus, ExtraKind, Profile};
use tapearr_core::trailers::plan::PlanAction;
use tapearr_core::trailers::plan::listing::MediaPage;
use tapearr_testkit::radarr::Movie;
use tapearr_testkit::tmdb::TmdbVideo;
use tapearr_testkit::video_origin::VideoSpec;

const TMDB_ID: i32 = 2_400_001;

fn movie_dir(w: &World) -> PathBuf {
    w.movie_dir("Slot Movie", 2001)
}

/// One movie; TMDB lists two trailers, a teaser, a featurette and a clip (each a video on the
/// origin), so every slot has a video of its own to find.
fn build(w: &World) {
    let dir = movie_dir(w);
    std::fs::create_dir_all(&dir).expect("movie folder");
    std::fs::write(dir.join("Slot Movie (2001).mkv"), b"not really a movie").expect("movie");
    w.radarr.add_movie(
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
    w.tmdb.set_movie_videos(
        TMDB_ID,
        videos
            .iter()
            .map(|(key, kind, name)| TmdbVideo::trailer(key, name).kind(kind))
            .collect(),
    );
    for (key, _, name) in videos {
        w.origin
            .set_video(key, VideoSpec::new(&format!("{name} 2001")).seconds(2));
    }
}

/// The two default profiles, changed as `edit` says (short videos are accepted).
async fn set_profiles(api: &mut Client, edit: impl Fn(&mut Profile)) -> Vec<String> {
    let mut ids = Vec::new();
    for mut p in profiles(api).await {
        p.search.min_duration_s = 1;
        edit(&mut p);
        put_profile(api, &p).await;
        ids.push(p.id);
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
async fn records(api: &mut Client, media_id: &str) -> BTreeMap<(String, String), DownloadRecord> {
    media_detail(api, media_id)
        .await
        .downloads
        .into_iter()
        .map(|d| ((d.profile_id.clone(), d.slot.to_string()), d))
        .collect()
}

/// PUTs a profile body as JSON, whatever it holds.
async fn put_profile_json(api: &mut Client, id: &str, body: serde_json::Value) -> Reply {
    api.send(
        reqwest::Method::PUT,
        &format!("/api/v1/trailers/profiles/{id}"),
        Some(body),
    )
    .await
}

/// Bad slot settings are refused and change nothing.
async fn bad_slot_settings_are_refused(api: &mut Client, b: &str) {
    let before = profiles(api).await;
    let id = before[0].id.clone();
    for trailers in [0, 4] {
        let mut bad = before[0].clone();
        bad.output.trailers = trailers;
        let bad = serde_json::to_value(&bad).expect("profile as JSON");
        let r = put_profile_json(api, &id, bad).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{b}: {trailers} trailers: {}",
            r.body
        );
    }
    // Not an extra at all: only JSON can say it.
    let mut bad = serde_json::to_value(&before[0]).expect("profile as JSON");
    *bad.pointer_mut("/output/extras").expect("extras") = json!(["bloopers"]);
    let r = put_profile_json(api, &id, bad).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "{b}: an unknown extra: {}",
        r.body
    );
    assert_eq!(profiles(api).await, before, "{b}: nothing changed");
}

#[tokio::test]
async fn two_trailers_and_a_featurette_land_where_media_servers_read_them_once() {
    for backend in backends("trailer_slots").await {
        let b = backend.name;
        let w = World::start().await;
        build(&w);
        w.origin.prepare().await.expect("origin media");
        let dir = tempfile::tempdir().expect("data dir");
        link_tools(dir.path());
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: w.env(),
        });
        let (mut api, _) = Client::admin(&server).await;
        bad_slot_settings_are_refused(&mut api, b).await;

        // Beside the media: two trailers and a featurette. In folders: one trailer and a clip.
        let ids = set_profiles(&mut api, |p| {
            if p.name.starts_with("Beside") {
                p.output.trailers = 2;
                p.output.extras = vec![ExtraKind::Featurette];
            } else {
                p.enabled = true;
                p.output.extras = vec![ExtraKind::Clip];
            }
        })
        .await;
        add_radarr(&mut api, &w).await;
        run_and_wait(&mut api).await;

        let (media_id, files, beside) = every_slot_placed_once(&mut api, &w, &ids, b).await;
        deleted_slot_alone_is_planned_again(&mut api, &w, &media_id, &files, &beside, b).await;

        // A slot the profile does not have, or that is not a slot, queues nothing.
        for slot in ["trailer-3", "poster-1"] {
            let r = api
                .post(
                    &format!("/api/v1/trailers/media/{media_id}/download"),
                    json!({"profile_id": beside, "slot": slot}),
                )
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{b}: {slot}: {}", r.body);
        }
        server.terminate();
    }
}

/// Every slot in its place, one record each, and a second run does nothing. Returns the
/// movie's id, its folder's files and the id of the profile that places beside the media.
async fn every_slot_placed_once(
    api: &mut Client,
    w: &World,
    ids: &[String],
    b: &str,
) -> (String, BTreeMap<String, Vec<u8>>, String) {
    let files = folder_files(&movie_dir(w));
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
    let media: MediaPage = api.get_json("/api/v1/trailers/media?limit=10").await;
    let movie = media.items.first().expect("synced");
    let media_id = movie.item.id.clone();
    let row = &movie.trailers;
    assert_eq!(row.len(), 5, "{b}: the list shows each slot: {row:?}");
    assert!(
        row.iter().all(|t| t.action == PlanAction::Have),
        "{b}: {row:?}"
    );

    let recs = records(api, &media_id).await;
    let (beside, folder) = if recs.contains_key(&(ids[0].clone(), "trailer-2".into())) {
        (ids[0].clone(), ids[1].clone())
    } else {
        (ids[1].clone(), ids[0].clone())
    };
    let video = |p: &str, s: &str| {
        recs.get(&(p.to_string(), s.to_string()))
            .map(|r| {
                assert_eq!(r.status, DownloadStatus::Downloaded, "{b}: {r:?}");
                r.video_id.clone().unwrap_or_default()
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
    run_and_wait(api).await;
    assert_eq!(w.origin.requests().len(), requests, "{b}: nothing fetched");
    assert_eq!(folder_files(&movie_dir(w)), files, "{b}: no file changed");
    assert_eq!(records(api, &media_id).await, recs, "{b}");
    (media_id, files, beside)
}

/// The second trailer's file is deleted by hand: only that slot is planned again, and the run
/// places the second trailer again.
async fn deleted_slot_alone_is_planned_again(
    api: &mut Client,
    w: &World,
    media_id: &str,
    files: &BTreeMap<String, Vec<u8>>,
    beside: &str,
    b: &str,
) {
    let before = records(api, media_id).await;
    let second = movie_dir(w).join("Slot Movie (2001) - Trailer 2-trailer.mp4");
    std::fs::remove_file(&second).expect("delete");
    scan_and_wait(api).await;
    let preview: Vec<PlanEntry> = api.get_json("/api/v1/trailers/preview").await;
    let planned: Vec<(String, String)> = preview
        .iter()
        .filter(|e| e.action == PlanAction::Download)
        .map(|e| (e.profile_id.clone(), e.slot.to_string()))
        .collect();
    assert_eq!(
        planned,
        [(beside.to_string(), "trailer-2".to_string())],
        "{b}: only the deleted slot: {preview:?}"
    );
    run_and_wait(api).await;
    let again = folder_files(&movie_dir(w));
    assert_eq!(
        again.keys().collect::<Vec<_>>(),
        files.keys().collect::<Vec<_>>(),
        "{b}: the same files again"
    );
    let after = records(api, media_id).await;
    assert_eq!(
        after[&(beside.to_string(), "trailer-2".to_string())]
            .video_id
            .as_deref(),
        Some("slotTr2"),
        "{b}: the second trailer again, not a copy of the first"
    );
    for (key, rec) in &before {
        if key.1 != "trailer-2" {
            assert_eq!(&after[key], rec, "{b}: {key:?} untouched");
        }
    }
}
