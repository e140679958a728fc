//! Petition pages (*phản ánh, kiến nghị*, issue #17): the public form `/phan-anh` with its
//! confirmation, the citizen's status by code and pin, and the staff's queue
//! `/phan-anh/xu-ly` with each petition's page (assign, answer, close). The same use cases
//! as the JSON API (`service::petitions`); every form works without JavaScript.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::Staff;
use super::{day, moment, render, render_status, Frame, Link, WebResult};
use crate::error::{AppError, ErrorKind};
use crate::http::AppData;
use crate::service::petitions::{
    PetitionCommand, PetitionQuery, PetitionTab, PetitionView, PublicPetition, SubmitRequest,
    Submitted,
};
use crate::service::queue::Urgency;

/// The browser's cookie the petition forms are bound to (CSRF), on their paths only.
const PETITION_COOKIE: &str = "motcua_pa";

/// Lines per page of the staff queue.
const PAGE: i64 = 50;

/// The page's id of each field of the service (`service::petitions::SubmitRequest`).
fn field_id(field: &str) -> &'static str {
    match field {
        "kind" => "loai",
        "full_name" => "ho-ten",
        "email" => "email",
        "phone" => "dien-thoai",
        "agency" => "co-quan",
        "dossier_code" => "ma-ho-so",
        "pin" => "pin",
        _ => "noi-dung-phan-anh",
    }
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A field's error: the page's id and the message.
pub struct FieldError {
    pub id: &'static str,
    pub message: String,
}

#[derive(Template)]
#[template(path = "petition_form.html")]
struct FormPage {
    frame: Frame,
    errors: Vec<FieldError>,
    kind: String,
    full_name: String,
    email: String,
    phone: String,
    agencies: Vec<Opt>,
    dossier_code: String,
    content: String,
    answer_within: String,
    max_content: usize,
}

impl FormPage {
    fn err(&self, id: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.message.as_str())
    }
}

#[derive(Template)]
#[template(path = "petition_done.html")]
struct DonePage {
    frame: Frame,
    code: String,
    code_path: String,
    pin: String,
    kind: &'static str,
    submitted: String,
    due: String,
    answer_within: String,
    agency: String,
}

#[derive(Template)]
#[template(path = "petition_lookup.html")]
struct LookupPage {
    frame: Frame,
    code: String,
    code_path: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "petition_status.html")]
struct StatusPage {
    frame: Frame,
    p: PublicPetition,
    submitted: String,
    due: String,
    answered: Option<String>,
    outcome: Option<&'static str>,
    badge: &'static str,
}

/// The petitions' own form token and cookie (`/phan-anh`).
const FORMS: super::citizen::CitizenForms = super::citizen::CitizenForms {
    cookie: PETITION_COOKIE,
    path: "/phan-anh",
};

fn frame(
    app: &AppData,
    req: &HttpRequest,
    title: &str,
) -> WebResult<(Frame, Option<Cookie<'static>>)> {
    FORMS.frame(app, req, title)
}

fn check_csrf(app: &AppData, req: &HttpRequest, token: Option<&str>) -> WebResult<()> {
    FORMS.check_csrf(app, req, token)
}

use super::citizen::with_cookie;

/// The form's fields as typed.
#[derive(Deserialize, Default)]
pub struct PetitionForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    loai: String,
    #[serde(default, rename = "ho-ten")]
    full_name: String,
    #[serde(default)]
    email: String,
    #[serde(default, rename = "dien-thoai")]
    phone: String,
    #[serde(default, rename = "co-quan")]
    agency: String,
    #[serde(default, rename = "ma-ho-so")]
    dossier_code: String,
    #[serde(default)]
    pin: String,
    #[serde(default, rename = "noi-dung")]
    content: String,
    /// The honeypot.
    #[serde(default)]
    website: String,
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string()).filter(|s| !s.trim().is_empty())
}

fn form_page(
    app: &AppData,
    req: &HttpRequest,
    form: &PetitionForm,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> WebResult<HttpResponse> {
    let (frame, c) = frame(app, req, "Gửi phản ánh, kiến nghị")?;
    let agencies = app
        .agencies
        .agencies
        .iter()
        .map(|a| Opt {
            selected: a.code == form.agency,
            value: a.code.clone(),
            label: a.name.clone(),
        })
        .collect();
    let page = FormPage {
        frame,
        errors,
        kind: form.loai.clone(),
        full_name: form.full_name.clone(),
        email: form.email.clone(),
        phone: form.phone.clone(),
        agencies,
        dossier_code: form.dossier_code.clone(),
        content: form.content.clone(),
        answer_within: app.petitions.answer_within.to_string(),
        max_content: app.petitions.max_content_chars,
    };
    with_cookie(render_status(status, &page), c)
}

/// `GET /phan-anh`: the public form.
pub async fn form(app: AppData, req: HttpRequest) -> WebResult<HttpResponse> {
    form_page(
        &app,
        &req,
        &PetitionForm::default(),
        Vec::new(),
        StatusCode::OK,
    )
}

/// The too-many page of the petition forms (submissions or pins).
fn too_many(e: &AppError, back: &str) -> HttpResponse {
    super::citizen::wait_page(
        e,
        "Tạm ngừng nhận",
        "Vui lòng thử lại sau",
        |minutes| {
            format!("{} Ông/bà có thể thử lại sau khoảng {minutes} phút, hoặc liên hệ trực tiếp cơ quan.", e.message)
        },
        Link {
            label: "Quay lại".into(),
            href: back.into(),
            current: false,
        },
    )
}

fn done_page(app: &AppData, req: &HttpRequest, s: &Submitted) -> WebResult<HttpResponse> {
    let (frame, c) = frame(app, req, "Đã gửi phản ánh, kiến nghị")?;
    let offset = app.settings.offset;
    let page = DonePage {
        frame,
        code_path: super::encode(&s.code),
        code: s.code.clone(),
        pin: s.pin.clone(),
        kind: s.kind.label_vi(),
        submitted: moment(s.submitted_at, offset),
        due: day(s.due_at, offset),
        answer_within: s.answer_within.clone(),
        agency: s.agency.name.clone(),
    };
    with_cookie(render(&page), c)
}

/// `POST /phan-anh`: the submission; the confirmation with the code, the pin and the due
/// date, or the form again with each error next to its field and in the summary.
pub async fn submit(
    app: AppData,
    req: HttpRequest,
    form: web::Form<PetitionForm>,
) -> WebResult<HttpResponse> {
    let form = form.into_inner();
    check_csrf(&app, &req, form.csrf.as_deref())?;
    let request = SubmitRequest {
        kind: form.loai.clone(),
        full_name: form.full_name.clone(),
        email: some(&form.email),
        phone: some(&form.phone),
        agency: some(&form.agency),
        dossier_code: some(&form.dossier_code),
        pin: some(&form.pin),
        content: form.content.clone(),
        website: some(&form.website),
    };
    let address = crate::http::auth::client_address(&req);
    let a = app.get_ref().clone();
    let done =
        crate::http::block(move || a.submit_petition(&request, &address, a.clock.now())).await?;
    match done {
        Ok(s) => done_page(&app, &req, &s),
        Err(e) if e.kind == ErrorKind::TooManyRequests => Ok(too_many(&e, "/phan-anh")),
        Err(e) if e.kind == ErrorKind::NotFound => form_page(
            &app,
            &req,
            &form,
            vec![FieldError {
                id: "pin",
                message: "Mã hồ sơ hoặc mã tra cứu không đúng. Vui lòng kiểm tra lại trên giấy tiếp nhận, hoặc bỏ trống cả hai ô và chọn cơ quan.".into(),
            }],
            StatusCode::NOT_FOUND,
        ),
        Err(e) if e.kind == ErrorKind::Invalid => {
            let errors = e
                .details
                .as_ref()
                .and_then(|d| d["fields"].as_array())
                .map(|fields| {
                    fields
                        .iter()
                        .map(|f| FieldError {
                            id: field_id(f["field"].as_str().unwrap_or_default()),
                            message: f["message"].as_str().unwrap_or_default().to_string(),
                        })
                        .collect()
                })
                .unwrap_or_else(|| {
                    vec![FieldError {
                        id: "noi-dung-phan-anh",
                        message: e.message.clone(),
                    }]
                });
            form_page(&app, &req, &form, errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
}

fn lookup_page(
    app: &AppData,
    req: &HttpRequest,
    code: &str,
    error: Option<String>,
    status: StatusCode,
) -> WebResult<HttpResponse> {
    let (frame, c) = frame(app, req, "Tra cứu phản ánh, kiến nghị")?;
    let page = LookupPage {
        frame,
        code: code.to_string(),
        code_path: super::encode(code),
        error,
    };
    with_cookie(render_status(status, &page), c)
}

fn clean_code(s: &str) -> String {
    s.trim().to_uppercase().chars().take(64).collect()
}

/// `GET /phan-anh/{code}`: the pin is asked.
pub async fn lookup(
    app: AppData,
    req: HttpRequest,
    path: web::Path<String>,
) -> WebResult<HttpResponse> {
    lookup_page(&app, &req, &clean_code(&path), None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct PinForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    pin: String,
}

/// `POST /phan-anh/{code}`: the petition's status with its pin.
pub async fn status(
    app: AppData,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<PinForm>,
) -> WebResult<HttpResponse> {
    let form = form.into_inner();
    check_csrf(&app, &req, form.csrf.as_deref())?;
    let code = clean_code(&path);
    if form.pin.trim().is_empty() {
        return lookup_page(
            &app,
            &req,
            &code,
            Some("Nhập mã tra cứu (PIN) đã nhận khi gửi phản ánh, kiến nghị".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let address = crate::http::auth::client_address(&req);
    let a = app.get_ref().clone();
    let c = code.clone();
    let found =
        crate::http::block(move || a.petition_status(&c, &form.pin, &address, a.clock.now()))
            .await?;
    let p = match found {
        Ok(p) => p,
        Err(e) if e.kind == ErrorKind::TooManyRequests => {
            return Ok(too_many(&e, &format!("/phan-anh/{}", super::encode(&code))))
        }
        Err(e) if e.kind == ErrorKind::NotFound => {
            return lookup_page(
                &app,
                &req,
                &code,
                Some("Mã phản ánh hoặc mã tra cứu không đúng.".into()),
                StatusCode::NOT_FOUND,
            )
        }
        Err(e) => return Err(e.into()),
    };
    let offset = app.settings.offset;
    let (frame, c) = frame(&app, &req, &format!("Phản ánh, kiến nghị {}", p.code))?;
    let page = StatusPage {
        frame,
        submitted: moment(p.submitted_at, offset),
        due: day(p.due_at, offset),
        answered: p.answered_at.map(|t| moment(t, offset)),
        outcome: p.outcome.map(|o| o.label_vi()),
        badge: match p.status.as_str() {
            "received" => "badge-wait",
            "assigned" => "badge-work",
            _ => "badge-done",
        },
        p,
    };
    with_cookie(render(&page), c)
}

/// A queue line or a petition's page, in words.
pub struct Line {
    pub code: String,
    pub href: String,
    pub kind: &'static str,
    pub agency: String,
    pub submitter: String,
    pub excerpt: String,
    pub submitted: String,
    pub due: String,
    pub remaining: String,
    pub urgency: &'static str,
    pub urgency_class: &'static str,
    pub assignee: String,
    pub status: &'static str,
}

fn line(app: &AppData, v: &PetitionView, names: &[(String, String)]) -> Line {
    let offset = app.settings.offset;
    let per_day = app.calendar.hours().minutes_per_day();
    let (urgency, urgency_class) = match (v.urgency, v.outcome) {
        (Some(Urgency::Overdue), _) => ("Quá hạn", "badge-late"),
        (Some(Urgency::DueSoon), _) => ("Sắp đến hạn", "badge-warn"),
        (Some(_), _) => ("Trong hạn", "badge-ok"),
        (None, Some(o)) if o.as_str() == "late" => ("Trả lời quá hạn", "badge-late"),
        (None, _) => ("Trả lời đúng hạn", "badge-ok"),
    };
    let remaining = match (v.remaining_working_minutes, v.answered_at) {
        (Some(m), _) if m < 0 => format!("Quá {}", super::queue::span(m, per_day)),
        (Some(m), _) => format!("Còn {}", super::queue::span(m, per_day)),
        (None, Some(a)) => format!("Trả lời {}", moment(a, offset)),
        (None, None) => String::new(),
    };
    let excerpt: String = v.content.chars().take(90).collect();
    Line {
        href: format!("/phan-anh/xu-ly/{}", super::encode(&v.code)),
        code: v.code.clone(),
        kind: v.kind_label,
        agency: app
            .agencies
            .get(&v.agency.code)
            .map(|a| a.short_name.clone().unwrap_or_else(|| a.name.clone()))
            .unwrap_or_else(|| v.agency.name.clone()),
        submitter: v.submitter_name.clone(),
        excerpt: if excerpt.chars().count() < v.content.chars().count() {
            format!("{excerpt}…")
        } else {
            excerpt
        },
        submitted: moment(v.submitted_at, offset),
        due: moment(v.due_at, offset),
        remaining,
        urgency,
        urgency_class,
        assignee: v
            .assignee
            .as_ref()
            .map(|u| {
                names
                    .iter()
                    .find(|(n, _)| n == u)
                    .map(|(_, full)| full.clone())
                    .unwrap_or_else(|| u.clone())
            })
            .unwrap_or_default(),
        status: v.status_label,
    }
}

pub struct TabLink {
    pub label: &'static str,
    pub slug: &'static str,
    pub count: i64,
    pub href: String,
    pub current: bool,
    pub alarm: bool,
}

#[derive(Template)]
#[template(path = "petition_queue.html")]
struct QueuePage {
    frame: Frame,
    tabs: Vec<TabLink>,
    tab: &'static str,
    tab_label: &'static str,
    lines: Vec<Line>,
    kinds: Vec<Opt>,
    mine: bool,
    page: i64,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    tab: Option<String>,
    #[serde(default)]
    loai: Option<String>,
    #[serde(default, rename = "cua-toi")]
    mine: Option<String>,
    #[serde(default)]
    trang: Option<i64>,
}

fn tab_slug(t: PetitionTab) -> &'static str {
    match t {
        PetitionTab::Open => "chua-tra-loi",
        PetitionTab::DueSoon => "sap-den-han",
        PetitionTab::Overdue => "qua-han",
        PetitionTab::Answered => "da-tra-loi",
        PetitionTab::Closed => "da-ket-thuc",
    }
}

/// `GET /phan-anh/xu-ly`: the petitions of the caller's agency (and below), soonest due
/// first, by tab, with the counts and the filters.
pub async fn queue(who: Staff, q: web::Query<QueueQuery>) -> WebResult<HttpResponse> {
    let q = q.into_inner();
    let tab = q
        .tab
        .as_deref()
        .and_then(|s| PetitionTab::ALL.into_iter().find(|t| tab_slug(*t) == s))
        .unwrap_or(PetitionTab::Open);
    let kind = q
        .loai
        .filter(|k| crate::core::petition::PetitionKind::parse(k).is_some());
    let mine = q.mine.as_deref() == Some("1");
    let page_no = q.trang.unwrap_or(1).clamp(1, 10_000);
    let query = PetitionQuery {
        tab,
        kind: kind.clone(),
        assignee: mine.then(|| "me".to_string()),
        limit: PAGE,
        offset: (page_no - 1) * PAGE,
    };
    let a = who.app.get_ref().clone();
    let c = who.caller.clone();
    let now = who.app.clock.now();
    let agency = who.caller.agency.clone();
    let (view, names) = crate::http::block(move || {
        let v = a.petition_queue(&c, &query, now)?;
        let names = a.petition_assignees(&agency)?;
        Ok::<_, AppError>((v, names))
    })
    .await??;
    let mut fq = String::new();
    if let Some(k) = &kind {
        fq.push_str(&format!("&loai={k}"));
    }
    if mine {
        fq.push_str("&cua-toi=1");
    }
    let tabs = PetitionTab::ALL
        .iter()
        .map(|t| {
            let count = view.counts.get(t.as_str()).copied().unwrap_or(0);
            TabLink {
                label: t.label(),
                slug: tab_slug(*t),
                count,
                href: format!("/phan-anh/xu-ly?tab={}{fq}", tab_slug(*t)),
                current: *t == tab,
                alarm: *t == PetitionTab::Overdue && count > 0,
            }
        })
        .collect();
    let base = format!("/phan-anh/xu-ly?tab={}{fq}", tab_slug(tab));
    let page = QueuePage {
        frame: who
            .frame("Phản ánh, kiến nghị", "/phan-anh/xu-ly")
            .crumb("Phản ánh, kiến nghị", "/phan-anh/xu-ly"),
        tabs,
        tab: tab_slug(tab),
        tab_label: tab.label(),
        lines: view
            .items
            .iter()
            .map(|v| line(&who.app, v, &names))
            .collect(),
        kinds: crate::core::petition::PetitionKind::ALL
            .iter()
            .map(|k| Opt {
                value: k.as_str().into(),
                label: k.label_vi().into(),
                selected: kind.as_deref() == Some(k.as_str()),
            })
            .collect(),
        mine,
        page: page_no,
        prev: (page_no > 1).then(|| format!("{base}&trang={}", page_no - 1)),
        next: view.more.then(|| format!("{base}&trang={}", page_no + 1)),
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "petition_detail.html")]
struct DetailPage {
    frame: Frame,
    l: Line,
    v: PetitionView,
    answer_within: String,
    answered: Option<String>,
    answered_by: String,
    assignees: Vec<Opt>,
    can_assign: bool,
    can_answer: bool,
    can_close: bool,
    notice: Option<String>,
    errors: Vec<FieldError>,
    answer_text: String,
    max_content: usize,
}

impl DetailPage {
    fn err(&self, id: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.message.as_str())
    }
}

#[derive(Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    xong: Option<String>,
}

async fn detail_page(
    who: &Staff,
    code: String,
    notice: Option<String>,
    errors: Vec<FieldError>,
    answer_text: String,
    status: StatusCode,
) -> WebResult<HttpResponse> {
    let a = who.app.get_ref().clone();
    let c = who.caller.clone();
    let now = who.app.clock.now();
    let (v, names) = crate::http::block(move || {
        let v = a.petition_detail(&c, &code, now)?;
        let names = a.petition_assignees(&v.agency.code)?;
        Ok::<_, AppError>((v, names))
    })
    .await??;
    let offset = who.app.settings.offset;
    let l = line(&who.app, &v, &names);
    let page = DetailPage {
        frame: who
            .frame(format!("Phản ánh, kiến nghị {}", v.code), "/phan-anh/xu-ly")
            .crumb("Phản ánh, kiến nghị", "/phan-anh/xu-ly")
            .crumb(v.code.clone(), l.href.clone()),
        answer_within: v.answer_within.clone(),
        answered: v.answered_at.map(|t| moment(t, offset)),
        answered_by: v
            .answered_by
            .as_ref()
            .map(|u| {
                names
                    .iter()
                    .find(|(n, _)| n == u)
                    .map(|(_, f)| f.clone())
                    .unwrap_or_else(|| u.clone())
            })
            .unwrap_or_default(),
        assignees: names
            .iter()
            .map(|(u, n)| Opt {
                selected: v.assignee.as_deref() == Some(u.as_str()),
                value: u.clone(),
                label: format!("{n} ({u})"),
            })
            .collect(),
        can_assign: v.actions.contains(&"assign"),
        can_answer: v.actions.contains(&"answer"),
        can_close: v.actions.contains(&"close"),
        notice,
        errors,
        answer_text,
        max_content: who.app.petitions.max_content_chars,
        l,
        v,
    };
    Ok(render_status(status, &page))
}

/// `GET /phan-anh/xu-ly/{code}`: a petition with the actions the reader may take.
pub async fn detail(
    who: Staff,
    path: web::Path<String>,
    q: web::Query<DetailQuery>,
) -> WebResult<HttpResponse> {
    let notice = match q.xong.as_deref() {
        Some("assign") => Some("Đã phân công xử lý.".to_string()),
        Some("answer") => Some("Đã ghi nhận và gửi trả lời cho người phản ánh, kiến nghị.".into()),
        Some("close") => Some("Đã kết thúc phản ánh, kiến nghị.".into()),
        _ => None,
    };
    detail_page(
        &who,
        path.into_inner(),
        notice,
        Vec::new(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
pub struct CommandForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default, rename = "thao-tac")]
    action: String,
    #[serde(default, rename = "can-bo")]
    user: String,
    #[serde(default, rename = "tra-loi")]
    answer: String,
}

/// `POST /phan-anh/xu-ly/{code}`: assign, answer or close; back to the petition's page
/// with what was done, or with the refusal next to its field and in the summary.
pub async fn command(
    who: Staff,
    path: web::Path<String>,
    form: web::Form<CommandForm>,
) -> WebResult<HttpResponse> {
    let form = form.into_inner();
    who.check_csrf(form.csrf.as_deref())?;
    let code = path.into_inner();
    let cmd = match form.action.as_str() {
        "assign" => PetitionCommand::Assign {
            user: form.user.clone(),
        },
        "answer" => PetitionCommand::Answer {
            text: form.answer.clone(),
        },
        "close" => PetitionCommand::Close,
        _ => return Err(AppError::bad_request("invalid_event", "Thao tác không hợp lệ").into()),
    };
    let a = who.app.get_ref().clone();
    let c = who.caller.clone();
    let now = who.app.clock.now();
    let k = code.clone();
    let done = crate::http::block(move || a.petition_command(&c, &k, &cmd, now)).await?;
    match done {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((
                "Location",
                format!(
                    "/phan-anh/xu-ly/{}?xong={}",
                    super::encode(&code),
                    form.action
                ),
            ))
            .finish()),
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::Invalid | ErrorKind::Conflict | ErrorKind::Forbidden
            ) =>
        {
            let id = match form.action.as_str() {
                "assign" => "can-bo",
                "answer" => "tra-loi",
                _ => "ket-thuc",
            };
            let status = super::status_of(e.kind);
            detail_page(
                &who,
                code,
                None,
                vec![FieldError {
                    id,
                    message: e.message,
                }],
                form.answer,
                status,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
