//! Properties of the core, checked on generated configurations (proptest).

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::*;
use proptest::prelude::*;
use serde_json::{Value, json};
use switchboard_core::coverage::{coverage, first_instant_of};
use switchboard_core::model::{AssistantKindTag, RoutingDoc};
use switchboard_core::resolve::{
    Continuation, DialPlan, DialStatus, Explain, OutcomeKind, TwimlPlan, VoiceCall, continue_voice,
    resolve_sms, resolve_voice,
};
use switchboard_core::snapshot::{Snapshot, SnapshotInput};
use switchboard_core::twiml::{RenderContext, render};
use switchboard_core::validate::{ClinicContext, validate_routing};

const ZONES: [&str; 9] = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "America/Santiago",
    "America/Phoenix",
    "America/Regina",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
];
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn time() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u16..48).prop_map(|half_hours| format!(
            "{:02}:{:02}",
            half_hours / 2,
            half_hours % 2 * 30
        )),
        (0u16..1440).prop_map(|m| format!("{:02}:{:02}", m / 60, m % 60)),
        Just("24:00".to_owned()),
    ]
}

fn days() -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(DAYS.to_vec(), 1..=7)
}

fn window() -> impl Strategy<Value = Value> {
    (days(), time(), time())
        .prop_filter("start != end and start is not 24:00", |(_, s, e)| {
            s != e && s != "24:00"
        })
        .prop_map(|(days, start, end)| json!({"days": days, "start": start, "end": end}))
}

fn schedule() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        3 => proptest::collection::vec(window(), 1..3).prop_map(Value::from),
    ]
}

fn action() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"type": "assistant", "assistant_id": "amy"})),
        Just(json!({"type": "assistant", "assistant_id": "rex"})),
        Just(json!({"type": "ring_group", "ring_group_id": "g1"})),
        Just(json!({"type": "voicemail"})),
        Just(json!({"type": "voicemail", "greeting": "Leave a message"})),
        Just(json!({"type": "forward", "to": "+12125550100"})),
        Just(json!({"type": "message", "text": "Closed <today> & \"tomorrow\""})),
        Just(json!({"type": "hangup"})),
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (0i64..(4 * 366)).prop_map(|offset| {
        NaiveDate::from_ymd_opt(2026, 1, 1).expect("date") + Duration::days(offset)
    })
}

fn closure() -> impl Strategy<Value = Value> {
    let rule = prop_oneof![
        (date(), 0i64..20).prop_map(|(start, len)| json!({"repeat": "none",
            "start": start.to_string(), "end": (start + Duration::days(len)).to_string()})),
        (date(), 1i64..(3 * 24 * 60)).prop_map(|(start, minutes)| {
            let start = start.and_hms_opt(0, 0, 0).expect("midnight") + Duration::minutes(minutes * 7 % 1440);
            let end = start + Duration::minutes(minutes);
            json!({"repeat": "none", "start": start.format("%Y-%m-%dT%H:%M").to_string(),
                   "end": end.format("%Y-%m-%dT%H:%M").to_string()})
        }),
        days().prop_map(|days| json!({"repeat": "weekly", "days": days})),
        (1i64..=31).prop_map(|day| json!({"repeat": "monthly", "day": day})),
        (prop_oneof![1i64..=5, Just(-1i64)], proptest::sample::select(DAYS.to_vec()))
            .prop_map(|(nth, weekday)| json!({"repeat": "monthly", "nth": nth, "weekday": weekday})),
        (1i64..=12, 1i64..=28, 1i64..=5)
            .prop_map(|(month, day, days)| json!({"repeat": "yearly", "month": month, "day": day, "days": days})),
        (1i64..=12, prop_oneof![1i64..=5, Just(-1i64)], proptest::sample::select(DAYS.to_vec()), 1i64..=4)
            .prop_map(|(month, nth, weekday, days)| json!({"repeat": "yearly", "month": month,
                "nth": nth, "weekday": weekday, "days": days})),
    ];
    let times = prop_oneof![
        2 => Just(None),
        1 => (time(), time())
            .prop_filter("distinct", |(s, e)| s != e && s != "24:00")
            .prop_map(Some),
    ];
    let bounds = prop_oneof![
        3 => Just((None, None)),
        1 => (date(), 0i64..400).prop_map(|(from, len)| (Some(from), Some(from + Duration::days(len)))),
    ];
    (
        rule,
        times,
        proptest::option::of(action()),
        bounds,
        0u32..1000,
    )
        .prop_map(|(mut rule, times, action, (from, until), id)| {
            rule["name"] = json!(format!("Closure {id}"));
            rule["id"] = json!(format!("c{id}"));
            if let Some((start, end)) = times
                && rule["repeat"] != "none"
            {
                rule["start_time"] = json!(start);
                rule["end_time"] = json!(end);
            }
            if rule["repeat"] != "none" {
                if let Some(from) = from {
                    rule["from"] = json!(from.to_string());
                }
                if let Some(until) = until {
                    rule["until"] = json!(until.to_string());
                }
            }
            if let Some(action) = action {
                rule["action"] = action;
            }
            rule
        })
}

fn ring_group(index: usize) -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("simultaneous"), Just("sequential")],
        1usize..4,
        schedule(),
        proptest::option::of(action()),
    )
        .prop_map(move |(strategy, members, schedule, on_no_answer)| {
            let members: Vec<Value> = (0..members)
                .map(|m| json!({"target": format!("+1415555{:02}{:02}", index, m)}))
                .collect();
            let mut group = json!({"id": format!("g{index}"), "name": format!("Group {index}"),
                "strategy": strategy, "members": members, "schedule": schedule});
            if let Some(action) = on_no_answer {
                group["on_no_answer"] = action;
            }
            group
        })
}

/// A routing document as an admin might send it: mostly valid, sometimes not
/// (overlapping assistants, looping chains); the snapshot must route it anyway.
fn routing() -> impl Strategy<Value = Value> {
    (
        proptest::sample::select(ZONES.to_vec()),
        schedule(),
        schedule(),
        (ring_group(1), ring_group(2)),
        proptest::option::of(action()),
        proptest::collection::vec(closure(), 0..4),
    )
        .prop_map(|(zone, amy, rex, (g1, g2), off_hours, closures)| {
            let mut doc = json!({
                "timezone": zone,
                "assistants": [{"assistant_id": "amy", "schedule": amy}, {"assistant_id": "rex", "schedule": rex}],
                "ring_groups": [g1, g2],
                "closures": closures,
            });
            if let Some(action) = off_hours {
                doc["off_hours"] = action;
            }
            doc
        })
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 2026-01-01 .. 2028-01-01, any second.
    (1_767_225_600i64..1_830_297_600).prop_map(|s| DateTime::from_timestamp(s, 0).expect("instant"))
}

fn parse_rfc3339(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("segment time")
        .with_timezone(&Utc)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_instant_gets_exactly_one_decision(routing in routing(), at in instant()) {
        let s = one_number(routing);
        let first = call(&s, at);
        let again = call(&s, at);
        prop_assert_eq!(&first, &again, "the same call at the same instant gets the same answer");
        prop_assert!(matches!(first.outcome.kind,
            OutcomeKind::Closure | OutcomeKind::Assistant | OutcomeKind::RingGroup | OutcomeKind::OffHours));
        prop_assert!(first.handler.is_some(), "someone always answers: {:?}", first.trace);
        let xml = render(&first, &RenderContext { public_base_url: BASE });
        prop_assert!(parse_twiml(&xml).is_ok(), "{}", xml);
    }

    #[test]
    fn resolving_without_the_trace_gives_the_same_decision_and_twiml(
        routing in routing(), at in instant(), played in proptest::collection::vec(0usize..6, 0..4)
    ) {
        // The webhook resolves quietly, simulate with the trace: they must
        // never disagree on anything but the trace itself.
        let s = one_number(routing);
        let voice = VoiceCall { to: MAIN, from: CALLER, call_sid: "CA1" };
        let mut traced = resolve_voice(&s, &voice, at, Explain::Trace);
        let mut quiet = resolve_voice(&s, &voice, at, Explain::Quiet);
        let statuses = [DialStatus::Busy, DialStatus::NoAnswer, DialStatus::Failed,
                        DialStatus::Canceled, DialStatus::Completed, DialStatus::Answered];
        let mut played = played.into_iter().map(|i| statuses[i]);
        loop {
            prop_assert!(!traced.trace.is_empty());
            prop_assert!(quiet.trace.is_empty());
            let ctx = RenderContext { public_base_url: BASE };
            prop_assert_eq!(render(&traced, &ctx), render(&quiet, &ctx));
            traced.trace.clear();
            prop_assert_eq!(&traced, &quiet);
            let TwimlPlan::Dial(DialPlan { continuation: Some(c), .. }) = &quiet.action else { break };
            let Some(status) = played.next() else { break };
            let c = c.clone();
            traced = continue_voice(&s, &c, status, &voice, Explain::Trace);
            quiet = continue_voice(&s, &c, status, &voice, Explain::Quiet);
        }
        let sms_traced = resolve_sms(&s, MAIN, CALLER, Explain::Trace);
        let mut sms_quiet = resolve_sms(&s, MAIN, CALLER, Explain::Quiet);
        prop_assert!(sms_quiet.trace.is_empty());
        sms_quiet.trace = sms_traced.trace.clone();
        prop_assert_eq!(sms_traced, sms_quiet);
    }

    #[test]
    fn continuations_round_trip_and_stay_url_safe(number_id in any::<String>(), instant in any::<i64>(), step in any::<u16>()) {
        let c = Continuation { number_id: number_id.into(), instant, step };
        let encoded = c.encode();
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)), "{}", encoded);
        prop_assert_eq!(Continuation::decode(&encoded), Ok(c));
    }

    #[test]
    fn decoding_any_string_never_panics(text in any::<String>()) {
        let _ = Continuation::decode(&text);
    }

    #[test]
    fn decoding_a_mutated_continuation_never_panics(id in "[a-z0-9-]{1,36}", cut in 0usize..60, byte in any::<u8>()) {
        let mut encoded = Continuation { number_id: id.into(), instant: 1_790_000_000, step: 3 }.encode().into_bytes();
        let position = cut % encoded.len();
        encoded[position] = byte;
        if let Ok(text) = String::from_utf8(encoded) {
            let _ = Continuation::decode(&text);
        }
    }

    #[test]
    fn rendered_twiml_always_parses_with_a_response_root(
        text in any::<String>(), voice in any::<String>(), url in any::<String>(), at in instant()
    ) {
        let mut clinic = clinic_with(vec![
            number("m", MAIN, json!({"off_hours": {"type": "message", "text": text.clone()}})),
            number("v", "+14155550001", json!({"off_hours": {"type": "voicemail", "greeting": text.clone()}})),
            number("a", "+14155550002", json!({"assistants": [{"assistant_id": "odd"}]})),
        ]);
        clinic.voice = Some(voice.clone());
        clinic.language = Some(voice);
        clinic.sms_auto_reply = Some(text.clone());
        clinic.assistants.push(serde_json::from_value(json!({"id": "odd", "name": text, "kind": "voice",
            "target": {"type": "stream", "url": url, "parameters": {"k": "<&\"'>"}}})).expect("assistant"));
        let s = Snapshot::build(SnapshotInput { clinics: vec![clinic] }, 1);
        let ctx = RenderContext { public_base_url: BASE };
        for to in [MAIN, "+14155550001", "+14155550002"] {
            let xml = render(&call_at(&s, to, at), &ctx);
            prop_assert!(parse_twiml(&xml).is_ok(), "{:?}: {}", parse_twiml(&xml), xml);
        }
        let sms = render(&resolve_sms(&s, MAIN, CALLER, Explain::Trace), &ctx);
        prop_assert!(parse_twiml(&sms).is_ok(), "{}", sms);
    }

    #[test]
    fn validation_and_snapshot_building_never_panic_on_arbitrary_documents(doc in arbitrary_document()) {
        let ctx = ClinicContext { assistants: vec![("amy".into(), AssistantKindTag::Voice), ("tess".into(), AssistantKindTag::Texting)] };
        if let Ok(doc) = serde_json::from_value::<RoutingDoc>(doc.clone()) {
            let _ = validate_routing(&doc, &ctx);
        }
        let mut n = number("main", MAIN, json!({}));
        if let Ok(doc) = serde_json::from_value::<RoutingDoc>(doc) {
            n.routing = doc;
            let s = snapshot_of(vec![n]);
            let _ = call(&s, utc("2026-06-01T12:00:00Z"));
        }
    }

    #[test]
    fn valid_documents_pass_validation_only_when_the_snapshot_compiles_them_without_warnings(routing in routing()) {
        let doc: RoutingDoc = serde_json::from_value(routing.clone()).expect("generated document parses");
        let ctx = ClinicContext { assistants: vec![("amy".into(), AssistantKindTag::Voice), ("rex".into(), AssistantKindTag::Voice)] };
        if validate_routing(&doc, &ctx).is_ok() {
            let s = one_number(routing);
            prop_assert!(s.warnings().is_empty(), "{:?}", s.warnings());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn coverage_segments_are_contiguous_cover_the_range_and_agree_with_resolve_at_every_minute(
        routing in routing(), start in date(), days in 1u32..=2
    ) {
        let s = one_number(routing);
        let tz = s.number_by_id("main").expect("number").timezone();
        let report = coverage(&s, "main", start, days).expect("coverage");
        let from = first_instant_of(tz, start).expect("start instant");
        let until = first_instant_of(tz, start + Duration::days(i64::from(days))).expect("end instant");
        prop_assert!(!report.segments.is_empty());
        prop_assert_eq!(parse_rfc3339(&report.segments[0].start), from);
        prop_assert_eq!(parse_rfc3339(&report.segments[report.segments.len() - 1].end), until);
        for pair in report.segments.windows(2) {
            prop_assert_eq!(&pair[0].end, &pair[1].start, "contiguous");
            prop_assert!((pair[0].kind, &pair[0].handler) != (pair[1].kind, &pair[1].handler), "maximal");
        }
        for segment in &report.segments {
            let (begin, end) = (parse_rfc3339(&segment.start), parse_rfc3339(&segment.end));
            prop_assert!(begin < end, "non-empty and ordered");
            let mut at = begin;
            while at < end {
                let decision = call(&s, at);
                prop_assert_eq!(decision.outcome.kind, segment.kind, "at {}", at);
                prop_assert_eq!(&decision.handler, &segment.handler, "at {}", at);
                at += Duration::minutes(1);
            }
        }
    }
}

/// Arbitrary JSON shaped loosely like a routing document: right keys with
/// wrong or random values, random keys, deep nesting.
fn arbitrary_document() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("24:00"),
            Just("08:00"),
            Just("+14155550100"),
            Just("mon"),
            Just("none"),
            Just("weekly"),
            Just("yearly"),
            Just("monthly"),
            Just("2026-02-29"),
            Just("2028-02-29T10:00"),
            Just("simultaneous"),
            Just("amy"),
            Just("tess"),
            Just("ring_group"),
            Just("assistant")
        ]
        .prop_map(Value::from),
    ];
    let keys = prop_oneof![
        Just("timezone"),
        Just("assistants"),
        Just("ring_groups"),
        Just("off_hours"),
        Just("closures"),
        Just("assistant_id"),
        Just("schedule"),
        Just("days"),
        Just("start"),
        Just("end"),
        Just("id"),
        Just("name"),
        Just("strategy"),
        Just("members"),
        Just("target"),
        Just("ring_seconds"),
        Just("on_no_answer"),
        Just("type"),
        Just("repeat"),
        Just("month"),
        Just("day"),
        Just("nth"),
        Just("weekday"),
        Just("from"),
        Just("until"),
        Just("start_time"),
        Just("end_time"),
        Just("action"),
        Just("ring_group_id"),
        Just("greeting"),
        Just("text"),
        Just("to"),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(keys.clone(), inner, 0..6).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}
