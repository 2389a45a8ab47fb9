//! switchboard-console: the web console clinic staff sign in to, on the
//! admin listener at `/` (the JSON API keeps `/v1`).
//!
//! Server-rendered HTML (askama templates, escaped by default) with htmx for
//! in-place updates; htmx and the one stylesheet are served from the binary
//! under content-hashed names ([`assets`]). Every page reads without
//! JavaScript. Every change goes through the same operations as the JSON API
//! ([`switchboard_admin::ops`]), with the same authorisation
//! ([`switchboard_admin::auth::Access`]) built from the person's session.
//!
//! - [`session`]: the session cookie, CSRF and `Origin` checks, as extractors;
//! - [`render`]: the page frame, security headers, errors as pages;
//! - [`pages`]: one module per page.
#![forbid(unsafe_code)]

pub mod assets;
mod diff;
mod draft;
pub mod pages;
pub mod render;
pub mod session;
mod timeline;
mod views;
mod words;

use actix_web::web;
use switchboard_admin::ops::people::SessionPolicy;

/// What the console needs beyond the admin state.
#[derive(Debug, Clone)]
pub struct ConsoleState {
    /// Session lifetimes.
    pub policy: SessionPolicy,
    /// The console's public origin (`https://console.example.com`): changes
    /// must come from it, and an https one makes the cookie `Secure` with the
    /// `__Host-` prefix. `None`: the origin the request was sent to.
    pub public_origin: Option<String>,
}

impl ConsoleState {
    /// Whether cookies must be `Secure`.
    pub fn secure(&self) -> bool {
        self.public_origin
            .as_deref()
            .is_some_and(|o| o.starts_with("https://"))
    }
}

/// Every route of the console.
pub fn configure(state: ConsoleState) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    let state = web::Data::new(state);
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(state.clone());
        assets::configure(cfg);
        pages::configure(cfg);
    }
}
