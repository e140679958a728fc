//! The monthly public page (issue #16, item 2): `GET /cong-khai?thang=YYYY-MM`, for anyone,
//! without login — per agency, dossiers received, online, finished early, on time, late,
//! the on-time and online rates; two charts of the same; a month picker that works
//! without script; a print layout; `GET /cong-khai.csv?thang=YYYY-MM` for spreadsheets.
//!
//! The figures come from [`crate::app::App::public_stats`], the use case behind
//! `GET /api/v1/public/stats`, so the page, the file and the API never disagree. No
//! personal data: counts and rates per agency only, hence `Cache-Control: public`.
//!
//! Without `thang` the page shows the last complete month: a monthly disclosure is of a
//! month that is over; the current month, still counting, is one "Tháng sau" away.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::charts::{self, Chart, Series, Unit};
use super::{render_status, Frame, WebResult};
use crate::core::indicators::{percent, Counts};
use crate::error::ErrorKind;
use crate::http::AppData;
use crate::service::reports::Group;

/// How long browsers and proxies may keep the page and the file (as the JSON API).
const CACHE: &str = "public, max-age=300";

#[derive(Deserialize)]
pub struct MonthQuery {
    #[serde(default)]
    thang: Option<String>,
}

/// One line of the table (an agency, or the totals).
pub struct Row {
    pub code: String,
    pub name: String,
    pub received: i64,
    pub online: i64,
    pub finished: i64,
    pub early: i64,
    pub on_time: i64,
    pub late: i64,
    pub on_time_rate: Option<f64>,
    pub online_rate: Option<f64>,
}

impl Row {
    fn of(g: &Group, app: &AppData) -> Row {
        let name = g
            .name
            .clone()
            .or_else(|| app.agencies.get(&g.key).map(|a| a.name.clone()))
            .unwrap_or_else(|| g.key.clone());
        Row::from_counts(
            g.key.clone(),
            name,
            &g.counts,
            g.rates.on_time_rate,
            g.rates.online_rate,
        )
    }

    fn from_counts(
        code: String,
        name: String,
        c: &Counts,
        on_time_rate: Option<f64>,
        online_rate: Option<f64>,
    ) -> Row {
        Row {
            code,
            name,
            received: c.received,
            online: c.received_online,
            finished: c.finished(),
            early: c.finished_early,
            on_time: c.finished_on_time,
            late: c.finished_late,
            on_time_rate,
            online_rate,
        }
    }

    /// The table's cells after the name: the column's key (as the JSON API names it), its
    /// heading for phones, and the figure written the Vietnamese way ("—" for a rate with
    /// nothing to divide).
    pub fn cells(&self) -> Vec<(&'static str, &'static str, String)> {
        let count = |v: i64| charts::format_count(v as f64);
        let rate = |v: Option<f64>| v.map(charts::format_percent).unwrap_or_else(|| "—".into());
        vec![
            ("received", "Tiếp nhận", count(self.received)),
            ("received_online", "Trực tuyến", count(self.online)),
            ("finished_early", "Trước hạn", count(self.early)),
            ("finished_on_time", "Đúng hạn", count(self.on_time)),
            ("finished_late", "Quá hạn", count(self.late)),
            ("on_time_rate", "Tỷ lệ đúng hạn", rate(self.on_time_rate)),
            ("online_rate", "Tỷ lệ trực tuyến", rate(self.online_rate)),
        ]
    }
}

/// The totals of the month, with the rates worked out by the same formulas from the sums.
fn totals(groups: &[Group]) -> Row {
    let mut c = Counts::default();
    for g in groups {
        c.add(&g.counts);
    }
    Row::from_counts(
        String::new(),
        "Tổng cộng".into(),
        &c,
        percent(c.finished_early + c.finished_on_time, c.finished()),
        percent(c.received_online, c.received),
    )
}

#[derive(Template)]
#[template(path = "public_stats.html")]
struct PublicPage {
    frame: Frame,
    /// The province (the root agency), above the heading.
    authority: String,
    /// "03/2026".
    month_label: String,
    /// "2026-03", the picker's value.
    month: String,
    prev: Option<String>,
    next: Option<String>,
    rows: Vec<Row>,
    total: Option<Row>,
    counts_chart: String,
    rates_chart: String,
    /// When the figures were read ("Thứ Ba, 10/03/2026 lúc 15:30").
    as_of: String,
    /// The month is not over: the figures still move.
    partial: bool,
    /// A `thang` that is not a month: the message and the error's code.
    error: Option<(String, &'static str)>,
    target_text: Option<String>,
}

/// `YYYY-MM` of `d`.
fn month_key(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

fn first_of(s: &str) -> Option<NaiveDate> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

fn shift(d: NaiveDate, months: i32) -> Option<NaiveDate> {
    let n = d.year() * 12 + d.month0() as i32 + months;
    NaiveDate::from_ymd_opt(n.div_euclid(12), n.rem_euclid(12) as u32 + 1, 1)
}

/// Today's date where the agencies are.
fn today(app: &AppData) -> NaiveDate {
    app.clock
        .now()
        .with_timezone(&app.settings.offset)
        .date_naive()
}

/// The month asked for, trimmed; the last complete month when none is.
fn asked(app: &AppData, q: &MonthQuery) -> String {
    match q.thang.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(m) => m.chars().take(32).collect(),
        None => {
            let this = first_of(&month_key(today(app))).expect("a month");
            month_key(shift(this, -1).unwrap_or(this))
        }
    }
}

fn charts_of(rows: &[Row], month_label: &str, target: Option<f64>) -> (String, String) {
    let categories: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let counts = Chart {
        id: "bd-so-ho-so".into(),
        title: format!("Số hồ sơ theo cơ quan, tháng {month_label}"),
        description: "Mỗi cơ quan bốn thanh: hồ sơ tiếp nhận, trong đó trực tuyến; hồ sơ giải quyết trước hạn và đúng hạn; hồ sơ quá hạn. Số liệu đầy đủ ở bảng dưới.".into(),
        categories: categories.clone(),
        series: vec![
            Series {
                name: "Tiếp nhận".into(),
                values: rows.iter().map(|r| Some(r.received as f64)).collect(),
                class: "s1",
            },
            Series {
                name: "Trực tuyến".into(),
                values: rows.iter().map(|r| Some(r.online as f64)).collect(),
                class: "s4",
            },
            Series {
                name: "Trước hạn, đúng hạn".into(),
                values: rows.iter().map(|r| Some((r.early + r.on_time) as f64)).collect(),
                class: "s2",
            },
            Series {
                name: "Quá hạn".into(),
                values: rows.iter().map(|r| Some(r.late as f64)).collect(),
                class: "s3",
            },
        ],
        unit: Unit::Count,
        target: None,
    };
    let rates = Chart {
        id: "bd-ty-le".into(),
        title: format!("Tỷ lệ đúng hạn và tỷ lệ trực tuyến theo cơ quan, tháng {month_label}"),
        description: "Mỗi cơ quan hai thanh: tỷ lệ hồ sơ giải quyết trước hạn và đúng hạn trên số đã giải quyết; tỷ lệ hồ sơ tiếp nhận trực tuyến. Dấu — là không có hồ sơ để tính.".into(),
        categories,
        series: vec![
            Series {
                name: "Tỷ lệ đúng hạn".into(),
                values: rows.iter().map(|r| r.on_time_rate).collect(),
                class: "s2",
            },
            Series {
                name: "Tỷ lệ trực tuyến".into(),
                values: rows.iter().map(|r| r.online_rate).collect(),
                class: "s4",
            },
        ],
        unit: Unit::Percent,
        target: target.map(|t| (format!("Chỉ tiêu đúng hạn {}", charts::format_percent(t)), t)),
    };
    (charts::bar_chart(&counts), charts::bar_chart(&rates))
}

/// `GET /cong-khai?thang=YYYY-MM`.
pub async fn page(app: AppData, q: web::Query<MonthQuery>) -> WebResult<HttpResponse> {
    let month = asked(&app, &q);
    let a = app.get_ref().clone();
    let m = month.clone();
    let found = crate::http::block(move || a.public_stats(&m, a.clock.now())).await?;
    let root = app.agencies.agencies.first();
    let authority = root.map(|a| a.name.clone()).unwrap_or_default();
    let mut frame = Frame::new(&app, "Công khai kết quả giải quyết thủ tục hành chính");
    frame.crumbs = Vec::new();
    let as_of = frame.clock.clone();
    let groups = match found {
        Ok(g) => g,
        Err(e) if matches!(e.kind, ErrorKind::BadRequest | ErrorKind::Invalid) => {
            let fallback = asked(&app, &MonthQuery { thang: None });
            frame.title = "Tháng không hợp lệ · Công khai kết quả".into();
            let page = PublicPage {
                frame,
                authority,
                month_label: String::new(),
                month: fallback,
                prev: None,
                next: None,
                rows: Vec::new(),
                total: None,
                counts_chart: String::new(),
                rates_chart: String::new(),
                as_of,
                partial: false,
                error: Some((
                    format!(
                        "Tháng «{month}» không hợp lệ. Vui lòng chọn tháng theo dạng năm-tháng, ví dụ 2026-03."
                    ),
                    e.error,
                )),
                target_text: None,
            };
            return Ok(render_status(StatusCode::BAD_REQUEST, &page));
        }
        Err(e) => return Err(e.into()),
    };
    let first = first_of(&month).expect("the service accepted it");
    let this_month = first_of(&month_key(today(&app))).expect("a month");
    let month_label = format!("{:02}/{}", first.month(), first.year());
    let rows: Vec<Row> = groups.iter().map(|g| Row::of(g, &app)).collect();
    let target = app
        .targets
        .for_indicator("on_time_rate", root.map(|r| r.level.as_str()), first.year())
        .map(|t| t.min);
    let (counts_chart, rates_chart) = if rows.is_empty() {
        (String::new(), String::new())
    } else {
        charts_of(&rows, &month_label, target)
    };
    frame.title = format!("Công khai kết quả tháng {month_label}");
    let page = PublicPage {
        frame,
        authority,
        month_label,
        month: month_key(first),
        prev: shift(first, -1).map(month_key),
        next: shift(first, 1).filter(|n| *n <= this_month).map(month_key),
        total: (!rows.is_empty()).then(|| totals(&groups)),
        rows,
        counts_chart,
        rates_chart,
        as_of,
        partial: first >= this_month,
        error: None,
        target_text: target.map(charts::format_percent),
    };
    let mut res = render_status(StatusCode::OK, &page);
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static(CACHE),
    );
    Ok(res)
}

/// A CSV field: quoted when it holds the separator, a quote or a line break; a leading
/// `= + - @` made text, so no spreadsheet takes a name for a formula.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A rate for the file: decimal comma, no sign, empty when there was nothing to divide.
fn csv_rate(v: Option<f64>) -> String {
    v.map(charts::format_decimal).unwrap_or_default()
}

/// The file's text: a BOM, a Vietnamese header, one line per agency and the totals,
/// `;`-separated with decimal commas and CRLF line ends — what Excel opens as columns of
/// numbers on a Vietnamese Windows (list separator `;`, decimal symbol `,`).
pub fn csv(rows: &[Row], total: Option<&Row>) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str("Mã cơ quan;Cơ quan;Tiếp nhận;Trong đó trực tuyến;Đã giải quyết;Trước hạn;Đúng hạn;Quá hạn;Tỷ lệ đúng hạn (%);Tỷ lệ trực tuyến (%)\r\n");
    for r in rows.iter().chain(total) {
        let cells = [
            field(&r.code),
            field(&r.name),
            r.received.to_string(),
            r.online.to_string(),
            r.finished.to_string(),
            r.early.to_string(),
            r.on_time.to_string(),
            r.late.to_string(),
            csv_rate(r.on_time_rate),
            csv_rate(r.online_rate),
        ];
        out.push_str(&cells.join(";"));
        out.push_str("\r\n");
    }
    out
}

/// `GET /cong-khai.csv?thang=YYYY-MM`: the same figures as a file to download.
pub async fn csv_file(app: AppData, q: web::Query<MonthQuery>) -> WebResult<HttpResponse> {
    let month = asked(&app, &q);
    let a = app.get_ref().clone();
    let m = month.clone();
    let groups = crate::http::block(move || a.public_stats(&m, a.clock.now())).await??;
    let rows: Vec<Row> = groups.iter().map(|g| Row::of(g, &app)).collect();
    let total = (!rows.is_empty()).then(|| totals(&groups));
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"cong-khai-{month}.csv\""),
        ))
        .insert_header(("Cache-Control", CACHE))
        .body(csv(&rows, total.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_shift_across_years() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(shift(d, -1).map(month_key).as_deref(), Some("2025-12"));
        assert_eq!(shift(d, 12).map(month_key).as_deref(), Some("2027-01"));
        assert_eq!(first_of("2026-3"), None);
        assert_eq!(first_of("2026-13"), None);
        assert_eq!(first_of("2026-03"), NaiveDate::from_ymd_opt(2026, 3, 1));
    }

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(field("Phường A"), "Phường A");
        assert_eq!(field("A;B"), "\"A;B\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
        let r = Row::from_counts(
            "X".into(),
            "Phường; \"Mới\"".into(),
            &Counts::default(),
            None,
            Some(23.08),
        );
        let text = csv(&[r], None);
        assert!(text.starts_with("\u{feff}Mã cơ quan;"));
        assert!(text.ends_with("X;\"Phường; \"\"Mới\"\"\";0;0;0;0;0;0;;23,08\r\n"));
    }
}
