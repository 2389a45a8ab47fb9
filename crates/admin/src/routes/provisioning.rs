//! Buying numbers at Twilio: `GET …/available-numbers`, `POST …/numbers`
//! (both steps of [`crate::ops::provisioning`] in one request).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::Items;
use super::numbers::detail_response_with;
use crate::AdminState;
use crate::auth::{Access, Admin};
use crate::error::ApiResult;
use crate::extract::Body;
use crate::ops::provisioning as ops;
pub use crate::ops::provisioning::{
    AvailableOut, AvailableQuery, BuyIn, CapabilitiesOut, SMS_PATH, STATUS_PATH, VOICE_PATH,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v1/clinics/{c}/available-numbers",
        web::get().to(available),
    )
    .route("/v1/clinics/{c}/numbers", web::post().to(buy));
}

async fn available(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    query: web::Query<AvailableQuery>,
) -> ApiResult<HttpResponse> {
    let items = ops::search(&access, &state, &query).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

async fn buy(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let input: BuyIn = body.json()?;
    let detail = ops::buy(&access, &state, &input).await?;
    Ok(detail_response_with(StatusCode::CREATED, &detail))
}
