//! `/ho-so`: finding a dossier, and reading it (`/ho-so/{code}`), with its receipt.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::Staff;
use super::{long_moment, moment, render, Frame, Link, WebError, WebResult};
use crate::core::dossier::Status;
use crate::service::dossiers::ListQuery;
use crate::service::views;

/// A line of the search result.
pub struct Hit {
    pub code: String,
    pub href: String,
    pub applicant: String,
    pub procedure: String,
    pub status: String,
    pub status_class: &'static str,
    pub received: String,
    pub due: String,
}

pub struct StatusOpt {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    pub frame: Frame,
    pub q: String,
    pub from: String,
    pub to: String,
    pub statuses: Vec<StatusOpt>,
    pub searched: bool,
    pub hits: Vec<Hit>,
    pub more: bool,
    pub error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    tu: Option<String>,
    #[serde(default)]
    den: Option<String>,
    #[serde(default, rename = "trang-thai")]
    status: Option<String>,
}

/// A CSS class per status family, for the badge (staff and citizens' pages alike): a
/// decided dossier whose result waits (`approved`) is done, like a returned one.
pub fn status_class(s: &str) -> &'static str {
    match Status::parse(s) {
        Some(Status::Submitted | Status::NeedsCorrection) => "badge-wait",
        Some(Status::Received | Status::InProgress) => "badge-work",
        Some(Status::SupplementRequested | Status::Paused) => "badge-hold",
        Some(Status::Approved | Status::Returned) => "badge-done",
        _ => "badge-end",
    }
}

pub fn status_label(s: &str) -> String {
    Status::parse(s)
        .map(|x| x.label_vi().to_string())
        .unwrap_or_else(|| s.to_string())
}

/// The code inside what a receipt's QR code holds (the status page's address), or the text.
fn scanned_code(q: &str) -> Option<String> {
    let q = q.trim();
    let tail = q.split("/tra-cuu/").nth(1)?;
    let code: String = tail
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    (!code.is_empty()).then_some(code)
}

fn parse_day(s: &Option<String>) -> Result<Option<chrono::NaiveDate>, String> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .or_else(|_| chrono::NaiveDate::parse_from_str(d, "%d/%m/%Y"))
            .map(Some)
            .map_err(|_| format!("Ngày \"{d}\" không hợp lệ (dd/mm/yyyy)")),
    }
}

/// `GET /ho-so`: search by code prefix, ID number or name (with or without diacritics),
/// received between two dates, by status. A scanned receipt QR code opens its dossier.
pub async fn search(who: Staff, q: web::Query<SearchQuery>) -> WebResult<HttpResponse> {
    let q = q.into_inner();
    if let Some(code) = q.q.as_deref().and_then(scanned_code) {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", format!("/ho-so/{}", super::encode(&code))))
            .finish());
    }
    let text = q.q.clone().unwrap_or_default();
    let status = q.status.clone().unwrap_or_default();
    let searched = !text.trim().is_empty()
        || q.tu.as_deref().is_some_and(|s| !s.is_empty())
        || q.den.as_deref().is_some_and(|s| !s.is_empty())
        || !status.is_empty();
    let mut error = None;
    let mut hits = Vec::new();
    let mut more = false;
    let app = who.app.clone();
    match (parse_day(&q.tu), parse_day(&q.den)) {
        (Ok(from), Ok(to)) => {
            let list = ListQuery {
                status: Status::parse(&status).map(|_| status.clone()),
                from,
                to,
                procedure: None,
                q: Some(text.clone()).filter(|t| !t.trim().is_empty()),
                limit: Some(51),
                offset: None,
            };
            let a = app.get_ref().clone();
            let c = who.caller.clone();
            match crate::http::block(move || a.list_dossiers_for(&c, &list)).await? {
                Ok(rows) => {
                    // An exact code goes straight to its dossier.
                    if rows.len() == 1 && rows[0].code.eq_ignore_ascii_case(text.trim()) {
                        return Ok(HttpResponse::SeeOther()
                            .insert_header((
                                "Location",
                                format!("/ho-so/{}", super::encode(&rows[0].code)),
                            ))
                            .finish());
                    }
                    more = rows.len() > 50;
                    let offset = app.settings.offset;
                    hits = rows
                        .into_iter()
                        .take(50)
                        .map(|d| Hit {
                            href: format!("/ho-so/{}", super::encode(&d.code)),
                            applicant: d.applicant_name.clone(),
                            procedure: app
                                .catalogue
                                .get(&d.procedure_code)
                                .map(|p| p.name.clone())
                                .unwrap_or_else(|| d.procedure_code.clone()),
                            status: status_label(&d.status),
                            status_class: status_class(&d.status),
                            received: d
                                .received_at
                                .map(|t| moment(t, offset))
                                .unwrap_or_else(|| "Chờ tiếp nhận".into()),
                            due: d.due_at.map(|t| moment(t, offset)).unwrap_or_default(),
                            code: d.code,
                        })
                        .collect();
                }
                Err(e) => error = Some(e.message),
            }
        }
        (Err(m), _) | (_, Err(m)) => error = Some(m),
    }
    let page = SearchPage {
        frame: who
            .frame("Tra cứu hồ sơ", "/ho-so")
            .crumb("Tra cứu hồ sơ", "/ho-so"),
        q: text,
        from: q.tu.unwrap_or_default(),
        to: q.den.unwrap_or_default(),
        statuses: Status::ALL
            .iter()
            .map(|s| StatusOpt {
                value: s.as_str(),
                label: s.label_vi(),
                selected: s.as_str() == status,
            })
            .collect(),
        searched,
        hits,
        more,
        error,
    };
    Ok(render(&page))
}

pub struct Row {
    pub label: &'static str,
    pub value: String,
}

pub struct FileView {
    pub name: String,
    pub href: String,
    pub detail: String,
}

pub struct PaperView {
    pub position: i32,
    pub name: String,
    pub kind: String,
    pub count: i32,
    pub reuse: Option<String>,
    pub files: Vec<FileView>,
}

pub struct EventView {
    pub at: String,
    pub at_iso: String,
    pub label: String,
    pub actor: String,
    pub agency: String,
    pub status: String,
}

pub struct StepView {
    pub no: i32,
    pub name: String,
    pub agency: String,
    pub due: String,
    pub state: String,
    pub state_class: &'static str,
}

pub struct FormLink {
    pub number: &'static str,
    pub label: &'static str,
    /// The form's name in the addresses (`tiep-nhan`, `supplement`, `control`, …).
    pub slug: String,
    /// The PDF to print.
    pub href: String,
    /// The dossier page with this form previewed.
    pub preview_href: String,
    /// Previewed now.
    pub current: bool,
}

/// A form of the dossier read in the page before printing (issue #15): the same
/// template and data as its PDF, as an HTML sheet.
pub struct FormPreview {
    pub number: &'static str,
    pub label: &'static str,
    pub pdf_href: String,
    /// Rendered by [`crate::forms::render_html`]: every value escaped there.
    pub html: String,
}

#[derive(Template)]
#[template(path = "dossier.html")]
pub struct DossierPage {
    pub frame: Frame,
    pub code: String,
    pub tab: String,
    pub tabs: Vec<Link>,
    pub status: String,
    pub status_class: &'static str,
    pub procedure: String,
    pub applicant: String,
    pub due: String,
    pub holder: String,
    pub info: Vec<Row>,
    pub papers: Vec<PaperView>,
    pub result_files: Vec<FileView>,
    pub events: Vec<EventView>,
    pub steps: Vec<StepView>,
    pub forms: Vec<FormLink>,
    /// On the Phiếu tab: the form shown.
    pub preview: Option<FormPreview>,
    /// The actions the server accepts from the reader now, as forms.
    pub actions: Vec<super::actions::ActionForm>,
    /// What was just recorded, e.g. "Đã trả kết quả".
    pub done: Option<String>,
    /// A refused action or upload: (the form's anchor, the message).
    pub problem: Option<(String, String)>,
    pub max_upload_mb: u64,
    /// The reader's agency holds the approved dossier: it may attach the result's
    /// electronic copy.
    pub can_attach_result: bool,
    /// On the Quá trình tab: what the applicant was told, and how it went (issue #17).
    pub notifications: Vec<NotificationLine>,
}

/// A message to the applicant, as the dossier's history shows it.
pub struct NotificationLine {
    pub at: String,
    pub what: &'static str,
    pub state: String,
    pub state_class: &'static str,
}

impl DossierPage {
    pub fn problem_at(&self, anchor: &str) -> Option<&str> {
        match &self.problem {
            Some((a, m)) if a == anchor => Some(m.as_str()),
            _ => None,
        }
    }
}

/// Vietnamese name of an event type.
pub fn event_label(kind: &str) -> &str {
    match kind {
        "submit" | "submitted" => "Nộp hồ sơ trực tuyến",
        "intake" | "received" | "receive" => "Tiếp nhận hồ sơ",
        "resubmit" => "Nộp lại hồ sơ sau khi hoàn thiện",
        "request_correction" => "Yêu cầu hoàn thiện hồ sơ",
        "refuse" => "Từ chối",
        "handover" => "Chuyển hồ sơ",
        "accept" => "Nhận hồ sơ chuyển đến",
        "assign" => "Phân công xử lý",
        "propose" => "Trình phê duyệt",
        "request_supplement" => "Yêu cầu bổ sung hồ sơ",
        "supplement_received" => "Nhận hồ sơ bổ sung",
        "pause" => "Tạm dừng giải quyết",
        "resume" => "Tiếp tục giải quyết",
        "delay" => "Gia hạn, hẹn lại ngày trả kết quả",
        "stop" => "Dừng giải quyết",
        "close" => "Kết thúc hồ sơ",
        "decide" => "Phê duyệt kết quả",
        "return" => "Trả kết quả",
        "payment" => "Thu phí, lệ phí",
        "rate" => "Đánh giá mức độ hài lòng",
        other => other,
    }
}

#[derive(Deserialize)]
pub struct TabQuery {
    #[serde(default)]
    tab: Option<String>,
    #[serde(default)]
    da: Option<String>,
    /// On the Phiếu tab: the form to preview (default: the latest issued).
    #[serde(default)]
    mau: Option<String>,
}

const TABS: [(&str, &str); 4] = [
    ("thong-tin", "Thông tin"),
    ("thanh-phan", "Thành phần"),
    ("qua-trinh", "Quá trình"),
    ("phieu", "Phiếu"),
];

fn size_label(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / 1024.0 / 1024.0).replace('.', ",")
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

/// What a recorded action is called in the page's confirmation.
fn done_label(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "receive" => "Đã tiếp nhận chính thức hồ sơ trực tuyến",
        "request_correction" => "Đã gửi yêu cầu hoàn thiện hồ sơ",
        "refuse" => "Đã từ chối tiếp nhận hồ sơ",
        "return" => "Đã ghi nhận trả kết quả",
        "payment" => "Đã ghi nhận thu phí, lệ phí",
        "rate" => "Đã ghi nhận đánh giá của người dân",
        "upload" => "Đã tải lên bản số hóa",
        "accept" => "Đã nhận hồ sơ được chuyển đến",
        "assign" => "Đã phân công cán bộ xử lý",
        "propose" => "Đã trình lãnh đạo phê duyệt",
        "handover" => "Đã chuyển hồ sơ",
        "request_supplement" => "Đã gửi yêu cầu bổ sung hồ sơ",
        "supplement_received" => "Đã ghi nhận hồ sơ bổ sung",
        "pause" => "Đã tạm dừng giải quyết",
        "resume" => "Đã tiếp tục giải quyết",
        "delay" => "Đã gửi phiếu xin lỗi và hẹn lại ngày trả",
        "decide" => "Đã ghi nhận quyết định",
        "close" => "Đã đóng hồ sơ",
        "stop" => "Đã dừng giải quyết hồ sơ",
        _ => return None,
    })
}

/// An action form just sent back to its page: its values, and what it will do (after
/// "Tiếp tục") or why it was refused (in `problem`).
pub struct Sent {
    pub kind: String,
    pub values: std::collections::HashMap<String, String>,
    pub preview: Option<Vec<(String, String)>>,
}

/// Builds the dossier page.
async fn sheet_page(
    who: &Staff,
    code: String,
    tab: Option<String>,
    done: Option<String>,
    problem: Option<(String, String)>,
    sent: Option<Sent>,
) -> WebResult<DossierPage> {
    let app = who.app.clone();
    let a = app.get_ref().clone();
    let c = who.caller.clone();
    let now = app.clock.now();
    let sheet = crate::http::block(move || a.dossier_sheet(&c, &code, now)).await??;
    let d = &sheet.dossier;
    let offset = app.settings.offset;
    let tab = tab
        .filter(|t| TABS.iter().any(|(k, _)| k == t))
        .unwrap_or_else(|| "thong-tin".into());
    let agency = |c: &str| {
        app.agencies
            .get(c)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| c.to_string())
    };
    let procedure = app
        .catalogue
        .get(&d.procedure_code)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| d.procedure_code.clone());
    let mut info = vec![
        Row {
            label: "Mã hồ sơ",
            value: d.code.clone(),
        },
        Row {
            label: "Thủ tục",
            value: format!("{procedure} ({})", d.procedure_code),
        },
        Row {
            label: "Người nộp",
            value: d.applicant_name.clone(),
        },
        Row {
            label: "Số định danh",
            value: d.applicant_id_number.clone(),
        },
    ];
    if let Some(p) = &d.applicant_phone {
        info.push(Row {
            label: "Điện thoại",
            value: p.clone(),
        });
    }
    if let Some(e) = &d.applicant_email {
        info.push(Row {
            label: "Thư điện tử",
            value: e.clone(),
        });
    }
    if let Some(a) = &d.applicant_address {
        info.push(Row {
            label: "Địa chỉ",
            value: a.clone(),
        });
    }
    info.push(Row {
        label: "Hình thức nộp",
        value: crate::core::dossier::Channel::parse(&d.channel)
            .map(|c| c.label_vi().to_string())
            .unwrap_or_else(|| d.channel.clone()),
    });
    info.push(Row {
        label: "Nơi tiếp nhận",
        value: agency(&d.receiving_agency),
    });
    if let Some(c) = &d.competent_agency {
        info.push(Row {
            label: "Cơ quan giải quyết",
            value: agency(c),
        });
    }
    if let Some(t) = d.received_at {
        info.push(Row {
            label: "Ngày tiếp nhận",
            value: long_moment(t, offset),
        });
    }
    if let Some(t) = d.due_at {
        info.push(Row {
            label: "Hẹn trả kết quả",
            value: long_moment(t, offset),
        });
    }
    if let Some(t) = d.reappointed_at {
        info.push(Row {
            label: "Hẹn lại",
            value: long_moment(t, offset),
        });
    }
    if let Some(t) = d.finished_at {
        info.push(Row {
            label: "Hoàn thành",
            value: long_moment(t, offset),
        });
    }
    if let Some(o) = d
        .outcome
        .as_deref()
        .and_then(crate::service::processing::outcome_of)
    {
        info.push(Row {
            label: "Kết quả đúng hạn",
            value: o.label_vi().into(),
        });
    }
    if let Some(n) = &d.note {
        info.push(Row {
            label: "Ghi chú",
            value: n.clone(),
        });
    }
    if let (Some(v), Some(l)) = (d.book_volume, d.book_line) {
        info.push(Row {
            label: "Sổ theo dõi",
            value: format!("Quyển {v}, số {l}"),
        });
    }
    let file_view = |f: &views::FileView| FileView {
        name: f.file_name.clone(),
        href: format!(
            "/ho-so/{}/tep/{}",
            super::encode(&d.code),
            super::encode(&f.id)
        ),
        detail: format!(
            "{} · {} · {}",
            size_label(f.size),
            moment(f.uploaded_at, offset),
            f.uploaded_by
        ),
    };
    let papers = sheet
        .papers
        .iter()
        .map(|p| PaperView {
            position: p.position,
            kind: crate::service::intake::paper_kind_label(&p.kind).into(),
            name: p.name.clone(),
            count: p.count,
            reuse: p.reuse_document_id.clone(),
            files: sheet
                .files
                .iter()
                .filter(|f| f.paper_position == Some(p.position))
                .map(file_view)
                .collect(),
        })
        .collect();
    let result_files = sheet
        .files
        .iter()
        .filter(|f| f.paper_position.is_none())
        .map(file_view)
        .collect();
    let now_local = now.with_timezone(&offset);
    let steps = sheet
        .steps
        .iter()
        .map(|s| {
            let due = s.due_at;
            let (state, class) = match (&s.outcome, s.started_at, s.ended_at) {
                (Some(o), _, _) => (
                    crate::service::processing::outcome_of(o)
                        .map(|o| o.label_vi())
                        .unwrap_or("Xong")
                        .to_string(),
                    if o == "late" {
                        "badge-end late"
                    } else {
                        "badge-done"
                    },
                ),
                (None, _, Some(_)) => ("Xong".into(), "badge-done"),
                (None, Some(_), None) if due < now_local => {
                    ("Đang xử lý, quá hạn".into(), "badge-late")
                }
                (None, Some(_), None) => ("Đang xử lý".into(), "badge-work"),
                (None, None, _) => ("Chưa đến".into(), "badge-end"),
            };
            StepView {
                no: s.no,
                name: s.name.clone(),
                agency: agency(&s.agency_code),
                due: moment(due, offset),
                state,
                state_class: class,
            }
        })
        .collect();
    let mut forms = Vec::new();
    let receipt = d.received_at.is_some();
    let link = |number, label, slug: &str| FormLink {
        number,
        label,
        slug: slug.to_string(),
        href: format!("/ho-so/{}/phieu/{slug}", super::encode(&d.code)),
        preview_href: format!(
            "/ho-so/{}?tab=phieu&mau={slug}#xem-phieu",
            super::encode(&d.code)
        ),
        current: false,
    };
    if receipt {
        forms.push(link(
            "Mẫu 01",
            "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
            "tiep-nhan",
        ));
    }
    for n in &sheet.notices {
        let (number, label) = n.label();
        forms.push(link(number, label, n.as_str()));
    }
    let code = d.code.clone();
    Ok(DossierPage {
        frame: who
            .frame(format!("Hồ sơ {code}"), "/ho-so")
            .crumb("Tra cứu hồ sơ", "/ho-so")
            .crumb(
                format!("Hồ sơ {code}"),
                format!("/ho-so/{}", super::encode(&code)),
            ),
        tabs: TABS
            .iter()
            .map(|(k, l)| Link {
                label: (*l).into(),
                href: format!("/ho-so/{}?tab={k}", super::encode(&code)),
                current: *k == tab,
            })
            .collect(),
        tab,
        status: status_label(&d.status),
        status_class: status_class(&d.status),
        procedure,
        applicant: d.applicant_name.clone(),
        due: d
            .reappointed_at
            .or(d.due_at)
            .map(|t| moment(t, offset))
            .unwrap_or_else(|| "Chưa có (chờ tiếp nhận chính thức)".into()),
        holder: agency(&d.current_agency),
        info,
        papers,
        result_files,
        events: sheet
            .events
            .iter()
            .rev()
            .map(|e| EventView {
                at: moment(e.at, offset),
                at_iso: crate::http::rfc3339(e.at.fixed_offset(), offset),
                label: event_label(&e.kind).to_string(),
                actor: e.actor.clone(),
                agency: agency(&e.agency_code),
                status: status_label(&e.status_after),
            })
            .collect(),
        steps,
        forms,
        preview: None,
        actions: {
            let action_problem = problem
                .as_ref()
                .filter(|(a, _)| {
                    sent.as_ref()
                        .is_some_and(|s| *a == format!("tt-{}", s.kind))
                })
                .map(|(_, m)| m.clone());
            let (kind, values, preview) = match &sent {
                Some(s) => (Some(s.kind.as_str()), Some(&s.values), s.preview.clone()),
                None => (None, None, None),
            };
            super::actions::forms(
                &sheet.actions,
                kind.zip(values),
                preview,
                action_problem,
                offset,
            )
        },
        done: done.as_deref().and_then(done_label).map(str::to_string),
        problem,
        max_upload_mb: app.settings.max_upload_bytes / 1024 / 1024,
        can_attach_result: matches!(
            who.caller.role,
            crate::service::Role::Clerk
                | crate::service::Role::Official
                | crate::service::Role::Leader
        ) && d.current_agency == who.caller.agency
            && d.status == "approved",
        code,
        notifications: Vec::new(),
    })
}

/// `GET /ho-so/{code}`: the dossier, with its tabs.
pub async fn page(
    who: Staff,
    path: web::Path<String>,
    q: web::Query<TabQuery>,
) -> WebResult<HttpResponse> {
    let q = q.into_inner();
    let code = path.into_inner();
    let mut page = sheet_page(&who, code.clone(), q.tab, q.da, None, None).await?;
    if page.tab == "qua-trinh" {
        // The page above was allowed: the dossier is in the reader's scope.
        let a = who.app.get_ref().clone();
        let c = code.clone();
        let offset = who.app.settings.offset;
        let rows = crate::http::block(move || {
            a.notifications_of(&c).map_err(crate::error::AppError::from)
        })
        .await??;
        page.notifications = rows
            .into_iter()
            .map(|n| {
                let (state, class) = match n.state.as_str() {
                    "sent" => (
                        format!(
                            "Đã gửi {}",
                            n.sent_at
                                .map(|t| moment(t.to_utc(), offset))
                                .unwrap_or_default()
                        ),
                        "badge-done",
                    ),
                    "pending" if n.attempts > 0 => (
                        format!("Đang gửi lại (đã thử {} lần)", n.attempts),
                        "badge-work",
                    ),
                    "pending" => ("Đang chờ gửi".into(), "badge-work"),
                    "parked" => ("Gửi không được".into(), "badge-late"),
                    _ => ("Không có địa chỉ thư".into(), "badge-end"),
                };
                NotificationLine {
                    at: moment(n.created_at.to_utc(), offset),
                    what: super::admin::template_label(&n.template),
                    state,
                    state_class: class,
                }
            })
            .collect();
    }
    if page.tab == "phieu" {
        // The form asked for, or the latest issued (the process-control slip once
        // received: it grows with every hand-over).
        let chosen = q
            .mau
            .and_then(|m| page.forms.iter().position(|f| f.slug == m))
            .or_else(|| page.forms.len().checked_sub(1));
        if let Some(i) = chosen {
            let slug = page.forms[i].slug.clone();
            let a = who.app.get_ref().clone();
            let c = who.caller.clone();
            let html = crate::http::block(move || match slug.as_str() {
                "tiep-nhan" => a.receipt_html(&c, &code),
                s => {
                    let n = crate::service::notices::Notice::parse(s)
                        .ok_or_else(crate::error::AppError::not_found)?;
                    a.notice_html(&c, &code, n)
                }
            })
            .await??;
            let f = &mut page.forms[i];
            f.current = true;
            page.preview = Some(FormPreview {
                number: f.number,
                label: f.label,
                pdf_href: f.href.clone(),
                html,
            });
        }
    }
    Ok(render(&page))
}

/// `POST /ho-so/{code}/su-kien`: an action of the dossier's life. Without `xac-nhan`, a
/// dry run: the page comes back with what the action will do and its "Xác nhận" button;
/// with it, the event is recorded. A refusal shows its message on the action's form.
pub async fn event(
    who: Staff,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> WebResult<HttpResponse> {
    let fields: std::collections::HashMap<String, String> = form.into_inner().into_iter().collect();
    who.check_csrf(fields.get("csrf").map(String::as_str))?;
    let code = path.into_inner();
    let kind = fields
        .get("type")
        .map(|v| v.trim().to_string())
        .unwrap_or_default();
    let Some(kind) = crate::service::actions::KINDS
        .iter()
        .find(|k| **k == kind)
        .copied()
    else {
        return Err(
            crate::error::AppError::bad_request("invalid_event", "Thao tác không hợp lệ").into(),
        );
    };
    let confirm = fields.contains_key("xac-nhan");
    let offset = who.app.settings.offset;
    let anchor = format!("tt-{kind}");
    let refused = |message: String, fields: std::collections::HashMap<String, String>| {
        let who = &who;
        let code = code.clone();
        let anchor = anchor.clone();
        async move {
            let page = sheet_page(
                who,
                code,
                None,
                None,
                Some((anchor, message)),
                Some(Sent {
                    kind: kind.to_string(),
                    values: fields,
                    preview: None,
                }),
            )
            .await?;
            Ok::<_, WebError>(super::render_status(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                &page,
            ))
        }
    };
    let value = match super::actions::event_json(kind, &fields, offset) {
        Ok(v) => v,
        Err((_, message)) => return refused(message, fields).await,
    };
    let event: crate::core::machine::Event = match serde_json::from_value(value) {
        Ok(e) => e,
        Err(_) => {
            return refused(
                "Thông tin nhập chưa hợp lệ: kiểm tra lại các ô của thao tác này".into(),
                fields,
            )
            .await
        }
    };
    let a = who.app.get_ref().clone();
    let c = who.caller.clone();
    let cc = code.clone();
    let now = who.app.clock.now();
    let before_due = if confirm {
        None
    } else {
        let a = a.clone();
        let c = c.clone();
        let cc = cc.clone();
        crate::http::block(move || a.dossier_sheet(&c, &cc, now))
            .await?
            .ok()
            .and_then(|s| s.dossier.due_at)
    };
    let r = crate::http::block(move || {
        if confirm {
            a.record_event(&c, &cc, &event, now)
        } else {
            a.preview_event(&c, &cc, &event, now)
        }
    })
    .await?;
    match r {
        Ok(r) if !confirm => {
            let preview = super::actions::preview_lines(&who.app, kind, before_due, &r);
            let page = sheet_page(
                &who,
                code,
                None,
                None,
                None,
                Some(Sent {
                    kind: kind.to_string(),
                    values: fields,
                    preview: Some(preview),
                }),
            )
            .await?;
            Ok(render(&page))
        }
        Ok(_) => {
            // The form the action issued, shown to print (decide: a refusal's form 03).
            let tab = match kind {
                "request_correction" => "phieu&mau=correction#xem-phieu",
                "refuse" => "phieu&mau=refusal#xem-phieu",
                "receive" => "phieu&mau=tiep-nhan#xem-phieu",
                "request_supplement" => "phieu&mau=supplement#xem-phieu",
                "delay" => "phieu&mau=delay#xem-phieu",
                "stop" => "phieu&mau=stop#xem-phieu",
                _ => "qua-trinh",
            };
            Ok(HttpResponse::SeeOther()
                .insert_header((
                    "Location",
                    match tab.split_once('#') {
                        Some((t, anchor)) => {
                            format!("/ho-so/{}?tab={t}&da={kind}#{anchor}", super::encode(&code))
                        }
                        None => format!("/ho-so/{}?tab={tab}&da={kind}", super::encode(&code)),
                    },
                ))
                .finish())
        }
        Err(e)
            if matches!(
                e.kind,
                crate::error::ErrorKind::Invalid
                    | crate::error::ErrorKind::BadRequest
                    | crate::error::ErrorKind::Conflict
                    | crate::error::ErrorKind::Forbidden
            ) =>
        {
            let status = super::status_of(e.kind);
            let page = sheet_page(
                &who,
                code,
                None,
                None,
                Some((anchor, e.message)),
                Some(Sent {
                    kind: kind.to_string(),
                    values: fields,
                    preview: None,
                }),
            )
            .await?;
            Ok(super::render_status(status, &page))
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /ho-so/{code}/phieu/{form}`: a form of the dossier as PDF (form 01 reprinted with
/// the pin masked).
pub async fn notice(who: Staff, path: web::Path<(String, String)>) -> WebResult<HttpResponse> {
    let (code, form) = path.into_inner();
    let a = who.app.get_ref().clone();
    let c = who.caller.clone();
    let cc = code.clone();
    let f = form.clone();
    let bytes = crate::http::block(move || {
        if f == "tiep-nhan" {
            return a.receipt_pdf(&c, &cc, None);
        }
        let n = crate::service::notices::Notice::parse(&f)
            .ok_or_else(crate::error::AppError::not_found)?;
        a.notice_pdf(&c, &cc, n)
    })
    .await??;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{form}-{code}.pdf\""),
        ))
        .body(bytes))
}

/// `GET /ho-so/{code}/tep/{id}`: a scan or result file.
pub async fn file(who: Staff, path: web::Path<(String, String)>) -> WebResult<HttpResponse> {
    let (code, id) = path.into_inner();
    let a = who.app.get_ref().clone();
    let c = who.caller.clone();
    let (f, bytes) = crate::http::block(move || {
        let f = a.file_for(&c, &code, &id)?;
        let bytes = crate::http::files::read_blob(&a, &f.sha256)?;
        Ok::<_, crate::error::AppError>((f, bytes))
    })
    .await??;
    Ok(crate::http::files::send_file(
        bytes,
        &f.media_type,
        &f.file_name,
    ))
}

/// `POST /ho-so/{code}/ban-so-hoa`: uploads the scan of a paper (multipart: `csrf`,
/// `paper`, then `file`). A refused file is explained next to its paper.
pub async fn upload(
    who: Staff,
    path: web::Path<String>,
    mut multipart: actix_multipart::Multipart,
) -> WebResult<HttpResponse> {
    use futures_util::StreamExt;
    let code = path.into_inner();
    let app = who.app.clone();
    let max = app.settings.max_upload_bytes;
    let mut csrf_ok = false;
    let mut paper: Option<i32> = None;
    // `paper=ket-qua`: the electronic copy of the result (*kết quả điện tử*).
    let mut result_file = false;
    let mut stored = None;
    let mut problem: Option<String> = None;
    while let Some(field) = multipart.next().await {
        let Ok(mut field) = field else {
            problem = Some(
                "Tệp tải lên không đầy đủ: kết nối bị ngắt, vui lòng chọn tệp và tải lại".into(),
            );
            break;
        };
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "csrf" | "paper" => {
                let mut text = Vec::new();
                while let Some(chunk) = field.next().await {
                    let Ok(chunk) = chunk else { break };
                    if text.len() + chunk.len() > 256 {
                        return Err(WebError::Csrf);
                    }
                    text.extend_from_slice(&chunk);
                }
                let text = String::from_utf8_lossy(&text).trim().to_string();
                if name == "csrf" {
                    csrf_ok = who.check_csrf(Some(&text)).is_ok();
                } else if text == "ket-qua" {
                    result_file = true;
                } else {
                    paper = text.parse().ok();
                }
            }
            "file" => {
                // Nothing is read before the form has proven itself.
                if !csrf_ok {
                    return Err(WebError::Csrf);
                }
                let raw = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename().map(str::to_string))
                    .unwrap_or_default();
                let file_name = match crate::files::clean_file_name(&raw) {
                    Ok(n) => n,
                    Err(p) => {
                        problem = Some(crate::service::documents::file_error(&p).message);
                        break;
                    }
                };
                let files = app.files.clone();
                let mut upload = crate::http::block(move || files.begin(max))
                    .await?
                    .map_err(|_| crate::error::AppError::internal())?;
                let mut failed = None;
                while let Some(chunk) = field.next().await {
                    match chunk {
                        Ok(chunk) => {
                            if let Err(p) = upload.write(&chunk) {
                                failed = Some(crate::service::documents::file_error(&p).message);
                                break;
                            }
                        }
                        Err(_) => {
                            failed = Some(
                                "Tệp tải lên không đầy đủ: kết nối bị ngắt, vui lòng tải lại"
                                    .into(),
                            );
                            break;
                        }
                    }
                }
                if let Some(m) = failed {
                    problem = Some(m);
                    break;
                }
                match crate::http::block(move || upload.finish()).await? {
                    Ok(blob) => stored = Some((file_name, blob)),
                    Err(p) => {
                        problem = Some(crate::service::documents::file_error(&p).message);
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(WebError::Csrf);
    }
    let anchor = if result_file {
        "tp-ket-qua".to_string()
    } else {
        format!("tp-{}", paper.unwrap_or(0))
    };
    let target = if result_file { Some(-1) } else { paper };
    let result = match (problem, stored, target) {
        (Some(m), _, _) => Err(m),
        (None, None, _) => {
            Err("Chưa chọn tệp: chọn bản số hóa (PDF, JPEG hoặc PNG) rồi bấm Tải lên".to_string())
        }
        (None, Some(_), None) => Err("Thiếu thành phần hồ sơ của bản số hóa".to_string()),
        (None, Some((file_name, blob)), Some(position)) => {
            let a = app.get_ref().clone();
            let c = who.caller.clone();
            let cc = code.clone();
            let now = app.clock.now();
            crate::http::block(move || {
                a.attach_file(
                    &c,
                    &cc,
                    &if position < 0 {
                        crate::service::documents::FileTarget::Result(None)
                    } else {
                        crate::service::documents::FileTarget::Paper(position)
                    },
                    &file_name,
                    &blob,
                    now,
                )
            })
            .await?
            .map(|_| ())
            .map_err(|e| e.message)
        }
    };
    match result {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header((
                "Location",
                format!("/ho-so/{}?tab=thanh-phan&da=upload", super::encode(&code)),
            ))
            .finish()),
        Err(m) => {
            let page = sheet_page(
                &who,
                code,
                Some("thanh-phan".into()),
                None,
                Some((anchor, m)),
                None,
            )
            .await?;
            Ok(super::render_status(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                &page,
            ))
        }
    }
}

#[derive(Deserialize)]
pub struct ReceiptForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    pin: Option<String>,
}

/// `POST /ho-so/{code}/giay-tiep-nhan`: form 01 as PDF (with the pin right after intake,
/// when the receipt page sends it; masked on a reprint). A POST keeps the pin out of
/// addresses and logs.
pub async fn receipt_pdf(
    who: Staff,
    path: web::Path<String>,
    form: web::Form<ReceiptForm>,
) -> WebResult<HttpResponse> {
    let form = form.into_inner();
    who.check_csrf(form.csrf.as_deref())?;
    let code = path.into_inner();
    let a = who.app.get_ref().clone();
    let c = who.caller.clone();
    let cc = code.clone();
    let pin = form.pin.filter(|p| !p.trim().is_empty());
    let bytes = crate::http::block(move || a.receipt_pdf(&c, &cc, pin.as_deref())).await??;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"giay-tiep-nhan-{code}.pdf\""),
        ))
        .body(bytes))
}
