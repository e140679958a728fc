//! The restore drill (issue #19, item 5): four clerks file dossiers without pause against
//! the real server while `motcua backup --to DIR` runs; the backup is restored with
//! `motcua restore --from DIR` into an empty data directory (SQLite) or an empty database
//! (PostgreSQL); then `motcua audit verify` is ok on the restored copy, every dossier
//! acknowledged before the backup started is in it, and the scan uploaded before it is
//! served again, byte for byte. A second restore onto the now full target is refused and
//! changes nothing.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::process::{self, http, Server};
use serde_json::Value;

const SECRET: &str = "backup-drill-secret-0123456789abcdef-restore";
const USERNAME: &str = "clerk.backup";
const PASSWORD: &str = "mat-khau-thu-nghiem-2026";
const AGENCY: &str = "000.00.51.H26";
const CLIENTS: usize = 4;
const BOUNDARY: &str = "motcua-backup-drill-boundary";

fn intake_body(client: usize, i: usize) -> Value {
    common::birth_registration(
        "Trần Thị Bình",
        &format!("00119{:02}{:05}", client, i % 100_000),
    )
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
      2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
      3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n\
      % the restore drill's scan\ntrailer << /Root 1 0 R /Size 4 >>\n%%EOF\n"
        .to_vec()
}

fn upload(addr: SocketAddr, token: &str, code: &str) -> Value {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"to-khai.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&pdf());
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let auth = format!("Bearer {token}");
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let r = process::request_raw(
        addr,
        "POST",
        &format!("/api/v1/dossiers/{code}/files?paper=1"),
        &[("Authorization", &auth), ("Content-Type", &content_type)],
        &body,
        Duration::from_secs(60),
    )
    .expect("upload");
    assert_eq!(r.status, 201, "upload: {}", r.json_or_text());
    r.json()
}

fn motcua_out(db_url: &str, data_dir: &Path, args: &[&str]) -> (i32, String) {
    let out = process::motcua(db_url, data_dir, SECRET)
        .args(args)
        .output()
        .expect("motcua runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Backs up `from_url` under load, restores into `to_url` (empty), checks the copy.
fn drill(from_url: &str, to_url: &str) {
    let data_dir = tempfile::tempdir().unwrap();
    process::add_user(
        from_url,
        data_dir.path(),
        SECRET,
        USERNAME,
        PASSWORD,
        "clerk",
        AGENCY,
    );
    let mut server = Server::start("source", from_url, data_dir.path(), SECRET);
    server.wait_healthy();
    let addr = server.addr;
    let token = Arc::new(process::login(addr, USERNAME, PASSWORD));

    // A dossier with a scan, before anything else.
    let r = http(
        addr,
        "POST",
        "/api/v1/dossiers",
        Some(&token),
        Some(&intake_body(99, 1)),
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.json_or_text());
    let scanned = r.json()["code"].as_str().unwrap().to_string();
    let file = upload(addr, &token, &scanned);
    let file_id = file["id"].as_str().expect("the file's id").to_string();

    // Four clerks without pause.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(Mutex::new(Vec::<(Instant, String)>::new()));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (token, stop, acknowledged) = (token.clone(), stop.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let r = http(
                        addr,
                        "POST",
                        "/api/v1/dossiers",
                        Some(&token),
                        Some(&intake_body(c, i)),
                    )
                    .expect("intake");
                    assert_eq!(r.status, 201, "intake: {}", r.json_or_text());
                    let code = r.json()["code"].as_str().unwrap().to_string();
                    // Acknowledged now: the moment the client learnt it.
                    acknowledged.lock().unwrap().push((Instant::now(), code));
                }
            })
        })
        .collect();
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < 100 {
        assert!(started.elapsed() < Duration::from_secs(120), "too slow");
        std::thread::sleep(Duration::from_millis(10));
    }

    // The backup, while the clerks go on.
    let backup_dir = tempfile::tempdir().unwrap();
    let to = backup_dir.path().join("motcua-backup");
    let backup_started = Instant::now();
    let (status, out) = motcua_out(
        from_url,
        data_dir.path(),
        &["backup", "--to", to.to_str().unwrap()],
    );
    assert_eq!(status, 0, "motcua backup: {out}");
    assert!(out.starts_with("ok: "), "{out}");
    println!("backup: {}", out.trim());
    // Intakes went on during the backup.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().expect("client");
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    let before: Vec<&String> = acknowledged
        .iter()
        .filter(|(t, _)| *t < backup_started)
        .map(|(_, c)| c)
        .collect();
    let during = acknowledged.len() - before.len();
    assert!(during > 0, "no intake ran while the backup was taken");
    drop(server);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(to.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["files"].as_u64().unwrap() >= 1, "{manifest}");

    // An unfinished backup (no manifest) is refused.
    let half = backup_dir.path().join("half");
    std::fs::create_dir_all(&half).unwrap();
    let empty_dir = tempfile::tempdir().unwrap();
    let (status, out) = motcua_out(
        to_url,
        empty_dir.path(),
        &["restore", "--from", half.to_str().unwrap()],
    );
    assert_ne!(status, 0, "{out}");
    assert!(out.contains("manifest.json"), "{out}");

    // Restore into an empty data directory / database.
    let restored_dir = tempfile::tempdir().unwrap();
    let (status, out) = motcua_out(
        to_url,
        restored_dir.path(),
        &["restore", "--from", to.to_str().unwrap()],
    );
    assert_eq!(status, 0, "motcua restore: {out}");
    assert!(out.starts_with("ok: "), "{out}");
    println!("restore: {}", out.trim());

    // Again onto the full target: refused.
    let (status, out) = motcua_out(
        to_url,
        restored_dir.path(),
        &["restore", "--from", to.to_str().unwrap()],
    );
    assert_ne!(status, 0, "a second restore was accepted: {out}");

    // The audit trail of the copy is whole.
    let (status, out) = process::audit_verify(to_url, restored_dir.path(), SECRET);
    assert_eq!(status, 0, "audit verify: {out}");
    assert!(out.starts_with("ok:"), "{out}");
    println!(
        "audit verify of the copy: {}",
        out.lines().next().unwrap_or("")
    );

    // Every dossier acknowledged before the backup started is there, and the scan.
    let mut copy = Server::start("restored", to_url, restored_dir.path(), SECRET);
    copy.wait_healthy();
    let token = process::login(copy.addr, USERNAME, PASSWORD);
    let mut missing = Vec::new();
    for code in before.iter().copied().chain(std::iter::once(&scanned)) {
        let r = http(
            copy.addr,
            "GET",
            &format!("/api/v1/dossiers/{code}"),
            Some(&token),
            None,
        )
        .expect("read");
        if r.status != 200 {
            missing.push(code.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged dossiers missing from the copy: {:?}",
        missing.len(),
        before.len(),
        &missing[..missing.len().min(10)]
    );
    let r = http(
        copy.addr,
        "GET",
        &format!("/api/v1/dossiers/{scanned}/files/{file_id}"),
        Some(&token),
        None,
    )
    .expect("download");
    assert_eq!(r.status, 200, "the scan is not served from the copy");
    assert_eq!(r.body, pdf(), "the scan changed");
    println!(
        "{} acknowledged before the backup, all in the copy; {during} more during it",
        before.len()
    );
}

#[test]
fn a_backup_under_load_restores_whole_on_sqlite() {
    let from = common::TestDb::sqlite();
    let to_dir = tempfile::tempdir().unwrap();
    let to = format!("sqlite://{}/copy.db", to_dir.path().display());
    drill(&from.url, &to);
}

#[test]
#[ignore = "needs PostgreSQL"]
fn a_backup_under_load_restores_whole_on_postgres() {
    let from = common::TestDb::postgres();
    let to = common::TestDb::postgres();
    drill(&from.url, &to.url);
}
