//! Trailer profiles (T4): which items a profile applies to (a filter set), what a good
//! candidate is for it (search rules), and what the placed file looks like (output).
//!
//! Priority rule: among the enabled profiles whose filters match an item, **every** one gets
//! its own trailer; the priority (higher number first) orders the work and decides which
//! profile claims a trailer found on disk that more than one could own.

use crate::time::Timestamp;
use crate::trailers::model::slot::{ExtraKind, Slot, slots};
use crate::trailers::model::{MediaItem, MediaKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// Higher wins.
    pub priority: i32,
    /// All must match (an empty set matches every item).
    pub filters: Vec<ProfileFilter>,
    pub search: SearchRules,
    pub output: OutputSettings,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Profile {
    /// The slots this profile fills for `item`: its trailers and extras, then, for a series
    /// when `output.season_trailers` is on, one per monitored season (specials left out).
    pub fn slots_for(&self, item: &MediaItem) -> Vec<Slot> {
        let mut out = self.output.slots();
        if self.output.season_trailers && item.kind == MediaKind::Series {
            let mut seasons: Vec<u8> = item
                .seasons
                .iter()
                .filter(|s| s.monitored)
                .filter_map(|s| u8::try_from(s.number).ok())
                .collect();
            seasons.sort_unstable();
            seasons.dedup();
            out.extend(seasons.into_iter().filter_map(Slot::season));
        }
        out
    }
}

/// A field of the media item that a filter can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterField {
    /// `movie` or `series`.
    Kind,
    Year,
    Language,
    Studio,
    Title,
    Tags,
    /// Monitored in Radarr/Sonarr (Plex items count as monitored).
    Monitored,
    HasFile,
    ConnectionId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    Is,
    IsNot,
    Contains,
    NotContains,
    AtLeast,
    AtMost,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProfileFilter {
    pub field: FilterField,
    pub op: FilterOp,
    /// A string, number or boolean as the field needs.
    #[schema(value_type = FilterValue)]
    pub value: serde_json::Value,
}

/// The schema of a filter's value (the value itself stays JSON, checked per field).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum FilterValue {
    Text(String),
    Number(f64),
    Flag(bool),
}

/// What makes a candidate acceptable, and how to search for more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SearchRules {
    pub min_duration_s: u32,
    pub max_duration_s: u32,
    /// Every group must be matched by at least one of its words (`["trailer|teaser"]`).
    pub include_words: Vec<String>,
    /// A title with any of these is rejected (`review`, `reaction` are always rejected).
    pub exclude_words: Vec<String>,
    /// When set, only these uploaders (channel names or ids, case-insensitive).
    pub uploaders: Vec<String>,
    /// ISO 639-1 code (`en`) preferred for TMDB videos.
    pub language: Option<String>,
    /// More ISO 639-1 codes, in order, taken after `language` when no video is in it.
    pub fallback_languages: Vec<String>,
    /// The media's original language (as its Arr or Plex says) comes before `language`.
    pub prefer_original_language: bool,
    /// yt-dlp search query; variables `{title} {year} {kind}`.
    pub query: String,
    /// How many search results to consider.
    pub search_results: u32,
    /// Always search even when the Arr or TMDB gave an id.
    pub always_search: bool,
    /// Leave an item alone when its media server already shows a trailer for it: Jellyfin's
    /// local or remote trailers, Plex's trailer extras (local files or Plex Pass online
    /// trailers), as the last sync of a Plex or Jellyfin connection saw them.
    pub skip_if_server_has_trailer: bool,
}

impl Default for SearchRules {
    fn default() -> Self {
        Self {
            min_duration_s: 30,
            max_duration_s: 600,
            include_words: Vec::new(),
            exclude_words: Vec::new(),
            uploaders: Vec::new(),
            language: Some("en".into()),
            fallback_languages: Vec::new(),
            prefer_original_language: false,
            query: "{title} {year} {kind} trailer".into(),
            search_results: 10,
            always_search: false,
            skip_if_server_has_trailer: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    Mp4,
    Mkv,
    Webm,
}

impl Container {
    pub fn ext(self) -> &'static str {
        match self {
            Self::Mp4 => "mp4",
            Self::Mkv => "mkv",
            Self::Webm => "webm",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VideoCodec {
    /// Keep whatever was downloaded.
    Copy,
    H264,
    H265,
    Vp9,
    Av1,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AudioCodec {
    Copy,
    Aac,
    Opus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HwAccel {
    None,
    Nvenc,
    Vaapi,
    Qsv,
}

/// Where the trailer goes, relative to the media folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// `{media folder}/{folder_name}/{file}` (Jellyfin, Emby, Kodi, Plex).
    Folder,
    /// `{media folder}/{file}` where the template ends in `-trailer` (Plex, Jellyfin, Emby).
    Beside,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OutputSettings {
    pub container: Container,
    pub video_codec: VideoCodec,
    pub audio_codec: AudioCodec,
    /// Highest video height to download (yt-dlp format selector) and keep.
    pub max_height: u32,
    pub hw_accel: HwAccel,
    /// 1.0 leaves the volume alone.
    pub volume: f32,
    /// Seconds cut from the start (intros, ads burnt in by uploaders).
    pub trim_start_s: u32,
    /// Drop trailing silence.
    pub trim_silence: bool,
    pub subtitles: bool,
    pub placement: Placement,
    /// Folder name for `Placement::Folder`.
    pub folder_name: String,
    /// File name without extension; variables `{title} {year} {video_id} {resolution}`.
    pub file_template: String,
    /// Extra yt-dlp options (checked: no `--exec`, no output or config options).
    pub ytdlp_options: Vec<String>,
    /// Trailers wanted per title (1 to [`MAX_TRAILERS`](super::slot::MAX_TRAILERS)), each a different video.
    pub trailers: u8,
    /// Extras wanted per title besides the trailers (one of each kind, from TMDB's videos of
    /// that type), placed where media servers read that kind (see `model/slot.rs`).
    pub extras: Vec<ExtraKind>,
    /// Quality upgrades: a file Tapearr placed below `max_height` is replaced when a search
    /// (at most every two weeks per slot) finds a taller video; off by default.
    pub upgrade: bool,
    /// Series: a trailer per monitored season too (TMDB's season videos), placed in the
    /// season's folder when it exists on disk (specials are left out).
    pub season_trailers: bool,
}

impl OutputSettings {
    /// The slots this profile fills per title, in order.
    pub fn slots(&self) -> Vec<Slot> {
        slots(self.trailers, &self.extras)
    }
}

impl Default for OutputSettings {
    fn default() -> Self {
        Self {
            container: Container::Mp4,
            video_codec: VideoCodec::H264,
            audio_codec: AudioCodec::Aac,
            max_height: 1080,
            hw_accel: HwAccel::None,
            volume: 1.0,
            trim_start_s: 0,
            trim_silence: false,
            subtitles: false,
            placement: Placement::Beside,
            folder_name: "Trailers".into(),
            file_template: "{title} ({year})-trailer".into(),
            ytdlp_options: Vec::new(),
            trailers: 1,
            extras: Vec::new(),
            upgrade: false,
            season_trailers: false,
        }
    }
}
