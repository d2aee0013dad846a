//! Master (multi-variant) playlists, including Twitch's `EXT-X-MEDIA` names.

use super::attributes::Attributes;
use super::{ParseError, lines};

#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub uri: String,
    pub bandwidth: u64,
    pub resolution: Option<(u32, u32)>,
    pub frame_rate: Option<f64>,
    /// Codec strings as listed in `CODECS` (e.g. `avc1.64002A`, `mp4a.40.2`).
    pub codecs: Vec<String>,
    /// `VIDEO` group id (Twitch: `chunked`, `720p60`, `audio_only`).
    pub video_group: Option<String>,
    /// `NAME` of the matching `EXT-X-MEDIA` rendition (Twitch: `1080p60 (source)`).
    pub name: Option<String>,
}

impl Variant {
    /// Name used for quality matching: the rendition name without Twitch's ` (source)`, or one
    /// derived from the resolution and frame rate (`720p`, `1080p60`), or `audio_only`.
    pub fn quality_name(&self) -> String {
        if let Some(name) = &self.name {
            let n = name.trim_end_matches(" (source)").trim();
            if !n.is_empty() {
                return n.to_owned();
            }
        }
        match self.resolution {
            Some((_, h)) => match self.frame_rate.map(|f| f.round() as u32) {
                Some(fps) if fps > 30 => format!("{h}p{fps}"),
                _ => format!("{h}p"),
            },
            None if self.is_audio_only() => "audio_only".to_owned(),
            None => format!("{}k", self.bandwidth / 1000),
        }
    }

    pub fn is_audio_only(&self) -> bool {
        if self.video_group.as_deref() == Some("audio_only") {
            return true;
        }
        self.resolution.is_none()
            && !self.codecs.is_empty()
            && self
                .codecs
                .iter()
                .all(|c| super::codec_family(c) == super::CodecFamily::Audio)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MasterPlaylist {
    pub variants: Vec<Variant>,
}

impl MasterPlaylist {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut renditions: Vec<Attributes> = Vec::new();
        let mut pending: Option<Attributes> = None;
        let mut raw_variants: Vec<(Attributes, String)> = Vec::new();
        for (no, line) in lines(text)? {
            if let Some(tag) = line.strip_prefix('#') {
                let (name, value) = tag.split_once(':').unwrap_or((tag, ""));
                match name {
                    "EXT-X-MEDIA" => renditions.push(Attributes::parse(value)),
                    "EXT-X-STREAM-INF" => pending = Some(Attributes::parse(value)),
                    "EXTINF" => return Err(ParseError::NotMaster),
                    _ => {}
                }
            } else {
                let attrs = pending
                    .take()
                    .ok_or(ParseError::UriWithoutStreamInf { line: no })?;
                raw_variants.push((attrs, line.to_owned()));
            }
        }
        let variants = raw_variants
            .into_iter()
            .map(|(a, uri)| {
                let video_group = a.get("VIDEO").map(str::to_owned);
                let name = video_group.as_deref().and_then(|g| {
                    renditions
                        .iter()
                        .find(|r| r.get("TYPE") == Some("VIDEO") && r.get("GROUP-ID") == Some(g))
                        .and_then(|r| r.get("NAME"))
                        .map(str::to_owned)
                });
                Variant {
                    uri,
                    bandwidth: a.get_u64("BANDWIDTH").unwrap_or(0),
                    resolution: a.get("RESOLUTION").and_then(parse_resolution),
                    frame_rate: a.get_f64("FRAME-RATE"),
                    codecs: a
                        .get("CODECS")
                        .map(|c| {
                            c.split(',')
                                .map(|s| s.trim().to_owned())
                                .filter(|s| !s.is_empty())
                                .collect()
                        })
                        .unwrap_or_default(),
                    video_group,
                    name,
                }
            })
            .collect();
        Ok(Self { variants })
    }
}

fn parse_resolution(s: &str) -> Option<(u32, u32)> {
    let (w, h) = s.split_once(['x', 'X'])?;
    Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
}
