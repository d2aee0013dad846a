//! Jobs survive SIGKILL, and two servers sharing one PostgreSQL never run a job twice.

mod common;

use common::{Client, JobRecord, JobStatus, Server, ServerOptions, backends};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tapearr_core::events::model::EventRecord;
use tapearr_core::storage::Paged;

async fn enqueue_probes(client: &mut Client, n: usize, millis: u64) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        let r = client
            .post(
                "/api/v1/jobs",
                json!({"kind": "system.probe", "payload": {"millis": millis}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        ids.push(r.json::<JobRecord>().id);
    }
    ids
}

async fn all_jobs(client: &mut Client) -> Vec<JobRecord> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page: Paged<JobRecord> = client
            .get_json(&format!(
                "/api/v1/jobs?kind=system.probe&limit=500&offset={offset}"
            ))
            .await;
        let items = page.items;
        offset += items.len();
        let done = items.is_empty() || offset as u64 >= page.total;
        out.extend(items);
        if done {
            return out;
        }
    }
}

/// Waits until every probe job has finished.
async fn wait_all_finished(
    client: &mut Client,
    expected: usize,
    timeout: Duration,
) -> Vec<JobRecord> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let jobs = all_jobs(client).await;
        let finished = jobs
            .iter()
            .filter(|j| {
                [
                    JobStatus::Succeeded,
                    JobStatus::Failed,
                    JobStatus::Cancelled,
                ]
                .contains(&j.status)
            })
            .count();
        if jobs.len() == expected && finished == expected {
            return jobs;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{finished}/{expected} jobs finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn jobs_running_at_sigkill_are_requeued_and_finish_after_restart() {
    for backend in backends("kill9").await {
        let b = backend.name;
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = || ServerOptions {
            data_dir: dir.path(),
            database_url: backend.database_url.as_deref(),
            env: vec![
                ("TAPEARR_JOBS__CONCURRENCY", "{\"system.probe\"=2}".into()),
                ("TAPEARR_JOBS__LEASE_SECS", "600".into()),
            ],
        };
        let server = Server::start(opts());
        let (mut client, key) = Client::admin(&server).await;
        let ids = enqueue_probes(&mut client, 4, 6_000).await;

        // Wait until two are running (the per-kind limit), then kill the process outright.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let running: Paged<JobRecord> = client.get_json("/api/v1/jobs?status=running").await;
            if running.total == 2 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{b}: jobs never started"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.kill9();

        // The restart takes its own jobs back at once (same data dir, same instance id): the
        // 10-minute lease would otherwise keep them away far longer than this test waits.
        let server = Server::start(opts());
        let mut client = Client::with_key(&server, &key);
        let jobs = wait_all_finished(&mut client, 4, Duration::from_secs(90)).await;
        assert_eq!(jobs.len(), ids.len());
        let mut attempts: Vec<u32> = jobs.iter().map(|j| j.attempts).collect();
        attempts.sort();
        assert!(
            jobs.iter().all(|j| j.status == JobStatus::Succeeded),
            "{b}: {jobs:?}"
        );
        assert_eq!(
            attempts,
            vec![1, 1, 2, 2],
            "{b}: the two interrupted jobs ran a second time"
        );
        assert!(server.terminate().success());
    }
}

#[tokio::test]
async fn two_servers_on_one_postgres_run_each_job_exactly_once() {
    let Some(backend) = backends("twoproc")
        .await
        .into_iter()
        .find(|b| b.name == "postgres")
    else {
        eprintln!(
            "TAPEARR_TEST_PG_URL not set: the two-process test needs PostgreSQL (make test sets it via .ci/run)"
        );
        return;
    };
    let url = backend.database_url.expect("url");
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let env = || {
        vec![
            ("TAPEARR_JOBS__DEFAULT_CONCURRENCY", "4".to_string()),
            ("TAPEARR_JOBS__POLL_MS", "100".to_string()),
        ]
    };
    let a = Server::start(ServerOptions {
        data_dir: dir_a.path(),
        database_url: Some(&url),
        env: env(),
    });
    let mut admin = Client::new(&a);
    let key = admin.bootstrap().await;
    // Servers sharing a database share the secrets sealed in it, so they share the key that
    // seals them (a server with another key refuses to start, see tapearr::secret_key).
    std::fs::copy(
        dir_a.path().join("secret.key"),
        dir_b.path().join("secret.key"),
    )
    .expect("the first server's secret.key");
    let b = Server::start(ServerOptions {
        data_dir: dir_b.path(),
        database_url: Some(&url),
        env: env(),
    });

    // Enqueue through both servers at once, so both are claiming while the queue fills.
    let (mut ca, mut cb) = (Client::with_key(&a, &key), Client::with_key(&b, &key));
    let (ids_a, ids_b) = tokio::join!(
        enqueue_probes(&mut ca, 150, 20),
        enqueue_probes(&mut cb, 150, 20)
    );
    let jobs = wait_all_finished(&mut ca, 300, Duration::from_secs(240)).await;
    assert!(
        jobs.iter()
            .all(|j| j.status == JobStatus::Succeeded && j.attempts == 1),
        "every job claimed once"
    );

    // Each job started exactly once according to the event history, and both servers worked.
    let mut starts: HashMap<String, Vec<String>> = HashMap::new();
    let mut since = 0i64;
    loop {
        let events: Vec<EventRecord> = ca
            .get_json(&format!(
                "/api/v1/events?type=job.started&since={since}&limit=1000"
            ))
            .await;
        if events.is_empty() {
            break;
        }
        // `data` is the event's own payload, free-form JSON.
        for e in &events {
            since = since.max(e.id.unwrap_or(since));
            starts
                .entry(e.data["job_id"].as_str().unwrap_or_default().to_string())
                .or_default()
                .push(e.data["instance"].as_str().unwrap_or_default().to_string());
        }
    }
    for id in ids_a.iter().chain(&ids_b) {
        assert_eq!(
            starts.get(id).map(Vec::len),
            Some(1),
            "job {id} started {:?}",
            starts.get(id)
        );
    }
    let mut instances: Vec<&String> = starts.values().flatten().collect();
    instances.sort();
    instances.dedup();
    assert_eq!(instances.len(), 2, "both servers ran jobs");
    assert!(a.terminate().success() && b.terminate().success());
}
