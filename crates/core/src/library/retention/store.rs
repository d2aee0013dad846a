//! Where the policies live: the global one in `app_state`, a channel's override on the
//! channel. Stored only once valid; a stored value that no longer reads is an error, never
//! a silent "no policy".

use super::policy::{ChannelRetention, PolicyError, RetentionPolicy};
use crate::library::{Library, LibraryError, LibraryResult};
use std::collections::HashMap;

const GLOBAL_KEY: &str = "library.retention";

impl Library {
    /// The global policy (defaults when none was saved).
    pub async fn retention_policy(&self) -> LibraryResult<RetentionPolicy> {
        match self.inner.store.app_value(GLOBAL_KEY).await? {
            None => Ok(RetentionPolicy::default()),
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                LibraryError::Invalid(format!("the stored retention policy is unreadable: {e}"))
            }),
        }
    }

    /// Validates and stores the global policy; invalid ones are refused and nothing is stored.
    pub async fn set_retention_policy(
        &self,
        policy: RetentionPolicy,
    ) -> LibraryResult<RetentionPolicy> {
        let policy = policy.validated().map_err(invalid)?;
        let json =
            serde_json::to_string(&policy).map_err(|e| LibraryError::Invalid(e.to_string()))?;
        self.inner
            .store
            .set_app_value(GLOBAL_KEY, Some(&json))
            .await?;
        Ok(policy)
    }

    /// A channel's override (`None`: it follows the global policy).
    pub async fn channel_retention(
        &self,
        channel_id: &str,
    ) -> LibraryResult<Option<ChannelRetention>> {
        self.inner
            .store
            .twitch_channel(channel_id)
            .await?
            .ok_or(LibraryError::NotFound)?;
        Ok(self.channel_overrides().await?.remove(channel_id))
    }

    /// Sets (or with `None` clears) a channel's override.
    pub async fn set_channel_retention(
        &self,
        channel_id: &str,
        policy: Option<ChannelRetention>,
    ) -> LibraryResult<Option<ChannelRetention>> {
        let policy = policy
            .map(ChannelRetention::validated)
            .transpose()
            .map_err(invalid)?;
        let json = policy
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| LibraryError::Invalid(e.to_string()))?;
        self.inner
            .store
            .set_channel_retention(channel_id, json.as_deref())
            .await?;
        Ok(policy)
    }

    pub(super) async fn channel_overrides(
        &self,
    ) -> LibraryResult<HashMap<String, ChannelRetention>> {
        let mut out = HashMap::new();
        for (channel, json) in self.inner.store.channel_retention().await? {
            let policy = serde_json::from_str(&json).map_err(|e| {
                LibraryError::Invalid(format!(
                    "the stored retention override of channel {channel} is unreadable: {e}"
                ))
            })?;
            out.insert(channel, policy);
        }
        Ok(out)
    }
}

/// A refused policy answers like any invalid request: 400 with its message.
fn invalid(e: PolicyError) -> LibraryError {
    LibraryError::Invalid(e.to_string())
}
