//! Counter intake as clerks, portals and citizens see it: accounts and tokens,
//! registration and its validation errors, the receipt, guidance and refusal forms,
//! the public lookup and the staff read within scope.

mod common;

use std::sync::Arc;

use actix_http::Request;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::{test, web, App as ActixApp};
use diesel::prelude::*;
use motcua::app::App;
use motcua::service::accounts::{cli_actor, NewUser};
use motcua::service::Role;
use motcua::store::schema;
use serde_json::{json, Value};

const COMMUNE: &str = "000.00.51.H26"; // phường Hoàn Kiếm
const OTHER_COMMUNE: &str = "000.00.52.H26";
const CITY: &str = "000.00.00.H26";
const BIRTH: &str = "1.001193.000.00.00.H26";
const PASSWORD: &str = "mat-khau-du-dai";

struct Harness {
    app: Arc<App>,
    _db: common::TestDb,
}

impl Harness {
    fn new() -> Self {
        let db = common::TestDb::sqlite();
        let app = common::app_for(&db);
        for (username, role, agency) in [
            ("clerk1", Role::Clerk, COMMUNE),
            ("clerk2", Role::Clerk, OTHER_COMMUNE),
            ("official1", Role::Official, COMMUNE),
            ("inspector", Role::Inspector, CITY),
            ("portal1", Role::Portal, CITY),
        ] {
            app.create_user(
                &NewUser {
                    username,
                    full_name: "Trần Thị Bình",
                    role,
                    agency,
                    password: PASSWORD,
                    email: None,
                },
                &cli_actor(),
                chrono::Utc::now(),
            )
            .unwrap();
        }
        Self { app, _db: db }
    }

    async fn service(
        &self,
    ) -> impl Service<Request, Response = ServiceResponse, Error = actix_web::Error> {
        test::init_service(
            ActixApp::new()
                .app_data(web::Data::new(self.app.clone()))
                .configure(motcua::http::configure),
        )
        .await
    }

    /// Rows in every table a dossier touches.
    fn counts(&self) -> Vec<(&'static str, i64)> {
        let mut c = self.app.store.conn().unwrap();
        vec![
            (
                "dossiers",
                schema::dossiers::table.count().get_result(&mut *c).unwrap(),
            ),
            (
                "dossier_papers",
                schema::dossier_papers::table
                    .count()
                    .get_result(&mut *c)
                    .unwrap(),
            ),
            (
                "dossier_events",
                schema::dossier_events::table
                    .count()
                    .get_result(&mut *c)
                    .unwrap(),
            ),
            (
                "code_sequences",
                schema::code_sequences::table
                    .count()
                    .get_result(&mut *c)
                    .unwrap(),
            ),
            (
                "intake_outcomes",
                schema::intake_outcomes::table
                    .count()
                    .get_result(&mut *c)
                    .unwrap(),
            ),
            (
                "audit_log",
                schema::audit_log::table
                    .count()
                    .get_result(&mut *c)
                    .unwrap(),
            ),
        ]
    }
}

async fn call<S>(svc: &S, req: test::TestRequest) -> (u16, Vec<u8>, String)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let res = test::call_service(
        svc,
        req.peer_addr("10.0.0.7:5000".parse().unwrap()).to_request(),
    )
    .await;
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, test::read_body(res).await.to_vec(), ct)
}

async fn json_call<S>(svc: &S, req: test::TestRequest) -> (u16, Value)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let (status, body, _) = call(svc, req).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn login<S>(svc: &S, username: &str) -> String
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let (status, body) = json_call(
        svc,
        test::TestRequest::post()
            .uri("/api/v1/auth/login")
            .set_json(json!({"username": username, "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    body["access_token"].as_str().unwrap().to_string()
}

fn birth_request() -> Value {
    json!({
        "procedure_code": BIRTH,
        "channel": "counter",
        "applicant": {
            "full_name": "Nguyễn Văn An",
            "id_number": "001090012345",
            "phone": "0912 345 678",
            "email": "an@example.vn",
            "address": "12 Hàng Bạc, phường Hoàn Kiếm"
        },
        "papers": [
            {"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original", "count": 1},
            {"name": "Giấy chứng sinh", "kind": "original", "count": 1}
        ]
    })
}

fn post_dossier(token: &str, body: &Value) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/api/v1/dossiers")
        .insert_header(("authorization", format!("Bearer {token}")))
        .set_json(body)
}

#[actix_rt::test]
async fn a_clerk_registers_a_dossier_and_gets_code_pin_and_due_moment() {
    let h = Harness::new();
    let svc = h.service().await;
    let token = login(&svc, "clerk1").await;
    let (status, body) = json_call(&svc, post_dossier(&token, &birth_request())).await;
    assert_eq!(status, 201, "{body}");
    let code = body["code"].as_str().unwrap();
    let today = chrono::Utc::now()
        .with_timezone(&h.app.settings.offset)
        .format("%y%m%d")
        .to_string();
    assert_eq!(code, format!("{COMMUNE}-{today}-0001"));
    let pin = body["pin"].as_str().unwrap();
    assert!(motcua::core::pin::normalise_pin(pin).is_some(), "{pin}");
    assert_eq!(body["status"], "received");
    assert_eq!(body["rule_set"], "nd118-2025");
    assert_eq!(body["procedure"]["version"], 1);
    // The due moment is the deadline engine's for the procedure's statutory time.
    let received =
        chrono::DateTime::parse_from_rfc3339(body["received_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(body["due_at"].as_str().unwrap()).unwrap();
    let expected = h
        .app
        .deadlines()
        .due_at(received, &h.app.catalogue.get(BIRTH).unwrap().time())
        .unwrap();
    assert_eq!(due, expected);
    assert!(body["received_at"].as_str().unwrap().ends_with("+07:00"));

    // The second of the day gets 0002, and the tracking-book line follows.
    let (_, second) = json_call(&svc, post_dossier(&token, &birth_request())).await;
    assert_eq!(second["code"], format!("{COMMUNE}-{today}-0002"));
    assert_eq!(second["book"]["line"], 2);

    // Every table got its rows, and one audit record per dossier.
    let counts: std::collections::HashMap<_, _> = h.counts().into_iter().collect();
    assert_eq!(counts["dossiers"], 2);
    assert_eq!(counts["dossier_papers"], 4);
    assert_eq!(counts["dossier_events"], 2);
    let (status, stored) = json_call(
        &svc,
        test::TestRequest::get()
            .uri(&format!("/api/v1/dossiers/{code}"))
            .insert_header(("authorization", format!("Bearer {token}"))),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(stored["applicant"]["phone"], "0912345678");
    assert_eq!(stored["papers"].as_array().unwrap().len(), 2);
    assert_eq!(stored["events"][0]["type"], "receive");
    assert_eq!(stored["procedure"]["version"], 1);
    assert_eq!(stored["rule_set"], "nd118-2025");
}

#[actix_rt::test]
async fn text_is_normalised_to_nfc_and_trimmed() {
    let h = Harness::new();
    let svc = h.service().await;
    let token = login(&svc, "clerk1").await;
    let mut req = birth_request();
    // "Nguyễn" typed with combining marks, padded with spaces.
    req["applicant"]["full_name"] = json!("  Nguye\u{0302}\u{0303}n   Va\u{0306}n An ");
    let (status, body) = json_call(&svc, post_dossier(&token, &req)).await;
    assert_eq!(status, 201, "{body}");
    let (_, stored) = json_call(
        &svc,
        test::TestRequest::get()
            .uri(&format!(
                "/api/v1/dossiers/{}",
                body["code"].as_str().unwrap()
            ))
            .insert_header(("authorization", format!("Bearer {token}"))),
    )
    .await;
    assert_eq!(stored["applicant"]["full_name"], "Nguyễn Văn An");
}

#[actix_rt::test]
async fn each_validation_error_has_its_code_and_leaves_nothing() {
    let h = Harness::new();
    let svc = h.service().await;
    let token = login(&svc, "clerk1").await;
    let before = h.counts();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = birth_request();
        f(&mut v);
        v
    };
    let cases: Vec<(&str, Value, u16)> = vec![
        (
            "unknown_procedure",
            with(&|v| v["procedure_code"] = json!("9.999999.000.00.00.H26")),
            422,
        ),
        (
            "invalid_id_number",
            with(&|v| v["applicant"]["id_number"] = json!("12345678901")),
            422,
        ),
        (
            "invalid_id_number",
            with(&|v| v["applicant"]["id_number"] = json!("B1234567")),
            422,
        ),
        (
            "invalid_id_kind",
            with(&|v| v["applicant"]["id_kind"] = json!("driver_licence")),
            422,
        ),
        (
            "invalid_phone",
            with(&|v| v["applicant"]["phone"] = json!("12-34")),
            422,
        ),
        (
            "invalid_email",
            with(&|v| v["applicant"]["email"] = json!("an@")),
            422,
        ),
        (
            "invalid_full_name",
            with(&|v| v["applicant"]["full_name"] = json!("   ")),
            422,
        ),
        (
            "invalid_full_name",
            with(&|v| v["applicant"]["full_name"] = json!("A".repeat(101))),
            422,
        ),
        (
            "invalid_address",
            with(&|v| v["applicant"]["address"] = json!("x".repeat(301))),
            422,
        ),
        ("missing_papers", with(&|v| v["papers"] = json!([])), 422),
        (
            "missing_papers",
            with(&|v| v["papers"][1]["kind"] = json!("copy")),
            422,
        ),
        (
            "invalid_paper",
            with(&|v| v["papers"][0]["kind"] = json!("photo")),
            422,
        ),
        (
            "invalid_paper",
            with(&|v| v["papers"][0]["count"] = json!(0)),
            422,
        ),
        (
            "invalid_channel",
            with(&|v| v["channel"] = json!("fax")),
            422,
        ),
        (
            "invalid_channel",
            with(&|v| v["channel"] = json!("online")),
            422,
        ),
        (
            "invalid_note",
            with(&|v| v["note"] = json!("n".repeat(1001))),
            422,
        ),
        (
            "invalid_json",
            with(&|v| v["applicant"]["nickname"] = json!("Bờm")),
            400,
        ),
        ("invalid_json", with(&|v| v["papers"] = json!("all")), 400),
    ];
    for (code, body, status) in cases {
        let (got, answer) = json_call(&svc, post_dossier(&token, &body)).await;
        assert_eq!(
            (got, answer["error"].as_str()),
            (status, Some(code)),
            "{answer}"
        );
        assert!(!answer["message"].as_str().unwrap().is_empty());
    }
    // A passport or tax code is fine when said so.
    let (status, _) = json_call(
        &svc,
        post_dossier(
            &token,
            &with(&|v| {
                v["applicant"]["id_kind"] = json!("passport");
                v["applicant"]["id_number"] = json!("B1234567");
            }),
        ),
    )
    .await;
    assert_eq!(status, 201);
    let after = h.counts();
    for ((table, b), (_, a)) in before.iter().zip(&after) {
        // One dossier: two papers, two sequences (the day's codes, the book's lines).
        let expected = match *table {
            "dossier_papers" | "code_sequences" => b + 2,
            "intake_outcomes" => *b,
            _ => b + 1,
        };
        assert_eq!(*a, expected, "{table}: only the one valid intake left rows");
    }
}

#[actix_rt::test]
async fn missing_papers_are_listed() {
    let h = Harness::new();
    let svc = h.service().await;
    let token = login(&svc, "clerk1").await;
    let mut req = birth_request();
    req["papers"] = json!([{"name": "Giấy chứng sinh", "kind": "copy", "count": 1}]);
    let (status, body) = json_call(&svc, post_dossier(&token, &req)).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"], "missing_papers");
    let missing = body["details"]["missing"].as_array().unwrap();
    let reasons: Vec<(&str, &str)> = missing
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["reason"].as_str().unwrap()))
        .collect();
    assert!(
        reasons.contains(&("Tờ khai đăng ký khai sinh theo mẫu", "absent")),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&("Giấy chứng sinh", "wrong_kind")),
        "{reasons:?}"
    );
}

#[actix_rt::test]
async fn only_clerks_and_portals_receive() {
    let h = Harness::new();
    let svc = h.service().await;
    let (status, body) = json_call(
        &svc,
        test::TestRequest::post()
            .uri("/api/v1/dossiers")
            .set_json(birth_request()),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, body) = json_call(&svc, post_dossier("not-a-token", &birth_request())).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    let official = login(&svc, "official1").await;
    let (status, body) = json_call(&svc, post_dossier(&official, &birth_request())).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    assert_eq!(h.counts()[0].1, 0);
}

#[actix_rt::test]
async fn a_portal_submits_online_dossiers_with_client_credentials() {
    let h = Harness::new();
    let svc = h.service().await;
    // Staff credentials do not work on the portal endpoint, and the reverse.
    let (status, _) = json_call(
        &svc,
        test::TestRequest::post()
            .uri("/api/v1/auth/token")
            .set_json(json!({"client_id": "clerk1", "client_secret": PASSWORD})),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = json_call(
        &svc,
        test::TestRequest::post()
            .uri("/api/v1/auth/login")
            .set_json(json!({"username": "portal1", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 401);
    let (status, tok) = json_call(
        &svc,
        test::TestRequest::post()
            .uri("/api/v1/auth/token")
            .set_json(json!({"client_id": "portal1", "client_secret": PASSWORD})),
    )
    .await;
    assert_eq!(status, 200);
    let token = tok["access_token"].as_str().unwrap();
    let mut req = birth_request();
    req["channel"] = json!("online");
    // A commune-level procedure submitted to the city's portal names the applicant's ward.
    let (status, body) = json_call(&svc, post_dossier(token, &req)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("competent_agency_required")),
        "{body}"
    );
    req["competent_agency"] = json!(CITY);
    let (status, body) = json_call(&svc, post_dossier(token, &req)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("invalid_competent_agency")),
        "{body}"
    );
    req["competent_agency"] = json!(COMMUNE);
    let (status, body) = json_call(&svc, post_dossier(token, &req)).await;
    assert_eq!(status, 201, "{body}");
    // The code names the agency competent to resolve the procedure (NĐ 118/2025
    // Art. 28(2)): the ward, not the city whose portal received it.
    assert!(
        body["code"].as_str().unwrap().starts_with(COMMUNE),
        "{body}"
    );
    assert_eq!(body["channel"], "online");
    assert_eq!(body["competent_agency"], COMMUNE);
    req["channel"] = json!("counter");
    let (status, body) = json_call(&svc, post_dossier(token, &req)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("invalid_channel"))
    );
}

#[actix_rt::test]
async fn a_wrong_password_and_an_unknown_account_look_the_same() {
    let h = Harness::new();
    let svc = h.service().await;
    let wrong = || {
        test::TestRequest::post()
            .uri("/api/v1/auth/login")
            .set_json(json!({"username": "clerk1", "password": "sai-mat-khau-roi"}))
    };
    for _ in 0..5 {
        let (status, body) = json_call(&svc, wrong()).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_credentials"))
        );
    }
    // The delays that follow are asserted to the second with a manual clock in
    // tests/guessing.rs.
    // An unknown account answers exactly like a wrong password.
    let (status, body) = json_call(
        &svc,
        test::TestRequest::post()
            .uri("/api/v1/auth/login")
            .set_json(json!({"username": "nobody", "password": "sai-mat-khau-roi"})),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_credentials"))
    );
}

#[actix_rt::test]
async fn a_disabled_account_cannot_log_in() {
    let h = Harness::new();
    h.app
        .set_user_disabled("clerk2", true, &cli_actor(), chrono::Utc::now())
        .unwrap();
    let svc = h.service().await;
    let (status, _) = json_call(
        &svc,
        test::TestRequest::post()
            .uri("/api/v1/auth/login")
            .set_json(json!({"username": "clerk2", "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 401);
}

#[actix_rt::test]
async fn public_lookup_needs_the_pin_and_shows_no_personal_data() {
    let h = Harness::new();
    let svc = h.service().await;
    let token = login(&svc, "clerk1").await;
    let (_, r) = json_call(&svc, post_dossier(&token, &birth_request())).await;
    let code = r["code"].as_str().unwrap().to_string();
    let pin = r["pin"].as_str().unwrap().to_string();
    let get = |uri: String| test::TestRequest::get().uri(&uri);

    let no_pin = call(&svc, get(format!("/api/v1/public/dossiers/{code}"))).await;
    let wrong_pin = call(
        &svc,
        get(format!("/api/v1/public/dossiers/{code}?pin=AAAAAA")),
    )
    .await;
    let unknown = call(
        &svc,
        get(format!(
            "/api/v1/public/dossiers/{COMMUNE}-990101-0001?pin={pin}"
        )),
    )
    .await;
    assert_eq!(no_pin.0, 404);
    assert_eq!(
        no_pin, wrong_pin,
        "no pin and a wrong pin answer alike, byte for byte"
    );
    assert_eq!(
        no_pin, unknown,
        "an unknown code answers alike, byte for byte"
    );

    let (status, body) = json_call(
        &svc,
        get(format!(
            "/api/v1/public/dossiers/{code}?pin={}",
            pin.to_lowercase()
        )),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["applicant_name"], "Nguyễn V. A.");
    assert_eq!(body["status"], "received");
    assert_eq!(body["procedure"]["name"], "Đăng ký khai sinh");
    assert_eq!(
        body["current_agency"]["name"],
        "Ủy ban nhân dân phường Hoàn Kiếm"
    );
    assert_eq!(body["result_ready"], false);
    assert_eq!(body["history"][0]["label"], "Đã tiếp nhận");
    let text = body.to_string();
    for secret in [
        "001090012345",
        "0912345678",
        "Trần Thị Bình",
        "clerk1",
        "Giấy chứng sinh",
        "an@example.vn",
    ] {
        assert!(
            !text.contains(secret),
            "the public answer leaks {secret}: {text}"
        );
    }
    // The last four digits of the ID number open nothing (README, *Citizens*): the
    // same 404 as a wrong pin, byte for byte.
    let (status, by_digits, _) = call(
        &svc,
        get(format!("/api/v1/public/dossiers/{code}?id_last4=2345")),
    )
    .await;
    let (_, by_wrong_pin, _) = call(
        &svc,
        get(format!("/api/v1/public/dossiers/{code}?pin=AAAAAA")),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(by_digits, by_wrong_pin);
}

#[actix_rt::test]
async fn public_lookup_failures_are_limited_per_address() {
    let h = Harness::new();
    let svc = h.service().await;
    // 20 different unknown codes from one address, then the address is blocked.
    for i in 0..20 {
        let (status, _, _) = call(
            &svc,
            test::TestRequest::get().uri(&format!(
                "/api/v1/public/dossiers/X-000000-{i:04}?pin=AAAAAA"
            )),
        )
        .await;
        assert_eq!(status, 404);
    }
    let (status, _) = json_call(
        &svc,
        test::TestRequest::get().uri("/api/v1/public/dossiers/X-000000-9999?pin=AAAAAA"),
    )
    .await;
    assert_eq!(status, 429);
}

#[actix_rt::test]
async fn staff_see_only_their_scope() {
    let h = Harness::new();
    let svc = h.service().await;
    let clerk = login(&svc, "clerk1").await;
    let (_, r) = json_call(&svc, post_dossier(&clerk, &birth_request())).await;
    let code = r["code"].as_str().unwrap().to_string();
    let read = |token: &str| {
        test::TestRequest::get()
            .uri(&format!("/api/v1/dossiers/{code}"))
            .insert_header(("authorization", format!("Bearer {token}")))
    };
    // Another commune's clerk: not found, like a code that does not exist.
    let other = login(&svc, "clerk2").await;
    let (status, body) = json_call(&svc, read(&other)).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
    // The city's inspector sees every commune's dossiers.
    let inspector = login(&svc, "inspector").await;
    let (status, _) = json_call(&svc, read(&inspector)).await;
    assert_eq!(status, 200);
    let list = |token: &str, q: &str| {
        test::TestRequest::get()
            .uri(&format!("/api/v1/dossiers?{q}"))
            .insert_header(("authorization", format!("Bearer {token}")))
    };
    let (_, mine) = json_call(&svc, list(&clerk, "")).await;
    assert_eq!(mine["dossiers"].as_array().unwrap().len(), 1);
    let (_, theirs) = json_call(&svc, list(&other, "")).await;
    assert_eq!(theirs["dossiers"].as_array().unwrap().len(), 0);
    // Search without diacritics, by code prefix, by status and date.
    let today = chrono::Utc::now()
        .with_timezone(&h.app.settings.offset)
        .format("%Y-%m-%d")
        .to_string();
    for q in [
        "q=nguyen%20van".to_string(),
        format!("q={COMMUNE}"),
        "q=001090012345".into(),
        "status=received".into(),
        format!("from={today}&to={today}"),
        format!("procedure={BIRTH}"),
    ] {
        let (status, found) = json_call(&svc, list(&inspector, &q)).await;
        assert_eq!(status, 200, "{q}: {found}");
        assert_eq!(found["dossiers"].as_array().unwrap().len(), 1, "{q}");
    }
    let (_, none) = json_call(&svc, list(&inspector, "status=returned")).await;
    assert!(none["dossiers"].as_array().unwrap().is_empty());
    for (q, code) in [
        ("status=lost", "invalid_status"),
        ("from=27/11/2026", "invalid_from"),
        ("limit=1000", "invalid_limit"),
    ] {
        let (status, body) = json_call(&svc, list(&inspector, q)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some(code)), "{q}");
    }
}

#[actix_rt::test]
async fn the_receipt_is_a_small_pdf() {
    let h = Harness::new();
    let svc = h.service().await;
    let token = login(&svc, "clerk1").await;
    let (_, r) = json_call(&svc, post_dossier(&token, &birth_request())).await;
    let code = r["code"].as_str().unwrap();
    let pin = r["pin"].as_str().unwrap();
    let (status, pdf, ct) = call(
        &svc,
        test::TestRequest::get()
            .uri(&format!(
                "/api/v1/dossiers/{code}/forms/receipt.pdf?pin={pin}"
            ))
            .insert_header(("authorization", format!("Bearer {token}"))),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ct, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.len() <= 60 * 1024, "receipt is {} bytes", pdf.len());
    // Another commune cannot print it.
    let other = login(&svc, "clerk2").await;
    let (status, _, _) = call(
        &svc,
        test::TestRequest::get()
            .uri(&format!("/api/v1/dossiers/{code}/forms/receipt.pdf"))
            .insert_header(("authorization", format!("Bearer {other}"))),
    )
    .await;
    assert_eq!(status, 404);
}

/// Text and QR code of a PDF, through poppler's pdftotext and zbar's zbarimg.
fn pdf_text_and_qr(pdf: &[u8]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, pdf).unwrap();
    let text = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(text.status.success());
    let png = dir.path().join("r");
    let status = std::process::Command::new("pdftoppm")
        .args([
            "-png",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            path.to_str().unwrap(),
            png.to_str().unwrap(),
        ])
        .status()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(status.success());
    let image = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "png"))
        .unwrap();
    let qr = std::process::Command::new("zbarimg")
        .args(["-q", "--raw", image.to_str().unwrap()])
        .output()
        .expect("zbarimg (zbar-tools) is installed");
    (
        String::from_utf8(text.stdout).unwrap(),
        String::from_utf8(qr.stdout).unwrap().trim().to_string(),
    )
}

#[actix_rt::test]
#[ignore = "needs pdftotext and pdftoppm (poppler-utils) and zbarimg (zbar-tools)"]
async fn the_receipt_reads_back_with_diacritics_due_date_and_qr() {
    let h = Harness::new();
    let svc = h.service().await;
    let token = login(&svc, "clerk1").await;
    let mut req = birth_request();
    req["applicant"]["full_name"] = json!("Nguyễn Thị Hồng Nhung");
    let (_, r) = json_call(&svc, post_dossier(&token, &req)).await;
    let code = r["code"].as_str().unwrap();
    let pin = r["pin"].as_str().unwrap();
    let (_, pdf, _) = call(
        &svc,
        test::TestRequest::get()
            .uri(&format!(
                "/api/v1/dossiers/{code}/forms/receipt.pdf?pin={pin}"
            ))
            .insert_header(("authorization", format!("Bearer {token}"))),
    )
    .await;
    let (text, qr) = pdf_text_and_qr(&pdf);
    assert!(text.contains(code), "{text}");
    assert!(text.contains("Nguyễn Thị Hồng Nhung"), "{text}");
    assert!(
        text.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        "{text}"
    );
    assert!(
        text.contains(pin),
        "the pin is printed right after intake: {text}"
    );
    let due = chrono::DateTime::parse_from_rfc3339(r["due_at"].as_str().unwrap()).unwrap();
    let due_text = due
        .with_timezone(&h.app.settings.offset)
        .format("%d/%m/%Y")
        .to_string();
    assert!(text.contains(&due_text), "due date {due_text} in {text}");
    assert_eq!(qr, format!("http://127.0.0.1:8080/tra-cuu/{code}"));
}

#[actix_rt::test]
async fn guidance_and_refusal_are_counted_without_a_dossier() {
    let h = Harness::new();
    let svc = h.service().await;
    let token = login(&svc, "clerk1").await;
    let (status, pdf, ct) = call(
        &svc,
        test::TestRequest::post()
            .uri("/api/v1/intake/guidance")
            .insert_header(("authorization", format!("Bearer {token}")))
            .set_json(json!({
                "procedure_code": BIRTH,
                "applicant": {"full_name": "Lê Thị Cúc", "phone": "0987654321"},
                "items": [{"name": "Giấy chứng sinh", "reason": "Chưa có bản chính"}]
            })),
    )
    .await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF-"));
    let (status, body) = json_call(
        &svc,
        test::TestRequest::post()
            .uri("/api/v1/intake/guidance")
            .insert_header(("authorization", format!("Bearer {token}")))
            .set_json(json!({"procedure_code": BIRTH, "applicant": {"full_name": "Lê Thị Cúc"}, "items": []})),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("invalid_items"))
    );
    let (status, body) = json_call(
        &svc,
        test::TestRequest::post()
            .uri("/api/v1/intake/refusal")
            .insert_header(("authorization", format!("Bearer {token}")))
            .set_json(json!({"applicant": {"full_name": "Lê Thị Cúc"}, "reason": "  "})),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("missing_reason"))
    );
    let (status, pdf, _) = call(
        &svc,
        test::TestRequest::post()
            .uri("/api/v1/intake/refusal")
            .insert_header(("authorization", format!("Bearer {token}")))
            .set_json(json!({
                "procedure_code": BIRTH,
                "applicant": {"full_name": "Lê Thị Cúc", "id_number": "001190054321"},
                "reason": "Thủ tục không thuộc thẩm quyền giải quyết của phường"
            })),
    )
    .await;
    assert_eq!(status, 200);
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(
        h.app
            .store
            .count_intake_outcomes(COMMUNE, "guidance")
            .unwrap(),
        1
    );
    assert_eq!(
        h.app
            .store
            .count_intake_outcomes(COMMUNE, "refusal")
            .unwrap(),
        1
    );
    let counts: std::collections::HashMap<_, _> = h.counts().into_iter().collect();
    assert_eq!(counts["dossiers"], 0);
}

#[actix_rt::test]
async fn the_status_page_for_the_qr_code_is_html() {
    let h = Harness::new();
    let svc = h.service().await;
    let (status, body, ct) = call(
        &svc,
        test::TestRequest::get().uri("/tra-cuu/000.00.51.H26-261127-0001"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"));
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("000.00.51.H26-261127-0001"));
    let (_, body, _) = call(&svc, test::TestRequest::get().uri("/tra-cuu/%3Cscript%3E")).await;
    assert!(
        !String::from_utf8(body).unwrap().contains("<script>alert"),
        "codes are not echoed raw"
    );
}

#[actix_rt::test]
async fn the_generated_server_secret_is_private_and_stable() {
    use std::os::unix::fs::PermissionsExt;
    let db = common::TestDb::sqlite();
    let first = common::app_for(&db);
    let path = db.dir.path().join("secret.key");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let secret = std::fs::read_to_string(&path).unwrap();
    assert!(secret.trim().len() >= 32);
    drop(first);
    // A restart reuses it, so pins issued before still verify.
    let _again = common::app_for(&db);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), secret);
    // A process with another secret refuses to start on the same database.
    let mut config = common::config_for(&db);
    config.settings.secret = Some("x".repeat(40));
    let err = motcua::app::App::start(config, chrono::Utc::now())
        .err()
        .expect("refused");
    assert!(format!("{err:#}").contains("secret"), "{err:#}");
}

#[actix_rt::test]
async fn a_citizen_guessing_pins_on_the_page_gets_the_waiting_page() {
    let h = Harness::new();
    let svc = h.service().await;
    let token = login(&svc, "clerk1").await;
    let (_, r) = json_call(&svc, post_dossier(&token, &birth_request())).await;
    let code = r["code"].as_str().unwrap().to_string();
    let pin = r["pin"].as_str().unwrap().to_string();
    let mut browser = common::http::Browser::default();
    // The lookup form without a code in the address: the code is typed.
    let (status, html) = browser
        .page(&svc, test::TestRequest::get().uri("/tra-cuu"))
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("lang=\"vi\"") && html.contains("name=\"ma\""),
        "{html}"
    );
    let csrf = common::http::hidden(&html, "csrf");
    let post = |pin: &str| {
        test::TestRequest::post()
            .uri("/tra-cuu")
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(common::http::form(&[
                ("csrf", &csrf),
                ("ma", &code.to_lowercase()),
                ("pin", pin),
            ]))
    };
    for _ in 0..5 {
        let (status, html) = browser.page(&svc, post("AAAAAA")).await;
        assert_eq!(status, 404);
        assert!(
            html.contains("Mã hồ sơ hoặc mã tra cứu không đúng"),
            "{html}"
        );
        assert!(!html.contains("Nguyễn"), "nothing of the dossier: {html}");
    }
    let (status, html) = browser.page(&svc, post("AAAAAA")).await;
    assert_eq!(status, 429, "{html}");
    assert!(html.contains("Tạm khóa tra cứu"), "{html}");
    assert!(html.contains("href=\"/tra-cuu\""), "{html}");
    // Even the right pin waits out the lock, on the same page.
    let (status, html) = browser.page(&svc, post(&pin)).await;
    assert_eq!(status, 429);
    assert!(!html.contains("Nguyễn V. A."), "{html}");
}
