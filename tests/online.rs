//! Online dossiers the lawful way (NĐ 118/2025 Art. 17(2)–(3)) and the desk's transfer
//! deadlines (Art. 18(2), 20(1)(a)), over HTTP with a manual clock, on both backends.
//!
//! Working hours 08:00–12:00 and 13:00–17:00. The 2026 calendar: Sat 29/8 to Wed 2/9 off
//! (Mon 31/8 swapped for Sat 22/8, Tue 1/9 and Wed 2/9 Quốc khánh).

mod common;

use common::http::{event, get, login, portal_token, post, send, send_raw, service, users};
use common::local;
use motcua::service::Role;
use serde_json::{json, Value};

const CITY: &str = "000.00.00.H26";
/// Trung tâm Phục vụ hành chính công thành phố: a one-stop centre of the provincial tier.
const CENTRE: &str = "000.00.01.H26";
const A: &str = "000.00.51.H26";
const B: &str = "000.00.52.H26";
/// Đăng ký thành lập hộ kinh doanh: 3 working days, shares 10 / 60 / 20 / 10.
const HOUSEHOLD: &str = "1.001612.000.00.00.H26";
const BIRTH: &str = "1.001193.000.00.00.H26";

fn t(s: &str) -> String {
    format!("{s}:00+07:00")
}

fn household(name: &str) -> Value {
    json!({"procedure_code": HOUSEHOLD, "channel": "online", "receiving_agency": A,
           "applicant": {"full_name": name, "id_number": "001190066666"},
           "papers": [{"name": "Giấy đề nghị đăng ký hộ kinh doanh theo mẫu", "kind": "original"}]})
}

fn birth(name: &str) -> Value {
    json!({"procedure_code": BIRTH, "channel": "counter",
           "applicant": {"full_name": name, "id_number": "001190055555"},
           "papers": [{"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                      {"name": "Giấy chứng sinh", "kind": "original"}]})
}

fn step_dues(d: &Value) -> Vec<String> {
    d["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["due_at"].as_str().unwrap().to_string())
        .collect()
}

async fn online_submission_receipt_correction_refusal(db: common::TestDb) {
    let app = common::app_at(&db, local("2026-08-28T07:00"));
    users(
        &app,
        &[
            ("portal.dvc", Role::Portal, CITY),
            ("portal.other", Role::Portal, CITY),
            ("clerk.a", Role::Clerk, A),
            ("leader.a", Role::Leader, A),
            ("clerk.b", Role::Clerk, B),
            ("clerk.city", Role::Clerk, CITY),
        ],
    );
    let svc = service(&app).await;

    // Friday 28/8 16:30, before the Quốc khánh break: 30 working minutes that day, then
    // nothing until Thursday 3/9: 08:00–12:00 (240) and 13:00–16:30 (210). The desk must
    // answer by Thursday 3/9 16:30.
    app.clock.set(local("2026-08-28T16:30"));
    let portal = portal_token(&svc, "portal.dvc").await;
    let (status, r) = send(
        &svc,
        post(&portal, "/api/v1/dossiers", household("Quách Thị Vân")),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (
            r["status"].as_str(),
            r["submitted_at"].as_str(),
            r["acknowledge_by"].as_str()
        ),
        (
            Some("submitted"),
            Some(t("2026-08-28T16:30").as_str()),
            Some(t("2026-09-03T16:30").as_str())
        )
    );
    for k in ["received_at", "due_at", "receipt_url"] {
        assert!(r[k].is_null(), "{k}: {r}");
    }
    let code = r["code"].as_str().unwrap().to_string();
    let pin = r["pin"].as_str().unwrap().to_string();
    assert!(code.starts_with(A), "the ward competent: {code}");

    // The applicant follows it by code and pin: waiting for the desk, and until when.
    let (status, l) = send(
        &svc,
        actix_web::test::TestRequest::get()
            .uri(&format!("/api/v1/public/dossiers/{code}?pin={pin}")),
    )
    .await;
    assert_eq!(status, 200, "{l}");
    assert_eq!(
        (
            l["status"].as_str(),
            l["status_label"].as_str(),
            l["acknowledge_by"].as_str()
        ),
        (
            Some("submitted"),
            Some("Chờ tiếp nhận"),
            Some(t("2026-09-03T16:30").as_str())
        )
    );
    assert!(l["due_at"].is_null());

    // No receipt (form 01) before the official receipt.
    app.clock.set(local("2026-09-03T14:29"));
    let clerk = login(&svc, "clerk.a").await;
    let receipt = format!("/api/v1/dossiers/{code}/forms/receipt.pdf");
    let (status, b) = send(&svc, get(&clerk, &receipt)).await;
    assert_eq!((status, b["error"].as_str()), (404, Some("no_such_form")));

    // The clerks' queue: soonest limit first, due soon within 2 working hours.
    let queue_entry = |q: &Value| {
        q["queue"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["code"] == code.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{code} in {q}"))
    };
    let (_, q) = send(&svc, get(&clerk, "/api/v1/queue")).await;
    let e = queue_entry(&q);
    assert_eq!(
        (
            e["status"].as_str(),
            e["acknowledge_by"].as_str(),
            e["remaining_working_minutes"].as_i64(),
            e["urgency"].as_str()
        ),
        (
            Some("submitted"),
            Some(t("2026-09-03T16:30").as_str()),
            Some(121),
            Some("ok")
        )
    );
    app.clock.set(local("2026-09-03T14:30"));
    let clerk = login(&svc, "clerk.a").await;
    let (_, q) = send(&svc, get(&clerk, "/api/v1/queue")).await;
    let e = queue_entry(&q);
    assert_eq!(
        (
            e["remaining_working_minutes"].as_i64(),
            e["urgency"].as_str()
        ),
        (Some(120), Some("due_soon"))
    );

    // Only a clerk of the desk it was sent to answers it: another ward does not see it,
    // the city's clerk sees it but may not answer for the ward, a leader may not either.
    let receive = json!({"type": "receive"});
    for (user, want) in [
        ("clerk.b", (404, "not_found")),
        ("clerk.city", (403, "forbidden")),
        ("leader.a", (403, "forbidden")),
    ] {
        let tok = login(&svc, user).await;
        let (status, b) = event(&svc, &tok, &code, receive.clone()).await;
        assert_eq!(
            (status, b["error"].as_str().unwrap_or_default()),
            want,
            "{user}: {b}"
        );
    }
    // Nothing else happens to it before its receipt.
    let (status, b) = event(
        &svc,
        &clerk,
        &code,
        json!({"type": "handover", "to_agency": B, "electronic": true}),
    )
    .await;
    assert_eq!((status, b["error"].as_str()), (409, Some("not_received")));

    // 15:00: the desk asks, in one go, for what is missing (on time): form 02.
    app.clock.set(local("2026-09-03T15:00"));
    let clerk = login(&svc, "clerk.a").await;
    let (status, b) = event(
        &svc,
        &clerk,
        &code,
        json!({"type": "request_correction", "items": ["Bản sao giấy tờ pháp lý của chủ hộ"], "reason": "Thiếu giấy tờ của chủ hộ kinh doanh"}),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(b["dossier"]["status"], "needs_correction");
    assert_eq!(
        b["form_url"],
        format!("/api/v1/dossiers/{code}/forms/correction.pdf")
    );
    let (status, ct, _) = send_raw(
        &svc,
        get(
            &clerk,
            &format!("/api/v1/dossiers/{code}/forms/correction.pdf"),
        ),
    )
    .await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    // The applicant sees what is asked of them, with the reason.
    let (status, l) = send(
        &svc,
        actix_web::test::TestRequest::get()
            .uri(&format!("/api/v1/public/dossiers/{code}?pin={pin}")),
    )
    .await;
    assert_eq!(status, 200, "{l}");
    assert_eq!(l["status"], "needs_correction");
    assert_eq!(l["requested"]["kind"], "correction", "{l}");
    assert_eq!(
        l["requested"]["items"],
        json!(["Bản sao giấy tờ pháp lý của chủ hộ"])
    );
    assert_eq!(
        l["requested"]["reason"],
        "Thiếu giấy tờ của chủ hộ kinh doanh"
    );
    // Waiting for the portal: nothing to answer, once per round.
    let (status, b) = event(&svc, &clerk, &code, receive.clone()).await;
    assert_eq!((status, b["error"].as_str()), (409, Some("invalid_state")));

    // The portal sends it again Friday 4/9 08:00: a new round, answered by 17:00. Only
    // the portal that submitted it, only once per request.
    app.clock.set(local("2026-09-04T08:00"));
    let resubmit = format!("/api/v1/dossiers/{code}/resubmit");
    let body =
        json!({"papers": household("Quách Thị Vân")["papers"], "note": "Đã bổ sung giấy tờ"});
    let other = portal_token(&svc, "portal.other").await;
    let (status, _) = send(&svc, post(&other, &resubmit, body.clone())).await;
    assert_eq!(status, 404);
    let clerk = login(&svc, "clerk.a").await;
    let (status, b) = send(&svc, post(&clerk, &resubmit, body.clone())).await;
    assert_eq!(status, 403, "{b}");
    let (status, b) = send(
        &svc,
        post(
            &portal_token(&svc, "portal.dvc").await,
            &resubmit,
            json!({"papers": []}),
        ),
    )
    .await;
    assert_eq!(status, 200, "no papers: the list stays: {b}");
    let (status, b) = send(
        &svc,
        post(
            &portal_token(&svc, "portal.dvc").await,
            &resubmit,
            body.clone(),
        ),
    )
    .await;
    assert_eq!(
        (status, b["error"].as_str()),
        (409, Some("invalid_state")),
        "{b}"
    );
    // (The first resubmission opened the round; it is answered by Friday 17:00.)
    let clerk = login(&svc, "clerk.a").await;
    let (_, d) = send(&svc, get(&clerk, &format!("/api/v1/dossiers/{code}"))).await;
    assert_eq!(
        (
            d["status"].as_str(),
            d["acknowledge_by"].as_str(),
            d["correction_rounds"].as_i64()
        ),
        (
            Some("submitted"),
            Some(t("2026-09-04T17:00").as_str()),
            Some(1)
        )
    );

    // Received officially Monday 7/9 09:00 — after the limit: a late answer. From now
    // the 3 working days run, as at the counter: day 1 Tue 8/9 … day 3 Thu 10/9, due
    // 17:00; 420 + 3 × 480 = 1860 working minutes over the steps 10 / 60 / 20 / 10:
    //   186 → Mon 13:06; 1302 = 420 + 480 + 402 → Wed 15:42; 1674 = 420 + 2 × 480 + 294
    //   → Thu 13:54; the last at Thu 17:00.
    app.clock.set(local("2026-09-07T09:00"));
    let clerk = login(&svc, "clerk.a").await;
    let (status, b) = event(&svc, &clerk, &code, receive.clone()).await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(
        (
            b["dossier"]["status"].as_str(),
            b["dossier"]["received_at"].as_str(),
            b["dossier"]["due_at"].as_str(),
        ),
        (
            Some("received"),
            Some(t("2026-09-07T09:00").as_str()),
            Some(t("2026-09-10T17:00").as_str())
        )
    );
    // The search's tables carry the moment of receipt (migration 000013): every agency
    // holding the dossier and every key of its name.
    {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = app.store.conn().unwrap();
        for table in ["dossier_agencies", "dossier_name_keys"] {
            let mut count = |cond: &str| {
                diesel::sql_query(format!(
                    "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table} k JOIN dossiers d \
                     ON d.code = k.dossier_code WHERE d.code = '{code}' AND {cond}"
                ))
                .get_result::<N>(&mut *conn)
                .unwrap()
                .n
            };
            assert!(count("1 = 1") > 0, "{table}");
            assert_eq!(
                count("(k.received_at IS NULL OR k.received_at <> d.received_at)"),
                0,
                "{table}"
            );
        }
    }
    let (_, d) = send(&svc, get(&clerk, &format!("/api/v1/dossiers/{code}"))).await;
    assert_eq!(
        step_dues(&d),
        [
            "2026-09-07T13:06",
            "2026-09-09T15:42",
            "2026-09-10T13:54",
            "2026-09-10T17:00"
        ]
        .map(t)
    );
    assert_eq!(d["first_due_at"], t("2026-09-10T17:00"));
    let answered: Vec<(String, String)> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| matches!(e["type"].as_str(), Some("request_correction" | "receive")))
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["data"]["acknowledged"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        answered,
        [
            ("request_correction".to_string(), "on_time".to_string()),
            ("receive".to_string(), "late".to_string())
        ]
    );
    // Form 01 now exists; a second receipt is refused.
    let (status, ct, _) = send_raw(&svc, get(&clerk, &receipt)).await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    let (status, b) = event(&svc, &clerk, &code, receive.clone()).await;
    assert_eq!((status, b["error"].as_str()), (409, Some("invalid_state")));

    // A refusal at intake: form 03, terminal, never received.
    app.clock.set(local("2026-09-07T09:30"));
    let portal = portal_token(&svc, "portal.dvc").await;
    let (status, r) = send(
        &svc,
        post(&portal, "/api/v1/dossiers", household("Triệu Văn Xuân")),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let refused = r["code"].as_str().unwrap().to_string();
    app.clock.set(local("2026-09-07T10:00"));
    let clerk = login(&svc, "clerk.a").await;
    let (status, b) = event(
        &svc,
        &clerk,
        &refused,
        json!({"type": "refuse", "reason": "Ngành nghề đăng ký thuộc danh mục cấm kinh doanh"}),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(b["dossier"]["status"], "refused_at_intake");
    assert_eq!(
        b["form_url"],
        format!("/api/v1/dossiers/{refused}/forms/refusal.pdf")
    );
    let (status, ct, pdf) = send_raw(
        &svc,
        get(
            &clerk,
            &format!("/api/v1/dossiers/{refused}/forms/refusal.pdf"),
        ),
    )
    .await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF"));
    if let Ok(dir) = std::env::var("MOTCUA_PREVIEW_DIR") {
        std::fs::write(format!("{dir}/refusal-at-intake.pdf"), &pdf).unwrap();
    }
    for ev in [
        receive.clone(),
        json!({"type": "refuse", "reason": "Lần nữa"}),
    ] {
        let (status, b) = event(&svc, &clerk, &refused, ev).await;
        assert_eq!(
            (status, b["error"].as_str()),
            (409, Some("dossier_refused"))
        );
    }

    // The desk's figures for the ward (August–September): two submissions, one correction
    // asked on time, a late receipt and a refusal on time; one dossier received (online).
    let leader = login(&svc, "leader.a").await;
    for source in ["", "&source=recompute"] {
        let (status, rep) = send(
            &svc,
            get(
                &leader,
                &format!("/api/v1/reports/indicators?from=2026-08-01&to=2026-09-30{source}"),
            ),
        )
        .await;
        assert_eq!(status, 200, "{rep}");
        let c = &rep["total"]["counts"];
        let got: Vec<i64> = [
            "submitted",
            "acknowledged_on_time",
            "acknowledged_late",
            "corrections_requested",
            "refused_at_intake",
            "received",
            "received_online",
            "handled",
        ]
        .iter()
        .map(|k| c[*k].as_i64().unwrap())
        .collect();
        assert_eq!(got, [2, 2, 1, 1, 1, 1, 1, 1], "{source}: {c}");
        assert_eq!(rep["total"]["rates"]["acknowledgement_on_time_rate"], 66.67);
    }

    // The portal's feed: each dossier with its status, the due moment once known.
    let portal = portal_token(&svc, "portal.dvc").await;
    let (_, f) = send(&svc, get(&portal, "/api/v1/portal/changes")).await;
    let feed: Vec<(String, Option<String>)> = f["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["status"].as_str().unwrap().to_string(),
                c["due_at"].as_str().map(String::from),
            )
        })
        .collect();
    assert_eq!(
        feed,
        [
            ("received".to_string(), Some(t("2026-09-10T17:00"))),
            ("refused_at_intake".to_string(), None)
        ]
    );
}

#[actix_rt::test]
async fn online_submission_receipt_correction_refusal_on_sqlite() {
    online_submission_receipt_correction_refusal(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn online_submission_receipt_correction_refusal_on_postgres() {
    online_submission_receipt_correction_refusal(common::TestDb::postgres()).await;
}

/// The transfer out of the receiving desk: received at 14:59 (before the 15:00 cut-off)
/// it must leave the same day; at 15:01, by the first hour of the next working day (Art.
/// 18(2)). Both handed over on paper at 08:30 the next day: the first late, the second on
/// time. A paper file from the city's centre to a ward (the other tier) has 1 working day
/// (Art. 20(1)(a)).
async fn transfers_have_their_own_deadline(db: common::TestDb, read_back: bool) {
    let app = common::app_at(&db, local("2026-11-02T07:00"));
    users(
        &app,
        &[
            ("clerk.a", Role::Clerk, A),
            ("clerk.centre", Role::Clerk, CENTRE),
            ("official.b", Role::Official, B),
        ],
    );
    let svc = service(&app).await;
    let mut codes = Vec::new();
    for (at, user, mut body) in [
        ("2026-11-02T14:59", "clerk.a", birth("Hồ Văn Nam")),
        ("2026-11-02T15:01", "clerk.a", birth("Hồ Thị Bắc")),
        ("2026-11-02T14:59", "clerk.centre", birth("Lê Văn Trung")),
    ] {
        app.clock.set(local(at));
        let tok = login(&svc, user).await;
        if user == "clerk.centre" {
            // A ward-level procedure received at the city's centre: the ward competent.
            body["competent_agency"] = json!(B);
        }
        let (status, r) = send(&svc, post(&tok, "/api/v1/dossiers", body)).await;
        assert_eq!(status, 201, "{r}");
        codes.push(r["code"].as_str().unwrap().to_string());
    }
    let paper = json!({"type": "handover", "to_agency": B, "electronic": false});
    let mut transfers = Vec::new();
    for (code, at, user) in [
        (&codes[0], "2026-11-03T08:30", "clerk.a"),
        (&codes[1], "2026-11-03T08:30", "clerk.a"),
        (&codes[2], "2026-11-03T16:00", "clerk.centre"),
    ] {
        app.clock.set(local(at));
        let tok = login(&svc, user).await;
        let (status, b) = event(&svc, &tok, code, paper.clone()).await;
        assert_eq!(status, 201, "{b}");
        transfers.push(b["transfer"].clone());
    }
    assert_eq!(
        transfers,
        [
            json!({"due_at": t("2026-11-02T17:00"), "outcome": "late"}),
            json!({"due_at": t("2026-11-03T09:00"), "outcome": "on_time"}),
            json!({"due_at": t("2026-11-03T17:00"), "outcome": "on_time"}),
        ]
    );
    // A later hand-over is not the desk's transfer.
    app.clock.set(local("2026-11-03T09:00"));
    let tok = login(&svc, "official.b").await;
    let (status, _) = event(&svc, &tok, &codes[1], json!({"type": "accept"})).await;
    assert_eq!(status, 201);
    let (status, b) = event(
        &svc,
        &tok,
        &codes[1],
        json!({"type": "handover", "to_agency": A, "electronic": true}),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    assert!(b.get("transfer").is_none(), "{b}");
    // The raw export carries each transfer's due moment and outcome.
    let tok = login(&svc, "clerk.a").await;
    let (status, _, csv) = send_raw(
        &svc,
        get(
            &tok,
            "/api/v1/reports/raw/handovers.csv?from=2026-11-01&to=2026-11-30",
        ),
    )
    .await;
    assert_eq!(status, 200);
    let text = String::from_utf8(csv).unwrap();
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with("transfer_due_at,transfer_outcome"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{},{}", t("2026-11-02T17:00"), "late")),
        "{text}"
    );
    // Form 06 shows the transfer against its due moment.
    let (status, _, pdf) = send_raw(
        &svc,
        get(
            &tok,
            &format!("/api/v1/dossiers/{}/forms/control.pdf", codes[0]),
        ),
    )
    .await;
    assert_eq!(status, 200);
    if read_back {
        // The note cell wraps: its pieces in reading order.
        let text = common::http::pdf_text(&pdf);
        let mut rest = text.as_str();
        for needle in [
            "Chuyển hồ",
            "hạn 17 giờ 00 phút, ngày 02/11/2026",
            "quá hạn",
        ] {
            let at = rest
                .find(needle)
                .unwrap_or_else(|| panic!("form 06 lacks `{needle}`:\n{text}"));
            rest = &rest[at + needle.len()..];
        }
    }
}

#[actix_rt::test]
async fn transfers_have_their_own_deadline_on_sqlite() {
    transfers_have_their_own_deadline(common::TestDb::sqlite(), false).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn transfers_have_their_own_deadline_on_postgres() {
    transfers_have_their_own_deadline(common::TestDb::postgres(), false).await;
}

#[actix_rt::test]
#[ignore = "needs pdftotext (poppler-utils)"]
async fn form_06_shows_the_transfer_against_its_due_moment() {
    transfers_have_their_own_deadline(common::TestDb::sqlite(), true).await;
}
