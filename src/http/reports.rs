//! Reports: indicators for staff, the monthly public disclosure for everyone.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::auth::Authenticated;
use super::error::ApiResult;
use super::{blocking, AppData};
use crate::core::indicators::DEFINITIONS;

/// `GET /api/v1/reports/indicators?agency=&from=&to=&descendants=&group_by=`.
pub async fn indicators(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let query = super::exports::parse_indicator_query(&q)?;
    let a = app.get_ref().clone();
    let report = blocking(move || a.indicators(&who.0, &query, a.clock.now())).await?;
    let mut body = serde_json::to_value(&report).unwrap_or_default();
    body["definitions"] = json!(DEFINITIONS);
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/v1/reports/notifications?agency=&from=&to=&descendants=`: notified against
/// not reachable for the dossiers received by the agency (issue #17).
pub async fn notifications(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let query = super::exports::parse_indicator_query(&q)?;
    let a = app.get_ref().clone();
    let report = blocking(move || a.notification_report(&who.0, &query)).await?;
    Ok(HttpResponse::Ok().json(report))
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
