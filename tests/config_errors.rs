//! A malformed configuration file stops the start with one line naming the file, the
//! line and the key.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use motcua::config::{Config, ConfigError, Overrides};

/// A copy of the shipped config/ to break.
fn config_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("config");
    copy_dir(Path::new("config"), &dir);
    (tmp, dir)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

fn load(dir: &Path) -> Result<Config, ConfigError> {
    Config::load(dir, &Overrides::default())
}

/// Replaces the first occurrence of `from` in a file (which must contain it).
fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn line_of(path: &Path, needle: &str) -> usize {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {}", path.display()))
        + 1
}

/// Asserts the error's one-line form names the file, the line and the key.
fn assert_names(err: &ConfigError, file: &str, line: usize, key: &str) {
    let text = err.to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    assert!(err.file.ends_with(file), "file: {text}");
    assert_eq!(err.line, Some(line), "line: {text}");
    assert_eq!(err.key, key, "key: {text}");
    assert!(text.contains(&format!("{file}:{line}: {key}: ")), "{text}");
}

#[test]
fn shipped_configuration_loads() {
    let c = load(Path::new("config")).unwrap();
    assert!(c.agencies.agencies.len() >= 10);
    assert!(c.catalogue.len() >= 7);
    assert_eq!(
        c.calendar.configured_years().collect::<Vec<_>>(),
        vec![2025, 2026, 2027]
    );
}

#[test]
fn calendar_with_an_impossible_date() {
    let (_t, dir) = config_copy();
    let f = dir.join("calendar/2026.toml");
    edit(&f, "date = \"2026-04-27\"", "date = \"2026-02-30\"");
    let err = load(&dir).unwrap_err();
    assert_names(
        &err,
        "calendar/2026.toml",
        line_of(&f, "2026-02-30"),
        "holiday[8].date",
    );
}

#[test]
fn calendar_with_a_make_up_day_on_a_weekday() {
    let (_t, dir) = config_copy();
    let f = dir.join("calendar/2026.toml");
    edit(&f, "date = \"2026-01-10\"", "date = \"2026-01-12\"");
    let err = load(&dir).unwrap_err();
    assert_names(
        &err,
        "calendar/2026.toml",
        line_of(&f, "2026-01-12"),
        "working_day[0].date",
    );
}

#[test]
fn calendar_whose_year_does_not_match_its_file() {
    let (_t, dir) = config_copy();
    let f = dir.join("calendar/2027.toml");
    edit(&f, "year = 2027", "year = 2028");
    let err = load(&dir).unwrap_err();
    assert_names(
        &err,
        "calendar/2027.toml",
        line_of(&f, "year = 2028"),
        "year",
    );
}

#[test]
fn calendar_with_a_syntax_error() {
    let (_t, dir) = config_copy();
    let f = dir.join("calendar/2025.toml");
    edit(&f, "name = \"Tết Dương lịch\"", "name = \"Tết Dương lịch");
    let err = load(&dir).unwrap_err();
    assert_names(
        &err,
        "calendar/2025.toml",
        line_of(&f, "name = \"Tết Dương lịch"),
        "name",
    );
}

#[test]
fn calendar_with_an_unknown_key() {
    let (_t, dir) = config_copy();
    let f = dir.join("calendar/2026.toml");
    edit(&f, "name = \"Tết Dương lịch\"", "nmae = \"Tết Dương lịch\"");
    let err = load(&dir).unwrap_err();
    assert_eq!(err.key, "holiday[0].nmae", "{err}");
    assert!(err.file.ends_with("calendar/2026.toml"));
    assert!(err.line.is_some(), "{err}");
}

/// The first procedure of a catalogue file and the line where its table starts.
fn first_procedure(f: &Path) -> (String, usize) {
    let text = fs::read_to_string(f).unwrap();
    let code = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("code = \""))
        .map(|r| {
            r.trim_end_matches('"')
                .split('"')
                .next()
                .unwrap()
                .to_string()
        })
        .unwrap();
    (code, line_of(f, "[[procedure]]"))
}

#[test]
fn catalogue_with_an_unknown_unit() {
    let (_t, dir) = config_copy();
    let f = dir.join("catalogue/ho-tich.toml");
    edit(&f, "unit = \"same_day\"", "unit = \"fortnights\"");
    let err = load(&dir).unwrap_err();
    assert_eq!(err.key, "procedure[0].statutory_time.unit", "{err}");
    assert_eq!(err.line, Some(line_of(&f, "fortnights")), "{err}");
    assert!(err.to_string().contains("ho-tich.toml"), "{err}");
}

#[test]
fn catalogue_same_day_without_cutoff_names_the_procedure_and_field() {
    let (_t, dir) = config_copy();
    let f = dir.join("catalogue/ho-tich.toml");
    let (code, _) = first_procedure(&f);
    edit(&f, ", cutoff = \"15:00\"", "");
    let err = load(&dir).unwrap_err();
    assert_eq!(err.key, "procedure[0].statutory_time.cutoff", "{err}");
    assert!(err.message.contains(&code), "names the procedure: {err}");
    assert!(err.line.is_some(), "{err}");
    assert!(!err.to_string().contains('\n'));
}

#[test]
fn catalogue_shares_must_sum_to_100() {
    let (_t, dir) = config_copy();
    let f = dir.join("catalogue/ho-tich.toml");
    let (code, _) = first_procedure(&f);
    let text = fs::read_to_string(&f).unwrap();
    let share_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("share = "))
        .unwrap();
    edit(&f, share_line, "share = 1");
    let err = load(&dir).unwrap_err();
    assert_eq!(err.key, "procedure[0].step", "{err}");
    assert!(
        err.message.contains(&code) && err.message.contains("100"),
        "{err}"
    );
}

#[test]
fn catalogue_with_a_misspelt_field() {
    let (_t, dir) = config_copy();
    let f = dir.join("catalogue/dat-dai.toml");
    edit(&f, "online_level =", "onlne_level =");
    let err = load(&dir).unwrap_err();
    assert_eq!(err.key, "procedure[0].onlne_level", "{err}");
    assert!(err.line.is_some(), "{err}");
}

#[test]
fn catalogue_with_an_unknown_competent_agency() {
    let (_t, dir) = config_copy();
    let f = dir.join("catalogue/ho-tich.toml");
    let text = fs::read_to_string(&f).unwrap();
    let level_line = text
        .lines()
        .find(|l| l.starts_with("competent_level"))
        .unwrap();
    edit(&f, level_line, "competent_agency = \"999.99.99.H99\"");
    let err = load(&dir).unwrap_err();
    assert_names(
        &err,
        "catalogue/ho-tich.toml",
        line_of(&f, "999.99.99.H99"),
        "procedure[0].competent_agency",
    );
}

#[test]
fn agencies_with_an_unknown_parent() {
    let (_t, dir) = config_copy();
    let f = dir.join("agencies.toml");
    edit(
        &f,
        "parent = \"000.00.00.H26\"",
        "parent = \"000.00.99.H99\"",
    );
    let err = load(&dir).unwrap_err();
    assert!(
        err.key.starts_with("agency[") && err.key.ends_with("].parent"),
        "{err}"
    );
    assert_eq!(err.line, Some(line_of(&f, "000.00.99.H99")), "{err}");
    assert!(err.to_string().contains("agencies.toml"));
}

#[test]
fn agencies_with_a_malformed_code() {
    let (_t, dir) = config_copy();
    let f = dir.join("agencies.toml");
    edit(&f, "code = \"000.00.00.H26\"", "code = \"H 26\"");
    let err = load(&dir).unwrap_err();
    assert_names(
        &err,
        "agencies.toml",
        line_of(&f, "\"H 26\""),
        "agency[0].code",
    );
}

#[test]
fn agencies_with_an_undeclared_level() {
    let (_t, dir) = config_copy();
    let f = dir.join("agencies.toml");
    edit(&f, "level = \"commune\"", "level = \"district\"");
    let err = load(&dir).unwrap_err();
    assert!(err.key.ends_with("].level"), "{err}");
    assert_eq!(err.line, Some(line_of(&f, "level = \"district\"")), "{err}");
}

#[test]
fn settings_with_bad_working_hours_and_time_zone() {
    let (_t, dir) = config_copy();
    let f = dir.join("default.toml");
    edit(&f, "\"13:00-17:00\"", "\"13:00-25:00\"");
    let err = load(&dir).unwrap_err();
    assert_names(
        &err,
        "default.toml",
        line_of(&f, "13:00-25:00"),
        "time.working_hours[1]",
    );

    let (_t2, dir2) = config_copy();
    let f2 = dir2.join("default.toml");
    edit(
        &f2,
        "time_zone = \"Asia/Ho_Chi_Minh\"",
        "time_zone = \"Mars/Olympus\"",
    );
    let err = load(&dir2).unwrap_err();
    assert_names(
        &err,
        "default.toml",
        line_of(&f2, "Mars/Olympus"),
        "time.time_zone",
    );
}

#[test]
fn bounded_waits_are_settings_checked_at_start() {
    let c = Config::load(Path::new("config"), &Overrides::default()).unwrap();
    let t = c.settings.db_timeouts;
    assert_eq!(
        (
            t.connect_s,
            t.pool_ms,
            t.statement_ms,
            t.idle_in_transaction_ms
        ),
        (3, 2000, 30_000, 60_000)
    );
    assert_eq!(
        (
            t.keepalives_idle_s,
            t.health_interval_ms,
            t.health_timeout_ms
        ),
        (30, 500, 1500)
    );
    assert_eq!(
        (c.settings.shutdown_drain_s, c.settings.retry_after_s),
        (10, 5)
    );

    let (_t, dir) = config_copy();
    let f = dir.join("default.toml");
    edit(&f, "health_timeout_ms = 1500", "health_timeout_ms = 400");
    let err = load(&dir).unwrap_err();
    assert_eq!(err.key, "database.health_timeout_ms", "{err}");
    assert!(err.to_string().contains("health_interval_ms"), "{err}");

    let (_t2, dir2) = config_copy();
    let f2 = dir2.join("default.toml");
    edit(&f2, "pool_timeout_ms = 2000", "pool_timeout_ms = 0");
    let err = load(&dir2).unwrap_err();
    assert_eq!(err.key, "database.pool_timeout_ms", "{err}");

    let (_t3, dir3) = config_copy();
    let f3 = dir3.join("default.toml");
    edit(&f3, "shutdown_drain_s = 10", "shutdown_drain_s = 0");
    let err = load(&dir3).unwrap_err();
    assert_eq!(err.key, "server.shutdown_drain_s", "{err}");
}

#[test]
fn environment_overrides_single_values() {
    let c = Config::load(
        Path::new("config"),
        &Overrides {
            database_url: None,
            bind: Some("0.0.0.0:9999".into()),
            data_dir: Some("/var/lib/motcua".into()),
            ..Overrides::default()
        },
    )
    .unwrap();
    assert_eq!(c.settings.bind, "0.0.0.0:9999");
    assert_eq!(
        c.settings.database_url,
        "sqlite:///var/lib/motcua/motcua.db"
    );
    let d = Config::load(Path::new("config"), &Overrides::default()).unwrap();
    assert_eq!(d.settings.database_url, "sqlite://data/motcua.db");
    assert_eq!(d.settings.bind, "127.0.0.1:8080");
}

#[test]
fn the_binary_refuses_to_start_with_one_line_naming_file_and_key() {
    let (_t, dir) = config_copy();
    let f = dir.join("calendar/2026.toml");
    edit(&f, "date = \"2026-04-27\"", "date = \"2026-02-30\"");
    let out = Command::new(env!("CARGO_BIN_EXE_motcua"))
        .arg("check-config")
        .env("MOTCUA_CONFIG_DIR", &dir)
        .env_remove("MOTCUA_DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line = stderr
        .lines()
        .find(|l| l.starts_with("motcua: "))
        .unwrap_or_else(|| panic!("no error line in {stderr}"));
    assert!(
        line.contains("calendar/2026.toml:") && line.contains("holiday[8].date"),
        "{line}"
    );
}

#[test]
fn queue_counts_reused_too_long_is_refused() {
    let (_tmp, dir) = config_copy();
    let f = dir.join("default.toml");
    edit(
        &f,
        "queue_counts_cache_s = 5",
        "queue_counts_cache_s = 3600",
    );
    let err = load(&dir).unwrap_err();
    assert_eq!(err.key, "web.queue_counts_cache_s", "{err}");
    assert!(err.to_string().contains("phải từ 0 đến 60 giây"), "{err}");
    edit(
        &f,
        "queue_counts_cache_s = 3600",
        "queue_counts_cache_s = 0",
    );
    assert_eq!(load(&dir).unwrap().settings.queue_counts_cache_s, 0);
}

#[test]
fn reports_reused_too_long_is_refused() {
    let (_tmp, dir) = config_copy();
    let f = dir.join("default.toml");
    edit(&f, "report_cache_s = 60", "report_cache_s = 3600");
    let err = load(&dir).unwrap_err();
    assert_eq!(err.key, "web.report_cache_s", "{err}");
    assert!(err.to_string().contains("phải từ 0 đến 600 giây"), "{err}");
    edit(&f, "report_cache_s = 3600", "report_cache_s = 0");
    assert_eq!(load(&dir).unwrap().settings.report_cache_s, 0);
}

#[test]
fn the_digest_time_and_horizon_are_checked() {
    let c = load(Path::new("config")).unwrap();
    assert_eq!(c.settings.digest_at.format("%H:%M").to_string(), "07:30");
    assert_eq!(c.settings.digest_due_within_days, 1);
    let (_tmp, dir) = config_copy();
    let f = dir.join("default.toml");
    edit(&f, "digest_at = \"07:30\"", "digest_at = \"7h30\"");
    let err = load(&dir).unwrap_err();
    assert_names(
        &err,
        "default.toml",
        line_of(&f, "digest_at = "),
        "mail.digest_at",
    );
    assert!(err.to_string().contains("HH:MM"), "{err}");
    edit(&f, "digest_at = \"7h30\"", "digest_at = \"06:45\"");
    edit(
        &f,
        "digest_due_within_days = 1",
        "digest_due_within_days = 0",
    );
    let err = load(&dir).unwrap_err();
    assert_names(
        &err,
        "default.toml",
        line_of(&f, "digest_due_within_days = "),
        "mail.digest_due_within_days",
    );
    edit(
        &f,
        "digest_due_within_days = 0",
        "digest_due_within_days = 2",
    );
    let c = load(&dir).unwrap();
    assert_eq!(c.settings.digest_at.format("%H:%M").to_string(), "06:45");
    assert_eq!(c.settings.digest_due_within_days, 2);
}

#[test]
fn an_audit_checkpoint_interval_out_of_range_is_refused() {
    let (_tmp, dir) = config_copy();
    let f = dir.join("default.toml");
    for bad in ["checkpoint_interval_s = 0", "checkpoint_interval_s = 3600"] {
        edit(&f, "checkpoint_interval_s = 2", bad);
        let err = load(&dir).unwrap_err();
        assert_eq!(err.key, "audit.checkpoint_interval_s", "{err}");
        assert!(err.to_string().contains("phải từ 1 đến 60 giây"), "{err}");
        edit(&f, bad, "checkpoint_interval_s = 2");
    }
    edit(&f, "seal_batch = 20000", "seal_batch = 5");
    let err = load(&dir).unwrap_err();
    assert_eq!(err.key, "audit.seal_batch", "{err}");
    edit(&f, "seal_batch = 5", "seal_batch = 500");
    let s = load(&dir).unwrap().settings;
    assert_eq!(
        (s.audit_checkpoint_interval_s, s.audit_seal_batch),
        (2, 500)
    );
}

#[test]
fn a_bad_trusted_proxy_stops_the_start_naming_its_key() {
    let (_tmp, dir) = config_copy();
    let f = dir.join("default.toml");
    edit(
        &f,
        "trusted_proxies = []",
        "trusted_proxies = [\"127.0.0.1/32\", \"10.0.0.1/8\"]",
    );
    let line = line_of(&f, "trusted_proxies = [");
    let err = load(&dir).unwrap_err();
    assert_names(&err, "default.toml", line, "server.trusted_proxies[1]");
    assert!(err.message.contains("10.0.0.0/8"), "{err}");
    edit(&f, "\"10.0.0.1/8\"", "\"nginx.local\"");
    let err = load(&dir).unwrap_err();
    assert_names(&err, "default.toml", line, "server.trusted_proxies[1]");
    assert!(err.message.contains("không phải địa chỉ IP"), "{err}");
    // IPv4 and IPv6 networks load; the variable overrides the file and is named when bad.
    edit(&f, "\"nginx.local\"", "\"2001:db8::/32\"");
    let c = load(&dir).unwrap();
    assert_eq!(c.settings.trusted_proxies.len(), 2);
    let with = |list: &str| {
        Config::load(
            &dir,
            &Overrides {
                trusted_proxies: Some(list.into()),
                ..Overrides::default()
            },
        )
    };
    let c = with("127.0.0.1/32, ::1/128").unwrap();
    assert_eq!(
        c.settings
            .trusted_proxies
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>(),
        ["127.0.0.1/32", "::1/128"]
    );
    let err = with("127.0.0.1/33").unwrap_err();
    assert_eq!(err.key, "MOTCUA_TRUSTED_PROXIES", "{err}");
    assert!(err.message.contains("từ 0 đến 32"), "{err}");
    // The shipped file trusts nobody.
    assert!(load(Path::new("config"))
        .unwrap()
        .settings
        .trusted_proxies
        .is_empty());
}
