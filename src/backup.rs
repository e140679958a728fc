//! `motcua backup --to DIR` and `motcua restore --from DIR` (issue #19): the database and
//! the files store together, taken while the server runs, restored into an empty data
//! directory or an empty database.
//!
//! A backup directory holds:
//! - `motcua.db` (SQLite, by the online backup API) or `motcua.dump` (PostgreSQL,
//!   `pg_dump --format=custom`), taken **first**;
//! - `files/objects/…`, the stored files, copied **after** the database: a file is
//!   renamed into place before the row that names it commits, so every file the copy
//!   of the database names is there (files added since are copied too, harmlessly);
//! - `secret.key` when the server's secret was generated into the data directory (pins
//!   and the audit checkpoints are keyed with it: a backup without it cannot be checked);
//!   keep the directory as private as the database itself;
//! - `manifest.json`, written last: a directory without it is an unfinished backup, and
//!   `restore` refuses it. It records the database file's SHA-256, checked at restore.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::store::{backup as db, parse_url, Backend, Store, StoreOptions};

/// What `manifest.json` says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// 1.
    pub format: u32,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// RFC 3339, when the database copy was taken.
    pub taken_at: String,
    /// The motcua version that took it.
    pub version: String,
    /// The database file in the directory and its SHA-256.
    pub database_file: String,
    pub database_sha256: String,
    pub database_bytes: u64,
    /// Stored files copied, and their bytes.
    pub files: u64,
    pub files_bytes: u64,
    /// Whether `secret.key` is in the directory.
    pub secret_key: bool,
}

const MANIFEST: &str = "manifest.json";

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// Takes a backup of the database and files store of `settings` into `to` (absent or an
/// empty directory).
pub fn backup(settings: &Settings, to: &Path) -> anyhow::Result<Manifest> {
    let (backend, target) = parse_url(&settings.database_url)?;
    if to.exists() {
        let mut entries = fs::read_dir(to).with_context(|| format!("reading {}", to.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty: a backup goes into a new directory",
                to.display()
            );
        }
    }
    create_private_dir(to)?;
    let taken_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let database_file = match backend {
        Backend::Sqlite => {
            let dest = to.join("motcua.db");
            db::sqlite_backup(Path::new(&target), &dest)?;
            "motcua.db"
        }
        Backend::Postgres => {
            let dest = to.join("motcua.dump");
            db::pg_dump(&target, &dest)?;
            "motcua.dump"
        }
    };
    let (database_sha256, database_bytes) = sha256_of(&to.join(database_file))?;
    let (files, files_bytes) = copy_tree(
        &settings.data_dir.join("files").join("objects"),
        &to.join("files").join("objects"),
    )?;
    let secret = settings.data_dir.join("secret.key");
    let secret_key = secret.is_file();
    if secret_key {
        copy_private(&secret, &to.join("secret.key"))?;
    }
    let manifest = Manifest {
        format: 1,
        backend: backend_name(backend).into(),
        taken_at,
        version: env!("CARGO_PKG_VERSION").into(),
        database_file: database_file.into(),
        database_sha256,
        database_bytes,
        files,
        files_bytes,
        secret_key,
    };
    // Last, through a rename: its presence means the backup is whole.
    let tmp = to.join(".manifest.json.tmp");
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, to.join(MANIFEST))?;
    sync_dir(to);
    Ok(manifest)
}

/// Restores the backup in `from` into the database and data directory of `settings`:
/// the database must be empty (no tables; a SQLite file absent), the files store empty.
pub fn restore(settings: &Settings, from: &Path) -> anyhow::Result<Manifest> {
    let manifest: Manifest =
        serde_json::from_slice(&fs::read(from.join(MANIFEST)).with_context(|| {
            format!(
                "{} has no {MANIFEST}: not a finished backup",
                from.display()
            )
        })?)
        .with_context(|| format!("reading {}", from.join(MANIFEST).display()))?;
    if manifest.format != 1 {
        bail!(
            "backup format {} is not known to this version",
            manifest.format
        );
    }
    let (backend, target) = parse_url(&settings.database_url)?;
    if manifest.backend != backend_name(backend) {
        bail!(
            "the backup is of a {} database; the configured database is {}",
            manifest.backend,
            backend_name(backend)
        );
    }
    let file = from.join(&manifest.database_file);
    let (sha, _) = sha256_of(&file)?;
    if sha != manifest.database_sha256 {
        bail!(
            "{} does not match its manifest (SHA-256 {sha}, expected {}): the backup is damaged",
            file.display(),
            manifest.database_sha256
        );
    }
    // Everything is checked before anything is written.
    let objects = settings.data_dir.join("files").join("objects");
    if count_files(&objects)? > 0 {
        bail!(
            "{} already holds files: restore into an empty data directory",
            objects.display()
        );
    }
    let secret_dest = settings.data_dir.join("secret.key");
    if manifest.secret_key && secret_dest.exists() {
        let here = fs::read(&secret_dest)?;
        let there = fs::read(from.join("secret.key"))?;
        if here != there {
            bail!(
                "{} holds another server secret than the backup's: restore into an empty data directory",
                secret_dest.display()
            );
        }
    }
    match backend {
        Backend::Sqlite => {
            let dest = PathBuf::from(&target);
            if dest.exists() && fs::metadata(&dest)?.len() > 0 {
                bail!(
                    "{} exists: restore into an empty data directory",
                    dest.display()
                );
            }
            if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
                fs::create_dir_all(dir)?;
            }
            let tmp = dest.with_extension("db.restoring");
            fs::copy(&file, &tmp)?;
            fs::File::open(&tmp)?.sync_all()?;
            fs::rename(&tmp, &dest)?;
        }
        Backend::Postgres => {
            let store = Store::open(&settings.database_url, &StoreOptions::default())?;
            let tables = store.table_count()?;
            if tables > 0 {
                bail!("the database already has {tables} tables: restore into an empty database");
            }
            drop(store);
            db::pg_restore(&target, &file)?;
        }
    }
    fs::create_dir_all(settings.data_dir.join("files"))?;
    copy_tree(&from.join("files").join("objects"), &objects)?;
    if manifest.secret_key && !secret_dest.exists() {
        copy_private(&from.join("secret.key"), &secret_dest)?;
    }
    Ok(manifest)
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(to, fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

fn sha256_of(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut f = fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex::encode(h.finalize()), total))
}

/// Copies every file under `from` (absent: nothing) to the same place under `to`;
/// (files, bytes).
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<(u64, u64)> {
    let mut files = 0;
    let mut bytes = 0;
    let entries = match fs::read_dir(from) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(anyhow!(e).context(format!("reading {}", from.display()))),
    };
    fs::create_dir_all(to)?;
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            let (f, b) = copy_tree(&entry.path(), &dest)?;
            files += f;
            bytes += b;
        } else if kind.is_file() {
            bytes += fs::copy(entry.path(), &dest)
                .with_context(|| format!("copying {}", entry.path().display()))?;
            files += 1;
        }
    }
    Ok((files, bytes))
}

fn count_files(dir: &Path) -> anyhow::Result<u64> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut n = 0;
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            n += count_files(&entry.path())?;
        } else {
            n += 1;
        }
    }
    Ok(n)
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
