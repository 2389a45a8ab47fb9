//! switchboard-twilio: everything Switchboard knows about talking to Twilio.
#![forbid(unsafe_code)]

pub mod signature;

pub use signature::{SigningKey, sign_form, validate_form, validate_json};
