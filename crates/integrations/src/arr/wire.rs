//! The Arrs' JSON (`shared/research/wire-formats.md` §1–2) and its mapping to [`ArrItem`].
//!
//! One element is first read into [`WireItem`] (only the keys we use; the rest is skipped
//! without being built). Only when that fails is it read again as a `serde_json::Value` to
//! say which key is wrong, so the common path allocates nothing it does not keep.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use url::Url;

use super::{ArrItem, ArrKind, ArrSeason, SkippedItem};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SystemStatus {
    pub app_name: Option<String>,
    pub version: Option<String>,
    pub instance_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RootFolderWire {
    pub path: Option<String>,
    pub free_space: Option<i64>,
    pub accessible: Option<bool>,
}

#[derive(Deserialize)]
pub(crate) struct TagWire {
    pub id: i64,
    pub label: Option<String>,
}

/// The Arrs' error body (`ErrorModel`).
#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    pub message: Option<String>,
}

#[derive(Deserialize)]
struct Language {
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Image {
    cover_type: Option<String>,
    url: Option<String>,
    remote_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statistics {
    movie_file_count: Option<i64>,
    episode_file_count: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Season {
    season_number: Option<i32>,
    monitored: Option<bool>,
    statistics: Option<Statistics>,
}

/// Radarr's `movieFile`: only where the file is. Any other type of value there reads as
/// unknown rather than failing the whole movie.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MovieFileWire {
    path: Option<Lenient>,
    relative_path: Option<Lenient>,
}

/// `movieFile` as an object, or anything else (then its place is unknown).
#[derive(Deserialize)]
#[serde(untagged)]
enum MovieFileField {
    File(MovieFileWire),
    Other(IgnoredAny),
}

/// A string, or anything else (then ignored).
#[derive(Deserialize)]
#[serde(untagged)]
enum Lenient {
    Text(String),
    Other(IgnoredAny),
}

impl Lenient {
    fn text(self) -> Option<String> {
        match self {
            Self::Text(s) if !s.trim().is_empty() => Some(s),
            _ => None,
        }
    }
}

/// A movie or a series: the union of the keys read from either.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireItem {
    id: Option<i64>,
    title: Option<String>,
    original_title: Option<String>,
    original_language: Option<Language>,
    year: Option<i32>,
    tmdb_id: Option<i64>,
    tvdb_id: Option<i64>,
    imdb_id: Option<String>,
    studio: Option<String>,
    network: Option<String>,
    overview: Option<String>,
    runtime: Option<i32>,
    tags: Option<Vec<i64>>,
    path: Option<String>,
    has_file: Option<bool>,
    movie_file: Option<MovieFileField>,
    statistics: Option<Statistics>,
    seasons: Option<Vec<Season>>,
    monitored: Option<bool>,
    #[serde(rename = "youTubeTrailerId")]
    youtube_trailer_id: Option<String>,
    images: Option<Vec<Image>>,
    added: Option<String>,
}

/// FNV-1a, 64 bits: stable across Rust versions and platforms (unlike `DefaultHasher`).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `Some` only for a string with something in it.
fn text(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// Whether the element parsed at all: `Err` means it is not valid JSON (the body is corrupt,
/// not one item).
pub(crate) fn parse_item(
    raw: &[u8],
    index: usize,
    kind: ArrKind,
    base: &Url,
) -> Result<Result<ArrItem, SkippedItem>, serde_json::Error> {
    match serde_json::from_slice::<WireItem>(raw) {
        Ok(w) => Ok(to_item(w, raw, index, kind, base)),
        Err(typed) => {
            let value: Value = serde_json::from_slice(raw)?;
            Ok(Err(diagnose(&value, index, kind, &typed)))
        }
    }
}

fn to_item(
    w: WireItem,
    raw: &[u8],
    index: usize,
    kind: ArrKind,
    base: &Url,
) -> Result<ArrItem, SkippedItem> {
    let skip = |reason: String| SkippedItem {
        index,
        arr_id: w.id,
        title: w.title.clone(),
        reason,
    };
    let Some(arr_id) = w.id else {
        return Err(skip("it has no `id`".into()));
    };
    let (ext_key, ext) = match kind {
        ArrKind::Radarr => ("tmdbId", w.tmdb_id),
        ArrKind::Sonarr => ("tvdbId", w.tvdb_id),
    };
    let ext_id = match ext {
        None => return Err(skip(format!("it has no `{ext_key}`"))),
        Some(id) if id <= 0 => return Err(skip(format!("its `{ext_key}` is {id}"))),
        Some(id) => id,
    };
    if w.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(skip("it has no `title`".into()));
    }
    if w.path.as_deref().is_none_or(|p| p.trim().is_empty()) {
        return Err(skip("it has no `path`".into()));
    }
    let has_file = match kind {
        ArrKind::Radarr => {
            w.has_file == Some(true)
                || w.movie_file.is_some()
                || w.statistics
                    .as_ref()
                    .and_then(|s| s.movie_file_count)
                    .is_some_and(|n| n > 0)
        }
        ArrKind::Sonarr => match w.statistics.as_ref().and_then(|s| s.episode_file_count) {
            Some(n) => n > 0,
            None => w.seasons.iter().flatten().any(|s| {
                s.statistics
                    .as_ref()
                    .and_then(|s| s.episode_file_count)
                    .is_some_and(|n| n > 0)
            }),
        },
    };
    let media_files = match (kind, w.movie_file) {
        (ArrKind::Radarr, Some(MovieFileField::File(f))) => {
            let relative = f.relative_path.and_then(Lenient::text);
            match (f.path.and_then(Lenient::text), relative, w.path.as_deref()) {
                (Some(path), _, _) => vec![path],
                (None, Some(rel), Some(folder)) => {
                    let sep = if folder.contains('\\') && !folder.contains('/') {
                        '\\'
                    } else {
                        '/'
                    };
                    vec![format!(
                        "{}{sep}{}",
                        folder.trim_end_matches(['/', '\\']),
                        rel.trim_start_matches(['/', '\\'])
                    )]
                }
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    let (poster_url, fanart_url) = images(w.images.unwrap_or_default(), base);
    // A season without a number is of no use; a negative one is not Sonarr's.
    let seasons = match kind {
        ArrKind::Radarr => Vec::new(),
        ArrKind::Sonarr => w
            .seasons
            .iter()
            .flatten()
            .filter_map(|s| {
                Some(ArrSeason {
                    number: s.season_number.filter(|n| *n >= 0)?,
                    monitored: s.monitored.unwrap_or(false),
                })
            })
            .collect(),
    };
    Ok(ArrItem {
        arr_id,
        ext_id,
        tmdb_id: match kind {
            ArrKind::Radarr => Some(ext_id),
            ArrKind::Sonarr => w.tmdb_id.filter(|&id| id > 0),
        },
        imdb_id: text(w.imdb_id),
        title: w.title.unwrap_or_default(),
        original_title: text(w.original_title),
        year: w.year.filter(|&y| y > 0),
        language: text(w.original_language.and_then(|l| l.name)),
        studio: text(match kind {
            ArrKind::Radarr => w.studio,
            ArrKind::Sonarr => w.network,
        }),
        overview: text(w.overview),
        runtime_min: w.runtime.filter(|&r| r > 0),
        tag_ids: w.tags.unwrap_or_default(),
        path: w.path.unwrap_or_default(),
        media_files,
        has_file,
        monitored: w.monitored.unwrap_or(false),
        trailer_id: text(w.youtube_trailer_id).map(|t| t.trim().to_owned()),
        poster_url,
        fanart_url,
        added: text(w.added),
        fingerprint: fnv1a64(raw),
        seasons,
    })
}

/// The first poster and the first fanart: `remoteUrl` when set, else the Arr's own `url`
/// made absolute (it already carries the URL base, e.g. `/radarr/MediaCover/…`).
fn images(images: Vec<Image>, base: &Url) -> (Option<String>, Option<String>) {
    let mut poster = None;
    let mut fanart = None;
    for image in images {
        let slot = match image.cover_type.as_deref() {
            Some(t) if t.eq_ignore_ascii_case("poster") => &mut poster,
            Some(t) if t.eq_ignore_ascii_case("fanart") => &mut fanart,
            _ => continue,
        };
        if slot.is_some() {
            continue;
        }
        *slot = text(image.remote_url)
            .or_else(|| text(image.url).and_then(|u| base.join(u.trim()).ok().map(String::from)));
    }
    (poster, fanart)
}

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Str,
    Bool,
    Array,
    Object,
}

/// The keys [`WireItem`] reads, with the JSON type each must have (or `null`).
const EXPECTED: &[(&str, Kind)] = &[
    ("id", Kind::Int),
    ("tmdbId", Kind::Int),
    ("tvdbId", Kind::Int),
    ("title", Kind::Str),
    ("path", Kind::Str),
    ("year", Kind::Int),
    ("monitored", Kind::Bool),
    ("hasFile", Kind::Bool),
    ("originalTitle", Kind::Str),
    ("originalLanguage", Kind::Object),
    ("imdbId", Kind::Str),
    ("studio", Kind::Str),
    ("network", Kind::Str),
    ("overview", Kind::Str),
    ("runtime", Kind::Int),
    ("tags", Kind::Array),
    ("statistics", Kind::Object),
    ("seasons", Kind::Array),
    ("youTubeTrailerId", Kind::Str),
    ("images", Kind::Array),
    ("added", Kind::Str),
];

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Why a well-formed element did not read as an item: the keys with the wrong type, by name.
fn diagnose(v: &Value, index: usize, kind: ArrKind, typed: &serde_json::Error) -> SkippedItem {
    let Some(obj) = v.as_object() else {
        return SkippedItem {
            index,
            arr_id: None,
            title: None,
            reason: format!("it is {}, not an object", json_type(v)),
        };
    };
    let wrong: Vec<String> = EXPECTED
        .iter()
        .filter_map(|&(key, want)| {
            let found = obj.get(key)?;
            let ok = match want {
                Kind::Int => found.is_i64() || found.is_null(),
                Kind::Str => found.is_string() || found.is_null(),
                Kind::Bool => found.is_boolean() || found.is_null(),
                Kind::Array => found.is_array() || found.is_null(),
                Kind::Object => found.is_object() || found.is_null(),
            };
            let want = match want {
                Kind::Int => "a whole number",
                Kind::Str => "a string",
                Kind::Bool => "true or false",
                Kind::Array => "a list",
                Kind::Object => "an object",
            };
            (!ok).then(|| format!("`{key}` is {}, not {want}", json_type(found)))
        })
        .collect();
    let reason = if wrong.is_empty() {
        // Something nested (an image, a tag id): serde's own words.
        let ext_key = match kind {
            ArrKind::Radarr => "movie",
            ArrKind::Sonarr => "series",
        };
        format!("unexpected {ext_key} data: {typed}")
    } else {
        wrong.join("; ")
    };
    SkippedItem {
        index,
        arr_id: obj.get("id").and_then(Value::as_i64),
        title: obj.get("title").and_then(Value::as_str).map(str::to_owned),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Url {
        Url::parse("http://radarr.local/radarr/").expect("url")
    }

    fn parse(v: &Value, kind: ArrKind) -> Result<ArrItem, SkippedItem> {
        let raw = serde_json::to_vec(v).expect("json");
        parse_item(&raw, 3, kind, &base()).expect("valid json")
    }

    fn movie() -> Value {
        json!({"id": 7, "title": "Ça", "tmdbId": 603, "path": "/movies/Ça (1999)",
               "monitored": true, "year": 1999})
    }

    #[test]
    fn fnv1a64_known_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn minimal_movie() {
        let item = parse(&movie(), ArrKind::Radarr).expect("item");
        assert_eq!(
            (item.arr_id, item.ext_id, item.tmdb_id),
            (7, 603, Some(603))
        );
        assert_eq!(item.title, "Ça");
        assert_eq!(item.year, Some(1999));
        assert!(item.monitored && !item.has_file);
        assert_eq!(item.tag_ids, Vec::<i64>::new());
        assert_eq!(item.trailer_id, None);
        assert_eq!((item.poster_url, item.fanart_url), (None, None));
    }

    #[test]
    fn the_movie_file_is_where_movie_file_says() {
        let mut m = movie();
        m["path"] = json!("/movies/The Trailer (2020)");
        m["movieFile"] = json!({"id": 1, "relativePath": "The Trailer (2020).mkv",
                                "path": "/movies/The Trailer (2020)/The Trailer (2020).mkv"});
        let item = parse(&m, ArrKind::Radarr).expect("item");
        assert_eq!(
            item.media_files,
            ["/movies/The Trailer (2020)/The Trailer (2020).mkv"]
        );
        // Only `relativePath`: joined to the movie's path (Windows paths keep `\`).
        m["movieFile"] = json!({"relativePath": "The Trailer (2020).mkv"});
        m["path"] = json!("D:\\Movies\\The Trailer (2020)");
        let item = parse(&m, ArrKind::Radarr).expect("item");
        assert_eq!(
            item.media_files,
            ["D:\\Movies\\The Trailer (2020)\\The Trailer (2020).mkv"]
        );
        // Odd values are unknown, not a broken movie.
        for odd in [json!(true), json!({"path": 5}), json!({}), Value::Null] {
            m["movieFile"] = odd.clone();
            let item = parse(&m, ArrKind::Radarr).expect("item");
            assert!(item.media_files.is_empty(), "{odd}");
        }
    }

    #[test]
    fn has_file_from_any_of_the_three_signs() {
        for extra in [
            json!({"hasFile": true}),
            json!({"movieFile": {"id": 1}}),
            json!({"statistics": {"movieFileCount": 1}}),
        ] {
            let mut m = movie();
            for (k, v) in extra.as_object().expect("object") {
                m[k] = v.clone();
            }
            assert!(
                parse(&m, ArrKind::Radarr).expect("item").has_file,
                "{extra}"
            );
        }
        let mut m = movie();
        m["hasFile"] = json!(false);
        m["movieFile"] = Value::Null;
        m["statistics"] = json!({"movieFileCount": 0});
        assert!(!parse(&m, ArrKind::Radarr).expect("item").has_file);
    }

    #[test]
    fn series_files_from_statistics_or_seasons() {
        let s = json!({"id": 1, "title": "X", "tvdbId": 5, "path": "/tv/X",
                       "seasons": [{"seasonNumber": 1, "statistics": {"episodeFileCount": 2}}]});
        assert!(parse(&s, ArrKind::Sonarr).expect("item").has_file);
        let mut s2 = s.clone();
        s2["statistics"] = json!({"episodeFileCount": 0});
        assert!(!parse(&s2, ArrKind::Sonarr).expect("item").has_file);
    }

    #[test]
    fn series_seasons_keep_number_and_monitored() {
        let s = json!({"id": 1, "title": "X", "tvdbId": 5, "path": "/tv/X",
                       "seasons": [{"seasonNumber": 0, "monitored": false},
                                   {"seasonNumber": 1, "monitored": true},
                                   {"seasonNumber": -1, "monitored": true},
                                   {"monitored": true},
                                   {"seasonNumber": 2}]});
        let seasons: Vec<(i32, bool)> = parse(&s, ArrKind::Sonarr)
            .expect("item")
            .seasons
            .iter()
            .map(|s| (s.number, s.monitored))
            .collect();
        assert_eq!(seasons, [(0, false), (1, true), (2, false)]);
        assert!(
            parse(&movie(), ArrKind::Radarr)
                .expect("item")
                .seasons
                .is_empty()
        );
    }

    #[test]
    fn images_prefer_remote_then_absolute_local() {
        let mut m = movie();
        m["images"] = json!([
            {"coverType": "banner", "url": "/radarr/MediaCover/7/banner.jpg"},
            {"coverType": "poster", "url": "/radarr/MediaCover/7/poster.jpg?lastWrite=1"},
            {"coverType": "fanart", "url": "/radarr/MediaCover/7/fanart.jpg", "remoteUrl": "https://img/f.jpg"},
            {"coverType": "poster", "remoteUrl": "https://img/second.jpg"}
        ]);
        let item = parse(&m, ArrKind::Radarr).expect("item");
        assert_eq!(
            item.poster_url.as_deref(),
            Some("http://radarr.local/radarr/MediaCover/7/poster.jpg?lastWrite=1")
        );
        assert_eq!(item.fanart_url.as_deref(), Some("https://img/f.jpg"));
    }

    #[test]
    fn semantic_skips_name_the_key() {
        let cases = [
            ("tmdbId", json!(0), "`tmdbId` is 0"),
            ("tmdbId", Value::Null, "no `tmdbId`"),
            ("title", json!("  "), "no `title`"),
            ("path", Value::Null, "no `path`"),
            ("id", Value::Null, "no `id`"),
        ];
        for (key, value, reason) in cases {
            let mut m = movie();
            m[key] = value;
            let s = parse(&m, ArrKind::Radarr).expect_err("skipped");
            assert!(s.reason.contains(reason), "{key}: {}", s.reason);
            assert_eq!(s.index, 3);
        }
        // A series needs its tvdbId, not a tmdbId.
        let s = parse(&movie(), ArrKind::Sonarr).expect_err("skipped");
        assert!(s.reason.contains("tvdbId"), "{}", s.reason);
        assert_eq!((s.arr_id, s.title.as_deref()), (Some(7), Some("Ça")));
    }

    #[test]
    fn wrong_types_name_every_key() {
        let mut m = movie();
        m["year"] = json!("1999");
        m["monitored"] = json!(1);
        let s = parse(&m, ArrKind::Radarr).expect_err("skipped");
        assert!(s.reason.contains("`year` is a string"), "{}", s.reason);
        assert!(s.reason.contains("`monitored` is a number"), "{}", s.reason);
        assert_eq!(s.arr_id, Some(7));

        let mut m = movie();
        m["images"] = json!([{"coverType": 5}]);
        let s = parse(&m, ArrKind::Radarr).expect_err("skipped");
        assert!(
            s.reason.starts_with("unexpected movie data"),
            "{}",
            s.reason
        );

        let s = parse(&json!([1, 2]), ArrKind::Radarr).expect_err("skipped");
        assert_eq!(s.reason, "it is a list, not an object");
    }

    #[test]
    fn invalid_json_is_an_error_not_a_skip() {
        assert!(parse_item(b"{\"id\": 1,}", 0, ArrKind::Radarr, &base()).is_err());
        assert!(parse_item(b"{]", 0, ArrKind::Radarr, &base()).is_err());
    }
}
