//! Simulate and coverage (`docs/api.md`): shapes, played outcomes,
//! byte-identical TwiML, DST offsets in segments, warnings.

mod common;

use chrono::NaiveDate;
use common::*;
use serde_json::json;
use switchboard_core::coverage::coverage;
use switchboard_core::error::PreviewError;
use switchboard_core::model::Forwarding;
use switchboard_core::resolve::{
    DialStatus, Explain, OutcomeKind, TwimlPlan, VoiceCall, continue_voice,
};
use switchboard_core::simulate::{Channel, SimulateRequest, simulate};
use switchboard_core::twiml::{RenderContext, render};

const CTX: RenderContext<'static> = RenderContext {
    public_base_url: BASE,
};

fn clinic_numbers() -> switchboard_core::Snapshot {
    let mut desk = front_desk();
    desk["on_no_answer"] = json!({"type": "assistant", "assistant_id": "amy"});
    snapshot_of(vec![
        number(
            "main",
            MAIN,
            json!({
                "ring_groups": [desk],
                "off_hours": {"type": "voicemail", "greeting": "We are closed."},
                "closures": [{"id": "tg", "name": "Thanksgiving", "repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu"}]
            }),
        ),
        forwarding_number(
            "link",
            "+14155550001",
            Forwarding::Number {
                number_id: "main".into(),
            },
        ),
    ])
}

fn request(at: &str, outcomes: &[DialStatus]) -> SimulateRequest {
    serde_json::from_value(json!({"at": at, "channel": "voice", "from": CALLER,
        "outcomes": outcomes.iter().map(|o| o.as_str()).collect::<Vec<_>>()}))
    .expect("the simulate request shape of docs/api.md")
}

#[test]
fn simulate_names_the_closure_that_took_the_call_whoever_then_answers() {
    let s = clinic_numbers();
    let response =
        simulate(&s, "link", &request("2026-11-26T15:00:00Z", &[]), &CTX).expect("simulate");
    let body = serde_json::to_value(&response).expect("serialize");
    assert_eq!(body["resolved_number_id"], "main");
    assert_eq!(body["timezone"], "America/New_York");
    assert_eq!(body["local_time"], "2026-11-26T10:00:00-05:00");
    assert_eq!(
        body["outcome"],
        json!({"kind": "closure", "id": "tg", "name": "Thanksgiving"})
    );
    assert_eq!(body["handler"], json!({"type": "voicemail"}));
    assert_eq!(body["trace"][0], "call to +14155550001");
    assert_eq!(body["trace"][1], "linked +14155550001 → +14155550100");
    assert!(body["trace"].as_array().expect("trace").iter().any(|l| {
        l.as_str()
            .is_some_and(|l| l.starts_with("closure Thanksgiving covers 2026-11-26"))
    }));
    assert!(
        body["twiml"]
            .as_str()
            .expect("twiml")
            .starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say"#)
    );
}

#[test]
fn simulate_plays_outcomes_and_names_what_answers_next() {
    let s = clinic_numbers();
    let first =
        simulate(&s, "main", &request("2026-11-25T15:00:00Z", &[]), &CTX).expect("simulate");
    assert_eq!(first.outcome.kind, OutcomeKind::RingGroup);
    let handed_over = simulate(
        &s,
        "main",
        &request("2026-11-25T15:00:00Z", &[DialStatus::NoAnswer]),
        &CTX,
    )
    .expect("simulate");
    assert_eq!(handed_over.outcome.kind, OutcomeKind::Assistant);
    assert_eq!(handed_over.outcome.id.as_deref(), Some("amy"));
    let answered = simulate(
        &s,
        "main",
        &request("2026-11-25T15:00:00Z", &[DialStatus::Completed]),
        &CTX,
    )
    .expect("simulate");
    assert_eq!(answered.outcome.kind, OutcomeKind::Hangup);
    assert!(answered.twiml.ends_with("<Response><Hangup/></Response>"));
}

#[test]
fn simulate_twiml_is_byte_for_byte_what_the_webhook_answers() {
    let s = clinic_numbers();
    let at = utc("2026-11-25T15:00:00Z");
    let call = VoiceCall {
        to: MAIN,
        from: CALLER,
        call_sid: "CA1",
    };
    // The webhook: first request, then the continuation Twilio posts back.
    let first = call_at(&s, MAIN, at);
    let TwimlPlan::Dial(dial) = &first.action else {
        panic!("expected a dial")
    };
    let next = continue_voice(
        &s,
        dial.continuation.as_ref().expect("continuation"),
        DialStatus::Busy,
        &call,
        Explain::Trace,
    );
    for (outcomes, webhook) in [
        (vec![], render(&first, &CTX)),
        (vec![DialStatus::Busy], render(&next, &CTX)),
    ] {
        let simulated = simulate(
            &s,
            "main",
            &request("2026-11-25T15:00:00Z", &outcomes),
            &CTX,
        )
        .expect("simulate");
        assert_eq!(simulated.twiml, webhook, "{outcomes:?}");
    }
}

#[test]
fn simulate_ignores_outcomes_when_no_dial_is_waiting() {
    let s = clinic_numbers();
    let response = simulate(
        &s,
        "main",
        &request("2026-11-25T23:00:00Z", &[DialStatus::NoAnswer]),
        &CTX,
    )
    .expect("simulate");
    assert_eq!(response.outcome.kind, OutcomeKind::OffHours);
    assert!(
        response.trace.iter().any(|l| l.contains("ignored")),
        "{:?}",
        response.trace
    );
}

#[test]
fn simulate_previews_texts_too() {
    let s = clinic_numbers();
    let req = SimulateRequest {
        at: utc("2026-11-25T15:00:00Z"),
        channel: Channel::Sms,
        from: None,
        outcomes: vec![],
    };
    let response = simulate(&s, "main", &req, &CTX).expect("simulate");
    assert_eq!(response.outcome.kind, OutcomeKind::SmsIgnore);
    assert_eq!(
        response.twiml,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#
    );
}

#[test]
fn simulate_of_an_unknown_number_is_not_found() {
    let s = clinic_numbers();
    assert_eq!(
        simulate(&s, "nope", &request("2026-11-25T15:00:00Z", &[]), &CTX),
        Err(PreviewError::NumberNotFound("nope".into()))
    );
}

#[test]
fn coverage_cuts_the_days_into_maximal_segments_with_utc_offsets_across_a_dst_change() {
    let s = one_number(json!({"ring_groups": [front_desk()], "off_hours": {"type": "voicemail"}}));
    let report = coverage(
        &s,
        "main",
        NaiveDate::from_ymd_opt(2027, 3, 12).expect("date"),
        3,
    )
    .expect("coverage");
    let body = serde_json::to_value(&report).expect("serialize");
    assert_eq!(body["timezone"], "America/New_York");
    assert_eq!(
        body["segments"],
        json!([
            {"start": "2027-03-12T00:00:00-05:00", "end": "2027-03-12T08:00:00-05:00", "kind": "off_hours", "handler": {"type": "voicemail"}},
            {"start": "2027-03-12T08:00:00-05:00", "end": "2027-03-12T18:00:00-05:00", "kind": "ring_group", "handler": {"type": "ring_group", "id": "desk", "name": "Front desk"}},
            {"start": "2027-03-12T18:00:00-05:00", "end": "2027-03-15T00:00:00-04:00", "kind": "off_hours", "handler": {"type": "voicemail"}}
        ])
    );
    assert_eq!(body["warnings"], json!([]));
}

#[test]
fn coverage_starts_a_day_whose_midnight_is_skipped_at_the_end_of_the_gap() {
    // Santiago springs forward at 24:00 on Saturday 2027-09-04: Sunday starts at 01:00.
    let s = snapshot_of(vec![number(
        "main",
        MAIN,
        json!({"timezone": "America/Santiago"}),
    )]);
    let report = coverage(
        &s,
        "main",
        NaiveDate::from_ymd_opt(2027, 9, 5).expect("date"),
        1,
    )
    .expect("coverage");
    assert_eq!(report.segments.len(), 1);
    assert_eq!(report.segments[0].start, "2027-09-05T01:00:00-03:00");
    assert_eq!(report.segments[0].end, "2027-09-06T00:00:00-03:00");
}

#[test]
fn coverage_spans_one_to_sixty_two_days() {
    let s = one_number(json!({}));
    let start = NaiveDate::from_ymd_opt(2027, 1, 1).expect("date");
    assert!(coverage(&s, "main", start, 62).is_ok());
    for days in [0, 63] {
        assert!(
            matches!(
                coverage(&s, "main", start, days),
                Err(PreviewError::Invalid(_))
            ),
            "{days}"
        );
    }
    assert_eq!(
        coverage(&s, "nope", start, 1),
        Err(PreviewError::NumberNotFound("nope".into()))
    );
}

#[test]
fn coverage_warns_about_what_an_admin_should_fix() {
    let mut empty_group = front_desk();
    empty_group["members"] = json!([{"target": "not a phone"}]);
    let s = one_number(json!({"ring_groups": [empty_group]}));
    let report = coverage(
        &s,
        "main",
        NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"),
        1,
    )
    .expect("coverage");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.starts_with("no off-hours handler set")),
        "{:?}",
        report.warnings
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("has no reachable member")),
        "{:?}",
        report.warnings
    );

    let s = one_number(
        json!({"assistants": [{"assistant_id": "amy"}], "off_hours": {"type": "hangup"}}),
    );
    let report = coverage(
        &s,
        "main",
        NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"),
        1,
    )
    .expect("coverage");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("After Hours Amy") && w.contains("never answers")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn coverage_of_a_forwarding_number_is_one_forward_segment() {
    let s = snapshot_of(vec![forwarding_number(
        "f",
        "+14155550001",
        Forwarding::External {
            to: "+12125550100".into(),
        },
    )]);
    let report = coverage(
        &s,
        "f",
        NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"),
        2,
    )
    .expect("coverage");
    assert_eq!(report.segments.len(), 1);
    assert_eq!(report.segments[0].kind, OutcomeKind::Forward);
}
