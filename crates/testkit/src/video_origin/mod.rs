//! A local video site that yt-dlp's **generic** extractor downloads from, standing in for
//! YouTube in trailer tests.
//!
//! `GET /watch?v={id}` is an HTML page whose schema.org `VideoObject` (JSON-LD) and
//! `og:video` point at `GET /media/{id}.mp4` (`.webm` for VP9). From the JSON-LD yt-dlp reads
//! title, duration, uploader, upload date, width/height (so `-f "bv*[height<=?720]+ba/b"`
//! selectors work) and view count. Media are real files made once with ffmpeg
//! ([`media`]) and served with `Range` support.
//!
//! Per id ([`VideoSpec`]): duration, resolution, codec (H.264, HEVC, VP9), no audio,
//! [`Availability`] (unavailable, removed, private, age restricted, bot check, rate limited,
//! not a video, a download that drops), a slow page and a throttled download. Failures put
//! YouTube's own wording in the HTTP reason phrase, which yt-dlp prints verbatim:
//! `ERROR: [generic] watch?v=x: Unable to download webpage: HTTP Error 403: Sign in to
//! confirm your age. …`, so the same classifier rules match YouTube and this fake.
//!
//! `GET /feed?q=<words>&n=<N>` is an RSS 2.0 feed of the videos whose title has every word of
//! `q`, at most `N` ([`VideoOrigin::feed_url`]): yt-dlp's generic extractor reads it as a
//! playlist, standing in for `ytsearchN:<words>`.
//!
//! A [`VideoSpec::live`] video points its page at a live HLS playlist (no `#EXT-X-ENDLIST`),
//! which is how the generic extractor learns `is_live`.
//!
//! Every request is logged with its `Host` (per-host counts for politeness tests); an origin
//! can listen on several loopback addresses to look like several hosts.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use tapearr_testkit::video_origin::{Availability, VideoCodec, VideoOrigin, VideoSpec};
//! let origin = VideoOrigin::start().await?;
//! origin.set_video("abc", VideoSpec::new("Film (2001) Official Trailer").seconds(3));
//! origin.set_video("vp9", VideoSpec::new("4K").codec(VideoCodec::Vp9));
//! origin.set_video("gone", VideoSpec::new("x").availability(Availability::NotFound));
//! println!("yt-dlp {}", origin.watch_url("abc"));
//! # Ok(()) }
//! ```

pub mod media;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Notify;

pub use media::{VideoCodec, VideoMedia};

use crate::hls_origin::MediaError;

/// What the page and the media of one id do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Availability {
    /// Page and media served.
    Available,
    /// Page 404 `Video unavailable`.
    NotFound,
    /// Page 410 `This video has been removed by the uploader`.
    Removed,
    /// Page 403 `Private video`.
    Private,
    /// Page 403 `Sign in to confirm your age. This video may be inappropriate for some users.`
    AgeRestricted,
    /// Page 403 `Sign in to confirm you're not a bot`.
    BotCheck,
    /// Page 429 `Too Many Requests`.
    RateLimited,
    /// Page 403 with YouTube's soft-ban wording after many downloads from one address:
    /// `This content isn't available, try again later.`
    SoftBan,
    /// Page 403: the cookies were refused (browsers rotate YouTube's), then the bot check, as
    /// yt-dlp reports it: `The provided YouTube account cookies are no longer valid. Sign in
    /// to confirm you're not a bot`.
    CookiesRejected,
    /// Page 200 without any video: yt-dlp says `Unsupported URL`.
    NotAVideo,
    /// Page fine; the media sends about half of what is asked for, then drops the
    /// connection (yt-dlp retries with `Range`, then gives up leaving a `.part` file).
    DropsMidDownload,
    /// Page fine; the media answers 403 `Forbidden` (an expired media URL).
    MediaForbidden,
}

impl Availability {
    /// The status and reason phrase of a refused page.
    fn page_error(self) -> Option<(StatusCode, &'static str)> {
        Some(match self {
            Self::NotFound => (StatusCode::NOT_FOUND, "Video unavailable"),
            Self::Removed => (
                StatusCode::GONE,
                "This video has been removed by the uploader",
            ),
            Self::Private => (StatusCode::FORBIDDEN, "Private video"),
            Self::AgeRestricted => (
                StatusCode::FORBIDDEN,
                "Sign in to confirm your age. This video may be inappropriate for some users.",
            ),
            Self::BotCheck => (StatusCode::FORBIDDEN, "Sign in to confirm you're not a bot"),
            Self::RateLimited => (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
            Self::SoftBan => (
                StatusCode::FORBIDDEN,
                "This content isn't available, try again later.",
            ),
            Self::CookiesRejected => (
                StatusCode::FORBIDDEN,
                "The provided YouTube account cookies are no longer valid. Sign in to confirm you're not a bot",
            ),
            _ => return None,
        })
    }
}

/// One video of the origin.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoSpec {
    pub title: String,
    pub uploader: String,
    pub description: String,
    /// `uploadDate`, ISO 8601.
    pub upload_date: String,
    pub view_count: u64,
    pub media: VideoMedia,
    pub availability: Availability,
    /// The page answers after this long.
    pub page_delay: Duration,
    /// The media is sent at about this many bytes per second.
    pub media_rate: Option<u64>,
    /// A live broadcast: the page's media is a live HLS playlist (yt-dlp reports `is_live`).
    pub live: bool,
}

impl VideoSpec {
    /// A public 2 s 320×180 H.264 video with audio.
    pub fn new(title: &str) -> Self {
        Self {
            title: title.into(),
            uploader: "Fake Studio".into(),
            description: String::new(),
            upload_date: "2024-01-02T03:04:05Z".into(),
            view_count: 123_456,
            media: VideoMedia::tiny(),
            availability: Availability::Available,
            page_delay: Duration::ZERO,
            media_rate: None,
            live: false,
        }
    }

    pub fn seconds(mut self, seconds: u32) -> Self {
        self.media.seconds = seconds.max(1);
        self
    }

    pub fn resolution(mut self, width: u32, height: u32) -> Self {
        self.media.width = width;
        self.media.height = height;
        self
    }

    pub fn codec(mut self, codec: VideoCodec) -> Self {
        self.media.codec = codec;
        self
    }

    pub fn no_audio(mut self) -> Self {
        self.media.audio = false;
        self
    }

    pub fn uploader(mut self, uploader: &str) -> Self {
        self.uploader = uploader.into();
        self
    }

    pub fn availability(mut self, a: Availability) -> Self {
        self.availability = a;
        self
    }

    pub fn slow_page(mut self, delay: Duration) -> Self {
        self.page_delay = delay;
        self
    }

    pub fn throttle(mut self, bytes_per_sec: u64) -> Self {
        self.media_rate = Some(bytes_per_sec.max(1));
        self
    }

    /// Makes it a live broadcast (see [`VideoSpec::live`]).
    pub fn live(mut self) -> Self {
        self.live = true;
        self
    }
}

/// One request the origin answered.
#[derive(Debug, Clone)]
pub struct OriginRequest {
    /// The `Host` header (`127.0.0.1:PORT`).
    pub host: String,
    /// Path and query, e.g. `/watch?v=abc`.
    pub path: String,
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
}

#[derive(Default)]
struct World {
    videos: HashMap<String, VideoSpec>,
    /// What ids without a spec get (`None`: 404 `Video unavailable`).
    default: Option<VideoSpec>,
    log: Vec<OriginRequest>,
}

struct Shared {
    world: Mutex<World>,
    arrived: Notify,
}

impl Shared {
    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        // A panic while holding the lock only happens in a failing test; keep serving.
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn spec(&self, id: &str) -> Option<VideoSpec> {
        let w = self.world();
        w.videos.get(id).or(w.default.as_ref()).cloned()
    }
}

/// A running origin; stops when dropped.
pub struct VideoOrigin {
    addrs: Vec<SocketAddr>,
    shared: Arc<Shared>,
    _shutdown: Vec<crate::serve::StopOnDrop>,
}

impl VideoOrigin {
    /// On `127.0.0.1:<random port>`; every id is a [`VideoSpec::new`] video titled
    /// `Video {id}` until told otherwise.
    pub async fn start() -> std::io::Result<Self> {
        Self::bind(&["127.0.0.1:0"]).await
    }

    /// One listener per address, all serving the same videos: `["127.0.0.1:0",
    /// "127.0.0.2:0"]` looks like two hosts (any 127.x address is loopback on Linux).
    pub async fn bind(addrs: &[&str]) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            world: Mutex::new(World {
                default: Some(VideoSpec::new("")),
                ..World::default()
            }),
            arrived: Notify::new(),
        });
        let app = Router::new()
            .route("/watch", get(page))
            .route("/feed", get(feed))
            .route("/live/{file}", get(live_playlist))
            .route("/media/{file}", get(media_file))
            .route("/vi/{id}/{file}", get(thumbnail))
            .layer(axum::middleware::from_fn_with_state(shared.clone(), record))
            .route("/_control/videos/{id}", post(control_video))
            .route("/_control/requests", get(control_requests))
            .with_state(shared.clone());
        let mut bound = Vec::new();
        let mut stops = Vec::new();
        for a in addrs {
            let listener = tokio::net::TcpListener::bind(a).await?;
            bound.push(listener.local_addr()?);
            stops.push(crate::serve::spawn(listener, app.clone(), "video origin"));
        }
        Ok(Self {
            addrs: bound,
            shared,
            _shutdown: stops,
        })
    }

    /// `http://127.0.0.1:PORT` of the first listener.
    pub fn url(&self) -> String {
        self.urls().into_iter().next().unwrap_or_default()
    }

    /// One base URL per listener.
    pub fn urls(&self) -> Vec<String> {
        self.addrs.iter().map(|a| format!("http://{a}")).collect()
    }

    /// `http://127.0.0.1:PORT/watch?v={id}`: what to hand yt-dlp.
    pub fn watch_url(&self, id: &str) -> String {
        format!("{}/watch?v={id}", self.url())
    }

    /// `http://127.0.0.1:PORT/watch?v={id}` with a literal `{id}`, for a configurable
    /// "video page URL template" in place of `https://www.youtube.com/watch?v={id}`.
    pub fn watch_template(&self) -> String {
        format!("{}/watch?v={{id}}", self.url())
    }

    /// `http://127.0.0.1:PORT/feed?q={query}&n={n}`: an RSS feed of the videos whose title
    /// has every word of `query` (case-insensitive; all when empty), at most `n`, in id order.
    /// What to hand yt-dlp in place of `ytsearch{n}:{query}`.
    pub fn feed_url(&self, query: &str, n: u32) -> String {
        let q: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
        format!("{}/feed?q={q}&n={n}", self.url())
    }

    /// The direct media URL of `id` (its extension follows the codec).
    pub fn media_url(&self, id: &str) -> String {
        let ext = self.shared.spec(id).map_or("mp4", |s| s.media.codec.ext());
        format!("{}/media/{id}.{ext}", self.url())
    }

    pub fn set_video(&self, id: &str, spec: VideoSpec) {
        self.shared.world().videos.insert(id.to_owned(), spec);
    }

    pub fn remove_video(&self, id: &str) {
        self.shared.world().videos.remove(id);
    }

    /// What ids without their own spec get; `None` makes them `NotFound`.
    pub fn set_default(&self, spec: Option<VideoSpec>) {
        self.shared.world().default = spec;
    }

    /// Encodes (or loads from the cache) the media of every configured video now, so the
    /// first download does not wait for ffmpeg.
    pub async fn prepare(&self) -> Result<(), MediaError> {
        let media: Vec<VideoMedia> = {
            let w = self.shared.world();
            w.videos
                .values()
                .chain(w.default.iter())
                .map(|s| s.media.clone())
                .collect()
        };
        for m in media {
            media::load_or_generate(&m).await?;
        }
        Ok(())
    }

    /// Every request so far, in arrival order (control routes excluded).
    pub fn requests(&self) -> Vec<OriginRequest> {
        self.shared.world().log.clone()
    }

    /// Requests per `Host` header.
    pub fn requests_by_host(&self) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        for r in &self.shared.world().log {
            *out.entry(r.host.clone()).or_insert(0) += 1;
        }
        out
    }

    /// How many times the page of `id` was fetched.
    pub fn page_requests(&self, id: &str) -> usize {
        let path = format!("/watch?v={id}");
        self.shared
            .world()
            .log
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    pub fn clear_requests(&self) {
        self.shared.world().log.clear();
    }

    /// Waits until a request for `path` was logged; `Err` with the log on timeout.
    pub async fn wait_for_path(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<Vec<OriginRequest>, Vec<OriginRequest>> {
        crate::serve::wait_until(
            &self.shared.arrived,
            timeout,
            || Some(self.requests()).filter(|l| l.iter().any(|r| r.path == path)),
            || self.requests(),
        )
        .await
    }

    /// Waits until `n` requests were logged; `Err` with the log on timeout.
    pub async fn wait_for_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<OriginRequest>, Vec<OriginRequest>> {
        crate::serve::wait_until(
            &self.shared.arrived,
            timeout,
            || Some(self.requests()).filter(|l| l.len() >= n),
            || self.requests(),
        )
        .await
    }
}

/// Logs every site request (host, path, status, arrival).
async fn record(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let at = Instant::now();
    let host = req
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    s.world().log.push(OriginRequest {
        host,
        path,
        status: res.status().as_u16(),
        at,
    });
    s.arrived.notify_waiters();
    res
}

/// An HTML error page whose status line carries `reason` (yt-dlp prints it).
fn refused(status: StatusCode, reason: &'static str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html><head><title>{reason}</title></head><body><h1>{reason}</h1></body></html>"
    );
    let mut res = (status, [("content-type", "text/html; charset=utf-8")], body).into_response();
    if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(reason.as_bytes()) {
        res.extensions_mut().insert(phrase);
    }
    res
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Deserialize)]
struct Watch {
    v: Option<String>,
}

async fn page(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(w): Query<Watch>,
) -> Response {
    let Some(id) = w.v.filter(|v| !v.is_empty()) else {
        return refused(StatusCode::NOT_FOUND, "Video unavailable");
    };
    let Some(mut spec) = s.spec(&id) else {
        return refused(StatusCode::NOT_FOUND, "Video unavailable");
    };
    if spec.title.is_empty() {
        spec.title = format!("Video {id}");
    }
    if spec.description.is_empty() {
        spec.description = format!("{}. In cinemas soon.", spec.title);
    }
    if !spec.page_delay.is_zero() {
        tokio::time::sleep(spec.page_delay).await;
    }
    if let Some((status, reason)) = spec.availability.page_error() {
        return refused(status, reason);
    }
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}");
    let title = escape_html(&spec.title);
    if spec.availability == Availability::NotAVideo {
        let html = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><h1>{title}</h1><p>Nothing to play here.</p></body></html>"
        );
        return ([("content-type", "text/html; charset=utf-8")], html).into_response();
    }
    let m = &spec.media;
    let (media_url, mime) = if spec.live {
        (format!("{base}/live/{id}.m3u8"), HLS_MIME)
    } else {
        (
            format!("{base}/media/{id}.{}", m.codec.ext()),
            m.codec.mime(),
        )
    };
    let ld = json!({
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": spec.title,
        "description": spec.description,
        "duration": format!("PT{}S", m.seconds),
        "uploadDate": spec.upload_date,
        "contentUrl": media_url,
        "encodingFormat": mime,
        "width": m.width,
        "height": m.height,
        "thumbnailUrl": format!("{base}/vi/{id}/hqdefault.jpg"),
        "author": {"@type": "Person", "name": spec.uploader},
        "interactionStatistic": {"@type": "InteractionCounter",
            "interactionType": {"@type": "WatchAction"}, "userInteractionCount": spec.view_count},
    });
    // `</` inside a script would end it early.
    let ld = ld.to_string().replace("</", "<\\/");
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<meta property="og:title" content="{title}">
<meta property="og:type" content="video.other">
<meta property="og:video" content="{media_url}">
<meta property="og:video:type" content="{mime}">
<meta property="og:video:width" content="{w}">
<meta property="og:video:height" content="{h}">
<script type="application/ld+json">{ld}</script>
</head><body><h1>{title}</h1><p>{uploader}</p><p><a href="{media_url}">{id}.{ext}</a></p></body></html>
"#,
        w = m.width,
        h = m.height,
        uploader = escape_html(&spec.uploader),
        ext = m.codec.ext(),
    );
    ([("content-type", "text/html; charset=utf-8")], html).into_response()
}

const HLS_MIME: &str = "application/vnd.apple.mpegurl";

#[derive(Deserialize)]
struct FeedQuery {
    #[serde(default)]
    q: String,
    n: Option<usize>,
}

/// `GET /feed?q=&n=`: RSS 2.0 of the configured videos whose title has every word of `q`.
async fn feed(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(f): Query<FeedQuery>,
) -> Response {
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let words: Vec<String> = f.q.split_whitespace().map(str::to_lowercase).collect();
    let mut matching: Vec<(String, String)> = s
        .world()
        .videos
        .iter()
        .map(|(id, spec)| {
            let title = if spec.title.is_empty() {
                format!("Video {id}")
            } else {
                spec.title.clone()
            };
            (id.clone(), title)
        })
        .filter(|(_, title)| {
            let title = title.to_lowercase();
            words.iter().all(|w| title.contains(w.as_str()))
        })
        .collect();
    matching.sort();
    matching.truncate(f.n.unwrap_or(usize::MAX));
    let items: String = matching
        .iter()
        .map(|(id, title)| {
            format!(
                "<item><title>{}</title><link>http://{host}/watch?v={}</link></item>\n",
                escape_html(title),
                escape_html(id)
            )
        })
        .collect();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\n\
         <title>Search: {q}</title><link>http://{host}/feed</link><description>Videos matching {q}</description>\n\
         {items}</channel></rss>\n",
        q = escape_html(&f.q),
    );
    (
        [("content-type", "application/rss+xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

/// `GET /live/{id}.m3u8`: a live media playlist (a sliding window, never an `#EXT-X-ENDLIST`)
/// for a [`VideoSpec::live`] video. Its segments are not served: yt-dlp must refuse a live
/// video before downloading.
async fn live_playlist(State(s): State<Arc<Shared>>, Path(file): Path<String>) -> Response {
    let Some(id) = file.strip_suffix(".m3u8") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !s.spec(id).is_some_and(|spec| spec.live) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let seq = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        / 2;
    let mut m3u8 = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{seq}\n"
    );
    for n in seq..seq + 3 {
        m3u8.push_str(&format!("#EXTINF:2.000,\n/live/{id}/{n}.ts\n"));
    }
    ([("content-type", HLS_MIME)], m3u8).into_response()
}

/// `bytes=a-b` / `bytes=a-` / `bytes=-n` against `len`: the inclusive range, `Err` when
/// unsatisfiable; `Ok(None)` for no (or an unparsable) header.
fn parse_range(h: Option<&HeaderValue>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = h
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
    else {
        return Ok(None);
    };
    let Some((a, b)) = spec
        .split(',')
        .next()
        .and_then(|r| r.trim().split_once('-'))
    else {
        return Ok(None);
    };
    let (start, end) = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(s), Some(e)) => (s, e.min(len.saturating_sub(1))),
        (Some(s), None) => (s, len.saturating_sub(1)),
        (None, Some(n)) => (len.saturating_sub(n), len.saturating_sub(1)),
        (None, None) => return Ok(None),
    };
    if start >= len || start > end {
        return Err(());
    }
    Ok(Some((start, end)))
}

async fn media_file(
    State(s): State<Arc<Shared>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((id, ext)) = file.rsplit_once('.') else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(spec) = s.spec(id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if spec.availability.page_error().is_some() || ext != spec.media.codec.ext() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if spec.availability == Availability::MediaForbidden {
        return refused(StatusCode::FORBIDDEN, "Forbidden");
    }
    let bytes = match media::load_or_generate(&spec.media).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let len = bytes.len() as u64;
    let (status, start, end) = match parse_range(headers.get("range"), len) {
        Ok(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b),
        Ok(None) => (StatusCode::OK, 0, len.saturating_sub(1)),
        Err(()) => {
            return (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [("content-range", format!("bytes */{len}"))],
            )
                .into_response();
        }
    };
    let part = bytes.slice(start as usize..=end as usize);
    let part_len = part.len() as u64;
    let drop_at = (spec.availability == Availability::DropsMidDownload)
        .then_some((part_len / 2).max(1) as usize);
    let body = if drop_at.is_some() || spec.media_rate.is_some() {
        Body::from_stream(paced(part, spec.media_rate, drop_at))
    } else {
        Body::from(part)
    };
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static(spec.media.codec.mime()),
    );
    h.insert("accept-ranges", HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&part_len.to_string()) {
        h.insert("content-length", v);
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}"))
    {
        h.insert("content-range", v);
    }
    res
}

/// `bytes` in 16 KiB pieces at about `rate` bytes/s, failing the body after `drop_at` bytes.
fn paced(
    bytes: Bytes,
    rate: Option<u64>,
    drop_at: Option<usize>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    const PIECE: usize = 16 * 1024;
    futures_util::stream::unfold(
        (bytes, 0usize, false),
        move |(bytes, pos, failed)| async move {
            if failed {
                return None;
            }
            if let Some(limit) = drop_at
                && pos >= limit
            {
                // Pending first, so hyper flushes what was written before the drop.
                tokio::time::sleep(Duration::from_millis(20)).await;
                let e = std::io::Error::other("video origin: connection dropped");
                return Some((Err(e), (bytes, pos, true)));
            }
            if pos >= bytes.len() {
                return None;
            }
            let mut end = (pos + PIECE).min(bytes.len());
            if let Some(limit) = drop_at {
                end = end.min(limit);
            }
            if let Some(rate) = rate {
                let secs = (end - pos) as f64 / rate as f64;
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
            }
            let piece = bytes.slice(pos..end);
            Some((Ok(piece), (bytes, end, false)))
        },
    )
}

async fn thumbnail(
    State(s): State<Arc<Shared>>,
    Path((id, _file)): Path<(String, String)>,
) -> Response {
    if s.spec(&id).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    match crate::artwork::image(480, 360, crate::artwork::Format::Jpeg).await {
        Ok(b) => ([("content-type", "image/jpeg")], b).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// `POST /_control/videos/{id}`: `{"title"?, "uploader"?, "seconds"?, "width"?, "height"?,
/// "codec"?: "h264"|"hevc"|"vp9", "audio"?: bool, "availability"?: "available"|
/// "not_found"|"removed"|"private"|"age_restricted"|"bot_check"|"rate_limited"|
/// "not_a_video"|"drops_mid_download"|"media_forbidden", "delay_ms"?, "rate"?, "live"?: bool}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct VideoReq {
    title: Option<String>,
    uploader: Option<String>,
    seconds: Option<u32>,
    width: Option<u32>,
    height: Option<u32>,
    codec: Option<String>,
    audio: Option<bool>,
    availability: Option<String>,
    delay_ms: u64,
    rate: Option<u64>,
    live: bool,
}

impl VideoReq {
    fn spec(self, id: &str) -> Result<VideoSpec, String> {
        let mut s = VideoSpec::new(&self.title.unwrap_or_else(|| format!("Video {id}")));
        if let Some(u) = self.uploader {
            s.uploader = u;
        }
        if let Some(v) = self.seconds {
            s = s.seconds(v);
        }
        s.media.width = self.width.unwrap_or(s.media.width);
        s.media.height = self.height.unwrap_or(s.media.height);
        s.media.audio = self.audio.unwrap_or(true);
        s.media.codec = match self.codec.as_deref().unwrap_or("h264") {
            "h264" => VideoCodec::H264,
            "hevc" => VideoCodec::Hevc,
            "vp9" => VideoCodec::Vp9,
            other => return Err(format!("unknown codec {other}")),
        };
        s.availability = match self.availability.as_deref().unwrap_or("available") {
            "available" => Availability::Available,
            "not_found" => Availability::NotFound,
            "removed" => Availability::Removed,
            "private" => Availability::Private,
            "age_restricted" => Availability::AgeRestricted,
            "bot_check" => Availability::BotCheck,
            "rate_limited" => Availability::RateLimited,
            "soft_ban" => Availability::SoftBan,
            "cookies_rejected" => Availability::CookiesRejected,
            "not_a_video" => Availability::NotAVideo,
            "drops_mid_download" => Availability::DropsMidDownload,
            "media_forbidden" => Availability::MediaForbidden,
            other => return Err(format!("unknown availability {other}")),
        };
        s.page_delay = Duration::from_millis(self.delay_ms);
        s.media_rate = self.rate;
        s.live = self.live;
        Ok(s)
    }
}

async fn control_video(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(req): Json<VideoReq>,
) -> Response {
    match req.spec(&id) {
        Ok(spec) => {
            s.world().videos.insert(id, spec);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

async fn control_requests(State(s): State<Arc<Shared>>) -> Response {
    let w = s.world();
    let log: Vec<_> = w
        .log
        .iter()
        .map(|r| json!({"host": r.host, "path": r.path, "status": r.status}))
        .collect();
    Json(json!({ "requests": log })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_feed_lists_matching_titles_in_id_order_and_the_live_playlist_never_ends() {
        let o = VideoOrigin::start().await.expect("origin");
        o.set_video("b", VideoSpec::new("Alien (1979) Trailer"));
        o.set_video("a", VideoSpec::new("ALIEN 1979 <Teaser> & more"));
        o.set_video("c", VideoSpec::new("Aliens (1986) Trailer"));
        o.set_video("d", VideoSpec::new("Heat 1995").live());
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let get = |url: String| async {
            let r = client.get(url).send().await.expect("get");
            let ct = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            (r.status().as_u16(), ct, r.text().await.expect("body"))
        };
        let (status, ct, xml) = get(o.feed_url("alien 1979", 10)).await;
        assert_eq!(status, 200);
        assert!(ct.starts_with("application/rss+xml"), "{ct}");
        let base = o.url();
        let items: Vec<&str> = xml.lines().filter(|l| l.starts_with("<item>")).collect();
        assert_eq!(
            items,
            [
                format!(
                    "<item><title>ALIEN 1979 &lt;Teaser&gt; &amp; more</title><link>{base}/watch?v=a</link></item>"
                ),
                format!(
                    "<item><title>Alien (1979) Trailer</title><link>{base}/watch?v=b</link></item>"
                ),
            ]
        );
        let (_, _, xml) = get(o.feed_url("", 3)).await;
        assert_eq!(xml.matches("<item>").count(), 3);
        let (_, _, xml) = get(o.feed_url("zzz", 3)).await;
        assert_eq!(xml.matches("<item>").count(), 0);
        assert!(
            o.requests()
                .iter()
                .any(|r| r.path == "/feed?q=alien+1979&n=10"),
            "{:?}",
            o.requests()
        );

        let (_, _, page) = get(o.watch_url("d")).await;
        assert!(page.contains(&format!("{base}/live/d.m3u8")), "{page}");
        let (status, ct, m3u8) = get(format!("{base}/live/d.m3u8")).await;
        assert_eq!((status, ct.as_str()), (200, HLS_MIME));
        assert!(
            m3u8.starts_with("#EXTM3U") && !m3u8.contains("#EXT-X-ENDLIST"),
            "{m3u8}"
        );
        assert_eq!(get(format!("{base}/live/a.m3u8")).await.0, 404);
    }
}
