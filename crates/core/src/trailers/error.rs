//! Errors of the trailer services, each mapping to one HTTP answer.

use crate::jobs::QueueError;
use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum TrailerError {
    /// Bad input: 400/422 with this message; nothing changed.
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// The caller did not prove who it is (a webhook with a wrong secret): 401, nothing changed.
    #[error("not authorized")]
    Unauthorized,
    /// An outside service (Radarr, Sonarr, TMDB, the video site) failed; the message says how.
    #[error("{0}")]
    Upstream(String),
    /// Tapearr's own side failed (a cache folder, a task): 500, the cause only in the log.
    #[error("{0}")]
    Internal(String),
    /// The run or the server stopped it; nothing was recorded.
    #[error("stopped before it finished")]
    Cancelled,
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for TrailerError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => Self::NotFound("item"),
            StorageError::Conflict(m) => Self::Conflict(m),
            other => Self::Storage(other),
        }
    }
}

pub type TrailerResult<T> = Result<T, TrailerError>;
