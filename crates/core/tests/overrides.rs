//! "Closed until…" and "Open until…" overrides, and confirm to accept on
//! ring groups (`docs/routing.md`, "Overrides" and "Confirm to accept").

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use serde_json::{Value, json};
use switchboard_core::coverage::{coverage, opening_after};
use switchboard_core::model::{OverrideState, RoutingOverride};
use switchboard_core::resolve::{
    Continuation, DialStatus, Explain, OutcomeKind, TwimlPlan, VoiceCall, confirm_answer,
    confirm_voice, continue_voice,
};
use switchboard_core::snapshot::Snapshot;
use switchboard_core::twiml::{RenderContext, render};
use switchboard_core::validate::{ClinicContext, validate_override};

const CTX: RenderContext<'static> = RenderContext {
    public_base_url: "https://switchboard.example.com",
};

/// Weekdays 08:00–18:00 the front desk, a closure on Christmas Day, and
/// Amy off hours.
fn routing() -> Value {
    json!({
        "assistants": [{"assistant_id": "amy"}],
        "ring_groups": [front_desk()],
        "off_hours": {"type": "assistant", "assistant_id": "amy"},
        "closures": [{"name": "Christmas", "repeat": "yearly", "month": 12, "day": 25,
                      "action": {"type": "message", "text": "Merry Christmas."}}]
    })
}

fn with_override(routing: Value, o: Value) -> Snapshot {
    let mut n = number("main", MAIN, routing);
    n.routing_override = Some(serde_json::from_value(o).expect("a valid override"));
    snapshot_of(vec![n])
}

fn kind_at(s: &Snapshot, at: DateTime<Utc>) -> OutcomeKind {
    call(s, at).outcome.kind
}

fn continuation(plan: &TwimlPlan<'_>) -> Continuation<'static> {
    let TwimlPlan::Dial(dial) = plan else {
        panic!("expected a dial, got {plan:?}");
    };
    let c = dial.continuation.clone().expect("the dial can move on");
    Continuation {
        number_id: c.number_id.into_owned().into(),
        instant: c.instant,
        step: c.step,
    }
}

fn after<'a>(
    s: &'a Snapshot,
    c: &Continuation<'_>,
    status: DialStatus,
) -> switchboard_core::Decision<'a> {
    continue_voice(
        s,
        c,
        status,
        &VoiceCall {
            to: MAIN,
            from: CALLER,
            call_sid: "CA123",
        },
        Explain::Trace,
    )
}

// The order of resolution with an override.

#[test]
fn a_closed_override_runs_the_off_hours_handler_whatever_the_schedules_say() {
    // Wednesday 10:00 in New York: the front desk's hours.
    let at = ny(2026, 12, 2, 10, 0);
    let s = with_override(
        routing(),
        json!({"state": "closed", "until": "2026-12-03T13:00:00Z"}),
    );
    let d = call(&s, at);
    assert_eq!(d.outcome.kind, OutcomeKind::ClosedUntil);
    assert_eq!(d.outcome.name.as_deref(), Some("2026-12-03T08:00:00-05:00"));
    assert!(
        matches!(d.action, TwimlPlan::Stream { .. }),
        "Amy answers: {:?}",
        d.action
    );
    assert!(
        d.trace.iter().any(|l| l.contains("closed until")),
        "{:?}",
        d.trace
    );
}

#[test]
fn a_closed_override_runs_its_own_action_when_it_has_one() {
    let at = ny(2026, 12, 2, 10, 0);
    let s = with_override(
        routing(),
        json!({"state": "closed", "until": "2026-12-03T13:00:00Z",
               "action": {"type": "message", "text": "Closed for snow."}}),
    );
    let d = call(&s, at);
    assert_eq!(
        d.action,
        TwimlPlan::Say {
            text: "Closed for snow.".into()
        }
    );
}

#[test]
fn an_override_is_resolved_before_closures() {
    // Christmas Day: the closure would play its message.
    let at = ny(2026, 12, 25, 10, 0);
    let s = with_override(
        routing(),
        json!({"state": "open", "until": "2026-12-26T05:00:00Z",
               "action": {"type": "ring_group", "ring_group_id": "desk"}}),
    );
    let d = call(&s, at);
    assert_eq!(d.outcome.kind, OutcomeKind::OpenUntil);
    assert!(matches!(d.action, TwimlPlan::Dial(_)), "{:?}", d.action);
}

#[test]
fn an_open_override_answers_outside_the_schedules_and_moves_on_as_the_group_would() {
    // Saturday night: off hours, Amy would answer.
    let at = ny(2026, 12, 5, 22, 0);
    let s = with_override(
        routing(),
        json!({"state": "open", "until": "2026-12-06T12:00:00Z",
               "action": {"type": "ring_group", "ring_group_id": "desk"}}),
    );
    let d = call(&s, at);
    assert_eq!(d.outcome.kind, OutcomeKind::OpenUntil);
    let c = continuation(&d.action);
    // Nobody picks up: the group's default, the off-hours handler (Amy).
    let next = after(&s, &c, DialStatus::NoAnswer);
    assert!(
        matches!(next.action, TwimlPlan::Stream { .. }),
        "{:?}",
        next.action
    );
}

#[test]
fn forwarding_and_lifecycle_still_come_before_an_override() {
    let mut n = number("main", MAIN, routing());
    n.routing_override = Some(
        serde_json::from_value(json!({"state": "closed", "until": "2027-01-01T00:00:00Z"}))
            .expect("valid"),
    );
    n.lifecycle = switchboard_core::model::Lifecycle::Paused;
    let s = snapshot_of(vec![n]);
    assert_eq!(kind_at(&s, ny(2026, 12, 2, 10, 0)), OutcomeKind::Reject);
}

#[test]
fn an_expired_override_changes_nothing() {
    let s = with_override(
        routing(),
        json!({"state": "closed", "until": "2026-12-01T00:00:00Z"}),
    );
    assert_eq!(kind_at(&s, ny(2026, 12, 2, 10, 0)), OutcomeKind::RingGroup);
}

#[test]
fn an_override_ends_at_its_exact_instant_across_a_dst_change() {
    // Closed until 08:00 on Monday 2026-03-09 in New York, the day after
    // clocks go forward (08:00 EDT = 12:00 UTC, not 13:00).
    let until = ny(2026, 3, 9, 8, 0);
    assert_eq!(until.to_rfc3339(), "2026-03-09T12:00:00+00:00");
    let s = with_override(routing(), json!({"state": "closed", "until": until}));
    assert_eq!(
        kind_at(&s, until - Duration::seconds(1)),
        OutcomeKind::ClosedUntil
    );
    assert_eq!(kind_at(&s, until), OutcomeKind::RingGroup);
    // And back in November, across the repeated hour.
    let until = ny(2026, 11, 2, 8, 0);
    assert_eq!(until.to_rfc3339(), "2026-11-02T13:00:00+00:00");
    let s = with_override(routing(), json!({"state": "closed", "until": until}));
    assert_eq!(
        kind_at(&s, until - Duration::seconds(1)),
        OutcomeKind::ClosedUntil
    );
    assert_eq!(kind_at(&s, until), OutcomeKind::RingGroup);
}

#[test]
fn a_continuation_keeps_the_override_of_the_calls_instant() {
    // The call began a second before the override ended; the dial ends
    // after: the call finishes on the rules of its first instant.
    let until = ny(2026, 12, 5, 22, 0);
    let s = with_override(
        routing(),
        json!({"state": "open", "until": until,
               "action": {"type": "ring_group", "ring_group_id": "desk"}}),
    );
    let d = call(&s, until - Duration::seconds(1));
    let c = continuation(&d.action);
    let next = after(&s, &c, DialStatus::Busy);
    assert!(
        next.trace.iter().any(|l| l.contains("open until")),
        "{:?}",
        next.trace
    );
}

#[test]
fn coverage_shows_the_override_with_its_end() {
    let s = with_override(
        routing(),
        json!({"state": "closed", "until": "2026-12-03T13:00:00Z"}),
    );
    let week = coverage(&s, "main", "2026-12-02".parse().expect("valid"), 2).expect("coverage");
    let first = &week.segments[0];
    assert_eq!(first.kind, OutcomeKind::ClosedUntil);
    assert_eq!(first.start, "2026-12-02T00:00:00-05:00");
    assert_eq!(first.end, "2026-12-03T08:00:00-05:00");
    assert_eq!(week.segments[1].kind, OutcomeKind::RingGroup);
    assert_eq!(week.segments[1].start, "2026-12-03T08:00:00-05:00");
}

#[test]
fn the_next_opening_is_the_next_minute_the_schedules_open_across_dst() {
    let s = one_number(routing());
    // Wednesday 10:00, open: the next opening is Thursday 08:00.
    let next = opening_after(&s, "main", ny(2026, 12, 2, 10, 0)).expect("a number");
    assert_eq!(next, Some(ny(2026, 12, 3, 8, 0)));
    // Friday evening: Monday 08:00.
    let next = opening_after(&s, "main", ny(2026, 12, 4, 19, 0)).expect("a number");
    assert_eq!(next, Some(ny(2026, 12, 7, 8, 0)));
    // Christmas Day (a Friday) is closed: the next opening is Monday's.
    let next = opening_after(&s, "main", ny(2026, 12, 24, 19, 0)).expect("a number");
    assert_eq!(next, Some(ny(2026, 12, 28, 8, 0)));
    // Saturday before clocks go forward: Monday 08:00 EDT (12:00 UTC).
    let next = opening_after(&s, "main", ny(2026, 3, 7, 12, 0)).expect("a number");
    assert_eq!(
        next.map(|t| t.to_rfc3339()),
        Some("2026-03-09T12:00:00+00:00".to_owned())
    );
    // A number that never opens.
    let never = one_number(json!({"off_hours": {"type": "voicemail"}}));
    assert_eq!(
        opening_after(&never, "main", ny(2026, 12, 2, 10, 0)).expect("a number"),
        None
    );
}

// Validation.

fn ctx() -> ClinicContext {
    ClinicContext {
        assistants: vec![
            (
                "amy".into(),
                switchboard_core::model::AssistantKindTag::Voice,
            ),
            (
                "tess".into(),
                switchboard_core::model::AssistantKindTag::Texting,
            ),
        ],
    }
}

fn problems(o: Value) -> Vec<String> {
    let o: RoutingOverride = serde_json::from_value(o).expect("parses");
    let doc = doc(routing());
    match validate_override(&o, &doc, &ctx(), utc("2026-12-02T15:00:00Z")) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn an_override_is_checked_against_the_number_and_the_clock() {
    let ok = json!({"state": "closed", "until": "2026-12-03T13:00:00Z"});
    assert!(problems(ok).is_empty());
    let past = json!({"state": "closed", "until": "2026-12-02T14:00:00Z"});
    assert!(problems(past)[0].contains("later than now"));
    let far = json!({"state": "closed", "until": "2028-12-03T13:00:00Z"});
    assert!(problems(far)[0].contains("366 days"));
    let open_without = json!({"state": "open", "until": "2026-12-03T13:00:00Z"});
    assert!(problems(open_without)[0].contains("which assistant or ring group"));
    let open_voicemail = json!({"state": "open", "until": "2026-12-03T13:00:00Z",
                                "action": {"type": "voicemail"}});
    assert!(problems(open_voicemail)[0].contains("assistant or a ring group"));
    let unknown_group = json!({"state": "open", "until": "2026-12-03T13:00:00Z",
                               "action": {"type": "ring_group", "ring_group_id": "nope"}});
    assert!(problems(unknown_group)[0].contains("not a ring group of this number"));
    let texting = json!({"state": "closed", "until": "2026-12-03T13:00:00Z",
                         "action": {"type": "assistant", "assistant_id": "tess"}});
    assert!(!problems(texting).is_empty());
    assert!(
        serde_json::from_value::<RoutingOverride>(
            json!({"state": "shut", "until": "2026-12-03T13:00:00Z"})
        )
        .is_err()
    );
    assert!(
        serde_json::from_value::<RoutingOverride>(json!({"state": "closed", "until": "tomorrow"}))
            .is_err()
    );
    assert_eq!(
        serde_json::from_value::<RoutingOverride>(
            json!({"state": "open", "until": "2026-12-03T13:00:00Z", "action": null})
        )
        .expect("valid")
        .state,
        OverrideState::Open
    );
}

// Confirm to accept.

fn confirming(strategy: &str, prompt: Option<&str>) -> Snapshot {
    let mut group = json!({"id": "desk", "name": "Front desk", "strategy": strategy, "ring_seconds": 20,
        "confirm": true,
        "members": [{"target": "+14155550101"}, {"target": "+14155550102"}],
        "schedule": [{"days": ["mon","tue","wed","thu","fri"], "start": "08:00", "end": "18:00"}]});
    if let Some(prompt) = prompt {
        group["confirm_prompt"] = json!(prompt);
    }
    one_number(json!({
        "ring_groups": [group],
        "off_hours": {"type": "voicemail", "greeting": "Leave a message."}
    }))
}

#[test]
fn a_confirming_group_dials_each_member_with_the_prompt_url() {
    let s = confirming("simultaneous", None);
    let d = call(&s, ny(2026, 12, 2, 10, 0));
    let xml = render(&d, &CTX);
    let c = continuation(&d.action).encode();
    let url = format!("https://switchboard.example.com/twilio/voice/confirm?c={c}");
    assert!(
        xml.contains(&format!(
            r#"<Number url="{url}" method="POST">+14155550101</Number>"#
        )),
        "{xml}"
    );
    assert!(xml.contains(&format!(
        r#"<Number url="{url}" method="POST">+14155550102</Number>"#
    )));
}

#[test]
fn the_prompt_is_the_groups_own_else_names_the_clinic_and_the_group() {
    let s = confirming("sequential", None);
    let d = call(&s, ny(2026, 12, 2, 10, 0));
    let c = continuation(&d.action);
    let prompt = confirm_voice(&s, &c);
    let TwimlPlan::Confirm { prompt: text, .. } = &prompt.action else {
        panic!("expected the prompt, got {:?}", prompt.action);
    };
    assert_eq!(text, "Call for Demo Clinic, Front desk. Press 1 to accept.");
    let xml = render(&prompt, &CTX);
    assert!(xml.contains(r#"<Gather numDigits="1" timeout="8" action="https://switchboard.example.com/twilio/voice/confirm/answer?c="#), "{xml}");
    assert!(xml.contains(r#"<Say voice="Polly.Joanna" language="en-US">Call for Demo Clinic, Front desk. Press 1 to accept.</Say></Gather><Hangup/>"#), "{xml}");

    let s = confirming("sequential", Some("Sunrise main line: press 1."));
    let d = call(&s, ny(2026, 12, 2, 10, 0));
    let prompt = confirm_voice(&s, &continuation(&d.action));
    assert!(render(&prompt, &CTX).contains(">Sunrise main line: press 1.</Say>"));
}

#[test]
fn only_the_key_1_connects_the_member() {
    let s = confirming("sequential", None);
    let d = call(&s, ny(2026, 12, 2, 10, 0));
    let c = continuation(&d.action);
    let connect = render(&confirm_answer(&s, &c, "1"), &CTX);
    assert_eq!(
        connect,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
    );
    for digits in ["", "2", "9", "*", "#", "11"] {
        let xml = render(&confirm_answer(&s, &c, digits), &CTX);
        assert!(
            xml.ends_with("<Response><Hangup/></Response>"),
            "{digits:?}: {xml}"
        );
    }
}

#[test]
fn a_member_who_declines_is_no_answer_for_the_group_with_every_dial_status() {
    let s = confirming("sequential", None);
    let d = call(&s, ny(2026, 12, 2, 10, 0));
    let c = continuation(&d.action);
    // What Twilio may report for a leg that hung up in its prompt: answered
    // but not bridged. Either way the next member rings.
    for (status, bridged) in [
        ("completed", Some("false")),
        ("answered", Some("false")),
        ("no-answer", None),
        ("busy", None),
        ("failed", None),
        ("canceled", None),
        ("no-answer", Some("false")),
    ] {
        let reported = DialStatus::reported(status.parse().expect("valid"), bridged);
        assert!(!reported.was_answered(), "{status} {bridged:?}");
        let next = after(&s, &c, reported);
        let TwimlPlan::Dial(dial) = &next.action else {
            panic!(
                "{status}: expected the second member, got {:?}",
                next.action
            );
        };
        assert_eq!(dial.targets.len(), 1);
        assert_eq!(dial.continuation.as_ref().map(|c| c.step), Some(1));
    }
    // Bridged (or Twilio saying nothing of it): somebody took the call.
    for bridged in [Some("true"), None] {
        let reported = DialStatus::reported(DialStatus::Completed, bridged);
        assert_eq!(reported, DialStatus::Completed);
        assert_eq!(after(&s, &c, reported).action, TwimlPlan::Hangup);
    }
    assert_eq!(
        DialStatus::reported(DialStatus::Completed, Some("false")),
        DialStatus::Declined
    );
}

#[test]
fn after_the_last_member_declines_the_group_hands_over_as_for_no_answer() {
    let s = confirming("sequential", None);
    let d = call(&s, ny(2026, 12, 2, 10, 0));
    let first = continuation(&d.action);
    let second = after(&s, &first, DialStatus::Declined);
    let c2 = continuation(&second.action);
    let last = after(&s, &c2, DialStatus::Declined);
    assert_eq!(last.outcome.kind, OutcomeKind::Voicemail);
}

#[test]
fn a_prompt_asked_for_a_dial_that_no_longer_confirms_connects_the_member() {
    // The configuration changed between the dial and the member's answer.
    let s = one_number(json!({"ring_groups": [front_desk()]}));
    let d = call(&s, ny(2026, 12, 2, 10, 0));
    let c = continuation(&d.action);
    let xml = render(&confirm_voice(&s, &c), &CTX);
    assert_eq!(xml, r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#);
}

#[test]
fn a_group_without_confirm_renders_as_before() {
    let s = one_number(json!({"ring_groups": [front_desk()]}));
    let xml = render(&call(&s, ny(2026, 12, 2, 10, 0)), &CTX);
    assert!(xml.contains("<Number>+14155550101</Number>"), "{xml}");
    assert!(!xml.contains("url="));
}
