//! The start-up step that seals every secret still stored in plaintext (written before media
//! servers, notification channels and the VAPID key were sealed). Runs on every start, before
//! anything reads them; idempotent (sealed values are left alone) and never loses a value: each
//! one is sealed, checked to open back to the same text, and only then written.

use crate::crypto::{SecretBox, is_sealed};
use crate::notify::VAPID_KEY;
use crate::notify::model::ChannelConfig;
use crate::secret::Secret;
use crate::storage::{Storage, StorageError};

/// How many values the step sealed, by kind (for the start-up log line and tests).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sealed {
    pub media_servers: usize,
    pub channels: usize,
    pub connections: usize,
    pub vapid_key: bool,
}

fn seal_checked(secrets: &SecretBox, plain: &str) -> Result<String, StorageError> {
    let sealed = secrets.seal_once(plain);
    match secrets.reveal(&sealed) {
        Ok(back) if back == plain => Ok(sealed),
        _ => Err(StorageError::Backend(
            "sealing a stored secret did not round-trip; left as it was".into(),
        )),
    }
}

/// Seals every plaintext secret in `store`.
pub async fn seal_plaintext_secrets(
    store: &dyn Storage,
    secrets: &SecretBox,
) -> Result<Sealed, StorageError> {
    let mut done = Sealed::default();
    for mut server in store.list_media_servers().await? {
        let token = server.token.expose().to_string();
        if !token.is_empty() && !is_sealed(&token) {
            server.token = Secret::new(seal_checked(secrets, &token)?);
            store.update_media_server(&server).await?;
            done.media_servers += 1;
        }
    }
    for mut channel in store.list_channels().await? {
        if !channel.config.is_sealed() {
            let sealed: ChannelConfig = channel.config.sealed(secrets);
            if sealed.opened(secrets).ok().as_ref() != Some(&channel.config) {
                return Err(StorageError::Backend(
                    "sealing a channel's secrets did not round-trip; left as it was".into(),
                ));
            }
            channel.config = sealed;
            store.update_channel(&channel).await?;
            done.channels += 1;
        }
    }
    for mut conn in store.arr_connections().await? {
        let key = conn.api_key.expose().to_string();
        if !key.is_empty() && !is_sealed(&key) {
            conn.api_key = Secret::new(seal_checked(secrets, &key)?);
            store.update_arr_connection(&conn).await?;
            done.connections += 1;
        }
    }
    if let Some(key) = store.app_value(VAPID_KEY).await?
        && !key.is_empty()
        && !is_sealed(&key)
    {
        let sealed = seal_checked(secrets, &key)?;
        store.set_app_value(VAPID_KEY, Some(&sealed)).await?;
        done.vapid_key = true;
    }
    if done != Sealed::default() {
        tracing::info!(
            ?done,
            "sealed secrets stored in plaintext by an older version"
        );
        // The replaced plaintext must not linger in free pages or dead rows.
        if let Err(e) = store
            .scrub_replaced(&[
                "media_servers",
                "notification_channels",
                "arr_connections",
                "app_state",
            ])
            .await
        {
            tracing::warn!(error = %e, "cannot compact the database after sealing secrets");
        }
    }
    Ok(done)
}
