pub mod hls_origin;
pub mod media_servers;
pub mod sink;
pub mod twitch;
