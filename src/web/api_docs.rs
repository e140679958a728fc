//! `GET /api/docs`: the API's reference (issue #19, item 1), the OpenAPI description of
//! `/api/v1/openapi.json` rendered in the browser by Redoc 2 (`static/vendor/redoc.standalone.js`,
//! vendored from npm, see `static/VENDORED.md`). Everything the page loads comes from this
//! server: Redoc's script, the Noto Sans fonts, the page's own style sheet and the
//! description; its content-security policy ([`CSP`]) lets nothing else in or out.

use actix_web::HttpResponse;
use askama::Template;

use super::{asset, render};

/// The content-security policy of this page alone; the other pages keep [`super::CSP`].
///
/// It differs from theirs in two places, both for Redoc:
/// - `style-src` allows, besides files of this origin, exactly two `<style>` elements by
///   the hash of their text: the empty one styled-components creates and then fills
///   through the CSSOM (`sha256-47DEQ…`, the hash of the empty string), and
///   perfect-scrollbar's style sheet, a fixed string in the bundle (`sha256-QMIg…`). No
///   `'unsafe-inline'`. A new Redoc may bring other text: `tests/ui.rs` checks that every
///   `<style>` of the rendered page has its hash here.
/// - `worker-src blob:`: the search index runs in a worker made from a `blob:` URL of code
///   inside the bundle; without it the search box finds nothing.
///
/// `connect-src 'self'` (from `default-src`) keeps Redoc to fetching the description, and
/// `img-src 'self' data:` blocks the Redocly logo it asks for from `cdn.redoc.ly` (the
/// "API docs by Redocly" line of the menu stays, as text): no request leaves the server.
/// No `'unsafe-eval'`: Redoc 2 needs none.
pub const CSP: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' \
'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='; \
worker-src blob:; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Where the page finds the description.
pub const SPEC_URL: &str = "/api/v1/openapi.json";

#[derive(Template)]
#[template(path = "api_docs.html")]
pub struct ApiDocsPage {
    pub fonts: &'static str,
    pub css: &'static str,
    pub redoc: &'static str,
    pub spec: &'static str,
}

/// `GET /api/docs`: the reference page. No session, no database: the description is public.
pub async fn page() -> HttpResponse {
    let mut res = render(&ApiDocsPage {
        fonts: asset("fonts/fonts.css"),
        css: asset("api-docs.css"),
        redoc: asset("vendor/redoc.standalone.js"),
        spec: SPEC_URL,
    });
    res.headers_mut().insert(
        actix_web::http::header::CONTENT_SECURITY_POLICY,
        actix_web::http::header::HeaderValue::from_static(CSP),
    );
    res
}
