//! Builders shared by the core's integration tests: a demo clinic in the
//! JSON shapes of `docs/api.md`, so tests read like `docs/routing.md`.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use switchboard_core::model::{Forwarding, Lifecycle, RoutingDoc};
use switchboard_core::resolve::{Decision, Explain, VoiceCall, resolve_voice};
use switchboard_core::snapshot::{ClinicConfig, NumberConfig, Snapshot, SnapshotInput};

pub const CLINIC: &str = "clinic-1";
pub const MAIN: &str = "+14155550100";
pub const CALLER: &str = "+14155559999";
pub const BASE: &str = "https://switchboard.example.com";

/// The demo clinic's assistants: a stream, a SIP and a redirect voice
/// assistant, and a texting one.
pub fn assistants() -> Value {
    json!([
        {"id": "amy", "name": "After Hours Amy", "kind": "voice",
         "target": {"type": "stream", "url": "wss://ai.example.com/stream", "parameters": {"tenant": "demo"}}},
        {"id": "sam", "name": "Sip Sam", "kind": "voice",
         "target": {"type": "sip", "url": "sip:sam@ai.example.com"}},
        {"id": "rex", "name": "Redirect Rex", "kind": "voice",
         "target": {"type": "redirect", "url": "https://ai.example.com/twiml?a=1&b=2"}},
        {"id": "tess", "name": "Texting Tess", "kind": "texting", "sms_url": "https://ai.example.com/sms"}
    ])
}

/// A clinic in America/New_York with the demo assistants and no numbers.
pub fn clinic_json() -> Value {
    json!({
        "id": CLINIC, "name": "Demo Clinic", "default_timezone": "America/New_York",
        "voice": "Polly.Joanna", "language": "en-US",
        "locations": [{"id": "loc-sf", "name": "San Francisco", "timezone": "America/Los_Angeles"}],
        "assistants": assistants(),
        "numbers": []
    })
}

pub fn doc(value: Value) -> RoutingDoc {
    serde_json::from_value(value).expect("test routing document is valid JSON")
}

pub fn number(id: &str, e164: &str, routing: Value) -> NumberConfig {
    NumberConfig {
        id: id.to_owned(),
        e164: e164.to_owned(),
        lifecycle: Lifecycle::Active,
        is_primary: false,
        location_id: None,
        forwarding: None,
        routing: doc(routing),
        routing_override: None,
    }
}

pub fn forwarding_number(id: &str, e164: &str, forwarding: Forwarding) -> NumberConfig {
    NumberConfig {
        forwarding: Some(forwarding),
        ..number(id, e164, json!({}))
    }
}

pub fn clinic_with(numbers: Vec<NumberConfig>) -> ClinicConfig {
    let mut clinic: ClinicConfig =
        serde_json::from_value(clinic_json()).expect("demo clinic is valid");
    clinic.numbers = numbers;
    clinic
}

pub fn snapshot_of(numbers: Vec<NumberConfig>) -> Snapshot {
    Snapshot::build(
        SnapshotInput {
            clinics: vec![clinic_with(numbers)],
        },
        1,
    )
}

/// A snapshot with one number, MAIN, routed by `routing`.
pub fn one_number(routing: Value) -> Snapshot {
    snapshot_of(vec![number("main", MAIN, routing)])
}

pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant is RFC 3339")
        .with_timezone(&Utc)
}

/// An instant given as New York wall time (unambiguous ones only).
pub fn ny(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::America::New_York
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("unambiguous New York time")
        .with_timezone(&Utc)
}

pub fn call_at<'a>(s: &'a Snapshot, to: &'a str, at: DateTime<Utc>) -> Decision<'a> {
    resolve_voice(
        s,
        &VoiceCall {
            to,
            from: CALLER,
            call_sid: "CA123",
        },
        at,
        Explain::Trace,
    )
}

pub fn call(s: &Snapshot, at: DateTime<Utc>) -> Decision<'_> {
    call_at(s, MAIN, at)
}

/// A weekday front desk 08:00–18:00 (simultaneous, two members).
pub fn front_desk() -> Value {
    json!({"id": "desk", "name": "Front desk", "strategy": "simultaneous", "ring_seconds": 20,
           "members": [{"target": "+14155550101", "label": "Desk 1"}, {"target": "+14155550102"}],
           "schedule": [{"days": ["mon","tue","wed","thu","fri"], "start": "08:00", "end": "18:00"}]})
}

/// Parses TwiML with quick-xml's reader: it must start with the declaration,
/// be well-formed, and have exactly one root, `<Response>`. Returns the names
/// of the elements in document order.
pub fn parse_twiml(xml: &str) -> Result<Vec<String>, String> {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    if !xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#) {
        return Err("does not start with the XML declaration".into());
    }
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                check_attributes(&e)?;
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
                names.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
            }
            Event::Empty(e) => {
                check_attributes(&e)?;
                if depth == 0 {
                    roots += 1;
                }
                names.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
            }
            Event::End(_) => depth = depth.checked_sub(1).ok_or("unbalanced end")?,
            Event::Text(t) => {
                if depth == 0 && !t.as_ref().iter().all(u8::is_ascii_whitespace) {
                    return Err("text outside the root".into());
                }
                t.decode().map_err(|e| e.to_string())?;
            }
            Event::GeneralRef(r) => {
                let known = ["lt", "gt", "amp", "quot", "apos"];
                let name = r.decode().map_err(|e| e.to_string())?;
                if !known.contains(&name.as_ref()) && !name.starts_with('#') {
                    return Err(format!("unknown entity &{name};"));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unclosed element".into());
    }
    let xml_char = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    if !xml.chars().all(xml_char) {
        return Err("holds a character XML 1.0 forbids".into());
    }
    if roots != 1 || names.first().map(String::as_str) != Some("Response") {
        return Err(format!("root is not a single <Response>: {names:?}"));
    }
    Ok(names)
}

fn check_attributes(e: &quick_xml::events::BytesStart) -> Result<(), String> {
    for attribute in e.attributes().with_checks(true) {
        let attribute = attribute.map_err(|e| e.to_string())?;
        attribute.unescape_value().map_err(|e| e.to_string())?;
    }
    Ok(())
}
