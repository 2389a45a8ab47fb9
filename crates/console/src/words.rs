//! Parts of a routing document in words: days and closures.

use chrono::{DateTime, Utc};
use switchboard_core::model::{Closure, ClosureRule, Weekday};

const DAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "Mon"),
    (Weekday::Tue, "Tue"),
    (Weekday::Wed, "Wed"),
    (Weekday::Thu, "Thu"),
    (Weekday::Fri, "Fri"),
    (Weekday::Sat, "Sat"),
    (Weekday::Sun, "Sun"),
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn long_day(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// Days as runs: `Mon–Fri`, `Mon, Wed, Sat–Sun`.
pub fn days(days: &[Weekday]) -> String {
    if days.len() == 7 {
        return "Every day".to_owned();
    }
    let on: Vec<bool> = DAYS.iter().map(|(d, _)| days.contains(d)).collect();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < 7 {
        if !on[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < 7 && on[i + 1] {
            i += 1;
        }
        runs.push(if i - start >= 2 {
            format!("{}–{}", DAYS[start].1, DAYS[i].1)
        } else if i > start {
            format!("{}, {}", DAYS[start].1, DAYS[i].1)
        } else {
            DAYS[start].1.to_owned()
        });
        i += 1;
    }
    runs.join(", ")
}

fn ordinal(n: i64) -> String {
    if n == -1 {
        return "last".to_owned();
    }
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn month(m: i64) -> &'static str {
    usize::try_from(m - 1)
        .ok()
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("?")
}

/// A closure as a sentence: "Every year on the 4th Thursday of November,
/// all day".
pub fn closure(c: &Closure) -> String {
    let when = match &c.rule {
        ClosureRule::None { start, end } if start == end => format!("On {start}"),
        ClosureRule::None { start, end } => format!("From {start} to {end}"),
        ClosureRule::Weekly { days: d } => format!("Every week on {}", days(d)),
        ClosureRule::Monthly { day: Some(day), .. } => {
            format!("Every month on the {}", ordinal(*day))
        }
        ClosureRule::Monthly {
            nth: Some(nth),
            weekday: Some(w),
            ..
        } => format!("Every month on the {} {}", ordinal(*nth), long_day(*w)),
        ClosureRule::Monthly { .. } => "Every month".to_owned(),
        ClosureRule::Yearly {
            month: m,
            day,
            nth,
            weekday,
            days,
        } => {
            let anchor = match (day, nth, weekday) {
                (Some(d), _, _) => format!("on {} {d}", month(*m)),
                (None, Some(n), Some(w)) => {
                    format!("on the {} {} of {}", ordinal(*n), long_day(*w), month(*m))
                }
                _ => format!("in {}", month(*m)),
            };
            let span = match days {
                Some(n) if *n > 1 => format!(", for {n} days"),
                _ => String::new(),
            };
            format!("Every year {anchor}{span}")
        }
    };
    let times = match (&c.start_time, &c.end_time) {
        (Some(s), Some(e)) => format!(", {s}–{e}"),
        _ if matches!(&c.rule, ClosureRule::None { start, .. } if start.contains('T')) => {
            String::new()
        }
        _ => ", all day".to_owned(),
    };
    let bounds = match (&c.from, &c.until) {
        (Some(f), Some(u)) => format!(", from {f} until {u}"),
        (Some(f), None) => format!(", from {f}"),
        (None, Some(u)) => format!(", until {u}"),
        (None, None) => String::new(),
    };
    format!("{when}{times}{bounds}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closure_of(json: serde_json::Value) -> Closure {
        serde_json::from_value(json).expect("a closure")
    }

    #[test]
    fn days_read_as_runs() {
        use Weekday::*;
        assert_eq!(days(&[Mon, Tue, Wed, Thu, Fri]), "Mon–Fri");
        assert_eq!(days(&[Mon, Wed, Sat, Sun]), "Mon, Wed, Sat, Sun");
        assert_eq!(days(&[Mon, Tue, Wed, Fri]), "Mon–Wed, Fri");
        assert_eq!(days(&Weekday::ALL), "Every day");
    }

    #[test]
    fn closures_read_as_sentences() {
        let thanksgiving = closure_of(serde_json::json!(
            {"name": "Thanksgiving", "repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu"}
        ));
        assert_eq!(
            closure(&thanksgiving),
            "Every year on the 4th Thursday of November, all day"
        );
        let lunch = closure_of(serde_json::json!(
            {"name": "Staff lunch", "repeat": "monthly", "nth": -1, "weekday": "fri",
             "start_time": "12:00", "end_time": "13:00", "from": "2027-01-01"}
        ));
        assert_eq!(
            closure(&lunch),
            "Every month on the last Friday, 12:00–13:00, from 2027-01-01"
        );
        let holidays = closure_of(serde_json::json!(
            {"name": "Winter", "repeat": "yearly", "month": 12, "day": 24, "days": 3}
        ));
        assert_eq!(
            closure(&holidays),
            "Every year on December 24, for 3 days, all day"
        );
        let once = closure_of(serde_json::json!(
            {"name": "Move", "repeat": "none", "start": "2027-02-01T12:00", "end": "2027-02-01T18:00"}
        ));
        assert_eq!(closure(&once), "From 2027-02-01T12:00 to 2027-02-01T18:00");
    }
}

/// When an override ends, in the words of the number's wall clock
/// (`until` is RFC 3339 with the local offset): "8:00 tomorrow", "17:30
/// today", "9:00 Monday", "9:00 on Dec 24"; with `now` absent, the date is
/// always written.
pub fn until_words(until: &str, now: Option<DateTime<Utc>>) -> String {
    let Ok(until) = DateTime::parse_from_rfc3339(until) else {
        return until.to_owned();
    };
    let time = until.format("%-H:%M");
    let Some(now) = now else {
        return format!("{time} on {}", until.format("%a %b %-d"));
    };
    let today = now.with_timezone(until.offset()).date_naive();
    let day = until.date_naive();
    match (day - today).num_days() {
        0 => format!("{time} today"),
        1 => format!("{time} tomorrow"),
        2..=6 => format!("{time} {}", until.format("%A")),
        _ => format!("{time} on {}", until.format("%b %-d")),
    }
}

#[cfg(test)]
mod until_tests {
    use super::*;
    use chrono::Duration;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("valid")
            .with_timezone(&Utc)
    }

    #[test]
    fn an_override_ends_in_words_of_the_local_day() {
        let now = at("2026-12-02T22:00:00-05:00");
        assert_eq!(
            until_words("2026-12-02T23:30:00-05:00", Some(now)),
            "23:30 today"
        );
        assert_eq!(
            until_words("2026-12-03T08:00:00-05:00", Some(now)),
            "8:00 tomorrow"
        );
        assert_eq!(
            until_words("2026-12-07T09:00:00-05:00", Some(now)),
            "9:00 Monday"
        );
        assert_eq!(
            until_words("2026-12-24T09:00:00-05:00", Some(now)),
            "9:00 on Dec 24"
        );
        // Late at night in New York is already tomorrow in UTC: the local day counts.
        let late = now + Duration::hours(1);
        assert_eq!(
            until_words("2026-12-03T08:00:00-05:00", Some(late)),
            "8:00 tomorrow"
        );
    }
}
