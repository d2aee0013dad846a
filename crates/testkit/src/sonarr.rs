//! A fake Sonarr (the `/api/v3` paths that Sonarr 3.x and 4.x both serve) speaking the real
//! wire format (`shared/research/wire-formats.md` §2): `system/status` (3.x or 4.x shape by
//! the configured version), `rootfolder`, `tag`, the whole library from `GET /api/v3/series`
//! streamed as one array, `GET /api/v3/series/{id}`, and `MediaCover` images. The v3/v4
//! differences in the series object follow the version: `tmdbId`, `originalLanguage`,
//! `monitorNewItems` and `lastAired` exist from 4.x on.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use tapearr_testkit::sonarr::{FakeSonarr, Series};
//! let v3 = FakeSonarr::start_with(tapearr_testkit::sonarr::config_v3()).await?;
//! v3.generate(2_000, 7);
//! v3.add_series(Series::new(81189, "Breaking Bad", 2008).tmdb(1396));
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::arr::names::{self, ENGLISH, Language};
use crate::arr::rng::Rng;
use crate::arr::{
    ArrConfig, ArrFault, ArrItem, ArrStats, Core, Opt, WireCtx, iso_date, iso_secs, write_value,
};
use crate::radarr::{Image, ImageWire, image_wire};

pub const DEFAULT_API_KEY: &str = "fedcba9876543210fedcba9876543210";
pub const VERSION_V4: &str = "4.0.19.2979";
pub const VERSION_V3: &str = "3.0.10.1567";

/// Sonarr 4.x: key [`DEFAULT_API_KEY`], root folders `/tv` and `/anime`, indented JSON.
pub fn default_config() -> ArrConfig {
    ArrConfig {
        bind: "127.0.0.1:0".into(),
        api_key: DEFAULT_API_KEY.into(),
        version: VERSION_V4.into(),
        url_base: String::new(),
        root_folders: vec!["/tv".into(), "/anime".into()],
        image_base: "https://image.tmdb.org/t/p".into(),
        indented: true,
    }
}

/// [`default_config`] with version 3.0.10.
pub fn config_v3() -> ArrConfig {
    ArrConfig {
        version: VERSION_V3.into(),
        ..default_config()
    }
}

/// One season and its statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Season {
    pub season_number: i32,
    pub monitored: bool,
    pub episode_count: i32,
    pub episode_file_count: i32,
    pub total_episode_count: i32,
    pub size_on_disk: i64,
    /// Sonarr leaves `statistics` out of a season it has none for.
    pub has_statistics: bool,
}

/// One series as the fake stores it; derived keys (`sortTitle`, `cleanTitle`, `titleSlug`,
/// `statistics`, image URLs) are computed when written.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// 0: the fake assigns the next id.
    pub id: i32,
    pub title: Opt<String>,
    /// Written by 4.x only.
    pub original_language: Option<Language>,
    pub year: i32,
    pub tvdb_id: i32,
    /// Written by 4.x only; 0 when Sonarr does not know it.
    pub tmdb_id: i32,
    pub imdb_id: Opt<String>,
    pub tv_maze_id: i32,
    pub tv_rage_id: i32,
    pub path: Opt<String>,
    pub root_folder_path: Opt<String>,
    pub network: Opt<String>,
    pub overview: Opt<String>,
    pub certification: Opt<String>,
    pub air_time: Opt<String>,
    /// `continuing|ended|upcoming|deleted`.
    pub status: String,
    /// `standard|daily|anime`.
    pub series_type: String,
    pub monitored: bool,
    pub season_folder: bool,
    pub runtime: i32,
    pub genres: Vec<String>,
    pub tags: Vec<i32>,
    pub added: String,
    pub first_aired: Opt<String>,
    pub last_aired: Opt<String>,
    pub images: Opt<Vec<Image>>,
    pub seasons: Vec<Season>,
    /// Flat `(votes, value)`, unlike Radarr.
    pub ratings: (i64, f64),
    /// 3.x: a real language profile id; 4.x always writes 1.
    pub language_profile_id: i32,
}

impl Series {
    /// A continuing, monitored series in `/tv/{Title}` with one fully downloaded season.
    pub fn new(tvdb_id: i32, title: &str, year: i32) -> Self {
        Self {
            id: 0,
            title: title.into(),
            original_language: Some(ENGLISH),
            year,
            tvdb_id,
            tmdb_id: 0,
            imdb_id: Opt::Missing,
            tv_maze_id: 0,
            tv_rage_id: 0,
            path: Opt::Some(format!("/tv/{}", names::folder(title, 0))),
            root_folder_path: "/tv".into(),
            network: Opt::Missing,
            overview: Opt::Missing,
            certification: Opt::Missing,
            air_time: Opt::Missing,
            status: "continuing".into(),
            series_type: "standard".into(),
            monitored: true,
            season_folder: true,
            runtime: 45,
            genres: vec!["Drama".into()],
            tags: Vec::new(),
            added: "2024-01-01T12:00:00Z".into(),
            first_aired: Opt::Some(iso_date(year, 1, 20)),
            last_aired: Opt::Missing,
            images: Opt::Some(vec![Image {
                cover_type: "poster".into(),
                remote_stem: Opt::Some(format!("tvposter{tvdb_id}")),
            }]),
            seasons: vec![Season {
                season_number: 1,
                monitored: true,
                episode_count: 8,
                episode_file_count: 8,
                total_episode_count: 8,
                size_on_disk: 8 * 2_147_483_648,
                has_statistics: true,
            }],
            ratings: (1000, 8.0),
            language_profile_id: 1,
        }
    }

    pub fn tmdb(mut self, id: i32) -> Self {
        self.tmdb_id = id;
        self
    }

    pub fn imdb(mut self, id: &str) -> Self {
        self.imdb_id = id.into();
        self
    }

    pub fn monitored(mut self, on: bool) -> Self {
        self.monitored = on;
        self
    }

    /// This exact folder (its parent becomes `rootFolderPath`).
    pub fn path(mut self, path: &str) -> Self {
        let path = path.trim_end_matches('/');
        self.root_folder_path = match path.rsplit_once('/') {
            Some((parent, _)) if !parent.is_empty() => Opt::Some(parent.to_owned()),
            _ => Opt::Missing,
        };
        self.path = Opt::Some(path.to_owned());
        self
    }
}

/// `n` series for `seed` in `roots`, ids left 0: same inputs, same series; series `i` does
/// not depend on `n`.
pub fn generate_series(n: usize, seed: u64, roots: &[String]) -> Vec<Series> {
    (0..n).map(|i| generated(seed, i as u64, roots)).collect()
}

const NETWORKS: &[&str] = &[
    "HBO",
    "AMC",
    "BBC One",
    "Netflix",
    "NHK",
    "tvN",
    "ZDF",
    "Canal+",
    "Россия-1",
    "Apple TV+",
];
const GENRES: &[&str] = &[
    "Animation",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Mystery",
    "Reality",
    "Science Fiction",
    "Thriller",
];

fn mostly<T>(r: &mut Rng, missing_per_mille: u64, null_per_mille: u64, v: T) -> Opt<T> {
    let roll = r.below(1000);
    if roll < missing_per_mille {
        Opt::Missing
    } else if roll < missing_per_mille + null_per_mille {
        Opt::Null
    } else {
        Opt::Some(v)
    }
}

fn generated(seed: u64, i: u64, roots: &[String]) -> Series {
    let mut r = Rng::for_item(seed ^ 0x5EE5, i);
    let t = names::title(&mut r);
    // Series often keep their original title in Sonarr (anime, K-dramas).
    let title = if r.chance(500) {
        t.original_title
    } else {
        t.title
    };
    let year = r.range(1960, 2026) as i32;
    let tvdb_id = (70_000 + i * 29 + r.below(29)) as i32;
    let anime = t.language.iso == "ja" && roots.len() > 1;
    let root = if anime {
        &roots[1]
    } else {
        roots.first().map(String::as_str).unwrap_or("/tv")
    };
    let root = root.trim_end_matches('/');
    let ended = r.chance(450);
    let season_count = r.range(1, 12) as i32;
    let mut seasons = Vec::new();
    if r.chance(600) {
        seasons.push(Season {
            season_number: 0,
            monitored: false,
            episode_count: 0,
            episode_file_count: 0,
            total_episode_count: r.range(1, 9) as i32,
            size_on_disk: 0,
            has_statistics: r.chance(800),
        });
    }
    for s in 1..=season_count {
        let total = r.range(6, 24) as i32;
        let have = if r.chance(700) {
            total
        } else {
            r.range(0, total.into()) as i32
        };
        seasons.push(Season {
            season_number: s,
            monitored: r.chance(900),
            episode_count: have,
            episode_file_count: have,
            total_episode_count: total,
            size_on_disk: i64::from(have) * r.range(300_000_000, 4_000_000_000),
            has_statistics: true,
        });
    }
    let images = match r.below(100) {
        0..3 => Opt::Some(Vec::new()),
        3..5 => Opt::Missing,
        _ => Opt::Some(
            ["banner", "poster", "fanart"]
                .iter()
                .map(|c| Image {
                    cover_type: (*c).to_owned(),
                    remote_stem: Opt::Some(r.image_stem()),
                })
                .collect(),
        ),
    };
    let network = (*r.pick(NETWORKS)).to_owned();
    let imdb = format!("tt{:07}", r.range(10_000, 9_999_999));
    let genres = (0..r.range(1, 3))
        .map(|_| (*r.pick(GENRES)).to_owned())
        .collect();
    let overview = format!("{}: a series.", names::english(&mut r));
    let air_time = format!("{:02}:00", r.range(18, 23));
    let first_aired = iso_date(year, 1 + r.below(12) as u32, 10);
    Series {
        id: 0,
        path: Opt::Some(format!("{root}/{}", names::folder(&title, 0))),
        title: Opt::Some(title),
        original_language: Some(t.language),
        year,
        tvdb_id,
        tmdb_id: if r.chance(900) {
            (1_000 + i * 31 + r.below(31)) as i32
        } else {
            0
        },
        imdb_id: mostly(&mut r, 150, 30, imdb),
        tv_maze_id: r.range(0, 80_000) as i32,
        tv_rage_id: if r.chance(500) {
            r.range(1, 50_000) as i32
        } else {
            0
        },
        root_folder_path: Opt::Some(root.to_owned()),
        network: mostly(&mut r, 50, 0, network),
        overview: mostly(&mut r, 50, 0, overview),
        certification: mostly(&mut r, 300, 0, "TV-MA".to_owned()),
        air_time: mostly(&mut r, 200, 0, air_time),
        status: if ended {
            "ended".into()
        } else {
            "continuing".into()
        },
        series_type: if anime {
            "anime".into()
        } else if r.chance(30) {
            "daily".into()
        } else {
            "standard".into()
        },
        monitored: r.chance(850),
        season_folder: r.chance(950),
        runtime: r.range(20, 70) as i32,
        genres,
        tags: Vec::new(),
        added: iso_secs(1_546_300_800 + r.below(215_000_000)),
        first_aired: mostly(&mut r, 30, 0, first_aired),
        last_aired: if ended {
            Opt::Some(iso_date((year + season_count).min(2025), 6, 1))
        } else {
            Opt::Missing
        },
        images,
        seasons,
        ratings: (r.range(0, 50_000), r.range(0, 100) as f64 / 10.0),
        language_profile_id: 1 + r.below(2) as i32,
    }
}

// ---- wire ----

fn missing<T>(v: &&Opt<T>) -> bool {
    v.is_missing()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SeasonStats {
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_airing: Option<String>,
    episode_file_count: i32,
    episode_count: i32,
    total_episode_count: i32,
    size_on_disk: i64,
    release_groups: Vec<&'static str>,
    percent_of_episodes: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SeasonWire {
    season_number: i32,
    monitored: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistics: Option<SeasonStats>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SeriesStats {
    season_count: i32,
    episode_file_count: i32,
    episode_count: i32,
    total_episode_count: i32,
    size_on_disk: i64,
    release_groups: Vec<&'static str>,
    percent_of_episodes: f64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SeriesWire<'a> {
    id: i32,
    #[serde(skip_serializing_if = "missing")]
    title: &'a Opt<String>,
    alternate_titles: [(); 0],
    #[serde(skip_serializing_if = "Option::is_none")]
    sort_title: Option<String>,
    status: &'a str,
    ended: bool,
    #[serde(skip_serializing_if = "missing")]
    overview: &'a Opt<String>,
    #[serde(skip_serializing_if = "missing")]
    network: &'a Opt<String>,
    #[serde(skip_serializing_if = "missing")]
    air_time: &'a Opt<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    images: Option<Opt<Vec<ImageWire>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_language: Option<Value>,
    seasons: Vec<SeasonWire>,
    year: i32,
    #[serde(skip_serializing_if = "missing")]
    path: &'a Opt<String>,
    quality_profile_id: i32,
    season_folder: bool,
    monitored: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    monitor_new_items: Option<&'static str>,
    use_scene_numbering: bool,
    runtime: i32,
    tvdb_id: i32,
    tv_rage_id: i32,
    tv_maze_id: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    tmdb_id: Option<i32>,
    #[serde(skip_serializing_if = "missing")]
    first_aired: &'a Opt<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_aired: Option<&'a Opt<String>>,
    series_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    clean_title: Option<String>,
    #[serde(skip_serializing_if = "missing")]
    imdb_id: &'a Opt<String>,
    title_slug: String,
    #[serde(skip_serializing_if = "missing")]
    root_folder_path: &'a Opt<String>,
    #[serde(skip_serializing_if = "missing")]
    certification: &'a Opt<String>,
    genres: &'a [String],
    tags: &'a [i32],
    added: &'a str,
    ratings: Value,
    statistics: SeriesStats,
    language_profile_id: i32,
}

fn percent(have: i32, of: i32) -> f64 {
    if of == 0 {
        0.0
    } else {
        f64::from(have) * 100.0 / f64::from(of)
    }
}

impl Series {
    fn wire<'a>(&'a self, ctx: &WireCtx) -> SeriesWire<'a> {
        let v4 = ctx.major >= 4;
        let title = self.title.as_ref();
        let seasons: Vec<SeasonWire> = self
            .seasons
            .iter()
            .map(|s| SeasonWire {
                season_number: s.season_number,
                monitored: s.monitored,
                statistics: s.has_statistics.then(|| SeasonStats {
                    previous_airing: (s.episode_count > 0)
                        .then(|| iso_date(self.year + s.season_number.max(1) - 1, 3, 10)),
                    episode_file_count: s.episode_file_count,
                    episode_count: s.episode_count,
                    total_episode_count: s.total_episode_count,
                    size_on_disk: s.size_on_disk,
                    release_groups: if s.episode_file_count > 0 {
                        vec!["GROUP"]
                    } else {
                        Vec::new()
                    },
                    percent_of_episodes: percent(s.episode_count, s.total_episode_count),
                }),
            })
            .collect();
        let sum = |f: fn(&Season) -> i32| self.seasons.iter().map(f).sum::<i32>();
        let (have, total) = (
            sum(|s| s.episode_file_count),
            sum(|s| s.total_episode_count),
        );
        let images = match &self.images {
            Opt::Missing => None,
            Opt::Null => Some(Opt::Null),
            Opt::Some(list) => Some(Opt::Some(
                list.iter()
                    .map(|i| image_wire(ctx, self.id, &i.cover_type, &i.remote_stem))
                    .collect(),
            )),
        };
        SeriesWire {
            id: self.id,
            title: &self.title,
            alternate_titles: [],
            sort_title: title.map(|t| names::sort(t)),
            status: &self.status,
            ended: self.status == "ended",
            overview: &self.overview,
            network: &self.network,
            air_time: &self.air_time,
            images,
            original_language: if v4 {
                self.original_language
                    .map(|l| json!({"id": l.id, "name": l.name}))
            } else {
                None
            },
            seasons,
            year: self.year,
            path: &self.path,
            quality_profile_id: 1,
            season_folder: self.season_folder,
            monitored: self.monitored,
            monitor_new_items: v4.then_some("all"),
            use_scene_numbering: false,
            runtime: self.runtime,
            tvdb_id: self.tvdb_id,
            tv_rage_id: self.tv_rage_id,
            tv_maze_id: self.tv_maze_id,
            tmdb_id: v4.then_some(self.tmdb_id),
            first_aired: &self.first_aired,
            last_aired: (v4 && !self.last_aired.is_missing()).then_some(&self.last_aired),
            series_type: &self.series_type,
            clean_title: title.map(|t| names::clean(t)),
            imdb_id: &self.imdb_id,
            title_slug: names::slug(title.map(String::as_str).unwrap_or(""), self.tvdb_id),
            root_folder_path: &self.root_folder_path,
            certification: &self.certification,
            genres: &self.genres,
            tags: &self.tags,
            added: &self.added,
            ratings: json!({"votes": self.ratings.0, "value": self.ratings.1}),
            statistics: SeriesStats {
                season_count: self.seasons.iter().filter(|s| s.season_number > 0).count() as i32,
                episode_file_count: have,
                episode_count: sum(|s| s.episode_count),
                total_episode_count: total,
                size_on_disk: self.seasons.iter().map(|s| s.size_on_disk).sum(),
                release_groups: if have > 0 { vec!["GROUP"] } else { Vec::new() },
                percent_of_episodes: percent(sum(|s| s.episode_count), total),
            },
            language_profile_id: if v4 { 1 } else { self.language_profile_id },
        }
    }
}

impl ArrItem for Series {
    const ID_KEY: &'static str = "tvdbId";
    const NOUN: &'static str = "Series";

    fn id(&self) -> i32 {
        self.id
    }

    fn set_id(&mut self, id: i32) {
        self.id = id;
    }

    fn external_id(&self) -> i32 {
        self.tvdb_id
    }

    fn write(&self, ctx: &WireCtx, out: &mut Vec<u8>) -> serde_json::Result<()> {
        write_value(&self.wire(ctx), ctx.indented, out)
    }

    fn to_value(&self, ctx: &WireCtx) -> Value {
        serde_json::to_value(self.wire(ctx)).unwrap_or(Value::Null)
    }
}

// ---- the server ----

/// A running fake Sonarr; stops when dropped.
pub struct FakeSonarr {
    addr: SocketAddr,
    core: Arc<Core<Series>>,
    _shutdown: crate::serve::StopOnDrop,
}

impl FakeSonarr {
    /// Starts a Sonarr 4.x ([`default_config`]) with an empty library.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(default_config()).await
    }

    /// Any version: `config_v3()` for a Sonarr 3.x.
    pub async fn start_with(cfg: ArrConfig) -> std::io::Result<Self> {
        let core = Arc::new(Core::<Series>::new(cfg));
        let api =
            crate::arr::read_routes::<Series>("series").route("/api/v3/system/status", get(status));
        let control = Router::new()
            .route("/_control/generate", post(control_generate))
            .route("/_control/series", post(control_add));
        let (addr, stop) = crate::arr::serve(core.clone(), api, control, "fake sonarr").await?;
        Ok(Self {
            addr,
            core,
            _shutdown: stop,
        })
    }

    /// `http://127.0.0.1:PORT{urlBase}` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.core.ctx.url_base)
    }

    /// `http://127.0.0.1:PORT`: where `/_control/…` lives.
    pub fn control_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn api_key(&self) -> &str {
        &self.core.cfg.api_key
    }

    pub fn config(&self) -> &ArrConfig {
        &self.core.cfg
    }

    /// Appends `n` generated series ([`generate_series`]); returns their ids.
    pub fn generate(&self, n: usize, seed: u64) -> Vec<i32> {
        self.core
            .add(generate_series(n, seed, &self.core.cfg.root_folders))
    }

    pub fn add_series(&self, series: Series) -> i32 {
        self.core.add([series]).first().copied().unwrap_or_default()
    }

    pub fn add_many(&self, series: impl IntoIterator<Item = Series>) -> Vec<i32> {
        self.core.add(series)
    }

    pub fn update_series(&self, id: i32, f: impl FnOnce(&mut Series)) -> bool {
        self.core.update(id, f)
    }

    pub fn remove_series(&self, id: i32) -> bool {
        self.core.remove(id)
    }

    pub fn series(&self, id: i32) -> Option<Series> {
        self.core.get(id)
    }

    pub fn all(&self) -> Arc<Vec<Series>> {
        self.core.snapshot()
    }

    pub fn len(&self) -> usize {
        self.core.len()
    }

    pub fn is_empty(&self) -> bool {
        self.core.len() == 0
    }

    pub fn clear(&self) {
        self.core.clear();
    }

    pub fn set_tags(&self, tags: &[(i32, &str)]) {
        *self.core.tags.lock().unwrap_or_else(|p| p.into_inner()) =
            tags.iter().map(|(i, l)| (*i, (*l).to_owned())).collect();
    }

    pub fn set_fault(&self, fault: Option<ArrFault>) {
        self.core.set_fault(fault);
    }

    pub fn fault_once(&self, fault: ArrFault) {
        self.core.fault_once(fault);
    }

    pub fn clear_faults(&self) {
        self.core.clear_faults();
    }

    pub fn stats(&self) -> ArrStats {
        self.core.stats()
    }
}

type St = State<Arc<Core<Series>>>;
type Q = Query<HashMap<String, String>>;

async fn status(State(core): St, headers: HeaderMap, Query(q): Q) -> Response {
    if let Some(r) = core.refuse(&headers, &q) {
        return r;
    }
    let v = &core.cfg.version;
    let body = if core.ctx.major >= 4 {
        json!({
            "appName": "Sonarr", "instanceName": "Sonarr", "version": v,
            "buildTime": "2025-09-01T12:00:00Z", "isDebug": false, "isProduction": true,
            "isAdmin": false, "isUserInteractive": false, "startupPath": "/app/sonarr/bin",
            "appData": "/config", "osName": "ubuntu", "osVersion": "24.04",
            "isNetCore": true, "isLinux": true, "isOsx": false, "isWindows": false,
            "isDocker": true, "mode": "console", "branch": "main",
            "databaseType": "sqLite", "databaseVersion": "3.46.1", "sqliteVersion": "3.46.1",
            "authentication": "forms", "migrationVersion": 215, "urlBase": core.ctx.url_base,
            "runtimeVersion": "8.0.11", "runtimeName": ".NET",
            "startTime": "2025-10-02T08:00:00Z", "packageUpdateMechanism": "docker"
        })
    } else {
        json!({
            "appName": "Sonarr", "instanceName": "Sonarr", "version": v,
            "buildTime": "2022-03-01T12:00:00Z", "isDebug": false, "isProduction": true,
            "isAdmin": false, "isUserInteractive": false, "startupPath": "/opt/NzbDrone",
            "appData": "/config", "osName": "debian", "osVersion": "11",
            "isMonoRuntime": true, "isMono": true, "isLinux": true, "isOsx": false,
            "isWindows": false, "mode": "console", "branch": "main",
            "authentication": "forms", "sqliteVersion": "3.34.1", "migrationVersion": 167,
            "urlBase": core.ctx.url_base, "runtimeVersion": "6.12.0.122",
            "runtimeName": "mono", "startTime": "2025-10-02T08:00:00Z",
            "packageUpdateMechanism": "docker"
        })
    };
    Json(body).into_response()
}

#[derive(Deserialize)]
struct Generate {
    count: usize,
    #[serde(default)]
    seed: u64,
}

async fn control_generate(State(core): St, Json(g): Json<Generate>) -> Response {
    let ids = core.add(generate_series(g.count, g.seed, &core.cfg.root_folders));
    Json(json!({"first": ids.first(), "last": ids.last()})).into_response()
}

/// `POST /_control/series`: `{"tvdbId", "title", "year", "tmdbId"?, "path"?,
/// "monitored"?, "imdbId"?}` → `{"id"}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewSeries {
    tvdb_id: i32,
    title: String,
    year: i32,
    #[serde(default)]
    tmdb_id: i32,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    monitored: Option<bool>,
    #[serde(default)]
    imdb_id: Option<String>,
}

async fn control_add(State(core): St, Json(n): Json<NewSeries>) -> Response {
    let mut s = Series::new(n.tvdb_id, &n.title, n.year).tmdb(n.tmdb_id);
    if let Some(p) = &n.path {
        s = s.path(p);
    }
    if let Some(i) = &n.imdb_id {
        s = s.imdb(i);
    }
    s.monitored = n.monitored.unwrap_or(true);
    let id = core.add([s]).first().copied();
    Json(json!({ "id": id })).into_response()
}
