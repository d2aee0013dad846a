//! Credentials end when they should: a WebSocket closes when its session logs out or its key
//! is revoked, a session has an absolute lifetime however often it is used, and a server that
//! listens beyond loopback can only be set up with the token from its log. On SQLite and (with
//! TAPEARR_TEST_PG_URL) PostgreSQL.

mod common;

use common::{ADMIN, Client, InProcess, PASSWORD, Running, Server, ServerOptions, backends};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};
use tapearr_api::error::Code;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_ws(server: &impl Running, header: (&'static str, String)) -> Ws {
    let url = format!("{}/api/v1/ws", server.base().replace("http://", "ws://"));
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert(header.0, header.1.parse().expect("header"));
    tokio_tungstenite::connect_async(req)
        .await
        .expect("ws connect")
        .0
}

/// Waits for the server to close the socket; the bound only turns a hang into a failure.
async fn closed_by_server(ws: &mut Ws, what: &str) -> Option<CloseCode> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("{what}: the WebSocket stayed open"));
        match next {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
            None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_closes_when_its_session_logs_out_or_its_key_is_revoked() {
    for backend in backends("ws_revoke").await {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![],
        })
        .await;
        let b = backend.name;
        let mut browser = Client::new(&server);
        let key = browser.bootstrap().await;
        let session = browser.session.clone().expect("session cookie");

        // Logout: the page's socket closes at once (policy violation), the key's stays.
        let mut page = open_ws(&server, ("cookie", format!("tapearr_session={session}"))).await;
        let mut script = open_ws(&server, ("x-api-key", key.clone())).await;
        let r = browser.post("/api/v1/auth/logout", json!({})).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b}: {:?}", r.body);
        assert_eq!(
            closed_by_server(&mut page, "after logout").await,
            Some(CloseCode::Policy),
            "{b}"
        );
        // The key's socket still answers: a ping gets a pong.
        futures_util::SinkExt::send(&mut script, Message::Ping(vec![1u8].into()))
            .await
            .expect("ping");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, script.next()).await {
                Ok(Some(Ok(Message::Pong(_)))) => break,
                Ok(Some(Ok(_))) => {}
                other => panic!("{b}: the key's socket closed with the session: {other:?}"),
            }
        }

        // Revoking the key closes its socket too.
        let mut admin = Client::new(&server);
        assert_eq!(admin.login(ADMIN, PASSWORD).await.status, StatusCode::OK);
        let keys = admin.get("/api/v1/apikeys").await;
        let id = keys.body.as_array().and_then(|k| {
            k.iter()
                .find(|k| k["name"] == "tests")
                .and_then(|k| k["id"].as_str().map(String::from))
        });
        let id = id.expect("the key");
        let r = admin.delete(&format!("/api/v1/apikeys/{id}")).await;
        assert!(r.status.is_success(), "{b}: {:?}", r.body);
        assert_eq!(
            closed_by_server(&mut script, "after the key was revoked").await,
            Some(CloseCode::Policy),
            "{b}"
        );

        // A new socket with the old credentials is refused.
        let url = format!("{}/api/v1/ws", server.base.replace("http://", "ws://"));
        let mut req = url.into_client_request().expect("request");
        req.headers_mut()
            .insert("x-api-key", key.parse().expect("header"));
        assert!(tokio_tungstenite::connect_async(req).await.is_err(), "{b}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_at_its_absolute_lifetime_however_often_it_is_used() {
    for backend in backends("session_max_age").await {
        let dir = tempfile::tempdir().expect("tempdir");
        // 0.00005 days: 4.32 seconds.
        let max_age = Duration::from_millis(4_320);
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![("TAPEARR_AUTH__SESSION_MAX_AGE_DAYS", "0.00005".into())],
        })
        .await;
        let b = backend.name;
        let mut browser = Client::new(&server);
        browser.bootstrap().await;
        let before_login = Instant::now();
        assert_eq!(browser.login(ADMIN, PASSWORD).await.status, StatusCode::OK);
        let after_login = Instant::now();

        // Used all the time (the sliding expiry alone would keep it for 30 days) …
        let mut uses = 0;
        let ended = loop {
            let r = browser.get("/api/v1/auth/me").await;
            match r.status {
                StatusCode::OK => uses += 1,
                StatusCode::UNAUTHORIZED => break Instant::now(),
                other => panic!("{b}: {other}: {:?}", r.body),
            }
            assert!(
                before_login.elapsed() < max_age + Duration::from_secs(30),
                "{b}: the session outlived its absolute lifetime"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        // … it still ends at its absolute lifetime, not before.
        assert!(uses > 1, "{b}: used {uses} times");
        assert!(
            ended.duration_since(before_login) >= max_age,
            "{b}: ended after {:?}",
            ended.duration_since(after_login)
        );
        let r = browser.get("/api/v1/auth/me").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{b}");
        // A new login starts a new lifetime.
        assert_eq!(browser.login(ADMIN, PASSWORD).await.status, StatusCode::OK);
        assert_eq!(
            browser.get("/api/v1/auth/me").await.status,
            StatusCode::OK,
            "{b}"
        );
    }
}

/// The token the server printed for its setup.
fn setup_token(server: &Server) -> Option<String> {
    server
        .output_text()
        .lines()
        .find_map(|l| l.split("create it with the setup token ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .map(|t| t.trim_matches('"').to_string())
}

#[tokio::test]
async fn a_server_beyond_loopback_is_set_up_only_with_the_token_from_its_log() {
    for backend in backends("setup_token").await {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![("TAPEARR_LISTEN", "0.0.0.0:0".into())],
        });
        let b = backend.name;
        let token = setup_token(&server).expect("a setup token in the log");
        let mut stranger = Client::new(&server);
        let status = stranger.get("/api/v1/setup").await;
        assert_eq!(status.body["setup_required"], true, "{b}");
        assert_eq!(status.body["setup_token_required"], true, "{b}");

        for body in [
            json!({"username": "intruder", "password": PASSWORD}),
            json!({"username": "intruder", "password": PASSWORD, "setup_token": "guess"}),
            json!({"username": "intruder", "password": PASSWORD, "setup_token": ""}),
        ] {
            let r = stranger.post("/api/v1/setup", body.clone()).await;
            assert_eq!(
                (r.status, r.error().code),
                (StatusCode::FORBIDDEN, Code::Forbidden),
                "{b}: {body}"
            );
            assert!(r.body["message"].is_string(), "{b}: {:?}", r.body);
        }
        assert_eq!(
            stranger.get("/api/v1/setup").await.body["setup_required"],
            true,
            "{b}: nobody was created"
        );

        let mut owner = Client::new(&server);
        let r = owner
            .post(
                "/api/v1/setup",
                json!({"username": ADMIN, "password": PASSWORD, "setup_token": token}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
        assert_eq!(owner.login(ADMIN, PASSWORD).await.status, StatusCode::OK);
        let status = stranger.get("/api/v1/setup").await;
        assert_eq!(status.body["setup_required"], false, "{b}");
        assert_eq!(status.body["setup_token_required"], false, "{b}");
        let r = stranger
            .post(
                "/api/v1/setup",
                json!({"username": "second", "password": PASSWORD, "setup_token": token}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{b}: {:?}", r.body);
        drop(server);

        // On loopback (as today) no token is printed or needed.
        let dir = tempfile::tempdir().expect("tempdir");
        let local = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: None,
            env: vec![],
        });
        assert_eq!(setup_token(&local), None, "{b}");
        let mut c = Client::new(&local);
        assert_eq!(
            c.get("/api/v1/setup").await.body["setup_token_required"],
            false
        );
        c.bootstrap().await;
    }
}
