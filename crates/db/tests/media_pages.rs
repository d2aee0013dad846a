//! The list pages that B6 loads: the Movies/Series list by offset and by keyset cursor (every
//! item exactly once and in order, also when items are added between pages) and the recordings
//! list with the filters that are set; on SQLite and (with TAPEARR_TEST_PG_URL) PostgreSQL.

use tapearr_core::secret::Secret;
use tapearr_core::storage::{
    ArrConnectionStore, ChannelStore, DownloadStore, MediaStore, PageRequest, RecordingQuery,
    RecordingStore, TrailerProfileStore,
};
use tapearr_core::streams::model::{Channel, Recording, RecordingStatus};
use tapearr_core::time::Timestamp;
use tapearr_core::trailers::model::Profile;
use tapearr_core::trailers::model::{
    Connection, ConnectionKind, DownloadRecord, DownloadStatus, MediaCursor, MediaItem, MediaKind,
    MediaQuery,
};
use tapearr_db::Db;

mod common;

use common::databases;

fn connection() -> Connection {
    Connection {
        id: "c1".into(),
        name: "radarr".into(),
        kind: ConnectionKind::Radarr,
        url: "http://127.0.0.1:1".into(),
        api_key: Secret::new("k"),
        path_mappings: Vec::new(),
        monitor_new: true,
        enabled: true,
        last_sync_at: None,
        last_sync_error: None,
        last_sync_items: None,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

fn movie(n: i64, title: &str, year: Option<i32>) -> MediaItem {
    MediaItem {
        id: format!("m{n:04}"),
        connection_id: "c1".into(),
        kind: MediaKind::Movie,
        arr_id: n,
        ext_id: n,
        tmdb_id: None,
        imdb_id: None,
        title: title.into(),
        original_title: None,
        year,
        language: None,
        studio: None,
        overview: None,
        runtime_min: None,
        tags: Vec::new(),
        folder: format!("/movies/{n}"),
        media_files: Vec::new(),
        has_file: true,
        arr_monitored: true,
        monitor: n % 3 != 0,
        arr_trailer_id: None,
        trailer_id_override: None,
        poster_url: None,
        fanart_url: None,
        server_trailer: None,
        seasons: Vec::new(),
        added_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

fn profile(id: &str) -> Profile {
    serde_json::from_value(serde_json::json!({
        "id": id, "name": id, "enabled": true, "priority": 0, "filters": [],
        "search": {}, "output": {}, "created_at": 0, "updated_at": 0
    }))
    .expect("profile")
}

fn download(media_id: &str, profile_id: &str, status: DownloadStatus) -> DownloadRecord {
    DownloadRecord {
        media_id: media_id.into(),
        profile_id: profile_id.into(),
        slot: Default::default(),
        status,
        video_id: None,
        source: None,
        file_path: None,
        file_bytes: None,
        duration_ms: None,
        reason: None,
        error_kind: None,
        attempts: 0,
        next_attempt_at: None,
        updated_at: Timestamp(0),
        height: None,
        upgrade_checked_at: None,
        upgrades: 0,
    }
}

async fn add(db: &Db, items: Vec<MediaItem>) {
    let rows: Vec<(MediaItem, String)> = items.into_iter().map(|m| (m, "f".into())).collect();
    db.upsert_media(&rows, &[]).await.expect("insert media");
}

/// Titles that share a title (with and without a year), differ only in case, and sort
/// around each other, so the tie-breakers are exercised on every page boundary.
fn library(count: i64) -> Vec<MediaItem> {
    (0..count)
        .map(|n| {
            let title = match n % 4 {
                0 => format!("Alien {}", n / 8),
                1 => format!("alien {}", n / 8),
                2 => "The Thing".to_string(),
                _ => format!("Zodiac {n}"),
            };
            let year = match n % 5 {
                0 => None,
                k => Some(1980 + i32::try_from(k).unwrap_or(0)),
            };
            movie(n, &title, year)
        })
        .collect()
}

/// Every page by cursor until there is none; the ids in the order they came.
async fn walk_by_cursor(db: &Db, base: &MediaQuery) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<MediaCursor> = None;
    loop {
        let page = db.list_media(base, cursor.as_ref()).await.expect("page");
        seen.extend(page.items.iter().map(|m| m.id.clone()));
        assert_eq!(page.items.len(), page.scans.len());
        match page.next {
            Some(next) => {
                // What the API hands out and reads back.
                cursor = Some(MediaCursor::decode(&next.encode()).expect("round trip"));
            }
            None => break,
        }
        assert!(seen.len() <= 10_000, "the cursor walk does not end");
    }
    seen
}

#[tokio::test]
async fn offset_and_cursor_pages_list_every_item_once_in_order() {
    for t in databases("mediapages").await {
        let db = &t.db;
        db.insert_arr_connection(&connection())
            .await
            .expect("connection");
        add(db, library(203)).await;
        let base = MediaQuery {
            limit: Some(7),
            ..MediaQuery::default()
        };

        // The whole list in one page is the reference order.
        let all = db
            .list_media(
                &MediaQuery {
                    limit: Some(500),
                    ..MediaQuery::default()
                },
                None,
            )
            .await
            .expect("all");
        assert_eq!(all.total, 203);
        assert!(all.next.is_none());
        let reference: Vec<String> = all.items.iter().map(|m| m.id.clone()).collect();
        // Among equal (case-folded) titles, by year then id; the titles' own order is the
        // database's collation, which differs between backends.
        for pair in all.items.windows(2) {
            if pair[0].title.to_lowercase() == pair[1].title.to_lowercase() {
                let key = |m: &MediaItem| (m.year.unwrap_or(0), m.id.clone());
                assert!(
                    key(&pair[0]) < key(&pair[1]),
                    "{:?}",
                    (&pair[0].id, &pair[1].id)
                );
            }
        }

        // The plan's read: every item once, with its scan state, without the long texts.
        let (plan_items, plan_scans) = db.plan_media().await.expect("plan media");
        assert_eq!(plan_items.len(), 203);
        assert_eq!(plan_scans.len(), 203);
        assert!(plan_items.iter().all(|m| m.overview.is_none()));
        assert!(plan_items.iter().any(|m| !m.monitor) && plan_items.iter().any(|m| m.monitor));

        // By offset.
        let mut by_offset = Vec::new();
        for offset in (0..210).step_by(7) {
            let page = db
                .list_media(
                    &MediaQuery {
                        offset: Some(offset),
                        ..base.clone()
                    },
                    None,
                )
                .await
                .expect("page");
            assert_eq!(page.total, 203);
            by_offset.extend(page.items.iter().map(|m| m.id.clone()));
        }
        assert_eq!(by_offset, reference, "offset pages");

        // By cursor.
        assert_eq!(walk_by_cursor(db, &base).await, reference, "cursor pages");

        // With filters: the cursor walk equals the filtered list.
        let monitored = MediaQuery {
            monitored: Some(true),
            q: Some("alien".into()),
            ..base.clone()
        };
        let filtered: Vec<String> = all
            .items
            .iter()
            .filter(|m| m.monitor && m.title.to_lowercase().contains("alien"))
            .map(|m| m.id.clone())
            .collect();
        assert!(!filtered.is_empty());
        assert_eq!(walk_by_cursor(db, &monitored).await, filtered);

        // The trailer filter: an item counts once whatever number of its records match.
        for p in ["p1", "p2"] {
            db.insert_trailer_profile(&profile(p))
                .await
                .expect("profile");
        }
        for (i, id) in reference.iter().enumerate().step_by(3) {
            let status = if i % 2 == 0 {
                DownloadStatus::Existing
            } else {
                DownloadStatus::Failed
            };
            for p in ["p1", "p2"] {
                db.save_download(&download(id, p, status))
                    .await
                    .expect("record");
            }
        }
        let has: Vec<String> = reference
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 == 0 && i % 2 == 0)
            .map(|(_, id)| id.clone())
            .collect();
        let with_trailer = MediaQuery {
            trailer: Some("has".into()),
            ..base.clone()
        };
        assert_eq!(walk_by_cursor(db, &with_trailer).await, has);
        let counted = db.list_media(&with_trailer, None).await.expect("has");
        assert_eq!(counted.total, has.len() as u64);
        let failed = db
            .list_media(
                &MediaQuery {
                    trailer: Some("failed".into()),
                    ..base.clone()
                },
                None,
            )
            .await
            .expect("failed");
        assert_eq!(
            failed.total,
            (reference.len() as u64).div_ceil(3) - has.len() as u64
        );

        // Items added between pages: one that sorts after the cursor comes once, one before
        // it never shifts the pages (no item repeated, none skipped).
        let first = db.list_media(&base, None).await.expect("first page");
        let cursor = first.next.clone().expect("a next page");
        add(
            db,
            vec![
                movie(9000, "AAA before everything", Some(2000)),
                movie(9001, "zzz after everything", Some(2000)),
            ],
        )
        .await;
        let mut rest = Vec::new();
        let mut next = Some(cursor);
        while let Some(c) = next {
            let page = db.list_media(&base, Some(&c)).await.expect("page");
            assert_eq!(page.total, 205);
            rest.extend(page.items.iter().map(|m| m.id.clone()));
            next = page.next;
        }
        let mut walked: Vec<String> = first.items.iter().map(|m| m.id.clone()).collect();
        walked.extend(rest);
        let mut expected = reference.clone();
        expected.push("m9001".into());
        assert_eq!(walked, expected, "added items across a cursor walk");
    }
}

#[test]
fn a_cursor_that_is_not_ours_is_refused() {
    assert!(MediaCursor::decode("not a cursor").is_none());
    assert!(MediaCursor::decode("").is_none());
    let c = MediaCursor {
        title: "ünïcode / title".into(),
        year: 0,
        id: "x".into(),
    };
    let text = c.encode();
    assert!(
        text.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'),
        "URL-safe: {text}"
    );
    assert_eq!(MediaCursor::decode(&text), Some(c));
}

fn channel(id: &str, login: &str) -> Channel {
    Channel {
        id: id.into(),
        twitch_id: format!("t{id}"),
        login: login.into(),
        display_name: login.to_uppercase(),
        description: String::new(),
        avatar_url: None,
        offline_image_url: None,
        settings: Default::default(),
        live: false,
        title: String::new(),
        category: String::new(),
        live_checked_at: None,
        removed_at: None,
        created_at: Timestamp(0),
        updated_at: Timestamp(0),
    }
}

fn recording(n: i64, channel_id: &str, status: RecordingStatus) -> Recording {
    Recording {
        id: format!("r{n:04}"),
        channel_id: channel_id.into(),
        stream_id: None,
        status,
        dir: format!("/parts/{n}"),
        stem: format!("s{n}"),
        quality: "best".into(),
        // Pairs share a start time, so the id breaks the tie on page boundaries.
        started_at: Timestamp(1_000_000 + (n / 2) * 1000),
        ended_at: None,
        bytes: 1,
        media_ms: 1,
        segments: 1,
        missed_segments: 0,
        sessions: 1,
        owner: "o".into(),
        heartbeat_at: Timestamp(0),
        end_reason: None,
        error: None,
        updated_at: Timestamp(0),
        library: Default::default(),
        origin: Default::default(),
        labels: Default::default(),
    }
}

#[tokio::test]
async fn recording_pages_list_every_recording_once_with_only_the_filters_set() {
    for t in databases("recpages").await {
        let db = &t.db;
        db.insert_twitch_channel(&channel("c1", "alpha"))
            .await
            .expect("c1");
        db.insert_twitch_channel(&channel("c2", "beta"))
            .await
            .expect("c2");
        for n in 0..61 {
            let (ch, status) = match n % 3 {
                0 => ("c1", RecordingStatus::Ready),
                1 => ("c2", RecordingStatus::Ready),
                _ => ("c2", RecordingStatus::Ended),
            };
            db.insert_recording(&recording(n, ch, status))
                .await
                .expect("recording");
        }
        let query = |page: PageRequest| RecordingQuery {
            page,
            ..RecordingQuery::default()
        };
        let all = db
            .list_recordings(&query(PageRequest::new(Some(500), None)))
            .await
            .expect("all");
        assert_eq!(all.total, 61);
        let reference: Vec<String> = all.items.iter().map(|r| r.id.clone()).collect();
        // Newest first, the id breaking ties.
        for pair in all.items.windows(2) {
            let key = |r: &Recording| (r.started_at, r.id.clone());
            assert!(key(&pair[0]) > key(&pair[1]));
        }
        let mut paged = Vec::new();
        for offset in (0..70).step_by(8) {
            let page = db
                .list_recordings(&query(PageRequest::new(Some(8), Some(offset))))
                .await
                .expect("page");
            assert_eq!(page.total, 61);
            paged.extend(page.items.iter().map(|r| r.id.clone()));
        }
        assert_eq!(paged, reference);

        let filtered = |q: RecordingQuery| async move {
            let p = db.list_recordings(&q).await.expect("filtered");
            (p.total, p.items.len())
        };
        let page = PageRequest::new(Some(5), None);
        assert_eq!(
            filtered(RecordingQuery {
                status: Some(RecordingStatus::Ended),
                page,
                ..RecordingQuery::default()
            })
            .await,
            (20, 5)
        );
        assert_eq!(
            filtered(RecordingQuery {
                channel_id: Some("c2".into()),
                status: Some(RecordingStatus::Ready),
                page,
                ..RecordingQuery::default()
            })
            .await,
            (20, 5)
        );
        assert_eq!(
            filtered(RecordingQuery {
                search: Some("ALPHA".into()),
                page,
                ..RecordingQuery::default()
            })
            .await,
            (21, 5)
        );
        assert_eq!(
            filtered(RecordingQuery {
                from: Some(Timestamp(1_000_000 + 10 * 1000)),
                to: Some(Timestamp(1_000_000 + 20 * 1000)),
                page: PageRequest::new(Some(100), None),
                ..RecordingQuery::default()
            })
            .await,
            (20, 20)
        );
        assert_eq!(
            filtered(RecordingQuery {
                category: Some("chess".into()),
                page,
                ..RecordingQuery::default()
            })
            .await,
            (0, 0)
        );
    }
}
