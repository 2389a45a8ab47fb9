//! The console's pages, one module each.

pub mod blocked;
pub mod closing;
pub mod lists;
pub mod manage;
pub mod numbers;
pub mod routing;
pub mod sign_in;
pub mod team;
pub mod voicemail;
pub mod webhooks;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    sign_in::configure(cfg);
    numbers::configure(cfg);
    closing::configure(cfg);
    routing::configure(cfg);
    team::configure(cfg);
    lists::configure(cfg);
    manage::configure(cfg);
    voicemail::configure(cfg);
    blocked::configure(cfg);
    webhooks::configure(cfg);
}
