//! Trailers (T1–T9): keep a good trailer next to every movie and series that Radarr, Sonarr
//! and Plex know about. The folders are the pipeline, in the order a run goes through it:
//!
//! 1. [`sync`]: connections (Radarr, Sonarr, Plex), path mapping, and the streamed library sync.
//! 2. [`scan`]: which trailers are already on disk ([`scan::folder`] one folder, [`scan`] all
//!    of them), and the rule for what a trailer is ([`scan::recognize`]).
//! 3. [`plan`]: which profiles apply to an item and what the next run will do for each
//!    (the run, the preview and the Movies/Series list call the same function).
//! 4. [`search`]: candidates from the override, the Arr, TMDB and yt-dlp, scored.
//! 5. [`download`]: one (item, profile) fetched with yt-dlp, within each host's politeness.
//! 6. [`convert`]: ffmpeg into the profile's container and codecs.
//! 7. [`place`]: the file name and the atomic move into the media folder.
//!
//! [`service`] is the entry (the [`Trailers`] service, a whole run, the durable jobs, the
//! user's actions and artwork), and [`model`] holds the types storage and the API share.

pub mod convert;
pub mod download;
mod error;
pub mod model;
pub mod place;
pub mod plan;
pub mod scan;
pub mod search;
pub mod service;
pub mod sync;

pub use error::{TrailerError, TrailerResult};
pub use plan::PlanEntry;
pub use plan::listing::MediaPage;
pub use plan::profiles::ProfileInput;
pub use search::score::Scored;
pub use service::actions::{BulkRequest, MediaDetail, MediaPatch};
pub use service::images::ImageKind;
pub use service::{Trailers, TrailersDeps, jobs};
pub use sync::connections::{ConnectionInput, ConnectionTest, RootFolderView};
