//! Guessing passwords and pins (issue #13, item 6), to the second with a manual clock:
//! a guesser cannot lock the rightful user out; it gets an exponential delay from its own
//! address; an address that guesses at many accounts or codes waits out its window; a
//! code guessed at from many addresses delays every failing address but not the owner;
//! every 429 says when to come back (`Retry-After`).

mod common;

use actix_web::test;
use chrono::Duration;
use common::http::{self, PASSWORD};
use motcua::service::Role;
use serde_json::{json, Value};

const COMMUNE: &str = "000.00.51.H26";

/// A request from `address`; the status, the JSON body and `Retry-After`.
async fn from<S>(svc: &S, req: test::TestRequest, address: &str) -> (u16, Value, Option<u32>)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    let res = test::call_service(
        svc,
        req.peer_addr(format!("{address}:40000").parse().unwrap())
            .to_request(),
    )
    .await;
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().expect("Retry-After in seconds"));
    let body = serde_json::from_slice(&test::read_body(res).await).unwrap_or(Value::Null);
    (status, body, retry)
}

fn login(username: &str, password: &str) -> test::TestRequest {
    test::TestRequest::post()
        .uri("/api/v1/auth/login")
        .set_json(json!({ "username": username, "password": password }))
}

fn lookup(code: &str, pin: &str) -> test::TestRequest {
    test::TestRequest::get().uri(&format!("/api/v1/public/dossiers/{code}?pin={pin}"))
}

const GUESSER: &str = "203.0.113.9";
const OWNER: &str = "198.51.100.20";

#[actix_rt::test]
async fn a_password_guesser_is_delayed_and_the_owner_is_never_locked_out() {
    let db = common::TestDb::sqlite();
    let app = common::app_at(&db, common::local("2026-12-01T09:00"));
    http::users(&app, &[("clerk1", Role::Clerk, COMMUNE)]);
    let svc = http::service(&app).await;
    let wrong = "sai-mat-khau-roi";

    // Five wrong passwords from one address: each answered 401.
    for i in 1..=5 {
        let (status, body, retry) = from(&svc, login("clerk1", wrong), GUESSER).await;
        assert_eq!((status, retry), (401, None), "try {i}: {body}");
    }
    // Then the guesser waits 1 s, 2 s, 4 s, 8 s… after each failure: 429 with
    // Retry-After, the password not even checked.
    for (round, delay) in [1u32, 2, 4, 8, 16].into_iter().enumerate() {
        let (status, body, retry) = from(&svc, login("clerk1", PASSWORD), GUESSER).await;
        assert_eq!(
            (status, body["error"].as_str(), retry),
            (429, Some("too_many_attempts"), Some(delay)),
            "round {round}: {body}"
        );
        // The owner, from another address, with the right password: heard at once.
        let (status, body, _) = from(&svc, login("clerk1", PASSWORD), OWNER).await;
        assert_eq!(
            status, 200,
            "round {round}: the owner is locked out: {body}"
        );
        // A second short of the delay: still waiting.
        app.clock
            .advance(Duration::seconds(i64::from(delay)) - Duration::milliseconds(1));
        let (status, _, retry) = from(&svc, login("clerk1", wrong), GUESSER).await;
        assert_eq!((status, retry), (429, Some(1)), "round {round}");
        app.clock.advance(Duration::milliseconds(1));
        let (status, _, retry) = from(&svc, login("clerk1", wrong), GUESSER).await;
        assert_eq!((status, retry), (401, None), "round {round}");
    }
    // The delays never run past the window (15 minutes from the first failure); then the
    // tally starts again: 5 tries, then 1 s.
    let end = common::local("2026-12-01T09:15");
    while app.clock.now() < end {
        let (status, body, retry) = from(&svc, login("clerk1", wrong), GUESSER).await;
        match (status, retry) {
            (401, None) => {}
            (429, Some(wait)) => {
                let until = app.clock.now() + Duration::seconds(i64::from(wait));
                assert!(
                    until <= end + Duration::seconds(1),
                    "{wait} s: past the window"
                );
                app.clock.advance(Duration::seconds(i64::from(wait)));
            }
            other => panic!("{other:?}: {body}"),
        }
    }
    for i in 1..=5 {
        let (status, _, retry) = from(&svc, login("clerk1", wrong), GUESSER).await;
        assert_eq!((status, retry), (401, None), "new window, try {i}");
    }
    let (status, _, retry) = from(&svc, login("clerk1", PASSWORD), GUESSER).await;
    assert_eq!((status, retry), (429, Some(1)));
    app.clock.advance(Duration::seconds(1));
    // The right password from the guessing address, once the delay is over, logs in and
    // clears that address's tally for the account: the next mistake costs nothing.
    let (status, body, _) = from(&svc, login("clerk1", PASSWORD), GUESSER).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, retry) = from(&svc, login("clerk1", wrong), GUESSER).await;
    assert_eq!((status, retry), (401, None));
    let (status, _, _) = from(&svc, login("clerk1", PASSWORD), GUESSER).await;
    assert_eq!(status, 200);
}

#[actix_rt::test]
async fn an_address_guessing_at_many_accounts_waits_out_its_window() {
    let db = common::TestDb::sqlite();
    let app = common::app_at(&db, common::local("2026-12-01T09:00"));
    http::users(&app, &[("clerk1", Role::Clerk, COMMUNE)]);
    let svc = http::service(&app).await;
    for i in 0..20 {
        let (status, _, _) = from(
            &svc,
            login(&format!("user{i}"), "sai-mat-khau-roi"),
            GUESSER,
        )
        .await;
        assert_eq!(status, 401, "try {i}");
        app.clock.advance(Duration::seconds(10));
    }
    // 20 failures in 200 s: closed until the window that began at the first one ends.
    let (status, body, retry) = from(&svc, login("clerk1", PASSWORD), GUESSER).await;
    assert_eq!(
        (status, body["error"].as_str(), retry),
        (429, Some("too_many_attempts"), Some(15 * 60 - 200)),
        "{body}"
    );
    // Others are not concerned.
    let (status, _, _) = from(&svc, login("clerk1", PASSWORD), OWNER).await;
    assert_eq!(status, 200);
    app.clock.advance(Duration::seconds(15 * 60 - 200));
    let (status, _, _) = from(&svc, login("clerk1", PASSWORD), GUESSER).await;
    assert_eq!(status, 200);
}

#[actix_rt::test]
async fn pins_are_throttled_like_passwords_and_the_applicant_is_never_locked_out() {
    let db = common::TestDb::sqlite();
    let app = common::app_at(&db, common::local("2026-12-01T09:00"));
    http::users(&app, &[("clerk1", Role::Clerk, COMMUNE)]);
    let svc = http::service(&app).await;
    let token = http::login(&svc, "clerk1").await;
    let (status, created) = http::send(
        &svc,
        http::post(
            &token,
            "/api/v1/dossiers",
            json!({
                "procedure_code": "1.001193.000.00.00.H26",
                "channel": "counter",
                "applicant": { "full_name": "Nguyễn Văn An", "id_number": "001090012345" },
                "papers": [
                    { "name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original" },
                    { "name": "Giấy chứng sinh", "kind": "original" }
                ]
            }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let code = created["code"].as_str().unwrap();
    let pin = created["pin"].as_str().unwrap();

    // One address guesses: 5 free, then 1 s, 2 s…; the applicant is heard at once.
    for _ in 0..5 {
        let (status, _, _) = from(&svc, lookup(code, "AAAAAA"), GUESSER).await;
        assert_eq!(status, 404);
    }
    let (status, _, retry) = from(&svc, lookup(code, pin), GUESSER).await;
    assert_eq!((status, retry), (429, Some(1)));
    let (status, body, _) = from(&svc, lookup(code, pin), OWNER).await;
    assert_eq!(status, 200, "the applicant is locked out: {body}");

    // Guessing from many addresses, one try each: beyond 50 failures on the code, every
    // address that failed on it is delayed (2 s after its one failure)…
    for i in 0..50 {
        let (status, _, _) = from(&svc, lookup(code, "BBBBBB"), &format!("10.1.0.{i}")).await;
        assert_eq!(status, 404, "address {i}");
    }
    let (status, _, retry) = from(&svc, lookup(code, "CCCCCC"), "10.1.0.7").await;
    assert_eq!((status, retry), (429, Some(2)));
    // …while an address that has not failed — the applicant with the receipt — is not.
    let (status, body, _) = from(&svc, lookup(code, pin), "192.0.2.77").await;
    assert_eq!(status, 200, "{body}");
    // A failing address waits its turn and is heard again.
    app.clock.advance(Duration::seconds(2));
    let (status, _, _) = from(&svc, lookup(code, pin), "10.1.0.7").await;
    assert_eq!(status, 200);
}

/// The sealer forgets the tallies whose window has passed (issue #18's note: the table
/// grew with every guess ever made); a live one stays and still counts.
#[actix_rt::test]
async fn tallies_past_their_window_are_pruned_by_the_sealer() {
    let db = common::TestDb::sqlite();
    let app = common::app_at(&db, common::local("2026-12-01T09:00"));
    http::users(&app, &[("clerk1", Role::Clerk, COMMUNE)]);
    let svc = http::service(&app).await;
    let (status, _, _) = from(&svc, login("clerk1", "sai-mat-khau-roi"), GUESSER).await;
    assert_eq!(status, 401);
    let count = |app: &motcua::app::App| {
        app.store
            .tallies(
                &[("login_address", GUESSER)],
                motcua::store::to_db(app.clock.now()),
                Duration::days(365),
            )
            .unwrap()
            .into_iter()
            .flatten()
            .count()
    };
    assert_eq!(count(&app), 1, "the failure is counted");
    // Within the window: kept.
    app.clock.advance(Duration::minutes(10));
    assert_eq!(app.seal(app.clock.now()).unwrap().tallies_pruned, 0);
    assert_eq!(count(&app), 1);
    // Past every window (15 minutes by default): forgotten.
    app.clock.advance(Duration::hours(24));
    assert!(app.seal(app.clock.now()).unwrap().tallies_pruned >= 1);
    assert_eq!(count(&app), 0);
}
