//! HMAC-SHA256 over concatenated parts: Twitch's EventSub signatures and our own webhooks.

use hmac::{Hmac, Mac};
use sha2::Sha256;

fn mac(key: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    for p in parts {
        mac.update(p);
    }
    mac
}

/// Lowercase hex HMAC-SHA256(key, parts[0] ‖ parts[1] ‖ …).
pub(crate) fn hmac_sha256_hex(key: &[u8], parts: &[&[u8]]) -> String {
    hex::encode(mac(key, parts).finalize().into_bytes())
}

/// Whether `expected` is HMAC-SHA256(key, parts…), compared in constant time.
pub(crate) fn hmac_sha256_matches(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    mac(key, parts).verify_slice(expected).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_concatenated() {
        let whole = hmac_sha256_hex(b"k", &[b"abc"]);
        assert_eq!(hmac_sha256_hex(b"k", &[b"a", b"", b"bc"]), whole);
        let raw = hex::decode(&whole).expect("hex");
        assert!(hmac_sha256_matches(b"k", &[b"ab", b"c"], &raw));
        assert!(!hmac_sha256_matches(b"other", &[b"abc"], &raw));
    }
}
