pub mod arr;
pub mod artwork;
pub mod hls_origin;
pub mod media_servers;
pub mod radarr;
mod serve;
pub mod sink;
pub mod sonarr;
pub mod twitch;
