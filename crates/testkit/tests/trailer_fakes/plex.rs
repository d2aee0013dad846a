//! The fake Plex's library: sections, paged items with Guids, metadata, extras.

use serde_json::Value;
use tapearr_testkit::media_servers::FakeMediaServer;
use tapearr_testkit::plex_library::{PlexItem, PlexKind};

use super::client;

const TOKEN: &str = "plex-token";

async fn get(url: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = client()
        .get(url)
        .header("X-Plex-Token", TOKEN)
        .header("Accept", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("send");
    let (status, h) = (res.status().as_u16(), res.headers().clone());
    (status, h, res.text().await.expect("body"))
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).expect("JSON")
}

#[tokio::test]
async fn sections_items_paging_metadata_and_extras() {
    let plex = FakeMediaServer::plex(TOKEN, &[("1", "Movies", "/media/Movies")])
        .await
        .expect("plex");
    plex.plex_add_section(
        "2",
        PlexKind::Show,
        "TV Shows",
        &["/media/TV", "/media/TV2"],
    );
    let matrix = plex
        .plex_add_item(
            "1",
            PlexItem::movie(
                "The Matrix",
                1999,
                "/media/Movies/The Matrix (1999)/The Matrix (1999).mkv",
            )
            .guid("imdb://tt0133093")
            .guid("tmdb://603")
            .trailer_file(
                "Trailer",
                "/media/Movies/The Matrix (1999)/Trailers/Trailer #1.mp4",
            ),
        )
        .expect("section 1");
    let online = plex
        .plex_add_item(
            "1",
            PlexItem::movie("Amélie", 2001, "/media/Movies/Amélie (2001)/Amélie.mkv")
                .guid("tmdb://194")
                .online_trailer("Trailer"),
        )
        .expect("section 1");
    let bare = plex
        .plex_add_item(
            "1",
            PlexItem::movie("Se7en", 1995, "/media/Movies/Se7en (1995)/Se7en.mkv"),
        )
        .expect("section 1");
    let show = plex
        .plex_add_item(
            "2",
            PlexItem::show("Breaking Bad", 2008, "/media/TV/Breaking Bad").guid("tvdb://81189"),
        )
        .expect("section 2");
    assert!(
        plex.plex_add_item("9", PlexItem::show("x", 1, "/x"))
            .is_none()
    );
    let base = plex.url();

    let (_, _, body) = get(&format!("{base}/library/sections"), &[]).await;
    let dirs = json(&body)["MediaContainer"]["Directory"].clone();
    assert_eq!(dirs[0]["type"], "movie");
    assert_eq!(dirs[1]["type"], "show");
    assert_eq!(dirs[1]["Location"][1]["path"], "/media/TV2");

    // Paged by query parameters, then by headers (as python-plexapi sends them).
    let (s, h, body) = get(
        &format!("{base}/library/sections/1/all?includeGuids=1&X-Plex-Container-Start=0&X-Plex-Container-Size=2"),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let page = json(&body)["MediaContainer"].clone();
    assert_eq!(
        (
            page["size"].as_u64(),
            page["totalSize"].as_u64(),
            page["offset"].as_u64()
        ),
        (Some(2), Some(3), Some(0))
    );
    assert_eq!(h["X-Plex-Container-Total-Size"], "3");
    let m = &page["Metadata"][0];
    assert_eq!(m["ratingKey"], matrix.as_str());
    assert!(m["ratingKey"].is_string() && m["year"] == 1999 && m["addedAt"].is_i64());
    assert_eq!(m["Guid"][1]["id"], "tmdb://603");
    assert_eq!(
        m["Media"][0]["Part"][0]["file"],
        "/media/Movies/The Matrix (1999)/The Matrix (1999).mkv"
    );
    let (_, h, body) = get(
        &format!("{base}/library/sections/1/all"),
        &[
            ("X-Plex-Container-Start", "2"),
            ("X-Plex-Container-Size", "2"),
        ],
    )
    .await;
    let page = json(&body)["MediaContainer"].clone();
    assert_eq!(
        (page["size"].as_u64(), page["offset"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(page["Metadata"][0]["title"], "Se7en");
    assert!(
        page["Metadata"][0].get("Guid").is_none(),
        "Guids only with includeGuids=1"
    );
    assert_eq!(h["X-Plex-Container-Start"], "2");
    let (_, _, body) = get(&format!("{base}/library/sections/1/all"), &[]).await;
    let all = json(&body)["MediaContainer"].clone();
    assert_eq!(all["size"], 3);
    assert!(all.get("totalSize").is_none(), "unpaged: size only");

    // A show's folders are on its metadata.
    let (_, _, body) = get(&format!("{base}/library/metadata/{show}"), &[]).await;
    let meta = json(&body)["MediaContainer"]["Metadata"][0].clone();
    assert_eq!(meta["type"], "show");
    assert_eq!(meta["Location"][0]["path"], "/media/TV/Breaking Bad");

    // Extras: a local trailer file, an online one, none.
    let (_, _, body) = get(&format!("{base}/library/metadata/{matrix}/extras"), &[]).await;
    let x = json(&body)["MediaContainer"]["Metadata"][0].clone();
    assert_eq!(x["type"], "clip");
    assert_eq!(x["subtype"], "trailer");
    assert_eq!(x["extraType"], 1);
    assert_eq!(
        x["guid"],
        "file:///media/Movies/The%20Matrix%20%281999%29/Trailers/Trailer%20%231.mp4"
    );
    assert_eq!(
        x["Media"][0]["Part"][0]["file"],
        "/media/Movies/The Matrix (1999)/Trailers/Trailer #1.mp4"
    );
    let (_, _, body) = get(&format!("{base}/library/metadata/{online}/extras"), &[]).await;
    let x = json(&body)["MediaContainer"]["Metadata"][0].clone();
    assert!(x["guid"].as_str().is_some_and(|g| g.starts_with("iva://")));
    assert!(x["Media"][0]["Part"][0].get("file").is_none());
    let (_, _, body) = get(&format!("{base}/library/metadata/{bare}/extras"), &[]).await;
    assert_eq!(
        json(&body),
        serde_json::json!({"MediaContainer": {"size": 0}})
    );
    let (_, _, body) = get(
        &format!("{base}/library/metadata/{matrix}?includeExtras=1"),
        &[],
    )
    .await;
    assert_eq!(
        json(&body)["MediaContainer"]["Metadata"][0]["Extras"]["size"],
        1
    );

    // Errors are HTML.
    let (s, h, _) = get(&format!("{base}/library/metadata/424242"), &[]).await;
    assert_eq!(
        (s, &h["content-type"]),
        (404, &"text/html".parse().expect("header"))
    );
    let res = client()
        .get(format!("{base}/library/sections/1/all"))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 401);
    assert!(res.text().await.expect("body").contains("401 Unauthorized"));

    // Rescans still work, for the new section too.
    let (s, _, _) = get(
        &format!("{base}/library/sections/2/refresh?path=/media/TV/Breaking%20Bad"),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        plex.scans(),
        vec![("2".to_owned(), "/media/TV/Breaking Bad".to_owned())]
    );
}

#[tokio::test]
async fn sections_and_items_are_added_over_http() {
    let plex = FakeMediaServer::plex(TOKEN, &[]).await.expect("plex");
    let base = plex.url();
    let control = |path: &str, body: Value| {
        client()
            .post(format!("{base}/_control{path}"))
            .json(&body)
            .send()
    };
    let r = control(
        "/sections",
        serde_json::json!({"key": "4", "type": "show", "title": "TV", "folders": ["/plex/TV"]}),
    )
    .await
    .expect("send");
    assert_eq!(r.status(), 204);
    let r = control(
        "/sections",
        serde_json::json!({"key": "5", "type": "music", "title": "Music", "folders": []}),
    )
    .await
    .expect("send");
    assert_eq!(r.status(), 400);
    let r = control(
        "/items",
        serde_json::json!({"section": "4", "title": "Night Shift", "year": 2020,
                           "path": "/plex/TV/Night Shift", "guids": ["tvdb://3200001"]}),
    )
    .await
    .expect("send");
    assert_eq!(r.status(), 200);
    let rk = json(&r.text().await.expect("body"))["ratingKey"]
        .as_str()
        .expect("ratingKey")
        .to_string();
    let r = control(
        "/items",
        serde_json::json!({"section": "9", "title": "x", "year": 1, "path": "/x"}),
    )
    .await
    .expect("send");
    assert_eq!(r.status(), 404);

    // The item is a show (as its section), with its folder and Guid.
    let (_, _, body) = get(&format!("{base}/library/sections"), &[]).await;
    let dirs = json(&body)["MediaContainer"]["Directory"].clone();
    assert_eq!(dirs.as_array().map(Vec::len), Some(1));
    assert_eq!(dirs[0]["Location"][0]["path"], "/plex/TV");
    let (_, _, body) = get(&format!("{base}/library/metadata/{rk}"), &[]).await;
    let meta = json(&body)["MediaContainer"]["Metadata"][0].clone();
    assert_eq!(meta["type"], "show");
    assert_eq!(meta["Location"][0]["path"], "/plex/TV/Night Shift");
    assert_eq!(meta["Guid"][0]["id"], "tvdb://3200001");
}
