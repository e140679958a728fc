//! Dossiers for staff and portals: intake, list, read, events, queue, the portals' feed,
//! and the forms of the counter.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::auth::Authenticated;
use super::error::{ApiError, ApiResult};
use super::openapi::ErrorBody;
use super::{blocking, rfc3339, AppData};
use crate::service::actions::ActionView;
use crate::service::dossiers::ListQuery;
use crate::service::intake::{
    paper_kind_label, GuidanceRequest, IntakeRequest, Proxy, RefusalRequest, ResubmitRequest,
};
use crate::service::queue::Urgency;
use crate::service::views::{DossierDetail, DossierView, EventView, PaperView, ProgressView};

/// This module's part of the API description.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create,
        list,
        get,
        receipt,
        notice,
        event,
        actions,
        resubmit,
        queue,
        portal_changes,
        guidance,
        refusal
    ),
    modifiers(&ClosedEvents)
)]
pub(super) struct Doc;

/// Each kind of [`DossierEventBody`] with fields takes them and no others, as the event the
/// handler reads (`deny_unknown_fields`, which utoipa carries to structs but not to the
/// variants of an enum). The kinds without fields (`receive`, `accept`, `resume`) ignore
/// any other field: serde does not hold a unit variant of an internally tagged enum to
/// `deny_unknown_fields`.
struct ClosedEvents;

impl utoipa::Modify for ClosedEvents {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        use utoipa::openapi::RefOr;
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let Some(RefOr::T(Schema::OneOf(kinds))) = components.schemas.get_mut("DossierEventBody")
        else {
            return;
        };
        for kind in &mut kinds.items {
            if let RefOr::T(Schema::Object(o)) = kind {
                if o.properties.len() > 1 {
                    o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
                }
            }
        }
    }
}

// ---- The answers ----

/// An agency named by its code, with its name from the agency list (`null` for a code the
/// list no longer has).
#[derive(Serialize, ToSchema)]
pub struct DossierAgency {
    /// Its code, e.g. `000.00.51.H26`.
    pub code: String,
    pub name: Option<String>,
}

/// The procedure a dossier is for, in the version in force when it was submitted.
#[derive(Serialize, ToSchema)]
pub struct DossierProcedure {
    /// Its code in the catalogue.
    pub code: String,
    /// Its catalogue version.
    pub version: i32,
    /// Its current name in the catalogue; `null` for a code the catalogue no longer has.
    pub name: Option<String>,
}

/// The applicant (*người nộp hồ sơ*).
#[derive(Serialize, ToSchema)]
pub struct DossierApplicant {
    /// The full name; in a queue line masked (`masked: true`), the family name whole and
    /// the other parts as initials (`Nguyễn V. A.`).
    pub full_name: String,
    /// `personal_id`, `passport` or `tax_code`; `null` only when masked.
    pub id_kind: Option<String>,
    /// `null` only when masked.
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    /// Present, `true`, only in a queue line outside the caller's scope (a hand-over
    /// waiting for the caller's agency): the personal data are left out.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schema(required = false)]
    pub masked: bool,
}

/// The statutory time (*thời hạn giải quyết*) the dossier was received with.
#[derive(Serialize, ToSchema)]
pub struct DossierStatutoryTime {
    pub amount: i32,
    /// `working_days`, `working_hours`, `calendar_days` or `same_day`.
    pub unit: String,
    /// For `same_day`: the local time (`HH:MM`) before which a dossier is done the same
    /// day.
    pub cutoff: Option<String>,
}

/// The tracking book's line (*sổ theo dõi hồ sơ*), given at the official receipt: the
/// volume is the year, the lines count from 1 at each receiving agency.
#[derive(Serialize, ToSchema)]
pub struct DossierBook {
    /// `null` until the official receipt.
    pub volume: Option<i32>,
    /// `null` until the official receipt.
    pub line: Option<i64>,
}

/// A dossier (*hồ sơ*) as every staff and portal answer shows it.
#[derive(Serialize, ToSchema)]
pub struct Dossier {
    /// Its code (*mã hồ sơ*, NĐ 118/2025 Art. 28(2)), e.g. `000.00.51.H26-261102-0001`.
    pub code: String,
    pub procedure: DossierProcedure,
    /// The rule set in force at receipt (`config/rules.toml`), e.g. `nd118-2025`.
    pub rule_set: String,
    /// `submitted`, `needs_correction`, `refused_at_intake` (online, before the official
    /// receipt), `received`, `in_progress`, `supplement_requested`, `paused`,
    /// `approved`, `refused`, `returned`, `stopped` or `closed`.
    pub status: String,
    /// `counter`, `online` or `post`.
    pub channel: String,
    /// The one-stop desk that received it (*nơi tiếp nhận*).
    pub receiving_agency: DossierAgency,
    /// The agency competent to decide (*cơ quan có thẩm quyền*); `null` when the route
    /// names none.
    pub competent_agency: Option<DossierAgency>,
    /// The agency holding it now.
    pub current_agency: DossierAgency,
    pub applicant: DossierApplicant,
    /// The proxy (*người được ủy quyền*) as given at intake; `null` without one (and in a
    /// masked queue line).
    #[schema(value_type = Option<Proxy>)]
    pub proxy: Option<Value>,
    /// `null` in a masked queue line.
    pub note: Option<String>,
    /// The official receipt; `null` while an online submission waits for it.
    #[schema(format = DateTime)]
    pub received_at: Option<String>,
    /// The statutory due moment (*ngày hẹn trả*), moved by stopped time; `null` until
    /// the official receipt.
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    /// The new appointment after a delay (*hẹn lại*, form 04).
    #[schema(format = DateTime)]
    pub reappointed_at: Option<String>,
    /// When it was returned, stopped or closed.
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    /// `early`, `on_time` or `late` against the due moment, fixed at return; `null`
    /// before.
    pub outcome: Option<String>,
    /// A decision (approval or refusal) exists to hand to the applicant.
    pub result_ready: bool,
    pub statutory_time: DossierStatutoryTime,
    /// The account (clerk or portal) that received or submitted it.
    pub received_by: String,
    pub book: DossierBook,
}

/// A step of the dossier's route (*quy trình nội bộ*), with its own due moment.
#[derive(Serialize, ToSchema)]
pub struct DossierStep {
    /// From 1.
    pub no: i32,
    pub name: String,
    pub agency: DossierAgency,
    /// The role that works on it (`clerk`, `official`, `leader`).
    pub role: String,
    /// Its share of the statutory time, against the other steps' shares.
    pub share: i32,
    #[schema(format = DateTime)]
    pub due_at: String,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub ended_at: Option<String>,
    /// `early`, `on_time` or `late`, once ended.
    pub outcome: Option<String>,
}

/// A paper of the dossier (*thành phần hồ sơ*).
#[derive(Serialize, ToSchema)]
pub struct DossierPaper {
    /// From 1.
    pub position: i32,
    pub name: String,
    /// `original`, `certified_copy` or `copy`.
    pub kind: String,
    /// The kind in Vietnamese (`Bản chính`, `Bản sao có chứng thực`, `Bản sao`).
    pub kind_label: &'static str,
    pub count: i32,
    /// The data-store document reused for it (*tái sử dụng*), if any.
    pub reuse_document_id: Option<String>,
}

/// An event of the dossier's history (*quá trình xử lý*).
#[derive(Serialize, ToSchema)]
pub struct DossierHistoryEntry {
    /// Its number in the dossier's history, from 1.
    pub seq: i32,
    /// The event's type: `receive` (at the counter, or the desk's official receipt),
    /// `submit` (online), `resubmit`, or one of the events endpoint's types.
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(format = DateTime)]
    pub at: String,
    /// The account that recorded it.
    pub actor: String,
    /// The code of the agency it was recorded at.
    pub agency: String,
    /// The dossier's status after it.
    pub status_after: String,
    /// What it carried: the event as sent (text cleaned) and what it set (e.g. `due_at`,
    /// `from_agency`, `transfer`, `step`, `result_document`); free-form by type.
    #[schema(value_type = Object)]
    pub data: Value,
}

/// Where the dossier's forms are.
#[derive(Serialize, ToSchema)]
pub struct DossierForms {
    /// Form 01, the receipt (`…/forms/receipt.pdf`).
    pub receipt: String,
    /// Form 06, the process-control slip (`…/forms/control.pdf`).
    pub control: String,
}

/// Everything the staff read of a dossier shows: the dossier, where its processing
/// stands, its route, papers, files, documents and history.
#[derive(Serialize, ToSchema)]
pub struct DossierRecord {
    #[serde(flatten)]
    pub dossier: Dossier,
    /// The agency a hand-over waits for, to accept it.
    pub pending_handover: Option<DossierAgency>,
    /// The official assigned (*phân công*), by username.
    pub assignee: Option<String>,
    /// The due moment set at receipt, before any supplement counted the time again.
    #[schema(format = DateTime)]
    pub first_due_at: Option<String>,
    /// A supplement requested after this moment is late (NĐ 118/2025 Art. 19(5)).
    #[schema(format = DateTime)]
    pub supplement_request_by: Option<String>,
    /// When an online submission arrived.
    #[schema(format = DateTime)]
    pub submitted_at: Option<String>,
    /// By when the desk must answer the online submission's current round.
    #[schema(format = DateTime)]
    pub acknowledge_by: Option<String>,
    /// How many times the desk sent the online submission back for correction.
    pub correction_rounds: i32,
    /// Since when the clock stands still (a supplement or a pause).
    #[schema(format = DateTime)]
    pub clock_stopped_at: Option<String>,
    /// Supplement requests (*yêu cầu bổ sung*) made so far.
    pub supplement_requests: i32,
    /// A delay (form 04) was given.
    pub delayed: bool,
    /// Whether the result came by the re-appointed date; `null` without a delay or
    /// before the end.
    pub reappointment_kept: Option<bool>,
    /// The applicant's rating was recorded.
    pub rated: bool,
    /// The `no` of the route step the dossier is in; `null` between stages.
    pub current_step: Option<i32>,
    /// The route, in order.
    pub steps: Vec<DossierStep>,
    /// The agencies that have held it.
    pub handled_by: Vec<DossierAgency>,
    pub papers: Vec<DossierPaper>,
    /// The files uploaded (scans, electronic results): each `{id, file_name,
    /// paper_position, document_id, sha256, size, media_type, uploaded_at, uploaded_by,
    /// url}`.
    #[schema(value_type = Vec<Object>)]
    pub files: Value,
    /// Its documents in the applicant data store (results issued, digitised papers): each
    /// `{id, kind, name, number, issuing_agency, issued_on, valid_until, dossier_code,
    /// procedure_code, electronic, retention, retain_until, source}`.
    #[schema(value_type = Vec<Object>)]
    pub documents: Value,
    /// Every paper has a file or a reused document (*đã số hóa*).
    pub digitised: bool,
    /// At least one paper was satisfied by a document of the data store.
    pub reused: bool,
    /// The history, oldest first.
    pub events: Vec<DossierHistoryEntry>,
    pub forms: DossierForms,
}

/// A page of the staff list.
#[derive(Serialize, ToSchema)]
pub struct DossierList {
    pub dossiers: Vec<Dossier>,
    /// The `offset` of the next page; `null` when this page is not full.
    pub next_offset: Option<i64>,
}

/// What `POST /api/v1/dossiers` answers.
#[derive(Serialize, ToSchema)]
pub struct IntakeReceipt {
    /// The dossier's code.
    pub code: String,
    /// The applicant's lookup pin (*mã tra cứu*), shown only in this answer (and its
    /// repeats with the same `Idempotency-Key`); printed on form 01.
    pub pin: String,
    /// `received` at the counter, `submitted` for an online submission.
    pub status: String,
    /// An online submission's arrival.
    #[schema(format = DateTime)]
    pub submitted_at: Option<String>,
    /// By when the desk must answer an online submission (NĐ 118/2025 Art. 17(2)).
    #[schema(format = DateTime)]
    pub acknowledge_by: Option<String>,
    /// The official receipt; `null` for an online submission.
    #[schema(format = DateTime)]
    pub received_at: Option<String>,
    /// The statutory due moment; `null` until the official receipt.
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    pub procedure: IntakeProcedure,
    /// The statutory time in Vietnamese as printed, e.g. `10 ngày làm việc`.
    pub statutory_time: String,
    pub rule_set: String,
    pub channel: String,
    /// The receiving agency's code.
    pub receiving_agency: String,
    /// The competent agency's code, if any.
    pub competent_agency: Option<String>,
    pub book: DossierBook,
    /// Form 01 (with `?pin=` the pin is printed); `null` until the official receipt.
    pub receipt_url: Option<String>,
    /// The citizens' status page for the dossier (`/tra-cuu/{code}`).
    pub status_url: String,
}

/// The procedure of a new dossier.
#[derive(Serialize, ToSchema)]
pub struct IntakeProcedure {
    pub code: String,
    pub name: String,
    pub version: i32,
}

/// The dossier after an event, as the events endpoint answers it.
#[derive(Serialize, ToSchema)]
pub struct DossierAfterEvent {
    #[serde(flatten)]
    pub dossier: Dossier,
    /// The code of the agency a hand-over waits for (a code here, not an object).
    pub pending_handover: Option<String>,
    /// The official assigned, by username.
    pub assignee: Option<String>,
    pub supplement_requests: i32,
    /// Whether the result came by the re-appointed date; `null` without a delay or
    /// before the end.
    pub reappointment_kept: Option<bool>,
    /// The due moment set at receipt.
    #[schema(format = DateTime)]
    pub first_due_at: Option<String>,
}

/// What the events endpoint answers.
#[derive(Serialize, ToSchema)]
pub struct EventAnswer {
    /// The event's number in the dossier's history (for a dry run: the number it would
    /// take).
    pub seq: i32,
    pub dossier: DossierAfterEvent,
    /// The form the event issued (`request_supplement` and `request_correction`: 02;
    /// `refuse` and a refusing `decide`: 03; `delay`: 04; `stop`: 05); absent otherwise and
    /// on a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form_url: Option<String>,
    /// For `request_supplement` only: the request came after the rule set's limit
    /// (NĐ 118/2025 Art. 19(5)); accepted, but counted late.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_request: Option<bool>,
    /// For the hand-over that takes a received dossier out of the receiving desk: its own
    /// due moment and whether it was met (NĐ 118/2025 Art. 18(2)); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<DeskTransfer>)]
    pub transfer: Option<Value>,
    /// The route stage the event ended (a hand-over or the return), with its outcome;
    /// absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<StageEnd>)]
    pub step: Option<Value>,
    /// Present, `true`, on a dry run: nothing was recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// The receiving desk's transfer (*chuyển hồ sơ*) against its due moment (described here;
/// the answer carries the values as recorded in the event).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DeskTransfer {
    /// The transfer's due moment.
    #[schema(format = DateTime)]
    due_at: String,
    /// `on_time` or `late`.
    outcome: String,
}

/// A route stage that ended (described here; the answer carries the values as recorded in
/// the event).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StageEnd {
    /// The `no` of the steps it ended.
    steps: Vec<u32>,
    /// The stage's name.
    name: String,
    /// The stage's due moment.
    #[schema(format = DateTime)]
    due_at: String,
    /// `early`, `on_time` or `late`.
    outcome: String,
}

/// Every action of the dossier's life for the caller now.
#[derive(Serialize, ToSchema)]
pub struct ActionList {
    /// In a fixed order: `receive`, `request_correction`, `refuse`, `accept`, `assign`,
    /// `propose`, `handover`, `request_supplement`, `supplement_received`, `pause`,
    /// `resume`, `delay`, `decide`, `return`, `close`, `stop`, `payment`, `rate`.
    pub actions: Vec<ActionView>,
}

/// What a resubmission answers.
#[derive(Serialize, ToSchema)]
pub struct Resubmission {
    pub code: String,
    /// `submitted` again.
    pub status: &'static str,
    /// The desk's new limit to answer.
    #[schema(format = DateTime)]
    pub acknowledge_by: Option<String>,
    /// How many times the desk has sent it back.
    pub correction_rounds: i32,
}

/// The route step a queued dossier is in at the caller's agency.
#[derive(Serialize, ToSchema)]
pub struct QueueStep {
    pub no: i32,
    pub name: String,
    pub role: String,
    /// The step's own due moment.
    #[schema(format = DateTime)]
    pub due_at: String,
    /// Working minutes left until the step's due moment (negative past it).
    pub remaining_working_minutes: i64,
    pub urgency: Urgency,
}

/// A line of the work queue.
#[derive(Serialize, ToSchema)]
pub struct QueueEntry {
    #[serde(flatten)]
    pub dossier: Dossier,
    /// `false` for a dossier only being handed to the caller's agency: shown to be
    /// accepted, its applicant masked, `proxy` and `note` `null`.
    pub in_scope: bool,
    /// The code of the agency a hand-over waits for.
    pub pending_handover: Option<String>,
    /// The official assigned, by username.
    pub assignee: Option<String>,
    /// For an online submission not received yet: by when the desk must answer it.
    #[schema(format = DateTime)]
    pub acknowledge_by: Option<String>,
    /// Working minutes left until the due moment (negative when overdue; frozen while the
    /// clock is stopped).
    pub remaining_working_minutes: i64,
    pub urgency: Urgency,
    /// The route step it is in at the caller's agency; `null` off the route.
    pub step: Option<QueueStep>,
}

/// A page of the work queue.
#[derive(Serialize, ToSchema)]
pub struct QueuePage {
    pub queue: Vec<QueueEntry>,
    /// The `offset` of the next page; `null` when this page is not full.
    pub next_offset: Option<i64>,
}

/// A dossier of the portal whose state changed.
#[derive(Serialize, ToSchema)]
pub struct PortalChange {
    pub code: String,
    /// As [`Dossier`]'s `status`.
    pub status: String,
    /// The status in Vietnamese, as shown to citizens.
    pub status_label: Option<&'static str>,
    pub current_agency: DossierAgency,
    /// The change's moment (to the microsecond).
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// `null` until the official receipt.
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    #[schema(format = DateTime)]
    pub reappointed_at: Option<String>,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    /// `early`, `on_time` or `late`, once returned.
    pub outcome: Option<String>,
    pub result_ready: bool,
}

/// A page of the portal's changes feed.
#[derive(Serialize, ToSchema)]
pub struct PortalChanges {
    /// Oldest change first.
    pub changes: Vec<PortalChange>,
    /// Where to resume (`?cursor=`): the last change of this page, or the cursor given
    /// when there is none; `null` on a first call with nothing to report.
    pub cursor: Option<String>,
}

/// A PDF file (the bytes; described here, sent as they are).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary, content_media_type = "application/pdf")]
#[allow(dead_code)]
pub struct PdfFile(Vec<u8>);

// ---- The events endpoint's body ----

/// An event of the dossier's life (*sự kiện*), as `POST /api/v1/dossiers/{code}/events`
/// takes it: an object whose `type` says which, with that type's fields and no others
/// (the kinds without fields, `receive`, `accept` and `resume`, ignore any other).
///
/// This type describes the body; the handler reads it as `core::machine::Event`, and a
/// unit test holds the two to the same JSON.
#[derive(Debug, PartialEq, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[allow(dead_code)]
pub enum DossierEventBody {
    /// Tiếp nhận chính thức: the one-stop desk that an online submission was sent to
    /// receives it; from now the statutory time runs (NĐ 118/2025 Art. 17(3)). Clerk;
    /// status `submitted` → `received`.
    Receive,
    /// Yêu cầu bổ sung, hoàn thiện: the desk asks the online applicant, in one go, for
    /// what is missing (Art. 17(2), form 02). Clerk of the receiving desk; `submitted` →
    /// `needs_correction`; the portal sends the dossier again (`…/resubmit`).
    RequestCorrection {
        /// What to add or correct: 1 to 50 lines of at most 300 characters (blank ones
        /// dropped).
        items: Vec<String>,
        /// At most 2000 characters.
        reason: String,
    },
    /// Từ chối tiếp nhận: the desk refuses an online submission (form 03). Clerk of the
    /// receiving desk; `submitted` → `refused_at_intake` (terminal).
    Refuse {
        /// Required, at most 2000 characters.
        reason: String,
    },
    /// Bàn giao: the dossier goes to another agency (or back to the counter); it waits
    /// there until accepted. Clerk, official or leader of the agency holding it; in an
    /// open status or `approved`/`refused`, with no hand-over pending.
    Handover {
        /// The receiving agency's code (not the agency holding it).
        to_agency: String,
        /// A clerk, official or leader of the receiving agency, by username.
        #[serde(default)]
        to_user: Option<String>,
        /// `true` for an electronic hand-over, `false` for paper (counted apart).
        electronic: bool,
        /// At most 1000 characters.
        #[serde(default)]
        note: Option<String>,
    },
    /// Tiếp nhận bàn giao: the agency a hand-over waits for confirms it and holds the
    /// dossier; `received` → `in_progress`. Clerk, official or leader of that agency.
    Accept,
    /// Phân công: an official of the agency holding it handles it. Leader.
    Assign {
        /// An active account of the leader's agency, by username.
        user: String,
    },
    /// Trình phê duyệt: the official proposes the outcome to the leader, once until the
    /// decision. Official; `received` or `in_progress`.
    Propose {
        /// At most 2000 characters.
        #[serde(default)]
        note: Option<String>,
    },
    /// Yêu cầu bổ sung hồ sơ (form 02): the clock stops. Official or leader;
    /// `received`/`in_progress` → `supplement_requested`. A request after the rule set's
    /// limit is accepted but counted late (`late_request`).
    RequestSupplement {
        /// 1 to 50 lines of at most 300 characters.
        items: Vec<String>,
        /// At most 2000 characters.
        reason: String,
    },
    /// Nhận hồ sơ bổ sung: the clock runs again — from zero (`restart`) or where it
    /// stopped (`pause`), as the rule set says. Clerk, official or leader of the receiving
    /// desk or of the agency holding it; `supplement_requested` → `in_progress`.
    SupplementReceived {
        /// What was brought, kept as given (free-form objects, at most 50, 20 000
        /// characters in all).
        #[serde(default)]
        #[schema(value_type = Vec<Object>)]
        papers: Vec<Value>,
    },
    /// Tạm dừng for a lawful reason: the clock stops. Official or leader;
    /// `received`/`in_progress` → `paused`.
    Pause {
        /// At most 2000 characters.
        reason: String,
        /// The legal basis, at most 1000 characters.
        legal_basis: String,
    },
    /// Tiếp tục giải quyết: the clock runs again. Official or leader; `paused` →
    /// `in_progress`.
    Resume,
    /// Xin lỗi và hẹn lại ngày trả (form 04): once, at the latest the rule set's days
    /// before the due date. Official or leader; `received` or `in_progress`.
    Delay {
        /// At most 2000 characters.
        reason: String,
        /// The new appointment: after the due moment, at most the statutory time once
        /// more after it (see the `delay` action's `after` and `latest`).
        new_due_at: chrono::DateTime<chrono::FixedOffset>,
    },
    /// Dừng giải quyết at the applicant's request (form 05), while no decision exists.
    /// Clerk, official or leader of the agency holding it; an open status → `stopped`
    /// (terminal).
    Stop {
        /// At most 2000 characters.
        reason: String,
    },
    /// Đóng hồ sơ: the receiving desk closes a dossier whose supplement has not come
    /// within the rule set's wait (NĐ 118/2025 Art. 19(5)). Clerk of the receiving desk;
    /// `supplement_requested` → `closed` (terminal).
    Close {
        /// At most 2000 characters.
        reason: String,
    },
    /// Quyết định: approved (a result document is registered in the applicant data
    /// store) or refused (form 03). Leader; `received`/`in_progress` → `approved` or
    /// `refused`.
    Decide {
        #[schema(inline)]
        outcome: EventDecision,
        /// Required when refused; at most 2000 characters.
        #[serde(default)]
        reason: Option<String>,
        /// The result document issued with an approval (registered as `<dossier
        /// code>-KQ<n>`); defaults from the catalogue.
        #[serde(default)]
        #[schema(inline)]
        result: Option<EventResultInfo>,
    },
    /// Trả kết quả: fixes `finished_at` and the outcome (`early`, `on_time`, `late`),
    /// once. Clerk of the agency holding it; `approved`/`refused` → `returned`.
    Return {
        #[schema(inline)]
        channel: EventChannel,
    },
    /// Thu phí, lệ phí: a fee paid, at intake or later; any status but after a refusal at
    /// intake, stop or closure. Clerk, official or leader of an agency that holds,
    /// received or decides it, or the portal that submitted it; `online` only by the
    /// portal, or a clerk with the `reference`.
    Payment {
        /// In đồng, 1 to 10^12.
        amount: i64,
        #[schema(inline)]
        method: EventPaymentMethod,
        /// The receipt's number, at most 100 characters.
        #[serde(default)]
        reference: Option<String>,
    },
    /// Đánh giá mức độ hài lòng: once, after return (QĐ 766 Index 7). A clerk of the
    /// agency holding or having received it (a paper rating); `returned`.
    Rate {
        #[schema(inline)]
        score: EventSatisfaction,
        /// At most 2000 characters.
        #[serde(default)]
        comment: Option<String>,
    },
}

/// `approved` or `refused`.
#[derive(Debug, PartialEq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventDecision {
    Approved,
    Refused,
}

/// What the deciding agency says of the result document it issues.
#[derive(Debug, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct EventResultInfo {
    /// The document's name (at most 300 characters); default: the procedure's result
    /// document.
    #[serde(default)]
    name: Option<String>,
    /// Its number and symbol (*số, ký hiệu*), at most 100 characters.
    #[serde(default)]
    number: Option<String>,
    /// Valid until this date; absent: without limit.
    #[serde(default)]
    valid_until: Option<NaiveDate>,
}

/// How the result is handed over: `counter`, `online` or `post`.
#[derive(Debug, PartialEq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventChannel {
    Counter,
    Online,
    Post,
}

/// `cash` (tiền mặt), `online` (trực tuyến, counted by QĐ 766) or `transfer` (chuyển
/// khoản).
#[derive(Debug, PartialEq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventPaymentMethod {
    Cash,
    Online,
    Transfer,
}

/// `very_satisfied`, `satisfied` or `unsatisfied`.
#[derive(Debug, PartialEq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventSatisfaction {
    VerySatisfied,
    Satisfied,
    Unsatisfied,
}

/// `?dry_run=true`: check and preview the event without recording it.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// `true`: every check and the answer of the real thing, nothing recorded (no
    /// sequence number taken, no form, no notification); answered `200` with
    /// `dry_run: true`.
    pub dry_run: Option<bool>,
}

// ---- The handlers ----

/// Register a dossier
///
/// Intake (*tiếp nhận hồ sơ*, NĐ 118/2025 Art. 16–17). A one-stop clerk registers a
/// dossier handed in at the counter (`channel` `counter` or `post`): it is received at
/// once, at the clerk's agency, with its code, the tracking book's line, the statutory due
/// moment and the route. A portal submits an online dossier (`online`) to its own agency's
/// desk or to `receiving_agency`: it waits, `submitted`, for the desk's official receipt
/// (`POST …/events` `{"type": "receive"}`), which must come by `acknowledge_by`; `due_at`
/// and the book's line come with it. One transaction stores the dossier, its papers, its
/// first event, its notifications and the audit record. The pin is in this answer only.
///
/// With an `Idempotency-Key`, the same request repeated by the same account gets the
/// first answer, pin included, and registers nothing more; the key with another request is
/// refused.
#[utoipa::path(
    post,
    path = "/api/v1/dossiers",
    tag = "dossiers",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 128 printable ASCII characters, chosen by the client for this intake: a retry with the same key and the same body gets the first answer."),
    ),
    request_body = IntakeRequest,
    responses(
        (status = 201, description = "Registered (or the first answer, for a repeated key). `Cache-Control: no-store`: the answer carries the pin.", body = IntakeReceipt,
            headers(("Location" = String, description = "The dossier: `/api/v1/dossiers/{code}`."))),
        (status = 400, description = "`invalid_idempotency_key`: the `Idempotency-Key` is not 1 to 128 printable ASCII characters.", body = ErrorBody),
        (status = 403, description = "`forbidden`: only a one-stop clerk (`clerk`) or a portal registers dossiers, or the account's agency is no longer in the agency list.", body = ErrorBody),
        (status = 409, description = "`conflict`: a concurrent request with the same `Idempotency-Key` registered the dossier and its answer could not be read back; repeat the request.", body = ErrorBody),
        (status = 422, description = "Nothing stored. `invalid_channel`: not `counter`/`post` for a clerk, not `online` for a portal; `invalid_full_name`, `invalid_id_kind`, `invalid_id_number`, `invalid_phone`, `invalid_email`, `invalid_address`: the applicant's or the proxy's field; `invalid_proxy`: the proxy's relation; `invalid_paper`: a paper's name, kind or count, or more than 50 papers; `invalid_note`: the note; `unknown_procedure`: no procedure of that code in force; `invalid_reuse`: a `reuse_document_id` not of this applicant, expired or without its electronic copy; `missing_papers`: the papers do not satisfy the procedure's checklist (`details.missing` lists them); `invalid_receiving_agency`: a staff member names another agency, or the agency is unknown; `invalid_competent_agency`: the procedure names another agency, the agency is unknown or of the wrong level; `competent_agency_required`: the route needs a competent agency and none is given; `out_of_range`: the due moment falls outside the working calendar's years; `idempotency_key_reused`: the key was used for another request.", body = ErrorBody),
    ),
    security(("staff_token" = []), ("portal_token" = [])),
)]
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
        .json(IntakeReceipt {
            submitted_at: t(receipt.submitted_at),
            acknowledge_by: t(receipt.acknowledge_by),
            received_at: t(receipt.received_at),
            due_at: t(receipt.due_at),
            procedure: IntakeProcedure {
                code: receipt.procedure_code,
                name: receipt.procedure_name,
                version: receipt.procedure_version,
            },
            statutory_time: receipt.statutory_time,
            rule_set: receipt.rule_set,
            channel: receipt.channel,
            receiving_agency: receipt.receiving_agency,
            competent_agency: receipt.competent_agency,
            book: DossierBook {
                volume: receipt.book_volume,
                line: receipt.book_line,
            },
            receipt_url: received.then(|| format!("/api/v1/dossiers/{code}/forms/receipt.pdf")),
            status_url: app.status_url(&code),
            code: receipt.code,
            pin: receipt.pin,
            status: receipt.status,
        }))
}

fn agency_ref(app: &AppData, code: &str) -> DossierAgency {
    DossierAgency {
        code: code.to_string(),
        name: app.agencies.get(code).map(|a| a.name.clone()),
    }
}

/// The due moment set at receipt (before a supplement counted the time again).
fn first_due_at(app: &AppData, d: &DossierView, p: &ProgressView) -> Option<String> {
    let first = p.first_due_at.or(d.due_at)?;
    Some(rfc3339(first.fixed_offset(), app.settings.offset))
}

/// The staff view of a dossier.
pub fn dossier_json(app: &AppData, d: &DossierView) -> Dossier {
    let offset = app.settings.offset;
    let t = |n: chrono::DateTime<chrono::Utc>| rfc3339(n.fixed_offset(), offset);
    Dossier {
        code: d.code.clone(),
        procedure: DossierProcedure {
            code: d.procedure_code.clone(),
            version: d.procedure_version,
            name: app.catalogue.get(&d.procedure_code).map(|p| p.name.clone()),
        },
        rule_set: d.rule_set.clone(),
        status: d.status.clone(),
        channel: d.channel.clone(),
        receiving_agency: agency_ref(app, &d.receiving_agency),
        competent_agency: d.competent_agency.as_deref().map(|c| agency_ref(app, c)),
        current_agency: agency_ref(app, &d.current_agency),
        applicant: DossierApplicant {
            full_name: d.applicant_name.clone(),
            id_kind: Some(d.applicant_id_kind.clone()),
            id_number: Some(d.applicant_id_number.clone()),
            phone: d.applicant_phone.clone(),
            email: d.applicant_email.clone(),
            address: d.applicant_address.clone(),
            masked: false,
        },
        proxy: d.proxy.clone(),
        note: d.note.clone(),
        received_at: d.received_at.map(t),
        due_at: d.due_at.map(t),
        reappointed_at: d.reappointed_at.map(t),
        finished_at: d.finished_at.map(t),
        outcome: d.outcome.clone(),
        result_ready: d.result_ready,
        statutory_time: DossierStatutoryTime {
            amount: d.time_amount,
            unit: d.time_unit.clone(),
            cutoff: d.time_cutoff.clone(),
        },
        received_by: d.received_by.clone(),
        book: DossierBook {
            volume: d.book_volume,
            line: d.book_line,
        },
    }
}

fn papers_json(papers: &[PaperView]) -> Vec<DossierPaper> {
    papers
        .iter()
        .map(|p| DossierPaper {
            position: p.position,
            name: p.name.clone(),
            kind: p.kind.clone(),
            kind_label: paper_kind_label(&p.kind),
            count: p.count,
            reuse_document_id: p.reuse_document_id.clone(),
        })
        .collect()
}

fn events_json(app: &AppData, events: &[EventView]) -> Vec<DossierHistoryEntry> {
    let offset = app.settings.offset;
    events
        .iter()
        .map(|e| DossierHistoryEntry {
            seq: e.seq,
            kind: e.kind.clone(),
            at: rfc3339(e.at.fixed_offset(), offset),
            actor: e.actor.clone(),
            agency: e.agency_code.clone(),
            status_after: e.status_after.clone(),
            data: e.payload.clone(),
        })
        .collect()
}

/// `v` as JSON (what the files module hands over for the staff read).
fn json_of<T: Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Read a dossier
///
/// Everything the staff read shows of a dossier: the dossier, where its processing stands
/// (hand-over, assignee, clock, supplements, delay), its route with each step's due
/// moment, papers, files, documents and history (oldest first), and its forms. Staff see
/// the dossiers received by, held by, competent at or handled by their agency and the
/// agencies below it; a portal sees those it submitted. Any other dossier is not found —
/// the same answer as for a code that does not exist. `Cache-Control: no-store` (personal
/// data).
#[utoipa::path(
    get,
    path = "/api/v1/dossiers/{code}",
    tag = "dossiers",
    params(("code" = String, Path, description = "The dossier's code, e.g. `000.00.51.H26-261102-0001`.")),
    responses(
        (status = 200, description = "The dossier.", body = DossierRecord),
        (status = 404, description = "`not_found`: no such dossier in the caller's scope.", body = ErrorBody),
    ),
    security(("staff_token" = []), ("portal_token" = [])),
)]
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
    let body = DossierRecord {
        pending_handover: progress
            .pending_handover
            .as_deref()
            .map(|c| agency_ref(&app, c)),
        assignee: progress.assignee.clone(),
        first_due_at: first_due_at(&app, &d, &progress),
        supplement_request_by: progress.supplement_request_by.map(t),
        submitted_at: progress.submitted_at.map(t),
        acknowledge_by: progress.acknowledge_by.map(t),
        correction_rounds: progress.correction_rounds,
        clock_stopped_at: progress.clock_stopped_at.map(t),
        supplement_requests: progress.supplement_requests,
        delayed: progress.delayed,
        reappointment_kept: match (d.reappointed_at, d.finished_at) {
            (Some(r), Some(f)) => Some(f <= r),
            _ => None,
        },
        rated: progress.rated,
        current_step: progress
            .current_step
            .and_then(|i| steps.get(i.max(0) as usize))
            .map(|s| s.no),
        steps: steps
            .iter()
            .map(|s| DossierStep {
                no: s.no,
                name: s.name.clone(),
                agency: agency_ref(&app, &s.agency_code),
                role: s.role.clone(),
                share: s.share,
                due_at: t(s.due_at),
                started_at: s.started_at.map(t),
                ended_at: s.ended_at.map(t),
                outcome: s.outcome.clone(),
            })
            .collect(),
        handled_by: handled_by.iter().map(|c| agency_ref(&app, c)).collect(),
        papers: papers_json(&papers),
        files: json_of(file_list),
        documents: json_of(document_list),
        digitised: progress.digitised,
        reused: progress.reused,
        events: events_json(&app, &events),
        forms: DossierForms {
            receipt: format!("/api/v1/dossiers/{}/forms/receipt.pdf", d.code),
            control: crate::service::notices::Notice::Control.url(&d.code),
        },
        dossier: dossier_json(&app, &d),
    };
    // Personal data: never kept by a browser or a proxy.
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(body))
}

/// A form of a dossier
///
/// Forms 02 to 06 (TT 03/2025 Appendix I) of a dossier in the caller's scope, as PDF,
/// filled from its history: `supplement.pdf` (02, the last supplement request),
/// `correction.pdf` (02, the desk's last request to complete an online submission),
/// `refusal.pdf` (03, the refusal at intake or the refusing decision), `delay.pdf` (04),
/// `stop.pdf` (05), `control.pdf` (06, the process-control slip, from the official
/// receipt on). Nothing is stored.
#[utoipa::path(
    get,
    path = "/api/v1/dossiers/{code}/forms/{form}",
    tag = "dossiers",
    params(
        ("code" = String, Path, description = "The dossier's code."),
        ("form" = String, Path, description = "`supplement.pdf`, `correction.pdf`, `refusal.pdf`, `delay.pdf`, `stop.pdf` or `control.pdf` (form 01 is `receipt.pdf`)."),
    ),
    responses(
        (status = 200, description = "The form, `inline; filename=\"<form>-<code>.pdf\"`; `Cache-Control: no-store`.", content_type = "application/pdf", body = inline(PdfFile),
            headers(("Content-Disposition" = String, description = "`inline; filename=\"<form>-<code>.pdf\"`."))),
        (status = 404, description = "`not_found`: no such dossier in the caller's scope, or no such form; `no_such_form`: the event the form is for has not happened (for `control.pdf`: not received officially yet).", body = ErrorBody),
    ),
    security(("staff_token" = []), ("portal_token" = [])),
)]
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

/// List dossiers
///
/// The dossiers the caller may see, filtered: for staff, those received by, held by or
/// competent at their agency and the agencies below it; for a portal, those it submitted.
/// Online submissions not received yet come first, then the newest received, ties by code
/// (descending). Paged by `limit` and `offset`; `next_offset` is set while a page is full.
/// Unknown parameters are ignored.
#[utoipa::path(
    get,
    path = "/api/v1/dossiers",
    tag = "dossiers",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of dossiers.", body = DossierList),
        (status = 400, description = "`invalid_status`: no such status; `invalid_from`, `invalid_to`: not a `YYYY-MM-DD` date; `invalid_limit`: not an integer from 1 to 200; `invalid_offset`: not an integer, negative, or above 1,000,000.", body = ErrorBody),
        (status = 422, description = "`invalid_query`: `q` longer than 100 characters.", body = ErrorBody),
    ),
    security(("staff_token" = []), ("portal_token" = [])),
)]
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
    let dossiers = rows.iter().map(|d| dossier_json(&app, d)).collect();
    Ok(HttpResponse::Ok().json(DossierList {
        dossiers,
        next_offset: next,
    }))
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

/// The receipt (form 01)
///
/// Form 01 (*giấy tiếp nhận hồ sơ và hẹn trả kết quả*) of a dossier in the caller's
/// scope, as PDF, from its official receipt on. The pin, known to the counter right after
/// intake, is printed when given and correct; otherwise it is shown masked. Nothing is
/// stored.
#[utoipa::path(
    get,
    path = "/api/v1/dossiers/{code}/forms/receipt.pdf",
    tag = "dossiers",
    params(
        ("code" = String, Path, description = "The dossier's code."),
        ("pin" = Option<String>, Query, description = "The pin from the intake's answer, to print it; a wrong pin is not an error (the pin is masked)."),
    ),
    responses(
        (status = 200, description = "Form 01, `inline; filename=\"bien-nhan-<code>.pdf\"`; `Cache-Control: no-store`.", content_type = "application/pdf", body = inline(PdfFile),
            headers(("Content-Disposition" = String, description = "`inline; filename=\"bien-nhan-<code>.pdf\"`."))),
        (status = 404, description = "`not_found`: no such dossier in the caller's scope; `no_such_form`: an online submission not received officially yet has no receipt.", body = ErrorBody),
    ),
    security(("staff_token" = []), ("portal_token" = [])),
)]
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

/// Guide an applicant to complete a dossier (form 02)
///
/// At the counter or for a portal, a dossier that is not complete is not registered: the
/// desk records what is missing and how to complete it (*hướng dẫn bổ sung, hoàn thiện*,
/// NĐ 118/2025 Art. 16) and hands the applicant form 02. The guidance is stored (with the
/// audit record) under an id returned in `X-Intake-Outcome-Id`; no dossier is created. A
/// repeat records another guidance.
#[utoipa::path(
    post,
    path = "/api/v1/intake/guidance",
    tag = "dossiers",
    request_body = GuidanceRequest,
    responses(
        (status = 200, description = "Recorded; form 02 as PDF, `inline; filename=\"<id>.pdf\"`; `Cache-Control: no-store`.", content_type = "application/pdf", body = inline(PdfFile),
            headers(
                ("X-Intake-Outcome-Id" = String, description = "The guidance's id, e.g. `HD-20261102093000-a1b2c3d4e5f6`."),
                ("Content-Disposition" = String, description = "`inline; filename=\"<id>.pdf\"`."),
            )),
        (status = 403, description = "`forbidden`: only a one-stop clerk or a portal guides at intake.", body = ErrorBody),
        (status = 422, description = "Nothing stored. `invalid_channel`: not `counter`, `online` or `post`; `invalid_full_name`, `invalid_id_kind`, `invalid_id_number`, `invalid_phone`, `invalid_email`, `invalid_address`: the applicant's field; `unknown_procedure`: no procedure of that code in force; `invalid_items`: not 1 to 50 items, or an item's name or reason empty or too long; `invalid_note`: the note.", body = ErrorBody),
    ),
    security(("staff_token" = []), ("portal_token" = [])),
)]
pub async fn guidance(
    app: AppData,
    who: Authenticated,
    body: web::Json<GuidanceRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    outcome_form(app, move |a| a.guide(&who.0, &req, a.clock.now())).await
}

/// Refuse to receive a dossier (form 03)
///
/// The desk refuses a dossier that cannot be received (*từ chối tiếp nhận*), with the
/// reason, and hands the applicant form 03. The refusal is stored (with the audit record)
/// under an id returned in `X-Intake-Outcome-Id`; no dossier is created. A repeat records
/// another refusal. (An online submission already registered is refused with the events
/// endpoint's `refuse`.)
#[utoipa::path(
    post,
    path = "/api/v1/intake/refusal",
    tag = "dossiers",
    request_body = RefusalRequest,
    responses(
        (status = 200, description = "Recorded; form 03 as PDF, `inline; filename=\"<id>.pdf\"`; `Cache-Control: no-store`.", content_type = "application/pdf", body = inline(PdfFile),
            headers(
                ("X-Intake-Outcome-Id" = String, description = "The refusal's id, e.g. `TC-20261102093000-a1b2c3d4e5f6`."),
                ("Content-Disposition" = String, description = "`inline; filename=\"<id>.pdf\"`."),
            )),
        (status = 403, description = "`forbidden`: only a one-stop clerk or a portal refuses at intake.", body = ErrorBody),
        (status = 422, description = "Nothing stored. `invalid_channel`: not `counter`, `online` or `post`; `invalid_full_name`, `invalid_id_kind`, `invalid_id_number`, `invalid_phone`, `invalid_email`, `invalid_address`: the applicant's field; `missing_reason`: the reason empty or longer than 2000 characters; `unknown_procedure`: a `procedure_code` not in force; `invalid_dossier_code`: the dossier code longer than 64 characters or not one line.", body = ErrorBody),
    ),
    security(("staff_token" = []), ("portal_token" = [])),
)]
pub async fn refusal(
    app: AppData,
    who: Authenticated,
    body: web::Json<RefusalRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    outcome_form(app, move |a| a.refuse(&who.0, &req, a.clock.now())).await
}

/// Record an event on a dossier
///
/// One step of the dossier's life (NĐ 118/2025 Art. 17–20), checked in this order: the
/// text (cleaned: NFC, trimmed, bounded), who may record it (the role, and the agency,
/// person or payment it names), whether the dossier is in the caller's scope, which agency
/// may record it (the one holding the dossier; the one a hand-over waits for, to accept
/// it; the receiving desk for `receive`, `request_correction`, `refuse` and `close`), and
/// the state machine. One transaction appends the event, updates the dossier, its route
/// and the indicators' counts, writes the notifications and the audit record; nothing is
/// stored by a refused event. `GET …/actions` says beforehand what the caller may record
/// now, with the same codes.
///
/// The states: an online submission is `submitted` until the desk answers (`receive`,
/// `request_correction` → `needs_correction`, `refuse` → `refused_at_intake`); a received
/// dossier goes `received` → `in_progress` (at `accept`) and may stop its clock
/// (`request_supplement` → `supplement_requested`, `pause` → `paused`; back to
/// `in_progress` at `supplement_received`, `resume`), be decided (`decide` → `approved`
/// or `refused`) and returned (`return` → `returned`), or end early (`stop` → `stopped`,
/// `close` → `closed`). `payment` and `assign` do not change the status; `rate` comes after
/// `returned`.
///
/// Who: `receive`, `request_correction`, `refuse`, `return`, `close`: clerk; `assign`,
/// `decide`: leader; `propose`: official; `request_supplement`, `pause`, `resume`,
/// `delay`: official or leader; `handover`, `accept`, `supplement_received`, `stop`:
/// clerk, official or leader; `payment`: clerk, official, leader or the submitting portal;
/// `rate`: clerk. Inspectors and administrators record nothing.
///
/// With `?dry_run=true` the same checks run and the answer is what the event would give,
/// with `200` and `dry_run: true`; nothing is written. Not idempotent: a repeated event is
/// checked against the new state (and is usually refused with `409`).
#[utoipa::path(
    post,
    path = "/api/v1/dossiers/{code}/events",
    tag = "dossiers",
    params(
        ("code" = String, Path, description = "The dossier's code."),
        EventQuery,
    ),
    request_body(content = DossierEventBody, description = "One event: `{\"type\": …}` with that type's fields. An unknown `type`, a missing field, a field the type does not take or a wrong JSON type is `400 invalid_json` (`receive`, `accept` and `resume`, which take no field, ignore any other)."),
    responses(
        (status = 201, description = "Recorded: the event's number, the dossier after it, and what it issued or ended.", body = EventAnswer),
        (status = 200, description = "`?dry_run=true`: what the event would give (`dry_run: true`); nothing recorded.", body = EventAnswer),
        (status = 400, description = "`invalid_json`: not an event (unknown `type`, a missing field or one the type does not take, a wrong JSON type); `invalid_query`: a query parameter other than `dry_run`, or `dry_run` not `true`/`false`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: the caller's role may not record this type (inspectors and administrators none); an `online` payment by other than the portal or a clerk with its `reference`; a payment by an agency that only consulted the dossier; an agency other than the one allowed (the one holding it, the one a hand-over waits for, the receiving desk).", body = ErrorBody),
        (status = 404, description = "`not_found`: no such dossier in the caller's scope (for a portal: one it did not submit).", body = ErrorBody),
        (status = 409, description = "The state does not allow it; nothing stored. `invalid_state`: not in this status (e.g. `decide` on a `supplement_requested` dossier, `receive` of a received one); `not_received`: an online submission not received yet takes only the desk's answers and payments; `dossier_refused`, `dossier_stopped`, `dossier_closed`: terminal; `handover_pending`: a hand-over waits to be accepted; `no_pending_handover`: nothing to accept; `invalid_handover`: to the agency holding it; `already_proposed`; `invalid_supplement`, `invalid_correction`: no items or no reason; `supplement_limit`: the rule set's number of supplement requests reached; `invalid_pause`: no reason or legal basis; `invalid_delay`: no reason, or the new date not after the due moment or beyond the statutory time once more; `delay_already_given`; `delay_too_late`: later than the rule set's days before the due date; `invalid_stop`, `invalid_close`, `missing_reason`: the reason missing (a refusing `decide`, `refuse`); `close_not_allowed`: the rule set does not close dossiers; `close_too_early`: the wait for the supplement is not over; `invalid_payment`: the amount not 1 to 10^12 đồng; `already_rated`; `out_of_range`: a moment beyond the working calendar's years.", body = ErrorBody),
        (status = 422, description = "A field refused; nothing stored. `invalid_text`: a control character or bidirectional override in a text; `text_too_long`: a text over its bound, more than 50 items, or `papers` too long; `unknown_agency`: `to_agency` not in the agency list; `invalid_recipient`: `to_user` not an active clerk, official or leader of `to_agency`; `invalid_assignee`: `user` not an active account of the leader's agency; `out_of_range`: the official receipt's due moment beyond the working calendar's years.", body = ErrorBody),
    ),
    security(("staff_token" = []), ("portal_token" = [])),
)]
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
    let answer = EventAnswer {
        seq: r.seq,
        dossier: DossierAfterEvent {
            dossier: dossier_json(&app, &r.dossier),
            pending_handover: r.progress.pending_handover.clone(),
            assignee: r.progress.assignee.clone(),
            supplement_requests: r.progress.supplement_requests,
            reappointment_kept: r.reappointment_kept,
            first_due_at: first_due_at(&app, &r.dossier, &r.progress),
        },
        form_url: form.map(|n| n.url(&r.dossier.code)),
        late_request: supplement.then_some(r.late_request),
        transfer: r.transfer,
        step: r.step,
        // What the event would do: nothing was written, the sequence number is not taken.
        dry_run: dry_run.then_some(true),
    };
    if dry_run {
        return Ok(HttpResponse::Ok().json(answer));
    }
    Ok(HttpResponse::Created().json(answer))
}

/// What the caller may do to a dossier
///
/// Every action of the dossier's life for the caller now, in a fixed order, each allowed —
/// with the fields its event takes, their choices and bounds — or refused with the error
/// code and message the events endpoint would answer: what this offers, `POST …/events`
/// accepts. Readable by whoever may read the dossier, and by the agency a hand-over waits
/// for (to accept it). Nothing is stored; `Cache-Control: no-store`.
#[utoipa::path(
    get,
    path = "/api/v1/dossiers/{code}/actions",
    tag = "dossiers",
    params(("code" = String, Path, description = "The dossier's code.")),
    responses(
        (status = 200, description = "Every action, allowed or not.", body = ActionList),
        (status = 404, description = "`not_found`: no such dossier in the caller's scope, and no hand-over waits for the caller's agency.", body = ErrorBody),
    ),
    security(("staff_token" = []), ("portal_token" = [])),
)]
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
        .json(ActionList { actions }))
}

/// Send an online dossier again, completed
///
/// The portal that submitted an online dossier sends it again after the desk asked for a
/// correction (`needs_correction`, NĐ 118/2025 Art. 17(2)): a new round, `submitted`
/// again, with a new limit for the desk's answer. The papers, when given, replace the list
/// and must satisfy the procedure's checklist; the note, when given, replaces the note.
/// One transaction stores the change, the event and the audit record. Not idempotent: a
/// repeat finds the dossier `submitted` and is refused (`409 invalid_state`).
#[utoipa::path(
    post,
    path = "/api/v1/dossiers/{code}/resubmit",
    tag = "dossiers",
    params(("code" = String, Path, description = "The dossier's code.")),
    request_body = ResubmitRequest,
    responses(
        (status = 200, description = "Submitted again.", body = Resubmission),
        (status = 403, description = "`forbidden`: only a portal sends a dossier again.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such dossier submitted by this portal.", body = ErrorBody),
        (status = 409, description = "`invalid_state`: the dossier is not waiting for a correction (still `submitted`, or already received); `not_received`, `dossier_refused`: refused at intake.", body = ErrorBody),
        (status = 422, description = "Nothing stored. `invalid_paper`: a paper's name, kind or count, or more than 50; `invalid_note`: the note; `missing_papers`: the papers do not satisfy the checklist (`details.missing`); `invalid_reuse`: a reused document not the applicant's, expired or without its electronic copy; `out_of_range`: the desk's limit beyond the working calendar's years.", body = ErrorBody),
    ),
    security(("portal_token" = [])),
)]
pub async fn resubmit(
    app: AppData,
    who: Authenticated,
    path: web::Path<String>,
    body: web::Json<ResubmitRequest>,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let req = body.into_inner();
    let a = app.get_ref().clone();
    let r = blocking(move || a.resubmit(&who.0, &code, &req, a.clock.now())).await?;
    let offset = app.settings.offset;
    Ok(HttpResponse::Ok().json(Resubmission {
        code: r.code,
        status: r.status,
        acknowledge_by: r.acknowledge_by.map(|t| rfc3339(t.fixed_offset(), offset)),
        correction_rounds: r.correction_rounds,
    }))
}

/// The work queue
///
/// What waits at the caller's agency for their role, soonest due first: the open dossiers
/// it holds in the statuses the role works on (clerk: `submitted`, `received`,
/// `supplement_requested`, `approved`, `refused`; official: `received`, `in_progress`,
/// `supplement_requested`, `paused`; leader: `in_progress`, `paused`, `approved`,
/// `refused`), those being handed to it (masked: `in_scope: false`), and for a clerk the
/// dossiers its desk received whose supplement has not come within the rule set's wait
/// (`urgency: to_close`). Each line has the working time left and its urgency, and the
/// route step it is in. Paged by `limit` and `offset`.
#[utoipa::path(
    get,
    path = "/api/v1/queue",
    tag = "dossiers",
    params(
        ("status" = Option<String>, Query, description = "Only this status, among those the role works on."),
        ("procedure" = Option<String>, Query, description = "Only this procedure code."),
        ("assignee" = Option<String>, Query, description = "Only dossiers assigned to this username; `me`: to the caller."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "Page size, 1 to 200; default 50."),
        ("offset" = Option<i64>, Query, minimum = 0, maximum = 1000000, description = "Lines to skip, from 0 to 1,000,000; default 0."),
    ),
    responses(
        (status = 200, description = "A page of the queue.", body = QueuePage),
        (status = 400, description = "`invalid_status`: no such status; `invalid_limit`: `limit` not an integer from 1 to 200, or `offset` negative or above 1,000,000; `invalid_offset`: `offset` not an integer.", body = ErrorBody),
        (status = 403, description = "`forbidden`: the role has no queue (inspector, administrator, portal).", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
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
    let list = items
        .iter()
        .map(|i| {
            let mut dossier = dossier_json(&app, &i.dossier);
            if !i.in_scope {
                // Only pending to the caller's agency: what it is asked to accept, without
                // the applicant's personal data.
                dossier.applicant = DossierApplicant {
                    full_name: crate::core::applicant::mask_name(&i.dossier.applicant_name),
                    id_kind: None,
                    id_number: None,
                    phone: None,
                    email: None,
                    address: None,
                    masked: true,
                };
                dossier.proxy = None;
                dossier.note = None;
            }
            QueueEntry {
                dossier,
                in_scope: i.in_scope,
                pending_handover: i.progress.pending_handover.clone(),
                assignee: i.progress.assignee.clone(),
                acknowledge_by: i
                    .progress
                    .acknowledge_by
                    .filter(|_| i.dossier.received_at.is_none())
                    .map(|t| rfc3339(t.fixed_offset(), offset_tz)),
                remaining_working_minutes: i.remaining_minutes,
                urgency: i.urgency,
                step: i.step.as_ref().map(|(s, left, flag)| QueueStep {
                    no: s.no,
                    name: s.name.clone(),
                    role: s.role.clone(),
                    due_at: rfc3339(s.due_at.fixed_offset(), offset_tz),
                    remaining_working_minutes: *left,
                    urgency: *flag,
                }),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(QueuePage {
        queue: list,
        next_offset: next,
    }))
}

/// A portal's changes feed
///
/// For a portal, the dossiers it submitted whose state changed after `cursor`, oldest
/// change first, with the cursor to resume from: how a portal keeps the statuses it shows
/// citizens up to date. An online dossier waits for the desk's official receipt
/// (NĐ 118/2025 Art. 17(2)–(3)): the feed reports `submitted`, `needs_correction`,
/// `refused_at_intake` and `received` as they happen, and `due_at` is `null` until the
/// receipt. A dossier changed several times since the cursor appears once, at its last
/// change. Nothing is stored.
#[utoipa::path(
    get,
    path = "/api/v1/portal/changes",
    tag = "dossiers",
    params(
        ("cursor" = Option<String>, Query, description = "The `cursor` of the previous answer (`MICROS.CODE`); absent: from the beginning."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200, description = "Page size, 1 to 200; default 100."),
    ),
    responses(
        (status = 200, description = "The changes after the cursor.", body = PortalChanges),
        (status = 400, description = "`invalid_cursor`: not a cursor of this feed; `invalid_limit`: `limit` not an integer from 1 to 200.", body = ErrorBody),
        (status = 403, description = "`forbidden`: only a portal reads this feed.", body = ErrorBody),
    ),
    security(("portal_token" = [])),
)]
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
    let changes = rows
        .iter()
        .map(|d| PortalChange {
            code: d.code.clone(),
            status: d.status.clone(),
            status_label: crate::core::dossier::Status::parse(&d.status).map(|s| s.label_vi()),
            current_agency: agency_ref(&app, &d.current_agency),
            updated_at: t(d.updated_at),
            due_at: d.due_at.map(t),
            reappointed_at: d.reappointed_at.map(t),
            finished_at: d.finished_at.map(t),
            outcome: d.outcome.clone(),
            result_ready: d.result_ready,
        })
        .collect();
    let next = rows
        .last()
        .map(crate::service::dossiers::cursor_of)
        .or_else(|| q.get("cursor").cloned());
    Ok(HttpResponse::Ok().json(PortalChanges {
        changes,
        cursor: next,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::machine::{self, Event};

    /// The description of an event, from the event the handler reads: every variant and
    /// every field named, so that a change to `core::machine::Event` fails to compile here
    /// until [`DossierEventBody`] follows it.
    fn described(e: Event) -> DossierEventBody {
        use DossierEventBody as D;
        match e {
            Event::Receive => D::Receive,
            Event::RequestCorrection { items, reason } => D::RequestCorrection { items, reason },
            Event::Refuse { reason } => D::Refuse { reason },
            Event::Handover {
                to_agency,
                to_user,
                electronic,
                note,
            } => D::Handover {
                to_agency,
                to_user,
                electronic,
                note,
            },
            Event::Accept => D::Accept,
            Event::Assign { user } => D::Assign { user },
            Event::Propose { note } => D::Propose { note },
            Event::RequestSupplement { items, reason } => D::RequestSupplement { items, reason },
            Event::SupplementReceived { papers } => D::SupplementReceived { papers },
            Event::Pause {
                reason,
                legal_basis,
            } => D::Pause {
                reason,
                legal_basis,
            },
            Event::Resume => D::Resume,
            Event::Delay { reason, new_due_at } => D::Delay { reason, new_due_at },
            Event::Stop { reason } => D::Stop { reason },
            Event::Close { reason } => D::Close { reason },
            Event::Decide {
                outcome,
                reason,
                result,
            } => D::Decide {
                outcome: match outcome {
                    machine::Decision::Approved => EventDecision::Approved,
                    machine::Decision::Refused => EventDecision::Refused,
                },
                reason,
                result: result.map(
                    |machine::ResultInfo {
                         name,
                         number,
                         valid_until,
                     }| EventResultInfo {
                        name,
                        number,
                        valid_until,
                    },
                ),
            },
            Event::Return { channel } => D::Return {
                channel: match channel {
                    crate::core::dossier::Channel::Counter => EventChannel::Counter,
                    crate::core::dossier::Channel::Online => EventChannel::Online,
                    crate::core::dossier::Channel::Post => EventChannel::Post,
                },
            },
            Event::Payment {
                amount,
                method,
                reference,
            } => D::Payment {
                amount,
                method: match method {
                    machine::PaymentMethod::Cash => EventPaymentMethod::Cash,
                    machine::PaymentMethod::Online => EventPaymentMethod::Online,
                    machine::PaymentMethod::Transfer => EventPaymentMethod::Transfer,
                },
                reference,
            },
            Event::Rate { score, comment } => D::Rate {
                score: match score {
                    machine::Satisfaction::VerySatisfied => EventSatisfaction::VerySatisfied,
                    machine::Satisfaction::Satisfied => EventSatisfaction::Satisfied,
                    machine::Satisfaction::Unsatisfied => EventSatisfaction::Unsatisfied,
                },
                comment,
            },
        }
    }

    /// One body of each type, with every optional field, and the least of each.
    fn bodies() -> Vec<Value> {
        use serde_json::json;
        vec![
            json!({"type": "receive"}),
            json!({"type": "request_correction", "items": ["a"], "reason": "r"}),
            json!({"type": "refuse", "reason": "r"}),
            json!({"type": "handover", "to_agency": "A", "electronic": true}),
            json!({"type": "handover", "to_agency": "A", "to_user": "u", "electronic": false, "note": "n"}),
            json!({"type": "accept"}),
            json!({"type": "assign", "user": "u"}),
            json!({"type": "propose"}),
            json!({"type": "propose", "note": "n"}),
            json!({"type": "request_supplement", "items": ["a", "b"], "reason": "r"}),
            json!({"type": "supplement_received"}),
            json!({"type": "supplement_received", "papers": [{"name": "x", "count": 1}]}),
            json!({"type": "pause", "reason": "r", "legal_basis": "l"}),
            json!({"type": "resume"}),
            json!({"type": "delay", "reason": "r", "new_due_at": "2026-11-20T17:00:00+07:00"}),
            json!({"type": "stop", "reason": "r"}),
            json!({"type": "close", "reason": "r"}),
            json!({"type": "decide", "outcome": "approved"}),
            json!({"type": "decide", "outcome": "refused", "reason": "r", "result": {"name": "n", "number": "1/GP", "valid_until": "2031-01-01"}}),
            json!({"type": "return", "channel": "post"}),
            json!({"type": "payment", "amount": 50000, "method": "cash"}),
            json!({"type": "payment", "amount": 1, "method": "online", "reference": "x"}),
            json!({"type": "payment", "amount": 1, "method": "transfer"}),
            json!({"type": "rate", "score": "very_satisfied"}),
            json!({"type": "rate", "score": "unsatisfied", "comment": "c"}),
        ]
    }

    #[test]
    fn the_described_body_reads_as_the_event() {
        let bodies = bodies();
        let mut kinds = std::collections::BTreeSet::new();
        for b in &bodies {
            let event: Event = serde_json::from_value(b.clone()).expect("an event");
            kinds.insert(event.kind());
            let doc: DossierEventBody = serde_json::from_value(b.clone()).expect("described");
            assert_eq!(doc, described(event), "{b}");
        }
        // Every type of the actions' list is described and tried.
        let all: std::collections::BTreeSet<_> =
            crate::service::actions::KINDS.into_iter().collect();
        assert_eq!(kinds, all);
    }

    #[test]
    fn the_described_body_refuses_what_the_event_refuses() {
        use serde_json::json;
        // A kind without fields ignores any other (serde: a unit variant of an internally
        // tagged enum), the described body as the event; the description says so.
        for b in [
            json!({"type": "receive", "extra": 1}),
            json!({"type": "accept", "note": "n"}),
            json!({"type": "resume", "reason": "r"}),
        ] {
            let event: Event = serde_json::from_value(b.clone()).expect("ignored");
            let doc: DossierEventBody = serde_json::from_value(b.clone()).expect("ignored");
            assert_eq!(doc, described(event), "{b}");
        }
        for b in [
            json!({"type": "launch"}),
            json!({"type": "refuse", "reason": "r", "extra": 1}),
            json!({"type": "refuse"}),
            json!({"type": "handover", "to_agency": "A"}),
            json!({"type": "decide", "outcome": "maybe"}),
            json!({"type": "decide", "outcome": "approved", "result": {"colour": "red"}}),
            json!({"type": "delay", "reason": "r", "new_due_at": "2026-11-20"}),
            json!({"type": "payment", "amount": "1", "method": "cash"}),
            json!({"type": "return", "channel": "fax"}),
            json!({"reason": "r"}),
        ] {
            assert!(serde_json::from_value::<Event>(b.clone()).is_err(), "{b}");
            assert!(
                serde_json::from_value::<DossierEventBody>(b.clone()).is_err(),
                "{b}"
            );
        }
    }
}
