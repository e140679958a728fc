//! Early warning for staff (*cảnh báo sớm*, issue #17): which open dossiers call for
//! attention at a moment. Each working morning an official is told of the dossiers
//! assigned to them that are due within the horizon (*sắp đến hạn*) or already past their
//! due moment (*quá hạn*); a leader also of their agency's dossiers whose current stage is
//! late though the dossier itself is not (*có nguy cơ trễ hạn*).
//!
//! - **Due soon**: due at or before `now` plus the horizon, counted in working time by the
//!   working calendar: with a horizon of 1 working day, Friday 15:00 reaches Monday 15:00,
//!   and 07:30 on a working day reaches that day's close. The horizon is a setting
//!   (`[mail] digest_due_within_days`), as the one-stop mechanism sets no figure for it
//!   (NĐ 118/2025/NĐ-CP asks the agency that will be late to apologise at the latest the
//!   day before the due date, Art. 19(6): one working day is the least useful warning).
//! - **Overdue**: `now` is past the due moment (the moment itself is still on time, as in
//!   [`super::deadline::outcome`]).
//! - **At risk**: the current stage's due moment is past while the dossier is not overdue.
//!   A stage is the run of consecutive route steps at one agency, measured as a whole at
//!   the hand-over ([`super::route`]): inside an agency a dossier moves by assignment, so
//!   the first step's own share is not a deadline anyone is held to.
//! - A dossier whose clock is stopped (supplement, pause) warns of nothing: its due
//!   moment moves when the clock starts again.
//!
//! Pure: no I/O, no clock (`now` is passed in).

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::deadline::{DeadlineError, Deadlines};

/// Where a dossier stands against its own due moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Nothing to say: due beyond the horizon, or the clock is stopped.
    InTime,
    /// Sắp đến hạn: due within the horizon.
    DueSoon,
    /// Quá hạn: past its due moment.
    Overdue,
}

/// What the early warning says of one dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub standing: Standing,
    /// Có nguy cơ trễ hạn: its current stage is late, the dossier is not (it may be due
    /// soon as well).
    pub at_risk: bool,
}

impl Warning {
    /// Nothing to warn of.
    pub const NONE: Warning = Warning {
        standing: Standing::InTime,
        at_risk: false,
    };
}

/// The moments of a dossier the warning looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moments {
    /// The statutory due moment (*ngày hẹn trả*), moved by stopped clock time.
    pub due_at: DateTime<FixedOffset>,
    /// The due moment of the stage the dossier is in (the last consecutive step of its
    /// route at the current step's agency); `None` between stages or off the route.
    pub stage_due_at: Option<DateTime<FixedOffset>>,
    /// The clock stands still (a supplement or a pause).
    pub clock_stopped: bool,
}

/// The end of the due-soon horizon at `now`: `days` working days of working time later
/// (`days` × the working minutes of a day, skipping rest days and the hours between
/// sessions). From outside working hours it counts from the next opening.
pub fn due_soon_until(
    now: DateTime<FixedOffset>,
    days: u32,
    engine: &Deadlines<'_>,
) -> Result<DateTime<FixedOffset>, DeadlineError> {
    let per_day = engine.calendar.hours().minutes_per_day();
    engine.add_working_minutes(now, i64::from(days) * per_day)
}

/// The warning for `m` at `now`, with the due-soon horizon ending at `until` (from
/// [`due_soon_until`]).
pub fn classify(m: &Moments, now: DateTime<FixedOffset>, until: DateTime<FixedOffset>) -> Warning {
    if m.clock_stopped {
        return Warning::NONE;
    }
    let standing = if now > m.due_at {
        Standing::Overdue
    } else if m.due_at <= until {
        Standing::DueSoon
    } else {
        Standing::InTime
    };
    Warning {
        standing,
        at_risk: standing != Standing::Overdue && m.stage_due_at.is_some_and(|s| now > s),
    }
}

/// [`classify`] with the horizon of `days` working days counted from `now`.
pub fn assess(
    m: &Moments,
    now: DateTime<FixedOffset>,
    days: u32,
    engine: &Deadlines<'_>,
) -> Result<Warning, DeadlineError> {
    Ok(classify(m, now, due_soon_until(now, days, engine)?))
}

/// Working minutes as people say them: `1 ngày 2 giờ`, `3 giờ`, `45 phút` (a day is
/// `per_day` working minutes; minutes are left out once there are days). The sign is
/// the caller's (*còn* / *quá*).
pub fn working_span(minutes: i64, per_day: i64) -> String {
    let m = minutes.abs();
    let (d, rest) = (m / per_day.max(1), m % per_day.max(1));
    let (h, min) = (rest / 60, rest % 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} ngày"));
    }
    if h > 0 {
        parts.push(format!("{h} giờ"));
    }
    if d == 0 && min > 0 {
        parts.push(format!("{min} phút"));
    }
    if parts.is_empty() {
        parts.push("0 phút".into());
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::calendar::{CalendarYear, NamedDay, WorkingCalendar, WorkingHours};
    use chrono::NaiveDate;

    /// 2026 as config/calendar/2026.toml has it around Quốc khánh: Saturday 22/8 worked
    /// (làm bù), Saturday 29/8 to Wednesday 2/9 off (Monday 31/8 swapped).
    fn calendar() -> WorkingCalendar {
        let day = |s: &str| NamedDay {
            date: NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap(),
            name: s.into(),
        };
        let year = CalendarYear::from_lists(
            2026,
            &[day("2026-08-31"), day("2026-09-01"), day("2026-09-02")],
            &[day("2026-08-22")],
        )
        .unwrap();
        WorkingCalendar::new(WorkingHours::standard(), vec![year])
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("{s}:00+07:00")).unwrap()
    }

    #[test]
    fn the_horizon_is_counted_in_working_time() {
        let c = calendar();
        let e = Deadlines::new(&c, *at("2026-11-06T15:00").offset());
        for (now, days, until) in [
            // A Friday afternoon's working day reaches Monday afternoon.
            ("2026-11-06T15:00", 1, "2026-11-09T15:00"),
            // A morning before opening: that day's close.
            ("2026-11-05T07:30", 1, "2026-11-05T17:00"),
            ("2026-11-05T07:30", 2, "2026-11-06T17:00"),
            // Over the lunch break: 09:00 + 8 h of work is 09:00 the next day.
            ("2026-11-04T09:00", 1, "2026-11-05T09:00"),
            // Friday before Quốc khánh: Saturday to Wednesday are rest days.
            ("2026-08-28T14:00", 1, "2026-09-03T14:00"),
            // Friday before a Saturday worked in exchange.
            ("2026-08-21T15:00", 1, "2026-08-22T15:00"),
            // Sunday evening: Monday's close.
            ("2026-11-08T20:00", 1, "2026-11-09T17:00"),
        ] {
            assert_eq!(
                due_soon_until(at(now), days, &e).unwrap(),
                at(until),
                "{now} + {days}"
            );
        }
    }

    #[test]
    fn each_dossier_gets_its_warning() {
        use Standing::*;
        let c = calendar();
        let e = Deadlines::new(&c, *at("2026-08-28T14:00").offset());
        // Friday 28/8/2026 14:00, one working day: until Thursday 3/9 14:00.
        let now = at("2026-08-28T14:00");
        let rows: [(&str, Option<&str>, bool, Standing, bool); 13] = [
            // due, stage due, clock stopped → standing, at risk
            ("2026-08-28T17:00", None, false, DueSoon, false),
            ("2026-09-03T10:00", None, false, DueSoon, false),
            ("2026-09-03T14:00", None, false, DueSoon, false),
            ("2026-09-03T14:01", None, false, InTime, false),
            ("2026-09-07T17:00", None, false, InTime, false),
            ("2026-08-28T14:00", None, false, DueSoon, false),
            ("2026-08-28T13:59", None, false, Overdue, false),
            ("2026-08-24T17:00", None, false, Overdue, false),
            // The stage late, the dossier not.
            (
                "2026-09-07T17:00",
                Some("2026-08-28T11:00"),
                false,
                InTime,
                true,
            ),
            (
                "2026-08-28T17:00",
                Some("2026-08-28T11:00"),
                false,
                DueSoon,
                true,
            ),
            // The stage not yet late; both late: overdue, not at risk.
            (
                "2026-09-07T17:00",
                Some("2026-08-28T14:00"),
                false,
                InTime,
                false,
            ),
            (
                "2026-08-28T13:00",
                Some("2026-08-28T11:00"),
                false,
                Overdue,
                false,
            ),
            // A stopped clock: nothing, whatever the moments say.
            (
                "2026-08-24T17:00",
                Some("2026-08-20T11:00"),
                true,
                InTime,
                false,
            ),
        ];
        for (due, stage, stopped, standing, at_risk) in rows {
            let m = Moments {
                due_at: at(due),
                stage_due_at: stage.map(at),
                clock_stopped: stopped,
            };
            assert_eq!(
                assess(&m, now, 1, &e).unwrap(),
                Warning { standing, at_risk },
                "due {due}, stage {stage:?}, stopped {stopped}"
            );
        }
        // Two working days reach Friday 4/9 14:00.
        let m = Moments {
            due_at: at("2026-09-04T10:00"),
            stage_due_at: None,
            clock_stopped: false,
        };
        assert_eq!(assess(&m, now, 1, &e).unwrap().standing, InTime);
        assert_eq!(assess(&m, now, 2, &e).unwrap().standing, DueSoon);
    }

    #[test]
    fn working_time_is_said_in_days_hours_and_minutes() {
        for (minutes, text) in [
            (0, "0 phút"),
            (45, "45 phút"),
            (-45, "45 phút"),
            (60, "1 giờ"),
            (125, "2 giờ 5 phút"),
            (480, "1 ngày"),
            (480 + 125, "1 ngày 2 giờ"),
            (3 * 480, "3 ngày"),
        ] {
            assert_eq!(working_span(minutes, 480), text, "{minutes}");
        }
    }
}
