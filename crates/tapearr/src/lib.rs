//! Tapearr's server as a library: the `tapearr` binary's commands, and [`serve::Server`], which
//! tests start in-process.

pub mod admin;
pub mod app;
pub mod doctor;
pub mod import_cmd;
mod instance;
mod listener;
pub mod record_cmd;
mod secret_key;
pub mod serve;
