//! Notifications (C12): events → per-channel items → batched messages in a durable outbox →
//! Discord, ntfy, a signed webhook or Apprise.
//!
//! Nothing is lost across a crash: the notifier reads the persisted event history from a
//! cursor stored with the items it creates, and messages stay in the outbox until a send
//! succeeds. Delivery is at least once; every attempt of a message carries the same id.
//!
//! One file per job: [`channels`] (settings, validation, sealed secrets), [`notifier`] (the
//! service and its loop), [`outbox`] (events → items → messages), [`delivery`] (sending with
//! rate cap and retries, the test button), [`push`] (Web Push subscriptions), [`send`] (one
//! message to one channel), [`format`] (the words).

mod channels;
mod delivery;
pub mod format;
pub mod model;
mod notifier;
mod outbox;
mod push;
mod send;

pub use channels::ChannelInput;
pub use notifier::{Notifier, NotifyError};
pub(crate) use send::VAPID_KEY;
