//! Reports: indicators for staff, the monthly public disclosure for everyone.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde_json::json;

use super::auth::Authenticated;
use super::error::{ApiError, ApiResult};
use super::{blocking, AppData};
use crate::core::indicators::{GroupBy, DEFINITIONS};
use crate::service::reports::IndicatorQuery;

fn date(q: &HashMap<String, String>, key: &'static str) -> ApiResult<NaiveDate> {
    let v = q.get(key).map(|s| s.trim()).unwrap_or_default();
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
        ApiError::bad_request(
            "invalid_period",
            format!("{key} phải là ngày dạng YYYY-MM-DD"),
        )
    })
}

/// `GET /api/v1/reports/indicators?agency=&from=&to=&descendants=&group_by=`.
pub async fn indicators(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
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
    let query = IndicatorQuery {
        agency: q
            .get("agency")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        from: date(&q, "from")?,
        to: date(&q, "to")?,
        descendants,
        group_by,
        recompute: match q.get("source").map(|s| s.trim()) {
            None | Some("") | Some("rollup") => false,
            Some("recompute") => true,
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_source",
                    "source là rollup (mặc định) hoặc recompute",
                ))
            }
        },
    };
    let a = app.get_ref().clone();
    let report = blocking(move || a.indicators(&who.0, &query, a.clock.now())).await?;
    let mut body = serde_json::to_value(&report).unwrap_or_default();
    body["definitions"] = json!(DEFINITIONS);
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/v1/public/stats?month=YYYY-MM`: per agency, no personal data.
pub async fn public_stats(
    app: AppData,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let month = q.get("month").cloned().unwrap_or_default();
    let a = app.get_ref().clone();
    let m = month.clone();
    let groups = blocking(move || a.public_stats(m.trim(), a.clock.now())).await?;
    let agencies: Vec<_> = groups
        .iter()
        .map(|g| {
            json!({
                "agency": { "code": g.key, "name": g.name },
                "received": g.counts.received,
                "received_online": g.counts.received_online,
                "finished": g.counts.finished(),
                "finished_early": g.counts.finished_early,
                "finished_on_time": g.counts.finished_on_time,
                "finished_late": g.counts.finished_late,
                "on_time_rate": g.rates.on_time_rate,
                "online_rate": g.rates.online_rate,
            })
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(json!({ "month": month.trim(), "agencies": agencies })))
}
