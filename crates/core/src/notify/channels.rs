//! Channel settings: what a client may send (checked before anything is stored), secrets
//! sealed on write and kept when sent back masked, and the channel list.

use super::format;
use super::model::{Channel, ChannelConfig, QuietHours};
use super::notifier::{Notifier, NotifyError};
use crate::ids::new_id;
use crate::storage::StorageError;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What a client sends to create or replace a channel.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelInput {
    pub name: String,
    pub config: ChannelConfig,
    pub event_types: Vec<String>,
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// 0–3600, default 10.
    #[serde(default = "default_batch")]
    pub batch_secs: u32,
    /// 1–60, default 5.
    #[serde(default = "default_rate")]
    pub max_per_minute: u32,
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
}

fn default_true() -> bool {
    true
}
fn default_batch() -> u32 {
    10
}
fn default_rate() -> u32 {
    5
}

impl Notifier {
    pub async fn list(&self) -> Result<Vec<Channel>, NotifyError> {
        Ok(self.store.list_channels().await?)
    }

    pub async fn get(&self, id: &str) -> Result<Channel, NotifyError> {
        self.store.channel(id).await?.ok_or(NotifyError::NotFound)
    }

    pub async fn create(&self, input: ChannelInput) -> Result<Channel, NotifyError> {
        validate(&input)?;
        let now = Timestamp::now();
        let mut channel = channel_from(new_id(), input, now, now);
        channel.config = channel.config.sealed(&self.senders.secrets);
        self.store.insert_channel(&channel).await?;
        Ok(channel)
    }

    /// Replaces a channel's settings; secrets sent back masked keep their stored values, but
    /// never when the address they go to moves to another host (400: enter it again).
    pub async fn update(&self, id: &str, mut input: ChannelInput) -> Result<Channel, NotifyError> {
        let stored = self.get(id).await?;
        if let Some(field) = input.config.kept_secret_to_new_host(&stored.config) {
            return Err(NotifyError::Invalid(format!(
                "{field} points at another host: enter the secret again (a stored secret goes only to the host it was entered for)"
            )));
        }
        let opened = stored
            .config
            .opened(&self.senders.secrets)
            .map_err(|e| NotifyError::Invalid(format!("{e}; enter the secret again")))?;
        input.config.keep_secrets_from(&opened);
        validate(&input)?;
        let mut channel = channel_from(stored.id, input, stored.created_at, Timestamp::now());
        channel.config = channel.config.sealed(&self.senders.secrets);
        self.store.update_channel(&channel).await?;
        Ok(channel)
    }

    pub async fn delete(&self, id: &str) -> Result<(), NotifyError> {
        match self.store.delete_channel(id).await {
            Err(StorageError::NotFound) => Err(NotifyError::NotFound),
            other => Ok(other?),
        }
    }
}

fn channel_from(
    id: String,
    input: ChannelInput,
    created_at: Timestamp,
    updated_at: Timestamp,
) -> Channel {
    let mut event_types = input.event_types;
    event_types.sort();
    event_types.dedup();
    Channel {
        id,
        name: input.name.trim().to_string(),
        config: input.config,
        event_types,
        enabled: input.enabled,
        batch_secs: input.batch_secs,
        max_per_minute: input.max_per_minute,
        quiet_hours: input.quiet_hours,
        created_at,
        updated_at,
    }
}

fn http_url(field: &str, value: &str) -> Result<(), NotifyError> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(NotifyError::Invalid(format!(
            "{field} must be an http(s) URL"
        ))),
    }
}

fn validate(input: &ChannelInput) -> Result<(), NotifyError> {
    let invalid = |m: &str| Err(NotifyError::Invalid(m.to_string()));
    if input.name.trim().is_empty() || input.name.chars().count() > 100 {
        return invalid("name must be 1 to 100 characters");
    }
    if input.event_types.is_empty() {
        return invalid("subscribe to at least one event type");
    }
    if let Some(unknown) = input.event_types.iter().find(|t| !format::is_known(t)) {
        return Err(NotifyError::Invalid(format!(
            "unknown event type `{unknown}`; known: {}",
            format::EVENT_TYPES
                .iter()
                .map(|(t, _)| *t)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if input.batch_secs > 3600 {
        return invalid("batch_secs must be 0 to 3600");
    }
    if !(1..=60).contains(&input.max_per_minute) {
        return invalid("max_per_minute must be 1 to 60");
    }
    if let Some(q) = &input.quiet_hours
        && (QuietHours::parse_minute(&q.start).is_none()
            || QuietHours::parse_minute(&q.end).is_none())
    {
        return invalid("quiet_hours start and end must be HH:MM (UTC)");
    }
    match &input.config {
        ChannelConfig::Discord { webhook_url } => http_url("webhook_url", webhook_url),
        ChannelConfig::Ntfy {
            server,
            topic,
            priority,
            ..
        } => {
            http_url("server", server)?;
            let ok_topic = !topic.is_empty()
                && topic.len() <= 64
                && topic
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok_topic {
                return invalid("topic must be 1 to 64 letters, digits, - or _");
            }
            if priority.is_some_and(|p| !(1..=5).contains(&p)) {
                return invalid("priority must be 1 to 5");
            }
            Ok(())
        }
        ChannelConfig::Webhook { url, .. } => http_url("url", url),
        ChannelConfig::WebPush { contact } => {
            if contact.starts_with("mailto:") || contact.starts_with("https://") {
                Ok(())
            } else {
                invalid("contact must be a mailto: or https: URL")
            }
        }
        ChannelConfig::Apprise { url } => {
            if url.contains("://") {
                Ok(())
            } else {
                invalid("url must be an Apprise URL such as ntfys://topic or discord://id/token")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(config: ChannelConfig) -> ChannelInput {
        ChannelInput {
            name: "n".into(),
            config,
            event_types: vec!["job.failed".into()],
            enabled: true,
            batch_secs: 10,
            max_per_minute: 5,
            quiet_hours: None,
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let ok = input(ChannelConfig::Webhook {
            url: "http://127.0.0.1:9/hook".into(),
            secret: "s".into(),
        });
        assert!(validate(&ok).is_ok());
        let mut bad = ok.clone();
        bad.event_types = vec!["nope".into()];
        assert!(
            validate(&bad)
                .expect_err("invalid")
                .to_string()
                .contains("unknown event type")
        );
        let bad = input(ChannelConfig::Discord {
            webhook_url: "file:///etc/passwd".into(),
        });
        assert!(
            validate(&bad)
                .expect_err("invalid")
                .to_string()
                .contains("webhook_url")
        );
        let mut bad = ok.clone();
        bad.quiet_hours = Some(QuietHours {
            start: "25:00".into(),
            end: "07:00".into(),
        });
        assert!(validate(&bad).is_err());
    }

    #[test]
    fn quiet_hours_cross_midnight() {
        let q = QuietHours {
            start: "22:00".into(),
            end: "07:00".into(),
        };
        assert!(
            q.contains(23 * 60) && q.contains(60) && !q.contains(12 * 60) && !q.contains(7 * 60)
        );
        let day = QuietHours {
            start: "09:00".into(),
            end: "17:00".into(),
        };
        assert!(day.contains(9 * 60) && !day.contains(17 * 60));
    }

    #[test]
    fn secrets_are_masked_and_kept_when_sent_back_masked() {
        let stored = ChannelConfig::Ntfy {
            server: "https://ntfy.sh".into(),
            topic: "t".into(),
            token: "tk_secret".into(),
            priority: None,
        };
        let masked = stored.masked();
        assert!(
            !serde_json::to_string(&masked)
                .expect("json")
                .contains("tk_secret")
        );
        let mut edited = masked.clone();
        edited.keep_secrets_from(&stored);
        assert_eq!(edited, stored);
    }
}
