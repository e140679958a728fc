//! Liveness.

use actix_web::HttpResponse;
use serde_json::json;

use super::{blocking, AppData};

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(app: AppData) -> Result<HttpResponse, super::error::ApiError> {
    let a = app.get_ref().clone();
    blocking(move || a.store.ping().map_err(Into::into)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "ok",
        "database": app.store.backend().as_str(),
        "version": env!("CARGO_PKG_VERSION"),
    })))
}
