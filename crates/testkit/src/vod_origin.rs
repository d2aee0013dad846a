//! A CDN-like origin for one finished VOD, for the download benchmark (B8): a media playlist
//! with `#EXT-X-ENDLIST` and numbered TS segments of a realistic size, each answered after a
//! first-byte latency. The bytes are generated once (one segment's worth of 188-byte TS
//! packets); each segment differs in its first packet, which carries its number, so a lost,
//! doubled or reordered segment shows in the joined file ([`VodOrigin::segment_head`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const PACKET: usize = 188;

/// What the origin serves.
#[derive(Debug, Clone)]
pub struct VodOriginSpec {
    pub segments: u32,
    pub segment_secs: f64,
    /// Media bitrate: a segment is `segment_secs × bitrate / 8` bytes (rounded to TS packets).
    pub bitrate_bps: u64,
    /// First-byte latency of each segment request, spread evenly over this range.
    pub first_byte: (Duration, Duration),
}

impl VodOriginSpec {
    /// `minutes` of 2 s segments at 6 Mbit/s with 30–80 ms to the first byte.
    pub fn realistic(minutes: u32) -> Self {
        Self {
            segments: minutes * 30,
            segment_secs: 2.0,
            bitrate_bps: 6_000_000,
            first_byte: (Duration::from_millis(30), Duration::from_millis(80)),
        }
    }

    pub fn segment_len(&self) -> usize {
        let bytes = self.segment_secs * self.bitrate_bps as f64 / 8.0;
        ((bytes as usize) / PACKET).max(1) * PACKET
    }

    pub fn media_secs(&self) -> f64 {
        f64::from(self.segments) * self.segment_secs
    }
}

struct Shared {
    spec: VodOriginSpec,
    /// One segment's packets after the first (shared by every segment).
    tail: Bytes,
    requests: Vec<AtomicU64>,
}

/// A running origin on `127.0.0.1:<random port>`; stops when dropped.
pub struct VodOrigin {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    _shutdown: crate::serve::StopOnDrop,
}

impl VodOrigin {
    pub async fn start(spec: VodOriginSpec) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let len = spec.segment_len();
        let mut tail = Vec::with_capacity(len - PACKET);
        let mut x: u32 = 0x9e37_79b9;
        for _ in 0..(len / PACKET - 1) {
            tail.extend_from_slice(&[0x47, 0x01, 0x00, 0x10]);
            for _ in 0..(PACKET - 4) {
                // xorshift: payload that does not compress, like video.
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                tail.push(x as u8);
            }
        }
        let shared = Arc::new(Shared {
            requests: (0..spec.segments).map(|_| AtomicU64::new(0)).collect(),
            spec,
            tail: Bytes::from(tail),
        });
        let app = Router::new()
            .route("/vod/{file}", get(file))
            .with_state(shared.clone());
        Ok(Self {
            addr,
            shared,
            _shutdown: crate::serve::spawn(listener, app, "vod origin"),
        })
    }

    pub fn playlist_url(&self) -> String {
        format!("http://{}/vod/index-dvr.m3u8", self.addr)
    }

    pub fn spec(&self) -> &VodOriginSpec {
        &self.shared.spec
    }

    /// Requests per segment so far (index = segment number).
    pub fn segment_requests(&self) -> Vec<u64> {
        self.shared
            .requests
            .iter()
            .map(|r| r.load(Ordering::Relaxed))
            .collect()
    }

    /// The first TS packet of segment `n`: the only part that differs between segments.
    pub fn segment_head(n: u32) -> [u8; PACKET] {
        let mut p = [0xffu8; PACKET];
        p[..4].copy_from_slice(&[0x47, 0x40, 0x00, 0x10]);
        p[4..8].copy_from_slice(&n.to_be_bytes());
        p
    }
}

fn playlist(spec: &VodOriginSpec) -> String {
    let mut text = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{}\n#EXT-X-PLAYLIST-TYPE:VOD\n\
         #EXT-X-MEDIA-SEQUENCE:0\n",
        spec.segment_secs.ceil() as u64
    );
    for n in 0..spec.segments {
        text.push_str(&format!("#EXTINF:{:.3},\n{n}.ts\n", spec.segment_secs));
    }
    text.push_str("#EXT-X-ENDLIST\n");
    text
}

async fn file(State(s): State<Arc<Shared>>, Path(file): Path<String>) -> Response {
    if file == "index-dvr.m3u8" {
        return (
            [("content-type", "application/vnd.apple.mpegurl")],
            playlist(&s.spec),
        )
            .into_response();
    }
    let Some(n) = file
        .strip_suffix(".ts")
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n < s.spec.segments)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    s.requests[n as usize].fetch_add(1, Ordering::Relaxed);
    let (lo, hi) = s.spec.first_byte;
    // Spread evenly (a fixed stride through the range), the same on every run.
    let spread = hi.saturating_sub(lo).as_micros() as u64;
    let wait = lo + Duration::from_micros((u64::from(n) * 7_919) % spread.max(1));
    tokio::time::sleep(wait).await;
    let head = Bytes::copy_from_slice(&VodOrigin::segment_head(n));
    let len = head.len() + s.tail.len();
    let chunks: [Result<Bytes, std::io::Error>; 2] = [Ok(head), Ok(s.tail.clone())];
    (
        [
            ("content-type", "video/mp2t".to_owned()),
            ("content-length", len.to_string()),
        ],
        Body::from_stream(futures_util::stream::iter(chunks)),
    )
        .into_response()
}
