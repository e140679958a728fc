//! Processing events over HTTP: the happy path of a same-day dossier with a supplement,
//! a hand-over between agencies, and each forbidden transition or actor.

mod common;

use std::sync::Arc;

use actix_http::Request;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::{test, web, App as ActixApp};
use motcua::app::App;
use motcua::service::accounts::{cli_actor, NewUser};
use motcua::service::Role;
use serde_json::{json, Value};

const COMMUNE: &str = "000.00.51.H26";
const OTHER: &str = "000.00.52.H26";
const BIRTH: &str = "1.001193.000.00.00.H26";
const PASSWORD: &str = "mat-khau-du-dai";

/// The application on a manual clock showing Monday 02/11/2026 09:00, before the
/// same-day cut-off: due moments and urgencies do not depend on when the tests run.
fn app() -> (Arc<App>, common::TestDb) {
    let db = common::TestDb::sqlite();
    let app = common::app_at(&db, common::local("2026-11-02T08:00"));
    app.clock.set(common::local("2026-11-02T09:00"));
    for (username, role, agency) in [
        ("clerk1", Role::Clerk, COMMUNE),
        ("official1", Role::Official, COMMUNE),
        ("leader1", Role::Leader, COMMUNE),
        ("official2", Role::Official, OTHER),
        ("leader2", Role::Leader, OTHER),
    ] {
        app.create_user(
            &NewUser {
                username,
                full_name: "Phạm Thu Hà",
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
    (app, db)
}

async fn svc(
    app: &Arc<App>,
) -> impl Service<Request, Response = ServiceResponse, Error = actix_web::Error> {
    test::init_service(
        ActixApp::new()
            .app_data(web::Data::new(app.clone()))
            .configure(motcua::http::configure),
    )
    .await
}

async fn send<S>(svc: &S, req: test::TestRequest) -> (u16, Value)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let res = test::call_service(svc, req.to_request()).await;
    let status = res.status().as_u16();
    (
        status,
        serde_json::from_slice(&test::read_body(res).await).unwrap_or(Value::Null),
    )
}

async fn token<S>(svc: &S, user: &str) -> String
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let (_, b) = send(
        svc,
        test::TestRequest::post()
            .uri("/api/v1/auth/login")
            .set_json(json!({"username": user, "password": PASSWORD})),
    )
    .await;
    b["access_token"].as_str().unwrap().to_string()
}

async fn receive<S>(svc: &S, clerk: &str) -> String
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let (status, b) = send(
        svc,
        test::TestRequest::post()
            .uri("/api/v1/dossiers")
            .insert_header(("authorization", format!("Bearer {clerk}")))
            .set_json(json!({
                "procedure_code": BIRTH, "channel": "counter",
                "applicant": {"full_name": "Đỗ Minh Khoa", "id_number": "001095006789"},
                "papers": [
                    {"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                    {"name": "Giấy chứng sinh", "kind": "original"}
                ]
            })),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    b["code"].as_str().unwrap().to_string()
}

async fn event<S>(svc: &S, who: &str, code: &str, body: Value) -> (u16, Value)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    send(
        svc,
        test::TestRequest::post()
            .uri(&format!("/api/v1/dossiers/{code}/events"))
            .insert_header(("authorization", format!("Bearer {who}")))
            .set_json(body),
    )
    .await
}

fn supplement() -> Value {
    json!({"type": "request_supplement", "items": ["Giấy chứng sinh bản chính"], "reason": "Bản nộp bị mờ"})
}

#[actix_rt::test]
async fn supplement_decision_and_return_fix_the_outcome_once() {
    let (app, _db) = app();
    let s = svc(&app).await;
    let (clerk, official, leader) = (
        token(&s, "clerk1").await,
        token(&s, "official1").await,
        token(&s, "leader1").await,
    );
    let code = receive(&s, &clerk).await;

    let (status, b) = event(&s, &official, &code, supplement()).await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(b["dossier"]["status"], "supplement_requested");
    // Once only under NĐ 118/2025.
    let (status, b) = event(&s, &clerk, &code, json!({"type": "supplement_received"})).await;
    assert_eq!(status, 201, "{b}");
    let (status, b) = event(&s, &official, &code, supplement()).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (409, Some("supplement_limit")),
        "{b}"
    );

    // A clerk cannot decide; a leader can.
    let (status, b) = event(
        &s,
        &clerk,
        &code,
        json!({"type": "decide", "outcome": "approved", "approved": true}),
    )
    .await;
    assert_eq!(status, 400, "an unknown field is refused: {b}");
    let (status, b) = event(
        &s,
        &clerk,
        &code,
        json!({"type": "decide", "outcome": "approved"}),
    )
    .await;
    assert_eq!((status, b["error"].as_str()), (403, Some("forbidden")));
    let (status, _) = event(
        &s,
        &leader,
        &code,
        json!({"type": "decide", "outcome": "approved"}),
    )
    .await;
    assert_eq!(status, 201);

    let (status, b) = event(
        &s,
        &clerk,
        &code,
        json!({"type": "return", "channel": "counter"}),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(b["dossier"]["status"], "returned");
    let outcome = b["dossier"]["outcome"].as_str().unwrap().to_string();
    assert!(["early", "on_time", "late"].contains(&outcome.as_str()));
    assert!(b["dossier"]["finished_at"].is_string());
    // A second return is refused and the outcome stays.
    let (status, b) = event(
        &s,
        &clerk,
        &code,
        json!({"type": "return", "channel": "post"}),
    )
    .await;
    assert_eq!((status, b["error"].as_str()), (409, Some("invalid_state")));
    let (_, d) = send(
        &s,
        test::TestRequest::get()
            .uri(&format!("/api/v1/dossiers/{code}"))
            .insert_header(("authorization", format!("Bearer {clerk}"))),
    )
    .await;
    assert_eq!(d["outcome"], outcome);
    let kinds: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "receive",
            "request_supplement",
            "supplement_received",
            "decide",
            "return"
        ]
    );
    assert!(app
        .store
        .verify_audit_chain(&app.keys.audit)
        .unwrap()
        .problems
        .is_empty());
}

#[actix_rt::test]
async fn a_hand_over_moves_the_dossier_when_accepted() {
    let (app, _db) = app();
    let s = svc(&app).await;
    let (clerk, official2, leader2) = (
        token(&s, "clerk1").await,
        token(&s, "official2").await,
        token(&s, "leader2").await,
    );
    let code = receive(&s, &clerk).await;
    // Before the hand-over the other commune does not see the dossier at all.
    let (status, _) = event(
        &s,
        &leader2,
        &code,
        json!({"type": "decide", "outcome": "approved"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, b) = event(
        &s,
        &clerk,
        &code,
        json!({"type": "handover", "to_agency": OTHER, "electronic": true}),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(b["dossier"]["pending_handover"], OTHER);
    let (status, b) = event(&s, &official2, &code, json!({"type": "accept"})).await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(b["dossier"]["current_agency"]["code"], OTHER);
    assert_eq!(b["dossier"]["status"], "in_progress");
    // Now the counter is no longer the holder: it cannot decide or pause.
    let (status, b) = event(
        &s,
        &clerk,
        &code,
        json!({"type": "stop", "reason": "Xin rút"}),
    )
    .await;
    assert_eq!((status, b["error"].as_str()), (403, Some("forbidden")));
    let (status, _) = event(
        &s,
        &leader2,
        &code,
        json!({"type": "decide", "outcome": "refused", "reason": "Không đủ điều kiện"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, b) = event(
        &s,
        &leader2,
        &code,
        json!({"type": "handover", "to_agency": "999.99.99.H99", "electronic": false}),
    )
    .await;
    assert_eq!((status, b["error"].as_str()), (422, Some("unknown_agency")));
}

#[actix_rt::test]
async fn nothing_happens_to_a_stopped_dossier_and_late_delays_are_refused() {
    let (app, _db) = app();
    let s = svc(&app).await;
    let (clerk, official, leader) = (
        token(&s, "clerk1").await,
        token(&s, "official1").await,
        token(&s, "leader1").await,
    );
    let code = receive(&s, &clerk).await;
    // A same-day dossier is never a working day away from its due moment.
    let (status, b) = event(
        &s,
        &official,
        &code,
        json!({"type": "delay", "reason": "Chờ xác minh", "new_due_at": "2099-01-05T17:00:00+07:00"}),
    )
    .await;
    assert_eq!(
        (status, b["error"].as_str()),
        (409, Some("delay_too_late")),
        "{b}"
    );
    let (status, _) = event(
        &s,
        &clerk,
        &code,
        json!({"type": "stop", "reason": "Người nộp xin rút hồ sơ"}),
    )
    .await;
    assert_eq!(status, 201);
    for (who, body) in [
        (&leader, json!({"type": "decide", "outcome": "approved"})),
        (&official, supplement()),
        (&clerk, json!({"type": "stop", "reason": "lần nữa"})),
    ] {
        let (status, b) = event(&s, who, &code, body).await;
        assert_eq!(
            (status, b["error"].as_str()),
            (409, Some("dossier_stopped")),
            "{b}"
        );
    }
}

#[actix_rt::test]
async fn queues_show_what_waits_at_the_agency_soonest_due_first() {
    let (app, _db) = app();
    let s = svc(&app).await;
    let (clerk, official2) = (token(&s, "clerk1").await, token(&s, "official2").await);
    let first = receive(&s, &clerk).await;
    let second = receive(&s, &clerk).await;
    let queue = |who: &str, q: &str| {
        test::TestRequest::get()
            .uri(&format!("/api/v1/queue?{q}"))
            .insert_header(("authorization", format!("Bearer {who}")))
    };
    let (status, b) = send(&s, queue(&clerk, "")).await;
    assert_eq!(status, 200, "{b}");
    let items = b["queue"].as_array().unwrap();
    let codes: Vec<&str> = items.iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(codes, [first.as_str(), second.as_str()]);
    for i in items {
        assert!(["ok", "due_soon", "overdue"].contains(&i["urgency"].as_str().unwrap()));
        assert!(i["remaining_working_minutes"].is_i64());
    }
    // Same-day dossiers have at most one working day left, or are already late.
    assert_ne!(items[0]["urgency"], "ok");
    // The other commune has nothing until a dossier is handed to it.
    let (_, b) = send(&s, queue(&official2, "")).await;
    assert!(b["queue"].as_array().unwrap().is_empty());
    event(
        &s,
        &clerk,
        &first,
        json!({"type": "handover", "to_agency": OTHER, "electronic": true}),
    )
    .await;
    let (_, b) = send(&s, queue(&official2, "")).await;
    assert_eq!(b["queue"][0]["code"], first);
    assert_eq!(b["queue"][0]["pending_handover"], OTHER);
    let (status, b) = send(&s, queue(&clerk, "status=lost")).await;
    assert_eq!((status, b["error"].as_str()), (400, Some("invalid_status")));
}

#[actix_rt::test]
async fn event_text_is_bounded_and_normalised() {
    let (app, _db) = app();
    let s = svc(&app).await;
    let (clerk, official) = (token(&s, "clerk1").await, token(&s, "official1").await);
    let code = receive(&s, &clerk).await;
    let (status, b) = event(
        &s,
        &official,
        &code,
        json!({"type": "pause", "reason": "x".repeat(2001), "legal_basis": "Điều 12"}),
    )
    .await;
    assert_eq!((status, b["error"].as_str()), (422, Some("text_too_long")));
    let (status, b) = event(
        &s,
        &official,
        &code,
        json!({"type": "pause", "reason": "  Chờ  nộp thue\u{0302}\u{0301} ", "legal_basis": "Luật Đất đai 2024"}),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    let (_, d) = send(
        &s,
        test::TestRequest::get()
            .uri(&format!("/api/v1/dossiers/{code}"))
            .insert_header(("authorization", format!("Bearer {clerk}"))),
    )
    .await;
    assert_eq!(d["events"][1]["data"]["reason"], "Chờ nộp thuế");
}

#[actix_rt::test]
async fn a_dry_run_answers_as_the_event_would_and_writes_nothing() {
    let (app, _db) = app();
    let svc = svc(&app).await;
    let clerk = token(&svc, "clerk1").await;
    let official = token(&svc, "official1").await;
    let code = receive(&svc, &clerk).await;
    let audit_before = app.store.verify_audit_chain(&app.keys.audit).unwrap();
    let events_before = app.store.find_dossier(&code).unwrap().unwrap();
    let dry = |who: &str, body: Value| {
        test::TestRequest::post()
            .uri(&format!("/api/v1/dossiers/{code}/events?dry_run=true"))
            .insert_header(("authorization", format!("Bearer {who}")))
            .set_json(body)
    };
    // Accepted: 200, the dossier as it would be, marked; nothing stored.
    let (status, preview) = send(&svc, dry(&official, supplement())).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["dry_run"], true);
    assert_eq!(preview["dossier"]["status"], "supplement_requested");
    assert!(
        preview.get("form_url").is_none(),
        "no form for what did not happen"
    );
    let after = app.store.find_dossier(&code).unwrap().unwrap();
    assert_eq!(after.0.status, "received");
    assert_eq!(after.2.len(), events_before.2.len());
    let audit_after = app.store.verify_audit_chain(&app.keys.audit).unwrap();
    assert_eq!(audit_after.records, audit_before.records, "no audit record");
    // Refused: the same answer as the real event.
    let (dry_status, dry_refusal) = send(&svc, dry(&clerk, json!({"type": "resume"}))).await;
    let (status, refusal) = event(&svc, &clerk, &code, json!({"type": "resume"})).await;
    assert_eq!((dry_status, &dry_refusal), (status, &refusal));
    assert!(status >= 400, "{refusal}");
    // The real event does what the preview said.
    let (status, real) = event(&svc, &official, &code, supplement()).await;
    assert_eq!(status, 201, "{real}");
    assert_eq!(real["dossier"]["status"], preview["dossier"]["status"]);
    assert_eq!(real["dossier"]["due_at"], preview["dossier"]["due_at"]);
    assert_eq!(real["seq"], preview["seq"]);
    // An unknown query parameter is refused, not ignored.
    let (status, _) = send(
        &svc,
        test::TestRequest::post()
            .uri(&format!("/api/v1/dossiers/{code}/events?dryrun=1"))
            .insert_header(("authorization", format!("Bearer {official}")))
            .set_json(json!({"type": "resume"})),
    )
    .await;
    assert_eq!(status, 400);
}
