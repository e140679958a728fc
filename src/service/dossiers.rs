//! Staff reading dossiers within their scope: dossiers received by, handled by or
//! belonging to the user's agency and the agencies below it. Anything else is "not found".

use chrono::NaiveDate;

use super::views::{self, DossierDetail, DossierSheet, DossierView};
use super::{Caller, Role};
use crate::app::App;
use crate::core::dossier::Status;
use crate::error::{AppError, AppResult};
use crate::store::dossiers::{DossierFilter, DossierFull, DossierRow};

/// Filters of the staff list, as given (`GET /api/v1/dossiers`'s query parameters).
#[derive(Debug, Clone, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only dossiers in this status (`submitted`, `needs_correction`, `refused_at_intake`,
    /// `received`, `in_progress`, `supplement_requested`, `paused`, `approved`, `refused`,
    /// `returned`, `stopped`, `closed`); another value: `400 invalid_status`.
    pub status: Option<String>,
    /// Received on or after this local day (`YYYY-MM-DD`; else `400 invalid_from`).
    pub from: Option<NaiveDate>,
    /// Received on or before this local day (`YYYY-MM-DD`; else `400 invalid_to`).
    pub to: Option<NaiveDate>,
    /// Only dossiers of this procedure code.
    pub procedure: Option<String>,
    /// A code prefix (as typed or upper-cased), an exact ID number, or the applicant's name
    /// from the start of any of its words, with or without diacritics (`hong nhung` finds
    /// Nguyễn Thị Hồng Nhung); at most 100 characters (else `422 invalid_query`).
    pub q: Option<String>,
    /// Page size, 1 to 200; default 50 (else `400 invalid_limit`).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Lines to skip, from 0 to 1,000,000 ([`MAX_OFFSET`]); default 0 (else `400 invalid_offset`).
    #[param(minimum = 0, maximum = 1_000_000)]
    pub offset: Option<i64>,
}

/// Largest page of the staff list.
pub const MAX_PAGE: i64 = 200;
/// The deepest a page may start (`offset`), in every paged list: beyond it a list is
/// narrowed by its filters instead. It keeps `offset + limit` far from overflow and bounds
/// what one request may make the store read past.
pub const MAX_OFFSET: i64 = 1_000_000;

/// Longest search text, in characters.
pub const MAX_QUERY: usize = 100;

impl App {
    /// Whether `caller` may see dossier `d` at all, given the agencies that have held it
    /// (`handled_by`, from the store).
    pub fn may_see(&self, caller: &Caller, d: &DossierRow, handled_by: &[String]) -> bool {
        if caller.role == Role::Portal {
            return d.received_by == caller.username;
        }
        in_scope(
            &self.scope_of(caller),
            [
                Some(&d.receiving_agency),
                Some(&d.current_agency),
                d.competent_agency.as_ref(),
            ]
            .into_iter()
            .flatten()
            .chain(handled_by),
        )
    }

    /// Whether `caller` may change dossier `d` (record a payment, attach a scan): an agency
    /// in scope that received it, is competent for it or holds it now — not an agency that
    /// was only consulted and handed it back (it keeps reading it), nor one a hand-over is
    /// still waiting for.
    pub fn may_write(&self, caller: &Caller, d: &DossierRow) -> bool {
        self.may_see(caller, d, &[])
    }

    /// One dossier with its papers and events, if `caller` may see it (the rows, for the
    /// other services; handlers read [`App::dossier_detail`]).
    pub(crate) fn dossier_for(&self, caller: &Caller, code: &str) -> AppResult<DossierFull> {
        if code.len() > 64 {
            return Err(AppError::not_found());
        }
        match self.store.find_dossier(code)? {
            Some(found) if self.may_see(caller, &found.0, &[]) => Ok(found),
            Some(found) if self.may_see(caller, &found.0, &self.store.dossier_handlers(code)?) => {
                Ok(found)
            }
            _ => Err(AppError::not_found()),
        }
    }

    /// Everything the staff read of dossier `code` shows, if `caller` may see it: the
    /// dossier, its papers and events, its progress and route, the agencies that have held
    /// it, its files and documents.
    pub fn dossier_detail(&self, caller: &Caller, code: &str) -> AppResult<DossierDetail> {
        let (dossier, papers, events) = self.dossier_for(caller, code)?;
        let (progress, steps, handled_by) = self.store.dossier_processing(code)?;
        let (files, documents) = self.store.dossier_documents(code)?;
        Ok(DossierDetail {
            dossier: dossier.into(),
            papers: views::all(papers),
            events: views::all(events),
            progress: progress.into(),
            steps: views::all(steps),
            handled_by,
            files: views::all(files),
            documents: views::all(documents),
        })
    }

    /// Dossiers `caller` may see, filtered, newest first.
    pub fn list_dossiers_for(&self, caller: &Caller, q: &ListQuery) -> AppResult<Vec<DossierView>> {
        if let Some(s) = &q.status {
            if Status::parse(s).is_none() {
                return Err(AppError::bad_request(
                    "invalid_status",
                    format!("Trạng thái \"{s}\" không tồn tại"),
                ));
            }
        }
        let limit = q.limit.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(AppError::bad_request(
                "invalid_limit",
                format!("limit phải từ 1 đến {MAX_PAGE}"),
            ));
        }
        let offset = q.offset.unwrap_or(0);
        if !(0..=MAX_OFFSET).contains(&offset) {
            return Err(AppError::bad_request(
                "invalid_offset",
                format!("offset phải từ 0 đến {MAX_OFFSET}"),
            ));
        }
        let q_text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if q_text.is_some_and(|s| s.chars().count() > MAX_QUERY) {
            return Err(AppError::invalid(
                "invalid_query",
                format!("Từ khóa tìm kiếm dài tối đa {MAX_QUERY} ký tự"),
            ));
        }
        let offset_tz = self.settings.offset;
        let start_of = |d: NaiveDate| {
            crate::store::to_db(crate::core::calendar::start_of_day_utc(d, offset_tz))
        };
        // A scope of every agency (the province's root) filters nothing: no check by row.
        let scope = self.scope_of(caller);
        let scope = (scope.len() < self.agencies.agencies.len()).then_some(scope);
        let mut filter = DossierFilter {
            scope,
            status: q.status.clone(),
            received_from: q.from.map(start_of),
            received_to: q.to.and_then(|d| d.succ_opt()).map(start_of),
            procedure: q.procedure.clone(),
            q: q_text.map(String::from),
            received_by: None,
            limit,
            offset,
        };
        if caller.role == Role::Portal {
            // A portal lists what it submitted, to whichever counter.
            filter.scope = None;
            filter.received_by = Some(caller.username.clone());
        }
        Ok(views::all(self.store.list_dossiers(&filter)?))
    }
}

/// Where a portal's status feed resumes: the last change seen (microseconds since the
/// epoch, UTC) and the dossier code, written `MICROS.CODE`.
pub fn parse_cursor(s: &str) -> Option<(chrono::NaiveDateTime, String)> {
    let (micros, code) = s.split_once('.')?;
    let t = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    (!code.is_empty() && code.len() <= 64).then(|| (t, code.to_string()))
}

pub fn cursor_of(d: &DossierView) -> String {
    format!("{}.{}", d.updated_at.timestamp_micros(), d.code)
}

impl App {
    /// The dossiers a portal submitted, by last change after `cursor`: how a portal keeps
    /// the statuses it shows citizens up to date.
    pub fn portal_changes(
        &self,
        caller: &Caller,
        cursor: Option<&str>,
        limit: i64,
    ) -> AppResult<Vec<DossierView>> {
        if caller.role != Role::Portal {
            return Err(AppError::forbidden(
                "Chỉ Cổng dịch vụ công dùng danh sách thay đổi trạng thái",
            ));
        }
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(AppError::bad_request(
                "invalid_limit",
                format!("limit phải từ 1 đến {MAX_PAGE}"),
            ));
        }
        let after =
            match cursor.map(str::trim).filter(|c| !c.is_empty()) {
                None => None,
                Some(c) => Some(parse_cursor(c).ok_or_else(|| {
                    AppError::bad_request("invalid_cursor", "cursor không hợp lệ")
                })?),
            };
        Ok(views::all(self.store.changed_since(
            &caller.username,
            after,
            limit,
        )?))
    }
}

impl App {
    /// The dossier page's data: the dossier, its papers, events, route, files, the forms
    /// it has and the counter's actions open to `caller` now.
    pub fn dossier_sheet(
        &self,
        caller: &Caller,
        code: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<DossierSheet> {
        let (dossier, papers, events) = self.dossier_for(caller, code)?;
        let (progress, steps, handled_by) = self.store.dossier_processing(code)?;
        let (files, _) = self.store.dossier_documents(code)?;
        let actions = self.allowed_actions_of(
            caller,
            &super::actions::DossierState {
                row: &dossier,
                progress: &progress,
                steps: &steps,
                handled: &handled_by,
            },
            now,
        );
        let notices = super::notices::Notice::of_dossier(dossier.received_at.is_some(), &events);
        Ok(DossierSheet {
            dossier: dossier.into(),
            papers: views::all(papers),
            events: views::all(events),
            steps: views::all(steps),
            files: views::all(files),
            actions,
            notices,
            handled_by,
        })
    }
}

/// Whether one of `agencies` (those that received, hold, are competent for or have
/// handled a dossier) is in `scope` (a staff member's agencies, [`App::scope_of`]).
pub(crate) fn in_scope<'a>(
    scope: &[String],
    mut agencies: impl Iterator<Item = &'a String>,
) -> bool {
    agencies.any(|a| scope.contains(a))
}
