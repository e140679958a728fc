//! Views (issue #14): what the services hand to the JSON handlers and the web pages, read
//! from the store rows and converted here, so that neither imports a row. Moments are UTC
//! ([`DateTime<Utc>`]); each caller writes them in the configured offset.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::store::catalogue::{AgencyRow, ProcedureVersionRow};
use crate::store::documents::{DocumentRow, FileRow};
use crate::store::dossiers::{DossierRow, EventRow, PaperRow, ProgressRow, StepRow};
use crate::store::from_db;

/// A dossier (*hồ sơ*) as staff and portals read it: its row without the pin's hash and
/// the search key.
#[derive(Debug, Clone, PartialEq)]
pub struct DossierView {
    pub code: String,
    pub procedure_code: String,
    pub procedure_version: i32,
    pub rule_set: String,
    /// The one-stop desk that received it (*nơi tiếp nhận*).
    pub receiving_agency: String,
    /// The agency competent to decide (*cơ quan có thẩm quyền giải quyết*).
    pub competent_agency: Option<String>,
    /// The agency holding it now.
    pub current_agency: String,
    pub channel: String,
    pub status: String,
    /// The applicant (*người nộp hồ sơ*).
    pub applicant_name: String,
    pub applicant_id_kind: String,
    pub applicant_id_number: String,
    pub applicant_phone: Option<String>,
    pub applicant_email: Option<String>,
    pub applicant_address: Option<String>,
    /// The proxy (*người được ủy quyền*) as given at intake; `None` also when the stored
    /// text is not JSON.
    pub proxy: Option<Value>,
    pub note: Option<String>,
    /// The official receipt (*tiếp nhận*): none while an online submission waits for it.
    pub received_at: Option<DateTime<Utc>>,
    /// The statutory due moment (*hẹn trả kết quả*): none until the official receipt.
    pub due_at: Option<DateTime<Utc>>,
    /// The statutory time (*thời hạn giải quyết*).
    pub time_amount: i32,
    pub time_unit: String,
    pub time_cutoff: Option<String>,
    /// The new appointment after a delay (*hẹn lại*).
    pub reappointed_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `early`, `on_time` or `late`, once finished.
    pub outcome: Option<String>,
    pub result_ready: bool,
    /// The staff member or portal that received it.
    pub received_by: String,
    /// The tracking book's (*sổ theo dõi*) volume (year) and line, given at the official
    /// receipt.
    pub book_volume: Option<i32>,
    pub book_line: Option<i64>,
    /// The last change.
    pub updated_at: DateTime<Utc>,
}

impl From<DossierRow> for DossierView {
    fn from(d: DossierRow) -> Self {
        Self {
            proxy: d
                .proxy
                .as_deref()
                .and_then(|p| serde_json::from_str::<Value>(p).ok()),
            received_at: d.received_at.map(from_db),
            due_at: d.due_at.map(from_db),
            reappointed_at: d.reappointed_at.map(from_db),
            finished_at: d.finished_at.map(from_db),
            updated_at: from_db(d.updated_at),
            code: d.code,
            procedure_code: d.procedure_code,
            procedure_version: d.procedure_version,
            rule_set: d.rule_set,
            receiving_agency: d.receiving_agency,
            competent_agency: d.competent_agency,
            current_agency: d.current_agency,
            channel: d.channel,
            status: d.status,
            applicant_name: d.applicant_name,
            applicant_id_kind: d.applicant_id_kind,
            applicant_id_number: d.applicant_id_number,
            applicant_phone: d.applicant_phone,
            applicant_email: d.applicant_email,
            applicant_address: d.applicant_address,
            note: d.note,
            time_amount: d.time_amount,
            time_unit: d.time_unit,
            time_cutoff: d.time_cutoff,
            outcome: d.outcome,
            result_ready: d.result_ready,
            received_by: d.received_by,
            book_volume: d.book_volume,
            book_line: d.book_line,
        }
    }
}

impl From<&DossierRow> for DossierView {
    fn from(d: &DossierRow) -> Self {
        d.clone().into()
    }
}

/// A paper of the dossier (*thành phần hồ sơ*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperView {
    /// 1-based.
    pub position: i32,
    pub name: String,
    /// `original`, `certified_copy`, … (see `intake::paper_kind_label`).
    pub kind: String,
    pub count: i32,
    /// The data-store document that satisfies it, when reused (*tái sử dụng*).
    pub reuse_document_id: Option<String>,
}

impl From<PaperRow> for PaperView {
    fn from(p: PaperRow) -> Self {
        Self {
            position: p.position,
            name: p.name,
            kind: p.kind,
            count: p.count,
            reuse_document_id: p.reuse_document_id,
        }
    }
}

impl From<&PaperRow> for PaperView {
    fn from(p: &PaperRow) -> Self {
        p.clone().into()
    }
}

/// An event of the dossier's history (*quá trình xử lý*).
#[derive(Debug, Clone, PartialEq)]
pub struct EventView {
    pub seq: i32,
    /// The event's type (`intake`, `handover`, `return`, …).
    pub kind: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub agency_code: String,
    pub status_after: String,
    /// What the event carried; `Null` when the stored text is not JSON.
    pub payload: Value,
}

impl From<EventRow> for EventView {
    fn from(e: EventRow) -> Self {
        Self {
            payload: serde_json::from_str::<Value>(&e.payload).unwrap_or(Value::Null),
            at: from_db(e.at),
            seq: e.seq,
            kind: e.kind,
            actor: e.actor,
            agency_code: e.agency_code,
            status_after: e.status_after,
        }
    }
}

impl From<&EventRow> for EventView {
    fn from(e: &EventRow) -> Self {
        e.clone().into()
    }
}

/// Where the processing stands (*tiến độ giải quyết*), as the events left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressView {
    /// The agency a hand-over waits for (*chuyển hồ sơ*).
    pub pending_handover: Option<String>,
    /// The official assigned (*người được phân công*).
    pub assignee: Option<String>,
    /// Since when the clock stands still (supplement, pause).
    pub clock_stopped_at: Option<DateTime<Utc>>,
    /// Supplement requests (*yêu cầu bổ sung*) made so far.
    pub supplement_requests: i32,
    /// The due moment was moved (*gia hạn*).
    pub delayed: bool,
    /// The step (0-based) of the route the dossier is in.
    pub current_step: Option<i32>,
    /// The applicant's rating (*đánh giá*) was given.
    pub rated: bool,
    /// Every paper has a file or a reused document (*đã số hóa*).
    pub digitised: bool,
    /// At least one paper was satisfied by a document of the data store.
    pub reused: bool,
    /// The due moment set at receipt, before any supplement counted the time again.
    pub first_due_at: Option<DateTime<Utc>>,
    /// A supplement requested after this moment is a late request (NĐ 118/2025
    /// Art. 19(5)); none: no limit.
    pub supplement_request_by: Option<DateTime<Utc>>,
    /// When an online submission arrived (the first time) and by when the desk must answer
    /// its current round (NĐ 118/2025 Art. 17(2)).
    pub submitted_at: Option<DateTime<Utc>>,
    pub acknowledge_by: Option<DateTime<Utc>>,
    /// How many times the desk sent it back for correction (*yêu cầu hoàn thiện*).
    pub correction_rounds: i32,
}

impl From<ProgressRow> for ProgressView {
    fn from(p: ProgressRow) -> Self {
        Self {
            pending_handover: p.pending_handover,
            assignee: p.assignee,
            clock_stopped_at: p.clock_stopped_at.map(from_db),
            supplement_requests: p.supplement_requests,
            delayed: p.delayed,
            current_step: p.current_step,
            rated: p.rated,
            digitised: p.digitised,
            reused: p.reused,
            first_due_at: p.first_due_at.map(from_db),
            supplement_request_by: p.supplement_request_by.map(from_db),
            submitted_at: p.submitted_at.map(from_db),
            acknowledge_by: p.acknowledge_by.map(from_db),
            correction_rounds: p.correction_rounds,
        }
    }
}

impl From<&ProgressRow> for ProgressView {
    fn from(p: &ProgressRow) -> Self {
        p.clone().into()
    }
}

/// A step of the dossier's route (*bước xử lý* of the *quy trình nội bộ*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepView {
    /// 1-based.
    pub no: i32,
    pub name: String,
    pub agency_code: String,
    pub role: String,
    /// Its share of the statutory time, against the other steps' shares.
    pub share: i32,
    pub due_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// How it ended against its due moment (`on_time`, `late`, …), once ended.
    pub outcome: Option<String>,
}

impl From<StepRow> for StepView {
    fn from(s: StepRow) -> Self {
        Self {
            no: s.no,
            name: s.name,
            agency_code: s.agency_code,
            role: s.role,
            share: s.share,
            due_at: from_db(s.due_at),
            started_at: s.started_at.map(from_db),
            ended_at: s.ended_at.map(from_db),
            outcome: s.outcome,
        }
    }
}

impl From<&StepRow> for StepView {
    fn from(s: &StepRow) -> Self {
        s.clone().into()
    }
}

/// A file uploaded for a dossier: a paper's scan (*bản số hóa*) or a result's electronic
/// copy (*kết quả điện tử*).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileView {
    pub id: String,
    pub dossier_code: String,
    /// The paper scanned; `None` for a result file.
    pub paper_position: Option<i32>,
    pub document_id: Option<String>,
    pub file_name: String,
    /// Where its content is in the blob store.
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub uploaded_at: DateTime<Utc>,
    pub uploaded_by: String,
}

impl From<FileRow> for FileView {
    fn from(f: FileRow) -> Self {
        Self {
            id: f.id,
            dossier_code: f.dossier_code,
            paper_position: f.paper_position,
            document_id: f.document_id,
            file_name: f.file_name,
            sha256: f.sha256,
            size: f.size,
            media_type: f.media_type,
            uploaded_at: from_db(f.uploaded_at),
            uploaded_by: f.uploaded_by,
        }
    }
}

impl From<&FileRow> for FileView {
    fn from(f: &FileRow) -> Self {
        f.clone().into()
    }
}

/// A document of the applicant data store (*kho dữ liệu điện tử của tổ chức, cá nhân*): a
/// result issued (*kết quả giải quyết*) or a digitised paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentView {
    /// `<dossier code>-KQ<n>` for a result, `<dossier code>-TP<position>` for a paper,
    /// as given for an imported result.
    pub id: String,
    /// `result` or `paper`.
    pub kind: String,
    pub name: String,
    pub number: Option<String>,
    pub issuing_agency: Option<String>,
    pub issued_on: NaiveDate,
    /// `None`: valid without limit.
    pub valid_until: Option<NaiveDate>,
    pub dossier_code: Option<String>,
    pub procedure_code: Option<String>,
    /// Its electronic copy has been uploaded.
    pub electronic: bool,
    /// The retention period (*thời hạn lưu trữ*).
    pub retention: String,
    /// `None`: kept permanently.
    pub retain_until: Option<NaiveDate>,
    /// `intake`, `decision` or `import`.
    pub source: String,
}

impl From<DocumentRow> for DocumentView {
    fn from(d: DocumentRow) -> Self {
        Self {
            electronic: d.sha256.is_some(),
            id: d.id,
            kind: d.kind,
            name: d.name,
            number: d.number,
            issuing_agency: d.issuing_agency,
            issued_on: d.issued_on,
            valid_until: d.valid_until,
            dossier_code: d.dossier_code,
            procedure_code: d.procedure_code,
            retention: d.retention,
            retain_until: d.retain_until,
            source: d.source,
        }
    }
}

impl From<&DocumentRow> for DocumentView {
    fn from(d: &DocumentRow) -> Self {
        d.clone().into()
    }
}

/// An electronic result (*kết quả điện tử*) as the citizen downloads it: the document and
/// where its content is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultDownload {
    pub document: DocumentView,
    pub sha256: String,
    /// The media type recognised at upload.
    pub media_type: String,
}

/// An agency (*cơ quan*) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyView {
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    /// The administrative level's id (*cấp*).
    pub level: String,
    pub parent_code: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub active: bool,
}

impl From<AgencyRow> for AgencyView {
    fn from(a: AgencyRow) -> Self {
        Self {
            code: a.code,
            name: a.name,
            short_name: a.short_name,
            level: a.level,
            parent_code: a.parent_code,
            address: a.address,
            phone: a.phone,
            active: a.active,
        }
    }
}

impl From<&AgencyRow> for AgencyView {
    fn from(a: &AgencyRow) -> Self {
        a.clone().into()
    }
}

/// A version of a procedure (*thủ tục hành chính*) of the catalogue, with when it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureVersionView {
    pub procedure_code: String,
    pub version: i32,
    pub name: String,
    /// The field (*lĩnh vực*).
    pub field: String,
    /// The level competent to decide (*cấp thực hiện*).
    pub competent_level: Option<String>,
    /// The procedure as loaded, JSON.
    pub definition: String,
    pub valid_from: DateTime<Utc>,
    /// `None`: the current version.
    pub valid_to: Option<DateTime<Utc>>,
}

impl From<ProcedureVersionRow> for ProcedureVersionView {
    fn from(p: ProcedureVersionRow) -> Self {
        Self {
            procedure_code: p.procedure_code,
            version: p.version,
            name: p.name,
            field: p.field,
            competent_level: p.competent_level,
            definition: p.definition,
            valid_from: from_db(p.valid_from),
            valid_to: p.valid_to.map(from_db),
        }
    }
}

impl From<&ProcedureVersionRow> for ProcedureVersionView {
    fn from(p: &ProcedureVersionRow) -> Self {
        p.clone().into()
    }
}

/// Everything the staff read of a dossier shows (`GET /api/v1/dossiers/{code}`).
#[derive(Debug, Clone, PartialEq)]
pub struct DossierDetail {
    pub dossier: DossierView,
    pub papers: Vec<PaperView>,
    /// Oldest first.
    pub events: Vec<EventView>,
    pub progress: ProgressView,
    /// The route, in order.
    pub steps: Vec<StepView>,
    /// Agency codes that have held the dossier (*cơ quan đã giải quyết*).
    pub handled_by: Vec<String>,
    pub files: Vec<FileView>,
    pub documents: Vec<DocumentView>,
}

/// Everything the dossier page shows, read at once for the caller.
pub struct DossierSheet {
    pub dossier: DossierView,
    pub papers: Vec<PaperView>,
    /// Oldest first.
    pub events: Vec<EventView>,
    pub steps: Vec<StepView>,
    pub files: Vec<FileView>,
    /// Every action of the dossier's life for the reader now, allowed or not.
    pub actions: Vec<super::actions::ActionView>,
    pub notices: Vec<super::notices::Notice>,
    /// Agency codes that have held the dossier.
    pub handled_by: Vec<String>,
}

/// Converts every row of a list.
pub(crate) fn all<R, V: From<R>>(rows: Vec<R>) -> Vec<V> {
    rows.into_iter().map(V::from).collect()
}
