//! Files: upload of scans and electronic results (multipart, streamed into the blob
//! store with the size limit enforced while reading), downloads, the applicant data store.

use std::collections::HashMap;
use std::io::Read;

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::auth::{client_address, Authenticated};
use super::error::{ApiError, ApiResult};
use super::{blocking, rfc3339, AppData};
use crate::error::AppError;
use crate::files::{clean_file_name, FileProblem};
use crate::service::documents::{file_error, FileTarget};
use crate::service::views::{DocumentView, FileView};

/// Room for the multipart envelope around the file itself.
const ENVELOPE: u64 = 64 * 1024;

fn target_of(q: &HashMap<String, String>) -> ApiResult<FileTarget> {
    match (q.get("paper"), q.get("result")) {
        (Some(p), None) => p
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|p| (1..=1000).contains(p))
            .map(FileTarget::Paper)
            .ok_or_else(|| {
                ApiError::bad_request("invalid_target", "paper phải là số thứ tự thành phần hồ sơ")
            }),
        (None, Some(r)) => Ok(FileTarget::Result(
            Some(r.trim().to_string()).filter(|r| !r.is_empty()),
        )),
        _ => Err(ApiError::bad_request(
            "invalid_target",
            "Cần đúng một trong hai tham số: paper=<số thứ tự> (bản số hóa giấy tờ) hoặc result[=<mã kết quả>] (kết quả điện tử)",
        )),
    }
}

fn file_json(app: &AppData, f: &FileView) -> Value {
    let offset = app.settings.offset;
    json!({
        "id": f.id,
        "file_name": f.file_name,
        "paper_position": f.paper_position,
        "document_id": f.document_id,
        "sha256": f.sha256,
        "size": f.size,
        "media_type": f.media_type,
        "uploaded_at": rfc3339(f.uploaded_at.fixed_offset(), offset),
        "uploaded_by": f.uploaded_by,
        "url": format!("/api/v1/dossiers/{}/files/{}", f.dossier_code, f.id),
    })
}

pub fn document_json(app: &AppData, d: &DocumentView) -> Value {
    let agency = d
        .issuing_agency
        .as_deref()
        .map(|c| json!({ "code": c, "name": app.agencies.get(c).map(|a| a.name.as_str()) }));
    json!({
        "id": d.id,
        "kind": d.kind,
        "name": d.name,
        "number": d.number,
        "issuing_agency": agency,
        "issued_on": d.issued_on,
        "valid_until": d.valid_until,
        "dossier_code": d.dossier_code,
        "procedure_code": d.procedure_code,
        "electronic": d.electronic,
        "retention": d.retention,
        "retain_until": d.retain_until,
        "source": d.source,
    })
}

/// A part's headers could not be read.
fn bad_multipart(e: impl std::fmt::Display) -> ApiError {
    AppError::bad_request(
        "invalid_multipart",
        format!("Dữ liệu tải lên sai định dạng multipart/form-data: {e}"),
    )
}

/// The body ended (or broke) before the file did.
fn incomplete(e: impl std::fmt::Display) -> ApiError {
    AppError::bad_request(
        "incomplete_upload",
        format!("Dữ liệu tải lên không đầy đủ (kết nối bị ngắt hoặc độ dài khai báo sai): {e}"),
    )
}

/// `POST /api/v1/dossiers/{code}/files?paper=N` or `?result[=ID]`, multipart/form-data with
/// one part named `file`: 201 with the stored file.
pub async fn upload(
    app: AppData,
    who: Authenticated,
    path: web::Path<String>,
    q: web::Query<HashMap<String, String>>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let code = path.into_inner();
    let target = target_of(&q)?;
    let max = app.settings.max_upload_bytes;
    // Refuse what announces itself too large before reading a byte.
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max + ENVELOPE) {
        return Err(file_error(&FileProblem::TooLarge { limit: max }));
    }
    {
        let (a, who, code, target) = (
            app.get_ref().clone(),
            who.0.clone(),
            code.clone(),
            target.clone(),
        );
        blocking(move || a.check_attach(&who, &code, &target)).await?;
    }
    // The body is read through a counter that hands the stream back afterwards: the
    // multipart parser stops at the closing boundary, and the request is only complete
    // once the body has ended with exactly the declared length.
    let body = std::rc::Rc::new(std::cell::RefCell::new(payload));
    let read = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let counted = Counted {
        inner: body.clone(),
        read: read.clone(),
    };
    let mut multipart = Multipart::new(req.headers(), counted);
    // The content is written to a temporary place and only moved into the store once the
    // whole request has been read: a request refused at any point leaves nothing.
    let mut pending = None;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| match e {
            actix_multipart::MultipartError::Incomplete
            | actix_multipart::MultipartError::Payload(_) => incomplete(e),
            e => bad_multipart(e),
        })?;
        let name = field.name().unwrap_or_default().to_string();
        if name != "file" {
            return Err(AppError::bad_request(
                "invalid_multipart",
                format!("Phần \"{name}\" không được nhận: chỉ gửi một phần tên \"file\""),
            ));
        }
        if pending.is_some() {
            return Err(AppError::bad_request(
                "too_many_files",
                "Mỗi lần tải lên một tệp",
            ));
        }
        let raw_name = field
            .content_disposition()
            .and_then(|cd| {
                cd.get_filename_ext()
                    .map(|ext| String::from_utf8_lossy(&ext.value).to_string())
                    .or_else(|| cd.get_filename().map(str::to_string))
            })
            .unwrap_or_default();
        let file_name = clean_file_name(&raw_name).map_err(|p| file_error(&p))?;
        let files = app.files.clone();
        let mut upload = blocking(move || {
            files
                .begin(max)
                .map_err(|e| file_error(&FileProblem::Io(e.to_string())))
        })
        .await?;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(incomplete)?;
            upload.write(&chunk).map_err(|p| file_error(&p))?;
        }
        pending = Some((file_name, upload));
    }
    let Some((file_name, upload)) = pending else {
        return Err(AppError::bad_request(
            "missing_file",
            "Không có tệp: gửi multipart/form-data với một phần tên \"file\"",
        ));
    };
    drop(multipart);
    // Whatever follows the closing boundary must arrive too, up to the declared length.
    {
        let Ok(rest) = std::rc::Rc::try_unwrap(body) else {
            tracing::error!("request body still shared after the multipart parser");
            return Err(AppError::internal());
        };
        let mut rest = rest.into_inner();
        while let Some(chunk) = rest.next().await {
            let chunk = chunk.map_err(incomplete)?;
            read.set(read.get() + chunk.len() as u64);
            if read.get() > max + ENVELOPE {
                return Err(file_error(&FileProblem::TooLarge { limit: max }));
            }
        }
    }
    if declared.is_some_and(|n| n != read.get()) {
        return Err(incomplete(format!(
            "nhận {} byte, khai báo {}",
            read.get(),
            declared.unwrap_or_default()
        )));
    }
    let blob = blocking(move || upload.finish().map_err(|p| file_error(&p))).await?;
    let a = app.get_ref().clone();
    let file =
        blocking(move || a.attach_file(&who.0, &code, &target, &file_name, &blob, a.clock.now()))
            .await?;
    Ok(HttpResponse::Created().json(file_json(&app, &file)))
}

/// The request body, counted, shared so that it can be drained after the parser is done.
struct Counted {
    inner: std::rc::Rc<std::cell::RefCell<web::Payload>>,
    read: std::rc::Rc<std::cell::Cell<u64>>,
}

impl futures_util::Stream for Counted {
    type Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let mut inner = self.inner.borrow_mut();
        let polled = std::pin::Pin::new(&mut *inner).poll_next(cx);
        if let std::task::Poll::Ready(Some(Ok(b))) = &polled {
            self.read.set(self.read.get() + b.len() as u64);
        }
        polled
    }
}

/// `attachment; filename="ascii"; filename*=UTF-8''…` for a Vietnamese file name.
fn disposition(name: &str) -> String {
    let ascii: String = crate::core::text::fold(name)
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

pub(crate) fn read_blob(app: &crate::app::App, sha256: &str) -> Result<Vec<u8>, AppError> {
    let mut r = app.files.open(sha256).map_err(|e| {
        tracing::error!(error = %e, sha256, "stored content unreadable");
        AppError::internal()
    })?;
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, sha256, "stored content unreadable");
        AppError::internal()
    })?;
    Ok(bytes)
}

pub(crate) fn send_file(bytes: Vec<u8>, media_type: &str, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(media_type.to_string())
        .insert_header(("Content-Disposition", disposition(name)))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes)
}

/// `GET /api/v1/dossiers/{code}/files/{id}`: a file of a dossier in the caller's scope.
pub async fn download(
    app: AppData,
    who: Authenticated,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (code, id) = path.into_inner();
    let a = app.get_ref().clone();
    let (f, bytes) = blocking(move || {
        let f = a.file_for(&who.0, &code, &id)?;
        let bytes = read_blob(&a, &f.sha256)?;
        Ok((f, bytes))
    })
    .await?;
    Ok(send_file(bytes, &f.media_type, &f.file_name))
}

/// `GET /api/v1/public/dossiers/{code}/results/{document_id}?pin=`: the applicant
/// downloads an electronic result with the dossier's code and pin.
pub async fn public_result(
    app: AppData,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let (code, doc_id) = path.into_inner();
    let pin = q.get("pin").cloned().unwrap_or_default();
    let addr = client_address(&req);
    let a = app.get_ref().clone();
    let (result, bytes) = blocking(move || {
        let result = a.public_result(&code, &pin, &doc_id, &addr, a.clock.now())?;
        let bytes = read_blob(&a, &result.sha256)?;
        Ok((result, bytes))
    })
    .await?;
    let ext = crate::files::MediaType::parse(&result.media_type)
        .map(|m| m.extension())
        .unwrap_or("bin");
    Ok(send_file(
        bytes,
        &result.media_type,
        &format!("{}.{ext}", result.document.id),
    ))
}

/// `GET /api/v1/applicants/{id_number}/documents`: the applicant's results and digitised
/// papers still valid (staff; every read audited).
pub async fn applicant_documents(
    app: AppData,
    who: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let a = app.get_ref().clone();
    let docs = blocking(move || a.applicant_documents(&who.0, &id, a.clock.now())).await?;
    let items: Vec<Value> = docs.iter().map(|d| document_json(&app, d)).collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "documents": items })))
}

/// The files and documents of a dossier, for the staff read.
pub fn dossier_files_json(
    app: &AppData,
    files: &[FileView],
    docs: &[DocumentView],
) -> (Value, Value) {
    (
        files.iter().map(|f| file_json(app, f)).collect(),
        docs.iter().map(|d| document_json(app, d)).collect(),
    )
}
