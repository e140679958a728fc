//! The audit trail's hash chain: `motcua audit verify` finds a record edited, inserted or
//! deleted directly in the database, on both backends.

mod common;

use diesel::prelude::*;
use motcua::service::Role;
use motcua::store::audit::{self, Actor, AuditEntry, AuditRow, ChainReport};
use motcua::store::schema::{audit_checkpoints, audit_log, audit_streams};

/// Records written through the store's API, as every command does: `n` records on the
/// stream of `entity`/`id`.
fn write(app: &motcua::app::App, entity: &str, id: &str, n: usize) {
    let actor = Actor {
        username: "admin".into(),
        role: "admin".into(),
        address: Some("127.0.0.1".into()),
    };
    for i in 0..n {
        app.store
            .write(None, |conn| {
                audit::append(
                    conn,
                    AuditEntry {
                        actor: &actor,
                        at: motcua::store::to_db(chrono::Utc::now()),
                        action: "test.write",
                        entity,
                        entity_id: id,
                        detail: serde_json::json!({ "i": i }),
                    },
                )
            })
            .unwrap();
    }
}

fn row(app: &motcua::app::App, id: i64) -> AuditRow {
    audit_log::table
        .find(id)
        .select(AuditRow::as_select())
        .first(&mut *app.store.conn().unwrap())
        .unwrap()
}

/// Puts a record back (or in) as given, every column.
fn put(app: &motcua::app::App, r: &AuditRow) {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(r.id),
            audit_log::at.eq(r.at),
            audit_log::actor.eq(&r.actor),
            audit_log::role.eq(&r.role),
            audit_log::address.eq(&r.address),
            audit_log::action.eq(&r.action),
            audit_log::entity.eq(&r.entity),
            audit_log::entity_id.eq(&r.entity_id),
            audit_log::detail.eq(&r.detail),
            audit_log::prev_hash.eq(&r.prev_hash),
            audit_log::hash.eq(&r.hash),
            audit_log::stream.eq(&r.stream),
            audit_log::stream_seq.eq(r.stream_seq),
            audit_log::seal_seq.eq(r.seal_seq),
        ))
        .execute(&mut *app.store.conn().unwrap())
        .unwrap();
}

fn delete(app: &motcua::app::App, id: i64) -> AuditRow {
    let r = row(app, id);
    diesel::delete(audit_log::table.find(id))
        .execute(&mut *app.store.conn().unwrap())
        .unwrap();
    r
}

/// What an attacker who knows the algorithm (not the secret) computes for a record.
fn rehash(r: &mut AuditRow) {
    r.hash = audit::record_hash(r);
}

/// Rewrites a record in place, every column.
fn replace(app: &motcua::app::App, r: &AuditRow) {
    delete(app, r.id);
    put(app, r);
}

fn set_head(app: &motcua::app::App, stream: &str, seq: i64, hash: &str) {
    diesel::update(audit_streams::table.find(stream))
        .set((
            audit_streams::last_seq.eq(seq),
            audit_streams::last_hash.eq(hash),
        ))
        .execute(&mut *app.store.conn().unwrap())
        .unwrap();
}

fn verify(app: &motcua::app::App) -> ChainReport {
    app.store.verify_audit_chain(&app.keys.audit).unwrap()
}

fn problems(r: &ChainReport) -> Vec<(i64, String)> {
    r.problems
        .iter()
        .map(|p| (p.id, p.problem.clone()))
        .collect()
}

fn assert_clean(app: &motcua::app::App, records: i64) {
    let r = verify(app);
    assert!(r.problems.is_empty(), "{r:?}");
    assert_eq!(r.records, records, "{r:?}");
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

/// Before the sealer has run (the last seconds' records), the streams alone find an edit,
/// an insertion, a deletion and a tail cut; after a checkpoint, even an attacker who
/// rewrites the streams and their heads to match is found by the checkpoint, which he
/// cannot re-sign without the server secret.
fn tampering_is_detected(db: common::TestDb) {
    let app = common::app_for(&db);
    // Records 1-3 on one dossier's stream, 4-5 on another's.
    write(&app, "dossier", "H26.51-261201-0001", 3);
    write(&app, "dossier", "H26.51-261201-0002", 2);
    let report = verify(&app);
    assert_eq!(
        (
            report.records,
            report.unsealed,
            report.checkpoints,
            report.problems.len()
        ),
        (5, 5, 0, 0),
        "{report:?}"
    );
    let (code, out) = verify_with_binary(&db);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("ok: 5"), "the verdict first: {out}");
    assert!(out.contains("5 bản ghi chưa niêm phong"), "{out}");

    // ── before any checkpoint ──
    // An edit.
    let original = row(&app, 2);
    let mut edited = original.clone();
    edited.actor = "someone-else".into();
    replace(&app, &edited);
    let p = problems(&verify(&app));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, 2);
    assert!(p[0].1.contains("edited"), "{p:?}");
    let (code, out) = verify_with_binary(&db);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bản ghi 2"), "{out}");
    replace(&app, &original);
    assert_clean(&app, 5);

    // An insertion after record 3, well hashed, its head not moved.
    let three = row(&app, 3);
    let mut forged = three.clone();
    forged.id = 100;
    forged.stream_seq = 4;
    forged.prev_hash = three.hash.clone();
    forged.detail = r#"{"i":99}"#.into();
    rehash(&mut forged);
    put(&app, &forged);
    let p = problems(&verify(&app));
    assert!(
        p.iter().any(|(id, m)| *id == 100 && m.contains("head")),
        "{p:?}"
    );
    delete(&app, 100);
    assert_clean(&app, 5);

    // A deletion in the middle of a stream.
    let two = delete(&app, 2);
    let p = problems(&verify(&app));
    assert!(
        p.iter().any(|(id, m)| *id == 3 && m.contains("deleted")),
        "{p:?}"
    );
    put(&app, &two);

    // A tail cut: the last record of a stream.
    let five = delete(&app, 5);
    let p = problems(&verify(&app));
    assert!(
        p.iter().any(|(id, m)| *id == 4 && m.contains("head")),
        "{p:?}"
    );
    put(&app, &five);
    assert_clean(&app, 5);

    // ── the sealer checkpoints them ──
    let round = app.seal(chrono::Utc::now()).unwrap();
    assert_eq!((round.checkpoints, round.records), (1, 5));
    assert_eq!(
        app.seal(chrono::Utc::now()).unwrap().checkpoints,
        0,
        "nothing left"
    );
    let report = verify(&app);
    assert_eq!(
        (
            report.records,
            report.unsealed,
            report.checkpoints,
            report.problems.len()
        ),
        (5, 0, 1, 0),
        "{report:?}"
    );
    let (code, out) = verify_with_binary(&db);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("điểm niêm phong cuối: số 1"), "{out}");
    assert!(!out.contains("chưa niêm phong"), "{out}");

    // An edit whose stream is rewritten to match (record 2 and 3 re-hashed, the head
    // moved): the streams agree, the checkpoint does not.
    let (two, three) = (row(&app, 2), row(&app, 3));
    let mut e2 = two.clone();
    e2.detail = r#"{"i":"sửa"}"#.into();
    rehash(&mut e2);
    let mut e3 = three.clone();
    e3.prev_hash = e2.hash.clone();
    rehash(&mut e3);
    replace(&app, &e2);
    replace(&app, &e3);
    set_head(&app, &three.stream, 3, &e3.hash);
    let p = problems(&verify(&app));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].1.contains("checkpoint 1 does not match"), "{p:?}");
    let (code, out) = verify_with_binary(&db);
    assert_eq!(code, 1, "{out}");
    replace(&app, &two);
    replace(&app, &three);
    set_head(&app, &three.stream, 3, &three.hash);
    assert_clean(&app, 5);

    // An insertion into the sealed history, given a sealed place of its own.
    let mut forged = row(&app, 5);
    forged.id = 101;
    forged.stream = "dossier:H26.51-261201-0099".into();
    forged.entity_id = "H26.51-261201-0099".into();
    forged.stream_seq = 1;
    forged.prev_hash = audit::GENESIS.into();
    forged.seal_seq = Some(6);
    rehash(&mut forged);
    put(&app, &forged);
    diesel::insert_into(audit_streams::table)
        .values((
            audit_streams::stream.eq(&forged.stream),
            audit_streams::last_seq.eq(1i64),
            audit_streams::last_hash.eq(&forged.hash),
        ))
        .execute(&mut *app.store.conn().unwrap())
        .unwrap();
    let p = problems(&verify(&app));
    assert!(
        p.iter().any(|(id, m)| *id == 101 && m.contains("inserted")),
        "{p:?}"
    );
    delete(&app, 101);
    diesel::delete(audit_streams::table.find(&forged.stream))
        .execute(&mut *app.store.conn().unwrap())
        .unwrap();
    assert_clean(&app, 5);

    // A deletion in the sealed history, the stream renumbered and re-hashed to hide it.
    let (two, three) = (delete(&app, 2), row(&app, 3));
    let mut e3 = three.clone();
    e3.stream_seq = 2;
    e3.prev_hash = row(&app, 1).hash;
    rehash(&mut e3);
    replace(&app, &e3);
    set_head(&app, &three.stream, 2, &e3.hash);
    let p = problems(&verify(&app));
    assert!(
        p.iter()
            .any(|(_, m)| m.contains("checkpoint 1 does not match")
                || m.contains("sealed records 2..2 are missing")),
        "{p:?}"
    );
    replace(&app, &three);
    put(&app, &two);
    set_head(&app, &three.stream, 3, &three.hash);
    assert_clean(&app, 5);

    // A tail cut before the checkpoint: the second stream's records and its head gone.
    let (four, five) = (delete(&app, 4), delete(&app, 5));
    diesel::delete(audit_streams::table.find(&four.stream))
        .execute(&mut *app.store.conn().unwrap())
        .unwrap();
    let p = problems(&verify(&app));
    assert!(p.iter().any(|(_, m)| m.contains("tail was cut")), "{p:?}");
    let (code, out) = verify_with_binary(&db);
    assert_eq!(code, 1, "{out}");
    // …and the checkpoint re-computed over what is left: not signed with the secret.
    let checkpoint = verify(&app).last_checkpoint.unwrap();
    let chain = [row(&app, 1), row(&app, 2), row(&app, 3)]
        .iter()
        .fold(audit::GENESIS.to_string(), |c, r| {
            audit::chain_step(&c, r.seal_seq.unwrap(), &r.hash)
        });
    let set_checkpoint = |chain: &str, last: i64| {
        diesel::update(audit_checkpoints::table.find(1i64))
            .set((
                audit_checkpoints::chain_hash.eq(chain),
                audit_checkpoints::last_seal.eq(last),
                audit_checkpoints::records.eq(last),
            ))
            .execute(&mut *app.store.conn().unwrap())
            .unwrap();
    };
    set_checkpoint(&chain, 3);
    let p = problems(&verify(&app));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].1.contains("checkpoint 1 is not signed"), "{p:?}");
    set_checkpoint(&checkpoint.chain_hash, 5);
    put(&app, &four);
    put(&app, &five);
    diesel::insert_into(audit_streams::table)
        .values((
            audit_streams::stream.eq(&five.stream),
            audit_streams::last_seq.eq(2i64),
            audit_streams::last_hash.eq(&five.hash),
        ))
        .execute(&mut *app.store.conn().unwrap())
        .unwrap();
    assert_clean(&app, 5);

    // A tail cut after the checkpoint: new records, the last one removed.
    write(&app, "dossier", "H26.51-261201-0001", 2);
    let newest = app.store.recent_audit(1).unwrap()[0].clone();
    delete(&app, newest.id);
    let p = problems(&verify(&app));
    assert!(p.iter().any(|(_, m)| m.contains("head")), "{p:?}");
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

/// Eight writers over two server processes on one database, each process's sealer
/// running: afterwards `motcua audit verify` is ok and every record is covered by a
/// checkpoint (none left unsealed), the records are exactly the writes, and each
/// dossier's stream holds its record.
fn eight_writers_over_two_processes(db_url: &str) {
    use common::process::{self, http, Server};
    const SECRET: &str = "audit-concurrency-test-secret-0123456789abcdef";
    const WRITERS: usize = 8;
    const EACH: usize = 25;
    let data_dir = tempfile::tempdir().unwrap();
    let clerks = ["000.00.51.H26", "000.00.52.H26"];
    for (i, agency) in clerks.iter().enumerate() {
        process::add_user(
            db_url,
            data_dir.path(),
            SECRET,
            &format!("clerk.audit{i}"),
            "mat-khau-thu-nghiem-2026",
            "clerk",
            agency,
        );
    }
    let mut servers: Vec<Server> = (0..2)
        .map(|i| Server::start(&format!("#{i}"), db_url, data_dir.path(), SECRET))
        .collect();
    for s in &mut servers {
        s.wait_healthy();
    }
    let addrs: Vec<_> = servers.iter().map(|s| s.addr).collect();
    let tokens: Vec<String> = (0..2)
        .map(|i| {
            process::login(
                addrs[i],
                &format!("clerk.audit{i}"),
                "mat-khau-thu-nghiem-2026",
            )
        })
        .collect();
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            let addr = addrs[w % 2];
            let token = tokens[w % 2].clone();
            std::thread::spawn(move || {
                let mut codes = Vec::new();
                for i in 0..EACH {
                    let body = serde_json::json!({
                        "procedure_code": "1.001193.000.00.00.H26",
                        "channel": "counter",
                        "applicant": {
                            "full_name": "Trần Thị Bình",
                            "id_number": format!("0010950{:02}{:03}", w, i),
                        },
                        "papers": [
                            {"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                            {"name": "Giấy chứng sinh", "kind": "original"}
                        ]
                    });
                    let r = http(addr, "POST", "/api/v1/dossiers", Some(&token), Some(&body))
                        .expect("intake");
                    assert_eq!(r.status, 201, "{}", r.json_or_text());
                    codes.push(r.json()["code"].as_str().unwrap().to_string());
                }
                codes
            })
        })
        .collect();
    let codes: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(codes.len(), WRITERS * EACH);
    // The sealers checkpoint within `[audit] checkpoint_interval_s` (2 s by default).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let out = loop {
        let (code, out) = process::audit_verify(db_url, data_dir.path(), SECRET);
        assert!(code == 0, "{out}");
        if !out.contains("chưa niêm phong") {
            break out;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "records still unsealed after 60 s: {out}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    // Two accounts created, one record per intake.
    let records = 2 + WRITERS * EACH;
    assert!(
        out.contains(&format!("ok: {records} bản ghi")),
        "expected {records} records: {out}"
    );
    assert!(out.contains("điểm niêm phong cuối"), "{out}");
    // Each dossier's record is on its own stream, sealed.
    let config = common::config(db_url);
    let store = motcua::store::Store::open(
        &config.settings.database_url,
        &motcua::store::StoreOptions::default(),
    )
    .unwrap();
    let mut conn = store.conn().unwrap();
    let sealed: Vec<(String, i64, Option<i64>)> = audit_log::table
        .filter(audit_log::entity.eq("dossier"))
        .select((
            audit_log::stream,
            audit_log::stream_seq,
            audit_log::seal_seq,
        ))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(sealed.len(), codes.len());
    for code in &codes {
        let stream = format!("dossier:{code}");
        let mine: Vec<_> = sealed.iter().filter(|(s, ..)| *s == stream).collect();
        assert_eq!(mine.len(), 1, "{code}: {mine:?}");
        assert!(mine[0].2.is_some(), "{code} sealed");
    }
    for s in &mut servers {
        assert!(
            matches!(s.child.try_wait(), Ok(None)),
            "server {} stopped: {}",
            s.name,
            s.output()
        );
    }
}

#[test]
fn eight_writers_over_two_processes_are_all_sealed_on_sqlite() {
    let db = common::TestDb::sqlite();
    eight_writers_over_two_processes(&db.url);
}

#[test]
#[ignore = "needs PostgreSQL"]
fn eight_writers_over_two_processes_are_all_sealed_on_postgres() {
    let db = common::TestDb::postgres();
    eight_writers_over_two_processes(&db.url);
}

/// A database of before migration 000020 — one chain, its head row — is upgraded: the old
/// records keep their hashes as the stream "", are sealed by the first checkpoint, and
/// new records go to their entities' streams; an edit of an old record still shows.
fn an_old_single_chain_is_upgraded(db: common::TestDb) {
    use diesel::sql_types::{BigInt, Text, Timestamp};
    let app = common::app_for(&db);
    assert!(app.store.revert_last().unwrap().contains("000023"));
    assert!(app.store.revert_last().unwrap().contains("000022"));
    assert!(app.store.revert_last().unwrap().contains("000021"));
    assert!(app.store.revert_last().unwrap().contains("000020"));
    let pg = db.url.starts_with("postgres");
    let at = motcua::store::to_db(chrono::Utc::now());
    let mut prev = audit::GENESIS.to_string();
    for id in 1..=3i64 {
        let detail = format!("{{\"n\":{id}}}");
        let hash = audit::fields_hash(&audit::HashedFields {
            prev_hash: &prev,
            stream: "",
            stream_seq: id,
            at,
            actor: "admin",
            role: "admin",
            address: None,
            action: "user.add",
            entity: "user",
            entity_id: "a01",
            detail: &detail,
        });
        let p = |i: usize| if pg { format!("${i}") } else { "?".into() };
        let sql = format!(
            "INSERT INTO audit_log (id, at, actor, role, address, action, entity, entity_id, detail, prev_hash, hash) \
             VALUES ({}, {}, 'admin', 'admin', NULL, 'user.add', 'user', 'a01', {}, {}, {})",
            p(1), p(2), p(3), p(4), p(5)
        );
        let mut conn = app.store.conn().unwrap();
        let q = diesel::sql_query(sql)
            .bind::<BigInt, _>(id)
            .bind::<Timestamp, _>(at)
            .bind::<Text, _>(&detail)
            .bind::<Text, _>(&prev)
            .bind::<Text, _>(&hash);
        match &mut *conn {
            motcua::store::DbConnection::Postgresql(c) => q.execute(c).unwrap(),
            motcua::store::DbConnection::Sqlite(c) => q.execute(c).unwrap(),
        };
        let head =
            format!("UPDATE audit_head SET last_id = {id}, last_hash = '{hash}' WHERE id = 1");
        diesel::sql_query(head).execute(&mut *conn).unwrap();
        prev = hash;
    }
    assert_eq!(app.store.migrate().unwrap().len(), 4);
    let r = verify(&app);
    assert_eq!(
        (r.records, r.unsealed, r.problems.len()),
        (3, 3, 0),
        "{r:?}"
    );
    write(&app, "user", "a01", 2);
    let round = app.seal(chrono::Utc::now()).unwrap();
    assert_eq!((round.checkpoints, round.records), (1, 5));
    let r = verify(&app);
    assert_eq!(
        (r.records, r.unsealed, r.checkpoints, r.problems.len()),
        (5, 0, 1, 0),
        "{r:?}"
    );
    // The old records are the stream "", in their order.
    let old = row(&app, 2);
    assert_eq!((old.stream.as_str(), old.stream_seq), ("", 2));
    let mut edited = old.clone();
    edited.entity_id = "a02".into();
    replace(&app, &edited);
    let p = problems(&verify(&app));
    assert!(
        p.iter().any(|(id, m)| *id == 2 && m.contains("edited")),
        "{p:?}"
    );
}

#[test]
fn an_old_single_chain_is_upgraded_on_sqlite() {
    an_old_single_chain_is_upgraded(common::TestDb::sqlite());
}

#[test]
#[ignore = "needs PostgreSQL"]
fn an_old_single_chain_is_upgraded_on_postgres() {
    an_old_single_chain_is_upgraded(common::TestDb::postgres());
}
