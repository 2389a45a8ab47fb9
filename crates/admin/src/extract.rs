//! Request bodies, queries and headers, with the error shapes of `docs/api.md` ("Errors").
//!
//! A body is read up to `admin.body_limit_bytes` (413 above it), then parsed
//! by [`parse_json`]: JSON that does not parse, or that is not an object
//! (every body of the API is one), is 400; an object of the wrong shape (a
//! missing field, a wrong type, an unknown field) is well-formed but
//! invalid, so 422 with the path of the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;
use switchboard_core::FieldError;

use crate::error::ApiError;

/// A request body, read in full within the limit.
pub struct Body(pub web::Bytes);

impl FromRequest for Body {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Body, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<crate::AdminState>>()
            .map_or(crate::DEFAULT_BODY_LIMIT, |s| s.body_limit_bytes);
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            match bytes.await {
                Ok(bytes) => Ok(Body(bytes)),
                Err(err) => match err.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => Err(ApiError::PayloadTooLarge { limit }),
                    _ => Err(ApiError::bad_request(format!(
                        "the body cannot be read: {err}"
                    ))),
                },
            }
        })
    }
}

impl Body {
    /// Parses the body as JSON of `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        parse_json(&self.0)
    }
}

/// Parses a JSON object: 400 when it is not JSON or not an object, 422
/// with the field path when it does not have the expected shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Some(kind) = not_an_object(bytes) {
        return Err(ApiError::BadRequest {
            message: format!("the body must be a JSON object, not {kind}"),
            details: vec![FieldError::new(
                "body",
                format!("expected a JSON object, got {kind}"),
            )],
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = match parsed {
        Ok(value) => value,
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            return Err(match inner.classify() {
                serde_json::error::Category::Data => {
                    let problem = strip_position(&inner);
                    let field = field_of(&path, &problem);
                    ApiError::Invalid(vec![FieldError::new(field, problem)])
                }
                _ => ApiError::bad_request(format!("malformed JSON: {inner}")),
            });
        }
    };
    de.end()
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    if contains_nul_escape(bytes) {
        // PostgreSQL text cannot hold NUL; refuse it here with a clear word.
        return Err(ApiError::invalid(
            "body",
            "text may not contain NUL characters (\\u0000)",
        ));
    }
    Ok(value)
}

/// What a body is when it is not a JSON object, judged by its first byte
/// (`None` for an object, or for text that is not JSON at all, which the
/// parser then reports).
fn not_an_object(bytes: &[u8]) -> Option<&'static str> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Some("an empty body"),
        Some(b'[') => Some("an array"),
        Some(b'"') => Some("a string"),
        Some(b't' | b'f') => Some("a boolean"),
        Some(b'n') => Some("null"),
        Some(b'-' | b'0'..=b'9') => Some("a number"),
        _ => None,
    }
}

/// The field a data error is about: an unknown field names itself (serde
/// reports it at its parent), anything else its path; `body` for the top.
fn field_of(path: &str, problem: &str) -> String {
    let unknown = problem
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    match (path, unknown) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        (parent, Some(name)) if !parent.ends_with(name) => format!("{parent}.{name}"),
        (path, _) => path.to_owned(),
    }
}

/// Whether JSON text holds a `\u0000` escape (a raw NUL is not valid JSON).
fn contains_nul_escape(bytes: &[u8]) -> bool {
    bytes
        .windows(6)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && w[2..].iter().all(|b| *b == b'0'))
}

/// serde_json's message without " at line 1 column 7".
fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// The path error handler: a path that cannot be read is not one of ours.
pub fn path_error(_: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::NotFound.into()
}

/// The query error handler: the 400 shape of `docs/api.md` ("Errors").
pub fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::bad_request(format!("malformed query: {err}")).into()
}

/// The version an `If-Match` header asks for: `None` without the header
/// (or with `*`); 412 when it cannot be one of our ETags.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get("if-match") else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed)?
        .trim();
    if text == "*" {
        return Ok(None);
    }
    let text = text.strip_prefix("W/").unwrap_or(text);
    text.trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| ApiError::PreconditionFailed)
}

/// The ETag of a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The `{id}` of the path as sent; [`PathId::parse`] reads it inside the
/// handler, after authorisation, so a request without a key is 401 whatever
/// its id.
pub struct PathId(pub String);

impl FromRequest for PathId {
    type Error = ApiError;
    type Future = std::future::Ready<Result<PathId, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req.match_info().get("id").unwrap_or_default().to_owned();
        std::future::ready(Ok(PathId(id)))
    }
}

impl PathId {
    /// The id; 404 when it is not a UUID.
    pub fn parse(&self) -> Result<uuid::Uuid, ApiError> {
        path_id(&self.0)
    }
}

/// Parses an id from the path; anything that is not one of ours is 404.
pub fn path_id(id: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(id).map_err(|_| ApiError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Thing {
        name: String,
        size: u8,
    }

    #[test]
    fn broken_json_is_a_bad_request() {
        let err = parse_json::<Thing>(b"{\"name\": ").expect_err("refused");
        assert_eq!(err.status_and_code().0, 400);
    }

    #[test]
    fn json_of_the_wrong_shape_names_the_field() {
        let err = parse_json::<Thing>(br#"{"name": "a", "size": 300}"#).expect_err("refused");
        match err {
            ApiError::Invalid(details) => assert_eq!(details[0].field, "size"),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn a_nul_character_in_text_is_invalid() {
        let err = parse_json::<Thing>(br#"{"name": "a\u0000b", "size": 3}"#).expect_err("refused");
        assert_eq!(err.status_and_code().0, 422);
    }

    #[test]
    fn a_body_that_is_not_an_object_is_a_bad_request_with_details() {
        for body in [&b"[null, null]"[..], b" \"x\"", b"null", b"3", b"true", b""] {
            match parse_json::<Thing>(body).expect_err("refused") {
                ApiError::BadRequest { details, .. } => assert_eq!(details[0].field, "body"),
                other => panic!("expected 400, got {other:?}"),
            }
        }
    }

    #[test]
    fn an_unknown_field_is_named() {
        match parse_json::<Thing>(br#"{"name": "a", "size": 3, "colour": 1}"#) {
            Err(ApiError::Invalid(details)) => {
                assert_eq!(details[0].field, "colour");
                assert!(details[0].problem.contains("unknown field"));
            }
            other => panic!("expected 422, got {other:?}"),
        }
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Outer {
            inner: Vec<Thing>,
        }
        match parse_json::<Outer>(br#"{"inner": [{"name": "a", "size": 3, "colour": 1}]}"#) {
            Err(ApiError::Invalid(details)) => assert_eq!(details[0].field, "inner[0].colour"),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn trailing_garbage_is_a_bad_request() {
        let err = parse_json::<Thing>(br#"{"name": "a", "size": 3} x"#).expect_err("refused");
        assert_eq!(err.status_and_code().0, 400);
    }
}
