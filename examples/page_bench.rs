//! The page benchmark (issue #14): the dossier page (`GET /ho-so/{code}`) and the search
//! page (`GET /ho-so?q=…`) of the real server over N synthetic dossiers (default
//! 1,000,000), each beside a bare actix-web route serving a same-size HTML body (the
//! ceiling), measured in the same run. Target: p99 ≤ 20 ms.
//!
//! ```text
//! cargo build --release                       # the server binary under test, first
//! cargo run --release --example page_bench -- 1000000 [--keep]
//! MOTCUA_TEST_PG_URL=postgres://motcua:motcua@127.0.0.1:5432/motcua \
//!   cargo run --release --example page_bench -- 1000000 [--keep]
//! cargo run --release --example page_bench -- --reuse URL [--reuse URL2]
//! ```
//!
//! Without `--reuse`: SQLite always (`--backend` to choose), and PostgreSQL when
//! `MOTCUA_TEST_PG_URL` names a role that may create databases (a fresh database is
//! created, and dropped unless `--keep`). The dossiers are made by `App::seed_load(n,
//! 2025, 7)`, the generator behind `motcua seed-load`. `--keep` keeps the databases and
//! prints the `--reuse URL` to measure them again without seeding.
//!
//! The generator gives every dossier the agencies that hold it (`dossier_agencies`, which
//! the staff search's scope reads) and a Vietnamese applicant name from a realistic
//! distribution (Nguyễn 38 %, Trần 11 %, …; a middle name, a given name), so that name
//! searches hit as many dossiers as they would in real data. After seeding PostgreSQL the
//! benchmark runs `VACUUM ANALYZE`, as autovacuum would.
//!
//! Then, for each backend, the release server binary (`target/release/motcua`, one
//! process, `RUST_LOG=warn`, the shipped `config/`) is started on the database, and for
//! two accounts — a **ward clerk** of the commune with the most dossiers and the
//! **province inspector** at the root agency (scope: every dossier) — logged in over HTTP
//! (`GET /dang-nhap` for the CSRF token and its cookie, `POST /dang-nhap` for the session
//! cookie), C client threads (`--clients`, default 8), each with one keep-alive
//! connection and one request in flight, measure:
//!
//! 1. **dossier page** — `GET /ho-so/{code}` over a random sample of codes in the
//!    account's scope (read from the database), the four tabs in turn; each answer must be
//!    200 and contain the code;
//! 2. **search page** — `GET /ho-so?q=…` over a mix of queries: a code prefix, a code
//!    prefix in the real `agency-YYMMDD` form (no seeded code has it: nothing matches), an
//!    ID number from the data, a folded name fragment (`nguyen thi`), a full name with
//!    diacritics from the data, and a status + date range without text; each answer must
//!    be 200 and contain `<table` or `Không có hồ sơ`;
//! 3. **ceiling** — a bare actix-web route in this process answering every path with a
//!    fixed copy of a real page of the same kind (same bytes), with the same clients.
//!
//! Then, as a ward official of the same commune, the **work queue** (issue #15): `GET
//! /hang-doi?tab=cho-xu-ly&trang=1…5`, 50 lines a page with the counts of the role's six
//! tabs, beside the bare route with the same bytes.
//!
//! Then, as the province inspector, the **leaders' dashboard** (issue #16): `GET
//! /bao-cao` over the seeded year for the root agency with the agencies below, grouped by
//! agency and by month in turn (each page reads three reports and draws four charts),
//! beside the JSON report of the same filters (`GET /api/v1/reports/indicators`, bearer
//! token) and the bare route with the page's bytes. Target: p99 ≤ 300 ms
//! (`--dashboard-only` measures it alone).
//!
//! Warm-up requests are excluded. A batch stops early when it exceeds `--budget` seconds
//! (the figures then cover the requests completed). The last lines are a Markdown table:
//! backend | page | account | figure | ceiling | ratio | p99 ≤ 20 ms.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail, Context};
use chrono::{NaiveDate, TimeZone, Utc};
use clap::{Parser, ValueEnum};
use diesel::{Connection, RunQueryDsl};

use motcua::app::App;
use motcua::config::{Config, Overrides};
use motcua::error::ErrorKind;
use motcua::service::accounts::{cli_actor, NewUser};
use motcua::service::dossiers::ListQuery;
use motcua::service::{Caller, Role};
use motcua::store::DbConnection;

/// The server secret of the benchmark's databases (so that a kept one can be reused).
const SECRET: &str = "page-bench-secret-not-for-production-5e8a1c7f3b92d046";
const PASSWORD: &str = "mat-khau-do-trang-hieu-nang-2026";
const CLERK: &str = "pagebench.clerk";
const INSPECTOR: &str = "pagebench.inspector";
const OFFICIAL: &str = "pagebench.official";
/// The seed of `seed_load` (as `report_bench`).
const SEED: u64 = 7;
/// The acceptance target of issue #14.
const TARGET_MS: f64 = 20.0;
/// The dashboard's target (issue #16).
const DASHBOARD_MS: f64 = 300.0;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    Both,
}

/// Dossier page and search page of the motcua server at N dossiers, beside a bare route.
#[derive(Parser)]
#[command(name = "page_bench")]
struct Args {
    /// Dossiers to seed (ignored with --reuse).
    #[arg(default_value_t = 1_000_000)]
    n: usize,
    /// Keep the seeded databases (prints their --reuse URL).
    #[arg(long)]
    keep: bool,
    /// Measure a kept database again, without seeding (repeatable).
    #[arg(long)]
    reuse: Vec<String>,
    /// Backends to seed and measure (default: SQLite, and PostgreSQL when
    /// MOTCUA_TEST_PG_URL is set).
    #[arg(long, value_enum)]
    backend: Option<BackendArg>,
    /// Concurrent clients (threads, one keep-alive connection and request in flight each).
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Measured dossier-page requests per account (and bare-route requests for its ceiling).
    #[arg(long, default_value_t = 4000)]
    pages: usize,
    /// Measured search-page requests per account (and bare-route requests for its ceiling).
    #[arg(long, default_value_t = 2000)]
    searches: usize,
    /// Dossier codes sampled per account.
    #[arg(long, default_value_t = 1000)]
    sample: usize,
    /// Longest a batch (warm-up, then measure) may run, in seconds; it stops early after.
    #[arg(long, default_value_t = 90)]
    budget: u64,
    /// Runs of each search through the library, in-process, to see where the time goes
    /// (0: none).
    #[arg(long, default_value_t = 3)]
    library_runs: usize,
    /// The server binary (default: `motcua` next to this example's directory).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Measure a server binary even if it is older than the sources.
    #[arg(long)]
    allow_stale_binary: bool,
    /// Measure the work queue only (skip the dossier and search pages).
    #[arg(long)]
    queue_only: bool,
    /// Measure the leaders' dashboard only (skip the other pages).
    #[arg(long)]
    dashboard_only: bool,
    /// Measured dashboard requests (and JSON reports, and bare-route requests).
    #[arg(long, default_value_t = 400)]
    dashboards: usize,
}

// ─── HTTP/1.1 client (blocking, keep-alive) ─────────────────────────────────

struct Client {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
    /// When the connection last finished an exchange.
    last_used: Instant,
}

/// A connection idle longer than this is reopened before the next request, as a browser
/// does: actix-web closes a keep-alive connection after 5 s idle, and a client waiting at
/// the barrier between warm-up and measure (behind slow requests of others) would
/// otherwise send on a connection the server has just closed.
const IDLE_REOPEN: Duration = Duration::from_secs(4);

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of cookie `name` set by this response.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.header_all("set-cookie").find_map(|v| {
            let first = v.split(';').next()?.trim();
            let (n, val) = first.split_once('=')?;
            (n == name).then(|| val.to_string())
        })
    }
}

fn bad(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

fn read_line(r: &mut impl BufRead, line: &mut String) -> std::io::Result<()> {
    line.clear();
    if r.read_line(line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before the response ended",
        ));
    }
    while line.ends_with(['\r', '\n']) {
        line.pop();
    }
    Ok(())
}

impl Client {
    fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            conn: None,
            last_used: Instant::now(),
        }
    }

    fn connected(addr: SocketAddr) -> Self {
        let mut c = Self::new(addr);
        let _ = c.connect();
        c
    }

    fn connect(&mut self) -> std::io::Result<()> {
        let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(10))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(300)))?;
        s.set_write_timeout(Some(Duration::from_secs(30)))?;
        self.conn = Some(BufReader::with_capacity(64 * 1024, s));
        self.last_used = Instant::now();
        Ok(())
    }

    /// One request on the kept-alive connection (opened when needed). No retry: a
    /// failure is reported, and the connection is dropped.
    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> std::io::Result<Response> {
        if self.conn.is_some() && self.last_used.elapsed() > IDLE_REOPEN {
            self.conn = None;
        }
        if self.conn.is_none() {
            self.connect()?;
        }
        let r = self.exchange(method, path, headers, body);
        self.last_used = Instant::now();
        match &r {
            Ok((_, keep)) if *keep => {}
            _ => self.conn = None,
        }
        r.map(|(res, _)| res)
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> std::io::Result<(Response, bool)> {
        let addr = self.addr;
        let conn = self.conn.as_mut().expect("connected");
        let mut req = Vec::with_capacity(512 + body.map_or(0, <[u8]>::len));
        write!(req, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n")?;
        for (k, v) in headers {
            write!(req, "{k}: {v}\r\n")?;
        }
        write!(
            req,
            "Content-Length: {}\r\n\r\n",
            body.map_or(0, <[u8]>::len)
        )?;
        if let Some(b) = body {
            req.extend_from_slice(b);
        }
        conn.get_mut().write_all(&req)?;

        let mut line = String::new();
        read_line(conn, &mut line)?;
        let keep_default = line.starts_with("HTTP/1.1");
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("bad status line {line:?}")))?;
        let mut length = None;
        let mut chunked = false;
        let mut keep = keep_default;
        let mut hs = Vec::new();
        loop {
            read_line(conn, &mut line)?;
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| bad(format!("bad header {line:?}")))?;
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| bad("bad content-length"))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    keep = false;
                } else if v.contains("keep-alive") {
                    keep = true;
                }
            }
            hs.push((name.to_string(), value.to_string()));
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                read_line(conn, &mut line)?;
                let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| bad(format!("bad chunk size {line:?}")))?;
                if size == 0 {
                    loop {
                        read_line(conn, &mut line)?;
                        if line.is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let start = body.len();
                body.resize(start + size, 0);
                conn.read_exact(&mut body[start..])?;
                read_line(conn, &mut line)?;
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            conn.read_exact(&mut body)?;
        } else if status != 204 && status != 304 && status >= 200 && status != 303 {
            conn.read_to_end(&mut body)?;
            keep = false;
        }
        Ok((
            Response {
                status,
                headers: hs,
                body,
            },
            keep,
        ))
    }
}

fn describe(status: u16, body: &[u8]) -> String {
    let b = String::from_utf8_lossy(body);
    format!("HTTP {status}: {}", b.chars().take(300).collect::<String>())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

// ─── measurement ────────────────────────────────────────────────────────────

/// A measured batch: the latency of each completed request with its index.
struct Batch {
    wall: Duration,
    latencies: Vec<(usize, Duration)>,
    errors: Vec<String>,
    /// The warm-up requests done, and whether the batch stopped on its time budget.
    warmed: usize,
    cut: bool,
}

/// Nearest-rank percentile.
fn pct_of(v: &mut [Duration], p: f64) -> Duration {
    v.sort_unstable();
    if v.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

impl Batch {
    fn measured(&self) -> usize {
        self.latencies.len()
    }

    fn rate(&self) -> f64 {
        self.measured() as f64 / self.wall.as_secs_f64()
    }

    fn all(&self) -> Vec<Duration> {
        self.latencies.iter().map(|(_, d)| *d).collect()
    }

    fn pct(&self, p: f64) -> Duration {
        pct_of(&mut self.all(), p)
    }

    fn max(&self) -> Duration {
        self.all().into_iter().max().unwrap_or_default()
    }

    fn summary(&self, unit: &str) -> String {
        format!(
            "{} {unit} in {:.2} s = {} {unit}/s; latency p50 {}, p99 {}, max {}; errors {}{}",
            self.measured(),
            self.wall.as_secs_f64(),
            thousands(self.rate()),
            ms(self.pct(50.0)),
            ms(self.pct(99.0)),
            ms(self.max()),
            self.errors.len(),
            if self.cut {
                " (stopped on the time budget)"
            } else {
                ""
            }
        )
    }
}

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 10_000.0 {
        format!("{v:.1} ms")
    } else {
        format!("{:.1} s", v / 1000.0)
    }
}

fn thousands(v: f64) -> String {
    if v < 100.0 {
        return format!("{v:.1}");
    }
    let n = v.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Runs `warmup` then `total` operations over `threads` threads, each with its state from
/// `init` (e.g. its connection). The clock starts when every thread has finished warming
/// up and stops when the last operation has returned. Operation `i` of the measured batch
/// gets index `warmup + i`. Neither phase starts a new operation after `budget`.
fn run_batch<S>(
    threads: usize,
    warmup: usize,
    total: usize,
    budget: Duration,
    init: impl Fn() -> S + Sync,
    op: impl Fn(&mut S, usize) -> Result<(), String> + Sync,
) -> Batch {
    let warm_next = AtomicUsize::new(0);
    let warm_done = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let barrier = Barrier::new(threads + 1);
    let errors = Mutex::new(Vec::new());
    let began = Instant::now();
    let cut = std::sync::atomic::AtomicBool::new(false);
    let (wall, parts) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut state = init();
                    loop {
                        if began.elapsed() > budget {
                            cut.store(true, Ordering::Relaxed);
                            break;
                        }
                        let i = warm_next.fetch_add(1, Ordering::Relaxed);
                        if i >= warmup {
                            break;
                        }
                        if let Err(e) = op(&mut state, i) {
                            errors.lock().unwrap().push(format!("warm-up: {e}"));
                        }
                        warm_done.fetch_add(1, Ordering::Relaxed);
                    }
                    barrier.wait();
                    let start = Instant::now();
                    let mut lat = Vec::new();
                    loop {
                        if start.elapsed() > budget {
                            cut.store(true, Ordering::Relaxed);
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            break;
                        }
                        let t0 = Instant::now();
                        let r = op(&mut state, warmup + i);
                        lat.push((warmup + i, t0.elapsed()));
                        if let Err(e) = r {
                            errors.lock().unwrap().push(e);
                        }
                    }
                    lat
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let parts: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        (start.elapsed(), parts)
    });
    Batch {
        wall,
        latencies: parts.into_iter().flatten().collect(),
        errors: errors.into_inner().unwrap(),
        warmed: warm_done.into_inner(),
        cut: cut.into_inner(),
    }
}

fn warmup_of(total: usize, clients: usize, cap: usize) -> usize {
    (total / 10).min(cap).max(clients * 2)
}

// ─── the server under test ──────────────────────────────────────────────────

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

struct Server {
    addr: SocketAddr,
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Server {
    fn start(bin: &Path, db_url: &str, data_dir: &Path) -> anyhow::Result<Server> {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse()?;
        let mut child = Command::new(bin)
            .arg("--config-dir")
            .arg("config")
            .arg("serve")
            .env_remove("MOTCUA_CONFIG_DIR")
            .env_remove("MOTCUA_LOG_FORMAT")
            .env("MOTCUA_DATABASE_URL", db_url)
            .env("MOTCUA_DATA_DIR", data_dir)
            .env("MOTCUA_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .env("MOTCUA_BIND", addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let output = Arc::new(Mutex::new(String::new()));
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let into = output.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(out);
                let mut line = String::new();
                while matches!(r.read_line(&mut line), Ok(n) if n > 0) {
                    into.lock().unwrap().push_str(&line);
                    line.clear();
                }
            });
        }
        let mut s = Server {
            addr,
            child,
            output,
        };
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Ok(r) = Client::new(addr).request("GET", "/healthz", &[], None) {
                if r.status == 200 {
                    return Ok(s);
                }
            }
            if let Some(st) = s.child.try_wait()? {
                std::thread::sleep(Duration::from_millis(100));
                bail!("the server exited ({st}):\n{}", s.output());
            }
            if Instant::now() > deadline {
                bail!(
                    "the server did not answer /healthz within 300 s:\n{}",
                    s.output()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Server output without terminal colour codes.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The newest modification time of the files the binary is built from (templates and
/// static files are compiled in).
fn newest_source(root: &Path) -> anyhow::Result<(SystemTime, PathBuf)> {
    fn walk(p: &Path, best: &mut (SystemTime, PathBuf)) -> std::io::Result<()> {
        let meta = std::fs::metadata(p)?;
        if meta.is_dir() {
            for e in std::fs::read_dir(p)? {
                walk(&e?.path(), best)?;
            }
        } else {
            let m = meta.modified()?;
            if m > best.0 {
                *best = (m, p.to_path_buf());
            }
        }
        Ok(())
    }
    let mut best = (SystemTime::UNIX_EPOCH, PathBuf::new());
    for p in [
        "src",
        "migrations",
        "templates",
        "static",
        "build.rs",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        let p = root.join(p);
        if p.exists() {
            walk(&p, &mut best)?;
        }
    }
    Ok(best)
}

fn server_binary(args: &Args) -> anyhow::Result<PathBuf> {
    let bin = match &args.server_bin {
        Some(b) => b.clone(),
        None => {
            // target/release/examples/page_bench → target/release/motcua
            let exe = std::env::current_exe()?;
            exe.parent()
                .and_then(Path::parent)
                .map(|d| d.join("motcua"))
                .ok_or_else(|| {
                    anyhow!("cannot locate the target directory from {}", exe.display())
                })?
        }
    };
    let meta = std::fs::metadata(&bin).map_err(|_| {
        anyhow!(
            "the server binary {} is missing: run `cargo build --release` first",
            bin.display()
        )
    })?;
    let (newest, file) = newest_source(Path::new(env!("CARGO_MANIFEST_DIR")))?;
    if meta.modified()? < newest {
        let msg = format!(
            "the server binary {} is older than {}: run `cargo build --release` first \
             (or pass --allow-stale-binary)",
            bin.display(),
            file.display()
        );
        if args.allow_stale_binary {
            eprintln!("warning: {msg}");
        } else {
            bail!(msg);
        }
    }
    Ok(bin)
}

// ─── databases ──────────────────────────────────────────────────────────────

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct S {
    #[diesel(sql_type = diesel::sql_types::Text)]
    s: String,
}

#[derive(diesel::QueryableByName)]
struct AgencyCount {
    #[diesel(sql_type = diesel::sql_types::Text)]
    a: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn config_for(url: &str, dir: &Path) -> anyhow::Result<Config> {
    Config::load(
        Path::new("config"),
        &Overrides {
            database_url: Some(url.to_string()),
            data_dir: Some(dir.display().to_string()),
            secret: Some(SECRET.into()),
            ..Overrides::default()
        },
    )
    .map_err(|e| anyhow!("config: {e}"))
}

fn count(app: &App, sql: &str) -> anyhow::Result<i64> {
    let r: N = diesel::sql_query(sql).get_result(&mut *app.store.conn()?)?;
    Ok(r.n)
}

fn exec_on(conn: &mut DbConnection, sql: &str) -> anyhow::Result<usize> {
    Ok(diesel::sql_query(sql).execute(conn)?)
}

/// A SQL string literal (the values here are our own constants and codes).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// After seeding PostgreSQL, what autovacuum would do shortly after a bulk load: the
/// planner's statistics (the name search's plan depends on them). SQLite: the server
/// never runs ANALYZE there; only the WAL is folded back.
fn prepare(app: &App, label: &str, pg: bool) -> anyhow::Result<()> {
    let mut pooled = app.store.conn()?;
    let conn: &mut DbConnection = &mut pooled;
    let t = Instant::now();
    if pg {
        diesel::sql_query("SET statement_timeout = 0").execute(conn)?;
        exec_on(conn, "VACUUM ANALYZE")?;
        diesel::sql_query("RESET statement_timeout").execute(conn)?;
        println!(
            "{label}: VACUUM ANALYZE in {:.0} s (what autovacuum would do)",
            t.elapsed().as_secs_f64()
        );
    } else {
        let _ = exec_on(conn, "PRAGMA wal_checkpoint(TRUNCATE)");
    }
    Ok(())
}

// ─── accounts, samples, queries ─────────────────────────────────────────────

/// What a query value escapes: all but letters, digits and `-._~`.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A search of the mix: its kind, and what the form sends.
struct Query {
    kind: &'static str,
    q: String,
    from: Option<&'static str>,
    to: Option<&'static str>,
    status: Option<&'static str>,
}

impl Query {
    fn text(kind: &'static str, q: &str) -> Self {
        Query {
            kind,
            q: q.to_string(),
            from: None,
            to: None,
            status: None,
        }
    }

    fn path(&self) -> String {
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string();
        let mut p = format!("/ho-so?q={}", enc(&self.q));
        for (k, v) in [
            ("tu", self.from),
            ("den", self.to),
            ("trang-thai", self.status),
        ] {
            if let Some(v) = v {
                p.push_str(&format!("&{k}={}", enc(v)));
            }
        }
        p
    }

    /// The same search through the library, as the page makes it (51 rows).
    fn list_query(&self) -> ListQuery {
        let day = |d: Option<&str>| d.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        ListQuery {
            status: self.status.map(str::to_string),
            from: day(self.from),
            to: day(self.to),
            q: Some(self.q.clone()).filter(|q| !q.trim().is_empty()),
            limit: Some(51),
            ..ListQuery::default()
        }
    }
}

struct Account {
    label: String,
    username: &'static str,
    role: Role,
    agency: String,
    scope: Vec<String>,
    scope_dossiers: i64,
    codes: Vec<String>,
    queries: Vec<Query>,
}

fn ensure_user(
    app: &App,
    username: &str,
    full_name: &str,
    role: Role,
    agency: &str,
) -> anyhow::Result<()> {
    let r = app.create_user(
        &NewUser {
            username,
            full_name,
            role,
            agency,
            password: PASSWORD,
            email: None,
        },
        &cli_actor(),
        Utc::now(),
    );
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind == ErrorKind::Conflict => {
            // A reused database: the account exists; make sure of its password.
            app.set_user_password(username, PASSWORD, &cli_actor(), Utc::now())
                .map_err(|e| anyhow!("{username}: {}", e.message))
        }
        Err(e) => bail!("creating {username}: {} ({})", e.message, e.error),
    }
}

fn in_list(codes: &[String]) -> String {
    codes.iter().map(|c| lit(c)).collect::<Vec<_>>().join(", ")
}

/// The account's sample of dossier codes, and its search queries.
fn account(
    app: &App,
    label: &str,
    username: &'static str,
    role: Role,
    agency: &str,
    sample: usize,
) -> anyhow::Result<Account> {
    let scope: Vec<String> = app
        .agencies
        .descendants(agency)
        .into_iter()
        .map(|a| a.code.clone())
        .collect();
    let list = in_list(&scope);
    let scope_dossiers = count(
        app,
        &format!(
            "SELECT CAST(COUNT(DISTINCT dossier_code) AS BIGINT) AS n FROM dossier_agencies \
             WHERE agency_code IN ({list})"
        ),
    )?;
    let codes: Vec<String> = diesel::sql_query(format!(
        "SELECT d.code AS s FROM dossiers d WHERE d.code IN (SELECT dossier_code FROM dossier_agencies \
         WHERE agency_code IN ({list})) ORDER BY random() LIMIT {sample}"
    ))
    .load::<S>(&mut *app.store.conn()?)?
    .into_iter()
    .map(|s| s.s)
    .collect();
    if codes.is_empty() {
        bail!("no dossier in the scope of {agency}");
    }
    let first = |sql: String| -> anyhow::Result<Vec<String>> {
        Ok(diesel::sql_query(sql)
            .load::<S>(&mut *app.store.conn()?)?
            .into_iter()
            .map(|s| s.s)
            .collect())
    };
    let some = in_list(&codes[..codes.len().min(20)]);
    let ids = first(format!(
        "SELECT applicant_id_number AS s FROM dossiers WHERE code IN ({some})"
    ))?;
    let names = first(format!(
        "SELECT applicant_name AS s FROM dossiers WHERE code IN ({some})"
    ))?;
    // Kinds, in the order the mix cycles through them.
    let mut queries = Vec::new();
    for (k, code) in codes.iter().take(20).enumerate() {
        // A code prefix: the code without its last three characters.
        queries.push(Query::text(
            "code prefix",
            &code[..code.len().saturating_sub(3)],
        ));
        // The real codes' form `agency-YYMMDD-NNNN`: July 2025 (no seeded code has it).
        let agency_part = code.split('-').next().unwrap_or(agency);
        queries.push(Query::text(
            "code prefix agency-YYMM (no hit)",
            &format!("{agency_part}-2507"),
        ));
        if let Some(id) = ids.get(k % ids.len().max(1)) {
            queries.push(Query::text("ID number", id));
        }
        queries.push(Query::text("folded name `nguyen thi`", "nguyen thi"));
        if let Some(n) = names.get(k % names.len().max(1)) {
            queries.push(Query::text("full name with diacritics", n));
        }
        queries.push(Query {
            kind: "status + dates, no text",
            q: String::new(),
            from: Some("2025-12-01"),
            to: Some("2025-12-31"),
            status: Some("in_progress"),
        });
    }
    Ok(Account {
        label: label.to_string(),
        username,
        role,
        agency: agency.to_string(),
        scope,
        scope_dossiers,
        codes,
        queries,
    })
}

/// Where the time goes, without HTTP: the same reads through the library on one
/// connection (no concurrency), and how the store answers each kind of search.
fn diagnose(app: &App, label: &str, acc: &Account, runs: usize) -> anyhow::Result<()> {
    if runs == 0 {
        return Ok(());
    }
    let caller = Caller {
        username: acc.username.into(),
        full_name: "Đo trang".into(),
        role: acc.role,
        agency: acc.agency.clone(),
        address: None,
    };
    println!(
        "\n{label}, {} — the same reads in-process through the library, one at a time (no HTTP, no concurrency):",
        acc.label
    );
    let mut sheet = Vec::new();
    for code in acc.codes.iter().take(200) {
        let t = Instant::now();
        app.dossier_sheet(&caller, code, Utc::now())
            .map_err(|e| anyhow!("dossier_sheet {code}: {}", e.message))?;
        sheet.push(t.elapsed());
    }
    let n = sheet.len();
    println!(
        "  dossier_sheet (the dossier page's data), {n} codes: p50 {}, p99 {}, max {}",
        ms(pct_of(&mut sheet, 50.0)),
        ms(pct_of(&mut sheet, 99.0)),
        ms(sheet.iter().max().copied().unwrap_or_default())
    );
    let mut seen = Vec::new();
    for q in &acc.queries {
        if seen.contains(&q.kind) {
            continue;
        }
        seen.push(q.kind);
        let lq = q.list_query();
        let mut times = Vec::new();
        let mut rows = 0;
        let mut failed = None;
        for _ in 0..runs {
            let t = Instant::now();
            match app.list_dossiers_for(&caller, &lq) {
                Ok(r) => rows = r.len(),
                Err(e) => {
                    failed = Some(format!(
                        "{} ({}) after {}",
                        e.message,
                        e.error,
                        ms(t.elapsed())
                    ));
                    break;
                }
            }
            times.push(t.elapsed());
        }
        if let Some(f) = failed {
            println!("  list_dossiers_for, {}: failed: {f}", q.kind);
            continue;
        }
        times.sort();
        let how = match q.q.trim() {
            "" => "read newest first".to_string(),
            t => match app.store.search_candidates(t)? {
                Some(n) => format!("{n} candidates through the indexes"),
                None => "read newest first (too many candidates, or a short text)".to_string(),
            },
        };
        println!(
            "  list_dossiers_for, {}: {rows} rows, {how}; {runs} runs: min {}, median {}",
            q.kind,
            ms(times[0]),
            ms(times[times.len() / 2])
        );
    }
    Ok(())
}

/// Logs in over HTTP as a browser does; the session cookie.
fn login(addr: SocketAddr, username: &str) -> anyhow::Result<String> {
    let mut c = Client::new(addr);
    let page = c.request("GET", "/dang-nhap", &[], None)?;
    if page.status != 200 {
        bail!("GET /dang-nhap: {}", describe(page.status, &page.body));
    }
    let nonce = page
        .set_cookie("motcua_login")
        .ok_or_else(|| anyhow!("GET /dang-nhap set no motcua_login cookie"))?;
    let html = String::from_utf8_lossy(&page.body);
    let marker = "name=\"csrf\" value=\"";
    let csrf = html
        .find(marker)
        .map(|i| &html[i + marker.len()..])
        .and_then(|r| r.split('"').next())
        .ok_or_else(|| anyhow!("no csrf field on the login page"))?
        .to_string();
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let form = format!(
        "csrf={}&username={}&password={}&next=%2F",
        enc(&csrf),
        enc(username),
        enc(PASSWORD)
    );
    let cookie = format!("motcua_login={nonce}");
    let r = c.request(
        "POST",
        "/dang-nhap",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some(form.as_bytes()),
    )?;
    if r.status != 303 {
        bail!(
            "POST /dang-nhap as {username}: {}",
            describe(r.status, &r.body)
        );
    }
    let session = r
        .set_cookie("motcua_session")
        .ok_or_else(|| anyhow!("POST /dang-nhap set no motcua_session cookie"))?;
    if session.len() != 64 {
        bail!("unexpected session cookie {session:?}");
    }
    Ok(session)
}

// ─── the ceiling ────────────────────────────────────────────────────────────

/// A bare actix-web route answering every path with `body` (HTML).
struct BareServer {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BareServer {
    fn start(body: Vec<u8>) -> anyhow::Result<Self> {
        use actix_web::{web, App as ActixApp, HttpResponse, HttpServer};
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let body = web::Bytes::from(body);
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    let body = body.clone();
                    ActixApp::new().default_service(web::to(move || {
                        let body = body.clone();
                        async move {
                            HttpResponse::Ok()
                                .insert_header(("Cache-Control", "no-store"))
                                .content_type("text/html; charset=utf-8")
                                .body(body)
                        }
                    }))
                })
                .listen(listener)
                .expect("listen")
                .run();
                tx.send(server.handle()).expect("send handle");
                let _ = server.await;
            });
        });
        let handle = rx.recv()?;
        Ok(Self {
            addr,
            handle,
            thread: Some(thread),
        })
    }
}

impl Drop for BareServer {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ─── one backend ────────────────────────────────────────────────────────────

struct Row {
    backend: String,
    page: String,
    account: String,
    figure: String,
    ceiling: String,
    ratio: String,
    verdict: String,
}

fn verdict(p99: Duration) -> String {
    if p99.as_secs_f64() * 1000.0 <= TARGET_MS {
        "PASS".into()
    } else {
        "**FAIL**".into()
    }
}

fn figure(b: &Batch) -> String {
    let mut s = format!(
        "{} req/s (p50 {}, p99 {}, max {}",
        thousands(b.rate()),
        ms(b.pct(50.0)),
        ms(b.pct(99.0)),
        ms(b.max())
    );
    if b.cut {
        s.push_str(&format!("; {} requests, time budget", b.measured()));
    }
    if !b.errors.is_empty() {
        s.push_str(&format!("; {} errors", b.errors.len()));
    }
    s.push(')');
    s
}

fn report_errors(what: &str, b: &Batch) {
    for e in b.errors.iter().take(5) {
        eprintln!("  {what} error: {e}");
    }
}

/// The page op: GET `path_of(i)` with the session; 200 and `check` on the body.
fn page_op<'a>(
    session: &'a str,
    path_of: impl Fn(usize) -> (String, Vec<&'a [u8]>) + Sync + 'a,
) -> impl Fn(&mut Client, usize) -> Result<(), String> + Sync + 'a {
    let cookie = format!("motcua_session={session}");
    move |c: &mut Client, i: usize| {
        let (path, any_of) = path_of(i);
        match c.request("GET", &path, &[("Cookie", &cookie)], None) {
            Ok(r) if r.status == 200 => {
                if contains(&r.body, b"class=\"error-summary\"") {
                    Err(format!(
                        "{path}: 200 with an error summary: {}",
                        describe(r.status, &r.body)
                    ))
                } else if any_of.iter().any(|n| contains(&r.body, n)) {
                    Ok(())
                } else {
                    Err(format!(
                        "{path}: 200 without the expected text: {}",
                        describe(r.status, &r.body)
                    ))
                }
            }
            Ok(r) => Err(format!("{path}: {}", describe(r.status, &r.body))),
            Err(e) => Err(format!("{path}: transport: {e}")),
        }
    }
}

const TABS: [&str; 4] = ["", "?tab=thanh-phan", "?tab=qua-trinh", "?tab=phieu"];

fn dossier_path(code: &str, i: usize) -> String {
    format!("/ho-so/{code}{}", TABS[i % TABS.len()])
}

fn measure_account(
    backend: &str,
    server: &Server,
    acc: &Account,
    args: &Args,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let c = args.clients;
    let budget = Duration::from_secs(args.budget);
    let session = login(server.addr, acc.username)?;
    println!(
        "\n### {backend}, {} ({}, agency {}, {} agencies in scope, {} dossiers in scope)",
        acc.label,
        acc.username,
        acc.agency,
        acc.scope.len(),
        acc.scope_dossiers
    );
    println!("logged in over HTTP (GET + POST /dang-nhap): session cookie received");

    // 1. The dossier page.
    let codes = &acc.codes;
    let pwarm = warmup_of(args.pages, c, 200);
    let page = run_batch(
        c,
        pwarm,
        args.pages,
        budget,
        || Client::connected(server.addr),
        page_op(&session, |i| {
            let code = &codes[i % codes.len()];
            (dossier_path(code, i / codes.len()), vec![code.as_bytes()])
        }),
    );
    println!(
        "dossier page over {} random in-scope codes, 4 tabs, {c} clients (warm-up {} excluded): {}",
        codes.len(),
        page.warmed,
        page.summary("pages")
    );
    report_errors("dossier page", &page);

    // A sample page of each kind for the ceiling.
    let cookie = format!("motcua_session={session}");
    let sample_dossier = Client::new(server.addr).request(
        "GET",
        &dossier_path(&codes[0], 0),
        &[("Cookie", &cookie)],
        None,
    )?;
    if sample_dossier.status != 200 {
        bail!(
            "sample dossier page: {}",
            describe(sample_dossier.status, &sample_dossier.body)
        );
    }

    // 2. The search page.
    let queries = &acc.queries;
    let swarm = warmup_of(args.searches, c, 100).max(queries.len() / 4);
    let search = run_batch(
        c,
        swarm,
        args.searches,
        budget,
        || Client::connected(server.addr),
        page_op(&session, |i| {
            (
                queries[i % queries.len()].path(),
                vec![b"<table".as_slice(), "Không có hồ sơ".as_bytes()],
            )
        }),
    );
    println!(
        "search page, mix of {} queries, {c} clients (warm-up {} excluded): {}",
        queries.len(),
        search.warmed,
        search.summary("searches")
    );
    report_errors("search page", &search);
    // Per kind, from the same batch.
    let mut kinds: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (i, d) in &search.latencies {
        let k = queries[i % queries.len()].kind;
        if !order.contains(&k) {
            order.push(k);
        }
        kinds.entry(k).or_default().push(*d);
    }
    // What each kind finds (one request each, after the batch).
    let mut hits: BTreeMap<&str, String> = BTreeMap::new();
    for q in queries.iter().take(queries.len().min(6)) {
        let (k, path) = (q.kind, q.path());
        let r = Client::new(server.addr).request("GET", &path, &[("Cookie", &cookie)], None)?;
        let body = String::from_utf8_lossy(&r.body);
        let found = if body.contains("50 hồ sơ mới nhất") {
            "50 shown, more exist".to_string()
        } else if body.contains("Không có hồ sơ") {
            "no hit".to_string()
        } else {
            format!("{} hits", body.matches("<tr>").count().saturating_sub(1))
        };
        hits.insert(k, format!("{found}; e.g. {path}"));
    }
    order.sort_by_key(|k| queries.iter().position(|q| q.kind == *k));
    let mut kind_lines = Vec::new();
    for k in &order {
        let v = kinds.get_mut(k).expect("kind");
        let n = v.len();
        let p50 = pct_of(v, 50.0);
        let p99 = pct_of(v, 99.0);
        let max = v.iter().max().copied().unwrap_or_default();
        println!(
            "  {k}: {n} requests, p50 {}, p99 {}, max {} — {}",
            ms(p50),
            ms(p99),
            ms(max),
            hits.get(k).map(String::as_str).unwrap_or("")
        );
        kind_lines.push((k.to_string(), n, p50, p99, max));
    }
    let sample_search = Client::new(server.addr).request(
        "GET",
        "/ho-so?q=nguyen+thi",
        &[("Cookie", &cookie)],
        None,
    )?;
    if sample_search.status != 200 {
        bail!(
            "sample search page: {}",
            describe(sample_search.status, &sample_search.body)
        );
    }

    // 3. The ceilings: the bare route, same bytes, same clients.
    let mut ceilings = Vec::new();
    for (what, body, n) in [
        ("dossier page", sample_dossier.body.clone(), args.pages),
        ("search page", sample_search.body.clone(), args.searches),
    ] {
        let len = body.len();
        let bare = BareServer::start(body)?;
        let addr = bare.addr;
        let b = run_batch(
            c,
            warmup_of(n, c, 200),
            n.max(2000),
            budget,
            || Client::connected(addr),
            |cl: &mut Client, i: usize| {
                let path = if what == "dossier page" {
                    dossier_path(&codes[i % codes.len()], i / codes.len())
                } else {
                    queries[i % queries.len()].path()
                };
                match cl.request("GET", &path, &[("Cookie", &cookie)], None) {
                    Ok(r) if r.status == 200 && r.body.len() == len => Ok(()),
                    Ok(r) => Err(describe(r.status, &r.body)),
                    Err(e) => Err(format!("transport: {e}")),
                }
            },
        );
        drop(bare);
        println!(
            "bare actix-web route, same {len}-byte HTML as the {what}, {c} clients: {}",
            b.summary("requests")
        );
        report_errors("bare route", &b);
        ceilings.push((len, b));
    }

    let account = format!("{} ({})", acc.label, acc.agency);
    for (what, b, (len, ceil)) in [
        ("dossier page `/ho-so/{code}`", &page, &ceilings[0]),
        ("search page `/ho-so?q=` (mix)", &search, &ceilings[1]),
    ] {
        rows.push(Row {
            backend: backend.to_string(),
            page: what.to_string(),
            account: account.clone(),
            figure: figure(b),
            ceiling: format!(
                "{} (bare actix-web route, same {len}-byte HTML)",
                figure(ceil)
            ),
            ratio: format!("{:.1} %", 100.0 * b.rate() / ceil.rate()),
            verdict: verdict(b.pct(99.0)),
        });
        if what.starts_with("search") {
            for (k, n, p50, p99, max) in &kind_lines {
                rows.push(Row {
                    backend: backend.to_string(),
                    page: format!("· search: {k}"),
                    account: account.clone(),
                    figure: format!(
                        "p50 {}, p99 {}, max {} ({n} requests in the mix)",
                        ms(*p50),
                        ms(*p99),
                        ms(*max)
                    ),
                    ceiling: "—".into(),
                    ratio: "—".into(),
                    verdict: verdict(*p99),
                });
            }
        }
    }
    Ok(())
}

fn run_backend(
    label: &str,
    url: &str,
    seed: Option<usize>,
    bin: &Path,
    args: &Args,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    println!("\n## {label}");
    let dir = tempfile::tempdir()?;
    let pg = !url.starts_with("sqlite");
    // Seeding and preparing with a large SQLite page cache, as `motcua seed-load` does.
    {
        let mut config = config_for(url, dir.path())?;
        config.settings.sqlite_cache_mb = config.settings.sqlite_cache_mb.max(1024);
        let app = App::start(config, Utc.with_ymd_and_hms(2024, 12, 1, 0, 0, 0).unwrap())?;
        if let Some(n) = seed {
            let bar = indicatif::ProgressBar::new(n as u64);
            let t = Instant::now();
            app.seed_load(n, 2025, SEED, &mut |d| bar.set_position(d as u64))?;
            bar.finish_and_clear();
            let s = t.elapsed().as_secs_f64();
            println!(
                "{label}: seeded {n} dossiers in {s:.0} s ({:.0} dossiers/s)",
                n as f64 / s
            );
            prepare(&app, label, pg)?;
        }
    }
    // Accounts and samples, with the configured settings.
    let app = App::start(config_for(url, dir.path())?, Utc::now())?;
    let total = count(&app, "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM dossiers")?;
    let communes: Vec<String> = app
        .agencies
        .agencies
        .iter()
        .filter(|a| a.level == "commune")
        .map(|a| a.code.clone())
        .collect();
    let by_agency: Vec<AgencyCount> = diesel::sql_query(
        "SELECT receiving_agency AS a, CAST(COUNT(*) AS BIGINT) AS n FROM dossiers \
         GROUP BY receiving_agency ORDER BY n DESC",
    )
    .load(&mut *app.store.conn()?)?;
    let ward = by_agency
        .iter()
        .find(|a| communes.contains(&a.a))
        .ok_or_else(|| anyhow!("no commune received a dossier"))?;
    let root = app
        .agencies
        .agencies
        .iter()
        .find(|a| a.parent.is_none())
        .map(|a| a.code.clone())
        .ok_or_else(|| anyhow!("no root agency"))?;
    println!(
        "{label}: {total} dossiers; the commune with the most is {} ({} received); root agency {root}",
        ward.a, ward.n
    );
    ensure_user(&app, CLERK, "Cán bộ một cửa đo trang", Role::Clerk, &ward.a)?;
    ensure_user(
        &app,
        INSPECTOR,
        "Thanh tra đo trang",
        Role::Inspector,
        &root,
    )?;
    ensure_user(
        &app,
        OFFICIAL,
        "Chuyên viên đo trang",
        Role::Official,
        &ward.a,
    )?;
    let t = Instant::now();
    let accounts = vec![
        account(&app, "ward clerk", CLERK, Role::Clerk, &ward.a, args.sample)?,
        account(
            &app,
            "province inspector",
            INSPECTOR,
            Role::Inspector,
            &root,
            args.sample,
        )?,
    ];
    println!(
        "{label}: sampled {} + {} codes in scope in {:.1} s",
        accounts[0].codes.len(),
        accounts[1].codes.len(),
        t.elapsed().as_secs_f64()
    );
    for acc in &accounts {
        diagnose(&app, label, acc, args.library_runs)?;
    }
    drop(app);

    let data_dir = tempfile::tempdir()?;
    let t = Instant::now();
    let server = Server::start(bin, url, data_dir.path())?;
    println!(
        "server {} on {} (one process, RUST_LOG=warn, shipped config/), up in {:.1} s",
        bin.display(),
        server.addr,
        t.elapsed().as_secs_f64()
    );
    let mut result = Ok(());
    for acc in accounts
        .iter()
        .filter(|_| !args.queue_only && !args.dashboard_only)
    {
        result = measure_account(label, &server, acc, args, rows);
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() && !args.dashboard_only {
        result = measure_queue(label, &server, &ward.a, args, rows);
    }
    if result.is_ok() && !args.queue_only {
        result = measure_dashboard(label, &server, &root, args, rows);
    }
    let said = server.output();
    drop(server);
    if !said.trim().is_empty() {
        println!("server output (RUST_LOG=warn), first 20 lines:");
        for l in strip_ansi(&said).lines().take(20) {
            println!("  {l}");
        }
    }
    result
}

/// The work queue (`/hang-doi`, issue #15) of a ward official: pages of 50 lines of the
/// "Chờ xử lý" tab (with the counts of the role's six tabs), beside the bare route.
fn measure_queue(
    backend: &str,
    server: &Server,
    agency: &str,
    args: &Args,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let c = args.clients;
    let budget = Duration::from_secs(args.budget);
    let session = login(server.addr, OFFICIAL)?;
    let cookie = format!("motcua_session={session}");
    println!("\n### {backend}, ward official ({OFFICIAL}, agency {agency}): the work queue");
    let path = |i: usize| format!("/hang-doi?tab=cho-xu-ly&trang={}", 1 + i % 5);
    let sample = Client::new(server.addr).request("GET", &path(0), &[("Cookie", &cookie)], None)?;
    if sample.status != 200 {
        bail!(
            "sample queue page: {}",
            describe(sample.status, &sample.body)
        );
    }
    let lines = String::from_utf8_lossy(&sample.body)
        .matches("<tr id=\"dong-")
        .count();
    if lines != 50 {
        bail!(
            "the queue's first page has {lines} lines, not 50 (too few open dossiers at {agency})"
        );
    }
    let n = args.pages;
    let queue = run_batch(
        c,
        warmup_of(n, c, 200),
        n,
        budget,
        || Client::connected(server.addr),
        page_op(&session, move |i| (path(i), vec![b"dong-".as_slice()])),
    );
    println!(
        "queue page, 50 lines and 6 tab counts, pages 1–5 in turn, {c} clients (warm-up {} excluded): {}",
        queue.warmed,
        queue.summary("pages")
    );
    report_errors("queue page", &queue);
    let len = sample.body.len();
    let bare = BareServer::start(sample.body.clone())?;
    let addr = bare.addr;
    let ceil = run_batch(
        c,
        warmup_of(n, c, 200),
        n.max(2000),
        budget,
        || Client::connected(addr),
        |cl: &mut Client, i: usize| match cl.request("GET", &path(i), &[("Cookie", &cookie)], None)
        {
            Ok(r) if r.status == 200 && r.body.len() == len => Ok(()),
            Ok(r) => Err(describe(r.status, &r.body)),
            Err(e) => Err(format!("transport: {e}")),
        },
    );
    drop(bare);
    println!(
        "bare actix-web route, same {len}-byte HTML as the queue page, {c} clients: {}",
        ceil.summary("requests")
    );
    rows.push(Row {
        backend: backend.to_string(),
        page: "queue page `/hang-doi` (50 lines)".to_string(),
        account: format!("ward official ({agency})"),
        figure: figure(&queue),
        ceiling: format!(
            "{} (bare actix-web route, same {len}-byte HTML)",
            figure(&ceil)
        ),
        ratio: format!("{:.1} %", 100.0 * queue.rate() / ceil.rate()),
        verdict: verdict(queue.pct(99.0)),
    });
    Ok(())
}

/// A bearer token of the JSON API (`POST /api/v1/auth/login`).
fn api_token(addr: SocketAddr, username: &str) -> anyhow::Result<String> {
    let body = format!("{{\"username\":\"{username}\",\"password\":\"{PASSWORD}\"}}");
    let r = Client::new(addr).request(
        "POST",
        "/api/v1/auth/login",
        &[("Content-Type", "application/json")],
        Some(body.as_bytes()),
    )?;
    if r.status != 200 {
        bail!("POST /api/v1/auth/login: {}", describe(r.status, &r.body));
    }
    let v: serde_json::Value = serde_json::from_slice(&r.body)?;
    v["access_token"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| anyhow!("no access_token in the login answer"))
}

/// The leaders' dashboard (`/bao-cao`, issue #16) of the province inspector over the seeded
/// year, grouped by agency and by month in turn (each page reads three reports: the
/// grouping, by agency, by month), beside the JSON report of the same filters (one
/// report) and the bare route with the page's bytes. Target: p99 ≤ 300 ms.
fn measure_dashboard(
    backend: &str,
    server: &Server,
    root: &str,
    args: &Args,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let c = args.clients;
    let budget = Duration::from_secs(args.budget);
    let session = login(server.addr, INSPECTOR)?;
    let cookie = format!("motcua_session={session}");
    let token = api_token(server.addr, INSPECTOR)?;
    let bearer = format!("Bearer {token}");
    println!(
        "\n### {backend}, province inspector ({INSPECTOR}, agency {root}): the leaders' dashboard"
    );
    const GROUPS: [&str; 2] = ["agency", "month"];
    let page_path = |i: usize| {
        format!(
            "/bao-cao?co-quan={root}&tu=2025-01-01&den=2025-12-31&cap-duoi=co&nhom={}",
            GROUPS[i % GROUPS.len()]
        )
    };
    let api_path = |i: usize| {
        format!(
            "/api/v1/reports/indicators?agency={root}&from=2025-01-01&to=2025-12-31&descendants=true&group_by={}",
            GROUPS[i % GROUPS.len()]
        )
    };
    let sample =
        Client::new(server.addr).request("GET", &page_path(0), &[("Cookie", &cookie)], None)?;
    if sample.status != 200 || !contains(&sample.body, b"class=\"tile ") {
        bail!(
            "sample dashboard: {}",
            describe(sample.status, &sample.body)
        );
    }
    let n = args.dashboards;
    let page = run_batch(
        c,
        warmup_of(n, c, 40),
        n,
        budget,
        || Client::connected(server.addr),
        page_op(&session, move |i| {
            (page_path(i), vec![b"dash-figure".as_slice()])
        }),
    );
    println!(
        "dashboard, the year 2025, by agency and by month in turn, {c} clients (warm-up {} excluded): {}",
        page.warmed,
        page.summary("pages")
    );
    report_errors("dashboard", &page);
    // Cold: each request a period never asked before (the year to a different day), so
    // each counts its reports (`web.report_cache_s` cannot help): one client, the time a
    // leader waits for a new view; then the same with every client at once, the most
    // this machine renders new views.
    let cold_n = (n / 8).max(16);
    let cold_path1 = |i: usize| {
        let to = NaiveDate::from_ymd_opt(2025, 12, 31).expect("date")
            - chrono::Duration::days(1 + (i % 300) as i64);
        format!("/bao-cao?co-quan={root}&tu=2025-02-01&den={to}&cap-duoi=co&nhom=agency")
    };
    let cold1 = run_batch(
        1,
        1,
        cold_n,
        budget,
        || Client::connected(server.addr),
        page_op(&session, move |i| {
            (cold_path1(i + 2000), vec![b"dash-figure".as_slice()])
        }),
    );
    println!(
        "dashboard cold, one client (each a new period: its reports counted): {}",
        cold1.summary("pages")
    );
    report_errors("dashboard cold", &cold1);
    let cold_path = |i: usize| {
        let to = NaiveDate::from_ymd_opt(2025, 12, 31).expect("date")
            - chrono::Duration::days(1 + (i % 300) as i64);
        format!("/bao-cao?co-quan={root}&tu=2025-01-01&den={to}&cap-duoi=co&nhom=agency")
    };
    let cold = run_batch(
        c,
        c,
        cold_n,
        budget,
        || Client::connected(server.addr),
        page_op(&session, move |i| {
            (cold_path(i + 1000), vec![b"dash-figure".as_slice()])
        }),
    );
    println!(
        "dashboard cold (each a new period: its reports counted), {c} clients at once: {}",
        cold.summary("pages")
    );
    report_errors("dashboard cold", &cold);
    let cold_api = |i: usize| {
        let to = NaiveDate::from_ymd_opt(2025, 12, 31).expect("date")
            - chrono::Duration::days(1 + (i % 300) as i64);
        format!("/api/v1/reports/indicators?agency={root}&from=2025-03-01&to={to}&descendants=true&group_by=agency")
    };
    let json_cold = run_batch(
        1,
        1,
        cold_n,
        budget,
        || Client::connected(server.addr),
        |cl: &mut Client, i: usize| {
            let path = cold_api(i + 3000);
            match cl.request("GET", &path, &[("Authorization", &bearer)], None) {
                Ok(r) if r.status == 200 => Ok(()),
                Ok(r) => Err(format!("{path}: {}", describe(r.status, &r.body))),
                Err(e) => Err(format!("{path}: transport: {e}")),
            }
        },
    );
    println!(
        "JSON report cold, one client (each a new period, by agency): {}",
        json_cold.summary("reports")
    );
    let json = run_batch(
        c,
        warmup_of(n, c, 40),
        n,
        budget,
        || Client::connected(server.addr),
        |cl: &mut Client, i: usize| {
            let path = api_path(i);
            match cl.request("GET", &path, &[("Authorization", &bearer)], None) {
                Ok(r) if r.status == 200 && contains(&r.body, b"\"qd766\"") => Ok(()),
                Ok(r) => Err(format!("{path}: {}", describe(r.status, &r.body))),
                Err(e) => Err(format!("{path}: transport: {e}")),
            }
        },
    );
    println!(
        "JSON report of the same filters, {c} clients (warm-up {} excluded): {}",
        json.warmed,
        json.summary("reports")
    );
    report_errors("JSON report", &json);
    let len = sample.body.len();
    let bare = BareServer::start(sample.body.clone())?;
    let addr = bare.addr;
    let ceil = run_batch(
        c,
        warmup_of(n, c, 200),
        n.max(2000),
        budget,
        || Client::connected(addr),
        |cl: &mut Client, i: usize| match cl.request(
            "GET",
            &page_path(i),
            &[("Cookie", &cookie)],
            None,
        ) {
            Ok(r) if r.status == 200 && r.body.len() == len => Ok(()),
            Ok(r) => Err(describe(r.status, &r.body)),
            Err(e) => Err(format!("transport: {e}")),
        },
    );
    drop(bare);
    println!(
        "bare actix-web route, same {len}-byte HTML as the dashboard, {c} clients: {}",
        ceil.summary("requests")
    );
    let verdict_at = |p99: Duration| {
        if p99.as_secs_f64() * 1000.0 <= DASHBOARD_MS {
            "PASS".to_string()
        } else {
            format!("FAIL (target {DASHBOARD_MS:.0} ms)")
        }
    };
    rows.push(Row {
        backend: backend.to_string(),
        page: "dashboard `/bao-cao` (2025, by agency / by month)".to_string(),
        account: format!("province inspector ({root})"),
        figure: figure(&page),
        ceiling: format!(
            "{} (bare actix-web route, same {len}-byte HTML)",
            figure(&ceil)
        ),
        ratio: format!("{:.1} %", 100.0 * page.rate() / ceil.rate()),
        verdict: format!("{} (≤ {DASHBOARD_MS:.0} ms)", verdict_at(page.pct(99.0))),
    });
    rows.push(Row {
        backend: backend.to_string(),
        page: "· dashboard cold, one client: each request a new period".to_string(),
        account: format!("province inspector ({root})"),
        figure: figure(&cold1),
        ceiling: "—".into(),
        ratio: "—".into(),
        verdict: format!("{} (≤ {DASHBOARD_MS:.0} ms)", verdict_at(cold1.pct(99.0))),
    });
    rows.push(Row {
        backend: backend.to_string(),
        page: format!("· dashboard cold, {c} clients at once: each request a new period"),
        account: format!("province inspector ({root})"),
        figure: figure(&cold),
        ceiling: "—".into(),
        ratio: "—".into(),
        verdict: "— (throughput bound)".into(),
    });
    rows.push(Row {
        backend: backend.to_string(),
        page: "· JSON report cold, one client: each request a new period".to_string(),
        account: format!("province inspector ({root})"),
        figure: figure(&json_cold),
        ceiling: "—".into(),
        ratio: "—".into(),
        verdict: "—".into(),
    });
    rows.push(Row {
        backend: backend.to_string(),
        page: "· JSON report `/api/v1/reports/indicators`, same filters".to_string(),
        account: format!("province inspector ({root})"),
        figure: figure(&json),
        ceiling: "—".into(),
        ratio: "—".into(),
        verdict: "—".into(),
    });
    Ok(())
}

fn pg_version(admin: &str) -> String {
    diesel::PgConnection::establish(admin)
        .ok()
        .and_then(|mut c| {
            diesel::sql_query(
                "SELECT current_setting('server_version') || ', shared_buffers=' || \
                 current_setting('shared_buffers') || ', fsync=' || current_setting('fsync') AS s",
            )
            .get_result::<S>(&mut c)
            .ok()
        })
        .map_or_else(|| "?".into(), |v| v.s)
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("page_bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> anyhow::Result<()> {
    let args = Args::parse();
    if cfg!(debug_assertions) {
        bail!("build the bench with --release: cargo run --release --example page_bench");
    }
    if args.clients == 0 || args.pages == 0 || args.searches == 0 || args.sample == 0 {
        bail!("--clients, --pages, --searches and --sample must be at least 1");
    }
    if !Path::new("config/default.toml").exists() {
        bail!("run the bench from the crate root (config/ and forms/ are read from there)");
    }
    let bin = server_binary(&args)?;
    let pg_url = std::env::var("MOTCUA_TEST_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("# motcua page bench");
    println!(
        "{} UTC; {cores} CPU cores; {} clients; {} dossier pages and {} searches per account \
         (budget {} s a batch); server {}",
        Utc::now().format("%Y-%m-%d %H:%M"),
        args.clients,
        args.pages,
        args.searches,
        args.budget,
        bin.display()
    );
    let mut rows = Vec::new();
    let mut kept = Vec::new();
    let mut result = Ok(());
    if !args.reuse.is_empty() {
        for url in &args.reuse {
            let label = if url.starts_with("sqlite") {
                "SQLite"
            } else {
                println!("PostgreSQL {}", pg_version(url));
                "PostgreSQL"
            };
            result = run_backend(label, url, None, &bin, &args, &mut rows);
            if result.is_err() {
                break;
            }
        }
    } else {
        let (sqlite, postgres) = match args.backend {
            Some(BackendArg::Sqlite) => (true, false),
            Some(BackendArg::Postgres) => (false, true),
            Some(BackendArg::Both) => (true, true),
            None => (true, pg_url.is_some()),
        };
        if postgres && pg_url.is_none() {
            bail!("PostgreSQL needs MOTCUA_TEST_PG_URL (a role that may create databases)");
        }
        if sqlite {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}/page_bench.db", dir.path().display());
            result = run_backend("SQLite", &url, Some(args.n), &bin, &args, &mut rows);
            if args.keep {
                kept.push(url);
                let _ = dir.keep();
            }
        }
        if postgres && result.is_ok() {
            let admin = pg_url.as_deref().expect("checked");
            println!("PostgreSQL {}", pg_version(admin));
            let name = format!("motcua_page_bench_{}", std::process::id());
            let mut c = diesel::PgConnection::establish(admin)
                .context("connecting to MOTCUA_TEST_PG_URL")?;
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c)?;
            let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
            let url = format!("{base}/{name}");
            result = run_backend("PostgreSQL", &url, Some(args.n), &bin, &args, &mut rows);
            if args.keep {
                kept.push(url);
            } else {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c);
            }
        }
    }
    if !rows.is_empty() {
        println!();
        println!(
            "| backend | page | account | figure | ceiling | ratio | p99 ≤ {TARGET_MS:.0} ms |"
        );
        println!("|---|---|---|---|---|---|---|");
        for r in &rows {
            println!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.backend, r.page, r.account, r.figure, r.ceiling, r.ratio, r.verdict
            );
        }
        let failed = rows.iter().filter(|r| r.verdict.contains("FAIL")).count();
        println!();
        if failed == 0 {
            println!(
                "PASS: every page's p99 within its target ({TARGET_MS:.0} ms; the dashboard {DASHBOARD_MS:.0} ms)"
            );
        } else {
            println!(
                "FAIL: {failed} of {} rows miss p99 ≤ {TARGET_MS:.0} ms",
                rows.len()
            );
        }
    }
    for url in &kept {
        println!("kept: --reuse {url}");
    }
    result
}
