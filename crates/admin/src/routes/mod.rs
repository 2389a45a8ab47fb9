//! One module per resource of `docs/api.md`, each with `configure`: every
//! handler carries its OpenAPI operation (`#[utoipa::path]`) above its route.

pub mod activity;
pub mod assistants;
pub mod blocked;
pub mod clinics;
pub mod keys;
pub mod locations;
pub mod numbers;
pub mod previews;
pub mod provisioning;
pub mod voicemail;
pub mod webhooks;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every resource, each route with its documentation, inside the
/// `/v1` scope of [`crate::openapi::api`].
pub fn configure(cfg: &mut ServiceConfig) {
    clinics::configure(cfg);
    keys::configure(cfg);
    locations::configure(cfg);
    assistants::configure(cfg);
    numbers::configure(cfg);
    previews::configure(cfg);
    provisioning::configure(cfg);
    activity::configure(cfg);
    voicemail::configure(cfg);
    blocked::configure(cfg);
    webhooks::configure(cfg);
}

/// `{"items": [...]}`, the shape of unpaginated lists.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}
