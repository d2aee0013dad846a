//! Plex as a trailer source against the fake Plex from testkit: the details the section list
//! lacks (a show's folder, an item's trailer extra) come a batch of items at a time.

use tapearr_integrations::mediaserver::plex_library::{PlexEntry, PlexItemKind, library};
use tapearr_testkit::media_servers::FakeMediaServer;
use tapearr_testkit::plex_library::{PlexItem, PlexKind};

const TOKEN: &str = "plex-token-batch";

/// 230 movies (every third with a trailer extra, local or online) in one section and 70 shows
/// (every fifth with a trailer file) in another.
async fn big_plex() -> FakeMediaServer {
    let plex = FakeMediaServer::plex(TOKEN, &[("1", "Movies", "/plex/Movies")])
        .await
        .expect("plex");
    plex.plex_add_section("2", PlexKind::Show, "TV Shows", &["/plex/TV"]);
    for n in 0..230 {
        let title = format!("Movie {n:03}");
        let mut item = PlexItem::movie(&title, 2000, &format!("/plex/Movies/{title}/{title}.mkv"));
        item = match n % 6 {
            0 => item.online_trailer(&title),
            3 => item.trailer_file(&title, &format!("/plex/Movies/{title}/{title}-trailer.mp4")),
            _ => item,
        };
        plex.plex_add_item("1", item).expect("movie added");
    }
    for n in 0..70 {
        let title = format!("Show {n:02}");
        let mut item = PlexItem::show(&title, 2010, &format!("/plex/TV/{title}"));
        if n % 5 == 0 {
            item = item.trailer_file(&title, &format!("/plex/TV/{title}/{title}-trailer.mp4"));
        }
        plex.plex_add_item("2", item).expect("show added");
    }
    plex
}

async fn read(plex: &FakeMediaServer, ask_extras: bool) -> Vec<PlexEntry> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let mut entries = Vec::new();
    let summary = library(&http, &plex.url(), TOKEN, ask_extras, |r| {
        entries.push(r.expect("every item is readable"));
    })
    .await
    .expect("library");
    assert_eq!(summary.items, 300);
    assert_eq!(summary.skipped, 0);
    entries
}

#[tokio::test]
async fn extras_and_show_folders_are_read_fifty_items_a_request() {
    let plex = big_plex().await;
    let entries = read(&plex, true).await;
    let movies: Vec<&PlexEntry> = entries
        .iter()
        .filter(|e| e.kind == PlexItemKind::Movie)
        .collect();
    assert_eq!(movies.len(), 230);
    for (n, m) in movies.iter().enumerate() {
        assert_eq!(m.item.title, format!("Movie {n:03}"));
        assert_eq!(
            m.server_has_trailer,
            Some(n % 3 == 0),
            "{}: the trailer extra is seen exactly where Plex shows one",
            m.item.title
        );
    }
    let shows: Vec<&PlexEntry> = entries
        .iter()
        .filter(|e| e.kind == PlexItemKind::Show)
        .collect();
    assert_eq!(shows.len(), 70);
    for (n, s) in shows.iter().enumerate() {
        assert_eq!(s.item.path, format!("/plex/TV/Show {n:02}"));
        assert_eq!(s.server_has_trailer, Some(n % 5 == 0), "{}", s.item.title);
    }
    // Pages of 200: movies 200 + 30 → 4 + 1 requests, shows 70 → 2 (one per item was 300).
    assert_eq!(plex.plex_metadata_requests(), 7);
}

#[tokio::test]
async fn without_extras_only_shows_need_their_details() {
    let plex = big_plex().await;
    let entries = read(&plex, false).await;
    assert!(entries.iter().all(|e| e.server_has_trailer.is_none()));
    let show = entries
        .iter()
        .find(|e| e.item.title == "Show 42")
        .expect("show");
    assert_eq!(show.item.path, "/plex/TV/Show 42");
    assert_eq!(plex.plex_metadata_requests(), 2, "70 shows, 50 a request");
}
