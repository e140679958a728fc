//! The deadline engine against the shipped calendars (config/calendar/2025–2027.toml):
//! a table of exact due moments, pauses, outcomes, and properties.

use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, FixedOffset, NaiveTime, Timelike};
use motcua::config::load_calendar;
use motcua::core::calendar::{WorkingCalendar, WorkingHours};
use motcua::core::deadline::{Deadlines, Outcome, PeriodUnit, StatutoryTime};
use proptest::prelude::*;

fn calendar() -> &'static WorkingCalendar {
    static CAL: OnceLock<WorkingCalendar> = OnceLock::new();
    CAL.get_or_init(|| {
        load_calendar(Path::new("config"), WorkingHours::standard())
            .expect("shipped calendar loads")
    })
}

fn vn() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).unwrap()
}

fn engine() -> Deadlines<'static> {
    Deadlines::new(calendar(), vn())
}

/// `2026-03-02T09:30` in +07:00.
fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(&format!("{s}:00+07:00"))
        .unwrap_or_else(|_| panic!("bad moment {s}"))
}

fn time(amount: u32, unit: &str, cutoff: Option<&str>) -> StatutoryTime {
    StatutoryTime::new(
        amount,
        unit.parse::<PeriodUnit>().unwrap(),
        cutoff.map(|c| NaiveTime::parse_from_str(c, "%H:%M").unwrap()),
    )
    .unwrap()
}

/// What the case shows, received at, amount, unit, cutoff, expected due.
type Case = (
    &'static str,
    &'static str,
    u32,
    &'static str,
    Option<&'static str>,
    &'static str,
);

const CASES: &[Case] = &[
    // working_days: day 1 is the first working day after the calendar day of receipt.
    (
        "ordinary week",
        "2026-03-02T09:30",
        3,
        "working_days",
        None,
        "2026-03-05T17:00",
    ),
    (
        "Friday to Monday",
        "2026-03-06T10:00",
        1,
        "working_days",
        None,
        "2026-03-09T17:00",
    ),
    (
        "after hours counts from the next day as usual",
        "2026-03-02T18:30",
        1,
        "working_days",
        None,
        "2026-03-03T17:00",
    ),
    (
        "before opening",
        "2026-03-02T07:00",
        1,
        "working_days",
        None,
        "2026-03-03T17:00",
    ),
    (
        "in the lunch break",
        "2026-03-02T12:30",
        2,
        "working_days",
        None,
        "2026-03-04T17:00",
    ),
    (
        "received on a Saturday",
        "2026-03-07T10:00",
        1,
        "working_days",
        None,
        "2026-03-09T17:00",
    ),
    (
        "received on a Sunday",
        "2026-03-08T10:00",
        1,
        "working_days",
        None,
        "2026-03-09T17:00",
    ),
    (
        "four weeks",
        "2026-03-02T09:00",
        20,
        "working_days",
        None,
        "2026-03-30T17:00",
    ),
    (
        "Tết 2026: Friday before the break",
        "2026-02-13T16:00",
        3,
        "working_days",
        None,
        "2026-02-25T17:00",
    ),
    (
        "Tết 2026: received during the break",
        "2026-02-17T10:00",
        1,
        "working_days",
        None,
        "2026-02-23T17:00",
    ),
    (
        "Tết 2026: spanning the break",
        "2026-02-12T09:00",
        5,
        "working_days",
        None,
        "2026-02-26T17:00",
    ),
    (
        "Hùng Kings 2026 on Sunday, compensated Monday",
        "2026-04-24T09:00",
        1,
        "working_days",
        None,
        "2026-04-28T17:00",
    ),
    (
        "30/4–1/5 2026",
        "2026-04-29T15:00",
        1,
        "working_days",
        None,
        "2026-05-04T17:00",
    ),
    (
        "30/4–1/5 2026, two days",
        "2026-04-28T10:00",
        2,
        "working_days",
        None,
        "2026-05-04T17:00",
    ),
    (
        "2/9 2026 with its adjacent day 1/9 (received on the swapped Monday 31/8)",
        "2026-08-31T10:00",
        1,
        "working_days",
        None,
        "2026-09-03T17:00",
    ),
    (
        "2/9 2026, two days: Sat 29/8 to Wed 2/9 off",
        "2026-08-28T10:00",
        2,
        "working_days",
        None,
        "2026-09-04T17:00",
    ),
    (
        "make-up Saturday 22/8/2026 is a working day",
        "2026-08-21T10:00",
        1,
        "working_days",
        None,
        "2026-08-22T17:00",
    ),
    (
        "swapped Monday 31/8/2026 is a rest day",
        "2026-08-27T10:00",
        2,
        "working_days",
        None,
        "2026-09-03T17:00",
    ),
    (
        "make-up Saturday 10/01/2026 is a working day",
        "2026-01-09T10:00",
        1,
        "working_days",
        None,
        "2026-01-10T17:00",
    ),
    (
        "received on the make-up Saturday",
        "2026-01-10T09:00",
        1,
        "working_days",
        None,
        "2026-01-12T17:00",
    ),
    (
        "year boundary 2025→2026",
        "2025-12-31T10:00",
        1,
        "working_days",
        None,
        "2026-01-05T17:00",
    ),
    (
        "year boundary, three days",
        "2025-12-30T10:00",
        3,
        "working_days",
        None,
        "2026-01-06T17:00",
    ),
    (
        "make-up Saturday 26/04/2025",
        "2025-04-25T10:00",
        1,
        "working_days",
        None,
        "2025-04-26T17:00",
    ),
    (
        "30/4–2/5 2025 with the swapped Friday",
        "2025-04-29T10:00",
        1,
        "working_days",
        None,
        "2025-05-05T17:00",
    ),
    (
        "Tết 2027",
        "2027-02-04T10:00",
        1,
        "working_days",
        None,
        "2027-02-12T17:00",
    ),
    (
        "1/5 2027 on Saturday, compensated Monday 3/5",
        "2027-04-29T10:00",
        2,
        "working_days",
        None,
        "2027-05-05T17:00",
    ),
    (
        "year boundary 2026→2027",
        "2026-12-31T10:00",
        1,
        "working_days",
        None,
        "2027-01-04T17:00",
    ),
    (
        "long: 200 working days",
        "2025-01-02T09:00",
        200,
        "working_days",
        None,
        "2025-10-23T17:00",
    ),
    (
        "very long: 400 working days over two year boundaries",
        "2025-06-16T10:00",
        400,
        "working_days",
        None,
        "2027-01-15T17:00",
    ),
    // working_hours: N×60 working minutes, non-working time skipped.
    (
        "across lunch",
        "2026-03-02T09:30",
        4,
        "working_hours",
        None,
        "2026-03-02T14:30",
    ),
    (
        "into the next day",
        "2026-03-02T15:00",
        8,
        "working_hours",
        None,
        "2026-03-03T15:00",
    ),
    (
        "received in the lunch break",
        "2026-03-02T12:15",
        2,
        "working_hours",
        None,
        "2026-03-02T15:00",
    ),
    (
        "received after hours",
        "2026-03-02T17:30",
        1,
        "working_hours",
        None,
        "2026-03-03T09:00",
    ),
    (
        "ends exactly at noon",
        "2026-03-02T08:00",
        4,
        "working_hours",
        None,
        "2026-03-02T12:00",
    ),
    (
        "ends exactly at close",
        "2026-03-02T13:00",
        4,
        "working_hours",
        None,
        "2026-03-02T17:00",
    ),
    (
        "received on a Saturday",
        "2026-03-07T10:00",
        2,
        "working_hours",
        None,
        "2026-03-09T10:00",
    ),
    (
        "over Tết 2026",
        "2026-02-13T16:00",
        8,
        "working_hours",
        None,
        "2026-02-23T16:00",
    ),
    (
        "onto the make-up Saturday",
        "2026-01-09T16:00",
        2,
        "working_hours",
        None,
        "2026-01-10T09:00",
    ),
    (
        "year boundary 2026→2027",
        "2026-12-31T16:30",
        1,
        "working_hours",
        None,
        "2027-01-04T08:30",
    ),
    (
        "very long: 1000 working hours",
        "2025-03-03T08:00",
        1000,
        "working_hours",
        None,
        "2025-08-27T17:00",
    ),
    // same_day with a cut-off.
    (
        "before the cut-off",
        "2026-03-02T14:59",
        0,
        "same_day",
        Some("15:00"),
        "2026-03-02T17:00",
    ),
    (
        "exactly at the cut-off",
        "2026-03-02T15:00",
        0,
        "same_day",
        Some("15:00"),
        "2026-03-03T17:00",
    ),
    (
        "after the cut-off on a Friday",
        "2026-03-06T15:30",
        0,
        "same_day",
        Some("15:00"),
        "2026-03-09T17:00",
    ),
    (
        "on a Saturday",
        "2026-03-07T09:00",
        0,
        "same_day",
        Some("15:00"),
        "2026-03-09T17:00",
    ),
    (
        "on the make-up Saturday",
        "2026-01-10T09:00",
        0,
        "same_day",
        Some("15:00"),
        "2026-01-10T17:00",
    ),
    (
        "before opening",
        "2026-03-02T07:00",
        0,
        "same_day",
        Some("15:00"),
        "2026-03-02T17:00",
    ),
    (
        "after the cut-off before 30/4",
        "2026-04-29T16:00",
        0,
        "same_day",
        Some("15:00"),
        "2026-05-04T17:00",
    ),
    (
        "after the cut-off on New Year's Eve",
        "2025-12-31T15:10",
        0,
        "same_day",
        Some("15:00"),
        "2026-01-05T17:00",
    ),
    (
        "during Tết",
        "2026-02-18T09:00",
        0,
        "same_day",
        Some("15:00"),
        "2026-02-23T17:00",
    ),
    // calendar_days: Nth calendar day, rolled to the next working day (Civil Code Art. 148).
    (
        "ends on a working day",
        "2026-03-02T10:00",
        10,
        "calendar_days",
        None,
        "2026-03-12T17:00",
    ),
    (
        "ends on a Saturday",
        "2026-03-02T10:00",
        5,
        "calendar_days",
        None,
        "2026-03-09T17:00",
    ),
    (
        "ends in Tết",
        "2026-02-10T10:00",
        7,
        "calendar_days",
        None,
        "2026-02-23T17:00",
    ),
    (
        "ends on 1/1/2027",
        "2026-12-25T10:00",
        7,
        "calendar_days",
        None,
        "2027-01-04T17:00",
    ),
    (
        "ends on 30/4",
        "2026-03-31T10:00",
        30,
        "calendar_days",
        None,
        "2026-05-04T17:00",
    ),
    (
        "received on a Saturday",
        "2026-03-07T10:00",
        2,
        "calendar_days",
        None,
        "2026-03-09T17:00",
    ),
    (
        "a year",
        "2026-01-05T10:00",
        365,
        "calendar_days",
        None,
        "2027-01-05T17:00",
    ),
];

#[test]
fn due_moments_table() {
    assert!(CASES.len() >= 40);
    let mut failures = Vec::new();
    for (what, received, amount, unit, cutoff, expected) in CASES {
        let due = engine()
            .due_at(at(received), &time(*amount, unit, *cutoff))
            .unwrap();
        if due != at(expected) {
            failures.push(format!(
                "{what}: {received} + {amount} {unit} → {due}, expected {expected}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn due_moments_are_printed_in_plus_seven() {
    let due = engine()
        .due_at(at("2026-03-02T09:30"), &time(3, "working_days", None))
        .unwrap();
    assert_eq!(due.to_rfc3339(), "2026-03-05T17:00:00+07:00");
    // A receipt given in UTC is counted in Vietnamese time: 2026-03-02T02:30Z = 09:30+07.
    let utc = DateTime::parse_from_rfc3339("2026-03-02T02:30:00Z").unwrap();
    assert_eq!(
        engine()
            .due_at(utc, &time(3, "working_days", None))
            .unwrap(),
        due
    );
    // 2026-03-01T18:00Z is already Monday 01:00 in Hà Nội.
    let late_utc = DateTime::parse_from_rfc3339("2026-03-01T18:00:00Z").unwrap();
    assert_eq!(
        engine()
            .due_at(late_utc, &time(0, "same_day", Some("15:00")))
            .unwrap(),
        at("2026-03-02T17:00")
    );
}

#[test]
fn pause_moves_the_due_moment_by_the_working_minutes_paused() {
    let e = engine();
    let due = at("2026-03-05T17:00");
    // Paused Tuesday 10:00 → Wednesday 10:00: 480 working minutes → one working day later.
    assert_eq!(
        e.resume(due, at("2026-03-03T10:00"), at("2026-03-04T10:00"))
            .unwrap(),
        at("2026-03-06T17:00")
    );
    // Paused 2 working hours → 10:00 of the next working day (Friday).
    assert_eq!(
        e.resume(due, at("2026-03-03T14:00"), at("2026-03-03T16:00"))
            .unwrap(),
        at("2026-03-06T10:00")
    );
    // Paused over a weekend only: no working time elapsed, no move.
    assert_eq!(
        e.resume(due, at("2026-03-07T09:00"), at("2026-03-08T16:00"))
            .unwrap(),
        due
    );
    // Paused across Tết 2026 (Fri 13/02 16:00 → Mon 23/02 09:00): 60 + 60 minutes.
    assert_eq!(
        e.working_minutes_between(at("2026-02-13T16:00"), at("2026-02-23T09:00")),
        120
    );
    // A lunch break does not count.
    assert_eq!(
        e.working_minutes_between(at("2026-03-02T11:30"), at("2026-03-02T13:30")),
        60
    );
    assert_eq!(
        e.working_minutes_between(at("2026-03-02T13:30"), at("2026-03-02T11:30")),
        0
    );
}

#[test]
fn outcomes_against_the_due_moment() {
    let e = engine();
    let due = at("2026-03-05T17:00");
    assert_eq!(e.outcome(at("2026-03-04T16:59"), due), Outcome::Early);
    assert_eq!(e.outcome(at("2026-03-05T08:00"), due), Outcome::OnTime);
    assert_eq!(e.outcome(at("2026-03-05T17:00"), due), Outcome::OnTime);
    assert_eq!(e.outcome(at("2026-03-05T17:01"), due), Outcome::Late);
    assert_eq!(e.outcome(at("2026-03-06T08:00"), due), Outcome::Late);
    // Dates are taken in Vietnamese time: 2026-03-04T20:00Z is 03:00 on the 5th.
    let utc = DateTime::parse_from_rfc3339("2026-03-04T20:00:00Z").unwrap();
    assert_eq!(e.outcome(utc, due), Outcome::OnTime);
}

#[test]
fn unconfigured_year_falls_back_to_the_lunar_calendar() {
    let cal = calendar();
    assert_eq!(cal.unconfigured_years(2026, 2029), vec![2028, 2029]);
    let y = cal.year(2028).unwrap();
    assert!(!y.configured);
    // Tết Mậu Thân: mùng 1 is Wednesday 26/01/2028; the eve 25/01 and mùng 1–4 are off.
    for d in 25..=29 {
        let date = chrono::NaiveDate::from_ymd_opt(2028, 1, d).unwrap();
        assert!(!cal.is_working_day(date), "{date} should be a rest day");
    }
    // 2/9/2028 is a Saturday: 1/9 (Friday) is the adjacent day, and the Saturday is
    // compensated on Monday 4/9.
    let d = |m, day| chrono::NaiveDate::from_ymd_opt(2028, m, day).unwrap();
    assert!(!cal.is_working_day(d(9, 1)));
    assert!(!cal.is_working_day(d(9, 4)));
    assert!(cal.is_working_day(d(9, 5)));
    // Deadlines run into the derived year without failing.
    let due = engine()
        .due_at(at("2027-12-31T10:00"), &time(1, "working_days", None))
        .unwrap();
    // 1/1/2028 is a Saturday, compensated Monday 3/1.
    assert_eq!(due, at("2028-01-04T17:00"));
}

#[test]
fn shipped_calendars_agree_with_the_lunar_calendar() {
    use motcua::core::lunar;
    // Tết and Hùng Kings' day in the files are the lunar dates.
    for (year, tet, hung) in [
        (2025, (1, 29), (4, 7)),
        (2026, (2, 17), (4, 26)),
        (2027, (2, 6), (4, 16)),
    ] {
        let t = lunar::lunar_new_year(year);
        assert_eq!((t.month(), t.day()), tet, "Tết {year}");
        let h = lunar::lunar_to_solar(year, 3, 10, false).unwrap();
        assert_eq!((h.month(), h.day()), hung, "Hùng Kings {year}");
        assert!(!calendar().is_working_day(t));
        assert!(!calendar().is_working_day(h));
    }
}

fn receipt_strategy() -> impl Strategy<Value = DateTime<FixedOffset>> {
    // Any minute from 2025-01-01 to 2029-12-31 (crossing into derived years).
    (0i64..(5 * 365 * 24 * 60)).prop_map(|m| at("2025-01-01T00:00") + chrono::Duration::minutes(m))
}

fn unit_strategy() -> impl Strategy<Value = (PeriodUnit, Option<NaiveTime>)> {
    prop_oneof![
        Just((PeriodUnit::WorkingDays, None)),
        Just((PeriodUnit::WorkingHours, None)),
        Just((PeriodUnit::CalendarDays, None)),
        (9u32..17).prop_map(|h| (PeriodUnit::SameDay, NaiveTime::from_hms_opt(h, 0, 0))),
    ]
}

fn in_working_hours(t: DateTime<FixedOffset>) -> bool {
    let local = t.with_timezone(&vn());
    calendar().is_working_day(local.date_naive())
        && calendar().hours().contains(local.time())
        && local.second() == 0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn due_lies_within_working_hours_of_a_working_day(
        received in receipt_strategy(),
        (unit, cutoff) in unit_strategy(),
        amount in 1u32..120,
    ) {
        let amount = if unit == PeriodUnit::SameDay { 0 } else { amount };
        let t = StatutoryTime::new(amount, unit, cutoff).unwrap();
        let due = engine().due_at(received, &t).unwrap();
        prop_assert!(in_working_hours(due), "{received} + {amount} {unit} → {due}");
        prop_assert!(due > received);
        if unit != PeriodUnit::WorkingHours {
            prop_assert_eq!(due.with_timezone(&vn()).time(), NaiveTime::from_hms_opt(17, 0, 0).unwrap());
        }
    }

    #[test]
    fn due_never_decreases_as_the_amount_grows(
        received in receipt_strategy(),
        (unit, _) in unit_strategy().prop_filter("has an amount", |(u, _)| *u != PeriodUnit::SameDay),
        amount in 1u32..200,
    ) {
        let a = engine().due_at(received, &StatutoryTime::new(amount, unit, None).unwrap()).unwrap();
        let b = engine().due_at(received, &StatutoryTime::new(amount + 1, unit, None).unwrap()).unwrap();
        prop_assert!(b >= a, "{amount} → {a}, {} → {b}", amount + 1);
        if unit != PeriodUnit::CalendarDays {
            prop_assert!(b > a);
        }
    }

    #[test]
    fn due_never_decreases_as_the_receipt_moves_later(
        received in receipt_strategy(),
        later in 0i64..(3 * 24 * 60),
        (unit, cutoff) in unit_strategy(),
        amount in 1u32..30,
    ) {
        let amount = if unit == PeriodUnit::SameDay { 0 } else { amount };
        let t = StatutoryTime::new(amount, unit, cutoff).unwrap();
        let a = engine().due_at(received, &t).unwrap();
        let b = engine().due_at(received + chrono::Duration::minutes(later), &t).unwrap();
        prop_assert!(b >= a);
    }

    #[test]
    fn working_hours_consume_exactly_the_minutes_asked(
        received in receipt_strategy(),
        hours in 1u32..200,
    ) {
        let due = engine().due_at(received, &StatutoryTime::new(hours, PeriodUnit::WorkingHours, None).unwrap()).unwrap();
        prop_assert_eq!(engine().working_minutes_between(received, due), i64::from(hours) * 60);
    }

    #[test]
    fn working_minutes_between_equals_the_day_by_day_walk(
        from in receipt_strategy(),
        span in -(3 * 24 * 60i64)..(800 * 24 * 60),
    ) {
        // The engine counts whole days on the calendar's prefix sums; the reference walks
        // every day (as before that change) and sums each session's minutes in range.
        let to = from + chrono::Duration::minutes(span);
        let (a, b) = (from.naive_local(), to.naive_local());
        let mut walked = 0i64;
        let mut d = a.date();
        while b > a && d <= b.date() {
            if calendar().is_working_day(d) {
                for s in calendar().hours().sessions() {
                    let s0 = d.and_time(s.start).max(a);
                    let s1 = d.and_time(s.end).min(b);
                    walked += (s1 - s0).num_minutes().max(0);
                }
            }
            d = d.succ_opt().unwrap();
        }
        prop_assert_eq!(engine().working_minutes_between(from, to), walked);
    }

    #[test]
    fn working_days_between_is_additive(
        a in 0i64..2000, b in 0i64..2000, c in 0i64..2000,
    ) {
        let mut v = [a, b, c];
        v.sort();
        let day = |n: i64| chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(n);
        let cal = calendar();
        prop_assert_eq!(
            cal.working_days_between(day(v[0]), day(v[2])),
            cal.working_days_between(day(v[0]), day(v[1])) + cal.working_days_between(day(v[1]), day(v[2]))
        );
        prop_assert_eq!(cal.working_days_between(day(v[2]), day(v[0])), 0);
        let walked = (v[0]..v[1]).filter(|n| cal.is_working_day(day(*n))).count() as i64;
        prop_assert_eq!(cal.working_days_between(day(v[0]), day(v[1])), walked);
    }

    #[test]
    fn resuming_adds_back_exactly_the_paused_working_time(
        received in receipt_strategy(),
        pause_start in 0i64..(20 * 24 * 60),
        pause_len in 0i64..(10 * 24 * 60),
    ) {
        let e = engine();
        let due = e.due_at(received, &StatutoryTime::new(10, PeriodUnit::WorkingDays, None).unwrap()).unwrap();
        let p = received + chrono::Duration::minutes(pause_start);
        let r = p + chrono::Duration::minutes(pause_len);
        let moved = e.resume(due, p, r).unwrap();
        prop_assert!(moved >= due);
        prop_assert_eq!(e.working_minutes_between(due, moved), e.working_minutes_between(p, r));
    }
}
