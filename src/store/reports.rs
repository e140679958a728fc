//! What the indicators count, read from the dossiers, their processing state and the
//! hand-over log (the full recomputation; see `crate::core::indicators`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{dossier_progress, dossiers, handovers, stats_daily};
use super::DbConnection;
use super::{from_db, Store, StoreResult};
use crate::core::indicators::{Column, OverdueCandidate, RollupKey};
use diesel::sql_types::Text;

/// One dossier's facts as stored (times in UTC, as in the database).
pub type FactRow = (
    (String, String, Option<String>, String, String),
    (
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        String,
        Option<String>,
        Option<NaiveDateTime>,
    ),
    (bool, i32, bool, bool, i32, i32),
    (
        bool,
        bool,
        Option<String>,
        Option<NaiveDateTime>,
        Option<i64>,
        Option<String>,
        bool,
    ),
);

/// The columns of a [`FactRow`], in its order.
macro_rules! fact_columns {
    () => {
        (
            (
                dossiers::code,
                dossiers::receiving_agency,
                dossiers::competent_agency,
                dossiers::procedure_code,
                dossiers::channel,
            ),
            (
                dossiers::received_at,
                dossiers::finished_at,
                dossiers::status,
                dossiers::outcome,
                dossiers::due_at,
            ),
            (
                dossier_progress::late_by_rule,
                dossier_progress::supplement_requests,
                dossier_progress::digitised,
                dossier_progress::reused,
                dossier_progress::results,
                dossier_progress::results_electronic,
            ),
            (
                dossier_progress::fee_bearing,
                dossier_progress::paid_online,
                dossier_progress::rating,
                dossier_progress::rated_at,
                dossier_progress::handling_minutes,
                dossier_progress::decision,
                dossier_progress::yields_document,
            ),
        )
    };
}

/// One hand-over: moment, giving agency, procedure, electronic, transfer outcome.
pub type HandoverFactRow = (NaiveDateTime, String, String, bool, Option<String>);

/// One act with a time limit: moment, agency, procedure, kind, late.
pub type ActFactRow = (NaiveDateTime, String, String, String, bool);

impl Store {
    /// Dossiers that matter to `[start, end)`: received before `end` and not finished
    /// before `start`, or rated within it; owned (competent, else receiving) by `scope`
    /// when given.
    pub fn indicator_facts(
        &self,
        scope: Option<&[String]>,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> StoreResult<Vec<FactRow>> {
        let mut conn = self.conn()?;
        let mut q = dossiers::table
            .inner_join(dossier_progress::table)
            .filter(
                dossiers::received_at
                    .lt(end)
                    .and(
                        dossiers::finished_at
                            .is_null()
                            .or(dossiers::finished_at.ge(start)),
                    )
                    .or(dossier_progress::rated_at
                        .ge(start)
                        .and(dossier_progress::rated_at.lt(end))),
            )
            .into_boxed();
        if let Some(scope) = scope {
            q = q.filter(
                dossiers::competent_agency
                    .eq_any(scope.to_vec())
                    .or(dossiers::competent_agency
                        .is_null()
                        .and(dossiers::receiving_agency.eq_any(scope.to_vec()))),
            );
        }
        Ok(q.select(fact_columns!()).load(&mut *conn)?)
    }

    /// The acts the law gives a time limit done within `[start, end)` by agencies of
    /// `scope` (when given): moment, agency, procedure, kind, late.
    pub fn act_facts(
        &self,
        scope: Option<&[String]>,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> StoreResult<Vec<ActFactRow>> {
        use super::schema::deadline_acts as a;
        let mut conn = self.conn()?;
        let mut q = a::table
            .inner_join(dossiers::table)
            .filter(a::at.ge(start).and(a::at.lt(end)))
            .into_boxed();
        if let Some(scope) = scope {
            q = q.filter(a::agency_code.eq_any(scope.to_vec()));
        }
        Ok(q.select((
            a::at,
            a::agency_code,
            dossiers::procedure_code,
            a::kind,
            a::late,
        ))
        .load(&mut *conn)?)
    }

    /// Hand-overs given within `[start, end)` by agencies of `scope` (when given).
    pub fn handover_facts(
        &self,
        scope: Option<&[String]>,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> StoreResult<Vec<HandoverFactRow>> {
        let mut conn = self.conn()?;
        let mut q = handovers::table
            .inner_join(dossiers::table)
            .filter(handovers::at.ge(start).and(handovers::at.lt(end)))
            .into_boxed();
        if let Some(scope) = scope {
            q = q.filter(handovers::from_agency.eq_any(scope.to_vec()));
        }
        Ok(q.select((
            handovers::at,
            handovers::from_agency,
            dossiers::procedure_code,
            handovers::electronic,
            handovers::transfer_outcome,
        ))
        .load(&mut *conn)?)
    }
}

/// Applies rollup changes (inside the caller's transaction): one delta row per cell key,
/// appended to `stats_delta` — no row is shared with another writer, so writers of the
/// same cell do not wait for each other. [`Store::compact_rollup`] folds them into
/// `stats_daily`; readers sum both.
pub fn apply_rollup(
    conn: &mut DbConnection,
    changes: &[(RollupKey, Column, i64)],
) -> StoreResult<()> {
    let mut by_key: std::collections::BTreeMap<&RollupKey, Vec<(Column, i64)>> = Default::default();
    for (k, c, v) in changes {
        by_key.entry(k).or_default().push((*c, *v));
    }
    for ((agency, procedure, day), cells) in by_key {
        let pg = matches!(conn, DbConnection::Postgresql(_));
        let p = |i: usize| if pg { format!("${i}") } else { "?".to_string() };
        // One column once: a change may name a column twice.
        let mut merged: Vec<(Column, i64)> = Vec::new();
        for (c, v) in cells {
            match merged.iter_mut().find(|(m, _)| *m == c) {
                Some((_, total)) => *total += v,
                None => merged.push((c, v)),
            }
        }
        let names: Vec<&str> = merged.iter().map(|(c, _)| c.name()).collect();
        let values: Vec<String> = merged.iter().map(|(_, v)| v.to_string()).collect();
        // Column names come from a fixed list and values are integers: nothing from a
        // user reaches the SQL text.
        let sql_text = format!(
            "INSERT INTO stats_delta (agency_code, procedure_code, day, {}) VALUES ({}, {}, {}, {})",
            names.join(", "),
            p(1),
            p(2),
            p(3),
            values.join(", "),
        );
        let q = diesel::sql_query(sql_text)
            .bind::<Text, _>(agency)
            .bind::<Text, _>(procedure)
            .bind::<diesel::sql_types::Date, _>(*day);
        match conn {
            DbConnection::Postgresql(c) => {
                q.execute(c)?;
            }
            DbConnection::Sqlite(c) => {
                q.execute(c)?;
            }
        }
    }
    Ok(())
}

/// Advisory lock of the rollup's compaction on PostgreSQL (one process at a time).
const COMPACT_LOCK: i64 = 0x6d6f_7463_7561_0004;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

impl Store {
    /// Folds the rollup's deltas into `stats_daily` (one upsert per cell) and removes
    /// them, in one transaction: a report sees them on one side or the other, never both.
    /// Returns how many deltas were folded (0 when another process is folding).
    pub fn compact_rollup(&self) -> StoreResult<u64> {
        let cols: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
        let list = cols.join(", ");
        let sums = cols
            .iter()
            .map(|c| format!("COALESCE(SUM({c}), 0)"))
            .collect::<Vec<_>>()
            .join(", ");
        let set = cols
            .iter()
            .map(|c| format!("{c} = stats_daily.{c} + excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.write(None, |conn| -> StoreResult<u64> {
            match conn {
                DbConnection::Postgresql(c) => {
                    if !super::try_xact_lock(c, COMPACT_LOCK)? {
                        return Ok(0);
                    }
                    // Deletes what this statement sees (committed deltas); those of
                    // transactions still running stay for the next round.
                    let Count { n } = diesel::sql_query(format!(
                        "WITH moved AS (DELETE FROM stats_delta RETURNING *), \
                         folded AS (INSERT INTO stats_daily (agency_code, procedure_code, day, {list}) \
                         SELECT agency_code, procedure_code, day, {sums} FROM moved \
                         GROUP BY agency_code, procedure_code, day \
                         ON CONFLICT (agency_code, procedure_code, day) DO UPDATE SET {set} RETURNING 1) \
                         SELECT COUNT(*) AS n FROM moved"
                    ))
                    .get_result(c)?;
                    Ok(n as u64)
                }
                DbConnection::Sqlite(c) => {
                    // The write transaction is the only writer: every delta is committed.
                    let Count { n } =
                        diesel::sql_query("SELECT COUNT(*) AS n FROM stats_delta").get_result(c)?;
                    if n == 0 {
                        return Ok(0);
                    }
                    diesel::sql_query(format!(
                        "INSERT INTO stats_daily (agency_code, procedure_code, day, {list}) \
                         SELECT agency_code, procedure_code, day, {sums} FROM stats_delta WHERE true \
                         GROUP BY agency_code, procedure_code, day \
                         ON CONFLICT (agency_code, procedure_code, day) DO UPDATE SET {set}"
                    ))
                    .execute(c)?;
                    diesel::sql_query("DELETE FROM stats_delta").execute(c)?;
                    Ok(n as u64)
                }
            }
        })
    }
}

/// Fills the rollup's overdue flows (`became_due`, `cleared_due`) from every dossier,
/// once per database: migration 000007 added them empty, and only the application knows
/// the time zone that makes a moment a day. One transaction holding the rollup (other
/// writers wait), which sets the flows rather than adding to them (so events recorded
/// since the migration are not counted twice), and records the instance fact
/// `rollup_due_flows`. Returns how many dossiers were counted, or `None` when it was
/// already done.
pub fn fill_due_flows(store: &Store, offset: chrono::FixedOffset) -> StoreResult<Option<usize>> {
    use super::schema::instance_facts;
    const FACT: &str = "rollup_due_flows";
    store.write(Some(super::locks::CATALOGUE), |conn| {
        let done: Option<String> = instance_facts::table
            .find(FACT)
            .select(instance_facts::value)
            .first(conn)
            .optional()?;
        if done.is_some() {
            return Ok(None);
        }
        if let DbConnection::Postgresql(c) = conn {
            diesel::RunQueryDsl::execute(
                diesel::sql_query("LOCK TABLE stats_daily, stats_delta IN EXCLUSIVE MODE"),
                c,
            )?;
        }
        diesel::update(stats_daily::table)
            .set((
                stats_daily::became_due.eq(0),
                stats_daily::cleared_due.eq(0),
            ))
            .execute(conn)?;
        let zero = "UPDATE stats_delta SET became_due = 0, cleared_due = 0";
        match conn {
            DbConnection::Postgresql(c) => diesel::sql_query(zero).execute(c)?,
            DbConnection::Sqlite(c) => diesel::sql_query(zero).execute(c)?,
        };
        let rows: Vec<DueRow> = dossiers::table
            .filter(dossiers::due_at.is_not_null())
            .select((
                dossiers::receiving_agency,
                dossiers::competent_agency,
                dossiers::procedure_code,
                dossiers::due_at,
                dossiers::finished_at,
            ))
            .load(conn)?;
        let changes = crate::core::indicators::due_flow_changes(
            rows.iter()
                .map(|(receiving, competent, procedure, due, finished)| {
                    (
                        competent.as_deref().unwrap_or(receiving.as_str()),
                        procedure.as_str(),
                        from_db(due.expect("selected not null")),
                        finished.map(from_db),
                    )
                }),
            offset,
        );
        apply_rollup(conn, &changes)?;
        diesel::insert_into(instance_facts::table)
            .values((
                instance_facts::name.eq(FACT),
                instance_facts::value.eq(rows.len().to_string()),
            ))
            .execute(conn)?;
        Ok(Some(rows.len()))
    })
}

fn unreadable(m: String) -> super::StoreError {
    super::StoreError::Database(diesel::result::Error::DeserializationError(m.into()))
}

/// Fills rollup `columns` that a migration added empty from every dossier's facts, once
/// per database (instance fact `fact`): one transaction holding the rollup, which sets the
/// columns rather than adding to them, reading the dossiers 20,000 at a time and turning
/// each batch into rollup changes with `changes_of` (the caller's counting rules). Returns
/// how many dossiers were read, or `None` when it was already done.
pub fn fill_rollup_columns(
    store: &Store,
    fact: &str,
    columns: &[Column],
    mut changes_of: impl FnMut(&[FactRow]) -> Vec<(RollupKey, Column, i64)>,
) -> StoreResult<Option<usize>> {
    use super::schema::instance_facts;
    store.write(Some(super::locks::CATALOGUE), |conn| {
        let done: Option<String> = instance_facts::table
            .find(fact)
            .select(instance_facts::value)
            .first(conn)
            .optional()?;
        if done.is_some() {
            return Ok(None);
        }
        if let DbConnection::Postgresql(c) = conn {
            diesel::RunQueryDsl::execute(
                diesel::sql_query("LOCK TABLE stats_daily, stats_delta IN EXCLUSIVE MODE"),
                c,
            )?;
        }
        // Column names come from a fixed list: nothing from a user reaches the SQL text.
        let set = columns
            .iter()
            .map(|c| format!("{} = 0", c.name()))
            .collect::<Vec<_>>()
            .join(", ");
        if !set.is_empty() {
            for table in ["stats_daily", "stats_delta"] {
                let zero = diesel::sql_query(format!("UPDATE {table} SET {set}"));
                match conn {
                    DbConnection::Postgresql(c) => zero.execute(c)?,
                    DbConnection::Sqlite(c) => zero.execute(c)?,
                };
            }
        }
        let mut read = 0;
        let mut after = String::new();
        loop {
            let rows: Vec<FactRow> = dossiers::table
                .inner_join(dossier_progress::table)
                .filter(dossiers::code.gt(&after))
                .order(dossiers::code)
                .limit(20_000)
                .select(fact_columns!())
                .load(conn)?;
            let Some(last) = rows.last() else { break };
            after = last.0 .0.clone();
            read += rows.len();
            let changes: Vec<_> = changes_of(&rows)
                .into_iter()
                .filter(|(_, c, _)| columns.contains(c))
                .collect();
            apply_rollup(conn, &changes)?;
        }
        diesel::insert_into(instance_facts::table)
            .values((
                instance_facts::name.eq(fact),
                instance_facts::value.eq(read.to_string()),
            ))
            .execute(conn)?;
        Ok(Some(read))
    })
}

/// Rollup sums per (agency, procedure), in [`Column::ALL`] order.
pub type RollupSums = (String, String, Vec<i64>);

/// A dossier's overdue-flow facts: receiving and competent agency, procedure, due, finish.
type DueRow = (
    String,
    Option<String>,
    String,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

#[derive(QueryableByName)]
struct SumsRow {
    #[diesel(sql_type = Text)]
    agency_code: String,
    #[diesel(sql_type = Text)]
    procedure_code: String,
    /// The sums of every column of [`Column::ALL`], in order, joined by commas.
    #[diesel(sql_type = Text)]
    sums: String,
}

#[derive(QueryableByName)]
struct CandidateRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    via_rule: i32,
    #[diesel(sql_type = Text)]
    agency: String,
    #[diesel(sql_type = Text)]
    procedure_code: String,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    received_at: NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    due_at: NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    finished_at: Option<NaiveDateTime>,
}

impl Store {
    /// The rollup summed per agency and procedure over the local days `[from, to]`, for
    /// the agencies of `scope`. One query whatever the number of columns: each group's
    /// sums come back as one text, in [`Column::ALL`] order.
    pub fn rollup_sums(
        &self,
        scope: &[String],
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> StoreResult<Vec<RollupSums>> {
        if scope.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn()?;
        let pg = matches!(&*conn, DbConnection::Postgresql(_));
        // Numbered: each parameter is used on both sides of the union.
        let p = |i: usize| if pg { format!("${i}") } else { format!("?{i}") };
        // Column names come from a fixed list: nothing from a user reaches the SQL text.
        let sums = Column::ALL
            .iter()
            .map(|c| format!("CAST(COALESCE(SUM({}), 0) AS TEXT)", c.name()))
            .collect::<Vec<_>>()
            .join(" || ',' || ");
        let cols = Column::ALL
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
            .join(", ");
        let agencies = (0..scope.len())
            .map(|i| p(i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let filter = format!(
            "WHERE day >= {} AND day <= {} AND agency_code IN ({agencies})",
            p(1),
            p(2)
        );
        // The rollup and the deltas not yet folded into it (see `apply_rollup`).
        let text = format!(
            "SELECT agency_code, procedure_code, {sums} AS sums FROM (\
             SELECT agency_code, procedure_code, {cols} FROM stats_daily {filter} \
             UNION ALL SELECT agency_code, procedure_code, {cols} FROM stats_delta {filter}\
             ) AS cells GROUP BY agency_code, procedure_code"
        );
        macro_rules! load {
            ($c:expr) => {{
                let mut q = diesel::sql_query(text)
                    .bind::<diesel::sql_types::Date, _>(from)
                    .bind::<diesel::sql_types::Date, _>(to)
                    .into_boxed();
                for a in scope {
                    q = q.bind::<Text, _>(a);
                }
                q.load::<SumsRow>($c)?
            }};
        }
        let rows = match &mut *conn {
            DbConnection::Postgresql(c) => load!(c),
            DbConnection::Sqlite(c) => load!(c),
        };
        rows.into_iter()
            .map(|r| {
                let v: Vec<i64> = r
                    .sums
                    .split(',')
                    .map(|x| x.trim().parse::<i64>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| unreadable(format!("rollup sums unreadable: {e}")))?;
                if v.len() != Column::ALL.len() {
                    return Err(unreadable("rollup sums: wrong number of columns".into()));
                }
                Ok((r.agency_code, r.procedure_code, v))
            })
            .collect()
    }

    /// The dossiers the daily rollup's overdue flows do not count, for a report whose
    /// bucket ends lie in `[min_end, max_end]`: dossiers late by rule, received before
    /// `max_end`, not finished before `min_end` (overdue whatever their due moment; those
    /// past it are counted by the flows, or by the next parts); and, when some bucket ends
    /// after the report's moment (`due_parts_from`: the first such end), the dossiers
    /// overdue as of a moment before their bucket's end: open dossiers due before
    /// `max_as_of`, and dossiers finished late at or after `due_parts_from`, due before
    /// `max_as_of`. Reads the late-by-rule partial index and the two covering partial
    /// indexes, once for all buckets; the caller counts per bucket with
    /// `OverdueCandidate::overdue_at`.
    pub fn overdue_candidates(
        &self,
        scope: Option<&[String]>,
        min_end: NaiveDateTime,
        max_end: NaiveDateTime,
        max_as_of: NaiveDateTime,
        due_parts_from: Option<NaiveDateTime>,
    ) -> StoreResult<Vec<OverdueCandidate>> {
        let mut conn = self.conn()?;
        let (p, open_index) = match &*conn {
            DbConnection::Postgresql(_) => ("$", ""),
            // SQLite would rather read the plain finished_at index for `IS NULL`.
            DbConnection::Sqlite(_) => ("?", " INDEXED BY dossiers_open_due"),
        };
        // Each part repeats its partial index's predicate word for word.
        let owner = "COALESCE(d.competent_agency, d.receiving_agency)";
        let columns =
            format!("{owner} AS agency, d.procedure_code, d.received_at, d.due_at, d.finished_at");
        let mut text = format!(
            "SELECT 1 AS via_rule, {columns} FROM dossiers d \
             WHERE d.code IN (SELECT l.dossier_code FROM dossier_progress l WHERE l.late_by_rule) \
               AND d.received_at < {p}2 AND (d.finished_at IS NULL OR d.finished_at >= {p}3)"
        );
        if due_parts_from.is_some() {
            text.push_str(&format!(
                " UNION ALL \
                 SELECT 0 AS via_rule, {columns} FROM dossiers d{open_index} \
                 WHERE finished_at IS NULL AND d.due_at < {p}1 AND d.received_at < {p}2 \
                 UNION ALL \
                 SELECT 0 AS via_rule, {columns} FROM dossiers d \
                 WHERE finished_at > due_at AND d.finished_at >= {p}4 AND d.due_at < {p}1 \
                   AND d.received_at < {p}2"
            ));
        } else {
            // Keep the four parameters bound either way.
            text.push_str(&format!(" AND {p}1 = {p}1 AND {p}4 = {p}4"));
        }
        use diesel::sql_types::Timestamp;
        macro_rules! load {
            ($c:expr) => {
                diesel::sql_query(text)
                    .bind::<Timestamp, _>(max_as_of)
                    .bind::<Timestamp, _>(max_end)
                    .bind::<Timestamp, _>(min_end)
                    .bind::<Timestamp, _>(due_parts_from.unwrap_or(min_end))
                    .load::<CandidateRow>($c)?
            };
        }
        let rows = match &mut *conn {
            DbConnection::Postgresql(c) => load!(c),
            DbConnection::Sqlite(c) => load!(c),
        };
        let scope: Option<std::collections::HashSet<&str>> =
            scope.map(|s| s.iter().map(String::as_str).collect());
        Ok(rows
            .into_iter()
            .filter(|r| scope.as_ref().is_none_or(|s| s.contains(r.agency.as_str())))
            .map(|r| OverdueCandidate {
                agency: r.agency,
                procedure: r.procedure_code,
                received_at: from_db(r.received_at),
                due_at: from_db(r.due_at),
                finished_at: r.finished_at.map(from_db),
                via_rule: r.via_rule != 0,
            })
            .collect())
    }
}
