//! Files: upload of scans and electronic results (multipart, streamed into the blob
//! store with the size limit enforced while reading), downloads, the applicant data store.

use std::collections::HashMap;
use std::io::Read;

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::auth::{client_address, Authenticated};
use super::error::{ApiError, ApiResult};
use super::openapi::ErrorBody;
use super::{blocking, rfc3339, AppData};
use crate::error::AppError;
use crate::files::{clean_file_name, FileProblem};
use crate::service::documents::{file_error, FileTarget};
use crate::service::views::{DocumentView, FileView};

/// This module's part of the API description.
#[derive(utoipa::OpenApi)]
#[openapi(paths(upload, download, applicant_documents, public_result))]
pub(super) struct Doc;

/// A file attached to a dossier: a paper's scan (bản số hóa) or a result's electronic
/// copy (kết quả điện tử).
#[derive(Serialize, ToSchema)]
pub struct DossierFile {
    /// Its id (32 random hex digits), as in `url`.
    pub id: String,
    /// The name it was uploaded under (NFC, without a directory).
    pub file_name: String,
    /// The paper it is the scan of (its position in the dossier, from 1); `null` for a
    /// result's copy.
    pub paper_position: Option<i32>,
    /// The document of the applicant data store it is the content of: `<code>-TP<n>` for
    /// a paper, `<code>-KQ<n>` for a result.
    pub document_id: Option<String>,
    /// The SHA-256 of the content, hex (identical contents are stored once).
    pub sha256: String,
    /// Its size in bytes.
    pub size: i64,
    /// As recognised from the content: `application/pdf`, `image/jpeg` or `image/png`.
    pub media_type: String,
    /// When it was uploaded.
    #[schema(format = DateTime)]
    pub uploaded_at: String,
    /// The uploader's username.
    pub uploaded_by: String,
    /// Where to download it: `/api/v1/dossiers/{code}/files/{id}`.
    pub url: String,
}

/// An agency by its code, with its name (`null` for a code no longer known).
#[derive(Serialize, ToSchema)]
pub struct NamedAgency {
    /// Its code in the national list, e.g. `000.00.52.H26`.
    pub code: String,
    /// Its name.
    pub name: Option<String>,
}

/// A document of the applicant data store (kho dữ liệu điện tử của tổ chức, cá nhân): a
/// result issued (kết quả giải quyết) or a digitised paper.
#[derive(Serialize, ToSchema)]
pub struct ApplicantDocument {
    /// `<dossier code>-KQ<n>` for a result, `<dossier code>-TP<position>` for a paper, as
    /// given for an imported result.
    pub id: String,
    /// `result` or `paper`.
    pub kind: String,
    /// The result's or the paper's name, e.g. `Giấy khai sinh`.
    pub name: String,
    /// Its number (số, ký hiệu), for a result.
    pub number: Option<String>,
    /// The agency that issued it, for a result.
    pub issuing_agency: Option<NamedAgency>,
    /// The day it was issued (for a paper, the day it was scanned).
    pub issued_on: NaiveDate,
    /// `null`: valid without limit.
    pub valid_until: Option<NaiveDate>,
    /// The dossier it comes from (`null` for some imported results).
    pub dossier_code: Option<String>,
    /// The procedure of that dossier.
    pub procedure_code: Option<String>,
    /// Its electronic copy has been uploaded.
    pub electronic: bool,
    /// The retention class (thời hạn lưu trữ): `permanent`, `70_years`, `50_years`,
    /// `20_years`, `10_years` or `5_years`.
    pub retention: String,
    /// Until when it is kept; `null`: permanently.
    pub retain_until: Option<NaiveDate>,
    /// How it came: `intake` (a paper scanned at intake), `decision` (a result issued
    /// here) or `import`.
    pub source: String,
}

/// The documents of an applicant still valid.
#[derive(Serialize, ToSchema)]
pub struct ApplicantDocuments {
    /// The documents still valid today.
    pub documents: Vec<ApplicantDocument>,
}

/// The upload: one part named `file`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file, PDF, JPEG or PNG (recognised by its content, not its name or declared
    /// type); its name is the part's `filename` (or `filename*`).
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    file: Vec<u8>,
}

/// The bytes of a file, for the description of a binary answer (a JSON array of numbers
/// is what `Vec<u8>` would describe).
pub struct BinaryContent;

impl utoipa::PartialSchema for BinaryContent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("The file's bytes."))
            .into()
    }
}

impl ToSchema for BinaryContent {}

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

/// A file as the API shows it.
pub fn dossier_file(app: &AppData, f: &FileView) -> DossierFile {
    let offset = app.settings.offset;
    DossierFile {
        id: f.id.clone(),
        file_name: f.file_name.clone(),
        paper_position: f.paper_position,
        document_id: f.document_id.clone(),
        sha256: f.sha256.clone(),
        size: f.size,
        media_type: f.media_type.clone(),
        uploaded_at: rfc3339(f.uploaded_at.fixed_offset(), offset),
        uploaded_by: f.uploaded_by.clone(),
        url: format!("/api/v1/dossiers/{}/files/{}", f.dossier_code, f.id),
    }
}

/// A document of the applicant data store as the API shows it.
pub fn applicant_document(app: &AppData, d: &DocumentView) -> ApplicantDocument {
    ApplicantDocument {
        id: d.id.clone(),
        kind: d.kind.clone(),
        name: d.name.clone(),
        number: d.number.clone(),
        issuing_agency: d.issuing_agency.as_deref().map(|c| NamedAgency {
            code: c.to_string(),
            name: app.agencies.get(c).map(|a| a.name.clone()),
        }),
        issued_on: d.issued_on,
        valid_until: d.valid_until,
        dossier_code: d.dossier_code.clone(),
        procedure_code: d.procedure_code.clone(),
        electronic: d.electronic,
        retention: d.retention.clone(),
        retain_until: d.retain_until,
        source: d.source.clone(),
    }
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

/// Attach a file to a dossier
///
/// Uploads a paper's scan (`?paper=<position>`: bản số hóa thành phần hồ sơ) or a result's
/// electronic copy (`?result` for the latest result issued, `?result=<document id>` for a
/// given one), as `multipart/form-data` with exactly one part named `file`. The content
/// must be PDF, JPEG or PNG, recognised from its bytes, and at most `[files]
/// max_upload_mb` (20 MB by default); a request whose `Content-Length` announces more
/// than that (plus 64 KiB for the envelope) is refused before a byte is read, and a body
/// shorter than announced is refused too. The content is stored once by its SHA-256;
/// the file, its document in the applicant data store (`<code>-TP<n>` for a scan, the
/// result's `<code>-KQ<n>`) and an audit record are written in one transaction; a
/// refused request stores nothing. A scan: staff (clerk, official, leader) of an agency
/// that may change the dossier, while it is not finished. A result's copy: staff of the
/// agency holding the dossier, once a result has been issued; the applicant is notified
/// when the result is ready for them. Each upload adds a file: not idempotent.
#[utoipa::path(
    post,
    path = "/api/v1/dossiers/{code}/files",
    tag = "files",
    params(
        ("code" = String, Path, description = "The dossier's code (mã hồ sơ)."),
        ("paper" = Option<i32>, Query, description = "The position of the paper scanned (1 to 1000; a paper of the dossier). Exactly one of `paper` and `result`."),
        ("result" = Option<String>, Query, description = "A result's electronic copy: empty (`?result`) for the latest result issued, or the result document's id (`<code>-KQ<n>`). Exactly one of `paper` and `result`."),
    ),
    request_body(content = UploadForm, content_type = "multipart/form-data", description = "One part named `file`, with its `filename`."),
    responses(
        (status = 201, description = "The file stored.", body = DossierFile),
        (status = 400, description = "`invalid_target`: not exactly one of `paper` (a number from 1 to 1000) and `result`; `invalid_multipart`: not multipart, or a part not named `file`; `too_many_files`: more than one file; `missing_file`: no part `file`; `incomplete_upload`: the body ended (or broke) before the file did, or its length differs from `Content-Length`.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a clerk, official or leader (a portal token included); a scan for a dossier the agency may only read (handed over elsewhere); a result's copy by an agency not holding the dossier.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such dossier in the caller's scope.", body = ErrorBody),
        (status = 409, description = "`invalid_state`: a scan for a finished dossier; `no_result`: a result's copy while no result (or not the one named) has been issued.", body = ErrorBody),
        (status = 413, description = "`file_too_large`: the file (or the announced body) is over the size limit.", body = ErrorBody),
        (status = 415, description = "`unsupported_file_type`: the content is not PDF, JPEG or PNG.", body = ErrorBody),
        (status = 422, description = "`invalid_paper`: the dossier has no paper at that position; `empty_file`: zero bytes; `truncated_file`: a PDF or image cut short; `invalid_file_name`: a file name empty, too long (over 200 characters), with a directory, a control character or a bidirectional override.", body = ErrorBody),
        (status = 500, description = "`storage_error`: the blob store failed; `internal_error`: an unexpected fault. Nothing was recorded.", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
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
    Ok(HttpResponse::Created().json(dossier_file(&app, &file)))
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

/// Download a dossier's file
///
/// The content of a file of a dossier the caller may see (staff of an agency of its scope,
/// or the portal client that submitted it), with the media type recognised at upload and
/// its name in `Content-Disposition`. Never cached.
#[utoipa::path(
    get,
    path = "/api/v1/dossiers/{code}/files/{id}",
    tag = "files",
    params(
        ("code" = String, Path, description = "The dossier's code (mã hồ sơ)."),
        ("id" = String, Path, description = "The file's id (`files[].id` of the dossier, or of the upload's answer)."),
    ),
    responses(
        (status = 200, description = "The file's content.",
            content(
                (inline(BinaryContent) = "application/pdf"),
                (inline(BinaryContent) = "image/jpeg"),
                (inline(BinaryContent) = "image/png"),
            ),
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"<ASCII name>\"; filename*=UTF-8''<percent-encoded name>`: the name it was uploaded under."),
                ("X-Content-Type-Options" = String, description = "`nosniff`."),
                ("Cache-Control" = String, description = "`no-store`."),
            )),
        (status = 404, description = "`not_found`: no such dossier in the caller's scope, or no such file of it.", body = ErrorBody),
        (status = 410, description = "`file_removed`: the content was destroyed at the end of its retention period.", body = ErrorBody),
        (status = 500, description = "`internal_error`: the stored content cannot be read.", body = ErrorBody),
    ),
    security(("staff_token" = []), ("portal_token" = [])),
)]
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

/// Download an electronic result
///
/// The applicant downloads the electronic copy of a result (kết quả điện tử) of their
/// dossier with its code and pin, once the result is ready or returned; no account. The
/// file is named `<document id>.<pdf|jpg|png>`. Any failure to prove the pair or to find
/// a ready result answers the lookup's one `404`, and counts as a failed lookup: too many
/// from one address or for one code are refused for a while (`429`).
#[utoipa::path(
    get,
    path = "/api/v1/public/dossiers/{code}/results/{document_id}",
    tag = "public",
    params(
        ("code" = String, Path, description = "The dossier's code (mã hồ sơ, on the receipt)."),
        ("document_id" = String, Path, description = "The result document's id, `<code>-KQ<n>` (as listed by the public lookup)."),
        ("pin" = String, Query, description = "The dossier's pin (mã tra cứu, on the receipt)."),
    ),
    responses(
        (status = 200, description = "The result's content.",
            content(
                (inline(BinaryContent) = "application/pdf"),
                (inline(BinaryContent) = "image/jpeg"),
                (inline(BinaryContent) = "image/png"),
            ),
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"<document id>.<ext>\"; filename*=UTF-8''<document id>.<ext>`."),
                ("X-Content-Type-Options" = String, description = "`nosniff`."),
                ("Cache-Control" = String, description = "`no-store`."),
            )),
        (status = 404, description = "`not_found`: no such dossier, a wrong pin, no such result of it with an electronic copy, or the result not ready yet — one answer for all (a control character or bidirectional override in the path or query too).", body = ErrorBody),
        (status = 410, description = "`file_removed`: the content was destroyed at the end of its retention period.", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many failed lookups from this address or for this code; try again after `Retry-After` seconds.", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait."))),
        (status = 500, description = "`internal_error`: the stored content cannot be read.", body = ErrorBody),
    ),
)]
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

/// The applicant's documents
///
/// The applicant data store (kho dữ liệu điện tử của tổ chức, cá nhân, NĐ 45/2020) of one
/// person or organisation: the results issued to them and their digitised papers still
/// valid today, for reuse at intake. Staff who handle dossiers (clerk, official,
/// leader); every read is recorded in the audit trail. Never cached.
#[utoipa::path(
    get,
    path = "/api/v1/applicants/{id_number}/documents",
    tag = "files",
    params(
        ("id_number" = String, Path, description = "The applicant's ID number (số định danh cá nhân, or the organisation's code): 1 to 20 ASCII letters and digits."),
    ),
    responses(
        (status = 200, description = "The documents still valid.", body = ApplicantDocuments,
            headers(("Cache-Control" = String, description = "`no-store`."))),
        (status = 400, description = "`invalid_id_number`: empty, longer than 20, or not letters and digits.", body = ErrorBody),
        (status = 403, description = "`forbidden`: not a clerk, official or leader (an admin, inspector or portal token).", body = ErrorBody),
    ),
    security(("staff_token" = [])),
)]
pub async fn applicant_documents(
    app: AppData,
    who: Authenticated,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let a = app.get_ref().clone();
    let docs = blocking(move || a.applicant_documents(&who.0, &id, a.clock.now())).await?;
    let documents = docs.iter().map(|d| applicant_document(&app, d)).collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(ApplicantDocuments { documents }))
}

/// The files and documents of a dossier, for the staff read.
pub fn dossier_files_json(
    app: &AppData,
    files: &[FileView],
    docs: &[DocumentView],
) -> (Value, Value) {
    let files: Vec<DossierFile> = files.iter().map(|f| dossier_file(app, f)).collect();
    let docs: Vec<ApplicantDocument> = docs.iter().map(|d| applicant_document(app, d)).collect();
    (
        serde_json::to_value(files).unwrap_or_default(),
        serde_json::to_value(docs).unwrap_or_default(),
    )
}
