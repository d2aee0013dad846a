//! Argon2id password hashing, off the async runtime (it is deliberately slow) and bounded: each
//! hash takes about 19 MiB and a core for tens of milliseconds, so a login flood must queue for a
//! few permits instead of filling the blocking pool (and memory) and starving the recorder.

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Hands out the right to run one Argon2 hash or verification.
#[derive(Clone)]
pub struct HashGate {
    permits: Arc<Semaphore>,
    wait: Duration,
}

/// Held while one hash or verification runs; the hashing functions need one. Dropping it frees
/// the slot.
pub struct HashPermit {
    _slot: OwnedSemaphorePermit,
}

/// No permit came within the wait: the caller should retry after `retry_after`.
#[derive(Debug, Clone, Copy)]
pub struct Busy {
    pub retry_after: Duration,
}

impl HashGate {
    /// `permits` hashes at once (`auth.hash_concurrency`); a caller waits at most `wait`.
    pub fn new(permits: usize, wait: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            wait,
        }
    }

    /// Waits (at most the gate's bound) for a permit.
    pub async fn permit(&self) -> Result<HashPermit, Busy> {
        match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(slot)) => Ok(HashPermit { _slot: slot }),
            // Timed out, or (never: the gate does not close it) the semaphore was closed.
            _ => Err(Busy {
                retry_after: self.wait.max(Duration::from_secs(1)),
            }),
        }
    }
}

pub async fn hash_password(_permit: &HashPermit, password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// False for a wrong password and for an unreadable hash alike.
pub async fn verify_password(_permit: &HashPermit, password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_only_the_right_password() {
        let gate = HashGate::new(2, Duration::from_secs(5));
        let p = gate.permit().await.expect("permit");
        let hash = hash_password(&p, "correct horse".into())
            .await
            .expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&p, "correct horse".into(), hash.clone()).await);
        assert!(!verify_password(&p, "wrong".into(), hash).await);
        assert!(!verify_password(&p, "x".into(), "not a hash".into()).await);
    }

    #[tokio::test]
    async fn a_full_gate_answers_busy_after_its_wait() {
        let gate = HashGate::new(1, Duration::from_millis(50));
        let held = gate.permit().await.expect("first permit");
        let busy = gate.permit().await.err().expect("second waits, then busy");
        assert!(busy.retry_after >= Duration::from_secs(1));
        drop(held);
        assert!(gate.permit().await.is_ok(), "a freed permit is handed out");
    }
}
