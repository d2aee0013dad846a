//! A fake TMDB API v3 (`shared/research/wire-formats.md` §3): `/3/movie/{id}/videos`,
//! `/3/tv/{id}/videos`, `/3/tv/{id}/season/{n}/videos` (with `language` and
//! `include_video_language` filtering; a season not set is 404 code 34, like TMDB's),
//! `/3/configuration`, TMDB's JSON errors (401 code 7, 404 code 34, 429 code 25, 500 code
//! 11), an optional request-rate limit, and an image host (`/t/p/{size}/{file}`) so poster
//! URLs stay local.
//!
//! Videos are set per id ([`FakeTmdb::set_movie_videos`]); with
//! [`FakeTmdb::generate_unknown`] every other id answers a seeded, realistic mix (official
//! and fan trailers, teasers, featurettes, other languages, a Vimeo entry, sometimes none).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use tapearr_testkit::tmdb::{FakeTmdb, TmdbVideo};
//! let tmdb = FakeTmdb::start().await?;
//! tmdb.set_movie_videos(550, vec![TmdbVideo::trailer("BdJKm16Co6M", "Fight Club | Trailer")]);
//! println!("{}/3 key {}", tmdb.url(), tmdb.api_key());
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::arr::rng::Rng;

/// A v3 API key (32 hex digits).
pub const DEFAULT_API_KEY: &str = "5f1d3c0a9b8e7d6c5b4a39281706f5e4";
/// An API Read Access Token (sent as `Authorization: Bearer …`).
pub const DEFAULT_READ_TOKEN: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJmYWtlLXRhcGVhcnIiLCJzY29wZXMiOlsiYXBpX3JlYWQiXX0.ZmFrZQ";

/// One entry of `results`, field for field as TMDB writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TmdbVideo {
    pub iso_639_1: String,
    pub iso_3166_1: String,
    pub name: String,
    pub key: String,
    pub site: String,
    /// Vertical resolution (360, 480, 720, 1080, 2160).
    pub size: u32,
    /// `Trailer`, `Teaser`, `Clip`, `Featurette`, `Behind the Scenes`, `Bloopers`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub official: bool,
    /// Millisecond precision: `2014-10-02T19:20:22.000Z`.
    pub published_at: String,
    /// 24 hex digits.
    pub id: String,
}

impl TmdbVideo {
    /// An official English 1080p YouTube trailer.
    pub fn trailer(key: &str, name: &str) -> Self {
        let mut r = Rng::for_item(0x7d, key.bytes().map(u64::from).sum());
        Self {
            iso_639_1: "en".into(),
            iso_3166_1: "US".into(),
            name: name.into(),
            key: key.into(),
            site: "YouTube".into(),
            size: 1080,
            kind: "Trailer".into(),
            official: true,
            published_at: "2019-03-25T14:00:06.000Z".into(),
            id: r.hex(24),
        }
    }

    /// `type` (`Teaser`, `Featurette`, …).
    pub fn kind(mut self, kind: &str) -> Self {
        self.kind = kind.into();
        self
    }

    /// `iso_639_1`, `iso_3166_1`.
    pub fn lang(mut self, language: &str, country: &str) -> Self {
        self.iso_639_1 = language.into();
        self.iso_3166_1 = country.into();
        self
    }

    pub fn official(mut self, official: bool) -> Self {
        self.official = official;
        self
    }

    pub fn site(mut self, site: &str) -> Self {
        self.site = site.into();
        self
    }

    pub fn size(mut self, size: u32) -> Self {
        self.size = size;
        self
    }

    pub fn published(mut self, at: &str) -> Self {
        self.published_at = at.into();
        self
    }
}

/// The seeded mix [`FakeTmdb::generate_unknown`] serves for `id` (movie and TV ids share
/// it): about 15% of ids have no videos; the rest an official English trailer plus some of a
/// teaser, a fan trailer, a featurette, German/French/Japanese trailers and a Vimeo entry.
pub fn generate_videos(id: i32, seed: u64) -> Vec<TmdbVideo> {
    let mut r = Rng::for_item(seed ^ 0x7D_B0, id as u64);
    if r.chance(150) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut video = |r: &mut Rng, name: &str, kind: &str, lang: (&str, &str), official: bool| {
        let year = r.range(2008, 2025);
        let v = TmdbVideo {
            iso_639_1: lang.0.into(),
            iso_3166_1: lang.1.into(),
            name: name.into(),
            key: r.youtube_id(),
            site: "YouTube".into(),
            size: *r.pick(&[720, 1080, 1080, 2160]),
            kind: kind.into(),
            official,
            published_at: format!(
                "{year}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
                r.range(1, 12),
                r.range(1, 28),
                r.range(0, 23),
                r.range(0, 59),
                r.range(0, 59)
            ),
            id: r.hex(24),
        };
        out.push(v);
    };
    video(&mut r, "Official Trailer", "Trailer", ("en", "US"), true);
    if r.chance(500) {
        video(&mut r, "Official Teaser", "Teaser", ("en", "US"), true);
    }
    if r.chance(300) {
        video(
            &mut r,
            "Trailer #2 (Fan Made)",
            "Trailer",
            ("en", "US"),
            false,
        );
    }
    if r.chance(300) {
        video(
            &mut r,
            "Behind the Scenes Featurette",
            "Featurette",
            ("en", "US"),
            true,
        );
    }
    if r.chance(400) {
        video(&mut r, "Offizieller Trailer", "Trailer", ("de", "DE"), true);
    }
    if r.chance(200) {
        video(&mut r, "Bande-annonce VF", "Trailer", ("fr", "FR"), true);
    }
    if r.chance(200) {
        video(&mut r, "予告編", "Trailer", ("ja", "JP"), true);
    }
    if r.chance(50) {
        video(&mut r, "Clip", "Clip", ("en", "US"), true);
        if let Some(last) = out.last_mut() {
            last.site = "Vimeo".into();
            last.key = r.range(100_000_000, 999_999_999).to_string();
        }
    }
    out
}

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub struct TmdbConfig {
    pub bind: String,
    pub api_key: String,
    pub read_token: String,
}

impl Default for TmdbConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:0".into(),
            api_key: DEFAULT_API_KEY.into(),
            read_token: DEFAULT_READ_TOKEN.into(),
        }
    }
}

/// One request the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmdbRequest {
    /// The path, e.g. `/3/movie/550/videos`.
    pub path: String,
    /// The `language` query value, if any.
    pub language: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct World {
    movies: HashMap<i32, Vec<TmdbVideo>>,
    tv: HashMap<i32, Vec<TmdbVideo>>,
    /// (series id, season number).
    seasons: HashMap<(i32, i32), Vec<TmdbVideo>>,
    generate: Option<u64>,
    throttle_next: u32,
    fail_next: u32,
    delay: Duration,
    /// (limit, window) and the current window's (start, count).
    rate: Option<(u32, Duration)>,
    window: Option<(Instant, u32)>,
    log: Vec<TmdbRequest>,
}

struct Shared {
    cfg: TmdbConfig,
    world: Mutex<World>,
    requests: AtomicU64,
}

impl Shared {
    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake TMDB; stops when dropped.
pub struct FakeTmdb {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _shutdown: crate::serve::StopOnDrop,
}

impl FakeTmdb {
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(TmdbConfig::default()).await
    }

    pub async fn start_with(cfg: TmdbConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(&cfg.bind).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            cfg,
            world: Mutex::default(),
            requests: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/3/movie/{id}/videos", get(movie_videos))
            .route("/3/tv/{id}/videos", get(tv_videos))
            .route("/3/tv/{id}/season/{season}/videos", get(season_videos))
            .route("/3/configuration", get(configuration))
            .route("/t/p/{size}/{file}", get(image))
            .route("/_control/videos/{kind}/{id}", post(control_videos))
            .route("/_control/generate", post(control_generate))
            .route("/_control/throttle", post(control_throttle))
            .route("/_control/stats", get(control_stats))
            .with_state(shared.clone());
        Ok(Self {
            addr,
            shared,
            _shutdown: crate::serve::spawn(listener, app, "fake tmdb"),
        })
    }

    /// `http://127.0.0.1:PORT` (the API is under `/3/`, like `https://api.themoviedb.org`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/t/p`: give it to the fake Arrs as `image_base`.
    pub fn image_base(&self) -> String {
        format!("http://{}/t/p", self.addr)
    }

    pub fn api_key(&self) -> &str {
        &self.shared.cfg.api_key
    }

    pub fn read_token(&self) -> &str {
        &self.shared.cfg.read_token
    }

    /// The videos of movie `tmdb_id` (an empty list: a known movie without videos).
    pub fn set_movie_videos(&self, tmdb_id: i32, videos: Vec<TmdbVideo>) {
        self.shared.world().movies.insert(tmdb_id, videos);
    }

    pub fn set_tv_videos(&self, tmdb_id: i32, videos: Vec<TmdbVideo>) {
        self.shared.world().tv.insert(tmdb_id, videos);
    }

    /// The videos of season `season` of series `tmdb_id` (an empty list: a season TMDB
    /// knows without videos). Seasons not set answer 404 (code 34), as TMDB does for a
    /// season it does not know.
    pub fn set_season_videos(&self, tmdb_id: i32, season: i32, videos: Vec<TmdbVideo>) {
        self.shared
            .world()
            .seasons
            .insert((tmdb_id, season), videos);
    }

    /// Ids with no videos set answer [`generate_videos`] for `seed` (`None`: 404 code 34).
    pub fn generate_unknown(&self, seed: Option<u64>) {
        self.shared.world().generate = seed;
    }

    /// The next `n` authorised requests answer 429 (code 25).
    pub fn throttle_next(&self, n: u32) {
        self.shared.world().throttle_next = n;
    }

    /// The next `n` authorised requests answer 500 (code 11).
    pub fn fail_next(&self, n: u32) {
        self.shared.world().fail_next = n;
    }

    /// At most `limit` requests per `per` (fixed windows); the rest get 429 (code 25). No
    /// `Retry-After` header: TMDB's are not to be relied on.
    pub fn set_rate_limit(&self, limit: Option<(u32, Duration)>) {
        let mut w = self.shared.world();
        w.rate = limit;
        w.window = None;
    }

    /// Every API answer waits this long first.
    pub fn set_delay(&self, delay: Duration) {
        self.shared.world().delay = delay;
    }

    /// Every API request so far (images not included).
    pub fn requests(&self) -> Vec<TmdbRequest> {
        self.shared.world().log.clone()
    }

    /// How many API requests arrived (refused ones included).
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }
}

type St = State<Arc<Shared>>;
type Q = Query<HashMap<String, String>>;

/// TMDB's error envelope.
fn tmdb_error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        Json(json!({"success": false, "status_code": code, "status_message": message})),
    )
        .into_response()
}

/// Auth, rate limit and injected failures, in that order; `Err` is the answer to send.
async fn gate(
    s: &Shared,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
) -> Result<(), Response> {
    s.requests.fetch_add(1, Ordering::Relaxed);
    let delay = s.world().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let ok = q.get("api_key").map(String::as_str) == Some(s.cfg.api_key.as_str())
        || bearer == Some(s.cfg.read_token.as_str());
    if !ok {
        return Err(tmdb_error(
            StatusCode::UNAUTHORIZED,
            7,
            "Invalid API key: You must be granted a valid key.",
        ));
    }
    let mut w = s.world();
    let over_limit = match w.rate {
        Some((limit, per)) => {
            let now = Instant::now();
            let (start, count) = match w.window {
                Some((start, count)) if now.duration_since(start) < per => (start, count),
                _ => (now, 0),
            };
            w.window = Some((start, count + 1));
            count >= limit
        }
        None => false,
    };
    if w.throttle_next > 0 || over_limit {
        w.throttle_next = w.throttle_next.saturating_sub(1);
        let limit = w.rate.map_or(40, |(l, _)| l);
        return Err(tmdb_error(
            StatusCode::TOO_MANY_REQUESTS,
            25,
            &format!("Your request count (#) is over the allowed limit of ({limit})."),
        ));
    }
    if w.fail_next > 0 {
        w.fail_next -= 1;
        return Err(tmdb_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            11,
            "Internal error: Something went wrong, contact TMDB.",
        ));
    }
    Ok(())
}

fn log(s: &Shared, path: String, q: &HashMap<String, String>, r: Response) -> Response {
    s.world().log.push(TmdbRequest {
        path,
        language: q.get("language").cloned(),
        status: r.status().as_u16(),
    });
    r
}

async fn movie_videos(
    State(s): St,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Q,
) -> Response {
    let r = videos(&s, false, &id, &headers, &q).await;
    log(&s, format!("/3/movie/{id}/videos"), &q, r)
}

async fn tv_videos(
    State(s): St,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Q,
) -> Response {
    let r = videos(&s, true, &id, &headers, &q).await;
    log(&s, format!("/3/tv/{id}/videos"), &q, r)
}

async fn season_videos(
    State(s): St,
    Path((id, season)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Q,
) -> Response {
    let r = match gate(&s, &headers, &q).await {
        Err(r) => r,
        Ok(()) => match (id.parse::<i32>(), season.parse::<i32>()) {
            (Ok(tv), Ok(n)) => match s.world().seasons.get(&(tv, n)).cloned() {
                Some(all) => filtered(tv, &all, &q),
                None => not_found(),
            },
            _ => invalid_id(),
        },
    };
    log(&s, format!("/3/tv/{id}/season/{season}/videos"), &q, r)
}

fn invalid_id() -> Response {
    tmdb_error(
        StatusCode::NOT_FOUND,
        6,
        "Invalid id: The pre-requisite id is invalid or not found.",
    )
}

fn not_found() -> Response {
    tmdb_error(
        StatusCode::NOT_FOUND,
        34,
        "The resource you requested could not be found.",
    )
}

async fn videos(
    s: &Shared,
    tv: bool,
    id: &str,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
) -> Response {
    if let Err(r) = gate(s, headers, q).await {
        return r;
    }
    let Ok(id) = id.parse::<i32>() else {
        return invalid_id();
    };
    let all = {
        let w = s.world();
        let known = if tv { w.tv.get(&id) } else { w.movies.get(&id) };
        match (known, w.generate) {
            (Some(v), _) => v.clone(),
            (None, Some(seed)) => generate_videos(id, seed),
            (None, None) => return not_found(),
        }
    };
    filtered(id, &all, q)
}

/// The `videos` answer: `all` filtered by the request's languages.
fn filtered(id: i32, all: &[TmdbVideo], q: &HashMap<String, String>) -> Response {
    // `language` (default en-US) picks its ISO 639-1 part; `include_video_language` adds
    // more (`null` stands for videos without a language, written `xx`).
    let language = q.get("language").map(String::as_str).unwrap_or("en-US");
    let mut wanted: Vec<String> = vec![
        language
            .split('-')
            .next()
            .unwrap_or("en")
            .to_ascii_lowercase(),
    ];
    if let Some(extra) = q.get("include_video_language") {
        wanted.extend(extra.split(',').map(|l| match l.trim() {
            "null" => "xx".to_owned(),
            l => l.to_ascii_lowercase(),
        }));
    }
    let results: Vec<&TmdbVideo> = all
        .iter()
        .filter(|v| wanted.contains(&v.iso_639_1))
        .collect();
    Json(json!({"id": id, "results": results})).into_response()
}

async fn configuration(State(s): St, headers: HeaderMap, Query(q): Q) -> Response {
    let r = match gate(&s, &headers, &q).await {
        Err(r) => r,
        Ok(()) => {
            let base = format!("http://{}/t/p/", host(&headers));
            Json(json!({
                "images": {
                    "base_url": base, "secure_base_url": base,
                    "backdrop_sizes": ["w300", "w780", "w1280", "original"],
                    "logo_sizes": ["w45", "w92", "w154", "w185", "w300", "w500", "original"],
                    "poster_sizes": ["w92", "w154", "w185", "w342", "w500", "w780", "original"],
                    "profile_sizes": ["w45", "w185", "h632", "original"],
                    "still_sizes": ["w92", "w185", "w300", "original"]
                },
                "change_keys": ["adult", "air_date", "also_known_as", "alternative_titles", "videos"]
            }))
            .into_response()
        }
    };
    log(&s, "/3/configuration".into(), &q, r)
}

fn host(headers: &HeaderMap) -> String {
    headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned()
}

/// The image host is public, like TMDB's CDN.
async fn image(Path((_size, file)): Path<(String, String)>) -> Response {
    crate::artwork::response(&file).await
}

async fn control_videos(
    State(s): St,
    Path((kind, id)): Path<(String, i32)>,
    Json(videos): Json<Vec<TmdbVideo>>,
) -> Response {
    let mut w = s.world();
    match kind.as_str() {
        "movie" => w.movies.insert(id, videos),
        "tv" => w.tv.insert(id, videos),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct GenerateReq {
    seed: Option<u64>,
}

async fn control_generate(State(s): St, Json(g): Json<GenerateReq>) -> Response {
    s.world().generate = g.seed;
    StatusCode::NO_CONTENT.into_response()
}

/// `{"next": n}` → the next n requests get 429; `{"limit": n, "per_ms": ms}` sets a rate
/// limit (`limit` absent clears it).
#[derive(Deserialize)]
struct ThrottleReq {
    #[serde(default)]
    next: u32,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    per_ms: u64,
}

async fn control_throttle(State(s): St, Json(t): Json<ThrottleReq>) -> Response {
    let mut w = s.world();
    w.throttle_next = t.next;
    w.rate = t.limit.map(|l| (l, Duration::from_millis(t.per_ms.max(1))));
    w.window = None;
    StatusCode::NO_CONTENT.into_response()
}

async fn control_stats(State(s): St) -> Response {
    let w = s.world();
    let statuses: Vec<u16> = w.log.iter().map(|r| r.status).collect();
    Json(json!({
        "requests": s.requests.load(Ordering::Relaxed),
        "statuses": statuses,
    }))
    .into_response()
}
