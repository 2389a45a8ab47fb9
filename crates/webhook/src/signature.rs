//! The signature check, as an extractor: a handler that takes a
//! [`TwilioRequest`] only ever sees parameters whose `X-Twilio-Signature`
//! verified, so no handler can forget the check.
//!
//! The URL checked is the configured public base URL plus the request's path
//! and query, never the Host header (behind a proxy the service does not see
//! the URL Twilio signed). The token is the one of the request's
//! `AccountSid` when it is a listed subaccount, else the default one; the
//! keyed HMAC state of each is prepared once at start.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, web};
use switchboard_twilio::SigningKey;

use crate::State;
use crate::error::WebhookError;
use crate::params::Params;

/// Signing keys by account.
#[derive(Debug)]
pub struct Keys {
    default: SigningKey,
    by_account: HashMap<Box<str>, SigningKey>,
}

impl Keys {
    /// Keys for the default token and each subaccount's token.
    pub fn new(default_token: &str, subaccounts: &[(String, String)]) -> Keys {
        Keys {
            default: SigningKey::new(default_token.as_bytes()),
            by_account: subaccounts
                .iter()
                .map(|(sid, token)| (Box::from(sid.as_str()), SigningKey::new(token.as_bytes())))
                .collect(),
        }
    }

    /// The key of `account_sid`, else the default.
    pub fn for_account(&self, account_sid: Option<&str>) -> &SigningKey {
        account_sid
            .and_then(|sid| self.by_account.get(sid))
            .unwrap_or(&self.default)
    }
}

/// A webhook whose signature verified (or whose check is switched off).
#[derive(Debug)]
pub struct TwilioRequest {
    pub params: Params,
}

impl FromRequest for TwilioRequest {
    type Error = WebhookError;
    type Future = Pin<Box<dyn Future<Output = Result<TwilioRequest, WebhookError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let body = body.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    WebhookError::TooLarge
                } else {
                    WebhookError::BadRequest(format!("unreadable body: {e}"))
                }
            })?;
            let state = req
                .app_data::<web::Data<State>>()
                .ok_or_else(|| WebhookError::BadRequest("webhook state missing".into()))?;
            verify(state, &req, &body)
        })
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
}

/// Parses the body and checks its signature against the public URL.
fn verify(state: &State, req: &HttpRequest, body: &[u8]) -> Result<TwilioRequest, WebhookError> {
    let json = is_json(req);
    let params = if json {
        Params::from_json(body)
    } else {
        Params::from_form(body)
    };
    let params = params.map_err(|e| WebhookError::BadRequest(e.to_string()))?;
    if !state.validate_signatures {
        return Ok(TwilioRequest { params });
    }
    let signature = req
        .headers()
        .get("X-Twilio-Signature")
        .and_then(|v| v.to_str().ok());
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path(), |pq| pq.as_str());
    let mut url = String::with_capacity(state.public_base.len() + path_and_query.len());
    url.push_str(&state.public_base);
    url.push_str(path_and_query);
    let account_sid = params.get("AccountSid");
    let key = state.keys.for_account(account_sid);
    let valid = match signature {
        Some(signature) if json => key.validate_json(&url, body, signature),
        Some(signature) => {
            key.validate_laid_out(&url, params.pairs(), params.laid_out(), signature)
        }
        None => false,
    };
    if valid {
        Ok(TwilioRequest { params })
    } else {
        state.metrics.signature_failed();
        // The token never appears here; the URL and account help find a
        // misconfigured public_base_url or subaccount.
        tracing::warn!(
            url = %url,
            account_sid = account_sid.unwrap_or("-"),
            signature_present = signature.is_some(),
            "webhook refused: X-Twilio-Signature does not verify"
        );
        Err(WebhookError::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://switchboard.example.com/twilio/voice";

    fn params() -> Vec<(String, String)> {
        vec![
            ("AccountSid".to_owned(), "AC1".to_owned()),
            ("To".to_owned(), "+14155550100".to_owned()),
        ]
    }

    #[test]
    fn a_listed_subaccount_is_checked_with_its_own_token() {
        let keys = Keys::new("main-token", &[("AC1".to_owned(), "sub-token".to_owned())]);
        let signed = switchboard_twilio::sign_form(URL, &params(), b"sub-token");
        assert!(
            keys.for_account(Some("AC1"))
                .validate_form(URL, &params(), &signed)
        );
        assert!(
            !keys
                .for_account(None)
                .validate_form(URL, &params(), &signed)
        );
    }

    #[test]
    fn an_unlisted_account_falls_back_to_the_default_token() {
        let keys = Keys::new("main-token", &[("AC1".to_owned(), "sub-token".to_owned())]);
        let signed = switchboard_twilio::sign_form(URL, &params(), b"main-token");
        assert!(
            keys.for_account(Some("AC2"))
                .validate_form(URL, &params(), &signed)
        );
    }

    #[test]
    fn keys_never_print_their_tokens() {
        let keys = Keys::new("main-token", &[("AC1".to_owned(), "sub-token".to_owned())]);
        let shown = format!("{keys:?}");
        assert!(
            !shown.contains("main-token") && !shown.contains("sub-token"),
            "{shown}"
        );
    }
}
