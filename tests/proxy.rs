//! Behind a reverse proxy (issue #19, items 4 and 6), on the real server over TCP: only a
//! peer in `[server] trusted_proxies` names the client with `X-Forwarded-For` or
//! `Forwarded`, and that client is the one the guessing limits count, the audit trail
//! records and the log shows; every response carries `X-Request-Id` (a trusted proxy's
//! own, else a new one), and every log line of the request carries it too; an https
//! `public_base_url` sends `Strict-Transport-Security` and `Secure` cookies.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::process::{self, request, Response, Server};
use diesel::prelude::*;
use serde_json::{json, Value};

const SECRET: &str = "proxy-test-secret-0123456789abcdef-forwarded";
const PASSWORD: &str = "mat-khau-sau-proxy-2026";
const CLERK: &str = "clerk.proxy";
const AGENCY: &str = "000.00.51.H26";
/// `[public] lookup_failures_per_address`: wrong lookups that close an address for its
/// window (15 minutes), whatever the code — no timing in these tests.
const PER_ADDRESS: usize = 20;

/// A server on a fresh SQLite database with a clerk; `trusted`: `MOTCUA_TRUSTED_PROXIES`.
fn start(db: &common::TestDb, name: &str, trusted: Option<&str>) -> Server {
    process::add_user(
        &db.url,
        db.dir.path(),
        SECRET,
        CLERK,
        PASSWORD,
        "clerk",
        AGENCY,
    );
    let mut cmd = process::motcua(&db.url, db.dir.path(), SECRET);
    if let Some(t) = trusted {
        cmd.env("MOTCUA_TRUSTED_PROXIES", t);
    }
    let mut server = Server::start_with(name, cmd);
    server.wait_healthy();
    server
}

fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response {
    request(addr, "GET", path, headers, None, Duration::from_secs(60)).expect("request")
}

/// A wrong pin for the `n`-th code that does not exist: 404, or 429 once the address is
/// closed.
fn wrong_lookup(addr: SocketAddr, n: usize, headers: &[(&str, &str)]) -> Response {
    get(
        addr,
        &format!("/api/v1/public/dossiers/000.00.51.H26-261201-{n:04}?pin=246810"),
        headers,
    )
}

/// The response's `X-Request-Id`, which every response carries.
fn request_id(r: &Response) -> String {
    r.header("x-request-id")
        .unwrap_or_else(|| panic!("no X-Request-Id on a {} response", r.status))
        .to_string()
}

fn is_generated(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The log lines of the request `id` (the span `request`, field `request_id`).
fn lines_of(server: &Server, id: &str) -> Vec<Value> {
    server
        .log()
        .into_iter()
        .filter(|l| l["span"]["request_id"] == id)
        .collect()
}

/// The request line (`message: "request"`) of the request `id`.
fn request_line(server: &Server, id: &str) -> Value {
    lines_of(server, id)
        .into_iter()
        .find(|l| l["message"] == "request")
        .unwrap_or_else(|| panic!("no request line for {id} in {}", server.log_file.display()))
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_guessing_limit() {
    let db = common::TestDb::sqlite();
    let server = start(&db, "trusted-proxy", Some("127.0.0.1/32, ::1/128"));
    let addr = server.addr;
    // A guesser behind the proxy; the left entry is the client's own forgery, never read.
    let guesser = [("X-Forwarded-For", "198.51.100.1, 203.0.113.9")];
    for n in 0..PER_ADDRESS {
        let r = wrong_lookup(addr, n, &guesser);
        assert_eq!(r.status, 404, "lookup {n}: {}", r.json_or_text());
    }
    let r = wrong_lookup(addr, PER_ADDRESS, &guesser);
    assert_eq!(r.status, 429, "{}", r.json_or_text());
    assert!(r.header("retry-after").is_some());
    assert_eq!(r.json()["error"], "too_many_attempts");
    // The same client named by `Forwarded` (no X-Forwarded-For): still closed.
    let r = wrong_lookup(
        addr,
        PER_ADDRESS + 1,
        &[("Forwarded", "for=203.0.113.9;proto=https")],
    );
    assert_eq!(r.status, 429, "{}", r.json_or_text());
    // Another client behind the same proxy is heard at once, and the proxy itself too.
    let r = wrong_lookup(
        addr,
        PER_ADDRESS + 2,
        &[("X-Forwarded-For", "198.51.100.20")],
    );
    assert_eq!(r.status, 404, "{}", r.json_or_text());
    let other = request_id(&r);
    let r = wrong_lookup(addr, PER_ADDRESS + 3, &[]);
    assert_eq!(r.status, 404, "{}", r.json_or_text());
    // A malformed header: the peer, never an error.
    let r = wrong_lookup(
        addr,
        PER_ADDRESS + 4,
        &[("X-Forwarded-For", "not-an-address")],
    );
    assert_eq!(r.status, 404, "{}", r.json_or_text());
    let malformed = request_id(&r);

    // The log names the forwarded client, never the proxy, and never the query's pin.
    let line = request_line(&server, &other);
    assert_eq!(line["client"], "198.51.100.20", "{line}");
    assert_eq!(
        line["path"], "/api/v1/public/dossiers/000.00.51.H26-261201-0022",
        "{line}"
    );
    assert_eq!(line["status"], 404, "{line}");
    assert_eq!(request_line(&server, &malformed)["client"], "127.0.0.1");

    // The audit trail records the forwarded client as the actor's address.
    let token = login(addr, &[("X-Forwarded-For", "198.51.100.7")]);
    let r = intake(addr, &token, &[("X-Forwarded-For", "198.51.100.7")]);
    assert_eq!(r.status, 201, "{}", r.json_or_text());
    let addresses = audit_addresses(&db.url);
    assert!(
        !addresses.is_empty() && addresses.iter().all(|a| a == "198.51.100.7"),
        "{addresses:?}"
    );
}

#[test]
fn without_trusted_proxies_forwarded_headers_are_ignored() {
    let db = common::TestDb::sqlite();
    let server = start(&db, "no-proxy", None);
    let addr = server.addr;
    // Twenty wrong lookups, each claiming another client: all are the peer's.
    for n in 0..PER_ADDRESS {
        let forged = format!("203.0.113.{}", n + 1);
        let headers: [(&str, &str); 2] = [
            ("X-Forwarded-For", &forged),
            ("Forwarded", "for=198.51.100.99"),
        ];
        let r = wrong_lookup(addr, n, &headers);
        assert_eq!(r.status, 404, "lookup {n}: {}", r.json_or_text());
    }
    let r = wrong_lookup(addr, PER_ADDRESS, &[("X-Forwarded-For", "198.51.100.20")]);
    assert_eq!(r.status, 429, "{}", r.json_or_text());
    let line = request_line(&server, &request_id(&r));
    assert_eq!(line["client"], "127.0.0.1", "{line}");
    assert_eq!(line["status"], 429, "{line}");

    // The audit trail records the peer.
    let forged = [("X-Forwarded-For", "198.51.100.7")];
    let token = login(addr, &forged);
    let r = intake(addr, &token, &forged);
    assert_eq!(r.status, 201, "{}", r.json_or_text());
    let addresses = audit_addresses(&db.url);
    assert!(
        !addresses.is_empty() && addresses.iter().all(|a| a == "127.0.0.1"),
        "{addresses:?}"
    );
}

#[test]
fn every_response_and_every_log_line_of_a_request_carry_its_id() {
    let db = common::TestDb::sqlite();
    let trusted = start(&db, "request-ids", Some("127.0.0.1/32"));
    let addr = trusted.addr;

    // Generated when absent: 16 hex digits, one per request, on successes and errors.
    let mut seen = std::collections::HashSet::new();
    for (path, status) in [
        ("/healthz", 200),
        ("/api/v1/khong-co", 404),
        ("/khong-co", 404),
        ("/api/v1/dossiers", 401),
    ] {
        let r = get(addr, path, &[]);
        assert_eq!(r.status, status, "{path}");
        let id = request_id(&r);
        assert!(is_generated(&id), "{path}: {id}");
        assert!(seen.insert(id), "{path}: an id used twice");
    }
    // A trusted proxy's well-formed id (nginx's $request_id) is kept; a malformed one is
    // replaced.
    let nginx = "4f7c2a9e0b1d3c5e6f708192a3b4c5d6";
    let r = get(addr, "/healthz", &[("X-Request-Id", nginx)]);
    assert_eq!(request_id(&r), nginx);
    for bad in ["", "có dấu", "a b", &"x".repeat(65)] {
        let r = get(addr, "/healthz", &[("X-Request-Id", bad)]);
        assert!(is_generated(&request_id(&r)), "{bad:?} was kept");
    }

    // Every line of one request carries its id, those written on the blocking pool too
    // (the intake's "dossier registered").
    let token = login(addr, &[]);
    let r = intake(addr, &token, &[("X-Request-Id", "intake-0001")]);
    assert_eq!(r.status, 201, "{}", r.json_or_text());
    assert_eq!(request_id(&r), "intake-0001");
    let code = r.json()["code"].as_str().unwrap().to_string();
    let lines = lines_of(&trusted, "intake-0001");
    let registered = lines
        .iter()
        .find(|l| l["message"] == "dossier registered")
        .unwrap_or_else(|| panic!("the intake's own line lacks its id: {lines:?}"));
    assert_eq!(registered["code"], code.as_str());
    assert!(lines.iter().any(|l| l["message"] == "request"), "{lines:?}");
    // An ID number in the path is logged as the route's template; a path no route knows,
    // with its digits masked.
    let auth = format!("Bearer {token}");
    let r = get(
        addr,
        "/api/v1/applicants/031199004821/documents",
        &[("Authorization", &auth)],
    );
    let line = request_line(&trusted, &request_id(&r));
    assert_eq!(
        line["path"], "/api/v1/applicants/{id_number}/documents",
        "{line}"
    );
    let r = get(addr, "/ho-so-cua/0987654321", &[]);
    let line = request_line(&trusted, &request_id(&r));
    assert_eq!(line["path"], "/ho-so-cua/***", "{line}");
    // Every request line of the run has an id.
    let log = trusted.log();
    let requests: Vec<_> = log.iter().filter(|l| l["message"] == "request").collect();
    assert!(requests.len() >= 10, "{} request lines", requests.len());
    for l in requests {
        assert!(l["span"]["request_id"].is_string(), "{l}");
    }

    // From a peer that is no trusted proxy, the client's own id is ignored.
    let db2 = common::TestDb::sqlite();
    let untrusted = start(&db2, "request-ids-untrusted", None);
    let r = get(untrusted.addr, "/healthz", &[("X-Request-Id", nginx)]);
    let id = request_id(&r);
    assert!(is_generated(&id) && id != nginx, "{id}");
}

#[test]
fn an_https_public_address_sends_hsts_and_secure_cookies() {
    let config = common::config_copy_with(&[(
        "public_base_url = \"http://127.0.0.1:8080\"",
        "public_base_url = \"https://motcua.example.gov.vn\"",
    )]);
    let db = common::TestDb::sqlite();
    let cmd = process::motcua_in(
        &config.path().join("config"),
        &db.url,
        db.dir.path(),
        SECRET,
    );
    let mut https = Server::start_with("https", cmd);
    https.wait_healthy();
    for (path, status) in [
        ("/healthz", 200),
        ("/dang-nhap", 200),
        ("/api/v1/khong-co", 404),
        ("/tra-cuu", 200),
    ] {
        let r = get(https.addr, path, &[]);
        assert_eq!(r.status, status, "{path}");
        assert_eq!(
            r.header("strict-transport-security"),
            Some("max-age=31536000"),
            "{path}"
        );
        assert!(is_generated(&request_id(&r)), "{path}");
    }
    let cookies = set_cookies(&get(https.addr, "/dang-nhap", &[]));
    assert!(!cookies.is_empty(), "the login page sets its cookie");
    for c in &cookies {
        assert!(c.contains("; Secure"), "{c}");
        assert!(c.contains("HttpOnly"), "{c}");
    }

    // On plain http: neither.
    let db2 = common::TestDb::sqlite();
    let plain = start(&db2, "plain-http", None);
    for path in ["/healthz", "/dang-nhap", "/api/v1/khong-co"] {
        let r = get(plain.addr, path, &[]);
        assert_eq!(r.header("strict-transport-security"), None, "{path}");
    }
    let cookies = set_cookies(&get(plain.addr, "/dang-nhap", &[]));
    assert!(!cookies.is_empty());
    for c in &cookies {
        assert!(!c.contains("Secure"), "{c}");
    }
}

fn set_cookies(r: &Response) -> Vec<String> {
    r.headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.clone())
        .collect()
}

fn login(addr: SocketAddr, headers: &[(&str, &str)]) -> String {
    let r = request(
        addr,
        "POST",
        "/api/v1/auth/login",
        headers,
        Some(&json!({ "username": CLERK, "password": PASSWORD })),
        Duration::from_secs(60),
    )
    .expect("login");
    assert_eq!(r.status, 200, "{}", r.json_or_text());
    r.json()["access_token"].as_str().unwrap().to_string()
}

/// A birth registration received at the counter.
fn intake(addr: SocketAddr, token: &str, headers: &[(&str, &str)]) -> Response {
    let auth = format!("Bearer {token}");
    let mut all = vec![("Authorization", auth.as_str())];
    all.extend_from_slice(headers);
    let body = json!({
        "procedure_code": "1.001193.000.00.00.H26",
        "channel": "counter",
        "applicant": { "full_name": "Phạm Thị Lan", "id_number": "031199004821",
                       "phone": "0987654321", "email": "lan.pham@example.vn" },
        "papers": [
            { "name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original", "count": 1 },
            { "name": "Giấy chứng sinh", "kind": "original", "count": 1 }
        ]
    });
    request(
        addr,
        "POST",
        "/api/v1/dossiers",
        &all,
        Some(&body),
        Duration::from_secs(60),
    )
    .expect("intake")
}

/// The addresses the audit trail recorded for the clerk's actions.
fn audit_addresses(db_url: &str) -> Vec<String> {
    use motcua::store::schema::audit_log;
    let store =
        motcua::store::Store::open(db_url, &motcua::store::StoreOptions::default()).unwrap();
    let mut conn = store.conn().unwrap();
    audit_log::table
        .filter(audit_log::actor.eq(CLERK))
        .select(audit_log::address)
        .load::<Option<String>>(&mut *conn)
        .unwrap()
        .into_iter()
        .map(|a| a.unwrap_or_default())
        .collect()
}
