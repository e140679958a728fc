//! The report benchmark: a one-year, province-wide indicator report over N synthetic
//! dossiers (default 1,000,000), from the daily rollup, next to the full recomputation
//! from every dossier (which it must equal) and a bare full count of the dossiers table
//! (the ceiling: the cheapest read that touches every dossier), measured in the same run.
//!
//! ```text
//! cargo build --release
//! MOTCUA_TEST_PG_URL=postgres://motcua:motcua@127.0.0.1:5432/motcua \
//!   cargo run --release --example report_bench -- 1000000
//! ```
//! SQLite always; PostgreSQL when `MOTCUA_TEST_PG_URL` names a role that may create
//! databases (a fresh one is created and dropped). `--keep` keeps both databases and
//! prints their URLs; `--reuse URL` measures a kept one again without seeding.

use std::path::Path;
use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use diesel::{Connection, RunQueryDsl};
use motcua::app::App;
use motcua::config::{Config, Overrides};
use motcua::core::indicators::{GroupBy, Period};
use motcua::service::reports::IndicatorQuery;
use motcua::service::{Caller, Role};

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// The server secret of the benchmark's databases (so that a kept one can be reused);
/// `MOTCUA_SECRET` replaces it.
const SECRET: &str = "report-bench-secret-not-for-production-0123456789";

fn run(label: &str, url: &str, dir: &Path, n: Option<usize>) -> anyhow::Result<()> {
    let load = || {
        Config::load(
            Path::new("config"),
            &Overrides {
                database_url: Some(url.to_string()),
                data_dir: Some(dir.display().to_string()),
                secret: Some(std::env::var("MOTCUA_SECRET").unwrap_or_else(|_| SECRET.into())),
                ..Overrides::default()
            },
        )
    };
    let start = Utc.with_ymd_and_hms(2024, 12, 1, 0, 0, 0).unwrap();
    if let Some(n) = n {
        // The load, as `motcua seed-load` runs it (with a larger SQLite page cache).
        let mut config = load()?;
        config.settings.sqlite_cache_mb = config.settings.sqlite_cache_mb.max(1024);
        let app = App::start(config, start)?;
        let bar = indicatif::ProgressBar::new(n as u64);
        let t = Instant::now();
        app.seed_load(n, 2025, 7, &mut |d| bar.set_position(d as u64))?;
        bar.finish_and_clear();
        println!(
            "{label}: seeded {n} dossiers in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    // The report, as a server process with the configured settings runs it.
    let app = App::start(load()?, start)?;
    let period = Period {
        from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
    };
    let now = Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).unwrap();
    let mut times = Vec::new();
    let mut rolled = None;
    for _ in 0..5 {
        let t = Instant::now();
        let r = app.indicator_counts_rollup(None, period, GroupBy::Agency, now)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        rolled = Some(r);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    // The whole report as `GET /api/v1/reports/indicators` makes it for the province's
    // inspector (scope, counts, rates, targets, catalogue figures, QĐ 766), as JSON.
    let root = app
        .agencies
        .agencies
        .iter()
        .find(|a| a.parent.is_none())
        .map(|a| a.code.clone())
        .unwrap_or_default();
    let inspector = Caller {
        username: "inspector".into(),
        full_name: "Thanh tra".into(),
        role: Role::Inspector,
        agency: root,
        address: None,
    };
    let mut whole = Vec::new();
    let mut bytes = 0;
    let mut whole_total = None;
    for _ in 0..5 {
        let t = Instant::now();
        let report = app.indicators(
            &inspector,
            &IndicatorQuery {
                agency: None,
                from: period.from,
                to: period.to,
                descendants: true,
                group_by: GroupBy::Agency,
                recompute: false,
            },
            now,
        )?;
        bytes = serde_json::to_vec(&report)?.len();
        whole_total = Some(report.total.counts.clone());
        whole.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    whole.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "{label}: the whole report (JSON, {bytes} bytes, by agency): median {:.0} ms (min {:.0}, max {:.0})",
        whole[2], whole[0], whole[4]
    );
    let t = Instant::now();
    let full = app.indicator_counts(None, period, GroupBy::Agency, now)?;
    let full_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let count: N = diesel::sql_query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM dossiers")
        .get_result(&mut *app.store.conn()?)?;
    let scan_ms = t.elapsed().as_secs_f64() * 1000.0;
    let rolled = rolled.unwrap();
    let full_total = app
        .indicator_counts(None, period, GroupBy::Total, now)?
        .remove("total")
        .unwrap_or_default();
    anyhow::ensure!(
        whole_total.as_ref() == Some(&full_total),
        "the whole report's total differs from the full recomputation"
    );
    let received: i64 = rolled.values().map(|c| c.received).sum();
    println!(
        "{label}: one-year province report by agency over {} dossiers ({received} received in 2025): \
         rollup median {:.0} ms (min {:.0}, max {:.0}); full recomputation {:.0} ms; \
         ceiling COUNT(*) of dossiers {:.0} ms; equal: {} (and the whole report's total: true)",
        count.n,
        times[2],
        times[0],
        times[4],
        full_ms,
        scan_ms,
        rolled == full
    );
    anyhow::ensure!(
        rolled == full,
        "the rollup differs from the full recomputation"
    );
    for g in [GroupBy::Month, GroupBy::Procedure, GroupBy::Level] {
        let t = Instant::now();
        let a = app.indicator_counts_rollup(None, period, g, now)?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let b = app.indicator_counts(None, period, g, now)?;
        println!(
            "{label}: group_by {g:?}: rollup {ms:.0} ms; equal to the recomputation: {}",
            a == b
        );
        anyhow::ensure!(a == b, "{g:?} differs");
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let keep = args.iter().any(|a| a == "--keep");
    if let Some(i) = args.iter().position(|a| a == "--reuse") {
        let url = args
            .get(i + 1)
            .ok_or_else(|| anyhow::anyhow!("--reuse URL"))?;
        let dir = tempfile::tempdir()?;
        let label = if url.starts_with("sqlite") {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        return run(label, url, dir.path(), None);
    }
    let n: usize = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    run("SQLite", &url, dir.path(), Some(n))?;
    if keep {
        println!("kept: --reuse {url}");
        let _ = dir.keep();
    }
    if let Ok(admin) = std::env::var("MOTCUA_TEST_PG_URL") {
        let name = format!("motcua_report_bench_{}", std::process::id());
        let mut c = diesel::PgConnection::establish(&admin)?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c)?;
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin.clone());
        let pg_dir = tempfile::tempdir()?;
        let result = run(
            "PostgreSQL",
            &format!("{base}/{name}"),
            pg_dir.path(),
            Some(n),
        );
        if keep {
            println!("kept: --reuse {base}/{name}");
        } else {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut c);
        }
        result?;
    }
    Ok(())
}
