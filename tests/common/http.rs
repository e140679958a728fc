//! Calling the HTTP API in-process (actix test service): accounts, login, JSON calls.
#![allow(dead_code)]

use std::sync::Arc;

use actix_http::Request;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::{test, web, App as ActixApp};
use motcua::app::App;
use motcua::service::accounts::{cli_actor, NewUser};
use motcua::service::Role;
use serde_json::{json, Value};

pub const PASSWORD: &str = "mat-khau-du-dai";

/// Creates staff accounts `(username, role, agency)` with [`PASSWORD`].
pub fn users(app: &App, list: &[(&str, Role, &str)]) {
    for (username, role, agency) in list {
        app.create_user(
            &NewUser {
                username,
                full_name: &format!("Cán bộ {username}"),
                role: *role,
                agency,
                password: PASSWORD,
                email: None,
            },
            &cli_actor(),
            app.clock.now(),
        )
        .unwrap_or_else(|e| panic!("user {username}: {e:?}"));
    }
}

pub async fn service(
    app: &Arc<App>,
) -> impl Service<Request, Response = ServiceResponse, Error = actix_web::Error> {
    test::init_service(
        ActixApp::new()
            .app_data(web::Data::new(app.clone()))
            .configure(motcua::http::configure),
    )
    .await
}

/// Sends `req`; the status and the JSON body (`Null` if not JSON).
pub async fn send<S>(svc: &S, req: test::TestRequest) -> (u16, Value)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let res = test::call_service(svc, req.to_request()).await;
    let status = res.status().as_u16();
    (
        status,
        serde_json::from_slice(&test::read_body(res).await).unwrap_or(Value::Null),
    )
}

/// Sends `req`; the status, content type and raw body.
pub async fn send_raw<S>(svc: &S, req: test::TestRequest) -> (u16, String, Vec<u8>)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let res = test::call_service(svc, req.to_request()).await;
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, ct, test::read_body(res).await.to_vec())
}

/// A bearer token for staff account `user`.
pub async fn login<S>(svc: &S, user: &str) -> String
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let (status, b) = send(
        svc,
        test::TestRequest::post()
            .uri("/api/v1/auth/login")
            .set_json(json!({"username": user, "password": PASSWORD})),
    )
    .await;
    assert_eq!(status, 200, "login {user}: {b}");
    b["access_token"].as_str().unwrap().to_string()
}

pub fn get(token: &str, uri: &str) -> test::TestRequest {
    test::TestRequest::get()
        .uri(uri)
        .insert_header(("authorization", format!("Bearer {token}")))
}

pub fn post(token: &str, uri: &str, body: Value) -> test::TestRequest {
    test::TestRequest::post()
        .uri(uri)
        .insert_header(("authorization", format!("Bearer {token}")))
        .set_json(body)
}

/// Records an event on dossier `code`.
pub async fn event<S>(svc: &S, token: &str, code: &str, body: Value) -> (u16, Value)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    send(
        svc,
        post(token, &format!("/api/v1/dossiers/{code}/events"), body),
    )
    .await
}

/// The text of a PDF through poppler's pdftotext, NFC, whitespace collapsed (layout mode
/// pads and wraps). Tests that call it are `#[ignore = "needs pdftotext (poppler-utils)"]`
/// and run by .ci/run, which installs poppler-utils.
pub fn pdf_text(pdf: &[u8]) -> String {
    use unicode_normalization::UnicodeNormalization;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("form.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext failed: {out:?}");
    let text: String = String::from_utf8(out.stdout).unwrap().nfc().collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A portal's access token by its client credentials (secret [`PASSWORD`]).
pub async fn portal_token<S>(svc: &S, id: &str) -> String
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let (status, b) = send(
        svc,
        test::TestRequest::post()
            .uri("/api/v1/auth/token")
            .set_json(json!({"client_id": id, "client_secret": PASSWORD})),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    b["access_token"].as_str().unwrap().to_string()
}

/// Sends `req`; the status, the value of header `name` and the JSON body.
pub async fn send_raw_header<S>(
    svc: &S,
    req: test::TestRequest,
    name: &str,
) -> (u16, Option<String>, Value)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let res = test::call_service(svc, req.to_request()).await;
    let status = res.status().as_u16();
    let header = res
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = serde_json::from_slice(&test::read_body(res).await).unwrap_or(Value::Null);
    (status, header, body)
}

/// A one-page PDF named `scan.pdf` as multipart/form-data: the content type and body.
pub fn pdf_multipart() -> (String, Vec<u8>) {
    let boundary = "----motcua-test";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"scan.pdf\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
    );
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads a one-page PDF to dossier `code` as `target` (`paper=N` or `result`).
pub async fn upload_pdf<S>(svc: &S, token: &str, code: &str, target: &str) -> (u16, Value)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let (content_type, body) = pdf_multipart();
    send(
        svc,
        test::TestRequest::post()
            .uri(&format!("/api/v1/dossiers/{code}/files?{target}"))
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("content-type", content_type))
            .set_payload(body),
    )
    .await
}

/// Disables account `username` (as the CLI does).
pub fn disable(app: &App, username: &str) {
    app.set_user_disabled(username, true, &cli_actor(), app.clock.now())
        .unwrap_or_else(|e| panic!("disable {username}: {e:?}"));
}

/// A citizen's browser on the pages: the cookie it was given, sent back on every request.
#[derive(Default)]
pub struct Browser {
    pub cookie: Option<String>,
}

impl Browser {
    /// Sends `req` with the cookie; the status and the page's HTML (keeping a new cookie).
    pub async fn page<S>(&mut self, svc: &S, req: test::TestRequest) -> (u16, String)
    where
        S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
    {
        let req = match &self.cookie {
            Some(c) => req.insert_header(("Cookie", c.clone())),
            None => req,
        };
        let res = test::call_service(svc, req.to_request()).await;
        let status = res.status().as_u16();
        if let Some(c) = res
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
        {
            self.cookie = Some(c.to_string());
        }
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        (status, body)
    }

    /// Sends `req` with the cookie; the status, the content type and the bytes (a
    /// download).
    pub async fn raw<S>(&mut self, svc: &S, req: test::TestRequest) -> (u16, String, Vec<u8>)
    where
        S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
    {
        let req = match &self.cookie {
            Some(c) => req.insert_header(("Cookie", c.clone())),
            None => req,
        };
        let res = test::call_service(svc, req.to_request()).await;
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, ct, test::read_body(res).await.to_vec())
    }
}

/// The value of hidden field `name` in a page's first form that has it.
pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no field {name} in:\n{html}"))
        + needle.len();
    html[at..].split('"').next().unwrap().to_string()
}

/// A form body, `application/x-www-form-urlencoded`.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}
