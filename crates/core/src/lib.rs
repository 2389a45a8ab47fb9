//! switchboard-core
#![forbid(unsafe_code)]
