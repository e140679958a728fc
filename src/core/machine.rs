//! The dossier's state machine (NĐ 118/2025 Art. 16–20; DOMAIN.md section 4): which event
//! may happen in which state, and what it changes. Pure: the caller passes the moment and
//! the deadline engine; persistence and authorisation of actors live elsewhere.
//!
//! - Supplement (*yêu cầu bổ sung*, Art. 19(5); once, Art. 11(2)(c)): the clock waits for
//!   the applicant. When the complete dossier arrives, the rule set says what happens:
//!   `restart` counts the statutory time again from that moment, as at intake, and spreads
//!   it over the route's open steps; `pause` moves the due moment later by the working
//!   minutes stopped. A request later than the rule set's limit after receipt is accepted
//!   but marked late. After the rule set's wait without the complete dossier, the one-stop
//!   desk may close it (*đóng hồ sơ*): terminal, neither finished nor late.
//! - Pause (*tạm dừng*) for another lawful reason stops the clock the `pause` way.
//! - A delay (*xin lỗi và đề nghị gia hạn*, Art. 19(6)) is given at the latest the day
//!   before the due date, once; it keeps the statutory due moment for statistics and sets
//!   `reappointed_at`.
//! - The outcome is fixed once, at return (or stop), and never changes.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::deadline::{DeadlineError, Deadlines, Outcome, StatutoryTime, TimeLimit};
use super::dossier::{Channel, RuleSet, Status, SupplementClock};
use super::route::{self, StageResult, Step};

/// An event of the dossier's life (*sự kiện*), as requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// Tiếp nhận chính thức: the one-stop desk receives an online submission; from this
    /// moment the statutory time runs (NĐ 118/2025 Art. 17(3)).
    Receive,
    /// Yêu cầu bổ sung, hoàn thiện: the desk asks the online applicant, in one go, for
    /// what is missing (Art. 17(2), form 02); the portal sends the dossier again.
    RequestCorrection { items: Vec<String>, reason: String },
    /// Từ chối tiếp nhận: the desk refuses an online submission, with the reason (form 03).
    Refuse { reason: String },
    /// Bàn giao: the dossier goes to another agency (or back to the counter).
    Handover {
        to_agency: String,
        #[serde(default)]
        to_user: Option<String>,
        electronic: bool,
        #[serde(default)]
        note: Option<String>,
    },
    /// Tiếp nhận bàn giao: the receiving agency confirms.
    Accept,
    /// Phân công: an official of the current agency handles it.
    Assign { user: String },
    /// Trình phê duyệt: the official proposes the outcome to the agency's leader.
    Propose {
        #[serde(default)]
        note: Option<String>,
    },
    /// Yêu cầu bổ sung, hoàn thiện hồ sơ (form 02): the clock stops.
    RequestSupplement { items: Vec<String>, reason: String },
    /// Nhận hồ sơ bổ sung: the clock restarts.
    SupplementReceived {
        #[serde(default)]
        papers: Vec<serde_json::Value>,
    },
    /// Tạm dừng giải quyết for a lawful reason: the clock stops.
    Pause { reason: String, legal_basis: String },
    /// Tiếp tục giải quyết: the clock restarts.
    Resume,
    /// Xin lỗi và hẹn lại ngày trả (form 04), once, at least a working day before due.
    Delay {
        reason: String,
        new_due_at: DateTime<FixedOffset>,
    },
    /// Dừng giải quyết at the applicant's request (form 05), while no decision exists.
    Stop { reason: String },
    /// Đóng hồ sơ: the one-stop desk closes a dossier whose supplement has not come
    /// within the rule set's wait after the request (NĐ 118/2025 Art. 19(5)).
    Close { reason: String },
    /// Quyết định: approved (a result) or refused (with a reason).
    Decide {
        outcome: Decision,
        #[serde(default)]
        reason: Option<String>,
        /// The result document issued with an approval (registered in the applicant
        /// data store as `<dossier code>-KQ<n>`); defaults from the catalogue.
        #[serde(default)]
        result: Option<ResultInfo>,
    },
    /// Trả kết quả: fixes `finished_at` and the outcome, once.
    Return { channel: Channel },
    /// Thu phí, lệ phí: fees and charges paid, at intake or later (in đồng).
    Payment {
        amount: i64,
        method: PaymentMethod,
        #[serde(default)]
        reference: Option<String>,
    },
    /// Đánh giá mức độ hài lòng: once, after return (QĐ 766 Index 7).
    Rate {
        score: Satisfaction,
        #[serde(default)]
        comment: Option<String>,
    },
}

/// How a fee was paid (*hình thức nộp phí, lệ phí*); online payment is counted by QĐ 766.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Tiền mặt tại Bộ phận Một cửa.
    Cash,
    /// Thanh toán trực tuyến (qua Cổng dịch vụ công).
    Online,
    /// Chuyển khoản.
    Transfer,
}

/// The applicant's rating of the service (*mức độ hài lòng*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// Rất hài lòng.
    VerySatisfied,
    /// Hài lòng.
    Satisfied,
    /// Không hài lòng.
    Unsatisfied,
}

impl Satisfaction {
    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "very_satisfied",
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::Unsatisfied => "unsatisfied",
        }
    }
}

/// What the deciding agency says of the result document it issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultInfo {
    /// The document's name; default: the procedure's `result_document`.
    #[serde(default)]
    pub name: Option<String>,
    /// Its number and symbol (*số, ký hiệu*).
    #[serde(default)]
    pub number: Option<String>,
    /// Valid until this date; `None`: without limit.
    #[serde(default)]
    pub valid_until: Option<chrono::NaiveDate>,
}

/// A decision on the request (*kết quả giải quyết*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Refused,
}

/// The state a dossier's events lead to (cached on the dossier row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub status: Status,
    /// When the dossier was received (the statutory time runs from here).
    pub received_at: DateTime<FixedOffset>,
    /// The procedure's statutory time, as at intake (counted again on a `restart`).
    pub time: StatutoryTime,
    /// A supplement requested after this moment is a late request; none: no limit.
    pub supplement_request_by: Option<DateTime<FixedOffset>>,
    pub current_agency: String,
    /// A hand-over waiting for the receiving agency to accept it.
    pub pending_handover: Option<String>,
    pub assignee: Option<String>,
    /// The statutory due moment, moved later by stopped clock time.
    pub due_at: DateTime<FixedOffset>,
    /// The new date promised by a delay.
    pub reappointed_at: Option<DateTime<FixedOffset>>,
    /// Since when the clock is stopped (supplement or pause).
    pub clock_stopped_at: Option<DateTime<FixedOffset>>,
    pub supplement_requests: u32,
    pub delayed: bool,
    /// More supplement requests than one (old rules): late whatever the dates (QĐ 766).
    pub late_by_rule: bool,
    pub finished_at: Option<DateTime<FixedOffset>>,
    pub outcome: Option<Outcome>,
    /// The route from the catalogue's steps, each with its due moment and result.
    pub steps: Vec<Step>,
    /// The step (0-based) the dossier is in; `None` between stages or off the route.
    pub current_step: Option<usize>,
    /// Whether the applicant's rating was recorded.
    pub rated: bool,
    /// Proposed to the leader for a decision (*trình phê duyệt*), until decided, handed
    /// over, sent for a supplement, paused or stopped.
    pub proposed: bool,
}

impl State {
    /// A dossier just received at `agency` at `received_at` with statutory time `time`,
    /// due at `due_at`.
    pub fn received(
        agency: &str,
        received_at: DateTime<FixedOffset>,
        time: StatutoryTime,
        due_at: DateTime<FixedOffset>,
    ) -> Self {
        Self {
            status: Status::Received,
            received_at,
            time,
            supplement_request_by: None,
            current_agency: agency.to_string(),
            pending_handover: None,
            assignee: None,
            due_at,
            reappointed_at: None,
            clock_stopped_at: None,
            supplement_requests: 0,
            delayed: false,
            late_by_rule: false,
            finished_at: None,
            outcome: None,
            steps: Vec::new(),
            current_step: None,
            rated: false,
            proposed: false,
        }
    }

    /// The same dossier with the moment after which a supplement request is late.
    pub fn with_supplement_request_by(mut self, by: Option<DateTime<FixedOffset>>) -> Self {
        self.supplement_request_by = by;
        self
    }

    /// The same dossier with its planned route: it starts in the first step when that
    /// step is at the receiving agency.
    pub fn with_route(mut self, mut steps: Vec<Step>, received_at: DateTime<FixedOffset>) -> Self {
        self.current_step = None;
        if let Some(first) = steps.first_mut() {
            if first.agency == self.current_agency {
                first.started_at = Some(received_at);
                self.current_step = Some(0);
            }
        }
        self.steps = steps;
        self
    }

    /// Whether the applicant got the result by the re-appointed date.
    pub fn reappointment_kept(&self) -> Option<bool> {
        match (self.reappointed_at, self.finished_at) {
            (Some(r), Some(f)) => Some(f <= r),
            _ => None,
        }
    }

    fn is_open(&self) -> bool {
        matches!(
            self.status,
            Status::Received | Status::InProgress | Status::SupplementRequested | Status::Paused
        )
    }
}

/// Why an event is refused, with a stable code and a Vietnamese message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

pub(crate) fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

fn wrong_state(state: &State, what: &str) -> Refusal {
    refuse(
        "invalid_state",
        format!(
            "Không thể {what} khi hồ sơ đang ở trạng thái \"{}\"",
            state.status.label_vi()
        ),
    )
}

/// What an accepted event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub state: State,
    /// The route stage the event ended (a hand-over or the return), if any.
    pub stage: Option<StageResult>,
    /// A supplement request made after the rule set's limit (NĐ 118/2025 Art. 19(5)).
    pub late_request: bool,
}

/// The moment after which a supplement request for a dossier received at `received_at`
/// is late: the limit counted like a statutory time of its unit (3 working days: the
/// close of the third working day after the day of receipt). None without a limit.
pub fn supplement_request_by(
    received_at: DateTime<FixedOffset>,
    within: Option<&TimeLimit>,
    engine: &Deadlines<'_>,
) -> Result<Option<DateTime<FixedOffset>>, DeadlineError> {
    within
        .map(|w| engine.due_at(received_at, &w.to_time()?))
        .transpose()
}

/// The first local date on which a dossier whose supplement was requested at
/// `requested_at` may be closed: `wait_days` calendar days later (the day of the request
/// is day 0).
pub fn close_allowed_on(
    requested_at: DateTime<FixedOffset>,
    wait_days: u32,
    engine: &Deadlines<'_>,
) -> Option<chrono::NaiveDate> {
    engine
        .local_date(requested_at)
        .checked_add_days(chrono::Days::new(u64::from(wait_days)))
}

/// Whether the one-stop desk may close `state` at `at` under `rules` (its supplement is
/// awaited and the wait is over).
pub fn may_close(
    state: &State,
    at: DateTime<FixedOffset>,
    rules: &RuleSet,
    engine: &Deadlines<'_>,
) -> bool {
    match (
        state.status,
        state.clock_stopped_at,
        rules.supplement_wait_days,
    ) {
        (Status::SupplementRequested, Some(since), Some(wait)) => {
            close_allowed_on(since, wait, engine).is_some_and(|d| engine.local_date(at) >= d)
        }
        _ => false,
    }
}

/// Applies `event` at moment `at` under `rules`; the new state, or why not.
pub fn apply(
    state: &State,
    event: &Event,
    at: DateTime<FixedOffset>,
    rules: &RuleSet,
    engine: &Deadlines<'_>,
) -> Result<State, Refusal> {
    apply_full(state, event, at, rules, engine).map(|a| a.state)
}

/// [`apply`], also telling what the event did besides the new state: the route stage it
/// ended, whether a supplement request was late.
pub fn apply_full(
    state: &State,
    event: &Event,
    at: DateTime<FixedOffset>,
    rules: &RuleSet,
    engine: &Deadlines<'_>,
) -> Result<Applied, Refusal> {
    let mut s = state.clone();
    let mut stage = None;
    let mut late_request = false;
    match state.status {
        Status::Stopped => {
            return Err(refuse(
                "dossier_stopped",
                "Hồ sơ đã dừng giải quyết: không ghi nhận thêm sự kiện",
            ))
        }
        Status::Closed => return Err(refuse(
            "dossier_closed",
            "Hồ sơ đã được đóng do không bổ sung đủ trong thời hạn: không ghi nhận thêm sự kiện",
        )),
        // Not received yet: the desk's answers are `core::desk`'s.
        Status::Submitted | Status::NeedsCorrection | Status::RefusedAtIntake => {
            return Err(super::desk::not_received(state.status))
        }
        _ => {}
    }
    let restart = |s: &mut State| -> Result<(), Refusal> {
        let since = s.clock_stopped_at.take().expect("clock stopped");
        s.due_at = engine
            .resume(s.due_at, since, at)
            .map_err(|e| refuse("out_of_range", e.to_string()))?;
        if let Some(r) = s.reappointed_at {
            s.reappointed_at = Some(
                engine
                    .resume(r, since, at)
                    .map_err(|e| refuse("out_of_range", e.to_string()))?,
            );
        }
        route::shift(&mut s.steps, since, at, engine)
            .map_err(|e| refuse("out_of_range", e.to_string()))?;
        Ok(())
    };
    match event {
        Event::Receive | Event::RequestCorrection { .. } | Event::Refuse { .. } => {
            return Err(refuse(
                "invalid_state",
                format!(
                    "Hồ sơ đã được tiếp nhận ({}): chỉ hồ sơ trực tuyến đang chờ tiếp nhận mới được tiếp nhận, yêu cầu hoàn thiện hoặc từ chối",
                    state.status.label_vi()
                ),
            ))
        }
        Event::Handover { to_agency, .. } => {
            if !state.is_open() && !matches!(state.status, Status::Approved | Status::Refused) {
                return Err(wrong_state(state, "bàn giao"));
            }
            if state.pending_handover.is_some() {
                return Err(refuse(
                    "handover_pending",
                    "Hồ sơ đang chờ cơ quan nhận xác nhận bàn giao trước",
                ));
            }
            if *to_agency == state.current_agency {
                return Err(refuse(
                    "invalid_handover",
                    "Không bàn giao cho chính cơ quan đang giữ hồ sơ",
                ));
            }
            s.pending_handover = Some(to_agency.clone());
            if let Some(i) = s.current_step.take() {
                stage = Some(route::end_stage(&mut s.steps, i, at, engine));
            }
        }
        Event::Accept => {
            let Some(to) = state.pending_handover.clone() else {
                return Err(refuse(
                    "no_pending_handover",
                    "Không có bàn giao nào chờ tiếp nhận",
                ));
            };
            let from = route::next_search_from(&s.steps);
            s.current_step = route::find_from(&s.steps, from, &to);
            if let Some(i) = s.current_step {
                s.steps[i].started_at.get_or_insert(at);
            }
            s.current_agency = to;
            s.pending_handover = None;
            s.assignee = None;
            if s.status == Status::Received {
                s.status = Status::InProgress;
            }
        }
        Event::Assign { user } => {
            if !state.is_open() && !matches!(state.status, Status::Approved | Status::Refused) {
                return Err(wrong_state(state, "phân công"));
            }
            s.assignee = Some(user.clone());
        }
        Event::Propose { .. } => {
            if !matches!(state.status, Status::Received | Status::InProgress) {
                return Err(wrong_state(state, "trình phê duyệt"));
            }
            if state.pending_handover.is_some() {
                return Err(refuse(
                    "handover_pending",
                    "Hồ sơ đang chờ cơ quan nhận xác nhận bàn giao",
                ));
            }
            if state.proposed {
                return Err(refuse(
                    "already_proposed",
                    "Hồ sơ đã được trình, đang chờ lãnh đạo phê duyệt",
                ));
            }
            s.proposed = true;
        }
        Event::RequestSupplement { items, reason } => {
            if !matches!(state.status, Status::Received | Status::InProgress) {
                return Err(wrong_state(state, "yêu cầu bổ sung"));
            }
            if items.is_empty() || reason.trim().is_empty() {
                return Err(refuse(
                    "invalid_supplement",
                    "Cần nêu nội dung cần bổ sung và lý do",
                ));
            }
            if rules.supplement_requests > 0
                && state.supplement_requests >= rules.supplement_requests
            {
                return Err(refuse(
                    "supplement_limit",
                    format!(
                        "Theo {} chỉ được yêu cầu bổ sung hồ sơ {} lần",
                        rules.name, rules.supplement_requests
                    ),
                ));
            }
            s.supplement_requests += 1;
            if s.supplement_requests > 1 {
                s.late_by_rule = true;
            }
            late_request = state.supplement_request_by.is_some_and(|by| at > by);
            s.status = Status::SupplementRequested;
            s.clock_stopped_at = Some(at);
        }
        Event::SupplementReceived { .. } => {
            if state.status != Status::SupplementRequested {
                return Err(wrong_state(state, "nhận hồ sơ bổ sung"));
            }
            match rules.supplement_clock {
                SupplementClock::Pause => restart(&mut s)?,
                SupplementClock::Restart => {
                    s.clock_stopped_at = None;
                    let out_of_range = |e: DeadlineError| refuse("out_of_range", e.to_string());
                    let due = engine.due_at(at, &state.time).map_err(out_of_range)?;
                    // A re-appointment keeps its working distance past the due moment.
                    if let Some(r) = state.reappointed_at {
                        let gap = engine.working_minutes_between(state.due_at, r);
                        s.reappointed_at =
                            Some(engine.add_working_minutes(due, gap).map_err(out_of_range)?);
                    }
                    s.due_at = due;
                    route::replan(&mut s.steps, at, due, engine).map_err(out_of_range)?;
                }
            }
            s.status = Status::InProgress;
        }
        Event::Pause {
            reason,
            legal_basis,
        } => {
            if !matches!(state.status, Status::Received | Status::InProgress) {
                return Err(wrong_state(state, "tạm dừng"));
            }
            if reason.trim().is_empty() || legal_basis.trim().is_empty() {
                return Err(refuse(
                    "invalid_pause",
                    "Cần nêu lý do và căn cứ pháp lý của việc tạm dừng",
                ));
            }
            s.status = Status::Paused;
            s.clock_stopped_at = Some(at);
        }
        Event::Resume => {
            if state.status != Status::Paused {
                return Err(wrong_state(state, "tiếp tục giải quyết"));
            }
            restart(&mut s)?;
            s.status = Status::InProgress;
        }
        Event::Delay { reason, new_due_at } => {
            if !matches!(state.status, Status::Received | Status::InProgress) {
                return Err(wrong_state(state, "xin gia hạn"));
            }
            if state.delayed {
                return Err(refuse(
                    "delay_already_given",
                    "Chỉ được xin lỗi và hẹn lại ngày trả một lần",
                ));
            }
            if reason.trim().is_empty() {
                return Err(refuse("invalid_delay", "Cần nêu lý do chậm trễ"));
            }
            // "Chậm nhất 01 ngày trước ngày hết hạn" (NĐ 118/2025 Art. 19(6)): on a local
            // date at least that many days before the due date.
            let latest = engine
                .local_date(state.due_at)
                .checked_sub_days(chrono::Days::new(u64::from(rules.delay_days_before_due)));
            if latest.is_none_or(|d| engine.local_date(at) > d) {
                return Err(refuse(
                    "delay_too_late",
                    format!(
                        "Phải xin lỗi và đề nghị gia hạn chậm nhất {:02} ngày trước ngày hết hạn ({})",
                        rules.delay_days_before_due,
                        engine.local_date(state.due_at).format("%d/%m/%Y")
                    ),
                ));
            }
            if *new_due_at <= state.due_at {
                return Err(refuse(
                    "invalid_delay",
                    "Ngày hẹn mới phải sau thời hạn trả kết quả hiện tại",
                ));
            }
            // A re-appointment extends by at most the statutory time once more, counted
            // from the due moment (no year 9999).
            let latest = engine
                .due_at(state.due_at, &state.time)
                .map_err(|e| refuse("invalid_delay", e.to_string()))?;
            if *new_due_at > latest {
                return Err(refuse(
                    "invalid_delay",
                    format!(
                        "Ngày hẹn mới không được quá thêm một lần thời hạn giải quyết ({}): muộn nhất {}",
                        state.time,
                        latest.with_timezone(&engine.offset).format("%H:%M %d/%m/%Y")
                    ),
                ));
            }
            s.delayed = true;
            s.reappointed_at = Some(*new_due_at);
        }
        Event::Stop { reason } => {
            if !state.is_open() {
                return Err(wrong_state(state, "dừng giải quyết"));
            }
            if reason.trim().is_empty() {
                return Err(refuse(
                    "invalid_stop",
                    "Cần nêu lý do người nộp xin dừng giải quyết",
                ));
            }
            s.clock_stopped_at = None;
            s.status = Status::Stopped;
            s.finished_at = Some(at);
        }
        Event::Close { reason } => {
            if state.status != Status::SupplementRequested {
                return Err(wrong_state(state, "đóng hồ sơ"));
            }
            let (Some(wait), Some(since)) = (rules.supplement_wait_days, state.clock_stopped_at)
            else {
                return Err(refuse(
                    "close_not_allowed",
                    format!("Theo {} không đóng hồ sơ khi chờ bổ sung", rules.name),
                ));
            };
            if !may_close(state, at, rules, engine) {
                let from = close_allowed_on(since, wait, engine)
                    .map(|d| d.format("%d/%m/%Y").to_string())
                    .unwrap_or_default();
                return Err(refuse(
                    "close_too_early",
                    format!(
                        "Chỉ được đóng hồ sơ khi đã quá {wait} ngày kể từ khi yêu cầu bổ sung mà chưa nhận đủ hồ sơ: từ ngày {from}"
                    ),
                ));
            }
            if reason.trim().is_empty() {
                return Err(refuse("invalid_close", "Cần nêu lý do đóng hồ sơ"));
            }
            s.clock_stopped_at = None;
            s.status = Status::Closed;
            s.finished_at = Some(at);
            s.current_step = None;
        }
        Event::Decide {
            outcome, reason, ..
        } => {
            if !matches!(state.status, Status::Received | Status::InProgress) {
                return Err(wrong_state(state, "ra quyết định"));
            }
            if *outcome == Decision::Refused
                && reason.as_deref().is_none_or(|r| r.trim().is_empty())
            {
                return Err(refuse(
                    "missing_reason",
                    "Quyết định từ chối phải nêu rõ lý do",
                ));
            }
            s.status = match outcome {
                Decision::Approved => Status::Approved,
                Decision::Refused => Status::Refused,
            };
        }
        Event::Return { .. } => {
            if !matches!(state.status, Status::Approved | Status::Refused) {
                return Err(wrong_state(state, "trả kết quả"));
            }
            if state.pending_handover.is_some() {
                return Err(refuse(
                    "handover_pending",
                    "Hồ sơ đang chờ tiếp nhận bàn giao",
                ));
            }
            s.status = Status::Returned;
            s.finished_at = Some(at);
            if let Some(i) = s.current_step.take() {
                stage = Some(route::end_stage(&mut s.steps, i, at, engine));
            }
            let by_dates = engine.outcome(at, state.due_at);
            s.outcome = Some(if state.late_by_rule {
                Outcome::Late
            } else {
                by_dates
            });
        }
        Event::Payment { amount, .. } => {
            if *amount <= 0 || *amount > MAX_PAYMENT {
                return Err(refuse(
                    "invalid_payment",
                    "Số tiền phải là số nguyên dương (đồng)",
                ));
            }
        }
        Event::Rate { .. } => {
            if state.status != Status::Returned {
                return Err(wrong_state(state, "đánh giá"));
            }
            if state.rated {
                return Err(refuse(
                    "already_rated",
                    "Hồ sơ đã được đánh giá; mỗi hồ sơ chỉ đánh giá một lần",
                ));
            }
            s.rated = true;
        }
    }
    // A proposal waits for the decision; moving the dossier on ends it.
    if !matches!(
        event,
        Event::Propose { .. }
            | Event::Assign { .. }
            | Event::Delay { .. }
            | Event::Payment { .. }
            | Event::Rate { .. }
    ) {
        s.proposed = false;
    }
    Ok(Applied {
        state: s,
        stage,
        late_request,
    })
}

/// The largest payment accepted, in đồng: beyond this it is surely a typing error.
pub const MAX_PAYMENT: i64 = 1_000_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::calendar::{WorkingCalendar, WorkingHours};
    use chrono::NaiveDate;

    fn cal() -> WorkingCalendar {
        WorkingCalendar::new(WorkingHours::standard(), Vec::new())
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("{s}:00+07:00")).unwrap()
    }

    fn new_rules() -> RuleSet {
        RuleSet {
            id: "nd118-2025".into(),
            name: "NĐ 118/2025".into(),
            from: NaiveDate::from_ymd_opt(2025, 7, 1),
            supplement_requests: 1,
            supplement_clock: SupplementClock::Restart,
            supplement_request_within: Some(TimeLimit {
                amount: 3,
                unit: crate::core::deadline::PeriodUnit::WorkingDays,
            }),
            supplement_wait_days: Some(15),
            delay_days_before_due: 1,
            online_acknowledge_within: None,
            transfer_cutoff: None,
            transfer_grace_minutes: 0,
            transfer_between_levels_within: None,
        }
    }

    fn old_rules() -> RuleSet {
        RuleSet {
            id: "nd61-2018".into(),
            name: "NĐ 61/2018".into(),
            from: None,
            supplement_requests: 0,
            supplement_clock: SupplementClock::Pause,
            supplement_request_within: None,
            supplement_wait_days: None,
            delay_days_before_due: 1,
            online_acknowledge_within: None,
            transfer_cutoff: None,
            transfer_grace_minutes: 0,
            transfer_between_levels_within: None,
        }
    }

    /// Five working days, the statutory time of the dossiers of these tests.
    fn five_days() -> StatutoryTime {
        StatutoryTime::new(5, crate::core::deadline::PeriodUnit::WorkingDays, None).unwrap()
    }

    /// A dossier received at `agency` on Monday 04/03/2030 08:00, due at `due`.
    fn received(agency: &str, due: DateTime<FixedOffset>) -> State {
        State::received(agency, at("2030-03-04T08:00"), five_days(), due)
    }

    /// [`apply_full`] as (state, stage).
    fn full(
        s: &State,
        ev: &Event,
        t: DateTime<FixedOffset>,
        r: &RuleSet,
        e: &Deadlines<'_>,
    ) -> Result<(State, Option<StageResult>), Refusal> {
        apply_full(s, ev, t, r, e).map(|a| (a.state, a.stage))
    }

    fn supplement() -> Event {
        Event::RequestSupplement {
            items: vec!["Giấy chứng sinh".into()],
            reason: "Thiếu bản chính".into(),
        }
    }

    // 2030-03-04 is a Monday with no holiday nearby in the derived calendar; working hours
    // 08:00–12:00 and 13:00–17:00.
    /// The complete supplement under each rule set, for every unit of statutory time, to
    /// the minute: `restart` (NĐ 118/2025 Art. 19(5)) counts the whole time again from the
    /// moment the dossier is complete, as at intake; `pause` (NĐ 61/2018) moves the due
    /// moment by the working time the clock stood still.
    #[test]
    fn a_complete_supplement_restarts_or_resumes_the_clock_by_rule_set() {
        use crate::core::deadline::PeriodUnit::*;
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let cutoff = chrono::NaiveTime::from_hms_opt(15, 0, 0);
        // (unit, amount, cutoff, received, requested, complete, due at receipt,
        //  due after pause, due after restart)
        let table = [
            // 5 working days from Mon 09:00: day 1 Tue 05 … day 5 Mon 11/03, 17:00.
            // Stopped Tue 10:00 → Thu 14:00: 360 + 480 + 300 = 1140 working minutes, from
            // Mon 11 17:00: Tue 12 (480), Wed 13 (480), Thu 14 08:00 + 180 = 11:00.
            // Restart Thu 07 14:00: day 1 Fri 08 … day 5 Thu 14/03, 17:00.
            (
                WorkingDays,
                5,
                None,
                "2030-03-04T09:00",
                "2030-03-05T10:00",
                "2030-03-07T14:00",
                "2030-03-11T17:00",
                "2030-03-14T11:00",
                "2030-03-14T17:00",
            ),
            // 16 working hours from Mon 09:00: 420 + 480 + 60 → Wed 06/03 09:00. Plus 1140:
            // Wed 420, Thu 480, Fri 08:00 + 240 → 12:00. Restart Thu 14:00: 180 + 480 +
            // 240 + 60 → Mon 11/03 14:00.
            (
                WorkingHours,
                16,
                None,
                "2030-03-04T09:00",
                "2030-03-05T10:00",
                "2030-03-07T14:00",
                "2030-03-06T09:00",
                "2030-03-08T12:00",
                "2030-03-11T14:00",
            ),
            // Same day, cut-off 15:00: received Mon 09:00 → Mon 17:00. Stopped Mon 10:00 →
            // Tue 14:00: 360 + 300 = 660, from Mon 17:00: Tue 480, Wed 08:00 + 180 = 11:00.
            // Restart Tue 14:00, before the cut-off: Tue 17:00.
            (
                SameDay,
                0,
                cutoff,
                "2030-03-04T09:00",
                "2030-03-04T10:00",
                "2030-03-05T14:00",
                "2030-03-04T17:00",
                "2030-03-06T11:00",
                "2030-03-05T17:00",
            ),
            // The same with the supplement after the cut-off (Tue 15:30): stopped 360 + 390
            // = 750 → Tue 480, Wed 270 → 08:00 + 240 + 30 → 13:30. Restart: Wed 17:00.
            (
                SameDay,
                0,
                cutoff,
                "2030-03-04T09:00",
                "2030-03-04T10:00",
                "2030-03-05T15:30",
                "2030-03-04T17:00",
                "2030-03-06T13:30",
                "2030-03-06T17:00",
            ),
            // 10 days from Mon 04: Thu 14/03, a working day, 17:00. Plus 1140: Fri 15 (480),
            // Mon 18 (480), Tue 19 08:00 + 180 = 11:00. Restart Thu 07: the 10th day is
            // Sun 17/03, rolled to Mon 18/03 (Civil Code Art. 148(5)).
            (
                CalendarDays,
                10,
                None,
                "2030-03-04T09:00",
                "2030-03-05T10:00",
                "2030-03-07T14:00",
                "2030-03-14T17:00",
                "2030-03-19T11:00",
                "2030-03-18T17:00",
            ),
        ];
        for (unit, amount, cutoff, rec, req, back, due0, paused, restarted) in table {
            let time = StatutoryTime::new(amount, unit, cutoff).unwrap();
            let due = e.due_at(at(rec), &time).unwrap();
            assert_eq!(due, at(due0), "{unit} at receipt");
            for (rules, want) in [(old_rules(), paused), (new_rules(), restarted)] {
                let s = State::received("X", at(rec), time, due);
                let s = apply(&s, &supplement(), at(req), &rules, &e).unwrap();
                assert_eq!(s.status, Status::SupplementRequested);
                assert_eq!(s.due_at, at(due0), "nothing moves while waiting");
                let s = apply(
                    &s,
                    &Event::SupplementReceived { papers: vec![] },
                    at(back),
                    &rules,
                    &e,
                )
                .unwrap();
                assert_eq!(
                    s.due_at,
                    at(want),
                    "{unit} {amount} under {}",
                    rules.supplement_clock.as_str()
                );
                assert_eq!(s.status, Status::InProgress);
                assert_eq!(s.clock_stopped_at, None);
            }
        }
        // Once only under NĐ 118/2025 (Art. 11(2)(c)).
        let s = received("X", at("2030-03-08T17:00"));
        let s = apply(&s, &supplement(), at("2030-03-05T10:00"), &new_rules(), &e).unwrap();
        let s = apply(
            &s,
            &Event::SupplementReceived { papers: vec![] },
            at("2030-03-07T10:00"),
            &new_rules(),
            &e,
        )
        .unwrap();
        let err = apply(&s, &supplement(), at("2030-03-07T11:00"), &new_rules(), &e).unwrap_err();
        assert_eq!(err.code, "supplement_limit");
    }

    #[test]
    fn a_restart_spreads_the_new_time_over_the_open_steps_and_moves_a_reappointment() {
        use crate::core::route::{plan, PlannedStep};
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let step = |a: &str, share| PlannedStep {
            name: a.into(),
            agency: a.into(),
            role: "official".into(),
            share,
        };
        let rec = at("2030-03-04T08:00");
        let due = at("2030-03-08T17:00");
        let steps = plan(&[step("C", 10), step("L", 60), step("C", 30)], rec, due, &e).unwrap();
        let s = State::received("C", rec, five_days(), due).with_route(steps, rec);
        let r = new_rules();
        let s = apply(
            &s,
            &Event::Handover {
                to_agency: "L".into(),
                to_user: None,
                electronic: true,
                note: None,
            },
            at("2030-03-04T10:00"),
            &r,
            &e,
        )
        .unwrap();
        let s = apply(&s, &Event::Accept, at("2030-03-04T11:00"), &r, &e).unwrap();
        let s = apply(&s, &supplement(), at("2030-03-05T09:00"), &r, &e).unwrap();
        let s = apply(
            &s,
            &Event::SupplementReceived { papers: vec![] },
            at("2030-03-06T10:00"),
            &r,
            &e,
        )
        .unwrap();
        // Again 5 working days from Wed 06/03 10:00: due Wed 13/03 17:00; 360 + 5 × 480
        // = 2760 working minutes over the open steps' shares 60 / 30: 1840 = 360 + 3 ×
        // 480 + 40 → Tue 12/03 08:40; the last at the new due moment.
        assert_eq!(s.due_at, at("2030-03-13T17:00"));
        assert_eq!(
            s.steps[0].due_at,
            at("2030-03-04T12:00"),
            "step 1 had ended"
        );
        assert_eq!(s.steps[1].due_at, at("2030-03-12T08:40"));
        assert_eq!(s.steps[2].due_at, at("2030-03-13T17:00"));
        // A re-appointment given before the supplement keeps its distance past the due.
        let mut d = received("X", at("2030-03-08T17:00"));
        d.reappointed_at = Some(at("2030-03-11T12:00"));
        d.delayed = true;
        let d = apply(&d, &supplement(), at("2030-03-05T09:00"), &r, &e).unwrap();
        let d = apply(
            &d,
            &Event::SupplementReceived { papers: vec![] },
            at("2030-03-06T10:00"),
            &r,
            &e,
        )
        .unwrap();
        assert_eq!(d.reappointed_at, Some(at("2030-03-14T12:00")));
    }

    #[test]
    fn a_request_on_the_third_working_day_is_not_late_on_the_fourth_it_is() {
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let r = new_rules();
        // Received Mon 04/03 10:00: days 1–3 are Tue, Wed, Thu; the limit is Thu 17:00.
        let rec = at("2030-03-04T10:00");
        let by = supplement_request_by(rec, r.supplement_request_within.as_ref(), &e).unwrap();
        assert_eq!(by, Some(at("2030-03-07T17:00")));
        let s = State::received("X", rec, five_days(), at("2030-03-11T17:00"))
            .with_supplement_request_by(by);
        for (when, late) in [
            ("2030-03-04T15:00", false),
            ("2030-03-07T16:30", false),
            ("2030-03-07T17:00", false),
            ("2030-03-08T08:00", true),
            ("2030-03-08T16:00", true),
        ] {
            let a = apply_full(&s, &supplement(), at(when), &r, &e).unwrap();
            assert_eq!(a.late_request, late, "{when}");
            assert_eq!(
                a.state.status,
                Status::SupplementRequested,
                "accepted either way"
            );
        }
        // Without a limit (old rules) no request is late.
        let s = s.with_supplement_request_by(None);
        assert!(
            !apply_full(&s, &supplement(), at("2030-03-20T09:00"), &old_rules(), &e)
                .unwrap()
                .late_request
        );
    }

    #[test]
    fn close_on_day_14_is_refused_on_day_15_it_is_allowed() {
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let r = new_rules();
        let close = Event::Close {
            reason: "Quá 15 ngày chưa bổ sung".into(),
        };
        let s = received("X", at("2030-03-11T17:00"));
        // Not waiting for a supplement: nothing to close.
        assert_eq!(
            apply(&s, &close, at("2030-03-20T09:00"), &r, &e)
                .unwrap_err()
                .code,
            "invalid_state"
        );
        // Requested Tue 05/03 (day 0): day 14 is Tue 19/03, day 15 Wed 20/03.
        let s = apply(&s, &supplement(), at("2030-03-05T10:00"), &r, &e).unwrap();
        assert!(!may_close(&s, at("2030-03-19T16:59"), &r, &e));
        assert!(may_close(&s, at("2030-03-20T08:00"), &r, &e));
        let err = apply(&s, &close, at("2030-03-19T16:00"), &r, &e).unwrap_err();
        assert_eq!(err.code, "close_too_early");
        assert!(err.message.contains("20/03/2030"), "{}", err.message);
        assert_eq!(
            apply(
                &s,
                &Event::Close { reason: " ".into() },
                at("2030-03-20T08:00"),
                &r,
                &e
            )
            .unwrap_err()
            .code,
            "invalid_close"
        );
        let closed = apply(&s, &close, at("2030-03-20T08:00"), &r, &e).unwrap();
        assert_eq!(closed.status, Status::Closed);
        assert_eq!(closed.finished_at, Some(at("2030-03-20T08:00")));
        assert_eq!(closed.outcome, None, "neither finished nor late");
        assert_eq!(closed.clock_stopped_at, None);
        for ev in [
            Event::SupplementReceived { papers: vec![] },
            Event::Return {
                channel: Channel::Counter,
            },
            close.clone(),
        ] {
            assert_eq!(
                apply(&closed, &ev, at("2030-03-21T08:00"), &r, &e)
                    .unwrap_err()
                    .code,
                "dossier_closed"
            );
        }
        // The old rules have no closing.
        let s = apply(
            &received("X", at("2030-03-11T17:00")),
            &supplement(),
            at("2030-03-05T10:00"),
            &old_rules(),
            &e,
        )
        .unwrap();
        assert_eq!(
            apply(&s, &close, at("2030-04-30T08:00"), &old_rules(), &e)
                .unwrap_err()
                .code,
            "close_not_allowed"
        );
    }

    #[test]
    fn a_new_date_goes_no_further_than_the_statutory_time_once_more() {
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let r = new_rules();
        // Due Fri 08/03 17:00, five working days: at most Fri 15/03 17:00.
        let s = received("X", at("2030-03-08T17:00"));
        let delay = |to: DateTime<FixedOffset>| Event::Delay {
            reason: "Chờ ý kiến".into(),
            new_due_at: to,
        };
        assert!(apply(
            &s,
            &delay(at("2030-03-15T17:00")),
            at("2030-03-05T09:00"),
            &r,
            &e
        )
        .is_ok());
        for too_far in [
            at("2030-03-15T17:01"),
            DateTime::parse_from_rfc3339("9999-12-31T17:00:00+07:00").unwrap(),
        ] {
            assert_eq!(
                apply(&s, &delay(too_far), at("2030-03-05T09:00"), &r, &e)
                    .unwrap_err()
                    .code,
                "invalid_delay"
            );
        }
    }

    #[test]
    fn a_delay_is_given_at_the_latest_the_day_before_the_due_date() {
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let r = new_rules();
        let s = received("X", at("2030-03-08T17:00"));
        let delay = Event::Delay {
            reason: "Chờ ý kiến cơ quan phối hợp".into(),
            new_due_at: at("2030-03-13T17:00"),
        };
        // The day before the due date, late in the afternoon: allowed.
        assert!(apply(&s, &delay, at("2030-03-07T16:30"), &r, &e).is_ok());
        assert!(apply(&s, &delay, at("2030-03-07T23:59"), &r, &e).is_ok());
        // On the due date itself, even first thing in the morning: refused.
        for when in ["2030-03-08T00:00", "2030-03-08T08:00", "2030-03-08T16:59"] {
            let err = apply(&s, &delay, at(when), &r, &e).unwrap_err();
            assert_eq!(err.code, "delay_too_late", "{when}");
            assert!(err.message.contains("08/03/2030"), "{}", err.message);
        }
    }

    #[test]
    fn a_second_supplement_under_old_rules_makes_the_dossier_late() {
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let mut s = received("X", at("2030-03-15T17:00"));
        for (req, back) in [
            ("2030-03-05T09:00", "2030-03-05T10:00"),
            ("2030-03-06T09:00", "2030-03-06T10:00"),
        ] {
            s = apply(&s, &supplement(), at(req), &old_rules(), &e).unwrap();
            s = apply(
                &s,
                &Event::SupplementReceived { papers: vec![] },
                at(back),
                &old_rules(),
                &e,
            )
            .unwrap();
        }
        s = apply(
            &s,
            &Event::Decide {
                outcome: Decision::Approved,
                reason: None,
                result: None,
            },
            at("2030-03-07T09:00"),
            &old_rules(),
            &e,
        )
        .unwrap();
        s = apply(
            &s,
            &Event::Return {
                channel: Channel::Counter,
            },
            at("2030-03-07T10:00"),
            &old_rules(),
            &e,
        )
        .unwrap();
        assert_eq!(s.outcome, Some(Outcome::Late));
    }

    #[test]
    fn a_kept_reappointment_is_still_late() {
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let s = received("X", at("2030-03-08T17:00"));
        let late_delay = Event::Delay {
            reason: "Chờ ý kiến".into(),
            new_due_at: at("2030-03-13T17:00"),
        };
        assert_eq!(
            apply(&s, &late_delay, at("2030-03-08T09:00"), &new_rules(), &e)
                .unwrap_err()
                .code,
            "delay_too_late"
        );
        let s = apply(&s, &late_delay, at("2030-03-06T09:00"), &new_rules(), &e).unwrap();
        assert_eq!(
            apply(&s, &late_delay, at("2030-03-06T10:00"), &new_rules(), &e)
                .unwrap_err()
                .code,
            "delay_already_given"
        );
        let s = apply(
            &s,
            &Event::Decide {
                outcome: Decision::Approved,
                reason: None,
                result: None,
            },
            at("2030-03-12T09:00"),
            &new_rules(),
            &e,
        )
        .unwrap();
        let s = apply(
            &s,
            &Event::Return {
                channel: Channel::Counter,
            },
            at("2030-03-12T10:00"),
            &new_rules(),
            &e,
        )
        .unwrap();
        assert_eq!(s.outcome, Some(Outcome::Late));
        assert_eq!(s.reappointment_kept(), Some(true));
        assert_eq!(
            s.due_at,
            at("2030-03-08T17:00"),
            "the statutory due moment stays"
        );
    }

    #[test]
    fn forbidden_transitions() {
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let r = new_rules();
        let s = received("X", at("2030-03-08T17:00"));
        let t = at("2030-03-05T09:00");
        assert_eq!(
            apply(
                &s,
                &Event::Return {
                    channel: Channel::Counter
                },
                t,
                &r,
                &e
            )
            .unwrap_err()
            .code,
            "invalid_state"
        );
        assert_eq!(
            apply(&s, &Event::Accept, t, &r, &e).unwrap_err().code,
            "no_pending_handover"
        );
        assert_eq!(
            apply(&s, &Event::Resume, t, &r, &e).unwrap_err().code,
            "invalid_state"
        );
        assert_eq!(
            apply(
                &s,
                &Event::Decide {
                    outcome: Decision::Refused,
                    reason: None,
                    result: None,
                },
                t,
                &r,
                &e
            )
            .unwrap_err()
            .code,
            "missing_reason"
        );
        let done = apply(
            &s,
            &Event::Decide {
                outcome: Decision::Approved,
                reason: None,
                result: None,
            },
            t,
            &r,
            &e,
        )
        .unwrap();
        let returned = apply(
            &done,
            &Event::Return {
                channel: Channel::Online,
            },
            t,
            &r,
            &e,
        )
        .unwrap();
        assert_eq!(returned.outcome, Some(Outcome::Early));
        assert_eq!(
            apply(
                &returned,
                &Event::Return {
                    channel: Channel::Online
                },
                t,
                &r,
                &e
            )
            .unwrap_err()
            .code,
            "invalid_state",
            "a second return is refused: the outcome is fixed"
        );
        assert_eq!(
            apply(
                &done,
                &Event::Stop {
                    reason: "Xin rút".into()
                },
                t,
                &r,
                &e
            )
            .unwrap_err()
            .code,
            "invalid_state",
            "no stop once decided"
        );
        let stopped = apply(
            &s,
            &Event::Stop {
                reason: "Xin rút".into(),
            },
            t,
            &r,
            &e,
        )
        .unwrap();
        for ev in [
            Event::Accept,
            Event::Resume,
            supplement(),
            Event::Decide {
                outcome: Decision::Approved,
                reason: None,
                result: None,
            },
        ] {
            assert_eq!(
                apply(&stopped, &ev, t, &r, &e).unwrap_err().code,
                "dossier_stopped"
            );
        }
    }

    #[test]
    fn a_proposal_waits_for_the_decision_and_moving_on_ends_it() {
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let r = new_rules();
        let t = at("2030-03-04T10:00");
        let s = received("WARD", at("2030-03-08T17:00"));
        let propose = Event::Propose { note: None };
        let p = apply(&s, &propose, t, &r, &e).unwrap();
        assert!(p.proposed);
        assert_eq!(
            apply(&p, &propose, t, &r, &e).unwrap_err().code,
            "already_proposed"
        );
        let reason = || "x".to_string();
        // Kept by what does not move the dossier; ended by what does.
        for (ev, kept) in [
            (Event::Assign { user: "a".into() }, true),
            (
                Event::Payment {
                    amount: 1,
                    method: PaymentMethod::Cash,
                    reference: None,
                },
                true,
            ),
            (
                Event::Decide {
                    outcome: Decision::Approved,
                    reason: None,
                    result: None,
                },
                false,
            ),
            (
                Event::RequestSupplement {
                    items: vec![reason()],
                    reason: reason(),
                },
                false,
            ),
            (
                Event::Pause {
                    reason: reason(),
                    legal_basis: reason(),
                },
                false,
            ),
            (Event::Stop { reason: reason() }, false),
            (
                Event::Handover {
                    to_agency: "CITY".into(),
                    to_user: None,
                    electronic: true,
                    note: None,
                },
                false,
            ),
        ] {
            let after = apply(&p, &ev, t, &r, &e).unwrap();
            assert_eq!(after.proposed, kept, "{ev:?}");
        }
        // Not while a hand-over waits, nor once decided.
        let pending = apply(
            &s,
            &Event::Handover {
                to_agency: "CITY".into(),
                to_user: None,
                electronic: true,
                note: None,
            },
            t,
            &r,
            &e,
        )
        .unwrap();
        assert_eq!(
            apply(&pending, &propose, t, &r, &e).unwrap_err().code,
            "handover_pending"
        );
        let decided = apply(
            &s,
            &Event::Decide {
                outcome: Decision::Approved,
                reason: None,
                result: None,
            },
            t,
            &r,
            &e,
        )
        .unwrap();
        assert_eq!(
            apply(&decided, &propose, t, &r, &e).unwrap_err().code,
            "invalid_state"
        );
    }

    #[test]
    fn handover_then_accept_moves_the_dossier() {
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let r = new_rules();
        let s = received("COUNTER", at("2030-03-08T17:00"));
        let h = Event::Handover {
            to_agency: "LAND".into(),
            to_user: None,
            electronic: true,
            note: None,
        };
        let s = apply(&s, &h, at("2030-03-04T10:00"), &r, &e).unwrap();
        assert_eq!(s.current_agency, "COUNTER");
        assert_eq!(
            apply(&s, &h, at("2030-03-04T10:05"), &r, &e)
                .unwrap_err()
                .code,
            "handover_pending"
        );
        let s = apply(&s, &Event::Accept, at("2030-03-04T11:00"), &r, &e).unwrap();
        assert_eq!(
            (s.current_agency.as_str(), s.status),
            ("LAND", Status::InProgress)
        );
    }

    #[test]
    fn the_route_follows_hand_overs_and_rating_comes_once_after_return() {
        use crate::core::route::{plan, PlannedStep};
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let step = |a: &str, share| PlannedStep {
            name: a.into(),
            agency: a.into(),
            role: "official".into(),
            share,
        };
        let received = at("2030-03-04T08:00");
        let due = at("2030-03-08T17:00");
        let steps = plan(
            &[step("C", 10), step("L", 60), step("C", 30)],
            received,
            due,
            &e,
        )
        .unwrap();
        let s = State::received("C", received, five_days(), due).with_route(steps, received);
        assert_eq!(s.current_step, Some(0));
        let r = new_rules();
        let handover = |to: &str| Event::Handover {
            to_agency: to.into(),
            to_user: None,
            electronic: true,
            note: None,
        };
        let (s, st) = full(&s, &handover("L"), at("2030-03-04T11:00"), &r, &e).unwrap();
        let st = st.unwrap();
        assert_eq!((st.steps, st.outcome), (vec![1], Outcome::OnTime));
        assert_eq!(s.current_step, None);
        let s = apply(&s, &Event::Accept, at("2030-03-04T13:00"), &r, &e).unwrap();
        assert_eq!(s.current_step, Some(1));
        // Rating before return is refused; a payment is recorded in any open state.
        let rate = Event::Rate {
            score: Satisfaction::Satisfied,
            comment: None,
        };
        assert_eq!(
            apply(&s, &rate, at("2030-03-04T14:00"), &r, &e)
                .unwrap_err()
                .code,
            "invalid_state"
        );
        let pay = |amount| Event::Payment {
            amount,
            method: PaymentMethod::Online,
            reference: None,
        };
        assert!(apply(&s, &pay(50_000), at("2030-03-04T14:00"), &r, &e).is_ok());
        assert_eq!(
            apply(&s, &pay(0), at("2030-03-04T14:00"), &r, &e)
                .unwrap_err()
                .code,
            "invalid_payment"
        );
        // Step 2 due: 2400 × 70 % = 1680 = 3 × 480 + 240 min → Thu 2030-03-07 12:00; handed back Friday: late.
        assert_eq!(s.steps[1].due_at, at("2030-03-07T12:00"));
        let s = apply(
            &s,
            &Event::Decide {
                outcome: Decision::Approved,
                reason: None,
                result: None,
            },
            at("2030-03-08T09:00"),
            &r,
            &e,
        )
        .unwrap();
        let (s, st) = full(&s, &handover("C"), at("2030-03-08T09:30"), &r, &e).unwrap();
        assert_eq!(st.unwrap().outcome, Outcome::Late);
        let s = apply(&s, &Event::Accept, at("2030-03-08T10:00"), &r, &e).unwrap();
        assert_eq!(s.current_step, Some(2));
        let (s, st) = full(
            &s,
            &Event::Return {
                channel: Channel::Counter,
            },
            at("2030-03-08T16:00"),
            &r,
            &e,
        )
        .unwrap();
        assert_eq!(st.unwrap().outcome, Outcome::OnTime);
        assert_eq!(s.outcome, Some(Outcome::OnTime));
        let s = apply(&s, &rate, at("2030-03-09T09:00"), &r, &e).unwrap();
        assert_eq!(
            apply(&s, &rate, at("2030-03-09T09:05"), &r, &e)
                .unwrap_err()
                .code,
            "already_rated"
        );
    }
}
