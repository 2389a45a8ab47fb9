//! Store errors, as types: the admin maps them in its one error table and
//! never reads their text.
//!
//! Policy: a client's request must never turn into a 500 because the
//! database refused it. A rule of the current state (the repositories' own,
//! or a constraint that stands for one) is a [`Refusal`] naming the rule;
//! another unique or foreign key is a `Conflict` naming its constraint; a
//! check of the schema is `Rejected`; a value PostgreSQL cannot hold is
//! `Unstorable`; field problems found by the store are `Invalid` with their
//! paths; a missing row is `NotFound`. Data in the database that does not
//! parse is `Corrupt`: never the client's fault. Only the database being
//! unreachable or misbehaving is `Unavailable` / `Database`.

use switchboard_core::FieldError;
use tokio_postgres::error::SqlState;

/// A change the current state refuses, by rule (`docs/routing.md`, "What
/// the admin API refuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Refusal {
    /// The number changed since the version the client read (`If-Match`).
    #[error("the number changed since it was read")]
    StaleVersion,
    #[error("the number is released")]
    NumberReleased,
    #[error("the number is still being provisioned")]
    NumberPending,
    /// Another live number has this E.164 (`numbers_e164_live`).
    #[error("another live number has this E.164")]
    NumberTaken,
    /// Another writer changed the primary number at the same moment
    /// (`numbers_one_primary`).
    #[error("another writer changed the primary number")]
    PrimaryConflict,
    /// A live number is at the location.
    #[error("a live number is at this location")]
    LocationInUse,
    /// A routing names the assistant, or it is the texting assistant
    /// (`routing_assistants_assistant`).
    #[error("the assistant is in use")]
    AssistantInUse,
    /// Release: an assistant is bound to the number or named by its actions.
    #[error("an assistant is bound to the number")]
    ReleaseAssistantBound,
    /// Release: another live number links to this one (`numbers_link_live`).
    #[error("another live number links to this number")]
    ReleaseLinkedFrom,
    /// Release: the number is primary and the clinic has other live numbers.
    #[error("the number is primary and the clinic has other numbers")]
    ReleasePrimary,
    /// Someone has a sign-in with this email (`people_email`).
    #[error("someone has a sign-in with this email")]
    EmailTaken,
    /// The clinic already blocks this number, prefix or anonymous callers
    /// (`blocked_callers_once`).
    #[error("this caller is already blocked")]
    BlockedCallerExists,
}

impl Refusal {
    /// The refusal a database constraint stands for.
    fn of_constraint(name: &str) -> Option<Refusal> {
        Some(match name {
            "numbers_e164_live" => Refusal::NumberTaken,
            "numbers_one_primary" => Refusal::PrimaryConflict,
            "routing_assistants_assistant" => Refusal::AssistantInUse,
            "numbers_link_live" => Refusal::ReleaseLinkedFrom,
            "people_email" => Refusal::EmailTaken,
            "blocked_callers_once" => Refusal::BlockedCallerExists,
            _ => return None,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("refused: {0}")]
    Refused(Refusal),
    /// A unique, foreign or exclusion key that stands for no [`Refusal`]:
    /// still the current state's refusal.
    #[error("conflict with the current state ({constraint})")]
    Conflict { constraint: String },
    /// Values the store refuses, each with the path of its field.
    #[error("invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// A check (or not-null) constraint of the schema refused a value.
    #[error("rejected by a database rule ({constraint})")]
    Rejected { constraint: String },
    /// A value PostgreSQL cannot store (SQL class 22: a NUL in text, a
    /// number out of range, text that is not of the column's type).
    #[error("a value cannot be stored: {0}")]
    Unstorable(#[source] tokio_postgres::Error),
    /// Data in the database that does not parse: `row` names it.
    #[error("stored {row} does not parse: {problem}")]
    Corrupt { row: String, problem: String },
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[source] tokio_postgres::Error),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl StoreError {
    /// One field problem.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> StoreError {
        StoreError::Invalid(vec![FieldError::new(field, problem)])
    }

    /// Stored data that does not parse, with the row it is in.
    pub fn corrupt(row: impl Into<String>, problem: impl ToString) -> StoreError {
        StoreError::Corrupt {
            row: row.into(),
            problem: problem.to_string(),
        }
    }
}

impl From<Refusal> for StoreError {
    fn from(refusal: Refusal) -> Self {
        StoreError::Refused(refusal)
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        let Some(db) = e.as_db_error() else {
            // No server-side error: the connection is gone or never came up
            // (an I/O error underneath), or the client misbehaved.
            let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
            return if e.is_closed() || io {
                StoreError::Unavailable(e.to_string())
            } else {
                StoreError::Database(e)
            };
        };
        let code = db.code();
        let constraint = || db.constraint().unwrap_or("unknown").to_owned();
        if *code == SqlState::UNIQUE_VIOLATION
            || *code == SqlState::FOREIGN_KEY_VIOLATION
            || *code == SqlState::EXCLUSION_VIOLATION
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
        {
            match db.constraint().and_then(Refusal::of_constraint) {
                Some(refusal) => StoreError::Refused(refusal),
                None => StoreError::Conflict {
                    constraint: constraint(),
                },
            }
        } else if *code == SqlState::CHECK_VIOLATION || *code == SqlState::NOT_NULL_VIOLATION {
            StoreError::Rejected {
                constraint: constraint(),
            }
        } else if code.code().starts_with("22") {
            StoreError::Unstorable(e)
        } else if code.code().starts_with("08")
            || *code == SqlState::ADMIN_SHUTDOWN
            || *code == SqlState::CANNOT_CONNECT_NOW
        {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Database(e)
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
