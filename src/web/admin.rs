//! The administration pages (`/quan-tri`, issue #16, admin role): staff accounts (add,
//! role and agency, password, disable and enable), portal clients (add with the secret
//! shown once, new secret, revoke), the agency tree, the catalogue with each procedure's
//! versions (read-only: config/catalogue), the year's working calendar as month grids,
//! and the audit trail's check. Only `Role::Admin` may open them (403 page otherwise);
//! every command is audited by its service with the administrator as actor. Every form
//! works without JavaScript: a command answers with a redirect and a notice, or the page
//! again with the errors next to their fields (422).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;

use super::session::Staff;
use super::{day, encode, moment, render, render_status, role_label, Frame, Link, WebResult};
use crate::core::calendar::{DayKind, MAX_YEAR, MIN_YEAR};
use crate::core::catalogue::{OnlineLevel, PaperKind, Procedure};
use crate::error::{AppError, ErrorKind};
use crate::service::accounts::NewUser;
use crate::service::admin::{AccountView, AuditCheck, AuditRecordView, CatalogueEntry};
use crate::service::Role;

/// Refuses every role but the administrator's (403 page).
fn require_admin(who: &Staff) -> WebResult<()> {
    if who.caller.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Trang quản trị chỉ dành cho tài khoản có vai trò Quản trị hệ thống.",
        )
        .into())
    }
}

const SECTIONS: [(&str, &str); 8] = [
    ("Tổng quan", "/quan-tri"),
    ("Người dùng", "/quan-tri/nguoi-dung"),
    ("Cổng dịch vụ công", "/quan-tri/cong-thong-tin"),
    ("Cơ quan", "/quan-tri/co-quan"),
    ("Thủ tục", "/quan-tri/thu-tuc"),
    ("Lịch làm việc", "/quan-tri/lich"),
    ("Thư thông báo", "/quan-tri/thu-gui"),
    ("Nhật ký", "/quan-tri/nhat-ky"),
];

/// The administration's own tabs; `section` is one of [`SECTIONS`]' paths.
fn sections(section: &str) -> Vec<Link> {
    SECTIONS
        .iter()
        .map(|(label, href)| Link {
            label: (*label).into(),
            href: (*href).into(),
            current: *href == section,
        })
        .collect()
}

/// The frame of an administration page, with its breadcrumbs.
fn frame(who: &Staff, title: &str, section: &str, here: &str) -> Frame {
    let mut f = who.frame(title, here).crumb("Quản trị", "/quan-tri");
    if section != "/quan-tri" {
        let label = SECTIONS
            .iter()
            .find(|(_, h)| *h == section)
            .map(|(l, _)| *l)
            .unwrap_or_default();
        f = f.crumb(label, section);
    }
    if here != section {
        f = f.crumb(title, here);
    }
    f
}

/// Errors of a form, each next to its field (by the field's id).
#[derive(Default)]
pub struct Errors(Vec<(&'static str, String)>);

impl Errors {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &(&'static str, String)> {
        self.0.iter()
    }
    fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
        }
    }
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn agency_name(who: &Staff, code: &str) -> String {
    who.app
        .agencies
        .get(code)
        .map(|a| a.name.clone())
        .unwrap_or_else(|| code.to_string())
}

/// Every agency of the tree, indented by its depth, parents first.
fn agency_options(who: &Staff, selected: &str) -> Vec<Opt> {
    tree_order(&who.app.agencies.agencies)
        .into_iter()
        .map(|(a, depth)| Opt {
            value: a.code.clone(),
            label: format!("{}{} ({})", "\u{a0}\u{a0}".repeat(depth), a.name, a.code),
            selected: a.code == selected,
        })
        .collect()
}

fn role_options(selected: Option<Role>) -> Vec<Opt> {
    Role::STAFF
        .iter()
        .map(|r| Opt {
            value: r.as_str().into(),
            label: role_label(*r).into(),
            selected: Some(*r) == selected,
        })
        .collect()
}

/// The configured agencies depth first (each followed by those below it), with depths.
fn tree_order(
    all: &[crate::core::catalogue::Agency],
) -> Vec<(&crate::core::catalogue::Agency, usize)> {
    let mut children: HashMap<Option<&str>, Vec<&crate::core::catalogue::Agency>> = HashMap::new();
    for a in all {
        children.entry(a.parent.as_deref()).or_default().push(a);
    }
    let mut out = Vec::with_capacity(all.len());
    let mut stack: Vec<(&crate::core::catalogue::Agency, usize)> = children
        .get(&None)
        .map(|r| r.iter().rev().map(|a| (*a, 0)).collect())
        .unwrap_or_default();
    while let Some((a, depth)) = stack.pop() {
        out.push((a, depth));
        if let Some(c) = children.get(&Some(a.code.as_str())) {
            stack.extend(c.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    out
}

/// A notice after a command, from the fixed words of its slug (nothing echoed).
fn notice_of(slug: Option<&str>) -> Option<&'static str> {
    Some(match slug? {
        "tao" => "Đã tạo tài khoản. Người dùng đăng nhập bằng mật khẩu bạn vừa đặt.",
        "vai-tro" => "Đã đổi vai trò, cơ quan. Các phiên đăng nhập của tài khoản đã kết thúc; người dùng đăng nhập lại để dùng quyền mới.",
        "khong-doi" => "Vai trò và cơ quan không thay đổi: không có gì được ghi.",
        "mat-khau" => "Đã đặt mật khẩu mới. Các phiên đăng nhập của tài khoản đã kết thúc.",
        "khoa" => "Đã khóa tài khoản. Các phiên đăng nhập của tài khoản đã kết thúc ngay.",
        "mo-khoa" => "Đã mở khóa tài khoản. Người dùng đăng nhập lại bằng mật khẩu cũ.",
        "thu-hoi" => "Đã thu hồi cổng dịch vụ công. Cổng không thể lấy mã truy cập nữa.",
        "thu-dien-tu" => "Đã lưu thư điện tử nhận cảnh báo sớm. Bản tin hồ sơ sắp đến hạn, quá hạn gửi đến địa chỉ này mỗi sáng ngày làm việc.",
        "xoa-thu-dien-tu" => "Đã xóa thư điện tử: tài khoản không nhận bản tin cảnh báo sớm nữa.",
        "thu-dien-tu-khong-doi" => "Thư điện tử không thay đổi: không có gì được ghi.",
        _ => return None,
    })
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to.to_string()))
        .finish()
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

// ── Overview ────────────────────────────────────────────────────────────────────────

pub struct Figure {
    pub label: &'static str,
    pub value: String,
    pub href: &'static str,
    pub alarm: bool,
}

pub struct AuditLine {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
}

fn action_label(action: &str) -> String {
    match action {
        "user.create" => "Tạo tài khoản",
        "user.update" => "Đổi vai trò, cơ quan",
        "user.password" => "Đặt mật khẩu mới",
        "user.email" => "Đổi thư điện tử nhận cảnh báo",
        "user.disable" => "Khóa tài khoản",
        "user.enable" => "Mở khóa tài khoản",
        "portal.rotate" => "Cấp khóa bí mật mới cho cổng",
        "portal.revoke" => "Thu hồi cổng dịch vụ công",
        "audit.verify" => "Kiểm tra nhật ký",
        "dossier.create" => "Tiếp nhận hồ sơ",
        other => return other.to_string(),
    }
    .to_string()
}

fn audit_lines(who: &Staff, records: &[AuditRecordView]) -> Vec<AuditLine> {
    let offset = who.app.settings.offset;
    records
        .iter()
        .map(|r| AuditLine {
            id: r.id,
            at: moment(r.at, offset),
            actor: r.actor.clone(),
            action: action_label(&r.action),
            target: r.entity_id.clone(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "admin_home.html")]
pub struct HomePage {
    pub frame: Frame,
    pub tabs: Vec<Link>,
    pub figures: Vec<Figure>,
    pub recent: Vec<AuditLine>,
}

/// `GET /quan-tri`: what the administration holds, and its latest records.
pub async fn home(who: Staff) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let a = who.app.get_ref().clone();
    let (accounts, recent) =
        crate::http::block(move || Ok::<_, AppError>((a.accounts()?, a.recent_audit(8)?)))
            .await??;
    let staff = accounts.iter().filter(|u| !u.is_portal());
    let enabled = staff.clone().filter(|u| !u.disabled).count();
    let disabled = staff.count() - enabled;
    let portals = accounts
        .iter()
        .filter(|u| u.is_portal() && !u.disabled)
        .count();
    let year = who
        .app
        .clock
        .now()
        .with_timezone(&who.app.settings.offset)
        .year();
    let configured = who.app.calendar.configured_years().any(|y| y == year);
    let figures = vec![
        Figure {
            label: "Tài khoản cán bộ đang hoạt động",
            value: enabled.to_string(),
            href: "/quan-tri/nguoi-dung",
            alarm: false,
        },
        Figure {
            label: "Tài khoản đã khóa",
            value: disabled.to_string(),
            href: "/quan-tri/nguoi-dung?trang-thai=khoa",
            alarm: false,
        },
        Figure {
            label: "Cổng dịch vụ công đang kết nối",
            value: portals.to_string(),
            href: "/quan-tri/cong-thong-tin",
            alarm: false,
        },
        Figure {
            label: "Cơ quan, đơn vị",
            value: who.app.agencies.agencies.len().to_string(),
            href: "/quan-tri/co-quan",
            alarm: false,
        },
        Figure {
            label: "Thủ tục hành chính đang áp dụng",
            value: who.app.catalogue.len().to_string(),
            href: "/quan-tri/thu-tuc",
            alarm: false,
        },
        Figure {
            label: if configured {
                "Lịch làm việc năm nay: đã cấu hình"
            } else {
                "Lịch làm việc năm nay: chưa có tệp cấu hình"
            },
            value: year.to_string(),
            href: "/quan-tri/lich",
            alarm: !configured,
        },
    ];
    let page = HomePage {
        frame: frame(&who, "Quản trị hệ thống", "/quan-tri", "/quan-tri"),
        tabs: sections("/quan-tri"),
        figures,
        recent: audit_lines(&who, &recent),
    };
    Ok(render(&page))
}

// ── Users ───────────────────────────────────────────────────────────────────────────

pub struct UserLine {
    pub username: String,
    pub full_name: String,
    /// Where the morning digest goes; empty: none.
    pub email: String,
    pub role: &'static str,
    pub agency: String,
    pub agency_code: String,
    pub disabled: bool,
    pub href: String,
    pub me: bool,
}

#[derive(Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default, rename = "vai-tro")]
    role: Option<String>,
    #[serde(default, rename = "co-quan")]
    agency: Option<String>,
    #[serde(default, rename = "trang-thai")]
    status: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    pub frame: Frame,
    pub tabs: Vec<Link>,
    pub lines: Vec<UserLine>,
    pub total: usize,
    pub q: String,
    pub roles: Vec<Opt>,
    pub agencies: Vec<Opt>,
    pub statuses: Vec<Opt>,
    pub filtered: bool,
}

/// Lines shown at most; the filters narrow a larger list.
const USERS_SHOWN: usize = 300;

/// `GET /quan-tri/nguoi-dung`: staff accounts, filtered by name, role, agency, status.
pub async fn users(who: Staff, q: web::Query<UsersQuery>) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let q = q.into_inner();
    let a = who.app.get_ref().clone();
    let accounts = crate::http::block(move || a.accounts()).await??;
    let text = nonempty(&q.q).unwrap_or_default();
    let folded = crate::core::text::fold(&text);
    let role = nonempty(&q.role).and_then(|r| Role::parse(&r));
    let agency = nonempty(&q.agency);
    let status = nonempty(&q.status);
    let matching: Vec<&AccountView> = accounts
        .iter()
        .filter(|u| !u.is_portal())
        .filter(|u| {
            folded.is_empty()
                || crate::core::text::fold(&u.full_name).contains(&folded)
                || u.username.contains(&folded)
        })
        .filter(|u| role.is_none_or(|r| u.role == r))
        .filter(|u| agency.as_ref().is_none_or(|c| &u.agency_code == c))
        .filter(|u| match status.as_deref() {
            Some("khoa") => u.disabled,
            Some("hoat-dong") => !u.disabled,
            _ => true,
        })
        .collect();
    let total = matching.len();
    let lines = matching
        .into_iter()
        .take(USERS_SHOWN)
        .map(|u| UserLine {
            username: u.username.clone(),
            full_name: u.full_name.clone(),
            email: u.email.clone().unwrap_or_default(),
            role: role_label(u.role),
            agency: agency_name(&who, &u.agency_code),
            agency_code: u.agency_code.clone(),
            disabled: u.disabled,
            href: format!("/quan-tri/nguoi-dung/{}", encode(&u.username)),
            me: u.username == who.caller.username,
        })
        .collect();
    let statuses = [("hoat-dong", "Đang hoạt động"), ("khoa", "Đã khóa")]
        .into_iter()
        .map(|(v, l)| Opt {
            value: v.into(),
            label: l.into(),
            selected: status.as_deref() == Some(v),
        })
        .collect();
    let page = UsersPage {
        frame: frame(
            &who,
            "Người dùng",
            "/quan-tri/nguoi-dung",
            "/quan-tri/nguoi-dung",
        ),
        tabs: sections("/quan-tri/nguoi-dung"),
        lines,
        total,
        filtered: !text.is_empty() || role.is_some() || agency.is_some() || status.is_some(),
        q: text,
        roles: role_options(role),
        agencies: agency_options(&who, agency.as_deref().unwrap_or_default()),
        statuses,
    };
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
pub struct NewUserForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default, rename = "ten-dang-nhap")]
    username: String,
    #[serde(default, rename = "ho-ten")]
    full_name: String,
    #[serde(default, rename = "vai-tro")]
    role: String,
    #[serde(default, rename = "co-quan")]
    agency: String,
    #[serde(default, rename = "thu-dien-tu")]
    email: String,
    #[serde(default, rename = "mat-khau")]
    password: String,
    #[serde(default, rename = "nhap-lai")]
    again: String,
}

#[derive(Template)]
#[template(path = "admin_user_new.html")]
pub struct NewUserPage {
    pub frame: Frame,
    pub tabs: Vec<Link>,
    pub errors: Errors,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub roles: Vec<Opt>,
    pub agencies: Vec<Opt>,
    pub min_password: usize,
}

fn new_user_page(who: &Staff, form: &NewUserForm, errors: Errors) -> NewUserPage {
    NewUserPage {
        frame: frame(
            who,
            "Thêm người dùng",
            "/quan-tri/nguoi-dung",
            "/quan-tri/them-nguoi-dung",
        ),
        tabs: sections("/quan-tri/nguoi-dung"),
        errors,
        username: form.username.clone(),
        full_name: form.full_name.clone(),
        email: form.email.clone(),
        roles: role_options(Role::parse(&form.role)),
        agencies: agency_options(who, &form.agency),
        min_password: crate::service::accounts::MIN_PASSWORD_CHARS,
    }
}

/// `GET /quan-tri/them-nguoi-dung`.
pub async fn new_user(who: Staff) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let form = NewUserForm {
        agency: who.caller.agency.clone(),
        role: "clerk".into(),
        ..NewUserForm::default()
    };
    Ok(render(&new_user_page(&who, &form, Errors::default())))
}

/// The field an account error belongs to.
fn account_field(e: &AppError) -> Option<&'static str> {
    Some(match e.error {
        "invalid_username" | "conflict" => "ten-dang-nhap",
        "weak_password" => "mat-khau",
        "invalid_full_name" => "ho-ten",
        "unknown_agency" => "co-quan",
        "invalid_role" => "vai-tro",
        "invalid_email" => "thu-dien-tu",
        _ => return None,
    })
}

/// `POST /quan-tri/them-nguoi-dung`: creates the account (audited), then its page.
pub async fn add_user(who: Staff, form: web::Form<NewUserForm>) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let mut form = form.into_inner();
    who.check_csrf(form.csrf.as_deref())?;
    form.username = form.username.trim().to_lowercase();
    let mut errors = Errors::default();
    if form.username.is_empty() {
        errors.add("ten-dang-nhap", "Nhập tên đăng nhập");
    }
    if form.full_name.trim().is_empty() {
        errors.add("ho-ten", "Nhập họ và tên");
    }
    let role = Role::parse(&form.role).filter(|r| Role::STAFF.contains(r));
    if role.is_none() {
        errors.add("vai-tro", "Chọn vai trò");
    }
    if form.password.is_empty() {
        errors.add("mat-khau", "Nhập mật khẩu");
    } else if form.password != form.again {
        errors.add("nhap-lai", "Hai lần nhập mật khẩu không giống nhau");
    }
    if errors.is_empty() {
        let a = who.app.get_ref().clone();
        let actor = who.caller.actor();
        let now = who.app.clock.now();
        let (u, n, r, ag, p, m) = (
            form.username.clone(),
            form.full_name.clone(),
            role.expect("checked"),
            form.agency.clone(),
            form.password.clone(),
            form.email.clone(),
        );
        let done = crate::http::block(move || {
            a.add_staff_account(
                &NewUser {
                    username: &u,
                    full_name: &n,
                    role: r,
                    agency: &ag,
                    password: &p,
                    email: Some(&m),
                },
                &actor,
                now,
            )
        })
        .await?;
        match done {
            Ok(()) => {
                return Ok(see_other(&format!(
                    "/quan-tri/nguoi-dung/{}?xong=tao",
                    encode(&form.username)
                )))
            }
            Err(e) => match account_field(&e) {
                Some(field) => {
                    let message = if e.error == "conflict" {
                        format!(
                            "Tên đăng nhập \"{}\" đã có người dùng; chọn tên khác",
                            form.username
                        )
                    } else {
                        e.message
                    };
                    errors.add(field, message);
                }
                None => return Err(e.into()),
            },
        }
    }
    Ok(render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &new_user_page(&who, &form, errors),
    ))
}

#[derive(Deserialize)]
pub struct UserQuery {
    #[serde(default)]
    xong: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
pub struct UserPage {
    pub frame: Frame,
    pub tabs: Vec<Link>,
    pub u: UserLine,
    pub created: String,
    pub updated: String,
    pub notice: Option<&'static str>,
    pub errors: Errors,
    pub roles: Vec<Opt>,
    pub agencies: Vec<Opt>,
    pub min_password: usize,
    /// The e-mail field's value: the stored address, or what was typed when refused.
    pub email_input: String,
}

fn user_page(
    who: &Staff,
    u: &AccountView,
    notice: Option<&'static str>,
    errors: Errors,
) -> UserPage {
    let offset = who.app.settings.offset;
    UserPage {
        frame: frame(
            who,
            &u.full_name,
            "/quan-tri/nguoi-dung",
            &format!("/quan-tri/nguoi-dung/{}", encode(&u.username)),
        ),
        tabs: sections("/quan-tri/nguoi-dung"),
        u: UserLine {
            username: u.username.clone(),
            full_name: u.full_name.clone(),
            email: u.email.clone().unwrap_or_default(),
            role: role_label(u.role),
            agency: agency_name(who, &u.agency_code),
            agency_code: u.agency_code.clone(),
            disabled: u.disabled,
            href: format!("/quan-tri/nguoi-dung/{}", encode(&u.username)),
            me: u.username == who.caller.username,
        },
        created: moment(u.created_at, offset),
        updated: moment(u.updated_at, offset),
        notice,
        errors,
        roles: role_options(Some(u.role)),
        agencies: agency_options(who, &u.agency_code),
        min_password: crate::service::accounts::MIN_PASSWORD_CHARS,
        email_input: u.email.clone().unwrap_or_default(),
    }
}

async fn load_account(who: &Staff, username: &str) -> WebResult<AccountView> {
    let a = who.app.get_ref().clone();
    let u = username.to_string();
    let account = crate::http::block(move || a.account(&u)).await??;
    if account.is_portal() {
        // A portal client has its own page.
        return Err(AppError::not_found().into());
    }
    Ok(account)
}

/// `GET /quan-tri/nguoi-dung/{username}`: one account and what may be done with it.
pub async fn user(
    who: Staff,
    path: web::Path<String>,
    q: web::Query<UserQuery>,
) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let account = load_account(&who, &path).await?;
    Ok(render(&user_page(
        &who,
        &account,
        notice_of(q.xong.as_deref()),
        Errors::default(),
    )))
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default, rename = "vai-tro")]
    role: String,
    #[serde(default, rename = "co-quan")]
    agency: String,
}

/// `POST /quan-tri/nguoi-dung/{username}/vai-tro`: another role and agency.
pub async fn change_role(
    who: Staff,
    path: web::Path<String>,
    form: web::Form<RoleForm>,
) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let form = form.into_inner();
    who.check_csrf(form.csrf.as_deref())?;
    let username = path.into_inner();
    let account = load_account(&who, &username).await?;
    let mut errors = Errors::default();
    match Role::parse(&form.role).filter(|r| Role::STAFF.contains(r)) {
        None => errors.add("vai-tro", "Chọn một vai trò của cán bộ"),
        Some(role) => {
            let a = who.app.get_ref().clone();
            let actor = who.caller.actor();
            let now = who.app.clock.now();
            let (u, ag) = (username.clone(), form.agency.clone());
            match crate::http::block(move || a.change_staff_account(&u, role, &ag, &actor, now))
                .await?
            {
                Ok(changed) => {
                    let slug = if changed { "vai-tro" } else { "khong-doi" };
                    return Ok(see_other(&format!(
                        "/quan-tri/nguoi-dung/{}?xong={slug}",
                        encode(&username)
                    )));
                }
                Err(e) if e.kind == ErrorKind::Invalid => match e.error {
                    "unknown_agency" => errors.add("co-quan", e.message),
                    _ => errors.add("vai-tro", e.message),
                },
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &user_page(&who, &account, None, errors),
    ))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default, rename = "mat-khau")]
    password: String,
    #[serde(default, rename = "nhap-lai")]
    again: String,
}

/// `POST /quan-tri/nguoi-dung/{username}/mat-khau`: a new password typed by the
/// administrator.
pub async fn reset_password(
    who: Staff,
    path: web::Path<String>,
    form: web::Form<PasswordForm>,
) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let form = form.into_inner();
    who.check_csrf(form.csrf.as_deref())?;
    let username = path.into_inner();
    let account = load_account(&who, &username).await?;
    let mut errors = Errors::default();
    if form.password.is_empty() {
        errors.add("mat-khau", "Nhập mật khẩu mới");
    } else if form.password != form.again {
        errors.add("nhap-lai", "Hai lần nhập mật khẩu không giống nhau");
    } else {
        let a = who.app.get_ref().clone();
        let actor = who.caller.actor();
        let now = who.app.clock.now();
        let (u, p) = (username.clone(), form.password.clone());
        match crate::http::block(move || a.reset_staff_password(&u, &p, &actor, now)).await? {
            Ok(()) => {
                return Ok(see_other(&format!(
                    "/quan-tri/nguoi-dung/{}?xong=mat-khau",
                    encode(&username)
                )))
            }
            Err(e) if e.kind == ErrorKind::Invalid => errors.add("mat-khau", e.message),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &user_page(&who, &account, None, errors),
    ))
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default, rename = "thu-dien-tu")]
    email: String,
}

/// `POST /quan-tri/nguoi-dung/{username}/thu-dien-tu`: the address the morning digest is
/// sent to (*cảnh báo sớm*, issue #17); blank removes it.
pub async fn set_email(
    who: Staff,
    path: web::Path<String>,
    form: web::Form<EmailForm>,
) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let form = form.into_inner();
    who.check_csrf(form.csrf.as_deref())?;
    let username = path.into_inner();
    let account = load_account(&who, &username).await?;
    let a = who.app.get_ref().clone();
    let actor = who.caller.actor();
    let now = who.app.clock.now();
    let (u, m) = (username.clone(), form.email.clone());
    let mut errors = Errors::default();
    match crate::http::block(move || a.set_user_email(&u, Some(&m), &actor, now)).await? {
        Ok(changed) => {
            let slug = match (changed, form.email.trim().is_empty()) {
                (false, _) => "thu-dien-tu-khong-doi",
                (true, false) => "thu-dien-tu",
                (true, true) => "xoa-thu-dien-tu",
            };
            return Ok(see_other(&format!(
                "/quan-tri/nguoi-dung/{}?xong={slug}",
                encode(&username)
            )));
        }
        Err(e) if e.kind == ErrorKind::Invalid => errors.add("thu-dien-tu", e.message),
        Err(e) => return Err(e.into()),
    }
    let mut page = user_page(&who, &account, None, errors);
    // The address as typed, to correct it.
    page.email_input = form.email;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: Option<String>,
}

async fn set_disabled(
    who: Staff,
    username: String,
    form: CsrfForm,
    disabled: bool,
) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    who.check_csrf(form.csrf.as_deref())?;
    let account = load_account(&who, &username).await?;
    let a = who.app.get_ref().clone();
    let actor = who.caller.actor();
    let now = who.app.clock.now();
    let u = username.clone();
    match crate::http::block(move || a.set_staff_disabled(&u, disabled, &actor, now)).await? {
        Ok(()) => Ok(see_other(&format!(
            "/quan-tri/nguoi-dung/{}?xong={}",
            encode(&username),
            if disabled { "khoa" } else { "mo-khoa" }
        ))),
        Err(e) if e.kind == ErrorKind::Invalid => {
            let mut errors = Errors::default();
            errors.add("trang-thai", e.message);
            Ok(render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &user_page(&who, &account, None, errors),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /quan-tri/nguoi-dung/{username}/khoa`: disables the account; its sessions end.
pub async fn disable(
    who: Staff,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> WebResult<HttpResponse> {
    set_disabled(who, path.into_inner(), form.into_inner(), true).await
}

/// `POST /quan-tri/nguoi-dung/{username}/mo-khoa`: enables the account again.
pub async fn enable(
    who: Staff,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> WebResult<HttpResponse> {
    set_disabled(who, path.into_inner(), form.into_inner(), false).await
}

// ── Portal clients ──────────────────────────────────────────────────────────────────

pub struct PortalLine {
    pub client_id: String,
    pub name: String,
    pub agency: String,
    pub revoked: bool,
    pub created: String,
    pub updated: String,
    pub rotate_action: String,
    pub revoke_action: String,
}

/// A secret just made, shown this once.
pub struct Shown {
    pub client_id: String,
    pub secret: String,
    pub rotated: bool,
}

#[derive(Template)]
#[template(path = "admin_portals.html")]
pub struct PortalsPage {
    pub frame: Frame,
    pub tabs: Vec<Link>,
    pub lines: Vec<PortalLine>,
    pub shown: Option<Shown>,
    pub notice: Option<&'static str>,
    pub errors: Errors,
    pub client_id: String,
    pub name: String,
    pub agencies: Vec<Opt>,
}

#[derive(Deserialize, Default)]
pub struct PortalForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default, rename = "ma-ung-dung")]
    client_id: String,
    #[serde(default, rename = "ten")]
    name: String,
    #[serde(default, rename = "co-quan")]
    agency: String,
}

async fn portals_page(
    who: &Staff,
    form: &PortalForm,
    shown: Option<Shown>,
    notice: Option<&'static str>,
    errors: Errors,
) -> WebResult<PortalsPage> {
    let a = who.app.get_ref().clone();
    let accounts = crate::http::block(move || a.accounts()).await??;
    let offset = who.app.settings.offset;
    let mut lines: Vec<PortalLine> = accounts
        .into_iter()
        .filter(AccountView::is_portal)
        .map(|p| PortalLine {
            rotate_action: format!("/quan-tri/cong-thong-tin/{}/khoa-moi", encode(&p.username)),
            revoke_action: format!("/quan-tri/cong-thong-tin/{}/thu-hoi", encode(&p.username)),
            agency: agency_name(who, &p.agency_code),
            created: day(p.created_at, offset),
            updated: moment(p.updated_at, offset),
            revoked: p.disabled,
            client_id: p.username,
            name: p.full_name,
        })
        .collect();
    lines.sort_by_key(|l| l.revoked);
    Ok(PortalsPage {
        frame: frame(
            who,
            "Cổng dịch vụ công",
            "/quan-tri/cong-thong-tin",
            "/quan-tri/cong-thong-tin",
        ),
        tabs: sections("/quan-tri/cong-thong-tin"),
        lines,
        shown,
        notice,
        errors,
        client_id: form.client_id.clone(),
        name: form.name.clone(),
        agencies: agency_options(who, &form.agency),
    })
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    xong: Option<String>,
}

/// `GET /quan-tri/cong-thong-tin`: the portal clients and the form to add one.
pub async fn portals(who: Staff, q: web::Query<NoticeQuery>) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let form = PortalForm {
        agency: who.caller.agency.clone(),
        ..PortalForm::default()
    };
    let page = portals_page(
        &who,
        &form,
        None,
        notice_of(q.xong.as_deref()),
        Errors::default(),
    )
    .await?;
    Ok(render(&page))
}

/// `POST /quan-tri/cong-thong-tin`: registers a client; its secret is shown on the answer
/// once (never in an address, never stored in clear).
pub async fn add_portal(who: Staff, form: web::Form<PortalForm>) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let mut form = form.into_inner();
    who.check_csrf(form.csrf.as_deref())?;
    form.client_id = form.client_id.trim().to_lowercase();
    let mut errors = Errors::default();
    if form.client_id.is_empty() {
        errors.add("ma-ung-dung", "Nhập mã ứng dụng (client id)");
    }
    if form.name.trim().is_empty() {
        errors.add("ten", "Nhập tên cổng");
    }
    if errors.is_empty() {
        let a = who.app.get_ref().clone();
        let actor = who.caller.actor();
        let now = who.app.clock.now();
        let (id, n, ag) = (
            form.client_id.clone(),
            form.name.clone(),
            form.agency.clone(),
        );
        match crate::http::block(move || a.add_portal_client(&id, &n, &ag, &actor, now)).await? {
            Ok(secret) => {
                let shown = Shown {
                    client_id: form.client_id.clone(),
                    secret,
                    rotated: false,
                };
                let page = portals_page(
                    &who,
                    &PortalForm {
                        agency: who.caller.agency.clone(),
                        ..PortalForm::default()
                    },
                    Some(shown),
                    None,
                    Errors::default(),
                )
                .await?;
                return Ok(render(&page));
            }
            Err(e) => match e.error {
                "invalid_username" => errors.add(
                    "ma-ung-dung",
                    "Mã ứng dụng gồm 3–64 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch dưới, gạch ngang",
                ),
                "conflict" => errors.add(
                    "ma-ung-dung",
                    format!("Mã \"{}\" đã được dùng; chọn mã khác", form.client_id),
                ),
                "invalid_full_name" => errors.add("ten", e.message),
                "unknown_agency" => errors.add("co-quan", e.message),
                _ => return Err(e.into()),
            },
        }
    }
    let page = portals_page(&who, &form, None, None, errors).await?;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

/// `POST /quan-tri/cong-thong-tin/{id}/khoa-moi`: a new secret, shown once; the old one
/// stops at once.
pub async fn rotate_portal(
    who: Staff,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    who.check_csrf(form.csrf.as_deref())?;
    let id = path.into_inner();
    let a = who.app.get_ref().clone();
    let actor = who.caller.actor();
    let now = who.app.clock.now();
    let i = id.clone();
    let secret =
        crate::http::block(move || a.rotate_active_portal_secret(&i, &actor, now)).await??;
    let page = portals_page(
        &who,
        &PortalForm {
            agency: who.caller.agency.clone(),
            ..PortalForm::default()
        },
        Some(Shown {
            client_id: id,
            secret,
            rotated: true,
        }),
        None,
        Errors::default(),
    )
    .await?;
    Ok(render(&page))
}

/// `POST /quan-tri/cong-thong-tin/{id}/thu-hoi`: revokes the client for good.
pub async fn revoke_portal(
    who: Staff,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    who.check_csrf(form.csrf.as_deref())?;
    let a = who.app.get_ref().clone();
    let actor = who.caller.actor();
    let now = who.app.clock.now();
    let id = path.into_inner();
    crate::http::block(move || a.revoke_portal_client(&id, &actor, now)).await??;
    Ok(see_other("/quan-tri/cong-thong-tin?xong=thu-hoi"))
}

// ── Agencies ────────────────────────────────────────────────────────────────────────

pub struct AgencyNode {
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    pub level: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub staff: usize,
    pub one_stop: bool,
    /// The next node is its first child: its list opens after it.
    pub opens: bool,
    /// How many lists close after it.
    pub closes: usize,
}

#[derive(Template)]
#[template(path = "admin_agencies.html")]
pub struct AgenciesPage {
    pub frame: Frame,
    pub tabs: Vec<Link>,
    pub nodes: Vec<AgencyNode>,
    pub levels: Vec<(String, String, usize)>,
    pub inactive: Vec<AgencyNode>,
}

/// `GET /quan-tri/co-quan`: the agency tree of config/agencies.toml, with each level and
/// the staff accounts of each agency; agencies no longer in the file are listed apart.
pub async fn agencies(who: Staff) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let a = who.app.get_ref().clone();
    let (stored, accounts) =
        crate::http::block(move || Ok::<_, AppError>((a.agency_list()?, a.accounts()?))).await??;
    let mut staff: HashMap<&str, usize> = HashMap::new();
    for u in accounts.iter().filter(|u| !u.is_portal() && !u.disabled) {
        *staff.entry(u.agency_code.as_str()).or_default() += 1;
    }
    let tree = &who.app.agencies;
    let level_of = |id: &str| tree.levels.iter().find(|l| l.id == id);
    let order = tree_order(&tree.agencies);
    let mut nodes: Vec<AgencyNode> = Vec::with_capacity(order.len());
    for (i, (a, depth)) in order.iter().enumerate() {
        let next = order.get(i + 1).map(|(_, d)| *d).unwrap_or(0);
        let level = level_of(&a.level);
        nodes.push(AgencyNode {
            code: a.code.clone(),
            name: a.name.clone(),
            short_name: a.short_name.clone(),
            level: level
                .map(|l| l.name.clone())
                .unwrap_or_else(|| a.level.clone()),
            address: a.address.clone(),
            phone: a.phone.clone(),
            staff: staff.get(a.code.as_str()).copied().unwrap_or(0),
            one_stop: level.is_some_and(|l| l.one_stop_centre),
            opens: next > *depth,
            closes: depth.saturating_sub(next),
        });
    }
    let inactive = stored
        .into_iter()
        .filter(|s| !s.active || tree.get(&s.code).is_none())
        .map(|s| AgencyNode {
            level: level_of(&s.level)
                .map(|l| l.name.clone())
                .unwrap_or_else(|| s.level.clone()),
            staff: staff.get(s.code.as_str()).copied().unwrap_or(0),
            code: s.code,
            name: s.name,
            short_name: s.short_name,
            address: s.address,
            phone: s.phone,
            one_stop: false,
            opens: false,
            closes: 0,
        })
        .collect();
    let levels = tree
        .levels
        .iter()
        .map(|l| {
            (
                l.id.clone(),
                l.name.clone(),
                tree.agencies.iter().filter(|a| a.level == l.id).count(),
            )
        })
        .collect();
    let page = AgenciesPage {
        frame: frame(
            &who,
            "Cơ quan, đơn vị",
            "/quan-tri/co-quan",
            "/quan-tri/co-quan",
        ),
        tabs: sections("/quan-tri/co-quan"),
        nodes,
        levels,
        inactive,
    };
    Ok(render(&page))
}

// ── Catalogue ───────────────────────────────────────────────────────────────────────

fn fee_label(fee: u64) -> String {
    if fee == 0 {
        return "Không thu phí".into();
    }
    let digits = fee.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{out} đồng")
}

fn time_label(p: &Procedure) -> String {
    p.statutory_time
        .to_time()
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn online_label(l: OnlineLevel) -> &'static str {
    match l {
        OnlineLevel::Full => "Toàn trình",
        OnlineLevel::Partial => "Một phần",
        OnlineLevel::None => "Không trực tuyến",
    }
}

fn competent_label(who: &Staff, p: &Procedure) -> String {
    match (&p.competent_agency, &p.competent_level) {
        (Some(a), _) => agency_name(who, a),
        (None, Some(l)) => who
            .app
            .agencies
            .levels
            .iter()
            .find(|x| &x.id == l)
            .map(|x| x.name.clone())
            .unwrap_or_else(|| l.clone()),
        _ => String::new(),
    }
}

pub struct ProcedureLine {
    pub code: String,
    pub name: String,
    pub field: String,
    pub competent: String,
    pub time: String,
    pub fee: String,
    pub online: &'static str,
    pub version: i32,
    pub since: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "admin_catalogue.html")]
pub struct CataloguePage {
    pub frame: Frame,
    pub tabs: Vec<Link>,
    pub lines: Vec<ProcedureLine>,
    pub fields: usize,
}

/// `GET /quan-tri/thu-tuc`: the procedures in force, by field and name.
pub async fn catalogue(who: Staff) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let a = who.app.get_ref().clone();
    let entries = crate::http::block(move || a.catalogue_entries()).await??;
    let offset = who.app.settings.offset;
    let mut lines: Vec<ProcedureLine> = entries
        .iter()
        .map(|e| {
            let p = &e.procedure;
            ProcedureLine {
                code: p.code.clone(),
                name: p.name.clone(),
                field: p.field.clone(),
                competent: competent_label(&who, p),
                time: time_label(p),
                fee: fee_label(p.fee),
                online: online_label(p.online_level),
                version: e.version,
                since: day(e.valid_from, offset),
                href: format!("/quan-tri/thu-tuc/{}", encode(&p.code)),
            }
        })
        .collect();
    lines.sort_by(|a, b| (&a.field, &a.name).cmp(&(&b.field, &b.name)));
    let mut fields: Vec<&str> = lines.iter().map(|l| l.field.as_str()).collect();
    fields.dedup();
    let page = CataloguePage {
        frame: frame(
            &who,
            "Danh mục thủ tục",
            "/quan-tri/thu-tuc",
            "/quan-tri/thu-tuc",
        ),
        tabs: sections("/quan-tri/thu-tuc"),
        fields: fields.len(),
        lines,
    };
    Ok(render(&page))
}

pub struct VersionLine {
    pub version: i32,
    pub from: String,
    pub to: Option<String>,
    pub time: String,
    pub fee: String,
    pub online: &'static str,
    pub changes: Vec<&'static str>,
}

pub struct PaperLine {
    pub name: String,
    pub kind: &'static str,
    pub count: u32,
    pub required: bool,
}

pub struct StepLine {
    pub name: String,
    pub agency: String,
    pub role: &'static str,
    pub share: u32,
}

#[derive(Template)]
#[template(path = "admin_procedure.html")]
pub struct ProcedurePage {
    pub frame: Frame,
    pub tabs: Vec<Link>,
    pub code: String,
    pub name: String,
    pub field: String,
    pub competent: String,
    pub time: String,
    pub fee: String,
    pub online: &'static str,
    pub inter_agency: bool,
    pub result_document: Option<String>,
    pub retired: bool,
    pub versions: Vec<VersionLine>,
    pub papers: Vec<PaperLine>,
    pub steps: Vec<StepLine>,
}

/// What changed from one version to the next, in words.
fn changes(before: &Procedure, after: &Procedure) -> Vec<&'static str> {
    let mut out = Vec::new();
    if before.name != after.name {
        out.push("tên thủ tục");
    }
    if before.statutory_time != after.statutory_time {
        out.push("thời hạn giải quyết");
    }
    if before.fee != after.fee {
        out.push("phí, lệ phí");
    }
    if before.papers != after.papers {
        out.push("thành phần hồ sơ");
    }
    if before.steps != after.steps {
        out.push("quy trình xử lý");
    }
    if before.online_level != after.online_level {
        out.push("mức dịch vụ công trực tuyến");
    }
    if (&before.competent_level, &before.competent_agency)
        != (&after.competent_level, &after.competent_agency)
    {
        out.push("cơ quan có thẩm quyền");
    }
    if out.is_empty() {
        out.push("thông tin khác");
    }
    out
}

/// `GET /quan-tri/thu-tuc/{code}`: a procedure's versions (oldest first) and its current
/// papers and steps.
pub async fn procedure(who: Staff, path: web::Path<String>) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let a = who.app.get_ref().clone();
    let code = path.into_inner();
    let history: Vec<CatalogueEntry> =
        crate::http::block(move || a.catalogue_history(&code)).await??;
    let offset = who.app.settings.offset;
    let last = history.last().ok_or_else(AppError::not_found)?;
    let p = &last.procedure;
    let versions = history
        .iter()
        .enumerate()
        .map(|(i, e)| VersionLine {
            version: e.version,
            from: day(e.valid_from, offset),
            to: e.valid_to.map(|t| day(t, offset)),
            time: time_label(&e.procedure),
            fee: fee_label(e.procedure.fee),
            online: online_label(e.procedure.online_level),
            changes: if i == 0 {
                vec!["phiên bản đầu tiên"]
            } else {
                changes(&history[i - 1].procedure, &e.procedure)
            },
        })
        .rev()
        .collect();
    let papers = p
        .papers
        .iter()
        .map(|x| PaperLine {
            name: x.name.clone(),
            kind: match x.kind {
                PaperKind::Original => "Bản chính",
                PaperKind::CertifiedCopy => "Bản sao có chứng thực",
                PaperKind::Copy => "Bản sao",
            },
            count: x.count,
            required: x.required,
        })
        .collect();
    let steps = p
        .steps
        .iter()
        .map(|s| StepLine {
            name: s.name.clone(),
            agency: match s.agency.as_str() {
                "receiving" => "Bộ phận Một cửa nơi tiếp nhận".to_string(),
                "competent" => "Cơ quan có thẩm quyền".to_string(),
                c => agency_name(&who, c),
            },
            role: match s.role.as_str() {
                "clerk" => "Cán bộ một cửa",
                "official" => "Chuyên viên",
                _ => "Lãnh đạo",
            },
            share: s.share,
        })
        .collect();
    let page = ProcedurePage {
        frame: frame(
            &who,
            &p.name,
            "/quan-tri/thu-tuc",
            &format!("/quan-tri/thu-tuc/{}", encode(&p.code)),
        ),
        tabs: sections("/quan-tri/thu-tuc"),
        code: p.code.clone(),
        name: p.name.clone(),
        field: p.field.clone(),
        competent: competent_label(&who, p),
        time: time_label(p),
        fee: fee_label(p.fee),
        online: online_label(p.online_level),
        inter_agency: p.inter_agency,
        result_document: p.result_document.clone(),
        retired: last.valid_to.is_some() || who.app.catalogue.get(&p.code).is_none(),
        versions,
        papers,
        steps,
    };
    Ok(render(&page))
}

// ── Working calendar ────────────────────────────────────────────────────────────────

pub struct DayCell {
    /// 0: a cell outside the month.
    pub day: u32,
    /// "" a working day, `w` a weekend, `h` a holiday (nghỉ), `m` a make-up day (làm bù):
    /// short, since a year has 365 cells (the page stays under 100 KB).
    pub class: &'static str,
    /// "Nghỉ", "Làm bù" shown in the cell; empty for a plain day or a weekend (its
    /// column says it).
    pub tag: &'static str,
}

pub struct Month {
    pub name: String,
    pub id: String,
    pub weeks: Vec<Vec<DayCell>>,
    pub working: usize,
    /// (date, kind, name) of the named days of the month.
    pub named: Vec<(String, &'static str, &'static str, String)>,
}

#[derive(Template)]
#[template(path = "admin_calendar.html")]
pub struct CalendarPage {
    pub frame: Frame,
    pub tabs: Vec<Link>,
    pub year: i32,
    pub configured: bool,
    pub months: Vec<Month>,
    pub working_days: usize,
    pub holidays: usize,
    pub make_up: usize,
    pub hours: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Deserialize)]
pub struct CalendarQuery {
    #[serde(default)]
    nam: Option<String>,
}

const WEEKDAY_NAMES: [&str; 7] = [
    "Thứ Hai",
    "Thứ Ba",
    "Thứ Tư",
    "Thứ Năm",
    "Thứ Sáu",
    "Thứ Bảy",
    "Chủ nhật",
];

/// The month grids of a year: one row per week, Monday first.
fn months_of(cal: &crate::core::calendar::CalendarYear) -> Vec<Month> {
    let year = cal.year;
    (1..=12)
        .map(|m| {
            let first = NaiveDate::from_ymd_opt(year, m, 1).expect("a month");
            let mut weeks: Vec<Vec<DayCell>> = Vec::new();
            let mut week: Vec<DayCell> = (0..first.weekday().num_days_from_monday())
                .map(|_| DayCell {
                    day: 0,
                    class: "",
                    tag: "",
                })
                .collect();
            let mut working = 0;
            let mut named = Vec::new();
            let mut d = first;
            while d.month() == m && d.year() == year {
                let kind = cal.kind(d);
                let (class, tag) = match kind {
                    DayKind::Working => ("", ""),
                    DayKind::MakeUp => ("m", "Làm bù"),
                    DayKind::Weekend => ("w", ""),
                    DayKind::Holiday => ("h", "Nghỉ"),
                };
                if kind.is_working() {
                    working += 1;
                }
                let name = match kind {
                    DayKind::Holiday => cal.holidays.get(&d).cloned(),
                    DayKind::MakeUp => cal.working_days.get(&d).cloned(),
                    _ => None,
                };
                let wd = WEEKDAY_NAMES[d.weekday().num_days_from_monday() as usize];
                if let Some(n) = name {
                    named.push((
                        format!("{wd} {}", d.format("%d/%m")),
                        if kind == DayKind::Holiday {
                            "Nghỉ"
                        } else {
                            "Làm bù"
                        },
                        class,
                        n,
                    ));
                }
                week.push(DayCell {
                    day: d.day(),
                    class,
                    tag,
                });
                if d.weekday() == Weekday::Sun {
                    weeks.push(std::mem::take(&mut week));
                }
                d = d.succ_opt().expect("in range");
            }
            if !week.is_empty() {
                while week.len() < 7 {
                    week.push(DayCell {
                        day: 0,
                        class: "",
                        tag: "",
                    });
                }
                weeks.push(week);
            }
            Month {
                name: format!("Tháng {m}"),
                id: format!("thang-{m}"),
                weeks,
                working,
                named,
            }
        })
        .collect()
}

/// `GET /quan-tri/lich?nam=2026`: the year's working calendar as twelve month grids
/// (config/calendar/<year>.toml, or the lunar fallback, said so), printable.
pub async fn calendar(who: Staff, q: web::Query<CalendarQuery>) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let this_year = who
        .app
        .clock
        .now()
        .with_timezone(&who.app.settings.offset)
        .year();
    let year = match nonempty(&q.nam) {
        None => this_year,
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| (MIN_YEAR..=MAX_YEAR).contains(y))
            .ok_or_else(|| {
                AppError::invalid(
                    "invalid_year",
                    format!("Năm phải là số từ {MIN_YEAR} đến {MAX_YEAR}, ví dụ 2026"),
                )
            })?,
    };
    let cal = who
        .app
        .calendar
        .year(year)
        .ok_or_else(AppError::not_found)?;
    let months = months_of(cal);
    let working_days = months.iter().map(|m| m.working).sum();
    let hours = who
        .app
        .calendar
        .hours()
        .sessions()
        .iter()
        .map(|s| format!("{}–{}", s.start.format("%H:%M"), s.end.format("%H:%M")))
        .collect::<Vec<_>>()
        .join(" và ");
    let page = CalendarPage {
        frame: frame(
            &who,
            &format!("Lịch làm việc năm {year}"),
            "/quan-tri/lich",
            "/quan-tri/lich",
        ),
        tabs: sections("/quan-tri/lich"),
        year,
        configured: cal.configured,
        months,
        working_days,
        holidays: cal.holidays.len(),
        make_up: cal.working_days.len(),
        hours,
        prev: (year > MIN_YEAR).then(|| format!("/quan-tri/lich?nam={}", year - 1)),
        next: (year < MAX_YEAR).then(|| format!("/quan-tri/lich?nam={}", year + 1)),
    };
    Ok(render(&page))
}

// ── Audit trail ─────────────────────────────────────────────────────────────────────

pub struct CheckResult {
    pub records: i64,
    pub problems: Vec<(i64, &'static str)>,
    pub at: String,
    pub checkpoints: i64,
    pub unsealed: i64,
    /// The last checkpoint: number, moment (dd/mm/yyyy HH:MM:SS) and the start of its hash.
    pub last_checkpoint: Option<(i64, String, String)>,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
pub struct AuditPage {
    pub frame: Frame,
    pub tabs: Vec<Link>,
    pub check: Option<CheckResult>,
    pub recent: Vec<AuditLine>,
}

fn problem_label(p: &str) -> &'static str {
    if p.contains("not signed") {
        "Điểm niêm phong không mang chữ ký của máy chủ này (bị giả mạo hoặc bị sửa)"
    } else if p.contains("tail was cut") {
        "Thiếu các bản ghi đã niêm phong ở cuối nhật ký (phần cuối nhật ký đã bị cắt)"
    } else if p.contains("does not match the records it sealed") {
        "Các bản ghi không khớp điểm niêm phong (bị sửa, chèn hoặc xóa trước điểm này)"
    } else if p.contains("checkpoints") && p.contains("missing") {
        "Thiếu điểm niêm phong (đã bị xóa)"
    } else if p.contains("checkpoint") {
        "Chuỗi các điểm niêm phong bị phá vỡ"
    } else if p.contains("no checkpoint covers") {
        "Bản ghi mang vị trí niêm phong mà không điểm niêm phong nào xác nhận (bị chèn)"
    } else if p.contains("has no head") {
        "Bản ghi không thuộc chuỗi nào của hệ thống (bị chèn)"
    } else if p.contains("lost all its") {
        "Toàn bộ bản ghi của một chuỗi đã bị xóa"
    } else if p.contains("deleted") {
        "Thiếu các bản ghi trước bản ghi này (đã bị xóa)"
    } else if p.contains("inserted") {
        "Mã băm của bản ghi trước không khớp (bản ghi bị chèn hoặc đổi thứ tự)"
    } else if p.contains("edited") {
        "Nội dung không khớp mã băm của nó (bản ghi đã bị sửa)"
    } else {
        "Đầu chuỗi không khớp bản ghi cuối (các bản ghi cuối đã bị xóa)"
    }
}

/// Records shown under the check.
const AUDIT_SHOWN: i64 = 50;

async fn audit_page(who: &Staff, check: Option<AuditCheck>) -> WebResult<AuditPage> {
    let a = who.app.get_ref().clone();
    let recent = crate::http::block(move || a.recent_audit(AUDIT_SHOWN)).await??;
    let now = who.app.clock.now();
    Ok(AuditPage {
        frame: frame(
            who,
            "Nhật ký kiểm tra",
            "/quan-tri/nhat-ky",
            "/quan-tri/nhat-ky",
        ),
        tabs: sections("/quan-tri/nhat-ky"),
        check: check.map(|c| CheckResult {
            records: c.records,
            problems: c
                .problems
                .iter()
                .map(|(id, p)| (*id, problem_label(p)))
                .collect(),
            at: moment(now, who.app.settings.offset),
            checkpoints: c.checkpoints,
            unsealed: c.unsealed,
            last_checkpoint: c.last_checkpoint.map(|(seq, at, hash)| {
                (
                    seq,
                    at.with_timezone(&who.app.settings.offset)
                        .format("%H:%M:%S %d/%m/%Y")
                        .to_string(),
                    hash.chars().take(16).collect(),
                )
            }),
        }),
        recent: audit_lines(who, &recent),
    })
}

/// `GET /quan-tri/nhat-ky`: the latest records and the check's button.
pub async fn audit(who: Staff) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    Ok(render(&audit_page(&who, None).await?))
}

/// `POST /quan-tri/nhat-ky/kiem-tra`: walks the chain (`motcua audit verify`) and shows
/// what it found; the check itself is recorded.
pub async fn verify(who: Staff, form: web::Form<CsrfForm>) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    who.check_csrf(form.csrf.as_deref())?;
    let a = who.app.get_ref().clone();
    let actor = who.caller.actor();
    let now = who.app.clock.now();
    let check = crate::http::block(move || a.verify_audit_trail(&actor, now)).await??;
    Ok(render(&audit_page(&who, Some(check)).await?))
}

// ── Notifications ───────────────────────────────────────────────────────────────────

/// A notification's template in words.
pub fn template_label(t: &str) -> &'static str {
    match t {
        "dossier_received" => "Đã tiếp nhận hồ sơ",
        "correction_requested" => "Yêu cầu bổ sung, hoàn thiện (trực tuyến)",
        "intake_refused" => "Từ chối tiếp nhận",
        "supplement_requested" => "Đề nghị bổ sung hồ sơ",
        "supplement_received" => "Đã nhận hồ sơ bổ sung",
        "paused" => "Tạm dừng giải quyết",
        "resumed" => "Giải quyết tiếp",
        "reappointed" => "Xin lỗi, hẹn lại ngày trả",
        "decided" => "Đã có kết quả giải quyết",
        "stopped" => "Dừng giải quyết",
        "result_ready" => "Kết quả sẵn sàng",
        "returned" => "Đã trả kết quả",
        "closed" => "Đóng hồ sơ",
        "rating_invitation" => "Mời đánh giá",
        "test_message" => "Thư thử",
        "staff_digest" => "Cảnh báo sớm cho cán bộ",
        "petition_received" => "Đã nhận phản ánh, kiến nghị",
        "petition_answer" => "Trả lời phản ánh, kiến nghị",
        _ => "Thông báo khác",
    }
}

pub struct ParkedLine {
    pub id: i64,
    pub what: &'static str,
    pub dossier: Option<String>,
    pub recipient: String,
    pub attempts: i32,
    pub error: String,
    pub created: String,
    pub action: String,
}

#[derive(Template)]
#[template(path = "admin_outbox.html")]
pub struct OutboxPage {
    pub frame: Frame,
    pub tabs: Vec<Link>,
    pub notice: Option<&'static str>,
    pub month: String,
    pub counts: crate::service::notify::OutboxCounts,
    /// Notified ÷ (notified + not reachable), in words.
    pub reach: String,
    pub transport: String,
    pub parked: Vec<ParkedLine>,
}

/// Parked messages shown.
const PARKED_SHOWN: i64 = 200;

/// `GET /quan-tri/thu-gui`: this month's notifications by state (notified, waiting,
/// parked, not reachable) and the parked ones with "send again".
pub async fn outbox(who: Staff, q: web::Query<NoticeQuery>) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    let offset = who.app.settings.offset;
    let now = who.app.clock.now();
    let local = now.with_timezone(&offset).date_naive();
    let first = local.with_day(1).unwrap_or(local);
    let from = first
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(offset).single())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or(now);
    let a = who.app.get_ref().clone();
    let (counts, parked) = crate::http::block(move || {
        let c = a.outbox_counts(from, now + chrono::Duration::seconds(1))?;
        let p = a.parked_notifications(PARKED_SHOWN)?;
        Ok::<_, AppError>((c, p))
    })
    .await??;
    let reached = counts.sent + counts.pending + counts.parked;
    let reach = if reached + counts.unreachable == 0 {
        "chưa có thông báo nào trong tháng".to_string()
    } else {
        format!(
            "{} trên {} thông báo có địa chỉ thư ({})",
            crate::web::charts::format_count(reached as f64),
            crate::web::charts::format_count((reached + counts.unreachable) as f64),
            crate::web::charts::format_percent(
                100.0 * reached as f64 / (reached + counts.unreachable) as f64
            )
        )
    };
    let transport = match &who.app.settings.mail.transport {
        crate::config::MailTransport::Off => {
            "Tắt: thông báo được giữ trong hàng đợi, không gửi".to_string()
        }
        crate::config::MailTransport::File(d) => {
            format!("Ghi tệp .eml vào {} (môi trường phát triển)", d.display())
        }
        crate::config::MailTransport::Smtp(s) => format!(
            "SMTP {}:{} ({})",
            s.host,
            s.port,
            match s.security.as_str() {
                "tls" => "TLS",
                "starttls" => "STARTTLS",
                _ => "không mã hóa",
            }
        ),
    };
    let page = OutboxPage {
        frame: frame(
            &who,
            "Thư thông báo",
            "/quan-tri/thu-gui",
            "/quan-tri/thu-gui",
        ),
        tabs: sections("/quan-tri/thu-gui"),
        notice: match q.xong.as_deref() {
            Some("gui-lai") => Some("Thư sẽ được gửi lại ngay trong lần gửi tới."),
            _ => None,
        },
        month: first.format("%m/%Y").to_string(),
        counts,
        reach,
        transport,
        parked: parked
            .into_iter()
            .map(|n| ParkedLine {
                id: n.id,
                what: template_label(&n.template),
                dossier: n.dossier_code,
                recipient: n.recipient.unwrap_or_default(),
                attempts: n.attempts,
                error: n.last_error.unwrap_or_default(),
                created: n.created_at.format("%H:%M %d/%m/%Y").to_string(),
                action: format!("/quan-tri/thu-gui/{}/gui-lai", n.id),
            })
            .collect(),
    };
    Ok(render(&page))
}

/// `POST /quan-tri/thu-gui/{id}/gui-lai`: a parked message is sent again (audited).
pub async fn resend(
    who: Staff,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> WebResult<HttpResponse> {
    require_admin(&who)?;
    who.check_csrf(form.csrf.as_deref())?;
    let a = who.app.get_ref().clone();
    let actor = who.caller.actor();
    let now = who.app.clock.now();
    let id = path.into_inner();
    crate::http::block(move || a.resend_parked(&actor, id, now)).await??;
    Ok(see_other("/quan-tri/thu-gui?xong=gui-lai"))
}

/// Routes of the administration pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/quan-tri", web::get().to(home))
        .route("/quan-tri/nguoi-dung", web::get().to(users))
        .route("/quan-tri/them-nguoi-dung", web::get().to(new_user))
        .route("/quan-tri/them-nguoi-dung", web::post().to(add_user))
        .route("/quan-tri/nguoi-dung/{username}", web::get().to(user))
        .route(
            "/quan-tri/nguoi-dung/{username}/vai-tro",
            web::post().to(change_role),
        )
        .route(
            "/quan-tri/nguoi-dung/{username}/mat-khau",
            web::post().to(reset_password),
        )
        .route(
            "/quan-tri/nguoi-dung/{username}/thu-dien-tu",
            web::post().to(set_email),
        )
        .route(
            "/quan-tri/nguoi-dung/{username}/khoa",
            web::post().to(disable),
        )
        .route(
            "/quan-tri/nguoi-dung/{username}/mo-khoa",
            web::post().to(enable),
        )
        .route("/quan-tri/cong-thong-tin", web::get().to(portals))
        .route("/quan-tri/cong-thong-tin", web::post().to(add_portal))
        .route(
            "/quan-tri/cong-thong-tin/{id}/khoa-moi",
            web::post().to(rotate_portal),
        )
        .route(
            "/quan-tri/cong-thong-tin/{id}/thu-hoi",
            web::post().to(revoke_portal),
        )
        .route("/quan-tri/co-quan", web::get().to(agencies))
        .route("/quan-tri/thu-tuc", web::get().to(catalogue))
        .route("/quan-tri/thu-tuc/{code}", web::get().to(procedure))
        .route("/quan-tri/lich", web::get().to(calendar))
        .route("/quan-tri/thu-gui", web::get().to(outbox))
        .route("/quan-tri/thu-gui/{id}/gui-lai", web::post().to(resend))
        .route("/quan-tri/nhat-ky", web::get().to(audit))
        .route("/quan-tri/nhat-ky/kiem-tra", web::post().to(verify));
}
