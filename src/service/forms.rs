//! Filling the statutory forms (forms/*.toml, TT 03/2025 Appendix I) from dossier data.
//! The templates and fonts are loaded once at start; rendering is pure ([`crate::forms`]).

use chrono::{DateTime, Datelike, FixedOffset, Utc};

use super::intake::{paper_kind_label, IntakeOutcome};
use super::Caller;
use crate::app::App;
use crate::core::catalogue::Agency;
use crate::core::pin;
use crate::error::{AppError, AppResult};
use crate::forms::FormData;
use crate::store::from_db;

/// `hh giờ mm phút, ngày dd/mm/yyyy`, as the forms write a moment.
pub fn moment_vi(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset)
        .format("%H giờ %M phút, ngày %d/%m/%Y")
        .to_string()
}

impl App {
    /// Where a paper is dated: the locality of the nearest people's committee above (or
    /// at) the agency, e.g. "Phường Hoàn Kiếm", "Thành phố Hà Nội".
    fn place_of(&self, agency: &Agency) -> String {
        let mut current = Some(agency);
        while let Some(a) = current {
            if let Some(rest) = a.name.strip_prefix("Ủy ban nhân dân ") {
                let mut c = rest.chars();
                return c
                    .next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default();
            }
            current = a.parent.as_deref().and_then(|p| self.agencies.get(p));
        }
        agency.name.clone()
    }

    /// The heading of a form issued by `agency`: the agency above, and the unit.
    pub(crate) fn heading(&self, agency_code: &str, at: DateTime<Utc>) -> FormData {
        let offset = self.settings.offset;
        let local = at.with_timezone(&offset);
        let Some(agency) = self.agencies.get(agency_code) else {
            return FormData::new();
        };
        let (upper, unit) = if agency.name.starts_with("Ủy ban nhân dân") {
            (agency.name.clone(), "Bộ phận Một cửa".to_string())
        } else {
            let parent = agency
                .parent
                .as_deref()
                .and_then(|p| self.agencies.get(p))
                .map(|p| p.name.clone());
            (parent.unwrap_or_default(), agency.name.clone())
        };
        FormData::new()
            .with_text("agency_parent", upper)
            .with_text("agency_name", unit)
            .with_text("receiving_agency", agency.name.clone())
            .with_text("place", self.place_of(agency))
            .with_text("day", format!("{:02}", local.day()))
            .with_text("month", format!("{:02}", local.month()))
            .with_text("year", local.year().to_string())
    }

    /// Form 01, the receipt. `pin` is printed when given and correct (right after
    /// intake); a reprint without it shows the pin masked.
    pub fn receipt_pdf(
        &self,
        caller: &Caller,
        code: &str,
        pin_given: Option<&str>,
    ) -> AppResult<Vec<u8>> {
        let data = self.receipt_data(caller, code, pin_given)?;
        self.forms.render("01", &data)
    }

    /// Form 01 as an HTML sheet (the dossier page's preview; the pin masked).
    pub fn receipt_html(&self, caller: &Caller, code: &str) -> AppResult<String> {
        let data = self.receipt_data(caller, code, None)?;
        self.forms.render_html("01", &data)
    }

    fn receipt_data(
        &self,
        caller: &Caller,
        code: &str,
        pin_given: Option<&str>,
    ) -> AppResult<FormData> {
        let (d, papers, events) = self.dossier_for(caller, code)?;
        let offset = self.settings.offset;
        // Form 01 exists from the official receipt on (an online submission waits for it).
        let (Some(received), Some(due), Some(book_volume), Some(book_line)) =
            (d.received_at, d.due_at, d.book_volume, d.book_line)
        else {
            return Err(AppError::new(
                crate::error::ErrorKind::NotFound,
                "no_such_form",
                "Hồ sơ chưa được tiếp nhận chính thức: chưa có giấy tiếp nhận",
            ));
        };
        let received = from_db(received);
        let pin_text = pin_given
            .and_then(pin::normalise_pin)
            .filter(|p| pin::verify_pin(&self.keys.pin, &d.code, p, &d.pin_hash))
            .unwrap_or_else(|| "****** (đã cấp khi tiếp nhận)".into());
        // Who received it: the counter clerk, or the desk clerk who received an online
        // submission officially.
        let receiver_account = events
            .iter()
            .rev()
            .find(|e| e.kind == "receive")
            .map(|e| e.actor.clone())
            .unwrap_or_else(|| d.received_by.clone());
        let receiver = self
            .store
            .find_user(&receiver_account)?
            .map(|u| u.full_name)
            .unwrap_or(receiver_account);
        let proxy_line = d
            .proxy
            .as_deref()
            .and_then(|p| serde_json::from_str::<super::intake::Proxy>(p).ok())
            .map(|p| {
                let mut s = format!("{}, số giấy tờ {}", p.full_name, p.id_number);
                if let Some(r) = p.relation {
                    s.push_str(&format!(", {r}"));
                }
                s
            });
        let time = crate::core::deadline::StatutoryTime {
            amount: d.time_amount.max(0) as u32,
            unit: d
                .time_unit
                .parse()
                .unwrap_or(crate::core::deadline::PeriodUnit::WorkingDays),
            cutoff: d
                .time_cutoff
                .as_deref()
                .and_then(|c| chrono::NaiveTime::parse_from_str(c, "%H:%M").ok()),
        };
        let rows = papers
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    paper_kind_label(&p.kind).to_string(),
                    format!("{:02}", p.count),
                ]
            })
            .collect();
        let procedure_name = self
            .catalogue
            .get(&d.procedure_code)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        let mut data = self
            .heading(&d.receiving_agency, received)
            .with_text("code", d.code.clone())
            .with_text("receipt_number", format!("{book_line}/TNHS"))
            .with_text("book_volume", book_volume.to_string())
            .with_text("book_line", book_line.to_string())
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
            .with_text("procedure_name", procedure_name)
            .with_rows("papers", rows)
            .with_text("statutory_time", time.to_string())
            .with_text("received_at", moment_vi(received, offset))
            .with_text("due_at", moment_vi(from_db(due), offset))
            .with_text("return_place", self.settings.return_place.clone())
            .with_text("status_url", self.status_url(&d.code))
            .with_text("pin", pin_text)
            .with_text("receiver_name", receiver);
        if let Some(p) = proxy_line {
            data = data.with_text("proxy_line", p);
        }
        Ok(data)
    }

    /// Form 02 (guidance to complete) or 03 (refusal) for a recorded intake outcome.
    pub fn outcome_pdf(&self, o: &IntakeOutcome) -> AppResult<Vec<u8>> {
        let data = self
            .heading(&o.agency, o.at)
            .with_text("applicant_name", o.applicant.full_name.clone())
            .with_text("applicant_id_number", o.applicant.id_number.clone())
            .with_text(
                "applicant_address",
                o.applicant.address.clone().unwrap_or_default(),
            )
            .with_text(
                "applicant_phone",
                o.applicant.phone.clone().unwrap_or_default(),
            )
            .with_text(
                "applicant_email",
                o.applicant.email.clone().unwrap_or_default(),
            )
            .with_text(
                "procedure_name",
                o.procedure_name.clone().unwrap_or_default(),
            )
            .with_text("code", o.dossier_code.clone().unwrap_or_default())
            .with_rows(
                "items",
                o.items
                    .iter()
                    .map(|i| vec![i.name.clone(), i.reason.clone()])
                    .collect(),
            )
            .with_text("contact_name", o.staff_name.clone())
            .with_text("guide_name", o.staff_name.clone())
            .with_text("receiver_name", o.staff_name.clone())
            .with_text("refusal_reason", o.reason.clone().unwrap_or_default());
        self.forms
            .render(if o.kind == "guidance" { "02" } else { "03" }, &data)
    }
}
