//! [`ArrClient`] against the testkit's fake Radarr and Sonarr (real wire format, faults).

use std::time::{Duration, Instant};

use serde_json::json;
use tapearr_testkit::arr::{ArrConfig, ArrFault, Malformed, Opt};
use tapearr_testkit::radarr::{self, FakeRadarr, Movie};
use tapearr_testkit::sonarr::{self, FakeSonarr, Series, config_v3};

use super::*;

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

fn radarr_client(fake: &FakeRadarr) -> ArrClient {
    ArrClient::new(http(), ArrKind::Radarr, &fake.url(), fake.api_key()).expect("client")
}

fn sonarr_client(fake: &FakeSonarr) -> ArrClient {
    ArrClient::new(http(), ArrKind::Sonarr, &fake.url(), fake.api_key()).expect("client")
}

struct Pulled {
    items: Vec<ArrItem>,
    skipped: Vec<SkippedItem>,
    result: Result<PullSummary, ArrError>,
}

async fn pull(client: &ArrClient) -> Pulled {
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    let result = client
        .library(|r| match r {
            Ok(i) => items.push(i),
            Err(s) => skipped.push(s),
        })
        .await;
    Pulled {
        items,
        skipped,
        result,
    }
}

/// The key must appear in neither the message nor the debug form.
fn assert_no_key(err: &impl std::fmt::Debug, shown: &str, key: &str) {
    let debug = format!("{err:?}");
    assert!(!shown.contains(key), "key in `{shown}`");
    assert!(!debug.contains(key), "key in `{debug}`");
}

#[tokio::test]
async fn status_root_folders_and_tags() {
    let fake = FakeRadarr::start().await.expect("fake");
    fake.set_tags(&[(1, "4k"), (2, "kids ✓")]);
    let client = radarr_client(&fake);

    let status = client.status().await.expect("status");
    assert_eq!(status.app_name, "Radarr");
    assert_eq!(status.version, radarr::DEFAULT_VERSION);
    assert_eq!(status.instance_name.as_deref(), Some("Radarr"));

    let roots = client.root_folders().await.expect("root folders");
    assert_eq!(
        roots,
        vec![
            RootFolder {
                path: "/movies".into(),
                free_space: Some(1_099_511_627_776),
                accessible: true,
            },
            RootFolder {
                path: "/movies-4k".into(),
                free_space: Some(1_099_511_627_776),
                accessible: true,
            },
        ]
    );
    let tags = client.tags().await.expect("tags");
    assert_eq!(tags, vec![(1, "4k".to_owned()), (2, "kids ✓".to_owned())]);

    let sonarr = FakeSonarr::start().await.expect("fake");
    let status = sonarr_client(&sonarr).status().await.expect("status");
    assert_eq!(
        (status.app_name.as_str(), status.version.as_str()),
        ("Sonarr", sonarr::VERSION_V4)
    );
}

#[tokio::test]
async fn library_of_2000_movies_arrives_whole_and_intact() {
    let fake = FakeRadarr::start().await.expect("fake");
    fake.generate(2_000, 7);
    let p = pull(&radarr_client(&fake)).await;
    let summary = p.result.expect("pull");
    assert_eq!(
        summary,
        PullSummary {
            items: 2_000,
            skipped: 0
        }
    );
    assert!(p.skipped.is_empty(), "{:?}", p.skipped.first());
    let movies = fake.movies();
    assert_eq!(p.items.len(), movies.len());
    let mut non_ascii = 0;
    for (item, movie) in p.items.iter().zip(movies.iter()) {
        assert_eq!(item.arr_id, i64::from(movie.id));
        assert_eq!(item.ext_id, i64::from(movie.tmdb_id));
        assert_eq!(item.tmdb_id, Some(i64::from(movie.tmdb_id)));
        assert_eq!(Some(&item.title), movie.title.as_ref());
        assert_eq!(Some(&item.path), movie.path.as_ref());
        assert_eq!(item.has_file, movie.file.is_some(), "{}", item.title);
        assert_eq!(item.monitored, movie.monitored);
        assert_eq!(
            item.trailer_id.as_ref(),
            movie.youtube_trailer_id.as_ref().filter(|t| !t.is_empty())
        );
        assert_eq!(item.imdb_id.as_ref(), movie.imdb_id.as_ref());
        assert_eq!(item.studio.as_ref(), movie.studio.as_ref());
        assert_eq!(
            item.language.as_deref(),
            movie.original_language.map(|l| l.name)
        );
        non_ascii += usize::from(!item.title.is_ascii());
    }
    assert!(non_ascii > 100, "only {non_ascii} unicode titles");
    // Fingerprints tell items apart.
    let mut prints: Vec<u64> = p.items.iter().map(|i| i.fingerprint).collect();
    prints.sort_unstable();
    prints.dedup();
    assert_eq!(prints.len(), 2_000);
}

#[tokio::test]
async fn compact_json_and_a_url_base() {
    let fake = FakeRadarr::start_with(ArrConfig {
        url_base: "/radarr".into(),
        indented: false,
        ..radarr::default_config()
    })
    .await
    .expect("fake");
    fake.generate(50, 3);
    let id = fake.add_movie(Movie::new(603, "The Matrix", 1999));
    fake.update_movie(id, |m| {
        m.images = Opt::Some(vec![radarr::Image {
            cover_type: "poster".into(),
            remote_stem: Opt::Missing,
        }]);
    });
    for url in [fake.url(), format!("{}/", fake.url())] {
        let client = ArrClient::new(http(), ArrKind::Radarr, &url, fake.api_key()).expect("client");
        client.status().await.expect("status under the URL base");
        let p = pull(&client).await;
        assert_eq!(p.result.expect("pull").items, 51);
        let matrix = p.items.iter().find(|i| i.ext_id == 603).expect("matrix");
        // The Arr's url already carries the URL base: not doubled.
        let poster = matrix.poster_url.as_deref().expect("poster");
        assert!(
            poster.starts_with(&format!(
                "http://{}/radarr/MediaCover/{id}/poster.jpg",
                fake.addr()
            )),
            "{poster}"
        );
        assert_eq!(matrix.fanart_url, None);
    }
    // Without the URL base the Arr is not found.
    let client = ArrClient::new(http(), ArrKind::Radarr, &fake.control_url(), fake.api_key())
        .expect("client");
    match client.status().await {
        Err(ArrError::Status { status: 404, .. }) => {}
        other => panic!("expected a 404, got {other:?}"),
    }
}

#[tokio::test]
async fn null_and_missing_optional_fields() {
    let fake = FakeRadarr::start().await.expect("fake");
    let mut bare = Movie::new(11, "Bare", 2001);
    bare.original_title = Opt::Null;
    bare.original_language = None;
    bare.imdb_id = Opt::Missing;
    bare.studio = Opt::Null;
    bare.overview = Opt::Null;
    bare.certification = Opt::Null;
    bare.in_cinemas = Opt::Null;
    bare.images = Opt::Null;
    bare.runtime = 0;
    bare.youtube_trailer_id = Opt::Null;
    let missing = Movie::new(12, "Missing trailer", 2002)
        .trailer_field(Opt::Missing)
        .with_file(1_000);
    let empty = Movie::new(13, "Empty trailer", 2003).trailer("");
    let full = Movie::new(14, "Full", 2004)
        .trailer("vKQi3bBA1y8")
        .imdb("tt0133093")
        .original("Voll", tapearr_testkit::arr::names::ENGLISH);
    let mut no_path = Movie::new(15, "No path", 2005);
    no_path.path = Opt::Missing;
    let ids = fake.add_movies([bare, missing, empty, full, no_path]);

    let p = pull(&radarr_client(&fake)).await;
    assert_eq!(
        p.result.expect("pull"),
        PullSummary {
            items: 4,
            skipped: 1
        }
    );
    let by_ext = |ext| p.items.iter().find(|i| i.ext_id == ext).expect("item");
    let bare = by_ext(11);
    assert_eq!(bare.original_title, None);
    assert_eq!(bare.language, None);
    assert_eq!(bare.imdb_id, None);
    assert_eq!(bare.studio, None);
    assert_eq!(bare.overview, None);
    assert_eq!(bare.runtime_min, None);
    assert_eq!(bare.trailer_id, None);
    assert_eq!((&bare.poster_url, &bare.fanart_url), (&None, &None));
    assert!(!bare.has_file);
    let missing = by_ext(12);
    assert_eq!(missing.trailer_id, None);
    assert!(missing.has_file);
    assert_eq!(by_ext(13).trailer_id, None);
    let full = by_ext(14);
    assert_eq!(full.trailer_id.as_deref(), Some("vKQi3bBA1y8"));
    assert_eq!(full.imdb_id.as_deref(), Some("tt0133093"));
    assert_eq!(full.original_title.as_deref(), Some("Voll"));
    assert_eq!(full.language.as_deref(), Some("English"));
    assert_eq!(full.year, Some(2004));
    assert_eq!(full.runtime_min, Some(100));
    assert!(
        full.poster_url
            .as_deref()
            .is_some_and(|u| u.ends_with("/original/poster14.jpg")),
        "{:?}",
        full.poster_url
    );
    assert!(full.fanart_url.is_some());

    let skipped = &p.skipped[0];
    assert_eq!(skipped.index, 4);
    assert_eq!(skipped.arr_id, Some(i64::from(ids[4])));
    assert_eq!(skipped.title.as_deref(), Some("No path"));
    assert!(skipped.reason.contains("`path`"), "{}", skipped.reason);
}

#[tokio::test]
async fn each_malformed_item_is_skipped_alone_with_its_reason() {
    let fake = FakeRadarr::start().await.expect("fake");
    fake.generate(40, 5);
    let client = radarr_client(&fake);
    let cases: Vec<(Malformed, &[&str], bool)> = vec![
        (Malformed::IdAsString, &["`tmdbId` is a string"], true),
        (Malformed::MissingTitle, &["no `title`"], true),
        (
            Malformed::WrongTypes,
            &["`year` is a string", "`monitored` is a number"],
            true,
        ),
        (Malformed::NotAnObject, &["a string, not an object"], false),
        (
            Malformed::Raw(json!({"id": 999, "title": "Zero", "tmdbId": 0, "path": "/m/z"})),
            &["`tmdbId` is 0"],
            false,
        ),
        (
            Malformed::Raw(json!({"id": 998, "title": "No id", "path": "/m/n"})),
            &["no `tmdbId`"],
            false,
        ),
        (
            Malformed::Raw(json!([1, {"id": 2}])),
            &["a list, not an object"],
            false,
        ),
    ];
    let movies = fake.movies();
    for (index, (kind, words, same_id)) in [17, 0, 39, 5, 22, 30, 1].into_iter().zip(cases) {
        fake.fault_once(ArrFault::Malformed {
            index,
            kind: kind.clone(),
        });
        let p = pull(&client).await;
        let summary = p.result.expect("pull goes on");
        assert_eq!(
            summary,
            PullSummary {
                items: 39,
                skipped: 1
            },
            "{kind:?}"
        );
        let s = &p.skipped[0];
        assert_eq!(s.index, index, "{kind:?}");
        for w in words {
            assert!(s.reason.contains(w), "{kind:?}: `{}` lacks `{w}`", s.reason);
        }
        if same_id {
            assert_eq!(s.arr_id, Some(i64::from(movies[index].id)), "{kind:?}");
        }
        let delivered: Vec<i64> = p.items.iter().map(|i| i.arr_id).collect();
        let expected: Vec<i64> = movies
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, m)| i64::from(m.id))
            .collect();
        assert_eq!(delivered, expected, "{kind:?}");
    }
}

#[tokio::test]
async fn a_cut_body_is_an_error_never_a_short_library() {
    let fake = FakeRadarr::start().await.expect("fake");
    fake.generate(300, 9);
    let key = fake.api_key().to_owned();
    let client = radarr_client(&fake);
    for fault in [
        ArrFault::AbortAfter(0),
        ArrFault::AbortAfter(120),
        ArrFault::AbortAfter(299),
        ArrFault::TruncateAfter(0),
        ArrFault::TruncateAfter(120),
        ArrFault::TruncateAfter(299),
    ] {
        fake.fault_once(fault.clone());
        let p = pull(&client).await;
        match &p.result {
            Err(e @ ArrError::Incomplete(_)) => assert_no_key(e, &e.to_string(), &key),
            other => panic!("{fault:?}: expected Incomplete, got {other:?}"),
        }
        let n = match fault {
            ArrFault::AbortAfter(n) | ArrFault::TruncateAfter(n) => n,
            _ => unreachable!(),
        };
        assert!(p.items.len() <= n, "{fault:?}: {} items", p.items.len());
    }
    // A cut past the end is no cut.
    fake.fault_once(ArrFault::TruncateAfter(300));
    assert_eq!(pull(&client).await.result.expect("whole").items, 300);
}

#[tokio::test]
async fn server_error_empty_wrong_key_wrong_app() {
    let fake = FakeRadarr::start().await.expect("fake");
    fake.generate(10, 1);
    let key = fake.api_key().to_owned();
    let client = radarr_client(&fake);

    fake.fault_once(ArrFault::ServerError);
    let err = pull(&client).await.result.expect_err("500");
    match &err {
        ArrError::Status {
            status: 500,
            message,
        } => {
            assert!(message.contains("database is locked"), "{message}");
            assert!(message.chars().count() <= 200);
        }
        other => panic!("expected Status 500, got {other:?}"),
    }
    assert_no_key(&err, &err.to_string(), &key);

    fake.fault_once(ArrFault::Empty);
    let p = pull(&client).await;
    assert_eq!(p.result.expect("empty"), PullSummary::default());
    assert!(p.items.is_empty());

    let wrong_key = "ffffffffffffffffffffffffffffffff";
    let wrong = ArrClient::new(http(), ArrKind::Radarr, &fake.url(), wrong_key).expect("client");
    let e = wrong.status().await.expect_err("refused");
    assert!(matches!(e, ArrError::Unauthorized), "{e:?}");
    assert_eq!(e.to_string(), "the API key was refused");
    assert_no_key(&e, &e.to_string(), wrong_key);
    assert!(matches!(
        wrong.root_folders().await,
        Err(ArrError::Unauthorized)
    ));
    assert!(matches!(wrong.tags().await, Err(ArrError::Unauthorized)));
    assert!(matches!(
        pull(&wrong).await.result,
        Err(ArrError::Unauthorized)
    ));

    let sonarr = FakeSonarr::start().await.expect("fake");
    let as_radarr =
        ArrClient::new(http(), ArrKind::Radarr, &sonarr.url(), sonarr.api_key()).expect("client");
    let e = as_radarr.status().await.expect_err("wrong app");
    match &e {
        ArrError::WrongApp { expected, found } => {
            assert_eq!((*expected, found.as_str()), ("Radarr", "Sonarr"));
        }
        other => panic!("expected WrongApp, got {other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "expected Radarr at this address but found Sonarr"
    );
    assert_no_key(&e, &e.to_string(), sonarr.api_key());

    // Something that is not an Arr at all (the TMDB fake answers 404 JSON there; a
    // plain web server answers 200 HTML).
    let site = plain_site().await;
    let c = ArrClient::new(http(), ArrKind::Sonarr, &site, &key).expect("client");
    match c.status().await {
        Err(ArrError::WrongApp {
            expected: "Sonarr",
            found,
        }) => {
            assert!(found.contains("neither"), "{found}")
        }
        other => panic!("expected WrongApp, got {other:?}"),
    }
    match pull(&c).await.result {
        Err(ArrError::Incomplete(m)) => assert!(m.contains("not a list"), "{m}"),
        other => panic!("expected Incomplete, got {other:?}"),
    }
}

/// A web server answering every path with a 200 HTML page.
async fn plain_site() -> String {
    let app = axum::Router::new()
        .fallback(|| async { axum::response::Html("<html><body>Welcome to nginx!</body></html>") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn network_errors_and_timeouts_carry_no_key() {
    let key = "0123456789abcdef0123456789abcdef";
    // A port with nothing listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let client = ArrClient::new(
        http(),
        ArrKind::Radarr,
        &format!("http://127.0.0.1:{port}"),
        key,
    )
    .expect("client");
    let e = client.status().await.expect_err("refused");
    match &e {
        ArrError::Network(m) => assert!(m.to_lowercase().contains("refused"), "{m}"),
        other => panic!("expected Network, got {other:?}"),
    }
    assert!(!e.to_string().contains("127.0.0.1"), "{e}");
    assert_no_key(&e, &e.to_string(), key);
    let e = pull(&client).await.result.expect_err("refused");
    assert!(matches!(e, ArrError::Network(_)), "{e:?}");

    let fake = FakeRadarr::start().await.expect("fake");
    fake.generate(3, 1);
    fake.fault_once(ArrFault::Delay(Duration::from_secs(3)));
    let slow =
        radarr_client(&fake).with_timeouts(Duration::from_millis(300), Duration::from_millis(300));
    let started = Instant::now();
    let e = pull(&slow).await.result.expect_err("timed out");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(&e, ArrError::Network(m) if m.contains("timed out")),
        "{e:?}"
    );
    assert_no_key(&e, &e.to_string(), fake.api_key());
}

#[test]
fn urls_keys_and_debug() {
    let ok = |u: &str| ArrClient::new(http(), ArrKind::Radarr, u, "k");
    for bad in [
        "",
        "   ",
        "ftp://radarr:7878",
        "http://",
        "http://radarr:7878/?apikey=x",
        "http://radarr:7878/#x",
        "http://[::1",
    ] {
        assert!(
            matches!(ok(bad), Err(ArrError::InvalidUrl)),
            "{bad:?} accepted"
        );
    }
    for (given, used) in [
        ("http://radarr:7878", "http://radarr:7878/"),
        ("radarr:7878", "http://radarr:7878/"),
        (" https://host/radarr ", "https://host/radarr/"),
        ("http://host/radarr/", "http://host/radarr/"),
    ] {
        assert_eq!(ok(given).expect("valid").base_url(), used);
    }
    assert!(matches!(
        ArrClient::new(http(), ArrKind::Radarr, "http://h", "a\nb"),
        Err(ArrError::InvalidKey)
    ));
    let key = "0123456789abcdef0123456789abcdef";
    let c =
        ArrClient::new(http(), ArrKind::Sonarr, "http://user:pw@host:8989", key).expect("client");
    let debug = format!("{c:?}");
    assert!(!debug.contains(key) && !debug.contains("pw@"), "{debug}");
    assert!(
        debug.contains("Sonarr") && debug.contains("host:8989"),
        "{debug}"
    );
}

#[test]
fn library_future_is_send() {
    fn send<T: Send>(_: &T) {}
    let c = ArrClient::new(http(), ArrKind::Radarr, "http://h", "k").expect("client");
    let mut n = 0;
    let f = c.library(|_| n += 1);
    send(&f);
}

#[tokio::test]
async fn fingerprints_are_stable_and_follow_changes() {
    let fake = FakeRadarr::start().await.expect("fake");
    let ids = fake.generate(20, 4);
    let client = radarr_client(&fake);
    let first = pull(&client).await.items;
    let again = pull(&client).await.items;
    assert_eq!(first, again);
    fake.update_movie(ids[3], |m| m.monitored = !m.monitored);
    let after = pull(&client).await.items;
    for (i, (a, b)) in first.iter().zip(&after).enumerate() {
        assert_eq!(a.fingerprint != b.fingerprint, i == 3, "item {i}");
    }
}

#[tokio::test]
async fn sonarr_v3_and_v4_series() {
    for (cfg, v4) in [(config_v3(), false), (sonarr::default_config(), true)] {
        let fake = FakeSonarr::start_with(cfg).await.expect("fake");
        fake.generate(300, 3);
        fake.add_series(Series::new(81189, "Breaking Bad", 2008).tmdb(1396));
        let client = sonarr_client(&fake);
        let status = client.status().await.expect("status");
        assert_eq!(status.version.starts_with('4'), v4);
        let p = pull(&client).await;
        assert_eq!(p.result.expect("pull").items, 301);
        assert!(p.skipped.is_empty());
        let all = fake.all();
        let mut with_tmdb = 0;
        for (item, series) in p.items.iter().zip(all.iter()) {
            assert_eq!(item.arr_id, i64::from(series.id));
            assert_eq!(item.ext_id, i64::from(series.tvdb_id));
            assert_eq!(Some(&item.title), series.title.as_ref());
            let expected_tmdb = (v4 && series.tmdb_id > 0).then_some(i64::from(series.tmdb_id));
            assert_eq!(item.tmdb_id, expected_tmdb, "{}", item.title);
            with_tmdb += usize::from(item.tmdb_id.is_some());
            assert_eq!(item.studio.as_ref(), series.network.as_ref());
            let files: i32 = series.seasons.iter().map(|s| s.episode_file_count).sum();
            assert_eq!(item.has_file, files > 0, "{}", item.title);
            assert_eq!(item.trailer_id, None);
            assert_eq!(
                item.language.as_deref(),
                v4.then(|| series.original_language.map(|l| l.name))
                    .flatten()
            );
        }
        assert_eq!(with_tmdb > 250, v4, "{with_tmdb} with a tmdbId");
        let bb = p.items.last().expect("breaking bad");
        assert_eq!((bb.ext_id, bb.title.as_str()), (81189, "Breaking Bad"));
        assert_eq!(bb.tmdb_id, v4.then_some(1396));
    }
}

#[tokio::test]
async fn sonarr_malformed_names_tvdb_id() {
    let fake = FakeSonarr::start().await.expect("fake");
    fake.generate(10, 2);
    fake.fault_once(ArrFault::Malformed {
        index: 4,
        kind: Malformed::IdAsString,
    });
    let p = pull(&sonarr_client(&fake)).await;
    assert_eq!(p.result.expect("pull").items, 9);
    assert!(
        p.skipped[0].reason.contains("`tvdbId` is a string"),
        "{}",
        p.skipped[0].reason
    );
}

/// By hand: `cargo test --release -p tapearr-integrations --lib arr::tests::speed -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a timing run, not a check"]
async fn speed() {
    let fake = FakeRadarr::start().await.expect("fake");
    fake.generate(10_000, 1);
    let client = radarr_client(&fake);
    let started = Instant::now();
    let p = pull(&client).await;
    let over_http = started.elapsed();
    assert_eq!(p.result.expect("pull").items, 10_000);

    let body = http()
        .get(format!("{}/api/v3/movie", fake.url()))
        .header("X-Api-Key", fake.api_key())
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body");
    let base = url::Url::parse("http://radarr/").expect("url");
    let started = Instant::now();
    let mut pull = client::Pull::new(ArrKind::Radarr, &base);
    let mut n = 0;
    for chunk in body.chunks(256 * 1024) {
        pull.feed(chunk, &mut |_| n += 1).expect("feed");
    }
    pull.finish().expect("finish");
    let parse_only = started.elapsed();
    assert_eq!(n, 10_000);
    println!(
        "10k movies: {} MB; pull over HTTP from the fake {over_http:?}; split+parse alone {parse_only:?}",
        body.len() / 1_000_000
    );
}
