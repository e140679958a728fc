//! The application: configuration, calendar, catalogue and store, assembled at start.
//! Use cases (services) hang off [`App`]; HTTP handlers and CLI commands call them.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Datelike, Utc};

use crate::config::{redact_url, Config, Settings};
use crate::core::calendar::WorkingCalendar;
use crate::core::catalogue::{AgencyTree, Catalogue};
use crate::core::deadline::Deadlines;
use crate::store::{Store, StoreOptions};

pub struct App {
    pub settings: Settings,
    pub calendar: WorkingCalendar,
    pub agencies: AgencyTree,
    pub catalogue: Catalogue,
    pub store: Store,
}

impl App {
    /// Opens the store, applies migrations and loads agencies and catalogue into it
    /// (idempotent; safe with several processes starting at once).
    pub fn start(config: Config, now: DateTime<Utc>) -> anyhow::Result<Arc<App>> {
        let Config {
            settings,
            calendar,
            agencies,
            catalogue,
        } = config;
        let store = Store::open(
            &settings.database_url,
            &StoreOptions {
                pool_size: settings.pool_size,
                busy_timeout_ms: settings.busy_timeout_ms,
                ..StoreOptions::default()
            },
        )
        .with_context(|| format!("opening database {}", redact_url(&settings.database_url)))?;
        let applied = store.migrate().context("applying migrations")?;
        for v in &applied {
            tracing::info!(version = %v, "migration applied");
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
        let app = App {
            settings,
            calendar,
            agencies,
            catalogue,
            store,
        };
        app.warn_unconfigured_years(now.with_timezone(&app.settings.offset).year());
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
