//! Notifications end to end against local receivers: payloads, signatures, batching, the rate
//! cap, masked secrets, the test button, and delivery across a SIGKILL.

mod common;

use common::{
    Client, InProcess, JobRecord, JobStatus, Server, ServerOptions, backends, eventually,
};
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use sha2::Sha256;
use std::time::Duration;
use tapearr_api::error::Code;
use tapearr_api::routes::jobs::EnqueueRequest;
use tapearr_api::routes::notifications::WebPushInfo;
use tapearr_core::events::model::EventRecord;
use tapearr_core::notify::ChannelInput;
use tapearr_core::notify::model::{
    Channel, ChannelConfig, MASK, MessageRecord, MessageStatus, PushKeys, PushSubscription,
};
use tapearr_integrations::notify::Message;
use tapearr_integrations::notify::webpush::PushPayload;
use tapearr_testkit::sink::{HttpSink, Received};

const HOOK_SECRET: &str = "hook-secret-4f9a";
const NTFY_TOKEN: &str = "tk_ntfy_7c1e";
const WAIT: Duration = Duration::from_secs(60);

fn channel(
    name: &str,
    config: ChannelConfig,
    batch_secs: u32,
    max_per_minute: u32,
) -> ChannelInput {
    ChannelInput {
        name: name.to_string(),
        config,
        event_types: vec!["job.failed".to_string()],
        enabled: true,
        batch_secs,
        max_per_minute,
        quiet_hours: None,
    }
}

fn webhook(url: String, secret: &str) -> ChannelConfig {
    ChannelConfig::Webhook {
        url,
        secret: secret.to_string(),
    }
}

async fn create(api: &mut Client, input: &ChannelInput) -> String {
    let r = api
        .send_typed(Method::POST, "/api/v1/notifications/channels", input)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.json::<Channel>().id
}

async fn messages(api: &mut Client, query: &str) -> Vec<MessageRecord> {
    api.get_json(&format!("/api/v1/notifications/messages{query}"))
        .await
}

async fn webpush_info(api: &mut Client) -> WebPushInfo {
    api.get_json("/api/v1/notifications/webpush").await
}

/// A receiver's JSON body as `T`; panics with the body when it is not one.
fn received<T: DeserializeOwned>(r: &Received) -> T {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("{} is not a {}: {e}", r.text(), std::any::type_name::<T>()))
}

/// What Discord reads of a webhook post.
#[derive(Deserialize)]
struct DiscordPost {
    embeds: Vec<DiscordEmbed>,
}

#[derive(Deserialize)]
struct DiscordEmbed {
    title: String,
    description: String,
}

/// Apprise's `json://` notification.
#[derive(Debug, Deserialize)]
struct AppriseJson {
    title: String,
    message: String,
}

async fn fail_job(api: &mut Client, reason: &str) {
    let probe = EnqueueRequest {
        kind: "system.probe".to_string(),
        payload: json!({ "fail": reason }),
        max_attempts: Some(1),
    };
    let id = api
        .post_json::<_, JobRecord>("/api/v1/jobs", &probe)
        .await
        .id;
    assert_eq!(api.wait_job(&id, WAIT).await.status, JobStatus::Failed);
}

fn on(path: &str) -> impl Fn(&Received) -> bool + '_ {
    move |r| r.path.starts_with(path) && r.status == 200
}

fn signature_ok(r: &Received, secret: &str) -> bool {
    let (Some(ts), Some(sig)) = (
        r.header("x-tapearr-timestamp"),
        r.header("x-tapearr-signature"),
    ) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{ts}.").as_bytes());
    mac.update(&r.body);
    sig == format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Lets the server find the tools venv that `make test` installed (for the apprise CLI).
fn link_tools(data_dir: &std::path::Path) -> bool {
    let Ok(shared) = std::env::var("TAPEARR_TEST_TOOLS_DATA_DIR") else {
        return false;
    };
    let tools = std::path::Path::new(&shared).join("tools");
    tools.join("venv/bin/apprise").exists()
        && std::os::unix::fs::symlink(&tools, data_dir.join("tools")).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_channel_gets_one_batched_signed_message() {
    for backend in backends("notify").await {
        let b = backend.name;
        let sink = HttpSink::start().await.expect("sink");
        let dir = tempfile::tempdir().expect("tempdir");
        let with_apprise = link_tools(dir.path());
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![],
        })
        .await;
        let (mut api, _) = Client::admin(&server).await;

        // Bad input is refused and creates nothing.
        let r = api
            .send_typed(
                Method::POST,
                "/api/v1/notifications/channels",
                &channel("x", webhook("ftp://x".into(), ""), 2, 5),
            )
            .await;
        assert_eq!(
            (r.status, r.error().code),
            (StatusCode::BAD_REQUEST, Code::InvalidRequest),
            "{b}"
        );
        let bad = ChannelInput {
            event_types: vec!["stream.teleported".to_string()],
            ..channel("x", webhook(sink.url("/hook"), ""), 2, 5)
        };
        assert_eq!(
            api.send_typed(Method::POST, "/api/v1/notifications/channels", &bad)
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        let listed: Vec<Channel> = api.get_json("/api/v1/notifications/channels").await;
        assert!(listed.is_empty(), "{b}: {listed:?}");

        let discord = ChannelConfig::Discord {
            webhook_url: sink.url("/discord/123/abc"),
        };
        create(&mut api, &channel("discord", discord, 2, 5)).await;
        let ntfy = ChannelConfig::Ntfy {
            server: sink.url(""),
            topic: "tapearr-test".to_string(),
            token: NTFY_TOKEN.to_string(),
            priority: Some(4),
        };
        create(&mut api, &channel("ntfy", ntfy, 2, 5)).await;
        let hook = create(
            &mut api,
            &channel("hook", webhook(sink.url("/hook"), HOOK_SECRET), 2, 5),
        )
        .await;
        if with_apprise {
            let apprise_url = format!("json://{}/apprise", sink.addr());
            let apprise = ChannelConfig::Apprise { url: apprise_url };
            create(&mut api, &channel("apprise", apprise, 2, 5)).await;
        } else {
            eprintln!(
                "apprise not installed (run through `make test`): its channel is not exercised"
            );
        }

        // Secrets are write-only.
        let listed = api
            .get("/api/v1/notifications/channels")
            .await
            .body
            .to_string();
        for secret in [HOOK_SECRET, NTFY_TOKEN, "/discord/123/abc"] {
            assert!(!listed.contains(secret), "{b}: secret {secret} in {listed}");
        }

        // Three failures inside the batching window → one message per channel with three lines.
        for reason in ["boom-1", "boom-2", "boom-3"] {
            fail_job(&mut api, reason).await;
        }
        let expected = if with_apprise { 4 } else { 3 };
        let got = sink
            .wait_for(WAIT, |r| {
                r.iter().filter(|r| r.status == 200).count() >= expected
            })
            .await
            .unwrap_or_else(|r| {
                panic!(
                    "{b}: only {:?}",
                    r.iter().map(|r| &r.path).collect::<Vec<_>>()
                )
            });

        let discord: Vec<&Received> = got.iter().filter(|r| on("/discord/123/abc")(r)).collect();
        assert_eq!(discord.len(), 1, "{b}: one batched Discord message");
        let post: DiscordPost = received(discord[0]);
        let embed = post.embeds.first().expect("an embed");
        assert_eq!(embed.title, "3 Tapearr events", "{b}");
        assert!(
            ["boom-1", "boom-2", "boom-3"]
                .iter()
                .all(|r| embed.description.contains(r)),
            "{b}: {}",
            embed.description
        );

        let ntfy: Vec<&Received> = got.iter().filter(|r| on("/tapearr-test")(r)).collect();
        assert_eq!(ntfy.len(), 1, "{b}");
        assert_eq!(
            ntfy[0].header("authorization"),
            Some(format!("Bearer {NTFY_TOKEN}").as_str())
        );
        assert_eq!(ntfy[0].header("title"), Some("3 Tapearr events"));
        assert_eq!(ntfy[0].header("priority"), Some("4"));
        assert_eq!(ntfy[0].text().lines().count(), 3, "{b}: {}", ntfy[0].text());

        let hooks: Vec<&Received> = got.iter().filter(|r| on("/hook")(r)).collect();
        assert_eq!(hooks.len(), 1, "{b}");
        assert!(
            signature_ok(hooks[0], HOOK_SECRET),
            "{b}: webhook signature verifies"
        );
        let body: Message = received(hooks[0]);
        assert_eq!(
            hooks[0].header("x-tapearr-delivery"),
            Some(body.id.as_str()),
            "{b}"
        );
        assert_eq!(body.events.len(), 3, "{b}: {body:?}");
        assert_eq!(body.events[0].event_type, "job.failed");

        if with_apprise {
            let apprise: Vec<&Received> = got.iter().filter(|r| on("/apprise")(r)).collect();
            assert_eq!(apprise.len(), 1, "{b}");
            let message: AppriseJson = received(apprise[0]);
            assert_eq!(message.title, "3 Tapearr events", "{b}: {message:?}");
            assert!(message.message.contains("boom-2"), "{b}: {message:?}");
        }

        // The outbox shows them sent (marked just after each receiver answered).
        eventually(WAIT, &format!("{b}: {expected} messages sent"), || {
            let mut api = api.clone();
            async move {
                let outbox = messages(&mut api, "?status=sent").await;
                (outbox.len() == expected).then_some(())
            }
        })
        .await;

        // Editing with the secret left masked keeps it: the next message still verifies.
        let edited = channel("hook renamed", webhook(sink.url("/hook"), MASK), 0, 5);
        let r = api
            .send_typed(
                Method::PUT,
                &format!("/api/v1/notifications/channels/{hook}"),
                &edited,
            )
            .await;
        assert_eq!(r.ok::<Channel>().name, "hook renamed", "{b}");
        fail_job(&mut api, "boom-4").await;
        let got = sink
            .wait_for(WAIT, |r| r.iter().filter(|r| on("/hook")(r)).count() >= 2)
            .await
            .unwrap_or_else(|_| panic!("{b}: no second webhook"));
        let second = got
            .iter()
            .filter(|r| on("/hook")(r))
            .nth(1)
            .expect("second");
        assert!(
            signature_ok(second, HOOK_SECRET),
            "{b}: the stored secret was kept"
        );
        assert_eq!(received::<Message>(second).title, "Job failed");

        // The test button sends now and reports a failing receiver honestly.
        let r = api
            .post(
                &format!("/api/v1/notifications/channels/{hook}/test"),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b}: {:?}", r.body);
        sink.fail_next(1, 500);
        let r = api
            .post(
                &format!("/api/v1/notifications/channels/{hook}/test"),
                json!({}),
            )
            .await;
        assert_eq!(
            (r.status, r.error().code),
            (StatusCode::BAD_GATEWAY, Code::UpstreamFailed),
            "{b}"
        );
        assert!(!r.body.to_string().contains(HOOK_SECRET));
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_cap_holds_messages_back() {
    let sink = HttpSink::start().await.expect("sink");
    let dir = tempfile::tempdir().expect("tempdir");
    let server = InProcess::start(ServerOptions {
        data_dir: dir.path(),
        database_url: None,
        env: vec![],
    })
    .await;
    let (mut api, _) = Client::admin(&server).await;
    let id = create(
        &mut api,
        &channel("capped", webhook(sink.url("/capped"), ""), 0, 1),
    )
    .await;

    fail_job(&mut api, "first").await;
    sink.wait_for(WAIT, |r| r.len() == 1)
        .await
        .expect("first message");
    fail_job(&mut api, "second").await;
    // The second message exists in the outbox …
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let pending = messages(&mut api, &format!("?channel_id={id}&status=pending")).await;
        if let [message] = pending.as_slice() {
            assert_eq!(message.attempts, 0, "held back, not failed: {message:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "second message never composed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // … and is not sent while the cap of one a minute holds: three notifier rounds pass quietly.
    // (An absence has no event to await; the wait is bounded and short.)
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        sink.received().len(),
        1,
        "the cap let a second message through"
    );
}

#[tokio::test]
async fn pending_deliveries_survive_sigkill() {
    for backend in backends("notify_kill").await {
        let b = backend.name;
        let sink = HttpSink::start().await.expect("sink");
        sink.fail_next(u32::MAX, 503);
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = || ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![],
        };
        let server = Server::start(opts());
        let (mut api, key) = Client::admin(&server).await;
        let id = create(
            &mut api,
            &channel("hook", webhook(sink.url("/hook"), HOOK_SECRET), 0, 10),
        )
        .await;
        fail_job(&mut api, "before the crash").await;

        // The receiver is down: the message is tried, fails, and waits for its next attempt.
        let deadline = tokio::time::Instant::now() + WAIT;
        let message_id = loop {
            let listed = messages(&mut api, &format!("?channel_id={id}")).await;
            if let Some(m) = listed.first().filter(|m| m.attempts >= 1) {
                assert_eq!(m.status, MessageStatus::Pending, "{b}: {m:?}");
                assert!(
                    m.last_error.as_deref().unwrap_or_default().contains("503"),
                    "{b}: {m:?}"
                );
                break m.id.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{b}: never attempted"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        server.kill9();

        sink.fail_next(0, 200);
        let server = Server::start(opts());
        let got = sink
            .wait_for(WAIT, |r| r.iter().any(|r| r.status == 200))
            .await
            .unwrap_or_else(|_| panic!("{b}: never delivered after the restart"));
        // Every attempt carried the same idempotency key, so the receiver can drop repeats.
        let keys: Vec<&str> = got
            .iter()
            .filter_map(|r| r.header("x-tapearr-delivery"))
            .collect();
        assert!(
            keys.len() >= 2 && keys.iter().all(|k| *k == message_id),
            "{b}: {keys:?}"
        );
        let ok = got.iter().find(|r| r.status == 200).expect("delivered");
        assert!(signature_ok(ok, HOOK_SECRET));
        assert!(ok.text().contains("before the crash"), "{b}");
        // Marked sent just after the receiver answered.
        let api = Client::with_key(&server, &key);
        let sent_path = format!("/api/v1/notifications/messages?channel_id={id}&status=sent");
        eventually(WAIT, &format!("{b}: the message marked sent"), || {
            let mut api = api.clone();
            let path = sent_path.clone();
            async move {
                let sent: Vec<MessageRecord> = api.get_json(&path).await;
                (sent.len() == 1).then_some(())
            }
        })
        .await;
    }
}

/// A browser, as far as Web Push is concerned: a P-256 key pair and an auth secret.
struct FakeBrowser {
    secret: web_push_native::p256::SecretKey,
    auth: [u8; 16],
}

impl FakeBrowser {
    fn new() -> Self {
        use rand::RngCore;
        let mut scalar = [0u8; 32];
        let mut auth = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut scalar);
        rand::rngs::OsRng.fill_bytes(&mut auth);
        FakeBrowser {
            secret: web_push_native::p256::SecretKey::from_slice(&scalar).expect("scalar"),
            auth,
        }
    }

    fn subscription(&self, endpoint: &str) -> PushSubscription {
        use base64::Engine;
        use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        PushSubscription {
            endpoint: endpoint.to_string(),
            keys: PushKeys {
                p256dh: b64.encode(self.secret.public_key().to_encoded_point(false).as_bytes()),
                auth: b64.encode(self.auth),
            },
        }
    }

    fn read(&self, body: &[u8]) -> PushPayload {
        let auth = web_push_native::Auth::clone_from_slice(&self.auth);
        let plain = web_push_native::decrypt(body.to_vec(), &self.secret, &auth)
            .expect("decrypts for this browser");
        serde_json::from_slice(&plain).expect("json payload")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_push_reaches_subscribed_browsers_and_forgets_gone_ones() {
    use base64::Engine;
    use web_push_native::jwt_simple::prelude::{
        ECDSAP256PublicKeyLike, ES256PublicKey, NoCustomClaims,
    };
    let sink = HttpSink::start().await.expect("sink");
    let dir = tempfile::tempdir().expect("tempdir");
    let server = InProcess::start(ServerOptions {
        data_dir: dir.path(),
        database_url: None,
        env: vec![],
    })
    .await;
    let (mut api, _) = Client::admin(&server).await;

    let info = webpush_info(&mut api).await;
    let vapid_public = info.public_key;
    assert_eq!(info.subscriptions, 0);
    let browser = FakeBrowser::new();
    const SUBSCRIPTIONS: &str = "/api/v1/notifications/webpush/subscriptions";
    let r = api
        .send_typed(
            Method::POST,
            SUBSCRIPTIONS,
            &browser.subscription(&sink.url("/push/abc")),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let mut bad = browser.subscription(&sink.url("/push/x"));
    bad.keys.auth = "short".to_string();
    assert_eq!(
        api.send_typed(Method::POST, SUBSCRIPTIONS, &bad)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let r = api
        .send_typed(
            Method::POST,
            SUBSCRIPTIONS,
            &browser.subscription("http://example.com/push"),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "plain http is only for this machine"
    );
    assert_eq!(webpush_info(&mut api).await.subscriptions, 1);

    let push = ChannelConfig::WebPush {
        contact: "mailto:me@example.com".to_string(),
    };
    create(&mut api, &channel("push", push, 0, 10)).await;
    fail_job(&mut api, "pushed").await;
    let got = sink
        .wait_for(WAIT, |r| !r.is_empty())
        .await
        .expect("a push arrived");
    let push = &got[0];
    assert_eq!(push.path, "/push/abc");
    assert_eq!(push.header("content-encoding"), Some("aes128gcm"));
    assert!(push.header("ttl").is_some());
    // The VAPID signature verifies with the key the server gave the browser.
    let authz = push.header("authorization").expect("vapid header");
    let (token, k) = authz
        .strip_prefix("vapid t=")
        .and_then(|r| r.split_once(", k="))
        .expect("t and k");
    assert_eq!(k, vapid_public);
    let public = ES256PublicKey::from_bytes(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(k)
            .expect("b64"),
    )
    .expect("key");
    let claims = public
        .verify_token::<NoCustomClaims>(token, None)
        .expect("signature");
    assert_eq!(claims.subject.as_deref(), Some("mailto:me@example.com"));
    // Only this browser can read it.
    let payload = browser.read(&push.body);
    assert_eq!(payload.title, "Job failed");
    assert!(payload.body.contains("pushed"), "{payload:?}");

    // A 410 means the browser unsubscribed: the subscription is removed.
    sink.fail_next(1, 410);
    fail_job(&mut api, "gone").await;
    sink.wait_for(WAIT, |r| r.iter().any(|r| r.status == 410))
        .await
        .expect("second push");
    eventually(WAIT, "the gone subscription removed", || {
        let mut api = api.clone();
        async move { (webpush_info(&mut api).await.subscriptions == 0).then_some(()) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn low_disk_space_is_notified_once() {
    let sink = HttpSink::start().await.expect("sink");
    let dir = tempfile::tempdir().expect("tempdir");
    // A threshold no disk meets, so the data dir is "low".
    let server = InProcess::start(ServerOptions {
        data_dir: dir.path(),
        database_url: None,
        env: vec![("TAPEARR_DISK__LOW_FREE_GB", "1000000".into())],
    })
    .await;
    let (mut api, _) = Client::admin(&server).await;
    let disk = ChannelInput {
        event_types: vec!["system.disk_low".to_string()],
        ..channel("disk", webhook(sink.url("/disk"), ""), 0, 10)
    };
    create(&mut api, &disk).await;

    for _ in 0..2 {
        let r = api.post("/api/v1/tasks/check-disk/run", json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        api.wait_job(&r.json::<JobRecord>().id, WAIT).await;
    }
    let got = sink
        .wait_for(WAIT, |r| !r.is_empty())
        .await
        .expect("disk warning");
    let body: Message = received(&got[0]);
    assert_eq!(body.title, "Low disk space");
    assert!(
        body.lines
            .first()
            .is_some_and(|l| l.contains(&dir.path().display().to_string())),
        "{body:?}"
    );
    let events: Vec<EventRecord> = api.get_json("/api/v1/events?type=system.disk_low").await;
    assert_eq!(
        events.len(),
        1,
        "raised once, not on every check: {events:?}"
    );
}
