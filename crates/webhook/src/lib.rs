//! switchboard-webhook
#![forbid(unsafe_code)]
