//! The application: configuration, calendar, catalogue and store, assembled at start.
//! The handle holds resources (settings, calendar, catalogue, store, keys, form templates,
//! blob store); the use cases are in [`crate::service`], as methods on it.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Datelike, Utc};

use crate::config::{redact_url, Config, Settings};
use crate::core::calendar::WorkingCalendar;
use crate::core::catalogue::{AgencyTree, Catalogue};
use crate::core::deadline::Deadlines;
use crate::core::dossier::RuleSet;
use crate::store::{Store, StoreOptions};

pub struct App {
    pub settings: Settings,
    pub calendar: WorkingCalendar,
    pub agencies: AgencyTree,
    pub catalogue: Catalogue,
    pub rule_sets: Vec<RuleSet>,
    pub store: Store,
    pub keys: Keys,
    pub forms: crate::forms::Forms,
    /// Where the HTTP layer reads "now" (the system clock outside tests).
    pub clock: crate::clock::Clock,
    /// Stored content: scans and electronic results (`<data_dir>/files`).
    pub files: std::sync::Arc<dyn crate::files::BlobStore>,
    /// The plan's targets and the QĐ 766 points (config/targets.toml).
    pub targets: crate::config::Targets,
    /// Accounts as last read, that tokens are checked against (at most
    /// `auth.account_cache_s` old).
    pub accounts: AccountCache,
    /// The work queue's tab counts as last counted (`web.queue_counts_cache_s`).
    pub queue_counts: crate::service::queue::CountCache,
    /// Indicator reports as last counted (`web.report_cache_s`).
    pub report_memo: crate::service::reports::ReportMemo,
    /// The notifications' templates (`config/templates/`).
    pub templates: crate::service::notify::Templates,
    /// The day whose staff digests this process has prepared.
    pub digest_memo: crate::service::digest::DigestMemo,
    /// The public views of dossiers lately looked up (see `service::lookup`).
    pub lookups: crate::service::lookup::LookupCache,
    /// Petitions' deadline and limits (config/petitions.toml).
    pub petitions: crate::core::petition::PetitionRules,
    /// What `/metrics` serves (issue #19).
    pub metrics: crate::metrics::Metrics,
    /// Intakes waiting to share a transaction (group commit, `service::group`).
    pub(crate) intake_group: crate::service::group::Group<
        crate::service::intake::PendingIntake,
        crate::error::AppResult<crate::service::intake::Receipt>,
    >,
}

/// Accounts as last read from the store, by username, with the moment they were read:
/// every request's token is checked against it, so that a disabled account, a changed
/// password or a rotated portal secret ends the old tokens within `auth.account_cache_s`
/// on every process (at once on the process that made the change).
#[derive(Debug, Default)]
pub struct AccountCache {
    pub(crate) entries: std::sync::Mutex<std::collections::HashMap<String, CachedAccount>>,
}

/// An account as read at a moment (`None`: it does not exist).
pub(crate) type CachedAccount = (DateTime<Utc>, Option<crate::store::users::AccountState>);

/// Keys derived from the server secret, one per purpose.
pub struct Keys {
    /// Signs access tokens (HS256).
    pub token: Vec<u8>,
    /// Keys the stored hashes of lookup pins.
    pub pin: Vec<u8>,
    /// Keys the web forms' CSRF tokens.
    pub csrf: Vec<u8>,
    /// Keys the audit trail's checkpoints (docs/audit.md).
    pub audit: Vec<u8>,
}

impl Keys {
    pub fn derive(secret: &[u8]) -> Self {
        Self {
            token: derive(secret, "motcua token v1"),
            pin: derive(secret, "motcua pin v1"),
            csrf: derive(secret, "motcua csrf v1"),
            audit: derive(secret, "motcua audit checkpoint v1"),
        }
    }
}

fn derive(secret: &[u8], purpose: &str) -> Vec<u8> {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// What every process on one database must agree on: a short fingerprint of the secret
/// (instance fact `secret_fingerprint`).
pub fn secret_fingerprint(secret: &[u8]) -> String {
    hex::encode(&derive(secret, "motcua fingerprint v1")[..8])
}

/// The server secret: configured, or generated once into `<data_dir>/secret.key` (0600).
pub fn server_secret(settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = &settings.secret {
        return Ok(s.as_bytes().to_vec());
    }
    let path = settings.data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => anyhow::bail!(
            "{} is too short: delete it to generate a new one",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating {}", settings.data_dir.display()))?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let secret = hex::encode(bytes);
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(mut f) => {
            f.write_all(secret.as_bytes())?;
            f.sync_all()?;
            tracing::info!(path = %path.display(), "generated the server secret");
            Ok(secret.into_bytes())
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::thread::sleep(std::time::Duration::from_millis(50));
            Ok(std::fs::read_to_string(&path)?.trim().as_bytes().to_vec())
        }
        Err(e) => Err(e).with_context(|| format!("writing {}", path.display())),
    }
}

impl App {
    /// Opens the store, applies migrations and loads agencies and catalogue into it
    /// (idempotent; safe with several processes starting at once).
    pub fn start(config: Config, now: DateTime<Utc>) -> anyhow::Result<Arc<App>> {
        Self::start_with_clock(config, crate::clock::Clock::System, now)
    }

    /// [`App::start`] with the clock the application reads "now" from.
    pub fn start_with_clock(
        config: Config,
        clock: crate::clock::Clock,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Arc<App>> {
        let Config {
            settings,
            calendar,
            agencies,
            catalogue,
            rule_sets,
            targets,
            templates,
            petitions,
        } = config;
        let forms = crate::forms::Forms::load(&settings.forms_dir).with_context(|| {
            format!(
                "loading form templates from {}",
                settings.forms_dir.display()
            )
        })?;
        let files_dir = settings.data_dir.join("files");
        let files: std::sync::Arc<dyn crate::files::BlobStore> = std::sync::Arc::new(
            crate::files::FsBlobStore::new(files_dir.clone())
                .with_context(|| format!("preparing the file store {}", files_dir.display()))?,
        );
        let secret = server_secret(&settings)?;
        let keys = Keys::derive(&secret);
        let store = Store::open(
            &settings.database_url,
            &StoreOptions {
                pool_size: settings.pool_size,
                busy_timeout_ms: settings.busy_timeout_ms,
                sqlite_cache_mb: settings.sqlite_cache_mb,
                sqlite_mmap_mb: settings.sqlite_mmap_mb,
                timeouts: settings.db_timeouts,
            },
        )
        .with_context(|| format!("opening database {}", redact_url(&settings.database_url)))?;
        let applied = store.migrate().context("applying migrations")?;
        let fingerprint = secret_fingerprint(&secret);
        if !store.agree_on_fact("secret_fingerprint", &fingerprint)? {
            anyhow::bail!(
                "this process's server secret differs from the one this database was set up with: \
                 give every process the same MOTCUA_SECRET (or the same {}/secret.key)",
                settings.data_dir.display()
            );
        }
        for v in &applied {
            tracing::info!(version = %v, "migration applied");
        }
        if let Some(n) = crate::store::reports::fill_due_flows(&store, settings.offset)
            .context("filling the rollup's overdue flows")?
        {
            tracing::info!(
                dossiers = n,
                "rollup: overdue flows filled from the dossiers"
            );
        }
        let a = store
            .sync_agencies(&agencies, now)
            .context("loading config/agencies.toml into the database")?;
        let c = store
            .sync_catalogue(&catalogue, now, settings.offset)
            .context("loading config/catalogue into the database")?;
        tracing::info!(
            backend = store.backend().as_str(),
            agencies = agencies.agencies.len(),
            agencies_inserted = a.inserted,
            agencies_updated = a.updated,
            procedures = catalogue.len(),
            procedures_inserted = c.inserted,
            procedure_versions_added = c.updated,
            procedures_retired = c.deactivated,
            "configuration loaded"
        );
        let intake_group = crate::service::group::Group::new(settings.intake_batch_max as usize);
        let app = App {
            intake_group,
            settings,
            calendar,
            agencies,
            catalogue,
            rule_sets,
            store,
            keys,
            forms,
            clock,
            files,
            targets,
            templates,
            accounts: Default::default(),
            queue_counts: Default::default(),
            report_memo: Default::default(),
            digest_memo: Default::default(),
            lookups: Default::default(),
            metrics: Default::default(),
            petitions,
        };
        for (fact, n) in app
            .fill_rollup_columns()
            .map_err(|e| anyhow::anyhow!("filling the rollup's new columns: {e}"))?
        {
            tracing::info!(
                fact,
                dossiers = n,
                "rollup: new columns filled from the dossiers"
            );
        }
        if !app.store.has_admin()? {
            tracing::warn!(
                "chưa có tài khoản quản trị: tạo bằng lệnh `motcua user add --username admin --full-name \"…\" --role admin --agency {}` (mật khẩu đọc từ đầu vào chuẩn)",
                app.agencies.agencies[0].code
            );
        }
        app.warn_unconfigured_years(now.with_timezone(&app.settings.offset).year());
        // The other processes' changes, for the lookup cache (PostgreSQL).
        app.store.watch_changes();
        Ok(Arc::new(app))
    }

    /// The deadline engine over this calendar and time zone.
    pub fn deadlines(&self) -> Deadlines<'_> {
        Deadlines::new(&self.calendar, self.settings.offset)
    }

    /// Logs a warning for this year and the next when no calendar file covers them.
    pub fn warn_unconfigured_years(&self, year: i32) {
        for y in self.calendar.unconfigured_years(year, year + 1) {
            tracing::warn!(
                year = y,
                "năm {y} chưa có tệp lịch config/calendar/{y}.toml: ngày nghỉ được suy ra từ âm lịch, cần cập nhật theo quyết định của Thủ tướng"
            );
        }
    }
}

impl App {
    /// The due moment of `time` received at `received`, warning when the period runs
    /// through a year that has no calendar file.
    pub fn due_at(
        &self,
        received: chrono::DateTime<chrono::FixedOffset>,
        time: &crate::core::deadline::StatutoryTime,
    ) -> Result<chrono::DateTime<chrono::FixedOffset>, crate::core::deadline::DeadlineError> {
        let due = self.deadlines().due_at(received, time)?;
        let years = self
            .calendar
            .unconfigured_years(received.year(), due.year());
        if !years.is_empty() {
            tracing::warn!(
                ?years,
                "thời hạn đi qua năm chưa có tệp lịch; ngày nghỉ được suy ra từ âm lịch"
            );
        }
        Ok(due)
    }
}

impl App {
    /// The public status page of a dossier, as printed in the receipt's QR code.
    pub fn status_url(&self, code: &str) -> String {
        format!("{}/tra-cuu/{}", self.settings.public_base_url, code)
    }
}
