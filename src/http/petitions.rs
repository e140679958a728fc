//! Petitions (*phản ánh, kiến nghị*) over JSON: the public submission and status, the
//! staff's queue, read and commands. The pages are `web::petitions`.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{client_address, Authenticated};
use super::error::{ApiError, ApiResult};
use super::openapi::ErrorBody;
use super::public::{Named, THROTTLED};
use super::{blocking, rfc3339, AppData};
use crate::core::petition::{AnswerOutcome, PetitionKind, PetitionStatus};
use crate::service::petitions::{
    PetitionCommand, PetitionQuery, PetitionTab, PetitionView, SubmitRequest,
};
use crate::service::queue::Urgency;

/// This module's part of the API description.
#[derive(utoipa::OpenApi)]
#[openapi(paths(submit, status, queue, get, event))]
pub(super) struct Doc;

fn at(t: DateTime<Utc>, offset: FixedOffset) -> String {
    rfc3339(t.fixed_offset(), offset)
}

/// A petition accepted.
#[derive(Serialize, ToSchema)]
pub struct SubmittedAnswer {
    /// The petition's code, `<prefix>-<yymmdd>-<NNNN>`, e.g. `PA-260310-0001`.
    pub code: String,
    /// Its pin: with the code, what shows the petition's status. Given only here, and
    /// stored only as a keyed hash.
    pub pin: String,
    /// `report` or `proposal`.
    #[schema(value_type = String)]
    pub kind: PetitionKind,
    /// Always `received`.
    #[schema(value_type = String)]
    pub status: PetitionStatus,
    #[schema(format = DateTime)]
    pub submitted_at: String,
    /// By when the agency answers (counted in working time from the submission).
    #[schema(format = DateTime)]
    pub due_at: String,
    /// The deadline in words, e.g. `10 ngày làm việc`.
    pub answer_within: String,
    /// The deadline's legal source.
    pub source: String,
    /// The agency that answers.
    pub agency: Named,
    /// The public page of the petition's status (asks for the pin).
    pub status_url: String,
}

/// A petition as its submitter sees it with the pin.
#[derive(Serialize, ToSchema)]
pub struct PublicPetitionAnswer {
    pub code: String,
    /// `report` or `proposal`.
    #[schema(value_type = String)]
    pub kind: PetitionKind,
    /// Its Vietnamese label: `Phản ánh` or `Kiến nghị`.
    pub kind_label: String,
    /// `received`, `assigned`, `answered` or `closed`.
    #[schema(value_type = String)]
    pub status: PetitionStatus,
    /// Its Vietnamese label, e.g. `Đang xử lý`.
    pub status_label: String,
    #[schema(format = DateTime)]
    pub submitted_at: String,
    /// By when the agency answers.
    #[schema(format = DateTime)]
    pub due_at: String,
    /// The agency that answers.
    pub agency: Named,
    /// The dossier it is about, if any.
    pub dossier_code: Option<String>,
    /// The submitter's name, masked (`Nguyễn V. A.`).
    pub submitter_name: String,
    pub content: String,
    /// The agency's answer (văn bản trả lời); `null` until answered.
    pub answer: Option<String>,
    #[schema(format = DateTime)]
    pub answered_at: Option<String>,
    /// `on_time` or `late` (against `due_at`); `null` until answered.
    #[schema(value_type = Option<String>)]
    pub outcome: Option<AnswerOutcome>,
}

/// Who sent a petition.
#[derive(Serialize, ToSchema)]
pub struct Submitter {
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A petition as staff read it.
#[derive(Serialize, ToSchema)]
pub struct PetitionAnswer {
    /// The petition's code, e.g. `PA-260310-0001`.
    pub code: String,
    /// `report` (phản ánh) or `proposal` (kiến nghị).
    #[schema(value_type = String)]
    pub kind: PetitionKind,
    pub kind_label: String,
    /// `received` (waiting for a leader to assign it), `assigned`, `answered` or
    /// `closed`.
    #[schema(value_type = String)]
    pub status: PetitionStatus,
    pub status_label: String,
    #[schema(format = DateTime)]
    pub submitted_at: String,
    /// By when it must be answered.
    #[schema(format = DateTime)]
    pub due_at: String,
    /// The deadline in words, as fixed at submission.
    pub answer_within: String,
    /// The agency that answers.
    pub agency: Named,
    /// The dossier it is about, if any.
    pub dossier_code: Option<String>,
    /// The submitter, unmasked.
    pub submitter: Submitter,
    pub content: String,
    /// The username of the official it is assigned to.
    pub assignee: Option<String>,
    /// The answer (văn bản trả lời), once given.
    pub answer: Option<String>,
    #[schema(format = DateTime)]
    pub answered_at: Option<String>,
    /// Who answered (a username).
    pub answered_by: Option<String>,
    /// `on_time` or `late`; `null` until answered.
    #[schema(value_type = Option<String>)]
    pub outcome: Option<AnswerOutcome>,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
    /// Working minutes left until `due_at` (negative past it); `null` once answered.
    pub remaining_working_minutes: Option<i64>,
    /// `ok`, `due_soon` (at most one working day left) or `overdue`; `null` once
    /// answered.
    #[schema(value_type = Option<String>)]
    pub urgency: Option<Urgency>,
    /// The commands the caller may give now (`assign`, `answer`, `close`): what
    /// `POST /api/v1/petitions/{code}/events` accepts from them.
    pub actions: Vec<&'static str>,
}

impl PetitionAnswer {
    fn of(v: &PetitionView, offset: FixedOffset) -> Self {
        let t = |x: Option<DateTime<Utc>>| x.map(|x| at(x, offset));
        Self {
            code: v.code.clone(),
            kind: v.kind,
            kind_label: v.kind_label.into(),
            status: v.status,
            status_label: v.status_label.into(),
            submitted_at: at(v.submitted_at, offset),
            due_at: at(v.due_at, offset),
            answer_within: v.answer_within.clone(),
            agency: (&v.agency).into(),
            dossier_code: v.dossier_code.clone(),
            submitter: Submitter {
                full_name: v.submitter_name.clone(),
                email: v.email.clone(),
                phone: v.phone.clone(),
            },
            content: v.content.clone(),
            assignee: v.assignee.clone(),
            answer: v.answer.clone(),
            answered_at: t(v.answered_at),
            answered_by: v.answered_by.clone(),
            outcome: v.outcome,
            closed_at: t(v.closed_at),
            remaining_working_minutes: v.remaining_working_minutes,
            urgency: v.urgency,
            actions: v.actions.clone(),
        }
    }
}

/// How many petitions each tab holds (with the `kind` and `assignee` filters).
#[derive(Serialize, ToSchema)]
pub struct TabCounts {
    /// Not answered yet.
    pub open: i64,
    /// Open, due within one working day.
    pub due_soon: i64,
    /// Open, past their due moment.
    pub overdue: i64,
    pub answered: i64,
    pub closed: i64,
}

/// A page of the petitions queue.
#[derive(Serialize, ToSchema)]
pub struct PetitionQueueAnswer {
    /// The tab shown: `open`, `due_soon`, `overdue`, `answered` or `closed`.
    #[schema(value_type = String)]
    pub tab: PetitionTab,
    pub counts: TabCounts,
    /// The page, soonest due first.
    pub items: Vec<PetitionAnswer>,
    /// More follow: ask with a greater `offset`.
    pub more: bool,
}

/// Submit a petition
///
/// A citizen's or an organisation's petition (phản ánh, kiến nghị, NĐ 20/2008) about an
/// agency or one of its dossiers, without an account. Stored with its code, a pin and its
/// due moment (`config/petitions.toml`: 10 working days by default), its audit record and
/// the acknowledgement e-mail (when an address is given), in one transaction; nothing is
/// stored on any error. A dossier named is proven with its pin: a wrong code or pin is the
/// lookup's one `404` and counts as a failed guess. Accepted submissions are limited per
/// address and window (`429 too_many_petitions`). Not idempotent: each accepted request is
/// a new petition. `Cache-Control: no-store` (the pin).
#[utoipa::path(
    post,
    path = "/api/v1/public/petitions",
    operation_id = "submit_petition",
    tag = "public",
    request_body = SubmitRequest,
    responses(
        (status = 201, description = "The petition is received: its code, its pin (shown only here), its due moment and its status page.", body = SubmittedAnswer),
        (status = 404, description = "`not_found`: the dossier named (`dossier_code`) does not exist or its pin is wrong: the dossier lookup's one answer, counted as a failed guess of it; also a query string holding a control character or a bidirectional override.", body = ErrorBody),
        (status = 422, description = "A field refused: the first one's code in `error`, every one in `details.fields` (`[{field, error, message}]`). `invalid_kind`; `invalid_full_name`: empty, too long or not a name; `invalid_email`; `invalid_phone`; `invalid_agency`: no such agency; `missing_agency`: neither an agency nor a dossier; `missing_pin`: a dossier code without its pin; `missing_content`; `content_too_long`; `invalid_content`: a control character or a bidirectional override.", body = ErrorBody),
        (status = 429, description = "`too_many_petitions`: this address has sent its share of petitions in the window (`submissions_per_address` per `window_minutes`); or, for a dossier named, the lookup's throttle: `too_many_attempts`. Try again after `Retry-After` seconds.", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again."))),
    ),
)]
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
        .json(SubmittedAnswer {
            code: s.code,
            pin: s.pin,
            kind: s.kind,
            status: s.status,
            submitted_at: at(s.submitted_at, offset),
            due_at: at(s.due_at, offset),
            answer_within: s.answer_within,
            source: s.source,
            agency: (&s.agency).into(),
            status_url: s.status_url,
        }))
}

/// A petition's status
///
/// What the submitter sees of their petition with its code and pin: its status, due
/// moment and, once given, the answer. Every failure — unknown code, wrong or missing pin
/// — is the same `404` and counts as a failed guess, throttled as the dossier lookup
/// (`429`). `Cache-Control: no-store`.
#[utoipa::path(
    get,
    path = "/api/v1/public/petitions/{code}",
    operation_id = "petition_status",
    tag = "public",
    params(
        ("code" = String, Path, description = "The petition's code, e.g. `PA-260310-0001` (case-insensitive)."),
        ("pin" = String, Query, description = "The petition's pin, given at submission. Missing: the same `404` as a wrong one."),
    ),
    responses(
        (status = 200, description = "The petition as its submitter sees it.", body = PublicPetitionAnswer),
        (status = 404, description = "`not_found`: no such petition, or a wrong or missing pin (one answer for all); also a path or query string holding a control character or a bidirectional override. Counted as a failed guess.", body = ErrorBody),
        (status = 429, description = THROTTLED, body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again."))),
    ),
)]
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
        .json(PublicPetitionAnswer {
            code: p.code,
            kind: p.kind,
            kind_label: p.kind_label.into(),
            status: p.status,
            status_label: p.status_label.into(),
            submitted_at: at(p.submitted_at, offset),
            due_at: at(p.due_at, offset),
            agency: (&p.agency).into(),
            dossier_code: p.dossier_code,
            submitter_name: p.submitter_name,
            content: p.content,
            answer: p.answer,
            answered_at: p.answered_at.map(|t| at(t, offset)),
            outcome: p.outcome,
        }))
}

/// The petitions queue
///
/// The petitions of the caller's agency and the agencies below it, one tab at a time,
/// soonest due first (then by code), with every tab's count. For staff of the roles
/// `clerk`, `official`, `leader`, `inspector` and `admin`. Reads only.
#[utoipa::path(
    get,
    path = "/api/v1/petitions",
    operation_id = "petition_queue",
    tag = "petitions",
    params(
        ("tab" = Option<String>, Query, description = "`open` (not answered; the default), `due_soon` (open, due within one working day), `overdue` (open, past due), `answered` or `closed`."),
        ("kind" = Option<String>, Query, description = "Only `report` (phản ánh) or `proposal` (kiến nghị)."),
        ("assignee" = Option<String>, Query, description = "Only those assigned to this username, or to the caller with `me`."),
        ("limit" = Option<i64>, Query, description = "The page's size, 1 to 200; 50 by default."),
        ("offset" = Option<i64>, Query, minimum = 0, maximum = 1000000, description = "How many to skip, from 0 (the default) to 1,000,000."),
    ),
    responses(
        (status = 200, description = "The page and the tabs' counts.", body = PetitionQueueAnswer),
        (status = 400, description = "`invalid_tab`: an unknown tab; `invalid_limit`: `limit` or `offset` not a whole number or out of range; `invalid_kind`: an unknown kind.", body = ErrorBody),
        (status = 403, description = "`forbidden`: the account's role does not read petitions (a portal client).", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
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
    let count = |t: PetitionTab| view.counts.get(t.as_str()).copied().unwrap_or(0);
    Ok(HttpResponse::Ok().json(PetitionQueueAnswer {
        tab: view.tab,
        counts: TabCounts {
            open: count(PetitionTab::Open),
            due_soon: count(PetitionTab::DueSoon),
            overdue: count(PetitionTab::Overdue),
            answered: count(PetitionTab::Answered),
            closed: count(PetitionTab::Closed),
        },
        items: view
            .items
            .iter()
            .map(|v| PetitionAnswer::of(v, offset))
            .collect(),
        more: view.more,
    }))
}

/// One petition
///
/// A petition of the caller's agency or an agency below it, with the submitter's contact
/// and the commands the caller may give now. For the staff roles that read the queue.
#[utoipa::path(
    get,
    path = "/api/v1/petitions/{code}",
    operation_id = "get_petition",
    tag = "petitions",
    params(("code" = String, Path, description = "The petition's code, e.g. `PA-260310-0001`.")),
    responses(
        (status = 200, description = "The petition.", body = PetitionAnswer),
        (status = 403, description = "`forbidden`: the account's role does not read petitions (a portal client).", body = ErrorBody),
        (status = 404, description = "`not_found`: no such petition in the caller's agency or below it.", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
pub async fn get(
    app: AppData,
    who: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let a = app.get_ref().clone();
    let v = blocking(move || a.petition_detail(&who.0, &code, a.clock.now())).await?;
    Ok(HttpResponse::Ok().json(PetitionAnswer::of(&v, app.settings.offset)))
}

/// Assign, answer or close a petition
///
/// A staff command on a petition of the caller's agency or below it: `assign` (a leader
/// of the petition's agency gives it to one of its officials or leaders), `answer` (a
/// leader or the assignee; the answer is e-mailed to the submitter and its outcome,
/// on time or late, is fixed) or `close` (an answered petition; a leader or whoever
/// answered). Each is one transaction with its audit record (and the e-mail's outbox
/// entry). The petition's `actions` say which commands the caller may give. Not
/// idempotent: a repeated `answer` or `close` is refused (`409 invalid_state`).
#[utoipa::path(
    post,
    path = "/api/v1/petitions/{code}/events",
    operation_id = "petition_event",
    tag = "petitions",
    params(("code" = String, Path, description = "The petition's code, e.g. `PA-260310-0001`.")),
    request_body = PetitionCommand,
    responses(
        (status = 200, description = "The petition as it is after the command.", body = PetitionAnswer),
        (status = 403, description = "`forbidden`: the account's role does not read petitions, or the command is not the caller's to give (assign: a leader of the petition's agency; answer: such a leader or the assignee; close: such a leader or whoever answered).", body = ErrorBody),
        (status = 404, description = "`not_found`: no such petition in the caller's agency or below it.", body = ErrorBody),
        (status = 409, description = "`invalid_state`: the petition's status forbids the command (assign and answer only before the answer, close only after it).", body = ErrorBody),
        (status = 422, description = "`missing_answer`: an empty answer; `invalid_answer`: an answer too long or holding a control character or a bidirectional override; `invalid_assignee`: not an official or a leader of the petition's agency.", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
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
    Ok(HttpResponse::Ok().json(PetitionAnswer::of(&v, app.settings.offset)))
}
