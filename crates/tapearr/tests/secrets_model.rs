//! One model for every outside service that holds a secret (media servers Plex/Jellyfin/Emby,
//! notification channels Discord/ntfy/webhook/Web Push, Radarr/Sonarr/Plex trailer
//! connections): a redirect to another host is not followed with the secret, a kept `***` with
//! a URL on another host is refused (400 `{code, message}`), the database holds no plaintext
//! secret, and plaintext written by an older version is sealed on start-up without being lost.
//! On SQLite and PostgreSQL.

mod common;

use common::{Client, InProcess, ServerOptions, backends, database_text, redirector};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tapearr_testkit::media_servers::FakeMediaServer;
use tapearr_testkit::radarr::FakeRadarr;
use tapearr_testkit::sink::HttpSink;

const PLEX_TOKEN: &str = "ms-plex-secret-9f8e";
const JELLYFIN_KEY: &str = "ms-jellyfin-secret-7a6b";
const EMBY_KEY: &str = "ms-emby-secret-5c4d";
const DISCORD_PATH: &str = "/api/webhooks/42/discord-secret-3e2f";
const NTFY_TOKEN: &str = "ntfy-secret-1a0b";
const HOOK_SECRET: &str = "hook-secret-c9d8";
const LEGACY_NTFY: &str = "legacy-plain-ntfy-token";

fn channel(name: &str, config: Value) -> Value {
    json!({"name": name, "config": config, "event_types": ["job.failed"],
           "batch_secs": 0, "max_per_minute": 60})
}

async fn created(api: &mut Client, path: &str, body: Value, what: &str) -> String {
    let r = api.post(path, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{what}: {:?}", r.body);
    r.body["id"].as_str().expect("id").to_string()
}

/// A 400 with the API's `{code, message}` shape.
fn refused(r: &common::Reply, what: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {:?}", r.body);
    assert!(r.body["code"].is_string(), "{what}: {:?}", r.body);
    assert!(r.body["message"].is_string(), "{what}: {:?}", r.body);
}

/// Runs one statement against the stopped server's database (to plant what an older version
/// wrote).
async fn execute(data_dir: &std::path::Path, database_url: Option<&str>, sql: &str) {
    match database_url {
        None => {
            let url = format!("sqlite://{}", data_dir.join("tapearr.db").display());
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .expect("open SQLite");
            sqlx::query(sql).execute(&pool).await.expect(sql);
            pool.close().await;
        }
        Some(url) => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .expect("connect to PostgreSQL");
            sqlx::query(sql).execute(&pool).await.expect(sql);
            pool.close().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outside_service_keeps_its_secret_sealed_and_on_its_own_host() {
    for backend in backends("secrets").await {
        let b = backend.name;
        let db = backend.database_url.as_deref();
        // What a followed cross-host redirect would reach: it must never hear from Tapearr.
        let catcher = HttpSink::start().await.expect("catcher");
        let bounce = redirector(format!("http://localhost:{}", catcher.addr().port())).await;
        // Where a good channel delivers (proves the sealed secret still opens for sending).
        let good = HttpSink::start().await.expect("sink");
        let plex = FakeMediaServer::plex(PLEX_TOKEN, &[("1", "Movies", "/mnt/movies")])
            .await
            .expect("plex");
        let jellyfin = FakeMediaServer::jellyfin(JELLYFIN_KEY, false)
            .await
            .expect("jellyfin");
        let emby = FakeMediaServer::jellyfin(EMBY_KEY, true)
            .await
            .expect("emby");
        let radarr = FakeRadarr::start().await.expect("radarr");

        let dir = tempfile::tempdir().expect("tempdir");
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: db,
            env: vec![],
        })
        .await;
        let (mut api, key) = Client::admin(&server).await;

        // --- Media servers: Plex, Jellyfin, Emby.
        let mut plex_id = String::new();
        for (kind, fake, token) in [
            ("plex", &plex, PLEX_TOKEN),
            ("jellyfin", &jellyfin, JELLYFIN_KEY),
            ("emby", &emby, EMBY_KEY),
        ] {
            let body = |url: String, token: &str| json!({"name": kind, "kind": kind, "url": url, "token": token});
            let id = created(
                &mut api,
                "/api/v1/media-servers",
                body(fake.url(), token),
                kind,
            )
            .await;
            if kind == "plex" {
                plex_id = id.clone();
            }
            let r = api.get("/api/v1/media-servers").await;
            let listed = r.body.as_array().cloned().unwrap_or_default();
            assert!(
                !listed.is_empty() && listed.iter().all(|s| s["token"] == "***"),
                "{b} {kind}: write-only: {listed:?}"
            );
            // The sealed token still opens for its own server.
            let r = api
                .post(&format!("/api/v1/media-servers/{id}/test"), json!({}))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{b} {kind}: {:?}", r.body);
            // Kept `***` with a URL on another host: refused, nothing sent there.
            let moved = fake.url().replace("127.0.0.1", "localhost");
            let r = api
                .send(
                    Method::PUT,
                    &format!("/api/v1/media-servers/{id}"),
                    Some(body(moved, "***")),
                )
                .await;
            refused(&r, &format!("{b} {kind}: *** to another host"));
            // Kept `***` on the same URL: fine.
            let r = api
                .send(
                    Method::PUT,
                    &format!("/api/v1/media-servers/{id}"),
                    Some(body(fake.url(), "***")),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{b} {kind}: {:?}", r.body);
            let r = api
                .post(&format!("/api/v1/media-servers/{id}/test"), json!({}))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{b} {kind} kept: {:?}", r.body);
            // Behind a redirect to another host: not followed.
            let id = created(
                &mut api,
                "/api/v1/media-servers",
                body(bounce.clone(), token),
                kind,
            )
            .await;
            let r = api
                .post(&format!("/api/v1/media-servers/{id}/test"), json!({}))
                .await;
            assert!(!r.status.is_success(), "{b} {kind}: {:?}", r.body);
            let message = r.body["message"].as_str().unwrap_or_default();
            assert!(message.contains("redirects to localhost"), "{b}: {message}");
            assert!(!message.contains(token), "{b}: {message}");
        }

        // --- Notification channels: Discord, ntfy, webhook (each through the redirect).
        for (name, config) in [
            (
                "discord",
                json!({"kind": "discord", "webhook_url": format!("{bounce}{DISCORD_PATH}")}),
            ),
            (
                "ntfy",
                json!({"kind": "ntfy", "server": bounce, "topic": "t", "token": NTFY_TOKEN}),
            ),
            (
                "webhook",
                json!({"kind": "webhook", "url": format!("{bounce}/hook"), "secret": HOOK_SECRET}),
            ),
        ] {
            let id = created(
                &mut api,
                "/api/v1/notifications/channels",
                channel(name, config),
                name,
            )
            .await;
            let r = api
                .post(
                    &format!("/api/v1/notifications/channels/{id}/test"),
                    json!({}),
                )
                .await;
            assert!(!r.status.is_success(), "{b} {name}: {:?}", r.body);
            let message = r.body["message"].as_str().unwrap_or_default();
            assert!(message.contains("redirects to localhost"), "{b}: {message}");
        }
        // ntfy and webhook delivered directly: the sealed secret opens for its own host.
        let ntfy = created(
            &mut api,
            "/api/v1/notifications/channels",
            channel(
                "ntfy ok",
                json!({"kind": "ntfy", "server": good.url(""), "topic": "t", "token": NTFY_TOKEN}),
            ),
            "ntfy ok",
        )
        .await;
        let hook = created(
            &mut api,
            "/api/v1/notifications/channels",
            channel(
                "hook ok",
                json!({"kind": "webhook", "url": good.url("/hook"), "secret": HOOK_SECRET}),
            ),
            "hook ok",
        )
        .await;
        for id in [&ntfy, &hook] {
            let r = api
                .post(
                    &format!("/api/v1/notifications/channels/{id}/test"),
                    json!({}),
                )
                .await;
            assert!(r.status.is_success(), "{b}: {:?}", r.body);
        }
        let got = good.received();
        assert!(
            got.iter().any(|r| r.header("authorization")
                == Some(format!("Bearer {NTFY_TOKEN}").as_str())),
            "{b}: ntfy got its token"
        );
        assert!(
            got.iter()
                .any(|r| r.path.starts_with("/hook") && r.header("x-tapearr-signature").is_some()),
            "{b}: the webhook was signed"
        );
        // Kept `***` with the address on another host: refused for both.
        let moved = good.url("").replace("127.0.0.1", "localhost");
        for (id, config) in [
            (
                &ntfy,
                json!({"kind": "ntfy", "server": moved, "topic": "t", "token": "***"}),
            ),
            (
                &hook,
                json!({"kind": "webhook", "url": format!("{moved}/hook"), "secret": "***"}),
            ),
        ] {
            let r = api
                .send(
                    Method::PUT,
                    &format!("/api/v1/notifications/channels/{id}"),
                    Some(channel("moved", config)),
                )
                .await;
            refused(&r, &format!("{b}: channel *** to another host"));
        }
        // Web Push: the VAPID private key is created sealed; a push endpoint behind a redirect
        // to another host does not get the VAPID-signed request.
        let r = api.get("/api/v1/notifications/webpush").await;
        assert_eq!(r.status, StatusCode::OK, "{b}: {:?}", r.body);
        let browser = web_push_browser();
        let r = api
            .post(
                "/api/v1/notifications/webpush/subscriptions",
                browser_subscription(&browser, &format!("{bounce}/push/1")),
            )
            .await;
        assert!(r.status.is_success(), "{b}: {:?}", r.body);
        let push = created(
            &mut api,
            "/api/v1/notifications/channels",
            channel("push", json!({"kind": "web_push"})),
            "push",
        )
        .await;
        let r = api
            .post(
                &format!("/api/v1/notifications/channels/{push}/test"),
                json!({}),
            )
            .await;
        assert!(!r.status.is_success(), "{b} web push: {:?}", r.body);

        // --- Trailer connections (Radarr): the same rules.
        let conn = |url: String, key: &str| json!({"name": "Radarr", "kind": "radarr", "url": url, "api_key": key});
        let id = created(
            &mut api,
            "/api/v1/trailers/connections",
            conn(radarr.url(), radarr.api_key()),
            "radarr",
        )
        .await;
        let r = api
            .send(
                Method::PUT,
                &format!("/api/v1/trailers/connections/{id}"),
                Some(conn(radarr.url().replace("127.0.0.1", "localhost"), "***")),
            )
            .await;
        refused(&r, &format!("{b}: radarr *** to another host"));
        let r = api
            .post(
                "/api/v1/trailers/connections/test",
                conn(bounce.clone(), radarr.api_key()),
            )
            .await;
        assert!(!r.status.is_success(), "{b} radarr: {:?}", r.body);

        // Nothing ever reached the other host.
        assert!(
            catcher.received().is_empty(),
            "{b}: a secret followed a redirect to another host: {:?}",
            catcher
                .received()
                .iter()
                .map(|r| r.path.clone())
                .collect::<Vec<_>>()
        );
        // No plaintext secret in the database.
        let text = database_text(dir.path(), db).await;
        for secret in [
            PLEX_TOKEN,
            JELLYFIN_KEY,
            EMBY_KEY,
            "discord-secret-3e2f",
            NTFY_TOKEN,
            HOOK_SECRET,
            radarr.api_key(),
        ] {
            assert!(
                !text.contains(secret),
                "{b}: `{secret}` is stored in plaintext"
            );
        }
        if db.is_some() {
            let vapid = text
                .lines()
                .find(|l| l.contains("webpush.vapid_private_key"))
                .expect("the VAPID key row");
            assert!(
                vapid.contains("enc:v1:"),
                "{b}: VAPID key not sealed: {vapid}"
            );
        }

        // --- An older version's plaintext is sealed on start-up and still works.
        server.stop().await;
        execute(
            dir.path(),
            db,
            &format!("UPDATE media_servers SET token = '{PLEX_TOKEN}' WHERE id = '{plex_id}'"),
        )
        .await;
        let legacy = json!({"kind": "ntfy", "server": good.url(""), "topic": "t",
                            "token": LEGACY_NTFY})
        .to_string();
        execute(
            dir.path(),
            db,
            &format!("UPDATE notification_channels SET config = '{legacy}' WHERE id = '{ntfy}'"),
        )
        .await;
        let vapid = web_push_browser();
        let vapid_plain = {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(vapid.to_bytes())
        };
        execute(
            dir.path(),
            db,
            &format!(
                "UPDATE app_state SET value = '{vapid_plain}' WHERE name = 'webpush.vapid_private_key'"
            ),
        )
        .await;
        let planted = database_text(dir.path(), db).await;
        assert!(
            planted.contains(LEGACY_NTFY),
            "{b}: the plaintext was planted"
        );
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: db,
            env: vec![],
        })
        .await;
        let mut api = Client::with_key(&server, &key);
        let r = api
            .post(&format!("/api/v1/media-servers/{plex_id}/test"), json!({}))
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{b}: legacy token kept: {:?}",
            r.body
        );
        let r = api
            .post(
                &format!("/api/v1/notifications/channels/{ntfy}/test"),
                json!({}),
            )
            .await;
        assert!(r.status.is_success(), "{b}: {:?}", r.body);
        assert!(
            good.received().iter().any(
                |r| r.header("authorization") == Some(format!("Bearer {LEGACY_NTFY}").as_str())
            ),
            "{b}: the legacy ntfy token was kept"
        );
        let r = api.get("/api/v1/notifications/webpush").await;
        let public = {
            use base64::Engine;
            use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(vapid.public_key().to_encoded_point(false).as_bytes())
        };
        assert_eq!(
            r.body["public_key"],
            public.as_str(),
            "{b}: the legacy VAPID key was kept"
        );
        let text = database_text(dir.path(), db).await;
        for secret in [PLEX_TOKEN, LEGACY_NTFY, vapid_plain.as_str()] {
            assert!(!text.contains(secret), "{b}: `{secret}` left in plaintext");
        }
        server.stop().await;
    }
}

fn web_push_browser() -> web_push_native::p256::SecretKey {
    use rand::RngCore;
    let mut scalar = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut scalar);
    web_push_native::p256::SecretKey::from_slice(&scalar).expect("scalar")
}

fn browser_subscription(secret: &web_push_native::p256::SecretKey, endpoint: &str) -> Value {
    use base64::Engine;
    use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    json!({
        "endpoint": endpoint,
        "keys": {
            "p256dh": b64.encode(secret.public_key().to_encoded_point(false).as_bytes()),
            "auth": b64.encode([7u8; 16]),
        }
    })
}
