//! The Twitch clients, built from the configuration when credentials are set.

use crate::config::Config;
use tapearr_integrations::twitch::{HelixClient, HelixConfig, PlaybackClient};

#[derive(Clone)]
pub struct TwitchApi {
    pub helix: HelixClient,
    pub playback: PlaybackClient,
}

/// What the clients are built from: new ones when any of it changes.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct TwitchKey(String, String, String, String);

impl TwitchKey {
    pub(crate) fn of(config: &Config) -> Self {
        let t = &config.twitch;
        Self(
            t.client_id.clone(),
            t.client_secret.expose().to_string(),
            t.helix_url.to_string(),
            t.id_url.to_string(),
        )
    }
}

impl TwitchApi {
    /// `None` when `twitch.client_id` or `twitch.client_secret` is empty.
    pub fn from_config(config: &Config, http: reqwest::Client) -> Option<Self> {
        let t = &config.twitch;
        if t.client_id.trim().is_empty() || t.client_secret.is_empty() {
            return None;
        }
        let helix = HelixClient::new(
            http.clone(),
            HelixConfig {
                helix_url: t.helix_url.clone(),
                id_url: t.id_url.clone(),
                client_id: t.client_id.clone(),
                client_secret: t.client_secret.expose().to_string(),
            },
        );
        let playback = PlaybackClient::new(http, t.gql_url.clone(), t.usher_url.clone());
        Some(Self { helix, playback })
    }
}

impl super::Streams {
    /// Checks Twitch application credentials before they are saved: Twitch must grant them an
    /// app token and answer a Helix request with it. `client_secret` `None` uses the one in use.
    pub async fn test_credentials(
        &self,
        client_id: &str,
        client_secret: Option<&str>,
    ) -> super::StreamsResult<()> {
        let mut config = (*self.inner.live.current()).clone();
        config.twitch.client_id = client_id.trim().to_string();
        if let Some(secret) = client_secret {
            config.twitch.client_secret = crate::secret::Secret::new(secret.trim());
        }
        let api = TwitchApi::from_config(&config, self.inner.http.clone()).ok_or_else(|| {
            super::StreamsError::Invalid(
                "both the client id and the client secret are needed".into(),
            )
        })?;
        api.helix.users_by_login(&["twitch".to_string()]).await?;
        Ok(())
    }
}
