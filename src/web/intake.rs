//! `/tiep-nhan`: the counter's intake page. The procedure first (by name or code, with or
//! without diacritics), then one form: the applicant by ID number (their valid documents
//! offered for reuse), a proxy, the checklist of papers from the catalogue, the competent
//! agency when the procedure needs one, a note. The same form records a guidance
//! (form 02) or a refusal (form 03) instead. Works without JavaScript.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::session::Staff;
use super::{long_moment, render, render_status, Frame, WebError, WebResult};
use crate::core::catalogue::{PaperKind, Procedure};
use crate::core::text::fold;
use crate::error::{AppError, ErrorKind};
use crate::service::intake::{
    ApplicantInput, GuidanceApplicant, GuidanceItem, GuidanceRequest, IntakeRequest, PaperInput,
    ProxyInput, RefusalRequest,
};
use crate::service::Role;

/// A procedure as listed for the clerk.
pub struct ProcedureChoice {
    pub code: String,
    pub name: String,
    pub field: String,
    pub time: String,
    pub fee: String,
    pub href: String,
}

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

fn choice(p: &Procedure) -> ProcedureChoice {
    ProcedureChoice {
        code: p.code.clone(),
        name: p.name.clone(),
        field: p.field.clone(),
        time: p
            .statutory_time
            .to_time()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        fee: fee_label(p.fee),
        href: format!("/tiep-nhan?thu-tuc={}", super::encode(&p.code)),
    }
}

/// Procedures whose name or code matches `q` (diacritics and case ignored; every word of
/// the query must appear), by name.
fn find_procedures<'a>(
    procedures: impl Iterator<Item = &'a Procedure>,
    q: &str,
) -> Vec<&'a Procedure> {
    let words: Vec<String> = fold(q).split_whitespace().map(str::to_string).collect();
    let mut found: Vec<&Procedure> = procedures
        .filter(|p| {
            let hay = format!("{} {}", fold(&p.name), fold(&p.code));
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect();
    found.sort_by_key(|p| fold(&p.name));
    found
}

#[derive(Template)]
#[template(path = "intake_pick.html")]
pub struct PickPage {
    pub frame: Frame,
    pub q: String,
    pub results: Vec<ProcedureChoice>,
    pub shown: usize,
    pub total: usize,
}

/// The most procedures listed at once: the clerk narrows the search.
const MAX_LISTED: usize = 50;

#[derive(Clone, Default)]
pub struct Values {
    pub id_kind: String,
    pub id_number: String,
    pub full_name: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub proxy: bool,
    pub proxy_full_name: String,
    pub proxy_id_kind: String,
    pub proxy_id_number: String,
    pub proxy_phone: String,
    pub proxy_relation: String,
    pub competent: String,
    pub note: String,
    pub guide_items: String,
    pub refuse_reason: String,
}

pub struct KindOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct ReuseOption {
    pub id: String,
    pub label: String,
    pub checked: bool,
}

pub struct PaperLine {
    pub index: usize,
    pub name: String,
    pub required: bool,
    pub required_kind: &'static str,
    pub given: bool,
    pub count: String,
    pub kinds: Vec<KindOption>,
    pub reuse: Vec<ReuseOption>,
    pub error: Option<String>,
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A document of the applicant data store, as offered.
pub struct DocLine {
    pub id: String,
    pub name: String,
    pub detail: String,
    /// Its electronic copy is stored (otherwise the paper copy is still needed).
    pub reusable: bool,
}

pub struct FieldError {
    /// The id of the field (and the anchor of the summary's link).
    pub field: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "intake_form.html")]
pub struct FormPage {
    pub frame: Frame,
    pub procedure: ProcedureChoice,
    pub form_key: String,
    pub v: Values,
    pub id_kinds: Vec<Opt>,
    pub proxy_id_kinds: Vec<Opt>,
    pub papers: Vec<PaperLine>,
    pub needs_competent: bool,
    pub competent_options: Vec<Opt>,
    pub looked_up: bool,
    pub documents: Vec<DocLine>,
    pub errors: Vec<FieldError>,
    /// Which action the errors belong to: `register`, `guide` or `refuse`.
    pub failed_action: String,
}

impl FormPage {
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

fn id_kind_options(selected: &str) -> Vec<Opt> {
    [
        ("personal_id", "Căn cước / CCCD (12 số)"),
        ("passport", "Hộ chiếu"),
        ("tax_code", "Mã số thuế (tổ chức)"),
    ]
    .into_iter()
    .map(|(v, l)| Opt {
        value: v.into(),
        label: l.into(),
        selected: selected == v || (selected.is_empty() && v == "personal_id"),
    })
    .collect()
}

fn kind_value(k: PaperKind) -> &'static str {
    match k {
        PaperKind::Original => "original",
        PaperKind::CertifiedCopy => "certified_copy",
        PaperKind::Copy => "copy",
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(rename = "thu-tuc", default)]
    procedure: Option<String>,
}

/// `GET /tiep-nhan`: the procedure search, or the form of the chosen procedure.
pub async fn page(who: Staff, q: web::Query<PageQuery>) -> WebResult<HttpResponse> {
    clerk_only(&who)?;
    let app = who.app.clone();
    if let Some(code) = q.procedure.as_deref().filter(|c| !c.trim().is_empty()) {
        let Some(p) = app.catalogue.get(code.trim()) else {
            return Err(AppError::new(
                ErrorKind::NotFound,
                "unknown_procedure",
                format!("Không có thủ tục mã {code} trong danh mục"),
            )
            .into());
        };
        let key = crate::service::sessions::random_id()?;
        let page = form_page(
            &who,
            p,
            key,
            Values::default(),
            &HashMap::new(),
            Vec::new(),
            false,
            Vec::new(),
            "",
        );
        return Ok(render(&page));
    }
    let query = q.q.clone().unwrap_or_default();
    let found = find_procedures(app.catalogue.procedures.values(), &query);
    let total = found.len();
    let results: Vec<ProcedureChoice> = found.into_iter().take(MAX_LISTED).map(choice).collect();
    let page = PickPage {
        frame: who
            .frame("Tiếp nhận hồ sơ", "/tiep-nhan")
            .with_htmx()
            .crumb("Tiếp nhận hồ sơ", "/tiep-nhan"),
        q: query,
        shown: results.len(),
        results,
        total,
    };
    Ok(render(&page))
}

fn clerk_only(who: &Staff) -> WebResult<()> {
    if who.caller.role != Role::Clerk {
        return Err(AppError::forbidden("Chỉ cán bộ Bộ phận Một cửa tiếp nhận hồ sơ").into());
    }
    Ok(())
}

/// Word overlap of a document's name with a paper's name: whether to offer it.
fn matches(doc: &str, paper: &str) -> bool {
    let d: Vec<String> = fold(doc)
        .split_whitespace()
        .filter(|w| w.len() > 2)
        .map(str::to_string)
        .collect();
    let p = fold(paper);
    if d.is_empty() {
        return false;
    }
    let common = d.iter().filter(|w| p.contains(w.as_str())).count();
    common * 2 >= d.len()
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    who: &Staff,
    p: &Procedure,
    form_key: String,
    v: Values,
    fields: &HashMap<String, String>,
    documents: Vec<crate::service::documents::ReusableDocument>,
    looked_up: bool,
    errors: Vec<FieldError>,
    failed_action: &str,
) -> FormPage {
    let app = &who.app;
    let papers = p
        .papers
        .iter()
        .enumerate()
        .map(|(i, rp)| {
            let given = fields.get(&format!("paper_given_{i}")).is_some();
            let kind = fields
                .get(&format!("paper_kind_{i}"))
                .cloned()
                .unwrap_or_else(|| kind_value(rp.kind).to_string());
            let chosen: Vec<&str> = fields
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("paper_reuse_{i}#")))
                .map(|(_, v)| v.as_str())
                .collect();
            PaperLine {
                index: i,
                name: rp.name.clone(),
                required: rp.required,
                required_kind: crate::service::intake::paper_kind_label(kind_value(rp.kind)),
                given,
                count: fields
                    .get(&format!("paper_count_{i}"))
                    .cloned()
                    .unwrap_or_else(|| rp.count.to_string()),
                kinds: ["original", "certified_copy", "copy"]
                    .into_iter()
                    .map(|k| KindOption {
                        value: k,
                        label: crate::service::intake::paper_kind_label(k),
                        selected: kind == k,
                    })
                    .collect(),
                reuse: documents
                    .iter()
                    .filter(|d| d.reusable && matches(&d.name, &rp.name))
                    .map(|d| ReuseOption {
                        id: d.id.clone(),
                        label: format!("Dùng lại bản điện tử: {} ({})", d.name, d.detail),
                        checked: chosen.contains(&d.id.as_str()),
                    })
                    .collect(),
                error: errors
                    .iter()
                    .find(|e| e.field == format!("paper_{i}"))
                    .map(|e| e.message.clone()),
            }
        })
        .collect();
    let caller_agency = app.agencies.get(&who.caller.agency);
    let needs_competent = p.competent_agency.is_none()
        && p.steps.iter().any(|s| s.agency == "competent")
        && caller_agency.is_some_and(|a| Some(a.level.as_str()) != p.competent_level.as_deref());
    let competent_options = if needs_competent {
        app.agencies
            .agencies
            .iter()
            .filter(|a| p.competent_level.as_deref().is_none_or(|l| a.level == l))
            .map(|a| Opt {
                value: a.code.clone(),
                label: a.name.clone(),
                selected: v.competent == a.code,
            })
            .collect()
    } else {
        Vec::new()
    };
    FormPage {
        frame: who
            .frame(format!("Tiếp nhận: {}", p.name), "/tiep-nhan")
            .with_htmx()
            .crumb("Tiếp nhận hồ sơ", "/tiep-nhan")
            .crumb(
                p.name.clone(),
                format!("/tiep-nhan?thu-tuc={}", super::encode(&p.code)),
            ),
        procedure: choice(p),
        form_key,
        id_kinds: id_kind_options(&v.id_kind),
        proxy_id_kinds: id_kind_options(&v.proxy_id_kind),
        v,
        papers,
        needs_competent,
        competent_options,
        looked_up,
        documents: documents
            .into_iter()
            .map(|d| DocLine {
                id: d.id,
                name: d.name,
                detail: d.detail,
                reusable: d.reusable,
            })
            .collect(),
        errors,
        failed_action: failed_action.to_string(),
    }
}

fn values_of(f: &HashMap<String, String>) -> Values {
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    Values {
        id_kind: g("applicant_id_kind"),
        id_number: g("applicant_id_number"),
        full_name: g("applicant_full_name"),
        phone: g("applicant_phone"),
        email: g("applicant_email"),
        address: g("applicant_address"),
        proxy: f.contains_key("proxy"),
        proxy_full_name: g("proxy_full_name"),
        proxy_id_kind: g("proxy_id_kind"),
        proxy_id_number: g("proxy_id_number"),
        proxy_phone: g("proxy_phone"),
        proxy_relation: g("proxy_relation"),
        competent: g("competent_agency"),
        note: g("note"),
        guide_items: g("guide_items"),
        refuse_reason: g("refuse_reason"),
    }
}

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn applicant_input(v: &Values) -> ApplicantInput {
    ApplicantInput {
        full_name: v.full_name.clone(),
        id_kind: opt(&v.id_kind),
        id_number: v.id_number.clone(),
        phone: opt(&v.phone),
        email: opt(&v.email),
        address: opt(&v.address),
    }
}

/// Where on the form an intake error belongs.
fn field_of(e: &AppError) -> &'static str {
    match e.error {
        "invalid_full_name" => "applicant_full_name",
        "invalid_id_kind" => "applicant_id_kind",
        "invalid_id_number" => "applicant_id_number",
        "invalid_phone" => "applicant_phone",
        "invalid_email" => "applicant_email",
        "invalid_address" => "applicant_address",
        "invalid_note" => "note",
        "invalid_competent_agency" | "competent_agency_required" => "competent_agency",
        "invalid_reuse" | "invalid_paper" | "missing_papers" => "papers",
        "invalid_proxy" => "proxy_relation",
        _ => "form",
    }
}

/// `POST /tiep-nhan`: registers the dossier (the receipt page), looks up the applicant's
/// documents, or records a guidance or a refusal (their form as PDF).
pub async fn submit(who: Staff, form: web::Form<Vec<(String, String)>>) -> WebResult<HttpResponse> {
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut reuse_n = 0;
    for (k, v) in form.into_inner() {
        // Several reuse boxes may share a name: keep each.
        if k.starts_with("paper_reuse_") {
            reuse_n += 1;
            fields.insert(format!("{k}#{reuse_n}"), v);
        } else {
            fields.insert(k, v);
        }
    }
    who.check_csrf(fields.get("csrf").map(String::as_str))?;
    clerk_only(&who)?;
    let app = who.app.clone();
    let code = fields.get("procedure").cloned().unwrap_or_default();
    let Some(p) = app.catalogue.get(code.trim()).cloned() else {
        return Err(AppError::new(
            ErrorKind::NotFound,
            "unknown_procedure",
            "Không có thủ tục này trong danh mục",
        )
        .into());
    };
    let form_key = match fields.get("form_key") {
        Some(k) if k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()) => k.clone(),
        _ => return Err(WebError::Csrf),
    };
    let v = values_of(&fields);
    let action = fields
        .get("action")
        .cloned()
        .unwrap_or_else(|| "register".into());
    let now = app.clock.now();

    // The applicant's documents, asked for or needed to show the reuse offers again.
    let id_number = v.id_number.trim().to_string();
    let wants_documents =
        action == "lookup" || fields.keys().any(|k| k.starts_with("paper_reuse_"));
    let documents = if wants_documents && !id_number.is_empty() {
        let a = app.get_ref().clone();
        let c = who.caller.clone();
        let id = id_number.clone();
        match crate::http::block(move || a.reusable_documents(&c, &id, now)).await? {
            Ok(d) => Some(d),
            Err(e) if e.kind == ErrorKind::BadRequest => None,
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let looked_up = documents.is_some();
    let documents = documents.unwrap_or_default();

    match action.as_str() {
        "lookup" => {
            let mut errors = Vec::new();
            if id_number.is_empty() || !looked_up {
                errors.push(FieldError {
                    field: "applicant_id_number".into(),
                    message: "Nhập số định danh (CCCD, hộ chiếu hoặc mã số thuế) hợp lệ để tìm giấy tờ đã số hóa".into(),
                });
            }
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let page = form_page(
                &who, &p, form_key, v, &fields, documents, looked_up, errors, "lookup",
            );
            Ok(render_status(status, &page))
        }
        "guide" | "refuse" => {
            let applicant = GuidanceApplicant {
                full_name: v.full_name.clone(),
                id_kind: opt(&v.id_kind),
                id_number: opt(&v.id_number),
                phone: opt(&v.phone),
                email: opt(&v.email),
                address: opt(&v.address),
            };
            let a = app.get_ref().clone();
            let c = who.caller.clone();
            let procedure_code = p.code.clone();
            let result = if action == "guide" {
                let items: Vec<GuidanceItem> = v
                    .guide_items
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| match l.split_once(':') {
                        Some((n, r)) => GuidanceItem {
                            name: n.trim().into(),
                            reason: r.trim().into(),
                        },
                        None => GuidanceItem {
                            name: l.into(),
                            reason: "Cần bổ sung".into(),
                        },
                    })
                    .collect();
                if items.is_empty() {
                    let page = form_page(&who, &p, form_key, v, &fields, documents, looked_up, vec![FieldError { field: "guide_items".into(), message: "Ghi ít nhất một giấy tờ cần bổ sung, hoàn thiện (mỗi dòng một giấy tờ)".into() }], "guide");
                    return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
                }
                let req = GuidanceRequest {
                    procedure_code,
                    applicant,
                    channel: None,
                    items,
                    note: opt(&v.note),
                };
                crate::http::block(move || {
                    a.guide(&c, &req, now)
                        .and_then(|o| a.outcome_pdf(&o).map(|b| (o.id, b)))
                })
                .await?
            } else {
                let req = RefusalRequest {
                    procedure_code: Some(procedure_code),
                    applicant,
                    channel: None,
                    reason: v.refuse_reason.clone(),
                    dossier_code: None,
                };
                crate::http::block(move || {
                    a.refuse(&c, &req, now)
                        .and_then(|o| a.outcome_pdf(&o).map(|b| (o.id, b)))
                })
                .await?
            };
            match result {
                Ok((id, bytes)) => Ok(HttpResponse::Ok()
                    .content_type("application/pdf")
                    .insert_header((
                        "Content-Disposition",
                        format!("inline; filename=\"{id}.pdf\""),
                    ))
                    .body(bytes)),
                Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::BadRequest) => {
                    let field = match (action.as_str(), e.error) {
                        (_, "invalid_full_name") => "applicant_full_name",
                        ("refuse", _) if field_of(&e) == "form" => "refuse_reason",
                        ("guide", _) if field_of(&e) == "form" => "guide_items",
                        _ => field_of(&e),
                    };
                    let page = form_page(
                        &who,
                        &p,
                        form_key,
                        v,
                        &fields,
                        documents,
                        looked_up,
                        vec![FieldError {
                            field: field.into(),
                            message: e.message,
                        }],
                        &action,
                    );
                    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
                }
                Err(e) => Err(e.into()),
            }
        }
        _ => register(who, p, form_key, v, fields, documents, looked_up).await,
    }
}

async fn register(
    who: Staff,
    p: Procedure,
    form_key: String,
    v: Values,
    fields: HashMap<String, String>,
    documents: Vec<crate::service::documents::ReusableDocument>,
    looked_up: bool,
) -> WebResult<HttpResponse> {
    let app = who.app.clone();
    let now = app.clock.now();
    // Every field checked at once, so the clerk sees all problems together.
    let mut errors: Vec<FieldError> =
        crate::service::intake::applicant_problems(&applicant_input(&v))
            .into_iter()
            .map(|e| FieldError {
                field: field_of(&e).into(),
                message: e.message,
            })
            .collect();
    let proxy = v.proxy.then(|| ProxyInput {
        full_name: v.proxy_full_name.clone(),
        id_kind: opt(&v.proxy_id_kind),
        id_number: v.proxy_id_number.clone(),
        phone: opt(&v.proxy_phone),
        relation: opt(&v.proxy_relation),
    });
    if let Some(px) = &proxy {
        for e in crate::service::intake::proxy_problems(px) {
            let field = match e.error {
                "invalid_full_name" => "proxy_full_name",
                "invalid_id_number" | "invalid_id_kind" => "proxy_id_number",
                "invalid_phone" => "proxy_phone",
                _ => "proxy_relation",
            };
            errors.push(FieldError {
                field: field.into(),
                message: e.message,
            });
        }
    }
    let mut papers = Vec::new();
    for (i, rp) in p.papers.iter().enumerate() {
        let reuse: Vec<&String> = fields
            .iter()
            .filter(|(k, _)| k.starts_with(&format!("paper_reuse_{i}#")))
            .map(|(_, v)| v)
            .collect();
        let given = fields.contains_key(&format!("paper_given_{i}")) || !reuse.is_empty();
        if !given {
            if rp.required {
                errors.push(FieldError {
                    field: format!("paper_{i}"),
                    message: format!("Thiếu giấy tờ bắt buộc: {}", rp.name),
                });
            }
            continue;
        }
        if reuse.len() > 1 {
            errors.push(FieldError {
                field: format!("paper_{i}"),
                message: format!("Chỉ chọn một bản điện tử để dùng lại cho \"{}\"", rp.name),
            });
            continue;
        }
        let count: u32 = match fields
            .get(&format!("paper_count_{i}"))
            .map(|c| c.trim().parse::<u32>())
        {
            None => rp.count,
            Some(Ok(c)) if (1..=100).contains(&c) => c,
            Some(_) => {
                errors.push(FieldError {
                    field: format!("paper_{i}"),
                    message: format!("Số lượng của \"{}\" phải là số từ 1 đến 100", rp.name),
                });
                continue;
            }
        };
        papers.push(PaperInput {
            name: rp.name.clone(),
            kind: fields
                .get(&format!("paper_kind_{i}"))
                .cloned()
                .unwrap_or_else(|| kind_value(rp.kind).into()),
            count,
            reuse_document_id: reuse.first().map(|s| s.to_string()),
        });
    }
    if !errors.is_empty() {
        let page = form_page(
            &who, &p, form_key, v, &fields, documents, looked_up, errors, "register",
        );
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page));
    }
    let req = IntakeRequest {
        procedure_code: p.code.clone(),
        applicant: applicant_input(&v),
        proxy,
        channel: "counter".into(),
        papers,
        note: opt(&v.note),
        competent_agency: opt(&v.competent),
        receiving_agency: None,
    };
    let a = app.get_ref().clone();
    let c = who.caller.clone();
    let key = format!("form:{form_key}");
    match crate::http::block(move || a.receive_once(&c, &req, Some(&key), now)).await? {
        Ok(r) => {
            let offset = app.settings.offset;
            let page = ReceiptPage {
                frame: who
                    .frame(format!("Đã tiếp nhận hồ sơ {}", r.code), "/tiep-nhan")
                    .crumb("Tiếp nhận hồ sơ", "/tiep-nhan")
                    .crumb(format!("Hồ sơ {}", r.code), format!("/ho-so/{}", r.code)),
                code: r.code.clone(),
                pin: r.pin.clone(),
                procedure: r.procedure_name.clone(),
                applicant: crate::core::text::nfc(v.full_name.trim()),
                received: r
                    .received_at
                    .map(|t| long_moment(t, offset))
                    .unwrap_or_default(),
                due: r
                    .due_at
                    .map(|t| super::moment(t, offset))
                    .unwrap_or_default(),
                due_day: r.due_at.map(|t| long_moment(t, offset)).unwrap_or_default(),
                statutory_time: r.statutory_time.clone(),
                book: match (r.book_volume, r.book_line) {
                    (Some(vol), Some(line)) => format!("Quyển {vol}, số {line}"),
                    _ => String::new(),
                },
                status_url: app.status_url(&r.code),
            };
            Ok(render(&page))
        }
        Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::BadRequest) => {
            let mut errors = Vec::new();
            if e.error == "missing_papers" {
                let missing: Vec<String> = e
                    .details
                    .as_ref()
                    .and_then(|d| d.get("missing"))
                    .and_then(|m| m.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|m| {
                                m.get("name").and_then(|n| n.as_str()).map(str::to_string)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                for (i, rp) in p.papers.iter().enumerate() {
                    if missing.contains(&rp.name) {
                        errors.push(FieldError {
                            field: format!("paper_{i}"),
                            message: format!(
                                "Thiếu hoặc chưa đúng loại ({}): {}",
                                crate::service::intake::paper_kind_label(kind_value(rp.kind)),
                                rp.name
                            ),
                        });
                    }
                }
            }
            if errors.is_empty() {
                errors.push(FieldError {
                    field: field_of(&e).into(),
                    message: e.message,
                });
            }
            let page = form_page(
                &who, &p, form_key, v, &fields, documents, looked_up, errors, "register",
            );
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "receipt.html")]
pub struct ReceiptPage {
    pub frame: Frame,
    pub code: String,
    pub pin: String,
    pub procedure: String,
    pub applicant: String,
    pub received: String,
    pub due: String,
    pub due_day: String,
    pub statutory_time: String,
    pub book: String,
    pub status_url: String,
}

#[derive(Deserialize)]
pub struct CheckQuery {
    o: String,
}

/// `POST /tiep-nhan/kiem-tra?o=<field>`: one applicant field checked as the clerk leaves
/// it (htmx, `hx-trigger="change"`), with the same rules as the intake; the answer is the
/// field's error slot, empty when the value is fine. Without JavaScript the whole form is
/// checked when sent.
pub async fn check_field(
    who: Staff,
    q: web::Query<CheckQuery>,
    form: web::Form<Vec<(String, String)>>,
) -> WebResult<HttpResponse> {
    let fields: HashMap<String, String> = form.into_inner().into_iter().collect();
    who.check_csrf(fields.get("csrf").map(String::as_str))?;
    let field = match q.o.as_str() {
        f @ ("applicant_id_number"
        | "applicant_full_name"
        | "applicant_phone"
        | "applicant_email"
        | "applicant_address") => f,
        _ => {
            return Err(AppError::bad_request("invalid_field", "Trường không kiểm tra được").into())
        }
    };
    let v = values_of(&fields);
    // An empty field is not an error yet: the clerk may fill it later.
    let typed = fields.get(field).is_some_and(|x| !x.trim().is_empty());
    let message = if typed {
        crate::service::intake::applicant_problems(&applicant_input(&v))
            .into_iter()
            .find(|e| field_of(e) == field)
            .map(|e| e.message)
    } else {
        None
    };
    let page = FieldSlot {
        field: field.to_string(),
        message,
    };
    Ok(render(&page))
}

/// The error slot of one field (`templates/field_slot.html`).
#[derive(Template)]
#[template(path = "field_slot.html")]
pub struct FieldSlot {
    pub field: String,
    pub message: Option<String>,
}
