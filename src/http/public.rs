//! What citizens reach without an account: the status lookup and the rating (JSON); their
//! pages are `web::citizen`.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::client_address;
use super::error::ApiResult;
use super::openapi::ErrorBody;
use super::{blocking, rfc3339, AppData};
use crate::service::lookup::{AgencyRef, Proof, PublicDossier};

/// This module's part of the API description.
#[derive(utoipa::OpenApi)]
#[openapi(paths(lookup, rate))]
pub(super) struct Doc;

/// The one answer to every failed lookup: the same whether the code exists or not.
const NOT_FOUND: &str = "`not_found`: no such dossier, or a wrong or missing pin \
(one answer for all, so that a code cannot be told to exist); also a path or query string \
holding a control character or a bidirectional override. Counted as a failed guess.";

/// The answer while guessing is throttled.
pub(super) const THROTTLED: &str = "`too_many_attempts`: too many failed guesses from this \
address (of this code, or of any), or of this code from many addresses; try again after \
`Retry-After` seconds. Answered before the pin is checked.";

/// A code and its name (a procedure's, an agency's).
#[derive(Serialize, ToSchema)]
pub struct Named {
    pub code: String,
    pub name: String,
}

impl From<&AgencyRef> for Named {
    fn from(a: &AgencyRef) -> Self {
        Self {
            code: a.code.clone(),
            name: a.name.clone(),
        }
    }
}

/// A change of the dossier's status.
#[derive(Serialize, ToSchema)]
pub struct PublicStatusChange {
    #[schema(format = DateTime)]
    pub at: String,
    /// The status after the change (see `status` of the dossier).
    pub status: String,
    /// Its Vietnamese label.
    pub label: String,
}

/// What the applicant is asked to do now.
#[derive(Serialize, ToSchema)]
pub struct PublicRequested {
    /// `supplement` (yêu cầu bổ sung, NĐ 118/2025 Art. 19) or `correction` (hoàn thiện
    /// an online submission).
    pub kind: String,
    /// When it was asked.
    #[schema(format = DateTime)]
    pub at: String,
    /// The papers or contents to bring, in the order given.
    pub items: Vec<String>,
    /// Why.
    pub reason: String,
}

/// The procedure's fee (phí, lệ phí) and what has been paid, in đồng.
#[derive(Serialize, ToSchema)]
pub struct PublicFee {
    /// The fee of the procedure's version the dossier was received under.
    pub amount: i64,
    /// The payments recorded.
    pub paid: i64,
    /// What is left to pay (never below 0).
    pub outstanding: i64,
}

/// An electronic result (kết quả điện tử) the applicant may download with the pin.
#[derive(Serialize, ToSchema)]
pub struct PublicResultLink {
    /// `<dossier code>-KQ<n>`.
    pub id: String,
    /// The document's name, e.g. `Giấy chứng nhận đăng ký hộ kinh doanh`.
    pub name: String,
    /// Its number (số, ký hiệu), if it has one.
    pub number: Option<String>,
    /// Its date of issue.
    #[schema(format = Date)]
    pub issued_on: String,
    /// Where to download it: `/api/v1/public/dossiers/{code}/results/{id}`, with the
    /// same `pin`.
    pub download: String,
}

/// A dossier as the public sees it: no staff names, no ID numbers, no papers; the
/// applicant's name masked.
#[derive(Serialize, ToSchema)]
pub struct PublicDossierAnswer {
    /// The dossier's code (mã hồ sơ), as on the receipt.
    pub code: String,
    /// The procedure: its code and name.
    pub procedure: Named,
    /// The status: `submitted`, `needs_correction`, `refused_at_intake`, `received`,
    /// `in_progress`, `supplement_requested`, `paused`, `approved`, `refused`,
    /// `returned`, `stopped` or `closed`.
    pub status: String,
    /// Its Vietnamese label, e.g. `Đang giải quyết`.
    pub status_label: String,
    /// An online submission's arrival; `null` at the counter.
    #[schema(format = DateTime)]
    pub submitted_at: Option<String>,
    /// By when the desk answers an online submission (NĐ 118/2025 Art. 17(2)); only
    /// while it waits (`submitted`), else `null`.
    #[schema(format = DateTime)]
    pub acknowledge_by: Option<String>,
    /// The official receipt; `null` before it.
    #[schema(format = DateTime)]
    pub received_at: Option<String>,
    /// When the result is due (hẹn trả), as moved by pauses and supplements.
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    /// The new date given in a letter of apology for lateness (thư xin lỗi, hẹn lại),
    /// if any.
    #[schema(format = DateTime)]
    pub reappointed_at: Option<String>,
    /// When handling ended: the result returned, or the dossier stopped (dừng) or closed
    /// (đóng).
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    /// The agency holding the dossier now.
    pub current_agency: Named,
    /// The result is ready to be collected.
    pub result_ready: bool,
    /// The applicant's name, masked (the family name whole, every other part an initial: `Nguyễn V. A.`).
    pub applicant_name: String,
    /// The status changes, oldest first.
    pub history: Vec<PublicStatusChange>,
    /// The open request to the applicant (supplement or correction), if any.
    pub requested: Option<PublicRequested>,
    /// The fee and what has been paid; `null` for a procedure without a fee.
    pub fee: Option<PublicFee>,
    /// The electronic results to download, once the result is ready; empty before.
    pub results: Vec<PublicResultLink>,
}

/// Look up a dossier
///
/// The citizen's status lookup (tra cứu tình trạng hồ sơ) by the dossier's code and the
/// pin printed on its receipt (mã tra cứu): the status and its history, the due moment,
/// the agency holding it, what the applicant is asked to bring, the fee, and the
/// electronic results to download. No account; nothing personal beyond the masked name.
/// Every failure — unknown code, wrong or missing pin — is the same `404`, costs the same
/// and counts as a failed guess; guessing is throttled per code and address, per address
/// and per code over many addresses (`[public] lookup_*`), answered `429` until the wait
/// is over. A right answer is kept in memory for a minute at most and served from there
/// until the dossier changes. `Cache-Control: no-store`.
#[utoipa::path(
    get,
    path = "/api/v1/public/dossiers/{code}",
    operation_id = "lookup_dossier",
    tag = "public",
    params(
        ("code" = String, Path, description = "The dossier's code, as on the receipt."),
        ("pin" = String, Query, description = "The pin printed on the receipt: 6 characters of `ACDEFHJKMNPQRTUVWXY34679`, case-insensitive. Missing: the same `404` as a wrong one."),
    ),
    responses(
        (status = 200, description = "The dossier as the public sees it.", body = PublicDossierAnswer),
        (status = 404, description = NOT_FOUND, body = ErrorBody),
        (status = 429, description = THROTTLED, body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again."))),
    ),
)]
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
    // Rendered once per cached view (a view never changes once built).
    let body = d.rendered.get_or_init(|| render(&d, app.settings.offset));
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("application/json")
        .body(body.clone()))
}

/// The lookup's JSON body.
fn render(d: &PublicDossier, offset: chrono::FixedOffset) -> String {
    let t = |x: chrono::DateTime<chrono::Utc>| rfc3339(x.fixed_offset(), offset);
    let body = PublicDossierAnswer {
        code: d.code.clone(),
        procedure: (&d.procedure).into(),
        status: d.status.clone(),
        status_label: d.status_label.into(),
        submitted_at: d.submitted_at.map(t),
        acknowledge_by: d.acknowledge_by.map(t),
        received_at: d.received_at.map(t),
        due_at: d.due_at.map(t),
        reappointed_at: d.reappointed_at.map(t),
        finished_at: d.finished_at.map(t),
        current_agency: (&d.current_agency).into(),
        result_ready: d.result_ready,
        applicant_name: d.applicant_name.clone(),
        history: d
            .history
            .iter()
            .map(|h| PublicStatusChange {
                at: t(h.at),
                status: h.status.clone(),
                label: h.label.into(),
            })
            .collect(),
        requested: d.requested.as_ref().map(|r| PublicRequested {
            kind: r.kind.into(),
            at: t(r.at),
            items: r.items.clone(),
            reason: r.reason.clone(),
        }),
        fee: d.fee.as_ref().map(|f| PublicFee {
            amount: f.amount,
            paid: f.paid,
            outstanding: f.outstanding,
        }),
        results: d
            .results
            .iter()
            .map(|r| PublicResultLink {
                id: r.id.clone(),
                name: r.name.clone(),
                number: r.number.clone(),
                issued_on: r.issued_on.to_string(),
                download: format!(
                    "/api/v1/public/dossiers/{}/results/{}",
                    crate::web::encode(&d.code),
                    crate::web::encode(&r.id)
                ),
            })
            .collect(),
    };
    serde_json::to_string(&body).expect("the lookup's body serialises")
}

/// The applicant's rating of the service.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// The dossier's pin (mã tra cứu), as for the lookup.
    pub pin: String,
    /// The rating (mức độ hài lòng): `very_satisfied` (rất hài lòng), `satisfied` (hài
    /// lòng) or `unsatisfied` (không hài lòng).
    #[schema(value_type = String)]
    pub score: crate::core::machine::Satisfaction,
    /// What the applicant has to say: at most 2000 characters, several lines allowed.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A rating recorded.
#[derive(Serialize, ToSchema)]
pub struct RatingAnswer {
    /// The dossier's code.
    pub code: String,
    /// Always `true`.
    pub rated: bool,
    /// The sequence number of the rating's event in the dossier's history.
    pub seq: i32,
}

/// Rate the service
///
/// The applicant rates the handling of their dossier (đánh giá mức độ hài lòng, QĐ 766
/// Index 7), proven by the dossier's code and pin: once, after the result is returned.
/// Recorded as the dossier's `rate` event by the applicant, with its audit record. A wrong
/// code or pin is the lookup's one `404` and counts as a failed guess of the lookup;
/// throttled the same way. Not idempotent: a second rating is refused (`409
/// already_rated`).
#[utoipa::path(
    post,
    path = "/api/v1/public/dossiers/{code}/rating",
    operation_id = "rate_dossier",
    tag = "public",
    params(("code" = String, Path, description = "The dossier's code, as on the receipt.")),
    request_body = RatingRequest,
    responses(
        (status = 201, description = "The rating is recorded; `Cache-Control: no-store`.", body = RatingAnswer),
        (status = 404, description = NOT_FOUND, body = ErrorBody),
        (status = 409, description = "`invalid_state`: the result has not been returned yet; `not_received`, `dossier_refused`: an online submission never received, or refused at intake; `already_rated`: the dossier has been rated already.", body = ErrorBody),
        (status = 422, description = "`text_too_long`: a comment over 2000 characters; `invalid_text`: a comment holding a control character or a bidirectional override.", body = ErrorBody),
        (status = 429, description = THROTTLED, body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again."))),
    ),
)]
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
        .json(RatingAnswer {
            code: r.dossier.code,
            rated: true,
            seq: r.seq,
        }))
}
