//! The 422 rules of `docs/routing.md` and `docs/api.md`, every problem at
//! once with its field path; and the forwarding rules (self-forwarding,
//! cycles).

use serde_json::{Value, json};
use switchboard_core::error::ForwardingError;
use switchboard_core::model::{AssistantKindTag, Forwarding, Lifecycle, LocalTime, RoutingDoc};
use switchboard_core::validate::{
    ClinicContext, NumberLink, check_forwarding, validate_e164, validate_routing, validate_timezone,
};

fn ctx() -> ClinicContext {
    ClinicContext {
        assistants: vec![
            ("amy".into(), AssistantKindTag::Voice),
            ("rex".into(), AssistantKindTag::Voice),
            ("tess".into(), AssistantKindTag::Texting),
        ],
    }
}

fn problems(value: Value) -> Vec<(String, String)> {
    let doc: RoutingDoc = serde_json::from_value(value).expect("well-formed document");
    match validate_routing(&doc, &ctx()) {
        Ok(()) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| (e.field, e.problem)).collect(),
    }
}

fn fields(value: Value) -> Vec<String> {
    problems(value)
        .into_iter()
        .map(|(field, _)| field)
        .collect()
}

fn group(members: usize) -> Value {
    let members: Vec<Value> = (0..members)
        .map(|i| json!({"target": format!("+1415555{:04}", 100 + i)}))
        .collect();
    json!({"id": "g", "name": "Desk", "strategy": "simultaneous", "members": members})
}

#[test]
fn the_api_md_example_document_is_valid() {
    let doc = json!({
      "timezone": "America/New_York",
      "assistants": [{"assistant_id": "amy", "schedule": [{"days": ["mon","tue"], "start": "12:00", "end": "13:00"}]}],
      "ring_groups": [{"id": "fd", "name": "Front desk", "strategy": "sequential", "ring_seconds": 20,
                       "members": [{"target": "+14155550100", "label": "Desk 1"}],
                       "schedule": [{"days": ["mon","tue","wed","thu","fri"], "start": "08:00", "end": "18:00"}],
                       "on_no_answer": {"type": "assistant", "assistant_id": "amy"}}],
      "off_hours": {"type": "voicemail", "greeting": "We are closed."},
      "closures": [{"id": "tg", "name": "Thanksgiving", "repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu"}]
    });
    assert_eq!(problems(doc), Vec::<(String, String)>::new());
}

#[test]
fn a_timezone_must_be_an_iana_name() {
    assert!(validate_timezone("America/New_York").is_ok());
    assert!(validate_timezone("Australia/Lord_Howe").is_ok());
    for bad in ["EST-ish", "america/new_york", "", "Mars/Olympus", "+05:00"] {
        assert!(validate_timezone(bad).is_err(), "{bad:?}");
    }
    assert_eq!(fields(json!({"timezone": "Nowhere/Land"})), ["timezone"]);
}

#[test]
fn a_phone_number_must_be_e164() {
    for good in ["+14155550123", "+442071838750", "+6140000000"] {
        assert!(validate_e164(good).is_ok(), "{good}");
    }
    for bad in [
        "4155550123",
        "+1 415 555 0123",
        "+1-415-555-0123",
        "+0123456789",
        "+1234",
        "+1234567890123456",
        "+1415555012a",
        "",
    ] {
        assert!(validate_e164(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn times_are_strict_hh_mm_and_24_00_is_allowed() {
    for (text, minutes) in [
        ("00:00", 0),
        ("08:30", 510),
        ("23:59", 1439),
        ("24:00", 1440),
    ] {
        assert_eq!(
            text.parse::<LocalTime>().map(LocalTime::minutes),
            Ok(minutes),
            "{text}"
        );
    }
    for bad in [
        "8:00", "08:00:00", "24:01", "25:00", "12:60", "noon", "", "08h00", " 8:00",
    ] {
        assert!(bad.parse::<LocalTime>().is_err(), "{bad:?}");
    }
    let mut g = group(1);
    g["schedule"] = json!([{"days": ["mon"], "start": "8:00", "end": "24:30"}]);
    assert_eq!(
        fields(json!({"ring_groups": [g]})),
        [
            "ring_groups[0].schedule[0].start",
            "ring_groups[0].schedule[0].end"
        ]
    );
}

#[test]
fn a_window_whose_start_equals_its_end_is_refused() {
    let mut g = group(1);
    g["schedule"] = json!([{"days": ["mon"], "start": "09:00", "end": "09:00"}]);
    assert_eq!(
        fields(json!({"ring_groups": [g]})),
        ["ring_groups[0].schedule[0].end"]
    );
}

#[test]
fn a_window_must_list_a_day_and_may_not_start_at_24_00() {
    let mut g = group(1);
    g["schedule"] = json!([{"days": [], "start": "24:00", "end": "06:00"}]);
    assert_eq!(
        fields(json!({"ring_groups": [g]})),
        [
            "ring_groups[0].schedule[0].days",
            "ring_groups[0].schedule[0].start"
        ]
    );
}

#[test]
fn a_ring_group_has_one_to_ten_members() {
    assert_eq!(
        fields(json!({"ring_groups": [group(0)]})),
        ["ring_groups[0].members"]
    );
    assert_eq!(
        fields(json!({"ring_groups": [group(11)]})),
        ["ring_groups[0].members"]
    );
    assert!(fields(json!({"ring_groups": [group(1)]})).is_empty());
    assert!(fields(json!({"ring_groups": [group(10)]})).is_empty());
}

#[test]
fn a_ring_group_rings_five_to_one_hundred_twenty_seconds() {
    for (seconds, ok) in [(4, false), (5, true), (120, true), (121, false), (0, false)] {
        let mut g = group(1);
        g["ring_seconds"] = json!(seconds);
        let found = fields(json!({"ring_groups": [g]}));
        assert_eq!(found.is_empty(), ok, "{seconds}: {found:?}");
    }
}

#[test]
fn a_member_target_is_an_e164_number_a_sip_uri_or_a_client() {
    let mut g = group(1);
    g["members"] = json!([{"target": "+14155550100"}, {"target": "sip:desk@pbx.example.com"},
                          {"target": "client:alice"}, {"target": "415-555"}, {"target": "client:"}]);
    assert_eq!(
        fields(json!({"ring_groups": [g]})),
        [
            "ring_groups[0].members[3].target",
            "ring_groups[0].members[4].target"
        ]
    );
}

#[test]
fn assistant_schedules_on_one_number_may_not_overlap() {
    let doc = json!({"assistants": [
        {"assistant_id": "amy", "schedule": [{"days": ["mon"], "start": "12:00", "end": "13:00"}]},
        {"assistant_id": "rex", "schedule": [{"days": ["mon"], "start": "12:30", "end": "14:00"}]}
    ]});
    let found = problems(doc);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "assistants[1].schedule");
    assert!(found[0].1.contains("mon 12:30"), "{}", found[0].1);

    let touching = json!({"assistants": [
        {"assistant_id": "amy", "schedule": [{"days": ["mon"], "start": "12:00", "end": "13:00"}]},
        {"assistant_id": "rex", "schedule": [{"days": ["mon"], "start": "13:00", "end": "14:00"}]}
    ]});
    assert!(fields(touching).is_empty());
}

#[test]
fn an_overnight_assistant_schedule_overlaps_the_next_mornings() {
    let doc = json!({"assistants": [
        {"assistant_id": "amy", "schedule": [{"days": ["sun"], "start": "22:00", "end": "02:00"}]},
        {"assistant_id": "rex", "schedule": [{"days": ["mon"], "start": "01:00", "end": "08:00"}]}
    ]});
    assert_eq!(fields(doc), ["assistants[1].schedule"]);
}

#[test]
fn at_most_one_assistant_may_be_always_on() {
    let doc = json!({"assistants": [{"assistant_id": "amy"}, {"assistant_id": "rex"}]});
    assert_eq!(fields(doc), ["assistants[1].schedule"]);
}

#[test]
fn references_to_assistants_that_do_not_exist_or_are_not_voice_assistants_are_refused() {
    let doc = json!({
        "assistants": [{"assistant_id": "ghost"}],
        "off_hours": {"type": "assistant", "assistant_id": "tess"},
        "closures": [{"name": "X", "repeat": "weekly", "days": ["mon"], "action": {"type": "assistant", "assistant_id": "nobody"}}]
    });
    assert_eq!(
        fields(doc),
        [
            "assistants[0].assistant_id",
            "off_hours.assistant_id",
            "closures[0].action.assistant_id"
        ]
    );
}

#[test]
fn references_to_ring_groups_that_are_not_on_the_number_are_refused() {
    let mut g = group(1);
    g["on_no_answer"] = json!({"type": "ring_group", "ring_group_id": "elsewhere"});
    let doc =
        json!({"ring_groups": [g], "off_hours": {"type": "ring_group", "ring_group_id": "nope"}});
    assert_eq!(
        fields(doc),
        [
            "ring_groups[0].on_no_answer.ring_group_id",
            "off_hours.ring_group_id"
        ]
    );
}

#[test]
fn on_no_answer_chains_that_loop_are_refused() {
    let mut a = group(1);
    a["id"] = json!("a");
    a["on_no_answer"] = json!({"type": "ring_group", "ring_group_id": "b"});
    let mut b = group(1);
    b["id"] = json!("b");
    b["on_no_answer"] = json!({"type": "ring_group", "ring_group_id": "a"});
    assert_eq!(
        fields(json!({"ring_groups": [a, b]})),
        ["ring_groups[0].on_no_answer"]
    );

    let mut own = group(1);
    own["on_no_answer"] = json!({"type": "ring_group", "ring_group_id": "g"});
    assert_eq!(
        fields(json!({"ring_groups": [own]})),
        ["ring_groups[0].on_no_answer"]
    );
}

#[test]
fn a_chain_that_loops_through_the_default_hand_over_to_the_off_hours_group_is_refused() {
    // off_hours = a; a → b; b has no on_no_answer, so it hands over to off_hours = a.
    let mut a = group(1);
    a["id"] = json!("a");
    a["on_no_answer"] = json!({"type": "ring_group", "ring_group_id": "b"});
    let mut b = group(1);
    b["id"] = json!("b");
    let doc =
        json!({"ring_groups": [a, b], "off_hours": {"type": "ring_group", "ring_group_id": "a"}});
    assert_eq!(fields(doc), ["ring_groups[0].on_no_answer"]);
}

#[test]
fn a_closure_span_over_366_days_or_ending_before_it_starts_is_refused() {
    let doc = json!({"closures": [
        {"name": "Long", "repeat": "none", "start": "2026-01-01", "end": "2027-01-02"},
        {"name": "Backwards", "repeat": "none", "start": "2026-12-24", "end": "2026-12-23"},
        {"name": "Empty", "repeat": "none", "start": "2026-12-24T12:00", "end": "2026-12-24T12:00"},
        {"name": "Leap year", "repeat": "none", "start": "2028-01-01", "end": "2028-12-31"},
        {"name": "Bounds", "repeat": "weekly", "days": ["mon"], "from": "2026-05-01", "until": "2026-04-01"}
    ]});
    assert_eq!(
        fields(doc),
        [
            "closures[0].end",
            "closures[1].end",
            "closures[2].end",
            "closures[4].until"
        ]
    );
}

#[test]
fn closure_rules_are_checked_field_by_field() {
    let doc = json!({"closures": [
        {"name": "A", "repeat": "monthly", "day": 32},
        {"name": "B", "repeat": "monthly", "nth": 6, "weekday": "mon"},
        {"name": "C", "repeat": "yearly", "month": 13, "day": 1},
        {"name": "D", "repeat": "yearly", "month": 2, "day": 30},
        {"name": "E", "repeat": "yearly", "month": 12, "day": 24, "days": 400},
        {"name": "F", "repeat": "weekly", "days": ["sat"], "start_time": "10:00"},
        {"name": "G", "repeat": "none", "start": "24.12.2026", "end": "2026-12-25"},
        {"name": "", "repeat": "monthly", "day": 1, "nth": 1, "weekday": "mon"}
    ]});
    assert_eq!(
        fields(doc),
        [
            "closures[0].day",
            "closures[1].nth",
            "closures[2].month",
            "closures[3].day",
            "closures[4].days",
            "closures[5].end_time",
            "closures[6].start",
            "closures[7].name",
            "closures[7].day"
        ]
    );
}

#[test]
fn the_29th_of_february_is_a_valid_yearly_closure() {
    let doc = json!({"closures": [{"name": "Leap", "repeat": "yearly", "month": 2, "day": 29}]});
    assert!(fields(doc).is_empty());
}

#[test]
fn actions_are_checked_for_their_own_fields() {
    let doc = json!({
        "off_hours": {"type": "forward", "to": "555-0100"},
        "closures": [{"name": "X", "repeat": "weekly", "days": ["mon"], "action": {"type": "message", "text": "  "}}]
    });
    assert_eq!(fields(doc), ["off_hours.to", "closures[0].action.text"]);
}

#[test]
fn validation_reports_every_problem_at_once() {
    let mut g = group(0);
    g["ring_seconds"] = json!(3);
    let doc = json!({
        "timezone": "Mars/Base",
        "assistants": [{"assistant_id": "ghost"}],
        "ring_groups": [g],
        "off_hours": {"type": "forward", "to": "nope"},
        "closures": [{"name": "Long", "repeat": "none", "start": "2026-01-01", "end": "2028-01-01"}]
    });
    assert_eq!(
        fields(doc),
        [
            "timezone",
            "assistants[0].assistant_id",
            "ring_groups[0].members",
            "ring_groups[0].ring_seconds",
            "off_hours.to",
            "closures[0].end"
        ]
    );
}

#[test]
fn unknown_fields_in_a_routing_document_are_refused_by_the_parser() {
    let parsed: Result<RoutingDoc, _> = serde_json::from_value(json!({"ring_group": []}));
    assert!(parsed.is_err());
}

fn link(id: &str, e164: &str, forwarding: Option<Forwarding>) -> NumberLink {
    NumberLink {
        id: id.into(),
        e164: e164.into(),
        lifecycle: Lifecycle::Active,
        forwarding,
    }
}

fn to_number(id: &str) -> Option<Forwarding> {
    Some(Forwarding::Number {
        number_id: id.into(),
    })
}

#[test]
fn a_number_never_forwards_to_itself() {
    let numbers = [link("a", "+14155550001", None)];
    assert_eq!(
        check_forwarding(
            &numbers,
            "a",
            &Forwarding::Number {
                number_id: "a".into()
            }
        ),
        Err(ForwardingError::SelfForward)
    );
    assert_eq!(
        check_forwarding(
            &numbers,
            "a",
            &Forwarding::External {
                to: "+14155550001".into()
            }
        ),
        Err(ForwardingError::SelfForward)
    );
}

#[test]
fn a_number_links_only_to_live_numbers_of_its_own_clinic() {
    let mut released = link("r", "+14155550003", None);
    released.lifecycle = Lifecycle::Released;
    let numbers = [link("a", "+14155550001", None), released];
    assert_eq!(
        check_forwarding(
            &numbers,
            "a",
            &Forwarding::Number {
                number_id: "elsewhere".into()
            }
        ),
        Err(ForwardingError::UnknownNumber("elsewhere".into()))
    );
    assert_eq!(
        check_forwarding(
            &numbers,
            "a",
            &Forwarding::Number {
                number_id: "r".into()
            }
        ),
        Err(ForwardingError::TargetReleased("r".into()))
    );
}

#[test]
fn forwarding_that_would_close_a_cycle_of_links_is_refused() {
    let numbers = [
        link("a", "+14155550001", None),
        link("b", "+14155550002", to_number("c")),
        link("c", "+14155550003", to_number("a")),
    ];
    assert_eq!(
        check_forwarding(
            &numbers,
            "a",
            &Forwarding::Number {
                number_id: "b".into()
            }
        ),
        Err(ForwardingError::Cycle(vec![
            "a".into(),
            "b".into(),
            "c".into(),
            "a".into()
        ]))
    );
    assert_eq!(
        check_forwarding(
            &numbers,
            "a",
            &Forwarding::External {
                to: "+12125550100".into()
            }
        ),
        Ok(())
    );
}

#[test]
fn forwarding_that_would_make_a_chain_longer_than_eight_hops_is_refused() {
    // x → n0 → n1 … n7; linking n7 → y would give x nine hops.
    let mut numbers = vec![link("x", "+14155550999", to_number("n0"))];
    for i in 0..8 {
        let next = if i < 7 {
            to_number(&format!("n{}", i + 1))
        } else {
            None
        };
        numbers.push(link(&format!("n{i}"), &format!("+1415555100{i}"), next));
    }
    numbers.push(link("y", "+14155552000", None));
    assert_eq!(
        check_forwarding(
            &numbers,
            "n7",
            &Forwarding::Number {
                number_id: "y".into()
            }
        ),
        Err(ForwardingError::ChainTooLong { max: 8 })
    );
    assert_eq!(
        check_forwarding(
            &numbers,
            "y",
            &Forwarding::Number {
                number_id: "n7".into()
            }
        ),
        Ok(()),
        "y → n7 is two hops"
    );
}
