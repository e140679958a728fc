//! Digitised papers and results (NĐ 45/2020, NĐ 107/2021; DOMAIN.md sections 3 and 8):
//! files attached to a dossier, the results it issues, the applicant data store and its
//! reading, the citizen's download of an electronic result, and the archive sweep.
//!
//! An upload is streamed into the blob store first (content-addressed, size-limited,
//! recognised by content); the rows that record it are then written in one transaction.
//! A crash in between leaves only stored content that no row records: nothing refers to
//! it, and the archive sweep removes it after a grace period.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use super::views::{self, DocumentView, FileView, ResultDownload};
use super::{Caller, Role};
use crate::app::App;
use crate::core::catalogue::retain_until;
use crate::error::{AppError, AppResult};
use crate::files::{FileProblem, StoredBlob};
use crate::store::audit::{self, AuditEntry};
use crate::store::documents::{self, BlobRow, DocumentRow, FileRow};
use crate::store::dossiers::{self, DossierRow};
use crate::store::{to_db, StoreError};

/// A valid document of the applicant data store, as a counter offers it for reuse.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReusableDocument {
    pub id: String,
    pub name: String,
    /// Number, issue date, issuer, validity, in words.
    pub detail: String,
    /// Its electronic copy is stored: it can stand for a paper (intake checks the same).
    pub reusable: bool,
}

/// What an uploaded file is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileTarget {
    /// The scan of the dossier's paper at this position (1-based).
    Paper(i32),
    /// The electronic copy of a result document (its id; `None`: the latest result).
    Result(Option<String>),
}

/// The answer to a problem with an uploaded file: 413 for size, 415 for type, 422 else.
pub fn file_error(p: &FileProblem) -> AppError {
    use crate::error::ErrorKind;
    let kind = match p {
        FileProblem::TooLarge { .. } => ErrorKind::PayloadTooLarge,
        FileProblem::UnsupportedType => ErrorKind::UnsupportedMediaType,
        FileProblem::Io(_) => ErrorKind::Internal,
        _ => ErrorKind::Invalid,
    };
    if let FileProblem::Io(e) = p {
        tracing::error!(error = %e, "file storage failed");
    }
    AppError::new(kind, p.code(), p.message_vi())
}

fn staff_only(caller: &Caller) -> AppResult<()> {
    if matches!(caller.role, Role::Clerk | Role::Official | Role::Leader) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "Chỉ cán bộ tiếp nhận, xử lý hồ sơ được thực hiện việc này",
        ))
    }
}

impl App {
    /// Checks, before any byte is read, that `caller` may attach a file for `target` to
    /// dossier `code`: staff of an agency in scope for a paper's scan, staff of the agency
    /// holding the dossier for a result; the paper or result must exist.
    pub fn check_attach(&self, caller: &Caller, code: &str, target: &FileTarget) -> AppResult<()> {
        self.attach_target(caller, code, target).map(|_| ())
    }

    /// [`App::check_attach`], giving what it read: the dossier, its papers and, for a
    /// result file, the result document.
    fn attach_target(
        &self,
        caller: &Caller,
        code: &str,
        target: &FileTarget,
    ) -> AppResult<(
        DossierRow,
        Vec<crate::store::dossiers::PaperRow>,
        Option<DocumentRow>,
    )> {
        staff_only(caller)?;
        let (d, papers, _) = self.dossier_for(caller, code)?;
        let result = match target {
            FileTarget::Paper(pos) => {
                if !self.may_write(caller, &d) {
                    return Err(AppError::forbidden(
                        "Cơ quan chỉ được xem hồ sơ đã chuyển đi: không bổ sung bản số hóa",
                    ));
                }
                if !papers.iter().any(|p| p.position == *pos) {
                    return Err(AppError::invalid(
                        "invalid_paper",
                        format!("Hồ sơ không có thành phần số {pos}"),
                    ));
                }
                if d.finished_at.is_some() {
                    return Err(AppError::conflict(
                        "invalid_state",
                        "Hồ sơ đã kết thúc: không bổ sung bản số hóa thành phần hồ sơ",
                    ));
                }
                None
            }
            FileTarget::Result(id) => {
                if d.current_agency != caller.agency {
                    return Err(AppError::forbidden(
                        "Chỉ cơ quan đang giữ hồ sơ mới đính kèm kết quả điện tử",
                    ));
                }
                Some(self.result_target(&d, id.as_deref())?)
            }
        };
        Ok((d, papers, result))
    }

    fn result_target(&self, d: &DossierRow, id: Option<&str>) -> AppResult<DocumentRow> {
        let (_, docs) = self.store.dossier_documents(&d.code)?;
        // The one named, or the latest issued (KQ10 after KQ9).
        let found = docs
            .into_iter()
            .filter(|x| x.kind == "result")
            .filter(|x| id.is_none_or(|i| x.id == i))
            .max_by_key(|x| (x.created_at, x.id.len(), x.id.clone()));
        found.ok_or_else(|| {
            AppError::conflict(
                "no_result",
                "Hồ sơ chưa có kết quả được cấp (quyết định phê duyệt) để đính kèm",
            )
        })
    }

    /// Records `blob` (already in the blob store) as the file `file_name` of dossier `code`
    /// for `target`, in one transaction with its audit record.
    pub fn attach_file(
        &self,
        caller: &Caller,
        code: &str,
        target: &FileTarget,
        file_name: &str,
        blob: &StoredBlob,
        now: DateTime<Utc>,
    ) -> AppResult<FileView> {
        let (d, papers, result_doc) = self.attach_target(caller, code, target)?;
        let at = to_db(now);
        let id = random_id()?;
        let actor = caller.actor();
        let row = self.store.write(None, |conn| {
            documents::record_blob(
                conn,
                &BlobRow {
                    sha256: blob.sha256.clone(),
                    size: blob.size as i64,
                    media_type: blob.media_type.as_str().into(),
                    created_at: at,
                    removed_at: None,
                },
            )?;
            let document_id = match target {
                FileTarget::Paper(pos) => {
                    // The scan joins the applicant's data store as a digitised paper.
                    let doc_id = format!("{}-TP{pos}", d.code);
                    match documents::document(conn, &doc_id)? {
                        Some(_) => documents::set_document_content(conn, &doc_id, &blob.sha256)?,
                        None => {
                            let paper = papers.iter().find(|p| p.position == *pos);
                            let local = now.with_timezone(&self.settings.offset).date_naive();
                            let retention = self
                                .catalogue
                                .get(&d.procedure_code)
                                .map(|p| p.retention.clone())
                                .unwrap_or_else(|| "permanent".into());
                            documents::insert_document(
                                conn,
                                &DocumentRow {
                                    id: doc_id.clone(),
                                    kind: "paper".into(),
                                    owner_id_number: d.applicant_id_number.clone(),
                                    owner_name: d.applicant_name.clone(),
                                    name: paper.map(|p| p.name.clone()).unwrap_or_default(),
                                    number: None,
                                    issuing_agency: None,
                                    issued_on: local,
                                    valid_until: None,
                                    dossier_code: Some(d.code.clone()),
                                    procedure_code: Some(d.procedure_code.clone()),
                                    sha256: Some(blob.sha256.clone()),
                                    retain_until: retain_until(&retention, local),
                                    retention,
                                    source: "intake".into(),
                                    source_key: None,
                                    created_at: at,
                                    created_by: caller.username.clone(),
                                },
                            )?;
                        }
                    }
                    Some(doc_id)
                }
                FileTarget::Result(_) => {
                    let doc = result_doc.as_ref().expect("checked");
                    documents::set_document_content(conn, &doc.id, &blob.sha256)?;
                    Some(doc.id.clone())
                }
            };
            let row = FileRow {
                id: id.clone(),
                dossier_code: d.code.clone(),
                paper_position: match target {
                    FileTarget::Paper(p) => Some(*p),
                    FileTarget::Result(_) => None,
                },
                document_id,
                file_name: file_name.to_string(),
                sha256: blob.sha256.clone(),
                size: blob.size as i64,
                media_type: blob.media_type.as_str().into(),
                uploaded_at: at,
                uploaded_by: caller.username.clone(),
            };
            documents::insert_file(conn, &row)?;
            let before = dossiers::dossier_for_update(conn, &d.code)?;
            let dg = documents::refresh_digitisation(conn, &d.code)?;
            if let Some((drow, p)) = before {
                let mut after = p.clone();
                after.digitised = dg.digitised;
                after.reused = dg.reused;
                after.results = dg.results;
                after.results_electronic = dg.results_electronic;
                self.roll(conn, Some((&drow, &p)), (&drow, &after))?;
                // The applicant may now download the result from the status page.
                if matches!(target, FileTarget::Result(_)) && drow.result_ready {
                    self.notify_result_attached(conn, &drow, crate::store::from_db(at))?;
                }
            }
            audit::append(
                conn,
                AuditEntry {
                    actor: &actor,
                    at,
                    action: "dossier.file",
                    entity: "dossier",
                    entity_id: &d.code,
                    detail: json!({
                        "file": row.id,
                        "paper": row.paper_position,
                        "document": row.document_id,
                        "sha256": row.sha256,
                        "size": row.size,
                        "media_type": row.media_type,
                    }),
                },
            )?;
            Ok::<_, StoreError>(row)
        })?;
        tracing::info!(code = %d.code, file = %row.id, size = row.size, media_type = %row.media_type, "file attached");
        Ok(row.into())
    }

    /// A file of a dossier `caller` may see, and where to read it.
    pub fn file_for(&self, caller: &Caller, code: &str, id: &str) -> AppResult<FileView> {
        let _ = self.dossier_for(caller, code)?;
        match self.store.find_file(id)? {
            Some(f) if f.dossier_code == code => {
                self.live(&f.sha256)?;
                Ok(f.into())
            }
            _ => Err(AppError::not_found()),
        }
    }

    /// The stored content `sha256`, unless the archive sweep removed it (410).
    fn live(&self, sha256: &str) -> AppResult<BlobRow> {
        match self.store.find_blob(sha256)? {
            Some(b) if b.removed_at.is_none() => Ok(b),
            Some(_) => Err(AppError::new(
                crate::error::ErrorKind::Gone,
                "file_removed",
                "Tệp đã hết thời hạn lưu trữ và đã được hủy",
            )),
            None => Err(AppError::not_found()),
        }
    }

    /// The applicant's electronic result `document_id` of dossier `code`, for the citizen
    /// proven by code and pin (failures count like failed lookups), with where its content
    /// is and its media type.
    pub fn public_result(
        &self,
        code: &str,
        pin_given: &str,
        document_id: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> AppResult<ResultDownload> {
        let (d, _) = self.prove(
            code,
            &super::lookup::Proof::Pin(pin_given.to_string()),
            address,
            now,
        )?;
        let doc = self
            .store
            .find_document(document_id)?
            .filter(|x| x.kind == "result" && x.dossier_code.as_deref() == Some(&d.code))
            .filter(|x| x.sha256.is_some())
            .ok_or_else(AppError::not_found)?;
        let sha256 = doc.sha256.clone().unwrap_or_default();
        let blob = self.live(&sha256)?;
        if d.status != "returned" && !d.result_ready {
            return Err(AppError::not_found());
        }
        Ok(ResultDownload {
            document: doc.into(),
            sha256,
            media_type: blob.media_type,
        })
    }

    /// `GET /api/v1/applicants/{id_number}/documents`: the applicant's results and
    /// digitised papers still valid today. Every read leaves an audit record.
    pub fn applicant_documents(
        &self,
        caller: &Caller,
        id_number: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<DocumentView>> {
        staff_only(caller)?;
        let id = id_number.trim();
        if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(AppError::bad_request(
                "invalid_id_number",
                "Số định danh không hợp lệ",
            ));
        }
        let today = now.with_timezone(&self.settings.offset).date_naive();
        let docs = self.store.valid_documents_of(id, today)?;
        let actor = caller.actor();
        self.store.write(None, |conn| {
            audit::append(
                conn,
                AuditEntry {
                    actor: &actor,
                    at: to_db(now),
                    action: "applicant.documents.read",
                    entity: "applicant",
                    entity_id: id,
                    detail: json!({ "documents": docs.len() }),
                },
            )
        })?;
        Ok(views::all(docs))
    }

    /// The applicant's documents as offered for reuse at the counter (a view of
    /// [`App::applicant_documents`], audited the same way).
    pub fn reusable_documents(
        &self,
        caller: &Caller,
        id_number: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<ReusableDocument>> {
        let docs = self.applicant_documents(caller, id_number, now)?;
        let ids: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
        let live = self.store.documents_with_live_copy(&ids)?;
        Ok(docs
            .into_iter()
            .map(|d| {
                let reusable = live.contains(&d.id);
                let mut detail = Vec::new();
                if let Some(n) = &d.number {
                    detail.push(format!("số {n}"));
                }
                detail.push(format!("cấp ngày {}", d.issued_on.format("%d/%m/%Y")));
                if let Some(a) = &d.issuing_agency {
                    detail.push(
                        self.agencies
                            .get(a)
                            .map(|x| x.name.clone())
                            .unwrap_or_else(|| a.clone()),
                    );
                }
                detail.push(match d.valid_until {
                    Some(u) => format!("hiệu lực đến {}", u.format("%d/%m/%Y")),
                    None => "không thời hạn".into(),
                });
                ReusableDocument {
                    id: d.id,
                    name: d.name,
                    detail: detail.join(", "),
                    reusable,
                }
            })
            .collect())
    }

    /// The local date at `now`.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.settings.offset).date_naive()
    }
}

/// A random identifier for a stored file row (128 bits, hex).
fn random_id() -> AppResult<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        AppError::internal()
    })?;
    Ok(hex::encode(b))
}
