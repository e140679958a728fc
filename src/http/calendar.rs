//! The working calendar and the deadline engine over HTTP.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use serde_json::json;

use super::error::{ApiError, ApiResult};
use super::{rfc3339, AppData};
use crate::core::calendar::{parse_hhmm, DayKind, MAX_YEAR, MIN_YEAR};
use crate::core::deadline::{DeadlineError, PeriodUnit, StatutoryTime};

/// Parses an RFC 3339 moment; a `+` turned into a space by URL decoding is forgiven.
pub fn parse_moment(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s.trim())
        .or_else(|_| DateTime::parse_from_rfc3339(&s.trim().replace(' ', "+")))
        .ok()
}

/// `GET /api/v1/calendar/due?from=<RFC3339>&amount=N&unit=…[&cutoff=HH:MM]`.
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
    Ok(HttpResponse::Ok().json(json!({
        "due_at": rfc3339(due, offset),
        "from": rfc3339(from, offset),
        "amount": amount,
        "unit": unit,
        "statutory_time": time.to_string(),
    })))
}

/// `GET /api/v1/calendar/{year}`: rest days (weekends and holidays) and make-up working
/// days, and whether the year comes from a file or was derived.
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
        .map(|(date, kind, name)| {
            json!({
                "date": date.to_string(),
                "kind": match kind { DayKind::Holiday => "holiday", _ => "weekend" },
                "name": name,
            })
        })
        .collect();
    let working: Vec<_> = cal
        .working_days
        .iter()
        .map(|(d, n)| json!({ "date": d.to_string(), "name": n }))
        .collect();
    let holidays: Vec<_> = cal
        .holidays
        .iter()
        .map(|(d, n)| json!({ "date": d.to_string(), "name": n }))
        .collect();
    let hours: Vec<_> = app
        .calendar
        .hours()
        .sessions()
        .iter()
        .map(|s| format!("{}-{}", s.start.format("%H:%M"), s.end.format("%H:%M")))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "year": year,
        "configured": cal.configured,
        "working_hours": hours,
        "holidays": holidays,
        "working_days": working,
        "rest_days": rest,
    })))
}
