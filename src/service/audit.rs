//! The sealer of the audit trail and of the rollup (issue #18; docs/audit.md): a thread
//! of every server process that, every `[audit] checkpoint_interval_s` seconds,
//! checkpoints the audit records committed since the last checkpoint
//! ([`crate::store::Store::seal_audit`], one process at a time) and folds the rollup's
//! deltas into the daily rollup ([`crate::store::Store::compact_rollup`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::app::App;
use crate::error::AppResult;
use crate::store::to_db;

/// What one round of the sealer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SealRound {
    /// Checkpoints written, and the records they sealed.
    pub checkpoints: u64,
    pub records: u64,
    /// The last checkpoint written this round.
    pub last_checkpoint: Option<i64>,
    /// Rollup deltas folded into the daily rollup.
    pub deltas: u64,
    /// Guessing tallies forgotten, their window past.
    pub tallies_pruned: u64,
}

impl App {
    /// Seals every audit record committed by now (in checkpoints of at most `[audit]
    /// seal_batch` records) and folds the rollup's deltas. Safe to run from several
    /// processes at once: one seals, the others find nothing to do.
    pub fn seal(&self, now: DateTime<Utc>) -> AppResult<SealRound> {
        let mut round = SealRound::default();
        let batch = i64::from(self.settings.audit_seal_batch);
        while let Some(c) = self.store.seal_audit(&self.keys.audit, to_db(now), batch)? {
            round.checkpoints += 1;
            round.records += c.records as u64;
            round.last_checkpoint = Some(c.seq);
            // The server's log is a witness outside the database: compare it with what
            // `motcua audit verify` prints.
            tracing::info!(
                checkpoint = c.seq,
                records = c.records,
                sealed = c.last_seal,
                chain_hash = %c.chain_hash,
                "audit: checkpoint"
            );
            if c.records < batch {
                break;
            }
        }
        round.deltas = self.store.compact_rollup()?;
        // The guessing tallies whose window has passed count nothing any more.
        let longest = [
            self.settings.login_limits.window,
            self.settings.lookup_limits.window,
            self.submission_limits().window,
        ]
        .into_iter()
        .max()
        .unwrap_or_default();
        round.tallies_pruned = self.store.prune_throttle(to_db(now - longest))? as u64;
        Ok(round)
    }
}

/// Starts the sealer thread; it stops when `stop` is set.
pub fn start_sealer(app: Arc<App>, stop: Arc<AtomicBool>) -> std::io::Result<()> {
    let every = Duration::from_secs(u64::from(app.settings.audit_checkpoint_interval_s));
    std::thread::Builder::new()
        .name("motcua-sealer".into())
        .spawn(move || {
            let mut failing = false;
            while !stop.load(Ordering::Relaxed) {
                match app.seal(app.clock.now()) {
                    Ok(_) => failing = false,
                    Err(e) => {
                        if !failing {
                            tracing::warn!(error = %e, "audit: the sealer cannot write; trying again");
                        }
                        failing = true;
                    }
                }
                // Sleep in short steps so that a stop is seen soon.
                let mut left = every;
                while !left.is_zero() && !stop.load(Ordering::Relaxed) {
                    let step = left.min(Duration::from_millis(200));
                    std::thread::sleep(step);
                    left -= step;
                }
            }
        })?;
    Ok(())
}
