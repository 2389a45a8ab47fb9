//! Buying numbers at Twilio: `GET …/available-numbers`, `POST …/numbers`
//! (both steps of [`crate::ops::provisioning`] in one request).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::Items;
use super::numbers::detail_response_with;
use crate::AdminState;
use crate::auth::{Access, Admin};
use crate::error::ApiResult;
use crate::extract::Body;
use crate::openapi::ClinicPath;
use crate::openapi::errors::*;
use crate::ops::numbers::NumberDetailOut;
use crate::ops::provisioning as ops;
pub use crate::ops::provisioning::{
    AvailableOut, AvailableQuery, BuyIn, CapabilitiesOut, SMS_PATH, STATUS_PATH, VOICE_PATH,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(available).service(buy);
}

/// Numbers Twilio offers
///
/// Role: admin. No number in that area is an empty list.
#[utoipa::path(
    operation_id = "available_numbers",
    tag = "numbers",
    params(ClinicPath, AvailableQuery),
    responses(
        (status = 200, description = "Numbers for sale", body = Items<AvailableOut>),
        BadRequest, Unauthorized, Forbidden, NotFound, Invalid, BadGateway, Unavailable,
    ),
)]
#[get("/clinics/{c}/available-numbers")]
async fn available(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    query: web::Query<AvailableQuery>,
) -> ApiResult<HttpResponse> {
    let items = ops::search(&access, &state, &query).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

/// Buy a number at Twilio
///
/// Role: admin. The number is claimed `pending`, bought with its webhooks
/// pointed at this service, then made `active` (and primary when the clinic
/// has none). If Twilio refuses or fails, nothing is kept, except when its
/// answer was lost (502 `twilio_outcome_unknown`: the number stays pending).
#[utoipa::path(
    operation_id = "buy_number",
    tag = "numbers",
    params(ClinicPath),
    request_body(content = BuyIn, example = json!({"phone_number": "+14155550123", "friendly_name": "Front desk line"})),
    responses(
        (status = 201, description = "The number", body = NumberDetailOut,
            headers(("ETag" = String, description = "The version, quoted")),
            links(
                ("GetNumber" = (operation_id = "get_number",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
                ("ReleaseNumber" = (operation_id = "release_number",
                    parameters(("c" = "$request.path.c"), ("id" = "$response.body#/id")))),
            )),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, Invalid,
        BadGateway, Unavailable,
    ),
)]
#[post("/clinics/{c}/numbers")]
async fn buy(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let input: BuyIn = body.json()?;
    let detail = ops::buy(&access, &state, &input).await?;
    Ok(detail_response_with(StatusCode::CREATED, &detail))
}
