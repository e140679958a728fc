//! The archive sweep (*hủy tài liệu hết thời hạn lưu trữ*): stored content is removed when
//! every file and document that holds it is past its retention (Luật Lưu trữ 2024; the
//! retention class comes from the catalogue) and no open dossier reuses it; content that
//! no row records at all (a crash between writing a file and committing its row) and
//! stray temporary uploads are removed after a grace period. A dry run by default.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use crate::app::App;
use crate::core::catalogue::retain_until;
use crate::error::{AppError, AppResult};
use crate::store::audit::{self, Actor, AuditEntry};
use crate::store::documents::{self, BlobUse};
use crate::store::{from_db, to_db, StoreError};

/// One content the sweep removes (or would remove).
#[derive(Debug, Clone, Serialize)]
pub struct Removal {
    pub sha256: String,
    pub size: i64,
    /// `expired` (every holder past retention) or `orphan` (no row records it).
    pub reason: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SweepReport {
    pub applied: bool,
    pub removals: Vec<Removal>,
    /// Stored contents examined.
    pub examined: usize,
    /// Temporary uploads removed (only when applied).
    pub temporary_removed: usize,
}

/// Whether `u` may go on `today`: every file past the retention of its dossier's
/// procedure counted from the dossier's end, every document past its `retain_until`, and
/// no open dossier reusing it. Permanent classes and unfinished dossiers keep it.
pub fn expired(
    u: &BlobUse,
    today: NaiveDate,
    offset: chrono::FixedOffset,
    retention_of: &dyn Fn(&str) -> String,
) -> bool {
    if u.reused_by_open_dossiers || (u.files.is_empty() && u.documents.is_empty()) {
        return false;
    }
    let files_done = u.files.iter().all(|(procedure, finished)| match finished {
        None => false,
        Some(f) => {
            let end = from_db(*f).with_timezone(&offset).date_naive();
            retain_until(&retention_of(procedure), end).is_some_and(|d| d < today)
        }
    });
    let docs_done = u.documents.iter().all(|r| r.is_some_and(|d| d < today));
    files_done && docs_done
}

impl App {
    /// Lists (and with `apply`, removes) what is past retention or recorded by nothing.
    pub fn archive_sweep(&self, apply: bool, now: DateTime<Utc>) -> AppResult<SweepReport> {
        let today = self.today(now);
        let retention_of = |procedure: &str| {
            self.catalogue
                .get(procedure)
                .map(|p| p.retention.clone())
                .unwrap_or_else(|| "permanent".into())
        };
        let uses = self.store.blob_uses()?;
        let mut report = SweepReport {
            applied: apply,
            examined: uses.len(),
            ..SweepReport::default()
        };
        for u in &uses {
            if expired(u, today, self.settings.offset, &retention_of) {
                report.removals.push(Removal {
                    sha256: u.blob.sha256.clone(),
                    size: u.blob.size,
                    reason: "expired",
                });
            }
        }
        let grace = Duration::hours(i64::from(self.settings.sweep_grace_hours));
        let known = self.store.known_blobs()?;
        let stored = self.files.list().map_err(|e| {
            tracing::error!(error = %e, "cannot list the file store");
            AppError::internal()
        })?;
        for (sha, modified) in stored {
            let age = now - DateTime::<Utc>::from(modified);
            if !known.contains(&sha) && age > grace {
                report.removals.push(Removal {
                    size: 0,
                    sha256: sha,
                    reason: "orphan",
                });
            }
        }
        if !apply {
            return Ok(report);
        }
        let actor = Actor {
            username: "(archive-sweep)".into(),
            role: "system".into(),
            address: None,
        };
        for r in &report.removals {
            if r.reason == "expired" {
                // The row first: once marked, nothing serves the content any more.
                self.store.write(None, |conn| {
                    documents::mark_removed(conn, &r.sha256, to_db(now))?;
                    audit::append(
                        conn,
                        AuditEntry {
                            actor: &actor,
                            at: to_db(now),
                            action: "archive.remove",
                            entity: "blob",
                            entity_id: &r.sha256,
                            detail: json!({ "size": r.size, "reason": r.reason }),
                        },
                    )?;
                    Ok::<_, StoreError>(())
                })?;
            }
            match self.files.remove(&r.sha256) {
                Ok(_) => {
                    tracing::info!(sha256 = %r.sha256, size = r.size, reason = r.reason, "archive sweep removed stored content")
                }
                Err(e) => {
                    tracing::error!(sha256 = %r.sha256, error = %e, "archive sweep could not remove stored content")
                }
            }
        }
        report.temporary_removed = self
            .files
            .clean_temporary(grace.to_std().unwrap_or_default())
            .map_err(|e| {
                tracing::error!(error = %e, "cannot clean temporary uploads");
                AppError::internal()
            })?;
        Ok(report)
    }
}
