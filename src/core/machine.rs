//! The dossier's state machine (NĐ 118/2025 Art. 9–20; DOMAIN.md section 4): which event
//! may happen in which state, and what it changes. Pure: the caller passes the moment and
//! the deadline engine; persistence and authorisation of actors live elsewhere.
//!
//! The clock stops during a supplement request (*yêu cầu bổ sung*) and a pause (*tạm
//! dừng*); when it restarts, the due moment moves later by the working minutes stopped.
//! A delay (*xin lỗi và hẹn lại*) keeps the statutory due moment for statistics and sets
//! `reappointed_at`. The outcome is fixed once, at return (or stop), and never changes.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::deadline::{Deadlines, Outcome};
use super::dossier::{Channel, RuleSet, Status};
use super::route::{self, StageResult, Step};

/// An event of the dossier's life (*sự kiện*), as requested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
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
}

impl State {
    /// A dossier just received at `agency`, due at `due_at`.
    pub fn received(agency: &str, due_at: DateTime<FixedOffset>) -> Self {
        Self {
            status: Status::Received,
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
        }
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

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
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

/// Applies `event` at moment `at` under `rules`; the new state, or why not.
pub fn apply(
    state: &State,
    event: &Event,
    at: DateTime<FixedOffset>,
    rules: &RuleSet,
    engine: &Deadlines<'_>,
) -> Result<State, Refusal> {
    apply_full(state, event, at, rules, engine).map(|(s, _)| s)
}

/// [`apply`], also giving the result of the route stage that the event ended (a
/// hand-over or the return), if any.
pub fn apply_full(
    state: &State,
    event: &Event,
    at: DateTime<FixedOffset>,
    rules: &RuleSet,
    engine: &Deadlines<'_>,
) -> Result<(State, Option<StageResult>), Refusal> {
    let mut s = state.clone();
    let mut stage = None;
    if state.status == Status::Stopped {
        return Err(refuse(
            "dossier_stopped",
            "Hồ sơ đã dừng giải quyết: không ghi nhận thêm sự kiện",
        ));
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
            s.status = Status::SupplementRequested;
            s.clock_stopped_at = Some(at);
        }
        Event::SupplementReceived { .. } => {
            if state.status != Status::SupplementRequested {
                return Err(wrong_state(state, "nhận hồ sơ bổ sung"));
            }
            restart(&mut s)?;
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
            // At least one working day before the due moment (NĐ 118/2025 Art. 19).
            let left = engine.working_minutes_between(at, state.due_at);
            if at >= state.due_at || left < engine.calendar.hours().minutes_per_day() {
                return Err(refuse(
                    "delay_too_late",
                    "Phải xin lỗi và hẹn lại chậm nhất 01 ngày làm việc trước thời hạn trả kết quả",
                ));
            }
            if *new_due_at <= state.due_at {
                return Err(refuse(
                    "invalid_delay",
                    "Ngày hẹn mới phải sau thời hạn trả kết quả hiện tại",
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
    Ok((s, stage))
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
        }
    }

    fn old_rules() -> RuleSet {
        RuleSet {
            id: "nd61-2018".into(),
            name: "NĐ 61/2018".into(),
            from: None,
            supplement_requests: 0,
        }
    }

    fn supplement() -> Event {
        Event::RequestSupplement {
            items: vec!["Giấy chứng sinh".into()],
            reason: "Thiếu bản chính".into(),
        }
    }

    // 2030-03-04 is a Monday with no holiday nearby in the derived calendar.
    #[test]
    fn supplement_stops_the_clock_once_under_current_rules() {
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let s = State::received("X", at("2030-03-08T17:00"));
        let s = apply(&s, &supplement(), at("2030-03-05T10:00"), &new_rules(), &e).unwrap();
        assert_eq!(s.status, Status::SupplementRequested);
        // Two working days later the supplement arrives: due moves two working days.
        let s = apply(
            &s,
            &Event::SupplementReceived { papers: vec![] },
            at("2030-03-07T10:00"),
            &new_rules(),
            &e,
        )
        .unwrap();
        assert_eq!(s.due_at, at("2030-03-12T17:00"));
        assert_eq!(s.status, Status::InProgress);
        let err = apply(&s, &supplement(), at("2030-03-07T11:00"), &new_rules(), &e).unwrap_err();
        assert_eq!(err.code, "supplement_limit");
    }

    #[test]
    fn a_second_supplement_under_old_rules_makes_the_dossier_late() {
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let mut s = State::received("X", at("2030-03-15T17:00"));
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
        let s = State::received("X", at("2030-03-08T17:00"));
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
        let s = State::received("X", at("2030-03-08T17:00"));
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
    fn handover_then_accept_moves_the_dossier() {
        let c = cal();
        let e = Deadlines::new(&c, *at("2030-03-04T09:00").offset());
        let r = new_rules();
        let s = State::received("COUNTER", at("2030-03-08T17:00"));
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
        let s = State::received("C", due).with_route(steps, received);
        assert_eq!(s.current_step, Some(0));
        let r = new_rules();
        let handover = |to: &str| Event::Handover {
            to_agency: to.into(),
            to_user: None,
            electronic: true,
            note: None,
        };
        let (s, st) = apply_full(&s, &handover("L"), at("2030-03-04T11:00"), &r, &e).unwrap();
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
        let (s, st) = apply_full(&s, &handover("C"), at("2030-03-08T09:30"), &r, &e).unwrap();
        assert_eq!(st.unwrap().outcome, Outcome::Late);
        let s = apply(&s, &Event::Accept, at("2030-03-08T10:00"), &r, &e).unwrap();
        assert_eq!(s.current_step, Some(2));
        let (s, st) = apply_full(
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
