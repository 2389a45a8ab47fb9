//! The wire constraints as OpenAPI schemas, for the admin API's generated
//! document (`docs/api.md`): each is built from the same constants the
//! validators use, so the document says exactly what the server enforces.
//!
//! Patterns are written in the subset that ECMA-262 (JSON Schema), Python's
//! `re` (what generated clients and fuzzers read) and Rust's `regex` agree
//! on: no `\s`, `\d` or `\p{…}`, whose meanings differ between them.

use std::borrow::Cow;

use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, OneOfBuilder, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::validate::{E164_DIGITS, MAX_SPOKEN_CHARS, MAX_URL_CHARS};

/// What Rust's `char::is_whitespace` (and so `str::trim`) calls whitespace,
/// as inclusive ranges.
pub const WHITESPACE: &[(char, char)] = &[
    ('\t', '\r'),
    (' ', ' '),
    ('\u{85}', '\u{85}'),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// What `char::is_control` calls a control character.
pub const CONTROL: &[(char, char)] = &[('\0', '\u{1f}'), ('\u{7f}', '\u{9f}')];

fn escape(c: char) -> String {
    format!("\\u{:04x}", u32::from(c))
}

/// The body of a regex character class holding `ranges`.
pub fn class(ranges: &[(char, char)]) -> String {
    ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                escape(a)
            } else {
                format!("{}-{}", escape(a), escape(b))
            }
        })
        .collect()
}

/// Somewhere a character that is not whitespace: text `trim` leaves non-empty.
pub fn not_blank_pattern() -> String {
    format!("[^{}]", class(WHITESPACE))
}

/// Only characters that are neither whitespace nor control, at least one.
pub fn no_space_pattern() -> String {
    let mut ranges = WHITESPACE.to_vec();
    ranges.extend_from_slice(CONTROL);
    format!("^[^{}]+$", class(&ranges))
}

/// `^\+[1-9][0-9]{6,14}$`: see [`crate::validate::is_e164`].
pub fn e164_pattern() -> String {
    format!(
        "^\\+[1-9][0-9]{{{},{}}}$",
        E164_DIGITS.start() - 1,
        E164_DIGITS.end() - 1
    )
}

/// A strict `HH:MM` from `00:00` to `24:00` ([`crate::model::LocalTime`]).
pub const LOCAL_TIME_PATTERN: &str = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$";
/// A strict `HH:MM` from `00:00` to `23:59`: where a window or closure starts.
pub const START_TIME_PATTERN: &str = "^([01][0-9]|2[0-3]):[0-5][0-9]$";
/// A `YYYY-MM-DD` date (a real one: see `format`).
pub const DATE_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
/// A one-off closure bound: a date, or a date and `THH:MM` (not 24:00).
pub const BOUND_PATTERN: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T([01][0-9]|2[0-3]):[0-5][0-9])?$";

/// A string schema.
pub fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// Text that is not blank, at most `max` characters.
pub fn text(min: usize, max: usize) -> ObjectBuilder {
    let b = string().max_length(Some(max));
    if min > 0 {
        b.min_length(Some(min)).pattern(Some(not_blank_pattern()))
    } else {
        b
    }
}

/// A URL of one scheme (`https://`, `wss://` or `sip:`), at most
/// [`MAX_URL_CHARS`] characters, without whitespace or control characters.
pub fn url(scheme: &str) -> ObjectBuilder {
    let mut ranges = WHITESPACE.to_vec();
    ranges.extend_from_slice(CONTROL);
    string()
        .pattern(Some(format!("^{scheme}[^{}]+$", class(&ranges))))
        .max_length(Some(MAX_URL_CHARS))
}

/// `schema`, or `null`.
pub fn nullable(schema: impl Into<RefOr<Schema>>) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(Object::with_type(Type::Null))
        .item(schema)
        .into()
}

macro_rules! named_schema {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $body:expr) => {
        $(#[$doc])*
        pub struct $ty;

        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $body.into()
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

named_schema!(
    /// An E.164 phone number.
    E164,
    "E164",
    string()
        .pattern(Some(e164_pattern()))
        .description(Some(
            "An E.164 phone number: +, a country code, 7 to 15 digits in all"
        ))
        .examples(["+14155550123"])
);

named_schema!(
    /// An `https://` URL.
    HttpsUrl,
    "HttpsUrl",
    url("https://").examples(["https://ai.example.com/sms"])
);

named_schema!(
    /// An IANA timezone name, spelt exactly.
    Timezone,
    "Timezone",
    string()
        .enum_values(Some(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())))
        .description(Some("An IANA timezone name, spelt exactly"))
        .examples(["America/Los_Angeles"])
);

named_schema!(
    /// A name: 1 to 200 characters, not blank.
    Name,
    "Name",
    text(1, 200)
        .description(Some("1 to 200 characters, not blank"))
        .examples(["Front desk"])
);

named_schema!(
    /// Spoken text: 1 to 4 000 characters, not blank.
    SpokenText,
    "SpokenText",
    text(1, MAX_SPOKEN_CHARS)
        .description(Some("Said to the caller: 1 to 4000 characters, not blank"))
        .examples(["We are closed. Please leave a message."])
);

named_schema!(
    /// A wall-clock time `HH:MM`, `24:00` being the end of the day.
    LocalTime,
    "LocalTime",
    string()
        .pattern(Some(LOCAL_TIME_PATTERN))
        .description(Some("HH:MM from 00:00 to 24:00 (the end of the day)"))
        .examples(["18:00"])
);

named_schema!(
    /// A wall-clock time `HH:MM` where something starts (not `24:00`).
    StartTime,
    "StartTime",
    string()
        .pattern(Some(START_TIME_PATTERN))
        .description(Some("HH:MM from 00:00 to 23:59"))
        .examples(["08:00"])
);

named_schema!(
    /// A local date `YYYY-MM-DD`.
    LocalDate,
    "LocalDate",
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(DATE_PATTERN))
        .examples(["2026-11-26"])
);

named_schema!(
    /// A one-off closure's bound: a date, or a date and time of day.
    ClosureBound,
    "ClosureBound",
    string()
        .pattern(Some(BOUND_PATTERN))
        .description(Some(
            "A date YYYY-MM-DD (as an end: through that day) or a date-time YYYY-MM-DDTHH:MM (as an end: exclusive)"
        ))
        .examples(["2026-12-24T12:00"])
);

named_schema!(
    /// A ring-group member: an E.164 number, a `sip:` URI or `client:NAME`.
    MemberTarget,
    "MemberTarget",
    string()
        .pattern(Some(format!(
            "^(\\+[1-9][0-9]{{{},{}}}|sip:[^{}]{{1,250}}|client:[A-Za-z0-9_.\\-]{{1,256}})$",
            E164_DIGITS.start() - 1,
            E164_DIGITS.end() - 1,
            class(&[WHITESPACE, CONTROL].concat())
        )))
        .description(Some(
            "An E.164 number, a sip: URI (under 255 characters) or client:NAME (letters, digits, _ . -)"
        ))
        .examples(["+14155550101"])
);

named_schema!(
    /// A blocked caller's number or prefix (`+`, 1 to 15 digits; a prefix has
    /// at most 14, a number at least 7).
    BlockedCallerValue,
    "BlockedCallerValue",
    string()
        .pattern(Some(format!(
            "^\\+[1-9][0-9]{{0,{}}}$",
            E164_DIGITS.end() - 1
        )))
        .description(Some(
            "For kind number an E.164 number (+14155550123); for kind prefix + and 1 to 14 digits (+1900); null for kind anonymous"
        ))
        .examples(["+1900"])
);

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(ranges: &[(char, char)], c: char) -> bool {
        ranges.iter().any(|&(a, b)| (a..=b).contains(&c))
    }

    #[test]
    fn the_classes_are_rusts_whitespace_and_control() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(contains(WHITESPACE, c), c.is_whitespace(), "{c:?}");
            assert_eq!(contains(CONTROL, c), c.is_control(), "{c:?}");
        }
    }

    #[test]
    fn every_documented_timezone_is_accepted() {
        for tz in chrono_tz::TZ_VARIANTS {
            assert!(crate::validate::validate_timezone(tz.name()).is_ok());
        }
    }

    #[test]
    fn the_e164_pattern_is_the_rule() {
        assert_eq!(e164_pattern(), "^\\+[1-9][0-9]{6,14}$");
    }
}
