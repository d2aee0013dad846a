//! Trailers (T1–T9): keep a good trailer next to every movie and series that Radarr and
//! Sonarr know about. Connections and sync read the Arrs, the disk scan finds what is already
//! there, profiles decide what is wanted, search and score pick a video, the pipeline downloads,
//! converts and places it, and the engine ties one run together.

pub mod actions;
pub mod connections;
pub mod convert;
pub mod disk;
pub mod engine;
mod error;
mod images;
pub mod jobs;
pub mod listing;
pub mod mapping;
pub mod model;
mod pipeline;
pub mod place;
pub mod plan;
pub mod politeness;
pub mod probe;
pub mod profile;
pub mod profiles;
pub mod recognize;
pub mod scan;
pub mod score;
pub mod search;
mod service;
mod source;
pub mod sync;
pub mod ytdlp;

pub use error::{TrailerError, TrailerResult};
pub use images::ImageKind;
pub use service::{Trailers, TrailersDeps};
