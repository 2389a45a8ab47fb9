//! switchboard-twilio
#![forbid(unsafe_code)]
