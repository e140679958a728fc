//! The API as a published contract: an OpenAPI 3.1 description generated from the code
//! (utoipa), served at `GET /api/v1/openapi.json` and read at `/api/docs`.
//!
//! Each handler carries its `#[utoipa::path]`: summary and description (its doc comment),
//! parameters, body, every answer with its schema, and its error codes. The answers are
//! typed (`#[derive(Serialize, ToSchema)]`), so what is served is what is described. Each
//! HTTP module gathers its handlers in a `Doc`; [`document`] merges them, then adds what
//! every operation shares: the middleware's refusals (`400 invalid_text`, `503
//! database_unavailable`), `500 internal`, and `401` wherever a token is needed.
//! `tests/openapi.rs` holds the description to the route table ([`super::api_route_list`]).

use std::sync::OnceLock;

use actix_web::HttpResponse;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// An error as every endpoint answers it (see `src/http/error.rs`).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"error": "dossier_not_found", "message": "Không tìm thấy hồ sơ"}))]
pub struct ErrorBody {
    /// The stable code (English, snake case): what a program tests.
    pub error: String,
    /// The explanation for people, in Vietnamese.
    pub message: String,
    /// More about the error where there is more: e.g. the fields refused, each with its
    /// own code and message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// The security schemes: both are bearer tokens (JWT, HS256) in `Authorization`.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            STAFF,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A staff account's token (cán bộ, công chức): `POST /api/v1/auth/login` \
                         with the username and password. What it may see and do follows the \
                         account's role and agency.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            PORTAL,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A portal client's token (Cổng dịch vụ công): `POST /api/v1/auth/token` \
                         with the client id and secret (`motcua portal add`). For online \
                         submissions and the changes feed.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The name of the staff token's scheme (`security(("staff_token" = []))`: utoipa wants the literal).
pub const STAFF: &str = "staff_token";
/// The name of the portal client's token's scheme.
pub const PORTAL: &str = "portal_token";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "motcua API",
        description = "The JSON API of motcua, the one-stop-shop (một cửa, một cửa liên thông) \
case-handling system: intake of dossiers (hồ sơ) at the counter and from portals, their \
processing and hand-overs between agencies, deadlines in Vietnamese working time, results, \
citizens' lookup by receipt code and pin, and the indicators of the reform targets.\n\n\
Conventions:\n\
- Moments are RFC 3339 in the configured zone (Asia/Ho_Chi_Minh, `+07:00`); dates are \
`YYYY-MM-DD`.\n\
- Text is normalised to NFC; control characters and bidirectional overrides are refused.\n\
- Every error is `{\"error\": \"<stable_code>\", \"message\": \"<Vietnamese text>\"}` with the \
status of its kind; nothing is stored by a refused request.\n\
- `429` and `503` carry `Retry-After`; every response carries `X-Request-Id`.\n\
- Writes that may be retried take an `Idempotency-Key` header: the same key gets the first \
answer.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
        version = env!("CARGO_PKG_VERSION"),
    ),
    paths(serve),
    components(schemas(ErrorBody)),
    modifiers(&Security),
    tags(
        (name = "catalogue", description = "Agencies and the procedure catalogue (danh mục thủ tục hành chính)."),
        (name = "calendar", description = "Working days and deadlines (NĐ 118/2025 Art. 17–20)."),
        (name = "auth", description = "Tokens for staff and portal clients."),
        (name = "dossiers", description = "Intake, reading and processing of dossiers (hồ sơ)."),
        (name = "files", description = "Papers, results and the applicant data store (kho dữ liệu)."),
        (name = "reports", description = "Indicators (QĐ 766), the tracking book and raw exports."),
        (name = "public", description = "What citizens reach without an account: lookup by code and pin, rating, petitions."),
        (name = "petitions", description = "Feedback and petitions (phản ánh, kiến nghị) for staff."),
        (name = "system", description = "Health and this description."),
    )
)]
struct Root;

/// The whole description, as JSON: [`Root`], every module's operations, and what every
/// operation shares.
pub fn document() -> Value {
    let mut doc = Root::openapi();
    for part in super::openapi_parts() {
        doc.merge(part);
    }
    let mut v = serde_json::to_value(&doc).expect("the description serialises");
    add_shared_answers(&mut v);
    v
}

/// Each HTTP module's part of the description, unmerged (for the test that no two parts
/// give one schema name two meanings: on a merge the first would silently win).
pub fn parts() -> Vec<Value> {
    super::openapi_parts()
        .into_iter()
        .map(|p| serde_json::to_value(&p).expect("a part serialises"))
        .collect()
}

/// The description, serialised once per process.
pub fn text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| document().to_string())
}

/// What every operation of `/api/v1` may answer whatever it does: added to each where it
/// does not say it itself, or appended to its own description of the same status.
fn add_shared_answers(v: &mut Value) {
    let error =
        json!({ "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } });
    let retry = json!({ "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": { "type": "integer", "minimum": 0 }
    }});
    let shared = [
        (
            "400",
            "`invalid_text`: the path or the query string holds a control character or a \
             bidirectional override (on the citizens' lookup: its one `404`); \
             `invalid_query`, `invalid_path`, `invalid_json`: a parameter or body that \
             cannot be read.",
            None,
            false,
        ),
        (
            "401",
            "`unauthorized`: no bearer token; `invalid_token`: a token that is malformed, \
             expired, or of an account since disabled or changed.",
            None,
            true,
        ),
        (
            "500",
            "`internal_error`: an unexpected fault, logged with the request id; nothing was stored.",
            None,
            false,
        ),
        (
            "503",
            "`database_unavailable`: the database does not answer; try again after \
             `Retry-After` seconds (a write retried with the same `Idempotency-Key` is done \
             once).",
            Some(retry),
            false,
        ),
    ];
    let Some(paths) = v.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let secured = op
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| {
                    s.iter()
                        .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
                });
            let responses = op
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("responses is an object");
            for (status, text, headers, needs_token) in &shared {
                if *needs_token && !secured {
                    continue;
                }
                match responses.get_mut(*status) {
                    Some(own) => {
                        let d = own["description"].as_str().unwrap_or_default().to_string();
                        if !d.contains(text.split('`').nth(1).unwrap_or_default()) {
                            own["description"] = json!(format!("{d} Also {text}"));
                        }
                        if own.get("content").is_none() {
                            own["content"] = error.clone();
                        }
                    }
                    None => {
                        let mut r = json!({ "description": text, "content": error.clone() });
                        if let Some(h) = headers {
                            r["headers"] = h.clone();
                        }
                        responses.insert(status.to_string(), r);
                    }
                }
            }
        }
    }
}

/// This description
///
/// The OpenAPI 3.1 description of this API, generated from the code: every operation, its
/// parameters, bodies, answers and error codes, and the security schemes. A readable
/// rendering is at `/api/docs`.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "system",
    responses((status = 200, description = "The OpenAPI 3.1 description of this API.", content_type = "application/json", body = Object)),
)]
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .content_type("application/json")
        .body(text())
}
