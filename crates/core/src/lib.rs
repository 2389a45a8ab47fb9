//! switchboard-core: the routing domain as plain data and pure functions.
//!
//! No I/O, no async, no clock: the instant is always an argument. The webhook
//! and the admin API call the same functions here, so a preview can never
//! disagree with a real call.
//!
//! - [`blocked`]: a clinic's blocked callers, compiled for the hot path;
//! - [`model`]: the wire shapes of `docs/api.md` (routing documents,
//!   actions, …);
//! - [`validate`]: every 422 rule of `docs/routing.md`, all problems at once;
//! - [`snapshot`]: the immutable, precompiled view the router reads;
//! - [`resolve`]: the order of resolution of `docs/routing.md` for calls
//!   and texts, continuations after a `<Dial>`;
//! - [`twiml`]: rendering a decision;
//! - [`simulate`] and [`coverage`]: the previews of `docs/api.md`;
//! - [`status`]: the derived status of a number card;
//! - [`schema`]: the wire constraints as OpenAPI schemas.
#![forbid(unsafe_code)]

pub mod blocked;
pub mod coverage;
pub mod error;
pub mod model;
pub mod resolve;
pub mod schedule;
pub mod schema;
pub mod simulate;
pub mod snapshot;
pub mod status;
pub mod twiml;
pub mod validate;

pub use error::FieldError;
pub use resolve::{
    Decision, DialStatus, Explain, VoiceCall, continue_voice, resolve_sms, resolve_voice,
};
pub use snapshot::{Snapshot, SnapshotInput};
pub use twiml::{RenderContext, render};
