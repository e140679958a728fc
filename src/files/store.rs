//! Content-addressed blob storage: the [`BlobStore`] / [`Upload`] traits and the
//! filesystem implementation [`FsBlobStore`].

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::sniff::{check_complete, sniff, MediaType, SNIFF_LEN, TAIL_LEN};
use super::FileProblem;

/// Where blobs live. Object-safe, so an S3-compatible store can follow.
pub trait BlobStore: Send + Sync {
    /// Starts writing a new upload; content goes to a private temporary place.
    fn begin(&self, max_size: u64) -> io::Result<Box<dyn Upload>>;
    /// Whether content `sha256` (lower-case hex) is stored.
    fn exists(&self, sha256: &str) -> io::Result<bool>;
    /// Reads stored content.
    fn open(&self, sha256: &str) -> io::Result<Box<dyn Read + Send>>;
    /// Removes stored content; `Ok(false)` if it was not there.
    fn remove(&self, sha256: &str) -> io::Result<bool>;
    /// Every stored content hash with its last-modified time (for sweeping orphans).
    fn list(&self) -> io::Result<Vec<(String, SystemTime)>>;
    /// Temporary uploads left behind (crashes) older than `age`: removes them, returns
    /// how many.
    fn clean_temporary(&self, age: Duration) -> io::Result<usize>;
}

/// One upload in progress.
pub trait Upload: Send {
    /// Appends a chunk: hashes it, counts it, and refuses past `max_size` with
    /// [`FileProblem::TooLarge`] (the temporary file is then deleted). The first
    /// chunk(s) are sniffed once 8 bytes are seen: wrong magic →
    /// [`FileProblem::UnsupportedType`] (temporary file deleted). After a refusal every
    /// further call returns the same problem.
    fn write(&mut self, chunk: &[u8]) -> Result<(), FileProblem>;
    /// Ends the upload: 0 bytes → [`FileProblem::Empty`]; checks completeness
    /// ([`check_complete`] on the tail kept in memory); then moves the content into place
    /// under its SHA-256 (if the same content is already stored, the temporary file is
    /// dropped and the existing file's modification time is refreshed so a concurrent
    /// sweep spares it).
    ///
    /// Dropping an `Upload` without calling `finish` deletes its temporary file.
    fn finish(self: Box<Self>) -> Result<StoredBlob, FileProblem>;
}

/// What [`Upload::finish`] stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// SHA-256 of the content, 64 lower-case hex characters.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The sniffed media type.
    pub media_type: MediaType,
    /// `false` when identical content was already stored (deduplicated). Under
    /// concurrent uploads of the same bytes both may report `true`; do not use it to
    /// decide deletions (see the module documentation).
    pub newly_stored: bool,
}

/// Blobs in a directory:
/// `root/objects/<2 hex>/<2 hex>/<64 hex>` and `root/tmp/<32 hex>.part`.
/// `tmp` and `objects` must be on the same filesystem (renames are atomic).
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    tmp: PathBuf,
    objects: PathBuf,
}

impl FsBlobStore {
    /// Opens (creating if needed) a store rooted at `root`.
    pub fn new(root: PathBuf) -> io::Result<Self> {
        let tmp = root.join("tmp");
        let objects = root.join("objects");
        fs::create_dir_all(&tmp)?;
        fs::create_dir_all(&objects)?;
        Ok(FsBlobStore { tmp, objects })
    }

    /// The path of content `sha256`; only ever called with a validated hash.
    fn object_path(objects: &Path, sha256: &str) -> PathBuf {
        debug_assert!(is_sha256_hex(sha256));
        objects.join(&sha256[..2]).join(&sha256[2..4]).join(sha256)
    }

    fn checked_path(&self, sha256: &str) -> io::Result<PathBuf> {
        if is_sha256_hex(sha256) {
            Ok(Self::object_path(&self.objects, sha256))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a lower-case hex SHA-256",
            ))
        }
    }
}

/// Exactly 64 characters `0-9a-f`.
fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Exactly 2 characters `0-9a-f` (a fan-out directory name).
fn is_fanout_hex(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `Ok(None)` when `path` vanished meanwhile (a concurrent removal).
fn read_dir_if_present(path: &Path) -> io::Result<Option<fs::ReadDir>> {
    match fs::read_dir(path) {
        Ok(rd) => Ok(Some(rd)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl BlobStore for FsBlobStore {
    fn begin(&self, max_size: u64) -> io::Result<Box<dyn Upload>> {
        let mut attempts = 0;
        let (path, file) = loop {
            let mut rnd = [0u8; 16];
            getrandom::fill(&mut rnd).map_err(|e| io::Error::other(e.to_string()))?;
            let path = self.tmp.join(format!("{}.part", hex::encode(rnd)));
            let mut opts = File::options();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            match opts.open(&path) {
                Ok(file) => break (path, file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 3 => {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        };
        Ok(Box::new(FsUpload {
            objects: self.objects.clone(),
            tmp_path: Some(path),
            file: Some(BufWriter::with_capacity(64 * 1024, file)),
            hasher: Sha256::new(),
            size: 0,
            max_size,
            head: Vec::with_capacity(SNIFF_LEN),
            kind: None,
            tail: Vec::with_capacity(TAIL_LEN),
            failed: None,
        }))
    }

    fn exists(&self, sha256: &str) -> io::Result<bool> {
        match fs::metadata(self.checked_path(sha256)?) {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn open(&self, sha256: &str) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(File::open(self.checked_path(sha256)?)?))
    }

    fn remove(&self, sha256: &str) -> io::Result<bool> {
        match fs::remove_file(self.checked_path(sha256)?) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn list(&self) -> io::Result<Vec<(String, SystemTime)>> {
        let mut out = Vec::new();
        for d1 in fs::read_dir(&self.objects)? {
            let d1 = d1?;
            let Some(n1) = d1.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !is_fanout_hex(&n1) {
                continue;
            }
            let Some(rd2) = read_dir_if_present(&d1.path())? else {
                continue;
            };
            for d2 in rd2 {
                let d2 = d2?;
                let Some(n2) = d2.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if !is_fanout_hex(&n2) {
                    continue;
                }
                let Some(rd3) = read_dir_if_present(&d2.path())? else {
                    continue;
                };
                for f in rd3 {
                    let f = f?;
                    let Some(name) = f.file_name().to_str().map(str::to_owned) else {
                        continue;
                    };
                    if !is_sha256_hex(&name) || name[..2] != n1 || name[2..4] != n2 {
                        continue;
                    }
                    let meta = match f.metadata() {
                        Ok(m) => m,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                        Err(e) => return Err(e),
                    };
                    if meta.is_file() {
                        out.push((name, meta.modified()?));
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    fn clean_temporary(&self, age: Duration) -> io::Result<usize> {
        let Some(cutoff) = SystemTime::now().checked_sub(age) else {
            return Ok(0);
        };
        let mut removed = 0;
        for entry in fs::read_dir(&self.tmp)? {
            let entry = entry?;
            let name = entry.file_name();
            if !name.to_str().is_some_and(|n| n.ends_with(".part")) {
                continue;
            }
            // DirEntry::metadata does not follow symbolic links.
            let meta = match entry.metadata() {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if !meta.is_file() || meta.modified()? >= cutoff {
                continue;
            }
            match fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }
}

/// An upload into a [`FsBlobStore`].
struct FsUpload {
    objects: PathBuf,
    /// `None` once the temporary file is gone (moved into place or deleted).
    tmp_path: Option<PathBuf>,
    file: Option<BufWriter<File>>,
    hasher: Sha256,
    size: u64,
    max_size: u64,
    /// The first [`SNIFF_LEN`] bytes, until sniffed.
    head: Vec<u8>,
    kind: Option<MediaType>,
    /// The last [`TAIL_LEN`] bytes.
    tail: Vec<u8>,
    /// Set by the first refusal; the upload is dead from then on.
    failed: Option<FileProblem>,
}

impl FsUpload {
    /// Deletes the temporary file (without flushing buffered bytes into it).
    fn discard(&mut self) {
        if let Some(w) = self.file.take() {
            let (file, _unwritten) = w.into_parts();
            drop(file);
        }
        if let Some(path) = self.tmp_path.take() {
            if let Err(e) = fs::remove_file(&path) {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(path = %path.display(), error = %e, "could not delete temporary upload");
                }
            }
        }
    }

    /// Refuses the upload for good: deletes the temporary file and remembers why.
    fn fail(&mut self, problem: FileProblem) -> FileProblem {
        self.discard();
        self.failed = Some(problem.clone());
        problem
    }

    fn keep_tail(&mut self, chunk: &[u8]) {
        if chunk.len() >= TAIL_LEN {
            self.tail.clear();
            self.tail
                .extend_from_slice(&chunk[chunk.len() - TAIL_LEN..]);
        } else {
            let excess = (self.tail.len() + chunk.len()).saturating_sub(TAIL_LEN);
            self.tail.drain(..excess);
            self.tail.extend_from_slice(chunk);
        }
    }

    /// Flushes, restricts permissions, syncs and closes the temporary file; then moves
    /// it into place (or drops it when the content is already stored).
    fn commit(&mut self, sha256: &str) -> io::Result<bool> {
        let writer = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("upload already closed"))?;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o640))?;
        }
        file.sync_all()?;
        drop(file);

        let tmp = self
            .tmp_path
            .clone()
            .ok_or_else(|| io::Error::other("temporary file already gone"))?;
        let dest = FsBlobStore::object_path(&self.objects, sha256);
        let dir = dest.parent().expect("object paths have a parent");
        fs::create_dir_all(dir)?;

        // Already stored? Touch it so that a sweep running now spares it. If it vanishes
        // between the two steps (swept), fall through and store ours.
        match File::options().write(true).open(&dest) {
            Ok(existing) => {
                existing.set_modified(SystemTime::now())?;
                drop(existing);
                self.discard();
                return Ok(false);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        fs::rename(&tmp, &dest)?;
        self.tmp_path = None;
        // Make the rename itself durable (best effort: not every platform allows it).
        #[cfg(unix)]
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(true)
    }
}

impl Upload for FsUpload {
    fn write(&mut self, chunk: &[u8]) -> Result<(), FileProblem> {
        if let Some(p) = &self.failed {
            return Err(p.clone());
        }
        if chunk.is_empty() {
            return Ok(());
        }
        let new_size = self.size.saturating_add(chunk.len() as u64);
        if new_size > self.max_size {
            return Err(self.fail(FileProblem::TooLarge {
                limit: self.max_size,
            }));
        }
        if self.kind.is_none() {
            let take = (SNIFF_LEN - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            if self.head.len() == SNIFF_LEN {
                match sniff(&self.head) {
                    Some(kind) => self.kind = Some(kind),
                    None => return Err(self.fail(FileProblem::UnsupportedType)),
                }
            }
        }
        let written = match self.file.as_mut() {
            Some(w) => w.write_all(chunk),
            None => Err(io::Error::other("upload already closed")),
        };
        if let Err(e) = written {
            return Err(self.fail(e.into()));
        }
        self.hasher.update(chunk);
        self.size = new_size;
        self.keep_tail(chunk);
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<StoredBlob, FileProblem> {
        if let Some(p) = self.failed.take() {
            return Err(p);
        }
        if self.size == 0 {
            return Err(self.fail(FileProblem::Empty));
        }
        // Content shorter than SNIFF_LEN has not been sniffed yet.
        let Some(kind) = self.kind.or_else(|| sniff(&self.head)) else {
            return Err(self.fail(FileProblem::UnsupportedType));
        };
        if let Err(p) = check_complete(kind, &self.tail) {
            return Err(self.fail(p));
        }
        let sha256 = hex::encode(std::mem::take(&mut self.hasher).finalize());
        match self.commit(&sha256) {
            Ok(newly_stored) => Ok(StoredBlob {
                sha256,
                size: self.size,
                media_type: kind,
                newly_stored,
            }),
            Err(e) => Err(self.fail(e.into())),
        }
    }
}

impl Drop for FsUpload {
    fn drop(&mut self) {
        self.discard();
    }
}

#[cfg(test)]
mod tests {
    use super::super::sniff::fixtures::{jpeg, pdf, png};
    use super::*;

    const MB: u64 = 1024 * 1024;

    fn store() -> (tempfile::TempDir, FsBlobStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = FsBlobStore::new(dir.path().to_path_buf()).unwrap();
        (dir, s)
    }

    fn put(s: &FsBlobStore, bytes: &[u8]) -> Result<StoredBlob, FileProblem> {
        let mut u = s.begin(MB).unwrap();
        u.write(bytes)?;
        u.finish()
    }

    fn count(dir: &Path) -> usize {
        fs::read_dir(dir).unwrap().count()
    }

    fn tmp_is_empty(dir: &tempfile::TempDir) -> bool {
        count(&dir.path().join("tmp")) == 0
    }

    fn object_files(dir: &tempfile::TempDir) -> usize {
        fn walk(p: &Path) -> usize {
            fs::read_dir(p)
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    if e.file_type().unwrap().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        }
        walk(&dir.path().join("objects"))
    }

    fn read_all(s: &FsBlobStore, sha: &str) -> Vec<u8> {
        let mut v = Vec::new();
        s.open(sha).unwrap().read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn new_creates_tmp_and_objects() {
        let (dir, _s) = store();
        assert!(dir.path().join("tmp").is_dir());
        assert!(dir.path().join("objects").is_dir());
        // Opening again is fine.
        FsBlobStore::new(dir.path().to_path_buf()).unwrap();
    }

    #[test]
    fn stores_each_kind_under_its_sha256_and_reads_it_back() {
        let (dir, s) = store();
        for (bytes, kind) in [
            (pdf(), MediaType::Pdf),
            (jpeg(), MediaType::Jpeg),
            (png(), MediaType::Png),
        ] {
            let b = put(&s, &bytes).unwrap();
            let expected = hex::encode(Sha256::digest(&bytes));
            assert_eq!(b.sha256, expected);
            assert_eq!(b.size, bytes.len() as u64);
            assert_eq!(b.media_type, kind);
            assert!(b.newly_stored);
            let path = dir
                .path()
                .join("objects")
                .join(&expected[..2])
                .join(&expected[2..4])
                .join(&expected);
            assert!(path.is_file(), "{}", path.display());
            assert!(s.exists(&expected).unwrap());
            assert_eq!(read_all(&s, &expected), bytes);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(&path).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o640);
            }
        }
        assert!(tmp_is_empty(&dir));
        assert_eq!(object_files(&dir), 3);
    }

    #[test]
    fn byte_by_byte_chunks_give_the_same_result() {
        let (dir, s) = store();
        let mut big = pdf();
        // Make it longer than the kept tail and the write buffer.
        let body = b"% filler line inside a PDF comment\n".repeat(3000);
        big.splice(9..9, body);
        let mut u = s.begin(MB).unwrap();
        for b in &big {
            u.write(std::slice::from_ref(b)).unwrap();
        }
        let b = u.finish().unwrap();
        assert_eq!(b.sha256, hex::encode(Sha256::digest(&big)));
        assert_eq!(read_all(&s, &b.sha256), big);
        // Uneven chunks, some larger than the tail.
        let (dir2, s2) = store();
        let mut u = s2.begin(MB).unwrap();
        for part in big.chunks(1500) {
            u.write(part).unwrap();
            u.write(&[]).unwrap();
        }
        let b2 = u.finish().unwrap();
        assert_eq!(b2, b);
        assert!(tmp_is_empty(&dir) && tmp_is_empty(&dir2));
    }

    #[test]
    fn same_content_twice_is_stored_once() {
        let (dir, s) = store();
        let first = put(&s, &png()).unwrap();
        let second = put(&s, &png()).unwrap();
        assert!(first.newly_stored);
        assert!(!second.newly_stored);
        assert_eq!(first.sha256, second.sha256);
        assert_eq!(object_files(&dir), 1);
        assert!(tmp_is_empty(&dir));
        assert_eq!(read_all(&s, &first.sha256), png());
    }

    #[test]
    fn storing_again_refreshes_the_modification_time() {
        let (_dir, s) = store();
        let b = put(&s, &jpeg()).unwrap();
        let path = FsBlobStore::object_path(&s.objects, &b.sha256);
        let old = SystemTime::now() - Duration::from_secs(30 * 24 * 3600);
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let (listed, mtime) = s.list().unwrap().pop().unwrap();
        assert_eq!(listed, b.sha256);
        assert!(mtime < SystemTime::now() - Duration::from_secs(29 * 24 * 3600));
        assert!(!put(&s, &jpeg()).unwrap().newly_stored);
        let (_, mtime) = s.list().unwrap().pop().unwrap();
        assert!(mtime > SystemTime::now() - Duration::from_secs(3600));
    }

    #[test]
    fn over_the_limit_is_refused_and_temporary_deleted() {
        let (dir, s) = store();
        let mut u = s.begin(10).unwrap();
        u.write(b"%PDF-1").unwrap();
        assert_eq!(count(&dir.path().join("tmp")), 1);
        assert_eq!(
            u.write(b".4\n%%E"),
            Err(FileProblem::TooLarge { limit: 10 })
        );
        assert!(tmp_is_empty(&dir));
        // The upload stays refused.
        assert_eq!(u.write(b"x"), Err(FileProblem::TooLarge { limit: 10 }));
        assert_eq!(u.finish(), Err(FileProblem::TooLarge { limit: 10 }));
        assert!(tmp_is_empty(&dir));
        assert_eq!(object_files(&dir), 0);
    }

    #[test]
    fn exactly_the_limit_is_accepted() {
        let (_dir, s) = store();
        let bytes = png();
        let mut u = s.begin(bytes.len() as u64).unwrap();
        u.write(&bytes).unwrap();
        assert_eq!(u.finish().unwrap().size, bytes.len() as u64);
    }

    #[test]
    fn wrong_magic_is_refused_and_temporary_deleted() {
        let (dir, s) = store();
        let mut u = s.begin(MB).unwrap();
        // Split so that sniffing happens across chunks.
        u.write(b"MZ\x90\x00").unwrap();
        assert_eq!(
            u.write(b"\x03\x00\x00\x00\x04\x00"),
            Err(FileProblem::UnsupportedType)
        );
        assert!(tmp_is_empty(&dir));
        assert_eq!(u.finish(), Err(FileProblem::UnsupportedType));

        let html = b"<!DOCTYPE html><title>%PDF-</title>";
        assert_eq!(put(&s, html), Err(FileProblem::UnsupportedType));
        // Shorter than the sniff length: decided at finish.
        assert_eq!(put(&s, b"MZ"), Err(FileProblem::UnsupportedType));
        assert!(tmp_is_empty(&dir));
        assert_eq!(object_files(&dir), 0);
    }

    #[test]
    fn empty_upload_is_refused() {
        let (dir, s) = store();
        let mut u = s.begin(MB).unwrap();
        u.write(b"").unwrap();
        assert_eq!(u.finish(), Err(FileProblem::Empty));
        assert!(tmp_is_empty(&dir));
        assert_eq!(object_files(&dir), 0);
    }

    #[test]
    fn dropped_upload_leaves_no_temporary() {
        let (dir, s) = store();
        let mut u = s.begin(MB).unwrap();
        u.write(&pdf()[..20]).unwrap();
        assert_eq!(count(&dir.path().join("tmp")), 1);
        drop(u);
        assert!(tmp_is_empty(&dir));
        assert_eq!(object_files(&dir), 0);
    }

    #[test]
    fn truncated_content_is_refused_and_nothing_stored() {
        let (dir, s) = store();
        let p = pdf();
        assert_eq!(put(&s, &p[..p.len() - 8]), Err(FileProblem::Truncated));
        let j = jpeg();
        assert_eq!(put(&s, &j[..j.len() - 1]), Err(FileProblem::Truncated));
        let g = png();
        assert_eq!(put(&s, &g[..g.len() - 4]), Err(FileProblem::Truncated));
        // Recognised from fewer than 8 bytes, but incomplete.
        assert_eq!(put(&s, b"%PDF-"), Err(FileProblem::Truncated));
        assert!(tmp_is_empty(&dir));
        assert_eq!(object_files(&dir), 0);
        assert!(s.list().unwrap().is_empty());
    }

    #[test]
    fn remove_and_list() {
        let (_dir, s) = store();
        assert!(s.list().unwrap().is_empty());
        let a = put(&s, &pdf()).unwrap().sha256;
        let b = put(&s, &png()).unwrap().sha256;
        let mut expected = vec![a.clone(), b.clone()];
        expected.sort();
        let listed: Vec<String> = s.list().unwrap().into_iter().map(|(h, _)| h).collect();
        assert_eq!(listed, expected);
        assert!(s.remove(&a).unwrap());
        assert!(!s.remove(&a).unwrap());
        assert!(!s.exists(&a).unwrap());
        assert_eq!(
            s.open(&a).err().map(|e| e.kind()),
            Some(io::ErrorKind::NotFound)
        );
        let listed: Vec<String> = s.list().unwrap().into_iter().map(|(h, _)| h).collect();
        assert_eq!(listed, vec![b]);
    }

    #[test]
    fn list_ignores_foreign_files() {
        let (dir, s) = store();
        let b = put(&s, &pdf()).unwrap().sha256;
        let objects = dir.path().join("objects");
        fs::write(objects.join("README"), b"x").unwrap();
        fs::create_dir_all(objects.join("zz").join("00")).unwrap();
        let d = objects.join(&b[..2]).join(&b[2..4]);
        fs::write(d.join(format!("{b}.bak")), b"x").unwrap();
        // A valid-looking hash in the wrong directory.
        fs::write(d.join("f".repeat(64)), b"x").unwrap();
        let listed: Vec<String> = s.list().unwrap().into_iter().map(|(h, _)| h).collect();
        assert_eq!(listed, vec![b]);
    }

    #[test]
    fn clean_temporary_removes_only_old_parts() {
        let (dir, s) = store();
        let tmp = dir.path().join("tmp");
        let old = SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
        let stray = tmp.join("0123456789abcdef0123456789abcdef.part");
        fs::write(&stray, b"%PDF-half").unwrap();
        File::options()
            .write(true)
            .open(&stray)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let other = tmp.join("keep.txt");
        fs::write(&other, b"x").unwrap();
        File::options()
            .write(true)
            .open(&other)
            .unwrap()
            .set_modified(old)
            .unwrap();
        // An upload in progress is fresh and must survive.
        let mut live = s.begin(MB).unwrap();
        live.write(&pdf()[..10]).unwrap();

        assert_eq!(
            s.clean_temporary(Duration::from_secs(24 * 3600)).unwrap(),
            1
        );
        assert!(!stray.exists());
        assert!(other.exists());
        assert_eq!(count(&tmp), 2);
        live.write(&pdf()[10..]).unwrap();
        assert!(live.finish().unwrap().newly_stored);
        assert_eq!(
            s.clean_temporary(Duration::from_secs(24 * 3600)).unwrap(),
            0
        );
        // An absurd age removes nothing rather than failing.
        assert_eq!(s.clean_temporary(Duration::MAX).unwrap(), 0);
    }

    #[test]
    fn hostile_hashes_are_refused() {
        let (dir, s) = store();
        fs::write(dir.path().join("secret"), b"x").unwrap();
        let good = hex::encode(Sha256::digest(b"x"));
        let hostile = [
            "../x".to_owned(),
            "../../secret".to_owned(),
            String::new(),
            good.to_uppercase(),
            good[..63].to_owned(),
            format!("{good}0"),
            format!("{}/..", &good[..61]),
            format!("{}g", &good[..63]),
        ];
        for h in &hostile {
            let kind = |r: io::Result<()>| r.err().map(|e| e.kind());
            let invalid = Some(io::ErrorKind::InvalidInput);
            assert_eq!(kind(s.exists(h).map(drop)), invalid, "{h:?}");
            assert_eq!(kind(s.open(h).map(drop)), invalid, "{h:?}");
            assert_eq!(kind(s.remove(h).map(drop)), invalid, "{h:?}");
        }
        assert!(dir.path().join("secret").exists());
        assert!(!s.exists(&good).unwrap());
    }

    #[test]
    fn store_is_usable_as_a_trait_object() {
        let (_dir, s) = store();
        let s: std::sync::Arc<dyn BlobStore> = std::sync::Arc::new(s);
        let s2 = s.clone();
        let b = std::thread::spawn(move || {
            let mut u = s2.begin(MB).unwrap();
            u.write(&pdf()).unwrap();
            u.finish().unwrap()
        })
        .join()
        .unwrap();
        assert!(s.exists(&b.sha256).unwrap());
    }
}
