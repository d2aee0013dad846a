//! Small wire helpers shared by the fake's routes: Twitch's error shape, timestamps, ids,
//! signatures and opaque cursors.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::hls_origin::time_fmt::rfc3339;

/// `{"error":"Unauthorized","status":401,"message":"Invalid OAuth token"}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    (
        status,
        Json(json!({"error": reason, "status": status.as_u16(), "message": message})),
    )
        .into_response()
}

/// RFC 3339 with nanoseconds, as EventSub timestamps are written.
pub fn rfc3339_nanos(t: SystemTime) -> String {
    rfc3339(t, 9)
}

/// Helix timestamps have whole seconds.
pub fn rfc3339_secs(t: SystemTime) -> String {
    rfc3339(t, 0)
}

pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

pub fn ago(d: Duration) -> SystemTime {
    SystemTime::now().checked_sub(d).unwrap_or(UNIX_EPOCH)
}

/// A random lowercase hex string of `bytes` bytes.
pub fn random_hex(bytes: usize) -> String {
    hex::encode(
        (0..bytes)
            .map(|_| rand::random::<u8>())
            .collect::<Vec<u8>>(),
    )
}

/// A UUID-shaped random id, like EventSub ids.
pub fn uuid() -> String {
    let h = random_hex(16);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// `sha256=` + hex HMAC-SHA256(secret, id + timestamp + body).
pub fn eventsub_signature(secret: &[u8], id: &str, timestamp: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac(secret, &[id.as_bytes(), timestamp.as_bytes(), body]))
    )
}

pub fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Opaque pagination cursors (Twitch's are base64 JSON; clients must not look inside).
pub fn cursor(offset: usize) -> String {
    hex::encode(format!("{{\"o\":{offset}}}"))
}

pub fn parse_cursor(c: &str) -> Option<usize> {
    let raw = String::from_utf8(hex::decode(c).ok()?).ok()?;
    raw.strip_prefix("{\"o\":")?.strip_suffix('}')?.parse().ok()
}

/// One page of `items` after `after` (a cursor), and the next cursor if more remain.
pub fn page<T: Clone>(
    items: &[T],
    size: usize,
    after: Option<&str>,
) -> Result<(Vec<T>, Option<String>), Response> {
    let start = match after {
        None | Some("") => 0,
        Some(c) => parse_cursor(c)
            .ok_or_else(|| error(StatusCode::BAD_REQUEST, "Invalid value for 'after'"))?,
    };
    let size = size.max(1);
    let end = (start + size).min(items.len());
    let data = items.get(start..end).map(<[T]>::to_vec).unwrap_or_default();
    let next = (end < items.len()).then(|| cursor(end));
    Ok((data, next))
}

/// `{"cursor": …}` or `{}`.
pub fn pagination(next: Option<String>) -> serde_json::Value {
    match next {
        Some(c) => json!({ "cursor": c }),
        None => json!({}),
    }
}

/// A valid 16×9 PNG (one colour), for avatars and offline images: Tapearr decodes them.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x09, 0x08, 0x02, 0x00, 0x00, 0x00, 0xb4, 0x48, 0x3b,
    0x65, 0x00, 0x00, 0x00, 0x14, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x48, 0x71, 0x5c, 0x4a,
    0x12, 0x62, 0x18, 0xd5, 0x30, 0x28, 0x34, 0x00, 0x00, 0xc8, 0xca, 0xb9, 0xa1, 0x89, 0x3f, 0xc2,
    0xeb, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_cursors() {
        let t = UNIX_EPOCH + Duration::new(1_689_778_611, 634_234_626);
        assert_eq!(rfc3339_nanos(t), "2023-07-19T14:56:51.634234626Z");
        assert_eq!(rfc3339_secs(t), "2023-07-19T14:56:51Z");
        assert_eq!(parse_cursor(&cursor(42)), Some(42));
        let (data, next) = page(&[1, 2, 3], 2, None).expect("page");
        assert_eq!((data, next.is_some()), (vec![1, 2], true));
        let (data, next) = page(&[1, 2, 3], 2, next.as_deref()).expect("page");
        assert_eq!((data, next), (vec![3], None));
    }
}
