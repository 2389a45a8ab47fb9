//! The load benchmark's Rust pieces (the script is `bench/run`).
//!
//! - [`synthetic`]: the synthetic clinic set (10 000 numbers by default) the
//!   seeder loads next to the demo clinic;
//! - [`http1`]: just enough HTTP/1.1 for the load generator: request bytes
//!   and a response head parser;
//! - [`answers`]: comparing TwiML answers across instants;
//! - [`stats`]: latency percentiles;
//! - [`tool`]: the runtime and exit status of the command-line tools.
//!
//! Binaries: `switchboard-bench-baseline` (the static-TwiML floor),
//! `switchboard-bench-seed` (loads the synthetic set),
//! `switchboard-bench-load` (probe and open-loop constant-rate load),
//! `switchboard-bench-admin` (concurrent routing saves, `bench/admin-writes`).
#![forbid(unsafe_code)]

pub mod answers;
pub mod http1;
pub mod stats;
pub mod synthetic;
pub mod tool;
