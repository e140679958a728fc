//! The work queue's tabs (`/hang-doi`, issue #15) over seeded dossiers on both backends:
//! each tab's lines, page after page, and its count are exactly what a plain reading of
//! every dossier gives — soonest due first across the tab's statuses (the store reads
//! each status in its index's order and merges them), the dossiers a hand-over is pending
//! out of left out (the counts subtract them instead of checking each dossier).

mod common;

use std::collections::HashMap;

use chrono::{NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamp};
use motcua::app::App;
use motcua::service::queue::{Tab, TabFilters};
use motcua::service::{Caller, Role};
use motcua::store::to_db;

#[derive(QueryableByName, Debug, Clone)]
struct Row {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Nullable<Timestamp>)]
    due_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Text)]
    current_agency: String,
    #[diesel(sql_type = Text)]
    procedure_code: String,
    #[diesel(sql_type = Nullable<Text>)]
    pending_handover: Option<String>,
}

fn rows(app: &App) -> Vec<Row> {
    diesel::sql_query(
        "SELECT d.code, d.due_at, d.status, d.current_agency, d.procedure_code, \
         p.pending_handover FROM dossiers d JOIN dossier_progress p ON p.dossier_code = d.code",
    )
    .load(&mut *app.store.conn().unwrap())
    .unwrap()
}

/// The codes of every page of `tab`, read 7 lines at a time, and the tab's count.
fn read_tab(
    app: &App,
    caller: &Caller,
    tab: Tab,
    f: &TabFilters,
    now: chrono::DateTime<Utc>,
) -> (Vec<String>, i64) {
    let mut codes = Vec::new();
    let mut count = None;
    for page in 0.. {
        let q = app
            .queue_tabs(caller, Some(tab), f, 7, page * 7, now)
            .unwrap();
        count = q.tabs.iter().find(|(t, _)| *t == tab).map(|(_, n)| *n);
        codes.extend(q.items.iter().map(|i| i.code.clone()));
        assert!(q.items.len() <= 7);
        if !q.more {
            break;
        }
        assert_eq!(q.items.len(), 7, "a page before the last is full");
    }
    (codes, count.expect("the tab is the role's"))
}

on_both_backends!(each_tab_gives_what_a_plain_reading_gives, |url: &str| {
    let app = App::start(
        common::config(url),
        Utc.with_ymd_and_hms(2024, 12, 1, 0, 0, 0).unwrap(),
    )
    .expect("application starts");
    assert_eq!(app.seed_load(4000, 2025, 7, &mut |_| {}).unwrap(), 4000);
    // The agency holding the most open dossiers.
    let all = rows(&app);
    let mut open: HashMap<&str, usize> = HashMap::new();
    for r in all.iter().filter(|r| r.status == "in_progress") {
        *open.entry(r.current_agency.as_str()).or_default() += 1;
    }
    let (agency, n) = open
        .iter()
        .max_by_key(|(a, n)| (**n, *a))
        .map(|(a, n)| (a.to_string(), *n))
        .unwrap();
    assert!(
        n >= 20,
        "the generator leaves open dossiers at {agency}: {n}"
    );
    {
        let mut conn = app.store.conn().unwrap();
        // Every third of them received only (the tab merges two statuses), and three
        // on their way to another agency.
        let codes: Vec<String> = all
            .iter()
            .filter(|r| r.current_agency == agency && r.status == "in_progress")
            .map(|r| r.code.clone())
            .collect();
        for (i, c) in codes.iter().enumerate() {
            if i % 3 == 0 {
                diesel::sql_query("UPDATE dossiers SET status = 'received' WHERE code = $1")
                    .bind::<Text, _>(c)
                    .execute(&mut *conn)
                    .unwrap();
            }
            if i % 7 == 5 {
                diesel::sql_query(
                    "UPDATE dossier_progress SET pending_handover = '000.00.01.H26' \
                     WHERE dossier_code = $1",
                )
                .bind::<Text, _>(c)
                .execute(&mut *conn)
                .unwrap();
            }
        }
        // Two dossiers due at the same moment: ties by code.
        diesel::sql_query("UPDATE dossiers SET due_at = $1 WHERE code IN ($2, $3)")
            .bind::<Timestamp, _>(to_db(Utc.with_ymd_and_hms(2025, 6, 2, 3, 0, 0).unwrap()))
            .bind::<Text, _>(&codes[1])
            .bind::<Text, _>(&codes[2])
            .execute(&mut *conn)
            .unwrap();
    }
    let all = rows(&app);
    let caller = Caller {
        username: "queue.official".into(),
        full_name: "Chuyên viên".into(),
        role: Role::Official,
        agency: agency.clone(),
        address: None,
    };
    // Within the seeded dossiers' due moments: some overdue, some not, some due soon.
    let mut dues: Vec<NaiveDateTime> = all
        .iter()
        .filter(|r| r.current_agency == agency && r.due_at.is_some())
        .filter_map(|r| r.due_at)
        .collect();
    dues.sort();
    let now = Utc.from_utc_datetime(&dues[dues.len() / 2]);
    let now_db = to_db(now);
    let soon = to_db(
        app.deadlines()
            .add_working_minutes(now.with_timezone(&app.settings.offset), 8 * 60)
            .unwrap()
            .with_timezone(&Utc),
    );
    let procedure = all
        .iter()
        .find(|r| r.current_agency == agency && r.status == "in_progress")
        .unwrap()
        .procedure_code
        .clone();
    type Check = Box<dyn Fn(&Row) -> bool>;
    let tabs: Vec<(Tab, Check)> = vec![
        (Tab::Todo, Box::new(|_| true)),
        (
            Tab::Overdue,
            Box::new(move |r: &Row| r.due_at.is_some_and(|d| d < now_db)),
        ),
        (
            Tab::DueSoon,
            Box::new(move |r: &Row| r.due_at.is_some_and(|d| d >= now_db && d <= soon)),
        ),
    ];
    let mut seen_overdue = false;
    for procedure in [None, Some(procedure)] {
        for (status, (tab, check)) in [None, Some("received")]
            .into_iter()
            .flat_map(|s| tabs.iter().map(move |t| (s, t)))
        {
            let f = TabFilters {
                procedure: procedure.clone(),
                assignee: None,
                status: status.map(String::from),
            };
            let mut want: Vec<&Row> = all
                .iter()
                .filter(|r| {
                    r.current_agency == agency
                        && ["received", "in_progress"].contains(&r.status.as_str())
                        && status.is_none_or(|s| r.status == s)
                        && r.pending_handover.is_none()
                        && f.procedure.as_ref().is_none_or(|p| &r.procedure_code == p)
                        && check(r)
                })
                .collect();
            want.sort_by(|a, b| (a.due_at, &a.code).cmp(&(b.due_at, &b.code)));
            let want: Vec<String> = want.into_iter().map(|r| r.code.clone()).collect();
            let (got, count) = read_tab(&app, &caller, *tab, &f, now);
            assert_eq!(got, want, "{tab:?}, {f:?}");
            assert_eq!(count, want.len() as i64, "the count of {tab:?}, {f:?}");
            seen_overdue |= *tab == Tab::Overdue && !want.is_empty() && procedure.is_none();
        }
    }
    assert!(seen_overdue, "the check saw overdue dossiers");
    // Before the day's opening, one working day reaches the close: a dossier due at 17:00
    // that day is due soon (it was left out when the bound was exclusive).
    let offset = app.settings.offset;
    let at_close = all
        .iter()
        .filter(|r| r.current_agency == agency && r.pending_handover.is_none())
        .filter(|r| ["received", "in_progress"].contains(&r.status.as_str()))
        .find(|r| {
            r.due_at.is_some_and(|d| {
                let local = Utc.from_utc_datetime(&d).with_timezone(&offset);
                local.format("%H:%M").to_string() == "17:00"
                    && app.calendar.is_working_day(local.date_naive())
            })
        })
        .expect("a dossier due at the close of a working day");
    let due = Utc
        .from_utc_datetime(&at_close.due_at.unwrap())
        .with_timezone(&offset);
    let morning = due
        .date_naive()
        .and_hms_opt(7, 30, 0)
        .unwrap()
        .and_local_timezone(offset)
        .unwrap()
        .with_timezone(&Utc);
    let (soon, _) = read_tab(&app, &caller, Tab::DueSoon, &TabFilters::default(), morning);
    assert!(
        soon.contains(&at_close.code),
        "{} due {due} at 07:30: {soon:?}",
        at_close.code
    );
    // The hand-overs in flight wait in the receiving agency's incoming tab instead.
    let leaving = all
        .iter()
        .filter(|r| r.pending_handover.is_some() && r.current_agency == agency)
        .count();
    assert!(leaving >= 3);
});
