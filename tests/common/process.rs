//! Server processes for the tests that need the real binary (several processes on one
//! database, faults, `kill -9`, SIGTERM): `CARGO_BIN_EXE_motcua` spawned on a free
//! loopback port, and a minimal blocking HTTP/1.1 client over plain TCP so that nothing in
//! the server is bypassed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

// ─── a minimal blocking HTTP/1.1 client ─────────────────────────────────────

/// A response: status, headers (names in lower case) and body.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as JSON, or as a JSON string when it is not JSON.
    pub fn json_or_text(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The value of the series `series` (labels exactly as rendered) in a Prometheus text
/// scrape, 0 when absent.
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (s, v) = l.rsplit_once(' ')?;
            (s == series).then(|| v.parse().unwrap())
        })
        .unwrap_or(0.0)
}

/// One request on a fresh connection (`Connection: close`) with a 120 s read timeout.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<Response> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    request(addr, method, path, &headers, body, Duration::from_secs(120))
}

/// One request on a fresh connection (`Connection: close`), reading the whole response
/// (Content-Length or chunked); `timeout` bounds the connect and every read.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
    timeout: Duration,
) -> std::io::Result<Response> {
    let payload = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let mut headers = headers.to_vec();
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    request_raw(addr, method, path, &headers, &payload, timeout)
}

/// One request with any payload (its headers given, `Content-Length` truthful) on a
/// fresh connection (`Connection: close`), reading the whole response.
pub fn request_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    payload: &[u8],
    timeout: Duration,
) -> std::io::Result<Response> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", payload.len()));
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(payload);
    (&stream).write_all(&bytes)?;
    let mut r = BufReader::new(stream);
    read_response(&mut r)
}

fn bad(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

fn read_line(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before the response ended",
        ));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Reads one response (Content-Length, chunked, or until the connection closes).
pub fn read_response(r: &mut impl BufRead) -> std::io::Result<Response> {
    let status_line = read_line(r)?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut headers = Vec::new();
    loop {
        let line = read_line(r)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header {line:?}")))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse().map_err(|_| bad("bad content-length"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
        headers.push((name.to_ascii_lowercase(), value.to_string()));
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let size_line = read_line(r)?;
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailers until the empty line.
                while !read_line(r)?.is_empty() {}
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..])?;
            read_line(r)?;
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    } else if status != 204 && status != 304 && !(100..200).contains(&status) {
        r.read_to_end(&mut body)?;
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

// ─── server processes ───────────────────────────────────────────────────────

pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().unwrap().port()
}

pub fn crate_root() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

/// The `motcua` binary with the environment shared by every process of one test: the
/// shipped config/, the database, the data directory and the secret. Its standard error
/// stays at `warn`; its whole log goes to a file of its own ([`keep_log`]).
pub fn motcua(db_url: &str, data_dir: &Path, secret: &str) -> Command {
    motcua_in(
        Path::new(&format!("{}/config", crate_root())),
        db_url,
        data_dir,
        secret,
    )
}

/// [`motcua`] with another configuration directory.
pub fn motcua_in(config_dir: &Path, db_url: &str, data_dir: &Path, secret: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_motcua"));
    c.current_dir(crate_root())
        .arg("--config-dir")
        .arg(config_dir)
        .env_remove("MOTCUA_CONFIG_DIR")
        .env_remove("MOTCUA_LOG_FORMAT")
        .env("MOTCUA_DATABASE_URL", db_url)
        .env("MOTCUA_DATA_DIR", data_dir)
        .env("MOTCUA_SECRET", secret)
        .env("RUST_LOG", "warn");
    keep_log(&mut c, "command");
    c
}

/// Where every server the tests run (and every command built by [`motcua`]) keeps its
/// log: `target/test-server-logs/`, one JSON-lines file per process. `.ci/run` empties it
/// before the suite and greps it after (`tests/log_privacy.rs`).
pub fn server_log_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_motcua"))
        .parent()
        .and_then(Path::parent)
        .expect("the binary lies in target/<profile>/")
        .join("test-server-logs")
}

/// The filter of the kept logs: every request line (`info`), and this crate's `debug`.
pub const KEPT_LOG_FILTER: &str = "info,motcua=debug";

/// Points `command`'s log file (`MOTCUA_LOG_FILE`, JSON at [`KEPT_LOG_FILTER`]) at a new
/// file of [`server_log_dir`], `<test binary>-<pid>-<n>-<label>.jsonl`; its path.
pub fn keep_log(command: &mut Command, label: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = server_log_dir();
    std::fs::create_dir_all(&dir).expect("create target/test-server-logs");
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "test".into());
    let label: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path = dir.join(format!(
        "{binary}-{}-{}-{label}.jsonl",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    command
        .env("MOTCUA_LOG_FILE", &path)
        .env("MOTCUA_LOG_FILE_FILTER", KEPT_LOG_FILTER);
    path
}

/// Collects a child's output on a thread (the pipe must never fill up).
fn drain(out: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut r = BufReader::new(out);
        let mut line = String::new();
        while matches!(r.read_line(&mut line), Ok(n) if n > 0) {
            into.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
}

/// A running server; killed when dropped, whatever happened in the test.
pub struct Server {
    pub name: String,
    pub addr: SocketAddr,
    pub child: Child,
    /// Its whole log, JSON lines ([`keep_log`]).
    pub log_file: PathBuf,
    output: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(name: &str, db_url: &str, data_dir: &Path, secret: &str) -> Server {
        Self::start_with(name, motcua(db_url, data_dir, secret))
    }

    /// Starts `motcua serve` from a prepared command (extra environment, e.g. settings).
    pub fn start_with(name: &str, command: Command) -> Server {
        Self::start_bound(name, command, "127.0.0.1")
    }

    /// [`Server::start_with`] listening on `host` (e.g. `[::]`: IPv4 and IPv6, so that a
    /// test can come from two addresses, `127.0.0.1` and `::1`); `addr` stays on
    /// 127.0.0.1.
    pub fn start_bound(name: &str, mut command: Command, host: &str) -> Server {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log_file = keep_log(&mut command, name);
        let mut child = command
            .arg("serve")
            .env("MOTCUA_BIND", format!("{host}:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the motcua server");
        let output = Arc::new(Mutex::new(String::new()));
        drain(child.stdout.take().unwrap(), output.clone());
        drain(child.stderr.take().unwrap(), output.clone());
        Server {
            name: name.to_string(),
            addr,
            child,
            log_file,
            output,
        }
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// The lines of its log so far, parsed (JSON objects).
    pub fn log(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log_file)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Polls `/healthz` for up to 60 s.
    pub fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = request(
                self.addr,
                "GET",
                "/healthz",
                &[],
                None,
                Duration::from_secs(5),
            ) {
                if r.status == 200 {
                    return;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "server {} exited ({status}) before answering /healthz; its output:\n{}",
                    self.name,
                    self.output()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "server {} did not answer /healthz on {} within 60 s; its output:\n{}",
                    self.name,
                    self.addr,
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {}", self.child.id());
    }

    /// Sends SIGKILL and reaps the process.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits up to `limit` for the process to exit; its status, or `None` if it still runs.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `motcua user add` with the password on stdin.
pub fn add_user(
    db_url: &str,
    data_dir: &Path,
    secret: &str,
    username: &str,
    password: &str,
    role: &str,
    agency: &str,
) {
    add_user_by(
        motcua(db_url, data_dir, secret),
        username,
        password,
        role,
        agency,
    )
}

/// [`add_user`] through a prepared `motcua` command (extra environment).
pub fn add_user_by(mut command: Command, username: &str, password: &str, role: &str, agency: &str) {
    let mut child = command
        .args(["user", "add", "--username", username])
        .args(["--full-name", "Cán bộ Một cửa Thử Nghiệm", "--role", role])
        .args(["--agency", agency])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn motcua user add");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("motcua user add runs");
    assert!(
        out.status.success(),
        "motcua user add failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Logs in over HTTP; the access token.
pub fn login(addr: SocketAddr, username: &str, password: &str) -> String {
    let r = http(
        addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({ "username": username, "password": password })),
    )
    .expect("login request");
    let body = r.json();
    assert_eq!(r.status, 200, "login: {body}");
    body["access_token"]
        .as_str()
        .expect("an access_token")
        .to_string()
}

/// `motcua audit verify`: its exit code and output.
pub fn audit_verify(db_url: &str, data_dir: &Path, secret: &str) -> (i32, String) {
    let out = motcua(db_url, data_dir, secret)
        .args(["audit", "verify"])
        .output()
        .expect("motcua audit verify runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}
