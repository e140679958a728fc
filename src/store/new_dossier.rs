//! A new dossier's rows, written together (issue #18): the dossier, its progress, papers,
//! route and first event, the agencies that hold it and its name keys, the messages its
//! receipt sends (outbox), its rollup deltas and the first record of its audit stream.
//!
//! On PostgreSQL they are one prepared statement — a chain of data-modifying CTEs reading
//! one JSON document — instead of a dozen: every statement is a round trip, parsed and
//! planned, while the agency's daily code sequence row stays locked until commit. This
//! one is prepared once per connection (its text never changes, so diesel caches it) and
//! planned once. It takes any number of dossiers (each key of the document an array of
//! rows): a batch of concurrent intakes is one statement (group commit,
//! `service::group`). Its foreign keys are checked at the end of the statement, when
//! every row is in. SQLite, in process, writes them one by one with the same functions
//! as before.

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

/// Writes new dossiers inside the caller's transaction: on PostgreSQL all of them in one
/// statement (a batch of intakes, `service::intake`'s group commit, or one).
pub fn insert(conn: &mut DbConnection, ns: &[NewDossier<'_>]) -> StoreResult<()> {
    if ns.is_empty() {
        return Ok(());
    }
    match conn {
        DbConnection::Postgresql(c) => {
            Statement { json: document(ns) }.execute(c)?;
        }
        DbConnection::Sqlite(_) => {
            for n in ns {
                dossiers::insert_dossier(conn, n.dossier, n.progress, n.papers, n.steps, n.event)?;
                for m in n.outbox {
                    outbox::insert(conn, m)?;
                }
                super::reports::apply_rollup(conn, n.rollup)?;
                audit::append_first(conn, n.audit.clone())?;
            }
        }
    }
    Ok(())
}

/// The JSON document the statement reads: one key per table, each an array of rows,
/// serialised straight from the rows (no intermediate `Value` tree: the document is
/// built while the batch's code rows are locked).
fn document(ns: &[NewDossier<'_>]) -> String {
    #[derive(serde::Serialize)]
    struct Held<'a> {
        agency_code: &'a str,
        dossier_code: &'a str,
        received_at: Option<&'a str>,
        applicant_search: &'a str,
        applicant_id_number: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Key<'a> {
        key: &'a str,
        dossier_code: &'a str,
        agency_code: &'a str,
        received_at: Option<&'a str>,
    }
    #[derive(serde::Serialize)]
    struct Document<'a> {
        dossier: Vec<&'a DossierRow>,
        progress: Vec<&'a ProgressRow>,
        papers: Vec<&'a PaperRow>,
        steps: Vec<&'a StepRow>,
        event: Vec<&'a EventRow>,
        held: Vec<Held<'a>>,
        keys: Vec<Key<'a>>,
        outbox: Vec<&'a NewOutboxRow>,
        rollup: Vec<Value>,
        audit: Vec<Value>,
    }
    // What each dossier's holders and name keys borrow: its moment of receipt as the
    // statement reads it, its first holders and the starts of its applicant's words.
    let per: Vec<(Option<String>, Vec<&String>, Vec<&str>)> = ns
        .iter()
        .map(|n| {
            let d = n.dossier;
            (
                d.received_at
                    .map(|t| t.format(super::micros::FORMAT).to_string()),
                dossiers::first_holders(d),
                crate::core::text::word_starts(&d.applicant_search),
            )
        })
        .collect();
    let mut held = Vec::new();
    let mut keys = Vec::new();
    // One delta row per cell key, a column once (as `apply_rollup`), over the batch.
    let mut cells: std::collections::BTreeMap<&RollupKey, serde_json::Map<String, Value>> =
        Default::default();
    for (n, (received_at, holders, words)) in ns.iter().zip(&per) {
        let d = n.dossier;
        let received_at = received_at.as_deref();
        for a in holders {
            held.push(Held {
                agency_code: a,
                dossier_code: &d.code,
                received_at,
                applicant_search: &d.applicant_search,
                applicant_id_number: &d.applicant_id_number,
            });
            for k in words {
                keys.push(Key {
                    key: k,
                    dossier_code: &d.code,
                    agency_code: a,
                    received_at,
                });
            }
        }
        for (k, c, v) in n.rollup {
            let row = cells.entry(k).or_default();
            let total = row.get(c.name()).and_then(Value::as_i64).unwrap_or(0) + v;
            row.insert(c.name().to_string(), json!(total));
        }
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
    serde_json::to_string(&Document {
        dossier: ns.iter().map(|n| n.dossier).collect(),
        progress: ns.iter().map(|n| n.progress).collect(),
        papers: ns.iter().flat_map(|n| n.papers).collect(),
        steps: ns.iter().flat_map(|n| n.steps).collect(),
        event: ns.iter().map(|n| n.event).collect(),
        held,
        keys,
        outbox: ns.iter().flat_map(|n| n.outbox).collect(),
        rollup,
        audit: ns
            .iter()
            .map(|n| audit::first_record_json(&n.audit))
            .collect(),
    })
    .expect("rows serialise")
}

// The columns each insert names: the rows' fields (`DossierRow`…, checked by a test). A
// column added later by a migration takes its default from a process not upgraded yet
// (several processes share the database during a rolling upgrade).
const DOSSIER: &[&str] = &[
    "code",
    "procedure_code",
    "procedure_version",
    "rule_set",
    "receiving_agency",
    "competent_agency",
    "current_agency",
    "channel",
    "status",
    "applicant_name",
    "applicant_id_kind",
    "applicant_id_number",
    "applicant_phone",
    "applicant_email",
    "applicant_address",
    "applicant_search",
    "proxy",
    "note",
    "pin_hash",
    "received_at",
    "due_at",
    "time_amount",
    "time_unit",
    "time_cutoff",
    "reappointed_at",
    "finished_at",
    "outcome",
    "result_ready",
    "received_by",
    "book_volume",
    "book_line",
    "updated_at",
];
const PROGRESS: &[&str] = &[
    "dossier_code",
    "pending_handover",
    "assignee",
    "clock_stopped_at",
    "supplement_requests",
    "delayed",
    "late_by_rule",
    "current_step",
    "rated",
    "digitised",
    "reused",
    "results",
    "results_electronic",
    "decision",
    "fee_bearing",
    "paid_online",
    "rating",
    "rated_at",
    "handling_minutes",
    "stopped_minutes",
    "first_due_at",
    "supplement_request_by",
    "yields_document",
    "submitted_at",
    "acknowledge_by",
    "correction_rounds",
    "proposed",
];
const PAPER: &[&str] = &[
    "dossier_code",
    "position",
    "name",
    "kind",
    "count",
    "reuse_document_id",
];
const STEP: &[&str] = &[
    "dossier_code",
    "no",
    "name",
    "agency_code",
    "role",
    "share",
    "due_at",
    "started_at",
    "ended_at",
    "outcome",
];
const EVENT: &[&str] = &[
    "dossier_code",
    "seq",
    "kind",
    "at",
    "actor",
    "agency_code",
    "status_after",
    "payload",
];
const HELD: &[&str] = &[
    "agency_code",
    "dossier_code",
    "received_at",
    "applicant_search",
    "applicant_id_number",
];
const KEY: &[&str] = &["key", "dossier_code", "agency_code", "received_at"];
const OUTBOX: &[&str] = &[
    "message_key",
    "template",
    "channel",
    "recipient",
    "dossier_code",
    "agency_code",
    "vars",
    "state",
    "attempts",
    "next_attempt_at",
    "message_id",
    "created_at",
];

/// `INSERT INTO table (cols) SELECT r.cols FROM j, jsonb_populate_recordset(NULL::table, j.j->'key') r`.
fn insert_sql(table: &str, columns: &[&str], key: &str) -> String {
    let select: Vec<String> = columns.iter().map(|c| format!("r.{c}")).collect();
    format!(
        "INSERT INTO {table} ({}) SELECT {} FROM j, jsonb_populate_recordset(NULL::{table}, j.j->'{key}') r",
        columns.join(", "),
        select.join(", "),
    )
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
         d AS ({dossier}), p AS ({progress}), pa AS ({papers}), s AS ({steps}), \
         e AS ({event}), h AS ({held}), k AS ({keys}), \
         o AS ({outbox} ON CONFLICT (message_key) DO NOTHING), \
         sd AS (INSERT INTO stats_delta (agency_code, procedure_code, day, {cols}) \
               SELECT r.agency_code, r.procedure_code, r.day, {summed} FROM j, jsonb_populate_recordset(NULL::stats_delta, j.j->'rollup') r), \
         ah AS (INSERT INTO audit_streams (stream, last_seq, last_hash) \
               SELECT a->>'stream', 1, a->>'hash' FROM j, jsonb_array_elements(j.j->'audit') a) \
         INSERT INTO audit_log (at, actor, role, address, action, entity, entity_id, detail, prev_hash, hash, stream, stream_seq) \
         SELECT r.at, r.actor, r.role, r.address, r.action, r.entity, r.entity_id, r.detail, '{GENESIS}', r.hash, r.stream, 1 \
         FROM j, jsonb_populate_recordset(NULL::audit_log, j.j->'audit') r",
        dossier = insert_sql("dossiers", DOSSIER, "dossier"),
        progress = insert_sql("dossier_progress", PROGRESS, "progress"),
        papers = insert_sql("dossier_papers", PAPER, "papers"),
        steps = insert_sql("dossier_steps", STEP, "steps"),
        event = insert_sql("dossier_events", EVENT, "event"),
        held = insert_sql("dossier_agencies", HELD, "held"),
        keys = insert_sql("dossier_name_keys", KEY, "keys"),
        outbox = insert_sql("outbox", OUTBOX, "outbox"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    fn sorted(c: &[&str]) -> Vec<String> {
        let mut k: Vec<String> = c.iter().map(|s| s.to_string()).collect();
        k.sort();
        k
    }

    /// Every field of the rows is named by the statement, and nothing else: a field
    /// added to a row without its column here would be silently dropped.
    #[test]
    fn the_columns_are_the_rows_fields() {
        let at = NaiveDate::from_ymd_opt(2026, 3, 10)
            .unwrap()
            .and_hms_micro_opt(8, 30, 0, 123_456)
            .unwrap();
        let d = DossierRow {
            code: "C".into(),
            procedure_code: "P".into(),
            procedure_version: 1,
            rule_set: "R".into(),
            receiving_agency: "A".into(),
            competent_agency: Some("B".into()),
            current_agency: "A".into(),
            channel: "counter".into(),
            status: "received".into(),
            applicant_name: "N".into(),
            applicant_id_kind: "cccd".into(),
            applicant_id_number: "001".into(),
            applicant_phone: None,
            applicant_email: None,
            applicant_address: None,
            applicant_search: "n".into(),
            proxy: None,
            note: None,
            pin_hash: "h".into(),
            received_at: Some(at),
            due_at: None,
            time_amount: 1,
            time_unit: "day".into(),
            time_cutoff: None,
            reappointed_at: None,
            finished_at: None,
            outcome: None,
            result_ready: false,
            received_by: "u".into(),
            book_volume: None,
            book_line: None,
            updated_at: at,
        };
        let dv = serde_json::to_value(&d).unwrap();
        assert_eq!(keys(&dv), sorted(DOSSIER));
        // Moments to the microsecond, as diesel binds them.
        assert_eq!(dv["updated_at"], "2026-03-10T08:30:00.123456");
        assert_eq!(
            keys(&serde_json::to_value(ProgressRow::new("C")).unwrap()),
            sorted(PROGRESS)
        );
        let paper = PaperRow {
            dossier_code: "C".into(),
            position: 1,
            name: "x".into(),
            kind: "original".into(),
            count: 1,
            reuse_document_id: None,
        };
        assert_eq!(keys(&serde_json::to_value(paper).unwrap()), sorted(PAPER));
        let step = StepRow {
            dossier_code: "C".into(),
            no: 1,
            name: "x".into(),
            agency_code: "A".into(),
            role: "official".into(),
            share: 1,
            due_at: at,
            started_at: None,
            ended_at: None,
            outcome: None,
        };
        assert_eq!(keys(&serde_json::to_value(step).unwrap()), sorted(STEP));
        let event = EventRow {
            dossier_code: "C".into(),
            seq: 1,
            kind: "receive".into(),
            at,
            actor: "u".into(),
            agency_code: "A".into(),
            status_after: "received".into(),
            payload: "{}".into(),
        };
        assert_eq!(keys(&serde_json::to_value(&event).unwrap()), sorted(EVENT));
        let m = NewOutboxRow {
            message_key: "k".into(),
            template: "t".into(),
            channel: "email".into(),
            recipient: None,
            dossier_code: None,
            agency_code: None,
            vars: "{}".into(),
            state: "pending".into(),
            attempts: 0,
            next_attempt_at: at,
            message_id: "m".into(),
            created_at: at,
        };
        assert_eq!(keys(&serde_json::to_value(m).unwrap()), sorted(OUTBOX));
        let doc: Value = serde_json::from_str(&document(&[NewDossier {
            dossier: &d,
            progress: &ProgressRow::new("C"),
            papers: &[],
            steps: &[],
            event: &event,
            outbox: &[],
            rollup: &[],
            audit: AuditEntry {
                actor: &Default::default(),
                at,
                action: "dossier.receive",
                entity: "dossier",
                entity_id: "C",
                detail: json!({}),
            },
        }]))
        .unwrap();
        // Each row as its own serialisation reads (what `jsonb_populate_recordset` fills
        // the columns from).
        assert_eq!(doc["dossier"][0], serde_json::to_value(&d).unwrap());
        assert_eq!(doc["event"][0], serde_json::to_value(&event).unwrap());
        assert_eq!(
            doc["progress"][0],
            serde_json::to_value(ProgressRow::new("C")).unwrap()
        );
        assert_eq!(doc["audit"][0]["entity_id"], "C");
        // The receiving desk and the competent agency hold it.
        assert_eq!(doc["held"].as_array().unwrap().len(), 2);
        assert_eq!(keys(&doc["held"][0]), sorted(HELD));
        assert_eq!(keys(&doc["keys"][0]), sorted(KEY));
    }
}
