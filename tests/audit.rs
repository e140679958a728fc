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
                email: None,
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

/// A returned dossier's outcome cannot be changed even by a direct UPDATE, and the event
/// history can be neither edited nor deleted: the database refuses.
fn the_outcome_and_the_history_are_fixed_in_the_database(db: common::TestDb) {
    use motcua::core::dossier::Channel;
    use motcua::core::machine::{Decision, Event};
    use motcua::store::schema::{dossier_events, dossiers};
    let app = common::app_for(&db);
    common::http::users(
        &app,
        &[
            ("clerk1", Role::Clerk, "000.00.51.H26"),
            ("leader1", Role::Leader, "000.00.51.H26"),
        ],
    );
    let caller = |username: &str, role| motcua::service::Caller {
        username: username.into(),
        full_name: username.into(),
        role,
        agency: "000.00.51.H26".into(),
        address: None,
    };
    let req: motcua::service::intake::IntakeRequest = serde_json::from_value(serde_json::json!({
        "procedure_code": "1.001193.000.00.00.H26", "channel": "counter",
        "applicant": {"full_name": "Đỗ Minh Khoa", "id_number": "001095006789"},
        "papers": [{"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                   {"name": "Giấy chứng sinh", "kind": "original"}]
    }))
    .unwrap();
    let now = chrono::Utc::now();
    let r = app
        .receive(&caller("clerk1", Role::Clerk), &req, now)
        .unwrap();
    app.record_event(
        &caller("leader1", Role::Leader),
        &r.code,
        &Event::Decide {
            outcome: Decision::Approved,
            reason: None,
            result: None,
        },
        now,
    )
    .unwrap();
    let done = app
        .record_event(
            &caller("clerk1", Role::Clerk),
            &r.code,
            &Event::Return {
                channel: Channel::Counter,
            },
            now,
        )
        .unwrap();
    let outcome = done.dossier.outcome.clone().unwrap();
    let other = if outcome == "late" { "on_time" } else { "late" };
    let mut conn = app.store.conn().unwrap();
    let err = diesel::update(dossiers::table.find(&r.code))
        .set(dossiers::outcome.eq(other))
        .execute(&mut *conn)
        .unwrap_err();
    assert!(err.to_string().contains("outcome_fixed"), "{err}");
    let err = diesel::update(dossiers::table.find(&r.code))
        .set(dossiers::finished_at.eq(None::<chrono::NaiveDateTime>))
        .execute(&mut *conn)
        .unwrap_err();
    assert!(err.to_string().contains("outcome_fixed"), "{err}");
    let err =
        diesel::update(dossier_events::table.filter(dossier_events::dossier_code.eq(&r.code)))
            .set(dossier_events::kind.eq("receive"))
            .execute(&mut *conn)
            .unwrap_err();
    assert!(err.to_string().contains("append_only"), "{err}");
    let err =
        diesel::delete(dossier_events::table.filter(dossier_events::dossier_code.eq(&r.code)))
            .execute(&mut *conn)
            .unwrap_err();
    assert!(err.to_string().contains("append_only"), "{err}");
    // Other columns of the row still change (e.g. the rating's bookkeeping).
    diesel::update(dossiers::table.find(&r.code))
        .set(dossiers::updated_at.eq(motcua::store::to_db(chrono::Utc::now())))
        .execute(&mut *conn)
        .unwrap();
    let stored: Option<String> = dossiers::table
        .find(&r.code)
        .select(dossiers::outcome)
        .first(&mut *conn)
        .unwrap();
    assert_eq!(stored.as_deref(), Some(outcome.as_str()));
}

#[test]
fn the_outcome_and_the_history_are_fixed_on_sqlite() {
    the_outcome_and_the_history_are_fixed_in_the_database(common::TestDb::sqlite());
}

#[test]
#[ignore = "needs PostgreSQL"]
fn the_outcome_and_the_history_are_fixed_on_postgres() {
    the_outcome_and_the_history_are_fixed_in_the_database(common::TestDb::postgres());
}
