//! Liveness.

use std::time::Duration;

use actix_web::HttpResponse;
use serde_json::json;

use super::{blocking, AppData};
use crate::error::AppError;

/// The longest `/healthz` waits on its own ping when no monitor runs.
const PING_TIMEOUT: Duration = Duration::from_millis(900);

/// `GET /healthz`: 200 when the database answers, `503 database_unavailable` otherwise,
/// within a second whatever the other requests are doing. The server answers from its
/// health monitor (a thread with its own connection, see [`crate::store::health`]), never
/// from the pool; without a monitor it pings once, bounded by 0.9 s.
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
        .json(json!({
            "status": "ok",
            "database": app.store.backend().as_str(),
            "version": env!("CARGO_PKG_VERSION"),
            "last_answer_ms": last.map(|d| d.as_millis() as u64),
        })))
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
