//! Dossiers for staff and portals: intake, list, read.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde_json::{json, Value};

use super::auth::Authenticated;
use super::error::{ApiError, ApiResult};
use super::{blocking, rfc3339, AppData};
use crate::service::dossiers::ListQuery;
use crate::service::intake::{paper_kind_label, IntakeRequest};
use crate::service::views::{DossierDetail, DossierView, EventView, PaperView, ProgressView};

/// `POST /api/v1/dossiers`: 201 with the code, the pin (shown only here) and the due moment;
/// for an online submission, its arrival and when the desk must answer it (the due moment
/// comes with the official receipt).
pub async fn create(
    app: AppData,
    who: Authenticated,
    http: actix_web::HttpRequest,
    body: web::Json<IntakeRequest>,
) -> ApiResult<HttpResponse> {
    let a = app.get_ref().clone();
    let req = body.into_inner();
    // A repeated request with the same key gets the first answer.
    let key = match http.headers().get("Idempotency-Key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    ApiError::bad_request(
                        "invalid_idempotency_key",
                        "Idempotency-Key gồm 1–128 ký tự ASCII in được",
                    )
                })?
                .trim()
                .to_string(),
        ),
    };
    let receipt =
        blocking(move || a.receive_once(&who.0, &req, key.as_deref(), a.clock.now())).await?;
    let offset = app.settings.offset;
    let code = receipt.code.clone();
    let t = |m: Option<chrono::DateTime<chrono::Utc>>| m.map(|m| rfc3339(m.fixed_offset(), offset));
    let received = receipt.received_at.is_some();
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/dossiers/{code}")))
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({
            "code": receipt.code,
            "pin": receipt.pin,
            "status": receipt.status,
            "submitted_at": t(receipt.submitted_at),
            "acknowledge_by": t(receipt.acknowledge_by),
            "received_at": t(receipt.received_at),
            "due_at": t(receipt.due_at),
            "procedure": { "code": receipt.procedure_code, "name": receipt.procedure_name, "version": receipt.procedure_version },
            "statutory_time": receipt.statutory_time,
            "rule_set": receipt.rule_set,
            "channel": receipt.channel,
            "receiving_agency": receipt.receiving_agency,
            "competent_agency": receipt.competent_agency,
            "book": { "volume": receipt.book_volume, "line": receipt.book_line },
            "receipt_url": received.then(|| format!("/api/v1/dossiers/{code}/forms/receipt.pdf")),
            "status_url": app.status_url(&code),
        })))
}

fn agency_json(app: &AppData, code: Option<&str>) -> Value {
    match code {
        None => Value::Null,
        Some(c) => json!({ "code": c, "name": app.agencies.get(c).map(|a| a.name.as_str()) }),
    }
}

/// The due moment set at receipt (before a supplement counted the time again).
fn first_due_at(app: &AppData, d: &DossierView, p: &ProgressView) -> Option<String> {
    let first = p.first_due_at.or(d.due_at)?;
    Some(rfc3339(first.fixed_offset(), app.settings.offset))
}

/// The staff view of a dossier.
pub fn dossier_json(app: &AppData, d: &DossierView) -> Value {
    let offset = app.settings.offset;
    let t = |n: chrono::DateTime<chrono::Utc>| rfc3339(n.fixed_offset(), offset);
    json!({
        "code": d.code,
        "procedure": {
            "code": d.procedure_code,
            "version": d.procedure_version,
            "name": app.catalogue.get(&d.procedure_code).map(|p| p.name.as_str()),
        },
        "rule_set": d.rule_set,
        "status": d.status,
        "channel": d.channel,
        "receiving_agency": agency_json(app, Some(&d.receiving_agency)),
        "competent_agency": agency_json(app, d.competent_agency.as_deref()),
        "current_agency": agency_json(app, Some(&d.current_agency)),
        "applicant": {
            "full_name": d.applicant_name,
            "id_kind": d.applicant_id_kind,
            "id_number": d.applicant_id_number,
            "phone": d.applicant_phone,
            "email": d.applicant_email,
            "address": d.applicant_address,
        },
        "proxy": d.proxy,
        "note": d.note,
        "received_at": d.received_at.map(t),
        "due_at": d.due_at.map(t),
        "reappointed_at": d.reappointed_at.map(t),
        "finished_at": d.finished_at.map(t),
        "outcome": d.outcome,
        "result_ready": d.result_ready,
        "statutory_time": { "amount": d.time_amount, "unit": d.time_unit, "cutoff": d.time_cutoff },
        "received_by": d.received_by,
        "book": { "volume": d.book_volume, "line": d.book_line },
    })
}

fn papers_json(papers: &[PaperView]) -> Value {
    papers
        .iter()
        .map(|p| json!({ "position": p.position, "name": p.name, "kind": p.kind, "kind_label": paper_kind_label(&p.kind), "count": p.count, "reuse_document_id": p.reuse_document_id }))
        .collect()
}

fn events_json(app: &AppData, events: &[EventView]) -> Value {
    let offset = app.settings.offset;
    events
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq,
                "type": e.kind,
                "at": rfc3339(e.at.fixed_offset(), offset),
                "actor": e.actor,
                "agency": e.agency_code,
                "status_after": e.status_after,
                "data": e.payload,
            })
        })
        .collect()
}

/// `GET /api/v1/dossiers/{code}`.
pub async fn get(
    app: AppData,
    who: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let a = app.get_ref().clone();
    let DossierDetail {
        dossier: d,
        papers,
        events,
        progress,
        steps,
        handled_by,
        files,
        documents,
    } = blocking(move || a.dossier_detail(&who.0, &code)).await?;
    let (file_list, document_list) = super::files::dossier_files_json(&app, &files, &documents);
    let offset = app.settings.offset;
    let t = |n: chrono::DateTime<chrono::Utc>| rfc3339(n.fixed_offset(), offset);
    let mut body = dossier_json(&app, &d);
    body["pending_handover"] = agency_json(&app, progress.pending_handover.as_deref());
    body["assignee"] = json!(progress.assignee);
    body["first_due_at"] = json!(first_due_at(&app, &d, &progress));
    body["supplement_request_by"] = json!(progress.supplement_request_by.map(t));
    body["submitted_at"] = json!(progress.submitted_at.map(t));
    body["acknowledge_by"] = json!(progress.acknowledge_by.map(t));
    body["correction_rounds"] = json!(progress.correction_rounds);
    body["clock_stopped_at"] = json!(progress.clock_stopped_at.map(t));
    body["supplement_requests"] = json!(progress.supplement_requests);
    body["delayed"] = json!(progress.delayed);
    body["reappointment_kept"] = json!(match (d.reappointed_at, d.finished_at) {
        (Some(r), Some(f)) => Some(f <= r),
        _ => None,
    });
    body["rated"] = json!(progress.rated);
    body["current_step"] = json!(progress
        .current_step
        .and_then(|i| steps.get(i.max(0) as usize))
        .map(|s| s.no));
    body["steps"] = steps
        .iter()
        .map(|s| {
            json!({
                "no": s.no,
                "name": s.name,
                "agency": agency_json(&app, Some(&s.agency_code)),
                "role": s.role,
                "share": s.share,
                "due_at": t(s.due_at),
                "started_at": s.started_at.map(t),
                "ended_at": s.ended_at.map(t),
                "outcome": s.outcome,
            })
        })
        .collect();
    body["handled_by"] = handled_by
        .iter()
        .map(|c| agency_json(&app, Some(c)))
        .collect();
    body["papers"] = papers_json(&papers);
    body["files"] = file_list;
    body["documents"] = document_list;
    body["digitised"] = json!(progress.digitised);
    body["reused"] = json!(progress.reused);
    body["events"] = events_json(&app, &events);
    body["forms"] = json!({ "receipt": format!("/api/v1/dossiers/{}/forms/receipt.pdf", d.code), "control": crate::service::notices::Notice::Control.url(&d.code) });
    // Personal data: never kept by a browser or a proxy.
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(body))
}

/// `GET /api/v1/dossiers/{code}/forms/{supplement|delay|stop|control}.pdf`: forms 02,
/// 04, 05 and 06 of a registered dossier.
pub async fn notice(
    app: AppData,
    who: Authenticated,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    use crate::service::notices::Notice;
    let (code, form) = path.into_inner();
    let Some(notice) = form.strip_suffix(".pdf").and_then(Notice::parse) else {
        return Err(crate::error::AppError::not_found());
    };
    let a = app.get_ref().clone();
    let c = code.clone();
    let bytes = blocking(move || a.notice_pdf(&who.0, &c, notice)).await?;
    Ok(pdf(bytes, &format!("{}-{code}.pdf", notice.as_str())))
}

fn date_param(
    q: &HashMap<String, String>,
    key: &'static str,
    code: &'static str,
) -> ApiResult<Option<NaiveDate>> {
    match q.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                ApiError::bad_request(code, format!("{key} phải là ngày dạng YYYY-MM-DD"))
            }),
    }
}

fn int_param(
    q: &HashMap<String, String>,
    key: &'static str,
    code: &'static str,
) -> ApiResult<Option<i64>> {
    match q.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(code, format!("{key} phải là số nguyên"))),
    }
}

/// `GET /api/v1/dossiers?status=&from=&to=&procedure=&q=&limit=&offset=`.
pub async fn list(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let query = ListQuery {
        status: q
            .get("status")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        from: date_param(&q, "from", "invalid_from")?,
        to: date_param(&q, "to", "invalid_to")?,
        procedure: q
            .get("procedure")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        q: q.get("q").cloned(),
        limit: int_param(&q, "limit", "invalid_limit")?,
        offset: int_param(&q, "offset", "invalid_offset")?,
    };
    let a = app.get_ref().clone();
    let q2 = query.clone();
    let rows = blocking(move || a.list_dossiers_for(&who.0, &q2)).await?;
    let limit = query.limit.unwrap_or(50);
    let offset = query.offset.unwrap_or(0);
    let next = (rows.len() as i64 == limit).then_some(offset + limit);
    let items: Vec<Value> = rows.iter().map(|d| dossier_json(&app, d)).collect();
    Ok(HttpResponse::Ok().json(json!({ "dossiers": items, "next_offset": next })))
}

fn pdf(bytes: Vec<u8>, filename: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{filename}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes)
}

/// `GET /api/v1/dossiers/{code}/forms/receipt.pdf[?pin=…]`: form 01. The pin, known to
/// the counter right after intake, is printed when given and correct.
pub async fn receipt(
    app: AppData,
    who: Authenticated,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let pin = q.get("pin").cloned();
    let a = app.get_ref().clone();
    let c = code.clone();
    let bytes = blocking(move || a.receipt_pdf(&who.0, &c, pin.as_deref())).await?;
    Ok(pdf(bytes, &format!("bien-nhan-{code}.pdf")))
}

/// Records a guidance or refusal with `record` and answers with its form as PDF.
async fn outcome_form<F>(app: AppData, record: F) -> ApiResult<HttpResponse>
where
    F: FnOnce(&crate::app::App) -> ApiResult<crate::service::intake::IntakeOutcome>
        + Send
        + 'static,
{
    let a = app.get_ref().clone();
    let (outcome, bytes) = blocking(move || {
        let o = record(&a)?;
        let b = a.outcome_pdf(&o)?;
        Ok((o, b))
    })
    .await?;
    let mut res = pdf(bytes, &format!("{}.pdf", outcome.id));
    res.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static("x-intake-outcome-id"),
        actix_web::http::header::HeaderValue::from_str(&outcome.id).expect("ascii id"),
    );
    Ok(res)
}

/// `POST /api/v1/intake/guidance`: records the guidance and returns form 02.
pub async fn guidance(
    app: AppData,
    who: Authenticated,
    body: web::Json<crate::service::intake::GuidanceRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    outcome_form(app, move |a| a.guide(&who.0, &req, a.clock.now())).await
}

/// `POST /api/v1/intake/refusal`: records the refusal and returns form 03.
pub async fn refusal(
    app: AppData,
    who: Authenticated,
    body: web::Json<crate::service::intake::RefusalRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    outcome_form(app, move |a| a.refuse(&who.0, &req, a.clock.now())).await
}

/// `POST /api/v1/dossiers/{code}/events`: records one event (`{"type": …, …}`); 201 with
/// the dossier's new state, 409 when the state does not allow it, 403 for a wrong actor.
pub async fn event(
    app: AppData,
    who: Authenticated,
    path: web::Path<String>,
    query: web::Query<EventQuery>,
    body: web::Json<crate::core::machine::Event>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let event = body.into_inner();
    let dry_run = query.dry_run.unwrap_or(false);
    let form = crate::service::notices::Notice::for_event(&event).filter(|_| !dry_run);
    let supplement = matches!(event, crate::core::machine::Event::RequestSupplement { .. });
    let a = app.get_ref().clone();
    let r = blocking(move || {
        let now = a.clock.now();
        if dry_run {
            a.preview_event(&who.0, &code, &event, now)
        } else {
            a.record_event(&who.0, &code, &event, now)
        }
    })
    .await?;
    let mut body = dossier_json(&app, &r.dossier);
    body["pending_handover"] = json!(r.progress.pending_handover);
    body["assignee"] = json!(r.progress.assignee);
    body["supplement_requests"] = json!(r.progress.supplement_requests);
    body["reappointment_kept"] = json!(r.reappointment_kept);
    body["first_due_at"] = json!(first_due_at(&app, &r.dossier, &r.progress));
    let mut answer = json!({ "seq": r.seq, "dossier": body });
    if let Some(n) = form {
        answer["form_url"] = json!(n.url(&r.dossier.code));
    }
    if supplement {
        answer["late_request"] = json!(r.late_request);
    }
    if let Some(transfer) = r.transfer {
        answer["transfer"] = transfer;
    }
    if let Some(step) = r.step {
        answer["step"] = step;
    }
    if dry_run {
        // What the event would do: nothing was written, the sequence number is not taken.
        answer["dry_run"] = json!(true);
        return Ok(HttpResponse::Ok().json(answer));
    }
    Ok(HttpResponse::Created().json(answer))
}

/// `GET /api/v1/dossiers/{code}/actions`: every action of the dossier's life for the
/// caller now — `{"actions": [{"type", "label", "allowed", "fields"} or {"type", "label",
/// "allowed": false, "error", "message"}]}`; exactly what the events endpoint accepts.
pub async fn actions(
    app: AppData,
    who: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let a = app.get_ref().clone();
    let actions = blocking(move || a.allowed_actions(&who.0, &code, a.clock.now())).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "actions": actions })))
}

/// `?dry_run=true`: check and preview the event without recording it.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    pub dry_run: Option<bool>,
}

/// `POST /api/v1/dossiers/{code}/resubmit`: the portal sends an online dossier again after
/// the desk asked for a correction; 200 with its new status and the desk's new limit.
pub async fn resubmit(
    app: AppData,
    who: Authenticated,
    path: web::Path<String>,
    body: web::Json<crate::service::intake::ResubmitRequest>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let req = body.into_inner();
    let a = app.get_ref().clone();
    let r = blocking(move || a.resubmit(&who.0, &code, &req, a.clock.now())).await?;
    let offset = app.settings.offset;
    Ok(HttpResponse::Ok().json(json!({
        "code": r.code,
        "status": r.status,
        "acknowledge_by": r.acknowledge_by.map(|t| rfc3339(t.fixed_offset(), offset)),
        "correction_rounds": r.correction_rounds,
    })))
}

/// `GET /api/v1/queue?status=&procedure=&assignee=me|USER&limit=&offset=`: what waits at
/// the caller's agency for their role, soonest due first.
pub async fn queue(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let limit = int_param(&q, "limit", "invalid_limit")?.unwrap_or(50);
    let offset = int_param(&q, "offset", "invalid_offset")?.unwrap_or(0);
    let get = |k: &str| {
        q.get(k)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let query = crate::service::queue::QueueQuery {
        status: get("status"),
        procedure: get("procedure"),
        assignee: get("assignee"),
        limit,
        offset,
    };
    let a = app.get_ref().clone();
    let items = blocking(move || a.queue_for(&who.0, &query, a.clock.now())).await?;
    let offset_tz = app.settings.offset;
    let next = (items.len() as i64 == limit).then_some(offset + limit);
    let list: Vec<Value> = items
        .iter()
        .map(|i| {
            let mut v = dossier_json(&app, &i.dossier);
            if !i.in_scope {
                // Only pending to the caller's agency: what it is asked to accept, without
                // the applicant's personal data.
                v["applicant"] = json!({
                    "full_name": crate::core::applicant::mask_name(&i.dossier.applicant_name),
                    "id_kind": null,
                    "id_number": null,
                    "phone": null,
                    "email": null,
                    "address": null,
                    "masked": true,
                });
                v["proxy"] = Value::Null;
                v["note"] = Value::Null;
            }
            v["in_scope"] = json!(i.in_scope);
            v["pending_handover"] = json!(i.progress.pending_handover);
            v["assignee"] = json!(i.progress.assignee);
            v["acknowledge_by"] = json!(i
                .progress
                .acknowledge_by
                .filter(|_| i.dossier.received_at.is_none())
                .map(|t| rfc3339(t.fixed_offset(), offset_tz)));
            v["remaining_working_minutes"] = json!(i.remaining_minutes);
            v["urgency"] = json!(i.urgency);
            v["step"] = match &i.step {
                Some((s, left, flag)) => json!({
                    "no": s.no,
                    "name": s.name,
                    "role": s.role,
                    "due_at": rfc3339(s.due_at.fixed_offset(), offset_tz),
                    "remaining_working_minutes": left,
                    "urgency": flag,
                }),
                None => Value::Null,
            };
            v
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "queue": list, "next_offset": next })))
}

/// `GET /api/v1/portal/changes?cursor=&limit=`: for a portal, the dossiers it submitted
/// whose state changed after `cursor`, oldest change first, with the cursor to resume from.
/// An online dossier waits for the desk's official receipt (NĐ 118/2025 Art. 17(2)–(3)):
/// the feed reports `submitted`, `needs_correction`, `refused_at_intake` and `received` as
/// they happen, and `due_at` is null until the receipt (a change of the portal contract).
pub async fn portal_changes(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let limit = int_param(&q, "limit", "invalid_limit")?.unwrap_or(100);
    let cursor = q.get("cursor").cloned();
    let a = app.get_ref().clone();
    let rows = blocking(move || a.portal_changes(&who.0, cursor.as_deref(), limit)).await?;
    let offset = app.settings.offset;
    let t = |n: chrono::DateTime<chrono::Utc>| rfc3339(n.fixed_offset(), offset);
    let items: Vec<Value> = rows
        .iter()
        .map(|d| {
            let status = crate::core::dossier::Status::parse(&d.status);
            json!({
                "code": d.code,
                "status": d.status,
                "status_label": status.map(|s| s.label_vi()),
                "current_agency": agency_json(&app, Some(&d.current_agency)),
                "updated_at": t(d.updated_at),
                "due_at": d.due_at.map(t),
                "reappointed_at": d.reappointed_at.map(t),
                "finished_at": d.finished_at.map(t),
                "outcome": d.outcome,
                "result_ready": d.result_ready,
            })
        })
        .collect();
    let next = rows
        .last()
        .map(crate::service::dossiers::cursor_of)
        .or_else(|| q.get("cursor").cloned());
    Ok(HttpResponse::Ok().json(json!({ "changes": items, "cursor": next })))
}
