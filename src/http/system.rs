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
