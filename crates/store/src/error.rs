//! Store errors.
//!
//! Policy: a client's request must never turn into a 500 because the
//! database refused it. Unique and foreign-key violations are `Conflict`
//! (the admin API maps them to 409 with the constraint's name); a check
//! violation is `Invalid` (422); a missing row is `NotFound`. Only the
//! database being unreachable or misbehaving is `Unavailable` / `Database`.

use tokio_postgres::error::SqlState;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict with the current state ({constraint})")]
    Conflict { constraint: String },
    #[error("rejected by a database rule ({constraint})")]
    Invalid { constraint: String },
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(#[source] tokio_postgres::Error),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl StoreError {
    /// The constraint a `Conflict` or `Invalid` names, for error details.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            StoreError::Conflict { constraint } | StoreError::Invalid { constraint } => {
                Some(constraint)
            }
            _ => None,
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        let Some(db) = e.as_db_error() else {
            // No server-side error: the connection is gone or never came up.
            return if e.is_closed() || e.to_string().contains("connect") {
                StoreError::Unavailable(e.to_string())
            } else {
                StoreError::Database(e)
            };
        };
        let constraint = db.constraint().unwrap_or("unknown").to_string();
        let code = db.code();
        if *code == SqlState::UNIQUE_VIOLATION
            || *code == SqlState::FOREIGN_KEY_VIOLATION
            || *code == SqlState::EXCLUSION_VIOLATION
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
        {
            StoreError::Conflict { constraint }
        } else if *code == SqlState::CHECK_VIOLATION
            || *code == SqlState::NOT_NULL_VIOLATION
            || *code == SqlState::INVALID_TEXT_REPRESENTATION
            || *code == SqlState::STRING_DATA_RIGHT_TRUNCATION
            || *code == SqlState::NUMERIC_VALUE_OUT_OF_RANGE
        {
            StoreError::Invalid { constraint }
        } else if code.code().starts_with("08") || *code == SqlState::ADMIN_SHUTDOWN {
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
