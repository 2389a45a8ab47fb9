//! switchboard-admin: the JSON admin API of `docs/api.md`, on its own listener.
//!
//! - [`auth`]: bearer keys and roles as extractors (401/403/404 as `docs/api.md` says);
//! - [`error`]: the one table of error codes and statuses;
//! - [`extract`]: bodies within the limit, JSON with field paths, `If-Match`;
//! - [`keys`]: key generation and hashing ([`hash_key`], [`create_api_key`]);
//! - [`routes`]: one module per resource, each with `configure`;
//! - [`usage`]: when each key was last used, written in batches;
//! - [`openapi`]: the `/v1` scope, whose routes and OpenAPI document are
//!   generated together from the handlers.
//!
//! Handlers validate with the core (the same rules the routers compile),
//! write through the store's admin repositories in one transaction with an
//! audit row, and let the V5 triggers notify the routers on commit.
//! Simulate and coverage compile the clinic from the database with the core
//! and render with the webhook's public base URL, so a preview is what a
//! real call gets.
#![forbid(unsafe_code)]

pub mod auth;
pub mod error;
pub mod extract;
pub mod keys;
pub mod openapi;
pub mod ops;
pub mod routes;
pub mod usage;
mod validation;

use actix_web::{App, HttpResponse, HttpServer, dev::Server, web};
use switchboard_store::Pool;
use switchboard_twilio::TwilioClient;
use utoipa_actix_web::AppExt;

pub use error::{ApiError, ApiResult};
pub use keys::{Role, create_api_key, generate_key, generate_pepper, hash_key};

/// The body limit when none is configured.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// What the admin API needs from the server.
#[derive(Clone)]
pub struct AdminState {
    pub pool: Pool,
    /// The configured super key; `None` disables it.
    pub super_key: Option<String>,
    /// The secret API keys are hashed with.
    pub key_pepper: Vec<u8>,
    /// Largest accepted JSON body (413 above).
    pub body_limit_bytes: usize,
    /// The URL Twilio reaches the webhook listener at: bought numbers point
    /// there, and previews render with it.
    pub public_base_url: String,
    /// Twilio's REST API (or the fake); `None`: provisioning answers 503.
    pub twilio: Option<TwilioClient>,
    /// The in-process fake Twilio `twilio` talks to, when the server runs
    /// one: kept here so it lives exactly as long as the admin listener.
    pub fake_twilio: Option<std::sync::Arc<switchboard_twilio::FakeTwilioHandle>>,
    /// API key uses noted by authentication, written in batches.
    pub key_usage: std::sync::Arc<usage::KeyUsage>,
    /// What webhook endpoint URLs clinics may enter (`[webhooks]`).
    pub webhook_urls: ops::webhooks::UrlPolicy,
}

impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach a log line.
        f.debug_struct("AdminState")
            .field("super_key", &self.super_key.as_ref().map(|_| "<redacted>"))
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("public_base_url", &self.public_base_url)
            .field("twilio", &self.twilio.as_ref().map(TwilioClient::base_url))
            .finish_non_exhaustive()
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

async fn not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NotFound)
}

/// The admin listener's app: the API under `/v1` (see [`openapi::api`]),
/// `/healthz`, then the routes of `more` (the console); anything else is a
/// JSON 404.
pub fn app<F>(
    state: web::Data<AdminState>,
    document: web::Data<openapi::Document>,
    more: F,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
>
where
    F: FnOnce(&mut web::ServiceConfig),
{
    let limit = state.body_limit_bytes;
    let (app, _) = App::new()
        .into_utoipa_app()
        .service(openapi::api())
        .split_for_parts();
    app.app_data(state)
        .app_data(document)
        .app_data(web::PayloadConfig::new(limit))
        .app_data(web::QueryConfig::default().error_handler(extract::query_error))
        .app_data(web::PathConfig::default().error_handler(extract::path_error))
        .route("/healthz", web::get().to(healthz))
        .configure(more)
        .default_service(web::to(not_found))
}

/// Starts the admin listener on `listener`, with the routes of `more` (the
/// console) beside the API's.
pub fn server<F>(
    listener: std::net::TcpListener,
    state: AdminState,
    more: F,
) -> std::io::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let state = web::Data::new(state);
    let document = web::Data::new(openapi::Document::new());
    Ok(
        HttpServer::new(move || app(state.clone(), document.clone(), more.clone()))
            .listen(listener)?
            .disable_signals()
            .run(),
    )
}
