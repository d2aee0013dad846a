//! Twitch channels, live detection and recording (S1, S2, S4), end to end: the real binary,
//! the fake Twitch (Helix, EventSub, GQL, usher) and the local HLS origin, on SQLite and on
//! PostgreSQL.

mod common;

use common::twitch_world::{WAIT, World, add, channel, start, wait_active, wait_detail, world};
use common::{Client, backends, eventually};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use tapearr_api::routes::channels::{ChannelView, StreamView};
use tapearr_api::routes::recordings::RecordingDetail;
use tapearr_core::events::model::EventRecord;
use tapearr_core::storage::Paged;
use tapearr_core::streams::ImportResult;
use tapearr_core::streams::model::{FinalizeStep, Recording, RecordingStatus};
use tapearr_testkit::twitch::RawDelivery;

/// (kind, category) of the events of the channel's newest stream.
async fn stream_events(client: &Client, channel_id: &str) -> Vec<(String, String)> {
    let mut c = client.clone();
    let r = c
        .get(&format!("/api/v1/channels/{channel_id}/streams"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let page: Paged<StreamView> = r.json();
    page.items
        .first()
        .map(|stream| {
            stream
                .events
                .iter()
                .map(|e| (e.kind.as_str().to_string(), e.category.clone()))
                .collect()
        })
        .unwrap_or_default()
}

async fn recordings_of(client: &Client, channel_id: &str) -> Paged<Recording> {
    client
        .clone()
        .get_json(&format!("/api/v1/recordings?channel_id={channel_id}"))
        .await
}

fn recording(r: &Recording) -> bool {
    r.status == RecordingStatus::Recording
}

/// The streams stories look at the parts the recorder wrote: finalize is held before its first
/// step (its own stories are in library.rs), so a closed recording keeps them.
fn env(w: &World, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut env = common::twitch_world::env(w, extra);
    env.push(("TAPEARR_TEST_FINALIZE_PAUSE", "remux".to_string()));
    env
}

/// Closed by the recorder and handed to finalize (held before its first step).
#[track_caller]
fn assert_waits_for_finalize(rec: &Recording) {
    assert!(
        [RecordingStatus::Ended, RecordingStatus::Finalizing].contains(&rec.status)
            && rec.library.finalize_step != Some(FinalizeStep::Validate),
        "{rec:?}"
    );
}

/// A part after the first holds at least one indexed segment (a resumed session wrote).
fn resumed_part_indexed(dir: &str) -> bool {
    let parts = common::twitch_world::parts_in(dir);
    parts.len() >= 2
        && parts.last().is_some_and(|part| {
            std::fs::read_to_string(format!("{}.idx", part.display()))
                .is_ok_and(|index| index.lines().next().is_some())
        })
}

/// The time between consecutive segments of the parts, from their indexes (offset, length,
/// duration ms, program date-time ms): panics on an overlap, which would be media written twice.
fn timeline_holes_ms(dir: &str) -> i64 {
    let mut segments: Vec<(i64, i64)> = Vec::new();
    for part in common::twitch_world::parts_in(dir) {
        let index = std::fs::read_to_string(format!("{}.idx", part.display())).expect("index");
        for line in index.lines() {
            let f: Vec<i64> = line.split(' ').filter_map(|v| v.parse().ok()).collect();
            assert_eq!(f.len(), 4, "{line}");
            segments.push((f[3], f[3] + f[2]));
        }
    }
    let mut holes = 0;
    for pair in segments.windows(2) {
        let ((_, end), (start, _)) = (pair[0], pair[1]);
        assert!(start >= end - 500, "written twice: {pair:?}");
        if start - end > 1_000 {
            holes += start - end;
        }
    }
    holes
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Polling: add → live → recording within one interval → two category changes stored →
/// offline → the recording ends with its parts on disk, ready for finalize.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_polled_channel_is_recorded_from_live_to_offline() {
    for backend in backends("streams_polling").await {
        let w = world().await;
        w.twitch.add_user("streamer_one", "Streamer One");
        let data = tempfile::tempdir().expect("data");
        let server = start(data.path(), backend.database_url.as_deref(), env(&w, &[]));
        let (mut client, _) = Client::admin(&server).await;

        let added = add(&mut client, "https://www.twitch.tv/Streamer_One").await;
        assert_eq!(added.channel.login, "streamer_one", "{}", backend.name);
        assert_eq!(added.channel.display_name, "Streamer One");
        assert!(!added.channel.live);
        assert!(added.recording.is_none());
        let id = added.channel.id;

        let went_live = now_ms();
        w.twitch
            .go_live("streamer_one", "Day one", "Just Chatting")
            .await
            .expect("live");
        let rec = wait_active(&client, &id).await;
        let rec_id = rec.id;
        let started = rec.started_at.0;
        // One poll interval (1 s) plus the time to ask Helix.
        assert!(
            started - went_live <= 2_000,
            "{}: recording started {} ms after going live",
            backend.name,
            started - went_live
        );

        change_category_twice(&w, &client, &id).await;
        let growing = wait_detail(&client, &rec_id, "bytes recorded", |r| {
            r.recording.bytes > 0
        })
        .await;
        assert_eq!(growing.recording.status, RecordingStatus::Recording);

        w.twitch.go_offline("streamer_one").expect("offline");
        let ended = wait_detail(&client, &rec_id, "the recording to end", |r| {
            !recording(&r.recording)
        })
        .await
        .recording;
        assert_waits_for_finalize(&ended);
        assert_eq!(ended.end_reason.as_deref(), Some("stream ended"));
        assert_eq!(ended.sessions, 1);
        assert!(ended.media_ms >= 1_000, "{ended:?}");
        assert_parts_in_library(&w, &ended);
        assert_events_in_order(&client, &id, backend.name).await;
        let after = channel(&client, &id).await;
        assert!(!after.channel.live);
        assert!(after.recording.is_none());
        server.terminate();
    }
}

/// Two title/category changes while live, each stored as a stream event.
async fn change_category_twice(w: &World, client: &Client, id: &str) {
    w.twitch
        .set_channel("streamer_one", "Day one", "Minecraft")
        .expect("update");
    eventually(WAIT, "the first category change", || async {
        let events = stream_events(client, id).await;
        events.iter().any(|(_, c)| c == "Minecraft").then_some(())
    })
    .await;
    w.twitch
        .set_channel("streamer_one", "Day one, later", "Elden Ring")
        .expect("update");
    eventually(WAIT, "the second category change", || async {
        let events = stream_events(client, id).await;
        events.iter().any(|(_, c)| c == "Elden Ring").then_some(())
    })
    .await;
}

/// The ended recording's parts are under the library root and add up to its bytes.
fn assert_parts_in_library(w: &World, ended: &Recording) {
    let parts = common::twitch_world::parts_in(&ended.dir);
    assert!(!parts.is_empty(), "no parts in {}", ended.dir);
    assert!(
        ended.dir.starts_with(
            &w.library
                .path()
                .canonicalize()
                .expect("canon")
                .display()
                .to_string()
        ),
        "{ended:?}"
    );
    let on_disk: u64 = parts
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    assert_eq!(on_disk, ended.bytes, "{ended:?}");
}

/// The stream's events: start, the two changes, end; categories in order.
async fn assert_events_in_order(client: &Client, id: &str, backend: &str) {
    let kinds: Vec<(String, String)> = eventually(WAIT, "the end event", || async {
        let events = stream_events(client, id).await;
        events.iter().any(|(k, _)| k == "end").then_some(events)
    })
    .await;
    let categories: Vec<&str> = kinds
        .iter()
        .filter(|(k, _)| k != "end")
        .map(|(_, c)| c.as_str())
        .collect();
    assert_eq!(
        categories,
        ["Just Chatting", "Minecraft", "Elden Ring"],
        "{backend}: {kinds:?}"
    );
    assert_eq!(kinds[0].0, "start");
}

/// EventSub: subscriptions are created and verified; a notification starts the recording
/// within 2 s; forged, stale and repeated messages change nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventsub_starts_recordings_and_rejects_bad_messages() {
    for backend in backends("streams_eventsub").await {
        let w = world().await;
        w.twitch.add_user("evented", "Evented");
        let data = tempfile::tempdir().expect("data");
        // Reserve a port so the public URL is known before start.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let server = start(
            data.path(),
            backend.database_url.as_deref(),
            env(
                &w,
                &[
                    ("TAPEARR_LISTEN", format!("127.0.0.1:{port}")),
                    ("TAPEARR_PUBLIC_URL", format!("http://127.0.0.1:{port}")),
                    // Polling far apart: EventSub does the work.
                    ("TAPEARR_TWITCH__POLL_SECS", "3600".to_string()),
                ],
            ),
        );
        let (mut client, _) = Client::admin(&server).await;
        let id = add(&mut client, "evented").await.channel.id;

        eventually(WAIT, "three enabled subscriptions", || async {
            let subs = w.twitch.subscriptions();
            (subs.len() == 3 && subs.iter().all(|(_, _, status)| status == "enabled")).then_some(())
        })
        .await;
        let mut kinds: Vec<String> = w.twitch.subscriptions().into_iter().map(|s| s.1).collect();
        kinds.sort();
        assert_eq!(kinds, ["channel.update", "stream.offline", "stream.online"]);

        let before = w.twitch.deliveries().len();
        let went_live = now_ms();
        w.twitch
            .go_live("evented", "Launch", "Science")
            .await
            .expect("live");
        let delivered = w
            .twitch
            .wait_for_deliveries(before + 1, WAIT)
            .await
            .expect("stream.online delivered");
        assert_eq!(
            delivered.last().map(|d| d.status),
            Some(Some(204)),
            "{}",
            backend.name
        );
        let rec = wait_active(&client, &id).await;
        let started = rec.started_at.0;
        assert!(
            started - went_live <= 2_000,
            "{}: recording started {} ms after stream.online",
            backend.name,
            started - went_live
        );

        // The same message again (Twitch redelivers): 204 and nothing new.
        assert_eq!(w.twitch.resend_last().await.expect("resend"), 204);
        // Signed with another secret, or 11 minutes old: refused.
        assert_eq!(w.twitch.send_forged().await.expect("forged"), 403);
        assert_eq!(w.twitch.send_stale().await.expect("stale"), 403);
        // Unsigned garbage.
        let unsigned = w
            .twitch
            .send_raw(RawDelivery {
                callback: server.url("/api/v1/twitch/eventsub"),
                headers: vec![("Twitch-Eventsub-Message-Type".into(), "notification".into())],
                body: b"{}".to_vec(),
            })
            .await
            .expect("post");
        assert_eq!(unsigned, 403);
        let streams: Paged<StreamView> = client
            .get_json(&format!("/api/v1/channels/{id}/streams"))
            .await;
        assert_eq!(streams.total, 1, "{}: {streams:?}", backend.name);
        let recs = recordings_of(&client, &id).await;
        assert_eq!(recs.total, 1, "{recs:?}");
        assert_eq!(recs.items[0].sessions, 1, "{recs:?}");

        w.twitch
            .set_channel("evented", "Launch, part 2", "Art")
            .expect("update");
        eventually(WAIT, "channel.update stored", || async {
            let events = stream_events(&client, &id).await;
            events.iter().any(|(_, c)| c == "Art").then_some(())
        })
        .await;
        let rec_id = rec.id;
        w.twitch.go_offline("evented").expect("offline");
        let ended = wait_detail(&client, &rec_id, "the recording to end", |r| {
            !recording(&r.recording)
        })
        .await;
        assert_waits_for_finalize(&ended.recording);

        // Removing the channel removes its subscriptions.
        let r = client
            .delete(&format!("/api/v1/channels/{id}?recordings=keep"))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
        eventually(WAIT, "subscriptions deleted", || async {
            w.twitch.subscriptions().is_empty().then_some(())
        })
        .await;
        // Kept recordings stay listed.
        let recs = client.get(&format!("/api/v1/recordings/{rec_id}")).await;
        assert_eq!(recs.status, StatusCode::OK);
        server.terminate();
    }
}

/// SIGKILL while recording, restart while still live: the same recording resumes in the same
/// folder and the hole is a gap. SIGKILL again, the stream ends meanwhile: the restart closes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_resumes_or_closes_its_recording() {
    let backend = backends("streams_resume").await.pop().expect("a backend");
    let w = world().await;
    w.twitch.add_user("survivor", "Survivor");
    let data = tempfile::tempdir().expect("data");
    let db = backend.database_url.as_deref();
    let server = start(data.path(), db, env(&w, &[]));
    let (mut client, key) = Client::admin(&server).await;
    let id = add(&mut client, "survivor").await.channel.id;
    w.twitch
        .go_live("survivor", "Marathon", "Chess")
        .await
        .expect("live");
    let rec_id = wait_active(&client, &id).await.id;
    let first = wait_detail(&client, &rec_id, "bytes", |r| r.recording.bytes > 0)
        .await
        .recording;
    server.kill9();

    let restarted_at = now_ms();
    let server = start(data.path(), db, env(&w, &[]));
    let client = Client::with_key(&server, &key);
    // Its own part with a segment in it, not only more bytes: recovering the first session's
    // part after the kill can count more bytes than `first` saw. Then one more progress write,
    // so the hole before the resumed part's first segment is stored.
    let started = wait_detail(&client, &rec_id, "the resumed session to write", |r| {
        r.recording.sessions == 2 && resumed_part_indexed(&r.recording.dir)
    })
    .await;
    let resumed = wait_detail(&client, &rec_id, "the resumed session's progress", |r| {
        r.recording.bytes > started.recording.bytes.max(first.bytes)
    })
    .await;
    assert_eq!(resumed.recording.status, RecordingStatus::Recording);
    assert_eq!(resumed.recording.dir, first.dir, "same folder");
    assert!(
        resumed.recording.updated_at.0 - restarted_at <= 10_000,
        "{resumed:?}"
    );
    assert_resumed_without_overlap(&resumed);
    server.kill9();

    // Offline while Tapearr is down: the restart closes the recording cleanly.
    w.twitch.go_offline("survivor").expect("offline");
    let server = start(data.path(), db, env(&w, &[]));
    let client = Client::with_key(&server, &key);
    let closed = wait_detail(&client, &rec_id, "the recording to be closed", |r| {
        !recording(&r.recording)
    })
    .await
    .recording;
    assert_waits_for_finalize(&closed);
    assert_eq!(
        closed.end_reason.as_deref(),
        Some("stream ended while Tapearr was not running")
    );
    assert_eq!(closed.sessions, 2);
    server.terminate();
}

/// The resumed session continues after what the parts hold: what the playlist window still
/// listed is filled in, nothing is written twice, and only what left the window is a gap.
fn assert_resumed_without_overlap(resumed: &RecordingDetail) {
    let dir = &resumed.recording.dir;
    let holes = timeline_holes_ms(dir);
    let gaps = &resumed.gaps;
    assert!(gaps.len() <= 1, "{resumed:?}");
    let stored: i64 = gaps.iter().map(|g| g.ms as i64).sum();
    assert!(
        gaps.iter().all(|g| g.reason == "Tapearr restarted"),
        "{resumed:?}"
    );
    assert!(
        (holes - stored).abs() <= 1_000,
        "holes in the parts {holes} ms, gaps {stored} ms"
    );
    let parts = common::twitch_world::parts_in(dir);
    assert!(
        parts.len() >= 2,
        "the resumed session writes a new part: {parts:?}"
    );
}

/// A Helix outage is "unknown", not "offline": the recording goes on. Below the free-space
/// floor no recording starts and an event says why. Bad input is refused and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_low_space_and_bad_input_change_nothing() {
    let backend = backends("streams_guards").await.pop().expect("a backend");
    let w = world().await;
    w.twitch.add_user("steady", "Steady");
    w.twitch.add_user("cramped", "Cramped");
    let data = tempfile::tempdir().expect("data");
    let server = start(data.path(), backend.database_url.as_deref(), env(&w, &[]));
    let (mut client, key) = Client::admin(&server).await;

    bad_input_is_refused(&mut client).await;
    let id = add(&mut client, "steady").await.channel.id;
    a_second_add_and_an_unqualified_remove_are_refused(&mut client, &id).await;

    w.twitch
        .go_live("steady", "Long one", "Chess")
        .await
        .expect("live");
    let rec_id = wait_active(&client, &id).await.id;
    a_helix_outage_keeps_it_recording(&w, &client, &id, &rec_id).await;
    a_manual_stop_holds_until_a_manual_start(&w, &mut client, &id, &rec_id).await;
    server.terminate();

    // Restart with a floor no disk meets.
    let server = start(
        data.path(),
        backend.database_url.as_deref(),
        env(&w, &[("TAPEARR_DISK__LOW_FREE_GB", "1000000".to_string())]),
    );
    let mut client = Client::with_key(&server, &key);
    below_the_floor_nothing_records(&w, &mut client).await;
    server.terminate();
}

/// Bad channel names, unknown channels and bad settings: an error body, and no channel.
async fn bad_input_is_refused(client: &mut Client) {
    for (body, status) in [
        (
            json!({"channel": "no such channel"}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"channel": "../../etc"}), StatusCode::BAD_REQUEST),
        (json!({"channel": "ghost"}), StatusCode::NOT_FOUND),
        (
            json!({"channel": "steady", "quality": "potato"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"channel": "steady", "codecs": "vp9"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = client.post("/api/v1/channels", body.clone()).await;
        assert_eq!(r.status, status, "{body}: {:?}", r.body);
        r.error();
    }
    let channels: Vec<ChannelView> = client.get_json("/api/v1/channels").await;
    assert!(channels.is_empty(), "{channels:?}");
}

async fn a_second_add_and_an_unqualified_remove_are_refused(client: &mut Client, id: &str) {
    let r = client
        .post("/api/v1/channels", json!({"channel": "steady"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    let r = client.delete(&format!("/api/v1/channels/{id}")).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "remove must say keep or delete"
    );
}

/// Helix failing is "unknown": the channel stays live with its recording.
async fn a_helix_outage_keeps_it_recording(w: &World, client: &Client, id: &str, rec_id: &str) {
    w.twitch.set_helix_failing(true);
    let polls = w.twitch.rate_stats().total_requests;
    eventually(WAIT, "three failed polls", || async {
        (w.twitch.rate_stats().total_requests >= polls + 3).then_some(())
    })
    .await;
    let during = channel(client, id).await;
    assert!(during.channel.live, "{during:?}");
    assert_eq!(
        during.recording.as_ref().map(|r| r.id.as_str()),
        Some(rec_id),
        "{during:?}"
    );
    w.twitch.set_helix_failing(false);
}

/// Manual stop: the broadcast is not started again by the next polls; a manual start records
/// it again.
async fn a_manual_stop_holds_until_a_manual_start(
    w: &World,
    client: &mut Client,
    id: &str,
    rec_id: &str,
) {
    let r = client
        .post(&format!("/api/v1/recordings/{rec_id}/stop"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let stopped: Recording = r.json();
    assert_waits_for_finalize(&stopped);
    assert_eq!(stopped.end_reason.as_deref(), Some("stopped by user"));
    let polls = w.twitch.rate_stats().total_requests;
    eventually(WAIT, "two more polls", || async {
        (w.twitch.rate_stats().total_requests >= polls + 2).then_some(())
    })
    .await;
    assert!(channel(client, id).await.recording.is_none());
    let r = client
        .post(&format!("/api/v1/channels/{id}/record"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_ne!(r.json::<Recording>().id, rec_id);
}

/// Below the free-space floor a live channel is not recorded and an event says why.
async fn below_the_floor_nothing_records(w: &World, client: &mut Client) {
    let cramped = add(client, "cramped").await.channel.id;
    w.twitch
        .go_live("cramped", "No room", "Chess")
        .await
        .expect("live");
    let refused = eventually(WAIT, "a recording.refused event", || {
        let mut c = client.clone();
        async move {
            let r = c.get("/api/v1/events?type=recording.refused").await;
            serde_json::from_value::<Vec<EventRecord>>(r.body)
                .ok()?
                .into_iter()
                .next()
        }
    })
    .await;
    // `data` is the event's own payload, free-form JSON.
    assert!(
        refused.data["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("disk.low_free_gb"),
        "{refused:?}"
    );
    let after = channel(client, &cramped).await;
    assert!(after.channel.live);
    assert!(after.recording.is_none(), "{after:?}");
}

/// The origin stops publishing for longer than `twitch.stall_secs` while Helix still lists the
/// stream: the recorder is restarted into the same recording, the hole is a gap, and recording
/// goes on when segments come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_recorder_is_restarted_while_live() {
    use tapearr_testkit::hls_origin::{ChannelSpec, Container, Fault, MediaParams};
    let backend = backends("streams_restart").await.remove(0);
    let w = world().await;
    w.twitch.set_channel_spec(
        ChannelSpec::new(MediaParams::test(Container::Ts))
            .window(5)
            .fault(Fault::Stall { at: 9, segments: 6 }),
    );
    w.twitch.add_user("flaky", "Flaky");
    let data = tempfile::tempdir().expect("data");
    let server = start(
        data.path(),
        backend.database_url.as_deref(),
        env(&w, &[("TAPEARR_TWITCH__STALL_SECS", "2".to_string())]),
    );
    let (mut client, _) = Client::admin(&server).await;
    let id = add(&mut client, "flaky").await.channel.id;
    w.twitch
        .go_live("flaky", "Bumpy", "Chess")
        .await
        .expect("live");
    let rec_id = wait_active(&client, &id).await.id;
    // The hole is measured on the broadcast's clock once segments come again.
    let restarted = wait_detail(&client, &rec_id, "a restart and its gap", |r| {
        r.recording.sessions >= 2 && !r.gaps.is_empty()
    })
    .await;
    assert!(
        restarted
            .gaps
            .iter()
            .any(|g| g.reason.starts_with("recorder restarted")),
        "{restarted:?}"
    );
    assert_eq!(
        restarted.recording.status,
        RecordingStatus::Recording,
        "restarted, not closed"
    );
    let bytes = restarted.recording.bytes;
    let after = wait_detail(&client, &rec_id, "segments after the stall", |r| {
        r.recording.bytes > bytes && recording(&r.recording)
    })
    .await;
    assert_eq!(after.recording.dir, restarted.recording.dir);
    w.twitch.go_offline("flaky").expect("offline");
    let ended = wait_detail(&client, &rec_id, "the end", |r| !recording(&r.recording)).await;
    assert_waits_for_finalize(&ended.recording);
    server.terminate();
}

/// B2 (`make bench-detect`, not part of `make test`): 1,000 channels imported from a followed
/// list, 100 of them live, polled every `B2_POLL_SECS` (default 30) for `B2_SECONDS` (default
/// 120) against the fake's enforced 800 points/minute. Passes only if Helix never answered 429
/// and every live channel was seen live within one interval; prints the figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with `make bench-detect`"]
async fn bench_polling_1000_channels_within_rate_limit() {
    let secs = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let poll = secs("B2_POLL_SECS", 30);
    let run_for = Duration::from_secs(secs("B2_SECONDS", 120));
    let w = world().await;
    w.twitch.add_user("viewer", "Viewer");
    for i in 0..1000 {
        let login = format!("ch{i:04}");
        w.twitch.add_user(&login, &login);
        w.twitch.follow("viewer", &login).expect("follow");
    }
    for i in (0..1000).step_by(10) {
        w.twitch
            .go_live(&format!("ch{i:04}"), "Bench", "Chess")
            .await
            .expect("live");
    }
    let token = w.twitch.issue_user_token("viewer").expect("token");
    let data = tempfile::tempdir().expect("data");
    let server = start(
        data.path(),
        None,
        env(&w, &[("TAPEARR_TWITCH__POLL_SECS", poll.to_string())]),
    );
    let (mut client, _) = Client::admin(&server).await;
    let r = client
        .send(
            reqwest::Method::PUT,
            "/api/v1/twitch/account",
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let started = std::time::Instant::now();
    let r = client
        .post(
            "/api/v1/channels/import-followed",
            json!({"auto_record": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.json::<ImportResult>().added.len(), 1000);
    let imported_in = started.elapsed();
    let all_live = eventually(Duration::from_secs(poll + 30), "100 channels live", || {
        let mut c = client.clone();
        async move {
            let r = c.get("/api/v1/channels").await;
            let channels: Vec<ChannelView> = serde_json::from_value(r.body).ok()?;
            let live = channels.iter().filter(|c| c.channel.live).count();
            (live == 100).then_some(())
        }
    });
    all_live.await;
    let detected_in = started.elapsed();
    let before = w.twitch.rate_stats();
    tokio::time::sleep(run_for).await; // the measurement window itself
    let after = w.twitch.rate_stats();
    let polls = run_for.as_secs() / poll;
    println!(
        "B2: 1000 channels (100 live), poll every {poll} s for {} s: import {:.1} s, all live seen after {:.1} s; \
         {} Helix requests in the window ({:.1} per poll), max {} in any minute (limit 800), {} answered 429",
        run_for.as_secs(),
        imported_in.as_secs_f64(),
        detected_in.as_secs_f64(),
        after.total_requests - before.total_requests,
        (after.total_requests - before.total_requests) as f64 / polls.max(1) as f64,
        after.max_in_window,
        after.rate_limited,
    );
    assert_eq!(after.rate_limited, 0, "Helix answered 429");
    assert!(after.max_in_window <= 800);
    server.terminate();
}

/// The playlist ends (`EXT-X-ENDLIST`) while Helix, lagging, still lists the stream: the
/// recording ends and the next polls do not start a second, empty one for the same broadcast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_playlist_is_not_recorded_again_while_helix_lags() {
    use tapearr_testkit::hls_origin::{ChannelSpec, Container, Fault, MediaParams};
    let backend = backends("streams_endlist").await.remove(0);
    let w = world().await;
    w.twitch.set_channel_spec(
        ChannelSpec::new(MediaParams::test(Container::Ts))
            .window(5)
            .fault(Fault::End { at: 9 }),
    );
    w.twitch.add_user("brief", "Brief");
    let data = tempfile::tempdir().expect("data");
    let server = start(data.path(), backend.database_url.as_deref(), env(&w, &[]));
    let (mut client, _) = Client::admin(&server).await;
    let id = add(&mut client, "brief").await.channel.id;
    w.twitch
        .go_live("brief", "Short", "Chess")
        .await
        .expect("live");
    let rec_id = wait_active(&client, &id).await.id;
    let ended = wait_detail(&client, &rec_id, "the end of the playlist", |r| {
        !recording(&r.recording)
    })
    .await
    .recording;
    assert_waits_for_finalize(&ended);
    assert_eq!(ended.end_reason.as_deref(), Some("stream ended"));
    let polls = w.twitch.rate_stats().total_requests;
    eventually(WAIT, "three more polls", || async {
        (w.twitch.rate_stats().total_requests >= polls + 3).then_some(())
    })
    .await;
    let after = channel(&client, &id).await;
    assert!(after.channel.live, "Helix still lists it: {after:?}");
    assert!(after.recording.is_none(), "{after:?}");
    let recs = recordings_of(&client, &id).await;
    assert_eq!(recs.total, 1, "{recs:?}");
    server.terminate();
}
