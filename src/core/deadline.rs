//! The deadline engine: statutory time (*thời hạn giải quyết*) → due moment
//! (*ngày hẹn trả*), pauses, and the early / on-time / late outcome.
//!
//! Semantics (all in the calendar's local time, Asia/Ho_Chi_Minh, +07:00):
//! - `working_days` N: day 1 is the first working day after the calendar day of
//!   receipt (Civil Code 2015 Art. 147: a period in days starts the day after the
//!   event), whether the receipt was in hours, after hours or on a rest day; due at the
//!   close of working hours of the Nth working day.
//! - `working_hours` N: N×60 working minutes from the moment of receipt, skipping
//!   non-working time; a receipt outside working hours starts at the next opening.
//! - `same_day` with cut-off C: received on a working day strictly before C → due at
//!   the close of that day; otherwise at the close of the next working day.
//! - `calendar_days` N: the Nth calendar day after the day of receipt; due at its
//!   close if it is a working day, otherwise at the close of the next working day
//!   (Civil Code 2015 Art. 148(5)).
//! - pause / supplement: the due moment moves later by the working minutes that elapsed
//!   while paused.
//! - outcome of a finish moment f against a due moment d: `early` if f falls on a date
//!   before d's date; `on_time` if otherwise f ≤ d; `late` if f > d.
//!
//! Pure: no I/O, no clock.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
};
use serde::{Deserialize, Serialize};

use super::calendar::WorkingCalendar;

/// Largest accepted amounts: beyond these a statutory time is surely a typing error.
pub const MAX_DAYS: u32 = 3650;
pub const MAX_HOURS: u32 = 20_000;

/// The unit of a statutory time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    /// N ngày làm việc.
    WorkingDays,
    /// N giờ làm việc.
    WorkingHours,
    /// Trong ngày, if received before a cut-off (*trả trong ngày*).
    SameDay,
    /// N ngày (calendar days, rolled to a working day).
    CalendarDays,
}

impl PeriodUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodUnit::WorkingDays => "working_days",
            PeriodUnit::WorkingHours => "working_hours",
            PeriodUnit::SameDay => "same_day",
            PeriodUnit::CalendarDays => "calendar_days",
        }
    }
}

impl fmt::Display for PeriodUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PeriodUnit {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "working_days" => Ok(PeriodUnit::WorkingDays),
            "working_hours" => Ok(PeriodUnit::WorkingHours),
            "same_day" => Ok(PeriodUnit::SameDay),
            "calendar_days" => Ok(PeriodUnit::CalendarDays),
            _ => Err(()),
        }
    }
}

/// A statutory time (*thời hạn giải quyết*): an amount, a unit and, for `same_day`, a cut-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatutoryTime {
    pub amount: u32,
    pub unit: PeriodUnit,
    pub cutoff: Option<NaiveTime>,
}

/// Why a statutory time or a computation is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadlineError {
    /// The amount does not fit the unit (0 working days, or a same-day period with an amount).
    InvalidAmount(String),
    /// `same_day` without a cut-off, or a cut-off on another unit.
    InvalidCutoff(String),
    /// The period runs beyond the years the calendar can answer for.
    OutOfRange,
}

impl fmt::Display for DeadlineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadlineError::InvalidAmount(m) | DeadlineError::InvalidCutoff(m) => f.write_str(m),
            DeadlineError::OutOfRange => {
                f.write_str("thời hạn vượt ra ngoài khoảng năm mà lịch làm việc hỗ trợ")
            }
        }
    }
}

impl std::error::Error for DeadlineError {}

impl StatutoryTime {
    /// Builds and checks a statutory time.
    pub fn new(
        amount: u32,
        unit: PeriodUnit,
        cutoff: Option<NaiveTime>,
    ) -> Result<Self, DeadlineError> {
        let t = Self {
            amount,
            unit,
            cutoff,
        };
        t.validate()?;
        Ok(t)
    }

    pub fn validate(&self) -> Result<(), DeadlineError> {
        match self.unit {
            PeriodUnit::SameDay => {
                if self.amount != 0 {
                    return Err(DeadlineError::InvalidAmount(
                        "thời hạn trong ngày phải có amount = 0".into(),
                    ));
                }
                if self.cutoff.is_none() {
                    return Err(DeadlineError::InvalidCutoff(
                        "thời hạn trong ngày cần giờ tiếp nhận cuối (cutoff HH:MM)".into(),
                    ));
                }
            }
            unit => {
                let max = if unit == PeriodUnit::WorkingHours {
                    MAX_HOURS
                } else {
                    MAX_DAYS
                };
                if self.amount == 0 || self.amount > max {
                    return Err(DeadlineError::InvalidAmount(format!(
                        "số lượng phải từ 1 đến {max} với đơn vị {unit}"
                    )));
                }
                if self.cutoff.is_some() {
                    return Err(DeadlineError::InvalidCutoff(format!(
                        "giờ tiếp nhận cuối (cutoff) chỉ dùng cho đơn vị same_day, không dùng cho {unit}"
                    )));
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for StatutoryTime {
    /// Vietnamese wording as printed on a receipt.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.unit {
            PeriodUnit::WorkingDays => write!(f, "{} ngày làm việc", self.amount),
            PeriodUnit::WorkingHours => write!(f, "{} giờ làm việc", self.amount),
            PeriodUnit::CalendarDays => write!(f, "{} ngày", self.amount),
            PeriodUnit::SameDay => write!(
                f,
                "trong ngày (nhận trước {})",
                self.cutoff
                    .map(|c| c.format("%H:%M").to_string())
                    .unwrap_or_default()
            ),
        }
    }
}

/// A time limit of the rules themselves (not a procedure's statutory time): e.g. a
/// supplement requested within 3 working days of receipt (NĐ 118/2025 Art. 19(5)), an
/// online dossier received officially within 8 working hours of its arrival (Art. 17(2)).
/// Counted like a statutory time of the same unit; `same_day` has no meaning here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeLimit {
    pub amount: u32,
    pub unit: PeriodUnit,
}

impl TimeLimit {
    /// The limit as a period the engine counts.
    pub fn to_time(self) -> Result<StatutoryTime, DeadlineError> {
        if self.unit == PeriodUnit::SameDay {
            return Err(DeadlineError::InvalidAmount(
                "giới hạn thời gian không dùng đơn vị same_day".into(),
            ));
        }
        StatutoryTime::new(self.amount, self.unit, None)
    }
}

impl fmt::Display for TimeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_time() {
            Ok(t) => t.fmt(f),
            Err(_) => write!(f, "{} {}", self.amount, self.unit),
        }
    }
}

/// The early / on-time / late result of a step or a dossier (*trước hạn / đúng hạn / quá hạn*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Early,
    OnTime,
    Late,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Early => "early",
            Outcome::OnTime => "on_time",
            Outcome::Late => "late",
        }
    }

    /// Vietnamese wording for forms.
    pub fn label_vi(self) -> &'static str {
        match self {
            Outcome::Early => "Trước hạn",
            Outcome::OnTime => "Đúng hạn",
            Outcome::Late => "Quá hạn",
        }
    }
}

/// The deadline engine over one working calendar and one time zone.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines<'a> {
    pub calendar: &'a WorkingCalendar,
    pub offset: FixedOffset,
}

impl<'a> Deadlines<'a> {
    pub fn new(calendar: &'a WorkingCalendar, offset: FixedOffset) -> Self {
        Self { calendar, offset }
    }

    /// The local calendar date of a moment.
    pub fn local_date(&self, t: DateTime<FixedOffset>) -> NaiveDate {
        self.local(t).date()
    }

    fn local(&self, t: DateTime<FixedOffset>) -> NaiveDateTime {
        t.with_timezone(&self.offset).naive_local()
    }

    fn zoned(&self, t: NaiveDateTime) -> DateTime<FixedOffset> {
        self.offset.from_local_datetime(&t).unwrap()
    }

    fn close_of(&self, date: NaiveDate) -> NaiveDateTime {
        date.and_time(self.calendar.hours().closing())
    }

    /// The due moment of a period received at `received`.
    pub fn due_at(
        &self,
        received: DateTime<FixedOffset>,
        time: &StatutoryTime,
    ) -> Result<DateTime<FixedOffset>, DeadlineError> {
        time.validate()?;
        let r = self.local(received);
        check_year(r.date())?;
        let cal = self.calendar;
        let due = match time.unit {
            PeriodUnit::WorkingDays => {
                let mut d = r.date();
                for _ in 0..time.amount {
                    d = cal.next_working_day(d).ok_or(DeadlineError::OutOfRange)?;
                }
                self.close_of(d)
            }
            PeriodUnit::WorkingHours => {
                self.add_working_minutes_local(r, i64::from(time.amount) * 60)?
            }
            PeriodUnit::SameDay => {
                let cutoff = time.cutoff.expect("validated");
                let d = if cal.is_working_day(r.date()) && r.time() < cutoff {
                    r.date()
                } else {
                    cal.next_working_day(r.date())
                        .ok_or(DeadlineError::OutOfRange)?
                };
                self.close_of(d)
            }
            PeriodUnit::CalendarDays => {
                let d = r
                    .date()
                    .checked_add_signed(Duration::days(i64::from(time.amount)))
                    .ok_or(DeadlineError::OutOfRange)?;
                let d = if cal.is_working_day(d) {
                    d
                } else {
                    cal.next_working_day(d).ok_or(DeadlineError::OutOfRange)?
                };
                self.close_of(d)
            }
        };
        Ok(self.zoned(due))
    }

    /// `start` plus `minutes` working minutes. With `minutes = 0` the result is `start`
    /// itself when it lies within working hours, otherwise the next opening. An end that
    /// falls exactly on the end of a session stays there (12:00, 17:00), it does not
    /// jump to the next opening.
    pub fn add_working_minutes(
        &self,
        start: DateTime<FixedOffset>,
        minutes: i64,
    ) -> Result<DateTime<FixedOffset>, DeadlineError> {
        Ok(self.zoned(self.add_working_minutes_local(self.local(start), minutes)?))
    }

    fn add_working_minutes_local(
        &self,
        start: NaiveDateTime,
        minutes: i64,
    ) -> Result<NaiveDateTime, DeadlineError> {
        check_year(start.date())?;
        let cal = self.calendar;
        let hours = cal.hours();
        let per_day = hours.minutes_per_day();
        let mut remaining = minutes.max(0);
        let mut date = start.date();
        let mut from_time = Some(start.time());
        loop {
            if date.year() > super::calendar::MAX_YEAR {
                return Err(DeadlineError::OutOfRange);
            }
            if cal.is_working_day(date) {
                // Whole days can be skipped in one step when starting at midnight.
                if from_time.is_none() && remaining > per_day {
                    remaining -= per_day;
                } else {
                    for s in hours.sessions() {
                        let begin = match from_time {
                            Some(t) if t > s.start => t,
                            _ => s.start,
                        };
                        if begin >= s.end {
                            continue;
                        }
                        let available = (s.end - begin).num_minutes();
                        if remaining <= available {
                            return Ok(date.and_time(begin) + Duration::minutes(remaining));
                        }
                        remaining -= available;
                    }
                }
            }
            date = date.succ_opt().ok_or(DeadlineError::OutOfRange)?;
            from_time = None;
        }
    }

    /// Working minutes in `[from, to)`; 0 when `to ≤ from`.
    pub fn working_minutes_between(
        &self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> i64 {
        let (a, b) = (self.local(from), self.local(to));
        if b <= a {
            return 0;
        }
        let cal = self.calendar;
        // The minutes of one day's sessions within `a..b`.
        let within = |date: NaiveDate| -> i64 {
            if !cal.is_working_day(date) {
                return 0;
            }
            cal.hours()
                .sessions()
                .iter()
                .map(|s| {
                    let s_start = date.and_time(s.start).max(a);
                    let s_end = date.and_time(s.end).min(b);
                    (s_end - s_start).num_minutes().max(0)
                })
                .sum()
        };
        let (first, last) = (a.date(), b.date());
        if first == last {
            return within(first);
        }
        // The first and last days in part, the whole working days between counted on the
        // calendar's prefix sums (a dossier overdue for a year costs no walk).
        let whole = match first.succ_opt() {
            Some(next) => cal.working_days_between(next, last),
            None => 0,
        };
        within(first) + whole * cal.hours().minutes_per_day() + within(last)
    }

    /// The due moment after a pause from `paused_at` to `resumed_at` (a supplement
    /// request or a lawful pause): later by the working minutes that elapsed.
    pub fn resume(
        &self,
        due: DateTime<FixedOffset>,
        paused_at: DateTime<FixedOffset>,
        resumed_at: DateTime<FixedOffset>,
    ) -> Result<DateTime<FixedOffset>, DeadlineError> {
        let paused = self.working_minutes_between(paused_at, resumed_at);
        if paused == 0 {
            return Ok(due);
        }
        self.add_working_minutes(due, paused)
    }

    /// The outcome of finishing at `finished` against `due`.
    pub fn outcome(&self, finished: DateTime<FixedOffset>, due: DateTime<FixedOffset>) -> Outcome {
        outcome(finished, due, self.offset)
    }
}

/// The calendar answers for the years `MIN_YEAR..=MAX_YEAR` only: a moment outside them is
/// out of range (not silently moved into them).
fn check_year(d: NaiveDate) -> Result<(), DeadlineError> {
    if (super::calendar::MIN_YEAR..=super::calendar::MAX_YEAR).contains(&d.year()) {
        Ok(())
    } else {
        Err(DeadlineError::OutOfRange)
    }
}

/// The outcome of finishing at `finished` against `due`, dates taken in `offset`.
pub fn outcome(
    finished: DateTime<FixedOffset>,
    due: DateTime<FixedOffset>,
    offset: FixedOffset,
) -> Outcome {
    let fd = finished.with_timezone(&offset).date_naive();
    let dd = due.with_timezone(&offset).date_naive();
    if fd < dd {
        Outcome::Early
    } else if finished <= due {
        Outcome::OnTime
    } else {
        Outcome::Late
    }
}
