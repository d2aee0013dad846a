//! Chat beside recordings (S10), end to end: the real binary reads the fake Twitch chat (IRC
//! over WebSocket) while it records, keeps it beside the MP4 as JSON lines and ASS subtitles
//! that ffmpeg reads, serves it a page at a time, survives drops, RECONNECT and a SIGKILL, and
//! deleting the recording takes the chat files with it. On SQLite and on PostgreSQL.

mod common;

use common::twitch_world::{World, add, start, wait_active, wait_detail, world};
use common::{Client, backends, eventually};
use reqwest::StatusCode;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tapearr_api::routes::channels::ChannelView;
use tapearr_core::chat::{ChatEntry, ChatLine};
use tapearr_core::library::ChatPage;
use tapearr_core::streams::model::RecordingStatus;
use tapearr_testkit::twitch::ChatMessage;

const WAIT: Duration = Duration::from_secs(30);
const FINALIZE_WAIT: Duration = Duration::from_secs(90);

fn env(w: &World) -> Vec<(&'static str, String)> {
    common::twitch_world::env(w, &[])
}

/// The messages in the recording's parts folder so far (as captured, moderation as lines).
fn captured(dir: &str) -> Vec<ChatLine> {
    let text = std::fs::read_to_string(Path::new(dir).join("chat.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| match serde_json::from_str::<ChatEntry>(l).ok()? {
            ChatEntry::Message(m) => Some(m),
            ChatEntry::Clear(_) => None,
        })
        .collect()
}

/// Waits until the parts folder's chat holds a message with `text`; returns it.
async fn wait_captured(dir: &str, text: &str) -> ChatLine {
    eventually(WAIT, text, || async {
        captured(dir).into_iter().find(|m| m.text == text)
    })
    .await
}

fn sibling(video: &Path, suffix: &str) -> PathBuf {
    let stem = video.file_stem().expect("stem").to_string_lossy();
    video.with_file_name(format!("{stem}{suffix}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_is_captured_kept_beside_the_mp4_and_served() {
    for backend in backends("chat_capture").await {
        let name = backend.name;
        let w = world().await;
        w.twitch.add_user("chatty", "Chatty");
        w.twitch.set_chat_pong_timeout(Duration::from_secs(2));
        let data = tempfile::tempdir().expect("data");
        let server = start(data.path(), backend.database_url.as_deref(), env(&w));
        let (mut client, _) = Client::admin(&server).await;
        let channel_id = add(&mut client, "chatty").await.channel.id;
        w.twitch
            .go_live("chatty", "Talk", "Just Chatting")
            .await
            .expect("live");
        let rec = wait_active(&client, &channel_id).await;
        assert!(
            w.twitch.wait_chat_joins("chatty", 1, WAIT).await,
            "{name}: the recorder joins #chatty"
        );

        let long = "x".repeat(5_000);
        let script = [
            ChatMessage::new("Foo", "hello"),
            ChatMessage::new("Bär", "héllo 🌍 日本語 ; with\\sescapes").emotes("25:0-4"),
            ChatMessage::new("Inject", "{\\pos(0,0)}\\N big"),
            ChatMessage::new("Loud", &long),
        ];
        for m in &script {
            w.twitch.chat_say("chatty", m);
        }
        let bad = w
            .twitch
            .chat_say("chatty", &ChatMessage::new("Troll", "bad words"));
        wait_captured(&rec.dir, "bad words").await;
        w.twitch.chat_clear_message("chatty", "troll", &bad);

        // PING is answered; the server would drop a silent client after 2 s.
        w.twitch.chat_ping();
        assert!(
            w.twitch.wait_chat(WAIT, |s| s.pongs >= 1).await,
            "{name}: PONG"
        );
        // A dropped connection is joined again, and so is one told to RECONNECT.
        w.twitch.chat_drop("chatty");
        assert!(
            w.twitch.wait_chat_joins("chatty", 2, WAIT).await,
            "{name}: rejoined after a drop"
        );
        w.twitch
            .chat_say("chatty", &ChatMessage::new("Foo", "after the drop"));
        w.twitch.chat_reconnect("chatty");
        assert!(
            w.twitch.wait_chat_joins("chatty", 3, WAIT).await,
            "{name}: rejoined after RECONNECT"
        );
        w.twitch
            .chat_say("chatty", &ChatMessage::new("Foo", "after reconnect"));
        let last = wait_captured(&rec.dir, "after reconnect").await;
        assert_eq!(w.twitch.chat_stats().dropped_silent, 0, "{name}");
        assert!(
            captured(&rec.dir)
                .iter()
                .any(|m| m.text == "after the drop")
        );

        // Enough media for the last message to lie inside the MP4, then the end.
        let last_ms = last.ms;
        wait_detail(&client, &rec.id, "media past the last message", |r| {
            r.recording.media_ms >= last_ms + 2_000
        })
        .await;
        w.twitch.go_offline("chatty").expect("offline");
        let ready = eventually(FINALIZE_WAIT, "finalize", || async {
            let r = common::twitch_world::detail(&client, &rec.id).await;
            assert!(r.recording.library.finalize_error.is_none(), "{r:?}");
            (r.recording.status == RecordingStatus::Ready).then_some(r)
        })
        .await
        .recording;
        let video = PathBuf::from(ready.library.video_path.clone().expect("video"));
        let duration = ready.library.duration_ms.expect("duration");

        // The JSON lines beside the MP4: the messages in order, the deleted one gone.
        let jsonl = sibling(&video, ".chat.jsonl");
        let kept: Vec<ChatLine> = std::fs::read_to_string(&jsonl)
            .expect("chat.jsonl beside the MP4")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a chat line"))
            .collect();
        // An absurdly long line is cut to 2000 characters.
        let texts: Vec<&str> = kept
            .iter()
            .map(|m| {
                if m.text.len() > 80 {
                    "<long>"
                } else {
                    m.text.as_str()
                }
            })
            .collect();
        assert_eq!(
            texts,
            [
                "hello",
                "héllo 🌍 日本語 ; with\\sescapes",
                "{\\pos(0,0)}\\N big",
                "<long>",
                "after the drop",
                "after reconnect"
            ],
            "{name}"
        );
        assert_eq!(kept[3].text, "x".repeat(2_000));
        assert_eq!(kept[1].name, "Bär");
        assert_eq!(kept[1].emotes, "25:0-4");
        assert!(
            kept.windows(2).all(|p| p[0].ms <= p[1].ms),
            "{name}: in order"
        );
        assert!(
            kept.iter().all(|m| m.ms < duration),
            "{name}: inside the MP4"
        );
        // Offsets follow the wall clock between messages (no gaps in this broadcast).
        let spread = kept[5].ms as i64 - kept[0].ms as i64;
        let wall = kept[5].ts - kept[0].ts;
        assert!(
            (spread - wall).abs() <= 1_000,
            "{name}: {spread} ms vs {wall} ms"
        );

        // The subtitles: ffprobe sees an ASS stream, ffmpeg renders the text, no injection.
        let ass = sibling(&video, ".chat.ass");
        let probe = std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=codec_name",
                "-of",
                "csv=p=0",
            ])
            .arg(&ass)
            .output()
            .expect("ffprobe");
        assert_eq!(
            String::from_utf8_lossy(&probe.stdout).trim(),
            "ass",
            "{name}"
        );
        let srt = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&ass)
            .args(["-f", "srt", "-"])
            .output()
            .expect("ffmpeg");
        assert!(
            srt.status.success(),
            "{}",
            String::from_utf8_lossy(&srt.stderr)
        );
        let srt = String::from_utf8_lossy(&srt.stdout);
        assert!(srt.contains("hello"), "{srt}");
        assert!(srt.contains("after reconnect"), "{srt}");
        assert!(!srt.contains("bad words"), "{srt}");
        let ass_text = std::fs::read_to_string(&ass).expect("ass");
        assert!(!ass_text.contains("{\\pos"), "{ass_text}");

        api_pages_the_chat(&mut client, &ready.id, &kept, name).await;

        // Deleting the recording takes its chat files.
        let deleted = client
            .delete(&format!("/api/v1/recordings/{}", ready.id))
            .await;
        assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
        assert!(
            !video.exists() && !jsonl.exists() && !ass.exists(),
            "{name}"
        );
        server.terminate();
    }
}

async fn chat_page(client: &mut Client, id: &str, query: &str) -> ChatPage {
    client
        .get_json(&format!("/api/v1/recordings/{id}/chat?{query}"))
        .await
}

async fn api_pages_the_chat(client: &mut Client, id: &str, kept: &[ChatLine], name: &str) {
    let all = chat_page(client, id, "").await;
    assert_eq!(all.messages, kept, "{name}");
    assert_eq!(all.next_from_ms, None);
    // A window holds what lies in it.
    let (from, to) = (kept[1].ms, kept[4].ms);
    let window = chat_page(client, id, &format!("from_ms={from}&to_ms={to}")).await;
    assert!(
        window.messages.iter().all(|m| m.ms >= from && m.ms < to) && !window.messages.is_empty(),
        "{name}: {window:?}"
    );
    // Pages of two add up to the whole chat, nothing repeated or lost (several messages share
    // one millisecond here).
    let mut paged: Vec<ChatLine> = Vec::new();
    let (mut from, mut skip) = (0, 0);
    loop {
        let page = chat_page(client, id, &format!("from_ms={from}&skip={skip}&limit=2")).await;
        assert!(page.messages.len() <= 2);
        paged.extend(page.messages);
        match page.next_from_ms {
            Some(next) => (from, skip) = (next, page.next_skip),
            None => break,
        }
    }
    assert_eq!(paged, kept, "{name}");
    for bad in [
        "from_ms=10&to_ms=5",
        "limit=0",
        "limit=100000",
        "from_ms=-1",
        "to_ms=abc",
    ] {
        let r = client
            .get(&format!("/api/v1/recordings/{id}/chat?{bad}"))
            .await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{name}: {bad}: {}",
            r.body
        );
        // A `{code, message}` body.
        r.error();
    }
    let missing = client.get("/api/v1/recordings/nope/chat").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_keeps_the_chat_it_wrote_and_appends_after_the_restart() {
    for backend in backends("chat_kill").await {
        let w = world().await;
        w.twitch.add_user("sturdy", "Sturdy");
        let data = tempfile::tempdir().expect("data");
        let db = backend.database_url.as_deref();
        let server = start(data.path(), db, env(&w));
        let (mut client, key) = Client::admin(&server).await;
        let channel_id = add(&mut client, "sturdy").await.channel.id;
        w.twitch
            .go_live("sturdy", "Marathon", "Chess")
            .await
            .expect("live");
        let rec = wait_active(&client, &channel_id).await;
        assert!(w.twitch.wait_chat_joins("sturdy", 1, WAIT).await);
        for i in 0..20 {
            w.twitch
                .chat_say("sturdy", &ChatMessage::new("Fan", &format!("before {i}")));
        }
        wait_captured(&rec.dir, "before 19").await;
        server.kill9();
        let before = captured(&rec.dir);
        assert_eq!(before.len(), 20, "nothing written was lost");

        let server = start(data.path(), db, env(&w));
        let client = Client::with_key(&server, &key);
        assert!(
            w.twitch.wait_chat_joins("sturdy", 2, WAIT).await,
            "the resumed recording joins again"
        );
        w.twitch
            .chat_say("sturdy", &ChatMessage::new("Fan", "after"));
        wait_captured(&rec.dir, "after").await;
        let after = captured(&rec.dir);
        let texts: Vec<String> = after.iter().map(|m| m.text.clone()).collect();
        let mut expected: Vec<String> = (0..20).map(|i| format!("before {i}")).collect();
        expected.push("after".into());
        assert_eq!(texts, expected, "appended to the same file, in order");
        // While recording, the API serves what was captured so far.
        let page: ChatPage = client
            .clone()
            .get_json(&format!("/api/v1/recordings/{}/chat", rec.id))
            .await;
        assert_eq!(page.messages.len(), 21);
        server.terminate();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_with_chat_off_records_no_chat() {
    for backend in backends("chat_off").await {
        let w = world().await;
        w.twitch.add_user("quiet", "Quiet");
        let data = tempfile::tempdir().expect("data");
        let server = start(data.path(), backend.database_url.as_deref(), env(&w));
        let (mut client, _) = Client::admin(&server).await;
        let added = client
            .post(
                "/api/v1/channels",
                serde_json::json!({"channel": "quiet", "record_chat": false}),
            )
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        let channel = added.json::<ChannelView>().channel;
        assert!(!channel.settings.record_chat);
        let channel_id = channel.id;
        w.twitch
            .go_live("quiet", "Shh", "ASMR")
            .await
            .expect("live");
        let rec = wait_active(&client, &channel_id).await;
        wait_detail(&client, &rec.id, "bytes", |r| r.recording.bytes > 0).await;
        assert_eq!(w.twitch.chat_stats().connections, 0);
        assert!(!Path::new(&rec.dir).join("chat.jsonl").exists());
        server.terminate();
    }
}
