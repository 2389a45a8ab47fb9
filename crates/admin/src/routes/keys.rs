//! API keys of a clinic: create (shown once), list, revoke. Admin role
//! ([`crate::ops::keys`]).

use actix_web::{HttpResponse, web};

use super::Items;
use crate::AdminState;
use crate::auth::{Access, Admin};
use crate::error::ApiResult;
use crate::extract::{Body, path_id};
use crate::ops::keys as ops;
pub use crate::ops::keys::{ApiKeyIn, ApiKeyOut, CreatedKeyOut};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/clinics/{c}/api-keys", web::get().to(list))
        .route("/v1/clinics/{c}/api-keys", web::post().to(create))
        .route("/v1/clinics/{c}/api-keys/{id}", web::delete().to(revoke));
}

async fn list(access: Access<Admin>, state: web::Data<AdminState>) -> ApiResult<HttpResponse> {
    let items = ops::list(&access, &state).await?;
    Ok(HttpResponse::Ok().json(Items { items }))
}

async fn create(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    body: Body,
) -> ApiResult<HttpResponse> {
    let input: ApiKeyIn = body.json()?;
    Ok(HttpResponse::Created().json(ops::create(&access, &state, input).await?))
}

async fn revoke(
    access: Access<Admin>,
    state: web::Data<AdminState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&path.1)?;
    ops::revoke(&access, &state, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
