//! Web Push: the VAPID public key browsers subscribe with, and the subscriptions themselves.

use super::model::PushSubscription;
use super::notifier::{Notifier, NotifyError};
use crate::time::Timestamp;

impl Notifier {
    /// The key browsers pass to `pushManager.subscribe`, and how many browsers subscribed.
    pub async fn web_push_info(&self) -> Result<(String, usize), NotifyError> {
        let key = self
            .senders
            .vapid()
            .await
            .map_err(|e| NotifyError::Invalid(e.to_string()))?;
        let subs = self.store.list_push_subscriptions().await?;
        Ok((key.public_b64(), subs.len()))
    }

    pub async fn subscribe(&self, sub: &PushSubscription) -> Result<(), NotifyError> {
        validate_subscription(sub)?;
        Ok(self
            .store
            .save_push_subscription(sub, Timestamp::now())
            .await?)
    }

    pub async fn unsubscribe(&self, endpoint: &str) -> Result<(), NotifyError> {
        if self.store.delete_push_subscription(endpoint).await? {
            Ok(())
        } else {
            Err(NotifyError::NotFound)
        }
    }
}

/// Push endpoints are HTTPS (plain HTTP only on this machine, for local testing) and the keys
/// must be a P-256 point and a 16-byte secret.
fn validate_subscription(sub: &PushSubscription) -> Result<(), NotifyError> {
    use base64::Engine;
    let decode = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .ok()
    };
    let endpoint_ok = url::Url::parse(&sub.endpoint).is_ok_and(|u| {
        u.scheme() == "https"
            || (u.scheme() == "http"
                && matches!(
                    u.host_str(),
                    Some("127.0.0.1") | Some("localhost") | Some("[::1]")
                ))
    });
    if !endpoint_ok {
        return Err(NotifyError::Invalid("endpoint must be an https URL".into()));
    }
    if decode(&sub.keys.p256dh).is_none_or(|k| k.len() != 65 || k[0] != 4) {
        return Err(NotifyError::Invalid(
            "keys.p256dh must be an uncompressed P-256 key (base64url)".into(),
        ));
    }
    if decode(&sub.keys.auth).is_none_or(|a| a.len() != 16) {
        return Err(NotifyError::Invalid(
            "keys.auth must be 16 bytes (base64url)".into(),
        ));
    }
    Ok(())
}
