//! Tapearr's native HLS live recorder.
pub mod playlist;
pub mod quality;
