//! A synthetic clinic set for the load benchmark: as many numbers as asked,
//! ten per clinic, each clinic shaped like the demo clinic of `fixtures/`.
//!
//! Deterministic (the same count gives the same clinics), so a run can be
//! reproduced and its request file rebuilt. Every schedule, closure and
//! timezone changes the answer only on a whole hour (all timezones have
//! whole-hour offsets), so a benchmark that stays inside one UTC hour sees
//! one answer per number: `bench/run` relies on this to check answers.

use serde_json::{Value, json};
use switchboard_core::snapshot::ClinicConfig;

/// Numbers per synthetic clinic.
pub const NUMBERS_PER_CLINIC: usize = 10;

/// Timezones with whole-hour offsets all year round (see the module doc).
const TIMEZONES: [&str; 10] = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "Europe/London",
    "Europe/Berlin",
];

/// The most numbers [`synthetic_e164`] can spell in its block.
pub const MAX_NUMBERS: usize = 7_000_000;

/// The E.164 of synthetic number `index`: `+1646` then seven digits, a block
/// the demo clinic does not use.
pub fn synthetic_e164(index: usize) -> String {
    format!("+1646{:07}", 2_000_000 + index)
}

/// A ring-group member's phone: a block of its own, so members never collide
/// with clinic numbers.
fn member_e164(index: usize) -> String {
    format!("+1917{:07}", 2_000_000 + index % MAX_NUMBERS)
}

/// A UUID-shaped id: `tag` names the kind of object, `index` the object.
/// The `be…` prefix keeps synthetic ids apart from the demo's.
fn synthetic_id(tag: u8, index: usize) -> String {
    format!("be{tag:02x}0000-0000-4000-8000-{index:012x}")
}

/// What the synthetic numbers carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// Eight routed numbers, a link and an outside forward per clinic: the
    /// load benchmark's mix of answers.
    #[default]
    Mixed,
    /// Every number routed with the full document (3 ring groups, 5
    /// closures): the snapshot figure of `docs/benchmarks.md` ("Goals").
    Routed,
}

/// `numbers` synthetic numbers in `ceil(numbers / 10)` clinics, of the
/// [`Shape::Mixed`] shape.
///
/// In each clinic: number 0 is primary; numbers 0–7 carry a full routing
/// document (a scheduled lunch assistant, three scheduled ring groups, an
/// off-hours assistant, five closures of every repeat kind), number 7 of
/// every tenth clinic is paused, number 8 is linked to number 0, number 9
/// forwards to an outside phone. Clinics alternate between having a texting
/// assistant and an SMS auto-reply.
///
/// # Panics
/// When `numbers` exceeds [`MAX_NUMBERS`]: the numbering block is full.
pub fn synthetic_clinics(numbers: usize) -> Vec<ClinicConfig> {
    synthetic_clinics_shaped(numbers, Shape::Mixed)
}

/// As [`synthetic_clinics`], of the given shape: [`Shape::Routed`] gives
/// numbers 8 and 9 of each clinic the full routing document too.
///
/// # Panics
/// When `numbers` exceeds [`MAX_NUMBERS`]: the numbering block is full.
pub fn synthetic_clinics_shaped(numbers: usize, shape: Shape) -> Vec<ClinicConfig> {
    assert!(
        numbers <= MAX_NUMBERS,
        "at most {MAX_NUMBERS} synthetic numbers"
    );
    (0..numbers.div_ceil(NUMBERS_PER_CLINIC))
        .map(|clinic| {
            let first = clinic * NUMBERS_PER_CLINIC;
            let count = NUMBERS_PER_CLINIC.min(numbers - first);
            let doc = clinic_document(clinic, count, shape);
            serde_json::from_value(doc).expect("the synthetic clinic matches ClinicConfig")
        })
        .collect()
}

fn clinic_document(clinic: usize, count: usize, shape: Shape) -> Value {
    let timezone = TIMEZONES[clinic % TIMEZONES.len()];
    let second_timezone = TIMEZONES[(clinic + 3) % TIMEZONES.len()];
    let after_hours = synthetic_id(0xa1, clinic);
    let lunch_line = synthetic_id(0xa2, clinic);
    let texting = synthetic_id(0xa3, clinic);
    let locations = [
        synthetic_id(0x1a, clinic * 2),
        synthetic_id(0x1a, clinic * 2 + 1),
    ];
    let has_texting_assistant = clinic.is_multiple_of(2);
    let numbers: Vec<Value> = (0..count)
        .map(|slot| {
            number_document(
                clinic,
                slot,
                &locations[slot % 2],
                &after_hours,
                &lunch_line,
                shape,
            )
        })
        .collect();
    json!({
        "id": synthetic_id(0xc0, clinic),
        "name": format!("Synthetic Clinic {clinic:06}"),
        "default_timezone": timezone,
        "voice": "Polly.Joanna",
        "language": "en-US",
        "sms_auto_reply": (!has_texting_assistant)
            .then(|| format!("Thanks for texting clinic {clinic}. Call us for appointments.")),
        "texting_assistant_id": has_texting_assistant.then(|| texting.clone()),
        "twilio_account_sid": null,
        "locations": [
            {"id": locations[0], "name": "Main office", "timezone": timezone},
            {"id": locations[1], "name": "Second office", "timezone": second_timezone}
        ],
        "assistants": [
            {"id": after_hours, "name": "After Hours AI", "kind": "voice",
             "target": {"type": "stream", "url": "wss://assistant.example.com/stream",
                        "parameters": {"persona": "after-hours", "clinic": format!("{clinic}")}}},
            {"id": lunch_line, "name": "Lunch Line AI", "kind": "voice",
             "target": {"type": "sip", "url": format!("sip:lunch-{clinic}@assistant.example.com")}},
            {"id": texting, "name": "Texting Tess", "kind": "texting",
             "sms_url": "https://assistant.example.com/sms"}
        ],
        "numbers": numbers,
    })
}

fn number_document(
    clinic: usize,
    slot: usize,
    location: &str,
    after_hours: &str,
    lunch_line: &str,
    shape: Shape,
) -> Value {
    let index = clinic * NUMBERS_PER_CLINIC + slot;
    let mut number = json!({
        "id": synthetic_id(0xb0, index),
        "e164": synthetic_e164(index),
        "lifecycle": if clinic % 10 == 9 && slot == 7 { "paused" } else { "active" },
        "is_primary": slot == 0,
        "location_id": location,
    });
    match slot {
        8 | 9 if shape == Shape::Routed => {
            number["routing"] = routing_document(index, after_hours, lunch_line);
        }
        8 => {
            let primary = synthetic_id(0xb0, clinic * NUMBERS_PER_CLINIC);
            number["forwarding"] = json!({ "number_id": primary });
        }
        9 => number["forwarding"] = json!({ "to": member_e164(index * 5) }),
        _ => number["routing"] = routing_document(index, after_hours, lunch_line),
    }
    number
}

fn routing_document(index: usize, after_hours: &str, lunch_line: &str) -> Value {
    let member = |n: usize| member_e164(index * 5 + n);
    let weekdays = json!(["mon", "tue", "wed", "thu", "fri"]);
    json!({
        "assistants": [
            {"assistant_id": lunch_line,
             "schedule": [{"days": weekdays, "start": "12:00", "end": "13:00"}]}
        ],
        "ring_groups": [
            {"id": synthetic_id(0xd1, index), "name": "Front desk", "strategy": "sequential",
             "ring_seconds": 20,
             "members": [{"target": member(0), "label": "Desk 1"}, {"target": member(1), "label": "Desk 2"}],
             "schedule": [{"days": weekdays, "start": "08:00", "end": "12:00"},
                          {"days": weekdays, "start": "13:00", "end": "18:00"}],
             "on_no_answer": {"type": "assistant", "assistant_id": after_hours}},
            {"id": synthetic_id(0xd2, index), "name": "Evening nurses", "strategy": "simultaneous",
             "ring_seconds": 25,
             "members": [{"target": member(2), "label": "Nurse 1"}, {"target": member(3), "label": "Nurse 2"},
                         {"target": format!("client:nurse-{index}"), "label": "Station"}],
             "schedule": [{"days": weekdays, "start": "18:00", "end": "21:00"}],
             "on_no_answer": {"type": "voicemail", "greeting": "Our nurses are with patients. Please leave a message."}},
            {"id": synthetic_id(0xd3, index), "name": "Saturday desk", "strategy": "simultaneous",
             "members": [{"target": member(4), "label": "Weekend desk"}],
             "schedule": [{"days": ["sat"], "start": "09:00", "end": "13:00"}],
             "on_no_answer": {"type": "voicemail"}}
        ],
        "off_hours": {"type": "assistant", "assistant_id": after_hours},
        "closures": [
            {"id": synthetic_id(0xe1, index), "name": "Thanksgiving", "repeat": "yearly",
             "month": 11, "nth": 4, "weekday": "thu",
             "action": {"type": "message", "text": "We are closed for Thanksgiving. If this is an emergency, hang up and dial 911."}},
            {"id": synthetic_id(0xe2, index), "name": "Christmas", "repeat": "yearly",
             "month": 12, "day": 24, "days": 3},
            {"id": synthetic_id(0xe3, index), "name": "Staff meeting", "repeat": "monthly",
             "nth": 1, "weekday": "wed", "start_time": "08:00", "end_time": "09:00",
             "action": {"type": "voicemail", "greeting": "Our team is in a meeting until 9. Please leave a message."}},
            {"id": synthetic_id(0xe4, index), "name": "Sundays", "repeat": "weekly", "days": ["sun"]},
            {"id": synthetic_id(0xe5, index), "name": "Inventory", "repeat": "none",
             "start": "2027-07-05T12:00", "end": "2027-07-05T16:00",
             "action": {"type": "forward", "to": member(0)}}
        ]
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use switchboard_core::model::{AssistantKindTag, Lifecycle};
    use switchboard_core::snapshot::{Snapshot, SnapshotInput};
    use switchboard_core::validate::{ClinicContext, validate_e164, validate_routing};

    #[test]
    fn the_set_holds_exactly_the_numbers_asked_for_ten_per_clinic() {
        let clinics = synthetic_clinics(10_003);
        assert_eq!(clinics.len(), 1_001);
        let numbers: usize = clinics.iter().map(|c| c.numbers.len()).sum();
        assert_eq!(numbers, 10_003);
        assert_eq!(clinics[1_000].numbers.len(), 3);
    }

    #[test]
    fn every_number_and_id_is_unique_and_every_e164_is_valid() {
        let clinics = synthetic_clinics(2_000);
        let mut e164s = HashSet::new();
        let mut ids = HashSet::new();
        for clinic in &clinics {
            assert!(ids.insert(clinic.id.clone()));
            for number in &clinic.numbers {
                validate_e164(&number.e164).expect("valid E.164");
                assert!(e164s.insert(number.e164.clone()), "{} twice", number.e164);
                assert!(ids.insert(number.id.clone()), "{} twice", number.id);
            }
        }
    }

    #[test]
    fn every_routing_document_passes_the_admin_api_validation() {
        for clinic in synthetic_clinics(200) {
            let ctx = ClinicContext {
                assistants: clinic
                    .assistants
                    .iter()
                    .map(|a| (a.id.clone(), a.kind.tag()))
                    .collect::<Vec<(String, AssistantKindTag)>>(),
            };
            for number in &clinic.numbers {
                validate_routing(&number.routing, &ctx)
                    .unwrap_or_else(|e| panic!("{}: {e:?}", number.e164));
            }
        }
    }

    #[test]
    fn each_clinic_has_one_primary_a_link_a_forward_and_full_routings() {
        let clinics = synthetic_clinics(100);
        for clinic in &clinics {
            assert_eq!(clinic.numbers.iter().filter(|n| n.is_primary).count(), 1);
            assert_eq!(
                clinic
                    .numbers
                    .iter()
                    .filter(|n| n.forwarding.is_some())
                    .count(),
                2
            );
            let full = clinic
                .numbers
                .iter()
                .filter(|n| n.routing.ring_groups.len() == 3 && n.routing.closures.len() == 5)
                .count();
            assert_eq!(full, 8);
        }
        assert_eq!(clinics[9].numbers[7].lifecycle, Lifecycle::Paused);
    }

    #[test]
    fn the_set_compiles_into_a_snapshot_without_warnings() {
        let input = SnapshotInput {
            clinics: synthetic_clinics(500),
        };
        let snapshot = Snapshot::build(input, 1);
        assert!(
            snapshot.warnings().is_empty(),
            "warnings: {:?}",
            snapshot.warnings()
        );
    }

    #[test]
    fn the_routed_shape_gives_every_number_three_ring_groups_and_five_closures() {
        let clinics = synthetic_clinics_shaped(1_000, Shape::Routed);
        let numbers: Vec<_> = clinics.iter().flat_map(|c| &c.numbers).collect();
        assert_eq!(numbers.len(), 1_000);
        for number in numbers {
            assert_eq!(number.routing.ring_groups.len(), 3, "{}", number.e164);
            assert_eq!(number.routing.closures.len(), 5, "{}", number.e164);
            assert!(number.forwarding.is_none());
        }
        let snapshot = Snapshot::build(SnapshotInput { clinics }, 1);
        assert!(snapshot.warnings().is_empty(), "{:?}", snapshot.warnings());
    }

    #[test]
    fn the_same_count_always_gives_the_same_clinics() {
        assert_eq!(synthetic_clinics(30), synthetic_clinics(30));
    }
}
