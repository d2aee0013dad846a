pub mod hls_origin;
pub mod media_servers;
mod serve;
pub mod sink;
pub mod twitch;
