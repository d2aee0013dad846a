//! Media playlists: segments with their sequence numbers, init maps, dates and Twitch extensions.

use std::time::{Duration, SystemTime};

use super::attributes::Attributes;
use super::datetime::parse_iso8601;
use super::{ParseError, lines};

/// A byte range (`EXT-X-BYTERANGE` / `BYTERANGE=`): `length` bytes from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub length: u64,
    pub offset: Option<u64>,
}

impl ByteRange {
    fn parse(s: &str) -> Option<Self> {
        let (len, off) = match s.split_once('@') {
            Some((l, o)) => (l, Some(o.trim().parse().ok()?)),
            None => (s, None),
        };
        Some(Self {
            length: len.trim().parse().ok()?,
            offset: off,
        })
    }
}

/// The init section (`EXT-X-MAP`) that applies to an fMP4 segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitMap {
    pub uri: String,
    pub byte_range: Option<ByteRange>,
}

/// `EXT-X-DATERANGE`.
#[derive(Debug, Clone, PartialEq)]
pub struct DateRange {
    pub id: String,
    pub class: Option<String>,
    pub start: Option<SystemTime>,
    pub duration: Option<f64>,
    pub planned_duration: Option<f64>,
    pub attributes: Attributes,
}

impl DateRange {
    /// Twitch server-side ("stitched") ad.
    pub fn is_twitch_ad(&self) -> bool {
        self.class.as_deref() == Some("twitch-stitched-ad") || self.id.starts_with("stitched-ad-")
    }

    /// Whether `t` falls inside this range (needs a start and a duration).
    pub fn contains(&self, t: SystemTime) -> bool {
        let (Some(start), Some(len)) = (self.start, self.duration.or(self.planned_duration)) else {
            return false;
        };
        let end = start + Duration::from_secs_f64(len.max(0.0));
        t >= start && t < end
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MediaSegment {
    /// Media sequence number (`EXT-X-MEDIA-SEQUENCE` + position).
    pub sequence: u64,
    pub duration: f64,
    /// The `EXTINF` title; Twitch marks ad segments with titles starting with `Amazon`.
    pub title: String,
    pub uri: String,
    pub byte_range: Option<ByteRange>,
    /// `EXT-X-DISCONTINUITY` precedes this segment.
    pub discontinuity: bool,
    /// Discontinuity sequence this segment belongs to.
    pub discontinuity_sequence: u64,
    pub map: Option<InitMap>,
    pub program_date_time: Option<SystemTime>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MediaPlaylist {
    pub target_duration: f64,
    pub media_sequence: u64,
    pub discontinuity_sequence: u64,
    pub segments: Vec<MediaSegment>,
    pub end_list: bool,
    pub playlist_type: Option<String>,
    pub date_ranges: Vec<DateRange>,
    /// `EXT-X-TWITCH-PREFETCH` URIs: low-latency hints for segments not listed yet.
    pub prefetch: Vec<String>,
    /// `EXT-X-TWITCH-LIVE-SEQUENCE`.
    pub twitch_live_sequence: Option<u64>,
}

impl MediaPlaylist {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut pl = MediaPlaylist::default();
        let mut pending_duration: Option<(f64, String)> = None;
        let mut pending_range: Option<ByteRange> = None;
        let mut pending_disc = false;
        let mut pending_pdt: Option<SystemTime> = None;
        let mut current_map: Option<InitMap> = None;
        let mut disc_seq: Option<u64> = None;
        let mut last_range_end: Option<u64> = None;

        for (no, line) in lines(text)? {
            if let Some(tag) = line.strip_prefix('#') {
                let (name, value) = tag.split_once(':').unwrap_or((tag, ""));
                match name {
                    "EXT-X-TARGETDURATION" => {
                        pl.target_duration = parse_num(value, no, "EXT-X-TARGETDURATION")?;
                    }
                    "EXT-X-MEDIA-SEQUENCE" => {
                        pl.media_sequence = parse_u64(value, no, "EXT-X-MEDIA-SEQUENCE")?;
                    }
                    "EXT-X-DISCONTINUITY-SEQUENCE" => {
                        pl.discontinuity_sequence =
                            parse_u64(value, no, "EXT-X-DISCONTINUITY-SEQUENCE")?;
                    }
                    "EXTINF" => {
                        let (dur, title) = value.split_once(',').unwrap_or((value, ""));
                        let dur = parse_num(dur, no, "EXTINF")?;
                        pending_duration = Some((dur, title.trim().to_owned()));
                    }
                    "EXT-X-BYTERANGE" => {
                        pending_range =
                            Some(ByteRange::parse(value).ok_or(ParseError::BadTag {
                                line: no,
                                tag: "EXT-X-BYTERANGE",
                            })?);
                    }
                    "EXT-X-DISCONTINUITY" => pending_disc = true,
                    "EXT-X-PROGRAM-DATE-TIME" => pending_pdt = parse_iso8601(value),
                    "EXT-X-MAP" => {
                        let a = Attributes::parse(value);
                        let uri = a
                            .get("URI")
                            .ok_or(ParseError::BadTag {
                                line: no,
                                tag: "EXT-X-MAP",
                            })?
                            .to_owned();
                        let byte_range = a.get("BYTERANGE").and_then(ByteRange::parse);
                        current_map = Some(InitMap { uri, byte_range });
                    }
                    "EXT-X-DATERANGE" => {
                        let a = Attributes::parse(value);
                        pl.date_ranges.push(DateRange {
                            id: a.get("ID").unwrap_or_default().to_owned(),
                            class: a.get("CLASS").map(str::to_owned),
                            start: a.get("START-DATE").and_then(parse_iso8601),
                            duration: a.get_f64("DURATION"),
                            planned_duration: a.get_f64("PLANNED-DURATION"),
                            attributes: a,
                        });
                    }
                    "EXT-X-ENDLIST" => pl.end_list = true,
                    "EXT-X-PLAYLIST-TYPE" => pl.playlist_type = Some(value.trim().to_owned()),
                    "EXT-X-TWITCH-PREFETCH" => pl.prefetch.push(value.trim().to_owned()),
                    "EXT-X-TWITCH-LIVE-SEQUENCE" => {
                        pl.twitch_live_sequence = value.trim().parse().ok()
                    }
                    "EXT-X-STREAM-INF" => return Err(ParseError::NotMedia),
                    _ => {}
                }
            } else {
                let (duration, title) = pending_duration
                    .take()
                    .ok_or(ParseError::UriWithoutExtinf { line: no })?;
                if pending_disc {
                    disc_seq = Some(disc_seq.unwrap_or(pl.discontinuity_sequence) + 1);
                }
                // A BYTERANGE without offset continues where the previous one ended.
                let byte_range = pending_range.take().map(|mut r| {
                    if r.offset.is_none() {
                        r.offset = Some(last_range_end.unwrap_or(0));
                    }
                    last_range_end = r.offset.map(|o| o.saturating_add(r.length));
                    r
                });
                let sequence = pl.media_sequence.saturating_add(pl.segments.len() as u64);
                pl.segments.push(MediaSegment {
                    sequence,
                    duration,
                    title,
                    uri: line.to_owned(),
                    byte_range,
                    discontinuity: std::mem::take(&mut pending_disc),
                    discontinuity_sequence: disc_seq.unwrap_or(pl.discontinuity_sequence),
                    map: current_map.clone(),
                    program_date_time: pending_pdt.take(),
                });
            }
        }
        // Segments without their own PROGRAM-DATE-TIME inherit it from the previous one.
        let mut clock: Option<SystemTime> = None;
        for seg in &mut pl.segments {
            match seg.program_date_time {
                Some(t) => clock = Some(t),
                None => seg.program_date_time = clock,
            }
            clock = clock.map(|t| t + Duration::from_secs_f64(seg.duration.max(0.0)));
        }
        Ok(pl)
    }

    /// Whether a segment is a Twitch stitched ad: an `Amazon` title or a start time inside a
    /// `twitch-stitched-ad` date range.
    pub fn is_ad(&self, seg: &MediaSegment) -> bool {
        if seg.title.starts_with("Amazon") {
            return true;
        }
        seg.program_date_time.is_some_and(|t| {
            self.date_ranges
                .iter()
                .any(|r| r.is_twitch_ad() && r.contains(t))
        })
    }
}

fn parse_num(value: &str, line: usize, tag: &'static str) -> Result<f64, ParseError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or(ParseError::BadTag { line, tag })
}

fn parse_u64(value: &str, line: usize, tag: &'static str) -> Result<u64, ParseError> {
    value
        .trim()
        .parse()
        .map_err(|_| ParseError::BadTag { line, tag })
}
