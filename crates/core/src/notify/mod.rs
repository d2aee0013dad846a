//! Notifications (C12): events → per-channel items → batched messages in a durable outbox →
//! Discord, ntfy, a signed webhook or Apprise.
//!
//! Nothing is lost across a crash: the notifier reads the persisted event history from a
//! cursor stored with the items it creates, and messages stay in the outbox until a send
//! succeeds. Delivery is at least once; every attempt of a message carries the same id.

pub mod format;
pub mod model;
mod send;
mod service;

pub(crate) use send::VAPID_KEY;
pub use service::{ChannelInput, Notifier, NotifyError};
