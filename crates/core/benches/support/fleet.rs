//! A synthetic fleet for benchmarks: 1 000 clinics × 100 numbers, each number
//! with an assistant schedule, 3 ring groups and 5 closures (the snapshot
//! figure of `docs/benchmarks.md`, "Goals").
#![allow(dead_code)]

use switchboard_core::model::{
    Action, AssistantBinding, AssistantKind, Closure, ClosureRule, Lifecycle, Member, RingGroup,
    RoutingDoc, Strategy, VoiceTarget, VoiceTargetType, Weekday, Window,
};
use switchboard_core::snapshot::{AssistantConfig, ClinicConfig, NumberConfig, SnapshotInput};

const ZONES: [&str; 6] = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "Pacific/Honolulu",
];

/// A uuid-shaped id, as the database makes them.
fn id(kind: u32, n: u64) -> String {
    format!("{kind:08x}-0000-4000-8000-{n:012x}")
}

pub fn e164(n: u64) -> String {
    format!("+1{}", 2_000_000_000 + n)
}

fn window(days: &[Weekday], start: &str, end: &str) -> Window {
    Window {
        days: days.to_vec(),
        start: start.to_owned(),
        end: end.to_owned(),
    }
}

fn routing(n: u64, assistant: &str) -> RoutingDoc {
    use Weekday::*;
    let members = |base: u64, count: u64| -> Vec<Member> {
        (0..count)
            .map(|m| Member {
                target: e164(5_000_000 + base * 10 + m),
                label: Some(format!("Phone {m}")),
            })
            .collect()
    };
    let group =
        |k: u32, name: &str, schedule: Vec<Window>, on_no_answer: Option<Action>| RingGroup {
            id: Some(id(k, n)),
            name: name.to_owned(),
            strategy: if k.is_multiple_of(2) {
                Strategy::Simultaneous
            } else {
                Strategy::Sequential
            },
            ring_seconds: Some(20),
            members: members(n * 3 + u64::from(k), 3),
            schedule: Some(schedule),
            on_no_answer,
            confirm: false,
            confirm_prompt: None,
        };
    let closure = |k: u32, name: &str, rule: ClosureRule, times: Option<(&str, &str)>| Closure {
        id: Some(id(k, n)),
        name: name.to_owned(),
        action: None,
        start_time: times.map(|t| t.0.to_owned()),
        end_time: times.map(|t| t.1.to_owned()),
        from: None,
        until: None,
        rule,
    };
    RoutingDoc {
        timezone: Some(ZONES[(n % ZONES.len() as u64) as usize].to_owned()),
        assistants: vec![AssistantBinding {
            assistant_id: assistant.to_owned(),
            schedule: Some(vec![window(&[Mon, Tue, Wed, Thu, Fri], "12:00", "13:00")]),
        }],
        ring_groups: vec![
            group(
                10,
                "Front desk",
                vec![window(&[Mon, Tue, Wed, Thu, Fri], "08:00", "18:00")],
                Some(Action::RingGroup {
                    ring_group_id: id(11, n),
                }),
            ),
            group(11, "Nurses", vec![window(&[Sat], "09:00", "13:00")], None),
            group(
                12,
                "On call",
                vec![window(&[Fri, Sat], "22:00", "06:00")],
                None,
            ),
        ],
        off_hours: Some(Action::Voicemail {
            greeting: Some("We are closed. Please leave a message.".to_owned()),
        }),
        closures: vec![
            closure(
                20,
                "Thanksgiving",
                ClosureRule::Yearly {
                    month: 11,
                    day: None,
                    nth: Some(4),
                    weekday: Some(Thu),
                    days: Some(2),
                },
                None,
            ),
            closure(
                21,
                "Christmas",
                ClosureRule::Yearly {
                    month: 12,
                    day: Some(24),
                    nth: None,
                    weekday: None,
                    days: Some(3),
                },
                None,
            ),
            closure(
                22,
                "Memorial Day",
                ClosureRule::Yearly {
                    month: 5,
                    day: None,
                    nth: Some(-1),
                    weekday: Some(Mon),
                    days: None,
                },
                None,
            ),
            closure(
                23,
                "Staff meeting",
                ClosureRule::Weekly { days: vec![Wed] },
                Some(("07:30", "08:30")),
            ),
            closure(
                24,
                "Renovation",
                ClosureRule::None {
                    start: "2027-02-01T12:00".to_owned(),
                    end: "2027-02-03".to_owned(),
                },
                None,
            ),
        ],
    }
}

/// The fleet: `clinics × per_clinic` numbers, all active.
pub fn fleet(clinics: u64, per_clinic: u64) -> SnapshotInput {
    fleet_slice(0, clinics, per_clinic)
}

/// Clinics `first..first + clinics` of the fleet.
pub fn fleet_slice(first: u64, clinics: u64, per_clinic: u64) -> SnapshotInput {
    let clinics = (first..first + clinics)
        .map(|c| {
            let assistants: Vec<AssistantConfig> = (0..3)
                .map(|a| AssistantConfig {
                    id: id(1, c * 4 + a),
                    name: format!("Assistant {a}"),
                    kind: AssistantKind::Voice {
                        target: VoiceTarget {
                            kind: VoiceTargetType::Stream,
                            url: format!("wss://ai.example.com/clinic/{c}"),
                            parameters: None,
                        },
                    },
                })
                .collect();
            let numbers = (0..per_clinic)
                .map(|k| {
                    let n = c * per_clinic + k;
                    NumberConfig {
                        id: id(2, n),
                        e164: e164(n),
                        lifecycle: Lifecycle::Active,
                        is_primary: k == 0,
                        location_id: None,
                        forwarding: None,
                        routing: routing(n, &assistants[(k % 3) as usize].id),
                        routing_override: None,
                    }
                })
                .collect();
            ClinicConfig {
                id: id(3, c),
                name: format!("Clinic {c}"),
                default_timezone: "America/New_York".to_owned(),
                voice: Some("Polly.Joanna".to_owned()),
                language: Some("en-US".to_owned()),
                sms_auto_reply: None,
                texting_assistant_id: None,
                twilio_account_sid: Some(format!("AC{c:032x}")),
                transcribe_voicemail: false,
                locations: Vec::new(),
                assistants,
                numbers,
                blocked_callers: Vec::new(),
            }
        })
        .collect();
    SnapshotInput { clinics }
}
