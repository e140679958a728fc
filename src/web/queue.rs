//! The work queue (`/hang-doi`, issue #15): tabs by role with their counts, soonest due
//! first, filters, paging; leaders assign several dossiers at once, and hand-overs are
//! accepted several at once. Every form works without JavaScript.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::Staff;
use super::{moment, render, Frame, WebResult};
use crate::core::machine::Event;
use crate::service::queue::{QueueLine, Tab, TabFilters, Urgency};
use crate::service::Role;

/// Lines per page.
const PAGE: i64 = 50;

#[derive(Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    tab: Option<String>,
    #[serde(default, rename = "thu-tuc")]
    procedure: Option<String>,
    #[serde(default, rename = "can-bo")]
    assignee: Option<String>,
    #[serde(default, rename = "trang-thai")]
    status: Option<String>,
    #[serde(default, rename = "trang")]
    page: Option<i64>,
    /// After a bulk action: what was done, how many, which failed.
    #[serde(default)]
    xong: Option<String>,
    #[serde(default)]
    n: Option<usize>,
    #[serde(default)]
    loi: Option<String>,
}

pub struct TabLink {
    /// The tab shows its count (the finished one is not counted).
    pub counted: bool,
    pub slug: &'static str,
    pub label: &'static str,
    pub count: i64,
    pub href: String,
    pub current: bool,
    /// Worth a look: overdue, or closable.
    pub alarm: bool,
}

pub struct Line {
    pub code: String,
    pub href: String,
    pub procedure: String,
    pub applicant: String,
    pub step: String,
    pub due: String,
    pub remaining: String,
    pub urgency: &'static str,
    pub urgency_class: &'static str,
    pub assignee: String,
    pub status: String,
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "queue.html")]
pub struct QueuePage {
    pub frame: Frame,
    pub tabs: Vec<TabLink>,
    pub tab: &'static str,
    pub tab_label: &'static str,
    pub lines: Vec<Line>,
    pub procedures: Vec<Opt>,
    pub assignees: Vec<Opt>,
    pub statuses: Vec<Opt>,
    /// Bulk actions on this tab: accept hand-overs, assign.
    pub can_accept: bool,
    pub can_assign: bool,
    /// Officials a leader may assign to.
    pub staff: Vec<Opt>,
    pub page: i64,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub notice: Option<String>,
    pub failed: Vec<String>,
    /// The query of the current filters, for links.
    pub filters_query: String,
}

/// "2 ngày 3 giờ", "45 phút": a span of working minutes for people.
pub use crate::core::warning::working_span as span;

fn urgency_words(u: Urgency) -> (&'static str, &'static str) {
    match u {
        Urgency::Ok => ("Trong hạn", "badge-ok"),
        Urgency::DueSoon => ("Sắp đến hạn", "badge-warn"),
        Urgency::Overdue => ("Quá hạn", "badge-late"),
        Urgency::ToClose => ("Cần đóng", "badge-late"),
    }
}

fn line(who: &Staff, i: &QueueLine) -> Line {
    let app = &who.app;
    let offset = app.settings.offset;
    let per_day = app.calendar.hours().minutes_per_day();
    let d = i;
    let (mut urgency, mut urgency_class) = urgency_words(i.urgency);
    let stopped = i.clock_stopped;
    let finished = d.finished_at.is_some();
    let passed_on = !finished && d.current_agency != who.caller.agency;
    if finished {
        (urgency, urgency_class) = match d.outcome.as_deref() {
            Some("early") => ("Trước hạn", "badge-ok"),
            Some("on_time") => ("Đúng hạn", "badge-ok"),
            Some("late") => ("Quá hạn", "badge-late"),
            _ => ("Đã kết thúc", "badge-ok"),
        };
    }
    let remaining = if let Some(f) = d.finished_at {
        format!("Kết thúc {}", moment(f, offset))
    } else if passed_on {
        "Đã chuyển đi".to_string()
    } else if stopped {
        format!("Dừng tính; còn {}", span(i.remaining_minutes, per_day))
    } else if i.remaining_minutes < 0 {
        format!("Quá {}", span(i.remaining_minutes, per_day))
    } else {
        format!("Còn {}", span(i.remaining_minutes, per_day))
    };
    let agency = |c: &str| {
        app.agencies
            .get(c)
            .map(|a| a.short_name.clone().unwrap_or_else(|| a.name.clone()))
            .unwrap_or_else(|| c.to_string())
    };
    let (step, due) = match &i.step {
        Some((s, _, _)) => (
            format!("{}. {} ({})", s.no, s.name, agency(&s.agency_code)),
            d.due_at.map(|t| moment(t, offset)).unwrap_or_default(),
        ),
        None => (
            match &i.pending_handover {
                Some(to) => format!("Đang chuyển đến {}", agency(to)),
                None => agency(&d.current_agency),
            },
            d.due_at
                .or(i.acknowledge_by.filter(|_| d.received_at.is_none()))
                .map(|t| moment(t, offset))
                .unwrap_or_default(),
        ),
    };
    Line {
        href: format!("/ho-so/{}", super::encode(&d.code)),
        code: d.code.clone(),
        procedure: app
            .catalogue
            .get(&d.procedure_code)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| d.procedure_code.clone()),
        applicant: if i.in_scope {
            d.applicant_name.clone()
        } else {
            crate::core::applicant::mask_name(&d.applicant_name)
        },
        step,
        due,
        remaining,
        urgency,
        urgency_class,
        assignee: i.assignee.clone().unwrap_or_default(),
        status: super::dossier::status_label(&d.status),
    }
}

fn query_of(f: &TabFilters) -> String {
    let mut q = String::new();
    for (k, v) in [
        ("thu-tuc", &f.procedure),
        ("can-bo", &f.assignee),
        ("trang-thai", &f.status),
    ] {
        if let Some(v) = v {
            q.push_str(&format!("&{k}={}", super::encode(v)));
        }
    }
    q
}

/// `GET /hang-doi`: the caller's work queue.
pub async fn page(who: Staff, q: web::Query<QueueQuery>) -> WebResult<HttpResponse> {
    let q = q.into_inner();
    let tab = q.tab.as_deref().and_then(Tab::parse);
    let nonempty = |v: &Option<String>| {
        v.as_ref()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let filters = TabFilters {
        procedure: nonempty(&q.procedure),
        assignee: nonempty(&q.assignee),
        status: nonempty(&q.status),
    };
    let page_no = q.page.unwrap_or(1).clamp(1, 10_000);
    let a = who.app.get_ref().clone();
    let c = who.caller.clone();
    let f = filters.clone();
    let now = who.app.clock.now();
    let staff_agency = who.caller.agency.clone();
    let (view, staff) = crate::http::block(move || {
        let view = a.queue_tabs(&c, tab, &f, PAGE, (page_no - 1) * PAGE, now)?;
        let staff = a.store.staff_of(&staff_agency)?;
        Ok::<_, crate::error::AppError>((view, staff))
    })
    .await??;
    let fq = query_of(&filters);
    let tabs = view
        .tabs
        .iter()
        .map(|(t, n)| TabLink {
            counted: *n >= 0,
            slug: t.slug(),
            label: t.label(),
            count: *n,
            href: format!("/hang-doi?tab={}{fq}", t.slug()),
            current: *t == view.tab,
            alarm: matches!(t, Tab::Overdue | Tab::ToClose) && *n > 0,
        })
        .collect();
    // The assignee by name, as the staff of the agency know each other.
    let lines: Vec<Line> = view
        .items
        .iter()
        .map(|i| {
            let mut l = line(&who, i);
            if let Some((_, name, _)) = staff.iter().find(|(u, _, _)| *u == l.assignee) {
                l.assignee = name.clone();
            }
            l
        })
        .collect();
    let role = who.caller.role;
    let can_accept = view.tab == Tab::Incoming
        && matches!(role, Role::Clerk | Role::Official | Role::Leader)
        && !lines.is_empty();
    let can_assign =
        role == Role::Leader && !matches!(view.tab, Tab::Incoming | Tab::Done) && !lines.is_empty();
    let base = format!("/hang-doi?tab={}{fq}", view.tab.slug());
    let notice = match (q.xong.as_deref(), q.n) {
        (Some("accept"), Some(n)) => Some(format!("Đã nhận {n} hồ sơ được chuyển đến")),
        (Some("assign"), Some(n)) => Some(format!("Đã phân công {n} hồ sơ")),
        _ => None,
    };
    let failed = q
        .loi
        .as_deref()
        .map(|s| {
            s.split(',')
                .filter(|c| !c.is_empty())
                .take(50)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let sel = |v: &str, cur: &Option<String>| cur.as_deref() == Some(v);
    let page = QueuePage {
        frame: who
            .frame("Hàng đợi xử lý", "/hang-doi")
            .crumb("Hàng đợi xử lý", "/hang-doi"),
        tab: view.tab.slug(),
        tab_label: view.tab.label(),
        procedures: who
            .app
            .catalogue
            .procedures
            .values()
            .map(|p| Opt {
                selected: sel(&p.code, &filters.procedure),
                value: p.code.clone(),
                label: p.name.clone(),
            })
            .collect(),
        assignees: [("me".to_string(), "Của tôi".to_string())]
            .into_iter()
            .chain(staff.iter().map(|(u, n, _)| (u.clone(), n.clone())))
            .map(|(value, label)| Opt {
                selected: sel(&value, &filters.assignee),
                value,
                label,
            })
            .collect(),
        statuses: crate::core::dossier::Status::ALL
            .iter()
            .map(|s| Opt {
                value: s.as_str().to_string(),
                label: s.label_vi().to_string(),
                selected: sel(s.as_str(), &filters.status),
            })
            .collect(),
        staff: staff
            .iter()
            .filter(|(_, _, r)| r != "clerk")
            .map(|(u, n, _)| Opt {
                value: u.clone(),
                label: format!("{n} ({u})"),
                selected: false,
            })
            .collect(),
        can_accept,
        can_assign,
        page: page_no,
        prev: (page_no > 1).then(|| format!("{base}&trang={}", page_no - 1)),
        next: view.more.then(|| format!("{base}&trang={}", page_no + 1)),
        notice,
        failed,
        filters_query: fq,
        lines,
        tabs,
    };
    Ok(render(&page))
}

/// `POST /hang-doi/thao-tac`: one action on the selected dossiers (`ma`), each in its own
/// transaction — accept hand-overs, or (leaders) assign to an official; back to the tab
/// with how many were done and which were refused.
pub async fn bulk(who: Staff, form: web::Form<Vec<(String, String)>>) -> WebResult<HttpResponse> {
    let fields = form.into_inner();
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    who.check_csrf(Some(get("csrf").as_str()).filter(|s| !s.is_empty()))?;
    let codes: Vec<String> = fields
        .iter()
        .filter(|(n, v)| n == "ma" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .take(200)
        .collect();
    let action = get("thao-tac");
    let event = match action.as_str() {
        "accept" => Event::Accept,
        "assign" => Event::Assign {
            user: get("can-bo-xu-ly"),
        },
        _ => {
            return Err(crate::error::AppError::bad_request(
                "invalid_event",
                "Thao tác không hợp lệ",
            )
            .into())
        }
    };
    let tab = Tab::parse(&get("tab")).unwrap_or(Tab::Todo);
    let a = who.app.get_ref().clone();
    let c = who.caller.clone();
    let now = who.app.clock.now();
    let list = codes.clone();
    let (done, failed) = crate::http::block(move || {
        let mut done = 0usize;
        let mut failed = Vec::new();
        for code in &list {
            match a.record_event(&c, code, &event, now) {
                Ok(_) => done += 1,
                Err(_) => failed.push(code.clone()),
            }
        }
        (done, failed)
    })
    .await?;
    let back = get("quay-lai");
    let back = if back.starts_with('&') {
        back
    } else {
        String::new()
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((
            "Location",
            format!(
                "/hang-doi?tab={}{back}&xong={action}&n={done}&loi={}",
                tab.slug(),
                super::encode(&failed.join(","))
            ),
        ))
        .finish())
}

impl QueuePage {
    pub fn nothing(&self) -> &'static str {
        match Tab::parse(self.tab) {
            Some(Tab::Incoming) => "Không có hồ sơ nào đang được chuyển đến.",
            Some(Tab::Overdue) => "Không có hồ sơ quá hạn.",
            Some(Tab::DueSoon) => "Không có hồ sơ sắp đến hạn.",
            Some(Tab::ToDecide) => "Không có hồ sơ chờ phê duyệt.",
            Some(Tab::ToClose) => "Không có hồ sơ cần đóng.",
            Some(Tab::Done) => "Chưa có hồ sơ nào đã xử lý xong hoặc đã chuyển đi.",
            _ => "Không có hồ sơ nào trong danh sách này.",
        }
    }
}
