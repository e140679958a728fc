//! The web pages (issue #14): server-rendered Vietnamese pages for staff, on the same
//! services as the JSON API ([`crate::http`]). Templates are askama files in `templates/`,
//! compiled into the binary; static files are embedded ([`assets`]). Every form works
//! without JavaScript; htmx only makes it smoother.
//!
//! Security: a session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` on https), a CSRF
//! token on every form, `Content-Security-Policy: default-src 'self'` with no inline
//! script or style (`/api/docs` sets its own, [`api_docs::CSP`]), and `Cache-Control:
//! no-store` on every page with personal data.

mod actions;
mod admin;
pub mod api_docs;
pub mod assets;
pub mod charts;
mod citizen;
mod dossier;
mod intake;
mod petitions;
mod public_stats;
mod queue;
mod reports;
pub mod session;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, HttpResponse, ResponseError};
use askama::Template;
use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};

use crate::error::{AppError, ErrorKind};
use crate::service::{Caller, Role};
pub use assets::asset;

/// The page content-security policy: nothing but this origin, no inline code.
pub const CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Renders a template into a response with `status`.
pub fn render_status<T: Template>(status: StatusCode, t: &T) -> HttpResponse {
    match t.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Lỗi hệ thống khi hiển thị trang")
        }
    }
}

/// Renders a template into a 200 response.
pub fn render<T: Template>(t: &T) -> HttpResponse {
    render_status(StatusCode::OK, t)
}

/// Vietnamese name of a role, for the header.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Clerk => "Cán bộ Bộ phận Một cửa",
        Role::Official => "Chuyên viên",
        Role::Leader => "Lãnh đạo",
        Role::Admin => "Quản trị hệ thống",
        Role::Inspector => "Thanh tra",
        Role::Portal => "Cổng dịch vụ công",
        Role::Applicant => "Người nộp hồ sơ",
    }
}

const WEEKDAYS: [&str; 7] = [
    "Thứ Hai",
    "Thứ Ba",
    "Thứ Tư",
    "Thứ Năm",
    "Thứ Sáu",
    "Thứ Bảy",
    "Chủ nhật",
];

/// `dd/mm/yyyy HH:MM` in the configured zone.
pub fn moment(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset)
        .format("%H:%M %d/%m/%Y")
        .to_string()
}

/// `dd/mm/yyyy`.
pub fn day(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset).format("%d/%m/%Y").to_string()
}

/// "Thứ Hai, 30/11/2026" with the hour.
pub fn long_moment(t: DateTime<Utc>, offset: FixedOffset) -> String {
    let l = t.with_timezone(&offset);
    format!(
        "{}, {:02}/{:02}/{} lúc {:02}:{:02}",
        WEEKDAYS[l.weekday().num_days_from_monday() as usize],
        l.day(),
        l.month(),
        l.year(),
        l.hour(),
        l.minute()
    )
}

/// A link of the navigation or the breadcrumbs.
pub struct Link {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// What every page shows around its content.
pub struct Frame {
    pub title: String,
    pub css: &'static str,
    pub fonts: &'static str,
    pub htmx: &'static str,
    pub js: &'static str,
    /// `None` on pages before login.
    pub user: Option<UserBar>,
    pub nav: Vec<Link>,
    pub crumbs: Vec<Link>,
    pub csrf: String,
    /// Server time when the page was made, e.g. "Thứ Hai, 30/11/2026 lúc 09:41".
    pub clock: String,
    /// The same moment as RFC 3339 (`<time datetime>`).
    pub clock_iso: String,
}

pub struct UserBar {
    pub full_name: String,
    pub role: &'static str,
    pub agency: String,
}

impl Frame {
    /// A frame without the clock (error pages, made without the application at hand).
    pub fn plain(title: impl Into<String>) -> Self {
        Frame {
            title: title.into(),
            css: asset("app.css"),
            fonts: asset("fonts/fonts.css"),
            htmx: "",
            js: asset("app.js"),
            user: None,
            nav: Vec::new(),
            crumbs: Vec::new(),
            csrf: String::new(),
            clock: String::new(),
            clock_iso: String::new(),
        }
    }

    pub fn new(app: &crate::app::App, title: impl Into<String>) -> Self {
        let now = app.clock.now();
        let offset = app.settings.offset;
        Frame {
            clock: long_moment(now, offset),
            clock_iso: crate::http::rfc3339(now.fixed_offset(), offset),
            ..Frame::plain(title)
        }
    }

    /// The frame of a signed-in member of staff on page `here` (a path).
    pub fn staff(
        app: &crate::app::App,
        caller: &Caller,
        csrf: &str,
        title: impl Into<String>,
        here: &str,
    ) -> Self {
        let mut f = Frame::new(app, title);
        f.user = Some(UserBar {
            full_name: caller.full_name.clone(),
            role: role_label(caller.role),
            agency: app
                .agencies
                .get(&caller.agency)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| caller.agency.clone()),
        });
        f.csrf = csrf.to_string();
        let mut items: Vec<(&str, &str)> = Vec::new();
        if caller.role == Role::Clerk {
            items.push(("Tiếp nhận hồ sơ", "/tiep-nhan"));
        }
        if matches!(caller.role, Role::Clerk | Role::Official | Role::Leader) {
            items.push(("Hàng đợi xử lý", "/hang-doi"));
        }
        items.push(("Tra cứu hồ sơ", "/ho-so"));
        if matches!(
            caller.role,
            Role::Clerk | Role::Official | Role::Leader | Role::Inspector
        ) {
            items.push(("Phản ánh, kiến nghị", "/phan-anh/xu-ly"));
        }
        if reports::in_nav(caller.role) {
            items.push(("Báo cáo", "/bao-cao"));
        }
        if caller.role == Role::Admin {
            items.push(("Quản trị", "/quan-tri"));
        }
        f.nav = items
            .into_iter()
            .map(|(label, href)| Link {
                label: label.into(),
                href: href.into(),
                current: here == href || here.starts_with(&format!("{href}/")),
            })
            .collect();
        f
    }

    /// Loads htmx on this page (the intake form's inline checks and partial answers);
    /// other pages do without its 37 KB.
    pub fn with_htmx(mut self) -> Self {
        self.htmx = asset("vendor/htmx.min.js");
        self
    }

    pub fn crumb(mut self, label: impl Into<String>, href: impl Into<String>) -> Self {
        self.crumbs.push(Link {
            label: label.into(),
            href: href.into(),
            current: false,
        });
        self
    }
}

/// An error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub frame: Frame,
    pub heading: String,
    pub message: String,
    /// The error's stable code (as the JSON API gives it), for the help desk.
    pub code: Option<String>,
    pub back: Option<Link>,
}

/// What a page handler may answer instead of its page.
#[derive(Debug)]
pub enum WebError {
    /// Not signed in (or the session ended): to the login page, then back to `next`.
    Login { next: String, ended: bool },
    /// A form without its CSRF token (or with a wrong one).
    Csrf,
    /// A use-case error shown as a page.
    App(AppError),
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebError::Login { .. } => write!(f, "login required"),
            WebError::Csrf => write!(f, "csrf token missing or wrong"),
            WebError::App(e) => write!(f, "{}: {}", e.error, e.message),
        }
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::App(e)
    }
}

impl From<actix_web::error::BlockingError> for WebError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        WebError::App(AppError::internal())
    }
}

pub type WebResult<T> = Result<T, WebError>;

pub(crate) use crate::http::error::status_of;

/// What [`encode`] escapes: everything but letters, digits and `-._~` (RFC 3986's
/// unreserved characters), so codes like `000.00.51.H26-261130-0001` stay readable.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path segment or a query value.
pub fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::Login { .. } => StatusCode::SEE_OTHER,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::App(e) => status_of(e.kind),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            WebError::Login { next, ended } => {
                let mut url = format!("/dang-nhap?next={}", encode(next));
                if *ended {
                    url.push_str("&het-phien=1");
                }
                HttpResponse::SeeOther()
                    .insert_header(("Location", url))
                    .insert_header(("Cache-Control", "no-store"))
                    .finish()
            }
            WebError::Csrf => {
                let page = ErrorPage {
                    frame: Frame::plain("Yêu cầu bị từ chối"),
                    heading: "Yêu cầu bị từ chối".into(),
                    message: "Biểu mẫu thiếu mã xác thực hoặc mã đã hết hạn. Vui lòng mở lại trang và gửi lại biểu mẫu.".into(),
                    code: Some("csrf".into()),
                    back: Some(Link { label: "Về trang chủ".into(), href: "/".into(), current: false }),
                };
                render_status(StatusCode::FORBIDDEN, &page)
            }
            WebError::App(e) => {
                let heading = match e.kind {
                    ErrorKind::NotFound => "Không tìm thấy",
                    ErrorKind::Forbidden => "Không có quyền truy cập",
                    ErrorKind::TooManyRequests => "Quá nhiều yêu cầu",
                    ErrorKind::Unavailable => "Hệ thống tạm thời gián đoạn",
                    ErrorKind::Internal => "Lỗi hệ thống",
                    _ => "Không thực hiện được yêu cầu",
                };
                let page = ErrorPage {
                    frame: Frame::plain(heading),
                    heading: heading.into(),
                    message: e.message.clone(),
                    code: Some(e.error.to_string()),
                    back: Some(Link {
                        label: "Về trang chủ".into(),
                        href: "/".into(),
                        current: false,
                    }),
                };
                let mut res = render_status(status_of(e.kind), &page);
                if let Some(s) = e.retry_after.or(match e.kind {
                    ErrorKind::Unavailable => Some(crate::error::default_retry_after()),
                    _ => None,
                }) {
                    res.headers_mut().insert(
                        HeaderName::from_static("retry-after"),
                        HeaderValue::from_str(&s.to_string()).expect("digits"),
                    );
                }
                res
            }
        }
    }
}

/// Security headers on every page and a no-store cache rule on pages (static files set
/// their own).
pub async fn page_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    let set = |h: &mut actix_web::http::header::HeaderMap, k: &'static str, v: &'static str| {
        if !h.contains_key(k) {
            h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
    };
    set(h, "content-security-policy", CSP);
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(h, "cache-control", "no-store");
    Ok(res)
}

/// A figure of the home page, linked to where its dossiers are listed.
pub struct Figure {
    pub label: &'static str,
    pub value: i64,
    pub href: Option<String>,
    /// Worth attention now (overdue, to close): shown in red when not zero.
    pub alarm: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub frame: Frame,
    pub greeting: String,
    pub agency: String,
    pub today: String,
    pub clerk: bool,
    pub work: Vec<Figure>,
    pub day: Vec<Figure>,
}

/// `GET /`: each role's home page — today's figures of their agency and the counts of
/// their queue, each linked to its tab; an administrator goes to the administration,
/// other roles to the search.
async fn home(who: session::Staff) -> WebResult<HttpResponse> {
    if who.caller.role == Role::Admin {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", "/quan-tri"))
            .finish());
    }
    if !matches!(who.caller.role, Role::Clerk | Role::Official | Role::Leader) {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", "/ho-so"))
            .finish());
    }
    let a = who.app.get_ref().clone();
    let c = who.caller.clone();
    let now = who.app.clock.now();
    let figures = crate::http::block(move || a.home_figures(&c, now)).await??;
    use crate::service::queue::Tab;
    let work = figures
        .tabs
        .iter()
        .filter(|(_, n)| *n >= 0)
        .map(|(t, n)| Figure {
            label: t.label(),
            value: *n,
            href: Some(format!("/hang-doi?tab={}", t.slug())),
            alarm: matches!(t, Tab::Overdue | Tab::ToClose) && *n > 0,
        })
        .collect();
    let mut day = vec![Figure {
        label: "Đã trả kết quả hôm nay",
        value: figures.returned_today,
        href: None,
        alarm: false,
    }];
    if who.caller.role == Role::Clerk {
        day.insert(
            0,
            Figure {
                label: "Hồ sơ tiếp nhận hôm nay",
                value: figures.received_today,
                href: None,
                alarm: false,
            },
        );
    }
    let page = HomePage {
        frame: who.frame("Trang chủ", "/"),
        greeting: who.caller.full_name.clone(),
        agency: who
            .app
            .agencies
            .get(&who.caller.agency)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| who.caller.agency.clone()),
        today: long_moment(now, who.app.settings.offset),
        clerk: who.caller.role == Role::Clerk,
        work,
        day,
    };
    Ok(render(&page))
}

/// Routes of the pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(assets::configure).service(
        web::scope("")
            .wrap(from_fn(page_headers))
            .wrap(from_fn(crate::http::reject_hostile_text))
            .wrap(from_fn(crate::http::guard_database))
            .app_data(web::FormConfig::default().limit(256 * 1024))
            .route("/", web::get().to(home))
            .route("/api/docs", web::get().to(api_docs::page))
            .route("/dang-nhap", web::get().to(session::login_page))
            .route("/dang-nhap", web::post().to(session::login))
            .route("/dang-xuat", web::post().to(session::logout))
            .route("/tiep-nhan", web::get().to(intake::page))
            .route("/tiep-nhan", web::post().to(intake::submit))
            .route("/tiep-nhan/kiem-tra", web::post().to(intake::check_field))
            .route("/hang-doi", web::get().to(queue::page))
            .route("/hang-doi/thao-tac", web::post().to(queue::bulk))
            .route("/ho-so", web::get().to(dossier::search))
            .route("/bao-cao", web::get().to(reports::page))
            .route(
                "/bao-cao/so-theo-doi.xlsx",
                web::get().to(reports::tracking_book),
            )
            .route("/bao-cao/chi-tieu.{kind}", web::get().to(reports::export))
            .route("/ho-so/{code}", web::get().to(dossier::page))
            .route(
                "/ho-so/{code}/giay-tiep-nhan",
                web::post().to(dossier::receipt_pdf),
            )
            .route("/ho-so/{code}/su-kien", web::post().to(dossier::event))
            .route("/ho-so/{code}/ban-so-hoa", web::post().to(dossier::upload))
            .route("/ho-so/{code}/phieu/{form}", web::get().to(dossier::notice))
            .route("/ho-so/{code}/tep/{id}", web::get().to(dossier::file))
            .route("/cong-khai", web::get().to(public_stats::page))
            .route("/cong-khai.csv", web::get().to(public_stats::csv_file))
            .route("/tra-cuu", web::get().to(citizen::form_page))
            .route("/tra-cuu", web::post().to(citizen::lookup))
            .route("/tra-cuu/{code}", web::get().to(citizen::code_page))
            .route("/tra-cuu/{code}", web::post().to(citizen::lookup_code))
            .route("/tra-cuu/{code}/danh-gia", web::post().to(citizen::rate))
            .route(
                "/tra-cuu/{code}/ket-qua/{id}",
                web::post().to(citizen::result),
            )
            .route("/phan-anh", web::get().to(petitions::form))
            .route("/phan-anh", web::post().to(petitions::submit))
            .route("/phan-anh/xu-ly", web::get().to(petitions::queue))
            .route("/phan-anh/xu-ly/{code}", web::get().to(petitions::detail))
            .route("/phan-anh/xu-ly/{code}", web::post().to(petitions::command))
            .route("/phan-anh/{code}", web::get().to(petitions::lookup))
            .route("/phan-anh/{code}", web::post().to(petitions::status))
            .configure(admin::configure),
    );
}
