//! Errors of the core, one thiserror type per concept.
//!
//! Policy: validation never stops at the first problem; it returns a list of
//! [`FieldError`]s, each with its field path (`docs/api.md`, "Errors"),
//! relative to the routing document (e.g. `ring_groups[0].members`; the
//! admin API may prefix `routing.`), and a sentence for a person.
//! Everything else is a small enum the caller maps to a status code in one
//! place (the admin's error table).
//! The core never panics on data it is given.

use serde::{Deserialize, Serialize};

/// One invalid field: a `details` entry of `docs/api.md` ("Errors").
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error, utoipa::ToSchema,
)]
#[error("{field}: {problem}")]
pub struct FieldError {
    /// Path of the field, e.g. `ring_groups[0].members`.
    pub field: String,
    /// What is wrong, for a person.
    pub problem: String,
}

impl FieldError {
    /// A problem with a field.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The same problem with `prefix.` in front of the path (e.g. `routing`).
    pub fn prefixed(mut self, prefix: &str) -> FieldError {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

/// Why a forwarding may not be saved (`docs/api.md`: 409 for a cycle or a chain
/// too long, 422 otherwise).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardingError {
    /// The number would forward to itself (by id or by its own E.164).
    #[error("a number cannot forward to itself")]
    SelfForward,
    /// The target number is not a number of this clinic.
    #[error("number {0} is not a number of this clinic")]
    UnknownNumber(String),
    /// The target number is released.
    #[error("number {0} is released")]
    TargetReleased(String),
    /// The external target is not an E.164 number.
    #[error("{0:?} is not an E.164 number")]
    InvalidE164(String),
    /// Saving it would close a loop of links; the ids around the loop.
    #[error("forwarding would create a cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    /// The chain of links would be longer than the router follows.
    #[error("forwarding would chain more than {max} numbers")]
    ChainTooLong { max: usize },
}

/// Why a continuation string cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed continuation: {0}")]
pub struct ContinuationError(pub &'static str);

/// Why a simulate or coverage request cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    /// No number with that id in the snapshot.
    #[error("number {0} not found")]
    NumberNotFound(String),
    /// A request field is invalid.
    #[error("{0}")]
    Invalid(FieldError),
}
