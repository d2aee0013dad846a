//! The optional Twitch user account: its token (sealed at rest) unlocks followed-channel import
//! and, for playback, what the account may watch.

use super::{Streams, StreamsError, StreamsResult};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use tapearr_integrations::twitch::playback::WEB_CLIENT_ID;

const ACCOUNT_KEY: &str = "twitch.account";
const TOKEN_KEY: &str = "twitch.user_token";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TwitchAccount {
    pub user_id: String,
    pub login: String,
    /// The application the token was issued to. Only a twitch.tv web-player token
    /// (`auth-token` cookie) is accepted by the playback endpoint; an application's token serves
    /// Helix (followed channels) only.
    #[serde(default)]
    pub client_id: String,
    pub connected_at: Timestamp,
    /// When Twitch said the token expires (`None`: no expiry reported).
    pub expires_at: Option<Timestamp>,
}

impl Streams {
    pub async fn account(&self) -> StreamsResult<Option<TwitchAccount>> {
        let Some(raw) = self.inner.store.app_value(ACCOUNT_KEY).await? else {
            return Ok(None);
        };
        Ok(serde_json::from_str(&raw).ok())
    }

    /// Validates the token with Twitch, then keeps it sealed.
    pub async fn connect_account(&self, token: &str) -> StreamsResult<TwitchAccount> {
        let token = token.trim().trim_start_matches("OAuth ").trim();
        if token.is_empty()
            || token.len() > 200
            || !token.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(StreamsError::Invalid(
                "that does not look like a Twitch token".into(),
            ));
        }
        let info = self
            .twitch()?
            .helix
            .validate_user_token(token)
            .await
            .map_err(|e| match e {
                tapearr_integrations::twitch::TwitchError::Unauthorized => {
                    StreamsError::Invalid("Twitch refused the token (expired or revoked)".into())
                }
                other => other.into(),
            })?;
        let now = Timestamp::now();
        let account = TwitchAccount {
            user_id: info.user_id,
            login: info.login,
            client_id: info.client_id,
            connected_at: now,
            expires_at: (info.expires_in > 0)
                .then(|| now.plus(std::time::Duration::from_secs(info.expires_in))),
        };
        let json =
            serde_json::to_string(&account).map_err(|e| StreamsError::Invalid(e.to_string()))?;
        let store = &self.inner.store;
        store
            .set_app_value(TOKEN_KEY, Some(&self.inner.secrets.seal(token)))
            .await?;
        store.set_app_value(ACCOUNT_KEY, Some(&json)).await?;
        Ok(account)
    }

    pub async fn disconnect_account(&self) -> StreamsResult<()> {
        self.inner.store.set_app_value(TOKEN_KEY, None).await?;
        self.inner.store.set_app_value(ACCOUNT_KEY, None).await?;
        Ok(())
    }

    /// The account's token when Twitch's playback endpoint accepts it (a web-player token).
    pub(crate) async fn playback_token(&self) -> Option<String> {
        let account = self.account().await.ok().flatten()?;
        if account.client_id != WEB_CLIENT_ID {
            return None;
        }
        self.user_token().await.ok().flatten()
    }

    pub(crate) async fn user_token(&self) -> StreamsResult<Option<String>> {
        let Some(sealed) = self.inner.store.app_value(TOKEN_KEY).await? else {
            return Ok(None);
        };
        match self.inner.secrets.open_sealed(&sealed) {
            Ok(token) => Ok(Some(token)),
            Err(e) => {
                tracing::warn!(error = %e, "stored Twitch token unreadable; continuing without it");
                Ok(None)
            }
        }
    }
}
