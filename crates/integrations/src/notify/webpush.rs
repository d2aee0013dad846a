//! Web Push (RFC 8030) with message encryption (RFC 8291, aes128gcm) and VAPID (RFC 8292),
//! in pure Rust.

use super::SendError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::p256::PublicKey;
use web_push_native::{Auth, WebPushBuilder};

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub endpoint: String,
    /// base64url, the browser's P-256 public key.
    pub p256dh: String,
    /// base64url, 16 bytes.
    pub auth: String,
}

/// What the web app's service worker reads from a push: the message's id, title and lines.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PushPayload {
    pub id: String,
    pub title: String,
    pub body: String,
}

/// The application server's VAPID key pair.
pub struct VapidKey {
    pair: ES256KeyPair,
}

impl VapidKey {
    pub fn generate() -> Self {
        Self {
            pair: ES256KeyPair::generate(),
        }
    }

    /// From the stored private scalar (base64url).
    pub fn from_private(b64: &str) -> Result<Self, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(b64.trim())
            .map_err(|e| e.to_string())?;
        ES256KeyPair::from_bytes(&bytes)
            .map(|pair| Self { pair })
            .map_err(|e| e.to_string())
    }

    /// The private scalar (base64url), for storage.
    pub fn private_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.to_bytes())
    }

    /// The uncompressed public key (base64url): the browser's `applicationServerKey`.
    pub fn public_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.public_key().public_key().to_bytes_uncompressed())
    }
}

/// What happened to one push.
#[derive(Debug)]
pub enum PushOutcome {
    Delivered,
    /// 404/410: the subscription is gone; forget it.
    Gone,
}

/// Encrypts `payload` for the subscription, signs with VAPID and posts it.
pub async fn send(
    http: &reqwest::Client,
    vapid: &VapidKey,
    contact: &str,
    sub: &Subscription,
    payload: &[u8],
) -> Result<PushOutcome, SendError> {
    let endpoint = sub
        .endpoint
        .parse()
        .map_err(|_| SendError::Permanent("push endpoint is not a valid URL".into()))?;
    let key = URL_SAFE_NO_PAD
        .decode(sub.p256dh.trim_end_matches('='))
        .ok()
        .and_then(|b| PublicKey::from_sec1_bytes(&b).ok())
        .ok_or_else(|| SendError::Permanent("subscription p256dh key is invalid".into()))?;
    let auth = URL_SAFE_NO_PAD
        .decode(sub.auth.trim_end_matches('='))
        .ok()
        .filter(|b| b.len() == 16)
        .map(|b| Auth::clone_from_slice(&b))
        .ok_or_else(|| SendError::Permanent("subscription auth secret is invalid".into()))?;
    let request = WebPushBuilder::new(endpoint, key, auth)
        .with_vapid(&vapid.pair, contact)
        .build(payload.to_vec())
        .map_err(|e| SendError::Permanent(format!("web push encryption: {e}")))?;
    let mut req = http.post(&sub.endpoint);
    for (name, value) in request.headers() {
        req = req.header(name.as_str(), value.as_bytes());
    }
    let response = req
        .body(request.into_body())
        .send()
        .await
        .map_err(|e| SendError::Retryable(format!("web push: {}", e.without_url())))?;
    match response.status().as_u16() {
        200..=299 => Ok(PushOutcome::Delivered),
        404 | 410 => Ok(PushOutcome::Gone),
        s if s == 429 || s >= 500 => {
            Err(SendError::Retryable(format!("push service answered {s}")))
        }
        s => Err(SendError::Permanent(format!("push service answered {s}"))),
    }
}

#[cfg(test)]
mod tests {
    //! Checked against the examples of RFC 8291 (Appendix A) and RFC 8292 (section 2.4).
    use super::*;
    use web_push_native::jwt_simple::prelude::*;

    fn b64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).expect("base64url")
    }

    const RFC8291_PLAINTEXT: &[u8] = b"When I grow up, I want to be a watermelon";
    const RFC8291_UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const RFC8291_UA_PUBLIC: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const RFC8291_AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const RFC8291_MESSAGE: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    fn rfc_ua() -> (web_push_native::p256::SecretKey, Auth) {
        let secret =
            web_push_native::p256::SecretKey::from_slice(&b64(RFC8291_UA_PRIVATE)).expect("ua key");
        assert_eq!(
            secret.public_key(),
            PublicKey::from_sec1_bytes(&b64(RFC8291_UA_PUBLIC)).expect("public")
        );
        (secret, Auth::clone_from_slice(&b64(RFC8291_AUTH)))
    }

    #[test]
    fn rfc8291_example_message_decrypts_to_its_plaintext() {
        let (ua, auth) = rfc_ua();
        let plain = web_push_native::decrypt(b64(RFC8291_MESSAGE), &ua, &auth).expect("decrypt");
        assert_eq!(plain, RFC8291_PLAINTEXT);
    }

    #[test]
    fn what_we_encrypt_for_the_rfc8291_receiver_it_can_read() {
        let (ua, auth) = rfc_ua();
        let sealed = web_push_native::encrypt(RFC8291_PLAINTEXT.to_vec(), &ua.public_key(), &auth)
            .expect("encrypt");
        // aes128gcm header (RFC 8188): 16-byte salt, record size, then the 65-byte sender key;
        // one record holding the message, its padding delimiter and the 16-byte tag.
        let record_size =
            u32::from_be_bytes([sealed[16], sealed[17], sealed[18], sealed[19]]) as usize;
        assert_eq!(record_size, RFC8291_PLAINTEXT.len() + 17);
        assert_eq!(sealed[20], 65);
        let plain = web_push_native::decrypt(sealed, &ua, &auth).expect("decrypt");
        assert_eq!(plain, RFC8291_PLAINTEXT);
    }

    const RFC8292_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3B1c2guZXhhbXBsZS5uZXQiLCJleHAiOjE0NTM1MjM3NjgsInN1YiI6Im1haWx0bzpwdXNoQGV4YW1wbGUuY29tIn0.i3CYb7t4xfxCDquptFOepC9GAu_HLGkMlMuCGSK2rpiUfnK9ojFwDXb1JrErtmysazNjjvW2L9OkSSHzvoD1oA";
    const RFC8292_K: &str =
        "BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDYic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs";

    /// Verifies a VAPID token against a `k` key, as of `at` (unix seconds) when given.
    fn verify(token: &str, k: &str, at: Option<u64>) -> JWTClaims<NoCustomClaims> {
        let key = ES256PublicKey::from_bytes(&b64(k)).expect("k is a P-256 point");
        let options = VerificationOptions {
            artificial_time: at.map(UnixTimeStamp::from_secs),
            ..VerificationOptions::default()
        };
        key.verify_token::<NoCustomClaims>(token, Some(options))
            .expect("signature verifies")
    }

    #[test]
    fn rfc8292_example_token_verifies_with_its_key() {
        // As of an hour before the example's expiry (it expired in January 2016).
        let claims = verify(RFC8292_TOKEN, RFC8292_K, Some(1_453_523_768 - 3600));
        assert_eq!(claims.subject.as_deref(), Some("mailto:push@example.com"));
        assert!(
            claims
                .audiences
                .expect("aud")
                .contains(&HashSet::from(["https://push.example.net".to_string()]))
        );
    }

    #[test]
    fn our_vapid_header_has_the_rfc8292_shape_and_verifies() {
        let vapid = VapidKey::generate();
        let again = VapidKey::from_private(&vapid.private_b64()).expect("round trip");
        assert_eq!(again.public_b64(), vapid.public_b64());
        let (ua, auth) = rfc_ua();
        let request = WebPushBuilder::new(
            "https://push.example.net/p/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV"
                .parse()
                .expect("uri"),
            ua.public_key(),
            auth,
        )
        .with_vapid(&vapid.pair, "mailto:push@example.com")
        .build(b"hi".to_vec())
        .expect("request");
        let header = request.headers()["authorization"].to_str().expect("ascii");
        let rest = header.strip_prefix("vapid t=").expect("vapid scheme");
        let (token, k) = rest.split_once(", k=").expect("t and k");
        assert_eq!(k, vapid.public_b64());
        let claims = verify(token, k, None);
        assert_eq!(claims.subject.as_deref(), Some("mailto:push@example.com"));
        assert!(
            claims
                .audiences
                .expect("aud")
                .contains(&HashSet::from(["https://push.example.net".to_string()]))
        );
        assert_eq!(request.headers()["content-encoding"], "aes128gcm");
        assert!(request.headers().contains_key("ttl"));
    }
}
