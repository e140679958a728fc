//! A new dossier's rows, written together (issue #18): the dossier, its progress, papers,
//! route and first event, the agencies that hold it and its name keys, the messages its
//! receipt sends (outbox), its rollup deltas and the first record of its audit stream.
//!
//! On PostgreSQL they are one prepared statement — a chain of data-modifying CTEs reading
//! one JSON document — instead of a dozen: every statement is a round trip, parsed and
//! planned, while the agency's daily code sequence row stays locked until commit. This
//! one is prepared once per connection (its text never changes, so diesel caches it) and
//! planned once. Its foreign keys are checked at the end of the statement, when every row
//! is in. SQLite, in process, writes them one by one with the same functions as before.

use std::sync::LazyLock;

use diesel::pg::{Pg, PgConnection};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Text;
use diesel::{QueryResult, RunQueryDsl};
use serde_json::{json, Value};

use super::audit::{self, AuditEntry, GENESIS};
use super::dossiers::{self, DossierRow, EventRow, PaperRow, ProgressRow, StepRow};
use super::outbox::{self, NewOutboxRow};
use super::{DbConnection, StoreResult};
use crate::core::indicators::{Column, RollupKey};

/// What a new dossier writes in the transaction that receives (or takes the online
/// submission of) it.
pub struct NewDossier<'a> {
    pub dossier: &'a DossierRow,
    pub progress: &'a ProgressRow,
    pub papers: &'a [PaperRow],
    pub steps: &'a [StepRow],
    pub event: &'a EventRow,
    /// The messages of its first event (written unless one with the same key exists).
    pub outbox: &'a [NewOutboxRow],
    /// Its rollup changes, as [`super::reports::apply_rollup`] takes them.
    pub rollup: &'a [(RollupKey, Column, i64)],
    /// The first record of its audit stream.
    pub audit: AuditEntry<'a>,
}

/// Writes `n` inside the caller's transaction.
pub fn insert(conn: &mut DbConnection, n: &NewDossier<'_>) -> StoreResult<()> {
    match conn {
        DbConnection::Postgresql(c) => {
            Statement {
                json: document(n).to_string(),
            }
            .execute(c)?;
        }
        DbConnection::Sqlite(_) => {
            dossiers::insert_dossier(conn, n.dossier, n.progress, n.papers, n.steps, n.event)?;
            for m in n.outbox {
                outbox::insert(conn, m)?;
            }
            super::reports::apply_rollup(conn, n.rollup)?;
            audit::append_first(conn, n.audit.clone())?;
        }
    }
    Ok(())
}

/// The JSON document the statement reads: one key per table.
fn document(n: &NewDossier<'_>) -> Value {
    let d = n.dossier;
    // The agencies that hold it: the receiving desk and the competent agency (once).
    let mut agencies: Vec<&String> = [Some(&d.receiving_agency), d.competent_agency.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    agencies.dedup();
    let received_at = d
        .received_at
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string());
    let held: Vec<Value> = agencies
        .iter()
        .map(|a| {
            json!({
                "agency_code": a,
                "dossier_code": d.code,
                "received_at": received_at,
                "applicant_search": d.applicant_search,
                "applicant_id_number": d.applicant_id_number,
            })
        })
        .collect();
    let keys: Vec<Value> = agencies
        .iter()
        .flat_map(|a| {
            crate::core::text::word_starts(&d.applicant_search)
                .into_iter()
                .map(|k| {
                    json!({
                        "key": k,
                        "dossier_code": d.code,
                        "agency_code": a,
                        "received_at": received_at,
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect();
    // One delta row per cell key, a column once (as `apply_rollup`).
    let mut cells: std::collections::BTreeMap<&RollupKey, serde_json::Map<String, Value>> =
        Default::default();
    for (k, c, v) in n.rollup {
        let row = cells.entry(k).or_default();
        let total = row.get(c.name()).and_then(Value::as_i64).unwrap_or(0) + v;
        row.insert(c.name().to_string(), json!(total));
    }
    let rollup: Vec<Value> = cells
        .into_iter()
        .map(|((agency, procedure, day), mut row)| {
            row.insert("agency_code".into(), json!(agency));
            row.insert("procedure_code".into(), json!(procedure));
            row.insert("day".into(), json!(day.format("%Y-%m-%d").to_string()));
            Value::Object(row)
        })
        .collect();
    json!({
        "dossier": d,
        "progress": n.progress,
        "papers": n.papers,
        "steps": n.steps,
        "event": n.event,
        "held": held,
        "keys": keys,
        "outbox": n.outbox,
        "rollup": rollup,
        "audit": audit::first_record_json(&n.audit),
    })
}

/// The statement after its parameter (`WITH j AS (SELECT $1`): its text is fixed (the
/// rollup's columns come from [`Column::ALL`]).
static SQL: LazyLock<String> = LazyLock::new(|| {
    let counters: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
    let summed: Vec<String> = counters
        .iter()
        .map(|c| format!("COALESCE(r.{c}, 0)"))
        .collect();
    format!(
        "::jsonb AS j), \
         d AS (INSERT INTO dossiers SELECT r.* FROM j, jsonb_populate_record(NULL::dossiers, j.j->'dossier') r), \
         p AS (INSERT INTO dossier_progress SELECT r.* FROM j, jsonb_populate_record(NULL::dossier_progress, j.j->'progress') r), \
         pa AS (INSERT INTO dossier_papers SELECT r.* FROM j, jsonb_populate_recordset(NULL::dossier_papers, j.j->'papers') r), \
         s AS (INSERT INTO dossier_steps SELECT r.* FROM j, jsonb_populate_recordset(NULL::dossier_steps, j.j->'steps') r), \
         e AS (INSERT INTO dossier_events SELECT r.* FROM j, jsonb_populate_record(NULL::dossier_events, j.j->'event') r), \
         h AS (INSERT INTO dossier_agencies SELECT r.* FROM j, jsonb_populate_recordset(NULL::dossier_agencies, j.j->'held') r), \
         k AS (INSERT INTO dossier_name_keys SELECT r.* FROM j, jsonb_populate_recordset(NULL::dossier_name_keys, j.j->'keys') r), \
         o AS (INSERT INTO outbox (message_key, template, channel, recipient, dossier_code, agency_code, vars, state, attempts, next_attempt_at, message_id, created_at) \
               SELECT r.message_key, r.template, r.channel, r.recipient, r.dossier_code, r.agency_code, r.vars, r.state, r.attempts, r.next_attempt_at, r.message_id, r.created_at \
               FROM j, jsonb_populate_recordset(NULL::outbox, j.j->'outbox') r ON CONFLICT (message_key) DO NOTHING), \
         sd AS (INSERT INTO stats_delta (agency_code, procedure_code, day, {cols}) \
               SELECT r.agency_code, r.procedure_code, r.day, {summed} FROM j, jsonb_populate_recordset(NULL::stats_delta, j.j->'rollup') r), \
         ah AS (INSERT INTO audit_streams (stream, last_seq, last_hash) \
               SELECT j.j->'audit'->>'stream', 1, j.j->'audit'->>'hash' FROM j) \
         INSERT INTO audit_log (at, actor, role, address, action, entity, entity_id, detail, prev_hash, hash, stream, stream_seq) \
         SELECT r.at, r.actor, r.role, r.address, r.action, r.entity, r.entity_id, r.detail, '{GENESIS}', r.hash, r.stream, 1 \
         FROM j, jsonb_populate_record(NULL::audit_log, j.j->'audit') r",
        cols = counters.join(", "),
        summed = summed.join(", "),
    )
});

/// The statement with its one parameter; a static query id, so that diesel keeps it
/// prepared on the connection.
struct Statement {
    json: String,
}

impl QueryId for Statement {
    type QueryId = Statement;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for Statement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH j AS (SELECT ");
        out.push_bind_param::<Text, _>(&self.json)?;
        out.push_sql(&SQL);
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for Statement {}
