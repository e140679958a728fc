//! Helpers shared by the integration tests: a fresh database per test on either
//! backend, and the application built over it from the shipped config/.
#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use diesel::{Connection, RunQueryDsl};
use motcua::app::App;
use motcua::config::{Config, Overrides};

/// A database that exists for one test and is dropped afterwards.
pub struct TestDb {
    pub url: String,
    /// A private data directory (server secret, stored files) for this test.
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// A SQLite file in a fresh temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/motcua.db", dir.path().display());
        Self { url, dir, pg: None }
    }

    /// A fresh database on the server named by `MOTCUA_TEST_PG_URL` (a role allowed to
    /// create databases). Panics when the variable is missing: these tests are
    /// `#[ignore = "needs PostgreSQL"]` and run by .ci/run with PostgreSQL started.
    pub fn postgres() -> Self {
        let admin = std::env::var("MOTCUA_TEST_PG_URL")
            .expect("MOTCUA_TEST_PG_URL is not set: PostgreSQL tests need a server (see .ci/run)");
        let name = format!(
            "motcua_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            chrono::Utc::now().timestamp_subsec_nanos()
        );
        let mut conn = diesel::PgConnection::establish(&admin)
            .unwrap_or_else(|e| panic!("cannot connect to MOTCUA_TEST_PG_URL: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create test database");
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin.clone());
        Self {
            url: format!("{base}/{name}"),
            dir: tempfile::tempdir().expect("temp dir"),
            pg: Some((admin, name)),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

/// The shipped configuration with the database replaced.
pub fn config(db_url: &str) -> Config {
    Config::load(
        Path::new("config"),
        &Overrides {
            database_url: Some(db_url.to_string()),
            ..Overrides::default()
        },
    )
    .expect("shipped configuration loads")
}

/// The shipped configuration over a test database and its private data directory.
pub fn config_for(db: &TestDb) -> Config {
    Config::load(
        Path::new("config"),
        &Overrides {
            database_url: Some(db.url.clone()),
            data_dir: Some(db.dir.path().display().to_string()),
            ..Overrides::default()
        },
    )
    .expect("shipped configuration loads")
}

/// The application over a test database, started (migrated and loaded) now.
pub fn app_for(db: &TestDb) -> Arc<App> {
    App::start(config_for(db), chrono::Utc::now()).expect("application starts")
}

/// Runs a test body on SQLite (always) and PostgreSQL (ignored unless asked for).
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn sqlite() {
                let db = common::TestDb::sqlite();
                ($body)(&db.url);
            }
            #[test]
            #[ignore = "needs PostgreSQL"]
            fn postgres() {
                let db = common::TestDb::postgres();
                ($body)(&db.url);
            }
        }
    };
}

/// The application over a test database, started at `at` with a manual clock showing
/// `at` (advance it with `app.clock.set(…)`).
pub fn app_at(db: &TestDb, at: chrono::DateTime<chrono::Utc>) -> Arc<App> {
    let mut app = App::start(config_for(db), at).expect("application starts");
    Arc::get_mut(&mut app).expect("not shared yet").clock = motcua::clock::Clock::manual(at);
    app
}

/// A moment written as local time, `YYYY-MM-DDTHH:MM`, in +07:00.
pub fn local(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(&format!("{s}:00+07:00"))
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&chrono::Utc)
}

/// A copy of the shipped config/ in a temporary directory (`<tmp>/config`) with
/// `default.toml` edited: each `(from, to)` replaces a text the file must hold.
pub fn config_copy_with(edits: &[(&str, &str)]) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("config");
    copy(
        Path::new(process::crate_root()).join("config").as_path(),
        &dir,
    );
    let settings = dir.join("default.toml");
    let mut text = std::fs::read_to_string(&settings).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "default.toml does not hold {from:?}");
        text = text.replacen(from, to, 1);
    }
    std::fs::write(&settings, text).unwrap();
    tmp
}

pub mod http;
pub mod process;

/// The body of a counter intake of a birth registration at a ward (the sample catalogue's
/// `1.001193.000.00.00.H26`, two papers): the tests that file dossiers without pause.
pub fn birth_registration(full_name: &str, id_number: &str) -> serde_json::Value {
    serde_json::json!({
        "procedure_code": "1.001193.000.00.00.H26",
        "channel": "counter",
        "applicant": {
            "full_name": full_name,
            "id_number": id_number,
            "phone": "0912345678"
        },
        "papers": [
            { "name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original", "count": 1 },
            { "name": "Giấy chứng sinh", "kind": "original", "count": 1 }
        ]
    })
}
