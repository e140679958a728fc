//! Counting failed attempts (logins, public lookups) per scope and key, shared by every
//! process on the database.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::schema::throttle;
use super::{from_db, Store, StoreError, StoreResult};
use crate::core::throttle::Tally;

impl Store {
    /// The tally of each `(scope, key)` within the window ending at `now` (`None`: no
    /// failure in it), in one query.
    pub fn tallies(
        &self,
        keys: &[(&str, &str)],
        now: NaiveDateTime,
        window: Duration,
    ) -> StoreResult<Vec<Option<Tally>>> {
        let mut conn = self.conn()?;
        let scopes: Vec<&str> = keys.iter().map(|k| k.0).collect();
        let names: Vec<&str> = keys.iter().map(|k| k.1).collect();
        let rows: Vec<(String, String, NaiveDateTime, i32, Option<NaiveDateTime>)> =
            throttle::table
                .filter(throttle::scope.eq_any(&scopes))
                .filter(throttle::key.eq_any(&names))
                .select((
                    throttle::scope,
                    throttle::key,
                    throttle::window_start,
                    throttle::failures,
                    throttle::last_failure_at,
                ))
                .load(&mut conn)?;
        Ok(keys
            .iter()
            .map(|(scope, key)| {
                rows.iter()
                    .find(|r| r.0 == *scope && r.1 == *key && now - r.2 < window)
                    .map(|r| Tally {
                        failures: r.3.max(0) as u32,
                        window_start: from_db(r.2),
                        last_at: from_db(r.4.unwrap_or(r.2)),
                    })
            })
            .collect())
    }

    /// Records one failure of each `(scope, key)`; a window older than `window` restarts.
    pub fn record_failures(
        &self,
        keys: &[(&str, &str)],
        now: NaiveDateTime,
        window: Duration,
    ) -> StoreResult<()> {
        self.write(None, |conn| {
            for (scope, key) in keys {
                let row: Option<(NaiveDateTime, i32)> = throttle::table
                    .find((scope, key))
                    .select((throttle::window_start, throttle::failures))
                    .first(conn)
                    .optional()?;
                match row {
                    None => {
                        diesel::insert_into(throttle::table)
                            .values((
                                throttle::scope.eq(scope),
                                throttle::key.eq(key),
                                throttle::window_start.eq(now),
                                throttle::failures.eq(1),
                                throttle::last_failure_at.eq(now),
                            ))
                            .execute(conn)?;
                    }
                    Some((start, _)) if now - start >= window => {
                        diesel::update(throttle::table.find((scope, key)))
                            .set((
                                throttle::window_start.eq(now),
                                throttle::failures.eq(1),
                                throttle::last_failure_at.eq(now),
                            ))
                            .execute(conn)?;
                    }
                    Some((_, n)) => {
                        diesel::update(throttle::table.find((scope, key)))
                            .set((
                                throttle::failures.eq(n + 1),
                                throttle::last_failure_at.eq(now),
                            ))
                            .execute(conn)?;
                    }
                }
            }
            Ok::<_, StoreError>(())
        })
    }

    /// Reads the tallies of `scopes` still live at `now` into the change feed's suspects,
    /// once per epoch of the feed (at start, after every reconnection of its listener):
    /// the failures recorded before this process could hear of them.
    pub fn seed_suspects(
        &self,
        scopes: &[&str],
        now: NaiveDateTime,
        window: Duration,
    ) -> StoreResult<()> {
        let Some(epoch) = self.changes().needs_seed() else {
            return Ok(());
        };
        let rows: Vec<(String, String, NaiveDateTime)> = throttle::table
            .filter(throttle::scope.eq_any(scopes))
            .filter(throttle::window_start.gt(now - window))
            .select((throttle::scope, throttle::key, throttle::window_start))
            .load(&mut self.conn()?)?;
        self.changes().seeded(
            epoch,
            rows.into_iter()
                .map(|(s, k, start)| (s, k, start + window))
                .collect(),
        );
        Ok(())
    }

    /// Forgets every tally whose window began before `before` (the longest window ago:
    /// nothing is counted from it any more); how many.
    pub fn prune_throttle(&self, before: NaiveDateTime) -> StoreResult<usize> {
        self.write(None, |conn| {
            Ok::<_, StoreError>(
                diesel::delete(throttle::table.filter(throttle::window_start.lt(before)))
                    .execute(conn)?,
            )
        })
    }

    /// Forgets the failures of `(scope, key)` (after a successful login).
    pub fn clear_failures(&self, scope: &str, key: &str) -> StoreResult<()> {
        let mut conn = self.conn()?;
        diesel::delete(throttle::table.find((scope, key))).execute(&mut conn)?;
        Ok(())
    }
}
