//! Dossiers, their papers and events, code sequences and the other intake outcomes.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::{
    code_sequences, dossier_agencies, dossier_events, dossier_name_keys, dossier_papers,
    dossier_progress, dossier_steps, dossiers, intake_outcomes,
};
use super::{DbConnection, Store, StoreResult};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = dossiers)]
pub struct DossierRow {
    pub code: String,
    pub procedure_code: String,
    pub procedure_version: i32,
    pub rule_set: String,
    pub receiving_agency: String,
    pub competent_agency: Option<String>,
    pub current_agency: String,
    pub channel: String,
    pub status: String,
    pub applicant_name: String,
    pub applicant_id_kind: String,
    pub applicant_id_number: String,
    pub applicant_phone: Option<String>,
    pub applicant_email: Option<String>,
    pub applicant_address: Option<String>,
    pub applicant_search: String,
    pub proxy: Option<String>,
    pub note: Option<String>,
    pub pin_hash: String,
    /// The official receipt (*tiếp nhận*): none while an online submission waits for it.
    #[serde(serialize_with = "super::micros::opt")]
    pub received_at: Option<NaiveDateTime>,
    /// The statutory due moment: none until the official receipt.
    #[serde(serialize_with = "super::micros::opt")]
    pub due_at: Option<NaiveDateTime>,
    pub time_amount: i32,
    pub time_unit: String,
    pub time_cutoff: Option<String>,
    #[serde(serialize_with = "super::micros::opt")]
    pub reappointed_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "super::micros::opt")]
    pub finished_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
    pub result_ready: bool,
    pub received_by: String,
    /// The tracking book's volume (year) and line, given at the official receipt.
    pub book_volume: Option<i32>,
    pub book_line: Option<i64>,
    #[serde(serialize_with = "super::micros::one")]
    pub updated_at: NaiveDateTime,
}

/// The processing state the events lead to, beside the dossier row.
#[derive(
    Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize,
)]
#[diesel(table_name = dossier_progress)]
#[diesel(treat_none_as_null = true)]
pub struct ProgressRow {
    pub dossier_code: String,
    pub pending_handover: Option<String>,
    pub assignee: Option<String>,
    #[serde(serialize_with = "super::micros::opt")]
    pub clock_stopped_at: Option<NaiveDateTime>,
    pub supplement_requests: i32,
    pub delayed: bool,
    pub late_by_rule: bool,
    /// The step (0-based) of the route the dossier is in.
    pub current_step: Option<i32>,
    pub rated: bool,
    /// Every paper has a file or a reused document (*đã số hóa*).
    pub digitised: bool,
    /// At least one paper was satisfied by a document of the data store.
    pub reused: bool,
    /// Results issued, and how many of them have their electronic copy.
    pub results: i32,
    pub results_electronic: i32,
    /// `approved` or `refused`, once decided.
    pub decision: Option<String>,
    /// The procedure bears a fee or charge (at intake).
    pub fee_bearing: bool,
    /// A fee was paid online (QĐ 766 indicator 3.6).
    pub paid_online: bool,
    /// The applicant's rating and when it was given.
    pub rating: Option<String>,
    #[serde(serialize_with = "super::micros::opt")]
    pub rated_at: Option<NaiveDateTime>,
    /// Working minutes from receipt to return, stopped clock excluded.
    pub handling_minutes: Option<i64>,
    /// Working minutes the clock stood still (supplements, pauses).
    pub stopped_minutes: i64,
    /// The due moment set at receipt, before any supplement counted the time again.
    #[serde(serialize_with = "super::micros::opt")]
    pub first_due_at: Option<NaiveDateTime>,
    /// A supplement requested after this moment is a late request (NĐ 118/2025
    /// Art. 19(5)); none: no limit.
    #[serde(serialize_with = "super::micros::opt")]
    pub supplement_request_by: Option<NaiveDateTime>,
    /// The procedure yields a document (*kết quả là giấy tờ*), at intake.
    pub yields_document: bool,
    /// When an online submission arrived (the first time) and by when the desk must answer
    /// its current round (NĐ 118/2025 Art. 17(2)).
    #[serde(serialize_with = "super::micros::opt")]
    pub submitted_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "super::micros::opt")]
    pub acknowledge_by: Option<NaiveDateTime>,
    /// How many times the desk sent it back for correction.
    pub correction_rounds: i32,
    /// Proposed to the agency's leader for a decision (*trình phê duyệt*).
    pub proposed: bool,
}

/// A dossier as one line of a work-queue tab (`/hang-doi`): the columns the page shows
/// and decides on, not the whole row (decoding 50 whole rows was most of the page).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = dossiers)]
pub struct QueueLineRow {
    pub code: String,
    pub procedure_code: String,
    pub rule_set: String,
    pub receiving_agency: String,
    pub competent_agency: Option<String>,
    pub current_agency: String,
    pub status: String,
    pub applicant_name: String,
    pub received_at: Option<NaiveDateTime>,
    pub due_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
}

/// The progress a work-queue line needs.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = dossier_progress)]
pub struct QueueProgressRow {
    pub pending_handover: Option<String>,
    pub assignee: Option<String>,
    pub clock_stopped_at: Option<NaiveDateTime>,
    pub current_step: Option<i32>,
    pub acknowledge_by: Option<NaiveDateTime>,
}

/// One step of a dossier's route with its due moment and, once ended, its result.
#[derive(
    Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize,
)]
#[diesel(table_name = dossier_steps)]
#[diesel(treat_none_as_null = true)]
pub struct StepRow {
    pub dossier_code: String,
    pub no: i32,
    pub name: String,
    pub agency_code: String,
    pub role: String,
    pub share: i32,
    #[serde(serialize_with = "super::micros::one")]
    pub due_at: NaiveDateTime,
    #[serde(serialize_with = "super::micros::opt")]
    pub started_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "super::micros::opt")]
    pub ended_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
}

impl ProgressRow {
    pub fn new(code: &str) -> Self {
        Self {
            dossier_code: code.to_string(),
            proposed: false,
            pending_handover: None,
            assignee: None,
            clock_stopped_at: None,
            supplement_requests: 0,
            delayed: false,
            late_by_rule: false,
            current_step: None,
            rated: false,
            digitised: false,
            reused: false,
            results: 0,
            results_electronic: 0,
            decision: None,
            fee_bearing: false,
            paid_online: false,
            rating: None,
            rated_at: None,
            handling_minutes: None,
            stopped_minutes: 0,
            first_due_at: None,
            supplement_request_by: None,
            yields_document: false,
            submitted_at: None,
            acknowledge_by: None,
            correction_rounds: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = dossier_papers)]
pub struct PaperRow {
    pub dossier_code: String,
    pub position: i32,
    pub name: String,
    pub kind: String,
    pub count: i32,
    /// The data-store document that satisfies this paper, when reused (*tái sử dụng*).
    pub reuse_document_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = dossier_events)]
pub struct EventRow {
    pub dossier_code: String,
    pub seq: i32,
    pub kind: String,
    #[serde(serialize_with = "super::micros::one")]
    pub at: NaiveDateTime,
    pub actor: String,
    pub agency_code: String,
    pub status_after: String,
    pub payload: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = intake_outcomes)]
pub struct IntakeOutcomeRow {
    pub id: String,
    pub kind: String,
    pub agency_code: String,
    pub procedure_code: Option<String>,
    pub channel: String,
    pub applicant_name: String,
    pub applicant_id_number: Option<String>,
    pub reason: Option<String>,
    pub items: String,
    pub at: NaiveDateTime,
    pub actor: String,
}

/// A dossier with its papers and events.
pub type DossierFull = (DossierRow, Vec<PaperRow>, Vec<EventRow>);

#[derive(QueryableByName)]
struct NextValue {
    #[diesel(sql_type = BigInt)]
    last_value: i64,
}

/// The next value of the sequence `(agency, scope)`, starting at 1. Gap-free: the
/// increment belongs to the caller's transaction and is undone with it; concurrent
/// callers wait on the row (PostgreSQL) or on the write lock (SQLite).
pub fn next_sequence(conn: &mut DbConnection, agency: &str, scope: &str) -> StoreResult<i64> {
    const PG: &str = "INSERT INTO code_sequences (agency_code, scope, last_value) VALUES ($1, $2, 1) \
                      ON CONFLICT (agency_code, scope) DO UPDATE SET last_value = code_sequences.last_value + 1 \
                      RETURNING last_value";
    const SQLITE: &str = "INSERT INTO code_sequences (agency_code, scope, last_value) VALUES (?, ?, 1) \
                          ON CONFLICT (agency_code, scope) DO UPDATE SET last_value = code_sequences.last_value + 1 \
                          RETURNING last_value";
    let row: NextValue = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(PG)
            .bind::<Text, _>(agency)
            .bind::<Text, _>(scope)
            .get_result(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(SQLITE)
            .bind::<Text, _>(agency)
            .bind::<Text, _>(scope)
            .get_result(c)?,
    };
    Ok(row.last_value)
}

/// Takes `n` values from each sequence `(agency, scope, n)` at once and returns the last
/// value taken from each, in the order given: the values are `last - n + 1 ..= last`.
/// Gap-free as [`next_sequence`]. The keys are locked in the order given, so callers give
/// them sorted and unique: two batches of intakes (`service::intake`, group commit) then
/// never wait for each other crosswise. On PostgreSQL one prepared statement over three
/// arrays, one round trip whatever the number of keys.
pub fn next_sequences(
    conn: &mut DbConnection,
    wants: &[(String, String, i64)],
) -> StoreResult<Vec<i64>> {
    debug_assert!(wants
        .windows(2)
        .all(|w| (&w[0].0, &w[0].1) < (&w[1].0, &w[1].1)));
    match conn {
        DbConnection::Sqlite(c) => {
            const SQLITE: &str = "INSERT INTO code_sequences (agency_code, scope, last_value) VALUES (?, ?, ?) \
                                  ON CONFLICT (agency_code, scope) DO UPDATE SET last_value = code_sequences.last_value + excluded.last_value \
                                  RETURNING last_value";
            wants
                .iter()
                .map(|(a, s, n)| {
                    let row: NextValue = diesel::sql_query(SQLITE)
                        .bind::<Text, _>(a)
                        .bind::<Text, _>(s)
                        .bind::<BigInt, _>(n)
                        .get_result(c)?;
                    Ok(row.last_value)
                })
                .collect()
        }
        DbConnection::Postgresql(c) => {
            let rows: Vec<(String, String, i64)> = ManySequences {
                agencies: wants.iter().map(|w| w.0.clone()).collect(),
                scopes: wants.iter().map(|w| w.1.clone()).collect(),
                counts: wants.iter().map(|w| w.2).collect(),
            }
            .load(c)?;
            wants
                .iter()
                .map(|(a, s, _)| {
                    rows.iter()
                        .find(|(ra, rs, _)| ra == a && rs == s)
                        .map(|r| r.2)
                        .ok_or_else(|| super::StoreError::from(diesel::result::Error::NotFound))
                })
                .collect()
        }
    }
}

/// [`next_sequences`]' statement, with a static query id so that diesel keeps it
/// prepared. `WITH ORDINALITY … ORDER BY` makes PostgreSQL lock the rows in the order
/// given.
struct ManySequences {
    agencies: Vec<String>,
    scopes: Vec<String>,
    counts: Vec<i64>,
}

impl diesel::query_builder::QueryId for ManySequences {
    type QueryId = ManySequences;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for ManySequences {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        use diesel::sql_types::Array;
        out.push_sql(
            "INSERT INTO code_sequences (agency_code, scope, last_value) \
             SELECT t.a, t.s, t.n FROM unnest(",
        );
        out.push_bind_param::<Array<Text>, _>(&self.agencies)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Text>, _>(&self.scopes)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<BigInt>, _>(&self.counts)?;
        out.push_sql(
            "::int8[]) WITH ORDINALITY AS t(a, s, n, o) ORDER BY t.o \
             ON CONFLICT (agency_code, scope) DO UPDATE SET last_value = code_sequences.last_value + EXCLUDED.last_value \
             RETURNING agency_code, scope, last_value",
        );
        Ok(())
    }
}

impl RunQueryDsl<diesel::pg::PgConnection> for ManySequences {}

impl diesel::query_builder::Query for ManySequences {
    type SqlType = (Text, Text, BigInt);
}

fn dossier_and_events(
    conn: &mut DbConnection,
    code: &str,
) -> StoreResult<Option<(DossierRow, Vec<EventRow>)>> {
    // One statement (one round trip): the dossier once per event, or alone.
    let rows: Vec<(DossierRow, Option<EventRow>)> = dossiers::table
        .left_join(dossier_events::table.on(dossier_events::dossier_code.eq(dossiers::code)))
        .filter(dossiers::code.eq(code))
        .order(dossier_events::seq)
        .select((DossierRow::as_select(), Option::<EventRow>::as_select()))
        .load(conn)?;
    let mut rows = rows.into_iter();
    let Some((d, first)) = rows.next() else {
        return Ok(None);
    };
    let events = first
        .into_iter()
        .chain(rows.filter_map(|(_, e)| e))
        .collect();
    Ok(Some((d, events)))
}

/// The dossier row and its progress, locked for the rest of the transaction (`FOR
/// UPDATE` on PostgreSQL; SQLite's write transaction already excludes other writers).
pub fn dossier_for_update(
    conn: &mut DbConnection,
    code: &str,
) -> StoreResult<Option<(DossierRow, ProgressRow)>> {
    let row = match conn {
        DbConnection::Postgresql(c) => dossiers::table
            .find(code)
            .select(DossierRow::as_select())
            .for_update()
            .first(c)
            .optional()?,
        DbConnection::Sqlite(c) => dossiers::table
            .find(code)
            .select(DossierRow::as_select())
            .first(c)
            .optional()?,
    };
    let Some(row) = row else { return Ok(None) };
    let progress = dossier_progress::table
        .find(code)
        .select(ProgressRow::as_select())
        .first(conn)
        .optional()?
        .unwrap_or_else(|| ProgressRow::new(code));
    Ok(Some((row, progress)))
}

/// Appends an event and writes the dossier's new cached state (inside the caller's
/// transaction); returns the event's sequence number.
pub fn append_event(
    conn: &mut DbConnection,
    dossier: &DossierRow,
    progress: &ProgressRow,
    mut event: EventRow,
) -> StoreResult<i32> {
    super::changes::touch(&dossier.code);
    let last: Option<i32> = dossier_events::table
        .filter(dossier_events::dossier_code.eq(&dossier.code))
        .select(diesel::dsl::max(dossier_events::seq))
        .first(conn)?;
    event.seq = last.unwrap_or(0) + 1;
    diesel::insert_into(dossier_events::table)
        .values(&event)
        .execute(conn)?;
    diesel::update(dossiers::table.find(&dossier.code))
        .set((
            dossiers::status.eq(&dossier.status),
            dossiers::current_agency.eq(&dossier.current_agency),
            // Set once, at the official receipt of an online submission.
            dossiers::received_at.eq(dossier.received_at),
            dossiers::rule_set.eq(&dossier.rule_set),
            dossiers::book_volume.eq(dossier.book_volume),
            dossiers::book_line.eq(dossier.book_line),
            dossiers::note.eq(&dossier.note),
            dossiers::due_at.eq(dossier.due_at),
            dossiers::reappointed_at.eq(dossier.reappointed_at),
            dossiers::finished_at.eq(dossier.finished_at),
            dossiers::outcome.eq(&dossier.outcome),
            dossiers::result_ready.eq(dossier.result_ready),
            dossiers::updated_at.eq(dossier.updated_at),
        ))
        .execute(conn)?;
    let n = diesel::update(dossier_progress::table.find(&dossier.code))
        .set(progress)
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(dossier_progress::table)
            .values(progress)
            .execute(conn)?;
    }
    Ok(event.seq)
}

/// The steps of a dossier's route, in order.
pub fn steps_of(conn: &mut DbConnection, code: &str) -> StoreResult<Vec<StepRow>> {
    Ok(dossier_steps::table
        .filter(dossier_steps::dossier_code.eq(code))
        .order(dossier_steps::no)
        .select(StepRow::as_select())
        .load(conn)?)
}

/// One row of the hand-over log (form 06).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::handovers)]
pub struct HandoverRow {
    pub dossier_code: String,
    pub seq: i32,
    pub at: NaiveDateTime,
    pub from_agency: String,
    pub to_agency: String,
    pub electronic: bool,
    pub outcome: Option<String>,
    /// The transfer out of the receiving desk: its due moment and `on_time` / `late`.
    pub transfer_due_at: Option<NaiveDateTime>,
    pub transfer_outcome: Option<String>,
}

/// The name index's rows of dossier `r` held by `agency` (`dossier_name_keys`: the folded
/// name from each of its words on, once per agency that holds the dossier, migration
/// 000016).
#[allow(clippy::type_complexity)]
fn name_keys(
    r: &DossierRow,
    agency: &str,
) -> Vec<(
    diesel::dsl::Eq<dossier_name_keys::key, String>,
    diesel::dsl::Eq<dossier_name_keys::dossier_code, String>,
    diesel::dsl::Eq<dossier_name_keys::agency_code, String>,
    diesel::dsl::Eq<dossier_name_keys::received_at, Option<NaiveDateTime>>,
)> {
    crate::core::text::word_starts(&r.applicant_search)
        .into_iter()
        .map(|k| {
            (
                dossier_name_keys::key.eq(k.to_string()),
                dossier_name_keys::dossier_code.eq(r.code.clone()),
                dossier_name_keys::agency_code.eq(agency.to_string()),
                dossier_name_keys::received_at.eq(r.received_at),
            )
        })
        .collect()
}

/// Records the official receipt of an online submission (`row.received_at` just set) in
/// the search's tables: its name keys and the agencies that hold it carry the moment
/// (migration 000013). Inside the caller's transaction.
pub fn set_received_at(conn: &mut DbConnection, row: &DossierRow) -> StoreResult<()> {
    diesel::update(dossier_agencies::table.filter(dossier_agencies::dossier_code.eq(&row.code)))
        .set(dossier_agencies::received_at.eq(row.received_at))
        .execute(conn)?;
    // By the table's key: the name's keys are cut again from the stored name.
    for k in crate::core::text::word_starts(&row.applicant_search) {
        diesel::update(
            dossier_name_keys::table
                .filter(dossier_name_keys::key.eq(k.to_string()))
                .filter(dossier_name_keys::dossier_code.eq(&row.code)),
        )
        .set(dossier_name_keys::received_at.eq(row.received_at))
        .execute(conn)?;
    }
    Ok(())
}

/// Bulk insert of generated dossiers (load tests): rows, progress, events, hand-overs,
/// and the agencies that have held each dossier (`dossier_agencies`).
pub fn insert_many(
    conn: &mut DbConnection,
    rows: &[DossierRow],
    progress: &[ProgressRow],
    events: &[EventRow],
    handovers: &[HandoverRow],
) -> StoreResult<()> {
    // Every agency that has held each dossier, as intake and hand-over record it.
    let by_code: std::collections::HashMap<&str, &DossierRow> =
        rows.iter().map(|r| (r.code.as_str(), r)).collect();
    let held: Vec<(String, String)> = rows
        .iter()
        .flat_map(|r| {
            let mut agencies = vec![&r.receiving_agency, &r.current_agency];
            agencies.extend(r.competent_agency.as_ref());
            agencies.sort();
            agencies.dedup();
            agencies
                .into_iter()
                .map(|a| (a.clone(), r.code.clone()))
                .collect::<Vec<_>>()
        })
        .chain(
            handovers
                .iter()
                .map(|h| (h.to_agency.clone(), h.dossier_code.clone())),
        )
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let keys: Vec<_> = held
        .iter()
        .filter_map(|(a, c)| Some(name_keys(by_code.get(c.as_str())?, a)))
        .flatten()
        .collect();
    let held: Vec<_> = held
        .iter()
        .filter_map(|(a, c)| {
            let r = by_code.get(c.as_str())?;
            Some((
                dossier_agencies::agency_code.eq(a),
                dossier_agencies::dossier_code.eq(c),
                dossier_agencies::received_at.eq(r.received_at),
                dossier_agencies::applicant_search.eq(&r.applicant_search),
                dossier_agencies::applicant_id_number.eq(&r.applicant_id_number),
            ))
        })
        .collect();
    macro_rules! batch {
        ($c:expr) => {{
            for chunk in rows.chunks(500) {
                diesel::insert_into(dossiers::table)
                    .values(chunk)
                    .execute($c)?;
            }
            // The holds before the name keys that reference them.
            for chunk in held.chunks(2000) {
                diesel::insert_into(dossier_agencies::table)
                    .values(chunk)
                    .execute($c)?;
            }
            for chunk in keys.chunks(2000) {
                diesel::insert_into(dossier_name_keys::table)
                    .values(chunk)
                    .execute($c)?;
            }
            for chunk in progress.chunks(500) {
                diesel::insert_into(dossier_progress::table)
                    .values(chunk)
                    .execute($c)?;
            }
            for chunk in events.chunks(2000) {
                diesel::insert_into(dossier_events::table)
                    .values(chunk)
                    .execute($c)?;
            }
            for chunk in handovers.chunks(2000) {
                diesel::insert_into(super::schema::handovers::table)
                    .values(chunk)
                    .execute($c)?;
            }
        }};
    }
    match conn {
        DbConnection::Postgresql(c) => batch!(c),
        DbConnection::Sqlite(c) => batch!(c),
    }
    Ok(())
}

/// An act the law gives a time limit (a supplement request, an online submission and the
/// desk's answers to it): its event, agency, moment, limit and whether it came late.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::deadline_acts)]
pub struct DeadlineActRow {
    pub dossier_code: String,
    /// The event's sequence number.
    pub seq: i32,
    /// The event's kind (`core::indicators::ActKind`).
    pub kind: String,
    pub at: NaiveDateTime,
    pub agency_code: String,
    pub due_at: Option<NaiveDateTime>,
    pub late: bool,
}

/// An intake's idempotency key (`Idempotency-Key`): the first answer, kept for repeats.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::intake_keys)]
pub struct IntakeKeyRow {
    pub account: String,
    pub key: String,
    /// SHA-256 of the request the key first came with.
    pub request_hash: String,
    pub dossier_code: String,
    /// The answer, as JSON, without the pin.
    pub receipt: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_intake_key(conn: &mut DbConnection, r: &IntakeKeyRow) -> StoreResult<()> {
    diesel::insert_into(super::schema::intake_keys::table)
        .values(r)
        .execute(conn)?;
    Ok(())
}

/// Marks a new dossier with the key of the form (or request) that made it, inside the
/// caller's transaction: the unique index `dossiers_form_key` refuses a second dossier
/// from the same key (`Conflict`). The column is written only here, so it is not in
/// diesel's schema of the table (which stays within 32 columns).
pub fn claim_form_key(conn: &mut DbConnection, code: &str, key: &str) -> StoreResult<()> {
    let done = match conn {
        DbConnection::Sqlite(c) => {
            diesel::sql_query("UPDATE dossiers SET form_key = ? WHERE code = ?")
                .bind::<Text, _>(key)
                .bind::<Text, _>(code)
                .execute(c)
        }
        DbConnection::Postgresql(c) => {
            diesel::sql_query("UPDATE dossiers SET form_key = $1 WHERE code = $2")
                .bind::<Text, _>(key)
                .bind::<Text, _>(code)
                .execute(c)
        }
    };
    match done {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(super::StoreError::Conflict("form_key".into())),
        Err(e) => Err(e.into()),
    }
}

impl Store {
    /// The first answer given to `account`'s intake with idempotency key `key`, if any.
    pub fn intake_key(&self, account: &str, key: &str) -> StoreResult<Option<IntakeKeyRow>> {
        use super::schema::intake_keys;
        Ok(intake_keys::table
            .find((account, key))
            .select(IntakeKeyRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }
}

pub fn insert_act(conn: &mut DbConnection, r: &DeadlineActRow) -> StoreResult<()> {
    diesel::insert_into(super::schema::deadline_acts::table)
        .values(r)
        .execute(conn)?;
    Ok(())
}

/// Whether dossier `code` has been handed over before (inside the caller's transaction).
pub fn has_handovers(conn: &mut DbConnection, code: &str) -> StoreResult<bool> {
    use super::schema::handovers;
    let n: i64 = handovers::table
        .filter(handovers::dossier_code.eq(code))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn insert_handover(conn: &mut DbConnection, h: &HandoverRow) -> StoreResult<()> {
    diesel::insert_into(super::schema::handovers::table)
        .values(h)
        .execute(conn)?;
    Ok(())
}

/// Replaces a dossier's list of papers (an online dossier sent again after a correction),
/// inside the caller's transaction.
pub fn replace_papers(conn: &mut DbConnection, code: &str, papers: &[PaperRow]) -> StoreResult<()> {
    diesel::delete(dossier_papers::table.filter(dossier_papers::dossier_code.eq(code)))
        .execute(conn)?;
    for p in papers {
        diesel::insert_into(dossier_papers::table)
            .values(p)
            .execute(conn)?;
    }
    Ok(())
}

/// Writes a dossier's route, planned at its official receipt (inside the caller's
/// transaction).
pub fn insert_steps(conn: &mut DbConnection, steps: &[StepRow]) -> StoreResult<()> {
    match conn {
        // One statement: each is a round trip.
        DbConnection::Postgresql(c) if !steps.is_empty() => {
            diesel::insert_into(dossier_steps::table)
                .values(steps)
                .execute(c)?;
        }
        _ => {
            for s in steps {
                diesel::insert_into(dossier_steps::table)
                    .values(s)
                    .execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Writes the steps that changed (inside the caller's transaction).
pub fn update_steps(conn: &mut DbConnection, steps: &[StepRow]) -> StoreResult<()> {
    for s in steps {
        diesel::update(dossier_steps::table.find((&s.dossier_code, s.no)))
            .set(s)
            .execute(conn)?;
    }
    Ok(())
}

/// The agencies that have held dossier `code`.
pub fn handled_by(conn: &mut DbConnection, code: &str) -> StoreResult<Vec<String>> {
    Ok(dossier_agencies::table
        .filter(dossier_agencies::dossier_code.eq(code))
        .select(dossier_agencies::agency_code)
        .load(conn)?)
}

/// Records that `agency` has held dossier `row` (once; inside the caller's transaction,
/// which holds the dossier's row), with what the search reads on the agency's index.
pub fn add_handler(conn: &mut DbConnection, row: &DossierRow, agency: &str) -> StoreResult<()> {
    let code = row.code.as_str();
    let known: i64 = dossier_agencies::table
        .filter(dossier_agencies::agency_code.eq(agency))
        .filter(dossier_agencies::dossier_code.eq(code))
        .count()
        .get_result(conn)?;
    if known == 0 {
        diesel::insert_into(dossier_agencies::table)
            .values((
                dossier_agencies::agency_code.eq(agency),
                dossier_agencies::dossier_code.eq(code),
                dossier_agencies::received_at.eq(row.received_at),
                dossier_agencies::applicant_search.eq(&row.applicant_search),
                dossier_agencies::applicant_id_number.eq(&row.applicant_id_number),
            ))
            .execute(conn)?;
        let keys = name_keys(row, agency);
        match conn {
            DbConnection::Postgresql(c) => diesel::insert_into(dossier_name_keys::table)
                .values(&keys)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(dossier_name_keys::table)
                .values(&keys)
                .execute(c)?,
        };
    }
    Ok(())
}

/// The agencies that hold a new dossier: its receiving desk and its competent agency
/// (once when they are one).
pub(crate) fn first_holders(d: &DossierRow) -> Vec<&String> {
    let mut agencies: Vec<&String> = [Some(&d.receiving_agency), d.competent_agency.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    agencies.dedup();
    agencies
}

/// Writes a new dossier with its papers, route and first event (inside the caller's
/// transaction).
pub fn insert_dossier(
    conn: &mut DbConnection,
    dossier: &DossierRow,
    progress: &ProgressRow,
    papers: &[PaperRow],
    steps: &[StepRow],
    event: &EventRow,
) -> StoreResult<()> {
    diesel::insert_into(dossiers::table)
        .values(dossier)
        .execute(conn)?;
    diesel::insert_into(dossier_progress::table)
        .values(progress)
        .execute(conn)?;
    insert_steps(conn, steps)?;
    // A new dossier: none of its agencies is recorded yet (`add_handler` asks first).
    let agencies = first_holders(dossier);
    let held: Vec<_> = agencies
        .iter()
        .map(|a| {
            (
                dossier_agencies::agency_code.eq(a.as_str()),
                dossier_agencies::dossier_code.eq(&dossier.code),
                dossier_agencies::received_at.eq(dossier.received_at),
                dossier_agencies::applicant_search.eq(&dossier.applicant_search),
                dossier_agencies::applicant_id_number.eq(&dossier.applicant_id_number),
            )
        })
        .collect();
    let keys: Vec<_> = agencies
        .iter()
        .flat_map(|a| name_keys(dossier, a))
        .collect();
    macro_rules! holds {
        ($c:expr) => {{
            diesel::insert_into(dossier_agencies::table)
                .values(&held)
                .execute($c)?;
            if !keys.is_empty() {
                diesel::insert_into(dossier_name_keys::table)
                    .values(&keys)
                    .execute($c)?;
            }
        }};
    }
    // One statement per table on PostgreSQL (each is a round trip); SQLite takes the
    // papers one by one (a row with a default, `reuse_document_id`), in process.
    match conn {
        DbConnection::Postgresql(c) => {
            holds!(c);
            if !papers.is_empty() {
                diesel::insert_into(dossier_papers::table)
                    .values(papers)
                    .execute(c)?;
            }
        }
        DbConnection::Sqlite(c) => {
            holds!(c);
            for p in papers {
                diesel::insert_into(dossier_papers::table)
                    .values(p)
                    .execute(c)?;
            }
        }
    }
    diesel::insert_into(dossier_events::table)
        .values(event)
        .execute(conn)?;
    Ok(())
}

pub fn insert_intake_outcome(conn: &mut DbConnection, row: &IntakeOutcomeRow) -> StoreResult<()> {
    diesel::insert_into(intake_outcomes::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// What a staff list may filter on.
#[derive(Debug, Clone, Default)]
pub struct DossierFilter {
    /// Agencies whose dossiers (received, handled now or competent) are visible; `None` = all.
    pub scope: Option<Vec<String>>,
    pub status: Option<String>,
    pub received_from: Option<NaiveDateTime>,
    pub received_to: Option<NaiveDateTime>,
    pub procedure: Option<String>,
    /// A code prefix (as typed or upper-cased), an exact ID number, or the applicant's
    /// name from the start of any of its words, with or without diacritics (`hong nhung`
    /// finds Nguyễn Thị Hồng Nhung); `%` and `_` match themselves.
    pub q: Option<String>,
    /// Only the dossiers submitted by this account (a portal).
    pub received_by: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// The columns of a dossier the search's filters read.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = dossiers)]
struct SearchedRow {
    code: String,
    status: String,
    received_at: Option<NaiveDateTime>,
    procedure_code: String,
    received_by: String,
    applicant_search: String,
    applicant_id_number: String,
}

impl DossierFilter {
    /// Whether dossier `r` passes the filters other than the scope, text `t` as
    /// [`text_matches`] reads it: what the database checks on the ordered read.
    fn keeps(&self, r: &SearchedRow, t: Option<&SearchText>) -> bool {
        self.status.as_ref().is_none_or(|s| r.status == *s)
            && self
                .received_from
                .is_none_or(|t| r.received_at.is_some_and(|x| x >= t))
            && self
                .received_to
                .is_none_or(|t| r.received_at.is_some_and(|x| x < t))
            && self
                .procedure
                .as_ref()
                .is_none_or(|p| r.procedure_code == *p)
            && self
                .received_by
                .as_ref()
                .is_none_or(|b| r.received_by == *b)
            && t.is_none_or(|t| {
                r.code.starts_with(&t.raw)
                    || r.code.starts_with(&t.upper)
                    || r.applicant_id_number == t.raw
                    || format!(" {}", r.applicant_search).contains(&t.word)
            })
    }
}

/// A search text as [`DossierFilter::keeps`] compares it.
struct SearchText {
    raw: String,
    upper: String,
    /// A space and the folded text: the start of a word of a folded name.
    word: String,
}

impl SearchText {
    fn new(t: &str) -> Self {
        SearchText {
            raw: t.to_string(),
            upper: t.to_uppercase(),
            word: format!(" {}", crate::core::text::fold(t)),
        }
    }
}

/// How many candidates a search text may name before the search reads the dossiers in
/// order instead: the candidates come sorted from the indexes alone (with their moment of
/// receipt), and past this a match is common enough (one dossier in 250 and more)
/// that the newest page of them is found within a few thousand rows read in order.
pub const SEARCH_CANDIDATES: usize = 4000;

/// The first batch of keys checked against the filters, beyond the page: a little more
/// than the page, since most candidates match; a batch that leaves the page short is
/// followed by one four times larger, up to `MAX_BATCH`.
const MAX_BATCH: usize = 4000;

diesel::define_sql_function! {
    /// `substr(text, start, length)`, in characters on both backends.
    fn substr(s: Text, start: diesel::sql_types::Integer, len: diesel::sql_types::Integer) -> Text;
}

/// What a search text matches (see `DossierFilter::q`): a dossier whose code starts with
/// the text as typed or upper-cased, whose applicant's ID number is the text, or whose
/// folded applicant name has the folded text at the start of one of its words (`hong
/// nhung`, `nguyen thi h` find Nguyễn Thị Hồng Nhung; `%` and `_` literally).
fn text_matches(
    t: &str,
    pg: bool,
) -> Box<
    dyn BoxableExpression<
        dossiers::table,
        <DbConnection as diesel::Connection>::Backend,
        SqlType = diesel::sql_types::Bool,
    >,
> {
    let upper = t.to_uppercase();
    let chars = |s: &str| s.chars().count() as i32;
    let name = " ".into_sql::<Text>().concat(dossiers::applicant_search);
    let name: Box<dyn BoxableExpression<_, _, SqlType = diesel::sql_types::Bool>> =
        match word_start_pattern(t, pg) {
            (p, None) => Box::new(name.like(p)),
            (p, Some(e)) => Box::new(name.like(p).escape(e)),
        };
    Box::new(
        substr(dossiers::code, 1, chars(t))
            .eq(t.to_string())
            .or(substr(dossiers::code, 1, chars(&upper)).eq(upper.clone()))
            .or(dossiers::applicant_id_number.eq(t.to_string()))
            .or(name),
    )
}

/// [`text_matches`] on an agency's hold (`dossier_agencies`, which carries the code, the
/// folded name and the ID number): checked on the agency's index as it is read.
fn held_text_matches(
    t: &str,
    pg: bool,
) -> Box<
    dyn BoxableExpression<
        dossier_agencies::table,
        <DbConnection as diesel::Connection>::Backend,
        SqlType = diesel::sql_types::Bool,
    >,
> {
    let upper = t.to_uppercase();
    let chars = |s: &str| s.chars().count() as i32;
    let name = " "
        .into_sql::<Text>()
        .concat(dossier_agencies::applicant_search);
    let name: Box<dyn BoxableExpression<_, _, SqlType = diesel::sql_types::Bool>> =
        match word_start_pattern(t, pg) {
            (p, None) => Box::new(name.like(p)),
            (p, Some(e)) => Box::new(name.like(p).escape(e)),
        };
    Box::new(
        substr(dossier_agencies::dossier_code, 1, chars(t))
            .eq(t.to_string())
            .or(substr(dossier_agencies::dossier_code, 1, chars(&upper)).eq(upper.clone()))
            .or(dossier_agencies::applicant_id_number.eq(t.to_string()))
            .or(name),
    )
}

/// The LIKE pattern of a folded name with the folded text `t` at the start of a word
/// (`% t%`, `t` matching itself), and the escape character to declare. PostgreSQL:
/// backslash, its default, declared by none — an `ESCAPE $n` of a prepared statement's
/// generic plan is `like_escape($p, $n)` evaluated on every row read; SQLite has no
/// default: `!`, declared.
fn word_start_pattern(t: &str, pg: bool) -> (String, Option<char>) {
    let folded = crate::core::text::fold(t);
    if pg {
        let escaped = folded
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        (format!("% {escaped}%"), None)
    } else {
        (format!("% {}%", like_literal(&folded)), Some('!'))
    }
}

/// `s` matching itself in a LIKE pattern with the escape character `!`.
fn like_literal(s: &str) -> String {
    s.replace('!', "!!").replace('%', "!%").replace('_', "!_")
}

/// A dossier's place in the search's order: its moment of receipt and its code.
type OrderKey = (Option<NaiveDateTime>, String);

/// The search's order: online submissions not received yet first (newest code first),
/// then the newest received first, ties by code (descending; codes compared bytewise).
fn in_order(a: &OrderKey, b: &OrderKey) -> std::cmp::Ordering {
    (b.0.is_none(), b.0, &b.1).cmp(&(a.0.is_none(), a.0, &a.1))
}

// `a ~>=~ b`, `a ~<~ b`: PostgreSQL's bytewise comparisons of `text_pattern_ops`
// (written only on PostgreSQL).
diesel::infix_operator!(PatternGe, " ~>=~ ");
diesel::infix_operator!(PatternLt, " ~<~ ");

/// The search texts lately seen naming more than the cap's candidates in a scope (a
/// common name: `nguyen thi`), for `COMMON_FOR`: their search reads the dossiers in order
/// at once, without reading their thousands of keys again to learn it. Only the way is
/// remembered, never a result: both ways give the same rows; and a text only by a hash
/// of it and its scope (an ID number typed in the search is not kept).
#[derive(Debug, Default)]
pub struct CommonTexts(std::sync::Mutex<std::collections::HashMap<u64, std::time::Instant>>);

/// How long a text stays known as common (names do not become rare in minutes).
const COMMON_FOR: std::time::Duration = std::time::Duration::from_secs(600);

/// At most this many texts are remembered (then all are forgotten at once).
const COMMON_TEXTS: usize = 10_000;

impl CommonTexts {
    fn key(t: &str, f: &DossierFilter, cap: usize) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (t, &f.scope, cap).hash(&mut h);
        h.finish()
    }

    fn is_common(&self, key: u64) -> bool {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&key).is_some_and(|at| at.elapsed() < COMMON_FOR)
    }

    fn note(&self, key: u64) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= COMMON_TEXTS {
            map.clear();
        }
        map.insert(key, std::time::Instant::now());
    }
}

/// A candidate of a search text: its place in the order, and whether it is known to be in
/// the filter's scope (a name key of an agency of the scope; a code or an ID number is
/// checked against the scope later, a batch at a time).
type Candidate = (OrderKey, bool);

/// The codes a search text can match, through the indexes (code prefix, ID number, the
/// name keys — of the scope's agencies only, with a scope), each with its moment of
/// receipt and within the filter's dates, or `None` when there are more than `cap` of
/// them (the dossiers are then better read in order).
fn search_candidates(
    conn: &mut DbConnection,
    t: &str,
    f: &DossierFilter,
    cap: usize,
    common: &CommonTexts,
) -> StoreResult<Option<Vec<Candidate>>> {
    let memo = CommonTexts::key(t, f, cap);
    if common.is_common(memo) {
        return Ok(None);
    }
    let limit = cap as i64 + 1;
    let folded = crate::core::text::fold(t);
    let upper = t.to_uppercase();
    let mut prefixes = vec![t.to_string()];
    if upper != t {
        prefixes.push(upper);
    }
    // Every string starting with `p` sorts from `p` (included) to `p` followed by the
    // greatest character (excluded) in a binary collation (SQLite's, and the name keys'
    // `COLLATE "C"` on PostgreSQL): the index is read as a range.
    let end = |p: &str| format!("{p}\u{10FFFF}");
    // Code → (moment of receipt, known in scope).
    let mut found: std::collections::HashMap<String, (Option<NaiveDateTime>, bool)> =
        std::collections::HashMap::new();
    let unscoped = f.scope.is_none();
    let pg = matches!(conn, DbConnection::Postgresql(_));
    for p in &prefixes {
        if let Some(scope) = &f.scope {
            // The codes the scope's agencies hold, on their own index (migration 000022;
            // on SQLite the table's key): a prefix of another agency's codes names
            // nothing at once, where the dossiers' index named all of them.
            let q = dossier_agencies::table
                .filter(dossier_agencies::agency_code.eq_any(scope.clone()))
                .select((
                    dossier_agencies::dossier_code,
                    dossier_agencies::received_at,
                ))
                .limit(limit)
                .into_boxed();
            let q = if pg {
                q.filter(PatternGe::new(
                    dossier_agencies::dossier_code,
                    p.clone().into_sql::<Text>(),
                ))
                .filter(PatternLt::new(
                    dossier_agencies::dossier_code,
                    end(p).into_sql::<Text>(),
                ))
            } else {
                q.filter(dossier_agencies::dossier_code.ge(p.clone()))
                    .filter(dossier_agencies::dossier_code.lt(end(p)))
            };
            let codes: Vec<(String, Option<NaiveDateTime>)> = q.load(conn)?;
            found.extend(codes.into_iter().map(|(c, at)| (c, (at, true))));
            if found.len() > cap {
                common.note(memo);
                return Ok(None);
            }
            continue;
        }
        let q = dossiers::table
            .select((dossiers::code, dossiers::received_at))
            .limit(limit)
            .into_boxed();
        // PostgreSQL compares codes in the database's collation, where a range is not a
        // prefix: the range is read bytewise (`~>=~`, `~<~`) on the `text_pattern_ops`
        // index (migrations 000012, 000013), which a generic plan uses (LIKE with a
        // parameter could not).
        let q = if pg {
            q.filter(PatternGe::new(dossiers::code, p.clone().into_sql::<Text>()))
                .filter(PatternLt::new(dossiers::code, end(p).into_sql::<Text>()))
        } else {
            q.filter(dossiers::code.ge(p.clone()))
                .filter(dossiers::code.lt(end(p)))
        };
        let codes: Vec<(String, Option<NaiveDateTime>)> = q.load(conn)?;
        found.extend(codes.into_iter().map(|(c, at)| (c, (at, unscoped))));
        if found.len() > cap {
            common.note(memo);
            return Ok(None);
        }
    }
    let codes: Vec<(String, Option<NaiveDateTime>)> = dossiers::table
        .filter(dossiers::applicant_id_number.eq(t.to_string()))
        .select((dossiers::code, dossiers::received_at))
        .limit(limit)
        .load(conn)?;
    found.extend(codes.into_iter().map(|(c, at)| (c, (at, unscoped))));
    // The name keys: the province's, or the scope's agencies' (a dossier held by two
    // agencies has its keys twice).
    let keys = || {
        let q = dossier_name_keys::table
            .filter(dossier_name_keys::key.ge(folded.clone()))
            .filter(dossier_name_keys::key.lt(end(&folded)))
            .into_boxed();
        match &f.scope {
            Some(scope) => q.filter(dossier_name_keys::agency_code.eq_any(scope.clone())),
            None => q,
        }
    };
    // At most the keys the cap leaves room for, and one more: a common name stops there
    // (and is remembered as such).
    let room = (cap - found.len()) as i64;
    let codes: Vec<(String, Option<NaiveDateTime>)> = keys()
        .select((
            dossier_name_keys::dossier_code,
            dossier_name_keys::received_at,
        ))
        .limit(room + 1)
        .load(conn)?;
    if codes.len() as i64 > room {
        common.note(memo);
        return Ok(None);
    }
    found.extend(codes.into_iter().map(|(c, at)| (c, (at, true))));
    let dated = f.received_from.is_some() || f.received_to.is_some();
    Ok(Some(
        found
            .into_iter()
            .filter(|(_, (at, _))| {
                !dated
                    || at.is_some_and(|at| {
                        f.received_from.is_none_or(|t| at >= t)
                            && f.received_to.is_none_or(|t| at < t)
                    })
            })
            .map(|(code, (at, known))| ((at, code), known))
            .collect(),
    ))
}

/// [`Store::list_dossiers`] on one connection, a text naming at most `cap` candidates.
fn list_dossiers_on(
    conn: &mut DbConnection,
    f: &DossierFilter,
    cap: usize,
    common: &CommonTexts,
) -> StoreResult<Vec<DossierRow>> {
    let text = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let want = (f.offset.max(0) + f.limit.max(0)) as usize;
    if want == f.offset.max(0) as usize {
        return Ok(Vec::new());
    }
    let candidates = match text {
        Some(t) => search_candidates(conn, t, f, cap, common)?,
        None => None,
    };
    let pg = matches!(conn, DbConnection::Postgresql(_));
    // Every filter but the scope (the ordered read without a scope).
    let query = || {
        let mut q = dossiers::table.into_boxed();
        if let Some(s) = &f.status {
            q = q.filter(dossiers::status.eq(s.clone()));
        }
        if let Some(t) = f.received_from {
            q = q.filter(dossiers::received_at.ge(t));
        }
        if let Some(t) = f.received_to {
            q = q.filter(dossiers::received_at.lt(t));
        }
        if let Some(p) = &f.procedure {
            q = q.filter(dossiers::procedure_code.eq(p.clone()));
        }
        if let Some(by) = &f.received_by {
            q = q.filter(dossiers::received_by.eq(by.clone()));
        }
        if let Some(t) = text {
            q = q.filter(text_matches(t, pg));
        }
        q
    };
    // Filters on columns the keys do not carry, checked on the dossiers' rows.
    let by_row = f.status.is_some() || f.procedure.is_some() || f.received_by.is_some();
    // The first batch: a little more than the page when every key read is kept.
    let first = if by_row {
        (want * 2).clamp(64, MAX_BATCH)
    } else {
        (want + want / 4 + 8).min(MAX_BATCH)
    };
    let mut ordered: Box<dyn Ordered + '_> = match (candidates, &f.scope) {
        (Some(mut keys), _) => {
            keys.sort_by(|a, b| in_order(&a.0, &b.0));
            Box::new(Sorted(keys.into_iter()))
        }
        (None, Some(scope)) => {
            let dated = f.received_from.is_some() || f.received_to.is_some();
            let mut scope = scope.clone();
            scope.sort();
            scope.dedup();
            Box::new(Scoped {
                agencies: scope.iter().map(|a| Held::new(a, dated, first)).collect(),
                filter: f,
                last: None,
            })
        }
        (None, None) if text.is_some() && !by_row => {
            // A common text in the province: the codes that match, in order, from the
            // index `(received_at, code)` alone (which carries the name and the ID number
            // the text is checked on); only the page's rows are read whole, not every
            // row the text is checked on.
            let keys = || query().select(dossiers::code);
            let mut codes: Vec<String> = Vec::new();
            if f.received_from.is_none() && f.received_to.is_none() {
                codes = keys()
                    .filter(dossiers::received_at.is_null())
                    .order(dossiers::code.desc())
                    .limit(want as i64)
                    .load(conn)?;
            }
            if codes.len() < want {
                let more: Vec<String> = keys()
                    .filter(dossiers::received_at.is_not_null())
                    .order((dossiers::received_at.desc(), dossiers::code.desc()))
                    .limit((want - codes.len()) as i64)
                    .load(conn)?;
                codes.extend(more);
            }
            Box::new(Sorted(
                codes
                    .into_iter()
                    .map(|c| ((None, c), true))
                    .collect::<Vec<_>>()
                    .into_iter(),
            ))
        }
        (None, None) => {
            // Online submissions not received yet first (by code, newest first),
            // then the received ones, newest first: two index-ordered reads, each
            // stopping at the page.
            let query = || query().select(DossierRow::as_select());
            let mut rows: Vec<DossierRow> = Vec::new();
            if f.received_from.is_none() && f.received_to.is_none() {
                rows = query()
                    .filter(dossiers::received_at.is_null())
                    .order(dossiers::code.desc())
                    .limit(want as i64)
                    .load(conn)?;
            }
            if rows.len() < want {
                let more: Vec<DossierRow> = query()
                    .filter(dossiers::received_at.is_not_null())
                    .order((dossiers::received_at.desc(), dossiers::code.desc()))
                    .limit((want - rows.len()) as i64)
                    .load(conn)?;
                rows.extend(more);
            }
            return Ok(rows.into_iter().skip(f.offset.max(0) as usize).collect());
        }
    };
    // The codes that pass, in order, until the page is full, checked a batch at a time.
    // The keys already match the text and the dates (the candidates by construction,
    // the scope's read on its index), and a scope's read is within the scope: what is
    // left is the scope of the candidates named by a code or an ID number, on
    // `dossier_agencies`' key alone, and the filters on other columns (status,
    // procedure, submitter) on the dossiers' rows.
    let searched = text.map(SearchText::new);
    let mut passed: Vec<String> = Vec::with_capacity(want);
    let mut n = (want + want / 4 + 8).min(MAX_BATCH);
    loop {
        let batch = ordered.next_batch(conn, n)?;
        if batch.is_empty() {
            break;
        }
        let unknown: Vec<&String> = batch
            .iter()
            .filter(|(_, known)| !known)
            .map(|(c, _)| c)
            .collect();
        let mut hits: Option<std::collections::HashSet<String>> = None;
        if let (Some(scope), false) = (&f.scope, unknown.is_empty()) {
            let mut h: std::collections::HashSet<String> = dossier_agencies::table
                .filter(dossier_agencies::agency_code.eq_any(scope))
                .filter(dossier_agencies::dossier_code.eq_any(unknown))
                .select(dossier_agencies::dossier_code)
                .load::<String>(conn)?
                .into_iter()
                .collect();
            h.extend(
                batch
                    .iter()
                    .filter(|(_, known)| *known)
                    .map(|(c, _)| c.clone()),
            );
            hits = Some(h);
        }
        let batch: Vec<String> = batch.into_iter().map(|(c, _)| c).collect();
        if by_row {
            let codes: Vec<&String> = match &hits {
                Some(h) => batch.iter().filter(|c| h.contains(*c)).collect(),
                None => batch.iter().collect(),
            };
            // Read by code, the filters checked here: given them, a database may
            // prefer another index (status and date) and read thousands of rows for
            // a page.
            hits = Some(if codes.is_empty() {
                Default::default()
            } else {
                dossiers::table
                    .filter(dossiers::code.eq_any(codes))
                    .select(SearchedRow::as_select())
                    .load::<SearchedRow>(conn)?
                    .into_iter()
                    .filter(|r| f.keeps(r, searched.as_ref()))
                    .map(|r| r.code)
                    .collect()
            });
        }
        let before = passed.len();
        match &hits {
            Some(h) => passed.extend(batch.iter().filter(|c| h.contains(*c)).cloned()),
            None => passed.extend(batch.iter().cloned()),
        }
        let found = passed.len() - before;
        if passed.len() >= want || batch.len() < n {
            break;
        }
        // The share that passed so far (at least one in a hundred assumed), a fifth
        // more, at most `MAX_BATCH`.
        let share = (found.max(1) as f64 / batch.len() as f64).max(0.01);
        let missing = (want - passed.len()) as f64;
        n = ((missing / share * 1.2) as usize + 8).min(MAX_BATCH);
    }
    let page: Vec<String> = passed
        .into_iter()
        .skip(f.offset.max(0) as usize)
        .take(f.limit.max(0) as usize)
        .collect();
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<DossierRow> = dossiers::table
        .filter(dossiers::code.eq_any(&page))
        .select(DossierRow::as_select())
        .load(conn)?;
    let place: std::collections::HashMap<&str, usize> = page
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    rows.sort_by_key(|r| place.get(r.code.as_str()).copied());
    Ok(rows)
}

/// Dossier codes in the search's order, read a batch at a time, each with whether it is
/// known to be in the filter's scope.
trait Ordered {
    /// The next `n` codes at most (fewer only at the end).
    fn next_batch(&mut self, conn: &mut DbConnection, n: usize)
        -> StoreResult<Vec<(String, bool)>>;
}

/// Candidates named by the indexes, sorted.
struct Sorted(std::vec::IntoIter<Candidate>);

impl Ordered for Sorted {
    fn next_batch(&mut self, _: &mut DbConnection, n: usize) -> StoreResult<Vec<(String, bool)>> {
        Ok(self.0.by_ref().take(n).map(|((_, c), k)| (c, k)).collect())
    }
}

/// One agency's dossiers in the search's order, from `dossier_agencies`' index
/// `(agency_code, received_at, dossier_code)` (migration 000013), a batch at a time.
struct Held {
    agency: String,
    buffer: std::collections::VecDeque<OrderKey>,
    /// The unreceived submissions are read (or skipped, with a date filter).
    received: bool,
    done: bool,
    last: Option<OrderKey>,
    /// The next read's size: `first`, four times larger on each read of the same part
    /// (the unreceived submissions, then the received dossiers), up to `MAX_BATCH`.
    batch: usize,
    first: usize,
}

impl Held {
    fn new(agency: &str, dated: bool, batch: usize) -> Self {
        Held {
            agency: agency.to_string(),
            buffer: Default::default(),
            received: dated,
            done: false,
            last: None,
            batch,
            first: batch,
        }
    }

    /// The next key, reading a batch when the buffer is empty.
    fn head(
        &mut self,
        conn: &mut DbConnection,
        f: &DossierFilter,
    ) -> StoreResult<Option<&OrderKey>> {
        let pg = matches!(conn, DbConnection::Postgresql(_));
        while self.buffer.is_empty() && !self.done {
            let n = self.batch;
            self.batch = (self.batch * 4).min(MAX_BATCH);
            let mut q = dossier_agencies::table
                .filter(dossier_agencies::agency_code.eq(self.agency.clone()))
                .select((
                    dossier_agencies::received_at,
                    dossier_agencies::dossier_code,
                ))
                .limit(n as i64)
                .into_boxed();
            if let Some(t) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                q = q.filter(held_text_matches(t, pg));
            }
            let rows: Vec<OrderKey> = if !self.received {
                let mut q = q
                    .filter(dossier_agencies::received_at.is_null())
                    .order(dossier_agencies::dossier_code.desc());
                if let Some((_, code)) = &self.last {
                    q = q.filter(dossier_agencies::dossier_code.lt(code.clone()));
                }
                let rows: Vec<OrderKey> = q.load(conn)?;
                if rows.len() < n {
                    // The received dossiers are read from the first size again: a few
                    // unreceived submissions say nothing of how many are needed.
                    self.received = true;
                    self.last = None;
                    self.batch = self.first;
                }
                rows
            } else {
                let mut q = q
                    .filter(dossier_agencies::received_at.is_not_null())
                    .order((
                        dossier_agencies::received_at.desc(),
                        dossier_agencies::dossier_code.desc(),
                    ));
                if let Some(t) = f.received_from {
                    q = q.filter(dossier_agencies::received_at.ge(t));
                }
                if let Some(t) = f.received_to {
                    q = q.filter(dossier_agencies::received_at.lt(t));
                }
                // After the last key read: a range on the moment (ties read again only
                // at that moment), then the code among ties.
                if let Some((Some(t), code)) = &self.last {
                    q = q.filter(dossier_agencies::received_at.le(*t)).filter(
                        dossier_agencies::received_at
                            .lt(*t)
                            .or(dossier_agencies::dossier_code.lt(code.clone())),
                    );
                }
                let rows: Vec<OrderKey> = q.load(conn)?;
                if rows.len() < n {
                    self.done = true;
                }
                rows
            };
            if let Some(k) = rows.last() {
                if self.received == k.0.is_some() {
                    self.last = Some(k.clone());
                }
            }
            self.buffer.extend(rows);
        }
        Ok(self.buffer.front())
    }
}

/// The dossiers a scope holds, in the search's order: each agency's read in order,
/// merged (a dossier held by two of them once).
struct Scoped<'f> {
    agencies: Vec<Held>,
    filter: &'f DossierFilter,
    last: Option<String>,
}

impl Ordered for Scoped<'_> {
    fn next_batch(
        &mut self,
        conn: &mut DbConnection,
        n: usize,
    ) -> StoreResult<Vec<(String, bool)>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let mut best: Option<(usize, OrderKey)> = None;
            for (i, a) in self.agencies.iter_mut().enumerate() {
                if let Some(k) = a.head(conn, self.filter)? {
                    if best
                        .as_ref()
                        .is_none_or(|(_, b)| in_order(k, b) == std::cmp::Ordering::Less)
                    {
                        best = Some((i, k.clone()));
                    }
                }
            }
            let Some((i, (_, code))) = best else { break };
            self.agencies[i].buffer.pop_front();
            if self.last.as_ref() != Some(&code) {
                self.last = Some(code.clone());
                out.push((code, true));
            }
        }
        Ok(out)
    }
}

/// A hand-over in flight (`dossier_progress.pending_handover` set) is read as a range of
/// its index on each backend: SQLite scans the table for `IS NOT NULL` and reads `> ''`
/// (every agency code) on the index; PostgreSQL reads `IS NOT NULL` on the index, where a
/// bound `''` in a generic plan (`Store::read_planned_once`) took a third of the table
/// (and a literal would not be prepared once).
macro_rules! in_flight {
    ($conn:expr, |$p:ident| $body:expr) => {
        match $conn {
            DbConnection::Postgresql(_) => {
                let $p = dossier_progress::pending_handover.is_not_null();
                $body
            }
            DbConnection::Sqlite(_) => {
                let $p = dossier_progress::pending_handover.gt("").assume_not_null();
                $body
            }
        }
    };
}

/// A dossier a hand-over is pending out of: its agency, status, due moment, procedure.
type Leaving = (String, String, Option<NaiveDateTime>, String);

/// The filters of a held tab ([`QueueSpec::held`]) on a boxed query of `dossiers`, alone
/// or joined with its progress.
macro_rules! held_filters {
    ($spec:expr, $agency:expr, $base:expr) => {{
        let spec = $spec;
        let mut q = $base.filter(dossiers::current_agency.eq($agency));
        // One status by equality: PostgreSQL reads `= ANY($n)` of a prepared statement
        // as a set, and sorts the agency's thousands where the index gives the order.
        q = match spec.statuses.as_slice() {
            [one] => q.filter(dossiers::status.eq(one)),
            many => q.filter(dossiers::status.eq_any(many)),
        };
        // Received and in-progress dossiers have their clock running.
        if let Some(t) = spec.due_before {
            q = q.filter(dossiers::due_at.lt(t));
        }
        if let Some(t) = spec.due_from {
            q = q.filter(dossiers::due_at.ge(t));
        }
        if let Some(p) = &spec.procedure {
            q = q.filter(dossiers::procedure_code.eq(p));
        }
        q
    }};
}

/// A tab of a work queue (*hàng đợi*, issue #15): which dossiers waiting at an agency.
#[derive(Debug, Clone, Default)]
pub struct QueueSpec {
    /// Held by the agency now (no hand-over pending) in one of these statuses.
    pub statuses: Vec<String>,
    /// Instead: being handed to the agency (*đang chuyển đến*).
    pub incoming: bool,
    /// Instead: received by the agency (wherever it is now) in one of `statuses`.
    pub received_here: bool,
    /// Instead: what the agency has handled and no longer waits there — finished, or
    /// passed on (*đã xử lý*), newest received first; not counted.
    pub done: bool,
    /// Instead: received by the agency under `(rule set, moment)`, waiting for a
    /// supplement requested before the moment (*cần đóng*, NĐ 118/2025 Art. 19(5)).
    pub to_close: Vec<(String, NaiveDateTime)>,
    /// Due before this moment (exclusive), the clock running.
    pub due_before: Option<NaiveDateTime>,
    /// Due at or after this moment.
    pub due_from: Option<NaiveDateTime>,
    /// Proposed for a decision (*chờ phê duyệt*).
    pub proposed: Option<bool>,
    pub procedure: Option<String>,
    pub assignee: Option<String>,
}

type QueueQueryOf<'a> = diesel::helper_types::IntoBoxed<
    'a,
    diesel::helper_types::InnerJoin<dossiers::table, dossier_progress::table>,
    <DbConnection as diesel::Connection>::Backend,
>;

impl QueueSpec {
    /// The tab on `dossiers` alone when it is what the agency holds in statuses that have
    /// a due moment, by due moment or not, with no filter on the progress: the index
    /// `(current_agency, status, due_at, code)` answers it (migration 000015); the
    /// dossiers a hand-over is pending out of are left out (one uncorrelated subquery on
    /// `dossier_progress_pending`).
    fn held<'a>(
        &'a self,
        agency: &'a str,
        conn: &DbConnection,
    ) -> Option<dossiers::BoxedQuery<'a, <DbConnection as diesel::Connection>::Backend>> {
        // The hand-overs in flight, read once on their index (a few hundred in a
        // province), not row by row.
        let q = self.held_all(agency)?;
        Some(in_flight!(conn, |p| q.filter(diesel::dsl::not(
            dossiers::code.eq_any(
                dossier_progress::table
                    .filter(p)
                    .select(dossier_progress::dossier_code)
            )
        ))))
    }

    /// Whether the tab is one [`Self::held`] answers.
    fn is_held(&self) -> bool {
        !self.incoming
            && !self.done
            && !self.received_here
            && self.to_close.is_empty()
            && self.proposed.is_none()
            && self.assignee.is_none()
            && !self.statuses.is_empty()
            && self.statuses.iter().all(|s| s != "submitted")
    }

    /// [`Self::held`] with the dossiers a hand-over is pending out of still in.
    fn held_all<'a>(
        &'a self,
        agency: &'a str,
    ) -> Option<dossiers::BoxedQuery<'a, <DbConnection as diesel::Connection>::Backend>> {
        if !self.is_held() {
            return None;
        }
        Some(held_filters!(self, agency, dossiers::table.into_boxed()))
    }

    /// [`Self::held`] joined with the progress: the page's lines read in the index's
    /// order (one status at a time).
    fn held_lines<'a>(&'a self, agency: &'a str) -> Option<QueueQueryOf<'a>> {
        if !self.is_held() {
            return None;
        }
        // The hand-overs in flight left out on the joined row (read anyway).
        let base = dossiers::table
            .inner_join(dossier_progress::table)
            .into_boxed()
            .filter(dossier_progress::pending_handover.is_null());
        Some(held_filters!(self, agency, base))
    }

    /// Whether a dossier a hand-over is pending out of (`current_agency`, `status`,
    /// `due_at`, `procedure_code`) is counted by [`Self::held_all`], not by [`Self::held`].
    fn held_all_matches(&self, agency: &str, (current, status, due, procedure): &Leaving) -> bool {
        current == agency
            && self.statuses.contains(status)
            && self.due_before.is_none_or(|t| due.is_some_and(|d| d < t))
            && self.due_from.is_none_or(|t| due.is_some_and(|d| d >= t))
            && self.procedure.as_ref().is_none_or(|p| p == procedure)
    }

    fn query<'a>(&'a self, agency: &'a str) -> QueueQueryOf<'a> {
        let mut q = dossiers::table
            .inner_join(dossier_progress::table)
            .into_boxed();
        if self.incoming {
            q = q.filter(dossier_progress::pending_handover.eq(agency));
        } else if self.received_here {
            q = q
                .filter(dossiers::receiving_agency.eq(agency))
                .filter(dossiers::status.eq_any(&self.statuses));
        } else if !self.to_close.is_empty() {
            q = q.filter(dossiers::receiving_agency.eq(agency));
            q = q.filter(dossiers::status.eq("supplement_requested"));
            let mut any: Option<
                Box<dyn BoxableExpression<_, _, SqlType = diesel::sql_types::Bool>>,
            > = None;
            for (rule_set, before) in &self.to_close {
                let one = dossiers::rule_set.eq(rule_set.clone()).and(
                    dossier_progress::clock_stopped_at
                        .lt(*before)
                        .assume_not_null(),
                );
                any = Some(match any {
                    None => Box::new(one),
                    Some(a) => Box::new(a.or(one)),
                });
            }
            if let Some(a) = any {
                q = q.filter(a);
            }
        } else {
            q = q
                .filter(dossiers::current_agency.eq(agency))
                .filter(dossiers::status.eq_any(&self.statuses))
                .filter(dossier_progress::pending_handover.is_null());
        }
        if let Some(t) = self.due_before {
            q = q
                .filter(dossiers::due_at.lt(t))
                .filter(dossier_progress::clock_stopped_at.is_null());
        }
        if let Some(t) = self.due_from {
            q = q.filter(dossiers::due_at.ge(t));
        }
        if let Some(p) = self.proposed {
            q = q.filter(dossier_progress::proposed.eq(p));
        }
        if let Some(p) = &self.procedure {
            q = q.filter(dossiers::procedure_code.eq(p));
        }
        if let Some(a) = &self.assignee {
            q = q.filter(dossier_progress::assignee.eq(a));
        }
        q
    }
}

/// The queue lines of dossiers `codes`, in that order (missing ones left out).
fn rows_by_code(
    conn: &mut DbConnection,
    codes: &[String],
) -> StoreResult<Vec<(QueueLineRow, QueueProgressRow)>> {
    let mut rows: Vec<(QueueLineRow, QueueProgressRow)> = dossiers::table
        .inner_join(dossier_progress::table)
        .filter(dossiers::code.eq_any(codes))
        .select((QueueLineRow::as_select(), QueueProgressRow::as_select()))
        .load(conn)?;
    rows.sort_by_key(|(d, _)| codes.iter().position(|c| *c == d.code));
    Ok(rows)
}

impl Store {
    /// One dossier with its papers and events.
    pub fn find_dossier(&self, code: &str) -> StoreResult<Option<DossierFull>> {
        let mut conn = self.conn()?;
        let Some((d, events)) = dossier_and_events(&mut conn, code)? else {
            return Ok(None);
        };
        let papers = dossier_papers::table
            .filter(dossier_papers::dossier_code.eq(code))
            .order(dossier_papers::position)
            .select(PaperRow::as_select())
            .load(&mut *conn)?;
        Ok(Some((d, papers, events)))
    }

    /// What processing has made of a dossier: its progress, route and the agencies that
    /// have held it.
    pub fn dossier_processing(
        &self,
        code: &str,
    ) -> StoreResult<(ProgressRow, Vec<StepRow>, Vec<String>)> {
        let mut conn = self.conn()?;
        let progress = dossier_progress::table
            .find(code)
            .select(ProgressRow::as_select())
            .first(&mut *conn)
            .optional()?
            .unwrap_or_else(|| ProgressRow::new(code));
        let steps = steps_of(&mut conn, code)?;
        let agencies = handled_by(&mut conn, code)?;
        Ok((progress, steps, agencies))
    }

    /// Dossiers submitted by account `received_by` changed after `after` (last change,
    /// code), oldest change first: how a portal follows the statuses of its dossiers.
    pub fn changed_since(
        &self,
        received_by: &str,
        after: Option<(NaiveDateTime, String)>,
        limit: i64,
    ) -> StoreResult<Vec<DossierRow>> {
        let mut conn = self.conn()?;
        let mut q = dossiers::table
            .filter(dossiers::received_by.eq(received_by))
            .into_boxed();
        if let Some((t, code)) = after {
            q = q.filter(
                dossiers::updated_at
                    .gt(t)
                    .or(dossiers::updated_at.eq(t).and(dossiers::code.gt(code))),
            );
        }
        Ok(q.order((dossiers::updated_at.asc(), dossiers::code.asc()))
            .limit(limit)
            .select(DossierRow::as_select())
            .load(&mut conn)?)
    }

    /// The routes of several dossiers (a page of a queue), in one query.
    pub fn steps_of_many(&self, codes: &[String]) -> StoreResult<Vec<StepRow>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        Ok(dossier_steps::table
            .filter(dossier_steps::dossier_code.eq_any(codes))
            .order((dossier_steps::dossier_code, dossier_steps::no))
            .select(StepRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    /// The route of a dossier, in order.
    pub fn dossier_steps(&self, code: &str) -> StoreResult<Vec<StepRow>> {
        steps_of(&mut *self.conn()?, code)
    }

    /// The agencies that have held a dossier.
    pub fn dossier_handlers(&self, code: &str) -> StoreResult<Vec<String>> {
        handled_by(&mut *self.conn()?, code)
    }

    /// Just the dossier row and its events (the public lookup needs no papers).
    pub fn find_dossier_with_events(
        &self,
        code: &str,
    ) -> StoreResult<Option<(DossierRow, Vec<EventRow>)>> {
        dossier_and_events(&mut *self.conn()?, code)
    }

    /// How the search answers text `t`: `Some(n)` with its `n` candidates named by the
    /// indexes, `None` reading the dossiers in order (diagnostics and benchmarks).
    pub fn search_candidates(&self, t: &str) -> StoreResult<Option<usize>> {
        let cap = self.search_cap.load(std::sync::atomic::Ordering::Relaxed);
        Ok(search_candidates(
            &mut *self.conn()?,
            t.trim(),
            &DossierFilter::default(),
            cap,
            &CommonTexts::default(),
        )?
        .map(|c| c.len()))
    }

    /// Sets how many candidates a search text may name before the search reads the
    /// dossiers in order instead (default `SEARCH_CANDIDATES`): tests take both ways on
    /// a few thousand dossiers.
    pub fn set_search_cap(&self, cap: usize) {
        self.search_cap
            .store(cap, std::sync::atomic::Ordering::Relaxed);
    }

    /// Dossiers matching `f`: online submissions not received yet first, then newest
    /// received first, ties by code (descending).
    ///
    /// Three ways, all reading the same rows in the same order: a selective text (a code,
    /// an ID number, a rare name) names its candidates through the indexes, sorted from
    /// the indexes alone; a scope reads its agencies' dossiers in order from
    /// `dossier_agencies`; otherwise the dossiers are read in order. The first two check
    /// the keys against the filters a batch at a time until the page is full; only the
    /// page's dossiers are read whole.
    pub fn list_dossiers(&self, f: &DossierFilter) -> StoreResult<Vec<DossierRow>> {
        let cap = self.search_cap.load(std::sync::atomic::Ordering::Relaxed);
        // Each statement planned once (PostgreSQL): a search's keys, LIMITs and ranges
        // made PostgreSQL plan every statement anew, a third of its time under the
        // benchmark; their generic plans read the same indexes (checked with
        // `auto_explain`, README).
        self.read_planned_once(|conn| list_dossiers_on(conn, f, cap, &self.common_texts))
    }

    /// The work waiting at `agency`: open dossiers it holds (statuses given) or that are
    /// being handed to it, and, for each `(rule set, moment)` of `to_close`, the dossiers
    /// it received under that rule set still waiting for a supplement requested before
    /// the moment; soonest due first, with their progress.
    #[allow(clippy::too_many_arguments)]
    pub fn queue(
        &self,
        agency: &str,
        statuses: &[&str],
        to_close: &[(String, NaiveDateTime)],
        procedure: Option<&str>,
        assignee: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<(DossierRow, ProgressRow)>> {
        // What waits here is the union of three kinds, each read through its own index:
        // handled here in one of `statuses` (`dossiers_current`), pending hand-over to
        // here (`dossier_progress_pending`), and supplements past their wait at this
        // desk. One query with their OR across the two tables read every dossier of the
        // province (1.3 s at a million). Each kind gives its first `offset + limit`
        // lines in queue order; the page is cut from their merge, then read whole.
        let mut conn = self.conn()?;
        let pg = matches!(&*conn, DbConnection::Postgresql(_));
        let want = offset.saturating_add(limit);
        let code_order = if pg {
            "dossiers.code COLLATE \"C\""
        } else {
            "dossiers.code"
        };
        type Key = (String, Option<NaiveDateTime>, Option<NaiveDateTime>);
        let mut keys: Vec<Key> = Vec::new();
        macro_rules! part {
            ($filter:expr) => {{
                let mut q = dossiers::table
                    .inner_join(dossier_progress::table)
                    .filter($filter)
                    .into_boxed();
                if let Some(p) = procedure {
                    q = q.filter(dossiers::procedure_code.eq(p));
                }
                if let Some(a) = assignee {
                    q = q.filter(dossier_progress::assignee.eq(a));
                }
                let got: Vec<Key> = q
                    .order(
                        (
                            diesel::dsl::sql::<
                                diesel::sql_types::Nullable<diesel::sql_types::Timestamp>,
                            >(
                                "COALESCE(dossiers.due_at, dossier_progress.acknowledge_by)"
                            )
                            .asc(),
                            // Byte order on both backends, as the merge below.
                            diesel::dsl::sql::<diesel::sql_types::Text>(code_order).asc(),
                        ),
                    )
                    .limit(want)
                    .select((
                        dossiers::code,
                        dossiers::due_at,
                        dossier_progress::acknowledge_by,
                    ))
                    .load(&mut *conn)?;
                keys.extend(got);
            }};
        }
        if assignee.is_none() {
            // Handled here with a due moment: its key is on the dossier's own index
            // (`dossiers_current`), no progress row to join (a join read the whole
            // progress table: 190 ms a page at a million dossiers).
            let mut q = dossiers::table
                .filter(dossiers::current_agency.eq(agency))
                .filter(dossiers::status.eq_any(statuses))
                .filter(dossiers::due_at.is_not_null())
                .into_boxed();
            if let Some(p) = procedure {
                q = q.filter(dossiers::procedure_code.eq(p));
            }
            let got: Vec<(String, Option<NaiveDateTime>)> = q
                .order((
                    dossiers::due_at.asc(),
                    diesel::dsl::sql::<diesel::sql_types::Text>(code_order).asc(),
                ))
                .limit(want)
                .select((dossiers::code, dossiers::due_at))
                .load(&mut *conn)?;
            keys.extend(got.into_iter().map(|(c, d)| (c, d, None)));
            // The others (an online submission waits with the desk's limit).
            part!(dossiers::current_agency
                .eq(agency)
                .and(dossiers::status.eq_any(statuses))
                .and(dossiers::due_at.is_null()));
        } else {
            part!(dossiers::current_agency
                .eq(agency)
                .and(dossiers::status.eq_any(statuses)));
        }
        part!(dossier_progress::pending_handover.eq(agency));
        for (rule_set, before) in to_close {
            part!(dossiers::receiving_agency
                .eq(agency)
                .and(dossiers::status.eq("supplement_requested"))
                .and(dossiers::rule_set.eq(rule_set.clone()))
                .and(dossier_progress::clock_stopped_at.lt(*before)));
        }
        // Soonest first: the due moment, or for an online submission the desk's limit;
        // without either, last on PostgreSQL and first on SQLite (as their ORDER BY).
        let order = |(code, due, ack): &Key| {
            let at = due.or(*ack);
            (at.is_none() == pg, at, code.clone())
        };
        keys.sort_by_key(order);
        keys.dedup_by(|a, b| a.0 == b.0);
        let page: Vec<String> = keys
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(0))
            .map(|k| k.0)
            .collect();
        if page.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows: Vec<(DossierRow, ProgressRow)> = dossiers::table
            .inner_join(dossier_progress::table)
            .filter(dossiers::code.eq_any(&page))
            .select((DossierRow::as_select(), ProgressRow::as_select()))
            .load(&mut *conn)?;
        let place: std::collections::HashMap<&str, usize> = page
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        rows.sort_by_key(|(d, _)| place.get(d.code.as_str()).copied());
        Ok(rows)
    }

    /// One tab of the work queue of `agency` (`/hang-doi`): its page, soonest due first
    /// (the due moment, or for an online submission the desk's limit), with progress.
    pub fn queue_tab(
        &self,
        agency: &str,
        spec: &QueueSpec,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<(QueueLineRow, QueueProgressRow)>> {
        // A held tab's statements plan the same whatever their values: planned once.
        // The others are planned for their values (a rare status, a busy desk).
        if spec.is_held() {
            self.read_planned_once(|conn| queue_tab_on(conn, agency, spec, limit, offset))
        } else {
            queue_tab_on(&mut *self.conn()?, agency, spec, limit, offset)
        }
    }
}

/// [`Store::queue_tab`] on a connection.
fn queue_tab_on(
    conn: &mut DbConnection,
    agency: &str,
    spec: &QueueSpec,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<(QueueLineRow, QueueProgressRow)>> {
    {
        if spec.done {
            // The agency's holds newest first on their index, those no longer waiting
            // here kept.
            let finished = ["returned", "stopped", "closed", "refused_at_intake"];
            let mut q = dossier_agencies::table
                .inner_join(dossiers::table.inner_join(dossier_progress::table))
                .filter(dossier_agencies::agency_code.eq(agency))
                .filter(
                    dossiers::current_agency
                        .ne(agency)
                        .or(dossiers::status.eq_any(finished)),
                )
                .into_boxed();
            if let Some(p) = &spec.procedure {
                q = q.filter(dossiers::procedure_code.eq(p));
            }
            if let Some(a) = &spec.assignee {
                q = q.filter(dossier_progress::assignee.eq(a));
            }
            if !spec.statuses.is_empty() {
                q = q.filter(dossiers::status.eq_any(&spec.statuses));
            }
            return Ok(q
                .order((
                    dossier_agencies::received_at.desc(),
                    dossier_agencies::dossier_code.desc(),
                ))
                .limit(limit)
                .offset(offset)
                .select((QueueLineRow::as_select(), QueueProgressRow::as_select()))
                .load(&mut *conn)?);
        }
        if spec.is_held() {
            // On the index alone, one status at a time (each read in the index's order,
            // `(current_agency, status, due_at, code)`: a page costs its own length, not a
            // sort of the agency's thousands), merged; then the page's rows with their
            // progress.
            let one_status = |status: &String| QueueSpec {
                statuses: vec![status.clone()],
                ..spec.clone()
            };
            if let [status] = spec.statuses.as_slice() {
                // The page itself, in the index's order.
                let one = one_status(status);
                return Ok(one
                    .held_lines(agency)
                    .expect("a held tab stays held on one status")
                    .order((dossiers::due_at.asc(), dossiers::code.asc()))
                    .select((QueueLineRow::as_select(), QueueProgressRow::as_select()))
                    .limit(limit)
                    .offset(offset)
                    .load(&mut *conn)?);
            }
            let mut keys: Vec<(Option<NaiveDateTime>, String, usize)> = Vec::new();
            for (i, status) in spec.statuses.iter().enumerate() {
                let one = one_status(status);
                let q = one
                    .held(agency, conn)
                    .expect("a held tab stays held on one status");
                keys.extend(
                    q.order((dossiers::due_at.asc(), dossiers::code.asc()))
                        .limit(offset + limit)
                        .select((dossiers::due_at, dossiers::code))
                        .load::<(Option<NaiveDateTime>, String)>(&mut *conn)?
                        .into_iter()
                        .map(|(d, c)| (d, c, i)),
                );
            }
            // NULL due moments last, as both databases order them ascending.
            keys.sort_by(|a, b| (a.0.is_none(), a.0, &a.1).cmp(&(b.0.is_none(), b.0, &b.1)));
            let page: Vec<(Option<NaiveDateTime>, String, usize)> = keys
                .into_iter()
                .skip(offset as usize)
                .take(limit as usize)
                .collect();
            // Each status's part of the page is a run of its index from its first key:
            // read there, in order (no look-up by code).
            let mut rows = Vec::with_capacity(page.len());
            for (i, status) in spec.statuses.iter().enumerate() {
                let mine: Vec<&(Option<NaiveDateTime>, String, usize)> =
                    page.iter().filter(|k| k.2 == i).collect();
                let Some(first) = mine.first() else { continue };
                let one = one_status(status);
                match first.0 {
                    Some(due) => rows.extend(
                        one.held_lines(agency)
                            .expect("a held tab stays held on one status")
                            .order((dossiers::due_at.asc(), dossiers::code.asc()))
                            .select((QueueLineRow::as_select(), QueueProgressRow::as_select()))
                            .filter(dossiers::due_at.ge(due))
                            .filter(dossiers::due_at.gt(due).or(dossiers::code.ge(&first.1)))
                            .limit(mine.len() as i64)
                            .load::<(QueueLineRow, QueueProgressRow)>(&mut *conn)?,
                    ),
                    None => {
                        let codes: Vec<String> = mine.iter().map(|k| k.1.clone()).collect();
                        rows.extend(rows_by_code(conn, &codes)?);
                    }
                }
            }
            let order: std::collections::HashMap<&str, usize> = page
                .iter()
                .enumerate()
                .map(|(n, k)| (k.1.as_str(), n))
                .collect();
            rows.retain(|(d, _)| order.contains_key(d.code.as_str()));
            rows.sort_by_key(|(d, _)| order[d.code.as_str()]);
            return Ok(rows);
        }
        Ok(spec
            .query(agency)
            .order((
                diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Timestamp>>(
                    "COALESCE(dossiers.due_at, dossier_progress.acknowledge_by)",
                )
                .asc(),
                dossiers::code.asc(),
            ))
            .limit(limit)
            .offset(offset)
            .select((QueueLineRow::as_select(), QueueProgressRow::as_select()))
            .load(&mut *conn)?)
    }
}

impl Store {
    /// What `agency` did since `since`: dossiers received at its desk, results returned
    /// there (the home page's figures of the day).
    pub fn done_since(&self, agency: &str, since: NaiveDateTime) -> StoreResult<(i64, i64)> {
        let mut conn = self.conn()?;
        let received: i64 = dossiers::table
            .filter(dossiers::receiving_agency.eq(agency))
            .filter(dossiers::received_at.ge(since))
            .count()
            .get_result(&mut *conn)?;
        let returned: i64 = dossiers::table
            .filter(dossiers::finished_at.ge(since))
            .filter(dossiers::current_agency.eq(agency))
            .filter(dossiers::status.eq("returned"))
            .count()
            .get_result(&mut *conn)?;
        Ok((received, returned))
    }

    /// How many dossiers each tab of the work queue of `agency` holds, in the order of
    /// `specs` (one connection, one count each).
    pub fn queue_counts(&self, agency: &str, specs: &[&QueueSpec]) -> StoreResult<Vec<i64>> {
        // As in `queue_tab`: the held tabs planned once, the others for their values.
        let held = self.read_planned_once(|conn| queue_counts_on(conn, agency, specs, true))?;
        let others = queue_counts_on(&mut *self.conn()?, agency, specs, false)?;
        Ok(held
            .into_iter()
            .zip(others)
            .map(|(h, o)| h.or(o).unwrap_or(-1))
            .collect())
    }
}

/// [`Store::queue_counts`] on a connection.
fn queue_counts_on(
    conn: &mut DbConnection,
    agency: &str,
    specs: &[&QueueSpec],
    held_tabs: bool,
) -> StoreResult<Vec<Option<i64>>> {
    {
        // A held tab is counted on its index alone, less the dossiers a hand-over is
        // pending out of (read once on their own index: checking each of an agency's
        // thousands against them cost more than the count).
        let mut leaving: Option<Vec<Leaving>> = None;
        // A tab of every due moment whose overdue part is another tab is counted as that
        // part plus the rest, each a range of the index: the overdue part (thousands in
        // a busy ward) is read once, not twice.
        let overdue_of = |s: &QueueSpec| {
            specs.iter().position(|o| {
                o.is_held()
                    && o.due_from.is_none()
                    && o.due_before.is_some()
                    && s.due_before.is_none()
                    && s.due_from.is_none()
                    && o.statuses == s.statuses
                    && o.procedure == s.procedure
            })
        };
        let mut held_counts: Vec<Option<i64>> = vec![None; specs.len()];
        let mut count_held = |i: usize, conn: &mut DbConnection| -> StoreResult<i64> {
            if let Some(n) = held_counts[i] {
                return Ok(n);
            }
            let s = specs[i];
            let n = match overdue_of(s) {
                Some(o) if o != i => {
                    let before = specs[o].due_before;
                    let rest = QueueSpec {
                        due_from: before,
                        ..s.clone()
                    };
                    let overdue = QueueSpec {
                        due_before: before,
                        ..s.clone()
                    };
                    let undated: i64 = s
                        .held_all(agency)
                        .expect("held")
                        .filter(dossiers::due_at.is_null())
                        .count()
                        .get_result(conn)?;
                    let dated_rest: i64 = rest
                        .held_all(agency)
                        .expect("held")
                        .count()
                        .get_result(conn)?;
                    let n: i64 = overdue
                        .held_all(agency)
                        .expect("held")
                        .count()
                        .get_result(conn)?;
                    held_counts[o] = Some(n);
                    n + dated_rest + undated
                }
                _ => s.held_all(agency).expect("held").count().get_result(conn)?,
            };
            held_counts[i] = Some(n);
            Ok(n)
        };
        specs
            .iter()
            .enumerate()
            .map(|(i, s)| match s.is_held() {
                _ if s.done => Ok(Some(-1)),
                held if held != held_tabs => Ok(None),
                true => {
                    let all = count_held(i, conn)?;
                    let leaving = match &mut leaving {
                        Some(l) => l,
                        None => {
                            let read = in_flight!(&*conn, |p| dossier_progress::table
                                .inner_join(dossiers::table)
                                .filter(p)
                                .select((
                                    dossiers::current_agency,
                                    dossiers::status,
                                    dossiers::due_at,
                                    dossiers::procedure_code,
                                ))
                                .load(&mut *conn));
                            leaving.insert(read?)
                        }
                    };
                    let out = leaving
                        .iter()
                        .filter(|r| s.held_all_matches(agency, r))
                        .count() as i64;
                    Ok(Some(all - out))
                }
                false => Ok(Some(s.query(agency).count().get_result::<i64>(&mut *conn)?)),
            })
            .collect()
    }
}

impl Store {
    /// The database's plan for the queue query of `agency` (documentation and tests: it
    /// must use the `dossiers_current` index, not scan the table).
    pub fn explain_queue(&self, agency: &str) -> StoreResult<String> {
        #[derive(QueryableByName)]
        struct PgLine {
            #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
            line: String,
        }
        #[derive(QueryableByName)]
        struct SqliteLine {
            #[diesel(sql_type = Text)]
            detail: String,
        }
        let mut conn = self.conn()?;
        const QUERY: &str = "SELECT d.code FROM dossiers d JOIN dossier_progress p ON p.dossier_code = d.code \
                             WHERE d.current_agency = {a} AND d.status IN ('received', 'in_progress') \
                             ORDER BY d.due_at, d.code LIMIT 50";
        Ok(match &mut *conn {
            DbConnection::Postgresql(c) => {
                diesel::sql_query("SET enable_seqscan = off").execute(c)?;
                let sql = format!("EXPLAIN {}", QUERY.replace("{a}", "$1"));
                let lines: Vec<PgLine> = diesel::sql_query(sql).bind::<Text, _>(agency).load(c)?;
                diesel::sql_query("RESET enable_seqscan").execute(c)?;
                lines
                    .into_iter()
                    .map(|l| l.line)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            DbConnection::Sqlite(c) => {
                let sql = format!("EXPLAIN QUERY PLAN {}", QUERY.replace("{a}", "?"));
                let lines: Vec<SqliteLine> =
                    diesel::sql_query(sql).bind::<Text, _>(agency).load(c)?;
                lines
                    .into_iter()
                    .map(|l| l.detail)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        })
    }

    /// How many guidance (form 02) or refusal (form 03) outcomes an agency recorded.
    pub fn count_intake_outcomes(&self, agency: &str, kind: &str) -> StoreResult<i64> {
        let mut conn = self.conn()?;
        Ok(intake_outcomes::table
            .filter(intake_outcomes::agency_code.eq(agency))
            .filter(intake_outcomes::kind.eq(kind))
            .count()
            .get_result(&mut conn)?)
    }

    /// Every dossier code of an agency's sequence for one scope, sorted (tests, audits).
    pub fn sequence_value(&self, agency: &str, scope: &str) -> StoreResult<Option<i64>> {
        let mut conn = self.conn()?;
        Ok(code_sequences::table
            .find((agency, scope))
            .select(code_sequences::last_value)
            .first(&mut conn)
            .optional()?)
    }
}

/// The staff digest's statuses: what has its clock running at an agency.
const RUNNING: [&str; 2] = ["received", "in_progress"];

impl Store {
    /// The dossiers held at `agency` in one of `statuses` with their clock running and
    /// due at or before `until` (overdue ones included), assigned to `assignee` when
    /// given, soonest due first (*cảnh báo sớm*, issue #17). Each status is a range of the index
    /// `(current_agency, status, due_at, code)` (migration 000015): the agency's due-soon
    /// and overdue dossiers are read, never its whole stock; the dossiers a hand-over is
    /// pending out of are left out, as in the queue.
    pub fn due_by(
        &self,
        agency: &str,
        statuses: &[&str],
        until: NaiveDateTime,
        assignee: Option<&str>,
    ) -> StoreResult<Vec<(QueueLineRow, QueueProgressRow)>> {
        let mut conn = self.conn()?;
        let mut rows = Vec::new();
        for status in statuses {
            let mut q = dossiers::table
                .inner_join(dossier_progress::table)
                .filter(dossiers::current_agency.eq(agency))
                .filter(dossiers::status.eq(*status))
                .filter(dossiers::due_at.le(until))
                .filter(dossier_progress::pending_handover.is_null())
                .filter(dossier_progress::clock_stopped_at.is_null())
                .into_boxed();
            if let Some(a) = assignee {
                q = q.filter(dossier_progress::assignee.eq(a));
            }
            rows.extend(
                q.order((dossiers::due_at.asc(), dossiers::code.asc()))
                    .select((QueueLineRow::as_select(), QueueProgressRow::as_select()))
                    .load::<(QueueLineRow, QueueProgressRow)>(&mut *conn)?,
            );
        }
        rows.sort_by(|(a, _), (b, _)| (a.due_at, &a.code).cmp(&(b.due_at, &b.code)));
        Ok(rows)
    }

    /// The dossiers held at `agency` with their clock running, not overdue at `now`,
    /// whose current step is past its own due moment at `now` (*có nguy cơ trễ hạn*):
    /// the candidates of the leaders' at-risk list (the caller measures the whole stage
    /// from their routes). Each status is a range of the same index from `now` on.
    pub fn step_late(
        &self,
        agency: &str,
        now: NaiveDateTime,
    ) -> StoreResult<Vec<(QueueLineRow, QueueProgressRow)>> {
        let mut conn = self.conn()?;
        let mut rows = Vec::new();
        for status in RUNNING {
            rows.extend(
                dossiers::table
                    .inner_join(dossier_progress::table)
                    .inner_join(dossier_steps::table)
                    .filter(dossiers::current_agency.eq(agency))
                    .filter(dossiers::status.eq(status))
                    .filter(dossiers::due_at.ge(now))
                    .filter(dossier_progress::pending_handover.is_null())
                    .filter(dossier_progress::clock_stopped_at.is_null())
                    .filter(
                        dossier_steps::no
                            .nullable()
                            .eq(dossier_progress::current_step + 1),
                    )
                    .filter(dossier_steps::ended_at.is_null())
                    .filter(dossier_steps::due_at.lt(now))
                    .order((dossiers::due_at.asc(), dossiers::code.asc()))
                    .select((QueueLineRow::as_select(), QueueProgressRow::as_select()))
                    .load::<(QueueLineRow, QueueProgressRow)>(&mut *conn)?,
            );
        }
        rows.sort_by(|(a, _), (b, _)| (a.due_at, &a.code).cmp(&(b.due_at, &b.code)));
        Ok(rows)
    }
}
