//! The dossier's actions on its page (issue #15): each action the server would accept
//! now ([`crate::service::actions`]) as a small form; "Tiếp tục" shows what it will do,
//! computed by the engine on a dry run (`preview_event`), and "Xác nhận" records it. A
//! refusal shows its Vietnamese message on the form. Without JavaScript.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::{json, Map, Value};

use crate::service::actions::{ActionView, FieldView};

/// An action as its form on the page.
pub struct ActionForm {
    pub kind: &'static str,
    pub label: &'static str,
    /// What it does, in a sentence.
    pub intro: &'static str,
    pub fields: Vec<FormField>,
    /// The button that records it.
    pub button: &'static str,
    /// `btn-primary`, `btn-secondary` or `btn-danger`.
    pub style: &'static str,
    /// What it will do, from the dry run, once "Tiếp tục" was pressed.
    pub preview: Option<Vec<(String, String)>>,
    /// Why the server refused it.
    pub problem: Option<String>,
}

impl ActionForm {
    /// The form is open (its preview or its problem is shown).
    pub fn open(&self) -> bool {
        self.preview.is_some() || self.problem.is_some()
    }
}

/// A field of an action's form.
pub struct FormField {
    /// The element's id (`tt-<kind>-<name>`).
    pub id: String,
    /// The form field's name (the event's field, dotted inside an object).
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `multiline`, `lines`, `choice`, `boolean`, `integer`, `date`, `datetime`.
    pub kind: &'static str,
    pub required: bool,
    pub choices: Vec<Choice>,
    /// The value typed (kept after a preview or a refusal).
    pub value: String,
    /// Bounds of a `datetime` field, `YYYY-MM-DDTHH:MM` local.
    pub min: Option<String>,
    pub max: Option<String>,
    pub hint: Option<String>,
}

impl FormField {
    pub fn checked(&self) -> bool {
        matches!(self.value.as_str(), "on" | "true" | "1")
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// What each action does, in a sentence, and its button.
fn wording(kind: &str) -> (&'static str, &'static str, &'static str) {
    match kind {
        "receive" => (
            "Hồ sơ trực tuyến đầy đủ, hợp lệ: thời hạn giải quyết bắt đầu tính từ lúc tiếp nhận.",
            "Tiếp nhận hồ sơ",
            "btn-primary",
        ),
        "request_correction" => (
            "Yêu cầu người nộp bổ sung, hoàn thiện một lần, đầy đủ (Mẫu 02).",
            "Gửi yêu cầu",
            "btn-secondary",
        ),
        "refuse" => (
            "Từ chối tiếp nhận hồ sơ trực tuyến, nêu rõ lý do (Mẫu 03).",
            "Từ chối",
            "btn-danger",
        ),
        "accept" => (
            "Xác nhận cơ quan đã nhận hồ sơ được chuyển đến.",
            "Nhận hồ sơ",
            "btn-primary",
        ),
        "assign" => (
            "Giao một cán bộ của cơ quan xử lý hồ sơ.",
            "Phân công",
            "btn-secondary",
        ),
        "propose" => (
            "Trình lãnh đạo cơ quan phê duyệt kết quả giải quyết; hồ sơ vào danh sách chờ phê duyệt.",
            "Trình phê duyệt",
            "btn-primary",
        ),
        "handover" => (
            "Chuyển hồ sơ sang cơ quan khác hoặc về Bộ phận Một cửa; bước đang xử lý kết thúc tại thời điểm chuyển.",
            "Chuyển hồ sơ",
            "btn-primary",
        ),
        "request_supplement" => (
            "Đề nghị người nộp bổ sung hồ sơ (Mẫu 02): thời hạn giải quyết tạm dừng đến khi nhận đủ.",
            "Gửi yêu cầu bổ sung",
            "btn-secondary",
        ),
        "supplement_received" => (
            "Đã nhận đủ hồ sơ bổ sung: thời hạn giải quyết được tính tiếp.",
            "Ghi nhận đã bổ sung",
            "btn-primary",
        ),
        "pause" => (
            "Tạm dừng giải quyết có căn cứ pháp lý: thời hạn giải quyết dừng lại.",
            "Tạm dừng",
            "btn-secondary",
        ),
        "resume" => (
            "Tiếp tục giải quyết: thời hạn được tính tiếp từ lúc này.",
            "Tiếp tục giải quyết",
            "btn-primary",
        ),
        "delay" => (
            "Xin lỗi người nộp và hẹn lại ngày trả kết quả (Mẫu 04), một lần, trước hạn.",
            "Gửi phiếu xin lỗi",
            "btn-secondary",
        ),
        "decide" => (
            "Phê duyệt, cấp kết quả; hoặc từ chối giải quyết, nêu rõ lý do.",
            "Ghi nhận quyết định",
            "btn-primary",
        ),
        "return" => (
            "Xác nhận đã trả kết quả cho người nộp: thời điểm hoàn thành được ghi nhận và không sửa được.",
            "Xác nhận đã trả kết quả",
            "btn-primary",
        ),
        "close" => (
            "Đóng hồ sơ do người nộp không bổ sung trong thời hạn.",
            "Đóng hồ sơ",
            "btn-danger",
        ),
        "stop" => (
            "Dừng giải quyết theo đề nghị của người nộp (Mẫu 05).",
            "Dừng giải quyết",
            "btn-danger",
        ),
        "payment" => (
            "Ghi nhận phí, lệ phí người nộp đã nộp.",
            "Ghi nhận",
            "btn-secondary",
        ),
        "rate" => (
            "Ghi nhận đánh giá của người dân trên phiếu giấy (một lần).",
            "Ghi nhận đánh giá",
            "btn-secondary",
        ),
        _ => ("", "Thực hiện", "btn-secondary"),
    }
}

/// `YYYY-MM-DDTHH:MM` in the local zone, as `<input type="datetime-local">` takes it.
fn local_input(rfc3339: &str, offset: FixedOffset) -> Option<String> {
    DateTime::parse_from_rfc3339(rfc3339).ok().map(|t| {
        t.with_timezone(&offset)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    })
}

/// The forms of the allowed actions; `sent` the values of the one just sent, with its
/// preview or problem.
pub fn forms(
    actions: &[ActionView],
    sent: Option<(&str, &HashMap<String, String>)>,
    preview: Option<Vec<(String, String)>>,
    problem: Option<String>,
    offset: FixedOffset,
) -> Vec<ActionForm> {
    let mut preview = preview;
    let mut problem = problem;
    actions
        .iter()
        .filter(|a| a.allowed)
        .map(|a| {
            let (intro, button, style) = wording(a.kind);
            let values = sent.filter(|(k, _)| *k == a.kind).map(|(_, v)| v);
            let fields = a
                .fields
                .iter()
                .map(|f| field(a.kind, f, values, offset))
                .collect();
            let mine = values.is_some();
            ActionForm {
                kind: a.kind,
                label: a.label,
                intro,
                fields,
                button,
                style,
                preview: if mine { preview.take() } else { None },
                problem: if mine { problem.take() } else { None },
            }
        })
        .collect()
}

fn field(
    kind: &str,
    f: &FieldView,
    values: Option<&HashMap<String, String>>,
    offset: FixedOffset,
) -> FormField {
    let typed = values.and_then(|v| v.get(f.name)).cloned();
    let default = match (f.kind, f.name) {
        ("boolean", "electronic") => "on".to_string(),
        ("choice", _) => f
            .choices
            .first()
            .map(|c| c.value.clone())
            .unwrap_or_default(),
        ("datetime", _) => f
            .latest
            .as_deref()
            .and_then(|t| local_input(t, offset))
            .unwrap_or_default(),
        _ => String::new(),
    };
    // An unchecked box sends nothing: after a send, absent means off.
    let value = match (typed, f.kind, values.is_some()) {
        (Some(v), _, _) => v,
        (None, "boolean", true) => String::new(),
        (None, _, _) => default,
    };
    FormField {
        id: format!("tt-{kind}-{}", f.name.replace('.', "-")),
        name: f.name,
        label: f.label,
        kind: f.kind,
        required: f.required,
        choices: f
            .choices
            .iter()
            .map(|c| Choice {
                selected: c.value == value,
                value: c.value.clone(),
                label: c.label.clone(),
            })
            .collect(),
        min: f.after.as_deref().and_then(|t| local_input(t, offset)),
        max: f.latest.as_deref().and_then(|t| local_input(t, offset)),
        hint: f.hint.clone(),
        value,
    }
}

/// The event a form sends, as the events endpoint takes it: lines become a list, a
/// checkbox a boolean, digits an amount, a local date and time an RFC 3339 moment, dotted
/// names an object; empty optional fields are left out. `Err` with the field's message.
pub fn event_json(
    kind: &str,
    fields: &HashMap<String, String>,
    offset: FixedOffset,
) -> Result<Value, (String, String)> {
    let mut out = Map::new();
    out.insert("type".into(), json!(kind));
    let g = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let spec = crate::service::actions::field_kinds(kind);
    for (name, fkind) in spec {
        let v = g(name);
        let value = match *fkind {
            "lines" => json!(v
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()),
            "boolean" => json!(matches!(v.as_str(), "on" | "true" | "1")),
            "integer" => {
                let digits: String = v.chars().filter(|c| c.is_ascii_digit()).collect();
                if digits.is_empty() {
                    continue;
                }
                match digits.parse::<i64>() {
                    Ok(n) => json!(n),
                    Err(_) => {
                        return Err(((*name).to_string(), "Số tiền không hợp lệ".to_string()))
                    }
                }
            }
            "datetime" => {
                if v.is_empty() {
                    continue;
                }
                let Ok(t) = NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M") else {
                    return Err((
                        (*name).to_string(),
                        "Ngày giờ không hợp lệ (ngày/tháng/năm giờ:phút)".to_string(),
                    ));
                };
                match offset.from_local_datetime(&t).single() {
                    Some(t) => json!(t.to_rfc3339()),
                    None => continue,
                }
            }
            "date" => {
                if v.is_empty() {
                    continue;
                }
                if NaiveDate::parse_from_str(&v, "%Y-%m-%d").is_err() {
                    return Err(((*name).to_string(), "Ngày không hợp lệ".to_string()));
                }
                json!(v)
            }
            _ => {
                if v.is_empty() {
                    continue;
                }
                json!(v)
            }
        };
        match name.split_once('.') {
            Some((outer, inner)) => {
                let o = out
                    .entry(outer.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = o {
                    m.insert(inner.to_string(), value);
                }
            }
            None => {
                out.insert((*name).to_string(), value);
            }
        }
    }
    Ok(Value::Object(out))
}

/// What a dry run says the action will do, for people.
pub fn preview_lines(
    app: &crate::app::App,
    kind: &str,
    before_due: Option<DateTime<Utc>>,
    r: &crate::service::processing::Recorded,
) -> Vec<(String, String)> {
    let offset = app.settings.offset;
    let m = |t: DateTime<Utc>| super::moment(t, offset);
    let mut out = vec![(
        "Trạng thái sau khi ghi nhận".to_string(),
        super::dossier::status_label(&r.dossier.status),
    )];
    if let Some(to) = &r.progress.pending_handover {
        let name = app
            .agencies
            .get(to)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| to.clone());
        out.push(("Chuyển đến".to_string(), format!("{name} (chờ tiếp nhận)")));
    }
    if let Some(a) = &r.progress.assignee {
        if kind == "assign" {
            out.push(("Cán bộ xử lý".to_string(), a.clone()));
        }
    }
    if let Some(due) = r.dossier.due_at {
        let changed = before_due.is_some_and(|b| b != due);
        out.push((
            if changed {
                "Hạn trả kết quả mới".to_string()
            } else {
                "Hạn trả kết quả".to_string()
            },
            m(due),
        ));
    }
    if let Some(t) = r.dossier.reappointed_at {
        out.push(("Ngày hẹn trả mới".to_string(), m(t)));
    }
    if r.progress.clock_stopped_at.is_some() && matches!(kind, "request_supplement" | "pause") {
        out.push((
            "Thời hạn giải quyết".to_string(),
            "Tạm dừng tính từ lúc ghi nhận".to_string(),
        ));
    }
    if let Some(step) = &r.step {
        let name = step["name"].as_str().unwrap_or("");
        let outcome = match step["outcome"].as_str() {
            Some("early") => "sớm hạn",
            Some("on_time") => "đúng hạn",
            Some("late") => "quá hạn",
            _ => "",
        };
        if !name.is_empty() {
            out.push((
                "Bước kết thúc".to_string(),
                format!("{name}: {outcome}")
                    .trim_end_matches(": ")
                    .to_string(),
            ));
        }
    }
    if let Some(t) = &r.transfer {
        let outcome = if t["outcome"] == "late" {
            "quá hạn"
        } else {
            "đúng hạn"
        };
        out.push((
            "Chuyển khỏi Bộ phận Một cửa".to_string(),
            outcome.to_string(),
        ));
    }
    if let Some(o) = &r.dossier.outcome {
        let label = match o.as_str() {
            "early" => "Trước hạn",
            "on_time" => "Đúng hạn",
            "late" => "Quá hạn",
            other => other,
        };
        out.push(("Kết quả giải quyết".to_string(), label.to_string()));
    }
    out
}
