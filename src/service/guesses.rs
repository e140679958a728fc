//! Guesses of a secret — a password at login, a pin at the public lookup — throttled by
//! the pure rule of [`crate::core::throttle`] over tallies shared by every process on the
//! database: per subject and address (`<kind>_pair`), per address (`<kind>_address`)
//! and per subject over all addresses (`login_account` / `lookup_code`).

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::core::throttle::{self, Limits, Tallies};
use crate::error::{AppError, AppResult};
use crate::store::to_db;

/// Longest subject kept in a tally key: a hostile client cannot fill the table.
const MAX_SUBJECT_CHARS: usize = 64;

/// The tallies of a lookup pin: pair, address, code.
pub(crate) const LOOKUP_SCOPES: [&str; 3] = ["lookup_pair", "lookup_address", "lookup_code"];

/// One attempt to guess: what is guessed at, from where.
pub(crate) struct Guess {
    limits: Limits,
    pair: (&'static str, String),
    address: (&'static str, String),
    subject: (&'static str, String),
    /// Its failures mark suspects for the lookup cache's fast path (see
    /// [`crate::store::changes`]).
    marks_suspects: bool,
}

impl Guess {
    /// A password for `username` (already normalised).
    pub fn login(app: &App, username: &str, address: &str) -> Self {
        Self::new(
            app.settings.login_limits,
            ["login_pair", "login_address", "login_account"],
            username,
            address,
        )
    }

    /// A pin for the dossier `code`.
    pub fn lookup(app: &App, code: &str, address: &str) -> Self {
        Self {
            marks_suspects: true,
            ..Self::new(app.settings.lookup_limits, LOOKUP_SCOPES, code, address)
        }
    }

    fn new(limits: Limits, scopes: [&'static str; 3], subject: &str, address: &str) -> Self {
        let subject: String = subject.chars().take(MAX_SUBJECT_CHARS).collect();
        let address: String = address.chars().take(MAX_SUBJECT_CHARS).collect();
        Self {
            limits,
            pair: (scopes[0], format!("{subject} {address}")),
            address: (scopes[1], address),
            subject: (scopes[2], subject),
            marks_suspects: false,
        }
    }

    /// Its three tallies' `(scope, key)`.
    pub(crate) fn keys(&self) -> [(&str, &str); 3] {
        [
            (self.pair.0, self.pair.1.as_str()),
            (self.address.0, self.address.1.as_str()),
            (self.subject.0, self.subject.1.as_str()),
        ]
    }
}

impl App {
    /// 429 `too_many_attempts` with `Retry-After` while the attempt must wait; before
    /// the secret is even checked. Otherwise whether the pair has failed within its
    /// window (what [`App::good_guess`] clears).
    ///
    /// The tallies are not read when this process knows that none of the keys failed
    /// within its window ([`App::unsuspected`], what the lookup cache's fast path
    /// trusts): nothing to wait for, no pair to clear. A lookup missing the cache then
    /// costs one round trip fewer.
    pub(crate) fn hold_guess(&self, g: &Guess, now: DateTime<Utc>) -> AppResult<bool> {
        if self.unsuspected(g, now) {
            return Ok(false);
        }
        let t = self.store.tallies(&g.keys(), to_db(now), g.limits.window)?;
        let tallies = Tallies {
            pair: t[0],
            address: t[1],
            subject: t[2],
        };
        match throttle::wait(&g.limits, &tallies, now) {
            None => Ok(tallies.pair.is_some()),
            Some(seconds) => Err(AppError::too_many().with_retry_after(seconds)),
        }
    }

    /// Counts a wrong guess in its three tallies.
    pub(crate) fn failed_guess(&self, g: &Guess, now: DateTime<Utc>) -> AppResult<()> {
        if g.marks_suspects {
            // Before the tallies are written: no fast path may pass them by meanwhile.
            self.store
                .changes()
                .suspect(&g.keys(), to_db(now), to_db(now + g.limits.window));
        }
        self.store
            .record_failures(&g.keys(), to_db(now), g.limits.window)?;
        Ok(())
    }

    /// A right guess clears its pair: the owner's own mistakes are forgiven, the
    /// subject's and the address's tallies stay. `pair_failed`: what [`App::hold_guess`]
    /// said; a pair without a tally in its window has nothing to clear (an older one
    /// restarts at the next failure as if it were not there), and no write is made.
    pub(crate) fn good_guess(&self, g: &Guess, pair_failed: bool) -> AppResult<()> {
        if pair_failed {
            self.store.clear_failures(g.pair.0, &g.pair.1)?;
        }
        Ok(())
    }

    /// Whether an attempt may skip reading its tallies: none of its keys failed within
    /// its window, as far as this process knows for sure (see
    /// [`crate::store::changes::Changes::clear_of`]).
    pub(crate) fn unsuspected(&self, g: &Guess, now: DateTime<Utc>) -> bool {
        g.marks_suspects && self.store.changes().clear_of(&g.keys(), to_db(now))
    }
}
