//! Work queues (*hàng đợi xử lý*): what waits at the caller's agency for their role,
//! soonest due first, with the working time left and a flag.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use super::views::{DossierView, ProgressView, StepView};
use super::{Caller, Role};
use crate::app::App;
use crate::core::dossier::Status;
use crate::core::machine::close_allowed_on;
use crate::error::{AppError, AppResult};
use crate::store::from_db;

/// How urgent a queued dossier is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Ok,
    /// At most one working day left.
    DueSoon,
    Overdue,
    /// Waiting for a supplement longer than the rule set allows: the receiving one-stop
    /// desk closes it (*đóng hồ sơ*, NĐ 118/2025 Art. 19(5)).
    ToClose,
}

/// An online submission is flagged due soon when this many working minutes or fewer are
/// left to answer it.
pub const ACKNOWLEDGE_SOON_MINUTES: i64 = 120;

/// One line of a queue.
#[derive(Debug, Clone)]
pub struct QueueItem {
    pub dossier: DossierView,
    pub progress: ProgressView,
    /// Working minutes left until the due moment (negative when overdue; frozen while
    /// the clock is stopped).
    pub remaining_minutes: i64,
    pub urgency: Urgency,
    /// The step of the route the dossier is in at this agency, with the working minutes
    /// left until the step's own due moment and its flag.
    pub step: Option<(StepView, i64, Urgency)>,
    /// Whether the dossier is in the caller's scope; `false` for one a hand-over is only
    /// pending to: the queue shows it to be accepted, but not the applicant's personal
    /// data (the staff read answers 404 until the hand-over is accepted).
    pub in_scope: bool,
}

/// Filters of a queue.
#[derive(Debug, Clone, Default)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub procedure: Option<String>,
    /// `me` or a username.
    pub assignee: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// The statuses each role works on.
pub fn statuses_for(role: Role) -> &'static [Status] {
    match role {
        Role::Clerk => &[
            Status::Submitted,
            Status::Received,
            Status::SupplementRequested,
            Status::Approved,
            Status::Refused,
        ],
        Role::Official => &[
            Status::Received,
            Status::InProgress,
            Status::SupplementRequested,
            Status::Paused,
        ],
        Role::Leader => &[
            Status::InProgress,
            Status::Paused,
            Status::Approved,
            Status::Refused,
        ],
        _ => &[],
    }
}

impl App {
    /// Working minutes from `now` to `due` (negative past it) and the flag: due soon within
    /// one working day.
    pub fn urgency(
        &self,
        now: DateTime<FixedOffset>,
        due: DateTime<FixedOffset>,
    ) -> (i64, Urgency) {
        self.urgency_within(now, due, self.calendar.hours().minutes_per_day())
    }

    /// [`App::urgency`] with the due-soon threshold `soon`, in working minutes.
    pub fn urgency_within(
        &self,
        now: DateTime<FixedOffset>,
        due: DateTime<FixedOffset>,
        soon: i64,
    ) -> (i64, Urgency) {
        let e = self.deadlines();
        if now > due {
            return (-e.working_minutes_between(due, now), Urgency::Overdue);
        }
        let left = e.working_minutes_between(now, due);
        let flag = if left <= soon {
            Urgency::DueSoon
        } else {
            Urgency::Ok
        };
        (left, flag)
    }

    /// The caller's queue.
    pub fn queue_for(
        &self,
        caller: &Caller,
        q: &QueueQuery,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<QueueItem>> {
        let QueueQuery {
            status,
            procedure,
            assignee,
            limit,
            offset,
        } = q;
        let (status, procedure, assignee, limit, offset) = (
            status.as_deref(),
            procedure.as_deref(),
            assignee.as_deref(),
            *limit,
            *offset,
        );
        let mut statuses: Vec<&str> = statuses_for(caller.role)
            .iter()
            .map(|s| s.as_str())
            .collect();
        if statuses.is_empty() {
            return Err(AppError::forbidden("Vai trò này không có hàng đợi xử lý"));
        }
        if let Some(s) = status {
            if Status::parse(s).is_none() {
                return Err(AppError::bad_request(
                    "invalid_status",
                    format!("Trạng thái \"{s}\" không tồn tại"),
                ));
            }
            statuses.retain(|x| *x == s);
        }
        if !(1..=200).contains(&limit) || offset < 0 {
            return Err(AppError::bad_request(
                "invalid_limit",
                "limit phải từ 1 đến 200, offset không âm",
            ));
        }
        let assignee = match assignee {
            Some("me") => Some(caller.username.as_str()),
            other => other,
        };
        let offset_tz = self.settings.offset;
        let now = now.with_timezone(&offset_tz);
        let engine = self.deadlines();
        // The receiving desk's clerks also see, wherever they wait, the dossiers whose
        // supplement has not come within their rule set's wait: requested before the
        // start of the day `wait − 1` days ago.
        let to_close: Vec<(String, chrono::NaiveDateTime)> = if caller.role == Role::Clerk
            && (status.is_none() || status == Some(Status::SupplementRequested.as_str()))
        {
            self.rule_sets
                .iter()
                .filter_map(|r| {
                    let wait = r.supplement_wait_days?;
                    let day = engine
                        .local_date(now)
                        .checked_sub_days(chrono::Days::new(u64::from(wait) - 1))?;
                    let start = crate::core::calendar::start_of_day_utc(day, offset_tz);
                    Some((r.id.clone(), crate::store::to_db(start)))
                })
                .collect()
        } else {
            Vec::new()
        };
        let rows = self.store.queue(
            &caller.agency,
            &statuses,
            &to_close,
            procedure,
            assignee,
            limit,
            offset,
        )?;
        let codes: Vec<String> = rows
            .iter()
            .filter(|(_, p)| p.current_step.is_some())
            .map(|(d, _)| d.code.clone())
            .collect();
        let mut steps = self.store.steps_of_many(&codes)?;
        Ok(rows
            .into_iter()
            .map(|(d, p)| {
                let at = p
                    .clock_stopped_at
                    .map(|t| from_db(t).with_timezone(&offset_tz))
                    .unwrap_or(now);
                // Received: against its due moment. An online submission: against the
                // desk's limit to answer it, due soon within 2 working hours.
                let (remaining_minutes, mut urgency) = match (d.due_at, p.acknowledge_by) {
                    (Some(due), _) => self.urgency(at, from_db(due).with_timezone(&offset_tz)),
                    (None, Some(by)) => self.urgency_within(
                        at,
                        from_db(by).with_timezone(&offset_tz),
                        ACKNOWLEDGE_SOON_MINUTES,
                    ),
                    (None, None) => (0, Urgency::Ok),
                };
                let closable = caller.role == Role::Clerk
                    && d.receiving_agency == caller.agency
                    && d.status == Status::SupplementRequested.as_str()
                    && match (
                        self.rule_sets.iter().find(|r| r.id == d.rule_set),
                        p.clock_stopped_at,
                    ) {
                        (Some(r), Some(since)) => r.supplement_wait_days.is_some_and(|w| {
                            close_allowed_on(from_db(since).with_timezone(&offset_tz), w, &engine)
                                .is_some_and(|day| engine.local_date(now) >= day)
                        }),
                        _ => false,
                    };
                if closable {
                    urgency = Urgency::ToClose;
                }
                let step = p.current_step.and_then(|i| {
                    let pos = steps
                        .iter()
                        .position(|s| s.dossier_code == d.code && s.no == i + 1)?;
                    let s = steps.swap_remove(pos);
                    let (left, flag) =
                        self.urgency(at, from_db(s.due_at).with_timezone(&offset_tz));
                    Some((StepView::from(s), left, flag))
                });
                let in_scope = self.may_see(caller, &d, &[]);
                QueueItem {
                    dossier: d.into(),
                    progress: p.into(),
                    remaining_minutes,
                    urgency,
                    step,
                    in_scope,
                }
            })
            .collect())
    }
}
