//! Trailer domain types shared by sync, scan, search, download and the API.

pub mod profile;
pub mod slot;

pub use profile::{
    AudioCodec, Container, FilterField, FilterOp, FilterValue, HwAccel, OutputSettings, Placement,
    Profile, ProfileFilter, SearchRules, VideoCodec,
};
pub use slot::{ExtraKind, Slot, SlotKind};

use crate::secret::Secret;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Radarr (movies), Sonarr (series), Plex (the movies and shows of its sections; the
/// "API key" is the `X-Plex-Token`) or Jellyfin (its movies and series; an API key made in
/// its dashboard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionKind {
    Radarr,
    Sonarr,
    Plex,
    Jellyfin,
}

impl ConnectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Radarr => "radarr",
            Self::Sonarr => "sonarr",
            Self::Plex => "plex",
            Self::Jellyfin => "jellyfin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "radarr" => Some(Self::Radarr),
            "sonarr" => Some(Self::Sonarr),
            "plex" => Some(Self::Plex),
            "jellyfin" => Some(Self::Jellyfin),
            _ => None,
        }
    }
}

/// One path prefix as the Arr sees it (`remote`, may be Windows/UNC) and as Tapearr sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ArrPathMapping {
    pub remote: String,
    pub local: String,
}

/// A Radarr or Sonarr instance.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Connection {
    pub id: String,
    pub name: String,
    pub kind: ConnectionKind,
    pub url: String,
    /// Write-only: serialized as `***`.
    #[schema(value_type = String)]
    pub api_key: Secret,
    pub path_mappings: Vec<ArrPathMapping>,
    /// New items start with `monitor` = this.
    pub monitor_new: bool,
    pub enabled: bool,
    pub last_sync_at: Option<Timestamp>,
    pub last_sync_error: Option<String>,
    pub last_sync_items: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Movie,
    Series,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Movie => "movie",
            Self::Series => "series",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "movie" => Some(Self::Movie),
            "series" => Some(Self::Series),
            _ => None,
        }
    }
}

/// A movie or series as synced from its Arr, plus the user's choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MediaItem {
    pub id: String,
    pub connection_id: String,
    pub kind: MediaKind,
    /// The item's id inside its Arr.
    pub arr_id: i64,
    /// tmdbId for movies, tvdbId for series: with `connection_id` the sync key.
    pub ext_id: i64,
    pub tmdb_id: Option<i64>,
    pub imdb_id: Option<String>,
    pub title: String,
    pub original_title: Option<String>,
    pub year: Option<i32>,
    /// Original language name as the Arr writes it (`English`).
    pub language: Option<String>,
    /// Studio (movies) or network (series).
    pub studio: Option<String>,
    pub overview: Option<String>,
    pub runtime_min: Option<i32>,
    pub tags: Vec<String>,
    /// The media folder as Tapearr sees it (after path mapping).
    pub folder: String,
    /// The item's own media files as its source lists them (Radarr's `movieFile`, Plex's
    /// file parts), as Tapearr sees them (after path mapping): never taken for a trailer,
    /// never deleted as one. Empty when the source does not say (Sonarr series).
    #[serde(default)]
    pub media_files: Vec<String>,
    pub has_file: bool,
    /// Mirrors the Arr on every sync.
    pub arr_monitored: bool,
    /// The user's intent; set once from the connection's `monitor_new`, then only by the user.
    pub monitor: bool,
    /// `youTubeTrailerId` from the Arr (refreshed every sync).
    pub arr_trailer_id: Option<String>,
    /// The user's own video id; survives syncs and wins over everything.
    pub trailer_id_override: Option<String>,
    pub poster_url: Option<String>,
    pub fanart_url: Option<String>,
    /// The media server that already shows a trailer for it (`Plex`, `Jellyfin`), as the
    /// last sync saw it; `None` when it shows none or was not asked.
    #[serde(default)]
    pub server_trailer: Option<String>,
    /// A series' seasons as Sonarr lists them (specials as season 0); empty for movies and
    /// for sources that do not say (Plex, Jellyfin).
    #[serde(default)]
    pub seasons: Vec<MediaSeason>,
    pub added_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One season of a series (Sonarr's `seasons[]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MediaSeason {
    /// `seasonNumber`; 0 is the specials.
    pub number: i32,
    /// Monitored in Sonarr: only monitored seasons get a season trailer.
    pub monitored: bool,
}

/// The state of one (media, profile, slot): the single source of truth for "does it have
/// this video for this profile".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DownloadStatus {
    /// Nothing yet; the next run will look for one.
    Missing,
    /// A trailer file that was already on disk (found by the scan).
    Existing,
    /// Placed by Tapearr.
    Downloaded,
    /// The last attempt failed; `next_attempt_at` says when to try again.
    Failed,
    /// No candidate passed the filters; tried again after the backoff.
    NotFound,
    /// The user turned it off (or the item is not monitored).
    Skipped,
}

impl DownloadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Existing => "existing",
            Self::Downloaded => "downloaded",
            Self::Failed => "failed",
            Self::NotFound => "notfound",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "missing" => Self::Missing,
            "existing" => Self::Existing,
            "downloaded" => Self::Downloaded,
            "failed" => Self::Failed,
            "notfound" => Self::NotFound,
            "skipped" => Self::Skipped,
            _ => return None,
        })
    }

    /// A trailer file is there for this profile.
    pub fn has_trailer(self) -> bool {
        matches!(self, Self::Existing | Self::Downloaded)
    }
}

/// Where a candidate video came from (in search order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CandidateSource {
    /// The user's override or a manual pick.
    User,
    /// The Arr's `youTubeTrailerId`.
    Arr,
    Tmdb,
    Search,
}

impl CandidateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Arr => "arr",
            Self::Tmdb => "tmdb",
            Self::Search => "search",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "user" => Self::User,
            "arr" => Self::Arr,
            "tmdb" => Self::Tmdb,
            "search" => Self::Search,
            _ => return None,
        })
    }
}

/// Per (media, profile, slot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DownloadRecord {
    pub media_id: String,
    pub profile_id: String,
    /// Which of the profile's videos for this title (`trailer-1`, `trailer-2`,
    /// `featurette-1`…; see [`Slot`]).
    #[serde(default)]
    #[schema(value_type = String, example = "trailer-1")]
    pub slot: Slot,
    pub status: DownloadStatus,
    pub video_id: Option<String>,
    pub source: Option<CandidateSource>,
    /// The trailer file (absolute, local).
    pub file_path: Option<String>,
    pub file_bytes: Option<i64>,
    pub duration_ms: Option<i64>,
    /// Why it is in this state, for people (`already on disk: Trailers/x.mkv`).
    pub reason: Option<String>,
    /// Error class of the last failure (`bot_check`, `age_restricted`, `unavailable`,
    /// `network`, `rate_limited`, `cookies_rejected`, `timeout`, `convert`, `tool`, `disk`,
    /// `other`). With a status other than `failed`, a refusal kind means the item waits for
    /// its paused host ([`DownloadRecord::is_waiting`]).
    pub error_kind: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// Height of the placed file in pixels (ffprobe at placement); `None` when unknown (a
    /// file found on disk or placed before upgrades were remembered).
    #[serde(default)]
    pub height: Option<i64>,
    /// When a better video was last looked for (quality upgrades, at most once per
    /// `trailers.upgrade_interval_secs`); a download counts as a look.
    #[serde(default)]
    pub upgrade_checked_at: Option<Timestamp>,
    /// How many times a better video replaced this slot's file (at most
    /// [`MAX_UPGRADES`](crate::trailers::plan::MAX_UPGRADES)).
    #[serde(default)]
    pub upgrades: i64,
}

impl DownloadRecord {
    /// Waiting for a video site that refused us (bot check, rate limit, rejected cookies) to
    /// take requests again: not a failure of this item.
    pub fn is_waiting(&self) -> bool {
        self.status != DownloadStatus::Failed
            && matches!(
                self.error_kind.as_deref(),
                Some("bot_check" | "rate_limited" | "cookies_rejected")
            )
    }
}

/// One entry of an item's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MediaEvent {
    pub id: i64,
    pub media_id: String,
    pub profile_id: Option<String>,
    pub at: Timestamp,
    /// `added`, `trailer_found`, `downloaded`, `failed`, `deleted`, `renamed`, `skipped`,
    /// `monitor_changed`, `override_changed`.
    pub kind: String,
    pub message: String,
}

/// What one sync of a connection did, stored on the connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SyncOutcome {
    pub at: Timestamp,
    /// Items in the Arr's library (parsed), when the pull completed.
    pub items: Option<i64>,
    pub error: Option<String>,
}

/// Filters of the media list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MediaQuery {
    pub kind: Option<MediaKind>,
    pub connection_id: Option<String>,
    /// Case-insensitive title search.
    pub q: Option<String>,
    /// `missing` (no trailer for some applicable profile), `has` (all have one), `failed`.
    pub trailer: Option<String>,
    pub monitored: Option<bool>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// The `next_cursor` of the previous page: the page starts after that item, whatever was
    /// added or removed before it, and costs the same at any depth. `offset` is ignored with it.
    pub cursor: Option<String>,
}

/// Where a page of the media list ends, in the list's order (title folded to lower case by
/// the database, year with none as 0, id). Opaque to clients: URL-safe base64 of JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaCursor {
    pub title: String,
    pub year: i64,
    pub id: String,
}

impl MediaCursor {
    pub fn encode(&self) -> String {
        use base64::Engine;
        // A tuple keeps the cursor short; serializing owned strings cannot fail.
        let json = serde_json::to_vec(&(&self.title, self.year, &self.id)).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// `None` for anything that is not a cursor this server wrote.
    pub fn decode(text: &str) -> Option<Self> {
        use base64::Engine;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()?;
        let (title, year, id): (String, i64, String) = serde_json::from_slice(&json).ok()?;
        Some(Self { title, year, id })
    }
}

/// One page of the media list as storage returns it: the items with their scan states (read
/// in the same query), the total that matches the filters, and the cursor after the last item.
#[derive(Debug, Clone, Default)]
pub struct MediaListPage {
    pub items: Vec<MediaItem>,
    pub scans: Vec<ScanRecord>,
    pub total: u64,
    pub next: Option<MediaCursor>,
}

/// A history line to be written (see [`MediaEvent`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewMediaEvent {
    pub media_id: String,
    pub profile_id: Option<String>,
    pub kind: String,
    pub message: String,
    pub at: Timestamp,
}

/// Records, history and scan states written in one transaction: a folder's new scan state
/// never lands without the records it implies (a crash then re-reads the folder), and many
/// rows cost one commit.
#[derive(Debug, Clone, Default)]
pub struct TrailerWrites {
    pub scans: Vec<ScanRecord>,
    pub downloads: Vec<DownloadRecord>,
    pub events: Vec<NewMediaEvent>,
}

/// The disk scan's state of one media item.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRecord {
    pub media_id: String,
    pub folder: String,
    /// `ok`, `missing`, `unavailable`; `None` before the first scan.
    pub status: Option<String>,
    /// JSON of `scan::FolderState`.
    pub state: Option<String>,
    pub scanned_at: Option<Timestamp>,
}
