//! The app access token (client-credentials grant): fetched on first use, shared by all
//! callers, dropped when Helix answers 401 so the next call fetches a fresh one.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use super::error::{self, TwitchError, network};

/// Renew this long before Twitch's expiry so a request never leaves with a dying token.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: u64,
}

struct Cached {
    value: String,
    renew_at: Instant,
}

#[derive(Default)]
pub(crate) struct AppToken {
    cached: Mutex<Option<Cached>>,
}

impl AppToken {
    /// The current token, fetching one if needed. The lock is held across the fetch so that
    /// concurrent callers wait for one request instead of each making their own.
    pub async fn get(
        &self,
        http: &reqwest::Client,
        url: &url::Url,
        client_id: &str,
        client_secret: &str,
    ) -> Result<String, TwitchError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| c.renew_at > Instant::now()) {
            return Ok(c.value.clone());
        }
        // Credentials go in the form body, not the URL, so no log line or proxy sees them.
        let response = http
            .post(url.clone())
            .form(&[
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        if status.as_u16() == 400 || status.as_u16() == 401 || status.as_u16() == 403 {
            return Err(TwitchError::Unauthorized);
        }
        if !status.is_success() {
            return Err(error::http(response).await);
        }
        let answer: TokenAnswer = error::json(response).await?;
        let lifetime = Duration::from_secs(answer.expires_in).saturating_sub(EXPIRY_MARGIN);
        let value = answer.access_token;
        *cached = Some(Cached {
            value: value.clone(),
            renew_at: Instant::now() + lifetime.max(Duration::from_secs(1)),
        });
        Ok(value)
    }

    /// Forgets `rejected` (unless another caller already replaced it).
    pub async fn invalidate(&self, rejected: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.value == rejected) {
            *cached = None;
        }
    }
}
