//! Plex as a trailer library source (T1): the movies and shows of its movie and show sections,
//! read page by page (`X-Plex-Container-Start/Size`, `includeGuids=1`), with the folder that
//! holds each one. A movie's folder is its first file's parent; a show's is the `Location` of
//! its metadata. Elements are parsed one by one, so a malformed item is skipped with a reason.

use super::plex::{Section, sections};
use super::{ServerError, endpoint, network_error, status_error};
use crate::arr::{ArrItem, PullSummary, SkippedItem, fnv1a64};
use serde_json::Value;
use std::collections::HashMap;

/// Items per page: small pages keep memory flat on 30k-item libraries.
const PAGE: usize = 200;

/// Movie or show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlexItemKind {
    Movie,
    Show,
}

/// One library item, in the Arr item's shape: `arr_id` and `ext_id` are the `ratingKey`
/// (Plex has no other id that is unique across movie and show sections).
#[derive(Debug, Clone, PartialEq)]
pub struct PlexEntry {
    pub kind: PlexItemKind,
    pub item: ArrItem,
    /// Plex shows a trailer extra for it (a local file or a Plex Pass online trailer);
    /// `None` when not asked.
    pub server_has_trailer: Option<bool>,
}

fn request(http: &reqwest::Client, base: &str, token: &str, path: &str) -> reqwest::RequestBuilder {
    http.get(endpoint(base, path))
        .header("Accept", "application/json")
        .header("X-Plex-Token", token)
        .header("X-Plex-Product", "Tapearr")
        .header("X-Plex-Client-Identifier", "tapearr")
}

async fn get_json(req: reqwest::RequestBuilder) -> Result<Value, ServerError> {
    let response = req.send().await.map_err(|e| network_error("plex", e))?;
    if !response.status().is_success() {
        return Err(status_error("plex", response.status()));
    }
    response.json::<Value>().await.map_err(|e| {
        ServerError::Retryable(format!(
            "plex: the answer was cut or is not JSON: {}",
            e.without_url()
        ))
    })
}

/// Every movie and show of the server's movie and show sections, in order. With
/// `ask_extras`, each item's extras are read too (with the shows' folders, a request per
/// 50 items).
pub async fn library(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    ask_extras: bool,
    mut on_item: impl FnMut(Result<PlexEntry, SkippedItem>) + Send,
) -> Result<PullSummary, ServerError> {
    let mut summary = PullSummary::default();
    let mut index = 0usize;
    for section in sections(http, base, token).await? {
        let kind = match section.kind.as_str() {
            "movie" => PlexItemKind::Movie,
            "show" => PlexItemKind::Show,
            _ => continue, // Music and photos have no trailers.
        };
        let mut start = 0usize;
        loop {
            let page = section_page(http, base, token, &section, start).await?;
            let metadata = page["MediaContainer"]["Metadata"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let count = metadata.len();
            let details = page_details(http, base, token, kind, &metadata, ask_extras).await?;
            for element in metadata {
                let detail = rating_key(&element).and_then(|k| details.get(&k));
                let parsed = match kind {
                    PlexItemKind::Movie => parse_item(&element, kind, None),
                    PlexItemKind::Show => {
                        parse_item(&element, kind, detail.and_then(|d| d.folder.clone()))
                    }
                };
                let server_has_trailer = match (&parsed, ask_extras) {
                    (Ok(_), true) => Some(detail.is_some_and(|d| d.has_trailer)),
                    _ => None,
                };
                match parsed {
                    Ok(_) => summary.items += 1,
                    Err(_) => summary.skipped += 1,
                }
                on_item(
                    parsed
                        .map(|item| PlexEntry {
                            kind,
                            item,
                            server_has_trailer,
                        })
                        .map_err(|reason| SkippedItem {
                            index,
                            arr_id: rating_key(&element),
                            title: element["title"].as_str().map(str::to_string),
                            reason,
                        }),
                );
                index += 1;
            }
            let total = page["MediaContainer"]["totalSize"].as_u64();
            start += count;
            if count < PAGE || total.is_some_and(|t| start as u64 >= t) {
                // Pages are read by position: an item added or removed meanwhile shifts the
                // rest, so a pull that did not read exactly `totalSize` items is incomplete
                // (and the sync then removes nothing).
                if let Some(t) = total.filter(|t| *t != start as u64) {
                    return Err(ServerError::Retryable(format!(
                        "plex: section `{}` changed while it was read ({start} of {t} items); try again",
                        section.title
                    )));
                }
                break;
            }
        }
    }
    Ok(summary)
}

async fn section_page(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    section: &Section,
    start: usize,
) -> Result<Value, ServerError> {
    let path = format!("/library/sections/{}/all", section.key);
    get_json(request(http, base, token, &path).query(&[
        ("includeGuids", "1".to_string()),
        ("X-Plex-Container-Start", start.to_string()),
        ("X-Plex-Container-Size", PAGE.to_string()),
    ]))
    .await
}

/// Keys asked for in one `/library/metadata/{k1},{k2},…` request (keeps the URL short).
const DETAILS_PER_REQUEST: usize = 50;

/// What the section list does not say about an item.
#[derive(Debug, Default)]
struct Detail {
    /// A show's folder: the first `Location` of its metadata.
    folder: Option<String>,
    /// A trailer extra (`extraType` 1 or `subtype` `trailer`): a local file or a Plex Pass
    /// online trailer.
    has_trailer: bool,
}

/// The details a page's items need, by rating key: shows' folders, and every item's extras
/// when asked. One request per [`DETAILS_PER_REQUEST`] items, not one per item.
async fn page_details(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    kind: PlexItemKind,
    page: &[Value],
    ask_extras: bool,
) -> Result<HashMap<i64, Detail>, ServerError> {
    let mut details = HashMap::new();
    if kind == PlexItemKind::Movie && !ask_extras {
        return Ok(details);
    }
    let keys: Vec<i64> = page.iter().filter_map(rating_key).collect();
    for chunk in keys.chunks(DETAILS_PER_REQUEST) {
        let list = chunk
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut req = request(http, base, token, &format!("/library/metadata/{list}"));
        if ask_extras {
            req = req.query(&[("includeExtras", "1")]);
        }
        let meta = get_json(req).await?;
        for element in meta["MediaContainer"]["Metadata"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let Some(key) = rating_key(element) else {
                continue;
            };
            let detail = Detail {
                folder: element["Location"][0]["path"].as_str().map(str::to_string),
                has_trailer: element["Extras"]["Metadata"]
                    .as_array()
                    .is_some_and(|extras| extras.iter().any(is_trailer)),
            };
            details.insert(key, detail);
        }
    }
    Ok(details)
}

fn is_trailer(extra: &Value) -> bool {
    extra["extraType"].as_i64() == Some(1)
        || extra["extraType"].as_str() == Some("1")
        || extra["subtype"].as_str() == Some("trailer")
}

fn rating_key(element: &Value) -> Option<i64> {
    match &element["ratingKey"] {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// The `tmdb://`, `imdb://` or `tvdb://` id of an item's `Guid` list.
fn guid(element: &Value, scheme: &str) -> Option<String> {
    element["Guid"].as_array()?.iter().find_map(|g| {
        g["id"]
            .as_str()?
            .strip_prefix(scheme)?
            .strip_prefix("://")
            .filter(|id| !id.is_empty())
            .map(str::to_string)
    })
}

/// The parent folder of a file path as Plex writes it (`/` or `\`).
fn parent_folder(file: &str) -> Option<String> {
    let cut = file.rfind(['/', '\\'])?;
    (cut > 0).then(|| file[..cut].to_string())
}

fn parse_item(
    element: &Value,
    kind: PlexItemKind,
    show_folder: Option<String>,
) -> Result<ArrItem, String> {
    let key = rating_key(element).ok_or("`ratingKey` is missing or not a whole number")?;
    let title = element["title"]
        .as_str()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("`title` is missing")?
        .to_string();
    let path = match kind {
        PlexItemKind::Movie => element["Media"][0]["Part"][0]["file"]
            .as_str()
            .and_then(parent_folder)
            .ok_or("the movie has no file (`Media[0].Part[0].file`)")?,
        PlexItemKind::Show => show_folder.ok_or("the show has no folder (`Location`)")?,
    };
    // Every version and part of a movie is its own media file, never a trailer.
    let media_files = match kind {
        PlexItemKind::Movie => element["Media"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["Part"].as_array())
            .flatten()
            .filter_map(|p| p["file"].as_str())
            .filter(|f| !f.trim().is_empty())
            .map(str::to_string)
            .collect(),
        PlexItemKind::Show => Vec::new(),
    };
    let year = element["year"].as_i64().and_then(|y| i32::try_from(y).ok());
    let tmdb_id = guid(element, "tmdb").and_then(|id| id.parse().ok());
    Ok(ArrItem {
        arr_id: key,
        ext_id: key,
        tmdb_id,
        imdb_id: guid(element, "imdb"),
        title,
        original_title: element["originalTitle"].as_str().map(str::to_string),
        year,
        language: None,
        studio: element["studio"].as_str().map(str::to_string),
        overview: element["summary"].as_str().map(str::to_string),
        runtime_min: element["duration"]
            .as_i64()
            .and_then(|ms| i32::try_from(ms / 60_000).ok()),
        tag_ids: Vec::new(),
        path: path.clone(),
        media_files,
        has_file: true,
        monitored: true,
        trailer_id: None,
        // Plex artwork needs the token: it is not stored in a URL.
        poster_url: None,
        fanart_url: None,
        added: None,
        fingerprint: fingerprint(element, &path),
        seasons: Vec::new(),
    })
}

/// FNV-1a 64 of the element's JSON and the folder: equal means unchanged since the last pull.
fn fingerprint(element: &Value, folder: &str) -> u64 {
    fnv1a64(format!("{element}{folder}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_movie_takes_its_ids_from_guids_and_its_folder_from_the_file() {
        let m = json!({"ratingKey": "996", "title": "The Equalizer", "year": 2014,
            "Media": [{"Part": [{"file": "/media/Movies/The Equalizer (2014)/The Equalizer.mp4"}]}],
            "Guid": [{"id": "imdb://tt0455944"}, {"id": "tmdb://156022"}, {"id": "tvdb://136"}]});
        let item = parse_item(&m, PlexItemKind::Movie, None).expect("item");
        assert_eq!(item.arr_id, 996);
        assert_eq!(item.tmdb_id, Some(156_022));
        assert_eq!(item.imdb_id.as_deref(), Some("tt0455944"));
        assert_eq!(item.path, "/media/Movies/The Equalizer (2014)");
        assert_eq!(item.year, Some(2014));
        assert_eq!(
            item.media_files,
            ["/media/Movies/The Equalizer (2014)/The Equalizer.mp4"]
        );
    }

    #[test]
    fn every_version_and_part_of_a_movie_is_its_media_file() {
        let m = json!({"ratingKey": "5", "title": "The Trailer",
        "Media": [
            {"Part": [{"file": "/m/The Trailer (2020)/The Trailer (2020) - cd1.mkv"},
                      {"file": "/m/The Trailer (2020)/The Trailer (2020) - cd2.mkv"}]},
            {"Part": [{"file": "/m/The Trailer (2020)/The Trailer (2020) 4K.mkv"}, {"file": 5}]}
        ]});
        let item = parse_item(&m, PlexItemKind::Movie, None).expect("item");
        assert_eq!(
            item.media_files,
            [
                "/m/The Trailer (2020)/The Trailer (2020) - cd1.mkv",
                "/m/The Trailer (2020)/The Trailer (2020) - cd2.mkv",
                "/m/The Trailer (2020)/The Trailer (2020) 4K.mkv"
            ]
        );
    }

    #[test]
    fn windows_paths_and_missing_parts_are_handled() {
        let m = json!({"ratingKey": 7, "title": "X",
            "Media": [{"Part": [{"file": "D:\\Movies\\X (2001)\\X.mkv"}]}]});
        let item = parse_item(&m, PlexItemKind::Movie, None).expect("item");
        assert_eq!(item.path, "D:\\Movies\\X (2001)");
        assert_eq!(item.tmdb_id, None);

        let no_file = json!({"ratingKey": "8", "title": "Y"});
        let why = parse_item(&no_file, PlexItemKind::Movie, None).expect_err("no file");
        assert!(why.contains("no file"), "{why}");
        let no_key = json!({"ratingKey": "abc", "title": "Z"});
        assert!(parse_item(&no_key, PlexItemKind::Show, Some("/tv/Z".into())).is_err());
        let show = json!({"ratingKey": "9", "title": "Show"});
        assert!(parse_item(&show, PlexItemKind::Show, None).is_err());
    }

    #[test]
    fn the_fingerprint_follows_the_json_and_the_folder() {
        let m = json!({"ratingKey": "1", "title": "A"});
        assert_eq!(fingerprint(&m, "/a"), fingerprint(&m, "/a"));
        assert_ne!(fingerprint(&m, "/a"), fingerprint(&m, "/b"));
        assert_ne!(
            fingerprint(&m, "/a"),
            fingerprint(&json!({"ratingKey": "1", "title": "B"}), "/a")
        );
    }
}
