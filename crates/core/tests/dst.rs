//! DST: schedules, closures and coverage checked against an independent
//! time-zone implementation (jiff) minute by minute over two years, for every
//! zone of the time goal in `docs/benchmarks.md` ("Goals"), plus the instants
//! around each transition.
//!
//! The oracle below is written from `docs/routing.md` alone: it reads the
//! wall clock from jiff and decides who answers with its own, naive code, so
//! a bug in the core's minute-of-week compilation, closure tests or timezone
//! handling shows up as a disagreement.

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use common::*;
use jiff::civil::{self, Weekday as W};
use jiff::tz::TimeZone;
use serde_json::json;
use switchboard_core::coverage::coverage;
use switchboard_core::resolve::{HandlerKind, OutcomeKind};
use switchboard_core::snapshot::Snapshot;

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

/// Two years, including 29 February 2028.
const SWEEP_START: (i32, u32, u32) = (2027, 1, 1);
const SWEEP_DAYS: i64 = 731;

/// A document whose windows start in gaps, end in repeated hours and run
/// overnight across DST nights in one zone or another, with closures of every kind.
fn document(zone: &str) -> serde_json::Value {
    json!({
        "timezone": zone,
        "assistants": [
            {"assistant_id": "amy", "schedule": [{"days": ["sun"], "start": "02:30", "end": "04:00"}]},
            {"assistant_id": "rex", "schedule": [{"days": ["sat"], "start": "23:30", "end": "00:30"}]}
        ],
        "ring_groups": [
            {"id": "g1", "name": "Desk", "strategy": "simultaneous", "members": [{"target": "+14155550101"}],
             "schedule": [{"days": ["mon","tue","wed","thu","fri"], "start": "08:00", "end": "18:00"}]},
            {"id": "g2", "name": "Night", "strategy": "simultaneous", "members": [{"target": "+14155550102"}],
             "schedule": [{"days": ["fri","sat"], "start": "22:00", "end": "06:00"}]},
            {"id": "g5", "name": "Gap starter", "strategy": "sequential", "members": [{"target": "+14155550105"}],
             "schedule": [{"days": ["sun"], "start": "00:40", "end": "01:10"}]},
            {"id": "g3", "name": "Early", "strategy": "simultaneous", "members": [{"target": "+14155550103"}],
             "schedule": [{"days": ["sun"], "start": "00:15", "end": "01:30"}]},
            {"id": "g4", "name": "Repeat ender", "strategy": "simultaneous", "members": [{"target": "+14155550104"}],
             "schedule": [{"days": ["sun"], "start": "01:45", "end": "02:45"}, {"days": ["sun"], "start": "04:00", "end": "24:00"}]}
        ],
        "closures": [
            {"id": "c0", "name": "New Year's Eve", "repeat": "yearly", "month": 12, "day": 31, "days": 2,
             "start_time": "22:00", "end_time": "02:00", "action": {"type": "hangup"}},
            {"id": "c1", "name": "Thanksgiving", "repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu",
             "action": {"type": "message", "text": "Closed"}},
            {"id": "c2", "name": "Memorial Day", "repeat": "yearly", "month": 5, "nth": -1, "weekday": "mon"},
            {"id": "c3", "name": "Leap day", "repeat": "yearly", "month": 2, "day": 29, "action": {"type": "hangup"}},
            {"id": "c4", "name": "Summer Wednesdays", "repeat": "weekly", "days": ["wed"], "start_time": "12:00",
             "end_time": "13:00", "from": "2027-06-01", "until": "2027-09-30",
             "action": {"type": "forward", "to": "+12125550100"}},
            {"id": "c5", "name": "First Sunday", "repeat": "monthly", "nth": 1, "weekday": "sun",
             "start_time": "01:10", "end_time": "01:20", "action": {"type": "hangup"}},
            {"id": "c6", "name": "Once", "repeat": "none", "start": "2027-03-14T01:30", "end": "2027-03-14T03:30",
             "action": {"type": "hangup"}},
            {"id": "c7", "name": "Month end", "repeat": "monthly", "day": 31, "start_time": "23:00", "end_time": "01:00",
             "action": {"type": "message", "text": "Month end"}}
        ]
    })
}

/// Who answers, as the oracle sees it: (rule, handler type, handler id).
type Answer = (OutcomeKind, HandlerKind, Option<&'static str>);

fn minutes(h: i32, m: i32) -> i32 {
    h * 60 + m
}

/// `docs/routing.md` read naively off jiff's wall clock.
fn oracle(local: civil::DateTime) -> Answer {
    let date = local.date();
    let yesterday = date.yesterday().expect("yesterday");
    let m = minutes(i32::from(local.hour()), i32::from(local.minute()));
    let day = date.weekday();
    let voicemail = (HandlerKind::Voicemail, None);
    let hangup = (HandlerKind::Hangup, None);

    let new_years_eve =
        |d: civil::Date| (d.month() == 12 && d.day() == 31) || (d.month() == 1 && d.day() == 1);
    let thanksgiving = |d: civil::Date| {
        d.month() == 11
            && d == d
                .nth_weekday_of_month(4, W::Thursday)
                .expect("4th Thursday")
    };
    let memorial = |d: civil::Date| {
        d.month() == 5 && d == d.nth_weekday_of_month(-1, W::Monday).expect("last Monday")
    };
    let leap_day = |d: civil::Date| d.month() == 2 && d.day() == 29;
    let summer_wednesday = |d: civil::Date| {
        d.weekday() == W::Wednesday && d >= civil::date(2027, 6, 1) && d <= civil::date(2027, 9, 30)
    };
    let first_sunday = |d: civil::Date| d.weekday() == W::Sunday && d.day() <= 7;
    let once_start = civil::date(2027, 3, 14).at(1, 30, 0, 0);
    let once_end = civil::date(2027, 3, 14).at(3, 30, 0, 0);

    let closure: Option<(&'static str, (HandlerKind, Option<&'static str>))> =
        if (new_years_eve(date) && m >= minutes(22, 0))
            || (new_years_eve(yesterday) && m < minutes(2, 0))
        {
            Some(("c0", hangup))
        } else if thanksgiving(date) {
            Some(("c1", (HandlerKind::Message, None)))
        } else if memorial(date) {
            Some(("c2", voicemail))
        } else if leap_day(date) {
            Some(("c3", hangup))
        } else if summer_wednesday(date) && (minutes(12, 0)..minutes(13, 0)).contains(&m) {
            Some(("c4", (HandlerKind::Forward, None)))
        } else if first_sunday(date) && (minutes(1, 10)..minutes(1, 20)).contains(&m) {
            Some(("c5", hangup))
        } else if local >= once_start && local < once_end {
            Some(("c6", hangup))
        } else if (date.day() == 31 && m >= minutes(23, 0))
            || (yesterday.day() == 31 && m < minutes(1, 0))
        {
            Some(("c7", (HandlerKind::Message, None)))
        } else {
            None
        };
    if let Some((_, (kind, id))) = closure {
        return (OutcomeKind::Closure, kind, id);
    }
    let sunday = day == W::Sunday;
    let saturday = day == W::Saturday;
    if sunday && (minutes(2, 30)..minutes(4, 0)).contains(&m) {
        return (OutcomeKind::Assistant, HandlerKind::Assistant, Some("amy"));
    }
    if (saturday && m >= minutes(23, 30)) || (sunday && m < minutes(0, 30)) {
        return (OutcomeKind::Assistant, HandlerKind::Assistant, Some("rex"));
    }
    let weekday = !matches!(day, W::Saturday | W::Sunday);
    let yesterday_day = yesterday.weekday();
    let group = if weekday && (minutes(8, 0)..minutes(18, 0)).contains(&m) {
        Some("g1")
    } else if (matches!(day, W::Friday | W::Saturday) && m >= minutes(22, 0))
        || (matches!(yesterday_day, W::Friday | W::Saturday) && m < minutes(6, 0))
    {
        Some("g2")
    } else if sunday && (minutes(0, 40)..minutes(1, 10)).contains(&m) {
        Some("g5")
    } else if sunday && (minutes(0, 15)..minutes(1, 30)).contains(&m) {
        Some("g3")
    } else if sunday && ((minutes(1, 45)..minutes(2, 45)).contains(&m) || m >= minutes(4, 0)) {
        Some("g4")
    } else {
        None
    };
    match group {
        Some(id) => (OutcomeKind::RingGroup, HandlerKind::RingGroup, Some(id)),
        None => (OutcomeKind::OffHours, HandlerKind::Voicemail, None),
    }
}

fn snapshot_for(zone: &str) -> Snapshot {
    let s = one_number(document(zone));
    assert!(s.warnings().is_empty(), "{zone}: {:?}", s.warnings());
    s
}

fn jiff_local(tz: &TimeZone, at: DateTime<Utc>) -> (civil::DateTime, i32) {
    let ts = jiff::Timestamp::from_second(at.timestamp()).expect("timestamp");
    let offset = tz.to_offset(ts);
    (offset.to_datetime(ts), offset.seconds())
}

fn answer_of(
    kind: OutcomeKind,
    handler: Option<&switchboard_core::resolve::Handler>,
) -> (OutcomeKind, HandlerKind, Option<String>) {
    let handler = handler.expect("a handler");
    let id = match handler.kind {
        HandlerKind::Forward
        | HandlerKind::Message
        | HandlerKind::Voicemail
        | HandlerKind::Hangup => None,
        _ => handler.id.as_deref().map(str::to_owned),
    };
    (kind, handler.kind, id)
}

fn owned(answer: Answer) -> (OutcomeKind, HandlerKind, Option<String>) {
    (answer.0, answer.1, answer.2.map(str::to_owned))
}

#[test]
fn coverage_agrees_with_the_jiff_oracle_every_minute_for_two_years_in_every_zone() {
    for zone in ZONES {
        let s = snapshot_for(zone);
        let tz = TimeZone::get(zone).expect("jiff knows the zone");
        let first_day =
            NaiveDate::from_ymd_opt(SWEEP_START.0, SWEEP_START.1, SWEEP_START.2).expect("date");
        let mut checked_minutes = 0u64;
        let mut previous_end: Option<String> = None;
        let mut offset = 0;
        while offset < SWEEP_DAYS {
            let days = (SWEEP_DAYS - offset).min(62);
            let start = first_day + Duration::days(offset);
            let report = coverage(&s, "main", start, days as u32).expect("coverage");
            assert_eq!(report.timezone, zone);
            // Chunks join exactly: the end of one is the start of the next.
            if let Some(end) = &previous_end {
                assert_eq!(
                    *end, report.segments[0].start,
                    "{zone}: chunks join at {start}"
                );
            }
            // The range starts at jiff's start of the local day.
            let day_start = civil::date(
                start.format("%Y").to_string().parse().expect("year"),
                start.format("%m").to_string().parse().expect("month"),
                start.format("%d").to_string().parse().expect("day"),
            )
            .to_zoned(tz.clone())
            .expect("start of day");
            let first = DateTime::parse_from_rfc3339(&report.segments[0].start).expect("rfc3339");
            assert_eq!(
                first.timestamp(),
                day_start.timestamp().as_second(),
                "{zone}: start of {start}"
            );
            for segment in &report.segments {
                let begin = DateTime::parse_from_rfc3339(&segment.start).expect("rfc3339");
                let end = DateTime::parse_from_rfc3339(&segment.end).expect("rfc3339");
                let (wall, offset_seconds) = jiff_local(&tz, begin.with_timezone(&Utc));
                assert_eq!(
                    begin.offset().local_minus_utc(),
                    offset_seconds,
                    "{zone}: offset at {}",
                    segment.start
                );
                assert_eq!(
                    begin.naive_local().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    wall.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
                    "{zone}: wall time at {}",
                    segment.start
                );
                let got = answer_of(segment.kind, segment.handler.as_ref());
                let mut at = begin.with_timezone(&Utc);
                let end = end.with_timezone(&Utc);
                while at < end {
                    let (wall, _) = jiff_local(&tz, at);
                    let expected = owned(oracle(wall));
                    assert_eq!(
                        got, expected,
                        "{zone}: at {at} (local {wall}) in segment {segment:?}"
                    );
                    checked_minutes += 1;
                    at += Duration::minutes(1);
                }
            }
            previous_end = report.segments.last().map(|s| s.end.clone());
            offset += days;
        }
        // Two years of minutes, give or take the DST hours.
        let nominal = (SWEEP_DAYS * 1440) as u64;
        assert!(
            checked_minutes.abs_diff(nominal) <= 120,
            "{zone}: {checked_minutes} minutes"
        );
    }
}

#[test]
fn resolve_agrees_with_the_oracle_around_every_transition_in_every_zone() {
    let from = jiff::Timestamp::from_second(utc("2027-01-01T00:00:00Z").timestamp()).expect("ts");
    let until = jiff::Timestamp::from_second(utc("2029-01-01T00:00:00Z").timestamp()).expect("ts");
    let mut transitions_seen = 0;
    for zone in ZONES {
        let s = snapshot_for(zone);
        let tz = TimeZone::get(zone).expect("zone");
        for transition in tz.following(from).take_while(|t| t.timestamp() < until) {
            transitions_seen += 1;
            let at = DateTime::<Utc>::from_timestamp(transition.timestamp().as_second(), 0)
                .expect("instant");
            // One second before, at, after; and inside the hour either side.
            for delta in [-3600, -1800, -1, 0, 1, 1800, 3599, 3600, 5400] {
                let instant = at + Duration::seconds(delta);
                let decision = call(&s, instant);
                let (wall, offset) = jiff_local(&tz, instant);
                let zoned = jiff::Timestamp::from_second(instant.timestamp())
                    .expect("ts")
                    .to_zoned(tz.clone());
                assert_eq!(
                    decision.local_time().as_deref(),
                    Some(zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string().as_str()),
                    "{zone}: local time at {instant} (offset {offset})"
                );
                assert_eq!(
                    answer_of(decision.outcome.kind, decision.handler.as_ref()),
                    owned(oracle(wall)),
                    "{zone}: answer at {instant} (local {wall})"
                );
            }
        }
    }
    // New York, Los Angeles, Berlin, Santiago, Lord Howe and Chatham change twice a year.
    assert!(transitions_seen >= 6 * 4, "{transitions_seen} transitions");
}

#[test]
fn a_window_that_starts_in_the_spring_gap_is_in_force_from_the_first_instant_after_it() {
    let s = snapshot_for("America/New_York");
    // 2027-03-14: 02:00 EST jumps to 03:00 EDT at 07:00Z. amy's window starts at 02:30.
    let before = call(&s, utc("2027-03-14T06:59:59Z"));
    assert_eq!(
        before.local_time().as_deref(),
        Some("2027-03-14T01:59:59-05:00")
    );
    let after = call(&s, utc("2027-03-14T07:00:00Z"));
    assert_eq!(
        after.local_time().as_deref(),
        Some("2027-03-14T03:00:00-04:00")
    );
    // The one-off closure c6 (01:30–03:30 wall time) spans the gap.
    assert_eq!(before.outcome.id.as_deref(), Some("c6"));
    let later = call(&s, utc("2027-03-14T07:30:00Z"));
    assert_eq!(
        later.local_time().as_deref(),
        Some("2027-03-14T03:30:00-04:00")
    );
    assert_eq!(later.outcome.kind, OutcomeKind::Assistant);
    assert_eq!(later.outcome.id.as_deref(), Some("amy"));
}

#[test]
fn both_occurrences_of_the_repeated_autumn_hour_are_covered_alike() {
    let s = snapshot_for("America/New_York");
    // 2027-11-07: 02:00 EDT falls back to 01:00 EST at 06:00Z; 01:00–02:00 happens twice.
    // "Night" (Sat 22:00 → Sun 06:00) covers both; c5 (first Sunday 01:10–01:20) closes both 01:15s.
    let first_pass = [
        "2027-11-07T05:05:00Z",
        "2027-11-07T05:15:00Z",
        "2027-11-07T05:59:00Z",
    ];
    let second_pass = [
        "2027-11-07T06:05:00Z",
        "2027-11-07T06:15:00Z",
        "2027-11-07T06:59:00Z",
    ];
    let expected = [Some("g2"), Some("c5"), Some("g2")];
    for ((first, second), id) in first_pass.into_iter().zip(second_pass).zip(expected) {
        let (a, b) = (call(&s, utc(first)), call(&s, utc(second)));
        assert_eq!(
            a.local_time().as_deref().map(|t| &t[..19]),
            b.local_time().as_deref().map(|t| &t[..19])
        );
        assert_ne!(a.local_time(), b.local_time(), "different offsets");
        assert_eq!(a.outcome, b.outcome, "{first} and {second}");
        assert_eq!(a.handler, b.handler, "{first} and {second}");
        let got = if a.outcome.kind == OutcomeKind::Closure {
            a.outcome.id.as_deref()
        } else {
            a.handler.as_ref().and_then(|h| h.id.as_deref())
        };
        assert_eq!(got, id, "{first}");
    }
    // Lord Howe falls back half an hour: 02:00 → 01:30 on 2027-04-04, so 01:40 happens twice,
    // both times inside "Night".
    let s = snapshot_for("Australia/Lord_Howe");
    let twice = ["2027-04-03T14:40:00Z", "2027-04-03T15:10:00Z"];
    let (a, b) = (call(&s, utc(twice[0])), call(&s, utc(twice[1])));
    assert_eq!(a.local_time().as_deref(), Some("2027-04-04T01:40:00+11:00"));
    assert_eq!(b.local_time().as_deref(), Some("2027-04-04T01:40:00+10:30"));
    assert_eq!(a.outcome, b.outcome);
    assert_eq!(a.outcome.id.as_deref(), Some("g2"));
}

#[test]
fn an_overnight_window_across_a_dst_night_covers_its_wall_hours() {
    let s = snapshot_for("Europe/Berlin");
    // 2027-03-28: 02:00 CET jumps to 03:00 CEST. "Night" runs Sat 22:00 → Sun 06:00 (rex takes 23:30–00:30,
    // "Repeat ender" is not scheduled before 01:45 and Night wins anyway, being first).
    for (instant, id) in [
        ("2027-03-27T20:59:00Z", None),        // Sat 21:59 CET
        ("2027-03-27T21:00:00Z", Some("g2")),  // Sat 22:00 CET
        ("2027-03-27T22:45:00Z", Some("rex")), // Sat 23:45 CET
        ("2027-03-28T00:59:00Z", Some("g2")),  // Sun 01:59 CET
        ("2027-03-28T01:00:00Z", Some("amy")), // Sun 03:00 CEST: amy 02:30–04:00 in force
        ("2027-03-28T02:00:00Z", Some("g2")),  // Sun 04:00 CEST
        ("2027-03-28T03:59:00Z", Some("g2")),  // Sun 05:59 CEST
        ("2027-03-28T04:00:00Z", Some("g4")),  // Sun 06:00 CEST: Night is over
    ] {
        let d = call(&s, utc(instant));
        let got = d.handler.as_ref().and_then(|h| h.id.as_deref());
        assert_eq!(got, id, "{instant}: {:?}", d.trace);
    }
}
