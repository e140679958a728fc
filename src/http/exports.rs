//! Report exports: the tracking book (XLSX), the indicator tables (XLSX, CSV, PDF) and
//! the raw, de-identified facts behind the indicators (CSV).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;

use super::auth::Authenticated;
use super::error::{ApiError, ApiResult};
use super::{blocking, AppData};
use crate::core::indicators::GroupBy;
use crate::service::exports::BookQuery;
use crate::service::reports::IndicatorQuery;

pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub(crate) const CSV: &str = "text/csv; charset=utf-8";
pub(crate) const PDF: &str = "application/pdf";

/// A required local date `YYYY-MM-DD`; `invalid_period` otherwise.
fn date(q: &HashMap<String, String>, key: &'static str) -> ApiResult<NaiveDate> {
    let v = q.get(key).map(|s| s.trim()).unwrap_or_default();
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(
            "invalid_period",
            format!("{key} phải là ngày dạng YYYY-MM-DD"),
        )
    })
}

fn agency(q: &HashMap<String, String>) -> Option<String> {
    q.get("agency")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The parameters of `/api/v1/reports/indicators` and its exports: `agency` (default:
/// the caller's), `from`, `to` (`YYYY-MM-DD`, local, both included), `descendants`
/// (`true` by default), `group_by` (`agency`, `procedure`, `month`, `level`; default
/// the total only) and `source` (`rollup`, the default, or `recompute`: as the JSON
/// report).
pub fn parse_indicator_query(q: &HashMap<String, String>) -> ApiResult<IndicatorQuery> {
    let group_by =
        GroupBy::parse(q.get("group_by").map(|s| s.trim()).unwrap_or("")).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_group_by",
                "group_by là agency, procedure, month hoặc level",
            )
        })?;
    let descendants = match q.get("descendants").map(|s| s.trim()) {
        None | Some("") | Some("true") => true,
        Some("false") => false,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_descendants",
                "descendants là true hoặc false",
            ))
        }
    };
    let recompute = match q.get("source").map(|s| s.trim()) {
        None | Some("") | Some("rollup") => false,
        Some("recompute") => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_source",
                "source là rollup (mặc định) hoặc recompute",
            ))
        }
    };
    Ok(IndicatorQuery {
        agency: agency(q),
        from: date(q, "from")?,
        to: date(q, "to")?,
        descendants,
        group_by,
        recompute,
    })
}

/// A file download; never cached by shared caches.
pub(crate) fn download(bytes: Vec<u8>, content_type: &str, filename: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(bytes)
}

fn stem(q: &IndicatorQuery, agency: &str) -> String {
    format!("chi-so-{agency}-{}-{}", q.from, q.to)
}

/// `GET /api/v1/reports/tracking-book.xlsx?agency=&from=&to=`: the tracking book
/// (*Sổ theo dõi hồ sơ*) of a receiving agency; staff of its scope only, audited.
pub async fn tracking_book(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let query = BookQuery {
        agency: agency(&q),
        from: date(&q, "from")?,
        to: date(&q, "to")?,
    };
    let a = app.get_ref().clone();
    let (book, bytes) =
        blocking(move || a.tracking_book_xlsx(&who.0, &query, a.clock.now())).await?;
    Ok(download(
        bytes,
        XLSX,
        &format!(
            "so-theo-doi-ho-so-{}-{}-{}.xlsx",
            book.agency, book.from, book.to
        ),
    ))
}

/// `GET /api/v1/reports/indicators.xlsx` (parameters as `/reports/indicators`).
pub async fn indicators_xlsx(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let query = parse_indicator_query(&q)?;
    let name = stem(&query, query.agency.as_deref().unwrap_or(&who.0.agency));
    let a = app.get_ref().clone();
    let bytes = blocking(move || a.indicators_xlsx(&who.0, &query, a.clock.now())).await?;
    Ok(download(bytes, XLSX, &format!("{name}.xlsx")))
}

/// `GET /api/v1/reports/indicators.csv` (parameters as `/reports/indicators`).
pub async fn indicators_csv(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let query = parse_indicator_query(&q)?;
    let name = stem(&query, query.agency.as_deref().unwrap_or(&who.0.agency));
    let a = app.get_ref().clone();
    let bytes = blocking(move || a.indicators_csv(&who.0, &query, a.clock.now())).await?;
    Ok(download(bytes, CSV, &format!("{name}.csv")))
}

/// `GET /api/v1/reports/indicators.pdf` (parameters as `/reports/indicators`).
pub async fn indicators_pdf(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let query = parse_indicator_query(&q)?;
    let name = stem(&query, query.agency.as_deref().unwrap_or(&who.0.agency));
    let a = app.get_ref().clone();
    let bytes = blocking(move || a.indicators_pdf(&who.0, &query, a.clock.now())).await?;
    Ok(download(bytes, PDF, &format!("{name}.pdf")))
}

/// `GET /api/v1/reports/raw/dossiers.csv?from=&to=`: the dossiers the indicators of the
/// caller's scope count, without personal data.
pub async fn raw_dossiers(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let (from, to) = (date(&q, "from")?, date(&q, "to")?);
    let a = app.get_ref().clone();
    let bytes = blocking(move || a.raw_dossiers_csv(&who.0, from, to)).await?;
    Ok(download(bytes, CSV, &format!("dossiers-{from}-{to}.csv")))
}

/// `GET /api/v1/reports/raw/handovers.csv?from=&to=`: the hand-overs given by agencies
/// of the caller's scope.
pub async fn raw_handovers(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let (from, to) = (date(&q, "from")?, date(&q, "to")?);
    let a = app.get_ref().clone();
    let bytes = blocking(move || a.raw_handovers_csv(&who.0, from, to)).await?;
    Ok(download(bytes, CSV, &format!("handovers-{from}-{to}.csv")))
}

/// `GET /api/v1/reports/raw/deadline_acts.csv?from=&to=`: the acts with a time limit
/// (supplement requests, online submissions and the desk's answers) of agencies of the
/// caller's scope.
pub async fn raw_acts(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let (from, to) = (date(&q, "from")?, date(&q, "to")?);
    let a = app.get_ref().clone();
    let bytes = blocking(move || a.raw_acts_csv(&who.0, from, to)).await?;
    Ok(download(
        bytes,
        CSV,
        &format!("deadline-acts-{from}-{to}.csv"),
    ))
}
