//! A small Twilio REST client for phone numbers: search, buy, look up,
//! update, release.
//!
//! The admin API provisions numbers through it, against Twilio in production
//! and against [`crate::fake`] in tests and local runs (the base URL is
//! configurable for that reason).
//!
//! # Error and retry policy
//!
//! - Every failure is a [`TwilioError`]; [`TwilioError::kind`] sorts it into
//!   the few cases a caller acts on differently ([`ErrorKind`]), so the admin
//!   API can map them to HTTP statuses in its one table (suggested: number
//!   not available → 409, invalid request → 422, not found → 404, rate
//!   limited → 503 with `Retry-After`, Twilio down or unreachable → 502/503,
//!   our own credentials refused → 502, since it is not the client's fault).
//! - Safe requests (GET, DELETE, and the update POST, which sets the same
//!   fields again) are retried a few times with exponential backoff and full
//!   jitter on 429, 5xx, timeouts and transport failures ([`RetryPolicy`]).
//! - A purchase is never retried blindly: Twilio may have bought the number
//!   even though the answer was a 5xx or never arrived. After such an
//!   ambiguous failure the client looks the number up with
//!   [`TwilioClient::find_incoming`] and returns it if the account owns it.
//!   If that lookup fails too, the error is
//!   [`TwilioError::PurchaseUnconfirmed`]: keep the number pending and
//!   reconcile later. A 4xx (including 429) means Twilio refused the
//!   purchase, and a connect error means the request never left: both are
//!   returned as they are.

use std::time::Duration;

use rand::Rng as _;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

/// Twilio's production REST API.
pub const PRODUCTION_BASE_URL: &str = "https://api.twilio.com";

/// The API version every phone-number resource lives under.
const API_VERSION: &str = "2010-04-01";

/// How the client authenticates (HTTP Basic auth).
#[derive(Clone)]
pub enum Credentials {
    /// The account SID (given to [`TwilioClient::new`]) with its auth token.
    AuthToken(String),
    /// An API key (`SK…`) and its secret, acting on the account.
    ApiKey { sid: String, secret: String },
}

impl Credentials {
    pub fn auth_token(token: impl Into<String>) -> Self {
        Self::AuthToken(token.into())
    }

    pub fn api_key(sid: impl Into<String>, secret: impl Into<String>) -> Self {
        Self::ApiKey {
            sid: sid.into(),
            secret: secret.into(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets never reach a log line.
        match self {
            Self::AuthToken(_) => f.write_str("AuthToken(<redacted>)"),
            Self::ApiKey { sid, .. } => write!(f, "ApiKey {{ sid: {sid:?}, secret: <redacted> }}"),
        }
    }
}

/// Bounded retries with exponential backoff and full jitter, for safe
/// requests only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// The backoff ceiling before the first retry; it doubles each retry.
    pub base_delay: Duration,
    /// No single wait is longer than this, whatever `Retry-After` says.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): a random time up to
    /// the exponential ceiling (full jitter, so clients hitting the same
    /// limit spread out), or Twilio's `Retry-After` if it asked for longer,
    /// capped at `max_delay` either way.
    pub fn delay_before_retry(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exponent = retry.saturating_sub(1).min(16);
        let ceiling = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        let jittered = if ceiling.is_zero() {
            ceiling
        } else {
            rand::rng().random_range(Duration::ZERO..=ceiling)
        };
        jittered
            .max(retry_after.unwrap_or_default())
            .min(self.max_delay)
    }
}

/// The kind of number to search for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberKind {
    Local,
    Mobile,
    TollFree,
}

impl NumberKind {
    /// The resource name under `AvailablePhoneNumbers/{Country}/`.
    pub fn resource(self) -> &'static str {
        match self {
            Self::Local => "Local",
            Self::Mobile => "Mobile",
            Self::TollFree => "TollFree",
        }
    }
}

/// Filters of an available-number search; `None` leaves a filter out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilters {
    pub area_code: Option<String>,
    /// Digits, letters (keypad) and `*` for any one digit, as Twilio takes it.
    pub contains: Option<String>,
    pub in_locality: Option<String>,
    pub in_region: Option<String>,
    pub in_postal_code: Option<String>,
    pub sms_enabled: Option<bool>,
    pub voice_enabled: Option<bool>,
    pub page_size: Option<u32>,
}

impl SearchFilters {
    fn query(&self) -> Vec<(&'static str, String)> {
        let texts = [
            ("AreaCode", &self.area_code),
            ("Contains", &self.contains),
            ("InLocality", &self.in_locality),
            ("InRegion", &self.in_region),
            ("InPostalCode", &self.in_postal_code),
        ];
        let flags = [
            ("SmsEnabled", self.sms_enabled),
            ("VoiceEnabled", self.voice_enabled),
        ];
        texts
            .into_iter()
            .filter_map(|(name, value)| value.as_ref().map(|v| (name, v.clone())))
            .chain(
                flags
                    .into_iter()
                    .filter_map(|(name, value)| value.map(|v| (name, v.to_string()))),
            )
            .chain(self.page_size.map(|size| ("PageSize", size.to_string())))
            .collect()
    }
}

/// What a number can do. Twilio spells these `SMS`/`MMS` for available
/// numbers and `sms`/`mms` for incoming ones; both are accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Capabilities {
    #[serde(default)]
    pub voice: bool,
    #[serde(default, alias = "SMS")]
    pub sms: bool,
    #[serde(default, alias = "MMS")]
    pub mms: bool,
    #[serde(default)]
    pub fax: bool,
}

/// A number Twilio offers for sale.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AvailableNumber {
    pub phone_number: String,
    pub friendly_name: String,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub locality: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub region: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub postal_code: Option<String>,
    pub iso_country: String,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub lata: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub rate_center: Option<String>,
    #[serde(default)]
    pub capabilities: Capabilities,
}

/// A number the account owns (an IncomingPhoneNumber).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct IncomingNumber {
    /// `PN` and 32 hex digits.
    pub sid: String,
    pub account_sid: String,
    pub phone_number: String,
    pub friendly_name: String,
    /// e.g. `in-use`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub voice_url: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub voice_method: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub voice_fallback_url: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub sms_url: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub sms_method: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub status_callback: Option<String>,
    #[serde(default)]
    pub capabilities: Capabilities,
    /// RFC 2822, as Twilio writes it.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub date_created: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub date_updated: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub uri: Option<String>,
}

/// A purchase: the number and where its webhooks point. Unset URLs are left
/// out (Twilio keeps its defaults); every method is POST.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purchase {
    pub phone_number: String,
    pub friendly_name: Option<String>,
    pub voice_url: Option<String>,
    pub voice_fallback_url: Option<String>,
    pub sms_url: Option<String>,
    pub status_callback: Option<String>,
}

impl Purchase {
    fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![("PhoneNumber", self.phone_number.clone())];
        form.extend(
            NumberUpdate {
                friendly_name: self.friendly_name.clone(),
                voice_url: self.voice_url.clone(),
                voice_fallback_url: self.voice_fallback_url.clone(),
                sms_url: self.sms_url.clone(),
                status_callback: self.status_callback.clone(),
            }
            .form(),
        );
        form
    }
}

/// Fields to change on an owned number; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberUpdate {
    pub friendly_name: Option<String>,
    pub voice_url: Option<String>,
    pub voice_fallback_url: Option<String>,
    pub sms_url: Option<String>,
    pub status_callback: Option<String>,
}

impl NumberUpdate {
    fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = Vec::new();
        let mut set = |name: &'static str, value: &Option<String>, method: Option<&'static str>| {
            if let Some(value) = value {
                form.push((name, value.clone()));
                if let Some(method) = method {
                    form.push((method, "POST".to_owned()));
                }
            }
        };
        set("FriendlyName", &self.friendly_name, None);
        set("VoiceUrl", &self.voice_url, Some("VoiceMethod"));
        set(
            "VoiceFallbackUrl",
            &self.voice_fallback_url,
            Some("VoiceFallbackMethod"),
        );
        set("SmsUrl", &self.sms_url, Some("SmsMethod"));
        set(
            "StatusCallback",
            &self.status_callback,
            Some("StatusCallbackMethod"),
        );
        form
    }
}

/// Twilio's JSON error body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// Twilio's error code (21422, 20003, …), absent on some gateway errors.
    #[serde(default)]
    pub code: Option<u32>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub more_info: Option<String>,
}

/// Twilio error codes the client gives a meaning to.
pub mod codes {
    /// Authenticate: credentials refused.
    pub const AUTHENTICATE: u32 = 20003;
    /// The requested resource was not found.
    pub const NOT_FOUND: u32 = 20404;
    /// Too many requests.
    pub const TOO_MANY_REQUESTS: u32 = 20429;
    /// The phone number is not available (taken, or never offered).
    pub const NUMBER_NOT_AVAILABLE: u32 = 21422;
    /// No phone numbers found (in the area code asked for).
    pub const NO_NUMBER_FOUND: u32 = 21452;
}

/// Everything that can go wrong talking to Twilio.
#[derive(Debug, thiserror::Error)]
pub enum TwilioError {
    #[error("Twilio answered {} (code {}): {}", .0.status, .0.code.map_or_else(|| "none".to_owned(), |c| c.to_string()), .0.message)]
    Api(ApiError),
    #[error("Twilio did not answer within {0:?}")]
    Timeout(Duration),
    #[error("could not connect to Twilio")]
    Connect(#[source] reqwest::Error),
    #[error("the connection to Twilio failed")]
    Transport(#[source] reqwest::Error),
    #[error("unexpected response from Twilio (HTTP {status}): {reason}")]
    UnexpectedResponse { status: u16, reason: String },
    #[error(
        "the purchase of {phone_number} may have happened at Twilio ({cause}) and looking it up failed too ({lookup})"
    )]
    PurchaseUnconfirmed {
        phone_number: String,
        cause: Box<TwilioError>,
        lookup: Box<TwilioError>,
    },
    #[error("invalid {field}: {problem}")]
    InvalidInput {
        field: &'static str,
        problem: String,
    },
}

/// What a caller does differently about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The number is taken or not offered (21422, 21452).
    NumberNotAvailable,
    /// The number (or other resource) does not exist at Twilio.
    NotFound,
    /// Twilio refused the request as invalid (other 4xx), or the client
    /// refused to send it.
    InvalidRequest,
    /// Twilio refused our credentials (401/403, 20003): a configuration
    /// problem on our side.
    Unauthorized,
    /// Twilio asked us to slow down (429).
    RateLimited,
    /// Twilio failed (5xx), timed out or could not be reached.
    Unavailable,
    /// A purchase whose outcome is not known; keep the number pending.
    OutcomeUnknown,
    /// Twilio answered something this client cannot read.
    UnexpectedResponse,
}

impl TwilioError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Api(api) => match (api.status, api.code) {
                (_, Some(codes::NUMBER_NOT_AVAILABLE | codes::NO_NUMBER_FOUND)) => {
                    ErrorKind::NumberNotAvailable
                }
                (401 | 403, _) | (_, Some(codes::AUTHENTICATE)) => ErrorKind::Unauthorized,
                (429, _) | (_, Some(codes::TOO_MANY_REQUESTS)) => ErrorKind::RateLimited,
                (404, _) => ErrorKind::NotFound,
                (500.., _) => ErrorKind::Unavailable,
                (400..=499, _) => ErrorKind::InvalidRequest,
                _ => ErrorKind::UnexpectedResponse,
            },
            Self::Timeout(_) | Self::Connect(_) | Self::Transport(_) => ErrorKind::Unavailable,
            Self::UnexpectedResponse { .. } => ErrorKind::UnexpectedResponse,
            Self::PurchaseUnconfirmed { .. } => ErrorKind::OutcomeUnknown,
            Self::InvalidInput { .. } => ErrorKind::InvalidRequest,
        }
    }

    /// Whether the same safe request may succeed if sent again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(api) => api.status == 429 || api.status >= 500,
            Self::Timeout(_) | Self::Connect(_) | Self::Transport(_) => true,
            Self::UnexpectedResponse { .. }
            | Self::PurchaseUnconfirmed { .. }
            | Self::InvalidInput { .. } => false,
        }
    }

    /// Twilio's error code, when Twilio gave one.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::Api(api) => api.code,
            Self::PurchaseUnconfirmed { cause, .. } => cause.code(),
            _ => None,
        }
    }
}

/// The REST client. Cheap to clone (the connection pool is shared).
#[derive(Clone, Debug)]
pub struct TwilioClient {
    http: reqwest::Client,
    base_url: String,
    account_sid: String,
    credentials: Credentials,
    timeout: Duration,
    retry: RetryPolicy,
}

/// A response read in full: what the retry loop and decoders look at.
struct RawResponse {
    status: u16,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

impl RawResponse {
    fn decode<T: DeserializeOwned>(&self) -> Result<T, TwilioError> {
        serde_json::from_slice(&self.body).map_err(|err| TwilioError::UnexpectedResponse {
            status: self.status,
            reason: err.to_string(),
        })
    }

    fn into_error(self) -> TwilioError {
        match serde_json::from_slice::<ApiError>(&self.body) {
            Ok(api) => TwilioError::Api(ApiError {
                status: self.status,
                ..api
            }),
            // A proxy or load balancer in front of Twilio answers HTML or
            // nothing; keep the status, which is what callers act on.
            Err(_) => TwilioError::Api(ApiError {
                status: self.status,
                code: None,
                message: String::from_utf8_lossy(&self.body[..self.body.len().min(200)])
                    .into_owned(),
                more_info: None,
            }),
        }
    }

    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

#[derive(Deserialize)]
struct AvailableNumbersPage {
    available_phone_numbers: Vec<AvailableNumber>,
}

#[derive(Deserialize)]
struct IncomingNumbersPage {
    incoming_phone_numbers: Vec<IncomingNumber>,
}

impl TwilioClient {
    /// A client for `account_sid` at `base_url` ([`PRODUCTION_BASE_URL`] in
    /// production); `timeout` bounds each attempt from connect to last byte.
    pub fn new(
        base_url: &str,
        account_sid: &str,
        credentials: Credentials,
        timeout: Duration,
    ) -> Result<Self, TwilioError> {
        let base_url = base_url.trim_end_matches('/');
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(TwilioError::InvalidInput {
                field: "base_url",
                problem: format!("{base_url:?} is not an http(s) URL"),
            });
        }
        require_path_safe("account_sid", account_sid)?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("switchboard-twilio/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(TwilioError::Transport)?;
        Ok(Self {
            http,
            base_url: base_url.to_owned(),
            account_sid: account_sid.to_owned(),
            credentials,
            timeout,
            retry: RetryPolicy::default(),
        })
    }

    /// Replaces the default retry policy (tests shorten the waits).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Numbers for sale in `country` (ISO 3166 alpha-2) of `kind`.
    pub async fn search_available(
        &self,
        country: &str,
        kind: NumberKind,
        filters: &SearchFilters,
    ) -> Result<Vec<AvailableNumber>, TwilioError> {
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(TwilioError::InvalidInput {
                field: "country",
                problem: format!("{country:?} is not a two-letter country code"),
            });
        }
        let path = format!(
            "AvailablePhoneNumbers/{}/{}.json",
            country.to_ascii_uppercase(),
            kind.resource()
        );
        let raw = self
            .send_safe(Method::GET, &path, &filters.query(), &[])
            .await?;
        if !raw.is_success() {
            return Err(raw.into_error());
        }
        Ok(raw
            .decode::<AvailableNumbersPage>()?
            .available_phone_numbers)
    }

    /// Buys a number and points its webhooks; see the module doc for what
    /// happens when the answer is lost.
    pub async fn buy(&self, purchase: &Purchase) -> Result<IncomingNumber, TwilioError> {
        let sent = self
            .send_once(
                Method::POST,
                "IncomingPhoneNumbers.json",
                &[],
                &purchase.form(),
            )
            .await;
        let ambiguous = match sent {
            Ok(raw) if raw.is_success() => match raw.decode::<IncomingNumber>() {
                Ok(number) => return Ok(number),
                Err(unreadable) => unreadable,
            },
            Ok(raw) if raw.status >= 500 => raw.into_error(),
            // Twilio refused it (4xx, 429 included): nothing was bought.
            Ok(raw) => return Err(raw.into_error()),
            // The request never left: nothing can have been bought.
            Err(err @ TwilioError::Connect(_)) => return Err(err),
            Err(err) => err,
        };
        tracing::warn!(
            phone_number = %purchase.phone_number,
            error = %ambiguous,
            "purchase outcome unknown; looking the number up instead of retrying"
        );
        match self.find_incoming(&purchase.phone_number).await {
            Ok(Some(number)) => {
                tracing::info!(sid = %number.sid, "the purchase had gone through");
                Ok(number)
            }
            Ok(None) => Err(ambiguous),
            Err(lookup) => Err(TwilioError::PurchaseUnconfirmed {
                phone_number: purchase.phone_number.clone(),
                cause: Box::new(ambiguous),
                lookup: Box::new(lookup),
            }),
        }
    }

    /// The account's number `phone_number` (E.164), if it owns it.
    pub async fn find_incoming(
        &self,
        phone_number: &str,
    ) -> Result<Option<IncomingNumber>, TwilioError> {
        let query = [("PhoneNumber", phone_number.to_owned())];
        let raw = self
            .send_safe(Method::GET, "IncomingPhoneNumbers.json", &query, &[])
            .await?;
        if !raw.is_success() {
            return Err(raw.into_error());
        }
        // Twilio's PhoneNumber filter is a pattern; keep the exact match.
        Ok(raw
            .decode::<IncomingNumbersPage>()?
            .incoming_phone_numbers
            .into_iter()
            .find(|number| number.phone_number == phone_number))
    }

    /// An owned number by its sid.
    pub async fn fetch(&self, sid: &str) -> Result<IncomingNumber, TwilioError> {
        require_path_safe("sid", sid)?;
        let path = format!("IncomingPhoneNumbers/{sid}.json");
        let raw = self.send_safe(Method::GET, &path, &[], &[]).await?;
        if !raw.is_success() {
            return Err(raw.into_error());
        }
        raw.decode()
    }

    /// Changes the given fields of an owned number.
    pub async fn update(
        &self,
        sid: &str,
        update: &NumberUpdate,
    ) -> Result<IncomingNumber, TwilioError> {
        require_path_safe("sid", sid)?;
        let path = format!("IncomingPhoneNumbers/{sid}.json");
        // Setting the same fields twice is harmless, so this POST retries.
        let raw = self
            .send_safe(Method::POST, &path, &[], &update.form())
            .await?;
        if !raw.is_success() {
            return Err(raw.into_error());
        }
        raw.decode()
    }

    /// Releases an owned number. A number Twilio does not know (404) is
    /// already gone, which is what the caller wanted.
    pub async fn release(&self, sid: &str) -> Result<(), TwilioError> {
        require_path_safe("sid", sid)?;
        let path = format!("IncomingPhoneNumbers/{sid}.json");
        let raw = self.send_safe(Method::DELETE, &path, &[], &[]).await?;
        match raw.status {
            200..=299 | 404 => Ok(()),
            _ => Err(raw.into_error()),
        }
    }

    /// A call's recording as a WAV file: `recording_url` is the `RecordingUrl`
    /// Twilio sent, which must be one of this API's recordings (nothing else
    /// is fetched with the account's credentials).
    pub async fn fetch_recording(&self, recording_url: &str) -> Result<Vec<u8>, TwilioError> {
        let prefix = format!("{}/{API_VERSION}/Accounts/", self.base_url);
        let rest = recording_url.strip_prefix(&prefix).unwrap_or_default();
        let ok = rest
            .split_once("/Recordings/RE")
            .is_some_and(|(account, sid)| {
                !account.is_empty()
                    && !account.contains('/')
                    && !sid.is_empty()
                    && sid.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
            });
        if !ok {
            return Err(TwilioError::InvalidInput {
                field: "recording_url",
                problem: format!("{recording_url:?} is not a recording of {}", self.base_url),
            });
        }
        let url = if recording_url.ends_with(".wav") || recording_url.ends_with(".mp3") {
            recording_url.to_owned()
        } else {
            format!("{recording_url}.wav")
        };
        let (user, secret) = match &self.credentials {
            Credentials::AuthToken(token) => (self.account_sid.as_str(), token.as_str()),
            Credentials::ApiKey { sid, secret } => (sid.as_str(), secret.as_str()),
        };
        let response = self
            .http
            .get(url)
            .basic_auth(user, Some(secret))
            .send()
            .await
            .map_err(|err| self.classify(err))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|err| self.classify(err))?;
        if !(200..300).contains(&status) {
            return Err(RawResponse {
                status,
                retry_after: None,
                body: bytes.to_vec(),
            }
            .into_error());
        }
        Ok(bytes.to_vec())
    }

    /// Sends a safe request, retrying 429, 5xx and transport failures.
    async fn send_safe(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        form: &[(&str, String)],
    ) -> Result<RawResponse, TwilioError> {
        let mut attempt = 1;
        loop {
            let outcome = self.send_once(method.clone(), path, query, form).await;
            let retry_after = match &outcome {
                Ok(raw) if raw.status == 429 || raw.status >= 500 => raw.retry_after,
                Err(err) if err.is_retryable() => None,
                _ => return outcome,
            };
            if attempt >= self.retry.max_attempts {
                return outcome;
            }
            let delay = self.retry.delay_before_retry(attempt, retry_after);
            tracing::warn!(
                %method,
                path,
                attempt,
                delay_ms = delay.as_millis() as u64,
                status = outcome.as_ref().ok().map(|raw| raw.status),
                "retrying a Twilio request"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        form: &[(&str, String)],
    ) -> Result<RawResponse, TwilioError> {
        let mut url = format!(
            "{}/{API_VERSION}/Accounts/{}/{path}",
            self.base_url, self.account_sid
        );
        if !query.is_empty() {
            url.push('?');
            url.push_str(&encode_form(query)?);
        }
        let (user, secret) = match &self.credentials {
            Credentials::AuthToken(token) => (self.account_sid.as_str(), token.as_str()),
            Credentials::ApiKey { sid, secret } => (sid.as_str(), secret.as_str()),
        };
        let mut request = self
            .http
            .request(method.clone(), url)
            .basic_auth(user, Some(secret))
            .header(reqwest::header::ACCEPT, "application/json");
        if method == Method::POST {
            request = request
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(encode_form(form)?);
        }
        let response = request.send().await.map_err(|err| self.classify(err))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .bytes()
            .await
            .map_err(|err| self.classify(err))?
            .to_vec();
        Ok(RawResponse {
            status,
            retry_after,
            body,
        })
    }

    fn classify(&self, err: reqwest::Error) -> TwilioError {
        // Connect first: a request that never connected was never sent,
        // which the purchase path relies on.
        if err.is_connect() {
            TwilioError::Connect(err)
        } else if err.is_timeout() {
            TwilioError::Timeout(self.timeout)
        } else {
            TwilioError::Transport(err)
        }
    }
}

fn encode_form(pairs: &[(&str, String)]) -> Result<String, TwilioError> {
    serde_urlencoded::to_string(pairs).map_err(|err| TwilioError::InvalidInput {
        field: "form",
        problem: err.to_string(),
    })
}

/// Sids go into the URL path: letters and digits only, so nothing can
/// escape the resource they name.
fn require_path_safe(field: &'static str, value: &str) -> Result<(), TwilioError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(TwilioError::InvalidInput {
            field,
            problem: format!("{value:?} is not a Twilio sid"),
        });
    }
    Ok(())
}

/// Twilio writes unset strings as `""` or `null`; both mean "not set".
fn empty_as_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.filter(|text| !text.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: Option<u32>) -> TwilioError {
        TwilioError::Api(ApiError {
            status,
            code,
            message: String::new(),
            more_info: None,
        })
    }

    #[test]
    fn twilio_errors_fall_into_the_kinds_the_admin_api_maps() {
        assert_eq!(api(400, Some(21422)).kind(), ErrorKind::NumberNotAvailable);
        assert_eq!(api(400, Some(21452)).kind(), ErrorKind::NumberNotAvailable);
        assert_eq!(api(401, Some(20003)).kind(), ErrorKind::Unauthorized);
        assert_eq!(api(404, Some(20404)).kind(), ErrorKind::NotFound);
        assert_eq!(api(400, Some(21421)).kind(), ErrorKind::InvalidRequest);
        assert_eq!(api(429, Some(20429)).kind(), ErrorKind::RateLimited);
        assert_eq!(api(500, None).kind(), ErrorKind::Unavailable);
        assert_eq!(api(503, Some(20503)).kind(), ErrorKind::Unavailable);
        assert_eq!(
            TwilioError::Timeout(Duration::from_secs(1)).kind(),
            ErrorKind::Unavailable
        );
    }

    #[test]
    fn only_rate_limits_server_errors_and_transport_failures_are_retryable() {
        assert!(api(429, Some(20429)).is_retryable());
        assert!(api(502, None).is_retryable());
        assert!(TwilioError::Timeout(Duration::from_secs(1)).is_retryable());
        assert!(!api(400, Some(21422)).is_retryable());
        assert!(!api(401, Some(20003)).is_retryable());
        assert!(!api(404, Some(20404)).is_retryable());
    }

    #[test]
    fn backoff_stays_under_its_exponential_ceiling_and_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
        };
        for _ in 0..200 {
            assert!(policy.delay_before_retry(1, None) <= Duration::from_millis(100));
            assert!(policy.delay_before_retry(2, None) <= Duration::from_millis(200));
            assert!(policy.delay_before_retry(3, None) <= Duration::from_millis(350));
            assert!(policy.delay_before_retry(30, None) <= Duration::from_millis(350));
        }
    }

    #[test]
    fn backoff_honours_retry_after_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(2),
        };
        assert_eq!(
            policy.delay_before_retry(1, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        assert_eq!(
            policy.delay_before_retry(1, Some(Duration::from_secs(60))),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn search_filters_become_twilios_query_parameters() {
        let filters = SearchFilters {
            area_code: Some("415".into()),
            contains: Some("555".into()),
            sms_enabled: Some(true),
            page_size: Some(5),
            ..SearchFilters::default()
        };
        assert_eq!(
            filters.query(),
            vec![
                ("AreaCode", "415".to_owned()),
                ("Contains", "555".to_owned()),
                ("SmsEnabled", "true".to_owned()),
                ("PageSize", "5".to_owned()),
            ]
        );
    }

    #[test]
    fn a_purchase_sends_each_url_with_the_post_method() {
        let purchase = Purchase {
            phone_number: "+14155550100".into(),
            voice_url: Some("https://sb.example/twilio/voice".into()),
            sms_url: Some("https://sb.example/twilio/sms".into()),
            ..Purchase::default()
        };
        assert_eq!(
            purchase.form(),
            vec![
                ("PhoneNumber", "+14155550100".to_owned()),
                ("VoiceUrl", "https://sb.example/twilio/voice".to_owned()),
                ("VoiceMethod", "POST".to_owned()),
                ("SmsUrl", "https://sb.example/twilio/sms".to_owned()),
                ("SmsMethod", "POST".to_owned()),
            ]
        );
    }

    #[test]
    fn credentials_never_print_their_secret() {
        let printed = format!(
            "{:?} {:?}",
            Credentials::auth_token("s3cret-token"),
            Credentials::api_key("SK1", "s3cret-key")
        );
        assert!(!printed.contains("s3cret"), "{printed}");
    }

    #[test]
    fn a_sid_that_could_escape_its_path_is_refused_before_sending() {
        assert!(require_path_safe("sid", "PN0123abcd").is_ok());
        for bad in ["", "../Accounts", "PN1/..", "PN 1", "PN1?x=1"] {
            assert!(require_path_safe("sid", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_strings_from_twilio_read_as_unset() {
        let number: IncomingNumber = serde_json::from_str(
            r#"{"sid":"PN1","account_sid":"AC1","phone_number":"+14155550100",
                "friendly_name":"x","voice_url":"","sms_url":null,
                "capabilities":{"voice":true,"sms":true,"mms":false,"fax":false}}"#,
        )
        .expect("a Twilio-shaped number");
        assert_eq!(number.voice_url, None);
        assert_eq!(number.sms_url, None);
        assert!(number.capabilities.sms);
    }
}
