//! Users, login sessions, API keys and the login throttle, as stored.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: Timestamp,
}

/// A login session. Only the SHA-256 of its token is stored, so a database leak logs nobody in.
#[derive(Clone)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub token_hash: String,
    /// Double-submit CSRF token: readable by the page, required on cookie-authenticated writes.
    pub csrf_token: String,
    pub user_agent: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    /// The client address at login (the TCP peer), when the server knew it.
    pub address: Option<String>,
}

// Debug leaves out the password hash and the CSRF token: a stray `{:?}` must not log them.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The first characters of the key, so users can tell keys apart.
    pub prefix: String,
    #[serde(skip)]
    pub key_hash: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// Login attempts for one user name not (yet) followed by a success, for the lockout. Each
/// attempt is counted before its password is checked; a success deletes the row.
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    pub username: String,
    pub failures: u32,
    pub window_start: Timestamp,
    pub locked_until: Option<Timestamp>,
}

/// One login attempt to count, for `UserStore::count_login_attempt`.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    pub username: String,
    pub now: Timestamp,
    /// A count whose window started before this starts again.
    pub window_cutoff: Timestamp,
    /// Reaching `limit` attempts locks the name until here.
    pub lock_until: Timestamp,
    pub limit: u32,
}
