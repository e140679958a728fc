//! Who may write what, found by an outside probe: a payment needs the read scope (the
//! agency a hand-over only waits for gets the 404 it gets on reading), and an agency that
//! was consulted and handed the dossier back keeps reading it but records no payment and
//! attaches no scan; an online payment is the portal's, or a clerk's with the online
//! receipt's reference; a hand-over names a person of the receiving agency; the staff read
//! is never cached. On both backends.

mod common;

use common::http::{event, get, login, portal_token, post, send, service, users};
use common::local;
use motcua::service::Role;
use serde_json::json;

const CITY: &str = "000.00.00.H26";
const A: &str = "000.00.51.H26";
const B: &str = "000.00.52.H26";
const BIRTH: &str = "1.001193.000.00.00.H26";

async fn write_scope(db: common::TestDb) {
    let app = common::app_at(&db, local("2026-11-02T07:00"));
    users(
        &app,
        &[
            ("clerk.a", Role::Clerk, A),
            ("official.a", Role::Official, A),
            ("clerk.b", Role::Clerk, B),
            ("official.b", Role::Official, B),
            ("official.b2", Role::Official, B),
            ("portal.dvc", Role::Portal, CITY),
        ],
    );
    let svc = service(&app).await;
    app.clock.set(local("2026-11-02T09:00"));
    let clerk_a = login(&svc, "clerk.a").await;
    let body = json!({"procedure_code": BIRTH, "channel": "counter",
        "applicant": {"full_name": "Lâm Văn Hậu", "id_number": "001190022222",
                      "phone": "0912000111", "address": "3 Hàng Đào"},
        "papers": [{"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                   {"name": "Giấy chứng sinh", "kind": "original"}]});
    let (status, r) = send(&svc, post(&clerk_a, "/api/v1/dossiers", body)).await;
    assert_eq!(status, 201, "{r}");
    let code = r["code"].as_str().unwrap().to_string();

    // The staff read is never cached.
    let (status, cache, _) = common::http::send_raw_header(
        &svc,
        get(&clerk_a, &format!("/api/v1/dossiers/{code}")),
        "cache-control",
    )
    .await;
    assert_eq!((status, cache.as_deref()), (200, Some("no-store")));

    // A hand-over naming a person: of the receiving agency, active.
    let ho = |user: &str| json!({"type": "handover", "to_agency": B, "electronic": true, "to_user": user});
    for user in ["official.a", "nobody", "portal.dvc"] {
        let (status, b) = event(&svc, &clerk_a, &code, ho(user)).await;
        assert_eq!(
            (status, b["error"].as_str()),
            (422, Some("invalid_recipient")),
            "{user}: {b}"
        );
    }
    common::http::disable(&app, "official.b2");
    let (status, b) = event(&svc, &clerk_a, &code, ho("official.b2")).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (422, Some("invalid_recipient")),
        "{b}"
    );
    let (status, b) = event(&svc, &clerk_a, &code, ho("official.b")).await;
    assert_eq!(status, 201, "{b}");

    // Ward B, which the hand-over waits for, cannot read the dossier yet — nor pay on it.
    let clerk_b = login(&svc, "clerk.b").await;
    let (status, _) = send(&svc, get(&clerk_b, &format!("/api/v1/dossiers/{code}"))).await;
    assert_eq!(status, 404);
    let cash = json!({"type": "payment", "amount": 8000, "method": "cash"});
    let (status, b) = event(&svc, &clerk_b, &code, cash.clone()).await;
    assert_eq!(status, 404, "no personal data in a 201: {b}");
    assert!(!b.to_string().contains("001190022222"));

    // B accepts, then hands it back; A accepts. B keeps reading, writes nothing more.
    let official_b = login(&svc, "official.b").await;
    let (status, _) = event(&svc, &official_b, &code, json!({"type": "accept"})).await;
    assert_eq!(status, 201);
    let (status, _) = event(
        &svc,
        &official_b,
        &code,
        json!({"type": "handover", "to_agency": A, "electronic": true}),
    )
    .await;
    assert_eq!(status, 201);
    let official_a = login(&svc, "official.a").await;
    let (status, _) = event(&svc, &official_a, &code, json!({"type": "accept"})).await;
    assert_eq!(status, 201);
    let (status, _) = send(&svc, get(&clerk_b, &format!("/api/v1/dossiers/{code}"))).await;
    assert_eq!(status, 200, "the consulted agency still reads it");
    let (status, b) = event(&svc, &clerk_b, &code, cash.clone()).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (403, Some("forbidden")),
        "{b}"
    );
    let (status, b) = common::http::upload_pdf(&svc, &clerk_b, &code, "paper=1").await;
    assert_eq!(
        (status, b["error"].as_str()),
        (403, Some("forbidden")),
        "{b}"
    );
    let (status, b) = common::http::upload_pdf(&svc, &clerk_a, &code, "paper=1").await;
    assert_eq!(status, 201, "the receiving agency attaches scans: {b}");

    // Online payments: the portal's, or a clerk's with the online receipt's reference.
    let online = |reference: Option<&str>| {
        let mut b = json!({"type": "payment", "amount": 8000, "method": "online"});
        if let Some(r) = reference {
            b["reference"] = json!(r);
        }
        b
    };
    let (status, b) = event(&svc, &official_a, &code, online(Some("GD-1"))).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (403, Some("forbidden")),
        "{b}"
    );
    let (status, b) = event(&svc, &clerk_a, &code, online(None)).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (403, Some("forbidden")),
        "{b}"
    );
    let (status, b) = event(&svc, &clerk_a, &code, online(Some("PAYGOV-000991"))).await;
    assert_eq!(status, 201, "{b}");
    let (status, b) = event(&svc, &clerk_a, &code, cash).await;
    assert_eq!(status, 201, "{b}");
    // A portal pays online only on what it submitted.
    let portal = portal_token(&svc, "portal.dvc").await;
    let (status, _) = event(&svc, &portal, &code, online(Some("PAYGOV-1"))).await;
    assert_eq!(status, 404);
}

#[actix_rt::test]
async fn write_scope_on_sqlite() {
    write_scope(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn write_scope_on_postgres() {
    write_scope(common::TestDb::postgres()).await;
}
