//! Liveness.

use std::time::Duration;

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

use super::openapi::ErrorBody;
use super::{blocking, AppData};
use crate::error::AppError;

/// This module's part of the API description (`/metrics` is for the monitoring, not
/// described).
#[derive(utoipa::OpenApi)]
#[openapi(paths(healthz))]
pub(super) struct Doc;

/// The server is up and its database answers.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` (otherwise the answer is a `503`).
    pub status: &'static str,
    /// The database in use: `sqlite` or `postgres`.
    pub database: &'static str,
    /// The server's version.
    pub version: &'static str,
    /// How many milliseconds ago the health monitor's last ping was answered; `null`
    /// without a monitor or before its first answer.
    pub last_answer_ms: Option<u64>,
}

/// The longest `/healthz` waits on its own ping when no monitor runs.
const PING_TIMEOUT: Duration = Duration::from_millis(900);

/// Liveness
///
/// `200` when the database answers, `503` otherwise, within a second whatever the other
/// requests are doing: for a load balancer or a supervisor. The server answers from its
/// health monitor (a thread with its own connection), never from the pool; without a
/// monitor it pings once, bounded by 0.9 s. No account needed; never cached. Outside
/// `/api/v1`.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "system",
    responses(
        (status = 200, description = "Up, the database answering.", body = Health,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 503, description = "`database_unavailable`: the database does not answer (or not within 0.9 s); try again after `Retry-After` seconds.", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again."))),
    ),
)]
pub async fn healthz(app: AppData) -> Result<HttpResponse, super::error::ApiError> {
    let healthy = match app.store.health().healthy() {
        Some(h) => h,
        None => {
            let a = app.get_ref().clone();
            let ping = blocking(move || a.store.ping().map_err(Into::into));
            matches!(
                actix_web::rt::time::timeout(PING_TIMEOUT, ping).await,
                Ok(Ok(()))
            )
        }
    };
    if !healthy {
        return Err(AppError::unavailable());
    }
    let last = app.store.health().last_answer();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Health {
            status: "ok",
            database: app.store.backend().as_str(),
            version: env!("CARGO_PKG_VERSION"),
            last_answer_ms: last.map(|d| d.as_millis() as u64),
        }))
}

/// `GET /metrics` on the public listener: served only with `[metrics] public = true`;
/// otherwise it answers as an unknown address.
pub async fn metrics_public(app: AppData) -> Result<HttpResponse, super::error::ApiError> {
    if !app.settings.metrics_public {
        return Err(super::error::ApiError::new(
            crate::error::ErrorKind::NotFound,
            "not_found",
            "Không tìm thấy địa chỉ yêu cầu",
        ));
    }
    metrics(app).await
}

/// `GET /metrics`: the Prometheus text format, the pool and outbox gauges read now (the
/// outbox's count left out, not failed, while the database does not answer).
pub async fn metrics(app: AppData) -> Result<HttpResponse, super::error::ApiError> {
    let a = app.get_ref().clone();
    let outbox = blocking(move || a.store.outbox_depth().map_err(Into::into))
        .await
        .ok();
    let text = app.metrics.render(app.store.pool_gauges(), outbox);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(text))
}
