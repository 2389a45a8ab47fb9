//! switchboard-webhook: the listener Twilio posts to.
#![forbid(unsafe_code)]

use actix_web::{App, HttpResponse, HttpServer, dev::Server, web};

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Starts the webhook listener on `listener`.
pub fn server(listener: std::net::TcpListener) -> std::io::Result<Server> {
    Ok(
        HttpServer::new(|| App::new().route("/healthz", web::get().to(healthz)))
            .listen(listener)?
            .disable_signals()
            .run(),
    )
}
