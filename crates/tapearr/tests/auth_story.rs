//! The admin's first hour, on SQLite and (with TAPEARR_TEST_PG_URL) PostgreSQL.

mod common;

use common::{ADMIN, Client, PASSWORD, Server, ServerOptions, backends};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn setup_login_api_key_revoke_and_lockout() {
    for backend in backends("auth").await {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![("TAPEARR_AUTH__LOCKOUT_ATTEMPTS", "3".into())],
        });
        let b = backend.name;
        let mut browser = Client::new(&server);

        // Before setup every guarded route says so; login too.
        let r = browser.get("/api/v1/jobs").await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::CONFLICT, Some("setup_required")),
            "{b}"
        );
        let r = browser.login(ADMIN, PASSWORD).await;
        assert_eq!(r.body["code"], "setup_required", "{b}");
        assert_eq!(
            browser.get("/api/v1/setup").await.body["setup_required"],
            true
        );

        // Bad input changes nothing.
        let r = browser
            .post(
                "/api/v1/setup",
                json!({"username": ADMIN, "password": "short"}),
            )
            .await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_request")),
            "{b}"
        );
        let r = browser.post("/api/v1/setup", json!({"user": ADMIN})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{b}: {:?}", r.body);
        assert_eq!(
            browser.get("/api/v1/setup").await.body["setup_required"],
            true,
            "{b}"
        );

        let r = browser
            .post(
                "/api/v1/setup",
                json!({"username": ADMIN, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
        let r = browser
            .post(
                "/api/v1/setup",
                json!({"username": "other", "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::CONFLICT, Some("already_set_up")),
            "{b}"
        );

        // Now unauthenticated calls are 401, and a login gives a session.
        assert_eq!(
            browser.get("/api/v1/jobs").await.status,
            StatusCode::UNAUTHORIZED,
            "{b}"
        );
        let r = browser.login(ADMIN, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{b}: {:?}", r.body);
        assert_eq!(
            browser.get("/api/v1/auth/me").await.body["username"],
            ADMIN,
            "{b}"
        );

        // A cookie write without the CSRF header is refused.
        let csrf = browser.csrf.take();
        let r = browser.post("/api/v1/apikeys", json!({"name": "ci"})).await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("csrf_failed")),
            "{b}"
        );
        browser.csrf = csrf;

        let r = browser.post("/api/v1/apikeys", json!({"name": "ci"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
        let key = r.body["secret"]
            .as_str()
            .expect("secret shown once")
            .to_string();
        let key_id = r.body["key"]["id"].as_str().expect("id").to_string();
        let listed = browser.get("/api/v1/apikeys").await.body;
        assert_eq!(listed[0]["name"], "ci", "{b}");
        assert!(
            listed[0].get("secret").is_none() && listed[0].get("key_hash").is_none(),
            "{b}: {listed}"
        );

        // The key works on a protected endpoint (header and bearer), then is revoked → 401.
        let mut script = Client::with_key(&server, &key);
        assert_eq!(
            script.get("/api/v1/tasks").await.status,
            StatusCode::OK,
            "{b}"
        );
        let bearer = script
            .http
            .get(server.url("/api/v1/auth/me"))
            .bearer_auth(&key)
            .send()
            .await
            .expect("request");
        assert_eq!(bearer.status(), StatusCode::OK, "{b}");
        assert!(
            browser.get("/api/v1/apikeys").await.body[0]["last_used_at"].is_number(),
            "{b}: last use recorded"
        );
        let r = browser.delete(&format!("/api/v1/apikeys/{key_id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{b}: {:?}", r.body);
        let r = script.get("/api/v1/tasks").await;
        assert_eq!(
            (r.status, r.body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized")),
            "{b}"
        );
        assert_eq!(
            browser
                .delete(&format!("/api/v1/apikeys/{key_id}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        // Logout ends the session.
        assert_eq!(
            browser.post("/api/v1/auth/logout", json!({})).await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            browser.get("/api/v1/auth/me").await.status,
            StatusCode::UNAUTHORIZED,
            "{b}"
        );

        // Repeated wrong passwords lock the account, even against the right password.
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
            (r.status, r.body["code"].as_str()),
            (StatusCode::TOO_MANY_REQUESTS, Some("locked_out")),
            "{b}"
        );

        // Sessions survive a restart: log in with the CLI-reset password after the lock is cleared.
        let status = server.terminate();
        assert!(
            status.success(),
            "{b}: graceful shutdown exits 0, got {status:?}"
        );
    }
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    for backend in backends("restart").await {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = || ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![],
        };
        let server = Server::start(opts());
        let mut browser = Client::new(&server);
        browser.bootstrap().await;
        let session = browser.session.clone();
        assert!(server.terminate().success());

        let server = Server::start(opts());
        let mut again = Client::new(&server);
        again.session = session;
        let r = again.get("/api/v1/auth/me").await;
        assert_eq!(r.status, StatusCode::OK, "{}: {:?}", backend.name, r.body);
    }
}
