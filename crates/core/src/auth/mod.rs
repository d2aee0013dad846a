//! Accounts, login sessions with lockout, and API keys.

pub mod model;
pub mod password;
pub mod proxy;
pub mod tokens;
pub mod validate;

use crate::config::AuthConfig;
use crate::events::{DomainEvent, EventBus};
use crate::ids::new_id;
use crate::storage::{Storage, StorageError};
use crate::time::Timestamp;
use model::{ApiKey, LoginAttempt, LoginThrottle, Session, User};
use password::{HashGate, HashPermit};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the admin account already exists")]
    AlreadySetUp,
    #[error("{0}")]
    Invalid(String),
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("too many failed logins; try again in {minutes} minute(s)")]
    LockedOut { minutes: u64 },
    #[error("the server is busy checking other passwords; try again in {} second(s)", retry_after.as_secs())]
    Busy { retry_after: Duration },
    #[error("not found")]
    NotFound,
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Who made a request.
#[derive(Debug, Clone)]
pub enum Principal {
    Session { user: User, session: Session },
    ApiKey { key: ApiKey },
}

/// A credential that stopped being valid now, for the long-lived connections that checked it
/// once (the WebSocket): they close when one names their principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// One session was logged out.
    Session(String),
    /// Every session of this user ended (a password reset).
    SessionsOfUser(String),
    /// An API key was revoked.
    ApiKey(String),
}

impl Principal {
    /// Whether `r` ends this principal.
    pub fn revoked_by(&self, r: &Revocation) -> bool {
        match (self, r) {
            (Principal::Session { session, .. }, Revocation::Session(id)) => session.id == *id,
            (Principal::Session { session, .. }, Revocation::SessionsOfUser(user)) => {
                session.user_id == *user
            }
            (Principal::ApiKey { key }, Revocation::ApiKey(id)) => key.id == *id,
            _ => false,
        }
    }
}

/// Who is logging in, as the server saw it; shown in the sessions list.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub address: Option<String>,
}

/// A password change asked for by the signed-in user.
pub struct PasswordChange<'a> {
    pub current: &'a str,
    pub new: &'a str,
    /// End the user's other sessions too.
    pub sign_out_others: bool,
}

/// What a successful login hands to the client, once.
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
    pub user: User,
}

#[derive(Clone)]
pub struct AuthService {
    store: Arc<dyn Storage>,
    events: EventBus,
    config: AuthConfig,
    gate: HashGate,
    revocations: tokio::sync::broadcast::Sender<Revocation>,
    proxies: proxy::TrustedProxies,
    /// An untrusted peer sending the proxy header is logged once, not on every request.
    untrusted_header_logged: Arc<AtomicBool>,
}

/// The longest session the clock arithmetic is asked for (a century).
const LONGEST_SESSION: Duration = Duration::from_secs(100 * 365 * 86_400);

/// A valid hash of a random password: unknown user names cost the same time as known ones.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3Zr3cdYbLwGb3oS3JGQxRPGd8C8nS1iYcqqqBWWZSyo";

impl AuthService {
    pub fn new(store: Arc<dyn Storage>, events: EventBus, config: AuthConfig) -> Self {
        let gate = HashGate::new(
            config.hash_concurrency,
            Duration::from_millis(config.hash_wait_ms),
        );
        let (revocations, _) = tokio::sync::broadcast::channel(64);
        // Checked when the configuration is loaded; a list that fails here trusts nobody.
        let proxies = proxy::TrustedProxies::parse(&config.trusted_proxies).unwrap_or_default();
        Self {
            store,
            events,
            config,
            gate,
            revocations,
            proxies,
            untrusted_header_logged: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The reverse-proxy auth header, when one is configured (with proxies to trust it from).
    pub fn proxy_header(&self) -> Option<&str> {
        let name = self.config.proxy_header.trim();
        (!name.is_empty() && !self.proxies.is_empty()).then_some(name)
    }

    /// Whether the proxy header may be believed from this TCP peer; an untrusted sender is
    /// logged once.
    pub fn trusts_proxy(&self, peer: Option<IpAddr>) -> bool {
        if peer.is_some_and(|ip| self.proxies.contains(ip)) {
            return true;
        }
        if !self.untrusted_header_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                peer = ?peer,
                "ignored the reverse-proxy auth header from a peer not in auth.trusted_proxies \
                 (logged once)"
            );
        }
        false
    }

    /// Logouts, password resets and key revocations from now on. A receiver that lags must
    /// re-check its principal with [`AuthService::still_valid`].
    pub fn revocations(&self) -> tokio::sync::broadcast::Receiver<Revocation> {
        self.revocations.subscribe()
    }

    fn revoke(&self, r: Revocation) {
        // No receiver (no open WebSocket) is fine.
        let _ = self.revocations.send(r);
    }

    /// Whether a principal checked earlier would still be let in now: the session exists, has
    /// not expired and is within its absolute lifetime; the key exists and is not revoked.
    pub async fn still_valid(&self, principal: &Principal) -> Result<bool, AuthError> {
        let now = Timestamp::now();
        match principal {
            Principal::Session { session, .. } => Ok(self
                .store
                .session_by_token_hash(&session.token_hash)
                .await?
                .is_some_and(|s| s.id == session.id && self.session_alive(&s, now))),
            Principal::ApiKey { key } => Ok(self
                .store
                .api_key_by_hash(&key.key_hash)
                .await?
                .is_some_and(|k| k.id == key.id && k.revoked_at.is_none())),
        }
    }

    /// Not expired by disuse and younger than `auth.session_max_age_days`.
    fn session_alive(&self, session: &Session, now: Timestamp) -> bool {
        session.expires_at > now && now < self.session_deadline(session.created_at)
    }

    /// When a session created at `created_at` ends however often it is used.
    fn session_deadline(&self, created_at: Timestamp) -> Timestamp {
        created_at.plus(self.session_max_age())
    }

    fn session_max_age(&self) -> Duration {
        Duration::try_from_secs_f64(self.config.session_max_age_days * 86_400.0)
            .unwrap_or(LONGEST_SESSION)
            .min(LONGEST_SESSION)
    }

    /// The sliding expiry after a use at `now`, never past the session's absolute deadline.
    fn next_expiry(&self, created_at: Timestamp, now: Timestamp) -> Timestamp {
        let sliding = now.plus(self.session_lifetime());
        let deadline = self.session_deadline(created_at);
        if sliding < deadline {
            sliding
        } else {
            deadline
        }
    }

    /// A permit for one Argon2 run, or `Busy` once the wait is over.
    async fn hash_permit(&self) -> Result<HashPermit, AuthError> {
        self.gate.permit().await.map_err(|b| AuthError::Busy {
            retry_after: b.retry_after,
        })
    }

    pub async fn setup_required(&self) -> Result<bool, AuthError> {
        Ok(self.store.count_users().await? == 0)
    }

    /// Creates the first admin; refused once any user exists, also against a parallel setup.
    pub async fn create_admin(&self, username: &str, password: &str) -> Result<User, AuthError> {
        let username = validate::username(username)?;
        validate::new_password(password)?;
        if !self.setup_required().await? {
            return Err(AuthError::AlreadySetUp);
        }
        let permit = self.hash_permit().await?;
        let password_hash = password::hash_password(&permit, password.to_string())
            .await
            .map_err(AuthError::Hashing)?;
        drop(permit);
        let user = User {
            id: new_id(),
            username,
            password_hash,
            role: "admin".into(),
            created_at: Timestamp::now(),
        };
        match self.store.insert_first_user(&user).await {
            Err(StorageError::Conflict(_)) => Err(AuthError::AlreadySetUp),
            other => other.map(|_| user).map_err(Into::into),
        }
    }

    /// Sets a new password and ends every session of that user.
    pub async fn reset_password(&self, username: &str, password: &str) -> Result<(), AuthError> {
        validate::new_password(password)?;
        let user = self
            .store
            .user_by_name(&validate::username(username)?)
            .await?
            .ok_or(AuthError::NotFound)?;
        let permit = self.hash_permit().await?;
        let hash = password::hash_password(&permit, password.to_string())
            .await
            .map_err(AuthError::Hashing)?;
        self.store.set_password_hash(&user.id, &hash).await?;
        self.store.delete_sessions_of_user(&user.id).await?;
        self.revoke(Revocation::SessionsOfUser(user.id.clone()));
        self.store.clear_login_throttle(&user.username).await?;
        Ok(())
    }

    /// Checks a password under the lockout: every attempt is counted atomically before its
    /// password is checked, so parallel attempts get no more checks than sequential ones.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<NewSession, AuthError> {
        let key = validate::username(username)?;
        validate::login_password(password)?;
        let (permit, counted, limit) = self.counted_attempt(&key).await?;
        let user = self.store.user_by_name(&key).await?;
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.to_string());
        let valid = password::verify_password(&permit, password.to_string(), hash).await;
        drop(permit);
        let Some(user) = user.filter(|_| valid) else {
            if counted.failures == limit {
                // Exactly one attempt reaches the limit, however many run in parallel.
                tracing::warn!(username = %key, "login locked after repeated failures");
                self.events
                    .emit(DomainEvent::LoginLockedOut { username: key })
                    .await;
            }
            return Err(AuthError::BadCredentials);
        };
        self.store.clear_login_throttle(&key).await?;
        self.open_session(user, client).await
    }

    /// One password attempt for `key` under the lockout: a running lock is answered from one
    /// read (no permit, no hash); otherwise a hashing permit is taken and only then the attempt
    /// counted (one answered "busy" was never checked and must not lock its owner out during
    /// someone else's flood). Returns the permit, the count with this attempt, and the limit.
    async fn counted_attempt(
        &self,
        key: &str,
    ) -> Result<(HashPermit, LoginThrottle, u32), AuthError> {
        if let Some(t) = self.store.login_throttle(key).await? {
            locked(&t, Timestamp::now())?;
        }
        let permit = self.hash_permit().await?;
        let now = Timestamp::now();
        let window = self.lockout_window();
        let limit = self.config.lockout_attempts.max(1);
        let counted = self
            .store
            .count_login_attempt(&LoginAttempt {
                username: key.to_string(),
                now,
                window_cutoff: now.minus(window),
                lock_until: now.plus(window),
                limit,
            })
            .await?;
        if counted.failures > limit {
            return Err(locked_error(&counted, now));
        }
        Ok((permit, counted, limit))
    }

    /// A new session for a user whose identity is already proven (a password, or a trusted
    /// proxy's header).
    async fn open_session(&self, user: User, client: ClientInfo) -> Result<NewSession, AuthError> {
        let now = Timestamp::now();
        let token = tokens::random_token("");
        let csrf_token = tokens::random_token("");
        let expires_at = self.next_expiry(now, now);
        let session = Session {
            id: new_id(),
            user_id: user.id.clone(),
            token_hash: tokens::sha256_hex(&token),
            csrf_token: csrf_token.clone(),
            user_agent: client.user_agent,
            created_at: now,
            last_seen_at: now,
            expires_at,
            address: client.address,
        };
        self.store.insert_session(&session).await?;
        Ok(NewSession {
            token,
            csrf_token,
            expires_at,
            user,
        })
    }

    /// A session for the user a trusted reverse proxy named; `None` when no such user exists.
    /// The proxy did the authentication, so no password and no lockout here.
    pub async fn proxy_login(
        &self,
        username: &str,
        client: ClientInfo,
    ) -> Result<Option<NewSession>, AuthError> {
        let Ok(name) = validate::username(username) else {
            return Ok(None);
        };
        let Some(user) = self.store.user_by_name(&name).await? else {
            return Ok(None);
        };
        self.open_session(user, client).await.map(Some)
    }

    /// Changes the signed-in user's password after checking the current one. With
    /// `sign_out_others`, every other session of the user ends; the caller's stays.
    pub async fn change_password(
        &self,
        user: &User,
        current_session_id: &str,
        change: PasswordChange<'_>,
    ) -> Result<u64, AuthError> {
        validate::login_password(change.current)?;
        validate::new_password(change.new)?;
        // A stolen session must not make guessing the password cheaper than the login form:
        // wrong current passwords count towards the same lockout.
        let (permit, _, _) = self.counted_attempt(&user.username).await?;
        // Read again: the password may have changed since this request's session was checked.
        let stored = self
            .store
            .user_by_id(&user.id)
            .await?
            .ok_or(AuthError::NotFound)?;
        if !password::verify_password(&permit, change.current.to_string(), stored.password_hash)
            .await
        {
            return Err(AuthError::WrongCurrentPassword);
        }
        self.store.clear_login_throttle(&user.username).await?;
        let hash = password::hash_password(&permit, change.new.to_string())
            .await
            .map_err(AuthError::Hashing)?;
        drop(permit);
        self.store.set_password_hash(&user.id, &hash).await?;
        if !change.sign_out_others {
            return Ok(0);
        }
        self.end_other_sessions(user, current_session_id).await
    }

    /// Ends every session of `user` but `keep_id`.
    pub async fn end_other_sessions(&self, user: &User, keep_id: &str) -> Result<u64, AuthError> {
        let sessions = self.store.sessions_of_user(&user.id).await?;
        let ended = self.store.delete_other_sessions(&user.id, keep_id).await?;
        for s in sessions.into_iter().filter(|s| s.id != keep_id) {
            self.revoke(Revocation::Session(s.id));
        }
        Ok(ended)
    }

    /// Ends every session of `user`, the caller's included ("sign out everywhere"). API keys
    /// are not sessions and stay valid.
    pub async fn end_all_sessions(&self, user: &User) -> Result<u64, AuthError> {
        let ended = self.store.delete_sessions_of_user(&user.id).await?;
        self.revoke(Revocation::SessionsOfUser(user.id.clone()));
        Ok(ended)
    }

    /// The user's live sessions, most recently used first.
    pub async fn sessions_of(&self, user: &User) -> Result<Vec<Session>, AuthError> {
        let now = Timestamp::now();
        Ok(self
            .store
            .sessions_of_user(&user.id)
            .await?
            .into_iter()
            .filter(|s| self.session_alive(s, now))
            .collect())
    }

    /// Ends one of the user's sessions; `NotFound` for an id that is not one of theirs.
    pub async fn end_session(&self, user: &User, session_id: &str) -> Result<(), AuthError> {
        self.store
            .delete_session_of_user(&user.id, session_id)
            .await
            .map_err(|e| match e {
                StorageError::NotFound => AuthError::NotFound,
                other => other.into(),
            })?;
        self.revoke(Revocation::Session(session_id.to_string()));
        Ok(())
    }

    fn lockout_window(&self) -> Duration {
        Duration::from_secs(u64::from(self.config.lockout_minutes) * 60)
    }

    fn session_lifetime(&self) -> Duration {
        Duration::from_secs(u64::from(self.config.session_days) * 86_400)
    }

    /// The session behind a cookie token; sliding expiry, refreshed at most once a minute, and
    /// never beyond `auth.session_max_age_days` after the login.
    pub async fn session(&self, token: &str) -> Result<Option<Principal>, AuthError> {
        let now = Timestamp::now();
        let Some(session) = self
            .store
            .session_by_token_hash(&tokens::sha256_hex(token))
            .await?
        else {
            return Ok(None);
        };
        if !self.session_alive(&session, now) {
            self.store.delete_session(&session.id).await?;
            return Ok(None);
        }
        let Some(user) = self.store.user_by_id(&session.user_id).await? else {
            return Ok(None);
        };
        if session.last_seen_at.until(now) > Duration::from_secs(60) {
            self.store
                .touch_session(&session.id, now, self.next_expiry(session.created_at, now))
                .await?;
        }
        Ok(Some(Principal::Session { user, session }))
    }

    pub async fn logout(&self, session_id: &str) -> Result<(), AuthError> {
        self.store.delete_session(session_id).await?;
        self.revoke(Revocation::Session(session_id.to_string()));
        Ok(())
    }

    /// Creates a key; the plain key is returned here and never again.
    pub async fn create_api_key(&self, name: &str) -> Result<(ApiKey, String), AuthError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AuthError::Invalid(
                "name must be 1 to 100 characters".into(),
            ));
        }
        let plain = tokens::random_token(tokens::API_KEY_PREFIX);
        let key = ApiKey {
            id: new_id(),
            name: name.to_string(),
            prefix: plain
                .chars()
                .take(tokens::API_KEY_PREFIX.len() + 6)
                .collect(),
            key_hash: tokens::sha256_hex(&plain),
            created_at: Timestamp::now(),
            last_used_at: None,
            revoked_at: None,
        };
        self.store.insert_api_key(&key).await?;
        self.events
            .emit(DomainEvent::ApiKeyCreated {
                id: key.id.clone(),
                name: key.name.clone(),
            })
            .await;
        Ok((key, plain))
    }

    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>, AuthError> {
        Ok(self.store.list_api_keys().await?)
    }

    pub async fn revoke_api_key(&self, id: &str) -> Result<ApiKey, AuthError> {
        let key = self
            .store
            .revoke_api_key(id, Timestamp::now())
            .await
            .map_err(|e| match e {
                StorageError::NotFound => AuthError::NotFound,
                other => other.into(),
            })?;
        self.revoke(Revocation::ApiKey(key.id.clone()));
        self.events
            .emit(DomainEvent::ApiKeyRevoked {
                id: key.id.clone(),
                name: key.name.clone(),
            })
            .await;
        Ok(key)
    }

    /// The live key behind a plain key; records its last use (at most once a minute).
    pub async fn api_key(&self, plain: &str) -> Result<Option<Principal>, AuthError> {
        let Some(key) = self
            .store
            .api_key_by_hash(&tokens::sha256_hex(plain))
            .await?
        else {
            return Ok(None);
        };
        if key.revoked_at.is_some() {
            return Ok(None);
        }
        let now = Timestamp::now();
        if key
            .last_used_at
            .is_none_or(|t| t.until(now) > Duration::from_secs(60))
        {
            self.store.touch_api_key(&key.id, now).await?;
        }
        Ok(Some(Principal::ApiKey { key }))
    }
}

/// `LockedOut` while the name's lock runs.
fn locked(t: &LoginThrottle, now: Timestamp) -> Result<(), AuthError> {
    match t.locked_until {
        Some(until) if until > now => Err(locked_error(t, now)),
        _ => Ok(()),
    }
}

fn locked_error(t: &LoginThrottle, now: Timestamp) -> AuthError {
    let secs = t.locked_until.map_or(60, |u| now.until(u).as_secs());
    AuthError::LockedOut {
        minutes: secs.div_ceil(60).max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dummy_hash_is_a_valid_argon2_hash() {
        // If it were unparsable, unknown users would be answered faster than known ones.
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
