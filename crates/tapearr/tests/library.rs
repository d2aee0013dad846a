//! The recordings library (S5, S6, S8), end to end: a fake-Twitch broadcast with category
//! changes is recorded, finalized into the media-server layout with chapters, NFO and artwork,
//! streamed with Range, shared and deleted — and finalize survives SIGKILL at every step.

mod common;

use common::twitch_world::{World, add, detail, env, start, wait_active, wait_detail, world};
use common::{Client, JobRecord, Server, backends, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tapearr_api::error::Code;
use tapearr_api::routes::channels::StreamView;
use tapearr_api::routes::recordings::{RecordingDetail, ShareLinkView};
use tapearr_core::library::DeleteReport;
use tapearr_core::library::ShareInfo;
use tapearr_core::storage::Paged;
use tapearr_core::streams::model::{
    FinalizeStep, Recording, RecordingGap, RecordingStatus, StreamEvent, StreamEventKind,
};

const FINALIZE_WAIT: Duration = Duration::from_secs(90);

/// Records one broadcast: live in "Just Chatting", then Minecraft, then Elden Ring, each for a
/// few seconds of media, then offline. Returns the ended recording.
async fn record_three_categories(w: &World, client: &mut Client, login: &str) -> Recording {
    let channel_id = add(client, login).await.channel.id;
    w.twitch
        .go_live(login, "Day one", "Just Chatting")
        .await
        .expect("live");
    let rec_id = wait_active(client, &channel_id).await.id;
    let mut media = 0;
    for category in ["Minecraft", "Elden Ring"] {
        media = wait_media(client, &rec_id, media + 3_000).await;
        w.twitch
            .set_channel(login, "Day one", category)
            .expect("update");
        wait_category(client, &channel_id, category).await;
    }
    wait_media(client, &rec_id, media + 3_000).await;
    w.twitch.go_offline(login).expect("offline");
    wait_detail(client, &rec_id, "the recording to end", |r| {
        r.recording.status != RecordingStatus::Recording
    })
    .await
    .recording
}

/// Until the channel's newest stream has an event in `category`.
async fn wait_category(client: &Client, channel_id: &str, category: &str) {
    let path = format!("/api/v1/channels/{channel_id}/streams");
    eventually(Duration::from_secs(30), category, || {
        let mut c = client.clone();
        let path = path.clone();
        async move {
            let page: Paged<StreamView> = c.get_json(&path).await;
            page.items
                .first()
                .is_some_and(|s| s.events.iter().any(|e| e.category == category))
                .then_some(())
        }
    })
    .await;
}

async fn wait_media(client: &Client, id: &str, at_least: u64) -> u64 {
    wait_detail(client, id, "more media", |r| {
        r.recording.media_ms >= at_least
    })
    .await
    .recording
    .media_ms
}

async fn wait_ready(client: &Client, id: &str) -> RecordingDetail {
    wait_ready_within(client, id, FINALIZE_WAIT).await
}

/// ffprobe's own JSON (format, streams, chapters): not an API type, read as JSON.
fn ffprobe(path: &Path) -> Value {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_format"])
        .args(["-show_chapters", "-show_streams"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe failed on {}", path.display());
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

fn seconds(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_f64())
        .unwrap_or(f64::NAN)
}

/// What the finalized recording must look like on disk and through ffprobe.
fn assert_finalized(w: &World, rec: &Recording, events: &[StreamEvent], login: &str) -> PathBuf {
    let video = PathBuf::from(rec.library.video_path.as_deref().expect("video_path"));
    let root = w.library.path().canonicalize().expect("root");
    let season = rec.library.season.as_deref().expect("season");
    let month = format!("{}-{}", &season[..4], &season[4..]);
    let expected = root
        .join(login)
        .join(format!("Season {month}"))
        .join(format!("{login} - S{season}E01 - Day one.mp4"));
    assert_eq!(video, expected, "{rec:?}");

    let probe = ffprobe(&video);
    let duration = seconds(&probe["format"]["duration"]);
    let media = rec.media_ms as f64 / 1000.0;
    assert!(
        (duration - media).abs() <= 1.0,
        "MP4 {duration} s, recorded {media} s"
    );
    assert_eq!(
        rec.library
            .duration_ms
            .map(|d| (d as f64 / 1000.0 - duration).abs() < 0.01),
        Some(true)
    );
    assert!(
        probe["streams"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["codec_type"] == "video")),
        "{probe}"
    );

    // Chapters: one per category, at the event's offset from the recording's start.
    let started = rec.started_at.0;
    let expected_starts: Vec<(String, f64)> = events
        .iter()
        .filter(|e| e.kind != StreamEventKind::End)
        .map(|e| {
            let offset = (e.at.0 - started).max(0) as f64 / 1000.0;
            (e.category.clone(), offset)
        })
        .collect();
    let chapters = probe["chapters"].as_array().expect("chapters");
    assert_eq!(chapters.len(), 3, "{probe}");
    for (chapter, (category, offset)) in chapters.iter().zip(&expected_starts) {
        let title = chapter["tags"]["title"].as_str().unwrap_or_default();
        assert!(
            title.starts_with(category.as_str()),
            "{title} vs {category}"
        );
        let start = seconds(&chapter["start_time"]);
        assert!(
            (start - offset).abs() < 0.01,
            "{title}: {start} s, expected {offset} s"
        );
    }

    let dir = video.parent().expect("season dir");
    let stem = video
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .to_string();
    for suffix in [
        ".nfo",
        ".info.json",
        ".chapters.vtt",
        ".chapters.srt",
        ".chapters.xml",
    ] {
        assert!(
            dir.join(format!("{stem}{suffix}")).is_file(),
            "missing {stem}{suffix}"
        );
    }
    let thumb = std::fs::read(dir.join(format!("{stem}-thumb.jpg"))).expect("thumbnail");
    assert_eq!(&thumb[..2], &[0xFF, 0xD8], "the thumbnail is a JPEG");
    let nfo = std::fs::read_to_string(dir.join(format!("{stem}.nfo"))).expect("nfo");
    assert!(nfo.contains(&format!("<season>{season}</season>")), "{nfo}");
    assert!(nfo.contains("<episode>1</episode>"), "{nfo}");
    assert!(nfo.contains("<genre>Minecraft</genre>"), "{nfo}");
    assert!(dir.join("season.nfo").is_file());
    let show = root.join(login);
    let tvshow = std::fs::read_to_string(show.join("tvshow.nfo")).expect("tvshow.nfo");
    assert!(tvshow.contains("<tvshow>"), "{tvshow}");
    for art in ["poster.jpg", "fanart.jpg", "banner.jpg"] {
        let bytes = std::fs::read(show.join(art)).unwrap_or_else(|_| panic!("missing {art}"));
        assert_eq!(&bytes[..2], &[0xFF, 0xD8], "{art} is a JPEG");
    }
    // The sources are gone, and nothing temporary was left behind.
    assert!(!Path::new(&rec.dir).exists(), "parts left: {rec:?}");
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .expect("season dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".tapearr"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    video
}

async fn stream_events_of(client: &Client, rec_id: &str) -> Vec<StreamEvent> {
    detail(client, rec_id).await.events
}

/// Finalize → layout, chapters, NFO, artwork; then Range streaming, share links, filters and
/// an all-or-nothing bulk delete that keeps tvshow.nfo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_broadcast_lands_in_the_library_and_can_be_played_shared_and_deleted() {
    for backend in backends("library_finalize").await {
        let w = world().await;
        w.twitch.add_user("streamer_lib", "Streamer Lib");
        let data = tempfile::tempdir().expect("data");
        let server = start(data.path(), backend.database_url.as_deref(), env(&w, &[]));
        let (mut client, _) = Client::admin(&server).await;

        let ended = record_three_categories(&w, &mut client, "streamer_lib").await;
        let rec_id = ended.id;
        let rec = wait_ready(&client, &rec_id).await;
        let events = stream_events_of(&client, &rec_id).await;
        let video = assert_finalized(&w, &rec.recording, &events, "streamer_lib");
        assert_eq!(
            rec.recording.library.finalize_step,
            Some(FinalizeStep::Done),
            "{}",
            backend.name
        );
        let landed = detail(&client, &rec_id).await;
        assert_eq!(landed.chapters.len(), 3, "{landed:?}");

        let bytes = std::fs::read(&video).expect("mp4");
        a_range_request_seeks(&server, &client, &rec_id, &bytes).await;
        the_thumbnail_is_served_but_not_through_a_link(
            &server,
            &client,
            &rec_id,
            &video,
            data.path(),
        )
        .await;
        filters_and_search_find_it(&mut client).await;
        share_links_play_are_listed_and_revoked(&server, &mut client, &rec_id, &bytes).await;
        bulk_delete_is_all_or_nothing(&w, &mut client, &rec_id, &video, &bytes).await;
        server.terminate();
    }
}

/// Range: the player's seek.
async fn a_range_request_seeks(server: &Server, client: &Client, rec_id: &str, bytes: &[u8]) {
    let ranged = client
        .http
        .get(server.url(&format!("/api/v1/recordings/{rec_id}/video")))
        .header("x-api-key", client.api_key.clone().unwrap_or_default())
        .header("range", "bytes=100-199")
        .send()
        .await
        .expect("range request");
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    common::assert_security_headers(ranged.headers(), "the recording video");
    assert_eq!(
        ranged
            .headers()
            .get("content-range")
            .expect("content-range")
            .to_str()
            .unwrap_or_default(),
        format!("bytes 100-199/{}", bytes.len())
    );
    assert_eq!(
        ranged.bytes().await.expect("body").as_ref(),
        &bytes[100..200]
    );
}

/// The thumbnail is served; once it is a link out of the library, it is not.
async fn the_thumbnail_is_served_but_not_through_a_link(
    server: &Server,
    client: &Client,
    rec_id: &str,
    video: &Path,
    data: &Path,
) {
    let thumb_url = server.url(&format!("/api/v1/recordings/{rec_id}/thumbnail"));
    let key = client.api_key.clone().unwrap_or_default();
    let thumb = client
        .http
        .get(&thumb_url)
        .header("x-api-key", key.clone())
        .send()
        .await
        .expect("thumbnail");
    assert_eq!(thumb.status(), StatusCode::OK);
    common::assert_security_headers(thumb.headers(), "the thumbnail");
    let stem = video
        .file_stem()
        .expect("stem")
        .to_string_lossy()
        .to_string();
    let thumb_file = video.with_file_name(format!("{stem}-thumb.jpg"));
    let outside = data.join("outside.jpg");
    std::fs::copy(&thumb_file, &outside).expect("copy");
    let kept = data.join("thumb-kept.jpg");
    std::fs::rename(&thumb_file, &kept).expect("move the thumbnail away");
    std::os::unix::fs::symlink(&outside, &thumb_file).expect("symlink");
    let linked = client
        .http
        .get(&thumb_url)
        .header("x-api-key", key)
        .send()
        .await
        .expect("thumbnail");
    assert_eq!(
        linked.status(),
        StatusCode::NOT_FOUND,
        "a link out of the library"
    );
    std::fs::remove_file(&thumb_file).expect("unlink");
    std::fs::rename(&kept, &thumb_file).expect("put the thumbnail back");
}

/// Filters and search find it; a wrong category does not.
async fn filters_and_search_find_it(client: &mut Client) {
    let found: Paged<Recording> = client
        .get_json("/api/v1/recordings?status=ready&category=minecraft&q=day%20one&sort=size")
        .await;
    assert_eq!(found.total, 1, "{found:?}");
    let none: Paged<Recording> = client
        .get_json("/api/v1/recordings?category=Fortnite")
        .await;
    assert_eq!(none.total, 0);
    let bad = client.get("/api/v1/recordings?sort=colour").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.error().code, Code::InvalidRequest);
}

async fn share(client: &mut Client, rec_id: &str, expires_in_secs: u64) -> ShareLinkView {
    let r = client
        .post(
            &format!("/api/v1/recordings/{rec_id}/share"),
            json!({"expires_in_secs": expires_in_secs}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

/// A share link plays without a session, until it is unknown; links are listed (without their
/// tokens) and revoked: a revoked one is 404 at once.
async fn share_links_play_are_listed_and_revoked(
    server: &Server,
    client: &mut Client,
    rec_id: &str,
    bytes: &[u8],
) {
    let first = share(client, rec_id, 3600).await;
    let public = reqwest::get(server.url(&first.path)).await.expect("shared");
    assert_eq!(public.status(), StatusCode::OK);
    common::assert_security_headers(public.headers(), "a shared video");
    assert_eq!(public.bytes().await.expect("body").len(), bytes.len());
    let forged = reqwest::get(server.url("/api/v1/share/not-a-token"))
        .await
        .expect("forged");
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    let too_long = client
        .post(
            &format!("/api/v1/recordings/{rec_id}/share"),
            json!({"expires_in_secs": 999_999_999}),
        )
        .await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);

    let second = share(client, rec_id, 600).await;
    let listed = client
        .get(&format!("/api/v1/recordings/{rec_id}/shares"))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let links: Vec<ShareInfo> = listed.json();
    assert_eq!(links.len(), 2, "{}", listed.body);
    assert!(
        links.iter().all(|l| l.recording_id == rec_id),
        "{}",
        listed.body
    );
    // The token is shown only once, when the link is made: the listing has no such field.
    assert!(
        listed
            .body
            .as_array()
            .is_some_and(|ls| ls.iter().all(|l| l.get("token").is_none())),
        "{}",
        listed.body
    );
    let all: Vec<ShareInfo> = client.get_json("/api/v1/shares").await;
    assert_eq!(all.len(), 2, "{all:?}");
    let missing = client.get("/api/v1/recordings/missing/shares").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for link in &links {
        let id = &link.id;
        let revoked = client.delete(&format!("/api/v1/shares/{id}")).await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.body);
        let again = client.delete(&format!("/api/v1/shares/{id}")).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
        assert_eq!(again.error().code, Code::NotFound);
    }
    for path in [&first.path, &second.path] {
        let gone = reqwest::get(server.url(path)).await.expect("revoked link");
        assert_eq!(gone.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let none: Vec<ShareInfo> = client.get_json("/api/v1/shares").await;
    assert!(none.is_empty(), "{none:?}");
}

/// Bulk delete is all or nothing; the last episode takes its season folder, tvshow.nfo stays.
async fn bulk_delete_is_all_or_nothing(
    w: &World,
    client: &mut Client,
    rec_id: &str,
    video: &Path,
    bytes: &[u8],
) {
    let partial = client
        .post(
            "/api/v1/recordings/delete",
            json!({"ids": [rec_id, "missing"]}),
        )
        .await;
    assert_eq!(partial.status, StatusCode::NOT_FOUND, "{}", partial.body);
    assert!(video.is_file(), "nothing is deleted when one id is unknown");
    let deleted = client
        .post("/api/v1/recordings/delete", json!({"ids": [rec_id]}))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let report: DeleteReport = deleted.json();
    assert_eq!(report.deleted, [rec_id]);
    assert_eq!(report.bytes_freed, bytes.len() as u64);
    assert!(!video.exists());
    let season_dir = video.parent().expect("season");
    assert!(
        !season_dir.exists(),
        "the last episode takes season.nfo and its folder"
    );
    assert!(
        w.library.path().join("streamer_lib/tvshow.nfo").is_file(),
        "tvshow.nfo stays"
    );
    let gone = client.get(&format!("/api/v1/recordings/{rec_id}")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

/// SIGKILL at every finalize step in turn (each restart stops at the next step), then a
/// restart that completes: the same MP4, path and episode as an uninterrupted run, and the
/// parts kept until the very last step.
/// The MP4 of a ready recording, its gaps, and its chapters (title, start s) from ffprobe.
fn landed(rec: &RecordingDetail) -> (PathBuf, Vec<RecordingGap>, Vec<(String, f64)>) {
    let video = PathBuf::from(
        rec.recording
            .library
            .video_path
            .as_deref()
            .expect("video_path"),
    );
    let probe = ffprobe(&video);
    let duration = seconds(&probe["format"]["duration"]);
    let media = rec.recording.media_ms as f64 / 1000.0;
    assert!(
        (duration - media).abs() <= 1.0,
        "MP4 {duration} s, the parts hold {media} s: {rec:?}"
    );
    let decode = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-i"])
        .arg(&video)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    assert_eq!(String::from_utf8_lossy(&decode.stderr), "", "decode errors");
    let chapters = probe["chapters"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| {
            (
                c["tags"]["title"].as_str().unwrap_or_default().to_string(),
                seconds(&c["start_time"]),
            )
        })
        .collect();
    (video, rec.gaps.clone(), chapters)
}

/// Issue 22: SIGKILL in the middle of a broadcast (a segment lands every second, progress is
/// saved every two, so the counters lag behind the files), Tapearr down while the broadcast
/// goes on and changes category. The restart resumes into the same folder after what the parts
/// hold, and the end is one ready MP4 that decodes cleanly, the hole stored as a gap, and the
/// change a chapter inside the video.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_broadcast_ends_as_one_ready_mp4_with_its_gap() {
    for backend in backends("library_kill9").await {
        let w = world().await;
        w.twitch.add_user("phoenix", "Phoenix");
        let data = tempfile::tempdir().expect("data");
        let db = backend.database_url.as_deref();
        let server = start(data.path(), db, env(&w, &[]));
        let (mut client, key) = Client::admin(&server).await;
        let channel_id = add(&mut client, "phoenix").await.channel.id;
        w.twitch
            .go_live("phoenix", "Day one", "Just Chatting")
            .await
            .expect("live");
        let rec_id = wait_active(&client, &channel_id).await.id;
        wait_media(&client, &rec_id, 4_000).await;
        server.kill9();
        w.twitch
            .set_channel("phoenix", "Day one", "Minecraft")
            .expect("update");
        // Tapearr stays down longer than the origin's 5 s window: some media is lost for good.
        tokio::time::sleep(Duration::from_secs(8)).await;

        let server = start(data.path(), db, env(&w, &[]));
        let client = Client::with_key(&server, &key);
        let resumed = wait_detail(&client, &rec_id, "the resumed session", |r| {
            r.recording.sessions == 2 && !r.gaps.is_empty()
        })
        .await;
        let media = resumed.recording.media_ms;
        wait_media(&client, &rec_id, media + 3_000).await;
        w.twitch.go_offline("phoenix").expect("offline");
        let ready = wait_ready(&client, &rec_id).await;

        let (video, gaps, chapters) = landed(&ready);
        assert_eq!(gaps.len(), 1, "{ready:?}");
        assert_eq!(gaps[0].reason, "Tapearr restarted");
        let lost = gaps[0].ms;
        assert!(
            (3_000..=14_000).contains(&lost),
            "8 s down, 5 s window: {ready:?}"
        );
        let titles: Vec<&str> = chapters.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(titles.len(), 2, "{chapters:?}");
        assert!(titles[1].starts_with("Minecraft"), "{chapters:?}");
        let duration = ready.recording.library.duration_ms.unwrap_or(0) as f64 / 1000.0;
        assert!(chapters[1].1 < duration, "{chapters:?} in {duration} s");
        assert_eq!(
            mp4s_under(w.library.path()),
            [video],
            "one MP4 for the broadcast"
        );
        server.terminate();
    }
}

/// Issue 22: the origin dies for 8 s mid-broadcast and comes back with its media sequence
/// restarted, as a restarted edge does, and the category changes after it. The restart is
/// followed at once, the lost time is a gap that says why, and the change is a chapter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_outage_is_a_gap_and_the_restarted_numbering_is_followed() {
    use tapearr_testkit::hls_origin::{ChannelSpec, Container, Fault, MediaParams};
    for backend in backends("library_outage").await {
        let w = world().await;
        w.twitch.set_channel_spec(
            ChannelSpec::new(MediaParams::test(Container::Ts))
                .window(5)
                .fault(Fault::Outage {
                    at: 12,
                    segments: 8,
                })
                .fault(Fault::Reset { at: 19 }),
        );
        w.twitch.add_user("edgy", "Edgy");
        let data = tempfile::tempdir().expect("data");
        let server = start(data.path(), backend.database_url.as_deref(), env(&w, &[]));
        let (mut client, _) = Client::admin(&server).await;
        let channel_id = add(&mut client, "edgy").await.channel.id;
        w.twitch
            .go_live("edgy", "Day one", "Just Chatting")
            .await
            .expect("live");
        let rec_id = wait_active(&client, &channel_id).await.id;
        let hit = wait_detail(&client, &rec_id, "the gap after the outage", |r| {
            !r.gaps.is_empty()
        })
        .await;
        let media = hit.recording.media_ms;
        wait_media(&client, &rec_id, media + 2_000).await;
        w.twitch
            .set_channel("edgy", "Day one", "Minecraft")
            .expect("update");
        wait_category(&client, &channel_id, "Minecraft").await;
        let media = wait_media(&client, &rec_id, 0).await;
        wait_media(&client, &rec_id, media + 3_000).await;
        w.twitch.go_offline("edgy").expect("offline");
        let ready = wait_ready(&client, &rec_id).await;

        let (_, gaps, chapters) = landed(&ready);
        assert_eq!(ready.recording.missed_segments, 0, "{ready:?}");
        assert_eq!(gaps.len(), 1, "{ready:?}");
        let lost = gaps[0].ms;
        // Timeline 12..19 went out while the origin was down (7 one-second segments).
        assert!((6_000..=9_000).contains(&lost), "{ready:?}");
        // The recorder saw the origin answer 503: the gap names that, not only "no media".
        let reason = &gaps[0].reason;
        assert!(
            reason.contains("playlist unavailable: HTTP status 503"),
            "{reason}"
        );
        let titles: Vec<&str> = chapters.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(titles.len(), 2, "{chapters:?}");
        assert!(titles[1].starts_with("Minecraft"), "{chapters:?}");
        server.terminate();
    }
}

/// The origin goes away mid-broadcast and the broadcast ends before it answers again: the
/// stretch from the last recorded segment to the end is a gap that says why, instead of time
/// that is simply missing (found by the chaos suite).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_that_ends_during_an_outage_keeps_its_lost_end_as_a_gap() {
    use tapearr_testkit::hls_origin::{ALWAYS, ChannelSpec, Container, Fault, MediaParams};
    for backend in backends("library_outage_end").await {
        let w = world().await;
        w.twitch.set_channel_spec(
            ChannelSpec::new(MediaParams::test(Container::Ts))
                .window(5)
                .fault(Fault::PlaylistStatus {
                    after: 8,
                    status: 503,
                    times: ALWAYS,
                }),
        );
        w.twitch.add_user("fading", "Fading");
        let data = tempfile::tempdir().expect("data");
        let server = start(data.path(), backend.database_url.as_deref(), env(&w, &[]));
        let (mut client, _) = Client::admin(&server).await;
        let channel_id = add(&mut client, "fading").await.channel.id;
        w.twitch
            .go_live("fading", "Last words", "Just Chatting")
            .await
            .expect("live");
        let rec_id = wait_active(&client, &channel_id).await.id;
        eventually(Duration::from_secs(30), "the origin to refuse", || {
            let refused = w
                .twitch
                .origin()
                .stats("fading")
                .map_or(0, |s| s.faults_served);
            async move { (refused > 0).then_some(()) }
        })
        .await;
        let outage = std::time::Instant::now();
        // The scenario: the broadcast goes on for 6 s while its origin refuses, then ends.
        tokio::time::sleep(Duration::from_secs(6)).await;
        w.twitch.go_offline("fading").expect("offline");
        let down = outage.elapsed().as_millis() as u64;
        let ready = wait_ready(&client, &rec_id).await;

        let (_, gaps, _) = landed(&ready);
        assert_eq!(gaps.len(), 1, "{ready:?}");
        let gap = &gaps[0];
        assert!(gap.reason.contains("503"), "{gap:?}");
        assert!(
            gap.reason.contains("ended before recording went on"),
            "{gap:?}"
        );
        // From the last segment (about when the first refusal was seen) to when the end was
        // noticed.
        assert!(
            (down.saturating_sub(2_000)..=down + 15_000).contains(&gap.ms),
            "{gap:?} for {down} ms down"
        );
        server.terminate();
    }
}

/// Every MP4 under `dir` (hidden parts folders left out).
fn mp4s_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if path.is_dir() && !hidden {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "mp4") {
                found.push(path.canonicalize().unwrap_or(path));
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finalize_resumes_after_sigkill_at_every_step() {
    for backend in backends("library_crash").await {
        let w = world().await;
        w.twitch.add_user("streamer_crash", "Streamer Crash");
        let data = tempfile::tempdir().expect("data");
        let db = backend.database_url.as_deref();
        let pause = |point: &str| env(&w, &[("TAPEARR_TEST_FINALIZE_PAUSE", point.to_string())]);
        let server = start(data.path(), db, pause("remux"));
        let (mut client, key) = Client::admin(&server).await;
        let ended = record_three_categories(&w, &mut client, "streamer_crash").await;
        let rec_id = ended.id;
        let parts_dir = PathBuf::from(&ended.dir);
        let mut server = server;
        for (paused_at, next) in [
            ("remux", "remux-commit"),
            ("remux-commit", "validate"),
            ("validate", "extras"),
            ("extras", "cleanup"),
            ("cleanup", ""),
        ] {
            let marker = format!("finalize paused before [{paused_at}]");
            eventually(
                FINALIZE_WAIT,
                &format!("finalize to pause at {paused_at}"),
                || {
                    let text = server.output_text();
                    let found = text.contains(&marker);
                    async move { found.then_some(()) }
                },
            )
            .await;
            assert!(
                parts_dir.is_dir(),
                "{}: parts deleted before cleanup ({paused_at})",
                backend.name
            );
            let step = detail(&client, &rec_id)
                .await
                .recording
                .library
                .finalize_step;
            server.kill9();
            let env = if next.is_empty() {
                env(&w, &[])
            } else {
                pause(next)
            };
            server = start(data.path(), db, env);
            client = Client::with_key(&server, &key);
            assert_ne!(step, Some(FinalizeStep::Done), "{paused_at}");
        }
        let rec = wait_ready(&client, &rec_id).await;
        let events = stream_events_of(&client, &rec_id).await;
        let video = assert_finalized(&w, &rec.recording, &events, "streamer_crash");
        assert_eq!(
            rec.recording.library.episode,
            Some(1),
            "a crash does not renumber: {rec:?}"
        );

        // A channel's naming template is checked like the global one.
        let channel = format!("/api/v1/channels/{}", rec.recording.channel_id);
        let bad = client
            .send(
                reqwest::Method::PATCH,
                &channel,
                Some(json!({"naming_template": "{chanel}/{nn}.mp4"})),
            )
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
        assert!(bad.error().message.contains("{chanel}"), "{}", bad.body);
        // Removing the channel with its recordings takes the library files too.
        let removed = client.delete(&format!("{channel}?recordings=delete")).await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
        assert!(!video.exists(), "the MP4 goes with the channel");
        assert!(!video.parent().expect("season").exists());
        server.terminate();
    }
}

/// B3: a one-hour TS recording (720p, ~2.5 Mbit/s, in two parts) → a playable MP4 in the
/// library. The parts are placed as a crash would leave them; the start-up orphan scan queues
/// finalize, and the figure is from that job's creation (what the end of a stream triggers) to
/// the recording's `finalized_at`. `B3_MINUTES` shortens it for a quick look.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with `make bench-finalize`"]
async fn bench_finalize_one_hour_recording() {
    let minutes: u64 = std::env::var("B3_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(60);
    let w = world().await;
    w.twitch.add_user("bench_b3", "Bench B3");
    let data = tempfile::tempdir().expect("data");
    let server = start(data.path(), None, env(&w, &[]));
    let (mut client, key) = Client::admin(&server).await;
    add(&mut client, "bench_b3").await;
    server.terminate();

    let parts = w.library.path().join("bench_b3/.parts/bench-recording");
    std::fs::create_dir_all(&parts).expect("parts dir");
    let made = std::time::Instant::now();
    let clip = parts.join("clip.tmp.ts");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            "10",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "2500k",
            "-g",
            "60",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-f",
            "mpegts",
        ],
        &clip,
    );
    let half = (minutes * 60 / 2 / 10).max(1);
    for part in ["bench_b3.part0001.ts", "bench_b3.part0002.ts"] {
        ffmpeg(
            &[
                "-stream_loop",
                &(half - 1).to_string(),
                "-i",
                &clip.to_string_lossy(),
                "-c",
                "copy",
                "-f",
                "mpegts",
            ],
            &parts.join(part),
        );
    }
    std::fs::remove_file(&clip).expect("clip");
    let bytes: u64 = std::fs::read_dir(&parts)
        .expect("parts")
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "B3: made {minutes} min of parts ({:.2} GiB) in {:.1?}",
        bytes as f64 / 1_073_741_824.0,
        made.elapsed()
    );

    let server = start(data.path(), None, env(&w, &[]));
    let client = Client::with_key(&server, &key);
    let rec = wait_ready_within(&client, "bench-recording", Duration::from_secs(1800)).await;
    let mut c = client.clone();
    let jobs: Paged<JobRecord> = c.get_json("/api/v1/jobs?kind=recording.finalize").await;
    let queued = jobs.items[0].created_at.0;
    let rec = &rec.recording.library;
    let finalized = rec.finalized_at.expect("finalized_at").0;
    let video = PathBuf::from(rec.video_path.as_deref().expect("video_path"));
    let probe = ffprobe(&video);
    println!(
        "B3: {} min recording ({:.2} GiB) → playable MP4 (ffprobe {:.0} s, {} chapters) in {:.2} s after finalize was queued",
        minutes,
        bytes as f64 / 1_073_741_824.0,
        seconds(&probe["format"]["duration"]),
        probe["chapters"].as_array().map_or(0, Vec::len),
        (finalized - queued) as f64 / 1000.0
    );
    assert!(!parts.exists(), "the parts are cleaned up");
    server.terminate();
}

/// Waits until finalize made the recording `ready`; a finalize error fails at once.
async fn wait_ready_within(client: &Client, id: &str, timeout: Duration) -> RecordingDetail {
    eventually(timeout, "finalize to finish", || async {
        let r = detail(client, id).await;
        assert!(r.recording.library.finalize_error.is_none(), "{r:?}");
        (r.recording.status == RecordingStatus::Ready).then_some(r)
    })
    .await
}

fn ffmpeg(args: &[&str], output: &Path) {
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .arg(output)
        .status()
        .expect("ffmpeg runs");
    assert!(
        status.success(),
        "ffmpeg failed making {}",
        output.display()
    );
}
