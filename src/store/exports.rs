//! What the exports read: the tracking book of a receiving agency (form 07, personal data
//! by nature) and the de-identified facts behind the indicators (the raw export). The
//! only diesel of the export feature; see `crate::service::exports`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::dossiers::HandoverRow;
use super::schema::{dossier_events, dossier_progress, dossiers, handovers};
use super::{Store, StoreResult};

/// One line of the tracking book, as stored (times in UTC, as in the database).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = dossiers)]
pub struct BookRow {
    pub code: String,
    pub procedure_code: String,
    pub receiving_agency: String,
    pub competent_agency: Option<String>,
    pub status: String,
    pub applicant_name: String,
    pub applicant_phone: Option<String>,
    pub applicant_address: Option<String>,
    /// Filled for every dossier of the book (selected by receipt).
    pub received_at: Option<NaiveDateTime>,
    pub due_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
    pub book_volume: Option<i32>,
    pub book_line: Option<i64>,
}

/// One dossier's facts for the raw export: what [`Store::indicator_facts`] reads, and
/// nothing about the applicant or the staff.
///
/// [`Store::indicator_facts`]: super::Store::indicator_facts
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct RawDossierRow {
    pub code: String,
    pub receiving_agency: String,
    pub competent_agency: Option<String>,
    pub procedure_code: String,
    pub channel: String,
    pub received_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub status: String,
    pub outcome: Option<String>,
    pub due_at: Option<NaiveDateTime>,
    pub late_by_rule: bool,
    pub supplement_requests: i32,
    pub digitised: bool,
    pub reused: bool,
    pub results: i32,
    pub results_electronic: i32,
    pub fee_bearing: bool,
    pub paid_online: bool,
    pub rating: Option<String>,
    pub rated_at: Option<NaiveDateTime>,
    pub handling_minutes: Option<i64>,
    pub decision: Option<String>,
    pub yields_document: bool,
}

/// The payload of a dossier's `return` event: dossier code, JSON payload.
pub type ReturnPayload = (String, String);

impl Store {
    /// The dossiers received by `agency` within `[start, end)`, in book order, with the
    /// payload of each one's `return` event (dossier code, JSON payload).
    pub fn tracking_book(
        &self,
        agency: &str,
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> StoreResult<(Vec<BookRow>, Vec<ReturnPayload>)> {
        let mut conn = self.conn()?;
        let rows = dossiers::table
            .filter(dossiers::receiving_agency.eq(agency))
            .filter(dossiers::received_at.ge(start))
            .filter(dossiers::received_at.lt(end))
            .order((
                dossiers::book_volume.asc(),
                dossiers::book_line.asc(),
                dossiers::code.asc(),
            ))
            .select(BookRow::as_select())
            .load(&mut *conn)?;
        let returns = dossier_events::table
            .inner_join(dossiers::table)
            .filter(dossiers::receiving_agency.eq(agency))
            .filter(dossiers::received_at.ge(start))
            .filter(dossiers::received_at.lt(end))
            .filter(dossier_events::kind.eq("return"))
            .order((
                dossier_events::dossier_code.asc(),
                dossier_events::seq.asc(),
            ))
            .select((dossier_events::dossier_code, dossier_events::payload))
            .load(&mut *conn)?;
        Ok((rows, returns))
    }

    /// The dossiers that matter to `[start, end)` — received before `end` and not
    /// finished before `start`, or rated within it — owned (competent, else receiving) by
    /// an agency of `scope`: the same selection as [`Store::indicator_facts`], by receipt.
    ///
    /// [`Store::indicator_facts`]: super::Store::indicator_facts
    pub fn raw_dossiers(
        &self,
        scope: &[String],
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> StoreResult<Vec<RawDossierRow>> {
        let mut conn = self.conn()?;
        Ok(dossiers::table
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
            .filter(
                dossiers::competent_agency
                    .eq_any(scope.to_vec())
                    .or(dossiers::competent_agency
                        .is_null()
                        .and(dossiers::receiving_agency.eq_any(scope.to_vec()))),
            )
            .order((dossiers::received_at.asc(), dossiers::code.asc()))
            .select((
                dossiers::code,
                dossiers::receiving_agency,
                dossiers::competent_agency,
                dossiers::procedure_code,
                dossiers::channel,
                dossiers::received_at,
                dossiers::finished_at,
                dossiers::status,
                dossiers::outcome,
                dossiers::due_at,
                dossier_progress::late_by_rule,
                dossier_progress::supplement_requests,
                dossier_progress::digitised,
                dossier_progress::reused,
                dossier_progress::results,
                dossier_progress::results_electronic,
                dossier_progress::fee_bearing,
                dossier_progress::paid_online,
                dossier_progress::rating,
                dossier_progress::rated_at,
                dossier_progress::handling_minutes,
                dossier_progress::decision,
                dossier_progress::yields_document,
            ))
            .load(&mut *conn)?)
    }

    /// The acts the law gives a time limit (supplement requests, online submissions and
    /// the desk's answers) done within `[start, end)` by agencies of `scope`, late or not,
    /// in time order (what [`Store::act_facts`] counts).
    ///
    /// [`Store::act_facts`]: super::Store::act_facts
    pub fn raw_acts(
        &self,
        scope: &[String],
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> StoreResult<Vec<crate::store::dossiers::DeadlineActRow>> {
        use super::schema::deadline_acts as a;
        let mut conn = self.conn()?;
        Ok(a::table
            .filter(a::at.ge(start).and(a::at.lt(end)))
            .filter(a::agency_code.eq_any(scope.to_vec()))
            .order((a::at.asc(), a::dossier_code.asc(), a::seq.asc()))
            .select(crate::store::dossiers::DeadlineActRow::as_select())
            .load(&mut *conn)?)
    }

    /// Hand-overs given within `[start, end)` by agencies of `scope`: the same selection
    /// as [`Store::handover_facts`], in time order.
    ///
    /// [`Store::handover_facts`]: super::Store::handover_facts
    pub fn raw_handovers(
        &self,
        scope: &[String],
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> StoreResult<Vec<HandoverRow>> {
        let mut conn = self.conn()?;
        Ok(handovers::table
            .filter(handovers::at.ge(start).and(handovers::at.lt(end)))
            .filter(handovers::from_agency.eq_any(scope.to_vec()))
            .order((
                handovers::at.asc(),
                handovers::dossier_code.asc(),
                handovers::seq.asc(),
            ))
            .select(HandoverRow::as_select())
            .load(&mut *conn)?)
    }
}
