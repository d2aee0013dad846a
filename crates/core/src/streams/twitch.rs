//! The Twitch clients, built from the configuration when credentials are set.

use crate::config::Config;
use tapearr_integrations::twitch::{HelixClient, HelixConfig, PlaybackClient};

#[derive(Clone)]
pub struct TwitchApi {
    pub helix: HelixClient,
    pub playback: PlaybackClient,
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
