//! The optional Twitch user account: its token (sealed at rest) unlocks followed-channel import
//! and, for playback, what the account may watch.
//!
//! Two ways in: a pasted token (kept as it is until it expires; the twitch.tv web player's
//! token is the only one the playback endpoint accepts), or the device-code sign-in
//! ([`super::signin`]), whose token is renewed here with its refresh token before it expires
//! and again when Helix refuses it. A refused refresh marks the account as needing a new
//! sign-in and says so with an event.

use super::{Streams, StreamsError, StreamsResult};
use crate::events::DomainEvent;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tapearr_integrations::twitch::playback::WEB_CLIENT_ID;
use tapearr_integrations::twitch::{RefreshError, TokenInfo, UserAuthClient, UserTokens};
use tokio::sync::Notify;

const ACCOUNT_KEY: &str = "twitch.account";
const TOKEN_KEY: &str = "twitch.user_token";
const REFRESH_KEY: &str = "twitch.refresh_token";

/// Renew when this much (or half the token's lifetime, if less) remains.
const REFRESH_MARGIN: Duration = Duration::from_secs(600);
/// After a refresh that failed for another reason than a refusal (Twitch unreachable).
const RETRY_AFTER: Duration = Duration::from_secs(30);
/// Nothing to renew: look again this often anyway (a change also wakes the loop).
const IDLE_CHECK: Duration = Duration::from_secs(3600);

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
    /// Signed in with Twitch (device code): the token is renewed automatically before it
    /// expires. `false` for a pasted token.
    #[serde(default)]
    pub refreshes: bool,
    /// Twitch refused to renew the token (the app was disconnected on twitch.tv, or the
    /// refresh token expired): sign in again. The tokens are gone.
    #[serde(default)]
    pub needs_sign_in: bool,
    /// When the current token was issued (its lifetime decides when to renew it).
    #[serde(default)]
    pub refreshed_at: Option<Timestamp>,
}

impl TwitchAccount {
    /// When to renew the token: `None` when it is not renewable.
    fn refresh_due(&self) -> Option<Timestamp> {
        if !self.refreshes || self.needs_sign_in {
            return None;
        }
        let expires = self.expires_at?;
        let issued = self.refreshed_at.unwrap_or(self.connected_at);
        let margin = REFRESH_MARGIN.min(issued.until(expires) / 2);
        Some(expires.minus(margin))
    }
}

/// The account's background state: wakes the refresh loop and serialises refreshes (a
/// refresh token works once, so two at a time would lose the account).
#[derive(Default)]
pub(crate) struct AccountState {
    pub changed: Notify,
    pub refresh_lock: tokio::sync::Mutex<()>,
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
            .map_err(refused_token)?;
        let account = account_of(info, false, None);
        self.store_account(&account, token, None).await?;
        Ok(account)
    }

    /// Signs out: forgets the tokens and, for a token issued to this application, revokes it
    /// at Twitch (a pasted web-player token is the user's browser session: left alone).
    pub async fn disconnect_account(&self) -> StreamsResult<()> {
        self.cancel_sign_in();
        let _guard = self.inner.account.refresh_lock.lock().await;
        let account = self.account().await?;
        let token = self.sealed(TOKEN_KEY).await?;
        let store = &self.inner.store;
        store
            .set_app_values(&[(TOKEN_KEY, None), (REFRESH_KEY, None), (ACCOUNT_KEY, None)])
            .await?;
        self.inner.account.changed.notify_one();
        if let (Some(account), Some(token), Ok(auth)) = (account, token, self.user_auth()) {
            let issued_to_us = account.client_id == self.inner.live.current().twitch.client_id;
            if issued_to_us && let Err(e) = auth.revoke(&token).await {
                tracing::warn!(error = %e, "Twitch token not revoked (forgotten here anyway)");
            }
        }
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

    /// The account's token, renewed first when it is about to expire.
    pub(crate) async fn user_token(&self) -> StreamsResult<Option<String>> {
        if let Some(account) = self.account().await?
            && account
                .refresh_due()
                .is_some_and(|due| due <= Timestamp::now())
        {
            self.refresh_account(false).await?;
        }
        self.sealed(TOKEN_KEY).await
    }

    /// The id service for the configured application (public client: no secret needed).
    pub(crate) fn user_auth(&self) -> StreamsResult<UserAuthClient> {
        let config = self.inner.live.current();
        let t = &config.twitch;
        if t.client_id.trim().is_empty() {
            return Err(StreamsError::NotConfigured);
        }
        Ok(UserAuthClient::new(
            self.inner.http.clone(),
            t.id_url.clone(),
            t.client_id.trim(),
            Some(t.client_secret.expose()),
        ))
    }

    /// Keeps what a device-code sign-in granted, once Twitch says whose token it is.
    pub(crate) async fn store_signed_in(
        &self,
        auth: &UserAuthClient,
        tokens: &UserTokens,
    ) -> StreamsResult<TwitchAccount> {
        let info = auth
            .validate(&tokens.access_token)
            .await
            .map_err(refused_token)?;
        let account = account_of(info, true, tokens.expires_in);
        let _guard = self.inner.account.refresh_lock.lock().await;
        self.store_account(&account, &tokens.access_token, Some(&tokens.refresh_token))
            .await?;
        Ok(account)
    }

    async fn store_account(
        &self,
        account: &TwitchAccount,
        token: &str,
        refresh: Option<&str>,
    ) -> StreamsResult<()> {
        let json =
            serde_json::to_string(account).map_err(|e| StreamsError::Invalid(e.to_string()))?;
        let store = &self.inner.store;
        let secrets = &self.inner.secrets;
        let token = secrets.seal(token);
        let refresh = refresh.filter(|r| !r.is_empty()).map(|r| secrets.seal(r));
        // Together: a kill never leaves a token with another grant's refresh token.
        store
            .set_app_values(&[
                (TOKEN_KEY, Some(&token)),
                (REFRESH_KEY, refresh.as_deref()),
                (ACCOUNT_KEY, Some(&json)),
            ])
            .await?;
        self.inner.account.changed.notify_one();
        Ok(())
    }

    /// Renews the token with the refresh token: when it is due, or at once with `force` (Helix
    /// refused it). `Ok(false)`: nothing to renew.
    pub(crate) async fn refresh_account(&self, force: bool) -> StreamsResult<bool> {
        let _guard = self.inner.account.refresh_lock.lock().await;
        // Read again under the lock: another caller may have renewed it meanwhile.
        let Some(mut account) = self.account().await? else {
            return Ok(false);
        };
        let Some(due) = account.refresh_due() else {
            return Ok(false);
        };
        if !force && due > Timestamp::now() {
            return Ok(false);
        }
        let auth = self.user_auth()?;
        let Some(refresh) = self.sealed(REFRESH_KEY).await? else {
            self.needs_sign_in(account, "no refresh token is stored")
                .await?;
            return Err(sign_in_again());
        };
        let tokens = match auth.refresh(&refresh).await {
            Ok(t) => t,
            Err(RefreshError::Refused(message)) => {
                self.needs_sign_in(account, &message).await?;
                return Err(sign_in_again());
            }
            Err(RefreshError::Twitch(e)) => return Err(e.into()),
        };
        // The old refresh token is spent: keep the new one before anything else can fail.
        let secrets = &self.inner.secrets;
        let store = &self.inner.store;
        store
            .set_app_value(TOKEN_KEY, Some(&secrets.seal(&tokens.access_token)))
            .await?;
        if !tokens.refresh_token.is_empty() {
            store
                .set_app_value(REFRESH_KEY, Some(&secrets.seal(&tokens.refresh_token)))
                .await?;
        }
        // Twitch's refresh answer may lack `expires_in`; validate says it.
        let expires_in = match auth.validate(&tokens.access_token).await {
            Ok(info) if info.expires_in > 0 => Some(info.expires_in),
            Ok(_) => tokens.expires_in,
            Err(e) => {
                tracing::warn!(error = %e, "renewed Twitch token not validated");
                tokens.expires_in
            }
        };
        let now = Timestamp::now();
        account.expires_at = expires_in.map(|s| now.plus(Duration::from_secs(s)));
        account.refreshed_at = Some(now);
        let json =
            serde_json::to_string(&account).map_err(|e| StreamsError::Invalid(e.to_string()))?;
        store.set_app_value(ACCOUNT_KEY, Some(&json)).await?;
        tracing::info!(login = %account.login, "Twitch account token renewed");
        self.inner.account.changed.notify_one();
        Ok(true)
    }

    /// Twitch will not renew the token: forget the tokens, keep who it was, and tell the user.
    async fn needs_sign_in(&self, mut account: TwitchAccount, reason: &str) -> StreamsResult<()> {
        let store = &self.inner.store;
        store.set_app_value(TOKEN_KEY, None).await?;
        store.set_app_value(REFRESH_KEY, None).await?;
        account.needs_sign_in = true;
        let json =
            serde_json::to_string(&account).map_err(|e| StreamsError::Invalid(e.to_string()))?;
        store.set_app_value(ACCOUNT_KEY, Some(&json)).await?;
        let reason: String = reason.chars().take(200).collect();
        tracing::warn!(login = %account.login, %reason, "Twitch account needs a new sign-in");
        self.inner
            .events
            .emit(DomainEvent::TwitchSignInNeeded {
                login: account.login,
                reason,
            })
            .await;
        Ok(())
    }

    /// Renews the signed-in account's token before it expires, for as long as the server runs.
    pub(crate) async fn account_refresh_loop(self) {
        let state = &self.inner.account;
        loop {
            let due = match self.account().await {
                Ok(account) => account.and_then(|a| a.refresh_due()),
                Err(e) => {
                    tracing::warn!(error = %e, "Twitch account not read");
                    None
                }
            };
            let now = Timestamp::now();
            let wait = due.map_or(IDLE_CHECK, |due| now.until(due));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = state.changed.notified() => continue,
                _ = self.inner.shutdown.cancelled() => return,
            }
            if due.is_none() {
                continue;
            }
            if let Err(e) = self.refresh_account(false).await {
                if !matches!(e, StreamsError::Invalid(_)) {
                    tracing::warn!(error = %e, "Twitch account token not renewed; trying again");
                }
                tokio::select! {
                    _ = tokio::time::sleep(RETRY_AFTER) => {}
                    _ = self.inner.shutdown.cancelled() => return,
                }
            }
        }
    }

    async fn sealed(&self, key: &str) -> StreamsResult<Option<String>> {
        let Some(sealed) = self.inner.store.app_value(key).await? else {
            return Ok(None);
        };
        match self.inner.secrets.open_sealed(&sealed) {
            Ok(token) => Ok(Some(token)),
            Err(e) => {
                tracing::warn!(error = %e, key, "stored Twitch token unreadable; continuing without it");
                Ok(None)
            }
        }
    }
}

fn account_of(info: TokenInfo, refreshes: bool, expires_in: Option<u64>) -> TwitchAccount {
    let now = Timestamp::now();
    let expires_in = Some(info.expires_in).filter(|s| *s > 0).or(expires_in);
    TwitchAccount {
        user_id: info.user_id,
        login: info.login,
        client_id: info.client_id,
        connected_at: now,
        expires_at: expires_in.map(|s| now.plus(Duration::from_secs(s))),
        refreshes,
        needs_sign_in: false,
        refreshed_at: refreshes.then_some(now),
    }
}

fn refused_token(e: tapearr_integrations::twitch::TwitchError) -> StreamsError {
    match e {
        tapearr_integrations::twitch::TwitchError::Unauthorized => {
            StreamsError::Invalid("Twitch refused the token (expired or revoked)".into())
        }
        other => other.into(),
    }
}

fn sign_in_again() -> StreamsError {
    StreamsError::Invalid(
        "Twitch refused to renew the account's token: sign in with Twitch again".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(issued: i64, expires: Option<i64>, refreshes: bool) -> TwitchAccount {
        TwitchAccount {
            user_id: "1".into(),
            login: "a".into(),
            client_id: "c".into(),
            connected_at: Timestamp(issued),
            expires_at: expires.map(Timestamp),
            refreshes,
            needs_sign_in: false,
            refreshed_at: Some(Timestamp(issued)),
        }
    }

    #[test]
    fn a_long_token_is_renewed_ten_minutes_early_a_short_one_at_half_life() {
        let four_hours = 4 * 3600 * 1000;
        let a = account(0, Some(four_hours), true);
        assert_eq!(a.refresh_due(), Some(Timestamp(four_hours - 600_000)));
        let a = account(0, Some(20_000), true);
        assert_eq!(a.refresh_due(), Some(Timestamp(10_000)));
    }

    #[test]
    fn pasted_or_refused_tokens_are_not_renewed() {
        assert_eq!(account(0, Some(20_000), false).refresh_due(), None);
        assert_eq!(account(0, None, true).refresh_due(), None);
        let mut a = account(0, Some(20_000), true);
        a.needs_sign_in = true;
        assert_eq!(a.refresh_due(), None);
    }
}
