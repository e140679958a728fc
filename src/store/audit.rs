//! The audit trail (*nhật ký*): one record per change, written in the same transaction as
//! the change, tamper-evident without a lock shared by every writer (docs/audit.md).
//!
//! * **Streams.** Each entity — a dossier, an account, a petition… — has its own hash
//!   chain, its *stream* (`<entity>:<entity_id>`): a record's hash covers its fields, its
//!   place in the stream and the hash of the stream's previous record. The head of a
//!   stream is a row of `audit_streams`, locked by the writers of that entity only (who
//!   already wait for each other on the entity's own row). An edited record, one inserted
//!   or deleted inside a stream, or a stream cut at its end (against its head) shows.
//! * **Checkpoints.** The sealer ([`Store::seal_audit`], run by every server process, one
//!   at a time) gives every committed record its place in one global order (`seal_seq`,
//!   contiguous) and writes a checkpoint: the running hash of all sealed records so far
//!   and an HMAC of it keyed with the server secret, chained to the previous checkpoint.
//!   It seals what it sees committed and unsealed; a record committed later is sealed by
//!   the next round, in a later place (each record carries its mark: nothing is skipped).
//!   Whoever rewrites records, streams and heads alike
//!   cannot forge a checkpoint without the secret: every record sealed is covered, and a
//!   tail cut before the last checkpoint shows.
//!
//! The records of the single chain before migration 000020 keep their hashes: they form
//! the stream `""` whose `stream_seq` is their old id.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::schema::{audit_checkpoints, audit_log, audit_streams};
use super::{DbConnection, StoreResult};

/// The hash before the first record of a stream and before the first sealed record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
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
    /// `<entity>:<entity_id>`; `""` for the records of the chain before migration 000020.
    pub stream: String,
    /// The record's place in its stream, from 1.
    pub stream_seq: i64,
    /// The record's place in the sealed order, once sealed.
    pub seal_seq: Option<i64>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct NewAuditRow<'a> {
    id: Option<i64>,
    at: NaiveDateTime,
    actor: &'a str,
    role: &'a str,
    address: Option<&'a str>,
    action: &'a str,
    entity: &'a str,
    entity_id: &'a str,
    detail: &'a str,
    prev_hash: &'a str,
    hash: &'a str,
    stream: &'a str,
    stream_seq: i64,
}

impl<'a> NewAuditRow<'a> {
    /// What its hash covers.
    fn hashed(&self) -> HashedFields<'a> {
        HashedFields {
            prev_hash: self.prev_hash,
            stream: self.stream,
            stream_seq: self.stream_seq,
            at: self.at,
            actor: self.actor,
            role: self.role,
            address: self.address,
            action: self.action,
            entity: self.entity,
            entity_id: self.entity_id,
            detail: self.detail,
        }
    }

    /// The record `e` would be at place `seq` after `prev_hash` in `stream`, unhashed.
    fn of(
        e: &'a AuditEntry<'a>,
        stream: &'a str,
        seq: i64,
        prev_hash: &'a str,
        detail: &'a str,
    ) -> NewAuditRow<'a> {
        NewAuditRow {
            id: None,
            at: e.at,
            actor: &e.actor.username,
            role: &e.actor.role,
            address: e.actor.address.as_deref(),
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            detail,
            prev_hash,
            hash: "",
            stream,
            stream_seq: seq,
        }
    }
}

/// The stream of an entity's records.
pub fn stream_of(entity: &str, entity_id: &str) -> String {
    format!("{entity}:{entity_id}")
}

/// The fields a record's hash covers, in order.
pub struct HashedFields<'a> {
    pub prev_hash: &'a str,
    pub stream: &'a str,
    pub stream_seq: i64,
    pub at: NaiveDateTime,
    pub actor: &'a str,
    pub role: &'a str,
    pub address: Option<&'a str>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub detail: &'a str,
}

/// The hash of a record: SHA-256 over its stream's previous hash and every field, each
/// length-prefixed so that no two records serialise alike. A record of the old single
/// chain (stream `""`) is hashed as it was then: its id (= `stream_seq`) in place of the
/// stream.
pub fn fields_hash(f: &HashedFields<'_>) -> String {
    let mut h = Sha256::new();
    let at = f.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    let seq = f.stream_seq.to_string();
    let mut put = |field: &str| {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    };
    if f.stream.is_empty() {
        put(f.prev_hash);
        put(&seq);
    } else {
        put("motcua audit v2");
        put(f.prev_hash);
        put(f.stream);
        put(&seq);
    }
    for field in [
        at.as_str(),
        f.actor,
        f.role,
        f.address.unwrap_or("\u{0}"),
        f.action,
        f.entity,
        f.entity_id,
        f.detail,
    ] {
        put(field);
    }
    hex::encode(h.finalize())
}

/// The hash a stored record should carry.
pub fn record_hash(row: &AuditRow) -> String {
    fields_hash(&HashedFields {
        prev_hash: &row.prev_hash,
        stream: &row.stream,
        stream_seq: row.stream_seq,
        at: row.at,
        actor: &row.actor,
        role: &row.role,
        address: row.address.as_deref(),
        action: &row.action,
        entity: &row.entity,
        entity_id: &row.entity_id,
        detail: &row.detail,
    })
}

/// One step of the sealed order's running hash: the previous running hash, the record's
/// place and its hash.
pub fn chain_step(prev: &str, position: i64, record_hash: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(position.to_be_bytes());
    h.update(record_hash.as_bytes());
    hex::encode(h.finalize())
}

/// A checkpoint of the sealed order.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_checkpoints)]
pub struct Checkpoint {
    pub seq: i64,
    pub at: NaiveDateTime,
    /// The place of the last record it covers (the records 1..=last_seal).
    pub last_seal: i64,
    /// How many records it sealed.
    pub records: i64,
    pub chain_hash: String,
    pub prev_mac: String,
    pub mac: String,
}

/// The HMAC-SHA-256 of a checkpoint's fields and the previous checkpoint's mac.
pub fn checkpoint_mac(key: &[u8], c: &Checkpoint) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    let at = c.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    for field in [
        "motcua audit checkpoint v1".to_string(),
        c.seq.to_string(),
        at,
        c.last_seal.to_string(),
        c.records.to_string(),
        c.chain_hash.clone(),
        c.prev_mac.clone(),
    ] {
        mac.update(&(field.len() as u64).to_be_bytes());
        mac.update(field.as_bytes());
    }
    hex::encode(mac.finalize().into_bytes())
}

#[derive(QueryableByName)]
struct Head {
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
    #[diesel(sql_type = Text)]
    last_hash: String,
}

/// Appends a record to its entity's stream. Call inside the transaction of the change:
/// the stream's head row is created or locked (an upsert), so writers of other entities
/// never wait.
pub fn append(conn: &mut DbConnection, e: AuditEntry<'_>) -> StoreResult<i64> {
    let stream = stream_of(e.entity, e.entity_id);
    // The no-op update locks an existing head and returns it; a new stream starts at 0.
    let head = |pg: bool| {
        format!(
            "INSERT INTO audit_streams (stream, last_seq, last_hash) VALUES ({}, 0, '{GENESIS}') \
             ON CONFLICT (stream) DO UPDATE SET last_seq = audit_streams.last_seq \
             RETURNING last_seq, last_hash",
            if pg { "$1" } else { "?" }
        )
    };
    let Head {
        last_seq,
        last_hash,
    } = match conn {
        DbConnection::Postgresql(c) => diesel::sql_query(head(true))
            .bind::<Text, _>(&stream)
            .get_result(c)?,
        DbConnection::Sqlite(c) => diesel::sql_query(head(false))
            .bind::<Text, _>(&stream)
            .get_result(c)?,
    };
    let detail = e.detail.to_string();
    let mut row = NewAuditRow::of(&e, &stream, last_seq + 1, &last_hash, &detail);
    let hash = fields_hash(&row.hashed());
    row.hash = &hash;
    let id = match conn {
        DbConnection::Postgresql(c) => diesel::insert_into(audit_log::table)
            .values(&row)
            .returning(audit_log::id)
            .get_result(c)?,
        DbConnection::Sqlite(c) => {
            // One writer at a time: the next id is free.
            let id: Option<i64> = audit_log::table
                .select(diesel::dsl::max(audit_log::id))
                .first(c)?;
            let id = id.unwrap_or(0) + 1;
            row.id = Some(id);
            diesel::insert_into(audit_log::table)
                .values(&row)
                .execute(c)?;
            id
        }
    };
    diesel::update(audit_streams::table.find(&stream))
        .set((
            audit_streams::last_seq.eq(row.stream_seq),
            audit_streams::last_hash.eq(&hash),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Appends the first record of a new entity's stream (a dossier just received): on
/// PostgreSQL one statement creates the head and writes the record (one round trip
/// instead of three); should the stream exist after all, as [`append`].
pub fn append_first(conn: &mut DbConnection, e: AuditEntry<'_>) -> StoreResult<i64> {
    let DbConnection::Postgresql(c) = conn else {
        return append(conn, e);
    };
    let stream = stream_of(e.entity, e.entity_id);
    let detail = e.detail.to_string();
    let hash = fields_hash(&NewAuditRow::of(&e, &stream, 1, GENESIS, &detail).hashed());
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let written: Vec<Id> = diesel::sql_query(format!(
        "WITH head AS (INSERT INTO audit_streams (stream, last_seq, last_hash) VALUES ($1, 1, $2) \
         ON CONFLICT (stream) DO NOTHING RETURNING stream) \
         INSERT INTO audit_log (at, actor, role, address, action, entity, entity_id, detail, \
         prev_hash, hash, stream, stream_seq) \
         SELECT $3, $4, $5, $6, $7, $8, $9, $10, '{GENESIS}', $2, head.stream, 1 FROM head \
         RETURNING id"
    ))
    .bind::<Text, _>(&stream)
    .bind::<Text, _>(&hash)
    .bind::<diesel::sql_types::Timestamp, _>(e.at)
    .bind::<Text, _>(&e.actor.username)
    .bind::<Text, _>(&e.actor.role)
    .bind::<diesel::sql_types::Nullable<Text>, _>(e.actor.address.as_deref())
    .bind::<Text, _>(e.action)
    .bind::<Text, _>(e.entity)
    .bind::<Text, _>(e.entity_id)
    .bind::<Text, _>(&detail)
    .load(c)?;
    match written.first() {
        Some(Id { id }) => Ok(*id),
        None => append(conn, e),
    }
}

/// The first record of a new entity's stream, hashed, as the JSON object the new
/// dossier's one statement writes (`store::new_dossier`): `stream`, `hash`, `at` (to the
/// microsecond, as hashed), `actor`, `role`, `address`, `action`, `entity`, `entity_id`,
/// `detail`. Its `prev_hash` is [`GENESIS`] and its place 1.
pub(crate) fn first_record_json(e: &AuditEntry<'_>) -> serde_json::Value {
    let stream = stream_of(e.entity, e.entity_id);
    let detail = e.detail.to_string();
    let hash = fields_hash(&NewAuditRow::of(e, &stream, 1, GENESIS, &detail).hashed());
    serde_json::json!({
        "stream": stream,
        "hash": hash,
        "at": e.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        "actor": e.actor.username,
        "role": e.actor.role,
        "address": e.actor.address,
        "action": e.action,
        "entity": e.entity,
        "entity_id": e.entity_id,
        "detail": detail,
    })
}

/// A break in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainProblem {
    /// The record's id (for a checkpoint's problem: the last record read before it, 0
    /// when none).
    pub id: i64,
    pub problem: String,
}

/// What `audit verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainReport {
    pub records: i64,
    pub problems: Vec<ChainProblem>,
    /// Checkpoints read (the empty start not counted).
    pub checkpoints: i64,
    /// Records not yet covered by a checkpoint (written in the last seconds, or the
    /// sealer is not running): their streams protect them, a checkpoint not yet.
    pub unsealed: i64,
    /// The last checkpoint: compare it with the one the server logged.
    pub last_checkpoint: Option<Checkpoint>,
}

#[derive(QueryableByName)]
struct Unsealed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    hash: String,
}

/// Advisory lock of the sealer on PostgreSQL (one sealer at a time).
const SEAL_LOCK: i64 = 0x6d6f_7463_7561_0003;

impl super::Store {
    /// Seals the committed records not yet sealed (at most `batch`) and writes a
    /// checkpoint over them, keyed with `key`; `None` when there was nothing to seal or
    /// another process is sealing. One transaction.
    pub fn seal_audit(
        &self,
        key: &[u8],
        now: NaiveDateTime,
        batch: i64,
    ) -> StoreResult<Option<Checkpoint>> {
        self.write(None, |conn| -> StoreResult<Option<Checkpoint>> {
            let candidates: Vec<Unsealed> = match conn {
                DbConnection::Postgresql(c) => {
                    if !super::try_xact_lock(c, SEAL_LOCK)? {
                        return Ok(None);
                    }
                    // What this statement sees committed and unsealed. A transaction
                    // still running commits its records later: the next round seals
                    // them, in later places (nothing is ever skipped: the mark is per
                    // record, not a watermark).
                    diesel::sql_query(
                        "SELECT id, hash FROM audit_log WHERE seal_seq IS NULL \
                         ORDER BY id LIMIT $1",
                    )
                    .bind::<BigInt, _>(batch)
                    .load(c)?
                }
                DbConnection::Sqlite(c) => diesel::sql_query(
                    "SELECT id, hash FROM audit_log WHERE seal_seq IS NULL ORDER BY id LIMIT ?",
                )
                .bind::<BigInt, _>(batch)
                .load(c)?,
            };
            if candidates.is_empty() {
                return Ok(None);
            }
            let last: Checkpoint = audit_checkpoints::table
                .order(audit_checkpoints::seq.desc())
                .select(Checkpoint::as_select())
                .first(conn)?;
            let mut chain = last.chain_hash.clone();
            let mut position = last.last_seal;
            let mut places = Vec::with_capacity(candidates.len());
            for r in &candidates {
                position += 1;
                chain = chain_step(&chain, position, &r.hash);
                places.push((r.id, position));
            }
            for part in places.chunks(2000) {
                // Integers only: nothing from a user reaches the SQL text.
                let values = part
                    .iter()
                    .map(|(id, pos)| format!("({id}, {pos})"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "WITH v(id, pos) AS (VALUES {values}) \
                     UPDATE audit_log SET seal_seq = v.pos FROM v WHERE audit_log.id = v.id"
                );
                diesel::sql_query(sql).execute(conn)?;
            }
            let mut c = Checkpoint {
                seq: last.seq + 1,
                at: now,
                last_seal: position,
                records: candidates.len() as i64,
                chain_hash: chain,
                prev_mac: last.mac.clone(),
                mac: String::new(),
            };
            c.mac = checkpoint_mac(key, &c);
            diesel::insert_into(audit_checkpoints::table)
                .values(&c)
                .execute(conn)?;
            Ok(Some(c))
        })
    }

    /// Checks the whole trail: every record against its hash and its stream (edited,
    /// inserted, deleted, a stream cut at its end against its head), then the sealed order
    /// against the checkpoints and each checkpoint against `key` (a sealed record edited,
    /// inserted or deleted even with its stream rewritten, a tail cut before the last
    /// checkpoint, a checkpoint forged or removed between others).
    pub fn verify_audit_chain(&self, key: &[u8]) -> StoreResult<ChainReport> {
        let mut report = ChainReport::default();
        self.verify_streams(&mut report)?;
        self.verify_sealed(key, &mut report)?;
        Ok(report)
    }

    fn verify_streams(&self, report: &mut ChainReport) -> StoreResult<()> {
        const BATCH: i64 = 5000;
        let mut conn = self.conn()?;
        // The stream being read: its name, last place and last hash, last record's id.
        let mut current: Option<(String, i64, String, i64)> = None;
        let mut ended: Vec<(String, i64, String, i64)> = Vec::new();
        // Every stream name is >= "" and every place >= 1: the first page starts here.
        let mut after: (String, i64) = (String::new(), 0);
        loop {
            // A row comparison: both backends walk the (stream, stream_seq) index.
            let sql = |p: [&str; 3]| {
                format!(
                    "SELECT id, at, actor, role, address, action, entity, entity_id, detail, \
                     prev_hash, hash, stream, stream_seq, seal_seq FROM audit_log \
                     WHERE (stream, stream_seq) > ({}, {}) ORDER BY stream, stream_seq LIMIT {}",
                    p[0], p[1], p[2]
                )
            };
            let batch: Vec<AuditRow> = match &mut *conn {
                DbConnection::Postgresql(c) => diesel::sql_query(sql(["$1", "$2", "$3"]))
                    .bind::<Text, _>(&after.0)
                    .bind::<BigInt, _>(after.1)
                    .bind::<BigInt, _>(BATCH)
                    .load(c)?,
                DbConnection::Sqlite(c) => diesel::sql_query(sql(["?", "?", "?"]))
                    .bind::<Text, _>(&after.0)
                    .bind::<BigInt, _>(after.1)
                    .bind::<BigInt, _>(BATCH)
                    .load(c)?,
            };
            let Some(last) = batch.last() else { break };
            after = (last.stream.clone(), last.stream_seq);
            for row in &batch {
                report.records += 1;
                if row.seal_seq.is_none() {
                    report.unsealed += 1;
                }
                let (expected_seq, expected_prev) = match &current {
                    Some((s, n, h, _)) if *s == row.stream => (n + 1, h.clone()),
                    _ => {
                        if let Some(done) = current.take() {
                            ended.push(done);
                        }
                        (1, GENESIS.to_string())
                    }
                };
                if row.stream_seq != expected_seq {
                    report.problems.push(ChainProblem {
                        id: row.id,
                        problem: "records missing before this one in its chain (deleted)".into(),
                    });
                } else if row.prev_hash != expected_prev {
                    report.problems.push(ChainProblem {
                        id: row.id,
                        problem: "previous hash does not match (inserted or reordered)".into(),
                    });
                }
                if record_hash(row) != row.hash {
                    report.problems.push(ChainProblem {
                        id: row.id,
                        problem: "content does not match its hash (edited)".into(),
                    });
                }
                current = Some((row.stream.clone(), row.stream_seq, row.hash.clone(), row.id));
            }
            if ended.len() >= 1000 {
                check_heads(&mut conn, &mut ended, report)?;
            }
        }
        if let Some(done) = current.take() {
            ended.push(done);
        }
        check_heads(&mut conn, &mut ended, report)?;
        // Heads whose every record is gone.
        let orphans: Vec<(String, i64)> = audit_streams::table
            .filter(diesel::dsl::not(diesel::dsl::exists(
                audit_log::table.filter(audit_log::stream.eq(audit_streams::stream)),
            )))
            .select((audit_streams::stream, audit_streams::last_seq))
            .limit(100)
            .load(&mut *conn)?;
        for (stream, n) in orphans {
            report.problems.push(ChainProblem {
                id: 0,
                problem: format!(
                    "the chain {stream:?} has lost all its {n} records (records removed at the end)"
                ),
            });
        }
        Ok(())
    }

    fn verify_sealed(&self, key: &[u8], report: &mut ChainReport) -> StoreResult<()> {
        const BATCH: i64 = 5000;
        let mut conn = self.conn()?;
        let mut checkpoints = Checkpoints {
            key,
            queue: Default::default(),
            next: 0,
            more: true,
            prev: None,
        };
        let mut chain = GENESIS.to_string();
        let mut position = 0i64;
        let mut last_id = 0i64;
        // The start (checkpoint 0), then the first one that seals something.
        let mut due = checkpoints.take(&mut conn, report, 0)?;
        if due.as_ref().is_some_and(|c| c.last_seal == 0) {
            due = checkpoints.take(&mut conn, report, 0)?;
        }
        let mut last_seen: Option<Checkpoint> = None;
        let mismatch = |seq: i64| {
            format!(
                "checkpoint {seq} does not match the records it sealed (edited, inserted or deleted before it)"
            )
        };
        loop {
            let batch: Vec<(i64, Option<i64>, String)> = audit_log::table
                .filter(audit_log::seal_seq.gt(position))
                .order(audit_log::seal_seq)
                .limit(BATCH)
                .select((audit_log::id, audit_log::seal_seq, audit_log::hash))
                .load(&mut *conn)?;
            if batch.is_empty() {
                break;
            }
            for (id, pos, hash) in &batch {
                let pos = pos.unwrap_or(position + 1);
                if pos != position + 1 {
                    report.problems.push(ChainProblem {
                        id: *id,
                        problem: format!(
                            "sealed records {}..{} are missing before this one (deleted)",
                            position + 1,
                            pos - 1
                        ),
                    });
                }
                // Past a checkpoint whose last records are missing.
                while let Some(c) = due.take() {
                    if c.last_seal >= pos {
                        due = Some(c);
                        break;
                    }
                    report.problems.push(ChainProblem {
                        id: last_id,
                        problem: mismatch(c.seq),
                    });
                    chain = c.chain_hash.clone();
                    last_seen = Some(c);
                    due = checkpoints.take(&mut conn, report, last_id)?;
                }
                chain = chain_step(&chain, pos, hash);
                position = pos;
                last_id = *id;
                if let Some(c) = due.take() {
                    if c.last_seal == pos {
                        if c.chain_hash != chain {
                            report.problems.push(ChainProblem {
                                id: *id,
                                problem: mismatch(c.seq),
                            });
                            // Go on from what the checkpoint says, to find later problems.
                            chain = c.chain_hash.clone();
                        }
                        last_seen = Some(c);
                        due = checkpoints.take(&mut conn, report, *id)?;
                    } else {
                        due = Some(c);
                    }
                }
            }
        }
        while let Some(c) = due.take() {
            report.problems.push(ChainProblem {
                id: last_id,
                problem: format!(
                    "records sealed by checkpoint {} are missing (the tail was cut after record {last_id})",
                    c.seq
                ),
            });
            last_seen = Some(c);
            due = checkpoints.take(&mut conn, report, last_id)?;
        }
        if position > last_seen.as_ref().map_or(0, |c| c.last_seal) {
            report.problems.push(ChainProblem {
                id: last_id,
                problem: "records carry a sealed place no checkpoint covers (inserted)".into(),
            });
        }
        report.last_checkpoint = last_seen;
        Ok(())
    }
}

/// The checkpoints, read in order as the sealed records reach them, each checked against
/// the one before and the key.
struct Checkpoints<'k> {
    key: &'k [u8],
    queue: std::collections::VecDeque<Checkpoint>,
    next: i64,
    more: bool,
    prev: Option<Checkpoint>,
}

impl Checkpoints<'_> {
    fn take(
        &mut self,
        conn: &mut DbConnection,
        report: &mut ChainReport,
        last_id: i64,
    ) -> StoreResult<Option<Checkpoint>> {
        const BATCH: i64 = 5000;
        if self.queue.is_empty() && self.more {
            let got: Vec<Checkpoint> = audit_checkpoints::table
                .filter(audit_checkpoints::seq.ge(self.next))
                .order(audit_checkpoints::seq)
                .limit(BATCH)
                .select(Checkpoint::as_select())
                .load(conn)?;
            self.more = got.len() as i64 == BATCH;
            self.queue.extend(got);
        }
        let Some(c) = self.queue.pop_front() else {
            return Ok(None);
        };
        let mut problem = |text: String| {
            report.problems.push(ChainProblem {
                id: last_id,
                problem: text,
            })
        };
        if c.seq != self.next {
            problem(format!(
                "checkpoints {}..{} are missing (deleted)",
                self.next,
                c.seq - 1
            ));
        }
        match &self.prev {
            None => {
                if c.seq != 0 || c.last_seal != 0 || c.chain_hash != GENESIS {
                    problem("the checkpoints' start was changed or deleted".into());
                }
            }
            Some(p) => {
                if c.prev_mac != p.mac {
                    problem(format!(
                        "checkpoint {} does not follow checkpoint {}",
                        c.seq, p.seq
                    ));
                }
                if c.mac != checkpoint_mac(self.key, &c) {
                    problem(format!(
                        "checkpoint {} is not signed with this server's secret (forged or edited)",
                        c.seq
                    ));
                }
                if c.last_seal != p.last_seal + c.records {
                    problem(format!("checkpoint {} does not count its records", c.seq));
                }
                report.checkpoints += 1;
            }
        }
        self.next = c.seq + 1;
        self.prev = Some(c.clone());
        Ok(Some(c))
    }
}

/// Compares the streams that ended with their heads.
fn check_heads(
    conn: &mut DbConnection,
    ended: &mut Vec<(String, i64, String, i64)>,
    report: &mut ChainReport,
) -> StoreResult<()> {
    if ended.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = ended.iter().map(|(s, ..)| s.as_str()).collect();
    let heads: std::collections::HashMap<String, (i64, String)> = audit_streams::table
        .filter(audit_streams::stream.eq_any(&names))
        .select((
            audit_streams::stream,
            audit_streams::last_seq,
            audit_streams::last_hash,
        ))
        .load::<(String, i64, String)>(conn)?
        .into_iter()
        .map(|(s, n, h)| (s, (n, h)))
        .collect();
    for (stream, seq, hash, id) in ended.drain(..) {
        match heads.get(&stream) {
            None => report.problems.push(ChainProblem {
                id,
                problem: "its chain has no head (inserted)".into(),
            }),
            Some((n, h)) if *n != seq || *h != hash => report.problems.push(ChainProblem {
                id,
                problem: format!(
                    "the chain's head does not match its last record ({} of {n}: records removed at the end)",
                    seq
                ),
            }),
            Some(_) => {}
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The hash of the single chain before migration 000020, as it was computed then.
    fn old_record_hash(prev: &str, id: i64, at: NaiveDateTime, f: [&str; 7]) -> String {
        let mut h = Sha256::new();
        let at = at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
        let id = id.to_string();
        for field in [prev, id.as_str(), at.as_str()].into_iter().chain(f) {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        hex::encode(h.finalize())
    }

    fn fields<'a>(
        stream: &'a str,
        seq: i64,
        at: NaiveDateTime,
        f: &'a [String; 7],
    ) -> HashedFields<'a> {
        HashedFields {
            prev_hash: GENESIS,
            stream,
            stream_seq: seq,
            at,
            actor: &f[0],
            role: &f[1],
            address: Some(f[2].as_str()),
            action: &f[3],
            entity: &f[4],
            entity_id: &f[5],
            detail: &f[6],
        }
    }

    proptest! {
        /// The records of the old chain (stream "") keep their hashes.
        #[test]
        fn old_records_hash_as_before(id in 1i64..1_000_000, secs in 0i64..2_000_000_000,
                                      f in proptest::array::uniform7("[a-zA-Zà-ỹ0-9 :{}\"]{0,12}")) {
            let at = chrono::DateTime::from_timestamp(secs, 0).unwrap().naive_utc();
            let old = old_record_hash(GENESIS, id, at,
                [&f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6]].map(|s| s.as_str()));
            prop_assert_eq!(fields_hash(&fields("", id, at, &f)), old);
        }

        /// A new record's hash depends on its stream and place: the same fields elsewhere
        /// hash differently, so a record cannot be moved between streams or places.
        #[test]
        fn a_record_cannot_move(seq in 1i64..1000, f in proptest::array::uniform7("[a-z]{0,6}")) {
            let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap().naive_utc();
            let h = fields_hash(&fields("dossier:A", seq, at, &f));
            prop_assert_ne!(&h, &fields_hash(&fields("dossier:B", seq, at, &f)));
            prop_assert_ne!(&h, &fields_hash(&fields("dossier:A", seq + 1, at, &f)));
            prop_assert_ne!(&h, &fields_hash(&fields("", seq, at, &f)));
        }
    }

    #[test]
    fn the_running_hash_and_the_mac_cover_every_field() {
        let a = chain_step(GENESIS, 1, "aa");
        assert_ne!(a, chain_step(GENESIS, 2, "aa"));
        assert_ne!(a, chain_step(GENESIS, 1, "ab"));
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0)
            .unwrap()
            .naive_utc();
        let c = Checkpoint {
            seq: 3,
            at,
            last_seal: 10,
            records: 4,
            chain_hash: a.clone(),
            prev_mac: "m".into(),
            mac: String::new(),
        };
        let m = checkpoint_mac(b"key", &c);
        assert_ne!(m, checkpoint_mac(b"other key", &c));
        for changed in [
            Checkpoint {
                seq: 4,
                ..c.clone()
            },
            Checkpoint {
                last_seal: 11,
                ..c.clone()
            },
            Checkpoint {
                records: 5,
                ..c.clone()
            },
            Checkpoint {
                chain_hash: "x".into(),
                ..c.clone()
            },
            Checkpoint {
                prev_mac: "n".into(),
                ..c.clone()
            },
            Checkpoint {
                at: at + chrono::Duration::microseconds(1),
                ..c.clone()
            },
        ] {
            assert_ne!(m, checkpoint_mac(b"key", &changed), "{changed:?}");
        }
    }
}
