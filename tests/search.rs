//! The staff search (`/ho-so`, `GET /api/v1/dossiers`) over seeded dossiers on both
//! backends: every query gives exactly what a plain reading of all the dossiers gives, in
//! the same order and pages, whichever way the store answers it — through the indexes for
//! a selective text (a code, an ID number, a rare name: at most 2,000 candidates), or by
//! reading the dossiers newest first otherwise (a text matching more, no text). A name
//! matches from the start of any of its words.

mod common;

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamp};
use motcua::app::App;
use motcua::core::text::fold;
use motcua::store::dossiers::DossierFilter;
use motcua::store::to_db;

#[derive(QueryableByName, Debug)]
struct Row {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Nullable<Timestamp>)]
    received_at: Option<NaiveDateTime>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Text)]
    applicant_id_number: String,
    #[diesel(sql_type = Text)]
    applicant_search: String,
    #[diesel(sql_type = Text)]
    applicant_name: String,
}

#[derive(QueryableByName)]
struct Held {
    #[diesel(sql_type = Text)]
    agency_code: String,
    #[diesel(sql_type = Text)]
    dossier_code: String,
}

/// The dossiers `f` selects, read plainly: every row checked in Rust, sorted as the
/// search promises (not received yet first, then newest received, ties by code, all
/// descending).
fn expected(all: &[Row], held: &HashMap<String, Vec<String>>, f: &DossierFilter) -> Vec<String> {
    let mut hits: Vec<&Row> = all
        .iter()
        .filter(|r| {
            f.scope.as_ref().is_none_or(|s| {
                held.get(&r.code)
                    .is_some_and(|hs| hs.iter().any(|a| s.contains(a)))
            }) && f.status.as_ref().is_none_or(|s| &r.status == s)
                && f.received_from
                    .is_none_or(|t| r.received_at.is_some_and(|x| x >= t))
                && f.received_to
                    .is_none_or(|t| r.received_at.is_some_and(|x| x < t))
                && f.q.as_deref().map(str::trim).is_none_or(|q| {
                    r.code.starts_with(q)
                        || r.code.starts_with(&q.to_uppercase())
                        || r.applicant_id_number == q
                        || format!(" {}", r.applicant_search).contains(&format!(" {}", fold(q)))
                })
        })
        .collect();
    hits.sort_by(|a, b| {
        (b.received_at.is_none(), b.received_at, &b.code).cmp(&(
            a.received_at.is_none(),
            a.received_at,
            &a.code,
        ))
    });
    hits.into_iter()
        .skip(f.offset as usize)
        .take(f.limit as usize)
        .map(|r| r.code.clone())
        .collect()
}

on_both_backends!(
    every_search_gives_what_a_plain_reading_gives,
    |url: &str| {
        let app = App::start(
            common::config(url),
            Utc.with_ymd_and_hms(2024, 12, 1, 0, 0, 0).unwrap(),
        )
        .expect("application starts");
        // More dossiers than the candidates' cap, all with codes starting `000.00.`.
        let n = 2600;
        assert_eq!(app.seed_load(n, 2025, 7, &mut |_| {}).unwrap(), n);
        let mut conn = app.store.conn().unwrap();
        // Three online submissions not received yet.
        let waiting = diesel::sql_query(
            "UPDATE dossiers SET received_at = NULL, due_at = NULL, status = 'submitted', \
         book_volume = NULL, book_line = NULL \
         WHERE code IN (SELECT code FROM dossiers ORDER BY code LIMIT 3)",
        )
        .execute(&mut *conn)
        .unwrap();
        assert_eq!(waiting, 3);
        // As the search's tables have them before the receipt (migration 000013).
        for table in ["dossier_agencies", "dossier_name_keys"] {
            diesel::sql_query(format!(
                "UPDATE {table} SET received_at = NULL \
                 WHERE dossier_code IN (SELECT code FROM dossiers WHERE received_at IS NULL)"
            ))
            .execute(&mut *conn)
            .unwrap();
        }
        let all: Vec<Row> = diesel::sql_query(
        "SELECT code, received_at, status, applicant_id_number, applicant_search, applicant_name \
         FROM dossiers",
    )
    .load(&mut *conn)
    .unwrap();
        let mut held: HashMap<String, Vec<String>> = HashMap::new();
        let rows: Vec<Held> =
            diesel::sql_query("SELECT agency_code, dossier_code FROM dossier_agencies")
                .load(&mut *conn)
                .unwrap();
        drop(conn);
        for h in rows {
            held.entry(h.dossier_code).or_default().push(h.agency_code);
        }
        assert!(
            all.iter().all(|r| held.contains_key(&r.code)),
            "the generator records who holds each dossier"
        );
        assert!(
            all.iter()
                .all(|r| r.applicant_search == fold(&r.applicant_name)),
            "the generator's names are searchable"
        );
        // The commune holding the most dossiers, and the names and codes to look for.
        let mut per_agency: HashMap<&str, usize> = HashMap::new();
        for hs in held.values() {
            for a in hs {
                *per_agency.entry(a.as_str()).or_default() += 1;
            }
        }
        let busiest = per_agency
            .iter()
            .filter(|(a, _)| a.ends_with(".H26") && **a != "000.00.00.H26")
            .max_by_key(|(a, n)| (**n, *a))
            .map(|(a, _)| a.to_string())
            .unwrap();
        let some = &all[1234];
        let rare = all
            .iter()
            .find(|r| {
                all.iter()
                    .filter(|o| o.applicant_name == r.applicant_name)
                    .count()
                    <= 3
            })
            .expect("a rare name");
        let code_lower = some.code[..some.code.len() - 2].to_lowercase();
        let texts: Vec<String> = vec![
            "000.00".into(), // every code: more than the cap, read in order
            "000.00.0".into(),
            "000.00.51".into(),
            busiest.clone(),
            some.code.clone(),
            code_lower,
            some.applicant_id_number.clone(),
            some.applicant_id_number[..6].into(), // no prefix match on ID numbers
            "nguyen thi".into(),
            "Nguyễn Thị".into(),
            "NGUYEN".into(),
            "nguyen".into(),
            "an".into(), // a common start of words
            "h".into(),
            rare.applicant_name.clone(),
            fold(&rare.applicant_name),
            "  van an ".into(),
            "hong".into(),
            "guyen".into(), // not at the start of a word: no name matches
            "zzz".into(),
            "50%".into(),
            "_".into(),
            "a_b".into(),
            "\\".into(), // PostgreSQL's LIKE escape: a backslash matches itself
            "an\\%".into(),
            "!".into(), // SQLite's LIKE escape
        ];
        let scopes: Vec<Option<Vec<String>>> = vec![
            None,
            Some(vec![busiest.clone()]),
            Some(vec![busiest.clone(), "000.00.01.H26".into()]),
            Some(vec![]),
        ];
        // The three ways are all taken below: a selective text through its candidates
        // (sorted from the indexes, then checked against the scope), every code through
        // the ordered read, within a scope through its agencies' ordered reads.
        app.store.set_search_cap(2000);
        assert_eq!(app.store.search_candidates("000.00").unwrap(), None);
        assert!(app
            .store
            .search_candidates("000.00.51")
            .unwrap()
            .is_some_and(|n| n > 100 && n <= 2000));
        assert!(app
            .store
            .search_candidates(&rare.applicant_name)
            .unwrap()
            .is_some_and(|n| n >= 1));
        let start = |d: NaiveDate| to_db(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap()));
        let mut checked = 0;
        let mut non_empty = 0;
        for q in texts.iter().map(Some).chain([None]) {
            for scope in &scopes {
                for (status, from, to) in [
                    (None, None, None),
                    (
                        Some("in_progress"),
                        Some(start(NaiveDate::from_ymd_opt(2025, 12, 1).unwrap())),
                        Some(start(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())),
                    ),
                    (Some("submitted"), None, None),
                ] {
                    for (offset, limit) in [(0, 51), (50, 50), (2000, 100)] {
                        let f = DossierFilter {
                            scope: scope.clone(),
                            status: status.map(String::from),
                            received_from: from,
                            received_to: to,
                            procedure: None,
                            q: q.cloned(),
                            received_by: None,
                            limit,
                            offset,
                        };
                        let got: Vec<String> = app
                            .store
                            .list_dossiers(&f)
                            .unwrap()
                            .into_iter()
                            .map(|d| d.code)
                            .collect();
                        let want = expected(&all, &held, &f);
                        assert_eq!(
                            got, want,
                            "q {q:?}, scope {scope:?}, status {status:?}, page {offset}+{limit}"
                        );
                        checked += 1;
                        non_empty += usize::from(!want.is_empty());
                    }
                }
            }
        }
        assert!(
            checked > 700 && non_empty > 80,
            "{checked} searches, {non_empty} with results"
        );
        // The unreceived submissions come first in an unfiltered search.
        let first: Vec<String> = app
            .store
            .list_dossiers(&DossierFilter {
                scope: None,
                status: None,
                received_from: None,
                received_to: None,
                procedure: None,
                q: None,
                received_by: None,
                limit: 4,
                offset: 0,
            })
            .unwrap()
            .into_iter()
            .map(|d| d.status)
            .collect();
        assert_eq!(first[..3], ["submitted", "submitted", "submitted"]);
        assert_ne!(first[3], "submitted");
    }
);
