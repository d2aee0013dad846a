//! Twitch playback as it behaves today (#16): playback tokens that expire mid-broadcast, the
//! user's own account that makes a recording ad-free, and the proxy list for playlists. The real binary against the fake
//! Twitch, on SQLite and on PostgreSQL.

mod common;

use common::twitch_world::{World, add, detail, start, wait_active, wait_detail, world};
use common::{Client, backends, eventually};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use tapearr_api::routes::channels::ChannelView;
use tapearr_api::routes::recordings::RecordingDetail;
use tapearr_core::streams::model::RecordingStatus;
use tapearr_testkit::forward_proxy::ForwardProxy;
use tapearr_testkit::hls_origin::{ChannelSpec, Container, MediaParams};

const WAIT: Duration = Duration::from_secs(40);

/// Finalize is held before its first step, so a closed recording keeps its parts.
fn env(w: &World) -> Vec<(&'static str, String)> {
    let mut env = common::twitch_world::env(w, &[]);
    env.push(("TAPEARR_TEST_FINALIZE_PAUSE", "remux".to_string()));
    env
}

/// Program date-times (ms) of every segment written, in order, from the parts' indexes.
fn segment_times(dir: &str) -> Vec<(i64, i64)> {
    let mut segments = Vec::new();
    for part in common::twitch_world::parts_in(dir) {
        let index = std::fs::read_to_string(format!("{}.idx", part.display())).expect("index");
        for line in index.lines() {
            let f: Vec<i64> = line.split(' ').filter_map(|v| v.parse().ok()).collect();
            assert_eq!(f.len(), 4, "{line}");
            segments.push((f[3], f[2]));
        }
    }
    segments
}

/// Every segment follows the one before it on the broadcast's clock (1 s segments): nothing
/// missing, nothing twice.
#[track_caller]
fn assert_continuous(dir: &str) {
    let segments = segment_times(dir);
    for pair in segments.windows(2) {
        let ((start, len), (next, _)) = (pair[0], pair[1]);
        assert!(
            (next - (start + len)).abs() <= 500,
            "not continuous: {pair:?} in {segments:?}"
        );
    }
}

async fn ended(client: &Client, id: &str) -> RecordingDetail {
    wait_detail(client, id, "the recording to end", |r| {
        r.recording.status != RecordingStatus::Recording
    })
    .await
}

/// Playback tokens live 3 s (Twitch's live 20 min to 24 h): over a broadcast of several
/// segments the recorder renews the token several times, ahead of expiry, and the recording
/// stays one session, one part, every segment, no gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_outliving_its_playback_tokens_is_recorded_without_a_gap() {
    for backend in backends("playback_renewal").await {
        let w = world().await;
        w.twitch.set_playback_token_ttl(Duration::from_secs(3));
        w.twitch.add_user("marathon", "Marathon");
        let data = tempfile::tempdir().expect("data");
        let server = start(data.path(), backend.database_url.as_deref(), env(&w));
        let (mut client, _) = Client::admin(&server).await;
        let id = add(&mut client, "marathon").await.channel.id;
        w.twitch
            .go_live("marathon", "24 h stream", "Just Chatting")
            .await
            .expect("live");
        let rec = wait_active(&client, &id).await;

        // Three tokens past the first, and the last one's segments written.
        eventually(WAIT, "three renewals", || async {
            (w.twitch.playback_stats().tokens_issued >= 4).then_some(())
        })
        .await;
        wait_detail(&client, &rec.id, "segments after the renewals", |r| {
            r.recording.media_ms >= 6_000
        })
        .await;
        w.twitch.go_offline("marathon").expect("offline");
        let done = ended(&client, &rec.id).await;

        let name = backend.name;
        assert_eq!(
            done.recording.end_reason.as_deref(),
            Some("stream ended"),
            "{name}"
        );
        assert_eq!(done.recording.sessions, 1, "{name}: {:?}", done.recording);
        assert_eq!(done.recording.missed_segments, 0, "{name}");
        assert!(done.gaps.is_empty(), "{name}: {:?}", done.gaps);
        assert_eq!(
            common::twitch_world::parts_in(&done.recording.dir).len(),
            1,
            "{name}"
        );
        assert!(segment_times(&done.recording.dir).len() >= 6, "{name}");
        assert_continuous(&done.recording.dir);
        server.terminate();
    }
}

/// With the user's web-player token stored and Turbo on the account, the token goes to GQL
/// (only), Twitch stitches no ads and the recording is continuous through the ad slot; without
/// an account the same broadcast's ad is cut and left as a gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_accounts_token_records_without_ads_and_without_it_ads_are_cut() {
    for backend in backends("playback_ad_free").await {
        let name = backend.name;
        let w = world().await;
        // Recording starts at index 2; an ad replaces indices 4 and 5.
        w.twitch
            .set_channel_spec(ChannelSpec::new(MediaParams::test(Container::Ts)).ad(4, 2));
        w.twitch.add_user("ads_channel", "Ads Channel");
        w.twitch.add_user("viewer", "Viewer");
        w.twitch.grant_ad_free("viewer").expect("turbo");
        let data = tempfile::tempdir().expect("data");
        let server = start(data.path(), backend.database_url.as_deref(), env(&w));
        let (mut client, _) = Client::admin(&server).await;
        let id = add(&mut client, "ads_channel").await.channel.id;

        // No account: the ad is cut.
        let plain = record_past_the_ad(&w, &client, &id).await;
        assert!(
            plain.gaps.iter().any(|g| g.reason.contains("ad break")),
            "{name}: {:?}",
            plain.gaps
        );

        // The viewer's own token: no ads at all.
        let token = w.twitch.issue_web_token("viewer").expect("token");
        let r = client
            .send(
                reqwest::Method::PUT,
                "/api/v1/twitch/account",
                Some(json!({"token": token})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {:?}", r.body);
        let ad_free = record_past_the_ad(&w, &client, &id).await;
        assert!(ad_free.gaps.is_empty(), "{name}: {:?}", ad_free.gaps);
        assert_eq!(ad_free.recording.missed_segments, 0, "{name}");
        assert_continuous(&ad_free.recording.dir);
        // From index 2 on, through the ad slot (4, 5) without a hole.
        let times = segment_times(&ad_free.recording.dir);
        assert!(times.len() >= 4, "{name}: {times:?}");
        // The token went to GQL, never with a playlist request.
        assert_eq!(w.twitch.playback_stats().authorized_playlist_requests, 0);
        server.terminate();
    }
}

/// One broadcast recorded until four segments are written (past the ad at indices 4 and 5
/// when ads are cut), then ended.
async fn record_past_the_ad(w: &World, client: &Client, channel_id: &str) -> RecordingDetail {
    w.twitch
        .go_live("ads_channel", "with ads", "Just Chatting")
        .await
        .expect("live");
    let rec = wait_active(client, channel_id).await;
    wait_detail(client, &rec.id, "the content after the ad", |r| {
        r.recording.media_ms >= 4_000
    })
    .await;
    w.twitch.go_offline("ads_channel").expect("offline");
    ended(client, &rec.id).await
}

/// `twitch.playlist_proxies` with one channel opted in through its own setting (the API's
/// `use_playlist_proxy`): its usher and media playlist requests go through the proxy (segments
/// direct), the other channel's never do; the proxy dies and the recording goes on directly
/// without a gap. A bad value is refused and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opted_in_channel_fetches_playlists_through_the_proxy_and_survives_its_failure() {
    for backend in backends("playlist_proxy").await {
        let name = backend.name;
        let w = world().await;
        let proxy = ForwardProxy::start().await.expect("proxy");
        w.twitch.add_user("proxied", "Proxied");
        w.twitch.add_user("direct", "Direct");
        let data = tempfile::tempdir().expect("data");
        let mut env = env(&w);
        env.push(("TAPEARR_TWITCH__PLAYLIST_PROXIES", proxy.url()));
        let server = start(data.path(), backend.database_url.as_deref(), env);
        let (mut client, _) = Client::admin(&server).await;
        let proxied = add(&mut client, "proxied").await.channel.id;
        let direct = add(&mut client, "direct").await.channel.id;
        let path = format!("/api/v1/channels/{proxied}");
        let r = client
            .send_typed(
                reqwest::Method::PATCH,
                &path,
                &json!({"use_playlist_proxy": "yes"}),
            )
            .await;
        assert!(r.status.is_client_error(), "{name}: {:?}", r.body);
        assert!(r.body["code"].is_string() && r.body["message"].is_string());
        let view: ChannelView = client.get_json(&path).await;
        assert!(
            !view.channel.settings.use_playlist_proxy,
            "{name}: unchanged"
        );
        let r = client
            .send_typed(
                reqwest::Method::PATCH,
                &path,
                &json!({"use_playlist_proxy": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {:?}", r.body);
        let view: ChannelView = client.get_json(&path).await;
        assert!(view.channel.settings.use_playlist_proxy, "{name}");
        let other: ChannelView = client.get_json(&format!("/api/v1/channels/{direct}")).await;
        assert!(!other.channel.settings.use_playlist_proxy, "{name}");
        for login in ["proxied", "direct"] {
            w.twitch.go_live(login, "t", "g").await.expect("live");
        }
        let rec = wait_active(&client, &proxied).await;
        let other = wait_active(&client, &direct).await;
        wait_detail(&client, &rec.id, "segments through the proxy", |r| {
            r.recording.media_ms >= 3_000
        })
        .await;
        wait_detail(&client, &other.id, "segments direct", |r| {
            r.recording.media_ms >= 3_000
        })
        .await;
        // Besides the health checks (usher's root).
        let forwarded: Vec<String> = proxy
            .forwarded()
            .into_iter()
            .filter(|u| reqwest::Url::parse(u).is_ok_and(|u| u.path() != "/"))
            .collect();
        assert!(
            forwarded
                .iter()
                .any(|u| u.contains("/api/v2/channel/hls/proxied.m3u8"))
                && forwarded.iter().any(|u| u.contains("/weaver/proxied/")),
            "{name}: {forwarded:?}"
        );
        assert!(
            forwarded
                .iter()
                .all(|u| u.contains("proxied") && u.ends_with(".m3u8")),
            "{name}: only the opted-in channel's playlists: {forwarded:?}"
        );

        proxy.set_failing(true);
        let before = detail(&client, &rec.id).await.recording.media_ms;
        wait_detail(&client, &rec.id, "segments after the proxy died", |r| {
            r.recording.media_ms >= before + 3_000
        })
        .await;
        for login in ["proxied", "direct"] {
            w.twitch.go_offline(login).expect("offline");
        }
        let done = ended(&client, &rec.id).await;
        assert_eq!(done.recording.sessions, 1, "{name}");
        assert!(done.gaps.is_empty(), "{name}: {:?}", done.gaps);
        assert_continuous(&done.recording.dir);
        ended(&client, &other.id).await;
        server.terminate();
    }
}
