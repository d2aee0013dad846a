//! Encryption at rest for every secret kept in the database: the Twitch user token and EventSub
//! secret, Radarr/Sonarr/Plex keys, media-server tokens, notification secrets and the VAPID
//! private key (see [`crate::secrets_at_rest`] for the start-up step that seals older values).
//!
//! AES-256-GCM with a random key in `<data_dir>/secret.key` (mode 0600), created on first use.
//! A database copied without its data dir cannot be read, and a key that no longer matches
//! makes the value unreadable rather than silently wrong.

use aes_gcm::aead::{Aead, KeyInit, OsRng, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use std::io::Write;
use std::path::Path;

const PREFIX: &str = "enc:v1:";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("secret key file {path}: {message}")]
    KeyFile { path: String, message: String },
    #[error("stored secret cannot be decrypted (was secret.key replaced?)")]
    Undecryptable,
}

/// Whether a stored value is already sealed (and not plaintext from before sealing).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    /// Reads `<data_dir>/secret.key`, creating it (0600) if missing.
    pub fn open(data_dir: &Path) -> Result<Self, CryptoError> {
        let path = data_dir.join("secret.key");
        let err = |message: String| CryptoError::KeyFile {
            path: path.display().to_string(),
            message,
        };
        let key = match std::fs::read(&path) {
            Ok(bytes) if bytes.len() == 32 => bytes,
            Ok(bytes) => return Err(err(format!("{} bytes, expected 32", bytes.len()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                OsRng.fill_bytes(&mut key);
                create_private(&path, &key).map_err(|e| err(e.to_string()))?;
                // Another process may have won the race: use what is on disk.
                std::fs::read(&path).map_err(|e| err(e.to_string()))?
            }
            Err(e) => return Err(err(e.to_string())),
        };
        Ok(Self::from_key(&key))
    }

    pub fn from_key(key: &[u8]) -> Self {
        let key = Key::<Aes256Gcm>::from_slice(key);
        Self {
            cipher: Aes256Gcm::new(key),
        }
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        // Encrypting into a Vec cannot fail for inputs below GCM's 64 GiB limit.
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        format!("{PREFIX}{}", B64.encode(out))
    }

    /// Seals `value` unless it is empty (no secret) or sealed already.
    pub fn seal_once(&self, value: &str) -> String {
        if value.is_empty() || is_sealed(value) {
            value.to_string()
        } else {
            self.seal(value)
        }
    }

    /// Opens a sealed value; an empty one stays empty, and plaintext (written before secrets
    /// were sealed, and not yet sealed by the start-up step) comes back as is.
    pub fn reveal(&self, value: &str) -> Result<String, CryptoError> {
        if is_sealed(value) {
            self.open_sealed(value)
        } else {
            Ok(value.to_string())
        }
    }

    pub fn open_sealed(&self, sealed: &str) -> Result<String, CryptoError> {
        let body = sealed
            .strip_prefix(PREFIX)
            .ok_or(CryptoError::Undecryptable)?;
        let raw = B64.decode(body).map_err(|_| CryptoError::Undecryptable)?;
        if raw.len() < NONCE_LEN {
            return Err(CryptoError::Undecryptable);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Undecryptable)
    }
}

fn create_private(path: &Path, key: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut f) => {
            f.write_all(key)?;
            f.sync_all()
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_the_same_key_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = SecretBox::open(dir.path()).expect("key");
        let sealed = a.seal("oauth-token-123");
        assert!(!sealed.contains("oauth-token-123"));
        assert_eq!(
            SecretBox::open(dir.path())
                .expect("same key")
                .open_sealed(&sealed)
                .expect("opens"),
            "oauth-token-123"
        );
        let other = SecretBox::from_key(&[7u8; 32]);
        assert!(other.open_sealed(&sealed).is_err());
        assert!(a.open_sealed("plain").is_err());
        let mode = std::fs::metadata(dir.path().join("secret.key"))
            .expect("meta")
            .permissions();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.mode() & 0o777, 0o600);
    }

    #[test]
    fn seal_once_never_seals_twice_and_reveal_reads_both_forms() {
        let b = SecretBox::from_key(&[3u8; 32]);
        let once = b.seal_once("token");
        assert!(is_sealed(&once));
        assert_eq!(b.seal_once(&once), once);
        assert_eq!(b.seal_once(""), "");
        assert_eq!(b.reveal(&once).expect("opens"), "token");
        assert_eq!(b.reveal("legacy-plain").expect("as is"), "legacy-plain");
        assert!(SecretBox::from_key(&[4u8; 32]).reveal(&once).is_err());
    }
}
