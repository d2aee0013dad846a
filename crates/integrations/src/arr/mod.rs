//! Radarr and Sonarr (`/api/v3`, the same paths on Radarr 3–6 and Sonarr 3–4): the
//! connection test, root folders, tags and the whole library.
//!
//! The library answer is one JSON array that can be tens of MB; it is split into elements
//! as it arrives ([`stream`]) and each is parsed on its own ([`wire`]), so one malformed item
//! is skipped with a reason instead of failing the sync, and a cut-off answer is an error
//! instead of a short library (a sync that took it for whole would delete the rest).

mod client;
mod error;
mod stream;
mod wire;

#[cfg(test)]
mod tests;

pub use client::ArrClient;
pub use error::ArrError;
/// Shared with the TMDB client: reqwest errors without URLs, key masking, short messages.
pub(crate) use error::{describe, redact, truncate};
pub use wire::fnv1a64;

/// Which Arr a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArrKind {
    Radarr,
    Sonarr,
}

impl ArrKind {
    /// `appName` in its `system/status`.
    pub fn app_name(self) -> &'static str {
        match self {
            ArrKind::Radarr => "Radarr",
            ArrKind::Sonarr => "Sonarr",
        }
    }
}

/// `system/status`, checked to be the expected app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrStatus {
    pub app_name: String,
    pub version: String,
    pub instance_name: Option<String>,
}

/// A root folder as the Arr sees it (its path, not mapped to ours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootFolder {
    pub path: String,
    pub free_space: Option<i64>,
    pub accessible: bool,
}

/// One movie (Radarr) or series (Sonarr) of the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrItem {
    pub arr_id: i64,
    /// `tmdbId` (Radarr) or `tvdbId` (Sonarr); never 0.
    pub ext_id: i64,
    /// Radarr: `tmdbId`; Sonarr: `tmdbId` when known (4.0.5 and later).
    pub tmdb_id: Option<i64>,
    pub imdb_id: Option<String>,
    pub title: String,
    pub original_title: Option<String>,
    pub year: Option<i32>,
    /// `originalLanguage.name` (`English`, `Japanese`, …).
    pub language: Option<String>,
    /// The movie's studio or the series' network.
    pub studio: Option<String>,
    pub overview: Option<String>,
    pub runtime_min: Option<i32>,
    pub tag_ids: Vec<i64>,
    /// The Arr's own path, not mapped.
    pub path: String,
    /// The item's own media files, the Arr's paths, not mapped: Radarr's `movieFile.path`
    /// (else `path` + `relativePath`), Plex's `Media[].Part[].file`. Empty for a series
    /// (Sonarr lists episode files elsewhere).
    pub media_files: Vec<String>,
    pub has_file: bool,
    pub monitored: bool,
    /// `youTubeTrailerId`, when not empty.
    pub trailer_id: Option<String>,
    /// `remoteUrl` when set, else the Arr's `MediaCover` URL made absolute.
    pub poster_url: Option<String>,
    pub fanart_url: Option<String>,
    pub added: Option<String>,
    /// FNV-1a 64 of the element's raw JSON: equal means unchanged since the last pull.
    pub fingerprint: u64,
    /// Sonarr's `seasons` (number and monitored); empty for movies and media servers.
    pub seasons: Vec<ArrSeason>,
}

/// One entry of Sonarr's `seasons`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrSeason {
    /// `seasonNumber` (0: specials).
    pub number: i32,
    pub monitored: bool,
}

/// A library element that is well-formed JSON but not a usable item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedItem {
    /// Position in the list (0-based).
    pub index: usize,
    pub arr_id: Option<i64>,
    pub title: Option<String>,
    /// What is wrong, naming the key (`` `tmdbId` is a string, not a whole number ``).
    pub reason: String,
}

/// Counts of one whole pull.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PullSummary {
    pub items: usize,
    pub skipped: usize,
}
