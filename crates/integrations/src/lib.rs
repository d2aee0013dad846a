//! HTTP clients and wire types for the outside services Tapearr talks to. No database, no
//! server: callers pass what they need and get typed results.

pub mod arr;
pub mod http;
pub mod mediaserver;
pub mod notify;
mod sign;
pub mod tmdb;
pub mod twitch;
