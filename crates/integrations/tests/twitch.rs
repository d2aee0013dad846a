//! The Twitch clients against the fake Twitch from testkit (real wire formats, local only).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tapearr_integrations::twitch::eventsub::{
    self, EventSubEvent, EventSubHeaders, EventSubMessage, MessageDeduper,
};
use tapearr_integrations::twitch::playback::WEB_CLIENT_ID;
use tapearr_integrations::twitch::{
    DevicePoll, HelixClient, HelixConfig, NewSubscription, PlaybackClient, RefreshError,
    TwitchError, UserAuthClient,
};
use tapearr_testkit::hls_origin::HlsOrigin;
use tapearr_testkit::twitch::{Action, FakeTwitch};
use tokio::sync::mpsc;
use url::Url;

const WAIT: Duration = Duration::from_secs(10);

async fn fake() -> FakeTwitch {
    let origin = Arc::new(HlsOrigin::start().await.expect("origin"));
    FakeTwitch::start(origin).await.expect("fake twitch")
}

fn client(t: &FakeTwitch) -> HelixClient {
    HelixClient::new(
        reqwest::Client::new(),
        HelixConfig {
            helix_url: Url::parse(&t.helix_url()).expect("url"),
            id_url: Url::parse(&t.id_url()).expect("url"),
            client_id: t.client_id().to_owned(),
            client_secret: t.client_secret().to_owned(),
        },
    )
}

fn logins(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("user_{i}")).collect()
}

#[tokio::test]
async fn app_token_is_fetched_once_and_refreshed_after_a_401() {
    let t = fake().await;
    t.add_user("cool_user", "Cool_User");
    let h = client(&t);
    let users = h
        .users_by_login(&["cool_user".into()])
        .await
        .expect("users");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].display_name, "Cool_User");
    assert!(users[0].profile_image_url.starts_with(&t.url()));
    h.users_by_login(&["cool_user".into()])
        .await
        .expect("users");
    assert_eq!(t.token_requests(), 1, "the token is cached");

    t.expire_tokens();
    let again = h
        .users_by_id(&[users[0].id.clone()])
        .await
        .expect("refreshed");
    assert_eq!(again[0].login, "cool_user");
    assert_eq!(t.token_requests(), 2, "one fresh token after the 401");
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized_and_the_secret_stays_out_of_errors() {
    let t = fake().await;
    let h = HelixClient::new(
        reqwest::Client::new(),
        HelixConfig {
            helix_url: Url::parse(&t.helix_url()).expect("url"),
            id_url: Url::parse(&t.id_url()).expect("url"),
            client_id: t.client_id().to_owned(),
            client_secret: "wrong-secret-value".into(),
        },
    );
    let err = h.users_by_login(&["x".into()]).await.expect_err("refused");
    assert!(matches!(err, TwitchError::Unauthorized), "{err:?}");

    // An error that could carry text about the request: the token endpoint unreachable, at a
    // URL holding a key in its path (reqwest's own message prints the URL, userinfo aside).
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("addr");
    let h = HelixClient::new(
        reqwest::Client::new(),
        HelixConfig {
            helix_url: Url::parse(&t.helix_url()).expect("url"),
            id_url: Url::parse(&format!("http://{closed}/url-secret-value/")).expect("url"),
            client_id: t.client_id().to_owned(),
            client_secret: "wrong-secret-value".into(),
        },
    );
    let err = h.users_by_login(&["x".into()]).await.expect_err("refused");
    assert!(matches!(err, TwitchError::Network(_)), "{err:?}");
    let text = format!("{err:?} {err}");
    assert!(!text.contains("url-secret-value"), "{text}");
    assert!(!text.contains("wrong-secret-value"), "{text}");
}

#[tokio::test]
async fn two_hundred_fifty_ids_go_in_three_batches_and_pages_are_followed() {
    let t = fake().await;
    let all = logins(250);
    for l in &all {
        t.add_user(l, l);
    }
    let h = client(&t);
    let users = h.users_by_login(&all).await.expect("users");
    assert_eq!(users.len(), 250);
    assert_eq!(
        t.rate_stats().total_requests,
        3,
        "⌈250/100⌉ calls, none refused"
    );

    for l in ["user_3", "user_150", "user_249"] {
        t.go_live(l, "title", "Just Chatting").await.expect("live");
    }
    t.set_max_page(1); // every stream on its own page
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let before = t.rate_stats().total_requests;
    let live = h.streams_by_user_id(&ids).await.expect("streams");
    let mut live_logins: Vec<_> = live.iter().map(|s| s.user_login.as_str()).collect();
    live_logins.sort_unstable();
    assert_eq!(live_logins, ["user_150", "user_249", "user_3"]);
    assert_eq!(live[0].game_name, "Just Chatting");
    assert_eq!(live[0].kind, "live");
    // Batch 1: 1 stream; batch 2: 1; batch 3: 1 — one page each, no extra calls.
    assert_eq!(t.rate_stats().total_requests - before, 3);

    let channels = h.channels(&ids[..3]).await.expect("channels");
    assert_eq!(channels.len(), 3);
    let games = h.games(&[live[0].game_id.clone()]).await.expect("games");
    assert_eq!(games[0].name, "Just Chatting");
    assert_eq!(t.rate_stats().rate_limited, 0);
}

#[tokio::test]
async fn followed_channels_are_paginated_with_a_user_token() {
    let t = fake().await;
    let viewer = t.add_user("viewer", "Viewer");
    for l in logins(7) {
        t.add_user(&l, &l);
        t.follow("viewer", &l).expect("follow");
    }
    t.set_max_page(3);
    let token = t.issue_user_token("viewer").expect("token");
    let h = client(&t);
    let info = h.validate_user_token(&token).await.expect("valid");
    assert_eq!(
        (info.user_id.as_str(), info.login.as_str()),
        (viewer.as_str(), "viewer")
    );
    assert_eq!(info.client_id, t.client_id(), "issued to the app");
    let web = t.issue_web_token("viewer").expect("web token");
    let info = h.validate_user_token(&web).await.expect("valid");
    assert_eq!(
        (info.user_id.as_str(), info.client_id.as_str()),
        (viewer.as_str(), WEB_CLIENT_ID)
    );
    let follows = h.followed_channels(&viewer, &token).await.expect("follows");
    assert_eq!(follows.len(), 7, "three pages followed");
    assert!(matches!(
        h.validate_user_token("bogus").await,
        Err(TwitchError::Unauthorized)
    ));
    assert!(matches!(
        h.followed_channels(&viewer, "bogus").await,
        Err(TwitchError::Unauthorized)
    ));
}

#[tokio::test]
async fn a_429_waits_for_the_reset_and_then_succeeds() {
    let origin = Arc::new(HlsOrigin::start().await.expect("origin"));
    let t = FakeTwitch::with_rate_limit(origin, 2, Duration::from_secs(2))
        .await
        .expect("fake");
    t.add_user("a", "A");
    // Two clients: the second one does not know the bucket is empty, so it meets a 429.
    let (first, second) = (client(&t), client(&t));
    first.users_by_login(&["a".into()]).await.expect("1");
    first.users_by_login(&["a".into()]).await.expect("2");
    let users = second
        .users_by_login(&["a".into()])
        .await
        .expect("after the reset");
    assert_eq!(users.len(), 1);
    let stats = t.rate_stats();
    assert!(stats.rate_limited >= 1, "{stats:?}");
    first.users_by_login(&["a".into()]).await.expect("3");
}

#[tokio::test]
async fn an_empty_bucket_is_waited_out_before_the_call() {
    let origin = Arc::new(HlsOrigin::start().await.expect("origin"));
    let t = FakeTwitch::with_rate_limit(origin, 2, Duration::from_secs(2))
        .await
        .expect("fake");
    t.add_user("a", "A");
    let h = client(&t);
    for _ in 0..4 {
        h.users_by_login(&["a".into()]).await.expect("served");
    }
    let stats = t.rate_stats();
    assert_eq!(stats.rate_limited, 0, "the headers said wait: {stats:?}");
    assert_eq!(stats.total_requests, 4);
}

#[tokio::test]
async fn callers_parked_on_an_empty_bucket_do_not_all_go_at_the_reset() {
    let origin = Arc::new(HlsOrigin::start().await.expect("origin"));
    let t = FakeTwitch::with_rate_limit(origin, 2, Duration::from_secs(2))
        .await
        .expect("fake");
    t.add_user("a", "A");
    let h = client(&t);
    for _ in 0..2 {
        h.users_by_login(&["a".into()]).await.expect("served");
    }
    // The bucket is known to be empty: four callers park; only two points come back.
    let calls: Vec<_> = (0..4)
        .map(|_| {
            let h = h.clone();
            tokio::spawn(async move { h.users_by_login(&["a".into()]).await })
        })
        .collect();
    for c in calls {
        c.await.expect("joined").expect("served");
    }
    let stats = t.rate_stats();
    assert_eq!(stats.rate_limited, 0, "{stats:?}");
    assert_eq!(stats.total_requests, 6, "{stats:?}");
}

#[tokio::test]
async fn a_helix_outage_is_an_error_not_an_empty_answer() {
    let t = fake().await;
    let id = t.add_user("a", "A");
    let h = client(&t);
    t.set_helix_failing(true);
    let err = h.streams_by_user_id(&[id]).await.expect_err("outage");
    assert!(
        matches!(err, TwitchError::Http { status: 500, .. }),
        "{err:?}"
    );
}

/// A minimal webhook receiver built on the crate's verify/parse/dedupe.
#[derive(Clone)]
struct Receiver {
    secret: Vec<u8>,
    dedupe: Arc<MessageDeduper>,
    events: mpsc::UnboundedSender<EventSubMessage>,
}

async fn callback(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> Response {
    let h = EventSubHeaders::from_header_map(&headers);
    if eventsub::verify(&h, &body, &r.secret, SystemTime::now()).is_err() {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some(id) = h.message_id.clone() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if !r.dedupe.begin(&id) {
        // Acknowledged, but distinguishable from a handled message (204) for the test.
        return StatusCode::ACCEPTED.into_response();
    }
    match eventsub::parse(&h, &body) {
        Ok(EventSubMessage::Challenge { challenge, .. }) => {
            ([("content-type", "text/plain")], challenge).into_response()
        }
        Ok(m) => {
            let _ = r.events.send(m);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(_) => {
            r.dedupe.forget(&id);
            StatusCode::BAD_REQUEST.into_response()
        }
    }
}

async fn receiver(secret: &str) -> (String, mpsc::UnboundedReceiver<EventSubMessage>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let state = Receiver {
        secret: secret.as_bytes().to_vec(),
        dedupe: Arc::new(MessageDeduper::default()),
        events: tx,
    };
    let app = axum::Router::new()
        .route("/eventsub", axum::routing::post(callback))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/eventsub"), rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<EventSubMessage>) -> EventSubMessage {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("in time")
        .expect("open")
}

#[tokio::test]
async fn eventsub_webhooks_verify_enable_notify_dedupe_and_revoke() {
    let t = fake().await;
    let id = t.add_user("streamer", "Streamer");
    let secret = "a-stable-secret-123";
    let (url, mut rx) = receiver(secret).await;
    let h = client(&t);
    let mut subs = Vec::new();
    for kind in ["stream.online", "stream.offline", "channel.update"] {
        let sub = h
            .eventsub_create(&NewSubscription {
                kind: kind.into(),
                version: if kind == "channel.update" { "2" } else { "1" }.into(),
                condition: serde_json::json!({ "broadcaster_user_id": id }),
                callback: url.clone(),
                secret: secret.into(),
            })
            .await
            .expect("created");
        assert_eq!(sub.status, "webhook_callback_verification_pending");
        subs.push(sub);
    }
    let d = t.wait_for_deliveries(3, WAIT).await.expect("challenges");
    assert!(d.iter().all(|d| d.status == Some(200)), "{d:?}");
    t.set_max_page(2);
    let listed = h.eventsub_list().await.expect("list");
    assert_eq!(listed.len(), 3, "two pages");
    assert!(listed.iter().all(|s| s.status == "enabled"), "{listed:?}");

    let stream_id = t
        .go_live("streamer", "first title", "Chess")
        .await
        .expect("live");
    match next(&mut rx).await {
        EventSubMessage::Notification {
            event:
                EventSubEvent::StreamOnline {
                    id: got,
                    broadcaster_user_login,
                    ..
                },
            ..
        } => {
            assert_eq!(got, stream_id);
            assert_eq!(broadcaster_user_login, "streamer");
        }
        other => panic!("expected stream.online, got {other:?}"),
    }
    // A redelivery is acknowledged but not handled again; forged and stale ones are refused.
    assert_eq!(
        t.resend_last().await.expect("sent"),
        202,
        "seen as a duplicate"
    );
    assert_eq!(t.send_forged().await.expect("sent"), 403);
    assert_eq!(t.send_stale().await.expect("sent"), 403);

    // The rest of the broadcast as a script: a category change, then offline.
    t.script(vec![
        (
            Duration::ZERO,
            Action::SetChannel {
                login: "streamer".into(),
                title: "second title".into(),
                game: "Art".into(),
            },
        ),
        (
            Duration::from_millis(50),
            Action::GoOffline {
                login: "streamer".into(),
            },
        ),
    ])
    .await
    .expect("script task")
    .expect("script ran");
    match next(&mut rx).await {
        EventSubMessage::Notification {
            event:
                EventSubEvent::ChannelUpdate {
                    title,
                    category_name,
                    ..
                },
            ..
        } => assert_eq!(
            (title.as_str(), category_name.as_str()),
            ("second title", "Art")
        ),
        other => panic!("expected channel.update, got {other:?}"),
    }
    assert!(matches!(
        next(&mut rx).await,
        EventSubMessage::Notification {
            event: EventSubEvent::StreamOffline { .. },
            ..
        }
    ));

    assert_eq!(
        t.revoke(&subs[0].id, "authorization_revoked")
            .await
            .expect("sent"),
        204
    );
    match next(&mut rx).await {
        EventSubMessage::Revocation { subscription } => {
            assert_eq!(subscription.status, "authorization_revoked")
        }
        other => panic!("expected a revocation, got {other:?}"),
    }
    h.eventsub_delete(&subs[1].id).await.expect("deleted");
    h.eventsub_delete(&subs[1].id)
        .await
        .expect("already gone is fine");
    assert_eq!(h.eventsub_list().await.expect("list").len(), 2);
}

#[tokio::test]
async fn a_callback_that_does_not_echo_the_challenge_stays_unverified() {
    let t = fake().await;
    let id = t.add_user("s", "S");
    let (url, _rx) = receiver("the-receivers-secret").await;
    let h = client(&t);
    h.eventsub_create(&NewSubscription {
        kind: "stream.online".into(),
        version: "1".into(),
        condition: serde_json::json!({ "broadcaster_user_id": id }),
        callback: url,
        secret: "a-different-secret".into(),
    })
    .await
    .expect("created");
    let d = t.wait_for_deliveries(1, WAIT).await.expect("challenge");
    assert_eq!(d[0].status, Some(403));
    assert_eq!(
        t.subscriptions()[0].2,
        "webhook_callback_verification_failed"
    );
}

#[tokio::test]
async fn playback_url_leads_to_the_master_playlist_while_live() {
    let t = fake().await;
    t.add_user("live_one", "Live_One");
    let p = PlaybackClient::new(
        reqwest::Client::new(),
        Url::parse(&t.gql_url()).expect("url"),
        Url::parse(&t.usher_url()).expect("url"),
    );
    assert_eq!(
        p.master_playlist_url("live_one", None, &[])
            .await
            .expect("gql"),
        None
    );
    assert_eq!(
        p.master_playlist_url("nobody", None, &[])
            .await
            .expect("gql"),
        None
    );

    t.go_live("live_one", "t", "g").await.expect("live");
    let url = p
        .master_playlist_url("live_one", None, &["av1", "h264"])
        .await
        .expect("gql")
        .expect("live");
    assert!(url.contains("supported_codecs=av1%2Ch264"), "{url}");
    let http = reqwest::Client::new();
    let master = http.get(&url).send().await.expect("usher");
    assert_eq!(master.status(), 200);
    let text = master.text().await.expect("body");
    assert!(text.starts_with("#EXTM3U"), "{text}");
    let variant = text
        .lines()
        .find(|l| l.starts_with("http"))
        .expect("an absolute variant URL");
    let media = http.get(variant).send().await.expect("variant");
    assert!(media.text().await.expect("body").contains("#EXTINF"));

    // A tampered signature is refused by usher.
    let forged = url.replace("sig=", "sig=00");
    assert_eq!(http.get(&forged).send().await.expect("usher").status(), 403);

    t.go_offline("live_one").expect("offline");
    assert_eq!(http.get(&url).send().await.expect("usher").status(), 404);
    assert_eq!(
        p.master_playlist_url("live_one", None, &[])
            .await
            .expect("gql"),
        None
    );

    // A viewer's web-player token goes to GQL and into the playback token.
    let viewer = t.add_user("viewer", "Viewer");
    let web_token = t.issue_web_token("viewer").expect("token");
    t.go_live("live_one", "t", "g").await.expect("live");
    let url = p
        .master_playlist_url("live_one", Some(&web_token), &[])
        .await
        .expect("gql")
        .expect("live");
    assert_eq!(playback_token(&url)["user_id"], viewer.as_str(), "{url}");
    let anonymous = p
        .master_playlist_url("live_one", None, &[])
        .await
        .expect("gql")
        .expect("live");
    assert!(
        playback_token(&anonymous)["user_id"].is_null(),
        "{anonymous}"
    );

    // GQL refuses a token issued to another client id, and an unknown one.
    let app_user_token = t.issue_user_token("viewer").expect("token");
    assert!(matches!(
        p.master_playlist_url("live_one", Some(&app_user_token), &[])
            .await,
        Err(TwitchError::Unauthorized)
    ));
    assert!(matches!(
        p.master_playlist_url("live_one", Some("bad"), &[]).await,
        Err(TwitchError::Unauthorized)
    ));
}

/// The playback access token (JSON) an usher URL carries.
fn playback_token(usher_url: &str) -> serde_json::Value {
    let token = Url::parse(usher_url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .expect("token param");
    serde_json::from_str(&token).expect("token json")
}

fn user_auth(t: &FakeTwitch, secret: Option<&str>) -> UserAuthClient {
    UserAuthClient::new(
        reqwest::Client::new(),
        Url::parse(&t.id_url()).expect("url"),
        t.client_id(),
        secret,
    )
}

#[tokio::test]
async fn device_code_sign_in_slows_down_is_granted_and_refresh_tokens_rotate() {
    let t = fake().await;
    t.add_user("viewer", "Viewer");
    t.set_device_code(Duration::from_secs(60), Duration::from_secs(1));
    let auth = user_auth(&t, Some(t.client_secret()));
    let scopes = ["user:read:follows"];
    let code = auth.start(&scopes).await.expect("device code");
    assert_eq!(code.interval, 1);
    assert_eq!(code.user_code.len(), 8);

    // Twice at once: the second is told to slow down (and the interval grows by 5 s).
    assert!(matches!(
        auth.poll(&code.device_code, &scopes).await,
        Ok(DevicePoll::Pending)
    ));
    assert!(matches!(
        auth.poll(&code.device_code, &scopes).await,
        Ok(DevicePoll::SlowDown)
    ));
    t.approve_device(&code.user_code, "viewer")
        .expect("approve");
    tokio::time::sleep(Duration::from_secs(6)).await; // the grown interval, honoured
    let Ok(DevicePoll::Granted(tokens)) = auth.poll(&code.device_code, &scopes).await else {
        panic!("not granted");
    };
    assert_eq!(tokens.expires_in, Some(14_400));
    let info = auth.validate(&tokens.access_token).await.expect("valid");
    assert_eq!(info.login, "viewer");
    assert_eq!(info.client_id, t.client_id());
    // A device code works once.
    assert!(matches!(
        auth.poll(&code.device_code, &scopes).await,
        Ok(DevicePoll::Expired)
    ));

    // Refresh (the token holds `%` and `=`): new tokens, the old refresh token is spent.
    assert!(tokens.refresh_token.contains('%') && tokens.refresh_token.ends_with('='));
    let renewed = auth.refresh(&tokens.refresh_token).await.expect("refresh");
    assert_eq!(
        renewed.expires_in, None,
        "Twitch's refresh answer has no expires_in"
    );
    assert!(auth.validate(&renewed.access_token).await.is_ok());
    assert!(matches!(
        auth.refresh(&tokens.refresh_token).await,
        Err(RefreshError::Refused(_))
    ));
    // A confidential client's wrong secret is refused too.
    let wrong = user_auth(&t, Some("not-the-secret"));
    assert!(matches!(
        wrong.refresh(&renewed.refresh_token).await,
        Err(RefreshError::Refused(_))
    ));

    // Revoked: validate refuses it; revoking again is no error.
    auth.revoke(&renewed.access_token).await.expect("revoke");
    assert!(matches!(
        auth.validate(&renewed.access_token).await,
        Err(TwitchError::Unauthorized)
    ));
    auth.revoke(&renewed.access_token)
        .await
        .expect("revoke again");
}

#[tokio::test]
async fn device_code_declined_or_expired() {
    let t = fake().await;
    t.add_user("viewer", "Viewer");
    t.set_device_code(Duration::from_secs(1), Duration::from_secs(1));
    let auth = user_auth(&t, None);
    let scopes = ["user:read:follows"];
    let declined = auth.start(&scopes).await.expect("code");
    t.deny_device(&declined.user_code).expect("deny");
    assert!(matches!(
        auth.poll(&declined.device_code, &scopes).await,
        Ok(DevicePoll::Denied)
    ));
    let expired = auth.start(&scopes).await.expect("code");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(matches!(
        auth.poll(&expired.device_code, &scopes).await,
        Ok(DevicePoll::Expired)
    ));
    assert!(matches!(
        auth.poll("never-issued", &scopes).await,
        Ok(DevicePoll::Expired)
    ));
}

#[tokio::test]
async fn a_videos_chat_pages_by_cursor_and_refusals_cut_bodies_and_unknown_videos_are_told_apart() {
    use tapearr_integrations::twitch::CommentsFrom;
    use tapearr_testkit::twitch::{GqlFault, VideoChatComment, VideoGameMoment, VideoSpec};
    let t = fake().await;
    t.add_user("vods", "Vods");
    t.set_comment_page_size(2);
    let comments = (0..5)
        .map(|s| VideoChatComment::new(s * 10, "viewer", &format!("c{s}")))
        .collect();
    let spec = VideoSpec::archive("Replay", Duration::from_secs(60), 60)
        .comments(comments)
        .moments(vec![VideoGameMoment::new(30_000, 30_000, "Celeste")]);
    let video = t.add_video("vods", spec).await.expect("video");
    let p = PlaybackClient::new(
        reqwest::Client::new(),
        Url::parse(&t.gql_url()).expect("url"),
        Url::parse(&t.usher_url()).expect("url"),
    );

    // From second 15: c2, c3, then the cursor gives c4 and no next page.
    let first = p
        .video_comments(&video, CommentsFrom::Offset(15))
        .await
        .expect("gql")
        .expect("the video");
    let texts: Vec<&str> = first.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["c2", "c3"]);
    assert_eq!(first.comments[0].offset_ms, 20_000);
    let cursor = first.next_cursor.expect("a next page");
    let last = p
        .video_comments(&video, CommentsFrom::Cursor(&cursor))
        .await
        .expect("gql")
        .expect("the video");
    assert_eq!(last.comments.len(), 1);
    assert_eq!(last.comments[0].text, "c4");
    assert_eq!(last.next_cursor, None);

    let moments = p.video_moments(&video).await.expect("gql").expect("video");
    assert_eq!(moments.len(), 1);
    assert_eq!(
        (moments[0].position_ms, moments[0].game.as_str()),
        (30_000, "Celeste")
    );

    t.set_video_chat_fault(&video, Some(GqlFault::RefuseCursor));
    let refused = p
        .video_comments(&video, CommentsFrom::Cursor(&cursor))
        .await;
    assert!(
        matches!(refused, Err(TwitchError::Refused(_))),
        "{refused:?}"
    );
    assert!(
        p.video_comments(&video, CommentsFrom::Offset(0))
            .await
            .is_ok()
    );
    t.set_video_chat_fault(&video, Some(GqlFault::CutBody));
    let cut = p.video_comments(&video, CommentsFrom::Offset(0)).await;
    assert!(matches!(cut, Err(TwitchError::Network(_))), "{cut:?}");
    assert_eq!(
        p.video_comments("999999", CommentsFrom::Offset(0))
            .await
            .expect("gql"),
        None
    );
    assert!(matches!(
        p.video_comments("../x", CommentsFrom::Offset(0)).await,
        Err(TwitchError::BadRequest(_))
    ));
}
