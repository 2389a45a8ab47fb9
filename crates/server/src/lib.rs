//! The `switchboard` binary's library: configuration, the embedded database
//! default, wiring of the webhook and admin listeners, subcommands.
#![forbid(unsafe_code)]

pub mod admin_wiring;
pub mod app;
pub mod config;
pub mod demo;

pub use app::Application;
pub use config::Settings;
