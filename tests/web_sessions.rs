//! The staff pages' sessions and forms (issue #14, item 1), in process on both backends:
//! login through the page (same accounts and guessing rule as the API), the session
//! cookie's flags, only a hash stored, idle (30 min) and absolute (12 h) timeouts on the
//! manual clock, disabling an account or changing its password ends its sessions at once,
//! logout, a CSRF token required on every form, the pages' security headers and the
//! hashed static files.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test;
use chrono::Duration;
use common::http::{self, PASSWORD};
use motcua::app::App;
use motcua::service::accounts::cli_actor;
use motcua::service::Role;
use sha2::{Digest, Sha256};

const WARD: &str = "000.00.51.H26";
const OTHER_WARD: &str = "000.00.52.H26";

/// A browser: its cookies.
#[derive(Default, Clone)]
struct Browser {
    cookies: HashMap<String, String>,
}

struct Answer {
    status: u16,
    headers: actix_web::http::header::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
    /// The value of the first hidden `csrf` field of the form posting to `action`.
    fn csrf_of(&self, action: &str) -> String {
        let at = self
            .body
            .find(&format!("action=\"{action}\""))
            .unwrap_or_else(|| panic!("no form to {action} in:\n{}", self.body));
        let rest = &self.body[at..];
        let v = rest.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        rest[v..v + rest[v..].find('"').unwrap()].to_string()
    }
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send<S>(&mut self, svc: &S, req: test::TestRequest) -> Answer
    where
        S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    {
        let mut req = req;
        if !self.cookies.is_empty() {
            req = req.insert_header(("Cookie", self.cookie_header()));
        }
        let res = test::call_service(
            svc,
            req.peer_addr("10.0.0.7:5000".parse().unwrap()).to_request(),
        )
        .await;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        for v in headers.get_all("set-cookie") {
            let c = actix_web::cookie::Cookie::parse(v.to_str().unwrap().to_string()).unwrap();
            if c.max_age() == Some(actix_web::cookie::time::Duration::ZERO) || c.value().is_empty()
            {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_string(), c.value().to_string());
            }
        }
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get<S>(&mut self, svc: &S, uri: &str) -> Answer
    where
        S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    {
        self.send(svc, test::TestRequest::get().uri(uri)).await
    }

    async fn post<S>(&mut self, svc: &S, uri: &str, form: &[(&str, &str)]) -> Answer
    where
        S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    {
        self.send(
            svc,
            test::TestRequest::post()
                .uri(uri)
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(serde_urlencoded::to_string(form).unwrap()),
        )
        .await
    }

    /// Logs in through the page; the answer to the POST.
    async fn login<S>(&mut self, svc: &S, user: &str, password: &str, next: &str) -> Answer
    where
        S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    {
        let page = self
            .get(svc, &format!("/dang-nhap?next={}", urlencode(next)))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = page.csrf_of("/dang-nhap");
        self.post(
            svc,
            "/dang-nhap",
            &[
                ("csrf", &csrf),
                ("username", user),
                ("password", password),
                ("next", next),
            ],
        )
        .await
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
}

fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn start(db: &common::TestDb, https: bool) -> Arc<App> {
    let at = common::local("2026-12-01T08:00");
    let mut config = common::config_for(db);
    config.settings.https = https;
    let mut app = App::start(config, at).expect("starts");
    Arc::get_mut(&mut app).unwrap().clock = motcua::clock::Clock::manual(at);
    http::users(
        &app,
        &[
            ("clerk1", Role::Clerk, WARD),
            ("clerk2", Role::Clerk, WARD),
            ("official1", Role::Official, WARD),
            ("clerk_b", Role::Clerk, OTHER_WARD),
        ],
    );
    app
}

fn later(app: &App, minutes: i64) {
    app.clock.set(app.clock.now() + Duration::minutes(minutes));
}

async fn sessions_and_forms(db: common::TestDb) {
    let app = start(&db, false);
    let svc = http::service(&app).await;

    // Not signed in: to the login page, and back afterwards.
    let mut b = Browser::default();
    let r = b
        .get(&svc, "/tiep-nhan?thu-tuc=1.001193.000.00.00.H26")
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/dang-nhap?next=%2Ftiep-nhan%3Fthu-tuc%3D1.001193.000.00.00.H26")
    );
    // The login page: Vietnamese, its own CSP, a pre-login cookie bound to its token.
    let page = b.get(&svc, "/dang-nhap").await;
    assert!(page.body.contains("<html lang=\"vi\">"));
    assert_eq!(
        page.header("content-security-policy").as_deref(),
        Some(motcua::web::CSP)
    );
    assert!(motcua::web::CSP.starts_with("default-src 'self'"));
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    assert!(!page.body.contains("<script>") && !page.body.contains("style=\""));
    // A wrong password: the page again, explained.
    let r = b.login(&svc, "clerk1", "sai-mat-khau", "/tiep-nhan").await;
    assert_eq!(r.status, 401);
    assert!(
        r.body.contains("Tên đăng nhập hoặc mật khẩu không đúng"),
        "{}",
        r.body
    );
    assert!(!b.cookies.contains_key("motcua_session"));
    // The login form without its token, or with another browser's: 403, no session.
    let mut other = Browser::default();
    let theirs = other.get(&svc, "/dang-nhap").await.csrf_of("/dang-nhap");
    let r = b
        .post(
            &svc,
            "/dang-nhap",
            &[
                ("csrf", &theirs),
                ("username", "clerk1"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("Yêu cầu bị từ chối"));
    let r = b
        .post(
            &svc,
            "/dang-nhap",
            &[("username", "clerk1"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(!b.cookies.contains_key("motcua_session"));

    // Login: back to the page asked for; the cookie's flags; only a hash stored.
    let r = b
        .login(
            &svc,
            "clerk1",
            PASSWORD,
            "/tiep-nhan?thu-tuc=1.001193.000.00.00.H26",
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/tiep-nhan?thu-tuc=1.001193.000.00.00.H26")
    );
    let set = r
        .headers
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("motcua_session="))
        .expect("a session cookie");
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    assert!(set.contains("Path=/"), "{set}");
    assert!(!set.contains("Secure"), "http: no Secure flag ({set})");
    let id = b.cookies["motcua_session"].clone();
    assert_eq!(id.len(), 64);
    assert!(
        app.store.session(&id).unwrap().is_none(),
        "the id itself is not stored"
    );
    assert!(
        app.store.session(&sha256(&id)).unwrap().is_some(),
        "its SHA-256 is"
    );
    // An open redirect is refused: `next` stays on this site.
    let mut evil = Browser::default();
    let r = evil
        .login(&svc, "clerk2", PASSWORD, "//evil.example/x")
        .await;
    assert_eq!(r.header("location").as_deref(), Some("/"));

    // The pages answer, with the frame.
    let r = b.get(&svc, "/tiep-nhan").await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("Cán bộ clerk1") && r.body.contains("Ủy ban nhân dân phường Hoàn Kiếm")
    );
    assert!(r.body.contains("Cán bộ Bộ phận Một cửa"));
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    // An official has no intake page and no intake link.
    let mut o = Browser::default();
    assert_eq!(o.login(&svc, "official1", PASSWORD, "/").await.status, 303);
    let r = o.get(&svc, "/").await;
    assert_eq!(r.status, 200, "an official's home page");
    assert!(
        r.body.contains("Việc đang chờ") && r.body.contains("href=\"/hang-doi?tab=cho-xu-ly\""),
        "{}",
        r.body
    );
    let r = o.get(&svc, "/ho-so").await;
    assert!(
        !r.body.contains("href=\"/tiep-nhan\""),
        "no intake link for an official"
    );
    assert_eq!(o.get(&svc, "/tiep-nhan").await.status, 403);

    // CSRF on every form of a session: without the token, or with another session's, 403
    // and nothing done.
    let mine = b.get(&svc, "/ho-so").await.csrf_of("/dang-xuat");
    let theirs = o.get(&svc, "/ho-so").await.csrf_of("/dang-xuat");
    let code = "000.00.51.H26-261201-0001";
    for uri in [
        "/dang-xuat".to_string(),
        "/tiep-nhan".to_string(),
        format!("/ho-so/{code}/su-kien"),
        format!("/ho-so/{code}/giay-tiep-nhan"),
    ] {
        for token in [None, Some(theirs.as_str())] {
            let mut form = vec![
                ("type", "payment"),
                ("amount", "1000"),
                ("method", "cash"),
                ("procedure", "1.001193.000.00.00.H26"),
            ];
            if let Some(t) = token {
                form.push(("csrf", t));
            }
            let r = b.post(&svc, &uri, &form).await;
            assert_eq!(r.status, 403, "{uri} with {token:?}: {}", r.body);
        }
    }
    let r = b
        .send(
            &svc,
            test::TestRequest::post()
                .uri(&format!("/ho-so/{code}/ban-so-hoa"))
                .insert_header(("Content-Type", "multipart/form-data; boundary=XyZ"))
                .set_payload("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--XyZ--\r\n"),
        )
        .await;
    assert_eq!(r.status, 403, "an upload without its token");
    assert!(b.cookies.contains_key("motcua_session"), "still signed in");
    assert_eq!(b.get(&svc, "/tiep-nhan").await.status, 200);
    let _ = mine;

    // Idle: 29 minutes without a request is fine; 31 more and the session has ended.
    later(&app, 29);
    assert_eq!(b.get(&svc, "/ho-so").await.status, 200);
    later(&app, 29);
    assert_eq!(
        b.get(&svc, "/ho-so").await.status,
        200,
        "counted from the last request"
    );
    later(&app, 31);
    let r = b.get(&svc, "/ho-so").await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/dang-nhap?next=%2Fho-so&het-phien=1")
    );
    let r = b.get(&svc, "/dang-nhap?next=%2Fho-so&het-phien=1").await;
    assert!(r.body.contains("Phiên làm việc đã hết hạn"));
    assert_eq!(
        b.get(&svc, "/ho-so").await.status,
        303,
        "still ended on the next request"
    );
    assert!(
        app.store.session(&sha256(&id)).unwrap().is_some(),
        "kept until the sweep"
    );

    // Absolute: 12 hours after login, however busy.
    assert_eq!(
        b.login(&svc, "clerk1", PASSWORD, "/ho-so").await.status,
        303
    );
    for _ in 0..35 {
        later(&app, 20);
        assert_eq!(b.get(&svc, "/ho-so").await.status, 200);
    }
    later(&app, 20); // 12 h since login
    assert_eq!(
        b.get(&svc, "/ho-so").await.status,
        303,
        "ended after 12 hours"
    );

    // Disabling the account ends its sessions at once; so does a new password.
    assert_eq!(
        b.login(&svc, "clerk1", PASSWORD, "/ho-so").await.status,
        303
    );
    let mut b2 = Browser::default();
    assert_eq!(
        b2.login(&svc, "clerk2", PASSWORD, "/ho-so").await.status,
        303
    );
    assert_eq!(b.get(&svc, "/ho-so").await.status, 200);
    http::disable(&app, "clerk1");
    let r = b.get(&svc, "/ho-so").await;
    assert_eq!(r.status, 303, "disabled: the session is over");
    assert_eq!(
        b.login(&svc, "clerk1", PASSWORD, "/ho-so").await.status,
        401,
        "and no new one"
    );
    assert_eq!(b2.get(&svc, "/ho-so").await.status, 200);
    app.set_user_password(
        "clerk2",
        "mat-khau-moi-du-dai",
        &cli_actor(),
        app.clock.now(),
    )
    .unwrap();
    assert_eq!(
        b2.get(&svc, "/ho-so").await.status,
        303,
        "a new password ends it"
    );

    // Logout.
    let mut b3 = Browser::default();
    assert_eq!(
        b3.login(&svc, "clerk_b", PASSWORD, "/ho-so").await.status,
        303
    );
    let old = b3.cookies["motcua_session"].clone();
    let token = b3.get(&svc, "/ho-so").await.csrf_of("/dang-xuat");
    let r = b3.post(&svc, "/dang-xuat", &[("csrf", &token)]).await;
    assert_eq!(r.status, 303);
    assert!(
        !b3.cookies.contains_key("motcua_session"),
        "the cookie is removed"
    );
    assert!(
        app.store.session(&sha256(&old)).unwrap().is_none(),
        "and the row"
    );
    b3.cookies.insert("motcua_session".into(), old);
    assert_eq!(
        b3.get(&svc, "/ho-so").await.status,
        303,
        "the old cookie opens nothing"
    );

    // Guessing through the page: the API's rule, the 429 explained in Vietnamese.
    let mut g = Browser::default();
    let mut last = None;
    for _ in 0..8 {
        last = Some(g.login(&svc, "official1", "doan-sai-mat-khau", "/").await);
        if last.as_ref().unwrap().status == 429 {
            break;
        }
    }
    let r = last.unwrap();
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    assert!(r.body.contains("vui lòng chờ"), "{}", r.body);

    // Static files: hashed names, cached for a year; anything else 404.
    let css = motcua::web::asset("app.css");
    assert!(
        css.starts_with("/static/app.")
            && css.ends_with(".css")
            && css.len() > "/static/app.css".len()
    );
    let r = b.get(&svc, css).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert!(r.header("content-type").unwrap().starts_with("text/css"));
    assert_eq!(b.get(&svc, "/static/app.css").await.status, 404);
}

async fn secure_cookie_on_https(db: common::TestDb) {
    let app = start(&db, true);
    let svc = http::service(&app).await;
    let mut b = Browser::default();
    let page = b.get(&svc, "/dang-nhap").await;
    let pre = page
        .headers
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("motcua_login="))
        .unwrap();
    assert!(pre.contains("Secure"), "{pre}");
    let r = b.login(&svc, "clerk1", PASSWORD, "/").await;
    let set = r
        .headers
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("motcua_session="))
        .unwrap();
    assert!(
        set.contains("Secure") && set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
}

#[actix_rt::test]
async fn sessions_and_forms_on_sqlite() {
    sessions_and_forms(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn sessions_and_forms_on_postgres() {
    sessions_and_forms(common::TestDb::postgres()).await;
}

#[actix_rt::test]
async fn the_session_cookie_is_secure_on_https_on_sqlite() {
    secure_cookie_on_https(common::TestDb::sqlite()).await;
}
