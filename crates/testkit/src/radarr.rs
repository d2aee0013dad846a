//! A fake Radarr (API v3, as served by Radarr 3.x–6.x) that speaks the real wire format
//! (`shared/research/wire-formats.md` §1): `system/status`, `rootfolder`, `tag`, the whole
//! library from `GET /api/v3/movie` streamed as one JSON array, `GET /api/v3/movie/{id}`,
//! and `MediaCover` images. Libraries come from a seeded generator (unicode titles, missing
//! and null optional fields) and from explicit [`Movie`]s; [`ArrFault`]s break the list.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use tapearr_testkit::arr::ArrFault;
//! use tapearr_testkit::radarr::{FakeRadarr, Movie};
//! let radarr = FakeRadarr::start().await?;
//! radarr.generate(1_000, 7);
//! let id = radarr.add_movie(Movie::new(603, "The Matrix", 1999).trailer("vKQi3bBA1y8"));
//! radarr.fault_once(ArrFault::AbortAfter(500));
//! println!("{} key {} movie {id}", radarr.url(), radarr.api_key());
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
    ArrConfig, ArrFault, ArrItem, ArrStats, Core, Opt, WireCtx, iso_date, iso_secs, last_write,
    write_value,
};

pub const DEFAULT_API_KEY: &str = "0123456789abcdef0123456789abcdef";
pub const DEFAULT_VERSION: &str = "5.28.0.10274";

/// The settings a fake Radarr starts with: key [`DEFAULT_API_KEY`], version
/// [`DEFAULT_VERSION`], root folders `/movies` and `/movies-4k`, TMDB image URLs, indented.
pub fn default_config() -> ArrConfig {
    ArrConfig {
        bind: "127.0.0.1:0".into(),
        api_key: DEFAULT_API_KEY.into(),
        version: DEFAULT_VERSION.into(),
        url_base: String::new(),
        root_folders: vec!["/movies".into(), "/movies-4k".into()],
        image_base: "https://image.tmdb.org/t/p".into(),
        indented: true,
    }
}

/// A cover image: `coverType` (`poster`, `fanart`, …) and TMDB's `remoteUrl` file stem.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub cover_type: String,
    /// `remoteUrl` is `{image_base}/original/{stem}.jpg`; `Missing` omits the key.
    pub remote_stem: Opt<String>,
}

/// Ratings per source (`None` sources are omitted, as Radarr does): `(votes, value)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ratings {
    pub imdb: Option<(i64, f64)>,
    pub tmdb: Option<(i64, f64)>,
    pub metacritic: Option<f64>,
    pub rotten_tomatoes: Option<f64>,
}

/// The movie's file (`movieFile`); `hasFile` is true when there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct MovieFile {
    /// Relative to the movie's `path`.
    pub relative_path: String,
    pub size: i64,
    /// A Radarr quality name: `Bluray-1080p`, `WEBDL-1080p`, `Bluray-2160p`, `HDTV-720p`,
    /// `DVD`, `Remux-2160p` (others are written as id 0, source `unknown`).
    pub quality: String,
    pub release_group: Opt<String>,
    pub date_added: String,
}

/// One movie as the fake stores it; the wire object is derived from it (`sortTitle`,
/// `cleanTitle`, `folderName`, `titleSlug`, `hasFile`, `statistics`, image URLs …).
#[derive(Debug, Clone, PartialEq)]
pub struct Movie {
    /// 0: the fake assigns the next id.
    pub id: i32,
    pub title: Opt<String>,
    pub original_title: Opt<String>,
    /// Omitted before Radarr 4.
    pub original_language: Option<Language>,
    pub year: i32,
    pub tmdb_id: i32,
    pub imdb_id: Opt<String>,
    /// Often `Some("")` in real libraries.
    pub youtube_trailer_id: Opt<String>,
    pub path: Opt<String>,
    pub root_folder_path: Opt<String>,
    pub studio: Opt<String>,
    pub overview: Opt<String>,
    pub certification: Opt<String>,
    pub website: Opt<String>,
    /// `tba|announced|inCinemas|released|deleted`.
    pub status: String,
    pub monitored: bool,
    pub runtime: i32,
    pub genres: Vec<String>,
    pub tags: Vec<i32>,
    pub added: String,
    pub in_cinemas: Opt<String>,
    pub physical_release: Opt<String>,
    pub digital_release: Opt<String>,
    pub images: Opt<Vec<Image>>,
    pub file: Option<MovieFile>,
    pub ratings: Ratings,
    pub popularity: f64,
    /// `(title, tmdbId)` of the collection.
    pub collection: Option<(String, i32)>,
    pub quality_profile_id: i32,
}

impl Movie {
    /// A monitored, released movie in `/movies/{Title} ({year})` with no file, an empty
    /// `youTubeTrailerId`, a poster and a fanart.
    pub fn new(tmdb_id: i32, title: &str, year: i32) -> Self {
        let mut m = Self {
            id: 0,
            title: title.into(),
            original_title: title.into(),
            original_language: Some(ENGLISH),
            year,
            tmdb_id,
            imdb_id: Opt::Missing,
            youtube_trailer_id: "".into(),
            path: Opt::Missing,
            root_folder_path: Opt::Missing,
            studio: Opt::Missing,
            overview: Opt::Missing,
            certification: Opt::Missing,
            website: Opt::Missing,
            status: "released".into(),
            monitored: true,
            runtime: 100,
            genres: vec!["Drama".into()],
            tags: Vec::new(),
            added: "2024-01-01T12:00:00Z".into(),
            in_cinemas: Opt::Some(iso_date(year, 6, 1)),
            physical_release: Opt::Missing,
            digital_release: Opt::Missing,
            images: Opt::Some(vec![
                Image {
                    cover_type: "poster".into(),
                    remote_stem: Opt::Some(format!("poster{tmdb_id}")),
                },
                Image {
                    cover_type: "fanart".into(),
                    remote_stem: Opt::Some(format!("fanart{tmdb_id}")),
                },
            ]),
            file: None,
            ratings: Ratings::default(),
            popularity: 10.0,
            collection: None,
            quality_profile_id: 1,
        };
        m = m.in_root("/movies");
        m
    }

    /// `youTubeTrailerId` = `id` (`""` is what Radarr sends when it knows none).
    pub fn trailer(mut self, id: &str) -> Self {
        self.youtube_trailer_id = id.into();
        self
    }

    /// `youTubeTrailerId` absent or `null`.
    pub fn trailer_field(mut self, v: Opt<String>) -> Self {
        self.youtube_trailer_id = v;
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

    pub fn original(mut self, title: &str, language: Language) -> Self {
        self.original_title = title.into();
        self.original_language = Some(language);
        self
    }

    /// `path` = `{root}/{Title} ({year})`, `rootFolderPath` = `root`.
    pub fn in_root(mut self, root: &str) -> Self {
        let root = root.trim_end_matches('/');
        let title = self
            .title
            .as_ref()
            .map(String::as_str)
            .unwrap_or("Untitled");
        self.path = Opt::Some(format!("{root}/{}", names::folder(title, self.year)));
        self.root_folder_path = Opt::Some(root.to_owned());
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

    /// A `Bluray-1080p` file `{Title} ({year}) Bluray-1080p.mkv` of `size` bytes.
    pub fn with_file(mut self, size: i64) -> Self {
        let title = self
            .title
            .as_ref()
            .map(String::as_str)
            .unwrap_or("Untitled");
        self.file = Some(MovieFile {
            relative_path: format!("{} Bluray-1080p.mkv", names::folder(title, self.year)),
            size,
            quality: "Bluray-1080p".into(),
            release_group: "GROUP".into(),
            date_added: "2024-01-01T12:30:00Z".into(),
        });
        self
    }
}

/// `n` movies for `seed` in `roots`, ids left 0 (the fake numbers them 1, 2, … in order):
/// the same `(n, seed, roots)` always gives the same movies, and movie `i` does not depend
/// on `n`.
pub fn generate_movies(n: usize, seed: u64, roots: &[String]) -> Vec<Movie> {
    (0..n).map(|i| generated(seed, i as u64, roots)).collect()
}

const STUDIOS: &[&str] = &[
    "Warner Bros. Pictures",
    "A24",
    "Studio Ghibli",
    "東宝",
    "Gaumont",
    "Constantin Film",
    "Mosfilm",
    "CJ Entertainment",
    "Neon",
    "Pathé",
];
const GENRES: &[&str] = &[
    "Action",
    "Adventure",
    "Animation",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Family",
    "Fantasy",
    "Horror",
    "Music",
    "Mystery",
    "Romance",
    "Science Fiction",
    "Thriller",
    "War",
    "Western",
];
const CERTIFICATIONS: &[&str] = &["G", "PG", "PG-13", "R", "NC-17"];
/// (name, Radarr quality id, source, resolution, modifier)
const QUALITIES: &[(&str, i32, &str, i32, &str)] = &[
    ("Bluray-1080p", 7, "bluray", 1080, "none"),
    ("WEBDL-1080p", 3, "webdl", 1080, "none"),
    ("Bluray-2160p", 19, "bluray", 2160, "none"),
    ("HDTV-720p", 4, "tv", 720, "none"),
    ("DVD", 2, "dvd", 480, "none"),
    ("Remux-2160p", 31, "bluray", 2160, "remux"),
];

/// A string field that is usually there, sometimes missing and rarely `null`.
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

fn generated(seed: u64, i: u64, roots: &[String]) -> Movie {
    let mut r = Rng::for_item(seed, i);
    let t = names::title(&mut r);
    let year = r.range(1931, 2026) as i32;
    // Unique and increasing with i, like TMDB ids in a library sorted by add order.
    let tmdb_id = (i * 37 + 11 + r.below(37)) as i32;
    let root = if roots.len() > 1 && r.chance(150) {
        &roots[1 + r.below(roots.len() as u64 - 1) as usize]
    } else {
        roots.first().map(String::as_str).unwrap_or("/movies")
    };
    let root = root.trim_end_matches('/');
    let folder = names::folder(&t.title, year);
    let imdb = format!("tt{:07}", r.range(10_000, 9_999_999));
    let trailer = match r.below(100) {
        0..55 => Opt::Some(r.youtube_id()),
        55..90 => Opt::Some(String::new()),
        90..97 => Opt::Missing,
        _ => Opt::Null,
    };
    let file = if r.chance(820) {
        let &(quality, ..) = r.pick(QUALITIES);
        let group = (*r.pick(&["GROUP", "FraMeSToR", "SPARKS", "NTb"])).to_owned();
        Some(MovieFile {
            relative_path: format!("{folder} {quality}.mkv"),
            size: r.range(700_000_000, 60_000_000_000),
            quality: quality.to_owned(),
            release_group: mostly(&mut r, 100, 0, group),
            date_added: iso_secs(1_546_300_800 + r.below(215_000_000)),
        })
    } else {
        None
    };
    let images = match r.below(100) {
        0..3 => Opt::Some(Vec::new()),
        3..5 => Opt::Missing,
        _ => {
            let mut v = vec![Image {
                cover_type: "poster".into(),
                remote_stem: Opt::Some(r.image_stem()),
            }];
            if r.chance(900) {
                v.push(Image {
                    cover_type: "fanart".into(),
                    remote_stem: Opt::Some(r.image_stem()),
                });
            }
            if r.chance(100) {
                v.push(Image {
                    cover_type: "clearlogo".into(),
                    remote_stem: Opt::Missing,
                });
            }
            Opt::Some(v)
        }
    };
    let genres = (0..r.range(0, 3))
        .map(|_| (*r.pick(GENRES)).to_owned())
        .collect();
    let month = r.range(1, 12) as u32;
    let day = r.range(1, 28) as u32;
    let studio = (*r.pick(STUDIOS)).to_owned();
    let overview = format!(
        "{}: the story of {}.",
        names::english(&mut r),
        names::english(&mut r).to_lowercase()
    );
    let certification = (*r.pick(CERTIFICATIONS)).to_owned();
    Movie {
        id: 0,
        original_title: mostly(&mut r, 10, 5, t.original_title),
        title: Opt::Some(t.title),
        original_language: Some(t.language),
        year,
        tmdb_id,
        imdb_id: mostly(&mut r, 80, 20, imdb),
        youtube_trailer_id: trailer,
        path: Opt::Some(format!("{root}/{folder}")),
        root_folder_path: Opt::Some(root.to_owned()),
        studio: mostly(&mut r, 100, 0, studio),
        overview: mostly(&mut r, 50, 0, overview),
        certification: mostly(&mut r, 200, 0, certification),
        website: Opt::Missing,
        status: if year >= 2026 {
            "announced".into()
        } else {
            "released".into()
        },
        monitored: r.chance(850),
        runtime: if r.chance(30) {
            0
        } else {
            r.range(75, 190) as i32
        },
        genres,
        tags: if r.chance(100) { vec![1] } else { Vec::new() },
        added: iso_secs(1_546_300_800 + r.below(215_000_000)),
        in_cinemas: mostly(&mut r, 50, 0, iso_date(year, month, day)),
        physical_release: mostly(&mut r, 400, 0, iso_date(year, month.min(11) + 1, day)),
        digital_release: mostly(&mut r, 500, 0, iso_date(year, month.min(10) + 2, day)),
        images,
        ratings: Ratings {
            imdb: r
                .chance(900)
                .then(|| (r.range(10, 2_500_000), r.range(10, 95) as f64 / 10.0)),
            tmdb: Some((r.range(0, 30_000), r.range(0, 100) as f64 / 10.0)),
            metacritic: r.chance(300).then(|| r.range(10, 100) as f64),
            rotten_tomatoes: r.chance(400).then(|| r.range(0, 100) as f64),
        },
        file,
        popularity: r.below(100_000) as f64 / 100.0,
        collection: r.chance(100).then(|| {
            (
                format!("{} Collection", names::english(&mut r)),
                tmdb_id + 1,
            )
        }),
        quality_profile_id: r.range(1, 6) as i32,
    }
}

// ---- wire ----

fn missing<T>(v: &&Opt<T>) -> bool {
    v.is_missing()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LanguageWire {
    id: i32,
    name: &'static str,
}

impl From<Language> for LanguageWire {
    fn from(l: Language) -> Self {
        Self {
            id: l.id,
            name: l.name,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageWire {
    cover_type: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote_url: Option<Opt<String>>,
}

pub(crate) fn image_wire(
    ctx: &WireCtx,
    id: i32,
    cover_type: &str,
    remote: &Opt<String>,
) -> ImageWire {
    let ext = if cover_type == "clearlogo" {
        "png"
    } else {
        "jpg"
    };
    ImageWire {
        cover_type: cover_type.to_owned(),
        url: format!(
            "{}/MediaCover/{id}/{cover_type}.{ext}?lastWrite={}",
            ctx.url_base,
            last_write(id)
        ),
        remote_url: match remote {
            Opt::Missing => None,
            Opt::Null => Some(Opt::Null),
            Opt::Some(stem) => Some(Opt::Some(format!(
                "{}/original/{stem}.{ext}",
                ctx.image_base
            ))),
        },
    }
}

#[derive(Serialize)]
struct RatingWire {
    votes: i64,
    value: f64,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NestedRatings {
    #[serde(skip_serializing_if = "Option::is_none")]
    imdb: Option<RatingWire>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tmdb: Option<RatingWire>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metacritic: Option<RatingWire>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotten_tomatoes: Option<RatingWire>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum RatingsWire {
    /// Radarr 3.x: `{"votes", "value"}` (TMDB's).
    Flat {
        votes: i64,
        value: f64,
    },
    Nested(NestedRatings),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QualityWire<'a> {
    quality: QualityInner<'a>,
    revision: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QualityInner<'a> {
    id: i32,
    name: &'a str,
    source: &'a str,
    resolution: i32,
    modifier: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MovieFileWire<'a> {
    id: i32,
    movie_id: i32,
    relative_path: &'a str,
    path: String,
    size: i64,
    date_added: &'a str,
    #[serde(skip_serializing_if = "missing")]
    release_group: &'a Opt<String>,
    edition: &'a str,
    languages: [LanguageWire; 1],
    quality: QualityWire<'a>,
    custom_formats: [(); 0],
    custom_format_score: i32,
    indexer_flags: i32,
    media_info: Value,
    quality_cutoff_not_met: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Statistics<'a> {
    movie_file_count: i32,
    size_on_disk: i64,
    release_groups: Vec<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MovieWire<'a> {
    id: i32,
    #[serde(skip_serializing_if = "missing")]
    title: &'a Opt<String>,
    #[serde(skip_serializing_if = "missing")]
    original_title: &'a Opt<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_language: Option<LanguageWire>,
    alternate_titles: [(); 0],
    secondary_year_source_id: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort_title: Option<String>,
    size_on_disk: i64,
    status: &'a str,
    #[serde(skip_serializing_if = "missing")]
    overview: &'a Opt<String>,
    #[serde(skip_serializing_if = "missing")]
    in_cinemas: &'a Opt<String>,
    #[serde(skip_serializing_if = "missing")]
    physical_release: &'a Opt<String>,
    #[serde(skip_serializing_if = "missing")]
    digital_release: &'a Opt<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    release_date: Option<&'a Opt<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    images: Option<Opt<Vec<ImageWire>>>,
    #[serde(skip_serializing_if = "missing")]
    website: &'a Opt<String>,
    year: i32,
    #[serde(rename = "youTubeTrailerId", skip_serializing_if = "missing")]
    youtube_trailer_id: &'a Opt<String>,
    #[serde(skip_serializing_if = "missing")]
    studio: &'a Opt<String>,
    #[serde(skip_serializing_if = "missing")]
    path: &'a Opt<String>,
    quality_profile_id: i32,
    has_file: bool,
    movie_file_id: i32,
    monitored: bool,
    minimum_availability: &'a str,
    is_available: bool,
    #[serde(skip_serializing_if = "missing")]
    folder_name: &'a Opt<String>,
    runtime: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    clean_title: Option<String>,
    #[serde(skip_serializing_if = "missing")]
    imdb_id: &'a Opt<String>,
    tmdb_id: i32,
    title_slug: String,
    #[serde(skip_serializing_if = "missing")]
    root_folder_path: &'a Opt<String>,
    #[serde(skip_serializing_if = "missing")]
    certification: &'a Opt<String>,
    genres: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    keywords: Option<[(); 0]>,
    tags: &'a [i32],
    added: &'a str,
    ratings: RatingsWire,
    #[serde(skip_serializing_if = "Option::is_none")]
    movie_file: Option<MovieFileWire<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    collection: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    popularity: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statistics: Option<Statistics<'a>>,
}

fn rating(v: Option<(i64, f64)>, kind: &'static str) -> Option<RatingWire> {
    v.map(|(votes, value)| RatingWire { votes, value, kind })
}

impl Movie {
    fn wire<'a>(&'a self, ctx: &WireCtx) -> MovieWire<'a> {
        let major = ctx.major;
        let title = self.title.as_ref();
        let size = self.file.as_ref().map_or(0, |f| f.size);
        let movie_file = self.file.as_ref().map(|f| {
            let &(_, qid, source, resolution, modifier) = QUALITIES
                .iter()
                .find(|q| q.0 == f.quality)
                .unwrap_or(&("", 0, "unknown", 0, "none"));
            let base = self.path.as_ref().map(String::as_str).unwrap_or("");
            MovieFileWire {
                id: self.id,
                movie_id: self.id,
                relative_path: &f.relative_path,
                path: format!("{base}/{}", f.relative_path),
                size: f.size,
                date_added: &f.date_added,
                release_group: &f.release_group,
                edition: "",
                languages: [self.original_language.unwrap_or(ENGLISH).into()],
                quality: QualityWire {
                    quality: QualityInner {
                        id: qid,
                        name: &f.quality,
                        source,
                        resolution,
                        modifier,
                    },
                    revision: json!({"version": 1, "real": 0, "isRepack": false}),
                },
                custom_formats: [],
                custom_format_score: 0,
                indexer_flags: 0,
                media_info: json!({
                    "audioBitrate": 1_536_000, "audioChannels": 5.1, "audioCodec": "DTS",
                    "audioLanguages": "eng", "audioStreamCount": 1, "videoBitDepth": 8,
                    "videoBitrate": 0, "videoCodec": "x264", "videoFps": 23.976,
                    "videoDynamicRange": "", "videoDynamicRangeType": "",
                    "resolution": if resolution >= 2160 { "3840x1600" } else { "1920x800" },
                    "runTime": format!("{}:{:02}:17", self.runtime / 60, self.runtime % 60),
                    "scanType": "Progressive", "subtitles": "eng"}),
                quality_cutoff_not_met: false,
            }
        });
        let ratings = if major < 4 {
            let (votes, value) = self.ratings.tmdb.unwrap_or((0, 0.0));
            RatingsWire::Flat { votes, value }
        } else {
            RatingsWire::Nested(NestedRatings {
                imdb: rating(self.ratings.imdb, "user"),
                tmdb: rating(self.ratings.tmdb, "user"),
                metacritic: rating(self.ratings.metacritic.map(|v| (0, v)), "user"),
                rotten_tomatoes: rating(self.ratings.rotten_tomatoes.map(|v| (0, v)), "user"),
            })
        };
        let images = match &self.images {
            Opt::Missing => None,
            Opt::Null => Some(Opt::Null),
            Opt::Some(list) => Some(Opt::Some(
                list.iter()
                    .map(|i| image_wire(ctx, self.id, &i.cover_type, &i.remote_stem))
                    .collect(),
            )),
        };
        MovieWire {
            id: self.id,
            title: &self.title,
            original_title: &self.original_title,
            original_language: if major >= 4 {
                self.original_language.map(Into::into)
            } else {
                None
            },
            alternate_titles: [],
            secondary_year_source_id: 0,
            sort_title: title.map(|t| names::sort(t)),
            size_on_disk: size,
            status: &self.status,
            overview: &self.overview,
            in_cinemas: &self.in_cinemas,
            physical_release: &self.physical_release,
            digital_release: &self.digital_release,
            release_date: (major >= 5 && !self.physical_release.is_missing())
                .then_some(&self.physical_release),
            images,
            website: &self.website,
            year: self.year,
            youtube_trailer_id: &self.youtube_trailer_id,
            studio: &self.studio,
            path: &self.path,
            quality_profile_id: self.quality_profile_id,
            has_file: self.file.is_some(),
            movie_file_id: if self.file.is_some() { self.id } else { 0 },
            monitored: self.monitored,
            minimum_availability: "released",
            is_available: self.status == "released",
            // Radarr's folderName is the whole path, not its leaf.
            folder_name: &self.path,
            runtime: self.runtime,
            clean_title: title.map(|t| names::clean(t)),
            imdb_id: &self.imdb_id,
            tmdb_id: self.tmdb_id,
            title_slug: self.tmdb_id.to_string(),
            root_folder_path: &self.root_folder_path,
            certification: &self.certification,
            genres: &self.genres,
            keywords: (major >= 5).then_some([]),
            tags: &self.tags,
            added: &self.added,
            ratings,
            movie_file,
            collection: self
                .collection
                .as_ref()
                .map(|(t, id)| json!({"title": t, "tmdbId": id})),
            popularity: (major >= 4).then_some(self.popularity),
            statistics: (major >= 5).then(|| Statistics {
                movie_file_count: i32::from(self.file.is_some()),
                size_on_disk: size,
                release_groups: self
                    .file
                    .iter()
                    .filter_map(|f| f.release_group.as_ref().map(String::as_str))
                    .collect(),
            }),
        }
    }
}

impl ArrItem for Movie {
    const ID_KEY: &'static str = "tmdbId";
    const NOUN: &'static str = "Movie";

    fn id(&self) -> i32 {
        self.id
    }

    fn set_id(&mut self, id: i32) {
        self.id = id;
    }

    fn external_id(&self) -> i32 {
        self.tmdb_id
    }

    fn write(&self, ctx: &WireCtx, out: &mut Vec<u8>) -> serde_json::Result<()> {
        write_value(&self.wire(ctx), ctx.indented, out)
    }

    fn to_value(&self, ctx: &WireCtx) -> Value {
        serde_json::to_value(self.wire(ctx)).unwrap_or(Value::Null)
    }
}

// ---- the server ----

/// A running fake Radarr; stops when dropped.
pub struct FakeRadarr {
    addr: SocketAddr,
    core: Arc<Core<Movie>>,
    _shutdown: crate::serve::StopOnDrop,
}

impl FakeRadarr {
    /// Starts with [`default_config`] on `127.0.0.1:<random port>`, library empty.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(default_config()).await
    }

    pub async fn start_with(cfg: ArrConfig) -> std::io::Result<Self> {
        let core = Arc::new(Core::<Movie>::new(cfg));
        let api =
            crate::arr::read_routes::<Movie>("movie").route("/api/v3/system/status", get(status));
        let control = Router::new()
            .route("/_control/generate", post(control_generate))
            .route("/_control/movies", post(control_add));
        let (addr, stop) = crate::arr::serve(core.clone(), api, control, "fake radarr").await?;
        Ok(Self {
            addr,
            core,
            _shutdown: stop,
        })
    }

    /// `http://127.0.0.1:PORT{urlBase}` (no trailing slash): what a user types into Tapearr.
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

    /// Appends `n` generated movies ([`generate_movies`] with this fake's root folders);
    /// returns their ids (consecutive).
    pub fn generate(&self, n: usize, seed: u64) -> Vec<i32> {
        self.core
            .add(generate_movies(n, seed, &self.core.cfg.root_folders))
    }

    /// Adds a movie (id 0 gets the next id); returns its id.
    pub fn add_movie(&self, movie: Movie) -> i32 {
        self.core.add([movie]).first().copied().unwrap_or_default()
    }

    pub fn add_movies(&self, movies: impl IntoIterator<Item = Movie>) -> Vec<i32> {
        self.core.add(movies)
    }

    /// Edits a stored movie; false when there is none with `id`.
    pub fn update_movie(&self, id: i32, f: impl FnOnce(&mut Movie)) -> bool {
        self.core.update(id, f)
    }

    /// Deletes a movie from the library (a sync must then drop it); false when absent.
    pub fn remove_movie(&self, id: i32) -> bool {
        self.core.remove(id)
    }

    pub fn movie(&self, id: i32) -> Option<Movie> {
        self.core.get(id)
    }

    /// Every stored movie, in list order (a cheap snapshot).
    pub fn movies(&self) -> Arc<Vec<Movie>> {
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

    /// Tags for `GET /api/v3/tag` (`(id, label)`); movies refer to them by id.
    pub fn set_tags(&self, tags: &[(i32, &str)]) {
        *self.core.tags.lock().unwrap_or_else(|p| p.into_inner()) =
            tags.iter().map(|(i, l)| (*i, (*l).to_owned())).collect();
    }

    /// Every list request from now on meets `fault` (`None` heals).
    pub fn set_fault(&self, fault: Option<ArrFault>) {
        self.core.set_fault(fault);
    }

    /// The next list request meets `fault` (queued: several calls hit consecutive requests).
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

type St = State<Arc<Core<Movie>>>;
type Q = Query<HashMap<String, String>>;

async fn status(State(core): St, headers: HeaderMap, Query(q): Q) -> Response {
    if let Some(r) = core.refuse(&headers, &q) {
        return r;
    }
    let v = &core.cfg.version;
    let mut body = json!({
        "appName": "Radarr", "instanceName": "Radarr", "version": v,
        "buildTime": "2025-10-01T12:00:00Z", "isDebug": false, "isProduction": true,
        "isAdmin": false, "isUserInteractive": false, "startupPath": "/app/radarr/bin",
        "appData": "/config", "osName": "ubuntu", "osVersion": "24.04",
        "isNetCore": true, "isLinux": true, "isOsx": false, "isWindows": false,
        "isDocker": true, "mode": "console", "branch": "master",
        "databaseType": "sqLite", "databaseVersion": "3.46.1", "authentication": "forms",
        "migrationVersion": 241, "urlBase": core.ctx.url_base,
        "runtimeVersion": "8.0.11", "runtimeName": ".NET",
        "startTime": "2025-10-02T08:00:00Z", "packageUpdateMechanism": "docker"
    });
    if core.ctx.major < 4 {
        body["runtimeVersion"] = json!("5.0.17");
        body["migrationVersion"] = json!(200);
    }
    Json(body).into_response()
}

#[derive(Deserialize)]
struct Generate {
    count: usize,
    #[serde(default)]
    seed: u64,
}

async fn control_generate(State(core): St, Json(g): Json<Generate>) -> Response {
    let ids = core.add(generate_movies(g.count, g.seed, &core.cfg.root_folders));
    Json(json!({"first": ids.first(), "last": ids.last()})).into_response()
}

/// `POST /_control/movies`: `{"tmdbId", "title", "year", "youTubeTrailerId"?, "path"?,
/// "hasFile"?, "monitored"?, "imdbId"?}` → `{"id"}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewMovie {
    tmdb_id: i32,
    title: String,
    year: i32,
    #[serde(default, rename = "youTubeTrailerId")]
    youtube_trailer_id: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    has_file: bool,
    #[serde(default)]
    monitored: Option<bool>,
    #[serde(default)]
    imdb_id: Option<String>,
}

async fn control_add(State(core): St, Json(n): Json<NewMovie>) -> Response {
    let mut m = Movie::new(n.tmdb_id, &n.title, n.year);
    if let Some(p) = &n.path {
        m = m.path(p);
    }
    if let Some(t) = &n.youtube_trailer_id {
        m = m.trailer(t);
    }
    if let Some(i) = &n.imdb_id {
        m = m.imdb(i);
    }
    if n.has_file {
        m = m.with_file(8_589_934_592);
    }
    m.monitored = n.monitored.unwrap_or(true);
    let id = core.add([m]).first().copied();
    Json(json!({ "id": id })).into_response()
}
