//! The OpenAPI document served at `GET /v1/openapi.json`.

use actix_web::HttpResponse;

/// Serves the document.
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"openapi": "3.1.0", "info": {"title": "Switchboard admin API", "version": "1"}, "paths": {}}))
}
