//! The world of the streams stories: the fake Twitch with its HLS origin, a library root, and
//! the real binary configured against them.

use super::{Client, Server, ServerOptions, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tapearr_api::routes::channels::ChannelView;
use tapearr_api::routes::recordings::RecordingDetail;
use tapearr_core::streams::model::Recording;
use tapearr_testkit::hls_origin::HlsOrigin;
use tapearr_testkit::twitch::FakeTwitch;

pub const WAIT: Duration = Duration::from_secs(30);

pub struct World {
    pub twitch: FakeTwitch,
    pub library: tempfile::TempDir,
}

pub async fn world() -> World {
    super::install_crypto();
    let origin = Arc::new(HlsOrigin::start().await.expect("origin"));
    World {
        twitch: FakeTwitch::start(origin).await.expect("fake twitch"),
        library: tempfile::tempdir().expect("library"),
    }
}

pub fn env(w: &World, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut env = vec![
        (
            "TAPEARR_TWITCH__CLIENT_ID",
            w.twitch.client_id().to_string(),
        ),
        (
            "TAPEARR_TWITCH__CLIENT_SECRET",
            w.twitch.client_secret().to_string(),
        ),
        ("TAPEARR_TWITCH__HELIX_URL", w.twitch.helix_url()),
        ("TAPEARR_TWITCH__ID_URL", w.twitch.id_url()),
        ("TAPEARR_TWITCH__GQL_URL", w.twitch.gql_url()),
        ("TAPEARR_TWITCH__USHER_URL", w.twitch.usher_url()),
        ("TAPEARR_TWITCH__CHAT_URL", w.twitch.chat_url()),
        ("TAPEARR_TWITCH__POLL_SECS", "1".to_string()),
        (
            "TAPEARR_LIBRARY_ROOTS",
            w.library.path().display().to_string(),
        ),
        ("TAPEARR_DISK__LOW_FREE_GB", "0".to_string()),
    ];
    env.extend(extra.iter().cloned());
    env
}

pub fn start(
    data_dir: &Path,
    database_url: Option<&str>,
    env: Vec<(&'static str, String)>,
) -> Server {
    Server::start(ServerOptions {
        data_dir,
        database_url,
        env,
    })
}

pub async fn add_channel(client: &mut Client, login: &str) -> Value {
    let r = client
        .post("/api/v1/channels", json!({"channel": login}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

/// The channel's active recording, once there is one.
pub async fn wait_recording(client: &mut Client, channel_id: &str) -> Value {
    let path = format!("/api/v1/channels/{channel_id}");
    eventually(WAIT, "a recording", || {
        let path = path.clone();
        let mut c = client.clone();
        async move {
            let r = c.get(&path).await;
            (!r.body["recording"].is_null()).then(|| r.body["recording"].clone())
        }
    })
    .await
}

pub async fn recording(client: &Client, id: &str) -> Value {
    let mut c = client.clone();
    c.get(&format!("/api/v1/recordings/{id}")).await.body
}

/// Waits until the recording satisfies `pred`.
pub async fn wait_recording_state(
    client: &Client,
    id: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    eventually(WAIT, what, || {
        let c = client.clone();
        let id = id.to_string();
        let pred = &pred;
        async move {
            let r = recording(&c, &id).await;
            pred(&r).then_some(r)
        }
    })
    .await
}

/// The `id` of an API object.
pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

// Typed forms of the helpers above. The `Value` ones remain for the stories not yet converted.

/// Adds the channel (201) and returns its view.
pub async fn add(client: &mut Client, login: &str) -> ChannelView {
    let r = client
        .send_typed(
            reqwest::Method::POST,
            "/api/v1/channels",
            &json!({"channel": login}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.json()
}

/// The channel as the API shows it.
pub async fn channel(client: &Client, id: &str) -> ChannelView {
    client
        .clone()
        .get_json(&format!("/api/v1/channels/{id}"))
        .await
}

/// The channel's active recording, once there is one.
pub async fn wait_active(client: &Client, channel_id: &str) -> Recording {
    eventually(WAIT, "a recording", || async {
        channel(client, channel_id).await.recording
    })
    .await
}

/// The recording with its gaps, chapters and events.
pub async fn detail(client: &Client, id: &str) -> RecordingDetail {
    client
        .clone()
        .get_json(&format!("/api/v1/recordings/{id}"))
        .await
}

/// Waits until the recording satisfies `pred`.
pub async fn wait_detail(
    client: &Client,
    id: &str,
    what: &str,
    pred: impl Fn(&RecordingDetail) -> bool,
) -> RecordingDetail {
    eventually(WAIT, what, || async {
        let r = detail(client, id).await;
        pred(&r).then_some(r)
    })
    .await
}

/// A recording folder's part files (not their indexes), in order.
pub fn parts_in(dir: &str) -> Vec<std::path::PathBuf> {
    let mut parts: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    parts.retain(|p| {
        // The file's own name: the folder (`.parts/…`) matches `.part` too, and it also holds
        // the chat capture.
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        name.contains(".part") && !name.ends_with(".idx")
    });
    parts.sort();
    parts
}
