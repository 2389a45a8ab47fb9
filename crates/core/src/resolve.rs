//! Resolution: who takes a call or a text, in the order of `docs/routing.md`.
//!
//! [`resolve_voice`] applies the seven rules of `docs/routing.md` ("Calls:
//! order of resolution") in order for a call at an instant;
//! [`continue_voice`] takes the call on after a `<Dial>` ended, recomputing
//! from the ORIGINAL instant (carried in the [`Continuation`]), so a call
//! that began at 16:59:50 finishes on the 16:59 rules.
//!
//! A call's progress is one number: how many dials have ended unanswered
//! (`step`). Given the resolving number, the instant and the step, the next
//! TwiML is a pure function of the snapshot, so any replica can serve any
//! continuation and simulate can replay played outcomes with the same code.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::ContinuationError;
use crate::model::{AssistantKind, Lifecycle, OverrideState, Strategy, VoiceTargetType};
use crate::schedule::local_wall_time;
use crate::snapshot::{
    ClinicEntry, CompiledAction, CompiledForwarding, CompiledMember, CompiledOverride,
    MAX_LINK_HOPS, NumberEntry, Snapshot, WeekRule,
};
use crate::validate::is_e164;

/// The greeting of a voicemail that does not set one.
pub const DEFAULT_VOICEMAIL_GREETING: &str =
    "Sorry, nobody can take your call right now. Please leave a message after the tone.";

/// What a caller hears when the configuration cannot route the call.
pub const APOLOGY: &str = "Sorry, this number cannot take your call right now. Goodbye.";

/// The most ring-group hand-overs followed in one call, a guard against
/// stored chains that loop (the API refuses them).
const MAX_HAND_OVERS: u32 = 16;

/// An incoming call, as the webhook reads it from Twilio's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoiceCall<'a> {
    pub to: &'a str,
    pub from: &'a str,
    pub call_sid: &'a str,
}

/// Whether resolution writes down, for people, every rule it considered.
///
/// Simulate shows the trace; the webhook does not read it, so it resolves
/// [`Explain::Quiet`] and pays for no text (it resolves again with the trace
/// only to log a call the configuration cannot route).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Explain {
    Trace,
    Quiet,
}

/// The lines of the trace, written only when asked for.
pub(crate) struct Trace {
    lines: Vec<String>,
    on: bool,
}

impl Trace {
    fn new(explain: Explain) -> Trace {
        Trace {
            lines: Vec::new(),
            on: explain == Explain::Trace,
        }
    }

    /// A trace that writes nothing.
    pub(crate) fn quiet() -> Trace {
        Trace::new(Explain::Quiet)
    }

    /// Adds a line; `line` runs only when the trace is on.
    fn note(&mut self, line: impl FnOnce() -> String) {
        if self.on {
            self.lines.push(line());
        }
    }
}

/// The rule or handler that took a call (`outcome.kind` of simulate,
/// `docs/api.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    Reject,
    /// The caller is on the clinic's blocked list (voice and SMS).
    Blocked,
    Forward,
    /// A "closed until…" override.
    ClosedUntil,
    /// An "open until…" override.
    OpenUntil,
    Closure,
    Assistant,
    RingGroup,
    OffHours,
    Voicemail,
    Message,
    Hangup,
    Error,
    SmsAssistant,
    SmsReply,
    SmsIgnore,
}

impl OutcomeKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Reject => "reject",
            OutcomeKind::Blocked => "blocked",
            OutcomeKind::Forward => "forward",
            OutcomeKind::ClosedUntil => "closed_until",
            OutcomeKind::OpenUntil => "open_until",
            OutcomeKind::Closure => "closure",
            OutcomeKind::Assistant => "assistant",
            OutcomeKind::RingGroup => "ring_group",
            OutcomeKind::OffHours => "off_hours",
            OutcomeKind::Voicemail => "voicemail",
            OutcomeKind::Message => "message",
            OutcomeKind::Hangup => "hangup",
            OutcomeKind::Error => "error",
            OutcomeKind::SmsAssistant => "sms_assistant",
            OutcomeKind::SmsReply => "sms_reply",
            OutcomeKind::SmsIgnore => "sms_ignore",
        }
    }
}

/// Text of a decision: borrowed from the snapshot or the request on the
/// webhook's path (no allocation per call), owned once it leaves them.
pub type Text<'a> = Cow<'a, str>;

/// The `outcome` of `docs/api.md` ("Simulate"): `{kind, id, name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outcome<'a> {
    pub kind: OutcomeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub id: Option<Text<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Text<'a>>,
}

impl Outcome<'_> {
    fn bare(kind: OutcomeKind) -> Outcome<'static> {
        Outcome {
            kind,
            id: None,
            name: None,
        }
    }

    /// The same outcome, owning its text.
    pub fn into_owned(self) -> Outcome<'static> {
        Outcome {
            kind: self.kind,
            id: self.id.map(|id| Cow::Owned(id.into_owned())),
            name: self.name.map(|name| Cow::Owned(name.into_owned())),
        }
    }
}

/// Who answers (`handler.type` in `docs/api.md`, "Simulate").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandlerKind {
    Assistant,
    RingGroup,
    Voicemail,
    Forward,
    Message,
    Hangup,
}

/// The `handler` of `docs/api.md` ("Simulate"): `{type, id, name}`. For a
/// forward, `name` is the number dialled.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Handler<'a> {
    #[serde(rename = "type")]
    pub kind: HandlerKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub id: Option<Text<'a>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Text<'a>>,
}

impl Handler<'_> {
    fn bare(kind: HandlerKind) -> Handler<'static> {
        Handler {
            kind,
            id: None,
            name: None,
        }
    }

    /// The same handler, owning its text.
    pub fn into_owned(self) -> Handler<'static> {
        Handler {
            kind: self.kind,
            id: self.id.map(|id| Cow::Owned(id.into_owned())),
            name: self.name.map(|name| Cow::Owned(name.into_owned())),
        }
    }
}

/// The clinic's `voice` and `language`, put on every `<Say>`, and whether
/// its voicemail `<Record>` asks Twilio for a transcript.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Speech<'a> {
    pub voice: Option<&'a str>,
    pub language: Option<&'a str>,
    pub transcribe: bool,
}

/// One noun of a `<Dial>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialTarget<'a> {
    Number(Text<'a>),
    Sip(Text<'a>),
    Client(Text<'a>),
}

/// A `<Dial>` to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialPlan<'a> {
    pub targets: Vec<DialTarget<'a>>,
    /// `timeout` in seconds; Twilio's default when `None`.
    pub timeout: Option<u16>,
    pub caller_id: Option<Text<'a>>,
    pub answer_on_bridge: bool,
    /// Where the call stands, for the `action` URL; `None` when the dial
    /// cannot move on.
    pub continuation: Option<Continuation<'a>>,
    /// Confirm to accept: what each member hears before pressing 1 (the
    /// screening URL carries the continuation); `None`: connect at once.
    pub confirm: Option<Text<'a>>,
}

/// What to render as TwiML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwimlPlan<'a> {
    /// `<Reject reason="busy"/>`: not answered, not billed.
    Reject,
    /// `<Reject reason="rejected"/>`: a blocked caller, not answered, not billed.
    Blocked,
    /// `<Dial>` numbers, SIP or clients.
    Dial(DialPlan<'a>),
    /// `<Connect><Stream url>` with `<Parameter>`s.
    Stream {
        url: Text<'a>,
        parameters: Vec<(Text<'a>, Text<'a>)>,
    },
    /// `<Redirect method="POST">` to a TwiML URL.
    Redirect { url: Text<'a> },
    /// `<Say>` greeting, `<Record>`, `<Hangup/>`.
    Voicemail { greeting: Text<'a> },
    /// `<Say>` text, `<Hangup/>`.
    Say { text: Text<'a> },
    /// `<Hangup/>`.
    Hangup,
    /// A member's confirmation: `<Gather numDigits="1">` with the prompt,
    /// its action the screening answer, then `<Hangup/>`.
    Confirm {
        prompt: Text<'a>,
        continuation: Continuation<'a>,
    },
    /// An empty `<Response/>` on a member's leg: the member is connected.
    Connect,
    /// Messaging: `<Redirect method="POST">` to the texting assistant.
    SmsRedirect { url: Text<'a> },
    /// Messaging: one `<Message>`.
    SmsMessage { text: Text<'a> },
    /// Messaging: an empty `<Response/>`.
    SmsEmpty,
}

/// The answer to a call or text at an instant, with its explanation. It
/// borrows from the snapshot and the call it was resolved for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'a> {
    pub outcome: Outcome<'a>,
    pub handler: Option<Handler<'a>>,
    pub resolved_number_id: Option<&'a str>,
    pub clinic_id: Option<&'a str>,
    pub location_id: Option<&'a str>,
    /// The effective timezone, when a number's rules applied.
    pub zone: Option<Tz>,
    /// The instant the number's rules were applied at (the call's original
    /// instant); `None` when no schedule was read (reject, error, SMS).
    pub at: Option<DateTime<Utc>>,
    /// Every rule considered, in order, for people; empty unless resolved
    /// with [`Explain::Trace`].
    pub trace: Vec<String>,
    pub speech: Speech<'a>,
    pub action: TwimlPlan<'a>,
}

impl Decision<'_> {
    /// IANA name of the effective timezone.
    pub fn timezone(&self) -> Option<&'static str> {
        self.zone.map(|zone| zone.name())
    }

    /// RFC 3339 local time with offset, e.g. `2026-11-26T10:00:00-05:00`.
    pub fn local_time(&self) -> Option<String> {
        let (zone, at) = (self.zone?, self.at?);
        Some(
            zone.from_utc_datetime(&at.naive_utc())
                .to_rfc3339_opts(SecondsFormat::Secs, false),
        )
    }
}

/// The `DialCallStatus` Twilio posts when a `<Dial>` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DialStatus {
    Completed,
    Answered,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
    /// Answered but not bridged: a member of a confirming ring group (or
    /// its voicemail) did not press 1. Never sent by Twilio as such: read
    /// from `DialBridged=false` beside an answered status.
    Declined,
}

/// A `DialCallStatus` Twilio does not document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown DialCallStatus {0:?}")]
pub struct UnknownDialStatus(pub String);

impl DialStatus {
    /// True when somebody took the call: it ends.
    pub fn was_answered(self) -> bool {
        matches!(self, DialStatus::Completed | DialStatus::Answered)
    }

    /// What a `<Dial>` that ended with `status` amounts to, given Twilio's
    /// `DialBridged`: a leg answered but never bridged (it hung up in its
    /// confirmation prompt) took nobody's call.
    pub fn reported(status: DialStatus, bridged: Option<&str>) -> DialStatus {
        if status.was_answered() && bridged == Some("false") {
            DialStatus::Declined
        } else {
            status
        }
    }

    /// Twilio's spelling (`declined` is ours).
    pub fn as_str(self) -> &'static str {
        match self {
            DialStatus::Declined => "declined",
            DialStatus::Completed => "completed",
            DialStatus::Answered => "answered",
            DialStatus::Busy => "busy",
            DialStatus::NoAnswer => "no-answer",
            DialStatus::Failed => "failed",
            DialStatus::Canceled => "canceled",
        }
    }
}

impl FromStr for DialStatus {
    type Err = UnknownDialStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "completed" => Ok(DialStatus::Completed),
            "answered" => Ok(DialStatus::Answered),
            "busy" => Ok(DialStatus::Busy),
            "no-answer" => Ok(DialStatus::NoAnswer),
            "failed" => Ok(DialStatus::Failed),
            "canceled" => Ok(DialStatus::Canceled),
            other => Err(UnknownDialStatus(other.to_owned())),
        }
    }
}

impl fmt::Display for DialStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a call stands after a `<Dial>`: the resolving number (after links),
/// the original instant, and how many dials ended unanswered before this one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Continuation<'a> {
    pub number_id: Text<'a>,
    /// Unix seconds of the call's original instant.
    pub instant: i64,
    /// Dials that ended unanswered before the one carrying this continuation.
    pub step: u16,
}

const CONTINUATION_VERSION: &str = "1";

impl Continuation<'_> {
    /// A compact, URL-safe text: `1.<step>.<instant base36>.<id>`, where the
    /// id keeps `[A-Za-z0-9-]` and writes any other byte as `_XX` (hex), so the
    /// result holds only unreserved URL characters and needs no escaping.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(16 + self.number_id.len());
        self.encode_into(&mut out);
        out
    }

    /// [`Continuation::encode`], appended to `out`.
    pub fn encode_into(&self, out: &mut String) {
        out.push_str(CONTINUATION_VERSION);
        out.push('.');
        // Writing into a String cannot fail.
        let _ = write!(out, "{}", self.step);
        out.push('.');
        push_base36(out, self.instant);
        out.push('.');
        for byte in self.number_id.bytes() {
            if byte.is_ascii_alphanumeric() || byte == b'-' {
                out.push(char::from(byte));
            } else {
                out.push('_');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xf)]));
            }
        }
    }

    /// Reads what [`Continuation::encode`] wrote; anything else is an error.
    pub fn decode(s: &str) -> Result<Continuation<'static>, ContinuationError> {
        let mut parts = s.splitn(4, '.');
        let version = parts.next().ok_or(ContinuationError("empty"))?;
        if version != CONTINUATION_VERSION {
            return Err(ContinuationError("unknown version"));
        }
        let step = parts.next().ok_or(ContinuationError("no step"))?;
        if step.is_empty() || step.len() > 5 || !step.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ContinuationError("bad step"));
        }
        let step: u16 = step.parse().map_err(|_| ContinuationError("bad step"))?;
        let instant = parse_base36(parts.next().ok_or(ContinuationError("no instant"))?)
            .ok_or(ContinuationError("bad instant"))?;
        let id = parts.next().ok_or(ContinuationError("no number"))?;
        let mut bytes = Vec::with_capacity(id.len());
        let mut rest = id.bytes();
        while let Some(byte) = rest.next() {
            match byte {
                b'_' => {
                    let high = rest.next().and_then(hex_value);
                    let low = rest.next().and_then(hex_value);
                    match (high, low) {
                        (Some(high), Some(low)) => bytes.push(high << 4 | low),
                        _ => return Err(ContinuationError("bad escape")),
                    }
                }
                b if b.is_ascii_alphanumeric() || b == b'-' => bytes.push(b),
                _ => return Err(ContinuationError("bad character")),
            }
        }
        let number_id = String::from_utf8(bytes).map_err(|_| ContinuationError("bad utf-8"))?;
        Ok(Continuation {
            number_id: Cow::Owned(number_id),
            instant,
            step,
        })
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn push_base36(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    let mut magnitude = value.unsigned_abs();
    let mut digits = [0u8; 13];
    let mut len = 0;
    loop {
        digits[len] = b"0123456789abcdefghijklmnopqrstuvwxyz"[(magnitude % 36) as usize];
        len += 1;
        magnitude /= 36;
        if magnitude == 0 {
            break;
        }
    }
    for &digit in digits[..len].iter().rev() {
        out.push(char::from(digit));
    }
}

fn parse_base36(s: &str) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if digits.is_empty() || digits.len() > 13 {
        return None;
    }
    // Only the canonical form: lowercase, no leading zeros, no "-0".
    if (digits.len() > 1 && digits.starts_with('0')) || (negative && digits == "0") {
        return None;
    }
    let mut value: u64 = 0;
    for b in digits.bytes() {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'z' => b - b'a' + 10,
            _ => return None,
        };
        value = value.checked_mul(36)?.checked_add(u64::from(digit))?;
    }
    if negative {
        0i64.checked_sub_unsigned(value)
    } else {
        i64::try_from(value).ok()
    }
}

/// Resolves a call to `call.to` at instant `at` (`docs/routing.md`, "Calls:
/// order of resolution").
pub fn resolve_voice<'a>(
    s: &'a Snapshot,
    call: &VoiceCall<'a>,
    at: DateTime<Utc>,
    explain: Explain,
) -> Decision<'a> {
    let mut trace = Trace::new(explain);
    let Some(number) = s.number_by_e164(call.to) else {
        trace.note(|| format!("no number matches {}", call.to));
        return reject(trace, None, None);
    };
    route_from_number(s, number, call, at, trace)
}

/// Resolves a call placed to a given number of the snapshot (as
/// [`resolve_voice`] does once it found the number by `To`).
pub fn resolve_number<'a>(
    s: &'a Snapshot,
    number: &'a NumberEntry,
    call: &VoiceCall<'a>,
    at: DateTime<Utc>,
    explain: Explain,
) -> Decision<'a> {
    route_from_number(s, number, call, at, Trace::new(explain))
}

fn route_from_number<'a>(
    s: &'a Snapshot,
    number: &'a NumberEntry,
    call: &VoiceCall<'a>,
    at: DateTime<Utc>,
    mut trace: Trace,
) -> Decision<'a> {
    trace.note(|| format!("call to {}", number.e164()));
    // Checked when the call arrives only: a continuation belongs to a call
    // that was let in, which ends as it began.
    if let Some(decision) = blocked(s, number, call.from, TwimlPlan::Blocked, &mut trace) {
        return decision;
    }
    route(s, number, call, at, 0, trace)
}

/// Blocked callers (`docs/routing.md`, "Blocked callers"): before any other
/// rule, when the caller is on the clinic's list of the number dialled.
fn blocked<'a>(
    s: &'a Snapshot,
    number: &'a NumberEntry,
    from: &str,
    plan: TwimlPlan<'a>,
    trace: &mut Trace,
) -> Option<Decision<'a>> {
    let clinic = s.clinic_of(number);
    let entry = clinic.blocked().matching(from)?;
    trace.note(|| {
        format!(
            "caller {} is blocked ({} {})",
            if from.is_empty() {
                "without a number"
            } else {
                from
            },
            entry.kind.as_str(),
            entry.label
        )
    });
    let mut decision = reject(Trace::quiet(), Some(number), Some(clinic));
    decision.trace = std::mem::take(&mut trace.lines);
    decision.outcome = Outcome {
        kind: OutcomeKind::Blocked,
        id: Some(Cow::Borrowed(&entry.id)),
        name: Some(Cow::Borrowed(&entry.label)),
    };
    decision.action = plan;
    Some(decision)
}

/// Takes a call on after a `<Dial>` ended with `status`, from the original
/// instant carried by the continuation.
pub fn continue_voice<'a>(
    s: &'a Snapshot,
    c: &Continuation<'_>,
    status: DialStatus,
    call: &VoiceCall<'a>,
    explain: Explain,
) -> Decision<'a> {
    let at = DateTime::<Utc>::from_timestamp(c.instant, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let number = s.number_by_id(&c.number_id);
    let mut trace = Trace::new(explain);
    if status.was_answered() {
        // Somebody took the call: it ends, whatever became of the number.
        trace.note(|| format!("dial {status}: the call is over"));
        let mut decision = match number {
            Some(number) => base_decision(number, s.clinic_of(number), at),
            None => error_decision(Trace::new(Explain::Quiet), None),
        };
        decision.trace = trace.lines;
        decision.outcome = Outcome::bare(OutcomeKind::Hangup);
        decision.handler = Some(Handler::bare(HandlerKind::Hangup));
        decision.action = TwimlPlan::Hangup;
        return decision;
    }
    let Some(number) = number else {
        trace.note(|| format!("continuation names number {}, which is gone", c.number_id));
        return error_decision(trace, None);
    };
    trace.note(|| format!("dial {status} at step {}: moving on", c.step));
    route(s, number, call, at, c.step.saturating_add(1), trace)
}

/// The TwiML a member of a confirming ring group gets on answering: the
/// group's prompt in a one-key `<Gather>`. The dial is found again from the
/// continuation (any replica can answer); when the configuration no longer
/// confirms that dial, the member is connected, as the new one would.
pub fn confirm_voice<'a>(s: &'a Snapshot, c: &Continuation<'a>) -> Decision<'a> {
    let at = DateTime::<Utc>::from_timestamp(c.instant, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let Some(number) = s.number_by_id(&c.number_id) else {
        let mut decision = error_decision(Trace::quiet(), None);
        decision.action = TwimlPlan::Hangup;
        return decision;
    };
    // The member's own leg: what the caller dialled does not matter here.
    let call = VoiceCall {
        to: number.e164(),
        from: "",
        call_sid: "",
    };
    let replay = route(s, number, &call, at, c.step, Trace::quiet());
    let mut decision = base_decision(number, s.clinic_of(number), at);
    decision.outcome = replay.outcome;
    decision.handler = replay.handler;
    decision.action = match replay.action {
        TwimlPlan::Dial(DialPlan {
            confirm: Some(prompt),
            continuation: Some(continuation),
            ..
        }) => TwimlPlan::Confirm {
            prompt,
            continuation,
        },
        _ => TwimlPlan::Connect,
    };
    decision
}

/// A member's key press after the prompt: 1 connects, anything else ends
/// the member's leg (the group moves on).
pub fn confirm_answer<'a>(s: &'a Snapshot, c: &Continuation<'_>, digits: &str) -> Decision<'a> {
    let number = s.number_by_id(&c.number_id);
    let at = DateTime::<Utc>::from_timestamp(c.instant, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let mut decision = match number {
        Some(number) => base_decision(number, s.clinic_of(number), at),
        None => error_decision(Trace::quiet(), None),
    };
    decision.action = if digits == "1" {
        TwimlPlan::Connect
    } else {
        TwimlPlan::Hangup
    };
    decision
}

/// Resolves a text to `to` (`docs/routing.md`, "Messages (SMS)").
pub fn resolve_sms<'a>(s: &'a Snapshot, to: &str, from: &str, explain: Explain) -> Decision<'a> {
    let mut trace = Trace::new(explain);
    let Some(number) = s.number_by_e164(to) else {
        trace.note(|| format!("no number matches {to}"));
        return sms_ignore(trace, None, None);
    };
    if let Some(decision) = blocked(s, number, from, TwimlPlan::SmsEmpty, &mut trace) {
        return decision;
    }
    let clinic = s.clinic_of(number);
    if number.lifecycle != Lifecycle::Active {
        trace.note(|| format!("number {} is {}", number.e164(), number.lifecycle));
        return sms_ignore(trace, Some(number), Some(clinic));
    }
    if let Some((id, url)) = &clinic.texting {
        let name = clinic
            .assistants
            .iter()
            .find(|a| a.id == *id)
            .map(|a| &*a.name);
        trace.note(|| format!("texting assistant {} handles SMS", name.unwrap_or(id)));
        let mut decision = sms_ignore(trace, Some(number), Some(clinic));
        decision.outcome = Outcome {
            kind: OutcomeKind::SmsAssistant,
            id: Some(Cow::Borrowed(id)),
            name: name.map(Cow::Borrowed),
        };
        decision.handler = Some(Handler {
            kind: HandlerKind::Assistant,
            id: Some(Cow::Borrowed(id)),
            name: name.map(Cow::Borrowed),
        });
        decision.action = TwimlPlan::SmsRedirect {
            url: Cow::Borrowed(url),
        };
        return decision;
    }
    if let Some(reply) = &clinic.sms_auto_reply {
        trace.note(|| "no texting assistant: the clinic's auto-reply answers".to_owned());
        let mut decision = sms_ignore(trace, Some(number), Some(clinic));
        decision.outcome = Outcome::bare(OutcomeKind::SmsReply);
        decision.handler = Some(Handler::bare(HandlerKind::Message));
        decision.action = TwimlPlan::SmsMessage {
            text: Cow::Borrowed(reply),
        };
        return decision;
    }
    trace.note(|| "no texting assistant and no auto-reply: no answer".to_owned());
    sms_ignore(trace, Some(number), Some(clinic))
}

fn sms_ignore<'a>(
    trace: Trace,
    number: Option<&'a NumberEntry>,
    clinic: Option<&'a ClinicEntry>,
) -> Decision<'a> {
    Decision {
        outcome: Outcome::bare(OutcomeKind::SmsIgnore),
        handler: None,
        resolved_number_id: number.map(NumberEntry::id),
        clinic_id: clinic.map(ClinicEntry::id),
        location_id: number.and_then(NumberEntry::location_id),
        zone: number.map(NumberEntry::timezone),
        at: None,
        trace: trace.lines,
        speech: clinic.map(speech_of).unwrap_or_default(),
        action: TwimlPlan::SmsEmpty,
    }
}

fn reject<'a>(
    trace: Trace,
    number: Option<&'a NumberEntry>,
    clinic: Option<&'a ClinicEntry>,
) -> Decision<'a> {
    Decision {
        outcome: Outcome::bare(OutcomeKind::Reject),
        handler: None,
        resolved_number_id: number.map(NumberEntry::id),
        clinic_id: clinic.map(ClinicEntry::id),
        location_id: number.and_then(NumberEntry::location_id),
        zone: None,
        at: None,
        trace: trace.lines,
        speech: clinic.map(speech_of).unwrap_or_default(),
        action: TwimlPlan::Reject,
    }
}

fn error_decision<'a>(mut trace: Trace, clinic: Option<&'a ClinicEntry>) -> Decision<'a> {
    trace.note(|| "apologise and hang up".to_owned());
    Decision {
        outcome: Outcome::bare(OutcomeKind::Error),
        handler: Some(Handler::bare(HandlerKind::Hangup)),
        resolved_number_id: None,
        clinic_id: clinic.map(ClinicEntry::id),
        location_id: None,
        zone: None,
        at: None,
        trace: trace.lines,
        speech: clinic.map(speech_of).unwrap_or_default(),
        action: TwimlPlan::Say {
            text: Cow::Borrowed(APOLOGY),
        },
    }
}

fn speech_of(clinic: &ClinicEntry) -> Speech<'_> {
    Speech {
        voice: clinic.voice(),
        language: clinic.language(),
        transcribe: clinic.transcribe_voicemail,
    }
}

fn base_decision<'a>(
    number: &'a NumberEntry,
    clinic: &'a ClinicEntry,
    at: DateTime<Utc>,
) -> Decision<'a> {
    Decision {
        outcome: Outcome::bare(OutcomeKind::Hangup),
        handler: None,
        resolved_number_id: Some(number.id()),
        clinic_id: Some(clinic.id()),
        location_id: number.location_id(),
        zone: Some(number.tz),
        at: Some(at),
        trace: Vec::new(),
        speech: speech_of(clinic),
        action: TwimlPlan::Hangup,
    }
}

/// The rule that takes a call at a local time (`docs/routing.md`, "Calls:
/// order of resolution", rules 4 to 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule<'a> {
    /// A "closed until…" or "open until…" override in force.
    Override(&'a CompiledOverride),
    /// Closure index, and the action it runs (its own or the off-hours handler).
    Closure(usize, &'a CompiledAction),
    /// Binding index and the clinic's assistant index.
    Assistant(u32),
    RingGroup(u16),
    OffHours(&'a CompiledAction),
}

impl<'a> Rule<'a> {
    /// The first action the rule runs.
    pub(crate) fn action(self) -> FirstAction<'a> {
        match self {
            Rule::Closure(_, action) | Rule::OffHours(action) => FirstAction::Action(action),
            Rule::Override(hold) => FirstAction::Action(&hold.action),
            Rule::Assistant(index) => FirstAction::Assistant(index),
            Rule::RingGroup(index) => FirstAction::RingGroup(index),
        }
    }
}

/// The first handler of a rule, without cloning actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirstAction<'a> {
    Action(&'a CompiledAction),
    Assistant(u32),
    RingGroup(u16),
}

/// The override, then rules 4 to 7, at an instant and its local wall time:
/// the first that applies.
pub(crate) fn rule_at(number: &NumberEntry, at: DateTime<Utc>, local: NaiveDateTime) -> Rule<'_> {
    if let Some(hold) = number.hold.as_ref().filter(|h| at.timestamp() < h.until) {
        return Rule::Override(hold);
    }
    scheduled_rule_at(number, local)
}

/// Rules 4 to 7 at a local wall time, overrides aside.
pub(crate) fn scheduled_rule_at(number: &NumberEntry, local: NaiveDateTime) -> Rule<'_> {
    if let Some(index) = number
        .closure_tests
        .iter()
        .position(|test| test.covers(local))
    {
        let closure = &number.closures[index];
        return Rule::Closure(index, closure.action.as_ref().unwrap_or(&number.off_hours));
    }
    let minute = crate::schedule::minute_of_week(local);
    let index = number.week.partition_point(|entry| entry.start <= minute);
    match index.checked_sub(1).map(|i| number.week[i].rule) {
        Some(WeekRule::Assistant(assistant)) => return Rule::Assistant(assistant),
        Some(WeekRule::RingGroup(group)) => return Rule::RingGroup(group),
        Some(WeekRule::OffHours) | None => {}
    }
    Rule::OffHours(&number.off_hours)
}

/// Who answers first for a rule: the handler the coverage shows.
pub(crate) fn first_handler<'a>(
    clinic: &'a ClinicEntry,
    number: &'a NumberEntry,
    first: FirstAction,
) -> Handler<'a> {
    match first {
        FirstAction::Assistant(index) => assistant_handler(clinic, index),
        FirstAction::RingGroup(index) => ring_group_handler(number, index),
        FirstAction::Action(action) => action_handler(clinic, number, action),
    }
}

fn assistant_handler(clinic: &ClinicEntry, index: u32) -> Handler<'_> {
    let assistant = clinic.assistant(index);
    Handler {
        kind: HandlerKind::Assistant,
        id: Some(Cow::Borrowed(&assistant.id)),
        name: Some(Cow::Borrowed(&assistant.name)),
    }
}

fn ring_group_handler(number: &NumberEntry, index: u16) -> Handler<'_> {
    let group = &number.ring_groups[usize::from(index)];
    Handler {
        kind: HandlerKind::RingGroup,
        id: group.id.map(|id| Cow::Borrowed(number.text(id))),
        name: Some(Cow::Borrowed(number.text(group.name))),
    }
}

fn action_handler<'a>(
    clinic: &'a ClinicEntry,
    number: &'a NumberEntry,
    action: &CompiledAction,
) -> Handler<'a> {
    match action {
        CompiledAction::Assistant(index) => assistant_handler(clinic, *index),
        CompiledAction::RingGroup(index) => ring_group_handler(number, *index),
        CompiledAction::Voicemail(_) | CompiledAction::Unavailable(_) => {
            Handler::bare(HandlerKind::Voicemail)
        }
        CompiledAction::Forward(to) => Handler {
            kind: HandlerKind::Forward,
            id: None,
            name: Some(Cow::Borrowed(number.text(*to))),
        },
        CompiledAction::Message(_) => Handler::bare(HandlerKind::Message),
        CompiledAction::Hangup => Handler::bare(HandlerKind::Hangup),
    }
}

/// Where a call ends up once links are followed.
pub(crate) enum Reach<'a> {
    /// Not routable (this number of the chain is not active): reject.
    Reject(&'a NumberEntry),
    /// Forwarded to an external number.
    Forward(&'a NumberEntry, &'a str),
    /// A link cycle, a chain too long or a broken link.
    Broken(BrokenLink<'a>),
    /// The number whose rules apply.
    Number(&'a NumberEntry),
}

/// Why the links of a number cannot be followed; described only when read.
pub(crate) enum BrokenLink<'a> {
    /// A stored link to something that is not a number of the clinic.
    Target(&'a NumberEntry, &'a str),
    /// A link never resolved.
    Nowhere(&'a NumberEntry),
    /// From this number, links loop or chain too far.
    TooLong(&'a NumberEntry),
}

impl fmt::Display for BrokenLink<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrokenLink::Target(number, target) => write!(
                f,
                "number {} forwards to {target}, which cannot be followed",
                number.e164()
            ),
            BrokenLink::Nowhere(number) => write!(f, "number {} links nowhere", number.e164()),
            BrokenLink::TooLong(start) => write!(
                f,
                "links from {} loop or chain more than {MAX_LINK_HOPS} numbers",
                start.e164()
            ),
        }
    }
}

/// Rules 1 and 2: lifecycle and forwarding, following links.
pub(crate) fn follow_links<'a>(
    s: &'a Snapshot,
    start: &'a NumberEntry,
    trace: &mut Trace,
) -> Reach<'a> {
    let mut number = start;
    for _ in 0..=MAX_LINK_HOPS {
        if number.lifecycle != Lifecycle::Active {
            return Reach::Reject(number);
        }
        match &number.forwarding {
            CompiledForwarding::None => return Reach::Number(number),
            CompiledForwarding::External(to) => return Reach::Forward(number, number.text(*to)),
            CompiledForwarding::Broken(target) => {
                return Reach::Broken(BrokenLink::Target(number, number.text(*target)));
            }
            CompiledForwarding::Pending(_) => return Reach::Broken(BrokenLink::Nowhere(number)),
            CompiledForwarding::Link(next) => {
                let next = s.number_at(*next);
                trace.note(|| format!("linked {} → {}", number.e164(), next.e164()));
                number = next;
            }
        }
    }
    Reach::Broken(BrokenLink::TooLong(start))
}

/// The whole order of resolution from a number, after `step` unanswered dials.
fn route<'a>(
    s: &'a Snapshot,
    start: &'a NumberEntry,
    call: &VoiceCall<'a>,
    at: DateTime<Utc>,
    step: u16,
    mut trace: Trace,
) -> Decision<'a> {
    start.warm_up();
    let clinic = s.clinic_of(start);
    std::hint::black_box(clinic.id().as_bytes().first());
    let number = match follow_links(s, start, &mut trace) {
        Reach::Number(number) => number,
        Reach::Reject(inactive) => {
            trace.note(|| format!("number {} is {}", inactive.e164(), inactive.lifecycle));
            trace.note(|| "reject".to_owned());
            return reject(trace, Some(start), Some(clinic));
        }
        Reach::Broken(reason) => {
            trace.note(|| reason.to_string());
            let mut decision = error_decision(trace, Some(clinic));
            decision.resolved_number_id = Some(start.id());
            return decision;
        }
        Reach::Forward(number, to) => {
            trace.note(|| format!("forwards to {to}"));
            let mut decision = base_decision(number, clinic, at);
            decision.trace = trace.lines;
            decision.outcome = Outcome::bare(OutcomeKind::Forward);
            decision.handler = Some(Handler {
                kind: HandlerKind::Forward,
                id: None,
                name: Some(Cow::Borrowed(to)),
            });
            decision.action = forward_plan(to, call);
            return decision;
        }
    };
    let mut decision = base_decision(number, clinic, at);
    let local = local_wall_time(number.tz, at);
    trace.note(|| {
        format!(
            "local time {} ({})",
            decision.local_time().unwrap_or_default(),
            number.tz.name()
        )
    });
    let rule = rule_at(number, at, local);
    let outcome = match rule {
        Rule::Override(hold) => {
            let until = number
                .tz
                .timestamp_opt(hold.until, 0)
                .single()
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, false))
                .unwrap_or_default();
            let (kind, words) = match hold.state {
                OverrideState::Closed => (OutcomeKind::ClosedUntil, "closed"),
                OverrideState::Open => (OutcomeKind::OpenUntil, "open"),
            };
            trace.note(|| format!("{words} until {until}: the schedules and closures wait"));
            Outcome {
                kind,
                id: None,
                name: Some(Cow::Owned(until)),
            }
        }
        Rule::Closure(index, _) => {
            let closure = &number.closures[index];
            trace.note(|| {
                let minute = crate::schedule::minute_of_day(local);
                format!(
                    "closure {} covers {} {:02}:{:02}",
                    number.text(closure.name),
                    local.date(),
                    minute / 60,
                    minute % 60
                )
            });
            if closure.action.is_none() {
                trace
                    .note(|| "the closure has no action: the off-hours handler answers".to_owned());
            }
            Outcome {
                kind: OutcomeKind::Closure,
                id: closure.id.map(|id| Cow::Borrowed(number.text(id))),
                name: Some(Cow::Borrowed(number.text(closure.name))),
            }
        }
        Rule::Assistant(index) => {
            let assistant = clinic.assistant(index);
            trace.note(|| "no closure applies".to_owned());
            trace.note(|| format!("assistant {} is scheduled", assistant.name));
            Outcome {
                kind: OutcomeKind::Assistant,
                id: Some(Cow::Borrowed(&assistant.id)),
                name: Some(Cow::Borrowed(&assistant.name)),
            }
        }
        Rule::RingGroup(index) => {
            let group = &number.ring_groups[usize::from(index)];
            trace.note(|| "no closure applies; no assistant is scheduled".to_owned());
            trace.note(|| format!("ring group {} is scheduled", number.text(group.name)));
            Outcome {
                kind: OutcomeKind::RingGroup,
                id: group.id.map(|id| Cow::Borrowed(number.text(id))),
                name: Some(Cow::Borrowed(number.text(group.name))),
            }
        }
        Rule::OffHours(_) => {
            trace.note(|| "no closure, assistant or ring group is scheduled".to_owned());
            Outcome::bare(OutcomeKind::OffHours)
        }
    };
    let (handler, plan) = run(clinic, number, rule.action(), step, call, at, &mut trace);
    decision.outcome = if step == 0 {
        outcome
    } else {
        Outcome {
            kind: match handler.kind {
                HandlerKind::Assistant => OutcomeKind::Assistant,
                HandlerKind::RingGroup => OutcomeKind::RingGroup,
                HandlerKind::Voicemail => OutcomeKind::Voicemail,
                HandlerKind::Forward => OutcomeKind::Forward,
                HandlerKind::Message => OutcomeKind::Message,
                HandlerKind::Hangup => OutcomeKind::Hangup,
            },
            id: handler.id.clone(),
            name: handler.name.clone(),
        }
    };
    decision.handler = Some(handler);
    decision.trace = trace.lines;
    decision.action = plan;
    decision
}

/// Runs a handler after `step` dials ended unanswered: skips the dials
/// already made (moving through `on_no_answer`) and plans the next verb.
fn run<'a>(
    clinic: &'a ClinicEntry,
    number: &'a NumberEntry,
    first: FirstAction,
    step: u16,
    call: &VoiceCall<'a>,
    at: DateTime<Utc>,
    trace: &mut Trace,
) -> (Handler<'a>, TwimlPlan<'a>) {
    let mut remaining = step;
    let mut current = first;
    let mut hand_overs = 0;
    loop {
        let action = match current {
            FirstAction::Assistant(index) => {
                return assistant_plan(clinic, number, index, call, trace);
            }
            FirstAction::RingGroup(index) => {
                let group = &number.ring_groups[usize::from(index)];
                let group_members = number.members_of(group);
                let dials = match (group.strategy, group_members.len()) {
                    (_, 0) => 0,
                    (Strategy::Simultaneous, _) => 1,
                    (Strategy::Sequential, count) => count as u16,
                };
                if remaining < dials {
                    let members: Vec<DialTarget> = match group.strategy {
                        Strategy::Simultaneous => group_members
                            .iter()
                            .map(|member| dial_target(number, member))
                            .collect(),
                        Strategy::Sequential => group_members
                            .get(usize::from(remaining))
                            .map(|member| dial_target(number, member))
                            .into_iter()
                            .collect(),
                    };
                    trace.note(|| match group.strategy {
                        Strategy::Simultaneous => format!(
                            "ring group {}: ring {} members for {} s",
                            number.text(group.name),
                            members.len(),
                            group.ring_seconds
                        ),
                        Strategy::Sequential => format!(
                            "ring group {}: ring member {} of {} for {} s",
                            number.text(group.name),
                            remaining + 1,
                            group_members.len(),
                            group.ring_seconds
                        ),
                    });
                    let plan = TwimlPlan::Dial(DialPlan {
                        targets: members,
                        timeout: Some(group.ring_seconds),
                        caller_id: None,
                        answer_on_bridge: true,
                        continuation: Some(Continuation {
                            number_id: Cow::Borrowed(number.id()),
                            instant: at.timestamp(),
                            step,
                        }),
                        confirm: group
                            .confirm
                            .map(|prompt| Cow::Borrowed(number.text(prompt))),
                    });
                    if group.confirm.is_some() {
                        trace.note(|| "each member presses 1 to accept".to_owned());
                    }
                    return (ring_group_handler(number, index), plan);
                }
                remaining -= dials;
                hand_overs += 1;
                let name = number.text(group.name);
                let next = match &group.on_no_answer {
                    Some(action) => {
                        trace.note(|| {
                            format!("ring group {name}: nobody answered, on_no_answer runs")
                        });
                        action
                    }
                    None if number.off_hours == CompiledAction::RingGroup(index) => {
                        trace.note(|| {
                            format!(
                                "ring group {name}: nobody answered; it is the off-hours handler, so voicemail"
                            )
                        });
                        &CompiledAction::Voicemail(None)
                    }
                    None => {
                        trace.note(|| {
                            format!(
                                "ring group {name}: nobody answered, the off-hours handler answers"
                            )
                        });
                        &number.off_hours
                    }
                };
                if hand_overs > MAX_HAND_OVERS {
                    trace.note(|| "on_no_answer chain loops: voicemail".to_owned());
                    &CompiledAction::Voicemail(None)
                } else {
                    next
                }
            }
            FirstAction::Action(action) => action,
        };
        let handler = || action_handler(clinic, number, action);
        match action {
            CompiledAction::Assistant(index) => current = FirstAction::Assistant(*index),
            CompiledAction::RingGroup(index) => current = FirstAction::RingGroup(*index),
            CompiledAction::Voicemail(greeting) => {
                trace.note(|| "voicemail".to_owned());
                let greeting = greeting.map_or(DEFAULT_VOICEMAIL_GREETING, |g| number.text(g));
                return (
                    handler(),
                    TwimlPlan::Voicemail {
                        greeting: Cow::Borrowed(greeting),
                    },
                );
            }
            CompiledAction::Unavailable(reason) => {
                trace.note(|| format!("{}: voicemail", number.text(*reason)));
                return (
                    handler(),
                    TwimlPlan::Voicemail {
                        greeting: Cow::Borrowed(DEFAULT_VOICEMAIL_GREETING),
                    },
                );
            }
            CompiledAction::Forward(to) => {
                let to = number.text(*to);
                trace.note(|| format!("forward to {to}"));
                return (handler(), forward_plan(to, call));
            }
            CompiledAction::Message(text) => {
                trace.note(|| "say a message and hang up".to_owned());
                return (
                    handler(),
                    TwimlPlan::Say {
                        text: Cow::Borrowed(number.text(*text)),
                    },
                );
            }
            CompiledAction::Hangup => {
                trace.note(|| "hang up".to_owned());
                return (handler(), TwimlPlan::Hangup);
            }
        }
    }
}

fn dial_target<'a>(number: &'a NumberEntry, member: &CompiledMember) -> DialTarget<'a> {
    match *member {
        CompiledMember::Number(n) => DialTarget::Number(Cow::Borrowed(number.text(n))),
        CompiledMember::Sip(uri) => DialTarget::Sip(Cow::Borrowed(number.text(uri))),
        CompiledMember::Client(name) => DialTarget::Client(Cow::Borrowed(number.text(name))),
    }
}

/// Dial an external number with the caller's own number as caller ID (when
/// it is a number; `anonymous` or `client:…` cannot be a caller ID).
fn forward_plan<'a>(to: &'a str, call: &VoiceCall<'a>) -> TwimlPlan<'a> {
    TwimlPlan::Dial(DialPlan {
        targets: vec![DialTarget::Number(Cow::Borrowed(to))],
        timeout: None,
        caller_id: is_e164(call.from).then_some(Cow::Borrowed(call.from)),
        answer_on_bridge: true,
        continuation: None,
        confirm: None,
    })
}

/// Stream parameters the service sets itself; an assistant's own of the
/// same name are dropped.
const RESERVED_STREAM_PARAMETERS: [&str; 4] = ["clinic_id", "number_id", "caller", "called"];

fn assistant_plan<'a>(
    clinic: &'a ClinicEntry,
    number: &'a NumberEntry,
    index: u32,
    call: &VoiceCall<'a>,
    trace: &mut Trace,
) -> (Handler<'a>, TwimlPlan<'a>) {
    let assistant = clinic.assistant(index);
    let AssistantKind::Voice { target } = &assistant.kind else {
        // The snapshot only binds voice assistants; kept total all the same.
        trace.note(|| {
            format!(
                "assistant {} is not a voice assistant: voicemail",
                assistant.name
            )
        });
        return (
            Handler::bare(HandlerKind::Voicemail),
            TwimlPlan::Voicemail {
                greeting: Cow::Borrowed(DEFAULT_VOICEMAIL_GREETING),
            },
        );
    };
    trace.note(|| format!("assistant {} answers", assistant.name));
    let url = Cow::Borrowed(target.url.as_str());
    let plan = match target.kind {
        VoiceTargetType::Stream => {
            let own = target.parameters.iter().flatten();
            let mut parameters: Vec<(Text, Text)> = Vec::with_capacity(
                target.parameters.as_ref().map_or(0, |p| p.len())
                    + RESERVED_STREAM_PARAMETERS.len(),
            );
            parameters.extend(
                own.filter(|(name, _)| !RESERVED_STREAM_PARAMETERS.contains(&name.as_str()))
                    .map(|(name, value)| {
                        (Cow::Borrowed(name.as_str()), Cow::Borrowed(value.as_str()))
                    }),
            );
            for (name, value) in RESERVED_STREAM_PARAMETERS.into_iter().zip([
                clinic.id(),
                number.id(),
                call.from,
                call.to,
            ]) {
                parameters.push((Cow::Borrowed(name), Cow::Borrowed(value)));
            }
            TwimlPlan::Stream { url, parameters }
        }
        VoiceTargetType::Sip => TwimlPlan::Dial(DialPlan {
            targets: vec![DialTarget::Sip(url)],
            timeout: None,
            caller_id: None,
            answer_on_bridge: true,
            continuation: None,
            confirm: None,
        }),
        VoiceTargetType::Redirect => TwimlPlan::Redirect { url },
    };
    (assistant_handler(clinic, index), plan)
}
