//! The switchboard server library.
#![forbid(unsafe_code)]
