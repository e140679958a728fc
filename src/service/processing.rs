//! Processing (*giải quyết hồ sơ*): events on a dossier, each allowed only in the right
//! state (the pure [`crate::core::machine`]), to the right role of the right agency. One
//! transaction appends the event, updates the cached state and writes the audit record.

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::json;

use super::views::{DossierView, ProgressView};
use super::{Caller, Role};
use crate::app::App;
use crate::core::deadline::{Outcome, StatutoryTime};
use crate::core::dossier::Status;
use crate::core::indicators::ActKind;
use crate::core::machine::{apply_full, Event, State};
use crate::core::route::Step;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, AuditEntry};
use crate::store::documents::{self, DocumentRow};
use crate::store::dossiers::{self, DossierRow, EventRow, ProgressRow, StepRow};
use crate::store::{from_db, to_db, StoreError};

/// The result of a recorded event.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub seq: i32,
    /// The dossier and its progress after the event.
    pub dossier: DossierView,
    pub progress: ProgressView,
    pub reappointment_kept: Option<bool>,
    /// The route stage the event ended, if any: `{steps, name, due_at, outcome}`.
    pub step: Option<serde_json::Value>,
    /// A supplement request made after the limit (NĐ 118/2025 Art. 19(5)).
    pub late_request: bool,
    /// The transfer out of the receiving desk, if the event was it: `{due_at, outcome}`.
    pub transfer: Option<serde_json::Value>,
}

impl Event {
    /// The stable name of the event's type.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Handover { .. } => "handover",
            Event::Accept => "accept",
            Event::Assign { .. } => "assign",
            Event::Propose { .. } => "propose",
            Event::RequestSupplement { .. } => "request_supplement",
            Event::SupplementReceived { .. } => "supplement_received",
            Event::Pause { .. } => "pause",
            Event::Resume => "resume",
            Event::Delay { .. } => "delay",
            Event::Stop { .. } => "stop",
            Event::Close { .. } => "close",
            Event::Receive => "receive",
            Event::RequestCorrection { .. } => "request_correction",
            Event::Refuse { .. } => "refuse",
            Event::Decide { .. } => "decide",
            Event::Return { .. } => "return",
            Event::Payment { .. } => "payment",
            Event::Rate { .. } => "rate",
        }
    }
}

/// Which roles may record an event.
fn roles_for(event: &Event) -> &'static [Role] {
    match event {
        Event::Decide { .. } => &[Role::Leader],
        Event::Return { .. }
        | Event::Close { .. }
        | Event::Receive
        | Event::RequestCorrection { .. }
        | Event::Refuse { .. } => &[Role::Clerk],
        Event::Assign { .. } => &[Role::Leader],
        Event::Propose { .. } => &[Role::Official],
        Event::RequestSupplement { .. }
        | Event::Pause { .. }
        | Event::Resume
        | Event::Delay { .. } => &[Role::Official, Role::Leader],
        Event::Handover { .. }
        | Event::Accept
        | Event::SupplementReceived { .. }
        | Event::Stop { .. } => &[Role::Clerk, Role::Official, Role::Leader],
        Event::Payment { .. } => &[Role::Clerk, Role::Official, Role::Leader, Role::Portal],
        Event::Rate { .. } => &[Role::Clerk, Role::Applicant],
    }
}

/// An outcome from its stored name.
pub fn outcome_of(s: &str) -> Option<Outcome> {
    match s {
        "early" => Some(Outcome::Early),
        "on_time" => Some(Outcome::OnTime),
        "late" => Some(Outcome::Late),
        _ => None,
    }
}

/// The stored row of a route step.
pub fn step_row(code: &str, s: &Step) -> StepRow {
    StepRow {
        dossier_code: code.to_string(),
        no: s.no as i32,
        name: s.name.clone(),
        agency_code: s.agency.clone(),
        role: s.role.clone(),
        share: s.share as i32,
        due_at: db(s.due_at),
        started_at: s.started_at.map(db),
        ended_at: s.ended_at.map(db),
        outcome: s.outcome.map(|o| o.as_str().to_string()),
    }
}

/// A route step from its stored row.
pub fn step_of(r: &StepRow, offset: FixedOffset) -> Step {
    let t = |n| from_db(n).with_timezone(&offset);
    Step {
        no: r.no.max(0) as u32,
        name: r.name.clone(),
        agency: r.agency_code.clone(),
        role: r.role.clone(),
        share: r.share.max(0) as u32,
        due_at: t(r.due_at),
        started_at: r.started_at.map(t),
        ended_at: r.ended_at.map(t),
        outcome: r.outcome.as_deref().and_then(outcome_of),
    }
}

/// The statutory time a dossier was received with, as stored.
pub fn time_of(d: &DossierRow) -> Option<StatutoryTime> {
    let unit = d.time_unit.parse().ok()?;
    let cutoff = match &d.time_cutoff {
        Some(c) => Some(crate::core::calendar::parse_hhmm(c).ok()?),
        None => None,
    };
    StatutoryTime::new(u32::try_from(d.time_amount).ok()?, unit, cutoff).ok()
}

pub(crate) fn state_of(
    d: &DossierRow,
    p: &ProgressRow,
    steps: &[StepRow],
    offset: FixedOffset,
) -> Option<State> {
    let t = |n| from_db(n).with_timezone(&offset);
    Some(State {
        status: Status::parse(&d.status)?,
        received_at: t(d.received_at?),
        time: time_of(d)?,
        supplement_request_by: p.supplement_request_by.map(t),
        current_agency: d.current_agency.clone(),
        pending_handover: p.pending_handover.clone(),
        assignee: p.assignee.clone(),
        due_at: t(d.due_at?),
        reappointed_at: d.reappointed_at.map(t),
        clock_stopped_at: p.clock_stopped_at.map(t),
        supplement_requests: p.supplement_requests.max(0) as u32,
        delayed: p.delayed,
        late_by_rule: p.late_by_rule,
        finished_at: d.finished_at.map(t),
        outcome: d.outcome.as_deref().and_then(outcome_of),
        steps: steps.iter().map(|r| step_of(r, offset)).collect(),
        current_step: p
            .current_step
            .and_then(|i| usize::try_from(i).ok())
            .filter(|i| *i < steps.len()),
        rated: p.rated,
        proposed: p.proposed,
    })
}

/// Text of an event normalised (NFC, trimmed), bounded and checked by the rule of
/// [`crate::core::text`], as everything people type: reasons, notes and comments may have
/// several lines, the other values one.
fn clean_event(event: &Event) -> AppResult<Event> {
    use crate::core::text::{bounded, bounded_multiline};
    let refuse = |e: crate::core::text::TextError, max: usize, what: &str| {
        AppError::invalid(e.code(), e.message(what, max))
    };
    let text = |v: &str, max: usize, what: &str| -> AppResult<String> {
        bounded(v, max)
            .map(Option::unwrap_or_default)
            .map_err(|e| refuse(e, max, what))
    };
    let lines = |v: &str, max: usize, what: &str| -> AppResult<String> {
        bounded_multiline(v, max)
            .map(Option::unwrap_or_default)
            .map_err(|e| refuse(e, max, what))
    };
    let opt_lines = |v: &Option<String>, max: usize, what: &str| -> AppResult<Option<String>> {
        v.as_deref()
            .map(|v| lines(v, max, what))
            .transpose()
            .map(|o| o.filter(|s| !s.is_empty()))
    };
    let opt = |v: &Option<String>, max: usize, what: &str| -> AppResult<Option<String>> {
        v.as_deref()
            .map(|v| text(v, max, what))
            .transpose()
            .map(|o| o.filter(|s| !s.is_empty()))
    };
    // The items to add or correct (forms 02), at most 50, blank ones dropped.
    let list = |items: &[String]| -> AppResult<Vec<String>> {
        if items.len() > 50 {
            return Err(AppError::invalid(
                "text_too_long",
                "Tối đa 50 nội dung cần bổ sung, hoàn thiện",
            ));
        }
        Ok(items
            .iter()
            .map(|i| text(i, 300, "Nội dung cần bổ sung, hoàn thiện"))
            .collect::<AppResult<Vec<_>>>()?
            .into_iter()
            .filter(|i| !i.is_empty())
            .collect())
    };
    Ok(match event {
        Event::Handover {
            to_agency,
            to_user,
            electronic,
            note,
        } => Event::Handover {
            to_agency: text(to_agency, 64, "Mã cơ quan")?,
            to_user: opt(to_user, 64, "Tên đăng nhập")?,
            electronic: *electronic,
            note: opt_lines(note, 1000, "Ghi chú")?,
        },
        Event::Assign { user } => Event::Assign {
            user: text(user, 64, "Tên đăng nhập")?,
        },
        Event::Propose { note } => Event::Propose {
            note: opt_lines(note, 2000, "Ý kiến đề xuất")?,
        },
        Event::RequestSupplement { items, reason } => Event::RequestSupplement {
            items: list(items)?,
            reason: lines(reason, 2000, "Lý do")?,
        },
        Event::SupplementReceived { papers } => {
            if papers.len() > 50
                || serde_json::to_string(papers).map(|s| s.len()).unwrap_or(0) > 20_000
            {
                return Err(AppError::invalid(
                    "text_too_long",
                    "Danh sách giấy tờ bổ sung quá dài",
                ));
            }
            // Kept as given: every text in it must pass the rule too.
            if let Some(e) = json_texts(papers)
                .into_iter()
                .find_map(|t| crate::core::text::refused_char(t, true))
            {
                return Err(refuse(e, 20_000, "Danh sách giấy tờ bổ sung"));
            }
            event.clone()
        }
        Event::Pause {
            reason,
            legal_basis,
        } => Event::Pause {
            reason: lines(reason, 2000, "Lý do")?,
            legal_basis: lines(legal_basis, 1000, "Căn cứ pháp lý")?,
        },
        Event::Delay { reason, new_due_at } => Event::Delay {
            reason: lines(reason, 2000, "Lý do")?,
            new_due_at: *new_due_at,
        },
        Event::Stop { reason } => Event::Stop {
            reason: lines(reason, 2000, "Lý do")?,
        },
        Event::Close { reason } => Event::Close {
            reason: lines(reason, 2000, "Lý do")?,
        },
        Event::Refuse { reason } => Event::Refuse {
            reason: lines(reason, 2000, "Lý do")?,
        },
        Event::RequestCorrection { items, reason } => Event::RequestCorrection {
            items: list(items)?,
            reason: lines(reason, 2000, "Lý do")?,
        },
        Event::Decide {
            outcome,
            reason,
            result,
        } => Event::Decide {
            outcome: *outcome,
            reason: opt_lines(reason, 2000, "Lý do")?,
            result: match result {
                Some(r) => Some(crate::core::machine::ResultInfo {
                    name: opt(&r.name, 300, "Tên giấy tờ kết quả")?,
                    number: opt(&r.number, 100, "Số, ký hiệu")?,
                    valid_until: r.valid_until,
                }),
                None => None,
            },
        },
        Event::Payment {
            amount,
            method,
            reference,
        } => Event::Payment {
            amount: *amount,
            method: *method,
            reference: opt(reference, 100, "Số chứng từ")?,
        },
        Event::Rate { score, comment } => Event::Rate {
            score: *score,
            comment: opt_lines(comment, 2000, "Ý kiến")?,
        },
        Event::Accept | Event::Resume | Event::Return { .. } | Event::Receive => event.clone(),
    })
}

/// Every string in JSON values (keys included).
fn json_texts(values: &[serde_json::Value]) -> Vec<&str> {
    fn walk<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::String(s) => out.push(s),
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    out.push(k);
                    walk(x, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    values.iter().for_each(|v| walk(v, &mut out));
    out
}

fn db(t: DateTime<FixedOffset>) -> chrono::NaiveDateTime {
    to_db(t.with_timezone(&Utc))
}

impl App {
    /// The result document an approval issues: `<code>-KQ<n>`, in the applicant's data
    /// store, kept for the procedure's retention class from its issue date.
    fn result_document(
        &self,
        d: &DossierRow,
        caller: &Caller,
        info: Option<&crate::core::machine::ResultInfo>,
        at: DateTime<FixedOffset>,
        conn: &mut crate::store::DbConnection,
    ) -> Result<DocumentRow, StoreError> {
        let existing = documents::documents_of_dossier(conn, &d.code)?
            .iter()
            .filter(|x| x.kind == "result")
            .count();
        let procedure = self.catalogue.get(&d.procedure_code);
        let retention = procedure
            .map(|p| p.retention.clone())
            .unwrap_or_else(|| "permanent".into());
        let issued_on = at.date_naive();
        let retain_until = crate::core::catalogue::retain_until(&retention, issued_on);
        Ok(DocumentRow {
            id: format!("{}-KQ{}", d.code, existing + 1),
            kind: "result".into(),
            owner_id_number: d.applicant_id_number.clone(),
            owner_name: d.applicant_name.clone(),
            name: info
                .and_then(|i| i.name.clone())
                .or_else(|| procedure.and_then(|p| p.result_document.clone()))
                .unwrap_or_else(|| "Kết quả giải quyết thủ tục hành chính".into()),
            number: info.and_then(|i| i.number.clone()),
            issuing_agency: Some(caller.agency.clone()),
            issued_on,
            valid_until: info.and_then(|i| i.valid_until),
            dossier_code: Some(d.code.clone()),
            procedure_code: Some(d.procedure_code.clone()),
            sha256: None,
            retention,
            retain_until,
            source: "decision".into(),
            source_key: None,
            created_at: db(at),
            created_by: caller.username.clone(),
        })
    }

    /// Records `event` on dossier `code` by `caller` at `now`.
    pub fn record_event(
        &self,
        caller: &Caller,
        code: &str,
        event: &Event,
        now: DateTime<Utc>,
    ) -> AppResult<Recorded> {
        self.event_on(caller, code, event, now, false)
    }

    /// What [`App::record_event`] would do now, with the same checks and answers, without
    /// writing anything (`POST …/events?dry_run=true`): the transaction is rolled back.
    pub fn preview_event(
        &self,
        caller: &Caller,
        code: &str,
        event: &Event,
        now: DateTime<Utc>,
    ) -> AppResult<Recorded> {
        self.event_on(caller, code, event, now, true)
    }

    /// The checks of an event that need no dossier: who may record it (role), and the
    /// agency, person or payment it names.
    pub(crate) fn check_caller(&self, caller: &Caller, event: &Event) -> AppResult<()> {
        if matches!(caller.role, Role::Inspector | Role::Admin) {
            return Err(AppError::forbidden(
                "Tài khoản này không được ghi nhận xử lý hồ sơ",
            ));
        }
        if !roles_for(event).contains(&caller.role) {
            return Err(AppError::forbidden(format!(
                "Vai trò {} không được thực hiện \"{}\"",
                caller.role.as_str(),
                event.kind()
            )));
        }
        match event {
            Event::Handover { to_agency, .. } if self.agencies.get(to_agency).is_none() => {
                return Err(AppError::invalid(
                    "unknown_agency",
                    format!("Cơ quan {to_agency} không tồn tại"),
                ));
            }
            // A person named on a hand-over works at the receiving agency.
            Event::Handover {
                to_agency,
                to_user: Some(user),
                ..
            } => match self.store.find_user(user)? {
                Some(u)
                    if !u.disabled
                        && u.agency_code == *to_agency
                        && matches!(u.role.as_str(), "clerk" | "official" | "leader") => {}
                _ => {
                    return Err(AppError::invalid(
                        "invalid_recipient",
                        format!(
                            "Không có cán bộ \"{user}\" đang hoạt động thuộc cơ quan nhận bàn giao"
                        ),
                    ))
                }
            },
            // An online payment is reported by the portal, or recorded by a clerk with the
            // reference of the online receipt.
            Event::Payment {
                method: crate::core::machine::PaymentMethod::Online,
                reference,
                ..
            } if !(caller.role == Role::Portal
                || (caller.role == Role::Clerk && reference.is_some())) =>
            {
                return Err(AppError::forbidden(
                    "Thanh toán trực tuyến do Cổng dịch vụ công báo, hoặc cán bộ một cửa ghi nhận kèm số chứng từ thanh toán trực tuyến",
                ));
            }
            Event::Assign { user } => match self.store.find_user(user)? {
                Some(u) if !u.disabled && u.agency_code == caller.agency && u.role != "portal" => {}
                _ => {
                    return Err(AppError::invalid(
                        "invalid_assignee",
                        format!("Không có cán bộ \"{user}\" đang hoạt động thuộc cơ quan này"),
                    ))
                }
            },
            _ => {}
        }
        Ok(())
    }

    /// Whether `caller` may act on dossier `row` at all: an agency that may see it (the
    /// agency a hand-over waits for may accept it), and, for a payment, one that holds,
    /// received or decides it. `handled` reads the agencies that have held it, when needed.
    pub(crate) fn check_scope(
        &self,
        caller: &Caller,
        row: &DossierRow,
        progress: &ProgressRow,
        event: &Event,
        handled: impl FnOnce() -> Result<Vec<String>, StoreError>,
    ) -> Result<AppResult<()>, StoreError> {
        // The applicant was proven by code and pin before this call.
        if caller.role == Role::Applicant {
            return Ok(Ok(()));
        }
        // The agency a hand-over waits for may accept it, and nothing else: for
        // everything else the dossier is what its read scope says.
        let accepting = matches!(event, Event::Accept)
            && progress.pending_handover.as_deref() == Some(caller.agency.as_str());
        if !accepting && !self.may_see(caller, row, &[]) && !self.may_see(caller, row, &handled()?)
        {
            return Ok(Err(AppError::not_found()));
        }
        // Writes that do not move the dossier: only an agency that holds it, received it
        // or is competent for it; a consulted agency keeps reading.
        if matches!(event, Event::Payment { .. }) && !self.may_write(caller, row) {
            return Ok(Err(AppError::forbidden(
                "Cơ quan chỉ được xem hồ sơ này: không ghi nhận thanh toán",
            )));
        }
        Ok(Ok(()))
    }

    /// The checks of an event on a received dossier: the agency that may record it, and
    /// the state machine; the rule set and what the event would make of the dossier.
    pub(crate) fn check_state(
        &self,
        caller: &Caller,
        row: &DossierRow,
        state: &crate::core::machine::State,
        event: &Event,
        at: DateTime<FixedOffset>,
        engine: &crate::core::deadline::Deadlines<'_>,
    ) -> AppResult<(
        &crate::core::dossier::RuleSet,
        crate::core::machine::Applied,
    )> {
        let allowed = match event {
            // The one-stop desk that received the dossier closes it (NĐ 118/2025
            // Art. 19(5)), wherever the dossier waits for its supplement.
            Event::Close { .. } => caller.agency == row.receiving_agency,
            // The applicant brings the supplement to the one-stop desk that received the
            // dossier, or to the agency handling it.
            Event::SupplementReceived { .. } => {
                caller.agency == row.receiving_agency || caller.agency == state.current_agency
            }
            // Fees are paid wherever the dossier is; a portal reports its online payments.
            Event::Payment { .. } => true,
            // The applicant rates; a clerk of the counter that returned it records a paper rating.
            Event::Rate { .. } => {
                caller.role == Role::Applicant
                    || caller.agency == state.current_agency
                    || caller.agency == row.receiving_agency
            }
            Event::Accept => state.pending_handover.as_deref() == Some(caller.agency.as_str()),
            _ => state.current_agency == caller.agency,
        };
        if !allowed {
            return Err(AppError::forbidden(
                "Chỉ cơ quan đang giữ hồ sơ (hoặc cơ quan được bàn giao, khi tiếp nhận) mới ghi nhận được sự kiện này",
            ));
        }
        let Some(rules) = self.rule_sets.iter().find(|r| r.id == row.rule_set) else {
            return Err(AppError::internal());
        };
        match apply_full(state, event, at, rules, engine) {
            Ok(a) => Ok((rules, a)),
            Err(r) => Err(AppError::conflict(r.code, r.message)),
        }
    }

    /// The checks of an event on a dossier not received yet: the desk that received the
    /// submission answers it; what the answer does.
    pub(crate) fn check_desk(
        &self,
        caller: &Caller,
        row: &DossierRow,
        progress: &ProgressRow,
        event: &Event,
        at: DateTime<FixedOffset>,
    ) -> AppResult<Option<crate::core::desk::Answer>> {
        let status = Status::parse(&row.status).unwrap_or(Status::Submitted);
        let answers = matches!(
            event,
            Event::Receive | Event::RequestCorrection { .. } | Event::Refuse { .. }
        );
        if answers && caller.agency != row.receiving_agency {
            return Err(AppError::forbidden(
                "Chỉ Bộ phận Một cửa nơi hồ sơ được gửi đến mới tiếp nhận, yêu cầu hoàn thiện hoặc từ chối hồ sơ trực tuyến",
            ));
        }
        let acknowledge_by = progress
            .acknowledge_by
            .map(|t| from_db(t).with_timezone(&self.settings.offset));
        crate::core::desk::answer(status, acknowledge_by, event, at)
            .map_err(|r| AppError::conflict(r.code, r.message))
    }

    fn event_on(
        &self,
        caller: &Caller,
        code: &str,
        event: &Event,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> AppResult<Recorded> {
        let cleaned = clean_event(event)?;
        let event = &cleaned;
        self.check_caller(caller, event)?;
        let offset = self.settings.offset;
        let at = DateTime::<Utc>::from_timestamp(now.timestamp(), 0)
            .unwrap_or(now)
            .with_timezone(&offset);
        let engine = self.deadlines();
        let actor = caller.actor();
        let payload = serde_json::to_value(event).unwrap_or(json!({}));
        let run = |conn: &mut crate::store::DbConnection| {
            let Some((mut row, mut progress)) = dossiers::dossier_for_update(conn, code)? else {
                return Ok(Err(AppError::not_found()));
            };
            if let Err(e) = self.check_scope(caller, &row, &progress, event, || {
                dossiers::handled_by(conn, code)
            })? {
                return Ok(Err(e));
            }
            if matches!(
                Status::parse(&row.status),
                Some(Status::Submitted | Status::NeedsCorrection | Status::RefusedAtIntake)
            ) {
                return self.desk_event(conn, caller, row, progress, event, at, now);
            }
            let before = (row.clone(), progress.clone());
            let step_rows = dossiers::steps_of(conn, code)?;
            let Some(state) = state_of(&row, &progress, &step_rows, offset) else {
                tracing::error!(code = %row.code, "stored dossier state unreadable");
                return Ok(Err(AppError::internal()));
            };
            let (rules, applied) = match self.check_state(caller, &row, &state, event, at, &engine)
            {
                Ok(x) => x,
                Err(e) => return Ok(Err(e)),
            };
            let (next, stage, late_request) = (applied.state, applied.stage, applied.late_request);
            // The transfer out of the receiving desk: its own due moment (NĐ 118/2025
            // Art. 18(2), 20(1)(a)), met or not.
            let transfer = match event {
                Event::Handover {
                    to_agency,
                    electronic,
                    ..
                } if state.current_agency == row.receiving_agency
                    && !dossiers::has_handovers(conn, code)? =>
                {
                    let how = crate::core::desk::Transfer {
                        paper: !*electronic,
                        between_levels: self
                            .agencies
                            .between_tiers_from_a_centre(&row.receiving_agency, to_agency),
                    };
                    crate::core::desk::transfer_due_at(state.received_at, how, rules, &engine)
                        .unwrap_or(None)
                        .map(|due| (due, crate::core::desk::on_time(at, due)))
                }
                _ => None,
            };
            row.status = next.status.as_str().to_string();
            row.current_agency = next.current_agency.clone();
            row.due_at = Some(db(next.due_at));
            row.reappointed_at = next.reappointed_at.map(db);
            row.finished_at = next.finished_at.map(db);
            row.outcome = next.outcome.map(|o| o.as_str().to_string());
            row.result_ready =
                matches!(next.status, Status::Approved | Status::Refused) || row.result_ready;
            // To the microsecond: a portal follows changes by (updated_at, code).
            row.updated_at = to_db(now);
            progress.pending_handover = next.pending_handover.clone();
            progress.assignee = next.assignee.clone();
            progress.clock_stopped_at = next.clock_stopped_at.map(db);
            progress.supplement_requests = next.supplement_requests as i32;
            progress.delayed = next.delayed;
            progress.late_by_rule = next.late_by_rule;
            progress.current_step = next.current_step.map(|i| i as i32);
            progress.rated = next.rated;
            progress.proposed = next.proposed;
            // Facts the indicators count (QĐ 766), kept with the event.
            match event {
                Event::Decide { outcome, .. } => {
                    progress.decision = Some(
                        match outcome {
                            crate::core::machine::Decision::Approved => "approved",
                            crate::core::machine::Decision::Refused => "refused",
                        }
                        .into(),
                    );
                }
                Event::Payment {
                    method: crate::core::machine::PaymentMethod::Online,
                    ..
                } => progress.paid_online = true,
                Event::Rate { score, .. } => {
                    progress.rating = Some(score.as_str().into());
                    progress.rated_at = Some(db(at));
                }
                Event::SupplementReceived { .. } | Event::Resume => {
                    if let Some(since) = state.clock_stopped_at {
                        progress.stopped_minutes += engine.working_minutes_between(since, at);
                    }
                }
                Event::Return { .. } => {
                    let received =
                        from_db(row.received_at.unwrap_or(row.updated_at)).with_timezone(&offset);
                    progress.handling_minutes = Some(
                        (engine.working_minutes_between(received, at) - progress.stopped_minutes)
                            .max(0),
                    );
                }
                _ => {}
            }
            let changed: Vec<StepRow> = next
                .steps
                .iter()
                .zip(&state.steps)
                .filter(|(a, b)| a != b)
                .map(|(a, _)| step_row(&row.code, a))
                .collect();
            dossiers::update_steps(conn, &changed)?;
            if matches!(event, Event::Accept) {
                dossiers::add_handler(conn, &row, &next.current_agency)?;
            }
            let mut registered = None;
            if let Event::Decide {
                outcome: crate::core::machine::Decision::Approved,
                result,
                ..
            } = event
            {
                let doc = self.result_document(&row, caller, result.as_ref(), at, conn)?;
                documents::insert_document(conn, &doc)?;
                let dg = documents::refresh_digitisation(conn, &row.code)?;
                progress.results = dg.results;
                progress.results_electronic = dg.results_electronic;
                registered = Some(doc.id);
            }
            let mut data = payload.clone();
            if let Event::Handover { .. } = event {
                data["from_agency"] = json!(state.current_agency);
            }
            if let Some(id) = &registered {
                data["result_document"] = json!(id);
            }
            if let Some((due, on_time)) = transfer {
                data["transfer"] = json!({
                    "due_at": due.to_rfc3339(),
                    "outcome": if on_time { "on_time" } else { "late" },
                });
            }
            if let Some(st) = &stage {
                data["step"] = json!({
                    "steps": st.steps,
                    "name": st.name,
                    "due_at": st.due_at.to_rfc3339(),
                    "outcome": st.outcome.as_str(),
                });
            }
            if let Some(o) = next
                .outcome
                .filter(|_| matches!(event, Event::Return { .. }))
            {
                data["outcome"] = json!(o.as_str());
                data["due_at"] = json!(next.due_at.to_rfc3339());
            }
            if matches!(
                event,
                Event::SupplementReceived { .. } | Event::Resume | Event::Delay { .. }
            ) {
                data["due_at"] = json!(next.due_at.to_rfc3339());
            }
            if let Event::SupplementReceived { .. } = event {
                // The due moment before this one, and the first (at receipt): both stay
                // readable in the history.
                data["previous_due_at"] = json!(state.due_at.to_rfc3339());
                data["first_due_at"] = json!(progress
                    .first_due_at
                    .map(|t| from_db(t).with_timezone(&offset).to_rfc3339()));
                data["supplement_clock"] = json!(rules.supplement_clock.as_str());
            }
            if let Event::Delay { .. } = event {
                // The date the apology replaces (form 04; the notification says both).
                data["previous_due_at"] = json!(state.due_at.to_rfc3339());
            }
            if let Event::RequestSupplement { .. } = event {
                data["late_request"] = json!(late_request);
                data["request_by"] = json!(state.supplement_request_by.map(|t| t.to_rfc3339()));
            }
            let seq = dossiers::append_event(
                conn,
                &row,
                &progress,
                EventRow {
                    dossier_code: row.code.clone(),
                    seq: 0,
                    kind: event.kind().to_string(),
                    at: db(at),
                    actor: caller.username.clone(),
                    agency_code: caller.agency.clone(),
                    status_after: row.status.clone(),
                    payload: data.to_string(),
                },
            )?;
            self.notify_event(conn, &row, event.kind(), seq, &data, now)?;
            self.roll(conn, Some((&before.0, &before.1)), (&row, &progress))?;
            if let Event::RequestSupplement { .. } = event {
                // Counted, when late, by the agency that made the request, on its day.
                self.record_act(
                    conn,
                    &row,
                    seq,
                    ActKind::RequestSupplement,
                    &caller.agency,
                    at,
                    state.supplement_request_by,
                    late_request,
                )?;
            }
            if let Event::Handover {
                to_agency,
                electronic,
                ..
            } = event
            {
                let mut cells = vec![(
                    (
                        state.current_agency.clone(),
                        row.procedure_code.clone(),
                        at.date_naive(),
                    ),
                    crate::core::indicators::Column::HandoversTotal,
                    1,
                )];
                if *electronic {
                    cells.push((
                        (
                            state.current_agency.clone(),
                            row.procedure_code.clone(),
                            at.date_naive(),
                        ),
                        crate::core::indicators::Column::HandoversElectronic,
                        1,
                    ));
                }
                if let Some((_, on_time)) = transfer {
                    cells.push((
                        (
                            state.current_agency.clone(),
                            row.procedure_code.clone(),
                            at.date_naive(),
                        ),
                        if on_time {
                            crate::core::indicators::Column::TransfersOnTime
                        } else {
                            crate::core::indicators::Column::TransfersLate
                        },
                        1,
                    ));
                }
                crate::store::reports::apply_rollup(conn, &cells)?;
                dossiers::insert_handover(
                    conn,
                    &dossiers::HandoverRow {
                        dossier_code: row.code.clone(),
                        seq,
                        at: db(at),
                        from_agency: state.current_agency.clone(),
                        to_agency: to_agency.clone(),
                        electronic: *electronic,
                        outcome: stage.as_ref().map(|st| st.outcome.as_str().to_string()),
                        transfer_due_at: transfer.map(|(due, _)| db(due)),
                        transfer_outcome: transfer
                            .map(|(_, ok)| if ok { "on_time" } else { "late" }.to_string()),
                    },
                )?;
            }
            audit::append(
                conn,
                AuditEntry {
                    actor: &actor,
                    at: db(at),
                    action: "dossier.event",
                    entity: "dossier",
                    entity_id: &row.code,
                    detail: json!({ "seq": seq, "type": event.kind(), "status": row.status }),
                },
            )?;
            Ok::<_, StoreError>(Ok(Recorded {
                transfer: data.get("transfer").cloned(),
                step: data.get("step").cloned(),
                late_request,
                seq,
                reappointment_kept: next.reappointment_kept(),
                dossier: row.into(),
                progress: progress.into(),
            }))
        };
        if dry_run {
            self.store.rehearse(None, run)?
        } else {
            let recorded = self.store.write(None, run)?;
            if let (Ok(r), Event::Return { .. }) = (&recorded, event) {
                if let Some(outcome) = &r.dossier.outcome {
                    self.metrics.returned(outcome);
                }
            }
            recorded
        }
    }
}

impl App {
    /// An event on a dossier not received yet (an online submission, NĐ 118/2025
    /// Art. 17(2)–(3)), inside the caller's transaction: the desk of the receiving agency
    /// receives it officially (from now the statutory time runs, as at the counter), asks
    /// in one go for a correction, or refuses it; a payment is recorded. Every answer is an
    /// act with the submission's limit.
    #[allow(clippy::too_many_arguments)]
    fn desk_event(
        &self,
        conn: &mut crate::store::DbConnection,
        caller: &Caller,
        mut row: DossierRow,
        mut progress: ProgressRow,
        event: &Event,
        at: DateTime<FixedOffset>,
        now: DateTime<Utc>,
    ) -> Result<AppResult<Recorded>, StoreError> {
        let offset = self.settings.offset;
        let answer = match self.check_desk(caller, &row, &progress, event, at) {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        let acknowledge_by = progress
            .acknowledge_by
            .map(|t| from_db(t).with_timezone(&offset));
        let before = (row.clone(), progress.clone());
        let mut steps = Vec::new();
        let mut data = serde_json::to_value(event).unwrap_or(json!({}));
        match event {
            Event::Receive => {
                let Some(definition) = crate::store::catalogue::procedure_definition(
                    conn,
                    &row.procedure_code,
                    row.procedure_version,
                )?
                else {
                    return Ok(Err(AppError::internal()));
                };
                let Ok(procedure) =
                    serde_json::from_str::<crate::core::catalogue::Procedure>(&definition)
                else {
                    return Ok(Err(AppError::internal()));
                };
                // The rules in force at the official receipt.
                let Some(rules) =
                    crate::core::dossier::rule_set_for(&self.rule_sets, at.date_naive())
                else {
                    return Ok(Err(AppError::internal()));
                };
                let plan = match self.plan_receipt(
                    &procedure,
                    rules,
                    &row.receiving_agency,
                    row.competent_agency.as_deref(),
                    at,
                ) {
                    Ok(p) => p,
                    Err(e) => return Ok(Err(e)),
                };
                steps = self.apply_receipt(conn, &mut row, &mut progress, &plan, true, None)?;
                data["received_at"] = json!(at.to_rfc3339());
                data["due_at"] = json!(plan.due.to_rfc3339());
                data["rule_set"] = json!(plan.rule_set);
                data["supplement_request_by"] =
                    json!(plan.supplement_request_by.map(|t| t.to_rfc3339()));
            }
            Event::RequestCorrection { .. } => progress.correction_rounds += 1,
            Event::Payment {
                method: crate::core::machine::PaymentMethod::Online,
                ..
            } => progress.paid_online = true,
            _ => {}
        }
        if let Some(a) = &answer {
            row.status = a.status.as_str().into();
            data["acknowledge_by"] = json!(acknowledge_by.map(|t| t.to_rfc3339()));
            data["acknowledged"] = json!(if a.late { "late" } else { "on_time" });
        }
        row.updated_at = to_db(now);
        dossiers::insert_steps(conn, &steps)?;
        let seq = dossiers::append_event(
            conn,
            &row,
            &progress,
            EventRow {
                dossier_code: row.code.clone(),
                seq: 0,
                kind: event.kind().to_string(),
                at: db(at),
                actor: caller.username.clone(),
                agency_code: caller.agency.clone(),
                status_after: row.status.clone(),
                payload: data.to_string(),
            },
        )?;
        self.notify_event(conn, &row, event.kind(), seq, &data, now)?;
        // Counted from its official receipt on; the answer counts for the desk.
        self.roll(conn, Some((&before.0, &before.1)), (&row, &progress))?;
        if let Some(a) = &answer {
            let kind = match event {
                Event::Receive => ActKind::Receive,
                Event::RequestCorrection { .. } => ActKind::RequestCorrection,
                _ => ActKind::Refuse,
            };
            self.record_act(
                conn,
                &row,
                seq,
                kind,
                &row.receiving_agency.clone(),
                at,
                acknowledge_by,
                a.late,
            )?;
        }
        audit::append(
            conn,
            AuditEntry {
                actor: &caller.actor(),
                at: db(at),
                action: "dossier.event",
                entity: "dossier",
                entity_id: &row.code,
                detail: json!({ "seq": seq, "type": event.kind(), "status": row.status }),
            },
        )?;
        Ok(Ok(Recorded {
            step: None,
            transfer: None,
            late_request: false,
            seq,
            reappointment_kept: None,
            dossier: row.into(),
            progress: progress.into(),
        }))
    }
}
