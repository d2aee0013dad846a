//! Notification channels, the items waiting in them, and the outbox of messages.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Shown instead of a stored secret; sending it back keeps the stored value.
pub const MASK: &str = "***";

/// What a channel sends to, with its secrets. Never serialized to clients as is: see
/// [`ChannelConfig::masked`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelConfig {
    /// Discord webhook (embeds). `webhook_url` is secret.
    Discord { webhook_url: String },
    /// ntfy topic. `token` is secret.
    Ntfy {
        server: String,
        topic: String,
        #[serde(default)]
        token: String,
        #[serde(default)]
        priority: Option<u8>,
    },
    /// JSON POST signed with HMAC-SHA256 (`X-Tapearr-Signature`). `secret` is secret.
    Webhook {
        url: String,
        #[serde(default)]
        secret: String,
    },
    /// Any Apprise URL (100+ services), sent with the apprise CLI of the tools venv. `url` is secret.
    Apprise { url: String },
    /// Web Push to every browser that subscribed (RFC 8291 encryption, VAPID). `contact` is a
    /// `mailto:` or `https:` URL push services may use to reach the operator.
    WebPush {
        #[serde(default = "default_contact")]
        contact: String,
    },
}

fn default_contact() -> String {
    "mailto:admin@localhost".to_string()
}

/// Shows the masked config: a stray `{:?}` in a log line cannot leak a secret.
impl std::fmt::Debug for ChannelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(&self.masked()).unwrap_or_default())
    }
}

impl ChannelConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Discord { .. } => "discord",
            Self::Ntfy { .. } => "ntfy",
            Self::Webhook { .. } => "webhook",
            Self::Apprise { .. } => "apprise",
            Self::WebPush { .. } => "web_push",
        }
    }

    fn secrets_mut(&mut self) -> Vec<&mut String> {
        match self {
            Self::Discord { webhook_url } => vec![webhook_url],
            Self::Ntfy { token, .. } => vec![token],
            Self::Webhook { secret, .. } => vec![secret],
            Self::Apprise { url } => vec![url],
            Self::WebPush { .. } => vec![],
        }
    }

    /// The same config with every secret sealed (as stored).
    pub fn sealed(&self, secrets: &crate::crypto::SecretBox) -> Self {
        let mut out = self.clone();
        for s in out.secrets_mut() {
            *s = secrets.seal_once(s);
        }
        out
    }

    /// The same config with every secret opened (to send, or to check an edit against).
    pub fn opened(
        &self,
        secrets: &crate::crypto::SecretBox,
    ) -> Result<Self, crate::crypto::CryptoError> {
        let mut out = self.clone();
        for s in out.secrets_mut() {
            *s = secrets.reveal(s)?;
        }
        Ok(out)
    }

    /// Whether every secret is sealed (or empty): what the database must hold.
    pub fn is_sealed(&self) -> bool {
        let mut c = self.clone();
        c.secrets_mut()
            .into_iter()
            .all(|s| s.is_empty() || crate::crypto::is_sealed(s))
    }

    /// When `self` (an edit) keeps a stored secret as [`MASK`] but points at another host than
    /// `stored`, the field whose host changed: the stored secret must not go there.
    pub fn kept_secret_to_new_host(&self, stored: &ChannelConfig) -> Option<&'static str> {
        use tapearr_integrations::http::same_host;
        match (self, stored) {
            (
                Self::Ntfy { server, token, .. },
                Self::Ntfy {
                    server: old_server, ..
                },
            ) if token == MASK && !same_host(old_server, server) => Some("server"),
            (Self::Webhook { url, secret }, Self::Webhook { url: old_url, .. })
                if secret == MASK && !same_host(old_url, url) =>
            {
                Some("url")
            }
            _ => None,
        }
    }

    /// The config with every secret replaced by [`MASK`] (empty ones stay empty).
    pub fn masked(&self) -> Self {
        let mut out = self.clone();
        for s in out.secrets_mut() {
            if !s.is_empty() {
                *s = MASK.to_string();
            }
        }
        out
    }

    /// Secrets the client left as [`MASK`] take the stored value (same kind only).
    pub fn keep_secrets_from(&mut self, stored: &ChannelConfig) {
        if self.kind() != stored.kind() {
            return;
        }
        let mut stored = stored.clone();
        for (new, old) in self.secrets_mut().into_iter().zip(stored.secrets_mut()) {
            if new == MASK {
                *new = std::mem::take(old);
            }
        }
    }
}

/// A quiet window in UTC, `HH:MM` to `HH:MM` (may cross midnight). Messages wait until it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuietHours {
    pub start: String,
    pub end: String,
}

impl QuietHours {
    pub fn parse_minute(s: &str) -> Option<u32> {
        let (h, m) = s.split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60 && s.len() == 5).then_some(h * 60 + m)
    }

    /// Whether `minute` (since midnight UTC) falls in the window.
    pub fn contains(&self, minute: u32) -> bool {
        match (
            Self::parse_minute(&self.start),
            Self::parse_minute(&self.end),
        ) {
            (Some(s), Some(e)) if s <= e => minute >= s && minute < e,
            (Some(s), Some(e)) => minute >= s || minute < e,
            _ => false,
        }
    }
}

/// Named `NotificationChannel` in the OpenAPI document (`Channel` is a Twitch channel there).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = NotificationChannel)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub config: ChannelConfig,
    /// Event types this channel is sent, e.g. `job.failed`.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Events arriving within this many seconds go out as one message.
    pub batch_secs: u32,
    /// At most this many messages a minute; the rest wait.
    pub max_per_minute: u32,
    pub quiet_hours: Option<QuietHours>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Channel {
    /// The view for clients: secrets masked.
    pub fn masked(&self) -> Channel {
        Channel {
            config: self.config.masked(),
            ..self.clone()
        }
    }
}

/// One event for one channel, waiting to be put in a message.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub id: String,
    pub channel_id: String,
    pub event_id: i64,
    pub event_type: String,
    pub line: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct ItemRecord {
    pub id: String,
    pub event_id: i64,
    pub event_type: String,
    pub line: String,
    pub created_at: Timestamp,
}

/// Per channel: how many items wait and since when.
#[derive(Debug, Clone)]
pub struct Backlog {
    pub channel_id: String,
    pub oldest: Timestamp,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Pending,
    Sent,
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

/// A message in the outbox. Its id is the idempotency key the receiver sees on every attempt.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageRecord {
    pub id: String,
    pub channel_id: String,
    pub title: String,
    pub lines: Vec<String>,
    pub event_ids: Vec<i64>,
    pub event_types: Vec<String>,
    pub status: MessageStatus,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default)]
pub struct MessageQuery {
    pub channel_id: Option<String>,
    pub status: Option<MessageStatus>,
    pub limit: u32,
}

/// A browser's push subscription (`PushSubscription.toJSON()`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PushSubscription {
    pub endpoint: String,
    pub keys: PushKeys,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PushKeys {
    /// base64url P-256 public key of the browser.
    pub p256dh: String,
    /// base64url 16-byte secret.
    pub auth: String,
}
