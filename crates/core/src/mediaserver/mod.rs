//! Media servers (C13): after something lands in the library, ask Plex, Jellyfin or Emby to
//! rescan that folder. Each request is a durable job (`mediaserver.refresh`), so failures are
//! retried with backoff and visible in Activity.

pub mod mapping;
pub mod model;
pub mod plex_signin;
mod service;

pub use plex_signin::{PlexSignIn, PlexSignInError, PlexTvUrls};
pub use service::{
    MediaServerError, MediaServerInput, MediaServers, REFRESH_JOB, RefreshHandler, RefreshJob,
};
