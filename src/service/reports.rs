//! Reports: the indicators of an agency (and the agencies below it) over a period,
//! grouped, with the plan's targets and the QĐ 766 scores; the monthly public disclosure.
//! Counting rules live in [`crate::core::indicators`].

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;

use super::{Caller, Role};
use crate::app::App;
use crate::core::indicators::{
    aggregate, percent, rates, score, ActFact, ActKind, Counts, DossierFacts, GroupBy,
    HandoverFact, Period, Rates,
};
use crate::error::{AppError, AppResult};
use crate::store::reports::FactRow;
use crate::store::{from_db, to_db};

/// Indicator reports as last counted, by agency, scope, period and grouping, each with
/// when it was counted (`web.report_cache_s`). At most [`ReportMemo::MAX`] entries: the
/// oldest go first.
#[derive(Debug, Default)]
pub struct ReportMemo {
    entries:
        std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, IndicatorReport)>>,
}

impl ReportMemo {
    pub const MAX: usize = 256;

    fn get(&self, key: &str, ttl: std::time::Duration) -> Option<IndicatorReport> {
        let e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        e.get(key)
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, r)| r.clone())
    }

    fn put(&self, key: String, report: IndicatorReport) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if e.len() >= Self::MAX && !e.contains_key(&key) {
            if let Some(oldest) = e
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
            {
                e.remove(&oldest);
            }
        }
        e.insert(key, (std::time::Instant::now(), report));
    }
}

/// A request for indicators.
#[derive(Debug, Clone)]
pub struct IndicatorQuery {
    pub agency: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub descendants: bool,
    pub group_by: GroupBy,
    /// Count from every dossier instead of the daily rollup (slower; for checking).
    pub recompute: bool,
}

/// A figure against its target (the provincial plan's, `config/targets.toml`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TargetCheck {
    /// The rate's field name in `rates`, e.g. `on_time_rate`.
    pub indicator: String,
    /// The target, in percent (at least).
    pub target: f64,
    /// The rate reached; `null` when it has no denominator.
    pub value: Option<f64>,
    /// The value reaches the target (`false` without a value).
    pub met: bool,
    /// Percentage points short of the target (0 when met).
    pub gap: Option<f64>,
    /// The text the target comes from.
    pub source: Option<String>,
}

/// The figures of one group of a report (or of its total).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = IndicatorGroup)]
pub struct Group {
    /// The group: an agency's code, a procedure's code (`(không gắn hồ sơ)` for petitions
    /// about no dossier), a month `YYYY-MM`, an agency level's id; `total` for the total.
    pub key: String,
    /// The agency's, procedure's or level's name; for the total, the report agency's name;
    /// `null` for a month or a code no longer known.
    pub name: Option<String>,
    pub counts: Counts,
    pub rates: Rates,
    /// The plan's targets that apply to the group (by its agency level and the year of
    /// the period's end), each against the group's figure.
    pub targets: Vec<TargetCheck>,
}

/// A QĐ 766 indicator's score, from the total's rate.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Qd766Score {
    /// The indicator's number in QĐ 766, e.g. `2.1`.
    pub code: String,
    /// The rate's field name in `rates`.
    pub indicator: String,
    /// The points it carries.
    pub points: f64,
    /// The threshold, in percent, for the full points.
    pub target: f64,
    /// The rate reached; `null` without a denominator.
    pub value: Option<f64>,
    /// The points earned: all of them at or above the target, else in proportion (two
    /// decimals); `null` without a value.
    pub score: Option<f64>,
    /// Where the threshold and the points come from (config/targets.toml).
    pub source: String,
    /// The threshold or points are a sample, not verified against the text.
    pub sample: bool,
}

/// Catalogue figures of the procedures in scope.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CatalogueFigures {
    /// Procedures decided by an agency of the scope (named, or by its level).
    pub procedures: i64,
    /// Of them, offered fully online (dịch vụ công trực tuyến toàn trình).
    pub online_full: i64,
    /// Partly online (một phần).
    pub online_partial: i64,
    /// Published on the national portal (with a portal code).
    pub national_portal: i64,
    /// Statutory time or fee lower than at the baseline date.
    pub simplified: i64,
    /// The baseline date of `simplified` (`config/targets.toml`); `null`: none set.
    pub baseline_date: Option<NaiveDate>,
    /// `online_full` ÷ `procedures`, in percent.
    pub online_full_rate: Option<f64>,
    /// `national_portal` ÷ `procedures`, in percent.
    pub national_portal_rate: Option<f64>,
    /// `simplified` ÷ `procedures`, in percent.
    pub simplified_rate: Option<f64>,
}

/// The indicators of an agency (and those below it) over a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IndicatorReport {
    /// The report agency's code.
    pub agency: String,
    /// The agencies below it are counted too.
    pub descendants: bool,
    /// The period's first day (local).
    pub from: NaiveDate,
    /// The period's last day, included.
    pub to: NaiveDate,
    /// The whole scope over the whole period.
    pub total: Group,
    /// One per group of `group_by`, ordered by key; without `group_by`, at most the one
    /// group `total`.
    pub groups: Vec<Group>,
    /// The figures of the procedures the scope decides.
    pub catalogue: CatalogueFigures,
    /// The QĐ 766 scores of the total, in the order of `config/targets.toml`.
    pub qd766: Vec<Qd766Score>,
}

fn value_of(r: &Rates, name: &str) -> Option<f64> {
    match name {
        "on_time_rate" => r.on_time_rate,
        "online_rate" => r.online_rate,
        "electronic_handover_rate" => r.electronic_handover_rate,
        "digitisation_rate" => r.digitisation_rate,
        "reuse_rate" => r.reuse_rate,
        "satisfaction_rate" => r.satisfaction_rate,
        "online_payment_rate" => r.online_payment_rate,
        "result_digitisation_rate" => r.result_digitisation_rate,
        "qd766_on_time_rate" => r.qd766_on_time_rate,
        "qd766_digitisation_rate" => r.qd766_digitisation_rate,
        "acknowledgement_on_time_rate" => r.acknowledgement_on_time_rate,
        "transfer_on_time_rate" => r.transfer_on_time_rate,
        "qd766_petition_on_time_rate" => r.qd766_petition_on_time_rate,
        "qd766_satisfaction_index" => r.qd766_satisfaction_index,
        "avg_handling_working_days" => r.avg_handling_working_days,
        _ => None,
    }
}

/// A dossier's facts for the indicators, from its stored rows; none before its official
/// receipt.
pub fn facts_of(
    d: &crate::store::dossiers::DossierRow,
    p: &crate::store::dossiers::ProgressRow,
    level: String,
) -> Option<DossierFacts> {
    Some(DossierFacts {
        code: d.code.clone(),
        agency: d
            .competent_agency
            .clone()
            .unwrap_or_else(|| d.receiving_agency.clone()),
        level,
        procedure: d.procedure_code.clone(),
        channel: d.channel.clone(),
        received_at: from_db(d.received_at?),
        finished_at: d.finished_at.map(from_db),
        status: d.status.clone(),
        outcome: d.outcome.clone(),
        decision: p.decision.clone(),
        due_at: from_db(d.due_at?),
        late_by_rule: p.late_by_rule,
        supplement_requested: p.supplement_requests > 0,
        digitised: p.digitised,
        reused: p.reused,
        results: p.results,
        results_electronic: p.results_electronic,
        fee_bearing: p.fee_bearing,
        paid_online: p.paid_online,
        rating: p.rating.clone(),
        rated_at: p.rated_at.map(from_db),
        handling_minutes: p.handling_minutes,
        yields_document: p.yields_document,
    })
}

/// A dossier's facts from the row the store reads for the indicators; `level_of` gives
/// the owner agency's level. None for a dossier not received yet (an online submission):
/// it counts only from its official receipt.
pub fn facts_of_row(row: FactRow, level_of: &dyn Fn(&str) -> String) -> Option<DossierFacts> {
    let (a, b, c, d) = row;
    let owner = a.2.clone().unwrap_or_else(|| a.1.clone());
    Some(DossierFacts {
        code: a.0,
        level: level_of(&owner),
        agency: owner,
        procedure: a.3,
        channel: a.4,
        received_at: from_db(b.0?),
        finished_at: b.1.map(from_db),
        status: b.2,
        outcome: b.3,
        due_at: from_db(b.4?),
        late_by_rule: c.0,
        supplement_requested: c.1 > 0,
        digitised: c.2,
        reused: c.3,
        results: c.4,
        results_electronic: c.5,
        fee_bearing: d.0,
        paid_online: d.1,
        rating: d.2,
        rated_at: d.3.map(from_db),
        handling_minutes: d.4,
        decision: d.5,
        yields_document: d.6,
    })
}

/// Rollup columns that migrations added empty, with the instance fact that records their
/// filling from the dossiers: stopped on time and digitised with the electronic result
/// can be counted for dossiers that existed before migration 000008 (closures and late
/// supplement requests did not exist).
const FILLED_COLUMNS: &[(&str, &[crate::core::indicators::Column])] = &[(
    "rollup_columns_000008",
    &[
        crate::core::indicators::Column::StoppedOnTime,
        crate::core::indicators::Column::DigitisedWithResult,
    ],
)];

impl App {
    /// Fills the rollup columns added by migrations from the existing dossiers, once per
    /// database; how many dossiers each filling read.
    pub fn fill_rollup_columns(&self) -> AppResult<Vec<(&'static str, usize)>> {
        let offset = self.settings.offset;
        let mut out = Vec::new();
        for (fact, columns) in FILLED_COLUMNS {
            let n =
                crate::store::reports::fill_rollup_columns(&self.store, fact, columns, |rows| {
                    let mut cells = std::collections::BTreeMap::new();
                    for row in rows {
                        let Some(f) = facts_of_row(row.clone(), &|_| String::new()) else {
                            continue;
                        };
                        for (k, v) in crate::core::indicators::contributions(&f, offset) {
                            *cells.entry(k).or_insert(0) += v;
                        }
                    }
                    cells.into_iter().map(|((k, c), v)| (k, c, v)).collect()
                })?;
            if let Some(n) = n {
                out.push((*fact, n));
            }
        }
        Ok(out)
    }

    /// Keeps the daily rollup in step with a dossier's change from `before` (none when
    /// new) to `after`, inside the caller's transaction.
    pub fn roll(
        &self,
        conn: &mut crate::store::DbConnection,
        before: Option<(
            &crate::store::dossiers::DossierRow,
            &crate::store::dossiers::ProgressRow,
        )>,
        after: (
            &crate::store::dossiers::DossierRow,
            &crate::store::dossiers::ProgressRow,
        ),
    ) -> Result<(), crate::store::StoreError> {
        let changes = self.rollup_changes(before, after);
        if changes.is_empty() {
            return Ok(());
        }
        crate::store::reports::apply_rollup(conn, &changes)
    }

    /// What [`App::roll`] writes, not yet written (a new dossier writes it with its other
    /// rows, `store::new_dossier`).
    pub fn rollup_changes(
        &self,
        before: Option<(
            &crate::store::dossiers::DossierRow,
            &crate::store::dossiers::ProgressRow,
        )>,
        after: (
            &crate::store::dossiers::DossierRow,
            &crate::store::dossiers::ProgressRow,
        ),
    ) -> Vec<(
        crate::core::indicators::RollupKey,
        crate::core::indicators::Column,
        i64,
    )> {
        let offset = self.settings.offset;
        let b = before.and_then(|(d, p)| facts_of(d, p, String::new()));
        let Some(a) = facts_of(after.0, after.1, String::new()) else {
            // Not received yet: nothing counts but its acts.
            return Vec::new();
        };
        crate::core::indicators::rollup_delta(b.as_ref(), &a, offset)
    }

    fn group(
        &self,
        key: String,
        name: Option<String>,
        counts: Counts,
        level: Option<&str>,
        year: i32,
    ) -> Group {
        let r = rates(&counts, self.calendar.hours().minutes_per_day());
        let mut names: Vec<&str> = self
            .targets
            .targets
            .iter()
            .map(|t| t.indicator.as_str())
            .collect();
        names.dedup();
        let mut checks = Vec::new();
        for n in names {
            if checks.iter().any(|c: &TargetCheck| c.indicator == n) {
                continue;
            }
            if let Some(t) = self.targets.for_indicator(n, level, year) {
                let value = value_of(&r, n);
                checks.push(TargetCheck {
                    indicator: n.to_string(),
                    target: t.min,
                    value,
                    met: value.is_some_and(|v| v >= t.min),
                    gap: value.map(|v| ((t.min - v).max(0.0) * 100.0).round() / 100.0),
                    source: t.source.clone(),
                });
            }
        }
        Group {
            key,
            name,
            counts,
            rates: r,
            targets: checks,
        }
    }

    /// The agencies a report covers, checked against what `caller` may see.
    pub(crate) fn report_scope(
        &self,
        caller: &Caller,
        agency: &str,
        descendants: bool,
    ) -> AppResult<Vec<String>> {
        if !matches!(
            caller.role,
            Role::Leader | Role::Inspector | Role::Admin | Role::Official | Role::Clerk
        ) {
            return Err(AppError::forbidden("Tài khoản này không xem báo cáo"));
        }
        let own = self.scope_of(caller);
        if self.agencies.get(agency).is_none() {
            return Err(AppError::bad_request(
                "invalid_agency",
                format!("Cơ quan {agency} không tồn tại"),
            ));
        }
        if !own.iter().any(|a| a == agency) {
            return Err(AppError::forbidden(
                "Cơ quan này nằm ngoài phạm vi của tài khoản",
            ));
        }
        Ok(if descendants {
            self.agencies
                .descendants(agency)
                .into_iter()
                .map(|a| a.code.clone())
                .collect()
        } else {
            vec![agency.to_string()]
        })
    }

    /// Counts per group over `period` for the agencies `scope` (`None`: all), from the
    /// daily rollup: sums of its rows, carried-over and in-progress from the cumulative
    /// sums before each bucket, overdue from the index of dossiers that are or were
    /// overdue. Equal to [`App::indicator_counts`] (the full recomputation).
    pub fn indicator_counts_rollup(
        &self,
        scope: Option<&[String]>,
        period: Period,
        group_by: GroupBy,
        now: DateTime<Utc>,
    ) -> AppResult<BTreeMap<String, Counts>> {
        use crate::core::indicators::Column;
        let offset = self.settings.offset;
        let all: Vec<String>;
        let scope: &[String] = match scope {
            Some(s) => s,
            None => {
                all = self
                    .agencies
                    .agencies
                    .iter()
                    .map(|a| a.code.clone())
                    .collect();
                &all
            }
        };
        let level_of = |a: &str| {
            self.agencies
                .get(a)
                .map(|x| x.level.clone())
                .unwrap_or_default()
        };
        let key_of = |month: Option<&str>, agency: &str, procedure: &str| -> String {
            match (month, group_by) {
                (Some(m), _) => m.to_string(),
                (None, GroupBy::Agency) => agency.to_string(),
                (None, GroupBy::Procedure) => procedure.to_string(),
                (None, GroupBy::Level) => level_of(agency),
                _ => "total".into(),
            }
        };
        let idx = |c: Column| Column::ALL.iter().position(|x| *x == c).expect("listed");
        let open_change = |v: &[i64]| {
            v[idx(Column::Received)]
                - v[idx(Column::FinishedEarly)]
                - v[idx(Column::FinishedOnTime)]
                - v[idx(Column::FinishedLate)]
                - v[idx(Column::Stopped)]
                - v[idx(Column::ClosedIncomplete)]
        };
        let due_change = |v: &[i64]| v[idx(Column::BecameDue)] - v[idx(Column::ClearedDue)];
        let origin = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid");
        // Per (agency, procedure) at the start of the period: the open dossiers, and those
        // of them past their due moment.
        let mut open: BTreeMap<(String, String), i64> = BTreeMap::new();
        let mut past_due: BTreeMap<(String, String), i64> = BTreeMap::new();
        if let Some(before) = period.from.pred_opt() {
            for (a, p, v) in self.store.rollup_sums(scope, origin, before)? {
                *past_due.entry((a.clone(), p.clone())).or_insert(0) += due_change(&v);
                *open.entry((a, p)).or_insert(0) += open_change(&v);
            }
        }
        // The buckets: the whole period, or each month of it.
        let mut buckets: Vec<(Option<String>, NaiveDate, NaiveDate)> = Vec::new();
        if group_by == GroupBy::Month {
            let mut start = period.from;
            while start <= period.to {
                let next = if start.month() == 12 {
                    NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
                }
                .expect("valid");
                let last = next.pred_opt().expect("valid").min(period.to);
                buckets.push((
                    Some(format!("{:04}-{:02}", start.year(), start.month())),
                    start,
                    last,
                ));
                start = next;
            }
        } else {
            buckets.push((None, period.from, period.to));
        }
        // The bucket ends and the moments overdue is judged at (the end, or the report's
        // moment if earlier). Up to the report's moment the rollup's flows count the
        // dossiers past their due moment; the store reads what they do not (late by rule;
        // buckets ending after the report's moment), once for all buckets.
        let ends: Vec<(DateTime<Utc>, DateTime<Utc>)> = buckets
            .iter()
            .map(|(_, _, last)| {
                let end = crate::core::calendar::start_of_day_utc(
                    last.succ_opt().unwrap_or(*last),
                    offset,
                );
                (end, end.min(now))
            })
            .collect();
        let candidates = match (ends.first(), ends.last()) {
            (Some(first), Some(last)) => self.store.overdue_candidates(
                Some(scope),
                to_db(first.0),
                to_db(last.0),
                to_db(ends.iter().map(|e| e.1).max().unwrap_or(last.1)),
                ends.iter().find(|e| e.0 > now).map(|e| to_db(e.0)),
            )?,
            _ => Vec::new(),
        };
        let mut out: BTreeMap<String, Counts> = BTreeMap::new();
        for ((month, first, last), (end, as_of)) in buckets.into_iter().zip(ends) {
            let sums = self.store.rollup_sums(scope, first, last)?;
            let by_flows = end <= now;
            let mut overdue: BTreeMap<(String, String), i64> = BTreeMap::new();
            for c in candidates
                .iter()
                .filter(|c| (c.via_rule || !by_flows) && c.overdue_at(end, as_of))
            {
                *overdue
                    .entry((c.agency.clone(), c.procedure.clone()))
                    .or_insert(0) += 1;
            }
            let mut keys: std::collections::BTreeSet<(String, String)> =
                open.keys().cloned().collect();
            keys.extend(sums.iter().map(|(a, p, _)| (a.clone(), p.clone())));
            let by_key: BTreeMap<(String, String), Vec<i64>> =
                sums.into_iter().map(|(a, p, v)| ((a, p), v)).collect();
            let zero = vec![0; Column::ALL.len()];
            for k in keys {
                let carried = open.get(&k).copied().unwrap_or(0);
                let v = by_key.get(&k).unwrap_or(&zero);
                let at_end = carried + open_change(v);
                let due_at_end = past_due.get(&k).copied().unwrap_or(0) + due_change(v);
                past_due.insert(k.clone(), due_at_end);
                let late =
                    overdue.get(&k).copied().unwrap_or(0) + if by_flows { due_at_end } else { 0 };
                let reported = Column::ALL
                    .iter()
                    .zip(v)
                    .any(|(c, x)| *x != 0 && !matches!(c, Column::BecameDue | Column::ClearedDue));
                if carried == 0 && at_end == 0 && !reported {
                    continue;
                }
                let c = out.entry(key_of(month.as_deref(), &k.0, &k.1)).or_default();
                for (i, col) in Column::ALL.iter().enumerate() {
                    col.add_to(c, v[i]);
                }
                c.carried_over += carried;
                c.in_progress_overdue += late;
                c.in_progress_within_time += at_end - late;
                open.insert(k, at_end);
            }
        }
        for c in out.values_mut() {
            c.handled = c.received + c.carried_over;
        }
        Ok(out)
    }

    /// Counts per group over `period` for the agencies `scope` (`None`: all), recomputed
    /// from every relevant dossier.
    pub fn indicator_counts(
        &self,
        scope: Option<&[String]>,
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
        let level_of = |a: &str| {
            self.agencies
                .get(a)
                .map(|x| x.level.clone())
                .unwrap_or_default()
        };
        let facts: Vec<DossierFacts> = self
            .store
            .indicator_facts(scope, to_db(start), to_db(end))?
            .into_iter()
            .filter_map(|row| facts_of_row(row, &level_of))
            .collect();
        let handovers: Vec<HandoverFact> = self
            .store
            .handover_facts(scope, to_db(start), to_db(end))?
            .into_iter()
            .map(
                |(at, agency, procedure, electronic, transfer)| HandoverFact {
                    at: from_db(at),
                    level: level_of(&agency),
                    agency,
                    procedure,
                    electronic,
                    transfer_on_time: transfer.map(|t| t == "on_time"),
                },
            )
            .collect();
        let acts: Vec<ActFact> = self
            .store
            .act_facts(scope, to_db(start), to_db(end))?
            .into_iter()
            .filter_map(|(at, agency, procedure, kind, late)| {
                Some(ActFact {
                    at: from_db(at),
                    level: level_of(&agency),
                    agency,
                    procedure,
                    kind: ActKind::parse(&kind)?,
                    late,
                })
            })
            .collect();
        Ok(aggregate(
            &facts, &handovers, &acts, period, group_by, offset, now,
        ))
    }

    /// `GET /api/v1/reports/indicators` and the leaders' dashboard: the report of `q`,
    /// reused from [`ReportMemo`] for `web.report_cache_s` when the same agency, scope,
    /// period and grouping were counted that recently, in the same minute, with no write
    /// by this process since (never with `recompute`). The caller's right to the agency
    /// is checked every time.
    pub fn indicators(
        &self,
        caller: &Caller,
        q: &IndicatorQuery,
        now: DateTime<Utc>,
    ) -> AppResult<IndicatorReport> {
        if q.to < q.from || (q.to - q.from).num_days() > 3660 {
            return Err(AppError::bad_request(
                "invalid_period",
                "Kỳ báo cáo: from ≤ to, tối đa 10 năm",
            ));
        }
        let agency = q.agency.clone().unwrap_or_else(|| caller.agency.clone());
        let scope = self.report_scope(caller, &agency, q.descendants)?;
        let ttl = std::time::Duration::from_secs(u64::from(self.settings.report_cache_s));
        if q.recompute || ttl.is_zero() {
            return self.count_report(q, agency, scope, now);
        }
        // Counted again after any write by this process, and in each new minute (the
        // dossiers in progress turn overdue with the clock).
        let key = format!(
            "{agency}|{}|{}|{}|{:?}|{}|{}",
            q.descendants,
            q.from,
            q.to,
            q.group_by,
            self.store.write_generation(),
            now.format("%Y-%m-%d %H:%M")
        );
        if let Some(r) = self.report_memo.get(&key, ttl) {
            return Ok(r);
        }
        let report = self.count_report(q, agency, scope, now)?;
        self.report_memo.put(key, report.clone());
        Ok(report)
    }

    /// Counts the report of `q` for `agency` over `scope` (checked by the caller).
    fn count_report(
        &self,
        q: &IndicatorQuery,
        agency: String,
        scope: Vec<String>,
        now: DateTime<Utc>,
    ) -> AppResult<IndicatorReport> {
        let period = Period {
            from: q.from,
            to: q.to,
        };
        let year = q.to.year();
        // Petitions are counted from their own table on both paths (they have no rollup).
        let count = |g: GroupBy| {
            let mut by = if q.recompute {
                self.indicator_counts(Some(&scope), period, g, now)
            } else {
                self.indicator_counts_rollup(Some(&scope), period, g, now)
            }?;
            for (key, p) in self.petition_counts(&scope, period, g, now)? {
                by.entry(key).or_default().add_petitions(&p);
            }
            Ok::<_, AppError>(by)
        };
        let by_group = count(q.group_by)?;
        let total_counts = match q.group_by {
            GroupBy::Total => by_group.get("total").cloned().unwrap_or_default(),
            // Months share their stocks (carried over, in progress): counted apart.
            GroupBy::Month => count(GroupBy::Total)?.remove("total").unwrap_or_default(),
            // The other groupings split the dossiers and hand-overs: the total is the sum.
            GroupBy::Agency | GroupBy::Procedure | GroupBy::Level => {
                let mut t = Counts::default();
                for c in by_group.values() {
                    t.add(c);
                }
                t
            }
        };
        let root_level = self.agencies.get(&agency).map(|a| a.level.clone());
        let groups = by_group
            .into_iter()
            .map(|(key, counts)| {
                let (name, level) = match q.group_by {
                    GroupBy::Agency => (
                        self.agencies.get(&key).map(|a| a.name.clone()),
                        self.agencies.get(&key).map(|a| a.level.clone()),
                    ),
                    GroupBy::Procedure => (
                        self.catalogue
                            .get(&key)
                            .map(|p| p.name.clone())
                            .or_else(|| {
                                (key == crate::core::indicators::NO_PROCEDURE)
                                    .then(|| "Phản ánh, kiến nghị không gắn hồ sơ".to_string())
                            }),
                        root_level.clone(),
                    ),
                    GroupBy::Level => (
                        self.agencies
                            .levels
                            .iter()
                            .find(|l| l.id == key)
                            .map(|l| l.name.clone()),
                        Some(key.clone()),
                    ),
                    _ => (None, root_level.clone()),
                };
                self.group(key, name, counts, level.as_deref(), year)
            })
            .collect();
        let total = self.group(
            "total".into(),
            self.agencies.get(&agency).map(|a| a.name.clone()),
            total_counts,
            root_level.as_deref(),
            year,
        );
        let qd766 = self
            .targets
            .qd766
            .iter()
            .map(|item| {
                let value = value_of(&total.rates, &item.indicator);
                Qd766Score {
                    code: item.code.clone(),
                    indicator: item.indicator.clone(),
                    points: item.points,
                    target: item.target,
                    value,
                    score: value.map(|v| score(v, item.target, item.points)),
                    source: item.source.clone(),
                    sample: item.sample,
                }
            })
            .collect();
        Ok(IndicatorReport {
            catalogue: self.catalogue_figures(&scope)?,
            agency,
            descendants: q.descendants,
            from: q.from,
            to: q.to,
            total,
            groups,
            qd766,
        })
    }

    /// Catalogue figures of the procedures decided by agencies of `scope` (named, or by
    /// their level).
    fn catalogue_figures(&self, scope: &[String]) -> AppResult<CatalogueFigures> {
        let levels: Vec<String> = scope
            .iter()
            .filter_map(|a| self.agencies.get(a).map(|x| x.level.clone()))
            .collect();
        let baseline = self.targets.baseline_date;
        let mut f = CatalogueFigures {
            baseline_date: baseline,
            ..CatalogueFigures::default()
        };
        for p in self.catalogue.procedures.values() {
            let in_scope = p
                .competent_agency
                .as_ref()
                .is_some_and(|a| scope.contains(a))
                || p.competent_level
                    .as_ref()
                    .is_some_and(|l| levels.contains(l));
            if !in_scope {
                continue;
            }
            f.procedures += 1;
            match p.online_level {
                crate::core::catalogue::OnlineLevel::Full => f.online_full += 1,
                crate::core::catalogue::OnlineLevel::Partial => f.online_partial += 1,
                crate::core::catalogue::OnlineLevel::None => {}
            }
            f.national_portal += i64::from(p.portal_code.is_some());
            if let Some(b) = baseline {
                let at = to_db(crate::core::calendar::start_of_day_utc(
                    b,
                    self.settings.offset,
                ));
                if let Some(old) = self.store.procedure_version_at(&p.code, at)? {
                    if let Ok(old) =
                        serde_json::from_str::<crate::core::catalogue::Procedure>(&old.definition)
                    {
                        let (a, b) = (old.time(), p.time());
                        let shorter = a.unit == b.unit && b.amount < a.amount;
                        if shorter || p.fee < old.fee {
                            f.simplified += 1;
                        }
                    }
                }
            }
        }
        f.online_full_rate = percent(f.online_full, f.procedures);
        f.national_portal_rate = percent(f.national_portal, f.procedures);
        f.simplified_rate = percent(f.simplified, f.procedures);
        Ok(f)
    }

    /// `GET /api/v1/public/stats?month=YYYY-MM`: per agency, received, finished, on-time
    /// and online rates; no personal data.
    pub fn public_stats(&self, month: &str, now: DateTime<Utc>) -> AppResult<Vec<Group>> {
        let bad = || AppError::bad_request("invalid_month", "month phải có dạng YYYY-MM");
        let (y, m) = month.split_once('-').ok_or_else(bad)?;
        let from = NaiveDate::from_ymd_opt(
            y.parse().map_err(|_| bad())?,
            m.parse().map_err(|_| bad())?,
            1,
        )
        .ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let to = if from.month() == 12 {
            NaiveDate::from_ymd_opt(from.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(from.year(), from.month() + 1, 1)
        }
        .and_then(|d| d.pred_opt())
        .ok_or_else(bad)?;
        let counts =
            self.indicator_counts_rollup(None, Period { from, to }, GroupBy::Agency, now)?;
        Ok(counts
            .into_iter()
            .map(|(key, c)| {
                let name = self.agencies.get(&key).map(|a| a.name.clone());
                let level = self.agencies.get(&key).map(|a| a.level.clone());
                self.group(key, name, c, level.as_deref(), from.year())
            })
            .collect())
    }
}
