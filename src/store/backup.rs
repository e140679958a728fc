//! Copies of the database for `motcua backup` and `motcua restore` (issue #19).
//!
//! * **SQLite**: SQLite's online backup API (`sqlite3_backup_*`) through a connection of
//!   its own, while the server keeps writing: all pages are copied in one step inside one
//!   read transaction, so the copy is the database at one moment (in WAL mode the writers
//!   do not wait for it). The copy is then checked (`PRAGMA quick_check`).
//! * **PostgreSQL**: `pg_dump --format=custom` (one consistent snapshot, the server keeps
//!   running) and `pg_restore --single-transaction` into an empty database. The password
//!   travels in `PGPASSWORD`, never on a command line that `ps` shows.

use std::ffi::{CStr, CString};
use std::path::Path;
use std::process::Command;

use super::{StoreError, StoreResult};

/// Copies the SQLite database at `source` into the new file `dest` with the online backup
/// API; then checks the copy.
pub fn sqlite_backup(source: &Path, dest: &Path) -> StoreResult<()> {
    use libsqlite3_sys as ffi;
    let path = |p: &Path| {
        CString::new(p.as_os_str().as_encoded_bytes())
            .map_err(|_| StoreError::Unavailable(format!("bad path {}", p.display())))
    };
    let (src_path, dest_path) = (path(source)?, path(dest)?);
    if !source.is_file() {
        return Err(StoreError::Unavailable(format!(
            "no database file at {}",
            source.display()
        )));
    }
    let open = |p: &CStr, flags: i32| -> StoreResult<Db> {
        let mut db = std::ptr::null_mut();
        // SAFETY: a valid C string and an out pointer; the handle is closed by `Db`.
        let rc = unsafe { ffi::sqlite3_open_v2(p.as_ptr(), &mut db, flags, std::ptr::null()) };
        let db = Db(db);
        if rc != ffi::SQLITE_OK {
            return Err(StoreError::Unavailable(format!(
                "cannot open {}: {}",
                p.to_string_lossy(),
                errmsg(db.0)
            )));
        }
        // SAFETY: an open handle.
        unsafe { ffi::sqlite3_busy_timeout(db.0, 10_000) };
        Ok(db)
    };
    // Read and write (it only reads): a read-only handle cannot make the WAL's shared
    // memory file of a database no server has open.
    let src = open(&src_path, ffi::SQLITE_OPEN_READWRITE)?;
    let dst = open(
        &dest_path,
        ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE,
    )?;
    // SAFETY: two open handles; "main" names each one's database; the backup object is
    // finished before the handles close.
    unsafe {
        let b = ffi::sqlite3_backup_init(dst.0, c"main".as_ptr(), src.0, c"main".as_ptr());
        if b.is_null() {
            return Err(StoreError::Unavailable(format!(
                "backup: {}",
                errmsg(dst.0)
            )));
        }
        let mut rc;
        let mut waited = 0;
        loop {
            // Every page in one step: one read transaction, one moment.
            rc = ffi::sqlite3_backup_step(b, -1);
            if (rc == ffi::SQLITE_BUSY || rc == ffi::SQLITE_LOCKED) && waited < 600 {
                waited += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
            break;
        }
        let finished = ffi::sqlite3_backup_finish(b);
        if rc != ffi::SQLITE_DONE || finished != ffi::SQLITE_OK {
            return Err(StoreError::Unavailable(format!(
                "backup: {}",
                errmsg(dst.0)
            )));
        }
    }
    drop(src);
    // The copy stands alone: no WAL beside it, and it reads back whole.
    let check = sqlite_exec(&dst, "PRAGMA journal_mode = DELETE; PRAGMA quick_check;");
    drop(dst);
    check
}

/// An open SQLite handle, closed when dropped.
struct Db(*mut libsqlite3_sys::sqlite3);

impl Drop for Db {
    fn drop(&mut self) {
        // SAFETY: a handle from sqlite3_open_v2 (or null), closed once.
        unsafe { libsqlite3_sys::sqlite3_close(self.0) };
    }
}

fn errmsg(db: *mut libsqlite3_sys::sqlite3) -> String {
    if db.is_null() {
        return "out of memory".into();
    }
    // SAFETY: an open handle; the message is copied at once.
    unsafe { CStr::from_ptr(libsqlite3_sys::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned()
}

/// Runs `sql` on `db`; a `quick_check` answering anything but `ok` is an error.
fn sqlite_exec(db: &Db, sql: &str) -> StoreResult<()> {
    let handle = db.0;
    let sql = CString::new(sql).expect("no NUL in our SQL");
    let mut problems: Vec<String> = Vec::new();
    unsafe extern "C" fn row(
        ctx: *mut std::ffi::c_void,
        n: i32,
        values: *mut *mut std::ffi::c_char,
        _names: *mut *mut std::ffi::c_char,
    ) -> i32 {
        // SAFETY: `ctx` is the `problems` vector below; `values` holds `n` C strings or
        // nulls, valid during the call.
        let problems = unsafe { &mut *(ctx as *mut Vec<String>) };
        for i in 0..n as usize {
            let v = unsafe { *values.add(i) };
            if !v.is_null() {
                let s = unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned();
                if s != "ok" && s != "delete" {
                    problems.push(s);
                }
            }
        }
        0
    }
    let mut err = std::ptr::null_mut();
    // SAFETY: an open handle, a C string, a callback reading `problems` during the call.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_exec(
            handle,
            sql.as_ptr(),
            Some(row),
            &mut problems as *mut Vec<String> as *mut std::ffi::c_void,
            &mut err,
        )
    };
    if !err.is_null() {
        // SAFETY: sqlite3_exec's message, freed with sqlite3_free.
        let m = unsafe { CStr::from_ptr(err) }
            .to_string_lossy()
            .into_owned();
        unsafe { libsqlite3_sys::sqlite3_free(err as *mut std::ffi::c_void) };
        problems.push(m);
    }
    if rc != libsqlite3_sys::SQLITE_OK || !problems.is_empty() {
        return Err(StoreError::Unavailable(format!(
            "the copy does not read back whole: {}",
            problems.join("; ")
        )));
    }
    Ok(())
}

/// `PGHOST`… for a `postgres://` URL: the password apart (for `PGPASSWORD`), the rest as
/// the connection string to pass on the command line.
fn pg_target(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None);
    };
    match userinfo.split_once(':') {
        Some((user, password)) => (
            format!("{scheme}://{user}@{host}{tail}"),
            Some(percent_decode(password)),
        ),
        None => (url.to_string(), None),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn run(mut cmd: Command, what: &str) -> StoreResult<()> {
    let out = cmd.output().map_err(|e| {
        StoreError::Unavailable(format!(
            "{what}: cannot start it ({e}); install PostgreSQL's client programs"
        ))
    })?;
    if !out.status.success() {
        return Err(StoreError::Unavailable(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// `pg_dump --format=custom` of the database at `url` into the new file `dest`.
pub fn pg_dump(url: &str, dest: &Path) -> StoreResult<()> {
    let (target, password) = pg_target(url);
    let mut cmd = Command::new("pg_dump");
    cmd.args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
        .arg(dest)
        .arg("--dbname")
        .arg(&target);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    run(cmd, "pg_dump")
}

/// `pg_restore` of the dump `source` into the (empty) database at `url`, in one
/// transaction: all or nothing.
pub fn pg_restore(url: &str, source: &Path) -> StoreResult<()> {
    let (target, password) = pg_target(url);
    let mut cmd = Command::new("pg_restore");
    cmd.args([
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        "--dbname",
    ])
    .arg(&target)
    .arg(source);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    run(cmd, "pg_restore")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_command_line() {
        assert_eq!(
            pg_target("postgres://motcua:s%40cret@db:5432/motcua?sslmode=require"),
            (
                "postgres://motcua@db:5432/motcua?sslmode=require".to_string(),
                Some("s@cret".to_string())
            )
        );
        assert_eq!(
            pg_target("postgres://db/motcua"),
            ("postgres://db/motcua".to_string(), None)
        );
        assert_eq!(
            pg_target("postgresql://u@h/d"),
            ("postgresql://u@h/d".to_string(), None)
        );
    }
}
