//! The HTTP layer (actix-web 4): small handlers that extract, authorise, call the
//! application and map the result. Diesel runs on actix's blocking pool, never on the
//! async executor.

pub mod auth;
mod calendar;
mod catalogue;
mod dossiers;
pub mod error;
pub(crate) mod exports;
pub(crate) mod files;
pub mod openapi;
mod petitions;
mod public;
mod reports;
mod system;

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App as ActixApp, HttpServer};
use chrono::{DateTime, FixedOffset, SecondsFormat};

use crate::app::App;
use error::ApiError;

/// Shared state of every handler.
pub type AppData = web::Data<Arc<App>>;

/// Formats a moment as RFC 3339 in the configured zone, e.g. `2026-02-24T17:00:00+07:00`.
pub fn rfc3339(t: DateTime<FixedOffset>, offset: FixedOffset) -> String {
    t.with_timezone(&offset)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Runs store work on the blocking pool.
pub async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    block(f).await?
}

/// [`web::block`] inside the caller's tracing span: what the blocking thread logs carries
/// the request's id like the rest of the request.
pub async fn block<T, F>(f: F) -> Result<T, actix_web::error::BlockingError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    web::block(move || span.in_scope(f)).await
}

/// Every route of the JSON API under `/api/v1`: method, path template and handler. The
/// scope is built from this table, and `tests/openapi.rs` holds it to the published
/// description ([`openapi::document`]): a route without its description fails the test.
fn api_routes() -> Vec<(Method, &'static str, actix_web::Route)> {
    use Method as M;
    const GET: M = M::GET;
    const POST: M = M::POST;
    vec![
        (GET, "/agencies", web::get().to(catalogue::agencies)),
        (GET, "/procedures", web::get().to(catalogue::procedures)),
        (
            GET,
            "/procedures/{code}",
            web::get().to(catalogue::procedure),
        ),
        (GET, "/calendar/due", web::get().to(calendar::due)),
        (GET, "/calendar/{year}", web::get().to(calendar::year)),
        (POST, "/auth/login", web::post().to(auth::login)),
        (POST, "/auth/token", web::post().to(auth::token)),
        (POST, "/dossiers", web::post().to(dossiers::create)),
        (GET, "/dossiers", web::get().to(dossiers::list)),
        (GET, "/dossiers/{code}", web::get().to(dossiers::get)),
        (
            GET,
            "/dossiers/{code}/forms/receipt.pdf",
            web::get().to(dossiers::receipt),
        ),
        (
            GET,
            "/dossiers/{code}/forms/{form}",
            web::get().to(dossiers::notice),
        ),
        (
            POST,
            "/dossiers/{code}/events",
            web::post().to(dossiers::event),
        ),
        (
            GET,
            "/dossiers/{code}/actions",
            web::get().to(dossiers::actions),
        ),
        (
            POST,
            "/dossiers/{code}/resubmit",
            web::post().to(dossiers::resubmit),
        ),
        (
            POST,
            "/dossiers/{code}/files",
            web::post().to(files::upload),
        ),
        (
            GET,
            "/dossiers/{code}/files/{id}",
            web::get().to(files::download),
        ),
        (
            GET,
            "/applicants/{id_number}/documents",
            web::get().to(files::applicant_documents),
        ),
        (
            GET,
            "/public/dossiers/{code}/results/{document_id}",
            web::get().to(files::public_result),
        ),
        (GET, "/queue", web::get().to(dossiers::queue)),
        (
            GET,
            "/reports/indicators",
            web::get().to(reports::indicators),
        ),
        (
            GET,
            "/reports/notifications",
            web::get().to(reports::notifications),
        ),
        (
            GET,
            "/reports/indicators.xlsx",
            web::get().to(exports::indicators_xlsx),
        ),
        (
            GET,
            "/reports/indicators.csv",
            web::get().to(exports::indicators_csv),
        ),
        (
            GET,
            "/reports/indicators.pdf",
            web::get().to(exports::indicators_pdf),
        ),
        (
            GET,
            "/reports/tracking-book.xlsx",
            web::get().to(exports::tracking_book),
        ),
        (
            GET,
            "/reports/raw/dossiers.csv",
            web::get().to(exports::raw_dossiers),
        ),
        (
            GET,
            "/reports/raw/handovers.csv",
            web::get().to(exports::raw_handovers),
        ),
        (
            GET,
            "/reports/raw/deadline_acts.csv",
            web::get().to(exports::raw_acts),
        ),
        (GET, "/public/stats", web::get().to(reports::public_stats)),
        (
            GET,
            "/portal/changes",
            web::get().to(dossiers::portal_changes),
        ),
        (POST, "/intake/guidance", web::post().to(dossiers::guidance)),
        (POST, "/intake/refusal", web::post().to(dossiers::refusal)),
        (
            GET,
            "/public/dossiers/{code}",
            web::get().to(public::lookup),
        ),
        (
            POST,
            "/public/dossiers/{code}/rating",
            web::post().to(public::rate),
        ),
        (POST, "/public/petitions", web::post().to(petitions::submit)),
        (
            GET,
            "/public/petitions/{code}",
            web::get().to(petitions::status),
        ),
        (GET, "/petitions", web::get().to(petitions::queue)),
        (GET, "/petitions/{code}", web::get().to(petitions::get)),
        (
            POST,
            "/petitions/{code}/events",
            web::post().to(petitions::event),
        ),
        (GET, "/openapi.json", web::get().to(openapi::serve)),
    ]
}

/// Every HTTP module's part of the API description ([`openapi::document`] merges them).
fn openapi_parts() -> Vec<utoipa::openapi::OpenApi> {
    use utoipa::OpenApi;
    vec![
        catalogue::Doc::openapi(),
        calendar::Doc::openapi(),
        auth::Doc::openapi(),
        public::Doc::openapi(),
        petitions::Doc::openapi(),
        files::Doc::openapi(),
        exports::Doc::openapi(),
        reports::Doc::openapi(),
        system::Doc::openapi(),
        dossiers::Doc::openapi(),
    ]
}

/// The method and path template of every route of the JSON API, as served (with the
/// `/api/v1` prefix).
pub fn api_route_list() -> Vec<(String, String)> {
    api_routes()
        .into_iter()
        .map(|(m, p, _)| (m.to_string(), format!("/api/v1{p}")))
        .collect()
}

/// Routes of the whole API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(|e, _| {
        ApiError::bad_request(
            "invalid_query",
            format!("Tham số truy vấn không hợp lệ: {e}"),
        )
        .into()
    }))
    .app_data(
        web::JsonConfig::default()
            .limit(1 << 20)
            .error_handler(|e, _| {
                ApiError::bad_request("invalid_json", format!("Nội dung JSON không hợp lệ: {e}"))
                    .into()
            }),
    )
    .app_data(web::PathConfig::default().error_handler(|e, _| {
        ApiError::bad_request("invalid_path", format!("Đường dẫn không hợp lệ: {e}")).into()
    }))
    .route("/healthz", web::get().to(system::healthz))
    .route("/metrics", web::get().to(system::metrics_public))
    .service({
        let mut scope = web::scope("/api/v1")
            .wrap(from_fn(reject_hostile_text))
            .wrap(from_fn(guard_database));
        for (_, path, route) in api_routes() {
            scope = scope.route(path, route);
        }
        scope
    })
    .configure(crate::web::configure)
    .default_service(web::to(|| async {
        Err::<actix_web::HttpResponse, _>(ApiError::new(
            error::ErrorKind::NotFound,
            "not_found",
            "Không tìm thấy địa chỉ yêu cầu",
        ))
    }));
}

/// Refuses a request whose path or query string, once percent-decoded, holds a character
/// the text rule refuses (`core::text`: control characters, NUL included, and
/// bidirectional overrides): 400 `invalid_text`, before any handler or query sees it.
/// The citizens' lookup answers with its one 404, the same as for every other failure.
pub async fn reject_hostile_text(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let uri = req.uri();
    let raw = [uri.path(), uri.query().unwrap_or_default()];
    let hostile = raw.iter().any(|part| {
        let decoded = percent_encoding::percent_decode_str(part).decode_utf8_lossy();
        crate::core::text::refused_char(&decoded, false).is_some()
    });
    if !hostile {
        return next.call(req).await.map(|r| r.map_into_left_body());
    }
    let public = req.path().starts_with("/api/v1/public/") || req.path().starts_with("/tra-cuu/");
    let error = if public {
        crate::service::lookup::lookup_not_found()
    } else {
        ApiError::bad_request(
            "invalid_text",
            "Đường dẫn hoặc tham số chứa ký tự điều khiển hoặc ký tự đảo chiều văn bản không được phép",
        )
    };
    let response = actix_web::ResponseError::error_response(&error);
    Ok(req.into_response(response).map_into_right_body())
}

/// How often a request in flight looks at the database's health.
const HEALTH_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// Answers `503 database_unavailable` (with `Retry-After`) at once while the health monitor
/// ([`crate::store::health::Health`]) sees the database silent or down, and cuts short a
/// request in flight when the database goes silent during it: its handler waits on a query
/// that may never return, the client gets its answer within the health timeout. The blocking
/// thread left behind ends with the connection (keepalives, `tcp_user_timeout`). A write so
/// cut may still commit if the database comes back before its connection breaks; a retry
/// with the same `Idempotency-Key` then returns the first answer. Without a monitor (tests,
/// commands) requests pass untouched.
pub async fn guard_database(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(app) = req.app_data::<AppData>().cloned() else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    let unavailable = || actix_web::ResponseError::error_response(&ApiError::unavailable());
    match app.store.health().healthy() {
        None => return next.call(req).await.map(|r| r.map_into_left_body()),
        Some(false) => {
            return Ok(req.into_response(unavailable()).map_into_right_body());
        }
        Some(true) => {}
    }
    // Logged: a path may hold an ID number.
    let path = crate::telemetry::redact(req.path());
    let call = std::pin::pin!(next.call(req));
    let watch = std::pin::pin!(async {
        loop {
            actix_web::rt::time::sleep(HEALTH_POLL).await;
            if app.store.health().healthy() == Some(false) {
                break;
            }
        }
    });
    match futures_util::future::select(call, watch).await {
        futures_util::future::Either::Left((res, _)) => res.map(|r| r.map_into_left_body()),
        futures_util::future::Either::Right(((), _)) => {
            // The request is inside the handler now; the error becomes the response.
            tracing::warn!(%path, "database went silent during the request");
            Err(ApiError::unavailable().into())
        }
    }
}

/// `X-Request-Id`: the id of a request, in every log line of it and on its response.
const REQUEST_ID: &str = "x-request-id";

/// The request id a trusted proxy sent (nginx's `$request_id`: 32 hex digits), if it is
/// well formed: 1 to 64 letters, digits, `-`, `_` or `.`.
fn forwarded_request_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(REQUEST_ID)?.to_str().ok()?;
    let ok = (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| v.to_string())
}

/// A new request id: 16 random hex digits.
fn new_request_id() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // No randomness: still distinct within this process.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        b = NEXT
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_be_bytes();
    }
    hex::encode(b)
}

/// What the request line logs for the path, never the query string (it may carry a pin):
/// the route template when the route takes an ID number
/// (`/api/v1/applicants/{id_number}/documents`), otherwise the path with anything that
/// looks like personal data masked ([`crate::telemetry::redact`]: a path no route knows is
/// whatever a client typed).
fn loggable_path(path: &str, route: Option<&str>) -> String {
    match route {
        Some(r) if r.contains("{id_number}") => r.to_string(),
        _ => crate::telemetry::redact(path),
    }
}

/// An error that escaped the services (a middleware's), answered with the request's
/// headers all the same.
#[derive(Debug)]
struct Tagged {
    error: actix_web::Error,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl std::fmt::Display for Tagged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl actix_web::ResponseError for Tagged {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.error.as_response_error().status_code()
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let mut res = self.error.error_response();
        for (k, v) in &self.headers {
            res.headers_mut().insert(k.clone(), v.clone());
        }
        res
    }
}

/// Every request of the public listener: its id (a trusted proxy's well-formed
/// `X-Request-Id`, else 16 random hex digits) in a span around it, so that every log line
/// of the request carries it — the blocking pool's too, through [`block`]; one log line
/// with the method, the path ([`loggable_path`]), the client's address
/// ([`auth::client_address`]), the status and the duration; the metrics by route
/// template. Every response, errors included, carries `X-Request-Id`, and
/// `Strict-Transport-Security` when the public base URL is https.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let app = req.app_data::<AppData>().cloned();
    let trusted = app
        .as_ref()
        .map(|a| a.settings.trusted_proxies.as_slice())
        .unwrap_or_default();
    let from_proxy = req
        .peer_addr()
        .is_some_and(|p| crate::core::forwarded::is_trusted(p.ip(), trusted));
    let id = from_proxy
        .then(|| forwarded_request_id(&req))
        .flatten()
        .unwrap_or_else(new_request_id);
    let client = auth::client_address(req.request());
    let method = req.method().clone();
    let path = req.path().to_string();
    // At level ERROR so that it is kept under any filter that keeps a line of the request.
    let span = tracing::error_span!("request", request_id = %id);
    // A panic in a handler would take its worker down, and every connection it holds: it
    // becomes this request's `500 internal_error` instead, logged with its request id.
    let call = std::panic::AssertUnwindSafe(next.call(req));
    let res = match tracing::Instrument::instrument(
        futures_util::FutureExt::catch_unwind(call),
        span.clone(),
    )
    .await
    {
        Ok(res) => res,
        Err(_) => {
            let _in = span.enter();
            tracing::error!(path = %loggable_path(&path, None), "the handler panicked");
            Err(ApiError::internal().into())
        }
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let _in = span.enter();
    let mut headers = vec![(
        HeaderName::from_static(REQUEST_ID),
        HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("-")),
    )];
    if app.as_ref().is_some_and(|a| a.settings.https) {
        headers.push((
            actix_web::http::header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        ));
    }
    match res {
        Ok(mut r) => {
            let status = r.status().as_u16();
            let route = r.request().match_pattern();
            if let Some(app) = &app {
                // By route template, never the path: a code or a name never becomes a
                // label, and the series stay few.
                app.metrics.request(
                    method.as_str(),
                    route.as_deref().unwrap_or("(unmatched)"),
                    status,
                    ms / 1000.0,
                );
            }
            let path = loggable_path(&path, route.as_deref());
            if status >= 500 {
                tracing::error!(%method, %path, %client, status, elapsed_ms = ms, "request");
            } else {
                tracing::info!(%method, %path, %client, status, elapsed_ms = ms, "request");
            }
            for (k, v) in headers {
                r.headers_mut().insert(k, v);
            }
            Ok(r)
        }
        Err(error) => {
            let path = loggable_path(&path, None);
            tracing::warn!(%method, %path, %client, error = %error, elapsed_ms = ms, "request failed");
            Err(Tagged { error, headers }.into())
        }
    }
}

/// `Strict-Transport-Security` on every response when the public base URL is https: a
/// year, for this host only (another host of the same domain may still serve plain HTTP).
pub const HSTS: &str = "max-age=31536000";

/// Serves the API until the process is stopped.
///
/// The store's health monitor, the notifications' outbox worker and the audit trail's
/// sealer start with it. On SIGTERM (or SIGINT) the server stops
/// accepting, lets the requests in flight finish for at most `[server] shutdown_drain_s`,
/// then returns; the caller exits the process without waiting for threads stuck on a
/// silent database.
pub async fn serve(app: Arc<App>) -> std::io::Result<()> {
    let bind = app.settings.bind.clone();
    let workers = app.settings.workers;
    crate::error::set_default_retry_after(app.settings.retry_after_s);
    app.store.watch_health();
    // The outbox worker (issue #17): sends the notifications every process writes.
    let stop_mail = Arc::new(std::sync::atomic::AtomicBool::new(false));
    crate::mail::start_worker(app.clone(), stop_mail.clone())
        .map_err(|e| std::io::Error::other(format!("notifications: {e}")))?;
    // The sealer (issue #18): checkpoints the audit trail, folds the rollup's deltas.
    crate::service::audit::start_sealer(app.clone(), stop_mail.clone())?;
    let drain = app.settings.shutdown_drain_s;
    let metrics_bind = app.settings.metrics_bind.clone();
    let data = web::Data::new(app);
    let metrics_data = data.clone();
    let mut server = HttpServer::new(move || {
        ActixApp::new()
            .app_data(data.clone())
            .wrap(from_fn(log_requests))
            .configure(configure)
    });
    if workers > 0 {
        server = server.workers(workers);
    }
    let server = server.shutdown_timeout(drain).bind(&bind)?;
    tracing::info!(%bind, "motcua listening");
    // `/metrics` apart (issue #19): one worker, nothing else served there.
    let metrics = match metrics_bind {
        Some(addr) => {
            let data = metrics_data;
            let m = HttpServer::new(move || {
                ActixApp::new()
                    .app_data(data.clone())
                    .route("/metrics", web::get().to(system::metrics))
            })
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .bind(&addr)?
            .run();
            tracing::info!(bind = %addr, "metrics listening");
            let handle = m.handle();
            actix_web::rt::spawn(m);
            Some(handle)
        }
        None => None,
    };
    let served = server.run().await;
    if let Some(h) = metrics {
        h.stop(false).await;
    }
    stop_mail.store(true, std::sync::atomic::Ordering::Relaxed);
    served
}
