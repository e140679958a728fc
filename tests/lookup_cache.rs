//! The public lookup's cache (issue #18, part 3): a right lookup of a dossier looked up
//! lately is answered from memory, and yet every change shows in the next lookup (at
//! once in the same process; within a few milliseconds from another process on the same
//! PostgreSQL database), and the guessing limits hold as without it: a blocked address
//! gets 429 even with the right pin of a cached dossier.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::test;
use common::http;
use motcua::app::App;
use motcua::service::Role;
use serde_json::{json, Value};

const COMMUNE: &str = "000.00.51.H26";
const OWNER: &str = "198.51.100.20";
const GUESSER: &str = "203.0.113.9";

async fn from<S>(svc: &S, req: test::TestRequest, address: &str) -> (u16, Value)
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
    (
        status,
        serde_json::from_slice(&test::read_body(res).await).unwrap_or(Value::Null),
    )
}

fn lookup(code: &str, pin: &str) -> test::TestRequest {
    test::TestRequest::get().uri(&format!("/api/v1/public/dossiers/{code}?pin={pin}"))
}

/// A dossier received at the counter by `clerk1`: its code and pin.
async fn receive<S>(svc: &S, token: &str) -> (String, String)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    let (status, created) = http::send(
        svc,
        http::post(
            token,
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
    (
        created["code"].as_str().unwrap().to_string(),
        created["pin"].as_str().unwrap().to_string(),
    )
}

fn app(db: &common::TestDb) -> Arc<App> {
    let app = common::app_at(db, common::local("2026-12-01T09:00"));
    http::users(&app, &[("clerk1", Role::Clerk, COMMUNE)]);
    app
}

/// Lookup, a change, lookup again: the change shows at once, however often the dossier
/// was looked up before; the public page shows it too.
async fn a_change_shows_in_the_next_lookup(db: common::TestDb) {
    let app = app(&db);
    let svc = http::service(&app).await;
    let token = http::login(&svc, "clerk1").await;
    let (code, pin) = receive(&svc, &token).await;
    let proof = motcua::service::lookup::Proof::Pin(pin.clone());
    // Looked up until it is served from memory (on PostgreSQL, once the listener is
    // connected).
    assert!(
        within_2s(async || {
            let (status, d) = from(&svc, lookup(&code, &pin), OWNER).await;
            assert_eq!(
                (status, d["status"].as_str()),
                (200, Some("received")),
                "{d}"
            );
            app.lookup_cached(&code, &proof, OWNER, app.clock.now())
                .is_some()
        })
        .await,
        "never served from the cache"
    );
    let (status, b) = http::event(
        &svc,
        &token,
        &code,
        json!({"type": "stop", "reason": "Người nộp xin rút hồ sơ"}),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    let (status, d) = from(&svc, lookup(&code, &pin), OWNER).await;
    assert_eq!(status, 200, "{d}");
    assert_ne!(d["status"], "received", "a stale view: {d}");
    assert_eq!(d["history"].as_array().unwrap().len(), 2, "{d}");
    // The service's own view agrees, and a wrong pin is still the one 404.
    let own = app.lookup(&code, &proof, OWNER, app.clock.now()).unwrap();
    assert_eq!(own.status, d["status"].as_str().unwrap());
    let (status, wrong) = from(&svc, lookup(&code, "AAAAAA"), OWNER).await;
    let (status2, unknown) = from(&svc, lookup("000.00.51.H26-261201-9999", "AAAAAA"), OWNER).await;
    assert_eq!((status, &wrong), (status2, &unknown));
    assert_eq!(status, 404);
}

#[actix_rt::test]
async fn a_change_shows_in_the_next_lookup_on_sqlite() {
    a_change_shows_in_the_next_lookup(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn a_change_shows_in_the_next_lookup_on_postgres() {
    a_change_shows_in_the_next_lookup(common::TestDb::postgres()).await;
}

/// A cached dossier, then an address that fails 20 times (on other codes): even the
/// right pin of the cached dossier gets 429 from it, and so does a pair that failed 5
/// times; the owner's address is still answered.
async fn a_blocked_address_gets_429_even_for_a_cached_dossier(db: common::TestDb) {
    let app = app(&db);
    let svc = http::service(&app).await;
    let token = http::login(&svc, "clerk1").await;
    let (code, pin) = receive(&svc, &token).await;
    let (code2, pin2) = receive(&svc, &token).await;
    for (c, p) in [(&code, &pin), (&code2, &pin2)] {
        for address in [OWNER, GUESSER, "192.0.2.5"] {
            let (status, d) = from(&svc, lookup(c, p), address).await;
            assert_eq!(status, 200, "{d}");
        }
    }
    // Five wrong pins on `code` from 192.0.2.5: the pair waits, with the right pin too.
    for _ in 0..5 {
        let (status, _) = from(&svc, lookup(&code, "AAAAAA"), "192.0.2.5").await;
        assert_eq!(status, 404);
    }
    let (status, b) = from(&svc, lookup(&code, &pin), "192.0.2.5").await;
    assert_eq!(
        (status, b["error"].as_str()),
        (429, Some("too_many_attempts"))
    );
    // Twenty failures from GUESSER on codes that do not exist: the address is closed.
    for i in 0..20 {
        let (status, _) = from(
            &svc,
            lookup(&format!("000.00.51.H26-261201-{:04}", 9000 + i), "AAAAAA"),
            GUESSER,
        )
        .await;
        assert_eq!(status, 404, "failure {i}");
    }
    for (c, p) in [(&code, &pin), (&code2, &pin2)] {
        let (status, b) = from(&svc, lookup(c, p), GUESSER).await;
        assert_eq!(
            (status, b["error"].as_str()),
            (429, Some("too_many_attempts")),
            "{b}"
        );
    }
    // The owner is heard.
    let (status, _) = from(&svc, lookup(&code, &pin), OWNER).await;
    assert_eq!(status, 200);
}

#[actix_rt::test]
async fn a_blocked_address_gets_429_even_for_a_cached_dossier_on_sqlite() {
    a_blocked_address_gets_429_even_for_a_cached_dossier(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn a_blocked_address_gets_429_even_for_a_cached_dossier_on_postgres() {
    a_blocked_address_gets_429_even_for_a_cached_dossier(common::TestDb::postgres()).await;
}

/// Failures recorded before the process started (a restart, or another process before
/// this one listened) count too: the live tallies are read at start.
async fn failures_from_before_the_start_count(db: common::TestDb) {
    let (code, pin) = {
        let app = app(&db);
        let svc = http::service(&app).await;
        let token = http::login(&svc, "clerk1").await;
        let (code, pin) = receive(&svc, &token).await;
        for i in 0..20 {
            let (status, _) = from(
                &svc,
                lookup(&format!("000.00.51.H26-261201-{:04}", 9000 + i), "AAAAAA"),
                GUESSER,
            )
            .await;
            assert_eq!(status, 404);
        }
        (code, pin)
    };
    // A new process on the same database, its clock 5 minutes on.
    let app = common::app_at(&db, common::local("2026-12-01T09:05"));
    let svc = http::service(&app).await;
    for _ in 0..2 {
        let (status, d) = from(&svc, lookup(&code, &pin), OWNER).await;
        assert_eq!(status, 200, "{d}");
    }
    let (status, b) = from(&svc, lookup(&code, &pin), GUESSER).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (429, Some("too_many_attempts"))
    );
    // The window over: heard again.
    app.clock.set(common::local("2026-12-01T09:16"));
    let (status, _) = from(&svc, lookup(&code, &pin), GUESSER).await;
    assert_eq!(status, 200);
}

#[actix_rt::test]
async fn failures_from_before_the_start_count_on_sqlite() {
    failures_from_before_the_start_count(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn failures_from_before_the_start_count_on_postgres() {
    failures_from_before_the_start_count(common::TestDb::postgres()).await;
}

/// Polls `f` every 5 ms for at most 2 s; true as soon as it holds.
async fn within_2s(mut f: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if f().await {
            return true;
        }
        actix_rt::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

/// Two processes on one PostgreSQL database: A caches a dossier, B changes it; A's next
/// lookups show the change within a short bounded wait (LISTEN/NOTIFY). B's failures
/// close an address in A too. And when A's listener loses its connection, A serves
/// nothing from its cache until it is back, then forgets what it held.
#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn another_process_s_changes_reach_the_cache() {
    let db = common::TestDb::postgres();
    let a = app(&db);
    let b = common::app_at(&db, common::local("2026-12-01T09:00"));
    let sa = http::service(&a).await;
    let sb = http::service(&b).await;
    let token = http::login(&sb, "clerk1").await;
    let (code, pin) = receive(&sb, &token).await;
    // A caches the dossier (its listener connected first).
    assert!(
        within_2s(async || {
            let (status, d) = from(&sa, lookup(&code, &pin), OWNER).await;
            assert_eq!(status, 200, "{d}");
            a.lookup_cached(
                &code,
                &motcua::service::lookup::Proof::Pin(pin.clone()),
                OWNER,
                a.clock.now(),
            )
            .is_some()
        })
        .await,
        "A never served from its cache"
    );
    // B records an event; A shows it within the wait.
    let (status, e) = http::event(
        &sb,
        &token,
        &code,
        json!({"type": "stop", "reason": "Người nộp xin rút hồ sơ"}),
    )
    .await;
    assert_eq!(status, 201, "{e}");
    let started = Instant::now();
    assert!(
        within_2s(async || {
            let (status, d) = from(&sa, lookup(&code, &pin), OWNER).await;
            assert_eq!(status, 200);
            d["status"] != "received"
        })
        .await,
        "A still shows the dossier as before B's change"
    );
    eprintln!("B's change seen by A after {:?}", started.elapsed());
    // Twenty failures from GUESSER in B: A closes the address too.
    let (status, d) = from(&sa, lookup(&code, &pin), GUESSER).await;
    assert_eq!(status, 200, "{d}");
    for i in 0..20 {
        let (status, _) = from(
            &sb,
            lookup(&format!("000.00.51.H26-261201-{:04}", 9000 + i), "AAAAAA"),
            GUESSER,
        )
        .await;
        assert_eq!(status, 404);
    }
    assert!(
        within_2s(async || from(&sa, lookup(&code, &pin), GUESSER).await.0 == 429).await,
        "A still lets a closed address through"
    );
    // A's listener loses its connection: nothing served from the cache until it is back.
    let (status, _) = from(&sa, lookup(&code, &pin), OWNER).await;
    assert_eq!(status, 200);
    {
        use diesel::{Connection, RunQueryDsl};
        let mut c = diesel::PgConnection::establish(&db.url).unwrap();
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'motcua-listen'",
        )
        .execute(&mut c)
        .unwrap();
    }
    // Within its next poll (a few ms) the listener sees it is gone and, once connected
    // again, serves afresh: the next lookups are right in any case.
    assert!(
        within_2s(async || {
            let (status, d) = from(&sa, lookup(&code, &pin), OWNER).await;
            assert_eq!(status, 200);
            assert_ne!(d["status"], "received");
            a.lookup_cached(
                &code,
                &motcua::service::lookup::Proof::Pin(pin.clone()),
                OWNER,
                a.clock.now(),
            )
            .is_some()
        })
        .await,
        "A's cache never came back after its listener reconnected"
    );
}
