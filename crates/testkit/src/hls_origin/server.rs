//! HTTP routes of the origin. Handlers only look up the channel and apply the fault book.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use futures_util::StreamExt;

use super::channel::{Channel, VariantConfig};
use super::faults::Misbehaviour;
use super::media::Container;

pub type Channels = Arc<RwLock<HashMap<String, Arc<Channel>>>>;

pub fn router(channels: Channels) -> Router {
    Router::new()
        .route("/{channel}/master.m3u8", get(master))
        .route("/{channel}/{variant}/index.m3u8", get(media))
        .route("/{channel}/{variant}/init.mp4", get(init))
        .route("/{channel}/{variant}/seg/{file}", get(segment))
        .route("/{channel}/{variant}/ad/{file}", get(ad_segment))
        .with_state(channels)
}

fn lookup(channels: &Channels, name: &str) -> Option<Arc<Channel>> {
    channels.read().ok()?.get(name).cloned()
}

fn variant<'a>(ch: &'a Channel, name: &str) -> Option<&'a VariantConfig> {
    ch.config.variants.iter().find(|v| v.name == name)
}

fn playlist_response(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/vnd.apple.mpegurl"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn master(State(channels): State<Channels>, Path(name): Path<String>) -> Response {
    let Some(ch) = lookup(&channels, &name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    ch.stats.playlist_requests.fetch_add(1, Ordering::Relaxed);
    if ch.in_outage(Instant::now()) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    playlist_response(ch.master_playlist())
}

/// `?ad_free=1`: the playlist (or segment) a viewer without ads gets.
#[derive(serde::Deserialize, Default)]
struct AdFree {
    #[serde(default)]
    ad_free: Option<String>,
}

impl AdFree {
    fn on(&self) -> bool {
        self.ad_free.as_deref() == Some("1")
    }
}

async fn media(
    State(channels): State<Channels>,
    Path((name, var)): Path<(String, String)>,
    Query(ad_free): Query<AdFree>,
) -> Response {
    let Some(ch) = lookup(&channels, &name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(v) = variant(&ch, &var) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    ch.stats.playlist_requests.fetch_add(1, Ordering::Relaxed);
    let now = Instant::now();
    if ch.in_outage(now) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    if let Some(status) = ch.faults.for_playlist(ch.edge(now)) {
        ch.stats.faults_served.fetch_add(1, Ordering::Relaxed);
        return StatusCode::from_u16(status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response();
    }
    playlist_response(ch.media_playlist(v, now, ad_free.on()))
}

async fn init(
    State(channels): State<Channels>,
    Path((name, var)): Path<(String, String)>,
) -> Response {
    let Some(ch) = lookup(&channels, &name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(init) = variant(&ch, &var).and_then(|v| v.media.init.clone()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    ch.stats.init_requests.fetch_add(1, Ordering::Relaxed);
    bytes_response(init, Container::Fmp4)
}

/// `12.ts` → 12.
fn index_of(file: &str) -> Option<u64> {
    file.split('.').next()?.parse().ok()
}

/// Whether timeline index `index` may be fetched now (listed, or one of the two prefetch hints).
fn available(ch: &Channel, index: u64) -> bool {
    let edge = ch.edge(Instant::now());
    let limit = match ch.end_at() {
        Some(end) if edge >= end => end,
        _ => edge + 2,
    };
    index < limit
}

async fn segment(
    State(channels): State<Channels>,
    Path((name, var, file)): Path<(String, String, String)>,
    Query(ad_free): Query<AdFree>,
) -> Response {
    let Some(ch) = lookup(&channels, &name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (Some(v), Some(index)) = (variant(&ch, &var), index_of(&file)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !available(&ch, index) || (ch.ad_at(index).is_some() && !ad_free.on()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    if ch.in_outage(Instant::now()) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    ch.stats.segment_requests.fetch_add(1, Ordering::Relaxed);
    let segs = &v.media.segments;
    let bytes = segs[(index % segs.len() as u64) as usize].bytes.clone();
    let container = v.media.params.container;
    match ch.faults.for_segment(index) {
        None => bytes_response(bytes, container),
        Some(m) => {
            ch.stats.faults_served.fetch_add(1, Ordering::Relaxed);
            misbehave(m, bytes, container).await
        }
    }
}

async fn ad_segment(
    State(channels): State<Channels>,
    Path((name, var, file)): Path<(String, String, String)>,
) -> Response {
    let Some(ch) = lookup(&channels, &name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (Some(v), Some(index)) = (variant(&ch, &var), index_of(&file)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (Some((_, offset)), Some(ad_media)) = (ch.ad_at(index), ch.config.ad_media.as_ref()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !available(&ch, index) {
        return StatusCode::NOT_FOUND.into_response();
    }
    ch.stats.ad_segment_requests.fetch_add(1, Ordering::Relaxed);
    let segs = &ad_media.segments;
    bytes_response(
        segs[(offset % segs.len() as u64) as usize].bytes.clone(),
        v.media.params.container,
    )
}

fn content_type(container: Container) -> &'static str {
    match container {
        Container::Ts => "video/mp2t",
        Container::Fmp4 => "video/iso.segment",
    }
}

fn bytes_response(bytes: Bytes, container: Container) -> Response {
    ([(header::CONTENT_TYPE, content_type(container))], bytes).into_response()
}

async fn misbehave(m: Misbehaviour, bytes: Bytes, container: Container) -> Response {
    match m {
        Misbehaviour::Status(status) => StatusCode::from_u16(status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        Misbehaviour::Delay(delay) => {
            tokio::time::sleep(delay).await;
            bytes_response(bytes, container)
        }
        Misbehaviour::Slow(total) => {
            const CHUNKS: usize = 8;
            let size = bytes.len().div_ceil(CHUNKS).max(1);
            let pause = total / CHUNKS as u32;
            let chunks: Vec<Bytes> = (0..bytes.len())
                .step_by(size)
                .map(|o| bytes.slice(o..(o + size).min(bytes.len())))
                .collect();
            let stream = futures_util::stream::iter(chunks).then(move |c| async move {
                tokio::time::sleep(pause).await;
                Ok::<_, std::io::Error>(c)
            });
            let mut resp = Response::new(Body::from_stream(stream));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(container)),
            );
            resp
        }
        Misbehaviour::Truncate => {
            let full = bytes.len();
            let half = bytes.slice(..full / 2);
            // Send half, pause so it reaches the client, then fail the body: hyper aborts the
            // connection and the client sees fewer bytes than Content-Length promised.
            let stream =
                futures_util::stream::iter([Ok(half)]).chain(futures_util::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Err(std::io::Error::other("truncated by fault injection"))
                }));
            let mut resp = Response::new(Body::from_stream(stream));
            let headers = resp.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(container)),
            );
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(full));
            resp
        }
    }
}
