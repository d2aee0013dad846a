//! A generic JSON webhook, signed with HMAC-SHA256 so the receiver can trust it.
//!
//! Headers: `X-Tapearr-Delivery` (the message id; the same on every retry),
//! `X-Tapearr-Timestamp` (unix seconds) and `X-Tapearr-Signature: sha256=<hex>` over
//! `"{timestamp}.{body}"`. Receivers should reject old timestamps and drop repeated deliveries.

use super::{Message, SendError, check};
use crate::sign::hmac_sha256_hex;

pub const DELIVERY_HEADER: &str = "X-Tapearr-Delivery";
pub const TIMESTAMP_HEADER: &str = "X-Tapearr-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Tapearr-Signature";

pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    let mac = hmac_sha256_hex(secret.as_bytes(), &[timestamp.as_bytes(), b".", body]);
    format!("sha256={mac}")
}

pub async fn send(
    http: &reqwest::Client,
    url: &str,
    secret: Option<&str>,
    message: &Message,
    now_unix: i64,
) -> Result<(), SendError> {
    let body = serde_json::to_vec(message).map_err(|e| SendError::Permanent(e.to_string()))?;
    let mut req = http
        .post(url)
        .header("Content-Type", "application/json")
        .header(DELIVERY_HEADER, &message.id)
        .header(TIMESTAMP_HEADER, now_unix.to_string());
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        req = req.header(SIGNATURE_HEADER, signature(secret, now_unix, &body));
    }
    check("webhook", req.body(body).send().await).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_an_independent_hmac() {
        // HMAC-SHA256(key="secret", "1700000000.{}") computed with Python's hmac module.
        assert_eq!(
            signature("secret", 1_700_000_000, b"{}"),
            "sha256=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }
}
