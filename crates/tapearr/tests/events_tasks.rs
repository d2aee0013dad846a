//! Tasks, job events on the WebSocket, and the replay cursor.

mod common;

use common::{Client, Server, ServerOptions};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_ws(server: &Server, key: &str, query: &str) -> Ws {
    let url = format!(
        "{}/api/v1/ws{query}",
        server.base.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert("x-api-key", key.parse().expect("header"));
    tokio_tungstenite::connect_async(req)
        .await
        .expect("ws connect")
        .0
}

/// Reads envelopes until one matches, failing after a timeout.
async fn next_matching(ws: &mut Ws, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .expect("stream open")
            .expect("message");
        if let Message::Text(text) = msg {
            let v: Value = serde_json::from_str(&text).expect("json envelope");
            for field in ["type", "data", "timestamp", "id"] {
                assert!(v.get(field).is_some(), "envelope without {field}: {v}");
            }
            if pred(&v) {
                return v;
            }
        }
    }
}

#[tokio::test]
async fn a_task_run_now_shows_its_job_live_and_in_the_replay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(ServerOptions {
        data_dir: dir.path(),
        database_url: None,
        env: vec![],
    });
    let mut admin = Client::new(&server);
    let key = admin.bootstrap().await;
    let mut api = Client::with_key(&server, &key);

    let tasks = api.get("/api/v1/tasks").await.body;
    let names: Vec<&str> = tasks
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"prune-sessions"), "{names:?}");

    let mut ws = open_ws(&server, &key, "").await;
    let r = api
        .post("/api/v1/tasks/prune-sessions/run", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let job_id = r.body["id"].as_str().expect("job id").to_string();
    assert_eq!(r.body["task"], "prune-sessions");

    let queued = next_matching(&mut ws, "job.queued", |v| {
        v["type"] == "job.queued" && v["data"]["job_id"] == job_id.as_str()
    })
    .await;
    let done = next_matching(&mut ws, "job.succeeded", |v| {
        v["type"] == "job.succeeded" && v["data"]["job_id"] == job_id.as_str()
    })
    .await;
    assert!(done["id"].as_i64() > queued["id"].as_i64());

    // The task records its run.
    let task = api.get("/api/v1/tasks").await.body;
    let t = task
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["name"] == "prune-sessions")
        .expect("task")
        .clone();
    assert_eq!(t["last_status"], "succeeded", "{t}");
    assert!(t["last_run_at"].is_number() && t["last_duration_ms"].is_number());

    // A client that reconnects with its cursor gets exactly what it missed.
    let r = api
        .post(
            "/api/v1/jobs",
            json!({"kind": "system.probe", "payload": {"millis": 10}}),
        )
        .await;
    let probe_id = r.body["id"].as_str().expect("id").to_string();
    api.wait_job(&probe_id, Duration::from_secs(30)).await;
    let cursor = done["id"].as_i64().expect("cursor");
    let mut replay = open_ws(&server, &key, &format!("?since={cursor}")).await;
    let first = next_matching(&mut replay, "replayed probe event", |_| true).await;
    assert!(
        first["id"].as_i64() > Some(cursor),
        "replay starts after the cursor: {first}"
    );
    next_matching(&mut replay, "probe success in replay", |v| {
        v["type"] == "job.succeeded" && v["data"]["job_id"] == probe_id.as_str()
    })
    .await;
    let history = api
        .get(&format!(
            "/api/v1/events?since={cursor}&subject=job:{probe_id}"
        ))
        .await
        .body;
    let types: Vec<&str> = history
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        types,
        vec!["job.queued", "job.started", "job.succeeded"],
        "progress ticks are live-only"
    );

    // Pause, resume and bad input.
    let r = api
        .send(
            reqwest::Method::PATCH,
            "/api/v1/tasks/prune-events",
            Some(json!({"paused": true})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["paused"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{:?}",
        r.body
    );
    let r = api
        .send(
            reqwest::Method::PATCH,
            "/api/v1/tasks/prune-events",
            Some(json!({"interval_secs": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .send(
            reqwest::Method::PATCH,
            "/api/v1/tasks/prune-events",
            Some(json!({"paused": false, "interval_secs": 120})),
        )
        .await;
    assert_eq!(
        (r.body["paused"].as_bool(), r.body["interval_secs"].as_u64()),
        (Some(false), Some(120)),
        "{:?}",
        r.body
    );
    let r = api
        .send(
            reqwest::Method::PATCH,
            "/api/v1/tasks/nope",
            Some(json!({"paused": true})),
        )
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let r = api
        .post("/api/v1/jobs", json!({"kind": "no.such.kind"}))
        .await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
}

#[tokio::test]
async fn cancel_and_retry_a_job() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(ServerOptions {
        data_dir: dir.path(),
        database_url: None,
        env: vec![],
    });
    let mut admin = Client::new(&server);
    let key = admin.bootstrap().await;
    let mut api = Client::with_key(&server, &key);
    let mut ws = open_ws(&server, &key, "").await;

    let r = api
        .post(
            "/api/v1/jobs",
            json!({"kind": "system.probe", "payload": {"millis": 60000}}),
        )
        .await;
    let id = r.body["id"].as_str().expect("id").to_string();
    next_matching(&mut ws, "started", |v| {
        v["type"] == "job.started" && v["data"]["job_id"] == id.as_str()
    })
    .await;
    let r = api
        .post(&format!("/api/v1/jobs/{id}/cancel"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    next_matching(&mut ws, "cancelled", |v| {
        v["type"] == "job.cancelled" && v["data"]["job_id"] == id.as_str()
    })
    .await;
    assert_eq!(
        api.get(&format!("/api/v1/jobs/{id}")).await.body["status"],
        "cancelled"
    );
    let r = api
        .post(&format!("/api/v1/jobs/{id}/cancel"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    // A failing job retries with backoff, then a manual retry queues it again.
    let r = api
        .post(
            "/api/v1/jobs",
            json!({"kind": "system.probe", "payload": {"fail": "disk on fire"}, "max_attempts": 1}),
        )
        .await;
    let failing = r.body["id"].as_str().expect("id").to_string();
    let job = api.wait_job(&failing, Duration::from_secs(30)).await;
    assert_eq!(
        (job["status"].as_str(), job["last_error"].as_str()),
        (Some("failed"), Some("disk on fire"))
    );
    let r = api
        .post(&format!("/api/v1/jobs/{failing}/retry"), json!({}))
        .await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (StatusCode::OK, Some("queued")),
        "{:?}",
        r.body
    );
    let again = api.wait_job(&failing, Duration::from_secs(30)).await;
    assert_eq!(again["status"], "failed");

    // The live log tail: job lines arrive as `log` envelopes, tagged with the job id.
    let mut tail = open_ws(&server, &key, "?logs=info").await;
    let r = api
        .post(
            "/api/v1/jobs",
            json!({"kind": "system.probe", "payload": {"millis": 1}}),
        )
        .await;
    let tailed = r.body["id"].as_str().expect("id").to_string();
    let line = next_matching(&mut tail, "a log line about the job", |v| {
        v["type"] == "log" && v["data"]["fields"]["job_id"] == tailed.as_str()
    })
    .await;
    assert_eq!(line["data"]["level"], "info");
    let r = api.get(&format!("/api/v1/logs?subject={tailed}")).await;
    assert!(
        r.body.as_array().is_some_and(|l| !l.is_empty()),
        "logs filter by subject: {:?}",
        r.body
    );

    let r = api.get("/api/v1/jobs?status=bogus").await;
    assert_eq!(
        (r.status, r.body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let r = api.get("/api/v1/jobs?status=failed&limit=1").await;
    assert_eq!(
        (r.body["total"].as_u64(), r.body["limit"].as_u64()),
        (Some(1), Some(1))
    );
}
