//! Resolution: who takes a call or a text, following routing.md's order.
//!
//! [`resolve_voice`] applies the seven rules of routing.md in order for a call
//! at an instant; [`continue_voice`] takes the call on after a `<Dial>` ended,
//! recomputing from the ORIGINAL instant (carried in the [`Continuation`]), so
//! a call that began at 16:59:50 finishes on the 16:59 rules.
//!
//! A call's progress is one number: how many dials have ended unanswered
//! (`step`). Given the resolving number, the instant and the step, the next
//! TwiML is a pure function of the snapshot, so any replica can serve any
//! continuation and simulate can replay played outcomes with the same code.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ContinuationError;
use crate::model::{AssistantKind, Lifecycle, Strategy, VoiceTargetType};
use crate::schedule::local_wall_time;
use crate::snapshot::{
    ClinicEntry, CompiledAction, CompiledForwarding, CompiledMember, MAX_LINK_HOPS, NumberEntry,
    Snapshot, WeekRule,
};
use crate::validate::E164;

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

/// The rule or handler that took a call (api.md simulate `outcome.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    Reject,
    Forward,
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
            OutcomeKind::Forward => "forward",
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

/// api.md's `outcome`: `{kind, id, name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub kind: OutcomeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Outcome {
    fn bare(kind: OutcomeKind) -> Outcome {
        Outcome {
            kind,
            id: None,
            name: None,
        }
    }
}

/// Who answers (api.md `handler.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlerKind {
    Assistant,
    RingGroup,
    Voicemail,
    Forward,
    Message,
    Hangup,
}

/// api.md's `handler`: `{type, id, name}`. For a forward, `name` is the number dialled.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Handler {
    #[serde(rename = "type")]
    pub kind: HandlerKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The clinic's `voice` and `language`, put on every `<Say>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Speech {
    pub voice: Option<String>,
    pub language: Option<String>,
}

/// One noun of a `<Dial>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialTarget {
    Number(String),
    Sip(String),
    Client(String),
}

/// A `<Dial>` to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialPlan {
    pub targets: Vec<DialTarget>,
    /// `timeout` in seconds; Twilio's default when `None`.
    pub timeout: Option<u16>,
    pub caller_id: Option<String>,
    pub answer_on_bridge: bool,
    /// Where the call stands, for the `action` URL; `None` when the dial
    /// cannot move on.
    pub continuation: Option<Continuation>,
}

/// What to render as TwiML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwimlPlan {
    /// `<Reject reason="busy"/>`: not answered, not billed.
    Reject,
    /// `<Dial>` numbers, SIP or clients.
    Dial(DialPlan),
    /// `<Connect><Stream url>` with `<Parameter>`s.
    Stream {
        url: String,
        parameters: Vec<(String, String)>,
    },
    /// `<Redirect method="POST">` to a TwiML URL.
    Redirect { url: String },
    /// `<Say>` greeting, `<Record>`, `<Hangup/>`.
    Voicemail { greeting: String },
    /// `<Say>` text, `<Hangup/>`.
    Say { text: String },
    /// `<Hangup/>`.
    Hangup,
    /// Messaging: `<Redirect method="POST">` to the texting assistant.
    SmsRedirect { url: String },
    /// Messaging: one `<Message>`.
    SmsMessage { text: String },
    /// Messaging: an empty `<Response/>`.
    SmsEmpty,
}

/// The answer to a call or text at an instant, with its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    pub handler: Option<Handler>,
    pub resolved_number_id: Option<String>,
    pub clinic_id: Option<String>,
    pub location_id: Option<String>,
    /// IANA name of the effective timezone.
    pub timezone: Option<String>,
    /// RFC 3339 local time with offset, e.g. `2026-11-26T10:00:00-05:00`.
    pub local_time: Option<String>,
    /// Every rule considered, in order, for people.
    pub trace: Vec<String>,
    pub speech: Speech,
    pub action: TwimlPlan,
}

/// The `DialCallStatus` Twilio posts when a `<Dial>` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DialStatus {
    Completed,
    Answered,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
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

    /// Twilio's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
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
pub struct Continuation {
    pub number_id: String,
    /// Unix seconds of the call's original instant.
    pub instant: i64,
    /// Dials that ended unanswered before the one carrying this continuation.
    pub step: u16,
}

const CONTINUATION_VERSION: &str = "1";

impl Continuation {
    /// A compact, URL-safe text: `1.<step>.<instant base36>.<id>`, where the
    /// id keeps `[A-Za-z0-9-]` and writes any other byte as `_XX` (hex), so the
    /// result holds only unreserved URL characters and needs no escaping.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(16 + self.number_id.len());
        out.push_str(CONTINUATION_VERSION);
        out.push('.');
        out.push_str(&self.step.to_string());
        out.push('.');
        push_base36(&mut out, self.instant);
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
        out
    }

    /// Reads what [`Continuation::encode`] wrote; anything else is an error.
    pub fn decode(s: &str) -> Result<Continuation, ContinuationError> {
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
            number_id,
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

/// Resolves a call to `call.to` at instant `at` (routing.md "Order of resolution").
pub fn resolve_voice(s: &Snapshot, call: &VoiceCall, at: DateTime<Utc>) -> Decision {
    let Some(number) = s.number_by_e164(call.to) else {
        return reject(vec![format!("no number matches {}", call.to)], None, None);
    };
    route(
        s,
        number,
        call,
        at,
        0,
        vec![format!("call to {}", number.e164())],
    )
}

/// Takes a call on after a `<Dial>` ended with `status`, from the original
/// instant carried by the continuation.
pub fn continue_voice(
    s: &Snapshot,
    c: &Continuation,
    status: DialStatus,
    call: &VoiceCall,
) -> Decision {
    let at = DateTime::<Utc>::from_timestamp(c.instant, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let number = s.number_by_id(&c.number_id);
    if status.was_answered() {
        // Somebody took the call: it ends, whatever became of the number.
        let mut decision = match number {
            Some(number) => base_decision(s, number, s.clinic_of(number), at),
            None => error_decision(Vec::new(), None),
        };
        decision.trace = vec![format!("dial {status}: the call is over")];
        decision.outcome = Outcome::bare(OutcomeKind::Hangup);
        decision.handler = Some(hangup_handler());
        decision.action = TwimlPlan::Hangup;
        return decision;
    }
    let Some(number) = number else {
        return error_decision(
            vec![format!(
                "continuation names number {}, which is gone",
                c.number_id
            )],
            None,
        );
    };
    let step = c.step.saturating_add(1);
    route(
        s,
        number,
        call,
        at,
        step,
        vec![format!("dial {status} at step {}: moving on", c.step)],
    )
}

/// Resolves a text to `to` (routing.md "Messages (SMS)").
pub fn resolve_sms(s: &Snapshot, to: &str, from: &str) -> Decision {
    let _ = from;
    let Some(number) = s.number_by_e164(to) else {
        return sms_ignore(vec![format!("no number matches {to}")], None, None);
    };
    let clinic = s.clinic_of(number);
    if number.lifecycle != Lifecycle::Active {
        return sms_ignore(
            vec![format!("number {} is {}", number.e164(), number.lifecycle)],
            Some(number),
            Some(clinic),
        );
    }
    if let Some((id, url)) = &clinic.texting {
        let name = clinic
            .assistants
            .iter()
            .find(|a| a.id == *id)
            .map(|a| a.name.to_string());
        let mut decision = sms_ignore(
            vec![format!(
                "texting assistant {} handles SMS",
                name.as_deref().unwrap_or(id)
            )],
            Some(number),
            Some(clinic),
        );
        decision.outcome = Outcome {
            kind: OutcomeKind::SmsAssistant,
            id: Some(id.to_string()),
            name: name.clone(),
        };
        decision.handler = Some(Handler {
            kind: HandlerKind::Assistant,
            id: Some(id.to_string()),
            name,
        });
        decision.action = TwimlPlan::SmsRedirect {
            url: url.to_string(),
        };
        return decision;
    }
    if let Some(reply) = &clinic.sms_auto_reply {
        let mut decision = sms_ignore(
            vec!["no texting assistant: the clinic's auto-reply answers".to_owned()],
            Some(number),
            Some(clinic),
        );
        decision.outcome = Outcome::bare(OutcomeKind::SmsReply);
        decision.handler = Some(Handler {
            kind: HandlerKind::Message,
            id: None,
            name: None,
        });
        decision.action = TwimlPlan::SmsMessage {
            text: reply.to_string(),
        };
        return decision;
    }
    sms_ignore(
        vec!["no texting assistant and no auto-reply: no answer".to_owned()],
        Some(number),
        Some(clinic),
    )
}

fn sms_ignore(
    trace: Vec<String>,
    number: Option<&NumberEntry>,
    clinic: Option<&ClinicEntry>,
) -> Decision {
    Decision {
        outcome: Outcome::bare(OutcomeKind::SmsIgnore),
        handler: None,
        resolved_number_id: number.map(|n| n.id().to_owned()),
        clinic_id: clinic.map(|c| c.id().to_owned()),
        location_id: number.and_then(|n| n.location_id().map(str::to_owned)),
        timezone: number.map(|n| n.tz.name().to_owned()),
        local_time: None,
        trace,
        speech: clinic.map(speech_of).unwrap_or_default(),
        action: TwimlPlan::SmsEmpty,
    }
}

fn reject(
    trace: Vec<String>,
    number: Option<&NumberEntry>,
    clinic: Option<&ClinicEntry>,
) -> Decision {
    Decision {
        outcome: Outcome::bare(OutcomeKind::Reject),
        handler: None,
        resolved_number_id: number.map(|n| n.id().to_owned()),
        clinic_id: clinic.map(|c| c.id().to_owned()),
        location_id: number.and_then(|n| n.location_id().map(str::to_owned)),
        timezone: None,
        local_time: None,
        trace,
        speech: clinic.map(speech_of).unwrap_or_default(),
        action: TwimlPlan::Reject,
    }
}

fn error_decision(mut trace: Vec<String>, clinic: Option<&ClinicEntry>) -> Decision {
    trace.push("apologise and hang up".to_owned());
    Decision {
        outcome: Outcome::bare(OutcomeKind::Error),
        handler: Some(hangup_handler()),
        resolved_number_id: None,
        clinic_id: clinic.map(|c| c.id().to_owned()),
        location_id: None,
        timezone: None,
        local_time: None,
        trace,
        speech: clinic.map(speech_of).unwrap_or_default(),
        action: TwimlPlan::Say {
            text: APOLOGY.to_owned(),
        },
    }
}

fn hangup_handler() -> Handler {
    Handler {
        kind: HandlerKind::Hangup,
        id: None,
        name: None,
    }
}

fn speech_of(clinic: &ClinicEntry) -> Speech {
    Speech {
        voice: clinic.voice().map(str::to_owned),
        language: clinic.language().map(str::to_owned),
    }
}

fn base_decision(
    s: &Snapshot,
    number: &NumberEntry,
    clinic: &ClinicEntry,
    at: DateTime<Utc>,
) -> Decision {
    let _ = s;
    Decision {
        outcome: Outcome::bare(OutcomeKind::Hangup),
        handler: None,
        resolved_number_id: Some(number.id().to_owned()),
        clinic_id: Some(clinic.id().to_owned()),
        location_id: number.location_id().map(str::to_owned),
        timezone: Some(number.tz.name().to_owned()),
        local_time: Some(
            number
                .tz
                .from_utc_datetime(&at.naive_utc())
                .to_rfc3339_opts(SecondsFormat::Secs, false),
        ),
        trace: Vec::new(),
        speech: speech_of(clinic),
        action: TwimlPlan::Hangup,
    }
}

/// The rule of routing.md that takes a call at a local time (rules 4 to 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule<'a> {
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

/// Rules 4 to 7 at a local wall time: the first that applies.
pub(crate) fn rule_at(number: &NumberEntry, local: NaiveDateTime) -> Rule<'_> {
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
pub(crate) fn first_handler(
    clinic: &ClinicEntry,
    number: &NumberEntry,
    first: FirstAction,
) -> Handler {
    match first {
        FirstAction::Assistant(index) => assistant_handler(clinic, index),
        FirstAction::RingGroup(index) => ring_group_handler(number, index),
        FirstAction::Action(action) => action_handler(clinic, number, action),
    }
}

fn assistant_handler(clinic: &ClinicEntry, index: u32) -> Handler {
    let assistant = clinic.assistant(index);
    Handler {
        kind: HandlerKind::Assistant,
        id: Some(assistant.id.to_string()),
        name: Some(assistant.name.to_string()),
    }
}

fn ring_group_handler(number: &NumberEntry, index: u16) -> Handler {
    let group = &number.ring_groups[usize::from(index)];
    Handler {
        kind: HandlerKind::RingGroup,
        id: group.id.map(|id| number.text(id).to_owned()),
        name: Some(number.text(group.name).to_owned()),
    }
}

fn action_handler(clinic: &ClinicEntry, number: &NumberEntry, action: &CompiledAction) -> Handler {
    let bare = |kind| Handler {
        kind,
        id: None,
        name: None,
    };
    match action {
        CompiledAction::Assistant(index) => assistant_handler(clinic, *index),
        CompiledAction::RingGroup(index) => ring_group_handler(number, *index),
        CompiledAction::Voicemail(_) | CompiledAction::Unavailable(_) => {
            bare(HandlerKind::Voicemail)
        }
        CompiledAction::Forward(to) => Handler {
            kind: HandlerKind::Forward,
            id: None,
            name: Some(number.text(*to).to_owned()),
        },
        CompiledAction::Message(_) => bare(HandlerKind::Message),
        CompiledAction::Hangup => bare(HandlerKind::Hangup),
    }
}

/// Where a call ends up once links are followed.
pub(crate) enum Reach<'a> {
    /// Not routable: reject, with the reason.
    Reject(String),
    /// Forwarded to an external number.
    Forward(&'a NumberEntry, &'a str),
    /// A link cycle, a chain too long or a broken link.
    Broken(String),
    /// The number whose rules apply.
    Number(&'a NumberEntry),
}

/// Rules 1 and 2: lifecycle and forwarding, following links.
pub(crate) fn follow_links<'a>(
    s: &'a Snapshot,
    start: &'a NumberEntry,
    trace: &mut Vec<String>,
) -> Reach<'a> {
    let mut number = start;
    for _ in 0..=MAX_LINK_HOPS {
        if number.lifecycle != Lifecycle::Active {
            return Reach::Reject(format!("number {} is {}", number.e164(), number.lifecycle));
        }
        match &number.forwarding {
            CompiledForwarding::None => return Reach::Number(number),
            CompiledForwarding::External(to) => return Reach::Forward(number, number.text(*to)),
            CompiledForwarding::Broken(target) => {
                return Reach::Broken(format!(
                    "number {} forwards to {}, which cannot be followed",
                    number.e164(),
                    number.text(*target)
                ));
            }
            CompiledForwarding::Pending(_) => {
                return Reach::Broken(format!("number {} links nowhere", number.e164()));
            }
            CompiledForwarding::Link(next) => {
                let next = s.number_at(*next);
                trace.push(format!("linked {} → {}", number.e164(), next.e164()));
                number = next;
            }
        }
    }
    Reach::Broken(format!(
        "links from {} loop or chain more than {MAX_LINK_HOPS} numbers",
        start.e164()
    ))
}

/// The whole order of resolution from a number, after `step` unanswered dials.
fn route(
    s: &Snapshot,
    start: &NumberEntry,
    call: &VoiceCall,
    at: DateTime<Utc>,
    step: u16,
    mut trace: Vec<String>,
) -> Decision {
    start.warm_up();
    let clinic = s.clinic_of(start);
    std::hint::black_box(clinic.id().as_bytes().first());
    let number = match follow_links(s, start, &mut trace) {
        Reach::Number(number) => number,
        Reach::Reject(reason) => {
            trace.push(reason);
            trace.push("reject".to_owned());
            return reject(trace, Some(start), Some(clinic));
        }
        Reach::Broken(reason) => {
            trace.push(reason);
            let mut decision = error_decision(trace, Some(clinic));
            decision.resolved_number_id = Some(start.id().to_owned());
            return decision;
        }
        Reach::Forward(number, to) => {
            trace.push(format!("forwards to {to}"));
            let mut decision = base_decision(s, number, clinic, at);
            decision.trace = trace;
            decision.outcome = Outcome::bare(OutcomeKind::Forward);
            decision.handler = Some(Handler {
                kind: HandlerKind::Forward,
                id: None,
                name: Some(to.to_owned()),
            });
            decision.action = forward_plan(to, call);
            return decision;
        }
    };
    let mut decision = base_decision(s, number, clinic, at);
    let local = local_wall_time(number.tz, at);
    let local_text = decision.local_time.as_deref().unwrap_or_default();
    trace.push(format!("local time {local_text} ({})", number.tz.name()));
    let rule = rule_at(number, local);
    let outcome = match rule {
        Rule::Closure(index, _) => {
            let closure = &number.closures[index];
            let minute = crate::schedule::minute_of_day(local);
            trace.push(format!(
                "closure {} covers {} {:02}:{:02}",
                number.text(closure.name),
                local.date(),
                minute / 60,
                minute % 60
            ));
            if closure.action.is_none() {
                trace.push("the closure has no action: the off-hours handler answers".to_owned());
            }
            Outcome {
                kind: OutcomeKind::Closure,
                id: closure.id.map(|id| number.text(id).to_owned()),
                name: Some(number.text(closure.name).to_owned()),
            }
        }
        Rule::Assistant(index) => {
            let assistant = clinic.assistant(index);
            trace.push("no closure applies".to_owned());
            trace.push(format!("assistant {} is scheduled", assistant.name));
            Outcome {
                kind: OutcomeKind::Assistant,
                id: Some(assistant.id.to_string()),
                name: Some(assistant.name.to_string()),
            }
        }
        Rule::RingGroup(index) => {
            let group = &number.ring_groups[usize::from(index)];
            trace.push("no closure applies; no assistant is scheduled".to_owned());
            trace.push(format!(
                "ring group {} is scheduled",
                number.text(group.name)
            ));
            Outcome {
                kind: OutcomeKind::RingGroup,
                id: group.id.map(|id| number.text(id).to_owned()),
                name: Some(number.text(group.name).to_owned()),
            }
        }
        Rule::OffHours(_) => {
            trace.push("no closure, assistant or ring group is scheduled".to_owned());
            Outcome::bare(OutcomeKind::OffHours)
        }
    };
    let (handler, plan) = run(s, clinic, number, rule.action(), step, call, at, &mut trace);
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
    decision.trace = trace;
    decision.action = plan;
    decision
}

/// Runs a handler after `step` dials ended unanswered: skips the dials
/// already made (moving through `on_no_answer`) and plans the next verb.
#[allow(clippy::too_many_arguments)]
fn run(
    s: &Snapshot,
    clinic: &ClinicEntry,
    number: &NumberEntry,
    first: FirstAction,
    step: u16,
    call: &VoiceCall,
    at: DateTime<Utc>,
    trace: &mut Vec<String>,
) -> (Handler, TwimlPlan) {
    let _ = s;
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
                    trace.push(match group.strategy {
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
                            number_id: number.id().to_owned(),
                            instant: at.timestamp(),
                            step,
                        }),
                    });
                    return (ring_group_handler(number, index), plan);
                }
                remaining -= dials;
                hand_overs += 1;
                let next = match &group.on_no_answer {
                    Some(action) => {
                        trace.push(format!(
                            "ring group {}: nobody answered, on_no_answer runs",
                            number.text(group.name)
                        ));
                        action
                    }
                    None if number.off_hours == CompiledAction::RingGroup(index) => {
                        trace.push(format!(
                            "ring group {}: nobody answered; it is the off-hours handler, so voicemail",
                            number.text(group.name)
                        ));
                        &CompiledAction::Voicemail(None)
                    }
                    None => {
                        trace.push(format!(
                            "ring group {}: nobody answered, the off-hours handler answers",
                            number.text(group.name)
                        ));
                        &number.off_hours
                    }
                };
                if hand_overs > MAX_HAND_OVERS {
                    trace.push("on_no_answer chain loops: voicemail".to_owned());
                    &CompiledAction::Voicemail(None)
                } else {
                    next
                }
            }
            FirstAction::Action(action) => action,
        };
        match action {
            CompiledAction::Assistant(index) => current = FirstAction::Assistant(*index),
            CompiledAction::RingGroup(index) => current = FirstAction::RingGroup(*index),
            CompiledAction::Voicemail(greeting) => {
                trace.push("voicemail".to_owned());
                return (
                    action_handler(clinic, number, action),
                    TwimlPlan::Voicemail {
                        greeting: greeting
                            .map_or(DEFAULT_VOICEMAIL_GREETING, |g| number.text(g))
                            .to_owned(),
                    },
                );
            }
            CompiledAction::Unavailable(reason) => {
                trace.push(format!("{}: voicemail", number.text(*reason)));
                return (
                    action_handler(clinic, number, action),
                    TwimlPlan::Voicemail {
                        greeting: DEFAULT_VOICEMAIL_GREETING.to_owned(),
                    },
                );
            }
            CompiledAction::Forward(to) => {
                let to = number.text(*to);
                trace.push(format!("forward to {to}"));
                return (
                    action_handler(clinic, number, action),
                    forward_plan(to, call),
                );
            }
            CompiledAction::Message(text) => {
                trace.push("say a message and hang up".to_owned());
                return (
                    action_handler(clinic, number, action),
                    TwimlPlan::Say {
                        text: number.text(*text).to_owned(),
                    },
                );
            }
            CompiledAction::Hangup => {
                trace.push("hang up".to_owned());
                return (action_handler(clinic, number, action), TwimlPlan::Hangup);
            }
        }
    }
}

fn dial_target(number: &NumberEntry, member: &CompiledMember) -> DialTarget {
    match *member {
        CompiledMember::Number(n) => DialTarget::Number(number.text(n).to_owned()),
        CompiledMember::Sip(uri) => DialTarget::Sip(number.text(uri).to_owned()),
        CompiledMember::Client(name) => DialTarget::Client(number.text(name).to_owned()),
    }
}

/// Dial an external number with the caller's own number as caller ID (when
/// it is a number; `anonymous` or `client:…` cannot be a caller ID).
fn forward_plan(to: &str, call: &VoiceCall) -> TwimlPlan {
    TwimlPlan::Dial(DialPlan {
        targets: vec![DialTarget::Number(to.to_owned())],
        timeout: None,
        caller_id: E164::parse(call.from).ok().map(E164::into_inner),
        answer_on_bridge: true,
        continuation: None,
    })
}

fn assistant_plan(
    clinic: &ClinicEntry,
    number: &NumberEntry,
    index: u32,
    call: &VoiceCall,
    trace: &mut Vec<String>,
) -> (Handler, TwimlPlan) {
    let assistant = clinic.assistant(index);
    let handler = assistant_handler(clinic, index);
    let AssistantKind::Voice { target } = &assistant.kind else {
        // The snapshot only binds voice assistants; kept total all the same.
        trace.push(format!(
            "assistant {} is not a voice assistant: voicemail",
            assistant.name
        ));
        return (
            Handler {
                kind: HandlerKind::Voicemail,
                id: None,
                name: None,
            },
            TwimlPlan::Voicemail {
                greeting: DEFAULT_VOICEMAIL_GREETING.to_owned(),
            },
        );
    };
    trace.push(format!("assistant {} answers", assistant.name));
    let plan = match target.kind {
        VoiceTargetType::Stream => {
            let reserved = ["clinic_id", "number_id", "caller", "called"];
            let mut parameters: Vec<(String, String)> = target
                .parameters
                .iter()
                .flatten()
                .filter(|(name, _)| !reserved.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            parameters.push(("clinic_id".to_owned(), clinic.id().to_owned()));
            parameters.push(("number_id".to_owned(), number.id().to_owned()));
            parameters.push(("caller".to_owned(), call.from.to_owned()));
            parameters.push(("called".to_owned(), call.to.to_owned()));
            TwimlPlan::Stream {
                url: target.url.clone(),
                parameters,
            }
        }
        VoiceTargetType::Sip => TwimlPlan::Dial(DialPlan {
            targets: vec![DialTarget::Sip(target.url.clone())],
            timeout: None,
            caller_id: None,
            answer_on_bridge: true,
            continuation: None,
        }),
        VoiceTargetType::Redirect => TwimlPlan::Redirect {
            url: target.url.clone(),
        },
    };
    (handler, plan)
}

/// Resolves a call placed to a given number of the snapshot (as
/// [`resolve_voice`] does once it found the number by `To`).
pub fn route_from_number(
    s: &Snapshot,
    number: &NumberEntry,
    call: &VoiceCall,
    at: DateTime<Utc>,
) -> Decision {
    route(
        s,
        number,
        call,
        at,
        0,
        vec![format!("call to {}", number.e164())],
    )
}
