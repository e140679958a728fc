//! The report exports: a small November of dossiers is built through the API with a
//! manual clock (returned, stopped, still open, carried over from October, handed from
//! ward A to ward B and back electronically, one at ward B), then the tracking book
//! (XLSX), the indicator tables (CSV, XLSX, PDF) and the raw export (CSV) are read back
//! and checked against the JSON report.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use actix_http::Request;
use actix_web::dev::{Service, ServiceResponse};
use chrono::{DateTime, FixedOffset};
use common::http::{event, get, login, post, send, send_raw, service, users};
use common::local;
use motcua::app::App;
use motcua::service::Role;
use serde_json::{json, Value};

const A: &str = "000.00.51.H26";
const B: &str = "000.00.52.H26";
const CITY: &str = "000.00.00.H26";
const BIRTH: &str = "1.001193.000.00.00.H26";
const PERIOD: &str = "from=2026-11-01&to=2026-11-30";

const BOOK_HEADER: [&str; 12] = [
    "STT",
    "Mã hồ sơ",
    "Tên thủ tục hành chính",
    "Tên người nộp",
    "Địa chỉ, số điện thoại",
    "Cơ quan chủ trì giải quyết",
    "Nhận hồ sơ",
    "Hẹn trả kết quả",
    "Ngày có kết quả/ trả kết quả",
    "Hình thức trả kết quả",
    "Ghi chú",
    "Ký nhận",
];

const RAW_COLUMNS: [&str; 24] = [
    "code",
    "owner_agency",
    "owner_level",
    "receiving_agency",
    "procedure_code",
    "channel",
    "received_at",
    "finished_at",
    "status",
    "outcome",
    "decision",
    "due_at",
    "late_by_rule",
    "supplement_requests",
    "digitised",
    "reused",
    "results",
    "results_electronic",
    "fee_bearing",
    "paid_online",
    "rating",
    "rated_at",
    "handling_minutes",
    "yields_document",
];

/// The applicants: name, ID number, phone, address.
const PEOPLE: [(&str, &str, &str, &str); 7] = [
    (
        "Phạm Văn Xuân",
        "001090000300",
        "0912000300",
        "3 Hàng Bạc, Hoàn Kiếm",
    ),
    (
        "Ngô Thị Thu",
        "001090000309",
        "0912000309",
        "9 Hàng Gai, Hoàn Kiếm",
    ),
    (
        "Nguyễn Thị Ánh",
        "001090000301",
        "0912000301",
        "12 Hàng Bạc, phường Hoàn Kiếm",
    ),
    (
        "Trần Văn Bình",
        "001090000302",
        "0912000302",
        "5 Lý Thái Tổ, Hoàn Kiếm",
    ),
    (
        "Lê Thị Cúc",
        "001090000303",
        "0912000303",
        "7 Tràng Tiền, Hoàn Kiếm",
    ),
    (
        "Đỗ Văn Dũng",
        "001090000304",
        "0912000304",
        "2 Đinh Lễ, Hoàn Kiếm",
    ),
    (
        "Vũ Thị Én",
        "001090000305",
        "0912000305",
        "4 Hàng Trống, Hoàn Kiếm",
    ),
];

struct World<'a, S> {
    svc: &'a S,
    app: &'a Arc<App>,
}

/// What a received dossier came back with.
struct Received {
    code: String,
    line: i64,
    due_at: String,
}

impl<S> World<'_, S>
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    async fn receive(&self, at: &str, user: &str, who: usize) -> Received {
        self.app.clock.set(local(at));
        let (name, id, phone, address) = PEOPLE[who];
        let body = json!({"procedure_code": BIRTH, "channel": "counter",
            "applicant": {"full_name": name, "id_number": id, "phone": phone, "address": address},
            "papers": [{"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                       {"name": "Giấy chứng sinh", "kind": "original"}]});
        let tok = login(self.svc, user).await;
        let (status, b) = send(self.svc, post(&tok, "/api/v1/dossiers", body)).await;
        assert_eq!(status, 201, "{at}: {b}");
        Received {
            code: b["code"].as_str().unwrap().to_string(),
            line: b["book"]["line"].as_i64().unwrap(),
            due_at: b["due_at"].as_str().unwrap().to_string(),
        }
    }

    async fn ev(&self, at: &str, user: &str, code: &str, body: Value) {
        self.app.clock.set(local(at));
        let tok = login(self.svc, user).await;
        let (status, b) = event(self.svc, &tok, code, body.clone()).await;
        assert_eq!(status, 201, "{at} {user} {code} {body}: {b}");
    }

    async fn decide_and_return(&self, at_decide: &str, at_return: &str, ward: &str, code: &str) {
        self.ev(
            at_decide,
            &format!("leader.{ward}"),
            code,
            json!({"type": "decide", "outcome": "approved"}),
        )
        .await;
        self.ev(
            at_return,
            &format!("clerk.{ward}"),
            code,
            json!({"type": "return", "channel": "counter"}),
        )
        .await;
    }

    async fn download(&self, user: &str, uri: &str) -> (u16, String, Vec<u8>) {
        let tok = login(self.svc, user).await;
        send_raw(self.svc, get(&tok, uri)).await
    }

    async fn json(&self, user: &str, uri: &str) -> Value {
        let tok = login(self.svc, user).await;
        let (status, b) = send(self.svc, get(&tok, uri)).await;
        assert_eq!(status, 200, "{uri}: {b}");
        b
    }
}

/// The dossiers of the scenario.
struct Built {
    /// Received 20/10, returned the same day: nowhere in November.
    old: Received,
    /// Received 30/10 16:00, returned 2/11: carried over.
    carried: Received,
    /// Ward A, 2/11 09:00, returned 11:00 at the counter: on time.
    returned: Received,
    /// Ward A, 3/11, stopped at the applicant's request.
    stopped: Received,
    /// Ward A, 4/11, handed to ward B and back electronically, returned 16:00.
    handed: Received,
    /// Ward A, 27/11, still open.
    open: Received,
    /// Ward B, 5/11, returned.
    at_b: Received,
}

async fn build<S>(w: &World<'_, S>) -> Built
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let old = w.receive("2026-10-20T09:00", "clerk.a", 0).await;
    w.decide_and_return("2026-10-20T10:00", "2026-10-20T11:00", "a", &old.code)
        .await;
    let carried = w.receive("2026-10-30T16:00", "clerk.a", 1).await;
    w.decide_and_return("2026-11-02T09:30", "2026-11-02T10:00", "a", &carried.code)
        .await;
    let returned = w.receive("2026-11-02T09:00", "clerk.a", 2).await;
    w.decide_and_return("2026-11-02T10:30", "2026-11-02T11:00", "a", &returned.code)
        .await;
    let stopped = w.receive("2026-11-03T09:00", "clerk.a", 3).await;
    w.ev(
        "2026-11-03T10:00",
        "clerk.a",
        &stopped.code,
        json!({"type": "stop", "reason": "Người nộp xin rút hồ sơ"}),
    )
    .await;
    let handed = w.receive("2026-11-04T09:00", "clerk.a", 4).await;
    let code = handed.code.clone();
    w.ev(
        "2026-11-04T10:00",
        "clerk.a",
        &code,
        json!({"type": "handover", "to_agency": B, "electronic": true}),
    )
    .await;
    w.ev(
        "2026-11-04T10:30",
        "official.b",
        &code,
        json!({"type": "accept"}),
    )
    .await;
    w.ev(
        "2026-11-04T14:00",
        "official.b",
        &code,
        json!({"type": "handover", "to_agency": A, "electronic": true}),
    )
    .await;
    w.ev(
        "2026-11-04T14:30",
        "clerk.a",
        &code,
        json!({"type": "accept"}),
    )
    .await;
    w.decide_and_return("2026-11-04T15:30", "2026-11-04T16:00", "a", &code)
        .await;
    let open = w.receive("2026-11-27T09:00", "clerk.a", 5).await;
    let at_b = w.receive("2026-11-05T09:00", "clerk.b", 6).await;
    w.decide_and_return("2026-11-05T10:00", "2026-11-05T11:00", "b", &at_b.code)
        .await;
    w.app.clock.set(local("2026-12-01T08:00"));
    Built {
        old,
        carried,
        returned,
        stopped,
        handed,
        open,
        at_b,
    }
}

fn start(db: &common::TestDb) -> Arc<App> {
    let app = common::app_at(db, local("2026-10-01T07:00"));
    users(
        &app,
        &[
            ("clerk.a", Role::Clerk, A),
            ("official.a", Role::Official, A),
            ("leader.a", Role::Leader, A),
            ("clerk.b", Role::Clerk, B),
            ("official.b", Role::Official, B),
            ("leader.b", Role::Leader, B),
            ("inspector", Role::Inspector, CITY),
        ],
    );
    app
}

/// The cells of sheet `index` as text (numbers without a fractional part print as
/// integers).
fn sheet(bytes: &[u8], index: usize) -> Vec<Vec<String>> {
    use calamine::{open_workbook_from_rs, Reader, Xlsx};
    let mut wb: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("the XLSX opens");
    let range = wb
        .worksheet_range_at(index)
        .expect("the sheet exists")
        .expect("the sheet reads");
    assert_eq!(range.start(), Some((0, 0)), "the sheet starts at A1");
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// `dd/mm/yyyy hh:mm` of an RFC 3339 moment, in +07:00.
fn book_time(rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap())
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

/// A CSV download: the UTF-8 BOM, then the header and the records.
fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("CSV starts with a UTF-8 BOM");
    let mut r = csv::Reader::from_reader(body);
    let header = r
        .headers()
        .unwrap()
        .iter()
        .map(String::from)
        .collect::<Vec<_>>();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

async fn tracking_book(db: common::TestDb) {
    let app = start(&db);
    let svc = service(&app).await;
    let w = World {
        svc: &svc,
        app: &app,
    };
    let d = build(&w).await;

    let (status, ct, bytes) = w
        .download(
            "clerk.a",
            &format!("/api/v1/reports/tracking-book.xlsx?{PERIOD}"),
        )
        .await;
    assert_eq!(
        status,
        200,
        "{}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
    );
    assert_eq!(
        ct,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let rows = sheet(&bytes, 0);
    let agency_a = app.agencies.get(A).unwrap().name.clone();
    assert_eq!(rows[0][0], "SỔ THEO DÕI HỒ SƠ");
    assert_eq!(rows[1][0], agency_a);
    assert_eq!(rows[2][0], "Từ ngày 01/11/2026 đến ngày 30/11/2026");
    assert_eq!(rows[3], BOOK_HEADER);
    // The dossiers received by ward A in November, in book order (not the one of
    // October, not ward B's).
    let body = &rows[4..];
    assert_eq!(
        body.iter().map(|r| r[1].as_str()).collect::<Vec<_>>(),
        [
            d.returned.code.as_str(),
            d.stopped.code.as_str(),
            d.handed.code.as_str(),
            d.open.code.as_str()
        ]
    );
    let procedure = app.catalogue.get(BIRTH).unwrap().name.clone();
    assert_eq!(
        body[0],
        [
            d.returned.line.to_string(),
            d.returned.code.clone(),
            procedure.clone(),
            "Nguyễn Thị Ánh".into(),
            "12 Hàng Bạc, phường Hoàn Kiếm, 0912000301".into(),
            agency_a.clone(),
            "02/11/2026 09:00".into(),
            book_time(&d.returned.due_at),
            "02/11/2026 11:00".into(),
            "Trực tiếp".into(),
            "Đúng hạn".into(),
            String::new(),
        ]
    );
    assert_eq!(
        body[1],
        [
            d.stopped.line.to_string(),
            d.stopped.code.clone(),
            procedure.clone(),
            "Trần Văn Bình".into(),
            "5 Lý Thái Tổ, Hoàn Kiếm, 0912000302".into(),
            agency_a.clone(),
            "03/11/2026 09:00".into(),
            book_time(&d.stopped.due_at),
            "03/11/2026 10:00".into(),
            String::new(),
            "Dừng giải quyết".into(),
            String::new(),
        ]
    );
    assert_eq!(
        (
            body[2][3].as_str(),
            body[2][8].as_str(),
            body[2][9].as_str()
        ),
        ("Lê Thị Cúc", "04/11/2026 16:00", "Trực tiếp")
    );
    assert_eq!(
        body[3][3..],
        [
            "Đỗ Văn Dũng".to_string(),
            "2 Đinh Lễ, Hoàn Kiếm, 0912000304".into(),
            agency_a.clone(),
            "27/11/2026 09:00".into(),
            book_time(&d.open.due_at),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]
    );
    assert!(d.returned.line < d.stopped.line && d.stopped.line < d.open.line);

    // The export is in the audit trail.
    {
        use diesel::prelude::*;
        use motcua::store::schema::audit_log;
        let mut conn = app.store.conn().unwrap();
        let found: Vec<(String, String, String, String)> = audit_log::table
            .filter(audit_log::action.eq("report.tracking_book"))
            .select((
                audit_log::actor,
                audit_log::entity,
                audit_log::entity_id,
                audit_log::detail,
            ))
            .load(&mut *conn)
            .unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        let (actor, entity, id, detail) = &found[0];
        assert_eq!(
            (actor.as_str(), entity.as_str(), id.as_str()),
            ("clerk.a", "agency", A)
        );
        let detail: Value = serde_json::from_str(detail).unwrap();
        assert_eq!(
            detail,
            json!({"from": "2026-11-01", "to": "2026-11-30", "rows": 4})
        );
    }

    // Ward B's clerk may not read ward A's book, but reads their own.
    let uri = format!("/api/v1/reports/tracking-book.xlsx?agency={A}&{PERIOD}");
    let (status, _, _) = w.download("clerk.b", &uri).await;
    assert_eq!(status, 403);
    let (status, _, bytes) = w
        .download(
            "clerk.b",
            &format!("/api/v1/reports/tracking-book.xlsx?{PERIOD}"),
        )
        .await;
    assert_eq!(status, 200);
    let rows = sheet(&bytes, 0);
    assert_eq!(rows.len(), 5);
    assert_eq!(
        (
            rows[4][1].as_str(),
            rows[4][3].as_str(),
            rows[4][10].as_str()
        ),
        (d.at_b.code.as_str(), "Vũ Thị Én", "Đúng hạn")
    );
    // An unknown agency.
    let (status, _, _) = w
        .download(
            "inspector",
            &format!("/api/v1/reports/tracking-book.xlsx?agency=000.00.99.X00&{PERIOD}"),
        )
        .await;
    assert_eq!(status, 400);
    // The city's inspector may read ward A's book.
    let (status, _, _) = w.download("inspector", &uri).await;
    assert_eq!(status, 200);
    // Bad dates.
    for q in [
        "from=2026-11-31&to=2026-11-30",
        "from=2026-11-30&to=2026-11-01",
        "to=2026-11-30",
    ] {
        let tok = login(&svc, "clerk.a").await;
        let (status, b) = send(
            &svc,
            get(&tok, &format!("/api/v1/reports/tracking-book.xlsx?{q}")),
        )
        .await;
        assert_eq!(
            (status, b["error"].as_str()),
            (400, Some("invalid_period")),
            "{q}"
        );
    }
}

async fn indicator_tables(db: common::TestDb) {
    let app = start(&db);
    let svc = service(&app).await;
    let w = World {
        svc: &svc,
        app: &app,
    };
    build(&w).await;
    let query = format!("agency={CITY}&{PERIOD}&group_by=agency");
    let report = w
        .json("inspector", &format!("/api/v1/reports/indicators?{query}"))
        .await;
    let groups = report["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{report}");

    // CSV: the JSON field names, a row per group, the total last and equal to the JSON.
    let (status, ct, bytes) = w
        .download(
            "inspector",
            &format!("/api/v1/reports/indicators.csv?{query}"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ct, "text/csv; charset=utf-8");
    let (header, rows) = read_csv(&bytes);
    assert_eq!(
        header[..5],
        [
            "key",
            "name",
            "received",
            "received_counter",
            "received_online"
        ]
    );
    assert_eq!(rows.len(), groups.len() + 1);
    let counts = report["total"]["counts"].as_object().unwrap();
    let rates = report["total"]["rates"].as_object().unwrap();
    assert_eq!(header.len(), 2 + counts.len() + rates.len());
    let total = rows.last().unwrap();
    assert_eq!(total[0], "total");
    for (i, h) in header.iter().enumerate().skip(2) {
        if let Some(v) = counts.get(h) {
            assert_eq!(total[i], v.as_i64().unwrap().to_string(), "{h}");
        } else {
            let v = &rates[h];
            if v.is_null() {
                assert_eq!(total[i], "", "{h}");
            } else {
                assert_eq!(total[i].parse::<f64>().ok(), v.as_f64(), "{h}");
            }
        }
    }
    for (g, row) in groups.iter().zip(&rows) {
        assert_eq!(row[0], g["key"].as_str().unwrap());
        assert_eq!(
            row[2],
            g["counts"]["received"].as_i64().unwrap().to_string()
        );
    }
    assert_eq!(counts["received"], 5);
    assert_eq!(counts["handovers_total"], 2);

    // XLSX: two header rows (Vietnamese, then the field names), the groups, the total.
    let (status, _, bytes) = w
        .download(
            "inspector",
            &format!("/api/v1/reports/indicators.xlsx?{query}"),
        )
        .await;
    assert_eq!(status, 200);
    let cells = sheet(&bytes, 0);
    assert_eq!(cells.len(), 2 + groups.len() + 1);
    assert_eq!(cells[0][..3], ["Mã nhóm", "Tên nhóm", "Số hồ sơ tiếp nhận"]);
    assert_eq!(cells[1], header);
    let last = cells.last().unwrap();
    assert_eq!(last[0], "total");
    assert_eq!(last[2], counts["received"].to_string());
    assert_eq!(cells[2][0], groups[0]["key"].as_str().unwrap());

    // PDF.
    let (status, ct, bytes) = w
        .download(
            "inspector",
            &format!("/api/v1/reports/indicators.pdf?{query}"),
        )
        .await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    assert!(bytes.starts_with(b"%PDF") && bytes.len() > 1000);

    // The same checks as the JSON report: bad parameters, another ward's agency.
    let (status, _, _) = w
        .download(
            "inspector",
            &format!("/api/v1/reports/indicators.csv?{PERIOD}&group_by=colour"),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _, _) = w
        .download(
            "inspector",
            &format!("/api/v1/reports/indicators.pdf?{PERIOD}&source=guess"),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _, bytes) = w
        .download(
            "inspector",
            &format!("/api/v1/reports/indicators.csv?{query}&source=recompute"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        read_csv(&bytes).1,
        rows,
        "the recomputation gives the same table"
    );
    let (status, _, _) = w
        .download(
            "leader.a",
            &format!("/api/v1/reports/indicators.xlsx?agency={B}&{PERIOD}"),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _, bytes) = w
        .download(
            "leader.a",
            &format!("/api/v1/reports/indicators.csv?{PERIOD}"),
        )
        .await;
    assert_eq!(status, 200);
    let (_, rows) = read_csv(&bytes);
    assert_eq!(rows.len(), 1, "group_by=total: the total only");
    assert_eq!((rows[0][0].as_str(), rows[0][2].as_str()), ("total", "4"));
}

/// The figures recomputed from the raw export.
#[derive(Debug, PartialEq, Eq)]
struct Recomputed {
    received: i64,
    finished_on_time: i64,
    stopped: i64,
    handovers_total: i64,
}

fn recompute(dossiers: &[Vec<String>], handovers: &[Vec<String>], header: &[String]) -> Recomputed {
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
    let (start, end) = (
        t("2026-11-01T00:00:00+07:00"),
        t("2026-12-01T00:00:00+07:00"),
    );
    let within = |s: &str| !s.is_empty() && (start..end).contains(&t(s));
    let finished = |r: &Vec<String>| within(&r[col("finished_at")]);
    Recomputed {
        received: dossiers
            .iter()
            .filter(|r| within(&r[col("received_at")]))
            .count() as i64,
        finished_on_time: dossiers
            .iter()
            .filter(|r| {
                finished(r) && r[col("status")] != "stopped" && r[col("outcome")] == "on_time"
            })
            .count() as i64,
        stopped: dossiers
            .iter()
            .filter(|r| finished(r) && r[col("status")] == "stopped")
            .count() as i64,
        handovers_total: handovers.iter().filter(|h| within(&h[2])).count() as i64,
    }
}

fn reported(report: &Value) -> Recomputed {
    let c = &report["total"]["counts"];
    Recomputed {
        received: c["received"].as_i64().unwrap(),
        finished_on_time: c["finished_on_time"].as_i64().unwrap(),
        stopped: c["stopped"].as_i64().unwrap(),
        handovers_total: c["handovers_total"].as_i64().unwrap(),
    }
}

async fn raw_export(db: common::TestDb) {
    let app = start(&db);
    let svc = service(&app).await;
    let w = World {
        svc: &svc,
        app: &app,
    };
    let d = build(&w).await;

    let (status, ct, dossiers_bytes) = w
        .download(
            "inspector",
            &format!("/api/v1/reports/raw/dossiers.csv?{PERIOD}"),
        )
        .await;
    assert_eq!((status, ct.as_str()), (200, "text/csv; charset=utf-8"));
    let (header, rows) = read_csv(&dossiers_bytes);
    assert_eq!(header, RAW_COLUMNS);
    let codes: HashSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let expected: HashSet<&str> = [
        &d.carried,
        &d.returned,
        &d.stopped,
        &d.handed,
        &d.open,
        &d.at_b,
    ]
    .iter()
    .map(|r| r.code.as_str())
    .collect();
    assert_eq!(codes, expected);
    assert_eq!(rows.len(), expected.len());
    assert!(!codes.contains(d.old.code.as_str()));
    // No personal data: names, ID numbers, phones, addresses, staff.
    let text = String::from_utf8(dossiers_bytes.clone()).unwrap();
    for (name, id, phone, address) in PEOPLE {
        for private in [name, id, phone, address] {
            assert!(!text.contains(private), "{private} in the raw export");
        }
    }
    for staff in ["clerk.a", "leader.a", "official.b", "clerk.b"] {
        assert!(!text.contains(staff), "{staff} in the raw export");
    }
    // One line as written.
    let returned = rows.iter().find(|r| r[0] == d.returned.code).unwrap();
    let field =
        |r: &Vec<String>, name: &str| r[header.iter().position(|h| h == name).unwrap()].clone();
    assert_eq!(
        [
            "owner_agency",
            "owner_level",
            "receiving_agency",
            "channel",
            "received_at",
            "finished_at",
            "status",
            "outcome",
            "decision",
            "late_by_rule",
            "supplement_requests",
            "handling_minutes",
        ]
        .map(|n| field(returned, n)),
        [
            A,
            "commune",
            A,
            "counter",
            "2026-11-02T09:00:00+07:00",
            "2026-11-02T11:00:00+07:00",
            "returned",
            "on_time",
            "approved",
            "false",
            "0",
            "120",
        ]
        .map(String::from)
    );

    let (status, _, handover_bytes) = w
        .download(
            "inspector",
            &format!("/api/v1/reports/raw/handovers.csv?{PERIOD}"),
        )
        .await;
    assert_eq!(status, 200);
    let (h_header, handovers) = read_csv(&handover_bytes);
    assert_eq!(
        h_header,
        [
            "code",
            "seq",
            "at",
            "from_agency",
            "to_agency",
            "electronic",
            "outcome",
            "transfer_due_at",
            "transfer_outcome"
        ]
    );
    assert_eq!(
        handovers
            .iter()
            .map(|h| (
                h[0].as_str(),
                h[2].as_str(),
                h[3].as_str(),
                h[4].as_str(),
                h[5].as_str()
            ))
            .collect::<Vec<_>>(),
        [
            (
                d.handed.code.as_str(),
                "2026-11-04T10:00:00+07:00",
                A,
                B,
                "true"
            ),
            (
                d.handed.code.as_str(),
                "2026-11-04T14:00:00+07:00",
                B,
                A,
                "true"
            ),
        ]
    );

    // The figures recomputed from the two files equal the report's.
    let report = w
        .json(
            "inspector",
            &format!("/api/v1/reports/indicators?agency={CITY}&{PERIOD}"),
        )
        .await;
    let figures = recompute(&rows, &handovers, &header);
    assert_eq!(
        figures,
        Recomputed {
            received: 5,
            finished_on_time: 4,
            stopped: 1,
            handovers_total: 2,
        }
    );
    assert_eq!(figures, reported(&report));
    let recomputed = w
        .json(
            "inspector",
            &format!("/api/v1/reports/indicators?agency={CITY}&{PERIOD}&source=recompute"),
        )
        .await;
    assert_eq!(figures, reported(&recomputed));

    // A ward sees its own dossiers and the hand-overs it gave, and the figures still
    // agree with its report.
    let (_, _, bytes) = w
        .download(
            "leader.a",
            &format!("/api/v1/reports/raw/dossiers.csv?{PERIOD}"),
        )
        .await;
    let (_, rows_a) = read_csv(&bytes);
    assert_eq!(rows_a.len(), 5);
    assert!(rows_a.iter().all(|r| r[1] == A));
    let (_, _, bytes) = w
        .download(
            "leader.a",
            &format!("/api/v1/reports/raw/handovers.csv?{PERIOD}"),
        )
        .await;
    let (_, handovers_a) = read_csv(&bytes);
    assert_eq!(handovers_a.len(), 1);
    let report_a = w
        .json("leader.a", &format!("/api/v1/reports/indicators?{PERIOD}"))
        .await;
    assert_eq!(
        recompute(&rows_a, &handovers_a, &header),
        reported(&report_a)
    );

    // Bad dates.
    let (status, _, body) = w
        .download(
            "inspector",
            "/api/v1/reports/raw/dossiers.csv?from=2026-11-01&to=30/11/2026",
        )
        .await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_period"))
    );
}

#[actix_rt::test]
async fn tracking_book_xlsx_on_sqlite() {
    tracking_book(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn tracking_book_xlsx_on_postgres() {
    tracking_book(common::TestDb::postgres()).await;
}

#[actix_rt::test]
async fn indicator_tables_on_sqlite() {
    indicator_tables(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn indicator_tables_on_postgres() {
    indicator_tables(common::TestDb::postgres()).await;
}

#[actix_rt::test]
async fn raw_export_recomputes_the_report_on_sqlite() {
    raw_export(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn raw_export_recomputes_the_report_on_postgres() {
    raw_export(common::TestDb::postgres()).await;
}
