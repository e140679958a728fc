//! `kill -9` during intake (issue #13, item 8): 8 clients file dossiers without pause
//! against the real server binary; the server is killed with SIGKILL in the middle, three
//! times, and started again on the same database. Every dossier whose 201 reached a
//! client is there afterwards with its code, the codes are gap-free per day, and
//! `motcua audit verify` finds the audit chain whole. On SQLite and on PostgreSQL.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::process::{self, http, Server};
use serde_json::Value;

const SECRET: &str = "crash-test-secret-0123456789abcdef-kill-nine";
const USERNAME: &str = "clerk.crash";
const PASSWORD: &str = "mat-khau-thu-nghiem-2026";
const AGENCY: &str = "000.00.51.H26";
const CLIENTS: usize = 8;
const CYCLES: usize = 3;
/// Acknowledged intakes of a cycle before the kill (the kill then lands mid-stream).
const ACKS_BEFORE_KILL: usize = 60;

fn intake_body(client: usize, i: usize) -> Value {
    common::birth_registration(
        "Nguyễn Văn An",
        &format!("00109{:02}{:05}", client, i % 100_000),
    )
}

/// One cycle: a fresh server process, 8 clients until the kill; the codes acknowledged.
fn cycle(n: usize, db_url: &str, data_dir: &std::path::Path) -> (Vec<String>, usize) {
    let mut server = Server::start(&format!("cycle {n}"), db_url, data_dir, SECRET);
    server.wait_healthy();
    let addr: SocketAddr = server.addr;
    let token = Arc::new(process::login(addr, USERNAME, PASSWORD));
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let failures = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (token, stop, acks) = (token.clone(), stop.clone(), acks.clone());
            let (acknowledged, failures) = (acknowledged.clone(), failures.clone());
            std::thread::spawn(move || {
                let mut i = n * 10_000;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    match http(
                        addr,
                        "POST",
                        "/api/v1/dossiers",
                        Some(&token),
                        Some(&intake_body(c, i)),
                    ) {
                        Ok(r) if r.status == 201 => {
                            let code = r.json()["code"].as_str().unwrap().to_string();
                            acknowledged.lock().unwrap().push(code);
                            acks.fetch_add(1, Ordering::SeqCst);
                        }
                        // The server died under this request: no acknowledgement.
                        Err(_) => {
                            failures.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        Ok(r) => panic!("intake answered {}: {}", r.status, r.json_or_text()),
                    }
                }
            })
        })
        .collect();
    let started = Instant::now();
    while acks.load(Ordering::SeqCst) < ACKS_BEFORE_KILL {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "cycle {n}: only {} intakes in 120 s\n{}",
            acks.load(Ordering::SeqCst),
            server.output()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // SIGKILL with 8 requests in flight.
    server.kill9();
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().expect("client thread");
    }
    let codes = std::mem::take(&mut *acknowledged.lock().unwrap());
    (codes, failures.load(Ordering::SeqCst))
}

fn run(db_url: &str) {
    let data_dir = tempfile::tempdir().unwrap();
    process::add_user(
        db_url,
        data_dir.path(),
        SECRET,
        USERNAME,
        PASSWORD,
        "clerk",
        AGENCY,
    );
    let mut acknowledged: Vec<String> = Vec::new();
    for n in 1..=CYCLES {
        let (codes, cut) = cycle(n, db_url, data_dir.path());
        println!(
            "cycle {n}: {} intakes acknowledged, {cut} cut by the kill",
            codes.len()
        );
        acknowledged.extend(codes);
    }

    // Started again after the last kill: every acknowledged dossier is there.
    let mut server = Server::start("after", db_url, data_dir.path(), SECRET);
    server.wait_healthy();
    let addr = server.addr;
    let token = process::login(addr, USERNAME, PASSWORD);
    let distinct: HashSet<&String> = acknowledged.iter().collect();
    assert_eq!(
        distinct.len(),
        acknowledged.len(),
        "a code was handed out twice"
    );
    let mut missing = Vec::new();
    for code in &acknowledged {
        let r = http(
            addr,
            "GET",
            &format!("/api/v1/dossiers/{code}"),
            Some(&token),
            None,
        )
        .expect("staff read");
        if r.status != 200 {
            missing.push(format!("{code}: {}", r.status));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged dossiers are missing after kill -9: {:?}",
        missing.len(),
        acknowledged.len(),
        &missing[..missing.len().min(10)]
    );

    // Every dossier stored (acknowledged or not): codes gap-free per day.
    let mut stored: Vec<String> = Vec::new();
    let mut offset = 0;
    loop {
        let r = http(
            addr,
            "GET",
            &format!("/api/v1/dossiers?limit=200&offset={offset}"),
            Some(&token),
            None,
        )
        .expect("staff list");
        assert_eq!(r.status, 200);
        let body = r.json();
        stored.extend(
            body["dossiers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["code"].as_str().unwrap().to_string()),
        );
        match body["next_offset"].as_i64() {
            Some(next) => offset = next,
            None => break,
        }
    }
    let mut per_day: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for code in &stored {
        let (prefix, seq) = code.rsplit_once('-').unwrap();
        per_day
            .entry(prefix.to_string())
            .or_default()
            .push(seq.parse().unwrap());
    }
    for (day, seqs) in &mut per_day {
        seqs.sort_unstable();
        let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
        assert_eq!(
            *seqs, expected,
            "{day}: the sequence has gaps after kill -9"
        );
    }
    println!(
        "{} acknowledged, all present; {} stored, gap-free",
        acknowledged.len(),
        stored.len()
    );
    drop(server);

    // The audit chain is whole.
    let (status, out) = process::audit_verify(db_url, data_dir.path(), SECRET);
    assert_eq!(status, 0, "audit verify: {out}");
    assert!(out.starts_with("ok:"), "{out}");
    println!("audit verify: {}", out.trim());
}

#[test]
fn kill_9_during_intake_loses_no_acknowledged_dossier_on_sqlite() {
    let db = common::TestDb::sqlite();
    run(&db.url);
}

#[test]
#[ignore = "needs PostgreSQL"]
fn kill_9_during_intake_loses_no_acknowledged_dossier_on_postgres() {
    let db = common::TestDb::postgres();
    run(&db.url);
}
