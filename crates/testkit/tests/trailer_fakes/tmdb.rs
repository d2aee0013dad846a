//! Fake TMDB: videos by language, auth, errors, rate limiting.

use std::time::Duration;

use serde_json::Value;
use tapearr_testkit::tmdb::{FakeTmdb, TmdbVideo, generate_videos};

use super::client;

async fn get(url: &str) -> (u16, Value) {
    let res = client().get(url).send().await.expect("send");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn videos_by_language_with_either_credential() {
    let t = FakeTmdb::start().await.expect("tmdb");
    t.set_movie_videos(
        550,
        vec![
            TmdbVideo::trailer(
                "BdJKm16Co6M",
                "Fight Club | #TBT Trailer | 20th Century FOX",
            ),
            TmdbVideo::trailer("O-b2VfmmbyA", "Fight Club (1999) Trailer")
                .official(false)
                .size(720),
            TmdbVideo::trailer("deTeaser001", "Teaser")
                .kind("Teaser")
                .lang("de", "DE"),
            TmdbVideo::trailer("xxNoLang001", "Music")
                .kind("Clip")
                .lang("xx", ""),
        ],
    );
    t.set_tv_videos(
        1399,
        vec![TmdbVideo::trailer("y2ZJ3lTaREY", "BTS").kind("Behind the Scenes")],
    );
    let (base, key) = (t.url(), t.api_key().to_owned());

    let (s, v) = get(&format!("{base}/3/movie/550/videos?api_key={key}")).await;
    assert_eq!(s, 200);
    assert_eq!(v["id"], 550);
    let results = v["results"].as_array().expect("results");
    assert_eq!(results.len(), 2, "en-US by default");
    let first = &results[0];
    for (k, want) in [
        ("iso_639_1", "en"),
        ("iso_3166_1", "US"),
        ("site", "YouTube"),
        ("type", "Trailer"),
    ] {
        assert_eq!(first[k], want, "{k}");
    }
    assert_eq!(first["key"], "BdJKm16Co6M");
    assert_eq!(first["size"], 1080);
    assert_eq!(first["official"], true);
    assert!(
        first["published_at"]
            .as_str()
            .is_some_and(|p| p.ends_with(".000Z"))
    );
    assert_eq!(first["id"].as_str().map(str::len), Some(24));

    let (_, de) = get(&format!(
        "{base}/3/movie/550/videos?api_key={key}&language=de-DE"
    ))
    .await;
    assert_eq!(de["results"][0]["key"], "deTeaser001");
    assert_eq!(de["results"].as_array().map(Vec::len), Some(1));
    let (_, more) = get(&format!(
        "{base}/3/movie/550/videos?api_key={key}&language=de-DE&include_video_language=en,null"
    ))
    .await;
    assert_eq!(more["results"].as_array().map(Vec::len), Some(4));

    // The read access token as a Bearer works the same; the TV endpoint too.
    let res = client()
        .get(format!("{base}/3/tv/1399/videos"))
        .bearer_auth(t.read_token())
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 200);
    let tv: Value = res.json().await.expect("json");
    assert_eq!(tv["results"][0]["type"], "Behind the Scenes");

    // A known movie without videos: `results: []`.
    t.set_movie_videos(1, vec![]);
    let (s, v) = get(&format!("{base}/3/movie/1/videos?api_key={key}")).await;
    assert_eq!((s, v["results"].clone()), (200, Value::Array(vec![])));

    let langs: Vec<Option<String>> = t.requests().into_iter().map(|r| r.language).collect();
    assert_eq!(langs[1].as_deref(), Some("de-DE"));
    assert_eq!(t.request_count(), 5);
}

#[tokio::test]
async fn errors_are_tmdb_json() {
    let t = FakeTmdb::start().await.expect("tmdb");
    let (base, key) = (t.url(), t.api_key().to_owned());
    let (s, v) = get(&format!("{base}/3/movie/550/videos?api_key=wrong")).await;
    assert_eq!(
        (s, &v["status_code"], &v["success"]),
        (401, &Value::from(7), &Value::from(false))
    );
    let (s, v) = get(&format!("{base}/3/movie/550/videos")).await;
    assert_eq!((s, &v["status_code"]), (401, &Value::from(7)));
    let (s, v) = get(&format!("{base}/3/movie/550/videos?api_key={key}")).await;
    assert_eq!(
        (s, &v["status_code"]),
        (404, &Value::from(34)),
        "unknown id"
    );
    let (s, v) = get(&format!("{base}/3/movie/abc/videos?api_key={key}")).await;
    assert_eq!((s, &v["status_code"]), (404, &Value::from(6)));

    t.generate_unknown(Some(3));
    t.throttle_next(2);
    let url = format!("{base}/3/movie/550/videos?api_key={key}");
    for _ in 0..2 {
        let (s, v) = get(&url).await;
        assert_eq!((s, &v["status_code"]), (429, &Value::from(25)));
    }
    assert_eq!(get(&url).await.0, 200);
    t.fail_next(1);
    let (s, v) = get(&url).await;
    assert_eq!((s, &v["status_code"]), (500, &Value::from(11)));
    assert_eq!(get(&url).await.0, 200);

    t.set_rate_limit(Some((3, Duration::from_millis(400))));
    let codes: Vec<u16> = futures_util::future::join_all((0..5).map(|_| get(&url)))
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(codes.iter().filter(|c| **c == 429).count(), 2, "{codes:?}");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(get(&url).await.0, 200, "a new window");
    t.set_rate_limit(None);

    let (s, cfg) = get(&format!("{base}/3/configuration?api_key={key}")).await;
    assert_eq!(s, 200);
    let img = format!(
        "{}w500/abc.jpg",
        cfg["images"]["secure_base_url"].as_str().expect("base")
    );
    let res = client().get(img).send().await.expect("image");
    assert_eq!(res.headers()["content-type"], "image/jpeg");
}

#[tokio::test]
async fn generated_videos_are_seeded_and_realistic() {
    assert_eq!(generate_videos(603, 1), generate_videos(603, 1));
    let all: Vec<Vec<TmdbVideo>> = (1..=400).map(|id| generate_videos(id, 1)).collect();
    let empty = all.iter().filter(|v| v.is_empty()).count();
    assert!((20..100).contains(&empty), "{empty} of 400 without videos");
    let flat: Vec<&TmdbVideo> = all.iter().flatten().collect();
    assert!(flat.iter().any(|v| v.kind == "Teaser"));
    assert!(flat.iter().any(|v| !v.official));
    assert!(flat.iter().any(|v| v.iso_639_1 == "de"));
    assert!(flat.iter().any(|v| v.site == "Vimeo"));
    assert!(
        flat.iter()
            .filter(|v| v.site == "YouTube")
            .all(|v| v.key.len() == 11)
    );

    let t = FakeTmdb::start().await.expect("tmdb");
    t.generate_unknown(Some(1));
    let id = (1..=400)
        .find(|i| !generate_videos(*i, 1).is_empty())
        .expect("one with videos");
    let (_, v) = get(&format!(
        "{}/3/tv/{id}/videos?api_key={}",
        t.url(),
        t.api_key()
    ))
    .await;
    let served: Vec<TmdbVideo> =
        serde_json::from_value(v["results"].clone()).expect("TmdbVideo round trip");
    let en: Vec<TmdbVideo> = generate_videos(id, 1)
        .into_iter()
        .filter(|v| v.iso_639_1 == "en")
        .collect();
    assert_eq!(served, en);
}
