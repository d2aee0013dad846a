//! A user's token by Twitch's device-code grant (public client: the client id only, no
//! secret), its refresh, revocation and validation.
//!
//! Twitch answers every refusal of the id service with `400 {"status":400,"message":"…"}`;
//! the message tells a pending authorization from a declined or expired one.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use url::Url;

use super::error::{self, TwitchError, error_message, network};
use super::helix::dir;
use super::types::TokenInfo;

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The id service for one application (client id).
#[derive(Clone)]
pub struct UserAuthClient {
    http: reqwest::Client,
    id_url: Url,
    client_id: String,
    /// A confidential client (the kind Tapearr's setup asks for) must send its secret with a
    /// refresh; a public one has none.
    client_secret: Option<String>,
}

/// `POST /oauth2/device`'s answer. `device_code` identifies the sign-in to Twitch: it stays
/// on the server and out of logs.
#[derive(Clone, Deserialize)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: u64,
    #[serde(default = "default_interval")]
    pub interval: u64,
}

fn default_interval() -> u64 {
    5
}

impl std::fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCode")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// An access token and the refresh token that renews it.
#[derive(Clone, Deserialize)]
pub struct UserTokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: String,
    /// Seconds; Twitch leaves it out of some refresh answers (validate tells it then).
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl std::fmt::Debug for UserTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserTokens")
            .field("access_token", &"***")
            .field("refresh_token", &"***")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// One poll of the token endpoint during a device-code sign-in.
#[derive(Debug)]
pub enum DevicePoll {
    /// The user has not answered yet.
    Pending,
    /// Polled too often: wait this much longer between polls from now on.
    SlowDown,
    Denied,
    /// The device code expired (or was used already).
    Expired,
    Granted(UserTokens),
}

/// How a refresh ended when Twitch answered.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The refresh token is no longer valid (used, revoked, expired): sign in again.
    #[error("Twitch refused the refresh token: {0}")]
    Refused(String),
    #[error(transparent)]
    Twitch(#[from] TwitchError),
}

impl UserAuthClient {
    pub fn new(
        http: reqwest::Client,
        id_url: Url,
        client_id: &str,
        client_secret: Option<&str>,
    ) -> Self {
        Self {
            http,
            id_url: dir(id_url),
            client_id: client_id.to_owned(),
            client_secret: client_secret.filter(|s| !s.is_empty()).map(str::to_owned),
        }
    }

    fn url(&self, path: &str) -> Result<Url, TwitchError> {
        self.id_url
            .join(path)
            .map_err(|e| TwitchError::BadRequest(format!("bad URL {path}: {e}")))
    }

    /// Starts a sign-in: the code the user enters at `verification_uri`.
    pub async fn start(&self, scopes: &[&str]) -> Result<DeviceCode, TwitchError> {
        let scopes = scopes.join(" ");
        let response = self
            .http
            .post(self.url("oauth2/device")?)
            .form(&[("client_id", self.client_id.as_str()), ("scopes", &scopes)])
            .send()
            .await
            .map_err(network)?;
        match response.status() {
            s if s.is_success() => error::json(response).await,
            StatusCode::BAD_REQUEST => Err(TwitchError::BadRequest(error_message(response).await)),
            _ => Err(error::http(response).await),
        }
    }

    /// Asks once whether the user has answered.
    pub async fn poll(
        &self,
        device_code: &str,
        scopes: &[&str],
    ) -> Result<DevicePoll, TwitchError> {
        let scopes = scopes.join(" ");
        let response = self
            .http
            .post(self.url("oauth2/token")?)
            .form(&[
                ("client_id", self.client_id.as_str()),
                ("scopes", &scopes),
                ("device_code", device_code),
                ("grant_type", DEVICE_GRANT),
            ])
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        if status.is_success() {
            return Ok(DevicePoll::Granted(error::json(response).await?));
        }
        if status != StatusCode::BAD_REQUEST {
            return Err(error::http(response).await);
        }
        let message = error_message(response).await;
        Ok(match message.to_ascii_lowercase().as_str() {
            "authorization_pending" => DevicePoll::Pending,
            "slow_down" => DevicePoll::SlowDown,
            "access_denied" | "authorization_declined" => DevicePoll::Denied,
            "expired_token" | "invalid device code" => DevicePoll::Expired,
            _ => return Err(TwitchError::BadRequest(message)),
        })
    }

    /// Trades the refresh token for new tokens (the old refresh token stops working).
    pub async fn refresh(&self, refresh_token: &str) -> Result<UserTokens, RefreshError> {
        // Form-encoded: Twitch's refresh tokens hold `%` and `=`.
        let mut form = vec![
            ("client_id", self.client_id.as_str()),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        if let Some(secret) = &self.client_secret {
            form.push(("client_secret", secret));
        }
        let response = self
            .http
            .post(self.url("oauth2/token")?)
            .form(&form)
            .send()
            .await
            .map_err(network)?;
        match response.status() {
            s if s.is_success() => Ok(error::json(response).await?),
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Err(RefreshError::Refused(error_message(response).await))
            }
            _ => Err(error::http(response).await.into()),
        }
    }

    /// Revokes an access token; one Twitch no longer knows counts as revoked.
    pub async fn revoke(&self, token: &str) -> Result<(), TwitchError> {
        let response = self
            .http
            .post(self.url("oauth2/revoke")?)
            .form(&[("client_id", self.client_id.as_str()), ("token", token)])
            .send()
            .await
            .map_err(network)?;
        match response.status() {
            s if s.is_success() => Ok(()),
            StatusCode::BAD_REQUEST => Ok(()),
            _ => Err(error::http(response).await),
        }
    }

    /// Who the token belongs to and how long it lives.
    pub async fn validate(&self, token: &str) -> Result<TokenInfo, TwitchError> {
        validate(&self.http, &self.id_url, token).await
    }
}

/// `GET oauth2/validate` with `Authorization: OAuth …`.
pub(crate) async fn validate(
    http: &reqwest::Client,
    id_url: &Url,
    token: &str,
) -> Result<TokenInfo, TwitchError> {
    let url = id_url
        .join("oauth2/validate")
        .map_err(|e| TwitchError::BadRequest(format!("bad URL oauth2/validate: {e}")))?;
    let response = http
        .get(url)
        .header("Authorization", format!("OAuth {token}"))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(network)?;
    match response.status() {
        s if s.is_success() => error::json(response).await,
        StatusCode::UNAUTHORIZED => Err(TwitchError::Unauthorized),
        _ => Err(error::http(response).await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_codes_and_tokens() {
        let code = DeviceCode {
            device_code: "secretdevicecode".into(),
            user_code: "ABCDEFGH".into(),
            verification_uri: "https://www.twitch.tv/activate".into(),
            expires_in: 1800,
            interval: 5,
        };
        assert!(!format!("{code:?}").contains("secretdevicecode"));
        let tokens = UserTokens {
            access_token: "accesssecret".into(),
            refresh_token: "refreshsecret".into(),
            expires_in: Some(10),
        };
        let shown = format!("{tokens:?}");
        assert!(!shown.contains("accesssecret") && !shown.contains("refreshsecret"));
    }
}
