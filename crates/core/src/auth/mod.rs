//! Accounts, login sessions with lockout, and API keys.

pub mod model;
pub mod password;
pub mod tokens;

use crate::config::AuthConfig;
use crate::events::{DomainEvent, EventBus};
use crate::ids::new_id;
use crate::storage::{Storage, StorageError};
use crate::time::Timestamp;
use model::{ApiKey, LoginThrottle, Session, User};
use std::sync::Arc;
use std::time::Duration;

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 1024;

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
    #[error("not found")]
    NotFound,
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
}

/// A valid hash of a random password: unknown user names cost the same time as known ones.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3Zr3cdYbLwGb3oS3JGQxRPGd8C8nS1iYcqqqBWWZSyo";

impl AuthService {
    pub fn new(store: Arc<dyn Storage>, events: EventBus, config: AuthConfig) -> Self {
        Self {
            store,
            events,
            config,
        }
    }

    pub async fn setup_required(&self) -> Result<bool, AuthError> {
        Ok(self.store.count_users().await? == 0)
    }

    /// Creates the first admin; refused once any user exists.
    pub async fn create_admin(&self, username: &str, password: &str) -> Result<User, AuthError> {
        if !self.setup_required().await? {
            return Err(AuthError::AlreadySetUp);
        }
        let username = validate_username(username)?;
        validate_password(password)?;
        let user = User {
            id: new_id(),
            username,
            password_hash: password::hash_password(password.to_string())
                .await
                .map_err(AuthError::Hashing)?,
            role: "admin".into(),
            created_at: Timestamp::now(),
        };
        match self.store.insert_user(&user).await {
            Err(StorageError::Conflict(_)) => Err(AuthError::AlreadySetUp),
            other => other.map(|_| user).map_err(Into::into),
        }
    }

    /// Sets a new password and ends every session of that user.
    pub async fn reset_password(&self, username: &str, password: &str) -> Result<(), AuthError> {
        validate_password(password)?;
        let user = self
            .store
            .user_by_name(username)
            .await?
            .ok_or(AuthError::NotFound)?;
        let hash = password::hash_password(password.to_string())
            .await
            .map_err(AuthError::Hashing)?;
        self.store.set_password_hash(&user.id, &hash).await?;
        self.store.delete_sessions_of_user(&user.id).await?;
        self.store.clear_login_throttle(&user.username).await?;
        Ok(())
    }

    pub async fn login(
        &self,
        username: &str,
        password: &str,
        user_agent: Option<String>,
    ) -> Result<NewSession, AuthError> {
        let now = Timestamp::now();
        let key = username.trim().to_lowercase();
        let throttle = self.store.login_throttle(&key).await?;
        if let Some(until) = throttle.as_ref().and_then(|t| t.locked_until)
            && until > now
        {
            return Err(AuthError::LockedOut {
                minutes: now.until(until).as_secs().div_ceil(60),
            });
        }
        let user = self.store.user_by_name(&key).await?;
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.to_string());
        let valid = password::verify_password(password.to_string(), hash).await;
        let Some(user) = user.filter(|_| valid) else {
            self.record_failure(&key, throttle, now).await?;
            return Err(AuthError::BadCredentials);
        };
        if throttle.is_some() {
            self.store.clear_login_throttle(&key).await?;
        }
        let token = tokens::random_token("");
        let csrf_token = tokens::random_token("");
        let expires_at = now.plus(self.session_lifetime());
        let session = Session {
            id: new_id(),
            user_id: user.id.clone(),
            token_hash: tokens::sha256_hex(&token),
            csrf_token: csrf_token.clone(),
            user_agent,
            created_at: now,
            last_seen_at: now,
            expires_at,
        };
        self.store.insert_session(&session).await?;
        Ok(NewSession {
            token,
            csrf_token,
            expires_at,
            user,
        })
    }

    async fn record_failure(
        &self,
        key: &str,
        throttle: Option<LoginThrottle>,
        now: Timestamp,
    ) -> Result<(), AuthError> {
        let window = Duration::from_secs(u64::from(self.config.lockout_minutes) * 60);
        let mut t = throttle
            .filter(|t| t.window_start.plus(window) > now)
            .unwrap_or(LoginThrottle {
                username: key.to_string(),
                failures: 0,
                window_start: now,
                locked_until: None,
            });
        t.failures += 1;
        if t.failures >= self.config.lockout_attempts {
            t.locked_until = Some(now.plus(window));
            tracing::warn!(username = key, "login locked after repeated failures");
            self.events
                .emit(DomainEvent::LoginLockedOut {
                    username: key.to_string(),
                })
                .await;
        }
        self.store.save_login_throttle(&t).await?;
        Ok(())
    }

    fn session_lifetime(&self) -> Duration {
        Duration::from_secs(u64::from(self.config.session_days) * 86_400)
    }

    /// The session behind a cookie token; sliding expiry, refreshed at most once a minute.
    pub async fn session(&self, token: &str) -> Result<Option<Principal>, AuthError> {
        let now = Timestamp::now();
        let Some(session) = self
            .store
            .session_by_token_hash(&tokens::sha256_hex(token))
            .await?
        else {
            return Ok(None);
        };
        if session.expires_at <= now {
            self.store.delete_session(&session.id).await?;
            return Ok(None);
        }
        let Some(user) = self.store.user_by_id(&session.user_id).await? else {
            return Ok(None);
        };
        if session.last_seen_at.until(now) > Duration::from_secs(60) {
            self.store
                .touch_session(&session.id, now, now.plus(self.session_lifetime()))
                .await?;
        }
        Ok(Some(Principal::Session { user, session }))
    }

    pub async fn logout(&self, session_id: &str) -> Result<(), AuthError> {
        self.store.delete_session(session_id).await?;
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

fn validate_username(username: &str) -> Result<String, AuthError> {
    let u = username.trim().to_lowercase();
    let ok_chars = u
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if u.is_empty() || u.len() > 64 || !ok_chars {
        return Err(AuthError::Invalid(
            "username must be 1 to 64 characters: letters, digits, _ - . @".into(),
        ));
    }
    Ok(u)
}

fn validate_password(password: &str) -> Result<(), AuthError> {
    let n = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&n) {
        return Err(AuthError::Invalid(format!(
            "password must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_are_validated() {
        assert_eq!(validate_username(" Admin ").expect("ok"), "admin");
        assert!(validate_username("a b").is_err());
        assert!(validate_username("").is_err());
        assert!(validate_password("short").is_err());
        assert!(validate_password("long enough").is_ok());
    }

    #[tokio::test]
    async fn dummy_hash_is_a_valid_argon2_hash() {
        // If it were unparsable, unknown users would be answered faster than known ones.
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
