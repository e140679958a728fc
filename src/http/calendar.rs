//! The working calendar and the deadline engine over HTTP.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::openapi::ErrorBody;
use super::{rfc3339, AppData};
use crate::core::calendar::{parse_hhmm, DayKind, MAX_YEAR, MIN_YEAR};
use crate::core::deadline::{DeadlineError, PeriodUnit, StatutoryTime};

/// This module's part of the API description.
#[derive(utoipa::OpenApi)]
#[openapi(paths(due, year))]
pub(super) struct Doc;

/// A due moment computed by the deadline engine.
#[derive(Serialize, ToSchema)]
pub struct DueAnswer {
    /// When the period ends: the moment the result is due (hẹn trả), in the configured
    /// zone.
    #[schema(format = DateTime)]
    pub due_at: String,
    /// The start, as given, in the configured zone.
    #[schema(format = DateTime)]
    pub from: String,
    /// The period's amount (0 for `same_day`).
    pub amount: u32,
    /// The period's unit: `working_days`, `working_hours`, `same_day` or `calendar_days`.
    #[schema(value_type = String)]
    pub unit: PeriodUnit,
    /// The period in words, as printed on a receipt, e.g. `5 ngày làm việc`.
    pub statutory_time: String,
}

/// A named day of the calendar.
#[derive(Serialize, ToSchema)]
pub struct NamedDay {
    #[schema(format = Date)]
    pub date: String,
    /// Its name, e.g. `Tết Nguyên đán` or `Làm bù ngày 02/01`.
    pub name: String,
}

/// A day without work.
#[derive(Serialize, ToSchema)]
pub struct RestDay {
    #[schema(format = Date)]
    pub date: String,
    /// `holiday` (ngày lễ, Tết, or a day off in lieu) or `weekend`.
    pub kind: String,
    /// The holiday's name; `null` for a weekend day.
    pub name: Option<String>,
}

/// A year of the working calendar.
#[derive(Serialize, ToSchema)]
pub struct CalendarYearAnswer {
    pub year: i32,
    /// `true` when the year comes from a calendar file (`config/calendar/<year>.toml`, the
    /// Prime Minister's decision for the year), `false` when it was derived from the
    /// Labour Code's holidays alone (no swapped days, no longer Tết): deadlines over it
    /// are provisional.
    pub configured: bool,
    /// The working sessions of a working day, `HH:MM-HH:MM`, e.g. `["07:30-11:30",
    /// "13:30-17:00"]`.
    pub working_hours: Vec<String>,
    /// The holidays and days off (ngày nghỉ lễ, Tết) as configured, by date.
    pub holidays: Vec<NamedDay>,
    /// Weekend days that are worked (ngày làm bù), by date.
    pub working_days: Vec<NamedDay>,
    /// Every day of the year without work: weekends not worked and holidays, by date.
    pub rest_days: Vec<RestDay>,
}

/// Parses an RFC 3339 moment; a `+` turned into a space by URL decoding is forgiven.
pub fn parse_moment(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s.trim())
        .or_else(|_| DateTime::parse_from_rfc3339(&s.trim().replace(' ', "+")))
        .ok()
}

/// Compute a due moment
///
/// The moment a statutory time (thời hạn giải quyết) started at `from` ends, by the
/// deadline engine in Vietnamese working time (NĐ 118/2025 Art. 17–20): working days and
/// hours skip weekends and holidays, count make-up working days, and a dossier received
/// after the last session starts on the next working day; `same_day` is due at the end of
/// the day when received before `cutoff`. The same engine the receipts use. Public, reads
/// nothing but the calendar, stores nothing.
#[utoipa::path(
    get,
    path = "/api/v1/calendar/due",
    operation_id = "calendar_due",
    tag = "calendar",
    params(
        ("from" = String, Query, format = DateTime, description = "The start (e.g. the moment of receipt), RFC 3339, e.g. `2026-03-02T09:30:00+07:00` (a `+` decoded to a space is forgiven)."),
        ("amount" = Option<u32>, Query, description = "The period's amount: 1 to 3650 `working_days` or `calendar_days`, 1 to 20000 `working_hours`; omitted or `0` for `same_day`."),
        ("unit" = String, Query, description = "The period's unit: `working_days`, `working_hours`, `same_day` or `calendar_days`."),
        ("cutoff" = Option<String>, Query, description = "For `same_day` only, and required there: the last moment of receipt for a same-day answer, `HH:MM`."),
    ),
    responses(
        (status = 200, description = "The due moment.", body = DueAnswer),
        (status = 400, description = "`missing_from`, `invalid_from`: no or an unreadable `from`; `missing_unit`, `invalid_unit`: no or an unknown `unit`; `missing_amount`, `invalid_amount`: no amount, not a whole number, or out of the unit's range; `invalid_cutoff`: a cut-off not `HH:MM`, missing for `same_day` or given for another unit; `out_of_range`: the period ends beyond the years the calendar answers for.", body = ErrorBody),
    ),
)]
pub async fn due(app: AppData, q: web::Query<HashMap<String, String>>) -> ApiResult<HttpResponse> {
    let from = q.get("from").ok_or_else(|| {
        ApiError::bad_request(
            "missing_from",
            "Thiếu tham số from (thời điểm tiếp nhận, RFC 3339)",
        )
    })?;
    let from = parse_moment(from).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_from",
            "Tham số from phải là thời điểm RFC 3339, ví dụ 2026-03-02T09:30:00+07:00",
        )
    })?;
    let unit: PeriodUnit = q
        .get("unit")
        .ok_or_else(|| ApiError::bad_request("missing_unit", "Thiếu tham số unit"))?
        .parse()
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_unit",
                "Tham số unit phải là working_days, working_hours, same_day hoặc calendar_days",
            )
        })?;
    let amount: u32 = match q.get("amount") {
        Some(a) => a.trim().parse().map_err(|_| {
            ApiError::bad_request(
                "invalid_amount",
                "Tham số amount phải là số nguyên không âm",
            )
        })?,
        None if unit == PeriodUnit::SameDay => 0,
        None => {
            return Err(ApiError::bad_request(
                "missing_amount",
                "Thiếu tham số amount",
            ))
        }
    };
    let cutoff = match q.get("cutoff") {
        Some(c) => {
            Some(parse_hhmm(c.trim()).map_err(|m| ApiError::bad_request("invalid_cutoff", m))?)
        }
        None => None,
    };
    let time = StatutoryTime::new(amount, unit, cutoff).map_err(|e| match e {
        DeadlineError::InvalidCutoff(m) => ApiError::bad_request("invalid_cutoff", m),
        other => ApiError::bad_request("invalid_amount", other.to_string()),
    })?;
    let due = app.due_at(from, &time).map_err(|e| match e {
        DeadlineError::OutOfRange => ApiError::bad_request("out_of_range", e.to_string()),
        other => ApiError::bad_request("invalid_amount", other.to_string()),
    })?;
    let offset = app.settings.offset;
    Ok(HttpResponse::Ok().json(DueAnswer {
        due_at: rfc3339(due, offset),
        from: rfc3339(from, offset),
        amount,
        unit,
        statutory_time: time.to_string(),
    }))
}

/// A year's working calendar
///
/// The year's working hours, its holidays and make-up working days (ngày làm bù), every
/// rest day (weekends not worked and holidays), and whether the year comes from a
/// calendar file or was derived. Public.
#[utoipa::path(
    get,
    path = "/api/v1/calendar/{year}",
    operation_id = "calendar_year",
    tag = "calendar",
    params(("year" = i32, Path, description = "The year, 1900 to 2199.")),
    responses(
        (status = 200, description = "The year's calendar.", body = CalendarYearAnswer),
        (status = 400, description = "`invalid_year`: not a number, or outside 1900–2199.", body = ErrorBody),
    ),
)]
pub async fn year(app: AppData, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let year: i32 = path
        .trim()
        .parse()
        .map_err(|_| ApiError::bad_request("invalid_year", "Năm phải là số, ví dụ 2026"))?;
    let Some(cal) = app
        .calendar
        .year(year)
        .filter(|_| (MIN_YEAR..=MAX_YEAR).contains(&year))
    else {
        return Err(ApiError::bad_request(
            "invalid_year",
            format!("Năm phải nằm trong khoảng {MIN_YEAR}–{MAX_YEAR}"),
        ));
    };
    let rest: Vec<_> = app
        .calendar
        .rest_days(year)
        .into_iter()
        .map(|(date, kind, name)| RestDay {
            date: date.to_string(),
            kind: match kind {
                DayKind::Holiday => "holiday",
                _ => "weekend",
            }
            .into(),
            name,
        })
        .collect();
    let named = |(d, n): (&chrono::NaiveDate, &String)| NamedDay {
        date: d.to_string(),
        name: n.clone(),
    };
    let working: Vec<_> = cal.working_days.iter().map(named).collect();
    let holidays: Vec<_> = cal.holidays.iter().map(named).collect();
    let hours: Vec<_> = app
        .calendar
        .hours()
        .sessions()
        .iter()
        .map(|s| format!("{}-{}", s.start.format("%H:%M"), s.end.format("%H:%M")))
        .collect();
    Ok(HttpResponse::Ok().json(CalendarYearAnswer {
        year,
        configured: cal.configured,
        working_hours: hours,
        holidays,
        working_days: working,
        rest_days: rest,
    }))
}
