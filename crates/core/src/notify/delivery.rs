//! Delivery: due messages go to their channel within its rate cap, each attempt claimed so
//! one process sends it; failures are retried with backoff, then given up. The test button
//! sends at once, outside the outbox.

use super::model::{Channel, MessageRecord, MessageStatus};
use super::notifier::{Notifier, NotifyError};
use super::outbox::is_quiet;
use crate::ids::new_id;
use crate::storage::StorageError;
use crate::time::Timestamp;
use std::collections::HashMap;
use std::time::Duration;
use tapearr_integrations::notify::{Message, MessageEvent, SendError};

/// A message is given up after this many failed attempts.
const MAX_ATTEMPTS: u32 = 10;
/// How long one process owns an attempt before another may try.
const ATTEMPT_LEASE: Duration = Duration::from_secs(120);
/// First retry delay; it doubles with each failed attempt (capped at an hour).
const RETRY_BASE: Duration = Duration::from_secs(2);

impl Notifier {
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

    /// Due messages → their channel, within its rate cap.
    pub(super) async fn deliver(
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
