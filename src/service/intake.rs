//! Counter intake (*tiếp nhận hồ sơ*, NĐ 118/2025 Art. 16–17; TT 03/2025 forms 01–03):
//! register a dossier with its statutory code, pin and due moment, or record guidance to
//! complete (form 02) or a refusal (form 03) without registering anything.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Caller, Role};
use crate::app::App;
use crate::core::applicant::{check_email, check_id_number, check_phone, IdKind};
use crate::core::catalogue::{PaperKind, Procedure};
use crate::core::deadline::DeadlineError;
use crate::core::dossier::{missing_papers, rule_set_for, Channel, Status, SubmittedPaper};
use crate::core::indicators::ActKind;
use crate::core::pin;
use crate::core::text;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, AuditEntry};
use crate::store::dossiers::{self, DossierRow, EventRow, IntakeOutcomeRow, PaperRow};
use crate::store::{to_db, StoreError};

/// Most papers a dossier may list.
pub const MAX_PAPERS: usize = 50;

/// The applicant (*người nộp hồ sơ*) as typed at intake.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicantInput {
    /// Full name, at most 100 characters, with at least a letter (NFC, zero-width
    /// characters removed).
    #[schema(example = "Nguyễn Văn An")]
    pub full_name: String,
    /// `personal_id` (default, 12 digits), `passport` or `tax_code`.
    #[serde(default)]
    #[schema(example = "personal_id")]
    pub id_kind: Option<String>,
    /// The identifier of `id_kind`: 12 digits for a personal ID (số định danh cá nhân),
    /// a passport number, or a tax code of 10 digits (or 10 + `-` + 3 for a branch).
    /// Spaces are removed.
    #[schema(example = "001085012345")]
    pub id_number: String,
    /// A Vietnamese phone number (`0` + 9–10 digits; `+84`, spaces, dots and dashes
    /// accepted), stored in its national form.
    #[serde(default)]
    pub phone: Option<String>,
    /// An e-mail address; the domain is lowercased.
    #[serde(default)]
    pub email: Option<String>,
    /// At most 300 characters.
    #[serde(default)]
    pub address: Option<String>,
}

/// The person submitting on the applicant's behalf (*người được ủy quyền*).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyInput {
    /// Full name, at most 100 characters.
    pub full_name: String,
    /// `personal_id` (default), `passport` or `tax_code`.
    #[serde(default)]
    pub id_kind: Option<String>,
    /// The identifier of `id_kind`, checked as the applicant's.
    pub id_number: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// The relation or the authorisation paper, e.g. "Con" or "Giấy ủy quyền số 12/2026";
    /// at most 200 characters.
    #[serde(default)]
    pub relation: Option<String>,
}

/// A paper of the dossier (*thành phần hồ sơ*) as handed in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaperInput {
    /// Its name, at most 300 characters; matched against the procedure's checklist.
    #[schema(example = "Tờ khai đăng ký khai sinh")]
    pub name: String,
    /// `original` (bản chính), `certified_copy` (bản sao có chứng thực) or `copy` (bản
    /// sao).
    #[schema(example = "original")]
    pub kind: String,
    /// How many copies, 1 to 100; default 1.
    #[serde(default = "one")]
    #[schema(default = 1, minimum = 1, maximum = 100)]
    pub count: u32,
    /// A document of the applicant data store that satisfies this paper instead of a new
    /// copy (*tái sử dụng kết quả số hóa*, NĐ 45/2020 Art. 14): its id, e.g.
    /// `000.00.51.H26-261102-0001-KQ1`. It must belong to the applicant, be still valid
    /// and have its electronic copy.
    #[serde(default)]
    pub reuse_document_id: Option<String>,
}

fn one() -> u32 {
    1
}

/// A dossier handed in: at the counter (`counter`, `post`) by a one-stop clerk, or online
/// (`online`) by a portal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeRequest {
    /// The procedure's code in the catalogue (`GET /api/v1/procedures`); the version in
    /// force now applies.
    #[schema(example = "1.001193.000.00.00.H26")]
    pub procedure_code: String,
    pub applicant: ApplicantInput,
    #[serde(default)]
    pub proxy: Option<ProxyInput>,
    /// `counter` or `post` for a clerk, `online` for a portal.
    #[schema(example = "counter")]
    pub channel: String,
    /// The papers handed in, at most 50; together they must satisfy the procedure's
    /// checklist (else `422 missing_papers`).
    #[serde(default)]
    pub papers: Vec<PaperInput>,
    /// At most 1000 characters, several lines allowed.
    #[serde(default)]
    pub note: Option<String>,
    /// The agency competent to decide (*cơ quan có thẩm quyền giải quyết*) when the
    /// procedure does not name one and it is not the receiving agency: e.g. the applicant's
    /// ward for a commune-level procedure received at another counter (NĐ 118/2025 Art. 4:
    /// a dossier may be received anywhere in the province).
    #[serde(default)]
    pub competent_agency: Option<String>,
    /// For a portal: the agency whose one-stop counter the online dossier is submitted to
    /// (the applicant chooses it on the portal); defaults to the portal's own agency. Staff
    /// always receive at their own agency.
    #[serde(default)]
    pub receiving_agency: Option<String>,
}

/// A checked applicant.
#[derive(Debug, Clone, Serialize)]
pub struct Applicant {
    pub full_name: String,
    pub id_kind: IdKind,
    pub id_number: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

/// A checked proxy (*người được ủy quyền*), as stored with the dossier and shown in its
/// `proxy`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Proxy {
    pub full_name: String,
    /// `personal_id`, `passport` or `tax_code`.
    #[schema(value_type = String, example = "personal_id")]
    pub id_kind: IdKind,
    pub id_number: String,
    /// In its national form (`0` + 9–10 digits).
    pub phone: Option<String>,
    /// The relation or the authorisation paper.
    pub relation: Option<String>,
}

/// What the counter (or, for an online submission, the intake API) hands back: the code and
/// the pin (shown once), and the moments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    pub code: String,
    pub pin: String,
    pub status: String,
    /// An online submission's arrival and when the desk must answer it (NĐ 118/2025
    /// Art. 17(2)); none at the counter.
    pub submitted_at: Option<DateTime<Utc>>,
    pub acknowledge_by: Option<DateTime<Utc>>,
    /// None until the official receipt.
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub procedure_code: String,
    pub procedure_name: String,
    pub procedure_version: i32,
    pub statutory_time: String,
    pub rule_set: String,
    pub receiving_agency: String,
    pub competent_agency: Option<String>,
    pub channel: String,
    pub book_volume: Option<i32>,
    pub book_line: Option<i64>,
}

/// How a typed value is cleaned (the rule of [`crate::core::text`]).
#[derive(Clone, Copy)]
enum Typed {
    /// One line.
    Line,
    /// Several lines (reasons, notes).
    Lines,
    /// A person's name: one line, at least a letter, no zero-width characters.
    Name,
}

fn typed(
    value: &str,
    max: usize,
    kind: Typed,
    code: &'static str,
    what: &str,
) -> AppResult<Option<String>> {
    match kind {
        Typed::Line => text::bounded(value, max),
        Typed::Lines => text::bounded_multiline(value, max),
        Typed::Name => text::name(value, max),
    }
    .map_err(|e| AppError::invalid(code, e.message(what, max)))
}

fn required_text(value: &str, max: usize, code: &'static str, what: &str) -> AppResult<String> {
    required(value, max, Typed::Line, code, what)
}

fn required(
    value: &str,
    max: usize,
    kind: Typed,
    code: &'static str,
    what: &str,
) -> AppResult<String> {
    typed(value, max, kind, code, what)?
        .ok_or_else(|| AppError::invalid(code, format!("{what} không được để trống")))
}

fn optional_text(
    value: &Option<String>,
    max: usize,
    code: &'static str,
    what: &str,
) -> AppResult<Option<String>> {
    optional(value, max, Typed::Line, code, what)
}

fn optional(
    value: &Option<String>,
    max: usize,
    kind: Typed,
    code: &'static str,
    what: &str,
) -> AppResult<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) => typed(v, max, kind, code, what),
    }
}

fn id_kind(raw: &Option<String>) -> AppResult<IdKind> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(IdKind::PersonalId),
        Some(k) => IdKind::parse(k).ok_or_else(|| {
            AppError::invalid(
                "invalid_id_kind",
                "id_kind phải là personal_id, passport hoặc tax_code",
            )
        }),
    }
}

fn id_number(kind: IdKind, raw: &str, whose: &str) -> AppResult<String> {
    check_id_number(kind, raw)
        .map_err(|m| AppError::invalid("invalid_id_number", format!("{whose}: {m}")))
}

fn phone(raw: &Option<String>, whose: &str) -> AppResult<Option<String>> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(p) => check_phone(p)
            .map(Some)
            .map_err(|m| AppError::invalid("invalid_phone", format!("{whose}: {m}"))),
    }
}

fn email(raw: &Option<String>) -> AppResult<Option<String>> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(e) => check_email(e)
            .map(Some)
            .map_err(|m| AppError::invalid("invalid_email", m.to_string())),
    }
}

/// Checks an applicant as typed.
pub fn check_applicant(a: &ApplicantInput) -> AppResult<Applicant> {
    let full_name = required(
        &a.full_name,
        100,
        Typed::Name,
        "invalid_full_name",
        "Họ tên người nộp",
    )?;
    let kind = id_kind(&a.id_kind)?;
    let id = id_number(kind, &a.id_number, "Người nộp")?;
    let phone = phone(&a.phone, "Người nộp")?;
    let email = email(&a.email)?;
    let address = optional_text(&a.address, 300, "invalid_address", "Địa chỉ")?;
    Ok(Applicant {
        full_name,
        id_kind: kind,
        id_number: id,
        phone,
        email,
        address,
    })
}

/// Every problem of an applicant as typed, field by field (a form shows them all at once;
/// [`check_applicant`] stops at the first).
pub fn applicant_problems(a: &ApplicantInput) -> Vec<AppError> {
    let mut out = Vec::new();
    if let Err(e) = required(
        &a.full_name,
        100,
        Typed::Name,
        "invalid_full_name",
        "Họ tên người nộp",
    ) {
        out.push(e);
    }
    match id_kind(&a.id_kind) {
        Err(e) => out.push(e),
        Ok(kind) => {
            if let Err(e) = id_number(kind, &a.id_number, "Người nộp") {
                out.push(e);
            }
        }
    }
    if let Err(e) = phone(&a.phone, "Người nộp") {
        out.push(e);
    }
    if let Err(e) = email(&a.email) {
        out.push(e);
    }
    if let Err(e) = optional_text(&a.address, 300, "invalid_address", "Địa chỉ") {
        out.push(e);
    }
    out
}

/// Every problem of a proxy as typed, field by field.
pub fn proxy_problems(p: &ProxyInput) -> Vec<AppError> {
    let mut out = Vec::new();
    if let Err(e) = required(
        &p.full_name,
        100,
        Typed::Name,
        "invalid_full_name",
        "Họ tên người được ủy quyền",
    ) {
        out.push(e);
    }
    match id_kind(&p.id_kind) {
        Err(e) => out.push(e),
        Ok(kind) => {
            if let Err(e) = id_number(kind, &p.id_number, "Người được ủy quyền") {
                out.push(e);
            }
        }
    }
    if let Err(e) = phone(&p.phone, "Người được ủy quyền") {
        out.push(e);
    }
    if let Err(e) = optional_text(&p.relation, 200, "invalid_proxy", "Quan hệ / giấy ủy quyền")
    {
        out.push(e);
    }
    out
}

fn check_proxy(p: &ProxyInput) -> AppResult<Proxy> {
    let full_name = required(
        &p.full_name,
        100,
        Typed::Name,
        "invalid_full_name",
        "Họ tên người được ủy quyền",
    )?;
    let kind = id_kind(&p.id_kind)?;
    Ok(Proxy {
        full_name,
        id_kind: kind,
        id_number: id_number(kind, &p.id_number, "Người được ủy quyền")?,
        phone: phone(&p.phone, "Người được ủy quyền")?,
        relation: optional_text(&p.relation, 200, "invalid_proxy", "Quan hệ / giấy ủy quyền")?,
    })
}

fn paper_kind(s: &str) -> AppResult<PaperKind> {
    match s.trim() {
        "original" => Ok(PaperKind::Original),
        "certified_copy" => Ok(PaperKind::CertifiedCopy),
        "copy" => Ok(PaperKind::Copy),
        _ => Err(AppError::invalid(
            "invalid_paper",
            format!("Loại giấy tờ \"{s}\" không hợp lệ (original, certified_copy hoặc copy)"),
        )),
    }
}

fn check_papers(papers: &[PaperInput]) -> AppResult<Vec<SubmittedPaper>> {
    if papers.len() > MAX_PAPERS {
        return Err(AppError::invalid(
            "invalid_paper",
            format!("Tối đa {MAX_PAPERS} thành phần hồ sơ"),
        ));
    }
    papers
        .iter()
        .map(|p| {
            let name = required_text(&p.name, 300, "invalid_paper", "Tên giấy tờ")?;
            if p.count == 0 || p.count > 100 {
                return Err(AppError::invalid(
                    "invalid_paper",
                    format!("Số lượng của \"{name}\" phải từ 1 đến 100"),
                ));
            }
            Ok(SubmittedPaper {
                name,
                kind: paper_kind(&p.kind)?,
                count: p.count,
            })
        })
        .collect()
}

fn kind_str(k: PaperKind) -> &'static str {
    match k {
        PaperKind::Original => "original",
        PaperKind::CertifiedCopy => "certified_copy",
        PaperKind::Copy => "copy",
    }
}

/// Vietnamese label of a paper kind, for forms.
pub fn paper_kind_label(k: &str) -> &'static str {
    match k {
        "original" => "Bản chính",
        "certified_copy" => "Bản sao có chứng thực",
        _ => "Bản sao",
    }
}

/// A new lookup pin from the system's randomness (dossiers and petitions alike).
pub(crate) fn random_pin() -> AppResult<String> {
    let mut buf = [0u8; 64];
    getrandom::fill(&mut buf).map_err(|_| AppError::internal())?;
    let mut i = 0;
    let mut extra = [0u8; 1];
    Ok(pin::generate_pin(|| {
        if i < buf.len() {
            i += 1;
            buf[i - 1]
        } else {
            let _ = getrandom::fill(&mut extra);
            extra[0]
        }
    }))
}

impl App {
    fn procedure_in_force(
        &self,
        code: &str,
        at: chrono::NaiveDateTime,
    ) -> AppResult<(crate::store::catalogue::ProcedureVersionRow, Procedure)> {
        let code = code.trim();
        let row = if code.is_empty() || code.len() > 64 || text::check_key(code).is_err() {
            None
        } else {
            self.store.procedure_version_at(code, at)?
        };
        let row = row.ok_or_else(|| {
            AppError::invalid(
                "unknown_procedure",
                format!("Không có thủ tục mã \"{code}\" đang áp dụng"),
            )
        })?;
        let procedure: Procedure = serde_json::from_str(&row.definition).map_err(|e| {
            tracing::error!(error = %e, code, "stored procedure definition unreadable");
            AppError::internal()
        })?;
        Ok((row, procedure))
    }

    /// Registers a dossier received by `caller` at `now`: one transaction writes the
    /// dossier, its papers, its first event and the audit record.
    pub fn receive(
        &self,
        caller: &Caller,
        req: &IntakeRequest,
        now: DateTime<Utc>,
    ) -> AppResult<Receipt> {
        self.receive_once(caller, req, None, now)
    }

    /// [`App::receive`] with an idempotency key (`Idempotency-Key`): the same request
    /// repeated with the same key — a portal retrying after a lost answer, a double click
    /// at the counter — gives the first answer, pin included, and registers nothing more;
    /// the key with another request is refused (422 `idempotency_key_reused`). Two
    /// concurrent requests with one key register one dossier.
    pub fn receive_once(
        &self,
        caller: &Caller,
        req: &IntakeRequest,
        key: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<Receipt> {
        let Some(key) = key else {
            return self.register(caller, req, None, now);
        };
        if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key gồm 1–128 ký tự ASCII in được",
            ));
        }
        use sha2::Digest;
        let hash = hex::encode(sha2::Sha256::digest(
            serde_json::to_vec(req).expect("serialisable"),
        ));
        let replay = |row: dossiers::IntakeKeyRow| -> AppResult<Receipt> {
            if row.request_hash != hash {
                return Err(AppError::invalid(
                    "idempotency_key_reused",
                    "Idempotency-Key này đã dùng cho một yêu cầu khác",
                ));
            }
            // The first may have been committed a moment ago and not be on disk yet
            // (`Store::write_releasing_early`): its code is told again only once it is.
            self.store.flush()?;
            let mut receipt: Receipt =
                serde_json::from_str(&row.receipt).map_err(|_| AppError::internal())?;
            receipt.pin = self.idempotent_pin(&caller.username, key);
            Ok(receipt)
        };
        if let Some(row) = self.store.intake_key(&caller.username, key)? {
            return replay(row);
        }
        match self.register(caller, req, Some((key, &hash)), now) {
            Ok(r) => Ok(r),
            // A concurrent request with the same key got there first: its answer.
            Err(e) => match self.store.intake_key(&caller.username, key)? {
                Some(row) => replay(row),
                None => Err(e),
            },
        }
    }

    /// The pin of an intake with an idempotency key, the same on every repeat.
    fn idempotent_pin(&self, account: &str, key: &str) -> String {
        pin::derived_pin(&self.keys.pin, &format!("{account}\n{key}"))
    }

    fn register(
        &self,
        caller: &Caller,
        req: &IntakeRequest,
        idempotency: Option<(&str, &str)>,
        now: DateTime<Utc>,
    ) -> AppResult<Receipt> {
        // Receipts are to the second.
        let now =
            chrono::DurationRound::duration_trunc(now, chrono::Duration::seconds(1)).unwrap_or(now);
        let channel = Channel::parse(req.channel.trim()).ok_or_else(|| {
            AppError::invalid(
                "invalid_channel",
                "channel phải là counter, online hoặc post",
            )
        })?;
        match (caller.role, channel) {
            (Role::Clerk, Channel::Counter | Channel::Post) | (Role::Portal, Channel::Online) => {}
            (Role::Clerk, Channel::Online) => {
                return Err(AppError::invalid(
                    "invalid_channel",
                    "Hồ sơ trực tuyến do Cổng dịch vụ công gửi đến",
                ))
            }
            (Role::Portal, _) => {
                return Err(AppError::invalid(
                    "invalid_channel",
                    "Cổng dịch vụ công chỉ gửi hồ sơ trực tuyến (online)",
                ))
            }
            _ => {
                return Err(AppError::forbidden(
                    "Chỉ cán bộ một cửa hoặc Cổng dịch vụ công được tiếp nhận hồ sơ",
                ))
            }
        }
        let applicant = check_applicant(&req.applicant)?;
        let proxy = req.proxy.as_ref().map(check_proxy).transpose()?;
        let papers = check_papers(&req.papers)?;
        let note = optional(&req.note, 1000, Typed::Lines, "invalid_note", "Ghi chú")?;
        let received = to_db(now);
        let (version, procedure) = self.procedure_in_force(&req.procedure_code, received)?;
        let reuse = self.check_reuse(&req.papers, &applicant, now)?;
        let missing = missing_papers(&procedure.papers, &papers);
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|m| m.name.as_str()).collect();
            return Err(AppError::invalid(
                "missing_papers",
                format!("Hồ sơ còn thiếu hoặc chưa đúng loại: {}", names.join("; ")),
            )
            .with_details(json!({ "missing": missing })));
        }
        let receiving_code = match req.receiving_agency.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() && r != caller.agency => {
                if caller.role != Role::Portal {
                    return Err(AppError::invalid(
                        "invalid_receiving_agency",
                        "Cán bộ chỉ tiếp nhận hồ sơ tại cơ quan của mình",
                    ));
                }
                if self.agencies.get(r).is_none() {
                    return Err(AppError::invalid(
                        "invalid_receiving_agency",
                        format!("Cơ quan {r} không có trong danh mục"),
                    ));
                }
                r.to_string()
            }
            _ => caller.agency.clone(),
        };
        let receiving = self
            .agencies
            .get(&receiving_code)
            .ok_or_else(|| AppError::forbidden("Cơ quan của tài khoản không còn trong danh mục"))?;
        let offset = self.settings.offset;
        let local = now.with_timezone(&offset).fixed_offset();
        let rules =
            rule_set_for(&self.rule_sets, local.date_naive()).ok_or_else(AppError::internal)?;
        let competent =
            self.competent_for(&procedure, receiving, req.competent_agency.as_deref())?;
        // An online dossier waits for the desk's official receipt (NĐ 118/2025 Art. 17(2));
        // the desk answers within the rule set's limit. At the counter: received now.
        let acknowledge_by = match (channel, &rules.online_acknowledge_within) {
            (Channel::Online, Some(w)) => Some(
                crate::core::desk::acknowledge_by(local, Some(w), &self.deadlines())
                    .map_err(|e| AppError::invalid("out_of_range", e.to_string()))?
                    .expect("a limit gives a moment"),
            ),
            _ => None,
        };
        let plan = match acknowledge_by {
            None => Some(self.plan_receipt(
                &procedure,
                rules,
                &receiving.code,
                competent.as_deref(),
                local,
            )?),
            Some(_) => None,
        };
        // The code names the agency of NĐ 118/2025 Art. 28(2) and numbers the dossier in
        // that agency's sequence of the day.
        let code_agency = crate::core::code::code_agency(
            procedure.inter_agency,
            channel == Channel::Online,
            &receiving.code,
            competent.as_deref(),
            &self.settings.national_portal_agency,
        )
        .to_string();
        let sequence_agency = self
            .settings
            .dossier_code
            .sequence_agency(&code_agency, &receiving.code)
            .to_string();
        let pin = match idempotency {
            Some((key, _)) => self.idempotent_pin(&caller.username, key),
            None => random_pin()?,
        };
        let day_scope = format!("d:{}", local.format("%Y-%m-%d"));
        let proxy_json = proxy
            .as_ref()
            .map(|p| serde_json::to_string(p).expect("serialisable"));
        let status = if plan.is_some() {
            Status::Received
        } else {
            Status::Submitted
        };
        let pending = PendingIntake {
            username: caller.username.clone(),
            actor: caller.actor(),
            version,
            time: procedure.time(),
            fee_bearing: procedure.fee > 0,
            yields_document: procedure.result_document.is_some(),
            rule_set: rules.id.clone(),
            receiving: receiving.code.clone(),
            competent,
            channel,
            status,
            applicant,
            proxy_json,
            note,
            papers,
            reuse,
            plan,
            acknowledge_by,
            code_agency,
            sequence_agency,
            day_scope,
            local,
            received,
            now,
            pin,
            idempotency: idempotency.map(|(k, h)| (k.to_string(), h.to_string())),
        };
        // Concurrent intakes share a transaction (group commit, `service::group`).
        let receipt = self
            .intake_group
            .run(pending, |jobs| self.write_intakes(jobs))
            .ok_or_else(AppError::internal)??;
        tracing::info!(code = %receipt.code, procedure = %receipt.procedure_code, channel = receipt.channel, status = receipt.status, "dossier registered");
        self.metrics.intake(&receipt.channel, &receipt.status);
        Ok(receipt)
    }

    /// Writes a batch of intakes in one transaction and answers each; when the batch
    /// fails, each is written again alone, so that one bad request (a key used twice, a
    /// form sent twice) fails alone and the others keep their answers. No code is lost
    /// either way: the failed batch's codes were taken in its transaction and went with it.
    fn write_intakes(&self, jobs: Vec<PendingIntake>) -> Vec<AppResult<Receipt>> {
        self.metrics.intake_batch(jobs.len());
        // A request repeated with its idempotency key while the first was waiting in the
        // same batch (a double click, a portal's retry) is not written: once the batch
        // is in, its caller replays the first one's answer (`receive_once`), as when the
        // two meet on the key's unique index — but without failing the whole batch.
        let mut keys = std::collections::HashSet::new();
        let repeat: Vec<bool> = jobs
            .iter()
            .map(|j| {
                j.idempotency
                    .as_ref()
                    .is_some_and(|(k, _)| !keys.insert((j.username.as_str(), k.as_str())))
            })
            .collect();
        let jobs: Vec<&PendingIntake> = jobs.iter().collect();
        self.write_leaving_out(&jobs, &repeat)
    }

    /// Writes the intakes not `left_out` (repeats of an idempotency key); the repeats'
    /// callers are answered with the key's conflict, on which `receive_once` replays the
    /// first answer.
    fn write_leaving_out(
        &self,
        jobs: &[&PendingIntake],
        left_out: &[bool],
    ) -> Vec<AppResult<Receipt>> {
        let rest: Vec<&PendingIntake> = jobs
            .iter()
            .zip(left_out)
            .filter(|(_, l)| !**l)
            .map(|(j, _)| *j)
            .collect();
        let mut written = self.write_batch_or_split(&rest).into_iter();
        left_out
            .iter()
            .map(|l| match l {
                true => Err(StoreError::Conflict("form_key".into()).into()),
                false => written.next().expect("one answer per intake written"),
            })
            .collect()
    }

    /// [`App::write_intake_batch`], and when the batch fails: the intakes whose
    /// idempotency key an earlier batch has written meanwhile (a repeat that queued
    /// before the first was in) are left out — their callers replay that answer — and
    /// the others are tried again together; failing still, each is written alone.
    fn write_batch_or_split(&self, jobs: &[&PendingIntake]) -> Vec<AppResult<Receipt>> {
        if jobs.is_empty() {
            return Vec::new();
        }
        let e = match self.write_intake_batch(jobs) {
            Ok(receipts) => return receipts.into_iter().map(Ok).collect(),
            Err(e) if jobs.len() == 1 => return vec![Err(e)],
            // The database gone (or its answer to the commit lost): written again, the
            // batch might be written twice; each caller hears that it is unavailable.
            Err(e) if e.kind == crate::error::ErrorKind::Unavailable => {
                return jobs.iter().map(|_| Err(e.clone())).collect()
            }
            Err(e) => e,
        };
        let known: Vec<bool> = jobs
            .iter()
            .map(|j| {
                j.idempotency.as_ref().is_some_and(|(k, _)| {
                    matches!(self.store.intake_key(&j.username, k), Ok(Some(_)))
                })
            })
            .collect();
        if known.iter().any(|k| *k) {
            return self.write_leaving_out(jobs, &known);
        }
        tracing::debug!(error = %e.error, jobs = jobs.len(), "intake batch failed; one by one");
        self.metrics.intake_batch_split();
        jobs.iter()
            .map(|j| self.write_intake_batch(&[j]).map(|mut r| r.remove(0)))
            .collect()
    }

    /// One transaction: the batch's codes and book lines in one statement (its sequence
    /// rows locked in key order), every dossier's rows in one more (PostgreSQL), then
    /// what some intakes add — reused documents, the online desk's act, the idempotency
    /// key.
    fn write_intake_batch(&self, jobs: &[&PendingIntake]) -> AppResult<Vec<Receipt>> {
        let receipts = self.store.write_releasing_early(|conn| {
            let keys: Vec<Vec<(String, String)>> = jobs.iter().map(|j| j.sequence_keys()).collect();
            // Each key once, sorted, with how many values the batch takes from it …
            let mut next: std::collections::BTreeMap<(String, String), i64> = Default::default();
            for k in keys.iter().flatten() {
                *next.entry(k.clone()).or_default() += 1;
            }
            let wants: Vec<(String, String, i64)> = next
                .iter()
                .map(|((a, s), n)| (a.clone(), s.clone(), *n))
                .collect();
            let lasts = dossiers::next_sequences(conn, &wants)?;
            // … then each key's next value, handed out in the order the intakes came.
            for (v, last) in next.values_mut().zip(lasts) {
                *v = last - *v + 1;
            }
            let mut take = |k: &(String, String)| {
                let v = next.get_mut(k).expect("wanted");
                *v += 1;
                *v - 1
            };
            let mut built = Vec::with_capacity(jobs.len());
            for (j, ks) in jobs.iter().zip(&keys) {
                let seq = take(&ks[0]);
                let book_line = ks.get(1).map(&mut take);
                built.push(self.intake_rows(conn, j, seq, book_line)?);
            }
            let new: Vec<crate::store::new_dossier::NewDossier<'_>> = jobs
                .iter()
                .zip(&built)
                .map(|(j, b)| crate::store::new_dossier::NewDossier {
                    dossier: &b.row,
                    progress: &b.progress,
                    papers: &b.papers,
                    steps: &b.steps,
                    event: &b.event,
                    outbox: &b.messages,
                    rollup: &b.rollup,
                    // The dossier is new: the first record of its stream.
                    audit: AuditEntry {
                        actor: &j.actor,
                        at: j.received,
                        action: if j.plan.is_some() {
                            "dossier.receive"
                        } else {
                            "dossier.submit"
                        },
                        entity: "dossier",
                        entity_id: &b.row.code,
                        detail: json!({
                            "procedure": j.version.procedure_code,
                            "procedure_version": j.version.version,
                            "channel": j.channel.as_str(),
                            "papers": b.papers.len(),
                            "reused": j.reuse.iter().flatten().collect::<Vec<_>>(),
                            "due_at": j.plan.as_ref().map(|p| p.due.to_rfc3339()),
                            "acknowledge_by": j.acknowledge_by.map(|t| t.to_rfc3339()),
                        }),
                    },
                })
                .collect();
            crate::store::new_dossier::insert(conn, &new)?;
            drop(new);
            let mut receipts = Vec::with_capacity(jobs.len());
            for (j, b) in jobs.iter().zip(built) {
                receipts.push(self.after_intake(conn, j, b)?);
            }
            Ok::<_, StoreError>(receipts)
        })?;
        Ok(receipts)
    }

    /// An intake's rows once its numbers are known (`book_line`: a counter intake's).
    fn intake_rows(
        &self,
        conn: &mut crate::store::DbConnection,
        j: &PendingIntake,
        seq: i64,
        book_line: Option<i64>,
    ) -> Result<IntakeRows, StoreError> {
        let code = self.settings.dossier_code.format(
            &j.code_agency,
            &j.receiving,
            j.local.date_naive(),
            seq as u64,
        );
        let applicant = &j.applicant;
        let mut row = DossierRow {
            code: code.clone(),
            procedure_code: j.version.procedure_code.clone(),
            procedure_version: j.version.version,
            rule_set: j.rule_set.clone(),
            receiving_agency: j.receiving.clone(),
            competent_agency: j.competent.clone(),
            current_agency: j.receiving.clone(),
            channel: j.channel.as_str().into(),
            status: j.status.as_str().into(),
            applicant_name: applicant.full_name.clone(),
            applicant_id_kind: applicant.id_kind.as_str().into(),
            applicant_id_number: applicant.id_number.clone(),
            applicant_phone: applicant.phone.clone(),
            applicant_email: applicant.email.clone(),
            applicant_address: applicant.address.clone(),
            applicant_search: text::fold(&applicant.full_name),
            proxy: j.proxy_json.clone(),
            note: j.note.clone(),
            pin_hash: pin::hash_pin(&self.keys.pin, &code, &j.pin),
            received_at: None,
            due_at: None,
            time_amount: j.time.amount as i32,
            time_unit: j.time.unit.as_str().into(),
            time_cutoff: j.time.cutoff.map(|c| c.format("%H:%M").to_string()),
            reappointed_at: None,
            finished_at: None,
            outcome: None,
            result_ready: false,
            received_by: j.username.clone(),
            book_volume: None,
            book_line: None,
            updated_at: j.received,
        };
        let mut progress = dossiers::ProgressRow::new(&code);
        progress.fee_bearing = j.fee_bearing;
        progress.yields_document = j.yields_document;
        let mut steps = Vec::new();
        if let Some(plan) = &j.plan {
            // With its book line given, this writes nothing.
            steps = self.apply_receipt(conn, &mut row, &mut progress, plan, false, book_line)?;
        } else {
            progress.submitted_at = Some(j.received);
            progress.acknowledge_by = j.acknowledge_by.map(|t| to_db(t.with_timezone(&Utc)));
        }
        let papers: Vec<PaperRow> = j
            .papers
            .iter()
            .enumerate()
            .map(|(i, p)| PaperRow {
                dossier_code: code.clone(),
                position: i as i32 + 1,
                name: p.name.clone(),
                kind: kind_str(p.kind).into(),
                count: p.count as i32,
                reuse_document_id: j.reuse[i].clone(),
            })
            .collect();
        let mut payload = json!({
            "channel": j.channel.as_str(),
            "procedure_version": j.version.version,
            "rule_set": j.rule_set,
            "reused": j.reuse.iter().flatten().collect::<Vec<_>>(),
        });
        if let Some(plan) = &j.plan {
            payload["due_at"] = json!(plan.due.to_rfc3339());
            payload["supplement_request_by"] =
                json!(plan.supplement_request_by.map(|t| t.to_rfc3339()));
        }
        if let Some(by) = j.acknowledge_by {
            payload["acknowledge_by"] = json!(by.to_rfc3339());
        }
        let event = EventRow {
            dossier_code: code.clone(),
            seq: 1,
            kind: if j.plan.is_some() {
                "receive"
            } else {
                "submit"
            }
            .into(),
            at: j.received,
            actor: j.username.clone(),
            agency_code: j.receiving.clone(),
            status_after: j.status.as_str().into(),
            payload: payload.to_string(),
        };
        // The rollup as received and the messages of its first event.
        let messages = self.event_messages(&row, &event.kind, 1, &payload, j.now);
        let rollup = self.rollup_changes(None, (&row, &progress));
        Ok(IntakeRows {
            row,
            progress,
            papers,
            steps,
            event,
            messages,
            rollup,
        })
    }

    /// What an intake writes after its rows, in the batch's transaction, and its receipt.
    fn after_intake(
        &self,
        conn: &mut crate::store::DbConnection,
        j: &PendingIntake,
        b: IntakeRows,
    ) -> Result<Receipt, StoreError> {
        let IntakeRows {
            row, mut progress, ..
        } = b;
        let code = &row.code;
        if j.reuse.iter().any(Option::is_some) {
            // Reused documents may make it digitised: the rollup learns the change.
            let before = progress.clone();
            let dg = crate::store::documents::refresh_digitisation(conn, code)?;
            progress.digitised = dg.digitised;
            progress.reused = dg.reused;
            self.roll(conn, Some((&row, &before)), (&row, &progress))?;
        }
        if let Some(by) = j.acknowledge_by {
            self.record_act(
                conn,
                &row,
                1,
                ActKind::Submit,
                &j.receiving,
                j.local,
                Some(by),
                false,
            )?;
        }
        let receipt = Receipt {
            code: code.clone(),
            pin: j.pin.clone(),
            status: j.status.as_str().into(),
            submitted_at: progress.submitted_at.map(crate::store::from_db),
            acknowledge_by: j.acknowledge_by.map(|t| t.with_timezone(&Utc)),
            received_at: row.received_at.map(crate::store::from_db),
            due_at: row.due_at.map(crate::store::from_db),
            procedure_code: j.version.procedure_code.clone(),
            procedure_name: j.version.name.clone(),
            procedure_version: j.version.version,
            statutory_time: j.time.to_string(),
            rule_set: j.rule_set.clone(),
            receiving_agency: j.receiving.clone(),
            competent_agency: j.competent.clone(),
            channel: j.channel.as_str().into(),
            book_volume: row.book_volume,
            book_line: row.book_line,
        };
        if let Some((key, hash)) = &j.idempotency {
            dossiers::claim_form_key(conn, code, &format!("{}\n{key}", j.username))?;
            let kept = Receipt {
                pin: String::new(),
                ..receipt.clone()
            };
            dossiers::insert_intake_key(
                conn,
                &dossiers::IntakeKeyRow {
                    account: j.username.clone(),
                    key: key.clone(),
                    request_hash: hash.clone(),
                    dossier_code: code.clone(),
                    receipt: serde_json::to_string(&kept).expect("serialisable"),
                    created_at: j.received,
                },
            )?;
        }
        Ok(receipt)
    }

    /// What the official receipt of a dossier of `procedure` at `at` sets: the rule set in
    /// force, the statutory due moment, the route with each step's due moment and the limit
    /// for supplement requests — the same at the counter and for an online dossier the
    /// desk receives (NĐ 118/2025 Art. 17(3)).
    pub fn plan_receipt(
        &self,
        procedure: &Procedure,
        rules: &crate::core::dossier::RuleSet,
        receiving: &str,
        competent: Option<&str>,
        at: DateTime<chrono::FixedOffset>,
    ) -> AppResult<ReceiptPlan> {
        let out_of_range = |e: DeadlineError| match e {
            DeadlineError::OutOfRange => AppError::invalid("out_of_range", e.to_string()),
            _ => AppError::internal(),
        };
        let time = procedure.time();
        let due = self.due_at(at, &time).map_err(out_of_range)?;
        // A supplement requested after this is late (NĐ 118/2025 Art. 19(5)); a
        // specialised law's own limit, in the catalogue, wins over the rule set's.
        let supplement_request_by = crate::core::machine::supplement_request_by(
            at,
            procedure
                .supplement_request_within
                .as_ref()
                .or(rules.supplement_request_within.as_ref()),
            &self.deadlines(),
        )
        .map_err(out_of_range)?;
        let route = self.plan_route(procedure, receiving, competent, at, due)?;
        Ok(ReceiptPlan {
            at,
            rule_set: rules.id.clone(),
            time,
            due,
            route,
            supplement_request_by,
        })
    }

    /// Writes the official receipt `plan` into a dossier's rows inside the caller's
    /// transaction: received now, due, its tracking-book line, the route's steps (returned,
    /// to be inserted), the first due moment and the supplement limit. `stored`: the
    /// dossier's rows exist already (an online submission received officially), so the
    /// search's tables learn the moment of receipt too. `book_line`: the line already
    /// taken with the dossier's code (a counter intake); none takes it here.
    pub fn apply_receipt(
        &self,
        conn: &mut crate::store::DbConnection,
        row: &mut DossierRow,
        progress: &mut dossiers::ProgressRow,
        plan: &ReceiptPlan,
        stored: bool,
        book_line: Option<i64>,
    ) -> Result<Vec<dossiers::StepRow>, StoreError> {
        let at = to_db(plan.at.with_timezone(&Utc));
        let due = to_db(plan.due.with_timezone(&Utc));
        row.book_line = Some(match book_line {
            Some(line) => line,
            None => dossiers::next_sequence(conn, &row.receiving_agency, &book_scope(plan))?,
        });
        row.book_volume = Some(plan.at.year());
        row.status = Status::Received.as_str().into();
        row.rule_set = plan.rule_set.clone();
        row.received_at = Some(at);
        if stored {
            dossiers::set_received_at(conn, row)?;
        }
        row.due_at = Some(due);
        row.current_agency = row.receiving_agency.clone();
        let state = crate::core::machine::State::received(
            &row.receiving_agency,
            plan.at,
            plan.time,
            plan.due,
        )
        .with_supplement_request_by(plan.supplement_request_by)
        .with_route(plan.route.clone(), plan.at);
        progress.first_due_at = Some(due);
        progress.supplement_request_by = plan
            .supplement_request_by
            .map(|t| to_db(t.with_timezone(&Utc)));
        progress.current_step = state.current_step.map(|i| i as i32);
        Ok(state
            .steps
            .iter()
            .map(|s| super::processing::step_row(&row.code, s))
            .collect())
    }

    /// Records an act the law gives a time limit (`deadline_acts`) and counts it in the
    /// daily rollup, by `agency` on the act's local day, inside the caller's transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn record_act(
        &self,
        conn: &mut crate::store::DbConnection,
        d: &DossierRow,
        seq: i32,
        kind: ActKind,
        agency: &str,
        at: DateTime<chrono::FixedOffset>,
        due: Option<DateTime<chrono::FixedOffset>>,
        late: bool,
    ) -> Result<(), StoreError> {
        dossiers::insert_act(
            conn,
            &dossiers::DeadlineActRow {
                dossier_code: d.code.clone(),
                seq,
                kind: kind.as_str().into(),
                at: to_db(at.with_timezone(&Utc)),
                agency_code: agency.to_string(),
                due_at: due.map(|t| to_db(t.with_timezone(&Utc))),
                late,
            },
        )?;
        let day = at.with_timezone(&self.settings.offset).date_naive();
        let cells: Vec<_> = kind
            .columns(late)
            .into_iter()
            .map(|c| ((agency.to_string(), d.procedure_code.clone(), day), c, 1))
            .collect();
        crate::store::reports::apply_rollup(conn, &cells)
    }
}

/// `POST /api/v1/dossiers/{code}/resubmit`: the portal sends an online dossier again after
/// the desk asked for a correction — the papers as now complete (all of them) and a note.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResubmitRequest {
    /// The papers as now complete, all of them (at most 50): they replace the list and
    /// must satisfy the procedure's checklist. Empty or absent: the list stays as it was.
    #[serde(default)]
    pub papers: Vec<PaperInput>,
    /// Replaces the dossier's note when given; at most 1000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// The answer to a resubmission.
#[derive(Debug, Clone, Serialize)]
pub struct Resubmitted {
    pub code: String,
    pub status: &'static str,
    pub acknowledge_by: Option<DateTime<Utc>>,
    /// How many times the desk has sent it back.
    pub correction_rounds: i32,
}

impl App {
    /// The portal that submitted an online dossier sends it again, completed, after the
    /// desk asked for a correction: a new round, with a new limit for the desk's answer
    /// (NĐ 118/2025 Art. 17(2)). The papers, when given, replace the list and must satisfy
    /// the procedure's checklist.
    pub fn resubmit(
        &self,
        caller: &Caller,
        code: &str,
        req: &ResubmitRequest,
        now: DateTime<Utc>,
    ) -> AppResult<Resubmitted> {
        if caller.role != Role::Portal {
            return Err(AppError::forbidden(
                "Chỉ Cổng dịch vụ công đã gửi hồ sơ mới gửi lại hồ sơ đã hoàn thiện",
            ));
        }
        let now =
            chrono::DurationRound::duration_trunc(now, chrono::Duration::seconds(1)).unwrap_or(now);
        let papers = check_papers(&req.papers)?;
        let note = optional(&req.note, 1000, Typed::Lines, "invalid_note", "Ghi chú")?;
        let (d, _, _) = self.dossier_for(caller, code)?;
        let status = Status::parse(&d.status).ok_or_else(AppError::internal)?;
        crate::core::desk::resubmit(status).map_err(|r| AppError::conflict(r.code, r.message))?;
        let reuse = if papers.is_empty() {
            Vec::new()
        } else {
            let definition = self
                .store
                .procedure_history(&d.procedure_code)?
                .into_iter()
                .find(|v| v.version == d.procedure_version)
                .ok_or_else(AppError::internal)?
                .definition;
            let procedure: Procedure =
                serde_json::from_str(&definition).map_err(|_| AppError::internal())?;
            let missing = missing_papers(&procedure.papers, &papers);
            if !missing.is_empty() {
                let names: Vec<&str> = missing.iter().map(|m| m.name.as_str()).collect();
                return Err(AppError::invalid(
                    "missing_papers",
                    format!("Hồ sơ còn thiếu hoặc chưa đúng loại: {}", names.join("; ")),
                )
                .with_details(json!({ "missing": missing })));
            }
            let owner = Applicant {
                full_name: d.applicant_name.clone(),
                id_kind: IdKind::parse(&d.applicant_id_kind).unwrap_or(IdKind::PersonalId),
                id_number: d.applicant_id_number.clone(),
                phone: None,
                email: None,
                address: None,
            };
            self.check_reuse(&req.papers, &owner, now)?
        };
        let offset = self.settings.offset;
        let local = now.with_timezone(&offset).fixed_offset();
        let rules = self
            .rule_sets
            .iter()
            .find(|r| r.id == d.rule_set)
            .ok_or_else(AppError::internal)?;
        let acknowledge_by = crate::core::desk::acknowledge_by(
            local,
            rules.online_acknowledge_within.as_ref(),
            &self.deadlines(),
        )
        .map_err(|e| AppError::invalid("out_of_range", e.to_string()))?;
        let at = to_db(now);
        let actor = caller.actor();
        self.store.write(None, |conn| {
            let Some((mut row, mut progress)) = dossiers::dossier_for_update(conn, code)? else {
                return Ok(Err(AppError::not_found()));
            };
            // Checked again under the row lock.
            let status = Status::parse(&row.status).unwrap_or(Status::Submitted);
            let next = match crate::core::desk::resubmit(status) {
                Ok(s) => s,
                Err(r) => return Ok(Err(AppError::conflict(r.code, r.message))),
            };
            if !papers.is_empty() {
                let rows: Vec<PaperRow> = papers
                    .iter()
                    .enumerate()
                    .map(|(i, p)| PaperRow {
                        dossier_code: row.code.clone(),
                        position: i as i32 + 1,
                        name: p.name.clone(),
                        kind: kind_str(p.kind).into(),
                        count: p.count as i32,
                        reuse_document_id: reuse.get(i).cloned().flatten(),
                    })
                    .collect();
                dossiers::replace_papers(conn, &row.code, &rows)?;
            }
            if note.is_some() {
                row.note = note.clone();
            }
            row.status = next.as_str().into();
            row.updated_at = at;
            progress.acknowledge_by = acknowledge_by.map(|t| to_db(t.with_timezone(&Utc)));
            let seq = dossiers::append_event(
                conn,
                &row,
                &progress,
                EventRow {
                    dossier_code: row.code.clone(),
                    seq: 0,
                    kind: "resubmit".into(),
                    at,
                    actor: caller.username.clone(),
                    agency_code: caller.agency.clone(),
                    status_after: row.status.clone(),
                    payload: json!({
                        "papers": papers.len(),
                        "note": note,
                        "round": progress.correction_rounds,
                        "acknowledge_by": acknowledge_by.map(|t| t.to_rfc3339()),
                    })
                    .to_string(),
                },
            )?;
            self.record_act(
                conn,
                &row,
                seq,
                ActKind::Resubmit,
                &row.receiving_agency.clone(),
                local,
                acknowledge_by,
                false,
            )?;
            audit::append(
                conn,
                AuditEntry {
                    actor: &actor,
                    at,
                    action: "dossier.resubmit",
                    entity: "dossier",
                    entity_id: &row.code,
                    detail: json!({ "seq": seq, "papers": papers.len(), "round": progress.correction_rounds }),
                },
            )?;
            Ok::<_, StoreError>(Ok(Resubmitted {
                code: row.code.clone(),
                status: next.as_str(),
                acknowledge_by: acknowledge_by.map(|t| t.with_timezone(&Utc)),
                correction_rounds: progress.correction_rounds,
            }))
        })?
    }
}

/// An intake checked and planned, waiting in line for its transaction (group commit,
/// [`crate::service::group`]): everything its rows need but the numbers the transaction
/// takes — its code's place in the agency's sequence of the day and, at the counter, its
/// tracking book's line.
pub(crate) struct PendingIntake {
    username: String,
    actor: audit::Actor,
    version: crate::store::catalogue::ProcedureVersionRow,
    time: crate::core::deadline::StatutoryTime,
    fee_bearing: bool,
    yields_document: bool,
    rule_set: String,
    receiving: String,
    competent: Option<String>,
    channel: Channel,
    status: Status,
    applicant: Applicant,
    proxy_json: Option<String>,
    note: Option<String>,
    papers: Vec<SubmittedPaper>,
    reuse: Vec<Option<String>>,
    /// The official receipt's plan (counter and post); `None`: online, waiting for the
    /// desk.
    plan: Option<ReceiptPlan>,
    acknowledge_by: Option<DateTime<chrono::FixedOffset>>,
    code_agency: String,
    sequence_agency: String,
    day_scope: String,
    local: DateTime<chrono::FixedOffset>,
    received: chrono::NaiveDateTime,
    now: DateTime<Utc>,
    pin: String,
    /// The idempotency key and the request's hash.
    idempotency: Option<(String, String)>,
}

impl PendingIntake {
    /// The sequences it takes a value from: its code of the day and, at the counter, its
    /// tracking book's line (in that order).
    fn sequence_keys(&self) -> Vec<(String, String)> {
        let mut k = vec![(self.sequence_agency.clone(), self.day_scope.clone())];
        if let Some(plan) = &self.plan {
            k.push((self.receiving.clone(), book_scope(plan)));
        }
        k
    }
}

/// The rows of a new dossier, built in its batch's transaction.
struct IntakeRows {
    row: DossierRow,
    progress: dossiers::ProgressRow,
    papers: Vec<PaperRow>,
    steps: Vec<dossiers::StepRow>,
    event: EventRow,
    messages: Vec<crate::store::outbox::NewOutboxRow>,
    rollup: Vec<(
        crate::core::indicators::RollupKey,
        crate::core::indicators::Column,
        i64,
    )>,
}

/// What an official receipt sets (see [`App::plan_receipt`]).
#[derive(Debug, Clone)]
pub struct ReceiptPlan {
    pub at: DateTime<chrono::FixedOffset>,
    pub rule_set: String,
    pub time: crate::core::deadline::StatutoryTime,
    pub due: DateTime<chrono::FixedOffset>,
    pub route: Vec<crate::core::route::Step>,
    pub supplement_request_by: Option<DateTime<chrono::FixedOffset>>,
}

impl App {
    /// The data-store documents reused for each paper (by position), checked: each exists,
    /// belongs to the applicant, is still valid and has its electronic copy.
    fn check_reuse(
        &self,
        papers: &[PaperInput],
        applicant: &Applicant,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<Option<String>>> {
        let today = now.with_timezone(&self.settings.offset).date_naive();
        papers
            .iter()
            .map(|p| {
                let Some(id) = p.reuse_document_id.as_deref().map(str::trim) else {
                    return Ok(None);
                };
                let invalid = |m: String| AppError::invalid("invalid_reuse", m);
                let doc = if id.is_empty() || id.len() > 100 || text::check_key(id).is_err() {
                    None
                } else {
                    self.store.find_document(id)?
                };
                let Some(doc) = doc.filter(|d| d.owner_id_number == applicant.id_number) else {
                    return Err(invalid(format!(
                        "Không có giấy tờ \"{id}\" của người nộp này trong kho dữ liệu"
                    )));
                };
                if doc.valid_until.is_some_and(|v| v < today) {
                    return Err(invalid(format!(
                        "Giấy tờ {id} đã hết hiệu lực ngày {}",
                        doc.valid_until
                            .map(|v| v.format("%d/%m/%Y").to_string())
                            .unwrap_or_default()
                    )));
                }
                let live = match &doc.sha256 {
                    Some(sha) => self
                        .store
                        .find_blob(sha)?
                        .is_some_and(|b| b.removed_at.is_none()),
                    None => false,
                };
                if !live {
                    return Err(invalid(format!(
                        "Giấy tờ {id} chưa có bản điện tử trong kho dữ liệu"
                    )));
                }
                Ok(Some(doc.id))
            })
            .collect()
    }

    /// The agency competent to decide a dossier of `procedure` received at `receiving`.
    pub fn competent_for(
        &self,
        procedure: &Procedure,
        receiving: &crate::core::catalogue::Agency,
        given: Option<&str>,
    ) -> AppResult<Option<String>> {
        let invalid = |m: String| AppError::invalid("invalid_competent_agency", m);
        let given = given.map(str::trim).filter(|g| !g.is_empty());
        if let Some(fixed) = &procedure.competent_agency {
            if given.is_some_and(|g| g != fixed) {
                return Err(invalid(format!(
                    "Thủ tục này do cơ quan {fixed} giải quyết"
                )));
            }
            return Ok(Some(fixed.clone()));
        }
        if let Some(g) = given {
            let Some(a) = self.agencies.get(g) else {
                return Err(invalid(format!("Cơ quan {g} không có trong danh mục")));
            };
            if let Some(level) = &procedure.competent_level {
                if a.level != *level {
                    return Err(invalid(format!(
                        "{} không phải cơ quan cấp \"{level}\" có thẩm quyền giải quyết thủ tục này",
                        a.name
                    )));
                }
            }
            return Ok(Some(a.code.clone()));
        }
        let own = procedure.competent_level.as_deref() == Some(receiving.level.as_str());
        let needed = procedure.steps.iter().any(|s| s.agency == "competent");
        match (own, needed) {
            (true, _) => Ok(Some(receiving.code.clone())),
            (false, false) => Ok(None),
            (false, true) => Err(AppError::invalid(
                "competent_agency_required",
                "Cần chọn cơ quan có thẩm quyền giải quyết (competent_agency), ví dụ UBND xã, phường nơi có đất hoặc nơi cư trú của người nộp",
            )),
        }
    }

    /// The route of a new dossier from the procedure's steps, each agency resolved.
    pub fn plan_route(
        &self,
        procedure: &Procedure,
        receiving: &str,
        competent: Option<&str>,
        received: DateTime<chrono::FixedOffset>,
        due: DateTime<chrono::FixedOffset>,
    ) -> AppResult<Vec<crate::core::route::Step>> {
        let planned: Vec<_> = procedure
            .steps
            .iter()
            .map(|s| crate::core::route::PlannedStep {
                name: s.name.clone(),
                agency: match s.agency.as_str() {
                    "receiving" => receiving.to_string(),
                    "competent" => competent.unwrap_or(receiving).to_string(),
                    code => code.to_string(),
                },
                role: s.role.clone(),
                share: s.share,
            })
            .collect();
        crate::core::route::plan(&planned, received, due, &self.deadlines())
            .map_err(|e| AppError::invalid("out_of_range", e.to_string()))
    }
}

/// An item the applicant must add or correct (form 02).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuidanceItem {
    /// What to add or correct, one line, at most 300 characters.
    pub name: String,
    /// Why and how, at most 500 characters, several lines allowed.
    pub reason: String,
}

/// `POST /api/v1/intake/guidance`: what is missing and how to complete it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuidanceRequest {
    /// The procedure's code; a procedure in force now.
    pub procedure_code: String,
    pub applicant: GuidanceApplicant,
    /// `counter`, `online` or `post`; default `online` for a portal, `counter` for staff.
    #[serde(default)]
    pub channel: Option<String>,
    /// 1 to 50 items.
    pub items: Vec<GuidanceItem>,
    /// Printed on the form; at most 1000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// The applicant as needed on forms 02 and 03: only the name is required.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuidanceApplicant {
    /// Full name, at most 100 characters.
    pub full_name: String,
    /// `personal_id` (default), `passport` or `tax_code`.
    #[serde(default)]
    pub id_kind: Option<String>,
    /// Checked against `id_kind` when given.
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// At most 300 characters.
    #[serde(default)]
    pub address: Option<String>,
}

/// `POST /api/v1/intake/refusal`: the dossier is not accepted, with the reason.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefusalRequest {
    /// The procedure's code, when known; a procedure in force now.
    #[serde(default)]
    pub procedure_code: Option<String>,
    pub applicant: GuidanceApplicant,
    /// `counter`, `online` or `post`; default `online` for a portal, `counter` for staff.
    #[serde(default)]
    pub channel: Option<String>,
    /// Why the dossier is not received; required, at most 2000 characters.
    pub reason: String,
    /// A dossier code to print on the form (e.g. the portal's own), at most 64
    /// characters.
    #[serde(default)]
    pub dossier_code: Option<String>,
}

/// A recorded guidance or refusal, with what the form needs.
#[derive(Debug, Clone, Serialize)]
pub struct IntakeOutcome {
    pub id: String,
    pub kind: &'static str,
    pub at: DateTime<Utc>,
    pub agency: String,
    pub procedure_code: Option<String>,
    pub procedure_name: Option<String>,
    pub applicant: Applicant,
    pub items: Vec<GuidanceItem>,
    pub reason: Option<String>,
    pub dossier_code: Option<String>,
    pub staff_name: String,
}

fn check_light_applicant(a: &GuidanceApplicant) -> AppResult<Applicant> {
    let full_name = required(
        &a.full_name,
        100,
        Typed::Name,
        "invalid_full_name",
        "Họ tên người nộp",
    )?;
    let kind = id_kind(&a.id_kind)?;
    let id = match a
        .id_number
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => String::new(),
        Some(n) => id_number(kind, n, "Người nộp")?,
    };
    let email = email(&a.email)?;
    Ok(Applicant {
        full_name,
        id_kind: kind,
        id_number: id,
        phone: phone(&a.phone, "Người nộp")?,
        email,
        address: optional_text(&a.address, 300, "invalid_address", "Địa chỉ")?,
    })
}

fn outcome_id(kind: &str, now: DateTime<Utc>) -> AppResult<String> {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).map_err(|_| AppError::internal())?;
    Ok(format!(
        "{kind}-{}-{}",
        now.format("%Y%m%d%H%M%S"),
        hex::encode(b)
    ))
}

impl App {
    fn record_outcome(
        &self,
        caller: &Caller,
        outcome: &IntakeOutcome,
        channel: Channel,
    ) -> AppResult<()> {
        let at = to_db(outcome.at);
        let actor = caller.actor();
        let row = IntakeOutcomeRow {
            id: outcome.id.clone(),
            kind: outcome.kind.into(),
            agency_code: outcome.agency.clone(),
            procedure_code: outcome.procedure_code.clone(),
            channel: channel.as_str().into(),
            applicant_name: outcome.applicant.full_name.clone(),
            applicant_id_number: Some(outcome.applicant.id_number.clone())
                .filter(|s| !s.is_empty()),
            reason: outcome.reason.clone(),
            items: serde_json::to_string(&outcome.items).expect("serialisable"),
            at,
            actor: caller.username.clone(),
        };
        self.store.write(None, |conn| {
            dossiers::insert_intake_outcome(conn, &row)?;
            audit::append(
                conn,
                AuditEntry {
                    actor: &actor,
                    at,
                    action: if outcome.kind == "guidance" { "intake.guidance" } else { "intake.refusal" },
                    entity: "intake_outcome",
                    entity_id: &outcome.id,
                    detail: json!({ "procedure": outcome.procedure_code, "items": outcome.items.len() }),
                },
            )?;
            Ok::<_, StoreError>(())
        })?;
        Ok(())
    }

    fn intake_channel(&self, caller: &Caller, raw: &Option<String>) -> AppResult<Channel> {
        if !matches!(caller.role, Role::Clerk | Role::Portal) {
            return Err(AppError::forbidden(
                "Chỉ cán bộ một cửa hoặc Cổng dịch vụ công được tiếp nhận hồ sơ",
            ));
        }
        let default = if caller.role == Role::Portal {
            Channel::Online
        } else {
            Channel::Counter
        };
        match raw.as_deref().map(str::trim) {
            None | Some("") => Ok(default),
            Some(c) => Channel::parse(c).ok_or_else(|| {
                AppError::invalid(
                    "invalid_channel",
                    "channel phải là counter, online hoặc post",
                )
            }),
        }
    }

    /// Records guidance to complete a dossier (form 02); nothing is registered.
    pub fn guide(
        &self,
        caller: &Caller,
        req: &GuidanceRequest,
        now: DateTime<Utc>,
    ) -> AppResult<IntakeOutcome> {
        let channel = self.intake_channel(caller, &req.channel)?;
        let applicant = check_light_applicant(&req.applicant)?;
        let (_, procedure) = self.procedure_in_force(&req.procedure_code, to_db(now))?;
        if req.items.is_empty() || req.items.len() > MAX_PAPERS {
            return Err(AppError::invalid(
                "invalid_items",
                "Cần liệt kê từ 1 đến 50 nội dung cần bổ sung, hoàn thiện",
            ));
        }
        let items = req
            .items
            .iter()
            .map(|i| {
                Ok(GuidanceItem {
                    name: required_text(&i.name, 300, "invalid_items", "Nội dung cần bổ sung")?,
                    reason: required(&i.reason, 500, Typed::Lines, "invalid_items", "Lý do")?,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let outcome = IntakeOutcome {
            id: outcome_id("HD", now)?,
            kind: "guidance",
            at: crate::store::from_db(to_db(now)),
            agency: caller.agency.clone(),
            procedure_code: Some(procedure.code.clone()),
            procedure_name: Some(procedure.name.clone()),
            applicant,
            items,
            reason: optional(&req.note, 1000, Typed::Lines, "invalid_note", "Ghi chú")?,
            dossier_code: None,
            staff_name: caller.full_name.clone(),
        };
        self.record_outcome(caller, &outcome, channel)?;
        Ok(outcome)
    }

    /// Records a refusal to receive (form 03); nothing is registered.
    pub fn refuse(
        &self,
        caller: &Caller,
        req: &RefusalRequest,
        now: DateTime<Utc>,
    ) -> AppResult<IntakeOutcome> {
        let channel = self.intake_channel(caller, &req.channel)?;
        let applicant = check_light_applicant(&req.applicant)?;
        let reason = required(
            &req.reason,
            2000,
            Typed::Lines,
            "missing_reason",
            "Lý do từ chối",
        )?;
        let procedure = match req
            .procedure_code
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(code) => Some(self.procedure_in_force(code, to_db(now))?.1),
        };
        let outcome = IntakeOutcome {
            id: outcome_id("TC", now)?,
            kind: "refusal",
            at: crate::store::from_db(to_db(now)),
            agency: caller.agency.clone(),
            procedure_code: procedure.as_ref().map(|p| p.code.clone()),
            procedure_name: procedure.as_ref().map(|p| p.name.clone()),
            applicant,
            items: Vec::new(),
            reason: Some(reason),
            dossier_code: optional_text(&req.dossier_code, 64, "invalid_dossier_code", "Mã hồ sơ")?,
            staff_name: caller.full_name.clone(),
        };
        self.record_outcome(caller, &outcome, channel)?;
        Ok(outcome)
    }
}

/// The sequence of the tracking book's lines (*sổ theo dõi*) a receipt at `plan` takes a
/// line of: one per receiving agency and year.
fn book_scope(plan: &ReceiptPlan) -> String {
    format!("y:{}", plan.at.year())
}
