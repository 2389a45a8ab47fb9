//! Outgoing webhooks: `GET, POST …/webhooks`, `GET, PATCH, DELETE
//! …/webhooks/{id}`, its secret, enable and disable, the delivery log,
//! redelivery and the test event ([`crate::ops::webhooks`]).

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use switchboard_store::admin::webhooks::{DeliveryRow, EndpointRow};
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Items;
use super::activity::{Page, limit_of};
use super::voicemail::EmailsQuery as PageQuery;
use crate::AdminState;
use crate::auth::{Access, Admin, Viewer};
use crate::error::ApiResult;
use crate::extract::{Body, PathId};
use crate::openapi::errors::*;
use crate::openapi::{ClinicPath, ItemPath};
use crate::ops::webhooks as ops;
pub use crate::ops::webhooks::{
    WebhookEndpointIn, WebhookEndpointPatch, WebhookMessageOut, WebhookSecretOut,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(update)
        .service(delete)
        .service(secret)
        .service(rotate_secret)
        .service(enable)
        .service(disable)
        .service(deliveries)
        .service(redeliver)
        .service(send_test);
}

/// `{c}`, `{id}` and `{message_id}`: a message of an endpoint.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct MessagePath {
    /// The clinic's id: one that is not a UUID, not a clinic, or another clinic's is 404.
    c: uuid::Uuid,
    /// The endpoint's id; one that is not a UUID or not in this clinic is 404.
    id: uuid::Uuid,
    /// The message's id (`webhook-id`, `msg_…`); one the endpoint was not sent is 404.
    message_id: String,
}

/// The clinic's webhook endpoints
///
/// Role: viewer. Oldest first; secrets have a call of their own.
#[utoipa::path(
    operation_id = "list_webhook_endpoints",
    tag = "webhooks",
    params(ClinicPath),
    responses(
        (status = 200, description = "Every endpoint", body = Items<EndpointRow>),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/webhooks")]
async fn list(access: Access<Viewer>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    let items = ops::list(&access, &state).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Register a webhook endpoint
///
/// Role: admin. An `https://` URL and the event types it receives; it gets
/// a secret of its own (`GET …/secret`). At most 20 per clinic.
#[utoipa::path(
    operation_id = "create_webhook_endpoint",
    tag = "webhooks",
    params(ClinicPath),
    request_body(
        content = WebhookEndpointIn,
        example = json!({"url": "https://ehr.clinic.example/hooks/switchboard",
                         "description": "Our EHR", "events": ["call.completed", "voicemail.received"]})
    ),
    responses(
        (status = 201, description = "The endpoint", body = EndpointRow,
            links(
                ("GetWebhookEndpoint" = (operation_id = "get_webhook_endpoint",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
                ("DeleteWebhookEndpoint" = (operation_id = "delete_webhook_endpoint",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
            )),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[post("/clinics/{c}/webhooks")]
async fn create(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let input: WebhookEndpointIn = body.json()?;
    Ok(HttpResponse::Created().json(ops::create(&access, &state, input).await?))
}

/// A webhook endpoint
///
/// Role: viewer.
#[utoipa::path(
    operation_id = "get_webhook_endpoint",
    tag = "webhooks",
    params(ItemPath),
    responses(
        (status = 200, description = "The endpoint", body = EndpointRow),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/webhooks/{id}")]
async fn get(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(HttpResponse::Ok().json(ops::get(&access, &state, id).await?))
}

/// Change a webhook endpoint
///
/// Role: admin. Absent fields are kept.
#[utoipa::path(
    operation_id = "patch_webhook_endpoint",
    tag = "webhooks",
    params(ItemPath),
    request_body(content = WebhookEndpointPatch, example = json!({"events": ["call.completed"]})),
    responses(
        (status = 200, description = "The endpoint as it is now", body = EndpointRow),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[patch("/clinics/{c}/webhooks/{id}")]
async fn update(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    id: PathId,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let patch: WebhookEndpointPatch = body.json()?;
    Ok(HttpResponse::Ok().json(ops::update(&access, &state, id, patch).await?))
}

/// Remove a webhook endpoint
///
/// Role: admin. Its deliveries and their log go with it.
#[utoipa::path(
    operation_id = "delete_webhook_endpoint",
    tag = "webhooks",
    params(ItemPath),
    responses(
        (status = 204, description = "Removed"),
        Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[delete("/clinics/{c}/webhooks/{id}")]
async fn delete(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    ops::delete(&access, &state, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A webhook endpoint's signing secret
///
/// Role: admin.
#[utoipa::path(
    operation_id = "get_webhook_secret",
    tag = "webhooks",
    params(ItemPath),
    responses(
        (status = 200, description = "The secret", body = WebhookSecretOut),
        Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/webhooks/{id}/secret")]
async fn secret(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(HttpResponse::Ok().json(ops::secret(&access, &state, id).await?))
}

/// Rotate a webhook endpoint's secret
///
/// Role: admin. Every try from now on is signed with the new secret, and
/// for 24 hours with the old one too.
#[utoipa::path(
    operation_id = "rotate_webhook_secret",
    tag = "webhooks",
    params(ItemPath),
    responses(
        (status = 200, description = "The new secret", body = WebhookSecretOut),
        Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[post("/clinics/{c}/webhooks/{id}/secret/rotate")]
async fn rotate_secret(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(HttpResponse::Ok().json(ops::rotate_secret(&access, &state, id).await?))
}

/// Enable a webhook endpoint
///
/// Role: admin. Its pending deliveries are tried at once.
#[utoipa::path(
    operation_id = "enable_webhook_endpoint",
    tag = "webhooks",
    params(ItemPath),
    responses(
        (status = 200, description = "The endpoint", body = EndpointRow),
        Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[post("/clinics/{c}/webhooks/{id}/enable")]
async fn enable(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(HttpResponse::Ok().json(ops::set_enabled(&access, &state, id, true).await?))
}

/// Disable a webhook endpoint
///
/// Role: admin. Nothing is sent to it, nor written for it, until it is enabled again.
#[utoipa::path(
    operation_id = "disable_webhook_endpoint",
    tag = "webhooks",
    params(ItemPath),
    responses(
        (status = 200, description = "The endpoint", body = EndpointRow),
        Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[post("/clinics/{c}/webhooks/{id}/disable")]
async fn disable(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(HttpResponse::Ok().json(ops::set_enabled(&access, &state, id, false).await?))
}

/// A webhook endpoint's delivery log
///
/// Role: viewer. Newest first, paged; each message with its latest tries.
#[utoipa::path(
    operation_id = "list_webhook_deliveries",
    tag = "webhooks",
    params(ItemPath, PageQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Page<DeliveryRow>),
        BadRequest, Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/webhooks/{id}/deliveries")]
async fn deliveries(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    id: PathId,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let limit = limit_of(query.limit)?;
    let (items, next_cursor) =
        ops::deliveries(&access, &state, id, query.cursor.as_deref(), limit).await?;
    Ok(HttpResponse::Ok().json(Page { items, next_cursor }))
}

/// Send a message to a webhook endpoint again
///
/// Role: admin. Delivered, failed or pending: it is tried at once, with
/// the same `webhook-id`, and retried as a new one would be.
#[utoipa::path(
    operation_id = "redeliver_webhook_message",
    tag = "webhooks",
    params(MessagePath),
    responses(
        (status = 202, description = "Queued", body = WebhookMessageOut),
        Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[post("/clinics/{c}/webhooks/{id}/messages/{message_id}/redeliver")]
async fn redeliver(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    id: PathId,
    request: HttpRequest,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let message_id = request.match_info().get("message_id").unwrap_or_default();
    Ok(HttpResponse::Accepted().json(ops::redeliver(&access, &state, id, message_id).await?))
}

/// Send a test event to a webhook endpoint
///
/// Role: admin. A `webhook.test` message to this endpoint alone, whatever
/// events it receives, delivered and retried like any other.
#[utoipa::path(
    operation_id = "send_webhook_test",
    tag = "webhooks",
    params(ItemPath),
    responses(
        (status = 202, description = "Queued", body = WebhookMessageOut),
        Unauthorized, Forbidden, NotFound, Unavailable,
    ),
)]
#[post("/clinics/{c}/webhooks/{id}/test")]
async fn send_test(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(HttpResponse::Accepted().json(ops::send_test(&access, &state, id).await?))
}
