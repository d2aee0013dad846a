//! Why a service could not be built at start-up: the one error of the services' constructors
//! (library, media servers, notifications, streams, trailers).

use crate::files::FilesError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The HTTP client for calls that carry a secret; the message names the cause.
    #[error("{0}")]
    HttpClient(String),
    #[error("HTTP client for recordings: {0}")]
    RecorderClient(#[from] reqwest::Error),
    #[error("library root {}: {source}", path.display())]
    CreateRoot {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    LibraryRoots(#[from] FilesError),
    /// A `twitch.playlist_proxies` entry (the message never repeats credentials).
    #[error("{0}")]
    PlaylistProxy(String),
}
