//! The statutory forms' templates and fonts, loaded once at start: a resource the
//! application holds ([`crate::app::App::forms`]); the use cases fill them
//! (`crate::service::forms`).

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;

use super::{render, render_html, Fonts, FormData, FormTemplate};
use crate::error::{AppError, AppResult};

/// The loaded templates, by form id (`01`, `02`, …), and the fonts.
pub struct Forms {
    pub templates: HashMap<String, FormTemplate>,
    pub fonts: Fonts,
}

impl Forms {
    /// Reads every `<dir>/*.toml` template and the fonts in `<dir>/fonts`.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let fonts = Fonts::load(&dir.join("fonts"))
            .with_context(|| format!("loading fonts from {}", dir.join("fonts").display()))?;
        let mut templates = HashMap::new();
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path)?;
            let t = FormTemplate::parse(&crate::core::text::nfc(&text))
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            templates.insert(t.id().to_string(), t);
        }
        for id in ["01", "02", "03", "04", "05", "06"] {
            anyhow::ensure!(
                templates.contains_key(id),
                "{}: no template with id \"{id}\"",
                dir.display()
            );
        }
        Ok(Self { templates, fonts })
    }

    pub(crate) fn render(&self, id: &str, data: &FormData) -> AppResult<Vec<u8>> {
        let t = self.templates.get(id).ok_or_else(|| {
            tracing::error!(form = id, "form template missing");
            AppError::internal()
        })?;
        render(t, data, &self.fonts).map_err(|e| {
            tracing::error!(form = id, error = %e, "form rendering failed");
            AppError::internal()
        })
    }

    /// Form `id` filled with `data` as an HTML sheet, to read in a page before printing.
    pub(crate) fn render_html(&self, id: &str, data: &FormData) -> AppResult<String> {
        let t = self.templates.get(id).ok_or_else(|| {
            tracing::error!(form = id, "form template missing");
            AppError::internal()
        })?;
        Ok(render_html(t, data))
    }
}
