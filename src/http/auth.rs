//! Authentication over HTTP: the login endpoints and the `Staff` extractor that turns a
//! bearer token into a [`Caller`].

use std::future::ready;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::{blocking, AppData};
use crate::service::Caller;

/// The client's address, as counted by the guessing limits and recorded in the audit
/// trail and the logs: the TCP peer, or, when the peer is one of `[server]
/// trusted_proxies`, the client its `X-Forwarded-For` (or `Forwarded`) names
/// ([`crate::core::forwarded::client_address`]).
pub fn client_address(req: &HttpRequest) -> String {
    client_ip(req)
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// [`client_address`] as an address; `None` without a peer (some test requests).
pub fn client_ip(req: &HttpRequest) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let trusted = match req.app_data::<AppData>() {
        Some(app) if !app.settings.trusted_proxies.is_empty() => &app.settings.trusted_proxies,
        _ => return Some(peer.to_canonical()),
    };
    if !crate::core::forwarded::is_trusted(peer, trusted) {
        return Some(peer.to_canonical());
    }
    // Each header's lines joined; a value that is not text is malformed: the peer.
    let joined = |name: &str| -> Result<Option<String>, ()> {
        let mut values = req.headers().get_all(name).peekable();
        if values.peek().is_none() {
            return Ok(None);
        }
        let parts = values
            .map(|v| v.to_str().map_err(|_| ()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(parts.join(",")))
    };
    let (Ok(xff), Ok(fwd)) = (joined("x-forwarded-for"), joined("forwarded")) else {
        return Some(peer.to_canonical());
    };
    Some(crate::core::forwarded::client_address(
        peer,
        xff.as_deref(),
        fwd.as_deref(),
        trusted,
    ))
}

/// An authenticated caller (staff or portal), from `Authorization: Bearer <token>`.
pub struct Authenticated(pub Caller);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, ApiError>>;

    /// Checks the signature and expiry at once, and the account (enabled, same token
    /// version, role and agency) against this process's cache; a stale cache entry is
    /// read again on a blocking thread.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let unauthorized = || {
            ApiError::unauthorized(
                "unauthorized",
                "Cần đăng nhập: gửi mã truy cập trong tiêu đề Authorization: Bearer …",
            )
        };
        let invalid = || {
            ApiError::unauthorized(
                "invalid_token",
                "Mã truy cập không hợp lệ hoặc đã hết hạn, vui lòng đăng nhập lại",
            )
        };
        let Some(app) = req.app_data::<AppData>().cloned() else {
            return Box::pin(ready(Err(ApiError::internal())));
        };
        let token = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            });
        let Some(token) = token else {
            return Box::pin(ready(Err(unauthorized())));
        };
        let now = app.clock.now();
        let Some(claims) = app.decode_token(token.trim(), now) else {
            return Box::pin(ready(Err(invalid())));
        };
        let address = client_address(req);
        let accept = move |holds: bool, claims| {
            if holds {
                let mut caller = crate::service::accounts::caller_of(claims);
                caller.address = Some(address);
                Ok(Authenticated(caller))
            } else {
                Err(invalid())
            }
        };
        if let Some(holds) = app.cached_check(&claims, now) {
            return Box::pin(ready(accept(holds, claims)));
        }
        Box::pin(async move {
            let a = app.get_ref().clone();
            let c = claims.clone();
            let holds = blocking(move || a.check_account(&c, now)).await?;
            accept(holds, claims)
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    client_id: String,
    client_secret: String,
}

async fn issue(
    app: AppData,
    req: HttpRequest,
    name: String,
    secret: String,
    portal: bool,
) -> ApiResult<HttpResponse> {
    let addr = client_address(&req);
    let a = app.get_ref().clone();
    let token = blocking(move || a.login(&name, &secret, portal, &addr, a.clock.now())).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(token))
}

/// `POST /api/v1/auth/login`.
pub async fn login(
    app: AppData,
    req: HttpRequest,
    body: web::Json<LoginBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    issue(app, req, b.username, b.password, false).await
}

/// `POST /api/v1/auth/token` (portal client credentials).
pub async fn token(
    app: AppData,
    req: HttpRequest,
    body: web::Json<TokenBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    issue(app, req, b.client_id, b.client_secret, true).await
}
