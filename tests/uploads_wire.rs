//! Uploads over the wire: the real server binary against clients that lie about their
//! body length, announce or stream too much, plus the CLI around stored files
//! (`motcua import results`, `motcua archive sweep`).
//!
//! Like `concurrent_intake.rs`, each test spawns `CARGO_BIN_EXE_motcua` on a free loopback
//! port with a fresh SQLite database and data directory and speaks raw HTTP/1.1 over a
//! `TcpStream`, so nothing in the server (actix's HTTP/1 parser, payload handling,
//! multipart) is bypassed. The helpers below are copied, not shared, on purpose.

mod common;

use std::io::{BufReader, ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::process::{self, crate_root, http, read_response, Response, Server};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const AGENCY: &str = "000.00.51.H26";
const PROCEDURE: &str = "1.001193.000.00.00.H26";
const SECRET: &str = "uploads-wire-test-secret-0123456789abcdef-xyz";
const USERNAME: &str = "clerk.uploads";
const PASSWORD: &str = "mat-khau-thu-nghiem-2026";
const BOUNDARY: &str = "wire7MA4YWxk";

// ─── the HTTP client (common::process) ──────────────────────────────────────

fn try_connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    Ok(stream)
}

fn connect(addr: SocketAddr) -> TcpStream {
    try_connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"))
}

/// One request on a fresh connection (`Connection: close`) with a truthful
/// `Content-Length`, reading the whole response.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    payload: &[u8],
) -> std::io::Result<Response> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(a) = auth.as_deref() {
        headers.push(("Authorization", a));
    }
    if let Some(ct) = content_type {
        headers.push(("Content-Type", ct));
    }
    process::request_raw(
        addr,
        method,
        path,
        &headers,
        payload,
        Duration::from_secs(60),
    )
}

// ─── server processes ───────────────────────────────────────────────────────

/// One test's world: a database, a data directory and a configuration directory.
struct Env {
    _db_dir: tempfile::TempDir,
    data: tempfile::TempDir,
    /// Keeps a modified configuration copy alive.
    _config_copy: Option<tempfile::TempDir>,
    db_url: String,
    config_dir: PathBuf,
}

impl Env {
    /// The shipped config/ (20 MB upload limit).
    fn new() -> Env {
        let db_dir = tempfile::tempdir().expect("temp db dir");
        let db_url = format!("sqlite://{}/motcua.db", db_dir.path().display());
        Env {
            _db_dir: db_dir,
            data: tempfile::tempdir().expect("temp data dir"),
            _config_copy: None,
            db_url,
            config_dir: PathBuf::from(format!("{}/config", crate_root())),
        }
    }

    /// A copy of config/ with `[files] max_upload_mb = mb`.
    fn with_upload_limit_mb(mb: u32) -> Env {
        let mut env = Env::new();
        let copy = tempfile::tempdir().expect("temp config dir");
        copy_dir(&env.config_dir, copy.path());
        let path = copy.path().join("default.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("max_upload_mb = 20"),
            "config/default.toml no longer holds `max_upload_mb = 20`"
        );
        std::fs::write(
            &path,
            text.replace("max_upload_mb = 20", &format!("max_upload_mb = {mb}")),
        )
        .unwrap();
        env.config_dir = copy.path().to_path_buf();
        env._config_copy = Some(copy);
        env
    }

    fn data_dir(&self) -> &Path {
        self.data.path()
    }

    fn objects_dir(&self) -> PathBuf {
        self.data_dir().join("files").join("objects")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.data_dir().join("files").join("tmp")
    }

    /// The `motcua` binary with this test's environment.
    fn motcua(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_motcua"));
        c.current_dir(crate_root())
            .arg("--config-dir")
            .arg(&self.config_dir)
            .env_remove("MOTCUA_CONFIG_DIR")
            .env_remove("MOTCUA_LOG_FORMAT")
            .env_remove("MOTCUA_BIND")
            .env("MOTCUA_DATABASE_URL", &self.db_url)
            .env("MOTCUA_DATA_DIR", self.data_dir())
            .env("MOTCUA_SECRET", SECRET)
            .env("RUST_LOG", "warn");
        c
    }

    /// Runs a CLI command to completion (stdin closed).
    fn run(&self, args: &[&str]) -> Output {
        self.motcua()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run motcua {args:?}: {e}"))
    }

    fn add_clerk(&self) {
        process::add_user(
            &self.db_url,
            self.data_dir(),
            SECRET,
            USERNAME,
            PASSWORD,
            "clerk",
            AGENCY,
        );
    }

    /// A clerk, a running server and its token.
    fn serve(&self) -> (Server, String) {
        self.add_clerk();
        let mut server = start(self);
        server.wait_healthy();
        let token = login(server.addr);
        (server, token)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Collects a child's output on a thread (the pipe must never fill up).
/// A running server of this test's world (common::process::Server).
fn start(env: &Env) -> Server {
    Server::start_with("uploads", env.motcua())
}

/// The server still runs and still answers, and logged no panic and no 5xx answer.
fn assert_alive(server: &mut Server) {
    let output = server.output();
    assert!(
        !output.contains("panicked") && !output.contains(" status=5"),
        "the server panicked or answered 5xx; its output:\n{output}"
    );
    assert!(
        matches!(server.child.try_wait(), Ok(None)),
        "the server stopped; its output:\n{}",
        server.output()
    );
    let r = http(server.addr, "GET", "/healthz", None, None).expect("healthz");
    assert_eq!(r.status, 200, "healthz after the test");
}

fn login(addr: SocketAddr) -> String {
    process::login(addr, USERNAME, PASSWORD)
}

/// Receives a birth registration dossier; its code.
fn intake(addr: SocketAddr, token: &str) -> String {
    let r = http(
        addr,
        "POST",
        "/api/v1/dossiers",
        Some(token),
        Some(&json!({
            "procedure_code": PROCEDURE,
            "channel": "counter",
            "applicant": { "full_name": "Đỗ Minh Khoa", "id_number": "001095006789" },
            "papers": [
                { "name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original" },
                { "name": "Giấy chứng sinh", "kind": "original" }
            ]
        })),
    )
    .expect("intake request");
    let body = r.json();
    assert_eq!(r.status, 201, "intake: {body}");
    body["code"].as_str().expect("a dossier code").to_string()
}

/// The staff view of a dossier.
fn dossier(addr: SocketAddr, token: &str, code: &str) -> Value {
    let r = http(
        addr,
        "GET",
        &format!("/api/v1/dossiers/{code}"),
        Some(token),
        None,
    )
    .expect("dossier request");
    let body = r.json();
    assert_eq!(r.status, 200, "GET dossier {code}: {body}");
    body
}

// ─── multipart bodies and the file store ────────────────────────────────────

/// A small but complete PDF whose bytes depend on `label`.
fn pdf(label: &str) -> Vec<u8> {
    format!(
        "%PDF-1.4\n\
         1 0 obj << /Type /Catalog /Pages 2 0 R /Title ({label}) >> endobj\n\
         2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
         3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n\
         trailer << /Root 1 0 R /Size 4 >>\n\
         %%EOF\n"
    )
    .into_bytes()
}

/// A complete PDF of about `size` bytes (filler in a comment-free stream body).
fn big_pdf(size: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.4\n1 0 obj << /Length 0 >> stream\n".to_vec();
    let mut i = 0u32;
    while b.len() < size {
        b.extend_from_slice(format!("{i:08x} filler line of a scanned page\n").as_bytes());
        i += 1;
    }
    b.extend_from_slice(b"endstream endobj\ntrailer << /Size 2 >>\n%%EOF\n");
    b
}

fn multipart_content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// The part headers of the `file` part, up to and including the blank line.
fn part_head(file_name: &str) -> Vec<u8> {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes()
}

fn part_tail() -> Vec<u8> {
    format!("\r\n--{BOUNDARY}--\r\n").into_bytes()
}

/// A multipart/form-data body with one part `file` and no part `Content-Type` (the
/// header is optional; this keeps the part head short).
fn bare_multipart(file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\r\n"
    )
    .into_bytes();
    let head_len = body.len();
    body.extend_from_slice(bytes);
    body.extend_from_slice(&part_tail());
    assert!(head_len + 10 < 100, "the part head is {head_len} bytes");
    body
}

/// A whole multipart/form-data body with one part `file`.
fn multipart(file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = part_head(file_name);
    body.extend_from_slice(bytes);
    body.extend_from_slice(&part_tail());
    body
}

/// A truthful upload of `bytes` as paper `paper` of dossier `code`.
fn upload(
    addr: SocketAddr,
    token: &str,
    code: &str,
    paper: u32,
    name: &str,
    bytes: &[u8],
) -> Response {
    request(
        addr,
        "POST",
        &format!("/api/v1/dossiers/{code}/files?paper={paper}"),
        Some(token),
        Some(&multipart_content_type()),
        &multipart(name, bytes),
    )
    .expect("upload request")
}

/// The head of an upload request (request line and headers, blank line included).
fn upload_head(addr: SocketAddr, token: &str, code: &str, length_header: &str) -> Vec<u8> {
    format!(
        "POST /api/v1/dossiers/{code}/files?paper=1 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: {}\r\n{length_header}\r\n\r\n",
        multipart_content_type()
    )
    .into_bytes()
}

/// Every regular file under `dir`, recursively (none if `dir` is missing).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Temporary uploads (`*.part`) in `files/tmp`.
fn part_files(env: &Env) -> Vec<PathBuf> {
    files_under(&env.tmp_dir())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "part"))
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex_lower(&Sha256::digest(bytes))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn object_path(env: &Env, sha: &str) -> PathBuf {
    env.objects_dir().join(&sha[..2]).join(&sha[2..4]).join(sha)
}

/// What an upload refused (or abandoned) left behind: objects under `files/objects`,
/// temporary uploads in `files/tmp`, files listed on the dossier. Waits up to 10 s for the
/// store to empty first (a connection the server drops is cleaned up asynchronously).
fn leftovers(env: &Env, server: &Server, token: &str, code: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while (!files_under(&env.objects_dir()).is_empty() || !part_files(env).is_empty())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut found: Vec<String> = files_under(&env.objects_dir())
        .iter()
        .map(|p| format!("stored object {}", p.display()))
        .chain(
            part_files(env)
                .iter()
                .map(|p| format!("temporary upload {}", p.display())),
        )
        .collect();
    let d = dossier(server.addr, token, code);
    if d["files"] != json!([]) || d["digitised"] != json!(false) {
        found.push(format!(
            "the dossier lists files {} (digitised: {})",
            d["files"], d["digitised"]
        ));
    }
    found
}

/// Asserts that nothing is stored, in the file store or on the dossier.
fn assert_nothing_stored(env: &Env, server: &Server, token: &str, code: &str, what: &str) {
    let found = leftovers(env, server, token, code);
    assert!(
        found.is_empty(),
        "{what}: left behind:\n{}\nserver output:\n{}",
        found.join("\n"),
        server.output()
    );
}

/// Asserts an error answer `{"error": code, "message": …}` with `status`.
fn assert_error(r: &Response, status: u16, code: &str, what: &str) {
    let body = r.json();
    assert_eq!(
        (r.status, body["error"].as_str()),
        (status, Some(code)),
        "{what}: {body}"
    );
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: an error needs a message for people: {body}"
    );
}

/// Sends `head` and then streams `body` from another thread while this thread reads the
/// response (the server may answer, and stop reading, long before the body is sent).
/// The writer's own result is returned too (an error is expected once the server closes).
fn send_while_reading(
    addr: SocketAddr,
    head: Vec<u8>,
    body: Vec<Vec<u8>>,
) -> (std::io::Result<Response>, Duration, std::io::Result<()>) {
    let stream = connect(addr);
    let writer_stream = stream.try_clone().unwrap();
    let started = Instant::now();
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        let mut w = &writer_stream;
        w.write_all(&head)?;
        for piece in body {
            w.write_all(&piece)?;
        }
        w.flush()
    });
    let mut r = BufReader::new(stream.try_clone().unwrap());
    let answer = read_response(&mut r);
    let elapsed = started.elapsed();
    // Unblocks the writer if the server stopped reading without closing.
    let _ = stream.shutdown(Shutdown::Both);
    let written = writer.join().expect("writer thread");
    (answer, elapsed, written)
}

/// Sends an upload whose body (`sent`) is shorter than its `Content-Length` (`declared`),
/// then half-closes the connection. Returns what the server did and what it left behind
/// (checked by [`problems_after_short_body`]).
#[allow(clippy::too_many_arguments)]
fn short_body_then_half_close(
    env: &Env,
    server: &Server,
    token: &str,
    code: &str,
    sent: &[u8],
    declared: usize,
    pause_before_close: Duration,
    what: &str,
) -> ShortBody {
    assert!(sent.len() < declared);
    let mut bytes = upload_head(
        server.addr,
        token,
        code,
        &format!("Content-Length: {declared}"),
    );
    bytes.extend_from_slice(sent);
    let stream = connect(server.addr);
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    (&stream).write_all(&bytes).expect("send the request");
    // A pause lets the server start on the file before the connection breaks.
    std::thread::sleep(pause_before_close);
    stream.shutdown(Shutdown::Write).expect("half-close");
    let started = Instant::now();
    let outcome = read_response(&mut BufReader::new(&stream));
    let waited = started.elapsed();
    drop(stream);
    eprintln!(
        "{what}: after {waited:?}: {}",
        match &outcome {
            Ok(r) => format!("{} {}", r.status, String::from_utf8_lossy(&r.body)),
            Err(e) => format!("connection closed without an answer ({e})"),
        }
    );
    ShortBody {
        what: what.to_string(),
        outcome,
        waited,
        leftovers: leftovers(env, server, token, code),
    }
}

/// One request whose body is shorter than its `Content-Length`, and what came of it.
struct ShortBody {
    what: String,
    outcome: std::io::Result<Response>,
    waited: Duration,
    leftovers: Vec<String>,
}

/// What is wrong after a [`ShortBody`] request (empty when all is well): anything left
/// behind; an answer other than 400 `incomplete_upload`, or no prompt answer and no close.
fn problems_after_short_body(r: &ShortBody) -> Vec<String> {
    let what = &r.what;
    let mut problems: Vec<String> = r
        .leftovers
        .iter()
        .map(|l| format!("{what}: left behind: {l}"))
        .collect();
    match &r.outcome {
        Ok(answer) => {
            let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
            if (answer.status, body["error"].as_str()) != (400, Some("incomplete_upload")) {
                problems.push(format!(
                    "{what}: expected 400 incomplete_upload (or a closed connection), got {} {}",
                    answer.status,
                    String::from_utf8_lossy(&answer.body)
                ));
            }
        }
        // A closed connection is acceptable; a read timeout is a hang.
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            problems.push(format!(
                "{what}: the server neither answered nor closed within {:?}: {e}",
                r.waited
            ));
        }
        Err(_) => {}
    }
    problems
}

// ─── the tests ──────────────────────────────────────────────────────────────

#[test]
fn a_lying_content_length_is_refused_and_leaves_nothing() {
    let env = Env::new();
    let (mut server, token) = env.serve();
    let code = intake(server.addr, &token);
    let file = pdf("to khai");

    // (a) Content-Length: 100, but the multipart body is longer: the server reads 100
    // bytes, which end inside the PDF, so the multipart body is cut short.
    // The first 100 bytes hold the part head and the start of the PDF.
    let body = bare_multipart("a.pdf", &file);
    assert!(body.len() > 100);
    let mut bytes = upload_head(server.addr, &token, &code, "Content-Length: 100");
    bytes.extend_from_slice(&body);
    let stream = connect(server.addr);
    (&stream).write_all(&bytes).expect("send the request");
    let r = read_response(&mut BufReader::new(&stream)).unwrap_or_else(|e| {
        panic!(
            "(a) no answer to a body shorter than its multipart: {e}; server output:\n{}",
            server.output()
        )
    });
    drop(stream);
    let answer = r.json();
    let error = answer["error"].as_str().unwrap_or_default().to_string();
    eprintln!("(a) answer: {} {answer}", r.status);
    // Observed: 400 incomplete_upload (the multipart stream ends before its boundary).
    assert!(
        matches!(
            (r.status, error.as_str()),
            (400, "incomplete_upload") | (422, "truncated_file")
        ),
        "(a) Content-Length 100 on a longer body: expected 400 incomplete_upload or 422 \
         truncated_file, got {} {answer}",
        r.status
    );
    assert!(
        answer["message"].as_str().is_some_and(|m| !m.is_empty()),
        "(a) {answer}"
    );
    assert_nothing_stored(&env, &server, &token, &code, "(a) Content-Length 100");

    // (b) Content-Length larger than what is sent, then the client half-closes: the
    // body can never be complete. Either a 400 `incomplete_upload` answer or a closed
    // connection is fine; nothing may be stored, and the server must not hang. Every
    // variant runs; the problems of all are reported together.
    // Observed (2026-11-27): every variant answered within milliseconds. (b1') 400
    // incomplete_upload. (b1) and (b2) 400 invalid_multipart "Payload error": the short
    // body and the client's FIN are read before the handler polls the multipart stream, so
    // the payload error surfaces from `Multipart::next` and is classed as malformed.
    // (b2') 201 and the file stored: the multipart parser stops at the closing boundary
    // without waiting for the end of the request body.
    let whole = multipart("giay-chung-sinh.pdf", &file);
    let cut = part_head("giay-chung-sinh.pdf").len() + file.len() / 2;
    let mut runs = Vec::new();
    for (sent, declared, pause, what) in [
        // (b1) The connection breaks in the middle of the file.
        (
            &whole[..cut],
            whole.len(),
            Duration::ZERO,
            "(b1) body cut in the middle of the file",
        ),
        // (b1') The same, but the client stalls before giving up: the server is already
        // reading the file when the connection breaks.
        (
            &whole[..cut],
            whole.len(),
            Duration::from_millis(500),
            "(b1') body cut in the middle of the file, after a pause",
        ),
        // (b2) The whole multipart body arrives, closing boundary included, but the
        // request announced 4 KiB more: the HTTP request is still incomplete.
        (
            &whole[..],
            whole.len() + 4096,
            Duration::ZERO,
            "(b2) complete multipart, Content-Length 4 KiB larger",
        ),
        // (b2') The same, with a pause before the client gives up (last: it may store).
        (
            &whole[..],
            whole.len() + 4096,
            Duration::from_millis(500),
            "(b2') complete multipart, Content-Length 4 KiB larger, after a pause",
        ),
    ] {
        let run =
            short_body_then_half_close(&env, &server, &token, &code, sent, declared, pause, what);
        let problems = problems_after_short_body(&run);
        // Later variants must not be judged by what an earlier one left behind.
        if !run.leftovers.is_empty() {
            runs.push(problems);
            break;
        }
        runs.push(problems);
    }
    let problems: Vec<String> = runs.into_iter().flatten().collect();
    assert!(
        problems.is_empty(),
        "requests shorter than their Content-Length:\n{}\nserver output:\n{}",
        problems.join("\n"),
        server.output()
    );

    // The same file, sent honestly, is accepted: the refusals above were about the
    // transport, not the content.
    let r = upload(server.addr, &token, &code, 1, "to-khai.pdf", &file);
    let stored = r.json();
    assert_eq!(r.status, 201, "an honest upload: {stored}");
    assert_eq!(stored["sha256"], json!(sha256_hex(&file)), "{stored}");
    assert_eq!(
        files_under(&env.objects_dir()),
        vec![object_path(&env, &sha256_hex(&file))]
    );
    assert_alive(&mut server);
}

#[test]
fn a_declared_oversize_upload_is_refused_before_reading() {
    let env = Env::new();
    let (mut server, token) = env.serve();
    let code = intake(server.addr, &token);

    let head = upload_head(
        server.addr,
        &token,
        &code,
        &format!("Content-Length: {}", 50 * 1024 * 1024),
    );
    let mut first = part_head("ho-so-50mb.pdf");
    first.extend_from_slice(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
    // Only the head and a few bytes are sent; the connection stays open.
    let (answer, elapsed, _written) = send_while_reading(server.addr, head, vec![first]);
    let r = answer.unwrap_or_else(|e| {
        panic!(
            "no answer to a 50 MB Content-Length after {elapsed:?}: {e}; server output:\n{}",
            server.output()
        )
    });
    eprintln!("50 MB declared: {} after {elapsed:?}", r.status);
    assert_error(&r, 413, "file_too_large", "50 MB declared, 20 MB allowed");
    assert!(
        r.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("20 MB")),
        "the message states the limit: {}",
        r.json()
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "the refusal took {elapsed:?}: it must come before the body is read"
    );
    assert_nothing_stored(&env, &server, &token, &code, "50 MB declared");
    assert_alive(&mut server);
}

#[test]
fn an_oversize_upload_is_refused_while_streaming() {
    let env = Env::with_upload_limit_mb(1);
    let (mut server, token) = env.serve();
    let code = intake(server.addr, &token);

    // ~3 MB of PDF in a chunked body: no Content-Length to refuse up front.
    let big = big_pdf(3 * 1024 * 1024);
    let body = multipart("ban-chup-3mb.pdf", &big);
    let head = upload_head(server.addr, &token, &code, "Transfer-Encoding: chunked");
    let mut chunks: Vec<Vec<u8>> = body
        .chunks(64 * 1024)
        .map(|c| {
            let mut chunk = format!("{:x}\r\n", c.len()).into_bytes();
            chunk.extend_from_slice(c);
            chunk.extend_from_slice(b"\r\n");
            chunk
        })
        .collect();
    chunks.push(b"0\r\n\r\n".to_vec());
    let (answer, elapsed, _written) = send_while_reading(server.addr, head, chunks);
    let r = answer.unwrap_or_else(|e| {
        panic!(
            "no answer to a 3 MB chunked upload (limit 1 MB) after {elapsed:?}: {e}; server output:\n{}",
            server.output()
        )
    });
    eprintln!("3 MB chunked: {} after {elapsed:?}", r.status);
    assert_error(&r, 413, "file_too_large", "3 MB streamed, 1 MB allowed");
    assert!(
        r.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("1 MB")),
        "the message states the limit: {}",
        r.json()
    );
    assert_nothing_stored(&env, &server, &token, &code, "3 MB chunked");

    // A small complete PDF on the same server goes through.
    let small = pdf("giay chung sinh");
    let r = upload(server.addr, &token, &code, 2, "Giấy chứng sinh.pdf", &small);
    let stored = r.json();
    assert_eq!(r.status, 201, "a small upload: {stored}");
    let sha = sha256_hex(&small);
    assert_eq!(stored["sha256"], json!(sha), "{stored}");
    assert_eq!(stored["size"], json!(small.len()), "{stored}");
    assert_eq!(stored["media_type"], json!("application/pdf"), "{stored}");
    assert_eq!(stored["paper_position"], json!(2), "{stored}");
    assert_eq!(
        stored["file_name"],
        json!("Giấy chứng sinh.pdf"),
        "{stored}"
    );
    let path = object_path(&env, &sha);
    let meta = std::fs::metadata(&path)
        .unwrap_or_else(|e| panic!("{} is not stored: {e}", path.display()));
    assert_eq!(meta.len(), small.len() as u64, "{}", path.display());
    assert_eq!(std::fs::read(&path).unwrap(), small);
    assert_eq!(files_under(&env.objects_dir()), vec![path]);
    assert_eq!(part_files(&env), Vec::<PathBuf>::new());
    let d = dossier(server.addr, &token, &code);
    let files = d["files"].as_array().expect("a files array");
    assert_eq!(files.len(), 1, "{d}");
    assert_eq!(files[0]["sha256"], json!(sha), "{d}");
    assert_alive(&mut server);
}

#[test]
fn import_results_is_idempotent_and_reports_rejected_rows() {
    let env = Env::new();
    let csv_dir = tempfile::tempdir().expect("temp csv dir");
    std::fs::create_dir_all(csv_dir.path().join("scans")).unwrap();
    let scan = pdf("Giấy khai sinh Đỗ Minh Khoa");
    std::fs::write(csv_dir.path().join("scans/khai-sinh-khoa.pdf"), &scan).unwrap();
    let csv = "source_key,id_number,full_name,document_name,number,issuing_agency,issued_on,valid_until,procedure_code,file\n\
KS-2020-0001,001095006789,Đỗ Minh Khoa,Giấy khai sinh,123/2020,UBND phường Điện Biên,15/03/2020,,1.001193.000.00.00.H26,scans/khai-sinh-khoa.pdf\n\
KS-2020-0002,001095006789,Đỗ Minh Khoa,Giấy khai sinh bản sao,124/2020,UBND phường Điện Biên,31/02/2020,,,\n\
XN-2021-0007,001095006789,Đỗ Minh Khoa,Giấy xác nhận tình trạng hôn nhân,77/2021,UBND phường Điện Biên,2021-06-01,,,\n\
KS-2020-0003,,Trần Thị Ngọc Ánh,Giấy khai sinh,125/2020,UBND xã Thạch Thất,16/03/2020,,,\n\
KS-2019-0042,079189001234,Nguyễn Thị Hồng Nhung,Giấy khai sinh,42/2019,UBND xã Hòa Phước,02/01/2019,,,\n";
    let csv_path = csv_dir.path().join("ket-qua-cu.csv");
    std::fs::write(&csv_path, csv).unwrap();
    let csv_arg = csv_path.to_str().unwrap();

    let first = env.run(&["import", "results", csv_arg]);
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    let stderr = String::from_utf8_lossy(&first.stderr).to_string();
    assert_eq!(
        first.status.code(),
        Some(1),
        "rows were rejected, so exit 1:\n{stdout}\n{stderr}"
    );
    let rejected: Vec<&str> = stdout.lines().filter(|l| l.starts_with("dòng ")).collect();
    assert_eq!(rejected.len(), 2, "two rejected rows:\n{stdout}");
    assert!(
        rejected[0].starts_with("dòng 3: KS-2020-0002: "),
        "the bad date is on line 3:\n{stdout}"
    );
    assert!(
        rejected[0].contains("issued_on"),
        "the reason names the column:\n{stdout}"
    );
    assert!(
        rejected[1].starts_with("dòng 5: KS-2020-0003: "),
        "the empty id_number is on line 5:\n{stdout}"
    );
    assert!(
        rejected[1].contains("id_number"),
        "the reason names the column:\n{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l == "5 dòng: 3 đã nhập, 0 đã có từ trước, 2 bị từ chối"),
        "summary of the first run:\n{stdout}\n{stderr}"
    );
    // The scan is stored like an upload, under its hash.
    let scan_sha = sha256_hex(&scan);
    assert_eq!(
        std::fs::read(object_path(&env, &scan_sha)).expect("the imported scan is stored"),
        scan
    );

    let second = env.run(&["import", "results", csv_arg]);
    let stdout2 = String::from_utf8_lossy(&second.stdout).to_string();
    assert_eq!(
        second.status.code(),
        Some(1),
        "the same rows are rejected again:\n{stdout2}"
    );
    assert_eq!(
        stdout2
            .lines()
            .filter(|l| l.starts_with("dòng "))
            .collect::<Vec<_>>(),
        rejected,
        "the same rejections:\n{stdout2}"
    );
    assert!(
        stdout2
            .lines()
            .any(|l| l == "5 dòng: 0 đã nhập, 3 đã có từ trước, 2 bị từ chối"),
        "summary of the second run:\n{stdout2}"
    );
    assert_eq!(
        files_under(&env.objects_dir()),
        vec![object_path(&env, &scan_sha)],
        "the scan is stored once"
    );

    let (mut server, token) = env.serve();
    let r = http(
        server.addr,
        "GET",
        "/api/v1/applicants/001095006789/documents",
        Some(&token),
        None,
    )
    .expect("documents request");
    let body = r.json();
    assert_eq!(r.status, 200, "{body}");
    let docs = body["documents"].as_array().expect("a documents array");
    let mut ids: Vec<&str> = docs.iter().map(|d| d["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        vec!["NK-KS-2020-0001", "NK-XN-2021-0007"],
        "the person's imported results, and only those: {body}"
    );
    let birth = docs.iter().find(|d| d["id"] == "NK-KS-2020-0001").unwrap();
    assert_eq!(birth["kind"], json!("result"), "{birth}");
    assert_eq!(birth["name"], json!("Giấy khai sinh"), "{birth}");
    assert_eq!(birth["number"], json!("123/2020"), "{birth}");
    assert_eq!(birth["issued_on"], json!("2020-03-15"), "{birth}");
    assert_eq!(birth["valid_until"], Value::Null, "{birth}");
    assert_eq!(birth["electronic"], json!(true), "{birth}");
    let marriage = docs.iter().find(|d| d["id"] == "NK-XN-2021-0007").unwrap();
    assert_eq!(marriage["kind"], json!("result"), "{marriage}");
    assert_eq!(
        marriage["name"],
        json!("Giấy xác nhận tình trạng hôn nhân"),
        "{marriage}"
    );
    assert_eq!(marriage["issued_on"], json!("2021-06-01"), "{marriage}");
    assert_eq!(marriage["electronic"], json!(false), "{marriage}");

    let r = http(
        server.addr,
        "GET",
        "/api/v1/applicants/079189001234/documents",
        Some(&token),
        None,
    )
    .expect("documents request");
    let body = r.json();
    assert_eq!(r.status, 200, "{body}");
    let docs = body["documents"].as_array().expect("a documents array");
    assert_eq!(docs.len(), 1, "{body}");
    assert_eq!(docs[0]["id"], json!("NK-KS-2019-0042"), "{body}");
    assert_alive(&mut server);
}

#[test]
fn archive_sweep_removes_orphans_only_when_applied() {
    let env = Env::new();
    let (mut server, token) = env.serve();
    let code = intake(server.addr, &token);
    let file = pdf("to khai dang ky khai sinh");
    let r = upload(server.addr, &token, &code, 1, "Tờ khai.pdf", &file);
    let stored = r.json();
    assert_eq!(r.status, 201, "upload: {stored}");
    let kept_sha = sha256_hex(&file);
    assert_eq!(stored["sha256"], json!(kept_sha), "{stored}");
    let url = stored["url"].as_str().expect("a url").to_string();
    let kept = object_path(&env, &kept_sha);
    assert!(kept.is_file(), "{} is stored", kept.display());

    let three_days_ago = SystemTime::now() - Duration::from_secs(3 * 24 * 3600);
    let set_old = |p: &Path| {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(three_days_ago)
            .unwrap();
    };
    // The recorded content is old too: it is kept because a row records it, not because
    // it is young.
    set_old(&kept);
    let orphan_sha = format!("abcd{}", "0123456789abcdef".repeat(4))[..64].to_string();
    assert_ne!(orphan_sha, kept_sha);
    let orphan = object_path(&env, &orphan_sha);
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, pdf("nobody records me")).unwrap();
    set_old(&orphan);
    let stray = env.tmp_dir().join(format!("{}.part", "5a".repeat(16)));
    std::fs::write(&stray, b"%PDF-1.4\nhalf an upload").unwrap();
    set_old(&stray);

    // Dry run: lists the orphan, removes nothing.
    let dry = env.run(&["archive", "sweep"]);
    let out = String::from_utf8_lossy(&dry.stdout).to_string();
    let err = String::from_utf8_lossy(&dry.stderr).to_string();
    assert!(dry.status.success(), "dry run failed:\n{out}\n{err}");
    let listed: Vec<&str> = out.lines().filter(|l| l.starts_with("sẽ hủy ")).collect();
    assert_eq!(listed.len(), 1, "only the orphan is listed:\n{out}");
    assert!(
        listed[0].starts_with(&format!("sẽ hủy {orphan_sha} ")),
        "the orphan is listed:\n{out}"
    );
    assert!(
        !out.contains(&kept_sha),
        "the recorded content is not listed:\n{out}"
    );
    assert!(orphan.is_file(), "a dry run removed the orphan");
    assert!(
        stray.is_file(),
        "a dry run removed the stray temporary upload"
    );
    assert!(kept.is_file(), "a dry run removed the recorded content");

    // Applied: the orphan and the stray temporary upload go, the recorded content stays.
    let applied = env.run(&["archive", "sweep", "--apply"]);
    let out = String::from_utf8_lossy(&applied.stdout).to_string();
    let err = String::from_utf8_lossy(&applied.stderr).to_string();
    assert!(
        applied.status.success(),
        "sweep --apply failed:\n{out}\n{err}"
    );
    let removed: Vec<&str> = out.lines().filter(|l| l.starts_with("đã hủy ")).collect();
    assert_eq!(removed.len(), 1, "only the orphan is removed:\n{out}");
    assert!(
        removed[0].starts_with(&format!("đã hủy {orphan_sha} ")),
        "the orphan is removed:\n{out}"
    );
    assert!(
        out.contains("1 tệp tải lên dở dang đã xóa"),
        "the stray temporary upload is reported:\n{out}"
    );
    assert!(!orphan.exists(), "the orphan is still there:\n{out}\n{err}");
    assert!(!stray.exists(), "the stray temporary upload is still there");
    assert_eq!(
        files_under(&env.objects_dir()),
        vec![kept.clone()],
        "only the recorded content remains"
    );

    let r = http(server.addr, "GET", &url, Some(&token), None).expect("download");
    assert_eq!(
        r.status,
        200,
        "download {url}: {}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.body, file, "the recorded content is served unchanged");
    let d = dossier(server.addr, &token, &code);
    assert_eq!(d["files"].as_array().map(Vec::len), Some(1), "{d}");
    assert_alive(&mut server);
}
