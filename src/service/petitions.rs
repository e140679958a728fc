//! Petitions (*phản ánh, kiến nghị*, issue #17): the public submission (rate-limited, with
//! a honeypot), the citizen's status by code and pin, and the staff's queue and commands
//! (assign, answer, close) — each command one transaction with its audit record and its
//! outgoing e-mail. Rules and the deadline: [`crate::core::petition`] and
//! `config/petitions.toml`; indicators 5.2 and 5.4: [`crate::core::indicators`].

use crate::service::dossiers::MAX_OFFSET;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::lookup::{lookup_not_found, AgencyRef, Proof};
use super::queue::Urgency;
use super::{Caller, Role};
use crate::app::App;
use crate::core::indicators::{aggregate_petitions, Counts, GroupBy, Period, PetitionFact};
use crate::core::petition::{self as rules, AnswerOutcome, Command, PetitionKind, PetitionStatus};
use crate::core::{applicant, pin, text, throttle};
use crate::error::{AppError, AppResult, ErrorKind};
use crate::service::notify::{enqueue, Outgoing};
use crate::store::audit::{self, Actor, AuditEntry};
use crate::store::petitions::{
    insert_petition, petition_for_update, update_petition, PetitionCounts, PetitionFilter,
    PetitionRow, PetitionSet,
};
use crate::store::{from_db, to_db};

/// Longest name, in characters.
const MAX_NAME: usize = 200;

/// The actor of the audit records of public submissions (not a valid username).
pub const PUBLIC_ACTOR: &str = "(public)";

/// A petition as submitted, by the API (JSON) or the page's form.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    /// `report` (*phản ánh*: a problem in an official's conduct or a procedure) or
    /// `proposal` (*kiến nghị*: a change to a regulation or a procedure).
    pub kind: String,
    /// The submitter's full name, at most 200 characters.
    pub full_name: String,
    /// An e-mail address: the acknowledgement and the answer are sent there.
    #[serde(default)]
    pub email: Option<String>,
    /// A Vietnamese phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// The code of the agency the petition is about; required unless `dossier_code` is
    /// given, ignored when it is (the dossier's competent agency is taken).
    #[serde(default)]
    pub agency: Option<String>,
    /// The dossier the petition is about, proven with its `pin`.
    #[serde(default)]
    pub dossier_code: Option<String>,
    /// The dossier's pin (*mã tra cứu*); required with `dossier_code`.
    #[serde(default)]
    pub pin: Option<String>,
    /// What the petition says: at most `max_content_chars` (4000 by default) characters,
    /// several lines allowed.
    pub content: String,
    /// The honeypot: leave empty or out (hidden from people, filled by bots). Filled, the
    /// submission is answered as accepted and nothing is stored.
    #[serde(default)]
    pub website: Option<String>,
}

/// A field refused, with its stable code and its Vietnamese message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub field: &'static str,
    pub error: &'static str,
    pub message: String,
}

/// A submission with every field cleaned and checked (the agency and the dossier still
/// to be checked against the store).
#[derive(Debug, Clone)]
struct Checked {
    kind: PetitionKind,
    full_name: String,
    email: Option<String>,
    phone: Option<String>,
    agency: Option<String>,
    dossier: Option<(String, String)>,
    content: String,
}

/// What the submitter is given: the code, the pin (shown once) and the due moment.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    pub code: String,
    pub pin: String,
    pub kind: PetitionKind,
    pub status: PetitionStatus,
    pub submitted_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// The deadline in words, e.g. "10 ngày làm việc", and its legal source.
    pub answer_within: String,
    pub source: String,
    pub agency: AgencyRef,
    pub status_url: String,
}

/// What the citizen sees of their petition with its pin.
#[derive(Debug, Clone, Serialize)]
pub struct PublicPetition {
    pub code: String,
    pub kind: PetitionKind,
    pub kind_label: &'static str,
    pub status: PetitionStatus,
    pub status_label: &'static str,
    pub submitted_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub agency: AgencyRef,
    pub dossier_code: Option<String>,
    pub submitter_name: String,
    pub content: String,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub outcome: Option<AnswerOutcome>,
}

/// A petition as staff read it.
#[derive(Debug, Clone, Serialize)]
pub struct PetitionView {
    pub code: String,
    pub kind: PetitionKind,
    pub kind_label: &'static str,
    pub status: PetitionStatus,
    pub status_label: &'static str,
    pub submitted_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub answer_within: String,
    pub agency: AgencyRef,
    pub dossier_code: Option<String>,
    pub submitter_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub content: String,
    pub assignee: Option<String>,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_by: Option<String>,
    pub outcome: Option<AnswerOutcome>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Working minutes left until the due moment (negative past it); `None` once answered.
    pub remaining_working_minutes: Option<i64>,
    /// `ok` / `due_soon` (≤ 1 working day) / `overdue`; `None` once answered.
    pub urgency: Option<Urgency>,
    /// The commands the reader may give now: `assign`, `answer`, `close`.
    pub actions: Vec<&'static str>,
}

/// A queue's tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PetitionTab {
    Open,
    DueSoon,
    Overdue,
    Answered,
    Closed,
}

impl PetitionTab {
    pub const ALL: [PetitionTab; 5] = [
        PetitionTab::Open,
        PetitionTab::DueSoon,
        PetitionTab::Overdue,
        PetitionTab::Answered,
        PetitionTab::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PetitionTab::Open => "open",
            PetitionTab::DueSoon => "due_soon",
            PetitionTab::Overdue => "overdue",
            PetitionTab::Answered => "answered",
            PetitionTab::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            PetitionTab::Open => "Chưa trả lời",
            PetitionTab::DueSoon => "Sắp đến hạn",
            PetitionTab::Overdue => "Quá hạn",
            PetitionTab::Answered => "Đã trả lời",
            PetitionTab::Closed => "Đã kết thúc",
        }
    }

    fn set(self) -> PetitionSet {
        match self {
            PetitionTab::Open => PetitionSet::Open,
            PetitionTab::DueSoon => PetitionSet::DueSoon,
            PetitionTab::Overdue => PetitionSet::Overdue,
            PetitionTab::Answered => PetitionSet::Answered,
            PetitionTab::Closed => PetitionSet::Closed,
        }
    }

    pub fn count(self, c: &PetitionCounts) -> i64 {
        match self {
            PetitionTab::Open => c.open,
            PetitionTab::DueSoon => c.due_soon,
            PetitionTab::Overdue => c.overdue,
            PetitionTab::Answered => c.answered,
            PetitionTab::Closed => c.closed,
        }
    }
}

/// A queue's request.
#[derive(Debug, Clone)]
pub struct PetitionQuery {
    pub tab: PetitionTab,
    /// `report` / `proposal`.
    pub kind: Option<String>,
    /// `me` or a username.
    pub assignee: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// The queue: each tab's count, the page of the asked tab, and whether more follow.
#[derive(Debug, Clone, Serialize)]
pub struct PetitionQueue {
    pub tab: PetitionTab,
    pub counts: BTreeMap<&'static str, i64>,
    pub items: Vec<PetitionView>,
    pub more: bool,
}

/// A staff command on a petition, with its fields.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PetitionCommand {
    /// *Phân công*: a leader of the petition's agency gives it to an official or a leader
    /// of the agency (again: to another).
    Assign {
        /// The username.
        user: String,
    },
    /// *Trả lời*: the answer (*văn bản trả lời*), e-mailed to the submitter; by a leader or
    /// the assignee.
    Answer {
        /// The answer: at most `max_content_chars` characters, several lines allowed.
        text: String,
    },
    /// *Kết thúc*: files an answered petition; by a leader or whoever answered.
    Close,
}

impl PetitionCommand {
    fn command(&self) -> Command {
        match self {
            PetitionCommand::Assign { .. } => Command::Assign,
            PetitionCommand::Answer { .. } => Command::Answer,
            PetitionCommand::Close => Command::Close,
        }
    }
}

fn problem(field: &'static str, error: &'static str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field,
        error,
        message: message.into(),
    }
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The fields of `r` cleaned by the project's text rules, or every field's problem.
fn check_fields(r: &SubmitRequest, max_content: usize) -> Result<Checked, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let kind = PetitionKind::parse(r.kind.trim());
    if kind.is_none() {
        problems.push(problem(
            "kind",
            "invalid_kind",
            "Chọn loại: phản ánh hoặc kiến nghị",
        ));
    }
    let full_name = match text::name(&r.full_name, MAX_NAME) {
        Ok(Some(n)) => Some(n),
        Ok(None) => {
            problems.push(problem(
                "full_name",
                "invalid_full_name",
                "Nhập họ và tên người phản ánh, kiến nghị",
            ));
            None
        }
        Err(e) => {
            problems.push(problem(
                "full_name",
                "invalid_full_name",
                e.message("Họ và tên", MAX_NAME),
            ));
            None
        }
    };
    let email = match nonempty(&r.email) {
        None => None,
        Some(e) => match text::check_key(e)
            .map_err(|_| "")
            .and_then(|e| applicant::check_email(e).map_err(|_| ""))
        {
            Ok(v) => Some(v),
            Err(_) => {
                problems.push(problem(
                    "email",
                    "invalid_email",
                    "Địa chỉ thư điện tử không hợp lệ (ví dụ ten@example.vn)",
                ));
                None
            }
        },
    };
    let phone = match nonempty(&r.phone) {
        None => None,
        Some(p) => match applicant::check_phone(p) {
            Ok(v) => Some(v),
            Err(m) => {
                let mut m = m.to_string();
                if let Some(first) = m.get(..1) {
                    m = format!("{}{}", first.to_uppercase(), &m[1..]);
                }
                problems.push(problem("phone", "invalid_phone", m));
                None
            }
        },
    };
    let agency = match nonempty(&r.agency) {
        None => None,
        Some(a) => match text::check_key(a) {
            Ok(a) if a.len() <= 64 => Some(a.to_string()),
            _ => {
                problems.push(problem(
                    "agency",
                    "invalid_agency",
                    "Cơ quan được chọn không tồn tại",
                ));
                None
            }
        },
    };
    let dossier = match (nonempty(&r.dossier_code), nonempty(&r.pin)) {
        (None, None) => None,
        // A pin without a code: ignored, nothing to prove.
        (None, Some(_)) => None,
        (Some(_), None) => {
            problems.push(problem(
                "pin",
                "missing_pin",
                "Nhập mã tra cứu (PIN) in trên giấy tiếp nhận của hồ sơ",
            ));
            None
        }
        (Some(c), Some(p)) => Some((c.to_uppercase(), p.to_string())),
    };
    let content = match text::bounded_multiline(&r.content, max_content) {
        Ok(Some(c)) => Some(c),
        Ok(None) => {
            problems.push(problem(
                "content",
                "missing_content",
                "Nhập nội dung phản ánh, kiến nghị",
            ));
            None
        }
        Err(text::TextError::TooLong(_)) => {
            problems.push(problem(
                "content",
                "content_too_long",
                format!("Nội dung quá dài (tối đa {max_content} ký tự)"),
            ));
            None
        }
        Err(e) => {
            problems.push(problem(
                "content",
                "invalid_content",
                e.message("Nội dung", max_content),
            ));
            None
        }
    };
    match (kind, full_name, content) {
        (Some(kind), Some(full_name), Some(content)) if problems.is_empty() => Ok(Checked {
            kind,
            full_name,
            email,
            phone,
            agency,
            dossier,
            content,
        }),
        _ => Err(problems),
    }
}

/// The 422 of a refused submission: the first field's code, every field in `details`.
fn refused(problems: Vec<FieldProblem>) -> AppError {
    let first = problems
        .first()
        .cloned()
        .unwrap_or_else(|| problem("content", "invalid_content", "Nội dung không hợp lệ"));
    AppError::invalid(first.error, first.message)
        .with_details(serde_json::json!({ "fields": problems }))
}

use crate::service::intake::random_pin;

/// The throttle scope of accepted submissions per address.
const SUBMISSIONS_SCOPE: &str = "petition_address";

impl App {
    /// The agency `code` as a reference (its name), for views.
    fn agency_ref(&self, code: &str) -> AgencyRef {
        AgencyRef {
            code: code.to_string(),
            name: self
                .agencies
                .get(code)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| code.to_string()),
        }
    }

    /// The agency's contact for the e-mails: its name, address and phone when known.
    fn agency_contact(&self, code: &str) -> String {
        match self.agencies.get(code) {
            Some(a) => [
                Some(a.name.clone()),
                a.address.clone(),
                a.phone.as_ref().map(|p| format!("điện thoại {p}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
            None => code.to_string(),
        }
    }

    /// The public status page of a petition (never with its pin).
    pub fn petition_status_url(&self, code: &str) -> String {
        format!(
            "{}/phan-anh/{}",
            self.settings.public_base_url,
            crate::web::encode(code)
        )
    }

    pub(crate) fn submission_limits(&self) -> throttle::Limits {
        throttle::Limits {
            free: u32::MAX,
            per_address: self.petitions.submissions_per_address,
            per_subject: u32::MAX,
            window: chrono::Duration::minutes(i64::from(self.petitions.window_minutes)),
        }
    }

    /// 429 `too_many_petitions` (with `Retry-After`) when `address` has sent its share of
    /// submissions in the window.
    fn hold_submission(&self, address: &str, now: DateTime<Utc>) -> AppResult<()> {
        let limits = self.submission_limits();
        let address: String = address.chars().take(64).collect();
        let t = self
            .store
            .tallies(&[(SUBMISSIONS_SCOPE, &address)], to_db(now), limits.window)?;
        let tallies = throttle::Tallies {
            address: t.first().copied().flatten(),
            ..Default::default()
        };
        match throttle::wait(&limits, &tallies, now) {
            None => Ok(()),
            Some(s) => Err(AppError::new(
                ErrorKind::TooManyRequests,
                "too_many_petitions",
                "Đã gửi nhiều phản ánh, kiến nghị từ máy này trong thời gian ngắn; vui lòng thử lại sau",
            )
            .with_retry_after(s)),
        }
    }

    /// Counts one accepted submission from `address` (a failure to count is logged).
    fn count_submission(&self, address: &str, now: DateTime<Utc>) {
        let address: String = address.chars().take(64).collect();
        let window = self.submission_limits().window;
        if let Err(e) =
            self.store
                .record_failures(&[(SUBMISSIONS_SCOPE, &address)], to_db(now), window)
        {
            tracing::warn!(error = %e, "could not count a petition submission");
        }
    }

    /// `POST /api/v1/public/petitions` and the page `/phan-anh`: checks, stores the
    /// petition with its code, pin and due moment, its audit record and the "received"
    /// e-mail in one transaction. Nothing is stored on any error. A filled honeypot is
    /// answered as accepted and nothing is stored.
    pub fn submit_petition(
        &self,
        req: &SubmitRequest,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Submitted> {
        let now = to_db(now).and_utc();
        self.hold_submission(address, now)?;
        let offset = self.settings.offset;
        let local = now.with_timezone(&offset);
        if nonempty(&req.website).is_some() {
            // A bot: the same answer as a real submission, nothing stored, nothing
            // personal logged.
            tracing::warn!("petition honeypot filled: answered as accepted, nothing stored");
            self.count_submission(address, now);
            let mut n = [0u8; 2];
            getrandom::fill(&mut n).map_err(|_| AppError::internal())?;
            let seq = i64::from(u16::from_be_bytes(n) % 9000) + 1000;
            let code = rules::petition_code(&self.petitions.code_prefix, local.date_naive(), seq);
            let due = rules::due_at(&self.deadlines(), local, &self.petitions)
                .map_err(|_| AppError::internal())?;
            let agency = nonempty(&req.agency)
                .filter(|a| self.agencies.get(a).is_some())
                .unwrap_or(&self.agencies.agencies[0].code)
                .to_string();
            return Ok(Submitted {
                status_url: self.petition_status_url(&code),
                code,
                pin: random_pin()?,
                kind: PetitionKind::parse(req.kind.trim()).unwrap_or(PetitionKind::Report),
                status: PetitionStatus::Received,
                submitted_at: now,
                due_at: due.with_timezone(&Utc),
                answer_within: self.petitions.answer_within.to_string(),
                source: self.petitions.source.clone(),
                agency: self.agency_ref(&agency),
            });
        }
        let checked = check_fields(req, self.petitions.max_content_chars).map_err(refused)?;
        // The subject agency: the dossier's owner when a dossier is named (proven with its
        // pin; a wrong code or pin gets the lookup's one answer), else the one chosen.
        let (agency, dossier_code) = match &checked.dossier {
            Some((code, pin)) => {
                let (d, _) = self.prove(code, &Proof::Pin(pin.clone()), address, now)?;
                (
                    d.competent_agency
                        .clone()
                        .unwrap_or_else(|| d.receiving_agency.clone()),
                    Some(d.code),
                )
            }
            None => match &checked.agency {
                Some(a) if self.agencies.get(a).is_some() => (a.clone(), None),
                Some(_) => {
                    return Err(refused(vec![problem(
                        "agency",
                        "invalid_agency",
                        "Cơ quan được chọn không tồn tại",
                    )]))
                }
                None => {
                    return Err(refused(vec![problem(
                        "agency",
                        "missing_agency",
                        "Chọn cơ quan bị phản ánh, kiến nghị (hoặc nhập mã hồ sơ và mã tra cứu)",
                    )]))
                }
            },
        };
        let due = rules::due_at(&self.deadlines(), local, &self.petitions).map_err(|e| {
            tracing::error!(error = %e, "petition deadline");
            AppError::internal()
        })?;
        let due_utc = to_db(due.with_timezone(&Utc)).and_utc();
        let pin = random_pin()?;
        let prefix = self.petitions.code_prefix.clone();
        let day = local.date_naive();
        let actor = Actor {
            username: PUBLIC_ACTOR.into(),
            role: Role::Applicant.as_str().into(),
            address: Some(address.to_string()),
        };
        let code = self.store.write(None, |conn| {
            let seq = crate::store::dossiers::next_sequence(
                conn,
                &prefix,
                &format!("petition:{}", day.format("%y%m%d")),
            )?;
            let code = rules::petition_code(&prefix, day, seq);
            let row = PetitionRow {
                code: code.clone(),
                kind: checked.kind.as_str().into(),
                submitted_at: to_db(now),
                submitter_name: checked.full_name.clone(),
                email: checked.email.clone(),
                phone: checked.phone.clone(),
                agency_code: agency.clone(),
                dossier_code: dossier_code.clone(),
                body: checked.content.clone(),
                pin_hash: pin::hash_pin(&self.keys.pin, &code, &pin),
                answer_within: self.petitions.answer_within.to_string(),
                due_at: to_db(due_utc),
                status: PetitionStatus::Received.as_str().into(),
                assignee: None,
                answer: None,
                answered_at: None,
                answered_by: None,
                outcome: None,
                closed_at: None,
                updated_at: to_db(now),
            };
            insert_petition(conn, &row)?;
            audit::append(
                conn,
                AuditEntry {
                    actor: &actor,
                    at: to_db(now),
                    action: "petition.submit",
                    entity: "petition",
                    entity_id: &code,
                    detail: serde_json::json!({
                        "kind": row.kind,
                        "agency": row.agency_code,
                        "dossier": row.dossier_code,
                        "due_at": crate::http::rfc3339(due, offset),
                    }),
                },
            )?;
            enqueue(
                conn,
                &Outgoing {
                    template: "petition_received".into(),
                    to: row.email.clone(),
                    dossier_code: row.dossier_code.clone(),
                    key: format!("petition:{code}:received"),
                    vars: self.petition_vars(&row),
                },
                now,
            )?;
            Ok::<_, AppError>(code)
        })?;
        self.count_submission(address, now);
        Ok(Submitted {
            status_url: self.petition_status_url(&code),
            code,
            pin,
            kind: checked.kind,
            status: PetitionStatus::Received,
            submitted_at: now,
            due_at: due_utc,
            answer_within: self.petitions.answer_within.to_string(),
            source: self.petitions.source.clone(),
            agency: self.agency_ref(&agency),
        })
    }

    /// The variables of the petition e-mails (`config/templates/petition_*.toml`): the
    /// code, the status link (never the pin), the due date and the agency's contact; after
    /// the answer, the answer and its moment.
    pub fn petition_vars(&self, p: &PetitionRow) -> BTreeMap<String, String> {
        let offset = self.settings.offset;
        let kind = PetitionKind::parse(&p.kind).unwrap_or(PetitionKind::Report);
        let mut v = BTreeMap::new();
        v.insert("code".into(), p.code.clone());
        v.insert("full_name".into(), p.submitter_name.clone());
        v.insert("kind".into(), kind.label_vi().to_lowercase());
        v.insert(
            "submitted_at".into(),
            crate::web::moment(from_db(p.submitted_at), offset),
        );
        v.insert(
            "due_date".into(),
            crate::web::day(from_db(p.due_at), offset),
        );
        v.insert("answer_within".into(), p.answer_within.clone());
        v.insert("status_url".into(), self.petition_status_url(&p.code));
        v.insert("agency_name".into(), self.agency_ref(&p.agency_code).name);
        v.insert("agency_contact".into(), self.agency_contact(&p.agency_code));
        v.insert(
            "dossier_code".into(),
            p.dossier_code.clone().unwrap_or_default(),
        );
        if let Some(a) = &p.answer {
            v.insert("answer".into(), a.clone());
        }
        if let Some(t) = p.answered_at {
            v.insert("answered_at".into(), crate::web::moment(from_db(t), offset));
        }
        v
    }

    /// The citizen's view of petition `code` with its pin; failures are throttled and all
    /// answer as the dossier lookup does.
    pub fn petition_status(
        &self,
        code: &str,
        pin_given: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<PublicPetition> {
        let code = code.trim().to_uppercase();
        let guess = super::guesses::Guess::lookup(self, &code, address);
        let pair_failed = self.hold_guess(&guess, now)?;
        let found = if code.len() <= 64 {
            self.store.find_petition(&code)?
        } else {
            None
        };
        let ok = match (&found, pin::normalise_pin(pin_given)) {
            (Some(p), Some(given)) => pin::verify_pin(&self.keys.pin, &p.code, &given, &p.pin_hash),
            (None, _) => {
                let _ = pin::verify_pin(&self.keys.pin, &code, pin_given, "");
                false
            }
            _ => false,
        };
        if !ok {
            self.failed_guess(&guess, now)?;
            return Err(lookup_not_found());
        }
        self.good_guess(&guess, pair_failed)?;
        let p = found.ok_or_else(lookup_not_found)?;
        let kind = PetitionKind::parse(&p.kind).unwrap_or(PetitionKind::Report);
        let status = PetitionStatus::parse(&p.status).unwrap_or(PetitionStatus::Received);
        Ok(PublicPetition {
            kind,
            kind_label: kind.label_vi(),
            status,
            status_label: status.label_vi(),
            submitted_at: from_db(p.submitted_at),
            due_at: from_db(p.due_at),
            agency: self.agency_ref(&p.agency_code),
            dossier_code: p.dossier_code,
            submitter_name: applicant::mask_name(&p.submitter_name),
            content: p.body,
            answer: p.answer,
            answered_at: p.answered_at.map(from_db),
            outcome: p.outcome.as_deref().and_then(AnswerOutcome::parse),
            code: p.code,
        })
    }

    /// Staff roles that read petitions (their agency and those below it).
    fn may_read_petitions(caller: &Caller) -> AppResult<()> {
        match caller.role {
            Role::Clerk | Role::Official | Role::Leader | Role::Inspector | Role::Admin => Ok(()),
            _ => Err(AppError::forbidden(
                "Tài khoản này không xem phản ánh, kiến nghị",
            )),
        }
    }

    /// The commands `caller` may give on `p` now.
    fn petition_actions(caller: &Caller, p: &PetitionRow) -> Vec<&'static str> {
        let own = caller.agency == p.agency_code;
        let leader = own && caller.role == Role::Leader;
        let assignee = own && p.assignee.as_deref() == Some(caller.username.as_str());
        let status = PetitionStatus::parse(&p.status).unwrap_or(PetitionStatus::Received);
        let mut out = Vec::new();
        for (c, allowed) in [
            (Command::Assign, leader),
            (Command::Answer, leader || assignee),
            (
                Command::Close,
                leader || (own && p.answered_by.as_deref() == Some(caller.username.as_str())),
            ),
        ] {
            if allowed && rules::transition(status, &c).is_some() {
                out.push(c.as_str());
            }
        }
        out
    }

    /// The staff view of `p` for `caller` at `now`.
    fn petition_view(&self, caller: &Caller, p: PetitionRow, now: DateTime<Utc>) -> PetitionView {
        let kind = PetitionKind::parse(&p.kind).unwrap_or(PetitionKind::Report);
        let status = PetitionStatus::parse(&p.status).unwrap_or(PetitionStatus::Received);
        let offset = self.settings.offset;
        let (remaining, urgency) = if status.is_open() {
            let (m, u) = self.urgency(
                now.with_timezone(&offset),
                from_db(p.due_at).with_timezone(&offset),
            );
            (Some(m), Some(u))
        } else {
            (None, None)
        };
        let actions = Self::petition_actions(caller, &p);
        PetitionView {
            kind,
            kind_label: kind.label_vi(),
            status,
            status_label: status.label_vi(),
            submitted_at: from_db(p.submitted_at),
            due_at: from_db(p.due_at),
            answer_within: p.answer_within,
            agency: self.agency_ref(&p.agency_code),
            dossier_code: p.dossier_code,
            submitter_name: p.submitter_name,
            email: p.email,
            phone: p.phone,
            content: p.body,
            assignee: p.assignee,
            answer: p.answer,
            answered_at: p.answered_at.map(from_db),
            answered_by: p.answered_by,
            outcome: p.outcome.as_deref().and_then(AnswerOutcome::parse),
            closed_at: p.closed_at.map(from_db),
            remaining_working_minutes: remaining,
            urgency,
            actions,
            code: p.code,
        }
    }

    /// The petitions queue of `caller`'s agency and those below it, soonest due first.
    pub fn petition_queue(
        &self,
        caller: &Caller,
        q: &PetitionQuery,
        now: DateTime<Utc>,
    ) -> AppResult<PetitionQueue> {
        Self::may_read_petitions(caller)?;
        if !(1..=200).contains(&q.limit) || !(0..=MAX_OFFSET).contains(&q.offset) {
            return Err(AppError::bad_request(
                "invalid_limit",
                format!("limit phải từ 1 đến 200, offset từ 0 đến {MAX_OFFSET}"),
            ));
        }
        if let Some(k) = &q.kind {
            if PetitionKind::parse(k).is_none() {
                return Err(AppError::bad_request(
                    "invalid_kind",
                    "Loại phải là report (phản ánh) hoặc proposal (kiến nghị)",
                ));
            }
        }
        let filter = PetitionFilter {
            kind: q.kind.clone(),
            assignee: q.assignee.as_deref().map(|a| match a {
                "me" => caller.username.clone(),
                a => a.to_string(),
            }),
        };
        let scope = self.scope_of(caller);
        let offset = self.settings.offset;
        let local = now.with_timezone(&offset);
        let soon = self
            .deadlines()
            .add_working_minutes(
                local.fixed_offset(),
                self.calendar.hours().minutes_per_day(),
            )
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(now);
        let window = (to_db(now), to_db(soon));
        let counts = self.store.petition_counts(&scope, &filter, window)?;
        let mut rows =
            self.store
                .petitions_in(&scope, q.tab.set(), &filter, window, q.limit + 1, q.offset)?;
        let more = rows.len() as i64 > q.limit;
        rows.truncate(q.limit as usize);
        Ok(PetitionQueue {
            tab: q.tab,
            counts: PetitionTab::ALL
                .iter()
                .map(|t| (t.as_str(), t.count(&counts)))
                .collect(),
            items: rows
                .into_iter()
                .map(|p| self.petition_view(caller, p, now))
                .collect(),
            more,
        })
    }

    /// Petition `code` if `caller` may read it (404 otherwise).
    pub fn petition_detail(
        &self,
        caller: &Caller,
        code: &str,
        now: DateTime<Utc>,
    ) -> AppResult<PetitionView> {
        Self::may_read_petitions(caller)?;
        match self.store.find_petition(code.trim())? {
            Some(p) if self.scope_of(caller).contains(&p.agency_code) => {
                Ok(self.petition_view(caller, p, now))
            }
            _ => Err(AppError::not_found()),
        }
    }

    /// Assign, answer or close petition `code`: one transaction with its audit record
    /// (and, for the answer, the outgoing e-mail). 404 outside `caller`'s scope, 403 for a
    /// command not theirs, 409 `invalid_state` when the petition's state forbids it.
    pub fn petition_command(
        &self,
        caller: &Caller,
        code: &str,
        cmd: &PetitionCommand,
        now: DateTime<Utc>,
    ) -> AppResult<PetitionView> {
        Self::may_read_petitions(caller)?;
        let now = to_db(now).and_utc();
        let offset = self.settings.offset;
        let scope = self.scope_of(caller);
        // Checked before the transaction: the answer's text, the assignee's account.
        let answer = match cmd {
            PetitionCommand::Answer { text: t } => {
                match text::bounded_multiline(t, self.petitions.max_content_chars) {
                    Ok(Some(t)) => Some(t),
                    Ok(None) => {
                        return Err(AppError::invalid("missing_answer", "Nhập nội dung trả lời"))
                    }
                    Err(e) => {
                        return Err(AppError::invalid(
                            "invalid_answer",
                            e.message("Nội dung trả lời", self.petitions.max_content_chars),
                        ))
                    }
                }
            }
            _ => None,
        };
        let code = code.trim().to_string();
        let actor = caller.actor();
        let row = self.store.write(None, |conn| {
            let Some(mut p) = petition_for_update(conn, &code)? else {
                return Err(AppError::not_found());
            };
            if !scope.contains(&p.agency_code) {
                return Err(AppError::not_found());
            }
            let command = cmd.command();
            if !Self::petition_actions(caller, &p).contains(&command.as_str()) {
                let status = PetitionStatus::parse(&p.status).unwrap_or(PetitionStatus::Received);
                if rules::transition(status, &command).is_none() {
                    return Err(AppError::conflict(
                        "invalid_state",
                        format!(
                            "Phản ánh, kiến nghị đang ở trạng thái \"{}\": không thực hiện được thao tác này",
                            status.label_vi()
                        ),
                    ));
                }
                return Err(AppError::forbidden(match command {
                    Command::Assign => "Chỉ lãnh đạo cơ quan được phân công xử lý",
                    Command::Answer => "Chỉ cán bộ được phân công hoặc lãnh đạo cơ quan được trả lời",
                    Command::Close => "Chỉ lãnh đạo cơ quan hoặc người đã trả lời được kết thúc",
                }));
            }
            let status = PetitionStatus::parse(&p.status).unwrap_or(PetitionStatus::Received);
            let next = rules::transition(status, &command).ok_or_else(AppError::internal)?;
            let detail = match cmd {
                PetitionCommand::Assign { user } => {
                    let user = user.trim();
                    let staff = self.store.staff_of(&p.agency_code)?;
                    if !staff
                        .iter()
                        .any(|(u, _, r)| u == user && (r == "official" || r == "leader"))
                    {
                        return Err(AppError::invalid(
                            "invalid_assignee",
                            "Người được phân công phải là chuyên viên hoặc lãnh đạo của cơ quan",
                        ));
                    }
                    p.assignee = Some(user.to_string());
                    serde_json::json!({"user": user})
                }
                PetitionCommand::Answer { .. } => {
                    let due = from_db(p.due_at).fixed_offset();
                    let outcome = rules::answer_outcome(now.fixed_offset(), due);
                    p.answer = answer.clone();
                    p.answered_at = Some(to_db(now));
                    p.answered_by = Some(caller.username.clone());
                    p.outcome = Some(outcome.as_str().into());
                    serde_json::json!({
                        "outcome": outcome.as_str(),
                        "due_at": crate::http::rfc3339(due, offset),
                    })
                }
                PetitionCommand::Close => {
                    p.closed_at = Some(to_db(now));
                    serde_json::json!({})
                }
            };
            p.status = next.as_str().into();
            p.updated_at = to_db(now);
            update_petition(conn, &p)?;
            audit::append(
                conn,
                AuditEntry {
                    actor: &actor,
                    at: to_db(now),
                    action: match command {
                        Command::Assign => "petition.assign",
                        Command::Answer => "petition.answer",
                        Command::Close => "petition.close",
                    },
                    entity: "petition",
                    entity_id: &p.code,
                    detail,
                },
            )?;
            if command == Command::Answer {
                enqueue(
                    conn,
                    &Outgoing {
                        template: "petition_answer".into(),
                        to: p.email.clone(),
                        dossier_code: p.dossier_code.clone(),
                        key: format!("petition:{}:answer", p.code),
                        vars: self.petition_vars(&p),
                    },
                    now,
                )?;
            }
            Ok::<_, AppError>(p)
        })?;
        Ok(self.petition_view(caller, row, now))
    }

    /// The staff of `agency` a leader may assign petitions to: `(username, full name)`.
    pub fn petition_assignees(&self, agency: &str) -> AppResult<Vec<(String, String)>> {
        Ok(self
            .store
            .staff_of(agency)?
            .into_iter()
            .filter(|(_, _, r)| r == "official" || r == "leader")
            .map(|(u, n, _)| (u, n))
            .collect())
    }

    /// The petition counts of the report's groups (QĐ 766 5.2 and 5.4) over `period` for
    /// the agencies `scope`.
    pub fn petition_counts(
        &self,
        scope: &[String],
        period: Period,
        group_by: GroupBy,
        now: DateTime<Utc>,
    ) -> AppResult<BTreeMap<String, Counts>> {
        let offset = self.settings.offset;
        let start = crate::core::calendar::start_of_day_utc(period.from, offset);
        let end = crate::core::calendar::start_of_day_utc(
            period.to.succ_opt().unwrap_or(period.to),
            offset,
        );
        let rows = self.store.petition_facts(scope, to_db(start), to_db(end))?;
        let codes: Vec<String> = rows.iter().filter_map(|p| p.dossier_code.clone()).collect();
        let dossiers = self.store.dossier_ratings(&codes)?;
        let facts: Vec<PetitionFact> = rows
            .into_iter()
            .map(|p| {
                let d = p
                    .dossier_code
                    .as_ref()
                    .and_then(|c| dossiers.iter().find(|d| &d.0 == c));
                PetitionFact {
                    level: self
                        .agencies
                        .get(&p.agency_code)
                        .map(|a| a.level.clone())
                        .unwrap_or_default(),
                    procedure: d
                        .map(|d| d.1.clone())
                        .unwrap_or_else(|| crate::core::indicators::NO_PROCEDURE.into()),
                    dossier_rated_negative_at: d
                        .filter(|d| {
                            d.2.as_deref()
                                .is_some_and(|r| !matches!(r, "very_satisfied" | "satisfied"))
                        })
                        .and_then(|d| d.3.map(from_db)),
                    agency: p.agency_code,
                    submitted_at: from_db(p.submitted_at),
                    due_at: from_db(p.due_at),
                    answered_at: p.answered_at.map(from_db),
                    dossier: p.dossier_code,
                }
            })
            .collect();
        Ok(aggregate_petitions(&facts, period, group_by, offset, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> SubmitRequest {
        SubmitRequest {
            kind: "report".into(),
            full_name: "Nguye\u{0302}\u{0303}n Văn An".into(),
            email: Some(" an@Example.VN ".into()),
            phone: Some("0912 345 678".into()),
            agency: Some("000.00.51.H26".into()),
            content: "Cán bộ hẹn\r\nnhiều lần.".into(),
            ..Default::default()
        }
    }

    #[test]
    fn fields_are_cleaned_by_the_text_rules() {
        let c = check_fields(&request(), 4000).unwrap();
        assert_eq!(c.full_name, "Nguyễn Văn An");
        assert_eq!(c.email.as_deref(), Some("an@example.vn"));
        assert_eq!(c.phone.as_deref(), Some("0912345678"));
        assert_eq!(c.content, "Cán bộ hẹn\nnhiều lần.");
        assert_eq!(c.kind, PetitionKind::Report);
    }

    #[test]
    fn each_bad_field_has_its_code() {
        type Case = (fn(&mut SubmitRequest), &'static str, &'static str);
        let cases: Vec<Case> = vec![
            (|r| r.kind = "complaint".into(), "kind", "invalid_kind"),
            (
                |r| r.full_name = "  ".into(),
                "full_name",
                "invalid_full_name",
            ),
            (
                |r| r.full_name = "12345".into(),
                "full_name",
                "invalid_full_name",
            ),
            (|r| r.email = Some("an@".into()), "email", "invalid_email"),
            (|r| r.phone = Some("12".into()), "phone", "invalid_phone"),
            (|r| r.content = "\n \n".into(), "content", "missing_content"),
            (
                |r| r.content = "x".repeat(4001),
                "content",
                "content_too_long",
            ),
            (
                |r| r.content = "a\u{202E}b".into(),
                "content",
                "invalid_content",
            ),
            (
                |r| r.content = "a\u{0}b".into(),
                "content",
                "invalid_content",
            ),
            (
                |r| r.dossier_code = Some("X-1".into()),
                "pin",
                "missing_pin",
            ),
            (
                |r| r.agency = Some("a\u{0}".into()),
                "agency",
                "invalid_agency",
            ),
        ];
        for (edit, field, code) in cases {
            let mut r = request();
            edit(&mut r);
            let problems = check_fields(&r, 4000).unwrap_err();
            assert_eq!(
                (problems[0].field, problems[0].error),
                (field, code),
                "{problems:?}"
            );
        }
        // Every problem at once, for the page's summary.
        let all = check_fields(&SubmitRequest::default(), 4000).unwrap_err();
        let fields: Vec<&str> = all.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["kind", "full_name", "content"]);
    }
}
