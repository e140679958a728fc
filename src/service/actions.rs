//! What a user may do to a dossier now (*các thao tác được phép*): every event of the
//! dossier's life (NĐ 118/2025 Art. 17–20), each allowed or not with the reason, and the
//! fields it needs with the choices and bounds the server accepts. The dossier page shows
//! only the allowed ones; `GET /api/v1/dossiers/{code}/actions` gives them all.
//!
//! One function, [`App::allowed_actions_of`], answers for both, through the very checks
//! of [`App::record_event`] (who, which agency, the pure state machine or the desk's
//! rules) on a representative event of each kind: what it offers, the events endpoint
//! accepts; what it refuses, the endpoint refuses with the same code and message.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Caller, Role};
use crate::app::App;
use crate::core::dossier::{Channel, Status};
use crate::core::machine::{Decision, Event, PaymentMethod, Satisfaction};
use crate::error::{AppError, AppResult};
use crate::store::dossiers::{DossierRow, ProgressRow, StepRow};

/// An action on a dossier, as offered to one user at one moment: allowed, with the fields
/// its event takes, or refused, with the error the events endpoint would answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ActionView {
    /// The event's `type` on `POST /api/v1/dossiers/{code}/events`.
    #[serde(rename = "type")]
    #[schema(example = "handover")]
    pub kind: &'static str,
    /// Its name on the page, in Vietnamese.
    #[schema(example = "Chuyển hồ sơ")]
    pub label: &'static str,
    /// Whether the caller may record it now.
    pub allowed: bool,
    /// Why not: the error code the events endpoint answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why not, in Vietnamese.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What the event needs (only for an allowed action; absent when it needs nothing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub fields: Vec<FieldView>,
}

/// A field of an action's event: its JSON name (a dotted path inside an object), how it is
/// typed, whether it is required, and the values or bounds the server accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldView {
    /// The event's field, e.g. `reason`, or a dotted path inside an object, e.g.
    /// `result.number`.
    pub name: &'static str,
    /// Its label on the page, in Vietnamese.
    pub label: &'static str,
    /// `text` (one line), `multiline`, `lines` (a list, one item per line), `choice`,
    /// `boolean`, `integer` (đồng), `date`, `datetime` (RFC 3339).
    pub kind: &'static str,
    pub required: bool,
    /// For a `choice`: the values accepted, in the order offered (absent otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub choices: Vec<ChoiceView>,
    /// The earliest accepted value (exclusive for a new due moment), RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// The latest accepted value, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    /// A word on the rule behind the field, in Vietnamese.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// A value a `choice` field accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChoiceView {
    /// What to send.
    pub value: String,
    /// What to show, in Vietnamese.
    pub label: String,
}

fn field(name: &'static str, label: &'static str, kind: &'static str, required: bool) -> FieldView {
    FieldView {
        name,
        label,
        kind,
        required,
        choices: Vec::new(),
        after: None,
        latest: None,
        hint: None,
    }
}

fn choices(items: impl IntoIterator<Item = (String, String)>) -> Vec<ChoiceView> {
    items
        .into_iter()
        .map(|(value, label)| ChoiceView { value, label })
        .collect()
}

/// A placeholder text for the representative events (checked for presence only).
const SOME: &str = "—";

/// Every action, in the order the page lists them.
pub const KINDS: [&str; 18] = [
    "receive",
    "request_correction",
    "refuse",
    "accept",
    "assign",
    "propose",
    "handover",
    "request_supplement",
    "supplement_received",
    "pause",
    "resume",
    "delay",
    "decide",
    "return",
    "close",
    "stop",
    "payment",
    "rate",
];

/// The name of an action on the page.
pub fn label_of(kind: &str) -> &'static str {
    match kind {
        "receive" => "Tiếp nhận hồ sơ",
        "request_correction" => "Yêu cầu bổ sung, hoàn thiện",
        "refuse" => "Từ chối tiếp nhận",
        "accept" => "Tiếp nhận bàn giao",
        "assign" => "Phân công xử lý",
        "propose" => "Trình phê duyệt",
        "handover" => "Chuyển hồ sơ",
        "request_supplement" => "Yêu cầu bổ sung hồ sơ",
        "supplement_received" => "Nhận hồ sơ bổ sung",
        "pause" => "Tạm dừng giải quyết",
        "resume" => "Tiếp tục giải quyết",
        "delay" => "Xin lỗi, hẹn lại ngày trả",
        "decide" => "Phê duyệt kết quả",
        "return" => "Trả kết quả",
        "close" => "Đóng hồ sơ",
        "stop" => "Dừng giải quyết",
        "payment" => "Ghi nhận thu phí, lệ phí",
        "rate" => "Ghi nhận đánh giá",
        _ => "",
    }
}

/// The fields of each action's event, `(name, kind)`, as [`ActionView::fields`] gives
/// them: how a form's values become the event (`web::actions::event_json`).
pub fn field_kinds(kind: &str) -> &'static [(&'static str, &'static str)] {
    match kind {
        "request_correction" | "request_supplement" => {
            &[("items", "lines"), ("reason", "multiline")]
        }
        "refuse" | "close" | "stop" => &[("reason", "multiline")],
        "assign" => &[("user", "choice")],
        "propose" => &[("note", "multiline")],
        "handover" => &[
            ("to_agency", "choice"),
            ("to_user", "text"),
            ("electronic", "boolean"),
            ("note", "multiline"),
        ],
        "pause" => &[("reason", "multiline"), ("legal_basis", "text")],
        "delay" => &[("reason", "multiline"), ("new_due_at", "datetime")],
        "decide" => &[
            ("outcome", "choice"),
            ("reason", "multiline"),
            ("result.number", "text"),
            ("result.name", "text"),
            ("result.valid_until", "date"),
        ],
        "return" => &[("channel", "choice")],
        "payment" => &[
            ("amount", "integer"),
            ("method", "choice"),
            ("reference", "text"),
        ],
        "rate" => &[("score", "choice"), ("comment", "multiline")],
        _ => &[],
    }
}

/// What is read of a dossier to say what may be done to it.
pub struct DossierState<'a> {
    pub row: &'a DossierRow,
    pub progress: &'a ProgressRow,
    pub steps: &'a [StepRow],
    /// The agencies that have held it.
    pub handled: &'a [String],
}

impl App {
    /// The actions of dossier `code` for `caller` at `now`: every kind, allowed or with
    /// the reason (`GET /api/v1/dossiers/{code}/actions`). A dossier the caller may not
    /// see is not found — except by the agency a hand-over waits for, which may accept it.
    pub fn allowed_actions(
        &self,
        caller: &Caller,
        code: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<ActionView>> {
        if code.len() > 64 {
            return Err(AppError::not_found());
        }
        let Some((row, _, _)) = self.store.find_dossier(code)? else {
            return Err(AppError::not_found());
        };
        let (progress, steps, handled) = self.store.dossier_processing(code)?;
        let incoming = progress.pending_handover.as_deref() == Some(caller.agency.as_str());
        if caller.role == Role::Applicant || !(incoming || self.may_see(caller, &row, &handled)) {
            return Err(AppError::not_found());
        }
        let state = DossierState {
            row: &row,
            progress: &progress,
            steps: &steps,
            handled: &handled,
        };
        Ok(self.allowed_actions_of(caller, &state, now))
    }

    /// [`App::allowed_actions`] on a dossier already read.
    pub fn allowed_actions_of(
        &self,
        caller: &Caller,
        d: &DossierState<'_>,
        now: DateTime<Utc>,
    ) -> Vec<ActionView> {
        let offset = self.settings.offset;
        let at = DateTime::<Utc>::from_timestamp(now.timestamp(), 0)
            .unwrap_or(now)
            .with_timezone(&offset);
        let staff = if matches!(caller.role, Role::Leader) {
            self.store.staff_of(&caller.agency).unwrap_or_default()
        } else {
            Vec::new()
        };
        KINDS
            .iter()
            .map(|kind| self.action(caller, d, kind, at, &staff))
            .collect()
    }

    fn action(
        &self,
        caller: &Caller,
        d: &DossierState<'_>,
        kind: &'static str,
        at: DateTime<FixedOffset>,
        staff: &[(String, String, String)],
    ) -> ActionView {
        let offset = self.settings.offset;
        let row = d.row;
        let status = Status::parse(&row.status);
        let received = !matches!(
            status,
            Some(Status::Submitted | Status::NeedsCorrection | Status::RefusedAtIntake) | None
        );
        let state = if received {
            super::processing::state_of(row, d.progress, d.steps, offset)
        } else {
            None
        };
        let rules = self.rule_sets.iter().find(|r| r.id == row.rule_set);
        let engine = self.deadlines();
        let current = state
            .as_ref()
            .map(|s| s.current_agency.as_str())
            .unwrap_or(row.current_agency.as_str());
        let rfc = |t: DateTime<FixedOffset>| t.to_rfc3339();
        let mut fields = Vec::new();
        let probe = match kind {
            "receive" => Event::Receive,
            "request_correction" => {
                fields.push(field(
                    "items",
                    "Nội dung cần bổ sung, hoàn thiện",
                    "lines",
                    true,
                ));
                fields.push(field("reason", "Lý do", "multiline", true));
                Event::RequestCorrection {
                    items: vec![SOME.into()],
                    reason: SOME.into(),
                }
            }
            "refuse" => {
                fields.push(field("reason", "Lý do từ chối", "multiline", true));
                Event::Refuse {
                    reason: SOME.into(),
                }
            }
            "accept" => Event::Accept,
            "assign" => {
                let mut f = field("user", "Cán bộ xử lý", "choice", true);
                f.choices = choices(
                    staff
                        .iter()
                        .filter(|(u, _, role)| role != "clerk" || *u == caller.username)
                        .map(|(u, name, _)| (u.clone(), name.clone())),
                );
                let user = f
                    .choices
                    .first()
                    .map(|c| c.value.clone())
                    .unwrap_or_default();
                fields.push(f);
                Event::Assign { user }
            }
            "propose" => {
                fields.push(field("note", "Ý kiến đề xuất", "multiline", false));
                Event::Propose { note: None }
            }
            "handover" => {
                // The route's next agency first, then the others by name.
                let next = state.as_ref().and_then(|s| {
                    let from = s.current_step.map(|i| i + 1).unwrap_or(0);
                    s.steps
                        .iter()
                        .skip(from)
                        .find(|st| st.agency != current)
                        .map(|st| st.agency.clone())
                });
                let mut targets: Vec<(String, String)> = self
                    .agencies
                    .agencies
                    .iter()
                    .filter(|a| a.code != current)
                    .map(|a| (a.code.clone(), a.name.clone()))
                    .collect();
                if let Some(n) = &next {
                    if let Some(i) = targets.iter().position(|(c, _)| c == n) {
                        let t = targets.remove(i);
                        targets.insert(0, t);
                    }
                }
                let to_agency = targets.first().map(|t| t.0.clone()).unwrap_or_default();
                let mut f = field("to_agency", "Chuyển đến cơ quan", "choice", true);
                f.choices = choices(targets);
                fields.push(f);
                fields.push(field(
                    "to_user",
                    "Cán bộ nhận (nếu chỉ định)",
                    "text",
                    false,
                ));
                let mut e = field("electronic", "Bàn giao điện tử", "boolean", true);
                e.hint = Some("Bỏ chọn khi chuyển hồ sơ giấy".into());
                fields.push(e);
                fields.push(field("note", "Ghi chú", "multiline", false));
                Event::Handover {
                    to_agency,
                    to_user: None,
                    electronic: true,
                    note: None,
                }
            }
            "request_supplement" => {
                fields.push(field("items", "Nội dung cần bổ sung", "lines", true));
                fields.push(field("reason", "Lý do", "multiline", true));
                Event::RequestSupplement {
                    items: vec![SOME.into()],
                    reason: SOME.into(),
                }
            }
            "supplement_received" => Event::SupplementReceived { papers: Vec::new() },
            "pause" => {
                fields.push(field("reason", "Lý do tạm dừng", "multiline", true));
                fields.push(field("legal_basis", "Căn cứ pháp lý", "text", true));
                Event::Pause {
                    reason: SOME.into(),
                    legal_basis: SOME.into(),
                }
            }
            "resume" => Event::Resume,
            "delay" => {
                fields.push(field("reason", "Lý do chậm trễ", "multiline", true));
                let mut f = field("new_due_at", "Ngày hẹn trả mới", "datetime", true);
                // Later than the due moment, at most the statutory time once more.
                let latest = state
                    .as_ref()
                    .and_then(|s| engine.due_at(s.due_at, &s.time).ok());
                if let (Some(s), Some(rules)) = (state.as_ref(), rules) {
                    f.after = Some(rfc(s.due_at));
                    let by = engine
                        .local_date(s.due_at)
                        .checked_sub_days(chrono::Days::new(u64::from(
                            rules.delay_days_before_due,
                        )));
                    if let Some(by) = by {
                        f.hint = Some(format!(
                            "Xin lỗi và hẹn lại chậm nhất ngày {} (trước hạn {} ngày)",
                            by.format("%d/%m/%Y"),
                            rules.delay_days_before_due
                        ));
                    }
                }
                f.latest = latest.map(rfc);
                fields.push(f);
                Event::Delay {
                    reason: SOME.into(),
                    new_due_at: latest.unwrap_or(at),
                }
            }
            "decide" => {
                let mut f = field("outcome", "Quyết định", "choice", true);
                f.choices = choices([
                    ("approved".to_string(), "Phê duyệt, cấp kết quả".to_string()),
                    ("refused".to_string(), "Từ chối giải quyết".to_string()),
                ]);
                fields.push(f);
                let mut r = field("reason", "Lý do (khi từ chối)", "multiline", false);
                r.hint = Some("Bắt buộc khi từ chối".into());
                fields.push(r);
                fields.push(field("result.number", "Số, ký hiệu kết quả", "text", false));
                fields.push(field("result.name", "Tên giấy tờ kết quả", "text", false));
                fields.push(field("result.valid_until", "Có giá trị đến", "date", false));
                Event::Decide {
                    outcome: Decision::Approved,
                    reason: None,
                    result: None,
                }
            }
            "return" => {
                let mut f = field("channel", "Hình thức trả", "choice", true);
                f.choices = choices(
                    [Channel::Counter, Channel::Online, Channel::Post]
                        .map(|c| (c.as_str().to_string(), c.label_vi().to_string())),
                );
                fields.push(f);
                Event::Return {
                    channel: Channel::Counter,
                }
            }
            "close" => {
                fields.push(field("reason", "Lý do đóng hồ sơ", "multiline", true));
                Event::Close {
                    reason: SOME.into(),
                }
            }
            "stop" => {
                fields.push(field(
                    "reason",
                    "Lý do người nộp xin dừng",
                    "multiline",
                    true,
                ));
                Event::Stop {
                    reason: SOME.into(),
                }
            }
            "payment" => {
                fields.push(field("amount", "Số tiền (đồng)", "integer", true));
                let mut f = field("method", "Hình thức nộp", "choice", true);
                f.choices = choices([
                    ("cash".to_string(), "Tiền mặt".to_string()),
                    ("transfer".to_string(), "Chuyển khoản".to_string()),
                    (
                        "online".to_string(),
                        "Trực tuyến (kèm số chứng từ)".to_string(),
                    ),
                ]);
                fields.push(f);
                fields.push(field("reference", "Số chứng từ", "text", false));
                Event::Payment {
                    amount: 1,
                    method: PaymentMethod::Cash,
                    reference: None,
                }
            }
            "rate" => {
                let mut f = field("score", "Mức độ hài lòng", "choice", true);
                f.choices = choices([
                    ("very_satisfied".to_string(), "Rất hài lòng".to_string()),
                    ("satisfied".to_string(), "Hài lòng".to_string()),
                    ("unsatisfied".to_string(), "Không hài lòng".to_string()),
                ]);
                fields.push(f);
                fields.push(field("comment", "Ý kiến", "multiline", false));
                Event::Rate {
                    score: Satisfaction::Satisfied,
                    comment: None,
                }
            }
            _ => unreachable!("every kind of KINDS"),
        };
        // The checks of `record_event`, in its order, on the representative event.
        let verdict = (|| -> AppResult<()> {
            self.check_caller(caller, &probe)?;
            self.check_scope(caller, row, d.progress, &probe, || Ok(d.handled.to_vec()))??;
            if !received {
                self.check_desk(caller, row, d.progress, &probe, at)?;
                return Ok(());
            }
            let Some(state) = &state else {
                return Err(AppError::internal());
            };
            self.check_state(caller, row, state, &probe, at, &engine)
                .map(|_| ())
        })();
        debug_assert_eq!(
            fields.iter().map(|f| (f.name, f.kind)).collect::<Vec<_>>(),
            field_kinds(kind).to_vec(),
            "the fields of {kind}"
        );
        match verdict {
            Ok(()) => ActionView {
                kind,
                label: label_of(kind),
                allowed: true,
                error: None,
                message: None,
                fields,
            },
            Err(e) => ActionView {
                kind,
                label: label_of(kind),
                allowed: false,
                error: Some(e.error.to_string()),
                message: Some(e.message.clone()),
                fields: Vec::new(),
            },
        }
    }
}
