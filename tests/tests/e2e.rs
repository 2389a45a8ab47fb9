//! The end-to-end suite: one binary, one module per feature.

mod foundation;
mod webhook_rules;
mod webhook_endpoints;
mod webhook_signatures;
mod webhook_resilience;
