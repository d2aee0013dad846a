//! Plex sign-in by PIN, so nobody has to dig an `X-Plex-Token` out of Plex's web app.
//!
//! The server asks plex.tv for a pin, the browser opens plex.tv's sign-in page for its code,
//! and the web app polls [`PlexSignIn::status`], which reads the pin on plex.tv until it carries
//! the account's token. The token never goes to the browser: it is kept here, sealed, keyed by
//! the pin id, until the pin's expiry; the browser only sees the account's servers and picks
//! one. Creating a Plex connection (media server or trailer source) with that pin id then takes
//! the token from here ([`PlexSignIn::token_for`]), and only for an address of one of those
//! servers, so the token goes to plex.tv and the chosen server and nowhere else.
//!
//! Pending sign-ins live in memory: a restart forgets them and the user signs in again.

use crate::crypto::SecretBox;
use crate::ids::new_id;
use crate::secret::Secret;
use crate::storage::{Storage, StorageError};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tapearr_integrations::mediaserver::plex_tv::{PinState, PlexTv};

/// The key/value name of this installation's Plex client identifier (plex.tv ties pins to it).
const CLIENT_ID_KEY: &str = "plex.client_identifier";
/// Pending sign-ins kept at once; starting one more drops the oldest.
const MAX_PENDING: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum PlexSignInError {
    #[error("no Plex sign-in with this id: start again")]
    NotFound,
    #[error("the Plex sign-in expired: start again")]
    Expired,
    #[error("the Plex sign-in is not finished: sign in at plex.tv first")]
    NotSignedIn,
    #[error("{0}")]
    Invalid(String),
    /// plex.tv failed; the message says how (never with the token).
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A new sign-in: open `auth_url` in the browser, then poll its status.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlexPin {
    /// The pin id: poll `GET /api/v1/plex/pins/{id}`, then send it as `plex_pin_id`.
    pub id: u64,
    /// The code plex.tv shows on its page.
    pub code: String,
    /// plex.tv's sign-in page for this code.
    pub auth_url: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlexPinState {
    /// The user has not approved the pin yet.
    Waiting,
    /// Signed in: pick one of `servers`.
    SignedIn,
}

/// Where a sign-in stands; the token itself is never part of it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlexPinStatus {
    pub id: u64,
    pub state: PlexPinState,
    pub expires_at: Timestamp,
    /// The account's Plex Media Servers (empty while waiting).
    pub servers: Vec<PlexAccountServer>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlexAccountServer {
    pub name: String,
    pub client_identifier: String,
    pub owned: bool,
    /// Its addresses, local ones first: send one as the connection's `url`.
    pub connections: Vec<PlexAccountConnection>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlexAccountConnection {
    pub uri: String,
    pub local: bool,
}

struct Pending {
    created: Timestamp,
    expires_at: Timestamp,
    /// The account token, sealed, once plex.tv gave it.
    token: Option<Secret>,
    servers: Vec<PlexAccountServer>,
}

/// Where plex.tv and its sign-in page are (configurable so tests use the testkit's fake).
#[derive(Debug, Clone)]
pub struct PlexTvUrls {
    pub api: String,
    pub app: String,
}

#[derive(Clone)]
pub struct PlexSignIn {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Storage>,
    http: reqwest::Client,
    urls: PlexTvUrls,
    secrets: SecretBox,
    pending: Mutex<HashMap<u64, Pending>>,
}

impl PlexSignIn {
    pub fn new(
        store: Arc<dyn Storage>,
        http: reqwest::Client,
        urls: PlexTvUrls,
        secrets: SecretBox,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                http,
                urls,
                secrets,
                pending: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Pending>> {
        self.inner.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// plex.tv for this installation: its client identifier is made once and kept, so pins
    /// (and the device list on the user's Plex account) see one Tapearr.
    async fn plex_tv(&self) -> Result<PlexTv, PlexSignInError> {
        let id = self
            .inner
            .store
            .app_state_init(CLIENT_ID_KEY, &format!("tapearr-{}", new_id()))
            .await?;
        Ok(PlexTv::new(
            self.inner.http.clone(),
            &self.inner.urls.api,
            &self.inner.urls.app,
            &id,
        ))
    }

    /// Asks plex.tv for a new (strong) pin.
    pub async fn start(&self) -> Result<PlexPin, PlexSignInError> {
        let pin = self
            .plex_tv()
            .await?
            .create_pin()
            .await
            .map_err(|e| PlexSignInError::Upstream(e.to_string()))?;
        let now = Timestamp::now();
        // plex.tv says 1800 s for a strong pin; an answer without it gets that too.
        let lifetime = if pin.expires_in == 0 {
            1800
        } else {
            pin.expires_in
        };
        let expires_at = now.plus(Duration::from_secs(lifetime));
        let mut pending = self.pending();
        pending.retain(|_, p| p.expires_at > now);
        while pending.len() >= MAX_PENDING {
            let Some(oldest) = pending
                .iter()
                .min_by_key(|(_, p)| p.created)
                .map(|(k, _)| *k)
            else {
                break;
            };
            pending.remove(&oldest);
        }
        pending.insert(
            pin.id,
            Pending {
                created: now,
                expires_at,
                token: None,
                servers: Vec::new(),
            },
        );
        Ok(PlexPin {
            id: pin.id,
            code: pin.code,
            auth_url: pin.auth_url,
            expires_at,
        })
    }

    /// Where sign-in `id` stands; while waiting, plex.tv is asked once.
    pub async fn status(&self, id: u64) -> Result<PlexPinStatus, PlexSignInError> {
        let expires_at = {
            let pending = self.pending();
            let p = self.live(&pending, id)?;
            if p.token.is_some() {
                return Ok(signed_in(id, p));
            }
            p.expires_at
        };
        let plex_tv = self.plex_tv().await?;
        let state = plex_tv
            .pin(id)
            .await
            .map_err(|e| PlexSignInError::Upstream(e.to_string()))?;
        let token = match state {
            PinState::Waiting { .. } => {
                return Ok(PlexPinStatus {
                    id,
                    state: PlexPinState::Waiting,
                    expires_at,
                    servers: Vec::new(),
                });
            }
            PinState::Gone => {
                self.pending().remove(&id);
                return Err(PlexSignInError::Expired);
            }
            PinState::SignedIn { token } => token,
        };
        let servers: Vec<PlexAccountServer> = plex_tv
            .servers(&token)
            .await
            .map_err(|e| PlexSignInError::Upstream(e.to_string()))?
            .into_iter()
            .map(|s| PlexAccountServer {
                name: s.name,
                client_identifier: s.client_identifier,
                owned: s.owned,
                connections: s
                    .connections
                    .into_iter()
                    .map(|c| PlexAccountConnection {
                        uri: c.uri,
                        local: c.local,
                    })
                    .collect(),
            })
            .collect();
        let sealed = Secret::new(self.inner.secrets.seal(&token));
        let mut pending = self.pending();
        let p = pending.get_mut(&id).ok_or(PlexSignInError::NotFound)?;
        p.token = Some(sealed);
        p.servers = servers;
        Ok(signed_in(id, p))
    }

    /// The account token of signed-in `id`, for a connection to `url`, which must be an address
    /// plex.tv listed for one of the account's servers (the token goes nowhere else).
    pub fn token_for(&self, id: u64, url: &str) -> Result<String, PlexSignInError> {
        let pending = self.pending();
        let p = self.live(&pending, id)?;
        let Some(sealed) = &p.token else {
            return Err(PlexSignInError::NotSignedIn);
        };
        let listed = p
            .servers
            .iter()
            .flat_map(|s| &s.connections)
            .any(|c| tapearr_integrations::http::same_host(&c.uri, url));
        if !listed {
            return Err(PlexSignInError::Invalid(
                "the URL must be one of the addresses Plex lists for the account's servers".into(),
            ));
        }
        self.inner
            .secrets
            .open_sealed(sealed.expose())
            .map_err(|_| PlexSignInError::Expired)
    }

    fn live<'a>(
        &self,
        pending: &'a HashMap<u64, Pending>,
        id: u64,
    ) -> Result<&'a Pending, PlexSignInError> {
        let p = pending.get(&id).ok_or(PlexSignInError::NotFound)?;
        if p.expires_at <= Timestamp::now() {
            return Err(PlexSignInError::Expired);
        }
        Ok(p)
    }
}

fn signed_in(id: u64, p: &Pending) -> PlexPinStatus {
    PlexPinStatus {
        id,
        state: PlexPinState::SignedIn,
        expires_at: p.expires_at,
        servers: p.servers.clone(),
    }
}
