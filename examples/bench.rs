//! Intake and public-lookup throughput of the real server, each beside its ceiling.
//!
//! ```sh
//! cargo build --release --bin motcua --example bench   # the server binary under test, first
//! MOTCUA_TEST_PG_URL=postgres://motcua:motcua@127.0.0.1:5432/motcua \
//!   cargo run --release --example bench -- [--backend sqlite|postgres|both] \
//!     [--intakes N] [--lookups M] [--clients C] [--pgbench-s 15] [--processes 1,2,4]
//! ```
//!
//! Defaults: `--backend both --intakes 2000 --lookups 20000 --clients 16 --pgbench-s 15
//! --processes 1,2,4`. PostgreSQL is reached through `MOTCUA_BENCH_PG_URL` (else
//! `MOTCUA_TEST_PG_URL`), a role allowed to create databases: the bench creates its own
//! database and drops it at the end. Run it from the crate root (it reads `config/` and
//! `forms/`, like the server).
//!
//! For each backend, on the same machine and in the same run:
//!
//! 1. **intake over HTTP, spread** (the headline) — `target/release/motcua` (one process,
//!    `RUST_LOG=warn`, the shipped `config/`) on a fresh database; C client threads, each
//!    with one keep-alive connection and one request in flight, POST N counter dossiers
//!    spread over the sample catalogue: every (agency, procedure) pair a clerk of that
//!    agency may receive (`common::intake_pairs`: the one-stop desks — the province's
//!    centre and the communes — receive every procedure, the centre naming the ward for a
//!    commune-level one; the agencies that decide a procedure themselves receive it too),
//!    interleaved, each by a clerk of its agency (one account per agency, made with
//!    `motcua user add`). Figure: N / wall-clock of the whole batch; p50/p99 of the
//!    per-request latency.
//!    **intake over HTTP, one agency** (the worst case, the measure before issue #18) —
//!    the same, every dossier a birth registration at one ward.
//!    **portal submissions over HTTP** — the same, by a portal client (`channel: online`):
//!    each dossier arrives `submitted`, with its code and pin, waiting for the desk's
//!    official receipt (NĐ 118/2025 Art. 17(2)); `--portal N` of them (default: N as
//!    `--intakes`; 0 skips the measure).
//! 2. **intake ceiling** — the one-agency rows written directly by this process with the
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
//! PostgreSQL only, on the same database:
//!
//! 5. **`pgbench` ceiling** — `pgbench -n -c C -j <cores> -T <--pgbench-s>` with a custom
//!    script of one transaction of ten single-row INSERTs into a scratch table (about an
//!    intake's row count), the database's own rate for such transactions. Printed with
//!    the ratio *spread intake / pgbench tps* and its gate (≥ 0.5: PASS/FAIL). Without
//!    `pgbench` on the PATH (or `MOTCUA_BENCH_PGBENCH`) the same transactions are run
//!    by C threads of this process through libpq, and the line says so. Next to it, the
//!    rows a spread intake inserted (counted in the database after step 1) and the rows
//!    a second that makes, against pgbench's ten per transaction.
//! 6. **server processes** — for each count of `--processes` (default 1, 2, 4), that many
//!    `motcua` processes on different ports against the same database; the C clients are
//!    spread round-robin over them and POST N spread intakes. Total intake for each count,
//!    and the gate *2 processes ≥ 1* (PASS/FAIL).
//!
//! Warm-up requests (connections opened, caches filled) are excluded from every figure.
//! The last lines are a Markdown table (backend, measure, figure, ceiling, ratio) to paste
//! into the README, then the gates. The bench refuses a server binary older than the
//! sources (`--allow-stale-binary` to measure it anyway) and a debug build of itself.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use chrono::{Datelike, DurationRound, Utc};
use clap::{Parser, ValueEnum};
use diesel::{Connection, RunQueryDsl};
use serde_json::{json, Value};

use common::{
    add_user, agencies_of, describe, intake_body_of, intake_pairs, interleave, login, ms, pass,
    pct_sorted, pg_version, server_binary, thousands, Account, BenchDb, Client, IntakePair, Server,
    SECRET,
};
use motcua::app::App;
use motcua::config::{Config, Overrides};
use motcua::core::catalogue::Procedure;
use motcua::core::dossier::{rule_set_for, Status};
use motcua::core::{pin, text};
use motcua::store::audit::{self, Actor, AuditEntry};
use motcua::store::dossiers::{self, DossierRow, EventRow, PaperRow};
use motcua::store::{to_db, StoreError};

/// The one-agency worst case: birth registrations at one ward.
const AGENCY: &str = "000.00.51.H26";
const PROCEDURE: &str = "1.001193.000.00.00.H26";
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
    /// Dossiers received over HTTP in each intake measure (and written directly for the
    /// ceiling).
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
    /// Seconds of the pgbench ceiling (PostgreSQL).
    #[arg(long, default_value_t = 15)]
    pgbench_s: u32,
    /// Server process counts measured on one PostgreSQL database (empty: skip).
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    processes: Vec<usize>,
    /// The server binary (default: `motcua` next to this example's directory).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Measure a server binary even if it is older than the sources.
    #[arg(long)]
    allow_stale_binary: bool,
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
        pct_sorted(&v, p)
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
    let out = common::motcua(bin, db_url, data_dir)
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
    let clerk = Account::new("clerk", AGENCY).username;
    let actor = Actor {
        username: clerk.clone(),
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
                    received_by: clerk.clone(),
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
                    actor: clerk.clone(),
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

fn report_errors<T>(what: &str, b: &Batch<T>) {
    for e in b.errors.iter().take(5) {
        eprintln!("  {what} error: {e}");
    }
}

/// The clerks of the spread's agencies, each with a token from the server at `addr`.
fn clerk_tokens(addr: SocketAddr, agencies: &[String]) -> anyhow::Result<Vec<String>> {
    agencies
        .iter()
        .map(|a| login(addr, &Account::new("clerk", a).username))
        .collect()
}

/// The spread intakes over HTTP: operation `i` receives pair `i % len` (offset by `base`)
/// at the server `i % servers`, by a clerk of the pair's agency; returns code and pin.
struct Spread<'a> {
    pairs: &'a [IntakePair],
    agencies: &'a [String],
    /// Per server, per agency: the clerk's token.
    tokens: Vec<Vec<String>>,
    addrs: Vec<SocketAddr>,
    base: usize,
}

impl Spread<'_> {
    fn run(&self, clients: usize, warmup: usize, total: usize) -> Batch<(String, String)> {
        let next_client = AtomicUsize::new(0);
        run_batch(
            clients,
            warmup,
            total,
            || {
                // Client k talks to server k % servers: round-robin over the processes.
                let k = next_client.fetch_add(1, Ordering::Relaxed) % self.addrs.len();
                let mut cl = Client::new(self.addrs[k]);
                let _ = cl.connect();
                (k, cl)
            },
            |(k, cl), i| {
                let pair = &self.pairs[(self.base + i) % self.pairs.len()];
                let a = self
                    .agencies
                    .iter()
                    .position(|a| *a == pair.agency)
                    .expect("listed");
                let body = intake_body_of(pair, self.base + i);
                let token = &self.tokens[*k][a];
                match cl.request("POST", "/api/v1/dossiers", Some(token), Some(&body)) {
                    Ok(r) if r.status == 201 => {
                        let v: Value =
                            serde_json::from_slice(&r.body).map_err(|e| e.to_string())?;
                        match (v["code"].as_str(), v["pin"].as_str()) {
                            (Some(code), Some(pin)) => Ok((code.to_string(), pin.to_string())),
                            _ => Err(format!("no code or pin in {v}")),
                        }
                    }
                    Ok(r) => Err(format!(
                        "{} at {}: {}",
                        pair.procedure,
                        pair.agency,
                        describe(r.status, &r.body)
                    )),
                    Err(e) => Err(format!("transport: {e}")),
                }
            },
        )
    }
}

/// The pgbench ceiling: transactions of ten single-row INSERTs per second.
struct PgbenchCeiling {
    tps: f64,
    how: String,
    latency: Option<String>,
}

const PGBENCH_TABLE: &str = "bench_pgbench_ten";

/// The rows the intakes so far inserted, per dossier: the dossier, its progress, papers,
/// route, first event, holders, name keys, messages and first audit record with its
/// stream. Not counted: the rollup deltas (the sealer folds them away) and the two
/// sequence rows each intake updates.
fn rows_per_dossier(url: &str) -> anyhow::Result<f64> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut c = diesel::PgConnection::establish(url)?;
    let count = |c: &mut diesel::PgConnection, sql: &str| -> anyhow::Result<i64> {
        Ok(diesel::sql_query(sql).get_result::<Count>(c)?.n)
    };
    let dossiers = count(&mut c, "SELECT count(*) AS n FROM dossiers")?;
    let rows = count(
        &mut c,
        "SELECT (SELECT count(*) FROM dossiers) + (SELECT count(*) FROM dossier_progress) \
         + (SELECT count(*) FROM dossier_papers) + (SELECT count(*) FROM dossier_steps) \
         + (SELECT count(*) FROM dossier_events) + (SELECT count(*) FROM dossier_agencies) \
         + (SELECT count(*) FROM dossier_name_keys) + (SELECT count(*) FROM outbox) \
         + (SELECT count(*) FROM audit_log WHERE entity = 'dossier') \
         + (SELECT count(*) FROM audit_streams WHERE stream LIKE 'dossier:%') AS n",
    )?;
    if dossiers == 0 {
        bail!("no dossier in the database after the spread intake");
    }
    Ok(rows as f64 / dossiers as f64)
}

/// One transaction of ten single-row INSERTs, about the rows an intake writes.
fn pgbench_script() -> String {
    let mut s = String::from("BEGIN;\n");
    for k in 1..=10 {
        s.push_str(&format!(
            "INSERT INTO {PGBENCH_TABLE} (client, k, at, note) VALUES (:client_id, {k}, now(), 'Tờ khai đăng ký khai sinh theo mẫu');\n"
        ));
    }
    s.push_str("COMMIT;\n");
    s
}

fn pgbench_ceiling(url: &str, clients: usize, seconds: u32) -> anyhow::Result<PgbenchCeiling> {
    let mut c = diesel::PgConnection::establish(url)?;
    diesel::sql_query(format!(
        "CREATE TABLE IF NOT EXISTS {PGBENCH_TABLE} (id BIGSERIAL PRIMARY KEY, client INTEGER NOT NULL, k INTEGER NOT NULL, at TIMESTAMP NOT NULL, note TEXT NOT NULL)"
    ))
    .execute(&mut c)?;
    let result = pgbench_run(url, clients, seconds);
    diesel::sql_query(format!("DROP TABLE IF EXISTS {PGBENCH_TABLE}")).execute(&mut c)?;
    result
}

fn pgbench_run(url: &str, clients: usize, seconds: u32) -> anyhow::Result<PgbenchCeiling> {
    let exe = std::env::var("MOTCUA_BENCH_PGBENCH").unwrap_or_else(|_| "pgbench".into());
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(clients);
    let dir = tempfile::tempdir()?;
    let script = dir.path().join("ten-inserts.sql");
    std::fs::write(&script, pgbench_script())?;
    let run = Command::new(&exe)
        .args(["-n", "-c", &clients.to_string(), "-j", &threads.to_string()])
        .args(["-T", &seconds.to_string(), "-f"])
        .arg(&script)
        .arg(url)
        .stdin(Stdio::null())
        .output();
    match run {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let tps = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("tps = "))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| anyhow!("no tps in pgbench's output:\n{text}"))?;
            let latency = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("latency average = "))
                .map(|v| format!("mean latency {v}"));
            Ok(PgbenchCeiling {
                tps,
                how: format!("`pgbench -n -c {clients} -j {threads} -T {seconds}`, 1 transaction of 10 single-row INSERTs"),
                latency,
            })
        }
        Ok(out) => bail!(
            "pgbench failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("pgbench not found ({exe}): the same transactions through libpq instead");
            libpq_ten_inserts(url, clients, seconds)
        }
        Err(e) => Err(e.into()),
    }
}

/// The pgbench script's transactions run by `clients` threads of this process, each on
/// its own connection, for `seconds`.
fn libpq_ten_inserts(url: &str, clients: usize, seconds: u32) -> anyhow::Result<PgbenchCeiling> {
    let sql = pgbench_script();
    let stop = Instant::now() + Duration::from_secs(u64::from(seconds));
    let done = AtomicUsize::new(0);
    let failed = Mutex::new(None);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for client in 0..clients {
            let (sql, done, failed) = (&sql, &done, &failed);
            scope.spawn(move || {
                let mut c = match diesel::PgConnection::establish(url) {
                    Ok(c) => c,
                    Err(e) => {
                        *failed.lock().unwrap() = Some(e.to_string());
                        return;
                    }
                };
                let sql = sql.replace(":client_id", &client.to_string());
                while Instant::now() < stop {
                    if let Err(e) =
                        diesel::connection::SimpleConnection::batch_execute(&mut c, &sql)
                    {
                        *failed.lock().unwrap() = Some(e.to_string());
                        return;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().unwrap() {
        bail!("ten INSERTs through libpq: {e}");
    }
    Ok(PgbenchCeiling {
        tps: done.into_inner() as f64 / start.elapsed().as_secs_f64(),
        how: format!(
            "pgbench not installed: the same script through libpq, {clients} threads, {seconds} s"
        ),
        latency: None,
    })
}

/// What the PostgreSQL part adds to the report.
#[derive(Default)]
struct Gates {
    lines: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
fn run_backend(
    name: &'static str,
    db: &BenchDb,
    bin: &Path,
    args: &Args,
    config: &Config,
    rows: &mut Vec<Row>,
    gates: &mut Gates,
) -> anyhow::Result<()> {
    let c = args.clients;
    let data_dir = tempfile::tempdir()?;
    println!("\n## {name}");
    let pairs = interleave(intake_pairs(config));
    let agencies = agencies_of(&pairs);
    let procedures = {
        let mut p: Vec<&str> = pairs.iter().map(|p| p.procedure.as_str()).collect();
        p.sort_unstable();
        p.dedup();
        p.len()
    };
    let spread_note = format!(
        "{} agencies × {procedures} procedures, {} pairs",
        agencies.len(),
        pairs.len()
    );
    if !agencies.iter().any(|a| a == AGENCY) {
        bail!("{AGENCY} receives nothing in the spread");
    }
    let started = Instant::now();
    for a in &agencies {
        add_user(
            bin,
            &db.url,
            data_dir.path(),
            &Account::new("clerk", a),
            false,
        )?;
    }
    println!(
        "{} clerks made with `motcua user add` in {:.1} s (one per agency of the spread: {spread_note})",
        agencies.len(),
        started.elapsed().as_secs_f64()
    );
    let portal_secret = add_portal(bin, &db.url, data_dir.path())?;
    let server = Server::start(bin, &db.url, data_dir.path())?;
    let tokens = clerk_tokens(server.addr, &agencies)?;
    let token = tokens[agencies.iter().position(|a| a == AGENCY).expect("checked")].clone();
    let portal = portal_token(server.addr, &portal_secret)?;
    println!(
        "server {} on {} (one process, RUST_LOG=warn)",
        bin.display(),
        server.addr
    );

    // 1. Intake over HTTP, spread over the catalogue: the headline.
    let warm = warmup_of(args.intakes, c, 200);
    let spread = Spread {
        pairs: &pairs,
        agencies: &agencies,
        tokens: vec![tokens.clone()],
        addrs: vec![server.addr],
        base: 0,
    }
    .run(c, warm, args.intakes);
    println!(
        "intake over HTTP spread over {spread_note}, {c} clients (warm-up {warm} excluded): {}",
        spread.summary("dossiers")
    );
    report_errors("spread intake", &spread);
    // What each of those intakes asked of the database, in rows (PostgreSQL: next to
    // pgbench's ten, below).
    let spread_rows = match name {
        "PostgreSQL" => Some(rows_per_dossier(&db.url)?),
        _ => None,
    };

    // 1a. The worst case: every intake at one agency, one procedure.
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
        "intake over HTTP at one agency ({AGENCY}, {PROCEDURE}), {c} clients (warm-up {warm} excluded): {}",
        intake.summary("dossiers")
    );
    report_errors("intake", &intake);
    let mut pairs_out = spread.outputs.clone();
    pairs_out.extend(intake.outputs.iter().cloned());
    if pairs_out.is_empty() {
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

    // 3. Public lookup over HTTP, over the codes of both intake measures.
    let lwarm = warmup_of(args.lookups, c, 2000);
    let connect = || {
        let mut cl = Client::new(server.addr);
        let _ = cl.connect();
        cl
    };
    let lookup = run_batch(c, lwarm, args.lookups, connect, lookup_op(&pairs_out));
    println!(
        "public lookup over HTTP, {c} clients (warm-up {lwarm} excluded): {}",
        lookup.summary("lookups")
    );
    report_errors("lookup", &lookup);

    // 4. Lookup ceiling: the bare route, same body size, same client.
    let (code, pin) = &intake.outputs.first().unwrap_or(&pairs_out[0]);
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
        lookup_op(&pairs_out),
    );
    drop(bare);
    println!(
        "bare actix-web route ({body_len}-byte JSON), {c} clients (warm-up {lwarm} excluded): {}",
        ceiling.summary("requests")
    );
    report_errors("bare route", &ceiling);

    // Anything the server said at warn level or above.
    server.print_output("server");
    drop(server);

    // 2. Intake ceiling: the same rows written directly, in this process.
    let config = Config::load(
        Path::new("config"),
        &Overrides {
            database_url: Some(db.url.clone()),
            data_dir: Some(data_dir.path().display().to_string()),
            secret: Some(SECRET.into()),
            bind: None,
            smtp_password: None,
            metrics_bind: None,
            trusted_proxies: None,
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

    // 5. PostgreSQL: the database's own ceiling for transactions of ten INSERTs.
    let pgbench = if name == "PostgreSQL" {
        let p = pgbench_ceiling(&db.url, c, args.pgbench_s)?;
        println!(
            "pgbench ceiling: {} transactions/s of 10 single-row INSERTs ({}{})",
            thousands(p.tps),
            p.how,
            p.latency
                .as_deref()
                .map(|l| format!("; {l}"))
                .unwrap_or_default()
        );
        let ratio = spread.rate() / p.tps;
        let line = format!(
            "{name}: spread intake / pgbench 10-row tps = {} / {} = {ratio:.2} (gate ≥ 0.5): {}",
            thousands(spread.rate()),
            thousands(p.tps),
            pass(ratio >= 0.5)
        );
        println!("{line}");
        gates.lines.push(line);
        if let Some(r) = spread_rows {
            println!(
                "rows: a spread intake inserts {r:.1} rows (its rollup deltas and sequence updates not counted): {} rows/s, against pgbench's {} rows/s",
                thousands(spread.rate() * r),
                thousands(p.tps * 10.0)
            );
        }
        Some(p)
    } else {
        None
    };
    let pg_figure = |p: &PgbenchCeiling| {
        format!(
            "{} transactions/s ({}{})",
            thousands(p.tps),
            p.how,
            p.latency
                .as_deref()
                .map(|l| format!("; {l}"))
                .unwrap_or_default()
        )
    };

    match &pgbench {
        Some(p) => rows.push(Row {
            backend: name,
            measure: format!(
                "**intake spread** over {spread_note}, {c} HTTP clients, 1 server process"
            ),
            figure: figure(&spread, "dossiers", ""),
            ceiling: pg_figure(p),
            ratio: format!("{:.0} %", 100.0 * spread.rate() / p.tps),
        }),
        None => rows.push(Row {
            backend: name,
            measure: format!(
                "**intake spread** over {spread_note}, {c} HTTP clients, 1 server process"
            ),
            figure: figure(&spread, "dossiers", ""),
            ceiling: figure(
                &direct,
                "dossiers",
                "the one-agency direct-write ceiling below",
            ),
            ratio: format!("{:.0} %", 100.0 * spread.rate() / direct.rate()),
        }),
    }
    rows.push(Row {
        backend: name,
        measure: format!("intake at one agency (worst case), {c} HTTP clients, 1 server process"),
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

    // 6. PostgreSQL: 1, 2, 4… server processes on the one database.
    if let Some(p) = &pgbench {
        let mut totals: Vec<(usize, f64)> = Vec::new();
        for (round, &n) in args.processes.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let servers: Vec<Server> = (0..n)
                .map(|_| Server::start(bin, &db.url, data_dir.path()))
                .collect::<anyhow::Result<_>>()?;
            let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
            let tokens = addrs
                .iter()
                .map(|a| clerk_tokens(*a, &agencies))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let b = Spread {
                pairs: &pairs,
                agencies: &agencies,
                tokens,
                addrs,
                base: (round + 1) * (args.intakes + warm),
            }
            .run(c, warm, args.intakes);
            println!(
                "intake spread over {n} server process(es), {c} clients round-robin (warm-up {warm} excluded): {}",
                b.summary("dossiers")
            );
            report_errors(&format!("{n}-process intake"), &b);
            // How the intakes shared transactions (group commit), warm-up included.
            let mut said = Vec::new();
            for s in &servers {
                let count = s.metric("motcua_intake_batch_size_count")?;
                let sum = s.metric("motcua_intake_batch_size_sum")?;
                said.push(format!(
                    "{} intakes in {} transactions ({:.1} each)",
                    thousands(sum),
                    thousands(count),
                    sum / count.max(1.0)
                ));
            }
            println!("  group commit, per process: {}", said.join("; "));
            for (k, s) in servers.iter().enumerate() {
                s.print_output(&format!("server {}/{n}", k + 1));
            }
            drop(servers);
            rows.push(Row {
                backend: name,
                measure: format!(
                    "intake spread, {c} HTTP clients round-robin over **{n} server process{}** on one database",
                    if n == 1 { "" } else { "es" }
                ),
                figure: figure(&b, "dossiers", ""),
                ceiling: format!("{} transactions/s (pgbench above)", thousands(p.tps)),
                ratio: format!("{:.0} %", 100.0 * b.rate() / p.tps),
            });
            totals.push((n, b.rate()));
        }
        let of = |n: usize| totals.iter().find(|(k, _)| *k == n).map(|(_, r)| *r);
        if let (Some(one), Some(two)) = (of(1), of(2)) {
            let line = format!(
                "{name}: total intake with 2 server processes {} ≥ with 1 {}: {}",
                thousands(two),
                thousands(one),
                pass(two >= one)
            );
            println!("{line}");
            gates.lines.push(line);
        }
    }
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
    let bin = server_binary(args.server_bin.as_deref(), args.allow_stale_binary)?;
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
    // The catalogue as the server reads it, for the spread's (agency, procedure) pairs.
    let config = Config::load(
        Path::new("config"),
        &Overrides {
            secret: Some(SECRET.into()),
            ..Overrides::default()
        },
    )
    .map_err(|e| anyhow!("config: {e}"))?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("# motcua bench");
    println!(
        "{} UTC; {cores} CPU cores, load average {}; --intakes {} --lookups {} --clients {} --pgbench-s {} --processes {:?}; server {}",
        Utc::now().format("%Y-%m-%d %H:%M"),
        common::load_average(),
        args.intakes,
        args.lookups,
        args.clients,
        args.pgbench_s,
        args.processes,
        bin.display()
    );
    println!(
        "catalogue: {} agencies, {} procedures (config/)",
        config.agencies.agencies.len(),
        config.catalogue.len()
    );
    if let Some(u) = &pg_url {
        if backends.contains(&"PostgreSQL") {
            println!("PostgreSQL {}", pg_version(u));
        }
    }
    let mut rows = Vec::new();
    let mut gates = Gates::default();
    for b in backends {
        let db = match b {
            "SQLite" => BenchDb::sqlite()?,
            _ => BenchDb::postgres(pg_url.as_deref().expect("checked"))?,
        };
        run_backend(b, &db, &bin, &args, &config, &mut rows, &mut gates)?;
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
    if !gates.lines.is_empty() {
        println!();
        for l in &gates.lines {
            println!("- {l}");
        }
    }
    println!("\nload average at the end: {}", common::load_average());
    Ok(())
}
