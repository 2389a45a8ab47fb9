//! The end-to-end suite: one binary, one module per feature.

mod admin_access;
mod admin_blocked;
mod admin_contract;
mod admin_hostile;
mod admin_numbers;
mod admin_openapi;
mod admin_previews;
mod admin_provisioning;
mod admin_resources;
mod console_blocked;
mod console_browser;
mod console_http;
mod console_manage;
mod console_routing;
mod console_voicemail;
mod foundation;
mod routing_overrides;
mod voicemail_email;
mod webhook_blocked;
mod webhook_endpoints;
mod webhook_fixtures;
mod webhook_incremental;
mod webhook_resilience;
mod webhook_rules;
mod webhook_signatures;
mod webhooks_outgoing;
