//! The citizen's status lookup (*tra cứu tình trạng hồ sơ*) by dossier code and pin. A
//! failure looks the same whether or not the code exists, and guesses are throttled
//! ([`super::guesses`]): an exponential delay per code and address, a limit per address,
//! and a delay for every failing address when a code is guessed at from many.
//!
//! **The cache.** A right lookup stores the dossier's public view with its pin's hash
//! ([`LookupCache`]); the next right lookup of that code is answered from memory, with
//! no database round trip, when (a) no change of the dossier was committed since it was
//! read (the store's change feed, [`crate::store::changes`]: in this process at once
//! after the commit, from the other PostgreSQL processes within a few milliseconds
//! through LISTEN/NOTIFY, nothing served while the listener is disconnected), and (b)
//! none of the attempt's tallies (pair, address, code) can exist: every failure marks
//! them suspect until the end of its window, here and in the other processes, and the
//! live tallies are read once at start. A wrong pin, an unknown code, anything suspect
//! takes the full path below, exactly as without the cache, so a failure costs and
//! looks the same whether or not the code exists.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::App;
use crate::core::applicant::mask_name;
use crate::core::dossier::Status;
use crate::core::pin;
use crate::error::{AppError, AppResult};
use crate::store::changes::Stamp;
use crate::store::{from_db, to_db};

/// What a citizen proves to see a dossier.
#[derive(Debug, Clone)]
pub enum Proof {
    Pin(String),
    /// No pin given: the same 404 as a wrong one. (The last 4 digits of the ID number
    /// are not accepted: see the README, *Citizens*.)
    Nothing,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgencyRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusChange {
    pub at: DateTime<Utc>,
    pub status: String,
    pub label: &'static str,
}

/// What the public sees: no staff names, no ID numbers, no papers.
#[derive(Debug, Clone, Serialize)]
pub struct PublicDossier {
    pub code: String,
    pub procedure: AgencyRef,
    pub status: String,
    pub status_label: &'static str,
    /// An online submission's arrival, and by when the desk answers it (NĐ 118/2025
    /// Art. 17(2)); none at the counter.
    pub submitted_at: Option<DateTime<Utc>>,
    pub acknowledge_by: Option<DateTime<Utc>>,
    /// None until the official receipt.
    pub received_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub reappointed_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub current_agency: AgencyRef,
    pub result_ready: bool,
    pub applicant_name: String,
    pub history: Vec<StatusChange>,
    /// The applicant has rated the service (once, after return).
    pub rated: bool,
    /// What the applicant is asked to do now: the papers of a supplement (*yêu cầu bổ
    /// sung*, NĐ 118/2025 Art. 19) or of a correction of an online submission, and why.
    pub requested: Option<Requested>,
    /// The fee of the procedure (*phí, lệ phí*, of the version the dossier was received
    /// under) and what has been paid; `None` when the procedure has none.
    pub fee: Option<FeeDue>,
    /// The electronic results the applicant can download with the pin, once the result
    /// is ready.
    pub results: Vec<PublicResult>,
    /// The JSON API's body for this view, rendered once by `http::public` and kept with
    /// it while it is cached (a view never changes once built).
    #[serde(skip)]
    pub rendered: std::sync::OnceLock<String>,
}

/// A procedure's fee and what the applicant has paid, in đồng.
#[derive(Debug, Clone, Serialize)]
pub struct FeeDue {
    pub amount: i64,
    pub paid: i64,
    /// What is left to pay (never below 0).
    pub outstanding: i64,
}

/// An electronic result document (*kết quả điện tử*): no content, no owner's ID number.
#[derive(Debug, Clone, Serialize)]
pub struct PublicResult {
    /// `<dossier code>-KQ<n>`: what the download names.
    pub id: String,
    pub name: String,
    pub number: Option<String>,
    pub issued_on: chrono::NaiveDate,
}

/// A request to the applicant still open: its kind, papers and reason.
#[derive(Debug, Clone, Serialize)]
pub struct Requested {
    /// `supplement` or `correction`.
    pub kind: &'static str,
    pub at: DateTime<Utc>,
    pub items: Vec<String>,
    pub reason: String,
}

/// The one answer to every failed lookup.
pub fn lookup_not_found() -> AppError {
    AppError::new(
        crate::error::ErrorKind::NotFound,
        "not_found",
        "Không tìm thấy hồ sơ, hoặc mã tra cứu không đúng",
    )
}

/// Shards of the cache, each behind its own lock.
const CACHE_SHARDS: usize = 16;
/// Views kept at most (all shards): a few MB.
const CACHE_ENTRIES: usize = 8192;
/// A view is read again after this long even without a known change: a bound on what a
/// lost notification, or a command writing beside a SQLite server, can leave stale.
const CACHE_MAX_AGE: Duration = Duration::from_secs(60);

/// The public views of dossiers lately looked up, by code, each with its pin's hash and
/// the change feed's [`Stamp`] read before the dossier was; and the fees of procedure
/// versions (a version's fee never changes). Nothing else: no pin, no ID number.
pub struct LookupCache {
    shards: Box<[Mutex<HashMap<String, Cached>>]>,
    fees: Mutex<HashMap<(String, i32), i64>>,
}

struct Cached {
    stamp: Stamp,
    pin_hash: String,
    view: Arc<PublicDossier>,
    at: Instant,
}

impl Default for LookupCache {
    fn default() -> Self {
        Self {
            shards: (0..CACHE_SHARDS).map(|_| Default::default()).collect(),
            fees: Default::default(),
        }
    }
}

impl LookupCache {
    fn shard(&self, code: &str) -> &Mutex<HashMap<String, Cached>> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        code.hash(&mut h);
        &self.shards[(h.finish() % CACHE_SHARDS as u64) as usize]
    }

    /// The view of `code` if its pin hashes to `pin_hash` and `current` holds for the
    /// stamp it was read at.
    fn get(
        &self,
        code: &str,
        pin_hash: &str,
        current: impl Fn(Stamp) -> bool,
    ) -> Option<Arc<PublicDossier>> {
        use subtle::ConstantTimeEq;
        let shard = self.shard(code).lock().unwrap_or_else(|p| p.into_inner());
        let c = shard.get(code)?;
        let right: bool = c.pin_hash.as_bytes().ct_eq(pin_hash.as_bytes()).into();
        (right && c.at.elapsed() < CACHE_MAX_AGE && current(c.stamp)).then(|| c.view.clone())
    }

    fn put(&self, pin_hash: String, view: Arc<PublicDossier>, stamp: Stamp) {
        let mut shard = self
            .shard(&view.code)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // What is past its age is never served again: out with it, so that the memory
        // held follows the lookups of the last minute, not every code ever looked up.
        if shard.len() >= 16 {
            shard.retain(|_, c| c.at.elapsed() < CACHE_MAX_AGE);
        }
        if shard.len() >= CACHE_ENTRIES / CACHE_SHARDS && !shard.contains_key(&view.code) {
            // Out with the oldest (the shard is small: a scan is cheap beside the read).
            let oldest = shard
                .iter()
                .min_by_key(|(_, c)| c.at)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                shard.remove(&k);
            }
        }
        shard.insert(
            view.code.clone(),
            Cached {
                stamp,
                pin_hash,
                view,
                at: Instant::now(),
            },
        );
    }
}

/// The actor name of events recorded by the applicant (not a valid username).
pub const APPLICANT_ACTOR: &str = "(applicant)";

impl App {
    /// The applicant's rating (*đánh giá mức độ hài lòng*), proven by code and pin, once,
    /// after return. Failures count like failed lookups.
    pub fn rate_as_applicant(
        &self,
        code: &str,
        pin_given: &str,
        score: crate::core::machine::Satisfaction,
        comment: Option<String>,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<super::processing::Recorded> {
        let (d, _) = self.prove(code, &Proof::Pin(pin_given.to_string()), address, now)?;
        let caller = super::Caller {
            username: APPLICANT_ACTOR.into(),
            full_name: String::new(),
            role: super::Role::Applicant,
            agency: d.receiving_agency.clone(),
            address: Some(address.to_string()),
        };
        self.record_event(
            &caller,
            &d.code,
            &crate::core::machine::Event::Rate { score, comment },
            now,
        )
    }

    pub fn lookup(
        &self,
        code: &str,
        proof: &Proof,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<PublicDossier> {
        self.lookup_shared(code, proof, address, now)
            .map(|v| (*v).clone())
    }

    /// [`App::lookup`], the view shared with the cache.
    pub fn lookup_shared(
        &self,
        code: &str,
        proof: &Proof,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Arc<PublicDossier>> {
        match self.lookup_cached(code, proof, address, now) {
            Some(v) => Ok(v),
            None => self.lookup_uncached(code, proof, address, now),
        }
    }

    /// The cache's answer, or `None`: then [`App::lookup_uncached`]. Memory only (no
    /// database, no blocking): the HTTP handlers call it on the async executor. Only a
    /// right pin of a cached dossier, changed since by no one, from an attempt none of
    /// whose tallies may exist, is answered here.
    pub fn lookup_cached(
        &self,
        code: &str,
        proof: &Proof,
        address: &str,
        now: DateTime<Utc>,
    ) -> Option<Arc<PublicDossier>> {
        let Proof::Pin(given) = proof else {
            return None;
        };
        let code = code.trim();
        if code.len() > 64 {
            return None;
        }
        let given = pin::normalise_pin(given)?;
        let guess = super::guesses::Guess::lookup(self, code, address);
        if !self.unsuspected(&guess, now) {
            return None;
        }
        let hash = pin::hash_pin(&self.keys.pin, code, &given);
        let changes = self.store.changes();
        self.lookups
            .get(code, &hash, |stamp| changes.current(code, stamp))
    }

    /// The lookup through the database (tallies, dossier, events), whose view is then
    /// cached.
    pub fn lookup_uncached(
        &self,
        code: &str,
        proof: &Proof,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Arc<PublicDossier>> {
        if let Err(e) = self.store.seed_suspects(
            &super::guesses::LOOKUP_SCOPES,
            to_db(now),
            self.settings.lookup_limits.window,
        ) {
            // The fast path waits for them; this lookup goes on as ever.
            tracing::debug!(error = %e, "cannot read the lookup tallies");
        }
        // Before the dossier is read: a change committed meanwhile spoils the entry.
        let stamp = self.store.changes().stamp(code.trim());
        let (d, events) = self.prove(code, proof, address, now)?;
        let pin_hash = d.pin_hash.clone();
        let view = Arc::new(self.public_view(d, events)?);
        self.lookups.put(pin_hash, view.clone(), stamp);
        Ok(view)
    }

    /// The dossier `code` if `proof` holds; failures are limited per address and code and
    /// all look the same.
    pub(crate) fn prove(
        &self,
        code: &str,
        proof: &Proof,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<(
        crate::store::dossiers::DossierRow,
        Vec<crate::store::dossiers::EventRow>,
    )> {
        let code = code.trim();
        let guess = super::guesses::Guess::lookup(self, code, address);
        let pair_failed = self.hold_guess(&guess, now)?;
        let found = if code.len() <= 64 {
            self.store.find_dossier_with_events(code)?
        } else {
            None
        };
        let ok = match (&found, proof) {
            (Some((d, _)), Proof::Pin(p)) => match pin::normalise_pin(p) {
                Some(p) => pin::verify_pin(&self.keys.pin, &d.code, &p, &d.pin_hash),
                None => false,
            },
            (None, Proof::Pin(p)) => {
                // Same work as a real check.
                let _ = pin::verify_pin(&self.keys.pin, code, p, "");
                false
            }
            _ => false,
        };
        if !ok {
            self.failed_guess(&guess, now)?;
            return Err(lookup_not_found());
        }
        self.good_guess(&guess, pair_failed)?;
        Ok(found.expect("checked"))
    }

    fn public_view(
        &self,
        d: crate::store::dossiers::DossierRow,
        events: Vec<crate::store::dossiers::EventRow>,
    ) -> AppResult<PublicDossier> {
        let status = Status::parse(&d.status).unwrap_or(Status::Received);
        let agency = |code: &str| AgencyRef {
            code: code.to_string(),
            name: self
                .agencies
                .get(code)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
        };
        let mut history: Vec<StatusChange> = Vec::new();
        for e in &events {
            if history.last().is_none_or(|h| h.status != e.status_after) {
                let s = Status::parse(&e.status_after).unwrap_or(Status::Received);
                history.push(StatusChange {
                    at: from_db(e.at),
                    status: e.status_after.clone(),
                    label: s.label_vi(),
                });
            }
        }
        let procedure_name = self
            .catalogue
            .get(&d.procedure_code)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        Ok(PublicDossier {
            code: d.code.clone(),
            procedure: AgencyRef {
                code: d.procedure_code.clone(),
                name: procedure_name,
            },
            status: d.status.clone(),
            status_label: status.label_vi(),
            submitted_at: events
                .iter()
                .find(|e| e.kind == "submit")
                .map(|e| from_db(e.at)),
            // The limit of the current round, while it waits for the desk.
            acknowledge_by: events
                .iter()
                .rev()
                .find(|e| matches!(e.kind.as_str(), "submit" | "resubmit"))
                .and_then(|e| serde_json::from_str::<serde_json::Value>(&e.payload).ok())
                .and_then(|v| {
                    v.get("acknowledge_by")
                        .and_then(|x| x.as_str())
                        .and_then(|x| DateTime::parse_from_rfc3339(x).ok())
                })
                .map(|t| t.with_timezone(&Utc))
                .filter(|_| status == Status::Submitted),
            received_at: d.received_at.map(from_db),
            due_at: d.due_at.map(from_db),
            reappointed_at: d.reappointed_at.map(from_db),
            finished_at: d.finished_at.map(from_db),
            current_agency: agency(&d.current_agency),
            result_ready: d.result_ready,
            applicant_name: mask_name(&d.applicant_name),
            rated: events.iter().any(|e| e.kind == "rate"),
            requested: requested(&d.status, &events),
            fee: self.fee_due(&d.procedure_code, d.procedure_version, &events)?,
            results: if d.result_ready || status == Status::Returned {
                crate::store::documents::documents_of_dossier(&mut *self.store.conn()?, &d.code)?
                    .into_iter()
                    .filter(|x| x.kind == "result" && x.sha256.is_some())
                    .map(|x| PublicResult {
                        id: x.id,
                        name: x.name,
                        number: x.number,
                        issued_on: x.issued_on,
                    })
                    .collect()
            } else {
                Vec::new()
            },
            history,
            rendered: Default::default(),
        })
    }
}

impl App {
    /// The fee of version `version` of procedure `code` (0: none), read once: a
    /// version's fee never changes.
    fn fee_of(&self, code: &str, version: i32) -> AppResult<i64> {
        let key = (code.to_string(), version);
        if let Some(fee) = self
            .lookups
            .fees
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(*fee);
        }
        let fee = self
            .store
            .procedure_history(code)?
            .into_iter()
            .find(|v| v.version == version)
            .map(|v| v.fee)
            .unwrap_or(0);
        self.lookups
            .fees
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, fee);
        Ok(fee)
    }

    /// The fee of version `version` of procedure `code`, and the payments recorded.
    fn fee_due(
        &self,
        code: &str,
        version: i32,
        events: &[crate::store::dossiers::EventRow],
    ) -> AppResult<Option<FeeDue>> {
        let fee = self.fee_of(code, version)?;
        if fee <= 0 {
            return Ok(None);
        }
        let paid: i64 = events
            .iter()
            .filter(|e| e.kind == "payment")
            .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.payload).ok())
            .filter_map(|v| v["amount"].as_i64())
            .sum();
        let amount = fee;
        Ok(Some(FeeDue {
            amount,
            paid,
            outstanding: (amount - paid).max(0),
        }))
    }
}

/// The open request of a dossier in status `status`: the last request of its kind.
fn requested(status: &str, events: &[crate::store::dossiers::EventRow]) -> Option<Requested> {
    let (kind, event) = match status {
        "supplement_requested" => ("supplement", "request_supplement"),
        "needs_correction" => ("correction", "request_correction"),
        _ => return None,
    };
    let e = events.iter().rev().find(|e| e.kind == event)?;
    let v: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
    Some(Requested {
        kind,
        at: from_db(e.at),
        items: v["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        reason: v["reason"].as_str().unwrap_or_default().to_string(),
    })
}
