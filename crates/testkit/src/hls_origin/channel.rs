//! A channel's configuration and its live timeline: which segments exist at a given instant,
//! their published sequence numbers, and the media playlist text. Everything is computed from
//! the wall clock, so an idle channel costs nothing.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use super::faults::{Fault, FaultBook};
use super::media::{Container, MediaSet};

/// A variant of a channel, as announced in the master playlist.
#[derive(Debug, Clone)]
pub struct VariantConfig {
    /// Path element and Twitch-style `NAME` (e.g. `720p60`).
    pub name: String,
    /// Announced resolution (the bytes may be smaller; recorders must not care).
    pub resolution: (u32, u32),
    pub frame_rate: f64,
    pub bandwidth: u64,
    pub codecs: String,
    pub media: Arc<MediaSet>,
}

/// A Twitch-style stitched ad replacing `segments` content segments from timeline index `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdBreak {
    pub at: u64,
    pub segments: u64,
}

#[derive(Debug, Clone)]
pub struct ChannelConfig {
    pub variants: Vec<VariantConfig>,
    /// Segments listed in each media playlist.
    pub window: u64,
    pub ads: Vec<AdBreak>,
    pub ad_media: Option<Arc<MediaSet>>,
    pub faults: Vec<Fault>,
    /// Shifts the timeline so many channels do not all publish in the same instant.
    pub phase: Duration,
}

/// Request counters, for tests that assert what a recorder fetched.
#[derive(Debug, Default)]
pub struct ChannelStats {
    pub playlist_requests: AtomicU64,
    pub segment_requests: AtomicU64,
    pub ad_segment_requests: AtomicU64,
    pub init_requests: AtomicU64,
    pub faults_served: AtomicU64,
}

/// Snapshot of [`ChannelStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub playlist_requests: u64,
    pub segment_requests: u64,
    pub ad_segment_requests: u64,
    pub init_requests: u64,
    pub faults_served: u64,
}

impl ChannelStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            playlist_requests: self.playlist_requests.load(Ordering::Relaxed),
            segment_requests: self.segment_requests.load(Ordering::Relaxed),
            ad_segment_requests: self.ad_segment_requests.load(Ordering::Relaxed),
            init_requests: self.init_requests.load(Ordering::Relaxed),
            faults_served: self.faults_served.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug)]
pub struct Channel {
    pub config: ChannelConfig,
    /// Instant of timeline index 0 (the window is full from the first request).
    pub start: Instant,
    pub wall_start: SystemTime,
    pub stats: ChannelStats,
    pub faults: FaultBook,
}

impl Channel {
    pub fn new(config: ChannelConfig) -> Self {
        let seg = Duration::from_millis(u64::from(config.variants[0].media.params.segment_ms));
        let back = seg * u32::try_from(config.window).unwrap_or(u32::MAX) + config.phase;
        let now = Instant::now();
        let start = now.checked_sub(back).unwrap_or(now);
        let wall_start = SystemTime::now() - back;
        let faults = FaultBook::new(&config.faults);
        Self {
            config,
            start,
            wall_start,
            stats: ChannelStats::default(),
            faults,
        }
    }

    fn segment_duration(&self) -> Duration {
        Duration::from_millis(u64::from(self.config.variants[0].media.params.segment_ms))
    }

    /// Stall time (in segments) inserted before timeline index `index`.
    fn stalled_before(&self, index: u64) -> u64 {
        self.config
            .faults
            .iter()
            .filter_map(|f| match *f {
                Fault::Stall { at, segments } if at < index => Some(segments),
                _ => None,
            })
            .sum()
    }

    /// Number of segments published by `now` (timeline indices `0..edge`), with stalls and the end.
    pub fn edge(&self, now: Instant) -> u64 {
        let ticks = (now.saturating_duration_since(self.start).as_millis()
            / self.segment_duration().as_millis().max(1)) as u64;
        // Walk the stalls in order: each freezes the edge at `at` for `segments` ticks.
        let mut stalls: Vec<(u64, u64)> = self
            .config
            .faults
            .iter()
            .filter_map(|f| match *f {
                Fault::Stall { at, segments } => Some((at, segments)),
                _ => None,
            })
            .collect();
        stalls.sort_unstable();
        let mut edge = ticks;
        for (at, len) in stalls {
            if edge <= at {
                break;
            }
            if edge <= at + len {
                edge = at;
                break;
            }
            edge -= len;
        }
        match self.end_at() {
            Some(end) => edge.min(end),
            None => edge,
        }
    }

    /// Whether the origin is down at `now` ([`Fault::Outage`]).
    pub fn in_outage(&self, now: Instant) -> bool {
        let edge = self.edge(now);
        self.config.faults.iter().any(|f| match *f {
            Fault::Outage { at, segments } => (at..at + segments).contains(&edge),
            _ => false,
        })
    }

    pub fn end_at(&self) -> Option<u64> {
        self.config.faults.iter().find_map(|f| match *f {
            Fault::End { at } => Some(at),
            _ => None,
        })
    }

    fn reset_at(&self) -> Option<u64> {
        self.config.faults.iter().find_map(|f| match *f {
            Fault::Reset { at } => Some(at),
            _ => None,
        })
    }

    /// Published media sequence number of timeline index `index` (restarts at 0 after a reset).
    pub fn published_sequence(&self, index: u64) -> u64 {
        match self.reset_at() {
            Some(r) if index >= r => index - r,
            _ => index,
        }
    }

    pub fn ad_at(&self, index: u64) -> Option<(AdBreak, u64)> {
        self.config
            .ads
            .iter()
            .find(|a| index >= a.at && index < a.at + a.segments)
            .map(|a| (*a, index - a.at))
    }

    pub fn wall_time(&self, index: u64) -> SystemTime {
        self.wall_start
            + self.segment_duration()
                * u32::try_from(index + self.stalled_before(index)).unwrap_or(0)
    }

    /// Renders the media playlist of `variant` as seen at `now`. `ad_free` is what a viewer
    /// with Turbo or a subscription gets: the content itself where others get stitched ads
    /// (its segment URLs carry `?ad_free=1`, which the origin then serves).
    pub fn media_playlist(&self, variant: &VariantConfig, now: Instant, ad_free: bool) -> String {
        let edge = self.edge(now);
        let mut first = edge.saturating_sub(self.config.window);
        if let Some(r) = self.reset_at()
            && edge > r
        {
            first = first.max(r);
        }
        let media = &variant.media;
        let target = media
            .segments
            .iter()
            .map(|s| s.duration.ceil() as u64)
            .max()
            .unwrap_or(1);
        let ext = media.params.container.segment_ext();
        let mut out = String::with_capacity(2048);
        let _ = writeln!(
            out,
            "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:{target}"
        );
        let _ = writeln!(
            out,
            "#EXT-X-MEDIA-SEQUENCE:{}",
            self.published_sequence(first)
        );
        let _ = writeln!(
            out,
            "#EXT-X-TWITCH-LIVE-SEQUENCE:{}",
            self.published_sequence(first)
        );
        if media.params.container == Container::Fmp4 {
            let _ = writeln!(out, "#EXT-X-MAP:URI=\"init.mp4\"");
        }
        // One DATERANGE per ad break that overlaps the window, as Twitch does.
        for ad in self.config.ads.iter().filter(|_| !ad_free) {
            if ad.at < edge && ad.at + ad.segments > first {
                let _ = writeln!(
                    out,
                    "#EXT-X-DATERANGE:ID=\"stitched-ad-{}-{}\",CLASS=\"twitch-stitched-ad\",START-DATE=\"{}\",DURATION={:.3},X-TV-TWITCH-AD-POD-LENGTH=\"{}\"",
                    ad.at,
                    ad.segments,
                    format_time(self.wall_time(ad.at)),
                    self.segment_duration().as_secs_f64() * ad.segments as f64,
                    ad.segments
                );
            }
        }
        for index in first..edge {
            let n = media.segments.len() as u64;
            let _ = writeln!(
                out,
                "#EXT-X-PROGRAM-DATE-TIME:{}",
                format_time(self.wall_time(index))
            );
            match self.ad_at(index).filter(|_| !ad_free) {
                Some((ad, offset)) => {
                    // The last ad segment carries no `Amazon` title: recorders must also honour the DATERANGE.
                    let title = if offset + 1 < ad.segments {
                        "Amazon|stitched"
                    } else {
                        ""
                    };
                    let dur = self.segment_duration().as_secs_f64();
                    let _ = writeln!(out, "#EXTINF:{dur:.3},{title}\nad/{index}.{ext}");
                }
                None => {
                    let dur = media.segments[(index % n.max(1)) as usize].duration;
                    let query = if ad_free { "?ad_free=1" } else { "" };
                    let _ = writeln!(out, "#EXTINF:{dur:.3},live\nseg/{index}.{ext}{query}");
                }
            }
        }
        if self.end_at().is_some_and(|e| edge >= e) {
            out.push_str("#EXT-X-ENDLIST\n");
        } else {
            for next in edge..edge + 2 {
                let kind = if self.ad_at(next).is_some() && !ad_free {
                    "ad"
                } else {
                    "seg"
                };
                let _ = writeln!(out, "#EXT-X-TWITCH-PREFETCH:{kind}/{next}.{ext}");
            }
        }
        out
    }

    pub fn master_playlist(&self) -> String {
        let mut out = String::from("#EXTM3U\n");
        for v in &self.config.variants {
            // `1080p60__hevc` is the path and group; the rendition's name is `1080p60`.
            let name = v.name.split("__").next().unwrap_or(&v.name);
            let _ = writeln!(
                out,
                "#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"{}\",NAME=\"{name}\",AUTOSELECT=YES,DEFAULT=YES",
                v.name
            );
            let _ = writeln!(
                out,
                "#EXT-X-STREAM-INF:BANDWIDTH={},RESOLUTION={}x{},CODECS=\"{}\",VIDEO=\"{}\",FRAME-RATE={:.3}\n{}/index.m3u8",
                v.bandwidth, v.resolution.0, v.resolution.1, v.codecs, v.name, v.frame_rate, v.name
            );
        }
        out
    }
}

fn format_time(t: SystemTime) -> String {
    super::time_fmt::iso8601(t)
}
