//! The indicators, exactly: a known month of dossiers is built through the API (two
//! wards and the land registration office; counter, online; on time, late, refused,
//! stopped, closed, carried over, still open; supplements on time and late, a delay,
//! hand-overs on paper and electronic with the desk's transfers on time and late, a scan,
//! a reuse, an online payment, ratings; online submissions received on time and late, a
//! correction round, a refusal at intake) and every figure of the November 2026 report is
//! checked against values worked out by hand, on both backends.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_http::Request;
use actix_web::dev::{Service, ServiceResponse};
use common::http::{event, get, login, post, send, send_raw, service, users, PASSWORD};
use common::local;
use motcua::app::App;
use motcua::service::Role;
use serde_json::{json, Value};

const A: &str = "000.00.51.H26";
const B: &str = "000.00.52.H26";
const CITY: &str = "000.00.00.H26";
const OFFICE: &str = "000.20.06.H26";
const BIRTH: &str = "1.001193.000.00.00.H26";
const COPY: &str = "2.000815.000.00.00.H26";
const TRANSFER: &str = "1.090301.000.00.00.H26";

struct World<'a, S> {
    svc: &'a S,
    app: &'a Arc<App>,
}

impl<S> World<'_, S>
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    async fn token(&self, user: &str) -> String {
        if user.starts_with("portal") {
            let (status, b) = send(
                self.svc,
                actix_web::test::TestRequest::post()
                    .uri("/api/v1/auth/token")
                    .set_json(json!({"client_id": user, "client_secret": PASSWORD})),
            )
            .await;
            assert_eq!(status, 200, "{b}");
            return b["access_token"].as_str().unwrap().to_string();
        }
        login(self.svc, user).await
    }

    async fn receive(&self, at: &str, user: &str, body: Value) -> String {
        self.app.clock.set(local(at));
        let tok = self.token(user).await;
        let (status, b) = send(self.svc, post(&tok, "/api/v1/dossiers", body.clone())).await;
        assert_eq!(status, 201, "{at} {body}: {b}");
        b["code"].as_str().unwrap().to_string()
    }

    async fn ev(&self, at: &str, user: &str, code: &str, body: Value) {
        self.app.clock.set(local(at));
        let tok = self.token(user).await;
        let (status, b) = event(self.svc, &tok, code, body.clone()).await;
        assert_eq!(status, 201, "{at} {user} {code} {body}: {b}");
    }

    async fn decide_and_return(
        &self,
        at_decide: &str,
        at_return: &str,
        leader: &str,
        clerk: &str,
        code: &str,
    ) {
        self.ev(
            at_decide,
            leader,
            code,
            json!({"type": "decide", "outcome": "approved"}),
        )
        .await;
        self.ev(
            at_return,
            clerk,
            code,
            json!({"type": "return", "channel": "counter"}),
        )
        .await;
    }
}

fn birth(name: &str, id: &str) -> Value {
    json!({"procedure_code": BIRTH, "channel": "counter",
           "applicant": {"full_name": name, "id_number": id},
           "papers": [{"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                      {"name": "Giấy chứng sinh", "kind": "original"}]})
}

fn copy(name: &str, id: &str) -> Value {
    json!({"procedure_code": COPY, "channel": "counter",
           "applicant": {"full_name": name, "id_number": id},
           "papers": [{"name": "Bản chính giấy tờ, văn bản làm cơ sở để chứng thực bản sao", "kind": "original"}]})
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n".to_vec()
}

async fn upload<S>(svc: &S, token: &str, code: &str, target: &str)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let boundary = "----motcua-indicators";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"scan.pdf\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&pdf());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let (status, b) = send(
        svc,
        actix_web::test::TestRequest::post()
            .uri(&format!("/api/v1/dossiers/{code}/files?{target}"))
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header((
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            ))
            .set_payload(body),
    )
    .await;
    assert_eq!(status, 201, "{b}");
}

async fn build_november<S>(w: &World<'_, S>)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    // X0 — ward A, received Friday 30/10 16:00 (after the 15:00 cut-off: due Monday 2/11
    // 17:00), returned 2/11 10:00: carried over, on time; 60 + 120 = 180 working minutes.
    let x0 = w
        .receive(
            "2026-10-30T16:00",
            "clerk.a",
            birth("Phạm Văn Xuân", "001090000100"),
        )
        .await;
    w.decide_and_return(
        "2026-11-02T09:30",
        "2026-11-02T10:00",
        "leader.a",
        "clerk.a",
        &x0,
    )
    .await;
    // a1 — 2/11 09:00 → 11:00, on time (120 min); its electronic result; rated satisfied.
    let a1 = w
        .receive(
            "2026-11-02T09:00",
            "clerk.a",
            birth("Nguyễn Thị An", "001090000101"),
        )
        .await;
    w.ev(
        "2026-11-02T10:30",
        "leader.a",
        &a1,
        json!({"type": "decide", "outcome": "approved"}),
    )
    .await;
    let tok = w.token("leader.a").await;
    upload(w.svc, &tok, &a1, "result").await;
    w.ev(
        "2026-11-02T11:00",
        "clerk.a",
        &a1,
        json!({"type": "return", "channel": "counter"}),
    )
    .await;
    // a2 — online through the portal to ward A, 09:30, received officially by the desk at
    // once (its statutory time runs from there), → 14:00 (210 min); very satisfied.
    let mut body = birth("Trần Văn Bình", "001090000102");
    body["channel"] = json!("online");
    body["receiving_agency"] = json!(A);
    let a2 = w.receive("2026-11-02T09:30", "portal.dvc", body).await;
    w.ev(
        "2026-11-02T09:30",
        "clerk.a",
        &a2,
        json!({"type": "receive"}),
    )
    .await;
    w.decide_and_return(
        "2026-11-02T13:30",
        "2026-11-02T14:00",
        "leader.a",
        "clerk.a",
        &a2,
    )
    .await;
    // a3 — certified copy (fee) 3/11 09:00, paid cash, returned 4/11 09:00: late (480 min);
    // unsatisfied.
    let a3 = w
        .receive(
            "2026-11-03T09:00",
            "clerk.a",
            copy("Lê Văn Cường", "001090000103"),
        )
        .await;
    w.ev(
        "2026-11-03T09:05",
        "clerk.a",
        &a3,
        json!({"type": "payment", "amount": 2000, "method": "cash"}),
    )
    .await;
    w.decide_and_return(
        "2026-11-04T08:30",
        "2026-11-04T09:00",
        "leader.a",
        "clerk.a",
        &a3,
    )
    .await;
    // a4 — certified copy online 3/11 10:00, paid online, its paper scanned (digitised),
    // its electronic result uploaded (so it counts for QĐ 766 4.2: the procedure yields
    // a document), returned 16:00: on time (300 min).
    let mut body = copy("Hoàng Thị Dung", "001090000104");
    body["channel"] = json!("online");
    body["receiving_agency"] = json!(A);
    let a4 = w.receive("2026-11-03T10:00", "portal.dvc", body).await;
    w.ev(
        "2026-11-03T10:00",
        "clerk.a",
        &a4,
        json!({"type": "receive"}),
    )
    .await;
    w.ev(
        "2026-11-03T10:01",
        "portal.dvc",
        &a4,
        json!({"type": "payment", "amount": 2000, "method": "online", "reference": "PAY-1"}),
    )
    .await;
    let tok = w.token("clerk.a").await;
    upload(w.svc, &tok, &a4, "paper=1").await;
    w.ev(
        "2026-11-03T15:30",
        "leader.a",
        &a4,
        json!({"type": "decide", "outcome": "approved"}),
    )
    .await;
    let tok = w.token("leader.a").await;
    upload(w.svc, &tok, &a4, "result").await;
    w.ev(
        "2026-11-03T16:00",
        "clerk.a",
        &a4,
        json!({"type": "return", "channel": "counter"}),
    )
    .await;
    // a5 — 4/11 09:00, supplement requested 10:00, received 5/11 10:00 (480 min stopped,
    // due moves to 5/11 17:00), returned 5/11 16:00: on time; 840 − 480 = 360 min.
    let a5 = w
        .receive(
            "2026-11-04T09:00",
            "clerk.a",
            birth("Vũ Văn Em", "001090000105"),
        )
        .await;
    w.ev("2026-11-04T10:00", "official.a", &a5, json!({"type": "request_supplement", "items": ["Giấy chứng sinh bản chính"], "reason": "Bản chụp không rõ"})).await;
    w.ev(
        "2026-11-05T10:00",
        "clerk.a",
        &a5,
        json!({"type": "supplement_received"}),
    )
    .await;
    w.decide_and_return(
        "2026-11-05T15:30",
        "2026-11-05T16:00",
        "leader.a",
        "clerk.a",
        &a5,
    )
    .await;
    // a6 — 5/11 09:00, refused 10:00, returned 11:00: on time, refused (120 min).
    let a6 = w
        .receive(
            "2026-11-05T09:00",
            "clerk.a",
            birth("Đặng Thị Giang", "001090000106"),
        )
        .await;
    w.ev(
        "2026-11-05T10:00",
        "leader.a",
        &a6,
        json!({"type": "decide", "outcome": "refused", "reason": "Không thuộc thẩm quyền"}),
    )
    .await;
    w.ev(
        "2026-11-05T11:00",
        "clerk.a",
        &a6,
        json!({"type": "return", "channel": "counter"}),
    )
    .await;
    // a7 — 6/11 09:00, stopped at the applicant's request 10:00.
    let a7 = w
        .receive(
            "2026-11-06T09:00",
            "clerk.a",
            birth("Bùi Văn Hải", "001090000107"),
        )
        .await;
    w.ev(
        "2026-11-06T10:00",
        "clerk.a",
        &a7,
        json!({"type": "stop", "reason": "Người nộp xin rút hồ sơ"}),
    )
    .await;
    // a10 — 9/11 09:00, one paper reused from a4's scan (same applicant), returned 10:00:
    // on time (60 min), reusing data.
    let mut body = birth("Hoàng Thị Dung", "001090000104");
    body["papers"][1]["reuse_document_id"] = json!(format!("{a4}-TP1"));
    let a10 = w.receive("2026-11-09T09:00", "clerk.a", body).await;
    w.decide_and_return(
        "2026-11-09T09:30",
        "2026-11-09T10:00",
        "leader.a",
        "clerk.a",
        &a10,
    )
    .await;
    // a11 — 3/11 09:30, supplement requested 10:30 (within 3 working days); the applicant
    // never comes back. Closing on 17/11 (day 14) is refused; on 18/11 (day 15) the clerk
    // closes it: closed_incomplete, neither finished nor late (NĐ 118/2025 Art. 19(5)).
    let a11 = w
        .receive(
            "2026-11-03T09:30",
            "clerk.a",
            birth("Tạ Văn Phúc", "001090000111"),
        )
        .await;
    w.ev("2026-11-03T10:30", "official.a", &a11, json!({"type": "request_supplement", "items": ["Giấy chứng sinh"], "reason": "Thiếu giấy chứng sinh"})).await;
    w.app.clock.set(local("2026-11-17T16:00"));
    let tok = w.token("clerk.a").await;
    let close = json!({"type": "close", "reason": "Quá 15 ngày không bổ sung hồ sơ"});
    let (status, b) = event(w.svc, &tok, &a11, close.clone()).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (409, Some("close_too_early")),
        "{b}"
    );
    // On day 15 the clerk's queue flags it, and the clerk closes it.
    w.app.clock.set(local("2026-11-18T08:30"));
    let tok = w.token("clerk.a").await;
    let (status, q) = send(w.svc, get(&tok, "/api/v1/queue")).await;
    assert_eq!(status, 200, "{q}");
    let entry = q["queue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["code"] == a11.as_str())
        .unwrap_or_else(|| panic!("{a11} in {q}"))
        .clone();
    assert_eq!(entry["urgency"], "to_close");
    w.ev("2026-11-18T09:00", "clerk.a", &a11, close).await;
    // a12 — 9/11 09:00; the supplement is requested on Fri 13/11, the 4th working day
    // (the limit is Thu 12/11 17:00): a late request, by ward A. Complete on Mon 16/11
    // 09:00, the same-day time counts again (due 16/11 17:00); returned 10:00: on time.
    // 420 + 4 × 480 + 120 = 2460 working minutes, less 480 stopped: 1980.
    let a12 = w
        .receive(
            "2026-11-09T09:00",
            "clerk.a",
            birth("Lò Thị Quyên", "001090000112"),
        )
        .await;
    w.app.clock.set(local("2026-11-13T09:00"));
    let tok = w.token("official.a").await;
    let (status, b) = event(w.svc, &tok, &a12, json!({"type": "request_supplement", "items": ["Giấy chứng sinh"], "reason": "Bản chụp không rõ"})).await;
    assert_eq!(
        (status, b["late_request"].as_bool()),
        (201, Some(true)),
        "{b}"
    );
    w.ev(
        "2026-11-16T09:00",
        "clerk.a",
        &a12,
        json!({"type": "supplement_received"}),
    )
    .await;
    w.decide_and_return(
        "2026-11-16T09:30",
        "2026-11-16T10:00",
        "leader.a",
        "clerk.a",
        &a12,
    )
    .await;
    // a13 — online to ward A, Friday 6/11 16:30: the desk answers by Monday 9/11 16:30 (30
    // + 240 + 210 working minutes). It asks for a correction Monday 10:00 (on time); the
    // portal sends it again Tuesday 10/11 09:00 (a new limit, Wednesday 11/11 09:00); the
    // desk receives it Wednesday 10:00, an hour late. Same day: due 17:00; returned 11:00,
    // on time (60 min).
    let mut body = birth("Mạc Văn Sang", "001090000113");
    body["channel"] = json!("online");
    body["receiving_agency"] = json!(A);
    let a13 = w.receive("2026-11-06T16:30", "portal.dvc", body).await;
    w.ev("2026-11-09T10:00", "clerk.a", &a13, json!({"type": "request_correction", "items": ["Giấy chứng sinh"], "reason": "Bản chụp không đọc được"})).await;
    w.app.clock.set(local("2026-11-10T09:00"));
    let tok = w.token("portal.dvc").await;
    let (status, b) = send(
        w.svc,
        post(
            &tok,
            &format!("/api/v1/dossiers/{a13}/resubmit"),
            json!({"papers": birth("Mạc Văn Sang", "001090000113")["papers"], "note": "Đã chụp lại"}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["acknowledge_by"], "2026-11-11T09:00:00+07:00");
    w.ev(
        "2026-11-11T10:00",
        "clerk.a",
        &a13,
        json!({"type": "receive"}),
    )
    .await;
    w.decide_and_return(
        "2026-11-11T10:30",
        "2026-11-11T11:00",
        "leader.a",
        "clerk.a",
        &a13,
    )
    .await;
    // a14 — online to ward A, Thursday 12/11 09:00, refused by the desk at 10:00: never
    // received, so never handled; the refusal answers on time.
    let mut body = birth("Âu Thị Tâm", "001090000114");
    body["channel"] = json!("online");
    body["receiving_agency"] = json!(A);
    let a14 = w.receive("2026-11-12T09:00", "portal.dvc", body).await;
    w.ev(
        "2026-11-12T10:00",
        "clerk.a",
        &a14,
        json!({"type": "refuse", "reason": "Người nộp không cư trú trên địa bàn phường"}),
    )
    .await;
    // a8 — Friday 27/11 09:00, due 17:00, still open on 30/11: overdue.
    w.receive(
        "2026-11-27T09:00",
        "clerk.a",
        birth("Ngô Văn Khánh", "001090000108"),
    )
    .await;
    // a9 — certified copy Monday 30/11 16:00, due 1/12 17:00: still within time.
    w.receive(
        "2026-11-30T16:00",
        "clerk.a",
        copy("Đỗ Thị Lan", "001090000109"),
    )
    .await;

    // b1 — ward B 2/11 09:00, handed electronically to ward A 10:00, back on paper 14:00,
    // returned 16:00: on time (360 min).
    let b1 = w
        .receive(
            "2026-11-02T09:00",
            "clerk.b",
            birth("Phan Văn Minh", "001090000201"),
        )
        .await;
    w.ev(
        "2026-11-02T10:00",
        "clerk.b",
        &b1,
        json!({"type": "handover", "to_agency": A, "electronic": true}),
    )
    .await;
    w.ev(
        "2026-11-02T10:30",
        "official.a",
        &b1,
        json!({"type": "accept"}),
    )
    .await;
    w.ev(
        "2026-11-02T14:00",
        "official.a",
        &b1,
        json!({"type": "handover", "to_agency": B, "electronic": false}),
    )
    .await;
    w.ev(
        "2026-11-02T14:30",
        "clerk.b",
        &b1,
        json!({"type": "accept"}),
    )
    .await;
    w.decide_and_return(
        "2026-11-02T15:30",
        "2026-11-02T16:00",
        "leader.b",
        "clerk.b",
        &b1,
    )
    .await;
    // b2 — land transfer (the land registration office decides) received at ward B 10/11
    // 09:00, due 24/11 17:00; delay on 12/11 to 26/11; returned 25/11 10:00: late, the
    // re-appointment kept; 420 + 10 × 480 + 120 = 5340 min.
    let b2 = w
        .receive(
            "2026-11-10T09:00",
            "clerk.b",
            json!({"procedure_code": TRANSFER, "channel": "counter",
                   "applicant": {"full_name": "Lý Thị Ngọc", "id_number": "001090000202"},
                   "papers": [
                       {"name": "Đơn đăng ký biến động đất đai, tài sản gắn liền với đất theo mẫu", "kind": "original"},
                       {"name": "Hợp đồng, văn bản chuyển nhượng, tặng cho, thừa kế quyền sử dụng đất đã được công chứng hoặc chứng thực", "kind": "original"},
                       {"name": "Bản gốc Giấy chứng nhận đã cấp", "kind": "original"},
                       {"name": "Tờ khai thuế thu nhập cá nhân từ chuyển nhượng, nhận thừa kế, quà tặng là bất động sản", "kind": "original"},
                       {"name": "Tờ khai lệ phí trước bạ nhà, đất theo mẫu", "kind": "original"}]}),
        )
        .await;
    w.ev("2026-11-12T09:00", "official.b", &b2, json!({"type": "delay", "reason": "Chờ xác minh", "new_due_at": "2026-11-26T17:00:00+07:00"})).await;
    w.decide_and_return(
        "2026-11-25T09:00",
        "2026-11-25T10:00",
        "leader.b",
        "clerk.b",
        &b2,
    )
    .await;

    // b3 — ward B, Monday 16/11 14:59, before the 15:00 cut-off: the desk must send it the
    // same day (NĐ 118/2025 Art. 18(2)); handed on paper to ward A on 17/11 08:30 — a late
    // transfer. Accepted, still open on 30/11 (due 16/11 17:00): overdue. b1's transfer
    // (2/11 10:00, due 17:00 that day) was on time.
    let b3 = w
        .receive(
            "2026-11-16T14:59",
            "clerk.b",
            birth("Lục Văn Ước", "001090000203"),
        )
        .await;
    w.app.clock.set(local("2026-11-17T08:30"));
    let tok = w.token("clerk.b").await;
    let (status, b) = event(
        w.svc,
        &tok,
        &b3,
        json!({"type": "handover", "to_agency": A, "electronic": false}),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(
        b["transfer"],
        json!({"due_at": "2026-11-16T17:00:00+07:00", "outcome": "late"})
    );
    w.ev(
        "2026-11-17T08:40",
        "official.a",
        &b3,
        json!({"type": "accept"}),
    )
    .await;

    // Ratings from paper forms, recorded by the clerk: a1 satisfied, a2 very satisfied,
    // a3 unsatisfied.
    for (code, score) in [
        (&a1, "satisfied"),
        (&a2, "very_satisfied"),
        (&a3, "unsatisfied"),
    ] {
        w.ev(
            "2026-11-20T09:00",
            "clerk.a",
            code,
            json!({"type": "rate", "score": score}),
        )
        .await;
    }
}

fn counts(g: &Value) -> Vec<(String, i64)> {
    [
        "received",
        "received_counter",
        "received_online",
        "received_post",
        "carried_over",
        "handled",
        "finished_early",
        "finished_on_time",
        "finished_late",
        "refused",
        "stopped",
        "stopped_on_time",
        "closed_incomplete",
        "in_progress_within_time",
        "in_progress_overdue",
        "supplement_requested",
        "supplement_requests_late",
        "submitted",
        "acknowledged_on_time",
        "acknowledged_late",
        "corrections_requested",
        "refused_at_intake",
        "handovers_total",
        "handovers_electronic",
        "transfers_on_time",
        "transfers_late",
        "results_total",
        "results_electronic",
        "digitised",
        "digitised_with_result",
        "reusing_data",
        "ratings_total",
        "ratings_satisfied",
        "fee_bearing",
        "paid_online",
        "handling_minutes",
        "handling_count",
    ]
    .iter()
    .map(|k| (k.to_string(), g["counts"][*k].as_i64().unwrap_or(-1)))
    .collect()
}

/// Every count of a report recomputed from the raw export (the three CSV files) with SQL of
/// its own, not through motcua's code: the files are loaded as text into an in-memory
/// SQLite database and counted by the definitions of docs/indicators.md, per owner agency
/// (hand-overs per giving agency, supplement requests per requesting agency) over
/// `[start, end)`, overdue as of `as_of` (RFC 3339).
fn recount_with_sql(
    dossiers_csv: &[u8],
    handovers_csv: &[u8],
    acts_csv: &[u8],
    start: &str,
    end: &str,
    as_of: &str,
) -> BTreeMap<String, Vec<(String, i64)>> {
    use diesel::{Connection, RunQueryDsl, SqliteConnection};
    let mut db = SqliteConnection::establish(":memory:").unwrap();
    let quote = |v: &str| format!("'{}'", v.replace('\'', "''"));
    for (table, bytes) in [("d", dossiers_csv), ("h", handovers_csv), ("sr", acts_csv)] {
        let mut reader = csv::Reader::from_reader(bytes);
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(|h| format!("\"{h}\" TEXT NOT NULL"))
            .collect();
        diesel::sql_query(format!("CREATE TABLE {table} ({})", header.join(", ")))
            .execute(&mut db)
            .unwrap();
        for record in reader.records() {
            let values: Vec<String> = record.unwrap().iter().map(quote).collect();
            diesel::sql_query(format!(
                "INSERT INTO {table} VALUES ({})",
                values.join(", ")
            ))
            .execute(&mut db)
            .unwrap();
        }
    }
    let (s, e, a) = (quote(start), quote(end), quote(as_of));
    let text = format!(
        "WITH x AS (
           SELECT owner_agency AS agency, channel, status, outcome, decision, rating,
             julianday(received_at) AS r,
             CASE finished_at WHEN '' THEN NULL ELSE julianday(finished_at) END AS f,
             julianday(due_at) AS due,
             CASE rated_at WHEN '' THEN NULL ELSE julianday(rated_at) END AS rated,
             late_by_rule = 'true' AS by_rule,
             CAST(supplement_requests AS INTEGER) > 0 AS supplemented,
             digitised = 'true' AS scanned, reused = 'true' AS reusing,
             CAST(results AS INTEGER) > 0 AS has_result,
             CAST(results_electronic AS INTEGER) > 0 AS has_e_result,
             yields_document = 'true' AS yields,
             fee_bearing = 'true' AS fee, paid_online = 'true' AS paid,
             CASE handling_minutes WHEN '' THEN NULL
               ELSE CAST(handling_minutes AS INTEGER) END AS minutes
           FROM d),
         y AS (
           SELECT x.*,
             r >= julianday({s}) AND r < julianday({e}) AS rec,
             r < julianday({s}) AND (f IS NULL OR f >= julianday({s})) AS carried,
             IFNULL(f >= julianday({s}) AND f < julianday({e}), 0) AS fin,
             IFNULL(f >= julianday({s}) AND f < julianday({e})
               AND status NOT IN ('stopped', 'closed'), 0) AS done,
             r < julianday({e}) AND (f IS NULL OR f >= julianday({e})) AS open_end,
             IFNULL(rated >= julianday({s}) AND rated < julianday({e}), 0) AS rat
           FROM x),
         dg AS (
           SELECT agency,
             SUM(rec) AS received,
             SUM(rec AND channel NOT IN ('online', 'post')) AS received_counter,
             SUM(rec AND channel = 'online') AS received_online,
             SUM(rec AND channel = 'post') AS received_post,
             SUM(carried) AS carried_over,
             SUM(done AND outcome = 'early') AS finished_early,
             SUM(done AND outcome = 'on_time') AS finished_on_time,
             SUM(done AND outcome NOT IN ('early', 'on_time')) AS finished_late,
             SUM(done AND decision = 'refused') AS refused,
             SUM(fin AND status = 'stopped') AS stopped,
             SUM(fin AND status = 'stopped' AND f <= due) AS stopped_on_time,
             SUM(fin AND status = 'closed') AS closed_incomplete,
             SUM(open_end AND NOT (by_rule OR due < julianday({a}))) AS within_time,
             SUM(open_end AND (by_rule OR due < julianday({a}))) AS overdue,
             SUM(rec AND supplemented) AS supplement_requested,
             SUM(done AND has_result) AS results_total,
             SUM(done AND has_e_result) AS results_electronic,
             SUM(rec AND scanned) AS digitised,
             SUM(rec AND scanned AND (NOT yields OR has_e_result)) AS digitised_with_result,
             SUM(rec AND reusing) AS reusing_data,
             SUM(rat) AS ratings_total,
             SUM(rat AND rating IN ('very_satisfied', 'satisfied')) AS ratings_satisfied,
             SUM(rec AND fee) AS fee_bearing,
             SUM(rec AND fee AND paid) AS paid_online,
             SUM(CASE WHEN done AND minutes IS NOT NULL THEN minutes ELSE 0 END)
               AS handling_minutes,
             SUM(done AND minutes IS NOT NULL) AS handling_count
           FROM y WHERE rec OR carried OR fin OR open_end OR rat
           GROUP BY agency),
         hg AS (
           SELECT from_agency AS agency, COUNT(*) AS total, SUM(electronic = 'true') AS electronic,
             SUM(transfer_outcome = 'on_time') AS transfers_on_time,
             SUM(transfer_outcome = 'late') AS transfers_late
           FROM h WHERE julianday(at) >= julianday({s}) AND julianday(at) < julianday({e})
           GROUP BY from_agency),
         sg AS (
           SELECT agency,
             SUM(kind = 'request_supplement' AND late = 'true') AS late,
             SUM(kind = 'submit') AS submitted,
             SUM(kind IN ('receive', 'request_correction', 'refuse') AND late = 'false')
               AS acknowledged_on_time,
             SUM(kind IN ('receive', 'request_correction', 'refuse') AND late = 'true')
               AS acknowledged_late,
             SUM(kind = 'request_correction') AS corrections_requested,
             SUM(kind = 'refuse') AS refused_at_intake
           FROM sr WHERE julianday(at) >= julianday({s}) AND julianday(at) < julianday({e})
           GROUP BY agency
           HAVING SUM(kind <> 'resubmit' AND (kind <> 'request_supplement' OR late = 'true')) > 0),
         k AS (SELECT agency FROM dg UNION SELECT agency FROM hg UNION SELECT agency FROM sg)
         SELECT k.agency AS key, json_object(
           'received', IFNULL(received, 0),
           'received_counter', IFNULL(received_counter, 0),
           'received_online', IFNULL(received_online, 0),
           'received_post', IFNULL(received_post, 0),
           'carried_over', IFNULL(carried_over, 0),
           'handled', IFNULL(received, 0) + IFNULL(carried_over, 0),
           'finished_early', IFNULL(finished_early, 0),
           'finished_on_time', IFNULL(finished_on_time, 0),
           'finished_late', IFNULL(finished_late, 0),
           'refused', IFNULL(refused, 0),
           'stopped', IFNULL(stopped, 0),
           'stopped_on_time', IFNULL(stopped_on_time, 0),
           'closed_incomplete', IFNULL(closed_incomplete, 0),
           'in_progress_within_time', IFNULL(within_time, 0),
           'in_progress_overdue', IFNULL(overdue, 0),
           'supplement_requested', IFNULL(supplement_requested, 0),
           'supplement_requests_late', IFNULL(sg.late, 0),
           'submitted', IFNULL(sg.submitted, 0),
           'acknowledged_on_time', IFNULL(sg.acknowledged_on_time, 0),
           'acknowledged_late', IFNULL(sg.acknowledged_late, 0),
           'corrections_requested', IFNULL(sg.corrections_requested, 0),
           'refused_at_intake', IFNULL(sg.refused_at_intake, 0),
           'handovers_total', IFNULL(hg.total, 0),
           'handovers_electronic', IFNULL(hg.electronic, 0),
           'transfers_on_time', IFNULL(hg.transfers_on_time, 0),
           'transfers_late', IFNULL(hg.transfers_late, 0),
           'results_total', IFNULL(results_total, 0),
           'results_electronic', IFNULL(results_electronic, 0),
           'digitised', IFNULL(digitised, 0),
           'digitised_with_result', IFNULL(digitised_with_result, 0),
           'reusing_data', IFNULL(reusing_data, 0),
           'ratings_total', IFNULL(ratings_total, 0),
           'ratings_satisfied', IFNULL(ratings_satisfied, 0),
           'fee_bearing', IFNULL(fee_bearing, 0),
           'paid_online', IFNULL(paid_online, 0),
           'handling_minutes', IFNULL(handling_minutes, 0),
           'handling_count', IFNULL(handling_count, 0)) AS counts
         FROM k LEFT JOIN dg ON dg.agency = k.agency LEFT JOIN hg ON hg.agency = k.agency
           LEFT JOIN sg ON sg.agency = k.agency"
    );
    #[derive(diesel::QueryableByName)]
    struct Group {
        #[diesel(sql_type = diesel::sql_types::Text)]
        key: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        counts: String,
    }
    let groups: Vec<Group> = diesel::sql_query(text).load(&mut db).unwrap();
    let mut out = BTreeMap::new();
    let mut total: Vec<(String, i64)> = Vec::new();
    for g in groups {
        let c = counts(&json!({ "counts": serde_json::from_str::<Value>(&g.counts).unwrap() }));
        if total.is_empty() {
            total = c.iter().map(|(k, _)| (k.clone(), 0)).collect();
        }
        for (t, (_, v)) in total.iter_mut().zip(&c) {
            t.1 += v;
        }
        out.insert(g.key, c);
    }
    out.insert("total".into(), total);
    out
}

fn expect(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

async fn november(db: common::TestDb) {
    let app = common::app_at(&db, local("2026-10-01T07:00"));
    users(
        &app,
        &[
            ("clerk.a", Role::Clerk, A),
            ("official.a", Role::Official, A),
            ("leader.a", Role::Leader, A),
            ("clerk.b", Role::Clerk, B),
            ("official.b", Role::Official, B),
            ("leader.b", Role::Leader, B),
            ("portal.dvc", Role::Portal, CITY),
            ("inspector", Role::Inspector, CITY),
        ],
    );
    let svc = service(&app).await;
    let w = World {
        svc: &svc,
        app: &app,
    };
    build_november(&w).await;

    app.clock.set(local("2026-12-01T08:00"));
    let tok = w.token("inspector").await;
    let (status, r) = send(
        &svc,
        get(&tok, &format!("/api/v1/reports/indicators?agency={CITY}&from=2026-11-01&to=2026-11-30&descendants=true&group_by=agency")),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let group = |code: &str| {
        r["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == code)
            .unwrap_or_else(|| panic!("group {code} in {r}"))
            .clone()
    };
    let a = group(A);
    assert_eq!(
        counts(&a),
        expect(&[
            ("received", 13),
            ("received_counter", 10),
            ("received_online", 3),
            ("received_post", 0),
            ("carried_over", 1),
            ("handled", 14),
            ("finished_early", 0),
            ("finished_on_time", 9),
            ("finished_late", 1),
            ("refused", 1),
            ("stopped", 1),
            // a7 stopped at 10:00 before its 17:00 due moment.
            ("stopped_on_time", 1),
            ("closed_incomplete", 1),
            ("in_progress_within_time", 1),
            ("in_progress_overdue", 1),
            // a5, a11, a12.
            ("supplement_requested", 3),
            ("supplement_requests_late", 1),
            ("submitted", 4),
            ("acknowledged_on_time", 4),
            ("acknowledged_late", 1),
            ("corrections_requested", 1),
            ("refused_at_intake", 1),
            ("handovers_total", 1),
            ("handovers_electronic", 0),
            ("transfers_on_time", 0),
            ("transfers_late", 0),
            ("results_total", 9),
            ("results_electronic", 2),
            ("digitised", 1),
            ("digitised_with_result", 1),
            ("reusing_data", 1),
            ("ratings_total", 3),
            ("ratings_satisfied", 2),
            ("fee_bearing", 3),
            ("paid_online", 1),
            ("handling_minutes", 3870),
            ("handling_count", 10),
        ])
    );
    // 9 of 10 finished on time; 3870 ÷ 10 ÷ 480 = 0.81 working days. The desk answered 4
    // of its 5 answers within 8 working hours.
    assert_eq!(a["rates"]["on_time_rate"], 90.0);
    assert_eq!(a["rates"]["avg_handling_working_days"], 0.81);
    assert_eq!(a["rates"]["acknowledgement_on_time_rate"], 80.0);
    let b = group(B);
    assert_eq!(
        counts(&b),
        expect(&[
            ("received", 2),
            ("received_counter", 2),
            ("received_online", 0),
            ("received_post", 0),
            ("carried_over", 0),
            ("handled", 2),
            ("finished_early", 0),
            ("finished_on_time", 1),
            ("finished_late", 0),
            ("refused", 0),
            ("stopped", 0),
            ("stopped_on_time", 0),
            ("closed_incomplete", 0),
            ("in_progress_within_time", 0),
            ("in_progress_overdue", 1),
            ("supplement_requested", 0),
            ("supplement_requests_late", 0),
            ("submitted", 0),
            ("acknowledged_on_time", 0),
            ("acknowledged_late", 0),
            ("corrections_requested", 0),
            ("refused_at_intake", 0),
            ("handovers_total", 2),
            ("handovers_electronic", 1),
            ("transfers_on_time", 1),
            ("transfers_late", 1),
            ("results_total", 1),
            ("results_electronic", 0),
            ("digitised", 0),
            ("digitised_with_result", 0),
            ("reusing_data", 0),
            ("ratings_total", 0),
            ("ratings_satisfied", 0),
            ("fee_bearing", 0),
            ("paid_online", 0),
            ("handling_minutes", 360),
            ("handling_count", 1),
        ])
    );
    let office = group(OFFICE);
    assert_eq!(
        counts(&office),
        expect(&[
            ("received", 1),
            ("received_counter", 1),
            ("received_online", 0),
            ("received_post", 0),
            ("carried_over", 0),
            ("handled", 1),
            ("finished_early", 0),
            ("finished_on_time", 0),
            ("finished_late", 1),
            ("refused", 0),
            ("stopped", 0),
            ("stopped_on_time", 0),
            ("closed_incomplete", 0),
            ("in_progress_within_time", 0),
            ("in_progress_overdue", 0),
            ("supplement_requested", 0),
            ("supplement_requests_late", 0),
            ("submitted", 0),
            ("acknowledged_on_time", 0),
            ("acknowledged_late", 0),
            ("corrections_requested", 0),
            ("refused_at_intake", 0),
            ("handovers_total", 0),
            ("handovers_electronic", 0),
            ("transfers_on_time", 0),
            ("transfers_late", 0),
            ("results_total", 1),
            ("results_electronic", 0),
            ("digitised", 0),
            ("digitised_with_result", 0),
            ("reusing_data", 0),
            ("ratings_total", 0),
            ("ratings_satisfied", 0),
            ("fee_bearing", 1),
            ("paid_online", 0),
            ("handling_minutes", 5340),
            ("handling_count", 1),
        ])
    );
    assert_eq!(office["rates"]["avg_handling_working_days"], 11.13);
    assert_eq!(r["groups"].as_array().unwrap().len(), 3);

    // The whole city.
    let t = &r["total"];
    assert_eq!(
        counts(t),
        expect(&[
            ("received", 16),
            ("received_counter", 13),
            ("received_online", 3),
            ("received_post", 0),
            ("carried_over", 1),
            ("handled", 17),
            ("finished_early", 0),
            ("finished_on_time", 10),
            ("finished_late", 2),
            ("refused", 1),
            ("stopped", 1),
            ("stopped_on_time", 1),
            ("closed_incomplete", 1),
            ("in_progress_within_time", 1),
            ("in_progress_overdue", 2),
            ("supplement_requested", 3),
            ("supplement_requests_late", 1),
            ("submitted", 4),
            ("acknowledged_on_time", 4),
            ("acknowledged_late", 1),
            ("corrections_requested", 1),
            ("refused_at_intake", 1),
            ("handovers_total", 3),
            ("handovers_electronic", 1),
            ("transfers_on_time", 1),
            ("transfers_late", 1),
            ("results_total", 11),
            ("results_electronic", 2),
            ("digitised", 1),
            ("digitised_with_result", 1),
            ("reusing_data", 1),
            ("ratings_total", 3),
            ("ratings_satisfied", 2),
            ("fee_bearing", 4),
            ("paid_online", 1),
            ("handling_minutes", 9570),
            ("handling_count", 12),
        ])
    );
    // The same figures recomputed from the raw export with independent SQL.
    let raw = |what: &str| {
        get(
            &tok,
            &format!("/api/v1/reports/raw/{what}.csv?from=2026-11-01&to=2026-11-30"),
        )
    };
    let (status, _, dossiers_csv) = send_raw(&svc, raw("dossiers")).await;
    assert_eq!(status, 200);
    let (status, _, handovers_csv) = send_raw(&svc, raw("handovers")).await;
    assert_eq!(status, 200);
    let (status, _, acts_csv) = send_raw(&svc, raw("deadline_acts")).await;
    assert_eq!(status, 200);
    let recount = recount_with_sql(
        &dossiers_csv,
        &handovers_csv,
        &acts_csv,
        "2026-11-01T00:00:00+07:00",
        "2026-12-01T00:00:00+07:00",
        "2026-12-01T00:00:00+07:00",
    );
    let mut reported: BTreeMap<String, Vec<(String, i64)>> = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"].as_str().unwrap().to_string(), counts(g)))
        .collect();
    reported.insert("total".into(), counts(t));
    assert_eq!(recount, reported);
    let rates = &t["rates"];
    for (k, v) in [
        ("on_time_rate", 83.33),
        ("online_rate", 18.75),
        ("electronic_handover_rate", 33.33),
        ("digitisation_rate", 6.25),
        ("reuse_rate", 6.25),
        ("satisfaction_rate", 66.67),
        ("online_payment_rate", 25.0),
        ("result_digitisation_rate", 18.18),
        // 10 on time + a7 stopped before its due moment + a11 closed + a9 within time:
        // 13 of 17 handled (the 2 finished late, a8 and b3 overdue are late).
        ("qd766_on_time_rate", 76.47),
        // a4 alone is digitised with its electronic result: 1 of 16 received.
        ("qd766_digitisation_rate", 6.25),
        // 13 not late, less 1 unsatisfied rating: 12 ÷ 17.
        ("qd766_satisfaction_index", 70.59),
        // 9570 ÷ 12 ÷ 480.
        ("avg_handling_working_days", 1.66),
        // 4 of 5 desk answers within 8 working hours; b1's transfer on time, b3's late.
        ("acknowledgement_on_time_rate", 80.0),
        ("transfer_on_time_rate", 50.0),
    ] {
        assert_eq!(rates[k].as_f64(), Some(v), "{k}: {rates}");
    }
    // Against the plan's targets: on time 83.33 < 100 (gap 16.67), online 18.75 < 50.
    let target = |name: &str| {
        t["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["indicator"] == name)
            .unwrap_or_else(|| panic!("{name} in {t}"))
            .clone()
    };
    assert_eq!(
        (
            target("on_time_rate")["met"].as_bool(),
            target("on_time_rate")["gap"].as_f64()
        ),
        (Some(false), Some(16.67))
    );
    assert_eq!(target("online_rate")["gap"].as_f64(), Some(31.25));
    assert_eq!(target("satisfaction_rate")["target"].as_f64(), Some(95.0));
    // QĐ 766 3.3: online 18.75 of a 50 % threshold for 6 points → 2.25.
    let q33 = r["qd766"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "3.3")
        .unwrap()
        .clone();
    assert_eq!(q33["score"].as_f64(), Some(2.25));
    // 5.4: 70.59 of a 90 % threshold for 8 points → 6.27; 4.4 is the reuse rate (6.25 of
    // 100 for 5 → 0.31); 4.2 full points from 80 % (6.25 × 6 ÷ 80 → 0.47); 2.1: 76.47 of
    // 100 for 10 → 7.65. Each entry says where its threshold comes from.
    let qd = |code: &str| {
        r["qd766"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["code"] == code)
            .unwrap_or_else(|| panic!("{code} in {}", r["qd766"]))
            .clone()
    };
    assert_eq!(qd("5.4")["score"].as_f64(), Some(6.27));
    assert_eq!(qd("5.4")["target"].as_f64(), Some(90.0));
    assert_eq!(qd("4.4")["score"].as_f64(), Some(0.31));
    assert_eq!(
        (
            qd("4.2")["indicator"].as_str(),
            qd("4.2")["target"].as_f64()
        ),
        (Some("qd766_digitisation_rate"), Some(80.0))
    );
    assert_eq!(qd("4.2")["score"].as_f64(), Some(0.47));
    assert_eq!(qd("4.3")["target"].as_f64(), Some(80.0));
    assert_eq!(qd("2.1")["score"].as_f64(), Some(7.65));
    for code in ["2.1", "3.3", "3.6", "4.1", "4.2", "4.3", "4.4", "5.4"] {
        assert!(
            !qd(code)["source"].as_str().unwrap_or_default().is_empty(),
            "{code} cites its source"
        );
    }

    // The daily rollup (what the report reads) equals the full recomputation from the
    // dossiers, for every grouping and for periods cutting through the data.
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    for (from, to) in [
        ("2026-11-01", "2026-11-30"),
        ("2026-10-01", "2026-11-30"),
        ("2026-11-03", "2026-11-05"),
        ("2026-10-31", "2026-11-02"),
        ("2026-12-01", "2026-12-31"),
    ] {
        let period = motcua::core::indicators::Period {
            from: day(from),
            to: day(to),
        };
        for g in ["total", "agency", "procedure", "month", "level"] {
            let g = motcua::core::indicators::GroupBy::parse(g).unwrap();
            let now = local("2026-12-01T08:00");
            let full = app.indicator_counts(None, period, g, now).unwrap();
            let rolled = app.indicator_counts_rollup(None, period, g, now).unwrap();
            assert_eq!(rolled, full, "{from}..{to} {g:?}");
        }
    }
    // A database from before the overdue flows (migration 000007 adds them empty) and
    // before the counts of migration 000008 (stopped on time, digitised with the
    // electronic result): the next start fills them from the dossiers, once, and the
    // figures are the same.
    {
        use diesel::RunQueryDsl;
        // (The rollup's deltas folded first, as the sealer does: the old database had
        // only the rollup.)
        app.store.compact_rollup().unwrap();
        let mut conn = app.store.conn().unwrap();
        for q in [
            "UPDATE stats_daily SET became_due = 0, cleared_due = 0",
            "DELETE FROM instance_facts WHERE name = 'rollup_due_flows'",
            "UPDATE stats_daily SET stopped_on_time = 0, digitised_with_result = 0",
            "DELETE FROM instance_facts WHERE name = 'rollup_columns_000008'",
        ] {
            diesel::sql_query(q).execute(&mut *conn).unwrap();
        }
    }
    let period = motcua::core::indicators::Period {
        from: day("2026-10-01"),
        to: day("2026-11-30"),
    };
    let month = motcua::core::indicators::GroupBy::Month;
    let now = local("2026-12-01T08:00");
    assert_ne!(
        app.indicator_counts_rollup(None, period, month, now)
            .unwrap(),
        app.indicator_counts(None, period, month, now).unwrap(),
        "emptied flows must show"
    );
    let restarted = common::app_at(&db, now);
    let filled = restarted
        .indicator_counts_rollup(None, period, month, now)
        .unwrap();
    assert_eq!(
        filled,
        app.indicator_counts(None, period, month, now).unwrap()
    );
    let again = common::app_at(&db, now);
    assert_eq!(
        again
            .indicator_counts_rollup(None, period, month, now)
            .unwrap(),
        filled,
        "filled once, not twice"
    );

    let (_, again) = send(
        &svc,
        get(&tok, &format!("/api/v1/reports/indicators?agency={CITY}&from=2026-11-01&to=2026-11-30&source=recompute")),
    )
    .await;
    assert_eq!(counts(&again["total"]), counts(t));

    // By month: November alone equals the period; by level: communes and the unit.
    let (_, m) = send(
        &svc,
        get(&tok, &format!("/api/v1/reports/indicators?agency={CITY}&from=2026-10-01&to=2026-11-30&group_by=month")),
    )
    .await;
    let months = m["groups"].as_array().unwrap();
    assert_eq!(
        months
            .iter()
            .map(|g| g["key"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["2026-10", "2026-11"]
    );
    assert_eq!(counts(&months[1]), counts(t));
    assert_eq!(
        (
            months[0]["counts"]["received"].as_i64(),
            months[0]["counts"]["in_progress_within_time"].as_i64()
        ),
        (Some(1), Some(1))
    );

    // A ward's leader sees only their ward; another ward is forbidden.
    let (status, r) = send(
        &svc,
        get(
            &w.token("leader.a").await,
            "/api/v1/reports/indicators?from=2026-11-01&to=2026-11-30",
        ),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["total"]["counts"]["received"], 13);
    let (status, _) = send(
        &svc,
        get(
            &w.token("leader.a").await,
            &format!("/api/v1/reports/indicators?agency={B}&from=2026-11-01&to=2026-11-30"),
        ),
    )
    .await;
    assert_eq!(status, 403);

    // The public disclosure: per agency, no personal data.
    let (status, p) = send(
        &svc,
        actix_web::test::TestRequest::get().uri("/api/v1/public/stats?month=2026-11"),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    let pa = p["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["agency"]["code"] == A)
        .unwrap()
        .clone();
    assert_eq!(
        (
            pa["received"].as_i64(),
            pa["finished"].as_i64(),
            pa["on_time_rate"].as_f64(),
            pa["online_rate"].as_f64()
        ),
        (Some(13), Some(10), Some(90.0), Some(23.08))
    );
    let text = p.to_string();
    for private in ["Nguyễn Thị An", "001090000101", "clerk.a"] {
        assert!(!text.contains(private), "{private} in {text}");
    }
    let (status, b) = send(
        &svc,
        actix_web::test::TestRequest::get().uri("/api/v1/public/stats?month=2026-13"),
    )
    .await;
    assert_eq!((status, b["error"].as_str()), (400, Some("invalid_month")));
}

#[actix_rt::test]
async fn november_figures_are_exact_on_sqlite() {
    november(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn november_figures_are_exact_on_postgres() {
    november(common::TestDb::postgres()).await;
}
