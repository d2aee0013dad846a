//! Trailers end to end (T1–T9), on SQLite and PostgreSQL: a fake Radarr with 50 movies, a
//! fake TMDB and a local video site that the real yt-dlp downloads from; the real ffmpeg
//! converts. One run places exactly the missing trailers and records why the rest were left
//! alone; a second run does nothing.

mod common;

use common::trailer_world::{
    World, add_radarr, all_media, files_under, media_detail, profiles, put_profile, queue,
    run_and_wait, scan_and_wait, sync_and_wait,
};
use common::{
    Backend, Client, InProcess, JobRecord, JobStatus, Reply, Server, ServerOptions, backends,
    eventually, link_tools,
};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tapearr_api::error::Code;
use tapearr_api::routes::trailers::BulkResult;
use tapearr_core::events::DomainEvent;
use tapearr_core::events::model::EventRecord;
use tapearr_core::storage::Paged;
use tapearr_core::trailers::download::politeness::HostPause;
use tapearr_core::trailers::model::{
    CandidateSource, Connection, ConnectionKind, DownloadRecord, DownloadStatus, MediaKind, Profile,
};
use tapearr_core::trailers::plan::PlanAction;
use tapearr_core::trailers::plan::listing::{MediaPage, MediaSummary};
use tapearr_core::trailers::service::webhook::{WebhookInfo, WebhookReply};
use tapearr_core::trailers::{ConnectionTest, PlanEntry, RootFolderView};
use tapearr_testkit::arr::{ArrFault, Malformed};
use tapearr_testkit::jellyfin_library::JellyfinItem;
use tapearr_testkit::media_servers::FakeMediaServer;
use tapearr_testkit::plex_library::{PlexItem, PlexKind};
use tapearr_testkit::radarr::Movie;
use tapearr_testkit::tmdb::TmdbVideo;
use tapearr_testkit::video_origin::{Availability, VideoCodec, VideoOrigin, VideoSpec};

const CONNECTIONS: &str = "/api/v1/trailers/connections";

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

/// The real binary on the world's library, with the tools linked; an admin client.
async fn start_with_tools(w: &World, backend: &Backend, data_dir: &Path) -> (Server, Client) {
    link_tools(data_dir);
    start_without_tools(w, backend, data_dir).await
}

/// The real binary on the world's library, for stories that download nothing.
async fn start_without_tools(w: &World, backend: &Backend, data_dir: &Path) -> (Server, Client) {
    let server = Server::start(ServerOptions {
        data_dir,
        database_url: backend.database_url.as_deref(),
        env: w.env(),
    });
    let (api, _) = Client::admin(&server).await;
    (server, api)
}

/// Waits for the first sync (queued when the connection is made) to list `n` items.
async fn wait_for_media(api: &Client, n: usize) {
    eventually(Duration::from_secs(30), "the first sync", || {
        let mut api = api.clone();
        async move { (all_media(&mut api).await.len() == n).then_some(()) }
    })
    .await;
}

/// The enabled default profile, changed by `change` (the origin's short trailers accepted).
async fn change_default_profile(api: &mut Client, change: impl FnOnce(&mut Profile)) {
    let mut profile = profiles(api)
        .await
        .into_iter()
        .find(|p| p.enabled)
        .expect("an enabled default profile");
    profile.search.min_duration_s = 1;
    change(&mut profile);
    put_profile(api, &profile).await;
}

/// The origin's trailers are seconds long: the user widens the default profile's window.
async fn accept_short_trailers(api: &mut Client) {
    change_default_profile(api, |_| {}).await;
}

/// The item titled `title` in a media list.
fn titled<'a>(media: &'a [MediaSummary], title: &str) -> &'a MediaSummary {
    media
        .iter()
        .find(|m| m.item.title == title)
        .unwrap_or_else(|| panic!("{title} synced"))
}

/// The first record of an item's page.
fn first_record(records: &[DownloadRecord]) -> &DownloadRecord {
    records.first().expect("a download record")
}

/// The part of `ffprobe -of json` these stories read.
#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<ProbeStream>,
}

#[derive(Deserialize)]
struct ProbeStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
}

/// The video codec's name and whether there is audio.
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
    let probe: Probe = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    let video = probe
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video"))
        .and_then(|s| s.codec_name.clone())
        .unwrap_or_default();
    let audio = probe
        .streams
        .iter()
        .any(|s| s.codec_type.as_deref() == Some("audio"));
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
        let (server, mut api) = start_with_tools(&w, &backend, dir.path()).await;
        bad_connections_change_nothing(&mut api, &w, b).await;
        accept_short_trailers(&mut api).await;
        add_radarr(&mut api, &w).await;
        run_and_wait(&mut api).await;

        let media = all_media(&mut api).await;
        assert_eq!(media.len(), 50, "{b}: every movie synced");
        for m in &movies {
            let item = media
                .iter()
                .find(|i| i.item.title == m.title)
                .unwrap_or_else(|| panic!("{b}: {} synced", m.title));
            the_first_run_did_right_by(&mut api, &w, m, item, &before, b).await;
        }
        the_preview_says_why_each_is_left_alone(&mut api, b).await;
        a_second_run_does_nothing(&mut api, &w, &media, b).await;

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

/// Bad input changes nothing; a wrong key is not repeated in the refusal.
async fn bad_connections_change_nothing(api: &mut Client, w: &World, b: &str) {
    let r = api
        .post(
            CONNECTIONS,
            json!({"name": "x", "kind": "radarr", "url": "ftp://nope", "api_key": "k"}),
        )
        .await;
    assert_eq!(r.status, 400, "{b}: {}", r.body);
    let r = api
        .post(
            CONNECTIONS,
            json!({"name": "x", "kind": "radarr", "url": w.radarr.url(), "api_key": "wrong-key-123"}),
        )
        .await;
    assert_eq!(r.status, 502, "{b}: {}", r.body);
    assert!(
        !r.error().message.contains("wrong-key-123"),
        "{b}: the key leaked into the error: {}",
        r.body
    );
    let connections: Vec<Connection> = api.get_json(CONNECTIONS).await;
    assert!(connections.is_empty(), "{b}: {connections:?}");
}

/// One movie after the first run: its record, its files and its list row.
async fn the_first_run_did_right_by(
    api: &mut Client,
    w: &World,
    m: &StoryMovie,
    item: &MediaSummary,
    before: &HashMap<String, Vec<PathBuf>>,
    b: &str,
) {
    let detail = media_detail(api, &item.item.id).await;
    let downloads = &detail.downloads;
    let dir = w.movie_dir(&m.title, m.year);
    match m.case {
        Case::ArrId | Case::Tmdb | Case::Search => {
            assert_eq!(downloads.len(), 1, "{b}: {}: {detail:?}", m.title);
            let d = &downloads[0];
            assert_eq!(
                d.status,
                DownloadStatus::Downloaded,
                "{b}: {}: {d:?}",
                m.title
            );
            let want_source = match m.case {
                Case::ArrId => CandidateSource::Arr,
                Case::Tmdb => CandidateSource::Tmdb,
                _ => CandidateSource::Search,
            };
            assert_eq!(d.source, Some(want_source), "{b}: {}", m.title);
            assert_eq!(
                d.video_id.as_deref(),
                m.video.as_deref(),
                "{b}: {}",
                m.title
            );
            let expected = dir.join(format!("{} ({})-trailer.mp4", m.title, m.year));
            assert_eq!(
                d.file_path.as_deref(),
                Some(expected.to_str().expect("utf-8"))
            );
            let (video, audio) = probe_codecs(&expected);
            assert_eq!(
                video, "h264",
                "{b}: {} is H.264 (the VP9 one converted)",
                m.title
            );
            assert!(audio, "{b}: {} has audio", m.title);
            assert!(
                detail.events.iter().any(|e| e.kind == "downloaded"),
                "{b}: history records the download: {detail:?}"
            );
        }
        Case::OnDisk => {
            assert_eq!(downloads.len(), 1, "{b}: {}: {detail:?}", m.title);
            let d = &downloads[0];
            assert_eq!(
                d.status,
                DownloadStatus::Existing,
                "{b}: {}: {d:?}",
                m.title
            );
            assert!(
                d.reason
                    .as_deref()
                    .unwrap_or_default()
                    .starts_with("already on disk"),
                "{b}: says why: {d:?}"
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
            assert!(downloads.is_empty(), "{b}: {}: {detail:?}", m.title);
            assert_eq!(
                detail.scan_status.as_deref(),
                Some("missing"),
                "{b}: {detail:?}"
            );
        }
    }
    // The list row says what the next run does, as the preview does.
    let row = &item.trailers;
    let (action, status) = match m.case {
        Case::NoFolder => (PlanAction::Skip, None),
        Case::OnDisk => (PlanAction::Have, Some(DownloadStatus::Existing)),
        _ => (PlanAction::Have, Some(DownloadStatus::Downloaded)),
    };
    let first = row.first().expect("a state per profile");
    assert_eq!(first.action, action, "{b}: {}: {row:?}", m.title);
    assert_eq!(first.status, status, "{b}: {}: {row:?}", m.title);
}

/// Nothing is left to download, and the preview says why each is left alone.
async fn the_preview_says_why_each_is_left_alone(api: &mut Client, b: &str) {
    let preview: Vec<PlanEntry> = api.get_json("/api/v1/trailers/preview").await;
    assert_eq!(
        preview.len(),
        50,
        "{b}: one default profile applies to each"
    );
    assert!(
        preview.iter().all(|e| e.action != PlanAction::Download),
        "{b}: {preview:?}"
    );
    let skipped = preview
        .iter()
        .filter(|e| e.action == PlanAction::Skip && e.reason.contains("does not exist"))
        .count();
    assert_eq!(
        skipped, 30,
        "{b}: folders not there yet are skipped with the reason"
    );
}

/// A second run does nothing: no request to the video site, no new file, no change.
async fn a_second_run_does_nothing(api: &mut Client, w: &World, media: &[MediaSummary], b: &str) {
    let requests = w.origin.requests().len();
    let library = files_under(w.library.path());
    let mut records = Vec::new();
    for m in media {
        records.push(media_detail(api, &m.item.id).await.downloads);
    }
    run_and_wait(api).await;
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
        let now = media_detail(api, &m.item.id).await.downloads;
        assert_eq!(&now, before, "{b}: records unchanged");
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
        let (server, mut api) = start_without_tools(&w, &backend, dir.path()).await;
        let conn = add_radarr(&mut api, &w).await.id;
        // The first sync is queued by the create; wait for the library to fill.
        wait_for_media(&api, 10).await;
        let first = all_media(&mut api).await[0].item.id.clone();
        the_user_makes_choices(&mut api, &first, b).await;
        broken_answers_delete_nothing(&mut api, &w, &conn, b).await;

        // A malformed item is skipped with a reason; the rest sync, and it is not deleted.
        w.radarr
            .update_movie(ids[1], |m| m.title = "Renamed In Radarr".into());
        w.radarr.fault_once(ArrFault::Malformed {
            index: 5,
            kind: Malformed::WrongTypes,
        });
        let job = sync_and_wait(&mut api, &conn).await;
        assert_eq!(job.status, JobStatus::Succeeded, "{b}: {job:?}");
        let media = all_media(&mut api).await;
        assert_eq!(media.len(), 10, "{b}: the malformed item is kept");
        assert!(
            media.iter().any(|m| m.item.title == "Renamed In Radarr"),
            "{b}: the other items synced"
        );
        assert!(
            server
                .output_text()
                .contains("skipped a malformed library item")
        );

        // The user's choices survive; a removal in Radarr is applied after a good sync.
        let item = media_detail(&mut api, &first).await.item;
        assert!(!item.monitor, "{b}: {item:?}");
        assert_eq!(item.trailer_id_override.as_deref(), Some("mine123"), "{b}");
        w.radarr.remove_movie(ids[9]);
        sync_and_wait(&mut api, &conn).await;
        assert_eq!(
            all_media(&mut api).await.len(),
            9,
            "{b}: the removed movie is gone"
        );

        the_key_is_never_sent_to_another_host(&mut api, &conn, b).await;
        removing_the_connection_removes_its_items(&mut api, &conn, &first, b).await;
        server.terminate();
    }
}

/// The user unmonitors an item and sets its trailer id; a bad id is refused.
async fn the_user_makes_choices(api: &mut Client, media_id: &str, b: &str) {
    let path = format!("/api/v1/trailers/media/{media_id}");
    let r = api
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"monitor": false, "trailer_id_override": "mine123"})),
        )
        .await;
    assert_eq!(r.status, 200, "{b}: {}", r.body);
    let r = api
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"trailer_id_override": "../../etc"})),
        )
        .await;
    assert_eq!(r.status, 400, "{b}: a bad id is refused: {}", r.body);
}

/// An empty answer, a body cut midway and a dropped connection delete nothing; the failed
/// sync is shown on the connection.
async fn broken_answers_delete_nothing(api: &mut Client, w: &World, conn: &str, b: &str) {
    for fault in [
        ArrFault::Empty,
        ArrFault::TruncateAfter(4),
        ArrFault::AbortAfter(3),
    ] {
        w.radarr.fault_once(fault.clone());
        sync_and_wait(api, conn).await;
        assert_eq!(
            all_media(api).await.len(),
            10,
            "{b}: {fault:?} deleted nothing"
        );
    }
    let conn_view: Connection = api.get_json(&format!("{CONNECTIONS}/{conn}")).await;
    assert!(
        conn_view.last_sync_error.is_some(),
        "{b}: the failed sync is shown: {conn_view:?}"
    );
}

/// The stored key is never sent to another host: a new URL needs the key again.
async fn the_key_is_never_sent_to_another_host(api: &mut Client, conn: &str, b: &str) {
    let r = api
        .send(
            reqwest::Method::PUT,
            &format!("{CONNECTIONS}/{conn}"),
            Some(
                json!({"name": "Radarr", "kind": "radarr", "url": "http://127.0.0.1:9/elsewhere",
                        "api_key": "***"}),
            ),
        )
        .await;
    assert_eq!(r.status, 400, "{b}: {}", r.body);
    assert!(
        r.error().message.contains("API key again"),
        "{b}: {}",
        r.body
    );
}

/// Removing the connection removes its items and their records, nothing else; a second
/// delete finds nothing.
async fn removing_the_connection_removes_its_items(
    api: &mut Client,
    conn: &str,
    media_id: &str,
    b: &str,
) {
    let r = api.delete(&format!("{CONNECTIONS}/{conn}")).await;
    assert_eq!(r.status, 204, "{b}: {}", r.body);
    assert!(all_media(api).await.is_empty(), "{b}");
    let r = api.get(&format!("/api/v1/trailers/media/{media_id}")).await;
    assert_eq!(r.status, 404, "{b}: {}", r.body);
    let r = api.delete(&format!("{CONNECTIONS}/{conn}")).await;
    assert_eq!(r.status, 404, "{b}: a second delete finds nothing");
}

/// Harbor Lights (2018): its folder, and TMDB knows its trailer `video`, which the origin
/// serves. Returns the folder.
fn harbor_lights_on_tmdb(w: &World, video: &str) -> PathBuf {
    let movie_dir = w.movie_dir("Harbor Lights", 2018);
    std::fs::create_dir_all(&movie_dir).expect("movie folder");
    w.tmdb.set_movie_videos(
        3_100_001,
        vec![TmdbVideo::trailer(
            video,
            "Harbor Lights | Official Trailer",
        )],
    );
    w.origin.set_video(
        video,
        VideoSpec::new("Harbor Lights (2018) Official Trailer").seconds(2),
    );
    movie_dir
}

/// Night Shift: a series folder with a trailer on disk.
fn night_shift_on_disk(w: &World) {
    let show_dir = w.library.path().join("tv").join("Night Shift");
    std::fs::create_dir_all(&show_dir).expect("show folder");
    std::fs::write(show_dir.join("Night Shift-trailer.mp4"), b"a trailer").expect("trailer");
}

/// A media server as a trailer source: a wrong key is refused and not repeated, the right
/// one makes the connection (its key write-only).
async fn add_library_source(
    api: &mut Client,
    input: impl Fn(&str) -> Value,
    wrong_key: &str,
    key: &str,
    b: &str,
) -> Connection {
    let r = api.post(CONNECTIONS, input(wrong_key)).await;
    assert_eq!(r.status, 502, "{b}: {}", r.body);
    assert!(
        !r.body.to_string().contains(wrong_key),
        "{b}: the key leaked: {}",
        r.body
    );
    let r = api.post(CONNECTIONS, input(key)).await;
    assert_eq!(r.status, 201, "{b}: {}", r.body);
    let conn: Connection = r.json();
    assert_eq!(conn.api_key.expose(), "***", "{b}: the key is write-only");
    conn
}

/// The source's library folders as (path as the server says, inside Tapearr's library).
async fn mapped_folders(api: &mut Client, conn: &str, b: &str) -> Vec<(String, bool)> {
    let r = api.get(&format!("{CONNECTIONS}/{conn}/rootfolders")).await;
    assert_eq!(r.status, 200, "{b}: {}", r.body);
    r.json::<Vec<RootFolderView>>()
        .into_iter()
        .map(|f| (f.path, f.in_library))
        .collect()
}

/// After a run: Harbor Lights got its trailer beside it, Night Shift kept its own. Returns
/// Harbor Lights' record.
async fn harbor_lights_placed_and_night_shift_kept(
    api: &mut Client,
    media: &[MediaSummary],
    movie_dir: &Path,
    b: &str,
) -> DownloadRecord {
    let night_shift = media_detail(api, &titled(media, "Night Shift").item.id).await;
    let d = first_record(&night_shift.downloads);
    assert_eq!(d.status, DownloadStatus::Existing, "{b}: {night_shift:?}");
    let harbor = media_detail(api, &titled(media, "Harbor Lights").item.id).await;
    let d = first_record(&harbor.downloads);
    assert_eq!(d.status, DownloadStatus::Downloaded, "{b}: {harbor:?}");
    let file = movie_dir.join("Harbor Lights (2018)-trailer.mp4");
    assert_eq!(d.file_path.as_deref(), file.to_str(), "{b}: {harbor:?}");
    d.clone()
}

/// A Plex with a movie TMDB knows a trailer for, a show with a trailer on disk, and a movie
/// without a file, which is skipped with the reason; sections for shows and music videos.
async fn plex_library() -> FakeMediaServer {
    let plex = FakeMediaServer::plex("plex-token-4242", &[("1", "Movies", "/plex/Movies")])
        .await
        .expect("plex");
    plex.plex_add_section("2", PlexKind::Show, "TV Shows", &["/plex/TV"]);
    plex.plex_add_section("3", PlexKind::Movie, "Music videos", &["/plex/Clips"]);
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
    plex.plex_add_item(
        "2",
        PlexItem::show("Night Shift", 2020, "/plex/TV/Night Shift").guid("tvdb://3200001"),
    );
    let mut no_file = PlexItem::movie("Not Here Yet", 2024, "");
    no_file.files.clear();
    plex.plex_add_item("3", no_file);
    plex
}

#[tokio::test]
async fn a_plex_library_is_a_source_too() {
    for backend in backends("trailer_plex").await {
        let b = backend.name;
        let w = World::start().await;
        let plex = plex_library().await;
        let movie_dir = harbor_lights_on_tmdb(&w, "plexhl01");
        night_shift_on_disk(&w);
        w.origin.prepare().await.expect("origin media");

        let dir = tempfile::tempdir().expect("data dir");
        let (server, mut api) = start_with_tools(&w, &backend, dir.path()).await;
        accept_short_trailers(&mut api).await;
        let library = w.library.path().display().to_string();
        let input = |token: &str| {
            json!({"name": "Plex", "kind": "plex", "url": plex.url(), "api_key": token,
                   "path_mappings": [
                       {"remote": "/plex/Movies", "local": format!("{library}/movies")},
                       {"remote": "/plex/TV", "local": format!("{library}/tv")}]})
        };
        let conn = add_library_source(&mut api, input, "wrong-token-999", "plex-token-4242", b)
            .await
            .id;
        let mapped = mapped_folders(&mut api, &conn, b).await;
        assert!(
            mapped.contains(&("/plex/Movies".into(), true))
                && mapped.contains(&("/plex/TV".into(), true))
                && mapped.contains(&("/plex/Clips".into(), false)),
            "{b}: the sections' folders, mapped: {mapped:?}"
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
        let kinds: HashMap<&str, MediaKind> = media
            .iter()
            .map(|m| (m.item.title.as_str(), m.item.kind))
            .collect();
        assert_eq!(
            kinds,
            HashMap::from([
                ("Harbor Lights", MediaKind::Movie),
                ("Night Shift", MediaKind::Series),
            ]),
            "{b}: the movie and the show synced; the item without a file is skipped"
        );
        let harbor =
            harbor_lights_placed_and_night_shift_kept(&mut api, &media, &movie_dir, b).await;
        assert_eq!(
            harbor.source,
            Some(CandidateSource::Tmdb),
            "{b}: {harbor:?}"
        );
        let file = movie_dir.join("Harbor Lights (2018)-trailer.mp4");
        assert_eq!(probe_codecs(&file).0, "h264", "{b}");
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
        let c: Connection = api.get_json(&format!("{CONNECTIONS}/{conn}")).await;
        assert_eq!(c.last_sync_items, Some(2), "{b}: {c:?}");
        assert!(
            !server.output_text().contains("plex-token-4242"),
            "{b}: the Plex token reached the log"
        );
        server.terminate();
    }
}

/// Titles to their ids.
async fn ids_by_title(api: &mut Client) -> HashMap<String, String> {
    all_media(api)
        .await
        .into_iter()
        .map(|m| (m.item.title, m.item.id))
        .collect()
}

/// What the preview plans for `title`'s first entry.
fn planned_for(preview: &[PlanEntry], title: &str) -> Option<PlanAction> {
    preview.iter().find(|e| e.title == title).map(|e| e.action)
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
        let (server, mut api) = start_with_tools(&w, &backend, dir.path()).await;
        add_radarr(&mut api, &w).await;
        wait_for_media(&api, 3).await;
        scan_and_wait(&mut api).await;
        let ids = ids_by_title(&mut api).await;
        for (title, _, _) in &folders {
            let d = media_detail(&mut api, &ids[*title]).await;
            assert_eq!(
                first_record(&d.downloads).status,
                DownloadStatus::Existing,
                "{b}: {d:?}"
            );
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
        let offline_before = media_detail(&mut api, &ids["Offline One"]).await.downloads;
        scan_and_wait(&mut api).await;
        the_scan_saw_each_change(&mut api, &ids, renamed_dir, &offline_before, b).await;

        // Mounted again: the trailer is still known, nothing was lost.
        std::fs::rename(lib.join("nas-unmounted"), lib.join("nas")).expect("mount");
        scan_and_wait(&mut api).await;
        let back = media_detail(&mut api, &ids["Offline One"]).await;
        assert_eq!(back.scan_status.as_deref(), Some("ok"), "{b}: {back:?}");
        assert_eq!(back.downloads, offline_before, "{b}: {back:?}");

        bulk_actions_change_each_item_once(&mut api, &ids, b).await;
        server.terminate();
    }
}

/// The renamed trailer is followed, the deleted one is missing, the offline one unchanged;
/// only the deleted one is planned for a download.
async fn the_scan_saw_each_change(
    api: &mut Client,
    ids: &HashMap<String, String>,
    renamed_dir: &Path,
    offline_before: &[DownloadRecord],
    b: &str,
) {
    let renamed = media_detail(api, &ids["Renamed One"]).await;
    let record = first_record(&renamed.downloads);
    assert_eq!(record.status, DownloadStatus::Existing, "{b}: {renamed:?}");
    assert_eq!(
        record.file_path.as_deref(),
        renamed_dir.join("Trailers/Renamed One (2001).mp4").to_str(),
        "{b}: the record follows the file: {renamed:?}"
    );
    assert!(
        renamed.events.iter().any(|e| e.kind == "renamed"),
        "{b}: {renamed:?}"
    );
    let deleted = media_detail(api, &ids["Deleted One"]).await;
    assert_eq!(
        first_record(&deleted.downloads).status,
        DownloadStatus::Missing,
        "{b}: {deleted:?}"
    );
    let offline = media_detail(api, &ids["Offline One"]).await;
    assert_eq!(
        offline.scan_status.as_deref(),
        Some("unavailable"),
        "{b}: {offline:?}"
    );
    assert_eq!(
        offline.downloads, offline_before,
        "{b}: nothing changes for storage that is not there"
    );
    let preview: Vec<PlanEntry> = api.get_json("/api/v1/trailers/preview").await;
    assert_eq!(
        planned_for(&preview, "Deleted One"),
        Some(PlanAction::Download),
        "{b}: {preview:?}"
    );
    assert_ne!(
        planned_for(&preview, "Offline One"),
        Some(PlanAction::Download),
        "{b}: {preview:?}"
    );
    assert_ne!(
        planned_for(&preview, "Renamed One"),
        Some(PlanAction::Download),
        "{b}: {preview:?}"
    );
}

/// Bulk actions: an unknown id changes nothing; then each item changes once, and only the
/// item whose trailer was deleted needs a download.
async fn bulk_actions_change_each_item_once(
    api: &mut Client,
    ids: &HashMap<String, String>,
    b: &str,
) {
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
        all_media(api).await.iter().all(|m| m.item.monitor),
        "{b}: nothing was unmonitored"
    );
    let r = api
        .post(
            "/api/v1/trailers/bulk",
            json!({"ids": all, "action": "unmonitor"}),
        )
        .await;
    assert_eq!(r.status, 200, "{b}: {}", r.body);
    assert_eq!(r.json::<BulkResult>().changed, 3, "{b}: {}", r.body);
    let r = api
        .post(
            "/api/v1/trailers/bulk",
            json!({"ids": all, "action": "monitor"}),
        )
        .await;
    assert_eq!(r.json::<BulkResult>().changed, 3, "{b}: {}", r.body);
    let r = api
        .post(
            "/api/v1/trailers/bulk",
            json!({"ids": all, "action": "download"}),
        )
        .await;
    assert_eq!(r.json::<BulkResult>().changed, 1, "{b}: {}", r.body);
    // Let the queued download end (nothing on the site matches) before stopping.
    let jobs: Paged<JobRecord> = api
        .get_json("/api/v1/jobs?kind=trailers.download&limit=5")
        .await;
    assert_eq!(jobs.items.len(), 1, "{b}: {jobs:?}");
    for j in jobs.items {
        api.wait_job(&j.id, Duration::from_secs(120)).await;
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
    let (server, mut api) = start_without_tools(&w, &Backend::sqlite(), dir.path()).await;
    let input = |url: String| json!({"name": "Radarr", "kind": "radarr", "url": url, "api_key": w.radarr.api_key()});
    // Another host (`localhost` is not `127.0.0.1`): refused, with where it leads.
    let elsewhere = common::redirector(format!("http://localhost:{port}")).await;
    let r = api
        .post(&format!("{CONNECTIONS}/test"), input(elsewhere))
        .await;
    assert_eq!(r.status, 502, "{}", r.body);
    let message = r.error().message;
    assert!(message.contains("redirects to localhost"), "{message}");
    assert!(!message.contains(w.radarr.api_key()), "{message}");
    // The same host on another port (as http → https would be): followed.
    let same_host = common::redirector(format!("http://127.0.0.1:{port}")).await;
    let r = api
        .post(&format!("{CONNECTIONS}/test"), input(same_host))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json::<ConnectionTest>().app_name, "Radarr", "{}", r.body);
    server.terminate();
}

/// The ids of a list page, in order.
fn page_ids(page: &MediaPage) -> Vec<String> {
    page.items.iter().map(|m| m.item.id.clone()).collect()
}

/// A page of the media list, answered with 200.
async fn media_page(api: &mut Client, query: &str, b: &str) -> MediaPage {
    let r = api.get(&format!("/api/v1/trailers/media?{query}")).await;
    assert_eq!(r.status, 200, "{b}: {}", r.body);
    r.json()
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
        let (server, mut api) = start_without_tools(&w, &backend, dir.path()).await;
        let conn = add_radarr(&mut api, &w).await.id;
        wait_for_media(&api, 130).await;
        let reference: Vec<String> = all_media(&mut api)
            .await
            .into_iter()
            .map(|m| m.item.id)
            .collect();

        let mut by_offset = Vec::new();
        for offset in (0..140).step_by(17) {
            let page = media_page(&mut api, &format!("limit=17&offset={offset}"), b).await;
            assert_eq!(page.total, 130, "{b}");
            by_offset.extend(page_ids(&page));
        }
        assert_eq!(by_offset, reference, "{b}: offset pages");

        // The first cursor page, then a movie is synced, then the rest of the walk.
        let first = media_page(&mut api, "limit=17", b).await;
        let mut walked = page_ids(&first);
        let mut cursor = first.next_cursor.clone();
        assert!(cursor.is_some(), "{b}: {first:?}");
        w.radarr.add_movie(
            Movie::new(2_900_000, "Zzzz Added Between Pages", 2024).path(
                &w.movie_dir("Zzzz Added Between Pages", 2024)
                    .display()
                    .to_string(),
            ),
        );
        let job = queue(&mut api, &format!("{CONNECTIONS}/{conn}/sync")).await;
        api.wait_succeeded(&job, Duration::from_secs(60)).await;
        while let Some(c) = cursor {
            let page = media_page(&mut api, &format!("limit=17&cursor={c}"), b).await;
            assert_eq!(page.total, 131, "{b}");
            walked.extend(page_ids(&page));
            cursor = page.next_cursor;
        }
        let now: Vec<String> = all_media(&mut api)
            .await
            .into_iter()
            .map(|m| m.item.id)
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

/// Asks for `video` as `media_id`'s trailer of `profile` (a replacement when it has one).
async fn replace_trailer(
    api: &mut Client,
    media_id: &str,
    profile: &str,
    video: &str,
) -> JobRecord {
    let r = api
        .post(
            &format!("/api/v1/trailers/media/{media_id}/download"),
            json!({"profile_id": profile, "video_id": video}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let job = r.json::<tapearr_api::routes::trailers::JobQueued>().job_id;
    api.wait_job(&job, Duration::from_secs(240)).await
}

/// The two movies of issue 14 and their own files, which must survive everything.
struct TrailerNamedMovies {
    trailer_dir: PathBuf,
    the_trailer: PathBuf,
    official: PathBuf,
    official_id: i32,
}

impl TrailerNamedMovies {
    fn movie_file(relative_path: &str) -> tapearr_testkit::radarr::MovieFile {
        tapearr_testkit::radarr::MovieFile {
            relative_path: relative_path.into(),
            size: 1_000_000,
            quality: "Bluray-1080p".into(),
            release_group: "GROUP".into(),
            date_added: "2024-01-01T12:30:00Z".into(),
        }
    }

    /// "The Trailer (2020)" with its file listed and two cuts of its trailer on the origin;
    /// "Official Trailer" without a year or a listed file.
    fn build(w: &World) -> TrailerNamedMovies {
        let trailer_dir = w.movie_dir("The Trailer", 2020);
        std::fs::create_dir_all(&trailer_dir).expect("folder");
        let the_trailer = trailer_dir.join("The Trailer (2020).mkv");
        std::fs::write(&the_trailer, b"the movie The Trailer").expect("movie");
        let mut movie = Movie::new(2_300_001, "The Trailer", 2020)
            .path(&trailer_dir.display().to_string())
            .trailer("recog001");
        movie.file = Some(Self::movie_file("The Trailer (2020).mkv"));
        w.radarr.add_movie(movie);
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
        TrailerNamedMovies {
            trailer_dir,
            the_trailer,
            official,
            official_id,
        }
    }

    fn assert_intact(&self, b: &str, when: &str) {
        assert_eq!(
            std::fs::read(&self.the_trailer).ok().as_deref(),
            Some(&b"the movie The Trailer"[..]),
            "{b}: {when}: The Trailer's own file is intact"
        );
        assert_eq!(
            std::fs::read(&self.official).ok().as_deref(),
            Some(&b"the movie Official Trailer"[..]),
            "{b}: {when}: Official Trailer's own file is intact"
        );
    }
}

/// Issue 14: a real movie is never taken for a trailer. "The Trailer (2020)" keeps its file
/// through scans, downloads, a replacement and "delete trailer", while the trailer Tapearr
/// placed is replaced and deleted. "Official Trailer", whose file Radarr did not list at first
/// (so the scan claimed it by its name), is let go of, never deleted, once Radarr lists it.
#[tokio::test]
async fn a_movie_named_trailer_survives_scan_delete_and_replace_while_a_placed_trailer_goes() {
    for backend in backends("trailer_recognition").await {
        let b = backend.name;
        let w = World::start().await;
        let movies = TrailerNamedMovies::build(&w);
        w.origin.prepare().await.expect("origin media");

        let dir = tempfile::tempdir().expect("data dir");
        let (server, mut api) = start_with_tools(&w, &backend, dir.path()).await;
        accept_short_trailers(&mut api).await;
        let conn = add_radarr(&mut api, &w).await.id;
        run_and_wait(&mut api).await;

        movies.assert_intact(b, "after the first run");
        let media = all_media(&mut api).await;
        let trailer_item = titled(&media, "The Trailer").item.id.clone();
        let official_item = titled(&media, "Official Trailer").item.id.clone();
        let d = media_detail(&mut api, &trailer_item).await;
        let record = first_record(&d.downloads);
        assert_eq!(record.status, DownloadStatus::Downloaded, "{b}: {d:?}");
        let placed = PathBuf::from(record.file_path.as_deref().expect("file path"));
        assert!(placed.exists(), "{b}: {d:?}");
        assert_ne!(
            placed.file_name(),
            movies.the_trailer.file_name(),
            "{b}: the movie was not taken for its trailer: {d:?}"
        );
        let profile = record.profile_id.clone();
        // The other movie's file was claimed by its name (nothing said otherwise).
        let o = media_detail(&mut api, &official_item).await;
        assert_eq!(
            first_record(&o.downloads).status,
            DownloadStatus::Existing,
            "{b}: {o:?}"
        );

        let replaced = a_replacement_removes_only_the_placed_trailer(
            &mut api,
            &movies,
            &trailer_item,
            &profile,
            b,
        )
        .await;
        a_movie_file_radarr_lists_is_let_go(
            &mut api,
            &w,
            &movies,
            &conn,
            &official_item,
            &profile,
            b,
        )
        .await;

        // Scans change none of it.
        for _ in 0..2 {
            let job = queue(&mut api, "/api/v1/trailers/scan").await;
            api.wait_job(&job, Duration::from_secs(60)).await;
        }
        movies.assert_intact(b, "after scans");
        let d = media_detail(&mut api, &trailer_item).await;
        assert_eq!(
            first_record(&d.downloads).status,
            DownloadStatus::Downloaded,
            "{b}: {d:?}"
        );

        delete_trailer_deletes_only_what_tapearr_placed(
            &mut api,
            &movies,
            &trailer_item,
            &profile,
            &replaced,
            b,
        )
        .await;
        server.terminate();
    }
}

/// Replacing The Trailer's trailer: the placed one goes, the movie stays. Returns the new
/// trailer's path.
async fn a_replacement_removes_only_the_placed_trailer(
    api: &mut Client,
    movies: &TrailerNamedMovies,
    trailer_item: &str,
    profile: &str,
    b: &str,
) -> PathBuf {
    replace_trailer(api, trailer_item, profile, "recog002").await;
    let d = media_detail(api, trailer_item).await;
    let record = first_record(&d.downloads);
    assert_eq!(record.status, DownloadStatus::Downloaded, "{b}: {d:?}");
    assert_eq!(record.video_id.as_deref(), Some("recog002"), "{b}: {d:?}");
    let replaced = PathBuf::from(record.file_path.as_deref().expect("path"));
    assert!(replaced.exists(), "{b}: {d:?}");
    let mut want = vec![movies.the_trailer.clone(), replaced.clone()];
    want.sort();
    assert_eq!(
        files_under(&movies.trailer_dir),
        want,
        "{b}: one trailer and the movie, nothing else"
    );
    movies.assert_intact(b, "after a replacement");
    replaced
}

/// Radarr now lists Official Trailer's file: the synced item knows it, so deleting or
/// replacing "its trailer" is refused before any scan, and a download goes beside it.
async fn a_movie_file_radarr_lists_is_let_go(
    api: &mut Client,
    w: &World,
    movies: &TrailerNamedMovies,
    conn: &str,
    official_item: &str,
    profile: &str,
    b: &str,
) {
    w.radarr.update_movie(movies.official_id, |m| {
        m.file = Some(TrailerNamedMovies::movie_file("Official Trailer.mkv"));
    });
    sync_and_wait(api, conn).await;
    let r = api
        .delete(&format!(
            "/api/v1/trailers/media/{official_item}/trailers/{profile}"
        ))
        .await;
    assert_eq!(r.status, 409, "{b}: {}", r.body);
    movies.assert_intact(b, "after a refused delete");
    replace_trailer(api, official_item, profile, "recog003").await;
    movies.assert_intact(b, "after a download beside a claimed movie file");
    let o = media_detail(api, official_item).await;
    let record = first_record(&o.downloads);
    assert_eq!(record.status, DownloadStatus::Downloaded, "{b}: {o:?}");
    let official_trailer = record.file_path.as_deref().expect("path");
    assert_ne!(Path::new(official_trailer), movies.official, "{b}: {o:?}");
}

/// "Delete trailer" deletes what Tapearr placed, and only that; the movie file is not
/// claimed as a trailer afterwards.
async fn delete_trailer_deletes_only_what_tapearr_placed(
    api: &mut Client,
    movies: &TrailerNamedMovies,
    trailer_item: &str,
    profile: &str,
    replaced: &Path,
    b: &str,
) {
    let r = api
        .delete(&format!(
            "/api/v1/trailers/media/{trailer_item}/trailers/{profile}"
        ))
        .await;
    assert_eq!(r.status, 204, "{b}: {}", r.body);
    assert!(!replaced.exists(), "{b}: the placed trailer is deleted");
    assert_eq!(
        files_under(&movies.trailer_dir),
        vec![movies.the_trailer.clone()],
        "{b}"
    );
    movies.assert_intact(b, "after delete trailer");
    let job = queue(api, "/api/v1/trailers/scan").await;
    api.wait_job(&job, Duration::from_secs(60)).await;
    let d = media_detail(api, trailer_item).await;
    assert_eq!(
        first_record(&d.downloads).status,
        DownloadStatus::Skipped,
        "{b}: the movie file is not claimed as a trailer afterwards: {d:?}"
    );
    movies.assert_intact(b, "at the end");
}

/// Jobs of one kind the server has queued so far.
async fn jobs_of(api: &mut Client, kind: &str) -> u64 {
    api.get_json::<Paged<JobRecord>>(&format!("/api/v1/jobs?kind={kind}"))
        .await
        .total
}

/// Radarr calling the webhook: no login, Radarr's body.
async fn call_webhook(server: &InProcess, path: &str, body: String) -> Reply {
    let r = reqwest::Client::new()
        .post(server.url(path))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("webhook call");
    let status = r.status();
    let body = r.json::<Value>().await.unwrap_or(Value::Null);
    Reply { status, body }
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
        let conn = add_radarr(&mut api, &w).await.id;
        wait_for_media(&api, 2).await;

        let path = the_webhook_path_is_stable(&mut api, &conn, b).await;
        let import = json!({"eventType": "Download", "isUpgrade": false,
            "movie": {"id": arr_ids[0], "title": "Hooked", "tmdbId": 2_100_000},
            "movieFile": {"id": 1, "relativePath": "Hooked (2021).mkv"}})
        .to_string();
        refused_calls_queue_nothing(&mut api, &server, &conn, &path, &import, b).await;

        // Radarr's Test button, then the import.
        let r = call_webhook(
            &server,
            &path,
            json!({"eventType": "Test", "movie": {"id": 1, "title": "Test Title"}}).to_string(),
        )
        .await;
        assert_eq!(
            (r.status, r.json::<WebhookReply>().action.as_str()),
            (StatusCode::OK, "test"),
            "{b}: {}",
            r.body
        );
        assert_eq!(jobs_of(&mut api, "trailers.item").await, 0, "{b}");
        let r = call_webhook(&server, &path, import.clone()).await;
        let reply: WebhookReply = r.json();
        assert_eq!(
            (r.status, reply.action.as_str()),
            (StatusCode::OK, "queued"),
            "{b}: {}",
            r.body
        );
        let job = reply.job_id.expect("job id");
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
            api.delete(&format!("{CONNECTIONS}/{conn}")).await.status,
            204
        );
        let r = call_webhook(&server, &path, import).await;
        assert_eq!(r.status, 401, "{b}");
        server.stop().await;
    }
}

/// The connection's page shows the webhook's path; asking again gives the same one.
async fn the_webhook_path_is_stable(api: &mut Client, conn: &str, b: &str) -> String {
    let r = api.get(&format!("{CONNECTIONS}/{conn}/webhook")).await;
    assert_eq!(r.status, 200, "{b}: {}", r.body);
    let info: WebhookInfo = r.json();
    let prefix = format!("/api/v1/trailers/webhooks/{conn}/");
    assert!(info.path.starts_with(&prefix), "{b}: {}", info.path);
    let again: WebhookInfo = api.get_json(&format!("{CONNECTIONS}/{conn}/webhook")).await;
    assert_eq!(again.path, info.path, "{b}");
    assert!(
        info.events.iter().any(|e| e.contains("On Import")),
        "{b}: {info:?}"
    );
    info.path
}

/// A wrong secret, no secret, another connection and a body that is not JSON are refused,
/// never repeat the secret, and queue nothing.
async fn refused_calls_queue_nothing(
    api: &mut Client,
    server: &InProcess,
    conn: &str,
    path: &str,
    import: &str,
    b: &str,
) {
    let prefix = format!("/api/v1/trailers/webhooks/{conn}/");
    let secret = &path[prefix.len()..];
    let wrong = format!("{prefix}{}x", &secret[..secret.len() - 1]);
    for bad in [
        wrong,
        prefix.clone(),
        format!("/api/v1/trailers/webhooks/nope/{secret}"),
    ] {
        let r = call_webhook(server, &bad, import.to_string()).await;
        assert!(
            [401, 404, 405].contains(&r.status.as_u16()),
            "{b}: {bad}: {}",
            r.status
        );
        assert!(
            !r.body.to_string().contains(secret),
            "{b}: the secret leaked"
        );
    }
    let r = call_webhook(server, path, "{not json".into()).await;
    assert_eq!(
        (r.status, r.error().code),
        (StatusCode::BAD_REQUEST, Code::InvalidRequest),
        "{b}: {}",
        r.body
    );
    assert_eq!(
        jobs_of(api, "trailers.item").await,
        0,
        "{b}: refused calls queue nothing"
    );
}

/// The typed event of a history record.
fn domain_event(record: &EventRecord) -> DomainEvent {
    serde_json::from_value(json!({"type": record.event_type, "data": record.data}))
        .unwrap_or_else(|e| panic!("not a domain event: {e}: {record:?}"))
}

/// Two movies whose YouTube trailers ask for the bot check; TMDB knows a Vimeo trailer for
/// the second, served by `vimeo`.
fn refused_movies(w: &World, vimeo: &VideoOrigin) {
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
                vec![TmdbVideo::trailer(id, &format!("{title} | Official Trailer")).site("Vimeo")],
            );
        }
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
        refused_movies(&w, &vimeo);
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
        let rescued = media_detail(&mut api, &titled(&media, "Vimeo Rescue").item.id).await;
        let d = first_record(&rescued.downloads);
        assert_eq!(
            d.status,
            DownloadStatus::Downloaded,
            "{b}: the Vimeo trailer: {d:?}"
        );
        assert_eq!(d.video_id.as_deref(), Some("vim002"), "{b}: {d:?}");
        assert!(
            !vimeo.requests().is_empty() && vimeo.page_requests("vim002") >= 1,
            "{b}"
        );

        let refused = media_detail(&mut api, &titled(&media, "Refused Movie").item.id).await;
        let next =
            the_refused_item_waits_for_the_pause(first_record(&refused.downloads), started, b);
        let pauses = the_pause_is_listed_and_announced(&mut api, next, b).await;

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
        let again: Vec<HostPause> = api.get_json("/api/v1/trailers/hosts/paused").await;
        assert_eq!(again, pauses, "{b}: the pause survived the restart");
        server.stop().await;
    }
}

/// Not failed, not an attempt: the record waits for the pause. Returns when it is tried next.
fn the_refused_item_waits_for_the_pause(
    d: &DownloadRecord,
    started: tapearr_core::time::Timestamp,
    b: &str,
) -> i64 {
    assert_eq!(
        d.status,
        DownloadStatus::Missing,
        "{b}: not marked failed: {d:?}"
    );
    assert_eq!(d.error_kind.as_deref(), Some("bot_check"), "{b}: {d:?}");
    assert_eq!(d.attempts, 0, "{b}: a refusal is not an attempt: {d:?}");
    let hour_ms = 3_600_000;
    let next = d.next_attempt_at.expect("next attempt").0;
    assert!(
        (started.0 + hour_ms..started.0 + hour_ms + 300_000).contains(&next),
        "{b}: waits for the pause: {d:?}"
    );
    next
}

/// The paused host is listed with its reason until `next`, one event says what to do, and
/// nothing failed. Returns the pauses.
async fn the_pause_is_listed_and_announced(api: &mut Client, next: i64, b: &str) -> Vec<HostPause> {
    let r = api.get("/api/v1/trailers/hosts/paused").await;
    assert_eq!(r.status, 200, "{b}: {}", r.body);
    let pauses: Vec<HostPause> = r.json();
    assert_eq!(pauses.len(), 1, "{b}: {pauses:?}");
    let pause = &pauses[0];
    assert_eq!(pause.host, "127.0.0.1", "{b}");
    assert_eq!(pause.kind, "bot_check", "{b}");
    assert_eq!(pause.strikes, 1, "{b}: asked once, then left alone");
    assert_eq!(pause.until.0, next, "{b}");
    assert!(pause.reason.contains("not a bot"), "{b}: {pause:?}");
    let events: Vec<EventRecord> = api
        .get_json("/api/v1/events?type=trailer.host_paused")
        .await;
    assert_eq!(events.len(), 1, "{b}: one announcement: {events:?}");
    let advice = match domain_event(&events[0]) {
        DomainEvent::TrailerHostPaused { advice, .. } => advice,
        other => panic!("{b}: not a pause: {other:?}"),
    };
    assert!(advice.contains("cookies"), "{b}: {advice}");
    let failed: Vec<EventRecord> = api.get_json("/api/v1/events?type=trailer.failed").await;
    assert!(failed.is_empty(), "{b}: nothing failed: {failed:?}");
    pauses
}

/// The Jellyfin and Plex libraries of the skip story, with the folders they need.
struct ServerLibraries {
    jellyfin: FakeMediaServer,
    plex: FakeMediaServer,
    harbor_dir: PathBuf,
    coast_dir: PathBuf,
    pass_dir: PathBuf,
}

/// A Jellyfin with a movie TMDB knows a trailer for, one Jellyfin already shows a trailer for
/// (from its metadata), a series with a trailer on disk and a movie without a file; a Plex
/// (Plex Pass) that shows an online trailer for one more movie.
async fn server_libraries(w: &World) -> ServerLibraries {
    let jf = FakeMediaServer::jellyfin("jf-key-7777", false)
        .await
        .expect("jellyfin");
    jf.jellyfin_add_folder("Movies", "movies", &["/jf/Movies"]);
    jf.jellyfin_add_folder("Shows", "tvshows", &["/jf/TV"]);
    jf.jellyfin_add_folder("Music", "music", &["/jf/Music"]);
    let harbor_dir = harbor_lights_on_tmdb(w, "jfhl0001");
    jf.jellyfin_add_item(
        JellyfinItem::movie(
            "Harbor Lights",
            2018,
            "/jf/Movies/Harbor Lights (2018)/Harbor Lights (2018).mkv",
        )
        .provider("Tmdb", "3100001")
        .provider("Imdb", "tt9100001"),
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
    night_shift_on_disk(w);
    jf.jellyfin_add_item(
        JellyfinItem::series("Night Shift", 2020, "/jf/TV/Night Shift").provider("Tvdb", "3200001"),
    );
    let mut no_file = JellyfinItem::movie("Not Here Yet", 2024, "");
    no_file.path = None;
    jf.jellyfin_add_item(no_file);

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
    ServerLibraries {
        jellyfin: jf,
        plex,
        harbor_dir,
        coast_dir,
        pass_dir,
    }
}

#[tokio::test]
async fn a_jellyfin_library_is_a_source_and_what_a_media_server_already_shows_can_be_skipped() {
    for backend in backends("trailer_jellyfin").await {
        let b = backend.name;
        let w = World::start().await;
        let libs = server_libraries(&w).await;
        w.origin.prepare().await.expect("origin media");

        let dir = tempfile::tempdir().expect("data dir");
        let (server, mut api) = start_with_tools(&w, &backend, dir.path()).await;
        // The user turns the option on before the first sync, so Plex is asked too.
        change_default_profile(&mut api, |p| p.search.skip_if_server_has_trailer = true).await;
        let stored = profiles(&mut api).await;
        assert!(
            stored.iter().any(|p| p.search.skip_if_server_has_trailer),
            "{b}: the option is stored: {stored:?}"
        );
        let library = w.library.path().display().to_string();
        let conn = add_jellyfin(&mut api, &libs.jellyfin, &library, b).await;
        let r = api
            .post(
                CONNECTIONS,
                json!({"name": "Plex", "kind": "plex", "url": libs.plex.url(),
                       "api_key": "plex-token-4242",
                       "path_mappings": [{"remote": "/plex/Movies", "local": format!("{library}/movies")}]}),
            )
            .await;
        assert_eq!(r.status, 201, "{b}: {}", r.body);

        run_and_wait(&mut api).await;
        what_the_servers_show_is_skipped(&mut api, &libs, b).await;

        // Turned off, the next run downloads them.
        change_default_profile(&mut api, |p| p.search.skip_if_server_has_trailer = false).await;
        run_and_wait(&mut api).await;
        assert_eq!(
            files_under(&libs.coast_dir),
            [libs.coast_dir.join("Quiet Coast (2019)-trailer.mp4")],
            "{b}"
        );

        // A library that changed while it was read (the count does not match) deletes nothing.
        libs.jellyfin.jellyfin_count_drift(1);
        sync_and_wait(&mut api, &conn).await;
        assert_eq!(all_media(&mut api).await.len(), 4, "{b}: nothing removed");
        let c: Connection = api.get_json(&format!("{CONNECTIONS}/{conn}")).await;
        assert!(
            c.last_sync_error
                .as_deref()
                .is_some_and(|e| e.contains("changed while it was read")),
            "{b}: {c:?}"
        );
        assert!(
            !server.output_text().contains("jf-key-7777"),
            "{b}: the Jellyfin key reached the log"
        );
        server.terminate();
    }
}

/// Jellyfin as a trailer source: a key that is not one is refused, a wrong one too (not
/// repeated); the connection tests as Jellyfin and maps its movie and show libraries.
async fn add_jellyfin(api: &mut Client, jf: &FakeMediaServer, library: &str, b: &str) -> String {
    let input = |key: &str| {
        json!({"name": "Jellyfin", "kind": "jellyfin", "url": jf.url(), "api_key": key,
               "path_mappings": [
                   {"remote": "/jf/Movies", "local": format!("{library}/movies")},
                   {"remote": "/jf/TV", "local": format!("{library}/tv")}]})
    };
    let r = api.post(CONNECTIONS, input("bad\"key")).await;
    assert_eq!(r.status, 400, "{b}: {}", r.body);
    let conn = add_library_source(api, input, "wrong-key-999", "jf-key-7777", b).await;
    assert_eq!(conn.kind, ConnectionKind::Jellyfin, "{b}");
    let r = api
        .post(&format!("{CONNECTIONS}/{}/test", conn.id), json!({}))
        .await;
    assert_eq!(r.status, 200, "{b}: {}", r.body);
    assert_eq!(
        r.json::<ConnectionTest>().app_name,
        "Jellyfin",
        "{b}: {}",
        r.body
    );

    let mut mapped = mapped_folders(api, &conn.id, b).await;
    mapped.sort();
    assert_eq!(
        mapped,
        [
            ("/jf/Movies".to_string(), true),
            ("/jf/TV".to_string(), true)
        ],
        "{b}: the movie and show libraries' folders, mapped (music has no trailers)"
    );
    conn.id
}

/// With the option on: the movies and the series synced, what Jellyfin or Plex already shows
/// is skipped with the reason (in the list and the preview) and nothing is downloaded for it.
async fn what_the_servers_show_is_skipped(api: &mut Client, libs: &ServerLibraries, b: &str) {
    let media = all_media(api).await;
    let mut titles: Vec<&str> = media.iter().map(|m| m.item.title.as_str()).collect();
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
    assert_eq!(
        titled(&media, "Night Shift").item.kind,
        MediaKind::Series,
        "{b}"
    );
    let harbor = &titled(&media, "Harbor Lights").item;
    assert_eq!(harbor.tmdb_id, Some(3_100_001), "{b}");
    assert_eq!(harbor.imdb_id.as_deref(), Some("tt9100001"), "{b}");
    let state = |title: &str| {
        titled(&media, title)
            .trailers
            .first()
            .cloned()
            .unwrap_or_else(|| panic!("{b}: {title} has a state"))
    };
    let coast = state("Quiet Coast");
    assert_eq!(coast.action, PlanAction::Skip, "{b}: {coast:?}");
    assert_eq!(coast.reason, "Jellyfin already has a trailer", "{b}");
    let pass = state("Paper Moon Rising");
    assert_eq!(pass.action, PlanAction::Skip, "{b}");
    assert_eq!(pass.reason, "Plex already has a trailer", "{b}");
    let preview: Vec<PlanEntry> = api.get_json("/api/v1/trailers/preview").await;
    assert!(
        preview.iter().any(|e| e.title == "Paper Moon Rising"
            && e.action == PlanAction::Skip
            && e.reason == "Plex already has a trailer"),
        "{b}: the preview says why: {preview:?}"
    );
    harbor_lights_placed_and_night_shift_kept(api, &media, &libs.harbor_dir, b).await;
    assert!(
        files_under(&libs.coast_dir).is_empty() && files_under(&libs.pass_dir).is_empty(),
        "{b}: nothing was downloaded for what the servers already show"
    );
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
        wait_for_media(&api, 1).await;
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
