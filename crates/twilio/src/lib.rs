//! switchboard-twilio: everything Switchboard knows about talking to Twilio.
//!
//! - [`signature`]: `X-Twilio-Signature`, computed and checked on every
//!   webhook, pure and allocation-light because it sits on the hot path.
//! - [`client`]: the REST calls the admin API makes to provision numbers
//!   (search, buy, look up, update, release), with bounded retries for safe
//!   requests and no blind retry of a purchase.
//! - [`fake`]: a fake Twilio on real HTTP, for tests and the local default,
//!   with fault injection.
#![forbid(unsafe_code)]

pub mod client;
pub mod fake;
pub mod signature;

pub use client::{
    ApiError, AvailableNumber, Capabilities, Credentials, ErrorKind, IncomingNumber, NumberKind,
    NumberUpdate, PRODUCTION_BASE_URL, Purchase, RetryPolicy, SearchFilters, TwilioClient,
    TwilioError,
};
pub use fake::{BoughtNumber, FakeTwilio, FakeTwilioHandle, Fault, LoggedRequest, Route};
pub use signature::{SigningKey, sign_form, validate_form, validate_json};
