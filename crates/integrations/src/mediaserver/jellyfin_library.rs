//! Jellyfin as a trailer library source: its movies and series
//! (`GET /Items?Recursive=true&IncludeItemTypes=Movie,Series&Fields=Path,ProviderIds,…`), read
//! page by page (`StartIndex`/`Limit`), with the folder that holds each one. A movie's folder
//! is its file's parent; a series' `Path` is its folder. Items are parsed one by one, so a
//! malformed one is skipped with a reason. The key goes in `Authorization: MediaBrowser
//! Token="…"`, which every Jellyfin version accepts.

use super::jellyfin::Flavor;
use super::{ServerError, ServerInfo, answer_error, endpoint, network_error};
use crate::arr::{ArrItem, PullSummary, SkippedItem, fnv1a64};
use serde_json::Value;

/// Items per page: small pages keep memory flat on large libraries.
pub const PAGE: usize = 200;

const SERVICE: &str = "jellyfin";

/// The fields an item needs (`Path` and `ProviderIds` only appear when asked for).
const FIELDS: &str = "Path,ProviderIds,ProductionYear,OriginalTitle,Overview,Studios,MediaSources,LocalTrailerCount,RemoteTrailers";

/// Movie or series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JellyfinItemKind {
    Movie,
    Series,
}

/// One library item in the Arr item's shape. Jellyfin's ids are GUIDs: `arr_id` and `ext_id`
/// are the FNV-1a 64 of the `Id` (stable across pulls, unique in practice).
#[derive(Debug, Clone, PartialEq)]
pub struct JellyfinEntry {
    pub kind: JellyfinItemKind,
    pub item: ArrItem,
    /// Jellyfin already shows a trailer for it: a local one (`LocalTrailerCount`) or one from
    /// its metadata (`RemoteTrailers`).
    pub server_has_trailer: bool,
}

/// A library of the server (`GET /Library/VirtualFolders`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualFolder {
    pub name: String,
    /// `movies`, `tvshows`, `music`, … (absent for mixed libraries).
    pub collection_type: Option<String>,
    pub locations: Vec<String>,
}

fn get(http: &reqwest::Client, base: &str, key: &str, path: &str) -> reqwest::RequestBuilder {
    Flavor::Jellyfin
        .authorize(http.get(endpoint(base, path)), key)
        .header("Accept", "application/json")
}

async fn get_json(req: reqwest::RequestBuilder) -> Result<Value, ServerError> {
    let response = req.send().await.map_err(|e| network_error(SERVICE, e))?;
    if !response.status().is_success() {
        return Err(answer_error(SERVICE, &response));
    }
    response.json::<Value>().await.map_err(|e| {
        ServerError::Retryable(format!(
            "jellyfin: the answer was cut or is not JSON: {}",
            e.without_url()
        ))
    })
}

/// `GET /System/Info`: needs the key, so a wrong one is refused here.
pub async fn info(
    http: &reqwest::Client,
    base: &str,
    key: &str,
) -> Result<ServerInfo, ServerError> {
    let v = get_json(get(http, base, key, "/System/Info")).await?;
    Ok(ServerInfo {
        name: v["ServerName"].as_str().unwrap_or_default().to_string(),
        version: v["Version"].as_str().unwrap_or_default().to_string(),
    })
}

/// The server's libraries with their folders.
pub async fn virtual_folders(
    http: &reqwest::Client,
    base: &str,
    key: &str,
) -> Result<Vec<VirtualFolder>, ServerError> {
    let v = get_json(get(http, base, key, "/Library/VirtualFolders")).await?;
    Ok(v.as_array()
        .into_iter()
        .flatten()
        .map(|f| VirtualFolder {
            name: f["Name"].as_str().unwrap_or_default().to_string(),
            collection_type: f["CollectionType"].as_str().map(str::to_string),
            locations: f["Locations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
        })
        .collect())
}

/// Every movie and series of the server, in order.
pub async fn library(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    mut on_item: impl FnMut(Result<JellyfinEntry, SkippedItem>) + Send,
) -> Result<PullSummary, ServerError> {
    let mut summary = PullSummary::default();
    let mut start = 0usize;
    loop {
        let page = get_json(get(http, base, key, "/Items").query(&[
            ("Recursive", "true".to_string()),
            ("IncludeItemTypes", "Movie,Series".to_string()),
            ("Fields", FIELDS.to_string()),
            ("SortBy", "SortName".to_string()),
            ("StartIndex", start.to_string()),
            ("Limit", PAGE.to_string()),
        ]))
        .await?;
        let items = page["Items"].as_array().cloned().unwrap_or_default();
        let count = items.len();
        for (offset, element) in items.iter().enumerate() {
            let parsed = parse_entry(element);
            match parsed {
                Ok(_) => summary.items += 1,
                Err(_) => summary.skipped += 1,
            }
            on_item(parsed.map_err(|reason| SkippedItem {
                index: start + offset,
                arr_id: element["Id"].as_str().map(id_of),
                title: element["Name"].as_str().map(str::to_string),
                reason,
            }));
        }
        let total = page["TotalRecordCount"].as_u64();
        start += count;
        if count < PAGE || total.is_some_and(|t| start as u64 >= t) {
            // Pages are read by position: an item added or removed meanwhile shifts the rest,
            // so a pull that did not read exactly `TotalRecordCount` items is incomplete (and
            // the sync then removes nothing).
            match total {
                Some(t) if t == start as u64 => break,
                Some(t) => {
                    return Err(ServerError::Retryable(format!(
                        "jellyfin: the library changed while it was read ({start} of {t} items); try again"
                    )));
                }
                None => {
                    return Err(ServerError::Permanent(
                        "jellyfin: the item list has no `TotalRecordCount`".into(),
                    ));
                }
            }
        }
    }
    Ok(summary)
}

/// The item's id as a number: FNV-1a 64 of the lower-case GUID text, so `6C2A…` and `6c2a…`
/// are the same item.
pub fn id_of(guid: &str) -> i64 {
    fnv1a64(guid.trim().to_ascii_lowercase().as_bytes()) as i64
}

/// A provider id (`Tmdb`, `Imdb`, `Tvdb`); Jellyfin's keys are case-insensitive in practice.
fn provider(element: &Value, name: &str) -> Option<String> {
    element["ProviderIds"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| match v {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .filter(|s| !s.is_empty())
}

/// The parent folder of a file path as Jellyfin writes it (`/` or `\`).
fn parent_folder(file: &str) -> Option<String> {
    let cut = file.rfind(['/', '\\'])?;
    (cut > 0).then(|| file[..cut].to_string())
}

fn parse_entry(element: &Value) -> Result<JellyfinEntry, String> {
    let guid = element["Id"]
        .as_str()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or("`Id` is missing")?;
    let kind = match element["Type"].as_str() {
        Some("Movie") => JellyfinItemKind::Movie,
        Some("Series") => JellyfinItemKind::Series,
        other => return Err(format!("`Type` {other:?} is not Movie or Series")),
    };
    let title = element["Name"]
        .as_str()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("`Name` is missing")?
        .to_string();
    let own_path = element["Path"]
        .as_str()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let (path, media_files) = match kind {
        JellyfinItemKind::Movie => {
            let file = own_path.ok_or("the movie has no file (`Path`)")?;
            let folder = parent_folder(file).ok_or("the movie's `Path` has no folder")?;
            // The movie's file and every version of it are its media, never a trailer.
            let mut files = vec![file.to_string()];
            for source in element["MediaSources"].as_array().into_iter().flatten() {
                if let Some(p) = source["Path"].as_str().map(str::trim)
                    && !p.is_empty()
                    && !files.iter().any(|f| f == p)
                {
                    files.push(p.to_string());
                }
            }
            (folder, files)
        }
        JellyfinItemKind::Series => (
            own_path
                .ok_or("the series has no folder (`Path`)")?
                .to_string(),
            Vec::new(),
        ),
    };
    let local_trailers = element["LocalTrailerCount"].as_i64().unwrap_or(0);
    let remote_trailers = element["RemoteTrailers"].as_array().is_some_and(|t| {
        t.iter()
            .any(|r| r["Url"].as_str().is_some_and(|u| !u.is_empty()))
    });
    let id = id_of(guid);
    let year = element["ProductionYear"]
        .as_i64()
        .and_then(|y| i32::try_from(y).ok());
    let studio = element["Studios"][0]["Name"].as_str().map(str::to_string);
    Ok(JellyfinEntry {
        kind,
        server_has_trailer: local_trailers > 0 || remote_trailers,
        item: ArrItem {
            arr_id: id,
            ext_id: id,
            tmdb_id: provider(element, "Tmdb").and_then(|t| t.parse().ok()),
            imdb_id: provider(element, "Imdb"),
            title,
            original_title: element["OriginalTitle"].as_str().map(str::to_string),
            year,
            language: None,
            studio,
            overview: element["Overview"].as_str().map(str::to_string),
            runtime_min: element["RunTimeTicks"]
                .as_i64()
                .and_then(|t| i32::try_from(t / 600_000_000).ok()),
            tag_ids: Vec::new(),
            path: path.clone(),
            media_files,
            has_file: true,
            monitored: true,
            trailer_id: None,
            // Jellyfin artwork needs the key: it is not stored in a URL.
            poster_url: None,
            fanart_url: None,
            added: None,
            fingerprint: fnv1a64(format!("{element}{path}").as_bytes()),
            seasons: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_movie_takes_its_ids_from_provider_ids_and_its_folder_from_its_file() {
        let m = json!({"Name": "The Matrix", "Id": "6c2a1f0e9d8b4c7a8e5f3b2a1c0d9e8f",
            "Type": "Movie", "ProductionYear": 1999,
            "Path": "/movies/The Matrix (1999)/The Matrix (1999).mkv",
            "MediaSources": [{"Path": "/movies/The Matrix (1999)/The Matrix (1999).mkv"},
                             {"Path": "/movies/The Matrix (1999)/The Matrix (1999) - 4K.mkv"}],
            "ProviderIds": {"Tmdb": "603", "Imdb": "tt0133093"}, "LocalTrailerCount": 0,
            "RemoteTrailers": []});
        let e = parse_entry(&m).expect("entry");
        assert_eq!(e.kind, JellyfinItemKind::Movie);
        assert_eq!(e.item.tmdb_id, Some(603));
        assert_eq!(e.item.imdb_id.as_deref(), Some("tt0133093"));
        assert_eq!(e.item.path, "/movies/The Matrix (1999)");
        assert_eq!(e.item.year, Some(1999));
        assert_eq!(
            e.item.media_files,
            [
                "/movies/The Matrix (1999)/The Matrix (1999).mkv",
                "/movies/The Matrix (1999)/The Matrix (1999) - 4K.mkv"
            ]
        );
        assert!(!e.server_has_trailer);
        assert_eq!(e.item.ext_id, id_of("6C2A1F0E9D8B4C7A8E5F3B2A1C0D9E8F"));
    }

    #[test]
    fn a_local_or_remote_trailer_counts_as_the_server_having_one() {
        let base = json!({"Name": "S", "Id": "a1", "Type": "Series", "Path": "D:\\TV\\S"});
        let mut local = base.clone();
        local["LocalTrailerCount"] = json!(1);
        let mut remote = base.clone();
        remote["RemoteTrailers"] =
            json!([{"Url": "https://www.youtube.com/watch?v=x", "Name": "Trailer"}]);
        assert!(!parse_entry(&base).expect("base").server_has_trailer);
        assert!(parse_entry(&local).expect("local").server_has_trailer);
        assert!(parse_entry(&remote).expect("remote").server_has_trailer);
        assert_eq!(parse_entry(&base).expect("base").item.path, "D:\\TV\\S");
    }

    #[test]
    fn malformed_items_are_skipped_with_the_reason() {
        let no_path = json!({"Name": "X", "Id": "b2", "Type": "Movie"});
        assert!(
            parse_entry(&no_path)
                .expect_err("no file")
                .contains("no file")
        );
        let episode = json!({"Name": "E", "Id": "c3", "Type": "Episode", "Path": "/tv/e.mkv"});
        assert!(parse_entry(&episode).expect_err("type").contains("Type"));
        let no_id = json!({"Name": "Y", "Type": "Series", "Path": "/tv/Y"});
        assert!(parse_entry(&no_id).is_err());
    }
}
