//! Blocked callers (`docs/routing.md`, "Blocked callers"): rejected before
//! any other rule, by exact number, longest prefix or missing caller ID; a
//! text from one goes unanswered.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::json;
use switchboard_core::blocked::{
    BlockKind, BlockList, BlockedCallerConfig, check_entry, is_anonymous,
};
use switchboard_core::model::{Forwarding, Lifecycle};
use switchboard_core::resolve::{
    DialStatus, Explain, OutcomeKind, TwimlPlan, VoiceCall, continue_voice, resolve_sms,
    resolve_voice,
};
use switchboard_core::simulate::{Channel, SimulateRequest, simulate};
use switchboard_core::snapshot::{NumberConfig, Snapshot, SnapshotInput};
use switchboard_core::twiml::{RenderContext, render};

const CTX: RenderContext<'static> = RenderContext {
    public_base_url: "https://switchboard.example.com/",
};

fn entry(id: &str, kind: BlockKind, value: Option<&str>) -> BlockedCallerConfig {
    BlockedCallerConfig {
        id: id.to_owned(),
        kind,
        value: value.map(str::to_owned),
    }
}

/// The usual list: one number, two nested prefixes, anonymous callers.
fn usual() -> Vec<BlockedCallerConfig> {
    vec![
        entry("spammer", BlockKind::Number, Some("+14155559999")),
        entry("premium", BlockKind::Prefix, Some("+1900")),
        entry("premium-nyc", BlockKind::Prefix, Some("+1900212")),
        entry("withheld", BlockKind::Anonymous, None),
    ]
}

fn blocking(numbers: Vec<NumberConfig>, blocked: Vec<BlockedCallerConfig>) -> Snapshot {
    let mut clinic = clinic_with(numbers);
    clinic.blocked_callers = blocked;
    Snapshot::build(
        SnapshotInput {
            clinics: vec![clinic],
        },
        1,
    )
}

/// A number that would answer anyhow: forwarding, a closure over every
/// day, an always-on ring group.
fn busy_number() -> Vec<NumberConfig> {
    let mut forwarded = number("fwd", "+14155550002", json!({}));
    forwarded.forwarding = Some(Forwarding::External {
        to: "+12125550100".into(),
    });
    let mut linked = number("link", "+14155550003", json!({}));
    linked.forwarding = Some(Forwarding::Number {
        number_id: "main".into(),
    });
    vec![
        number(
            "main",
            MAIN,
            json!({
                "ring_groups": [front_desk()],
                "closures": [{"id": "always", "name": "Always", "repeat": "weekly",
                              "days": ["mon","tue","wed","thu","fri","sat","sun"]}]
            }),
        ),
        forwarded,
        linked,
    ]
}

fn call_from<'a>(s: &'a Snapshot, to: &'a str, from: &'a str) -> switchboard_core::Decision<'a> {
    resolve_voice(
        s,
        &VoiceCall {
            to,
            from,
            call_sid: "CA123",
        },
        ny(2026, 11, 25, 10, 0),
        Explain::Trace,
    )
}

#[test]
fn a_blocked_caller_is_rejected_before_forwarding_links_closures_and_schedules() {
    let s = blocking(busy_number(), usual());
    for to in [MAIN, "+14155550002", "+14155550003"] {
        let d = call_from(&s, to, "+14155559999");
        assert_eq!(d.outcome.kind, OutcomeKind::Blocked, "{to}");
        assert_eq!(d.outcome.id.as_deref(), Some("spammer"), "{to}");
        assert_eq!(d.outcome.name.as_deref(), Some("+14155559999"), "{to}");
        assert_eq!(d.action, TwimlPlan::Blocked, "{to}");
        assert_eq!(d.handler, None, "{to}");
        assert_eq!(d.clinic_id, Some(CLINIC));
    }
    // Anyone else meets the number's own rules.
    let d = call_from(&s, MAIN, "+14155550123");
    assert_eq!(d.outcome.kind, OutcomeKind::Closure);
    let d = call_from(&s, "+14155550002", "+14155550123");
    assert_eq!(d.outcome.kind, OutcomeKind::Forward);
}

#[test]
fn a_blocked_caller_is_rejected_before_an_override() {
    for state in ["open", "closed"] {
        let mut n = number("main", MAIN, json!({"ring_groups": [front_desk()]}));
        n.routing_override = Some(
            serde_json::from_value(json!({
                "state": state, "until": "2030-01-01T00:00:00Z",
                "action": {"type": "ring_group", "ring_group_id": "desk"}
            }))
            .expect("a valid override"),
        );
        let s = blocking(vec![n], usual());
        assert_ne!(
            call_from(&s, MAIN, "+14155550123").outcome.kind,
            OutcomeKind::Blocked,
            "{state}"
        );
        let d = call_from(&s, MAIN, "+14155559999");
        assert_eq!(d.outcome.kind, OutcomeKind::Blocked, "{state}");
        assert_eq!(d.action, TwimlPlan::Blocked, "{state}");
    }
}

#[test]
fn a_blocked_caller_is_rejected_whatever_the_numbers_lifecycle() {
    for lifecycle in [Lifecycle::Active, Lifecycle::Paused, Lifecycle::Pending] {
        let mut n = number("main", MAIN, json!({"ring_groups": [front_desk()]}));
        n.lifecycle = lifecycle;
        let s = blocking(vec![n], usual());
        let d = call_from(&s, MAIN, "+14155559999");
        assert_eq!(d.outcome.kind, OutcomeKind::Blocked, "{lifecycle:?}");
    }
}

#[test]
fn a_call_to_a_number_of_no_clinic_is_not_routable_whoever_calls() {
    let s = blocking(busy_number(), usual());
    let d = call_from(&s, "+19995550000", "+14155559999");
    assert_eq!(d.outcome.kind, OutcomeKind::Reject);
    assert_eq!(d.action, TwimlPlan::Reject);
}

#[test]
fn prefixes_match_the_longest_first_and_only_at_the_start() {
    let s = blocking(busy_number(), usual());
    let cases = [
        ("+19005550100", Some("premium")),
        ("+19002125550", Some("premium-nyc")),
        ("+1900", Some("premium")),
        ("+1901555010", None),
        ("+4419005550", None),
        ("+190", None),
    ];
    for (from, expected) in cases {
        let d = call_from(&s, MAIN, from);
        match expected {
            Some(id) => {
                assert_eq!(d.outcome.kind, OutcomeKind::Blocked, "{from}");
                assert_eq!(d.outcome.id.as_deref(), Some(id), "{from}");
            }
            None => assert_eq!(d.outcome.kind, OutcomeKind::Closure, "{from}"),
        }
    }
}

#[test]
fn an_exact_number_wins_over_a_prefix_that_covers_it() {
    let s = blocking(
        busy_number(),
        vec![
            entry("all-us", BlockKind::Prefix, Some("+1")),
            entry("one", BlockKind::Number, Some("+14155559999")),
        ],
    );
    let d = call_from(&s, MAIN, "+14155559999");
    assert_eq!(d.outcome.id.as_deref(), Some("one"));
    let d = call_from(&s, MAIN, "+14155559998");
    assert_eq!(d.outcome.id.as_deref(), Some("all-us"));
}

#[test]
fn callers_without_a_number_are_blocked_only_when_the_clinic_says_so() {
    let withheld = [
        "anonymous",
        "Anonymous",
        "ANONYMOUS",
        "restricted",
        "unknown",
        "Unavailable",
        "+266696687",
        "",
        " ",
    ];
    let s = blocking(busy_number(), usual());
    for from in withheld {
        let d = call_from(&s, MAIN, from);
        assert_eq!(d.outcome.kind, OutcomeKind::Blocked, "{from:?}");
        assert_eq!(d.outcome.id.as_deref(), Some("withheld"), "{from:?}");
    }
    for from in ["client:alice", "+14155550123", "sip:someone@example.com"] {
        let d = call_from(&s, MAIN, from);
        assert_eq!(d.outcome.kind, OutcomeKind::Closure, "{from:?}");
    }
    let without = blocking(
        busy_number(),
        vec![entry("spammer", BlockKind::Number, Some("+14155559999"))],
    );
    for from in withheld {
        let d = call_from(&without, MAIN, from);
        assert_eq!(d.outcome.kind, OutcomeKind::Closure, "{from:?}");
    }
}

#[test]
fn a_blocked_text_gets_an_empty_answer_before_the_texting_assistant() {
    let mut clinic = clinic_with(busy_number());
    clinic.texting_assistant_id = Some("tess".into());
    clinic.blocked_callers = usual();
    let s = Snapshot::build(
        SnapshotInput {
            clinics: vec![clinic],
        },
        1,
    );
    let d = resolve_sms(&s, MAIN, "+19005550100", Explain::Trace);
    assert_eq!(d.outcome.kind, OutcomeKind::Blocked);
    assert_eq!(d.outcome.id.as_deref(), Some("premium"));
    assert_eq!(d.action, TwimlPlan::SmsEmpty);
    assert_eq!(
        render(&d, &CTX),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
    );
    let d = resolve_sms(&s, MAIN, "+14155550123", Explain::Quiet);
    assert_eq!(d.outcome.kind, OutcomeKind::SmsAssistant);
}

#[test]
fn a_continuation_is_not_blocked_the_call_ends_as_it_began() {
    let s = blocking(
        vec![number(
            "main",
            MAIN,
            json!({"ring_groups": [front_desk()], "off_hours": {"type": "hangup"}}),
        )],
        usual(),
    );
    let allowed = call_from(&s, MAIN, "+14155550123");
    let TwimlPlan::Dial(dial) = &allowed.action else {
        panic!("expected a dial, got {:?}", allowed.action);
    };
    let continuation = dial.continuation.clone().expect("the dial can move on");
    // The same caller blocked meanwhile, as far as the snapshot knows.
    let d = continue_voice(
        &s,
        &continuation,
        DialStatus::NoAnswer,
        &VoiceCall {
            to: MAIN,
            from: "+14155559999",
            call_sid: "CA123",
        },
        Explain::Quiet,
    );
    assert_eq!(d.outcome.kind, OutcomeKind::Hangup);
}

#[test]
fn simulate_names_the_entry_in_its_outcome_and_trace() {
    let s = blocking(busy_number(), usual());
    let req = SimulateRequest {
        at: ny(2026, 11, 25, 10, 0),
        channel: Channel::Voice,
        from: Some("+19005550100".into()),
        outcomes: vec![DialStatus::NoAnswer],
    };
    let r = simulate(&s, "main", &req, &CTX).expect("the number exists");
    assert_eq!(r.outcome.kind, OutcomeKind::Blocked);
    assert_eq!(r.outcome.id.as_deref(), Some("premium"));
    assert!(
        r.trace
            .iter()
            .any(|line| line == "caller +19005550100 is blocked (prefix +1900)"),
        "{:?}",
        r.trace
    );
    assert!(
        r.trace.iter().any(|line| line.contains("ignored")),
        "{:?}",
        r.trace
    );
    assert!(
        r.twiml
            .ends_with("<Response><Reject reason=\"rejected\"/></Response>")
    );
    // Simulate's default caller is `anonymous`.
    let req = SimulateRequest { from: None, ..req };
    let r = simulate(&s, "main", &req, &CTX).expect("the number exists");
    assert_eq!(r.outcome.id.as_deref(), Some("withheld"));
}

#[test]
fn entries_are_checked_by_kind() {
    assert_eq!(
        check_entry(BlockKind::Number, Some("+14155550100")),
        Ok(Some("+14155550100".into()))
    );
    assert_eq!(
        check_entry(BlockKind::Prefix, Some("+1")),
        Ok(Some("+1".into()))
    );
    assert_eq!(
        check_entry(BlockKind::Prefix, Some("+12345678901234")),
        Ok(Some("+12345678901234".into()))
    );
    assert_eq!(check_entry(BlockKind::Anonymous, None), Ok(None));
    for (kind, value) in [
        (BlockKind::Number, None),
        (BlockKind::Number, Some("+1900")),
        (BlockKind::Number, Some("4155550100")),
        (BlockKind::Prefix, None),
        (BlockKind::Prefix, Some("+")),
        (BlockKind::Prefix, Some("+0")),
        (BlockKind::Prefix, Some("+123456789012345")),
        (BlockKind::Prefix, Some("+1 900")),
        (BlockKind::Anonymous, Some("anonymous")),
    ] {
        let problem = check_entry(kind, value).expect_err("refused");
        assert_eq!(problem.field, "value", "{kind:?} {value:?}");
    }
    assert!(is_anonymous("Restricted"));
    assert!(!is_anonymous("+14155550100"));
}

#[test]
fn stored_entries_that_do_not_compile_are_skipped_with_a_warning() {
    let mut warnings = Vec::new();
    let list = BlockList::compile(
        "c",
        &[
            entry("bad", BlockKind::Number, Some("call me")),
            entry("good", BlockKind::Prefix, Some("+1900")),
        ],
        &mut warnings,
    );
    assert_eq!(list.len(), 1);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(list.matching("+19005550100").map(|e| &*e.id), Some("good"));
    assert!(list.matching("call me").is_none());
}

#[test]
fn a_blocked_call_renders_the_golden_reject() {
    let s = blocking(busy_number(), usual());
    let d = call_from(&s, MAIN, "+14155559999");
    let xml = render(&d, &CTX);
    parse_twiml(&xml).expect("the TwiML parses");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/twiml/reject_blocked_caller.xml");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &xml).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(xml, expected);
}
