//! The store: the only module that speaks diesel. One code path for SQLite (the
//! embedded default) and PostgreSQL (production, several server processes on one
//! database); backend-specific SQL is a `match` on [`DbConnection`] inside this module.
//!
//! Everything here is synchronous: HTTP handlers call it on actix's blocking pool.

pub mod audit;
pub mod backup;
pub mod catalogue;
pub mod changes;
pub mod documents;
pub mod dossiers;
pub mod exports;
pub mod health;
pub mod new_dossier;
pub mod outbox;
pub mod petitions;
pub mod reports;
pub mod schema;
pub mod sessions;
pub mod throttle;
pub mod users;

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which database the URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Store failures, mapped by the HTTP layer: `NotFound` → 404, `Unavailable` → 503,
/// `Conflict` → 409, anything else → 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(diesel::result::Error),
    #[error("bad database URL: {0}")]
    BadUrl(String),
    #[error("migration failed: {0}")]
    Migration(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<diesel::result::Error> for StoreError {
    /// A lost or refused connection is the database being unavailable (503), not a fault
    /// of the request (500).
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                StoreError::Unavailable(e.to_string())
            }
            Error::DatabaseError(_, info)
                if [
                    "server closed the connection",
                    "terminating connection",
                    "could not connect",
                    "no connection to the server",
                    "could not receive data",
                    "could not send data",
                    "canceling statement due to statement timeout",
                    "the database system is shutting down",
                    "the database system is starting up",
                ]
                .iter()
                .any(|m| info.message().contains(m)) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}

impl From<r2d2::PoolError> for StoreError {
    fn from(e: r2d2::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Opens connections of the backend chosen from the URL scheme (diesel's own
/// `MultiConnection::establish` tries each backend in turn, and SQLite accepts any path).
#[derive(Debug, Clone)]
pub struct Manager {
    backend: Backend,
    /// The PostgreSQL URL (with its bounded waits), or the SQLite file path.
    target: String,
    busy_timeout_ms: u32,
    sqlite_cache_mb: u32,
    sqlite_mmap_mb: u32,
    timeouts: crate::config::DbTimeouts,
    /// When the health monitor last failed to reach the database: the pool's connections
    /// from before may be dead.
    outage: std::sync::Arc<Outage>,
}

/// The last time the database could not be reached (see [`Manager::is_valid`]).
#[derive(Debug)]
pub struct Outage {
    epoch: std::time::Instant,
    /// Milliseconds since `epoch`, plus one (0: never).
    last_ms: std::sync::atomic::AtomicU64,
}

impl Default for Outage {
    fn default() -> Self {
        Self {
            epoch: std::time::Instant::now(),
            last_ms: Default::default(),
        }
    }
}

/// For how long after an outage each connection is pinged as it leaves the pool.
const RECHECK_AFTER_OUTAGE: Duration = Duration::from_secs(60);

impl Outage {
    pub(crate) fn note(&self) {
        self.last_ms.store(
            self.epoch.elapsed().as_millis() as u64 + 1,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn recent(&self) -> bool {
        match self.last_ms.load(std::sync::atomic::Ordering::Relaxed) {
            0 => false,
            last => {
                (self.epoch.elapsed().as_millis() as u64).saturating_sub(last)
                    < RECHECK_AFTER_OUTAGE.as_millis() as u64
            }
        }
    }
}

/// A PostgreSQL URL with the connection's bounded waits: `connect_timeout`, TCP keepalives
/// and, since a silent peer acknowledges nothing, `tcp_user_timeout`. Parameters already in
/// the URL are kept.
fn pg_url_with_timeouts(url: &str, t: &crate::config::DbTimeouts) -> String {
    let params = [
        ("connect_timeout", t.connect_s.to_string()),
        ("keepalives", "1".into()),
        ("keepalives_idle", t.keepalives_idle_s.to_string()),
        ("keepalives_interval", "10".into()),
        ("keepalives_count", "3".into()),
        (
            "tcp_user_timeout",
            (u64::from(t.keepalives_idle_s) * 1000).to_string(),
        ),
    ];
    let mut out = url.to_string();
    for (k, v) in params {
        if out.contains(&format!("{k}=")) {
            continue;
        }
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(&format!("{k}={v}"));
    }
    out
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match self.backend {
            Backend::Postgres => {
                let mut c =
                    PgConnection::establish(&self.target).map_err(r2d2::Error::ConnectionError)?;
                // The server ends what runs or idles too long in a transaction.
                c.batch_execute(&format!(
                    "SET statement_timeout = {}; SET idle_in_transaction_session_timeout = {};",
                    self.timeouts.statement_ms, self.timeouts.idle_in_transaction_ms
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgresql(c))
            }
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(&self.target)
                    .map_err(r2d2::Error::ConnectionError)?;
                c.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -{}; PRAGMA mmap_size = {};",
                    self.busy_timeout_ms,
                    u64::from(self.sqlite_cache_mb) * 1024,
                    u64::from(self.sqlite_mmap_mb) << 20
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(c))
            }
        }
    }

    /// Free, except within a minute after the health monitor could not reach the
    /// database: then a ping, so that a connection that died in the outage is dropped
    /// and another taken instead of failing the request that drew it (a login right
    /// after `/healthz` said ok again answered 503).
    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        if !self.outage.recent() {
            return Ok(());
        }
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

/// Parses a database URL: `sqlite://PATH` (or `sqlite:PATH`), `postgres://…`.
pub fn parse_url(url: &str) -> StoreResult<(Backend, String)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_string()));
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(StoreError::BadUrl("sqlite URL without a file path".into()));
        }
        return Ok((Backend::Sqlite, path.to_string()));
    }
    Err(StoreError::BadUrl(
        "expected sqlite://PATH or postgres://…".into(),
    ))
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub pool_size: u32,
    pub busy_timeout_ms: u32,
    /// SQLite: page cache per connection, in MB (the pages are allocated as they are
    /// used; SQLite's own default is 2 MB, which a table of a million dossiers outgrows).
    pub sqlite_cache_mb: u32,
    /// SQLite: the file read through memory mapping up to this size, in MB (0: off):
    /// reads of a large database's pages without a system call each, shared by the
    /// connections through the operating system's cache.
    pub sqlite_mmap_mb: u32,
    /// Bounded waits: connecting, checking a connection out of the pool, statements.
    pub timeouts: crate::config::DbTimeouts,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            pool_size: 8,
            busy_timeout_ms: 5000,
            sqlite_cache_mb: 64,
            sqlite_mmap_mb: 2048,
            timeouts: crate::config::DbTimeouts::default(),
        }
    }
}

/// A pool of connections to one database.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Manager>,
    /// Callers waiting for a pooled connection now.
    waiting: std::sync::Arc<std::sync::atomic::AtomicI64>,
    backend: Backend,
    /// SQLite has one writer at a time: writers of this process queue here instead of
    /// sleeping in SQLite's busy handler (whose back-off inflates tail latency).
    sqlite_writer: std::sync::Arc<std::sync::Mutex<()>>,
    /// The database's health, watched apart from the pool.
    health: std::sync::Arc<health::Health>,
    /// How many candidates a search text may name before the search reads in order
    /// instead (`dossiers::SEARCH_CANDIDATES`; lowered by tests to take both ways).
    search_cap: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// The search texts lately seen naming more candidates than the cap in a scope: their
    /// candidates are not counted again (`dossiers::CommonTexts`).
    common_texts: std::sync::Arc<dossiers::CommonTexts>,
    /// The requests' statement timeout (PostgreSQL), lifted while migrating.
    statement_ms: u32,
    /// Write transactions committed by this process: what was read before may have
    /// changed when it moves (the work queue's cached counts).
    writes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// What changed since a reader read it, here and (PostgreSQL) in the other
    /// processes: the public lookup's cache rests on it (see [`changes`]).
    changes: std::sync::Arc<changes::Changes>,
}

/// Advisory lock keys (PostgreSQL) for commands that must not run twice at once.
/// Takes the transaction-level advisory lock `key` if free (PostgreSQL): false when
/// another session holds it — the caller leaves the work to that one.
pub(crate) fn try_xact_lock(c: &mut diesel::PgConnection, key: i64) -> diesel::QueryResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Got {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        got: bool,
    }
    let Got { got } = diesel::RunQueryDsl::get_result(
        diesel::sql_query(format!("SELECT pg_try_advisory_xact_lock({key}) AS got")),
        c,
    )?;
    Ok(got)
}

/// A transaction that writes a record to the WAL (a transactional logical message of a
/// few bytes: no table, no lock), so that its synchronous commit flushes the WAL up to
/// it — and every commit before it ([`Store::write_releasing_early`], [`Store::flush`]).
/// A transaction that only takes an id writes nothing before its commit record, and
/// PostgreSQL does not flush for it.
const FLUSH: &str = "SELECT pg_logical_emit_message(true, 'motcua.flush', '')";

/// [`FLUSH`] on `conn`; its failure leaves what was committed unconfirmed:
/// [`StoreError::Unavailable`], never a reason to write it again.
fn flush_on(conn: &mut DbConnection) -> StoreResult<()> {
    conn.batch_execute(FLUSH)
        .map_err(|e| StoreError::Unavailable(format!("the commits' flush was not confirmed: {e}")))
}

pub mod locks {
    pub const MIGRATE: i64 = 0x6d6f_7463_7561_0001;
    pub const CATALOGUE: i64 = 0x6d6f_7463_7561_0002;
}

impl Store {
    /// Opens a pool; a SQLite file and its directory are created on first use.
    pub fn open(url: &str, opts: &StoreOptions) -> StoreResult<Self> {
        let (backend, target) = parse_url(url)?;
        if backend == Backend::Sqlite && target != ":memory:" {
            let path = PathBuf::from(&target);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let target = match backend {
            Backend::Postgres => pg_url_with_timeouts(&target, &opts.timeouts),
            Backend::Sqlite => target,
        };
        let manager = Manager {
            backend,
            target,
            busy_timeout_ms: opts.busy_timeout_ms,
            sqlite_cache_mb: opts.sqlite_cache_mb,
            sqlite_mmap_mb: opts.sqlite_mmap_mb,
            timeouts: opts.timeouts,
            outage: Default::default(),
        };
        let health = std::sync::Arc::new(health::Health::new(manager.clone(), opts.timeouts));
        let changes = std::sync::Arc::new(changes::Changes::new(
            backend,
            &manager.target,
            health.clone(),
        ));
        let pool = Pool::builder()
            .max_size(opts.pool_size)
            .connection_timeout(Duration::from_millis(u64::from(opts.timeouts.pool_ms)))
            // A broken connection shows on use (and `has_broken`); a `SELECT 1` on every
            // checkout would double the round trips of a short request: only after an
            // outage (`Manager::is_valid`).
            .test_on_check_out(true)
            .build(manager)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            pool,
            waiting: Default::default(),
            backend,
            sqlite_writer: Default::default(),
            health,
            search_cap: std::sync::Arc::new(dossiers::SEARCH_CANDIDATES.into()),
            common_texts: Default::default(),
            statement_ms: opts.timeouts.statement_ms,
            writes: Default::default(),
            changes,
        })
    }

    /// The change feed (see [`changes`]).
    pub fn changes(&self) -> &changes::Changes {
        &self.changes
    }

    /// Starts listening to the other processes' changes (PostgreSQL; once): until the
    /// listener is connected, the lookup cache is not served. SQLite: nothing to do.
    pub fn watch_changes(&self) {
        self.changes.watch();
    }

    /// Whether the database answers, as the health monitor last saw it (see
    /// [`health::Health`]); always `None` before [`Store::watch_health`] started it.
    pub fn health(&self) -> &health::Health {
        &self.health
    }

    /// Starts the health monitor: a thread with its own connection that pings the database
    /// every `health_interval_ms` (the server does; commands do not need it).
    pub fn watch_health(&self) {
        health::Health::start(&self.health);
    }

    /// How many write transactions this process has committed (see `writes`).
    pub fn write_generation(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A pooled connection.
    pub fn conn(&self) -> StoreResult<PooledConnection<Manager>> {
        use std::sync::atomic::Ordering;
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let got = self.pool.get();
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        Ok(got?)
    }

    /// The pool now: its size, connections open and idle, callers waiting for one
    /// (`/metrics`).
    pub fn pool_gauges(&self) -> crate::metrics::PoolGauges {
        let state = self.pool.state();
        crate::metrics::PoolGauges {
            size: i64::from(self.pool.max_size()),
            open: i64::from(state.connections),
            idle: i64::from(state.idle_connections),
            waiting: self.waiting.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Outbox messages pending and parked (`/metrics`; on the outbox's state index).
    pub fn outbox_depth(&self) -> StoreResult<(i64, i64)> {
        use schema::outbox;
        let mut conn = self.conn()?;
        let rows: Vec<(String, i64)> = outbox::table
            .filter(outbox::state.eq_any(["pending", "parked"]))
            .group_by(outbox::state)
            .select((outbox::state, diesel::dsl::count_star()))
            .load(&mut *conn)?;
        let get = |s: &str| rows.iter().find(|r| r.0 == s).map_or(0, |r| r.1);
        Ok((get("pending"), get("parked")))
    }

    /// Applies pending migrations; returns the versions applied. On PostgreSQL an
    /// advisory lock keeps two starting processes from migrating at once.
    pub fn migrate(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.conn()?;
        let err =
            |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
        let applied = match &mut *conn {
            DbConnection::Sqlite(c) => c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(err)?
                .into_iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>(),
            DbConnection::Postgresql(c) => {
                // A migration rewrites whole tables (a minute at a million dossiers): the
                // requests' statement timeout does not apply to it, and comes back after.
                c.batch_execute(&format!(
                    "SELECT pg_advisory_lock({}); SET statement_timeout = 0",
                    locks::MIGRATE
                ))?;
                let r = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|v| v.into_iter().map(|m| m.to_string()).collect::<Vec<_>>())
                    .map_err(err);
                c.batch_execute(&format!(
                    "SET statement_timeout = {}; SELECT pg_advisory_unlock({})",
                    self.statement_ms,
                    locks::MIGRATE
                ))?;
                return r;
            }
        };
        Ok(applied)
    }

    /// Versions of the migrations embedded in this binary for this backend.
    pub fn embedded_migrations(&self) -> Vec<String> {
        use diesel::migration::MigrationSource;
        match self.backend {
            Backend::Sqlite => {
                MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                    .unwrap_or_default()
                    .iter()
                    .map(|m| m.name().version().to_string())
                    .collect()
            }
            Backend::Postgres => {
                MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
                    .unwrap_or_default()
                    .iter()
                    .map(|m| m.name().version().to_string())
                    .collect()
            }
        }
    }

    /// Versions already applied to the database.
    pub fn applied_migrations(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.conn()?;
        let err =
            |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
        let v = match &mut *conn {
            DbConnection::Sqlite(c) => {
                MigrationHarness::<diesel::sqlite::Sqlite>::applied_migrations(c).map_err(err)?
            }
            DbConnection::Postgresql(c) => {
                MigrationHarness::<diesel::pg::Pg>::applied_migrations(c).map_err(err)?
            }
        };
        Ok(v.into_iter().map(|v| v.to_string()).collect())
    }

    /// Reverts every applied migration (tests of `down.sql`).
    pub fn revert_all(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        let err =
            |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
        match &mut *conn {
            DbConnection::Sqlite(c) => {
                c.revert_all_migrations(SQLITE_MIGRATIONS).map_err(err)?;
            }
            DbConnection::Postgresql(c) => {
                c.revert_all_migrations(POSTGRES_MIGRATIONS).map_err(err)?;
            }
        }
        Ok(())
    }

    /// Reverts the newest applied migration (tests of a migration's own data filling);
    /// its version.
    pub fn revert_last(&self) -> StoreResult<String> {
        let mut conn = self.conn()?;
        let err =
            |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
        Ok(match &mut *conn {
            DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS).map_err(err)?,
            DbConnection::Postgresql(c) => {
                c.revert_last_migration(POSTGRES_MIGRATIONS).map_err(err)?
            }
        }
        .to_string())
    }

    /// Records `value` under `name` if absent; true when the stored value equals `value`.
    pub fn agree_on_fact(&self, name: &str, value: &str) -> StoreResult<bool> {
        use schema::instance_facts;
        self.write(Some(locks::CATALOGUE), |conn| {
            let stored: Option<String> = instance_facts::table
                .find(name)
                .select(instance_facts::value)
                .first(conn)
                .optional()?;
            match stored {
                Some(v) => Ok::<_, StoreError>(v == value),
                None => {
                    diesel::insert_into(instance_facts::table)
                        .values((
                            instance_facts::name.eq(name),
                            instance_facts::value.eq(value),
                        ))
                        .execute(conn)?;
                    Ok(true)
                }
            }
        })
    }

    /// How many tables the database holds (`motcua restore` wants none).
    pub fn table_count(&self) -> StoreResult<i64> {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.conn()?;
        let n: N = match &mut *conn {
            DbConnection::Postgresql(c) => diesel::sql_query(
                "SELECT count(*) AS n FROM information_schema.tables \
                 WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
            )
            .get_result(c)?,
            DbConnection::Sqlite(c) => diesel::sql_query(
                "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%'",
            )
            .get_result(c)?,
        };
        Ok(n.n)
    }

    /// Checks that the database answers.
    pub fn ping(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        conn.ping()?;
        Ok(())
    }

    /// Runs `f` in one write transaction: `BEGIN IMMEDIATE` on SQLite (the write lock is
    /// taken at once, so two writers never deadlock on the upgrade), and on PostgreSQL a
    /// transaction holding the advisory lock `lock` when given. Any error rolls back.
    pub fn write<T, E>(
        &self,
        lock: Option<i64>,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        self.transaction(lock, true, f)
    }

    /// [`Store::write`] for a command whose transaction holds a hot row until it ends (an
    /// intake batch: its agencies' code rows). On PostgreSQL its commit does not wait for
    /// its own WAL flush (`synchronous_commit = off` for this transaction only), so the
    /// row locks go as soon as the commit record is written, not an fsync later; then, on
    /// the same connection and before returning, [`FLUSH`] waits for the flush that
    /// covers it. Nobody is told of the result before it is durable. A transaction that
    /// read it meanwhile is later in the log, so a crash loses both or neither, and
    /// gap-free codes stay gap-free. A failed flush (the connection lost) leaves the
    /// result committed but unconfirmed: [`StoreError::Unavailable`], never a reason to
    /// write it again. SQLite: [`Store::write`].
    pub fn write_releasing_early<T, E>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        self.transaction_with(None, true, false, f)
    }

    /// Returns once everything committed so far — by any session — is on disk
    /// ([`FLUSH`]; PostgreSQL). Its failure leaves what was written unconfirmed: the
    /// database is unavailable, which is never a reason to write it again. SQLite: a
    /// commit is durable when it returns; nothing to do.
    pub fn flush(&self) -> StoreResult<()> {
        if self.backend == Backend::Sqlite {
            return Ok(());
        }
        flush_on(&mut *self.conn()?)
    }

    /// Runs `f` exactly as [`Store::write`] does — same transaction, locks, reads and
    /// checks — then rolls back whatever it wrote: a dry run (`?dry_run=true`).
    pub fn rehearse<T, E>(
        &self,
        lock: Option<i64>,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        self.transaction(lock, false, f)
    }

    /// Runs the reads of `f` on one connection, each statement planned once: on
    /// PostgreSQL in a read-only transaction where prepared statements keep their generic
    /// plan (`plan_cache_mode`) and plan no parallel workers. A queue page's statements
    /// carry a LIMIT and keys among their parameters, which made PostgreSQL plan them
    /// anew on every execution — half of its time under the page benchmark; their
    /// generic plans read the same indexes. SQLite: `f` as is.
    pub(crate) fn read_planned_once<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut pooled = self.conn()?;
        let conn: &mut DbConnection = &mut pooled;
        let DbConnection::Postgresql(c) = conn else {
            return f(conn);
        };
        AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN READ ONLY; SET LOCAL plan_cache_mode = force_generic_plan; \
             SET LOCAL max_parallel_workers_per_gather = 0",
        )?;
        match f(conn) {
            Ok(v) => {
                <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
                Ok(v)
            }
            Err(e) => {
                let _ =
                    <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
                Err(e)
            }
        }
    }

    fn transaction<T, E>(
        &self,
        lock: Option<i64>,
        commit: bool,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        self.transaction_with(lock, commit, true, f)
    }

    /// `flush_in_commit: false`: see [`Store::write_releasing_early`].
    fn transaction_with<T, E>(
        &self,
        lock: Option<i64>,
        commit: bool,
        flush_in_commit: bool,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        let _writer = match self.backend {
            Backend::Sqlite => Some(self.sqlite_writer.lock().unwrap_or_else(|p| p.into_inner())),
            Backend::Postgres => None,
        };
        let mut pooled = self.conn().map_err(E::from)?;
        let conn: &mut DbConnection = &mut pooled;
        match conn {
            DbConnection::Sqlite(c) => {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
            }
            DbConnection::Postgresql(c) => {
                if flush_in_commit {
                    AnsiTransactionManager::begin_transaction(c)?;
                } else {
                    AnsiTransactionManager::begin_transaction_sql(
                        c,
                        "BEGIN; SET LOCAL synchronous_commit = off",
                    )?;
                }
                if let Some(key) = lock {
                    if let Err(e) = c.batch_execute(&format!("SELECT pg_advisory_xact_lock({key})"))
                    {
                        let _ = AnsiTransactionManager::rollback_transaction(c);
                        return Err(e.into());
                    }
                }
            }
        }
        let touched = changes::Collecting::begin();
        match f(conn) {
            Ok(v) if commit => {
                let done =
                    <DbConnection as Connection>::TransactionManager::commit_transaction(conn);
                // Counted even when the commit's answer was lost: it may have landed.
                self.writes
                    .fetch_add(1, std::sync::atomic::Ordering::Release);
                // After the commit, never before: a reader must not read the old row
                // again after it was told to forget it.
                self.changes.committed(touched.finish());
                done?;
                if !flush_in_commit && self.backend == Backend::Postgres {
                    flush_on(conn)?;
                }
                Ok(v)
            }
            Ok(v) => {
                <DbConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
                Ok(v)
            }
            Err(e) => {
                let _ =
                    <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
                Err(e)
            }
        }
    }
}

impl DbConnection {
    fn ping(&mut self) -> diesel::QueryResult<()> {
        self.batch_execute("SELECT 1")
    }

    fn is_broken(&mut self) -> bool {
        match self {
            DbConnection::Sqlite(c) => R2D2Connection::is_broken(c),
            DbConnection::Postgresql(c) => R2D2Connection::is_broken(c),
        }
    }
}

/// A UTC moment as stored: naive, truncated to microseconds (PostgreSQL keeps
/// microseconds; SQLite keeps what it is given, so both get the same).
pub fn to_db(t: DateTime<Utc>) -> NaiveDateTime {
    let n = t.naive_utc();
    n.with_nanosecond(n.nanosecond() / 1000 * 1000).unwrap_or(n)
}

/// Moments written as JSON for PostgreSQL to read (`store::new_dossier`): to the
/// microsecond, truncated as diesel's binding truncates, so a row reads back alike
/// whichever way it was written.
pub(crate) mod micros {
    use chrono::NaiveDateTime;

    pub(crate) const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6f";

    pub fn one<S: serde::Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&t.format(FORMAT))
    }

    pub fn opt<S: serde::Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => one(t, s),
            None => s.serialize_none(),
        }
    }
}

/// A stored moment back to UTC.
pub fn from_db(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}
