//! Twitch: the Helix API (app token, rate limit, batching, pagination), EventSub webhooks
//! (verification, parsing, dedupe) and the playback token + usher URL for recording.

pub mod error;
pub mod eventsub;
pub mod helix;
pub mod playback;
pub mod ratelimit;
pub mod time;
mod token;
pub mod types;

pub use error::TwitchError;
pub use helix::{HelixClient, HelixConfig, MAX_IDS_PER_CALL};
pub use playback::PlaybackClient;
pub use ratelimit::RateLimitSnapshot;
pub use types::*;
