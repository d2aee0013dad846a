//! What user names and passwords may be, checked at the edge: before any hash or database write,
//! so an oversized name is neither stored (login counts, events, logs) nor hashed.

use super::AuthError;

pub const MIN_PASSWORD_LEN: usize = 8;
/// In bytes: Argon2 hashes bytes, and the bound is on work and memory.
pub const MAX_PASSWORD_BYTES: usize = 1024;
pub const MAX_USERNAME_LEN: usize = 64;

/// A user name as stored: trimmed, lower case, 1 to 64 of `a-z 0-9 _ - . @`.
pub fn username(username: &str) -> Result<String, AuthError> {
    let u = username.trim();
    // Checked before lowercasing, which could grow a huge input further.
    let ok = !u.is_empty()
        && u.len() <= MAX_USERNAME_LEN
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if !ok {
        return Err(AuthError::Invalid(format!(
            "username must be 1 to {MAX_USERNAME_LEN} characters: letters, digits, _ - . @"
        )));
    }
    Ok(u.to_ascii_lowercase())
}

/// A new password: at least 8 characters, at most 1024 bytes.
pub fn new_password(password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_PASSWORD_LEN || password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::Invalid(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters and at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// A password offered at login: not empty, at most 1024 bytes (older rules are not re-checked).
pub fn login_password(password: &str) -> Result<(), AuthError> {
    if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::Invalid(format!(
            "password must be 1 to {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_are_bounded() {
        assert_eq!(username(" Admin ").expect("ok"), "admin");
        assert_eq!(username(&"a".repeat(64)).expect("64 is fine").len(), 64);
        assert!(username(&"a".repeat(65)).is_err());
        assert!(username(&"a".repeat(900_000)).is_err());
        assert!(username("a b").is_err());
        assert!(username("ädmin").is_err());
        assert!(username("").is_err());
        assert!(new_password("short").is_err());
        assert!(new_password("long enough").is_ok());
        assert!(new_password(&"x".repeat(1025)).is_err());
        // 1024 bytes is the bound, not 1024 characters.
        assert!(new_password(&"é".repeat(600)).is_err());
        assert!(login_password("").is_err());
        assert!(login_password("x").is_ok());
        assert!(login_password(&"x".repeat(1025)).is_err());
    }
}
