//! Chat beside recordings (S10): captured from Twitch's IRC-over-WebSocket chat while a channel
//! is recorded, kept as JSON lines with the MP4, shown by media servers as an ASS subtitle
//! sidecar and replayed by the web player.
//!
//! - [`capture`]: the anonymous reader that appends to the parts folder's `chat.jsonl`.
//! - [`record`]: the file format, moderation and placing on the MP4's timeline.
//! - [`ass`]: the subtitle sidecar.

pub mod ass;
pub mod capture;
mod irc;
pub mod record;
mod socket;

pub use record::{ChatEntry, ChatLine};

/// The chat file in a recording's parts folder.
pub const PARTS_FILE: &str = "chat.jsonl";
/// Beside the MP4: every message that stayed, on the MP4's timeline.
pub const JSONL_SUFFIX: &str = ".chat.jsonl";
/// Beside the MP4: the subtitle track media servers show.
pub const ASS_SUFFIX: &str = ".chat.ass";
