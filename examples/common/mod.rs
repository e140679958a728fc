//! What the benchmarks `bench` and `load` share: a small blocking HTTP/1.1 client, the
//! server under test (its binary, processes and accounts), the databases they make, the
//! catalogue's intake spread and the figures' formatting. Each example uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail, Context};
use chrono::Utc;
use diesel::{Connection, RunQueryDsl};
use serde_json::{json, Value};

use motcua::config::Config;

/// The server secret of the benchmarks' databases (stable, so that a kept database can be
/// measured again with the pins it handed out).
pub const SECRET: &str = "motcua-bench-secret-not-for-production-7f3a9c2e51d8b6";
/// The password of every benchmark account.
pub const PASSWORD: &str = "mat-khau-do-hieu-nang";

// ─── HTTP/1.1 client (blocking, keep-alive) ─────────────────────────────────

pub struct Client {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
}

pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
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
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr, conn: None }
    }

    pub fn connect(&mut self) -> std::io::Result<()> {
        let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(10))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        s.set_write_timeout(Some(Duration::from_secs(30)))?;
        self.conn = Some(BufReader::with_capacity(16 * 1024, s));
        Ok(())
    }

    /// One request on the kept-alive connection (opened when needed). No retry: a
    /// failure is reported, and the connection is dropped.
    pub fn request(
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

// ─── figures ────────────────────────────────────────────────────────────────

pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v < 10.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.1} ms")
    }
}

pub fn thousands(v: f64) -> String {
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

/// Nearest-rank percentile of sorted latencies (zero when there are none).
pub fn pct_sorted(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn pass(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

pub fn describe(status: u16, body: &[u8]) -> String {
    let b = String::from_utf8_lossy(body);
    format!("HTTP {status}: {}", b.chars().take(300).collect::<String>())
}

/// Server output without terminal colour codes.
pub fn strip_ansi(s: &str) -> String {
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

/// The machine's load average over 1, 5 and 15 minutes (`/proc/loadavg`).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

// ─── the server under test ──────────────────────────────────────────────────

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A `motcua` command on the database, with the shipped `config/` and the bench's secret.
pub fn motcua(bin: &Path, db_url: &str, data_dir: &Path) -> Command {
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

/// One `motcua serve` process on a free loopback port, killed when dropped.
pub struct Server {
    pub addr: SocketAddr,
    /// Where it serves `/metrics` (`MOTCUA_METRICS_BIND`).
    metrics: SocketAddr,
    child: Child,
    output: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(bin: &Path, db_url: &str, data_dir: &Path) -> anyhow::Result<Server> {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse()?;
        let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse()?;
        let mut child = motcua(bin, db_url, data_dir)
            .arg("serve")
            .env("MOTCUA_BIND", addr.to_string())
            .env("MOTCUA_METRICS_BIND", metrics.to_string())
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
            metrics,
            child,
            output,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
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
                    "the server did not answer /healthz within 120 s:\n{}",
                    s.output()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// One series' value from its `/metrics` (0 when absent).
    pub fn metric(&self, series: &str) -> anyhow::Result<f64> {
        let r = Client::new(self.metrics).request("GET", "/metrics", None, None)?;
        anyhow::ensure!(r.status == 200, "/metrics answered {}", r.status);
        Ok(String::from_utf8_lossy(&r.body)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| {
                let (k, v) = l.rsplit_once(' ')?;
                (k == series).then(|| v.parse().ok()).flatten()
            })
            .unwrap_or(0.0))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's resident set (`VmRSS` of `/proc/<pid>/status`), in kB.
    pub fn rss_kb(&self) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What it said at warn level or above, a few lines, for the report.
    pub fn print_output(&self, label: &str) {
        let said = self.output();
        if !said.trim().is_empty() {
            println!("{label} output (RUST_LOG=warn):");
            for l in strip_ansi(&said).lines().take(20) {
                println!("  {l}");
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `motcua user add` (the password on standard input, as an administrator types it).
/// With `or_reset`, an account that already exists (a reused database) gets the bench's
/// password again with `motcua user passwd` instead.
pub fn add_user(
    bin: &Path,
    db_url: &str,
    data_dir: &Path,
    user: &Account,
    or_reset: bool,
) -> anyhow::Result<()> {
    let run = |args: &[&str]| -> anyhow::Result<std::process::Output> {
        let mut child = motcua(bin, db_url, data_dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{PASSWORD}\n").as_bytes())?;
        Ok(child.wait_with_output()?)
    };
    let out = run(&[
        "user",
        "add",
        "--username",
        &user.username,
        "--full-name",
        &user.full_name,
        "--role",
        user.role,
        "--agency",
        &user.agency,
    ])?;
    if out.status.success() {
        return Ok(());
    }
    if or_reset && run(&["user", "passwd", &user.username])?.status.success() {
        return Ok(());
    }
    bail!(
        "motcua user add {} failed: {}{}",
        user.username,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A staff account of the benchmark.
#[derive(Clone, Debug)]
pub struct Account {
    pub username: String,
    pub full_name: String,
    /// clerk, official or leader.
    pub role: &'static str,
    pub agency: String,
}

impl Account {
    /// `bench.<role>.<agency code in lower case, dots as dashes>`.
    pub fn new(role: &'static str, agency: &str) -> Self {
        let tag = agency.to_ascii_lowercase().replace('.', "-");
        let who = match role {
            "clerk" => "Cán bộ một cửa",
            "official" => "Công chức xử lý",
            _ => "Lãnh đạo",
        };
        Self {
            username: format!("bench.{role}.{tag}"),
            full_name: format!("{who} đo hiệu năng"),
            role,
            agency: agency.to_string(),
        }
    }
}

pub fn login(addr: SocketAddr, username: &str) -> anyhow::Result<String> {
    let body = json!({ "username": username, "password": PASSWORD }).to_string();
    let r = Client::new(addr).request("POST", "/api/v1/auth/login", None, Some(body.as_bytes()))?;
    let v: Value = serde_json::from_slice(&r.body)?;
    if r.status != 200 {
        bail!("login of {username} answered {}: {v}", r.status);
    }
    Ok(v["access_token"]
        .as_str()
        .ok_or_else(|| anyhow!("no access_token in {v}"))?
        .to_string())
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

/// The server binary (default: `motcua` next to this example's directory), refused when
/// older than the sources unless `allow_stale`.
pub fn server_binary(given: Option<&Path>, allow_stale: bool) -> anyhow::Result<PathBuf> {
    let bin = match given {
        Some(b) => b.to_path_buf(),
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
            "the server binary {} is missing: run `cargo build --release --bin motcua` first",
            bin.display()
        )
    })?;
    let (newest, file) = newest_source(Path::new(env!("CARGO_MANIFEST_DIR")))?;
    if meta.modified()? < newest {
        let msg = format!(
            "the server binary {} is older than {}: run `cargo build --release --bin motcua` \
             first (or pass --allow-stale-binary)",
            bin.display(),
            file.display()
        );
        if allow_stale {
            eprintln!("warning: {msg}");
        } else {
            bail!(msg);
        }
    }
    Ok(bin)
}

// ─── databases ──────────────────────────────────────────────────────────────

/// A database for one run: a fresh SQLite file in a temporary directory, or a fresh
/// PostgreSQL database; dropped afterwards unless kept.
pub struct BenchDb {
    pub url: String,
    dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
    keep: bool,
}

impl BenchDb {
    pub fn sqlite() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        Ok(Self {
            url: format!("sqlite://{}/motcua.db", dir.path().display()),
            dir: Some(dir),
            pg: None,
            keep: false,
        })
    }

    /// A new database `<prefix>_<pid>_<nanos>` next to the admin URL's.
    pub fn postgres_named(admin: &str, prefix: &str) -> anyhow::Result<Self> {
        let name = format!(
            "{prefix}_{}_{}",
            std::process::id(),
            Utc::now().timestamp_subsec_nanos()
        );
        let mut c = diesel::PgConnection::establish(admin)
            .with_context(|| "connecting to the PostgreSQL bench URL")?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c)?;
        let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
        Ok(Self {
            url: format!("{base}/{name}"),
            dir: None,
            pg: Some((admin.to_string(), name)),
            keep: false,
        })
    }

    pub fn postgres(admin: &str) -> anyhow::Result<Self> {
        Self::postgres_named(admin, "motcua_bench")
    }

    /// Keep the database when dropped (a SQLite file stays in its directory).
    pub fn keep(&mut self) {
        self.keep = true;
        if let Some(d) = self.dir.take() {
            let _ = d.keep();
        }
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut c) = diesel::PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c);
            }
        }
    }
}

pub fn pg_version(url: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    diesel::PgConnection::establish(url)
        .ok()
        .and_then(|mut c| {
            diesel::sql_query("SELECT current_setting('server_version') || ', synchronous_commit=' || current_setting('synchronous_commit') || ', fsync=' || current_setting('fsync') || ', shared_buffers=' || current_setting('shared_buffers') AS v")
                .get_result::<V>(&mut c)
                .ok()
        })
        .map_or_else(|| "?".into(), |v| v.v)
}

// ─── the catalogue's intake spread ──────────────────────────────────────────

/// A kind of dossier a clerk of `agency` may receive at the counter.
#[derive(Clone, Debug)]
pub struct IntakePair {
    pub agency: String,
    pub procedure: String,
    /// Given in the request when the server cannot infer it: a commune-level procedure
    /// received at the province's one-stop centre names the applicant's ward.
    pub competent: Option<String>,
    /// The dossier is decided where it is received (a commune's own procedure).
    pub decided_here: bool,
    papers: Vec<Value>,
}

/// The (agency, procedure) pairs of the configured catalogue that a clerk may receive,
/// by the server's own rule (`App::competent_for`): at every one-stop desk (the levels
/// marked `one_stop_centre`: the province's centre and the communes) each procedure whose
/// competent agency is known or is the desk itself — at the centre, a commune-level one
/// with a ward named, in turn — and at every other agency the procedures it decides
/// itself. Agencies that neither keep a desk nor decide a procedure receive nothing.
pub fn intake_pairs(config: &Config) -> Vec<IntakePair> {
    let agencies = &config.agencies;
    let desk_levels: Vec<&str> = agencies
        .levels
        .iter()
        .filter(|l| l.one_stop_centre)
        .map(|l| l.id.as_str())
        .collect();
    let communes: Vec<&str> = agencies
        .agencies
        .iter()
        .filter(|a| a.level == "commune")
        .map(|a| a.code.as_str())
        .collect();
    let mut pairs = Vec::new();
    let mut ward = 0;
    for a in &agencies.agencies {
        let desk = desk_levels.contains(&a.level.as_str());
        for p in config.catalogue.procedures.values() {
            let papers: Vec<Value> = p
                .papers
                .iter()
                .filter(|x| x.required)
                .map(|x| json!({ "name": x.name, "kind": x.kind, "count": x.count }))
                .collect();
            let needs_competent = p.steps.iter().any(|s| s.agency == "competent");
            let (ok, competent, decided_here) = match (&p.competent_agency, &p.competent_level) {
                (Some(fixed), _) => (desk || *fixed == a.code, None, *fixed == a.code),
                (None, Some(level)) if *level == a.level => (true, None, true),
                (None, Some(level)) if level == "commune" && desk && !communes.is_empty() => {
                    ward += 1;
                    (
                        true,
                        Some(communes[ward % communes.len()].to_string()),
                        false,
                    )
                }
                (None, None) if !needs_competent => (desk, None, true),
                _ => (false, None, false),
            };
            if ok {
                pairs.push(IntakePair {
                    agency: a.code.clone(),
                    procedure: p.code.clone(),
                    competent,
                    decided_here,
                    papers,
                });
            }
        }
    }
    pairs
}

/// The agencies of `pairs`, in order of first appearance.
pub fn agencies_of(pairs: &[IntakePair]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in pairs {
        if !out.contains(&p.agency) {
            out.push(p.agency.clone());
        }
    }
    out
}

/// The spread's pairs interleaved, so that consecutive intakes go to different agencies:
/// the first pair of each agency, then the second, and so on.
pub fn interleave(pairs: Vec<IntakePair>) -> Vec<IntakePair> {
    let agencies = agencies_of(&pairs);
    let mut by: Vec<Vec<IntakePair>> = vec![Vec::new(); agencies.len()];
    for p in pairs {
        let k = agencies
            .iter()
            .position(|a| *a == p.agency)
            .expect("listed");
        by[k].push(p);
    }
    let longest = by.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::new();
    for i in 0..longest {
        for list in &by {
            if let Some(p) = list.get(i) {
                out.push(p.clone());
            }
        }
    }
    out
}

/// A counter intake of `pair` with its required papers; applicant `i`.
pub fn intake_body_of(pair: &IntakePair, i: usize) -> Vec<u8> {
    let mut body = json!({
        "procedure_code": pair.procedure,
        "channel": "counter",
        "applicant": {
            "full_name": "Nguyễn Văn An",
            "id_number": format!("001090{:06}", i % 1_000_000),
            "phone": "0912345678"
        },
        "papers": pair.papers,
    });
    if let Some(c) = &pair.competent {
        body["competent_agency"] = json!(c);
    }
    body.to_string().into_bytes()
}
