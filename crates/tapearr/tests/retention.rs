//! Retention (S7), end to end with the real binary, fake Twitch, ffmpeg finalize, on SQLite and
//! PostgreSQL: the dry run lists exactly what the run deletes, and a library on a small file
//! system is cleaned oldest first while a recording on it goes on.

mod common;

use common::twitch_world::{WAIT, World, add, detail, env, start, wait_active, wait_detail, world};
use common::{Client, JobRecord, Server, backends, eventually};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tapearr_api::error::Code;
use tapearr_api::routes::recordings::RecordingDetail;
use tapearr_api::routes::retention::ChannelRetentionView;
use tapearr_core::events::model::EventRecord;
use tapearr_core::library::retention::{
    ChannelRetention, PlannedDeletion, RetentionPlan, RetentionPolicy, RetentionRule, RetentionRun,
};
use tapearr_core::streams::model::{Recording, RecordingStatus};
use tapearr_testkit::hls_origin::{ChannelSpec, Container, MediaParams};

const FINALIZE_WAIT: Duration = Duration::from_secs(90);
const GIB: f64 = 1_073_741_824.0;

/// One broadcast of `login` in `category` with at least `media_ms` of media; returns the
/// recording once it is `ready` (finalized by the real ffmpeg).
async fn record(
    w: &World,
    client: &Client,
    channel_id: &str,
    login: &str,
    category: &str,
) -> Recording {
    let id = start_recording(w, client, channel_id, login, category).await;
    finish(w, client, &id, login).await
}

async fn start_recording(
    w: &World,
    client: &Client,
    channel_id: &str,
    login: &str,
    category: &str,
) -> String {
    w.twitch
        .go_live(login, &format!("{login} plays {category}"), category)
        .await
        .expect("live");
    let id = wait_active(client, channel_id).await.id;
    wait_detail(client, &id, "two seconds of media", |r| {
        r.recording.media_ms >= 2_000
    })
    .await;
    id
}

async fn finish(w: &World, client: &Client, id: &str, login: &str) -> Recording {
    w.twitch.go_offline(login).expect("offline");
    eventually(FINALIZE_WAIT, "finalize to finish", || async {
        let r = detail(client, id).await.recording;
        assert!(r.library.finalize_error.is_none(), "{r:?}");
        (r.status == RecordingStatus::Ready).then_some(r)
    })
    .await
}

async fn preview(client: &Client) -> RetentionPlan {
    let mut c = client.clone();
    let r = c.get("/api/v1/retention/preview").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.json()
}

/// Waits until every ready recording is past the grace period.
async fn wait_all_eligible(client: &Client) -> RetentionPlan {
    eventually(
        Duration::from_secs(60),
        "every recording to be eligible",
        || async {
            let p = preview(client).await;
            (p.too_recent == 0).then_some(p)
        },
    )
    .await
}

fn ids(items: &[PlannedDeletion]) -> Vec<String> {
    items.iter().map(|i| i.recording_id.clone()).collect()
}

fn video_of(rec: &Recording) -> PathBuf {
    PathBuf::from(rec.library.video_path.as_deref().expect("video_path"))
}

async fn put(client: &Client, path: &str, body: Value) -> common::Reply {
    let mut c = client.clone();
    c.send(reqwest::Method::PUT, path, Some(body)).await
}

fn only_max_count(max_count: Option<u32>) -> Option<ChannelRetention> {
    Some(ChannelRetention {
        max_count: Some(max_count),
        ..ChannelRetention::default()
    })
}

/// Policies are validated (`400 {code, message}`, nothing stored), overrides replace, inherit
/// and clear; the preview lists exactly what the run then deletes, never a recording inside the
/// grace period, and the run touches nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dry_run_lists_exactly_what_the_run_deletes() {
    for backend in backends("retention_dry_run").await {
        let w = world().await;
        for (login, name) in [("alpha", "Alpha"), ("beta", "Beta"), ("gamma", "Gamma")] {
            w.twitch.add_user(login, name);
        }
        let data = tempfile::tempdir().expect("data");
        let server = start(
            data.path(),
            backend.database_url.as_deref(),
            env(
                &w,
                &[("TAPEARR_LIBRARY__RETENTION_GRACE_SECS", "15".to_string())],
            ),
        );
        let (mut client, _) = Client::admin(&server).await;
        let name = backend.name;

        the_global_policy_is_validated(&mut client, name).await;
        let alpha = add(&mut client, "alpha").await.channel.id;
        let beta = add(&mut client, "beta").await.channel.id;
        let gamma = add(&mut client, "gamma").await.channel.id;
        channel_overrides_replace_and_inherit(&mut client, name, &alpha, &beta, &gamma).await;

        // Round 1: alpha, beta and gamma at once; then alpha in Art; then alpha and beta again.
        let (a1, b1, g1) = tokio::join!(
            record(&w, &client, &alpha, "alpha", "Just Chatting"),
            record(&w, &client, &beta, "beta", "Just Chatting"),
            record(&w, &client, &gamma, "gamma", "Just Chatting"),
        );
        let a2 = record(&w, &client, &alpha, "alpha", "Art").await;
        let (a3, b2) = tokio::join!(
            record(&w, &client, &alpha, "alpha", "Just Chatting"),
            record(&w, &client, &beta, "beta", "Just Chatting"),
        );
        wait_all_eligible(&client).await;

        // A fresh recording: running first, then ready but inside the grace period.
        let a4_id = start_recording(&w, &client, &alpha, "alpha", "Just Chatting").await;
        let p = preview(&client).await;
        assert!(
            !ids(&p.delete).contains(&a4_id),
            "{name}: a running one: {p:?}"
        );
        let a4 = finish(&w, &client, &a4_id, "alpha").await;

        let plan = preview(&client).await;
        assert_the_plan(&plan, name, [&a1, &g1], &a2, &a4);
        // The dry run changed nothing.
        assert_eq!(preview(&client).await.delete, plan.delete);
        assert!(video_of(&a1).is_file());

        the_run_deletes_exactly_the_plan(&server, &mut client, name, &plan).await;
        for gone in [&a1, &g1] {
            let r = client.get(&format!("/api/v1/recordings/{}", gone.id)).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}: {gone:?}");
            let video = video_of(gone);
            assert!(!video.exists(), "{}", video.display());
            let stem = video
                .file_stem()
                .expect("stem")
                .to_string_lossy()
                .to_string();
            let nfo = video.with_file_name(format!("{stem}.nfo"));
            assert!(!nfo.exists(), "{}", nfo.display());
        }
        for kept in [&a2, &a3, &a4, &b1, &b2] {
            let r = client.get(&format!("/api/v1/recordings/{}", kept.id)).await;
            assert_eq!(r.status, StatusCode::OK, "{name}: {kept:?}");
            assert_eq!(
                r.json::<RecordingDetail>().recording.status,
                RecordingStatus::Ready
            );
            assert!(video_of(kept).is_file(), "{name}: {kept:?}");
        }
        let events: Vec<EventRecord> = client
            .get_json("/api/v1/events?type=recording.deleted&limit=10")
            .await;
        // `data` is the event's own payload, free-form JSON.
        let reasons: Vec<&str> = events
            .iter()
            .filter_map(|e| e.data["reason"].as_str())
            .collect();
        assert_eq!(reasons.len(), 2, "{events:?}");
        assert!(
            reasons.iter().all(|r| r.starts_with("retention: ")),
            "{reasons:?}"
        );

        // Nothing left to do now; a4 becomes eligible later and then alpha's count applies.
        let after = preview(&client).await;
        assert!(after.delete.is_empty(), "{name}: {after:?}");

        // Clearing gamma's override puts it back on the global policy.
        let r = put(
            &client,
            &format!("/api/v1/channels/{gamma}/retention"),
            json!(null),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let view: ChannelRetentionView = r.json();
        assert_eq!(view.policy, None);
        assert_eq!(view.effective.max_count, Some(1));
        server.terminate();
    }
}

/// The defaults delete nothing; a policy is tidied; bad ones are `400 {code, message}` and
/// nothing is stored.
async fn the_global_policy_is_validated(client: &mut Client, name: &str) {
    let r = client.get("/api/v1/retention").await;
    assert_eq!(r.status, StatusCode::OK, "{name}: {:?}", r.body);
    let defaults: RetentionPolicy = r.json();
    assert_eq!(defaults.max_count, None);
    assert!(defaults.keep_favourites);

    let policy = json!({"max_count": 1, "keep_categories": [" Art "]});
    let r = put(client, "/api/v1/retention", policy).await;
    assert_eq!(r.status, StatusCode::OK, "{name}: {:?}", r.body);
    assert_eq!(
        r.json::<RetentionPolicy>().keep_categories,
        ["Art"],
        "tidied"
    );
    for (bad, says) in [
        (json!({"max_total_gb": -1}), "max_total_gb"),
        (
            json!({"keep_windows": [{"days": ["funday"], "from": "18:00", "to": "23:00"}]}),
            "unknown day \"funday\"",
        ),
        (
            json!({"keep_windows": [{"from": "18:00", "to": "24:30"}]}),
            "is not a time of day",
        ),
        (json!({"max_count": -3}), "max_count"),
        (json!({"max_cuont": 3}), "max_cuont"),
        // A limit of 0 deletes everything: only with "confirm": true.
        (json!({"max_count": 0}), "confirm"),
        (json!({"max_total_gb": 0}), "confirm"),
        (json!({"max_age_days": 0, "confirm": false}), "confirm"),
    ] {
        let r = put(client, "/api/v1/retention", bad.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{name}: {bad} → {:?}",
            r.body
        );
        let error = r.error();
        assert_eq!(error.code, Code::InvalidRequest);
        let message = error.message;
        assert!(message.contains(says), "{bad}: {message}");
    }
    let stored: RetentionPolicy = client.get_json("/api/v1/retention").await;
    assert_eq!(stored.max_count, Some(1), "nothing stored by a refused PUT");
}

/// beta: no count limit; gamma: keep none (confirmed); overrides are per channel only.
async fn channel_overrides_replace_and_inherit(
    client: &mut Client,
    name: &str,
    alpha: &str,
    beta: &str,
    gamma: &str,
) {
    let r = put(
        client,
        &format!("/api/v1/channels/{beta}/retention"),
        json!({"max_count": null}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{name}: {:?}", r.body);
    let view: ChannelRetentionView = r.json();
    assert_eq!(view.policy, only_max_count(None));
    assert_eq!(view.effective.max_count, None);
    assert_eq!(view.effective.keep_categories, ["Art"]);
    // Keep none deletes everything: refused unless confirmed, and the confirmation is not
    // stored.
    let r = put(
        client,
        &format!("/api/v1/channels/{gamma}/retention"),
        json!({"max_count": 0}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}: {:?}", r.body);
    let error = r.error();
    assert_eq!(error.code, Code::InvalidRequest, "{name}: {:?}", r.body);
    assert!(error.message.contains("confirm"), "{name}: {:?}", r.body);
    let r = put(
        client,
        &format!("/api/v1/channels/{gamma}/retention"),
        json!({"max_count": 0, "confirm": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{name}: {:?}", r.body);
    assert_eq!(
        r.json::<ChannelRetentionView>().policy,
        only_max_count(Some(0)),
        "{name}"
    );
    let r = put(
        client,
        &format!("/api/v1/channels/{gamma}/retention"),
        json!({"min_free_gb": 1}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "global only: {:?}",
        r.body
    );
    let r = put(client, "/api/v1/channels/nope/retention", json!(null)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    let view: ChannelRetentionView = client
        .get_json(&format!("/api/v1/channels/{alpha}/retention"))
        .await;
    assert_eq!(view.policy, None);
    assert_eq!(view.effective.max_count, Some(1));
}

/// alpha keeps its newest eligible (a3; a2 is Art, a4 too recent); gamma keeps none; beta has
/// no count limit.
fn assert_the_plan(
    plan: &RetentionPlan,
    name: &str,
    [a1, g1]: [&Recording; 2],
    a2: &Recording,
    a4: &Recording,
) {
    let planned = ids(&plan.delete);
    let mut sorted = planned.clone();
    sorted.sort();
    let mut want = vec![a1.id.clone(), g1.id.clone()];
    want.sort();
    assert_eq!(sorted, want, "{name}: {plan:?}");
    let starts: Vec<i64> = plan.delete.iter().map(|i| i.started_at.0).collect();
    assert!(
        starts.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {plan:?}"
    );
    assert_eq!(plan.too_recent, 1, "{name}: a4 waits: {plan:?}");
    assert!(!planned.contains(&a4.id));
    assert!(
        plan.kept
            .iter()
            .any(|k| k.recording_id == a2.id && k.reason == "category Art"),
        "{name}: {plan:?}"
    );
    for item in &plan.delete {
        assert_eq!(item.rule, RetentionRule::Count, "{item:?}");
        assert!(item.bytes > 0, "{item:?}");
    }
    let a1_item = plan
        .delete
        .iter()
        .find(|i| i.recording_id == a1.id)
        .expect("a1 planned");
    assert_eq!(a1_item.reason, "count 2 > 1");
    assert_eq!(a1_item.channel_login, "alpha");
    assert_eq!(a1_item.title, "alpha plays Just Chatting");
    assert_eq!(
        plan.delete_bytes,
        a1.library.video_bytes.unwrap_or(0) + g1.library.video_bytes.unwrap_or(0)
    );
}

async fn the_run_deletes_exactly_the_plan(
    server: &Server,
    client: &mut Client,
    name: &str,
    plan: &RetentionPlan,
) {
    let r = client.post("/api/v1/retention/run", json!({})).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{name}: {:?}\n{}",
        r.body,
        server.output_text()
    );
    let run: RetentionRun = r.json();
    assert_eq!(
        ids(&run.deleted),
        ids(&plan.delete),
        "{name}: exactly the plan, in order"
    );
    assert!(run.errors.is_empty(), "{run:?}");
    assert!(run.bytes_freed >= plan.delete_bytes);
}

/// A tmpfs mounted for one story, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("mount point");
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Tmpfs { dir },
            Ok(o) => panic!(
                "this story needs a small file system: `mount -t tmpfs` failed ({}): {}. \
                 Run the tests as root (CI does), or in a container allowed to mount.",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => panic!("this story needs `mount` to create a small file system: {e}"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let done = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !done {
            // Something still holds it (a failing story's server): detach it lazily.
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

fn free_bytes(path: &Path) -> u64 {
    tapearr_core::files::free_space(path).expect("statvfs")
}

/// The library root is a 24 MiB tmpfs holding three ready recordings and a running one. With
/// `min_free_gb` just above what is free, the task deletes the oldest ready recordings until
/// there is enough again; the newest stays, and the running recording keeps growing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn low_space_deletes_the_oldest_first_while_a_recording_goes_on() {
    for backend in backends("retention_low_space").await {
        let tmpfs = Tmpfs::mount("24m");
        let root = tmpfs.path().canonicalize().expect("root");
        let w = world().await;
        w.twitch.add_user("filler", "Filler");
        w.twitch.add_user("onair", "On Air");
        let data = tempfile::tempdir().expect("data");
        let server: Server = start(
            data.path(),
            backend.database_url.as_deref(),
            env(
                &w,
                &[
                    ("TAPEARR_LIBRARY_ROOTS", root.display().to_string()),
                    ("TAPEARR_LIBRARY__RETENTION_GRACE_SECS", "1".to_string()),
                ],
            ),
        );
        let (mut client, _) = Client::admin(&server).await;
        let name = backend.name;
        let filler = add(&mut client, "filler").await.channel.id;
        let onair = add(&mut client, "onair").await.channel.id;

        // Big ready recordings (about 1 MB each), then a small, slow live one.
        w.twitch.set_channel_spec(ChannelSpec::new(MediaParams {
            video_kbps: 2_000,
            ..MediaParams::test(Container::Ts)
        }));
        let mut ready = Vec::new();
        for _ in 0..3 {
            ready.push(record(&w, &client, &filler, "filler", "Just Chatting").await);
        }
        w.twitch
            .set_channel_spec(ChannelSpec::new(MediaParams::test(Container::Ts)));
        let live_id = start_recording(&w, &client, &onair, "onair", "Just Chatting").await;
        let live = detail(&client, &live_id).await.recording;
        let live_dir = PathBuf::from(&live.dir);
        assert!(live_dir.starts_with(&root), "{live:?}");
        for r in &ready {
            assert!(video_of(r).starts_with(&root), "{r:?}");
        }
        wait_all_eligible(&client).await;

        // Free space just above what deleting the oldest frees, below what the two oldest free.
        let size = |r: &Recording| r.library.video_bytes.expect("video_bytes");
        let free = free_bytes(&root);
        let threshold = free + size(&ready[0]) + size(&ready[1]) / 2;
        let min_free_gb = threshold as f64 / GIB;
        eprintln!(
            "{name}: {free} bytes free, ready {:?} bytes, min_free_gb {min_free_gb}",
            ready.iter().map(size).collect::<Vec<_>>()
        );
        assert!(
            min_free_gb < 0.03,
            "{name}: a small file system: {min_free_gb}"
        );
        let r = put(
            &client,
            "/api/v1/retention",
            json!({"min_free_gb": min_free_gb}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {:?}", r.body);

        let plan = preview(&client).await;
        assert_eq!(
            ids(&plan.delete),
            [ready[0].id.clone(), ready[1].id.clone()],
            "{name}: the two oldest: {plan:?}"
        );
        for item in &plan.delete {
            assert_eq!(item.rule, RetentionRule::LowSpace, "{item:?}");
            assert!(item.reason.starts_with("free space "), "{item:?}");
        }
        let volume = &plan.volumes[0];
        assert!(Some(volume.free_bytes) < volume.min_free_bytes, "{plan:?}");
        assert!(
            Some(volume.projected_free_bytes) >= volume.min_free_bytes,
            "{plan:?}"
        );

        // The periodic task, run now.
        let bytes_before = detail(&client, &live_id).await.recording.bytes;
        let r = client.post("/api/v1/tasks/retention/run", json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{name}: {:?}", r.body);
        client.wait_succeeded(&r.json::<JobRecord>().id, WAIT).await;

        for gone in &ready[..2] {
            let r = client.get(&format!("/api/v1/recordings/{}", gone.id)).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{name}: {gone:?}");
            assert!(!video_of(gone).exists());
        }
        let newest = detail(&client, &ready[2].id).await.recording;
        assert_eq!(newest.status, RecordingStatus::Ready, "{name}: {newest:?}");
        assert!(video_of(&ready[2]).is_file());
        assert!(
            root.join("filler").join("tvshow.nfo").is_file(),
            "show files stay"
        );
        let free_after = free_bytes(&root);
        assert!(
            free_after >= threshold,
            "{name}: {free_after} bytes free, wanted {threshold}"
        );

        // The running recording was never a candidate and keeps growing on the same disk.
        let grown = wait_detail(&client, &live_id, "the live recording to grow", |r| {
            r.recording.status == RecordingStatus::Recording && r.recording.bytes > bytes_before
        })
        .await
        .recording;
        assert_eq!(grown.sessions, 1, "{name}: never interrupted: {grown:?}");
        assert!(live_dir.is_dir());
        let on_disk: u64 = std::fs::read_dir(&live_dir)
            .expect("parts")
            .filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum();
        assert!(on_disk > 0, "{name}: parts on the tmpfs");
        let again = preview(&client).await;
        assert!(again.delete.is_empty(), "{name}: {again:?}");

        w.twitch.go_offline("onair").expect("offline");
        wait_detail(&client, &live_id, "the recording to end", |r| {
            r.recording.status != RecordingStatus::Recording
        })
        .await;
        server.terminate();
        drop(tmpfs);
    }
}
