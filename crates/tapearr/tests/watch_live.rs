//! Watch live (S9), end to end: the real binary records a channel of the fake Twitch, a viewer
//! gets a token and plays the recording's own segments (no second download from the origin),
//! live and from the start, until the playlist ends with the broadcast. On SQLite and on
//! PostgreSQL (`TAPEARR_TEST_PG_URL`).

mod common;

use common::twitch_world::{WAIT, add, detail, env, start, world};
use common::{Client, backends, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tapearr_api::error::{Code, ErrorBody};
use tapearr_api::routes::recordings::RecordingDetail;
use tapearr_api::routes::watch::WatchView;
use tapearr_core::streams::model::RecordingStatus;
use tapearr_testkit::hls_origin::{ChannelSpec, Container, MediaParams, VideoCodec};

const LOGIN: &str = "watched";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

struct Fetched {
    status: StatusCode,
    content_type: String,
    cache_control: String,
    body: Vec<u8>,
}

async fn fetch(url: &str) -> Fetched {
    let resp = reqwest::get(url).await.expect("request");
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let cache_control = header(reqwest::header::CACHE_CONTROL);
    let status = resp.status();
    let body = resp.bytes().await.expect("body").to_vec();
    Fetched {
        status,
        content_type,
        cache_control,
        body,
    }
}

async fn playlist(url: &str) -> String {
    let r = fetch(url).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/vnd.apple.mpegurl");
    assert_eq!(r.cache_control, "no-cache");
    String::from_utf8(r.body).expect("utf-8 playlist")
}

/// The files a playlist names, in order, init sections where they first apply.
fn files(playlist: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in playlist.lines() {
        if let Some(map) = line.strip_prefix("#EXT-X-MAP:URI=\"") {
            out.push(map.trim_end_matches('"').to_string());
        } else if !line.is_empty() && !line.starts_with('#') {
            out.push(line.to_string());
        }
    }
    out
}

fn segment_count(playlist: &str) -> usize {
    playlist
        .lines()
        .filter(|l| l.starts_with("#EXTINF"))
        .count()
}

async fn error_code(url: &str) -> (StatusCode, Option<ErrorBody>) {
    let resp = reqwest::get(url).await.expect("request");
    let status = resp.status();
    (status, resp.json().await.ok())
}

async fn ffprobe(url: &str) -> Value {
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new("ffprobe")
            .args(["-v", "error", "-show_streams", "-of", "json", url])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("ffprobe finished in time")
    .expect("ffprobe runs (install ffmpeg)");
    assert!(
        out.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

/// live → recording → token → a growing EVENT playlist whose bytes are the part file's, no
/// extra origin requests, ffprobe decodes it, bad tokens refused, offline → ENDLIST.
async fn story(backend_name: &str, database_url: Option<&str>, container: Container) {
    let w = world().await;
    w.twitch
        .set_channel_spec(ChannelSpec::new(MediaParams::test(container)));
    w.twitch.add_user(LOGIN, "Watched");
    let data = tempfile::tempdir().expect("data");
    let server = start(data.path(), database_url, env(&w, &[]));
    let (mut client, _) = Client::admin(&server).await;
    let channel_id = add(&mut client, LOGIN).await.channel.id;
    let watch_path = format!("/api/v1/channels/{channel_id}/watch");

    let r = client.post(&watch_path, json!({})).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "{backend_name}: {:?}",
        r.body
    );
    assert_eq!(r.error().code, Code::ChannelOffline);
    let r = client.post("/api/v1/channels/nope/watch", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);

    w.twitch
        .go_live(LOGIN, "Watch me", "Just Chatting")
        .await
        .expect("live");
    let ticket = eventually(WAIT, "a watch ticket", || {
        let mut c = client.clone();
        let path = watch_path.clone();
        async move {
            let r = c.post(&path, json!({})).await;
            (r.status == StatusCode::CREATED).then(|| r.json::<WatchView>())
        }
    })
    .await;
    let token = ticket.token.clone();
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    let playlist_path = format!("/api/v1/watch/{token}/index.m3u8");
    assert_eq!(ticket.playlist_url, playlist_path);
    // H.264 plays in every browser: no relay.
    assert_eq!(ticket.h264_playlist_url, None, "{ticket:?}");
    let expires = ticket.expires_at.0 - now_ms();
    assert!(
        (6 * 3600 * 1000 - 60_000..=6 * 3600 * 1000).contains(&expires),
        "{ticket:?}"
    );
    let rec_id = &ticket.recording_id;
    let rec: RecordingDetail = client
        .get_json(&format!("/api/v1/recordings/{rec_id}"))
        .await;
    assert_eq!(rec.recording.status, RecordingStatus::Recording, "{rec:?}");
    let dir = rec.recording.dir;

    // The playlist is an EVENT playlist that grows.
    let url = server.url(&playlist_path);
    let first = eventually(WAIT, "three segments", || {
        let url = url.clone();
        async move {
            let p = playlist(&url).await;
            (segment_count(&p) >= 3).then_some(p)
        }
    })
    .await;
    assert!(first.starts_with("#EXTM3U\n"), "{first}");
    assert!(first.contains("#EXT-X-PLAYLIST-TYPE:EVENT\n"), "{first}");
    assert!(first.contains("#EXT-X-TARGETDURATION:"), "{first}");
    assert!(first.contains("#EXT-X-MEDIA-SEQUENCE:0\n"), "{first}");
    assert!(!first.contains("#EXT-X-ENDLIST"), "{first}");
    let grown = eventually(WAIT, "the playlist to grow", || {
        let url = url.clone();
        let before = segment_count(&first);
        async move {
            let p = playlist(&url).await;
            (segment_count(&p) > before).then_some(p)
        }
    })
    .await;
    assert!(
        files(&grown).starts_with(&files(&first)),
        "{first}\n{grown}"
    );

    // Every listed file, twice: the bytes come from the part file, not from the origin.
    let origin_segments = || {
        w.twitch
            .origin()
            .stats(LOGIN)
            .map(|s| s.segment_requests + s.init_requests)
            .unwrap_or(0)
    };
    let before = (origin_segments(), segment_count(&grown));
    let base = url.trim_end_matches("index.m3u8").to_string();
    let names = files(&grown);
    let mut served = Vec::new();
    for round in 0..2 {
        for name in &names {
            let r = fetch(&format!("{base}{name}")).await;
            assert_eq!(r.status, StatusCode::OK, "{name}");
            let expected = match (name.ends_with(".mp4"), container) {
                (true, _) => "video/mp4",
                (false, Container::Ts) => "video/mp2t",
                (false, Container::Fmp4) => "video/iso.segment",
            };
            assert_eq!(r.content_type, expected, "{name}");
            assert!(!r.body.is_empty(), "{name}");
            if round == 0 {
                served.extend_from_slice(&r.body);
            }
        }
    }
    let after = (origin_segments(), segment_count(&playlist(&url).await));
    // Only the recorder's own downloads of new segments (plus two in flight) reach the origin.
    assert!(
        after.0 - before.0 <= (after.1 - before.1) as u64 + 2,
        "{backend_name}: the origin served {} segments while {} were recorded and {} viewed",
        after.0 - before.0,
        after.1 - before.1,
        names.len() * 2
    );
    // One part, written from its start: the listed files in order are the part's first bytes,
    // so each one is exactly the bytes at its offset.
    let parts: Vec<_> = std::fs::read_dir(&dir)
        .expect("recording dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            // The file's own name: the folder (`.parts/…`) matches `.part` too, and it also holds
            // the chat capture.
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            name.contains(".part") && !name.ends_with(".idx")
        })
        .collect();
    assert_eq!(parts.len(), 1, "{parts:?}");
    let on_disk = std::fs::read(&parts[0]).expect("part");
    assert!(on_disk.len() >= served.len());
    assert!(
        on_disk[..served.len()] == served[..],
        "{backend_name}: served bytes differ from the part file"
    );

    // A real player reads it over HTTP and decodes H.264.
    let probe = ffprobe(&url).await;
    let streams = probe["streams"].as_array().cloned().unwrap_or_default();
    assert!(
        streams
            .iter()
            .any(|s| s["codec_type"] == "video" && s["codec_name"] == "h264" && s["width"] == 256),
        "{probe}"
    );

    // Made-up tokens and names are refused.
    for path in [
        "/api/v1/watch/made-up-token/index.m3u8".to_string(),
        "/api/v1/watch/made-up-token/0.ts".to_string(),
        format!("/api/v1/watch/{token}/999999.ts"),
        format!("/api/v1/watch/{token}/passwd"),
        format!("/api/v1/watch/{token}/h264.m3u8"),
        format!("/api/v1/watch/{token}/h264-0.ts"),
    ] {
        let (status, body) = error_code(&server.url(&path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            body.as_ref().map(|b| &b.code),
            Some(&Code::NotFound),
            "{path}: {body:?}"
        );
    }

    // Offline: the recording ends and so does the playlist.
    w.twitch.go_offline(LOGIN).expect("offline");
    let ended = eventually(WAIT, "#EXT-X-ENDLIST", || {
        let url = url.clone();
        async move {
            let p = playlist(&url).await;
            p.ends_with("#EXT-X-ENDLIST\n").then_some(p)
        }
    })
    .await;
    assert!(segment_count(&ended) >= segment_count(&grown));
    let r = client.post(&watch_path, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    server.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_watches_a_recording_live_from_its_own_segments() {
    for backend in backends("watch_live").await {
        story(backend.name, backend.database_url.as_deref(), Container::Ts).await;
    }
}

/// fMP4: the playlist announces the part's init section, served from the part's first bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fmp4_recordings_are_watched_with_their_init_section() {
    story("sqlite", None, Container::Fmp4).await;
}

/// The video codec ffprobe finds at `url` (a playlist URL or a file).
async fn video_codec(url: &str) -> String {
    let probe = ffprobe(url).await;
    probe["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["codec_type"] == "video"))
        .and_then(|s| s["codec_name"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Enhanced Broadcasting (#16): the channel sends real HEVC (fMP4) next to H.264 and its
/// codec setting allows HEVC, so the recording is HEVC from the first segment to the ready
/// MP4; the viewer is also given Twitch's H.264 rendition of the same broadcast, relayed by
/// Tapearr (Twitch's signed URLs never reach the viewer), which decodes as H.264.
async fn hevc_story(backend_name: &str, database_url: Option<&str>) {
    const HEVC_LOGIN: &str = "enhanced";
    let w = world().await;
    w.twitch.set_channel_spec(
        ChannelSpec::new(MediaParams::test(Container::Fmp4))
            .enhanced_ladder()
            .real_codecs(),
    );
    w.twitch.add_user(HEVC_LOGIN, "Enhanced");
    let data = tempfile::tempdir().expect("data");
    let server = start(data.path(), database_url, env(&w, &[]));
    let (mut client, _) = Client::admin(&server).await;
    // The default codec setting (h264,h265) allows HEVC, not AV1.
    let channel_id = add(&mut client, HEVC_LOGIN).await.channel.id;
    let watch_path = format!("/api/v1/channels/{channel_id}/watch");
    w.twitch
        .go_live(HEVC_LOGIN, "In HEVC", "Just Chatting")
        .await
        .expect("live");
    let ticket = eventually(WAIT, "a ticket for the HEVC rendition", || {
        let mut c = client.clone();
        let path = watch_path.clone();
        async move {
            let r = c.post(&path, json!({})).await;
            (r.status == StatusCode::CREATED)
                .then(|| r.json::<WatchView>())
                .filter(|t| !t.codecs.is_empty())
        }
    })
    .await;
    assert!(
        ticket.codecs.iter().any(|c| c.starts_with("hvc1")),
        "{backend_name}: {ticket:?}"
    );
    let token = ticket.token.clone();
    let h264_path = format!("/api/v1/watch/{token}/h264.m3u8");
    assert_eq!(
        ticket.h264_playlist_url.as_deref(),
        Some(h264_path.as_str())
    );

    // The recorded rendition, from the part files: HEVC.
    let url = server.url(&ticket.playlist_url);
    eventually(WAIT, "three segments", || {
        let url = url.clone();
        async move { (segment_count(&playlist(&url).await) >= 3).then_some(()) }
    })
    .await;
    assert_eq!(video_codec(&url).await, "hevc", "{backend_name}");

    // The relay: Tapearr's names only, no Twitch URL or token, and it plays as H.264.
    let relay_url = server.url(&h264_path);
    let relayed = playlist(&relay_url).await;
    let names = files(&relayed);
    assert!(
        !names.is_empty() && names.iter().all(|n| n.starts_with("h264-")),
        "{relayed}"
    );
    assert!(
        !relayed.contains("://") && !relayed.contains("token") && !relayed.contains("PREFETCH"),
        "{relayed}"
    );
    let base = relay_url.trim_end_matches("h264.m3u8").to_string();
    for name in &names {
        let r = fetch(&format!("{base}{name}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}");
        assert!(!r.body.is_empty(), "{name}");
    }
    assert_eq!(
        video_codec(&relay_url).await,
        VideoCodec::H264.ffprobe_name(),
        "{backend_name}"
    );
    for path in [
        format!("/api/v1/watch/{token}/h264-999999.m4s"),
        format!("/api/v1/watch/{token}/h264-init-99.mp4"),
        "/api/v1/watch/made-up-token/h264.m3u8".to_string(),
    ] {
        let (status, _) = error_code(&server.url(&path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }

    // The finished recording is an HEVC MP4.
    w.twitch.go_offline(HEVC_LOGIN).expect("offline");
    let ready = eventually(Duration::from_secs(90), "the recording to be ready", || {
        let client = client.clone();
        let id = ticket.recording_id.clone();
        async move {
            let r = detail(&client, &id).await;
            assert!(r.recording.library.finalize_error.is_none(), "{r:?}");
            (r.recording.status == RecordingStatus::Ready).then_some(r)
        }
    })
    .await;
    let video = ready.recording.library.video_path.expect("a video file");
    assert!(video.ends_with(".mp4"), "{video}");
    assert_eq!(
        video_codec(&video).await,
        VideoCodec::Hevc.ffprobe_name(),
        "{backend_name}"
    );
    server.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hevc_channel_is_recorded_in_hevc_and_watched_in_h264() {
    for backend in backends("watch_hevc").await {
        hevc_story(backend.name, backend.database_url.as_deref()).await;
    }
}
