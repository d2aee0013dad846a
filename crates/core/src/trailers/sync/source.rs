//! Where a connection's library comes from: Radarr or Sonarr (v3 API), or Plex (its movie and
//! show sections). Connections and sync speak to this one type, whatever the kind.

use crate::trailers::error::{TrailerError, TrailerResult};
use crate::trailers::model::{ConnectionKind, MediaKind};
use crate::trailers::sync::connections::ConnectionTest;
use tapearr_integrations::arr::{
    ArrClient, ArrItem, ArrKind, PullSummary, RootFolder, SkippedItem,
};
use tapearr_integrations::mediaserver::plex;
use tapearr_integrations::mediaserver::plex_library::{self, PlexItemKind};

pub(super) enum LibrarySource {
    Arr(ArrClient),
    Plex {
        http: reqwest::Client,
        url: String,
        token: String,
    },
}

fn upstream(e: impl std::fmt::Display) -> TrailerError {
    TrailerError::Upstream(e.to_string())
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
                if key.trim().is_empty() || key.chars().any(char::is_control) {
                    return Err(TrailerError::Invalid(
                        "the Plex token must be one line of text".into(),
                    ));
                }
                Ok(Self::Plex {
                    http: http.clone(),
                    url: url.trim_end_matches('/').to_string(),
                    token: key.trim().to_string(),
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
        }
    }

    /// The Arr's root folders, or the folders of Plex's movie and show sections.
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
        }
    }

    /// Tag ids and labels (Plex has none that matter here).
    pub(super) async fn tags(&self) -> TrailerResult<Vec<(i64, String)>> {
        match self {
            Self::Arr(client) => client.tags().await.map_err(upstream),
            Self::Plex { .. } => Ok(Vec::new()),
        }
    }

    /// The whole library, item by item, each with its kind.
    pub(super) async fn library(
        &self,
        kind: ConnectionKind,
        mut on_item: impl FnMut(Result<(MediaKind, ArrItem), SkippedItem>) + Send,
    ) -> TrailerResult<PullSummary> {
        match self {
            Self::Arr(client) => {
                let media_kind = match kind {
                    ConnectionKind::Sonarr => MediaKind::Series,
                    _ => MediaKind::Movie,
                };
                client
                    .library(|r| on_item(r.map(|item| (media_kind, item))))
                    .await
                    .map_err(upstream)
            }
            Self::Plex { http, url, token } => plex_library::library(http, url, token, |r| {
                on_item(r.map(|e| {
                    let kind = match e.kind {
                        PlexItemKind::Movie => MediaKind::Movie,
                        PlexItemKind::Show => MediaKind::Series,
                    };
                    (kind, e.item)
                }))
            })
            .await
            .map_err(upstream),
        }
    }
}
