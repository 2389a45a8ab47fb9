//! One table of cases per rule of `docs/routing.md`, named as the rule reads.

mod common;

use common::*;
use serde_json::json;
use switchboard_core::model::{Forwarding, Lifecycle};
use switchboard_core::resolve::{
    DialStatus, DialTarget, Explain, HandlerKind, OutcomeKind, TwimlPlan, VoiceCall,
    continue_voice, resolve_sms,
};
use switchboard_core::snapshot::{ClinicConfig, Snapshot, SnapshotInput};

fn dial_targets<'a>(plan: &TwimlPlan<'a>) -> Vec<DialTarget<'a>> {
    match plan {
        TwimlPlan::Dial(dial) => dial.targets.clone(),
        other => panic!("expected a dial, got {other:?}"),
    }
}

fn continue_after<'a>(
    s: &'a Snapshot,
    plan: &TwimlPlan<'_>,
    status: DialStatus,
) -> switchboard_core::Decision<'a> {
    let TwimlPlan::Dial(dial) = plan else {
        panic!("expected a dial, got {plan:?}");
    };
    let continuation = dial.continuation.clone().expect("the dial can move on");
    continue_voice(
        s,
        &continuation,
        status,
        &VoiceCall {
            to: MAIN,
            from: CALLER,
            call_sid: "CA123",
        },
        Explain::Trace,
    )
}

// Rule 1. Not routable.

#[test]
fn a_call_to_a_number_that_matches_nothing_is_rejected() {
    let s = one_number(json!({}));
    let d = call_at(&s, "+19995550000", ny(2026, 11, 25, 10, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::Reject);
    assert_eq!(d.action, TwimlPlan::Reject);
}

#[test]
fn a_call_to_a_released_pending_or_paused_number_is_rejected() {
    for lifecycle in [Lifecycle::Released, Lifecycle::Pending, Lifecycle::Paused] {
        let mut n = number("main", MAIN, json!({"ring_groups": [front_desk()]}));
        n.lifecycle = lifecycle;
        let s = snapshot_of(vec![n]);
        let d = call(&s, ny(2026, 11, 25, 10, 0));
        assert_eq!(d.outcome.kind, OutcomeKind::Reject, "{lifecycle:?}");
        assert_eq!(d.action, TwimlPlan::Reject, "{lifecycle:?}");
    }
}

#[test]
fn an_empty_snapshot_rejects_every_call() {
    let empty = Snapshot::empty();
    let d = call(&empty, ny(2026, 11, 25, 10, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::Reject);
}

// Rule 2. Forwarding.

#[test]
fn a_number_forwarding_to_an_external_number_dials_it_with_the_callers_number_as_caller_id() {
    let mut n = number(
        "main",
        MAIN,
        json!({"ring_groups": [front_desk()],
        "closures": [{"name": "Always", "repeat": "weekly", "days": ["mon","tue","wed","thu","fri","sat","sun"]}]}),
    );
    n.forwarding = Some(Forwarding::External {
        to: "+12125550199".into(),
    });
    let s = snapshot_of(vec![n]);
    let d = call(&s, ny(2026, 11, 25, 10, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::Forward);
    let TwimlPlan::Dial(dial) = &d.action else {
        panic!("expected a dial")
    };
    assert_eq!(
        dial.targets,
        vec![DialTarget::Number("+12125550199".into())]
    );
    assert_eq!(dial.caller_id.as_deref(), Some(CALLER));
    assert!(
        dial.continuation.is_none(),
        "nothing else of the number applies"
    );
}

#[test]
fn a_linked_number_is_resolved_as_if_the_call_were_placed_to_the_number_it_links_to() {
    let s = snapshot_of(vec![
        forwarding_number(
            "a",
            "+14155550001",
            Forwarding::Number {
                number_id: "b".into(),
            },
        ),
        number(
            "b",
            "+14155550002",
            json!({"timezone": "Europe/Berlin", "ring_groups": [front_desk()]}),
        ),
    ]);
    // 10:00 in Berlin is a weekday at the desk; in New York it would be 04:00.
    let d = call_at(&s, "+14155550001", utc("2026-11-25T09:00:00Z"));
    assert_eq!(d.resolved_number_id, Some("b"));
    assert_eq!(d.timezone(), Some("Europe/Berlin"));
    assert_eq!(d.outcome.kind, OutcomeKind::RingGroup);
    assert!(
        d.trace
            .iter()
            .any(|line| line == "linked +14155550001 → +14155550002")
    );
}

#[test]
fn a_linked_number_takes_the_lifecycle_of_the_number_it_links_to() {
    let mut b = number("b", "+14155550002", json!({"ring_groups": [front_desk()]}));
    b.lifecycle = Lifecycle::Paused;
    let s = snapshot_of(vec![
        forwarding_number(
            "a",
            "+14155550001",
            Forwarding::Number {
                number_id: "b".into(),
            },
        ),
        b,
    ]);
    let d = call_at(&s, "+14155550001", ny(2026, 11, 25, 10, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::Reject);
}

#[test]
fn links_chain_up_to_eight_hops() {
    // n0 → n1 → … → n8: eight hops reach n8.
    let mut numbers: Vec<_> = (0..8)
        .map(|i| {
            forwarding_number(
                &format!("n{i}"),
                &format!("+1415555100{i}"),
                Forwarding::Number {
                    number_id: format!("n{}", i + 1),
                },
            )
        })
        .collect();
    numbers.push(number(
        "n8",
        "+14155551008",
        json!({"off_hours": {"type": "hangup"}}),
    ));
    let s = snapshot_of(numbers.clone());
    let d = call_at(&s, "+14155551000", ny(2026, 11, 25, 10, 0));
    assert_eq!(d.resolved_number_id, Some("n8"));
    assert_eq!(d.action, TwimlPlan::Hangup);

    // One more hop is too many: apology and hang-up.
    let mut longer = vec![forwarding_number(
        "start",
        "+14155551099",
        Forwarding::Number {
            number_id: "n0".into(),
        },
    )];
    longer.extend(numbers);
    let s = snapshot_of(longer);
    let d = call_at(&s, "+14155551099", ny(2026, 11, 25, 10, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::Error);
}

#[test]
fn a_link_cycle_met_at_run_time_says_a_short_apology_and_hangs_up() {
    let s = snapshot_of(vec![
        forwarding_number(
            "a",
            "+14155550001",
            Forwarding::Number {
                number_id: "b".into(),
            },
        ),
        forwarding_number(
            "b",
            "+14155550002",
            Forwarding::Number {
                number_id: "a".into(),
            },
        ),
    ]);
    let d = call_at(&s, "+14155550001", ny(2026, 11, 25, 10, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::Error);
    assert!(matches!(d.action, TwimlPlan::Say { .. }));
}

#[test]
fn a_link_to_a_number_of_another_clinic_is_never_followed() {
    let mut other: ClinicConfig = serde_json::from_value(clinic_json()).expect("clinic");
    other.id = "clinic-2".into();
    other.numbers = vec![number(
        "x",
        "+14155550009",
        json!({"off_hours": {"type": "hangup"}}),
    )];
    let s = Snapshot::build(
        SnapshotInput {
            clinics: vec![
                clinic_with(vec![forwarding_number(
                    "a",
                    "+14155550001",
                    Forwarding::Number {
                        number_id: "x".into(),
                    },
                )]),
                other,
            ],
        },
        1,
    );
    let d = call_at(&s, "+14155550001", ny(2026, 11, 25, 10, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::Error);
    assert!(!s.warnings().is_empty());
}

// Rule 3. Local time.

#[test]
fn local_time_is_the_numbers_own_timezone_else_its_locations_else_the_clinics() {
    let at = utc("2026-11-25T17:00:00Z");
    let mut own = number("own", "+14155550001", json!({"timezone": "Europe/Berlin"}));
    own.location_id = Some("loc-sf".into());
    let mut located = number("located", "+14155550002", json!({}));
    located.location_id = Some("loc-sf".into());
    let plain = number("plain", "+14155550003", json!({}));
    let s = snapshot_of(vec![own, located, plain]);
    let cases = [
        ("+14155550001", "Europe/Berlin", "2026-11-25T18:00:00+01:00"),
        (
            "+14155550002",
            "America/Los_Angeles",
            "2026-11-25T09:00:00-08:00",
        ),
        (
            "+14155550003",
            "America/New_York",
            "2026-11-25T12:00:00-05:00",
        ),
    ];
    for (to, zone, local) in cases {
        let d = call_at(&s, to, at);
        assert_eq!(d.timezone(), Some(zone), "{to}");
        assert_eq!(d.local_time().as_deref(), Some(local), "{to}");
    }
}

// Rule 4. Closures.

#[test]
fn a_closure_covering_the_local_time_runs_its_own_action() {
    let s = one_number(json!({
        "ring_groups": [front_desk()],
        "closures": [{"id": "tg", "name": "Thanksgiving", "repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu",
                      "action": {"type": "message", "text": "Happy Thanksgiving, we are closed."}}]
    }));
    let d = call(&s, ny(2026, 11, 26, 10, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::Closure);
    assert_eq!(d.outcome.id.as_deref(), Some("tg"));
    assert_eq!(d.outcome.name.as_deref(), Some("Thanksgiving"));
    assert_eq!(
        d.action,
        TwimlPlan::Say {
            text: "Happy Thanksgiving, we are closed.".into()
        }
    );
}

#[test]
fn a_closure_without_an_action_runs_the_off_hours_handler() {
    let s = one_number(json!({
        "ring_groups": [front_desk()],
        "off_hours": {"type": "voicemail", "greeting": "We are closed."},
        "closures": [{"name": "Staff day", "repeat": "none", "start": "2026-11-25", "end": "2026-11-25"}]
    }));
    let d = call(&s, ny(2026, 11, 25, 10, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::Closure);
    assert_eq!(
        d.handler.as_ref().map(|h| h.kind),
        Some(HandlerKind::Voicemail)
    );
    assert_eq!(
        d.action,
        TwimlPlan::Voicemail {
            greeting: "We are closed.".into()
        }
    );
}

#[test]
fn closures_win_over_scheduled_assistants_and_ring_groups() {
    let s = one_number(json!({
        "assistants": [{"assistant_id": "amy", "schedule": [{"days": ["wed"], "start": "09:00", "end": "11:00"}]}],
        "ring_groups": [front_desk()],
        "closures": [{"name": "Closed", "repeat": "weekly", "days": ["wed"], "action": {"type": "hangup"}}]
    }));
    let d = call(&s, ny(2026, 11, 25, 10, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::Closure);
    assert_eq!(d.action, TwimlPlan::Hangup);
}

// Rule 5. Scheduled assistants.

#[test]
fn a_voice_assistant_whose_schedule_covers_the_local_time_answers_before_ring_groups() {
    let s = one_number(json!({
        "assistants": [{"assistant_id": "amy", "schedule": [{"days": ["wed"], "start": "12:00", "end": "13:00"}]}],
        "ring_groups": [front_desk()]
    }));
    let lunch = call(&s, ny(2026, 11, 25, 12, 30));
    assert_eq!(lunch.outcome.kind, OutcomeKind::Assistant);
    assert_eq!(lunch.outcome.id.as_deref(), Some("amy"));
    assert!(matches!(lunch.action, TwimlPlan::Stream { .. }));
    let morning = call(&s, ny(2026, 11, 25, 11, 59));
    assert_eq!(morning.outcome.kind, OutcomeKind::RingGroup);
}

#[test]
fn each_voice_target_is_answered_as_its_type_says() {
    let cases = [("amy", "stream"), ("sam", "sip"), ("rex", "redirect")];
    for (assistant, kind) in cases {
        let s = one_number(json!({"assistants": [{"assistant_id": assistant}]}));
        let d = call(&s, ny(2026, 11, 25, 10, 0));
        let ok = match (&d.action, kind) {
            (TwimlPlan::Stream { url, parameters }, "stream") => {
                url == "wss://ai.example.com/stream"
                    && parameters.contains(&("clinic_id".into(), CLINIC.into()))
                    && parameters.contains(&("number_id".into(), "main".into()))
                    && parameters.contains(&("caller".into(), CALLER.into()))
                    && parameters.contains(&("called".into(), MAIN.into()))
                    && parameters.contains(&("tenant".into(), "demo".into()))
            }
            (TwimlPlan::Dial(dial), "sip") => {
                dial.targets == vec![DialTarget::Sip("sip:sam@ai.example.com".into())]
            }
            (TwimlPlan::Redirect { url }, "redirect") => {
                url == "https://ai.example.com/twiml?a=1&b=2"
            }
            _ => false,
        };
        assert!(ok, "{assistant}: {:?}", d.action);
    }
}

// Rule 6. Scheduled ring groups.

#[test]
fn the_first_ring_group_in_list_order_whose_schedule_covers_the_local_time_is_dialled() {
    let mut second = front_desk();
    second["id"] = json!("second");
    second["name"] = json!("Second desk");
    let mut late = front_desk();
    late["id"] = json!("late");
    late["name"] = json!("Late desk");
    late["schedule"] = json!([{"days": ["wed"], "start": "17:00", "end": "20:00"}]);
    let s = one_number(json!({"ring_groups": [late, front_desk(), second]}));
    assert_eq!(
        call(&s, ny(2026, 11, 25, 10, 0)).outcome.id.as_deref(),
        Some("desk")
    );
    assert_eq!(
        call(&s, ny(2026, 11, 25, 17, 30)).outcome.id.as_deref(),
        Some("late")
    );
    assert_eq!(
        call(&s, ny(2026, 11, 25, 19, 30)).outcome.id.as_deref(),
        Some("late")
    );
}

#[test]
fn a_simultaneous_ring_group_rings_every_member_in_one_dial_for_ring_seconds() {
    let s = one_number(json!({"ring_groups": [front_desk()]}));
    let d = call(&s, ny(2026, 11, 25, 10, 0));
    let TwimlPlan::Dial(dial) = &d.action else {
        panic!("expected a dial")
    };
    assert_eq!(
        dial.targets,
        vec![
            DialTarget::Number("+14155550101".into()),
            DialTarget::Number("+14155550102".into())
        ]
    );
    assert_eq!(dial.timeout, Some(20));
    assert!(dial.answer_on_bridge);
    assert!(dial.continuation.is_some());
}

#[test]
fn a_ring_group_without_ring_seconds_rings_for_twenty_seconds() {
    let mut group = front_desk();
    group
        .as_object_mut()
        .expect("object")
        .remove("ring_seconds");
    let s = one_number(json!({"ring_groups": [group]}));
    let TwimlPlan::Dial(dial) = call(&s, ny(2026, 11, 25, 10, 0)).action else {
        panic!("expected a dial")
    };
    assert_eq!(dial.timeout, Some(20));
}

#[test]
fn a_sequential_ring_group_dials_one_member_at_a_time_in_order_and_moves_on_when_nobody_answers() {
    let s = one_number(json!({"ring_groups": [{
        "id": "seq", "name": "Nurses", "strategy": "sequential", "ring_seconds": 15,
        "members": [{"target": "+14155550101"}, {"target": "sip:nurse@pbx.example.com"}, {"target": "client:alice"}],
        "on_no_answer": {"type": "assistant", "assistant_id": "amy"}}]}));
    let first = call(&s, ny(2026, 11, 25, 10, 0));
    assert_eq!(
        dial_targets(&first.action),
        vec![DialTarget::Number("+14155550101".into())]
    );
    let second = continue_after(&s, &first.action, DialStatus::NoAnswer);
    assert_eq!(
        dial_targets(&second.action),
        vec![DialTarget::Sip("sip:nurse@pbx.example.com".into())]
    );
    let third = continue_after(&s, &second.action, DialStatus::Busy);
    assert_eq!(
        dial_targets(&third.action),
        vec![DialTarget::Client("alice".into())]
    );
    let fourth = continue_after(&s, &third.action, DialStatus::Failed);
    assert_eq!(fourth.outcome.kind, OutcomeKind::Assistant);
    assert_eq!(fourth.outcome.id.as_deref(), Some("amy"));
}

#[test]
fn a_dial_that_was_answered_or_completed_ends_the_call() {
    let s = one_number(json!({"ring_groups": [front_desk()]}));
    let first = call(&s, ny(2026, 11, 25, 10, 0));
    for status in [DialStatus::Completed, DialStatus::Answered] {
        let d = continue_after(&s, &first.action, status);
        assert_eq!(d.action, TwimlPlan::Hangup, "{status}");
        assert_eq!(d.outcome.kind, OutcomeKind::Hangup, "{status}");
    }
}

#[test]
fn no_answer_busy_failed_and_canceled_move_on_to_on_no_answer() {
    let mut group = front_desk();
    group["on_no_answer"] = json!({"type": "message", "text": "Nobody is free."});
    let s = one_number(json!({"ring_groups": [group]}));
    let first = call(&s, ny(2026, 11, 25, 10, 0));
    for status in [
        DialStatus::NoAnswer,
        DialStatus::Busy,
        DialStatus::Failed,
        DialStatus::Canceled,
    ] {
        let d = continue_after(&s, &first.action, status);
        assert_eq!(
            d.action,
            TwimlPlan::Say {
                text: "Nobody is free.".into()
            },
            "{status}"
        );
        assert_eq!(d.outcome.kind, OutcomeKind::Message, "{status}");
    }
}

#[test]
fn without_on_no_answer_an_unanswered_ring_group_hands_over_to_the_off_hours_handler() {
    let s = one_number(
        json!({"ring_groups": [front_desk()], "off_hours": {"type": "assistant", "assistant_id": "amy"}}),
    );
    let first = call(&s, ny(2026, 11, 25, 10, 0));
    let d = continue_after(&s, &first.action, DialStatus::NoAnswer);
    assert_eq!(d.outcome.kind, OutcomeKind::Assistant);
}

#[test]
fn an_unanswered_ring_group_that_is_the_off_hours_handler_goes_to_voicemail() {
    let mut always = front_desk();
    always["schedule"] = json!(null);
    let s = one_number(json!({"ring_groups": [always]}));
    let first = call(&s, ny(2026, 11, 25, 10, 0));
    assert_eq!(first.outcome.kind, OutcomeKind::OffHours);
    let d = continue_after(&s, &first.action, DialStatus::NoAnswer);
    assert_eq!(d.outcome.kind, OutcomeKind::Voicemail);
    assert!(matches!(d.action, TwimlPlan::Voicemail { .. }));
}

#[test]
fn on_no_answer_may_name_another_ring_group_of_the_number() {
    let mut backup = front_desk();
    backup["id"] = json!("backup");
    backup["name"] = json!("Backup");
    backup["schedule"] = json!([{"days": ["sun"], "start": "00:00", "end": "01:00"}]);
    backup["members"] = json!([{"target": "+14155550199"}]);
    let mut desk = front_desk();
    desk["on_no_answer"] = json!({"type": "ring_group", "ring_group_id": "backup"});
    let s = one_number(json!({"ring_groups": [desk, backup]}));
    let first = call(&s, ny(2026, 11, 25, 10, 0));
    let d = continue_after(&s, &first.action, DialStatus::NoAnswer);
    assert_eq!(d.outcome.kind, OutcomeKind::RingGroup);
    assert_eq!(d.outcome.id.as_deref(), Some("backup"));
    assert_eq!(
        dial_targets(&d.action),
        vec![DialTarget::Number("+14155550199".into())]
    );
}

#[test]
fn the_next_step_is_computed_from_the_original_instant_not_the_time_of_the_callback() {
    // The desk closes at 18:00 with a different on_no_answer than the evening rule.
    let mut desk = front_desk();
    desk["on_no_answer"] = json!({"type": "assistant", "assistant_id": "amy"});
    let s = one_number(json!({"ring_groups": [desk], "off_hours": {"type": "hangup"}}));
    let started = ny(2026, 11, 25, 17, 59) + chrono::Duration::seconds(50);
    let first = call(&s, started);
    let TwimlPlan::Dial(dial) = &first.action else {
        panic!("expected a dial")
    };
    let continuation = dial.continuation.clone().expect("continuation");
    assert_eq!(continuation.instant, started.timestamp());
    // The callback arrives after 18:00, but the 17:59 rules still apply.
    let d = continue_after(&s, &first.action, DialStatus::NoAnswer);
    assert_eq!(d.outcome.id.as_deref(), Some("amy"));
}

// Rule 7. Off-hours handler.

#[test]
fn off_hours_runs_when_nothing_is_scheduled() {
    let s = one_number(
        json!({"ring_groups": [front_desk()], "off_hours": {"type": "forward", "to": "+12125550100"}}),
    );
    let d = call(&s, ny(2026, 11, 25, 20, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::OffHours);
    assert_eq!(
        dial_targets(&d.action),
        vec![DialTarget::Number("+12125550100".into())]
    );
}

#[test]
fn without_off_hours_the_assistant_bound_without_schedule_is_the_off_hours_handler() {
    let mut always = front_desk();
    always["schedule"] = json!(null);
    let s = one_number(json!({"assistants": [{"assistant_id": "rex"}], "ring_groups": [always]}));
    let d = call(&s, ny(2026, 11, 25, 20, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::OffHours);
    assert_eq!(
        d.handler.as_ref().and_then(|h| h.id.as_deref()),
        Some("rex")
    );
}

#[test]
fn without_off_hours_or_always_on_assistant_the_first_ring_group_without_schedule_answers() {
    let mut always = front_desk();
    always["schedule"] = json!(null);
    always["id"] = json!("always");
    let s = one_number(json!({"ring_groups": [front_desk(), always]}));
    let d = call(&s, ny(2026, 11, 25, 20, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::OffHours);
    assert_eq!(
        d.handler.as_ref().and_then(|h| h.id.as_deref()),
        Some("always")
    );
}

#[test]
fn with_no_handler_at_all_the_caller_gets_voicemail_with_the_default_greeting() {
    let s = one_number(json!({}));
    let d = call(&s, ny(2026, 11, 25, 20, 0));
    assert_eq!(d.outcome.kind, OutcomeKind::OffHours);
    assert_eq!(
        d.action,
        TwimlPlan::Voicemail {
            greeting: switchboard_core::resolve::DEFAULT_VOICEMAIL_GREETING.into()
        }
    );
}

// Messages (SMS).

#[test]
fn a_text_to_an_unknown_released_pending_or_paused_number_gets_an_empty_response() {
    let s = one_number(json!({}));
    assert_eq!(
        resolve_sms(&s, "+19995550000", CALLER, Explain::Trace).action,
        TwimlPlan::SmsEmpty
    );
    for lifecycle in [Lifecycle::Released, Lifecycle::Pending, Lifecycle::Paused] {
        let mut n = number("main", MAIN, json!({}));
        n.lifecycle = lifecycle;
        let mut clinic = clinic_with(vec![n]);
        clinic.texting_assistant_id = Some("tess".into());
        let s = Snapshot::build(
            SnapshotInput {
                clinics: vec![clinic],
            },
            1,
        );
        let d = resolve_sms(&s, MAIN, CALLER, Explain::Trace);
        assert_eq!(d.action, TwimlPlan::SmsEmpty, "{lifecycle:?}");
        assert_eq!(d.outcome.kind, OutcomeKind::SmsIgnore);
    }
}

#[test]
fn a_text_goes_to_the_texting_assistant_on_every_enabled_number_forwarding_and_linked_ones_included()
 {
    let mut ext = number("ext", "+14155550003", json!({}));
    ext.forwarding = Some(Forwarding::External {
        to: "+12125550100".into(),
    });
    let mut clinic = clinic_with(vec![
        number("main", MAIN, json!({})),
        forwarding_number(
            "linked",
            "+14155550004",
            Forwarding::Number {
                number_id: "main".into(),
            },
        ),
        ext,
    ]);
    clinic.texting_assistant_id = Some("tess".into());
    clinic.sms_auto_reply = Some("Thanks!".into());
    let s = Snapshot::build(
        SnapshotInput {
            clinics: vec![clinic],
        },
        1,
    );
    for to in [MAIN, "+14155550004", "+14155550003"] {
        let d = resolve_sms(&s, to, CALLER, Explain::Trace);
        assert_eq!(d.outcome.kind, OutcomeKind::SmsAssistant, "{to}");
        assert_eq!(
            d.action,
            TwimlPlan::SmsRedirect {
                url: "https://ai.example.com/sms".into()
            }
        );
    }
}

#[test]
fn without_texting_assistant_a_text_gets_the_clinics_auto_reply_else_nothing() {
    let mut clinic = clinic_with(vec![number("main", MAIN, json!({}))]);
    clinic.sms_auto_reply = Some("We will call you back.".into());
    let s = Snapshot::build(
        SnapshotInput {
            clinics: vec![clinic.clone()],
        },
        1,
    );
    let d = resolve_sms(&s, MAIN, CALLER, Explain::Trace);
    assert_eq!(d.outcome.kind, OutcomeKind::SmsReply);
    assert_eq!(
        d.action,
        TwimlPlan::SmsMessage {
            text: "We will call you back.".into()
        }
    );

    clinic.sms_auto_reply = None;
    let s = Snapshot::build(
        SnapshotInput {
            clinics: vec![clinic],
        },
        1,
    );
    let d = resolve_sms(&s, MAIN, CALLER, Explain::Trace);
    assert_eq!(d.outcome.kind, OutcomeKind::SmsIgnore);
    assert_eq!(d.action, TwimlPlan::SmsEmpty);
}

// Time: weekly windows.

#[test]
fn a_window_covers_from_start_inclusive_to_end_exclusive_on_each_listed_day() {
    let s = one_number(json!({"ring_groups": [front_desk()]}));
    let cases = [
        (ny(2026, 11, 25, 7, 59), OutcomeKind::OffHours),
        (ny(2026, 11, 25, 8, 0), OutcomeKind::RingGroup),
        (ny(2026, 11, 25, 17, 59), OutcomeKind::RingGroup),
        (ny(2026, 11, 25, 18, 0), OutcomeKind::OffHours),
        (ny(2026, 11, 28, 10, 0), OutcomeKind::OffHours), // Saturday
    ];
    for (at, kind) in cases {
        assert_eq!(call(&s, at).outcome.kind, kind, "{at}");
    }
}

#[test]
fn a_window_may_end_at_24_00() {
    let mut group = front_desk();
    group["schedule"] = json!([{"days": ["wed"], "start": "20:00", "end": "24:00"}]);
    let s = one_number(json!({"ring_groups": [group]}));
    assert_eq!(
        call(&s, ny(2026, 11, 25, 23, 59)).outcome.kind,
        OutcomeKind::RingGroup
    );
    assert_eq!(
        call(&s, ny(2026, 11, 26, 0, 0)).outcome.kind,
        OutcomeKind::OffHours
    );
}

#[test]
fn an_overnight_window_covers_early_next_day() {
    let mut group = front_desk();
    group["schedule"] = json!([{"days": ["fri"], "start": "22:00", "end": "06:00"}]);
    let s = one_number(json!({"ring_groups": [group]}));
    let cases = [
        (ny(2026, 11, 27, 21, 59), OutcomeKind::OffHours),
        (ny(2026, 11, 27, 22, 0), OutcomeKind::RingGroup),
        (ny(2026, 11, 28, 5, 59), OutcomeKind::RingGroup),
        (ny(2026, 11, 28, 6, 0), OutcomeKind::OffHours),
        (ny(2026, 11, 27, 5, 0), OutcomeKind::OffHours), // Friday early: Thursday is not listed
    ];
    for (at, kind) in cases {
        assert_eq!(call(&s, at).outcome.kind, kind, "{at}");
    }
}

#[test]
fn a_sunday_overnight_window_wraps_into_monday_morning() {
    let mut group = front_desk();
    group["schedule"] = json!([{"days": ["sun"], "start": "23:00", "end": "01:00"}]);
    let s = one_number(json!({"ring_groups": [group]}));
    assert_eq!(
        call(&s, ny(2026, 11, 29, 23, 30)).outcome.kind,
        OutcomeKind::RingGroup
    );
    assert_eq!(
        call(&s, ny(2026, 11, 30, 0, 30)).outcome.kind,
        OutcomeKind::RingGroup
    );
    assert_eq!(
        call(&s, ny(2026, 11, 30, 1, 0)).outcome.kind,
        OutcomeKind::OffHours
    );
}

// Status shown to people.

#[test]
fn each_number_shows_the_status_its_lifecycle_forwarding_and_handlers_call_for() {
    let mut pending = number("pending", "+14155550001", json!({}));
    pending.lifecycle = Lifecycle::Pending;
    let mut paused = number(
        "paused",
        "+14155550002",
        json!({"ring_groups": [front_desk()]}),
    );
    paused.lifecycle = Lifecycle::Paused;
    let mut released = number("released", "+14155550003", json!({}));
    released.lifecycle = Lifecycle::Released;
    let mut external = number("external", "+14155550004", json!({}));
    external.forwarding = Some(Forwarding::External {
        to: "+12125550100".into(),
    });
    let s = snapshot_of(vec![
        pending,
        paused,
        released,
        external,
        forwarding_number(
            "to-plain",
            "+14155550005",
            Forwarding::Number {
                number_id: "desk".into(),
            },
        ),
        forwarding_number(
            "to-ai",
            "+14155550006",
            Forwarding::Number {
                number_id: "ai".into(),
            },
        ),
        number("empty", "+14155550007", json!({})),
        number(
            "desk",
            "+14155550008",
            json!({"ring_groups": [front_desk()]}),
        ),
        number(
            "ai",
            "+14155550009",
            json!({"assistants": [{"assistant_id": "amy"}]}),
        ),
    ]);
    use switchboard_core::model::NumberStatus;
    let cases = [
        ("pending", NumberStatus::Pending),
        ("paused", NumberStatus::Disabled),
        ("released", NumberStatus::Released),
        ("external", NumberStatus::Forwarding),
        ("to-plain", NumberStatus::Forwarding),
        ("to-ai", NumberStatus::Linked),
        ("empty", NumberStatus::Unassigned),
        ("desk", NumberStatus::Enabled),
        ("ai", NumberStatus::Enabled),
    ];
    for (id, status) in cases {
        let n = s.number_by_id(id).expect("number");
        assert_eq!(s.status_of(n), status, "{id}");
    }
}

#[test]
fn a_card_names_the_assistants_a_number_binds_or_names_and_a_linked_one_those_of_its_end() {
    let ai = number(
        "ai",
        "+14155550009",
        json!({
            "assistants": [{"assistant_id": "sam", "schedule": [{"days": ["mon"], "start": "08:00", "end": "12:00"}]}],
            "ring_groups": [{"id": "g1", "name": "Front desk", "strategy": "simultaneous",
                             "members": [{"target": "+14155550101"}],
                             "on_no_answer": {"type": "assistant", "assistant_id": "amy"}}],
            "off_hours": {"type": "assistant", "assistant_id": "sam"},
            "closures": [{"name": "Sundays", "repeat": "weekly", "days": ["sun"],
                          "action": {"type": "assistant", "assistant_id": "nobody"}}]
        }),
    );
    let s = snapshot_of(vec![
        ai,
        forwarding_number(
            "to-ai",
            "+14155550006",
            Forwarding::Number {
                number_id: "ai".into(),
            },
        ),
        number(
            "own",
            "+14155550007",
            json!({"assistants": [{"assistant_id": "rex"}]}),
        ),
    ]);
    let names = |id: &str| -> Vec<String> {
        let n = s.number_by_id(id).expect("number");
        s.card_assistants(n)
            .iter()
            .map(|a| a.name().to_owned())
            .collect()
    };
    // First mention first, once each; an assistant that does not exist is
    // not one (the snapshot warns).
    assert_eq!(names("ai"), ["Sip Sam", "After Hours Amy"]);
    assert_eq!(names("to-ai"), ["Sip Sam", "After Hours Amy"], "its end's");
    assert_eq!(names("own"), ["Redirect Rex"]);
    let ai = s.number_by_id("ai").expect("number");
    assert_eq!(
        ai.ring_groups().collect::<Vec<_>>(),
        [(Some("g1"), "Front desk")]
    );
}

#[test]
fn a_continuation_for_a_number_that_is_gone_ends_an_answered_call_and_apologises_otherwise() {
    let s = one_number(json!({"ring_groups": [front_desk()]}));
    let first = call(&s, ny(2026, 11, 25, 10, 0));
    let empty = Snapshot::empty();
    assert_eq!(
        continue_after(&empty, &first.action, DialStatus::Completed).action,
        TwimlPlan::Hangup
    );
    let d = continue_after(&empty, &first.action, DialStatus::NoAnswer);
    assert_eq!(d.outcome.kind, OutcomeKind::Error);
    assert!(matches!(d.action, TwimlPlan::Say { .. }));
}
