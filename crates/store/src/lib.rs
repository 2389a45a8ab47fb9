//! switchboard-store: PostgreSQL, the one source of truth.
//!
//! - [`routing`]: a number's routing document, one stored value a number;
//! - [`snapshot`]: loading everything the routers need, streamed clinic by clinic;
//! - [`admin`]: the repositories of the admin API, one module per resource;
//! - [`pool`]: the connection pool and the embedded, forward-only migrations;
//! - [`embedded`]: a PostgreSQL server of our own when none is configured;
//! - [`error`]: the error policy (constraint violations are conflicts, never 500s);
//! - [`changes`]: which clinics each configuration write touched (V2's `config_changes`);
//! - [`listen`]: the routers' follower: LISTEN/NOTIFY, per-clinic reloads, full reload on reconnect, version checks;
//! - [`events`]: call records, batched, journalled while the database is away;
//! - [`testing`] (feature `test-support`): a fresh database per test.
#![forbid(unsafe_code)]

pub mod admin;
pub mod changes;
pub mod embedded;
pub mod error;
pub mod events;
pub mod listen;
pub mod pool;
pub mod routing;
pub mod snapshot;
#[cfg(feature = "test-support")]
pub mod testing;

pub use deadpool_postgres::{Object as Client, Pool};
pub use error::{StoreError, StoreResult};
pub use pool::{DbConfig, connect_pool, migrate, migrate_to};
pub use tokio_postgres::Config as PgConfig;
