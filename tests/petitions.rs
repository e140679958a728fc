//! Petitions (*phản ánh, kiến nghị*, issue #17): the public submission (API and page), bad
//! input refused with nothing stored, the honeypot, the rate limit; the staff queue's
//! order and scope; assign, an on-time and a late answer, close; QĐ 766 5.2 exact in the
//! report (3 on time, 1 late, 1 open past due → 60 %) and 5.4 with a petitioned dossier.

mod common;

use actix_web::test;
use common::http::{
    form, get, hidden, login, post, send, send_raw_header, service, users, Browser,
};
use common::{local, TestDb};
use motcua::service::Role;
use serde_json::{json, Value};

const CITY: &str = "000.00.00.H26";
const A: &str = "000.00.51.H26";
const B: &str = "000.00.52.H26";
const BIRTH: &str = "1.001193.000.00.00.H26";

fn staff(app: &motcua::app::App) {
    users(
        app,
        &[
            ("leader.a", Role::Leader, A),
            ("official.a", Role::Official, A),
            ("clerk.a", Role::Clerk, A),
            ("leader.b", Role::Leader, B),
            ("official.b", Role::Official, B),
            ("inspector", Role::Inspector, CITY),
        ],
    );
}

fn petition(agency: &str, text: &str) -> Value {
    json!({"kind": "report", "full_name": "Trần Thị Bình", "email": "binh@example.vn",
           "phone": "0912 345 678", "agency": agency, "content": text})
}

/// `POST /api/v1/public/petitions` from client address `addr`.
async fn submit<S>(svc: &S, addr: &str, body: Value) -> (u16, Value)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    send(
        svc,
        test::TestRequest::post()
            .uri("/api/v1/public/petitions")
            .peer_addr(format!("{addr}:40000").parse().unwrap())
            .set_json(body),
    )
    .await
}

fn codes(queue: &Value) -> Vec<String> {
    queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_string())
        .collect()
}

async fn the_life_of_petitions_and_the_5_2_figure(db: TestDb) {
    let app = common::app_at(&db, local("2026-03-11T09:00"));
    staff(&app);
    let svc = service(&app).await;

    // Submitted on Wednesday 11/3: due Wednesday 25/3 at the close (10 working days).
    let (s, later) = submit(&svc, "10.0.0.1", petition(A, "Hẹn trả kết quả nhiều lần")).await;
    assert_eq!(s, 201, "{later}");
    assert_eq!(later["code"], "PA-260311-0001");
    assert_eq!(later["due_at"], "2026-03-25T17:00:00+07:00");
    assert_eq!(later["status"], "received");
    assert_eq!(later["agency"]["code"], A);
    assert!(later["status_url"]
        .as_str()
        .unwrap()
        .ends_with("/phan-anh/PA-260311-0001"));
    let pin_later = later["pin"].as_str().unwrap().to_string();
    // Four on Tuesday 10/3 at 15:30 (due Tuesday 24/3), one to another ward.
    app.clock.set(local("2026-03-10T15:30"));
    let mut a_codes = Vec::new();
    let mut pins = Vec::new();
    for i in 1..=4 {
        let (s, b) = submit(
            &svc,
            &format!("10.0.1.{i}"),
            petition(A, &format!("Phản ánh số {i}")),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["code"], format!("PA-260310-000{i}"));
        assert_eq!(b["due_at"], "2026-03-24T17:00:00+07:00");
        a_codes.push(b["code"].as_str().unwrap().to_string());
        pins.push(b["pin"].as_str().unwrap().to_string());
    }
    let (s, b) = submit(&svc, "10.0.2.1", petition(B, "Phường Ba Đình")).await;
    assert_eq!(s, 201);
    let b_code = b["code"].as_str().unwrap().to_string();
    assert_eq!(b_code, "PA-260310-0005");

    // The queue: soonest due first (the later submission last), only the agency's own.
    let official_a = login(&svc, "official.a").await;
    let leader_b = login(&svc, "leader.b").await;
    let official_b = login(&svc, "official.b").await;
    let inspector = login(&svc, "inspector").await;
    let (s, q) = send(&svc, get(&official_a, "/api/v1/petitions")).await;
    assert_eq!(s, 200, "{q}");
    let mut want = a_codes.clone();
    want.push("PA-260311-0001".into());
    assert_eq!(codes(&q), want);
    assert_eq!(q["counts"]["open"], 5);
    assert_eq!(q["items"][0]["urgency"], "ok");
    assert_eq!(q["items"][0]["submitter"]["email"], "binh@example.vn");
    let (_, q) = send(&svc, get(&official_b, "/api/v1/petitions")).await;
    assert_eq!(codes(&q), [b_code.as_str()]);
    let (_, q) = send(&svc, get(&inspector, "/api/v1/petitions")).await;
    assert_eq!(q["counts"]["open"], 6);
    // Another agency sees nothing of A's.
    let p1 = &a_codes[0];
    let (s, _) = send(&svc, get(&official_b, &format!("/api/v1/petitions/{p1}"))).await;
    assert_eq!(s, 404);
    let ev = |code: &str| format!("/api/v1/petitions/{code}/events");
    let (s, b) = send(
        &svc,
        post(
            &leader_b,
            &ev(p1),
            json!({"type": "assign", "user": "official.b"}),
        ),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (404, Some("not_found")));

    // Assign: the leader of the agency, to one of its officials.
    app.clock.set(local("2026-03-12T10:00"));
    let leader_a = login(&svc, "leader.a").await;
    let official_a = login(&svc, "official.a").await;
    let (s, b) = send(
        &svc,
        post(
            &official_a,
            &ev(p1),
            json!({"type": "assign", "user": "official.a"}),
        ),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (403, Some("forbidden")));
    let (s, b) = send(
        &svc,
        post(
            &leader_a,
            &ev(p1),
            json!({"type": "assign", "user": "official.b"}),
        ),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (422, Some("invalid_assignee")));
    let (s, b) = send(
        &svc,
        post(
            &leader_a,
            &ev(p1),
            json!({"type": "assign", "user": "official.a"}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["status"].as_str(), b["assignee"].as_str()),
        (Some("assigned"), Some("official.a"))
    );
    // Answer: the assignee, on time.
    let (s, b) = send(
        &svc,
        post(
            &official_a,
            &ev(&a_codes[1]),
            json!({"type": "answer", "text": "…"}),
        ),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (403, Some("forbidden")));
    let (s, b) = send(
        &svc,
        post(
            &official_a,
            &ev(p1),
            json!({"type": "answer", "text": "  "}),
        ),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (422, Some("missing_answer")));
    let (s, b) = send(
        &svc,
        post(
            &official_a,
            &ev(p1),
            json!({"type": "answer", "text": "Cơ quan đã kiểm tra.\nCán bộ đã được nhắc nhở."}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["status"].as_str(), b["outcome"].as_str()),
        (Some("answered"), Some("on_time"))
    );
    assert_eq!(b["answered_at"], "2026-03-12T10:00:00+07:00");
    let (s, b) = send(
        &svc,
        post(
            &official_a,
            &ev(p1),
            json!({"type": "answer", "text": "Lần hai"}),
        ),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (409, Some("invalid_state")));
    // The leader answers two more on time, the last exactly at the due moment…
    app.clock.set(local("2026-03-20T10:00"));
    let leader_a = login(&svc, "leader.a").await;
    let (s, _) = send(
        &svc,
        post(
            &leader_a,
            &ev(&a_codes[1]),
            json!({"type": "answer", "text": "Đã xử lý"}),
        ),
    )
    .await;
    assert_eq!(s, 200);
    app.clock.set(local("2026-03-24T17:00"));
    let leader_a = login(&svc, "leader.a").await;
    let (s, b) = send(
        &svc,
        post(
            &leader_a,
            &ev(&a_codes[2]),
            json!({"type": "answer", "text": "Đã xử lý"}),
        ),
    )
    .await;
    assert_eq!((s, b["outcome"].as_str()), (200, Some("on_time")));
    // …and one late, the next morning.
    app.clock.set(local("2026-03-25T09:00"));
    let leader_a = login(&svc, "leader.a").await;
    let (s, b) = send(
        &svc,
        post(
            &leader_a,
            &ev(&a_codes[3]),
            json!({"type": "answer", "text": "Xin lỗi vì chậm trả lời"}),
        ),
    )
    .await;
    assert_eq!((s, b["outcome"].as_str()), (200, Some("late")));

    // Friday 27/3: the petition of 11/3 is open and past due.
    app.clock.set(local("2026-03-27T12:00"));
    let leader_a = login(&svc, "leader.a").await;
    let leader_b = login(&svc, "leader.b").await;
    let inspector = login(&svc, "inspector").await;
    let (_, q) = send(&svc, get(&leader_a, "/api/v1/petitions?tab=overdue")).await;
    assert_eq!(codes(&q), ["PA-260311-0001"]);
    assert_eq!(q["items"][0]["urgency"], "overdue");
    assert!(q["items"][0]["remaining_working_minutes"].as_i64().unwrap() < 0);
    assert_eq!(q["counts"]["overdue"], 1);
    assert_eq!(q["counts"]["answered"], 4);
    let (_, q) = send(&svc, get(&leader_a, "/api/v1/petitions?tab=answered")).await;
    assert_eq!(codes(&q), a_codes);
    // Close: after the answer only.
    let (s, b) = send(
        &svc,
        post(&leader_a, &ev("PA-260311-0001"), json!({"type": "close"})),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (409, Some("invalid_state")));
    let (s, b) = send(&svc, post(&leader_a, &ev(p1), json!({"type": "close"}))).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("closed")));

    // QĐ 766 5.2 for March: 3 on time, 1 late, 1 open past due → 60 %, from the rollup
    // and from every dossier alike.
    for source in ["", "&source=recompute"] {
        let (s, r) = send(
            &svc,
            get(
                &leader_a,
                &format!(
                    "/api/v1/reports/indicators?agency={A}&from=2026-03-01&to=2026-03-31{source}"
                ),
            ),
        )
        .await;
        assert_eq!(s, 200, "{r}");
        let c = &r["total"]["counts"];
        assert_eq!(
            (
                &c["petitions_answered_on_time"],
                &c["petitions_answered_late"],
                &c["petitions_open_overdue"]
            ),
            (&json!(3), &json!(1), &json!(1)),
            "{source}"
        );
        assert_eq!(r["total"]["rates"]["qd766_petition_on_time_rate"], 60.0);
        let score = r["qd766"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["code"] == "5.2")
            .unwrap();
        assert_eq!(score["value"], 60.0);
        assert_eq!(score["indicator"], "qd766_petition_on_time_rate");
    }
    // The ward of Ba Đình: its one petition, open and past due → 0 %.
    let (_, r) = send(
        &svc,
        get(
            &leader_b,
            &format!("/api/v1/reports/indicators?agency={B}&from=2026-03-01&to=2026-03-31"),
        ),
    )
    .await;
    assert_eq!(r["total"]["rates"]["qd766_petition_on_time_rate"], 0.0);
    // The city, by agency: each ward its own; the total both.
    let (_, r) = send(
        &svc,
        get(&inspector, &format!("/api/v1/reports/indicators?agency={CITY}&from=2026-03-01&to=2026-03-31&descendants=true&group_by=agency")),
    )
    .await;
    assert_eq!(r["total"]["counts"]["petitions_open_overdue"], 2);
    assert_eq!(r["total"]["rates"]["qd766_petition_on_time_rate"], 50.0);

    // The citizen reads the late answer with the pin; a wrong pin as the dossier lookup.
    let p4 = &a_codes[3];
    let (s, b) = send(
        &svc,
        test::TestRequest::get().uri(&format!(
            "/api/v1/public/petitions/{p4}?pin={}",
            pins[3].to_lowercase()
        )),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["status"].as_str(), b["outcome"].as_str()),
        (Some("answered"), Some("late"))
    );
    assert_eq!(b["answer"], "Xin lỗi vì chậm trả lời");
    assert_eq!(b["submitter_name"], "Trần T. B.");
    let (s, b) = send(
        &svc,
        test::TestRequest::get().uri(&format!("/api/v1/public/petitions/{p4}?pin={pin_later}")),
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (404, Some("not_found")));
    assert_eq!(
        b["message"],
        "Không tìm thấy hồ sơ, hoặc mã tra cứu không đúng"
    );

    // The e-mails' templates use only the variables the code gives them.
    let row = app.store.find_petition(p4).unwrap().unwrap();
    let vars = app.petition_vars(&row);
    assert_eq!(vars["due_date"], "24/03/2026");
    assert!(
        !vars.values().any(|v| v.contains(&pins[3])),
        "no pin in an e-mail"
    );
    for name in ["petition_received", "petition_answer"] {
        let text = std::fs::read_to_string(format!("config/templates/{name}.toml")).unwrap();
        let t: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        for key in ["subject", "text", "html"] {
            let body = t[key].as_str().unwrap_or_else(|| panic!("{name}.{key}"));
            for part in body.split("{{").skip(1) {
                let var = part
                    .trim_start_matches('{')
                    .split('}')
                    .next()
                    .unwrap()
                    .trim();
                assert!(
                    vars.contains_key(var),
                    "{name}.{key}: unknown {{{{{var}}}}}"
                );
            }
            assert!(body.contains("{{code}}"), "{name}.{key} names the code");
        }
        assert!(t["text"].as_str().unwrap().contains("{{status_url}}"));
    }

    // Every change left its audit record, and the chain holds.
    let check = app
        .verify_audit_trail(&motcua::service::accounts::cli_actor(), app.clock.now())
        .unwrap();
    assert!(check.problems.is_empty(), "{check:?}");
    // 6 accounts, 6 submissions, 1 assignment, 4 answers, 1 closing.
    assert_eq!(check.records, 18, "{check:?}");
}

async fn bad_input_the_honeypot_and_the_rate_limit(db: TestDb) {
    let app = common::app_at(&db, local("2026-03-10T09:00"));
    staff(&app);
    let svc = service(&app).await;
    let with = |k: &str, v: Value| {
        let mut b = petition(A, "Nội dung");
        b[k] = v;
        b
    };
    let cases = [
        (with("kind", json!("khieu_nai")), 422, "invalid_kind"),
        (with("full_name", json!("  ")), 422, "invalid_full_name"),
        (with("email", json!("binh@")), 422, "invalid_email"),
        (with("phone", json!("12")), 422, "invalid_phone"),
        (with("content", json!("")), 422, "missing_content"),
        (with("content", json!("a\u{0}b")), 422, "invalid_content"),
        (with("content", json!("a\u{202E}b")), 422, "invalid_content"),
        (
            with("content", json!("x".repeat(4001))),
            422,
            "content_too_long",
        ),
        (with("agency", json!(null)), 422, "missing_agency"),
        (
            with("agency", json!("000.00.99.H26")),
            422,
            "invalid_agency",
        ),
        (
            with("dossier_code", json!("000.00.51.H26-260310-0001")),
            422,
            "missing_pin",
        ),
        (
            with("dossier_code", json!("000.00.51.H26-260310-0009")).tap_pin(),
            404,
            "not_found",
        ),
        (with("unknown", json!(1)), 400, "invalid_json"),
    ];
    for (i, (body, status, code)) in cases.into_iter().enumerate() {
        let (s, b) = submit(&svc, &format!("10.1.0.{i}"), body.clone()).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (status, Some(code)),
            "{body}: {b}"
        );
        assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Every field's problem at once.
    let (_, b) = submit(
        &svc,
        "10.1.1.1",
        json!({"kind": "", "full_name": "", "content": ""}),
    )
    .await;
    let fields: Vec<&str> = b["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["kind", "full_name", "content"]);
    // Nothing was stored.
    let inspector = login(&svc, "inspector").await;
    let (_, q) = send(&svc, get(&inspector, "/api/v1/petitions")).await;
    assert_eq!(q["counts"]["open"], 0, "{q}");

    // The honeypot: answered as accepted, nothing stored.
    let mut bot = petition(A, "Mua ngay");
    bot["website"] = json!("http://spam.example");
    let (s, b) = submit(&svc, "10.2.0.1", bot).await;
    assert_eq!(s, 201, "{b}");
    let code = b["code"].as_str().unwrap();
    assert!(code.starts_with("PA-260310-"), "{code}");
    assert!(b["pin"].as_str().is_some_and(|p| p.len() == 6));
    assert!(app.store.find_petition(code).unwrap().is_none());
    let (_, q) = send(&svc, get(&inspector, "/api/v1/petitions")).await;
    assert_eq!(q["counts"]["open"], 0);

    // The rate limit: 5 accepted submissions an hour from one address (the honeypot's
    // counted too), then 429 with Retry-After; another address goes on.
    for i in 1..=4 {
        let (s, _) = submit(&svc, "10.2.0.1", petition(A, &format!("Lần {i}"))).await;
        assert_eq!(s, 201);
    }
    let (s, retry, b) = send_raw_header(
        &svc,
        test::TestRequest::post()
            .uri("/api/v1/public/petitions")
            .peer_addr("10.2.0.1:40000".parse().unwrap())
            .set_json(petition(A, "Lần 5")),
        "retry-after",
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (429, Some("too_many_petitions")));
    assert!(retry.unwrap().parse::<u32>().unwrap() > 0);
    let (s, _) = submit(&svc, "10.2.0.2", petition(A, "Máy khác")).await;
    assert_eq!(s, 201);
    // An hour later the address may send again.
    app.clock.set(local("2026-03-10T10:01"));
    let (s, _) = submit(&svc, "10.2.0.1", petition(A, "Sau một giờ")).await;
    assert_eq!(s, 201);
    let inspector = login(&svc, "inspector").await;
    let (_, q) = send(&svc, get(&inspector, "/api/v1/petitions")).await;
    assert_eq!(q["counts"]["open"], 6);
}

trait TapPin {
    fn tap_pin(self) -> Self;
}

impl TapPin for Value {
    fn tap_pin(mut self) -> Self {
        self["pin"] = json!("ACDEFH");
        self
    }
}

async fn petitions_about_dossiers_count_against_5_4(db: TestDb) {
    let app = common::app_at(&db, local("2026-03-10T09:00"));
    staff(&app);
    let svc = service(&app).await;
    let clerk = login(&svc, "clerk.a").await;
    let mut dossiers = Vec::new();
    for (name, id) in [
        ("Nguyễn Văn An", "001090000301"),
        ("Lê Thị Hoa", "001090000302"),
    ] {
        let body = json!({"procedure_code": BIRTH, "channel": "counter",
            "applicant": {"full_name": name, "id_number": id},
            "papers": [{"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                       {"name": "Giấy chứng sinh", "kind": "original"}]});
        let (s, b) = send(&svc, post(&clerk, "/api/v1/dossiers", body)).await;
        assert_eq!(s, 201, "{b}");
        dossiers.push((
            b["code"].as_str().unwrap().to_string(),
            b["pin"].as_str().unwrap().to_string(),
        ));
    }
    let (code, pin) = &dossiers[0];
    // A wrong pin: the lookup's one answer, nothing stored.
    let mut body = json!({"kind": "report", "full_name": "Nguyễn Văn An", "content": "Chưa nhận được kết quả",
                          "dossier_code": code, "pin": "ACDEFH"});
    let (s, b) = submit(&svc, "10.3.0.1", body.clone()).await;
    assert_eq!((s, b["error"].as_str()), (404, Some("not_found")), "{b}");
    assert_eq!(
        b["message"],
        "Không tìm thấy hồ sơ, hoặc mã tra cứu không đúng"
    );
    // The right pin: the agency is the dossier's.
    body["pin"] = json!(pin.to_lowercase());
    let (s, b) = submit(&svc, "10.3.0.1", body).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["agency"]["code"], A);
    let pcode = b["code"].as_str().unwrap().to_string();
    let leader = login(&svc, "leader.a").await;
    let (_, v) = send(&svc, get(&leader, &format!("/api/v1/petitions/{pcode}"))).await;
    assert_eq!(v["dossier_code"], code.as_str());
    assert_eq!(v["submitter"]["email"], Value::Null);
    let (_, q) = send(&svc, get(&leader, "/api/v1/petitions")).await;
    assert_eq!(q["counts"]["open"], 1, "the wrong pin stored nothing");

    // 5.4: two dossiers in progress within time (a birth is due the same day), one with a
    // petition → 100 − (0 + 50) = 50.
    app.clock.set(local("2026-03-10T10:00"));
    let leader = login(&svc, "leader.a").await;
    for source in ["", "&source=recompute"] {
        let (_, r) = send(
            &svc,
            get(
                &leader,
                &format!(
                    "/api/v1/reports/indicators?agency={A}&from=2026-03-01&to=2026-03-31{source}"
                ),
            ),
        )
        .await;
        let c = &r["total"]["counts"];
        assert_eq!(
            (&c["handled"], &c["petitioned_dossiers"]),
            (&json!(2), &json!(1)),
            "{r}"
        );
        assert_eq!(r["total"]["rates"]["qd766_satisfaction_index"], 50.0);
        assert_eq!(r["total"]["rates"]["qd766_on_time_rate"], 100.0);
    }
    // By procedure: the petition goes with its dossier's procedure.
    let (_, r) = send(
        &svc,
        get(&leader, &format!("/api/v1/reports/indicators?agency={A}&from=2026-03-01&to=2026-03-31&group_by=procedure")),
    )
    .await;
    let g = r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == BIRTH)
        .unwrap();
    assert_eq!(g["counts"]["petitioned_dossiers"], 1);
}

async fn the_public_page_takes_a_petition(db: TestDb) {
    let app = common::app_at(&db, local("2026-03-10T15:30"));
    staff(&app);
    let svc = service(&app).await;
    let mut browser = Browser::default();
    let (s, html) = browser
        .page(&svc, test::TestRequest::get().uri("/phan-anh"))
        .await;
    assert_eq!(s, 200);
    assert!(html.contains(r#"lang="vi""#) && html.contains(r#"name="website""#));
    let csrf = hidden(&html, "csrf");
    let post_form = |fields: &[(&str, &str)]| {
        test::TestRequest::post()
            .uri("/phan-anh")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(form(fields))
    };
    // Without the form's token: 403, nothing stored.
    let (s, _) = browser
        .page(
            &svc,
            post_form(&[
                ("loai", "report"),
                ("ho-ten", "An"),
                ("noi-dung", "x"),
                ("co-quan", A),
            ]),
        )
        .await;
    assert_eq!(s, 403);
    // Errors next to their fields and in the summary; what was typed stays.
    let (s, html) = browser
        .page(
            &svc,
            post_form(&[
                ("csrf", &csrf),
                ("ho-ten", "Phạm Văn Đông"),
                ("email", "dong@"),
                ("noi-dung", ""),
            ]),
        )
        .await;
    assert_eq!(s, 422);
    assert!(html.contains(r#"class="error-summary""#), "{html}");
    for message in [
        "Chọn loại: phản ánh hoặc kiến nghị",
        "Nhập nội dung phản ánh, kiến nghị",
        "Địa chỉ thư điện tử không hợp lệ",
    ] {
        assert_eq!(
            html.matches(message).count(),
            2,
            "{message} in the summary and at its field"
        );
    }
    assert!(
        html.contains(r##"href="#noi-dung-phan-anh""##)
            && html.contains(r#"value="Phạm Văn Đông""#)
    );
    // Accepted: the confirmation with the code, the pin and the due date.
    let (s, html) = browser
        .page(
            &svc,
            post_form(&[
                ("csrf", &csrf),
                ("loai", "proposal"),
                ("ho-ten", "Phạm Văn Đông"),
                ("email", "dong@example.vn"),
                ("co-quan", A),
                ("noi-dung", "Đề nghị niêm yết lệ phí\r\nở nơi dễ thấy."),
                ("website", ""),
            ]),
        )
        .await;
    assert_eq!(s, 200, "{html}");
    assert!(
        html.contains("PA-260310-0001") && html.contains("24/03/2026"),
        "{html}"
    );
    let pin = html
        .split(r#"id="ma-tra-cuu">"#)
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(pin.len(), 6);
    // The status page with the pin.
    let (s, html) = browser
        .page(
            &svc,
            test::TestRequest::get().uri("/phan-anh/PA-260310-0001"),
        )
        .await;
    assert_eq!(s, 200);
    let csrf = hidden(&html, "csrf");
    let (s, html) = browser
        .page(
            &svc,
            test::TestRequest::post()
                .uri("/phan-anh/PA-260310-0001")
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(form(&[("csrf", &csrf), ("pin", &pin)])),
        )
        .await;
    assert_eq!(s, 200, "{html}");
    assert!(
        html.contains("Đã tiếp nhận") && html.contains("Đề nghị niêm yết lệ phí"),
        "{html}"
    );
    // The staff's page needs a session.
    let (s, _) = browser
        .page(&svc, test::TestRequest::get().uri("/phan-anh/xu-ly"))
        .await;
    assert_eq!(s, 303);
}

macro_rules! both {
    ($name:ident, $sqlite:ident, $pg:ident) => {
        #[actix_rt::test]
        async fn $sqlite() {
            $name(TestDb::sqlite()).await;
        }
        #[actix_rt::test]
        #[ignore = "needs PostgreSQL"]
        async fn $pg() {
            $name(TestDb::postgres()).await;
        }
    };
}

both!(
    the_life_of_petitions_and_the_5_2_figure,
    the_life_of_petitions_and_the_5_2_figure_on_sqlite,
    the_life_of_petitions_and_the_5_2_figure_on_postgres
);
both!(
    bad_input_the_honeypot_and_the_rate_limit,
    bad_input_the_honeypot_and_the_rate_limit_on_sqlite,
    bad_input_the_honeypot_and_the_rate_limit_on_postgres
);
both!(
    petitions_about_dossiers_count_against_5_4,
    petitions_about_dossiers_count_against_5_4_on_sqlite,
    petitions_about_dossiers_count_against_5_4_on_postgres
);
both!(
    the_public_page_takes_a_petition,
    the_public_page_takes_a_petition_on_sqlite,
    the_public_page_takes_a_petition_on_postgres
);
