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
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

async fn sign_in_status(client: &Client) -> Value {
    client
        .clone()
        .get("/api/v1/twitch/account/device")
        .await
        .body
}

/// Waits until the sign-in's `state` is `state`.
async fn wait_state(client: &Client, state: &str) -> Value {
    eventually(WAIT, &format!("sign-in state {state}"), || async {
        let s = sign_in_status(client).await;
        (s["state"] == state).then_some(s)
    })
    .await
}

async fn account(client: &Client) -> Value {
    client.clone().get("/api/v1/twitch").await.body["account"].clone()
}

async fn start_sign_in(client: &mut Client, what: &str) -> Value {
    let r = client
        .post("/api/v1/twitch/account/device", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{what}: {:?}", r.body);
    assert_eq!(r.body["state"], "pending", "{what}: {:?}", r.body);
    r.body
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
        assert_eq!(sign_in_status(&client).await["state"], "none", "{b}");

        // --- Start: a code to enter and where; nothing secret in the answer.
        let pending = start_sign_in(&mut client, b).await;
        let code = pending["user_code"]
            .as_str()
            .expect("user_code")
            .to_string();
        assert_eq!(code.len(), 8, "{b}: {pending}");
        assert!(
            pending["verification_uri"]
                .as_str()
                .is_some_and(|u| u.contains("/activate")),
            "{b}: {pending}"
        );
        assert_eq!(pending["interval_secs"], 1, "{b}");
        assert!(pending.get("device_code").is_none(), "{b}: {pending}");
        // Still pending while the user has not answered (Tapearr polls meanwhile).
        let polls_before = w.twitch.oauth_stats().0;
        eventually(WAIT, "a poll", || async {
            (w.twitch.oauth_stats().0 > polls_before).then_some(())
        })
        .await;
        assert_eq!(sign_in_status(&client).await["state"], "pending", "{b}");

        // --- The user approves on twitch.tv: signed in, with the expiry.
        w.twitch.approve_device(&code, "viewer").expect("approve");
        let signed_in = wait_state(&client, "signed_in").await;
        assert_eq!(signed_in["login"], "viewer", "{b}");
        assert!(signed_in["expires_at"].is_i64(), "{b}: {signed_in}");
        let first = account(&client).await;
        assert_eq!(first["login"], "viewer", "{b}: {first}");
        assert_eq!(first["refreshes"], true, "{b}: {first}");
        assert_eq!(first["needs_sign_in"], false, "{b}: {first}");
        let first_expiry = first["expires_at"].as_i64().expect("expires_at");

        // --- Renewed without the user, before it expires.
        let renewed = eventually(WAIT, "a renewed token", || async {
            let a = account(&client).await;
            (a["expires_at"].as_i64() > Some(first_expiry)).then_some(a)
        })
        .await;
        assert_eq!(renewed["needs_sign_in"], false, "{b}: {renewed}");
        assert!(w.twitch.oauth_stats().1 >= 1, "{b}: no refresh request");

        // --- The token works: followed channels import with it.
        let r = client
            .post(
                "/api/v1/channels/import-followed",
                json!({"auto_record": false}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{b}: {:?}", r.body);
        assert_eq!(r.body["added"], json!(["followed_one"]), "{b}");

        // --- No token in plaintext: not in the database, the API or the logs.
        let issued = w.twitch.issued_user_tokens();
        assert!(issued.len() >= 4, "{b}: {issued:?}");
        let db = database_text(data.path(), backend.database_url.as_deref()).await;
        let api = format!(
            "{}{}",
            client.clone().get("/api/v1/twitch").await.body,
            sign_in_status(&client).await
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
        let pending = start_sign_in(&mut client, b).await;
        let code = pending["user_code"].as_str().expect("code").to_string();
        w.twitch.deny_device(&code).expect("deny");
        wait_state(&client, "denied").await;
        assert_eq!(account(&client).await["login"], "viewer", "{b}");

        // --- A code nobody enters expires.
        w.twitch
            .set_device_code(Duration::from_secs(2), Duration::from_secs(1));
        start_sign_in(&mut client, b).await;
        wait_state(&client, "expired").await;

        // --- A cancelled sign-in is forgotten.
        w.twitch
            .set_device_code(Duration::from_secs(600), Duration::from_secs(1));
        start_sign_in(&mut client, b).await;
        let r = client
            .send(Method::DELETE, "/api/v1/twitch/account/device", None)
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b}: {:?}", r.body);
        assert_eq!(sign_in_status(&client).await["state"], "none", "{b}");

        // --- The user disconnects the app on twitch.tv: the next renewal is refused, the
        // account needs a new sign-in and an event says so.
        w.twitch.disconnect_app("viewer").expect("disconnect");
        let refused = eventually(WAIT, "needs sign-in", || async {
            let a = account(&client).await;
            (a["needs_sign_in"] == true).then_some(a)
        })
        .await;
        assert_eq!(refused["login"], "viewer", "{b}");
        let events = client
            .get("/api/v1/events?type=twitch.sign_in_needed")
            .await
            .body;
        assert!(
            events.to_string().contains("viewer"),
            "{b}: no twitch.sign_in_needed event: {events}"
        );
        let r = client
            .post(
                "/api/v1/channels/import-followed",
                json!({"auto_record": false}),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{b}: {:?}", r.body);
        assert!(r.body["code"].is_string(), "{b}: {:?}", r.body);

        // --- Sign in again, then sign out: the token is revoked at Twitch and forgotten.
        let pending = start_sign_in(&mut client, b).await;
        let code = pending["user_code"].as_str().expect("code").to_string();
        w.twitch.approve_device(&code, "viewer").expect("approve");
        wait_state(&client, "signed_in").await;
        assert_eq!(account(&client).await["needs_sign_in"], false, "{b}");
        let revoked_before = w.twitch.oauth_stats().2;
        let r = client
            .send(Method::DELETE, "/api/v1/twitch/account", None)
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b}: {:?}", r.body);
        assert!(account(&client).await.is_null(), "{b}");
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
    assert_eq!(r.body["code"], "twitch_not_configured", "{:?}", r.body);
    assert_eq!(sign_in_status(&client).await["state"], "none");
    server.terminate();
}
