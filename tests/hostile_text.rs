//! The one text rule (`core::text`) at every door: control characters (NUL included) and
//! bidirectional overrides are refused in every text field, code and query parameter,
//! with a clear error and nothing stored; zero-width characters leave names; the
//! citizens' lookup answers any of them with its one 404. On both backends (PostgreSQL
//! refuses NUL in text itself: before the rule, that was a 500).

mod common;

use common::http::{event, get, login, post, send, send_raw, service, users};
use common::local;
use motcua::service::Role;
use serde_json::{json, Value};

const WARD: &str = "000.00.51.H26";
const BIRTH: &str = "1.001193.000.00.00.H26";

fn birth(name: &str) -> Value {
    json!({"procedure_code": BIRTH, "channel": "counter",
           "applicant": {"full_name": name, "id_number": "001190044444"},
           "papers": [{"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                      {"name": "Giấy chứng sinh", "kind": "original"}]})
}

async fn hostile_text(db: common::TestDb) {
    let app = common::app_at(&db, local("2026-11-04T08:00"));
    users(
        &app,
        &[
            ("clerk.a", Role::Clerk, WARD),
            ("leader.a", Role::Leader, WARD),
        ],
    );
    let svc = service(&app).await;
    app.clock.set(local("2026-11-04T09:00"));
    let clerk = login(&svc, "clerk.a").await;

    // Names: a NUL, a bell, an override, a name without letters → 422, nothing stored.
    for (name, why) in [
        ("Nguyễn\u{0}Văn An", "NUL"),
        ("Nguyễn Văn\u{7} An", "bell"),
        ("\u{202E}nA năV nễyugN", "right-to-left override"),
        ("Nguyễn\nVăn An", "line feed in a one-line field"),
        ("12345", "no letter"),
    ] {
        let (status, b) = send(&svc, post(&clerk, "/api/v1/dossiers", birth(name))).await;
        assert_eq!(
            (status, b["error"].as_str()),
            (422, Some("invalid_full_name")),
            "{why}: {b}"
        );
    }
    let (_, list) = send(&svc, get(&clerk, "/api/v1/dossiers")).await;
    assert_eq!(list["dossiers"], json!([]), "nothing stored");
    // NUL in the other fields of an intake.
    let mut body = birth("Nguyễn Văn An");
    body["applicant"]["address"] = json!("12 Hàng\u{0} Bạc");
    let (status, b) = send(&svc, post(&clerk, "/api/v1/dossiers", body)).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (422, Some("invalid_address"))
    );
    let mut body = birth("Nguyễn Văn An");
    body["applicant"]["email"] = json!("an\u{0}@example.vn");
    let (status, b) = send(&svc, post(&clerk, "/api/v1/dossiers", body)).await;
    assert_eq!((status, b["error"].as_str()), (422, Some("invalid_email")));
    let mut body = birth("Nguyễn Văn An");
    body["procedure_code"] = json!("1.001193\u{0}.000.00.00.H26");
    let (status, b) = send(&svc, post(&clerk, "/api/v1/dossiers", body)).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (422, Some("unknown_procedure"))
    );
    let mut body = birth("Nguyễn Văn An");
    body["papers"][0]["name"] = json!("Tờ khai\u{0}");
    let (status, b) = send(&svc, post(&clerk, "/api/v1/dossiers", body)).await;
    assert_eq!((status, b["error"].as_str()), (422, Some("invalid_paper")));

    // Zero-width characters leave a name; a note keeps its lines.
    let mut body = birth("Nguy\u{200B}ễn Thị\u{FEFF} Hồng Nhung");
    body["note"] = json!("Dòng một\r\n\tDòng hai");
    let (status, r) = send(&svc, post(&clerk, "/api/v1/dossiers", body)).await;
    assert_eq!(status, 201, "{r}");
    let code = r["code"].as_str().unwrap().to_string();
    let pin = r["pin"].as_str().unwrap().to_string();
    let (_, d) = send(&svc, get(&clerk, &format!("/api/v1/dossiers/{code}"))).await;
    assert_eq!(d["applicant"]["full_name"], "Nguyễn Thị Hồng Nhung");
    assert_eq!(d["note"], "Dòng một\nDòng hai");

    // Events: a NUL in a reason → 422 invalid_text; line breaks pass.
    let leader = login(&svc, "leader.a").await;
    let (status, b) = event(
        &svc,
        &leader,
        &code,
        json!({"type": "decide", "outcome": "refused", "reason": "Không\u{0} hợp lệ"}),
    )
    .await;
    assert_eq!(
        (status, b["error"].as_str()),
        (422, Some("invalid_text")),
        "{b}"
    );
    let (status, b) = event(
        &svc,
        &clerk,
        &code,
        json!({"type": "supplement_received", "papers": [{"name": "Giấy\u{0}"}]}),
    )
    .await;
    assert_eq!(
        (status, b["error"].as_str()),
        (422, Some("invalid_text")),
        "{b}"
    );

    // Codes and query parameters: 400 invalid_text before any query.
    for path in [
        "/api/v1/dossiers/000.00.51.H26%00",
        "/api/v1/dossiers?q=Nguy%00",
        "/api/v1/dossiers?q=%E2%80%AEabc",
        "/api/v1/queue?procedure=%00",
        &format!("/api/v1/dossiers/{code}/forms/receipt.pdf?pin=%07"),
    ] {
        let (status, b) = send(&svc, get(&clerk, path)).await;
        assert_eq!(
            (status, b["error"].as_str()),
            (400, Some("invalid_text")),
            "{path}: {b}"
        );
    }
    // A login with a NUL is a wrong login, not an error of the system.
    let (status, b) = send(
        &svc,
        actix_web::test::TestRequest::post()
            .uri("/api/v1/auth/login")
            .set_json(json!({"username": "clerk.a\u{0}", "password": "x"})),
    )
    .await;
    assert_eq!(status, 401, "{b}");

    // The citizens' lookup: any hostile byte gives the one 404, byte for byte the same as
    // a wrong pin or an unknown code.
    let get_public = |path: &str| actix_web::test::TestRequest::get().uri(path);
    let reference = send_raw(
        &svc,
        get_public(&format!("/api/v1/public/dossiers/{code}?pin=AAAAAA")),
    )
    .await;
    assert_eq!(reference.0, 404);
    for path in [
        format!("/api/v1/public/dossiers/{code}%00?pin={pin}"),
        format!("/api/v1/public/dossiers/{code}?pin={pin}%00"),
        format!("/api/v1/public/dossiers/%E2%80%AE{code}?pin={pin}"),
        "/api/v1/public/dossiers/%00?pin=%00".to_string(),
        "/api/v1/public/dossiers/KHONG-CO?pin=AAAAAA".to_string(),
    ] {
        assert_eq!(send_raw(&svc, get_public(&path)).await, reference, "{path}");
    }
    // The right pin still works.
    let (status, _) = send(
        &svc,
        actix_web::test::TestRequest::get()
            .uri(&format!("/api/v1/public/dossiers/{code}?pin={pin}")),
    )
    .await;
    assert_eq!(status, 200);
}

#[actix_rt::test]
async fn hostile_text_is_refused_everywhere_on_sqlite() {
    hostile_text(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn hostile_text_is_refused_everywhere_on_postgres() {
    hostile_text(common::TestDb::postgres()).await;
}
