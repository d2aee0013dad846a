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
use tapearr_core::mediaserver::model::MediaServer;
use tapearr_core::mediaserver::plex_signin::{PlexPin, PlexPinState, PlexPinStatus};
use tapearr_core::trailers::model::Connection;
use tapearr_testkit::media_servers::FakeMediaServer;
use tapearr_testkit::plex_tv::{FakePlexTv, PlexServerEntry};
use tapearr_testkit::sink::HttpSink;

const ACCOUNT_TOKEN: &str = "plex-account-token-5e1d9c";

/// A clear refusal: `status` with a `{code, message}` body.
fn refused(r: &Reply, status: StatusCode, what: &str) {
    assert_eq!(r.status, status, "{what}: {:?}", r.body);
    r.error();
}

fn media_server(url: &str, pin: Value) -> Value {
    json!({"name": "Attic", "kind": "plex", "url": url, "plex_pin_id": pin,
           "path_mappings": [{"local": "/library", "server": "/mnt"}]})
}

/// `body` with `field` set to `value` (a request made wrong on purpose).
fn with(mut body: Value, field: &str, value: Value) -> Value {
    body.as_object_mut()
        .expect("an object")
        .insert(field.to_string(), value);
    body
}

async fn media_servers(api: &mut Client) -> Vec<MediaServer> {
    api.get_json("/api/v1/media-servers").await
}

async fn trailer_sources(api: &mut Client) -> Vec<Connection> {
    api.get_json("/api/v1/trailers/connections").await
}

/// plex.tv with an account of two servers, the Plex Media Server it is signed in at, and the
/// account's other server, which must hear nothing.
struct PlexWorld {
    plex_tv: FakePlexTv,
    plex: FakeMediaServer,
    other: HttpSink,
}

impl PlexWorld {
    async fn start() -> PlexWorld {
        let plex_tv = FakePlexTv::start().await.expect("fake plex.tv");
        let plex = FakeMediaServer::plex(ACCOUNT_TOKEN, &[("1", "Movies", "/mnt/movies")])
            .await
            .expect("fake plex");
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
        PlexWorld {
            plex_tv,
            plex,
            other,
        }
    }
}

/// Starts a sign-in; plex.tv is asked once and the sign-in page is plex.tv's.
async fn start_pin(api: &mut Client, w: &PlexWorld, b: &str) -> PlexPin {
    let r = api.post("/api/v1/plex/pins", json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
    // The expiry is part of the answer (a `PlexPin` has one).
    let pin: PlexPin = r.json();
    assert_eq!(
        w.plex_tv.codes(),
        vec![pin.code.clone()],
        "{b}: asked plex.tv once"
    );
    let auth_url = &pin.auth_url;
    assert!(
        auth_url.starts_with("https://app.plex.test/auth#?clientID=tapearr-")
            && auth_url.contains(&format!("&code={}", pin.code))
            && auth_url.ends_with("context%5Bdevice%5D%5Bproduct%5D=Tapearr"),
        "{b}: {auth_url}"
    );
    pin
}

/// The pin's status, answered with 200; panics if the account token is in it.
async fn pin_status(api: &mut Client, pin: u64, b: &str) -> PlexPinStatus {
    let r = api.get(&format!("/api/v1/plex/pins/{pin}")).await;
    assert_eq!(r.status, StatusCode::OK, "{b}: {:?}", r.body);
    assert!(
        !r.body.to_string().contains(ACCOUNT_TOKEN),
        "{b}: the token reached the browser: {}",
        r.body
    );
    r.json()
}

/// Unknown pins, a pin the user has not approved, and bad uses of a finished pin: clear 4xx
/// answers that create nothing.
async fn unknown_pins_are_refused(api: &mut Client, w: &PlexWorld, b: &str) {
    refused(
        &api.get("/api/v1/plex/pins/424242").await,
        StatusCode::NOT_FOUND,
        &format!("{b}: an unknown pin"),
    );
    refused(
        &api.post(
            "/api/v1/media-servers",
            media_server(&w.plex.url(), json!(424242)),
        )
        .await,
        StatusCode::NOT_FOUND,
        &format!("{b}: a connection from an unknown pin"),
    );
}

async fn bad_uses_of_a_finished_pin_change_nothing(
    api: &mut Client,
    w: &PlexWorld,
    pin: u64,
    b: &str,
) {
    refused(
        &api.post(
            "/api/v1/media-servers",
            media_server("http://127.0.0.1:9", json!(pin)),
        )
        .await,
        StatusCode::BAD_REQUEST,
        &format!("{b}: an address that is not one of the account's servers"),
    );
    let jellyfin = with(
        media_server(&w.plex.url(), json!(pin)),
        "kind",
        json!("jellyfin"),
    );
    refused(
        &api.post("/api/v1/media-servers", jellyfin).await,
        StatusCode::BAD_REQUEST,
        &format!("{b}: a pin for a Jellyfin connection"),
    );
    let both = with(
        media_server(&w.plex.url(), json!(pin)),
        "token",
        json!("typed-token"),
    );
    refused(
        &api.post("/api/v1/media-servers", both).await,
        StatusCode::BAD_REQUEST,
        &format!("{b}: a token and a pin"),
    );
    assert_eq!(media_servers(api).await.len(), 0, "{b}");
}

/// A media-server connection and a trailer source from the pin: the token is sealed and
/// works; a pin for Radarr is refused.
async fn connections_from_the_pin(api: &mut Client, w: &PlexWorld, pin: u64, b: &str) {
    let r = api
        .post(
            "/api/v1/media-servers",
            media_server(&w.plex.url(), json!(pin)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
    let created: MediaServer = r.json();
    assert_eq!(created.token.expose(), "***", "{b}");
    let tested = api
        .post(
            &format!("/api/v1/media-servers/{}/test", created.id),
            json!({}),
        )
        .await;
    assert_eq!(tested.status, StatusCode::OK, "{b}: {:?}", tested.body);

    // The trailers' Plex source from the same sign-in (tested with the token first).
    let r = api
        .post(
            "/api/v1/trailers/connections",
            json!({"name": "Plex", "kind": "plex", "url": w.plex.url(), "plex_pin_id": pin}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
    assert_eq!(r.json::<Connection>().api_key.expose(), "***", "{b}");
    let radarr_pin = api
        .post(
            "/api/v1/trailers/connections",
            json!({"name": "R", "kind": "radarr", "url": w.plex.url(), "plex_pin_id": pin}),
        )
        .await;
    refused(
        &radarr_pin,
        StatusCode::BAD_REQUEST,
        &format!("{b}: a pin for Radarr"),
    );
    assert_eq!(trailer_sources(api).await.len(), 1, "{b}");
}

/// The token is in no answer, no log line and not in the database in plaintext; the other
/// server heard nothing.
async fn the_token_is_nowhere_to_be_seen(
    api: &mut Client,
    w: &PlexWorld,
    server: &InProcess,
    database_url: Option<&str>,
    b: &str,
) {
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
        w.other.received().is_empty(),
        "{b}: the unchosen server was called"
    );
    let stored = database_text(&server.data_dir, database_url).await;
    assert!(
        !stored.contains(ACCOUNT_TOKEN),
        "{b}: the token is in the database in plaintext"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plex_pin_sign_in_makes_connections_without_the_token_ever_leaving_the_server() {
    for backend in backends("plexpin").await {
        let b = backend.name;
        let w = PlexWorld::start().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![
                ("TAPEARR_PLEX__TV_URL", w.plex_tv.url()),
                ("TAPEARR_PLEX__APP_URL", "https://app.plex.test".into()),
            ],
        })
        .await;
        let (mut api, _) = Client::admin(&server).await;
        unknown_pins_are_refused(&mut api, &w, b).await;

        // A new pin, waiting for the user.
        let pin = start_pin(&mut api, &w, b).await;
        let status = pin_status(&mut api, pin.id, b).await;
        assert_eq!(status.state, PlexPinState::Waiting, "{b}: {status:?}");
        refused(
            &api.post(
                "/api/v1/media-servers",
                media_server(&w.plex.url(), json!(pin.id)),
            )
            .await,
            StatusCode::BAD_REQUEST,
            &format!("{b}: a connection before the user signed in"),
        );

        // The user approves the pin at plex.tv; the account's servers are listed, no token.
        assert!(w.plex_tv.sign_in(&pin.code, ACCOUNT_TOKEN), "{b}: sign in");
        let status = pin_status(&mut api, pin.id, b).await;
        assert_eq!(status.state, PlexPinState::SignedIn, "{b}: {status:?}");
        let names: Vec<&str> = status.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Attic", "Cellar"], "{b}: the player is left out");
        assert_eq!(
            status.servers[0].connections[0].uri,
            w.plex.url(),
            "{b}: local addresses first"
        );

        bad_uses_of_a_finished_pin_change_nothing(&mut api, &w, pin.id, b).await;
        connections_from_the_pin(&mut api, &w, pin.id, b).await;
        the_token_is_nowhere_to_be_seen(&mut api, &w, &server, backend.database_url.as_deref(), b)
            .await;

        // An expired pin is refused and creates nothing.
        w.plex_tv.set_pin_lifetime(Duration::ZERO);
        let r = api.post("/api/v1/plex/pins", json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{b}: {:?}", r.body);
        let expired = r.json::<PlexPin>().id;
        refused(
            &api.get(&format!("/api/v1/plex/pins/{expired}")).await,
            StatusCode::BAD_REQUEST,
            &format!("{b}: an expired pin"),
        );
        let r = api
            .post(
                "/api/v1/media-servers",
                media_server(&w.plex.url(), json!(expired)),
            )
            .await;
        assert!(r.status.is_client_error(), "{b}: {:?}", r.body);
        assert_eq!(media_servers(&mut api).await.len(), 1, "{b}");
    }
}
