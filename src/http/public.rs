//! What citizens reach without an account: the status lookup and the rating (JSON); their
//! pages are `web::citizen`.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::auth::client_address;
use super::error::ApiResult;
use super::{blocking, rfc3339, AppData};
use crate::service::lookup::{Proof, PublicDossier};

/// `GET /api/v1/public/dossiers/{code}?pin=XXXXXX`.
pub async fn lookup(
    app: AppData,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let proof = match q.get("pin") {
        Some(p) => Proof::Pin(p.clone()),
        None => Proof::Nothing,
    };
    let addr = client_address(&req);
    // A right pin of a dossier lately looked up: from memory, on this thread.
    let d = match app.lookup_cached(&code, &proof, &addr, app.clock.now()) {
        Some(d) => d,
        None => {
            let a = app.get_ref().clone();
            blocking(move || a.lookup_uncached(&code, &proof, &addr, a.clock.now())).await?
        }
    };
    let body = d.rendered.get_or_init(|| render(&d, app.settings.offset));
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("application/json")
        .body(body.clone()))
}

/// The lookup's JSON body.
fn render(d: &PublicDossier, offset: chrono::FixedOffset) -> String {
    let t = |x: chrono::DateTime<chrono::Utc>| rfc3339(x.fixed_offset(), offset);
    let history: Vec<_> = d
        .history
        .iter()
        .map(|h| json!({ "at": t(h.at), "status": h.status, "label": h.label }))
        .collect();
    json!({
        "code": d.code,
        "procedure": d.procedure,
        "status": d.status,
        "status_label": d.status_label,
        "submitted_at": d.submitted_at.map(t),
        "acknowledge_by": d.acknowledge_by.map(t),
        "received_at": d.received_at.map(t),
        "due_at": d.due_at.map(t),
        "reappointed_at": d.reappointed_at.map(t),
        "finished_at": d.finished_at.map(t),
        "current_agency": d.current_agency,
        "result_ready": d.result_ready,
        "applicant_name": d.applicant_name,
        "history": history,
        "requested": d.requested.as_ref().map(|r| json!({
            "kind": r.kind,
            "at": t(r.at),
            "items": r.items,
            "reason": r.reason,
        })),
        "fee": d.fee,
        "results": d.results.iter().map(|r| json!({
            "id": r.id,
            "name": r.name,
            "number": r.number,
            "issued_on": r.issued_on,
            "download": format!(
                "/api/v1/public/dossiers/{}/results/{}",
                crate::web::encode(&d.code),
                crate::web::encode(&r.id)
            ),
        })).collect::<Vec<_>>(),
    })
    .to_string()
}

/// The applicant's rating: `{"pin", "score", "comment"?}`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    pub pin: String,
    pub score: crate::core::machine::Satisfaction,
    #[serde(default)]
    pub comment: Option<String>,
}

/// `POST /api/v1/public/dossiers/{code}/rating`: the applicant rates the service once,
/// after the result is returned; 201, or the lookup's 404 / 429 on a wrong code or pin,
/// 409 before return or on a second rating.
pub async fn rate(
    app: AppData,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<RatingRequest>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let body = body.into_inner();
    let addr = client_address(&req);
    let a = app.get_ref().clone();
    let r = blocking(move || {
        a.rate_as_applicant(
            &code,
            &body.pin,
            body.score,
            body.comment,
            &addr,
            a.clock.now(),
        )
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "code": r.dossier.code, "rated": true, "seq": r.seq })))
}
