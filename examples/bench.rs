//! Intake and public-lookup throughput of the real server, each beside its ceiling.
//!
//! ```sh
//! cargo build --release                      # the server binary under test, first
//! cargo run --release --example bench -- [--backend sqlite|postgres|both] \
//!     [--intakes N] [--lookups M] [--clients C]
//! ```
//!
//! Defaults: `--backend both --intakes 2000 --lookups 20000 --clients 16`. PostgreSQL is
//! reached through `MOTCUA_BENCH_PG_URL` (else `MOTCUA_TEST_PG_URL`), a role allowed to
//! create databases: the bench creates its own database and drops it at the end. Run it
//! from the crate root (it reads `config/` and `forms/`, like the server).
//!
//! For each backend, on the same machine and in the same run:
//!
//! 1. **intake over HTTP** — `target/release/motcua` (one process, `RUST_LOG=warn`, the
//!    shipped `config/`) on a fresh database; C client threads, each with one keep-alive
//!    connection and one request in flight, POST N dossiers. Figure: N / wall-clock of the
//!    whole batch; p50/p99 of the per-request latency.
//!    **portal submissions over HTTP** — the same, by a portal client (`channel: online`):
//!    each dossier arrives `submitted`, with its code and pin, waiting for the desk's
//!    official receipt (NĐ 118/2025 Art. 17(2)); `--portal N` of them (default: N as
//!    `--intakes`; 0 skips the measure).
//! 2. **intake ceiling** — the same rows written directly by this process with the
//!    library's store API, one transaction per dossier (`Store::write`: both sequences,
//!    `insert_dossier` with papers and first event, `audit::append`), C threads, the
//!    server's pool size. No HTTP, JSON, validation or deadline computation.
//! 3. **public lookup over HTTP** — C clients, M `GET /api/v1/public/dossiers/{code}?pin=`
//!    over the codes and pins handed out in step 1 (all correct: successes are not
//!    rate-limited).
//! 4. **lookup ceiling** — a bare actix-web route in this process (default workers, like
//!    the server) answering the same path with a fixed copy of a real lookup body, measured
//!    with the same client and concurrency.
//!
//! Warm-up requests (connections opened, caches filled) are excluded from every figure.
//! The last lines are a Markdown table (backend, measure, figure, ceiling, ratio) to paste
//! into the README. The bench refuses a server binary older than the sources
//! (`--allow-stale-binary` to measure it anyway) and a debug build of itself.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail, Context};
use chrono::{Datelike, DurationRound, Utc};
use clap::{Parser, ValueEnum};
use diesel::{Connection, RunQueryDsl};
use serde_json::{json, Value};

use motcua::app::App;
use motcua::config::{Config, Overrides};
use motcua::core::catalogue::Procedure;
use motcua::core::dossier::{rule_set_for, Status};
use motcua::core::{pin, text};
use motcua::store::audit::{self, Actor, AuditEntry};
use motcua::store::dossiers::{self, DossierRow, EventRow, PaperRow};
use motcua::store::{to_db, StoreError};

const AGENCY: &str = "000.00.51.H26";
const PROCEDURE: &str = "1.001193.000.00.00.H26";
const SECRET: &str = "motcua-bench-secret-not-for-production-7f3a9c2e51d8b6";
const USERNAME: &str = "clerk.bench";
const PASSWORD: &str = "mat-khau-do-hieu-nang";
const PORTAL: &str = "portal.bench";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    Both,
}

/// Intake and public-lookup throughput of the motcua server against their ceilings.
#[derive(Parser)]
#[command(name = "bench")]
struct Args {
    #[arg(long, value_enum, default_value = "both")]
    backend: BackendArg,
    /// Dossiers received over HTTP (and written directly for the ceiling).
    #[arg(long, default_value_t = 2000)]
    intakes: usize,
    /// Public lookups (and requests to the bare route for the ceiling).
    #[arg(long, default_value_t = 20000)]
    lookups: usize,
    /// Online submissions by a portal over HTTP (default: as many as `--intakes`).
    #[arg(long)]
    portal: Option<usize>,
    /// Concurrent clients (threads, one request in flight each).
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// The server binary (default: `motcua` next to this example's directory).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Measure a server binary even if it is older than the sources.
    #[arg(long)]
    allow_stale_binary: bool,
}

// ─── HTTP/1.1 client (blocking, keep-alive) ─────────────────────────────────

struct Client {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
}

struct Response {
    status: u16,
    body: Vec<u8>,
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
        Self { addr, conn: None }
    }

    fn connect(&mut self) -> std::io::Result<()> {
        let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(10))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        s.set_write_timeout(Some(Duration::from_secs(30)))?;
        self.conn = Some(BufReader::with_capacity(16 * 1024, s));
        Ok(())
    }

    /// One request on the kept-alive connection (opened when needed). No retry: a
    /// failure is reported, and the connection is dropped.
    fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> std::io::Result<Response> {
        if self.conn.is_none() {
            self.connect()?;
        }
        let r = self.exchange(method, path, token, body);
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
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> std::io::Result<(Response, bool)> {
        let addr = self.addr;
        let conn = self.conn.as_mut().expect("connected");
        let mut req = Vec::with_capacity(512 + body.map_or(0, <[u8]>::len));
        write!(req, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n")?;
        if let Some(t) = token {
            write!(req, "Authorization: Bearer {t}\r\n")?;
        }
        if body.is_some() {
            req.extend_from_slice(b"Content-Type: application/json\r\n");
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
        } else if status != 204 && status != 304 && status >= 200 {
            conn.read_to_end(&mut body)?;
            keep = false;
        }
        Ok((Response { status, body }, keep))
    }
}

// ─── measurement ────────────────────────────────────────────────────────────

/// A measured batch.
struct Batch<T> {
    wall: Duration,
    latencies: Vec<Duration>,
    outputs: Vec<T>,
    errors: Vec<String>,
    measured: usize,
}

impl<T> Batch<T> {
    fn rate(&self) -> f64 {
        self.measured as f64 / self.wall.as_secs_f64()
    }

    /// Nearest-rank percentile of the per-operation latency.
    fn pct(&self, p: f64) -> Duration {
        let mut v = self.latencies.clone();
        v.sort_unstable();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1]
    }

    fn summary(&self, unit: &str) -> String {
        format!(
            "{} {unit} in {:.2} s = {} {unit}/s; latency p50 {}, p99 {}; errors {}",
            self.measured,
            self.wall.as_secs_f64(),
            thousands(self.rate()),
            ms(self.pct(50.0)),
            ms(self.pct(99.0)),
            self.errors.len()
        )
    }
}

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.1} ms")
    }
}

fn thousands(v: f64) -> String {
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

/// Runs `warmup` then `total` operations over `threads` threads. Each thread builds its
/// state with `init` (e.g. opens its connection) before the warm-up; the clock starts when
/// every thread has finished warming up and stops when the last operation of the batch
/// has returned. Operation `i` of the measured batch gets index `warmup + i`.
fn run_batch<S, T: Send>(
    threads: usize,
    warmup: usize,
    total: usize,
    init: impl Fn() -> S + Sync,
    op: impl Fn(&mut S, usize) -> Result<T, String> + Sync,
) -> Batch<T> {
    let warm_next = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let barrier = Barrier::new(threads + 1);
    let errors = Mutex::new(Vec::new());
    let (wall, parts) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut state = init();
                    let mut outputs = Vec::new();
                    loop {
                        let i = warm_next.fetch_add(1, Ordering::Relaxed);
                        if i >= warmup {
                            break;
                        }
                        match op(&mut state, i) {
                            Ok(t) => outputs.push(t),
                            Err(e) => errors.lock().unwrap().push(format!("warm-up: {e}")),
                        }
                    }
                    barrier.wait();
                    let mut lat = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            break;
                        }
                        let t0 = Instant::now();
                        let r = op(&mut state, warmup + i);
                        lat.push(t0.elapsed());
                        match r {
                            Ok(t) => outputs.push(t),
                            Err(e) => errors.lock().unwrap().push(e),
                        }
                    }
                    (lat, outputs)
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let parts: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        (start.elapsed(), parts)
    });
    let mut latencies = Vec::with_capacity(total);
    let mut outputs = Vec::with_capacity(total + warmup);
    for (l, o) in parts {
        latencies.extend(l);
        outputs.extend(o);
    }
    Batch {
        wall,
        latencies,
        outputs,
        errors: errors.into_inner().unwrap(),
        measured: total,
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

fn motcua(bin: &Path, db_url: &str, data_dir: &Path) -> Command {
    let mut c = Command::new(bin);
    c.arg("--config-dir")
        .arg("config")
        .env_remove("MOTCUA_CONFIG_DIR")
        .env_remove("MOTCUA_LOG_FORMAT")
        .env("MOTCUA_DATABASE_URL", db_url)
        .env("MOTCUA_DATA_DIR", data_dir)
        .env("MOTCUA_SECRET", SECRET)
        .env("RUST_LOG", "warn");
    c
}

struct Server {
    addr: SocketAddr,
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Server {
    fn start(bin: &Path, db_url: &str, data_dir: &Path) -> anyhow::Result<Server> {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse()?;
        let mut child = motcua(bin, db_url, data_dir)
            .arg("serve")
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
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = Client::new(addr).request("GET", "/healthz", None, None) {
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
                    "the server did not answer /healthz within 60 s:\n{}",
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

fn add_clerk(bin: &Path, db_url: &str, data_dir: &Path) -> anyhow::Result<()> {
    let mut child = motcua(bin, db_url, data_dir)
        .args(["user", "add", "--username", USERNAME, "--full-name"])
        .args(["Cán bộ đo hiệu năng", "--role", "clerk", "--agency", AGENCY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "motcua user add failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// The newest modification time of the files the binary is built from.
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
    for p in ["src", "migrations", "Cargo.toml", "Cargo.lock"] {
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
            // target/release/examples/bench → target/release/motcua
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

/// A database for one backend's run, dropped afterwards.
struct BenchDb {
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl BenchDb {
    fn sqlite() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        Ok(Self {
            url: format!("sqlite://{}/motcua.db", dir.path().display()),
            _dir: Some(dir),
            pg: None,
        })
    }

    fn postgres(admin: &str) -> anyhow::Result<Self> {
        let name = format!(
            "motcua_bench_{}_{}",
            std::process::id(),
            Utc::now().timestamp_subsec_nanos()
        );
        let mut c = diesel::PgConnection::establish(admin)
            .with_context(|| "connecting to the PostgreSQL bench URL")?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c)?;
        let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
        Ok(Self {
            url: format!("{base}/{name}"),
            _dir: None,
            pg: Some((admin.to_string(), name)),
        })
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut c) = diesel::PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c);
            }
        }
    }
}

fn pg_version(admin: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    diesel::PgConnection::establish(admin)
        .ok()
        .and_then(|mut c| {
            diesel::sql_query("SELECT current_setting('server_version') || ', synchronous_commit=' || current_setting('synchronous_commit') || ', fsync=' || current_setting('fsync') AS v")
                .get_result::<V>(&mut c)
                .ok()
        })
        .map_or_else(|| "?".into(), |v| v.v)
}

// ─── the four measures ──────────────────────────────────────────────────────

fn intake_body(i: usize) -> Vec<u8> {
    body_on(i, "counter")
}

fn body_on(i: usize, channel: &str) -> Vec<u8> {
    json!({
        "procedure_code": PROCEDURE,
        "channel": channel,
        "applicant": {
            "full_name": "Nguyễn Văn An",
            "id_number": format!("001090{:06}", i % 1_000_000),
            "phone": "0912345678"
        },
        "papers": [
            { "name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original", "count": 1 },
            { "name": "Giấy chứng sinh", "kind": "original", "count": 1 }
        ]
    })
    .to_string()
    .into_bytes()
}

/// Registers the bench's portal client; its secret.
fn add_portal(bin: &Path, db_url: &str, data_dir: &Path) -> anyhow::Result<String> {
    let out = motcua(bin, db_url, data_dir)
        .args([
            "portal",
            "add",
            "--client-id",
            PORTAL,
            "--name",
            "Cổng đo hiệu năng",
        ])
        .args(["--agency", AGENCY])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "motcua portal add failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    text.lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .map(|s| s.trim().to_string())
        .ok_or_else(|| anyhow!("no secret in {text}"))
}

fn portal_token(addr: SocketAddr, secret: &str) -> anyhow::Result<String> {
    let body = json!({ "client_id": PORTAL, "client_secret": secret }).to_string();
    let r = Client::new(addr).request("POST", "/api/v1/auth/token", None, Some(body.as_bytes()))?;
    let v: Value = serde_json::from_slice(&r.body)?;
    if r.status != 200 {
        bail!("token answered {}: {v}", r.status);
    }
    Ok(v["access_token"]
        .as_str()
        .ok_or_else(|| anyhow!("no access_token in {v}"))?
        .to_string())
}

fn login(addr: SocketAddr) -> anyhow::Result<String> {
    let body = json!({ "username": USERNAME, "password": PASSWORD }).to_string();
    let r = Client::new(addr).request("POST", "/api/v1/auth/login", None, Some(body.as_bytes()))?;
    let v: Value = serde_json::from_slice(&r.body)?;
    if r.status != 200 {
        bail!("login answered {}: {v}", r.status);
    }
    Ok(v["access_token"]
        .as_str()
        .ok_or_else(|| anyhow!("no access_token in {v}"))?
        .to_string())
}

fn describe(status: u16, body: &[u8]) -> String {
    let b = String::from_utf8_lossy(body);
    format!("HTTP {status}: {}", b.chars().take(300).collect::<String>())
}

/// Step 3 and 4 share this: GET the lookup path of `pairs[i % len]`.
fn lookup_op<'a>(
    pairs: &'a [(String, String)],
) -> impl Fn(&mut Client, usize) -> Result<usize, String> + Sync + 'a {
    move |c: &mut Client, i: usize| {
        let (code, pin) = &pairs[i % pairs.len()];
        let path = format!("/api/v1/public/dossiers/{code}?pin={pin}");
        match c.request("GET", &path, None, None) {
            Ok(r) if r.status == 200 => Ok(r.body.len()),
            Ok(r) => Err(describe(r.status, &r.body)),
            Err(e) => Err(format!("transport: {e}")),
        }
    }
}

/// The lookup ceiling: a bare actix-web route answering `body` on the lookup path.
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
                    ActixApp::new().route(
                        "/api/v1/public/dossiers/{code}",
                        web::get().to(move |_code: web::Path<String>| {
                            let body = body.clone();
                            async move {
                                HttpResponse::Ok()
                                    .insert_header(("Cache-Control", "no-store"))
                                    .content_type("application/json")
                                    .body(body)
                            }
                        }),
                    )
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

/// Step 2: the intake's rows written directly, one `Store::write` per dossier.
fn direct_intake(
    app: &App,
    clients: usize,
    warmup: usize,
    total: usize,
) -> anyhow::Result<Batch<()>> {
    let now = Utc::now().duration_trunc(chrono::Duration::seconds(1))?;
    let local = now.with_timezone(&app.settings.offset);
    let version = app
        .store
        .procedure_version_at(PROCEDURE, to_db(now))?
        .ok_or_else(|| anyhow!("{PROCEDURE} is not in force"))?;
    let procedure: Procedure = serde_json::from_str(&version.definition)?;
    let time = procedure.time();
    let due = app
        .due_at(local.fixed_offset(), &time)
        .map_err(|e| anyhow!("due: {e}"))?;
    let due_db = to_db(due.with_timezone(&Utc));
    let rule_set = rule_set_for(&app.rule_sets, local.date_naive())
        .ok_or_else(|| anyhow!("no rule set"))?
        .id
        .clone();
    let receiving = app
        .agencies
        .get(AGENCY)
        .ok_or_else(|| anyhow!("{AGENCY} unknown"))?;
    let competent = procedure.competent_agency.clone().or_else(|| {
        (procedure.competent_level.as_deref() == Some(receiving.level.as_str()))
            .then(|| receiving.code.clone())
    });
    let route = app
        .plan_route(
            &procedure,
            &receiving.code,
            competent.as_deref(),
            local.fixed_offset(),
            due,
        )
        .map_err(|e| anyhow!("route: {e}"))?;
    let actor = Actor {
        username: USERNAME.into(),
        role: "clerk".into(),
        address: Some("127.0.0.1".into()),
    };
    let papers = ["Tờ khai đăng ký khai sinh theo mẫu", "Giấy chứng sinh"];
    let op = |_: &mut (), i: usize| -> Result<(), String> {
        let now = Utc::now()
            .duration_trunc(chrono::Duration::seconds(1))
            .unwrap_or_else(|_| Utc::now());
        let local = now.with_timezone(&app.settings.offset);
        let received = to_db(now);
        let day_scope = format!("d:{}", local.format("%Y-%m-%d"));
        let year_scope = format!("y:{}", local.year());
        let mut rnd = [0u8; 64];
        getrandom::fill(&mut rnd).map_err(|e| e.to_string())?;
        let mut k = 0;
        let the_pin = pin::generate_pin(|| {
            k = (k + 1) % rnd.len();
            rnd[k]
        });
        let name = "Nguyễn Văn An";
        app.store
            .write(None, |conn| {
                let seq = dossiers::next_sequence(conn, &receiving.code, &day_scope)?;
                let code = app.settings.dossier_code.format(
                    &receiving.code,
                    &receiving.code,
                    local.date_naive(),
                    seq as u64,
                );
                let book_line = dossiers::next_sequence(conn, &receiving.code, &year_scope)?;
                let row = DossierRow {
                    code: code.clone(),
                    procedure_code: version.procedure_code.clone(),
                    procedure_version: version.version,
                    rule_set: rule_set.clone(),
                    receiving_agency: receiving.code.clone(),
                    competent_agency: competent.clone(),
                    current_agency: receiving.code.clone(),
                    channel: "counter".into(),
                    status: Status::Received.as_str().into(),
                    applicant_name: name.into(),
                    applicant_id_kind: "personal_id".into(),
                    applicant_id_number: format!("001091{:06}", i % 1_000_000),
                    applicant_phone: Some("0912345678".into()),
                    applicant_email: None,
                    applicant_address: None,
                    applicant_search: text::fold(name),
                    proxy: None,
                    note: None,
                    pin_hash: pin::hash_pin(&app.keys.pin, &code, &the_pin),
                    received_at: Some(received),
                    due_at: Some(due_db),
                    time_amount: time.amount as i32,
                    time_unit: time.unit.as_str().into(),
                    time_cutoff: time.cutoff.map(|c| c.format("%H:%M").to_string()),
                    reappointed_at: None,
                    finished_at: None,
                    outcome: None,
                    result_ready: false,
                    received_by: USERNAME.into(),
                    book_volume: Some(local.year()),
                    book_line: Some(book_line),
                    updated_at: received,
                };
                let paper_rows: Vec<PaperRow> = papers
                    .iter()
                    .enumerate()
                    .map(|(n, p)| PaperRow {
                        dossier_code: code.clone(),
                        position: n as i32 + 1,
                        name: (*p).into(),
                        kind: "original".into(),
                        count: 1,
                        reuse_document_id: None,
                    })
                    .collect();
                let event = EventRow {
                    dossier_code: code.clone(),
                    seq: 1,
                    kind: "receive".into(),
                    at: received,
                    actor: USERNAME.into(),
                    agency_code: receiving.code.clone(),
                    status_after: Status::Received.as_str().into(),
                    payload: json!({
                        "channel": "counter",
                        "procedure_version": version.version,
                        "due_at": due.to_rfc3339(),
                        "rule_set": rule_set,
                    })
                    .to_string(),
                };
                let state = motcua::core::machine::State::received(
                    &receiving.code,
                    local.fixed_offset(),
                    time,
                    due,
                )
                .with_route(route.clone(), local.fixed_offset());
                let mut progress = dossiers::ProgressRow::new(&code);
                progress.fee_bearing = procedure.fee > 0;
                progress.yields_document = procedure.result_document.is_some();
                progress.first_due_at = Some(due_db);
                progress.current_step = state.current_step.map(|i| i as i32);
                let step_rows: Vec<_> = state
                    .steps
                    .iter()
                    .map(|s| motcua::service::processing::step_row(&code, s))
                    .collect();
                dossiers::insert_dossier(conn, &row, &progress, &paper_rows, &step_rows, &event)?;
                audit::append(
                    conn,
                    AuditEntry {
                        actor: &actor,
                        at: received,
                        action: "dossier.receive",
                        entity: "dossier",
                        entity_id: &code,
                        detail: json!({
                            "procedure": version.procedure_code,
                            "procedure_version": version.version,
                            "channel": "counter",
                            "papers": paper_rows.len(),
                            "due_at": due.to_rfc3339(),
                        }),
                    },
                )?;
                Ok::<_, StoreError>(())
            })
            .map_err(|e| e.to_string())
    };
    Ok(run_batch(clients, warmup, total, || (), op))
}

// ─── one backend ────────────────────────────────────────────────────────────

struct Row {
    backend: &'static str,
    measure: String,
    figure: String,
    ceiling: String,
    ratio: String,
}

/// `1,234 unit/s (p50 …, p99 …[, note])`.
fn figure<T>(b: &Batch<T>, unit: &str, note: &str) -> String {
    let mut s = format!(
        "{} {unit}/s (p50 {}, p99 {}",
        thousands(b.rate()),
        ms(b.pct(50.0)),
        ms(b.pct(99.0))
    );
    if !b.errors.is_empty() {
        s.push_str(&format!(", {} errors", b.errors.len()));
    }
    if !note.is_empty() {
        s.push_str("; ");
        s.push_str(note);
    }
    s.push(')');
    s
}

/// Server output without terminal colour codes.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ … final byte in @..~
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

fn report_errors<T>(what: &str, b: &Batch<T>) {
    for e in b.errors.iter().take(5) {
        eprintln!("  {what} error: {e}");
    }
}

fn run_backend(
    name: &'static str,
    db: &BenchDb,
    bin: &Path,
    args: &Args,
    rows: &mut Vec<Row>,
) -> anyhow::Result<()> {
    let c = args.clients;
    let data_dir = tempfile::tempdir()?;
    println!("\n## {name}");
    add_clerk(bin, &db.url, data_dir.path())?;
    let portal_secret = add_portal(bin, &db.url, data_dir.path())?;
    let server = Server::start(bin, &db.url, data_dir.path())?;
    let token = login(server.addr)?;
    let portal = portal_token(server.addr, &portal_secret)?;
    println!(
        "server {} on {} (one process, RUST_LOG=warn)",
        bin.display(),
        server.addr
    );

    // 1. Intake over HTTP.
    let warm = warmup_of(args.intakes, c, 200);
    let intake = run_batch(
        c,
        warm,
        args.intakes,
        || {
            let mut cl = Client::new(server.addr);
            let _ = cl.connect();
            cl
        },
        |cl, i| {
            let body = intake_body(i);
            match cl.request("POST", "/api/v1/dossiers", Some(&token), Some(&body)) {
                Ok(r) if r.status == 201 => {
                    let v: Value = serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
                    match (v["code"].as_str(), v["pin"].as_str()) {
                        (Some(code), Some(pin)) => Ok((code.to_string(), pin.to_string())),
                        _ => Err(format!("no code or pin in {v}")),
                    }
                }
                Ok(r) => Err(describe(r.status, &r.body)),
                Err(e) => Err(format!("transport: {e}")),
            }
        },
    );
    println!(
        "intake over HTTP, {c} clients (warm-up {warm} excluded): {}",
        intake.summary("dossiers")
    );
    report_errors("intake", &intake);
    let pairs = intake.outputs.clone();
    if pairs.is_empty() {
        bail!(
            "no dossier was received; server output:\n{}",
            server.output()
        );
    }

    // 1b. Online submissions by a portal over HTTP: submitted, not yet received.
    let submissions = args.portal.unwrap_or(args.intakes);
    let pwarm = warmup_of(submissions, c, 200);
    let online = (submissions > 0).then(|| {
        run_batch(
            c,
            pwarm,
            submissions,
            || {
                let mut cl = Client::new(server.addr);
                let _ = cl.connect();
                cl
            },
            |cl, i| {
                let body = body_on(args.intakes + i, "online");
                match cl.request("POST", "/api/v1/dossiers", Some(&portal), Some(&body)) {
                    Ok(r) if r.status == 201 => Ok(()),
                    Ok(r) => Err(describe(r.status, &r.body)),
                    Err(e) => Err(format!("transport: {e}")),
                }
            },
        )
    });
    if let Some(online) = &online {
        println!(
            "portal submissions over HTTP, {c} clients (warm-up {pwarm} excluded): {}",
            online.summary("dossiers")
        );
        report_errors("portal submission", online);
    }

    // 3. Public lookup over HTTP.
    let lwarm = warmup_of(args.lookups, c, 2000);
    let connect = || {
        let mut cl = Client::new(server.addr);
        let _ = cl.connect();
        cl
    };
    let lookup = run_batch(c, lwarm, args.lookups, connect, lookup_op(&pairs));
    println!(
        "public lookup over HTTP, {c} clients (warm-up {lwarm} excluded): {}",
        lookup.summary("lookups")
    );
    report_errors("lookup", &lookup);

    // 4. Lookup ceiling: the bare route, same body size, same client.
    let (code, pin) = &pairs[0];
    let sample = Client::new(server.addr).request(
        "GET",
        &format!("/api/v1/public/dossiers/{code}?pin={pin}"),
        None,
        None,
    )?;
    if sample.status != 200 {
        bail!("sample lookup: {}", describe(sample.status, &sample.body));
    }
    let body_len = sample.body.len();
    let bare = BareServer::start(sample.body)?;
    let bare_addr = bare.addr;
    let ceiling = run_batch(
        c,
        lwarm,
        args.lookups,
        || {
            let mut cl = Client::new(bare_addr);
            let _ = cl.connect();
            cl
        },
        lookup_op(&pairs),
    );
    drop(bare);
    println!(
        "bare actix-web route ({body_len}-byte JSON), {c} clients (warm-up {lwarm} excluded): {}",
        ceiling.summary("requests")
    );
    report_errors("bare route", &ceiling);

    // Anything the server said at warn level or above.
    let said = server.output();
    drop(server);
    if !said.trim().is_empty() {
        println!("server output (RUST_LOG=warn):");
        for l in strip_ansi(&said).lines().take(20) {
            println!("  {l}");
        }
    }

    // 2. Intake ceiling: the same rows written directly, in this process.
    let config = Config::load(
        Path::new("config"),
        &Overrides {
            database_url: Some(db.url.clone()),
            data_dir: Some(data_dir.path().display().to_string()),
            secret: Some(SECRET.into()),
            bind: None,
            smtp_password: None,
        },
    )
    .map_err(|e| anyhow!("config: {e}"))?;
    let pool = config.settings.pool_size;
    let app = App::start(config, Utc::now())?;
    let direct = direct_intake(&app, c, warm, args.intakes)?;
    println!(
        "intake rows written directly, one transaction each, {c} threads, pool {pool} (warm-up {warm} excluded): {}",
        direct.summary("dossiers")
    );
    report_errors("direct intake", &direct);
    drop(app);

    rows.push(Row {
        backend: name,
        measure: format!("intake, {c} HTTP clients, 1 server process"),
        figure: figure(&intake, "dossiers", ""),
        ceiling: figure(
            &direct,
            "dossiers",
            &format!("same rows via the store API, 1 transaction each, {c} threads, pool {pool}"),
        ),
        ratio: format!("{:.0} %", 100.0 * intake.rate() / direct.rate()),
    });
    if let Some(online) = &online {
        rows.push(Row {
            backend: name,
            measure: format!("portal submission (online, `submitted`), {c} HTTP clients"),
            figure: figure(online, "dossiers", ""),
            ceiling: figure(
                &direct,
                "dossiers",
                "the counter intake's direct-write ceiling above",
            ),
            ratio: format!("{:.0} %", 100.0 * online.rate() / direct.rate()),
        });
    }
    rows.push(Row {
        backend: name,
        measure: format!("public lookup, {c} HTTP clients, 1 server process"),
        figure: figure(&lookup, "lookups", ""),
        ceiling: figure(
            &ceiling,
            "req",
            &format!("bare actix-web route, same {body_len}-byte JSON"),
        ),
        ratio: format!("{:.0} %", 100.0 * lookup.rate() / ceiling.rate()),
    });
    Ok(())
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> anyhow::Result<()> {
    let args = Args::parse();
    if cfg!(debug_assertions) {
        bail!("build the bench with --release: cargo run --release --example bench");
    }
    if args.clients == 0 || args.intakes == 0 || args.lookups == 0 {
        bail!("--clients, --intakes and --lookups must be at least 1");
    }
    if !Path::new("config/default.toml").exists() {
        bail!("run the bench from the crate root (config/ and forms/ are read from there)");
    }
    let bin = server_binary(&args)?;
    let pg_url = std::env::var("MOTCUA_BENCH_PG_URL")
        .or_else(|_| std::env::var("MOTCUA_TEST_PG_URL"))
        .ok()
        .filter(|u| !u.trim().is_empty());
    let backends: Vec<&'static str> = match args.backend {
        BackendArg::Sqlite => vec!["SQLite"],
        BackendArg::Postgres => vec!["PostgreSQL"],
        BackendArg::Both => vec!["SQLite", "PostgreSQL"],
    };
    if backends.contains(&"PostgreSQL") && pg_url.is_none() {
        bail!(
            "PostgreSQL needs MOTCUA_BENCH_PG_URL or MOTCUA_TEST_PG_URL (or pass --backend sqlite)"
        );
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("# motcua bench");
    println!(
        "{} UTC; {cores} CPU cores; --intakes {} --lookups {} --clients {}; server {}",
        Utc::now().format("%Y-%m-%d %H:%M"),
        args.intakes,
        args.lookups,
        args.clients,
        bin.display()
    );
    if let Some(u) = &pg_url {
        if backends.contains(&"PostgreSQL") {
            println!("PostgreSQL {}", pg_version(u));
        }
    }
    let mut rows = Vec::new();
    for b in backends {
        let db = match b {
            "SQLite" => BenchDb::sqlite()?,
            _ => BenchDb::postgres(pg_url.as_deref().expect("checked"))?,
        };
        run_backend(b, &db, &bin, &args, &mut rows)?;
    }
    println!();
    println!("| backend | measure | figure | ceiling | ratio |");
    println!("|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            r.backend, r.measure, r.figure, r.ceiling, r.ratio
        );
    }
    Ok(())
}
