//! The working calendar (*lịch làm việc*): which days civil servants work and during
//! which hours.
//!
//! Rules (Labour Code 2019 Art. 111–112; the Prime Minister's yearly decisions on
//! swapped days):
//! - Saturday and Sunday are weekly rest days unless the year's file lists them as a
//!   make-up working day (*làm bù*).
//! - Every listed holiday is a rest day; compensatory days (*nghỉ bù*) are listed as
//!   holidays in the year's file.
//! - Working hours are configuration (typically 08:00–12:00 and 13:00–17:00).
//!
//! A year with no file falls back to holidays derived from the lunar calendar
//! ([`derived_year`]); callers ask [`WorkingCalendar::unconfigured_years`] to warn.
//!
//! Pure: no I/O, no clock.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use serde::Serialize;

use super::lunar;

/// First and last Gregorian year the calendar can answer for.
pub const MIN_YEAR: i32 = 1900;
pub const MAX_YEAR: i32 = 2199;

/// One session of working hours, e.g. 08:00–12:00 (*giờ làm việc*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Session {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// The daily working hours: one or more sessions, sorted, not overlapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    sessions: Vec<Session>,
}

impl WorkingHours {
    /// Builds working hours from sessions; refuses empty, reversed or overlapping ones.
    pub fn new(mut sessions: Vec<Session>) -> Result<Self, String> {
        if sessions.is_empty() {
            return Err("cần ít nhất một buổi làm việc".into());
        }
        sessions.sort_by_key(|s| s.start);
        for s in &sessions {
            if s.end <= s.start {
                return Err(format!(
                    "buổi làm việc {}–{} kết thúc trước khi bắt đầu",
                    s.start.format("%H:%M"),
                    s.end.format("%H:%M")
                ));
            }
        }
        for w in sessions.windows(2) {
            if w[1].start < w[0].end {
                return Err(format!(
                    "các buổi làm việc {}–{} và {}–{} chồng lên nhau",
                    w[0].start.format("%H:%M"),
                    w[0].end.format("%H:%M"),
                    w[1].start.format("%H:%M"),
                    w[1].end.format("%H:%M")
                ));
            }
        }
        Ok(Self { sessions })
    }

    /// Parses `"08:00-12:00"`.
    pub fn parse_session(text: &str) -> Result<Session, String> {
        let (a, b) = text
            .split_once('-')
            .ok_or_else(|| format!("\"{text}\" không đúng dạng HH:MM-HH:MM"))?;
        let start = parse_hhmm(a.trim())?;
        let end = parse_hhmm(b.trim())?;
        Ok(Session { start, end })
    }

    /// The usual hours of Vietnamese state agencies: 08:00–12:00, 13:00–17:00.
    pub fn standard() -> Self {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        Self::new(vec![
            Session {
                start: t(8),
                end: t(12),
            },
            Session {
                start: t(13),
                end: t(17),
            },
        ])
        .unwrap()
    }

    pub fn sessions(&self) -> &[Session] {
        &self.sessions
    }

    /// Opening of the first session.
    pub fn opening(&self) -> NaiveTime {
        self.sessions[0].start
    }

    /// Close of working hours: the end of the last session.
    pub fn closing(&self) -> NaiveTime {
        self.sessions[self.sessions.len() - 1].end
    }

    /// Working minutes in one working day.
    pub fn minutes_per_day(&self) -> i64 {
        self.sessions
            .iter()
            .map(|s| (s.end - s.start).num_minutes())
            .sum()
    }

    /// Whether `t` lies within a session, both ends included.
    pub fn contains(&self, t: NaiveTime) -> bool {
        self.sessions.iter().any(|s| s.start <= t && t <= s.end)
    }
}

/// The start of local `date` in `offset`, as a UTC moment.
pub fn start_of_day_utc(
    date: NaiveDate,
    offset: chrono::FixedOffset,
) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    offset
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .expect("a fixed offset has no gaps")
        .with_timezone(&chrono::Utc)
}

/// Parses `HH:MM` (24-hour clock).
pub fn parse_hhmm(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| format!("\"{text}\" không phải giờ hợp lệ dạng HH:MM"))
}

/// What kind of day a date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// An ordinary working day (Monday–Friday, not a holiday).
    Working,
    /// A weekend day worked in exchange for another (*ngày làm bù*).
    MakeUp,
    /// Saturday or Sunday (*ngày nghỉ hằng tuần*).
    Weekend,
    /// A public holiday or a day off given in exchange or compensation (*ngày nghỉ lễ, Tết, nghỉ bù*).
    Holiday,
}

impl DayKind {
    pub fn is_working(self) -> bool {
        matches!(self, DayKind::Working | DayKind::MakeUp)
    }
}

/// A named date in a year's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedDay {
    pub date: NaiveDate,
    pub name: String,
}

/// One year of the calendar: its holidays and make-up working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarYear {
    pub year: i32,
    /// Rest days other than weekends (holidays, swapped days off, compensatory days).
    pub holidays: BTreeMap<NaiveDate, String>,
    /// Weekend days that are worked (*làm bù*).
    pub working_days: BTreeMap<NaiveDate, String>,
    /// True when read from a configuration file, false when derived as a fallback.
    pub configured: bool,
}

impl CalendarYear {
    /// Checks that every date lies in the year and no date is both a holiday and a
    /// working day. Errors carry the offending list (`holiday` / `working_day`), index
    /// in the given order and message.
    pub fn from_lists(
        year: i32,
        holidays: &[NamedDay],
        working_days: &[NamedDay],
    ) -> Result<Self, (&'static str, usize, String)> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err((
                "year",
                0,
                format!("năm {year} nằm ngoài khoảng {MIN_YEAR}–{MAX_YEAR}"),
            ));
        }
        let mut h = BTreeMap::new();
        for (i, d) in holidays.iter().enumerate() {
            if d.date.year() != year {
                return Err((
                    "holiday",
                    i,
                    format!("ngày {} không thuộc năm {year}", d.date),
                ));
            }
            if h.insert(d.date, d.name.clone()).is_some() {
                return Err(("holiday", i, format!("ngày {} khai báo hai lần", d.date)));
            }
        }
        let mut w = BTreeMap::new();
        for (i, d) in working_days.iter().enumerate() {
            if d.date.year() != year {
                return Err((
                    "working_day",
                    i,
                    format!("ngày {} không thuộc năm {year}", d.date),
                ));
            }
            if h.contains_key(&d.date) {
                return Err((
                    "working_day",
                    i,
                    format!("ngày {} vừa là ngày nghỉ vừa là ngày làm việc", d.date),
                ));
            }
            if !matches!(d.date.weekday(), Weekday::Sat | Weekday::Sun) {
                return Err((
                    "working_day",
                    i,
                    format!(
                        "ngày làm bù {} không phải thứ Bảy hoặc Chủ nhật (ngày thường đã là ngày làm việc)",
                        d.date
                    ),
                ));
            }
            if w.insert(d.date, d.name.clone()).is_some() {
                return Err((
                    "working_day",
                    i,
                    format!("ngày {} khai báo hai lần", d.date),
                ));
            }
        }
        Ok(Self {
            year,
            holidays: h,
            working_days: w,
            configured: true,
        })
    }

    /// What kind of day `date` (which must be in this year) is.
    pub fn kind(&self, date: NaiveDate) -> DayKind {
        if self.working_days.contains_key(&date) {
            DayKind::MakeUp
        } else if self.holidays.contains_key(&date) {
            DayKind::Holiday
        } else if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            DayKind::Weekend
        } else {
            DayKind::Working
        }
    }
}

/// Statutory holidays of `year` derived without a configuration file (Labour Code 2019
/// Art. 112): 1 January; Tết Nguyên Đán as New Year's Eve plus the first four days of
/// the lunar year; Hùng Kings' day (10th of the 3rd lunar month); 30 April; 1 May;
/// 2 September with one adjacent day chosen to make a long weekend. A holiday on a
/// Saturday or Sunday is compensated on the next working day (Art. 111(3)).
///
/// The real calendar is set each year by the Prime Minister (longer Tết, swapped days):
/// this is only a fallback for years nobody has configured.
pub fn derived_year(year: i32) -> CalendarYear {
    let d = |m, day| NaiveDate::from_ymd_opt(year, m, day).unwrap();
    let mut base: Vec<(NaiveDate, String)> = vec![(d(1, 1), "Tết Dương lịch".into())];

    // Tết of the lunar year starting in `year`, and the eve of the one starting next
    // year if it falls in `year` too (it never does, but the Tết of `year` may begin
    // in the previous Gregorian year only for the eve — handled by that year).
    let tet = lunar::lunar_new_year(year);
    let eve = lunar::lunar_new_years_eve(year);
    if eve.year() == year {
        base.push((eve, "Tết Nguyên Đán (ngày cuối năm âm lịch)".into()));
    }
    for i in 0..4 {
        let day = tet + Duration::days(i);
        base.push((day, format!("Tết Nguyên Đán (mùng {})", i + 1)));
    }
    if let Some(hung) = lunar::lunar_to_solar(year, 3, 10, false) {
        base.push((hung, "Giỗ Tổ Hùng Vương (10/3 âm lịch)".into()));
    }
    base.push((d(4, 30), "Ngày Chiến thắng, thống nhất đất nước".into()));
    base.push((d(5, 1), "Ngày Quốc tế Lao động".into()));
    let national = d(9, 2);
    base.push((national, "Quốc khánh".into()));
    // The adjacent day: the one that joins the weekend.
    let adjacent = match national.weekday() {
        Weekday::Mon | Weekday::Wed | Weekday::Thu => d(9, 3),
        _ => d(9, 1),
    };
    base.push((adjacent, "Quốc khánh (ngày liền kề)".into()));
    base.sort();
    base.dedup_by_key(|(date, _)| *date);

    let mut holidays: BTreeMap<NaiveDate, String> = base.iter().cloned().collect();
    for (date, name) in &base {
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            let mut c = *date + Duration::days(1);
            while matches!(c.weekday(), Weekday::Sat | Weekday::Sun) || holidays.contains_key(&c) {
                c += Duration::days(1);
            }
            if c.year() == year {
                holidays.insert(c, format!("Nghỉ bù {name}"));
            }
        }
    }
    CalendarYear {
        year,
        holidays,
        working_days: BTreeMap::new(),
        configured: false,
    }
}

/// The working calendar: working hours plus one [`CalendarYear`] per year, configured
/// or derived on first use.
#[derive(Debug)]
pub struct WorkingCalendar {
    hours: WorkingHours,
    configured: BTreeMap<i32, CalendarYear>,
    derived: Vec<OnceLock<CalendarYear>>,
    /// Per year, the working days before each day of the year (index: ordinal − 1; one
    /// more entry for the whole year), computed on first use: counting working days over
    /// months costs two look-ups instead of a walk (the queue's remaining time).
    working_before: Vec<OnceLock<Vec<u16>>>,
}

impl WorkingCalendar {
    pub fn new(hours: WorkingHours, years: Vec<CalendarYear>) -> Self {
        let configured = years.into_iter().map(|y| (y.year, y)).collect();
        let derived = (MIN_YEAR..=MAX_YEAR).map(|_| OnceLock::new()).collect();
        let working_before = (MIN_YEAR..=MAX_YEAR).map(|_| OnceLock::new()).collect();
        Self {
            hours,
            configured,
            derived,
            working_before,
        }
    }

    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    /// The calendar of `year` (configured, or derived); `None` outside the supported range.
    pub fn year(&self, year: i32) -> Option<&CalendarYear> {
        if let Some(y) = self.configured.get(&year) {
            return Some(y);
        }
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return None;
        }
        Some(self.derived[(year - MIN_YEAR) as usize].get_or_init(|| derived_year(year)))
    }

    /// Years with a configuration file.
    pub fn configured_years(&self) -> impl Iterator<Item = i32> + '_ {
        self.configured.keys().copied()
    }

    /// The years in `from..=to` that have no configuration file.
    pub fn unconfigured_years(&self, from: i32, to: i32) -> Vec<i32> {
        (from..=to)
            .filter(|y| !self.configured.contains_key(y))
            .collect()
    }

    /// What kind of day `date` is; dates outside the supported range count as rest days.
    pub fn day_kind(&self, date: NaiveDate) -> DayKind {
        match self.year(date.year()) {
            Some(y) => y.kind(date),
            None => DayKind::Holiday,
        }
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.day_kind(date).is_working()
    }

    /// The working days before each day of `year` (see `working_before`).
    fn prefix(&self, year: i32) -> Option<&[u16]> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return None;
        }
        let v = self.working_before[(year - MIN_YEAR) as usize].get_or_init(|| {
            let cal = self.year(year).expect("year in range");
            let mut out = Vec::with_capacity(367);
            let mut n = 0u16;
            let mut d = NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January");
            while d.year() == year {
                out.push(n);
                if cal.kind(d).is_working() {
                    n += 1;
                }
                d = d.succ_opt().expect("in range");
            }
            out.push(n);
            out
        });
        Some(v)
    }

    /// How many working days lie in `from..to` (`to` excluded; 0 when `to <= from`).
    /// Days outside the supported range count as rest days, as in [`Self::day_kind`].
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to <= from {
            return 0;
        }
        // Working days before `d` counted from 1 January of `from`'s year.
        let before = |d: NaiveDate| -> i64 {
            let mut total = 0i64;
            for y in from.year()..d.year() {
                if let Some(p) = self.prefix(y) {
                    total += i64::from(*p.last().expect("non-empty"));
                }
            }
            if let Some(p) = self.prefix(d.year()) {
                total += i64::from(p[d.ordinal0() as usize]);
            }
            total
        };
        before(to) - before(from)
    }

    /// The first working day strictly after `date`, if within the supported range.
    pub fn next_working_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        let mut d = date.succ_opt()?;
        while !self.is_working_day(d) {
            if d.year() > MAX_YEAR {
                return None;
            }
            d = d.succ_opt()?;
        }
        Some(d)
    }

    /// Rest days of `year` that are not plain weekends, plus weekends, in date order.
    pub fn rest_days(&self, year: i32) -> Vec<(NaiveDate, DayKind, Option<String>)> {
        let Some(cal) = self.year(year) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut d = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
        while d.year() == year {
            match cal.kind(d) {
                DayKind::Holiday => out.push((d, DayKind::Holiday, cal.holidays.get(&d).cloned())),
                DayKind::Weekend => out.push((d, DayKind::Weekend, None)),
                _ => {}
            }
            d = d.succ_opt().unwrap();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn derived_2026_has_tet_and_compensation_for_hung_kings_on_sunday() {
        let y = derived_year(2026);
        assert!(!y.configured);
        // Lunar new year 2026 is Tuesday 17 Feb; the eve is Monday 16 Feb.
        for d in 16..=20 {
            assert_eq!(y.kind(date(2026, 2, d)), DayKind::Holiday, "{d}/2");
        }
        // Hùng Kings' day 2026 is Sunday 26 April, compensated Monday 27 April.
        assert_eq!(y.kind(date(2026, 4, 26)), DayKind::Holiday);
        assert_eq!(y.kind(date(2026, 4, 27)), DayKind::Holiday);
        assert!(y.holidays[&date(2026, 4, 27)].starts_with("Nghỉ bù"));
        // 2 Sep 2026 is a Wednesday: the adjacent day is Thursday 3 Sep.
        assert_eq!(y.kind(date(2026, 9, 3)), DayKind::Holiday);
    }

    #[test]
    fn compensation_skips_other_holidays() {
        // 2027: 1 May is a Saturday → Monday 3 May.
        let y = derived_year(2027);
        assert_eq!(y.kind(date(2027, 5, 1)), DayKind::Holiday);
        assert_eq!(y.kind(date(2027, 5, 3)), DayKind::Holiday);
    }

    #[test]
    fn make_up_day_must_be_a_weekend() {
        let err = CalendarYear::from_lists(
            2026,
            &[],
            &[NamedDay {
                date: date(2026, 1, 5),
                name: "x".into(),
            }],
        )
        .unwrap_err();
        assert_eq!(err.0, "working_day");
    }

    #[test]
    fn working_hours_reject_overlap() {
        let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        assert!(WorkingHours::new(vec![
            Session {
                start: t(8),
                end: t(12)
            },
            Session {
                start: t(11),
                end: t(17)
            },
        ])
        .is_err());
        assert_eq!(WorkingHours::standard().minutes_per_day(), 480);
    }
}
