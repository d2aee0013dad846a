//! Channel management, the test button, and the loop that turns events into delivered messages.

use super::format;
use super::model::{
    Channel, ChannelConfig, ItemRecord, MessageQuery, MessageRecord, MessageStatus, NewItem,
    PushSubscription, QuietHours,
};
use super::send::Senders;
use crate::crypto::SecretBox;
use crate::events::EventBus;
use crate::events::model::{EventQuery, EventRecord};
use crate::ids::new_id;
use crate::storage::{Storage, StorageError};
use crate::time::Timestamp;
use crate::tools::ToolsManager;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tapearr_integrations::notify::{Message, MessageEvent, SendError};
use tokio_util::sync::CancellationToken;

/// Events per message at most; more wait for the next one.
const MAX_LINES: u32 = 10;
/// A message is given up after this many failed attempts.
const MAX_ATTEMPTS: u32 = 10;
/// How long one process owns an attempt before another may try.
const ATTEMPT_LEASE: Duration = Duration::from_secs(120);
const TICK: Duration = Duration::from_secs(1);
/// First retry delay; it doubles with each failed attempt (capped at an hour).
const RETRY_BASE: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{0}")]
    Invalid(String),
    #[error("channel not found")]
    NotFound,
    #[error("test message failed: {0}")]
    TestFailed(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a client sends to create or replace a channel.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
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

#[derive(Clone)]
pub struct Notifier {
    store: Arc<dyn Storage>,
    events: EventBus,
    senders: Arc<Senders>,
}

impl Notifier {
    /// Deliveries use the one HTTP policy for secrets ([`tapearr_integrations::http`]); every
    /// secret is sealed with `secrets` in the database.
    pub fn new(
        store: Arc<dyn Storage>,
        events: EventBus,
        tools: Arc<ToolsManager>,
        secrets: SecretBox,
    ) -> Result<Self, String> {
        Ok(Self {
            store: store.clone(),
            events,
            senders: Arc::new(Senders {
                http: tapearr_integrations::http::secret_client()?,
                tools,
                store: store.clone(),
                secrets,
                vapid_key: tokio::sync::OnceCell::new(),
            }),
        })
    }

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

    /// Sends a test message right away (not through the outbox) and says what happened.
    pub async fn test(&self, id: &str) -> Result<(), NotifyError> {
        let channel = self.get(id).await?;
        let message = Message {
            id: new_id(),
            title: "Tapearr test".into(),
            lines: vec![format!(
                "Test message for channel \"{}\". It works.",
                channel.name
            )],
            events: Vec::new(),
            created_at: Timestamp::now().to_rfc3339(),
        };
        self.senders
            .send(&channel, &message)
            .await
            .map_err(|e| NotifyError::TestFailed(e.to_string()))
    }

    /// The key browsers pass to `pushManager.subscribe`, and how many browsers subscribed.
    pub async fn web_push_info(&self) -> Result<(String, usize), NotifyError> {
        let key = self
            .senders
            .vapid()
            .await
            .map_err(|e| NotifyError::Invalid(e.to_string()))?;
        let subs = self.store.list_push_subscriptions().await?;
        Ok((key.public_b64(), subs.len()))
    }

    pub async fn subscribe(&self, sub: &PushSubscription) -> Result<(), NotifyError> {
        validate_subscription(sub)?;
        Ok(self
            .store
            .save_push_subscription(sub, Timestamp::now())
            .await?)
    }

    pub async fn unsubscribe(&self, endpoint: &str) -> Result<(), NotifyError> {
        if self.store.delete_push_subscription(endpoint).await? {
            Ok(())
        } else {
            Err(NotifyError::NotFound)
        }
    }

    pub async fn messages(&self, query: &MessageQuery) -> Result<Vec<MessageRecord>, NotifyError> {
        Ok(self.store.list_messages(query).await?)
    }

    /// Ingests, batches and delivers until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut live = self.events.subscribe();
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "notification round failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                // A new stored event: look now rather than at the next tick.
                _ = next_stored(&mut live) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    pub(crate) async fn tick(&self) -> Result<(), StorageError> {
        let channels: HashMap<String, Channel> = self
            .store
            .list_channels()
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
        self.ingest(&channels).await?;
        let now = Timestamp::now();
        self.compose(&channels, now).await?;
        self.deliver(&channels, now).await
    }

    /// New persisted events → one item per subscribed channel.
    async fn ingest(&self, channels: &HashMap<String, Channel>) -> Result<(), StorageError> {
        let mut cursor = match self.store.notifier_cursor().await? {
            Some(c) => c,
            None => {
                // First run: start at the present, not at the whole history.
                let latest = self
                    .store
                    .list_events(&EventQuery {
                        limit: 1,
                        ..EventQuery::default()
                    })
                    .await?;
                let start = latest.last().and_then(|e| e.id).unwrap_or(0);
                self.store.ingest_items(&[], start).await?;
                start
            }
        };
        loop {
            let batch = self
                .store
                .list_events(&EventQuery {
                    since: Some(cursor),
                    limit: 500,
                    ..EventQuery::default()
                })
                .await?;
            let Some(last) = batch.last().and_then(|e| e.id) else {
                return Ok(());
            };
            let mut items = Vec::new();
            for event in &batch {
                let Some(event_id) = event.id else { continue };
                for channel in channels.values().filter(|c| c.enabled) {
                    if channel.event_types.contains(&event.event_type) {
                        items.push(NewItem {
                            id: new_id(),
                            channel_id: channel.id.clone(),
                            event_id,
                            event_type: event.event_type.clone(),
                            line: format::line(event),
                            created_at: Timestamp::now(),
                        });
                    }
                }
            }
            self.store.ingest_items(&items, last).await?;
            cursor = last;
        }
    }

    /// Items whose batching window has passed (and not in quiet hours) → messages.
    async fn compose(
        &self,
        channels: &HashMap<String, Channel>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        for backlog in self.store.notification_backlog().await? {
            let Some(channel) = channels.get(&backlog.channel_id) else {
                continue;
            };
            let window = Duration::from_secs(u64::from(channel.batch_secs));
            if !channel.enabled || is_quiet(channel, now) || backlog.oldest.plus(window) > now {
                continue;
            }
            loop {
                let items = self.store.unassigned_items(&channel.id, MAX_LINES).await?;
                if items.is_empty() {
                    break;
                }
                let message = message_from(&channel.id, &items, now);
                let ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
                if !self.store.create_message(&message, &ids).await? {
                    break; // another process is composing this channel
                }
            }
        }
        Ok(())
    }

    /// Due messages → their channel, within its rate cap.
    async fn deliver(
        &self,
        channels: &HashMap<String, Channel>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut sent_last_minute: HashMap<String, u64> = HashMap::new();
        for message in self.store.due_messages(now, 100).await? {
            let Some(channel) = channels.get(&message.channel_id) else {
                continue;
            };
            if !channel.enabled || is_quiet(channel, now) {
                continue;
            }
            // Sent in the last minute: read once per channel and round, counted up as we send.
            if !sent_last_minute.contains_key(&channel.id) {
                let recent = self
                    .store
                    .messages_sent_since(&channel.id, now.minus(Duration::from_secs(60)))
                    .await?;
                sent_last_minute.insert(channel.id.clone(), recent);
            }
            let sent = sent_last_minute.entry(channel.id.clone()).or_default();
            if *sent >= u64::from(channel.max_per_minute) {
                continue; // rate cap: it stays due
            }
            if !self
                .store
                .claim_message(
                    &message.id,
                    message.next_attempt_at,
                    now.plus(ATTEMPT_LEASE),
                )
                .await?
            {
                continue;
            }
            *sent += 1;
            let outcome = self.senders.send(channel, &wire_message(&message)).await;
            self.record_outcome(&message, channel, outcome).await?;
        }
        Ok(())
    }

    async fn record_outcome(
        &self,
        message: &MessageRecord,
        channel: &Channel,
        outcome: Result<(), SendError>,
    ) -> Result<(), StorageError> {
        let now = Timestamp::now();
        let attempts = message.attempts + 1;
        match outcome {
            Ok(()) => {
                tracing::info!(channel = %channel.name, message_id = %message.id, "notification sent");
                self.store
                    .finish_message(&message.id, MessageStatus::Sent, None, now, now)
                    .await
            }
            Err(SendError::Retryable(e)) if attempts < MAX_ATTEMPTS => {
                let delay = RETRY_BASE
                    .saturating_mul(1 << attempts.min(11))
                    .min(Duration::from_secs(3600));
                tracing::warn!(channel = %channel.name, message_id = %message.id, attempts, error = %e, "notification failed; will retry");
                self.store
                    .finish_message(
                        &message.id,
                        MessageStatus::Pending,
                        Some(&e),
                        now.plus(delay),
                        now,
                    )
                    .await
            }
            Err(e) => {
                let e = e.to_string();
                tracing::warn!(channel = %channel.name, message_id = %message.id, attempts, error = %e, "notification given up");
                self.store
                    .finish_message(&message.id, MessageStatus::Failed, Some(&e), now, now)
                    .await
            }
        }
    }
}

fn is_quiet(channel: &Channel, now: Timestamp) -> bool {
    channel
        .quiet_hours
        .as_ref()
        .is_some_and(|q| q.contains(now.minute_of_day()))
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

fn message_from(channel_id: &str, items: &[ItemRecord], now: Timestamp) -> MessageRecord {
    let types: Vec<&str> = items.iter().map(|i| i.event_type.as_str()).collect();
    MessageRecord {
        id: new_id(),
        channel_id: channel_id.to_string(),
        title: format::title(&types),
        lines: items.iter().map(|i| i.line.clone()).collect(),
        event_ids: items.iter().map(|i| i.event_id).collect(),
        event_types: items.iter().map(|i| i.event_type.clone()).collect(),
        status: MessageStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        created_at: now,
        sent_at: None,
    }
}

fn wire_message(m: &MessageRecord) -> Message {
    Message {
        id: m.id.clone(),
        title: m.title.clone(),
        lines: m.lines.clone(),
        events: m
            .event_ids
            .iter()
            .zip(&m.event_types)
            .zip(&m.lines)
            .map(|((id, t), line)| MessageEvent {
                id: *id,
                event_type: t.clone(),
                text: line.clone(),
            })
            .collect(),
        created_at: m.created_at.to_rfc3339(),
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

/// Push endpoints are HTTPS (plain HTTP only on this machine, for local testing) and the keys
/// must be a P-256 point and a 16-byte secret.
fn validate_subscription(sub: &PushSubscription) -> Result<(), NotifyError> {
    use base64::Engine;
    let decode = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .ok()
    };
    let endpoint_ok = url::Url::parse(&sub.endpoint).is_ok_and(|u| {
        u.scheme() == "https"
            || (u.scheme() == "http"
                && matches!(
                    u.host_str(),
                    Some("127.0.0.1") | Some("localhost") | Some("[::1]")
                ))
    });
    if !endpoint_ok {
        return Err(NotifyError::Invalid("endpoint must be an https URL".into()));
    }
    if decode(&sub.keys.p256dh).is_none_or(|k| k.len() != 65 || k[0] != 4) {
        return Err(NotifyError::Invalid(
            "keys.p256dh must be an uncompressed P-256 key (base64url)".into(),
        ));
    }
    if decode(&sub.keys.auth).is_none_or(|a| a.len() != 16) {
        return Err(NotifyError::Invalid(
            "keys.auth must be 16 bytes (base64url)".into(),
        ));
    }
    Ok(())
}

/// Waits for the next event that was stored (and so can become a notification); live-only ones
/// such as progress ticks arrive every few seconds and must not trigger a round each.
async fn next_stored(live: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<EventRecord>>) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match live.recv().await {
            Ok(event) if event.id.is_none() => continue,
            Ok(_) | Err(RecvError::Lagged(_)) => return,
            // The bus is gone: only the timer wakes the loop from now on.
            Err(RecvError::Closed) => std::future::pending::<()>().await,
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
