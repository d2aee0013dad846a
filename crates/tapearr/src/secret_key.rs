//! `secret.key` at start-up: a lost or replaced key is a clear error, not failures later.
//!
//! The key seals secrets in the database (Twitch sign-in, EventSub secret, trailer-connection
//! API keys). On first use a check value sealed with it is stored beside them. At each start:
//! - the key file is missing but the check value exists: the key was lost, and a new one would
//!   make every stored secret unreadable. Tapearr refuses to start and says what to do;
//! - the key opens the check value: fine; it does not: the file was replaced; same refusal;
//! - `<data_dir>/secret.key.reset` exists: the operator gave up the stored secrets. A new key
//!   is made (the old file, if any, is kept as `secret.key.old`), the check value is renewed and
//!   the reset file removed; the secrets must be entered again.

use anyhow::{Result, bail};
use std::path::Path;
use tapearr_core::crypto::SecretBox;
use tapearr_core::storage::Storage;

/// The app value holding a value sealed with the current key.
const CHECK: &str = "secret_key_check";
const CHECK_TEXT: &str = "tapearr secret key check";

pub async fn open(data_dir: &Path, store: &dyn Storage) -> Result<SecretBox> {
    let path = data_dir.join("secret.key");
    let reset = data_dir.join("secret.key.reset");
    if reset.exists() {
        if path.exists() {
            std::fs::rename(&path, data_dir.join("secret.key.old"))?;
        }
        let secrets = SecretBox::open(data_dir)?;
        store
            .set_app_value(CHECK, Some(&secrets.seal(CHECK_TEXT)))
            .await?;
        std::fs::remove_file(&reset)?;
        tracing::warn!(
            path = %path.display(),
            "secret.key was reset on request: enter the Twitch sign-in and the trailer connections' API keys again"
        );
        return Ok(secrets);
    }
    let check = store.app_value(CHECK).await?;
    let what_to_do = format!(
        "Restore {} from a backup of the data folder and start again. If it is gone for good, \
         create the empty file {} and start again: a new key is made, and the stored secrets \
         (the Twitch sign-in, trailer connections' API keys) must be entered again.",
        path.display(),
        reset.display()
    );
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && check.is_some() => bail!(
            "the secret key file {} is missing, but the database holds secrets sealed with it. \
             {what_to_do}",
            path.display()
        ),
        _ => {}
    }
    let secrets = SecretBox::open(data_dir).map_err(|e| {
        anyhow::anyhow!(
            "{e}. Tapearr needs to read this file (mode 0600, owned by the user it runs as). \
             {what_to_do}"
        )
    })?;
    match check {
        Some(sealed) => {
            if secrets.open_sealed(&sealed).is_err() {
                bail!(
                    "the secret key file {} does not match the database (was it replaced?). \
                     {what_to_do}",
                    path.display()
                );
            }
        }
        None => {
            store
                .set_app_value(CHECK, Some(&secrets.seal(CHECK_TEXT)))
                .await?;
        }
    }
    Ok(secrets)
}
