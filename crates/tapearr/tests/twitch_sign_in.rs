//! "Sign in with Twitch" (device code), on SQLite and PostgreSQL, against the fake Twitch's id
//! service: start → pending → the user approves on "twitch.tv" → signed in; the tokens are
//! sealed in the database, absent from API answers and logs; a short-lived token is renewed
//! without the user; the user declining, the code expiring and a cancel end the wait plainly;
//! a refused renewal marks the account as needing a new sign-in and says so in an event;
//! signing out revokes the token. Without a client id the start is a 409.

mod common;

use common::twitch_world::{env, start, world};
use common::{Client, backends, database_text, eventually};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;
use tapearr_api::error::Code;
use tapearr_api::routes::channels::ImportRequest;
use tapearr_api::routes::twitch::TwitchStatus;
use tapearr_core::events::model::EventRecord;
use tapearr_core::streams::{ImportResult, SignInStatus, TwitchAccount};

const WAIT: Duration = Duration::from_secs(30);

async fn sign_in_status(client: &Client) -> SignInStatus {
    client
        .clone()
        .get_json("/api/v1/twitch/account/device")
        .await
}

/// Waits until the sign-in is in the state `matches` accepts.
async fn wait_state(
    client: &Client,
    what: &str,
    matches: impl Fn(&SignInStatus) -> bool,
) -> SignInStatus {
    eventually(WAIT, &format!("sign-in state {what}"), || async {
        let s = sign_in_status(client).await;
        matches(&s).then_some(s)
    })
    .await
}

async fn account(client: &Client) -> Option<TwitchAccount> {
    client
        .clone()
        .get_json::<TwitchStatus>("/api/v1/twitch")
        .await
        .account
}

/// The signed-in account; panics when there is none.
async fn signed_in_account(client: &Client, what: &str) -> TwitchAccount {
    account(client)
        .await
        .unwrap_or_else(|| panic!("{what}: no Twitch account"))
}

/// Starts a sign-in; answers the code to enter, where, and how often Tapearr polls.
struct Pending {
    user_code: String,
    verification_uri: String,
    interval_secs: u64,
}

async fn start_sign_in(client: &mut Client, what: &str) -> Pending {
    let r = client
        .post("/api/v1/twitch/account/device", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{what}: {:?}", r.body);
    // The device code itself never leaves the server.
    assert!(r.body.get("device_code").is_none(), "{what}: {:?}", r.body);
    match r.json::<SignInStatus>() {
        SignInStatus::Pending {
            user_code,
            verification_uri,
            interval_secs,
            ..
        } => Pending {
            user_code,
            verification_uri,
            interval_secs,
        },
        other => panic!("{what}: not pending: {other:?}"),
    }
}

async fn import_followed(client: &mut Client) -> common::Reply {
    let request = ImportRequest { auto_record: false };
    client
        .send_typed(Method::POST, "/api/v1/channels/import-followed", &request)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_with_twitch_keeps_a_renewed_sealed_token() {
    for backend in backends("twitch_sign_in").await {
        let b = backend.name;
        let w = world().await;
        w.twitch.add_user("viewer", "Viewer");
        w.twitch.add_user("followed_one", "Followed One");
        w.twitch.follow("viewer", "followed_one").expect("follow");
        // Polled every second; tokens live 6 s, so they are renewed after about 3 s.
        w.twitch
            .set_device_code(Duration::from_secs(600), Duration::from_secs(1));
        w.twitch.set_user_token_ttl(Duration::from_secs(6));
        let data = tempfile::tempdir().expect("data");
        let server = start(data.path(), backend.database_url.as_deref(), env(&w, &[]));
        let (mut client, _) = Client::admin(&server).await;

        // --- Nothing started yet.
        assert_eq!(sign_in_status(&client).await, SignInStatus::None, "{b}");

        // --- Start: a code to enter and where; nothing secret in the answer.
        let pending = start_sign_in(&mut client, b).await;
        let code = pending.user_code;
        assert_eq!(code.len(), 8, "{b}: {code}");
        assert!(
            pending.verification_uri.contains("/activate"),
            "{b}: {}",
            pending.verification_uri
        );
        assert_eq!(pending.interval_secs, 1, "{b}");
        // Still pending while the user has not answered (Tapearr polls meanwhile).
        let polls_before = w.twitch.oauth_stats().0;
        eventually(WAIT, "a poll", || async {
            (w.twitch.oauth_stats().0 > polls_before).then_some(())
        })
        .await;
        assert!(
            matches!(sign_in_status(&client).await, SignInStatus::Pending { .. }),
            "{b}"
        );

        // --- The user approves on twitch.tv: signed in, with the expiry.
        w.twitch.approve_device(&code, "viewer").expect("approve");
        let signed_in = wait_state(&client, "signed_in", |s| {
            matches!(s, SignInStatus::SignedIn { .. })
        })
        .await;
        let SignInStatus::SignedIn { login, expires_at } = &signed_in else {
            unreachable!("waited for signed_in")
        };
        assert_eq!(login, "viewer", "{b}");
        assert!(expires_at.is_some(), "{b}: {signed_in:?}");
        let first = signed_in_account(&client, b).await;
        assert_eq!(first.login, "viewer", "{b}: {first:?}");
        assert!(first.refreshes, "{b}: {first:?}");
        assert!(!first.needs_sign_in, "{b}: {first:?}");
        let first_expiry = first.expires_at.expect("expires_at");

        // --- Renewed without the user, before it expires.
        let renewed = eventually(WAIT, "a renewed token", || async {
            let a = signed_in_account(&client, b).await;
            (a.expires_at > Some(first_expiry)).then_some(a)
        })
        .await;
        assert!(!renewed.needs_sign_in, "{b}: {renewed:?}");
        assert!(w.twitch.oauth_stats().1 >= 1, "{b}: no refresh request");

        // --- The token works: followed channels import with it.
        let imported: ImportResult = import_followed(&mut client).await.ok();
        assert_eq!(imported.added, ["followed_one"], "{b}");

        // --- No token in plaintext: not in the database, the API or the logs.
        let issued = w.twitch.issued_user_tokens();
        assert!(issued.len() >= 4, "{b}: {issued:?}");
        let db = database_text(data.path(), backend.database_url.as_deref()).await;
        let api = format!(
            "{}{}",
            client.clone().get("/api/v1/twitch").await.body,
            client
                .clone()
                .get("/api/v1/twitch/account/device")
                .await
                .body
        );
        let logs = server.output_text();
        for token in &issued {
            assert!(
                !db.contains(token.as_str()),
                "{b}: a token is in the database"
            );
            assert!(
                !api.contains(token.as_str()),
                "{b}: a token is in an answer"
            );
            assert!(
                !logs.contains(token.as_str()),
                "{b}: a token is in the logs"
            );
        }

        // --- The user declines a new sign-in: said plainly; the account stays.
        let code = start_sign_in(&mut client, b).await.user_code;
        w.twitch.deny_device(&code).expect("deny");
        wait_state(&client, "denied", |s| *s == SignInStatus::Denied).await;
        assert_eq!(signed_in_account(&client, b).await.login, "viewer", "{b}");

        // --- A code nobody enters expires.
        w.twitch
            .set_device_code(Duration::from_secs(2), Duration::from_secs(1));
        start_sign_in(&mut client, b).await;
        wait_state(&client, "expired", |s| *s == SignInStatus::Expired).await;

        // --- A cancelled sign-in is forgotten.
        w.twitch
            .set_device_code(Duration::from_secs(600), Duration::from_secs(1));
        start_sign_in(&mut client, b).await;
        let r = client
            .send(Method::DELETE, "/api/v1/twitch/account/device", None)
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b}: {:?}", r.body);
        assert_eq!(sign_in_status(&client).await, SignInStatus::None, "{b}");

        // --- The user disconnects the app on twitch.tv: the next renewal is refused, the
        // account needs a new sign-in and an event says so.
        w.twitch.disconnect_app("viewer").expect("disconnect");
        let refused = eventually(WAIT, "needs sign-in", || async {
            let a = signed_in_account(&client, b).await;
            a.needs_sign_in.then_some(a)
        })
        .await;
        assert_eq!(refused.login, "viewer", "{b}");
        let events: Vec<EventRecord> = client
            .get_json("/api/v1/events?type=twitch.sign_in_needed")
            .await;
        assert!(
            events.iter().any(|e| e.data.to_string().contains("viewer")),
            "{b}: no twitch.sign_in_needed event: {events:?}"
        );
        let r = import_followed(&mut client).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{b}: {:?}", r.body);
        // A refusal with a code and a message.
        r.error();

        // --- Sign in again, then sign out: the token is revoked at Twitch and forgotten.
        let code = start_sign_in(&mut client, b).await.user_code;
        w.twitch.approve_device(&code, "viewer").expect("approve");
        wait_state(&client, "signed_in", |s| {
            matches!(s, SignInStatus::SignedIn { .. })
        })
        .await;
        assert!(!signed_in_account(&client, b).await.needs_sign_in, "{b}");
        let revoked_before = w.twitch.oauth_stats().2;
        let r = client
            .send(Method::DELETE, "/api/v1/twitch/account", None)
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b}: {:?}", r.body);
        assert!(account(&client).await.is_none(), "{b}");
        assert_eq!(w.twitch.oauth_stats().2, revoked_before + 1, "{b}");
        server.terminate();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_client_id_sign_in_is_a_conflict() {
    let w = world().await;
    let data = tempfile::tempdir().expect("data");
    let mut vars = env(&w, &[]);
    vars.retain(|(k, _)| !k.starts_with("TAPEARR_TWITCH__CLIENT"));
    let server = start(data.path(), None, vars);
    let (mut client, _) = Client::admin(&server).await;
    let r = client
        .post("/api/v1/twitch/account/device", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert_eq!(r.error().code, Code::TwitchNotConfigured, "{:?}", r.body);
    assert_eq!(sign_in_status(&client).await, SignInStatus::None);
    server.terminate();
}
