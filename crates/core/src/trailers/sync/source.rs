//! Where a connection's library comes from: Radarr or Sonarr (v3 API), Plex (its movie and
//! show sections) or Jellyfin (its movies and series). Connections and sync speak to this one type, whatever the kind.

use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::model::{ConnectionKind, MediaKind};
use crate::trailers::sync::connections::ConnectionTest;
use tapearr_integrations::arr::{
    ArrClient, ArrItem, ArrKind, PullSummary, RootFolder, SkippedItem,
};
use tapearr_integrations::mediaserver::jellyfin_library::{self, JellyfinItemKind};
use tapearr_integrations::mediaserver::plex;
use tapearr_integrations::mediaserver::plex_library::{self, PlexItemKind};

pub(super) enum LibrarySource {
    Arr(ArrClient),
    Plex {
        http: reqwest::Client,
        url: String,
        token: String,
    },
    Jellyfin {
        http: reqwest::Client,
        url: String,
        key: String,
    },
}

/// One item of the library with its kind, and whether the media server already shows a
/// trailer for it (`None`: the source cannot say).
pub(super) struct SourceItem {
    pub kind: MediaKind,
    pub item: ArrItem,
    pub server_trailer: Option<bool>,
}

fn upstream(e: impl std::fmt::Display) -> TrailerError {
    TrailerError::Upstream(e.to_string())
}

fn one_line(key: &str, what: &str) -> TrailerResult<()> {
    if key.trim().is_empty() || key.chars().any(char::is_control) {
        return Err(TrailerError::Invalid(format!(
            "{what} must be one line of text"
        )));
    }
    Ok(())
}

impl LibrarySource {
    pub(super) fn new(
        http: reqwest::Client,
        kind: ConnectionKind,
        url: &str,
        key: &str,
    ) -> TrailerResult<Self> {
        let arr = |k| {
            ArrClient::new(http.clone(), k, url, key)
                .map(Self::Arr)
                .map_err(|e| TrailerError::Invalid(e.to_string()))
        };
        match kind {
            ConnectionKind::Radarr => arr(ArrKind::Radarr),
            ConnectionKind::Sonarr => arr(ArrKind::Sonarr),
            ConnectionKind::Plex => {
                one_line(key, "the Plex token")?;
                Ok(Self::Plex {
                    http: http.clone(),
                    url: url.trim_end_matches('/').to_string(),
                    token: key.trim().to_string(),
                })
            }
            ConnectionKind::Jellyfin => {
                // It goes inside a quoted header value: no quotes either.
                one_line(key, "the Jellyfin API key")?;
                if key.contains(['"', ',']) {
                    return Err(TrailerError::Invalid(
                        "the Jellyfin API key has no quotes or commas".into(),
                    ));
                }
                Ok(Self::Jellyfin {
                    http: http.clone(),
                    url: url.trim_end_matches('/').to_string(),
                    key: key.trim().to_string(),
                })
            }
        }
    }

    pub(super) async fn test(&self) -> TrailerResult<ConnectionTest> {
        match self {
            Self::Arr(client) => {
                let status = client.status().await.map_err(upstream)?;
                Ok(ConnectionTest {
                    app_name: status.app_name,
                    version: status.version,
                })
            }
            Self::Plex { http, url, token } => {
                let info = plex::info(http, url, token).await.map_err(upstream)?;
                Ok(ConnectionTest {
                    app_name: "Plex".into(),
                    version: info.version,
                })
            }
            Self::Jellyfin { http, url, key } => {
                let info = jellyfin_library::info(http, url, key)
                    .await
                    .map_err(upstream)?;
                Ok(ConnectionTest {
                    app_name: "Jellyfin".into(),
                    version: info.version,
                })
            }
        }
    }

    /// The Arr's root folders, or the folders of Plex's movie and show sections, or of
    /// Jellyfin's libraries (all but music, books and photos).
    pub(super) async fn root_folders(&self) -> TrailerResult<Vec<RootFolder>> {
        match self {
            Self::Arr(client) => client.root_folders().await.map_err(upstream),
            Self::Plex { http, url, token } => {
                let sections = plex::sections(http, url, token).await.map_err(upstream)?;
                Ok(sections
                    .into_iter()
                    .filter(|s| matches!(s.kind.as_str(), "movie" | "show"))
                    .flat_map(|s| s.locations)
                    .map(|path| RootFolder {
                        path,
                        free_space: None,
                        accessible: true,
                    })
                    .collect())
            }
            Self::Jellyfin { http, url, key } => {
                let folders = jellyfin_library::virtual_folders(http, url, key)
                    .await
                    .map_err(upstream)?;
                Ok(folders
                    .into_iter()
                    .filter(|f| {
                        !matches!(
                            f.collection_type.as_deref(),
                            Some("music" | "books" | "photos" | "musicvideos" | "playlists")
                        )
                    })
                    .flat_map(|f| f.locations)
                    .map(|path| RootFolder {
                        path,
                        free_space: None,
                        accessible: true,
                    })
                    .collect())
            }
        }
    }

    /// Tag ids and labels (Plex and Jellyfin have none that matter here).
    pub(super) async fn tags(&self) -> TrailerResult<Vec<(i64, String)>> {
        match self {
            Self::Arr(client) => client.tags().await.map_err(upstream),
            Self::Plex { .. } | Self::Jellyfin { .. } => Ok(Vec::new()),
        }
    }

    /// The whole library, item by item, each with its kind.
    pub(super) async fn library(
        &self,
        kind: ConnectionKind,
        ask_server_trailers: bool,
        mut on_item: impl FnMut(Result<SourceItem, SkippedItem>) + Send,
    ) -> TrailerResult<PullSummary> {
        match self {
            Self::Arr(client) => {
                let media_kind = match kind {
                    ConnectionKind::Sonarr => MediaKind::Series,
                    _ => MediaKind::Movie,
                };
                client
                    .library(|r| {
                        on_item(r.map(|item| SourceItem {
                            kind: media_kind,
                            item,
                            server_trailer: None,
                        }))
                    })
                    .await
                    .map_err(upstream)
            }
            Self::Plex { http, url, token } => {
                plex_library::library(http, url, token, ask_server_trailers, |r| {
                    on_item(r.map(|e| SourceItem {
                        kind: match e.kind {
                            PlexItemKind::Movie => MediaKind::Movie,
                            PlexItemKind::Show => MediaKind::Series,
                        },
                        item: e.item,
                        server_trailer: e.server_has_trailer,
                    }))
                })
                .await
                .map_err(upstream)
            }
            Self::Jellyfin { http, url, key } => jellyfin_library::library(http, url, key, |r| {
                on_item(r.map(|e| SourceItem {
                    kind: match e.kind {
                        JellyfinItemKind::Movie => MediaKind::Movie,
                        JellyfinItemKind::Series => MediaKind::Series,
                    },
                    item: e.item,
                    server_trailer: Some(e.server_has_trailer),
                }))
            })
            .await
            .map_err(upstream),
        }
    }
}
