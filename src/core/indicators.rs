//! The indicators (*chỉ số*) behind the province's reform targets (KH 136/KH-UBND 2021)
//! and the national QĐ 766/QĐ-TTg (2022) service index: every definition lives here,
//! next to its formula and source (DOMAIN.md section 8; docs/indicators.md).
//!
//! Attribution: a dossier belongs to its *owner*, the agency competent to decide it (the
//! receiving agency when none is named). Hand-overs belong to the agency that gives. Each
//! count uses its own moment: receipt, finish (return or stop), hand-over, rating.
//!
//! For a bucket `[start, end)` (the period, or one month of it):
//! - `received`: received in the bucket (and by channel).
//! - `carried_over`: received before `start` and not finished before `start`.
//! - `handled` = `received` + `carried_over` (*số hồ sơ phải giải quyết*).
//! - `finished_early` / `finished_on_time` / `finished_late`: returned in the bucket, by
//!   the outcome fixed at return (a dossier with more than one supplement request is late,
//!   QĐ 766 2.1). `refused`: of those, decided as refused. `stopped`: stopped in the bucket;
//!   `stopped_on_time`: of those, stopped at or before the due moment (on time for QĐ 766
//!   2.1). `closed_incomplete`: closed in the bucket for want of a supplement (NĐ 118/2025
//!   Art. 19(5)), neither finished nor late.
//! - `in_progress_within_time` / `in_progress_overdue`: received before `end` and not
//!   finished (returned, stopped or closed) before `end`; overdue when its due moment
//!   (after a supplement: counted again, or moved by stopped-clock time) is before `end`
//!   (or before the report's moment, if earlier), or late by rule.
//!   Identity: handled = finished_* + stopped + closed_incomplete + in_progress_*.
//! - `supplement_requested`, `digitised`, `digitised_with_result` (digitised, and with
//!   the electronic result when the procedure yields a document: QĐ 766 4.2),
//!   `reusing_data`, `fee_bearing`, `paid_online` (fee-bearing and paid online): among
//!   those received in the bucket.
//! - `supplement_requests_late`: supplement requests made in the bucket later than the
//!   rule set's limit after receipt (NĐ 118/2025 Art. 19(5): 3 working days), by the
//!   agency that made them.
//! - The one-stop desk's acts, by the receiving agency (NĐ 118/2025 Art. 17(2)):
//!   `submitted` (online submissions that arrived), `acknowledged_on_time` /
//!   `acknowledged_late` (answers — receipt, correction request, refusal — by or after the
//!   8 working hours), `corrections_requested` (rounds), `refused_at_intake`. An online
//!   dossier is `received` only at its official receipt: submissions waiting or sent back
//!   are outside `handled`.
//! - `transfers_on_time` / `transfers_late`: transfers out of the receiving desk in the
//!   bucket against their own due moment (Art. 18(2), 20(1)(a)), by the giving agency.
//! - `results_total` / `results_electronic`: returned in the bucket having issued a result
//!   / with its electronic copy (QĐ 766 4.1).
//! - `handovers_total` / `handovers_electronic`: hand-overs given in the bucket.
//! - `ratings_total` / `ratings_satisfied`: ratings given in the bucket (satisfied = very
//!   satisfied or satisfied).
//! - `avg_handling_working_days`: over dossiers returned in the bucket, working minutes
//!   from receipt to return minus stopped-clock time, ÷ a working day.
//!
//! Pure: no I/O, no clock.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use serde::Serialize;

/// What one dossier contributes, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierFacts {
    pub code: String,
    /// The owner agency (competent, else receiving).
    pub agency: String,
    pub level: String,
    pub procedure: String,
    /// `counter`, `online` or `post`.
    pub channel: String,
    pub received_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: String,
    pub outcome: Option<String>,
    pub decision: Option<String>,
    pub due_at: DateTime<Utc>,
    pub late_by_rule: bool,
    pub supplement_requested: bool,
    pub digitised: bool,
    pub reused: bool,
    pub results: i32,
    pub results_electronic: i32,
    pub fee_bearing: bool,
    pub paid_online: bool,
    pub rating: Option<String>,
    pub rated_at: Option<DateTime<Utc>>,
    pub handling_minutes: Option<i64>,
    /// The procedure yields a document (QĐ 766 4.1–4.2).
    pub yields_document: bool,
}

impl DossierFacts {
    /// Digitised, and with its electronic result where the procedure yields a document
    /// (the numerator of QĐ 766 4.2).
    pub fn digitised_with_result(&self) -> bool {
        self.digitised && (!self.yields_document || self.results_electronic > 0)
    }

    /// Stopped at the applicant's request at or before its due moment (QĐ 766 2.1
    /// counts it as on time).
    pub fn stopped_on_time(&self) -> bool {
        self.status == "stopped" && self.finished_at.is_some_and(|f| f <= self.due_at)
    }
}

/// An act the law gives a time limit (`deadline_acts`), by the agency that did it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActFact {
    pub at: DateTime<Utc>,
    pub agency: String,
    pub level: String,
    pub procedure: String,
    pub kind: ActKind,
    /// After its limit.
    pub late: bool,
}

/// The kinds of [`ActFact`], named as the events that record them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActKind {
    /// A supplement request (due 3 working days after receipt).
    RequestSupplement,
    /// An online submission arrives (the desk's 8 working hours start).
    Submit,
    /// The portal sends a corrected dossier again (a new round).
    Resubmit,
    /// The desk's answers to a submission.
    Receive,
    RequestCorrection,
    Refuse,
}

impl ActKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActKind::RequestSupplement => "request_supplement",
            ActKind::Submit => "submit",
            ActKind::Resubmit => "resubmit",
            ActKind::Receive => "receive",
            ActKind::RequestCorrection => "request_correction",
            ActKind::Refuse => "refuse",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ActKind::RequestSupplement,
            ActKind::Submit,
            ActKind::Resubmit,
            ActKind::Receive,
            ActKind::RequestCorrection,
            ActKind::Refuse,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// What one act adds to the counts of its agency and day.
    pub fn columns(self, late: bool) -> Vec<Column> {
        let answer = if late {
            Column::AcknowledgedLate
        } else {
            Column::AcknowledgedOnTime
        };
        match self {
            ActKind::RequestSupplement if late => vec![Column::SupplementRequestsLate],
            ActKind::RequestSupplement | ActKind::Resubmit => Vec::new(),
            ActKind::Submit => vec![Column::Submitted],
            ActKind::Receive => vec![answer],
            ActKind::RequestCorrection => vec![answer, Column::CorrectionsRequested],
            ActKind::Refuse => vec![answer, Column::RefusedAtIntake],
        }
    }
}

/// One hand-over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverFact {
    pub at: DateTime<Utc>,
    /// The giving agency.
    pub agency: String,
    pub level: String,
    pub procedure: String,
    pub electronic: bool,
    /// For the transfer out of the receiving desk: met its own due moment or not.
    pub transfer_on_time: Option<bool>,
}

/// A dossier that may be in progress and overdue at the end of a report's bucket, as the
/// rollup-based report reads it (the rollup holds flows; this stock is counted apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverdueCandidate {
    /// The owner agency.
    pub agency: String,
    pub procedure: String,
    pub received_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Read as late by rule: counts only while its due moment has not passed (after that
    /// it is read, and counted, through its due moment).
    pub via_rule: bool,
}

impl OverdueCandidate {
    /// In progress at `end` (received before it, not finished before it) and overdue as
    /// of `as_of` (`end`, or the report's moment if earlier).
    pub fn overdue_at(&self, end: DateTime<Utc>, as_of: DateTime<Utc>) -> bool {
        self.received_at < end
            && self.finished_at.is_none_or(|f| f >= end)
            && (self.due_at < as_of) != self.via_rule
    }
}

/// The raw counts of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub received: i64,
    pub received_counter: i64,
    pub received_online: i64,
    pub received_post: i64,
    pub carried_over: i64,
    pub handled: i64,
    pub finished_early: i64,
    pub finished_on_time: i64,
    pub finished_late: i64,
    pub refused: i64,
    pub stopped: i64,
    pub stopped_on_time: i64,
    pub closed_incomplete: i64,
    pub in_progress_within_time: i64,
    pub in_progress_overdue: i64,
    pub supplement_requested: i64,
    pub supplement_requests_late: i64,
    pub submitted: i64,
    pub acknowledged_on_time: i64,
    pub acknowledged_late: i64,
    pub corrections_requested: i64,
    pub refused_at_intake: i64,
    pub handovers_total: i64,
    pub handovers_electronic: i64,
    pub transfers_on_time: i64,
    pub transfers_late: i64,
    pub results_total: i64,
    pub results_electronic: i64,
    pub digitised: i64,
    pub digitised_with_result: i64,
    pub reusing_data: i64,
    pub ratings_total: i64,
    pub ratings_satisfied: i64,
    pub fee_bearing: i64,
    pub paid_online: i64,
    /// Sum of handling working minutes and how many dossiers, for the average.
    pub handling_minutes: i64,
    pub handling_count: i64,
    /// Petitions (*phản ánh, kiến nghị*) answered in the bucket by their due moment /
    /// after it, by the agency they are about (QĐ 766 5.2).
    pub petitions_answered_on_time: i64,
    pub petitions_answered_late: i64,
    /// Petitions submitted before the bucket's end, not answered before it and past their
    /// due moment at its end (or at the report's moment, if earlier): late for 5.2.
    pub petitions_open_overdue: i64,
    /// Dossiers that a petition submitted in the bucket is about, each once (QĐ 766 5.4),
    /// by the dossier's owner agency; and of those, the ones also rated unsatisfied in the
    /// bucket (already counted among the negative ratings).
    pub petitioned_dossiers: i64,
    pub petitioned_dossiers_rated_negative: i64,
}

impl Counts {
    pub fn finished(&self) -> i64 {
        self.finished_early + self.finished_on_time + self.finished_late
    }

    /// Adds the counts of a disjoint group: for a grouping that splits the dossiers and
    /// hand-overs (by agency, procedure or level, not by month), the total is the sum of
    /// the groups, stocks included.
    pub fn add(&mut self, o: &Counts) {
        self.received += o.received;
        self.received_counter += o.received_counter;
        self.received_online += o.received_online;
        self.received_post += o.received_post;
        self.carried_over += o.carried_over;
        self.handled += o.handled;
        self.finished_early += o.finished_early;
        self.finished_on_time += o.finished_on_time;
        self.finished_late += o.finished_late;
        self.refused += o.refused;
        self.stopped += o.stopped;
        self.stopped_on_time += o.stopped_on_time;
        self.closed_incomplete += o.closed_incomplete;
        self.in_progress_within_time += o.in_progress_within_time;
        self.in_progress_overdue += o.in_progress_overdue;
        self.supplement_requested += o.supplement_requested;
        self.supplement_requests_late += o.supplement_requests_late;
        self.submitted += o.submitted;
        self.acknowledged_on_time += o.acknowledged_on_time;
        self.acknowledged_late += o.acknowledged_late;
        self.corrections_requested += o.corrections_requested;
        self.refused_at_intake += o.refused_at_intake;
        self.transfers_on_time += o.transfers_on_time;
        self.transfers_late += o.transfers_late;
        self.handovers_total += o.handovers_total;
        self.handovers_electronic += o.handovers_electronic;
        self.results_total += o.results_total;
        self.results_electronic += o.results_electronic;
        self.digitised += o.digitised;
        self.digitised_with_result += o.digitised_with_result;
        self.reusing_data += o.reusing_data;
        self.ratings_total += o.ratings_total;
        self.ratings_satisfied += o.ratings_satisfied;
        self.fee_bearing += o.fee_bearing;
        self.paid_online += o.paid_online;
        self.handling_minutes += o.handling_minutes;
        self.handling_count += o.handling_count;
        self.add_petitions(o);
    }

    /// Adds the petition counts of `o` (counted apart from the dossiers and their
    /// rollup: [`aggregate_petitions`]).
    pub fn add_petitions(&mut self, o: &Counts) {
        self.petitions_answered_on_time += o.petitions_answered_on_time;
        self.petitions_answered_late += o.petitions_answered_late;
        self.petitions_open_overdue += o.petitions_open_overdue;
        self.petitioned_dossiers += o.petitioned_dossiers;
        self.petitioned_dossiers_rated_negative += o.petitioned_dossiers_rated_negative;
    }

    /// Petitions QĐ 766 5.2 counts: answered in the bucket, or open and past due.
    pub fn petitions_due(&self) -> i64 {
        self.petitions_answered_on_time + self.petitions_answered_late + self.petitions_open_overdue
    }

    /// Dossiers with a petition or a negative rating in the bucket, each once: the
    /// negative ratings, plus the petitioned dossiers not also rated negatively.
    pub fn dossiers_with_complaint(&self) -> i64 {
        (self.ratings_total - self.ratings_satisfied) + self.petitioned_dossiers
            - self.petitioned_dossiers_rated_negative
    }
}

/// Rates in percent (two decimals); `None` when the denominator is zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rates {
    pub on_time_rate: Option<f64>,
    pub online_rate: Option<f64>,
    pub electronic_handover_rate: Option<f64>,
    pub digitisation_rate: Option<f64>,
    pub reuse_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub online_payment_rate: Option<f64>,
    pub result_digitisation_rate: Option<f64>,
    /// QĐ 766 2.1: finished early or on time, stopped on time, closed, plus still within
    /// time, ÷ handled.
    pub qd766_on_time_rate: Option<f64>,
    /// QĐ 766 4.2: digitised with the electronic result (where the procedure yields a
    /// document) ÷ received.
    pub qd766_digitisation_rate: Option<f64>,
    /// QĐ 766 5.2: petitions answered on time ÷ petitions answered or past due.
    pub qd766_petition_on_time_rate: Option<f64>,
    /// QĐ 766 5.4: 100 − (late rate + rate of dossiers with a petition or a negative
    /// rating), both over handled.
    pub qd766_satisfaction_index: Option<f64>,
    /// The desk's answers to online submissions within 8 working hours (NĐ 118/2025
    /// Art. 17(2)).
    pub acknowledgement_on_time_rate: Option<f64>,
    /// Transfers out of the receiving desk by their due moment (Art. 18(2), 20(1)(a)).
    pub transfer_on_time_rate: Option<f64>,
    pub avg_handling_working_days: Option<f64>,
}

/// `n ÷ d` in percent, rounded half away from zero to two decimals.
pub fn percent(n: i64, d: i64) -> Option<f64> {
    (d > 0).then(|| ((n as f64) * 10000.0 / (d as f64)).round() / 100.0)
}

/// The dossiers QĐ 766 2.1 counts as on time: finished early or on time, stopped at or
/// before the due moment, closed for want of a supplement (not late), and in progress
/// within time. The rest of `handled` is late.
fn qd766_on_time(c: &Counts) -> i64 {
    c.finished_early
        + c.finished_on_time
        + c.stopped_on_time
        + c.closed_incomplete
        + c.in_progress_within_time
}

pub fn rates(c: &Counts, minutes_per_day: i64) -> Rates {
    Rates {
        on_time_rate: percent(c.finished_early + c.finished_on_time, c.finished()),
        online_rate: percent(c.received_online, c.received),
        electronic_handover_rate: percent(c.handovers_electronic, c.handovers_total),
        digitisation_rate: percent(c.digitised, c.received),
        reuse_rate: percent(c.reusing_data, c.received),
        satisfaction_rate: percent(c.ratings_satisfied, c.ratings_total),
        online_payment_rate: percent(c.paid_online, c.fee_bearing),
        result_digitisation_rate: percent(c.results_electronic, c.results_total),
        qd766_on_time_rate: percent(qd766_on_time(c), c.handled),
        qd766_digitisation_rate: percent(c.digitised_with_result, c.received),
        qd766_petition_on_time_rate: percent(c.petitions_answered_on_time, c.petitions_due()),
        qd766_satisfaction_index: percent(
            (qd766_on_time(c) - c.dossiers_with_complaint()).max(0),
            c.handled,
        ),
        acknowledgement_on_time_rate: percent(
            c.acknowledged_on_time,
            c.acknowledged_on_time + c.acknowledged_late,
        ),
        transfer_on_time_rate: percent(c.transfers_on_time, c.transfers_on_time + c.transfers_late),
        avg_handling_working_days: (c.handling_count > 0 && minutes_per_day > 0).then(|| {
            ((c.handling_minutes as f64) * 100.0
                / (c.handling_count as f64 * minutes_per_day as f64))
                .round()
                / 100.0
        }),
    }
}

/// How figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// One group, `total`.
    Total,
    Agency,
    Procedure,
    /// `YYYY-MM` buckets within the period, each with its own carried-over and in-progress.
    Month,
    /// The owner agency's level (`commune`, `department`, …).
    Level,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "total" => Some(GroupBy::Total),
            "agency" => Some(GroupBy::Agency),
            "procedure" => Some(GroupBy::Procedure),
            "month" => Some(GroupBy::Month),
            "level" => Some(GroupBy::Level),
            _ => None,
        }
    }
}

/// A report period: local dates `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

fn midnight(d: NaiveDate, offset: FixedOffset) -> DateTime<Utc> {
    crate::core::calendar::start_of_day_utc(d, offset)
}

/// The buckets of a period: `(key, start, end)`.
fn buckets(
    period: Period,
    group_by: GroupBy,
    offset: FixedOffset,
) -> Vec<(Option<String>, DateTime<Utc>, DateTime<Utc>)> {
    let end_date = period.to.succ_opt().unwrap_or(period.to);
    if group_by != GroupBy::Month {
        return vec![(
            None,
            midnight(period.from, offset),
            midnight(end_date, offset),
        )];
    }
    let mut out = Vec::new();
    let mut start = period.from;
    while start < end_date {
        let next_month = if start.month() == 12 {
            NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
        }
        .unwrap_or(end_date);
        let end = next_month.min(end_date);
        out.push((
            Some(format!("{:04}-{:02}", start.year(), start.month())),
            midnight(start, offset),
            midnight(end, offset),
        ));
        start = end;
    }
    out
}

fn key_of(group_by: GroupBy, agency: &str, procedure: &str, level: &str) -> String {
    match group_by {
        GroupBy::Total | GroupBy::Month => "total".into(),
        GroupBy::Agency => agency.into(),
        GroupBy::Procedure => procedure.into(),
        GroupBy::Level => level.into(),
    }
}

/// The counts of every group over `period`, as of moment `now` (for the overdue check of
/// buckets that end later).
pub fn aggregate(
    dossiers: &[DossierFacts],
    handovers: &[HandoverFact],
    acts: &[ActFact],
    period: Period,
    group_by: GroupBy,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> BTreeMap<String, Counts> {
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    for (month, start, end) in buckets(period, group_by, offset) {
        let as_of = end.min(now);
        let within = |t: DateTime<Utc>| start <= t && t < end;
        for d in dossiers {
            let key = month
                .clone()
                .unwrap_or_else(|| key_of(group_by, &d.agency, &d.procedure, &d.level));
            let open_at =
                |t: DateTime<Utc>| d.received_at < t && d.finished_at.is_none_or(|f| f >= t);
            let received = within(d.received_at);
            let carried = open_at(start);
            let finished = d.finished_at.is_some_and(within);
            let in_progress = open_at(end);
            if !(received || carried || finished || in_progress || d.rated_at.is_some_and(within)) {
                continue;
            }
            let c = out.entry(key).or_default();
            if received {
                c.received += 1;
                match d.channel.as_str() {
                    "online" => c.received_online += 1,
                    "post" => c.received_post += 1,
                    _ => c.received_counter += 1,
                }
                c.supplement_requested += i64::from(d.supplement_requested);
                c.digitised += i64::from(d.digitised);
                c.digitised_with_result += i64::from(d.digitised_with_result());
                c.reusing_data += i64::from(d.reused);
                c.fee_bearing += i64::from(d.fee_bearing);
                c.paid_online += i64::from(d.fee_bearing && d.paid_online);
            }
            if carried {
                c.carried_over += 1;
            }
            if finished {
                if d.status == "stopped" {
                    c.stopped += 1;
                    c.stopped_on_time += i64::from(d.stopped_on_time());
                } else if d.status == "closed" {
                    c.closed_incomplete += 1;
                } else {
                    match d.outcome.as_deref() {
                        Some("early") => c.finished_early += 1,
                        Some("on_time") => c.finished_on_time += 1,
                        _ => c.finished_late += 1,
                    }
                    if d.decision.as_deref() == Some("refused") {
                        c.refused += 1;
                    }
                    c.results_total += i64::from(d.results > 0);
                    c.results_electronic += i64::from(d.results_electronic > 0);
                    if let Some(m) = d.handling_minutes {
                        c.handling_minutes += m;
                        c.handling_count += 1;
                    }
                }
            }
            if in_progress {
                if d.late_by_rule || d.due_at < as_of {
                    c.in_progress_overdue += 1;
                } else {
                    c.in_progress_within_time += 1;
                }
            }
            if d.rated_at.is_some_and(within) {
                c.ratings_total += 1;
                if matches!(d.rating.as_deref(), Some("very_satisfied" | "satisfied")) {
                    c.ratings_satisfied += 1;
                }
            }
        }
        for h in handovers.iter().filter(|h| within(h.at)) {
            let key = month
                .clone()
                .unwrap_or_else(|| key_of(group_by, &h.agency, &h.procedure, &h.level));
            let c = out.entry(key).or_default();
            c.handovers_total += 1;
            c.handovers_electronic += i64::from(h.electronic);
            match h.transfer_on_time {
                Some(true) => c.transfers_on_time += 1,
                Some(false) => c.transfers_late += 1,
                None => {}
            }
        }
        for a in acts.iter().filter(|a| within(a.at)) {
            let key = month
                .clone()
                .unwrap_or_else(|| key_of(group_by, &a.agency, &a.procedure, &a.level));
            let columns = a.kind.columns(a.late);
            if columns.is_empty() {
                continue;
            }
            let c = out.entry(key).or_default();
            for col in columns {
                col.add_to(c, 1);
            }
        }
    }
    for c in out.values_mut() {
        c.handled = c.received + c.carried_over;
    }
    out
}

/// What one petition (*phản ánh, kiến nghị*) contributes, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PetitionFact {
    /// The agency it is about (for a petition about a dossier: the dossier's owner).
    pub agency: String,
    pub level: String,
    /// The procedure of its dossier; [`NO_PROCEDURE`] without one.
    pub procedure: String,
    pub submitted_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    /// The dossier it is about, if any.
    pub dossier: Option<String>,
    /// When that dossier was rated unsatisfied, if it was.
    pub dossier_rated_negative_at: Option<DateTime<Utc>>,
}

/// The group key of petitions about no dossier, when grouped by procedure.
pub const NO_PROCEDURE: &str = "(không gắn hồ sơ)";

/// The petition counts of every group over `period`, as of moment `now`, in the same
/// buckets and groups as [`aggregate`]; only the petition fields are set.
///
/// - answered in the bucket: on time when at or before the due moment, else late;
/// - open and overdue: submitted before the bucket's end, not answered before it, due
///   before the end (or before `now`, if earlier) — late for 5.2, like a dossier in
///   progress past its due moment for 2.1;
/// - petitioned dossiers: distinct dossiers a petition submitted in the bucket is about,
///   and of those the ones rated unsatisfied in the bucket.
pub fn aggregate_petitions(
    petitions: &[PetitionFact],
    period: Period,
    group_by: GroupBy,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> BTreeMap<String, Counts> {
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    for (month, start, end) in buckets(period, group_by, offset) {
        let as_of = end.min(now);
        let within = |t: DateTime<Utc>| start <= t && t < end;
        let mut seen: std::collections::BTreeSet<(String, String)> = Default::default();
        for p in petitions {
            let key = month
                .clone()
                .unwrap_or_else(|| key_of(group_by, &p.agency, &p.procedure, &p.level));
            let answered = p.answered_at.filter(|a| within(*a));
            let open_overdue =
                p.submitted_at < end && p.answered_at.is_none_or(|a| a >= end) && p.due_at < as_of;
            let petitioned = within(p.submitted_at)
                .then_some(p.dossier.as_ref())
                .flatten()
                .filter(|d| seen.insert((key.clone(), (*d).clone())));
            if answered.is_none() && !open_overdue && petitioned.is_none() {
                continue;
            }
            let c = out.entry(key).or_default();
            match answered {
                Some(a) if a <= p.due_at => c.petitions_answered_on_time += 1,
                Some(_) => c.petitions_answered_late += 1,
                None => {}
            }
            c.petitions_open_overdue += i64::from(open_overdue);
            if petitioned.is_some() {
                c.petitioned_dossiers += 1;
                c.petitioned_dossiers_rated_negative +=
                    i64::from(p.dossier_rated_negative_at.is_some_and(within));
            }
        }
    }
    out
}

/// One indicator's definition: its name, formula and source, for the report and the docs.
#[derive(Debug, Clone, Serialize)]
pub struct Definition {
    pub name: &'static str,
    pub formula: &'static str,
    pub source: &'static str,
}

pub const DEFINITIONS: &[Definition] = &[
    Definition {
        name: "on_time_rate",
        formula: "(finished_early + finished_on_time) ÷ (finished_early + finished_on_time + finished_late) × 100",
        source: "KH 136/KH-UBND 2021 I.2: 100% hồ sơ trả kết quả đúng hạn, trước hạn",
    },
    Definition {
        name: "qd766_on_time_rate",
        formula: "(finished_early + finished_on_time + stopped_on_time + closed_incomplete + in_progress_within_time) ÷ handled × 100",
        source: "QĐ 766/QĐ-TTg 2022, chỉ số 2.1, per the national portal's formula description: a stopped or withdrawn dossier is on time when it ended at or before its due moment; more than one supplement request ⇒ late",
    },
    Definition {
        name: "online_rate",
        formula: "received_online ÷ received × 100",
        source: "KH 136 I.2 (≥ 50%); QĐ 766 chỉ số 3.3",
    },
    Definition {
        name: "electronic_handover_rate",
        formula: "handovers_electronic ÷ handovers_total × 100",
        source: "KH 136 I.2: ≥ 80% hồ sơ luân chuyển bằng phương thức điện tử",
    },
    Definition {
        name: "digitisation_rate",
        formula: "digitised ÷ received × 100 (digitised: every paper has a file or a reused document)",
        source: "KH 136 I.2: 100% hồ sơ được số hóa; QĐ 766 chỉ số 4.2",
    },
    Definition {
        name: "qd766_digitisation_rate",
        formula: "digitised_with_result ÷ received × 100 (digitised, and with the electronic result where the procedure yields a document)",
        source: "QĐ 766 chỉ số 4.2, per the national portal's formula description",
    },
    Definition {
        name: "result_digitisation_rate",
        formula: "results_electronic ÷ results_total × 100",
        source: "KH 136 I.2: số hóa kết quả giải quyết TTHC; QĐ 766 chỉ số 4.1",
    },
    Definition {
        name: "reuse_rate",
        formula: "reusing_data ÷ received × 100",
        source: "KH 136 I.2: có giá trị tái sử dụng; QĐ 766 chỉ số 4.3–4.4",
    },
    Definition {
        name: "satisfaction_rate",
        formula: "ratings_satisfied ÷ ratings_total × 100",
        source: "KH 136 I.2: > 85% (2023), ≥ 95% (2025); QĐ 766 nhóm 5",
    },
    Definition {
        name: "qd766_petition_on_time_rate",
        formula: "petitions_answered_on_time ÷ (petitions_answered_on_time + petitions_answered_late + petitions_open_overdue) × 100",
        source: "QĐ 766 chỉ số 5.2 (phản ánh, kiến nghị được xử lý đúng hạn; as restated publicly); the deadline is config/petitions.toml (NĐ 20/2008/NĐ-CP as amended by NĐ 92/2017/NĐ-CP; MẪU — cần kiểm tra)",
    },
    Definition {
        name: "qd766_satisfaction_index",
        formula: "(finished_early + finished_on_time + stopped_on_time + closed_incomplete + in_progress_within_time − (ratings_total − ratings_satisfied + petitioned_dossiers − petitioned_dossiers_rated_negative)) ÷ handled × 100, at least 0 (= 100 − late rate − rate of dossiers with a petition or a negative rating; late as in 2.1)",
        source: "QĐ 766 chỉ số 5.4 (as restated publicly: 100% − (tỷ lệ hồ sơ trễ hạn + tỷ lệ hồ sơ bị phản ánh, kiến nghị hoặc đánh giá không hài lòng))",
    },
    Definition {
        name: "online_payment_rate",
        formula: "paid_online ÷ fee_bearing × 100",
        source: "QĐ 766 chỉ số 3.6",
    },
    Definition {
        name: "acknowledgement_on_time_rate",
        formula: "acknowledged_on_time ÷ (acknowledged_on_time + acknowledged_late) × 100",
        source: "NĐ 118/2025 Điều 17 khoản 2: trong 08 giờ làm việc, tiếp nhận chính thức hoặc yêu cầu bổ sung, hoàn thiện một lần",
    },
    Definition {
        name: "transfer_on_time_rate",
        formula: "transfers_on_time ÷ (transfers_on_time + transfers_late) × 100",
        source: "NĐ 118/2025 Điều 18 khoản 2 (trong ngày, hoặc đầu giờ ngày làm việc tiếp theo khi nhận sau 15 giờ) và Điều 20 khoản 1 điểm a (hồ sơ giấy khác cấp: 01 ngày làm việc)",
    },
    Definition {
        name: "avg_handling_working_days",
        formula: "Σ (working minutes receipt→return − stopped-clock minutes) ÷ returned ÷ minutes of a working day",
        source: "QĐ 766 chỉ số 2.2",
    },
];

/// QĐ 766 scoring where a target `t` (percent) exists: full points at or above it,
/// otherwise proportionally.
pub fn score(rate: f64, target: f64, points: f64) -> f64 {
    if target <= 0.0 || rate >= target {
        points
    } else {
        ((rate * points / target) * 100.0).round() / 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("{s}:00+07:00"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn dossier(
        code: &str,
        received: &str,
        finished: Option<&str>,
        outcome: Option<&str>,
    ) -> DossierFacts {
        DossierFacts {
            code: code.into(),
            agency: "A".into(),
            level: "commune".into(),
            procedure: "P".into(),
            channel: "counter".into(),
            received_at: t(received),
            finished_at: finished.map(t),
            status: if finished.is_some() {
                "returned"
            } else {
                "in_progress"
            }
            .into(),
            outcome: outcome.map(String::from),
            decision: finished.map(|_| "approved".into()),
            due_at: t("2026-02-10T17:00"),
            late_by_rule: false,
            supplement_requested: false,
            digitised: false,
            reused: false,
            results: 0,
            results_electronic: 0,
            fee_bearing: false,
            paid_online: false,
            rating: None,
            rated_at: None,
            handling_minutes: None,
            yields_document: false,
        }
    }

    #[test]
    fn buckets_carry_over_and_the_identity_holds() {
        let ds = vec![
            // Received in December, finished in January: carried into January.
            dossier(
                "a",
                "2025-12-30T09:00",
                Some("2026-01-05T10:00"),
                Some("on_time"),
            ),
            // Received in January, still open at the end of February, due 10/02: overdue.
            dossier("b", "2026-01-20T09:00", None, None),
            // Received and finished in February, late.
            dossier(
                "c",
                "2026-02-02T09:00",
                Some("2026-02-20T10:00"),
                Some("late"),
            ),
        ];
        let p = Period {
            from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 2, 28).unwrap(),
        };
        let off = FixedOffset::east_opt(7 * 3600).unwrap();
        let now = t("2026-11-01T00:00");
        let m = aggregate(&ds, &[], &[], p, GroupBy::Month, off, now);
        let jan = &m["2026-01"];
        assert_eq!(
            (
                jan.received,
                jan.carried_over,
                jan.finished_on_time,
                jan.in_progress_within_time
            ),
            (1, 1, 1, 1)
        );
        let feb = &m["2026-02"];
        assert_eq!(
            (
                feb.received,
                feb.carried_over,
                feb.finished_late,
                feb.in_progress_overdue
            ),
            (1, 1, 1, 1)
        );
        for c in m.values() {
            assert_eq!(
                c.handled,
                c.finished() + c.stopped + c.in_progress_within_time + c.in_progress_overdue
            );
        }
        // Split across agencies, procedures and levels: each grouping sums to the total.
        let mut split = ds.clone();
        split[1].agency = "B".into();
        split[1].level = "unit".into();
        split[2].procedure = "Q".into();
        let handovers = [HandoverFact {
            at: t("2026-01-21T09:00"),
            agency: "B".into(),
            level: "unit".into(),
            procedure: "P".into(),
            electronic: true,
            transfer_on_time: None,
        }];
        let total = &aggregate(&split, &handovers, &[], p, GroupBy::Total, off, now)["total"];
        assert_eq!(total.handovers_total, 1);
        for g in [GroupBy::Agency, GroupBy::Procedure, GroupBy::Level] {
            let groups = aggregate(&split, &handovers, &[], p, g, off, now);
            assert_eq!(groups.len(), 2, "{g:?}");
            let mut sum = Counts::default();
            for c in groups.values() {
                sum.add(c);
            }
            assert_eq!(&sum, total, "{g:?}");
        }
        let total = &aggregate(&ds, &[], &[], p, GroupBy::Total, off, now)["total"];
        assert_eq!(
            (
                total.received,
                total.carried_over,
                total.finished(),
                total.in_progress_overdue
            ),
            (2, 1, 2, 1)
        );
        let r = rates(total, 480);
        assert_eq!(r.on_time_rate, Some(50.0));
        assert_eq!(r.qd766_on_time_rate, Some(33.33));
        // 3 handled, 1 finished late, 1 overdue, no ratings: 100 − 66.67.
        assert_eq!(r.qd766_satisfaction_index, Some(33.33));
    }

    #[test]
    fn stopped_closed_and_late_requests_count_as_the_law_says() {
        let off = FixedOffset::east_opt(7 * 3600).unwrap();
        let now = t("2026-11-30T00:00");
        let p = Period {
            from: NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 2, 28).unwrap(),
        };
        // All due 10/02 17:00.
        let stopped_early = DossierFacts {
            status: "stopped".into(),
            outcome: None,
            decision: None,
            ..dossier("s1", "2026-02-02T09:00", Some("2026-02-10T17:00"), None)
        };
        let stopped_late = DossierFacts {
            status: "stopped".into(),
            outcome: None,
            decision: None,
            ..dossier("s2", "2026-02-02T09:00", Some("2026-02-11T08:00"), None)
        };
        let closed = DossierFacts {
            status: "closed".into(),
            outcome: None,
            decision: None,
            // Closed after the due moment: still not late.
            ..dossier("c1", "2026-02-02T09:00", Some("2026-02-20T08:00"), None)
        };
        // Digitised, the procedure yields a document: counted for 4.2 only once its
        // electronic result exists.
        let without_result = DossierFacts {
            digitised: true,
            yields_document: true,
            ..dossier(
                "d1",
                "2026-02-03T09:00",
                Some("2026-02-09T09:00"),
                Some("early"),
            )
        };
        let with_result = DossierFacts {
            results: 1,
            results_electronic: 1,
            ..without_result.clone()
        };
        let no_document = DossierFacts {
            digitised: true,
            ..dossier(
                "d2",
                "2026-02-03T09:00",
                Some("2026-02-09T09:00"),
                Some("early"),
            )
        };
        let ds = vec![
            stopped_early,
            stopped_late,
            closed,
            without_result,
            no_document,
        ];
        let late = [ActFact {
            at: t("2026-02-06T09:00"),
            agency: "B".into(),
            level: "unit".into(),
            procedure: "P".into(),
            kind: ActKind::RequestSupplement,
            late: true,
        }];
        let m = aggregate(&ds, &[], &late, p, GroupBy::Agency, off, now);
        let a = &m["A"];
        assert_eq!((a.stopped, a.stopped_on_time), (2, 1));
        assert_eq!(a.closed_incomplete, 1);
        assert_eq!(a.finished(), 2);
        assert_eq!(
            a.handled,
            a.finished()
                + a.stopped
                + a.closed_incomplete
                + a.in_progress_within_time
                + a.in_progress_overdue
        );
        assert_eq!((a.digitised, a.digitised_with_result), (2, 1));
        assert_eq!(m["B"].supplement_requests_late, 1);
        assert_eq!(a.supplement_requests_late, 0);
        // 2.1: 2 early + 1 stopped on time + 1 closed of 5 handled; the late stop is late.
        let r = rates(a, 480);
        assert_eq!(r.qd766_on_time_rate, Some(80.0));
        assert_eq!(r.qd766_digitisation_rate, Some(20.0));
        assert_eq!(r.qd766_satisfaction_index, Some(80.0));
        let mut ds2 = ds.clone();
        ds2[3] = with_result;
        let a = &aggregate(&ds2, &[], &late, p, GroupBy::Agency, off, now)["A"];
        assert_eq!(a.digitised_with_result, 2);
        // The rollup's contributions give the same counts.
        let mut sum = Counts::default();
        for d in &ds2 {
            for ((_, c), v) in contributions(d, off) {
                c.add_to(&mut sum, v);
            }
        }
        assert_eq!(
            (
                sum.stopped_on_time,
                sum.closed_incomplete,
                sum.digitised_with_result
            ),
            (1, 1, 2)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// The rollup's overdue flows, summed over the local days before a midnight E,
        /// count exactly the dossiers in progress at E and past their due moment.
        #[test]
        fn the_overdue_flows_count_the_overdue_stock(
            dossiers in proptest::collection::vec(
                (0i64..60 * 24 * 60, 0i64..20 * 24 * 60, proptest::option::of(0i64..40 * 24 * 60)),
                0..40,
            ),
            end_day in 0i64..70,
        ) {
            let off = FixedOffset::east_opt(7 * 3600).unwrap();
            let origin = t("2026-01-01T00:00");
            let end = origin + chrono::Duration::days(end_day);
            let mut flows = 0i64;
            let mut stock = 0i64;
            for (r, due_after, fin_after) in &dossiers {
                let received = origin + chrono::Duration::minutes(*r);
                let due = received + chrono::Duration::minutes(*due_after);
                let finished = fin_after.map(|f| received + chrono::Duration::minutes(f));
                for (at, c) in due_flows(due, finished) {
                    if at.with_timezone(&off).date_naive() < end.with_timezone(&off).date_naive() {
                        flows += if c == Column::BecameDue { 1 } else { -1 };
                    }
                }
                let in_progress = received < end && finished.is_none_or(|f| f >= end);
                stock += i64::from(in_progress && due < end);
            }
            proptest::prop_assert_eq!(flows, stock);
        }
    }

    #[test]
    fn the_docs_page_carries_every_definition_word_for_word() {
        let page = include_str!("../../docs/indicators.md");
        for d in DEFINITIONS {
            let row = format!("| `{}` | {} | {} |", d.name, d.formula, d.source);
            assert!(
                page.contains(&row),
                "docs/indicators.md lacks the row {row}"
            );
        }
        let counts = serde_json::to_value(Counts::default()).unwrap();
        for name in counts.as_object().unwrap().keys() {
            assert!(
                page.contains(&format!("`{name}`")),
                "docs/indicators.md does not define {name}"
            );
        }
    }

    fn petition(
        agency: &str,
        submitted: &str,
        due: &str,
        answered: Option<&str>,
        dossier: Option<&str>,
    ) -> PetitionFact {
        PetitionFact {
            agency: agency.into(),
            level: "commune".into(),
            procedure: if dossier.is_some() {
                "P".into()
            } else {
                NO_PROCEDURE.into()
            },
            submitted_at: t(submitted),
            due_at: t(due),
            answered_at: answered.map(t),
            dossier: dossier.map(String::from),
            dossier_rated_negative_at: None,
        }
    }

    #[test]
    fn petitions_answered_late_or_open_past_due_count_late_for_5_2() {
        let march = Period {
            from: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
        };
        let off = FixedOffset::east_opt(7 * 3600).unwrap();
        let due = "2026-03-24T17:00";
        let list = vec![
            // Three answered on time (one exactly at the due moment).
            petition("A", "2026-03-10T09:00", due, Some("2026-03-12T10:00"), None),
            petition("A", "2026-03-10T09:00", due, Some("2026-03-20T10:00"), None),
            petition("A", "2026-03-10T09:00", due, Some(due), None),
            // One answered a minute late.
            petition("A", "2026-03-10T09:00", due, Some("2026-03-24T17:01"), None),
            // One open and past due.
            petition("A", "2026-03-10T09:00", due, None, None),
            // Open within time at the report's moment: not counted.
            petition("A", "2026-03-27T09:00", "2026-04-10T17:00", None, None),
            // Answered in February: outside the period.
            petition(
                "A",
                "2026-02-02T09:00",
                "2026-02-16T17:00",
                Some("2026-02-10T09:00"),
                None,
            ),
            // Submitted in April: outside.
            petition("A", "2026-04-02T09:00", "2026-04-16T17:00", None, None),
        ];
        let now = t("2026-03-30T12:00");
        let by = aggregate_petitions(&list, march, GroupBy::Total, off, now);
        let c = &by["total"];
        assert_eq!(
            (
                c.petitions_answered_on_time,
                c.petitions_answered_late,
                c.petitions_open_overdue
            ),
            (3, 1, 1)
        );
        assert_eq!(rates(c, 480).qd766_petition_on_time_rate, Some(60.0));
        // The same petitions by month: March as the total, February its own answer.
        let feb_mar = Period {
            from: NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
            to: march.to,
        };
        let by = aggregate_petitions(&list, feb_mar, GroupBy::Month, off, now);
        assert_eq!(by["2026-02"].petitions_answered_on_time, 1);
        assert_eq!(by["2026-03"].petitions_due(), 5);
        // No petition due: no rate.
        assert_eq!(
            rates(&Counts::default(), 480).qd766_petition_on_time_rate,
            None
        );
    }

    #[test]
    fn a_dossier_with_a_petition_counts_once_against_5_4() {
        let march = Period {
            from: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
        };
        let off = FixedOffset::east_opt(7 * 3600).unwrap();
        let due = "2026-03-24T17:00";
        let mut rated = petition("A", "2026-03-11T09:00", due, None, Some("D2"));
        rated.dossier_rated_negative_at = Some(t("2026-03-05T10:00"));
        let list = vec![
            // Two petitions about D1: one dossier.
            petition("A", "2026-03-10T09:00", due, None, Some("D1")),
            petition("A", "2026-03-12T09:00", due, None, Some("D1")),
            // D2 also rated unsatisfied in March: already a negative rating.
            rated,
            // A petition about no dossier: 5.2 only.
            petition("A", "2026-03-12T09:00", due, None, None),
        ];
        let by = aggregate_petitions(&list, march, GroupBy::Agency, off, t("2026-03-20T12:00"));
        let p = &by["A"];
        assert_eq!(
            (p.petitioned_dossiers, p.petitioned_dossiers_rated_negative),
            (2, 1)
        );
        // 10 handled, all on time; one negative rating (D2's).
        let mut c = Counts {
            received: 10,
            handled: 10,
            finished_on_time: 10,
            ratings_total: 3,
            ratings_satisfied: 2,
            ..Counts::default()
        };
        assert_eq!(rates(&c, 480).qd766_satisfaction_index, Some(90.0));
        c.add_petitions(p);
        // D1 and D2: 2 of 10 → 100 − (0 + 20) = 80.
        assert_eq!(c.dossiers_with_complaint(), 2);
        assert_eq!(rates(&c, 480).qd766_satisfaction_index, Some(80.0));
    }

    #[test]
    fn percentages_and_scores() {
        assert_eq!(percent(2, 3), Some(66.67));
        assert_eq!(percent(1, 0), None);
        assert_eq!(score(40.0, 50.0, 10.0), 8.0);
        assert_eq!(score(60.0, 50.0, 10.0), 10.0);
    }
}

/// A column of the daily rollup (`stats_daily`): counts kept per owner agency (giving
/// agency for hand-overs), procedure and local day, in the same transaction as the event
/// that changes them. Summing them gives what [`aggregate`] counts from the dossiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    Received,
    ReceivedCounter,
    ReceivedOnline,
    ReceivedPost,
    FinishedEarly,
    FinishedOnTime,
    FinishedLate,
    Refused,
    Stopped,
    SupplementRequested,
    HandoversTotal,
    HandoversElectronic,
    ResultsTotal,
    ResultsElectronic,
    Digitised,
    ReusingData,
    RatingsTotal,
    RatingsSatisfied,
    FeeBearing,
    PaidOnline,
    HandlingMinutes,
    HandlingCount,
    /// Dossiers whose due moment falls on the day (the overdue stock's inflow).
    BecameDue,
    /// Dossiers past their due moment that stop being in progress on the day: the later of
    /// the due moment and the finish (the overdue stock's outflow).
    ClearedDue,
    StoppedOnTime,
    ClosedIncomplete,
    /// Late supplement requests, on the day of the request, by the requesting agency
    /// (added as they happen, like hand-overs).
    SupplementRequestsLate,
    DigitisedWithResult,
    /// The desk's acts, by the receiving agency on their day (added as they happen).
    Submitted,
    AcknowledgedOnTime,
    AcknowledgedLate,
    CorrectionsRequested,
    RefusedAtIntake,
    /// Transfers out of the receiving desk, by the giving agency (added as they happen).
    TransfersOnTime,
    TransfersLate,
}

impl Column {
    pub const ALL: [Column; 35] = [
        Column::Received,
        Column::ReceivedCounter,
        Column::ReceivedOnline,
        Column::ReceivedPost,
        Column::FinishedEarly,
        Column::FinishedOnTime,
        Column::FinishedLate,
        Column::Refused,
        Column::Stopped,
        Column::SupplementRequested,
        Column::HandoversTotal,
        Column::HandoversElectronic,
        Column::ResultsTotal,
        Column::ResultsElectronic,
        Column::Digitised,
        Column::ReusingData,
        Column::RatingsTotal,
        Column::RatingsSatisfied,
        Column::FeeBearing,
        Column::PaidOnline,
        Column::HandlingMinutes,
        Column::HandlingCount,
        Column::BecameDue,
        Column::ClearedDue,
        Column::StoppedOnTime,
        Column::ClosedIncomplete,
        Column::SupplementRequestsLate,
        Column::DigitisedWithResult,
        Column::Submitted,
        Column::AcknowledgedOnTime,
        Column::AcknowledgedLate,
        Column::CorrectionsRequested,
        Column::RefusedAtIntake,
        Column::TransfersOnTime,
        Column::TransfersLate,
    ];

    /// The column's name in `stats_daily` (and in [`Counts`]).
    pub fn name(self) -> &'static str {
        match self {
            Column::Received => "received",
            Column::ReceivedCounter => "received_counter",
            Column::ReceivedOnline => "received_online",
            Column::ReceivedPost => "received_post",
            Column::FinishedEarly => "finished_early",
            Column::FinishedOnTime => "finished_on_time",
            Column::FinishedLate => "finished_late",
            Column::Refused => "refused",
            Column::Stopped => "stopped",
            Column::SupplementRequested => "supplement_requested",
            Column::HandoversTotal => "handovers_total",
            Column::HandoversElectronic => "handovers_electronic",
            Column::ResultsTotal => "results_total",
            Column::ResultsElectronic => "results_electronic",
            Column::Digitised => "digitised",
            Column::ReusingData => "reusing_data",
            Column::RatingsTotal => "ratings_total",
            Column::RatingsSatisfied => "ratings_satisfied",
            Column::FeeBearing => "fee_bearing",
            Column::PaidOnline => "paid_online",
            Column::HandlingMinutes => "handling_minutes",
            Column::HandlingCount => "handling_count",
            Column::BecameDue => "became_due",
            Column::ClearedDue => "cleared_due",
            Column::StoppedOnTime => "stopped_on_time",
            Column::ClosedIncomplete => "closed_incomplete",
            Column::SupplementRequestsLate => "supplement_requests_late",
            Column::DigitisedWithResult => "digitised_with_result",
            Column::Submitted => "submitted",
            Column::AcknowledgedOnTime => "acknowledged_on_time",
            Column::AcknowledgedLate => "acknowledged_late",
            Column::CorrectionsRequested => "corrections_requested",
            Column::RefusedAtIntake => "refused_at_intake",
            Column::TransfersOnTime => "transfers_on_time",
            Column::TransfersLate => "transfers_late",
        }
    }

    /// Adds `v` to this column of `c` (the overdue flows are not counts of their own: the
    /// report turns their running difference into `in_progress_overdue`).
    pub fn add_to(self, c: &mut Counts, v: i64) {
        let f = match self {
            Column::BecameDue | Column::ClearedDue => return,
            Column::Received => &mut c.received,
            Column::ReceivedCounter => &mut c.received_counter,
            Column::ReceivedOnline => &mut c.received_online,
            Column::ReceivedPost => &mut c.received_post,
            Column::FinishedEarly => &mut c.finished_early,
            Column::FinishedOnTime => &mut c.finished_on_time,
            Column::FinishedLate => &mut c.finished_late,
            Column::Refused => &mut c.refused,
            Column::Stopped => &mut c.stopped,
            Column::SupplementRequested => &mut c.supplement_requested,
            Column::HandoversTotal => &mut c.handovers_total,
            Column::HandoversElectronic => &mut c.handovers_electronic,
            Column::ResultsTotal => &mut c.results_total,
            Column::ResultsElectronic => &mut c.results_electronic,
            Column::Digitised => &mut c.digitised,
            Column::ReusingData => &mut c.reusing_data,
            Column::RatingsTotal => &mut c.ratings_total,
            Column::RatingsSatisfied => &mut c.ratings_satisfied,
            Column::FeeBearing => &mut c.fee_bearing,
            Column::PaidOnline => &mut c.paid_online,
            Column::HandlingMinutes => &mut c.handling_minutes,
            Column::HandlingCount => &mut c.handling_count,
            Column::StoppedOnTime => &mut c.stopped_on_time,
            Column::ClosedIncomplete => &mut c.closed_incomplete,
            Column::SupplementRequestsLate => &mut c.supplement_requests_late,
            Column::DigitisedWithResult => &mut c.digitised_with_result,
            Column::Submitted => &mut c.submitted,
            Column::AcknowledgedOnTime => &mut c.acknowledged_on_time,
            Column::AcknowledgedLate => &mut c.acknowledged_late,
            Column::CorrectionsRequested => &mut c.corrections_requested,
            Column::RefusedAtIntake => &mut c.refused_at_intake,
            Column::TransfersOnTime => &mut c.transfers_on_time,
            Column::TransfersLate => &mut c.transfers_late,
        };
        *f += v;
    }
}

/// A change to one cell of the daily rollup: (agency, procedure, local day) → column += delta.
pub type RollupKey = (String, String, NaiveDate);

/// What one dossier's facts add to the daily rollup (hand-overs are added as they happen).
pub fn contributions(d: &DossierFacts, offset: FixedOffset) -> BTreeMap<(RollupKey, Column), i64> {
    let mut out = BTreeMap::new();
    let day = |t: DateTime<Utc>| t.with_timezone(&offset).date_naive();
    let mut add = |t: DateTime<Utc>, c: Column, v: i64| {
        if v != 0 {
            *out.entry(((d.agency.clone(), d.procedure.clone(), day(t)), c))
                .or_insert(0) += v;
        }
    };
    let r = d.received_at;
    add(r, Column::Received, 1);
    add(
        r,
        match d.channel.as_str() {
            "online" => Column::ReceivedOnline,
            "post" => Column::ReceivedPost,
            _ => Column::ReceivedCounter,
        },
        1,
    );
    add(
        r,
        Column::SupplementRequested,
        i64::from(d.supplement_requested),
    );
    add(r, Column::Digitised, i64::from(d.digitised));
    add(
        r,
        Column::DigitisedWithResult,
        i64::from(d.digitised_with_result()),
    );
    add(r, Column::ReusingData, i64::from(d.reused));
    add(r, Column::FeeBearing, i64::from(d.fee_bearing));
    add(
        r,
        Column::PaidOnline,
        i64::from(d.fee_bearing && d.paid_online),
    );
    if let Some(f) = d.finished_at {
        if d.status == "stopped" {
            add(f, Column::Stopped, 1);
            add(f, Column::StoppedOnTime, i64::from(d.stopped_on_time()));
        } else if d.status == "closed" {
            add(f, Column::ClosedIncomplete, 1);
        } else {
            let c = match d.outcome.as_deref() {
                Some("early") => Column::FinishedEarly,
                Some("on_time") => Column::FinishedOnTime,
                _ => Column::FinishedLate,
            };
            add(f, c, 1);
            add(
                f,
                Column::Refused,
                i64::from(d.decision.as_deref() == Some("refused")),
            );
            add(f, Column::ResultsTotal, i64::from(d.results > 0));
            add(
                f,
                Column::ResultsElectronic,
                i64::from(d.results_electronic > 0),
            );
            if let Some(m) = d.handling_minutes {
                add(f, Column::HandlingMinutes, m);
                add(f, Column::HandlingCount, 1);
            }
        }
    }
    for (t, c) in due_flows(d.due_at, d.finished_at) {
        add(t, c, 1);
    }
    if let Some(t) = d.rated_at {
        add(t, Column::RatingsTotal, 1);
        add(
            t,
            Column::RatingsSatisfied,
            i64::from(matches!(
                d.rating.as_deref(),
                Some("very_satisfied" | "satisfied")
            )),
        );
    }
    out
}

/// A dossier's overdue flows: it becomes due at its due moment and stops counting as
/// overdue at the later of its due moment and its finish. Summed over the days before a
/// moment E, `BecameDue − ClearedDue` counts the dossiers due before E and not finished
/// before E: in progress at E and overdue as of E (received before E, since a dossier
/// is never due before its receipt).
pub fn due_flows(
    due_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
) -> Vec<(DateTime<Utc>, Column)> {
    let mut out = vec![(due_at, Column::BecameDue)];
    if let Some(f) = finished_at {
        out.push((f.max(due_at), Column::ClearedDue));
    }
    out
}

/// The overdue flows of many dossiers at once, as rollup changes: each dossier given as
/// (owner agency, procedure, due moment, finish), counted on local days of `offset`.
pub fn due_flow_changes<'a>(
    dossiers: impl IntoIterator<Item = (&'a str, &'a str, DateTime<Utc>, Option<DateTime<Utc>>)>,
    offset: FixedOffset,
) -> Vec<(RollupKey, Column, i64)> {
    let mut cells: BTreeMap<(RollupKey, Column), i64> = BTreeMap::new();
    for (agency, procedure, due, finished) in dossiers {
        for (t, c) in due_flows(due, finished) {
            let day = t.with_timezone(&offset).date_naive();
            *cells
                .entry(((agency.to_string(), procedure.to_string(), day), c))
                .or_insert(0) += 1;
        }
    }
    cells.into_iter().map(|((k, c), v)| (k, c, v)).collect()
}

/// The rollup changes that take a dossier from `before` (none when new) to `after`.
pub fn rollup_delta(
    before: Option<&DossierFacts>,
    after: &DossierFacts,
    offset: FixedOffset,
) -> Vec<(RollupKey, Column, i64)> {
    let mut m = contributions(after, offset);
    if let Some(b) = before {
        for (k, v) in contributions(b, offset) {
            *m.entry(k).or_insert(0) -= v;
        }
    }
    m.into_iter()
        .filter(|(_, v)| *v != 0)
        .map(|((key, col), v)| (key, col, v))
        .collect()
}
