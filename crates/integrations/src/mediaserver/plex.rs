//! Plex Media Server: find the library section that holds a folder, then scan just that folder
//! (`GET /library/sections/{key}/refresh?path=…`).

use super::{ServerError, ServerInfo, answer_error, endpoint, json_capped, network_error};
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Section {
    pub key: String,
    pub title: String,
    /// `movie`, `show`, `artist`, `photo`.
    pub kind: String,
    pub locations: Vec<String>,
}

#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(rename = "MediaContainer")]
    container: T,
}

#[derive(Deserialize)]
struct Identity {
    #[serde(rename = "friendlyName", default)]
    friendly_name: String,
    #[serde(default)]
    version: String,
}

#[derive(Deserialize)]
struct Sections {
    #[serde(rename = "Directory", default)]
    directory: Vec<Directory>,
}

#[derive(Deserialize)]
struct Directory {
    key: String,
    #[serde(default)]
    title: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(rename = "Location", default)]
    location: Vec<Location>,
}

#[derive(Deserialize)]
struct Location {
    path: String,
}

fn get(http: &reqwest::Client, base: &str, token: &str, path: &str) -> reqwest::RequestBuilder {
    http.get(endpoint(base, path))
        .header("Accept", "application/json")
        .header("X-Plex-Token", token)
        .header("X-Plex-Product", "Tapearr")
        .header("X-Plex-Client-Identifier", "tapearr")
}

async fn json<T: serde::de::DeserializeOwned>(
    req: reqwest::RequestBuilder,
) -> Result<T, ServerError> {
    let response = req.send().await.map_err(|e| network_error("plex", e))?;
    if !response.status().is_success() {
        return Err(answer_error("plex", &response));
    }
    json_capped("plex", response).await
}

pub async fn info(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<ServerInfo, ServerError> {
    let id: Envelope<Identity> = json(get(http, base, token, "/")).await?;
    Ok(ServerInfo {
        name: id.container.friendly_name,
        version: id.container.version,
    })
}

pub async fn sections(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<Vec<Section>, ServerError> {
    let s: Envelope<Sections> = json(get(http, base, token, "/library/sections")).await?;
    Ok(s.container
        .directory
        .into_iter()
        .map(|d| Section {
            key: d.key,
            title: d.title,
            kind: d.kind,
            locations: d.location.into_iter().map(|l| l.path).collect(),
        })
        .collect())
}

/// Scans `folder` (a path as Plex sees it) in the section that contains it.
pub async fn refresh_folder(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    folder: &str,
) -> Result<String, ServerError> {
    let all = sections(http, base, token).await?;
    let section = all
        .iter()
        .filter_map(|s| {
            s.locations
                .iter()
                .filter(|l| is_within(folder, l))
                .map(|l| (l.len(), s))
                .max_by_key(|(len, _)| *len)
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, s)| s)
        .ok_or_else(|| {
            ServerError::Permanent(format!("no Plex library folder contains {folder}"))
        })?;
    let url = endpoint(base, &format!("/library/sections/{}/refresh", section.key));
    let response = http
        .get(url)
        .query(&[("path", folder)])
        .header("X-Plex-Token", token)
        .send()
        .await
        .map_err(|e| network_error("plex", e))?;
    if !response.status().is_success() {
        return Err(answer_error("plex", &response));
    }
    Ok(section.title.clone())
}

/// `path` is `dir` or below it (directory boundary, either separator).
fn is_within(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches(['/', '\\']);
    path == dir || (path.starts_with(dir) && path[dir.len()..].starts_with(['/', '\\']))
}

#[cfg(test)]
mod tests {
    use super::is_within;

    #[test]
    fn section_match_respects_directory_boundaries() {
        assert!(is_within("/media/tv/Show", "/media/tv"));
        assert!(is_within("/media/tv", "/media/tv/"));
        assert!(!is_within("/media/tvshows/Show", "/media/tv"));
        assert!(is_within("D:\\Media\\TV\\Show", "D:\\Media\\TV"));
    }
}
