//! Exports of the reports, for people and for anyone who wants to check the figures:
//!
//! - the tracking book (*Sổ theo dõi hồ sơ*, TT 01/2018 Mẫu 06 / TT 03/2025 Mẫu 07) of a
//!   receiving agency as XLSX: personal data by nature, staff only, audited;
//! - the indicator tables (one row per group and a total) as XLSX, CSV and PDF;
//! - the raw export: every dossier, hand-over and supplement request the indicators count
//!   over a period, as CSV, without personal data, so that every figure can be recomputed.
//!
//! The store queries live in [`crate::store::exports`].

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use rust_xlsxwriter::{DocProperties, Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use serde_json::json;

use super::reports::{Group, IndicatorQuery, IndicatorReport};
use super::{Caller, Role};
use crate::app::App;
use crate::core::deadline::Outcome;
use crate::core::indicators::{GroupBy, DEFINITIONS};
use crate::error::{AppError, AppResult};
use crate::forms::{FormData, FormTemplate};
use crate::store::audit::AuditEntry;
use crate::store::exports::{BookRow, RawDossierRow};
use crate::store::{from_db, to_db, StoreError};

/// The columns of the tracking book, in order (TT 03/2025 Mẫu 07).
pub const BOOK_COLUMNS: [&str; 12] = [
    "STT",
    "Mã hồ sơ",
    "Tên thủ tục hành chính",
    "Tên người nộp",
    "Địa chỉ, số điện thoại",
    "Cơ quan chủ trì giải quyết",
    "Nhận hồ sơ",
    "Hẹn trả kết quả",
    "Ngày có kết quả/ trả kết quả",
    "Hình thức trả kết quả",
    "Ghi chú",
    "Ký nhận",
];

/// Column widths of the tracking book (Excel character units).
const BOOK_WIDTHS: [f64; 12] = [
    6.0, 24.0, 42.0, 24.0, 32.0, 30.0, 17.0, 17.0, 17.0, 14.0, 16.0, 14.0,
];

/// The counts of [`crate::core::indicators::Counts`]: JSON field name and Vietnamese
/// header, in the order of the tables.
pub const COUNT_COLUMNS: &[(&str, &str)] = &[
    ("received", "Số hồ sơ tiếp nhận"),
    ("received_counter", "Tiếp nhận trực tiếp"),
    ("received_online", "Tiếp nhận trực tuyến"),
    ("received_post", "Tiếp nhận qua bưu chính"),
    ("carried_over", "Kỳ trước chuyển qua"),
    ("handled", "Số hồ sơ phải giải quyết"),
    ("finished_early", "Đã giải quyết trước hạn"),
    ("finished_on_time", "Đã giải quyết đúng hạn"),
    ("finished_late", "Đã giải quyết quá hạn"),
    ("refused", "Trong đó: từ chối giải quyết"),
    ("stopped", "Dừng giải quyết"),
    ("stopped_on_time", "Trong đó: dừng trước hoặc đúng hạn"),
    ("closed_incomplete", "Đóng hồ sơ do không bổ sung đủ"),
    ("in_progress_within_time", "Đang giải quyết trong hạn"),
    ("in_progress_overdue", "Đang giải quyết quá hạn"),
    ("supplement_requested", "Có yêu cầu bổ sung"),
    (
        "supplement_requests_late",
        "Yêu cầu bổ sung quá 03 ngày làm việc",
    ),
    ("submitted", "Hồ sơ trực tuyến gửi đến"),
    (
        "acknowledged_on_time",
        "Tiếp nhận, phản hồi trực tuyến trong 08 giờ làm việc",
    ),
    (
        "acknowledged_late",
        "Tiếp nhận, phản hồi trực tuyến quá 08 giờ làm việc",
    ),
    (
        "corrections_requested",
        "Yêu cầu hoàn thiện hồ sơ trực tuyến",
    ),
    ("refused_at_intake", "Từ chối tiếp nhận hồ sơ trực tuyến"),
    ("handovers_total", "Số lượt luân chuyển"),
    ("handovers_electronic", "Luân chuyển điện tử"),
    (
        "transfers_on_time",
        "Chuyển hồ sơ đến cơ quan giải quyết đúng hạn",
    ),
    (
        "transfers_late",
        "Chuyển hồ sơ đến cơ quan giải quyết quá hạn",
    ),
    ("results_total", "Hồ sơ có kết quả đã trả"),
    ("results_electronic", "Kết quả có bản điện tử"),
    ("digitised", "Hồ sơ được số hóa"),
    (
        "digitised_with_result",
        "Số hóa, có kết quả điện tử (QĐ 766 4.2)",
    ),
    ("reusing_data", "Hồ sơ tái sử dụng dữ liệu"),
    ("ratings_total", "Lượt đánh giá"),
    ("ratings_satisfied", "Lượt hài lòng"),
    ("fee_bearing", "Hồ sơ có phí, lệ phí"),
    ("paid_online", "Thanh toán trực tuyến"),
    ("handling_minutes", "Tổng số phút giải quyết (giờ làm việc)"),
    ("handling_count", "Số hồ sơ tính thời gian giải quyết"),
    (
        "petitions_answered_on_time",
        "Phản ánh, kiến nghị trả lời đúng hạn",
    ),
    (
        "petitions_answered_late",
        "Phản ánh, kiến nghị trả lời quá hạn",
    ),
    (
        "petitions_open_overdue",
        "Phản ánh, kiến nghị chưa trả lời, đã quá hạn",
    ),
    ("petitioned_dossiers", "Hồ sơ bị phản ánh, kiến nghị"),
    (
        "petitioned_dossiers_rated_negative",
        "Trong đó: cũng bị đánh giá không hài lòng",
    ),
];

/// The rates of [`crate::core::indicators::Rates`], like [`COUNT_COLUMNS`].
pub const RATE_COLUMNS: &[(&str, &str)] = &[
    ("on_time_rate", "Tỷ lệ đúng hạn (%)"),
    ("online_rate", "Tỷ lệ trực tuyến (%)"),
    ("electronic_handover_rate", "Tỷ lệ luân chuyển điện tử (%)"),
    ("digitisation_rate", "Tỷ lệ số hóa hồ sơ (%)"),
    ("reuse_rate", "Tỷ lệ tái sử dụng dữ liệu (%)"),
    ("satisfaction_rate", "Tỷ lệ hài lòng (%)"),
    ("online_payment_rate", "Tỷ lệ thanh toán trực tuyến (%)"),
    ("result_digitisation_rate", "Tỷ lệ số hóa kết quả (%)"),
    ("qd766_on_time_rate", "Tỷ lệ đúng hạn theo QĐ 766 (%)"),
    (
        "qd766_digitisation_rate",
        "Tỷ lệ số hóa theo QĐ 766 4.2 (%)",
    ),
    (
        "acknowledgement_on_time_rate",
        "Tỷ lệ tiếp nhận, phản hồi trực tuyến đúng hạn (%)",
    ),
    ("transfer_on_time_rate", "Tỷ lệ chuyển hồ sơ đúng hạn (%)"),
    (
        "qd766_petition_on_time_rate",
        "Tỷ lệ phản ánh, kiến nghị trả lời đúng hạn, QĐ 766 5.2 (%)",
    ),
    (
        "qd766_satisfaction_index",
        "Chỉ số hài lòng theo QĐ 766 (%)",
    ),
    (
        "avg_handling_working_days",
        "Thời gian giải quyết bình quân (ngày làm việc)",
    ),
];

/// The reduced set of columns of the PDF table.
const PDF_COUNTS: [&str; 6] = [
    "received",
    "received_online",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "in_progress_overdue",
];
const PDF_RATES: [&str; 4] = [
    "on_time_rate",
    "online_rate",
    "digitisation_rate",
    "satisfaction_rate",
];

/// The columns of `dossiers.csv` of the raw export.
pub const RAW_DOSSIER_COLUMNS: [&str; 24] = [
    "code",
    "owner_agency",
    "owner_level",
    "receiving_agency",
    "procedure_code",
    "channel",
    "received_at",
    "finished_at",
    "status",
    "outcome",
    "decision",
    "due_at",
    "late_by_rule",
    "supplement_requests",
    "digitised",
    "reused",
    "results",
    "results_electronic",
    "fee_bearing",
    "paid_online",
    "rating",
    "rated_at",
    "handling_minutes",
    "yields_document",
];

/// The columns of `deadline_acts.csv` of the raw export.
pub const RAW_ACT_COLUMNS: [&str; 7] = ["code", "seq", "kind", "at", "agency", "due_at", "late"];

/// The columns of `handovers.csv` of the raw export.
pub const RAW_HANDOVER_COLUMNS: [&str; 9] = [
    "code",
    "seq",
    "at",
    "from_agency",
    "to_agency",
    "electronic",
    "outcome",
    "transfer_due_at",
    "transfer_outcome",
];

/// Form 08 (the indicator table), built in: used when the forms directory has no
/// template with id "08" (form loading requires only 01–06).
const INDICATORS_TEMPLATE: &str = include_str!("../../forms/08-indicators.toml");

/// A request for the tracking book.
#[derive(Debug, Clone)]
pub struct BookQuery {
    /// The receiving agency; the caller's when `None`.
    pub agency: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The tracking book, ready to be written out.
#[derive(Debug, Clone)]
pub struct TrackingBook {
    pub agency: String,
    pub agency_name: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// One line per dossier: the book line, then the other 11 columns as text.
    pub rows: Vec<(i64, [String; 11])>,
}

/// One column of an indicator table: the JSON field name and its Vietnamese header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndicatorColumn {
    pub name: String,
    pub label: String,
}

/// An indicator table: the columns and one row per group, the total last.
#[derive(Debug, Clone)]
pub struct IndicatorTable {
    pub counts: Vec<IndicatorColumn>,
    pub rates: Vec<IndicatorColumn>,
    pub rows: Vec<IndicatorRow>,
}

#[derive(Debug, Clone)]
pub struct IndicatorRow {
    pub key: String,
    pub name: Option<String>,
    pub counts: Vec<i64>,
    pub rates: Vec<Option<f64>>,
    pub total: bool,
}

impl IndicatorTable {
    /// The columns come from the report's JSON (so that a new field of `Counts` or
    /// `Rates` is never left out): the known ones in table order, then any other ones
    /// under their English name.
    pub fn from_report(report: &IndicatorReport, group_by: GroupBy) -> Self {
        let columns = |value: serde_json::Value, known: &[(&str, &str)]| {
            let keys: Vec<String> = value
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            let mut cols: Vec<IndicatorColumn> = known
                .iter()
                .filter(|(n, _)| keys.iter().any(|k| k == n))
                .map(|(n, l)| IndicatorColumn {
                    name: n.to_string(),
                    label: l.to_string(),
                })
                .collect();
            for k in keys {
                if !known.iter().any(|(n, _)| *n == k) {
                    cols.push(IndicatorColumn {
                        name: k.clone(),
                        label: k,
                    });
                }
            }
            cols
        };
        let counts = columns(
            serde_json::to_value(&report.total.counts).unwrap_or_default(),
            COUNT_COLUMNS,
        );
        let rates = columns(
            serde_json::to_value(&report.total.rates).unwrap_or_default(),
            RATE_COLUMNS,
        );
        let row = |g: &Group, total: bool| {
            let c = serde_json::to_value(&g.counts).unwrap_or_default();
            let r = serde_json::to_value(&g.rates).unwrap_or_default();
            IndicatorRow {
                key: g.key.clone(),
                name: g.name.clone(),
                counts: counts
                    .iter()
                    .map(|col| c[&col.name].as_i64().unwrap_or(0))
                    .collect(),
                rates: rates.iter().map(|col| r[&col.name].as_f64()).collect(),
                total,
            }
        };
        let mut rows: Vec<IndicatorRow> = if group_by == GroupBy::Total {
            // The one group is the total.
            Vec::new()
        } else {
            report.groups.iter().map(|g| row(g, false)).collect()
        };
        rows.push(row(&report.total, true));
        IndicatorTable {
            counts,
            rates,
            rows,
        }
    }

    fn count(&self, row: &IndicatorRow, name: &str) -> Option<i64> {
        let i = self.counts.iter().position(|c| c.name == name)?;
        row.counts.get(i).copied()
    }

    fn rate(&self, row: &IndicatorRow, name: &str) -> Option<f64> {
        let i = self.rates.iter().position(|c| c.name == name)?;
        row.rates.get(i).copied().flatten()
    }
}

/// `dd/mm/yyyy hh:mm`, local time.
fn book_time(t: NaiveDateTime, offset: FixedOffset) -> String {
    from_db(t)
        .with_timezone(&offset)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

fn dmy(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// RFC 3339 in the configured zone, e.g. `2026-11-02T09:00:00+07:00`.
fn rfc3339(t: NaiveDateTime, offset: FixedOffset) -> String {
    from_db(t)
        .with_timezone(&offset)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// A rate as written in CSV: `.` as the decimal separator, empty when undefined.
fn rate_text(r: Option<f64>) -> String {
    r.map(|v| v.to_string()).unwrap_or_default()
}

fn delivery_label(channel: &str) -> &'static str {
    match channel {
        "counter" => "Trực tiếp",
        "online" => "Trực tuyến",
        "post" => "Bưu chính",
        _ => "",
    }
}

fn xlsx_error(e: XlsxError) -> AppError {
    tracing::error!(error = %e, "xlsx export failed");
    AppError::internal()
}

fn csv_error(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "csv export failed");
    AppError::internal()
}

/// A CSV writer over a buffer that starts with the UTF-8 byte order mark (Excel then
/// reads Vietnamese correctly).
fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec())
}

fn csv_bytes(w: csv::Writer<Vec<u8>>) -> AppResult<Vec<u8>> {
    w.into_inner().map_err(csv_error)
}

/// `from ≤ to`, at most about ten years (as the indicator report).
fn check_period(from: NaiveDate, to: NaiveDate) -> AppResult<()> {
    if to < from || (to - from).num_days() > 3660 {
        return Err(AppError::bad_request(
            "invalid_period",
            "Kỳ báo cáo: from ≤ to, tối đa 10 năm",
        ));
    }
    Ok(())
}

impl App {
    /// UTC bounds `[start, end)` of the local dates `from`..=`to`, as stored.
    fn period_bounds(&self, from: NaiveDate, to: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
        let offset = self.settings.offset;
        let start = crate::core::calendar::start_of_day_utc(from, offset);
        let end = crate::core::calendar::start_of_day_utc(to.succ_opt().unwrap_or(to), offset);
        (to_db(start), to_db(end))
    }

    fn require_staff(&self, caller: &Caller) -> AppResult<()> {
        if !Role::STAFF.contains(&caller.role) {
            return Err(AppError::forbidden("Chỉ cán bộ được xuất báo cáo này"));
        }
        Ok(())
    }

    fn export_agency_name(&self, code: &str) -> String {
        self.agencies
            .get(code)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| code.to_string())
    }

    /// The tracking book of a receiving agency over a period (no audit record: see
    /// [`App::tracking_book_xlsx`]).
    pub fn tracking_book(&self, caller: &Caller, q: &BookQuery) -> AppResult<TrackingBook> {
        self.require_staff(caller)?;
        check_period(q.from, q.to)?;
        let agency = q.agency.clone().unwrap_or_else(|| caller.agency.clone());
        if self.agencies.get(&agency).is_none() {
            return Err(AppError::bad_request(
                "invalid_agency",
                format!("Cơ quan {agency} không tồn tại"),
            ));
        }
        if !self.scope_of(caller).contains(&agency) {
            return Err(AppError::forbidden(
                "Cơ quan này nằm ngoài phạm vi của tài khoản",
            ));
        }
        let (start, end) = self.period_bounds(q.from, q.to);
        let (dossiers, returns) = self.store.tracking_book(&agency, start, end)?;
        let offset = self.settings.offset;
        let delivery = |code: &str| -> String {
            returns
                .iter()
                .rev()
                .find(|(c, _)| c == code)
                .and_then(|(_, p)| serde_json::from_str::<serde_json::Value>(p).ok())
                .and_then(|p| p["channel"].as_str().map(delivery_label))
                .unwrap_or_default()
                .to_string()
        };
        let rows = dossiers
            .iter()
            .map(|d: &BookRow| {
                let procedure = self
                    .catalogue
                    .get(&d.procedure_code)
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| d.procedure_code.clone());
                let contact = [d.applicant_address.as_deref(), d.applicant_phone.as_deref()]
                    .into_iter()
                    .flatten()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
                let lead = self.export_agency_name(
                    d.competent_agency
                        .as_deref()
                        .unwrap_or(d.receiving_agency.as_str()),
                );
                let note = if d.status == "stopped" {
                    "Dừng giải quyết".to_string()
                } else if d.status == "closed" {
                    "Đóng hồ sơ (không bổ sung)".to_string()
                } else {
                    match d.outcome.as_deref() {
                        Some("early") => Outcome::Early.label_vi(),
                        Some("on_time") => Outcome::OnTime.label_vi(),
                        Some("late") => Outcome::Late.label_vi(),
                        _ => "",
                    }
                    .to_string()
                };
                (
                    d.book_line.unwrap_or_default(),
                    [
                        d.code.clone(),
                        procedure,
                        d.applicant_name.clone(),
                        contact,
                        lead,
                        d.received_at
                            .map(|t| book_time(t, offset))
                            .unwrap_or_default(),
                        d.due_at.map(|t| book_time(t, offset)).unwrap_or_default(),
                        d.finished_at
                            .map(|t| book_time(t, offset))
                            .unwrap_or_default(),
                        delivery(&d.code),
                        note,
                        String::new(),
                    ],
                )
            })
            .collect();
        Ok(TrackingBook {
            agency_name: self.export_agency_name(&agency),
            agency,
            from: q.from,
            to: q.to,
            rows,
        })
    }

    /// `GET /api/v1/reports/tracking-book.xlsx`: the book as a workbook; the export is
    /// recorded in the audit trail (it carries the applicants' personal data).
    pub fn tracking_book_xlsx(
        &self,
        caller: &Caller,
        q: &BookQuery,
        now: DateTime<Utc>,
    ) -> AppResult<(TrackingBook, Vec<u8>)> {
        let book = self.tracking_book(caller, q)?;
        let bytes = book_workbook(&book).map_err(xlsx_error)?;
        let actor = caller.actor();
        self.store.write(None, |conn| {
            crate::store::audit::append(
                conn,
                AuditEntry {
                    actor: &actor,
                    at: to_db(now),
                    action: "report.tracking_book",
                    entity: "agency",
                    entity_id: &book.agency,
                    detail: json!({
                        "from": book.from.to_string(),
                        "to": book.to.to_string(),
                        "rows": book.rows.len(),
                    }),
                },
            )?;
            Ok::<_, StoreError>(())
        })?;
        Ok((book, bytes))
    }

    /// The indicator report of `q` with its table.
    pub fn indicator_table(
        &self,
        caller: &Caller,
        q: &IndicatorQuery,
        now: DateTime<Utc>,
    ) -> AppResult<(IndicatorReport, IndicatorTable)> {
        let report = self.indicators(caller, q, now)?;
        let table = IndicatorTable::from_report(&report, q.group_by);
        Ok((report, table))
    }

    /// `GET /api/v1/reports/indicators.csv`: UTF-8 with a BOM, comma-separated, the JSON
    /// field names as the header, `.` as the decimal separator, empty for undefined rates.
    pub fn indicators_csv(
        &self,
        caller: &Caller,
        q: &IndicatorQuery,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<u8>> {
        let (_, table) = self.indicator_table(caller, q, now)?;
        let mut w = csv_writer();
        let mut header = vec!["key".to_string(), "name".to_string()];
        header.extend(table.counts.iter().map(|c| c.name.clone()));
        header.extend(table.rates.iter().map(|c| c.name.clone()));
        w.write_record(&header).map_err(csv_error)?;
        for r in &table.rows {
            let mut rec = vec![r.key.clone(), r.name.clone().unwrap_or_default()];
            rec.extend(r.counts.iter().map(|n| n.to_string()));
            rec.extend(r.rates.iter().map(|v| rate_text(*v)));
            w.write_record(&rec).map_err(csv_error)?;
        }
        csv_bytes(w)
    }

    /// `GET /api/v1/reports/indicators.xlsx`: Vietnamese headers over the JSON field
    /// names, one row per group, the total last; a second sheet with the report's
    /// parameters and the definitions.
    pub fn indicators_xlsx(
        &self,
        caller: &Caller,
        q: &IndicatorQuery,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<u8>> {
        let (report, table) = self.indicator_table(caller, q, now)?;
        let about = [
            ("Cơ quan", self.export_agency_name(&report.agency)),
            ("Mã cơ quan", report.agency.clone()),
            (
                "Gồm đơn vị trực thuộc",
                if report.descendants { "Có" } else { "Không" }.to_string(),
            ),
            (
                "Kỳ báo cáo",
                format!("Từ ngày {} đến ngày {}", dmy(report.from), dmy(report.to)),
            ),
            ("Nhóm theo", group_by_label(q.group_by).to_string()),
            (
                "Thời điểm lập",
                now.with_timezone(&self.settings.offset)
                    .format("%d/%m/%Y %H:%M")
                    .to_string(),
            ),
        ];
        indicator_workbook(&table, &about).map_err(xlsx_error)
    }

    /// `GET /api/v1/reports/indicators.pdf`: a landscape A4 table of the main figures,
    /// rendered from form template 08.
    pub fn indicators_pdf(
        &self,
        caller: &Caller,
        q: &IndicatorQuery,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<u8>> {
        let (report, table) = self.indicator_table(caller, q, now)?;
        let count_text = |r: &IndicatorRow, n: &str| {
            table.count(r, n).map(|v| v.to_string()).unwrap_or_default()
        };
        let rate_pdf = |r: &IndicatorRow, n: &str| {
            table
                .rate(r, n)
                .map(|v| format!("{v:.2}").replace('.', ","))
                .unwrap_or_else(|| "–".into())
        };
        let rows = table
            .rows
            .iter()
            .map(|r| {
                let label = if r.total {
                    "Tổng cộng".to_string()
                } else {
                    match &r.name {
                        Some(n) if n != &r.key => format!("{n}\n{}", r.key),
                        _ => r.key.clone(),
                    }
                };
                let mut cells = vec![label];
                cells.extend(PDF_COUNTS.iter().map(|n| count_text(r, n)));
                cells.extend(PDF_RATES.iter().map(|n| rate_pdf(r, n)));
                cells
            })
            .collect();
        let note = PDF_RATES
            .iter()
            .filter_map(|n| DEFINITIONS.iter().find(|d| d.name == *n))
            .map(|d| format!("{} = {}", d.name, d.formula))
            .collect::<Vec<_>>()
            .join("; ");
        let data = self
            .heading(&report.agency, now)
            .with_text("report_agency", self.export_agency_name(&report.agency))
            .with_text("from", dmy(report.from))
            .with_text("to", dmy(report.to))
            .with_text("group_by", group_by_label(q.group_by))
            .with_text(
                "scope",
                if report.descendants {
                    "gồm các đơn vị trực thuộc"
                } else {
                    "không gồm các đơn vị trực thuộc"
                },
            )
            .with_text(
                "columns_note",
                format!(
                    "Cột (tên trường dữ liệu): Tiếp nhận (received); Trực tuyến \
                     (received_online); Trước hạn (finished_early); Đúng hạn \
                     (finished_on_time); Quá hạn (finished_late); Đang giải quyết quá hạn \
                     (in_progress_overdue); tỷ lệ tính bằng %, hai chữ số thập phân, \
                     \"–\" khi không có mẫu số: {note}."
                ),
            )
            .with_rows("groups", rows);
        self.render_indicator_form(&data)
    }

    fn render_indicator_form(&self, data: &FormData) -> AppResult<Vec<u8>> {
        if self.forms.templates.contains_key("08") {
            return self.forms.render("08", data);
        }
        let t = FormTemplate::parse(&crate::core::text::nfc(INDICATORS_TEMPLATE)).map_err(|e| {
            tracing::error!(form = "08", error = %e, "built-in form template invalid");
            AppError::internal()
        })?;
        crate::forms::render(&t, data, &self.forms.fonts).map_err(|e| {
            tracing::error!(form = "08", error = %e, "form rendering failed");
            AppError::internal()
        })
    }

    /// The agencies whose dossiers a raw export covers: the caller's scope.
    fn raw_scope(&self, caller: &Caller, from: NaiveDate, to: NaiveDate) -> AppResult<Vec<String>> {
        self.require_staff(caller)?;
        check_period(from, to)?;
        Ok(self.scope_of(caller))
    }

    /// `GET /api/v1/reports/raw/dossiers.csv`: every dossier the indicators of the
    /// caller's scope count over the period, one line each, without personal data.
    pub fn raw_dossiers_csv(
        &self,
        caller: &Caller,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Vec<u8>> {
        let scope = self.raw_scope(caller, from, to)?;
        let (start, end) = self.period_bounds(from, to);
        let rows = self.store.raw_dossiers(&scope, start, end)?;
        let offset = self.settings.offset;
        let mut w = csv_writer();
        w.write_record(RAW_DOSSIER_COLUMNS).map_err(csv_error)?;
        let opt_time = |t: Option<NaiveDateTime>| t.map(|t| rfc3339(t, offset)).unwrap_or_default();
        for d in rows {
            // The selection holds received dossiers only (by their receipt).
            let (Some(received_at), Some(due_at)) = (d.received_at, d.due_at) else {
                continue;
            };
            let RawDossierRow {
                code,
                receiving_agency,
                competent_agency,
                procedure_code,
                channel,
                received_at: _,
                finished_at,
                status,
                outcome,
                due_at: _,
                late_by_rule,
                supplement_requests,
                digitised,
                reused,
                results,
                results_electronic,
                fee_bearing,
                paid_online,
                rating,
                rated_at,
                handling_minutes,
                decision,
                yields_document,
            } = d;
            let owner = competent_agency.unwrap_or_else(|| receiving_agency.clone());
            let level = self
                .agencies
                .get(&owner)
                .map(|a| a.level.clone())
                .unwrap_or_default();
            w.write_record([
                code,
                owner,
                level,
                receiving_agency,
                procedure_code,
                channel,
                rfc3339(received_at, offset),
                opt_time(finished_at),
                status,
                outcome.unwrap_or_default(),
                decision.unwrap_or_default(),
                rfc3339(due_at, offset),
                late_by_rule.to_string(),
                supplement_requests.to_string(),
                digitised.to_string(),
                reused.to_string(),
                results.to_string(),
                results_electronic.to_string(),
                fee_bearing.to_string(),
                paid_online.to_string(),
                rating.unwrap_or_default(),
                opt_time(rated_at),
                handling_minutes.map(|m| m.to_string()).unwrap_or_default(),
                yields_document.to_string(),
            ])
            .map_err(csv_error)?;
        }
        csv_bytes(w)
    }

    /// `GET /api/v1/reports/raw/deadline_acts.csv`: every act with a time limit — supplement
    /// requests (NĐ 118/2025 Art. 19(5)), online submissions and the desk's answers to them
    /// (Art. 17(2)) — done by an agency of the caller's scope within the period, with its
    /// limit and whether it came late.
    pub fn raw_acts_csv(
        &self,
        caller: &Caller,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Vec<u8>> {
        let scope = self.raw_scope(caller, from, to)?;
        let (start, end) = self.period_bounds(from, to);
        let rows = self.store.raw_acts(&scope, start, end)?;
        let offset = self.settings.offset;
        let mut w = csv_writer();
        w.write_record(RAW_ACT_COLUMNS).map_err(csv_error)?;
        for r in rows {
            w.write_record([
                r.dossier_code,
                r.seq.to_string(),
                r.kind,
                rfc3339(r.at, offset),
                r.agency_code,
                r.due_at.map(|t| rfc3339(t, offset)).unwrap_or_default(),
                r.late.to_string(),
            ])
            .map_err(csv_error)?;
        }
        csv_bytes(w)
    }

    /// `GET /api/v1/reports/raw/handovers.csv`: every hand-over given by an agency of the
    /// caller's scope within the period.
    pub fn raw_handovers_csv(
        &self,
        caller: &Caller,
        from: NaiveDate,
        to: NaiveDate,
    ) -> AppResult<Vec<u8>> {
        let scope = self.raw_scope(caller, from, to)?;
        let (start, end) = self.period_bounds(from, to);
        let rows = self.store.raw_handovers(&scope, start, end)?;
        let offset = self.settings.offset;
        let opt_time = |t: Option<NaiveDateTime>| t.map(|t| rfc3339(t, offset)).unwrap_or_default();
        let mut w = csv_writer();
        w.write_record(RAW_HANDOVER_COLUMNS).map_err(csv_error)?;
        for h in rows {
            w.write_record([
                h.dossier_code,
                h.seq.to_string(),
                rfc3339(h.at, offset),
                h.from_agency,
                h.to_agency,
                h.electronic.to_string(),
                h.outcome.unwrap_or_default(),
                opt_time(h.transfer_due_at),
                h.transfer_outcome.unwrap_or_default(),
            ])
            .map_err(csv_error)?;
        }
        csv_bytes(w)
    }
}

fn group_by_label(g: GroupBy) -> &'static str {
    match g {
        GroupBy::Total => "toàn kỳ",
        GroupBy::Agency => "cơ quan",
        GroupBy::Procedure => "thủ tục hành chính",
        GroupBy::Month => "tháng",
        GroupBy::Level => "cấp cơ quan",
    }
}

/// The tracking book as an XLSX workbook: a title block, the 12 columns (bold, frozen,
/// wrapped), one line per dossier; landscape A4, one page wide.
pub fn book_workbook(book: &TrackingBook) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new()
            .set_title("Sổ theo dõi hồ sơ")
            .set_subject(format!(
                "{} — từ ngày {} đến ngày {}",
                book.agency_name,
                dmy(book.from),
                dmy(book.to)
            )),
    );
    let title = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center);
    let subtitle = Format::new().set_bold().set_align(FormatAlign::Center);
    let period = Format::new().set_italic().set_align(FormatAlign::Center);
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin);
    let cell = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin);
    let centred = cell.clone().set_align(FormatAlign::Center);
    let last = (BOOK_COLUMNS.len() - 1) as u16;
    let ws = wb.add_worksheet();
    ws.set_name("Sổ theo dõi hồ sơ")?;
    ws.merge_range(0, 0, 0, last, "SỔ THEO DÕI HỒ SƠ", &title)?;
    ws.merge_range(1, 0, 1, last, &book.agency_name, &subtitle)?;
    ws.merge_range(
        2,
        0,
        2,
        last,
        &format!("Từ ngày {} đến ngày {}", dmy(book.from), dmy(book.to)),
        &period,
    )?;
    const HEADER_ROW: u32 = 3;
    for (i, (h, w)) in BOOK_COLUMNS.iter().zip(BOOK_WIDTHS).enumerate() {
        ws.write_string_with_format(HEADER_ROW, i as u16, *h, &header)?;
        ws.set_column_width(i as u16, w)?;
    }
    ws.set_row_height(HEADER_ROW, 32)?;
    for (n, (line, cells)) in book.rows.iter().enumerate() {
        let r = HEADER_ROW + 1 + n as u32;
        ws.write_number_with_format(r, 0, *line as f64, &centred)?;
        for (i, v) in cells.iter().enumerate() {
            let c = (i + 1) as u16;
            let f = if (6..=10).contains(&c) {
                &centred
            } else {
                &cell
            };
            ws.write_string_with_format(r, c, v, f)?;
        }
    }
    ws.set_freeze_panes(HEADER_ROW + 1, 0)?;
    ws.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    wb.save_to_buffer()
}

/// The indicator table as an XLSX workbook: sheet "Chỉ số" (Vietnamese headers, the JSON
/// field names under them, a row per group, the total in bold), sheet "Thông tin" (the
/// report's parameters and the definitions).
pub fn indicator_workbook(
    table: &IndicatorTable,
    about: &[(&str, String)],
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_properties(&DocProperties::new().set_title("Chỉ số giải quyết thủ tục hành chính"));
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin);
    let english = Format::new()
        .set_italic()
        .set_font_size(9)
        .set_align(FormatAlign::Center)
        .set_border(FormatBorder::Thin);
    let text = Format::new()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin);
    let int = Format::new()
        .set_num_format("0")
        .set_border(FormatBorder::Thin);
    let rate = Format::new()
        .set_num_format("0.00")
        .set_border(FormatBorder::Thin);
    let bold = |f: &Format| f.clone().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("Chỉ số")?;
    let mut headers: Vec<(&str, &str)> = vec![("Mã nhóm", "key"), ("Tên nhóm", "name")];
    headers.extend(
        table
            .counts
            .iter()
            .chain(&table.rates)
            .map(|c| (c.label.as_str(), c.name.as_str())),
    );
    for (i, (vi, en)) in headers.iter().enumerate() {
        let c = i as u16;
        ws.write_string_with_format(0, c, *vi, &header)?;
        ws.write_string_with_format(1, c, *en, &english)?;
        ws.set_column_width(
            c,
            match i {
                0 => 18.0,
                1 => 36.0,
                _ => 13.0,
            },
        )?;
    }
    ws.set_row_height(0, 60)?;
    for (n, r) in table.rows.iter().enumerate() {
        let row = 2 + n as u32;
        let (t, i, p) = if r.total {
            (bold(&text), bold(&int), bold(&rate))
        } else {
            (text.clone(), int.clone(), rate.clone())
        };
        ws.write_string_with_format(row, 0, &r.key, &t)?;
        let name = if r.total {
            match &r.name {
                Some(n) => format!("Tổng cộng — {n}"),
                None => "Tổng cộng".to_string(),
            }
        } else {
            r.name.clone().unwrap_or_default()
        };
        ws.write_string_with_format(row, 1, &name, &t)?;
        let mut c = 2u16;
        for v in &r.counts {
            ws.write_number_with_format(row, c, *v as f64, &i)?;
            c += 1;
        }
        for v in &r.rates {
            match v {
                Some(v) => ws.write_number_with_format(row, c, *v, &p)?,
                None => ws.write_blank(row, c, &p)?,
            };
            c += 1;
        }
    }
    ws.set_freeze_panes(2, 2)?;
    ws.set_repeat_rows(0, 1)?;
    ws.set_landscape();
    ws.set_paper_size(9);

    let info = wb.add_worksheet();
    info.set_name("Thông tin")?;
    info.set_column_width(0, 30)?;
    info.set_column_width(1, 70)?;
    info.set_column_width(2, 60)?;
    let b = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let mut row = 0u32;
    for (k, v) in about {
        info.write_string_with_format(row, 0, *k, &b)?;
        info.write_string_with_format(row, 1, v, &wrap)?;
        row += 1;
    }
    row += 1;
    for (i, h) in ["Chỉ số (name)", "Công thức (formula)", "Căn cứ (source)"]
        .iter()
        .enumerate()
    {
        info.write_string_with_format(row, i as u16, *h, &b)?;
    }
    row += 1;
    for d in DEFINITIONS {
        info.write_string_with_format(row, 0, d.name, &wrap)?;
        info.write_string_with_format(row, 1, d.formula, &wrap)?;
        info.write_string_with_format(row, 2, d.source, &wrap)?;
        row += 1;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::indicators::{Counts, Rates};

    fn keys(v: serde_json::Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    /// Every field of `Counts` and `Rates` has its Vietnamese header.
    #[test]
    fn every_field_has_a_header() {
        let mut counts: Vec<String> = COUNT_COLUMNS.iter().map(|(n, _)| n.to_string()).collect();
        counts.sort();
        assert_eq!(
            counts,
            keys(serde_json::to_value(Counts::default()).unwrap())
        );
        let mut rates: Vec<String> = RATE_COLUMNS.iter().map(|(n, _)| n.to_string()).collect();
        rates.sort();
        assert_eq!(rates, keys(serde_json::to_value(Rates::default()).unwrap()));
    }

    #[test]
    fn the_built_in_indicator_template_parses() {
        let t = FormTemplate::parse(&crate::core::text::nfc(INDICATORS_TEMPLATE)).unwrap();
        assert_eq!(t.id(), "08");
        assert!(t.keys().contains("groups"));
    }

    #[test]
    fn the_built_in_indicator_template_renders() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("forms/fonts");
        let fonts = crate::forms::Fonts::load(&dir).expect("fonts in forms/fonts");
        let t = FormTemplate::parse(&crate::core::text::nfc(INDICATORS_TEMPLATE)).unwrap();
        let row = |name: &str| {
            let mut r = vec![name.to_string()];
            r.extend((0..6).map(|i| i.to_string()));
            r.extend(["100,00", "50,00", "–", "95,50"].map(String::from));
            r
        };
        let data = FormData::new()
            .with_text("agency_parent", "Ủy ban nhân dân thành phố Hà Nội")
            .with_text("agency_name", "Bộ phận Một cửa")
            .with_text("report_agency", "Ủy ban nhân dân thành phố Hà Nội")
            .with_text("from", "01/11/2026")
            .with_text("to", "30/11/2026")
            .with_text("group_by", "cơ quan")
            .with_rows(
                "groups",
                (0..40)
                    .map(|i| row(&format!("Phường số {i}")))
                    .chain([row("Tổng cộng")])
                    .collect(),
            );
        let pdf = crate::forms::render(&t, &data, &fonts).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn rates_are_written_with_a_point() {
        assert_eq!(rate_text(Some(87.5)), "87.5");
        assert_eq!(rate_text(Some(16.67)), "16.67");
        assert_eq!(rate_text(None), "");
    }
}
