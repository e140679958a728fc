//! The audit trail: one record per change, written in the same transaction as the
//! change, chained by hash (each record's hash covers the previous hash and its own
//! fields) so that an edited, inserted or deleted record is detected.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::{audit_head, audit_log};
use super::{DbConnection, StoreResult};

/// Who did it and from where.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub username: String,
    pub role: String,
    pub address: Option<String>,
}

/// A change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub actor: &'a Actor,
    pub at: NaiveDateTime,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    /// JSON describing what changed; never a pin or an ID number.
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub role: String,
    pub address: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of a record: SHA-256 over the previous hash and every field, each
/// length-prefixed so that no two records serialise alike.
pub fn record_hash(row: &AuditRow) -> String {
    let mut h = Sha256::new();
    let at = row.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    let id = row.id.to_string();
    for field in [
        row.prev_hash.as_str(),
        id.as_str(),
        at.as_str(),
        row.actor.as_str(),
        row.role.as_str(),
        row.address.as_deref().unwrap_or("\u{0}"),
        row.action.as_str(),
        row.entity.as_str(),
        row.entity_id.as_str(),
        row.detail.as_str(),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends a record to the chain. Call inside the transaction of the change: the head
/// row is locked (`FOR UPDATE` on PostgreSQL; SQLite's write lock is already held).
pub fn append(conn: &mut DbConnection, e: AuditEntry<'_>) -> StoreResult<i64> {
    let (last_id, last_hash): (i64, String) = match conn {
        DbConnection::Postgresql(c) => audit_head::table
            .find(1)
            .select((audit_head::last_id, audit_head::last_hash))
            .for_update()
            .first(c)?,
        DbConnection::Sqlite(c) => audit_head::table
            .find(1)
            .select((audit_head::last_id, audit_head::last_hash))
            .first(c)?,
    };
    let mut row = AuditRow {
        id: last_id + 1,
        at: e.at,
        actor: e.actor.username.clone(),
        role: e.actor.role.clone(),
        address: e.actor.address.clone(),
        action: e.action.to_string(),
        entity: e.entity.to_string(),
        entity_id: e.entity_id.to_string(),
        detail: e.detail.to_string(),
        prev_hash: last_hash,
        hash: String::new(),
    };
    row.hash = record_hash(&row);
    diesel::insert_into(audit_log::table)
        .values(&row)
        .execute(conn)?;
    diesel::update(audit_head::table.find(1))
        .set((
            audit_head::last_id.eq(row.id),
            audit_head::last_hash.eq(&row.hash),
        ))
        .execute(conn)?;
    Ok(row.id)
}

/// A break in the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainProblem {
    pub id: i64,
    pub problem: &'static str,
}

/// What `audit verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainReport {
    pub records: i64,
    pub problems: Vec<ChainProblem>,
}

impl super::Store {
    /// Walks the whole chain in id order and reports every record that was edited
    /// (its hash does not match its fields), inserted or deleted (ids not contiguous, or
    /// the previous hash does not match), and a tail cut off (the head disagrees).
    pub fn verify_audit_chain(&self) -> StoreResult<ChainReport> {
        const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
        let mut conn = self.conn()?;
        let mut report = ChainReport::default();
        let mut expected_id = 1i64;
        let mut prev_hash = GENESIS.to_string();
        loop {
            let batch: Vec<AuditRow> = audit_log::table
                .filter(audit_log::id.ge(expected_id.min(i64::MAX - 1)))
                .order(audit_log::id)
                .limit(5000)
                .select(AuditRow::as_select())
                .load(&mut *conn)?;
            if batch.is_empty() {
                break;
            }
            for row in &batch {
                report.records += 1;
                if row.id != expected_id {
                    report.problems.push(ChainProblem {
                        id: row.id,
                        problem: "records missing before this one (deleted)",
                    });
                } else if row.prev_hash != prev_hash {
                    report.problems.push(ChainProblem {
                        id: row.id,
                        problem: "previous hash does not match (inserted or reordered)",
                    });
                }
                if record_hash(row) != row.hash {
                    report.problems.push(ChainProblem {
                        id: row.id,
                        problem: "content does not match its hash (edited)",
                    });
                }
                expected_id = row.id + 1;
                prev_hash = row.hash.clone();
            }
        }
        let (last_id, last_hash): (i64, String) = audit_head::table
            .find(1)
            .select((audit_head::last_id, audit_head::last_hash))
            .first(&mut *conn)?;
        if last_id != expected_id - 1 || (last_id > 0 && last_hash != prev_hash) {
            report.problems.push(ChainProblem {
                id: last_id,
                problem:
                    "the chain's head does not match its last record (records removed at the end)",
            });
        }
        Ok(report)
    }
}

impl super::Store {
    /// The last `limit` records of the trail, newest first.
    pub fn recent_audit(&self, limit: i64) -> StoreResult<Vec<AuditRow>> {
        let mut conn = self.conn()?;
        Ok(audit_log::table
            .order(audit_log::id.desc())
            .limit(limit)
            .select(AuditRow::as_select())
            .load(&mut *conn)?)
    }
}
