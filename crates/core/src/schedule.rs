//! Weekly schedules and closures, parsed and compiled for fast tests.
//!
//! Everything here works on the local wall clock (`NaiveDateTime`):
//! membership depends on the wall time alone (`docs/routing.md`, "Daylight
//! saving time"), so a DST gap simply never produces the skipped wall times
//! and both occurrences of a repeated hour are covered alike. Converting an
//! instant to the wall clock is the caller's job (see [`local_wall_time`]).
//!
//! A schedule becomes a sorted list of merged minute-of-week ranges
//! (Monday 00:00 = 0, one week = 10 080 minutes); a closure becomes a date test
//! plus an optional time range.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::error::FieldError;
use crate::model::{Closure, ClosureRule, LocalTime, Weekday, Window};

/// Minutes in a week.
pub const MINUTES_PER_WEEK: u16 = 7 * 1440;

/// The longest one-off closure, in days.
pub const MAX_CLOSURE_SPAN_DAYS: i64 = 366;

/// The wall-clock time of an instant in a timezone.
pub fn local_wall_time(tz: Tz, at: DateTime<Utc>) -> NaiveDateTime {
    tz.from_utc_datetime(&at.naive_utc()).naive_local()
}

/// Minutes since Monday 00:00 of a wall-clock time, `0..10080`.
pub fn minute_of_week(local: NaiveDateTime) -> u16 {
    let day = local.weekday().num_days_from_monday() as u16;
    let minute = (local.hour() * 60 + local.minute()) as u16;
    day * 1440 + minute
}

/// Minutes since midnight of a wall-clock time.
pub fn minute_of_day(local: NaiveDateTime) -> u16 {
    (local.hour() * 60 + local.minute()) as u16
}

/// A weekly window with parsed times: valid by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalWindow {
    days: u8,
    start: LocalTime,
    end: LocalTime,
}

impl LocalWindow {
    /// Parses a wire window. Problems carry paths relative to the window
    /// (`days`, `start`, `end`).
    pub fn parse(window: &Window) -> Result<LocalWindow, Vec<FieldError>> {
        let mut problems = Vec::new();
        if window.days.is_empty() {
            problems.push(FieldError::new("days", "list at least one day"));
        }
        let start = parse_time(&window.start, "start", &mut problems);
        let end = parse_time(&window.end, "end", &mut problems);
        if let Some(start) = start
            && start.is_end_of_day()
        {
            problems.push(FieldError::new("start", "a window cannot start at 24:00"));
        }
        if let (Some(start), Some(end)) = (start, end)
            && start == end
        {
            problems.push(FieldError::new(
                "end",
                "start and end are equal; a window must cover some time",
            ));
        }
        match (start, end) {
            (Some(start), Some(end)) if problems.is_empty() => Ok(LocalWindow {
                days: day_mask(&window.days),
                start,
                end,
            }),
            _ => Err(problems),
        }
    }

    /// True when the window runs past midnight into the next day.
    pub fn is_overnight(&self) -> bool {
        !self.end.is_end_of_day() && self.end <= self.start
    }

    /// The minute-of-week ranges `[start, end)` the window covers, wrapping
    /// Sunday night into Monday morning.
    fn push_ranges(&self, ranges: &mut Vec<(u16, u16)>) {
        for day in 0..7u16 {
            if self.days & (1 << day) == 0 {
                continue;
            }
            let start = day * 1440 + self.start.minutes();
            let end = if self.is_overnight() {
                (day + 1) * 1440 + self.end.minutes()
            } else {
                day * 1440 + self.end.minutes()
            };
            if end > MINUTES_PER_WEEK {
                ranges.push((start, MINUTES_PER_WEEK));
                ranges.push((0, end - MINUTES_PER_WEEK));
            } else {
                ranges.push((start, end));
            }
        }
    }
}

fn day_mask(days: &[Weekday]) -> u8 {
    days.iter().fold(0u8, |mask, day| mask | (1 << day.index()))
}

fn parse_time(s: &str, field: &str, problems: &mut Vec<FieldError>) -> Option<LocalTime> {
    match s.parse::<LocalTime>() {
        Ok(time) => Some(time),
        Err(err) => {
            problems.push(FieldError::new(field, err.to_string()));
            None
        }
    }
}

/// A weekly schedule: sorted, merged, non-empty minute-of-week ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeeklySchedule {
    ranges: Box<[(u16, u16)]>,
}

impl WeeklySchedule {
    /// The union of the windows.
    pub fn from_windows(windows: &[LocalWindow]) -> WeeklySchedule {
        let mut ranges = Vec::with_capacity(windows.len() * 2);
        for window in windows {
            window.push_ranges(&mut ranges);
        }
        ranges.sort_unstable();
        let mut merged: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        WeeklySchedule {
            ranges: merged.into_boxed_slice(),
        }
    }

    /// True when the minute of week is inside one of the ranges.
    pub fn covers_minute(&self, minute_of_week: u16) -> bool {
        let index = self
            .ranges
            .partition_point(|&(_, end)| end <= minute_of_week);
        self.ranges
            .get(index)
            .is_some_and(|&(start, _)| start <= minute_of_week)
    }

    /// True when the schedule covers the wall-clock time.
    pub fn covers(&self, local: NaiveDateTime) -> bool {
        self.covers_minute(minute_of_week(local))
    }

    /// The first minute both schedules cover, if any.
    pub fn first_overlap(&self, other: &WeeklySchedule) -> Option<u16> {
        let (mut i, mut j) = (0, 0);
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a_start, a_end) = self.ranges[i];
            let (b_start, b_end) = other.ranges[j];
            let start = a_start.max(b_start);
            if start < a_end.min(b_end) {
                return Some(start);
            }
            if a_end <= b_end {
                i += 1;
            } else {
                j += 1;
            }
        }
        None
    }

    /// The merged ranges, `[start, end)` in minutes of week.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.ranges
    }
}

/// Describes a minute of the week for people: `mon 12:00`.
pub fn describe_minute_of_week(minute: u16) -> String {
    let day = Weekday::ALL[usize::from(minute / 1440 % 7)];
    let time = LocalTime::from_minutes(minute % 1440).unwrap_or(LocalTime::END_OF_DAY);
    format!("{} {time}", day.as_str())
}

/// Which days a recurring closure falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayRule {
    Weekly {
        days: u8,
    },
    MonthlyDay {
        day: u32,
    },
    MonthlyNth {
        nth: i8,
        weekday: chrono::Weekday,
    },
    YearlyDay {
        month: u32,
        day: u32,
        days: u16,
    },
    YearlyNth {
        month: u32,
        nth: i8,
        weekday: chrono::Weekday,
        days: u16,
    },
}

/// A closure compiled into a fast test on the local wall clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureTest(ClosureInner);

#[derive(Debug, Clone, PartialEq, Eq)]
enum ClosureInner {
    /// A one-off span `[start, end)` of wall time.
    Span {
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
    /// Matching days, optionally only between two times of day, bounded by
    /// inclusive `from`/`until` dates.
    Recurring {
        rule: DayRule,
        times: Option<(LocalTime, LocalTime)>,
        from: Option<NaiveDate>,
        until: Option<NaiveDate>,
    },
}

impl ClosureTest {
    /// Parses and compiles a closure. Problems carry paths relative to the
    /// closure (`start`, `month`, `end_time`, …).
    pub fn compile(closure: &Closure) -> Result<ClosureTest, Vec<FieldError>> {
        let mut problems = Vec::new();
        let times = match (&closure.start_time, &closure.end_time) {
            (None, None) => None,
            (Some(start), Some(end)) => {
                let start = parse_time(start, "start_time", &mut problems);
                let end = parse_time(end, "end_time", &mut problems);
                match (start, end) {
                    (Some(start), Some(end)) => {
                        if start.is_end_of_day() {
                            problems.push(FieldError::new("start_time", "cannot start at 24:00"));
                        }
                        if start == end {
                            problems.push(FieldError::new(
                                "end_time",
                                "start_time and end_time are equal; leave both out for whole days",
                            ));
                        }
                        Some((start, end))
                    }
                    _ => None,
                }
            }
            (Some(_), None) => {
                problems.push(FieldError::new("end_time", "give end_time with start_time"));
                None
            }
            (None, Some(_)) => {
                problems.push(FieldError::new(
                    "start_time",
                    "give start_time with end_time",
                ));
                None
            }
        };
        let from = closure
            .from
            .as_deref()
            .and_then(|s| parse_date_field(s, "from", &mut problems));
        let until = closure
            .until
            .as_deref()
            .and_then(|s| parse_date_field(s, "until", &mut problems));
        if let (Some(from), Some(until)) = (from, until)
            && until < from
        {
            problems.push(FieldError::new("until", "until is before from"));
        }

        let rule = match &closure.rule {
            ClosureRule::None { start, end } => {
                if closure.start_time.is_some() || closure.end_time.is_some() {
                    problems.push(FieldError::new(
                        "start_time",
                        "a one-off closure takes its times in start and end (2026-12-24T12:00)",
                    ));
                }
                if closure.from.is_some() {
                    problems.push(FieldError::new("from", "only recurring closures take from"));
                }
                if closure.until.is_some() {
                    problems.push(FieldError::new(
                        "until",
                        "only recurring closures take until",
                    ));
                }
                let span = compile_span(start, end, &mut problems);
                return match span {
                    Some((start, end)) if problems.is_empty() => {
                        Ok(ClosureTest(ClosureInner::Span { start, end }))
                    }
                    _ => Err(problems),
                };
            }
            ClosureRule::Weekly { days } => {
                if days.is_empty() {
                    problems.push(FieldError::new("days", "list at least one day"));
                }
                Some(DayRule::Weekly {
                    days: day_mask(days),
                })
            }
            ClosureRule::Monthly { day, nth, weekday } => match (day, nth, weekday) {
                (Some(day), None, None) => {
                    if (1..=31).contains(day) {
                        Some(DayRule::MonthlyDay { day: *day as u32 })
                    } else {
                        problems.push(FieldError::new("day", "day must be 1 to 31"));
                        None
                    }
                }
                (None, Some(nth), Some(weekday)) => {
                    compile_nth(*nth, &mut problems).map(|nth| DayRule::MonthlyNth {
                        nth,
                        weekday: weekday.to_chrono(),
                    })
                }
                _ => {
                    problems.push(FieldError::new(
                        "day",
                        "give either day, or nth with weekday",
                    ));
                    None
                }
            },
            ClosureRule::Yearly {
                month,
                day,
                nth,
                weekday,
                days,
            } => {
                let month_ok = (1..=12).contains(month);
                if !month_ok {
                    problems.push(FieldError::new("month", "month must be 1 to 12"));
                }
                let span_days = match days {
                    None => Some(1u16),
                    Some(days) if (1..=MAX_CLOSURE_SPAN_DAYS).contains(days) => Some(*days as u16),
                    Some(_) => {
                        problems.push(FieldError::new(
                            "days",
                            format!("days must be 1 to {MAX_CLOSURE_SPAN_DAYS}"),
                        ));
                        None
                    }
                };
                let month = *month as u32;
                match (day, nth, weekday) {
                    (Some(day), None, None) => {
                        let max_day = if month_ok {
                            max_days_in_month(month)
                        } else {
                            31
                        };
                        if !(1..=i64::from(max_day)).contains(day) {
                            problems.push(FieldError::new(
                                "day",
                                format!("day must be 1 to {max_day} in that month"),
                            ));
                            None
                        } else {
                            span_days
                                .filter(|_| month_ok)
                                .map(|days| DayRule::YearlyDay {
                                    month,
                                    day: *day as u32,
                                    days,
                                })
                        }
                    }
                    (None, Some(nth), Some(weekday)) => compile_nth(*nth, &mut problems)
                        .zip(span_days)
                        .filter(|_| month_ok)
                        .map(|(nth, days)| DayRule::YearlyNth {
                            month,
                            nth,
                            weekday: weekday.to_chrono(),
                            days,
                        }),
                    _ => {
                        problems.push(FieldError::new(
                            "day",
                            "give either day, or nth with weekday",
                        ));
                        None
                    }
                }
            }
        };
        match rule {
            Some(rule) if problems.is_empty() => Ok(ClosureTest(ClosureInner::Recurring {
                rule,
                times,
                from,
                until,
            })),
            _ => Err(problems),
        }
    }

    /// True when the closure covers the wall-clock time.
    pub fn covers(&self, local: NaiveDateTime) -> bool {
        match &self.0 {
            ClosureInner::Span { start, end } => *start <= local && local < *end,
            ClosureInner::Recurring {
                rule,
                times,
                from,
                until,
            } => {
                let date = local.date();
                let on = |date: NaiveDate| {
                    from.is_none_or(|from| from <= date)
                        && until.is_none_or(|until| date <= until)
                        && rule.matches(date)
                };
                match times {
                    None => on(date),
                    Some((start, end)) => {
                        let minute = minute_of_day(local);
                        let overnight = !end.is_end_of_day() && end <= start;
                        if overnight {
                            (minute >= start.minutes() && on(date))
                                || (minute < end.minutes() && date.pred_opt().is_some_and(on))
                        } else {
                            start.minutes() <= minute && minute < end.minutes() && on(date)
                        }
                    }
                }
            }
        }
    }
}

impl DayRule {
    fn matches(&self, date: NaiveDate) -> bool {
        match *self {
            DayRule::Weekly { days } => days & (1 << date.weekday().num_days_from_monday()) != 0,
            DayRule::MonthlyDay { day } => date.day() == day,
            DayRule::MonthlyNth { nth, weekday } => {
                date.weekday() == weekday && is_nth_in_month(date, nth)
            }
            DayRule::YearlyDay { month, day, days } => {
                within_months_after(date, month, days)
                    && anchored_within(date, days, |year| NaiveDate::from_ymd_opt(year, month, day))
            }
            DayRule::YearlyNth {
                month,
                nth,
                weekday,
                days,
            } => {
                within_months_after(date, month, days)
                    && anchored_within(date, days, |year| nth_weekday(year, month, nth, weekday))
            }
        }
    }
}

/// A cheap first test for yearly rules: a span of `days` days anchored in
/// `month` can only reach dates in that month or the next few ones.
fn within_months_after(date: NaiveDate, month: u32, days: u16) -> bool {
    // Anchors are at most the 31st; 31 days reach at most into the next month.
    let months_reached = (u32::from(days) + 30) / 28 + 1;
    if months_reached >= 12 {
        return true;
    }
    let months_since = (date.month() + 12 - month) % 12;
    months_since < months_reached
}

/// True when `date` lies in `[anchor, anchor + days)` for the anchor of its
/// own year or of the year before (a span may cross New Year).
fn anchored_within(date: NaiveDate, days: u16, anchor: impl Fn(i32) -> Option<NaiveDate>) -> bool {
    [date.year(), date.year() - 1].into_iter().any(|year| {
        anchor(year).is_some_and(|anchor| {
            let offset = (date - anchor).num_days();
            (0..i64::from(days)).contains(&offset)
        })
    })
}

fn is_nth_in_month(date: NaiveDate, nth: i8) -> bool {
    if nth > 0 {
        (date.day() - 1) / 7 + 1 == nth as u32
    } else {
        date.day() + 7 > days_in_month(date.year(), date.month())
    }
}

/// The nth (1–5, or -1 for last) weekday of a month, if that month has one.
pub fn nth_weekday(year: i32, month: u32, nth: i8, weekday: chrono::Weekday) -> Option<NaiveDate> {
    if nth > 0 {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let offset =
            (7 + weekday.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
        let day = 1 + offset + 7 * (nth as u32 - 1);
        NaiveDate::from_ymd_opt(year, month, day)
    } else {
        let last = NaiveDate::from_ymd_opt(year, month, days_in_month(year, month))?;
        let back = (7 + last.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
        last.checked_sub_signed(Duration::days(i64::from(back)))
    }
}

/// Days in a month of a year (28–31).
pub fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|next| next.pred_opt())
        .map_or(31, |last| last.day())
}

fn max_days_in_month(month: u32) -> u32 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn compile_nth(nth: i64, problems: &mut Vec<FieldError>) -> Option<i8> {
    if (1..=5).contains(&nth) || nth == -1 {
        Some(nth as i8)
    } else {
        problems.push(FieldError::new(
            "nth",
            "nth must be 1 to 5, or -1 for the last",
        ));
        None
    }
}

/// Parses a strict `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A one-off closure bound: a date (`2026-12-24`) or a date-time (`2026-12-24T12:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Date(NaiveDate),
    DateTime(NaiveDateTime),
}

fn parse_bound(s: &str) -> Option<Bound> {
    if let Some(date) = parse_date(s) {
        return Some(Bound::Date(date));
    }
    let (date, time) = s.split_once('T')?;
    let date = parse_date(date)?;
    let time: LocalTime = time.parse().ok()?;
    if time.is_end_of_day() {
        return None;
    }
    Some(Bound::DateTime(date.and_hms_opt(
        u32::from(time.minutes() / 60),
        u32::from(time.minutes() % 60),
        0,
    )?))
}

fn parse_date_field(s: &str, field: &str, problems: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let date = parse_date(s);
    if date.is_none() {
        problems.push(FieldError::new(
            field,
            format!("expected a date YYYY-MM-DD, got {s:?}"),
        ));
    }
    date
}

fn compile_span(
    start: &str,
    end: &str,
    problems: &mut Vec<FieldError>,
) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let bad = |field: &str, s: &str| {
        FieldError::new(
            field,
            format!("expected a date YYYY-MM-DD or a date-time YYYY-MM-DDTHH:MM, got {s:?}"),
        )
    };
    let start_bound = parse_bound(start);
    let end_bound = parse_bound(end);
    if start_bound.is_none() {
        problems.push(bad("start", start));
    }
    if end_bound.is_none() {
        problems.push(bad("end", end));
    }
    let start = match start_bound? {
        Bound::Date(date) => date.and_time(chrono::NaiveTime::MIN),
        Bound::DateTime(at) => at,
    };
    let end = match end_bound? {
        // A date end is inclusive: through the end of that day.
        Bound::Date(date) => date.succ_opt()?.and_time(chrono::NaiveTime::MIN),
        Bound::DateTime(at) => at,
    };
    if end <= start {
        problems.push(FieldError::new("end", "end is not after start"));
        return None;
    }
    if end - start > Duration::days(MAX_CLOSURE_SPAN_DAYS) {
        problems.push(FieldError::new(
            "end",
            format!("a closure spans at most {MAX_CLOSURE_SPAN_DAYS} days"),
        ));
        return None;
    }
    Some((start, end))
}
