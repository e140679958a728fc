//! Authentication over HTTP: the login endpoints and the `Staff` extractor that turns a
//! bearer token into a [`Caller`].

use std::future::ready;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult};
use super::openapi::ErrorBody;
use super::{blocking, AppData};
use crate::service::accounts::Token;
use crate::service::Caller;

/// This module's part of the API description.
#[derive(utoipa::OpenApi)]
#[openapi(paths(login, token))]
pub(super) struct Doc;

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

/// A staff login: the account's username and password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The account's username (case-insensitive).
    username: String,
    /// Its password.
    #[schema(format = Password)]
    password: String,
}

/// A portal client's credentials (`motcua portal add`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// The client's id (its account's username).
    client_id: String,
    /// The client's secret.
    #[schema(format = Password)]
    client_secret: String,
}

/// A bearer token, as both endpoints answer it.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiJ9.…", "token_type": "Bearer", "expires_in": 1800}))]
pub struct TokenAnswer {
    /// The token (a JWT signed with HS256): send it as `Authorization: Bearer <token>`.
    /// It names the account, its role and agency; it stops working when it expires, and
    /// at once when the account is disabled or its password, role or agency changes.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Its lifetime in seconds (`[auth] token_ttl_minutes`, 30 minutes by default).
    pub expires_in: i64,
}

impl From<Token> for TokenAnswer {
    fn from(t: Token) -> Self {
        Self {
            access_token: t.access_token,
            token_type: t.token_type,
            expires_in: t.expires_in,
        }
    }
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
        .json(TokenAnswer::from(token)))
}

/// Staff login
///
/// Exchanges a staff account's username and password (cán bộ, công chức: every role but
/// `portal`) for a bearer token of the `staff_token` scheme. Nothing is stored but the
/// failure tallies: an unknown account, a wrong password, a disabled account and a portal
/// client's account all get the same `401`. Guessing is throttled per account and
/// address, per address and per account over every address (`[auth] login_*`): past the
/// free failures each further attempt waits, doubling, and is answered `429` until then
/// — before the password is even checked. A right password clears its own pair's
/// failures.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    operation_id = "login",
    tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "The token; `Cache-Control: no-store`.", body = TokenAnswer),
        (status = 401, description = "`invalid_credentials`: unknown account, wrong password, disabled account or a portal client's account (one answer for all); counted as a failed guess.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 429, description = "`too_many_attempts`: too many failed logins for this account or from this address; try again after `Retry-After` seconds.", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again."))),
    ),
)]
pub async fn login(
    app: AppData,
    req: HttpRequest,
    body: web::Json<LoginBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    issue(app, req, b.username, b.password, false).await
}

/// Portal client token
///
/// Exchanges a portal client's credentials (Cổng dịch vụ công: an account of role
/// `portal`, made with `motcua portal add`) for a bearer token of the `portal_token`
/// scheme, for online submissions and the changes feed. The same rules as the staff
/// login: one `401` for every refusal (a staff account's credentials included), guessing
/// throttled with `429`, nothing stored but the failure tallies.
#[utoipa::path(
    post,
    path = "/api/v1/auth/token",
    operation_id = "portal_token",
    tag = "auth",
    request_body = TokenBody,
    responses(
        (status = 200, description = "The token; `Cache-Control: no-store`.", body = TokenAnswer),
        (status = 401, description = "`invalid_credentials`: unknown client, wrong secret, disabled client or a staff account (one answer for all); counted as a failed guess.", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`."))),
        (status = 429, description = "`too_many_attempts`: too many failed attempts for this client or from this address; try again after `Retry-After` seconds.", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before trying again."))),
    ),
)]
pub async fn token(
    app: AppData,
    req: HttpRequest,
    body: web::Json<TokenBody>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    issue(app, req, b.client_id, b.client_secret, true).await
}
