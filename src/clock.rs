//! Where "now" comes from. The server reads the system clock; tests and drills use a
//! manual clock they set and advance, so that deadlines can be asserted to the minute.
//! The pure core never reads a clock: callers pass `now`.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// A clock that only moves when told to.
    Manual(Arc<Mutex<DateTime<Utc>>>),
    /// The system clock moved by a fixed amount: it runs at the real pace from a chosen
    /// start. Set by `MOTCUA_CLOCK_START` for drills and the browser tests, so that a
    /// journey written for a working morning does not depend on when it runs.
    Shifted(Duration),
}

impl Clock {
    /// A manual clock showing `at`.
    pub fn manual(at: DateTime<Utc>) -> Self {
        Clock::Manual(Arc::new(Mutex::new(at)))
    }

    /// A clock that reads `start` at the real moment `real_now` and runs on from there.
    pub fn starting_at(start: DateTime<Utc>, real_now: DateTime<Utc>) -> Self {
        Clock::Shifted(start - real_now)
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Shifted(d) => Utc::now() + *d,
            Clock::Manual(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Sets a manual clock to `at` (no effect on the system clock).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Clock::Manual(t) = self {
            *t.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }

    /// Moves a manual clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        if let Clock::Manual(t) = self {
            *t.lock().unwrap_or_else(|e| e.into_inner()) += d;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_starts_where_told_and_runs_on() {
        let start: DateTime<Utc> = "2026-03-03T02:00:00Z".parse().unwrap();
        let c = Clock::starting_at(start, Utc::now());
        let first = c.now();
        assert!((first - start).num_seconds().abs() < 5, "{first}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(c.now() > first);
    }
}
