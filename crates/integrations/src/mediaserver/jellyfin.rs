//! Jellyfin and Emby: report the changed folder (`POST /Library/Media/Updated`), which makes the
//! server scan just that path.

use super::{ServerError, ServerInfo, answer_error, endpoint, json_capped, network_error};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Jellyfin,
    Emby,
}

impl Flavor {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Flavor::Jellyfin => "jellyfin",
            Flavor::Emby => "emby",
        }
    }

    /// Jellyfin's current scheme works on every version; Emby documents `X-Emby-Token`.
    pub(crate) fn authorize(
        self,
        req: reqwest::RequestBuilder,
        token: &str,
    ) -> reqwest::RequestBuilder {
        match self {
            Flavor::Jellyfin => req.header(
                "Authorization",
                format!(
                    "MediaBrowser Client=\"Tapearr\", Device=\"server\", DeviceId=\"tapearr\", Version=\"{}\", Token=\"{token}\"",
                    env!("CARGO_PKG_VERSION")
                ),
            ),
            Flavor::Emby => req.header("X-Emby-Token", token),
        }
    }
}

#[derive(Deserialize)]
struct PublicInfo {
    #[serde(rename = "ServerName", default)]
    server_name: String,
    #[serde(rename = "Version", default)]
    version: String,
}

/// `GET /System/Info/Public` (no token needed), then a token check with the update call's
/// cheap sibling: an empty update list.
pub async fn info(
    http: &reqwest::Client,
    flavor: Flavor,
    base: &str,
    token: &str,
) -> Result<ServerInfo, ServerError> {
    let service = flavor.name();
    let response = http
        .get(endpoint(base, "/System/Info/Public"))
        .send()
        .await
        .map_err(|e| network_error(service, e))?;
    if !response.status().is_success() {
        return Err(answer_error(service, &response));
    }
    let public: PublicInfo = json_capped(service, response).await?;
    media_updated(http, flavor, base, token, &[]).await?;
    Ok(ServerInfo {
        name: public.server_name,
        version: public.version,
    })
}

/// Tells the server these paths (as it sees them) were created or changed.
pub async fn media_updated(
    http: &reqwest::Client,
    flavor: Flavor,
    base: &str,
    token: &str,
    paths: &[&str],
) -> Result<(), ServerError> {
    let service = flavor.name();
    let updates: Vec<_> = paths
        .iter()
        .map(|p| json!({"Path": p, "UpdateType": "Created"}))
        .collect();
    let req = http
        .post(endpoint(base, "/Library/Media/Updated"))
        .json(&json!({ "Updates": updates }));
    let response = flavor
        .authorize(req, token)
        .send()
        .await
        .map_err(|e| network_error(service, e))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(answer_error(service, &response))
    }
}
