//! The monthly public page (issue #16, item 2): for a month of known dossiers (March 2026:
//! two wards; counter and online; on time and late; one agency with nothing finished),
//! every cell of `/cong-khai?thang=2026-03` and every line of `/cong-khai.csv` equal the
//! figures of `GET /api/v1/public/stats?month=2026-03`; no name or ID number shows; a month
//! that is not one is explained on the page with 400.

mod common;

use std::sync::Arc;

use actix_http::Request;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::TestRequest;
use common::http::{event, login, portal_token, post, send, service, users};
use common::local;
use motcua::app::App;
use motcua::service::Role;
use motcua::web::charts::{format_count, format_percent};
use serde_json::{json, Value};

const A: &str = "000.00.51.H26";
const B: &str = "000.00.52.H26";
const CITY: &str = "000.00.00.H26";
const BIRTH: &str = "1.001193.000.00.00.H26";

/// The applicants: none of these may show on the public page or in its file.
const PEOPLE: [(&str, &str); 5] = [
    ("Nguyễn Thị An", "001090000201"),
    ("Trần Văn Bình", "001090000202"),
    ("Lê Văn Cường", "001090000203"),
    ("Phạm Thị Dung", "001090000204"),
    ("Hoàng Văn Em", "001090000205"),
];

fn birth(i: usize) -> Value {
    let (name, id) = PEOPLE[i];
    json!({"procedure_code": BIRTH, "channel": "counter",
           "applicant": {"full_name": name, "id_number": id},
           "papers": [{"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                      {"name": "Giấy chứng sinh", "kind": "original"}]})
}

struct World<'a, S> {
    svc: &'a S,
    app: &'a Arc<App>,
}

impl<S> World<'_, S>
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    async fn receive(&self, at: &str, user: &str, body: Value) -> String {
        self.app.clock.set(local(at));
        let tok = if user.starts_with("portal") {
            portal_token(self.svc, user).await
        } else {
            login(self.svc, user).await
        };
        let (status, b) = send(self.svc, post(&tok, "/api/v1/dossiers", body.clone())).await;
        assert_eq!(status, 201, "{at} {body}: {b}");
        b["code"].as_str().unwrap().to_string()
    }

    async fn ev(&self, at: &str, user: &str, code: &str, body: Value) {
        self.app.clock.set(local(at));
        let tok = login(self.svc, user).await;
        let (status, b) = event(self.svc, &tok, code, body.clone()).await;
        assert_eq!(status, 201, "{at} {user} {code} {body}: {b}");
    }

    /// Decided by the ward's leader at `decide`, returned at the counter at `back`.
    async fn finish(&self, ward: &str, code: &str, decide: &str, back: &str) {
        self.ev(
            decide,
            &format!("leader.{ward}"),
            code,
            json!({"type": "decide", "outcome": "approved"}),
        )
        .await;
        self.ev(
            back,
            &format!("clerk.{ward}"),
            code,
            json!({"type": "return", "channel": "counter"}),
        )
        .await;
    }
}

/// March 2026 (birth registration: the same day, 15:00 cut-off). Ward A: one on time at
/// the counter, one online on time, one late (returned the next day). Ward B: one received
/// and still open (nothing finished: its on-time rate is "—").
async fn build_march<S>(w: &World<'_, S>)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let a1 = w.receive("2026-03-02T09:00", "clerk.a", birth(0)).await;
    w.finish("a", &a1, "2026-03-02T10:00", "2026-03-02T11:00")
        .await;
    let mut online = birth(1);
    online["channel"] = json!("online");
    online["receiving_agency"] = json!(A);
    let a2 = w.receive("2026-03-03T09:00", "portal.dvc", online).await;
    w.ev(
        "2026-03-03T09:10",
        "clerk.a",
        &a2,
        json!({"type": "receive"}),
    )
    .await;
    w.finish("a", &a2, "2026-03-03T13:30", "2026-03-03T14:00")
        .await;
    let a3 = w.receive("2026-03-04T09:00", "clerk.a", birth(2)).await;
    w.finish("a", &a3, "2026-03-05T08:30", "2026-03-05T09:00")
        .await;
    w.receive("2026-03-05T09:00", "clerk.b", birth(3)).await;
}

/// The cells of the table row `data-agency="{agency}"`: (column key, text).
fn row_cells(html: &str, agency: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("<tr data-agency=\"{agency}\">"))
        .unwrap_or_else(|| panic!("no row for {agency}"));
    let row = &html[start..];
    let row = &row[..row.find("</tr>").unwrap()];
    row.split("data-col=\"")
        .skip(1)
        .map(|part| {
            let key = part.split('"').next().unwrap().to_string();
            let text = part[part.find('>').unwrap() + 1..part.find("</td>").unwrap()].to_string();
            (key, text)
        })
        .collect()
}

/// What the page must write for the API's value of `key`.
fn expected(api: &Value, key: &str) -> String {
    match key {
        "on_time_rate" | "online_rate" => api[key]
            .as_f64()
            .map(format_percent)
            .unwrap_or_else(|| "—".into()),
        _ => format_count(api[key].as_f64().unwrap()),
    }
}

const COLUMNS: [&str; 7] = [
    "received",
    "received_online",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "on_time_rate",
    "online_rate",
];

async fn page<S>(svc: &S, uri: &str) -> (u16, actix_web::http::header::HeaderMap, String)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let res = actix_web::test::call_service(svc, TestRequest::get().uri(uri).to_request()).await;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = actix_web::test::read_body(res).await;
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

async fn the_public_page_equals_the_api(db: common::TestDb) {
    let app = common::app_at(&db, local("2026-03-01T07:00"));
    users(
        &app,
        &[
            ("clerk.a", Role::Clerk, A),
            ("leader.a", Role::Leader, A),
            ("clerk.b", Role::Clerk, B),
            ("leader.b", Role::Leader, B),
            ("portal.dvc", Role::Portal, CITY),
        ],
    );
    let svc = service(&app).await;
    let w = World {
        svc: &svc,
        app: &app,
    };
    build_march(&w).await;
    app.clock.set(local("2026-04-01T08:00"));

    let (status, api) = send(
        &svc,
        TestRequest::get().uri("/api/v1/public/stats?month=2026-03"),
    )
    .await;
    assert_eq!(status, 200, "{api}");
    let agencies = api["agencies"].as_array().unwrap().clone();
    let codes: Vec<&str> = agencies
        .iter()
        .map(|a| a["agency"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, [A, B], "{api}");
    // The month is what was built: the page is checked against real figures.
    let a = &agencies[0];
    assert_eq!(
        (
            a["received"].as_i64(),
            a["received_online"].as_i64(),
            a["finished_late"].as_i64()
        ),
        (Some(3), Some(1), Some(1))
    );
    assert!(agencies[1]["on_time_rate"].is_null());

    // Without a month the page shows the last complete one: March, on 1 April.
    for uri in ["/cong-khai?thang=2026-03", "/cong-khai"] {
        let (status, headers, html) = page(&svc, uri).await;
        assert_eq!(status, 200, "{uri}: {html}");
        assert_eq!(
            headers.get("cache-control").unwrap(),
            "public, max-age=300",
            "{uri}"
        );
        assert!(headers.get("content-security-policy").is_some());
        assert!(html.contains("tháng 03/2026"), "{uri}");
        for agency in &agencies {
            let code = agency["agency"]["code"].as_str().unwrap();
            let cells = row_cells(&html, code);
            assert_eq!(
                cells.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
                COLUMNS,
                "{code}"
            );
            for (key, text) in &cells {
                assert_eq!(text, &expected(agency, key), "{uri} {code} {key}");
            }
            let name = agency["agency"]["name"].as_str().unwrap();
            assert!(
                html.contains(&format!("<th scope=\"row\">{name}</th>")),
                "{name}"
            );
        }
        // The totals: sums of the API's counts, rates by the same formulas.
        let total = row_cells(&html, "total");
        let sum = |k: &str| agencies.iter().map(|a| a[k].as_i64().unwrap()).sum::<i64>();
        for key in &COLUMNS[..5] {
            let t = total.iter().find(|c| c.0 == *key).unwrap();
            assert_eq!(t.1, format_count(sum(key) as f64), "total {key}");
        }
        let rate = |k: &str| total.iter().find(|c| c.0 == k).unwrap().1.clone();
        assert_eq!(rate("on_time_rate"), format_percent(66.67));
        assert_eq!(rate("online_rate"), format_percent(25.0));
        // A '—' where there is nothing to divide; rates written the Vietnamese way.
        assert_eq!(row_cells(&html, B)[5].1, "—");
        assert_eq!(row_cells(&html, A)[5].1, "66,67\u{a0}%");
        // The charts: inline SVG, named for screen readers.
        assert_eq!(html.matches("<svg ").count(), 2);
        assert!(html.contains(r#"aria-labelledby="bd-so-ho-so-t bd-so-ho-so-d""#));
        assert!(html.contains(r#"<title id="bd-ty-le-t">"#));
        // The picker: this month, the previous, the next (April: today's month).
        assert!(html.contains(r#"name="thang" value="2026-03""#));
        assert!(html.contains(r#"href="/cong-khai?thang=2026-02""#));
        assert!(html.contains(r#"href="/cong-khai?thang=2026-04""#));
        assert!(html.contains(r#"href="/cong-khai.csv?thang=2026-03""#));
        assert!(!html.contains(" style=\""), "no inline style");
        assert!(!html.contains("<style"), "no inline style");
        for (name, id) in PEOPLE {
            assert!(!html.contains(name) && !html.contains(id), "{name} {id}");
        }
        assert!(!html.contains("clerk.a"));
    }

    // The file: a BOM, a Vietnamese header, the same numbers.
    let res = actix_web::test::call_service(
        &svc,
        TestRequest::get()
            .uri("/cong-khai.csv?thang=2026-03")
            .to_request(),
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers().get("content-disposition").unwrap(),
        "attachment; filename=\"cong-khai-2026-03.csv\""
    );
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    let bytes = actix_web::test::read_body(res).await;
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(
        lines[0].starts_with("Mã cơ quan;Cơ quan;Tiếp nhận;"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines.len(),
        1 + agencies.len() + 1,
        "header, agencies, totals"
    );
    for (line, agency) in lines[1..].iter().zip(&agencies) {
        let f: Vec<&str> = line.split(';').collect();
        assert_eq!(f[0], agency["agency"]["code"].as_str().unwrap());
        assert_eq!(f[1], agency["agency"]["name"].as_str().unwrap());
        let numbers: Vec<i64> = f[2..8].iter().map(|x| x.parse().unwrap()).collect();
        let want: Vec<i64> = [
            "received",
            "received_online",
            "finished",
            "finished_early",
            "finished_on_time",
            "finished_late",
        ]
        .iter()
        .map(|k| agency[k].as_i64().unwrap())
        .collect();
        assert_eq!(numbers, want, "{line}");
        for (cell, key) in f[8..].iter().zip(["on_time_rate", "online_rate"]) {
            let value = cell.replace(',', ".").parse::<f64>().ok();
            assert_eq!(value, agency[key].as_f64(), "{line} {key}");
        }
    }
    assert!(
        lines.last().unwrap().starts_with(";Tổng cộng;4;1;3;"),
        "{text}"
    );
    for (name, id) in PEOPLE {
        assert!(!text.contains(name) && !text.contains(id));
    }

    // A month that is not one: said on the page, with the picker, and 400.
    for bad in ["2026-13", "thang-ba", "2026-3", "<script>"] {
        let uri = format!("/cong-khai?thang={}", motcua::web::encode(bad));
        let (status, _, html) = page(&svc, &uri).await;
        assert_eq!(status, 400, "{bad}");
        assert!(html.contains("không hợp lệ"), "{bad}: {html}");
        assert!(html.contains("invalid_month"), "{bad}");
        assert!(html.contains(r#"name="thang""#), "the picker stays");
        assert!(!html.contains("<script>"), "escaped");
        let (status, _, _) = page(
            &svc,
            &format!("/cong-khai.csv?thang={}", motcua::web::encode(bad)),
        )
        .await;
        assert_eq!(status, 400, "csv {bad}");
    }

    // A month without dossiers says so; the citizens' lookup links to the page.
    let (status, _, html) = page(&svc, "/cong-khai?thang=2025-01").await;
    assert_eq!(status, 200);
    assert!(html.contains("Không có hồ sơ nào"), "{html}");
    let (_, _, lookup) = page(&svc, "/tra-cuu").await;
    assert!(lookup.contains(r#"href="/cong-khai""#));
}

#[actix_rt::test]
async fn the_public_page_equals_the_api_on_sqlite() {
    the_public_page_equals_the_api(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn the_public_page_equals_the_api_on_postgres() {
    the_public_page_equals_the_api(common::TestDb::postgres()).await;
}
