//! One module per resource of `docs/api.md`, each with `configure`.

pub mod activity;
pub mod assistants;
pub mod clinics;
pub mod keys;
pub mod locations;
pub mod numbers;
pub mod previews;
pub mod provisioning;

use actix_web::web;

/// Registers every resource.
pub fn configure(cfg: &mut web::ServiceConfig) {
    clinics::configure(cfg);
    keys::configure(cfg);
    locations::configure(cfg);
    assistants::configure(cfg);
    numbers::configure(cfg);
    previews::configure(cfg);
    provisioning::configure(cfg);
    activity::configure(cfg);
}

/// `{"items": [...]}`, the shape of unpaginated lists.
#[derive(serde::Serialize)]
pub(crate) struct Items<T> {
    pub items: Vec<T>,
}
