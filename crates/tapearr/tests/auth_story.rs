//! The admin's first hour, on SQLite and (with TAPEARR_TEST_PG_URL) PostgreSQL, in-process.

mod common;

use common::{ADMIN, Client, InProcess, PASSWORD, ServerOptions, backends};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tapearr_api::error::Code;
use tapearr_api::routes::apikeys::{CreateApiKey, CreatedApiKey};
use tapearr_api::routes::session::Me;
use tapearr_api::routes::setup::{SetupRequest, SetupStatus};
use tapearr_core::auth::model::ApiKey;

fn setup(username: &str, password: &str) -> SetupRequest {
    SetupRequest {
        username: username.into(),
        password: password.into(),
        setup_token: None,
    }
}

async fn setup_required(browser: &mut Client) -> bool {
    browser
        .get_json::<SetupStatus>("/api/v1/setup")
        .await
        .setup_required
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_login_api_key_revoke_and_lockout() {
    for backend in backends("auth").await {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![("TAPEARR_AUTH__LOCKOUT_ATTEMPTS", "3".into())],
        })
        .await;
        let b = backend.name;
        let mut browser = Client::new(&server);

        before_setup_everything_says_so(&mut browser, b).await;
        set_up_once(&mut browser, b).await;
        log_in(&mut browser, b).await;
        let (key, key_id) = create_a_key_with_csrf(&mut browser, b).await;
        use_then_revoke_the_key(&server, &mut browser, &key, &key_id, b).await;
        log_out(&mut browser, b).await;
        wrong_passwords_lock_the_account(&mut browser, b).await;
        server.stop().await;
    }
}

/// Before setup every guarded route says so; login too. Bad input changes nothing.
async fn before_setup_everything_says_so(browser: &mut Client, b: &str) {
    let r = browser.get("/api/v1/jobs").await;
    assert_eq!(
        (r.status, r.error().code),
        (StatusCode::CONFLICT, Code::SetupRequired),
        "{b}"
    );
    let r = browser.login(ADMIN, PASSWORD).await;
    assert_eq!(r.error().code, Code::SetupRequired, "{b}");
    assert!(setup_required(browser).await, "{b}");

    let r = browser
        .send_typed(Method::POST, "/api/v1/setup", &setup(ADMIN, "short"))
        .await;
    assert_eq!(
        (r.status, r.error().code),
        (StatusCode::BAD_REQUEST, Code::InvalidRequest),
        "{b}"
    );
    let r = browser.post("/api/v1/setup", json!({"user": ADMIN})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{b}: {:?}", r.body);
    assert!(setup_required(browser).await, "{b}");
}

async fn set_up_once(browser: &mut Client, b: &str) {
    let r = browser
        .send_typed(Method::POST, "/api/v1/setup", &setup(ADMIN, PASSWORD))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
    let r = browser
        .send_typed(Method::POST, "/api/v1/setup", &setup("other", PASSWORD))
        .await;
    assert_eq!(
        (r.status, r.error().code),
        (StatusCode::CONFLICT, Code::AlreadySetUp),
        "{b}"
    );
}

/// Now unauthenticated calls are 401, and a login gives a session.
async fn log_in(browser: &mut Client, b: &str) {
    assert_eq!(
        browser.get("/api/v1/jobs").await.status,
        StatusCode::UNAUTHORIZED,
        "{b}"
    );
    let r = browser.login(ADMIN, PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{b}: {:?}", r.body);
    let me: Me = browser.get_json("/api/v1/auth/me").await;
    assert_eq!(me.username.as_deref(), Some(ADMIN), "{b}");
}

/// A cookie write without the CSRF header is refused; with it the key is created and shown
/// once. Returns the key and its id.
async fn create_a_key_with_csrf(browser: &mut Client, b: &str) -> (String, String) {
    let ci = CreateApiKey { name: "ci".into() };
    let csrf = browser.csrf.take();
    let r = browser
        .send_typed(Method::POST, "/api/v1/apikeys", &ci)
        .await;
    assert_eq!(
        (r.status, r.error().code),
        (StatusCode::FORBIDDEN, Code::CsrfFailed),
        "{b}"
    );
    browser.csrf = csrf;

    let r = browser
        .send_typed(Method::POST, "/api/v1/apikeys", &ci)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
    let created: CreatedApiKey = r.json();
    let listed = browser.get("/api/v1/apikeys").await.body;
    assert_eq!(listed[0]["name"], "ci", "{b}");
    assert!(
        listed[0].get("secret").is_none() && listed[0].get("key_hash").is_none(),
        "{b}: {listed}"
    );
    (created.secret, created.key.id)
}

/// The key works on a protected endpoint (header and bearer), then is revoked → 401.
async fn use_then_revoke_the_key(
    server: &InProcess,
    browser: &mut Client,
    key: &str,
    key_id: &str,
    b: &str,
) {
    let mut script = Client::with_key(server, key);
    assert_eq!(
        script.get("/api/v1/tasks").await.status,
        StatusCode::OK,
        "{b}"
    );
    let bearer = script
        .http
        .get(server.url("/api/v1/auth/me"))
        .bearer_auth(key)
        .send()
        .await
        .expect("request");
    assert_eq!(bearer.status(), StatusCode::OK, "{b}");
    let keys: Vec<ApiKey> = browser.get_json("/api/v1/apikeys").await;
    assert!(keys[0].last_used_at.is_some(), "{b}: last use recorded");
    let r = browser.delete(&format!("/api/v1/apikeys/{key_id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{b}: {:?}", r.body);
    let r = script.get("/api/v1/tasks").await;
    assert_eq!(
        (r.status, r.error().code),
        (StatusCode::UNAUTHORIZED, Code::Unauthorized),
        "{b}"
    );
    assert_eq!(
        browser
            .delete(&format!("/api/v1/apikeys/{key_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn log_out(browser: &mut Client, b: &str) {
    assert_eq!(
        browser.post("/api/v1/auth/logout", json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        browser.get("/api/v1/auth/me").await.status,
        StatusCode::UNAUTHORIZED,
        "{b}"
    );
}

/// Repeated wrong passwords lock the account, even against the right password.
async fn wrong_passwords_lock_the_account(browser: &mut Client, b: &str) {
    for _ in 0..3 {
        let r = browser.login(ADMIN, "wrong password").await;
        assert!(
            matches!(
                r.status,
                StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
            ),
            "{b}: {:?}",
            r.body
        );
    }
    let r = browser.login(ADMIN, PASSWORD).await;
    assert_eq!(
        (r.status, r.error().code),
        (StatusCode::TOO_MANY_REQUESTS, Code::LockedOut),
        "{b}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_restart() {
    for backend in backends("restart").await {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = || ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![],
        };
        let server = InProcess::start(opts()).await;
        let mut browser = Client::new(&server);
        browser.bootstrap().await;
        let session = browser.session.clone();
        server.stop().await;

        let server = InProcess::start(opts()).await;
        let mut again = Client::new(&server);
        again.session = session;
        let r = again.get("/api/v1/auth/me").await;
        assert_eq!(r.status, StatusCode::OK, "{}: {:?}", backend.name, r.body);
        server.stop().await;
    }
}
