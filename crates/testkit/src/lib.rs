pub mod hls_origin;
pub mod sink;
