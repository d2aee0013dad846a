//! Tapearr's native HLS live recorder.
//!
//! - [`playlist`]: master and media playlists (RFC 8216 plus Twitch's tags), never panics.
//! - [`quality`]: variant choice by quality spec and codec allow-list.
//! - [`NativeRecorder`]: the live loop (one task per stream, shared HTTP client).
//! - [`StreamlinkRecorder`]: the same [`Recorder`] interface over a supervised `streamlink`.
//! - [`record()`]: one recording from start to summary, for the CLI.
//! - [`vod`]: past broadcasts (finished playlists), segments in parallel, joined in order as they
//!   arrive (each segment file removed once joined), resumable mid-download and mid-join.
//!
//! # Accounting
//! Every media sequence number the recorder sees ends up in exactly one of written, missed
//! (with a [`GapReason`]), ad, or already recorded (before [`RecordRequest::resume_after`]),
//! except segments abandoned by an explicit stop.
//!
//! # Durability and the fsync policy
//! Segments are downloaded completely into memory (bounded per stream by `concurrency ×
//! max_segment_bytes`, and across all streams of a recorder by
//! [`LiveOptions::max_parallel_downloads`]) and then appended to the current part with a single
//! `write_all`, with no user-space buffering. So:
//! - after a process crash or `kill -9`, every segment written so far is in the file (the page
//!   cache belongs to the kernel); only a segment being written at that instant can be cut
//!   short, and players read everything before it;
//! - `fdatasync` runs at most every [`OutputPlan::sync_interval`] (default 10 s) after a write,
//!   and `fsync` when a part is closed (rotation, end, stop, failure). A power loss can thus lose
//!   up to the last sync interval of media, never corrupt earlier data.
//!
//! Syncing every segment would cost one disk flush per stream every two seconds; with hundreds
//! of streams that competes with the recording itself for little gain.

mod fetch;
pub mod index;
mod live;
mod native;
pub mod playlist;
pub mod quality;
mod record;
mod recorder;
mod renew;
mod streamlink;
pub mod vod;
mod writer;

pub use fetch::{FetchError, RetryPolicy};
pub use native::{LiveOptions, NativeRecorder};
pub use record::{Backend, RecordError, RecordOptions, RecordSummary, record};
pub use recorder::{
    EndReason, FailReason, GapReason, RecordRequest, Recorder, RecorderEvent, RecordingFailure,
    RecordingHandle, RecordingOutcome, RecordingStats,
};
pub use renew::{Source, SourceRenewal};
pub use streamlink::{StreamlinkOptions, StreamlinkRecorder};
pub use writer::{Appended, Container, OutputPlan, PartOpened, PartWriter, SegmentLocation};
