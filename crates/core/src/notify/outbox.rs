//! The outbox: new persisted events become one item per subscribed channel (the cursor moves
//! in the same transaction), and items whose batching window passed become messages of at
//! most [`MAX_LINES`] lines.

use super::format;
use super::model::{Channel, ItemRecord, MessageQuery, MessageRecord, MessageStatus, NewItem};
use super::notifier::{Notifier, NotifyError};
use crate::events::model::EventQuery;
use crate::ids::new_id;
use crate::storage::StorageError;
use crate::time::Timestamp;
use std::collections::HashMap;
use std::time::Duration;

/// Events per message at most; more wait for the next one.
const MAX_LINES: u32 = 10;

impl Notifier {
    pub async fn messages(&self, query: &MessageQuery) -> Result<Vec<MessageRecord>, NotifyError> {
        Ok(self.store.list_messages(query).await?)
    }

    /// New persisted events → one item per subscribed channel.
    pub(super) async fn ingest(
        &self,
        channels: &HashMap<String, Channel>,
    ) -> Result<(), StorageError> {
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
    pub(super) async fn compose(
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
}

/// Quiet hours hold a channel's messages back (they are sent when the hours end).
pub(super) fn is_quiet(channel: &Channel, now: Timestamp) -> bool {
    channel
        .quiet_hours
        .as_ref()
        .is_some_and(|q| q.contains(now.minute_of_day()))
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
