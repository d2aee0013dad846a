//! What a trailer is (T3): the one rule the disk scan, "delete trailer" and a replacement all
//! follow, so that a real movie is never taken for its own trailer and deleted.
//!
//! A file in a media folder is a trailer when, in this order:
//!
//! 1. it is **not one of the item's own media files** as its source lists them (Radarr's
//!    `movieFile`, Plex's `Media[].Part[].file`) — compared by relative path and by file name,
//!    case-insensitively: `The Trailer (2020).mkv` as the movie's file is never a trailer,
//!    whatever else is true of it;
//! 2. and either **Tapearr placed it** (a `downloaded` record names it),
//! 3. or it is not the size of a feature ([`FEATURE_BYTES`]) and its name **clearly is one**:
//!    a video directly inside a `Trailers/` folder (the Plex/Jellyfin/Emby/Kodi convention),
//!    or a video beside the media whose stem ends in the word `trailer` after a separator
//!    (`-trailer`, `.trailer`, `_trailer`), a year in brackets or a qualifier (`Official
//!    Trailer 2`), followed by nothing but numbers and resolution tags — never a year
//!    (`The Trailer (2020)` is a movie) and never with an `SxxEyy` episode pattern.
//!
//! A profile's own trailer folder (when it is not `Trailers`) is not enough on its own: the
//! user may have named it after a folder that holds other videos. Files Tapearr placed there
//! are known by their records.

use crate::trailers::model::MediaItem;
use crate::trailers::scan::folder::VIDEO_EXTENSIONS;

/// No trailer is this large (a 3-minute 4K trailer at 80 Mbit/s is under 2 GiB); a file
/// this size beside the media is a feature, an episode or an extra, never ours to delete.
pub const FEATURE_BYTES: u64 = 4 << 30;

/// Trailer folder names media servers define (matched case-insensitively).
pub const STANDARD_TRAILER_DIRS: [&str; 1] = ["Trailers"];

/// What is known about one file in a media folder.
#[derive(Debug, Clone, Copy)]
pub struct FileFacts<'a> {
    /// Relative to the media folder, `/` separators (`Trailers/x.mp4`, `x-trailer.mkv`).
    pub rel_path: &'a str,
    /// Bytes, when known.
    pub size: Option<u64>,
    /// A `downloaded` record names this file: Tapearr put it there.
    pub placed: bool,
}

/// Why a file is a trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrailerBy {
    /// Tapearr placed it.
    Placed,
    /// In a `Trailers/` folder.
    Folder,
    /// Its name says so (`-trailer`).
    Name,
}

/// Why a file is not a trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotATrailer {
    /// The item's source lists it as the item's own media file.
    MediaFile,
    /// Larger than any trailer.
    FeatureSize,
    /// Nothing about its name or place says trailer, and Tapearr did not place it.
    Name,
}

impl NotATrailer {
    pub fn describe(self) -> &'static str {
        match self {
            Self::MediaFile => "it is the item's own media file",
            Self::FeatureSize => "it is the size of a feature, not a trailer",
            Self::Name => "Tapearr did not place it and its name does not say trailer",
        }
    }
}

/// The rule (see the module documentation). `media_files` are the item's own media files,
/// relative to its media folder (see [`media_rel_paths`]).
pub fn recognize(file: FileFacts<'_>, media_files: &[String]) -> Result<TrailerBy, NotATrailer> {
    if is_media_file(file.rel_path, media_files) {
        return Err(NotATrailer::MediaFile);
    }
    if file.placed {
        return Ok(TrailerBy::Placed);
    }
    if file.size.is_some_and(|s| s >= FEATURE_BYTES) {
        return Err(NotATrailer::FeatureSize);
    }
    let (dir, name) = match file.rel_path.rsplit_once('/') {
        Some((dir, name)) => (Some(dir), name),
        None => (None, file.rel_path),
    };
    if !is_video(name) || name.starts_with('.') {
        return Err(NotATrailer::Name);
    }
    match dir {
        Some(dir)
            if STANDARD_TRAILER_DIRS
                .iter()
                .any(|d| d.eq_ignore_ascii_case(dir)) =>
        {
            Ok(TrailerBy::Folder)
        }
        Some(_) => Err(NotATrailer::Name),
        None if is_inline_trailer_name(stem(name)) => Ok(TrailerBy::Name),
        None => Err(NotATrailer::Name),
    }
}

/// Whether `rel_path` is one of the media files: the same relative path, or the same file
/// name (a file of that name anywhere in the folder is the media, not a trailer of it).
fn is_media_file(rel_path: &str, media_files: &[String]) -> bool {
    let name = file_name(rel_path);
    media_files.iter().any(|m| {
        m.to_lowercase() == rel_path.to_lowercase()
            || file_name(m).to_lowercase() == name.to_lowercase()
    })
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The item's media files relative to its folder (`/` separators); a file outside the
/// folder keeps only its name (which [`recognize`] still compares).
pub fn media_rel_paths(item: &MediaItem) -> Vec<String> {
    let folder = item.folder.trim_end_matches(['/', '\\']);
    item.media_files
        .iter()
        .map(|f| {
            let f = f.replace('\\', "/");
            match f
                .strip_prefix(folder)
                .and_then(|rest| rest.strip_prefix('/'))
            {
                Some(rel) if !rel.is_empty() => rel.to_string(),
                _ => file_name(&f).to_string(),
            }
        })
        .collect()
}

fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(stem, _)| stem)
}

pub(crate) fn is_video(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && VIDEO_EXTENSIONS.iter().any(|v| v.eq_ignore_ascii_case(ext))
    })
}

/// Words that may stand before `trailer` in a trailer's own name (`Official Trailer 2`).
const QUALIFIERS: &[&str] = &[
    "official",
    "teaser",
    "final",
    "theatrical",
    "main",
    "international",
    "new",
    "exclusive",
    "hd",
];

/// `trailer` is a word; what stands before it is nothing, a separator (`-` `.` `_`), a
/// bracket (`(2019) trailer`) or a qualifier; what follows is only numbers that are not years
/// and resolution tags; no `SxxEyy` anywhere.
pub(crate) fn is_inline_trailer_name(stem: &str) -> bool {
    let lower = stem.to_lowercase();
    if has_episode_pattern(&lower) {
        return false;
    }
    let words = word_spans(&lower);
    let is_trailer_word = |w: &str| {
        w.strip_prefix("trailer").is_some_and(|rest| {
            rest.is_empty() || rest == "s" || rest.chars().all(|c| c.is_ascii_digit())
        })
    };
    let Some(last) = words.iter().rposition(|(_, w)| is_trailer_word(w)) else {
        return false;
    };
    if !words[last + 1..]
        .iter()
        .all(|(_, w)| is_tag(w) && !is_year(w))
    {
        return false;
    }
    let before = lower[..words[last].0].trim_end();
    if before.is_empty() || before.ends_with(['-', '.', '_', ')', ']']) {
        return true;
    }
    last > 0 && QUALIFIERS.contains(&words[last - 1].1)
}

/// Each alphanumeric word with its byte offset.
fn word_spans(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(st)) => {
                out.push((st, &s[st..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

/// `2`, `1080p`, `4k`, `hd`, `uhd`: what may follow `trailer` in a trailer's own name.
fn is_tag(word: &str) -> bool {
    let digits = word.trim_end_matches(['p', 'k', 'i']);
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        || matches!(word, "hd" | "uhd" | "fhd" | "sd" | "hdr")
}

/// A release year (`1888`–`2199`): after `trailer` it makes the name a title, `The Trailer
/// (2020)`.
fn is_year(word: &str) -> bool {
    word.len() == 4
        && word.chars().all(|c| c.is_ascii_digit())
        && word
            .parse::<u32>()
            .is_ok_and(|y| (1888..=2199).contains(&y))
}

/// `s01e02` (case already folded), not preceded by a letter or digit.
fn has_episode_pattern(lower: &str) -> bool {
    let b = lower.as_bytes();
    (0..b.len()).any(|i| {
        if b[i] != b's' || (i > 0 && b[i - 1].is_ascii_alphanumeric()) {
            return false;
        }
        let season = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        let e = i + 1 + season;
        (1..=4).contains(&season)
            && b.get(e) == Some(&b'e')
            && b.get(e + 1).is_some_and(u8::is_ascii_digit)
    })
}

#[cfg(test)]
mod tests;
