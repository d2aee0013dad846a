//! The archive (S10), end to end with the real binary, the fake Twitch (Helix `/videos` and
//! `/clips`, the VOD playback token, usher's VOD playlists, clip files) on SQLite and
//! PostgreSQL: VODs within the channel's limits are archived (older ones skipped), a download
//! killed halfway resumes without fetching finished segments again, muted segments are kept
//! (recorded as audio gaps), top clips land in the show's `Other/` folder, a second run changes
//! nothing, and a VOD of a broadcast recorded live replaces it when the channel prefers VODs.
//! Robustness: a kill between storing a VOD and queuing its download heals at the next run
//! (one job, one file); a VOD whose segments the origin refuses fails, is not retried by runs,
//! and the user's retry reuses its finished segments; clips expire after `keep_clips_days` and
//! leave with a channel deleted with its files (a file Tapearr did not place stays).

mod common;

use common::twitch_world::{WAIT, add, detail, start, wait_detail, world};
use common::{Client, backends, eventually};
use reqwest::StatusCode;
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use tapearr_api::error::Code;
use tapearr_api::routes::archive::ArchiveRunStarted;
use tapearr_core::archive::ArchiveItems;
use tapearr_core::archive::model::{ArchiveSettings, ClipStatus};
use tapearr_core::jobs::model::{JobRecord, JobStatus};
use tapearr_core::storage::Paged;
use tapearr_core::streams::model::Recording;
use tapearr_core::streams::model::{RecordingSource, RecordingStatus};
use tapearr_hls::vod::join::JoinProgress;
use tapearr_testkit::hls_origin::{Container, MediaParams};
use tapearr_testkit::twitch::VideoSpec;

const DAY: Duration = Duration::from_secs(86_400);
/// Downloads and finalize of a few small files; generous for a loaded machine.
const LONG: Duration = Duration::from_secs(90);

async fn items(client: &Client, channel_id: &str) -> ArchiveItems {
    let mut c = client.clone();
    let r = c
        .get(&format!("/api/v1/channels/{channel_id}/archive/items"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.json()
}

async fn archive_settings(client: &mut Client, channel_id: &str) -> ArchiveSettings {
    client
        .get_json(&format!("/api/v1/channels/{channel_id}/archive"))
        .await
}

/// Stores the channel's archive settings (they must be accepted).
async fn set_archive(client: &mut Client, channel_id: &str, settings: serde_json::Value) {
    let r = client
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/channels/{channel_id}/archive"),
            Some(settings),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

async fn run_archive(client: &mut Client, channel_id: &str) -> String {
    let r = client
        .post(
            &format!("/api/v1/channels/{channel_id}/archive/run"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    r.json::<ArchiveRunStarted>().job_id
}

/// Every `archive.vod` job, whatever its status.
async fn vod_jobs(client: &mut Client) -> Vec<JobRecord> {
    client
        .get_json::<Paged<JobRecord>>("/api/v1/jobs?kind=archive.vod&limit=500")
        .await
        .items
}

/// Finished segments waiting in the channel's parts folders.
/// Finished segments of the channel's VOD downloads: files waiting in `.segments` plus those
/// the join recorded as appended (their files are gone).
fn segments_on_disk(library: &Path, login: &str) -> usize {
    let parts = library.join(login).join(".parts");
    std::fs::read_dir(parts)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| {
                    let work = e.path().join(".segments");
                    let joined = JoinProgress::read(&work).ok().flatten();
                    files_in(&work, "ts").len()
                        + files_in(&work, "m4s").len()
                        + joined.map_or(0, |j| j.next_segment as usize)
                })
                .sum()
        })
        .unwrap_or(0)
}

/// MP4 files anywhere below `dir`.
fn mp4s_below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(mp4s_below(&path));
        } else if path.extension().is_some_and(|e| e == "mp4") {
            out.push(path);
        }
    }
    out.sort();
    out
}

async fn wait_vod(
    client: &Client,
    channel_id: &str,
    what: &str,
    status: RecordingStatus,
) -> Recording {
    eventually(LONG, what, || {
        let c = client.clone();
        let id = channel_id.to_string();
        async move {
            let vods = items(&c, &id).await.vods;
            let v = vods.first()?.clone();
            (v.status == status).then_some(v)
        }
    })
    .await
}

fn files_in(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    out.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|e| e == ext));
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vods_within_limits_are_archived_resume_after_a_kill_and_a_second_run_changes_nothing() {
    for backend in backends("archive_vods").await {
        let w = world().await;
        w.twitch.add_user("archivist", "The Archivist");
        let fresh = w
            .twitch
            .add_video(
                "archivist",
                VideoSpec::archive("Speedrun night", Duration::from_secs(3 * 3600), 10)
                    .muted(&[3, 4]),
            )
            .await
            .expect("video");
        let old = w
            .twitch
            .add_video(
                "archivist",
                VideoSpec::archive("Ancient stream", 20 * DAY, 4),
            )
            .await
            .expect("video");
        let highlight = w
            .twitch
            .add_video(
                "archivist",
                VideoSpec::archive("Best bits", DAY, 3).kind("highlight"),
            )
            .await
            .expect("video");
        for (title, views) in [("Low", 10), ("Top", 50), ("Mid", 30)] {
            w.twitch
                .add_clip("archivist", title, views, Duration::from_secs(3600))
                .await
                .expect("clip");
        }
        w.twitch.fail_vod_segment_once(&fresh, 1);
        w.twitch.hold_vod_segment(&fresh, 7);

        let data = tempfile::tempdir().expect("data");
        let db = backend.database_url.as_deref();
        let env = common::twitch_world::env(&w, &[]);
        let server = start(data.path(), db, env.clone());
        let (mut client, _) = Client::admin(&server).await;
        let channel = add(&mut client, "archivist").await;
        let id = channel.channel.id.clone();

        // Off by default; out-of-range limits are refused and change nothing.
        let path = format!("/api/v1/channels/{id}/archive");
        assert!(
            !archive_settings(&mut client, &id).await.enabled,
            "{}",
            backend.name
        );
        let r = client
            .send(
                reqwest::Method::PUT,
                &path,
                Some(json!({"enabled": true, "max_age_days": 0, "max_videos": 5})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert!(!archive_settings(&mut client, &id).await.enabled);
        let settings = json!({"enabled": true, "max_age_days": 14, "max_videos": 10,
            "live_policy": "keep_both", "top_clips": 2, "clip_period_days": 7});
        let r = client
            .send(reqwest::Method::PUT, &path, Some(settings.clone()))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

        run_archive(&mut client, &id).await;
        // Every segment but the held one is on disk (joined, or waiting for the join): the
        // process dies mid-download.
        let library = w.library.path().to_path_buf();
        eventually(LONG, "nine finished segments", || {
            let library = library.clone();
            async move { (segments_on_disk(&library, "archivist") == 9).then_some(()) }
        })
        .await;
        let vods = items(&client, &id).await.vods;
        assert_eq!(vods.len(), 1, "{vods:?}");
        assert_eq!(vods[0].status, RecordingStatus::Downloading);
        server.kill9();
        w.twitch.release_vod_segments();

        let server = start(data.path(), db, env.clone());
        let mut client = Client::new(&server);
        let r = client.login(common::ADMIN, common::PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let vod_id = vods[0].id.clone();
        let vod = wait_detail(&client, &vod_id, "the VOD ready", |d| {
            d.recording.status == RecordingStatus::Ready
        })
        .await;
        let requests = w.twitch.vod_segment_requests(&fresh);
        for (n, count) in requests.iter().enumerate() {
            // Segment 1 answered 503 once; segment 7 was in flight when the process died.
            let expected = if n == 1 || n == 7 { 2 } else { 1 };
            assert_eq!(
                *count, expected,
                "{}: segment {n}: {requests:?}",
                backend.name
            );
        }
        assert_eq!(vod.recording.origin.source, RecordingSource::Vod);
        assert_eq!(
            vod.recording.origin.twitch_video_id.as_deref(),
            Some(fresh.as_str())
        );
        assert_eq!(vod.recording.origin.linked_recording_id, None);
        assert_eq!(vod.recording.labels.title, "Speedrun night");
        let muted: Vec<(u64, &str)> = vod.gaps.iter().map(|g| (g.ms, g.reason.as_str())).collect();
        assert_eq!(muted, vec![(2_000, "muted")], "{}", backend.name);
        let mp4 = vod.recording.library.video_path.clone().expect("placed");
        assert!(Path::new(&mp4).is_file(), "{mp4}");
        let ms = vod.recording.library.duration_ms.expect("probed");
        assert!(ms.abs_diff(10_000) < 1_500, "{ms}");
        assert!(
            std::fs::read_dir(library.join("archivist").join(".parts"))
                .map_or(true, |mut d| d.next().is_none()),
            "parts and segments cleaned up"
        );

        // The old archive and the highlight (not asked for) were left alone.
        let vods = items(&client, &id).await.vods;
        let videos: Vec<&str> = vods
            .iter()
            .filter_map(|v| v.origin.twitch_video_id.as_deref())
            .collect();
        assert_eq!(videos, vec![fresh.as_str()]);
        assert_eq!(w.twitch.vod_segment_requests(&old).iter().sum::<u64>(), 0);
        assert_eq!(
            w.twitch
                .vod_segment_requests(&highlight)
                .iter()
                .sum::<u64>(),
            0
        );

        // The two most viewed clips are extras of the show.
        let clips = eventually(WAIT, "two clips", || {
            let c = client.clone();
            let id = id.clone();
            async move {
                let clips = items(&c, &id).await.clips;
                (clips.len() == 2).then_some(clips)
            }
        })
        .await;
        let titles: Vec<&str> = clips.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, vec!["Top", "Mid"]);
        let extras = files_in(&library.join("archivist").join("Other"), "mp4");
        assert_eq!(extras.len(), 2, "{extras:?}");
        assert!(clips[0].status == ClipStatus::Placed && clips[1].status == ClipStatus::Placed);

        // A second run downloads nothing and places nothing again.
        let before: u64 = w.twitch.vod_segment_requests(&fresh).iter().sum();
        let job = run_archive(&mut client, &id).await;
        client.wait_succeeded(&job, LONG).await;
        assert_eq!(
            w.twitch.vod_segment_requests(&fresh).iter().sum::<u64>(),
            before
        );
        let after = items(&client, &id).await;
        assert_eq!(after.vods.len(), 1);
        assert_eq!(after.clips, clips);
        assert_eq!(
            files_in(&library.join("archivist").join("Other"), "mp4"),
            extras
        );
        assert_eq!(
            detail(&client, &vod_id).await.recording.library.video_path,
            Some(mp4)
        );
        server.kill9();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vod_of_a_recorded_broadcast_replaces_it_when_the_channel_prefers_vods() {
    for backend in backends("archive_prefer_vod").await {
        let w = world().await;
        w.twitch.add_user("liveone", "Live One");
        let data = tempfile::tempdir().expect("data");
        let server = start(
            data.path(),
            backend.database_url.as_deref(),
            common::twitch_world::env(&w, &[]),
        );
        let (mut client, _) = Client::admin(&server).await;
        let channel = add(&mut client, "liveone").await;
        let id = channel.channel.id.clone();
        let stream_id = w
            .twitch
            .go_live("liveone", "Live and archived", "Just Chatting")
            .await
            .expect("live");
        let live = common::twitch_world::wait_active(&client, &id).await;
        wait_detail(&client, &live.id, "a few seconds recorded", |d| {
            d.recording.media_ms >= 3_000
        })
        .await;
        w.twitch.go_offline("liveone").expect("offline");
        wait_detail(&client, &live.id, "the live recording ready", |d| {
            d.recording.status == RecordingStatus::Ready
        })
        .await;

        let video = w
            .twitch
            .add_video(
                "liveone",
                VideoSpec::archive("Live and archived", Duration::from_secs(60), 6)
                    .stream_id(&stream_id),
            )
            .await
            .expect("video");
        set_archive(
            &mut client,
            &id,
            json!({"enabled": true, "max_age_days": 3, "max_videos": 5,
                    "live_policy": "prefer_vod"}),
        )
        .await;
        run_archive(&mut client, &id).await;
        let vod = eventually(LONG, "the VOD ready", || {
            let c = client.clone();
            let id = id.clone();
            async move {
                let vods = items(&c, &id).await.vods;
                let v = vods.first()?.clone();
                (v.status == RecordingStatus::Ready).then_some(v)
            }
        })
        .await;
        assert_eq!(vod.origin.twitch_video_id.as_deref(), Some(video.as_str()));
        assert_eq!(
            vod.origin.linked_recording_id.as_deref(),
            Some(live.id.as_str()),
            "{}",
            backend.name
        );
        assert_eq!(vod.stream_id, live.stream_id);
        eventually(WAIT, "the live recording replaced", || {
            let mut c = client.clone();
            let path = format!("/api/v1/recordings/{}", live.id);
            async move { (c.get(&path).await.status == StatusCode::NOT_FOUND).then_some(()) }
        })
        .await;
        let live_mp4 = live.library.video_path.clone();
        if let Some(p) = live_mp4 {
            assert!(!Path::new(&p).exists(), "{p}");
        }
        server.kill9();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_between_storing_a_vod_and_queuing_it_heals_at_the_next_run() {
    for backend in backends("archive_gap").await {
        let w = world().await;
        w.twitch.add_user("gapper", "Gapper");
        let video = w
            .twitch
            .add_video(
                "gapper",
                VideoSpec::archive("Gap night", Duration::from_secs(3600), 4),
            )
            .await
            .expect("video");
        let data = tempfile::tempdir().expect("data");
        let db = backend.database_url.as_deref();
        let env = common::twitch_world::env(&w, &[]);
        let paused =
            common::twitch_world::env(&w, &[("TAPEARR_TEST_ARCHIVE_PAUSE", "enqueue".to_string())]);
        let server = start(data.path(), db, paused);
        let (mut client, _) = Client::admin(&server).await;
        let id = add(&mut client, "gapper").await.channel.id;
        set_archive(
            &mut client,
            &id,
            json!({"enabled": true, "max_age_days": 7, "max_videos": 5}),
        )
        .await;
        run_archive(&mut client, &id).await;
        // The run stored the VOD and stops before queuing its download: killed right there.
        let stuck = wait_vod(&client, &id, "the VOD stored", RecordingStatus::Downloading).await;
        assert!(vod_jobs(&mut client).await.is_empty(), "{}", backend.name);
        server.kill9();

        let server = start(data.path(), db, env.clone());
        let mut client = Client::new(&server);
        let r = client.login(common::ADMIN, common::PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        run_archive(&mut client, &id).await;
        let ready = wait_vod(&client, &id, "the healed VOD ready", RecordingStatus::Ready).await;
        assert_eq!(ready.id, stuck.id, "{}", backend.name);
        let mp4 = ready.library.video_path.clone().expect("placed");
        assert!(Path::new(&mp4).is_file(), "{mp4}");

        // A second run queues nothing again: one job for the VOD, one file, one fetch each.
        let job = run_archive(&mut client, &id).await;
        client.wait_succeeded(&job, LONG).await;
        let jobs = vod_jobs(&mut client).await;
        assert_eq!(jobs.len(), 1, "{}: {jobs:?}", backend.name);
        assert_eq!(jobs[0].payload["recording_id"], json!(stuck.id));
        assert_eq!(jobs[0].status, JobStatus::Succeeded);
        assert_eq!(items(&client, &id).await.vods.len(), 1);
        assert_eq!(
            mp4s_below(w.library.path()),
            vec![std::path::PathBuf::from(&mp4)]
        );
        assert_eq!(w.twitch.vod_segment_requests(&video), vec![1, 1, 1, 1]);
        server.kill9();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_only_vod_fails_with_the_reason_and_downloads_with_a_subscribed_account() {
    for backend in backends("archive_sub_only").await {
        let w = world().await;
        w.twitch.add_user("members", "Members");
        w.twitch.add_user("fan", "Fan");
        let video = w
            .twitch
            .add_video(
                "members",
                VideoSpec::archive("Members night", Duration::from_secs(3600), 4).sub_only(),
            )
            .await
            .expect("video");
        let data = tempfile::tempdir().expect("data");
        let server = start(
            data.path(),
            backend.database_url.as_deref(),
            common::twitch_world::env(&w, &[]),
        );
        let (mut client, _) = Client::admin(&server).await;
        let id = add(&mut client, "members").await.channel.id;
        set_archive(
            &mut client,
            &id,
            json!({"enabled": true, "max_age_days": 7, "max_videos": 5}),
        )
        .await;

        // Without an account: refused by usher, failed at once with what to do.
        run_archive(&mut client, &id).await;
        let failed = wait_vod(&client, &id, "the VOD failed", RecordingStatus::Failed).await;
        let error = failed.error.clone().unwrap_or_default();
        assert!(
            error.contains("subscribers only"),
            "{}: {error}",
            backend.name
        );
        assert!(
            error.contains("Settings → Twitch"),
            "{}: {error}",
            backend.name
        );
        assert_eq!(
            w.twitch.vod_segment_requests(&video),
            vec![0, 0, 0, 0],
            "{}: nothing of it was served",
            backend.name
        );

        // The signed-in account of a subscriber opens it: the retry downloads it whole.
        w.twitch.subscribe("fan", "members").expect("subscribed");
        let token = w.twitch.issue_web_token("fan").expect("token");
        let r = client
            .send(
                reqwest::Method::PUT,
                "/api/v1/twitch/account",
                Some(json!({"token": token})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {:?}", backend.name, r.body);
        let r = client
            .post(
                &format!("/api/v1/recordings/{}/retry", failed.id),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
        let ready = wait_vod(&client, &id, "the VOD ready", RecordingStatus::Ready).await;
        assert_eq!(ready.id, failed.id);
        let mp4 = ready.library.video_path.clone().expect("placed");
        assert!(Path::new(&mp4).is_file(), "{mp4}");
        assert_eq!(w.twitch.vod_segment_requests(&video), vec![1, 1, 1, 1]);
        // The account's token went to GQL only, never with a playlist request.
        assert_eq!(w.twitch.playback_stats().authorized_playlist_requests, 0);
        server.kill9();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_vod_is_retried_by_the_user_only_and_reuses_its_finished_segments() {
    for backend in backends("archive_retry").await {
        let w = world().await;
        w.twitch.add_user("flaky", "Flaky");
        let video = w
            .twitch
            .add_video(
                "flaky",
                VideoSpec::archive("Flaky night", Duration::from_secs(3600), 8),
            )
            .await
            .expect("video");
        w.twitch.refuse_vod_segment(&video, 6);
        let data = tempfile::tempdir().expect("data");
        let server = start(
            data.path(),
            backend.database_url.as_deref(),
            common::twitch_world::env(&w, &[]),
        );
        let (mut client, _) = Client::admin(&server).await;
        let id = add(&mut client, "flaky").await.channel.id;
        set_archive(
            &mut client,
            &id,
            json!({"enabled": true, "max_age_days": 7, "max_videos": 5}),
        )
        .await;
        run_archive(&mut client, &id).await;
        // Refused, not unreachable: failed at once, the finished segments kept.
        let failed = wait_vod(&client, &id, "the VOD failed", RecordingStatus::Failed).await;
        assert!(
            failed.error.as_deref().is_some_and(|e| e.contains("403")),
            "{}: {:?}",
            backend.name,
            failed.error
        );
        let kept = segments_on_disk(w.library.path(), "flaky");
        assert!(kept >= 1, "{}: {kept} segments kept", backend.name);
        let fetched: u64 = w.twitch.vod_segment_requests(&video).iter().sum();

        // A run does not retry it on its own.
        let job = run_archive(&mut client, &id).await;
        client.wait_succeeded(&job, LONG).await;
        let vods = items(&client, &id).await.vods;
        assert_eq!(vods.len(), 1);
        assert_eq!(vods[0].status, RecordingStatus::Failed, "{}", backend.name);
        assert_eq!(vod_jobs(&mut client).await.len(), 1);

        // Bad retries answer 4xx and change nothing.
        let r = client
            .post("/api/v1/recordings/no-such-recording/retry", json!({}))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
        assert_eq!(r.error().code, Code::NotFound);

        w.twitch.accept_vod_segments();
        let retry = format!("/api/v1/recordings/{}/retry", failed.id);
        let r = client.post(&retry, json!({})).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
        assert_eq!(r.json::<Recording>().status, RecordingStatus::Downloading);
        let r = client.post(&retry, json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
        assert_eq!(r.error().code, Code::Conflict);

        let ready = wait_vod(
            &client,
            &id,
            "the retried VOD ready",
            RecordingStatus::Ready,
        )
        .await;
        assert_eq!(ready.id, failed.id);
        assert!(ready.error.is_none(), "{:?}", ready.error);
        let mp4 = ready.library.video_path.clone().expect("placed");
        assert!(Path::new(&mp4).is_file(), "{mp4}");
        // Only the segments missing at the failure were fetched again.
        let total: u64 = w.twitch.vod_segment_requests(&video).iter().sum();
        assert_eq!(total - fetched, 8 - kept as u64, "{}", backend.name);

        // A ready VOD is not retried; one job for the failure, one for the retry.
        let r = client.post(&retry, json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
        assert_eq!(r.error().code, Code::Conflict);
        let statuses: Vec<JobStatus> = vod_jobs(&mut client)
            .await
            .iter()
            .map(|j| j.status)
            .collect();
        assert_eq!(statuses.len(), 2, "{statuses:?}");
        assert!(statuses.contains(&JobStatus::Failed) && statuses.contains(&JobStatus::Succeeded));
        assert_eq!(
            detail(&client, &ready.id).await.recording.status,
            RecordingStatus::Ready
        );
        server.kill9();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clips_expire_after_keep_clips_days_and_leave_with_a_channel_deleted_with_its_files() {
    for backend in backends("archive_clips").await {
        let w = world().await;
        w.twitch.add_user("clipper", "Clipper");
        w.twitch
            .add_clip("clipper", "Recent", 50, 2 * DAY)
            .await
            .expect("clip");
        let older = w
            .twitch
            .add_clip("clipper", "Older", 40, 8 * DAY)
            .await
            .expect("clip");
        let data = tempfile::tempdir().expect("data");
        let server = start(
            data.path(),
            backend.database_url.as_deref(),
            common::twitch_world::env(&w, &[]),
        );
        let (mut client, _) = Client::admin(&server).await;
        let id = add(&mut client, "clipper").await.channel.id;
        let path = format!("/api/v1/channels/{id}/archive");
        let clips_only = |period: u32, keep: u32| {
            json!({"enabled": false, "max_age_days": 14, "max_videos": 5, "top_clips": 5,
                "clip_period_days": period, "keep_clips_days": keep})
        };
        // Keeping clips shorter than the period they are taken from is refused.
        let r = client
            .send(reqwest::Method::PUT, &path, Some(clips_only(10, 5)))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.error().code, Code::InvalidRequest);
        assert_eq!(
            archive_settings(&mut client, &id).await.keep_clips_days,
            None
        );

        let r = client
            .send(reqwest::Method::PUT, &path, Some(clips_only(10, 10)))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let job = run_archive(&mut client, &id).await;
        client.wait_succeeded(&job, LONG).await;
        let extras_dir = w.library.path().join("clipper").join("Other");
        assert_eq!(items(&client, &id).await.clips.len(), 2, "{}", backend.name);
        assert_eq!(files_in(&extras_dir, "mp4").len(), 2);

        // Kept 5 days now: the 8-day-old clip goes, file and row, and is not placed again.
        let r = client
            .send(reqwest::Method::PUT, &path, Some(clips_only(3, 5)))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let job = run_archive(&mut client, &id).await;
        client.wait_succeeded(&job, LONG).await;
        let clips = items(&client, &id).await.clips;
        let titles: Vec<&str> = clips.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, vec!["Recent"], "{}", backend.name);
        let left = files_in(&extras_dir, "mp4");
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(!left[0].to_string_lossy().contains(&older), "{left:?}");

        // Deleted with its files: the placed clip goes, the user's own extra stays.
        let own = extras_dir.join("Behind the scenes.mp4");
        std::fs::write(&own, b"mine").expect("own extra");
        let r = client
            .delete(&format!("/api/v1/channels/{id}?recordings=delete"))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
        assert_eq!(
            files_in(&extras_dir, "mp4"),
            vec![own.clone()],
            "{}",
            backend.name
        );
        server.kill9();
    }
}

#[derive(serde::Deserialize)]
struct ProbeFormat {
    format: ProbeDuration,
}

#[derive(serde::Deserialize)]
struct ProbeDuration {
    format_name: String,
    duration: String,
}

/// ffprobe's container name and duration (seconds) of a media file.
fn probe_format(path: &Path) -> (String, f64) {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json"])
        .args(["-show_entries", "format=format_name,duration"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe on {}", path.display());
    let probe: ProbeFormat = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    let secs = probe.format.duration.parse().expect("seconds");
    (probe.format.format_name, secs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_fmp4_vod_is_archived_into_a_playable_mp4() {
    for backend in backends("archive_fmp4").await {
        let w = world().await;
        w.twitch.add_user("enhanced", "Enhanced");
        let video = w
            .twitch
            .add_video_with(
                "enhanced",
                VideoSpec::archive("Enhanced broadcast", Duration::from_secs(3600), 8),
                MediaParams::test(Container::Fmp4),
            )
            .await
            .expect("video");
        let data = tempfile::tempdir().expect("data");
        let server = start(
            data.path(),
            backend.database_url.as_deref(),
            common::twitch_world::env(&w, &[]),
        );
        let (mut client, _) = Client::admin(&server).await;
        let id = add(&mut client, "enhanced").await.channel.id;
        let r = client
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/channels/{id}/archive"),
                Some(json!({"enabled": true, "max_age_days": 7, "max_videos": 5})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

        run_archive(&mut client, &id).await;
        let ready = wait_vod(&client, &id, "the VOD ready", RecordingStatus::Ready).await;
        assert_eq!(
            ready.origin.twitch_video_id.as_deref(),
            Some(video.as_str())
        );
        assert_eq!(w.twitch.vod_segment_requests(&video), vec![1; 8]);
        let mp4 = ready.library.video_path.clone().expect("placed");
        let (format, secs) = probe_format(Path::new(&mp4));
        assert!(format.contains("mp4"), "{}: {format}", backend.name);
        assert!((secs - 8.0).abs() < 0.5, "{}: {secs} s", backend.name);
        let ms = ready.library.duration_ms.expect("probed");
        assert!(ms.abs_diff(8_000) < 500, "{}: {ms}", backend.name);
        server.kill9();
    }
}

/// ffprobe's chapters (its own JSON, read into the fields used here).
#[derive(serde::Deserialize)]
struct Probe {
    #[serde(default)]
    chapters: Vec<ProbeChapter>,
}

#[derive(serde::Deserialize)]
struct ProbeChapter {
    start_time: String,
    tags: ProbeTags,
}

#[derive(serde::Deserialize)]
struct ProbeTags {
    title: String,
}

/// The MP4's chapters as (start in ms, title).
fn mp4_chapters(path: &Path) -> Vec<(u64, String)> {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_chapters"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe on {}", path.display());
    let probe: Probe = serde_json::from_slice(&out.stdout).expect("ffprobe json");
    probe
        .chapters
        .into_iter()
        .map(|c| {
            let secs: f64 = c.start_time.parse().expect("seconds");
            ((secs * 1000.0).round() as u64, c.tags.title)
        })
        .collect()
}

fn sibling(video: &Path, suffix: &str) -> std::path::PathBuf {
    let stem = video.file_stem().expect("stem").to_string_lossy();
    video.with_file_name(format!("{stem}{suffix}"))
}

/// The start times of the subtitle lines (`Dialogue: 0,0:00:01.00,…`).
fn ass_starts(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("ass")
        .lines()
        .filter_map(|l| l.strip_prefix("Dialogue: 0,"))
        .filter_map(|l| l.split(',').next().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archived_vod_gets_its_chat_replay_and_game_chapters_and_a_refusal_only_loses_them() {
    use tapearr_core::chat::ChatLine;
    use tapearr_testkit::twitch::{GqlFault, VideoChatComment, VideoGameMoment};
    for backend in backends("archive_vod_chat").await {
        let name = backend.name;
        let w = world().await;
        w.twitch.add_user("replayer", "Replayer");
        // Two comments a page: the replay takes three pages (cursor after the first).
        w.twitch.set_comment_page_size(2);
        let said = [
            (1, "alice", "first!"),
            (2, "bob", "hi Kappa"),
            (3, "carol", "gg"),
            (5, "alice", "new game"),
            (7, "dave", "wow"),
            (8, "bob", "bye"),
        ];
        let comments = || {
            said.iter()
                .map(|(s, who, text)| VideoChatComment::new(*s, who, text))
                .collect::<Vec<_>>()
        };
        let games = || {
            vec![
                VideoGameMoment::new(0, 5_000, "Minecraft"),
                VideoGameMoment::new(5_000, 5_000, "Celeste"),
            ]
        };
        let hour = Duration::from_secs(3600);
        let mut videos = Vec::new();
        for (title, age) in [("Marathon", 3), ("Cursorless", 2), ("Refused", 1)] {
            let spec = VideoSpec::archive(title, age * hour, 10)
                .comments(comments())
                .moments(games());
            videos.push(w.twitch.add_video("replayer", spec).await.expect("video"));
        }
        let (marathon, cursorless, refused) = (&videos[0], &videos[1], &videos[2]);
        // Twitch's integrity check on cursor pages: offset pages still give the whole chat.
        w.twitch
            .set_video_chat_fault(cursorless, Some(GqlFault::RefuseCursor));
        // Every chat page refused, the moments' answer cut: the VOD lands without either.
        w.twitch
            .set_video_chat_fault(refused, Some(GqlFault::Refuse));
        w.twitch
            .set_video_moments_fault(refused, Some(GqlFault::CutBody));

        let data = tempfile::tempdir().expect("data");
        let server = start(
            data.path(),
            backend.database_url.as_deref(),
            common::twitch_world::env(&w, &[]),
        );
        let (mut client, _) = Client::admin(&server).await;
        let id = add(&mut client, "replayer").await.channel.id;
        set_archive(
            &mut client,
            &id,
            json!({"enabled": true, "max_age_days": 3, "max_videos": 5}),
        )
        .await;
        run_archive(&mut client, &id).await;
        let vods = eventually(LONG, "three VODs ready", || {
            let c = client.clone();
            let id = id.clone();
            async move {
                let vods = items(&c, &id).await.vods;
                (vods.len() == 3 && vods.iter().all(|v| v.status == RecordingStatus::Ready))
                    .then_some(vods)
            }
        })
        .await;
        let mp4_of = |video: &str| {
            let v = vods
                .iter()
                .find(|v| v.origin.twitch_video_id.as_deref() == Some(video))
                .expect("the VOD");
            std::path::PathBuf::from(v.library.video_path.clone().expect("placed"))
        };

        for (video, title) in [(marathon, "Marathon"), (cursorless, "Cursorless")] {
            let mp4 = mp4_of(video);
            let lines: Vec<ChatLine> = std::fs::read_to_string(sibling(&mp4, ".chat.jsonl"))
                .expect("chat beside the MP4")
                .lines()
                .map(|l| serde_json::from_str(l).expect("a chat line"))
                .collect();
            let got: Vec<(u64, &str, &str)> = lines
                .iter()
                .map(|l| (l.ms, l.user.as_str(), l.text.as_str()))
                .collect();
            let want: Vec<(u64, &str, &str)> =
                said.iter().map(|(s, u, t)| (s * 1000, *u, *t)).collect();
            assert_eq!(got, want, "{name}: {title}");
            assert_eq!(lines[1].emotes, "25:3-7", "{name}");
            assert_eq!(lines[0].name, "ALICE", "{name}");
            assert_eq!(
                ass_starts(&sibling(&mp4, ".chat.ass")),
                [
                    "0:00:01.00",
                    "0:00:02.00",
                    "0:00:03.00",
                    "0:00:05.00",
                    "0:00:07.00",
                    "0:00:08.00"
                ],
                "{name}: {title}"
            );
            assert_eq!(
                mp4_chapters(&mp4),
                [
                    (0, format!("Minecraft - {title}")),
                    (5_000, format!("Celeste - {title}"))
                ],
                "{name}: {title}"
            );
        }
        let marathon_requests = w.twitch.comment_requests(marathon);
        assert_eq!(
            (marathon_requests.by_offset, marathon_requests.by_cursor),
            (1, 2),
            "{name}: {marathon_requests:?}"
        );
        let cursorless_requests = w.twitch.comment_requests(cursorless);
        assert!(
            cursorless_requests.refused >= 1 && cursorless_requests.by_offset >= 3,
            "{name}: {cursorless_requests:?}"
        );

        // The refused one: ready, played and chaptered like any VOD, without chat or games,
        // and it says so.
        let reason_of = |video: &str| {
            vods.iter()
                .find(|v| v.origin.twitch_video_id.as_deref() == Some(video))
                .and_then(|v| v.end_reason.clone())
                .unwrap_or_default()
        };
        assert_eq!(reason_of(marathon), "twitch archive", "{name}");
        let reason = reason_of(refused);
        assert!(
            reason.contains("without chat: ") && reason.contains("failed integrity check"),
            "{name}: {reason}"
        );
        assert!(
            reason.contains("without game chapters: "),
            "{name}: {reason}"
        );
        let mp4 = mp4_of(refused);
        assert!(mp4.is_file(), "{name}");
        assert!(!sibling(&mp4, ".chat.jsonl").exists(), "{name}");
        assert!(!sibling(&mp4, ".chat.ass").exists(), "{name}");
        assert_eq!(mp4_chapters(&mp4), [(0, "Refused".to_string())], "{name}");
        assert!(w.twitch.comment_requests(refused).refused >= 1, "{name}");
        server.kill9();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vod_chat_cut_by_a_kill_is_fetched_whole_after_the_restart_and_chat_off_fetches_none() {
    use tapearr_api::routes::channels::ChannelView;
    use tapearr_core::chat::ChatLine;
    use tapearr_testkit::twitch::VideoChatComment;
    for backend in backends("archive_vod_chat_kill").await {
        let name = backend.name;
        let w = world().await;
        w.twitch.add_user("killed", "Killed");
        w.twitch.add_user("quietvods", "Quiet VODs");
        w.twitch.set_comment_page_size(2);
        let comments = || {
            (1..=6)
                .map(|s| VideoChatComment::new(s, "viewer", &format!("line {s}")))
                .collect::<Vec<_>>()
        };
        let spec = |title: &str| {
            VideoSpec::archive(title, Duration::from_secs(3600), 8).comments(comments())
        };
        let video = w
            .twitch
            .add_video("killed", spec("Killed midway"))
            .await
            .expect("video");
        let quiet = w
            .twitch
            .add_video("quietvods", spec("Quiet"))
            .await
            .expect("video");
        // The first page is answered; the second waits while the process is killed.
        w.twitch.hold_video_chat(&video, 1);

        let data = tempfile::tempdir().expect("data");
        let db = backend.database_url.as_deref();
        let env = common::twitch_world::env(&w, &[]);
        let server = start(data.path(), db, env.clone());
        let (mut client, _) = Client::admin(&server).await;
        let id = add(&mut client, "killed").await.channel.id;
        let added = client
            .post(
                "/api/v1/channels",
                json!({"channel": "quietvods", "record_chat": false}),
            )
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        let quiet_id = added.json::<ChannelView>().channel.id;
        let settings = json!({"enabled": true, "max_age_days": 3, "max_videos": 5});
        for channel in [&id, &quiet_id] {
            set_archive(&mut client, channel, settings.clone()).await;
        }
        run_archive(&mut client, &id).await;
        eventually(LONG, "the second chat page in flight", || async {
            (w.twitch.video_chat_held() >= 1).then_some(())
        })
        .await;
        let vod = items(&client, &id).await.vods.pop().expect("the VOD");
        assert_eq!(vod.status, RecordingStatus::Downloading, "{name}");
        // Only a complete chat is called chat.jsonl.
        assert!(!Path::new(&vod.dir).join("chat.jsonl").exists(), "{name}");
        server.kill9();
        w.twitch.release_video_chat();

        let server = start(data.path(), db, env);
        let mut client = Client::new(&server);
        let r = client.login(common::ADMIN, common::PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let ready = eventually(LONG, "the VOD ready", || {
            let c = client.clone();
            let vod_id = vod.id.clone();
            async move {
                let d = detail(&c, &vod_id).await;
                (d.recording.status == RecordingStatus::Ready).then_some(d)
            }
        })
        .await;
        let mp4 = std::path::PathBuf::from(ready.recording.library.video_path.expect("placed"));
        let lines: Vec<ChatLine> = std::fs::read_to_string(sibling(&mp4, ".chat.jsonl"))
            .expect("chat beside the MP4")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a chat line"))
            .collect();
        let got: Vec<(u64, &str)> = lines.iter().map(|l| (l.ms, l.text.as_str())).collect();
        let want: Vec<(u64, String)> = (1..=6).map(|s| (s * 1000, format!("line {s}"))).collect();
        let want: Vec<(u64, &str)> = want.iter().map(|(ms, t)| (*ms, t.as_str())).collect();
        assert_eq!(got, want, "{name}: each message once");
        // Fetched again from the start: one offset page before the kill, one after.
        assert_eq!(w.twitch.comment_requests(&video).by_offset, 2, "{name}");

        // The channel that records no chat gets its VOD without asking for the chat.
        run_archive(&mut client, &quiet_id).await;
        let quiet_vod = eventually(LONG, "the quiet VOD ready", || {
            let c = client.clone();
            let id = quiet_id.clone();
            async move {
                let v = items(&c, &id).await.vods.pop()?;
                (v.status == RecordingStatus::Ready).then_some(v)
            }
        })
        .await;
        let quiet_mp4 = std::path::PathBuf::from(quiet_vod.library.video_path.expect("placed"));
        assert!(quiet_mp4.is_file(), "{name}");
        assert!(!sibling(&quiet_mp4, ".chat.jsonl").exists(), "{name}");
        assert!(!sibling(&quiet_mp4, ".chat.ass").exists(), "{name}");
        assert_eq!(
            w.twitch.comment_requests(&quiet),
            Default::default(),
            "{name}"
        );
        server.kill9();
    }
}
