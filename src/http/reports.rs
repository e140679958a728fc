//! Reports: indicators for staff, the monthly public disclosure for everyone.

use std::borrow::Cow;
use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use super::auth::Authenticated;
use super::error::ApiResult;
use super::files::NamedAgency;
use super::openapi::ErrorBody;
use super::{blocking, AppData};
use crate::core::indicators::{Counts, Definition, Rates, DEFINITIONS};
use crate::service::exports::{COUNT_COLUMNS, RATE_COLUMNS};
use crate::service::notify::NotificationReport;
use crate::service::reports::IndicatorReport;

/// This module's part of the API description.
#[derive(utoipa::OpenApi)]
#[openapi(paths(indicators, notifications, public_stats))]
pub(super) struct Doc;

// The indicators' counts, rates and definitions live in the pure core, which knows nothing
// of HTTP: their schemas are written here, from the tables the exports use
// (`COUNT_COLUMNS`, `RATE_COLUMNS`, held to the fields of `Counts` and `Rates` by a test
// of `service::exports`) and the definitions (`DEFINITIONS`).

impl PartialSchema for Counts {
    fn schema() -> RefOr<Schema> {
        let mut o = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "The raw counts of one group: dossiers, acts, hand-overs, ratings and \
                 petitions over the period (whole numbers). Each field's description is \
                 the column's Vietnamese header in the exports.",
            ));
        for (name, label) in COUNT_COLUMNS {
            o = o
                .property(
                    *name,
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                        .description(Some(*label)),
                )
                .required(*name);
        }
        o.into()
    }
}

impl ToSchema for Counts {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("IndicatorCounts")
    }
}

impl PartialSchema for Rates {
    fn schema() -> RefOr<Schema> {
        let mut o = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "The rates of one group, in percent with two decimals (the average \
                 handling time in working days); `null` when the denominator is zero. \
                 Each field's description is the column's Vietnamese header, with its \
                 formula and source where `definitions` has them.",
            ));
        for (name, label) in RATE_COLUMNS {
            let text = match DEFINITIONS.iter().find(|d| d.name == *name) {
                Some(d) => format!("{label}: {} ({})", d.formula, d.source),
                None => label.to_string(),
            };
            o = o
                .property(
                    *name,
                    ObjectBuilder::new()
                        .schema_type(
                            [Type::Number, Type::Null]
                                .into_iter()
                                .collect::<SchemaType>(),
                        )
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
                        .description(Some(text)),
                )
                .required(*name);
        }
        o.into()
    }
}

impl ToSchema for Rates {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("IndicatorRates")
    }
}

impl PartialSchema for Definition {
    fn schema() -> RefOr<Schema> {
        let text = |d: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(d))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("One indicator's definition."))
            .property(
                "name",
                text("The rate's field name in `rates`, e.g. `on_time_rate`."),
            )
            .property(
                "formula",
                text("How it is computed from the counts' field names."),
            )
            .property("source", text("The legal or planning text it comes from."))
            .required("name")
            .required("formula")
            .required("source")
            .into()
    }
}

impl ToSchema for Definition {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("IndicatorDefinition")
    }
}

/// The indicator report with the definitions of its rates.
#[derive(Serialize, ToSchema)]
pub struct IndicatorsBody {
    /// The report itself (its fields at the top level).
    #[serde(flatten)]
    pub report: IndicatorReport,
    /// How each rate is computed and where it comes from.
    #[schema(value_type = Vec<Definition>)]
    pub definitions: &'static [Definition],
}

/// One agency's figures of the monthly public disclosure.
#[derive(Serialize, ToSchema)]
pub struct PublicAgencyStats {
    /// The agency counted.
    pub agency: NamedAgency,
    /// Dossiers received in the month.
    pub received: i64,
    /// Of them, received online.
    pub received_online: i64,
    /// Dossiers whose result was returned in the month: early, on time or late.
    pub finished: i64,
    /// Of them, returned on a day before their due day (trước hạn).
    pub finished_early: i64,
    /// On their due day, by the due moment (đúng hạn).
    pub finished_on_time: i64,
    /// After the due moment, or after more than one supplement request (quá hạn, QĐ 766
    /// 2.1).
    pub finished_late: i64,
    /// (early + on time) ÷ finished, in percent (two decimals); `null` when none finished.
    pub on_time_rate: Option<f64>,
    /// Received online ÷ received, in percent; `null` when none was received.
    pub online_rate: Option<f64>,
}

/// The monthly public disclosure (công khai kết quả giải quyết).
#[derive(Serialize, ToSchema)]
pub struct PublicStats {
    /// The month, `YYYY-MM`, as asked.
    pub month: String,
    /// One per agency with dossiers counted in the month, ordered by agency code.
    pub agencies: Vec<PublicAgencyStats>,
}

/// The indicators
///
/// The indicators of an agency's dossiers over a period (chỉ số đánh giá, QĐ 766/QĐ-TTg
/// and the provincial plan): counts, rates and the targets of each group and of the
/// total, the catalogue figures, the QĐ 766 scores, and the definitions of the rates.
/// Staff of every role may read the agencies of their scope. Counted from the daily
/// rollup (or, with `source=recompute`, from every dossier: slower, for checking; the
/// two agree); a report counted within the last `web.report_cache_s` seconds, in the same
/// minute and with no write since, is answered again. The same report is exported as
/// `indicators.xlsx`, `indicators.csv` and `indicators.pdf`.
#[utoipa::path(
    get,
    path = "/api/v1/reports/indicators",
    tag = "reports",
    params(super::exports::IndicatorParams),
    responses(
        (status = 200, description = "The report.", body = IndicatorsBody),
        (status = 400, description = super::exports::INDICATOR_400, body = ErrorBody),
        (status = 403, description = super::exports::INDICATOR_403, body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
pub async fn indicators(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let query = super::exports::parse_indicator_query(&q)?;
    let a = app.get_ref().clone();
    let report = blocking(move || a.indicators(&who.0, &query, a.clock.now())).await?;
    Ok(HttpResponse::Ok().json(IndicatorsBody {
        report,
        definitions: DEFINITIONS,
    }))
}

/// Notified against not reachable
///
/// The notifications (thông báo, issue #17) about the dossiers received by an agency (and
/// those below it) written within a period, by state: sent, pending, parked and without
/// an address (không liên lạc được), with the share that had an address. Staff of every
/// role, for the agencies of their scope. Takes the parameters of `/reports/indicators`;
/// `group_by` and `source` are checked but change nothing here.
#[utoipa::path(
    get,
    path = "/api/v1/reports/notifications",
    tag = "reports",
    params(
        ("from" = chrono::NaiveDate, Query, description = "The period's first day, `YYYY-MM-DD` (local), required."),
        ("to" = chrono::NaiveDate, Query, description = "The period's last day, included, `YYYY-MM-DD`, required."),
        ("agency" = Option<String>, Query, description = "The agency's code; default: the caller's agency. It must be in the caller's scope."),
        ("descendants" = Option<bool>, Query, description = "`true` (the default) to count the agencies below it too, `false` for the agency alone."),
        ("group_by" = Option<String>, Query, description = "Checked as for `/reports/indicators` (`agency`, `procedure`, `month`, `level`); no effect here."),
        ("source" = Option<String>, Query, description = "Checked as for `/reports/indicators` (`rollup`, `recompute`); no effect here."),
    ),
    responses(
        (status = 200, description = "The counts.", body = NotificationReport),
        (status = 400, description = "`invalid_period`: `from` or `to` missing or not a date; `invalid_group_by`, `invalid_descendants`, `invalid_source`: a value not listed; `invalid_agency`: no such agency.", body = ErrorBody),
        (status = 403, description = super::exports::INDICATOR_403, body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
pub async fn notifications(
    app: AppData,
    who: Authenticated,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let query = super::exports::parse_indicator_query(&q)?;
    let a = app.get_ref().clone();
    let report = blocking(move || a.notification_report(&who.0, &query)).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The monthly public disclosure
///
/// For every agency of the province with dossiers counted in a month: received (online
/// among them), finished early, on time and late, and the on-time and online rates. No
/// personal data; no account needed. Cached by shared caches for five minutes.
#[utoipa::path(
    get,
    path = "/api/v1/public/stats",
    tag = "public",
    params(
        ("month" = String, Query, description = "The month, `YYYY-MM`, required."),
    ),
    responses(
        (status = 200, description = "The month's figures, by agency.", body = PublicStats,
            headers(("Cache-Control" = String, description = "`public, max-age=300`."))),
        (status = 400, description = "`invalid_month`: `month` missing or not `YYYY-MM`.", body = ErrorBody),
        (status = 404, description = "`not_found`: the query string holds a control character or a bidirectional override (under `/api/v1/public/`, the citizens' one answer instead of `invalid_text`).", body = ErrorBody),
    ),
)]
pub async fn public_stats(
    app: AppData,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let month = q.get("month").cloned().unwrap_or_default();
    let a = app.get_ref().clone();
    let m = month.clone();
    let groups = blocking(move || a.public_stats(m.trim(), a.clock.now())).await?;
    let agencies = groups
        .into_iter()
        .map(|g| PublicAgencyStats {
            agency: NamedAgency {
                code: g.key,
                name: g.name,
            },
            received: g.counts.received,
            received_online: g.counts.received_online,
            finished: g.counts.finished(),
            finished_early: g.counts.finished_early,
            finished_on_time: g.counts.finished_on_time,
            finished_late: g.counts.finished_late,
            on_time_rate: g.rates.on_time_rate,
            online_rate: g.rates.online_rate,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(PublicStats {
            month: month.trim().to_string(),
            agencies,
        }))
}
