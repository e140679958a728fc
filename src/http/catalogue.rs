//! Agencies and the procedure catalogue, read from the database.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::error::ApiResult;
use super::{blocking, rfc3339, AppData};
use crate::core::catalogue::Procedure;
use crate::service::views::ProcedureVersionView;

/// `GET /api/v1/agencies[?include_inactive=true]`: the agency tree as a flat list,
/// parents before children.
pub async fn agencies(
    app: AppData,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let include_inactive = q.get("include_inactive").is_some_and(|v| v == "true");
    let a = app.get_ref().clone();
    let rows = blocking(move || a.agency_list()).await?;
    let order: HashMap<&str, usize> = app
        .agencies
        .agencies
        .iter()
        .enumerate()
        .map(|(i, a)| (a.code.as_str(), i))
        .collect();
    let mut rows: Vec<_> = rows
        .into_iter()
        .filter(|r| include_inactive || r.active)
        .collect();
    rows.sort_by_key(|r| order.get(r.code.as_str()).copied().unwrap_or(usize::MAX));
    let levels: HashMap<&str, &str> = app
        .agencies
        .levels
        .iter()
        .map(|l| (l.id.as_str(), l.name.as_str()))
        .collect();
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "code": r.code,
                "name": r.name,
                "short_name": r.short_name,
                "level": r.level,
                "level_name": levels.get(r.level.as_str()),
                "parent": r.parent_code,
                "address": r.address,
                "phone": r.phone,
                "active": r.active,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "agencies": items })))
}

fn procedure_json(row: &ProcedureVersionView, app: &AppData) -> Value {
    let offset = app.settings.offset;
    let mut v: Value = serde_json::from_str(&row.definition).unwrap_or_else(|_| json!({}));
    let text = serde_json::from_str::<Procedure>(&row.definition)
        .ok()
        .and_then(|p| p.statutory_time.to_time().ok())
        .map(|t| t.to_string());
    if let Value::Object(m) = &mut v {
        m.insert("version".into(), json!(row.version));
        m.insert(
            "valid_from".into(),
            json!(rfc3339(row.valid_from.fixed_offset(), offset)),
        );
        m.insert(
            "valid_to".into(),
            json!(row.valid_to.map(|t| rfc3339(t.fixed_offset(), offset))),
        );
        if let Some(Value::Object(t)) = m.get_mut("statutory_time") {
            t.insert("text".into(), json!(text));
        }
        m.remove("valid_from_date");
    }
    v
}

/// `GET /api/v1/procedures[?field=&level=&q=]`: the current version of each procedure.
pub async fn procedures(
    app: AppData,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let a = app.get_ref().clone();
    let rows = blocking(move || a.current_procedures()).await?;
    let needle = q
        .get("q")
        .map(|s| crate::core::text::clean(s).to_lowercase());
    let items: Vec<Value> = rows
        .iter()
        .filter(|r| q.get("field").is_none_or(|f| &r.field == f))
        .filter(|r| {
            q.get("level")
                .is_none_or(|l| r.competent_level.as_deref() == Some(l.as_str()))
        })
        .filter(|r| {
            needle.as_ref().is_none_or(|n| {
                r.name.to_lowercase().contains(n) || r.procedure_code.to_lowercase().contains(n)
            })
        })
        .map(|r| procedure_json(r, &app))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "procedures": items })))
}

/// `GET /api/v1/procedures/{code}`: the current version and every earlier one.
pub async fn procedure(app: AppData, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let a = app.get_ref().clone();
    let rows = blocking(move || a.procedure_versions(&code)).await?;
    let current = rows.last().map(|r| procedure_json(r, &app));
    let versions: Vec<Value> = rows.iter().map(|r| procedure_json(r, &app)).collect();
    Ok(HttpResponse::Ok().json(json!({ "procedure": current, "versions": versions })))
}
