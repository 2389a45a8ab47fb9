//! Coverage (`docs/api.md`, "Coverage"): who answers when, over whole local
//! days.
//!
//! The range `[start 00:00, start+days 00:00)` of the number's wall clock is
//! walked minute by minute in UTC (every offset in use is a whole number of
//! minutes, so a UTC minute is a local minute), each minute classified with
//! the very function `resolve` uses, and adjacent minutes with the same kind
//! and handler merged. A DST change therefore shows as an offset change
//! between or inside segments, a skipped hour simply has no minutes, and a
//! repeated hour is walked twice. 62 days are under 90 000 minutes, a few
//! milliseconds of work.

use std::borrow::Cow;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{FieldError, PreviewError};
use crate::model::OverrideState;
use crate::resolve::{
    FirstAction, Handler, HandlerKind, OutcomeKind, Reach, Rule, Trace, first_handler,
    follow_links, rule_at, scheduled_rule_at,
};
use crate::schedule::local_wall_time;
use crate::snapshot::{CompiledAction, NumberEntry, Snapshot};

/// The most days one coverage request may span.
pub const MAX_COVERAGE_DAYS: u32 = 62;

/// The coverage response of `docs/api.md` ("Coverage").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CoverageResponse {
    pub timezone: String,
    pub segments: Vec<Segment>,
    pub warnings: Vec<String>,
}

/// A maximal run of time with one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Segment {
    /// RFC 3339 with the local UTC offset.
    pub start: String,
    /// RFC 3339 with the local UTC offset, exclusive.
    pub end: String,
    /// The rule that answers, as in simulate.
    pub kind: OutcomeKind,
    /// Who answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<Handler<'static>>,
}

/// The wall clock of the number that answers for `number_id` (the end of
/// its links; the number itself when they cannot be followed).
pub fn wall_clock(s: &Snapshot, number_id: &str) -> Result<Tz, PreviewError> {
    let number = s
        .number_by_id(number_id)
        .ok_or_else(|| PreviewError::NumberNotFound(number_id.to_owned()))?;
    let resolving = match follow_links(s, number, &mut Trace::quiet()) {
        Reach::Number(resolving) | Reach::Forward(resolving, _) => resolving,
        Reach::Reject(_) | Reach::Broken(_) => number,
    };
    Ok(resolving.timezone())
}

/// Today on the [`wall_clock`] of `number_id` at `now`: where a coverage
/// starts when not told.
pub fn local_today(
    s: &Snapshot,
    number_id: &str,
    now: DateTime<Utc>,
) -> Result<NaiveDate, PreviewError> {
    Ok(now.with_timezone(&wall_clock(s, number_id)?).date_naive())
}

/// The coverage of a number over `days` local days from `start`.
pub fn coverage(
    s: &Snapshot,
    number_id: &str,
    start: NaiveDate,
    days: u32,
) -> Result<CoverageResponse, PreviewError> {
    if !(1..=MAX_COVERAGE_DAYS).contains(&days) {
        return Err(PreviewError::Invalid(FieldError::new(
            "days",
            format!("days must be 1 to {MAX_COVERAGE_DAYS}"),
        )));
    }
    let number = s
        .number_by_id(number_id)
        .ok_or_else(|| PreviewError::NumberNotFound(number_id.to_owned()))?;
    let end = start
        .checked_add_signed(Duration::days(i64::from(days)))
        .ok_or_else(|| PreviewError::Invalid(FieldError::new("start", "start is out of range")))?;
    let reach = follow_links(s, number, &mut Trace::quiet());
    let resolving = match &reach {
        Reach::Number(resolving) => resolving,
        Reach::Forward(resolving, _) => resolving,
        Reach::Reject(_) | Reach::Broken(_) => number,
    };
    let tz = resolving.timezone();
    let (Some(from), Some(until)) = (first_instant_of(tz, start), first_instant_of(tz, end)) else {
        return Err(PreviewError::Invalid(FieldError::new(
            "start",
            "start is out of range",
        )));
    };
    let clinic = s.clinic_of(resolving);
    let mut segments = Vec::new();
    match reach {
        Reach::Number(resolving) => {
            let mut at = from;
            let mut current: Option<(DateTime<Utc>, Key)> = None;
            while at < until {
                let key = key_at(resolving, at);
                match &current {
                    Some((_, open)) if *open == key => {}
                    _ => {
                        if let Some((begin, open)) = current.take() {
                            segments.push(segment(tz, begin, at, open, clinic, resolving));
                        }
                        current = Some((at, key));
                    }
                }
                at += Duration::minutes(1);
            }
            if let Some((begin, open)) = current {
                segments.push(segment(tz, begin, until, open, clinic, resolving));
            }
        }
        Reach::Forward(_, to) => segments.push(Segment {
            start: stamp(tz, from),
            end: stamp(tz, until),
            kind: OutcomeKind::Forward,
            handler: Some(Handler {
                kind: HandlerKind::Forward,
                id: None,
                name: Some(Cow::Owned(to.to_owned())),
            }),
        }),
        Reach::Reject(_) => segments.push(Segment {
            start: stamp(tz, from),
            end: stamp(tz, until),
            kind: OutcomeKind::Reject,
            handler: None,
        }),
        Reach::Broken(_) => segments.push(Segment {
            start: stamp(tz, from),
            end: stamp(tz, until),
            kind: OutcomeKind::Error,
            handler: Some(Handler {
                kind: HandlerKind::Hangup,
                id: None,
                name: None,
            }),
        }),
    }
    let mut warnings = Vec::new();
    if let Reach::Broken(reason) = &reach {
        warnings.push(reason.to_string());
    }
    warnings.extend(number_warnings(s, resolving));
    Ok(CoverageResponse {
        timezone: tz.name().to_owned(),
        segments,
        warnings,
    })
}

/// The rule kind and handler identity of a minute: cheap to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key<'a> {
    kind: OutcomeKind,
    first: FirstKey<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstKey<'a> {
    Assistant(u32),
    RingGroup(u16),
    Voicemail,
    Forward(&'a str),
    Message,
    Hangup,
}

fn key_at(number: &NumberEntry, at: DateTime<Utc>) -> Key<'_> {
    let rule = rule_at(number, at, local_wall_time(number.timezone(), at));
    let kind = match rule {
        Rule::Override(hold) => match hold.state {
            OverrideState::Closed => OutcomeKind::ClosedUntil,
            OverrideState::Open => OutcomeKind::OpenUntil,
        },
        Rule::Closure(..) => OutcomeKind::Closure,
        Rule::Assistant(_) => OutcomeKind::Assistant,
        Rule::RingGroup(_) => OutcomeKind::RingGroup,
        Rule::OffHours(_) => OutcomeKind::OffHours,
    };
    let first = match rule.action() {
        FirstAction::Assistant(index) => FirstKey::Assistant(index),
        FirstAction::RingGroup(index) => FirstKey::RingGroup(index),
        FirstAction::Action(action) => match action {
            CompiledAction::Assistant(index) => FirstKey::Assistant(*index),
            CompiledAction::RingGroup(index) => FirstKey::RingGroup(*index),
            CompiledAction::Voicemail(_) | CompiledAction::Unavailable(_) => FirstKey::Voicemail,
            CompiledAction::Forward(to) => FirstKey::Forward(number.text(*to)),
            CompiledAction::Message(_) => FirstKey::Message,
            CompiledAction::Hangup => FirstKey::Hangup,
        },
    };
    Key { kind, first }
}

fn handler_of<'a>(
    clinic: &'a crate::snapshot::ClinicEntry,
    number: &'a NumberEntry,
    key: Key<'a>,
) -> Handler<'a> {
    let action = match key.first {
        FirstKey::Assistant(index) => FirstAction::Assistant(index),
        FirstKey::RingGroup(index) => FirstAction::RingGroup(index),
        FirstKey::Voicemail => FirstAction::Action(&CompiledAction::Voicemail(None)),
        FirstKey::Message => {
            return Handler {
                kind: HandlerKind::Message,
                id: None,
                name: None,
            };
        }
        FirstKey::Hangup => FirstAction::Action(&CompiledAction::Hangup),
        FirstKey::Forward(to) => {
            return Handler {
                kind: HandlerKind::Forward,
                id: None,
                name: Some(Cow::Borrowed(to)),
            };
        }
    };
    first_handler(clinic, number, action)
}

fn segment(
    tz: Tz,
    begin: DateTime<Utc>,
    end: DateTime<Utc>,
    key: Key,
    clinic: &crate::snapshot::ClinicEntry,
    number: &NumberEntry,
) -> Segment {
    Segment {
        start: stamp(tz, begin),
        end: stamp(tz, end),
        kind: key.kind,
        handler: Some(handler_of(clinic, number, key).into_owned()),
    }
}

fn stamp(tz: Tz, at: DateTime<Utc>) -> String {
    tz.from_utc_datetime(&at.naive_utc())
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// How far [`opening_after`] looks.
pub const OPENING_SEARCH_DAYS: i64 = 14;

/// The first minute after `from` at which the number's schedules open (a
/// scheduled assistant or ring group starts answering outside closures;
/// overrides aside) after a minute when they did not: where "closed until
/// the next opening" ends. `None` when nothing opens within
/// [`OPENING_SEARCH_DAYS`] days.
pub fn opening_after(
    s: &Snapshot,
    number_id: &str,
    from: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, PreviewError> {
    let number = s
        .number_by_id(number_id)
        .ok_or_else(|| PreviewError::NumberNotFound(number_id.to_owned()))?;
    let resolving = match follow_links(s, number, &mut Trace::quiet()) {
        Reach::Number(resolving) => resolving,
        Reach::Forward(..) | Reach::Reject(_) | Reach::Broken(_) => return Ok(None),
    };
    let tz = resolving.timezone();
    let open = |at: DateTime<Utc>| {
        matches!(
            scheduled_rule_at(resolving, local_wall_time(tz, at)),
            Rule::Assistant(_) | Rule::RingGroup(_)
        )
    };
    // Whole minutes: every offset in use is a whole number of minutes.
    let start =
        DateTime::<Utc>::from_timestamp(from.timestamp().div_euclid(60) * 60, 0).unwrap_or(from);
    let mut before = open(start);
    let mut at = start + Duration::minutes(1);
    let end = start + Duration::days(OPENING_SEARCH_DAYS);
    while at <= end {
        let now_open = open(at);
        if now_open && !before {
            return Ok(Some(at));
        }
        before = now_open;
        at += Duration::minutes(1);
    }
    Ok(None)
}

/// Who answers a number off hours as it is compiled, and whether its
/// `off_hours` says so (else the handler `docs/routing.md` rule 7 implies:
/// the assistant bound without a schedule, the first ring group without
/// one, or voicemail).
pub fn off_hours_of(
    s: &Snapshot,
    number_id: &str,
) -> Result<(Handler<'static>, bool), PreviewError> {
    let number = s
        .number_by_id(number_id)
        .ok_or_else(|| PreviewError::NumberNotFound(number_id.to_owned()))?;
    let clinic = s.clinic_of(number);
    let handler = first_handler(clinic, number, FirstAction::Action(&number.off_hours));
    Ok((handler.into_owned(), number.off_hours_explicit))
}

/// The first instant whose local date is `date` or later: local midnight, or
/// the end of a DST gap that swallowed midnight.
pub fn first_instant_of(tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    for minutes in 0..=24 * 60 {
        let local = midnight + Duration::minutes(minutes);
        match tz.from_local_datetime(&local) {
            LocalResult::Single(at) => return Some(at.with_timezone(&Utc)),
            LocalResult::Ambiguous(earliest, _) => return Some(earliest.with_timezone(&Utc)),
            LocalResult::None => continue,
        }
    }
    None
}

/// What an admin should fix on a number (coverage `warnings`, `docs/api.md`).
fn number_warnings(s: &Snapshot, number: &NumberEntry) -> Vec<String> {
    let mut warnings = Vec::new();
    if !number.off_hours_explicit && number.off_hours == CompiledAction::Voicemail(None) {
        warnings.push(
            "no off-hours handler set: outside the schedules callers get voicemail with the default greeting"
                .to_owned(),
        );
    }
    for group in number.ring_groups.iter() {
        if group.members_len == 0 {
            warnings.push(format!(
                "ring group {} has no reachable member",
                number.text(group.name)
            ));
        }
    }
    let clinic = s.clinic_of(number);
    for binding in number.assistants.iter() {
        if binding.scheduled {
            continue;
        }
        let referenced = number.off_hours == CompiledAction::Assistant(binding.assistant)
            || number
                .closures
                .iter()
                .any(|c| c.action == Some(CompiledAction::Assistant(binding.assistant)))
            || number
                .ring_groups
                .iter()
                .any(|g| g.on_no_answer == Some(CompiledAction::Assistant(binding.assistant)));
        if !referenced {
            warnings.push(format!(
                "assistant {} is bound without a schedule but never answers (off_hours is set)",
                clinic.assistant(binding.assistant).name
            ));
        }
    }
    let prefix = format!("number {}:", number.id());
    warnings.extend(
        s.warnings()
            .iter()
            .filter(|w| w.starts_with(&prefix))
            .cloned(),
    );
    warnings
}
