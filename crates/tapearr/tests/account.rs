//! The account, as its owner uses it from Settings → Account: the password changes only with
//! the current one, the sessions list shows every browser (with its address) and any of them can
//! be signed out, one or all; API keys are no sessions and keep working. And reverse-proxy
//! authentication: a `Remote-User` header signs in only when it comes from a trusted proxy.
//! On SQLite and (with TAPEARR_TEST_PG_URL) PostgreSQL.

mod common;

use common::{ADMIN, Client, InProcess, PASSWORD, ServerOptions, backends};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::json;
use tapearr_api::error::Code;
use tapearr_api::routes::account::{PasswordChanged, SessionView, SessionsEnded};
use tapearr_api::routes::session::Me;

const NEW_PASSWORD: &str = "a much better passphrase";

async fn signed_in(server: &InProcess, agent: &'static str) -> Client {
    let mut c = Client::new(server);
    c.http = reqwest::Client::builder()
        .user_agent(agent)
        .build()
        .expect("client");
    assert_eq!(c.login(ADMIN, PASSWORD).await.status, StatusCode::OK);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_changes_only_with_the_current_one_and_other_sessions_end() {
    for backend in backends("account_pw").await {
        let server = InProcess::start_on(&backend).await;
        let b = backend.name;
        let (mut key_client, _) = Client::admin(&server).await;
        let mut laptop = signed_in(&server, "Laptop Firefox").await;
        let mut phone = signed_in(&server, "Phone Safari").await;

        let list: Vec<SessionView> = laptop.get_json("/api/v1/account/sessions").await;
        let agents: Vec<_> = list
            .iter()
            .filter_map(|s| s.user_agent.as_deref())
            .collect();
        assert!(
            agents.contains(&"Laptop Firefox") && agents.contains(&"Phone Safari"),
            "{b}: {agents:?}"
        );
        let current: Vec<_> = list.iter().filter(|s| s.current).collect();
        assert_eq!(current.len(), 1, "{b}: exactly one current session");
        assert_eq!(current[0].user_agent.as_deref(), Some("Laptop Firefox"));
        assert!(
            list.iter()
                .all(|s| s.address.as_deref() == Some("127.0.0.1")),
            "{b}: the TCP peer is recorded"
        );

        // A wrong current password changes nothing.
        let r = laptop
            .post(
                "/api/v1/account/password",
                json!({"current_password": "not it at all", "new_password": NEW_PASSWORD}),
            )
            .await;
        assert_eq!(
            (r.status, r.error().code),
            (StatusCode::FORBIDDEN, Code::WrongPassword),
            "{b}"
        );
        // A new password out of bounds neither.
        let r = laptop
            .post(
                "/api/v1/account/password",
                json!({"current_password": PASSWORD, "new_password": "short"}),
            )
            .await;
        assert_eq!(
            (r.status, r.error().code),
            (StatusCode::BAD_REQUEST, Code::InvalidRequest),
            "{b}"
        );
        // An API key belongs to no user.
        let r = key_client
            .post(
                "/api/v1/account/password",
                json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
            )
            .await;
        assert_eq!(
            (r.status, r.error().code),
            (StatusCode::FORBIDDEN, Code::Forbidden),
            "{b}"
        );
        assert_eq!(
            phone.get("/api/v1/auth/me").await.status,
            StatusCode::OK,
            "{b}"
        );
        assert_eq!(
            Client::new(&server).login(ADMIN, PASSWORD).await.status,
            StatusCode::OK,
            "{b}: the old password still works after the refused changes"
        );

        let changed: PasswordChanged = laptop
            .post_json(
                "/api/v1/account/password",
                &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
            )
            .await;
        // The phone, the bootstrap browser and the check login above.
        assert_eq!(changed.other_sessions_ended, 3, "{b}");
        assert_eq!(
            phone.get("/api/v1/auth/me").await.status,
            StatusCode::UNAUTHORIZED,
            "{b}: other sessions end"
        );
        let me: Me = laptop.get_json("/api/v1/auth/me").await;
        assert_eq!(
            me.username.as_deref(),
            Some(ADMIN),
            "{b}: this session stays"
        );
        let r = Client::new(&server).login(ADMIN, PASSWORD).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{b}: the old password is gone"
        );
        assert_eq!(
            Client::new(&server).login(ADMIN, NEW_PASSWORD).await.status,
            StatusCode::OK,
            "{b}"
        );
        assert_eq!(
            key_client.get("/api/v1/auth/me").await.status,
            StatusCode::OK,
            "{b}: API keys are not sessions"
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_or_all_of_them_can_be_signed_out() {
    for backend in backends("account_sessions").await {
        let server = InProcess::start_on(&backend).await;
        let b = backend.name;
        let (mut key_client, _) = Client::admin(&server).await;
        let mut laptop = signed_in(&server, "Laptop").await;
        let mut phone = signed_in(&server, "Phone").await;

        let list: Vec<SessionView> = laptop.get_json("/api/v1/account/sessions").await;
        let phone_id = list
            .iter()
            .find(|s| s.user_agent.as_deref() == Some("Phone"))
            .map(|s| s.id.clone())
            .expect("the phone's session is listed");
        let r = laptop
            .delete(&format!("/api/v1/account/sessions/{phone_id}"))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{b}: {:?}", r.body);
        assert_eq!(
            phone.get("/api/v1/auth/me").await.status,
            StatusCode::UNAUTHORIZED,
            "{b}: the phone is signed out"
        );
        for missing in [phone_id.as_str(), "no-such-session"] {
            let r = laptop
                .delete(&format!("/api/v1/account/sessions/{missing}"))
                .await;
            assert_eq!(
                (r.status, r.error().code),
                (StatusCode::NOT_FOUND, Code::NotFound),
                "{b}: {missing}"
            );
        }
        let after: Vec<SessionView> = laptop.get_json("/api/v1/account/sessions").await;
        assert!(after.iter().all(|s| s.id != phone_id), "{b}");
        assert_eq!(after.len(), list.len() - 1, "{b}");

        // "Sign out other sessions" keeps this one; "everywhere" ends it too.
        let mut tablet = signed_in(&server, "Tablet").await;
        let ended: SessionsEnded = laptop
            .post_json(
                "/api/v1/account/sessions/sign-out",
                &json!({"keep_current": true}),
            )
            .await;
        assert!(ended.ended >= 1, "{b}");
        assert_eq!(
            tablet.get("/api/v1/auth/me").await.status,
            StatusCode::UNAUTHORIZED
        );
        let only: Vec<SessionView> = laptop.get_json("/api/v1/account/sessions").await;
        assert_eq!(only.len(), 1, "{b}");
        assert!(only[0].current, "{b}");

        let _tablet = signed_in(&server, "Tablet").await;
        let ended: SessionsEnded = laptop
            .post_json("/api/v1/account/sessions/sign-out", &json!({}))
            .await;
        assert_eq!(ended.ended, 2, "{b}");
        assert_eq!(
            laptop.get("/api/v1/auth/me").await.status,
            StatusCode::UNAUTHORIZED,
            "{b}: signed out everywhere, here too"
        );
        assert_eq!(
            key_client.get("/api/v1/auth/me").await.status,
            StatusCode::OK,
            "{b}: API keys keep working"
        );
        let r = key_client.get("/api/v1/account/sessions").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{b}");
        server.stop().await;
    }
}

/// A client whose every request carries `headers`, as a proxy (or a forger) would send them.
fn with_headers(server: &InProcess, headers: &[(&'static str, &str)]) -> Client {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, HeaderValue::from_str(value).expect("header value"));
    }
    let mut c = Client::new(server);
    c.http = reqwest::Client::builder()
        .default_headers(map)
        .build()
        .expect("client");
    c
}

async fn proxied_server(
    backend: &common::Backend,
    trusted: &str,
) -> (InProcess, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = InProcess::start(ServerOptions {
        data_dir: dir.path(),
        database_url: backend.database_url.as_deref(),
        env: vec![
            ("TAPEARR_AUTH__PROXY_HEADER", "Remote-User".into()),
            ("TAPEARR_AUTH__TRUSTED_PROXIES", trusted.into()),
        ],
    })
    .await;
    Client::admin(&server).await;
    (server, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_header_signs_in_only_from_a_trusted_proxy() {
    for backend in backends("account_proxy").await {
        let b = backend.name;
        // The test client connects from 127.0.0.1: here that is the trusted proxy.
        let (server, _dir) = proxied_server(&backend, "10.0.0.0/8, 127.0.0.1/32").await;
        let mut browser = with_headers(&server, &[("Remote-User", "Admin")]);
        let me: Me = browser.get_json("/api/v1/auth/me").await;
        assert_eq!(me.username.as_deref(), Some(ADMIN), "{b}");
        assert!(browser.session.is_some(), "{b}: a session cookie is set");
        // Writes follow the session model: without the CSRF token a cross-site form riding on
        // the proxy's own login is refused.
        let r = browser
            .post("/api/v1/apikeys", json!({"name": "from the proxy"}))
            .await;
        assert_eq!(
            (r.status, r.error().code),
            (StatusCode::FORBIDDEN, Code::CsrfFailed),
            "{b}"
        );
        browser.csrf = me.csrf_token;
        let r = browser
            .post("/api/v1/apikeys", json!({"name": "from the proxy"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
        let sessions: Vec<SessionView> = browser.get_json("/api/v1/account/sessions").await;
        assert_eq!(
            sessions.iter().filter(|s| s.current).count(),
            1,
            "{b}: the proxy session is reused, not one per request"
        );
        let before = sessions.len();
        let again: Vec<SessionView> = browser.get_json("/api/v1/account/sessions").await;
        assert_eq!(again.len(), before, "{b}");

        let r = with_headers(&server, &[("Remote-User", "mallory")])
            .get("/api/v1/auth/me")
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{b}: unknown users get nothing"
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_header_from_anyone_else_is_ignored_whatever_it_forwards() {
    for backend in backends("account_untrusted").await {
        let b = backend.name;
        // Only 10.0.0.0/8 is trusted: 127.0.0.1 is not, whatever forwarding headers say.
        let (server, _dir) = proxied_server(&backend, "10.0.0.0/8").await;
        for forged in [
            vec![("Remote-User", "admin")],
            vec![("Remote-User", "admin"), ("X-Forwarded-For", "10.0.0.5")],
            vec![("Remote-User", "admin"), ("X-Real-IP", "10.0.0.5")],
            vec![("Remote-User", "admin"), ("Forwarded", "for=10.0.0.5")],
        ] {
            let mut c = with_headers(&server, &forged);
            let r = c.get("/api/v1/auth/me").await;
            assert_eq!(
                (r.status, r.error().code),
                (StatusCode::UNAUTHORIZED, Code::Unauthorized),
                "{b}: {forged:?}"
            );
            assert!(c.session.is_none(), "{b}: no session for {forged:?}");
        }
        // The login form still works for an untrusted peer.
        let mut c = with_headers(&server, &[("Remote-User", "admin")]);
        assert_eq!(c.login(ADMIN, PASSWORD).await.status, StatusCode::OK, "{b}");
        assert_eq!(c.get("/api/v1/auth/me").await.status, StatusCode::OK, "{b}");
        server.stop().await;
    }
}
