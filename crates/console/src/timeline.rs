//! The coverage week as the page draws it: a row per local day, its
//! segments placed by the minutes since the day began (so a DST day is
//! shorter or longer, and says so), coloured by who answers.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use switchboard_core::coverage::{CoverageResponse, first_instant_of};
use switchboard_core::resolve::{Handler, HandlerKind, OutcomeKind};

/// Drawing units per minute (a 24-hour day is 960 wide).
const UNITS_PER_MINUTE: f64 = 960.0 / 1440.0;
/// Left margin for the day labels.
pub const LABEL_WIDTH: f64 = 92.0;
/// Height of a row, and of its bar.
pub const ROW_HEIGHT: f64 = 44.0;
const BAR_HEIGHT: f64 = 26.0;
/// Colours of handlers, in order of first appearance.
const PALETTE: usize = 8;

/// One drawn piece of a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    /// `c0`…`c7` (who answers), `off` (voicemail and other non-people).
    pub class: String,
    pub closure: bool,
    pub label: String,
}

/// A tick of the hour scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub x: String,
    pub label: String,
}

/// One local day.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub label: String,
    pub y: String,
    pub text_y: String,
    pub pieces: Vec<Piece>,
    /// Set on a day that is not 24 hours long.
    pub note: Option<String>,
}

/// Who answers, for the legend.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub class: String,
    pub label: String,
}

/// The drawing of a coverage week.
#[derive(Debug, Clone, PartialEq)]
pub struct Week {
    pub days: Vec<Day>,
    pub ticks: Vec<Tick>,
    pub legend: Vec<Entry>,
    pub has_closures: bool,
    pub height: String,
    pub width: String,
    pub warnings: Vec<String>,
}

fn units(minutes: i64) -> f64 {
    minutes as f64 * UNITS_PER_MINUTE
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// Who answers, in words.
pub fn handler_words(handler: Option<&Handler<'_>>) -> String {
    let Some(h) = handler else {
        return "Nobody".to_owned();
    };
    let name = h.name.as_deref().unwrap_or("");
    match h.kind {
        HandlerKind::Assistant => format!("{name} (AI assistant)"),
        HandlerKind::RingGroup => format!("{name} (ring group)"),
        HandlerKind::Voicemail => "Voicemail".to_owned(),
        HandlerKind::Forward => format!(
            "Forwarded to {}",
            switchboard_admin::ops::numbers::display(name)
        ),
        HandlerKind::Message => "A message, then hang up".to_owned(),
        HandlerKind::Hangup => "Hang up".to_owned(),
    }
}

fn offset_words(offset: FixedOffset) -> String {
    let secs = offset.local_minus_utc();
    let sign = if secs < 0 { '−' } else { '+' };
    let secs = secs.abs();
    format!("UTC{sign}{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// Draws `coverage` of the local days `[start, start + days)` in `tz`.
pub fn week(coverage: &CoverageResponse, tz: Tz, start: NaiveDate, days: u32) -> Week {
    let mut legend: Vec<(String, Entry)> = Vec::new();
    let mut class_of = |handler: Option<&Handler<'_>>| -> String {
        let words = handler_words(handler);
        if let Some((_, e)) = legend.iter().find(|(w, _)| *w == words) {
            return e.class.clone();
        }
        let people = matches!(
            handler.map(|h| h.kind),
            Some(HandlerKind::Assistant | HandlerKind::RingGroup)
        );
        let class = if people {
            let n = legend
                .iter()
                .filter(|(_, e)| e.class.starts_with('c'))
                .count();
            format!("c{}", n % PALETTE)
        } else {
            format!(
                "o{}",
                legend
                    .iter()
                    .filter(|(_, e)| e.class.starts_with('o'))
                    .count()
                    % 3
            )
        };
        legend.push((
            words.clone(),
            Entry {
                class: class.clone(),
                label: words,
            },
        ));
        class
    };
    // (from, to, a closure, colour, who in words)
    type Seg = (DateTime<Utc>, DateTime<Utc>, bool, String, String);
    let segments: Vec<Seg> = coverage
        .segments
        .iter()
        .filter_map(|s| {
            let from = DateTime::parse_from_rfc3339(&s.start)
                .ok()?
                .with_timezone(&Utc);
            let to = DateTime::parse_from_rfc3339(&s.end)
                .ok()?
                .with_timezone(&Utc);
            let closure = matches!(s.kind, OutcomeKind::Closure | OutcomeKind::ClosedUntil);
            let words = handler_words(s.handler.as_ref());
            Some((from, to, closure, class_of(s.handler.as_ref()), words))
        })
        .collect();
    let mut out = Vec::new();
    let mut has_closures = false;
    for i in 0..days {
        let Some(date) = start.checked_add_signed(Duration::days(i64::from(i))) else {
            break;
        };
        let (Some(d0), Some(d1)) = (
            first_instant_of(tz, date),
            date.succ_opt().and_then(|next| first_instant_of(tz, next)),
        ) else {
            continue;
        };
        let y = f64::from(i) * ROW_HEIGHT + 28.0;
        let minutes = (d1 - d0).num_minutes();
        let note = (minutes != 1440).then(|| {
            let before = tz.offset_from_utc_datetime(&d0.naive_utc()).fix();
            let after = tz
                .offset_from_utc_datetime(&(d1 - Duration::seconds(1)).naive_utc())
                .fix();
            let hours = minutes as f64 / 60.0;
            let hours = if hours.fract() == 0.0 {
                format!("{hours:.0}")
            } else {
                format!("{hours:.1}")
            };
            format!(
                "{} hours: clocks change from {} to {}",
                hours,
                offset_words(before),
                offset_words(after)
            )
        });
        let mut pieces = Vec::new();
        for (from, to, closure, class, words) in &segments {
            let a = (*from).max(d0);
            let b = (*to).min(d1);
            if a >= b {
                continue;
            }
            has_closures |= *closure;
            let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
            let end = if b == d1 {
                "24:00".to_owned()
            } else {
                local(b)
            };
            pieces.push(Piece {
                x: fmt(LABEL_WIDTH + units((a - d0).num_minutes())),
                y: fmt(y),
                width: fmt(units((b - a).num_minutes()).max(0.5)),
                height: fmt(BAR_HEIGHT),
                class: class.clone(),
                closure: *closure,
                label: format!(
                    "{} {}–{}: {}{}",
                    date.format("%a %b %-d"),
                    local(a),
                    end,
                    words,
                    if *closure { ", closed" } else { "" }
                ),
            });
        }
        out.push(Day {
            label: date.format("%a %-d").to_string(),
            y: fmt(y),
            text_y: fmt(y + BAR_HEIGHT / 2.0 + 5.0),
            pieces,
            note,
        });
    }
    let ticks = (0..=24)
        .step_by(3)
        .map(|h| Tick {
            x: fmt(LABEL_WIDTH + units(h * 60)),
            label: format!("{h:02}:00"),
        })
        .collect();
    Week {
        height: fmt(f64::from(days) * ROW_HEIGHT + 32.0),
        width: fmt(LABEL_WIDTH + 960.0 + 24.0),
        days: out,
        ticks,
        legend: legend.into_iter().map(|(_, e)| e).collect(),
        has_closures,
        warnings: coverage.warnings.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::coverage::Segment;

    fn seg(start: &str, end: &str, kind: OutcomeKind, name: &str) -> Segment {
        Segment {
            start: start.to_owned(),
            end: end.to_owned(),
            kind,
            handler: Some(Handler {
                kind: HandlerKind::RingGroup,
                id: None,
                name: Some(name.to_owned().into()),
            }),
        }
    }

    #[test]
    fn a_spring_forward_day_is_23_hours_and_says_so() {
        let tz: Tz = "America/New_York".parse().expect("a zone");
        let coverage = CoverageResponse {
            timezone: "America/New_York".into(),
            segments: vec![
                seg(
                    "2027-03-14T00:00:00-05:00",
                    "2027-03-14T12:00:00-04:00",
                    OutcomeKind::OffHours,
                    "Night",
                ),
                seg(
                    "2027-03-14T12:00:00-04:00",
                    "2027-03-15T00:00:00-04:00",
                    OutcomeKind::RingGroup,
                    "Desk",
                ),
            ],
            warnings: vec![],
        };
        let start = NaiveDate::from_ymd_opt(2027, 3, 14).expect("a date");
        let week = week(&coverage, tz, start, 1);
        let day = &week.days[0];
        assert_eq!(
            day.note.as_deref(),
            Some("23 hours: clocks change from UTC−05:00 to UTC−04:00")
        );
        // 11 real hours from midnight to noon, then 12.
        assert_eq!(day.pieces[0].width, fmt(units(11 * 60)));
        assert_eq!(day.pieces[1].width, fmt(units(12 * 60)));
        assert!(
            day.pieces[0].label.contains("00:00–12:00"),
            "{}",
            day.pieces[0].label
        );
        assert!(
            day.pieces[1]
                .label
                .ends_with("12:00–24:00: Desk (ring group)")
        );
        assert_eq!(week.legend.len(), 2);
    }

    #[test]
    fn lord_howe_falls_back_half_an_hour() {
        let tz: Tz = "Australia/Lord_Howe".parse().expect("a zone");
        let coverage = CoverageResponse {
            timezone: "Australia/Lord_Howe".into(),
            segments: vec![seg(
                "2027-04-04T00:00:00+11:00",
                "2027-04-05T00:00:00+10:30",
                OutcomeKind::OffHours,
                "Night",
            )],
            warnings: vec![],
        };
        let start = NaiveDate::from_ymd_opt(2027, 4, 4).expect("a date");
        let week = week(&coverage, tz, start, 1);
        assert_eq!(
            week.days[0].note.as_deref(),
            Some("24.5 hours: clocks change from UTC+11:00 to UTC+10:30")
        );
        assert_eq!(week.days[0].pieces[0].width, fmt(units(24 * 60 + 30)));
    }

    #[test]
    fn a_closure_is_marked_and_the_same_handler_keeps_its_colour() {
        let tz: Tz = "UTC".parse().expect("a zone");
        let coverage = CoverageResponse {
            timezone: "UTC".into(),
            segments: vec![
                seg(
                    "2027-01-04T00:00:00+00:00",
                    "2027-01-04T08:00:00+00:00",
                    OutcomeKind::OffHours,
                    "Night",
                ),
                seg(
                    "2027-01-04T08:00:00+00:00",
                    "2027-01-04T12:00:00+00:00",
                    OutcomeKind::Closure,
                    "Night",
                ),
                seg(
                    "2027-01-04T12:00:00+00:00",
                    "2027-01-05T00:00:00+00:00",
                    OutcomeKind::RingGroup,
                    "Desk",
                ),
            ],
            warnings: vec![],
        };
        let start = NaiveDate::from_ymd_opt(2027, 1, 4).expect("a date");
        let week = week(&coverage, tz, start, 1);
        let p = &week.days[0].pieces;
        assert_eq!(p[0].class, p[1].class);
        assert!(p[1].closure && !p[0].closure);
        assert_ne!(p[0].class, p[2].class);
        assert!(week.has_closures);
        assert!(week.days[0].note.is_none());
    }
}
