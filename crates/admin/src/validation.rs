//! Small field checks shared by the resources; routing documents and
//! forwarding are checked by the core.

use switchboard_core::FieldError;
use switchboard_core::validate::{E164, MAX_URL_CHARS, validate_timezone};

use crate::error::ApiError;

/// Collects every problem of a request, then answers 422 with all of them.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn new() -> Problems {
        Problems::default()
    }

    pub fn push(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.0.push(FieldError::new(field, problem));
    }

    pub fn extend(&mut self, problems: impl IntoIterator<Item = FieldError>) {
        self.0.extend(problems);
    }

    /// A name: 1 to 200 characters, not blank.
    pub fn name(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(field, "must not be empty");
        } else if value.chars().count() > 200 {
            self.push(field, "must be at most 200 characters");
        }
    }

    /// An IANA timezone name.
    pub fn timezone(&mut self, field: &str, value: &str) {
        if let Err(e) = validate_timezone(value) {
            self.push(field, e.to_string());
        }
    }

    /// An E.164 number.
    pub fn e164(&mut self, field: &str, value: &str) {
        if let Err(e) = E164::parse(value) {
            self.push(field, e.to_string());
        }
    }

    /// Free text of at most `max` characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) {
        if value.chars().count() > max {
            self.push(field, format!("must be at most {max} characters"));
        }
    }

    /// A URL of one scheme: `https` or `wss` (`scheme://…`), or `sip` (`sip:…`).
    pub fn url(&mut self, field: &str, value: &str, scheme: &str) {
        let rest = if scheme == "sip" {
            value.strip_prefix("sip:")
        } else {
            value
                .strip_prefix(scheme)
                .and_then(|rest| rest.strip_prefix("://"))
        };
        let ok = rest.is_some_and(|rest| {
            !rest.is_empty() && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
        }) && value.chars().count() <= MAX_URL_CHARS;
        if !ok {
            let example = if scheme == "sip" { "sip:" } else { scheme };
            self.push(field, format!("must be a {example} URL"));
        }
    }

    /// Ok when nothing was found, else 422 with every problem.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.0))
        }
    }
}

/// `Option<Option<T>>` for PATCH: absent = keep, `null` = clear.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize;
    Option::<T>::deserialize(d).map(Some)
}

/// The schemas of fields whose limits are checked here, for `schema_with`.
pub mod schemas {
    use switchboard_core::schema::{nullable, text};
    use utoipa::openapi::{RefOr, schema::Schema};

    /// Not blank, at most 1 600 characters, or `null`.
    pub fn sms_auto_reply() -> RefOr<Schema> {
        nullable(text(1, 1600))
    }

    /// At most 100 characters, or `null`.
    pub fn voice() -> RefOr<Schema> {
        nullable(text(0, 100).examples(["Polly.Joanna"]))
    }

    /// At most 35 characters, or `null`.
    pub fn language() -> RefOr<Schema> {
        nullable(text(0, 35).examples(["en-US"]))
    }

    /// At most 64 characters, or `null`.
    pub fn friendly_name() -> RefOr<Schema> {
        nullable(text(0, 64).examples(["Front desk line"]))
    }

    /// At most 1 000 characters, or `null`.
    pub fn address() -> RefOr<Schema> {
        nullable(text(0, 1000).examples(["1 Main St, San Francisco"]))
    }
}
