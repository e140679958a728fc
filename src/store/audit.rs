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
