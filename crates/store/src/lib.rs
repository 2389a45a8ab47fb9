//! switchboard-store
#![forbid(unsafe_code)]
