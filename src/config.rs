//! Configuration: config/default.toml (settings), config/agencies.toml,
//! config/catalogue/*.toml and config/calendar/<year>.toml.
//!
//! A whole directory can be swapped with `--config-dir DIR` or `MOTCUA_CONFIG_DIR`;
//! `MOTCUA_DATABASE_URL`, `MOTCUA_BIND` and `MOTCUA_DATA_DIR` override single values.
//! Every error names the file, the line and the key, on one line.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{FixedOffset, NaiveDate};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::core::calendar::{CalendarYear, NamedDay, WorkingCalendar, WorkingHours};
use crate::core::catalogue::{AgenciesFile, AgencyTree, Catalogue, CatalogueFile, Problem};
use crate::core::code::CodeFormat;
use crate::core::dossier::RuleSet;
use crate::core::forwarded::Cidr;
use crate::core::text;

/// A configuration problem: file, line (when known), key and message, shown on one line
/// as `file:line: key: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.message.replace(['\n', '\r'], " ");
        match self.line {
            Some(line) => write!(
                f,
                "{}:{}: {}: {}",
                self.file.display(),
                line,
                self.key,
                message
            ),
            None => write!(f, "{}: {}: {}", self.file.display(), self.key, message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line of byte offset `pos` in `text`.
fn line_of(text: &str, pos: usize) -> usize {
    text[..pos.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// Finds the line where `path` (e.g. `procedure[3].statutory_time.cutoff`) is written,
/// falling back to the deepest part of the path that exists.
pub fn locate(text: &str, path: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut span = None;
    let mut value: Option<&DeValue> = None;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    for segment in path.split('.') {
        let (key, indices) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !key.is_empty() {
            let Some(v) = table.and_then(|t| t.get(key)) else {
                break;
            };
            span = Some(v.span());
            value = Some(v.get_ref());
        }
        for idx in indices.split(['[', ']']).filter(|s| !s.is_empty()) {
            let Ok(i) = idx.parse::<usize>() else { break };
            match value {
                Some(DeValue::Array(a)) if i < a.len() => {
                    span = Some(a[i].span());
                    value = Some(a[i].get_ref());
                }
                _ => break,
            }
        }
        table = match value {
            Some(DeValue::Table(t)) => Some(t),
            _ => None,
        };
    }
    span.map(|s| line_of(text, s.start))
}

/// Reads and deserialises one TOML file (NFC-normalised first).
fn parse_file<T: DeserializeOwned>(path: &Path) -> Result<(T, String), ConfigError> {
    let raw = fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        line: None,
        key: "-".into(),
        message: format!("không đọc được tệp: {e}"),
    })?;
    let text = text::nfc(&raw);
    let de = toml::Deserializer::parse(&text).map_err(|e| {
        let line = e.span().map(|s| line_of(&text, s.start));
        let key = line
            .and_then(|l| text.lines().nth(l - 1))
            .map(|l| l.split('=').next().unwrap_or("").trim().to_string())
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| "(cú pháp)".into());
        ConfigError {
            file: path.to_path_buf(),
            line,
            key,
            message: format!("lỗi cú pháp TOML: {}", e.message().trim()),
        }
    })?;
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok((v, text)),
        Err(e) => {
            let mut key = e.path().to_string();
            let inner = e.into_inner();
            let message = inner.message().trim().to_string();
            // Name the field itself for unknown and missing fields.
            for prefix in ["unknown field `", "missing field `"] {
                if let Some(rest) = message.strip_prefix(prefix) {
                    if let Some(field) = rest.split('`').next() {
                        if key == field || key.ends_with(&format!(".{field}")) {
                            continue;
                        }
                        key = if key == "." {
                            field.to_string()
                        } else {
                            format!("{key}.{field}")
                        };
                    }
                }
            }
            let line = inner
                .span()
                .map(|s| line_of(&text, s.start))
                .or_else(|| locate(&text, &key));
            Err(ConfigError {
                file: path.to_path_buf(),
                line,
                key,
                message,
            })
        }
    }
}

fn problem_at(path: &Path, text: &str, p: Problem) -> ConfigError {
    ConfigError {
        file: path.to_path_buf(),
        line: locate(text, &p.path),
        key: p.path,
        message: p.message,
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    server: ServerSection,
    database: DatabaseSection,
    paths: PathsSection,
    time: TimeSection,
    #[serde(default)]
    codes: CodesSection,
    #[serde(default)]
    log: LogSection,
    #[serde(default)]
    auth: AuthSection,
    #[serde(default)]
    public: PublicSection,
    #[serde(default)]
    files: FilesSection,
    #[serde(default)]
    web: WebSection,
    #[serde(default)]
    mail: MailSection,
    #[serde(default)]
    audit: AuditSection,
    #[serde(default)]
    metrics: MetricsSection,
}

/// `/metrics` (`[metrics]`, issue #19): a separate listener, and whether the public one
/// serves it too.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct MetricsSection {
    bind: String,
    public: bool,
}

/// The audit trail's sealer (`[audit]`, issue #18; docs/audit.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct AuditSection {
    checkpoint_interval_s: u32,
    seal_batch: u32,
}

impl Default for AuditSection {
    fn default() -> Self {
        Self {
            checkpoint_interval_s: 2,
            seal_batch: 20_000,
        }
    }
}

/// Notifications (`[mail]`, issue #17).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct MailSection {
    transport: String,
    from: String,
    file_dir: String,
    smtp_host: String,
    smtp_port: u16,
    smtp_security: String,
    smtp_username: String,
    smtp_password: Option<String>,
    smtp_timeout_s: u32,
    smtp_pool_size: u32,
    poll_interval_ms: u64,
    batch_size: u32,
    max_attempts: u32,
    retry_base_s: u32,
    retry_max_s: u32,
    lease_s: u32,
    digest_at: String,
    digest_due_within_days: u32,
}

impl Default for MailSection {
    fn default() -> Self {
        Self {
            transport: "file".into(),
            from: "Bộ phận Một cửa <khong-tra-loi@motcua.invalid>".into(),
            file_dir: "{data_dir}/mail".into(),
            smtp_host: "localhost".into(),
            smtp_port: 587,
            smtp_security: "starttls".into(),
            smtp_username: String::new(),
            smtp_password: None,
            smtp_timeout_s: 20,
            smtp_pool_size: 4,
            poll_interval_ms: 1000,
            batch_size: 20,
            max_attempts: 8,
            retry_base_s: 30,
            retry_max_s: 3600,
            lease_s: 300,
            digest_at: "07:30".into(),
            digest_due_within_days: 1,
        }
    }
}

/// How notifications leave (`[mail] transport`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// Nothing is sent; the rows wait in the outbox.
    Off,
    /// Each message written as an `.eml` file into this directory (development).
    File(PathBuf),
    /// Through an SMTP server.
    Smtp(SmtpSettings),
}

/// The SMTP server (`[mail] smtp_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// `starttls` (submission, 587), `tls` (implicit TLS, 465) or `none` (a relay on the
    /// same machine, or tests).
    pub security: String,
    pub username: String,
    /// From `MOTCUA_SMTP_PASSWORD` or `[mail] smtp_password`.
    pub password: Option<String>,
    pub timeout_s: u32,
    pub pool_size: u32,
}

/// Notifications (`[mail]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    pub transport: MailTransport,
    /// The sender, `Name <address>`.
    pub from: String,
    /// How often an idle worker looks for due rows.
    pub poll_interval_ms: u64,
    pub batch_size: u32,
    /// After this many failed attempts a row is parked for an admin.
    pub max_attempts: u32,
    /// The first retry waits this long, each next one twice as long, up to retry_max_s.
    pub retry_base_s: u32,
    pub retry_max_s: u32,
    /// How long a worker holds the rows it claimed; a worker that died leaves them to the
    /// others after this.
    pub lease_s: u32,
}

/// The web pages' sessions (`[web]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct WebSection {
    idle_timeout_min: u32,
    absolute_timeout_h: u32,
    queue_counts_cache_s: u32,
    report_cache_s: u32,
}

impl Default for WebSection {
    fn default() -> Self {
        Self {
            idle_timeout_min: 30,
            absolute_timeout_h: 12,
            queue_counts_cache_s: 5,
            report_cache_s: 60,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FilesSection {
    max_upload_mb: u32,
    sweep_grace_hours: u32,
}

impl Default for FilesSection {
    fn default() -> Self {
        Self {
            max_upload_mb: 20,
            sweep_grace_hours: 24,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct AuthSection {
    secret: Option<String>,
    token_ttl_minutes: u32,
    login_free_failures: u32,
    login_failures_per_account: u32,
    login_failures_per_address: u32,
    failure_window_minutes: u32,
    account_cache_s: u32,
}

impl Default for AuthSection {
    fn default() -> Self {
        Self {
            secret: None,
            token_ttl_minutes: 30,
            login_free_failures: 5,
            login_failures_per_account: 50,
            login_failures_per_address: 20,
            failure_window_minutes: 15,
            account_cache_s: 30,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct PublicSection {
    lookup_free_failures: u32,
    lookup_failures_per_address: u32,
    lookup_failures_per_code: u32,
    failure_window_minutes: u32,
    return_place: String,
}

impl Default for PublicSection {
    fn default() -> Self {
        Self {
            lookup_free_failures: 5,
            lookup_failures_per_address: 20,
            lookup_failures_per_code: 50,
            failure_window_minutes: 15,
            return_place: "Bộ phận Một cửa nơi tiếp nhận hồ sơ".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSection {
    bind: String,
    #[serde(default)]
    workers: usize,
    public_base_url: String,
    #[serde(default = "default_shutdown_drain_s")]
    shutdown_drain_s: u64,
    #[serde(default = "default_retry_after_s")]
    retry_after_s: u32,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` name the client (CIDRs).
    #[serde(default)]
    trusted_proxies: Vec<String>,
}

fn default_shutdown_drain_s() -> u64 {
    10
}
fn default_retry_after_s() -> u32 {
    5
}

/// Why a configured server secret is too weak to sign tokens and key pin hashes, or
/// `None`: at least 32 characters; at least 16 distinct ones (12 from 64 characters on,
/// so that 64 random hex digits, as generated or from `openssl rand -hex 32`, pass);
/// not a repeated pattern (`abcdabcd…`); not mostly a run of consecutive characters
/// (`abcdef…`, `0123…`).
pub fn secret_weakness(secret: &str) -> Option<String> {
    let chars: Vec<char> = secret.chars().collect();
    let n = chars.len();
    if n < 32 {
        return Some(format!(
            "khóa bí mật phải dài ít nhất 32 ký tự (hiện có {n})"
        ));
    }
    let distinct = chars.iter().collect::<std::collections::HashSet<_>>().len();
    let needed = if n >= 64 { 12 } else { 16 };
    if distinct < needed {
        return Some(format!(
            "khóa bí mật quá dễ đoán: chỉ có {distinct} ký tự khác nhau (cần ít nhất {needed})"
        ));
    }
    if let Some(p) = (1..=n / 2).find(|&p| (p..n).all(|i| chars[i] == chars[i - p])) {
        return Some(format!(
            "khóa bí mật quá dễ đoán: lặp lại một mẫu {p} ký tự"
        ));
    }
    let steps = chars
        .windows(2)
        .filter(|w| (w[1] as i64 - w[0] as i64).abs() == 1)
        .count();
    if steps * 2 > n - 1 {
        return Some("khóa bí mật quá dễ đoán: phần lớn là dãy ký tự liên tiếp".into());
    }
    None
}

/// Bounded waits on the database (`[database]`), in milliseconds unless named otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbTimeouts {
    /// Establishing a connection (PostgreSQL `connect_timeout`, whole seconds, at least 2).
    pub connect_s: u32,
    /// Waiting for a pooled connection.
    pub pool_ms: u32,
    /// PostgreSQL `statement_timeout`, per connection.
    pub statement_ms: u32,
    /// PostgreSQL `idle_in_transaction_session_timeout`, per connection.
    pub idle_in_transaction_ms: u32,
    /// TCP keepalives on PostgreSQL connections: idle seconds before the first probe.
    pub keepalives_idle_s: u32,
    /// How often the health monitor pings the database, and how long without an answer
    /// makes it unavailable.
    pub health_interval_ms: u32,
    pub health_timeout_ms: u32,
}

impl Default for DbTimeouts {
    fn default() -> Self {
        Self {
            connect_s: 3,
            pool_ms: 2000,
            statement_ms: 30_000,
            idle_in_transaction_ms: 60_000,
            keepalives_idle_s: 30,
            health_interval_ms: 500,
            health_timeout_ms: 1500,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatabaseSection {
    url: String,
    #[serde(default = "default_pool_size")]
    pool_size: u32,
    #[serde(default = "default_intake_batch_max")]
    intake_batch_max: u32,
    #[serde(default = "default_busy_timeout")]
    busy_timeout_ms: u32,
    #[serde(default = "default_sqlite_cache_mb")]
    sqlite_cache_mb: u32,
    #[serde(default = "default_sqlite_mmap_mb")]
    sqlite_mmap_mb: u32,
    #[serde(default)]
    connect_timeout_s: Option<u32>,
    #[serde(default)]
    pool_timeout_ms: Option<u32>,
    #[serde(default)]
    statement_timeout_ms: Option<u32>,
    #[serde(default)]
    idle_in_transaction_timeout_ms: Option<u32>,
    #[serde(default)]
    keepalives_idle_s: Option<u32>,
    #[serde(default)]
    health_interval_ms: Option<u32>,
    #[serde(default)]
    health_timeout_ms: Option<u32>,
}

fn default_pool_size() -> u32 {
    8
}
fn default_intake_batch_max() -> u32 {
    32
}
fn default_busy_timeout() -> u32 {
    5000
}
fn default_sqlite_cache_mb() -> u32 {
    64
}
fn default_sqlite_mmap_mb() -> u32 {
    2048
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathsSection {
    data_dir: String,
    #[serde(default = "default_forms_dir")]
    forms_dir: String,
}

fn default_forms_dir() -> String {
    "forms".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TimeSection {
    time_zone: String,
    working_hours: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodesSection {
    #[serde(default = "default_dossier_template")]
    dossier: String,
    #[serde(default = "default_national_portal_agency")]
    national_portal_agency: String,
}

fn default_dossier_template() -> String {
    crate::core::code::DEFAULT_DOSSIER_TEMPLATE.into()
}

/// A sample identifier of the national public-service portal (to be verified).
fn default_national_portal_agency() -> String {
    "000.00.00.G22".into()
}

impl Default for CodesSection {
    fn default() -> Self {
        Self {
            dossier: default_dossier_template(),
            national_portal_agency: default_national_portal_agency(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogSection {
    #[serde(default = "default_filter")]
    filter: String,
    #[serde(default = "default_format")]
    format: String,
}

fn default_filter() -> String {
    "info".into()
}
fn default_format() -> String {
    "text".into()
}

impl Default for LogSection {
    fn default() -> Self {
        Self {
            filter: default_filter(),
            format: default_format(),
        }
    }
}

/// Values that override single settings, usually from the environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `MOTCUA_DATABASE_URL`
    pub database_url: Option<String>,
    /// `MOTCUA_BIND`
    pub bind: Option<String>,
    /// `MOTCUA_METRICS_BIND`: `[metrics] bind`.
    pub metrics_bind: Option<String>,
    /// `MOTCUA_DATA_DIR`
    pub data_dir: Option<String>,
    /// `MOTCUA_SECRET`
    pub secret: Option<String>,
    /// `MOTCUA_SMTP_PASSWORD`
    pub smtp_password: Option<String>,
    /// `MOTCUA_TRUSTED_PROXIES`: `[server] trusted_proxies`, CIDRs separated by commas.
    pub trusted_proxies: Option<String>,
}

impl Overrides {
    pub fn from_env() -> Self {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Self {
            database_url: get("MOTCUA_DATABASE_URL"),
            bind: get("MOTCUA_BIND"),
            metrics_bind: get("MOTCUA_METRICS_BIND"),
            data_dir: get("MOTCUA_DATA_DIR"),
            secret: get("MOTCUA_SECRET"),
            smtp_password: get("MOTCUA_SMTP_PASSWORD"),
            trusted_proxies: get("MOTCUA_TRUSTED_PROXIES"),
        }
    }
}

/// The resolved settings of config/default.toml.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config_dir: PathBuf,
    pub bind: String,
    /// Where `/metrics` is served apart (`[metrics] bind`, `MOTCUA_METRICS_BIND`); none:
    /// no such listener.
    pub metrics_bind: Option<String>,
    /// Whether the public listener serves `/metrics` too (`[metrics] public`).
    pub metrics_public: bool,
    pub workers: usize,
    pub public_base_url: String,
    pub database_url: String,
    pub pool_size: u32,
    /// Most intakes written in one transaction when they arrive together (group commit,
    /// `[database] intake_batch_max`; 1: each alone).
    pub intake_batch_max: u32,
    pub busy_timeout_ms: u32,
    /// Bounded waits on the database.
    pub db_timeouts: DbTimeouts,
    /// SIGTERM: in-flight requests get this long to finish, then the process exits.
    pub shutdown_drain_s: u64,
    /// `Retry-After` of a 503 or a 429, in seconds.
    pub retry_after_s: u32,
    /// SQLite: page cache per connection, in MB (`[database] sqlite_cache_mb`).
    pub sqlite_cache_mb: u32,
    /// SQLite: the database file read through memory mapping up to this size, in MB
    /// (`[database] sqlite_mmap_mb`; 0: off).
    pub sqlite_mmap_mb: u32,
    pub data_dir: PathBuf,
    /// Form templates and fonts (`forms/`).
    pub forms_dir: PathBuf,
    pub time_zone: String,
    pub offset: FixedOffset,
    pub working_hours: WorkingHours,
    pub dossier_code: CodeFormat,
    /// The national portal's identifier, which leads the code of an inter-agency group's
    /// dossier filed online (`[codes] national_portal_agency`, NĐ 118/2025 Art. 28(2)).
    pub national_portal_agency: String,
    pub log_filter: String,
    pub log_format: String,
    /// The server secret when configured (`auth.secret` or `MOTCUA_SECRET`); otherwise
    /// one is generated into `<data_dir>/secret.key`.
    pub secret: Option<String>,
    pub token_ttl_minutes: u32,
    /// How old the account a token is checked against may be (seconds, at most 30).
    pub account_cache_s: u32,
    /// How long the counts on the work queue's tabs may be reused (`[web]
    /// queue_counts_cache_s`, at most 60; 0: counted on every page). A write by this
    /// process, or a new minute, counts again at once.
    pub queue_counts_cache_s: u32,
    /// How often the sealer of every server process checkpoints the audit trail and folds
    /// the rollup's deltas (`[audit] checkpoint_interval_s`, 1–60 s; see docs/audit.md):
    /// what was written before the last checkpoint cannot be cut off undetected.
    pub audit_checkpoint_interval_s: u32,
    /// At most this many records per checkpoint (`[audit] seal_batch`); the sealer goes on
    /// at once while more are waiting.
    pub audit_seal_batch: u32,
    /// How long an indicator report (the dashboard's and `GET /api/v1/reports/indicators`'
    /// alike) may be reused for the same agency, scope, period and grouping (`[web]
    /// report_cache_s`, at most 600; 0: counted on every request).
    pub report_cache_s: u32,
    /// Guessing passwords (see [`crate::core::throttle`]).
    pub login_limits: crate::core::throttle::Limits,
    /// Guessing pins at the public lookup.
    pub lookup_limits: crate::core::throttle::Limits,
    /// Where results are collected, printed on the receipt.
    pub return_place: String,
    /// Largest accepted upload, in bytes (`[files] max_upload_mb`).
    pub max_upload_bytes: u64,
    /// Stored content nothing records and temporary uploads are left alone this long by
    /// the archive sweep (an upload may be between writing and committing).
    pub sweep_grace_hours: u32,
    /// A web session ends after this long without a request (`[web] idle_timeout_min`).
    pub session_idle: chrono::Duration,
    /// … and this long after login in any case (`[web] absolute_timeout_h`).
    pub session_absolute: chrono::Duration,
    /// The public base URL is https: cookies carry `Secure` and every response
    /// `Strict-Transport-Security`.
    pub https: bool,
    /// Reverse proxies believed when they name the client (`[server] trusted_proxies`,
    /// `MOTCUA_TRUSTED_PROXIES`); see [`crate::core::forwarded`].
    pub trusted_proxies: Vec<Cidr>,
    /// Notifications (`[mail]`).
    pub mail: MailSettings,
    /// The local time of a working day from which the morning digest of staff is
    /// prepared (`[mail] digest_at`, *cảnh báo sớm*).
    pub digest_at: chrono::NaiveTime,
    /// The digest's "due soon": due within this many working days (`[mail]
    /// digest_due_within_days`, 1–10).
    pub digest_due_within_days: u32,
}

impl Settings {
    /// A copy with no secret, safe to log.
    pub fn without_secret(&self) -> Self {
        let mut mail = self.mail.clone();
        if let MailTransport::Smtp(s) = &mut mail.transport {
            s.password = s.password.as_ref().map(|_| "***".into());
        }
        Self {
            secret: self.secret.as_ref().map(|_| "***".into()),
            mail,
            ..self.clone()
        }
    }
}

/// Checks `[mail]`; a problem names its key (without `mail.`).
fn mail_settings(
    m: &MailSection,
    data_dir: &str,
    password: Option<String>,
) -> Result<MailSettings, (&'static str, String)> {
    let transport = match m.transport.as_str() {
        "off" => MailTransport::Off,
        "file" => MailTransport::File(PathBuf::from(
            m.file_dir
                .replace("{data_dir}", data_dir.trim_end_matches('/')),
        )),
        "smtp" => {
            if m.smtp_host.trim().is_empty() {
                return Err((
                    "smtp_host",
                    "không được để trống khi transport = \"smtp\"".into(),
                ));
            }
            if m.smtp_port == 0 {
                return Err(("smtp_port", "phải từ 1 đến 65535".into()));
            }
            if !matches!(m.smtp_security.as_str(), "starttls" | "tls" | "none") {
                return Err((
                    "smtp_security",
                    "chỉ nhận \"starttls\", \"tls\" hoặc \"none\"".into(),
                ));
            }
            MailTransport::Smtp(SmtpSettings {
                host: m.smtp_host.trim().to_string(),
                port: m.smtp_port,
                security: m.smtp_security.clone(),
                username: m.smtp_username.trim().to_string(),
                password: password.or_else(|| m.smtp_password.clone()),
                timeout_s: m.smtp_timeout_s,
                pool_size: m.smtp_pool_size,
            })
        }
        other => {
            return Err((
                "transport",
                format!("\"{other}\" không hợp lệ: chỉ nhận \"smtp\", \"file\" hoặc \"off\""),
            ))
        }
    };
    if m.from.parse::<lettre::message::Mailbox>().is_err() {
        return Err((
            "from",
            format!(
                "\"{}\" không phải địa chỉ thư (dạng Tên <dia-chi@ten-mien>)",
                m.from
            ),
        ));
    }
    for (key, v, range) in [
        ("smtp_timeout_s", m.smtp_timeout_s, 1..=300),
        ("smtp_pool_size", m.smtp_pool_size, 1..=64),
        ("batch_size", m.batch_size, 1..=1000),
        ("max_attempts", m.max_attempts, 1..=100),
        ("retry_base_s", m.retry_base_s, 1..=86_400),
        ("retry_max_s", m.retry_max_s, 1..=604_800),
        ("lease_s", m.lease_s, 5..=86_400),
    ] {
        if !range.contains(&v) {
            return Err((
                key,
                format!("phải từ {} đến {}", range.start(), range.end()),
            ));
        }
    }
    if m.retry_max_s < m.retry_base_s {
        return Err(("retry_max_s", "phải không nhỏ hơn retry_base_s".into()));
    }
    if m.lease_s < 2 * m.smtp_timeout_s {
        return Err((
            "lease_s",
            "phải ít nhất gấp đôi smtp_timeout_s (một thư gửi chậm không được quá thời hạn giữ)"
                .into(),
        ));
    }
    if !(10..=600_000).contains(&m.poll_interval_ms) {
        return Err(("poll_interval_ms", "phải từ 10 đến 600000".into()));
    }
    Ok(MailSettings {
        transport,
        from: m.from.clone(),
        poll_interval_ms: m.poll_interval_ms,
        batch_size: m.batch_size,
        max_attempts: m.max_attempts,
        retry_base_s: m.retry_base_s,
        retry_max_s: m.retry_max_s,
        lease_s: m.lease_s,
    })
}

/// The offset of a supported time-zone name. Vietnam has kept +07:00 without daylight
/// saving since 1975; a fixed offset `+HH:MM` is accepted too.
pub fn parse_time_zone(name: &str) -> Option<FixedOffset> {
    match name {
        "Asia/Ho_Chi_Minh" | "Asia/Saigon" | "Asia/Bangkok" | "Asia/Jakarta" => {
            FixedOffset::east_opt(7 * 3600)
        }
        _ => {
            let (sign, rest) = match name.as_bytes().first()? {
                b'+' => (1, &name[1..]),
                b'-' => (-1, &name[1..]),
                _ => return None,
            };
            let (h, m) = rest.split_once(':')?;
            let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
            if h > 14 || m > 59 {
                return None;
            }
            FixedOffset::east_opt(sign * (h * 3600 + m * 60))
        }
    }
}

impl Settings {
    /// Reads `<dir>/default.toml` and applies the overrides.
    pub fn load(dir: &Path, overrides: &Overrides) -> Result<Self, ConfigError> {
        let path = dir.join("default.toml");
        let (file, text): (SettingsFile, String) = parse_file(&path)?;
        let err = |key: &str, message: String| ConfigError {
            file: path.clone(),
            line: locate(&text, key),
            key: key.into(),
            message,
        };
        let offset = parse_time_zone(&file.time.time_zone).ok_or_else(|| {
            err(
                "time.time_zone",
                format!(
                    "múi giờ \"{}\" không được hỗ trợ (dùng Asia/Ho_Chi_Minh hoặc +HH:MM)",
                    file.time.time_zone
                ),
            )
        })?;
        let mut sessions = Vec::new();
        for (i, s) in file.time.working_hours.iter().enumerate() {
            sessions.push(
                WorkingHours::parse_session(s)
                    .map_err(|m| err(&format!("time.working_hours[{i}]"), m))?,
            );
        }
        let working_hours =
            WorkingHours::new(sessions).map_err(|m| err("time.working_hours", m))?;
        let dossier_code =
            CodeFormat::parse(&file.codes.dossier).map_err(|m| err("codes.dossier", m))?;
        let national_portal_agency = file.codes.national_portal_agency.trim().to_string();
        if !crate::core::code::is_valid_agency_code(&national_portal_agency) {
            return Err(err(
                "codes.national_portal_agency",
                format!(
                    "mã định danh \"{national_portal_agency}\" không đúng dạng QCVN 102 (ví dụ 000.00.00.G22)"
                ),
            ));
        }
        if file.database.sqlite_cache_mb == 0 || file.database.sqlite_cache_mb > 65536 {
            return Err(err(
                "database.sqlite_cache_mb",
                "phải từ 1 đến 65536".into(),
            ));
        }
        if file.database.sqlite_mmap_mb > 65536 {
            return Err(err("database.sqlite_mmap_mb", "phải từ 0 đến 65536".into()));
        }
        if file.database.pool_size == 0 || file.database.pool_size > 256 {
            return Err(err("database.pool_size", "phải từ 1 đến 256".into()));
        }
        if file.database.intake_batch_max == 0 || file.database.intake_batch_max > 1000 {
            return Err(err(
                "database.intake_batch_max",
                "phải từ 1 đến 1000".into(),
            ));
        }
        let d = DbTimeouts::default();
        let db = &file.database;
        let db_timeouts = DbTimeouts {
            connect_s: db.connect_timeout_s.unwrap_or(d.connect_s),
            pool_ms: db.pool_timeout_ms.unwrap_or(d.pool_ms),
            statement_ms: db.statement_timeout_ms.unwrap_or(d.statement_ms),
            idle_in_transaction_ms: db
                .idle_in_transaction_timeout_ms
                .unwrap_or(d.idle_in_transaction_ms),
            keepalives_idle_s: db.keepalives_idle_s.unwrap_or(d.keepalives_idle_s),
            health_interval_ms: db.health_interval_ms.unwrap_or(d.health_interval_ms),
            health_timeout_ms: db.health_timeout_ms.unwrap_or(d.health_timeout_ms),
        };
        for (key, value, range) in [
            ("database.connect_timeout_s", db_timeouts.connect_s, 2..=600),
            (
                "database.pool_timeout_ms",
                db_timeouts.pool_ms,
                100..=600_000,
            ),
            (
                "database.statement_timeout_ms",
                db_timeouts.statement_ms,
                100..=3_600_000,
            ),
            (
                "database.idle_in_transaction_timeout_ms",
                db_timeouts.idle_in_transaction_ms,
                100..=3_600_000,
            ),
            (
                "database.keepalives_idle_s",
                db_timeouts.keepalives_idle_s,
                1..=7200,
            ),
            (
                "database.health_interval_ms",
                db_timeouts.health_interval_ms,
                50..=60_000,
            ),
            (
                "database.health_timeout_ms",
                db_timeouts.health_timeout_ms,
                100..=600_000,
            ),
        ] {
            if !range.contains(&value) {
                return Err(err(
                    key,
                    format!("phải từ {} đến {}", range.start(), range.end()),
                ));
            }
        }
        if db_timeouts.health_timeout_ms <= db_timeouts.health_interval_ms {
            return Err(err(
                "database.health_timeout_ms",
                "phải lớn hơn health_interval_ms".into(),
            ));
        }
        if !(1..=300).contains(&file.server.shutdown_drain_s) {
            return Err(err("server.shutdown_drain_s", "phải từ 1 đến 300".into()));
        }
        if !(1..=3600).contains(&file.server.retry_after_s) {
            return Err(err("server.retry_after_s", "phải từ 1 đến 3600".into()));
        }
        if !matches!(file.log.format.as_str(), "text" | "json") {
            return Err(err("log.format", "chỉ nhận \"text\" hoặc \"json\"".into()));
        }
        let data_dir = overrides
            .data_dir
            .clone()
            .unwrap_or(file.paths.data_dir.clone());
        let database_url = overrides
            .database_url
            .clone()
            .unwrap_or(file.database.url.clone())
            .replace("{data_dir}", data_dir.trim_end_matches('/'));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(err(
                "database.url",
                format!("URL cơ sở dữ liệu phải bắt đầu bằng sqlite:// hoặc postgres:// (nhận được \"{}\")", redact_url(&database_url)),
            ));
        }
        let metrics_bind = overrides
            .metrics_bind
            .clone()
            .or(Some(file.metrics.bind.clone()))
            .map(|b| b.trim().to_string())
            .filter(|b| !b.is_empty());
        if let Some(b) = &metrics_bind {
            if b.parse::<std::net::SocketAddr>().is_err() {
                return Err(err(
                    "metrics.bind",
                    format!("địa chỉ \"{b}\" phải có dạng IP:PORT, ví dụ 127.0.0.1:9464"),
                ));
            }
        }
        let trusted_proxies = match &overrides.trusted_proxies {
            Some(list) => list
                .split([',', ' '])
                .filter(|c| !c.trim().is_empty())
                .map(|c| {
                    c.parse::<Cidr>()
                        .map_err(|m| err("MOTCUA_TRUSTED_PROXIES", m))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => file
                .server
                .trusted_proxies
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    c.parse::<Cidr>()
                        .map_err(|m| err(&format!("server.trusted_proxies[{i}]"), m))
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let bind = overrides.bind.clone().unwrap_or(file.server.bind.clone());
        if bind.parse::<std::net::SocketAddr>().is_err() && !bind.contains(':') {
            return Err(err(
                "server.bind",
                format!("địa chỉ \"{bind}\" phải có dạng HOST:PORT"),
            ));
        }
        let secret = overrides.secret.clone().or(file.auth.secret.clone());
        if let Some(problem) = secret.as_deref().and_then(secret_weakness) {
            let key = if overrides.secret.is_some() {
                "MOTCUA_SECRET"
            } else {
                "auth.secret"
            };
            return Err(err(key, problem));
        }
        if file.auth.token_ttl_minutes == 0 || file.auth.token_ttl_minutes > 24 * 60 {
            return Err(err(
                "auth.token_ttl_minutes",
                "phải từ 1 đến 1440 phút".into(),
            ));
        }
        if file.web.report_cache_s > 600 {
            return Err(err("web.report_cache_s", "phải từ 0 đến 600 giây".into()));
        }
        if !(1..=60).contains(&file.audit.checkpoint_interval_s) {
            return Err(err(
                "audit.checkpoint_interval_s",
                "phải từ 1 đến 60 giây".into(),
            ));
        }
        if !(100..=1_000_000).contains(&file.audit.seal_batch) {
            return Err(err(
                "audit.seal_batch",
                "phải từ 100 đến 1000000 bản ghi".into(),
            ));
        }
        if file.web.queue_counts_cache_s > 60 {
            return Err(err(
                "web.queue_counts_cache_s",
                "phải từ 0 đến 60 giây".into(),
            ));
        }
        let digest_at = crate::core::calendar::parse_hhmm(file.mail.digest_at.trim())
            .map_err(|m| err("mail.digest_at", m))?;
        if !(1..=10).contains(&file.mail.digest_due_within_days) {
            return Err(err(
                "mail.digest_due_within_days",
                "phải từ 1 đến 10 ngày làm việc".into(),
            ));
        }
        if file.auth.account_cache_s > 30 {
            return Err(err("auth.account_cache_s", "phải từ 0 đến 30 giây".into()));
        }
        for (key, v) in [
            ("auth.login_free_failures", file.auth.login_free_failures),
            (
                "public.lookup_free_failures",
                file.public.lookup_free_failures,
            ),
            (
                "auth.login_failures_per_account",
                file.auth.login_failures_per_account,
            ),
            (
                "auth.login_failures_per_address",
                file.auth.login_failures_per_address,
            ),
            (
                "auth.failure_window_minutes",
                file.auth.failure_window_minutes,
            ),
            (
                "public.lookup_failures_per_address",
                file.public.lookup_failures_per_address,
            ),
            (
                "public.lookup_failures_per_code",
                file.public.lookup_failures_per_code,
            ),
            (
                "public.failure_window_minutes",
                file.public.failure_window_minutes,
            ),
            ("files.max_upload_mb", file.files.max_upload_mb),
            ("web.idle_timeout_min", file.web.idle_timeout_min),
            ("web.absolute_timeout_h", file.web.absolute_timeout_h),
        ] {
            if v == 0 {
                return Err(err(key, "phải lớn hơn 0".into()));
            }
        }
        let mail = mail_settings(&file.mail, &data_dir, overrides.smtp_password.clone())
            .map_err(|(key, m)| err(&format!("mail.{key}"), m))?;
        Ok(Self {
            mail,
            secret,
            token_ttl_minutes: file.auth.token_ttl_minutes,
            account_cache_s: file.auth.account_cache_s,
            queue_counts_cache_s: file.web.queue_counts_cache_s,
            audit_checkpoint_interval_s: file.audit.checkpoint_interval_s,
            audit_seal_batch: file.audit.seal_batch,
            report_cache_s: file.web.report_cache_s,
            login_limits: crate::core::throttle::Limits {
                free: file.auth.login_free_failures,
                per_address: file.auth.login_failures_per_address,
                per_subject: file.auth.login_failures_per_account,
                window: chrono::Duration::minutes(i64::from(file.auth.failure_window_minutes)),
            },
            lookup_limits: crate::core::throttle::Limits {
                free: file.public.lookup_free_failures,
                per_address: file.public.lookup_failures_per_address,
                per_subject: file.public.lookup_failures_per_code,
                window: chrono::Duration::minutes(i64::from(file.public.failure_window_minutes)),
            },
            return_place: crate::core::text::clean(&file.public.return_place),
            max_upload_bytes: u64::from(file.files.max_upload_mb) * 1024 * 1024,
            sweep_grace_hours: file.files.sweep_grace_hours,
            session_idle: chrono::Duration::minutes(i64::from(file.web.idle_timeout_min)),
            session_absolute: chrono::Duration::hours(i64::from(file.web.absolute_timeout_h)),
            https: file.server.public_base_url.starts_with("https://"),
            trusted_proxies,
            digest_at,
            digest_due_within_days: file.mail.digest_due_within_days,
            config_dir: dir.to_path_buf(),
            bind,
            metrics_bind,
            metrics_public: file.metrics.public,
            workers: file.server.workers,
            public_base_url: file
                .server
                .public_base_url
                .trim_end_matches('/')
                .to_string(),
            database_url,
            pool_size: file.database.pool_size,
            intake_batch_max: file.database.intake_batch_max,
            busy_timeout_ms: file.database.busy_timeout_ms,
            db_timeouts,
            shutdown_drain_s: file.server.shutdown_drain_s,
            retry_after_s: file.server.retry_after_s,
            sqlite_cache_mb: file.database.sqlite_cache_mb,
            sqlite_mmap_mb: file.database.sqlite_mmap_mb,
            data_dir: PathBuf::from(data_dir),
            forms_dir: PathBuf::from(&file.paths.forms_dir),
            time_zone: file.time.time_zone,
            offset,
            working_hours,
            dossier_code,
            national_portal_agency,
            log_filter: file.log.filter,
            log_format: file.log.format,
        })
    }
}

/// A database URL with any password replaced, for logs and messages.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((cred, host)) = rest.split_once('@') {
            let user = cred.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}:***@{host}");
        }
    }
    url.to_string()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    year: i32,
    #[serde(default, rename = "holiday")]
    holidays: Vec<DayEntry>,
    #[serde(default, rename = "working_day")]
    working_days: Vec<DayEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DayEntry {
    date: NaiveDate,
    name: String,
}

/// Reads one calendar file (`<dir>/<year>.toml`).
pub fn load_calendar_file(path: &Path) -> Result<CalendarYear, ConfigError> {
    let (file, text): (CalendarFile, String) = parse_file(path)?;
    let stem_year = path
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse::<i32>().ok());
    if stem_year != Some(file.year) {
        return Err(ConfigError {
            file: path.to_path_buf(),
            line: locate(&text, "year"),
            key: "year".into(),
            message: format!(
                "năm {} không khớp tên tệp (tệp lịch phải tên <năm>.toml, ví dụ {}.toml)",
                file.year, file.year
            ),
        });
    }
    let named = |v: &[DayEntry]| -> Vec<NamedDay> {
        v.iter()
            .map(|d| NamedDay {
                date: d.date,
                name: text::clean(&d.name),
            })
            .collect()
    };
    CalendarYear::from_lists(
        file.year,
        &named(&file.holidays),
        &named(&file.working_days),
    )
    .map_err(|(list, i, message)| {
        let key = if list == "year" {
            "year".to_string()
        } else {
            format!("{list}[{i}].date")
        };
        ConfigError {
            file: path.to_path_buf(),
            line: locate(&text, &key),
            key,
            message,
        }
    })
}

/// Files `*.toml` of a directory, sorted; a missing directory has none.
fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ConfigError {
                file: dir.to_path_buf(),
                line: None,
                key: "-".into(),
                message: format!("không đọc được thư mục: {e}"),
            })
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads every `<dir>/calendar/<year>.toml`.
pub fn load_calendar(dir: &Path, hours: WorkingHours) -> Result<WorkingCalendar, ConfigError> {
    let mut years = Vec::new();
    for path in toml_files(&dir.join("calendar"))? {
        years.push(load_calendar_file(&path)?);
    }
    Ok(WorkingCalendar::new(hours, years))
}

/// Reads `<dir>/agencies.toml`.
pub fn load_agencies(dir: &Path) -> Result<AgencyTree, ConfigError> {
    let path = dir.join("agencies.toml");
    let (file, text): (AgenciesFile, String) = parse_file(&path)?;
    AgencyTree::build(file).map_err(|p| problem_at(&path, &text, p))
}

/// Reads every `<dir>/catalogue/*.toml` and checks each procedure against the agencies.
pub fn load_catalogue(dir: &Path, agencies: &AgencyTree) -> Result<Catalogue, ConfigError> {
    let mut procedures = BTreeMap::new();
    let mut origin: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in toml_files(&dir.join("catalogue"))? {
        let (file, text): (CatalogueFile, String) = parse_file(&path)?;
        for (i, mut p) in file.procedures.into_iter().enumerate() {
            let at = format!("procedure[{i}]");
            p.validate(&at, agencies).map_err(|problem| {
                let mut e = problem_at(&path, &text, problem);
                e.message = format!("thủ tục {}: {}", p.code, e.message);
                e
            })?;
            if let Some(first) = origin.get(&p.code) {
                return Err(ConfigError {
                    file: path.clone(),
                    line: locate(&text, &format!("{at}.code")),
                    key: format!("{at}.code"),
                    message: format!(
                        "mã thủ tục {} đã khai báo trong {}",
                        p.code,
                        first.display()
                    ),
                });
            }
            p.name = text::clean(&p.name);
            p.field = text::clean(&p.field);
            origin.insert(p.code.clone(), path.clone());
            procedures.insert(p.code.clone(), p);
        }
    }
    Ok(Catalogue { procedures })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(rename = "rule_set")]
    rule_sets: Vec<RuleSet>,
}

/// Reads `<dir>/rules.toml`: the rule sets of the one-stop mechanism by date.
pub fn load_rules(dir: &Path) -> Result<Vec<RuleSet>, ConfigError> {
    let path = dir.join("rules.toml");
    let (file, text): (RulesFile, String) = parse_file(&path)?;
    let err = |key: String, message: String| ConfigError {
        file: path.clone(),
        line: locate(&text, &key),
        key,
        message,
    };
    if file.rule_sets.iter().filter(|r| r.from.is_none()).count() != 1 {
        return Err(err(
            "rule_set".into(),
            "cần đúng một bộ quy định không có from (áp dụng cho hồ sơ cũ nhất)".into(),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, r) in file.rule_sets.iter().enumerate() {
        if !seen.insert(r.id.clone()) {
            return Err(err(
                format!("rule_set[{i}].id"),
                format!("mã \"{}\" bị trùng", r.id),
            ));
        }
        if file.rule_sets.iter().filter(|o| o.from == r.from).count() > 1 {
            return Err(err(
                format!("rule_set[{i}].from"),
                "hai bộ quy định cùng ngày bắt đầu".into(),
            ));
        }
        if let Some(w) = &r.supplement_request_within {
            if let Err(e) = w.to_time() {
                return Err(err(
                    format!("rule_set[{i}].supplement_request_within"),
                    e.to_string(),
                ));
            }
        }
        for (key, limit) in [
            ("online_acknowledge_within", &r.online_acknowledge_within),
            (
                "transfer_between_levels_within",
                &r.transfer_between_levels_within,
            ),
        ] {
            if let Some(Err(e)) = limit.map(|w| w.to_time()) {
                return Err(err(format!("rule_set[{i}].{key}"), e.to_string()));
            }
        }
        if r.transfer_grace_minutes > 480 {
            return Err(err(
                format!("rule_set[{i}].transfer_grace_minutes"),
                "phải từ 0 đến 480 phút".into(),
            ));
        }
        if r.supplement_wait_days.is_some_and(|d| d == 0 || d > 3650) {
            return Err(err(
                format!("rule_set[{i}].supplement_wait_days"),
                "phải từ 1 đến 3650 ngày".into(),
            ));
        }
        if r.delay_days_before_due > 365 {
            return Err(err(
                format!("rule_set[{i}].delay_days_before_due"),
                "phải từ 0 đến 365 ngày".into(),
            ));
        }
    }
    Ok(file.rule_sets)
}

/// Reads `<dir>/petitions.toml`: the deadline of petitions (*phản ánh, kiến nghị*) with
/// its legal source, the code prefix and the public form's limits.
pub fn load_petitions(dir: &Path) -> Result<crate::core::petition::PetitionRules, ConfigError> {
    let path = dir.join("petitions.toml");
    let (rules, text): (crate::core::petition::PetitionRules, String) = parse_file(&path)?;
    let err = |key: &str, message: String| ConfigError {
        file: path.clone(),
        line: locate(&text, key),
        key: key.to_string(),
        message,
    };
    if let Err(e) = rules.answer_within.to_time() {
        return Err(err("answer_within", e.to_string()));
    }
    if rules.source.trim().is_empty() {
        return Err(err("source", "cần ghi căn cứ pháp lý của thời hạn".into()));
    }
    let prefix_ok = (1..=8).contains(&rules.code_prefix.len())
        && rules
            .code_prefix
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !prefix_ok {
        return Err(err(
            "code_prefix",
            "gồm 1–8 chữ in hoa hoặc chữ số, ví dụ PA".into(),
        ));
    }
    if !(1..=1000).contains(&rules.submissions_per_address) {
        return Err(err("submissions_per_address", "phải từ 1 đến 1000".into()));
    }
    if !(1..=1440).contains(&rules.window_minutes) {
        return Err(err("window_minutes", "phải từ 1 đến 1440 phút".into()));
    }
    if !(100..=20_000).contains(&rules.max_content_chars) {
        return Err(err(
            "max_content_chars",
            "phải từ 100 đến 20000 ký tự".into(),
        ));
    }
    Ok(rules)
}

/// Everything read from a configuration directory.
#[derive(Debug)]
pub struct Config {
    pub settings: Settings,
    pub calendar: WorkingCalendar,
    pub agencies: AgencyTree,
    pub catalogue: Catalogue,
    pub rule_sets: Vec<RuleSet>,
    pub targets: Targets,
    /// The notifications' templates (`config/templates/`).
    pub templates: crate::service::notify::Templates,
    /// config/petitions.toml.
    pub petitions: crate::core::petition::PetitionRules,
}

/// config/targets.toml: the plan's targets and the QĐ 766 points (data, not constants).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// The catalogue baseline for "simplified" procedures.
    pub baseline_date: Option<chrono::NaiveDate>,
    #[serde(default, rename = "target")]
    pub targets: Vec<Target>,
    #[serde(default, rename = "qd766")]
    pub qd766: Vec<Qd766Item>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub indicator: String,
    /// Percent at least.
    pub min: f64,
    #[serde(default)]
    pub levels: Vec<String>,
    #[serde(default)]
    pub from_year: Option<i32>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qd766Item {
    pub indicator: String,
    pub code: String,
    pub points: f64,
    /// Percent at which the full points are earned.
    pub target: f64,
    /// Where the threshold and the points come from.
    pub source: String,
    /// The threshold or the points could not be verified against the text: a sample.
    #[serde(default)]
    pub sample: bool,
}

impl Targets {
    /// The target of `indicator` for agencies of `level` in `year`: the most specific
    /// entry (matching level over any level), latest `from_year` not after `year`.
    pub fn for_indicator(
        &self,
        indicator: &str,
        level: Option<&str>,
        year: i32,
    ) -> Option<&Target> {
        self.targets
            .iter()
            .filter(|t| t.indicator == indicator)
            .filter(|t| t.from_year.is_none_or(|y| y <= year))
            .filter(|t| {
                t.levels.is_empty() || level.is_some_and(|l| t.levels.iter().any(|x| x == l))
            })
            .max_by_key(|t| (!t.levels.is_empty(), t.from_year.unwrap_or(0)))
    }
}

/// Reads config/targets.toml (optional: no file, no targets).
pub fn load_targets(dir: &Path, agencies: &AgencyTree) -> Result<Targets, ConfigError> {
    let path = dir.join("targets.toml");
    if !path.exists() {
        return Ok(Targets::default());
    }
    let (file, text): (Targets, String) = parse_file(&path)?;
    let known: Vec<&str> = crate::core::indicators::DEFINITIONS
        .iter()
        .map(|d| d.name)
        .collect();
    let err = |key: String, message: String| ConfigError {
        file: path.clone(),
        line: locate(&text, &key),
        key,
        message,
    };
    for (i, t) in file.targets.iter().enumerate() {
        if !known.contains(&t.indicator.as_str()) {
            return Err(err(
                format!("target[{i}].indicator"),
                format!(
                    "chỉ số \"{}\" không tồn tại (các chỉ số: {})",
                    t.indicator,
                    known.join(", ")
                ),
            ));
        }
        if !(0.0..=100.0).contains(&t.min) {
            return Err(err(format!("target[{i}].min"), "phải từ 0 đến 100".into()));
        }
        for (j, l) in t.levels.iter().enumerate() {
            if !agencies.levels.iter().any(|x| x.id == *l) {
                return Err(err(
                    format!("target[{i}].levels[{j}]"),
                    format!("cấp \"{l}\" không có trong agencies.toml"),
                ));
            }
        }
    }
    for (i, q) in file.qd766.iter().enumerate() {
        if !known.contains(&q.indicator.as_str()) {
            return Err(err(
                format!("qd766[{i}].indicator"),
                format!("chỉ số \"{}\" không tồn tại", q.indicator),
            ));
        }
        if q.points <= 0.0 || !(0.0..=100.0).contains(&q.target) || q.target == 0.0 {
            return Err(err(
                format!("qd766[{i}]"),
                "points > 0 và 0 < target ≤ 100".into(),
            ));
        }
    }
    Ok(file)
}

impl Config {
    /// Reads and checks the whole directory; the first problem stops the load.
    pub fn load(dir: &Path, overrides: &Overrides) -> Result<Self, ConfigError> {
        let settings = Settings::load(dir, overrides)?;
        let calendar = load_calendar(dir, settings.working_hours.clone())?;
        let agencies = load_agencies(dir)?;
        let catalogue = load_catalogue(dir, &agencies)?;
        let rule_sets = load_rules(dir)?;
        let targets = load_targets(dir, &agencies)?;
        let templates = crate::service::notify::Templates::load(&dir.join("templates"))?;
        let petitions = load_petitions(dir)?;
        Ok(Self {
            settings,
            calendar,
            agencies,
            catalogue,
            rule_sets,
            targets,
            templates,
            petitions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_secrets_are_named_and_random_ones_pass() {
        let weak = [
            ("short-secret-123", "ít nhất 32 ký tự"),
            (
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "ký tự khác nhau",
            ),
            ("passwordpasswordpasswordpassword", "ký tự khác nhau"),
            // 16 distinct characters, repeated.
            (
                "0123456789abcdef0123456789abcdef0123456789abcdef",
                "lặp lại một mẫu 16",
            ),
            (
                "abcdefghijklmnopqrstuvwxyz0123456789",
                "dãy ký tự liên tiếp",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ-ok-but-run",
                "dãy ký tự liên tiếp",
            ),
        ];
        for (secret, why) in weak {
            let problem = secret_weakness(secret).unwrap_or_else(|| panic!("{secret} passed"));
            assert!(problem.contains(why), "{secret}: {problem}");
        }
        for good in [
            "concurrent-intake-test-secret-0123456789abcdef",
            "Tr@m-Hai-Muoi-Bon-Gio/Mot-Cua#2026!Ha-Noi",
            "kX9#mQ2$vL7!pR4&nT8*wZ3^bY6(cH1)",
        ] {
            assert_eq!(secret_weakness(good), None, "{good}");
        }
        // 64 random hex digits (as generated, or `openssl rand -hex 32`) always pass:
        // 10 000 of them from a fixed xorshift sequence.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..10_000 {
            let secret: String = (0..64)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from_digit((x >> 60) as u32, 16).unwrap()
                })
                .collect();
            assert_eq!(secret_weakness(&secret), None, "{secret}");
        }
    }

    #[test]
    fn locate_finds_nested_keys() {
        let text = "year = 2026\n\n[[holiday]]\ndate = \"2026-01-01\"\nname = \"a\"\n\n[[holiday]]\ndate = \"2026-13-01\"\n";
        assert_eq!(locate(text, "year"), Some(1));
        assert_eq!(locate(text, "holiday[1].date"), Some(8));
        assert_eq!(locate(text, "holiday[0].name"), Some(5));
    }

    #[test]
    fn time_zones() {
        assert_eq!(
            parse_time_zone("Asia/Ho_Chi_Minh")
                .unwrap()
                .local_minus_utc(),
            25200
        );
        assert_eq!(parse_time_zone("+07:00").unwrap().local_minus_utc(), 25200);
        assert!(parse_time_zone("Europe/Paris").is_none());
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://motcua:secret@127.0.0.1/motcua"),
            "postgres://motcua:***@127.0.0.1/motcua"
        );
    }
}
