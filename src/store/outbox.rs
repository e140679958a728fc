//! The notifications' outbox (issue #17): rows written in the transaction of the change
//! that causes them, claimed by one worker at a time, every attempt recorded.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{outbox, outbox_attempts};
use super::{DbConnection, StoreResult};

/// A message to write to the outbox.
#[derive(Debug, Clone, Insertable, serde::Serialize)]
#[diesel(table_name = outbox)]
pub struct NewOutboxRow {
    pub message_key: String,
    pub template: String,
    pub channel: String,
    pub recipient: Option<String>,
    pub dossier_code: Option<String>,
    /// The agency whose report counts it.
    pub agency_code: Option<String>,
    /// The template's variables, as a JSON object of strings.
    pub vars: String,
    pub state: String,
    pub attempts: i32,
    #[serde(serialize_with = "super::micros::one")]
    pub next_attempt_at: NaiveDateTime,
    pub message_id: String,
    #[serde(serialize_with = "super::micros::one")]
    pub created_at: NaiveDateTime,
}

/// An outbox row as stored.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq, Eq)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub message_key: String,
    pub template: String,
    pub channel: String,
    pub recipient: Option<String>,
    pub dossier_code: Option<String>,
    pub agency_code: Option<String>,
    pub vars: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<NaiveDateTime>,
    pub message_id: String,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

/// One attempt to send a row.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq, Eq)]
#[diesel(table_name = outbox_attempts)]
pub struct AttemptRow {
    pub outbox_id: i64,
    pub attempt: i32,
    pub worker: String,
    pub started_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub ok: Option<bool>,
    pub error: Option<String>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptEnd {
    Sent,
    /// Failed; try again from this moment.
    Retry {
        at: NaiveDateTime,
        error: String,
    },
    /// Failed for good (the last attempt, or a permanent refusal): parked for an admin.
    Park {
        error: String,
    },
}

/// Writes a row unless one with the same key exists; true when written.
pub fn insert(conn: &mut DbConnection, row: &NewOutboxRow) -> StoreResult<bool> {
    let n = match conn {
        DbConnection::Postgresql(c) => diesel::insert_into(outbox::table)
            .values(row)
            .on_conflict(outbox::message_key)
            .do_nothing()
            .execute(c)?,
        DbConnection::Sqlite(c) => diesel::insert_into(outbox::table)
            .values(row)
            .on_conflict(outbox::message_key)
            .do_nothing()
            .execute(c)?,
    };
    Ok(n == 1)
}

/// Claims up to `limit` pending rows due at `now` that no live worker holds, oldest first,
/// for `worker` until `until`. PostgreSQL skips the rows another worker is claiming at this
/// very moment (`FOR UPDATE SKIP LOCKED`); SQLite claims under its single writer.
pub fn claim(
    conn: &mut DbConnection,
    worker: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<OutboxRow>> {
    macro_rules! due {
        () => {
            outbox::table
                .filter(outbox::state.eq("pending"))
                .filter(outbox::next_attempt_at.le(now))
                .filter(
                    outbox::claimed_until
                        .is_null()
                        .or(outbox::claimed_until.lt(now)),
                )
                .order((outbox::next_attempt_at, outbox::id))
                .limit(limit)
                .select(OutboxRow::as_select())
        };
    }
    let rows: Vec<OutboxRow> = match conn {
        DbConnection::Postgresql(c) => due!().for_update().skip_locked().load(c)?,
        DbConnection::Sqlite(c) => due!().load(c)?,
    };
    if rows.is_empty() {
        return Ok(rows);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
        .set((
            outbox::claimed_by.eq(worker),
            outbox::claimed_until.eq(until),
        ))
        .execute(conn)?;
    Ok(rows
        .into_iter()
        .map(|mut r| {
            r.claimed_by = Some(worker.to_string());
            r.claimed_until = Some(until);
            r
        })
        .collect())
}

/// Records the start of the next attempt on a row that `worker` still holds: the number
/// of attempts in this round (since it was written, or sent again by an admin) and the
/// attempt's number in the row's history; `None` when the row is no longer this worker's
/// (its lease ran out and another took it, or it was sent meanwhile).
pub fn begin_attempt(
    conn: &mut DbConnection,
    id: i64,
    worker: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<(i32, i32)>> {
    let n = diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::state.eq("pending"))
            .filter(outbox::claimed_by.eq(worker))
            .filter(outbox::claimed_until.ge(now)),
    )
    .set(outbox::attempts.eq(outbox::attempts + 1))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    let round: i32 = outbox::table
        .find(id)
        .select(outbox::attempts)
        .first(conn)?;
    let last: Option<i32> = outbox_attempts::table
        .filter(outbox_attempts::outbox_id.eq(id))
        .select(diesel::dsl::max(outbox_attempts::attempt))
        .first(conn)?;
    let attempt = last.unwrap_or(0) + 1;
    diesel::insert_into(outbox_attempts::table)
        .values(&AttemptRow {
            outbox_id: id,
            attempt,
            worker: worker.to_string(),
            started_at: now,
            ended_at: None,
            ok: None,
            error: None,
        })
        .execute(conn)?;
    Ok(Some((round, attempt)))
}

/// Records how attempt `attempt` of row `id` ended, and releases the row.
pub fn end_attempt(
    conn: &mut DbConnection,
    id: i64,
    attempt: i32,
    now: NaiveDateTime,
    end: &AttemptEnd,
) -> StoreResult<()> {
    let (ok, error) = match end {
        AttemptEnd::Sent => (true, None),
        AttemptEnd::Retry { error, .. } | AttemptEnd::Park { error } => {
            (false, Some(error.clone()))
        }
    };
    diesel::update(
        outbox_attempts::table
            .filter(outbox_attempts::outbox_id.eq(id))
            .filter(outbox_attempts::attempt.eq(attempt)),
    )
    .set((
        outbox_attempts::ended_at.eq(Some(now)),
        outbox_attempts::ok.eq(Some(ok)),
        outbox_attempts::error.eq(&error),
    ))
    .execute(conn)?;
    let row = outbox::table.filter(outbox::id.eq(id));
    match end {
        AttemptEnd::Sent => diesel::update(row)
            .set((
                outbox::state.eq("sent"),
                outbox::sent_at.eq(Some(now)),
                outbox::claimed_by.eq(None::<String>),
                outbox::claimed_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)?,
        AttemptEnd::Retry { at, error } => diesel::update(row)
            .set((
                outbox::next_attempt_at.eq(at),
                outbox::claimed_by.eq(None::<String>),
                outbox::claimed_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
        AttemptEnd::Park { error } => diesel::update(row)
            .set((
                outbox::state.eq("parked"),
                outbox::claimed_by.eq(None::<String>),
                outbox::claimed_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
    };
    Ok(())
}

/// Gives back rows `worker` claimed and did not try (it is stopping, or its lease is short).
pub fn release(conn: &mut DbConnection, ids: &[i64], worker: &str) -> StoreResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::claimed_by.eq(worker))
            .filter(outbox::state.eq("pending")),
    )
    .set((
        outbox::claimed_by.eq(None::<String>),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?)
}

/// Rows in `state`, newest first (at most `limit`).
pub fn in_state(conn: &mut DbConnection, state: &str, limit: i64) -> StoreResult<Vec<OutboxRow>> {
    Ok(outbox::table
        .filter(outbox::state.eq(state))
        .order(outbox::id.desc())
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// A dossier's messages, in the order they were written.
pub fn of_dossier(conn: &mut DbConnection, code: &str) -> StoreResult<Vec<OutboxRow>> {
    Ok(outbox::table
        .filter(outbox::dossier_code.eq(code))
        .order(outbox::id)
        .select(OutboxRow::as_select())
        .load(conn)?)
}

/// One row.
pub fn find(conn: &mut DbConnection, id: i64) -> StoreResult<Option<OutboxRow>> {
    Ok(outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()?)
}

/// A row's attempts, in order.
pub fn attempts_of(conn: &mut DbConnection, id: i64) -> StoreResult<Vec<AttemptRow>> {
    Ok(outbox_attempts::table
        .filter(outbox_attempts::outbox_id.eq(id))
        .order(outbox_attempts::attempt)
        .select(AttemptRow::as_select())
        .load(conn)?)
}

/// How many rows are in each state, created in `[from, to)`.
pub fn counts(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<(String, i64)>> {
    Ok(outbox::table
        .filter(outbox::created_at.ge(from))
        .filter(outbox::created_at.lt(to))
        .group_by(outbox::state)
        .select((outbox::state, diesel::dsl::count_star()))
        .order(outbox::state)
        .load(conn)?)
}

/// How many rows of `agencies` are in each state, created in `[from, to)`.
pub fn counts_for_agencies(
    conn: &mut DbConnection,
    agencies: &[String],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> StoreResult<Vec<(String, i64)>> {
    let mut out: std::collections::BTreeMap<String, i64> = Default::default();
    for chunk in agencies.chunks(500) {
        let rows: Vec<(String, i64)> = outbox::table
            .filter(outbox::agency_code.eq_any(chunk))
            .filter(outbox::created_at.ge(from))
            .filter(outbox::created_at.lt(to))
            .group_by(outbox::state)
            .select((outbox::state, diesel::dsl::count_star()))
            .load(conn)?;
        for (s, n) in rows {
            *out.entry(s).or_insert(0) += n;
        }
    }
    Ok(out.into_iter().collect())
}

/// The receiving agency of a dossier.
pub fn receiving_agency_of(conn: &mut DbConnection, code: &str) -> StoreResult<Option<String>> {
    use super::schema::dossiers;
    Ok(dossiers::table
        .find(code)
        .select(dossiers::receiving_agency)
        .first(conn)
        .optional()?)
}

/// Attempts that started and never ended (the worker died while sending): each may have
/// been delivered before a later attempt delivered it again.
pub fn unended_attempts(conn: &mut DbConnection) -> StoreResult<Vec<AttemptRow>> {
    Ok(outbox_attempts::table
        .filter(outbox_attempts::ended_at.is_null())
        .order((outbox_attempts::outbox_id, outbox_attempts::attempt))
        .select(AttemptRow::as_select())
        .load(conn)?)
}

/// A parked row made pending again (an admin's "send again"); false when it is not parked.
pub fn unpark(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> StoreResult<bool> {
    Ok(diesel::update(
        outbox::table
            .filter(outbox::id.eq(id))
            .filter(outbox::state.eq("parked")),
    )
    .set((
        outbox::state.eq("pending"),
        outbox::next_attempt_at.eq(now),
        outbox::attempts.eq(0),
    ))
    .execute(conn)?
        == 1)
}
