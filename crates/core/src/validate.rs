//! Validation of what an admin sends: every problem at once, with the field
//! paths of `docs/api.md` ("Errors").
//!
//! Parse, don't validate: [`E164`], [`MemberTarget`] and `chrono_tz::Tz` can
//! only hold valid values. [`validate_routing`] checks a whole routing document
//! against its clinic and returns the complete list of [`FieldError`]s (the
//! admin answers 422 with them as `details`); [`check_forwarding`] checks a
//! forwarding change against the clinic's other numbers (self-forwarding,
//! unknown targets, cycles).

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::error::{FieldError, ForwardingError};
use crate::model::{
    Action, AssistantKindTag, Forwarding, Lifecycle, OverrideState, RingGroup, RoutingDoc,
    RoutingOverride, Window,
};
use crate::schedule::{ClosureTest, LocalWindow, WeeklySchedule, describe_minute_of_week};
use crate::snapshot::MAX_LINK_HOPS;

/// Fewest and most members of a ring group.
pub const RING_GROUP_MEMBERS: std::ops::RangeInclusive<usize> = 1..=10;
/// Shortest and longest ring time of a ring group, in seconds.
pub const RING_SECONDS: std::ops::RangeInclusive<u16> = 5..=120;
/// Longest spoken text (message, greeting) accepted, in characters.
pub const MAX_SPOKEN_CHARS: usize = 4000;
/// Longest URL of an assistant, in characters.
pub const MAX_URL_CHARS: usize = 2000;
/// Longest name and value of a stream's `<Parameter>`, in characters (under
/// Twilio's 500 for both together).
pub const MAX_PARAMETER_NAME_CHARS: usize = 100;
pub const MAX_PARAMETER_VALUE_CHARS: usize = 399;
/// Longest name of a ring group or closure, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// How many digits an E.164 number has after its `+`.
pub const E164_DIGITS: std::ops::RangeInclusive<usize> = 7..=15;

/// An E.164 phone number: `+`, a non-zero digit, 7 to 15 digits in all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

/// Why a string is not E.164.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected an E.164 number like +14155550123, got {0:?}")]
pub struct E164Error(pub String);

impl E164 {
    /// Parses strictly: no spaces, dashes or brackets.
    pub fn parse(s: &str) -> Result<E164, E164Error> {
        if is_e164(s) {
            Ok(E164(s.to_owned()))
        } else {
            Err(E164Error(s.to_owned()))
        }
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as an owned string.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `s` is strictly E.164 (see [`E164::parse`]), without allocating.
pub fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        E164_DIGITS.contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// Parses an E.164 number (see [`E164::parse`]).
pub fn validate_e164(s: &str) -> Result<E164, E164Error> {
    E164::parse(s)
}

/// Why a string is not an IANA timezone name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown IANA timezone {0:?}")]
pub struct TimezoneError(pub String);

/// Parses an IANA timezone name (exact spelling, e.g. `America/New_York`).
pub fn validate_timezone(s: &str) -> Result<Tz, TimezoneError> {
    s.parse::<Tz>().map_err(|_| TimezoneError(s.to_owned()))
}

/// A ring-group member target: an E.164 number, a `sip:` URI or `client:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberTarget {
    Number(String),
    Sip(String),
    Client(String),
}

/// Why a member target is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected an E.164 number, a sip: URI or client:NAME, got {0:?}")]
pub struct MemberTargetError(pub String);

impl MemberTarget {
    /// Parses a member target.
    pub fn parse(s: &str) -> Result<MemberTarget, MemberTargetError> {
        let bad = || MemberTargetError(s.to_owned());
        if let Ok(number) = E164::parse(s) {
            return Ok(MemberTarget::Number(number.into_inner()));
        }
        if let Some(rest) = s.strip_prefix("sip:") {
            // Twilio refuses SIP URIs of 255 characters or more.
            let ok = !rest.is_empty()
                && s.chars().count() < 255
                && !s.chars().any(|c| c.is_whitespace() || c.is_control());
            return if ok {
                Ok(MemberTarget::Sip(s.to_owned()))
            } else {
                Err(bad())
            };
        }
        if let Some(name) = s.strip_prefix("client:") {
            let ok = !name.is_empty()
                && name.len() <= 256
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
            return if ok {
                Ok(MemberTarget::Client(name.to_owned()))
            } else {
                Err(bad())
            };
        }
        Err(bad())
    }
}

/// What validation needs to know about the clinic of the number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClinicContext {
    /// The clinic's assistants: id and kind.
    pub assistants: Vec<(String, AssistantKindTag)>,
}

impl ClinicContext {
    fn assistant_kind(&self, id: &str) -> Option<AssistantKindTag> {
        self.assistants
            .iter()
            .find(|(known, _)| known == id)
            .map(|(_, kind)| *kind)
    }
}

/// The longest an override may last.
pub const MAX_OVERRIDE_DAYS: i64 = 366;

/// Validates an override for a number with routing `doc`, set at `now`:
/// it ends in the future (within [`MAX_OVERRIDE_DAYS`]); a closed one runs
/// any valid action (or the off-hours handler), an open one names an
/// assistant or a ring group of the number. Paths are the override's.
pub fn validate_override(
    o: &RoutingOverride,
    doc: &RoutingDoc,
    ctx: &ClinicContext,
    now: DateTime<Utc>,
) -> Result<(), Vec<FieldError>> {
    let mut v = Validator {
        ctx,
        problems: Vec::new(),
    };
    if o.until <= now {
        v.push("until", "must be later than now");
    } else if o.until > now + chrono::Duration::days(MAX_OVERRIDE_DAYS) {
        v.push(
            "until",
            format!("must be within {MAX_OVERRIDE_DAYS} days from now"),
        );
    }
    let group_ids: HashSet<String> = doc
        .ring_groups
        .iter()
        .filter_map(|g| g.id.clone())
        .collect();
    match (&o.action, o.state) {
        (Some(action @ (Action::Assistant { .. } | Action::RingGroup { .. })), _)
        | (Some(action), OverrideState::Closed) => v.check_action(action, "action", &group_ids),
        (Some(_), OverrideState::Open) => v.push(
            "action",
            "an open override is answered by an assistant or a ring group",
        ),
        (None, OverrideState::Open) => v.push(
            "action",
            "say which assistant or ring group answers while it is open",
        ),
        (None, OverrideState::Closed) => {}
    }
    if v.problems.is_empty() {
        Ok(())
    } else {
        Err(v.problems)
    }
}

/// Validates a routing document for one number of a clinic. Returns every
/// problem at once, with field paths relative to the document.
pub fn validate_routing(doc: &RoutingDoc, ctx: &ClinicContext) -> Result<(), Vec<FieldError>> {
    let mut v = Validator {
        ctx,
        problems: Vec::new(),
    };
    v.check(doc);
    if v.problems.is_empty() {
        Ok(())
    } else {
        Err(v.problems)
    }
}

struct Validator<'a> {
    ctx: &'a ClinicContext,
    problems: Vec<FieldError>,
}

impl Validator<'_> {
    fn push(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.problems.push(FieldError::new(field, problem));
    }

    fn extend(&mut self, path: &str, problems: Vec<FieldError>) {
        self.problems
            .extend(problems.into_iter().map(|p| p.prefixed(path)));
    }

    fn check(&mut self, doc: &RoutingDoc) {
        if let Some(tz) = &doc.timezone
            && let Err(err) = validate_timezone(tz)
        {
            self.push("timezone", err.to_string());
        }
        self.check_assistants(doc);
        let group_ids = self.check_ring_groups(doc);
        if let Some(action) = &doc.off_hours {
            self.check_action(action, "off_hours", &group_ids);
        }
        self.check_closures(doc, &group_ids);
        self.check_no_answer_chains(doc);
    }

    fn check_assistants(&mut self, doc: &RoutingDoc) {
        let mut schedules: Vec<(usize, WeeklySchedule)> = Vec::new();
        let mut always_on: Option<usize> = None;
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, binding) in doc.assistants.iter().enumerate() {
            let path = format!("assistants[{i}]");
            self.check_voice_assistant(&binding.assistant_id, &format!("{path}.assistant_id"));
            if let Some(first) = seen.insert(&binding.assistant_id, i) {
                self.push(
                    format!("{path}.assistant_id"),
                    format!("this assistant is already bound in assistants[{first}]"),
                );
            }
            match &binding.schedule {
                None => {
                    if let Some(first) = always_on {
                        self.push(
                            format!("{path}.schedule"),
                            format!(
                                "only one assistant may be always-on (without schedule); assistants[{first}] already is"
                            ),
                        );
                    } else {
                        always_on = Some(i);
                    }
                }
                Some(windows) => {
                    if let Some(schedule) = self.check_schedule(windows, &path) {
                        for (other, other_schedule) in &schedules {
                            if let Some(minute) = schedule.first_overlap(other_schedule) {
                                self.push(
                                    format!("{path}.schedule"),
                                    format!(
                                        "overlaps the schedule of assistants[{other}] (both cover {}); one assistant at a time",
                                        describe_minute_of_week(minute)
                                    ),
                                );
                            }
                        }
                        schedules.push((i, schedule));
                    }
                }
            }
        }
    }

    /// Checks a schedule; returns it compiled when every window is valid.
    fn check_schedule(&mut self, windows: &[Window], path: &str) -> Option<WeeklySchedule> {
        if windows.is_empty() {
            self.push(
                format!("{path}.schedule"),
                "an empty schedule never answers; use null for always-on",
            );
            return None;
        }
        let mut parsed = Vec::with_capacity(windows.len());
        let mut ok = true;
        for (i, window) in windows.iter().enumerate() {
            match LocalWindow::parse(window) {
                Ok(window) => parsed.push(window),
                Err(problems) => {
                    ok = false;
                    self.extend(&format!("{path}.schedule[{i}]"), problems);
                }
            }
        }
        ok.then(|| WeeklySchedule::from_windows(&parsed))
    }

    fn check_voice_assistant(&mut self, id: &str, field: &str) {
        match self.ctx.assistant_kind(id) {
            Some(AssistantKindTag::Voice) => {}
            Some(AssistantKindTag::Texting) => {
                self.push(
                    field,
                    format!("assistant {id} is a texting assistant, not a voice one"),
                );
            }
            None => self.push(
                field,
                format!("assistant {id} does not exist in this clinic"),
            ),
        }
    }

    fn check_ring_groups(&mut self, doc: &RoutingDoc) -> HashSet<String> {
        let mut ids = HashSet::new();
        for (i, group) in doc.ring_groups.iter().enumerate() {
            let path = format!("ring_groups[{i}]");
            if let Some(id) = &group.id
                && !ids.insert(id.clone())
            {
                self.push(
                    format!("{path}.id"),
                    format!("ring group id {id} is used twice"),
                );
            }
            self.check_ring_group(group, &path);
        }
        for (i, group) in doc.ring_groups.iter().enumerate() {
            if let Some(action) = &group.on_no_answer {
                self.check_action(action, &format!("ring_groups[{i}].on_no_answer"), &ids);
            }
        }
        ids
    }

    fn check_ring_group(&mut self, group: &RingGroup, path: &str) {
        if group.name.trim().is_empty() {
            self.push(format!("{path}.name"), "give the ring group a name");
        } else if group.name.chars().count() > MAX_NAME_CHARS {
            self.push(
                format!("{path}.name"),
                format!("must be at most {MAX_NAME_CHARS} characters"),
            );
        }
        if !RING_GROUP_MEMBERS.contains(&group.members.len()) {
            self.push(
                format!("{path}.members"),
                format!(
                    "a ring group has 1 to 10 members, this one has {}",
                    group.members.len()
                ),
            );
        }
        for (j, member) in group.members.iter().enumerate() {
            if let Err(err) = MemberTarget::parse(&member.target) {
                self.push(format!("{path}.members[{j}].target"), err.to_string());
            }
        }
        if let Some(seconds) = group.ring_seconds
            && !RING_SECONDS.contains(&seconds)
        {
            self.push(
                format!("{path}.ring_seconds"),
                format!("ring_seconds must be 5 to 120, got {seconds}"),
            );
        }
        if let Some(windows) = &group.schedule {
            self.check_schedule(windows, path);
        }
        if let Some(prompt) = &group.confirm_prompt {
            self.check_spoken(prompt, &format!("{path}.confirm_prompt"));
        }
    }

    fn check_action(&mut self, action: &Action, path: &str, group_ids: &HashSet<String>) {
        match action {
            Action::Assistant { assistant_id } => {
                self.check_voice_assistant(assistant_id, &format!("{path}.assistant_id"));
            }
            Action::RingGroup { ring_group_id } => {
                if !group_ids.contains(ring_group_id) {
                    self.push(
                        format!("{path}.ring_group_id"),
                        format!("ring group {ring_group_id} is not a ring group of this number"),
                    );
                }
            }
            Action::Voicemail { greeting } => {
                if let Some(greeting) = greeting {
                    self.check_spoken(greeting, &format!("{path}.greeting"));
                }
            }
            Action::Forward { to } => {
                if let Err(err) = E164::parse(to) {
                    self.push(format!("{path}.to"), err.to_string());
                }
            }
            Action::Message { text } => self.check_spoken(text, &format!("{path}.text")),
            Action::Hangup => {}
        }
    }

    fn check_spoken(&mut self, text: &str, field: &str) {
        if text.trim().is_empty() {
            self.push(field, "the text is empty");
        } else if text.chars().count() > MAX_SPOKEN_CHARS {
            self.push(
                field,
                format!("the text is longer than {MAX_SPOKEN_CHARS} characters"),
            );
        }
    }

    fn check_closures(&mut self, doc: &RoutingDoc, group_ids: &HashSet<String>) {
        let mut ids = HashSet::new();
        for (i, closure) in doc.closures.iter().enumerate() {
            let path = format!("closures[{i}]");
            if let Some(id) = &closure.id
                && !ids.insert(id.as_str())
            {
                self.push(
                    format!("{path}.id"),
                    format!("closure id {id} is used twice"),
                );
            }
            if closure.name.trim().is_empty() {
                self.push(format!("{path}.name"), "give the closure a name");
            } else if closure.name.chars().count() > MAX_NAME_CHARS {
                self.push(
                    format!("{path}.name"),
                    format!("must be at most {MAX_NAME_CHARS} characters"),
                );
            }
            if let Err(problems) = ClosureTest::compile(closure) {
                self.extend(&path, problems);
            }
            if let Some(action) = &closure.action {
                self.check_action(action, &format!("{path}.action"), group_ids);
            }
        }
    }

    /// `on_no_answer` chains may not loop, counting the default hand-over:
    /// a group without `on_no_answer` hands over to the off-hours handler
    /// (voicemail when it is that handler).
    fn check_no_answer_chains(&mut self, doc: &RoutingDoc) {
        let index_of: HashMap<&str, usize> = doc
            .ring_groups
            .iter()
            .enumerate()
            .filter_map(|(i, g)| g.id.as_deref().map(|id| (id, i)))
            .collect();
        let off_hours_group = off_hours_ring_group(doc, &index_of);
        let next = |i: usize| -> Option<usize> {
            match &doc.ring_groups[i].on_no_answer {
                Some(Action::RingGroup { ring_group_id }) => {
                    index_of.get(ring_group_id.as_str()).copied()
                }
                Some(_) => None,
                None if off_hours_group == Some(i) => None,
                None => off_hours_group,
            }
        };
        let mut reported = HashSet::new();
        for start in 0..doc.ring_groups.len() {
            let mut seen = vec![start];
            let mut current = start;
            while let Some(following) = next(current) {
                if let Some(pos) = seen.iter().position(|&s| s == following) {
                    let cycle = &seen[pos..];
                    let first = *cycle.iter().min().unwrap_or(&start);
                    if reported.insert(first) {
                        let names: Vec<String> =
                            cycle.iter().map(|i| format!("ring_groups[{i}]")).collect();
                        self.push(
                            format!("ring_groups[{first}].on_no_answer"),
                            format!(
                                "on_no_answer chain loops: {} → ring_groups[{}]",
                                names.join(" → "),
                                cycle[0]
                            ),
                        );
                    }
                    break;
                }
                seen.push(following);
                current = following;
            }
        }
    }
}

/// The ring group that is the off-hours handler, if the handler is one.
fn off_hours_ring_group(doc: &RoutingDoc, index_of: &HashMap<&str, usize>) -> Option<usize> {
    match &doc.off_hours {
        Some(Action::RingGroup { ring_group_id }) => index_of.get(ring_group_id.as_str()).copied(),
        Some(_) => None,
        None if doc.assistants.iter().any(|b| b.schedule.is_none()) => None,
        None => doc.ring_groups.iter().position(|g| g.schedule.is_none()),
    }
}

/// What [`check_forwarding`] needs to know about each number of the clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberLink {
    pub id: String,
    pub e164: String,
    pub lifecycle: Lifecycle,
    pub forwarding: Option<Forwarding>,
}

/// Checks that `number_id` may forward as `new` given the clinic's numbers
/// (`numbers` holds every number of the clinic, `number_id` included): no
/// self-forwarding, links only to live numbers of the clinic, no cycles, no
/// chain longer than the router follows.
pub fn check_forwarding(
    numbers: &[NumberLink],
    number_id: &str,
    new: &Forwarding,
) -> Result<(), ForwardingError> {
    let own = numbers.iter().find(|n| n.id == number_id);
    match new {
        Forwarding::External { to } => {
            E164::parse(to).map_err(|_| ForwardingError::InvalidE164(to.clone()))?;
            if own.is_some_and(|own| own.e164 == *to) {
                return Err(ForwardingError::SelfForward);
            }
            Ok(())
        }
        Forwarding::Number { number_id: target } => {
            if target == number_id {
                return Err(ForwardingError::SelfForward);
            }
            let by_id: HashMap<&str, &NumberLink> =
                numbers.iter().map(|n| (n.id.as_str(), n)).collect();
            let target_number = by_id
                .get(target.as_str())
                .ok_or_else(|| ForwardingError::UnknownNumber(target.clone()))?;
            if target_number.lifecycle == Lifecycle::Released {
                return Err(ForwardingError::TargetReleased(target.clone()));
            }
            // Every chain through this number, with the new link in place.
            let mut links: HashMap<&str, &str> = numbers
                .iter()
                .filter_map(|n| match &n.forwarding {
                    Some(Forwarding::Number { number_id: next }) => {
                        Some((n.id.as_str(), next.as_str()))
                    }
                    _ => None,
                })
                .collect();
            links.insert(number_id, target.as_str());
            let mut starts: Vec<&str> = links.keys().copied().collect();
            starts.sort_unstable_by_key(|start| *start != number_id);
            for start in starts {
                let mut path = vec![start];
                let mut current = start;
                while let Some(&next) = links.get(current) {
                    if let Some(pos) = path.iter().position(|p| *p == next) {
                        if path[pos..].contains(&number_id) {
                            let mut cycle: Vec<String> =
                                path[pos..].iter().map(|p| (*p).to_owned()).collect();
                            cycle.push(next.to_owned());
                            return Err(ForwardingError::Cycle(cycle));
                        }
                        break;
                    }
                    path.push(next);
                    current = next;
                    if path.len() > MAX_LINK_HOPS + 1 && path.contains(&number_id) {
                        return Err(ForwardingError::ChainTooLong { max: MAX_LINK_HOPS });
                    }
                }
            }
            Ok(())
        }
    }
}
