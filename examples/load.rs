//! The mixed-load benchmark (issue #18): the real server under a realistic mix on a large
//! database, at a fixed offered rate, then a spike, then a soak; every gate PASS or FAIL.
//!
//! ```sh
//! cargo build --release --bin motcua --example load
//! MOTCUA_TEST_PG_URL=postgres://motcua:motcua@127.0.0.1:5432/motcua \
//!   cargo run --release --example load -- --keep              # seeds 1,000,000 dossiers
//! cargo run --release --example load -- --reuse URL          # a kept database again
//! cargo run --release --example load -- --dossiers 20000 --soak-s 60   # a quick run
//! ```
//!
//! **The database.** Without `--reuse`, a fresh PostgreSQL database (`MOTCUA_BENCH_PG_URL`,
//! else `MOTCUA_TEST_PG_URL`: a role that may create databases; `--backend sqlite` for a
//! SQLite file instead) seeded by `motcua seed-load N` (`--dossiers N`, default
//! 1,000,000: a year of synthetic dossiers at the sample catalogue's agencies, about 6 %
//! of them still open); it is dropped at the end unless `--keep`, which prints the
//! `--reuse URL`. A reused database keeps what earlier runs did (their dossiers moved on,
//! their intakes). The accounts are made with `motcua user add` (or given the bench's
//! password again with `motcua user passwd` on a reused database): a clerk at every agency
//! that receives (the spread of `examples/bench.rs`), an official and a leader at every
//! commune.
//!
//! **The mix**, over HTTP against `--servers N` `target/release/motcua` processes (default
//! 1) on that database, requests spread round-robin over them:
//! - 40 % **events** on open dossiers of the communes, by the right staff, each dossier
//!   taken through *assign* (leader) → *propose* (official) → *decide: approved* (leader) →
//!   *return* (clerk), `POST /api/v1/dossiers/{code}/events`; about 256 dossiers are
//!   worked on at once, new ones taken from the seeded open dossiers and the run's own
//!   commune intakes. No two requests act on one dossier at once, so a 409/422 would be
//!   a race or a refusal the bench did not expect: counted as a *conflict*, reported
//!   with its error code, not as an error.
//! - 10 % **intakes**, `POST /api/v1/dossiers`, spread over the catalogue's (agency,
//!   procedure) pairs by the clerk of each agency.
//! - 30 % **staff reads**: the work queue `GET /api/v1/queue?limit=50` (clerk, official
//!   and leader of a commune in turn) and the search `GET /api/v1/dossiers?q=…&limit=20`
//!   (names, a code prefix, an ID number); `--reads queue` or `--reads search` for one
//!   of them only.
//! - 20 % **public lookups**, `GET /api/v1/public/dossiers/{code}?pin=`, over the codes and
//!   pins of the run's intakes (seeded dossiers have no pin); 100 intakes are made before
//!   the warm-up for that.
//!
//! **Open loop.** Request k is due at `start + k / rate`; `--workers` threads (default 64)
//! take the requests in order, wait for their moment and send them; a request's latency
//! is measured from its moment, not from when a worker got to it, so a slow server cannot
//! hide its queue (no coordinated omission). The generator's own lag (how late a worker
//! was) is printed. A phase stops when a request is more than `--max-lag-s` (30) late:
//! the server cannot keep up, what follows would only queue; the phase is marked
//! ABANDONED and its gates fail.
//!
//! **Phases and gates**: warm-up (`--warmup-s`, 20, not measured); steady (`--steady-s`,
//! 60, at `--rate`, default 100 requests/s): **p99 of reads (staff reads and lookups)
//! ≤ 50 ms and p99 of writes (events and intakes) ≤ 100 ms**; spike (`--spike-s` 30 at
//! `--spike-factor` 5 × the rate): **0 errors** (an error: a transport failure, a 5xx or
//! any status the operation does not expect; conflicts are counted apart); soak
//! (`--soak-s`, 600, at the rate): **flat RSS** — each server's `VmRSS`
//! (`/proc/<pid>/status`, sampled every `--rss-every-s` 5 s) averaged over the soak's
//! last minute is within 10 % of its average over the soak's first minute (windows of
//! a third of the soak when it is shorter than three minutes); and over the whole run
//! **RSS ≤ 150 MiB per server process** (at the database's size). The staff tokens last
//! 30 minutes (`[auth] token_ttl_minutes`): they are taken again before each phase.
//!
//! It prints the date, the machine, the command, each phase's figures, and Markdown tables
//! for the README.

mod common;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use chrono::Utc;
use clap::{Parser, ValueEnum};
use diesel::prelude::*;
use serde_json::{json, Value};

use common::{
    add_user, agencies_of, describe, intake_body_of, intake_pairs, interleave, login, ms, pass,
    pct_sorted, pg_version, server_binary, thousands, Account, BenchDb, Client, IntakePair, Server,
    SECRET,
};
use motcua::config::{Config, Overrides};
use motcua::store::schema::{dossier_progress, dossiers};
use motcua::store::{Store, StoreOptions};

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
enum ReadArg {
    Queue,
    Search,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
}

/// The mixed-load benchmark of the motcua server.
#[derive(Parser)]
#[command(name = "load")]
struct Args {
    /// Dossiers to seed with `motcua seed-load` (ignored with --reuse).
    #[arg(long, default_value_t = 1_000_000)]
    dossiers: usize,
    /// Run against this already-seeded database (no seeding, nothing dropped).
    #[arg(long)]
    reuse: Option<String>,
    /// The backend of a freshly seeded database.
    #[arg(long, value_enum, default_value = "postgres")]
    backend: BackendArg,
    /// Keep the freshly seeded database (prints its --reuse URL).
    #[arg(long)]
    keep: bool,
    /// The steady offered rate, requests per second (all kinds together).
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    #[arg(long, default_value_t = 20)]
    warmup_s: u64,
    #[arg(long, default_value_t = 60)]
    steady_s: u64,
    #[arg(long, default_value_t = 30)]
    spike_s: u64,
    /// The spike's rate, as a multiple of --rate.
    #[arg(long, default_value_t = 5.0)]
    spike_factor: f64,
    #[arg(long, default_value_t = 600)]
    soak_s: u64,
    /// Seconds between two RSS samples.
    #[arg(long, default_value_t = 5)]
    rss_every_s: u64,
    /// A phase stops when a request is this many seconds late (the server cannot keep
    /// up; its gates fail).
    #[arg(long, default_value_t = 30)]
    max_lag_s: u64,
    /// The staff reads: the work queue, the search, or both (in turn).
    #[arg(long, value_delimiter = ',', default_value = "queue,search")]
    reads: Vec<ReadArg>,
    /// Server processes on the one database.
    #[arg(long, default_value_t = 1)]
    servers: usize,
    /// Client threads of the open-loop generator (each one request in flight).
    #[arg(long, default_value_t = 64)]
    workers: usize,
    /// The server binary (default: `motcua` next to this example's directory).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Measure a server binary even if it is older than the sources.
    #[arg(long)]
    allow_stale_binary: bool,
}

// ─── gates ──────────────────────────────────────────────────────────────────

const READ_P99: Duration = Duration::from_millis(50);
const WRITE_P99: Duration = Duration::from_millis(100);
const RSS_LIMIT_KB: u64 = 150 * 1024;
const RSS_FLAT: f64 = 0.10;
/// Dossiers being worked on at once by the event stream.
const WORKING_SET: usize = 256;

// ─── the mix ────────────────────────────────────────────────────────────────

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
enum Kind {
    Event,
    Intake,
    Read,
    Lookup,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Event, Kind::Intake, Kind::Read, Kind::Lookup];

    /// Request k's kind: 4 events, 1 intake, 3 reads and 2 lookups in every 10.
    fn of(k: usize) -> Kind {
        const PATTERN: [Kind; 10] = [
            Kind::Event,
            Kind::Read,
            Kind::Lookup,
            Kind::Event,
            Kind::Intake,
            Kind::Read,
            Kind::Event,
            Kind::Lookup,
            Kind::Read,
            Kind::Event,
        ];
        PATTERN[k % 10]
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Event => "events",
            Kind::Intake => "intakes",
            Kind::Read => "queue/search",
            Kind::Lookup => "public lookups",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    /// A 409/422 on an event.
    Conflict,
    /// No open dossier left to act on (the generator's, not the server's).
    Starved,
    Error,
}

struct Sample {
    kind: Kind,
    /// From the request's scheduled moment to its answer.
    latency: Duration,
    outcome: Outcome,
}

/// An open dossier on its way through the event script.
#[derive(Clone)]
struct Cursor {
    code: String,
    agency: String,
    /// 0 assign, 1 propose, 2 decide, 3 return.
    step: u8,
}

/// The dossiers the event stream works on.
#[derive(Default)]
struct Pool {
    /// Being worked on, in turn.
    active: VecDeque<Cursor>,
    /// Not touched yet; the newest (the run's intakes) first.
    fresh: Vec<Cursor>,
    finished: usize,
}

impl Pool {
    fn take(&mut self) -> Option<Cursor> {
        if self.active.len() < WORKING_SET {
            if let Some(c) = self.fresh.pop() {
                return Some(c);
            }
        }
        self.active.pop_front().or_else(|| self.fresh.pop())
    }
}

/// Everything the workers share.
struct Shared {
    addrs: Vec<SocketAddr>,
    /// Per server: username → token.
    tokens: RwLock<Vec<HashMap<String, String>>>,
    pairs: Vec<IntakePair>,
    communes: Vec<String>,
    pool: Mutex<Pool>,
    /// Code and pin of every intake of the run.
    lookups: RwLock<Vec<(String, String)>>,
    intakes: AtomicUsize,
    reads: AtomicUsize,
    lookups_done: AtomicUsize,
    /// Error codes of the conflicts, and a few error messages.
    conflicts: Mutex<BTreeMap<String, usize>>,
    errors: Mutex<Vec<String>>,
    searches: Vec<String>,
    read_kinds: Vec<ReadArg>,
}

impl Shared {
    fn token(&self, server: usize, username: &str) -> String {
        self.tokens.read().unwrap()[server]
            .get(username)
            .cloned()
            .unwrap_or_default()
    }

    fn error(&self, what: String) -> Outcome {
        let mut e = self.errors.lock().unwrap();
        if e.len() < 20 {
            e.push(what);
        }
        Outcome::Error
    }

    fn op(&self, clients: &mut [Client], k: usize) -> Outcome {
        let server = k % self.addrs.len();
        let cl = &mut clients[server];
        match Kind::of(k) {
            Kind::Event => self.event(cl, server),
            Kind::Intake => self.intake(cl, server),
            Kind::Read => self.read(cl, server, self.reads.fetch_add(1, Ordering::Relaxed)),
            Kind::Lookup => self.lookup(cl, self.lookups_done.fetch_add(1, Ordering::Relaxed)),
        }
    }

    fn event(&self, cl: &mut Client, server: usize) -> Outcome {
        let Some(mut cur) = self.pool.lock().unwrap().take() else {
            return Outcome::Starved;
        };
        let official = Account::new("official", &cur.agency).username;
        let (actor, body) = match cur.step {
            0 => (
                Account::new("leader", &cur.agency).username,
                json!({ "type": "assign", "user": official }),
            ),
            1 => (official, json!({ "type": "propose" })),
            2 => (
                Account::new("leader", &cur.agency).username,
                json!({ "type": "decide", "outcome": "approved" }),
            ),
            _ => (
                Account::new("clerk", &cur.agency).username,
                json!({ "type": "return", "channel": "counter" }),
            ),
        };
        let token = self.token(server, &actor);
        let path = format!("/api/v1/dossiers/{}/events", cur.code);
        let body = body.to_string();
        match cl.request("POST", &path, Some(&token), Some(body.as_bytes())) {
            Ok(r) if r.status == 201 || r.status == 200 => {
                cur.step += 1;
                let mut pool = self.pool.lock().unwrap();
                if cur.step < 4 {
                    pool.active.push_back(cur);
                } else {
                    pool.finished += 1;
                }
                Outcome::Ok
            }
            Ok(r) if r.status == 409 || r.status == 422 => {
                let code = serde_json::from_slice::<Value>(&r.body)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(String::from))
                    .unwrap_or_else(|| format!("HTTP {}", r.status));
                *self
                    .conflicts
                    .lock()
                    .unwrap()
                    .entry(format!("{} on step {}: {code}", r.status, cur.step))
                    .or_insert(0) += 1;
                // The dossier leaves the script.
                Outcome::Conflict
            }
            Ok(r) => self.error(format!(
                "event {} on {} by {actor}: {}",
                cur.step,
                cur.code,
                describe(r.status, &r.body)
            )),
            Err(e) => self.error(format!("event: transport: {e}")),
        }
    }

    fn intake(&self, cl: &mut Client, server: usize) -> Outcome {
        let i = self.intakes.fetch_add(1, Ordering::Relaxed);
        let pair = &self.pairs[i % self.pairs.len()];
        let token = self.token(server, &Account::new("clerk", &pair.agency).username);
        // Applicants numbered apart from bench's and from earlier runs' (the clock's µs).
        let body = intake_body_of(pair, i + Utc::now().timestamp_subsec_micros() as usize);
        match cl.request("POST", "/api/v1/dossiers", Some(&token), Some(&body)) {
            Ok(r) if r.status == 201 => {
                let v: Value = match serde_json::from_slice(&r.body) {
                    Ok(v) => v,
                    Err(e) => return self.error(format!("intake: {e}")),
                };
                let (Some(code), Some(pin)) = (v["code"].as_str(), v["pin"].as_str()) else {
                    return self.error(format!("intake: no code or pin in {v}"));
                };
                self.lookups
                    .write()
                    .unwrap()
                    .push((code.to_string(), pin.to_string()));
                if pair.decided_here && self.communes.contains(&pair.agency) {
                    self.pool.lock().unwrap().fresh.push(Cursor {
                        code: code.to_string(),
                        agency: pair.agency.clone(),
                        step: 0,
                    });
                }
                Outcome::Ok
            }
            Ok(r) => self.error(format!(
                "intake {} at {}: {}",
                pair.procedure,
                pair.agency,
                describe(r.status, &r.body)
            )),
            Err(e) => self.error(format!("intake: transport: {e}")),
        }
    }

    fn read(&self, cl: &mut Client, server: usize, n: usize) -> Outcome {
        // Read n: role n % 3, queue or search by (n / 3) % 2, commune (n / 6) in turn.
        let role = ["clerk", "official", "leader"][n % 3];
        let commune = &self.communes[(n / 6) % self.communes.len()];
        let token = self.token(server, &Account::new(role, commune).username);
        let queue = match self.read_kinds.as_slice() {
            [ReadArg::Queue] => true,
            [ReadArg::Search] => false,
            _ => (n / 3).is_multiple_of(2),
        };
        let path = if queue {
            "/api/v1/queue?limit=50".to_string()
        } else {
            let q = &self.searches[(n / 6) % self.searches.len()];
            format!("/api/v1/dossiers?q={q}&limit=20")
        };
        match cl.request("GET", &path, Some(&token), None) {
            Ok(r) if r.status == 200 => Outcome::Ok,
            Ok(r) => self.error(format!(
                "read {path} as {role}: {}",
                describe(r.status, &r.body)
            )),
            Err(e) => self.error(format!("read: transport: {e}")),
        }
    }

    fn lookup(&self, cl: &mut Client, n: usize) -> Outcome {
        let (code, pin) = {
            let l = self.lookups.read().unwrap();
            if l.is_empty() {
                return self.error("lookup: no intake yet".into());
            }
            // Spread over all intakes so far, newest and oldest alike.
            l[(n.wrapping_mul(2_654_435_761)) % l.len()].clone()
        };
        let path = format!("/api/v1/public/dossiers/{code}?pin={pin}");
        match cl.request("GET", &path, None, None) {
            Ok(r) if r.status == 200 => Outcome::Ok,
            Ok(r) => self.error(format!("lookup {code}: {}", describe(r.status, &r.body))),
            Err(e) => self.error(format!("lookup: transport: {e}")),
        }
    }
}

/// The search texts of the staff reads (percent-encoded): common names with and without
/// diacritics, a commune's code prefix, a seeded applicant's ID number.
fn searches(communes: &[String]) -> Vec<String> {
    let mut s: Vec<String> = [
        "nguyen+thi",
        "tran+van",
        "L%C3%AA+Th%E1%BB%8B+Hoa",
        "pham+minh",
        "900000012345",
        "hoang+duc+anh",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    s.extend(communes.iter().take(3).cloned());
    s
}

// ─── the open-loop generator ────────────────────────────────────────────────

struct Phase {
    name: &'static str,
    rate: f64,
    secs: u64,
    samples: Vec<Sample>,
    wall: Duration,
    /// How late workers were for their requests, worst case.
    lag_max: Duration,
    /// Seconds since the run's start, at the phase's start and end.
    from: f64,
    to: f64,
    /// Stopped early: the generator fell more than `--max-lag-s` behind.
    abandoned: bool,
    /// Requests the phase was to send.
    offered: usize,
}

impl Phase {
    fn of(&self, kinds: &[Kind]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| kinds.contains(&s.kind))
            .collect()
    }

    fn latencies(&self, kinds: &[Kind]) -> Vec<Duration> {
        let mut v: Vec<Duration> = self
            .of(kinds)
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::Ok | Outcome::Conflict))
            .map(|s| s.latency)
            .collect();
        v.sort_unstable();
        v
    }

    fn count(&self, outcome: Outcome) -> usize {
        self.samples.iter().filter(|s| s.outcome == outcome).count()
    }

    fn p(&self, kinds: &[Kind], p: f64) -> Duration {
        pct_sorted(&self.latencies(kinds), p)
    }

    fn p50_p99(&self, kinds: &[Kind]) -> String {
        let l = self.latencies(kinds);
        format!(
            "{} / {}",
            ms(pct_sorted(&l, 50.0)),
            ms(pct_sorted(&l, 99.0))
        )
    }

    fn print(&self) {
        let done = self.samples.len();
        println!(
            "{}: offered {} req/s for {} s; {} requests answered in {:.1} s = {} req/s; generator lag max {}",
            self.name,
            thousands(self.rate),
            self.secs,
            thousands(done as f64),
            self.wall.as_secs_f64(),
            thousands(done as f64 / self.wall.as_secs_f64()),
            ms(self.lag_max)
        );
        if self.abandoned {
            println!(
                "  ABANDONED after {} of {} requests: the generator fell more than --max-lag-s behind (the server cannot keep up)",
                thousands(done as f64),
                thousands(self.offered as f64)
            );
        }
        for k in Kind::ALL {
            let l = self.latencies(&[k]);
            let n = self.of(&[k]).len();
            println!(
                "  {:<15} {:>7} p50 {:>8}  p99 {:>8}  max {:>8}  conflicts {}  errors {}  starved {}",
                k.label(),
                n,
                ms(pct_sorted(&l, 50.0)),
                ms(pct_sorted(&l, 99.0)),
                ms(l.last().copied().unwrap_or_default()),
                self.of(&[k])
                    .iter()
                    .filter(|s| s.outcome == Outcome::Conflict)
                    .count(),
                self.of(&[k])
                    .iter()
                    .filter(|s| s.outcome == Outcome::Error)
                    .count(),
                self.of(&[k])
                    .iter()
                    .filter(|s| s.outcome == Outcome::Starved)
                    .count(),
            );
        }
    }
}

/// Runs `rate` requests per second for `secs` seconds, open loop, over `workers` threads.
#[allow(clippy::too_many_arguments)]
fn run_phase(
    shared: &Shared,
    name: &'static str,
    rate: f64,
    secs: u64,
    workers: usize,
    epoch: Instant,
    next_k: &AtomicUsize,
    max_lag: Duration,
) -> Phase {
    let total = (rate * secs as f64).round() as usize;
    let first_k = next_k.load(Ordering::Relaxed);
    let slot = AtomicUsize::new(0);
    let abandoned = AtomicBool::new(false);
    let start = Instant::now() + Duration::from_millis(50);
    let from = (start - epoch).as_secs_f64();
    let per = Duration::from_secs_f64(1.0 / rate);
    let parts: Vec<(Vec<Sample>, Duration)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut clients: Vec<Client> =
                        shared.addrs.iter().map(|a| Client::new(*a)).collect();
                    let mut samples = Vec::new();
                    let mut lag_max = Duration::ZERO;
                    loop {
                        let i = slot.fetch_add(1, Ordering::Relaxed);
                        if i >= total || abandoned.load(Ordering::Relaxed) {
                            break;
                        }
                        let due = start + per * i as u32;
                        let now = Instant::now();
                        if due > now {
                            std::thread::sleep(due - now);
                        } else {
                            lag_max = lag_max.max(now - due);
                            if now - due > max_lag {
                                // The server cannot keep up: the rest would only queue.
                                abandoned.store(true, Ordering::Relaxed);
                                break;
                            }
                        }
                        let k = first_k + i;
                        let outcome = shared.op(&mut clients, k);
                        samples.push(Sample {
                            kind: Kind::of(k),
                            latency: due.elapsed(),
                            outcome,
                        });
                    }
                    (samples, lag_max)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    next_k.fetch_add(total, Ordering::Relaxed);
    let wall = start.elapsed();
    let mut samples = Vec::with_capacity(total);
    let mut lag_max = Duration::ZERO;
    for (s, l) in parts {
        samples.extend(s);
        lag_max = lag_max.max(l);
    }
    Phase {
        name,
        rate,
        secs,
        samples,
        wall,
        lag_max,
        from,
        to: (Instant::now() - epoch).as_secs_f64(),
        abandoned: abandoned.into_inner(),
        offered: total,
    }
}

// ─── RSS ────────────────────────────────────────────────────────────────────

/// Seconds since the run's start, and each server's RSS in kB.
type RssSample = (f64, Vec<u64>);

fn mean(v: &[u64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<u64>() as f64 / v.len() as f64
    }
}

fn mib(kb: f64) -> String {
    format!("{:.1} MiB", kb / 1024.0)
}

// ─── setup ──────────────────────────────────────────────────────────────────

/// `motcua seed-load N` on the database; its wall-clock time.
fn seed(bin: &Path, url: &str, data_dir: &Path, n: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let out = common::motcua(bin, url, data_dir)
        .args(["seed-load", &n.to_string()])
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!(
            "motcua seed-load failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    print!("  {}", String::from_utf8_lossy(&out.stdout));
    Ok(started.elapsed())
}

/// The dossiers, and the open ones that a commune decides itself, unassigned, that no
/// hand-over holds: code, agency.
fn open_dossiers(url: &str, communes: &[String]) -> anyhow::Result<(i64, Vec<(String, String)>)> {
    let store = Store::open(url, &StoreOptions::default()).map_err(|e| anyhow!("{e}"))?;
    let mut conn = store.conn().map_err(|e| anyhow!("{e}"))?;
    let total: i64 = dossiers::table.count().get_result(&mut *conn)?;
    let open: Vec<(String, String)> = dossiers::table
        .inner_join(dossier_progress::table)
        .filter(dossiers::status.eq_any(["received", "in_progress"]))
        .filter(dossiers::current_agency.eq_any(communes.to_vec()))
        // Decided where they are: the commune's own procedures.
        .filter(dossiers::competent_agency.eq(dossiers::current_agency.nullable()))
        .filter(dossier_progress::pending_handover.is_null())
        .filter(dossier_progress::assignee.is_null())
        .select((dossiers::code, dossiers::current_agency))
        .load(&mut *conn)?;
    Ok((total, open))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "?".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or_else(
            || "?".into(),
            |kb| format!("{:.1} GiB", kb as f64 / 1048576.0),
        );
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} CPU cores ({cpu}), {mem} memory")
}

fn logins(shared: &Shared, accounts: &[Account]) -> anyhow::Result<()> {
    let tokens = shared
        .addrs
        .iter()
        .map(|a| {
            accounts
                .iter()
                .map(|u| Ok((u.username.clone(), login(*a, &u.username)?)))
                .collect::<anyhow::Result<HashMap<_, _>>>()
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    *shared.tokens.write().unwrap() = tokens;
    Ok(())
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> anyhow::Result<()> {
    let args = Args::parse();
    if cfg!(debug_assertions) {
        bail!("build the benchmark with --release: cargo run --release --example load");
    }
    if !Path::new("config/default.toml").exists() {
        bail!("run it from the crate root (config/ and forms/ are read from there)");
    }
    if args.rate <= 0.0 || args.servers == 0 || args.workers == 0 || args.spike_factor <= 0.0 {
        bail!("--rate, --spike-factor, --servers and --workers must be positive");
    }
    if args.steady_s == 0 || args.soak_s < 3 || args.spike_s == 0 {
        bail!("--steady-s and --spike-s must be at least 1, --soak-s at least 3");
    }
    let bin = server_binary(args.server_bin.as_deref(), args.allow_stale_binary)?;
    let config = Config::load(
        Path::new("config"),
        &Overrides {
            secret: Some(SECRET.into()),
            ..Overrides::default()
        },
    )
    .map_err(|e| anyhow!("config: {e}"))?;

    println!("# motcua load");
    println!(
        "{} UTC; {}; load average {}",
        Utc::now().format("%Y-%m-%d %H:%M"),
        machine(),
        common::load_average()
    );
    println!(
        "command: {}",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    println!("server: {}", bin.display());

    // The database.
    let data_dir = tempfile::tempdir()?;
    let mut fresh = None;
    let (url, seeded) = match &args.reuse {
        Some(u) => (u.clone(), None),
        None => {
            let db = match args.backend {
                BackendArg::Sqlite => BenchDb::sqlite()?,
                BackendArg::Postgres => {
                    let admin = std::env::var("MOTCUA_BENCH_PG_URL")
                        .or_else(|_| std::env::var("MOTCUA_TEST_PG_URL"))
                        .ok()
                        .filter(|u| !u.trim().is_empty())
                        .ok_or_else(|| {
                            anyhow!("PostgreSQL needs MOTCUA_BENCH_PG_URL or MOTCUA_TEST_PG_URL (or --backend sqlite, or --reuse URL)")
                        })?;
                    BenchDb::postgres_named(&admin, "motcua_load")?
                }
            };
            let url = db.url.clone();
            fresh = Some(db);
            println!(
                "seeding {} dossiers: motcua seed-load {}",
                thousands(args.dossiers as f64),
                args.dossiers
            );
            let took = seed(&bin, &url, data_dir.path(), args.dossiers)?;
            println!(
                "seeded {} dossiers in {:.1} s ({} dossiers/s)",
                thousands(args.dossiers as f64),
                took.as_secs_f64(),
                thousands(args.dossiers as f64 / took.as_secs_f64())
            );
            (url, Some(took))
        }
    };
    if args.keep {
        if let Some(db) = &mut fresh {
            db.keep();
        }
    }
    let backend = if url.starts_with("postgres") {
        format!("PostgreSQL {}", pg_version(&url))
    } else {
        "SQLite".to_string()
    };
    println!("database: {backend}; {url}");

    // The accounts: a clerk wherever the spread receives, an official and a leader at
    // every commune.
    let pairs = interleave(intake_pairs(&config));
    let communes: Vec<String> = config
        .agencies
        .agencies
        .iter()
        .filter(|a| a.level == "commune")
        .map(|a| a.code.clone())
        .collect();
    let mut accounts: Vec<Account> = agencies_of(&pairs)
        .iter()
        .map(|a| Account::new("clerk", a))
        .collect();
    for c in &communes {
        if !accounts.iter().any(|a| a.role == "clerk" && a.agency == *c) {
            accounts.push(Account::new("clerk", c));
        }
        accounts.push(Account::new("official", c));
        accounts.push(Account::new("leader", c));
    }
    let started = Instant::now();
    for a in &accounts {
        add_user(&bin, &url, data_dir.path(), a, true)?;
    }
    println!(
        "{} accounts (motcua user add) in {:.1} s",
        accounts.len(),
        started.elapsed().as_secs_f64()
    );
    let (total, open) = open_dossiers(&url, &communes)?;
    println!(
        "{} dossiers in the database; {} open at the communes (their own procedures, unassigned) for the events",
        thousands(total as f64),
        thousands(open.len() as f64)
    );

    // The servers.
    let servers: Vec<Server> = (0..args.servers)
        .map(|_| Server::start(&bin, &url, data_dir.path()))
        .collect::<anyhow::Result<_>>()?;
    for s in &servers {
        println!("server pid {} on {} (RUST_LOG=warn)", s.pid(), s.addr);
    }
    // Open dossiers in a fixed shuffled order, so that every commune takes part.
    let mut fresh_cursors: Vec<Cursor> = open
        .into_iter()
        .map(|(code, agency)| Cursor {
            code,
            agency,
            step: 0,
        })
        .collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..fresh_cursors.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        fresh_cursors.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let shared = Shared {
        addrs: servers.iter().map(|s| s.addr).collect(),
        tokens: RwLock::new(Vec::new()),
        pairs,
        searches: searches(&communes),
        read_kinds: args.reads.clone(),
        communes,
        pool: Mutex::new(Pool {
            fresh: fresh_cursors,
            ..Pool::default()
        }),
        lookups: RwLock::new(Vec::new()),
        intakes: AtomicUsize::new(0),
        reads: AtomicUsize::new(0),
        lookups_done: AtomicUsize::new(0),
        conflicts: Mutex::new(BTreeMap::new()),
        errors: Mutex::new(Vec::new()),
    };
    logins(&shared, &accounts)?;

    // RSS, sampled through the whole run.
    let epoch = Instant::now();
    let rss: Arc<Mutex<Vec<RssSample>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let pids: Vec<u32> = servers.iter().map(Server::pid).collect();
    let sampler = {
        let (rss, stop, every) = (rss.clone(), stop.clone(), args.rss_every_s.max(1));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let kb: Vec<u64> = pids
                    .iter()
                    .map(|p| {
                        std::fs::read_to_string(format!("/proc/{p}/status"))
                            .ok()
                            .and_then(|s| {
                                s.lines()
                                    .find_map(|l| l.strip_prefix("VmRSS:"))
                                    .and_then(|v| v.split_whitespace().next()?.parse().ok())
                            })
                            .unwrap_or(0)
                    })
                    .collect();
                rss.lock()
                    .unwrap()
                    .push((epoch.elapsed().as_secs_f64(), kb));
                let until = Instant::now() + Duration::from_secs(every);
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        })
    };

    // Codes and pins for the lookups: 100 intakes, 8 at a time.
    let next_k = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..8 {
            let shared = &shared;
            scope.spawn(move || {
                let mut clients: Vec<Client> =
                    shared.addrs.iter().map(|a| Client::new(*a)).collect();
                for _ in 0..100 / 8 + usize::from(t < 100 % 8) {
                    let s = t % clients.len();
                    let _ = shared.intake(&mut clients[s], s);
                }
            });
        }
    });
    let primed = shared.lookups.read().unwrap().len();
    if primed == 0 {
        bail!(
            "no intake succeeded before the warm-up: {:?}",
            shared.errors.lock().unwrap()
        );
    }
    shared.errors.lock().unwrap().clear();
    println!("{primed} intakes made for the lookups' codes and pins\n");

    let w = args.workers;
    let max_lag = Duration::from_secs(args.max_lag_s);
    let warm = run_phase(
        &shared,
        "warm-up",
        args.rate,
        args.warmup_s,
        w,
        epoch,
        &next_k,
        max_lag,
    );
    warm.print();
    logins(&shared, &accounts)?;
    let steady = run_phase(
        &shared,
        "steady",
        args.rate,
        args.steady_s,
        w,
        epoch,
        &next_k,
        max_lag,
    );
    steady.print();
    logins(&shared, &accounts)?;
    let spike_rate = args.rate * args.spike_factor;
    let spike = run_phase(
        &shared,
        "spike",
        spike_rate,
        args.spike_s,
        w,
        epoch,
        &next_k,
        max_lag,
    );
    spike.print();
    logins(&shared, &accounts)?;
    let soak = run_phase(
        &shared,
        "soak",
        args.rate,
        args.soak_s,
        w,
        epoch,
        &next_k,
        max_lag,
    );
    soak.print();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let mut servers = servers;
    let alive = servers.iter_mut().all(Server::alive);
    for (k, s) in servers.iter().enumerate() {
        s.print_output(&format!("server {}", k + 1));
    }

    let conflicts = shared.conflicts.lock().unwrap().clone();
    if !conflicts.is_empty() {
        println!("\nconflicts (409/422 on events) by step and code:");
        for (c, n) in &conflicts {
            println!("  {n} × {c}");
        }
    }
    let errors = shared.errors.lock().unwrap().clone();
    if !errors.is_empty() {
        println!("\nfirst errors:");
        for e in &errors {
            println!("  {e}");
        }
    }
    {
        let pool = shared.pool.lock().unwrap();
        println!(
            "\nevents: {} dossiers taken from received to returned, {} in the working set, {} open dossiers left untouched",
            pool.finished,
            pool.active.len(),
            pool.fresh.len()
        );
    }

    // RSS summary.
    let rss = rss.lock().unwrap().clone();
    let window = 60.0_f64.min(args.soak_s as f64 / 3.0);
    println!(
        "\nRSS (VmRSS every {} s, {} samples; soak windows of {window:.0} s):",
        args.rss_every_s,
        rss.len()
    );
    let mut flat_all = true;
    let mut max_all = 0u64;
    let mut rss_rows = Vec::new();
    for (k, s) in servers.iter().enumerate() {
        let of = |from: f64, to: f64| -> Vec<u64> {
            rss.iter()
                .filter(|(t, _)| *t >= from && *t <= to)
                .map(|(_, v)| v[k])
                .filter(|v| *v > 0)
                .collect()
        };
        let all: Vec<u64> = of(0.0, f64::MAX);
        let max = all.iter().copied().max().unwrap_or(0);
        let min = all.iter().copied().min().unwrap_or(0);
        let first = mean(&of(soak.from, soak.from + window));
        let last = mean(&of(soak.to - window, soak.to));
        let change = if first > 0.0 {
            last / first - 1.0
        } else {
            f64::NAN
        };
        let flat = change.abs() <= RSS_FLAT;
        flat_all &= flat;
        max_all = max_all.max(max);
        let phase_mean = |p: &Phase| mib(mean(&of(p.from, p.to)));
        println!(
            "  server {} (pid {}): min {}, max {}; mean warm-up {}, steady {}, spike {}, soak {}; soak first {window:.0} s {}, last {window:.0} s {} ({:+.1} %)",
            k + 1,
            s.pid(),
            mib(min as f64),
            mib(max as f64),
            phase_mean(&warm),
            phase_mean(&steady),
            phase_mean(&spike),
            phase_mean(&soak),
            mib(first),
            mib(last),
            change * 100.0
        );
        rss_rows.push((k + 1, min, max, first, last, change));
    }

    // Gates.
    let reads = [Kind::Read, Kind::Lookup];
    let writes = [Kind::Event, Kind::Intake];
    let read_p99 = steady.p(&reads, 99.0);
    let write_p99 = steady.p(&writes, 99.0);
    let spike_errors = spike.count(Outcome::Error);
    let spike_starved = spike.count(Outcome::Starved);
    let mut gates: Vec<(String, String, String, bool)> = vec![
        (
            format!("p99 reads at {} req/s (steady)", thousands(args.rate)),
            ms(read_p99),
            "≤ 50 ms".into(),
            read_p99 <= READ_P99 && !steady.abandoned,
        ),
        (
            format!("p99 writes at {} req/s (steady)", thousands(args.rate)),
            ms(write_p99),
            "≤ 100 ms".into(),
            write_p99 <= WRITE_P99 && !steady.abandoned,
        ),
        (
            format!(
                "errors at the spike, {} req/s for {} s",
                thousands(spike_rate),
                args.spike_s
            ),
            format!(
                "{spike_errors} (conflicts {}, starved {spike_starved})",
                spike.count(Outcome::Conflict)
            ),
            "0".into(),
            spike_errors == 0 && !spike.abandoned,
        ),
        (
            format!("RSS flat over the {} s soak", args.soak_s),
            rss_rows
                .iter()
                .map(|(_, _, _, f, l, c)| {
                    format!("{} → {} ({:+.1} %)", mib(*f), mib(*l), c * 100.0)
                })
                .collect::<Vec<_>>()
                .join("; "),
            "within ±10 %".into(),
            flat_all && !soak.abandoned,
        ),
        (
            format!(
                "RSS per server process at {} dossiers",
                thousands(total as f64)
            ),
            format!("max {}", mib(max_all as f64)),
            "≤ 150 MiB".into(),
            max_all > 0 && max_all <= RSS_LIMIT_KB,
        ),
    ];
    if !alive {
        gates.push((
            "server processes alive at the end".into(),
            "no".into(),
            "yes".into(),
            false,
        ));
    }
    let other_errors =
        warm.count(Outcome::Error) + steady.count(Outcome::Error) + soak.count(Outcome::Error);

    println!("\n## Results\n");
    println!(
        "{} UTC, {}; {} server process(es); {backend}; {} dossiers{}; offered {} req/s (40 % events, 10 % intakes, 30 % staff reads: {:?}, 20 % public lookups), {} workers, open loop",
        Utc::now().format("%Y-%m-%d %H:%M"),
        machine(),
        args.servers,
        thousands(total as f64),
        seeded.map_or_else(String::new, |d| format!(" (seeded in {:.0} s)", d.as_secs_f64())),
        thousands(args.rate),
        args.reads,
        args.workers
    );
    println!();
    println!("| phase | offered | answered | events p50 / p99 | intakes p50 / p99 | queue/search p50 / p99 | lookups p50 / p99 | conflicts | errors |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for p in [&steady, &spike, &soak] {
        println!(
            "| {} ({} s) | {} req/s | {} req/s | {} | {} | {} | {} | {} | {} |",
            p.name,
            p.secs,
            thousands(p.rate),
            thousands(p.samples.len() as f64 / p.wall.as_secs_f64()),
            p.p50_p99(&[Kind::Event]),
            p.p50_p99(&[Kind::Intake]),
            p.p50_p99(&[Kind::Read]),
            p.p50_p99(&[Kind::Lookup]),
            p.count(Outcome::Conflict),
            p.count(Outcome::Error)
        );
    }
    println!();
    println!("| gate | measured | limit | result |");
    println!("|---|---|---|---|");
    for (g, m, l, ok) in &gates {
        println!("| {g} | {m} | {l} | {} |", pass(*ok));
    }
    println!(
        "\nerrors outside the spike (warm-up, steady, soak): {other_errors}; load average at the end: {}",
        common::load_average()
    );
    if let (true, Some(db)) = (args.keep, &fresh) {
        println!("kept: --reuse {}", db.url);
    }
    drop(servers);
    drop(fresh);
    Ok(())
}
