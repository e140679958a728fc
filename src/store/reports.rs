//! What the indicators count, read from the dossiers, their processing state and the
//! hand-over log (the full recomputation; see `crate::core::indicators`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{dossier_progress, dossiers, handovers};
use super::{Store, StoreResult};

/// One dossier's facts as stored (times in UTC, as in the database).
pub type FactRow = (
    (String, String, Option<String>, String, String),
    (
        NaiveDateTime,
        Option<NaiveDateTime>,
        String,
        Option<String>,
        NaiveDateTime,
    ),
    (bool, i32, bool, bool, i32, i32),
    (
        bool,
        bool,
        Option<String>,
        Option<NaiveDateTime>,
        Option<i64>,
        Option<String>,
    ),
);

/// One hand-over: moment, giving agency, procedure, electronic.
pub type HandoverFactRow = (NaiveDateTime, String, String, bool);

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
        Ok(q.select((
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
            ),
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
        ))
        .load(&mut *conn)?)
    }
}
