//! Watch live (S9): a recording's own segments served again as an HLS playlist, by token.
//!
//! Every recording running in this process keeps an index of the segments its recorder wrote
//! (part, byte range, duration; 24 bytes a segment, about 1 MB for 24 h of 2 s segments).
//! A viewer gets a random token for one recording. Its playlist is an `EVENT` playlist from the
//! first segment this process recorded: players start at the live edge and can seek back to
//! the start (timeshift). Nothing is downloaded twice; segments are read from the part files.
//!
//! Segment names in the playlist are relative (`{n}.ts`, `{n}.m4s`, `init-{part}.mp4`), so the
//! playlist works under any base path; [`Streams::watch_file`] resolves them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::watch_relay::{Relay, Relayed, needs_h264};
use super::{Streams, StreamsResult};
use crate::auth::tokens::{random_token, sha256_hex};
use crate::time::Timestamp;
use tapearr_hls::{RecorderEvent, SegmentLocation};

/// How long a watch token is valid.
pub const WATCH_TOKEN_TTL: Duration = Duration::from_secs(6 * 3600);
/// After its recording ended, a watched index stays this long so players reach `ENDLIST`.
const ENDED_LINGER: Duration = Duration::from_secs(10 * 60);
/// Segments kept per recording (about 55 h of 2 s segments, 2.4 MB); older ones are dropped
/// and the playlist becomes a sliding window.
const MAX_SEGMENTS: usize = 100_000;
/// Tokens kept at once; beyond that the one expiring first is forgotten.
const MAX_TOKENS: usize = 10_000;

/// A viewer's access to one running recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchTicket {
    pub token: String,
    pub recording_id: String,
    pub expires_at: Timestamp,
    /// The recorded rendition's `CODECS` (empty when the source did not announce them).
    pub codecs: Vec<String>,
    /// The recording is not H.264: an H.264 rendition is relayed from Twitch for browsers
    /// that cannot play it ([`Streams::watch_h264_playlist`]).
    pub h264_relay: bool,
}

/// A file a watch playlist names.
#[derive(Debug, Clone)]
pub enum WatchFile {
    /// Bytes of the recording's own part file.
    Part(WatchRange),
    /// A segment of the H.264 rendition, fetched from Twitch.
    Relayed(Relayed),
}

/// A byte range of a part file to send as one playlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchRange {
    pub path: PathBuf,
    pub offset: u64,
    pub len: u64,
    pub content_type: &'static str,
}

/// The watch side of [`Streams`]: indexes of running recordings and the viewers' tokens.
#[derive(Clone, Default)]
pub(crate) struct Watch {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// By recording id: running ones, and ended ones that viewers still hold for a while.
    recordings: HashMap<String, Arc<Mutex<Index>>>,
    /// By SHA-256 of the token, like API keys (the token itself is never kept).
    tokens: HashMap<String, Viewer>,
}

struct Viewer {
    recording_id: String,
    expires_at: Timestamp,
}

struct Part {
    path: Arc<Path>,
    init_len: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    offset: u64,
    len: u32,
    millis: u32,
    part: u32,
    /// Starts a new part (recorder restart, rotation, new init) or follows a playlist reset.
    discontinuity: bool,
}

/// The segments one recording wrote in this process, in order.
pub(crate) struct Index {
    channel_id: String,
    pub(crate) login: String,
    /// The recorded rendition's `CODECS`, from the recorder's latest start.
    pub(crate) codecs: Vec<String>,
    pub(crate) relay: Relay,
    parts: Vec<Part>,
    segments: VecDeque<Entry>,
    /// Media sequence number of `segments[0]`.
    first_sequence: u64,
    /// Discontinuities dropped with the oldest segments (`EXT-X-DISCONTINUITY-SEQUENCE`).
    dropped_discontinuities: u64,
    /// The source's sequence numbers restarted: the next segment is discontinuous.
    reset: bool,
    max_millis: u32,
    ended: Option<Instant>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not stop recording or viewing.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Index {
    fn new(channel_id: &str, login: &str) -> Self {
        Self {
            channel_id: channel_id.to_string(),
            login: login.to_string(),
            codecs: Vec::new(),
            relay: Relay::default(),
            parts: Vec::new(),
            segments: VecDeque::new(),
            first_sequence: 0,
            dropped_discontinuities: 0,
            reset: false,
            max_millis: 0,
            ended: None,
        }
    }

    fn observe(&mut self, event: &RecorderEvent) {
        match event {
            RecorderEvent::SegmentWritten {
                duration,
                location: Some(location),
                ..
            } => self.add(location, *duration),
            RecorderEvent::PlaylistReset { .. } => self.reset = true,
            RecorderEvent::Started { codecs, .. } => self.codecs.clone_from(codecs),
            _ => {}
        }
    }

    fn add(&mut self, location: &SegmentLocation, seconds: f64) {
        // Segments are at most `LiveOptions::max_segment_bytes` (64 MiB by default).
        let Ok(len) = u32::try_from(location.len) else {
            return;
        };
        let new_part = self.parts.last().is_none_or(|p| p.path != location.path);
        if new_part {
            self.parts.push(Part {
                path: location.path.clone(),
                init_len: location.init_len,
            });
        }
        let first_ever = self.segments.is_empty() && self.first_sequence == 0;
        let millis = (seconds.max(0.0) * 1000.0).round().min(f64::from(u32::MAX)) as u32;
        self.max_millis = self.max_millis.max(millis);
        self.segments.push_back(Entry {
            offset: location.offset,
            len,
            millis,
            part: (self.parts.len() - 1) as u32,
            discontinuity: !first_ever && (new_part || self.reset),
        });
        self.reset = false;
        if self.segments.len() > MAX_SEGMENTS
            && let Some(dropped) = self.segments.pop_front()
        {
            self.first_sequence += 1;
            self.dropped_discontinuities += u64::from(dropped.discontinuity);
        }
    }

    fn is_fmp4(&self, entry: &Entry) -> bool {
        self.parts
            .get(entry.part as usize)
            .is_some_and(|p| p.init_len.is_some())
    }

    fn playlist(&self) -> String {
        let fmp4 = self.parts.iter().any(|p| p.init_len.is_some());
        let target = self.max_millis.div_ceil(1000).max(1);
        let mut out = String::with_capacity(128 + self.segments.len() * 40);
        // `EXT-X-MAP` in a media playlist needs version 6; float `EXTINF` needs 3.
        let _ = writeln!(out, "#EXTM3U\n#EXT-X-VERSION:{}", if fmp4 { 6 } else { 3 });
        // EVENT promises that nothing is removed: only true until the oldest are dropped.
        if self.first_sequence == 0 {
            out.push_str("#EXT-X-PLAYLIST-TYPE:EVENT\n");
        }
        let _ = writeln!(out, "#EXT-X-TARGETDURATION:{target}");
        let _ = writeln!(out, "#EXT-X-MEDIA-SEQUENCE:{}", self.first_sequence);
        if self.dropped_discontinuities > 0 {
            let _ = writeln!(
                out,
                "#EXT-X-DISCONTINUITY-SEQUENCE:{}",
                self.dropped_discontinuities
            );
        }
        let mut part = None;
        for (i, e) in self.segments.iter().enumerate() {
            if e.discontinuity {
                out.push_str("#EXT-X-DISCONTINUITY\n");
            }
            let fmp4 = self.is_fmp4(e);
            if part != Some(e.part) && fmp4 {
                let _ = writeln!(out, "#EXT-X-MAP:URI=\"init-{}.mp4\"", e.part);
            }
            part = Some(e.part);
            let n = self.first_sequence + i as u64;
            let ext = if fmp4 { "m4s" } else { "ts" };
            let _ = writeln!(
                out,
                "#EXTINF:{:.3},\n{n}.{ext}",
                f64::from(e.millis) / 1000.0
            );
        }
        if self.ended.is_some() {
            out.push_str("#EXT-X-ENDLIST\n");
        }
        out
    }

    /// Resolves a name from [`Self::playlist`].
    fn file(&self, name: &str) -> Option<WatchRange> {
        if let Some(part) = name
            .strip_prefix("init-")
            .and_then(|r| r.strip_suffix(".mp4"))
        {
            let part = self.parts.get(part.parse::<usize>().ok()?)?;
            return Some(WatchRange {
                path: part.path.to_path_buf(),
                offset: 0,
                len: part.init_len?,
                content_type: "video/mp4",
            });
        }
        let (n, ext) = name.split_once('.')?;
        let n: u64 = n.parse().ok()?;
        let i = usize::try_from(n.checked_sub(self.first_sequence)?).ok()?;
        let e = self.segments.get(i)?;
        let fmp4 = self.is_fmp4(e);
        let content_type = match (ext, fmp4) {
            ("ts", false) => "video/mp2t",
            ("m4s", true) => "video/iso.segment",
            _ => return None,
        };
        Some(WatchRange {
            path: self.parts.get(e.part as usize)?.path.to_path_buf(),
            offset: e.offset,
            len: u64::from(e.len),
            content_type,
        })
    }

    /// Still servable: running, or ended less than [`ENDED_LINGER`] ago.
    fn servable(&self) -> bool {
        self.ended.is_none_or(|t| t.elapsed() < ENDED_LINGER)
    }
}

impl Watch {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Starts the index of a recording this process now runs; it ends when the guard drops.
    pub(crate) fn open(&self, channel_id: &str, login: &str, recording_id: &str) -> WatchFeed {
        let mut state = self.state();
        state.purge(Timestamp::now());
        state.recordings.insert(
            recording_id.to_string(),
            Arc::new(Mutex::new(Index::new(channel_id, login))),
        );
        WatchFeed {
            watch: self.clone(),
            recording_id: recording_id.to_string(),
        }
    }

    /// Adds what the recorder reported to the recording's index.
    pub(crate) fn observe(&self, recording_id: &str, event: &RecorderEvent) {
        if !matches!(
            event,
            RecorderEvent::SegmentWritten { .. }
                | RecorderEvent::PlaylistReset { .. }
                | RecorderEvent::Started { .. }
        ) {
            return;
        }
        let index = self.state().recordings.get(recording_id).cloned();
        if let Some(index) = index {
            lock(&index).observe(event);
        }
    }

    /// A token for the channel's running recording, or `None` when none runs here.
    fn issue(&self, channel_id: &str, now: Timestamp) -> Option<WatchTicket> {
        let mut state = self.state();
        state.purge(now);
        let (recording_id, codecs) = state.recordings.iter().find_map(|(id, i)| {
            let i = lock(i);
            (i.ended.is_none() && i.channel_id == channel_id)
                .then(|| (id.clone(), i.codecs.clone()))
        })?;
        if state.tokens.len() >= MAX_TOKENS
            && let Some(oldest) = state
                .tokens
                .iter()
                .min_by_key(|(_, v)| v.expires_at)
                .map(|(k, _)| k.clone())
        {
            state.tokens.remove(&oldest);
        }
        let token = random_token("");
        let expires_at = now.plus(WATCH_TOKEN_TTL);
        state.tokens.insert(
            sha256_hex(&token),
            Viewer {
                recording_id: recording_id.clone(),
                expires_at,
            },
        );
        Some(WatchTicket {
            token,
            recording_id,
            expires_at,
            h264_relay: needs_h264(&codecs),
            codecs,
        })
    }

    /// The index a valid token opens.
    fn viewer(&self, token: &str, now: Timestamp) -> Option<Arc<Mutex<Index>>> {
        let state = self.state();
        let viewer = state.tokens.get(&sha256_hex(token))?;
        if viewer.expires_at <= now {
            return None;
        }
        let index = state.recordings.get(&viewer.recording_id)?.clone();
        drop(state);
        let servable = lock(&index).servable();
        servable.then_some(index)
    }

    /// The index a valid token opens now.
    pub(crate) fn viewer_index(&self, token: &str) -> Option<Arc<Mutex<Index>>> {
        self.viewer(token, Timestamp::now())
    }
}

impl State {
    /// Forgets expired tokens, and ended indexes nobody may view any more.
    fn purge(&mut self, now: Timestamp) {
        let State { recordings, tokens } = self;
        tokens.retain(|_, v| v.expires_at > now);
        let viewed: HashSet<&str> = tokens.values().map(|v| v.recording_id.as_str()).collect();
        recordings.retain(|id, i| {
            let i = lock(i);
            i.ended.is_none() || (i.servable() && viewed.contains(id.as_str()))
        });
        tokens.retain(|_, v| recordings.contains_key(&v.recording_id));
    }
}

/// Held by a recording's supervisor: when it drops, the recording's playlist ends, and the
/// index goes at once unless a viewer holds a token for it.
pub(crate) struct WatchFeed {
    watch: Watch,
    recording_id: String,
}

impl Drop for WatchFeed {
    fn drop(&mut self) {
        let mut state = self.watch.state();
        if let Some(index) = state.recordings.get(&self.recording_id) {
            lock(index).ended = Some(Instant::now());
        }
        state.purge(Timestamp::now());
    }
}

impl Streams {
    /// A viewer token for the channel's recording running in this process; `None` when the
    /// channel has none here.
    pub async fn watch(&self, channel_id: &str) -> StreamsResult<Option<WatchTicket>> {
        self.channel(channel_id).await?;
        Ok(self.inner.watch.issue(channel_id, Timestamp::now()))
    }

    /// The HLS playlist of the token's recording; `None` for an unknown or expired token.
    pub fn watch_playlist(&self, token: &str) -> Option<String> {
        let index = self.inner.watch.viewer(token, Timestamp::now())?;
        let playlist = lock(&index).playlist();
        Some(playlist)
    }

    /// A playlist entry: where a recorded one (`{n}.ts`, `{n}.m4s`, `init-{part}.mp4`) lies,
    /// or a relayed H.264 one (`h264-…`) fetched from Twitch; `Ok(None)` for an unknown or
    /// expired token or an unknown name.
    pub async fn watch_file(&self, token: &str, name: &str) -> StreamsResult<Option<WatchFile>> {
        if name.starts_with("h264-") {
            return Ok(self
                .watch_relayed(token, name)
                .await?
                .map(WatchFile::Relayed));
        }
        let Some(index) = self.inner.watch.viewer_index(token) else {
            return Ok(None);
        };
        let range = lock(&index).file(name);
        Ok(range.map(WatchFile::Part))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &Arc<Path>, offset: u64, len: u64, init_len: Option<u64>) -> RecorderEvent {
        RecorderEvent::SegmentWritten {
            sequence: 0,
            duration: 2.002,
            bytes: len,
            part: 1,
            program_date_time: None,
            location: Some(SegmentLocation {
                path: path.clone(),
                offset,
                len,
                init_len,
            }),
        }
    }

    #[test]
    fn playlist_lists_every_segment_with_discontinuities_and_endlist() {
        let watch = Watch::default();
        let feed = watch.open("ch", "login", "rec");
        let p1: Arc<Path> = Arc::from(Path::new("/r/x.part0001.ts"));
        let p2: Arc<Path> = Arc::from(Path::new("/r/x.part0002.ts"));
        watch.observe("rec", &at(&p1, 0, 100, None));
        watch.observe("rec", &at(&p1, 100, 50, None));
        // A recorder restart writes into a new part.
        watch.observe("rec", &at(&p2, 0, 70, None));
        watch.observe("rec", &RecorderEvent::PlaylistReset { from: 9, to: 1 });
        watch.observe("rec", &at(&p2, 70, 80, None));
        // Real time: dropping the feed purges by the clock.
        let now = Timestamp::now();
        let ticket = watch.issue("ch", now).expect("ticket");
        assert_eq!(ticket.recording_id, "rec");
        assert_eq!(ticket.expires_at, now.plus(WATCH_TOKEN_TTL));
        assert!(ticket.token.len() >= 43, "256 bits in base64");
        let index = watch.viewer(&ticket.token, now).expect("valid");
        let expected = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:EVENT\n\
            #EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n\
            #EXTINF:2.002,\n0.ts\n#EXTINF:2.002,\n1.ts\n\
            #EXT-X-DISCONTINUITY\n#EXTINF:2.002,\n2.ts\n\
            #EXT-X-DISCONTINUITY\n#EXTINF:2.002,\n3.ts\n";
        assert_eq!(lock(&index).playlist(), expected);
        assert_eq!(
            lock(&index).file("1.ts"),
            Some(WatchRange {
                path: PathBuf::from("/r/x.part0001.ts"),
                offset: 100,
                len: 50,
                content_type: "video/mp2t",
            })
        );
        assert_eq!(lock(&index).file("3.ts").map(|r| r.offset), Some(70));
        for bad in ["4.ts", "1.m4s", "init-0.mp4", "x.ts", "-1.ts", "index.m3u8"] {
            assert_eq!(lock(&index).file(bad), None, "{bad}");
        }
        // No new ticket once the recording ended, but the viewer's playlist ends properly.
        drop(feed);
        assert!(watch.issue("ch", now).is_none());
        let index = watch.viewer(&ticket.token, now).expect("lingers");
        assert!(lock(&index).playlist().ends_with("3.ts\n#EXT-X-ENDLIST\n"));
    }

    #[test]
    fn fmp4_parts_announce_their_init_sections() {
        let watch = Watch::default();
        let _feed = watch.open("ch", "login", "rec");
        let p1: Arc<Path> = Arc::from(Path::new("/r/x.part0001.mp4"));
        let p2: Arc<Path> = Arc::from(Path::new("/r/x.part0002.mp4"));
        watch.observe("rec", &at(&p1, 700, 100, Some(700)));
        watch.observe("rec", &at(&p2, 650, 100, Some(650)));
        let ticket = watch.issue("ch", Timestamp(0)).expect("ticket");
        assert!(ticket.codecs.is_empty() && !ticket.h264_relay, "{ticket:?}");
        // The recorder announces an HEVC rendition: viewers are offered the H.264 relay too.
        watch.observe(
            "rec",
            &RecorderEvent::Started {
                playlist_url: "https://x/1440p60__hevc/index.m3u8".into(),
                variant: Some("1440p60".into()),
                codecs: vec!["hvc1.1.2.L153.B0".into(), "mp4a.40.2".into()],
            },
        );
        let ticket = watch.issue("ch", Timestamp(0)).expect("ticket");
        assert!(ticket.h264_relay, "{ticket:?}");
        assert_eq!(ticket.codecs, ["hvc1.1.2.L153.B0", "mp4a.40.2"]);
        let index = watch.viewer(&ticket.token, Timestamp(0)).expect("valid");
        let playlist = lock(&index).playlist();
        assert!(playlist.contains("#EXT-X-VERSION:6\n"), "{playlist}");
        assert!(
            playlist.contains(
                "#EXT-X-MAP:URI=\"init-0.mp4\"\n#EXTINF:2.002,\n0.m4s\n\
                 #EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-1.mp4\"\n#EXTINF:2.002,\n1.m4s\n"
            ),
            "{playlist}"
        );
        let init = lock(&index).file("init-1.mp4").expect("init");
        assert_eq!(
            (init.offset, init.len, init.content_type),
            (0, 650, "video/mp4")
        );
        assert_eq!(
            lock(&index).file("0.m4s").map(|r| r.content_type),
            Some("video/iso.segment")
        );
    }

    #[test]
    fn unknown_and_expired_tokens_are_refused() {
        let watch = Watch::default();
        assert!(watch.issue("ch", Timestamp(0)).is_none(), "nothing running");
        let _feed = watch.open("ch", "login", "rec");
        let ticket = watch.issue("ch", Timestamp(0)).expect("ticket");
        assert!(watch.viewer("made-up", Timestamp(0)).is_none());
        let expiry = ticket.expires_at;
        assert!(
            watch
                .viewer(&ticket.token, expiry.minus(Duration::from_millis(1)))
                .is_some()
        );
        assert!(watch.viewer(&ticket.token, expiry).is_none());
        // Expired tokens are forgotten by the next purge.
        watch.state().purge(expiry);
        assert!(watch.state().tokens.is_empty());
    }

    #[test]
    fn an_unwatched_recording_is_dropped_when_it_ends() {
        let watch = Watch::default();
        drop(watch.open("ch", "login", "rec"));
        assert!(watch.state().recordings.is_empty());
    }

    #[test]
    fn the_oldest_segments_go_past_the_limit() {
        let mut index = Index::new("ch", "login");
        let p: Arc<Path> = Arc::from(Path::new("/r/x.part0001.ts"));
        for i in 0..MAX_SEGMENTS as u64 + 2 {
            index.add(
                &SegmentLocation {
                    path: p.clone(),
                    offset: i * 10,
                    len: 10,
                    init_len: None,
                },
                2.0,
            );
        }
        assert_eq!(index.segments.len(), MAX_SEGMENTS);
        assert_eq!(index.first_sequence, 2);
        let playlist = index.playlist();
        assert!(!playlist.contains("PLAYLIST-TYPE"));
        assert!(playlist.contains("#EXT-X-MEDIA-SEQUENCE:2\n#EXTINF:2.000,\n2.ts\n"));
        assert_eq!(index.file("1.ts"), None);
        assert_eq!(index.file("2.ts").map(|r| r.offset), Some(20));
    }
}
