//! Tapearr's domain: everything that is neither HTTP nor SQL.

pub mod archive;
pub mod auth;
pub mod chat;
pub mod config;
pub mod crypto;
pub mod events;
pub mod files;
pub mod ids;
pub mod import;
pub mod jobs;
pub mod library;
pub mod logs;
pub mod mediaserver;
pub mod notify;
pub mod secret;
pub mod secrets_at_rest;
pub mod settings;
pub mod setup;
pub mod storage;
pub mod streams;
pub mod system;
pub mod system_checks;
pub mod time;
pub mod tools;
pub mod trailers;
