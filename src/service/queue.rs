//! Work queues (*hàng đợi xử lý*): what waits at the caller's agency for their role,
//! soonest due first, with the working time left and a flag.

use crate::service::dossiers::MAX_OFFSET;
use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::views::{DossierView, ProgressView, StepView};
use super::{Caller, Role};
use crate::app::App;
use crate::core::dossier::Status;
use crate::core::machine::close_allowed_on;
use crate::error::{AppError, AppResult};
use crate::store::dossiers::{QueueLineRow, QueueProgressRow};
use crate::store::from_db;

/// How urgent a queued dossier is: `ok`, `due_soon` (at most one working day left; for
/// an online submission not received yet, two working hours to the desk's limit),
/// `overdue`, or `to_close` (its supplement has not come within the rule set's wait).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// More than a working day left.
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
    /// For each rule set with a wait for supplements, the moment before which a
    /// supplement requested and still missing makes the dossier closable at `now`
    /// (NĐ 118/2025 Art. 19(5)): the start of the day `wait − 1` days ago.
    fn close_before(&self, now: DateTime<FixedOffset>) -> Vec<(String, chrono::NaiveDateTime)> {
        let engine = self.deadlines();
        self.rule_sets
            .iter()
            .filter_map(|r| {
                let wait = r.supplement_wait_days?;
                let day = engine
                    .local_date(now)
                    .checked_sub_days(chrono::Days::new(u64::from(wait) - 1))?;
                let start = crate::core::calendar::start_of_day_utc(day, self.settings.offset);
                Some((r.id.clone(), crate::store::to_db(start)))
            })
            .collect()
    }

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
        if !(1..=200).contains(&limit) || !(0..=MAX_OFFSET).contains(&offset) {
            return Err(AppError::bad_request(
                "invalid_limit",
                format!("limit phải từ 1 đến 200, offset từ 0 đến {MAX_OFFSET}"),
            ));
        }
        let assignee = match assignee {
            Some("me") => Some(caller.username.as_str()),
            other => other,
        };
        let offset_tz = self.settings.offset;
        let now = now.with_timezone(&offset_tz);
        // The receiving desk's clerks also see, wherever they wait, the dossiers whose
        // supplement has not come within their rule set's wait: requested before the
        // start of the day `wait − 1` days ago.
        let to_close: Vec<(String, chrono::NaiveDateTime)> = if caller.role == Role::Clerk
            && (status.is_none() || status == Some(Status::SupplementRequested.as_str()))
        {
            self.close_before(now)
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
        self.queue_items(caller, rows, now)
    }

    /// The lines of a queue from its rows: the working time left, the urgency, the step.
    fn queue_items(
        &self,
        caller: &Caller,
        rows: Vec<(
            crate::store::dossiers::DossierRow,
            crate::store::dossiers::ProgressRow,
        )>,
        now: DateTime<FixedOffset>,
    ) -> AppResult<Vec<QueueItem>> {
        let lines: Vec<_> = rows.iter().map(|(d, p)| line_rows(d, p)).collect();
        let facts = self.line_facts(caller, &lines, now)?;
        Ok(rows
            .into_iter()
            .zip(facts)
            .map(|((d, p), f)| QueueItem {
                dossier: d.into(),
                progress: p.into(),
                remaining_minutes: f.remaining_minutes,
                urgency: f.urgency,
                step: f.step,
                in_scope: f.in_scope,
            })
            .collect())
    }

    /// The lines of a tab of the work queue page from their rows.
    fn queue_lines(
        &self,
        caller: &Caller,
        rows: Vec<(QueueLineRow, QueueProgressRow)>,
        now: DateTime<FixedOffset>,
    ) -> AppResult<Vec<QueueLine>> {
        let facts = self.line_facts(caller, &rows, now)?;
        Ok(rows
            .into_iter()
            .zip(facts)
            .map(|((d, p), f)| QueueLine {
                code: d.code,
                procedure_code: d.procedure_code,
                applicant_name: d.applicant_name,
                status: d.status,
                current_agency: d.current_agency,
                received_at: d.received_at.map(from_db),
                due_at: d.due_at.map(from_db),
                finished_at: d.finished_at.map(from_db),
                outcome: d.outcome,
                pending_handover: p.pending_handover,
                assignee: p.assignee,
                clock_stopped: p.clock_stopped_at.is_some(),
                acknowledge_by: p.acknowledge_by.map(from_db),
                remaining_minutes: f.remaining_minutes,
                urgency: f.urgency,
                step: f.step,
                in_scope: f.in_scope,
            })
            .collect())
    }

    /// What a queue shows of each line beside its columns: the working time left, the
    /// urgency, the step, whether it is in the caller's scope.
    fn line_facts(
        &self,
        caller: &Caller,
        rows: &[(QueueLineRow, QueueProgressRow)],
        now: DateTime<FixedOffset>,
    ) -> AppResult<Vec<LineFacts>> {
        let offset_tz = self.settings.offset;
        let engine = self.deadlines();
        let codes: Vec<String> = rows
            .iter()
            .filter(|(_, p)| p.current_step.is_some())
            .map(|(d, _)| d.code.clone())
            .collect();
        let mut steps = self.store.steps_of_many(&codes)?;
        let scope = self.scope_of(caller);
        Ok(rows
            .iter()
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
                // As `App::may_see` with no agencies that handled it before.
                let in_scope = caller.role != Role::Portal
                    && super::dossiers::in_scope(
                        &scope,
                        [
                            Some(&d.receiving_agency),
                            Some(&d.current_agency),
                            d.competent_agency.as_ref(),
                        ]
                        .into_iter()
                        .flatten(),
                    );
                LineFacts {
                    remaining_minutes,
                    urgency,
                    step,
                    in_scope,
                }
            })
            .collect())
    }
}

/// What [`App::line_facts`] finds for a line.
struct LineFacts {
    remaining_minutes: i64,
    urgency: Urgency,
    step: Option<(StepView, i64, Urgency)>,
    in_scope: bool,
}

/// The columns of a whole dossier row a queue line reads.
fn line_rows(
    d: &crate::store::dossiers::DossierRow,
    p: &crate::store::dossiers::ProgressRow,
) -> (QueueLineRow, QueueProgressRow) {
    (
        QueueLineRow {
            code: d.code.clone(),
            procedure_code: d.procedure_code.clone(),
            rule_set: d.rule_set.clone(),
            receiving_agency: d.receiving_agency.clone(),
            competent_agency: d.competent_agency.clone(),
            current_agency: d.current_agency.clone(),
            status: d.status.clone(),
            applicant_name: d.applicant_name.clone(),
            received_at: d.received_at,
            due_at: d.due_at,
            finished_at: d.finished_at,
            outcome: d.outcome.clone(),
        },
        QueueProgressRow {
            pending_handover: p.pending_handover.clone(),
            assignee: p.assignee.clone(),
            clock_stopped_at: p.clock_stopped_at,
            current_step: p.current_step,
            acknowledge_by: p.acknowledge_by,
        },
    )
}

/// A line of a tab of the work queue page (`/hang-doi`): what the page shows of a
/// dossier waiting, and what it decides on.
#[derive(Debug, Clone)]
pub struct QueueLine {
    pub code: String,
    pub procedure_code: String,
    pub applicant_name: String,
    pub status: String,
    pub current_agency: String,
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `early`, `on_time` or `late`, once finished.
    pub outcome: Option<String>,
    pub pending_handover: Option<String>,
    pub assignee: Option<String>,
    /// The clock stands still (a supplement or a pause).
    pub clock_stopped: bool,
    /// An online submission: by when the desk must answer it.
    pub acknowledge_by: Option<DateTime<Utc>>,
    /// As [`QueueItem`].
    pub remaining_minutes: i64,
    pub urgency: Urgency,
    pub step: Option<(StepView, i64, Urgency)>,
    pub in_scope: bool,
}

/// A tab of the work queue (`/hang-doi`, issue #15): what waits at the caller's agency,
/// by what it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tab {
    /// Chờ xử lý: held here, to be worked on.
    Todo,
    /// Sắp đến hạn: due within one working day.
    DueSoon,
    /// Quá hạn: past the due moment, the clock running.
    Overdue,
    /// Chờ bổ sung: waiting for the applicant's supplement.
    Supplement,
    /// Tạm dừng: paused.
    Paused,
    /// Đang chuyển đến: hand-overs to accept.
    Incoming,
    /// Chờ phê duyệt: proposed to the leader.
    ToDecide,
    /// Chờ trả kết quả: decided, back at the counter.
    ToReturn,
    /// Cần đóng: the supplement has not come within the rule set's wait.
    ToClose,
    /// Đã xử lý: finished here, or passed on; newest received first, not counted.
    Done,
}

impl Tab {
    pub const ALL: [Tab; 10] = [
        Tab::ToDecide,
        Tab::Todo,
        Tab::DueSoon,
        Tab::Overdue,
        Tab::Incoming,
        Tab::Supplement,
        Tab::Paused,
        Tab::ToReturn,
        Tab::ToClose,
        Tab::Done,
    ];

    /// Its address on the page (`/hang-doi?tab=`).
    pub fn slug(self) -> &'static str {
        match self {
            Tab::Todo => "cho-xu-ly",
            Tab::DueSoon => "sap-den-han",
            Tab::Overdue => "qua-han",
            Tab::Supplement => "cho-bo-sung",
            Tab::Paused => "tam-dung",
            Tab::Incoming => "dang-chuyen-den",
            Tab::ToDecide => "cho-phe-duyet",
            Tab::ToReturn => "cho-tra-ket-qua",
            Tab::ToClose => "can-dong",
            Tab::Done => "da-xu-ly",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tab::Todo => "Chờ xử lý",
            Tab::DueSoon => "Sắp đến hạn",
            Tab::Overdue => "Quá hạn",
            Tab::Supplement => "Chờ bổ sung",
            Tab::Paused => "Tạm dừng",
            Tab::Incoming => "Đang chuyển đến",
            Tab::ToDecide => "Chờ phê duyệt",
            Tab::ToReturn => "Chờ trả kết quả",
            Tab::ToClose => "Cần đóng",
            Tab::Done => "Đã xử lý",
        }
    }

    pub fn parse(s: &str) -> Option<Tab> {
        Tab::ALL.into_iter().find(|t| t.slug() == s)
    }
}

/// The tabs of each role, in order.
pub fn tabs_for(role: Role) -> &'static [Tab] {
    match role {
        Role::Clerk => &[
            Tab::Todo,
            Tab::DueSoon,
            Tab::Overdue,
            Tab::Incoming,
            Tab::Supplement,
            Tab::ToReturn,
            Tab::ToClose,
            Tab::Done,
        ],
        Role::Official => &[
            Tab::Todo,
            Tab::DueSoon,
            Tab::Overdue,
            Tab::Incoming,
            Tab::Supplement,
            Tab::Paused,
            Tab::Done,
        ],
        Role::Leader => &[
            Tab::ToDecide,
            Tab::Todo,
            Tab::DueSoon,
            Tab::Overdue,
            Tab::Incoming,
            Tab::Paused,
            Tab::Done,
        ],
        _ => &[],
    }
}

/// The work queue's tab counts as last counted, by agency, role, filters and minute: the
/// moment, the store's write generation then, the counts.
#[derive(Debug, Default)]
pub struct CountCache {
    pub(crate) entries: std::sync::Mutex<std::collections::HashMap<String, CachedCounts>>,
}

pub(crate) type CachedCounts = (std::time::Instant, u64, Vec<(Tab, i64)>);

/// Filters of a queue tab (the page's form).
#[derive(Debug, Clone, Default)]
pub struct TabFilters {
    pub procedure: Option<String>,
    /// `me` or a username.
    pub assignee: Option<String>,
    pub status: Option<String>,
}

/// A queue tab as the page shows it: every tab of the role with its count, the lines of
/// the one open, and whether more follow.
pub struct QueueTabs {
    pub tabs: Vec<(Tab, i64)>,
    pub tab: Tab,
    pub items: Vec<QueueLine>,
    pub more: bool,
}

impl App {
    /// What a tab selects at `now` for `caller`.
    fn tab_spec(
        &self,
        caller: &Caller,
        tab: Tab,
        f: &TabFilters,
        now: DateTime<FixedOffset>,
    ) -> crate::store::dossiers::QueueSpec {
        use crate::store::dossiers::QueueSpec;
        let engine = self.deadlines();
        let working: Vec<String> = match caller.role {
            Role::Clerk => vec!["submitted".into(), "received".into()],
            _ => vec!["received".into(), "in_progress".into()],
        };
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let now_db = crate::store::to_db(now.with_timezone(&Utc));
        let mut spec = match tab {
            Tab::Todo => QueueSpec {
                statuses: working,
                ..Default::default()
            },
            Tab::DueSoon => QueueSpec {
                statuses: s(&["received", "in_progress"]),
                due_from: Some(now_db),
                // Due within one working day, that moment included: before the day's
                // opening, one working day ends at the close, where most dossiers fall
                // due (the morning digest counts them too). Due moments are whole
                // minutes, so "before the next second" is "at or before".
                due_before: engine
                    .add_working_minutes(now, self.calendar.hours().minutes_per_day())
                    .ok()
                    .map(|t| {
                        crate::store::to_db(t.with_timezone(&Utc)) + chrono::Duration::seconds(1)
                    }),
                ..Default::default()
            },
            Tab::Overdue => QueueSpec {
                statuses: s(&["received", "in_progress"]),
                due_before: Some(now_db),
                ..Default::default()
            },
            // The one-stop desk follows the supplements of what it received.
            Tab::Supplement => QueueSpec {
                statuses: s(&["supplement_requested"]),
                received_here: caller.role == Role::Clerk,
                ..Default::default()
            },
            Tab::Paused => QueueSpec {
                statuses: s(&["paused"]),
                ..Default::default()
            },
            Tab::Incoming => QueueSpec {
                incoming: true,
                ..Default::default()
            },
            Tab::ToDecide => QueueSpec {
                statuses: s(&["received", "in_progress"]),
                proposed: Some(true),
                ..Default::default()
            },
            Tab::ToReturn => QueueSpec {
                statuses: s(&["approved", "refused"]),
                ..Default::default()
            },
            Tab::Done => QueueSpec {
                done: true,
                ..Default::default()
            },
            Tab::ToClose => QueueSpec {
                to_close: self.close_before(now),
                ..Default::default()
            },
        };
        if let (Some(st), Tab::Done) = (&f.status, tab) {
            spec.statuses = vec![st.clone()];
        }
        if let Some(st) = &f.status {
            if !spec.statuses.is_empty() {
                spec.statuses.retain(|x| x == st);
            }
        }
        spec.procedure = f.procedure.clone();
        spec.assignee = match f.assignee.as_deref() {
            Some("me") => Some(caller.username.clone()),
            other => other.map(String::from),
        };
        spec
    }

    /// Every tab of `caller`'s role with how many dossiers it holds under `filters`
    /// (`-1`: not counted).
    fn tab_counts(
        &self,
        caller: &Caller,
        filters: &TabFilters,
        now: DateTime<FixedOffset>,
    ) -> AppResult<Vec<(Tab, i64)>> {
        // Reused within the cache's life when nothing was written here since and the
        // minute is the same (what is due soon or overdue moves with the minute).
        let ttl = self.settings.queue_counts_cache_s;
        let key = format!(
            "{}\u{1f}{}\u{1f}{:?}\u{1f}{:?}\u{1f}{:?}\u{1f}{}",
            caller.agency,
            caller.role.as_str(),
            filters.procedure,
            filters.assignee.as_deref().map(|a| match a {
                "me" => caller.username.as_str(),
                a => a,
            }),
            filters.status,
            now.format("%Y-%m-%d %H:%M"),
        );
        let generation = self.store.write_generation();
        if ttl > 0 {
            let cached = self.queue_counts.entries.lock().ok().and_then(|m| {
                m.get(&key)
                    .filter(|(at, g, _)| {
                        *g == generation && at.elapsed().as_secs() < u64::from(ttl)
                    })
                    .map(|(_, _, c)| c.clone())
            });
            if let Some(c) = cached {
                return Ok(c);
            }
        }
        let counts = self.count_tabs(caller, filters, now)?;
        if ttl > 0 {
            if let Ok(mut m) = self.queue_counts.entries.lock() {
                if m.len() >= 10_000 {
                    m.clear();
                }
                m.insert(key, (std::time::Instant::now(), generation, counts.clone()));
            }
        }
        Ok(counts)
    }

    /// [`App::tab_counts`] read from the store.
    fn count_tabs(
        &self,
        caller: &Caller,
        filters: &TabFilters,
        now: DateTime<FixedOffset>,
    ) -> AppResult<Vec<(Tab, i64)>> {
        let tabs = tabs_for(caller.role);
        let specs: Vec<_> = tabs
            .iter()
            .map(|t| self.tab_spec(caller, *t, filters, now))
            .collect();
        let counts = self
            .store
            .queue_counts(&caller.agency, &specs.iter().collect::<Vec<_>>())?;
        Ok(tabs.iter().copied().zip(counts).collect())
    }

    /// The work queue of `caller` by tabs at `now`: the counts of every tab of the role,
    /// and a page (`limit` lines from `offset`) of tab `tab` (the role's first by default).
    pub fn queue_tabs(
        &self,
        caller: &Caller,
        tab: Option<Tab>,
        filters: &TabFilters,
        limit: i64,
        offset: i64,
        now: DateTime<Utc>,
    ) -> AppResult<QueueTabs> {
        let tabs = tabs_for(caller.role);
        let Some(first) = tabs.first().copied() else {
            return Err(AppError::forbidden("Vai trò này không có hàng đợi xử lý"));
        };
        let tab = match tab {
            Some(t) if tabs.contains(&t) => t,
            Some(_) => {
                return Err(AppError::bad_request(
                    "invalid_tab",
                    "Vai trò này không có danh sách này",
                ))
            }
            None => first,
        };
        if let Some(s) = &filters.status {
            if Status::parse(s).is_none() {
                return Err(AppError::bad_request(
                    "invalid_status",
                    format!("Trạng thái \"{s}\" không tồn tại"),
                ));
            }
        }
        if !(1..=200).contains(&limit) || !(0..=MAX_OFFSET).contains(&offset) {
            return Err(AppError::bad_request(
                "invalid_limit",
                format!("limit phải từ 1 đến 200, offset từ 0 đến {MAX_OFFSET}"),
            ));
        }
        let now = now.with_timezone(&self.settings.offset);
        let counts = self.tab_counts(caller, filters, now)?;
        let spec = self.tab_spec(caller, tab, filters, now);
        let mut rows = self
            .store
            .queue_tab(&caller.agency, &spec, limit + 1, offset)?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        Ok(QueueTabs {
            tabs: counts,
            tab,
            items: self.queue_lines(caller, rows, now)?,
            more,
        })
    }
}

/// The home page's figures of the day for the caller's agency (issue #15).
pub struct HomeFigures {
    /// Received at the agency's desk today.
    pub received_today: i64,
    /// Results returned there today.
    pub returned_today: i64,
    /// Each tab of the caller's queue with its count.
    pub tabs: Vec<(Tab, i64)>,
}

impl App {
    /// Today's figures of `caller`'s agency at `now`, and the counts of their queue.
    pub fn home_figures(&self, caller: &Caller, now: DateTime<Utc>) -> AppResult<HomeFigures> {
        let local = now.with_timezone(&self.settings.offset);
        let tabs = self.tab_counts(caller, &TabFilters::default(), local)?;
        let start = crate::store::to_db(crate::core::calendar::start_of_day_utc(
            local.date_naive(),
            self.settings.offset,
        ));
        let (received_today, returned_today) = self.store.done_since(&caller.agency, start)?;
        Ok(HomeFigures {
            received_today,
            returned_today,
            tabs,
        })
    }
}
