//! The administration pages (issue #16, admin role) in process, without a browser: only an
//! administrator opens them (403 page for every other role), every form needs its CSRF
//! token, every command leaves an audit record with the administrator as actor, a bad input
//! answers 422 with the message next to its field and stores nothing, an administrator
//! cannot lock themselves out, and disabling an account ends its open session at once.
//! On SQLite, and on PostgreSQL when `MOTCUA_TEST_PG_URL` is set.

mod common;

use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test;
use common::http::{self, form, hidden, Browser, PASSWORD};
use motcua::app::App;
use motcua::service::Role;
use serde_json::json;

const PROVINCE: &str = "000.00.00.H26";
const WARD: &str = "000.00.51.H26";
const OTHER_WARD: &str = "000.00.52.H26";

/// Every page of the administration.
const PAGES: [&str; 10] = [
    "/quan-tri",
    "/quan-tri/nguoi-dung",
    "/quan-tri/them-nguoi-dung",
    "/quan-tri/nguoi-dung/clerk1",
    "/quan-tri/cong-thong-tin",
    "/quan-tri/co-quan",
    "/quan-tri/thu-tuc",
    "/quan-tri/lich?nam=2026",
    "/quan-tri/thu-gui",
    "/quan-tri/nhat-ky",
];

fn start(db: &common::TestDb) -> Arc<App> {
    let app = common::app_for(db);
    http::users(
        &app,
        &[
            ("admin1", Role::Admin, PROVINCE),
            ("admin2", Role::Admin, PROVINCE),
            ("clerk1", Role::Clerk, WARD),
            ("leader1", Role::Leader, WARD),
            ("inspector1", Role::Inspector, PROVINCE),
        ],
    );
    app
}

fn get(uri: &str) -> test::TestRequest {
    test::TestRequest::get().uri(uri)
}

fn post(uri: &str, body: String) -> test::TestRequest {
    test::TestRequest::post()
        .uri(uri)
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(body)
}

/// A browser signed in as `user` through the login page.
async fn signed_in<S>(svc: &S, user: &str) -> Browser
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    signed_in_with(svc, user, PASSWORD).await
}

async fn signed_in_with<S>(svc: &S, user: &str, password: &str) -> Browser
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let mut b = Browser::default();
    let (status, html) = b.page(svc, get("/dang-nhap")).await;
    assert_eq!(status, 200);
    let csrf = hidden(&html, "csrf");
    let (status, _) = b
        .page(
            svc,
            post(
                "/dang-nhap",
                form(&[("csrf", &csrf), ("username", user), ("password", password)]),
            ),
        )
        .await;
    assert_eq!(status, 303, "login {user}");
    b
}

/// The response's `Location`.
async fn location<S>(svc: &S, b: &Browser, req: test::TestRequest) -> (u16, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let req = match &b.cookie {
        Some(c) => req.insert_header(("Cookie", c.clone())),
        None => req,
    };
    let res = test::call_service(svc, req.to_request()).await;
    let to = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (res.status().as_u16(), to)
}

/// The audit records' (actor, action, entity id), oldest first.
fn audit(app: &App) -> Vec<(String, String, String)> {
    let mut r: Vec<_> = app
        .recent_audit(1000)
        .unwrap()
        .into_iter()
        .map(|r| (r.actor, r.action, r.entity_id))
        .collect();
    r.reverse();
    r
}

fn account_count(app: &App) -> usize {
    app.accounts().unwrap().len()
}

async fn only_an_admin_opens_the_administration(db: common::TestDb) {
    let app = start(&db);
    let svc = http::service(&app).await;
    let mut admin = signed_in(&svc, "admin1").await;
    for page in PAGES {
        let (status, html) = admin.page(&svc, get(page)).await;
        assert_eq!(status, 200, "{page}: {html}");
        assert!(html.contains("<html lang=\"vi\">"), "{page}");
        assert!(html.contains("href=\"/quan-tri\""), "{page}: the nav entry");
    }
    // The administrator's home is the administration.
    assert_eq!(
        location(&svc, &admin, get("/")).await,
        (303, "/quan-tri".to_string())
    );
    let (_, users_page) = admin.page(&svc, get("/quan-tri/nguoi-dung")).await;
    let csrf = hidden(&users_page, "csrf");
    drop(admin);
    let before = audit(&app).len();
    for user in ["clerk1", "leader1", "inspector1"] {
        let mut b = signed_in(&svc, user).await;
        let (_, home) = b.page(&svc, get("/ho-so")).await;
        assert!(!home.contains("href=\"/quan-tri\""), "{user}: no nav entry");
        for page in PAGES {
            let (status, html) = b.page(&svc, get(page)).await;
            assert_eq!(status, 403, "{user} {page}");
            assert!(html.contains("Không có quyền truy cập"), "{user} {page}");
        }
        // Commands too, with the user's own valid token.
        let (_, page) = b.page(&svc, get("/ho-so")).await;
        let own = hidden(&page, "csrf");
        for (uri, body) in [
            ("/quan-tri/nguoi-dung/clerk1/khoa", form(&[("csrf", &own)])),
            (
                "/quan-tri/them-nguoi-dung",
                form(&[
                    ("csrf", &own),
                    ("ten-dang-nhap", "ke.gian"),
                    ("ho-ten", "Kẻ Gian"),
                    ("vai-tro", "admin"),
                    ("co-quan", PROVINCE),
                    ("mat-khau", "mat-khau-rat-dai"),
                    ("nhap-lai", "mat-khau-rat-dai"),
                ]),
            ),
            ("/quan-tri/nhat-ky/kiem-tra", form(&[("csrf", &own)])),
            (
                "/quan-tri/cong-thong-tin",
                form(&[("csrf", &own), ("ma-ung-dung", "gian"), ("ten", "Gian")]),
            ),
        ] {
            let (status, _) = b.page(&svc, post(uri, body)).await;
            assert_eq!(status, 403, "{user} POST {uri}");
        }
    }
    // Without a session: the login page, then back.
    let (status, to) = location(&svc, &Browser::default(), get("/quan-tri/nhat-ky")).await;
    assert_eq!(status, 303);
    assert!(
        to.starts_with("/dang-nhap?next=%2Fquan-tri%2Fnhat-ky"),
        "{to}"
    );
    assert!(!app.account("clerk1").unwrap().disabled);
    assert!(app.account("ke.gian").is_err());
    assert_eq!(audit(&app).len(), before, "nothing audited: nothing done");
    let _ = csrf;
}

async fn a_form_without_its_csrf_token_is_refused(db: common::TestDb) {
    let app = start(&db);
    let svc = http::service(&app).await;
    let mut admin = signed_in(&svc, "admin1").await;
    let (_, page) = admin.page(&svc, get("/quan-tri/nguoi-dung/clerk1")).await;
    let csrf = hidden(&page, "csrf");
    let before = (account_count(&app), audit(&app).len());
    let fields = [
        ("ten-dang-nhap", "nguoi.moi"),
        ("ho-ten", "Người Mới"),
        ("vai-tro", "clerk"),
        ("co-quan", WARD),
        ("mat-khau", "mat-khau-rat-dai"),
        ("nhap-lai", "mat-khau-rat-dai"),
    ];
    for token in [None, Some("0".repeat(40))] {
        let with = |extra: &[(&str, &str)]| {
            let mut f: Vec<(&str, &str)> = extra.to_vec();
            if let Some(t) = &token {
                f.push(("csrf", t));
            }
            form(&f)
        };
        for (uri, body) in [
            ("/quan-tri/them-nguoi-dung", with(&fields)),
            ("/quan-tri/nguoi-dung/clerk1/khoa", with(&[])),
            (
                "/quan-tri/nguoi-dung/clerk1/mat-khau",
                with(&[
                    ("mat-khau", "mot-mat-khau-moi"),
                    ("nhap-lai", "mot-mat-khau-moi"),
                ]),
            ),
            (
                "/quan-tri/nguoi-dung/clerk1/vai-tro",
                with(&[("vai-tro", "leader"), ("co-quan", WARD)]),
            ),
            (
                "/quan-tri/cong-thong-tin",
                with(&[("ma-ung-dung", "dvc"), ("ten", "Cổng")]),
            ),
            ("/quan-tri/nhat-ky/kiem-tra", with(&[])),
        ] {
            let (status, html) = admin.page(&svc, post(uri, body)).await;
            assert_eq!(status, 403, "POST {uri} with {token:?}");
            assert!(html.contains("Yêu cầu bị từ chối"), "{html}");
        }
    }
    assert_eq!((account_count(&app), audit(&app).len()), before);
    assert!(!app.account("clerk1").unwrap().disabled);
    assert_eq!(app.account("clerk1").unwrap().role, Role::Clerk);
    let _ = csrf;
}

async fn every_admin_action_leaves_an_audit_record(db: common::TestDb) {
    let app = start(&db);
    let svc = http::service(&app).await;
    let mut admin = signed_in(&svc, "admin1").await;
    let (_, page) = admin.page(&svc, get("/quan-tri/them-nguoi-dung")).await;
    let csrf = hidden(&page, "csrf");
    let start = audit(&app).len();

    // Add a clerk; the answer is the account's page with a notice.
    let (status, to) = location(
        &svc,
        &admin,
        post(
            "/quan-tri/them-nguoi-dung",
            form(&[
                ("csrf", &csrf),
                ("ten-dang-nhap", "  Hanh.NT "),
                // Decomposed (NFD) Vietnamese: stored composed (NFC).
                ("ho-ten", "Nguye\u{302}\u{303}n Thi\u{323} Ha\u{323}nh"),
                ("vai-tro", "clerk"),
                ("co-quan", WARD),
                ("mat-khau", "mat-khau-ban-dau"),
                ("nhap-lai", "mat-khau-ban-dau"),
            ]),
        ),
    )
    .await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/quan-tri/nguoi-dung/hanh.nt?xong=tao")
    );
    let (_, html) = admin.page(&svc, get(&to)).await;
    assert!(html.contains("Đã tạo tài khoản"), "{html}");
    let u = app.account("hanh.nt").unwrap();
    assert_eq!(u.full_name, "Nguyễn Thị Hạnh");
    assert_eq!((u.role, u.agency_code.as_str()), (Role::Clerk, WARD));
    // The new clerk logs in with the password the administrator typed.
    let _ = signed_in_with(&svc, "hanh.nt", "mat-khau-ban-dau").await;

    // Role and agency; the same again changes nothing and writes nothing.
    let role = |r: &str, a: &str| {
        post(
            "/quan-tri/nguoi-dung/hanh.nt/vai-tro",
            form(&[("csrf", &csrf), ("vai-tro", r), ("co-quan", a)]),
        )
    };
    let (status, to) = location(&svc, &admin, role("official", OTHER_WARD)).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/quan-tri/nguoi-dung/hanh.nt?xong=vai-tro")
    );
    let u = app.account("hanh.nt").unwrap();
    assert_eq!(
        (u.role, u.agency_code.as_str()),
        (Role::Official, OTHER_WARD)
    );
    let n = audit(&app).len();
    let (_, to) = location(&svc, &admin, role("official", OTHER_WARD)).await;
    assert!(to.ends_with("?xong=khong-doi"), "{to}");
    assert_eq!(audit(&app).len(), n);

    // A new password: the old one stops.
    let (status, to) = location(
        &svc,
        &admin,
        post(
            "/quan-tri/nguoi-dung/hanh.nt/mat-khau",
            form(&[
                ("csrf", &csrf),
                ("mat-khau", "mat-khau-moi-2026"),
                ("nhap-lai", "mat-khau-moi-2026"),
            ]),
        ),
    )
    .await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/quan-tri/nguoi-dung/hanh.nt?xong=mat-khau")
    );
    assert!(app
        .authenticate("hanh.nt", PASSWORD, false, "10.0.0.1", app.clock.now())
        .is_err());
    assert!(app
        .authenticate(
            "hanh.nt",
            "mat-khau-moi-2026",
            false,
            "10.0.0.1",
            app.clock.now()
        )
        .is_ok());

    // Disable, enable.
    for (path, disabled) in [("khoa", true), ("mo-khoa", false)] {
        let (status, _) = location(
            &svc,
            &admin,
            post(
                &format!("/quan-tri/nguoi-dung/hanh.nt/{path}"),
                form(&[("csrf", &csrf)]),
            ),
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(app.account("hanh.nt").unwrap().disabled, disabled);
    }

    // A portal client: its secret on the answer, once, and it works.
    let (status, html) = admin
        .page(
            &svc,
            post(
                "/quan-tri/cong-thong-tin",
                form(&[
                    ("csrf", &csrf),
                    ("ma-ung-dung", "dvcqg"),
                    ("ten", "Cổng Dịch vụ công quốc gia"),
                    ("co-quan", PROVINCE),
                ]),
            ),
        )
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Chỉ hiện một lần"), "{html}");
    let secret = secret_of(&html);
    assert_eq!(secret.len(), 48);
    let token = |s: &str| {
        test::TestRequest::post()
            .uri("/api/v1/auth/token")
            .set_json(json!({"client_id": "dvcqg", "client_secret": s}))
    };
    assert_eq!(http::send(&svc, token(&secret)).await.0, 200);
    let (_, listing) = admin.page(&svc, get("/quan-tri/cong-thong-tin")).await;
    assert!(
        listing.contains("dvcqg") && !listing.contains(&secret),
        "shown once"
    );
    // A new secret: the old one stops.
    let (status, html) = admin
        .page(
            &svc,
            post(
                "/quan-tri/cong-thong-tin/dvcqg/khoa-moi",
                form(&[("csrf", &csrf)]),
            ),
        )
        .await;
    assert_eq!(status, 200);
    let rotated = secret_of(&html);
    assert_ne!(rotated, secret);
    assert_eq!(http::send(&svc, token(&secret)).await.0, 401);
    assert_eq!(http::send(&svc, token(&rotated)).await.0, 200);
    // Revoked: no token any more, and no button on the page.
    let (status, to) = location(
        &svc,
        &admin,
        post(
            "/quan-tri/cong-thong-tin/dvcqg/thu-hoi",
            form(&[("csrf", &csrf)]),
        ),
    )
    .await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/quan-tri/cong-thong-tin?xong=thu-hoi")
    );
    assert_eq!(http::send(&svc, token(&rotated)).await.0, 401);
    let (_, listing) = admin.page(&svc, get(&to)).await;
    assert!(listing.contains("Đã thu hồi"));
    assert!(!listing.contains("/quan-tri/cong-thong-tin/dvcqg/thu-hoi"));

    // The audit trail's check, from the page.
    let (status, html) = admin
        .page(
            &svc,
            post("/quan-tri/nhat-ky/kiem-tra", form(&[("csrf", &csrf)])),
        )
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("Toàn vẹn."), "{html}");

    let done: Vec<(String, String)> = audit(&app)[start..]
        .iter()
        .map(|(actor, action, id)| {
            assert_eq!(actor, "admin1", "{action} {id}");
            (action.clone(), id.clone())
        })
        .collect();
    let expect = [
        ("user.create", "hanh.nt"),
        ("user.update", "hanh.nt"),
        ("user.password", "hanh.nt"),
        ("user.disable", "hanh.nt"),
        ("user.enable", "hanh.nt"),
        ("user.create", "dvcqg"),
        ("portal.rotate", "dvcqg"),
        ("portal.revoke", "dvcqg"),
        ("audit.verify", ""),
    ];
    assert_eq!(
        done,
        expect
            .iter()
            .map(|(a, i)| (a.to_string(), i.to_string()))
            .collect::<Vec<_>>()
    );
    let chain = app.store.verify_audit_chain(&app.keys.audit).unwrap();
    assert!(chain.problems.is_empty(), "{chain:?}");
}

/// The 400 characters of `html` from byte `at`.
fn near(html: &str, at: usize) -> String {
    html[at..].chars().take(400).collect()
}

/// The secret shown on a portal page.
fn secret_of(html: &str) -> String {
    let at = html.find("id=\"secret\">").expect("the secret shown") + 12;
    html[at..].split('<').next().unwrap().to_string()
}

async fn a_bad_input_is_422_next_to_its_field_and_stores_nothing(db: common::TestDb) {
    let app = start(&db);
    let svc = http::service(&app).await;
    let mut admin = signed_in(&svc, "admin1").await;
    let (_, page) = admin.page(&svc, get("/quan-tri/them-nguoi-dung")).await;
    let csrf = hidden(&page, "csrf");
    let before = (account_count(&app), audit(&app).len());
    let add = |fields: &[(&str, &str)]| {
        let mut f = vec![
            ("csrf", csrf.as_str()),
            ("ten-dang-nhap", "nguoi.moi"),
            ("ho-ten", "Người Mới"),
            ("vai-tro", "clerk"),
            ("co-quan", WARD),
            ("mat-khau", "mat-khau-rat-dai"),
            ("nhap-lai", "mat-khau-rat-dai"),
        ];
        for (k, v) in fields {
            if let Some(x) = f.iter_mut().find(|(n, _)| n == k) {
                x.1 = v;
            }
        }
        post("/quan-tri/them-nguoi-dung", form(&f))
    };
    for (fields, field, words) in [
        (
            vec![("mat-khau", "ngan"), ("nhap-lai", "ngan")],
            "mat-khau",
            "ít nhất 10 ký tự",
        ),
        (
            vec![("nhap-lai", "mat-khau-khac-han")],
            "nhap-lai",
            "không giống nhau",
        ),
        (
            vec![("ten-dang-nhap", "Tên Có Dấu")],
            "ten-dang-nhap",
            "chữ thường không dấu",
        ),
        (
            vec![("ten-dang-nhap", "clerk1")],
            "ten-dang-nhap",
            "đã có người dùng",
        ),
        (vec![("ho-ten", "  ")], "ho-ten", "Nhập họ và tên"),
        (
            vec![("co-quan", "999.99.99.H99")],
            "co-quan",
            "không có trong",
        ),
        (vec![("vai-tro", "portal")], "vai-tro", "Chọn vai trò"),
    ] {
        let (status, html) = admin.page(&svc, add(&fields)).await;
        assert_eq!(status, 422, "{fields:?}: {html}");
        assert!(html.contains("class=\"error-summary\""), "{fields:?}");
        let at = html
            .find(&format!("id=\"{field}-error\""))
            .unwrap_or_else(|| panic!("no error next to {field}: {html}"));
        let next = near(&html, at);
        assert!(next.contains(words), "{field}: {next}");
        assert!(
            html[at..]
                .find(&format!("id=\"{field}\""))
                .is_some_and(|d| d < 1000),
            "the message sits just before its field"
        );
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "the summary links to {field}"
        );
    }
    // The form keeps what was typed (but never a password).
    let (_, html) = admin
        .page(
            &svc,
            add(&[
                ("mat-khau", "ngan"),
                ("nhap-lai", "ngan"),
                ("ho-ten", "Lò Văn Sáng"),
            ]),
        )
        .await;
    assert!(html.contains("value=\"Lò Văn Sáng\""));
    assert!(!html.contains("value=\"ngan\""));

    // The account forms.
    for (uri, fields, field, words) in [
        (
            "/quan-tri/nguoi-dung/clerk1/mat-khau",
            vec![("mat-khau", "123"), ("nhap-lai", "123")],
            "mat-khau",
            "ít nhất 10 ký tự",
        ),
        (
            "/quan-tri/nguoi-dung/clerk1/mat-khau",
            vec![("mat-khau", "mat-khau-rat-dai"), ("nhap-lai", "khac")],
            "nhap-lai",
            "không giống nhau",
        ),
        (
            "/quan-tri/nguoi-dung/clerk1/vai-tro",
            vec![("vai-tro", "leader"), ("co-quan", "000.00.99.X01")],
            "co-quan",
            "không có trong",
        ),
        (
            "/quan-tri/nguoi-dung/clerk1/vai-tro",
            vec![("vai-tro", "portal"), ("co-quan", WARD)],
            "vai-tro",
            "vai trò của cán bộ",
        ),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(fields.iter().copied());
        let (status, html) = admin.page(&svc, post(uri, form(&f))).await;
        assert_eq!(status, 422, "{uri} {fields:?}: {html}");
        let at = html
            .find(&format!("id=\"{field}-error\""))
            .unwrap_or_else(|| panic!("no error next to {field}: {html}"));
        assert!(near(&html, at).contains(words), "{field}");
    }
    // A portal client with a bad id.
    let (status, html) = admin
        .page(
            &svc,
            post(
                "/quan-tri/cong-thong-tin",
                form(&[
                    ("csrf", &csrf),
                    ("ma-ung-dung", "có dấu"),
                    ("ten", "Cổng thử"),
                    ("co-quan", PROVINCE),
                ]),
            ),
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"ma-ung-dung-error\""), "{html}");
    assert!(!html.contains("id=\"secret\""));

    assert_eq!(
        (account_count(&app), audit(&app).len()),
        before,
        "nothing stored"
    );
    let c = app.account("clerk1").unwrap();
    assert_eq!((c.role, c.agency_code.as_str()), (Role::Clerk, WARD));
    assert!(app
        .authenticate("clerk1", PASSWORD, false, "10.0.0.1", app.clock.now())
        .is_ok());
}

async fn an_admin_cannot_lock_themselves_out(db: common::TestDb) {
    let app = start(&db);
    let svc = http::service(&app).await;
    let mut admin = signed_in(&svc, "admin1").await;
    let (status, html) = admin.page(&svc, get("/quan-tri/nguoi-dung/admin1")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Đây là tài khoản của bạn"));
    assert!(
        !html.contains("/quan-tri/nguoi-dung/admin1/khoa"),
        "no button"
    );
    assert!(
        !html.contains("/quan-tri/nguoi-dung/admin1/vai-tro"),
        "no form"
    );
    let csrf = hidden(&html, "csrf");
    let before = audit(&app).len();
    for (path, fields) in [
        ("khoa", vec![]),
        ("vai-tro", vec![("vai-tro", "clerk"), ("co-quan", WARD)]),
        (
            "mat-khau",
            vec![
                ("mat-khau", "mat-khau-rat-dai"),
                ("nhap-lai", "mat-khau-rat-dai"),
            ],
        ),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(fields);
        let (status, html) = admin
            .page(
                &svc,
                post(&format!("/quan-tri/nguoi-dung/admin1/{path}"), form(&f)),
            )
            .await;
        assert_eq!(status, 422, "{path}: {html}");
        assert!(html.contains("chính mình"), "{path}");
    }
    let me = app.account("admin1").unwrap();
    assert!(!me.disabled && me.role == Role::Admin);
    assert_eq!(audit(&app).len(), before);
    // The other administrator may.
    let mut other = signed_in(&svc, "admin2").await;
    let (_, html) = other.page(&svc, get("/quan-tri/nguoi-dung/admin1")).await;
    assert!(html.contains("/quan-tri/nguoi-dung/admin1/khoa"));
}

async fn disabling_a_clerk_ends_the_open_session(db: common::TestDb) {
    let app = start(&db);
    let svc = http::service(&app).await;
    let mut clerk = signed_in(&svc, "clerk1").await;
    assert_eq!(clerk.page(&svc, get("/hang-doi")).await.0, 200);
    let mut admin = signed_in(&svc, "admin1").await;
    let (_, html) = admin.page(&svc, get("/quan-tri/nguoi-dung/clerk1")).await;
    let csrf = hidden(&html, "csrf");
    let (status, _) = admin
        .page(
            &svc,
            post("/quan-tri/nguoi-dung/clerk1/khoa", form(&[("csrf", &csrf)])),
        )
        .await;
    assert_eq!(status, 303);
    let (status, to) = location(&svc, &clerk, get("/hang-doi")).await;
    assert_eq!(status, 303);
    assert!(to.starts_with("/dang-nhap"), "{to}");
    // And logging in again is refused.
    let mut b = Browser::default();
    let (_, html) = b.page(&svc, get("/dang-nhap")).await;
    let c = hidden(&html, "csrf");
    let (status, _) = b
        .page(
            &svc,
            post(
                "/dang-nhap",
                form(&[("csrf", &c), ("username", "clerk1"), ("password", PASSWORD)]),
            ),
        )
        .await;
    assert_eq!(status, 401);
}

async fn a_staff_email_is_checked_next_to_its_field_and_audited(db: common::TestDb) {
    let app = start(&db);
    let svc = http::service(&app).await;
    let mut admin = signed_in(&svc, "admin1").await;
    let (_, page) = admin.page(&svc, get("/quan-tri/them-nguoi-dung")).await;
    assert!(
        page.contains("id=\"thu-dien-tu\""),
        "the field on the new account's form"
    );
    let csrf = hidden(&page, "csrf");
    let new_user = |email: &str| {
        post(
            "/quan-tri/them-nguoi-dung",
            form(&[
                ("csrf", &csrf),
                ("ten-dang-nhap", "an.nv"),
                ("ho-ten", "Nguyễn Văn An"),
                ("vai-tro", "official"),
                ("co-quan", WARD),
                ("thu-dien-tu", email),
                ("mat-khau", "mat-khau-ban-dau"),
                ("nhap-lai", "mat-khau-ban-dau"),
            ]),
        )
    };
    let before = (account_count(&app), audit(&app).len());
    let (status, html) = admin.page(&svc, new_user("an.nv@phuong")).await;
    assert_eq!(status, 422, "{html}");
    let at = html
        .find("id=\"thu-dien-tu-error\"")
        .expect("the error next to the field");
    assert!(
        near(&html, at).contains("không hợp lệ"),
        "{}",
        near(&html, at)
    );
    assert!(
        html.contains("href=\"#thu-dien-tu\""),
        "the summary links to it"
    );
    assert!(
        html.contains("value=\"an.nv@phuong\""),
        "what was typed is kept"
    );
    assert_eq!(
        (account_count(&app), audit(&app).len()),
        before,
        "nothing stored"
    );
    // A good one: its domain lowercased, in the creation's audit record.
    let (status, to) = location(&svc, &admin, new_user(" An.NV@Phuong.HaNoi.gov.vn ")).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/quan-tri/nguoi-dung/an.nv?xong=tao")
    );
    assert_eq!(
        app.account("an.nv").unwrap().email.as_deref(),
        Some("An.NV@phuong.hanoi.gov.vn")
    );

    // Changed on the account's page.
    let set = |email: &str| {
        post(
            "/quan-tri/nguoi-dung/clerk1/thu-dien-tu",
            form(&[("csrf", &csrf), ("thu-dien-tu", email)]),
        )
    };
    let n = audit(&app).len();
    let (status, html) = admin.page(&svc, set("hanh@@phuong.vn")).await;
    assert_eq!(status, 422);
    let at = html
        .find("id=\"thu-dien-tu-error\"")
        .expect("the error next to the field");
    assert!(html[at..]
        .find("id=\"thu-dien-tu\"")
        .is_some_and(|d| d < 1000));
    assert!(html.contains("value=\"hanh@@phuong.vn\""));
    assert_eq!(app.account("clerk1").unwrap().email, None);
    assert_eq!(audit(&app).len(), n);
    let (status, to) = location(&svc, &admin, set("hanh.nt@phuong.hanoi.gov.vn")).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/quan-tri/nguoi-dung/clerk1?xong=thu-dien-tu")
    );
    let (_, html) = admin.page(&svc, get(&to)).await;
    assert!(html.contains("Đã lưu thư điện tử"), "{html}");
    assert!(html.contains("hanh.nt@phuong.hanoi.gov.vn"));
    let (_, to) = location(&svc, &admin, set("hanh.nt@phuong.hanoi.gov.vn")).await;
    assert!(to.ends_with("?xong=thu-dien-tu-khong-doi"), "{to}");
    let (_, to) = location(&svc, &admin, set("  ")).await;
    assert!(to.ends_with("?xong=xoa-thu-dien-tu"), "{to}");
    assert_eq!(app.account("clerk1").unwrap().email, None);
    let trail = audit(&app);
    let done: Vec<_> = trail[n..]
        .iter()
        .map(|(actor, action, id)| (actor.as_str(), action.as_str(), id.as_str()))
        .collect();
    assert_eq!(
        done,
        [
            ("admin1", "user.email", "clerk1"),
            ("admin1", "user.email", "clerk1")
        ]
    );
    // Without the form's token: refused, nothing written.
    let (status, _) = admin
        .page(
            &svc,
            post(
                "/quan-tri/nguoi-dung/clerk1/thu-dien-tu",
                form(&[("thu-dien-tu", "ke.gian@example.vn")]),
            ),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(app.account("clerk1").unwrap().email, None);
    // From the command line (`motcua user email`) the same service, the same check.
    let cli = motcua::service::accounts::cli_actor();
    assert!(app
        .set_user_email("an.nv", Some("an@example.vn"), &cli, app.clock.now())
        .unwrap());
    assert_eq!(
        app.set_user_email("an.nv", Some("an@"), &cli, app.clock.now())
            .unwrap_err()
            .error,
        "invalid_email"
    );
}

macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[actix_rt::test]
            async fn sqlite() {
                super::$name(super::common::TestDb::sqlite()).await;
            }
            #[actix_rt::test]
            #[ignore = "needs PostgreSQL"]
            async fn postgres() {
                super::$name(super::common::TestDb::postgres()).await;
            }
        }
    };
}

on_both!(only_an_admin_opens_the_administration);
on_both!(a_form_without_its_csrf_token_is_refused);
on_both!(every_admin_action_leaves_an_audit_record);
on_both!(a_bad_input_is_422_next_to_its_field_and_stores_nothing);
on_both!(an_admin_cannot_lock_themselves_out);
on_both!(disabling_a_clerk_ends_the_open_session);
on_both!(a_staff_email_is_checked_next_to_its_field_and_audited);
