//! Petitions (*phản ánh, kiến nghị*): one row each, changed in place by the staff's
//! commands (each in one transaction with its audit record); the answer's outcome is
//! fixed by a trigger once given.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{dossier_progress, dossiers, petitions};
use super::{DbConnection, Store, StoreResult};

/// A petition as stored.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = petitions)]
pub struct PetitionRow {
    pub code: String,
    pub kind: String,
    pub submitted_at: NaiveDateTime,
    pub submitter_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub agency_code: String,
    pub dossier_code: Option<String>,
    pub body: String,
    pub pin_hash: String,
    pub answer_within: String,
    pub due_at: NaiveDateTime,
    pub status: String,
    pub assignee: Option<String>,
    pub answer: Option<String>,
    pub answered_at: Option<NaiveDateTime>,
    pub answered_by: Option<String>,
    pub outcome: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// Which petitions a queue lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PetitionSet {
    /// Not answered yet (received or assigned).
    Open,
    /// Open and due before `soon` (and not overdue at `now`).
    DueSoon,
    /// Open and past due at `now`.
    Overdue,
    Answered,
    Closed,
}

/// A queue's filters.
#[derive(Debug, Clone, Default)]
pub struct PetitionFilter {
    pub kind: Option<String>,
    pub assignee: Option<String>,
}

/// The counts of a queue's tabs, in the order of [`PetitionSet`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PetitionCounts {
    pub open: i64,
    pub due_soon: i64,
    pub overdue: i64,
    pub answered: i64,
    pub closed: i64,
}

/// Writes a new petition, inside the caller's transaction.
pub fn insert_petition(conn: &mut DbConnection, row: &PetitionRow) -> StoreResult<()> {
    diesel::insert_into(petitions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The petition `code`, locked for the caller's transaction (PostgreSQL `FOR UPDATE`;
/// SQLite's write lock is already held).
pub fn petition_for_update(
    conn: &mut DbConnection,
    code: &str,
) -> StoreResult<Option<PetitionRow>> {
    Ok(match conn {
        DbConnection::Postgresql(c) => petitions::table
            .find(code)
            .select(PetitionRow::as_select())
            .for_update()
            .first(c)
            .optional()?,
        DbConnection::Sqlite(c) => petitions::table
            .find(code)
            .select(PetitionRow::as_select())
            .first(c)
            .optional()?,
    })
}

/// Writes the changing fields of `row` back, inside the caller's transaction.
pub fn update_petition(conn: &mut DbConnection, row: &PetitionRow) -> StoreResult<()> {
    diesel::update(petitions::table.find(&row.code))
        .set((
            petitions::status.eq(&row.status),
            petitions::assignee.eq(&row.assignee),
            petitions::answer.eq(&row.answer),
            petitions::answered_at.eq(row.answered_at),
            petitions::answered_by.eq(&row.answered_by),
            petitions::outcome.eq(&row.outcome),
            petitions::closed_at.eq(row.closed_at),
            petitions::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

const OPEN: [&str; 2] = ["received", "assigned"];

impl Store {
    /// The petition `code`, if it exists.
    pub fn find_petition(&self, code: &str) -> StoreResult<Option<PetitionRow>> {
        let mut conn = self.conn()?;
        Ok(petitions::table
            .find(code)
            .select(PetitionRow::as_select())
            .first(&mut *conn)
            .optional()?)
    }

    /// A page of the petitions of `agencies` in `set` at `now` (due soon: before `soon`),
    /// soonest due first.
    pub fn petitions_in(
        &self,
        agencies: &[String],
        set: PetitionSet,
        filter: &PetitionFilter,
        (now, soon): (NaiveDateTime, NaiveDateTime),
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<PetitionRow>> {
        let mut conn = self.conn()?;
        let mut q = petitions::table
            .filter(petitions::agency_code.eq_any(agencies))
            .select(PetitionRow::as_select())
            .into_boxed();
        q = match set {
            PetitionSet::Open => q.filter(petitions::status.eq_any(OPEN)),
            PetitionSet::DueSoon => q
                .filter(petitions::status.eq_any(OPEN))
                .filter(petitions::due_at.ge(now))
                .filter(petitions::due_at.lt(soon)),
            PetitionSet::Overdue => q
                .filter(petitions::status.eq_any(OPEN))
                .filter(petitions::due_at.lt(now)),
            PetitionSet::Answered => q.filter(petitions::status.eq("answered")),
            PetitionSet::Closed => q.filter(petitions::status.eq("closed")),
        };
        if let Some(k) = &filter.kind {
            q = q.filter(petitions::kind.eq(k.clone()));
        }
        if let Some(a) = &filter.assignee {
            q = q.filter(petitions::assignee.eq(a.clone()));
        }
        Ok(q.order((petitions::due_at.asc(), petitions::code.asc()))
            .limit(limit)
            .offset(offset)
            .load(&mut *conn)?)
    }

    /// How many petitions of `agencies` each queue tab holds at `now`.
    pub fn petition_counts(
        &self,
        agencies: &[String],
        filter: &PetitionFilter,
        (now, soon): (NaiveDateTime, NaiveDateTime),
    ) -> StoreResult<PetitionCounts> {
        let mut conn = self.conn()?;
        let mut q = petitions::table
            .filter(petitions::agency_code.eq_any(agencies))
            .select((petitions::status, petitions::due_at))
            .into_boxed();
        if let Some(k) = &filter.kind {
            q = q.filter(petitions::kind.eq(k.clone()));
        }
        if let Some(a) = &filter.assignee {
            q = q.filter(petitions::assignee.eq(a.clone()));
        }
        let rows: Vec<(String, NaiveDateTime)> = q.load(&mut *conn)?;
        let mut c = PetitionCounts::default();
        for (status, due) in rows {
            match status.as_str() {
                "answered" => c.answered += 1,
                "closed" => c.closed += 1,
                _ => {
                    c.open += 1;
                    if due < now {
                        c.overdue += 1;
                    } else if due < soon {
                        c.due_soon += 1;
                    }
                }
            }
        }
        Ok(c)
    }

    /// The petitions of `agencies` that bear on a report over `[start, end)`: submitted
    /// before `end`, not answered before `start`.
    pub fn petition_facts(
        &self,
        agencies: &[String],
        start: NaiveDateTime,
        end: NaiveDateTime,
    ) -> StoreResult<Vec<PetitionRow>> {
        let mut conn = self.conn()?;
        Ok(petitions::table
            .filter(petitions::agency_code.eq_any(agencies))
            .filter(petitions::submitted_at.lt(end))
            .filter(
                petitions::answered_at
                    .is_null()
                    .or(petitions::answered_at.ge(start)),
            )
            .select(PetitionRow::as_select())
            .load(&mut *conn)?)
    }

    /// For each of the dossiers `codes`: its procedure, and its rating with its moment.
    #[allow(clippy::type_complexity)]
    pub fn dossier_ratings(
        &self,
        codes: &[String],
    ) -> StoreResult<Vec<(String, String, Option<String>, Option<NaiveDateTime>)>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn()?;
        let procedures: Vec<(String, String)> = dossiers::table
            .filter(dossiers::code.eq_any(codes))
            .select((dossiers::code, dossiers::procedure_code))
            .load(&mut *conn)?;
        let ratings: Vec<(String, Option<String>, Option<NaiveDateTime>)> = dossier_progress::table
            .filter(dossier_progress::dossier_code.eq_any(codes))
            .select((
                dossier_progress::dossier_code,
                dossier_progress::rating,
                dossier_progress::rated_at,
            ))
            .load(&mut *conn)?;
        Ok(procedures
            .into_iter()
            .map(|(code, procedure)| {
                let (rating, at) = ratings
                    .iter()
                    .find(|r| r.0 == code)
                    .map(|r| (r.1.clone(), r.2))
                    .unwrap_or((None, None));
                (code, procedure, rating, at)
            })
            .collect())
    }
}
