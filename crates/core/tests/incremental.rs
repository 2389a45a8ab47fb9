//! A snapshot derived with `Snapshot::with_changes` answers exactly as one
//! built from scratch from the same final list of clinics (proptest over
//! clinics, numbers, links, released and duplicate numbers, and edits).

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::json;
use switchboard_core::model::{Forwarding, Lifecycle};
use switchboard_core::resolve::{Explain, resolve_sms};
use switchboard_core::snapshot::{ClinicConfig, NumberConfig, Snapshot, SnapshotInput};
use switchboard_core::twiml::{RenderContext, render};

/// A small pool, so that clinics share E.164s (released and live duplicates).
const E164S: [&str; 6] = [
    "+14155550100",
    "+14155550101",
    "+14155550102",
    "+14155550103",
    "+14155550104",
    "not-a-number",
];

fn routing(tag: u8, greeting: &str) -> serde_json::Value {
    match tag % 4 {
        0 => json!({"off_hours": {"type": "message", "text": greeting}}),
        1 => {
            json!({"ring_groups": [front_desk()], "off_hours": {"type": "voicemail", "greeting": greeting}})
        }
        2 => {
            json!({"assistants": [{"assistant_id": "amy", "schedule": [{"days": ["mon","tue"], "start": "09:00", "end": "17:00"}]}]})
        }
        _ => json!({"assistants": [{"assistant_id": "nobody"}], "off_hours": {"type": "hangup"}}),
    }
}

/// (e164 index, lifecycle, routing tag, link: None / another number's index / a missing id)
type NumberSpec = (usize, u8, u8, Option<u8>);

fn number_spec() -> impl Strategy<Value = NumberSpec> {
    (
        0..E164S.len(),
        0u8..4,
        0u8..4,
        prop_oneof![2 => Just(None), 1 => (0u8..6).prop_map(Some)],
    )
}

/// A clinic from specs; `generation` makes its greetings differ between edits.
fn clinic(id: usize, generation: usize, specs: &[NumberSpec], sid: bool) -> ClinicConfig {
    clinic_keyed(id, generation, specs, sid, false)
}

/// Every number's E.164 and id of its own (`n<clinic>-<i>`): what a
/// database holds, where a change patches the indexes instead of
/// rebuilding them.
fn unique_e164(clinic: usize, i: usize) -> String {
    format!("+1415{clinic:03}{i:04}")
}

fn clinic_keyed(
    id: usize,
    generation: usize,
    specs: &[NumberSpec],
    sid: bool,
    unique: bool,
) -> ClinicConfig {
    let numbers: Vec<NumberConfig> = specs
        .iter()
        .enumerate()
        .map(|(i, &(e164, lifecycle, tag, link))| {
            // Number ids repeat across clinics now and then (later wins).
            let owner = if unique { id } else { id % 3 };
            let e164 = if unique {
                unique_e164(id, i)
            } else {
                E164S[e164].to_owned()
            };
            let mut n = number(
                &format!("n{owner}-{i}"),
                &e164,
                routing(tag, &format!("clinic {id} gen {generation} number {i}")),
            );
            n.lifecycle = match lifecycle {
                0 => Lifecycle::Pending,
                1 => Lifecycle::Paused,
                2 => Lifecycle::Released,
                _ => Lifecycle::Active,
            };
            n.forwarding = link.map(|target| Forwarding::Number {
                number_id: format!("n{owner}-{target}"),
            });
            n
        })
        .collect();
    let mut clinic = clinic_with(numbers);
    clinic.id = format!("clinic-{id}");
    clinic.name = format!("Clinic {id} gen {generation}");
    clinic.twilio_account_sid = sid.then(|| format!("AC{id}"));
    clinic
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, Vec<NumberSpec>),
    Remove(usize),
    Add(Vec<NumberSpec>),
}

fn edit() -> impl Strategy<Value = Edit> {
    let specs = || proptest::collection::vec(number_spec(), 0..5);
    prop_oneof![
        (0usize..8, specs()).prop_map(|(i, s)| Edit::Replace(i, s)),
        (0usize..8).prop_map(Edit::Remove),
        specs().prop_map(Edit::Add),
    ]
}

/// Everything a caller can observe, equal on both snapshots.
fn assert_same(incremental: &Snapshot, scratch: &Snapshot) -> Result<(), TestCaseError> {
    assert_same_on(incremental, scratch, &E164S.map(str::to_owned))
}

fn assert_same_on(
    incremental: &Snapshot,
    scratch: &Snapshot,
    e164s: &[String],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(incremental.version(), scratch.version());
    prop_assert_eq!(incremental.number_count(), scratch.number_count());
    prop_assert_eq!(incremental.warnings(), scratch.warnings());
    prop_assert_eq!(incremental.account_sids(), scratch.account_sids());
    let ctx = RenderContext {
        public_base_url: BASE,
    };
    for at in [
        utc("2026-03-02T15:00:00Z"),
        utc("2026-03-03T23:30:00Z"),
        utc("2026-03-07T12:00:00Z"),
    ] {
        for to in e164s {
            let to = to.as_str();
            let (a, b) = (call_at(incremental, to, at), call_at(scratch, to, at));
            prop_assert_eq!(render(&a, &ctx), render(&b, &ctx));
            prop_assert_eq!(a, b);
        }
    }
    for to in e164s {
        let to = to.as_str();
        prop_assert_eq!(
            resolve_sms(incremental, to, CALLER, Explain::Trace),
            resolve_sms(scratch, to, CALLER, Explain::Trace)
        );
        let (a, b) = (incremental.number_by_e164(to), scratch.number_by_e164(to));
        prop_assert_eq!(a.map(|n| n.id()), b.map(|n| n.id()));
        if let (Some(a), Some(b)) = (a, b) {
            prop_assert_eq!(incremental.status_of(a), scratch.status_of(b));
            prop_assert_eq!(incremental.clinic_of(a).id(), scratch.clinic_of(b).id());
            prop_assert_eq!(
                incremental.link_end(a).map(|n| n.id()),
                scratch.link_end(b).map(|n| n.id())
            );
        }
    }
    for clinic in 0..12 {
        for i in 0..5 {
            let id = format!("n{clinic}-{i}");
            prop_assert_eq!(
                incremental
                    .number_by_id(&id)
                    .map(|n| (n.e164(), n.lifecycle())),
                scratch.number_by_id(&id).map(|n| (n.e164(), n.lifecycle()))
            );
        }
        let id = format!("clinic-{clinic}");
        prop_assert_eq!(
            incremental.clinic_by_id(&id).map(|c| c.name()),
            scratch.clinic_by_id(&id).map(|c| c.name())
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_snapshot_with_every_key_its_own_patched_clinic_by_clinic_answers_as_one_built_from_scratch(
        initial in proptest::collection::vec(proptest::collection::vec(number_spec(), 0..5), 0..6),
        edits in proptest::collection::vec(proptest::collection::vec(edit(), 1..4), 1..4),
    ) {
        let mut clinics: Vec<ClinicConfig> = initial
            .iter()
            .enumerate()
            .map(|(id, specs)| clinic_keyed(id, 0, specs, id % 2 == 0, true))
            .collect();
        let mut next_id = clinics.len();
        let mut current = Snapshot::build(SnapshotInput { clinics: clinics.clone() }, 1);
        for (round, batch) in edits.into_iter().enumerate() {
            let generation = round + 1;
            let mut changed: Vec<ClinicConfig> = Vec::new();
            let mut removed: Vec<String> = Vec::new();
            for edit in batch {
                match edit {
                    Edit::Replace(i, specs) if !clinics.is_empty() => {
                        let i = i % clinics.len();
                        let id: usize = clinics[i].id["clinic-".len()..].parse().expect("our id");
                        clinics[i] = clinic_keyed(id, generation, &specs, generation % 2 == 0, true);
                        changed.retain(|c| c.id != clinics[i].id);
                        changed.push(clinics[i].clone());
                    }
                    Edit::Remove(i) if !clinics.is_empty() => {
                        let gone = clinics.remove(i % clinics.len());
                        changed.retain(|c| c.id != gone.id);
                        removed.push(gone.id);
                    }
                    Edit::Add(specs) => {
                        let added = clinic_keyed(next_id, generation, &specs, true, true);
                        next_id += 1;
                        clinics.push(added.clone());
                        changed.push(added);
                    }
                    _ => {}
                }
            }
            changed.sort_by_key(|c| clinics.iter().position(|k| k.id == c.id));
            let removed: Vec<&str> = removed.iter().map(String::as_str).collect();
            let version = 1 + generation as i64;
            current = current.with_changes(version, changed, &removed);
            let scratch = Snapshot::build(SnapshotInput { clinics: clinics.clone() }, version);
            let e164s: Vec<String> = (0..next_id)
                .flat_map(|c| (0..5).map(move |i| unique_e164(c, i)))
                .collect();
            assert_same_on(&current, &scratch, &e164s)?;
            for c in 0..next_id {
                for i in 0..5 {
                    let id = format!("n{c}-{i}");
                    prop_assert_eq!(
                        current.number_by_id(&id).map(|n| (n.e164(), n.lifecycle())),
                        scratch.number_by_id(&id).map(|n| (n.e164(), n.lifecycle()))
                    );
                }
            }
        }
    }

    #[test]
    fn a_snapshot_changed_clinic_by_clinic_answers_as_one_built_from_scratch(
        initial in proptest::collection::vec(proptest::collection::vec(number_spec(), 0..5), 0..6),
        edits in proptest::collection::vec(proptest::collection::vec(edit(), 1..4), 1..4),
    ) {
        // The final list, kept as the loader would deliver it: a changed
        // clinic in its place, a new one last, a removed one gone.
        let mut clinics: Vec<ClinicConfig> = initial
            .iter()
            .enumerate()
            .map(|(id, specs)| clinic(id, 0, specs, id % 2 == 0))
            .collect();
        let mut next_id = clinics.len();
        let mut current = Snapshot::build(SnapshotInput { clinics: clinics.clone() }, 1);
        for (round, batch) in edits.into_iter().enumerate() {
            let generation = round + 1;
            let mut changed: Vec<ClinicConfig> = Vec::new();
            let mut removed: Vec<String> = Vec::new();
            for edit in batch {
                match edit {
                    Edit::Replace(i, specs) if !clinics.is_empty() => {
                        let i = i % clinics.len();
                        let id: usize = clinics[i].id["clinic-".len()..].parse().expect("our id");
                        clinics[i] = clinic(id, generation, &specs, generation % 2 == 0);
                        changed.retain(|c| c.id != clinics[i].id);
                        changed.push(clinics[i].clone());
                    }
                    Edit::Remove(i) if !clinics.is_empty() => {
                        let gone = clinics.remove(i % clinics.len());
                        changed.retain(|c| c.id != gone.id);
                        removed.push(gone.id);
                    }
                    Edit::Add(specs) => {
                        let added = clinic(next_id, generation, &specs, true);
                        next_id += 1;
                        clinics.push(added.clone());
                        changed.push(added);
                    }
                    _ => {}
                }
            }
            // Changed clinics arrive in list order (new ones last), as a loader reads them.
            changed.sort_by_key(|c| clinics.iter().position(|k| k.id == c.id));
            let removed: Vec<&str> = removed.iter().map(String::as_str).collect();
            let version = 1 + generation as i64;
            current = current.with_changes(version, changed, &removed);
            let scratch = Snapshot::build(SnapshotInput { clinics: clinics.clone() }, version);
            assert_same(&current, &scratch)?;
        }
    }
}

#[test]
fn a_changed_clinic_leaves_the_others_shared_and_a_removed_one_unreachable() {
    let a = clinic(0, 0, &[(0, 3, 0, None), (1, 3, 0, Some(0))], true);
    let b = clinic(1, 0, &[(2, 3, 0, None)], false);
    let first = Snapshot::build(
        SnapshotInput {
            clinics: vec![a, b.clone()],
        },
        1,
    );
    let a2 = clinic(0, 1, &[(1, 3, 0, None)], true);
    let second = first.with_changes(2, vec![a2], &[]);
    let at = utc("2026-03-02T15:00:00Z");
    assert!(format!("{:?}", call_at(&second, E164S[1], at)).contains("clinic 0 gen 1"));
    assert!(second.number_by_e164(E164S[0]).is_none());
    // Clinic 1 was not compiled again: it answers from the same memory.
    assert!(std::ptr::eq(
        first.number_by_e164(E164S[2]).expect("in first"),
        second.number_by_e164(E164S[2]).expect("in second"),
    ));
    let third = second.with_changes(3, Vec::new(), &["clinic-1"]);
    assert!(third.number_by_e164(E164S[2]).is_none());
    assert!(third.clinic_by_id("clinic-1").is_none());
    assert_eq!(third.number_count(), 1);
    // And it may come back, after the others.
    let fourth = third.with_changes(4, vec![b], &[]);
    assert_eq!(
        fourth.number_by_e164(E164S[2]).map(|n| n.id()),
        Some("n1-0")
    );
}
