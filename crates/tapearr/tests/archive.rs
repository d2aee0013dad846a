//! The archive (S10), end to end with the real binary, the fake Twitch (Helix `/videos` and
//! `/clips`, the VOD playback token, usher's VOD playlists, clip files) on SQLite and
//! PostgreSQL: VODs within the channel's limits are archived (older ones skipped), a download
//! killed halfway resumes without fetching finished segments again, muted segments are kept
//! (recorded as audio gaps), top clips land in the show's `Other/` folder, a second run changes
//! nothing, and a VOD of a broadcast recorded live replaces it when the channel prefers VODs.

mod common;

use common::twitch_world::{WAIT, add, detail, start, wait_detail, world};
use common::{Client, backends, eventually};
use reqwest::StatusCode;
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use tapearr_api::routes::archive::ArchiveRunStarted;
use tapearr_core::archive::ArchiveItems;
use tapearr_core::archive::model::{ArchiveSettings, ClipStatus};
use tapearr_core::streams::model::{RecordingSource, RecordingStatus};
use tapearr_hls::vod::join::JoinProgress;
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
        let segments = library.join("archivist").join(".parts");
        eventually(LONG, "nine finished segments", || {
            let segments = segments.clone();
            async move {
                let dirs = std::fs::read_dir(&segments).ok()?;
                let done: u64 = dirs
                    .filter_map(Result::ok)
                    .map(|d| {
                        let work = d.path().join(".segments");
                        let joined = JoinProgress::read(&work).ok().flatten();
                        files_in(&work, "ts").len() as u64 + joined.map_or(0, |j| j.next_segment)
                    })
                    .sum();
                (done == 9).then_some(())
            }
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
            std::fs::read_dir(&segments).map_or(true, |mut d| d.next().is_none()),
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
        let r = client
            .send(
                reqwest::Method::PUT,
                &format!("/api/v1/channels/{id}/archive"),
                Some(json!({"enabled": true, "max_age_days": 3, "max_videos": 5,
                    "live_policy": "prefer_vod"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
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
