//! Vietnamese lunar calendar (âm lịch), computed astronomically.
//!
//! This module converts between Gregorian dates and dates of the Vietnamese
//! lunisolar calendar. It is used as a fallback to derive the lunar public
//! holidays (Tết Nguyên Đán, Giỗ Tổ Hùng Vương, ...) for years for which no
//! explicit holiday list has been configured.
//!
//! # Algorithm
//!
//! The implementation follows the well-known algorithm published by
//! Hồ Ngọc Đức ("Âm lịch Việt Nam", <https://www.informatik.uni-leipzig.de/~duc/amlich/>),
//! which is itself based on the astronomical series of Jean Meeus,
//! *Astronomical Algorithms* (1998):
//!
//! * days are counted as Julian day numbers (JDN);
//! * the instant of the `k`-th new moon after 1900-01-01 is computed with a
//!   truncated Meeus series (plus a ΔT correction); the day containing it is
//!   the first day of a lunar month;
//! * the apparent longitude of the sun is computed with a low-precision series
//!   to find the major solar terms (trung khí);
//! * month 11 is the month containing the winter solstice;
//! * if there are 13 lunar months between two consecutive 11th months, the
//!   first month after the 11th month that contains no major solar term is the
//!   leap month (tháng nhuận) and carries the number of the month before it.
//!
//! # Time zone
//!
//! All computations use the meridian 105° E, i.e. **UTC+7**, the legal time of
//! Vietnam. This matters: because the calendar depends on *which day* a new
//! moon or solar term falls on, the Vietnamese calendar occasionally differs
//! from the Chinese calendar, which is computed for UTC+8. For example (the
//! Chinese dates below are what this same algorithm gives at UTC+8, and agree
//! with the published Chinese calendar):
//!
//! * Tết 1985: 21 January 1985 in Vietnam, 20 February 1985 in China (the
//!   11th month, and hence the whole year, is shifted by a month);
//! * Tết 2007: 17 February 2007 in Vietnam, 18 February 2007 in China;
//! * Tết 2030: 2 February 2030 in Vietnam, 3 February 2030 in China;
//! * Tết 2053: 18 February 2053 in Vietnam, 19 February 2053 in China.
//!
//! North Vietnam adopted the UTC+7 lunar calendar in August 1967 (South
//! Vietnam in 1975); before that the UTC+8 based calendar was used. This
//! module, like Hồ Ngọc Đức's tables, applies UTC+7 uniformly to all years, so
//! for earlier years it gives the calendar "as computed for Vietnam", not
//! necessarily the one printed at the time.
//!
//! # Supported range
//!
//! Results are intended to be exact for Gregorian years **1900 to 2199**
//! (inclusive), the range covered by the published tables. Outside that range
//! the astronomical series slowly lose precision and results may be off by a
//! day or a month; the functions never panic, however, for any input (years
//! outside the range representable by [`NaiveDate`] are clamped or yield
//! `None`). Gregorian dates are proleptic Gregorian, as in `chrono`.

use chrono::{Datelike, NaiveDate};
use std::f64::consts::PI;

/// A date of the Vietnamese lunar calendar.
///
/// `year` is the lunar year, numbered like the Gregorian year in which it
/// (mostly) falls: the lunar year 2024 runs from Tết on 2024-02-10 to
/// 2025-01-28. `month` is 1..=12 and `day` is 1..=30. `leap` is `true` for the
/// days of a leap month (tháng nhuận), which repeats the number of the month
/// preceding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LunarDate {
    /// Lunar year.
    pub year: i32,
    /// Lunar month, 1..=12.
    pub month: u32,
    /// Day of the lunar month, 1..=30.
    pub day: u32,
    /// Whether the month is a leap month (tháng nhuận).
    pub leap: bool,
}

/// First Gregorian year for which results are meant to be exact.
pub const SUPPORTED_MIN_YEAR: i32 = 1900;
/// Last Gregorian year for which results are meant to be exact.
pub const SUPPORTED_MAX_YEAR: i32 = 2199;

/// Time zone of Vietnam, in hours east of UTC.
const VIETNAM_TZ: f64 = 7.0;

/// Julian day number of 0001-01-01 minus one: `JDN = num_days_from_ce + this`.
const JDN_CE_OFFSET: i64 = 1_721_425;

/// Mean length of a synodic month, in days.
const SYNODIC_MONTH: f64 = 29.530_588_853;

/// Julian date (UTC) of the mean new moon `k = 0` (around 1900-01-01).
const NEW_MOON_EPOCH: f64 = 2_415_021.076_998_695;

/// Lunar years are limited to `-CLAMP_YEAR..=CLAMP_YEAR`, which keeps every
/// result a valid `NaiveDate` (chrono supports roughly ±262 000 years) and all
/// intermediate integer arithmetic far from overflow.
const CLAMP_YEAR: i32 = 262_000;

// ---------------------------------------------------------------------------
// Julian day numbers
// ---------------------------------------------------------------------------

/// Julian day number of a proleptic Gregorian date given as plain integers.
fn jdn_from_ymd(year: i64, month: i64, day: i64) -> i64 {
    let a = (14 - month).div_euclid(12);
    let y = year + 4800 - a;
    let m = month + 12 * a - 3;
    day + (153 * m + 2).div_euclid(5) + 365 * y + y.div_euclid(4) - y.div_euclid(100)
        + y.div_euclid(400)
        - 32_045
}

/// Julian day number of a `NaiveDate`.
fn jdn_from_date(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) + JDN_CE_OFFSET
}

/// `NaiveDate` of a Julian day number, if representable.
fn date_from_jdn(jdn: i64) -> Option<NaiveDate> {
    jdn.checked_sub(JDN_CE_OFFSET)
        .and_then(|days| i32::try_from(days).ok())
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

// ---------------------------------------------------------------------------
// Astronomy
// ---------------------------------------------------------------------------

/// Julian date (UTC, fractional) of the `k`-th new moon after the epoch
/// (Meeus, truncated series, with a ΔT correction).
fn new_moon(k: i64) -> f64 {
    let k = k as f64;
    let t = k / 1236.85; // Julian centuries since 1900-01-01 12:00
    let t2 = t * t;
    let t3 = t2 * t;
    let dr = PI / 180.0;
    let mut jd1 = 2_415_020.759_33 + 29.530_588_68 * k + 0.000_117_8 * t2 - 0.000_000_155 * t3;
    jd1 += 0.000_33 * ((166.56 + 132.87 * t - 0.009_173 * t2) * dr).sin();
    // Sun's mean anomaly.
    let m = 359.2242 + 29.105_356_08 * k - 0.000_033_3 * t2 - 0.000_003_47 * t3;
    // Moon's mean anomaly.
    let mpr = 306.0253 + 385.816_918_06 * k + 0.010_730_6 * t2 + 0.000_012_36 * t3;
    // Moon's argument of latitude.
    let f = 21.2964 + 390.670_506_46 * k - 0.001_652_8 * t2 - 0.000_002_39 * t3;
    let mut c1 = (0.1734 - 0.000_393 * t) * (m * dr).sin() + 0.0021 * (2.0 * dr * m).sin();
    c1 = c1 - 0.4068 * (mpr * dr).sin() + 0.0161 * (dr * 2.0 * mpr).sin();
    c1 -= 0.0004 * (dr * 3.0 * mpr).sin();
    c1 = c1 + 0.0104 * (dr * 2.0 * f).sin() - 0.0051 * (dr * (m + mpr)).sin();
    c1 = c1 - 0.0074 * (dr * (m - mpr)).sin() + 0.0004 * (dr * (2.0 * f + m)).sin();
    c1 = c1 - 0.0004 * (dr * (2.0 * f - m)).sin() - 0.0006 * (dr * (2.0 * f + mpr)).sin();
    c1 = c1 + 0.0010 * (dr * (2.0 * f - mpr)).sin() + 0.0005 * (dr * (2.0 * mpr + m)).sin();
    let delta_t = if t < -11.0 {
        0.001 + 0.000_839 * t + 0.000_226_1 * t2 - 0.000_008_45 * t3 - 0.000_000_081 * t * t3
    } else {
        -0.000_278 + 0.000_265 * t + 0.000_262 * t2
    };
    jd1 + c1 - delta_t
}

/// Julian day number of the local day (time zone `tz`, hours) containing the
/// `k`-th new moon: the first day of a lunar month.
fn new_moon_day(k: i64, tz: f64) -> i64 {
    (new_moon(k) + 0.5 + tz / 24.0).floor() as i64
}

/// Apparent longitude of the sun, in radians in `[0, 2π)`, at Julian date
/// `jd` (UTC, fractional), low-precision series (Meeus ch. 25).
fn sun_longitude(jd: f64) -> f64 {
    let t = (jd - 2_451_545.0) / 36_525.0; // Julian centuries since J2000.0
    let t2 = t * t;
    let dr = PI / 180.0;
    let m = 357.529_10 + 35_999.050_30 * t - 0.000_155_9 * t2 - 0.000_000_48 * t * t2;
    let l0 = 280.466_45 + 36_000.769_83 * t + 0.000_303_2 * t2;
    let dl = (1.914_600 - 0.004_817 * t - 0.000_014 * t2) * (dr * m).sin()
        + (0.019_993 - 0.000_101 * t) * (dr * 2.0 * m).sin()
        + 0.000_290 * (dr * 3.0 * m).sin();
    ((l0 + dl) * dr).rem_euclid(2.0 * PI)
}

/// Index 0..=11 of the 30° sector the sun is in at the start of the local day
/// `jdn` (time zone `tz`). Sector 9 starts at the winter solstice (270°);
/// a month contains a major solar term iff this index changes during it.
fn sun_sector(jdn: i64, tz: f64) -> i64 {
    let lon = sun_longitude(jdn as f64 - 0.5 - tz / 24.0);
    ((lon / PI * 6.0).floor() as i64).rem_euclid(12)
}

/// Index `k` of the new moon nearest to the local day `jdn`.
fn nearest_lunation(jdn: i64) -> i64 {
    ((jdn as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH + 0.5).floor() as i64
}

/// Julian day number of the first day of the 11th lunar month (the month
/// containing the winter solstice) of Gregorian year `year`.
fn lunar_month_11(year: i64, tz: f64) -> i64 {
    let off = jdn_from_ymd(year, 12, 31) - 2_415_021;
    let k = (off as f64 / SYNODIC_MONTH).floor() as i64;
    let nm = new_moon_day(k, tz);
    if sun_sector(nm, tz) >= 9 {
        new_moon_day(k - 1, tz)
    } else {
        nm
    }
}

/// In a 13-month period starting with the 11th month beginning on day `a11`,
/// the offset (1..=12, counted in months from `a11`) of the leap month: the
/// first month without a major solar term.
fn leap_month_offset(a11: i64, tz: f64) -> i64 {
    let k = nearest_lunation(a11);
    let mut i = 1;
    let mut arc = sun_sector(new_moon_day(k + i, tz), tz);
    loop {
        let last = arc;
        i += 1;
        arc = sun_sector(new_moon_day(k + i, tz), tz);
        if arc == last || i >= 14 {
            break;
        }
    }
    i - 1
}

/// Saturating conversion to `u32` (only reached with in-range values for
/// supported years; keeps far-out-of-range inputs panic-free).
fn to_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

/// Saturating conversion to `i32`.
fn to_i32(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
}

// ---------------------------------------------------------------------------
// Conversions (time-zone generic)
// ---------------------------------------------------------------------------

fn solar_to_lunar_tz(date: NaiveDate, tz: f64) -> LunarDate {
    let day_number = jdn_from_date(date);
    let yy = i64::from(date.year());
    // Find the last new moon day not after `day_number`. The original
    // algorithm only tries lunations k+1 and k, which is not enough when the
    // true new moon is far from the mean one (e.g. 2054-05-07, 2062-04-09);
    // the loops below are bounded so that absurd inputs cannot hang.
    let mut k = nearest_lunation(day_number);
    let mut month_start = new_moon_day(k, tz);
    for _ in 0..4 {
        if month_start <= day_number {
            break;
        }
        k -= 1;
        month_start = new_moon_day(k, tz);
    }
    for _ in 0..4 {
        let next = new_moon_day(k + 1, tz);
        if next > day_number {
            break;
        }
        k += 1;
        month_start = next;
    }
    let mut a11 = lunar_month_11(yy, tz);
    let b11;
    let mut lunar_year;
    if a11 >= month_start {
        lunar_year = yy;
        b11 = a11;
        a11 = lunar_month_11(yy - 1, tz);
    } else {
        lunar_year = yy + 1;
        b11 = lunar_month_11(yy + 1, tz);
    }
    let lunar_day = day_number - month_start + 1;
    // Months elapsed since the 11th month (a month is never shorter than 29 days).
    let diff = (month_start - a11).div_euclid(29);
    let mut leap = false;
    let mut lunar_month = diff + 11;
    if b11 - a11 > 365 {
        let leap_diff = leap_month_offset(a11, tz);
        if diff >= leap_diff {
            lunar_month = diff + 10;
            leap = diff == leap_diff;
        }
    }
    if lunar_month > 12 {
        lunar_month -= 12;
    }
    if lunar_month >= 11 && diff < 4 {
        lunar_year -= 1;
    }
    LunarDate {
        year: to_i32(lunar_year),
        month: to_u32((lunar_month - 1).rem_euclid(12) + 1),
        // Always 1..=30 for supported years; clamped so that far-out-of-range
        // (approximate) results still respect the documented field ranges.
        day: to_u32(lunar_day.clamp(1, 30)),
        leap,
    }
}

/// Julian day numbers of the first day of the given lunar month and of the
/// month after it, or `None` if that month does not exist.
fn lunar_month_bounds_tz(year: i32, month: u32, leap: bool, tz: f64) -> Option<(i64, i64)> {
    if !(1..=12).contains(&month) || !(-CLAMP_YEAR..=CLAMP_YEAR).contains(&year) {
        return None;
    }
    let year = i64::from(year);
    let month = i64::from(month);
    let (a11, b11) = if month < 11 {
        (lunar_month_11(year - 1, tz), lunar_month_11(year, tz))
    } else {
        (lunar_month_11(year, tz), lunar_month_11(year + 1, tz))
    };
    let k = nearest_lunation(a11);
    let mut off = (month - 11).rem_euclid(12);
    if b11 - a11 > 365 {
        let leap_off = leap_month_offset(a11, tz);
        // The leap month repeats the month at offset `leap_off - 1` from the
        // 11th month. (The original code computes `leap_off - 2`, which gives
        // 0 instead of 12 for a leap 12th month; none occurs in 1900..=2199.)
        let leap_month = (leap_off + 9).rem_euclid(12) + 1;
        if leap && month != leap_month {
            return None;
        }
        if leap || off >= leap_off {
            off += 1;
        }
    } else if leap {
        return None;
    }
    let start = new_moon_day(k + off, tz);
    let end = new_moon_day(k + off + 1, tz);
    Some((start, end))
}

fn lunar_to_solar_tz(year: i32, month: u32, day: u32, leap: bool, tz: f64) -> Option<NaiveDate> {
    if !(1..=30).contains(&day) {
        return None;
    }
    let (start, end) = lunar_month_bounds_tz(year, month, leap, tz)?;
    let jdn = start + i64::from(day) - 1;
    if jdn >= end {
        return None;
    }
    date_from_jdn(jdn)
}

fn lunar_new_year_tz(year: i32, tz: f64) -> NaiveDate {
    let year = year.clamp(-CLAMP_YEAR, CLAMP_YEAR);
    lunar_to_solar_tz(year, 1, 1, false, tz)
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 1))
        .unwrap_or(NaiveDate::MIN)
}

// ---------------------------------------------------------------------------
// Public API (Vietnam, UTC+7)
// ---------------------------------------------------------------------------

/// Gregorian date → lunar date (Vietnamese calendar, UTC+7).
///
/// Exact for Gregorian years 1900..=2199; approximate but panic-free outside.
pub fn solar_to_lunar(date: NaiveDate) -> LunarDate {
    solar_to_lunar_tz(date, VIETNAM_TZ)
}

/// Lunar date → Gregorian date (Vietnamese calendar, UTC+7).
///
/// Returns `None` if that lunar date does not exist: month outside 1..=12,
/// day outside 1..=30, day 30 of a 29-day month, or `leap == true` for a month
/// that is not the leap month of that lunar year. Also `None` if the result is
/// not representable as a [`NaiveDate`] (|year| > 262 000).
pub fn lunar_to_solar(year: i32, month: u32, day: u32, leap: bool) -> Option<NaiveDate> {
    lunar_to_solar_tz(year, month, day, leap, VIETNAM_TZ)
}

/// First day of the lunar year (Tết Nguyên Đán, mùng 1 tháng Giêng) falling in
/// Gregorian `year` (always between 21 January and 20 February for supported
/// years).
///
/// Years beyond chrono's representable range are clamped.
pub fn lunar_new_year(year: i32) -> NaiveDate {
    lunar_new_year_tz(year, VIETNAM_TZ)
}

/// Last day of the lunar year that ends just before [`lunar_new_year`]`(year)`:
/// the 29th or 30th day of the 12th month ("giao thừa" day, Tất niên).
pub fn lunar_new_years_eve(year: i32) -> NaiveDate {
    let tet = lunar_new_year(year);
    tet.pred_opt().unwrap_or(tet)
}

/// Number of days (29 or 30) of the given lunar month, or `None` if that month
/// does not exist (month outside 1..=12, or a leap month the year lacks).
pub fn lunar_month_length(year: i32, month: u32, leap: bool) -> Option<u32> {
    lunar_month_bounds_tz(year, month, leap, VIETNAM_TZ).map(|(start, end)| to_u32(end - start))
}

/// The leap month (tháng nhuận) of lunar year `year`, if it has one: the
/// number of the month it repeats (e.g. `Some(6)` for 2025, whose leap month
/// follows the 6th month).
pub fn leap_month(year: i32) -> Option<u32> {
    (1..=12).find(|&m| lunar_month_bounds_tz(year, m, true, VIETNAM_TZ).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    /// Tết Nguyên Đán in Vietnam (UTC+7), 2000..=2035.
    const TET: &[(i32, u32, u32)] = &[
        (2000, 2, 5),
        (2001, 1, 24),
        (2002, 2, 12),
        (2003, 2, 1),
        (2004, 1, 22),
        (2005, 2, 9),
        (2006, 1, 29),
        (2007, 2, 17), // China (UTC+8): 2007-02-18
        (2008, 2, 7),
        (2009, 1, 26),
        (2010, 2, 14),
        (2011, 2, 3),
        (2012, 1, 23),
        (2013, 2, 10),
        (2014, 1, 31),
        (2015, 2, 19),
        (2016, 2, 8),
        (2017, 1, 28),
        (2018, 2, 16),
        (2019, 2, 5),
        (2020, 1, 25),
        (2021, 2, 12),
        (2022, 2, 1),
        (2023, 1, 22),
        (2024, 2, 10),
        (2025, 1, 29),
        (2026, 2, 17),
        (2027, 2, 6),
        (2028, 1, 26),
        (2029, 2, 13),
        (2030, 2, 2), // China (UTC+8): 2030-02-03
        (2031, 1, 23),
        (2032, 2, 11),
        (2033, 1, 31),
        (2034, 2, 19),
        (2035, 2, 8),
    ];

    #[test]
    fn tet_2000_to_2035() {
        assert_eq!(TET.len(), 36);
        for &(y, m, day) in TET {
            assert_eq!(lunar_new_year(y), d(y, m, day), "Tết {y}");
            assert_eq!(
                solar_to_lunar(d(y, m, day)),
                LunarDate {
                    year: y,
                    month: 1,
                    day: 1,
                    leap: false
                },
                "Tết {y} backwards"
            );
        }
    }

    #[test]
    fn hung_kings_day() {
        for &(y, m, day) in &[(2024, 4, 18), (2025, 4, 7), (2026, 4, 26)] {
            assert_eq!(
                lunar_to_solar(y, 3, 10, false),
                Some(d(y, m, day)),
                "Giỗ Tổ {y}"
            );
            assert_eq!(
                solar_to_lunar(d(y, m, day)),
                LunarDate {
                    year: y,
                    month: 3,
                    day: 10,
                    leap: false
                }
            );
        }
    }

    #[test]
    fn known_conversions() {
        let cases = [
            // (gregorian, lunar year, month, day, leap)
            (d(2024, 2, 9), 2023, 12, 30, false), // giao thừa 2024
            (d(2025, 1, 28), 2024, 12, 29, false), // giao thừa 2025
            (d(2023, 3, 22), 2023, 2, 1, true),   // 1 tháng 2 nhuận Quý Mão
            (d(2025, 7, 25), 2025, 6, 1, true),   // 1 tháng 6 nhuận Ất Tỵ
            (d(2024, 9, 17), 2024, 8, 15, false), // Tết Trung thu 2024
            (d(2000, 1, 1), 1999, 11, 25, false),
        ];
        for (date, y, m, day, leap) in cases {
            let lunar = LunarDate {
                year: y,
                month: m,
                day,
                leap,
            };
            assert_eq!(solar_to_lunar(date), lunar, "{date}");
            assert_eq!(lunar_to_solar(y, m, day, leap), Some(date), "{lunar:?}");
        }
    }

    #[test]
    fn known_leap_months() {
        let cases = [
            (2004, Some(2)),
            (2006, Some(7)),
            (2009, Some(5)),
            (2012, Some(4)),
            (2014, Some(9)),
            (2017, Some(6)),
            (2020, Some(4)),
            (2023, Some(2)),
            (2024, None),
            (2025, Some(6)),
            (2026, None),
            (2028, Some(5)),
            (2031, Some(3)),
            (2033, Some(11)),
        ];
        for (y, leap) in cases {
            assert_eq!(leap_month(y), leap, "leap month of {y}");
        }
    }

    #[test]
    fn round_trip_every_day_1990_to_2100() {
        let mut date = d(1990, 1, 1);
        let end = d(2100, 12, 31);
        let mut previous = solar_to_lunar(date);
        while date <= end {
            let lunar = solar_to_lunar(date);
            assert!((1..=12).contains(&lunar.month) && (1..=30).contains(&lunar.day));
            assert_eq!(
                lunar_to_solar(lunar.year, lunar.month, lunar.day, lunar.leap),
                Some(date),
                "{date} -> {lunar:?}"
            );
            if date > d(1990, 1, 1) {
                // Consecutive days: same month, next day, or first day of a new month.
                assert!(
                    lunar.day == previous.day + 1 || lunar.day == 1,
                    "{date}: {previous:?} -> {lunar:?}"
                );
            }
            previous = lunar;
            date = date.succ_opt().expect("in range");
        }
    }

    #[test]
    fn eve_is_day_before_new_year() {
        for y in SUPPORTED_MIN_YEAR..=SUPPORTED_MAX_YEAR {
            let tet = lunar_new_year(y);
            let eve = lunar_new_years_eve(y);
            assert_eq!(eve.succ_opt(), Some(tet), "{y}");
            assert_eq!(tet.year(), y, "Tết {y} falls in {}", tet.year());
            assert!(tet >= d(y, 1, 21) && tet <= d(y, 2, 20), "Tết {y} = {tet}");
            let lunar_eve = solar_to_lunar(eve);
            assert_eq!(
                (lunar_eve.year, lunar_eve.month, lunar_eve.leap),
                (y - 1, 12, false)
            );
            assert!(
                lunar_eve.day == 29 || lunar_eve.day == 30,
                "{y}: {lunar_eve:?}"
            );
        }
    }

    #[test]
    fn month_lengths_and_months_per_year() {
        for y in SUPPORTED_MIN_YEAR..SUPPORTED_MAX_YEAR {
            let leap = leap_month(y);
            let mut months = 0;
            let mut days = 0;
            for m in 1..=12 {
                let len = lunar_month_length(y, m, false).expect("regular month exists");
                assert!(len == 29 || len == 30, "{y}/{m}: {len}");
                assert_eq!(lunar_to_solar(y, m, 30, false).is_some(), len == 30);
                months += 1;
                days += len;
                if leap == Some(m) {
                    let len = lunar_month_length(y, m, true).expect("leap month exists");
                    assert!(len == 29 || len == 30, "{y}/{m} leap: {len}");
                    months += 1;
                    days += len;
                } else {
                    assert_eq!(lunar_month_length(y, m, true), None, "{y}/{m} leap");
                    assert_eq!(lunar_to_solar(y, m, 1, true), None, "{y}/{m} leap");
                }
            }
            assert!(months == 12 || months == 13, "{y}: {months} months");
            let year_len = (lunar_new_year(y + 1) - lunar_new_year(y)).num_days();
            assert_eq!(i64::from(days), year_len, "{y}");
            let expected = if months == 12 { 353..=355 } else { 383..=385 };
            assert!(
                expected.contains(&year_len),
                "{y}: {months} months, {year_len} days"
            );
        }
    }

    #[test]
    fn nonexistent_dates() {
        assert_eq!(lunar_to_solar(2024, 0, 1, false), None);
        assert_eq!(lunar_to_solar(2024, 13, 1, false), None);
        assert_eq!(lunar_to_solar(2024, 1, 0, false), None);
        assert_eq!(lunar_to_solar(2024, 1, 31, false), None);
        assert_eq!(lunar_to_solar(2024, 6, 1, true), None); // 2024 has no leap month
        assert_eq!(lunar_to_solar(2025, 5, 1, true), None); // 2025 repeats the 6th month
        assert_eq!(lunar_to_solar(2024, 12, 29, false), Some(d(2025, 1, 28)));
        assert_eq!(lunar_to_solar(2024, 12, 30, false), None); // 29-day month
    }

    #[test]
    fn vietnam_differs_from_china() {
        // Computed at UTC+8 the same algorithm gives the Chinese calendar.
        assert_eq!(lunar_new_year(1985), d(1985, 1, 21));
        assert_eq!(lunar_new_year_tz(1985, 8.0), d(1985, 2, 20));
        assert_eq!(lunar_new_year(2007), d(2007, 2, 17));
        assert_eq!(lunar_new_year_tz(2007, 8.0), d(2007, 2, 18));
        assert_eq!(lunar_new_year(2030), d(2030, 2, 2));
        assert_eq!(lunar_new_year_tz(2030, 8.0), d(2030, 2, 3));
        assert_eq!(lunar_new_year(2053), d(2053, 2, 18));
        assert_eq!(lunar_new_year_tz(2053, 8.0), d(2053, 2, 19));
        // 1968: Tết in North Vietnam (new UTC+7 calendar) was 29 January,
        // in South Vietnam and China (UTC+8) 30 January.
        assert_eq!(lunar_new_year(1968), d(1968, 1, 29));
        assert_eq!(lunar_new_year_tz(1968, 8.0), d(1968, 1, 30));
        // Same years in both: most of them.
        for &(y, _, _) in TET {
            if y != 2007 && y != 2030 {
                assert_eq!(lunar_new_year(y), lunar_new_year_tz(y, 8.0), "{y}");
            }
        }
    }

    #[test]
    fn no_panic_far_out_of_range() {
        for y in [
            i32::MIN,
            -300_000,
            -262_144,
            -5000,
            0,
            1,
            1582,
            3000,
            99_999,
            262_143,
            i32::MAX,
        ] {
            let tet = lunar_new_year(y);
            let _ = lunar_new_years_eve(y);
            let _ = solar_to_lunar(tet);
            let _ = leap_month(y);
            for m in [0, 1, 6, 11, 12, 13] {
                let _ = lunar_month_length(y, m, false);
                let _ = lunar_to_solar(y, m, 30, false);
                let _ = lunar_to_solar(y, m, 1, true);
            }
        }
        let _ = solar_to_lunar(NaiveDate::MIN);
        let _ = solar_to_lunar(NaiveDate::MAX);
    }
}
