//! Plex sign-in by PIN against a fake plex.tv and a fake Plex Media Server: the pin waits,
//! the user approves it on plex.tv, the account's servers are listed, and a media-server
//! connection and a trailer source are made from the pin with the token sealed (never in an
//! answer, the log or the database in plaintext, never sent anywhere but plex.tv and the chosen
//! server). Unknown, unfinished and expired pins are clear 4xx answers that create nothing.
//! On SQLite and PostgreSQL.

mod common;

use common::{Client, InProcess, Reply, ServerOptions, backends, database_text};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tapearr_testkit::media_servers::FakeMediaServer;
use tapearr_testkit::plex_tv::{FakePlexTv, PlexServerEntry};
use tapearr_testkit::sink::HttpSink;

const ACCOUNT_TOKEN: &str = "plex-account-token-5e1d9c";

fn refused(r: &Reply, status: StatusCode, what: &str) {
    assert_eq!(r.status, status, "{what}: {:?}", r.body);
    assert!(r.body["code"].is_string(), "{what}: {:?}", r.body);
    assert!(r.body["message"].is_string(), "{what}: {:?}", r.body);
}

fn media_server(url: &str, pin: Value) -> Value {
    json!({"name": "Attic", "kind": "plex", "url": url, "plex_pin_id": pin,
           "path_mappings": [{"local": "/library", "server": "/mnt"}]})
}

async fn count(api: &mut Client, path: &str) -> usize {
    let r = api.get(path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
    r.body.as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plex_pin_sign_in_makes_connections_without_the_token_ever_leaving_the_server() {
    for backend in backends("plexpin").await {
        let b = backend.name;
        let plex_tv = FakePlexTv::start().await.expect("fake plex.tv");
        let plex = FakeMediaServer::plex(ACCOUNT_TOKEN, &[("1", "Movies", "/mnt/movies")])
            .await
            .expect("fake plex");
        // The account's other server: listed by plex.tv, never chosen, so it must hear nothing.
        let other = HttpSink::start().await.expect("sink");
        plex_tv.set_servers(
            ACCOUNT_TOKEN,
            vec![
                PlexServerEntry {
                    name: "Attic".into(),
                    client_identifier: "srv-attic".into(),
                    connections: vec![
                        ("https://203-0-113-7.abc.plex.direct:32400".into(), false),
                        (plex.url(), true),
                    ],
                },
                PlexServerEntry {
                    name: "Cellar".into(),
                    client_identifier: "srv-cellar".into(),
                    connections: vec![(other.url(""), true)],
                },
            ],
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![
                ("TAPEARR_PLEX__TV_URL", plex_tv.url()),
                ("TAPEARR_PLEX__APP_URL", "https://app.plex.test".into()),
            ],
        })
        .await;
        let (mut api, _) = Client::admin(&server).await;

        // Unknown pins.
        refused(
            &api.get("/api/v1/plex/pins/424242").await,
            StatusCode::NOT_FOUND,
            &format!("{b}: an unknown pin"),
        );
        refused(
            &api.post(
                "/api/v1/media-servers",
                media_server(&plex.url(), json!(424242)),
            )
            .await,
            StatusCode::NOT_FOUND,
            &format!("{b}: a connection from an unknown pin"),
        );

        // A new pin, waiting for the user.
        let r = api.post("/api/v1/plex/pins", json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
        let pin = r.body["id"].as_u64().expect("pin id");
        let code = r.body["code"].as_str().expect("code").to_string();
        assert_eq!(
            plex_tv.codes(),
            vec![code.clone()],
            "{b}: asked plex.tv once"
        );
        let auth_url = r.body["auth_url"].as_str().expect("auth_url");
        assert!(
            auth_url.starts_with("https://app.plex.test/auth#?clientID=tapearr-")
                && auth_url.contains(&format!("&code={code}"))
                && auth_url.ends_with("context%5Bdevice%5D%5Bproduct%5D=Tapearr"),
            "{b}: {auth_url}"
        );
        assert!(r.body["expires_at"].as_i64().is_some(), "{b}: {:?}", r.body);
        let status = api.get(&format!("/api/v1/plex/pins/{pin}")).await;
        assert_eq!(status.status, StatusCode::OK, "{b}: {:?}", status.body);
        assert_eq!(status.body["state"], "waiting", "{b}: {:?}", status.body);
        refused(
            &api.post(
                "/api/v1/media-servers",
                media_server(&plex.url(), json!(pin)),
            )
            .await,
            StatusCode::BAD_REQUEST,
            &format!("{b}: a connection before the user signed in"),
        );

        // The user approves the pin at plex.tv; the account's servers are listed, no token.
        assert!(plex_tv.sign_in(&code, ACCOUNT_TOKEN), "{b}: sign in");
        let status = api.get(&format!("/api/v1/plex/pins/{pin}")).await;
        assert_eq!(status.status, StatusCode::OK, "{b}: {:?}", status.body);
        assert_eq!(status.body["state"], "signed_in", "{b}: {:?}", status.body);
        let names: Vec<&str> = status.body["servers"]
            .as_array()
            .expect("servers")
            .iter()
            .filter_map(|s| s["name"].as_str())
            .collect();
        assert_eq!(names, ["Attic", "Cellar"], "{b}: the player is left out");
        assert_eq!(
            status.body["servers"][0]["connections"][0]["uri"],
            plex.url(),
            "{b}: local addresses first"
        );
        assert!(
            !status.body.to_string().contains(ACCOUNT_TOKEN),
            "{b}: the token reached the browser: {}",
            status.body
        );

        // Bad uses of a finished pin change nothing.
        refused(
            &api.post(
                "/api/v1/media-servers",
                media_server("http://127.0.0.1:9", json!(pin)),
            )
            .await,
            StatusCode::BAD_REQUEST,
            &format!("{b}: an address that is not one of the account's servers"),
        );
        let mut jellyfin = media_server(&plex.url(), json!(pin));
        jellyfin["kind"] = json!("jellyfin");
        refused(
            &api.post("/api/v1/media-servers", jellyfin).await,
            StatusCode::BAD_REQUEST,
            &format!("{b}: a pin for a Jellyfin connection"),
        );
        let mut both = media_server(&plex.url(), json!(pin));
        both["token"] = json!("typed-token");
        refused(
            &api.post("/api/v1/media-servers", both).await,
            StatusCode::BAD_REQUEST,
            &format!("{b}: a token and a pin"),
        );
        assert_eq!(count(&mut api, "/api/v1/media-servers").await, 0, "{b}");

        // The media-server connection from the pin: the token is sealed and works.
        let r = api
            .post(
                "/api/v1/media-servers",
                media_server(&plex.url(), json!(pin)),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
        assert_eq!(r.body["token"], "***", "{b}");
        let id = r.body["id"].as_str().expect("id").to_string();
        let tested = api
            .post(&format!("/api/v1/media-servers/{id}/test"), json!({}))
            .await;
        assert_eq!(tested.status, StatusCode::OK, "{b}: {:?}", tested.body);

        // The trailers' Plex source from the same sign-in (tested with the token first).
        let r = api
            .post(
                "/api/v1/trailers/connections",
                json!({"name": "Plex", "kind": "plex", "url": plex.url(), "plex_pin_id": pin}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
        assert_eq!(r.body["api_key"], "***", "{b}");
        let radarr_pin = api
            .post(
                "/api/v1/trailers/connections",
                json!({"name": "R", "kind": "radarr", "url": plex.url(), "plex_pin_id": pin}),
            )
            .await;
        refused(
            &radarr_pin,
            StatusCode::BAD_REQUEST,
            &format!("{b}: a pin for Radarr"),
        );
        assert_eq!(
            count(&mut api, "/api/v1/trailers/connections").await,
            1,
            "{b}"
        );

        // The token is nowhere to be seen, and the other server heard nothing.
        for path in [
            "/api/v1/media-servers",
            "/api/v1/trailers/connections",
            "/api/v1/logs?level=trace&limit=2000",
        ] {
            let r = api.get(path).await;
            assert_eq!(r.status, StatusCode::OK, "{b}: {path}");
            assert!(
                !r.body.to_string().contains(ACCOUNT_TOKEN),
                "{b}: the token is in {path}"
            );
        }
        assert!(
            other.received().is_empty(),
            "{b}: the unchosen server was called"
        );
        let stored = database_text(dir.path(), backend.database_url.as_deref()).await;
        assert!(
            !stored.contains(ACCOUNT_TOKEN),
            "{b}: the token is in the database in plaintext"
        );

        // An expired pin is refused and creates nothing.
        plex_tv.set_pin_lifetime(Duration::ZERO);
        let r = api.post("/api/v1/plex/pins", json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
        let expired = r.body["id"].as_u64().expect("pin id");
        refused(
            &api.get(&format!("/api/v1/plex/pins/{expired}")).await,
            StatusCode::BAD_REQUEST,
            &format!("{b}: an expired pin"),
        );
        let r = api
            .post(
                "/api/v1/media-servers",
                media_server(&plex.url(), json!(expired)),
            )
            .await;
        assert!(r.status.is_client_error(), "{b}: {:?}", r.body);
        assert_eq!(count(&mut api, "/api/v1/media-servers").await, 1, "{b}");
    }
}
