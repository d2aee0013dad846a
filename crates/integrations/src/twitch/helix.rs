//! The Helix client: app token, rate limit, batching (≤100 ids per call) and pagination.

use std::sync::Arc;
use std::time::SystemTime;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use super::error::{self, TwitchError, error_message, network};
use super::ratelimit::RateLimiter;
use super::token::AppToken;
use super::types::{
    EventSubSubscription, FollowedChannel, HelixChannel, HelixClip, HelixGame, HelixStream,
    HelixUser, HelixVideo, NewSubscription, Page, TokenInfo,
};

/// Twitch answers 400 for more ids than this in one call.
pub const MAX_IDS_PER_CALL: usize = 100;
/// A guard against a server that hands out cursors forever.
const MAX_PAGES: usize = 10_000;
/// 429s in a row before giving up on one call.
const MAX_RATE_LIMIT_RETRIES: u32 = 3;

#[derive(Clone)]
pub struct HelixConfig {
    /// Twitch's is [`super::HELIX_URL`].
    pub helix_url: Url,
    /// Twitch's is [`super::ID_URL`].
    pub id_url: Url,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for HelixConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelixConfig")
            .field("helix_url", &self.helix_url.as_str())
            .field("id_url", &self.id_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .finish()
    }
}

/// Which token a call carries.
#[derive(Clone, Copy)]
enum Auth<'a> {
    App,
    User(&'a str),
}

struct Inner {
    http: reqwest::Client,
    cfg: HelixConfig,
    token: AppToken,
    limiter: RateLimiter,
}

/// Cheap to clone: all clones share the token and the rate-limit state.
#[derive(Clone)]
pub struct HelixClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for HelixClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelixClient")
            .field("cfg", &self.inner.cfg)
            .finish_non_exhaustive()
    }
}

/// `Url::join` drops the last segment of a base without a trailing slash; add one.
pub(crate) fn dir(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

fn join(base: &Url, path: &str) -> Result<Url, TwitchError> {
    base.join(path)
        .map_err(|e| TwitchError::BadRequest(format!("bad URL {path}: {e}")))
}

impl HelixClient {
    pub fn new(http: reqwest::Client, mut cfg: HelixConfig) -> Self {
        cfg.helix_url = dir(cfg.helix_url);
        cfg.id_url = dir(cfg.id_url);
        Self {
            inner: Arc::new(Inner {
                http,
                cfg,
                token: AppToken::default(),
                limiter: RateLimiter::default(),
            }),
        }
    }

    async fn app_token(&self) -> Result<String, TwitchError> {
        let i = &self.inner;
        // Joined per call so that a bad id URL fails the call instead of sending the client
        // secret somewhere else.
        let token_url = join(&i.cfg.id_url, "oauth2/token")?;
        i.token
            .get(&i.http, &token_url, &i.cfg.client_id, &i.cfg.client_secret)
            .await
    }

    /// Sends one Helix request: waits for the bucket, refreshes the app token once on a 401,
    /// retries a 429 after the reset. Returns the successful answer.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        auth: Auth<'_>,
    ) -> Result<reqwest::Response, TwitchError> {
        let url = join(&self.inner.cfg.helix_url, path)?;
        let mut refreshed = false;
        let mut limited = 0;
        loop {
            // Acquire again after each wait: the callers parked on the same empty bucket must
            // not all go out at the reset.
            while let Some(wait) = self.inner.limiter.acquire(SystemTime::now()) {
                tokio::time::sleep(wait).await;
            }
            let token = match auth {
                Auth::App => self.app_token().await?,
                Auth::User(t) => t.to_owned(),
            };
            let mut req = self
                .inner
                .http
                .request(method.clone(), url.clone())
                .query(query)
                .header("Client-Id", &self.inner.cfg.client_id)
                .bearer_auth(&token);
            if let Some(b) = body {
                req = req.json(b);
            }
            let response = req.send().await.map_err(network)?;
            self.inner.limiter.observe(response.headers());
            let status = response.status();
            match status {
                s if s.is_success() => return Ok(response),
                StatusCode::UNAUTHORIZED if matches!(auth, Auth::App) && !refreshed => {
                    // The token was revoked or expired early: one fresh token, one retry.
                    self.inner.token.invalidate(&token).await;
                    refreshed = true;
                }
                StatusCode::UNAUTHORIZED => return Err(TwitchError::Unauthorized),
                StatusCode::TOO_MANY_REQUESTS if limited < MAX_RATE_LIMIT_RETRIES => {
                    self.inner.limiter.exhausted(SystemTime::now());
                    limited += 1;
                }
                StatusCode::TOO_MANY_REQUESTS => return Err(TwitchError::RateLimited),
                StatusCode::BAD_REQUEST => {
                    return Err(TwitchError::BadRequest(error_message(response).await));
                }
                _ => return Err(error::http(response).await),
            }
        }
    }

    /// [`Self::send`], then the answer's JSON.
    async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        auth: Auth<'_>,
    ) -> Result<T, TwitchError> {
        let response = self.send(method, path, query, body, auth).await?;
        error::json(response).await
    }

    /// GET every page of a list (`pagination.cursor` → `after=`).
    async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        auth: Auth<'_>,
    ) -> Result<Vec<T>, TwitchError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = query.to_vec();
            if let Some(c) = &after {
                q.push(("after", c.clone()));
            }
            let page: Page<T> = self.send_json(Method::GET, path, &q, None, auth).await?;
            out.extend(page.data);
            match page.pagination.cursor.filter(|c| !c.is_empty()) {
                Some(c) if after.as_deref() != Some(c.as_str()) => after = Some(c),
                _ => return Ok(out),
            }
        }
        Err(TwitchError::Decode(format!(
            "{path}: pagination never ended"
        )))
    }

    /// One call per chunk of ≤100 ids (`key=id&key=id…`), each followed through its pages.
    async fn get_batched<T: DeserializeOwned>(
        &self,
        path: &str,
        key: &'static str,
        ids: &[String],
        page_size: bool,
    ) -> Result<Vec<T>, TwitchError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(MAX_IDS_PER_CALL) {
            let mut q: Vec<(&str, String)> = chunk.iter().map(|id| (key, id.clone())).collect();
            if page_size {
                q.push(("first", MAX_IDS_PER_CALL.to_string()));
            }
            out.extend(self.get_all::<T>(path, &q, Auth::App).await?);
        }
        Ok(out)
    }

    pub async fn users_by_login(&self, logins: &[String]) -> Result<Vec<HelixUser>, TwitchError> {
        self.get_batched("users", "login", logins, false).await
    }

    pub async fn users_by_id(&self, ids: &[String]) -> Result<Vec<HelixUser>, TwitchError> {
        self.get_batched("users", "id", ids, false).await
    }

    /// The live streams among these users; an offline user is simply absent. An error means
    /// "unknown", never "offline".
    pub async fn streams_by_user_id(
        &self,
        user_ids: &[String],
    ) -> Result<Vec<HelixStream>, TwitchError> {
        self.get_batched("streams", "user_id", user_ids, true).await
    }

    pub async fn channels(
        &self,
        broadcaster_ids: &[String],
    ) -> Result<Vec<HelixChannel>, TwitchError> {
        self.get_batched("channels", "broadcaster_id", broadcaster_ids, false)
            .await
    }

    pub async fn games(&self, ids: &[String]) -> Result<Vec<HelixGame>, TwitchError> {
        self.get_batched("games", "id", ids, false).await
    }

    /// The newest videos of `user_id` of one `kind` (`archive`, `highlight`, `upload`), newest
    /// first, following pages until `max` are listed or none are left.
    pub async fn videos(
        &self,
        user_id: &str,
        kind: &str,
        max: usize,
    ) -> Result<Vec<HelixVideo>, TwitchError> {
        let q = [
            ("user_id", user_id.to_owned()),
            ("type", kind.to_owned()),
            ("first", max.clamp(1, MAX_IDS_PER_CALL).to_string()),
        ];
        self.get_up_to("videos", &q, max).await
    }

    /// The most viewed clips of a channel created in `[started_at, ended_at)` (RFC 3339), at
    /// most `max`.
    pub async fn clips(
        &self,
        broadcaster_id: &str,
        started_at: &str,
        ended_at: &str,
        max: usize,
    ) -> Result<Vec<HelixClip>, TwitchError> {
        let q = [
            ("broadcaster_id", broadcaster_id.to_owned()),
            ("started_at", started_at.to_owned()),
            ("ended_at", ended_at.to_owned()),
            ("first", max.clamp(1, MAX_IDS_PER_CALL).to_string()),
        ];
        self.get_up_to("clips", &q, max).await
    }

    /// GET pages of a list until `max` items (or the end).
    async fn get_up_to<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        max: usize,
    ) -> Result<Vec<T>, TwitchError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = query.to_vec();
            if let Some(c) = &after {
                q.push(("after", c.clone()));
            }
            let page: Page<T> = self
                .send_json(Method::GET, path, &q, None, Auth::App)
                .await?;
            out.extend(page.data);
            if out.len() >= max {
                out.truncate(max);
                return Ok(out);
            }
            match page.pagination.cursor.filter(|c| !c.is_empty()) {
                Some(c) if after.as_deref() != Some(c.as_str()) => after = Some(c),
                _ => return Ok(out),
            }
        }
        Ok(out)
    }

    /// Channels `user_id` follows; needs that user's token (scope `user:read:follows`).
    pub async fn followed_channels(
        &self,
        user_id: &str,
        user_token: &str,
    ) -> Result<Vec<FollowedChannel>, TwitchError> {
        let q = [
            ("user_id", user_id.to_owned()),
            ("first", MAX_IDS_PER_CALL.to_string()),
        ];
        self.get_all("channels/followed", &q, Auth::User(user_token))
            .await
    }

    /// Who a user token belongs to (`GET oauth2/validate`, `Authorization: OAuth …`).
    pub async fn validate_user_token(&self, token: &str) -> Result<TokenInfo, TwitchError> {
        super::device::validate(&self.inner.http, &self.inner.cfg.id_url, token).await
    }

    pub async fn eventsub_list(&self) -> Result<Vec<EventSubSubscription>, TwitchError> {
        self.get_all("eventsub/subscriptions", &[], Auth::App).await
    }

    /// Creates a webhook subscription (Twitch answers 202 and then sends the challenge).
    pub async fn eventsub_create(
        &self,
        sub: &NewSubscription,
    ) -> Result<EventSubSubscription, TwitchError> {
        let body = serde_json::json!({
            "type": sub.kind,
            "version": sub.version,
            "condition": sub.condition,
            "transport": {"method": "webhook", "callback": sub.callback, "secret": sub.secret},
        });
        let page: Page<EventSubSubscription> = self
            .send_json(
                Method::POST,
                "eventsub/subscriptions",
                &[],
                Some(&body),
                Auth::App,
            )
            .await?;
        page.data
            .into_iter()
            .next()
            .ok_or_else(|| TwitchError::Decode("no subscription in the answer".into()))
    }

    /// Deletes a subscription. One that is already gone (404) counts as deleted.
    pub async fn eventsub_delete(&self, id: &str) -> Result<(), TwitchError> {
        let q = [("id", id.to_owned())];
        match self
            .send(
                Method::DELETE,
                "eventsub/subscriptions",
                &q,
                None,
                Auth::App,
            )
            .await
        {
            Ok(_) | Err(TwitchError::Http { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_debug_masks_the_secret() {
        let cfg = HelixConfig {
            helix_url: Url::parse(crate::twitch::HELIX_URL).expect("url"),
            id_url: Url::parse(crate::twitch::ID_URL).expect("url"),
            client_id: "cid".into(),
            client_secret: "topsecretvalue".into(),
        };
        assert!(!format!("{cfg:?}").contains("topsecretvalue"));
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = HelixClient::new(reqwest::Client::new(), cfg);
        assert!(!format!("{client:?}").contains("topsecretvalue"));
    }

    #[test]
    fn bases_get_a_trailing_slash() {
        let u = dir(Url::parse("http://x/helix").expect("url"));
        assert_eq!(
            u.join("streams").expect("join").as_str(),
            "http://x/helix/streams"
        );
    }
}
