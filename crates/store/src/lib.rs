//! switchboard-store: PostgreSQL, the one source of truth.
//!
//! - [`pool`]: the connection pool and the embedded, forward-only migrations;
//! - [`embedded`]: a PostgreSQL server of our own when none is configured;
//! - [`error`]: the error policy (constraint violations are conflicts, never 500s);
//! - [`testing`] (feature `test-support`): a fresh database per test.
#![forbid(unsafe_code)]

pub mod config;
pub mod embedded;
pub mod error;
pub mod pool;
#[cfg(feature = "test-support")]
pub mod testing;

pub use deadpool_postgres::Pool;
pub use error::{StoreError, StoreResult};
pub use pool::{DbConfig, connect_pool, migrate};
pub use tokio_postgres::Config as PgConfig;
