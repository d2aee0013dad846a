//! The storage contract, on SQLite and (with TAPEARR_TEST_PG_URL) PostgreSQL.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tapearr_core::auth::model::{LoginAttempt, User};
use tapearr_core::events::model::{EventQuery, NewEvent};
use tapearr_core::ids::new_id;
use tapearr_core::jobs::model::{JobStatus, NewJob};
use tapearr_core::storage::{
    ApiKeyStore, ArrConnectionStore, ChannelStore, EventStore, JobEnd, JobStore, LibraryStore,
    LoginThrottleStore, MediaStore, RecordingStore, Storage, StorageError, TaskStore, UserStore,
};
use tapearr_core::time::Timestamp;
use tapearr_db::{Db, DbError};

mod common;

use common::databases;

fn new_job(kind: &str) -> NewJob {
    NewJob {
        id: new_id(),
        kind: kind.into(),
        payload: serde_json::json!({"n": 1}),
        max_attempts: 2,
        run_after: Timestamp::now(),
        task: None,
        created_at: Timestamp::now(),
    }
}

#[tokio::test]
async fn concurrent_claimers_never_share_a_job() {
    for t in databases("claims").await {
        let db = Arc::new(t.db.clone());
        for _ in 0..120 {
            db.insert_job(&new_job("k")).await.expect("insert");
        }
        let mut workers = Vec::new();
        for w in 0..6 {
            let db = db.clone();
            workers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                let kinds = vec!["k".to_string()];
                let owner = format!("w{w}");
                loop {
                    let now = Timestamp::now();
                    match db
                        .claim_job(&kinds, &owner, now, now.plus(Duration::from_secs(60)))
                        .await
                        .expect("claim")
                    {
                        Some(job) => mine.push(job.id),
                        None => return mine,
                    }
                }
            }));
        }
        let mut seen = HashSet::new();
        let mut total = 0;
        for w in workers {
            for id in w.await.expect("worker") {
                total += 1;
                assert!(
                    seen.insert(id),
                    "a job was claimed twice on {}",
                    db.backend()
                );
            }
        }
        assert_eq!(total, 120, "every job claimed once on {}", db.backend());
    }
}

#[tokio::test]
async fn stale_leases_are_requeued_and_poison_jobs_fail() {
    for t in databases("stale").await {
        let db = t.db;
        let job = db.insert_job(&new_job("k")).await.expect("insert");
        let kinds = vec!["k".to_string()];
        let past = Timestamp::now().minus(Duration::from_secs(120));
        // Claimed by a process that died: its lease is in the past.
        let claimed = db
            .claim_job(&kinds, "dead", Timestamp::now(), past)
            .await
            .expect("claim")
            .expect("a job");
        assert_eq!(claimed.attempts, 1);
        assert_eq!(
            db.requeue_stale_jobs(Timestamp::now(), None)
                .await
                .expect("requeue"),
            1
        );
        let again = db.job(&job.id).await.expect("get").expect("exists");
        assert_eq!(again.status, JobStatus::Queued);
        assert!(again.lease_owner.is_none());

        // Second attempt also dies: max_attempts is 2, so it fails instead of looping.
        db.claim_job(&kinds, "dead2", Timestamp::now(), past)
            .await
            .expect("claim")
            .expect("a job");
        db.requeue_stale_jobs(Timestamp::now(), Some("dead2"))
            .await
            .expect("requeue own");
        let failed = db.job(&job.id).await.expect("get").expect("exists");
        assert_eq!(failed.status, JobStatus::Failed);
        assert!(failed.last_error.unwrap_or_default().contains("stopped"));
    }
}

#[tokio::test]
async fn cancel_and_retry_follow_the_job_state() {
    for t in databases("cancel").await {
        let db = t.db;
        let queued = db.insert_job(&new_job("k")).await.expect("insert");
        let c = db
            .request_job_cancel(&queued.id, Timestamp::now())
            .await
            .expect("cancel");
        assert_eq!(c.status, JobStatus::Cancelled);
        let err = db
            .request_job_cancel(&queued.id, Timestamp::now())
            .await
            .expect_err("twice");
        assert!(err.to_string().contains("cancelled"), "{err}");
        let r = db
            .retry_job(&queued.id, Timestamp::now())
            .await
            .expect("retry");
        assert_eq!((r.status, r.attempts), (JobStatus::Queued, 0));
        assert!(
            db.retry_job(&queued.id, Timestamp::now()).await.is_err(),
            "queued cannot be retried"
        );

        let kinds = vec!["k".to_string()];
        let now = Timestamp::now();
        let running = db
            .claim_job(&kinds, "me", now, now.plus(Duration::from_secs(60)))
            .await
            .expect("claim")
            .expect("job");
        let asked = db
            .request_job_cancel(&running.id, now)
            .await
            .expect("cancel running");
        assert_eq!(asked.status, JobStatus::Running);
        assert!(asked.cancel_requested);
        let end = JobEnd {
            status: JobStatus::Succeeded,
            error: None,
            run_after: None,
            at: now,
            refund_attempt: false,
        };
        assert!(
            db.finish_job(&running.id, "someone-else", &end)
                .await
                .expect("finish")
                .is_none()
        );
        let done = db
            .finish_job(&running.id, "me", &end)
            .await
            .expect("finish")
            .expect("ours");
        assert_eq!(done.status, JobStatus::Succeeded);
        assert_eq!(done.progress, 1.0);
        assert!(
            db.requeue_stale_jobs(Timestamp::now(), Some("me"))
                .await
                .expect("requeue")
                == 0
        );
        assert!(
            db.missing_job_is_not_found().await,
            "cancel of an unknown id is NotFound on {}",
            db.backend()
        );
    }
}

trait MissingJob {
    async fn missing_job_is_not_found(&self) -> bool;
}

impl MissingJob for Db {
    async fn missing_job_is_not_found(&self) -> bool {
        matches!(
            self.request_job_cancel("nope", Timestamp::now()).await,
            Err(tapearr_core::storage::StorageError::NotFound)
        )
    }
}

#[tokio::test]
async fn events_replay_in_order_after_a_cursor() {
    for t in databases("events").await {
        let db = t.db;
        let mut ids = Vec::new();
        for i in 0..5 {
            let e = db
                .append_event(&NewEvent {
                    event_type: "job.queued".into(),
                    subject: Some(format!("job:{}", i % 2)),
                    data: serde_json::json!({ "i": i }),
                    timestamp: Timestamp::now(),
                })
                .await
                .expect("append");
            ids.push(e.id.expect("persisted id"));
        }
        let after = db
            .list_events(&EventQuery {
                since: Some(ids[1]),
                limit: 100,
                ..EventQuery::default()
            })
            .await
            .expect("list");
        let got: Vec<i64> = after.iter().filter_map(|e| e.id).collect();
        assert_eq!(got, ids[2..].to_vec());
        let latest = db
            .list_events(&EventQuery {
                subject: Some("job:0".into()),
                limit: 2,
                ..EventQuery::default()
            })
            .await
            .expect("list");
        assert_eq!(
            latest
                .iter()
                .map(|e| e.data["i"].as_i64())
                .collect::<Vec<_>>(),
            vec![Some(2), Some(4)]
        );
    }
}

#[tokio::test]
async fn a_task_tick_is_taken_by_one_process_only() {
    for t in databases("tasks").await {
        let db = t.db;
        let now = Timestamp(1_000);
        let task = tapearr_core::jobs::model::TaskRecord {
            name: "t".into(),
            kind: "k".into(),
            description: "d".into(),
            interval_secs: 60,
            paused: false,
            next_run_at: now,
            last_run_at: None,
            last_duration_ms: None,
            last_status: None,
            last_error: None,
        };
        db.ensure_task(&task).await.expect("ensure");
        assert!(
            db.advance_task("t", now, Timestamp(61_000))
                .await
                .expect("cas")
        );
        assert!(
            !db.advance_task("t", now, Timestamp(61_000))
                .await
                .expect("cas")
        );
        // A second ensure keeps the stored schedule.
        let again = db.ensure_task(&task).await.expect("ensure");
        assert_eq!(again.next_run_at, Timestamp(61_000));
    }
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let db = Db::connect(&url).await.expect("connect");
    let first = db.migrate(Some(dir.path())).await.expect("migrate");
    assert!(first.backup.is_none(), "an empty database needs no backup");
    let again = db.migrate(Some(dir.path())).await.expect("idempotent");
    assert_eq!(again.from, again.to);
    sqlx::query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
    )
    .execute(db.pool())
    .await
    .expect("insert");
    match db.migrate(Some(dir.path())).await {
        Err(DbError::SchemaTooNew { found: 999, .. }) => {}
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

fn attempt(name: &str, now: Timestamp, window: Duration, limit: u32) -> LoginAttempt {
    LoginAttempt {
        username: name.into(),
        now,
        window_cutoff: now.minus(window),
        lock_until: now.plus(window),
        limit,
    }
}

#[tokio::test]
async fn parallel_login_attempts_each_get_their_own_count() {
    for t in databases("throttle").await {
        let db = Arc::new(t.db.clone());
        let window = Duration::from_secs(900);
        let now = Timestamp::now();
        let mut tries = Vec::new();
        for _ in 0..40 {
            let db = db.clone();
            tries.push(tokio::spawn(async move {
                db.count_login_attempt(&attempt("admin", now, window, 5))
                    .await
                    .expect("count")
            }));
        }
        let mut counts = Vec::new();
        for t in tries {
            let row = t.await.expect("join");
            // Every count from the limit on carries the lock.
            assert_eq!(row.locked_until.is_some(), row.failures >= 5, "{row:?}");
            counts.push(row.failures);
        }
        counts.sort_unstable();
        assert_eq!(
            counts,
            (1..=40).collect::<Vec<_>>(),
            "a read-then-write would repeat counts"
        );
        let row = db
            .login_throttle("admin")
            .await
            .expect("read")
            .expect("row");
        assert_eq!(
            row.locked_until,
            Some(now.plus(window)),
            "the lock is not pushed on"
        );

        // Once the window and the lock are over, counting starts again and the row is stale.
        let later = now.plus(window).plus(Duration::from_secs(1));
        let row = db
            .count_login_attempt(&attempt("admin", later, window, 5))
            .await
            .expect("count");
        assert_eq!((row.failures, row.locked_until), (1, None));
        db.count_login_attempt(&attempt("ghost", now, window, 5))
            .await
            .expect("count");
        let gone = db
            .delete_stale_login_throttles(later.minus(window), later)
            .await
            .expect("prune");
        assert_eq!(gone, 1, "only the ended count of `ghost` goes");
        assert!(db.login_throttle("ghost").await.expect("read").is_none());
        assert!(db.login_throttle("admin").await.expect("read").is_some());
    }
}

#[tokio::test]
async fn only_one_first_user_is_inserted_however_many_race() {
    for t in databases("firstuser").await {
        let db = Arc::new(t.db.clone());
        let mut racers = Vec::new();
        for i in 0..10 {
            let db = db.clone();
            racers.push(tokio::spawn(async move {
                db.insert_first_user(&User {
                    id: new_id(),
                    username: format!("admin{i}"),
                    password_hash: "x".into(),
                    role: "admin".into(),
                    created_at: Timestamp::now(),
                })
                .await
            }));
        }
        let mut won = 0;
        for r in racers {
            match r.await.expect("join") {
                Ok(()) => won += 1,
                Err(StorageError::Conflict(_)) => {}
                Err(e) => panic!("unexpected: {e}"),
            }
        }
        assert_eq!(won, 1);
        assert_eq!(db.count_users().await.expect("count"), 1);
    }
}

/// The not-found convention of every store: a lookup of a missing row is `None`, a change
/// addressed to one is `NotFound`.
#[tokio::test]
async fn missing_rows_read_as_none_and_changes_to_them_fail_not_found() {
    for t in databases("not-found").await {
        let db = &t.db;
        assert!(db.arr_connection("nope").await.expect("read").is_none());
        assert!(db.media("nope").await.expect("read").is_none());
        assert!(db.job("nope").await.expect("read").is_none());
        assert!(db.recording("nope").await.expect("read").is_none());
        assert!(db.twitch_channel("nope").await.expect("read").is_none());
        assert!(db.user_by_id("nope").await.expect("read").is_none());

        let now = Timestamp::now();
        let missing = [
            db.delete_arr_connection("nope").await,
            db.set_media_monitor("nope", true).await,
            db.set_video_path("nope", "x.mp4").await,
            db.set_password_hash("nope", "hash").await,
            db.revoke_api_key("nope", now).await.map(drop),
            db.retry_job("nope", now).await.map(drop),
        ];
        for (i, result) in missing.into_iter().enumerate() {
            assert!(
                matches!(result, Err(StorageError::NotFound)),
                "change {i}: {result:?}"
            );
        }
    }
}
