//! What this process must forget when a dossier changes, and which guessers it must not
//! wave through: the ground under the public lookup's cache (`service::lookup`).
//!
//! - **Dossiers.** Every store function that writes what the public sees of a dossier (its
//!   row, events, documents) calls [`touch`] inside [`super::Store::write`]; after the
//!   commit the transaction wrapper bumps the generation of each touched code's shard
//!   ([`Changes::committed`]). A cached view carries the [`Stamp`] read *before* the
//!   dossier was read, and is served only while the stamp is still current: a change
//!   committed during the read spoils the entry before it is even stored.
//! - **Suspects.** Every failed guess at a lookup pin marks its tallies' keys (pair,
//!   address, code) until the end of the throttle window ([`Changes::suspect`]); at start
//!   and after every reconnection the live tallies are read once from the database
//!   ([`super::Store::seed_suspects`]). A lookup may skip the tally read only when none of
//!   its keys is suspect ([`Changes::clear_of`]).
//! - **Other processes (PostgreSQL).** Both kinds of change are handed after commit to a
//!   per-process notifier thread that batches them into one `pg_notify('motcua_changes',
//!   …)` every few milliseconds, outside any write transaction (a NOTIFY inside one takes
//!   a global lock at commit and would serialise every commit). A listener thread with a
//!   connection of its own applies the other processes' notifications; while it is not
//!   connected nothing is served from the cache, and every (re)connection starts a new
//!   epoch: every entry stored before is dropped and the suspects are read again.
//!
//! SQLite is one process: the in-process part is the whole of it.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::health::Health;
use super::Backend;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "motcua_changes";

/// Generation counters, one per shard of the codes: a change spoils the cached views of
/// its shard (a handful of dossiers at most), never the whole cache.
const SHARDS: usize = 4096;
/// Beyond this many suspect keys every lookup takes the slow path until they expire (a
/// guesser from many addresses must not make the set grow without bound).
const MAX_SUSPECTS: usize = 100_000;
/// How long the notifier gathers changes into one notification.
const BATCH: Duration = Duration::from_millis(3);
/// How often the listener looks for notifications on its connection (a non-blocking
/// read of the socket, no round trip) …
const POLL: Duration = Duration::from_millis(2);
/// … and pings the database.
const PING: Duration = Duration::from_secs(1);
/// A NOTIFY payload must stay under 8000 bytes.
const MAX_PAYLOAD: usize = 7_500;
/// Beyond this many pending codes (the database away for a while) the notifier tells the
/// others to forget everything instead.
const MAX_PENDING_CODES: usize = 20_000;

/// When a view was read: the epoch and its shard's generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    epoch: u64,
    generation: u64,
}

/// The change feed of one store (see the module's documentation).
pub struct Changes {
    generations: Box<[AtomicU64]>,
    /// Bumped when this process may have missed changes (the listener lost or regained
    /// its connection, or another process could not say what it changed).
    epoch: AtomicU64,
    /// The cache may be served: SQLite always; PostgreSQL while the listener is connected.
    live: AtomicBool,
    /// `epoch + 1` of the last reading of the suspects from the database (0: none yet).
    seeded: AtomicU64,
    suspects: RwLock<Suspects>,
    pg: Option<PgFeed>,
}

#[derive(Default)]
struct Suspects {
    /// `scope \0 key` → until when its tally may be live.
    until: HashMap<String, NaiveDateTime>,
    /// The set overflowed: everything is suspect until then.
    full_until: Option<NaiveDateTime>,
}

/// The PostgreSQL side: the URL the threads connect with, and the notifier.
struct PgFeed {
    url: String,
    /// Tells this process's notifications from the others'.
    instance: String,
    health: Arc<Health>,
    notifier: Mutex<Option<Notifier>>,
    listening: AtomicBool,
}

struct Notifier {
    tx: mpsc::Sender<Msg>,
    done: mpsc::Receiver<()>,
}

enum Msg {
    Dossiers(Vec<String>),
    Suspects(Vec<(String, i64)>),
}

/// One notification's payload.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Payload {
    from: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    dossiers: Vec<String>,
    /// `(scope \0 key, until)`, until in microseconds since the epoch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    suspects: Vec<(String, i64)>,
    /// Forget every cached view.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    all: bool,
}

thread_local! {
    /// The dossiers written by the write transaction running on this thread.
    static TOUCHED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Notes that the running write transaction changes what the public sees of dossier
/// `code` (its row, events or documents).
pub fn touch(code: &str) {
    TOUCHED.with(|t| match &mut *t.borrow_mut() {
        Some(v) => {
            if !v.iter().any(|c| c == code) {
                v.push(code.to_string());
            }
        }
        None => debug_assert!(false, "dossier {code} written outside Store::write"),
    });
}

/// Collects [`touch`]ed codes for one transaction (restoring any outer collection).
pub(super) struct Collecting {
    outer: Option<Option<Vec<String>>>,
}

impl Collecting {
    pub(super) fn begin() -> Self {
        Self {
            outer: Some(TOUCHED.with(|t| t.borrow_mut().replace(Vec::new()))),
        }
    }

    /// The codes touched since [`Collecting::begin`].
    pub(super) fn finish(mut self) -> Vec<String> {
        let outer = self.outer.take().unwrap_or_default();
        TOUCHED
            .with(|t| std::mem::replace(&mut *t.borrow_mut(), outer))
            .unwrap_or_default()
    }
}

impl Drop for Collecting {
    fn drop(&mut self) {
        if let Some(outer) = self.outer.take() {
            TOUCHED.with(|t| *t.borrow_mut() = outer);
        }
    }
}

fn shard(code: &str) -> usize {
    // A fixed hash: the same code falls in the same shard in every process.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    code.hash(&mut h);
    (h.finish() % SHARDS as u64) as usize
}

fn suspect_key(scope: &str, key: &str) -> String {
    format!("{scope}\u{0}{key}")
}

/// `url` with the connection's `application_name` (seen in `pg_stat_activity`).
fn named(url: &str, name: &str) -> String {
    if url.contains("application_name=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={name}")
}

fn micros(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

fn from_micros(us: i64) -> Option<NaiveDateTime> {
    chrono::DateTime::from_timestamp_micros(us).map(|t| t.naive_utc())
}

impl Changes {
    /// `pg_url`: the PostgreSQL URL (with its bounded waits) the threads connect with.
    pub(super) fn new(backend: Backend, pg_url: &str, health: Arc<Health>) -> Self {
        let pg = (backend == Backend::Postgres).then(|| {
            let mut bytes = [0u8; 8];
            let _ = getrandom::fill(&mut bytes);
            PgFeed {
                url: pg_url.to_string(),
                instance: format!("{}-{}", std::process::id(), hex::encode(bytes)),
                health,
                notifier: Mutex::new(None),
                listening: AtomicBool::new(false),
            }
        });
        Self {
            generations: (0..SHARDS).map(|_| AtomicU64::new(0)).collect(),
            epoch: AtomicU64::new(0),
            live: AtomicBool::new(pg.is_none()),
            seeded: AtomicU64::new(0),
            suspects: Default::default(),
            pg,
        }
    }

    /// Read before reading a dossier whose view may be cached.
    pub fn stamp(&self, code: &str) -> Stamp {
        Stamp {
            epoch: self.epoch.load(Ordering::Acquire),
            generation: self.generations[shard(code)].load(Ordering::Acquire),
        }
    }

    /// Whether what was read of `code` at `stamp` may still be served.
    pub fn current(&self, code: &str, stamp: Stamp) -> bool {
        self.live.load(Ordering::Acquire) && self.stamp(code) == stamp
    }

    /// After the commit of a write transaction that touched `codes` (or whose commit's
    /// answer was lost: it may have landed).
    pub(super) fn committed(&self, codes: Vec<String>) {
        if codes.is_empty() {
            return;
        }
        self.forget(&codes);
        self.send(Msg::Dossiers(codes));
    }

    fn forget(&self, codes: &[String]) {
        for c in codes {
            self.generations[shard(c)].fetch_add(1, Ordering::AcqRel);
        }
    }

    fn forget_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether an attempt with these tally keys may skip reading the tallies: the cache is
    /// live, the suspects have been read since the last (re)connection, and none of the
    /// keys has failed within its window (`now`: the attempt's moment).
    pub fn clear_of(&self, keys: &[(&str, &str)], now: NaiveDateTime) -> bool {
        if !self.live.load(Ordering::Acquire)
            || self.seeded.load(Ordering::Acquire) != self.epoch.load(Ordering::Acquire) + 1
        {
            return false;
        }
        let s = self.suspects.read().unwrap_or_else(|p| p.into_inner());
        if s.full_until.is_some_and(|u| u > now) {
            return false;
        }
        if s.until.is_empty() {
            return true;
        }
        keys.iter().all(|(scope, key)| {
            s.until
                .get(&suspect_key(scope, key))
                .is_none_or(|until| *until <= now)
        })
    }

    /// Marks `keys` suspect until `until` (a failure at `now`), here and in the other
    /// processes.
    pub fn suspect(&self, keys: &[(&str, &str)], now: NaiveDateTime, until: NaiveDateTime) {
        let keys: Vec<String> = keys.iter().map(|(s, k)| suspect_key(s, k)).collect();
        self.add_suspects(keys.iter().map(|k| (k.clone(), until)), Some(now));
        self.send(Msg::Suspects(
            keys.into_iter().map(|k| (k, micros(until))).collect(),
        ));
    }

    fn add_suspects(
        &self,
        keys: impl Iterator<Item = (String, NaiveDateTime)>,
        now: Option<NaiveDateTime>,
    ) {
        let mut s = self.suspects.write().unwrap_or_else(|p| p.into_inner());
        if let Some(now) = now {
            if s.until.len() >= MAX_SUSPECTS / 2 {
                s.until.retain(|_, u| *u > now);
            }
        }
        for (k, until) in keys {
            if s.until.len() >= MAX_SUSPECTS && !s.until.contains_key(&k) {
                s.full_until = Some(s.full_until.map_or(until, |f| f.max(until)));
                continue;
            }
            let e = s.until.entry(k).or_insert(until);
            *e = (*e).max(until);
        }
    }

    /// The epoch whose suspects have not been read from the database yet.
    pub(super) fn needs_seed(&self) -> Option<u64> {
        let e = self.epoch.load(Ordering::Acquire);
        (self.live.load(Ordering::Acquire) && self.seeded.load(Ordering::Acquire) != e + 1)
            .then_some(e)
    }

    /// The live tallies read at `epoch`: `(scope, key, until)`.
    pub(super) fn seeded(&self, epoch: u64, rows: Vec<(String, String, NaiveDateTime)>) {
        self.add_suspects(
            rows.into_iter().map(|(s, k, u)| (suspect_key(&s, &k), u)),
            None,
        );
        self.seeded.fetch_max(epoch + 1, Ordering::AcqRel);
    }

    /// Hands a change to the notifier thread (PostgreSQL), started at the first.
    fn send(&self, msg: Msg) {
        let Some(pg) = &self.pg else { return };
        let mut n = pg.notifier.lock().unwrap_or_else(|p| p.into_inner());
        if n.is_none() {
            let (tx, rx) = mpsc::channel();
            let (done_tx, done) = mpsc::channel();
            let (url, instance) = (named(&pg.url, "motcua-notify"), pg.instance.clone());
            let spawned = std::thread::Builder::new()
                .name("motcua-notify".into())
                .spawn(move || run_notifier(&url, &instance, rx, done_tx));
            match spawned {
                Ok(_) => *n = Some(Notifier { tx, done }),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the change notifier");
                    return;
                }
            }
        }
        if let Some(n) = n.as_ref() {
            let _ = n.tx.send(msg);
        }
    }

    /// Starts the listener thread (PostgreSQL; once): until it is connected, nothing is
    /// served from the cache.
    pub fn watch(self: &Arc<Self>) {
        let Some(pg) = &self.pg else { return };
        if pg.listening.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak = Arc::downgrade(self);
        let url = named(&pg.url, "motcua-listen");
        if let Err(e) = std::thread::Builder::new()
            .name("motcua-listen".into())
            .spawn(move || run_listener(weak, &url))
        {
            tracing::error!(error = %e, "cannot start the change listener");
        }
    }

    /// The listener connected (and listening): a new epoch, every older entry dropped.
    fn up(&self) {
        self.forget_all();
        self.live.store(true, Ordering::Release);
    }

    /// The listener lost its connection: nothing served until it is back.
    fn down(&self) {
        if self.live.swap(false, Ordering::AcqRel) {
            tracing::warn!(
                "change listener disconnected: the lookup cache is off until it reconnects"
            );
        }
        self.forget_all();
    }

    /// Applies another process's notification.
    fn heard(&self, payload: &str) {
        let Some(pg) = &self.pg else { return };
        let p: Payload = match serde_json::from_str(payload) {
            Ok(p) => p,
            Err(e) => {
                // Not ours to read: forget everything rather than miss a change.
                tracing::warn!(error = %e, "unreadable change notification");
                self.forget_all();
                return;
            }
        };
        if p.from == pg.instance {
            return;
        }
        if p.all {
            self.forget_all();
        }
        self.forget(&p.dossiers);
        if !p.suspects.is_empty() {
            self.add_suspects(
                p.suspects
                    .into_iter()
                    .filter_map(|(k, us)| from_micros(us).map(|u| (k, u))),
                None,
            );
        }
    }
}

impl Drop for Changes {
    /// Lets the notifier send what is pending (a command that exits right after its
    /// write), for at most two seconds.
    fn drop(&mut self) {
        let Some(pg) = &self.pg else { return };
        let n = pg.notifier.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(Notifier { tx, done }) = n {
            drop(tx);
            let _ = done.recv_timeout(Duration::from_secs(2));
        }
    }
}

/// What the notifier has still to say.
#[derive(Default)]
struct Pending {
    dossiers: BTreeSet<String>,
    suspects: Vec<(String, i64)>,
    all: bool,
}

impl Pending {
    fn add(&mut self, m: Msg) {
        match m {
            Msg::Dossiers(codes) if !self.all => {
                self.dossiers.extend(codes);
                if self.dossiers.len() > MAX_PENDING_CODES {
                    self.dossiers.clear();
                    self.all = true;
                }
            }
            Msg::Dossiers(_) => {}
            Msg::Suspects(keys) => self.suspects.extend(keys),
        }
        if self.suspects.len() > MAX_PENDING_CODES {
            // The newest failures matter most; the others' tallies are in the database,
            // read again by anyone who reconnects.
            let cut = self.suspects.len() - MAX_PENDING_CODES;
            self.suspects.drain(..cut);
        }
    }

    fn is_empty(&self) -> bool {
        !self.all && self.dossiers.is_empty() && self.suspects.is_empty()
    }

    /// The payloads, each under [`MAX_PAYLOAD`] bytes.
    fn payloads(&self, from: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut p = Payload {
            from: from.to_string(),
            all: self.all,
            ..Default::default()
        };
        let base = serde_json::to_string(&p).unwrap_or_default().len() + 32;
        let mut size = base;
        let mut flush = |p: &mut Payload, size: &mut usize| {
            if !p.dossiers.is_empty() || !p.suspects.is_empty() || p.all {
                out.push(serde_json::to_string(&*p).unwrap_or_default());
            }
            p.dossiers.clear();
            p.suspects.clear();
            p.all = false;
            *size = base;
        };
        for c in &self.dossiers {
            let n = serde_json::to_string(c).unwrap_or_default().len() + 1;
            if size + n > MAX_PAYLOAD {
                flush(&mut p, &mut size);
            }
            p.dossiers.push(c.clone());
            size += n;
        }
        for s in &self.suspects {
            let n = serde_json::to_string(s).unwrap_or_default().len() + 1;
            if size + n > MAX_PAYLOAD {
                flush(&mut p, &mut size);
            }
            p.suspects.push(s.clone());
            size += n;
        }
        flush(&mut p, &mut size);
        out
    }
}

/// The notifier thread: gathers changes for [`BATCH`], then says them in one
/// `pg_notify` (split under 8000 bytes) on a connection of its own, outside any write
/// transaction; on failure, reconnects and says them again.
fn run_notifier(url: &str, instance: &str, rx: mpsc::Receiver<Msg>, done: mpsc::Sender<()>) {
    let mut conn: Option<PgConnection> = None;
    let mut pending = Pending::default();
    let mut closed = false;
    let mut failures = 0u32;
    loop {
        if pending.is_empty() && !closed {
            match rx.recv() {
                Ok(m) => pending.add(m),
                Err(_) => closed = true,
            }
        }
        let until = Instant::now() + BATCH;
        while !closed {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match rx.recv_timeout(left) {
                Ok(m) => pending.add(m),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => closed = true,
            }
        }
        if !pending.is_empty() {
            match say(&mut conn, url, &pending.payloads(instance)) {
                Ok(()) => {
                    pending = Pending::default();
                    failures = 0;
                }
                Err(e) => {
                    failures += 1;
                    conn = None;
                    if failures == 1 {
                        tracing::warn!(error = %e, "cannot notify the other processes; retrying");
                    }
                    if closed && failures >= 3 {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
            }
        }
        if closed {
            break;
        }
    }
    let _ = done.send(());
}

fn say(conn: &mut Option<PgConnection>, url: &str, payloads: &[String]) -> QueryResult<()> {
    if conn.is_none() {
        let mut c = PgConnection::establish(url).map_err(|e| {
            diesel::result::Error::QueryBuilderError(format!("connecting: {e}").into())
        })?;
        // A notification needs a transaction id, hence a commit record: with the
        // default, every one waited for its own WAL flush, an fsync competing with the
        // writes' commits (two processes, two of them every few milliseconds). It is
        // delivered at commit either way; lost in a crash, it is not missed — the
        // listeners lose their connections too and start a new epoch (module doc).
        c.batch_execute("SET synchronous_commit = off")?;
        *conn = Some(c);
    }
    let c = conn.as_mut().expect("set above");
    for p in payloads {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(CHANNEL)
            .bind::<diesel::sql_types::Text, _>(p)
            .execute(c)?;
    }
    Ok(())
}

/// The listener thread: `LISTEN` on a connection of its own, then every [`POLL`] the
/// notifications received, a ping every [`PING`]; a lost connection (or the health
/// monitor seeing the database silent) turns the cache off until it is back. Ends when
/// the store is gone.
fn run_listener(changes: Weak<Changes>, url: &str) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let Some(c) = changes.upgrade() else { return };
        let conn = PgConnection::establish(url)
            .map_err(|e| e.to_string())
            .and_then(|mut conn| {
                conn.batch_execute(&format!("LISTEN {CHANNEL}"))
                    .map(|_| conn)
                    .map_err(|e| e.to_string())
            });
        let mut conn = match conn {
            Ok(conn) => conn,
            Err(e) => {
                c.down();
                tracing::debug!(error = %e, "change listener cannot connect");
                drop(c);
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        c.up();
        drop(c);
        backoff = Duration::from_millis(50);
        let mut pinged = Instant::now();
        loop {
            std::thread::sleep(POLL);
            let Some(c) = changes.upgrade() else { return };
            let mut lost = false;
            for n in conn.notifications_iter() {
                match n {
                    Ok(n) => c.heard(&n.payload),
                    Err(_) => {
                        lost = true;
                        break;
                    }
                }
            }
            if !lost && pinged.elapsed() >= PING {
                lost = conn.batch_execute("SELECT 1").is_err();
                pinged = Instant::now();
            }
            let silent =
                c.pg.as_ref()
                    .is_some_and(|pg| pg.health.healthy() == Some(false));
            if lost || silent {
                c.down();
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_790_000_000 + s, 0)
            .unwrap()
            .naive_utc()
    }

    fn sqlite() -> Changes {
        let m = super::super::Manager {
            backend: Backend::Sqlite,
            target: ":memory:".into(),
            busy_timeout_ms: 0,
            sqlite_cache_mb: 1,
            sqlite_mmap_mb: 0,
            timeouts: Default::default(),
            outage: Default::default(),
        };
        let health = Arc::new(Health::new(m, Default::default()));
        Changes::new(Backend::Sqlite, "", health)
    }

    #[test]
    fn a_commit_spoils_the_stamps_read_before_it() {
        let c = sqlite();
        let s = c.stamp("A-1");
        assert!(c.current("A-1", s));
        c.committed(vec!["A-1".into()]);
        assert!(!c.current("A-1", s));
        assert!(c.current("A-1", c.stamp("A-1")));
    }

    #[test]
    fn touched_codes_are_collected_per_transaction() {
        let outer = Collecting::begin();
        touch("A-1");
        touch("A-1");
        let inner = Collecting::begin();
        touch("B-2");
        assert_eq!(inner.finish(), vec!["B-2".to_string()]);
        touch("C-3");
        assert_eq!(outer.finish(), vec!["A-1".to_string(), "C-3".to_string()]);
    }

    #[test]
    fn suspects_need_a_seed_and_expire_with_their_window() {
        let c = sqlite();
        let keys = [
            ("lookup_pair", "A-1 1.2.3.4"),
            ("lookup_address", "1.2.3.4"),
        ];
        // Not seeded yet: the tallies must be read.
        assert!(!c.clear_of(&keys, at(0)));
        let e = c.needs_seed().unwrap();
        c.seeded(e, vec![]);
        assert!(c.clear_of(&keys, at(0)));
        c.suspect(&[("lookup_address", "1.2.3.4")], at(0), at(900));
        assert!(!c.clear_of(&keys, at(899)));
        assert!(c.clear_of(&keys, at(900)));
        assert!(c.clear_of(&[("lookup_address", "5.6.7.8")], at(1)));
    }

    #[test]
    fn payloads_stay_under_the_limit() {
        let mut p = Pending::default();
        p.add(Msg::Dossiers(
            (0..2000)
                .map(|i| format!("000.00.51.H26-260310-{i:04}"))
                .collect(),
        ));
        p.add(Msg::Suspects(vec![("lookup_code\u{0}x\"\n".into(), 1)]));
        let out = p.payloads("me");
        assert!(out.len() > 1);
        let mut codes = 0;
        for s in &out {
            assert!(s.len() < 8000, "{}", s.len());
            let back: Payload = serde_json::from_str(s).unwrap();
            codes += back.dossiers.len();
        }
        assert_eq!(codes, 2000);
    }
}
