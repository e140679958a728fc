//! Counting failed attempts (logins, public lookups) per scope and key, shared by every
//! process on the database.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::schema::throttle;
use super::{Store, StoreError, StoreResult};

impl Store {
    /// Failures of `key` in `scope` within the window ending at `now`.
    pub fn failures(
        &self,
        scope: &str,
        key: &str,
        now: NaiveDateTime,
        window: Duration,
    ) -> StoreResult<u32> {
        let mut conn = self.conn()?;
        let row: Option<(NaiveDateTime, i32)> = throttle::table
            .find((scope, key))
            .select((throttle::window_start, throttle::failures))
            .first(&mut conn)
            .optional()?;
        Ok(match row {
            Some((start, n)) if now - start < window => n.max(0) as u32,
            _ => 0,
        })
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
                            ))
                            .execute(conn)?;
                    }
                    Some((start, _)) if now - start >= window => {
                        diesel::update(throttle::table.find((scope, key)))
                            .set((throttle::window_start.eq(now), throttle::failures.eq(1)))
                            .execute(conn)?;
                    }
                    Some((_, n)) => {
                        diesel::update(throttle::table.find((scope, key)))
                            .set(throttle::failures.eq(n + 1))
                            .execute(conn)?;
                    }
                }
            }
            Ok::<_, StoreError>(())
        })
    }

    /// Forgets the failures of `(scope, key)` (after a successful login).
    pub fn clear_failures(&self, scope: &str, key: &str) -> StoreResult<()> {
        let mut conn = self.conn()?;
        diesel::delete(throttle::table.find((scope, key))).execute(&mut conn)?;
        Ok(())
    }
}
