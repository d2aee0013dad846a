//! Tasks, job events on the WebSocket, and the replay cursor.

mod common;

use common::{Backend, Client, JobRecord, JobStatus, Running, Server, ServerOptions, start_admin};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use tapearr_api::error::Code;
use tapearr_api::routes::jobs::EnqueueRequest;
use tapearr_api::routes::tasks::TaskPatch;
use tapearr_core::events::model::EventRecord;
use tapearr_core::jobs::model::TaskRecord;
use tapearr_core::storage::Paged;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const WAIT: Duration = Duration::from_secs(30);

async fn open_ws(server: &impl Running, key: &str, query: &str) -> Ws {
    let url = format!(
        "{}/api/v1/ws{query}",
        server.base().replace("http://", "ws://")
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
async fn next_matching(
    ws: &mut Ws,
    what: &str,
    pred: impl Fn(&EventRecord) -> bool,
) -> EventRecord {
    let deadline = tokio::time::Instant::now() + WAIT;
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
            let event: EventRecord = serde_json::from_value(v).expect("an event envelope");
            if pred(&event) {
                return event;
            }
        }
    }
}

/// `type` about the job `id`.
fn job_event<'a>(kind: &'static str, id: &'a str) -> impl Fn(&EventRecord) -> bool + 'a {
    move |e| e.event_type == kind && e.data["job_id"] == id
}

fn probe(payload: Value, max_attempts: Option<u32>) -> EnqueueRequest {
    EnqueueRequest {
        kind: "system.probe".into(),
        payload,
        max_attempts,
    }
}

fn patch(paused: Option<bool>, interval_secs: Option<u64>) -> TaskPatch {
    TaskPatch {
        paused,
        interval_secs,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_run_now_shows_its_job_live_and_in_the_replay() {
    let (server, mut api) = start_admin(&Backend::sqlite()).await;
    let key = api.api_key.clone().expect("key");
    let done = run_a_task_now_and_watch_its_job(&server, &mut api, &key).await;
    replay_from_the_cursor(&server, &mut api, &key, done.id.expect("cursor")).await;
    pause_resume_and_refuse_bad_input(&mut api).await;
    server.stop().await;
}

/// Returns the job's success event.
async fn run_a_task_now_and_watch_its_job(
    server: &impl Running,
    api: &mut Client,
    key: &str,
) -> EventRecord {
    let tasks: Vec<TaskRecord> = api.get_json("/api/v1/tasks").await;
    assert!(
        tasks.iter().any(|t| t.name == "prune-sessions"),
        "{tasks:?}"
    );

    let mut ws = open_ws(server, key, "").await;
    let job: JobRecord = api
        .post_json("/api/v1/tasks/prune-sessions/run", &json!({}))
        .await;
    assert_eq!(job.task.as_deref(), Some("prune-sessions"));
    let queued = next_matching(&mut ws, "job.queued", job_event("job.queued", &job.id)).await;
    let done = next_matching(
        &mut ws,
        "job.succeeded",
        job_event("job.succeeded", &job.id),
    )
    .await;
    assert!(done.id > queued.id);

    // The task records its run.
    let tasks: Vec<TaskRecord> = api.get_json("/api/v1/tasks").await;
    let t = tasks
        .iter()
        .find(|t| t.name == "prune-sessions")
        .expect("task");
    assert_eq!(t.last_status.as_deref(), Some("succeeded"), "{t:?}");
    assert!(t.last_run_at.is_some() && t.last_duration_ms.is_some());
    done
}

/// A client that reconnects with its cursor gets exactly what it missed.
async fn replay_from_the_cursor(server: &impl Running, api: &mut Client, key: &str, cursor: i64) {
    let probe: JobRecord = api
        .post_json("/api/v1/jobs", &probe(json!({"millis": 10}), None))
        .await;
    api.wait_job(&probe.id, WAIT).await;
    let mut replay = open_ws(server, key, &format!("?since={cursor}")).await;
    let first = next_matching(&mut replay, "replayed probe event", |_| true).await;
    assert!(
        first.id > Some(cursor),
        "replay starts after the cursor: {first:?}"
    );
    next_matching(
        &mut replay,
        "probe success in replay",
        job_event("job.succeeded", &probe.id),
    )
    .await;
    let history: Vec<EventRecord> = api
        .get_json(&format!(
            "/api/v1/events?since={cursor}&subject=job:{}",
            probe.id
        ))
        .await;
    let types: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        vec!["job.queued", "job.started", "job.succeeded"],
        "progress ticks are live-only"
    );
}

async fn pause_resume_and_refuse_bad_input(api: &mut Client) {
    let path = "/api/v1/tasks/prune-events";
    let paused: TaskRecord = api
        .send_typed(Method::PATCH, path, &patch(Some(true), None))
        .await
        .ok();
    assert!(paused.paused);
    let r = api
        .send_typed(Method::PATCH, path, &patch(None, Some(1)))
        .await;
    assert_eq!(r.error().code, Code::InvalidRequest);
    let resumed: TaskRecord = api
        .send_typed(Method::PATCH, path, &patch(Some(false), Some(120)))
        .await
        .ok();
    assert_eq!((resumed.paused, resumed.interval_secs), (false, 120));
    let r = api
        .send_typed(
            Method::PATCH,
            "/api/v1/tasks/nope",
            &patch(Some(true), None),
        )
        .await;
    assert_eq!(
        (r.status, r.error().code),
        (StatusCode::NOT_FOUND, Code::NotFound)
    );
    let r = api
        .post("/api/v1/jobs", json!({"kind": "no.such.kind"}))
        .await;
    assert_eq!(
        (r.status, r.error().code),
        (StatusCode::BAD_REQUEST, Code::InvalidRequest)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_and_retry_a_job() {
    let (server, mut api) = start_admin(&Backend::sqlite()).await;
    let key = api.api_key.clone().expect("key");
    cancel_a_running_job(&server, &mut api, &key).await;
    retry_a_failed_job(&mut api).await;
    filter_jobs(&mut api).await;
    server.stop().await;
}

async fn cancel_a_running_job(server: &impl Running, api: &mut Client, key: &str) {
    let mut ws = open_ws(server, key, "").await;
    let job: JobRecord = api
        .post_json("/api/v1/jobs", &probe(json!({"millis": 60000}), None))
        .await;
    next_matching(&mut ws, "started", job_event("job.started", &job.id)).await;
    let cancel = format!("/api/v1/jobs/{}/cancel", job.id);
    let r = api.post(&cancel, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    next_matching(&mut ws, "cancelled", job_event("job.cancelled", &job.id)).await;
    let now: JobRecord = api.get_json(&format!("/api/v1/jobs/{}", job.id)).await;
    assert_eq!(now.status, JobStatus::Cancelled);
    let r = api.post(&cancel, json!({})).await;
    assert_eq!(r.error().code, Code::Conflict);
}

/// A failing job fails after its attempts, then a manual retry queues it again.
async fn retry_a_failed_job(api: &mut Client) {
    let failing: JobRecord = api
        .post_json(
            "/api/v1/jobs",
            &probe(json!({"fail": "disk on fire"}), Some(1)),
        )
        .await;
    let job = api.wait_job(&failing.id, WAIT).await;
    assert_eq!(
        (job.status, job.last_error.as_deref()),
        (JobStatus::Failed, Some("disk on fire"))
    );
    let retried: JobRecord = api
        .post_json(&format!("/api/v1/jobs/{}/retry", failing.id), &json!({}))
        .await;
    assert_eq!(retried.status, JobStatus::Queued);
    let again = api.wait_job(&failing.id, WAIT).await;
    assert_eq!(again.status, JobStatus::Failed);
}

async fn filter_jobs(api: &mut Client) {
    let r = api.get("/api/v1/jobs?status=bogus").await;
    assert_eq!(
        (r.status, r.error().code),
        (StatusCode::BAD_REQUEST, Code::InvalidRequest)
    );
    let failed: Paged<JobRecord> = api.get_json("/api/v1/jobs?status=failed&limit=1").await;
    assert_eq!((failed.total, failed.limit), (1, 1));
}

/// The live log tail: job lines arrive as `log` envelopes, tagged with the job id. On the
/// binary: its logging set-up feeds the tail.
#[tokio::test]
async fn job_log_lines_are_tailed_live_and_found_by_subject() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(ServerOptions {
        data_dir: dir.path(),
        database_url: None,
        env: vec![],
    });
    let (mut api, key) = Client::admin(&server).await;
    let mut tail = open_ws(&server, &key, "?logs=info").await;
    let job: JobRecord = api
        .post_json("/api/v1/jobs", &probe(json!({"millis": 1}), None))
        .await;
    let line = next_matching(&mut tail, "a log line about the job", |e| {
        e.event_type == "log" && e.data["fields"]["job_id"] == job.id.as_str()
    })
    .await;
    assert_eq!(line.data["level"], "info");
    let r = api.get(&format!("/api/v1/logs?subject={}", job.id)).await;
    assert!(
        r.body.as_array().is_some_and(|l| !l.is_empty()),
        "logs filter by subject: {:?}",
        r.body
    );
}
