//! switchboard-admin
#![forbid(unsafe_code)]
