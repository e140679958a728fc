//! Throttling of guesses — passwords at login, pins at the public lookup — so that a
//! guesser gains nothing and cannot lock the rightful user out.
//!
//! Failures are counted in three tallies per attempt, each over a sliding window that
//! restarts after `window`:
//! - the **pair**: this subject (account or dossier code) from this address. After
//!   `free` failures each further attempt waits `1 s · 2^(failures − free)` after the
//!   last failure, never past the end of the pair's window: an exponential delay, not a
//!   lock;
//! - the **address**, over every subject: `per_address` failures close that address for
//!   the rest of its window (a guesser's own address);
//! - the **subject**, over every address: beyond `per_subject` failures (guessing from
//!   many addresses) every address that has already failed on this subject waits
//!   `1 s · 2^(its failures)`; an address that has not failed — the rightful user typing
//!   the right secret — is never held back.
//!
//! A success clears the pair only. The caller answers a wait with 429 and `Retry-After`.

use chrono::{DateTime, Duration, Utc};

/// One tally within its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub failures: u32,
    pub window_start: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

/// The limits of one kind of guess (login or lookup).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failures of one pair before delays start.
    pub free: u32,
    /// Failures of one address, over all subjects, that close it for the window.
    pub per_address: u32,
    /// Failures on one subject, over all addresses, beyond which every address that
    /// failed on it is delayed.
    pub per_subject: u32,
    pub window: Duration,
}

/// The tallies that bear on one attempt; `None` when there is none within the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tallies {
    pub pair: Option<Tally>,
    pub address: Option<Tally>,
    pub subject: Option<Tally>,
}

/// The delay of the `n`-th failure beyond the free ones (n = 0 → 1 s), at most `cap`.
pub fn delay(n: u32, cap: Duration) -> Duration {
    let secs = 1i64.checked_shl(n.min(40)).unwrap_or(i64::MAX);
    Duration::seconds(secs).min(cap)
}

/// Whole seconds to wait before the attempt is heard (at least 1), or `None`: go ahead.
pub fn wait(limits: &Limits, t: &Tallies, now: DateTime<Utc>) -> Option<u32> {
    let live = |x: Option<Tally>| x.filter(|x| now - x.window_start < limits.window);
    let (pair, address, subject) = (live(t.pair), live(t.address), live(t.subject));
    let mut until: Option<DateTime<Utc>> = None;
    let mut later = |at: DateTime<Utc>| {
        if at > now && until.is_none_or(|u| at > u) {
            until = Some(at);
        }
    };
    if let Some(a) = address {
        if a.failures >= limits.per_address {
            later(a.window_start + limits.window);
        }
    }
    if let Some(p) = pair {
        // The pair's tally ends with its window: no delay runs past it.
        let end = p.window_start + limits.window;
        if p.failures >= limits.free {
            later((p.last_at + delay(p.failures - limits.free, limits.window)).min(end));
        }
        let attacked = subject.is_some_and(|s| s.failures > limits.per_subject);
        if attacked && p.failures >= 1 {
            later((p.last_at + delay(p.failures, limits.window)).min(end));
        }
    }
    until.map(|u| {
        let ms = (u - now).num_milliseconds().max(1);
        u32::try_from((ms + 999) / 1000).unwrap_or(u32::MAX).max(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap() + Duration::seconds(s)
    }

    const LIMITS: Limits = Limits {
        free: 5,
        per_address: 20,
        per_subject: 50,
        window: Duration::minutes(15),
    };

    fn tally(failures: u32, start: i64, last: i64) -> Option<Tally> {
        Some(Tally {
            failures,
            window_start: at(start),
            last_at: at(last),
        })
    }

    #[test]
    fn the_delay_doubles_and_stops_at_the_window() {
        let cap = Duration::minutes(15);
        let secs: Vec<i64> = (0..12).map(|n| delay(n, cap).num_seconds()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
        assert_eq!(delay(u32::MAX, cap), cap);
    }

    #[test]
    fn table() {
        // (pair, address, subject, now) → wait
        let cases: Vec<(Tallies, i64, Option<u32>)> = vec![
            // Nothing yet.
            (Tallies::default(), 0, None),
            // Four failures of the pair: free.
            (
                Tallies {
                    pair: tally(4, 0, 10),
                    ..Default::default()
                },
                11,
                None,
            ),
            // The fifth: 1 s after the last failure.
            (
                Tallies {
                    pair: tally(5, 0, 10),
                    ..Default::default()
                },
                10,
                Some(1),
            ),
            (
                Tallies {
                    pair: tally(5, 0, 10),
                    ..Default::default()
                },
                11,
                None,
            ),
            // The eighth: 8 s.
            (
                Tallies {
                    pair: tally(8, 0, 100),
                    ..Default::default()
                },
                101,
                Some(7),
            ),
            // The window is over: everything restarts.
            (
                Tallies {
                    pair: tally(30, 0, 899),
                    address: tally(30, 0, 899),
                    ..Default::default()
                },
                900,
                None,
            ),
            // 20 failures from one address: closed for the rest of its window.
            (
                Tallies {
                    address: tally(20, 0, 60),
                    ..Default::default()
                },
                100,
                Some(800),
            ),
            // A subject under attack from many addresses: the rightful address that has
            // not failed goes ahead…
            (
                Tallies {
                    pair: None,
                    address: None,
                    subject: tally(500, 0, 200),
                },
                200,
                None,
            ),
            // …one that failed twice waits 4 s after its last failure.
            (
                Tallies {
                    pair: tally(2, 100, 199),
                    address: tally(2, 100, 199),
                    subject: tally(500, 0, 200),
                },
                200,
                Some(3),
            ),
            // At the subject's limit (not beyond) one failure costs nothing.
            (
                Tallies {
                    pair: tally(1, 100, 199),
                    address: tally(1, 100, 199),
                    subject: tally(50, 0, 199),
                },
                199,
                None,
            ),
            // A delay that would run past the pair's window stops at its end.
            (
                Tallies {
                    pair: tally(14, 0, 600),
                    ..Default::default()
                },
                600,
                Some(300),
            ),
        ];
        for (i, (t, now, want)) in cases.into_iter().enumerate() {
            assert_eq!(wait(&LIMITS, &t, at(now)), want, "case {i}: {t:?}");
        }
    }

    #[test]
    fn a_guesser_from_one_address_gets_few_tries_and_the_owner_is_never_locked() {
        // A guesser retries as soon as allowed for a whole window from one address.
        let mut pair: Option<Tally> = None;
        let mut address: Option<Tally> = None;
        let mut subject: Option<Tally> = None;
        let mut tries = 0;
        let mut now = at(0);
        let end = at(0) + LIMITS.window;
        let bump = |t: &mut Option<Tally>, now| {
            *t = Some(match *t {
                Some(x) if now - x.window_start < LIMITS.window => Tally {
                    failures: x.failures + 1,
                    last_at: now,
                    ..x
                },
                _ => Tally {
                    failures: 1,
                    window_start: now,
                    last_at: now,
                },
            });
        };
        while now < end {
            let tallies = Tallies {
                pair,
                address,
                subject,
            };
            match wait(&LIMITS, &tallies, now) {
                Some(s) => now += Duration::seconds(i64::from(s)),
                None => {
                    tries += 1;
                    bump(&mut pair, now);
                    bump(&mut address, now);
                    bump(&mut subject, now);
                }
            }
            // The owner, from another address, with the right password: never held back.
            let owner = Tallies {
                pair: None,
                address: None,
                subject,
            };
            assert_eq!(wait(&LIMITS, &owner, now), None, "at {now}");
        }
        // 5 free, then 1+2+…+256 s = 511 s for 9 more; the 10th delay (512 s) runs past
        // the window.
        assert_eq!(tries, 14);
    }
}
