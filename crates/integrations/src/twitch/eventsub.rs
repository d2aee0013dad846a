//! EventSub webhooks: signature and age checks, message parsing, and a deduper for Twitch's
//! at-least-once delivery.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use super::time::parse_rfc3339;
use super::types::EventSubSubscription;
use crate::sign::{hmac_sha256_hex, hmac_sha256_matches};

pub const MESSAGE_ID: &str = "Twitch-Eventsub-Message-Id";
pub const MESSAGE_TYPE: &str = "Twitch-Eventsub-Message-Type";
pub const MESSAGE_SIGNATURE: &str = "Twitch-Eventsub-Message-Signature";
pub const MESSAGE_TIMESTAMP: &str = "Twitch-Eventsub-Message-Timestamp";

/// Older (or this far in the future) messages are refused: replay protection per Twitch's docs.
pub const MAX_AGE: Duration = Duration::from_secs(600);

/// The headers of a webhook delivery that verify and parse read; absent ones are `None`
/// (verify refuses those).
#[derive(Debug, Clone, Default)]
pub struct EventSubHeaders {
    pub message_id: Option<String>,
    pub message_type: Option<String>,
    pub signature: Option<String>,
    pub timestamp: Option<String>,
}

impl EventSubHeaders {
    /// Reads them through any header lookup (case-insensitive names are the getter's job).
    pub fn from_getter(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            message_id: get(MESSAGE_ID),
            message_type: get(MESSAGE_TYPE),
            signature: get(MESSAGE_SIGNATURE),
            timestamp: get(MESSAGE_TIMESTAMP),
        }
    }

    pub fn from_header_map(map: &reqwest::header::HeaderMap) -> Self {
        Self::from_getter(|name| {
            map.get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("signature does not match")]
    BadSignature,
    #[error("unreadable message timestamp")]
    BadTimestamp,
    #[error("message is older than 10 minutes")]
    Stale,
    #[error("message timestamp is in the future")]
    FromTheFuture,
}

/// `sha256=` + hex HMAC-SHA256(secret, id + timestamp + body): what Twitch puts in the
/// signature header.
pub fn sign(secret: &[u8], message_id: &str, timestamp: &str, body: &[u8]) -> String {
    let mac = hmac_sha256_hex(secret, &signed_parts(message_id, timestamp, body));
    format!("sha256={mac}")
}

fn signed_parts<'a>(message_id: &'a str, timestamp: &'a str, body: &'a [u8]) -> [&'a [u8]; 3] {
    [message_id.as_bytes(), timestamp.as_bytes(), body]
}

/// Checks the signature (constant time) and the message age against `now`.
pub fn verify(
    headers: &EventSubHeaders,
    body: &[u8],
    secret: &[u8],
    now: SystemTime,
) -> Result<(), VerifyError> {
    let id = headers
        .message_id
        .as_deref()
        .ok_or(VerifyError::MissingHeader(MESSAGE_ID))?;
    let timestamp = headers
        .timestamp
        .as_deref()
        .ok_or(VerifyError::MissingHeader(MESSAGE_TIMESTAMP))?;
    let signature = headers
        .signature
        .as_deref()
        .ok_or(VerifyError::MissingHeader(MESSAGE_SIGNATURE))?;
    let expected = signature
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(VerifyError::BadSignature)?;
    if !hmac_sha256_matches(secret, &signed_parts(id, timestamp, body), &expected) {
        return Err(VerifyError::BadSignature);
    }
    // Age after the signature: an attacker cannot pick the timestamp of a signed message.
    let sent = parse_rfc3339(timestamp).ok_or(VerifyError::BadTimestamp)?;
    match now.duration_since(sent) {
        Ok(age) if age > MAX_AGE => Err(VerifyError::Stale),
        Ok(_) => Ok(()),
        Err(e) if e.duration() > MAX_AGE => Err(VerifyError::FromTheFuture),
        Err(_) => Ok(()),
    }
}

/// The events Tapearr acts on; anything else is `Other`.
#[derive(Debug, Clone, PartialEq)]
pub enum EventSubEvent {
    StreamOnline {
        /// The stream id, the same as Helix `/streams` `id`.
        id: String,
        broadcaster_user_id: String,
        broadcaster_user_login: String,
        /// "live", "playlist", "watch_party", "premiere", "rerun".
        kind: String,
        started_at: String,
    },
    StreamOffline {
        broadcaster_user_id: String,
        broadcaster_user_login: String,
    },
    /// `channel.update` version 2.
    ChannelUpdate {
        broadcaster_user_id: String,
        broadcaster_user_login: String,
        title: String,
        language: String,
        category_id: String,
        category_name: String,
    },
    Other {
        kind: String,
        event: serde_json::Value,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventSubMessage {
    /// Answer 200 with `challenge` as `text/plain`.
    Challenge {
        challenge: String,
        subscription: EventSubSubscription,
    },
    /// Twitch dropped the subscription; `subscription.status` says why.
    Revocation { subscription: EventSubSubscription },
    Notification {
        subscription: EventSubSubscription,
        event: EventSubEvent,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("unknown message type {0}")]
    UnknownType(String),
    #[error("malformed body: {0}")]
    Body(String),
}

#[derive(Deserialize)]
struct ChallengeBody {
    challenge: String,
    subscription: EventSubSubscription,
}

#[derive(Deserialize)]
struct RevocationBody {
    subscription: EventSubSubscription,
}

#[derive(Deserialize)]
struct NotificationBody {
    subscription: EventSubSubscription,
    #[serde(default)]
    event: serde_json::Value,
}

#[derive(Deserialize)]
struct OnlineWire {
    id: String,
    broadcaster_user_id: String,
    #[serde(default)]
    broadcaster_user_login: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    started_at: String,
}

#[derive(Deserialize)]
struct OfflineWire {
    broadcaster_user_id: String,
    #[serde(default)]
    broadcaster_user_login: String,
}

#[derive(Deserialize)]
struct UpdateWire {
    broadcaster_user_id: String,
    #[serde(default)]
    broadcaster_user_login: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    category_id: Option<String>,
    #[serde(default)]
    category_name: Option<String>,
}

fn body_err(e: serde_json::Error) -> ParseError {
    ParseError::Body(e.to_string())
}

fn event(kind: &str, raw: serde_json::Value) -> Result<EventSubEvent, ParseError> {
    Ok(match kind {
        "stream.online" => {
            let w: OnlineWire = serde_json::from_value(raw).map_err(body_err)?;
            EventSubEvent::StreamOnline {
                id: w.id,
                broadcaster_user_id: w.broadcaster_user_id,
                broadcaster_user_login: w.broadcaster_user_login,
                kind: w.kind,
                started_at: w.started_at,
            }
        }
        "stream.offline" => {
            let w: OfflineWire = serde_json::from_value(raw).map_err(body_err)?;
            EventSubEvent::StreamOffline {
                broadcaster_user_id: w.broadcaster_user_id,
                broadcaster_user_login: w.broadcaster_user_login,
            }
        }
        "channel.update" => {
            let w: UpdateWire = serde_json::from_value(raw).map_err(body_err)?;
            EventSubEvent::ChannelUpdate {
                broadcaster_user_id: w.broadcaster_user_id,
                broadcaster_user_login: w.broadcaster_user_login,
                title: w.title.unwrap_or_default(),
                language: w.language.unwrap_or_default(),
                category_id: w.category_id.unwrap_or_default(),
                category_name: w.category_name.unwrap_or_default(),
            }
        }
        other => EventSubEvent::Other {
            kind: other.to_owned(),
            event: raw,
        },
    })
}

/// Parses a delivery (verify it first).
pub fn parse(headers: &EventSubHeaders, body: &[u8]) -> Result<EventSubMessage, ParseError> {
    let kind = headers
        .message_type
        .as_deref()
        .ok_or(ParseError::MissingHeader(MESSAGE_TYPE))?;
    match kind {
        "webhook_callback_verification" => {
            let b: ChallengeBody = serde_json::from_slice(body).map_err(body_err)?;
            Ok(EventSubMessage::Challenge {
                challenge: b.challenge,
                subscription: b.subscription,
            })
        }
        "revocation" => {
            let b: RevocationBody = serde_json::from_slice(body).map_err(body_err)?;
            Ok(EventSubMessage::Revocation {
                subscription: b.subscription,
            })
        }
        "notification" => {
            let b: NotificationBody = serde_json::from_slice(body).map_err(body_err)?;
            let event = event(&b.subscription.kind, b.event)?;
            Ok(EventSubMessage::Notification {
                subscription: b.subscription,
                event,
            })
        }
        other => Err(ParseError::UnknownType(other.to_owned())),
    }
}

/// Remembers message ids for a while so a redelivered message is handled once.
pub struct MessageDeduper {
    ttl: Duration,
    capacity: usize,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    at: HashMap<String, Instant>,
    // Insertion order, for expiry; entries whose id was forgotten or re-added are skipped.
    order: VecDeque<(Instant, String)>,
}

impl Default for MessageDeduper {
    fn default() -> Self {
        Self::new(MAX_AGE, 100_000)
    }
}

impl MessageDeduper {
    /// Ids are kept for `ttl` (Twitch refuses to resend older messages, and we refuse them
    /// anyway) and at most `capacity` of them.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// True the first time `id` is seen: handle the message. False: a duplicate, skip it.
    pub fn begin(&self, id: &str) -> bool {
        self.begin_at(id, Instant::now())
    }

    pub fn begin_at(&self, id: &str, now: Instant) -> bool {
        let Ok(mut s) = self.seen.lock() else {
            // A poisoned lock: better to handle twice than to drop a message.
            return true;
        };
        s.expire(now, self.ttl, self.capacity);
        if s.at.contains_key(id) {
            return false;
        }
        s.at.insert(id.to_owned(), now);
        s.order.push_back((now, id.to_owned()));
        true
    }

    /// Handling failed: forget the id so Twitch's retry is processed.
    pub fn forget(&self, id: &str) {
        if let Ok(mut s) = self.seen.lock() {
            s.at.remove(id);
        }
    }

    pub fn len(&self) -> usize {
        self.seen.lock().map(|s| s.at.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Seen {
    fn expire(&mut self, now: Instant, ttl: Duration, capacity: usize) {
        while let Some((at, id)) = self.order.front() {
            let live = self.at.get(id) == Some(at);
            let old = now.saturating_duration_since(*at) > ttl;
            // Leave room for the id about to be added.
            if live && !old && self.at.len() < capacity {
                break;
            }
            if live {
                self.at.remove(id);
            }
            self.order.pop_front();
        }
    }
}

#[cfg(test)]
mod tests;
