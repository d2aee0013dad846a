//! The library side of the fake Jellyfin in [`crate::media_servers`]
//! (`shared/research/wire-formats.md` §5): libraries (`GET /Library/VirtualFolders`) and their
//! movies and series (`GET /Items?Recursive=true&IncludeItemTypes=…&Fields=…`), paged with
//! `StartIndex`/`Limit` and counted in `TotalRecordCount`. As the real server: PascalCase
//! keys, null values omitted, GUIDs as 32 hex digits, `Path` and `ProviderIds` only when
//! `Fields` asks for them, and the library's own trailers are never listed as movies.

use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// `Movie` or `Series`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JellyfinKind {
    Movie,
    Series,
}

impl JellyfinKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Movie => "Movie",
            Self::Series => "Series",
        }
    }
}

/// One movie or series.
#[derive(Debug, Clone, PartialEq)]
pub struct JellyfinItem {
    /// `""`: the fake assigns one.
    pub id: String,
    pub kind: JellyfinKind,
    pub name: String,
    pub year: Option<i32>,
    /// Movie: its file; series: its folder. `None`: no `Path` at all (a virtual item).
    pub path: Option<String>,
    /// `ProviderIds`: `("Tmdb", "603")`, `("Imdb", "tt0133093")`, `("Tvdb", "81189")`.
    pub provider_ids: Vec<(String, String)>,
    /// Trailer files next to it that Jellyfin found (`LocalTrailerCount`).
    pub local_trailers: u32,
    /// `RemoteTrailers[].Url` from its metadata provider.
    pub remote_trailers: Vec<String>,
}

impl JellyfinItem {
    pub fn movie(name: &str, year: i32, file: &str) -> Self {
        Self {
            id: String::new(),
            kind: JellyfinKind::Movie,
            name: name.into(),
            year: Some(year),
            path: Some(file.into()),
            provider_ids: Vec::new(),
            local_trailers: 0,
            remote_trailers: Vec::new(),
        }
    }

    pub fn series(name: &str, year: i32, folder: &str) -> Self {
        Self {
            kind: JellyfinKind::Series,
            ..Self::movie(name, year, folder)
        }
    }

    pub fn provider(mut self, name: &str, id: &str) -> Self {
        self.provider_ids.push((name.into(), id.into()));
        self
    }

    pub fn remote_trailer(mut self, url: &str) -> Self {
        self.remote_trailers.push(url.into());
        self
    }

    pub fn local_trailers(mut self, n: u32) -> Self {
        self.local_trailers = n;
        self
    }
}

/// A library (`VirtualFolderInfo`).
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualFolder {
    pub name: String,
    /// `movies`, `tvshows`, `music`, …
    pub collection_type: String,
    pub locations: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Library {
    pub folders: Vec<VirtualFolder>,
    pub items: Vec<JellyfinItem>,
    next_id: u64,
    /// When set, `/Items` reports this many more items than it holds (a library that changed
    /// between two pages, as a real server's count does).
    pub total_drift: i64,
}

const SERVER_ID: &str = "f4a3c2b1d0e94f8a9b7c6d5e4f3a2b1c";

impl Library {
    pub fn add_folder(&mut self, name: &str, collection_type: &str, locations: &[&str]) {
        self.folders.retain(|f| f.name != name);
        self.folders.push(VirtualFolder {
            name: name.into(),
            collection_type: collection_type.into(),
            locations: locations.iter().map(|l| l.to_string()).collect(),
        });
    }

    /// Adds an item; its id.
    pub fn add_item(&mut self, mut item: JellyfinItem) -> String {
        if item.id.is_empty() {
            self.next_id += 1;
            item.id = format!("{:032x}", 0x6c2a_0000_u128 + u128::from(self.next_id));
        }
        let id = item.id.clone();
        self.items.retain(|i| i.id != id);
        self.items.push(item);
        id
    }

    pub fn virtual_folders_json(&self) -> Value {
        Value::Array(
            self.folders
                .iter()
                .enumerate()
                .map(|(n, f)| {
                    json!({"Name": f.name, "Locations": f.locations,
                           "CollectionType": f.collection_type,
                           "LibraryOptions": {"Enabled": true, "PathInfos": f.locations.iter()
                               .map(|l| json!({"Path": l})).collect::<Vec<_>>()},
                           "ItemId": format!("{:032x}", 0xf01d_e000_u128 + n as u128),
                           "RefreshStatus": "Idle"})
                })
                .collect(),
        )
    }

    /// `GET /Items`: the query as the real server reads it (names case-insensitive).
    pub fn items_json(&self, query: &HashMap<String, String>) -> Value {
        let q = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let types: Vec<&str> = q("IncludeItemTypes")
            .map(|t| t.split(',').map(str::trim).collect())
            .unwrap_or_default();
        let fields: Vec<String> = q("Fields")
            .map(|f| {
                f.split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let has = |f: &str| fields.iter().any(|x| x == &f.to_ascii_lowercase());
        let mut matching: Vec<&JellyfinItem> = self
            .items
            .iter()
            .filter(|i| {
                types.is_empty()
                    || types
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(i.kind.as_str()))
            })
            .collect();
        matching.sort_by_key(|i| i.name.to_lowercase());
        let start = q("StartIndex")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0usize);
        let limit = q("Limit")
            .and_then(|s| s.parse().ok())
            .unwrap_or(usize::MAX);
        let page: Vec<Value> = matching
            .iter()
            .skip(start)
            .take(limit)
            .map(|i| item_json(i, &has))
            .collect();
        json!({"Items": page,
               "TotalRecordCount": matching.len() as i64 + self.total_drift,
               "StartIndex": start})
    }
}

fn item_json(i: &JellyfinItem, has: &dyn Fn(&str) -> bool) -> Value {
    let mut o = Map::new();
    o.insert("Name".into(), json!(i.name));
    o.insert("ServerId".into(), json!(SERVER_ID));
    o.insert("Id".into(), json!(i.id));
    if let Some(y) = i.year {
        o.insert("ProductionYear".into(), json!(y));
        if has("ProductionYear") {
            o.insert(
                "PremiereDate".into(),
                json!(format!("{y}-01-01T00:00:00.0000000Z")),
            );
        }
    }
    o.insert("IsFolder".into(), json!(i.kind == JellyfinKind::Series));
    o.insert("Type".into(), json!(i.kind.as_str()));
    o.insert("LocationType".into(), json!("FileSystem"));
    o.insert(
        "MediaType".into(),
        json!(if i.kind == JellyfinKind::Movie {
            "Video"
        } else {
            "Unknown"
        }),
    );
    if has("Path")
        && let Some(p) = &i.path
    {
        o.insert("Path".into(), json!(p));
    }
    if has("ProviderIds") {
        let ids: Map<String, Value> = i
            .provider_ids
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        o.insert("ProviderIds".into(), Value::Object(ids));
    }
    if has("MediaSources")
        && i.kind == JellyfinKind::Movie
        && let Some(p) = &i.path
    {
        o.insert(
            "MediaSources".into(),
            json!([{"Protocol": "File", "Id": i.id, "Path": p, "Type": "Default",
                    "Container": "mkv", "Name": i.name, "IsRemote": false}]),
        );
    }
    if has("LocalTrailerCount") {
        o.insert("LocalTrailerCount".into(), json!(i.local_trailers));
    }
    if has("RemoteTrailers") {
        let t: Vec<Value> = i
            .remote_trailers
            .iter()
            .map(|u| json!({"Url": u, "Name": "Trailer"}))
            .collect();
        o.insert("RemoteTrailers".into(), Value::Array(t));
    }
    Value::Object(o)
}
