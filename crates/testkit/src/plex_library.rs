//! The library side of the fake Plex in [`crate::media_servers`]
//! (`shared/research/wire-formats.md` §4): sections of movies or shows, their items with
//! `Guid`s and file paths, paging with `X-Plex-Container-Start/Size`, one item's metadata
//! (with `Location` for shows and `includeExtras=1`), and its extras (local trailer files or
//! Plex Pass online trailers).

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Movie or show section / item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlexKind {
    Movie,
    Show,
}

impl PlexKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Movie => "movie",
            Self::Show => "show",
        }
    }
}

/// An extra of an item: a local file (`guid` `file:///…`, a `Part.file`) or, without a file,
/// a Plex Pass online trailer (`iva://…`, nothing on disk).
#[derive(Debug, Clone, PartialEq)]
pub struct PlexExtra {
    pub title: String,
    /// Plex's `extraType`: 1 trailer, 2 deleted scene, 3 interview, 5 behind the scenes,
    /// 10 featurette, …
    pub extra_type: i32,
    pub file: Option<String>,
}

/// One movie or show of a section.
#[derive(Debug, Clone, PartialEq)]
pub struct PlexItem {
    /// `""`: the fake assigns one.
    pub rating_key: String,
    pub kind: PlexKind,
    pub title: String,
    pub year: Option<i32>,
    /// `Guid[].id`: `imdb://tt0133093`, `tmdb://603`, `tvdb://81189`.
    pub guids: Vec<String>,
    /// Movie: the `Part.file` paths (one per version). Show: its `Location` folders.
    pub files: Vec<String>,
    pub extras: Vec<PlexExtra>,
}

impl PlexItem {
    /// A movie with one file.
    pub fn movie(title: &str, year: i32, file: &str) -> Self {
        Self {
            rating_key: String::new(),
            kind: PlexKind::Movie,
            title: title.into(),
            year: Some(year),
            guids: Vec::new(),
            files: vec![file.into()],
            extras: Vec::new(),
        }
    }

    /// A show in one folder.
    pub fn show(title: &str, year: i32, folder: &str) -> Self {
        Self {
            kind: PlexKind::Show,
            ..Self::movie(title, year, folder)
        }
    }

    /// Adds a `Guid` (`tmdb://603`).
    pub fn guid(mut self, id: &str) -> Self {
        self.guids.push(id.into());
        self
    }

    /// A local trailer file Plex found (`extraType` 1).
    pub fn trailer_file(mut self, title: &str, path: &str) -> Self {
        self.extras.push(PlexExtra {
            title: title.into(),
            extra_type: 1,
            file: Some(path.into()),
        });
        self
    }

    /// A Plex Pass online trailer (no file).
    pub fn online_trailer(mut self, title: &str) -> Self {
        self.extras.push(PlexExtra {
            title: title.into(),
            extra_type: 1,
            file: None,
        });
        self
    }
}

/// A section (library) of the fake Plex.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Section {
    pub key: String,
    pub kind: PlexKind,
    pub title: String,
    pub folders: Vec<String>,
    pub items: Vec<PlexItem>,
}

#[derive(Debug, Default)]
pub(crate) struct Library {
    pub sections: Vec<Section>,
    next_key: u64,
}

const ADDED_AT: i64 = 1_700_140_674;

fn subtype(extra_type: i32) -> &'static str {
    match extra_type {
        1 => "trailer",
        2 => "deletedScene",
        3 => "interview",
        4 => "musicVideo",
        5 => "behindTheScenes",
        6 => "sceneOrSample",
        10 => "featurette",
        11 => "short",
        _ => "other",
    }
}

/// Percent-encodes a path for a `file://` guid (unreserved characters and `/` stay).
fn file_url(path: &str) -> String {
    let mut out = String::from("file://");
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn ext(path: &str) -> &str {
    path.rsplit_once('.').map_or("mkv", |(_, e)| e)
}

impl Library {
    pub fn new(sections: &[(String, String, String)]) -> Self {
        Self {
            sections: sections
                .iter()
                .map(|(key, title, folder)| Section {
                    key: key.clone(),
                    kind: PlexKind::Movie,
                    title: title.clone(),
                    folders: vec![folder.clone()],
                    items: Vec::new(),
                })
                .collect(),
            next_key: 1000,
        }
    }

    pub fn section(&self, key: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.key == key)
    }

    pub fn add_section(&mut self, key: &str, kind: PlexKind, title: &str, folders: &[&str]) {
        self.sections.retain(|s| s.key != key);
        self.sections.push(Section {
            key: key.into(),
            kind,
            title: title.into(),
            folders: folders.iter().map(|f| (*f).to_owned()).collect(),
            items: Vec::new(),
        });
    }

    /// Adds `item` to section `key`; its rating key (assigned when empty), or `None` when
    /// there is no such section.
    pub fn add_item(&mut self, key: &str, mut item: PlexItem) -> Option<String> {
        if item.rating_key.is_empty() {
            self.next_key += 1;
            item.rating_key = self.next_key.to_string();
        }
        let rk = item.rating_key.clone();
        self.sections
            .iter_mut()
            .find(|s| s.key == key)?
            .items
            .push(item);
        Some(rk)
    }

    fn item(&self, rating_key: &str) -> Option<(&Section, usize, &PlexItem)> {
        self.sections.iter().find_map(|s| {
            s.items
                .iter()
                .position(|i| i.rating_key == rating_key)
                .map(|n| (s, n, &s.items[n]))
        })
    }

    pub fn sections_json(&self) -> Value {
        let directory: Vec<Value> = self
            .sections
            .iter()
            .enumerate()
            .map(|(n, s)| {
                let (agent, scanner) = match s.kind {
                    PlexKind::Movie => ("tv.plex.agents.movie", "Plex Movie"),
                    PlexKind::Show => ("tv.plex.agents.series", "Plex TV Series"),
                };
                let locations: Vec<Value> = s
                    .folders
                    .iter()
                    .enumerate()
                    .map(|(i, f)| json!({"id": n * 10 + i + 1, "path": f}))
                    .collect();
                json!({"key": s.key, "type": s.kind.as_str(), "title": s.title, "agent": agent,
                       "scanner": scanner, "language": "en-US",
                       "uuid": format!("c3337a1d-6053-4807-85e2-{:012x}", n + 1),
                       "allowSync": true, "refreshing": false, "filters": true, "content": true,
                       "directory": true, "createdAt": 1_581_451_372, "updatedAt": ADDED_AT,
                       "scannedAt": ADDED_AT, "hidden": 0,
                       "thumb": format!("/:/resources/{}.png", s.kind.as_str()),
                       "Location": locations})
            })
            .collect();
        json!({"MediaContainer": {"size": directory.len(), "allowSync": false,
            "title1": "Plex Library", "Directory": directory}})
    }

    fn item_json(section: &Section, n: usize, item: &PlexItem, full: bool, guids: bool) -> Value {
        let rk = &item.rating_key;
        let mut v = json!({
            "ratingKey": rk, "key": format!("/library/metadata/{rk}"),
            "guid": format!("plex://{}/5d776b59ad5437001f{:06x}", item.kind.as_str(), n),
            "librarySectionID": section.key.parse::<i64>().unwrap_or(0),
            "librarySectionTitle": section.title,
            "type": item.kind.as_str(), "title": item.title,
            "addedAt": ADDED_AT, "updatedAt": ADDED_AT,
            "thumb": format!("/library/metadata/{rk}/thumb/{ADDED_AT}"),
        });
        if let Some(y) = item.year {
            v["year"] = json!(y);
            v["originallyAvailableAt"] = json!(format!("{y}-06-01"));
        }
        match item.kind {
            PlexKind::Movie => {
                v["duration"] = json!(7_922_998);
                let media: Vec<Value> = item
                    .files
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let id = rk.parse::<u64>().unwrap_or(0) * 10 + i as u64;
                        json!({"id": id, "duration": 7_922_998, "container": ext(f),
                               "videoResolution": "1080",
                               "Part": [{"id": id, "key": format!("/library/parts/{id}/{ADDED_AT}/file.{}", ext(f)),
                                         "file": f, "size": 481_872_515_i64, "duration": 7_922_998,
                                         "container": ext(f)}]})
                    })
                    .collect();
                v["Media"] = json!(media);
            }
            PlexKind::Show => {
                v["leafCount"] = json!(8);
                v["childCount"] = json!(1);
                if full {
                    let loc: Vec<Value> = item.files.iter().map(|f| json!({"path": f})).collect();
                    v["Location"] = json!(loc);
                }
            }
        }
        if guids || full {
            let g: Vec<Value> = item.guids.iter().map(|id| json!({"id": id})).collect();
            v["Guid"] = json!(g);
        }
        v
    }

    fn extras_json(item: &PlexItem) -> Vec<Value> {
        item.extras
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let rk = item.rating_key.parse::<u64>().unwrap_or(0) * 100 + 50 + i as u64;
                let (guid, part) = match &e.file {
                    Some(f) => (
                        file_url(f),
                        json!({"id": rk, "key": format!("/library/parts/{rk}/0/file.{}", ext(f)),
                               "file": f, "size": 105_320_432_i64}),
                    ),
                    None => (
                        format!("iva://api.internetvideoarchive.com/2.0/DataService/VideoAssets({rk})?lang=en&bitrates=1500"),
                        json!({"id": rk, "key": format!("/services/iva/assets/{rk}/video.mp4"),
                               "container": "mp4"}),
                    ),
                };
                json!({"ratingKey": rk.to_string(), "key": format!("/library/metadata/{rk}"),
                       "guid": guid, "type": "clip", "subtype": subtype(e.extra_type),
                       "extraType": e.extra_type, "title": e.title, "index": i + 1,
                       "duration": 142_758, "addedAt": ADDED_AT,
                       "Media": [{"id": rk, "container": "mp4", "optimizedForStreaming": 0,
                                  "Part": [part]}]})
            })
            .collect()
    }

    /// `GET /library/sections/{key}/all`, paged by `X-Plex-Container-Start/Size` given as
    /// query parameters or headers (no size: everything).
    pub fn all(
        &self,
        key: &str,
        headers: &HeaderMap,
        q: &HashMap<String, String>,
    ) -> Option<Response> {
        let section = self.section(key)?;
        let param = |name: &str| -> Option<usize> {
            q.get(name)
                .map(String::as_str)
                .or_else(|| headers.get(name).and_then(|v| v.to_str().ok()))
                .and_then(|v| v.parse().ok())
        };
        let total = section.items.len();
        let start = param("X-Plex-Container-Start").unwrap_or(0).min(total);
        let size = param("X-Plex-Container-Size").unwrap_or(total);
        let end = start.saturating_add(size).min(total);
        let guids = q.get("includeGuids").is_some_and(|v| v == "1");
        let metadata: Vec<Value> = (start..end)
            .map(|n| Self::item_json(section, n, &section.items[n], false, guids))
            .collect();
        let mut body = json!({"MediaContainer": {"size": metadata.len(), "allowSync": true,
            "librarySectionID": section.key.parse::<i64>().unwrap_or(0),
            "librarySectionTitle": section.title, "viewGroup": section.kind.as_str(),
            "Metadata": metadata}});
        let paged = q.contains_key("X-Plex-Container-Start")
            || q.contains_key("X-Plex-Container-Size")
            || headers.contains_key("X-Plex-Container-Start")
            || headers.contains_key("X-Plex-Container-Size");
        if paged {
            body["MediaContainer"]["totalSize"] = json!(total);
            body["MediaContainer"]["offset"] = json!(start);
        }
        let mut res = axum::Json(body).into_response();
        let h = res.headers_mut();
        h.insert("X-Plex-Container-Start", HeaderValue::from(start));
        h.insert("X-Plex-Container-Total-Size", HeaderValue::from(total));
        Some(res)
    }

    /// `GET /library/metadata/{ratingKey}` or `{rk1},{rk2},…` (several at once, in the asked
    /// order; unknown keys are left out, none known is `None`); `includeExtras=1` adds each
    /// one's `Extras`.
    pub fn metadata(&self, rating_keys: &str, q: &HashMap<String, String>) -> Option<Value> {
        let extras = q.get("includeExtras").is_some_and(|v| v == "1");
        let mut section_id = 0;
        let metadata: Vec<Value> = rating_keys
            .split(',')
            .filter_map(|rk| self.item(rk.trim()))
            .map(|(section, n, item)| {
                section_id = section.key.parse::<i64>().unwrap_or(0);
                let mut v = Self::item_json(section, n, item, true, true);
                if extras {
                    let list = Self::extras_json(item);
                    v["Extras"] = json!({"size": list.len(), "Metadata": list});
                }
                v
            })
            .collect();
        if metadata.is_empty() {
            return None;
        }
        Some(json!({"MediaContainer": {"size": metadata.len(),
            "identifier": "com.plexapp.plugins.library",
            "librarySectionID": section_id, "Metadata": metadata}}))
    }

    /// `GET /library/metadata/{ratingKey}/extras`.
    pub fn extras(&self, rating_key: &str) -> Option<Value> {
        let (_, _, item) = self.item(rating_key)?;
        let extras = Self::extras_json(item);
        Some(if extras.is_empty() {
            json!({"MediaContainer": {"size": 0}})
        } else {
            json!({"MediaContainer": {"size": extras.len(),
                "identifier": "com.plexapp.plugins.library", "Metadata": extras}})
        })
    }
}
