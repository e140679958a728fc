//! The audit trail's hash chain: `motcua audit verify` finds a record edited, inserted or
//! deleted directly in the database, on both backends.

mod common;

use diesel::prelude::*;
use motcua::service::accounts::{cli_actor, NewUser};
use motcua::service::Role;
use motcua::store::schema::audit_log;

fn three_records(db: &common::TestDb) -> std::sync::Arc<motcua::app::App> {
    let app = common::app_for(db);
    for name in ["a01", "a02", "a03"] {
        app.create_user(
            &NewUser {
                username: name,
                full_name: "Lê Văn Tâm",
                role: Role::Clerk,
                agency: "000.00.51.H26",
                password: "mat-khau-du-dai",
            },
            &cli_actor(),
            chrono::Utc::now(),
        )
        .unwrap();
    }
    app
}

fn verify_with_binary(db: &common::TestDb) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["audit", "verify"])
        .env("MOTCUA_DATABASE_URL", &db.url)
        .env("MOTCUA_DATA_DIR", db.dir.path())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

fn tampering_is_detected(db: common::TestDb) {
    let app = three_records(&db);
    let report = app.store.verify_audit_chain().unwrap();
    assert_eq!(
        (report.records, report.problems.len()),
        (3, 0),
        "{report:?}"
    );
    let (code, out) = verify_with_binary(&db);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok: 3"), "{out}");

    // Someone edits record 2 directly in the database.
    diesel::update(audit_log::table.find(2i64))
        .set(audit_log::actor.eq("someone-else"))
        .execute(&mut *app.store.conn().unwrap())
        .unwrap();
    let report = app.store.verify_audit_chain().unwrap();
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert_eq!(report.problems[0].id, 2);
    assert!(report.problems[0].problem.contains("edited"));
    let (code, out) = verify_with_binary(&db);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bản ghi 2"), "{out}");

    // Deleting a record in the middle breaks the chain too.
    diesel::delete(audit_log::table.find(2i64))
        .execute(&mut *app.store.conn().unwrap())
        .unwrap();
    let report = app.store.verify_audit_chain().unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.id == 3 && p.problem.contains("deleted")),
        "{report:?}"
    );

    // And cutting off the last record shows at the head.
    diesel::delete(audit_log::table.find(3i64))
        .execute(&mut *app.store.conn().unwrap())
        .unwrap();
    let report = app.store.verify_audit_chain().unwrap();
    assert!(
        report.problems.iter().any(|p| p.problem.contains("head")),
        "{report:?}"
    );
}

#[test]
fn audit_verify_detects_tampering_on_sqlite() {
    tampering_is_detected(common::TestDb::sqlite());
}

#[test]
#[ignore = "needs PostgreSQL"]
fn audit_verify_detects_tampering_on_postgres() {
    tampering_is_detected(common::TestDb::postgres());
}
