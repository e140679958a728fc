//! The citizens' pages (issue #16): the status lookup by code and pin that the receipt's
//! QR code opens, and the rating after return. Server-rendered, no script needed, phone
//! first; the same use cases as `GET /api/v1/public/dossiers/{code}` and its rating.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{moment, render_status, ErrorPage, Frame, Link, WebError, WebResult};
use crate::core::dossier::Status;
use crate::error::{AppError, ErrorKind};
use crate::http::AppData;
use crate::service::lookup::{Proof, PublicDossier};

/// The browser's cookie that the citizens' forms are bound to (CSRF), on their paths only.
const CITIZEN_COOKIE: &str = "motcua_tc";

#[derive(Template)]
#[template(path = "citizen_lookup.html")]
struct LookupPage {
    frame: Frame,
    action: String,
    code: String,
    /// The code came with the address (the QR code): shown, not asked.
    fixed_code: bool,
    error: Option<String>,
    /// The field the error belongs to (`ma` or `pin`).
    error_field: &'static str,
}

/// What the status page shows, in words and dd/mm/yyyy.
struct StatusView {
    code: String,
    code_path: String,
    procedure: String,
    status_label: &'static str,
    /// The badge's colour class, as on the staff pages.
    badge: &'static str,
    plain: String,
    applicant: String,
    received: Option<String>,
    due: Option<String>,
    reappointed: Option<String>,
    finished: Option<String>,
    agency: String,
    result_ready: bool,
    history: Vec<(String, &'static str)>,
    rated: bool,
    can_rate: bool,
    /// What the applicant must do: a heading, the papers, the reason.
    to_do: Option<(&'static str, Vec<String>, String)>,
    /// The fee: amount, paid, left to pay (in words with the đồng sign).
    fee: Option<(String, String, Option<String>)>,
    /// Electronic results to download: (id for the address, name, number, issued on).
    results: Vec<(String, String, Option<String>, String)>,
}

/// `1.250.000 đồng`: the charts' Vietnamese thousands separator, with the currency.
fn dong(n: i64) -> String {
    format!("{} đồng", super::charts::format_count(n as f64))
}

#[derive(Template)]
#[template(path = "citizen_status.html")]
struct StatusPage {
    frame: Frame,
    d: StatusView,
    /// The pin, for the rating form of the same page (never in an address).
    pin: String,
    notice: Option<String>,
    rating_error: Option<String>,
}

/// What the status means for the applicant, in plain words (every status of
/// [`Status`], matched exhaustively: a new one cannot be forgotten here).
fn plain_words(d: &PublicDossier) -> String {
    let Some(status) = Status::parse(&d.status) else {
        return d.status_label.to_string();
    };
    match status {
        Status::Submitted => "Hồ sơ nộp trực tuyến đang chờ Bộ phận Một cửa kiểm tra và tiếp nhận.",
        Status::NeedsCorrection => "Hồ sơ nộp trực tuyến cần sửa đổi, bổ sung trước khi được tiếp nhận. Vui lòng làm theo hướng dẫn đã gửi.",
        Status::RefusedAtIntake => "Hồ sơ không được tiếp nhận. Lý do được ghi trong thông báo đã gửi ông/bà.",
        Status::Received | Status::InProgress => "Hồ sơ đang được giải quyết. Ông/bà chưa cần làm gì thêm.",
        Status::SupplementRequested => "Cơ quan giải quyết yêu cầu bổ sung, hoàn thiện hồ sơ. Vui lòng xem phiếu yêu cầu bổ sung đã nhận và liên hệ Bộ phận Một cửa.",
        Status::Paused => "Việc giải quyết hồ sơ đang tạm dừng theo quy định; thời hạn không tính trong thời gian tạm dừng.",
        Status::Approved => "Đã có kết quả giải quyết. Vui lòng đến Bộ phận Một cửa (hoặc theo hình thức đã đăng ký) để nhận kết quả.",
        Status::Refused => "Cơ quan có thẩm quyền đã có văn bản từ chối giải quyết, nêu rõ lý do. Vui lòng nhận văn bản tại Bộ phận Một cửa (hoặc theo hình thức đã đăng ký).",
        Status::Returned => "Đã trả kết quả cho người nộp hồ sơ.",
        Status::Stopped => "Hồ sơ đã dừng giải quyết. Lý do được ghi trong văn bản cơ quan đã gửi ông/bà.",
        Status::Closed => "Hồ sơ đã đóng vì không được bổ sung đủ trong thời hạn. Lý do được ghi trong văn bản cơ quan đã gửi ông/bà.",
    }
    .into()
}

fn view(app: &AppData, d: &PublicDossier) -> StatusView {
    let offset = app.settings.offset;
    let t = |x: Option<chrono::DateTime<chrono::Utc>>| x.map(|x| moment(x, offset));
    StatusView {
        code: d.code.clone(),
        code_path: super::encode(&d.code),
        procedure: d.procedure.name.clone(),
        status_label: d.status_label,
        badge: super::dossier::status_class(&d.status),
        plain: plain_words(d),
        applicant: d.applicant_name.clone(),
        received: t(d.received_at),
        due: t(d.due_at),
        reappointed: t(d.reappointed_at),
        finished: t(d.finished_at),
        agency: d.current_agency.name.clone(),
        result_ready: d.result_ready,
        history: d
            .history
            .iter()
            .map(|h| (moment(h.at, offset), h.label))
            .collect(),
        rated: d.rated,
        can_rate: d.status == "returned" && !d.rated,
        to_do: d.requested.as_ref().map(|r| {
            (
                match r.kind {
                    "correction" => "Ông/bà cần sửa đổi, bổ sung hồ sơ nộp trực tuyến",
                    _ => "Ông/bà cần bổ sung, hoàn thiện hồ sơ",
                },
                r.items.clone(),
                r.reason.clone(),
            )
        }),
        fee: d.fee.as_ref().map(|f| {
            (
                dong(f.amount),
                dong(f.paid),
                (f.outstanding > 0).then(|| dong(f.outstanding)),
            )
        }),
        results: d
            .results
            .iter()
            .map(|r| {
                (
                    super::encode(&r.id),
                    r.name.clone(),
                    r.number.clone(),
                    r.issued_on.format("%d/%m/%Y").to_string(),
                )
            })
            .collect(),
    }
}

/// The form token of a citizen's pages, who have no session: a random nonce in an
/// HttpOnly, SameSite=Strict cookie scoped to the pages' path, and the CSRF token bound to
/// it. The lookup (`/tra-cuu`) and the petitions (`/phan-anh`) each have their own.
pub(crate) struct CitizenForms {
    pub cookie: &'static str,
    pub path: &'static str,
}

/// The lookup's.
const LOOKUP: CitizenForms = CitizenForms {
    cookie: CITIZEN_COOKIE,
    path: "/tra-cuu",
};

impl CitizenForms {
    fn cookie(&self, app: &AppData, nonce: &str) -> Cookie<'static> {
        let mut c = Cookie::new(self.cookie, nonce.to_string());
        c.set_path(self.path);
        c.set_http_only(true);
        c.set_same_site(SameSite::Strict);
        c.set_secure(app.settings.https);
        c
    }

    /// The frame of a citizen's page, its form token and, for a new browser, the cookie.
    pub(crate) fn frame(
        &self,
        app: &AppData,
        req: &HttpRequest,
        title: &str,
    ) -> WebResult<(Frame, Option<Cookie<'static>>)> {
        let (nonce, fresh) = match req.cookie(self.cookie) {
            Some(c) if c.value().len() == 64 => (c.value().to_string(), false),
            _ => (crate::service::sessions::random_id()?, true),
        };
        let mut f = Frame::new(app, title);
        f.csrf = app.citizen_csrf_token(&nonce);
        Ok((f, fresh.then(|| self.cookie(app, &nonce))))
    }

    pub(crate) fn check_csrf(
        &self,
        app: &AppData,
        req: &HttpRequest,
        token: Option<&str>,
    ) -> WebResult<()> {
        let nonce = req.cookie(self.cookie).map(|c| c.value().to_string());
        match (nonce, token) {
            (Some(n), Some(t)) if app.csrf_holds(&app.citizen_csrf_token(&n), t) => Ok(()),
            _ => Err(WebError::Csrf),
        }
    }
}

fn frame(
    app: &AppData,
    req: &HttpRequest,
    title: &str,
) -> WebResult<(Frame, Option<Cookie<'static>>)> {
    LOOKUP.frame(app, req, title)
}

fn check_csrf(app: &AppData, req: &HttpRequest, token: Option<&str>) -> WebResult<()> {
    LOOKUP.check_csrf(app, req, token)
}

pub(crate) fn with_cookie(
    mut res: HttpResponse,
    c: Option<Cookie<'static>>,
) -> WebResult<HttpResponse> {
    if let Some(c) = c {
        res.add_cookie(&c).map_err(|_| AppError::internal())?;
    }
    Ok(res)
}

/// A code as typed or scanned: trimmed, upper-cased (codes are), at most 64 characters.
fn clean_code(s: &str) -> String {
    s.trim().to_uppercase().chars().take(64).collect()
}

fn lookup_form(
    app: &AppData,
    req: &HttpRequest,
    code: String,
    fixed_code: bool,
    error: Option<(&'static str, String)>,
    status: StatusCode,
) -> WebResult<HttpResponse> {
    let (frame, c) = frame(app, req, "Tra cứu hồ sơ")?;
    let action = if fixed_code {
        format!("/tra-cuu/{}", super::encode(&code))
    } else {
        "/tra-cuu".into()
    };
    let (error_field, error) = match error {
        Some((f, e)) => (f, Some(e)),
        None => ("", None),
    };
    let page = LookupPage {
        frame,
        action,
        code,
        fixed_code,
        error,
        error_field,
    };
    with_cookie(render_status(status, &page), c)
}

/// The form again, with the one answer to a wrong code or pin (the same whether or not the
/// code exists).
fn wrong_code_or_pin(
    app: &AppData,
    req: &HttpRequest,
    code: String,
    fixed_code: bool,
) -> WebResult<HttpResponse> {
    lookup_form(
        app,
        req,
        code,
        fixed_code,
        Some((
            "pin",
            "Mã hồ sơ hoặc mã tra cứu không đúng. Vui lòng kiểm tra lại trên giấy tiếp nhận."
                .into(),
        )),
        StatusCode::NOT_FOUND,
    )
}

#[derive(Deserialize)]
pub struct LookupQuery {
    #[serde(default)]
    ma: Option<String>,
}

/// `GET /tra-cuu`: the lookup form (code and pin).
pub async fn form_page(
    app: AppData,
    req: HttpRequest,
    q: web::Query<LookupQuery>,
) -> WebResult<HttpResponse> {
    let code = q.ma.as_deref().map(clean_code).unwrap_or_default();
    lookup_form(&app, &req, code, false, None, StatusCode::OK)
}

/// `GET /tra-cuu/{code}`: where the receipt's QR code lands: the pin is asked.
pub async fn code_page(
    app: AppData,
    req: HttpRequest,
    path: web::Path<String>,
) -> WebResult<HttpResponse> {
    lookup_form(&app, &req, clean_code(&path), true, None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct LookupForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    ma: Option<String>,
    #[serde(default)]
    pin: String,
}

/// A citizen's page that says how long to wait (429, `Retry-After`), never why beyond
/// "too many": `message` gets the minutes to wait. The lookup's and the petitions'.
pub(crate) fn wait_page(
    e: &AppError,
    title: &str,
    heading: &str,
    message: impl FnOnce(u32) -> String,
    back: Link,
) -> HttpResponse {
    let seconds = e.retry_after.unwrap_or(60);
    let page = ErrorPage {
        frame: Frame::plain(title),
        heading: heading.into(),
        message: message(seconds.div_ceil(60)),
        code: Some(e.error.to_string()),
        back: Some(back),
    };
    let mut res = render_status(StatusCode::TOO_MANY_REQUESTS, &page);
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&seconds.to_string()) {
        res.headers_mut()
            .insert(actix_web::http::header::RETRY_AFTER, v);
    }
    res
}

/// The too-many-attempts page: it says how long to wait, never whether the code exists.
fn too_many(e: &AppError) -> HttpResponse {
    wait_page(
        e,
        "Tạm khóa tra cứu",
        "Tạm khóa tra cứu",
        |minutes| {
            format!("Ông/bà đã nhập sai quá nhiều lần. Để bảo vệ thông tin hồ sơ, việc tra cứu tạm khóa; vui lòng thử lại sau khoảng {minutes} phút, hoặc liên hệ Bộ phận Một cửa nơi đã nộp hồ sơ.")
        },
        Link {
            label: "Về trang tra cứu".into(),
            href: "/tra-cuu".into(),
            current: false,
        },
    )
}

async fn answer(
    app: AppData,
    req: HttpRequest,
    code: String,
    fixed_code: bool,
    pin: String,
) -> WebResult<HttpResponse> {
    if code.is_empty() {
        return lookup_form(
            &app,
            &req,
            code,
            fixed_code,
            Some(("ma", "Nhập mã hồ sơ in trên giấy tiếp nhận".into())),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    if pin.trim().is_empty() {
        return lookup_form(
            &app,
            &req,
            code,
            fixed_code,
            Some(("pin", "Nhập mã tra cứu (PIN) in trên giấy tiếp nhận".into())),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let address = crate::http::auth::client_address(&req);
    let proof = Proof::Pin(pin.clone());
    // The same cached view as the JSON lookup's.
    let found = match app.lookup_cached(&code, &proof, &address, app.clock.now()) {
        Some(d) => Ok(d),
        None => {
            let a = app.get_ref().clone();
            let c = code.clone();
            crate::http::block(move || a.lookup_uncached(&c, &proof, &address, a.clock.now()))
                .await?
        }
    };
    match found {
        Ok(d) => status_page(&app, &req, &d, pin, None, None, StatusCode::OK),
        Err(e) if e.kind == ErrorKind::TooManyRequests => Ok(too_many(&e)),
        Err(e) if e.kind == ErrorKind::NotFound => wrong_code_or_pin(&app, &req, code, fixed_code),
        Err(e) => Err(e.into()),
    }
}

fn status_page(
    app: &AppData,
    req: &HttpRequest,
    d: &PublicDossier,
    pin: String,
    notice: Option<String>,
    rating_error: Option<String>,
    status: StatusCode,
) -> WebResult<HttpResponse> {
    let (frame, c) = frame(app, req, &format!("Hồ sơ {}", d.code))?;
    let page = StatusPage {
        frame,
        d: view(app, d),
        pin,
        notice,
        rating_error,
    };
    with_cookie(render_status(status, &page), c)
}

/// `POST /tra-cuu`: code and pin typed.
pub async fn lookup(
    app: AppData,
    req: HttpRequest,
    form: web::Form<LookupForm>,
) -> WebResult<HttpResponse> {
    let form = form.into_inner();
    check_csrf(&app, &req, form.csrf.as_deref())?;
    let code = form.ma.as_deref().map(clean_code).unwrap_or_default();
    answer(app, req, code, false, form.pin).await
}

/// `POST /tra-cuu/{code}`: the pin typed on the QR code's page.
pub async fn lookup_code(
    app: AppData,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<LookupForm>,
) -> WebResult<HttpResponse> {
    let form = form.into_inner();
    check_csrf(&app, &req, form.csrf.as_deref())?;
    answer(app, req, clean_code(&path), true, form.pin).await
}

#[derive(Deserialize)]
pub struct RatingForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    diem: Option<String>,
    #[serde(default)]
    y_kien: Option<String>,
}

/// `POST /tra-cuu/{code}/danh-gia`: the applicant's rating, once, after return; the
/// status page again with the outcome in words.
pub async fn rate(
    app: AppData,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<RatingForm>,
) -> WebResult<HttpResponse> {
    use crate::core::machine::Satisfaction;
    let form = form.into_inner();
    check_csrf(&app, &req, form.csrf.as_deref())?;
    let code = clean_code(&path);
    let score = match form.diem.as_deref() {
        Some("very_satisfied") => Some(Satisfaction::VerySatisfied),
        Some("satisfied") => Some(Satisfaction::Satisfied),
        Some("unsatisfied") => Some(Satisfaction::Unsatisfied),
        _ => None,
    };
    let comment = form
        .y_kien
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    let address = crate::http::auth::client_address(&req);
    let a = app.get_ref().clone();
    let (c, p) = (code.clone(), form.pin.clone());
    let rated = match score {
        Some(score) => Some(
            crate::http::block(move || {
                a.rate_as_applicant(&c, &p, score, comment, &address, a.clock.now())
            })
            .await?,
        ),
        None => None,
    };
    let (notice, rating_error, status) = match rated {
        None => (
            None,
            Some("Vui lòng chọn một mức đánh giá.".to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Some(Ok(_)) => (
            Some("Cảm ơn ông/bà đã đánh giá. Ý kiến đã được ghi nhận.".to_string()),
            None,
            StatusCode::OK,
        ),
        Some(Err(e)) if e.kind == ErrorKind::TooManyRequests => return Ok(too_many(&e)),
        Some(Err(e)) if e.kind == ErrorKind::NotFound => {
            return wrong_code_or_pin(&app, &req, code, true)
        }
        // A comment refused (too long, a control character): said above the form.
        Some(Err(e)) if matches!(e.kind, ErrorKind::BadRequest | ErrorKind::Invalid) => {
            (None, Some(e.message), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Some(Err(e)) if e.kind == ErrorKind::Conflict => {
            (None, Some(e.message), StatusCode::CONFLICT)
        }
        Some(Err(e)) => return Err(e.into()),
    };
    // The page again, as it is now (the pin proven above, or proven again here).
    let address = crate::http::auth::client_address(&req);
    let a = app.get_ref().clone();
    let (c, p) = (code.clone(), form.pin.clone());
    let d =
        crate::http::block(move || a.lookup_shared(&c, &Proof::Pin(p), &address, a.clock.now()))
            .await?;
    match d {
        Ok(d) => status_page(&app, &req, &d, form.pin, notice, rating_error, status),
        Err(e) if e.kind == ErrorKind::TooManyRequests => Ok(too_many(&e)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ResultForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    pin: String,
}

/// `POST /tra-cuu/{code}/ket-qua/{id}`: the applicant downloads an electronic result with
/// the pin (a form field, never in the address); a wrong code or pin as the lookup.
pub async fn result(
    app: AppData,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<ResultForm>,
) -> WebResult<HttpResponse> {
    let form = form.into_inner();
    check_csrf(&app, &req, form.csrf.as_deref())?;
    let (code, id) = path.into_inner();
    let code = clean_code(&code);
    let address = crate::http::auth::client_address(&req);
    let a = app.get_ref().clone();
    let (c, p) = (code.clone(), form.pin.clone());
    let got = crate::http::block(move || {
        let r = a.public_result(&c, &p, &id, &address, a.clock.now())?;
        let bytes = crate::http::files::read_blob(&a, &r.sha256)?;
        Ok::<_, AppError>((r, bytes))
    })
    .await?;
    match got {
        Ok((r, bytes)) => {
            let ext = crate::files::MediaType::parse(&r.media_type)
                .map(|m| m.extension())
                .unwrap_or("bin");
            Ok(crate::http::files::send_file(
                bytes,
                &r.media_type,
                &format!("{}.{ext}", r.document.id),
            ))
        }
        Err(e) if e.kind == ErrorKind::TooManyRequests => Ok(too_many(&e)),
        Err(e) if e.kind == ErrorKind::NotFound => wrong_code_or_pin(&app, &req, code, true),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dong_groups_thousands_with_dots() {
        assert_eq!(super::dong(0), "0 đồng");
        assert_eq!(super::dong(999), "999 đồng");
        assert_eq!(super::dong(50_000), "50.000 đồng");
        assert_eq!(super::dong(1_250_000), "1.250.000 đồng");
    }
}
