//! The foundation's HTTP API as a client sees it: health, agencies, procedures, the
//! deadline calculator, the calendar, and JSON errors.

mod common;

use actix_web::{test, web, App as ActixApp};
use serde_json::Value;

async fn get(url: &str) -> (u16, Value) {
    let db = common::TestDb::sqlite();
    let app = common::app_for(&db);
    let svc = test::init_service(
        ActixApp::new()
            .app_data(web::Data::new(app))
            .configure(motcua::http::configure),
    )
    .await;
    let res = test::call_service(&svc, test::TestRequest::get().uri(url).to_request()).await;
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = test::read_body(res).await;
    assert!(
        ct.starts_with("application/json"),
        "{url}: content-type {ct}"
    );
    (status, serde_json::from_slice(&body).unwrap())
}

fn assert_error(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"], code, "{body}");
    let message = body["message"].as_str().expect("a message");
    assert!(!message.is_empty());
}

#[actix_rt::test]
async fn healthz_reports_the_database() {
    let (status, body) = get("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "sqlite");
}

#[actix_rt::test]
async fn agencies_form_a_tree() {
    let (status, body) = get("/api/v1/agencies").await;
    assert_eq!(status, 200);
    let list = body["agencies"].as_array().unwrap();
    assert!(list.len() >= 10);
    assert_eq!(list[0]["code"], "000.00.00.H26");
    assert_eq!(list[0]["name"], "Ủy ban nhân dân thành phố Hà Nội");
    assert!(list[0]["parent"].is_null());
    // Every parent is listed before its children.
    let mut seen = std::collections::HashSet::new();
    for a in list {
        if let Some(p) = a["parent"].as_str() {
            assert!(
                seen.contains(p),
                "{} listed before its parent {p}",
                a["code"]
            );
        }
        seen.insert(a["code"].as_str().unwrap().to_string());
    }
    assert!(list.iter().any(|a| a["level"] == "commune"));
}

#[actix_rt::test]
async fn procedures_carry_their_statutory_time() {
    let (status, body) = get("/api/v1/procedures").await;
    assert_eq!(status, 200);
    let list = body["procedures"].as_array().unwrap();
    let birth = list
        .iter()
        .find(|p| p["name"] == "Đăng ký khai sinh")
        .expect("birth registration");
    assert_eq!(birth["statutory_time"]["unit"], "same_day");
    assert_eq!(birth["statutory_time"]["cutoff"], "15:00");
    assert_eq!(
        birth["statutory_time"]["text"],
        "trong ngày (nhận trước 15:00)"
    );
    assert_eq!(birth["version"], 1);
    assert!(birth["valid_from"].as_str().unwrap().ends_with("+07:00"));
    assert!(!birth["paper"].as_array().unwrap().is_empty());
    assert!(list.iter().any(|p| p["inter_agency"] == true));

    let (_, found) = get("/api/v1/procedures?q=khai%20sinh").await;
    let found = found["procedures"].as_array().unwrap();
    assert!(!found.is_empty());
    assert!(found.iter().all(|p| p["name"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("khai sinh")));

    let code = birth["code"].as_str().unwrap();
    let (status, one) = get(&format!("/api/v1/procedures/{code}")).await;
    assert_eq!(status, 200);
    assert_eq!(one["procedure"]["code"], code);
    assert_eq!(one["versions"].as_array().unwrap().len(), 1);

    let (status, body) = get("/api/v1/procedures/9.999999.000.00.00.H26").await;
    assert_error(status, &body, 404, "not_found");
}

#[actix_rt::test]
async fn due_calculator() {
    let (status, body) =
        get("/api/v1/calendar/due?from=2026-02-13T16:00:00%2B07:00&amount=3&unit=working_days")
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["due_at"], "2026-02-25T17:00:00+07:00");
    // A '+' left unencoded arrives as a space; it is understood.
    let (status, body) =
        get("/api/v1/calendar/due?from=2026-03-02T14:59:00+07:00&unit=same_day&cutoff=15:00").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["due_at"], "2026-03-02T17:00:00+07:00");
    let (_, body) =
        get("/api/v1/calendar/due?from=2026-03-02T09:30:00%2B07:00&amount=4&unit=working_hours")
            .await;
    assert_eq!(body["due_at"], "2026-03-02T14:30:00+07:00");
    let (_, body) =
        get("/api/v1/calendar/due?from=2026-03-02T03:00:00Z&amount=5&unit=calendar_days").await;
    assert_eq!(body["due_at"], "2026-03-09T17:00:00+07:00");
}

#[actix_rt::test]
async fn due_calculator_errors() {
    for (url, code) in [
        ("/api/v1/calendar/due?amount=3&unit=working_days", "missing_from"),
        ("/api/v1/calendar/due?from=yesterday&amount=3&unit=working_days", "invalid_from"),
        ("/api/v1/calendar/due?from=2026-03-02T09:00:00Z&amount=3", "missing_unit"),
        ("/api/v1/calendar/due?from=2026-03-02T09:00:00Z&amount=3&unit=weeks", "invalid_unit"),
        ("/api/v1/calendar/due?from=2026-03-02T09:00:00Z&unit=working_days", "missing_amount"),
        ("/api/v1/calendar/due?from=2026-03-02T09:00:00Z&amount=-1&unit=working_days", "invalid_amount"),
        ("/api/v1/calendar/due?from=2026-03-02T09:00:00Z&amount=0&unit=working_days", "invalid_amount"),
        ("/api/v1/calendar/due?from=2026-03-02T09:00:00Z&amount=99999&unit=working_days", "invalid_amount"),
        ("/api/v1/calendar/due?from=2026-03-02T09:00:00Z&unit=same_day", "invalid_cutoff"),
        ("/api/v1/calendar/due?from=2026-03-02T09:00:00Z&unit=same_day&cutoff=25:00", "invalid_cutoff"),
        ("/api/v1/calendar/due?from=2026-03-02T09:00:00Z&amount=2&unit=working_days&cutoff=15:00", "invalid_cutoff"),
        ("/api/v1/calendar/due?from=2199-12-30T09:00:00Z&amount=30&unit=working_days", "out_of_range"),
        // Years the calendar does not cover are out of range, not moved into it.
        ("/api/v1/calendar/due?from=0001-03-02T09:00:00Z&amount=3&unit=working_days", "out_of_range"),
        ("/api/v1/calendar/due?from=1899-12-30T09:00:00Z&amount=1&unit=working_hours", "out_of_range"),
        ("/api/v1/calendar/due?from=9999-01-04T09:00:00Z&unit=same_day&cutoff=15:00", "out_of_range"),
    ] {
        let (status, body) = get(url).await;
        assert_error(status, &body, 400, code);
    }
}

#[actix_rt::test]
async fn calendar_of_a_year() {
    let (status, body) = get("/api/v1/calendar/2026").await;
    assert_eq!(status, 200);
    assert_eq!(body["configured"], true);
    assert_eq!(
        body["working_hours"],
        serde_json::json!(["08:00-12:00", "13:00-17:00"])
    );
    let rest = body["rest_days"].as_array().unwrap();
    assert!(rest
        .iter()
        .any(|d| d["date"] == "2026-04-27" && d["kind"] == "holiday"));
    assert!(rest
        .iter()
        .any(|d| d["date"] == "2026-03-07" && d["kind"] == "weekend"));
    assert!(
        !rest.iter().any(|d| d["date"] == "2026-01-10"),
        "make-up Saturday is not a rest day"
    );
    assert!(body["working_days"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["date"] == "2026-01-10"));
    // The Quốc khánh break of the 2026 holiday plan: Monday 31/8 off, in exchange for
    // Saturday 22/8 worked.
    assert!(
        rest.iter()
            .any(|d| d["date"] == "2026-08-31" && d["kind"] == "holiday"),
        "31/8/2026 is a rest day"
    );
    assert!(
        !rest.iter().any(|d| d["date"] == "2026-08-22"),
        "the make-up Saturday 22/8/2026 is not a rest day"
    );
    assert!(body["working_days"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["date"] == "2026-08-22"));

    let (status, body) = get("/api/v1/calendar/2031").await;
    assert_eq!(status, 200);
    assert_eq!(body["configured"], false);
    assert!(!body["holidays"].as_array().unwrap().is_empty());

    let (status, body) = get("/api/v1/calendar/abc").await;
    assert_error(status, &body, 400, "invalid_year");
    let (status, body) = get("/api/v1/calendar/3000").await;
    assert_error(status, &body, 400, "invalid_year");
}

#[actix_rt::test]
async fn unknown_paths_answer_json_404() {
    let (status, body) = get("/api/v1/nothing-here").await;
    assert_error(status, &body, 404, "not_found");
}

/// A handler that panics answers `500 internal_error` with its request id, and the worker
/// lives on to answer the next request (a panic used to take the worker down, and the
/// connections it held: the fuzzer found one).
#[actix_rt::test]
async fn a_panicking_handler_answers_500_and_the_worker_lives_on() {
    let svc = test::init_service(
        ActixApp::new()
            .wrap(actix_web::middleware::from_fn(motcua::http::log_requests))
            .route(
                "/boom",
                web::get().to(|| async {
                    if std::hint::black_box(true) {
                        panic!("a handler's bug");
                    }
                    "never"
                }),
            )
            .route("/ok", web::get().to(|| async { "ok" })),
    )
    .await;
    for _ in 0..2 {
        // The error is answered by the server's dispatcher, as with any middleware's.
        let error =
            test::try_call_service(&svc, test::TestRequest::get().uri("/boom").to_request())
                .await
                .err()
                .expect("an error, answered as a 500");
        let res = error.error_response();
        assert_eq!(res.status().as_u16(), 500);
        assert!(res.headers().get("x-request-id").is_some());
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "internal_error", "{body}");
    }
    let res = test::call_service(&svc, test::TestRequest::get().uri("/ok").to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
}
