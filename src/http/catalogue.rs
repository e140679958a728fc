//! Agencies and the procedure catalogue, read from the database.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::openapi::ErrorBody;
use super::{blocking, rfc3339, AppData};
use crate::core::catalogue::Procedure;
use crate::service::views::ProcedureVersionView;

/// This module's part of the API description.
#[derive(utoipa::OpenApi)]
#[openapi(paths(agencies, procedures, procedure))]
pub(super) struct Doc;

/// An agency (cơ quan, đơn vị) of the province's tree.
#[derive(Serialize, ToSchema)]
pub struct Agency {
    /// Its code in the national list (mã định danh điện tử, QĐ 20/2020/QĐ-TTg), e.g.
    /// `000.00.52.H26`.
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    /// Its level's id in `config/agencies.toml` (e.g. `province`, `department`, `ward`).
    pub level: String,
    /// The level's name.
    pub level_name: Option<String>,
    /// The parent agency's code; `null` at the root.
    pub parent: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// `false` for an agency merged or dissolved (kept for the dossiers it held).
    pub active: bool,
}

/// The agencies, parents before children.
#[derive(Serialize, ToSchema)]
pub struct AgencyList {
    pub agencies: Vec<Agency>,
}

/// One version of a procedure: its definition as loaded from `forms/` (code, name, field,
/// competent level or agency, statutory time with its `text`, fee, online level, papers,
/// steps …) with the version's validity.
#[derive(Serialize, ToSchema)]
pub struct ProcedureVersion {
    /// The version, from 1, one more at each change of the definition.
    pub version: i32,
    /// From when this version applies.
    #[schema(format = DateTime)]
    pub valid_from: String,
    /// Until when it applied; `null` for the current version.
    #[schema(format = DateTime)]
    pub valid_to: Option<String>,
    /// The definition's fields (`code`, `name`, `field`, `statutory_time`, `fee`,
    /// `online_level`, `paper`, `step` …).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub definition: Map<String, Value>,
}

/// The current version of each procedure.
#[derive(Serialize, ToSchema)]
pub struct ProcedureList {
    pub procedures: Vec<ProcedureVersion>,
}

/// A procedure: its current version and every version.
#[derive(Serialize, ToSchema)]
pub struct ProcedureHistory {
    /// The current version (the last of `versions`).
    pub procedure: ProcedureVersion,
    /// Every version, oldest first.
    pub versions: Vec<ProcedureVersion>,
}

/// The agency tree
///
/// The agencies as a flat list, parents before children: the active ones, or all with
/// `include_inactive=true`.
#[utoipa::path(
    get,
    path = "/api/v1/agencies",
    tag = "catalogue",
    params(("include_inactive" = Option<bool>, Query, description = "`true` to list merged or dissolved agencies too.")),
    responses((status = 200, description = "The agencies.", body = AgencyList)),
)]
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
    let agencies = rows
        .into_iter()
        .map(|r| Agency {
            level_name: levels.get(r.level.as_str()).map(|s| s.to_string()),
            code: r.code,
            name: r.name,
            short_name: r.short_name,
            level: r.level,
            parent: r.parent_code,
            address: r.address,
            phone: r.phone,
            active: r.active,
        })
        .collect();
    Ok(HttpResponse::Ok().json(AgencyList { agencies }))
}

fn procedure_json(row: &ProcedureVersionView, app: &AppData) -> ProcedureVersion {
    let offset = app.settings.offset;
    let mut v: Map<String, Value> = serde_json::from_str(&row.definition).unwrap_or_default();
    let text = serde_json::from_str::<Procedure>(&row.definition)
        .ok()
        .and_then(|p| p.statutory_time.to_time().ok())
        .map(|t| t.to_string());
    for k in ["version", "valid_from", "valid_to", "valid_from_date"] {
        v.remove(k);
    }
    if let Some(Value::Object(t)) = v.get_mut("statutory_time") {
        t.insert("text".into(), json!(text));
    }
    ProcedureVersion {
        version: row.version,
        valid_from: rfc3339(row.valid_from.fixed_offset(), offset),
        valid_to: row.valid_to.map(|t| rfc3339(t.fixed_offset(), offset)),
        definition: v,
    }
}

/// The procedure catalogue
///
/// The current version of each procedure, filtered by field, competent level or a text
/// found in its name or code.
#[utoipa::path(
    get,
    path = "/api/v1/procedures",
    tag = "catalogue",
    params(
        ("field" = Option<String>, Query, description = "Only this field (lĩnh vực), e.g. `ho_tich`."),
        ("level" = Option<String>, Query, description = "Only procedures of this competent level (an agency level's id)."),
        ("q" = Option<String>, Query, description = "Text in the name or the code, case-insensitive."),
    ),
    responses((status = 200, description = "The procedures.", body = ProcedureList)),
)]
pub async fn procedures(
    app: AppData,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let a = app.get_ref().clone();
    let rows = blocking(move || a.current_procedures()).await?;
    let needle = q
        .get("q")
        .map(|s| crate::core::text::clean(s).to_lowercase());
    let procedures = rows
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
    Ok(HttpResponse::Ok().json(ProcedureList { procedures }))
}

/// One procedure
///
/// Its current version and every earlier one. A code the catalogue never had answers 404.
#[utoipa::path(
    get,
    path = "/api/v1/procedures/{code}",
    tag = "catalogue",
    params(("code" = String, Path, description = "The procedure's code, e.g. `1.001234`.")),
    responses(
        (status = 200, description = "The procedure and its versions.", body = ProcedureHistory),
        (status = 404, description = "`not_found`: a code the catalogue never had.", body = ErrorBody),
    ),
)]
pub async fn procedure(app: AppData, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let a = app.get_ref().clone();
    let rows = blocking(move || a.procedure_versions(&code)).await?;
    // The store answers `not_found` for a code without versions.
    let current = rows
        .last()
        .map(|r| procedure_json(r, &app))
        .ok_or_else(ApiError::not_found)?;
    let versions = rows.iter().map(|r| procedure_json(r, &app)).collect();
    Ok(HttpResponse::Ok().json(ProcedureHistory {
        procedure: current,
        versions,
    }))
}
