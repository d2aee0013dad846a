//! EventSub webhooks (S2): verification, dedupe, dispatch, and subscription upkeep.
//!
//! Only with `public_url` set. Twitch delivers at least once: a message id seen before is
//! answered 204 without acting, and an id whose handling failed is forgotten so Twitch's retry
//! is processed. The secret is created once and kept (sealed) in the database, so subscriptions
//! made before a restart still verify.

use super::model::Channel;
use super::{LiveInfo, Streams, StreamsError, StreamsResult};
use crate::time::Timestamp;
use rand::Rng;
use std::collections::HashSet;
use std::time::{Duration, SystemTime};
pub use tapearr_integrations::twitch::eventsub::EventSubHeaders;
use tapearr_integrations::twitch::eventsub::{
    self, EventSubEvent, EventSubMessage, MessageDeduper,
};
use tapearr_integrations::twitch::{EventSubSubscription, NewSubscription};

const SECRET_KEY: &str = "twitch.eventsub_secret";
/// Where Twitch posts, below `public_url`.
pub const CALLBACK_PATH: &str = "/api/v1/twitch/eventsub";
/// Subscriptions are checked this often even when no channel changed.
const RECONCILE_EVERY: Duration = Duration::from_secs(600);
/// The three subscriptions each channel needs: (type, version).
const WANTED: [(&str, &str); 3] = [
    ("stream.online", "1"),
    ("stream.offline", "1"),
    ("channel.update", "2"),
];

pub(crate) struct WebhookState {
    deduper: MessageDeduper,
    secret: tokio::sync::OnceCell<String>,
}

impl Default for WebhookState {
    fn default() -> Self {
        Self {
            deduper: MessageDeduper::new(eventsub::MAX_AGE, 10_000),
            secret: tokio::sync::OnceCell::new(),
        }
    }
}

/// What to answer Twitch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReply {
    pub status: u16,
    /// `text/plain` body (the challenge), empty otherwise.
    pub body: String,
}

impl WebhookReply {
    fn status(status: u16) -> Self {
        Self {
            status,
            body: String::new(),
        }
    }
}

/// What reconciliation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SubscriptionSummary {
    pub kept: usize,
    pub created: usize,
    pub deleted: usize,
}

impl Streams {
    pub fn eventsub_enabled(&self) -> bool {
        self.inner.live.current().public_url.is_some() && self.twitch_configured()
    }

    fn callback_url(&self) -> Option<String> {
        let config = self.inner.live.current();
        let base = config.public_url.as_ref()?;
        Some(format!(
            "{}{CALLBACK_PATH}",
            base.as_str().trim_end_matches('/')
        ))
    }

    async fn eventsub_secret(&self) -> StreamsResult<String> {
        let secret = self
            .inner
            .eventsub
            .secret
            .get_or_try_init(|| async {
                let fresh: String = rand::thread_rng()
                    .sample_iter(&rand::distributions::Alphanumeric)
                    .take(48)
                    .map(char::from)
                    .collect();
                let sealed = self.inner.secrets.seal(&fresh);
                // The first process to store one wins; everyone uses the stored value.
                let stored = self.inner.store.app_state_init(SECRET_KEY, &sealed).await?;
                self.inner
                    .secrets
                    .open_sealed(&stored)
                    .map_err(|e| StreamsError::Invalid(e.to_string()))
            })
            .await?;
        Ok(secret.clone())
    }

    /// Handles one webhook delivery. Forged, stale and malformed messages get 403/400 and
    /// change nothing; duplicates get 204.
    pub async fn handle_eventsub(&self, headers: &EventSubHeaders, body: &[u8]) -> WebhookReply {
        if !self.eventsub_enabled() {
            return WebhookReply::status(404);
        }
        let secret = match self.eventsub_secret().await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "EventSub secret unavailable");
                return WebhookReply::status(500);
            }
        };
        if let Err(e) = eventsub::verify(headers, body, secret.as_bytes(), SystemTime::now()) {
            tracing::warn!(reason = %e, "EventSub message refused");
            return WebhookReply::status(403);
        }
        let message = match eventsub::parse(headers, body) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "EventSub message unreadable");
                return WebhookReply::status(400);
            }
        };
        let id = headers.message_id.clone().unwrap_or_default();
        if !self.inner.eventsub.deduper.begin(&id) {
            tracing::debug!(message = %id, "EventSub duplicate ignored");
            return WebhookReply::status(204);
        }
        match message {
            EventSubMessage::Challenge { challenge, .. } => WebhookReply {
                status: 200,
                body: challenge,
            },
            EventSubMessage::Revocation { subscription } => {
                tracing::warn!(kind = %subscription.kind, status = %subscription.status, "EventSub subscription revoked");
                self.inner.channels_changed.notify_one();
                WebhookReply::status(204)
            }
            EventSubMessage::Notification { event, .. } => match self.dispatch(event).await {
                Ok(()) => WebhookReply::status(204),
                Err(e) => {
                    // Twitch retries a failed delivery: it must not count as seen.
                    self.inner.eventsub.deduper.forget(&id);
                    tracing::warn!(error = %e, "EventSub notification failed; Twitch will retry");
                    WebhookReply::status(500)
                }
            },
        }
    }

    async fn dispatch(&self, event: EventSubEvent) -> StreamsResult<()> {
        match event {
            EventSubEvent::StreamOnline {
                id,
                broadcaster_user_id,
                kind,
                started_at,
                ..
            } => {
                let Some(channel) = self.watched(&broadcaster_user_id).await? else {
                    return Ok(());
                };
                if kind != "live" && !kind.is_empty() {
                    return Ok(());
                }
                let (title, category) = self.current_title(&channel).await;
                let info = LiveInfo {
                    twitch_stream_id: id,
                    title,
                    category,
                    started_at: Timestamp::parse_rfc3339(&started_at)
                        .unwrap_or_else(Timestamp::now),
                };
                self.on_live(&channel, info).await
            }
            EventSubEvent::StreamOffline {
                broadcaster_user_id,
                ..
            } => match self.watched(&broadcaster_user_id).await? {
                Some(channel) => self.on_offline(&channel).await,
                None => Ok(()),
            },
            EventSubEvent::ChannelUpdate {
                broadcaster_user_id,
                title,
                category_name,
                ..
            } => match self.watched(&broadcaster_user_id).await? {
                Some(channel) => {
                    self.on_channel_update(&channel, &title, &category_name)
                        .await
                }
                None => Ok(()),
            },
            EventSubEvent::Other { kind, .. } => {
                tracing::debug!(%kind, "EventSub event ignored");
                Ok(())
            }
        }
    }

    async fn watched(&self, twitch_id: &str) -> StreamsResult<Option<Channel>> {
        Ok(self
            .inner
            .store
            .twitch_channel_by_twitch_id(twitch_id)
            .await?
            .filter(|c| c.removed_at.is_none()))
    }

    /// `stream.online` carries no title: ask Helix, else keep what we knew.
    async fn current_title(&self, channel: &Channel) -> (String, String) {
        if let Ok(twitch) = self.twitch()
            && let Ok(found) = twitch
                .helix
                .channels(std::slice::from_ref(&channel.twitch_id))
                .await
            && let Some(c) = found.into_iter().next()
        {
            return (c.title, c.game_name);
        }
        (channel.title.clone(), channel.category.clone())
    }

    pub(crate) async fn eventsub_loop(self) {
        let mut live = self.inner.live.clone();
        loop {
            // Without a public URL (it can be set later in the app) only polling runs.
            while !self.eventsub_enabled() {
                tokio::select! {
                    more = live.changed() => if !more { return },
                    _ = self.inner.shutdown.cancelled() => return,
                }
            }
            match self.reconcile_subscriptions().await {
                Ok(s) => tracing::info!(
                    kept = s.kept,
                    created = s.created,
                    deleted = s.deleted,
                    "EventSub subscriptions reconciled"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "EventSub reconciliation failed; polling still runs")
                }
            }
            tokio::select! {
                _ = self.inner.channels_changed.notified() => {}
                _ = tokio::time::sleep(RECONCILE_EVERY) => {}
                _ = self.inner.shutdown.cancelled() => return,
            }
        }
    }

    /// Makes Twitch's subscriptions for our callback match the watched channels.
    pub async fn reconcile_subscriptions(&self) -> StreamsResult<SubscriptionSummary> {
        let callback = self.callback_url().ok_or(StreamsError::NotConfigured)?;
        let twitch = self.twitch()?;
        let secret = self.eventsub_secret().await?;
        let channels = self.inner.store.list_twitch_channels().await?;
        let mut missing: HashSet<(String, &str, &str)> = channels
            .iter()
            .flat_map(|c| WANTED.iter().map(|(k, v)| (c.twitch_id.clone(), *k, *v)))
            .collect();
        let mut summary = SubscriptionSummary::default();
        for sub in twitch.helix.eventsub_list().await? {
            if sub.transport.callback != callback {
                continue;
            }
            let key = wanted_key(&sub);
            let healthy = matches!(
                sub.status.as_str(),
                "enabled" | "webhook_callback_verification_pending"
            );
            if healthy && key.as_ref().is_some_and(|k| missing.remove(k)) {
                summary.kept += 1;
            } else {
                twitch.helix.eventsub_delete(&sub.id).await?;
                summary.deleted += 1;
            }
        }
        for (user_id, kind, version) in missing {
            twitch
                .helix
                .eventsub_create(&NewSubscription {
                    kind: kind.to_string(),
                    version: version.to_string(),
                    condition: serde_json::json!({ "broadcaster_user_id": user_id }),
                    callback: callback.clone(),
                    secret: secret.clone(),
                })
                .await?;
            summary.created += 1;
        }
        Ok(summary)
    }
}

/// The (channel, type, version) a subscription serves, when it is one we want.
fn wanted_key(sub: &EventSubSubscription) -> Option<(String, &'static str, &'static str)> {
    let user = sub.broadcaster_user_id()?.to_string();
    WANTED
        .iter()
        .find(|(k, v)| *k == sub.kind && *v == sub.version)
        .map(|(k, v)| (user, *k, *v))
}
