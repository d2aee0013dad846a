pub mod hls_origin;
