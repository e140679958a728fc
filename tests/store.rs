//! The store on both backends: migrations up/down, idempotent loading of agencies and
//! catalogue, versioning of changed procedures, transactions, timestamps.

mod common;

use chrono::{Duration, TimeZone, Utc};
use diesel::prelude::*;
use motcua::store::schema::{agencies, procedure_versions};
use motcua::store::{from_db, to_db, Store, StoreError, StoreOptions};

fn open(url: &str) -> Store {
    let store = Store::open(url, &StoreOptions::default()).expect("store opens");
    store.migrate().expect("migrations apply");
    store
}

on_both_backends!(migrations_apply_revert_and_reapply, |url: &str| {
    let store = Store::open(url, &StoreOptions::default()).unwrap();
    let embedded = store.embedded_migrations();
    assert!(!embedded.is_empty());
    assert_eq!(
        store.migrate().unwrap(),
        embedded,
        "first run applies every migration"
    );
    assert!(
        store.migrate().unwrap().is_empty(),
        "second run applies nothing"
    );
    assert_eq!(store.applied_migrations().unwrap().len(), embedded.len());
    store.revert_all().unwrap();
    assert!(store.applied_migrations().unwrap().is_empty());
    assert_eq!(
        store.migrate().unwrap(),
        embedded,
        "down.sql leaves a clean slate"
    );
});

on_both_backends!(loading_twice_changes_nothing, |url: &str| {
    let config = common::config(url);
    let store = open(url);
    let now = Utc::now();
    let a1 = store.sync_agencies(&config.agencies, now).unwrap();
    assert_eq!(a1.inserted, config.agencies.agencies.len());
    let c1 = store
        .sync_catalogue(&config.catalogue, now, config.settings.offset)
        .unwrap();
    assert_eq!(c1.inserted, config.catalogue.len());

    let later = now + Duration::hours(1);
    let a2 = store.sync_agencies(&config.agencies, later).unwrap();
    assert_eq!((a2.inserted, a2.updated, a2.deactivated), (0, 0, 0));
    assert_eq!(a2.unchanged, config.agencies.agencies.len());
    let c2 = store
        .sync_catalogue(&config.catalogue, later, config.settings.offset)
        .unwrap();
    assert_eq!((c2.inserted, c2.updated, c2.deactivated), (0, 0, 0));

    let listed = store.list_procedures().unwrap();
    assert_eq!(listed.len(), config.catalogue.len());
    assert!(listed.iter().all(|p| p.version == 1));
    let birth = listed
        .iter()
        .find(|p| p.name == "Đăng ký khai sinh")
        .expect("birth registration is in the sample catalogue");
    assert_eq!(birth.time_unit, "same_day");
    assert_eq!(birth.time_cutoff.as_deref(), Some("15:00"));
});

on_both_backends!(a_changed_fee_keeps_the_earlier_version, |url: &str| {
    let config = common::config(url);
    let store = open(url);
    let t0 = Utc.with_ymd_and_hms(2026, 1, 5, 2, 0, 0).unwrap();
    store.sync_agencies(&config.agencies, t0).unwrap();
    store
        .sync_catalogue(&config.catalogue, t0, config.settings.offset)
        .unwrap();

    let mut changed = config.catalogue.clone();
    let code = changed.procedures.keys().next().unwrap().clone();
    let p = changed.procedures.get_mut(&code).unwrap();
    let old_fee = p.fee;
    p.fee = old_fee + 10_000;
    let t1 = t0 + Duration::days(30);
    let report = store
        .sync_catalogue(&changed, t1, config.settings.offset)
        .unwrap();
    assert_eq!(
        (report.inserted, report.updated, report.unchanged),
        (0, 1, config.catalogue.len() - 1)
    );

    let history = store.procedure_history(&code).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].fee, old_fee as i64);
    assert_eq!(from_db(history[0].valid_from), t0);
    assert_eq!(history[0].valid_to.map(from_db), Some(t1));
    assert_eq!(history[1].fee, old_fee as i64 + 10_000);
    assert_eq!(from_db(history[1].valid_from), t1);
    assert_eq!(history[1].valid_to, None);
    let current = store
        .list_procedures()
        .unwrap()
        .into_iter()
        .find(|r| r.procedure_code == code)
        .unwrap();
    assert_eq!(current.version, 2);

    // Loading the changed catalogue again is a no-op.
    let again = store
        .sync_catalogue(&changed, t1 + Duration::days(1), config.settings.offset)
        .unwrap();
    assert_eq!(again.updated, 0);
    // A procedure dropped from the files is retired, its history kept.
    let mut fewer = changed.clone();
    fewer.procedures.remove(&code);
    let retired = store
        .sync_catalogue(&fewer, t1 + Duration::days(2), config.settings.offset)
        .unwrap();
    assert_eq!(retired.deactivated, 1);
    assert!(store
        .list_procedures()
        .unwrap()
        .iter()
        .all(|r| r.procedure_code != code));
    assert_eq!(store.procedure_history(&code).unwrap().len(), 2);
});

on_both_backends!(
    an_agency_dropped_from_the_file_is_kept_inactive,
    |url: &str| {
        let config = common::config(url);
        let store = open(url);
        let now = Utc::now();
        store.sync_agencies(&config.agencies, now).unwrap();
        let mut tree_file = motcua::core::catalogue::AgenciesFile {
            levels: config.agencies.levels.clone(),
            agencies: config.agencies.agencies.clone(),
        };
        // Drop a leaf (an agency nobody names as parent).
        let leaf = tree_file
            .agencies
            .iter()
            .rposition(|a| {
                !config
                    .agencies
                    .agencies
                    .iter()
                    .any(|b| b.parent.as_deref() == Some(&a.code))
            })
            .unwrap();
        let removed = tree_file.agencies.remove(leaf);
        let tree = motcua::core::catalogue::AgencyTree::build(tree_file).unwrap();
        let report = store
            .sync_agencies(&tree, now + Duration::minutes(1))
            .unwrap();
        assert_eq!(report.deactivated, 1);
        let rows = store.list_agencies().unwrap();
        let row = rows.iter().find(|r| r.code == removed.code).unwrap();
        assert!(!row.active);
        assert_eq!(rows.len(), config.agencies.agencies.len());
    }
);

on_both_backends!(a_failed_write_leaves_nothing, |url: &str| {
    let config = common::config(url);
    let store = open(url);
    store.sync_agencies(&config.agencies, Utc::now()).unwrap();
    let before: i64 = agencies::table
        .count()
        .get_result(&mut *store.conn().unwrap())
        .unwrap();
    let result: Result<(), StoreError> = store.write(None, |conn| {
        diesel::update(agencies::table)
            .set(agencies::name.eq("đã sửa"))
            .execute(conn)?;
        diesel::delete(procedure_versions::table).execute(conn)?;
        Err(StoreError::Conflict("abandoned".into()))
    });
    assert!(result.is_err());
    let after: i64 = agencies::table
        .count()
        .filter(agencies::name.eq("đã sửa"))
        .get_result(&mut *store.conn().unwrap())
        .unwrap();
    assert_eq!(after, 0);
    let total: i64 = agencies::table
        .count()
        .get_result(&mut *store.conn().unwrap())
        .unwrap();
    assert_eq!(total, before);
});

on_both_backends!(timestamps_round_trip_to_the_microsecond, |url: &str| {
    let config = common::config(url);
    let store = open(url);
    let t =
        Utc.with_ymd_and_hms(2026, 2, 16, 9, 30, 15).unwrap() + Duration::nanoseconds(123_456_789);
    store.sync_agencies(&config.agencies, t).unwrap();
    let row = store.list_agencies().unwrap().remove(0);
    assert_eq!(row.updated_at, to_db(t));
    assert_eq!(
        from_db(row.updated_at).timestamp_subsec_nanos(),
        123_456_000
    );
});

on_both_backends!(two_processes_loading_at_once_agree, |url: &str| {
    // Two pools on one database stand for two server processes starting together.
    let config = std::sync::Arc::new(common::config(url));
    open(url);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let url = url.to_string();
            let config = config.clone();
            std::thread::spawn(move || {
                let store = Store::open(&url, &StoreOptions::default()).unwrap();
                store.migrate().unwrap();
                store.sync_agencies(&config.agencies, Utc::now()).unwrap();
                store
                    .sync_catalogue(&config.catalogue, Utc::now(), config.settings.offset)
                    .unwrap()
            })
        })
        .collect();
    let reports: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        reports.iter().map(|r| r.inserted).sum::<usize>(),
        config.catalogue.len()
    );
    let store = Store::open(url, &StoreOptions::default()).unwrap();
    let versions: i64 = procedure_versions::table
        .count()
        .get_result(&mut *store.conn().unwrap())
        .unwrap();
    assert_eq!(versions as usize, config.catalogue.len());
});

#[test]
fn bad_urls_are_refused() {
    assert!(matches!(
        Store::open("mysql://x", &StoreOptions::default()),
        Err(StoreError::BadUrl(_))
    ));
    assert!(matches!(
        Store::open("sqlite://", &StoreOptions::default()),
        Err(StoreError::BadUrl(_))
    ));
}

on_both_backends!(the_queue_query_uses_its_index, |url: &str| {
    let store = open(url);
    let plan = store.explain_queue("000.00.51.H26").unwrap();
    println!("{plan}");
    assert!(
        plan.contains("dossiers_current"),
        "the queue must read the (current_agency, status, due_at) index:\n{plan}"
    );
});

/// Migration 000008 on a database with dossiers: the first due moment comes from each
/// dossier's receipt (not its current due moment, moved by a supplement), and whether its
/// procedure yields a document from the catalogue version it was received under.
async fn migration_000008_fills_first_due_moments(db: common::TestDb) {
    use common::http::{event, login, post, send, service, users};
    use motcua::service::Role;
    use serde_json::json;
    const WARD: &str = "000.00.56.H26";
    let app = common::app_at(&db, common::local("2026-11-04T07:00"));
    users(
        &app,
        &[
            ("clerk.hd", Role::Clerk, WARD),
            ("official.hd", Role::Official, WARD),
        ],
    );
    let svc = service(&app).await;
    app.clock.set(common::local("2026-11-04T09:00"));
    let clerk = login(&svc, "clerk.hd").await;
    let (status, r) = send(
        &svc,
        post(
            &clerk,
            "/api/v1/dossiers",
            json!({"procedure_code": "1.001193.000.00.00.H26", "channel": "counter",
                   "applicant": {"full_name": "Kiều Văn Tâm", "id_number": "001190088888"},
                   "papers": [{"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                              {"name": "Giấy chứng sinh", "kind": "original"}]}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let code = r["code"].as_str().unwrap().to_string();
    app.clock.set(common::local("2026-11-04T10:00"));
    let official = login(&svc, "official.hd").await;
    let (status, _) = event(
        &svc,
        &official,
        &code,
        json!({"type": "request_supplement", "items": ["Giấy chứng sinh"], "reason": "Mờ"}),
    )
    .await;
    assert_eq!(status, 201);
    app.clock.set(common::local("2026-11-05T10:00"));
    let clerk = login(&svc, "clerk.hd").await;
    let (status, b) = event(&svc, &clerk, &code, json!({"type": "supplement_received"})).await;
    assert_eq!(status, 201, "{b}");
    // Same day, counted again from 05/11 10:00: due 05/11 17:00; first due 04/11 17:00.
    assert_eq!(b["dossier"]["due_at"], "2026-11-05T17:00:00+07:00");
    let first = to_db(common::local("2026-11-04T17:00"));
    // Down to 000007 and up again (000023 to 000008), on a database with a dossier, its
    // events, papers and route: migration 000009 rebuilds the dossiers table on SQLite under the other
    // tables' foreign keys; 000008's columns come back filled from the history.
    assert!(app.store.revert_last().unwrap().contains("000023"));
    assert!(app.store.revert_last().unwrap().contains("000022"));
    assert!(app.store.revert_last().unwrap().contains("000021"));
    assert!(app.store.revert_last().unwrap().contains("000020"));
    assert!(app.store.revert_last().unwrap().contains("000019"));
    assert!(app.store.revert_last().unwrap().contains("000018"));
    assert!(app.store.revert_last().unwrap().contains("000017"));
    assert!(app.store.revert_last().unwrap().contains("000016"));
    assert!(app.store.revert_last().unwrap().contains("000015"));
    assert!(app.store.revert_last().unwrap().contains("000014"));
    assert!(app.store.revert_last().unwrap().contains("000013"));
    assert!(app.store.revert_last().unwrap().contains("000012"));
    assert!(app.store.revert_last().unwrap().contains("000011"));
    assert!(app.store.revert_last().unwrap().contains("000010"));
    assert!(app.store.revert_last().unwrap().contains("000009"));
    assert!(app.store.revert_last().unwrap().contains("000008"));
    assert_eq!(app.store.migrate().unwrap().len(), 16);
    let (progress, _, _) = app.store.dossier_processing(&code).unwrap();
    assert_eq!(progress.first_due_at, Some(first));
    assert!(
        progress.yields_document,
        "a birth registration yields a document"
    );
}

#[test]
fn migration_000008_fills_first_due_moments_on_sqlite() {
    actix_rt::System::new().block_on(migration_000008_fills_first_due_moments(
        common::TestDb::sqlite(),
    ));
}

#[test]
#[ignore = "needs PostgreSQL"]
fn migration_000008_fills_first_due_moments_on_postgres() {
    actix_rt::System::new().block_on(migration_000008_fills_first_due_moments(
        common::TestDb::postgres(),
    ));
}

on_both_backends!(the_rollup_table_has_one_column_per_count, |url: &str| {
    // stats_daily is declared to diesel by its key only; its count columns are read and
    // written from `Column::ALL`. The table must have exactly those.
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let store = open(url);
    let mut conn = store.conn().unwrap();
    let q = if url.starts_with("postgres") {
        "SELECT column_name::text AS name FROM information_schema.columns \
         WHERE table_name = 'stats_daily' AND table_schema = current_schema()"
    } else {
        "SELECT name FROM pragma_table_info('stats_daily')"
    };
    let mut got: Vec<String> = match &mut *conn {
        motcua::store::DbConnection::Postgresql(c) => diesel::sql_query(q).load::<Name>(c),
        motcua::store::DbConnection::Sqlite(c) => diesel::sql_query(q).load::<Name>(c),
    }
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .filter(|n| !matches!(n.as_str(), "agency_code" | "procedure_code" | "day"))
    .collect();
    got.sort();
    let mut want: Vec<String> = motcua::core::indicators::Column::ALL
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    want.sort();
    assert_eq!(got, want);
});

#[test]
#[ignore = "needs PostgreSQL"]
fn an_early_release_on_postgres_is_durable_on_return_and_leaves_the_connection_synchronous() {
    #[derive(diesel::QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Flag {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        v: bool,
    }
    #[derive(diesel::QueryableByName)]
    struct Number {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        v: i64,
    }
    let db = common::TestDb::postgres();
    // One connection: the one the write used is the one read afterwards.
    let store = Store::open(
        &db.url,
        &StoreOptions {
            pool_size: 1,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    store.migrate().unwrap();
    let (inside, written_up_to) = store
        .write_releasing_early(|conn| {
            let motcua::store::DbConnection::Postgresql(c) = conn else {
                unreachable!("PostgreSQL")
            };
            diesel::sql_query(
                "INSERT INTO code_sequences (agency_code, scope, last_value) VALUES ('x', 'd:1', 1)",
            )
            .execute(c)?;
            let inside = diesel::sql_query("SELECT current_setting('synchronous_commit') AS v")
                .get_result::<Text>(c)?
                .v;
            let lsn = diesel::sql_query("SELECT pg_current_wal_insert_lsn()::text AS v")
                .get_result::<Text>(c)?
                .v;
            Ok::<_, StoreError>((inside, lsn))
        })
        .unwrap();
    assert_eq!(inside, "off", "the commit does not wait for its own flush");
    let mut conn = store.conn().unwrap();
    let motcua::store::DbConnection::Postgresql(c) = &mut *conn else {
        unreachable!("PostgreSQL")
    };
    let after = diesel::sql_query("SELECT current_setting('synchronous_commit') AS v")
        .get_result::<Text>(c)
        .unwrap()
        .v;
    assert_eq!(
        after, "on",
        "SET LOCAL: the pooled connection's next writes wait again"
    );
    let flushed = diesel::sql_query(format!(
        "SELECT pg_current_wal_flush_lsn() >= '{written_up_to}'::pg_lsn AS v"
    ))
    .get_result::<Flag>(c)
    .unwrap()
    .v;
    assert!(flushed, "on disk before the write returned");
    let n = diesel::sql_query("SELECT last_value AS v FROM code_sequences WHERE agency_code = 'x'")
        .get_result::<Number>(c)
        .unwrap()
        .v;
    assert_eq!(n, 1, "committed");
}
