//! The admin API's error policy: ONE table from error to HTTP status and
//! `code`, the only place statuses are chosen.
//!
//! - A client's mistake is never a 500: malformed JSON or query → 400,
//!   a well-formed but invalid value → 422 with a `details` entry per bad
//!   field, a refusal by the current state → 409 with a code naming the
//!   rule, a stale `If-Match` → 412, a body over the limit → 413.
//! - The store refuses by type: each [`Refusal`] (a rule of the current
//!   state, whether the store's code or a constraint found it) has its code
//!   in [`refusal`]; no error text is read. Stored data that does not parse
//!   is ours: 500, logged with its row.
//! - Twilio's failures are ours, not the client's: 502/503 with a code
//!   saying which, except a number that is not for sale (409) and a request
//!   Twilio found invalid (422).
//! - Only a database that is down (503) or misbehaving (500) remains.
//!
//! Every error answers `{"error": {"code", "message", "details": [...]}}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use switchboard_core::FieldError;
use switchboard_core::error::ForwardingError;
use switchboard_store::StoreError;
use switchboard_store::error::Refusal;
use switchboard_twilio::{ErrorKind, TwilioError};

/// Everything a handler can answer instead of success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON, query or header.
    #[error("{message}")]
    BadRequest {
        message: String,
        details: Vec<FieldError>,
    },
    #[error("a valid API key is required: Authorization: Bearer <key>")]
    Unauthorized,
    #[error("this key's role may not do this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// A method the path does not have; `allow` lists those it has.
    #[error("this path does not answer {method}; it answers {}", allow.join(", "))]
    MethodNotAllowed { method: String, allow: Vec<String> },
    /// The current state refuses the change; `code` names the rule.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the resource changed since it was read (If-Match is stale)")]
    PreconditionFailed,
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// Well-formed but invalid: every bad field.
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    /// A forwarding the rules refuse: a loop or too long a chain (409), or
    /// a target that cannot be forwarded to (422 on `field`).
    #[error("{error}")]
    Forwarding {
        error: switchboard_core::error::ForwardingError,
        field: &'static str,
    },
    /// Twilio failed or refused.
    #[error("Twilio: {0}")]
    Twilio(TwilioError),
    /// Provisioning is not configured on this server.
    #[error("phone number provisioning is not configured")]
    TwilioNotConfigured,
    /// A sign-in refused: the same words whether or not the email exists.
    #[error("the email or password is not right")]
    SignInRefused,
    /// Too many failed sign-ins for one email.
    #[error("too many failed sign-ins for this email; try again after {until}")]
    TooManyAttempts {
        until: chrono::DateTime<chrono::Utc>,
    },
    #[error("the database is unavailable")]
    Unavailable,
    #[error("internal error")]
    Internal(String),
}

/// A refusal of the store as the API answers it: 412 for a stale version,
/// else 409 with the rule's code and a message for people.
pub fn refusal(r: Refusal) -> ApiError {
    let (code, message) = match r {
        Refusal::StaleVersion => return ApiError::PreconditionFailed,
        Refusal::NumberReleased => ("number_released", "the number is released"),
        Refusal::NumberPending => ("number_pending", "the number is still being provisioned"),
        Refusal::NumberTaken => ("number_taken", "this phone number is already in use"),
        Refusal::PrimaryConflict => (
            "primary_conflict",
            "another request changed the primary number",
        ),
        Refusal::LocationInUse => ("location_in_use", "a number is at this location"),
        Refusal::AssistantInUse => (
            "assistant_in_use",
            "the assistant is bound to a number or is the texting assistant",
        ),
        Refusal::ReleaseAssistantBound => (
            "release_assistant_bound",
            "an assistant is bound to the number (schedule, off-hours, closure or on_no_answer); unbind it first",
        ),
        Refusal::ReleaseLinkedFrom => (
            "release_linked_from",
            "another number links to this number; stop that forwarding first",
        ),
        Refusal::ReleasePrimary => (
            "release_primary",
            "the number is primary and the clinic has other numbers; make another number primary first",
        ),
        Refusal::EmailTaken => (
            "email_taken",
            "someone with this email already has a sign-in",
        ),
        Refusal::BlockedCallerExists => (
            "blocked_caller_exists",
            "this number, prefix or anonymous callers are already blocked",
        ),
    };
    ApiError::Conflict {
        code,
        message: message.to_owned(),
    }
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    pub error: ErrorInner<'a>,
}

/// What went wrong.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorInner)]
pub struct ErrorInner<'a> {
    /// Names the error: `invalid`, `not_found`, a conflict's rule… (docs/api.md, "Errors")
    #[schema(examples("invalid"))]
    pub code: &'a str,
    /// For a person.
    pub message: String,
    /// Every bad field of a 400 or 422 (often empty).
    #[schema(value_type = Vec<FieldError>)]
    pub details: &'a [FieldError],
}

impl ApiError {
    /// A malformed request, with what is wrong.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// One invalid field.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ApiError {
        ApiError::Invalid(vec![FieldError::new(field, problem)])
    }

    /// The status and code of this error: the table.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "malformed_request"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed { .. } => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            }
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::PreconditionFailed => (StatusCode::PRECONDITION_FAILED, "stale_version"),
            ApiError::PayloadTooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            ApiError::Forwarding { error, .. } => match error {
                ForwardingError::Cycle(_) => (StatusCode::CONFLICT, "forwarding_cycle"),
                ForwardingError::ChainTooLong { .. } => {
                    (StatusCode::CONFLICT, "forwarding_chain_too_long")
                }
                _ => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            },
            ApiError::Twilio(e) => match e.kind() {
                ErrorKind::NumberNotAvailable => (StatusCode::CONFLICT, "number_not_available"),
                ErrorKind::InvalidRequest => (StatusCode::UNPROCESSABLE_ENTITY, "twilio_rejected"),
                ErrorKind::NotFound => (StatusCode::BAD_GATEWAY, "twilio_not_found"),
                ErrorKind::Unauthorized => (StatusCode::BAD_GATEWAY, "twilio_credentials_refused"),
                ErrorKind::RateLimited => (StatusCode::SERVICE_UNAVAILABLE, "twilio_rate_limited"),
                ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "twilio_unavailable"),
                ErrorKind::OutcomeUnknown => (StatusCode::BAD_GATEWAY, "twilio_outcome_unknown"),
                ErrorKind::UnexpectedResponse => (StatusCode::BAD_GATEWAY, "twilio_bad_response"),
            },
            ApiError::TwilioNotConfigured => {
                (StatusCode::SERVICE_UNAVAILABLE, "twilio_not_configured")
            }
            ApiError::SignInRefused => (StatusCode::UNAUTHORIZED, "sign_in_refused"),
            ApiError::TooManyAttempts { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
            }
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn details(&self) -> Vec<FieldError> {
        match self {
            ApiError::BadRequest { details, .. } | ApiError::Invalid(details) => details.clone(),
            ApiError::Forwarding { error, field }
                if self.status_and_code().0 == StatusCode::UNPROCESSABLE_ENTITY =>
            {
                vec![FieldError::new(*field, error.to_string())]
            }
            _ => Vec::new(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(cause) = self {
            tracing::error!(%cause, "admin request failed");
        }
        let message = match self {
            // Never echo internals to the client.
            ApiError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        let mut response = HttpResponse::build(status);
        if matches!(self, ApiError::Unavailable)
            || matches!(self, ApiError::Twilio(e) if e.kind() == ErrorKind::RateLimited)
        {
            response.insert_header(("Retry-After", "1"));
        }
        if matches!(self, ApiError::Unauthorized) {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let ApiError::MethodNotAllowed { allow, .. } = self {
            response.insert_header(("Allow", allow.join(", ")));
        }
        response.json(ErrorBody {
            error: ErrorInner {
                code,
                message,
                details: &self.details(),
            },
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Refused(r) => refusal(r),
            // A foreign key or unique rule nobody anticipated: still the
            // state's refusal, never a 500.
            StoreError::Conflict { constraint } => ApiError::Conflict {
                code: "conflict",
                message: format!("conflicts with the current state ({constraint})"),
            },
            StoreError::Invalid(details) => ApiError::Invalid(details),
            StoreError::Rejected { constraint } => ApiError::Invalid(vec![FieldError::new(
                constraint.clone(),
                format!("refused by the rule {constraint}"),
            )]),
            // Always about the data a client sent (a NUL in text, a value
            // out of range).
            StoreError::Unstorable(_) => ApiError::invalid(
                "body",
                "a value cannot be stored (e.g. a NUL character in text)",
            ),
            StoreError::Unavailable(_) => ApiError::Unavailable,
            // Corrupt stored data, a misbehaving database, a failed
            // migration: ours, logged with what the store says.
            other @ (StoreError::Corrupt { .. }
            | StoreError::Database(_)
            | StoreError::Migration(_)) => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::from(e).into()
    }
}

impl From<TwilioError> for ApiError {
    fn from(e: TwilioError) -> Self {
        ApiError::Twilio(e)
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(e: StoreError) -> (u16, &'static str) {
        let (status, code) = ApiError::from(e).status_and_code();
        (status.as_u16(), code)
    }

    #[test]
    fn each_store_error_has_its_status_and_code() {
        assert_eq!(answer(StoreError::NotFound), (404, "not_found"));
        assert_eq!(
            answer(StoreError::Refused(Refusal::StaleVersion)),
            (412, "stale_version")
        );
        assert_eq!(
            answer(StoreError::Refused(Refusal::ReleaseLinkedFrom)),
            (409, "release_linked_from")
        );
        assert_eq!(
            answer(StoreError::Conflict {
                constraint: "x".into()
            }),
            (409, "conflict")
        );
        assert_eq!(
            answer(StoreError::invalid("ring_groups[0].id", "not a UUID")),
            (422, "invalid")
        );
        assert_eq!(
            answer(StoreError::Rejected {
                constraint: "numbers_e164_check".into()
            }),
            (422, "invalid")
        );
    }

    #[tokio::test]
    async fn stored_data_that_does_not_parse_is_ours_and_its_row_is_kept_for_the_log() {
        let error = ApiError::from(StoreError::corrupt("routing of number 7", "bad closure"));
        assert_eq!(error.status_and_code().0.as_u16(), 500);
        let ApiError::Internal(cause) = &error else {
            panic!("{error:?}");
        };
        assert!(cause.contains("routing of number 7"), "{cause}");
        let body = actix_web::body::to_bytes(error.error_response().into_body())
            .await
            .expect("a body");
        let body = String::from_utf8_lossy(&body);
        assert!(
            !body.contains("number 7"),
            "internals stay in the log: {body}"
        );
    }
}
