//! The forms produced while a dossier is processed, filled from its event history
//! (TT 03/2025 Appendix I): 02 supplement request, 03 refusal after appraisal (NĐ 118/2025
//! Art. 19(3)), 04 apology and re-appointment, 05 stop notice, 06 process-control slip
//! (one row per hand-over with its result).

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::Value;

use super::forms::moment_vi;
use super::Caller;
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::forms::FormData;
use crate::store::dossiers::{DossierRow, EventRow};
use crate::store::from_db;

/// A form of a registered dossier, by the name in its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Mẫu 02, for the dossier's supplement request.
    Supplement,
    /// Mẫu 02, for the desk's request to complete an online submission (NĐ 118/2025
    /// Art. 17(2)).
    Correction,
    /// Mẫu 03, for a refusal: of an online submission by the desk, or after appraisal
    /// (*phiếu từ chối giải quyết hồ sơ*, Art. 19(3)).
    Refusal,
    /// Mẫu 04, for its delay.
    Delay,
    /// Mẫu 05, for its stop.
    Stop,
    /// Mẫu 06, the process-control slip.
    Control,
}

impl Notice {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "supplement" => Some(Notice::Supplement),
            "correction" => Some(Notice::Correction),
            "refusal" => Some(Notice::Refusal),
            "delay" => Some(Notice::Delay),
            "stop" => Some(Notice::Stop),
            "control" => Some(Notice::Control),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Notice::Supplement => "supplement",
            Notice::Correction => "correction",
            Notice::Refusal => "refusal",
            Notice::Delay => "delay",
            Notice::Stop => "stop",
            Notice::Control => "control",
        }
    }

    /// The events the form is issued for, if it needs one.
    fn event_kinds(self) -> &'static [&'static str] {
        match self {
            Notice::Supplement => &["request_supplement"],
            Notice::Correction => &["request_correction"],
            Notice::Refusal => &["decide", "refuse"],
            Notice::Delay => &["delay"],
            Notice::Stop => &["stop"],
            Notice::Control => &[],
        }
    }

    /// The form's number and title, as listed on the dossier page.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Notice::Supplement => ("Mẫu 02", "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"),
            Notice::Correction => (
                "Mẫu 02",
                "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ trực tuyến",
            ),
            Notice::Refusal => ("Mẫu 03", "Phiếu từ chối tiếp nhận giải quyết hồ sơ"),
            Notice::Delay => (
                "Mẫu 04",
                "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết",
            ),
            Notice::Stop => ("Mẫu 05", "Phiếu dừng giải quyết hồ sơ"),
            Notice::Control => ("Mẫu 06", "Phiếu kiểm soát quá trình giải quyết hồ sơ"),
        }
    }

    /// The forms a dossier has: those whose event happened (the control slip once received).
    pub fn of_dossier(received: bool, events: &[crate::store::dossiers::EventRow]) -> Vec<Notice> {
        [
            Notice::Correction,
            Notice::Supplement,
            Notice::Refusal,
            Notice::Delay,
            Notice::Stop,
            Notice::Control,
        ]
        .into_iter()
        .filter(|n| match n.event_kinds() {
            [] => received,
            kinds => events.iter().any(|e| {
                kinds.contains(&e.kind.as_str())
                    && n.issued_by(&serde_json::from_str(&e.payload).unwrap_or(Value::Null))
            }),
        })
        .collect()
    }

    /// The form's URL for dossier `code`.
    pub fn url(self, code: &str) -> String {
        format!("/api/v1/dossiers/{code}/forms/{}.pdf", self.as_str())
    }

    /// The form an event produces, if any.
    pub fn for_event(event: &crate::core::machine::Event) -> Option<Self> {
        use crate::core::machine::{Decision, Event};
        match event {
            Event::RequestSupplement { .. } => Some(Notice::Supplement),
            Event::RequestCorrection { .. } => Some(Notice::Correction),
            Event::Refuse { .. } => Some(Notice::Refusal),
            Event::Decide {
                outcome: Decision::Refused,
                ..
            } => Some(Notice::Refusal),
            Event::Delay { .. } => Some(Notice::Delay),
            Event::Stop { .. } => Some(Notice::Stop),
            _ => None,
        }
    }

    /// Whether a recorded event of the form's kind is the one the form is for (a decision
    /// gives form 03 only when it refuses).
    fn issued_by(self, payload: &Value) -> bool {
        match self {
            // A decision gives form 03 when it refuses; a refusal at intake always does.
            Notice::Refusal => payload
                .get("outcome")
                .is_none_or(|o| o.as_str() == Some("refused")),
            _ => true,
        }
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn moment_of(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

impl App {
    fn agency_name(&self, code: &str) -> String {
        self.agencies
            .get(code)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| code.to_string())
    }

    fn staff_names(&self, events: &[EventRow]) -> AppResult<HashMap<String, String>> {
        let mut names = HashMap::new();
        for e in events {
            if !names.contains_key(&e.actor) {
                let n = self
                    .store
                    .find_user(&e.actor)?
                    .map(|u| u.full_name)
                    .unwrap_or_else(|| e.actor.clone());
                names.insert(e.actor.clone(), n);
            }
        }
        Ok(names)
    }

    /// The common part of a dossier's forms: heading of `agency` dated `at`, the
    /// applicant and the request.
    fn dossier_form(&self, d: &DossierRow, agency: &str, at: DateTime<Utc>) -> FormData {
        let offset = self.settings.offset;
        self.heading(agency, at)
            .with_text("code", d.code.clone())
            .with_text("receiving_agency", self.agency_name(&d.receiving_agency))
            .with_text("applicant_name", d.applicant_name.clone())
            .with_text("applicant_id_number", d.applicant_id_number.clone())
            .with_text(
                "applicant_address",
                d.applicant_address.clone().unwrap_or_default(),
            )
            .with_text(
                "applicant_phone",
                d.applicant_phone.clone().unwrap_or_default(),
            )
            .with_text(
                "applicant_email",
                d.applicant_email.clone().unwrap_or_default(),
            )
            .with_text(
                "procedure_name",
                self.catalogue
                    .get(&d.procedure_code)
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
            )
            .with_text(
                "received_at",
                d.received_at
                    .map(|t| moment_vi(from_db(t), offset))
                    .unwrap_or_default(),
            )
    }

    /// Form `notice` of dossier `code` as PDF: 404 when the dossier is not visible to
    /// `caller` or the event the form is for has not happened.
    pub fn notice_pdf(&self, caller: &Caller, code: &str, notice: Notice) -> AppResult<Vec<u8>> {
        let (id, data) = self.notice_data(caller, code, notice)?;
        self.forms.render(id, &data)
    }

    /// Form `notice` of dossier `code` as an HTML sheet, the same data as the PDF (the
    /// dossier page's preview before printing); 404 as [`App::notice_pdf`].
    pub fn notice_html(&self, caller: &Caller, code: &str, notice: Notice) -> AppResult<String> {
        let (id, data) = self.notice_data(caller, code, notice)?;
        self.forms.render_html(id, &data)
    }

    /// The template id and the data of form `notice` of dossier `code`.
    fn notice_data(
        &self,
        caller: &Caller,
        code: &str,
        notice: Notice,
    ) -> AppResult<(&'static str, FormData)> {
        let (d, _, events) = self.dossier_for(caller, code)?;
        let offset = self.settings.offset;
        let names = self.staff_names(&events)?;
        let name_of = |u: &str| names.get(u).cloned().unwrap_or_else(|| u.to_string());
        let no_form = || {
            AppError::new(
                crate::error::ErrorKind::NotFound,
                "no_such_form",
                "Hồ sơ chưa có sự kiện tương ứng với biểu mẫu này",
            )
        };
        if notice == Notice::Control && d.received_at.is_none() {
            return Err(no_form());
        }
        let kinds = notice.event_kinds();
        let event = if kinds.is_empty() {
            None
        } else {
            Some(
                events
                    .iter()
                    .rev()
                    .find(|e| {
                        kinds.contains(&e.kind.as_str())
                            && notice
                                .issued_by(&serde_json::from_str(&e.payload).unwrap_or(Value::Null))
                    })
                    .ok_or_else(no_form)?,
            )
        };
        let payload: Value = event
            .map(|e| serde_json::from_str(&e.payload).unwrap_or(Value::Null))
            .unwrap_or(Value::Null);
        let data = match notice {
            Notice::Supplement | Notice::Correction => {
                let e = event.expect("checked");
                let reason = text(&payload, "reason");
                let items = payload
                    .get("items")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(|i| vec![i.to_string(), reason.clone()])
                            .collect()
                    })
                    .unwrap_or_default();
                self.dossier_form(&d, &e.agency_code, from_db(e.at))
                    .with_rows("items", items)
                    .with_text("contact_name", name_of(&e.actor))
                    .with_text("guide_name", name_of(&e.actor))
            }
            Notice::Refusal => {
                let e = event.expect("checked");
                let form = self
                    .dossier_form(&d, &e.agency_code, from_db(e.at))
                    .with_text("refusal_reason", text(&payload, "reason"))
                    .with_text("signer_name", name_of(&e.actor))
                    .with_text("receiver_name", name_of(&e.actor));
                if e.kind == "decide" {
                    form.with_text("decided", "1")
                        .with_text("deciding_agency", self.agency_name(&e.agency_code))
                } else {
                    form
                }
            }
            Notice::Delay => {
                let e = event.expect("checked");
                let due = moment_of(&payload, "due_at")
                    .or(d.due_at.map(from_db))
                    .unwrap_or(from_db(e.at));
                let new_due = moment_of(&payload, "new_due_at")
                    .or_else(|| d.reappointed_at.map(from_db))
                    .unwrap_or(due);
                self.dossier_form(&d, &e.agency_code, from_db(e.at))
                    .with_text("due_at", moment_vi(due, offset))
                    .with_text("new_due_at", moment_vi(new_due, offset))
                    .with_text("reason", text(&payload, "reason"))
                    .with_text("delaying_agency", self.agency_name(&e.agency_code))
                    .with_text("signer_name", name_of(&e.actor))
            }
            Notice::Stop => {
                let e = event.expect("checked");
                self.dossier_form(&d, &e.agency_code, from_db(e.at))
                    .with_text("reason", text(&payload, "reason"))
                    .with_text("stopped_at", moment_vi(from_db(e.at), offset))
                    .with_text("staff_name", name_of(&e.actor))
            }
            Notice::Control => self.control_slip(&d, &events, &name_of, offset)?,
        };
        let id = match notice {
            Notice::Supplement | Notice::Correction => "02",
            Notice::Refusal => "03",
            Notice::Delay => "04",
            Notice::Stop => "05",
            Notice::Control => "06",
        };
        Ok((id, data))
    }

    /// Form 06: every hand-over (giver, receiver, moments, result of the step it ends),
    /// then the return.
    fn control_slip(
        &self,
        d: &DossierRow,
        events: &[EventRow],
        name_of: &dyn Fn(&str) -> String,
        offset: FixedOffset,
    ) -> AppResult<FormData> {
        let result_of = |v: &Value| {
            v.get("step")
                .and_then(|s| s.get("outcome"))
                .and_then(Value::as_str)
                .and_then(super::processing::outcome_of)
                .map(|o| o.label_vi().to_string())
                .unwrap_or_default()
        };
        let mut rows = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let v: Value = serde_json::from_str(&e.payload).unwrap_or(Value::Null);
            match e.kind.as_str() {
                "handover" => {
                    let to = text(&v, "to_agency");
                    let accept = events[i + 1..]
                        .iter()
                        .find(|a| matches!(a.kind.as_str(), "accept" | "handover"))
                        .filter(|a| a.kind == "accept");
                    let receiver = match accept {
                        Some(a) => format!("{} – {}", self.agency_name(&to), name_of(&a.actor)),
                        None => format!("{} (chưa tiếp nhận)", self.agency_name(&to)),
                    };
                    let mut moment = format!("Giao: {}", moment_vi(from_db(e.at), offset));
                    if let Some(a) = accept {
                        moment.push_str(&format!("\nNhận: {}", moment_vi(from_db(a.at), offset)));
                    }
                    let mut note = if v.get("electronic").and_then(Value::as_bool) == Some(true) {
                        "Bàn giao điện tử".to_string()
                    } else {
                        "Bàn giao hồ sơ giấy".to_string()
                    };
                    let n = text(&v, "note");
                    if !n.is_empty() {
                        note.push_str(&format!("; {n}"));
                    }
                    // The transfer out of the receiving desk against its own due moment
                    // (NĐ 118/2025 Art. 18(2), 20(1)(a)).
                    if let Some(due) = v.get("transfer").and_then(|t| moment_of(t, "due_at")) {
                        let met = match v["transfer"]["outcome"].as_str() {
                            Some("late") => "quá hạn",
                            _ => "đúng hạn",
                        };
                        note.push_str(&format!(
                            "\nChuyển hồ sơ: hạn {}, {met}",
                            moment_vi(due, offset)
                        ));
                    }
                    rows.push(vec![
                        format!(
                            "Giao: {} – {}\nNhận: {}",
                            self.agency_name(&e.agency_code),
                            name_of(&e.actor),
                            receiver
                        ),
                        moment,
                        result_of(&v),
                        note,
                    ]);
                }
                "return" => rows.push(vec![
                    format!(
                        "Trả kết quả: {} – {}",
                        self.agency_name(&e.agency_code),
                        name_of(&e.actor)
                    ),
                    moment_vi(from_db(e.at), offset),
                    result_of(&v),
                    String::new(),
                ]),
                _ => {}
            }
        }
        let lead = d.competent_agency.as_deref().unwrap_or(&d.receiving_agency);
        let mut coordinating: Vec<String> = Vec::new();
        for e in events.iter().filter(|e| e.kind == "accept") {
            if e.agency_code != lead
                && e.agency_code != d.receiving_agency
                && !coordinating.contains(&e.agency_code)
            {
                coordinating.push(e.agency_code.clone());
            }
        }
        let received = d.received_at.or(d.due_at).unwrap_or(d.updated_at);
        let mut data = self
            .dossier_form(d, &d.receiving_agency, from_db(received))
            .with_text("lead_agency", self.agency_name(lead))
            .with_text(
                "coordinating_agencies",
                coordinating
                    .iter()
                    .map(|c| self.agency_name(c))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
            .with_text(
                "due_at",
                d.due_at
                    .map(|t| moment_vi(from_db(t), offset))
                    .unwrap_or_default(),
            )
            .with_rows("handovers", rows);
        if let Some(r) = d.reappointed_at {
            data = data.with_text("reappointed_at", moment_vi(from_db(r), offset));
        }
        Ok(data)
    }
}
