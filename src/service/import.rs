//! `motcua import results FILE.csv`: results issued before this system (or by another
//! one) enter the applicant data store so they can be reused (NĐ 45/2020 Art. 25:
//! digitising earlier results). Idempotent by the legacy key; every rejected row is
//! reported with its line and reason; each row is its own transaction.
//!
//! Columns (a header row, UTF-8, comma-separated; order free, names as below):
//! `source_key` (the legacy system's unique key: letters, digits, `.`, `_`, `-`, `/`),
//! `id_number`, `full_name`, `document_name`, `number` (optional), `issuing_agency` (an
//! agency code or a name), `issued_on` (dd/mm/yyyy or yyyy-mm-dd), `valid_until`
//! (optional, empty for no limit), `procedure_code` (optional: gives the retention
//! class), `file` (optional: the scan, a path relative to the CSV file; PDF, JPEG, PNG).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use crate::app::App;
use crate::core::applicant::{check_id_number, IdKind};
use crate::core::catalogue::retain_until;
use crate::core::text;
use crate::files::FileProblem;
use crate::store::audit::{self, Actor, AuditEntry};
use crate::store::documents::{self, BlobRow, DocumentRow};
use crate::store::{to_db, StoreError};

const COLUMNS: &[&str] = &[
    "source_key",
    "id_number",
    "full_name",
    "document_name",
    "number",
    "issuing_agency",
    "issued_on",
    "valid_until",
    "procedure_code",
    "file",
];
const REQUIRED: &[&str] = &[
    "source_key",
    "id_number",
    "full_name",
    "document_name",
    "issued_on",
];

/// A row refused, with its line in the file (the header is line 1).
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    pub line: u64,
    pub source_key: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub rows: u64,
    pub imported: u64,
    /// Rows whose key was imported before (idempotence).
    pub already_present: u64,
    pub rejected: Vec<Rejected>,
}

/// Why a whole file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("không đọc được {0}: {1}")]
    Read(String, String),
    #[error("dòng tiêu đề thiếu cột bắt buộc: {0}")]
    MissingColumns(String),
    #[error("cột không được hỗ trợ: {0} (các cột: {1})")]
    UnknownColumn(String, String),
    #[error("{0}")]
    Store(String),
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%d/%m/%Y")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        .ok()
}

fn key_ok(k: &str) -> bool {
    (1..=80).contains(&k.len())
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
}

impl App {
    /// Imports legacy results from the CSV file at `path`; `progress(done, total)` is
    /// called after each row.
    pub fn import_results(
        &self,
        path: &Path,
        actor: &Actor,
        now: DateTime<Utc>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<ImportReport, ImportError> {
        let raw = std::fs::read(path)
            .map_err(|e| ImportError::Read(path.display().to_string(), e.to_string()))?;
        let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&raw);
        let base = path.parent().unwrap_or(Path::new("."));
        let total = raw
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            .saturating_sub(1) as u64;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(raw);
        let headers = reader
            .headers()
            .map_err(|e| ImportError::Read(path.display().to_string(), e.to_string()))?
            .clone();
        let index: HashMap<String, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_lowercase(), i))
            .collect();
        if let Some(unknown) = index.keys().find(|k| !COLUMNS.contains(&k.as_str())) {
            return Err(ImportError::UnknownColumn(
                unknown.clone(),
                COLUMNS.join(", "),
            ));
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|c| !index.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns(missing.join(", ")));
        }
        let today = self.today(now);
        let mut report = ImportReport::default();
        for (n, record) in reader.records().enumerate() {
            let line = n as u64 + 2;
            report.rows += 1;
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    report.rejected.push(Rejected {
                        line,
                        source_key: String::new(),
                        reason: format!("dòng CSV không đọc được: {e}"),
                    });
                    progress(report.rows, total.max(report.rows));
                    continue;
                }
            };
            let get = |c: &str| {
                index
                    .get(c)
                    .and_then(|i| record.get(*i))
                    .map(text::nfc)
                    .map(|s| s.trim().to_string())
                    .unwrap_or_default()
            };
            let key = get("source_key");
            match self.import_row(&get, &key, base, today, actor, now) {
                Ok(true) => report.imported += 1,
                Ok(false) => report.already_present += 1,
                Err(reason) => report.rejected.push(Rejected {
                    line,
                    source_key: key,
                    reason,
                }),
            }
            progress(report.rows, total.max(report.rows));
        }
        Ok(report)
    }

    /// One row: `Ok(true)` imported, `Ok(false)` already there, `Err(reason)` refused.
    fn import_row(
        &self,
        get: &dyn Fn(&str) -> String,
        key: &str,
        base: &Path,
        today: NaiveDate,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<bool, String> {
        if !key_ok(key) {
            return Err("source_key phải có 1–80 ký tự gồm chữ, số, dấu . _ - /".into());
        }
        let store_err = |e: StoreError| format!("lỗi cơ sở dữ liệu: {e}");
        if self
            .store
            .document_by_source_key(key)
            .map_err(store_err)?
            .is_some()
        {
            return Ok(false);
        }
        let id_raw = get("id_number");
        let kind = if id_raw.bytes().all(|b| b.is_ascii_digit()) {
            IdKind::PersonalId
        } else {
            IdKind::Passport
        };
        let id_number = check_id_number(kind, &id_raw).map_err(|m| format!("id_number: {m}"))?;
        let full_name = text::name(&get("full_name"), 200)
            .ok()
            .flatten()
            .ok_or("full_name trống, quá dài hoặc có ký tự không hợp lệ")?;
        let name = text::bounded(&get("document_name"), 300)
            .ok()
            .flatten()
            .ok_or("document_name trống, quá dài hoặc có ký tự không hợp lệ")?;
        let number = text::bounded(&get("number"), 100)
            .map_err(|_| "number quá dài hoặc có ký tự không hợp lệ")?;
        let issuing = text::bounded(&get("issuing_agency"), 300)
            .map_err(|_| "issuing_agency quá dài hoặc có ký tự không hợp lệ")?;
        let issued_on =
            date(&get("issued_on")).ok_or("issued_on phải là ngày dd/mm/yyyy hoặc yyyy-mm-dd")?;
        if issued_on > today {
            return Err("issued_on ở tương lai".into());
        }
        let valid_until = match get("valid_until").as_str() {
            "" => None,
            v => Some(date(v).ok_or("valid_until phải là ngày dd/mm/yyyy hoặc yyyy-mm-dd")?),
        };
        if valid_until.is_some_and(|v| v < issued_on) {
            return Err("valid_until trước issued_on".into());
        }
        let procedure_code = Some(get("procedure_code")).filter(|p| !p.is_empty());
        let retention = match &procedure_code {
            None => "permanent".to_string(),
            Some(p) => self
                .catalogue
                .get(p)
                .map(|p| p.retention.clone())
                .ok_or_else(|| format!("procedure_code {p} không có trong danh mục"))?,
        };
        let blob = match get("file").as_str() {
            "" => None,
            f => Some(self.store_legacy_file(base, f)?),
        };
        let at = to_db(now);
        let row = DocumentRow {
            id: format!("NK-{key}"),
            kind: "result".into(),
            owner_id_number: id_number,
            owner_name: full_name,
            name,
            number,
            issuing_agency: issuing,
            issued_on,
            valid_until,
            dossier_code: None,
            procedure_code,
            sha256: blob.as_ref().map(|b| b.sha256.clone()),
            retain_until: retain_until(&retention, issued_on),
            retention,
            source: "import".into(),
            source_key: Some(key.to_string()),
            created_at: at,
            created_by: actor.username.clone(),
        };
        self.store
            .write(None, |conn| {
                if let Some(b) = &blob {
                    documents::record_blob(
                        conn,
                        &BlobRow {
                            sha256: b.sha256.clone(),
                            size: b.size as i64,
                            media_type: b.media_type.as_str().into(),
                            created_at: at,
                            removed_at: None,
                        },
                    )?;
                }
                documents::insert_document(conn, &row)?;
                audit::append(
                    conn,
                    AuditEntry {
                        actor,
                        at,
                        action: "document.import",
                        entity: "document",
                        entity_id: &row.id,
                        detail: json!({ "source_key": key, "electronic": blob.is_some() }),
                    },
                )
            })
            .map_err(store_err)?;
        Ok(true)
    }

    /// Stores a legacy scan like an upload: recognised by content, size-limited.
    fn store_legacy_file(
        &self,
        base: &Path,
        relative: &str,
    ) -> Result<crate::files::StoredBlob, String> {
        let rel = Path::new(relative);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(format!(
                "file {relative}: phải là đường dẫn nằm trong thư mục của tệp CSV"
            ));
        }
        let mut f = std::fs::File::open(base.join(rel))
            .map_err(|e| format!("file {relative}: không mở được ({e})"))?;
        let mut upload = self
            .files
            .begin(self.settings.max_upload_bytes)
            .map_err(|e| format!("file {relative}: {e}"))?;
        let mut buf = vec![0u8; 64 * 1024];
        let problem = |p: FileProblem| format!("file {relative}: {}", p.message_vi());
        loop {
            let n = f
                .read(&mut buf)
                .map_err(|e| format!("file {relative}: không đọc được ({e})"))?;
            if n == 0 {
                break;
            }
            upload.write(&buf[..n]).map_err(problem)?;
        }
        upload.finish().map_err(problem)
    }
}
