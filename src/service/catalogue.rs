//! Agencies (*cơ quan*) and the procedure catalogue (*danh mục thủ tục hành chính*) as the
//! database holds them, for the public catalogue endpoints.

use super::views::{self, AgencyView, ProcedureVersionView};
use crate::app::App;
use crate::error::AppResult;

impl App {
    /// All agencies, active or not, by code.
    pub fn agency_list(&self) -> AppResult<Vec<AgencyView>> {
        Ok(views::all(self.store.list_agencies()?))
    }

    /// The current version of every active procedure, by code.
    pub fn current_procedures(&self) -> AppResult<Vec<ProcedureVersionView>> {
        Ok(views::all(self.store.list_procedures()?))
    }

    /// Every version of procedure `code`, oldest first; not found when it has none.
    pub fn procedure_versions(&self, code: &str) -> AppResult<Vec<ProcedureVersionView>> {
        Ok(views::all(self.store.procedure_history(code)?))
    }
}
