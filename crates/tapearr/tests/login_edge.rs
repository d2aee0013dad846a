//! The login edge under attack, on SQLite and (with TAPEARR_TEST_PG_URL) PostgreSQL: parallel
//! wrong passwords, parallel first-run setups, a login flood, oversized input and slow clients.

mod common;

use common::{
    ADMIN, Client, InProcess, PASSWORD, Running, Server, ServerOptions, backends, eventually,
    twitch_world,
};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tapearr_api::error::Code;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `n` logins at once (`name(i)`, `password`); the status and `code` of each.
async fn parallel_logins(
    server: &impl Running,
    n: usize,
    name: impl Fn(usize) -> String,
    password: &str,
) -> Vec<(StatusCode, String, Option<String>)> {
    let http = reqwest::Client::new();
    let mut sent = Vec::new();
    for i in 0..n {
        let req = http
            .post(format!("{}/api/v1/auth/login", server.base()))
            .json(&json!({"username": name(i), "password": password}));
        sent.push(tokio::spawn(async move {
            let resp = req.send().await.expect("login request");
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(String::from);
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            let code = body["code"].as_str().unwrap_or_default().to_string();
            (status, code, retry_after)
        }));
    }
    let mut out = Vec::new();
    for s in sent {
        out.push(s.await.expect("join"));
    }
    out
}

fn tally(replies: &[(StatusCode, String, Option<String>)]) -> BTreeMap<String, usize> {
    let mut t = BTreeMap::new();
    for (status, code, _) in replies {
        *t.entry(format!("{} {code}", status.as_u16())).or_default() += 1;
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_wrong_passwords_lock_like_five_sequential_ones() {
    for backend in backends("lockpar").await {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            // However slow this machine hashes, nobody is turned away busy here.
            env: vec![("TAPEARR_AUTH__HASH_WAIT_MS", "60000".into())],
        })
        .await;
        let b = backend.name;
        let (mut admin, _) = Client::admin(&server).await;

        let started = Instant::now();
        let replies = parallel_logins(&server, 40, |_| ADMIN.into(), "wrong password").await;
        let took = started.elapsed();
        let t = tally(&replies);
        // Each attempt is counted before its password is checked: 5 checks (the default
        // lockout_attempts), the other 35 refused without one.
        assert_eq!(t.get("401 invalid_credentials"), Some(&5), "{b}: {t:?}");
        assert_eq!(t.get("429 locked_out"), Some(&35), "{b}: {t:?}");
        assert!(
            replies.iter().filter(|r| r.1 == "locked_out").all(|r| r
                .2
                .as_deref()
                .and_then(|s| s.parse::<u64>().ok())
                > Some(0)),
            "{b}: a lock says when to come back"
        );
        let r = Client::new(&server).login(ADMIN, PASSWORD).await;
        assert_eq!(
            (r.status, r.error().code),
            (StatusCode::TOO_MANY_REQUESTS, Code::LockedOut),
            "{b}: the right password is refused while locked"
        );
        let events = eventually(Duration::from_secs(10), "the lock event", || {
            let mut admin = admin.clone();
            async move {
                let r = admin.get("/api/v1/events?type=auth.locked_out").await;
                let n = r.body.as_array().map_or(0, Vec::len);
                (n > 0).then_some(n)
            }
        })
        .await;
        assert_eq!(events, 1, "{b}: one lock, one event");
        assert_eq!(
            admin.get("/api/v1/auth/me").await.status,
            StatusCode::OK,
            "{b}: the API key still works"
        );
        eprintln!("{b}: 40 parallel wrong passwords answered in {took:?}: {t:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_parallel_setups_make_one_admin() {
    for backend in backends("setuppar").await {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            // However slow this machine hashes, nobody is turned away busy here.
            env: vec![("TAPEARR_AUTH__HASH_WAIT_MS", "60000".into())],
        })
        .await;
        let b = backend.name;
        let http = reqwest::Client::new();
        let mut sent = Vec::new();
        for i in 0..10 {
            let req = http
                .post(server.url("/api/v1/setup"))
                .json(&json!({"username": format!("admin{i}"), "password": PASSWORD}));
            sent.push(tokio::spawn(async move {
                let resp = req.send().await.expect("setup request");
                let status = resp.status();
                let body: serde_json::Value = resp.json().await.unwrap_or_default();
                (i, status, body)
            }));
        }
        let mut winners = Vec::new();
        for s in sent {
            let (i, status, body) = s.await.expect("join");
            match status {
                StatusCode::CREATED => winners.push(i),
                StatusCode::CONFLICT => assert_eq!(body["code"], "already_set_up", "{b}"),
                other => panic!("{b}: setup {i} answered {other}: {body}"),
            }
        }
        assert_eq!(winners.len(), 1, "{b}: exactly one admin, got {winners:?}");
        for i in 0..10 {
            let r = Client::new(&server)
                .login(&format!("admin{i}"), PASSWORD)
                .await;
            let want = if winners.contains(&i) {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            assert_eq!(r.status, want, "{b}: admin{i}: {:?}", r.body);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_is_answered_busy_while_the_server_keeps_serving() {
    for backend in backends("flood").await {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = InProcess::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            // A short wait makes "more than the gate can check" certain on any machine.
            env: vec![("TAPEARR_AUTH__HASH_WAIT_MS", "200".into())],
        })
        .await;
        let b = backend.name;
        Client::admin(&server).await;

        let base = server.base.clone();
        let readyz = tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut worst = Duration::ZERO;
            for _ in 0..20 {
                let started = Instant::now();
                let r = http.get(format!("{base}/readyz")).send().await;
                assert_eq!(r.expect("readyz").status(), StatusCode::OK);
                worst = worst.max(started.elapsed());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            worst
        });
        let started = Instant::now();
        // Names nobody has: each needs a full Argon2 check, none is locked.
        let replies =
            parallel_logins(&server, 200, |i| format!("flood{i}"), "wrong password").await;
        let took = started.elapsed();
        let worst_readyz = readyz.await.expect("join");
        let t = tally(&replies);
        let busy = t.get("429 busy").copied().unwrap_or_default();
        let checked = t
            .get("401 invalid_credentials")
            .copied()
            .unwrap_or_default();
        assert_eq!(busy + checked, 200, "{b}: only 401 or 429 busy: {t:?}");
        assert!(busy > 0, "{b}: the gate turned some away: {t:?}");
        assert!(
            replies.iter().filter(|r| r.1 == "busy").all(|r| r
                .2
                .as_deref()
                .and_then(|s| s.parse::<u64>().ok())
                > Some(0)),
            "{b}: busy says when to come back"
        );
        assert!(
            worst_readyz < Duration::from_secs(1),
            "{b}: /readyz took {worst_readyz:?} during the flood"
        );
        // The flood over, a login is checked again.
        let r = Client::new(&server).login(ADMIN, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{b}: {:?}", r.body);
        eprintln!(
            "{b}: 200 parallel logins in {took:?}: {t:?}; slowest /readyz meanwhile {worst_readyz:?}"
        );
    }
}

#[tokio::test]
async fn oversized_names_and_passwords_are_refused_before_anything_is_stored() {
    for backend in backends("bounds").await {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = Server::start(ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![("TAPEARR_AUTH__LOCKOUT_ATTEMPTS", "2".into())],
        });
        let b = backend.name;
        let mut c = Client::new(&server);
        let huge = "a".repeat(900_000);
        for (name, password) in [
            (huge.as_str(), PASSWORD.to_string()),
            (&"a".repeat(65), PASSWORD.to_string()),
            ("a b", PASSWORD.to_string()),
            (ADMIN, "x".repeat(1025)),
        ] {
            let r = c
                .post(
                    "/api/v1/setup",
                    json!({"username": name, "password": password}),
                )
                .await;
            assert_eq!(
                (r.status, r.error().code),
                (StatusCode::BAD_REQUEST, Code::InvalidRequest),
                "{b}: setup"
            );
        }
        assert_eq!(c.get("/api/v1/setup").await.body["setup_required"], true);
        Client::admin(&server).await;
        // Refused at login as often as anyone likes: nothing is counted, so nothing locks.
        for _ in 0..3 {
            for (name, password) in [
                (huge.as_str(), "wrong password".to_string()),
                (ADMIN, "x".repeat(1025)),
                (ADMIN, String::new()),
            ] {
                let r = c.login(name, &password).await;
                assert_eq!(
                    (r.status, r.error().code),
                    (StatusCode::BAD_REQUEST, Code::InvalidRequest),
                    "{b}: login"
                );
            }
        }
        assert_eq!(c.login(ADMIN, PASSWORD).await.status, StatusCode::OK, "{b}");
        assert!(
            !server.output_text().contains(&huge[..1000]),
            "{b}: the oversized name is not logged"
        );
    }
}

/// Opens a connection and sends the first half of a request head, then nothing.
async fn stalled(server: &impl Running) -> TcpStream {
    let addr = server.base().trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: tapearr\r\nX-Half: ")
        .await
        .expect("write half a head");
    s
}

/// Waits for the server to close `s`; how long that took.
async fn closed_after(mut s: TcpStream) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("the connection is still open after 10 s"),
        }
    }
}

async fn healthz_in(server: &impl Running) -> Duration {
    let started = Instant::now();
    let r = reqwest::Client::new()
        .get(format!("{}/healthz", server.base()))
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), StatusCode::OK);
    started.elapsed()
}

/// The listener does not depend on the database: SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_cut_off_and_do_not_block_others() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = InProcess::start(ServerOptions {
        data_dir: dir.path(),
        database_url: None,
        env: vec![
            ("TAPEARR_HTTP__HEADER_TIMEOUT_SECS", "1".into()),
            ("TAPEARR_HTTP__MAX_CONNECTIONS", "64".into()),
        ],
    })
    .await;

    // Half a request head, then silence: closed once the header timeout is over.
    let took = closed_after(stalled(&server).await).await;
    assert!(
        (Duration::from_millis(900)..Duration::from_secs(3)).contains(&took),
        "a stalled request was closed after {took:?}"
    );

    // An idle keep-alive connection is closed after the same timeout.
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut idle = TcpStream::connect(&addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: tapearr\r\n\r\n")
        .await
        .expect("write");
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).await.expect("response");
    assert_eq!(&head, b"HTTP/1.1 200");
    let took = closed_after(idle).await;
    assert!(took < Duration::from_secs(3), "idle for {took:?}");

    // Many stalled sockets (under the cap) do not delay a normal request.
    let mut held = Vec::new();
    for _ in 0..50 {
        held.push(stalled(&server).await);
    }
    let took = healthz_in(&server).await;
    assert!(
        took < Duration::from_millis(500),
        "with 50 stalled sockets a request took {took:?}"
    );

    // At the cap a new connection waits in the backlog until the timeout frees a slot.
    for _ in 0..20 {
        held.push(stalled(&server).await);
    }
    let took = healthz_in(&server).await;
    assert!(
        (Duration::from_millis(200)..Duration::from_secs(4)).contains(&took),
        "over the cap a request waits for a freed slot, and gets one: {took:?}"
    );
    eprintln!("over the cap (70 stalled, 64 slots) a request was served after {took:?}");
    drop(held);
}

/// Bytes the recording `id` has on disk, by the API.
async fn recorded_bytes(client: &Client, id: &str) -> u64 {
    twitch_world::recording(client, id).await["bytes"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_recording_keeps_writing_through_a_login_flood() {
    use twitch_world::{add_channel, env, id_of, start, wait_recording, world};
    const SPAN: Duration = Duration::from_secs(4);
    for backend in backends("floodrec").await {
        let w = world().await;
        w.twitch.add_user("streamer_one", "Streamer One");
        let data = tempfile::tempdir().expect("data");
        let server = start(data.path(), backend.database_url.as_deref(), env(&w, &[]));
        let b = backend.name;
        let (mut client, _) = Client::admin(&server).await;
        let channel = add_channel(&mut client, "streamer_one").await;
        w.twitch
            .go_live("streamer_one", "Day one", "Just Chatting")
            .await
            .expect("live");
        let rec_id = id_of(&wait_recording(&mut client, &id_of(&channel)).await);
        eventually(twitch_world::WAIT, "bytes recorded", || {
            let (c, id) = (client.clone(), rec_id.clone());
            async move { (recorded_bytes(&c, &id).await > 0).then_some(()) }
        })
        .await;

        // The same span calm, then under waves of 200 parallel logins (default gate).
        let calm_from = recorded_bytes(&client, &rec_id).await;
        tokio::time::sleep(SPAN).await;
        let calm = recorded_bytes(&client, &rec_id)
            .await
            .saturating_sub(calm_from);
        let flood_from = recorded_bytes(&client, &rec_id).await;
        let started = Instant::now();
        let mut tally_all: BTreeMap<String, usize> = BTreeMap::new();
        let mut wave = 0;
        while started.elapsed() < SPAN {
            let replies = parallel_logins(
                &server,
                200,
                |i| format!("wave{wave}x{i}"),
                "wrong password",
            )
            .await;
            for (k, n) in tally(&replies) {
                *tally_all.entry(k).or_default() += n;
            }
            wave += 1;
        }
        let flooded = recorded_bytes(&client, &rec_id)
            .await
            .saturating_sub(flood_from);
        let rec = twitch_world::recording(&client, &rec_id).await;
        assert_eq!(rec["status"], "recording", "{b}: {rec}");
        // Whether any were turned away busy depends on this machine's hashing speed.
        assert!(
            tally_all
                .keys()
                .all(|k| k == "401 invalid_credentials" || k == "429 busy"),
            "{b}: {tally_all:?}"
        );
        assert!(
            flooded * 2 >= calm,
            "{b}: {flooded} bytes in {SPAN:?} of flood against {calm} calm"
        );
        eprintln!(
            "{b}: recorded {calm} bytes calm and {flooded} during {wave} waves of 200 logins \
             ({:?}): {tally_all:?}",
            started.elapsed()
        );
    }
}
