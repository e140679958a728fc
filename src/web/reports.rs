//! The leaders' dashboard (`/bao-cao`, issue #16): the plan's targets as tiles, the
//! QĐ 766 scores, the figures per group and four charts drawn on the server, each with its
//! data table, for an agency of the caller's scope over a period; and the exports of the
//! same filters (XLSX, CSV, PDF, the tracking book) for the signed-in browser. The figures
//! come from the same use case as `GET /api/v1/reports/indicators`
//! ([`crate::App::indicators`]); nothing is counted here.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::charts::{self, Chart, Series, Unit};
use super::session::Staff;
use super::{render_status, WebResult};
use crate::core::indicators::GroupBy;
use crate::error::{AppError, AppResult};
use crate::http::exports::{download, CSV, PDF, XLSX};
use crate::service::exports::RATE_COLUMNS;
use crate::service::reports::{Group, IndicatorQuery, IndicatorReport};
use crate::service::{Caller, Role};

/// The dashboard's filters as the address gives them (a GET form: works without script,
/// and a view can be bookmarked or sent).
#[derive(Debug, Default, Deserialize)]
pub struct DashQuery {
    #[serde(default, rename = "co-quan")]
    agency: Option<String>,
    #[serde(default)]
    tu: Option<String>,
    #[serde(default)]
    den: Option<String>,
    /// `co`: with the agencies below (the default); `khong`: the agency alone.
    #[serde(default, rename = "cap-duoi")]
    below: Option<String>,
    /// `agency`, `month`, `procedure`, `level` or `total`.
    #[serde(default)]
    nhom: Option<String>,
}

/// The filters, checked; `errors` name the field and say what is wrong.
struct Filters {
    agency: String,
    from: NaiveDate,
    to: NaiveDate,
    descendants: bool,
    group_by: GroupBy,
    errors: Vec<(&'static str, String)>,
}

fn group_slug(g: GroupBy) -> &'static str {
    match g {
        GroupBy::Total => "total",
        GroupBy::Agency => "agency",
        GroupBy::Procedure => "procedure",
        GroupBy::Month => "month",
        GroupBy::Level => "level",
    }
}

const GROUPINGS: [(&str, &str); 5] = [
    ("agency", "Theo cơ quan"),
    ("month", "Theo tháng"),
    ("procedure", "Theo thủ tục"),
    ("level", "Theo cấp"),
    ("total", "Chỉ tổng hợp"),
];

/// A date typed as `yyyy-mm-dd` (the date picker) or `dd/mm/yyyy` (by hand).
fn parse_day(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()
}

fn filters(caller: &Caller, q: &DashQuery, today: NaiveDate) -> Filters {
    let mut errors = Vec::new();
    let agency = q
        .agency
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&caller.agency)
        .to_string();
    // The plan's targets are yearly: the year so far unless told otherwise.
    let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let mut day = |field: &'static str, v: &Option<String>, default: NaiveDate| match v
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => default,
        Some(s) => parse_day(s).unwrap_or_else(|| {
            errors.push((
                field,
                "Ngày không hợp lệ: nhập dạng ngày/tháng/năm, ví dụ 01/03/2026".to_string(),
            ));
            default
        }),
    };
    let from = day("tu", &q.tu, year_start);
    let to = day("den", &q.den, today);
    if errors.is_empty() && to < from {
        errors.push(("den", "Ngày kết thúc phải từ ngày bắt đầu trở đi".into()));
    }
    if errors.is_empty() && (to - from).num_days() > 3660 {
        errors.push(("den", "Kỳ báo cáo dài tối đa 10 năm".into()));
    }
    let descendants = !matches!(q.below.as_deref(), Some("khong"));
    let group_by = match q.nhom.as_deref().map(str::trim) {
        None | Some("") => GroupBy::Agency,
        Some(s) => GroupBy::parse(s).unwrap_or_else(|| {
            errors.push(("nhom", "Chọn một cách nhóm trong danh sách".into()));
            GroupBy::Agency
        }),
    };
    Filters {
        agency,
        from,
        to,
        descendants,
        group_by,
        errors,
    }
}

/// A tile of the plan's targets.
pub struct Tile {
    pub label: String,
    pub value: String,
    pub target: String,
    /// `met`, `short` or `none` (nothing to count yet).
    pub state: &'static str,
    pub verdict: String,
    pub source: String,
}

pub struct ScoreRow {
    pub code: String,
    pub label: String,
    pub value: String,
    pub target: String,
    pub points: String,
    pub score: String,
}

/// A row of the figures table: a group's name, then its cells.
pub struct Row {
    pub key: String,
    pub name: String,
    pub cells: Vec<String>,
}

/// A chart with the table of its figures.
pub struct Figure {
    pub id: String,
    pub heading: String,
    pub svg: String,
    pub note: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

pub struct Option_ {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Export {
    pub label: &'static str,
    pub hint: &'static str,
    pub href: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub frame: super::Frame,
    pub agency_name: String,
    pub period: String,
    pub scope_words: &'static str,
    pub agencies: Vec<Option_>,
    pub groupings: Vec<Option_>,
    pub from: String,
    pub to: String,
    pub below: bool,
    pub quick: Vec<(String, String)>,
    pub errors: Vec<(&'static str, String)>,
    pub tiles: Vec<Tile>,
    pub scores: Vec<ScoreRow>,
    pub score_total: String,
    pub score_max: String,
    pub scores_sample: bool,
    pub group_heading: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Row>,
    pub total: Option<Row>,
    pub figures: Vec<Figure>,
    pub exports: Vec<Export>,
    pub has_report: bool,
}

fn pct(v: Option<f64>) -> String {
    v.map(charts::format_percent).unwrap_or_else(|| "—".into())
}

fn count(n: i64) -> String {
    charts::format_count(n as f64)
}

/// The Vietnamese name of an indicator (as the exports write it, without the unit).
pub fn indicator_label(name: &str) -> String {
    RATE_COLUMNS
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, l)| l.trim_end_matches(" (%)").to_string())
        .unwrap_or_else(|| name.to_string())
}

/// The figures table's columns: what the plan's targets are made of.
const COLUMNS: [&str; 12] = [
    "Tiếp nhận",
    "Trực tuyến",
    "Đã giải quyết",
    "Trước hạn",
    "Đúng hạn",
    "Quá hạn",
    "Tỷ lệ đúng hạn",
    "Tỷ lệ trực tuyến",
    "Luân chuyển điện tử",
    "Số hóa",
    "Tái sử dụng",
    "Hài lòng",
];

fn cells(g: &Group) -> Vec<String> {
    let c = &g.counts;
    let r = &g.rates;
    vec![
        count(c.received),
        count(c.received_online),
        count(c.finished()),
        count(c.finished_early),
        count(c.finished_on_time),
        count(c.finished_late),
        pct(r.on_time_rate),
        pct(r.online_rate),
        pct(r.electronic_handover_rate),
        pct(r.digitisation_rate),
        pct(r.reuse_rate),
        pct(r.satisfaction_rate),
    ]
}

/// "03/2026" from the month key "2026-03".
fn month_label(key: &str) -> String {
    match key.split_once('-') {
        Some((y, m)) => format!("{m}/{y}"),
        None => key.to_string(),
    }
}

fn group_name(app: &crate::app::App, g: &Group, by: GroupBy) -> String {
    match by {
        GroupBy::Month => format!("Tháng {}", month_label(&g.key)),
        _ => g
            .name
            .clone()
            .or_else(|| app.agencies.get(&g.key).map(|a| a.name.clone()))
            .unwrap_or_else(|| g.key.clone()),
    }
}

/// An agency's short name for a chart's axis.
fn short_name(app: &crate::app::App, g: &Group) -> String {
    app.agencies
        .get(&g.key)
        .and_then(|a| a.short_name.clone().or_else(|| Some(a.name.clone())))
        .or_else(|| g.name.clone())
        .unwrap_or_else(|| g.key.clone())
}

/// The on-time target of the report's agency (the plan's 100 %), for the chart's line.
fn target_of(report: &IndicatorReport, indicator: &str) -> Option<f64> {
    report
        .total
        .targets
        .iter()
        .find(|t| t.indicator == indicator)
        .map(|t| t.target)
}

fn figures(
    app: &crate::app::App,
    by_agency: &IndicatorReport,
    by_month: &IndicatorReport,
) -> Vec<Figure> {
    let agencies: Vec<&Group> = by_agency.groups.iter().collect();
    let months: Vec<&Group> = by_month.groups.iter().collect();
    let agency_rows = |f: &dyn Fn(&Group) -> Vec<String>| -> Vec<Row> {
        agencies
            .iter()
            .map(|g| Row {
                key: g.key.clone(),
                name: group_name(app, g, GroupBy::Agency),
                cells: f(g),
            })
            .collect()
    };
    let month_rows = |f: &dyn Fn(&Group) -> Vec<String>| -> Vec<Row> {
        months
            .iter()
            .map(|g| Row {
                key: g.key.clone(),
                name: format!("Tháng {}", month_label(&g.key)),
                cells: f(g),
            })
            .collect()
    };
    let on_time_target = target_of(by_agency, "on_time_rate");
    let mut out = Vec::new();

    // 1. On-time rate by agency, against the target line.
    out.push(Figure {
        id: "bd-dung-han".into(),
        heading: "Tỷ lệ trả kết quả đúng hạn theo cơ quan".into(),
        svg: charts::bar_chart(&Chart {
            id: "bd-dung-han".into(),
            title: "Tỷ lệ trả kết quả đúng hạn, trước hạn theo cơ quan".into(),
            description: "Mỗi thanh là tỷ lệ hồ sơ trả kết quả đúng hạn, trước hạn của một cơ quan; đường nét đứt là chỉ tiêu của Kế hoạch.".into(),
            categories: agencies.iter().map(|g| short_name(app, g)).collect(),
            series: vec![Series {
                name: "Tỷ lệ đúng hạn".into(),
                values: agencies.iter().map(|g| g.rates.on_time_rate).collect(),
                class: "s1",
            }],
            unit: Unit::Percent,
            target: on_time_target.map(|t| (format!("Chỉ tiêu {}", charts::format_percent(t)), t)),
        }),
        note: match on_time_target {
            Some(t) => format!("Đường nét đứt: chỉ tiêu {} hồ sơ trả kết quả đúng hạn, trước hạn.", charts::format_percent(t)),
            None => String::new(),
        },
        columns: vec![
            "Đã giải quyết".into(),
            "Trước hạn".into(),
            "Đúng hạn".into(),
            "Quá hạn".into(),
            "Tỷ lệ đúng hạn".into(),
        ],
        rows: agency_rows(&|g| {
            vec![
                count(g.counts.finished()),
                count(g.counts.finished_early),
                count(g.counts.finished_on_time),
                count(g.counts.finished_late),
                pct(g.rates.on_time_rate),
            ]
        }),
    });

    // 2. The monthly trend.
    out.push(Figure {
        id: "bd-xu-huong".into(),
        heading: "Xu hướng theo tháng".into(),
        svg: charts::line_chart(&Chart {
            id: "bd-xu-huong".into(),
            title: "Tỷ lệ đúng hạn và tỷ lệ trực tuyến theo tháng".into(),
            description: "Hai đường: tỷ lệ hồ sơ trả đúng hạn, trước hạn và tỷ lệ hồ sơ tiếp nhận trực tuyến, mỗi tháng của kỳ báo cáo.".into(),
            categories: months.iter().map(|g| month_label(&g.key)).collect(),
            series: vec![
                Series {
                    name: "Tỷ lệ đúng hạn".into(),
                    values: months.iter().map(|g| g.rates.on_time_rate).collect(),
                    class: "s1",
                },
                Series {
                    name: "Tỷ lệ trực tuyến".into(),
                    values: months.iter().map(|g| g.rates.online_rate).collect(),
                    class: "s2",
                },
            ],
            unit: Unit::Percent,
            target: None,
        }),
        note: "Tháng chưa có hồ sơ giải quyết không có điểm trên đường.".into(),
        columns: vec![
            "Tiếp nhận".into(),
            "Đã giải quyết".into(),
            "Tỷ lệ đúng hạn".into(),
            "Tỷ lệ trực tuyến".into(),
        ],
        rows: month_rows(&|g| {
            vec![
                count(g.counts.received),
                count(g.counts.finished()),
                pct(g.rates.on_time_rate),
                pct(g.rates.online_rate),
            ]
        }),
    });

    // 3. Channels of receipt, by month.
    out.push(Figure {
        id: "bd-kenh".into(),
        heading: "Kênh tiếp nhận hồ sơ".into(),
        svg: charts::bar_chart(&Chart {
            id: "bd-kenh".into(),
            title: "Hồ sơ tiếp nhận theo kênh, theo tháng".into(),
            description: "Số hồ sơ tiếp nhận trực tiếp tại Bộ phận Một cửa, trực tuyến và qua bưu chính công ích, mỗi tháng.".into(),
            categories: months.iter().map(|g| month_label(&g.key)).collect(),
            series: vec![
                Series {
                    name: "Trực tiếp".into(),
                    values: months.iter().map(|g| Some(g.counts.received_counter as f64)).collect(),
                    class: "s1",
                },
                Series {
                    name: "Trực tuyến".into(),
                    values: months.iter().map(|g| Some(g.counts.received_online as f64)).collect(),
                    class: "s2",
                },
                Series {
                    name: "Bưu chính".into(),
                    values: months.iter().map(|g| Some(g.counts.received_post as f64)).collect(),
                    class: "s3",
                },
            ],
            unit: Unit::Count,
            target: None,
        }),
        note: String::new(),
        columns: vec![
            "Trực tiếp".into(),
            "Trực tuyến".into(),
            "Bưu chính".into(),
            "Tổng".into(),
        ],
        rows: month_rows(&|g| {
            vec![
                count(g.counts.received_counter),
                count(g.counts.received_online),
                count(g.counts.received_post),
                count(g.counts.received),
            ]
        }),
    });

    // 4. Electronic hand-overs, digitisation and reuse, by agency.
    out.push(Figure {
        id: "bd-chuyen-doi-so".into(),
        heading: "Luân chuyển điện tử, số hóa và tái sử dụng dữ liệu".into(),
        svg: charts::bar_chart(&Chart {
            id: "bd-chuyen-doi-so".into(),
            title: "Tỷ lệ luân chuyển điện tử, số hóa hồ sơ và tái sử dụng dữ liệu theo cơ quan".into(),
            description: "Ba thanh mỗi cơ quan: tỷ lệ lượt luân chuyển bằng phương thức điện tử, tỷ lệ hồ sơ được số hóa và tỷ lệ hồ sơ tái sử dụng dữ liệu đã số hóa.".into(),
            categories: agencies.iter().map(|g| short_name(app, g)).collect(),
            series: vec![
                Series {
                    name: "Luân chuyển điện tử".into(),
                    values: agencies.iter().map(|g| g.rates.electronic_handover_rate).collect(),
                    class: "s1",
                },
                Series {
                    name: "Số hóa hồ sơ".into(),
                    values: agencies.iter().map(|g| g.rates.digitisation_rate).collect(),
                    class: "s2",
                },
                Series {
                    name: "Tái sử dụng dữ liệu".into(),
                    values: agencies.iter().map(|g| g.rates.reuse_rate).collect(),
                    class: "s3",
                },
            ],
            unit: Unit::Percent,
            target: None,
        }),
        note: match (
            target_of(by_agency, "electronic_handover_rate"),
            target_of(by_agency, "digitisation_rate"),
        ) {
            (Some(e), Some(d)) => format!(
                "Chỉ tiêu của Kế hoạch: luân chuyển điện tử tối thiểu {}, số hóa {}.",
                charts::format_percent(e),
                charts::format_percent(d)
            ),
            _ => String::new(),
        },
        columns: vec![
            "Lượt luân chuyển".into(),
            "Luân chuyển điện tử".into(),
            "Tỷ lệ luân chuyển điện tử".into(),
            "Tỷ lệ số hóa".into(),
            "Tỷ lệ tái sử dụng".into(),
        ],
        rows: agency_rows(&|g| {
            vec![
                count(g.counts.handovers_total),
                count(g.counts.handovers_electronic),
                pct(g.rates.electronic_handover_rate),
                pct(g.rates.digitisation_rate),
                pct(g.rates.reuse_rate),
            ]
        }),
    });
    out
}

fn tiles(report: &IndicatorReport) -> Vec<Tile> {
    report
        .total
        .targets
        .iter()
        .map(|t| {
            let (state, verdict) = match (t.value, t.met) {
                (None, _) => ("none", "Chưa có số liệu trong kỳ".to_string()),
                (Some(_), true) => ("met", "Đạt chỉ tiêu".to_string()),
                (Some(_), false) => (
                    "short",
                    format!(
                        "Chưa đạt: còn thiếu {} điểm %",
                        charts::format_decimal(t.gap.unwrap_or_default())
                    ),
                ),
            };
            Tile {
                label: indicator_label(&t.indicator),
                value: pct(t.value),
                target: format!("Chỉ tiêu: tối thiểu {}", charts::format_percent(t.target)),
                state,
                verdict,
                source: t.source.clone().unwrap_or_default(),
            }
        })
        .collect()
}

fn scores(report: &IndicatorReport) -> (Vec<ScoreRow>, String, String, bool) {
    let rows = report
        .qd766
        .iter()
        .map(|s| ScoreRow {
            code: s.code.clone(),
            label: indicator_label(&s.indicator),
            value: pct(s.value),
            target: charts::format_percent(s.target),
            points: charts::format_decimal(s.points),
            score: s
                .score
                .map(charts::format_decimal)
                .unwrap_or_else(|| "—".into()),
        })
        .collect();
    let total: f64 = report.qd766.iter().filter_map(|s| s.score).sum();
    let max: f64 = report.qd766.iter().map(|s| s.points).sum();
    let sample = report.qd766.iter().any(|s| s.sample);
    (
        rows,
        charts::format_decimal(total),
        charts::format_decimal(max),
        sample,
    )
}

/// The address of the dashboard's filters (for the quick periods and the exports).
fn query_string(f: &Filters, from: NaiveDate, to: NaiveDate) -> String {
    format!(
        "co-quan={}&tu={}&den={}&cap-duoi={}&nhom={}",
        super::encode(&f.agency),
        from,
        to,
        if f.descendants { "co" } else { "khong" },
        group_slug(f.group_by)
    )
}

/// The three reports the page needs (the chosen grouping, by agency, by month), read at
/// once on blocking threads; one is reused when the grouping is already one of the two.
async fn reports(
    who: &Staff,
    f: &Filters,
) -> WebResult<AppResult<(IndicatorReport, IndicatorReport, IndicatorReport)>> {
    let now = who.app.clock.now();
    let query = |g: GroupBy| IndicatorQuery {
        agency: Some(f.agency.clone()),
        from: f.from,
        to: f.to,
        descendants: f.descendants,
        group_by: g,
        recompute: false,
    };
    let run = |g: GroupBy| {
        let a = who.app.get_ref().clone();
        let c = who.caller.clone();
        let q = query(g);
        crate::http::block(move || a.indicators(&c, &q, now))
    };
    let main = run(f.group_by);
    let agency = (f.group_by != GroupBy::Agency).then(|| run(GroupBy::Agency));
    let month = (f.group_by != GroupBy::Month).then(|| run(GroupBy::Month));
    let (main, agency, month) = futures_util::future::join3(
        main,
        async {
            match agency {
                Some(x) => Some(x.await),
                None => None,
            }
        },
        async {
            match month {
                Some(x) => Some(x.await),
                None => None,
            }
        },
    )
    .await;
    let main = match main? {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let agency = match agency.transpose()?.transpose() {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let month = match month.transpose()?.transpose() {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let by_agency = agency.unwrap_or_else(|| main.clone());
    let by_month = month.unwrap_or_else(|| main.clone());
    Ok(Ok((main, by_agency, by_month)))
}

/// `GET /bao-cao`: the dashboard for the filters in the address.
pub async fn page(who: Staff, q: web::Query<DashQuery>) -> WebResult<HttpResponse> {
    let app = who.app.clone();
    let offset = app.settings.offset;
    let today = app.clock.now().with_timezone(&offset).date_naive();
    let mut f = filters(&who.caller, &q, today);
    let scope: Vec<&crate::core::catalogue::Agency> = app.agencies.descendants(&who.caller.agency);
    if !scope.iter().any(|a| a.code == f.agency) {
        f.errors.push((
            "co-quan",
            "Cơ quan này nằm ngoài phạm vi của tài khoản".into(),
        ));
        f.agency = who.caller.agency.clone();
    }
    let mut status = StatusCode::OK;
    let mut report = None;
    if f.errors.is_empty() {
        match reports(&who, &f).await? {
            Ok(r) => report = Some(r),
            Err(e) if e.kind == crate::error::ErrorKind::Forbidden => {
                return Err(e.into());
            }
            Err(e) if matches!(e.kind, crate::error::ErrorKind::BadRequest) => {
                f.errors.push(("tu", e.message));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !f.errors.is_empty() {
        status = StatusCode::BAD_REQUEST;
    }
    // Depth of each agency below the caller's, for the indented list.
    let depth = |code: &str| {
        let mut d = 0;
        let mut at = app.agencies.get(code);
        while let Some(a) = at {
            if a.code == who.caller.agency {
                break;
            }
            d += 1;
            at = a.parent.as_deref().and_then(|p| app.agencies.get(p));
        }
        d
    };
    let agencies = scope
        .iter()
        .map(|a| Option_ {
            value: a.code.clone(),
            label: format!("{}{}", "— ".repeat(depth(&a.code)), a.name),
            selected: a.code == f.agency,
        })
        .collect();
    let groupings = GROUPINGS
        .iter()
        .map(|(v, l)| Option_ {
            value: v.to_string(),
            label: l.to_string(),
            selected: *v == group_slug(f.group_by),
        })
        .collect();
    let month_start = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let last_month_end = month_start.pred_opt().unwrap_or(month_start);
    let last_month_start =
        NaiveDate::from_ymd_opt(last_month_end.year(), last_month_end.month(), 1)
            .unwrap_or(last_month_end);
    let quarter_start =
        NaiveDate::from_ymd_opt(today.year(), (today.month0() / 3) * 3 + 1, 1).unwrap_or(today);
    let year_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let last_year_end = year_start.pred_opt().unwrap_or(year_start);
    let last_year_start =
        NaiveDate::from_ymd_opt(last_year_end.year(), 1, 1).unwrap_or(last_year_end);
    let quick = [
        ("Tháng này", month_start, today),
        ("Tháng trước", last_month_start, last_month_end),
        ("Quý này", quarter_start, today),
        ("Từ đầu năm", year_start, today),
        ("Năm trước", last_year_start, last_year_end),
    ]
    .into_iter()
    .map(|(l, a, b)| {
        (
            l.to_string(),
            format!("/bao-cao?{}", query_string(&f, a, b)),
        )
    })
    .collect();
    let agency_name = app
        .agencies
        .get(&f.agency)
        .map(|a| a.name.clone())
        .unwrap_or_else(|| f.agency.clone());
    let q = query_string(&f, f.from, f.to);
    let exports = vec![
        Export {
            label: "Bảng chỉ tiêu (Excel)",
            hint: "XLSX, các nhóm và định nghĩa chỉ tiêu",
            href: format!("/bao-cao/chi-tieu.xlsx?{q}"),
        },
        Export {
            label: "Bảng chỉ tiêu (CSV)",
            hint: "UTF-8, một dòng mỗi nhóm",
            href: format!("/bao-cao/chi-tieu.csv?{q}"),
        },
        Export {
            label: "Báo cáo (PDF)",
            hint: "để in, ký và gửi",
            href: format!("/bao-cao/chi-tieu.pdf?{q}"),
        },
        Export {
            label: "Sổ theo dõi hồ sơ (Excel)",
            hint: "mẫu số 01 TT 01/2018, cơ quan tiếp nhận đã chọn",
            href: format!("/bao-cao/so-theo-doi.xlsx?{q}"),
        },
    ];
    let mut page = DashboardPage {
        frame: who
            .frame("Báo cáo chỉ tiêu", "/bao-cao")
            .crumb("Báo cáo chỉ tiêu", "/bao-cao"),
        agency_name,
        period: format!(
            "{} – {}",
            f.from.format("%d/%m/%Y"),
            f.to.format("%d/%m/%Y")
        ),
        scope_words: if f.descendants {
            "gồm các cơ quan trực thuộc"
        } else {
            "riêng cơ quan này"
        },
        agencies,
        groupings,
        from: f.from.to_string(),
        to: f.to.to_string(),
        below: f.descendants,
        quick,
        errors: f.errors.clone(),
        tiles: Vec::new(),
        scores: Vec::new(),
        score_total: String::new(),
        score_max: String::new(),
        scores_sample: false,
        group_heading: GROUPINGS
            .iter()
            .find(|(v, _)| *v == group_slug(f.group_by))
            .map(|(_, l)| l.to_string())
            .unwrap_or_default(),
        columns: COLUMNS.to_vec(),
        rows: Vec::new(),
        total: None,
        figures: Vec::new(),
        exports,
        has_report: false,
    };
    if let Some((main, by_agency, by_month)) = report {
        page.tiles = tiles(&main);
        (
            page.scores,
            page.score_total,
            page.score_max,
            page.scores_sample,
        ) = scores(&main);
        page.rows = main
            .groups
            .iter()
            .map(|g| Row {
                key: g.key.clone(),
                name: group_name(&app, g, f.group_by),
                cells: cells(g),
            })
            .collect();
        page.total = Some(Row {
            key: "total".into(),
            name: "Tổng cộng".into(),
            cells: cells(&main.total),
        });
        page.figures = figures(&app, &by_agency, &by_month);
        page.has_report = true;
    }
    Ok(render_status(status, &page))
}

/// What the export handlers need: the checked filters, or the page's error.
fn export_query(who: &Staff, q: &DashQuery) -> Result<(Filters, IndicatorQuery), AppError> {
    let today = who
        .app
        .clock
        .now()
        .with_timezone(&who.app.settings.offset)
        .date_naive();
    let f = filters(&who.caller, q, today);
    if let Some((_, m)) = f.errors.first() {
        return Err(AppError::bad_request("invalid_period", m.clone()));
    }
    let iq = IndicatorQuery {
        agency: Some(f.agency.clone()),
        from: f.from,
        to: f.to,
        descendants: f.descendants,
        group_by: f.group_by,
        recompute: false,
    };
    Ok((f, iq))
}

fn stem(f: &Filters) -> String {
    format!("chi-tieu-{}-{}-{}", f.agency, f.from, f.to)
}

/// `GET /bao-cao/chi-tieu.{xlsx,csv,pdf}`: the indicators of the dashboard's filters, as
/// `GET /api/v1/reports/indicators.{xlsx,csv,pdf}` gives them.
pub async fn export(
    who: Staff,
    path: web::Path<String>,
    q: web::Query<DashQuery>,
) -> WebResult<HttpResponse> {
    let (f, iq) = export_query(&who, &q)?;
    let kind = path.into_inner();
    let a = who.app.get_ref().clone();
    let c = who.caller.clone();
    let now = a.clock.now();
    let (bytes, ct) = match kind.as_str() {
        "xlsx" => (
            crate::http::block(move || a.indicators_xlsx(&c, &iq, now)).await??,
            XLSX,
        ),
        "csv" => (
            crate::http::block(move || a.indicators_csv(&c, &iq, now)).await??,
            CSV,
        ),
        "pdf" => (
            crate::http::block(move || a.indicators_pdf(&c, &iq, now)).await??,
            PDF,
        ),
        _ => return Err(AppError::not_found().into()),
    };
    Ok(download(bytes, ct, &format!("{}.{kind}", stem(&f))))
}

/// `GET /bao-cao/so-theo-doi.xlsx`: the tracking book of the chosen agency over the period.
pub async fn tracking_book(who: Staff, q: web::Query<DashQuery>) -> WebResult<HttpResponse> {
    let (f, _) = export_query(&who, &q)?;
    let query = crate::service::exports::BookQuery {
        agency: Some(f.agency.clone()),
        from: f.from,
        to: f.to,
    };
    let a = who.app.get_ref().clone();
    let c = who.caller.clone();
    let now = a.clock.now();
    let (book, bytes) = crate::http::block(move || a.tracking_book_xlsx(&c, &query, now)).await??;
    Ok(download(
        bytes,
        XLSX,
        &format!(
            "so-theo-doi-ho-so-{}-{}-{}.xlsx",
            book.agency, book.from, book.to
        ),
    ))
}

/// Who sees the dashboard in the navigation: those whose work is the figures.
pub fn in_nav(role: Role) -> bool {
    matches!(role, Role::Leader | Role::Inspector | Role::Admin)
}
