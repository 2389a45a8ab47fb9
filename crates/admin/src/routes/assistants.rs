//! Assistants: `GET, POST …/assistants`, `GET, PATCH, DELETE …/{id}`, and
//! `GET, PUT …/{id}/numbers` (the numbers it is bound to, both directions);
//! the operations are [`crate::ops::assistants`].

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use switchboard_store::admin::assistants::AssistantRow;
use utoipa_actix_web::service_config::ServiceConfig;

use super::Items;
use crate::AdminState;
use crate::auth::{Access, Editor, Viewer};
use crate::error::ApiResult;
use crate::extract::{Body, PathId};
use crate::openapi::errors::*;
use crate::openapi::{ClinicPath, ItemPath};
use crate::ops::assistants as ops;
pub use crate::ops::assistants::{
    AssistantIn, AssistantNumberOut, AssistantNumbersIn, AssistantPatch,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(patch)
        .service(delete)
        .service(numbers_of)
        .service(put_numbers);
}

/// The clinic's assistants
///
/// Role: viewer.
#[utoipa::path(
    operation_id = "list_assistants",
    tag = "assistants",
    params(ClinicPath),
    responses(
        (status = 200, description = "Every assistant", body = Items<AssistantRow>),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/assistants")]
async fn list(access: Access<Viewer>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    let items = ops::list(&access, &state).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Create an assistant
///
/// Role: editor.
#[utoipa::path(
    operation_id = "create_assistant",
    tag = "assistants",
    params(ClinicPath),
    request_body(
        content = AssistantIn,
        example = json!({"name": "After Hours AI", "kind": "voice",
                         "target": {"type": "stream", "url": "wss://ai.example.com/stream", "parameters": {"clinic": "sunrise"}}})
    ),
    responses(
        (status = 201, description = "The assistant", body = AssistantRow,
            links(
                ("GetAssistant" = (operation_id = "get_assistant",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
                ("PatchAssistant" = (operation_id = "patch_assistant",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
                ("NumbersOfAssistant" = (operation_id = "numbers_of_assistant",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
                ("DeleteAssistant" = (operation_id = "delete_assistant",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
            )),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[post("/clinics/{c}/assistants")]
async fn create(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let input: AssistantIn = body.json()?;
    Ok(HttpResponse::Created().json(ops::create(&access, &state, input).await?))
}

/// An assistant
///
/// Role: viewer.
#[utoipa::path(
    operation_id = "get_assistant",
    tag = "assistants",
    params(ItemPath),
    responses(
        (status = 200, description = "The assistant", body = AssistantRow),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/assistants/{id}")]
async fn get(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    Ok(HttpResponse::Ok().json(ops::get(&access, &state, id).await?))
}

/// Change an assistant
///
/// Role: editor. A change of `kind` is refused (409 `assistant_in_use`)
/// while a number binds the assistant, an action names it, or it is the
/// clinic's texting assistant.
#[utoipa::path(
    operation_id = "patch_assistant",
    tag = "assistants",
    params(ItemPath),
    request_body(content = AssistantPatch, example = json!({"name": "Night line AI"})),
    responses(
        (status = 200, description = "The assistant as it is now", body = AssistantRow),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[patch("/clinics/{c}/assistants/{id}")]
async fn patch(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let patch: AssistantPatch = body.json()?;
    Ok(HttpResponse::Ok().json(ops::update(&access, &state, id, patch).await?))
}

/// Delete an assistant
///
/// Role: editor. Refused (409 `assistant_in_use`) while a number binds it,
/// an action names it, or it is the clinic's texting assistant.
#[utoipa::path(
    operation_id = "delete_assistant",
    tag = "assistants",
    params(ItemPath),
    responses(
        (status = 204, description = "Deleted"),
        Unauthorized, Forbidden, NotFound, Conflict, Unavailable,
    ),
)]
#[delete("/clinics/{c}/assistants/{id}")]
async fn delete(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    ops::delete(&access, &state, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The live numbers an assistant serves
///
/// Role: viewer.
#[utoipa::path(
    operation_id = "numbers_of_assistant",
    tag = "assistants",
    params(ItemPath),
    responses(
        (status = 200, description = "Its numbers", body = Items<AssistantNumberOut>),
        Unauthorized, NotFound, Unavailable,
    ),
)]
#[get("/clinics/{c}/assistants/{id}/numbers")]
async fn numbers_of(
    access: Access<Viewer>,
    state: web::Data<AdminState>,
    id: PathId,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let items = ops::numbers(&access, &state, id).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Binds the assistant as always-on to the listed numbers where it is not
/// bound yet, and unbinds it from the numbers left out; each changed
/// routing document is validated by the core and saved, all in one
/// transaction.
/// Bind an assistant to exactly these numbers
///
/// Role: editor. Binds the (voice) assistant without a schedule to each
/// listed number where it is not bound yet and unbinds it from the others;
/// each changed routing document is validated as a routing PUT is.
#[utoipa::path(
    operation_id = "put_numbers_of_assistant",
    tag = "assistants",
    params(ItemPath),
    request_body(
        content = AssistantNumbersIn,
        example = json!({"number_ids": ["00000000-0000-4000-8000-0000000000b1"]})
    ),
    responses(
        (status = 200, description = "Its numbers now", body = Items<AssistantNumberOut>),
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, Invalid, Unavailable,
    ),
)]
#[put("/clinics/{c}/assistants/{id}/numbers")]
async fn put_numbers(
    access: Access<Editor>,
    state: web::Data<AdminState>,
    id: PathId,
    body: Body,
) -> ApiResult<HttpResponse> {
    let id = id.parse()?;
    let input: AssistantNumbersIn = body.json()?;
    let items = ops::set_numbers(&access, &state, id, input).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}
