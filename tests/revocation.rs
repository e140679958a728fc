//! Secrets and revoked accounts (issue #13, item 4): a weak `MOTCUA_SECRET` stops the
//! start; tokens carry their account's token version, checked on every request against a
//! per-process cache of at most 30 s, so that disabling an account, changing its password
//! or rotating a portal's secret ends its tokens on every process; a token for an account
//! that does not exist is refused; `motcua portal rotate` replaces a portal's secret.

mod common;

use std::sync::Arc;

use actix_web::test::TestRequest;
use chrono::Duration;
use common::http;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use motcua::app::App;
use motcua::service::accounts::cli_actor;
use motcua::service::Role;
use serde_json::{json, Value};

const COMMUNE: &str = "000.00.51.H26";
const CITY: &str = "000.00.01.H26";

/// Two server processes over one database, each with its own clock and its own cache.
fn two_processes(db: &common::TestDb) -> (Arc<App>, Arc<App>) {
    let at = common::local("2026-12-01T09:00");
    let a = common::app_at(db, at);
    let b = common::app_at(db, at);
    http::users(
        &a,
        &[
            ("clerk1", Role::Clerk, COMMUNE),
            ("clerk2", Role::Clerk, COMMUNE),
        ],
    );
    (a, b)
}

async fn queue_status<S>(svc: &S, token: &str) -> (u16, Value)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    http::send(svc, http::get(token, "/api/v1/queue")).await
}

#[actix_rt::test]
async fn disabling_an_account_or_changing_its_password_ends_its_tokens_on_every_process() {
    let db = common::TestDb::sqlite();
    let (a, b) = two_processes(&db);
    let (svc_a, svc_b) = (http::service(&a).await, http::service(&b).await);
    let t1 = http::login(&svc_a, "clerk1").await;
    let t2 = http::login(&svc_a, "clerk2").await;
    // Both processes accept both tokens (process B reads the accounts now).
    for (svc, name) in [(&svc_a, "A"), (&svc_b, "B")] {
        for t in [&t1, &t2] {
            assert_eq!(queue_status(svc, t).await.0, 200, "process {name}");
        }
    }

    // Process A disables clerk1 and changes clerk2's password.
    a.set_user_disabled("clerk1", true, &cli_actor(), a.clock.now())
        .unwrap();
    a.set_user_password("clerk2", "mat-khau-moi-2026", &cli_actor(), a.clock.now())
        .unwrap();
    // At once on A.
    for t in [&t1, &t2] {
        let (status, body) = queue_status(&svc_a, t).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_token")),
            "{body}"
        );
    }
    // B's cache is at most 30 s old: 29.9 s on, still accepted; at 30 s, refused.
    b.clock.advance(Duration::milliseconds(29_900));
    for t in [&t1, &t2] {
        assert_eq!(queue_status(&svc_b, t).await.0, 200);
    }
    b.clock.advance(Duration::milliseconds(100));
    for t in [&t1, &t2] {
        let (status, body) = queue_status(&svc_b, t).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_token")),
            "{body}"
        );
    }
    // Enabling clerk1 again does not revive the old token; a new login works.
    a.set_user_disabled("clerk1", false, &cli_actor(), a.clock.now())
        .unwrap();
    assert_eq!(queue_status(&svc_a, &t1).await.0, 401);
    let t1_new = http::login(&svc_a, "clerk1").await;
    assert_eq!(queue_status(&svc_a, &t1_new).await.0, 200);
    b.clock.advance(Duration::seconds(30));
    assert_eq!(queue_status(&svc_b, &t1_new).await.0, 200);
    assert_eq!(queue_status(&svc_b, &t1).await.0, 401);
}

/// A token signed with the server's own key, as a leaked key or a restored database
/// would allow: claims chosen by the caller.
fn forged(app: &App, claims: Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&app.keys.token),
    )
    .unwrap()
}

#[actix_rt::test]
async fn a_token_for_an_account_that_does_not_exist_is_refused() {
    let db = common::TestDb::sqlite();
    let (a, _) = two_processes(&db);
    let svc = http::service(&a).await;
    let now = a.clock.now().timestamp();
    let base = json!({
        "sub": "ghost", "name": "Không Tồn Tại", "role": "clerk", "agency": COMMUNE,
        "iat": now, "exp": now + 600, "iss": "motcua", "ver": 0
    });
    let (status, body) = queue_status(&svc, &forged(&a, base.clone())).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token")),
        "{body}"
    );
    // An existing account, but another role or agency than its own, or another version.
    for (field, value) in [
        ("role", json!("leader")),
        ("agency", json!(CITY)),
        ("ver", json!(7)),
    ] {
        let mut claims = base.clone();
        claims["sub"] = json!("clerk1");
        claims[field] = value;
        let (status, body) = queue_status(&svc, &forged(&a, claims.clone())).await;
        assert_eq!(status, 401, "{field}: {body}");
    }
    // A token of the earlier format, without a version.
    let mut old = base.clone();
    old["sub"] = json!("clerk1");
    old.as_object_mut().unwrap().remove("ver");
    let (status, _) = queue_status(&svc, &forged(&a, old)).await;
    assert_eq!(status, 401);
    // The same claims as a real login's pass.
    let mut real = base;
    real["sub"] = json!("clerk1");
    let (status, body) = queue_status(&svc, &forged(&a, real)).await;
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_weak_secret_stops_the_start_with_a_clear_error() {
    let db = common::TestDb::sqlite();
    for (secret, why) in [
        ("short", "ít nhất 32 ký tự"),
        (
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "ký tự khác nhau",
        ),
        (
            "0123456789abcdef0123456789abcdef0123456789abcdef",
            "lặp lại một mẫu",
        ),
        ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", "liên tiếp"),
    ] {
        let out = common::process::motcua(&db.url, db.dir.path(), secret)
            .arg("check-config")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{secret}: {stderr}");
        assert!(
            stderr.contains("MOTCUA_SECRET") && stderr.contains(why),
            "{secret}: {stderr}"
        );
        assert!(!stderr.contains(secret), "the secret is echoed: {stderr}");
    }
    // Without a secret, one is generated: the start goes on.
    let _app = common::app_for(&db);
    let generated = std::fs::read_to_string(db.dir.path().join("secret.key")).unwrap();
    assert_eq!(generated.trim().len(), 64);
    assert_eq!(motcua::config::secret_weakness(generated.trim()), None);
}

#[actix_rt::test]
async fn motcua_portal_rotate_replaces_the_secret_and_ends_the_old_tokens() {
    let db = common::TestDb::sqlite();
    let secret = "revocation-test-secret-0123456789abcdef-XYZ";
    let cli = |args: &[&str]| {
        let out = common::process::motcua(&db.url, db.dir.path(), secret)
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{args:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("client_secret: "))
            .map(|s| s.trim().to_string())
    };
    let old = cli(&[
        "portal",
        "add",
        "--client-id",
        "portal.rotate",
        "--name",
        "Cổng thử",
        "--agency",
        CITY,
    ])
    .expect("a secret");
    // The in-process server shares the binary's secret (the database remembers it).
    std::fs::write(db.dir.path().join("secret.key"), secret).unwrap();
    let app = common::app_at(&db, common::local("2026-12-01T09:00"));
    let svc = http::service(&app).await;
    let token_with = |s: String| {
        TestRequest::post()
            .uri("/api/v1/auth/token")
            .set_json(json!({ "client_id": "portal.rotate", "client_secret": s }))
    };
    let (status, body) = http::send(&svc, token_with(old.clone())).await;
    assert_eq!(status, 200, "{body}");
    let old_token = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        http::send(&svc, http::get(&old_token, "/api/v1/portal/changes"))
            .await
            .0,
        200
    );

    let new = cli(&["portal", "rotate", "--client-id", "portal.rotate"]).expect("a new secret");
    assert_ne!(new, old);
    let (status, _) = http::send(&svc, token_with(old)).await;
    assert_eq!(status, 401, "the old secret still works");
    let (status, body) = http::send(&svc, token_with(new)).await;
    assert_eq!(status, 200, "{body}");
    // The old token ends within the cache time.
    app.clock.advance(Duration::seconds(30));
    let (status, body) = http::send(&svc, http::get(&old_token, "/api/v1/portal/changes")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    // A staff account is not a portal.
    http::users(&app, &[("clerk1", Role::Clerk, COMMUNE)]);
    let out = common::process::motcua(&db.url, db.dir.path(), secret)
        .args(["portal", "rotate", "--client-id", "clerk1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
