//! What the streams side can answer instead of a result.

use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum StreamsError {
    #[error("Twitch is not configured: set twitch.client_id and twitch.client_secret")]
    NotConfigured,
    #[error("{0}")]
    Invalid(String),
    #[error("no Twitch channel is called {0}")]
    UnknownOnTwitch(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0} is not live")]
    Offline(String),
    /// Twitch answered with an error or not at all; nothing was changed.
    #[error("Twitch is unavailable: {0}")]
    Twitch(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<tapearr_integrations::twitch::TwitchError> for StreamsError {
    fn from(e: tapearr_integrations::twitch::TwitchError) -> Self {
        Self::Twitch(e.to_string())
    }
}

pub type StreamsResult<T> = Result<T, StreamsError>;
