//! Past broadcasts and clips: what Helix `/videos` and `/clips` list, the VOD playback path
//! (GQL `PlaybackAccessToken` with `isVod`, usher's `/vod/{id}.m3u8`, the `index-dvr.m3u8`
//! media playlist and its numbered TS segments, muted ones named `N-muted.ts`, or for fMP4
//! media (HEVC/AV1 "enhanced broadcasting") `EXT-X-MAP:URI="init-0.mp4"` and `N.mp4`
//! fragments), and clip files
//! (GQL `VideoAccessToken_Clip` → a signed MP4 URL).
//!
//! Ugly parts on demand ([`VodFaults`]): a segment that answers 503 once, a body cut short once,
//! a segment held until released (a download in flight when a test kills the process), a
//! segment refused (403) until accepted again; the
//! playback token expires like the live one (usher and the media playlist answer 403).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Shared;
use super::video_gql::{CommentRequests, GqlFault, VideoChatComment, VideoGameMoment};
use super::wire::{rfc3339_secs, unix_secs};
use crate::hls_origin::MediaSet;
use crate::hls_origin::media::VideoCodec;

/// What a past broadcast (or highlight, or upload) is made of.
#[derive(Debug, Clone)]
pub struct VideoSpec {
    pub title: String,
    /// `archive`, `highlight` or `upload`.
    pub kind: String,
    pub created_at: SystemTime,
    /// Segments in the media playlist (each one of the media set's, in order, looping).
    pub segments: u32,
    /// Segment numbers Twitch muted (copyrighted audio): served as `N-muted.ts`.
    pub muted: Vec<u32>,
    /// The live broadcast it archives (`stream_id`), for archives.
    pub stream_id: Option<String>,
    pub view_count: u64,
    /// Its chat replay, by offset (GQL `VideoCommentsByOffsetOrCursor`).
    pub comments: Vec<VideoChatComment>,
    /// Its game changes (GQL `VideoPlayer_ChapterSelectButtonVideo`).
    pub moments: Vec<VideoGameMoment>,
    /// Only the channel's subscribers may watch it ([`super::FakeTwitch::subscribe`]): other
    /// viewers get a token whose `chansub.restricted_bitrates` names every rendition, and
    /// usher refuses it.
    pub sub_only: bool,
}

impl VideoSpec {
    /// An archive of `segments` segments created `age` ago.
    pub fn archive(title: &str, age: Duration, segments: u32) -> Self {
        Self {
            title: title.to_owned(),
            kind: "archive".into(),
            created_at: SystemTime::now()
                .checked_sub(age)
                .unwrap_or(SystemTime::UNIX_EPOCH),
            segments,
            muted: Vec::new(),
            stream_id: None,
            view_count: 100,
            comments: Vec::new(),
            moments: Vec::new(),
            sub_only: false,
        }
    }

    /// For the channel's subscribers only.
    pub fn sub_only(mut self) -> Self {
        self.sub_only = true;
        self
    }

    /// Its chat replay (sorted by offset, as Twitch pages it).
    pub fn comments(mut self, mut comments: Vec<VideoChatComment>) -> Self {
        comments.sort_by_key(|c| c.offset_secs);
        self.comments = comments;
        self
    }

    pub fn moments(mut self, moments: Vec<VideoGameMoment>) -> Self {
        self.moments = moments;
        self
    }

    pub fn kind(mut self, kind: &str) -> Self {
        self.kind = kind.to_owned();
        self
    }

    pub fn muted(mut self, segments: &[u32]) -> Self {
        self.muted = segments.to_vec();
        self
    }

    pub fn stream_id(mut self, id: &str) -> Self {
        self.stream_id = Some(id.to_owned());
        self
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Video {
    pub id: String,
    pub user_id: String,
    pub spec: VideoSpec,
    pub media: Arc<MediaSet>,
}

impl Video {
    fn segment_ms(&self) -> u64 {
        u64::from(self.media.params.segment_ms)
    }

    fn duration_secs(&self) -> u64 {
        u64::from(self.spec.segments) * self.segment_ms() / 1000
    }

    fn segment(&self, n: u32) -> Option<Bytes> {
        if n >= self.spec.segments || self.media.segments.is_empty() {
            return None;
        }
        let i = n as usize % self.media.segments.len();
        Some(self.media.segments[i].bytes.clone())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Clip {
    pub id: String,
    pub broadcaster_id: String,
    pub title: String,
    pub view_count: u64,
    pub created_at: SystemTime,
    pub duration: f64,
    pub video_id: String,
    pub vod_offset: Option<u64>,
}

/// Injected faults and what the VOD endpoints saw.
#[derive(Default)]
pub(crate) struct VodState {
    pub videos: Vec<Video>,
    pub clips: Vec<Clip>,
    pub clip_media: Option<Bytes>,
    pub fail_once: HashSet<(String, u32)>,
    pub cut_once: HashSet<(String, u32)>,
    pub hold: HashSet<(String, u32)>,
    /// Answered 403 until cleared (an origin refusing the segment).
    pub refuse: HashSet<(String, u32)>,
    /// Segment requests per (video id, segment number), faults included.
    pub segment_requests: HashMap<(String, u32), u64>,
    pub playlist_requests: u64,
    pub clip_downloads: HashMap<String, u64>,
    /// Chat replay faults, requests and page size (0: Twitch's usual).
    pub chat_faults: HashMap<String, GqlFault>,
    pub comment_requests: HashMap<String, CommentRequests>,
    pub comment_page_size: usize,
    pub moments_faults: HashMap<String, GqlFault>,
    pub moments_requests: u64,
    /// Videos whose chat requests wait once this many were answered.
    pub chat_hold: HashMap<String, u64>,
    /// Chat requests that waited.
    pub chat_held: u64,
    /// (viewer user id, broadcaster user id): who may watch subscriber-only videos.
    pub subscribers: HashSet<(String, String)>,
}

/// `1h2m3s`, as Helix writes a video's duration.
pub fn helix_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

pub(crate) fn video_json(v: &Video, login: &str, name: &str, base: &str) -> Value {
    let seg_secs = v.segment_ms() as f64 / 1000.0;
    let muted: Option<Vec<Value>> = (!v.spec.muted.is_empty()).then(|| {
        v.spec
            .muted
            .iter()
            .map(|n| json!({"duration": seg_secs as u64, "offset": (f64::from(*n) * seg_secs) as u64}))
            .collect()
    });
    json!({
        "id": v.id, "stream_id": v.spec.stream_id, "user_id": v.user_id, "user_login": login,
        "user_name": name, "title": v.spec.title, "description": "",
        "created_at": rfc3339_secs(v.spec.created_at), "published_at": rfc3339_secs(v.spec.created_at),
        "url": format!("https://www.twitch.tv/videos/{}", v.id),
        "thumbnail_url": format!("{base}/img/vod-{}-%{{width}}x%{{height}}.png", v.id),
        "viewable": "public", "view_count": v.spec.view_count, "language": "en",
        "type": v.spec.kind, "duration": helix_duration(v.duration_secs()),
        "muted_segments": muted,
    })
}

pub(crate) fn clip_json(c: &Clip, login: &str, name: &str, base: &str) -> Value {
    json!({
        "id": c.id, "url": format!("https://clips.twitch.tv/{}", c.id),
        "embed_url": format!("https://clips.twitch.tv/embed?clip={}", c.id),
        "broadcaster_id": c.broadcaster_id, "broadcaster_name": name, "creator_id": "1",
        "creator_name": "clipper", "video_id": c.video_id, "game_id": "", "language": "en",
        "title": c.title, "view_count": c.view_count, "created_at": rfc3339_secs(c.created_at),
        "thumbnail_url": format!("{base}/img/clip-{}-480x272.png", c.id),
        "duration": c.duration, "vod_offset": c.vod_offset, "is_featured": false,
        "broadcaster_login": login,
    })
}

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/vod/{file}", get(usher_vod))
        .route("/vod-cdn/{id}/chunked/{file}", get(vod_file))
        .route("/clip-cdn/{file}", get(clip_file))
}

fn param<'a>(q: &'a [(String, String)], k: &str) -> &'a str {
    q.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The VOD token for `vod_id` (GQL's `videoPlaybackAccessToken`), `null` for an unknown VOD.
pub(crate) fn vod_token(s: &Shared, vod_id: &str, viewer: Option<&str>) -> Value {
    let ttl = {
        let mut p = s.playback();
        p.tokens_issued += 1;
        p.token_ttl
    };
    let restricted: Vec<&str> = {
        let vods = s.vods();
        let Some(video) = vods.videos.iter().find(|v| v.id == vod_id) else {
            return Value::Null;
        };
        let subscribed = viewer.is_some_and(|viewer| {
            vods.subscribers
                .contains(&(viewer.to_owned(), video.user_id.clone()))
        });
        if video.spec.sub_only && !subscribed {
            vec!["chunked"]
        } else {
            Vec::new()
        }
    };
    let value = json!({
        "authorization": {"forbidden": false, "reason": ""}, "chansub": {"restricted_bitrates": restricted},
        "device_id": null, "expires": unix_secs(SystemTime::now() + ttl), "https_required": true,
        "privileged": false, "user_id": viewer, "version": 2, "vod_id": vod_id.parse::<u64>().unwrap_or(0),
    })
    .to_string();
    json!({"value": value, "signature": super::playback::sign(s, &value), "__typename": "PlaybackAccessToken"})
}

/// GQL's `VideoAccessToken_Clip` answer: the clip's signed qualities, `null` for an unknown slug.
pub(crate) fn clip_token(s: &Shared, slug: &str) -> Value {
    let ttl = s.playback().token_ttl;
    if !s.vods().clips.iter().any(|c| c.id == slug) {
        return Value::Null;
    }
    let value = json!({
        "authorization": {"forbidden": false, "reason": ""}, "clip_uri": "",
        "expires": unix_secs(SystemTime::now() + ttl), "user_id": null, "version": 3,
        "clip_slug": slug,
    })
    .to_string();
    json!({
        "id": slug, "__typename": "Clip",
        "playbackAccessToken": {"signature": super::playback::sign(s, &value), "value": value, "__typename": "PlaybackAccessToken"},
        "videoQualities": [
            {"frameRate": 30.0, "quality": "720", "sourceURL": format!("{}/clip-cdn/{slug}.mp4", s.base), "__typename": "ClipVideoQuality"},
        ],
    })
}

/// The token's claims when genuine, for this VOD, and not expired; otherwise usher's 403.
fn check_vod_token(s: &Shared, vod_id: &str, sig: &str, token: &str) -> Result<(), Response> {
    let claims = serde_json::from_str::<Value>(token).unwrap_or(Value::Null);
    let id = claims
        .get("vod_id")
        .and_then(Value::as_u64)
        .map(|n| n.to_string());
    if sig.is_empty() || sig != super::playback::sign(s, token) || id.as_deref() != Some(vod_id) {
        return Err(super::playback::usher_error(
            StatusCode::FORBIDDEN,
            "Unauthorized",
            "vod_manifest_restricted",
        ));
    }
    let expires = claims.get("expires").and_then(Value::as_u64).unwrap_or(0);
    if unix_secs(SystemTime::now()) >= expires {
        s.playback().expired_refusals += 1;
        return Err(super::playback::usher_error(
            StatusCode::FORBIDDEN,
            "Token has expired",
            "token_expired",
        ));
    }
    // The only rendition is restricted: a subscriber-only video for this viewer.
    let restricted = claims
        .pointer("/chansub/restricted_bitrates")
        .and_then(Value::as_array)
        .is_some_and(|r| r.iter().any(|q| q == "chunked"));
    if restricted {
        return Err(super::playback::usher_error(
            StatusCode::FORBIDDEN,
            "Unauthorized",
            "vod_manifest_restricted",
        ));
    }
    Ok(())
}

/// Usher's VOD master playlist: one `chunked` (source) rendition.
async fn usher_vod(
    State(s): State<Arc<Shared>>,
    Path(file): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let Some(id) = file.strip_suffix(".m3u8") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (sig, token) = (param(&q, "sig"), param(&q, "token"));
    if let Err(refusal) = check_vod_token(&s, id, sig, token) {
        return refusal;
    }
    let Some(video) = s.vods().videos.iter().find(|v| v.id == id).cloned() else {
        return super::playback::usher_error(
            StatusCode::NOT_FOUND,
            "vod does not exist",
            "vod_manifest_not_found",
        );
    };
    let p = &video.media.params;
    let signed = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("sig", sig)
        .append_pair("token", token)
        .finish();
    let body = format!(
        "#EXTM3U\n#EXT-X-TWITCH-INFO:ORIGIN=\"s3\",B=\"false\",REGION=\"EU\"\n\
         #EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID=\"chunked\",NAME=\"{h}p{fps} (source)\",AUTOSELECT=YES,DEFAULT=YES\n\
         #EXT-X-STREAM-INF:BANDWIDTH={bw},CODECS=\"{codec},mp4a.40.2\",RESOLUTION={w}x{h},VIDEO=\"chunked\",FRAME-RATE={fps}.000\n\
         {base}/vod-cdn/{id}/chunked/index-dvr.m3u8?{signed}\n",
        h = p.height,
        w = p.width,
        fps = p.fps,
        bw = u64::from(p.video_kbps) * 1000 + 128_000,
        codec = match p.video {
            VideoCodec::H264 => "avc1.42c01e",
            VideoCodec::Hevc => "hvc1.1.6.L93.B0",
            VideoCodec::Av1 => "av01.0.08M.08",
        },
        base = s.base,
    );
    ([("content-type", "application/vnd.apple.mpegurl")], body).into_response()
}

/// The media playlist (`index-dvr.m3u8`, token checked) and its segments (`N.ts`,
/// `N-muted.ts`, or `init-0.mp4` and `N.mp4` for fMP4 media; unsigned, like Twitch's CDN).
async fn vod_file(
    State(s): State<Arc<Shared>>,
    Path((id, file)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let Some(video) = s.vods().videos.iter().find(|v| v.id == id).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if file == "index-dvr.m3u8" {
        s.vods().playlist_requests += 1;
        if let Err(refusal) = check_vod_token(&s, &id, param(&q, "sig"), param(&q, "token")) {
            return refusal;
        }
        return (
            [("content-type", "application/vnd.apple.mpegurl")],
            media_playlist(&video),
        )
            .into_response();
    }
    let fmp4 = video.media.init.clone();
    if file == "init-0.mp4" {
        return match fmp4 {
            Some(init) => ([("content-type", "video/mp4")], init).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    let (ext, content_type) = if fmp4.is_some() {
        (".mp4", "video/mp4")
    } else {
        (".ts", "video/mp2t")
    };
    let Some(stem) = file.strip_suffix(ext) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (number, muted) = match stem.strip_suffix("-muted") {
        Some(n) => (n, true),
        None => (stem, false),
    };
    let Ok(n) = number.parse::<u32>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if video.spec.muted.contains(&n) != muted {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(bytes) = video.segment(n) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let key = (id.clone(), n);
    let (fail, cut, hold, refuse) = {
        let mut st = s.vods();
        *st.segment_requests.entry(key.clone()).or_default() += 1;
        (
            st.fail_once.remove(&key),
            st.cut_once.remove(&key),
            st.hold.contains(&key),
            st.refuse.contains(&key),
        )
    };
    if refuse {
        return (StatusCode::FORBIDDEN, "segment refused").into_response();
    }
    if hold {
        // Held until released (or forever): the download is in flight when the test acts.
        loop {
            s.vod_released.notified().await;
            if !s.vods().hold.contains(&key) {
                break;
            }
        }
    }
    if fail {
        return (StatusCode::SERVICE_UNAVAILABLE, "upstream busy").into_response();
    }
    if cut {
        // Announce the whole length, send half, then drop the connection.
        let half = bytes.slice(..bytes.len() / 2);
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(half),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "cut",
            )),
        ];
        return (
            [
                ("content-type", content_type.to_owned()),
                ("content-length", bytes.len().to_string()),
            ],
            Body::from_stream(futures_util::stream::iter(chunks)),
        )
            .into_response();
    }
    ([("content-type", content_type)], bytes).into_response()
}

fn media_playlist(video: &Video) -> String {
    let seconds: Vec<f64> = (0..video.spec.segments)
        .map(|n| {
            let i = n as usize % video.media.segments.len().max(1);
            video.media.segments.get(i).map_or(0.0, |s| s.duration)
        })
        .collect();
    let target = seconds.iter().copied().fold(0.0_f64, f64::max).ceil() as u64;
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{target}\n#ID3-EQUIV-TDTG:{}\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-TWITCH-ELAPSED-SECS:0.000\n\
         #EXT-X-TWITCH-TOTAL-SECS:{:.3}\n",
        rfc3339_secs(video.spec.created_at),
        seconds.iter().sum::<f64>(),
    );
    // fMP4 renditions announce their init section once, before the first fragment.
    let ext = if video.media.init.is_some() {
        out.push_str("#EXT-X-MAP:URI=\"init-0.mp4\"\n");
        "mp4"
    } else {
        "ts"
    };
    for (n, secs) in seconds.iter().enumerate() {
        let muted = video.spec.muted.contains(&(n as u32));
        out.push_str(&format!(
            "#EXTINF:{secs:.3},\n{n}{}.{ext}\n",
            if muted { "-muted" } else { "" }
        ));
    }
    out.push_str("#EXT-X-ENDLIST\n");
    out
}

async fn clip_file(State(s): State<Arc<Shared>>, Path(file): Path<String>) -> Response {
    let Some(slug) = file.strip_suffix(".mp4") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let media = {
        let mut st = s.vods();
        if !st.clips.iter().any(|c| c.id == slug) {
            return StatusCode::NOT_FOUND.into_response();
        }
        *st.clip_downloads.entry(slug.to_owned()).or_default() += 1;
        st.clip_media.clone()
    };
    match media {
        Some(bytes) => ([("content-type", "video/mp4")], bytes).into_response(),
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "no media"})),
        )
            .into_response(),
    }
}
