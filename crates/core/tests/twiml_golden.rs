//! TwiML golden files: one per decision kind, in `fixtures/twiml/`.
//!
//! Run with `UPDATE_GOLDEN=1` to rewrite them after an intended change, then
//! review the diff.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::json;
use switchboard_core::model::{Forwarding, Lifecycle};
use switchboard_core::resolve::{
    DialStatus, Explain, TwimlPlan, VoiceCall, confirm_answer, confirm_voice, continue_voice,
    resolve_sms,
};
use switchboard_core::snapshot::{Snapshot, SnapshotInput};
use switchboard_core::twiml::{RenderContext, render};

const CTX: RenderContext<'static> = RenderContext {
    public_base_url: "https://switchboard.example.com/",
};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/twiml")
}

fn check_golden(name: &str, xml: &str) {
    parse_twiml(xml).unwrap_or_else(|e| panic!("{name}: {e}\n{xml}"));
    let path = golden_dir().join(format!("{name}.xml"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden_dir()).expect("create fixtures/twiml");
        std::fs::write(&path, xml).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(xml, expected, "{name} differs from {}", path.display());
}

fn demo() -> Snapshot {
    let mut paused = number("paused", "+14155550009", json!({}));
    paused.lifecycle = Lifecycle::Paused;
    let mut forward = number("fwd", "+14155550002", json!({}));
    forward.forwarding = Some(Forwarding::External {
        to: "+12125550100".into(),
    });
    let mut clinic = clinic_with(vec![
        number(
            "main",
            MAIN,
            json!({
                "assistants": [
                    {"assistant_id": "amy", "schedule": [{"days": ["mon"], "start": "12:00", "end": "13:00"}]},
                    {"assistant_id": "sam", "schedule": [{"days": ["tue"], "start": "12:00", "end": "13:00"}]},
                    {"assistant_id": "rex", "schedule": [{"days": ["wed"], "start": "12:00", "end": "13:00"}]}
                ],
                "ring_groups": [
                    {"id": "desk", "name": "Front desk", "strategy": "simultaneous", "ring_seconds": 25,
                     "members": [{"target": "+14155550101"}, {"target": "sip:desk@pbx.example.com"}, {"target": "client:front_desk"}],
                     "schedule": [{"days": ["mon","tue","wed","thu","fri"], "start": "08:00", "end": "18:00"}],
                     "on_no_answer": {"type": "ring_group", "ring_group_id": "nurses"}},
                    {"id": "nurses", "name": "Nurses", "strategy": "sequential", "ring_seconds": 15,
                     "members": [{"target": "+14155550201"}, {"target": "+14155550202"}],
                     "schedule": [{"days": ["sat"], "start": "09:00", "end": "12:00"}],
                     "on_no_answer": {"type": "voicemail", "greeting": "Leave a message for \"Dr. O'Brien\" & <team>."}}
                ],
                "off_hours": {"type": "message", "text": "We're closed. Call 911 in an emergency <now> & \"always\"."},
                "closures": [
                    {"id": "tg", "name": "Thanksgiving", "repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu",
                     "action": {"type": "hangup"}},
                    {"id": "xmas", "name": "Christmas", "repeat": "yearly", "month": 12, "day": 25,
                     "action": {"type": "forward", "to": "+12125550111"}}
                ]
            }),
        ),
        number("plain", "+14155550003", json!({})),
        forward,
        paused,
    ]);
    clinic.texting_assistant_id = None;
    clinic.sms_auto_reply = Some("Thanks & see you <soon>!".into());
    let mut texting = clinic_with(vec![number("t", "+14155550777", json!({}))]);
    texting.id = "clinic-2".into();
    texting.voice = None;
    texting.language = None;
    texting.texting_assistant_id = Some("tess".into());
    let mut apology = clinic_with(vec![
        forwarding_number(
            "loop-a",
            "+14155550881",
            Forwarding::Number {
                number_id: "loop-b".into(),
            },
        ),
        forwarding_number(
            "loop-b",
            "+14155550882",
            Forwarding::Number {
                number_id: "loop-a".into(),
            },
        ),
    ]);
    apology.id = "clinic-3".into();
    let mut transcribing = clinic_with(vec![number("tr", "+14155550444", json!({}))]);
    transcribing.id = "clinic-4".into();
    transcribing.transcribe_voicemail = true;
    Snapshot::build(
        SnapshotInput {
            clinics: vec![clinic, texting, apology, transcribing],
        },
        7,
    )
}

/// A confirming ring group, and a number closed until December 2027.
fn confirming() -> Snapshot {
    let group = json!({"id": "desk", "name": "Front desk", "strategy": "sequential", "ring_seconds": 20,
        "confirm": true, "members": [{"target": "+14155550101"}, {"target": "sip:desk@pbx.example.com"}],
        "schedule": [{"days": ["mon","tue","wed","thu","fri"], "start": "08:00", "end": "18:00"}]});
    let mut closed = number(
        "closed",
        "+14155550445",
        json!({"ring_groups": [group.clone()]}),
    );
    closed.routing_override = Some(
        serde_json::from_value(json!({"state": "closed", "until": "2027-12-01T00:00:00Z",
            "action": {"type": "voicemail", "greeting": "Closed for the snow."}}))
        .expect("an override"),
    );
    snapshot_of(vec![
        number("confirm", "+14155550444", json!({"ring_groups": [group]})),
        closed,
    ])
}

fn voice(s: &Snapshot, to: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    render(&call_at(s, to, at), &CTX)
}

fn after(
    s: &Snapshot,
    to: &str,
    at: chrono::DateTime<chrono::Utc>,
    outcomes: &[DialStatus],
) -> String {
    let call = VoiceCall {
        to,
        from: CALLER,
        call_sid: "CA123",
    };
    let mut decision = call_at(s, to, at);
    for status in outcomes {
        let TwimlPlan::Dial(dial) = &decision.action else {
            panic!("no dial to continue: {:?}", decision.action)
        };
        let c = dial.continuation.clone().expect("continuation");
        decision = continue_voice(s, &c, *status, &call, Explain::Trace);
    }
    render(&decision, &CTX)
}

#[test]
fn every_decision_kind_renders_as_its_golden_file() {
    let s = demo();
    let weekday = ny(2026, 11, 25, 10, 0); // Wednesday
    let cases: Vec<(&str, String)> = vec![
        ("reject_unknown_number", voice(&s, "+19995550000", weekday)),
        ("reject_paused_number", voice(&s, "+14155550009", weekday)),
        ("forward_external", voice(&s, "+14155550002", weekday)),
        ("ring_group_simultaneous", voice(&s, MAIN, weekday)),
        (
            "ring_group_sequential_first",
            after(&s, MAIN, weekday, &[DialStatus::NoAnswer]),
        ),
        (
            "ring_group_sequential_second",
            after(&s, MAIN, weekday, &[DialStatus::NoAnswer, DialStatus::Busy]),
        ),
        (
            "on_no_answer_voicemail_greeting",
            after(
                &s,
                MAIN,
                weekday,
                &[DialStatus::NoAnswer, DialStatus::Busy, DialStatus::NoAnswer],
            ),
        ),
        (
            "dial_completed_hangup",
            after(&s, MAIN, weekday, &[DialStatus::Completed]),
        ),
        (
            "assistant_stream",
            voice(&s, MAIN, ny(2026, 11, 23, 12, 30)),
        ),
        ("assistant_sip", voice(&s, MAIN, ny(2026, 11, 24, 12, 30))),
        (
            "assistant_redirect",
            voice(
                &s,
                MAIN,
                weekday + chrono::Duration::hours(2) + chrono::Duration::minutes(30),
            ),
        ),
        (
            "off_hours_message",
            voice(&s, MAIN, ny(2026, 11, 25, 20, 0)),
        ),
        ("closure_hangup", voice(&s, MAIN, ny(2026, 11, 26, 10, 0))),
        ("closure_forward", voice(&s, MAIN, ny(2026, 12, 25, 10, 0))),
        (
            "voicemail_default_greeting",
            voice(&s, "+14155550003", weekday),
        ),
        ("link_cycle_apology", voice(&s, "+14155550881", weekday)),
        ("voicemail_transcribed", voice(&s, "+14155550444", weekday)),
        (
            "sms_auto_reply",
            render(&resolve_sms(&s, MAIN, CALLER, Explain::Trace), &CTX),
        ),
        (
            "sms_texting_assistant",
            render(
                &resolve_sms(&s, "+14155550777", CALLER, Explain::Trace),
                &CTX,
            ),
        ),
        (
            "sms_ignored",
            render(
                &resolve_sms(&s, "+14155550009", CALLER, Explain::Trace),
                &CTX,
            ),
        ),
    ];
    let confirm = confirming();
    let dial = call_at(&confirm, "+14155550444", weekday);
    let TwimlPlan::Dial(plan) = &dial.action else {
        panic!("a dial: {:?}", dial.action);
    };
    let c = plan.continuation.clone().expect("continuation");
    let cases = cases.into_iter().chain([
        ("ring_group_confirm_dial", render(&dial, &CTX)),
        (
            "ring_group_confirm_prompt",
            render(&confirm_voice(&confirm, &c), &CTX),
        ),
        (
            "ring_group_confirm_accept",
            render(&confirm_answer(&confirm, &c, "1"), &CTX),
        ),
        (
            "ring_group_confirm_decline",
            render(&confirm_answer(&confirm, &c, "7"), &CTX),
        ),
        (
            "closed_until_voicemail",
            voice(&confirm, "+14155550445", weekday),
        ),
    ]);
    for (name, xml) in cases {
        check_golden(name, &xml);
    }
}

#[test]
fn say_carries_the_clinics_voice_and_language() {
    let s = demo();
    let xml = voice(&s, MAIN, ny(2026, 11, 25, 20, 0));
    assert!(
        xml.contains(r#"<Say voice="Polly.Joanna" language="en-US">"#),
        "{xml}"
    );
}

#[test]
fn every_text_and_attribute_is_escaped() {
    let s = demo();
    let xml = voice(&s, MAIN, ny(2026, 11, 25, 20, 0));
    assert!(
        xml.contains("&lt;now&gt; &amp; &quot;always&quot;"),
        "{xml}"
    );
    let redirect = voice(&s, MAIN, ny(2026, 11, 25, 12, 30));
    assert!(
        redirect.contains("https://ai.example.com/twiml?a=1&amp;b=2"),
        "{redirect}"
    );
}

#[test]
fn action_urls_are_built_from_the_public_base_url() {
    let s = demo();
    let xml = voice(&s, MAIN, ny(2026, 11, 25, 10, 0));
    assert!(
        xml.contains(r#"action="https://switchboard.example.com/twilio/voice/continue?c=1.0."#),
        "{xml}"
    );
    let voicemail = voice(&s, "+14155550003", ny(2026, 11, 25, 10, 0));
    assert!(
        voicemail.contains(r#"action="https://switchboard.example.com/twilio/voice/recording""#),
        "{voicemail}"
    );
}

#[test]
fn control_characters_that_xml_cannot_hold_are_dropped_not_emitted() {
    let mut clinic = clinic_with(vec![number(
        "main",
        MAIN,
        json!({"off_hours": {"type": "message", "text": "bell\u{7} and nul\u{0} gone"}}),
    )]);
    clinic.voice = Some("x\u{1b}y".into());
    let s = Snapshot::build(
        SnapshotInput {
            clinics: vec![clinic],
        },
        1,
    );
    let xml = voice(&s, MAIN, ny(2026, 11, 25, 20, 0));
    parse_twiml(&xml).expect("well-formed");
    assert!(xml.contains(">bell and nul gone</Say>"), "{xml}");
}
