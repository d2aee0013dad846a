//! HLS playlist parsing (RFC 8216 plus Twitch's extensions). Parsing never panics on any input;
//! unknown tags are ignored.

mod attributes;
pub mod datetime;
mod master;
mod media;

pub use attributes::Attributes;
pub use master::{MasterPlaylist, Variant};
pub use media::{ByteRange, DateRange, InitMap, MediaPlaylist, MediaSegment};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not an HLS playlist (no #EXTM3U header)")]
    MissingHeader,
    #[error("line {line}: malformed {tag}")]
    BadTag { line: usize, tag: &'static str },
    #[error("line {line}: segment URI without #EXTINF")]
    UriWithoutExtinf { line: usize },
    #[error("line {line}: variant URI without #EXT-X-STREAM-INF")]
    UriWithoutStreamInf { line: usize },
    #[error("expected a media playlist, found a master playlist")]
    NotMedia,
    #[error("expected a master playlist, found a media playlist")]
    NotMaster,
}

/// Either kind of playlist, decided by its content.
#[derive(Debug, Clone, PartialEq)]
pub enum Playlist {
    Master(MasterPlaylist),
    Media(MediaPlaylist),
}

impl Playlist {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        if text.contains("#EXT-X-STREAM-INF") {
            MasterPlaylist::parse(text).map(Self::Master)
        } else {
            MediaPlaylist::parse(text).map(Self::Media)
        }
    }
}

/// Broad codec families for the codec allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodecFamily {
    H264,
    H265,
    Av1,
    Audio,
    Other,
}

impl CodecFamily {
    /// Parses a user-facing name (`h264`, `avc`, `h265`, `hevc`, `av1`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "h264" | "avc" | "avc1" => Some(Self::H264),
            "h265" | "hevc" | "hvc1" | "hev1" => Some(Self::H265),
            "av1" | "av01" => Some(Self::Av1),
            _ => None,
        }
    }
}

/// Family of one `CODECS` entry.
pub fn codec_family(codec: &str) -> CodecFamily {
    let prefix = codec
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match prefix.as_str() {
        "avc1" | "avc3" => CodecFamily::H264,
        "hvc1" | "hev1" => CodecFamily::H265,
        "av01" => CodecFamily::Av1,
        "mp4a" | "ac-3" | "ec-3" | "opus" | "flac" => CodecFamily::Audio,
        _ => CodecFamily::Other,
    }
}

/// Non-empty, trimmed lines with their 1-based numbers, after checking the header.
fn lines(text: &str) -> Result<impl Iterator<Item = (usize, &str)>, ParseError> {
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if !body.starts_with("#EXTM3U") {
        return Err(ParseError::MissingHeader);
    }
    Ok(body
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty()))
}

#[cfg(test)]
mod tests;
