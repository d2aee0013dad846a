//! Media-server connections, as stored.

use crate::secret::Secret;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServerKind {
    Plex,
    Jellyfin,
    Emby,
}

impl ServerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plex => "plex",
            Self::Jellyfin => "jellyfin",
            Self::Emby => "emby",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "plex" => Self::Plex,
            "jellyfin" => Self::Jellyfin,
            "emby" => Self::Emby,
            _ => return None,
        })
    }
}

/// `local` is a folder as Tapearr sees it, `server` the same folder as the media server sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PathMapping {
    pub local: String,
    pub server: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MediaServer {
    pub id: String,
    pub name: String,
    pub kind: ServerKind,
    /// e.g. `http://plex:32400`, `http://jellyfin:8096`.
    pub url: String,
    /// Plex token or Jellyfin/Emby API key; write-only (serialized and printed as `***`).
    #[schema(value_type = String)]
    pub token: Secret,
    pub path_mappings: Vec<PathMapping>,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
