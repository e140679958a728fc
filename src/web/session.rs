//! Login, logout and the `Staff` extractor of the pages.

use std::future::ready;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{render, render_status, Frame, WebError, WebResult};
use crate::error::ErrorKind;
use crate::http::AppData;
use crate::service::sessions::SessionState;
use crate::service::Caller;

/// The session cookie: 32 random bytes, hex.
pub const SESSION_COOKIE: &str = "motcua_session";
/// Binds the login form's CSRF token to the browser before there is a session.
pub const LOGIN_COOKIE: &str = "motcua_login";

/// A signed-in member of staff, from the session cookie. Without one (or when it ended):
/// to the login page, and back here after it.
pub struct Staff {
    pub caller: Caller,
    pub csrf: String,
    pub app: AppData,
}

impl Staff {
    /// Refuses a form whose CSRF token is not this session's (403 page).
    pub fn check_csrf(&self, token: Option<&str>) -> WebResult<()> {
        match token {
            Some(t) if self.app.csrf_holds(&self.csrf, t) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }

    pub fn frame(&self, title: impl Into<String>, here: &str) -> Frame {
        Frame::staff(&self.app, &self.caller, &self.csrf, title, here)
    }
}

/// Where to come back after login: this page for a GET; for a form, the page it was on.
fn next_of(req: &HttpRequest) -> String {
    if req.method() == Method::GET {
        return match req.uri().path_and_query() {
            Some(pq) => pq.as_str().to_string(),
            None => req.path().to_string(),
        };
    }
    let referer = req
        .headers()
        .get("referer")
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            let info = req.connection_info();
            let origin = format!("{}://{}", info.scheme(), info.host());
            r.strip_prefix(&origin).map(str::to_string)
        });
    match referer {
        Some(p) if local_path(&p) => p,
        _ => req.path().to_string(),
    }
}

/// A path of this site (never another origin: `//host` or `/\host` are refused).
pub fn local_path(p: &str) -> bool {
    p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\") && !p.contains("://")
}

impl FromRequest for Staff {
    type Error = WebError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(app) = req.app_data::<AppData>().cloned() else {
            return Box::pin(ready(Err(
                WebError::App(crate::error::AppError::internal()),
            )));
        };
        let next = next_of(req);
        let Some(id) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) else {
            return Box::pin(ready(Err(WebError::Login { next, ended: false })));
        };
        let address = crate::http::auth::client_address(req);
        Box::pin(async move {
            let a = app.get_ref().clone();
            let now = app.clock.now();
            let state = crate::http::block(move || a.session_state(&id, now)).await??;
            match state {
                SessionState::Open { mut caller, csrf } => {
                    caller.address = Some(address);
                    Ok(Staff { caller, csrf, app })
                }
                SessionState::Ended => Err(WebError::Login { next, ended: true }),
                SessionState::Unknown => Err(WebError::Login { next, ended: false }),
            }
        })
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub frame: Frame,
    pub next: String,
    pub username: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    #[serde(rename = "het-phien")]
    ended: Option<String>,
}

fn login_cookie(app: &AppData, nonce: &str) -> Cookie<'static> {
    let mut c = Cookie::new(LOGIN_COOKIE, nonce.to_string());
    c.set_path("/dang-nhap");
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_secure(app.settings.https);
    c
}

fn session_cookie(app: &AppData, id: &str) -> Cookie<'static> {
    let mut c = Cookie::new(SESSION_COOKIE, id.to_string());
    c.set_path("/");
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_secure(app.settings.https);
    c
}

fn login_form(
    app: &AppData,
    req: &HttpRequest,
    next: String,
    username: String,
    error: Option<String>,
    notice: Option<String>,
) -> WebResult<(LoginPage, Option<Cookie<'static>>)> {
    let (nonce, fresh) = match req.cookie(LOGIN_COOKIE) {
        Some(c) if c.value().len() == 64 => (c.value().to_string(), false),
        _ => (crate::service::sessions::random_id()?, true),
    };
    let mut frame = Frame::new(app, "Đăng nhập");
    frame.csrf = app.login_csrf_token(&nonce);
    Ok((
        LoginPage {
            frame,
            next,
            username,
            error,
            notice,
        },
        fresh.then(|| login_cookie(app, &nonce)),
    ))
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if local_path(n) && !n.starts_with("/dang-nhap") && !n.starts_with("/dang-xuat") =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// `GET /dang-nhap`.
pub async fn login_page(
    app: AppData,
    req: HttpRequest,
    q: web::Query<LoginQuery>,
) -> WebResult<HttpResponse> {
    let notice = q
        .ended
        .is_some()
        .then(|| "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại để tiếp tục.".to_string());
    let (page, cookie) = login_form(
        &app,
        &req,
        safe_next(q.next.as_deref()),
        String::new(),
        None,
        notice,
    )?;
    let mut res = render(&page);
    if let Some(c) = cookie {
        res.add_cookie(&c)
            .map_err(|_| crate::error::AppError::internal())?;
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /dang-nhap`: the same accounts, password hashing and guessing rule as the API.
pub async fn login(
    app: AppData,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> WebResult<HttpResponse> {
    let form = form.into_inner();
    let nonce = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_string());
    let holds = match (&nonce, &form.csrf) {
        (Some(n), Some(t)) => app.csrf_holds(&app.login_csrf_token(n), t),
        _ => false,
    };
    if !holds {
        return Err(WebError::Csrf);
    }
    let next = safe_next(form.next.as_deref());
    let address = crate::http::auth::client_address(&req);
    let a = app.get_ref().clone();
    let (username, password) = (form.username.clone(), form.password);
    let now = app.clock.now();
    let opened =
        crate::http::block(move || a.open_session(&username, &password, &address, now)).await?;
    match opened {
        Ok(session) => {
            let mut res = HttpResponse::SeeOther()
                .insert_header(("Location", next))
                .finish();
            res.add_cookie(&session_cookie(&app, &session.id))
                .map_err(|_| crate::error::AppError::internal())?;
            Ok(res)
        }
        Err(e) if matches!(e.kind, ErrorKind::Unauthorized | ErrorKind::TooManyRequests) => {
            let message = match e.kind {
                ErrorKind::TooManyRequests => format!(
                    "Đã đăng nhập sai nhiều lần từ máy này. Để bảo vệ tài khoản, vui lòng chờ {} giây rồi thử lại.",
                    e.retry_after.unwrap_or(60)
                ),
                _ => "Tên đăng nhập hoặc mật khẩu không đúng.".to_string(),
            };
            let status = if e.kind == ErrorKind::TooManyRequests {
                actix_web::http::StatusCode::TOO_MANY_REQUESTS
            } else {
                actix_web::http::StatusCode::UNAUTHORIZED
            };
            let (page, cookie) = login_form(
                &app,
                &req,
                next,
                form.username.trim().to_string(),
                Some(message),
                None,
            )?;
            let mut res = render_status(status, &page);
            if let Some(s) = e.retry_after {
                res.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from(s),
                );
            }
            if let Some(c) = cookie {
                res.add_cookie(&c)
                    .map_err(|_| crate::error::AppError::internal())?;
            }
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: Option<String>,
}

/// `POST /dang-xuat`: ends the session.
pub async fn logout(
    app: AppData,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> WebResult<HttpResponse> {
    let Some(id) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", "/dang-nhap"))
            .finish());
    };
    if !app.csrf_holds(
        &app.csrf_token(&id),
        form.csrf.as_deref().unwrap_or_default(),
    ) {
        return Err(WebError::Csrf);
    }
    let a = app.get_ref().clone();
    crate::http::block(move || a.close_session(&id)).await??;
    let mut res = HttpResponse::SeeOther()
        .insert_header(("Location", "/dang-nhap"))
        .finish();
    let mut gone = session_cookie(&app, "");
    gone.make_removal();
    res.add_cookie(&gone)
        .map_err(|_| crate::error::AppError::internal())?;
    Ok(res)
}
