//! The Movies/Series list pages (B6): by offset and by keyset cursor, every item comes exactly
//! once and in order, also when items are added between pages; on SQLite and (with
//! TAPEARR_TEST_PG_URL) PostgreSQL.

use tapearr_core::secret::Secret;
use tapearr_core::storage::TrailerStore;
use tapearr_core::time::Timestamp;
use tapearr_core::trailers::model::{
    Connection, ConnectionKind, MediaCursor, MediaItem, MediaKind, MediaQuery,
};
use tapearr_db::{Db, testing};

struct TestDb {
    db: Db,
    _dir: tempfile::TempDir,
}

async fn databases(label: &str) -> Vec<TestDb> {
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
        out.push(TestDb { db, _dir: dir });
    }
    out
}

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
        has_file: true,
        arr_monitored: true,
        monitor: n % 3 != 0,
        arr_trailer_id: None,
        trailer_id_override: None,
        poster_url: None,
        fanart_url: None,
        added_at: Timestamp(0),
        updated_at: Timestamp(0),
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
