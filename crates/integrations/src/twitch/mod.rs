//! Twitch: the Helix API (app token, rate limit, batching, pagination), EventSub webhooks
//! (verification, parsing, dedupe) and the playback token + usher URL for recording.

pub mod device;
pub mod error;
pub mod eventsub;
pub mod helix;
pub mod playback;
mod ratelimit;
mod time;
mod token;
pub mod types;
pub mod video_gql;

pub use device::{DeviceCode, DevicePoll, RefreshError, UserAuthClient, UserTokens};
pub use error::TwitchError;
pub use helix::{HelixClient, HelixConfig, MAX_IDS_PER_CALL};
pub use playback::PlaybackClient;
pub use types::*;
pub use video_gql::{CommentPage, CommentsFrom, VideoComment, VideoMoment};

/// Twitch's endpoints, the defaults of the URLs the clients take.
pub const HELIX_URL: &str = "https://api.twitch.tv/helix/";
pub const ID_URL: &str = "https://id.twitch.tv/";
pub const GQL_URL: &str = "https://gql.twitch.tv/gql";
pub const USHER_URL: &str = "https://usher.ttvnw.net/";
/// Chat: IRC over WebSocket.
pub const CHAT_URL: &str = "wss://irc-ws.chat.twitch.tv:443";
