//! The pieces of `switchboard call`, the developer tool of the quick start:
//! the form Twilio would post for a call or a text, and an offline answer
//! computed with the very functions the webhook runs.

use chrono::{DateTime, Utc};
use switchboard_core::resolve::{Explain, VoiceCall, resolve_sms, resolve_voice};
use switchboard_core::snapshot::Snapshot;
use switchboard_core::twiml::{RenderContext, render};

/// The path a voice call is posted to.
pub const VOICE_PATH: &str = "/twilio/voice";
/// The path a text is posted to.
pub const SMS_PATH: &str = "/twilio/sms";

/// A made-up SID with Twilio's shape: a prefix and 32 hex digits.
pub fn fake_sid(prefix: &str, seed: u128) -> String {
    format!("{prefix}{:032x}", seed)
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The form of an incoming call, as Twilio posts it to the Voice URL.
pub fn voice_form(
    account_sid: &str,
    call_sid: &str,
    from: &str,
    to: &str,
) -> Vec<(String, String)> {
    pairs(&[
        ("AccountSid", account_sid),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", from),
        ("To", to),
    ])
}

/// The form of an incoming text, as Twilio posts it to the SMS URL.
pub fn sms_form(
    account_sid: &str,
    message_sid: &str,
    from: &str,
    to: &str,
    body: &str,
) -> Vec<(String, String)> {
    pairs(&[
        ("AccountSid", account_sid),
        ("ApiVersion", "2010-04-01"),
        ("Body", body),
        ("From", from),
        ("MessageSid", message_sid),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsSid", message_sid),
        ("To", to),
    ])
}

/// What the webhook would answer at `at` for a call (or, with `sms`, a
/// text) from `from` to `to`.
pub fn answer_offline(
    snapshot: &Snapshot,
    public_base_url: &str,
    to: &str,
    from: &str,
    sms: Option<&str>,
    at: DateTime<Utc>,
) -> String {
    let ctx = RenderContext { public_base_url };
    let decision = match sms {
        Some(_) => resolve_sms(snapshot, to, from, Explain::Quiet),
        None => resolve_voice(
            snapshot,
            &VoiceCall {
                to,
                from,
                call_sid: "CA00000000000000000000000000000000",
            },
            at,
            Explain::Quiet,
        ),
    };
    render(&decision, &ctx)
}
