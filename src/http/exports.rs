//! Report exports: the tracking book (XLSX), the indicator tables (XLSX, CSV, PDF) and
//! the raw, de-identified facts behind the indicators (CSV).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;

use super::auth::Authenticated;
use super::error::{ApiError, ApiResult};
use super::files::BinaryContent;
use super::openapi::ErrorBody;
use super::{blocking, AppData};
use crate::core::indicators::GroupBy;
use crate::service::exports::BookQuery;
use crate::service::reports::IndicatorQuery;

/// This module's part of the API description.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    tracking_book,
    indicators_xlsx,
    indicators_csv,
    indicators_pdf,
    raw_dossiers,
    raw_handovers,
    raw_acts
))]
pub(super) struct Doc;

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

/// The query of the indicators report and of its exports, as [`parse_indicator_query`]
/// reads it: here for the API description (`params(IndicatorParams)`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct IndicatorParams {
    /// The period's first day, `YYYY-MM-DD` (local), required.
    from: chrono::NaiveDate,
    /// The period's last day, included, `YYYY-MM-DD`, required; at least `from`, at most
    /// about ten years (3 660 days) after it.
    to: chrono::NaiveDate,
    /// The report agency's code; default: the caller's agency. It must be in the caller's
    /// scope.
    agency: Option<String>,
    /// `true` (the default) to count the agencies below it too, `false` for the agency
    /// alone.
    descendants: Option<bool>,
    /// `agency`, `procedure`, `month` or `level` (agency level): one row per group before
    /// the total; default (or `total`): the total only.
    group_by: Option<String>,
    /// `rollup` (the default) or `recompute` (count from every dossier, never from the
    /// rollup).
    source: Option<String>,
}

/// The period of the raw exports: `from` and `to`, here for the API description
/// (`params(PeriodParams)`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PeriodParams {
    /// The period's first day, `YYYY-MM-DD` (local), required.
    from: chrono::NaiveDate,
    /// The period's last day, included, `YYYY-MM-DD`, required; at least `from`, at most
    /// about ten years after it.
    to: chrono::NaiveDate,
}

/// The refusal of a period.
pub(super) const PERIOD_400: &str = "`invalid_period`: `from` or `to` missing or not a date, \
`to` before `from`, or more than ten years.";

/// The indicators' refusals of their query (the report and every export of it).
pub(super) const INDICATOR_400: &str = "`invalid_period`: `from` or `to` missing or not a \
date, `to` before `from`, or more than ten years; `invalid_group_by`, `invalid_descendants`, \
`invalid_source`: a value not listed; `invalid_agency`: no such agency.";

/// The indicators' refusal of the caller.
pub(super) const INDICATOR_403: &str =
    "`forbidden`: a portal token, or an agency outside the caller's scope.";

/// The tracking book
///
/// The tracking book (Sổ theo dõi hồ sơ, TT 01/2018 Mẫu 06 / TT 03/2025 Mẫu 07) of a
/// receiving agency over a period, as an Excel workbook: one line per dossier received,
/// with the applicant's name, address and phone, the procedure, the agency deciding, the
/// moments received, promised and returned, and how the result was returned. It carries
/// personal data: staff of every role, for an agency of their scope; each export is
/// recorded in the audit trail.
#[utoipa::path(
    get,
    path = "/api/v1/reports/tracking-book.xlsx",
    tag = "reports",
    params(
        ("from" = chrono::NaiveDate, Query, description = "The period's first day, `YYYY-MM-DD` (local), required."),
        ("to" = chrono::NaiveDate, Query, description = "The period's last day, included, `YYYY-MM-DD`, required; at least `from`, at most about ten years after it."),
        ("agency" = Option<String>, Query, description = "The receiving agency's code; default: the caller's agency. It must be in the caller's scope."),
    ),
    responses(
        (status = 200, description = "The workbook.", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = inline(BinaryContent),
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"so-theo-doi-ho-so-<agency>-<from>-<to>.xlsx\"`."),
                ("Cache-Control" = String, description = "`private, no-store`."),
            )),
        (status = 400, description = "`invalid_period`: `from` or `to` missing or not a date, `to` before `from`, or more than ten years; `invalid_agency`: no such agency.", body = ErrorBody),
        (status = 403, description = INDICATOR_403, body = ErrorBody),
        (status = 500, description = "`internal_error`: the workbook could not be written.", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
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

/// The indicators as a workbook
///
/// The report of `/reports/indicators` (same parameters, same rights: staff, agencies of
/// their scope) as an Excel workbook: Vietnamese headers over the JSON field names, one
/// row per group and the total last; a second sheet with the report's parameters and the
/// definitions of the rates.
#[utoipa::path(
    get,
    path = "/api/v1/reports/indicators.xlsx",
    tag = "reports",
    params(IndicatorParams),
    responses(
        (status = 200, description = "The workbook.", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = inline(BinaryContent),
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"chi-so-<agency>-<from>-<to>.xlsx\"`."),
                ("Cache-Control" = String, description = "`private, no-store`."),
            )),
        (status = 400, description = INDICATOR_400, body = ErrorBody),
        (status = 403, description = INDICATOR_403, body = ErrorBody),
        (status = 500, description = "`internal_error`: the workbook could not be written.", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
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

/// The indicators as CSV
///
/// The report of `/reports/indicators` (same parameters, same rights) as CSV: UTF-8 with
/// a byte order mark, comma-separated, CRLF line ends; the header is `key`, `name`, then
/// the JSON field names of the counts and the rates; one row per group and the total
/// last; `.` as the decimal separator, an empty cell for a rate without a denominator.
#[utoipa::path(
    get,
    path = "/api/v1/reports/indicators.csv",
    tag = "reports",
    params(IndicatorParams),
    responses(
        (status = 200, description = "The table.", content_type = "text/csv; charset=utf-8", body = String,
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"chi-so-<agency>-<from>-<to>.csv\"`."),
                ("Cache-Control" = String, description = "`private, no-store`."),
            )),
        (status = 400, description = INDICATOR_400, body = ErrorBody),
        (status = 403, description = INDICATOR_403, body = ErrorBody),
        (status = 500, description = "`internal_error`: the table could not be written.", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
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

/// The indicators as PDF
///
/// The report of `/reports/indicators` (same parameters, same rights) as a landscape A4
/// table of the main figures (received, online, finished early, on time and late,
/// overdue in progress; the on-time, online, digitisation and satisfaction rates),
/// rendered from form template 08 under the agency's heading.
#[utoipa::path(
    get,
    path = "/api/v1/reports/indicators.pdf",
    tag = "reports",
    params(IndicatorParams),
    responses(
        (status = 200, description = "The document.", content_type = "application/pdf", body = inline(BinaryContent),
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"chi-so-<agency>-<from>-<to>.pdf\"`."),
                ("Cache-Control" = String, description = "`private, no-store`."),
            )),
        (status = 400, description = INDICATOR_400, body = ErrorBody),
        (status = 403, description = INDICATOR_403, body = ErrorBody),
        (status = 500, description = "`internal_error`: the form could not be rendered.", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
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

/// The raw dossiers
///
/// Every dossier the indicators of the caller's scope count over the period — owned
/// (competent agency, else receiving) by an agency of the scope, received before its end
/// and not finished before its start, or rated within it — one line each in order of
/// receipt, without personal data, so that every figure can be recomputed: `code`,
/// `owner_agency`, `owner_level`, `receiving_agency`, `procedure_code`, `channel`,
/// `received_at`, `finished_at`, `status`, `outcome`, `decision`, `due_at`, `late_by_rule`,
/// `supplement_requests`, `digitised`, `reused`, `results`, `results_electronic`,
/// `fee_bearing`, `paid_online`, `rating`, `rated_at`, `handling_minutes`,
/// `yields_document`. UTF-8 with a byte order mark, comma-separated, CRLF line ends, the
/// column names as the header; moments RFC 3339, booleans `true`/`false`, an empty cell for
/// nothing. Staff of every role.
#[utoipa::path(
    get,
    path = "/api/v1/reports/raw/dossiers.csv",
    tag = "reports",
    params(PeriodParams),
    responses(
        (status = 200, description = "The dossiers.", content_type = "text/csv; charset=utf-8", body = String,
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"dossiers-<from>-<to>.csv\"`."),
                ("Cache-Control" = String, description = "`private, no-store`."),
            )),
        (status = 400, description = PERIOD_400, body = ErrorBody),
        (status = 403, description = "`forbidden`: a portal token.", body = ErrorBody),
        (status = 500, description = "`internal_error`: the table could not be written.", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
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

/// The raw hand-overs
///
/// Every hand-over (luân chuyển hồ sơ) given by an agency of the caller's scope within the
/// period, one line each in time order: `code`, `seq`, `at`, `from_agency`, `to_agency`,
/// `electronic`, `outcome`, `transfer_due_at`, `transfer_outcome`. UTF-8 with a byte order
/// mark, comma-separated, CRLF line ends, the column names as the header; moments RFC 3339,
/// booleans `true`/`false`, an empty cell for nothing. Staff of every role.
#[utoipa::path(
    get,
    path = "/api/v1/reports/raw/handovers.csv",
    tag = "reports",
    params(PeriodParams),
    responses(
        (status = 200, description = "The hand-overs.", content_type = "text/csv; charset=utf-8", body = String,
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"handovers-<from>-<to>.csv\"`."),
                ("Cache-Control" = String, description = "`private, no-store`."),
            )),
        (status = 400, description = PERIOD_400, body = ErrorBody),
        (status = 403, description = "`forbidden`: a portal token.", body = ErrorBody),
        (status = 500, description = "`internal_error`: the table could not be written.", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
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

/// The raw acts with a time limit
///
/// Every act with a time limit — supplement requests (yêu cầu bổ sung, NĐ 118/2025 Art.
/// 19(5)), online submissions and the desk's answers to them (Art. 17(2)) — done by an
/// agency of the caller's scope within the period, with its limit and whether it came late,
/// in time order: `code`, `seq`, `kind`, `at`, `agency`, `due_at`, `late`. UTF-8 with a
/// byte order mark, comma-separated, CRLF line ends, the column names as the header;
/// moments RFC 3339, booleans `true`/`false`, an empty cell for nothing. Staff of every
/// role.
#[utoipa::path(
    get,
    path = "/api/v1/reports/raw/deadline_acts.csv",
    tag = "reports",
    params(PeriodParams),
    responses(
        (status = 200, description = "The acts.", content_type = "text/csv; charset=utf-8", body = String,
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"deadline-acts-<from>-<to>.csv\"`."),
                ("Cache-Control" = String, description = "`private, no-store`."),
            )),
        (status = 400, description = PERIOD_400, body = ErrorBody),
        (status = 403, description = "`forbidden`: a portal token.", body = ErrorBody),
        (status = 500, description = "`internal_error`: the table could not be written.", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
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
