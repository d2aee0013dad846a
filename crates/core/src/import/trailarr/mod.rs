//! Trailarr (nandyalu/trailarr, SQLModel on SQLite): its rows as read, and how they become
//! Tapearr's connections, profiles, media and history.

mod apply;
mod profile;

pub use apply::import;

use crate::secret::Secret;
use crate::time::Timestamp;

/// Everything the import reads from a Trailarr database.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub connections: Vec<SourceConnection>,
    pub path_mappings: Vec<SourcePathMapping>,
    pub profiles: Vec<SourceProfile>,
    pub media: Vec<SourceMedia>,
    pub downloads: Vec<SourceDownload>,
}

/// A row of `connection`.
#[derive(Debug, Clone)]
pub struct SourceConnection {
    pub id: i64,
    pub name: String,
    /// `RADARR`/`SONARR` (SQLAlchemy stores the enum's name; older rows the value).
    pub arr_type: String,
    pub url: String,
    pub api_key: Secret,
    /// `MONITOR_MISSING`, `MONITOR_NEW`, `MONITOR_NONE`, `MONITOR_SYNC` (or the values).
    pub monitor: String,
}

/// A row of `pathmapping`.
#[derive(Debug, Clone)]
pub struct SourcePathMapping {
    pub connection_id: Option<i64>,
    pub path_from: String,
    pub path_to: String,
}

/// A row of `trailerprofile` with its `customfilter`'s name and how many filters it has.
#[derive(Debug, Clone)]
pub struct SourceProfile {
    pub id: i64,
    pub name: Option<String>,
    pub filter_count: i64,
    pub enabled: bool,
    pub priority: i64,
    pub file_format: String,
    pub file_name: String,
    pub folder_enabled: bool,
    pub folder_name: String,
    pub embed_metadata: bool,
    pub remove_silence: bool,
    pub audio_format: String,
    pub audio_volume_level: i64,
    pub video_format: String,
    pub video_resolution: i64,
    pub subtitles_enabled: bool,
    pub subtitles_language: String,
    pub search_query: String,
    pub min_duration: i64,
    pub max_duration: i64,
    pub always_search: bool,
    pub include_words: String,
    pub exclude_words: String,
    pub ytdlp_extra_options: String,
}

/// A row of `media` (movies and series in one table since Trailarr 0.3).
#[derive(Debug, Clone)]
pub struct SourceMedia {
    pub id: i64,
    pub connection_id: i64,
    pub arr_id: i64,
    pub is_movie: bool,
    pub title: String,
    pub year: Option<i64>,
    pub language: Option<String>,
    pub overview: Option<String>,
    pub runtime: Option<i64>,
    pub youtube_trailer_id: Option<String>,
    pub folder_path: Option<String>,
    pub imdb_id: Option<String>,
    /// TMDB id (movies) or TVDB id (series), stored as text.
    pub txdb_id: String,
    pub poster_url: Option<String>,
    pub fanart_url: Option<String>,
    pub monitor: bool,
    pub arr_monitored: bool,
}

/// A row of `download`: one trailer Trailarr placed.
#[derive(Debug, Clone)]
pub struct SourceDownload {
    pub media_id: i64,
    pub profile_id: i64,
    pub path: String,
    pub file_name: String,
    pub youtube_id: String,
    pub file_exists: bool,
    pub added_at: Option<Timestamp>,
}
