//! Whether the database answers, watched apart from the request path: a thread with a
//! connection of its own pings it every `health_interval_ms`. The database is healthy while
//! the last answer is younger than `health_timeout_ms`. A database that stops answering —
//! down, or behind a relay that went silent, where a query may hang with no error at all
//! — is then seen within that time, whatever the requests are doing, so that `/healthz`
//! and every request can say so at once (503) instead of waiting for the pool or for a
//! query that will never return.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::r2d2::ManageConnection;

use super::Manager;
use crate::config::DbTimeouts;

/// The database's health, as last seen by the monitor.
pub struct Health {
    manager: Manager,
    timeouts: DbTimeouts,
    epoch: Instant,
    /// Milliseconds since `epoch` of the last successful ping (0: never).
    last_ok_ms: AtomicU64,
    running: AtomicBool,
}

impl Health {
    pub(super) fn new(manager: Manager, timeouts: DbTimeouts) -> Self {
        Self {
            manager,
            timeouts,
            epoch: Instant::now(),
            last_ok_ms: AtomicU64::new(0),
            running: AtomicBool::new(false),
        }
    }

    /// Starts the monitor thread once (later calls do nothing).
    pub(super) fn start(this: &Arc<Self>) {
        if this.running.swap(true, Ordering::SeqCst) {
            return;
        }
        let h = this.clone();
        std::thread::Builder::new()
            .name("db-health".into())
            .spawn(move || h.run())
            .expect("a thread for the health monitor");
    }

    /// Pings for ever; a hung ping (a silent peer) simply stops the successes.
    fn run(&self) {
        let interval = Duration::from_millis(u64::from(self.timeouts.health_interval_ms));
        let mut conn = None;
        loop {
            let started = Instant::now();
            if conn.is_none() {
                conn = self.manager.connect().ok();
            }
            let ok = match conn.as_mut() {
                Some(c) => c.batch_execute("SELECT 1").is_ok(),
                None => false,
            };
            if ok {
                self.last_ok_ms.store(
                    self.epoch.elapsed().as_millis() as u64 + 1,
                    Ordering::SeqCst,
                );
            } else {
                conn = None;
                self.manager.outage.note();
            }
            if let Some(rest) = interval.checked_sub(started.elapsed()) {
                std::thread::sleep(rest);
            }
        }
    }

    /// `Some(true)` while the database answered within `health_timeout_ms`, `Some(false)`
    /// when it did not; `None` when the monitor is not running (commands, tests).
    pub fn healthy(&self) -> Option<bool> {
        if !self.running.load(Ordering::SeqCst) {
            return None;
        }
        let last = self.last_ok_ms.load(Ordering::SeqCst);
        if last == 0 {
            // Not yet pinged: give the first ping its time.
            return Some(
                self.epoch.elapsed()
                    < Duration::from_millis(u64::from(self.timeouts.health_timeout_ms)),
            );
        }
        let age = (self.epoch.elapsed().as_millis() as u64).saturating_sub(last);
        Some(age <= u64::from(self.timeouts.health_timeout_ms))
    }

    /// How long ago the database last answered, when it ever did.
    pub fn last_answer(&self) -> Option<Duration> {
        match self.last_ok_ms.load(Ordering::SeqCst) {
            0 => None,
            last => Some(Duration::from_millis(
                (self.epoch.elapsed().as_millis() as u64).saturating_sub(last),
            )),
        }
    }
}
