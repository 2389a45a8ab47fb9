//! The webhook's error policy, the one place statuses are chosen.
//!
//! - 400: the bytes are not a webhook (malformed form, a required parameter
//!   missing, a continuation that does not decode);
//! - 403: the signature is missing or wrong;
//! - 413: the body is over the limit;
//! - 503: no snapshot at all, on purpose, so that Twilio turns to the
//!   number's fallback URL.
//!
//! Nothing a client sends is a 5xx otherwise: a routing problem or an
//! internal failure during resolution answers safe TwiML and is logged.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// Why a webhook is not answered with TwiML.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("forbidden: the Twilio signature is missing or wrong")]
    Forbidden,
    #[error("the body is larger than the limit")]
    TooLarge,
    #[error("no routing snapshot is loaded yet")]
    NoSnapshot,
}

impl ResponseError for WebhookError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebhookError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebhookError::Forbidden => StatusCode::FORBIDDEN,
            WebhookError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::NoSnapshot => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, WebhookError::NoSnapshot) {
            // Twilio gives up on this URL at once and uses the fallback.
            response.insert_header(("Retry-After", "1"));
        }
        response
            .content_type("text/plain; charset=utf-8")
            .body(self.to_string())
    }
}
