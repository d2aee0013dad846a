//! [`TmdbClient`] against the testkit's fake TMDB, and the trailer order.

use tapearr_testkit::tmdb::{FakeTmdb, TmdbVideo as FakeVideo};

use super::*;

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

fn api(fake: &FakeTmdb) -> String {
    format!("{}/3", fake.url())
}

fn assert_no_key(e: &TmdbError, key: &str) {
    let (shown, debug) = (e.to_string(), format!("{e:?}"));
    assert!(!shown.contains(key), "key in `{shown}`");
    assert!(!debug.contains(key), "key in `{debug}`");
}

fn fight_club() -> Vec<FakeVideo> {
    vec![
        FakeVideo::trailer("O-b2VfmmbyA", "Fight Club (1999) Trailer")
            .official(false)
            .size(720)
            .published("2016-03-05T02:03:14.000Z"),
        FakeVideo::trailer("BdJKm16Co6M", "Fight Club | #TBT Trailer")
            .published("2014-10-02T19:20:22.000Z"),
        FakeVideo::trailer("deTrailer01", "Fight Club – Trailer (Deutsch)").lang("de", "DE"),
        FakeVideo::trailer("frTrailer01", "Bande-annonce").lang("fr", "FR"),
        FakeVideo::trailer("noLanguage1", "Teaser")
            .lang("xx", "")
            .kind("Teaser"),
        FakeVideo::trailer("vimeo123", "On Vimeo").site("Vimeo"),
    ]
}

#[tokio::test]
async fn videos_in_several_languages_ask_for_each() {
    let fake = FakeTmdb::start().await.expect("fake");
    fake.set_movie_videos(550, fight_club());
    let client = TmdbClient::new(http(), &api(&fake), fake.api_key()).expect("client");

    let videos = client
        .videos_in(TmdbKind::Movie, 550, &["fr-FR", " ", "de", "FR"])
        .await
        .expect("videos");
    let mut keys: Vec<&str> = videos.iter().map(|v| v.key.as_str()).collect();
    keys.sort_unstable();
    // French and German (each asked), English and language-less (always).
    assert_eq!(
        keys,
        [
            "BdJKm16Co6M",
            "O-b2VfmmbyA",
            "deTrailer01",
            "frTrailer01",
            "noLanguage1",
            "vimeo123"
        ]
    );
    let requests = fake.requests();
    assert_eq!(requests[0].language.as_deref(), Some("fr-FR"));
}

#[tokio::test]
async fn videos_by_language_with_an_api_key() {
    let fake = FakeTmdb::start().await.expect("fake");
    fake.set_movie_videos(550, fight_club());
    let client = TmdbClient::new(http(), &api(&fake), fake.api_key()).expect("client");

    let videos = client
        .videos(TmdbKind::Movie, 550, Some("de-DE"))
        .await
        .expect("videos");
    let keys: Vec<&str> = videos.iter().map(|v| v.key.as_str()).collect();
    // German, English (include_video_language) and language-less; not French.
    assert_eq!(
        keys,
        [
            "O-b2VfmmbyA",
            "BdJKm16Co6M",
            "deTrailer01",
            "noLanguage1",
            "vimeo123"
        ]
    );
    let first = &videos[0];
    assert_eq!(
        first,
        &TmdbVideo {
            key: "O-b2VfmmbyA".into(),
            name: "Fight Club (1999) Trailer".into(),
            site: "YouTube".into(),
            kind: "Trailer".into(),
            official: false,
            language: Some("en".into()),
            country: Some("US".into()),
            size: Some(720),
            published_at: Some("2016-03-05T02:03:14.000Z".into()),
        }
    );
    let no_language = &videos[3];
    assert_eq!(
        (
            no_language.language.as_deref(),
            no_language.country.as_deref()
        ),
        (None, None)
    );
    let requests = fake.requests();
    assert_eq!(requests[0].path, "/3/movie/550/videos");
    assert_eq!(requests[0].language.as_deref(), Some("de-DE"));

    // The pick: German first, then English official before fan-made.
    let picked: Vec<&str> = youtube_trailers(&videos, Some("de-DE"))
        .iter()
        .map(|v| v.key.as_str())
        .collect();
    assert_eq!(
        picked,
        ["deTrailer01", "BdJKm16Co6M", "O-b2VfmmbyA", "noLanguage1"]
    );

    // No language: TMDB's default (English) plus language-less.
    let videos = client
        .videos(TmdbKind::Movie, 550, None)
        .await
        .expect("videos");
    let keys: Vec<&str> = videos.iter().map(|v| v.key.as_str()).collect();
    assert_eq!(
        keys,
        ["O-b2VfmmbyA", "BdJKm16Co6M", "noLanguage1", "vimeo123"]
    );
    assert_eq!(fake.requests()[1].language, None);
    // Vimeo's are picked apart from YouTube's (a fallback while YouTube refuses us).
    let vimeo: Vec<&str> = site_trailers(&videos, "vimeo", None)
        .iter()
        .map(|v| v.key.as_str())
        .collect();
    assert_eq!(vimeo, ["vimeo123"]);
    assert!(
        !youtube_trailers(&videos, None)
            .iter()
            .any(|v| v.key == "vimeo123")
    );
}

#[tokio::test]
async fn tv_videos_with_a_read_token() {
    let fake = FakeTmdb::start().await.expect("fake");
    fake.set_tv_videos(
        1399,
        vec![FakeVideo::trailer("y2ZJ3lTaREY", "Inside Game of Thrones").kind("Behind the Scenes")],
    );
    let token = fake.read_token().to_owned();
    let client = TmdbClient::new(http(), &api(&fake), &token).expect("client");
    assert!(format!("{client:?}").contains("Bearer ***"));
    assert!(!format!("{client:?}").contains(&token));
    let videos = client
        .videos(TmdbKind::Tv, 1399, Some("en"))
        .await
        .expect("videos");
    assert_eq!(videos.len(), 1);
    assert_eq!(videos[0].kind, "Behind the Scenes");
    assert!(youtube_trailers(&videos, Some("en")).is_empty());
    assert_eq!(fake.requests()[0].path, "/3/tv/1399/videos");
    // The same id as a movie is unknown.
    assert!(matches!(
        client.videos(TmdbKind::Movie, 1399, None).await,
        Err(TmdbError::NotFound)
    ));

    // A token TMDB does not know: 401, and the token shows nowhere.
    let bad = format!("{token}x");
    let e = TmdbClient::new(http(), &api(&fake), &bad)
        .expect("client")
        .videos(TmdbKind::Tv, 1399, None)
        .await
        .expect_err("refused");
    assert!(matches!(e, TmdbError::Unauthorized), "{e:?}");
    assert_no_key(&e, &bad);
}

#[tokio::test]
async fn status_mapping_and_no_key_in_errors() {
    let fake = FakeTmdb::start().await.expect("fake");
    fake.set_movie_videos(550, fight_club());
    let key = fake.api_key().to_owned();
    let client = TmdbClient::new(http(), &api(&fake), &key).expect("client");

    let e = client
        .videos(TmdbKind::Movie, 424_242, None)
        .await
        .expect_err("404");
    assert!(matches!(e, TmdbError::NotFound), "{e:?}");
    assert_no_key(&e, &key);

    fake.throttle_next(1);
    let e = client
        .videos(TmdbKind::Movie, 550, None)
        .await
        .expect_err("429");
    assert!(
        matches!(
            e,
            TmdbError::RateLimited {
                retry_after_s: None
            }
        ),
        "{e:?}"
    );
    assert_no_key(&e, &key);

    fake.fail_next(1);
    let e = client
        .videos(TmdbKind::Movie, 550, None)
        .await
        .expect_err("500");
    match &e {
        TmdbError::Status {
            status: 500,
            message,
        } => {
            assert!(message.starts_with("Internal error"), "{message}")
        }
        other => panic!("expected Status 500, got {other:?}"),
    }
    assert_no_key(&e, &key);

    let wrong = "00000000000000000000000000000000";
    let e = TmdbClient::new(http(), &api(&fake), wrong)
        .expect("client")
        .videos(TmdbKind::Movie, 550, None)
        .await
        .expect_err("401");
    assert!(matches!(e, TmdbError::Unauthorized), "{e:?}");
    assert_eq!(e.to_string(), "TMDB refused the API key");
    assert_no_key(&e, wrong);

    // Nothing listening: the URL (with ?api_key=) must not leak through reqwest's error.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let e = TmdbClient::new(http(), &format!("http://127.0.0.1:{port}/3"), &key)
        .expect("client")
        .videos(TmdbKind::Movie, 550, Some("en"))
        .await
        .expect_err("refused");
    assert!(matches!(e, TmdbError::Network(_)), "{e:?}");
    assert!(!e.to_string().contains("api_key"), "{e}");
    assert_no_key(&e, &key);

    // Still fine afterwards.
    assert_eq!(
        client
            .videos(TmdbKind::Movie, 550, Some("en-US"))
            .await
            .expect("videos")
            .len(),
        4
    );
}

#[tokio::test]
async fn retry_after_and_timeouts() {
    use axum::http::StatusCode;
    let app = axum::Router::new()
        .route(
            "/3/movie/{id}/videos",
            axum::routing::get(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "7")],
                    r#"{"success":false,"status_code":25,"status_message":"Your request count (#) is over the allowed limit of (40)."}"#,
                )
            }),
        )
        .route(
            "/3/tv/{id}/videos",
            axum::routing::get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                "{}"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let key = "5f1d3c0a9b8e7d6c5b4a39281706f5e4";
    let client = TmdbClient::new(http(), &format!("http://{addr}/3/"), key)
        .expect("client")
        .with_timeout(std::time::Duration::from_millis(300));
    let e = client
        .videos(TmdbKind::Movie, 1, None)
        .await
        .expect_err("429");
    assert!(
        matches!(
            e,
            TmdbError::RateLimited {
                retry_after_s: Some(7)
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "TMDB rate limit reached (retry in 7 s)");
    let e = client
        .videos(TmdbKind::Tv, 1, None)
        .await
        .expect_err("timeout");
    assert!(
        matches!(&e, TmdbError::Network(m) if m == "timed out"),
        "{e:?}"
    );
    assert_no_key(&e, key);
}

#[test]
fn new_checks_url_and_key() {
    let c = http;
    for bad_url in ["", "api.themoviedb.org/3", "ftp://x/3", "https://x/3?a=b"] {
        assert!(
            matches!(
                TmdbClient::new(c(), bad_url, "k"),
                Err(TmdbError::Invalid(_))
            ),
            "{bad_url:?}"
        );
    }
    for bad_key in ["", "  ", "a b", "a\nb"] {
        assert!(
            matches!(
                TmdbClient::new(c(), "https://api.themoviedb.org/3", bad_key),
                Err(TmdbError::Invalid(_))
            ),
            "{bad_key:?}"
        );
    }
    let key = "5f1d3c0a9b8e7d6c5b4a39281706f5e4";
    let v3 = TmdbClient::new(c(), "https://api.themoviedb.org/3", key).expect("client");
    let debug = format!("{v3:?}");
    assert!(
        debug.contains("api_key=***") && !debug.contains(key),
        "{debug}"
    );
}

fn v(key: &str, kind: &str, lang: Option<&str>, official: bool, size: u32, at: &str) -> TmdbVideo {
    TmdbVideo {
        key: key.into(),
        name: key.into(),
        site: "YouTube".into(),
        kind: kind.into(),
        official,
        language: lang.map(Into::into),
        country: None,
        size: Some(size),
        published_at: Some(at.into()),
    }
}

#[test]
fn trailer_order() {
    let mut vimeo = v("vimeo", "Trailer", Some("de"), true, 2160, "2024");
    vimeo.site = "Vimeo".into();
    let mut no_size = v("no_size", "Trailer", Some("en"), true, 0, "2020");
    no_size.size = None;
    let videos = vec![
        v("en_teaser", "Teaser", Some("en"), true, 1080, "2020"),
        v("en_fan", "Trailer", Some("en"), false, 2160, "2023"),
        vimeo,
        v("de_teaser", "Teaser", Some("de"), true, 1080, "2020"),
        v("clip", "Clip", Some("de"), true, 1080, "2020"),
        v("en_old", "Trailer", Some("en"), true, 1080, "2015"),
        no_size,
        v("en_new", "Trailer", Some("en"), true, 1080, "2019"),
        v("en_4k", "Trailer", Some("en"), true, 2160, "2010"),
        v("none", "Trailer", None, true, 1080, "2020"),
        v("de_fan", "trailer", Some("DE"), false, 720, "2020"),
        v("de", "Trailer", Some("de"), true, 720, "2020"),
    ];
    let keys = |lang| -> Vec<&str> {
        youtube_trailers(&videos, lang)
            .iter()
            .map(|v| v.key.as_str())
            .collect()
    };
    assert_eq!(
        keys(Some("de-AT")),
        [
            "de",
            "de_fan",
            "de_teaser", // German: trailers, official first, then the teaser
            "en_4k",
            "none",
            "en_new",
            "en_old",
            "no_size",
            "en_fan",
            "en_teaser",
        ]
    );
    assert_eq!(
        keys(None),
        [
            "en_4k",
            "none",
            "en_new",
            "en_old",
            "de",
            "no_size",
            "en_fan",
            "de_fan",
            "en_teaser",
            "de_teaser",
        ]
    );
}

#[tokio::test]
async fn season_videos_read_like_the_series_ones() {
    let fake = FakeTmdb::start().await.expect("fake");
    fake.set_season_videos(
        1399,
        1,
        vec![
            FakeVideo::trailer("season1trlr", "Season 1 | Official Trailer"),
            FakeVideo::trailer("s1german001", "Staffel 1 | Trailer").lang("de", "DE"),
        ],
    );
    fake.set_season_videos(1399, 2, Vec::new());
    let key = fake.api_key().to_owned();
    let client = TmdbClient::new(http(), &api(&fake), &key).expect("client");

    let videos = client
        .season_videos(1399, 1, &["en-US"])
        .await
        .expect("season 1");
    let keys: Vec<&str> = videos.iter().map(|v| v.key.as_str()).collect();
    assert_eq!(keys, ["season1trlr"], "German left out when not asked for");
    assert_eq!(videos[0].kind, "Trailer");
    assert!(
        client
            .season_videos(1399, 2, &["en"])
            .await
            .expect("season 2")
            .is_empty(),
        "a season without videos is an empty list"
    );
    let e = client
        .season_videos(1399, 9, &["en"])
        .await
        .expect_err("unknown season");
    assert!(matches!(e, TmdbError::NotFound), "{e:?}");
    fake.throttle_next(1);
    let e = client
        .season_videos(1399, 1, &["en"])
        .await
        .expect_err("429");
    assert!(matches!(e, TmdbError::RateLimited { .. }), "{e:?}");
    assert_no_key(&e, &key);
    let paths: Vec<String> = fake.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths[0], "/3/tv/1399/season/1/videos");
}
