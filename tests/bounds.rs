//! Bounds on what callers may ask, found by an outside probe: a re-appointment no further
//! than the statutory time once more, search text that is bounded and matched literally,
//! a portal intake repeated with the same `Idempotency-Key`, and a portal's list of every
//! dossier it submitted, to whichever counter. On both backends.

mod common;

use common::http::{event, get, login, portal_token, post, send, service, users};
use common::local;
use motcua::service::Role;
use serde_json::{json, Value};

const CITY: &str = "000.00.00.H26";
const A: &str = "000.00.51.H26";
const B: &str = "000.00.52.H26";
/// Đăng ký thành lập hộ kinh doanh: 3 working days.
const HOUSEHOLD: &str = "1.001612.000.00.00.H26";

fn household(name: &str, channel: &str) -> Value {
    json!({"procedure_code": HOUSEHOLD, "channel": channel,
           "applicant": {"full_name": name, "id_number": "001190033333"},
           "papers": [{"name": "Giấy đề nghị đăng ký hộ kinh doanh theo mẫu", "kind": "original"}]})
}

async fn bounds(db: common::TestDb) {
    let app = common::app_at(&db, local("2026-11-02T07:00"));
    users(
        &app,
        &[
            ("clerk.a", Role::Clerk, A),
            ("official.a", Role::Official, A),
            ("portal.dvc", Role::Portal, CITY),
        ],
    );
    let svc = service(&app).await;

    // A re-appointment: after the due moment, and by at most the statutory time once
    // more. Received Mon 02/11 09:00, 3 working days: due Thu 05/11 17:00; at most
    // Tue 10/11 17:00.
    app.clock.set(local("2026-11-02T09:00"));
    let clerk = login(&svc, "clerk.a").await;
    let (status, r) = send(
        &svc,
        post(
            &clerk,
            "/api/v1/dossiers",
            household("Khổng Văn Đạt", "counter"),
        ),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["due_at"], "2026-11-05T17:00:00+07:00");
    let code = r["code"].as_str().unwrap().to_string();
    app.clock.set(local("2026-11-03T09:00"));
    let official = login(&svc, "official.a").await;
    let delay = |to: &str| json!({"type": "delay", "reason": "Chờ xác minh", "new_due_at": to});
    for too_far in ["9999-12-31T17:00:00+07:00", "2026-11-10T17:01:00+07:00"] {
        let (status, b) = event(&svc, &official, &code, delay(too_far)).await;
        assert_eq!(
            (status, b["error"].as_str()),
            (409, Some("invalid_delay")),
            "{too_far}: {b}"
        );
    }
    let (status, b) = event(&svc, &official, &code, delay("2026-11-10T17:00:00+07:00")).await;
    assert_eq!(status, 201, "{b}");

    // Search: at most 100 characters; `%` and `_` are letters like the others.
    let clerk = login(&svc, "clerk.a").await;
    let (status, r) = send(
        &svc,
        post(
            &clerk,
            "/api/v1/dossiers",
            household("Hà Thị Én", "counter"),
        ),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let search = |q: &str| format!("/api/v1/dossiers?q={q}");
    let (status, b) = send(&svc, get(&clerk, &search(&"a".repeat(101)))).await;
    assert_eq!((status, b["error"].as_str()), (422, Some("invalid_query")));
    for q in ["%25", "_", "%25%25", "%25_"] {
        let (status, b) = send(&svc, get(&clerk, &search(q))).await;
        assert_eq!(status, 200, "{b}");
        assert_eq!(b["dossiers"], json!([]), "{q} matches itself only");
    }
    let (_, b) = send(&svc, get(&clerk, &search("khong"))).await;
    assert_eq!(b["dossiers"].as_array().unwrap().len(), 1);

    // A portal intake repeated with the same Idempotency-Key: the first answer, pin
    // included, and one dossier; the key with another request is refused.
    let portal = portal_token(&svc, "portal.dvc").await;
    let submit = |body: Value, key: &str| {
        post(&portal, "/api/v1/dossiers", body).insert_header(("Idempotency-Key", key.to_string()))
    };
    let mut first = household("Mã Văn Lực", "online");
    first["receiving_agency"] = json!(A);
    let (s1, a1) = send(&svc, submit(first.clone(), "dvc-2026-000123")).await;
    let (s2, a2) = send(&svc, submit(first.clone(), "dvc-2026-000123")).await;
    assert_eq!((s1, s2), (201, 201), "{a1} {a2}");
    assert_eq!(a1, a2, "the same answer, pin included");
    let mut other = first.clone();
    other["applicant"]["full_name"] = json!("Mã Thị Lan");
    let (status, b) = send(&svc, submit(other, "dvc-2026-000123")).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (422, Some("idempotency_key_reused")),
        "{b}"
    );
    let (status, b) = send(&svc, submit(first.clone(), "")).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (400, Some("invalid_idempotency_key"))
    );
    // The pin of the repeated answer opens the dossier.
    let (status, _) = send(
        &svc,
        actix_web::test::TestRequest::get().uri(&format!(
            "/api/v1/public/dossiers/{}?pin={}",
            a1["code"].as_str().unwrap(),
            a2["pin"].as_str().unwrap()
        )),
    )
    .await;
    assert_eq!(status, 200);

    // The portal's list holds every dossier it submitted, to ward A and to ward B.
    let mut to_b = household("Vi Văn Tùng", "online");
    to_b["receiving_agency"] = json!(B);
    let (status, b) = send(&svc, post(&portal, "/api/v1/dossiers", to_b)).await;
    assert_eq!(status, 201, "{b}");
    let (status, list) = send(&svc, get(&portal, "/api/v1/dossiers")).await;
    assert_eq!(status, 200, "{list}");
    let mut receiving: Vec<&str> = list["dossiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["receiving_agency"]["code"].as_str().unwrap())
        .collect();
    receiving.sort();
    assert_eq!(receiving, [A, B], "one each, no repeat: {list}");
    // Not the counter's own dossiers.
    assert!(list["dossiers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["code"] != code.as_str()));

    // A page past the deepest one (`offset` up to 1,000,000): refused with a 400, never
    // an overflow (the fuzzer's `offset=9223372036854775806` once answered 500, and took
    // the server down on the queue).
    let clerk = login(&svc, "clerk.a").await;
    for (uri, want) in [
        (
            "/api/v1/dossiers?offset=9223372036854775806",
            "invalid_offset",
        ),
        ("/api/v1/dossiers?offset=1000001", "invalid_offset"),
        ("/api/v1/queue?offset=9223372036854775806", "invalid_limit"),
        (
            "/api/v1/petitions?offset=9223372036854775806",
            "invalid_limit",
        ),
    ] {
        let (status, b) = send(&svc, get(&clerk, uri)).await;
        assert_eq!(
            (status, b["error"].as_str()),
            (400, Some(want)),
            "{uri}: {b}"
        );
    }
    for uri in [
        "/api/v1/dossiers?offset=1000000",
        "/api/v1/queue?offset=1000000",
    ] {
        let (status, b) = send(&svc, get(&clerk, uri)).await;
        assert_eq!(status, 200, "{uri}: {b}");
    }
}

#[actix_rt::test]
async fn bounds_on_sqlite() {
    bounds(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn bounds_on_postgres() {
    bounds(common::TestDb::postgres()).await;
}
