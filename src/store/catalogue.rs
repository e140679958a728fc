//! Agencies and the versioned procedure catalogue in the database.
//!
//! Loading is idempotent: the same configuration loaded twice changes nothing. A changed
//! procedure gets a new version; the earlier one is kept with its validity dates.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::schema::{agencies, agency_levels, procedure_versions, procedures};
use super::{locks, to_db, DbConnection, Store, StoreError, StoreResult};
use crate::core::catalogue::{Agency, AgencyTree, Catalogue, Procedure};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agencies)]
#[diesel(treat_none_as_null = true)]
pub struct AgencyRow {
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    pub level: String,
    pub parent_code: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub active: bool,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = procedure_versions)]
pub struct ProcedureVersionRow {
    pub procedure_code: String,
    pub version: i32,
    pub name: String,
    pub field: String,
    pub competent_level: Option<String>,
    pub competent_agency: Option<String>,
    pub time_amount: i32,
    pub time_unit: String,
    pub time_cutoff: Option<String>,
    pub fee: i64,
    pub online_level: String,
    pub portal_code: Option<String>,
    pub inter_agency: bool,
    pub result_document: Option<String>,
    pub definition: String,
    pub content_hash: String,
    pub valid_from: NaiveDateTime,
    pub valid_to: Option<NaiveDateTime>,
}

/// What a load changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub inserted: usize,
    pub updated: usize,
    pub deactivated: usize,
    pub unchanged: usize,
}

fn agency_row(a: &Agency, now: NaiveDateTime) -> AgencyRow {
    AgencyRow {
        code: a.code.clone(),
        name: a.name.clone(),
        short_name: a.short_name.clone(),
        level: a.level.clone(),
        parent_code: a.parent.clone(),
        address: a.address.clone(),
        phone: a.phone.clone(),
        active: true,
        updated_at: now,
    }
}

/// The content hash of a definition: what makes a new version (its `valid_from` does not).
pub fn content_hash(p: &Procedure) -> String {
    let mut canonical = p.clone();
    canonical.valid_from = None;
    let json = serde_json::to_string(&canonical).expect("a procedure serialises");
    hex::encode(Sha256::digest(json.as_bytes()))
}

impl Store {
    /// Brings the agencies table in line with the configured tree (one transaction).
    pub fn sync_agencies(&self, tree: &AgencyTree, now: DateTime<Utc>) -> StoreResult<SyncReport> {
        let now = to_db(now);
        self.write(Some(locks::CATALOGUE), |conn| {
            for l in &tree.levels {
                let existing: Option<String> = agency_levels::table
                    .find(&l.id)
                    .select(agency_levels::name)
                    .first(conn)
                    .optional()?;
                match existing {
                    None => {
                        diesel::insert_into(agency_levels::table)
                            .values((agency_levels::id.eq(&l.id), agency_levels::name.eq(&l.name)))
                            .execute(conn)?;
                    }
                    Some(name) if name != l.name => {
                        diesel::update(agency_levels::table.find(&l.id))
                            .set(agency_levels::name.eq(&l.name))
                            .execute(conn)?;
                    }
                    Some(_) => {}
                }
            }
            let existing: BTreeMap<String, AgencyRow> = agencies::table
                .select(AgencyRow::as_select())
                .load(conn)?
                .into_iter()
                .map(|r| (r.code.clone(), r))
                .collect();
            let mut report = SyncReport::default();
            // Parents come first in the tree's order, so foreign keys hold at every step.
            for a in &tree.agencies {
                let mut row = agency_row(a, now);
                match existing.get(&a.code) {
                    None => {
                        diesel::insert_into(agencies::table)
                            .values(&row)
                            .execute(conn)?;
                        report.inserted += 1;
                    }
                    Some(old) => {
                        row.updated_at = old.updated_at;
                        if *old == row {
                            report.unchanged += 1;
                        } else {
                            row.updated_at = now;
                            diesel::update(agencies::table.find(&a.code))
                                .set(&row)
                                .execute(conn)?;
                            report.updated += 1;
                        }
                    }
                }
            }
            let configured: BTreeSet<&str> =
                tree.agencies.iter().map(|a| a.code.as_str()).collect();
            for (code, row) in &existing {
                if row.active && !configured.contains(code.as_str()) {
                    // Kept, not deleted: dossiers and statistics refer to it.
                    diesel::update(agencies::table.find(code))
                        .set((agencies::active.eq(false), agencies::updated_at.eq(now)))
                        .execute(conn)?;
                    report.deactivated += 1;
                }
            }
            Ok::<_, StoreError>(report)
        })
    }

    /// Brings the catalogue in line with the configuration (one transaction). A changed
    /// definition closes the current version and opens a new one.
    pub fn sync_catalogue(
        &self,
        catalogue: &Catalogue,
        now: DateTime<Utc>,
        offset: chrono::FixedOffset,
    ) -> StoreResult<SyncReport> {
        // Whole seconds, like receipts: a dossier received in the second the catalogue
        // was loaded falls under the new version.
        let now =
            chrono::DurationRound::duration_trunc(now, chrono::Duration::seconds(1)).unwrap_or(now);
        let now_db = to_db(now);
        self.write(Some(locks::CATALOGUE), |conn| {
            let existing: BTreeMap<String, (i32, bool)> = procedures::table
                .select((
                    procedures::code,
                    procedures::current_version,
                    procedures::active,
                ))
                .load::<(String, i32, bool)>(conn)?
                .into_iter()
                .map(|(c, v, a)| (c, (v, a)))
                .collect();
            let mut report = SyncReport::default();
            for p in catalogue.procedures.values() {
                let hash = content_hash(p);
                let valid_from = p
                    .valid_from
                    .map(|d| to_db(crate::core::calendar::start_of_day_utc(d, offset)))
                    .unwrap_or(now_db);
                match existing.get(&p.code) {
                    None => {
                        diesel::insert_into(procedures::table)
                            .values((
                                procedures::code.eq(&p.code),
                                procedures::current_version.eq(1),
                                procedures::active.eq(true),
                                procedures::updated_at.eq(now_db),
                            ))
                            .execute(conn)?;
                        insert_version(conn, p, 1, &hash, valid_from)?;
                        report.inserted += 1;
                    }
                    Some(&(version, active)) => {
                        let current_hash: String = procedure_versions::table
                            .find((&p.code, version))
                            .select(procedure_versions::content_hash)
                            .first(conn)?;
                        if current_hash == hash && active {
                            report.unchanged += 1;
                            continue;
                        }
                        let next = version + 1;
                        // The old version stays valid until the new one starts.
                        let old_from: NaiveDateTime = procedure_versions::table
                            .find((&p.code, version))
                            .select(procedure_versions::valid_from)
                            .first(conn)?;
                        let starts = valid_from.max(old_from);
                        diesel::update(procedure_versions::table.find((&p.code, version)))
                            .set(procedure_versions::valid_to.eq(Some(starts)))
                            .execute(conn)?;
                        insert_version(conn, p, next, &hash, starts)?;
                        diesel::update(procedures::table.find(&p.code))
                            .set((
                                procedures::current_version.eq(next),
                                procedures::active.eq(true),
                                procedures::updated_at.eq(now_db),
                            ))
                            .execute(conn)?;
                        report.updated += 1;
                    }
                }
            }
            for (code, &(version, active)) in &existing {
                if active && !catalogue.procedures.contains_key(code) {
                    diesel::update(procedure_versions::table.find((code, version)))
                        .set(procedure_versions::valid_to.eq(Some(now_db)))
                        .execute(conn)?;
                    diesel::update(procedures::table.find(code))
                        .set((
                            procedures::active.eq(false),
                            procedures::updated_at.eq(now_db),
                        ))
                        .execute(conn)?;
                    report.deactivated += 1;
                }
            }
            Ok::<_, StoreError>(report)
        })
    }

    /// All agencies, active or not, by code.
    pub fn list_agencies(&self) -> StoreResult<Vec<AgencyRow>> {
        let mut conn = self.conn()?;
        Ok(agencies::table
            .select(AgencyRow::as_select())
            .order(agencies::code)
            .load(&mut conn)?)
    }

    /// The current version of every active procedure.
    pub fn list_procedures(&self) -> StoreResult<Vec<ProcedureVersionRow>> {
        let mut conn = self.conn()?;
        Ok(procedure_versions::table
            .inner_join(
                procedures::table.on(procedures::code
                    .eq(procedure_versions::procedure_code)
                    .and(procedures::current_version.eq(procedure_versions::version))),
            )
            .filter(procedures::active.eq(true))
            .select(ProcedureVersionRow::as_select())
            .order(procedure_versions::procedure_code)
            .load(&mut conn)?)
    }

    /// The version of a procedure in force at `at` (none if unknown or retired).
    pub fn procedure_version_at(
        &self,
        code: &str,
        at: NaiveDateTime,
    ) -> StoreResult<Option<ProcedureVersionRow>> {
        let mut conn = self.conn()?;
        Ok(procedure_versions::table
            .filter(procedure_versions::procedure_code.eq(code))
            .filter(procedure_versions::valid_from.le(at))
            .filter(
                procedure_versions::valid_to
                    .is_null()
                    .or(procedure_versions::valid_to.gt(at)),
            )
            .order(procedure_versions::version.desc())
            .select(ProcedureVersionRow::as_select())
            .first(&mut conn)
            .optional()?)
    }

    /// Every version of one procedure, oldest first.
    pub fn procedure_history(&self, code: &str) -> StoreResult<Vec<ProcedureVersionRow>> {
        let mut conn = self.conn()?;
        let rows: Vec<ProcedureVersionRow> = procedure_versions::table
            .filter(procedure_versions::procedure_code.eq(code))
            .select(ProcedureVersionRow::as_select())
            .order(procedure_versions::version)
            .load(&mut conn)?;
        if rows.is_empty() {
            return Err(StoreError::NotFound);
        }
        Ok(rows)
    }
}

fn insert_version(
    conn: &mut DbConnection,
    p: &Procedure,
    version: i32,
    hash: &str,
    valid_from: NaiveDateTime,
) -> Result<(), StoreError> {
    let row = ProcedureVersionRow {
        procedure_code: p.code.clone(),
        version,
        name: p.name.clone(),
        field: p.field.clone(),
        competent_level: p.competent_level.clone(),
        competent_agency: p.competent_agency.clone(),
        time_amount: p.statutory_time.amount as i32,
        time_unit: p.statutory_time.unit.as_str().to_string(),
        time_cutoff: p.statutory_time.cutoff.clone(),
        fee: p.fee as i64,
        online_level: p.online_level.as_str().to_string(),
        portal_code: p.portal_code.clone(),
        inter_agency: p.inter_agency,
        result_document: p.result_document.clone(),
        definition: serde_json::to_string(p).expect("a procedure serialises"),
        content_hash: hash.to_string(),
        valid_from,
        valid_to: None,
    };
    diesel::insert_into(procedure_versions::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// The stored definition (JSON of a `Procedure`) of one version of a procedure, inside the
/// caller's transaction.
pub fn procedure_definition(
    conn: &mut DbConnection,
    code: &str,
    version: i32,
) -> StoreResult<Option<String>> {
    Ok(procedure_versions::table
        .find((code, version))
        .select(procedure_versions::definition)
        .first(conn)
        .optional()?)
}
