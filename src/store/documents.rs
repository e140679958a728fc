//! Stored content (blobs), the files of each dossier, and the applicant data store
//! (*kho dữ liệu điện tử của tổ chức, cá nhân*).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{blobs, documents, dossier_files, dossier_papers, dossier_progress, dossiers};
use super::{DbConnection, Store, StoreResult};

/// One distinct content, by SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = blobs)]
pub struct BlobRow {
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub created_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

/// A document of the applicant data store: a result issued or a digitised paper.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = documents)]
pub struct DocumentRow {
    /// `<dossier code>-KQ<n>` for a result, `<dossier code>-TP<position>` for a paper,
    /// as given for an imported result.
    pub id: String,
    /// `result` or `paper`.
    pub kind: String,
    pub owner_id_number: String,
    pub owner_name: String,
    pub name: String,
    pub number: Option<String>,
    pub issuing_agency: Option<String>,
    pub issued_on: NaiveDate,
    /// `None`: valid without limit.
    pub valid_until: Option<NaiveDate>,
    pub dossier_code: Option<String>,
    pub procedure_code: Option<String>,
    /// The electronic copy, once uploaded.
    pub sha256: Option<String>,
    pub retention: String,
    /// `None`: kept permanently.
    pub retain_until: Option<NaiveDate>,
    /// `intake`, `decision` or `import`.
    pub source: String,
    /// For imports: the legacy system's key (makes the import idempotent).
    pub source_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub created_by: String,
}

/// A file uploaded for a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_files)]
pub struct FileRow {
    pub id: String,
    pub dossier_code: String,
    /// The paper scanned; `None` for a result file.
    pub paper_position: Option<i32>,
    pub document_id: Option<String>,
    pub file_name: String,
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
    pub uploaded_at: NaiveDateTime,
    pub uploaded_by: String,
}

/// Records content (once); content removed earlier and uploaded again is live again.
pub fn record_blob(conn: &mut DbConnection, blob: &BlobRow) -> StoreResult<()> {
    let known: Option<BlobRow> = blobs::table
        .find(&blob.sha256)
        .select(BlobRow::as_select())
        .first(conn)
        .optional()?;
    match known {
        None => {
            diesel::insert_into(blobs::table)
                .values(blob)
                .execute(conn)?;
        }
        Some(b) if b.removed_at.is_some() => {
            diesel::update(blobs::table.find(&blob.sha256))
                .set(blobs::removed_at.eq(None::<NaiveDateTime>))
                .execute(conn)?;
        }
        Some(_) => {}
    }
    Ok(())
}

pub fn insert_file(conn: &mut DbConnection, f: &FileRow) -> StoreResult<()> {
    diesel::insert_into(dossier_files::table)
        .values(f)
        .execute(conn)?;
    Ok(())
}

pub fn insert_document(conn: &mut DbConnection, d: &DocumentRow) -> StoreResult<()> {
    if let Some(code) = &d.dossier_code {
        super::changes::touch(code);
    }
    diesel::insert_into(documents::table)
        .values(d)
        .execute(conn)?;
    Ok(())
}

/// Attaches the electronic copy `sha256` to document `id`.
pub fn set_document_content(conn: &mut DbConnection, id: &str, sha256: &str) -> StoreResult<()> {
    // The dossier's public view lists its electronic results.
    let code: Option<Option<String>> = documents::table
        .find(id)
        .select(documents::dossier_code)
        .first(conn)
        .optional()?;
    if let Some(Some(code)) = code {
        super::changes::touch(&code);
    }
    diesel::update(documents::table.find(id))
        .set(documents::sha256.eq(sha256))
        .execute(conn)?;
    Ok(())
}

pub fn document(conn: &mut DbConnection, id: &str) -> StoreResult<Option<DocumentRow>> {
    Ok(documents::table
        .find(id)
        .select(DocumentRow::as_select())
        .first(conn)
        .optional()?)
}

/// The documents registered from dossier `code` (its results and digitised papers).
pub fn documents_of_dossier(conn: &mut DbConnection, code: &str) -> StoreResult<Vec<DocumentRow>> {
    Ok(documents::table
        .filter(documents::dossier_code.eq(code))
        .order(documents::id)
        .select(DocumentRow::as_select())
        .load(conn)?)
}

pub fn files_of_dossier(conn: &mut DbConnection, code: &str) -> StoreResult<Vec<FileRow>> {
    Ok(dossier_files::table
        .filter(dossier_files::dossier_code.eq(code))
        .order((dossier_files::uploaded_at, dossier_files::id))
        .select(FileRow::as_select())
        .load(conn)?)
}

/// Whether content `sha256` is stored and not removed.
pub fn blob_live(conn: &mut DbConnection, sha256: &str) -> StoreResult<bool> {
    let n: i64 = blobs::table
        .filter(blobs::sha256.eq(sha256))
        .filter(blobs::removed_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The dossier's digitisation facts: every paper has a file (or a reused document), a
/// paper was reused, results issued, results with their electronic copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digitisation {
    pub digitised: bool,
    pub reused: bool,
    pub results: i32,
    pub results_electronic: i32,
}

/// Updates the dossier's cached digitisation facts from its papers, files and results,
/// and returns them (a caller holding the progress row must copy them into it).
pub fn refresh_digitisation(conn: &mut DbConnection, code: &str) -> StoreResult<Digitisation> {
    let papers: Vec<(i32, Option<String>)> = dossier_papers::table
        .filter(dossier_papers::dossier_code.eq(code))
        .select((dossier_papers::position, dossier_papers::reuse_document_id))
        .load(conn)?;
    let scanned: Vec<Option<i32>> = dossier_files::table
        .filter(dossier_files::dossier_code.eq(code))
        .select(dossier_files::paper_position)
        .load(conn)?;
    let digitised = !papers.is_empty()
        && papers
            .iter()
            .all(|(pos, reuse)| reuse.is_some() || scanned.contains(&Some(*pos)));
    let reused = papers.iter().any(|(_, r)| r.is_some());
    let results: Vec<Option<String>> = documents::table
        .filter(documents::dossier_code.eq(code))
        .filter(documents::kind.eq("result"))
        .select(documents::sha256)
        .load(conn)?;
    let d = Digitisation {
        digitised,
        reused,
        results: results.len() as i32,
        results_electronic: results.iter().filter(|s| s.is_some()).count() as i32,
    };
    diesel::update(dossier_progress::table.find(code))
        .set((
            dossier_progress::digitised.eq(d.digitised),
            dossier_progress::reused.eq(d.reused),
            dossier_progress::results.eq(d.results),
            dossier_progress::results_electronic.eq(d.results_electronic),
        ))
        .execute(conn)?;
    Ok(d)
}

/// What the archive sweep needs to know about one stored content.
#[derive(Debug, Clone)]
pub struct BlobUse {
    pub blob: BlobRow,
    /// Files of dossiers holding it: (procedure, finished at).
    pub files: Vec<(String, Option<NaiveDateTime>)>,
    /// Documents holding it: their `retain_until`.
    pub documents: Vec<Option<NaiveDate>>,
    /// Papers of open dossiers reusing a document that holds it.
    pub reused_by_open_dossiers: bool,
}

impl Store {
    /// The applicant's documents still valid on `today`, newest first.
    pub fn valid_documents_of(
        &self,
        id_number: &str,
        today: NaiveDate,
    ) -> StoreResult<Vec<DocumentRow>> {
        Ok(documents::table
            .filter(documents::owner_id_number.eq(id_number))
            .filter(
                documents::valid_until
                    .is_null()
                    .or(documents::valid_until.ge(today)),
            )
            .order((documents::issued_on.desc(), documents::id))
            .select(DocumentRow::as_select())
            .load(&mut *self.conn()?)?)
    }

    pub fn find_document(&self, id: &str) -> StoreResult<Option<DocumentRow>> {
        document(&mut *self.conn()?, id)
    }

    /// Which of the documents `ids` have an electronic copy whose file is still kept
    /// (not removed by retention), in one query.
    pub fn documents_with_live_copy(
        &self,
        ids: &[String],
    ) -> StoreResult<std::collections::HashSet<String>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        Ok(documents::table
            .inner_join(blobs::table.on(documents::sha256.eq(blobs::sha256.nullable())))
            .filter(documents::id.eq_any(ids))
            .filter(blobs::removed_at.is_null())
            .select(documents::id)
            .load::<String>(&mut *self.conn()?)?
            .into_iter()
            .collect())
    }

    pub fn find_blob(&self, sha256: &str) -> StoreResult<Option<BlobRow>> {
        Ok(blobs::table
            .find(sha256)
            .select(BlobRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// A dossier's files and documents.
    pub fn dossier_documents(&self, code: &str) -> StoreResult<(Vec<FileRow>, Vec<DocumentRow>)> {
        let mut conn = self.conn()?;
        Ok((
            files_of_dossier(&mut conn, code)?,
            documents_of_dossier(&mut conn, code)?,
        ))
    }

    pub fn find_file(&self, id: &str) -> StoreResult<Option<FileRow>> {
        Ok(dossier_files::table
            .find(id)
            .select(FileRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }

    /// Every live stored content with what holds it (for the archive sweep).
    pub fn blob_uses(&self) -> StoreResult<Vec<BlobUse>> {
        let mut conn = self.conn()?;
        let live: Vec<BlobRow> = blobs::table
            .filter(blobs::removed_at.is_null())
            .order(blobs::sha256)
            .select(BlobRow::as_select())
            .load(&mut *conn)?;
        let files: Vec<(String, String, Option<NaiveDateTime>)> = dossier_files::table
            .inner_join(dossiers::table)
            .select((
                dossier_files::sha256,
                dossiers::procedure_code,
                dossiers::finished_at,
            ))
            .load(&mut *conn)?;
        let docs: Vec<(Option<String>, Option<NaiveDate>, String)> = documents::table
            .filter(documents::sha256.is_not_null())
            .select((documents::sha256, documents::retain_until, documents::id))
            .load(&mut *conn)?;
        let reused: Vec<String> = dossier_papers::table
            .inner_join(dossiers::table)
            .filter(dossiers::finished_at.is_null())
            .filter(dossier_papers::reuse_document_id.is_not_null())
            .select(dossier_papers::reuse_document_id.assume_not_null())
            .load(&mut *conn)?;
        let mut by_sha: std::collections::HashMap<String, BlobUse> = live
            .into_iter()
            .map(|b| {
                (
                    b.sha256.clone(),
                    BlobUse {
                        blob: b,
                        files: Vec::new(),
                        documents: Vec::new(),
                        reused_by_open_dossiers: false,
                    },
                )
            })
            .collect();
        for (sha, procedure, finished) in files {
            if let Some(u) = by_sha.get_mut(&sha) {
                u.files.push((procedure, finished));
            }
        }
        for (sha, retain, id) in docs {
            if let Some(u) = sha.and_then(|s| by_sha.get_mut(&s)) {
                u.documents.push(retain);
                if reused.contains(&id) {
                    u.reused_by_open_dossiers = true;
                }
            }
        }
        let mut out: Vec<BlobUse> = by_sha.into_values().collect();
        out.sort_by(|a, b| a.blob.sha256.cmp(&b.blob.sha256));
        Ok(out)
    }

    /// Every content hash the database knows (live or removed).
    pub fn known_blobs(&self) -> StoreResult<std::collections::HashSet<String>> {
        Ok(blobs::table
            .select(blobs::sha256)
            .load::<String>(&mut *self.conn()?)?
            .into_iter()
            .collect())
    }

    /// An imported document by its legacy key.
    pub fn document_by_source_key(&self, key: &str) -> StoreResult<Option<DocumentRow>> {
        Ok(documents::table
            .filter(documents::source_key.eq(key))
            .select(DocumentRow::as_select())
            .first(&mut *self.conn()?)
            .optional()?)
    }
}

/// Marks content removed by the sweep.
pub fn mark_removed(conn: &mut DbConnection, sha256: &str, at: NaiveDateTime) -> StoreResult<()> {
    diesel::update(blobs::table.find(sha256))
        .set(blobs::removed_at.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}
