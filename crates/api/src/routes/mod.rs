//! Handlers, one file per resource. Each parses, calls one service, and maps the result.

pub mod account;
pub mod apikeys;
pub mod archive;
pub mod channels;
pub mod events;
pub mod health;
pub mod import;
pub mod jobs;
pub mod library;
pub mod logs;
pub mod media_servers;
pub mod notifications;
pub mod plex;
pub mod recordings;
pub mod retention;
pub mod session;
pub mod settings;
pub mod setup;
pub mod system;
pub mod tasks;
pub mod trailers;
pub mod twitch;
pub mod watch;
pub mod ws;
