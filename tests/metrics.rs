//! `/metrics` (issue #19, item 3), scraped from the real server on its own listener
//! (`MOTCUA_METRICS_BIND`): the counters move as two intakes, a refused one and a read
//! say, by route template; the pool's and the outbox's gauges are there; the public
//! listener does not serve it.

mod common;

use std::net::SocketAddr;

use common::process::{self, http, metric as value, Server};
use serde_json::json;

const SECRET: &str = "metrics-test-secret-0123456789abcdef-prometheus";
const PASSWORD: &str = "mat-khau-thu-nghiem-2026";
const AGENCY: &str = "000.00.51.H26";

fn scrape(addr: SocketAddr) -> String {
    let r = http(addr, "GET", "/metrics", None, None).expect("scrape");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    String::from_utf8(r.body).unwrap()
}

#[test]
fn metrics_move_with_an_intake_and_stay_off_the_public_address() {
    let db = common::TestDb::sqlite();
    process::add_user(
        &db.url,
        db.dir.path(),
        SECRET,
        "clerk.metrics",
        PASSWORD,
        "clerk",
        AGENCY,
    );
    let metrics_addr: SocketAddr = format!("127.0.0.1:{}", process::free_port())
        .parse()
        .unwrap();
    let mut cmd = process::motcua(&db.url, db.dir.path(), SECRET);
    cmd.env("MOTCUA_METRICS_BIND", metrics_addr.to_string());
    let mut server = Server::start_with("metrics", cmd);
    server.wait_healthy();
    let addr = server.addr;

    // Not on the public address.
    let r = http(addr, "GET", "/metrics", None, None).unwrap();
    assert_eq!(r.status, 404, "the public listener serves /metrics");

    let before = scrape(metrics_addr);
    let intake = "motcua_intakes_total{channel=\"counter\",status=\"received\"}";
    let posted =
        "motcua_http_requests_total{method=\"POST\",route=\"/api/v1/dossiers\",status=\"201\"}";
    let refused =
        "motcua_http_requests_total{method=\"POST\",route=\"/api/v1/dossiers\",status=\"400\"}";
    let read = "motcua_http_requests_total{method=\"GET\",route=\"/api/v1/dossiers/{code}\",status=\"200\"}";
    let latency =
        "motcua_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/dossiers\"}";
    assert_eq!(value(&before, intake), 0.0, "{before}");
    for gauge in [
        "motcua_db_pool_connections{state=\"size\"}",
        "motcua_outbox_messages{state=\"pending\"}",
        "motcua_build_info{version=\"0.1.0\"}",
    ] {
        assert!(
            before.lines().any(|l| l.starts_with(gauge)),
            "{gauge} missing:\n{before}"
        );
    }
    assert!(value(&before, "motcua_db_pool_connections{state=\"size\"}") >= 1.0);

    // Two intakes, one refused, one read.
    let token = process::login(addr, "clerk.metrics", PASSWORD);
    let body = json!({
        "procedure_code": "1.001193.000.00.00.H26",
        "channel": "counter",
        "applicant": { "full_name": "Lê Văn Cường", "id_number": "001099012345",
                       "phone": "0912345678", "email": "cuong@example.vn" },
        "papers": [
            { "name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original", "count": 1 },
            { "name": "Giấy chứng sinh", "kind": "original", "count": 1 }
        ]
    });
    let mut code = String::new();
    for _ in 0..2 {
        let r = http(addr, "POST", "/api/v1/dossiers", Some(&token), Some(&body)).unwrap();
        assert_eq!(r.status, 201, "{}", r.json_or_text());
        code = r.json()["code"].as_str().unwrap().to_string();
    }
    let r = http(
        addr,
        "POST",
        "/api/v1/dossiers",
        Some(&token),
        Some(&json!({ "procedure_code": "" })),
    )
    .unwrap();
    assert_eq!(r.status, 400);
    let r = http(
        addr,
        "GET",
        &format!("/api/v1/dossiers/{code}"),
        Some(&token),
        None,
    )
    .unwrap();
    assert_eq!(r.status, 200);

    let after = scrape(metrics_addr);
    assert_eq!(value(&after, intake), 2.0, "{after}");
    assert_eq!(value(&after, posted) - value(&before, posted), 2.0);
    assert_eq!(value(&after, refused) - value(&before, refused), 1.0);
    assert_eq!(value(&after, read) - value(&before, read), 1.0);
    assert_eq!(value(&after, latency) - value(&before, latency), 3.0);
    // Route templates only: the dossier's code never becomes a label.
    assert!(!after.contains(&code), "a code leaked into the metrics");
}
