//! Closures: one-off spans, weekly, monthly and yearly rules, nth weekdays,
//! 29 February, spans across New Year and `from`/`until` bounds.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};
use switchboard_core::model::Closure;
use switchboard_core::schedule::ClosureTest;

fn closure(value: Value) -> ClosureTest {
    let mut value = value;
    value["name"] = json!("Test");
    let closure: Closure = serde_json::from_value(value).expect("closure JSON");
    ClosureTest::compile(&closure).expect("valid closure")
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test time")
}

fn covered_days(test: &ClosureTest, from: &str, until: &str) -> Vec<String> {
    let mut day = NaiveDate::parse_from_str(from, "%Y-%m-%d").expect("date");
    let until = NaiveDate::parse_from_str(until, "%Y-%m-%d").expect("date");
    let mut days = Vec::new();
    while day <= until {
        if test.covers(day.and_hms_opt(12, 0, 0).expect("noon")) {
            days.push(day.to_string());
        }
        day = day.succ_opt().expect("next day");
    }
    days
}

#[test]
fn a_one_off_closure_with_dates_covers_from_the_start_of_the_first_day_through_the_end_of_the_last()
{
    let c = closure(json!({"repeat": "none", "start": "2026-12-24", "end": "2026-12-26"}));
    assert!(!c.covers(at("2026-12-23 23:59")));
    assert!(c.covers(at("2026-12-24 00:00")));
    assert!(c.covers(at("2026-12-26 23:59")));
    assert!(!c.covers(at("2026-12-27 00:00")));
}

#[test]
fn a_one_off_closure_with_date_times_ends_before_its_end() {
    let c =
        closure(json!({"repeat": "none", "start": "2026-12-24T12:00", "end": "2026-12-24T17:30"}));
    assert!(!c.covers(at("2026-12-24 11:59")));
    assert!(c.covers(at("2026-12-24 12:00")));
    assert!(c.covers(at("2026-12-24 17:29")));
    assert!(!c.covers(at("2026-12-24 17:30")));
}

#[test]
fn a_one_off_closure_may_run_across_new_year() {
    let c = closure(json!({"repeat": "none", "start": "2026-12-31T18:00", "end": "2027-01-02"}));
    assert!(c.covers(at("2026-12-31 23:59")));
    assert!(c.covers(at("2027-01-01 00:00")));
    assert!(c.covers(at("2027-01-02 23:59")));
    assert!(!c.covers(at("2027-01-03 00:00")));
}

#[test]
fn a_weekly_closure_covers_its_days_or_its_times_on_those_days() {
    let whole = closure(json!({"repeat": "weekly", "days": ["sat", "sun"]}));
    assert_eq!(
        covered_days(&whole, "2026-11-23", "2026-11-30"),
        ["2026-11-28", "2026-11-29"]
    );
    let lunch = closure(
        json!({"repeat": "weekly", "days": ["mon"], "start_time": "12:00", "end_time": "13:00"}),
    );
    assert!(lunch.covers(at("2026-11-23 12:00")));
    assert!(!lunch.covers(at("2026-11-23 13:00")));
    assert!(!lunch.covers(at("2026-11-24 12:30")));
}

#[test]
fn a_weekly_closure_with_an_overnight_time_range_covers_early_next_day() {
    let c = closure(
        json!({"repeat": "weekly", "days": ["fri"], "start_time": "22:00", "end_time": "06:00"}),
    );
    assert!(c.covers(at("2026-11-27 22:00")));
    assert!(c.covers(at("2026-11-28 05:59")));
    assert!(!c.covers(at("2026-11-28 06:00")));
    assert!(!c.covers(at("2026-11-27 05:00")));
}

#[test]
fn a_monthly_closure_on_day_31_skips_months_without_that_day() {
    let c = closure(json!({"repeat": "monthly", "day": 31}));
    assert_eq!(
        covered_days(&c, "2026-01-01", "2026-06-30"),
        ["2026-01-31", "2026-03-31", "2026-05-31"]
    );
}

#[test]
fn a_monthly_closure_on_the_first_monday_covers_the_first_monday_of_every_month() {
    let c = closure(json!({"repeat": "monthly", "nth": 1, "weekday": "mon"}));
    assert_eq!(
        covered_days(&c, "2026-01-01", "2026-04-30"),
        ["2026-01-05", "2026-02-02", "2026-03-02", "2026-04-06"]
    );
}

#[test]
fn a_monthly_closure_on_the_fifth_friday_skips_months_with_four() {
    let c = closure(json!({"repeat": "monthly", "nth": 5, "weekday": "fri"}));
    assert_eq!(
        covered_days(&c, "2026-01-01", "2026-06-30"),
        ["2026-01-30", "2026-05-29"]
    );
}

#[test]
fn a_yearly_closure_on_the_fourth_thursday_of_november_is_thanksgiving() {
    let c = closure(json!({"repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu"}));
    for (year, day) in [(2025, 27), (2026, 26), (2027, 25), (2028, 23)] {
        let days = covered_days(&c, &format!("{year}-11-01"), &format!("{year}-11-30"));
        assert_eq!(days, [format!("{year}-11-{day}")], "{year}");
    }
}

#[test]
fn a_yearly_closure_on_the_last_monday_of_may_is_memorial_day() {
    let c = closure(json!({"repeat": "yearly", "month": 5, "nth": -1, "weekday": "mon"}));
    for (year, day) in [(2026, 25), (2027, 31), (2028, 29)] {
        let days = covered_days(&c, &format!("{year}-05-01"), &format!("{year}-05-31"));
        assert_eq!(days, [format!("{year}-05-{day}")], "{year}");
    }
}

#[test]
fn a_yearly_closure_on_29_february_happens_only_in_leap_years() {
    let c = closure(json!({"repeat": "yearly", "month": 2, "day": 29}));
    assert_eq!(covered_days(&c, "2026-01-01", "2029-12-31"), ["2028-02-29"]);
}

#[test]
fn a_yearly_closure_with_days_extends_over_consecutive_days() {
    let c = closure(json!({"repeat": "yearly", "month": 12, "day": 24, "days": 3}));
    assert_eq!(
        covered_days(&c, "2026-12-01", "2026-12-31"),
        ["2026-12-24", "2026-12-25", "2026-12-26"]
    );
}

#[test]
fn a_yearly_closure_with_days_runs_across_new_year() {
    let c = closure(json!({"repeat": "yearly", "month": 12, "day": 31, "days": 3}));
    assert_eq!(
        covered_days(&c, "2026-12-01", "2027-01-31"),
        ["2026-12-31", "2027-01-01", "2027-01-02"]
    );
    // Also the span that began the year before the range.
    assert_eq!(
        covered_days(&c, "2027-01-01", "2027-01-05"),
        ["2027-01-01", "2027-01-02"]
    );
}

#[test]
fn a_yearly_nth_weekday_closure_with_days_covers_the_long_weekend() {
    // Thanksgiving and the Friday after.
    let c =
        closure(json!({"repeat": "yearly", "month": 11, "nth": 4, "weekday": "thu", "days": 2}));
    assert_eq!(
        covered_days(&c, "2026-11-01", "2026-11-30"),
        ["2026-11-26", "2026-11-27"]
    );
}

#[test]
fn from_and_until_bound_a_recurring_closure_inclusively() {
    let c = closure(
        json!({"repeat": "weekly", "days": ["mon"], "from": "2026-11-09", "until": "2026-11-23"}),
    );
    assert_eq!(
        covered_days(&c, "2026-11-01", "2026-12-31"),
        ["2026-11-09", "2026-11-16", "2026-11-23"]
    );
}

#[test]
fn from_alone_starts_a_recurring_closure_and_until_alone_ends_it() {
    let from = closure(json!({"repeat": "monthly", "day": 1, "from": "2026-03-01"}));
    assert_eq!(
        covered_days(&from, "2026-01-01", "2026-04-30"),
        ["2026-03-01", "2026-04-01"]
    );
    let until = closure(json!({"repeat": "monthly", "day": 1, "until": "2026-02-01"}));
    assert_eq!(
        covered_days(&until, "2026-01-01", "2026-04-30"),
        ["2026-01-01", "2026-02-01"]
    );
}

#[test]
fn an_overnight_closure_on_the_until_day_still_covers_the_following_early_morning() {
    let c = closure(
        json!({"repeat": "weekly", "days": ["fri"], "start_time": "22:00", "end_time": "06:00",
                           "until": "2026-11-27"}),
    );
    assert!(c.covers(at("2026-11-28 05:00")));
    assert!(!c.covers(at("2026-12-05 05:00")));
}

#[test]
fn a_yearly_closure_spanning_new_year_honours_until_on_each_covered_day() {
    let c = closure(
        json!({"repeat": "yearly", "month": 12, "day": 31, "days": 3, "until": "2027-01-01"}),
    );
    assert_eq!(
        covered_days(&c, "2026-12-01", "2027-01-31"),
        ["2026-12-31", "2027-01-01"]
    );
}
