//! switchboard-twilio: everything Switchboard knows about talking to Twilio.
#![forbid(unsafe_code)]

pub mod client;
pub mod signature;

pub use client::{
    ApiError, AvailableNumber, Capabilities, Credentials, ErrorKind, IncomingNumber, NumberKind,
    NumberUpdate, PRODUCTION_BASE_URL, Purchase, RetryPolicy, SearchFilters, TwilioClient,
    TwilioError,
};
pub use signature::{SigningKey, sign_form, validate_form, validate_json};
