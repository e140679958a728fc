//! Petitions (*phản ánh, kiến nghị*) over JSON: the public submission and status, the
//! staff's queue, read and commands. The pages are `web::petitions`.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{json, Value};

use super::auth::{client_address, Authenticated};
use super::error::{ApiError, ApiResult};
use super::{blocking, rfc3339, AppData};
use crate::service::petitions::{
    PetitionCommand, PetitionQuery, PetitionTab, PetitionView, SubmitRequest,
};

fn at(t: DateTime<Utc>, offset: FixedOffset) -> String {
    rfc3339(t.fixed_offset(), offset)
}

/// A petition as the staff API answers it.
pub fn view_json(v: &PetitionView, offset: FixedOffset) -> Value {
    let t = |x: Option<DateTime<Utc>>| x.map(|x| at(x, offset));
    json!({
        "code": v.code,
        "kind": v.kind,
        "kind_label": v.kind_label,
        "status": v.status,
        "status_label": v.status_label,
        "submitted_at": at(v.submitted_at, offset),
        "due_at": at(v.due_at, offset),
        "answer_within": v.answer_within,
        "agency": v.agency,
        "dossier_code": v.dossier_code,
        "submitter": {"full_name": v.submitter_name, "email": v.email, "phone": v.phone},
        "content": v.content,
        "assignee": v.assignee,
        "answer": v.answer,
        "answered_at": t(v.answered_at),
        "answered_by": v.answered_by,
        "outcome": v.outcome,
        "closed_at": t(v.closed_at),
        "remaining_working_minutes": v.remaining_working_minutes,
        "urgency": v.urgency,
        "actions": v.actions,
    })
}

/// `POST /api/v1/public/petitions`: 201 with the code, the pin (shown only here), the
/// due moment and the status address; 422 with the first field's code (every field in
/// `details.fields`), the lookup's 404 for a wrong dossier code or pin, 429
/// `too_many_petitions`.
pub async fn submit(
    app: AppData,
    req: HttpRequest,
    body: web::Json<SubmitRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let address = client_address(&req);
    let a = app.get_ref().clone();
    let s = blocking(move || a.submit_petition(&body, &address, a.clock.now())).await?;
    let offset = app.settings.offset;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({
            "code": s.code,
            "pin": s.pin,
            "kind": s.kind,
            "status": s.status,
            "submitted_at": at(s.submitted_at, offset),
            "due_at": at(s.due_at, offset),
            "answer_within": s.answer_within,
            "source": s.source,
            "agency": s.agency,
            "status_url": s.status_url,
        })))
}

/// `GET /api/v1/public/petitions/{code}?pin=`: the citizen's view; a wrong code or pin as
/// the dossier lookup (404, then 429).
pub async fn status(
    app: AppData,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let pin = q.get("pin").cloned().unwrap_or_default();
    let address = client_address(&req);
    let a = app.get_ref().clone();
    let p = blocking(move || a.petition_status(&code, &pin, &address, a.clock.now())).await?;
    let offset = app.settings.offset;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({
            "code": p.code,
            "kind": p.kind,
            "kind_label": p.kind_label,
            "status": p.status,
            "status_label": p.status_label,
            "submitted_at": at(p.submitted_at, offset),
            "due_at": at(p.due_at, offset),
            "agency": p.agency,
            "dossier_code": p.dossier_code,
            "submitter_name": p.submitter_name,
            "content": p.content,
            "answer": p.answer,
            "answered_at": p.answered_at.map(|t| at(t, offset)),
            "outcome": p.outcome,
        })))
}

/// `GET /api/v1/petitions?tab=&kind=&assignee=me|USER&limit=&offset=`: the queue of the
/// caller's agency and those below it, soonest due first, with each tab's count.
pub async fn queue(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let tab = match q.get("tab").map(String::as_str) {
        None | Some("") => PetitionTab::Open,
        Some(t) => PetitionTab::parse(t).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_tab",
                "tab phải là open, due_soon, overdue, answered hoặc closed",
            )
        })?,
    };
    let number = |k: &str, default: i64| -> ApiResult<i64> {
        match q.get(k) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                ApiError::bad_request("invalid_limit", "limit và offset là số nguyên")
            }),
        }
    };
    let query = PetitionQuery {
        tab,
        kind: q.get("kind").cloned().filter(|s| !s.is_empty()),
        assignee: q.get("assignee").cloned().filter(|s| !s.is_empty()),
        limit: number("limit", 50)?,
        offset: number("offset", 0)?,
    };
    let a = app.get_ref().clone();
    let view = blocking(move || a.petition_queue(&who.0, &query, a.clock.now())).await?;
    let offset = app.settings.offset;
    Ok(HttpResponse::Ok().json(json!({
        "tab": view.tab,
        "counts": view.counts,
        "items": view.items.iter().map(|v| view_json(v, offset)).collect::<Vec<_>>(),
        "more": view.more,
    })))
}

/// `GET /api/v1/petitions/{code}`: 404 outside the caller's scope.
pub async fn get(
    app: AppData,
    who: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let a = app.get_ref().clone();
    let v = blocking(move || a.petition_detail(&who.0, &code, a.clock.now())).await?;
    Ok(HttpResponse::Ok().json(view_json(&v, app.settings.offset)))
}

/// `POST /api/v1/petitions/{code}/events` with `{"type": "assign", "user"}`,
/// `{"type": "answer", "text"}` or `{"type": "close"}`: the petition as it is after.
pub async fn event(
    app: AppData,
    who: Authenticated,
    path: web::Path<String>,
    body: web::Json<PetitionCommand>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let cmd = body.into_inner();
    let a = app.get_ref().clone();
    let v = blocking(move || a.petition_command(&who.0, &code, &cmd, a.clock.now())).await?;
    Ok(HttpResponse::Ok().json(view_json(&v, app.settings.offset)))
}
