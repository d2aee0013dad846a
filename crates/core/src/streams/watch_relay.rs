//! Watch live for browsers that cannot play the recorded rendition (#16): a channel recorded
//! in HEVC or AV1 (Enhanced Broadcasting) is also offered as Twitch's H.264 rendition of the
//! same broadcast, relayed through Tapearr. The H.264 media playlist is fetched from Twitch at
//! each request and rewritten so that every segment is fetched through this server by its
//! sequence number: Twitch's signed URLs never reach the browser, and only URLs Twitch listed
//! for this recording can be fetched (no open proxy). This is the one place watch-live
//! downloads a second time; the recorded rendition is still served from the part files.
//!
//! Known limit: the relay passes Twitch's stitched ads through (the recorder leaves them out).

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tapearr_hls::playlist::{CodecFamily, Playlist, codec_family};
use tapearr_hls::quality::{CodecAllowList, QualitySpec, choose_variant};
use url::Url;

use super::{Streams, StreamsError, StreamsResult};

/// The H.264 variant's URL is asked from Twitch again after this (its token expires in ~20 min).
const SOURCE_TTL: Duration = Duration::from_secs(5 * 60);
/// Segment URLs remembered per recording: a few playlists' worth.
const KEPT_SEGMENTS: usize = 64;
const KEPT_INITS: usize = 4;
/// A relayed segment is read whole; Twitch's are a few MB.
const MAX_SEGMENT_BYTES: usize = 64 * 1024 * 1024;
const MAX_PLAYLIST_BYTES: usize = 1024 * 1024;

/// The recorded rendition is one a browser may not play: its video is not H.264.
pub fn needs_h264(codecs: &[String]) -> bool {
    codecs
        .iter()
        .map(|c| codec_family(c))
        .any(|f| matches!(f, CodecFamily::H265 | CodecFamily::Av1 | CodecFamily::Other))
}

/// One relayed file, read whole.
#[derive(Debug, Clone)]
pub struct Relayed {
    pub content_type: &'static str,
    pub bytes: Bytes,
}

/// What one recording's relay remembers.
#[derive(Default)]
pub(crate) struct Relay {
    /// The H.264 media playlist's URL and when it was asked for.
    source: Option<(Url, Instant)>,
    /// Sequence number → segment URL, the newest [`KEPT_SEGMENTS`].
    segments: BTreeMap<u64, Url>,
    /// Init sections (`EXT-X-MAP`), numbered from `first_init`.
    inits: VecDeque<Url>,
    first_init: u64,
}

fn is_fmp4(url: &Url) -> bool {
    let path = url.path();
    path.ends_with(".mp4") || path.ends_with(".m4s")
}

impl Relay {
    fn fresh_source(&self) -> Option<Url> {
        self.source
            .as_ref()
            .filter(|(_, at)| at.elapsed() < SOURCE_TTL)
            .map(|(u, _)| u.clone())
    }

    fn init_number(&mut self, url: Url) -> u64 {
        if let Some(i) = self.inits.iter().position(|u| *u == url) {
            return self.first_init + i as u64;
        }
        self.inits.push_back(url);
        if self.inits.len() > KEPT_INITS {
            self.inits.pop_front();
            self.first_init += 1;
        }
        self.first_init + self.inits.len() as u64 - 1
    }

    /// Twitch's media playlist with its URIs replaced by `h264-{sequence}.{ts|m4s}` and
    /// `h264-init-{n}.mp4`; Twitch's prefetch hints are left out (plain HLS players ignore
    /// them, and they would name URLs this relay does not serve).
    pub(crate) fn rewrite(&mut self, base: &Url, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut sequence = 0u64;
        for line in text.lines().map(str::trim) {
            if let Some(n) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
                sequence = n.trim().parse().unwrap_or(0);
                out.push_str(line);
            } else if line.starts_with("#EXT-X-TWITCH-PREFETCH") || line.is_empty() {
                continue;
            } else if let Some(rest) = line.strip_prefix("#EXT-X-MAP:") {
                let Some(uri) = map_uri(rest).and_then(|u| base.join(u).ok()) else {
                    continue;
                };
                let n = self.init_number(uri);
                let _ = write!(out, "#EXT-X-MAP:URI=\"h264-init-{n}.mp4\"");
            } else if line.starts_with('#') {
                out.push_str(line);
            } else {
                let Ok(url) = base.join(line) else { continue };
                let ext = if is_fmp4(&url) { "m4s" } else { "ts" };
                let _ = write!(out, "h264-{sequence}.{ext}");
                self.segments.insert(sequence, url);
                sequence += 1;
            }
            out.push('\n');
        }
        while self.segments.len() > KEPT_SEGMENTS {
            self.segments.pop_first();
        }
        out
    }

    /// The Twitch URL and content type behind a name from [`Self::rewrite`].
    pub(crate) fn resolve(&self, name: &str) -> Option<(Url, &'static str)> {
        let rest = name.strip_prefix("h264-")?;
        if let Some(n) = rest
            .strip_prefix("init-")
            .and_then(|r| r.strip_suffix(".mp4"))
        {
            let i = n.parse::<u64>().ok()?.checked_sub(self.first_init)?;
            let url = self.inits.get(usize::try_from(i).ok()?)?;
            return Some((url.clone(), "video/mp4"));
        }
        let (n, ext) = rest.split_once('.')?;
        let url = self.segments.get(&n.parse::<u64>().ok()?)?;
        let content_type = match (ext, is_fmp4(url)) {
            ("ts", false) => "video/mp2t",
            ("m4s", true) => "video/iso.segment",
            _ => return None,
        };
        Some((url.clone(), content_type))
    }
}

/// The `URI` of an `EXT-X-MAP` attribute list.
fn map_uri(attributes: &str) -> Option<&str> {
    let start = attributes.find("URI=\"")? + 5;
    let len = attributes[start..].find('"')?;
    Some(&attributes[start..start + len])
}

/// A relay request that failed at Twitch, without the (signed) URL in the message.
fn upstream(what: &str, e: impl std::fmt::Display) -> StreamsError {
    StreamsError::Twitch(format!("{what}: {e}"))
}

impl Streams {
    /// GET with a size limit; the error never names the URL (it carries Twitch's token).
    async fn relay_get(&self, url: &Url, max: usize, what: &str) -> StreamsResult<Bytes> {
        let response = self
            .inner
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|e| upstream(what, e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(upstream(what, format!("HTTP {}", status.as_u16())));
        }
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Err(upstream(what, "too large"));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| upstream(what, e.without_url()))?;
        if bytes.len() > max {
            return Err(upstream(what, "too large"));
        }
        Ok(bytes)
    }

    /// The URL of the broadcast's best H.264 rendition, asked from Twitch's usher.
    async fn h264_source(&self, login: &str) -> StreamsResult<Url> {
        let master = self
            .master_playlist(login, &["h264".to_string()])
            .await?
            .ok_or_else(|| StreamsError::Offline(login.to_string()))?;
        let master_url = Url::parse(&master.url).map_err(|e| upstream("master playlist URL", e))?;
        let text = self
            .relay_get(&master_url, MAX_PLAYLIST_BYTES, "master playlist")
            .await?;
        let text = String::from_utf8_lossy(&text);
        let variants = match Playlist::parse(&text) {
            Ok(Playlist::Master(m)) => m.variants,
            Ok(Playlist::Media(_)) => return Ok(master_url),
            Err(e) => return Err(upstream("master playlist", e)),
        };
        let h264 = CodecAllowList(vec![CodecFamily::H264]);
        let variant = choose_variant(&variants, &QualitySpec::default(), &h264)
            .filter(|v| !v.is_audio_only())
            .ok_or_else(|| upstream("master playlist", "no H.264 rendition"))?;
        master_url
            .join(&variant.uri)
            .map_err(|e| upstream("variant URL", e))
    }

    /// The H.264 relay playlist of the token's recording; `Ok(None)` for an unknown or expired
    /// token or a recording whose rendition browsers play anyway (H.264).
    pub async fn watch_h264_playlist(&self, token: &str) -> StreamsResult<Option<String>> {
        let Some(index) = self.inner.watch.viewer_index(token) else {
            return Ok(None);
        };
        let (login, cached) = {
            let i = super::watch::lock(&index);
            if !needs_h264(&i.codecs) {
                return Ok(None);
            }
            (i.login.clone(), i.relay.fresh_source())
        };
        // A cached URL whose token expired answers 403: ask the usher once more.
        let mut source = match &cached {
            Some(url) => url.clone(),
            None => self.h264_source(&login).await?,
        };
        let mut fetched = self
            .relay_get(&source, MAX_PLAYLIST_BYTES, "H.264 playlist")
            .await;
        if fetched.is_err() && cached.is_some() {
            source = self.h264_source(&login).await?;
            fetched = self
                .relay_get(&source, MAX_PLAYLIST_BYTES, "H.264 playlist")
                .await;
        }
        let text = fetched?;
        let text = String::from_utf8_lossy(&text);
        let mut i = super::watch::lock(&index);
        if i.relay.fresh_source().as_ref() != Some(&source) {
            i.relay.source = Some((source.clone(), Instant::now()));
        }
        Ok(Some(i.relay.rewrite(&source, &text)))
    }

    /// A segment or init section named by [`Self::watch_h264_playlist`], fetched from Twitch.
    pub(crate) async fn watch_relayed(
        &self,
        token: &str,
        name: &str,
    ) -> StreamsResult<Option<Relayed>> {
        let Some(index) = self.inner.watch.viewer_index(token) else {
            return Ok(None);
        };
        let Some((url, content_type)) = super::watch::lock(&index).relay.resolve(name) else {
            return Ok(None);
        };
        let bytes = self
            .relay_get(&url, MAX_SEGMENT_BYTES, "H.264 segment")
            .await?;
        Ok(Some(Relayed {
            content_type,
            bytes,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hevc_av1_and_unknown_video_need_the_h264_rendition() {
        let c = |s: &[&str]| s.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert!(needs_h264(&c(&["hvc1.1.2.L153.B0", "mp4a.40.2"])));
        assert!(needs_h264(&c(&["av01.0.12M.10", "mp4a.40.2"])));
        assert!(!needs_h264(&c(&["avc1.42c01e", "mp4a.40.2"])));
        assert!(
            !needs_h264(&c(&[])),
            "unknown: the recording is served as is"
        );
    }

    #[test]
    fn the_playlist_names_only_what_the_relay_serves() {
        let base =
            Url::parse("https://cdn.example/v1/1080p60/index.m3u8?sig=s&token=t").expect("url");
        let text = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:41\n\
            #EXT-X-MAP:URI=\"init.mp4?x=1\"\n#EXTINF:2.000,live\nseg/41.m4s\n\n\
            #EXTINF:2.000,live\nhttps://other.example/42.m4s\n\
            #EXT-X-TWITCH-PREFETCH:seg/43.m4s\n";
        let mut relay = Relay::default();
        let out = relay.rewrite(&base, text);
        assert_eq!(
            out,
            "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:41\n\
             #EXT-X-MAP:URI=\"h264-init-0.mp4\"\n#EXTINF:2.000,live\nh264-41.m4s\n\
             #EXTINF:2.000,live\nh264-42.m4s\n"
        );
        let (url, ct) = relay.resolve("h264-41.m4s").expect("listed");
        assert_eq!(url.as_str(), "https://cdn.example/v1/1080p60/seg/41.m4s");
        assert_eq!(ct, "video/iso.segment");
        assert_eq!(
            relay.resolve("h264-init-0.mp4").map(|(u, _)| u.to_string()),
            Some("https://cdn.example/v1/1080p60/init.mp4?x=1".to_string())
        );
        for bad in [
            "h264-43.m4s",
            "h264-41.ts",
            "h264-init-1.mp4",
            "41.m4s",
            "h264-x.m4s",
        ] {
            assert!(relay.resolve(bad).is_none(), "{bad}");
        }
        // Old segments are forgotten past the limit.
        for n in 0..KEPT_SEGMENTS as u64 + 10 {
            relay.rewrite(
                &base,
                &format!("#EXT-X-MEDIA-SEQUENCE:{}\n#EXTINF:2,\n{n}.ts\n", 100 + n),
            );
        }
        assert!(relay.resolve("h264-41.m4s").is_none());
        assert_eq!(relay.segments.len(), KEPT_SEGMENTS);
    }
}
