//! Grouped progress writes (`update_recordings_progress`), on SQLite and (with
//! TAPEARR_TEST_PG_URL) PostgreSQL: every recording's counters and heartbeat are persisted, and
//! each answer says whether the writer still owns that recording.

use tapearr_core::ids::new_id;
use tapearr_core::storage::{ChannelStore, RecordingStore};
use tapearr_core::streams::model::{
    Channel, ChannelSettings, Recording, RecordingLabels, RecordingLibrary, RecordingProgress,
    RecordingStatus,
};
use tapearr_core::time::Timestamp;
use tapearr_db::{Db, testing};

async fn databases(label: &str) -> Vec<(Db, tempfile::TempDir)> {
    let mut out = Vec::new();
    for backend in testing::backends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = match backend {
            None => format!("sqlite://{}", dir.path().join("t.db").display()),
            Some(pg) => testing::isolated_postgres_url(&pg, label)
                .await
                .expect("pg schema"),
        };
        let db = Db::connect(&url).await.expect("connect");
        db.migrate(Some(dir.path())).await.expect("migrate");
        out.push((db, dir));
    }
    out
}

fn channel(login: &str, now: Timestamp) -> Channel {
    Channel {
        id: new_id(),
        twitch_id: new_id(),
        login: login.into(),
        display_name: login.into(),
        description: String::new(),
        avatar_url: None,
        offline_image_url: None,
        settings: ChannelSettings::default(),
        live: true,
        title: String::new(),
        category: String::new(),
        live_checked_at: None,
        removed_at: None,
        created_at: now,
        updated_at: now,
    }
}

fn recording(channel: &Channel, owner: &str, now: Timestamp) -> Recording {
    Recording {
        id: new_id(),
        channel_id: channel.id.clone(),
        stream_id: None,
        status: RecordingStatus::Recording,
        dir: format!("/tmp/{}", channel.login),
        stem: channel.login.clone(),
        quality: "best".into(),
        started_at: now,
        ended_at: None,
        bytes: 0,
        media_ms: 0,
        segments: 0,
        missed_segments: 0,
        sessions: 1,
        owner: owner.into(),
        heartbeat_at: now,
        end_reason: None,
        error: None,
        updated_at: now,
        library: RecordingLibrary::default(),
        origin: Default::default(),
        labels: RecordingLabels::default(),
    }
}

#[tokio::test]
async fn grouped_progress_is_persisted_and_says_who_owns_each_recording() {
    for (db, _dir) in databases("recording_progress").await {
        let start = Timestamp(1_000_000);
        let mut recs = Vec::new();
        for (i, owner) in ["me", "me", "someone-else"].iter().enumerate() {
            let ch = channel(&format!("ch{i}"), start);
            db.insert_twitch_channel(&ch).await.expect("channel");
            let rec = recording(&ch, owner, start);
            db.insert_recording(&rec).await.expect("recording");
            recs.push(rec);
        }
        // The second one has ended: no longer written, like one another process took over.
        db.finish_recording(
            &recs[1].id,
            RecordingStatus::Ended,
            Some("stream ended"),
            None,
            start,
        )
        .await
        .expect("finish");
        let batch: Vec<(String, RecordingProgress)> = recs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let n = i as u64 + 1;
                let p = RecordingProgress {
                    bytes: 1000 * n,
                    media_ms: 2000 * n,
                    segments: n,
                    missed_segments: 0,
                };
                (r.id.clone(), p)
            })
            .collect();
        let at = Timestamp(2_000_000);
        let owned = db
            .update_recordings_progress(&batch, "me", at)
            .await
            .expect("write");
        assert_eq!(owned, vec![true, false, false]);
        let first = db.recording(&recs[0].id).await.expect("read").expect("row");
        assert_eq!(
            (first.bytes, first.media_ms, first.segments),
            (1000, 2000, 1)
        );
        assert_eq!(
            first.heartbeat_at, at,
            "the heartbeat moves with the counters"
        );
        for rec in &recs[1..] {
            let row = db.recording(&rec.id).await.expect("read").expect("row");
            assert_eq!(row.bytes, 0, "not ours or not running: unchanged");
            assert_eq!(row.heartbeat_at, start);
        }
        // More recordings than one statement takes: all written, in one transaction.
        let mut many = Vec::new();
        for i in 0..450 {
            let ch = channel(&format!("many{i}"), start);
            db.insert_twitch_channel(&ch).await.expect("channel");
            let rec = recording(&ch, "me", start);
            db.insert_recording(&rec).await.expect("recording");
            many.push(rec);
        }
        let batch: Vec<(String, RecordingProgress)> = many
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let p = RecordingProgress {
                    bytes: i as u64,
                    media_ms: 0,
                    segments: 1,
                    missed_segments: 2,
                };
                (r.id.clone(), p)
            })
            .collect();
        let owned = db
            .update_recordings_progress(&batch, "me", at)
            .await
            .expect("write many");
        assert!(owned.iter().all(|o| *o) && owned.len() == 450);
        let last = db
            .recording(&many[449].id)
            .await
            .expect("read")
            .expect("row");
        assert_eq!(
            (last.bytes, last.segments, last.missed_segments),
            (449, 1, 2)
        );
        assert!(
            db.update_recordings_progress(&[], "me", at)
                .await
                .expect("empty")
                .is_empty()
        );
    }
}
