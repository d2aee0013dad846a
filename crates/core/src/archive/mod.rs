//! The archive (S10): past broadcasts (VODs) and clips of watched channels.
//!
//! - [`model`]: per-channel settings and placed clips.

pub mod model;
